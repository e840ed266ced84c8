/* One sandboxed run: create the Job and its code ConfigMap, follow the pod
 * through one watch, stream its log, read the exit status, delete what was
 * created. Everything happens in this thread over the client's transport;
 * gkx_run_cancel() only sets a flag that the loop checks between waits. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run_internal.h"

#define WAIT_SLICE_MS           100
#define DEFAULT_START_TIMEOUT_S 120

void gkx_run_options_init(gkx_run_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = GKX_RUN_OPTIONS_VERSION;
}

static char **copy_strv(const char *const *v, size_t n)
{
	char **out = calloc(n + 1, sizeof(*out));
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!(out[i] = gkx__strdup(v[i]))) {
			while (i--)
				free(out[i]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static int validate_options(const gkx_run_options *o, gkx_error *err)
{
	size_t i, total;

	if (o->network && *o->network && strcmp(o->network, "none") &&
	    strcmp(o->network, "default"))
		return gkx__error_set(err, GKX_EINVAL,
		                      "network \"%s\" is not \"none\" or \"default\"", o->network);
	if (!o->script || !o->script_name)
		return gkx__error_set(err, GKX_EINVAL, "no script given");
	if (!gkx__manifest_valid_file_name(o->script_name))
		return gkx__error_set(
		        err, GKX_EINVAL,
		        "script name \"%s\" must be a plain file name of letters, digits, "
		        "'.', '-' and '_'",
		        o->script_name);
	total = o->script_len;
	for (i = 0; i < o->nfiles; i++) {
		size_t j;
		if (!gkx__manifest_valid_file_name(o->files[i].name))
			return gkx__error_set(
			        err, GKX_EINVAL,
			        "file name \"%s\" must be a plain file name of letters, digits, "
			        "'.', '-' and '_'",
			        o->files[i].name ? o->files[i].name : "");
		if (!strcmp(o->files[i].name, o->script_name))
			return gkx__error_set(err, GKX_EINVAL, "file \"%s\" is given twice",
			                      o->files[i].name);
		for (j = 0; j < i; j++)
			if (!strcmp(o->files[i].name, o->files[j].name))
				return gkx__error_set(err, GKX_EINVAL, "file \"%s\" is given twice",
				                      o->files[i].name);
		total += o->files[i].len;
	}
	if (total > GKX_MAX_CODE_BYTES)
		return gkx__error_set(
		        err, GKX_ETOOBIG,
		        "the script and its files take %lu bytes; a ConfigMap holds at most "
		        "%d (1 MiB): make them smaller or fetch large data at run time",
		        (unsigned long)total, GKX_MAX_CODE_BYTES);
	for (i = 0; i < o->nenv; i++) {
		const char *eq = o->env[i] ? strchr(o->env[i], '=') : NULL;
		if (!eq || eq == o->env[i])
			return gkx__error_set(err, GKX_EINVAL,
			                      "environment entry \"%s\" is not KEY=VALUE",
			                      o->env[i] ? o->env[i] : "");
	}
	if (o->cpu && !gkx__manifest_valid_quantity(o->cpu))
		return gkx__error_set(err, GKX_EINVAL,
		                      "cpu \"%s\" is not a quantity such as 500m or 2", o->cpu);
	if (o->memory && !gkx__manifest_valid_quantity(o->memory))
		return gkx__error_set(err, GKX_EINVAL,
		                      "memory \"%s\" is not a quantity such as 256Mi or 1Gi",
		                      o->memory);
	if (o->timeout_s < 0 || o->ttl_s < 0 || o->start_timeout_s < 0)
		return gkx__error_set(err, GKX_EINVAL, "timeouts and ttl must not be negative");
	if (o->workdir && *o->workdir && o->workdir[0] != '/')
		return gkx__error_set(err, GKX_EINVAL, "workdir \"%s\" must be an absolute path",
		                      o->workdir);
	return 0;
}

/* How much of gkx_run_options each version had. */
static const size_t run_options_size[] = { 0, offsetof(gkx_run_options, network),
	                                   offsetof(gkx_run_options, on_stderr),
	                                   offsetof(gkx_run_options, capture_bytes),
	                                   sizeof(gkx_run_options) };

