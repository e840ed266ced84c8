/* The JSON entry point for bindings: parse requests into runs, execute
 * them as a batch on one client, render the results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

struct gkx_session {
	gkx_config *cfg;
	gkx_client *client;
	char *results;
	gkx__flag cancelled;
	gkx_session_phase_cb on_phase;
	void *phase_ud;
};

/* Output reaches the caller's callback as it arrives; the run itself keeps
 * what its result holds (capture_bytes), so nothing here grows. */
typedef struct {
	gkx_session *s;
	unsigned index;
	gkx_session_output_cb cb;
	void *ud;
	gkx_run *const *run; /* set once the request is a run */
} slot;

int gkx_session_new_from_env(gkx_session **out, const char *config_json, gkx_error *err)
{
	gkx_config_options o;
	gkx_session *s;
	cJSON *c = NULL;
	const cJSON *rt;
	int rc;

	gkx_error_clear(err);
	*out = NULL;
	if (config_json && *config_json) {
		c = cJSON_Parse(config_json);
		if (!cJSON_IsObject(c)) {
			cJSON_Delete(c);
			return gkx__error_set(err, GKX_EINVAL,
			                      "the session config is not a JSON object");
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		cJSON_Delete(c);
		return gkx__error_oom(err);
	}
	gkx_config_options_init(&o);
	gkx_config_options_from_env(&o);
	o.kubeconfig = gkx__json_str(c, "kubeconfig", GKX__END);
	o.context = gkx__json_str(c, "context", GKX__END);
	o.ns = gkx__json_str(c, "namespace", GKX__END);
	rt = cJSON_GetObjectItemCaseSensitive(c, "requestTimeout");
	if (cJSON_IsNumber(rt) && rt->valuedouble > 0)
		o.request_timeout_ms = (long)(rt->valuedouble * 1000);
	rc = gkx_config_load(&s->cfg, &o, err);
	if (rc == 0)
		rc = gkx_client_new(&s->client, s->cfg, err);
	cJSON_Delete(c);
	if (rc < 0) {
		gkx_session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int on_output(const char *data, size_t len, void *ud)
{
	slot *sl = ud;

	if (sl->cb)
		sl->cb(sl->index, data, len, sl->ud);
	return 0;
}

static void on_phase(gkx_phase phase, const char *detail, void *ud)
{
	const slot *sl = ud;
	const gkx_run *r = *sl->run;

	(void)detail;
	if (!sl->s->on_phase)
		return;
	/* A warm run deletes the parked pod's Job, not one of its own name. */
	sl->s->on_phase(sl->index, (int)phase, r->warm ? r->claim.job : r->name, r->ns,
	                r->warm ? r->claim.pod : r->pod, sl->s->phase_ud);
}

/* The options of one request; strings point into the parsed request, which
 * lives until the run is made (gkx_run_new copies them). */
static int make_run(gkx_run **run, gkx_session *s, const cJSON *req, slot *sl, gkx_error *err)
{
	gkx_run_options o;
	const cJSON *v, *e;
	const char **args = NULL;
	char **env = NULL;
	gkx_file *files = NULL;
	size_t i;
	int rc;

	gkx_run_options_init(&o);
	o.script = gkx__json_str(req, "code", GKX__END);
	if (!o.script)
		return gkx__error_set(err, GKX_EINVAL, "a request needs \"code\", a string");
	o.script_len = strlen(o.script);
	o.script_name = gkx__json_str(req, "filename", GKX__END)
	                        ? gkx__json_str(req, "filename", GKX__END)
	                        : "main.py";
	o.image = gkx__json_str(req, "image", GKX__END);
	o.cpu = gkx__json_str(req, "cpu", GKX__END);
	o.memory = gkx__json_str(req, "memory", GKX__END);
	o.ns = gkx__json_str(req, "namespace", GKX__END);
	o.workdir = gkx__json_str(req, "workdir", GKX__END);
	o.network = gkx__json_str(req, "network", GKX__END);
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(req, "timeout")))
		o.timeout_s = v->valuedouble < 1 ? 1 : (long)v->valuedouble;
	/* The result keeps the last limitBytes of the output; the callback
	 * still gets all of it. */
	o.capture_bytes = GKX_DEFAULT_CAPTURE_BYTES;
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(req, "limitBytes")) &&
	    v->valuedouble >= 1)
		o.capture_bytes = v->valuedouble < 1e15 ? (size_t)v->valuedouble : (size_t)1e15;
	/* Arrays sized first, filled once all of them exist. */
	{
		const cJSON *jargs = cJSON_GetObjectItemCaseSensitive(req, "args");
		const cJSON *jenv = cJSON_GetObjectItemCaseSensitive(req, "env");
		const cJSON *jfiles = cJSON_GetObjectItemCaseSensitive(req, "files");
		size_t na = cJSON_IsArray(jargs) ? (size_t)cJSON_GetArraySize(jargs) : 0;
		size_t ne = cJSON_IsObject(jenv) ? (size_t)cJSON_GetArraySize(jenv) : 0;
		size_t nf = cJSON_IsObject(jfiles) ? (size_t)cJSON_GetArraySize(jfiles) : 0;

		args = calloc(na + 1, sizeof(*args));
		env = calloc(ne + 1, sizeof(*env));
		files = calloc(nf + 1, sizeof(*files));
		if (!args || !env || !files) {
			rc = gkx__error_oom(err);
			goto out;
		}
		i = 0;
		cJSON_ArrayForEach (e, jargs)
			args[i++] = cJSON_IsString(e) ? e->valuestring : "";
		i = 0;
		cJSON_ArrayForEach (e, jenv) {
			gkx_buf kv = GKX_BUF_INIT;
			if (gkx__buf_printf(&kv, "%s=%s", e->string,
			                    cJSON_IsString(e) ? e->valuestring : "") < 0) {
				rc = gkx__error_oom(err);
				goto out;
			}
			env[i++] = gkx__buf_detach(&kv);
		}
		i = 0;
		cJSON_ArrayForEach (e, jfiles) {
			files[i].name = e->string;
			files[i].data = cJSON_IsString(e) ? e->valuestring : "";
			files[i].len = strlen(files[i].data);
			i++;
		}
		o.args = args;
		o.nargs = na;
		o.env = (const char *const *)env;
		o.nenv = ne;
		o.files = files;
		o.nfiles = nf;
	}
	o.on_output = on_output;
	o.output_userdata = sl;
	o.on_stderr = on_output;
	o.stderr_userdata = sl;
	o.on_phase = on_phase;
	o.phase_userdata = sl;
	o.cold = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "cold"));
	rc = gkx_run_new(run, s->client, &o, err);
