/* What the cluster says about the run: one watch on the Job's pod (resumed
 * from its last resourceVersion when it closes, relisted after a 410), and
 * the Job's events while no pod exists. */
#include <stdio.h>
#include <string.h>

#include "run_internal.h"

#define EVENT_CHECK_AFTER_S 3.0 /* a pod normally exists well before this */
#define EVENT_CHECK_EVERY_S 2.0
#define WATCH_MAX_FAILURES  5

static void copy_str(char *dst, size_t n, const cJSON *j)
{
	snprintf(dst, n, "%s", cJSON_IsString(j) ? j->valuestring : "");
}

static void note_scheduling(gkx_run *r, const cJSON *pod)
{
	const cJSON *c;

	cJSON_ArrayForEach (c, gkx__json_at(pod, "status", "conditions", GKX__END)) {
		const char *type = gkx__json_str(c, "type", GKX__END);
		const char *status = gkx__json_str(c, "status", GKX__END);
		if (type && status && !strcmp(type, "PodScheduled") && !strcmp(status, "False"))
			snprintf(r->sched_message, sizeof(r->sched_message), "%s: %s",
			         gkx__json_str(c, "reason", GKX__END)
			                 ? cJSON_GetStringValue(
			                           cJSON_GetObjectItemCaseSensitive(c, "reason"))
			                 : "Unschedulable",
			         gkx__json_str(c, "message", GKX__END)
			                 ? cJSON_GetStringValue(
			                           cJSON_GetObjectItemCaseSensitive(c, "message"))
			                 : "");
	}
}

