/* What a run creates in the cluster and how it is rendered: the Job, the
 * code ConfigMap (not for a run whose code goes over the exec) and the
 * NetworkPolicy of --network=none, from the run's options through the
 * manifest builders; their creation, in the order that never leaves an
 * unowned or unprotected object, and their deletion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

static void build_spec(const gkx_run *r, gkx_manifest_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->name = r->name;
	s->ns = r->ns;
	s->image = r->image;
	s->script_name = r->files[0].name;
	s->interpreter = r->interpreter;
	s->args = (const char *const *)r->args;
	s->nargs = r->nargs;
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
	s->end_marker = r->end_marker;
	s->exec_delivery = r->via_exec;
}

static cJSON *make_job(const gkx_run *r)
{
	gkx_manifest_spec s;

	build_spec(r, &s);
	return gkx__manifest_job(&s);
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

/* The run's own objects: through the generic helpers below, with the
 * cancel flag set aside so that a create is never abandoned half-way (a
 * cancel that cut the POST short could not know whether the object exists,
 * and one created after our DELETE would outlive the run); it takes effect
 * right after. */
static int create(gkx_run *r, const char *gv, const char *resource, cJSON *obj, const char *what,
                  cJSON **answer)
{
	gkx__flag *saved = r->client->cancel;
	int rc;

	r->client->cancel = NULL;
	rc = gkx__object_create(r->client, r->ns, r->name, gv, resource, obj, what, answer, r->err);
	r->client->cancel = saved;
	return rc;
}

