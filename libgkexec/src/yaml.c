/* YAML in (kubeconfig files) and YAML out (--dry-run -o yaml), with cJSON
 * as the tree in between. Input is untrusted: depth, node count and aliases
 * are bounded or refused. Scalars are kept as strings (YAML 1.1 typing is
 * left to the reader of each field), so a token made of digits stays text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "internal.h"

typedef struct {
	yaml_parser_t parser;
	const char *what;
	gkx_error *err;
	size_t nodes;
} yparse;

static int yfail(yparse *p, const yaml_mark_t *mark, const char *msg)
{
	return gkx__error_set(p->err, GKX_ECONFIG, "%s:%lu:%lu: %s", p->what,
	                      (unsigned long)mark->line + 1, (unsigned long)mark->column + 1, msg);
}

static int next_event(yparse *p, yaml_event_t *ev)
{
	if (yaml_parser_parse(&p->parser, ev))
		return 0;
	/* libyaml returns 0 on failure; its problem text and mark say where. */
	return gkx__error_set(p->err, GKX_ECONFIG, "%s:%lu:%lu: invalid YAML: %s", p->what,
	                      (unsigned long)p->parser.problem_mark.line + 1,
	                      (unsigned long)p->parser.problem_mark.column + 1,
	                      p->parser.problem ? p->parser.problem : "syntax error");
}

static int is_null_plain(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 &&
	        (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static int parse_node(yparse *p, yaml_event_t *ev, int depth, cJSON **out);

static int parse_mapping(yparse *p, int depth, cJSON *obj)
{
	for (;;) {
		yaml_event_t kev;
		cJSON *val = NULL;
		char *key;
		int rc;

		if ((rc = next_event(p, &kev)) < 0)
			return rc;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			rc = yfail(p, &kev.start_mark, "mapping keys must be plain strings");
			yaml_event_delete(&kev);
			return rc;
		}
		if (cJSON_GetObjectItemCaseSensitive(obj, (const char *)kev.data.scalar.value)) {
			char msg[300];
			snprintf(msg, sizeof(msg), "duplicate key \"%.200s\"",
			         kev.data.scalar.value);
			rc = yfail(p, &kev.start_mark, msg);
			yaml_event_delete(&kev);
			return rc;
		}
		key = gkx__strndup((const char *)kev.data.scalar.value, kev.data.scalar.length);
		yaml_event_delete(&kev);
		if (!key)
			return gkx__error_oom(p->err);
		{
			yaml_event_t vev;
			if ((rc = next_event(p, &vev)) < 0) {
				free(key);
				return rc;
			}
			rc = parse_node(p, &vev, depth + 1, &val);
			yaml_event_delete(&vev);
		}
		if (rc < 0) {
			free(key);
			return rc;
		}
		if (!cJSON_AddItemToObject(obj, key, val)) {
			free(key);
			cJSON_Delete(val);
			return gkx__error_oom(p->err);
		}
		free(key);
	}
}

static int parse_sequence(yparse *p, int depth, cJSON *arr)
{
	for (;;) {
		yaml_event_t ev;
		cJSON *val = NULL;
		int rc;

		if ((rc = next_event(p, &ev)) < 0)
			return rc;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		rc = parse_node(p, &ev, depth + 1, &val);
		yaml_event_delete(&ev);
		if (rc < 0)
			return rc;
		if (!cJSON_AddItemToArray(arr, val)) {
			cJSON_Delete(val);
			return gkx__error_oom(p->err);
		}
	}
}

static int parse_node(yparse *p, yaml_event_t *ev, int depth, cJSON **out)
{
	cJSON *node = NULL;
	int rc = 0;

	if (depth > GKX_YAML_MAX_DEPTH)
		return yfail(p, &ev->start_mark, "nesting too deep");
	if (++p->nodes > GKX_YAML_MAX_NODES)
		return yfail(p, &ev->start_mark, "document has too many nodes");
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return yfail(p, &ev->start_mark, "YAML aliases are not supported in a kubeconfig");
	case YAML_SCALAR_EVENT: {
		const char *s = (const char *)ev->data.scalar.value;
		size_t n = ev->data.scalar.length;
		if (strlen(s) != n)
			return yfail(p, &ev->start_mark, "NUL byte in a value");
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && is_null_plain(s, n))
			node = cJSON_CreateNull();
		else
			node = cJSON_CreateString(s);
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
		node = cJSON_CreateArray();
		if (node)
			rc = parse_sequence(p, depth, node);
		break;
	case YAML_MAPPING_START_EVENT:
		node = cJSON_CreateObject();
		if (node)
			rc = parse_mapping(p, depth, node);
		break;
	default: return yfail(p, &ev->start_mark, "unexpected YAML event");
	}
	if (!node)
		return gkx__error_oom(p->err);
	if (rc < 0) {
		cJSON_Delete(node);
		return rc;
	}
	*out = node;
	return 0;
}

