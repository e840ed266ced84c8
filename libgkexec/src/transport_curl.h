/* The libcurl transport's insides, shared by its HTTP part
 * (transport_curl.c) and its WebSocket part (transport_curl_ws.c). */
#ifndef GKEXEC_TRANSPORT_CURL_H
#define GKEXEC_TRANSPORT_CURL_H

#include <curl/curl.h>

#include "internal.h"

typedef struct curl_ws curl_ws;

typedef struct curl_xfer {
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	char *url; /* the URL as sent, when tls-server-name rewrote it */
	gkx_http_request *req;
	char errbuf[CURL_ERROR_SIZE];
	int aborted_by_callback;
	curl_ws *ws;            /* a WebSocket: its connection, else NULL */
	struct curl_xfer *next; /* in curl_state.ws */
} curl_xfer;

typedef struct {
	CURLM *multi;
	curl_xfer *ws; /* the open WebSockets, whose sockets wait() polls too */
} curl_state;

/* The WebSocket part. ws_begin() after the easy handle is set up;
 * ws_connected() when the multi says the connection is up (or failed);
 * ws_fds() adds what to poll; ws_progress() moves bytes after a poll and
 * returns 1 when the request has ended; ws_free() releases the part. */
int gkx__curl_ws_begin(curl_state *s, curl_xfer *x);
void gkx__curl_ws_connected(curl_state *s, curl_xfer *x, CURLcode res);
unsigned gkx__curl_ws_fds(curl_state *s, struct curl_waitfd *fds, unsigned max);
int gkx__curl_ws_progress(curl_state *s, curl_xfer *x);
int gkx__curl_ws_send(curl_xfer *x, int kind, const void *data, size_t len);
void gkx__curl_ws_free(curl_state *s, curl_xfer *x);
/* 1 when a WebSocket stopped reading at its cap: the next wait must not
 * sleep, as bytes may be waiting where poll cannot see them. */
int gkx__curl_ws_ready(const curl_state *s);

/* The byte-moving steps, over a table so that tests can stand in for the
 * socket. send and recv return 0 with *n set (recv: 0 bytes is the peer's
 * end), 1 when the socket would block, or a GKX_E* code. */
typedef struct gkx__ws_io {
	int (*send)(void *ud, const char *data, size_t len, size_t *n);
	int (*recv)(void *ud, char *buf, size_t len, size_t *n);
	void *ud;
} gkx__ws_io;
/* Non-zero from it: stop reading (the stream ended). */
typedef int (*gkx__ws_bytes_fn)(void *ud, const char *data, size_t len);
/* Write from the start of out, in pieces, until `budget` bytes are out
 * (less than a piece more at most); what was written is consumed, partial
 * writes included. 1 when bytes remain and the
 * socket took all it was offered (the budget ran out), 0 when all is out or
 * the socket is full, or the send's GKX_E* code. */
int gkx__ws_write_step(gkx_buf *out, const gkx__ws_io *io, size_t budget);
/* Read at most `budget` bytes, each piece to on_bytes: 0 when the socket
 * has no more (or on_bytes stopped), 1 when the budget ran out first, 2 at
 * the peer's end, or the recv's GKX_E* code. */
int gkx__ws_read_step(const gkx__ws_io *io, size_t budget, gkx__ws_bytes_fn on_bytes, void *ud);

#endif
