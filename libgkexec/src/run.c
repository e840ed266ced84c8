/* One sandboxed run: create the Job and its code ConfigMap, follow the pod
 * through one watch, stream its log, read the exit status, delete what was
 * created. Everything happens in this thread over the client's transport;
 * gkx_run_cancel() only sets a flag that the loop checks between waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run_internal.h"

/* Beyond activeDeadlineSeconds, the client gives up by itself: the 1.20 Job
 * controller enforces the deadline only at its next sync of the Job, which
 * for a quiet pod can be much later. */
#define CLIENT_GRACE_S          2
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

	if (!o || o->version < 1)
		return gkx__error_set(err, GKX_EINVAL, "gkx_run_options not initialised");
	if (o->version > GKX_RUN_OPTIONS_VERSION)
		return gkx__error_set(
		        err, GKX_EINVAL,
		        "gkx_run_options version %u is newer than this libgkexec's (%d): "
		        "run with the libgkexec whose header the program was built against",
		        o->version, GKX_RUN_OPTIONS_VERSION);
	if (o->version >= 2 && o->network && *o->network && strcmp(o->network, "none") &&
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
		return gkx__error_set(
		        err, GKX_EINVAL,
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
	r->runtime_class =
	        gkx__strdup(o->runtime_class && *o->runtime_class ? o->runtime_class : "gvisor");
	r->timeout_s = o->timeout_s ? o->timeout_s : 300;
	r->start_timeout_s = o->start_timeout_s ? o->start_timeout_s
	                                        : (r->timeout_s < DEFAULT_START_TIMEOUT_S
	                                                   ? r->timeout_s
	                                                   : DEFAULT_START_TIMEOUT_S);
	r->limit_bytes = o->limit_bytes;
	r->workdir = gkx__strdup(o->workdir && *o->workdir ? o->workdir : "/app");
	r->ttl_s = o->ttl_s ? o->ttl_s : 600;
	r->keep = o->keep;
	r->network_none = o->version >= 2 && o->network && !strcmp(o->network, "none");
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
	if (!r->ns || !r->image || !r->cpu || !r->memory || !r->runtime_class || !r->cmd ||
	    !r->env || !r->files || !r->workdir)
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
	s->workdir = r->workdir;
	s->job_uid = r->job_uid;
}

/* The arguments follow the script path in the container's command. */
static int append_args(const gkx_run *r, cJSON *job)
{
	cJSON *c = cJSON_GetArrayItem(
	        cJSON_GetObjectItemCaseSensitive(
	                cJSON_GetObjectItemCaseSensitive(
	                        cJSON_GetObjectItemCaseSensitive(
	                                cJSON_GetObjectItemCaseSensitive(job, "spec"), "template"),
	                        "spec"),
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

static cJSON *make_network_policy(const gkx_run *r)
{
	gkx_manifest_spec s;

	build_spec(r, &s);
	return gkx__manifest_network_policy(&s);
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
	/* The policy first: applied in this order, no pod runs without it. */
	if (!(list = cJSON_CreateObject()) || !cJSON_AddStringToObject(list, "apiVersion", "v1") ||
	    !(items = cJSON_AddArrayToObject(list, "items")) ||
	    (r->network_none && !cJSON_AddItemToArray(items, make_network_policy(r))) ||
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
		if (!json || gkx__buf_puts(&r->rendered, json) < 0 ||
		    gkx__buf_puts(&r->rendered, "\n") < 0)
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
	if (s->active && !s->req.done) {
		r->client->tp->cancel(r->client->tp_state, &s->req);
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
	if (r->cstate == C_TERMINATED && r->log_complete) {
		r->exit_code = r->term_exit;
		gkx__run_set_reason(r, r->term_reason[0] ? r->term_reason
		                                         : (r->term_exit ? "Error" : "Completed"));
		/* Killed at the deadline by the Job controller, not ended by itself. */
		if (r->pod_deleted && now + CLIENT_GRACE_S >= deadline &&
		    strcmp(r->reason, "OOMKilled")) {
			r->exit_code = -1;
			gkx__run_set_reason(r, "DeadlineExceeded");
		}
		return 1;
	}
	if (r->pod_deleted && r->cstate != C_TERMINATED && !r->log.active) {
		/* The Job controller deletes the pod when activeDeadlineSeconds fires. */
		gkx__run_set_reason(r, "DeadlineExceeded");
		return 1;
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

/* POST one object, which is freed here; *answer (if asked for) gets the
 * server's copy. A create is retried on a dropped connection or a 5xx, and
 * our names are random: a 409 on a retry is our own first attempt having
 * landed, so the object is read back. A create is not abandoned half-way: a
 * cancel that cut the POST short could not know whether the object exists,
 * and one created after our DELETE would outlive the run. The cancel flag
 * is set aside for the call and takes effect right after. */
static int create(gkx_run *r, const char *gv, const char *resource, cJSON *obj, const char *what,
                  cJSON **answer)
{
	const volatile sig_atomic_t *saved = r->client->cancel;
	gkx_buf pq = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	char *body = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON *got = NULL;
	int rc;

	cJSON_Delete(obj);
	if (!body || gkx__api_path(&pq, gv, r->ns, resource, NULL, NULL) < 0) {
		rc = gkx__error_oom(r->err);
		goto out;
	}
	r->client->cancel = NULL;
	rc = gkx__api_call(r->client, "POST", pq.ptr, "application/json", body, &resp, what,
	                   r->err);
	if (rc == GKX_ECONFLICT && r->client->last_attempts > 1) {
		gkx__buf_free(&pq);
		if (gkx__api_path(&pq, gv, r->ns, resource, r->name, NULL) < 0)
			rc = gkx__error_oom(r->err);
		else
			rc = gkx__api_call(r->client, "GET", pq.ptr, NULL, NULL, &resp, what,
			                   r->err);
	}
	r->client->cancel = saved;
	if (rc == 0 && !(got = cJSON_ParseWithLength(resp.ptr, resp.len)))
		rc = gkx__error_set(r->err, GKX_EPROTO, "%s: the answer is not JSON", what);
out:
	if (answer)
		*answer = got;
	else
		cJSON_Delete(got);
	cJSON_free(body);
	gkx__buf_free(&pq);
	gkx__buf_free(&resp);
	return rc;
}

static int create_objects(gkx_run *r)
{
	cJSON *answer = NULL;
	const char *uid;
	int rc;

	/* The Job first, then the ConfigMap already owned by it: no moment
	 * exists in which a killed client would leave an unowned ConfigMap. The
	 * pod cannot start before its ConfigMap exists; the kubelet waits. From
	 * the Job's POST on, cleanup deletes by name even if no answer came. */
	r->created = 1;
	rc = create(r, "batch/v1", "jobs", make_job(r), "creating Job", &answer);
	if (rc < 0) {
		/* A refusal from the server means nothing exists; a 409 in
		 * particular is somebody else's object, never to be deleted. */
		if (rc != GKX_ETRANSPORT && rc != GKX_ETIMEOUT && rc != GKX_ECANCELED)
			r->created = 0;
		return rc;
	}
	uid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(answer, "metadata"), "uid"));
	r->job_uid = gkx__strdup(uid);
	cJSON_Delete(answer);
	if (!r->job_uid)
		return gkx__error_set(r->err, uid ? GKX_ENOMEM : GKX_EPROTO,
		                      "creating Job: no uid in the answer");
	if (gkx__run_cancelled(r))
		return gkx__error_set(r->err, GKX_ECANCELED, "interrupted; deleting %s", r->name);
	/* The policy before the code: the pod cannot start without its
	 * ConfigMap, so it never runs unconfined. */
	if (r->network_none) {
		rc = create(r, "networking.k8s.io/v1", "networkpolicies", make_network_policy(r),
		            "creating NetworkPolicy", NULL);
		if (rc < 0)
			return rc;
		if (gkx__run_cancelled(r))
			return gkx__error_set(r->err, GKX_ECANCELED, "interrupted; deleting %s",
			                      r->name);
	}
	return create(r, "v1", "configmaps", make_configmap(r), "creating ConfigMap", NULL);
}

static int delete_objects(gkx_run *r, gkx_error *err);

/* Delete what the run created. Runs even after a cancel: the flag is set
 * aside so these requests go through, each bounded in time. */
static int cleanup(gkx_run *r, gkx_error *err)
{
	const volatile sig_atomic_t *saved = r->client->cancel;
	int rc;

	if (!r->created || r->keep)
		return 0;
	r->client->cancel = NULL;
	rc = delete_objects(r, err);
	r->client->cancel = saved;
	return rc;
}

/* DELETE one object of the run by name; gone already counts as done. The
 * Job's pod goes with it (propagationPolicy=Background). err NULL: a
 * failure is returned but not described. */
static int delete_one(gkx_run *r, const char *gv, const char *resource, const char *what,
                      gkx_error *err)
{
	gkx_buf pq = GKX_BUF_INIT;
	int rc;

	if (gkx__api_path(&pq, gv, r->ns, resource, r->name, NULL) < 0 ||
	    (!strcmp(resource, "jobs") &&
	     gkx__api_query(&pq, "propagationPolicy", "Background") < 0)) {
		gkx__buf_free(&pq);
		return gkx__error_oom(err);
	}
	rc = gkx__api_call(r->client, "DELETE", pq.ptr, NULL, NULL, NULL, what, err);
	gkx__buf_free(&pq);
	return rc == GKX_ENOTFOUND ? 0 : rc;
}

/* The Job first (its pod with it), then what it owns: the garbage
 * collector would delete those with the Job, but later. The first failure
 * is the one described. */
static int delete_objects(gkx_run *r, gkx_error *err)
{
	int rc, rc2;

	gkx__run_set_phase(r, GKX_PHASE_CLEANING, r->name);
	rc = delete_one(r, "batch/v1", "jobs", "deleting Job", err);
	if (r->network_none) {
		rc2 = delete_one(r, "networking.k8s.io/v1", "networkpolicies",
		                 "deleting NetworkPolicy", rc < 0 ? NULL : err);
		if (rc == 0)
			rc = rc2;
	}
	rc2 = delete_one(r, "v1", "configmaps", "deleting ConfigMap", rc < 0 ? NULL : err);
	return rc < 0 ? rc : rc2;
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
	r->deadline = r->t0 + (double)r->timeout_s + CLIENT_GRACE_S;
	r->requests_before = r->client->requests;
	r->timings.created = r->timings.scheduled = r->timings.started = r->timings.ended = -1;
	r->timings.finished = -1;
	gkx__run_set_phase(r, GKX_PHASE_CREATING, r->name);
	rc = create_objects(r);
	if (rc == 0) {
		r->timings.created = gkx__mono_now() - r->t0;
		gkx__run_set_phase(r, GKX_PHASE_SCHEDULING, NULL);
		rc = gkx__run_watch_start(r);
	}
	return rc;
}

int gkx__run_poll(gkx_run *r) { return step(r, r->deadline); }

int gkx__run_end(gkx_run *r, int rc)
{
	gkx_error cleanup_err;
	int crc;

	if (rc == 1)
		rc = 0;
	gkx__run_stop_stream(r, &r->watch);
	gkx__run_stop_stream(r, &r->log);
	gkx__run_log_flush(r);
	if (rc < 0 && !r->reason[0])
		gkx__run_set_reason(r, rc == GKX_ECANCELED ? "Interrupted" : "Failed");
	gkx_error_clear(&cleanup_err);
	crc = cleanup(r, &cleanup_err);
	if (crc < 0 && rc == 0) {
		rc = crc;
		r->result_err = cleanup_err;
	}
	r->timings.finished = gkx__mono_now() - r->t0;
	r->result_rc = rc;
	r->err = NULL;
	return rc;
}

int gkx_run_execute(gkx_run *r, gkx_error *err)
{
	const volatile sig_atomic_t *saved = r->client->cancel;
	int rc;

	gkx_error_clear(err);
	if (r->executed)
		return gkx__error_set(err, GKX_EINVAL, "a run executes once; make a new one");
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
	if (err)
		*err = r->result_err;
	return rc;
}

int gkx_run_status(const gkx_run *r) { return r->executed ? r->result_rc : GKX_EINVAL; }

const gkx_error *gkx_run_error(const gkx_run *r) { return &r->result_err; }

void gkx_run_cancel(gkx_run *r)
{
	if (r)
		r->cancelled = 1;
}

int gkx__run_cancelled(const gkx_run *r)
{
	return r->cancelled || (r->outer_cancel && *r->outer_cancel);
}

int gkx_run_exit_code(const gkx_run *r) { return r->exit_code; }
const char *gkx_run_reason(const gkx_run *r) { return r->reason; }
const char *gkx_run_name(const gkx_run *r) { return r->name; }
const char *gkx_run_namespace(const gkx_run *r) { return r->ns; }
int gkx_run_output_truncated(const gkx_run *r) { return r->truncated; }
unsigned gkx_run_request_count(const gkx_run *r)
{
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
	gkx__strv_free(r->cmd);
	gkx__strv_free(r->env);
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
	gkx__log_parser_reset(&r->logp);
	gkx__watch_reset(&r->splitter);
	free(r);
}
