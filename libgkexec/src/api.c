/* Kubernetes REST calls over the client's transport: URL building, the
 * request/response cycle, and turning a Status body into an error. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "internal.h"

#define API_MAX_RESPONSE      (16u * 1024u * 1024u)
#define API_MAX_ATTEMPTS      5
#define API_MAX_RETRY_AFTER_S 10L

static int put_escaped(gkx_buf *out, const char *s)
{
	/* libcurl's escaper; a NULL handle is allowed since curl 7.82. */
	char *e = curl_easy_escape(NULL, s, 0);
	int rc;

	if (!e)
		return GKX_ENOMEM;
	rc = gkx__buf_puts(out, e);
	curl_free(e);
	return rc;
}

int gkx__api_path(gkx_buf *out, const char *group_version, const char *ns, const char *resource,
                  const char *name, const char *sub)
{
	int core = !strcmp(group_version, "v1");

	if (gkx__buf_printf(out, "/%s/%s", core ? "api" : "apis", group_version) < 0)
		return GKX_ENOMEM;
	if (ns && (gkx__buf_puts(out, "/namespaces/") < 0 || put_escaped(out, ns) < 0))
		return GKX_ENOMEM;
	if (gkx__buf_printf(out, "/%s", resource) < 0)
		return GKX_ENOMEM;
	if (name && (gkx__buf_puts(out, "/") < 0 || put_escaped(out, name) < 0))
		return GKX_ENOMEM;
	if (sub && gkx__buf_printf(out, "/%s", sub) < 0)
		return GKX_ENOMEM;
	return 0;
}

int gkx__api_query(gkx_buf *url, const char *key, const char *value)
{
	const char *sep = (url->ptr && strchr(url->ptr, '?')) ? "&" : "?";

	if (gkx__buf_printf(url, "%s%s=", sep, key) < 0)
		return GKX_ENOMEM;
	return put_escaped(url, value);
}

static int code_for_status(long status)
{
	switch (status) {
	case 401: return GKX_EUNAUTHORIZED;
	case 403: return GKX_EFORBIDDEN;
	case 404: return GKX_ENOTFOUND;
	case 409: return GKX_ECONFLICT;
	case 410: return GKX_EGONE;
	case 413: return GKX_ETOOBIG;
	default: return GKX_EAPI;
	}
}

int gkx__api_status_error(gkx_error *err, long http_status, const char *body, size_t len,
                          const char *what)
{
	int code = code_for_status(http_status);
	cJSON *j = (body && len) ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");

	if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "Status") && cJSON_IsString(msg)) {
		gkx__error_set(err, code, "%s: %s", what, msg->valuestring);
		if (err && cJSON_IsString(reason))
			snprintf(err->reason, sizeof(err->reason), "%s", reason->valuestring);
	} else {
		gkx__error_set(err, code, "%s: the server answered HTTP %ld", what, http_status);
	}
	if (err)
		err->http_status = http_status;
	cJSON_Delete(j);
	return code;
}

double gkx__mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The library's own wrappers around every reader: they count bytes for
 * the trace, then hand them on. */
static int counting_cb(const char *data, size_t len, void *ud)
{
	gkx__request *req = ud;

	req->bytes += len;
	return req->cb ? req->cb(data, len, req->ud) : 0;
}

static int counting_message_cb(int kind, const char *data, size_t len, void *ud)
{
	gkx__request *req = ud;

	req->bytes += len;
	return req->mcb ? req->mcb(kind, data, len, req->ud) : 0;
}

int gkx__api_start(gkx_client *c, gkx__request *req)
{
	req->bytes = 0;
	req->started = gkx__mono_now();
	req->cb = req->http.on_data;
	req->mcb = req->http.on_message;
	req->ud = req->http.userdata;
	req->http.on_data = counting_cb;
	req->http.on_message = req->mcb ? counting_message_cb : NULL;
	req->http.userdata = req;
	if (req->http.nsubprotocols && (c->tp->version < 2 || !c->tp->send))
		return GKX_EINVAL; /* a version 1 transport has no WebSockets */
	c->requests++;
	return c->tp->start(c->tp_state, &req->http);
}

