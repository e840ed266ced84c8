/* A WebSocket over libcurl: curl makes the connection (TCP, proxy tunnel,
 * TLS from memory) and hands over the socket; the upgrade and the frames
 * (ws.c) are ours.
 *
 * CURLOPT_CONNECT_ONLY over a connection forced to HTTP/1.1, then
 * curl_easy_send() and curl_easy_recv(): with HTTP/2 negotiated by ALPN,
 * curl_easy_send() crashed, and a WebSocket upgrade is an HTTP/1.1 thing
 * anyway. The handle stays in the multi handle while the socket is in use:
 * curl_multi_remove_handle() closes a connect-only connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport_curl.h"

/* Bounds, as curl bounds its own transfer loop (a few reads, then "call me
 * again"): per stream and per wait at most WS_STEP bytes are read and
 * about as many written (a step stops within the piece that reaches it,
 * and what reading queued goes in one more piece), so that a script printing fast to a slow reader
 * cannot keep the caller from its Ctrl-C, its deadline or its other
 * streams. Writes go in pieces of WS_PIECE (a piece retried after
 * CURLE_AGAIN is never shorter, as TLS wants). What waits to be written
 * is at most GKX_WS_MAX_MESSAGE: a larger send is refused, a pong beyond
 * it not sent (RFC 6455 5.5.3 lets a client answer only the latest ping). */
#define WS_STEP  (64u * 1024u)
#define WS_PIECE (16u * 1024u)

enum { WS_CONNECTING, WS_UPGRADING, WS_OPEN, WS_REFUSED, WS_ENDED };

struct curl_ws {
	int phase;
	curl_socket_t sock;
	char key[25];
	gkx_buf out;         /* bytes to write, in order */
	gkx_buf head;        /* the answer's head while it arrives */
	gkx_http1_head h;    /* and parsed */
	long long body_left; /* a refusal's body still to come; -1: chunked */
	gkx_buf chunked;     /* a chunked refusal, until its last chunk */
	gkx_ws_decoder dec;
	int close_sent, close_received;
	int failed;
	int more_to_read; /* the last step stopped at its cap, not at EAGAIN */
	CURLcode io_error;
};

static void fail(curl_xfer *x, int code, const char *what, const char *detail)
{
	gkx_http_request *req = x->req;

	if (!req->error) {
		/* Cut to fit: the start of a message says what failed. */
		int n = snprintf(req->error_text, sizeof(req->error_text), "%s%s%s", what,
		                 *detail ? ": " : "", detail);
		req->error = n < 0 ? GKX_ERROR : code;
	}
	x->ws->failed = 1;
	x->ws->phase = WS_ENDED;
}

static int queue(curl_xfer *x, int opcode, const void *data, size_t len)
{
	unsigned char mask[4];

	if (len > GKX_WS_MAX_MESSAGE || x->ws->out.len > GKX_WS_MAX_MESSAGE - len)
		return GKX_ETOOBIG;
	if (gkx__random_bytes(mask, sizeof(mask), NULL) < 0)
		return GKX_ERROR;
	return gkx__ws_encode(&x->ws->out, opcode, data, len, mask);
}

/* ---- moving bytes, a step at a time ---- */

int gkx__ws_write_step(gkx_buf *out, const gkx__ws_io *io, size_t budget)
{
	size_t done = 0;
	int rc = 0, full = 0;

	while (!full && done < out->len && done < budget) {
		size_t want = out->len - done < WS_PIECE ? out->len - done : WS_PIECE, n = 0;
		rc = io->send(io->ud, out->ptr + done, want, &n);
		full = rc != 0 || n == 0;
		done += n; /* a partial write: the rest of the piece goes next */
	}
	gkx__buf_consume(out, done);
	if (rc < 0)
		return rc;
	return out->len && !full ? 1 : 0;
}

int gkx__ws_read_step(const gkx__ws_io *io, size_t budget, gkx__ws_bytes_fn on_bytes, void *ud)
{
	char buf[16384];
	size_t got = 0;

	while (got < budget) {
		size_t want = budget - got < sizeof(buf) ? budget - got : sizeof(buf), n = 0;
		int rc = io->recv(io->ud, buf, want, &n);
		if (rc != 0)
			return rc > 0 ? 0 : rc;
		if (n == 0)
			return 2;
		got += n;
		if (on_bytes(ud, buf, n))
			return 0;
	}
	return 1;
}