out:
	free(args);
	gkx__strv_free(env);
	free(files);
	return rc;
}

int gkx_session_run(gkx_session *s, const char *requests_json, unsigned parallel,
                    gkx_session_output_cb cb, void *userdata, gkx_error *err)
{
	cJSON *reqs = requests_json ? cJSON_Parse(requests_json) : NULL, *out = NULL;
	const cJSON *req;
	size_t n, i;
	gkx_batch *batch = NULL;
	gkx_run **runs = NULL;
	slot *slots = NULL;
	gkx_error *errs = NULL;
	int rc = 0, brc;

	gkx_error_clear(err);
	if (!cJSON_IsArray(reqs)) {
		cJSON_Delete(reqs);
		return gkx__error_set(err, GKX_EINVAL, "the requests are not a JSON array");
	}
	n = (size_t)cJSON_GetArraySize(reqs);
	runs = calloc(n + 1, sizeof(*runs));
	slots = calloc(n + 1, sizeof(*slots));
	errs = calloc(n + 1, sizeof(*errs));
	out = cJSON_CreateArray();
	if (!runs || !slots || !errs || !out) {
		rc = gkx__error_oom(err);
		goto done;
	}
	if ((rc = gkx_batch_new(&batch, s->client, parallel ? parallel : 1, err)) < 0)
		goto done;
	i = 0;
	cJSON_ArrayForEach (req, reqs) {
		slots[i].s = s;
		slots[i].index = (unsigned)i;
		slots[i].cb = cb;
		slots[i].ud = userdata;
		slots[i].run = &runs[i];
		if (cJSON_IsObject(req) && make_run(&runs[i], s, req, &slots[i], &errs[i]) == 0)
			gkx_batch_add(batch, runs[i], NULL);
		else if (!cJSON_IsObject(req))
			gkx__error_set(&errs[i], GKX_EINVAL, "a request must be a JSON object");
		i++;
	}
	/* A cancel from another thread (Ctrl-C in a notebook) reaches every run
	 * through the session's flag. */
	gkx__batch_use_flag(batch, &s->cancelled);
	brc = gkx_batch_execute(batch, err);
	atomic_store(&s->cancelled, 0);
	for (i = 0; i < n; i++) {
		int status = runs[i] ? gkx_run_status(runs[i]) : errs[i].code;
		const gkx_error *e = runs[i] ? gkx_run_error(runs[i]) : &errs[i];
		cJSON_AddItemToArray(out, gkx__run_result(runs[i], status, e, NULL, NULL));
	}
	free(s->results);
	s->results = cJSON_PrintUnformatted(out);
	rc = brc;
done:
	gkx_batch_free(batch);
	for (i = 0; runs && i < n; i++)
		gkx_run_free(runs[i]);
	free(runs);
	free(slots);
	free(errs);
	cJSON_Delete(out);
	cJSON_Delete(reqs);
	return rc;
}

