/* The script's output. While the container runs, its log is followed. If
 * the watch reports the container's end first, the finished log is fetched
 * instead (the kubelet notices the end of a followed log only at its next
 * check, up to a second later). Each request starts at the log's beginning
 * and skips the bytes already delivered: a dropped stream resumes without
 * repeating. Logs are read with timestamps (see log_stream.c), so that an
 * error the node appends to the body never passes for output. */
#include <stdio.h>
#include <string.h>

#include "run_internal.h"

#define LOG_MAX_FAILURES 5

/* Output to the reader, and to what the result keeps. */
static int give(gkx_run *r, const char *data, size_t len)
{
	return gkx__run_give(r, &r->cap_out, r->on_output, r->output_ud, data, len);
}

/* The wrapper's end marker (see manifest.c) is taken out of the output:
 * everything before it is output; bytes that may still turn out to begin
 * it wait in `hold`; its digits are the script's exit status. A marker
 * without digits and a newline is output like any other text. */
static int filter(gkx_run *r, const char *data, size_t len)
{
	gkx_buf *h = &r->hold;
	const char *m = r->end_marker;
	size_t ml = strlen(m);

	if (r->marker_seen || !len)
		return 0; /* after the marker only the shell's exit remains */
	if (!ml)
		return give(r, data, len);
	if (gkx__buf_put(h, data, len) < 0)
		return 1;
	for (;;) {
		const char *p = NULL;
		size_t at, d, keep, i;

		for (i = 0; i + ml <= h->len; i++)
			if (h->ptr[i] == m[0] && !memcmp(h->ptr + i, m, ml)) {
				p = h->ptr + i;
				break;
			}
		if (!p) {
			/* Keep the longest tail that could begin the marker. */
			for (keep = h->len < ml - 1 ? h->len : ml - 1; keep; keep--)
				if (!memcmp(h->ptr + h->len - keep, m, keep))
					break;
			if (give(r, h->ptr, h->len - keep))
				return 1;
			gkx__buf_consume(h, h->len - keep);
			return 0;
		}
		at = (size_t)(p - h->ptr);
		for (d = at + ml;
		     d < h->len && d - at - ml < 3 && h->ptr[d] >= '0' && h->ptr[d] <= '9'; d++)
			;
		if (d == h->len) { /* its digits or its newline are still to come */
			if (give(r, h->ptr, at))
				return 1;
			gkx__buf_consume(h, at);
			return 0;
		}
		if (d > at + ml && h->ptr[d] == '\n') {
			int code = 0;
			for (i = at + ml; i < d; i++)
				code = code * 10 + (h->ptr[i] - '0');
			if (give(r, h->ptr, at))
				return 1;
			r->marker_seen = 1;
			r->marker_exit = code;
			gkx__buf_free(h);
			return 0;
		}
		/* Not the marker after all: its first byte is output. */
		if (give(r, h->ptr, at + 1))
			return 1;
		gkx__buf_consume(h, at + 1);
	}
}

/* The container's bytes, in order, from one request's start. */
static int deliver(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;
	size_t skip = 0, fresh;

	if (r->seen < r->delivered)
		skip = r->delivered - r->seen < len ? r->delivered - r->seen : len;
	r->seen += len;
	fresh = len - skip;
	/* `delivered` counts the log bytes consumed (output, held or dropped
	 * past --limit-bytes), so that a resumed stream skips exactly those. */
	if (filter(r, data + skip, fresh))
		return 1;
	r->delivered += fresh;
	return 0;
}

int gkx__run_log_data(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;

	if (r->log.req.http.status != 200)
		return gkx__run_error_body(&r->log, data, len);
	return gkx__log_parse(&r->logp, data, len, deliver, r) != 0;
}

void gkx__run_log_reset(gkx_run *r)
{
	r->seen = 0;
	gkx__log_parser_reset(&r->logp);
	gkx__buf_free(&r->log.errbody);
}

int gkx__run_log_finish(gkx_run *r)
{
	int rc = gkx__log_parse_end(&r->logp);

	if (rc < 0)
		return rc;
	if (rc) {
		/* The node's words: kept as the failed request's body. */
		gkx__buf_free(&r->log.errbody);
		if (gkx__buf_put(&r->log.errbody, r->logp.foreign.ptr, r->logp.foreign.len) < 0)
			return GKX_ENOMEM;
		return 1;
	}
	return 0;
}