/* 1: would block; the error is kept for the message. */
static int curl_io_result(curl_xfer *x, CURLcode rc)
{
	if (rc == CURLE_AGAIN)
		return 1;
	if (rc != CURLE_OK) {
		x->ws->io_error = rc;
		return GKX_ETRANSPORT;
	}
	return 0;
}

static int curl_io_send(void *ud, const char *data, size_t len, size_t *n)
{
	curl_xfer *x = ud;

	return curl_io_result(x, curl_easy_send(x->easy, data, len, n));
}

static int curl_io_recv(void *ud, char *buf, size_t len, size_t *n)
{
	curl_xfer *x = ud;

	return curl_io_result(x, curl_easy_recv(x->easy, buf, len, n));
}

/* Frames from the server: pings answered, the rest to the reader. */
static int on_frame(int kind, const char *data, size_t len, void *ud)
{
	curl_xfer *x = ud;
	gkx_http_request *req = x->req;

	if (kind == 9) {
		int rc = queue(x, 10, data, len);
		return rc < 0 && rc != GKX_ETOOBIG; /* too much waiting: no pong */
	}
	if (kind == 10)
		return 0;
	if (kind == GKX_WS_CLOSE) {
		x->ws->close_received = 1;
		if (!x->ws->close_sent) {
			/* Echo the status code, as RFC 6455 asks. */
			x->ws->close_sent = 1;
			if (queue(x, GKX_WS_CLOSE, data, len >= 2 ? 2 : 0) < 0)
				return 1;
		}
	}
	if (req->on_message && req->on_message(kind, data, len, req->userdata)) {
		x->aborted_by_callback = 1;
		return 1;
	}
	return 0;
}

int gkx__curl_ws_begin(curl_state *s, curl_xfer *x)
{
	CURL *e = x->easy;

	x->ws = calloc(1, sizeof(*x->ws));
	if (!x->ws)
		return GKX_ENOMEM;
	x->ws->sock = CURL_SOCKET_BAD;
	x->ws->dec.on_message = on_frame;
	x->ws->dec.ud = x;
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* Its own connection: never the HTTP/2 one the other requests share
	 * (a connect-only connection is not offered to others either). Not
	 * FORBID_REUSE: curl would close it when the "transfer" (the connect)
	 * completes, before we have used it. */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	x->next = s->ws;
	s->ws = x;
	return 0;
}

void gkx__curl_ws_free(curl_state *s, curl_xfer *x)
{
	curl_xfer **p;

	for (p = &s->ws; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			break;
		}
	gkx__buf_free_secret(&x->ws->out); /* the upgrade carried the credential */
	gkx__buf_free(&x->ws->head);
	gkx__buf_free(&x->ws->chunked);
	gkx__ws_decoder_reset(&x->ws->dec);
	free(x->ws);
	x->ws = NULL;
}