static int owned_by_job(const gkx_run *r, const cJSON *pod)
{
	const cJSON *ref;

	if (!r->job_uid)
		return 0;
	cJSON_ArrayForEach (ref, gkx__json_at(pod, "metadata", "ownerReferences", GKX__END)) {
		const char *uid = gkx__json_str(ref, "uid", GKX__END);
		if (uid && !strcmp(uid, r->job_uid) &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")))
			return 1;
	}
	return 0;
}

static int on_pod_event(const char *type, cJSON *pod, void *ud)
{
	gkx_run *r = ud;
	const cJSON *cs, *state;
	gkx__pod_end end;
	const char *rv = gkx__json_str(pod, "metadata", "resourceVersion", GKX__END);

	if (!strcmp(type, "ERROR")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(pod, "code");
		return cJSON_IsNumber(code) && code->valueint == 410 ? GKX_EGONE : GKX_EPROTO;
	}
	r->watch_failures = 0;
	if (rv)
		snprintf(r->rv, sizeof(r->rv), "%s", rv);
	if (!strcmp(type, "BOOKMARK"))
		return 0;
	/* A run that execs into its pod takes only the pod its own Job made:
	 * anyone who may create pods can label one with the Job's name. */
	if (r->via_exec && !owned_by_job(r, pod))
		return 0;
	copy_str(r->pod, sizeof(r->pod), gkx__json_at(pod, "metadata", "name", GKX__END));
	if (!strcmp(type, "DELETED") ||
	    gkx__json_at(pod, "metadata", "deletionTimestamp", GKX__END))
		r->pod_deleted = 1;
	note_scheduling(r, pod);
	if (cJSON_IsString(gkx__json_at(pod, "spec", "nodeName", GKX__END)) &&
	    r->timings.scheduled < 0) {
		r->timings.scheduled = gkx__mono_now() - r->t0;
		gkx__run_set_phase(r, GKX_PHASE_STARTING, r->image);
	}
	if (gkx__pod_end_read(pod, &end)) {
		/* An evicted pod says why in its own status; its container may
		 * say only "Error", or still "running". */
		gkx__run_note_end(r);
		r->cstate = C_TERMINATED;
		r->term_exit = end.exit_code;
		r->term_from_pod = end.from_pod;
		snprintf(r->term_reason, sizeof(r->term_reason), "%s", end.reason);
		snprintf(r->term_message, sizeof(r->term_message), "%s", end.message);
		return 0;
	}
	cs = cJSON_GetArrayItem(gkx__json_at(pod, "status", "containerStatuses", GKX__END), 0);
	if (!cs)
		return 0;
	if (gkx__json_at(cs, "state", "running", GKX__END)) {
		if (r->cstate != C_RUNNING && r->timings.started < 0)
			r->timings.started = gkx__mono_now() - r->t0;
		r->cstate = C_RUNNING;
		gkx__run_set_phase(r, GKX_PHASE_RUNNING, NULL);
	} else if ((state = gkx__json_at(cs, "state", "waiting", GKX__END)) != NULL) {
		r->cstate = C_WAITING;
		copy_str(r->waiting_reason, sizeof(r->waiting_reason),
		         cJSON_GetObjectItemCaseSensitive(state, "reason"));
		copy_str(r->waiting_message, sizeof(r->waiting_message),
		         cJSON_GetObjectItemCaseSensitive(state, "message"));
	}
	return 0;
}

static int watch_data(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;

	if (r->watch.req.http.status != 200)
		return gkx__run_error_body(&r->watch, data, len);
	return gkx__watch_feed(&r->splitter, data, len) < 0;
}

int gkx__run_watch_start(gkx_run *r)
{
	gkx_buf pq = GKX_BUF_INIT, sel = GKX_BUF_INIT;
	char secs[32];
	int rc;

	snprintf(secs, sizeof(secs), "%ld", r->timeout_s + 60);
	gkx__watch_reset(&r->splitter);
	r->splitter.fn = on_pod_event;
	r->splitter.ud = r;
	gkx__buf_free(&r->watch.errbody);
	gkx__buf_free(&r->watch.url);
	if (gkx__buf_printf(&sel, "job-name=%s", r->name) < 0 ||
	    gkx__api_path(&pq, "v1", r->ns, "pods", NULL, NULL) < 0 ||
	    gkx__api_query(&pq, "labelSelector", sel.ptr) < 0 ||
	    gkx__api_query(&pq, "watch", "true") < 0 ||
	    gkx__api_query(&pq, "allowWatchBookmarks", "true") < 0 ||
	    gkx__api_query(&pq, "timeoutSeconds", secs) < 0 ||
	    (r->rv[0] && gkx__api_query(&pq, "resourceVersion", r->rv) < 0)) {
		rc = gkx__error_oom(r->err);
	} else {
		rc = gkx__api_stream_start(r->client, &r->watch.req, &r->watch.url, pq.ptr,
		                           watch_data, r, r->err);
	}
	gkx__buf_free(&pq);
	gkx__buf_free(&sel);
	r->watch.active = rc == 0;
	return rc;
}

/* A Job whose pod cannot be created (a missing RuntimeClass, a quota, an
 * admission webhook) gets no pod at all: the Job controller only records
 * FailedCreate events and retries. */
static int check_events(gkx_run *r, const char *kind, const char *name, const char *want_reason,
                        char *found, size_t found_len)
{
	gkx_buf pq = GKX_BUF_INIT, sel = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	cJSON *list = NULL;
	const cJSON *ev;
	int rc;

	found[0] = '\0';
	if (gkx__buf_printf(&sel, "involvedObject.kind=%s,involvedObject.name=%s", kind, name) <
	            0 ||
	    gkx__api_path(&pq, "v1", r->ns, "events", NULL, NULL) < 0 ||
	    gkx__api_query(&pq, "fieldSelector", sel.ptr) < 0) {
		rc = gkx__error_oom(r->err);
		goto out;
	}
	rc = gkx__api_call(r->client, "GET", pq.ptr, NULL, NULL, &resp, "reading events", r->err);
	if (rc == GKX_EFORBIDDEN || rc == GKX_ENOTFOUND) {
		/* may run Jobs but not read events: keep waiting */
		rc = gkx__error_clear_ok(r->err);
		goto out;
	}
	if (rc < 0)
		goto out;
	list = cJSON_ParseWithLength(resp.ptr, resp.len);
	cJSON_ArrayForEach (ev, cJSON_GetObjectItemCaseSensitive(list, "items")) {
		const char *reason = gkx__json_str(ev, "reason", GKX__END);
		const char *type = gkx__json_str(ev, "type", GKX__END);
		const char *msg = gkx__json_str(ev, "message", GKX__END);
		if (reason && ((want_reason && !strcmp(reason, want_reason)) ||
		               (!want_reason && type && !strcmp(type, "Warning"))))
			snprintf(found, found_len, "%s: %s", reason, msg ? msg : "");
	}
out:
	cJSON_Delete(list);
	gkx__buf_free(&pq);
	gkx__buf_free(&sel);
	gkx__buf_free(&resp);
	return rc;
}

static int is_start_failure(const char *reason)
{
	static const char *const fatal[] = { "ImagePullBackOff",
		                             "ErrImageNeverPull",
		                             "InvalidImageName",
		                             "CreateContainerConfigError",
		                             "CreateContainerError",
		                             "RunContainerError",
		                             NULL };
	size_t i;

	for (i = 0; fatal[i]; i++)
		if (!strcmp(reason, fatal[i]))
			return 1;
	return 0;
}

int gkx__run_watch_step(gkx_run *r)
{
	if (r->watch.active && r->watch.req.http.done) {
		gkx_http_request *q = &r->watch.req.http;
		r->watch.active = 0;
		gkx__api_finished(r->client, &r->watch.req, 0);
		if (r->splitter.error == GKX_EGONE || q->status == 410) {
			r->rv[0] = '\0'; /* expired: start over with a fresh list */
		} else if (q->error || (q->status >= 500 || q->status == 429) ||
		           r->splitter.error) {
			if (++r->watch_failures > WATCH_MAX_FAILURES)
				return q->error ? gkx__error_set(r->err, q->error,
				                                 "watching the pod of %s: %s",
				                                 r->name, q->error_text)
				       : q->status != 200
				               ? gkx__api_status_error(
				                         r->err, q->status, r->watch.errbody.ptr,
				                         r->watch.errbody.len, "watching pods")
				               : gkx__error_set(r->err, r->splitter.error,
				                                "watching the pod of %s: "
				                                "unreadable events",
				                                r->name);
			if (gkx__api_pause(r->client, 200L << r->watch_failures) < 0)
				return gkx__error_set(r->err, GKX_ECANCELED, "interrupted");
		} else if (q->status != 200) {
			return gkx__api_status_error(r->err, q->status, r->watch.errbody.ptr,
			                             r->watch.errbody.len, "watching pods");
		}
		/* A watch that closed normally (its timeout, a restarted apiserver)
		 * resumes from the last resourceVersion. */
		if (r->cstate != C_TERMINATED && !r->pod_deleted && gkx__run_watch_start(r) < 0)
			return r->err->code;
	}
	if (!r->pod[0] && gkx__mono_now() >= r->next_event_check) {
		char found[1024];
		int rc;
		if (r->next_event_check == 0) {
			r->next_event_check = r->t0 + EVENT_CHECK_AFTER_S;
			return 0;
		}
		rc = check_events(r, "Job", r->name, "FailedCreate", found, sizeof(found));
		if (rc < 0)
			return rc;
		if (found[0]) {
			gkx__run_set_reason(r, "FailedCreate");
			return gkx__error_set(r->err, GKX_ESTART,
			                      "the Job cannot create its pod: %s",
			                      found + strlen("FailedCreate: "));
		}
		r->next_event_check = gkx__mono_now() + EVENT_CHECK_EVERY_S;
	}
	if (r->cstate == C_WAITING && is_start_failure(r->waiting_reason)) {
		gkx__run_set_reason(r, r->waiting_reason);
		return gkx__error_set(r->err, GKX_ESTART, "%s: %s (image %s)", r->waiting_reason,
		                      r->waiting_message, r->image);
	}
	return 0;
}

int gkx__run_read_pod(gkx_run *r, const char *pod)
{
	gkx_buf pq = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	cJSON *j = NULL;
	int rc;

	if (gkx__api_path(&pq, "v1", r->ns, "pods", pod, NULL) < 0) {
		gkx__buf_free(&pq);
		return GKX_ENOMEM;
	}
	/* One try: the caller reads again a moment later, within its wait. */
	rc = gkx__api_send(r->client, GKX__RETRY_NEVER, "GET", pq.ptr, NULL, NULL, &resp,
	                   "reading the pod", NULL);
	if (rc == GKX_ENOTFOUND) {
		r->pod_deleted = 1;
		rc = 0;
	} else if (rc == 0 && (j = cJSON_ParseWithLength(resp.ptr, resp.len)) != NULL) {
		rc = on_pod_event("MODIFIED", j, r);
	}
	cJSON_Delete(j);
	gkx__buf_free(&pq);
	gkx__buf_free(&resp);
	return rc;
}

int gkx__run_start_failure(gkx_run *r)
{
	char found[1024];

	if (r->sched_message[0]) {
		gkx__run_set_reason(r, "Unschedulable");
		return gkx__error_set(r->err, GKX_ESTART,
		                      "the pod was not scheduled within %ld s: %s",
		                      r->start_timeout_s, r->sched_message);
	}
	if (!r->pod[0]) {
		gkx__run_set_reason(r, "FailedCreate");
		return gkx__error_set(r->err, GKX_ESTART, "no pod was created within %ld s",
		                      r->start_timeout_s);
	}
	/* Mount failures and the like live in the pod's events only. */
	if (check_events(r, "Pod", r->pod, NULL, found, sizeof(found)) == 0 && found[0]) {
		size_t n = strcspn(found, ":");
		char reason[64];
		snprintf(reason, sizeof(reason), "%.*s", (int)(n < 63 ? n : 63), found);
		gkx__run_set_reason(r, reason);
		return gkx__error_set(r->err, GKX_ESTART, "the pod did not start within %ld s: %s",
		                      r->start_timeout_s, found);
	}
	gkx__run_set_reason(r, r->waiting_reason[0] ? r->waiting_reason : "StartTimeout");
	return gkx__error_set(r->err, GKX_ESTART, "the pod did not start within %ld s%s%s%s%s",
	                      r->start_timeout_s, r->waiting_reason[0] ? ": " : "",
	                      r->waiting_reason, r->waiting_message[0] ? ": " : "",
	                      r->waiting_message);
}

int gkx__run_take_kill_reason(gkx_run *r, int exit_code)
{
	/* The pod's own deadline is the caller's to judge (DeadlineExceeded). */
	if (r->cstate != C_TERMINATED ||
	    !(r->term_from_pod ? strcmp(r->term_reason, "DeadlineExceeded") != 0
	                       : !strcmp(r->term_reason, "OOMKilled")))
		return 0;
	/* Killed with SIGKILL either way. The container's own status comes
	 * first: an exec into a sandbox the OOM killer ended can answer 128
	 * (gVisor's "WaitPID failed: EOF"); an evicted pod's container may
	 * have no status at all. */
	r->exit_code = r->term_exit >= 0 ? r->term_exit : exit_code >= 0 ? exit_code : 137;
	gkx__run_set_reason(r, r->term_reason);
	snprintf(r->message, sizeof(r->message), "%s", r->term_message);
	return 1;
}
