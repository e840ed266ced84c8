/* A cold run whose code the client sends and starts by exec. The Job is
 * that of any run, but its container only waits, with an empty /app: the
 * client execs the warm path's bootstrap into it (warm.c) the moment the
 * container runs, the bootstrap writes the files it is sent on stdin to
 * /app and execs `INTERPRETER /app/SCRIPT ARGS`.
 *
 * Why: the kubelet puts a container into the pod status, and serves its
 * log, only at its next relist of the runtime, once a second; a run that
 * waits for either pays up to a second at the start and again at the end.
 * An exec reaches the container as soon as the runtime runs it (the
 * kubelet looks it up in the runtime, not in the status), and its status
 * channel tells the exit code the moment the process ends. And with no
 * ConfigMap to mount the pod needs nothing from the API server: a kubelet
 * may fetch a ConfigMap only once the node authorizer has linked it to a
 * pod of the node, and when the kubelet is first it is refused and tries
 * again a second or two later (a quarter of the runs on the test node).
 *
 * When to exec: the kubelet records a "Started" event for the container
 * the moment the runtime has started it, so the run watches the pod's
 * events and execs then (and meanwhile, should an event be lost, after
 * SAFETY_FIRST_S, then at intervals growing by half to SAFETY_MAX_S: a
 * slow start costs a few requests, not one every quarter second).
 * Without the right to watch events, it tries every EXEC_RETRY_S from
 * the moment the pod is bound. Until the container runs, an exec fails
 * (the kubelet: container not found), and is tried again within the
 * start timeout, while the pod watch reports what keeps the pod from
 * starting.
 * A 403 means the caller may run Jobs but not exec into pods: the run's
 * objects are deleted and the run starts over as a Job whose container
 * runs the script itself (run.c), and so do later runs on that client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

#define EXEC_RETRY_S   0.05
#define SAFETY_FIRST_S 0.5
#define SAFETY_MAX_S   2.0

static int on_event(const char *type, cJSON *ev, void *ud)
{
	gkx_run *r = ud;
	const char *reason = gkx__json_str(ev, "reason", GKX__END);

	if (strcmp(type, "ERROR") && reason && !strcmp(reason, "Started")) {
		r->started_event = 1;
		r->next_exec_try = 0;
	}
	return 0;
}

static int events_data(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;

	if (r->events.req.http.status != 200)
		return gkx__run_error_body(&r->events, data, len);
	return gkx__watch_feed(&r->ev_splitter, data, len) < 0;
}

/* Watch the pod's events; a failure only means polling instead. */
static void events_watch(gkx_run *r)
{
	gkx_buf pq = GKX_BUF_INIT, sel = GKX_BUF_INIT;
	gkx_error ignored;
	char secs[32];

	snprintf(secs, sizeof(secs), "%ld", r->start_timeout_s + 10);
	gkx__watch_reset(&r->ev_splitter);
	r->ev_splitter.fn = on_event;
	r->ev_splitter.ud = r;
	r->events_state = -1;
	if (gkx__buf_printf(&sel, "involvedObject.kind=Pod,involvedObject.name=%s", r->pod) < 0 ||
	    gkx__api_path(&pq, "v1", r->ns, "events", NULL, NULL) < 0 ||
	    gkx__api_query(&pq, "fieldSelector", sel.ptr) < 0 ||
	    gkx__api_query(&pq, "watch", "true") < 0 ||
	    gkx__api_query(&pq, "timeoutSeconds", secs) < 0)
		goto out;
	if (gkx__api_stream_start(r->client, &r->events.req, &r->events.url, pq.ptr, events_data, r,
	                          &ignored) == 0) {
		r->events.active = 1;
		r->events_state = 1;
	}
out:
	gkx__buf_free(&pq);
	gkx__buf_free(&sel);
}

/* A watch that ended (refused: no right to watch events; or its time):
 * poll from now on. */
static void events_step(gkx_run *r)
{
	if (r->events_state != 1 || !r->events.req.http.done)
		return;
	r->events.active = 0;
	gkx__api_finished(r->client, &r->events.req, 0);
	r->events_state = -1;
	r->next_exec_try = 0;
}

/* The objects go, and the run begins again with the code run by the
 * container itself. */
