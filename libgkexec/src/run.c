/* One sandboxed run: create the Job and its code ConfigMap, follow the pod
 * through one watch, stream its log, read the exit status, delete what was
 * created. Everything happens in this thread over the client's transport;
 * gkx_run_cancel() only sets a flag that the loop checks between waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Beyond activeDeadlineSeconds, the client gives up by itself: the 1.20 Job
 * controller enforces the deadline only at its next sync of the Job, which
 * for a quiet pod can be much later. */
#define CLIENT_GRACE_S 2
#define CLEANUP_TIMEOUT_MS 10000L
#define WAIT_SLICE_MS 100
#define EVENT_CHECK_AFTER_S 3.0 /* a pod normally appears well before this */
#define EVENT_CHECK_EVERY_S 2.0

enum { C_NONE, C_WAITING, C_RUNNING, C_TERMINATED };

typedef struct {
	gkx_http_request req;
	gkx_buf url;
	gkx_buf errbody; /* the body of a non-200 answer: a Status */
	int active;
} stream;

struct gkx_run {
	gkx_client *client;
	char name[64];
	char *ns, *image, *cpu, *memory, *runtime_class;
	char cpu_req[32], mem_req[32];
	char **cmd, **env;
	size_t ncmd, nenv;
	gkx_file *files; /* files[0] is the script */
	size_t nfiles;
	long timeout_s, ttl_s;
	int keep;
	gkx_output_cb on_output;
	void *output_ud;
	gkx_phase_cb on_phase;
	void *phase_ud;

	volatile sig_atomic_t cancelled;
	int executed;
	int created; /* a create was sent: cleanup deletes by name */
	int exit_code;
	char reason[64];
	char *job_uid;
	gkx_buf rendered;

	/* What the watch has told us. */
	int phase;
	int cstate;
	int pod_deleted;
	char pod[254];
	char waiting_reason[64];
	char waiting_message[512];
	char term_reason[64];
	int term_exit;

	/* The log: every stream reads the container's log from its start and
	 * skips what was already delivered, so a resumed stream never repeats. */
	stream watch, log;
	gkx_watch_splitter splitter;
	size_t delivered, seen;
	double created_at, next_event_check;
	int log_final;    /* the current log request is the last one */
	int log_complete; /* every byte of the log has been delivered */
	int out_aborted;
	gkx_error *err;
};

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