int gkx__run_create_objects(gkx_run *r)
{
	cJSON *answer = NULL;
	const char *uid;
	int rc;

	/* The Job first, then the ConfigMap already owned by it: no moment
	 * exists in which a killed client would leave an unowned ConfigMap. The
	 * pod cannot start before its ConfigMap exists; the kubelet waits. From
	 * the Job's POST on, cleanup deletes by name even if no answer came.
	 * An exec'd run has no ConfigMap: its code goes over the exec. */
	r->created = 1;
	rc = create(r, "batch/v1", "jobs", make_job(r), "creating Job", &answer);
	if (rc < 0) {
		/* A refusal from the server means nothing exists; a 409 in
		 * particular is somebody else's object, never to be deleted.
		 * Nothing exists either when nothing was sent (the credential
		 * plugin failed first): no cleanup to run it again for. */
		if ((rc != GKX_ETRANSPORT && rc != GKX_ETIMEOUT && rc != GKX_ECANCELED) ||
		    r->client->last_attempts == 0)
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
	 * ConfigMap, and an exec'd run's code is sent only after this, so the
	 * code never runs unconfined. */
	if (r->network_none) {
		rc = create(r, "networking.k8s.io/v1", "networkpolicies", make_network_policy(r),
		            "creating NetworkPolicy", NULL);
		if (rc < 0)
			return rc;
		if (gkx__run_cancelled(r))
			return gkx__error_set(r->err, GKX_ECANCELED, "interrupted; deleting %s",
			                      r->name);
	}
	if (r->via_exec)
		return 0;
	return create(r, "v1", "configmaps", make_configmap(r), "creating ConfigMap", NULL);
}

static int delete_objects(gkx_run *r, gkx_error *err);

/* Delete what the run created. Runs even after a cancel: the flag is set
 * aside so these requests go through, each bounded in time. */
int gkx__run_cleanup(gkx_run *r, gkx_error *err)
{
	gkx__flag *saved = r->client->cancel;
	int rc;

	if (!r->created || r->keep)
		return 0;
	r->client->cancel = NULL;
	rc = delete_objects(r, err);
	r->client->cancel = saved;
	return rc;
}

static int delete_one(gkx_run *r, const char *gv, const char *resource, const char *what,
                      gkx_error *err)
{
	return gkx__object_delete(r->client, r->ns, r->name, gv, resource, what, err);
}

/* A run that its end marker or its exec ended is over before the kubelet
 * knows it (an exec'd run's container only waits, and would until its
 * deadline):
 * the Job is deleted first (no new pod can be made for it), then its pod
 * at once, with no grace period. Waiting for the kubelet to confirm a pod
 * it still thinks running left it Terminating for up to a minute on 1.20,
 * and the container has already exited. Without the right to delete pods
 * (403), the garbage collector deletes it with the Job, in its own time. */
void gkx__run_delete_pod_now(gkx_run *r)
{
	gkx_buf pq = GKX_BUF_INIT;

	if (gkx__api_path(&pq, "v1", r->ns, "pods", r->pod, NULL) == 0 &&
	    gkx__api_query(&pq, "gracePeriodSeconds", "0") == 0)
		gkx__api_call(r->client, "DELETE", pq.ptr, NULL, NULL, NULL, "deleting the pod",
		              NULL);
	gkx__buf_free(&pq);
}

/* The Job first (its pod with it), then what it owns: the garbage
 * collector would delete those with the Job, but later. The first failure
 * is the one described. */
static int delete_objects(gkx_run *r, gkx_error *err)
{
	int rc, rc2;

	gkx__run_set_phase(r, GKX_PHASE_CLEANING, r->name);
	rc = delete_one(r, "batch/v1", "jobs", "deleting Job", err);
	if (rc == 0 && (r->marker_seen || r->via_exec) && r->pod[0] && r->cstate != C_TERMINATED)
		gkx__run_delete_pod_now(r);
	if (r->network_none) {
		rc2 = delete_one(r, "networking.k8s.io/v1", "networkpolicies",
		                 "deleting NetworkPolicy", rc < 0 ? NULL : err);
		if (rc == 0)
			rc = rc2;
	}
	if (r->via_exec)
		return rc;
	rc2 = delete_one(r, "v1", "configmaps", "deleting ConfigMap", rc < 0 ? NULL : err);
	return rc < 0 ? rc : rc2;
}

int gkx__object_create(gkx_client *c, const char *ns, const char *name, const char *gv,
                       const char *resource, cJSON *obj, const char *what, cJSON **answer,
                       gkx_error *err)
{
	gkx_buf pq = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	char *body = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON *got = NULL;
	int rc;

	cJSON_Delete(obj);
	if (!body || gkx__api_path(&pq, gv, ns, resource, NULL, NULL) < 0) {
		rc = gkx__error_oom(err);
		goto out;
	}
	rc = gkx__api_call(c, "POST", pq.ptr, "application/json", body, &resp, what, err);
	if (rc == GKX_ECONFLICT && c->last_attempts > 1) {
		/* Our names are random: a 409 on a retry is our own first
		 * attempt having landed, so the object is read back. */
		gkx__buf_free(&pq);
		if (gkx__api_path(&pq, gv, ns, resource, name, NULL) < 0)
			rc = gkx__error_oom(err);
		else
			rc = gkx__api_call(c, "GET", pq.ptr, NULL, NULL, &resp, what, err);
	}
	if (rc == 0 && !(got = cJSON_ParseWithLength(resp.ptr, resp.len)))
		rc = gkx__error_set(err, GKX_EPROTO, "%s: the answer is not JSON", what);
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

int gkx__object_delete(gkx_client *c, const char *ns, const char *name, const char *gv,
                       const char *resource, const char *what, gkx_error *err)
{
	gkx_buf pq = GKX_BUF_INIT;
	int rc;

	if (gkx__api_path(&pq, gv, ns, resource, name, NULL) < 0 ||
	    (!strcmp(resource, "jobs") &&
	     gkx__api_query(&pq, "propagationPolicy", "Background") < 0)) {
		gkx__buf_free(&pq);
		return gkx__error_oom(err);
	}
	rc = gkx__api_call(c, "DELETE", pq.ptr, NULL, NULL, NULL, what, err);
	gkx__buf_free(&pq);
	return rc == GKX_ENOTFOUND ? gkx__error_clear_ok(err) : rc;
}
