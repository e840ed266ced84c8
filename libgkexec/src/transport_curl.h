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

#endif