static void free_strv(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static int validate_options(const gkx_run_options *o, gkx_error *err)
{
	size_t i, total;

	if (!o || o->version != GKX_RUN_OPTIONS_VERSION)
		return gkx__error_set(err, GKX_EINVAL, "gkx_run_options not initialised");
	if (!o->script || !o->script_name)
		return gkx__error_set(err, GKX_EINVAL, "no script given");
	if (!gkx__manifest_valid_file_name(o->script_name))
		return gkx__error_set(err, GKX_EINVAL,
		                      "script name \"%s\" must be a plain file name of letters, digits, "
		                      "'.', '-' and '_'",
		                      o->script_name);
	total = o->script_len;
	for (i = 0; i < o->nfiles; i++) {
		size_t j;
		if (!gkx__manifest_valid_file_name(o->files[i].name))
			return gkx__error_set(err, GKX_EINVAL,
			                      "file name \"%s\" must be a plain file name of letters, digits, "
			                      "'.', '-' and '_'",
			                      o->files[i].name ? o->files[i].name : "");
		if (!strcmp(o->files[i].name, o->script_name))
			return gkx__error_set(err, GKX_EINVAL, "file \"%s\" is given twice", o->files[i].name);
		for (j = 0; j < i; j++)
			if (!strcmp(o->files[i].name, o->files[j].name))
				return gkx__error_set(err, GKX_EINVAL, "file \"%s\" is given twice",
				                      o->files[i].name);
		total += o->files[i].len;
	}
	if (total > GKX_MAX_CODE_BYTES)
		return gkx__error_set(err, GKX_ETOOBIG,
		                      "the script and its files take %lu bytes; a ConfigMap holds at most "
		                      "%d (1 MiB): make them smaller or fetch large data at run time",
		                      (unsigned long)total, GKX_MAX_CODE_BYTES);
	for (i = 0; i < o->nenv; i++) {
		const char *eq = o->env[i] ? strchr(o->env[i], '=') : NULL;
		if (!eq || eq == o->env[i])
			return gkx__error_set(err, GKX_EINVAL, "environment entry \"%s\" is not KEY=VALUE",
			                      o->env[i] ? o->env[i] : "");
	}
	if (o->cpu && !gkx__manifest_valid_quantity(o->cpu))
		return gkx__error_set(err, GKX_EINVAL,
		                      "cpu \"%s\" is not a quantity such as 500m or 2", o->cpu);
	if (o->memory && !gkx__manifest_valid_quantity(o->memory))
		return gkx__error_set(err, GKX_EINVAL,
		                      "memory \"%s\" is not a quantity such as 256Mi or 1Gi", o->memory);
	if (o->timeout_s < 0 || o->ttl_s < 0)
		return gkx__error_set(err, GKX_EINVAL, "timeout and ttl must not be negative");
	return 0;
}

int gkx_run_new(gkx_run **out, gkx_client *client, const gkx_run_options *o, gkx_error *err)
{
	gkx_run *r;
	const char **cmd;
	size_t ncmd, i;
	char suffix[9];
	int rc;

	gkx_error_clear(err);
	*out = NULL;
	if (!client)
		return gkx__error_set(err, GKX_EINVAL, "no client");
	if ((rc = validate_options(o, err)) < 0)
		return rc;
	if (gkx__manifest_command(o->script_name, &cmd, &ncmd) < 0)
		return gkx__error_set(err, GKX_EINVAL,
		                      "cannot tell how to run \"%s\": name it *.py, *.sh, *.bash, *.js, "
		                      "*.rb or *.pl",
		                      o->script_name);
	if ((rc = gkx__random_suffix(suffix, sizeof(suffix), err)) < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return gkx__error_oom(err);
	r->client = client;
	r->exit_code = -1;
	snprintf(r->name, sizeof(r->name), "sandbox-run-%s", suffix);
	r->ns = gkx__strdup(o->ns && *o->ns ? o->ns : client->cfg->ns);
	r->image = gkx__strdup(o->image && *o->image ? o->image : GKX_DEFAULT_IMAGE);
	r->cpu = gkx__strdup(o->cpu ? o->cpu : "500m");
	r->memory = gkx__strdup(o->memory ? o->memory : "512Mi");
	r->runtime_class = gkx__strdup(o->runtime_class && *o->runtime_class ? o->runtime_class : "gvisor");
	r->timeout_s = o->timeout_s ? o->timeout_s : 300;
	r->ttl_s = o->ttl_s ? o->ttl_s : 600;
	r->keep = o->keep;
	r->on_output = o->on_output;
	r->output_ud = o->output_userdata;
	r->on_phase = o->on_phase;
	r->phase_ud = o->phase_userdata;
	r->ncmd = ncmd;
	r->cmd = copy_strv(cmd, ncmd);
	r->nenv = o->nenv;
	r->env = copy_strv(o->env, o->nenv);
	r->nfiles = 1 + o->nfiles;
	r->files = calloc(r->nfiles, sizeof(*r->files));
	if (!r->ns || !r->image || !r->cpu || !r->memory || !r->runtime_class || !r->cmd || !r->env ||
	    !r->files)
		goto oom;
	/* Arguments after the script become part of the command line. */
	if (o->nargs) {
		char **all = calloc(ncmd + o->nargs + 1, sizeof(*all));
		if (!all)
			goto oom;
		memcpy(all, r->cmd, ncmd * sizeof(*all));
		free(r->cmd);
		r->cmd = all;
		r->ncmd = ncmd; /* the script path goes between: see build_spec */
		for (i = 0; i < o->nargs; i++)
			if (!(all[ncmd + i] = gkx__strdup(o->args[i])))
				goto oom;
	}
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

static void build_spec(const gkx_run *r, gkx_manifest_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->name = r->name;
	s->ns = r->ns;
	s->image = r->image;
	s->script_name = r->files[0].name;
	s->command = (const char *const *)r->cmd;
	s->ncommand = r->ncmd;
	s->env = (const char *const *)r->env;
	s->nenv = r->nenv;
	s->cpu_limit = r->cpu;
	s->cpu_request = r->cpu_req;
	s->memory_limit = r->memory;
	s->memory_request = r->mem_req;
	s->timeout_s = r->timeout_s;
	s->ttl_s = r->ttl_s;
	s->runtime_class = r->runtime_class;
	s->job_uid = r->job_uid;
}

/* The arguments follow the script path in the container's command. */
static int append_args(const gkx_run *r, cJSON *job)
{
	cJSON *c = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(job, "spec"), "template"), "spec"),
			"containers"),
		0);
	cJSON *cmd = cJSON_GetObjectItemCaseSensitive(c, "command");
	size_t i;

	for (i = r->ncmd; r->cmd[i]; i++)
		if (!cJSON_AddItemToArray(cmd, cJSON_CreateString(r->cmd[i])))
			return GKX_ENOMEM;
	return 0;
}

