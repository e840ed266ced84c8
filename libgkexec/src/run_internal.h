/* The run's state, shared by run.c (lifecycle), run_watch.c (what the pod
 * and the Job say) and run_log.c (the output). Not API. */
#ifndef GKEXEC_RUN_INTERNAL_H
#define GKEXEC_RUN_INTERNAL_H

#include "internal.h"

enum { C_NONE, C_WAITING, C_RUNNING, C_TERMINATED };

/* Beyond activeDeadlineSeconds, the client gives up by itself: the 1.20 Job
 * controller enforces the deadline only at its next sync of the Job, which
 * for a quiet pod can be much later. r->deadline includes it; a run that
 * execs its code stops at r->deadline - GKX_CLIENT_GRACE_S itself. */
#define GKX_CLIENT_GRACE_S 2.0

typedef struct {
	gkx__request req;
	gkx_buf url;
	gkx_buf errbody; /* the body of a non-200 answer: a Status */
	int active;
} gkx_stream;

struct gkx_run {
	gkx_client *client;
	char name[64];
	char *ns, *image, *cpu, *memory, *runtime_class, *workdir;
	char cpu_req[32], mem_req[32];
	const char *interpreter; /* a constant from the manifest's table */
	char **args, **env;      /* the script's arguments; KEY=VALUE */
	size_t nargs, nenv;
	gkx_file *files; /* files[0] is the script */
	size_t nfiles;
	long timeout_s, ttl_s, start_timeout_s;
	size_t limit_bytes;
	int keep;
	int network_none; /* a deny-all NetworkPolicy goes with the Job */
	gkx_output_cb on_output;
	void *output_ud;
	gkx_phase_cb on_phase;
	void *phase_ud;
	gkx_output_cb on_stderr; /* a warm run's stderr; NULL: on_output */
	void *stderr_ud;
	int cold; /* never claim a parked sandbox */

	/* Warm (warm.c): a claimed parked pod and the exec stream into it. */
	int warm;
	gkx__pool pool;
	gkx__claim claim;
	gkx_exec exec;
	int payload_sent, replaced;

	/* A cold run whose code goes in by exec (run_exec.c): the Job's
	 * container waits, and the exec is tried from the moment the pod is
	 * bound until the container runs. */
	int via_exec;
	double next_exec_try, exec_tried_at, safety_wait;
	unsigned exec_attempts;
	gkx_stream events; /* the pod's events: the kubelet says "Started" */
	gkx_watch_splitter ev_splitter;
	int events_state; /* 0 not yet, 1 watching, -1 none (poll instead) */
	int started_event;
	gkx_error exec_last;  /* why the last attempt failed */
	double exec_ended_at; /* a signal's exit: waiting for the pod's reason */

	gkx__flag cancelled;
	gkx__flag *outer_cancel; /* a batch's flag, or NULL */
	double deadline;
	int result_rc;
	gkx_error result_err;
	int executed;
	int created; /* a create was sent: cleanup deletes by name */
	int exit_code;
	char reason[64];
	char message[512]; /* what the cluster said about the end (an eviction's words) */
	char *job_uid;
	gkx_buf rendered;
	gkx_error *err; /* &result_err while executing, else NULL */
	double t0;      /* when execute began (monotonic seconds) */
	gkx_run_timings timings;
	unsigned requests_before;

	/* What the watch has told us. */
	int phase;
	int cstate;
	int pod_deleted;
	double next_pod_read; /* a warm run's next read of its pod */
	char pod[254];
	char rv[64];        /* last resourceVersion seen, to resume from */
	int watch_failures; /* consecutive; reset by any event */
	char waiting_reason[64];
	char waiting_message[512];
	char sched_message[512]; /* PodScheduled=False: the scheduler's reason */
	char term_reason[64];
	char term_message[512];
	int term_from_pod; /* the reason is the pod's (Evicted), not the container's */
	int term_exit;
	double next_event_check;
	gkx_stream watch;
	gkx_watch_splitter splitter;