int gkx_session_pool(gkx_session *s, const char *request_json, gkx_error *err)
{
	cJSON *req = request_json ? cJSON_Parse(request_json) : NULL, *out = NULL;
	const char *action = gkx__json_str(req, "action", GKX__END);
	gkx_pool_options o;
	gkx_pool_status st;
	const cJSON *v;
	unsigned deleted = 0;
	int rc;

	gkx_error_clear(err);
	memset(&st, 0, sizeof(st));
	if (!cJSON_IsObject(req) || !action ||
	    (strcmp(action, "fill") && strcmp(action, "status") && strcmp(action, "delete"))) {
		cJSON_Delete(req);
		return gkx__error_set(err, GKX_EINVAL,
		                      "a pool request is a JSON object with \"action\": \"fill\", "
		                      "\"status\" or \"delete\"");
	}
	gkx_pool_options_init(&o);
	o.ns = gkx__json_str(req, "namespace", GKX__END);
	if (!o.ns || !*o.ns)
		o.ns = gkx_config_namespace(s->cfg);
	o.image = gkx__json_str(req, "image", GKX__END);
	o.cpu = gkx__json_str(req, "cpu", GKX__END);
	o.memory = gkx__json_str(req, "memory", GKX__END);
	o.network = gkx__json_str(req, "network", GKX__END);
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(req, "size")))
		o.size = v->valuedouble < 0 ? 101 : (unsigned)v->valuedouble;
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(req, "ttl")))
		o.ttl_s = (long)v->valuedouble;
	if (!strcmp(action, "delete"))
		rc = gkx_pool_delete(s->client, &o,
		                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "all")),
		                     &deleted, err);
	else if (!strcmp(action, "fill"))
		rc = gkx_pool_fill(s->client, &o, &st, err);
	else
		rc = gkx_pool_status_get(s->client, &o, &st, err);
	if (rc == 0) {
		out = cJSON_CreateObject();
		if (!out || !cJSON_AddStringToObject(out, "pool", st.shape) ||
		    !cJSON_AddStringToObject(out, "namespace", o.ns) ||
		    !cJSON_AddNumberToObject(out, "parked", st.parked) ||
		    !cJSON_AddNumberToObject(out, "starting", st.starting) ||
		    !cJSON_AddNumberToObject(out, "claimed", st.claimed) ||
		    !cJSON_AddNumberToObject(out, "ended", st.ended) ||
		    !cJSON_AddNumberToObject(out, "deleted", deleted)) {
			rc = gkx__error_oom(err);
		} else {
			free(s->results);
			s->results = cJSON_PrintUnformatted(out);
			if (!s->results)
				rc = gkx__error_oom(err);
		}
	}
	cJSON_Delete(out);
	cJSON_Delete(req);
	return rc;
}

gkx_client *gkx__session_client(gkx_session *s) { return s->client; }

const char *gkx_session_results(const gkx_session *s) { return s->results ? s->results : "[]"; }

void gkx_session_cancel(gkx_session *s)
{
	if (s)
		atomic_store(&s->cancelled, 1);
}

void gkx_session_on_phase(gkx_session *s, gkx_session_phase_cb cb, void *userdata)
{
	if (!s)
		return;
	s->on_phase = cb;
	s->phase_ud = userdata;
}

void gkx_session_free(gkx_session *s)
{
	if (!s)
		return;
	gkx_client_free(s->client);
	gkx_config_free(s->cfg);
	free(s->results);
	free(s);
}