static cJSON *make_job(const gkx_run *r)
{
	gkx_manifest_spec s;
	cJSON *job;

	build_spec(r, &s);
	job = gkx__manifest_job(&s);
	if (job && append_args(r, job) < 0) {
		cJSON_Delete(job);
		return NULL;
	}
	return job;
}

static cJSON *make_configmap(const gkx_run *r)
{
	gkx_manifest_spec s;

	build_spec(r, &s);
	return gkx__manifest_configmap(&s, r->files, r->nfiles);
}

int gkx_run_render(gkx_run *r, const char *format, const char **out, gkx_error *err)
{
	cJSON *list = NULL, *items, *meta;
	char *json = NULL;
	int rc = 0;

	gkx_error_clear(err);
	*out = NULL;
	if (!format || (strcmp(format, "json") && strcmp(format, "yaml")))
		return gkx__error_set(err, GKX_EINVAL, "output format \"%s\" is not json or yaml",
		                      format ? format : "");
	/* kubectl prints several objects as a List; `kubectl apply -f` takes it. */
	if (!(list = cJSON_CreateObject()) || !cJSON_AddStringToObject(list, "apiVersion", "v1") ||
	    !(items = cJSON_AddArrayToObject(list, "items")) ||
	    !cJSON_AddItemToArray(items, make_configmap(r)) ||
	    !cJSON_AddItemToArray(items, make_job(r)) ||
	    !cJSON_AddStringToObject(list, "kind", "List") ||
	    !(meta = cJSON_AddObjectToObject(list, "metadata")) ||
	    !cJSON_AddStringToObject(meta, "resourceVersion", "")) {
		rc = gkx__error_oom(err);
		goto out;
	}
	gkx__buf_free(&r->rendered);
	if (!strcmp(format, "json")) {
		json = cJSON_Print(list);
		if (!json || gkx__buf_puts(&r->rendered, json) < 0 || gkx__buf_puts(&r->rendered, "\n") < 0)
			rc = gkx__error_oom(err);
	} else {
		rc = gkx__yaml_emit(&r->rendered, list, err);
	}
	if (!rc)
		*out = r->rendered.ptr;
out:
	cJSON_free(json);
	cJSON_Delete(list);
	return rc;
}

/* ---- progress ---- */

static void set_reason(gkx_run *r, const char *reason)
{
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}


