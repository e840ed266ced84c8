/* The WebSocket under the exec stream, where RFC 6455 asks something of a
 * client: the checks of the server's 101 (ws.c), Close frames and what may
 * follow them (ws.c), the answer to the server's Close (exec.c and
 * transport_curl_ws.c), and the bounds on how much one wait moves
 * (transport_curl_ws.c). The last two also run against a WebSocket server
 * in a thread of this test, on a loopback socket, through libcurl. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "fake_transport.h"
#include "transport_curl.h"

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

/* ---- the answer to the server's Close ---- */

#define STATUS_OK "\3{\"metadata\":{},\"status\":\"Success\"}"

static gkx_client *fake_client(gkx_config **cfg)
{
	gkx_config_options o;
	gkx_client *c = NULL;
	gkx_error err;

	gkx_config_options_init(&o);
	o.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	o.ns = "sandbox";
	assert_int_equal(gkx_config_load(cfg, &o, &err), 0);
	assert_int_equal(gkx_client_new(&c, *cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, &err), 0);
	return c;
}

static int run_exec(gkx_exec *e, gkx_client *c, gkx_error *err)
{
	static const char *const argv[] = { "true" };
	int rc, waits = 0;

	memset(e, 0, sizeof(*e));
	rc = gkx__exec_start(e, c, "sandbox", "p", "sandbox", argv, 1, err);
	while (rc == 0 && waits++ < 1000) {
		if ((rc = c->tp->wait(c->tp_state, 10)) == 0)
			rc = gkx__exec_step(e, err);
	}
	return rc;
}

/* The status and the Close arrive; the stream is the transport's to end
 * (after it has answered the Close), not cancelled under it. */
