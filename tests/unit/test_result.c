/* What a run's result holds: the output it keeps (the last capture_bytes,
 * output.c), every byte of it recoverable from the JSON, through a run, a
 * session (the bindings' entry point) and the plain functions. */
#include <stdio.h>

#include "testutil.h"

#include "fake_transport.h"
#include "run_internal.h"

#define JOB_CREATED "{\"kind\":\"Job\",\"metadata\":{\"name\":\"x\",\"uid\":\"uid-123\"}}"
#define CM_CREATED  "{\"kind\":\"ConfigMap\"}"
#define TS          "2026-11-30T06:29:09.123456789Z "
#define DONE_POD                                                                                   \
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-1\"},"      \
	"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"containerStatuses\":[{\"name\":\"sandbox\"," \
	"\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}}\n"
#define FFFD "\xEF\xBF\xBD"

/* ---- the capture ---- */

static char *kept(const gkx__capture *c)
{
	gkx_buf b = GKX_BUF_INIT;

	assert_int_equal(gkx__capture_bytes(c, &b), 0);
	return gkx__buf_detach(&b);
}

static void test_capture_under_the_cap(void **state)
{
	gkx__capture c;
	char *s;

	(void)state;
	gkx__capture_init(&c, 16);
	gkx__capture_put(&c, "hello", 5);
	gkx__capture_put(&c, " world", 6);
	s = kept(&c);
	assert_string_equal(s, "hello world");
	assert_int_equal(c.dropped, 0);
	free(s);
	gkx__capture_free(&c);
}

/* Past the cap the last bytes stay, through many turns of the ring, with
 * pieces smaller and larger than it; memory stays at the cap. */
static void test_capture_keeps_the_tail(void **state)
{
	static const size_t pieces[] = { 3, 7, 1, 12, 10, 4, 25, 9, 2, 10, 6, 1,
		                         1, 1, 1, 1,  1,  1, 1,  1, 1, 3,  3, 3 };
	char all[200], want[11];
	size_t i, at = 0, total = 0;
	gkx__capture c;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)('a' + i % 26);
	gkx__capture_init(&c, 10);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		gkx__capture_put(&c, all + at, pieces[i]);
		at += pieces[i];
		total = at < 10 ? at : 10;
		memcpy(want, all + at - total, total);
		want[total] = '\0';
		s = kept(&c);
		assert_string_equal(s, want);
		free(s);
		assert_true(c.size <= 10);
	}
	assert_int_equal(c.dropped, 1);
	gkx__capture_free(&c);
}

static void test_capture_zero_keeps_nothing(void **state)
{
	gkx__capture c;
	char *s;

	(void)state;
	gkx__capture_init(&c, 0);
	gkx__capture_put(&c, "abc", 3);
	assert_null(c.ptr);
	s = kept(&c);
	assert_string_equal(s, "");
	assert_int_equal(c.dropped, 0);
	free(s);
	gkx__capture_free(&c);
}

/* A cut inside a character starts the kept text at the next one. */
static void test_capture_cut_at_a_character(void **state)
{
	gkx__capture c;
	char *s;

	(void)state;
	gkx__capture_init(&c, 5);
	gkx__capture_put(&c, "x\xE2\x82\xAC\xE2\x82\xAC", 7); /* "x€€" */
	s = kept(&c);
	assert_string_equal(s, "\xE2\x82\xAC");
	free(s);
	gkx__capture_free(&c);
}

/* ---- bytes as text ---- */

static void text_is(const char *in, size_t len, const char *want, int want_rc)
{
	gkx_buf b = GKX_BUF_INIT;

	assert_int_equal(gkx__utf8_text(&b, in, len), want_rc);
	assert_string_equal(b.ptr, want);
	gkx__buf_free(&b);
}

/* One U+FFFD per maximal ill-formed subpart: what Python's
 * bytes.decode("utf-8", "replace") gives for each (checked with 3.11). */