static void set_phase(gkx_run *r, int phase, const char *detail)
{
	if (phase == r->phase)
		return;
	r->phase = phase;
	if (r->on_phase)
		r->on_phase((gkx_phase)phase, detail ? detail : "", r->phase_ud);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the pod watch ---- */

static const cJSON *path(const cJSON *j, const char *a, const char *b, const char *c)
{
	j = cJSON_GetObjectItemCaseSensitive(j, a);
	if (b)
		j = cJSON_GetObjectItemCaseSensitive(j, b);
	if (c)
		j = cJSON_GetObjectItemCaseSensitive(j, c);
	return j;
}

static void copy_str(char *dst, size_t n, const cJSON *j)
{
	snprintf(dst, n, "%s", cJSON_IsString(j) ? j->valuestring : "");
}

static int on_pod_event(const char *type, cJSON *pod, void *ud)
{
	gkx_run *r = ud;
	const cJSON *cs, *state;

	if (!strcmp(type, "BOOKMARK"))
		return 0;
	if (!strcmp(type, "ERROR")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(pod, "code");
		return cJSON_IsNumber(code) && code->valueint == 410 ? GKX_EGONE : GKX_EPROTO;
	}
	copy_str(r->pod, sizeof(r->pod), path(pod, "metadata", "name", NULL));
	if (!strcmp(type, "DELETED") || cJSON_GetObjectItemCaseSensitive(
	                                    cJSON_GetObjectItemCaseSensitive(pod, "metadata"),
	                                    "deletionTimestamp"))
		r->pod_deleted = 1;
	if (r->cstate == C_NONE && cJSON_IsString(path(pod, "spec", "nodeName", NULL)))
		set_phase(r, GKX_PHASE_STARTING, r->image);
	cs = cJSON_GetArrayItem(path(pod, "status", "containerStatuses", NULL), 0);
	if (!cs)
		return 0;
	if ((state = path(cs, "state", "terminated", NULL)) != NULL) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(state, "exitCode");
		r->cstate = C_TERMINATED;
		r->term_exit = cJSON_IsNumber(code) ? code->valueint : -1;
		copy_str(r->term_reason, sizeof(r->term_reason),
		         cJSON_GetObjectItemCaseSensitive(state, "reason"));
	} else if (path(cs, "state", "running", NULL)) {
		r->cstate = C_RUNNING;
		set_phase(r, GKX_PHASE_RUNNING, NULL);
	} else if ((state = path(cs, "state", "waiting", NULL)) != NULL) {
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

	if (r->watch.req.status != 200)
		return gkx__buf_put(&r->watch.errbody, data, len) < 0;
	return gkx__watch_feed(&r->splitter, data, len) < 0;
}

static int start_watch(gkx_run *r)
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
	    gkx__api_query(&pq, "timeoutSeconds", secs) < 0) {
		rc = gkx__error_oom(r->err);
	} else {
		rc = gkx__api_stream_start(r->client, &r->watch.req, &r->watch.url, pq.ptr, watch_data, r,
		                           r->err);
	}
	gkx__buf_free(&pq);
	gkx__buf_free(&sel);
	r->watch.active = rc == 0;
	return rc;
}

/* ---- the log ---- */

static int log_data(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;
	size_t skip = 0;

	if (r->log.req.status != 200)
		return gkx__buf_put(&r->log.errbody, data, len) < 0;
	if (r->seen < r->delivered)
		skip = r->delivered - r->seen < len ? r->delivered - r->seen : len;
	r->seen += len;
	if (len > skip) {
		if (r->on_output && r->on_output(data + skip, len - skip, r->output_ud)) {
			r->out_aborted = 1;
			return 1;
		}
		r->delivered += len - skip;
	}
	return 0;
}

static int start_log(gkx_run *r, int follow)
{
	gkx_buf pq = GKX_BUF_INIT;
	int rc;

	r->seen = 0;
	r->log_final = !follow;
	gkx__buf_free(&r->log.url);
	gkx__buf_free(&r->log.errbody);
	if (gkx__api_path(&pq, "v1", r->ns, "pods", r->pod, "log") < 0 ||
	    gkx__api_query(&pq, "container", "sandbox") < 0 ||
	    (follow && gkx__api_query(&pq, "follow", "true") < 0)) {
		rc = gkx__error_oom(r->err);
	} else {
		rc = gkx__api_stream_start(r->client, &r->log.req, &r->log.url, pq.ptr, log_data, r, r->err);
	}
	gkx__buf_free(&pq);
	r->log.active = rc == 0;
	return rc;
}

static void stop_stream(gkx_run *r, stream *s)
{
	if (s->active && !s->req.done)
		r->client->tp->cancel(r->client->tp_state, &s->req);
	s->active = 0;
}

/* ---- the loop ---- */

