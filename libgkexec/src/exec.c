/* A command in a running pod, over the API server's pods/exec WebSocket:
 * the remote command protocol of Kubernetes, channel.k8s.io.
 *
 * Every message is binary and starts with a channel byte: 0 stdin (ours),
 * 1 stdout, 2 stderr, 3 the status (a metav1.Status, JSON, sent once when
 * the command ends), 4 terminal resizes (unused). We offer
 * v5.channel.k8s.io (Kubernetes 1.30 and later), which lets the client
 * close stdin with the message [255, 0], and v4.channel.k8s.io (every
 * version since 1.4), which cannot: with v4 whatever reads stdin must know
 * where the input ends by itself (warm.c sends a length first).
 *
 * The command line is in the URL (the API server's audit log sees it), so
 * it never carries user data: the code, files, arguments and environment
 * go in on stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CH_STDIN      0
#define CH_STDOUT     1
#define CH_STDERR     2
#define CH_STATUS     3
#define CH_CLOSE      255
#define STDIN_PART    (32u * 1024u) /* stdin goes in messages of at most this */
#define CLOSE_GRACE_S 1.0           /* for the transport to end a closed stream */

static const char *const protocols[] = { "v5.channel.k8s.io", "v4.channel.k8s.io" };

int gkx__exec_parse_status(const char *json, size_t len, int *exit_code, char *message,
                           size_t message_len)
{
	cJSON *j = cJSON_ParseWithLength(json, len);
	const char *status = gkx__json_str(j, "status", GKX__END);
	const char *reason = gkx__json_str(j, "reason", GKX__END);
	const char *msg = gkx__json_str(j, "message", GKX__END);
	const cJSON *cause;
	int rc = GKX_EPROTO;

	*exit_code = -1;
	if (message_len)
		message[0] = '\0';
	if (!j || !status) {
		rc = GKX_EPROTO;
	} else if (!strcmp(status, "Success")) {
		*exit_code = 0;
		rc = 0;
	} else if (reason && !strcmp(reason, "NonZeroExitCode")) {
		cJSON_ArrayForEach (cause, gkx__json_at(j, "details", "causes", GKX__END)) {
			const char *type = gkx__json_str(cause, "reason", GKX__END);
			const char *value = gkx__json_str(cause, "message", GKX__END);
			char *end;
			long v;
			if (!type || strcmp(type, "ExitCode") || !value)
				continue;
			v = strtol(value, &end, 10);
			if (end != value && !*end && v >= 0 && v <= 255) {
				*exit_code = (int)v;
				rc = 0;
			}
		}
	} else {
		/* The command could not run: the container is gone, the
		 * executable does not exist, ... */
		rc = GKX_EAPI;
	}
	if (msg && message_len)
		snprintf(message, message_len, "%s", msg);
	cJSON_Delete(j);
	return rc;
}

static int on_body(const char *data, size_t len, void *ud)
{
	gkx_exec *e = ud;
	size_t room = GKX_STREAM_MAX_ERROR_BODY - e->errbody.len;

	if (e->errbody.len >= GKX_STREAM_MAX_ERROR_BODY)
		return 0;
	return gkx__buf_put(&e->errbody, data, len < room ? len : room) < 0;
}

static int on_message(int kind, const char *data, size_t len, void *ud)
{
	gkx_exec *e = ud;

	if (kind == GKX_WS_CLOSE) {
		e->closed = 1;
		return 0;
	}
	if (kind != GKX_WS_BINARY || len == 0)
		return 0; /* the (unused) base64 protocols' text, or a channel announcement */
	switch ((unsigned char)data[0]) {
	case CH_STDOUT: return len > 1 && e->on_stdout ? e->on_stdout(data + 1, len - 1, e->ud) : 0;
	case CH_STDERR: return len > 1 && e->on_stderr ? e->on_stderr(data + 1, len - 1, e->ud) : 0;
	case CH_STATUS:
		/* Kept whole: one Status, sent once, may come in several parts. */
		if (e->status.len + len - 1 > GKX_STREAM_MAX_ERROR_BODY)
			return 1;
		return gkx__buf_put(&e->status, data + 1, len - 1) < 0;
	default: return 0;
	}
}

int gkx__exec_start(gkx_exec *e, gkx_client *c, const char *ns, const char *pod,
                    const char *container, const char *const *argv, size_t argc, gkx_error *err)
{
	gkx_buf pq = GKX_BUF_INIT;
	size_t i;
	int rc = 0;

	e->client = c;
	e->exit_code = -1;
	if (gkx__api_path(&pq, "v1", ns, "pods", pod, "exec") < 0 ||
	    gkx__api_query(&pq, "container", container) < 0 ||
	    gkx__api_query(&pq, "stdin", "true") < 0 || gkx__api_query(&pq, "stdout", "true") < 0 ||
	    gkx__api_query(&pq, "stderr", "true") < 0)
		rc = gkx__error_oom(err);
	for (i = 0; rc == 0 && i < argc; i++)
		if (gkx__api_query(&pq, "command", argv[i]) < 0)
			rc = gkx__error_oom(err);
	if (rc == 0) {
		e->req.http.subprotocols = protocols;
		e->req.http.nsubprotocols = sizeof(protocols) / sizeof(*protocols);
		e->req.http.on_message = on_message;
		rc = gkx__api_stream_start(c, &e->req, &e->url, pq.ptr, on_body, e, err);
	}
	gkx__buf_free(&pq);
	e->active = rc == 0;
	return rc;
}

