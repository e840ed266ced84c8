/* Helpers shared by the unit tests. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

/* Walk a dotted path such as "spec.template.spec.containers.0.name";
 * numeric parts index arrays. Returns NULL when a step is missing. */
static inline const cJSON *at(const cJSON *j, const char *path)
{
	char part[128];

	while (j && *path) {
		size_t n = strcspn(path, ".");
		char *end;
		long idx;

		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		idx = strtol(part, &end, 10);
		if (*end == '\0' && cJSON_IsArray(j))
			j = cJSON_GetArrayItem(j, (int)idx);
		else
			j = cJSON_GetObjectItemCaseSensitive(j, part);
		path += n;
		if (*path == '.')
			path++;
	}
	return j;
}

#define assert_json_string(j, path, want)                                                         \
	do {                                                                                      \
		const cJSON *v_ = at((j), (path));                                                \
		if (!cJSON_IsString(v_))                                                          \
			fail_msg("%s: not a string", (path));                                     \
		if (strcmp(v_->valuestring, (want)))                                              \
			fail_msg("%s: got \"%s\", want \"%s\"", (path), v_->valuestring, (want)); \
	} while (0)

#define assert_json_number(j, path, want)                                                         \
	do {                                                                                      \
		const cJSON *v_ = at((j), (path));                                                \
		if (!cJSON_IsNumber(v_))                                                          \
			fail_msg("%s: not a number", (path));                                     \
		if (v_->valuedouble != (double)(want))                                            \
			fail_msg("%s: got %g, want %g", (path), v_->valuedouble, (double)(want)); \
	} while (0)

#define assert_json_bool(j, path, want)                                                    \
	do {                                                                               \
		const cJSON *v_ = at((j), (path));                                         \
		if (!cJSON_IsBool(v_))                                                     \
			fail_msg("%s: not a boolean", (path));                             \
		if (!!cJSON_IsTrue(v_) != !!(want))                                        \
			fail_msg("%s: got %d, want %d", (path), cJSON_IsTrue(v_), (want)); \
	} while (0)

/* A call that succeeded leaves no error behind. */
#define assert_error_clear(e)                          \
	do {                                           \
		assert_int_equal((e)->code, 0);        \
		assert_int_equal((e)->http_status, 0); \
		assert_string_equal((e)->reason, "");  \
		assert_string_equal((e)->message, ""); \
	} while (0)

/* A pod recorded from a cluster (tests/fixtures/pod/FILE), as one watch
 * event line about pod `name`, bound to a node and, when `owner_uid` is
 * given, controlled by that Job. The caller frees it with cJSON_free(). */
static inline char *recorded_pod_event(const char *file, const char *type, const char *name,
                                       const char *owner_uid)
{
	char path[512], *text, *line;
	FILE *fp;
	long n;
	cJSON *pod, *ev, *meta, *refs, *ref;

	snprintf(path, sizeof(path), "%s/pod/%s", GKX_FIXTURES, file);
	fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, fp) != (size_t)n)
		fail_msg("cannot read %s", path);
	fclose(fp);
	pod = cJSON_ParseWithLength(text, (size_t)n);
	free(text);
	if (!pod)
		fail_msg("%s is not JSON", path);
	meta = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
	cJSON_ReplaceItemInObjectCaseSensitive(meta, "name", cJSON_CreateString(name));
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "ownerReferences");
	if (owner_uid) {
		refs = cJSON_AddArrayToObject(meta, "ownerReferences");
		ref = cJSON_CreateObject();
		cJSON_AddItemToArray(refs, ref);
		cJSON_AddStringToObject(ref, "kind", "Job");
		cJSON_AddStringToObject(ref, "uid", owner_uid);
		cJSON_AddTrueToObject(ref, "controller");
	}
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddItemToObject(ev, "object", pod);
	text = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	line = cJSON_malloc(strlen(text) + 2);
	memcpy(line, text, strlen(text));
	memcpy(line + strlen(text), "\n", 2);
	cJSON_free(text);
	return line;
}

#endif