static int is_start_failure(const char *reason)
{
	static const char *const fatal[] = {"ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName",
	                                    "CreateContainerConfigError", "CreateContainerError",
	                                    "RunContainerError", NULL};
	size_t i;

	for (i = 0; fatal[i]; i++)
		if (!strcmp(reason, fatal[i]))
			return 1;
	return 0;
}


/* A Job whose pod cannot be created (a missing RuntimeClass, a quota, an
 * admission webhook) gets no pod at all: the Job controller only records
 * FailedCreate events and retries. Ask for them while no pod has shown up. */
static int check_job_events(gkx_run *r)
{
	gkx_buf pq = GKX_BUF_INIT, sel = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	cJSON *list = NULL;
	const cJSON *ev;
	int rc;

	if (gkx__buf_printf(&sel, "involvedObject.kind=Job,involvedObject.name=%s", r->name) < 0 ||
	    gkx__api_path(&pq, "v1", r->ns, "events", NULL, NULL) < 0 ||
	    gkx__api_query(&pq, "fieldSelector", sel.ptr) < 0) {
		rc = gkx__error_oom(r->err);
		goto out;
	}
	rc = gkx__api_call(r->client, "GET", pq.ptr, NULL, NULL, &resp, "reading the Job's events", r->err);
	if (rc == GKX_EFORBIDDEN) {
		rc = 0; /* allowed to run Jobs but not to read events: keep waiting */
		goto out;
	}
	if (rc < 0)
		goto out;
	list = cJSON_ParseWithLength(resp.ptr, resp.len);
	cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(list, "items")) {
		const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "reason"));
		const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "message"));
		if (reason && !strcmp(reason, "FailedCreate")) {
			set_reason(r, "FailedCreate");
			rc = gkx__error_set(r->err, GKX_ESTART, "the Job cannot create its pod: %s",
			                    msg ? msg : "(no message)");
			break;
		}
	}
out:
	cJSON_Delete(list);
	gkx__buf_free(&pq);
	gkx__buf_free(&sel);
	gkx__buf_free(&resp);
	return rc;
}

/* Called after every wait: react to what the streams delivered. Returns 1
 * when the run is over, 0 to keep waiting, or a negative error. */
static int step(gkx_run *r, double deadline)
{
	if (r->cancelled) {
		set_reason(r, "Interrupted");
		return gkx__error_set(r->err, GKX_ECANCELED, "interrupted; deleting %s", r->name);
	}
	if (r->watch.active && r->watch.req.done) {
		r->watch.active = 0;
		if (r->splitter.error == GKX_EGONE || r->watch.req.status == 410) {
			/* Our watch starts without a resourceVersion, so a relist is a restart. */
		} else if (r->watch.req.error && r->watch.req.error != GKX_ETIMEOUT) {
			return gkx__error_set(r->err, r->watch.req.error, "watching pods of %s: %s", r->name,
			                      r->watch.req.error_text);
		} else if (r->watch.req.status != 200) {
			return gkx__api_status_error(r->err, r->watch.req.status, r->watch.errbody.ptr,
			                             r->watch.errbody.len, "watching pods");
		} else if (r->splitter.error) {
			return gkx__error_set(r->err, r->splitter.error, "watching pods of %s: bad event",
			                      r->name);
		}
		if (r->cstate != C_TERMINATED && start_watch(r) < 0)
			return r->err->code;
	}
	if (r->log.active && r->log.req.done) {
		r->log.active = 0;
		if (r->out_aborted)
			return gkx__error_set(r->err, GKX_ECANCELED, "the output reader stopped the run");
		if (r->log.req.status == 200 && !r->log.req.error) {
			/* A follow stream ends when the container does; either way the
			 * log is whole. */
			r->log_complete = 1;
		} else if (r->log_final && r->pod_deleted) {
			r->log_complete = 1; /* the pod and its log are gone */
		} else if (r->log_final) {
			return gkx__api_status_error(r->err, r->log.req.status, r->log.errbody.ptr,
			                             r->log.errbody.len, "reading the log");
		}
		/* Otherwise a follow that failed (container not ready yet): retried below. */
	}
	if (!r->pod[0] && now_s() >= r->next_event_check) {
		int rc = check_job_events(r);
		if (rc < 0)
			return rc;
		r->next_event_check = now_s() + EVENT_CHECK_EVERY_S;
	}
	if (r->cstate == C_WAITING && is_start_failure(r->waiting_reason)) {
		set_reason(r, r->waiting_reason);
		return gkx__error_set(r->err, GKX_ESTART, "%s: %s (image %s)", r->waiting_reason,
		                      r->waiting_message, r->image);
	}
	if (r->cstate == C_RUNNING && !r->log.active && !r->log_complete && r->pod[0])
		if (start_log(r, 1) < 0)
			return r->err->code;
	if (r->cstate == C_TERMINATED && !r->log_complete) {
		/* The follow stream would notice the exit only after the kubelet's
		 * next check (up to a second): fetch the finished log instead. */
		if (!r->log.active || !r->log_final) {
			stop_stream(r, &r->log);
			if (start_log(r, 0) < 0)
				return r->err->code;
		}
	}
	if (r->cstate == C_TERMINATED && r->log_complete) {
		r->exit_code = r->term_exit;
		set_reason(r, r->term_reason[0] ? r->term_reason : (r->term_exit ? "Error" : "Completed"));
		if (r->pod_deleted && now_s() + CLIENT_GRACE_S >= deadline && strcmp(r->reason, "OOMKilled")) {
			r->exit_code = -1;
			set_reason(r, "DeadlineExceeded");
		}
		return 1;
	}
	if (r->pod_deleted && r->cstate != C_TERMINATED && !r->log.active) {
		/* The Job controller deletes the pod when activeDeadlineSeconds fires. */
		set_reason(r, "DeadlineExceeded");
		return 1;
	}
	if (now_s() > deadline) {
		set_reason(r, "DeadlineExceeded");
		return 1;
	}
	return 0;
}