static int start_over_without_exec(gkx_run *r)
{
	gkx_error cleanup_err;
	char suffix[9];
	int rc;

	r->client->exec_refused = 1;
	gkx__exec_free(&r->exec);
	memset(&r->exec, 0, sizeof(r->exec));
	gkx__run_stop_stream(r, &r->watch);
	gkx__run_stop_stream(r, &r->events);
	r->events_state = r->started_event = 0;
	gkx_error_clear(&cleanup_err);
	if ((rc = gkx__run_cleanup(r, &cleanup_err)) < 0) {
		*r->err = cleanup_err;
		return rc;
	}
	if ((rc = gkx__random_suffix(suffix, sizeof(suffix), r->err)) < 0)
		return rc;
	/* A new name: the old objects may still be on their way out. */
	snprintf(r->name, sizeof(r->name), "sandbox-run-%s", suffix);
	free(r->job_uid);
	r->job_uid = NULL;
	r->created = 0;
	r->via_exec = 0;
	r->pod[0] = r->rv[0] = r->waiting_reason[0] = r->waiting_message[0] = '\0';
	r->sched_message[0] = r->term_reason[0] = '\0';
	r->cstate = C_NONE;
	r->pod_deleted = r->watch_failures = 0;
	r->next_event_check = 0;
	r->timings.scheduled = r->timings.started = -1;
	r->phase = 0;
	gkx__run_set_phase(r, GKX_PHASE_CREATING,
	                   "no right to exec into pods (create, or get before Kubernetes 1.35, "
	                   "on pods/exec): a Job that runs the script itself");
	if ((rc = gkx__run_create_objects(r)) < 0)
		return rc;
	r->timings.created = gkx__mono_now() - r->t0;
	gkx__run_set_phase(r, GKX_PHASE_SCHEDULING, NULL);
	return gkx__run_watch_start(r);
}

/* The exec ended with a status of 128 or more, or was cut: the pod's own
 * status says whether the memory limit killed it, the node evicted it, or
 * the pod was deleted under the script. 1 when decided. */
static int decide_after_signal(gkx_run *r, int exec_rc)
{
	double now = gkx__mono_now();

	if (r->warm && r->cstate != C_TERMINATED && !r->pod_deleted && now >= r->next_pod_read &&
	    now - r->exec_ended_at < GKX_REASON_WAIT_S) {
		/* No watch on a parked pod: a few reads instead. */
		r->next_pod_read = now + 0.8;
		gkx__run_read_pod(r, r->pod);
	}
	/* OOMKilled, or Evicted with the kubelet's message. */
	if (gkx__run_take_kill_reason(r, exec_rc < 0 ? -1 : r->exec.exit_code))
		return 1;
	if (!r->pod_deleted && r->cstate != C_TERMINATED &&
	    now - r->exec_ended_at < GKX_REASON_WAIT_S)
		return 0;
	if (r->pod_deleted && now + GKX_REASON_WAIT_S + GKX_CLIENT_GRACE_S >= r->deadline) {
		/* The Job's deadline took the pod (it may come a moment before
		 * the client's own): not a deletion by someone else. */
		gkx__run_set_reason(r, "DeadlineExceeded");
		return 1;
	}
	if (r->pod_deleted) {
		/* Not the script's doing: the reason says who ended it. */
		gkx__run_set_reason(r, "PodDeleted");
		if (exec_rc == 0) {
			r->exit_code = r->exec.exit_code;
			return 1;
		}
		*r->err = r->exec_last;
		gkx__error_prefix(r->err, "the sandbox's pod %s was deleted while the script ran",
		                  r->pod);
		return r->err->code;
	}
	if (exec_rc < 0) {
		/* Cut with no status, and nothing in the pod to explain it. */
		*r->err = r->exec_last;
		gkx__run_set_reason(r, "ConnectionLost");
		gkx__error_prefix(r->err,
		                  "the connection to the sandbox broke after its code was sent; "
		                  "the script's end is unknown, and it is not run again (%s "
		                  "is deleted)",
		                  r->pod);
		return exec_rc;
	}
	r->exit_code = r->exec.exit_code;
	gkx__run_set_reason(r, "Error");
	return 1;
}

int gkx__run_exec_ended(gkx_run *r, int rc, double now)
{
	if (r->exec_ended_at > 0)
		return decide_after_signal(r, r->exec_last.code);
	if (rc == 0)
		return 0;
	if (rc == 1 && r->exec.exit_code < 128) {
		gkx__run_exec_exited(r);
		return 1;
	}
	/* Ended by a signal, or cut: the memory limit, perhaps. */
	gkx__run_note_end(r);
	r->exec_ended_at = now;
	r->exec_last = *r->err;
	if (rc == 1)
		r->exec_last.code = 0;
	gkx_error_clear(r->err);
	return decide_after_signal(r, r->exec_last.code);
}