static void test_close_is_not_cut_short(void **state)
{
	static const fake_message msgs[] = {
		{ GKX_WS_BINARY, "\1out", 4 },
		{ GKX_WS_BINARY, STATUS_OK, sizeof(STATUS_OK) - 1 },
		{ GKX_WS_CLOSE, "\3\350", 2 },
	};
	gkx_config *cfg = NULL;
	gkx_client *c;
	gkx_exec e;
	gkx_error err;

	(void)state;
	fake_reset();
	c = fake_client(&cfg);
	fake_expect_ws("/pods/p/exec?", "v4.channel.k8s.io", 101, msgs, 3, 0, 0);
	assert_int_equal(run_exec(&e, c, &err), 1);
	assert_int_equal(e.exit_code, 0);
	assert_int_equal(fake_cancelled(), 0);
	gkx__exec_free(&e);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

/* ---- one step's bounds, on a stand-in socket ---- */

typedef struct {
	size_t calls, bytes;
	size_t per_call; /* what a send takes, at most */
	size_t again_at; /* every n-th call would block (0: never) */
	gkx_buf written;
} peer;

static int peer_send(void *ud, const char *data, size_t len, size_t *n)
{
	peer *p = ud;

	if (++p->calls > 100000)
		return GKX_EIO; /* a loop without a bound: stop it, and fail */
	if (p->again_at && p->calls % p->again_at == 0)
		return 1;
	*n = len < p->per_call ? len : p->per_call;
	p->bytes += *n;
	return gkx__buf_put(&p->written, data, *n);
}

/* A peer that always has more to say. */
static int peer_recv(void *ud, char *buf, size_t len, size_t *n)
{
	peer *p = ud;

	if (++p->calls > 100000)
		return GKX_EIO;
	memset(buf, 'x', len);
	*n = len;
	p->bytes += len;
	return 0;
}

static int count_bytes(void *ud, const char *data, size_t len)
{
	size_t *total = ud;

	(void)data;
	*total += len;
	return 0;
}

static void test_read_step_is_bounded(void **state)
{
	peer p;
	gkx__ws_io io = { peer_send, peer_recv, NULL };
	size_t total = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	io.ud = &p;
	/* It returns to its caller, says more may be waiting, and delivered
	 * no more than it was allowed. */
	assert_int_equal(gkx__ws_read_step(&io, 64 * 1024, count_bytes, &total), 1);
	assert_int_equal(total, 64 * 1024);
	assert_int_equal(p.bytes, 64 * 1024);
}

static void test_write_step_is_bounded(void **state)
{
	peer p;
	gkx__ws_io io = { peer_send, peer_recv, NULL };
	gkx_buf out = GKX_BUF_INIT, all = GKX_BUF_INIT;
	size_t i, steps = 0;
	int rc;

	(void)state;
	memset(&p, 0, sizeof(p));
	io.ud = &p;
	for (i = 0; i < 1024 * 1024; i++) {
		unsigned char b = (unsigned char)(i * 7 + i / 256);
		assert_int_equal(gkx__buf_put(&out, &b, 1), 0);
	}
	assert_int_equal(gkx__buf_put(&all, out.ptr, out.len), 0);
	/* A peer that takes everything: a step still stops at its budget. */
	p.per_call = (size_t)-1;
	assert_int_equal(gkx__ws_write_step(&out, &io, 64 * 1024), 1);
	assert_true(p.bytes >= 64 * 1024 && p.bytes < 96 * 1024);
	assert_int_equal(out.len, all.len - p.bytes);
	/* Partial writes, and a socket that is full now and then: every byte
	 * goes, once, in order. */
	p.per_call = 1000;
	p.again_at = 3;
	do {
		size_t before = p.bytes;
		rc = gkx__ws_write_step(&out, &io, 64 * 1024);
		assert_true(rc == 0 || rc == 1);
		assert_true(p.bytes - before <= 96 * 1024);
		steps++;
	} while (out.len && steps < 10000);
	assert_int_equal(out.len, 0);
	assert_int_equal(p.written.len, all.len);
	assert_memory_equal(p.written.ptr, all.ptr, all.len);
	assert_true(steps > 1024 / 64); /* it took many steps, not one loop */
	gkx__buf_free(&out);
	gkx__buf_free(&all);
	gkx__buf_free(&p.written);
}

/* ---- a WebSocket server on loopback, through the libcurl transport ---- */

enum { SERVE_FLOOD, SERVE_STATUS_AND_CLOSE };

typedef struct {
	int mode;
	int listener;
	int port;
	pthread_t thread;
	unsigned close_code; /* the Close the client sent back; 0: none */
	int close_seen;
} server;

static int read_head(int fd, char *buf, size_t cap)
{
	size_t have = 0;

	while (have + 1 < cap) {
		ssize_t n = recv(fd, buf + have, cap - 1 - have, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return 0;
	}
	return -1;
}

static int handshake(int fd)
{
	char buf[8192], key[64], accept[29], answer[512];
	const char *k;
	size_t n;

	if (read_head(fd, buf, sizeof(buf)) < 0 || !(k = strstr(buf, "Sec-WebSocket-Key: ")))
		return -1;
	k += strlen("Sec-WebSocket-Key: ");
	n = strcspn(k, "\r");
	if (n >= sizeof(key))
		return -1;
	memcpy(key, k, n);
	key[n] = '\0';
	if (gkx__ws_accept_for(accept, key) < 0)
		return -1;
	n = (size_t)snprintf(answer, sizeof(answer),
	                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
	                     "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n",
	                     accept);
	return send(fd, answer, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Read the client's frames until its Close (masked, as a client's must be). */
static void await_close(server *s, int fd)
{
	unsigned char b[256];
	size_t have = 0;

	for (;;) {
		ssize_t n = recv(fd, b + have, sizeof(b) - have, 0);
		size_t len, head;
		if (n <= 0)
			return;
		have += (size_t)n;
		while (have >= 2) {
			len = b[1] & 0x7f;
			head = 2 + 4;
			if (len >= 126 || have < head + len)
				break;
			if ((b[0] & 0x0f) == 8 && (b[1] & 0x80) && len >= 2) {
				s->close_seen = 1;
				s->close_code = (unsigned)((b[6] ^ b[2]) << 8 | (b[7] ^ b[3]));
				return;
			}
			memmove(b, b + head + len, have - head - len);
			have -= head + len;
		}
		if (have == sizeof(b))
			return;
	}
}

static void *serve(void *ud)
{
	server *s = ud;
	struct timeval tv = { 10, 0 };
	int fd = accept(s->listener, NULL, NULL);

	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (handshake(fd) == 0 && s->mode == SERVE_FLOOD) {
		/* stdout, 1 KiB a frame, for as long as the client reads. */
		unsigned char frame[4 + 1024];
		frame[0] = 0x82;
		frame[1] = 126;
		frame[2] = 1024 >> 8;
		frame[3] = 1024 & 0xff;
		memset(frame + 4, 'o', 1024);
		frame[4] = 1;
		while (send(fd, frame, sizeof(frame), MSG_NOSIGNAL) == (ssize_t)sizeof(frame))
			;
	} else if (s->mode == SERVE_STATUS_AND_CLOSE) {
		/* What a 1.20 kubelet sends at the end: the status, a Close
		 * 1000, and it closes its side at once. */
		static const char end[] = "\x82\x04\x01out"
		                          "\x82\x23" STATUS_OK "\x88\x02\x03\xe8";
		if (send(fd, end, sizeof(end) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(end) - 1) {
			shutdown(fd, SHUT_WR);
			await_close(s, fd);
		}
	}
	close(fd);
	return NULL;
}

static void server_start(server *s, int mode)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->listener = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->listener >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->listener, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->listener, 1), 0);
	assert_int_equal(getsockname(s->listener, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
	pthread_join(s->thread, NULL);
	close(s->listener);
}

typedef struct {
	size_t this_wait, most;
	int too_much;
} reader;

/* A slow reader: the socket never runs dry while it reads. */
static int slow_reader(int kind, const char *data, size_t len, void *ud)
{
	reader *r = ud;
	struct timespec ts = { 0, 20000 };

	(void)kind;
	(void)data;
	nanosleep(&ts, NULL);
	r->this_wait += len;
	if (r->this_wait > 4u * 1024u * 1024u) {
		r->too_much = 1; /* one wait that never returns: stop, and fail */
		return 1;
	}
	return 0;
}

static void test_flood_returns_each_wait(void **state)
{
	static const char *const protocols[] = { "v4.channel.k8s.io" };
	const gkx_transport *tp = gkx_transport_curl();
	gkx_http_request req;
	server s;
	reader r;
	void *ts = NULL;
	char url[128];
	int i;

	(void)state;
	server_start(&s, SERVE_FLOOD);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/namespaces/n/pods/p/exec", s.port);
	memset(&req, 0, sizeof(req));
	memset(&r, 0, sizeof(r));
	req.method = "GET";
	req.url = url;
	req.proxy = ""; /* never a proxy from the environment */
	req.subprotocols = protocols;
	req.nsubprotocols = 1;
	req.on_message = slow_reader;
	req.userdata = &r;
	assert_int_equal(tp->create(&ts, NULL), 0);
	assert_int_equal(tp->start(ts, &req), 0);
	for (i = 0; i < 500 && req.status != 101 && !req.done; i++)
		assert_int_equal(tp->wait(ts, 10), 0);
	assert_int_equal(req.status, 101);
	for (i = 0; i < 20 && !req.done; i++) {
		r.this_wait = 0;
		assert_int_equal(tp->wait(ts, 100), 0);
		if (r.this_wait > r.most)
			r.most = r.this_wait;
	}
	assert_false(r.too_much);
	assert_false(req.done);
	/* 64 KiB a step, and the frame it ends in. */
	assert_true(r.most > 0);
	assert_true(r.most <= 64 * 1024 + 2 * 1028);
	tp->cancel(ts, &req);
	tp->destroy(ts);
	server_stop(&s);
}

static void test_close_is_answered(void **state)
{
	server s;
	gkx_config *cfg = NULL;
	gkx_client *c = NULL;
	gkx_config_options o;
	gkx_error err;
	gkx_exec e;
	char path[] = "/tmp/gkx-test-ws-XXXXXX";
	FILE *f;
	int fd;

	(void)state;
	server_start(&s, SERVE_STATUS_AND_CLOSE);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f,
	        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: l\n"
	        "  cluster: {server: \"http://127.0.0.1:%d\"}\ncontexts:\n- name: c\n"
	        "  context: {cluster: l, user: u, namespace: sandbox}\nusers:\n- name: u\n"
	        "  user: {}\n",
	        s.port);
	fclose(f);
	gkx_config_options_init(&o);
	o.kubeconfig = path;
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	unlink(path);
	assert_int_equal(gkx_client_new(&c, cfg, &err), 0);
	assert_int_equal(run_exec(&e, c, &err), 1);
	assert_int_equal(e.exit_code, 0);
	gkx__exec_free(&e);
	server_stop(&s);
	/* The server had our Close, with its code, before we hung up. */
	assert_true(s.close_seen);
	assert_int_equal(s.close_code, 1000);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade_any_case),
		cmocka_unit_test(test_connection_upgrade),
		cmocka_unit_test(test_nothing_after_close),
		cmocka_unit_test(test_close_bodies),
		cmocka_unit_test(test_close_is_not_cut_short),
		cmocka_unit_test(test_read_step_is_bounded),
		cmocka_unit_test(test_write_step_is_bounded),
		cmocka_unit_test(test_flood_returns_each_wait),
		cmocka_unit_test(test_close_is_answered),
	};

	/* The program's part (the library never does it); and no proxy from
	 * the environment for loopback. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	setenv("NO_PROXY", "127.0.0.1", 1);
	setenv("no_proxy", "127.0.0.1", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