static int create_objects(gkx_run *r)
{
	gkx_buf pq = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	cJSON *obj = NULL, *answer = NULL;
	char *body = NULL;
	int rc;

	/* The Job first, then the ConfigMap already owned by it: no moment
	 * exists in which a killed client would leave an unowned ConfigMap. The
	 * pod cannot start before its ConfigMap exists; the kubelet waits. */
	if (!(obj = make_job(r)) || !(body = cJSON_PrintUnformatted(obj)) ||
	    gkx__api_path(&pq, "batch/v1", r->ns, "jobs", NULL, NULL) < 0) {
		rc = gkx__error_oom(r->err);
		goto out;
	}
	/* From here on the Job may exist even if no answer arrives (a cancel
	 * or a dropped connection mid-request): cleanup deletes it by name. */
	r->created = 1;
	rc = gkx__api_call(r->client, "POST", pq.ptr, "application/json", body, &resp,
	                   "creating Job", r->err);
	if (rc < 0) {
		/* A refusal from the server means nothing exists; a 409 in
		 * particular is somebody else's object, never to be deleted. */
		if (rc != GKX_ETRANSPORT && rc != GKX_ETIMEOUT && rc != GKX_ECANCELED)
			r->created = 0;
		goto out;
	}
	answer = cJSON_ParseWithLength(resp.ptr, resp.len);
	r->job_uid = gkx__strdup(cJSON_GetStringValue(path(answer, "metadata", "uid", NULL)));
	if (!r->job_uid) {
		rc = gkx__error_set(r->err, GKX_EPROTO, "creating Job: the answer has no uid");
		goto out;
	}
	cJSON_Delete(obj);
	cJSON_free(body);
	body = NULL;
	gkx__buf_free(&pq);
	gkx__buf_free(&resp);
	if (!(obj = make_configmap(r)) || !(body = cJSON_PrintUnformatted(obj)) ||
	    gkx__api_path(&pq, "v1", r->ns, "configmaps", NULL, NULL) < 0) {
		rc = gkx__error_oom(r->err);
		goto out;
	}
	rc = gkx__api_call(r->client, "POST", pq.ptr, "application/json", body, NULL,
	                   "creating ConfigMap", r->err);
out:
	cJSON_Delete(obj);
	cJSON_Delete(answer);
	cJSON_free(body);
	gkx__buf_free(&pq);
	gkx__buf_free(&resp);
	return rc;
}

