/* The default transport: libcurl's multi interface, so that a pod watch and
 * a log stream (or several runs) progress together in one thread. TLS
 * material is handed to curl from memory; nothing touches the disk.
 * WebSockets (the exec stream) are in transport_curl_ws.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport_curl.h"

#define MAX_WS_FDS 64

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	curl_xfer *x = ud;
	size_t n = size * nmemb;

	/* Readers decide from the status whether the bytes are data or a Status. */
	if (!x->req->status)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->req->status);
	if (x->req->on_data && x->req->on_data(ptr, n, x->req->userdata)) {
		x->aborted_by_callback = 1;
		return 0; /* tells curl to stop */
	}
	return n;
}

static int t_create(void **state, void *arg)
{
	curl_state *s = calloc(1, sizeof(*s));

	(void)arg;
	if (!s)
		return GKX_ENOMEM;
	s->multi = curl_multi_init();
	if (!s->multi) {
		free(s);
		return GKX_ENOMEM;
	}
	*state = s;
	return 0;
}

static void xfer_free(curl_state *s, curl_xfer *x)
{
	if (!x)
		return;
	if (x->ws)
		gkx__curl_ws_free(s, x);
	if (x->easy)
		curl_easy_cleanup(x->easy);
	/* The header list holds the Authorization value: clear it first. */
	{
		struct curl_slist *h;
		for (h = x->headers; h; h = h->next)
			gkx__memzero(h->data, strlen(h->data));
	}
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
	curl_free(x->url);
	free(x);
}

static int add_header(curl_xfer *x, const char *name, const char *value)
{
	gkx_buf h = GKX_BUF_INIT;
	struct curl_slist *l;

	if (gkx__buf_printf(&h, "%s: %s", name, value) < 0)
		return GKX_ENOMEM;
	l = curl_slist_append(x->headers, h.ptr);
	gkx__buf_free_secret(&h);
	if (!l)
		return GKX_ENOMEM;
	x->headers = l;
	return 0;
}

static int set_tls(CURL *e, const gkx_tls *tls)
{
	struct curl_blob blob;

	if (!tls)
		return 0;
	if (tls->ca && tls->ca_len) {
		blob.data = (void *)tls->ca;
		blob.len = tls->ca_len;
		blob.flags = CURL_BLOB_COPY;
		if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK)
			return GKX_ETRANSPORT;
	}
	if (tls->cert && tls->cert_len && tls->key && tls->key_len) {
		blob.data = (void *)tls->cert;
		blob.len = tls->cert_len;
		blob.flags = CURL_BLOB_COPY;
		if (curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob) != CURLE_OK ||
		    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK)
			return GKX_ETRANSPORT;
		blob.data = (void *)tls->key;
		blob.len = tls->key_len;
		if (curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob) != CURLE_OK ||
		    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK)
			return GKX_ETRANSPORT;
	}
	if (tls->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return 0;
}

/* tls-server-name: curl takes the name to send in SNI and to verify from the
 * URL, so the URL names it and CURLOPT_CONNECT_TO sends the connection to
 * the real host. */
static int set_server_name(curl_xfer *x, const char *url, const char *name)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	gkx_buf rule = GKX_BUF_INIT;
	int rc = GKX_ETRANSPORT;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &x->url, 0) != CURLUE_OK ||
	    gkx__buf_printf(&rule, "%s:%s:%s:%s", name, port, host, port) < 0)
		goto out;
	x->connect_to = curl_slist_append(NULL, rule.ptr);
	if (!x->connect_to)
		goto out;
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_CONNECT_TO, x->connect_to);
	rc = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	gkx__buf_free(&rule);
	return rc;
}

