/* YAML in and out: a rendered document reads back to the same tree, and
 * strings that look like other types keep their quotes. */
#include "testutil.h"

#include "internal.h"

static void test_round_trip(void **state)
{
	static const char json[] =
	        "{\"a\":\"true\",\"b\":true,\"c\":\"0444\",\"d\":292,\"e\":\"\",\"f\":null,"
	        "\"g\":\"line1\\nline2\\n\",\"h\":[\"x\",{\"k\":\"v: "
	        "w\"}],\"i\":\"1e3\",\"j\":\"~\","
	        "\"k\":\"caf\\u00e9\",\"l\":\"- dash\",\"m\":\"#hash\",\"n\":\"yes\",\"o\":-1.5}";
	cJSON *in = cJSON_Parse(json), *out = NULL;
	gkx_buf y = GKX_BUF_INIT;
	gkx_error err;
	const cJSON *c;

	(void)state;
	assert_non_null(in);
	assert_int_equal(gkx__yaml_emit(&y, in, &err), 0);
	assert_int_equal(gkx__yaml_parse(&out, y.ptr, y.len, "rendered", &err), 0);
	/* The parser keeps scalars as text; compare each as text. */
	for (c = in->child; c; c = c->next) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(out, c->string);
		if (cJSON_IsString(c)) {
			if (!cJSON_IsString(o) || strcmp(o->valuestring, c->valuestring))
				fail_msg("key %s: \"%s\" came back as %s in:\n%s", c->string,
				         c->valuestring,
				         cJSON_IsString(o) ? o->valuestring : "(not a string)",
				         y.ptr);
		}
	}
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(out, "f")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "b")->valuestring, "true");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "d")->valuestring, "292");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "o")->valuestring, "-1.5");
	/* Quoted where a plain scalar would change type. */
	assert_non_null(strstr(y.ptr, "a: 'true'"));
	assert_non_null(strstr(y.ptr, "c: '0444'"));
	assert_non_null(strstr(y.ptr, "b: true"));
	assert_non_null(strstr(y.ptr, "g: |"));
	cJSON_Delete(in);
	cJSON_Delete(out);
	gkx__buf_free(&y);
}

static void test_parse_limits(void **state)
{
	cJSON *out = NULL;
	gkx_error err;
	gkx_buf doc = GKX_BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(gkx__yaml_parse(&out, "a: 1\n---\nb: 2\n", 14, "two.yaml", &err),
	                 GKX_ECONFIG);
	if (!strstr(err.message, "two.yaml:2:1: more than one YAML document"))
		fail_msg("message: %s", err.message);
	assert_int_equal(gkx__yaml_parse(&out, "a: 1\na: 2\n", 10, "dup.yaml", &err), GKX_ECONFIG);
	assert_non_null(strstr(err.message, "dup.yaml:2:1: duplicate key \"a\""));
	assert_int_equal(gkx__yaml_parse(&out, "? [a]\n: 1\n", 10, "k.yaml", &err), GKX_ECONFIG);
	assert_int_equal(gkx__yaml_parse(&out, "", 0, "empty", &err), 0);
	assert_true(cJSON_IsNull(out));
	cJSON_Delete(out);
	/* A wide, flat document past the node limit */
	gkx__buf_puts(&doc, "[");
	for (i = 0; i < GKX_YAML_MAX_NODES + 10; i++)
		gkx__buf_puts(&doc, "1,");
	gkx__buf_puts(&doc, "1]");
	assert_int_equal(gkx__yaml_parse(&out, doc.ptr, doc.len, "wide", &err), GKX_ECONFIG);
	assert_non_null(strstr(err.message, "too many nodes"));
	gkx__buf_free(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
