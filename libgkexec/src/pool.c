/* Parked sandboxes (see gkexec/pool.h): making them, counting them,
 * deleting them.
 *
 * A parked sandbox is a Job of one pod, made by the manifest builders with
 * the run's own hardening, whose pod waits (GKX_PARK_COMMAND). Its labels
 * say which pool (a hash of what shapes the pod) and that it is parked.
 * Both the pod and the Job expire after the pool's TTL; the Job is then
 * garbage-collected by its ttlSecondsAfterFinished. With --network=none
 * the Job is made, then its NetworkPolicy, then a small ConfigMap the pod
 * mounts ("gate"): as with a run's code ConfigMap, the pod cannot start
 * before the policy exists, and both go with the Job.
 *
 * Claiming one is pool_claim.c.
 *
 * `pool delete` takes each parked pod out of the pool the same way (its
 * state label, with its resourceVersion as the precondition) before it
 * deletes the Jobs: of a run and a pool delete that saw the same parked
 * pod, one wins. A run never gets a pod that is about to be deleted, and
 * a pool delete leaves a claimed pod to its run, which deletes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define POOL_DEFAULT_SIZE 2
#define POOL_DEFAULT_TTL  900
#define POOL_JOB_TTL      60 /* a finished parked Job is gone a minute later */
#define POOL_JOB_BACKSTOP 60 /* the Job's deadline, after its pod's */
#define POOL_MAX_SIZE     100
/* Bump when a parked pod changes in a way old ones must not serve. */
#define PARK_TEMPLATE "park-2" /* 2: /tmp and /app are sized tmpfs */

void gkx_pool_options_init(gkx_pool_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = GKX_POOL_OPTIONS_VERSION;
}

/* FNV-1a, 64 bits: a label, not a secret; a pod claimed is checked anyway. */
static void shape_hash(char out[17], const char *const *parts, size_t n)
{
	unsigned long long h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)(parts[i] ? parts[i] : "");
		do {
			h ^= *p;
			h *= 1099511628211ULL;
		} while (*p++);
	}
	snprintf(out, 17, "%016llx", h);
}

int gkx__pool_init(gkx__pool *p, const char *ns, const char *image, const char *cpu,
                   const char *memory, const char *runtime_class, int network_none, long ttl_s,
                   gkx_error *err)
{
	const char *parts[6];

	memset(p, 0, sizeof(*p));
	p->ns = ns;
	p->image = image && *image ? image : GKX_DEFAULT_IMAGE;
	p->cpu = cpu && *cpu ? cpu : GKX_DEFAULT_CPU;
	p->memory = memory && *memory ? memory : "512Mi";
	p->runtime_class = runtime_class && *runtime_class ? runtime_class : "gvisor";
	p->network_none = network_none;
	p->ttl_s = ttl_s > 0 ? ttl_s : POOL_DEFAULT_TTL;
	if (gkx__manifest_request_for(p->cpu_req, sizeof(p->cpu_req), p->cpu, 0) < 0)
		return gkx__error_set(err, GKX_EINVAL,
		                      "cpu \"%s\" is not a quantity such as 500m or 2", p->cpu);
	if (gkx__manifest_request_for(p->mem_req, sizeof(p->mem_req), p->memory, 1) < 0)
		return gkx__error_set(err, GKX_EINVAL,
		                      "memory \"%s\" is not a quantity such as 256Mi or 1Gi",
		                      p->memory);
	parts[0] = PARK_TEMPLATE;
	parts[1] = p->image;
	parts[2] = p->cpu;
	parts[3] = p->memory;
	parts[4] = p->runtime_class;
	parts[5] = network_none ? "none" : "default";
	shape_hash(p->shape, parts, 6);
	return 0;
}

static void park_spec(const gkx__pool *p, const char *name, gkx_manifest_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->ns = p->ns;
	s->image = p->image;
	s->cpu_limit = p->cpu;
	s->cpu_request = p->cpu_req;
	s->memory_limit = p->memory;
	s->memory_request = p->mem_req;
	/* The pod expires by its own deadline (the kubelet's); the Job's is a
	 * backstop, later: when the Job controller deleted the pod at the
	 * very moment the kubelet stopped it for its deadline, the 1.20
	 * kubelet left the pod Terminating for good. Once its pod has
	 * failed, the Job has failed, and its TTL removes both. */
	s->timeout_s = p->ttl_s + POOL_JOB_BACKSTOP;
	s->ttl_s = POOL_JOB_TTL;
	s->runtime_class = p->runtime_class;
	s->pool = p->shape;
	s->pool_ttl_s = p->ttl_s;
	s->gate = p->network_none;
}