	/* The log. Every request reads the container's log from its start and
	 * skips what was already delivered, so a resumed stream never repeats. */
	gkx_stream log;
	gkx_log_parser logp;    /* the current request's records */
	size_t delivered, seen; /* log bytes consumed; bytes of the current request */
	size_t given;           /* bytes handed to on_output (at most limit_bytes) */
	int log_final;          /* the current log request is the last one */
	int log_complete;       /* every byte of the log has been delivered */
	int log_failures;
	int out_aborted;
	int truncated;
	/* What the result keeps (capture_bytes): the output, or a warm run's
	 * stdout; a warm run's stderr. */
	gkx__capture cap_out, cap_err;

	/* The wrapper's last line is end_marker and the exit status: it ends
	 * the output and tells the exit status as soon as the log carries it,
	 * up to a second before the kubelet puts the container's end in the
	 * pod status. `hold` keeps bytes that may begin the marker. */
	char end_marker[48];
	gkx_buf hold;
	int marker_seen, marker_exit;
};

void gkx__run_set_reason(gkx_run *r, const char *reason);
void gkx__run_set_phase(gkx_run *r, int phase, const char *detail);
/* The pod status says the container ended: its timings. */
void gkx__run_note_end(gkx_run *r);
void gkx__run_stop_stream(gkx_run *r, gkx_stream *s);
/* Keep the start of a failed stream's body (a Status is small); the rest
 * is read and dropped, so a server cannot make it grow without bound. */
int gkx__run_error_body(gkx_stream *s, const char *data, size_t len);
int gkx__run_cancelled(gkx_run *r);

/* The run in three steps (see run.c): begin returns 0 when the pod watch
 * is running; poll, after each wait, 0 to go on, 1 when done, or an error;
 * end cleans up and returns the run's status. end follows every begin. */
int gkx__run_begin(gkx_run *r);
/* The part of begin that makes a Job: also where a warm run goes on when
 * its sandbox failed before the code was sent. */
int gkx__run_begin_cold(gkx_run *r);
int gkx__run_poll(gkx_run *r);
int gkx__run_end(gkx_run *r, int rc);

/* session.c: the session's client, for tests to put a fake transport in. */
gkx_client *gkx__session_client(gkx_session *s);

/* batch.c: cancel the batch through another flag (a session's). */
void gkx__batch_use_flag(gkx_batch *b, gkx__flag *flag);

/* run_objects.c: create the run's objects (Job, NetworkPolicy, ConfigMap,
 * in that order); delete them (unless keep), setting the cancel flag
 * aside. */
int gkx__run_create_objects(gkx_run *r);
int gkx__run_cleanup(gkx_run *r, gkx_error *err);
/* Delete r->pod with no grace period, errors ignored: for a pod whose
 * script is known to be over, after its Job was deleted. */
void gkx__run_delete_pod_now(gkx_run *r);

/* warm.c: begin returns 0 when a parked pod was claimed and the exec
 * started, 1 when there is none (the run goes cold), or an error; poll and
 * end as for a Job. A claimed sandbox that fails before the code is sent
 * is given up in begin or poll, which then go on with
 * gkx__run_begin_cold (r->warm is 0 from there). The bootstrap and its
 * input are exposed for tests. */
int gkx__warm_begin(gkx_run *r);
int gkx__warm_poll(gkx_run *r);
int gkx__warm_end(gkx_run *r, gkx_error *err);
int gkx__warm_payload(gkx_buf *out, const gkx_run *r);
extern const char gkx__warm_boot[];
/* Shared with run_exec.c: start the bootstrap in r->pod; once the stream
 * is open, send the payload; the output callbacks. */