int gkx__run_exec_opening(gkx_run *r, double now)
{
	int rc;

	if (gkx__exec_protocol(&r->exec))
		return 1;
	if (!r->exec.req.http.done && now - r->exec_tried_at > GKX_EXEC_OPEN_S)
		return gkx__error_set(r->err, GKX_ETIMEOUT, "exec in %s: no answer within %.0f s",
		                      r->pod, GKX_EXEC_OPEN_S);
	rc = gkx__exec_step(&r->exec, r->err);
	if (rc == 1) /* a status before any stream: it never ran our code */
		return gkx__error_set(r->err, GKX_ESTART, "exec in %s ended before it opened: %s",
		                      r->pod, r->exec.message);
	if (rc == 0 && gkx__exec_protocol(&r->exec))
		return 1;
	return rc;
}

/* One attempt failed before the stream opened: remember why, and try
 * again soon, unless the answer was a refusal of the right itself. */
static int attempt_failed(gkx_run *r, int rc)
{
	if (rc == GKX_EFORBIDDEN)
		return start_over_without_exec(r);
	if (rc == GKX_EUNAUTHORIZED || rc == GKX_ENOMEM)
		return rc;
	r->exec_last = *r->err;
	gkx_error_clear(r->err);
	gkx__exec_free(&r->exec);
	memset(&r->exec, 0, sizeof(r->exec));
	if (r->events_state == 1 && !r->started_event) {
		r->next_exec_try = gkx__mono_now() + r->safety_wait;
		r->safety_wait =
		        r->safety_wait * 1.5 < SAFETY_MAX_S ? r->safety_wait * 1.5 : SAFETY_MAX_S;
	} else {
		r->next_exec_try = gkx__mono_now() + EXEC_RETRY_S;
	}
	return 0;
}

int gkx__run_exec_poll(gkx_run *r)
{
	double now;
	int rc;

	if (gkx__run_cancelled(r)) {
		gkx__run_set_reason(r, "Interrupted");
		return gkx__error_set(r->err, GKX_ECANCELED, "interrupted; deleting %s", r->name);
	}
	if ((rc = gkx__run_watch_step(r)) < 0)
		return rc;
	now = gkx__mono_now();
	if (r->exec_ended_at > 0)
		return gkx__run_exec_ended(r, 0, now);
	if (now > r->deadline - GKX_CLIENT_GRACE_S) {
		/* The client's own deadline, as on the warm path; the Job's
		 * activeDeadlineSeconds is the safety net. */
		gkx__run_set_reason(r, "DeadlineExceeded");
		return 1;
	}
	if (!r->exec.active && !r->exec.finished) {
		if (r->cstate == C_TERMINATED || r->pod_deleted) {
			gkx__run_set_reason(r, r->term_reason[0] ? r->term_reason : "Failed");
			return gkx__error_set(r->err, GKX_ESTART,
			                      "the sandbox ended before its code could start%s%s",
			                      r->exec_last.message[0] ? ": " : "",
			                      r->exec_last.message);
		}
		if (now - r->t0 > (double)r->start_timeout_s) {
			if (r->cstate == C_RUNNING && r->exec_last.message[0]) {
				gkx__run_set_reason(r, "StartTimeout");
				return gkx__error_set(r->err, GKX_ESTART,
				                      "the pod runs, but its code could not start "
				                      "within %ld s (%u tries): %s",
				                      r->start_timeout_s, r->exec_attempts,
				                      r->exec_last.message);
			}
			return gkx__run_start_failure(r);
		}
		/* Bound to a node: the container may run any moment now. */
		if (!r->pod[0] || r->timings.scheduled < 0)
			return 0;
		if (r->events_state == 0) {
			events_watch(r);
			r->safety_wait = SAFETY_FIRST_S;
			r->next_exec_try = now + (r->events_state == 1 ? r->safety_wait : 0);
		}
		events_step(r);
		if (now < r->next_exec_try)
			return 0;
		r->exec_attempts++;
		r->exec_tried_at = now;
		if ((rc = gkx__warm_exec_boot(r, r->pod)) < 0)
			return attempt_failed(r, rc);
		return 0;
	}
	if (!r->payload_sent) {
		rc = gkx__run_exec_opening(r, now);
		if (rc <= 0)
			return rc < 0 ? attempt_failed(r, rc) : 0;
		gkx__run_stop_stream(r, &r->events); /* its work is done */
		return gkx__warm_send_payload(r, r->pod);
	}
	rc = gkx__exec_step(&r->exec, r->err);
	if (r->out_aborted)
		return gkx__error_set(r->err, GKX_ECANCELED, "the output reader stopped the run");
	return gkx__run_exec_ended(r, rc, now);
}