int gkx_run_new(gkx_run **out, gkx_client *client, const gkx_run_options *caller, gkx_error *err)
{
	gkx_run_options opts;
	const gkx_run_options *o = &opts;
	gkx_run *r;
	const char *interpreter;
	size_t i;
	char suffix[9], nonce[17];
	int rc;

	gkx_error_clear(err);
	*out = NULL;
	if ((rc = gkx__check_version(caller, GKX_RUN_OPTIONS_VERSION, "gkx_run_options", err)) < 0)
		return rc;
	gkx__copy_versioned(&opts, sizeof(opts), caller, run_options_size[caller->version]);
	if ((rc = validate_options(o, err)) < 0)
		return rc;
	if (!(interpreter = gkx__manifest_interpreter(o->script_name)))
		return gkx__error_set(
		        err, GKX_EINVAL,
		        "cannot tell how to run \"%s\": name it *.py, *.sh, *.bash, *.js, "
		        "*.rb or *.pl",
		        o->script_name);
	if ((rc = gkx__random_suffix(suffix, sizeof(suffix), err)) < 0 ||
	    (rc = gkx__random_suffix(nonce, sizeof(nonce), err)) < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return gkx__error_oom(err);
	r->client = client;
	r->exit_code = -1;
	snprintf(r->name, sizeof(r->name), "sandbox-run-%s", suffix);
	snprintf(r->end_marker, sizeof(r->end_marker), GKX_END_MARKER_PREFIX "%s:", nonce);
	r->ns = gkx__strdup(o->ns && *o->ns ? o->ns : client ? client->cfg->ns : "default");
	r->image = gkx__strdup(o->image && *o->image ? o->image : GKX_DEFAULT_IMAGE);
	r->cpu = gkx__strdup(o->cpu ? o->cpu : GKX_DEFAULT_CPU);
	r->memory = gkx__strdup(o->memory ? o->memory : "512Mi");
	r->runtime_class =
	        gkx__strdup(o->runtime_class && *o->runtime_class ? o->runtime_class : "gvisor");
	r->timeout_s = o->timeout_s ? o->timeout_s : 300;
	r->start_timeout_s = o->start_timeout_s ? o->start_timeout_s
	                                        : (r->timeout_s < DEFAULT_START_TIMEOUT_S
	                                                   ? r->timeout_s
	                                                   : DEFAULT_START_TIMEOUT_S);
	r->limit_bytes = o->limit_bytes;
	gkx__capture_init(&r->cap_out, o->capture_bytes);
	gkx__capture_init(&r->cap_err, o->capture_bytes);
	r->workdir = gkx__strdup(o->workdir && *o->workdir ? o->workdir : "/app");
	r->ttl_s = o->ttl_s ? o->ttl_s : 600;
	r->keep = o->keep;
	r->network_none = o->network && !strcmp(o->network, "none");
	r->on_output = o->on_output;
	r->output_ud = o->output_userdata;
	r->on_phase = o->on_phase;
	r->phase_ud = o->phase_userdata;
	r->on_stderr = o->on_stderr;
	r->stderr_ud = o->stderr_userdata;
	r->cold = o->cold;
	r->interpreter = interpreter;
	r->nargs = o->nargs;
	r->args = copy_strv(o->args, o->nargs);
	r->nenv = o->nenv;
	r->env = copy_strv(o->env, o->nenv);
	r->nfiles = 1 + o->nfiles;
	r->files = calloc(r->nfiles, sizeof(*r->files));
	if (!r->ns || !r->image || !r->cpu || !r->memory || !r->runtime_class || !r->args ||
	    !r->env || !r->files || !r->workdir)
		goto oom;
	r->files[0].name = gkx__strdup(o->script_name);
	r->files[0].data = gkx__strndup(o->script, o->script_len);
	r->files[0].len = o->script_len;
	if (!r->files[0].name || !r->files[0].data)
		goto oom;
	for (i = 0; i < o->nfiles; i++) {
		r->files[i + 1].name = gkx__strdup(o->files[i].name);
		r->files[i + 1].data = gkx__strndup(o->files[i].data, o->files[i].len);
		r->files[i + 1].len = o->files[i].len;
		if (!r->files[i + 1].name || !r->files[i + 1].data)
			goto oom;
	}
	gkx__manifest_request_for(r->cpu_req, sizeof(r->cpu_req), r->cpu, 0);
	gkx__manifest_request_for(r->mem_req, sizeof(r->mem_req), r->memory, 1);
	*out = r;
	return 0;
oom:
	gkx_run_free(r);
	return gkx__error_oom(err);
}

/* ---- shared with run_watch.c and run_log.c ---- */

void gkx__run_set_reason(gkx_run *r, const char *reason)
{
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

void gkx__run_set_phase(gkx_run *r, int phase, const char *detail)
{
	if (phase == r->phase)
		return;
	r->phase = phase;
	if (r->on_phase)
		r->on_phase((gkx_phase)phase, detail ? detail : "", r->phase_ud);
}

void gkx__run_note_end(gkx_run *r)
{
	if (r->timings.ended >= 0)
		return;
	r->timings.ended = gkx__mono_now() - r->t0;
	if (r->timings.started < 0)
		r->timings.started = r->timings.ended;
}

void gkx__run_stop_stream(gkx_run *r, gkx_stream *s)
{
	if (s->active && !s->req.http.done) {
		r->client->tp->cancel(r->client->tp_state, &s->req.http);
		gkx__api_finished(r->client, &s->req, 1);
	}
	s->active = 0;
}

int gkx__run_error_body(gkx_stream *s, const char *data, size_t len)
{
	size_t room = GKX_STREAM_MAX_ERROR_BODY - s->errbody.len;

	if (s->errbody.len >= GKX_STREAM_MAX_ERROR_BODY)
		return 0;
	return gkx__buf_put(&s->errbody, data, len < room ? len : room) < 0;
}

/* Called after every wait: react to what the streams delivered. Returns 1
 * when the run is over, 0 to keep waiting, or a negative error. */
static int step(gkx_run *r, double deadline)
{
	double now;
	int rc;

	if (gkx__run_cancelled(r)) {
		gkx__run_set_reason(r, "Interrupted");
		return gkx__error_set(r->err, GKX_ECANCELED, "interrupted; deleting %s", r->name);
	}
	if ((rc = gkx__run_watch_step(r)) < 0 || (rc = gkx__run_log_step(r)) < 0)
		return rc;
	now = gkx__mono_now();
	/* The marker ended the output: the script exited by itself with this
	 * status. A status from a signal (128 and up) waits for the pod's
	 * status, which can say OOMKilled. */
	if (r->marker_seen && r->marker_exit < 128) {
		gkx__run_note_end(r);
		r->exit_code = r->marker_exit;
		gkx__run_set_reason(r, r->marker_exit ? "Error" : "Completed");
		return 1;
	}
	if (r->cstate == C_TERMINATED && r->log_complete) {
		if (gkx__run_take_kill_reason(r, r->term_exit))
			return 1; /* evicted, or OOMKilled: the pod status says so */
		r->exit_code = r->term_exit;
		gkx__run_set_reason(r, r->term_reason[0] ? r->term_reason
		                                         : (r->term_exit ? "Error" : "Completed"));
		/* Killed at the deadline by the Job controller, not ended by itself. */
		if (r->pod_deleted && now + GKX_CLIENT_GRACE_S >= deadline) {
			r->exit_code = -1;
			gkx__run_set_reason(r, "DeadlineExceeded");
		}
		return 1;
	}
	if (r->pod_deleted && r->cstate != C_TERMINATED && !r->log.active) {
		/* The Job controller deletes the pod when activeDeadlineSeconds
		 * fires; before that, somebody else did. */
		if (now + GKX_REASON_WAIT_S + GKX_CLIENT_GRACE_S >= deadline) {
			gkx__run_set_reason(r, "DeadlineExceeded");
			return 1;
		}
		gkx__run_set_reason(r, "PodDeleted");
		return gkx__error_set(r->err, GKX_ERROR,
		                      "the sandbox's pod %s was deleted while the script ran",
		                      r->pod);
	}
	if (now > deadline) {
		gkx__run_set_reason(r, "DeadlineExceeded");
		return 1;
	}
	if ((r->cstate == C_NONE || r->cstate == C_WAITING) &&
	    now - r->t0 > (double)r->start_timeout_s)
		return gkx__run_start_failure(r);
	return 0;
}

/* A run in three steps, so that a batch can interleave many on one client:
 * begin (create, start the watch), poll (after each wait), end (cleanup).
 * Errors land in r->result_err; r->err points there while the run lives. */
int gkx__run_begin(gkx_run *r)
{
	int rc;

	gkx_error_clear(&r->result_err);
	r->err = &r->result_err;
	r->executed = 1;
	r->t0 = gkx__mono_now();
	r->deadline = r->t0 + (double)r->timeout_s + GKX_CLIENT_GRACE_S;
	if (r->deadline > r->client->run_deadline)
		r->client->run_deadline = r->deadline;
	r->requests_before = r->client->requests;
	r->timings.created = r->timings.scheduled = r->timings.started = r->timings.ended = -1;
	r->timings.finished = -1;
	if (!r->cold) {
		/* A parked sandbox of this shape, if there is one. */
		rc = gkx__warm_begin(r);
		if (rc <= 0)
			return rc;
	}
	return gkx__run_begin_cold(r);
}

int gkx__run_begin_cold(gkx_run *r)
{
	int rc;

	/* The code goes in by exec where the transport can (WebSockets) and
	 * the caller may; a kept run's container runs it itself, so that its
	 * log stays to be read. */
	r->via_exec = !r->keep && r->client->tp->version >= 2 && r->client->tp->send &&
	              !r->client->exec_refused;
	gkx__run_set_phase(r, GKX_PHASE_CREATING, r->name);
	rc = gkx__run_create_objects(r);
	if (rc == 0) {
		r->timings.created = gkx__mono_now() - r->t0;
		gkx__run_set_phase(r, GKX_PHASE_SCHEDULING, NULL);
		rc = gkx__run_watch_start(r);
	}
	return rc;
}

int gkx__run_poll(gkx_run *r)
{
	if (r->warm)
		return gkx__warm_poll(r);
	return r->via_exec ? gkx__run_exec_poll(r) : step(r, r->deadline);
}

int gkx__run_end(gkx_run *r, int rc)
{
	gkx_error cleanup_err;
	double saved_deadline;
	int crc;

	if (rc == 1)
		rc = 0;
	gkx__run_stop_stream(r, &r->watch);
	gkx__run_stop_stream(r, &r->log);
	gkx__run_stop_stream(r, &r->events);
	gkx__exec_stop(&r->exec);
	gkx__run_log_flush(r);
	if (rc < 0 && !r->reason[0])
		gkx__run_set_reason(r, rc == GKX_ECANCELED ? "Interrupted" : "Failed");
	gkx_error_clear(&cleanup_err);
	/* Cleanup comes after the deadline too: a credential plugin it needs
	 * has the request timeout. */
	saved_deadline = r->client->run_deadline;
	r->client->run_deadline = 0;
	crc = r->warm ? gkx__warm_end(r, &cleanup_err) : gkx__run_cleanup(r, &cleanup_err);
	r->client->run_deadline = saved_deadline;
	if (crc < 0 && rc == 0) {
		rc = crc;
		r->result_err = cleanup_err;
	}
	r->timings.finished = gkx__mono_now() - r->t0;
	/* Only when what it made is gone (or kept on purpose): a caller that
	 * names what is left in the cluster goes by this. */
	if (crc == 0)
		gkx__run_set_phase(r, GKX_PHASE_ENDED, r->name);
	if (rc == 0)
		gkx_error_clear(&r->result_err); /* what was handled is not an error */
	r->result_rc = rc;
	r->err = NULL;
	return rc;
}

int gkx_run_execute(gkx_run *r, gkx_error *err)
{
	gkx__flag *saved;
	double saved_deadline;
	int rc;

	gkx_error_clear(err);
	if (r->executed)
		return gkx__error_set(err, GKX_EINVAL, "a run executes once; make a new one");
	if (!r->client)
		return gkx__error_set(err, GKX_EINVAL,
		                      "a run made without a client can only be rendered");
	saved = r->client->cancel;
	saved_deadline = r->client->run_deadline;
	r->client->cancel = &r->cancelled;
	rc = gkx__run_begin(r);
	while (rc == 0) {
		rc = r->client->tp->wait(r->client->tp_state, WAIT_SLICE_MS);
		if (rc < 0) {
			gkx__error_set(r->err, rc, "transport failure");
			break;
		}
		rc = gkx__run_poll(r);
	}
	rc = gkx__run_end(r, rc);
	r->client->cancel = saved;
	r->client->run_deadline = saved_deadline;
	if (err)
		*err = r->result_err;
	return rc;
}

int gkx_run_status(const gkx_run *r) { return r->executed ? r->result_rc : GKX_EINVAL; }

const gkx_error *gkx_run_error(const gkx_run *r) { return &r->result_err; }

void gkx_run_cancel(gkx_run *r)
{
	if (r)
		atomic_store(&r->cancelled, 1);
}

int gkx__run_cancelled(gkx_run *r)
{
	return gkx__flag_test(&r->cancelled) || gkx__flag_test(r->outer_cancel);
}

int gkx_run_exit_code(const gkx_run *r) { return r->exit_code; }
int gkx_run_warm(const gkx_run *r) { return r->warm; }
const char *gkx_run_pod(const gkx_run *r) { return r->pod; }
const char *gkx_run_reason(const gkx_run *r) { return r->reason; }
const char *gkx_run_message(const gkx_run *r) { return r->message; }

int gkx__run_give(gkx_run *r, gkx__capture *keep, gkx_output_cb cb, void *ud, const char *data,
                  size_t len)
{
	size_t n = len;

	/* --limit-bytes over both streams; past it the bytes are dropped and
	 * the cut remembered. */
	if (r->limit_bytes && r->given + n > r->limit_bytes) {
		r->truncated = 1;
		n = r->limit_bytes > r->given ? r->limit_bytes - r->given : 0;
	}
	r->given += n;
	gkx__capture_put(keep, data, n);
	if (n && cb && cb(data, n, ud)) {
		r->out_aborted = 1;
		return 1;
	}
	return 0;
}
const char *gkx_run_name(const gkx_run *r) { return r->name; }
const char *gkx_run_namespace(const gkx_run *r) { return r->ns; }
int gkx_run_output_truncated(const gkx_run *r)
{
	return r->truncated || r->cap_out.dropped || r->cap_err.dropped;
}
unsigned gkx_run_request_count(const gkx_run *r)
{
	if (!r->client)
		return 0;
	return r->client->requests - r->requests_before;
}

void gkx_run_get_timings(const gkx_run *r, gkx_run_timings *out)
{
	if (!r->executed) {
		out->created = out->scheduled = out->started = out->ended = out->finished = -1;
		return;
	}
	*out = r->timings;
}

void gkx_run_free(gkx_run *r)
{
	size_t i;

	if (!r)
		return;
	free(r->ns);
	free(r->image);
	free(r->cpu);
	free(r->memory);
	free(r->runtime_class);
	free(r->workdir);
	gkx__strv_free(r->args);
	gkx__strv_free(r->env);
	if (r->files) {
		for (i = 0; i < r->nfiles; i++) {
			free((char *)r->files[i].name);
			free((char *)r->files[i].data);
		}
		free(r->files);
	}
	free(r->job_uid);
	gkx__capture_free(&r->cap_out);
	gkx__capture_free(&r->cap_err);
	gkx__buf_free(&r->rendered);
	gkx__buf_free(&r->watch.url);
	gkx__buf_free(&r->log.url);
	gkx__buf_free(&r->watch.errbody);
	gkx__buf_free(&r->log.errbody);
	gkx__buf_free(&r->events.url);
	gkx__buf_free(&r->events.errbody);
	gkx__watch_reset(&r->ev_splitter);
	gkx__log_parser_reset(&r->logp);
	gkx__buf_free(&r->hold);
	gkx__exec_free(&r->exec);
	gkx__watch_reset(&r->splitter);
	free(r);
}
