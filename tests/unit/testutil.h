/* Helpers shared by the unit tests. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <setjmp.h>
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

#endif