int gkx__pool_park(gkx_client *c, const gkx__pool *p, gkx_error *err)
{
	gkx_manifest_spec s;
	char name[64], suffix[9];
	cJSON *answer = NULL;
	const char *uid;
	int rc;

	if ((rc = gkx__random_suffix(suffix, sizeof(suffix), err)) < 0)
		return rc;
	snprintf(name, sizeof(name), "sandbox-pool-%s", suffix);
	park_spec(p, name, &s);
	rc = gkx__object_create(c, p->ns, name, "batch/v1", "jobs", gkx__manifest_job(&s),
	                        "creating a parked sandbox", &answer, err);
	if (rc < 0 || !p->network_none) {
		cJSON_Delete(answer);
		return rc;
	}
	uid = gkx__json_str(answer, "metadata", "uid", GKX__END);
	if (!uid) {
		cJSON_Delete(answer);
		gkx__object_delete(c, p->ns, name, "batch/v1", "jobs", "deleting a sandbox", NULL);
		return gkx__error_set(err, GKX_EPROTO, "creating a parked sandbox: no uid");
	}
	s.job_uid = uid;
	rc = gkx__object_create(c, p->ns, name, "networking.k8s.io/v1", "networkpolicies",
	                        gkx__manifest_network_policy(&s),
	                        "creating a parked sandbox's NetworkPolicy", NULL, err);
	if (rc == 0)
		rc = gkx__object_create(c, p->ns, name, "v1", "configmaps",
		                        gkx__manifest_configmap(&s, NULL, 0),
		                        "creating a parked sandbox's gate", NULL, err);
	cJSON_Delete(answer);
	if (rc < 0) /* what exists goes with the Job */
		gkx__object_delete(c, p->ns, name, "batch/v1", "jobs", "deleting a sandbox", NULL);
	return rc;
}

int gkx__pool_list(gkx_client *c, const char *ns, const char *gv, const char *resource,
                   const char *shape, const char *extra, cJSON **out, gkx_error *err)
{
	gkx_buf pq = GKX_BUF_INIT, sel = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	int rc;

	*out = NULL;
	if (gkx__buf_printf(&sel, "%s=%s,%s%s%s%s", GKX_LABEL_MANAGED_BY, GKX_TOOL_NAME,
	                    GKX_LABEL_POOL, shape ? "=" : "", shape ? shape : "",
	                    extra ? extra : "") < 0 ||
	    gkx__api_path(&pq, gv, ns, resource, NULL, NULL) < 0 ||
	    gkx__api_query(&pq, "labelSelector", sel.ptr) < 0) {
		rc = gkx__error_oom(err);
	} else {
		rc = gkx__api_call(c, "GET", pq.ptr, NULL, NULL, &resp,
		                   strcmp(resource, "pods") ? "listing parked sandboxes"
		                                            : "listing parked pods",
		                   err);
		if (rc == 0 && !(*out = cJSON_ParseWithLength(resp.ptr, resp.len)))
			rc = gkx__error_set(err, GKX_EPROTO, "listing %s: the answer is not JSON",
			                    resource);
	}
	gkx__buf_free(&pq);
	gkx__buf_free(&sel);
	gkx__buf_free(&resp);
	return rc;
}

/* ---- the public calls ---- */

static int pool_from_options(gkx__pool *p, gkx_client *c, const gkx_pool_options *caller,
                             gkx_pool_options *o, gkx_error *err)
{
	static const size_t sizes[] = { 0, sizeof(gkx_pool_options) };
	int rc;

	memset(o, 0, sizeof(*o));
	memset(p, 0, sizeof(*p));
	gkx_error_clear(err);
	if (!c)
		return gkx__error_set(err, GKX_EINVAL, "no client");
	if ((rc = gkx__check_version(caller, GKX_POOL_OPTIONS_VERSION, "gkx_pool_options", err)) <
	    0)
		return rc;
	gkx__copy_versioned(o, sizeof(*o), caller, sizes[caller->version]);
	if (o->network && *o->network && strcmp(o->network, "none") &&
	    strcmp(o->network, "default"))
		return gkx__error_set(err, GKX_EINVAL,
		                      "network \"%s\" is not \"none\" or \"default\"", o->network);
	if (o->size > POOL_MAX_SIZE)
		return gkx__error_set(err, GKX_EINVAL, "a pool holds at most %d sandboxes",
		                      POOL_MAX_SIZE);
	if (o->ttl_s < 0)
		return gkx__error_set(err, GKX_EINVAL, "the pool's TTL must not be negative");
	if (o->cpu && *o->cpu && !gkx__manifest_valid_quantity(o->cpu))
		return gkx__error_set(err, GKX_EINVAL,
		                      "cpu \"%s\" is not a quantity such as 500m or 2", o->cpu);
	if (o->memory && *o->memory && !gkx__manifest_valid_quantity(o->memory))
		return gkx__error_set(err, GKX_EINVAL,
		                      "memory \"%s\" is not a quantity such as 256Mi or 1Gi",
		                      o->memory);
	return gkx__pool_init(p, o->ns && *o->ns ? o->ns : c->cfg->ns, o->image, o->cpu, o->memory,
	                      o->runtime_class, o->network && !strcmp(o->network, "none"), o->ttl_s,
	                      err);
}