int gkx__warm_exec_boot(gkx_run *r, const char *pod);
int gkx__warm_send_payload(gkx_run *r, const char *pod);
/* The exec's status came: its exit code is the run's, and its reason. */
void gkx__run_exec_exited(gkx_run *r);
/* Output to a caller's callback, as every way of running gives it:
 * limit_bytes over both streams (past it the bytes are dropped and the
 * cut remembered), and a copy into `keep`, what the result holds. 1 when
 * the callback stopped the run. */
int gkx__run_give(gkx_run *r, gkx__capture *keep, gkx_output_cb cb, void *ud, const char *data,
                  size_t len);

/* run_exec.c: the poll of a cold run whose code goes in by exec. */
int gkx__run_exec_poll(gkx_run *r);
/* The exec that starts the code (r->exec, started at r->exec_tried_at),
 * until the code is sent; the one policy of both paths. 1 when its
 * stream is open (send the code now), 0 while it opens, or an error: it
 * failed before any code went in (refused, cut, or not open within
 * GKX_EXEC_OPEN_S), so the sandbox may be tried again or given up. */
int gkx__run_exec_opening(gkx_run *r, double now);
/* After the code was sent, the exec's step said rc: 0 to go on, 1 when
 * done, or an error. An end by a signal (status 128 and up) or a cut
 * stream waits up to GKX_REASON_WAIT_S for what the pod says: OOMKilled,
 * deleted (PodDeleted), evicted (Evicted), or the deadline; the polls
 * call it again while it waits (r->exec_ended_at set). Nothing is tried
 * again. */
int gkx__run_exec_ended(gkx_run *r, int rc, double now);
/* An exec stream that has not opened by then is dropped: no request of
 * a run waits without bound. */
#define GKX_EXEC_OPEN_S 5.0
/* A process ended by a signal: the pod status may still say why (the
 * kubelet's next relist, a second at most, and the watch). */
#define GKX_REASON_WAIT_S 2.5

/* run_watch.c */
int gkx__run_watch_start(gkx_run *r);
/* After a wait: restart a watch that ended; fail on what cannot start. */
int gkx__run_watch_step(gkx_run *r);
/* Why the pod has not started, for the start timeout's message. */
int gkx__run_start_failure(gkx_run *r);
/* Read the pod once (a warm run has no watch): what it says lands where
 * the watch puts it (cstate, term_reason, term_message, pod_deleted); a
 * pod that is gone counts as deleted. */
int gkx__run_read_pod(gkx_run *r, const char *pod);
/* The pod status said the node stopped the pod (an eviction) or the memory
 * limit killed the container: take its reason, message and an exit code
 * (the container's, else 137 for the SIGKILL) as the run's; 1 if so. */
int gkx__run_take_kill_reason(gkx_run *r, int exit_code);

/* result.c: the RunResult document (see README); run may be NULL when the
 * request never became a run, and status/e then say why. output and
 * stderr_text both NULL: what the run kept (capture_bytes). */
cJSON *gkx__run_result(const gkx_run *run, int status, const gkx_error *e, const gkx_buf *output,
                       const gkx_buf *stderr_text);

/* run_log.c */
int gkx__run_log_step(gkx_run *r);
/* The log stream's data callback: reads the timestamped records, skips
 * what an earlier request already delivered, applies limit_bytes, hands the
 * rest to on_output. */
int gkx__run_log_data(const char *data, size_t len, void *ud);
/* Before each log request, and after one that ended cleanly: 0, 1 when
 * text that was not the container's came (now in r->log.errbody), or
 * GKX_ENOMEM. */
void gkx__run_log_reset(gkx_run *r);
int gkx__run_log_finish(gkx_run *r);
/* The run is over: the end of an unfinished last line, if one is held,
 * and what was held as a possible start of the end marker. */
int gkx__run_log_flush(gkx_run *r);
/* The end marker: this, a random nonce and ':', then 1-3 digits and '\n'. */
#define GKX_END_MARKER_PREFIX "sandbox-run-end:"

#endif