/* Delete what the run created. Runs even after a cancel: the flag is set
 * aside so these requests go through, each bounded in time. */
static int cleanup(gkx_run *r, gkx_error *err)
{
	gkx_buf pq = GKX_BUF_INIT;
	int rc = 0, rc2;

	r->client->cancel = NULL;
	if (!r->created || r->keep)
		return 0;
	set_phase(r, GKX_PHASE_CLEANING, r->name);
	if (gkx__api_path(&pq, "batch/v1", r->ns, "jobs", r->name, NULL) < 0 ||
	    gkx__api_query(&pq, "propagationPolicy", "Background") < 0)
		return gkx__error_oom(err);
	rc = gkx__api_call(r->client, "DELETE", pq.ptr, NULL, NULL, NULL, "deleting Job", err);
	if (rc == GKX_ENOTFOUND)
		rc = 0;
	gkx__buf_free(&pq);
	if (gkx__api_path(&pq, "v1", r->ns, "configmaps", r->name, NULL) < 0)
		return gkx__error_oom(err);
	rc2 = gkx__api_call(r->client, "DELETE", pq.ptr, NULL, NULL, NULL, "deleting ConfigMap",
	                    rc < 0 ? NULL : err);
	gkx__buf_free(&pq);
	if (rc2 == GKX_ENOTFOUND)
		rc2 = 0;
	return rc < 0 ? rc : rc2;
}

int gkx_run_execute(gkx_run *r, gkx_error *err)
{
	gkx_error cleanup_err, local;
	double deadline;
	int rc = 0;

	if (!err)
		err = &local; /* the loop reads codes back from it */
	gkx_error_clear(err);
	if (r->executed)
		return gkx__error_set(err, GKX_EINVAL, "a run executes once; make a new one");
	r->executed = 1;
	r->err = err;
	r->client->cancel = &r->cancelled;
	set_phase(r, GKX_PHASE_CREATING, r->name);
	rc = create_objects(r);
	r->created_at = now_s();
	r->next_event_check = r->created_at + EVENT_CHECK_AFTER_S;
	deadline = r->created_at + (double)r->timeout_s + CLIENT_GRACE_S;
	if (rc == 0) {
		set_phase(r, GKX_PHASE_SCHEDULING, NULL);
		rc = start_watch(r);
	}
	while (rc == 0) {
		rc = r->client->tp->wait(r->client->tp_state, WAIT_SLICE_MS);
		if (rc < 0) {
			gkx__error_set(err, rc, "transport failure");
			break;
		}
		rc = step(r, deadline);
	}
	if (rc == 1)
		rc = 0;
	stop_stream(r, &r->watch);
	stop_stream(r, &r->log);
	if (rc < 0 && !r->reason[0])
		set_reason(r, rc == GKX_ECANCELED ? "Interrupted" : "Failed");
	{
		int crc;
		gkx_error_clear(&cleanup_err);
		crc = cleanup(r, &cleanup_err);
		if (crc < 0 && rc == 0) {
			rc = crc;
			if (err)
				*err = cleanup_err;
		}
	}
	r->err = NULL;
	return rc;
}

void gkx_run_cancel(gkx_run *r)
{
	if (r)
		r->cancelled = 1;
}

int gkx_run_exit_code(const gkx_run *r) { return r->exit_code; }
const char *gkx_run_reason(const gkx_run *r) { return r->reason; }
const char *gkx_run_name(const gkx_run *r) { return r->name; }
const char *gkx_run_namespace(const gkx_run *r) { return r->ns; }

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
	free_strv(r->cmd);
	free_strv(r->env);
	if (r->files) {
		for (i = 0; i < r->nfiles; i++) {
			free((char *)r->files[i].name);
			free((char *)r->files[i].data);
		}
		free(r->files);
	}
	free(r->job_uid);
	gkx__buf_free(&r->rendered);
	gkx__buf_free(&r->watch.url);
	gkx__buf_free(&r->log.url);
	gkx__buf_free(&r->watch.errbody);
	gkx__buf_free(&r->log.errbody);
	gkx__watch_reset(&r->splitter);
	free(r);
}