static int count(gkx_client *c, const gkx__pool *p, gkx_pool_status *st, gkx_error *err)
{
	cJSON *jobs = NULL, *pods = NULL;
	const cJSON *j, *pod;
	unsigned njobs = 0, npods = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(st->shape, sizeof(st->shape), "%s", p->shape);
	if ((rc = gkx__pool_list(c, p->ns, "batch/v1", "jobs", p->shape, NULL, &jobs, err)) < 0 ||
	    (rc = gkx__pool_list(c, p->ns, "v1", "pods", p->shape, NULL, &pods, err)) < 0)
		goto out;
	cJSON_ArrayForEach (j, gkx__json_at(jobs, "items", GKX__END)) {
		if (!gkx__json_at(j, "metadata", "deletionTimestamp", GKX__END) &&
		    !gkx__json_at(j, "status", "failed", GKX__END) &&
		    !gkx__json_at(j, "status", "succeeded", GKX__END))
			njobs++;
	}
	cJSON_ArrayForEach (pod, gkx__json_at(pods, "items", GKX__END)) {
		const char *phase = gkx__json_str(pod, "status", "phase", GKX__END);
		const char *state =
		        gkx__json_str(pod, "metadata", "labels", GKX_LABEL_STATE, GKX__END);
		int running = phase && !strcmp(phase, "Running");
		if (gkx__json_at(pod, "metadata", "deletionTimestamp", GKX__END) ||
		    (state && !strcmp(state, GKX_STATE_RETIRED)) ||
		    (phase && (!strcmp(phase, "Failed") || !strcmp(phase, "Succeeded")))) {
			st->ended++;
			continue;
		}
		npods++;
		if (state && !strcmp(state, GKX_STATE_CLAIMED))
			st->claimed++;
		else if (running && gkx__json_at(pod, "status", "containerStatuses", GKX__END))
			st->parked++;
		else
			st->starting++;
	}
	/* A Job whose pod the Job controller has not made yet is starting. */
	if (njobs > npods)
		st->starting += njobs - npods;
	rc = 0;
out:
	cJSON_Delete(jobs);
	cJSON_Delete(pods);
	return rc;
}

int gkx_pool_status_get(gkx_client *c, const gkx_pool_options *caller, gkx_pool_status *out,
                        gkx_error *err)
{
	gkx_pool_options o;
	gkx__pool p;
	int rc;

	if ((rc = pool_from_options(&p, c, caller, &o, err)) < 0)
		return rc;
	return count(c, &p, out, err);
}

int gkx_pool_fill(gkx_client *c, const gkx_pool_options *caller, gkx_pool_status *out,
                  gkx_error *err)
{
	gkx_pool_options o;
	gkx_pool_status st;
	gkx__pool p;
	unsigned want, have, i;
	int rc;

	if ((rc = pool_from_options(&p, c, caller, &o, err)) < 0)
		return rc;
	want = o.size ? o.size : POOL_DEFAULT_SIZE;
	if ((rc = count(c, &p, &st, err)) < 0)
		return rc;
	have = st.parked + st.starting;
	for (i = have; i < want; i++)
		if ((rc = gkx__pool_park(c, &p, err)) < 0)
			return rc;
	if (out && (rc = count(c, &p, out, err)) < 0)
		return rc;
	return 0;
}

/* Take one parked pod out of the pool (see the top): 0 done or gone, 1
 * a run has it. A 409 can also be the kubelet's status update: the pod is
 * read again and the patch sent again while it is still parked. */
