/* The WebSocket under the exec stream, where RFC 6455 asks something of a
 * client: the checks of the server's 101 (ws.c), Close frames and what may
 * follow them (ws.c). */
#include "testutil.h"

#include "internal.h"

/* ---- the server's 101 ---- */

static int parse(gkx_http1_head *h, const char *head)
{
	return gkx__http1_head(h, head, strlen(head));
}

#define HEAD_101 "HTTP/1.1 101 Switching Protocols\r\n"

static void test_upgrade_any_case(void **state)
{
	gkx_http1_head h;

	(void)state;
	assert_int_equal(parse(&h, HEAD_101 "Upgrade: websocket\r\n\r\n"), 1);
	assert_true(h.upgrade_websocket);
	assert_int_equal(parse(&h, HEAD_101 "upgrade:  WebSocket \r\n\r\n"), 1);
	assert_true(h.upgrade_websocket);
	assert_int_equal(parse(&h, HEAD_101 "UPGRADE: WEBSOCKET\r\n\r\n"), 1);
	assert_true(h.upgrade_websocket);
	assert_int_equal(parse(&h, HEAD_101 "Upgrade: websockets\r\n\r\n"), 1);
	assert_false(h.upgrade_websocket);
	assert_int_equal(parse(&h, HEAD_101 "Upgrade: h2c\r\n\r\n"), 1);
	assert_false(h.upgrade_websocket);
	assert_int_equal(parse(&h, HEAD_101 "\r\n"), 1);
	assert_false(h.upgrade_websocket);
}

static void test_connection_upgrade(void **state)
{
	gkx_http1_head h;

	(void)state;
	/* As Kubernetes (golang.org/x/net/websocket) answers. */
	assert_int_equal(parse(&h, HEAD_101 "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
	                 1);
	assert_true(h.connection_upgrade);
	assert_int_equal(parse(&h, HEAD_101 "connection: upgrade\r\n\r\n"), 1);
	assert_true(h.connection_upgrade);
	assert_int_equal(parse(&h, HEAD_101 "Connection: keep-alive, UPGRADE\r\n\r\n"), 1);
	assert_true(h.connection_upgrade);
	assert_int_equal(
	        parse(&h, HEAD_101 "Connection: keep-alive\r\nConnection: Upgrade\r\n\r\n"), 1);
	assert_true(h.connection_upgrade);
	assert_int_equal(parse(&h, HEAD_101 "Connection: keep-alive\r\n\r\n"), 1);
	assert_false(h.connection_upgrade);
	assert_int_equal(parse(&h, HEAD_101 "Connection: upgraded, close\r\n\r\n"), 1);
	assert_false(h.connection_upgrade);
	assert_int_equal(parse(&h, HEAD_101 "Upgrade: websocket\r\n\r\n"), 1);
	assert_false(h.connection_upgrade);
}

/* ---- Close frames ---- */

typedef struct {
	int kinds[16];
	size_t lens[16];
	size_t n;
} seen;

static int record(int kind, const char *data, size_t len, void *ud)
{
	seen *s = ud;

	(void)data;
	if (s->n < 16) {
		s->kinds[s->n] = kind;
		s->lens[s->n] = len;
	}
	s->n++;
	return 0;
}

static int feed(seen *s, const char *bytes, size_t len, size_t piece)
{
	gkx_ws_decoder d;
	size_t off = 0;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	memset(s, 0, sizeof(*s));
	d.on_message = record;
	d.ud = s;
	while (rc == 0 && off < len) {
		size_t n = len - off < piece ? len - off : piece;
		rc = gkx__ws_feed(&d, bytes + off, n);
		off += n;
	}
	gkx__ws_decoder_reset(&d);
	return rc;
}

static void test_nothing_after_close(void **state)
{
	/* stdout, a Close 1000, then stdout, a ping and a text the server
	 * had no right to send. */
	static const char frames[] = "\x82\x03\x01hi"
	                             "\x88\x02\x03\xe8"
	                             "\x82\x04\x01"
	                             "bad"
	                             "\x89\x00"
	                             "\x81\x01x";
	size_t piece;

	(void)state;
	for (piece = 1; piece <= sizeof(frames); piece++) {
		seen s;
		assert_int_equal(feed(&s, frames, sizeof(frames) - 1, piece), 0);
		assert_int_equal(s.n, 2);
		assert_int_equal(s.kinds[0], GKX_WS_BINARY);
		assert_int_equal(s.kinds[1], GKX_WS_CLOSE);
		assert_int_equal(s.lens[1], 2);
	}
}

static void test_close_bodies(void **state)
{
	static const struct {
		const char *frame;
		size_t len;
		int rc;
	} cases[] = {
		{ "\x88\x00", 2, 0 },         /* no body */
		{ "\x88\x02\x03\xe8", 4, 0 }, /* 1000, as Kubernetes sends */
		{ "\x88\x05\x03\xe9"
		  "bye",
		  7, 0 },                              /* 1001 and a reason */
		{ "\x88\x02\x03\xf3", 4, 0 },          /* 1011 */
		{ "\x88\x02\x03\xf6", 4, 0 },          /* 1014 */
		{ "\x88\x02\x0b\xb8", 4, 0 },          /* 3000 */
		{ "\x88\x02\x13\x87", 4, 0 },          /* 4999 */
		{ "\x88\x01\x03", 3, GKX_EPROTO },     /* a 1-byte body */
		{ "\x88\x02\x03\xe7", 4, GKX_EPROTO }, /* 999 */
		{ "\x88\x02\x03\xec", 4, GKX_EPROTO }, /* 1004, reserved */
		{ "\x88\x02\x03\xed", 4, GKX_EPROTO }, /* 1005: "no code", never sent */
		{ "\x88\x02\x03\xee", 4, GKX_EPROTO }, /* 1006: "no Close", never sent */
		{ "\x88\x02\x03\xf7", 4, GKX_EPROTO }, /* 1015: "TLS failed", never sent */
		{ "\x88\x02\x0b\xb7", 4, GKX_EPROTO }, /* 2999 */
		{ "\x88\x02\x13\x88", 4, GKX_EPROTO }, /* 5000 */
		{ "\x88\x02\x00\x00", 4, GKX_EPROTO }, /* 0 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		seen s;
		int rc = feed(&s, cases[i].frame, cases[i].len, cases[i].len);
		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
		assert_int_equal(s.n, rc == 0 ? 1 : 0); /* a bad Close is not delivered */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade_any_case),
		cmocka_unit_test(test_connection_upgrade),
		cmocka_unit_test(test_nothing_after_close),
		cmocka_unit_test(test_close_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
