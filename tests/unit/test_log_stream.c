/* The kubelet's timestamped log read back into the container's bytes:
 * both kubelet styles of long lines, any chunking, and the node's own
 * error text (recorded under gVisor) never passing for output. */
#include "testutil.h"

#include "internal.h"

#define NODE_ERROR                                                              \
	"rpc error: code = NotFound desc = an error occurred when try to find " \
	"container \"3f0a9c1d2e4b\": not found"

static int collect(const char *data, size_t len, void *ud)
{
	return gkx__buf_put(ud, data, len) < 0;
}

/* Parse `body` in chunks of `chunk` bytes, end it cleanly, and hand over
 * what is held as a run does at its end; `removed`: the pod was deleted. */
static int parse(const char *body, size_t chunk, size_t split, int removed, gkx_buf *out,
                 gkx_buf *foreign)
{
	gkx_log_parser p;
	size_t off = 0, n = strlen(body);
	int rc;

	memset(&p, 0, sizeof(p));
	p.split = split;
	gkx__log_parser_reset(&p);
	while (off < n) {
		size_t k = n - off < chunk ? n - off : chunk;
		assert_int_equal(gkx__log_parse(&p, body + off, k, collect, out), 0);
		off += k;
	}
	rc = gkx__log_parse_end(&p);
	assert_true(rc >= 0);
	assert_true(gkx__log_parse_flush(&p, removed, collect, out) >= 0);
	if (foreign)
		gkx__buf_put(foreign, p.foreign.ptr ? p.foreign.ptr : "", p.foreign.len);
	rc = gkx__log_parser_foreign(&p);
	gkx__log_parser_reset(&p);
	return rc;
}

static void expect_as(const char *body, size_t split, int removed, const char *want,
                      int want_foreign)
{
	size_t chunk;

	for (chunk = 1; chunk <= strlen(body) + 1; chunk++) {
		gkx_buf out = GKX_BUF_INIT;
		int foreign = parse(body, chunk, split, removed, &out, NULL);
		if (strcmp(out.ptr ? out.ptr : "", want) || foreign != want_foreign)
			fail_msg("chunk %lu: got \"%s\" (foreign %d), want \"%s\" (foreign %d)",
			         (unsigned long)chunk, out.ptr ? out.ptr : "", foreign, want,
			         want_foreign);
		gkx__buf_free(&out);
	}
}

/* As a run whose pod was deleted (the deadline) reads it. */
static void expect(const char *body, size_t split, const char *want, int want_foreign)
{
	expect_as(body, split, 1, want, want_foreign);
}

static void test_times(void **state)
{
	static const char *const good[] = {
		"2026-11-30T06:29:09.123456789Z",
		"2026-11-30T06:29:09Z",
		"2026-11-30T06:29:09.1+01:00",
		"2026-11-30T06:29:09-08:00",
	};
	static const char *const bad[] = {
		"",
		"rpc",
		"2026-11-30",
		"2026-11-30T06:29:09",
		"2026-11-30T06:29:09.Z",
		"2026-11-30T06:29:09.1234567890Z",
		"2026-11-30 06:29:09Z",
		"2026-11-30T06:29:09+0100",
		"2026-11-30T06:29:09ZZ",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_true(gkx__log_valid_time(good[i], strlen(good[i])));
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_false(gkx__log_valid_time(bad[i], strlen(bad[i])));
}

static void test_records(void **state)
{
	(void)state;
	expect("2026-11-30T06:29:09.1Z a b\n2026-11-30T06:29:09.2Z \n", 16384, "a b\n\n", 0);
	/* Output that looks like a time is output. */
	expect("2026-11-30T06:29:09Z 2026-11-30T06:29:09Z x\n", 16384, "2026-11-30T06:29:09Z x\n",
	       0);
	/* A last line with no newline, then a clean end. */
	expect("2026-11-30T06:29:09Z done", 16384, "done", 0);
}

static void test_long_lines(void **state)
{
	(void)state;
	/* Parts of 4: a 1.20 kubelet stamps each, a newer one only the first. */
	expect("2026-11-30T06:29:09Z abcd2026-11-30T06:29:09Z efgh2026-11-30T06:29:09Z ij\n", 4,
	       "abcdefghij\n", 0);
	expect("2026-11-30T06:29:09Z abcdefghij\n", 4, "abcdefghij\n", 0);
	/* A newer kubelet's last part, unfinished, that looks like a time. */
	expect_as("2026-11-30T06:29:09Z abcd12:3", 4, 0, "abcd12:3", 0);
	/* A part exactly as long as the limit, then its newline. */
	expect("2026-11-30T06:29:09Z abcd\n2026-11-30T06:29:09Z e\n", 4, "abcd\ne\n", 0);
}

static void test_node_text(void **state)
{
	gkx_buf out = GKX_BUF_INIT, foreign = GKX_BUF_INIT;

	(void)state;
	expect("2026-11-30T06:29:09Z napping\n" NODE_ERROR, 16384, "napping\n", 1);
	/* Glued to a line the container never finished... */
	expect("2026-11-30T06:29:09Z napping\n2026-11-30T06:29:10Z zzz" NODE_ERROR, 16384,
	       "napping\nzzz", 1);
	/* ...also across a part boundary. */
	expect("2026-11-30T06:29:09Z abcd2026-11-30T06:29:09Z ef" NODE_ERROR, 4, "abcdef", 1);
	expect("2026-11-30T06:29:09Z abcd" NODE_ERROR, 4, "abcd", 1);
	/* Anything that is not a record after a whole line. */
	expect("2026-11-30T06:29:09Z a\nunable to retrieve container logs", 16384, "a\n", 1);
	expect(NODE_ERROR, 16384, "", 1);
	expect("2026-11-30T06:29:09Z a\n2026-11-30T06", 16384, "a\n", 1);
	/* A script that ended by itself, its last line unfinished, keeps every
	 * word of it: the node appends nothing to a container it still has. */
	expect_as("2026-11-30T06:29:09Z a\n2026-11-30T06:29:10Z " NODE_ERROR, 16384, 0,
	          "a\n" NODE_ERROR, 0);
	/* What the node said is kept for the error message. */
	assert_int_equal(parse("2026-11-30T06:29:09Z a\n" NODE_ERROR, 7, 16384, 1, &out, &foreign),
	                 1);
	assert_string_equal(foreign.ptr, NODE_ERROR);
	gkx__buf_free(&out);
	gkx__buf_free(&foreign);
}

/* A long line with no newline is handed over as it comes, all but its
 * last GKX_LOG_HOLD bytes, so memory stays bounded. */
static void test_open_line_is_bounded(void **state)
{
	gkx_log_parser p;
	gkx_buf out = GKX_BUF_INIT;
	char chunk[1000];
	size_t i;

	(void)state;
	memset(&p, 0, sizeof(p));
	gkx__log_parser_reset(&p);
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(gkx__log_parse(&p, "2026-11-30T06:29:09Z ", 21, collect, &out), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(gkx__log_parse(&p, chunk, sizeof(chunk), collect, &out), 0);
	assert_true(p.held.len < 2 * GKX_LOG_HOLD);
	assert_true(out.len >= 100 * sizeof(chunk) - 2 * GKX_LOG_HOLD);
	assert_int_equal(gkx__log_parse_end(&p), 0);
	assert_int_equal(gkx__log_parse_flush(&p, 0, collect, &out), 0);
	assert_int_equal(out.len, 100 * sizeof(chunk));
	gkx__log_parser_reset(&p);
	gkx__buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_node_text),
		cmocka_unit_test(test_open_line_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