int gkx__yaml_parse(cJSON **out, const char *data, size_t len, const char *what, gkx_error *err)
{
	yparse p;
	yaml_event_t ev;
	cJSON *root = NULL;
	int rc, state = 0; /* 0: before doc, 1: got doc */

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.what = what;
	p.err = err;
	if (!yaml_parser_initialize(&p.parser))
		return gkx__error_oom(err);
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)data, len);
	for (;;) {
		if ((rc = next_event(&p, &ev)) < 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			if (state) {
				rc = yfail(&p, &ev.start_mark, "more than one YAML document");
				yaml_event_delete(&ev);
				break;
			}
			state = 1;
			yaml_event_delete(&ev);
			continue;
		}
		rc = parse_node(&p, &ev, 0, &root);
		yaml_event_delete(&ev);
		if (rc < 0)
			break;
	}
	yaml_parser_delete(&p.parser);
	if (rc < 0) {
		cJSON_Delete(root);
		return rc;
	}
	if (!root) {
		root = cJSON_CreateNull(); /* an empty file is an empty config */
		if (!root)
			return gkx__error_oom(err);
	}
	*out = root;
	return 0;
}

/* ---- emitter ---- */

static int emit_write(void *data, unsigned char *buffer, size_t size)
{
	/* libyaml's write handler returns 1 on success. */
	return gkx__buf_put((gkx_buf *)data, buffer, size) == 0;
}

/* Would a plain scalar with this text be read back as something else? */
static int needs_quotes(const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off",
		                             "null", "y",     "n",   "~",  NULL };
	const char *q;
	size_t i;
	int digits = 0, other = 0;

	if (!*s)
		return 1;
	for (i = 0; words[i]; i++) {
		const char *w = words[i];
		const char *c = s;
		while (*c && *w && (*c | 0x20) == *w) {
			c++;
			w++;
		}
		if (!*c && !*w)
			return 1;
	}
	for (q = s; *q; q++) {
		if ((*q >= '0' && *q <= '9'))
			digits++;
		else if (!strchr("+-.eExXoO_:", *q))
			other++;
	}
	return digits > 0 && other == 0;
}

static int emit_scalar(yaml_emitter_t *em, const char *text, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, -1, 1, 1, style))
		return GKX_ENOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : GKX_ERROR;
}

static int emit_node(yaml_emitter_t *em, const cJSON *j)
{
	yaml_event_t ev;
	const cJSON *c;
	char num[64];

	if (cJSON_IsObject(j)) {
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		                                         YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return GKX_ERROR;
		for (c = j->child; c; c = c->next) {
			if (emit_scalar(em, c->string,
			                needs_quotes(c->string) ? YAML_SINGLE_QUOTED_SCALAR_STYLE
			                                        : YAML_ANY_SCALAR_STYLE) < 0 ||
			    emit_node(em, c) < 0)
				return GKX_ERROR;
		}
		if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
			return GKX_ERROR;
		return 0;
	}
	if (cJSON_IsArray(j)) {
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		                                          YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return GKX_ERROR;
		for (c = j->child; c; c = c->next)
			if (emit_node(em, c) < 0)
				return GKX_ERROR;
		if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
			return GKX_ERROR;
		return 0;
	}
	if (cJSON_IsString(j)) {
		const char *s = j->valuestring;
		yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
		if (strchr(s, '\n'))
			style = YAML_LITERAL_SCALAR_STYLE;
		else if (needs_quotes(s))
			style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
		return emit_scalar(em, s, style);
	}
	if (cJSON_IsNumber(j)) {
		if (j->valuedouble == (double)(long long)j->valuedouble)
			snprintf(num, sizeof(num), "%lld", (long long)j->valuedouble);
		else
			snprintf(num, sizeof(num), "%.17g", j->valuedouble);
		return emit_scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
	}
	if (cJSON_IsBool(j))
		return emit_scalar(em, cJSON_IsTrue(j) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
	return emit_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
}

int gkx__yaml_emit(gkx_buf *out, const cJSON *json, gkx_error *err)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&em))
		return gkx__error_oom(err);
	yaml_emitter_set_output(&em, emit_write, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&em, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&em, &ev) && emit_node(&em, json) == 0 &&
	     yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
	     yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev);
	yaml_emitter_delete(&em);
	if (!ok)
		return gkx__error_set(err, GKX_ERROR, "cannot render YAML");
	return 0;
}