void gkx__curl_ws_connected(curl_state *s, curl_xfer *x, CURLcode res)
{
	curl_socket_t sock = CURL_SOCKET_BAD;
	gkx_error err;

	(void)s;
	if (res != CURLE_OK) {
		fail(x, res == CURLE_OPERATION_TIMEDOUT ? GKX_ETIMEOUT : GKX_ETRANSPORT,
		     "connecting", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
		return;
	}
	if (curl_easy_getinfo(x->easy, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK ||
	    sock == CURL_SOCKET_BAD) {
		fail(x, GKX_ETRANSPORT, "no socket after connecting", "");
		return;
	}
	x->ws->sock = sock;
	if (gkx__ws_handshake(&x->ws->out, x->ws->key, x->url ? x->url : x->req->url, x->req,
	                      &err) < 0) {
		fail(x, err.code, err.message, "");
		return;
	}
	x->ws->phase = WS_UPGRADING;
}

unsigned gkx__curl_ws_fds(curl_state *s, struct curl_waitfd *fds, unsigned max)
{
	unsigned n = 0;
	curl_xfer *x;

	for (x = s->ws; x && n < max; x = x->next) {
		if (x->ws->sock == CURL_SOCKET_BAD || x->ws->phase == WS_ENDED)
			continue;
		fds[n].fd = x->ws->sock;
		fds[n].events = CURL_WAIT_POLLIN | (x->ws->out.len ? CURL_WAIT_POLLOUT : 0);
		fds[n].revents = 0;
		n++;
	}
	return n;
}

/* The server has switched protocols: check that it understood us. */
static void upgraded(curl_xfer *x)
{
	gkx_http_request *req = x->req;
	char want[29];
	size_t i;

	/* RFC 6455 4.1, the client's checks of a 101, in its order. */
	if (!x->ws->h.upgrade_websocket) {
		fail(x, GKX_EPROTO, "the server switched protocols without \"Upgrade: websocket\"",
		     "");
		return;
	}
	if (!x->ws->h.connection_upgrade) {
		fail(x, GKX_EPROTO, "the server switched protocols without \"Connection: Upgrade\"",
		     "");
		return;
	}
	if (gkx__ws_accept_for(want, x->ws->key) < 0 || strcmp(want, x->ws->h.accept)) {
		fail(x, GKX_EPROTO, "the server's WebSocket upgrade does not answer our key", "");
		return;
	}
	for (i = 0; i < req->nsubprotocols; i++)
		if (!strcmp(req->subprotocols[i], x->ws->h.protocol))
			break;
	if (i == req->nsubprotocols) {
		fail(x, GKX_EPROTO, "the server chose a WebSocket subprotocol we did not offer",
		     x->ws->h.protocol);
		return;
	}
	snprintf(req->subprotocol, sizeof(req->subprotocol), "%s", x->ws->h.protocol);
	req->status = 101;
	x->ws->phase = WS_OPEN;
}

/* Bytes from the socket, by phase. */
static void received(curl_xfer *x, const char *data, size_t len)
{
	curl_ws *w = x->ws;
	gkx_http_request *req = x->req;
	int rc;

	if (w->phase == WS_UPGRADING) {
		if (gkx__buf_put(&w->head, data, len) < 0) {
			fail(x, GKX_ENOMEM, "out of memory", "");
			return;
		}
		rc = gkx__http1_head(&w->h, w->head.ptr, w->head.len);
		if (rc < 0)
			fail(x, GKX_EPROTO, "the answer to the WebSocket upgrade is not HTTP/1.1",
			     "");
		if (rc <= 0)
			return;
		data = w->head.ptr + w->h.head_len;
		len = w->head.len - w->h.head_len;
		if (w->h.status == 101) {
			upgraded(x);
		} else {
			/* Refused (401, 403, 404, 400): the body is a Status. */
			req->status = w->h.status;
			req->retry_after_s = w->h.retry_after_s;
			w->phase = WS_REFUSED;
			w->body_left = w->h.chunked ? -1 : w->h.content_length;
			/* Neither a length nor chunks: the body ends with the
			 * connection; take at most the error-body cap of it. */
			if (!w->h.chunked && w->h.content_length < 0)
				w->body_left = GKX_STREAM_MAX_ERROR_BODY;
		}
		if (w->phase == WS_ENDED)
			return;
	}
	if (w->phase == WS_REFUSED && w->body_left < 0) {
		/* Chunked: kept whole (a Status is small) until its last chunk. */
		gkx_buf body = GKX_BUF_INIT;
		if (w->chunked.len + len > GKX_STREAM_MAX_ERROR_BODY ||
		    gkx__buf_put(&w->chunked, data, len) < 0) {
			fail(x, GKX_ETOOBIG, "the refusal of the WebSocket upgrade is too long",
			     "");
			return;
		}
		rc = gkx__http1_dechunk(&body, w->chunked.ptr, w->chunked.len);
		if (rc < 0)
			fail(x, GKX_EPROTO, "the refusal's chunked body is not HTTP/1.1", "");
		if (rc == 1) {
			if (body.len && req->on_data &&
			    req->on_data(body.ptr, body.len, req->userdata))
				x->aborted_by_callback = 1;
			w->phase = WS_ENDED;
		}
		gkx__buf_free(&body);
		return;
	}
	if (w->phase == WS_REFUSED) {
		size_t n = (long long)len > w->body_left ? (size_t)w->body_left : len;
		if (n && req->on_data && req->on_data(data, n, req->userdata))
			x->aborted_by_callback = 1;
		w->body_left -= (long long)n;
		if (w->body_left == 0)
			w->phase = WS_ENDED;
		return;
	}
	if (w->phase == WS_OPEN && len) {
		rc = gkx__ws_feed(&w->dec, data, len);
		if (rc == GKX_ECANCELED && x->aborted_by_callback) {
			fail(x, GKX_ETOOBIG, "the stream was refused by its reader", "");
		} else if (rc < 0) {
			fail(x, rc == GKX_ENOMEM ? GKX_ENOMEM : GKX_EPROTO,
			     rc == GKX_ETOOBIG ? "a WebSocket message over its size limit"
			                       : "a WebSocket frame no server may send",
			     "");
		}
	}
}

/* The socket failed: after the server's Close that is just its end. */
static void io_failed(curl_xfer *x)
{
	if (x->ws->close_received) {
		x->ws->phase = WS_ENDED;
		return;
	}
	fail(x, GKX_ETRANSPORT, "WebSocket", curl_easy_strerror(x->ws->io_error));
}

static int on_socket_bytes(void *ud, const char *data, size_t len)
{
	curl_xfer *x = ud;

	received(x, data, len);
	/* After the server's Close nothing more is read: its echo goes first. */
	return x->ws->phase == WS_ENDED || x->ws->close_received;
}

int gkx__curl_ws_progress(curl_state *s, curl_xfer *x)
{
	curl_ws *w = x->ws;
	gkx__ws_io io;
	int rc;

	(void)s;
	io.send = curl_io_send;
	io.recv = curl_io_recv;
	io.ud = x;
	w->more_to_read = 0;
	if (w->phase == WS_CONNECTING)
		return 0;
	if (w->phase != WS_ENDED && gkx__ws_write_step(&w->out, &io, WS_STEP) < 0)
		io_failed(x);
	if (w->phase != WS_ENDED) {
		rc = gkx__ws_read_step(&io, WS_STEP, on_socket_bytes, x);
		if (rc < 0) {
			io_failed(x);
		} else if (rc == 2) {
			/* The server closed the connection: the end of a refusal's
			 * body, or of the stream (whether it sent a close or not). */
			if (w->phase == WS_UPGRADING)
				fail(x, GKX_ETRANSPORT,
				     "the connection closed during the WebSocket upgrade", "");
			w->phase = WS_ENDED;
		} else if (rc == 1 && w->phase != WS_ENDED) {
			/* Capped, not drained: TLS may hold decrypted bytes the
			 * socket no longer shows, so the next wait must not sleep. */
			w->more_to_read = 1;
		}
	}
	/* What reading queued (a pong, the echo of the server's Close) goes
	 * out in this step, before anyone tears the stream down. */
	if (w->phase == WS_OPEN && w->out.len && gkx__ws_write_step(&w->out, &io, WS_PIECE) < 0)
		io_failed(x);
	/* Both sides said close and ours is out: done. */
	if (w->phase == WS_OPEN && w->close_received && w->close_sent && !w->out.len)
		w->phase = WS_ENDED;
	return w->phase == WS_ENDED;
}

int gkx__curl_ws_ready(const curl_state *s)
{
	const curl_xfer *x;

	for (x = s->ws; x; x = x->next)
		if (x->ws->more_to_read && x->ws->phase != WS_ENDED)
			return 1;
	return 0;
}

int gkx__curl_ws_send(curl_xfer *x, int kind, const void *data, size_t len)
{
	curl_ws *w = x->ws;
	gkx__ws_io io;
	int rc;

	if (w->phase != WS_OPEN || w->close_sent)
		return GKX_EINVAL;
	if (kind != GKX_WS_BINARY && kind != GKX_WS_TEXT && kind != GKX_WS_CLOSE)
		return GKX_EINVAL;
	if ((rc = queue(x, kind, data, len)) < 0)
		return rc == GKX_ETOOBIG ? rc : GKX_ENOMEM;
	if (kind == GKX_WS_CLOSE)
		w->close_sent = 1;
	/* A piece now, when the socket takes it; the rest while wait() runs,
	 * a step at a time, so that a large stdin never holds the caller. A
	 * failure here shows in the next wait. */
	io.send = curl_io_send;
	io.recv = curl_io_recv;
	io.ud = x;
	(void)gkx__ws_write_step(&w->out, &io, WS_PIECE);
	return 0;
}