int gkx__run_log_flush(gkx_run *r)
{
	int rc = gkx__log_parse_flush(&r->logp, r->pod_deleted, deliver, r);

	/* The log ended without the marker (a deadline, a kill): what may
	 * have begun it was output after all. */
	if (r->hold.len && !r->marker_seen && give(r, r->hold.ptr, r->hold.len))
		rc = 1;
	gkx__buf_free(&r->hold);
	return rc;
}

static int start_log(gkx_run *r, int follow)
{
	gkx_buf pq = GKX_BUF_INIT;
	int rc;

	gkx__run_log_reset(r);
	r->log_final = !follow;
	gkx__buf_free(&r->log.url);
	if (gkx__api_path(&pq, "v1", r->ns, "pods", r->pod, "log") < 0 ||
	    gkx__api_query(&pq, "container", "sandbox") < 0 ||
	    gkx__api_query(&pq, "timestamps", "true") < 0 ||
	    (follow && gkx__api_query(&pq, "follow", "true") < 0)) {
		rc = gkx__error_oom(r->err);
	} else {
		rc = gkx__api_stream_start(r->client, &r->log.req, &r->log.url, pq.ptr,
		                           gkx__run_log_data, r, r->err);
	}
	gkx__buf_free(&pq);
	r->log.active = rc == 0;
	return rc;
}

int gkx__run_log_step(gkx_run *r)
{
	if (r->log.active && r->log.req.http.done) {
		gkx_http_request *q = &r->log.req.http;
		int ok = q->status == 200 && !q->error, foreign = 0;
		r->log.active = 0;
		gkx__api_finished(r->client, &r->log.req, 0);
		if (ok) {
			int rc = gkx__run_log_finish(r);
			if (rc < 0)
				return gkx__error_oom(r->err);
			foreign = rc == 1;
			ok = !foreign;
		}
		if (r->out_aborted)
			return gkx__error_set(r->err, GKX_ECANCELED,
			                      "the output reader stopped the run");
		if (ok) {
			/* The kubelet ends a followed log only once the container has
			 * stopped, so a follow that ends cleanly holds the whole log,
			 * even if the watch has not reported the end yet (the kubelet
			 * updates the pod's status up to a second later). A cut
			 * connection is an error, not a clean end, and is resumed. */
			r->log_complete = 1;
		} else if (r->log_final && (r->pod_deleted || r->term_from_pod) &&
		           (q->status == 404 || q->status == 400 || foreign)) {
			/* The pod, and its log, are gone; or the kubelet evicted it,
			 * and its container (400: "not available") with it. */
			r->log_complete = 1;
		} else {
			/* Not ready yet (400 while the container starts), or dropped:
			 * try again, a bounded number of times. */
			if (++r->log_failures > LOG_MAX_FAILURES) {
				if (q->error)
					return gkx__error_set(r->err, q->error,
					                      "reading the log of %s: %s", r->pod,
					                      q->error_text);
				if (foreign)
					return gkx__error_set(
					        r->err, GKX_EAPI,
					        "reading the log of %s: the node said: %.*s",
					        r->pod,
					        (int)(r->log.errbody.len < 512 ? r->log.errbody.len
					                                       : 512),
					        r->log.errbody.ptr);
				return gkx__api_status_error(r->err, q->status, r->log.errbody.ptr,
				                             r->log.errbody.len, "reading the log");
			}
			if (gkx__api_pause(r->client, 100L << r->log_failures) < 0)
				return gkx__error_set(r->err, GKX_ECANCELED, "interrupted");
		}
	}
	if (r->log_complete)
		return 0;
	if (r->pod_deleted && r->cstate != C_TERMINATED) {
		/* Deleted while it ran (the deadline): once, without following,
		 * what the node still has; a follow would only fail again. */
		if (r->cstate == C_RUNNING && !r->log.active && !r->log_final && r->pod[0])
			return start_log(r, 0) < 0 ? r->err->code : 0;
		return 0;
	}
	if (r->cstate == C_RUNNING && !r->log.active && r->pod[0])
		return start_log(r, 1) < 0 ? r->err->code : 0;
	if (r->cstate == C_TERMINATED && (!r->log.active || !r->log_final)) {
		gkx__run_stop_stream(r, &r->log);
		return start_log(r, 0) < 0 ? r->err->code : 0;
	}
	return 0;
}