static void test_utf8_text(void **state)
{
	(void)state;
	text_is("", 0, "", 0);
	text_is("plain\n", 6, "plain\n", 0);
	text_is("\xC3\xA9\xF0\x9F\x98\x80", 6, "\xC3\xA9\xF0\x9F\x98\x80", 0);
	text_is("\xE2\x82", 2, FFFD, 1); /* cut short */
	text_is("\xF0\x9F\x98"
	        "A",
	        4, FFFD "A", 1);                                /* cut short */
	text_is("\xED\xA0\x80", 3, FFFD FFFD FFFD, 1);          /* a surrogate */
	text_is("\xC0\xAF", 2, FFFD FFFD, 1);                   /* overlong */
	text_is("\xE0\x80\xAF", 3, FFFD FFFD FFFD, 1);          /* overlong */
	text_is("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 1); /* past U+10FFFF */
	text_is("a\0b", 3, "a" FFFD "b", 1);                    /* cJSON ends at NUL */
}

/* Bytes 0-255, a newline and "after\n" (263 bytes): the text and the
 * base64 go through cJSON's printer and parser, and the base64 gives every
 * byte back; the document itself is UTF-8. */
static void test_every_byte_round_trips(void **state)
{
	unsigned char bytes[263];
	gkx_buf text = GKX_BUF_INIT, back = GKX_BUF_INIT, check = GKX_BUF_INIT;
	cJSON *j = cJSON_CreateObject(), *parsed;
	const cJSON *b64;
	char *doc;
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	memcpy(bytes + 256, "\nafter\n", 7);
	assert_int_equal(gkx__json_add_bytes(j, "output", "outputBase64", (const char *)bytes,
	                                     sizeof(bytes)),
	                 0);
	assert_int_equal(gkx__json_add_bytes(j, "plain", "plainBase64", "ok\n", 3), 0);
	doc = cJSON_PrintUnformatted(j);
	assert_int_equal(gkx__utf8_text(&check, doc, strlen(doc)), 0);
	parsed = cJSON_Parse(doc);
	assert_non_null(parsed);
	b64 = at(parsed, "outputBase64");
	assert_true(cJSON_IsString(b64));
	assert_int_equal(gkx__base64_decode(&back, b64->valuestring, strlen(b64->valuestring)), 0);
	assert_int_equal(back.len, sizeof(bytes));
	assert_memory_equal(back.ptr, bytes, sizeof(bytes));
	/* The text: NUL and each byte from 0x80 up is U+FFFD, the rest as is. */
	assert_int_equal(gkx__buf_puts(&text, FFFD), 0);
	assert_int_equal(gkx__buf_put(&text, bytes + 1, 127), 0);
	for (i = 0x80; i < 0x100; i++)
		assert_int_equal(gkx__buf_puts(&text, FFFD), 0);
	assert_int_equal(gkx__buf_puts(&text, "\nafter\n"), 0);
	assert_json_string(parsed, "output", text.ptr);
	/* Text that is UTF-8 comes as it is, and no base64. */
	assert_json_string(parsed, "plain", "ok\n");
	assert_true(cJSON_IsNull(at(parsed, "plainBase64")));
	cJSON_Delete(parsed);
	cJSON_Delete(j);
	cJSON_free(doc);
	gkx__buf_free(&text);
	gkx__buf_free(&back);
	gkx__buf_free(&check);
}

/* ---- through a run (the Job's log, fake_transport_v1) ---- */

typedef struct {
	gkx_config *cfg;
	gkx_client *client;
	gkx_buf out;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	gkx_config_options o;
	gkx_error err;

	fake_reset();
	gkx_config_options_init(&o);
	o.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	o.ns = "sandbox";
	assert_int_equal(gkx_config_load(&f->cfg, &o, &err), 0);
	assert_int_equal(gkx_client_new(&f->client, f->cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(f->client, &fake_transport_v1, NULL, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	gkx_client_free(f->client);
	gkx_config_free(f->cfg);
	gkx__buf_free(&f->out);
	free(f);
	fake_reset();
	return 0;
}

static int collect(const char *data, size_t len, void *ud)
{
	return gkx__buf_put(ud, data, len) < 0;
}

/* A Job's run whose log is `log` (records with timestamps), keeping
 * capture_bytes of it; executed. */
static gkx_run *run_with_log(fixture *f, const char *log, size_t capture_bytes)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_run *run = NULL;
	gkx_error err;

	o.script_name = "flood.py";
	o.script = "print(1)";
	o.script_len = 8;
	o.on_output = collect;
	o.output_userdata = &f->out;
	o.cold = 1;
	o.capture_bytes = capture_bytes;
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, DONE_POD);
	fake_expect("GET", "/log", 200, log);
	fake_expect("DELETE", "/jobs/sandbox-run-", 200, "{}");
	fake_expect("DELETE", "/configmaps/sandbox-run-", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(fake_unexpected(), 0);
	return run;
}

static cJSON *result_of(const gkx_run *run)
{
	char *s = gkx_run_result_json(run, NULL);
	cJSON *j;

	assert_non_null(s);
	j = cJSON_Parse(s);
	assert_non_null(j);
	gkx_free(s);
	return j;
}

/* The reader gets every byte; the result keeps the last 8 and says so. */
static void test_run_keeps_the_last_bytes(void **state)
{
	fixture *f = *state;
	gkx_run *run = run_with_log(f, TS "0123456789\n" TS "abcdef\n", 8);
	cJSON *j = result_of(run);

	assert_string_equal(f->out.ptr, "0123456789\nabcdef\n");
	assert_json_string(j, "output", "\nabcdef\n");
	assert_json_bool(j, "outputTruncated", 1);
	assert_true(cJSON_IsNull(at(j, "outputBase64")));
	assert_int_equal(gkx_run_output_truncated(run), 1);
	cJSON_Delete(j);
	gkx_run_free(run);
}

static void test_run_under_the_cap(void **state)
{
	fixture *f = *state;
	gkx_run *run = run_with_log(f, TS "hi\n", GKX_DEFAULT_CAPTURE_BYTES);
	cJSON *j = result_of(run);

	assert_json_string(j, "output", "hi\n");
	assert_json_bool(j, "outputTruncated", 0);
	assert_true(cJSON_IsNull(at(j, "outputBase64")));
	assert_true(cJSON_IsNull(at(j, "stdoutBase64")) && cJSON_IsNull(at(j, "stderrBase64")));
	assert_int_equal(gkx_run_output_truncated(run), 0);
	cJSON_Delete(j);
	gkx_run_free(run);
}

/* Output that is not UTF-8 (every byte but NUL and the newline, which the
 * log's records cannot carry as such): the text is replaced where it must
 * be, and the base64 has every byte. */
static void test_run_binary_output(void **state)
{
	fixture *f = *state;
	char log[600], raw[300];
	size_t n = 0, i;
	gkx_run *run;
	gkx_buf back = GKX_BUF_INIT;
	cJSON *j;
	const cJSON *b64;

	memcpy(raw, "\x01\x02\x09", 3);
	n = 3;
	for (i = 0x0B; i < 0x100; i++)
		raw[n++] = (char)i;
	raw[n++] = '\n';
	raw[n] = '\0';
	snprintf(log, sizeof(log), TS "%s" TS "after\n", raw);
	run = run_with_log(f, log, GKX_DEFAULT_CAPTURE_BYTES);
	j = result_of(run);
	b64 = at(j, "outputBase64");
	assert_true(cJSON_IsString(b64));
	assert_int_equal(gkx__base64_decode(&back, b64->valuestring, strlen(b64->valuestring)), 0);
	assert_int_equal(back.len, n + 6);
	assert_memory_equal(back.ptr, raw, n);
	assert_memory_equal(back.ptr + n, "after\n", 6);
	assert_int_equal(f->out.len, n + 6);
	assert_memory_equal(f->out.ptr, back.ptr, back.len);
	assert_non_null(strstr(cJSON_GetStringValue(at(j, "output")), FFFD "\nafter\n"));
	assert_json_bool(j, "outputTruncated", 0);
	cJSON_Delete(j);
	gkx__buf_free(&back);
	gkx_run_free(run);
}

/* ---- through a session: what the Python binding and run_many get ---- */

static gkx_session *fake_session(void)
{
	gkx_session *s = NULL;
	gkx_error err;

	assert_int_equal(
	        gkx_session_new_from_env(&s,
	                                 "{\"kubeconfig\": \"" GKX_FIXTURES
	                                 "/kubeconfig/token.yaml\", \"namespace\": \"sandbox\"}",
	                                 &err),
	        0);
	assert_int_equal(
	        gkx_client_set_transport(gkx__session_client(s), &fake_transport_v1, NULL, &err),
	        0);
	return s;
}

static void count_output(unsigned index, const char *data, size_t len, void *ud)
{
	(void)index;
	(void)data;
	*(size_t *)ud += len;
}

/* A line of 1000 'x' and a newline, as a log record. */
static void flood(gkx_buf *log, size_t lines)
{
	char line[1001];
	size_t i;

	memset(line, 'x', 1000);
	line[1000] = '\n';
	for (i = 0; i < lines; i++) {
		assert_int_equal(gkx__buf_puts(log, TS), 0);
		assert_int_equal(gkx__buf_put(log, line, sizeof(line)), 0);
	}
	assert_int_equal(gkx__buf_puts(log, TS "the end\n"), 0);
}

static void expect_job(const char *log)
{
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, DONE_POD);
	fake_expect("GET", "/log", 200, log);
	fake_expect("DELETE", "/jobs/sandbox-run-", 200, "{}");
	fake_expect("DELETE", "/configmaps/sandbox-run-", 200, "{}");
}

/* 3 MB of output: the callback gets it all, the result its last 1 MiB by
 * default, or the last limitBytes. */
static void test_session_caps_the_result(void **state)
{
	gkx_session *s = fake_session();
	gkx_buf log = GKX_BUF_INIT;
	size_t streamed = 0, len;
	gkx_error err;
	cJSON *res;
	const char *out;

	(void)state;
	flood(&log, 3000);
	expect_job(log.ptr);
	expect_job(log.ptr);
	assert_int_equal(gkx_session_run(s,
	                                 "[{\"code\": \"x\", \"cold\": true}, "
	                                 "{\"code\": \"x\", \"cold\": true, \"limitBytes\": 20}]",
	                                 1, count_output, &streamed, &err),
	                 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(streamed, 2 * (3000 * 1001 + 8));
	res = cJSON_Parse(gkx_session_results(s));
	out = cJSON_GetStringValue(at(res, "0.output"));
	len = strlen(out);
	assert_int_equal(len, GKX_DEFAULT_CAPTURE_BYTES);
	assert_string_equal(out + len - 10, "x\nthe end\n");
	assert_json_bool(res, "0.outputTruncated", 1);
	assert_json_string(res, "1.output", "xxxxxxxxxxx\nthe end\n");
	assert_json_bool(res, "1.outputTruncated", 1);
	cJSON_Delete(res);
	gkx__buf_free(&log);
	gkx_session_free(s);
}

/* The results a binding parses are UTF-8 even when the output was not. */
static void test_session_binary_output(void **state)
{
	gkx_session *s = fake_session();
	gkx_buf check = GKX_BUF_INIT, back = GKX_BUF_INIT;
	gkx_error err;
	const char *results;
	cJSON *res;
	const cJSON *b64;

	(void)state;
	expect_job(TS "\xff\xfe bytes\n");
	assert_int_equal(
	        gkx_session_run(s, "[{\"code\": \"x\", \"cold\": true}]", 1, NULL, NULL, &err), 0);
	results = gkx_session_results(s);
	assert_int_equal(gkx__utf8_text(&check, results, strlen(results)), 0);
	res = cJSON_Parse(results);
	assert_json_string(res, "0.output", FFFD FFFD " bytes\n");
	b64 = at(res, "0.outputBase64");
	assert_true(cJSON_IsString(b64));
	assert_int_equal(gkx__base64_decode(&back, b64->valuestring, strlen(b64->valuestring)), 0);
	assert_string_equal(back.ptr, "\xff\xfe bytes\n");
	cJSON_Delete(res);
	gkx__buf_free(&check);
	gkx__buf_free(&back);
	gkx_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_under_the_cap),
		cmocka_unit_test(test_capture_keeps_the_tail),
		cmocka_unit_test(test_capture_zero_keeps_nothing),
		cmocka_unit_test(test_capture_cut_at_a_character),
		cmocka_unit_test(test_utf8_text),
		cmocka_unit_test(test_every_byte_round_trips),
		cmocka_unit_test_setup_teardown(test_run_keeps_the_last_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_under_the_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_binary_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_caps_the_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_binary_output, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