int gkx__exec_protocol(const gkx_exec *e)
{
	if (e->req.http.status != 101)
		return 0;
	if (!strcmp(e->req.http.subprotocol, "v5.channel.k8s.io"))
		return 5;
	if (!strcmp(e->req.http.subprotocol, "v4.channel.k8s.io"))
		return 4;
	return 0;
}

/* A transport refuses to send on a stream that has ended: here that is a
 * connection that dropped (or a server that closed it) under us, not a
 * caller's mistake. */
static int sent(const gkx_exec *e, int rc)
{
	return rc == GKX_EINVAL && e->req.http.done ? GKX_ETRANSPORT : rc;
}

int gkx__exec_write(gkx_exec *e, const char *data, size_t len)
{
	gkx_buf msg = GKX_BUF_INIT;
	int rc = 0;

	/* Parts of 32 KiB: the server reads stdin message by message. */
	while (rc == 0 && len) {
		size_t n = len < STDIN_PART ? len : STDIN_PART;
		char ch = CH_STDIN;
		msg.len = 0;
		if (gkx__buf_put(&msg, &ch, 1) < 0 || gkx__buf_put(&msg, data, n) < 0)
			rc = GKX_ENOMEM;
		else
			rc = sent(e, e->client->tp->send(e->client->tp_state, &e->req.http,
			                                 GKX_WS_BINARY, msg.ptr, msg.len));
		data += n;
		len -= n;
	}
	gkx__buf_free_secret(&msg); /* the code may be somebody's secret */
	return rc;
}

int gkx__exec_close_stdin(gkx_exec *e)
{
	static const char close_stdin[2] = { (char)CH_CLOSE, CH_STDIN };

	if (gkx__exec_protocol(e) < 5)
		return 0; /* v4 has no way to say it */
	return sent(e, e->client->tp->send(e->client->tp_state, &e->req.http, GKX_WS_BINARY,
	                                   close_stdin, sizeof(close_stdin)));
}

int gkx__exec_step(gkx_exec *e, gkx_error *err)
{
	gkx_http_request *q = &e->req.http;
	int rc;

	if (!e->active)
		return e->finished;
	if (!q->done && !(e->status.len && e->closed))
		return 0;
	if (!q->done) {
		/* The status and the server's Close arrived: that is the end,
		 * but the transport answers the Close before it ends the stream
		 * (RFC 6455 5.5.1), within a wait or two; cancelling now would
		 * drop that answer. One that never ends it is cut off. */
		double now = gkx__mono_now();
		if (e->closed_at <= 0)
			e->closed_at = now;
		if (now - e->closed_at < CLOSE_GRACE_S)
			return 0;
		e->client->tp->cancel(e->client->tp_state, q);
	}
	e->active = 0;
	e->finished = 1;
	gkx__api_finished(e->client, &e->req, 0);
	if (q->status != 101) {
		if (q->error)
			return gkx__error_set(err, q->error, "exec in the pod: %s", q->error_text);
		return gkx__api_status_error(err, q->status, e->errbody.ptr, e->errbody.len,
		                             "exec in the pod");
	}
	if (!e->status.len)
		return gkx__error_set(err, q->error ? q->error : GKX_ETRANSPORT,
		                      "the exec stream ended without the command's status%s%s",
		                      q->error ? ": " : "", q->error ? q->error_text : "");
	rc = gkx__exec_parse_status(e->status.ptr, e->status.len, &e->exit_code, e->message,
	                            sizeof(e->message));
	if (rc == GKX_EPROTO)
		return gkx__error_set(err, rc, "the exec status is not a Status: %.*s",
		                      (int)(e->status.len < 200 ? e->status.len : 200),
		                      e->status.ptr);
	if (rc < 0)
		return gkx__error_set(err, rc, "exec in the pod: %s", e->message);
	return 1;
}

void gkx__exec_stop(gkx_exec *e)
{
	if (e->active && !e->req.http.done) {
		e->client->tp->cancel(e->client->tp_state, &e->req.http);
		gkx__api_finished(e->client, &e->req, 1);
	}
	e->active = 0;
}

void gkx__exec_free(gkx_exec *e)
{
	gkx__exec_stop(e);
	gkx__buf_free(&e->url);
	gkx__buf_free(&e->errbody);
	gkx__buf_free(&e->status);
}