void gkx__api_finished(gkx_client *c, const gkx__request *req, int cancelled)
{
	if (c->trace)
		c->trace(req->http.method, req->http.url, cancelled ? 0 : req->http.status,
		         cancelled ? GKX_ECANCELED : req->http.error, req->bytes,
		         gkx__mono_now() - req->started, c->trace_ud);
}

void gkx_client_set_trace(gkx_client *c, gkx_trace_cb cb, void *userdata)
{
	c->trace = cb;
	c->trace_ud = userdata;
}

static int collect(const char *data, size_t len, void *ud)
{
	gkx_buf *b = ud;

	if (b->len + len > API_MAX_RESPONSE)
		return 1;
	return gkx__buf_put(b, data, len) < 0;
}

static int build_url(gkx_client *c, gkx_buf *url, const char *path_query)
{
	return gkx__buf_printf(url, "%s%s", c->cfg->server, path_query);
}

static void fill_request(gkx_client *c, gkx_http_request *req, const char *method, const char *url)
{
	memset(req, 0, sizeof(*req));
	req->method = method;
	req->url = url;
	req->authorization = c->authorization;
	req->tls = &c->tls;
	req->proxy = c->cfg->proxy_url;
}

static int set_bearer(gkx_client *c, const char *token, gkx_error *err)
{
	gkx_buf h = GKX_BUF_INIT;

	if (gkx__buf_printf(&h, "Bearer %s", token) < 0)
		return gkx__error_oom(err);
	gkx__free_secret(c->authorization);
	c->authorization = h.ptr;
	return 0;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Credentials that change: an exec plugin's, fetched on first use and again
 * when they expire or the server answers 401 (force); a token file, re-read
 * when its modification time changes. */
static int ensure_auth(gkx_client *c, int force, gkx_error *err)
{
	const gkx_config *cfg = c->cfg;
	int rc;

	if (cfg->exec) {
		gkx_exec_cred fresh;
		gkx__exec_limits lim;
		if (c->have_cred && !force && !(c->cred.expiry > 0 && wall_now() >= c->cred.expiry))
			return 0;
		lim.deadline = c->run_deadline;
		lim.cancel = c->cancel;
		if ((rc = gkx__exec_get(&fresh, cfg, &lim, err)) < 0)
			return rc;
		gkx__exec_cred_clear(&c->cred);
		c->cred = fresh;
		c->have_cred = 1;
		if (c->cred.token && (rc = set_bearer(c, c->cred.token, err)) < 0)
			return rc;
		if (c->cred.cert.len) {
			c->tls.cert = (const unsigned char *)c->cred.cert.ptr;
			c->tls.cert_len = c->cred.cert.len;
			c->tls.key = (const unsigned char *)c->cred.key.ptr;
			c->tls.key_len = c->cred.key.len;
		}
		return 0;
	}
	if (cfg->token_file) {
		struct stat st;
		long mtime;
		if (stat(cfg->token_file, &st) < 0)
			return 0; /* keep the token we have; the server will say if it is stale */
		mtime = (long)st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec;
		if (mtime != c->token_mtime_ns || force) {
			char *token = NULL;
			if (gkx__read_token(&token, cfg->token_file, NULL) == 0) {
				rc = *token ? set_bearer(c, token, err) : 0;
				gkx__free_secret(token);
				if (rc < 0)
					return rc;
				c->token_mtime_ns = mtime;
			}
		}
	}
	return 0;
}

/* Let time pass while other streams keep flowing; 0, or GKX_ECANCELED. */
int gkx__api_pause(gkx_client *c, long ms)
{
	while (ms > 0) {
		long slice = ms < 100 ? ms : 100;
		if (gkx__flag_test(c->cancel))
			return GKX_ECANCELED;
		if (c->tp->wait(c->tp_state, (int)slice) < 0) {
			struct timespec ts = { 0, 0 };
			ts.tv_nsec = slice * 1000000L;
			nanosleep(&ts, NULL);
		}
		ms -= slice;
	}
	return 0;
}

/* Whether to send a failed request again. A 429 was refused before the
 * server did anything, so any request may go again; a 5xx or a lost
 * answer may come after the server acted, so only an idempotent one. */
static int retryable(const gkx_http_request *req, gkx__retry policy)
{
	if (!req->error && req->status == 429)
		return 1;
	if (policy != GKX__RETRY_IDEMPOTENT)
		return 0;
	if (req->error)
		return req->error == GKX_ETRANSPORT || req->error == GKX_ETIMEOUT;
	return req->status == 500 || req->status == 502 || req->status == 503 || req->status == 504;
}

/* How long before attempt n+1: the server's Retry-After when it gave one
 * (bounded), else 200 ms doubling. */
static long backoff_ms(const gkx_http_request *req, int attempt)
{
	if (req->retry_after_s > 0)
		return (req->retry_after_s > API_MAX_RETRY_AFTER_S ? API_MAX_RETRY_AFTER_S
		                                                   : req->retry_after_s) *
		       1000L;
	return 200L << attempt;
}

int gkx__api_send(gkx_client *c, gkx__retry policy, const char *method, const char *path_query,
                  const char *content_type, const char *body, gkx_buf *resp, const char *what,
                  gkx_error *err)
{
	gkx__request call;
	gkx_http_request *const req = &call.http;
	gkx_buf url = GKX_BUF_INIT, local = GKX_BUF_INIT;
	gkx_buf *sink = resp ? resp : &local;
	int rc = 0, refreshed = 0, attempt = 0;

	c->last_attempts = 0;
	if (build_url(c, &url, path_query) < 0)
		return gkx__error_oom(err);
	for (;;) {
		if ((rc = ensure_auth(c, refreshed == 1, err)) < 0)
			break;
		if (refreshed == 1)
			refreshed = 2;
		sink->len = 0;
		if (sink->ptr)
			sink->ptr[0] = '\0';
		fill_request(c, req, method, url.ptr);
		req->content_type = content_type;
		req->body = body;
		req->body_len = body ? strlen(body) : 0;
		req->timeout_ms = c->cfg->request_timeout_ms > 0 ? c->cfg->request_timeout_ms
		                                                 : GKX_DEFAULT_REQUEST_TIMEOUT_MS;
		req->on_data = collect;
		req->userdata = sink;
		c->last_attempts++;
		if ((rc = gkx__api_start(c, &call)) < 0) {
			rc = gkx__error_set(err, rc, "%s: cannot start the request", what);
			break;
		}
		while (!req->done && rc == 0) {
			if (gkx__flag_test(c->cancel)) {
				c->tp->cancel(c->tp_state, req);
				rc = gkx__error_set(err, GKX_ECANCELED, "%s: canceled", what);
			} else if ((rc = c->tp->wait(c->tp_state, 100)) < 0) {
				c->tp->cancel(c->tp_state, req);
				gkx__error_set(err, rc, "%s: transport failure", what);
			}
		}
		gkx__api_finished(c, &call, rc < 0);
		if (rc < 0)
			break;
		if (req->status == 401 && !req->error && !refreshed &&
		    (c->cfg->exec || c->cfg->token_file)) {
			/* Once: the credential may have been revoked or rotated early. */
			refreshed = 1;
			continue;
		}
		/* The caller said whether the request may be sent twice (see
		 * gkx__retry): failures that may pass are tried again. */
		if (retryable(req, policy) && attempt + 1 < API_MAX_ATTEMPTS) {
			if ((rc = gkx__api_pause(c, backoff_ms(req, attempt))) < 0) {
				rc = gkx__error_set(err, rc, "%s: canceled", what);
				break;
			}
			attempt++;
			continue;
		}
		if (req->error)
			rc = gkx__error_set(err, req->error, "%s: %s: %s", what, c->cfg->server,
			                    req->error_text);
		else if (req->status < 200 || req->status > 299)
			rc = gkx__api_status_error(err, req->status, sink->ptr, sink->len, what);
		else
			rc = gkx__error_clear_ok(err);
		break;
	}
	gkx__buf_free(&url);
	gkx__buf_free(&local);
	return rc;
}

int gkx__api_call(gkx_client *c, const char *method, const char *path_query,
                  const char *content_type, const char *body, gkx_buf *resp, const char *what,
                  gkx_error *err)
{
	return gkx__api_send(c, GKX__RETRY_IDEMPOTENT, method, path_query, content_type, body, resp,
	                     what, err);
}

int gkx__api_stream_start(gkx_client *c, gkx__request *req, gkx_buf *url, const char *path_query,
                          gkx_data_cb cb, void *ud, gkx_error *err)
{
	int rc;

	if ((rc = ensure_auth(c, 0, err)) < 0)
		return rc;
	if (build_url(c, url, path_query) < 0)
		return gkx__error_oom(err);
	{
		/* What makes it a WebSocket survives the reset of the rest. */
		const char *const *protos = req->http.subprotocols;
		size_t nprotos = req->http.nsubprotocols;
		gkx_message_cb on_message = req->http.on_message;
		fill_request(c, &req->http, "GET", url->ptr);
		req->http.subprotocols = protos;
		req->http.nsubprotocols = nprotos;
		req->http.on_message = on_message;
	}
	req->http.on_data = cb;
	req->http.userdata = ud;
	rc = gkx__api_start(c, req);
	return rc < 0 ? gkx__error_set(err, rc, "cannot start a stream to %s", c->cfg->server) : 0;
}

/* ---- the client handle ---- */

static char *basic_auth(const char *user, const char *pass)
{
	gkx_buf raw = GKX_BUF_INIT, out = GKX_BUF_INIT;
	int rc;

	rc = gkx__buf_printf(&raw, "%s:%s", user, pass) < 0 || gkx__buf_puts(&out, "Basic ") < 0 ||
	     gkx__base64_encode(&out, (const unsigned char *)raw.ptr, raw.len) < 0;
	gkx__buf_free_secret(&raw);
	if (rc) {
		gkx__buf_free_secret(&out);
		return NULL;
	}
	return out.ptr;
}

int gkx_client_new(gkx_client **out, const gkx_config *cfg, gkx_error *err)
{
	gkx_client *c;
	int rc;

	gkx_error_clear(err);
	*out = NULL;
	if (!cfg)
		return gkx__error_set(err, GKX_EINVAL, "no config");
	c = calloc(1, sizeof(*c));
	if (!c)
		return gkx__error_oom(err);
	c->cfg = cfg;
	c->tls.ca = (const unsigned char *)cfg->ca.ptr;
	c->tls.ca_len = cfg->ca.len;
	c->tls.cert = (const unsigned char *)cfg->cert.ptr;
	c->tls.cert_len = cfg->cert.len;
	c->tls.key = (const unsigned char *)cfg->key.ptr;
	c->tls.key_len = cfg->key.len;
	c->tls.server_name = cfg->tls_server_name;
	c->tls.insecure = cfg->insecure;
	if (cfg->token && *cfg->token) {
		if ((rc = set_bearer(c, cfg->token, err)) < 0) {
			gkx_client_free(c);
			return rc;
		}
	} else if (cfg->username && cfg->password) {
		c->authorization = basic_auth(cfg->username, cfg->password);
		if (!c->authorization) {
			gkx_client_free(c);
			return gkx__error_oom(err);
		}
	}
	if ((rc = gkx_client_set_transport(c, gkx_transport_curl(), NULL, err)) < 0) {
		gkx_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* How much of a transport table each version had. */
static const size_t transport_size[] = { 0, offsetof(gkx_transport, send), sizeof(gkx_transport) };

int gkx_client_set_transport(gkx_client *c, const gkx_transport *tp, void *arg, gkx_error *err)
{
	gkx_transport table;
	void *state = NULL;
	int rc;

	gkx_error_clear(err);
	if (!c || !tp)
		return gkx__error_set(err, GKX_EINVAL, "no client or no transport");
	if ((rc = gkx__check_version(tp, GKX_TRANSPORT_VERSION, "gkx_transport", err)) < 0)
		return rc;
	gkx__copy_versioned(&table, sizeof(table), tp, transport_size[tp->version]);
	if (!table.create || !table.start || !table.cancel || !table.wait || !table.destroy)
		return gkx__error_set(err, GKX_EINVAL, "the transport table lacks a function");
	if ((rc = table.create(&state, arg)) < 0)
		return gkx__error_set(err, rc, "cannot create the transport");
	if (c->tp)
		c->tp->destroy(c->tp_state);
	c->tp_table = table;
	c->tp = &c->tp_table;
	c->tp_state = state;
	return 0;
}

void gkx_client_free(gkx_client *c)
{
	if (!c)
		return;
	if (c->tp)
		c->tp->destroy(c->tp_state);
	gkx__free_secret(c->authorization);
	gkx__exec_cred_clear(&c->cred);
	free(c);
}

const gkx_config *gkx_client_config(const gkx_client *c) { return c->cfg; }