static int t_start(void *state, gkx_http_request *req)
{
	curl_state *s = state;
	curl_xfer *x = calloc(1, sizeof(*x));
	CURL *e;

	if (!x)
		return GKX_ENOMEM;
	x->req = req;
	req->done = 0;
	req->status = 0;
	req->error = 0;
	req->retry_after_s = 0;
	req->error_text[0] = '\0';
	e = x->easy = curl_easy_init();
	if (!e) {
		free(x);
		return GKX_ENOMEM;
	}
	req->subprotocol[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Without proxy-url, curl honours HTTPS_PROXY and NO_PROXY as kubectl does. */
	if (req->proxy)
		curl_easy_setopt(e, CURLOPT_PROXY, req->proxy);
	if (set_tls(e, req->tls) < 0 ||
	    (req->tls && req->tls->server_name && *req->tls->server_name &&
	     set_server_name(x, req->url, req->tls->server_name) < 0)) {
		xfer_free(s, x);
		return GKX_ETRANSPORT;
	}
	if (req->nsubprotocols) {
		/* curl connects (TLS included); the upgrade is ours. */
		if (gkx__curl_ws_begin(s, x) < 0) {
			xfer_free(s, x);
			return GKX_ETRANSPORT;
		}
	} else {
		size_t i;
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
		curl_easy_setopt(e, CURLOPT_USERAGENT,
		                 "kubectl-sandbox-run/" GKX_VERSION " (libgkexec)");
		/* The API server speaks HTTP/2 over TLS; one connection carries
		 * every stream of the run. */
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
		if (req->timeout_ms > 0)
			curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
		if (req->body) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		}
		if (add_header(x, "Accept", "application/json") < 0 ||
		    (req->content_type && add_header(x, "Content-Type", req->content_type) < 0) ||
		    (req->authorization &&
		     add_header(x, "Authorization", req->authorization) < 0)) {
			xfer_free(s, x);
			return GKX_ETRANSPORT;
		}
		for (i = 0; i < req->nheaders; i++)
			if (add_header(x, req->headers[i].name, req->headers[i].value) < 0) {
				xfer_free(s, x);
				return GKX_ETRANSPORT;
			}
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	}
	if (curl_multi_add_handle(s->multi, e) != CURLM_OK) {
		xfer_free(s, x);
		return GKX_ETRANSPORT;
	}
	req->transport_data = x;
	return 0;
}

static void finish(curl_state *s, curl_xfer *x, CURLcode res)
{
	gkx_http_request *req = x->req;
	long status = 0;

	curl_off_t retry_after = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	req->status = status;
	/* curl parses Retry-After, both as seconds and as an HTTP date. */
	if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK)
		req->retry_after_s = (long)retry_after;
	if (res != CURLE_OK && !(res == CURLE_WRITE_ERROR && x->aborted_by_callback)) {
		req->error = res == CURLE_OPERATION_TIMEDOUT ? GKX_ETIMEOUT : GKX_ETRANSPORT;
		snprintf(req->error_text, sizeof(req->error_text), "%s",
		         x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	} else if (x->aborted_by_callback) {
		req->error = GKX_ETOOBIG;
		snprintf(req->error_text, sizeof(req->error_text),
		         "the response was refused by its reader");
	}
	curl_multi_remove_handle(s->multi, x->easy);
	req->transport_data = NULL;
	req->done = 1;
	xfer_free(s, x);
}

static void t_cancel(void *state, gkx_http_request *req)
{
	curl_state *s = state;
	curl_xfer *x = req->transport_data;

	if (!x)
		return;
	curl_multi_remove_handle(s->multi, x->easy);
	req->transport_data = NULL;
	xfer_free(s, x);
}

/* A WebSocket that has ended: its connection goes with its handle. */
static void ws_finish(curl_state *s, curl_xfer *x)
{
	x->req->done = 1;
	x->req->transport_data = NULL;
	curl_multi_remove_handle(s->multi, x->easy);
	xfer_free(s, x);
}

static int t_wait(void *state, int timeout_ms)
{
	curl_state *s = state;
	struct curl_waitfd fds[MAX_WS_FDS];
	unsigned nfds = gkx__curl_ws_fds(s, fds, MAX_WS_FDS);
	int running = 0, left = 0;
	curl_xfer *x, *next;
	CURLMsg *m;

	/* Poll first (curl shortens the wait to its own timers), then move data:
	 * the caller sees what arrived as soon as this returns. */
	if (gkx__curl_ws_ready(s))
		timeout_ms = 0;
	if (curl_multi_poll(s->multi, nfds ? fds : NULL, nfds, timeout_ms, NULL) != CURLM_OK ||
	    curl_multi_perform(s->multi, &running) != CURLM_OK)
		return GKX_ETRANSPORT;
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg == CURLMSG_DONE) {
			x = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			if (x->ws)
				gkx__curl_ws_connected(s, x, m->data.result);
			else
				finish(s, x, m->data.result);
		}
	}
	/* A WebSocket's bytes move outside curl's transfer, on its socket. */
	for (x = s->ws; x; x = next) {
		next = x->next;
		if (gkx__curl_ws_progress(s, x))
			ws_finish(s, x);
	}
	return 0;
}

static int t_send(void *state, gkx_http_request *req, int kind, const void *data, size_t len)
{
	curl_xfer *x = req->transport_data;

	(void)state;
	if (!x || !x->ws)
		return GKX_EINVAL;
	return gkx__curl_ws_send(x, kind, data, len);
}

static void t_destroy(void *state)
{
	curl_state *s = state;

	if (!s)
		return;
	curl_multi_cleanup(s->multi);
	free(s);
}

static const gkx_transport curl_transport = {
	GKX_TRANSPORT_VERSION, t_create, t_start, t_cancel, t_wait, t_destroy, t_send,
};

const gkx_transport *gkx_transport_curl(void) { return &curl_transport; }