static int retire(gkx_client *c, const char *ns, const cJSON *pod, gkx_error *err)
{
	const char *name = gkx__json_str(pod, "metadata", "name", GKX__END);
	const char *rv = gkx__json_str(pod, "metadata", "resourceVersion", GKX__END);
	gkx_buf pq = GKX_BUF_INIT, body = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	cJSON *fresh = NULL;
	int rc = 0, tries;

	for (tries = 0; tries < 5 && name && rv; tries++) {
		const char *state;
		pq.len = body.len = 0;
		if (gkx__api_path(&pq, "v1", ns, "pods", name, NULL) < 0 ||
		    gkx__buf_printf(&body,
		                    "{\"metadata\":{\"resourceVersion\":\"%s\",\"labels\":{"
		                    "\"%s\":\"%s\"}}}",
		                    rv, GKX_LABEL_STATE, GKX_STATE_RETIRED) < 0) {
			rc = gkx__error_oom(err);
			break;
		}
		rc = gkx__api_send(c, GKX__RETRY_NEVER, "PATCH", pq.ptr,
		                   "application/merge-patch+json", body.ptr, NULL,
		                   "taking a parked sandbox out of its pool", err);
		/* Without the right to patch pods the Jobs are still deleted,
		 * as before (a run may then claim a pod in that moment). */
		if (rc == 0 || rc == GKX_ENOTFOUND || rc == GKX_EFORBIDDEN) {
			rc = gkx__error_clear_ok(err);
			break;
		}
		if (rc != GKX_ECONFLICT && rc != GKX_ETRANSPORT && rc != GKX_ETIMEOUT &&
		    rc != GKX_EAPI)
			break;
		/* Lost or refused: what is the pod now? */
		cJSON_Delete(fresh);
		fresh = NULL;
		rc = gkx__api_call(c, "GET", pq.ptr, NULL, NULL, &resp, "reading a parked sandbox",
		                   err);
		if (rc == GKX_ENOTFOUND) {
			rc = gkx__error_clear_ok(err);
			break;
		}
		if (rc < 0)
			break;
		fresh = cJSON_ParseWithLength(resp.ptr, resp.len);
		state = gkx__json_str(fresh, "metadata", "labels", GKX_LABEL_STATE, GKX__END);
		rv = gkx__json_str(fresh, "metadata", "resourceVersion", GKX__END);
		rc = state && !strcmp(state, GKX_STATE_CLAIMED);
		if (rc || !state || strcmp(state, GKX_STATE_PARKED))
			break;
	}
	cJSON_Delete(fresh);
	gkx__buf_free(&pq);
	gkx__buf_free(&body);
	gkx__buf_free(&resp);
	return rc;
}

/* Retire the parked pods of the pool (all pools: shape NULL); *in_use
 * gets the names of the Jobs whose pods runs have claimed. */
static int retire_all(gkx_client *c, const char *ns, const char *shape, cJSON *in_use,
                      gkx_error *err)
{
	cJSON *pods = NULL;
	const cJSON *pod;
	int rc;

	if ((rc = gkx__pool_list(c, ns, "v1", "pods", shape, NULL, &pods, err)) < 0)
		return rc;
	cJSON_ArrayForEach (pod, gkx__json_at(pods, "items", GKX__END)) {
		const char *state =
		        gkx__json_str(pod, "metadata", "labels", GKX_LABEL_STATE, GKX__END);
		const char *job = gkx__json_str(pod, "metadata", "labels", GKX_LABEL_RUN, GKX__END);
		if (!job || gkx__json_at(pod, "metadata", "deletionTimestamp", GKX__END))
			continue;
		if (state && !strcmp(state, GKX_STATE_PARKED))
			rc = retire(c, ns, pod, err);
		else
			rc = state && !strcmp(state, GKX_STATE_CLAIMED);
		if (rc < 0)
			break;
		if (rc == 1 && !cJSON_AddItemToArray(in_use, cJSON_CreateString(job)))
			rc = gkx__error_oom(err);
	}
	cJSON_Delete(pods);
	return rc < 0 ? rc : 0;
}

static int named(const cJSON *names, const char *name)
{
	const cJSON *n;

	cJSON_ArrayForEach (n, names)
		if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
			return 1;
	return 0;
}

int gkx_pool_delete(gkx_client *c, const gkx_pool_options *caller, int all, unsigned *deleted,
                    gkx_error *err)
{
	gkx_pool_options o;
	gkx__pool p;
	cJSON *jobs = NULL, *in_use = NULL;
	const cJSON *j;
	unsigned n = 0;
	int rc;

	if (deleted)
		*deleted = 0;
	if ((rc = pool_from_options(&p, c, caller, &o, err)) < 0)
		return rc;
	if (!(in_use = cJSON_CreateArray()))
		return gkx__error_oom(err);
	/* The pods first: from here on no run can claim one; then the Jobs,
	 * but those of pods that runs hold: the runs delete them. */
	if ((rc = retire_all(c, p.ns, all ? NULL : p.shape, in_use, err)) < 0 ||
	    (rc = gkx__pool_list(c, p.ns, "batch/v1", "jobs", all ? NULL : p.shape, NULL, &jobs,
	                         err)) < 0)
		goto out;
	cJSON_ArrayForEach (j, gkx__json_at(jobs, "items", GKX__END)) {
		const char *name = gkx__json_str(j, "metadata", "name", GKX__END);
		if (!name || named(in_use, name))
			continue;
		/* The Job's pod, NetworkPolicy and gate go with it. */
		rc = gkx__object_delete(c, p.ns, name, "batch/v1", "jobs", "deleting a sandbox",
		                        err);
		if (rc < 0)
			break;
		n++;
	}
out:
	cJSON_Delete(jobs);
	cJSON_Delete(in_use);
	if (deleted)
		*deleted = n;
	return rc;
}
