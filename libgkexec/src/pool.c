/* Parked sandboxes (see gkexec/pool.h): making them, counting them,
 * claiming one for a run, deleting them.
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
 * A claim is a merge patch of the pod's labels (state: claimed) and of its
 * activeDeadlineSeconds (shortened to what the run may take), with the
 * pod's resourceVersion as a precondition: of two clients that saw the
 * same parked pod, one gets it and the other a 409 and tries another. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define POOL_DEFAULT_SIZE 2
#define POOL_DEFAULT_TTL  900
#define POOL_JOB_TTL      60 /* a finished parked Job is gone a minute later */
#define POOL_JOB_BACKSTOP 60 /* the Job's deadline, after its pod's */
#define POOL_MAX_SIZE     100
#define CLAIM_MARGIN_S    30 /* clocks disagree: the server-side deadline gets slack */
#define MAX_CANDIDATES    64
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

/* GET a collection of the pool's objects (or, with pool NULL, of every
 * pool's) into *out. */
static int list(gkx_client *c, const char *ns, const char *gv, const char *resource,
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

/* Seconds since the epoch by the client's clock. */
static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int is_true(const cJSON *j) { return cJSON_IsTrue(j); }

static int has_drop_all(const cJSON *caps)
{
	const cJSON *d;

	cJSON_ArrayForEach (d, gkx__json_at(caps, "drop", GKX__END))
		if (cJSON_IsString(d) && !strcmp(d->valuestring, "ALL"))
			return 1;
	return 0;
}

/* The container's command is the parked one, and nothing else. */
static int parks_only(const cJSON *c)
{
	static const char *const want[] = { "/bin/sh", "-c", GKX_PARK_COMMAND };
	const cJSON *cmd = gkx__json_at(c, "command", GKX__END);
	size_t i;

	if (gkx__json_at(c, "args", GKX__END) || cJSON_GetArraySize(cmd) != 3)
		return 0;
	for (i = 0; i < 3; i++) {
		const cJSON *w = cJSON_GetArrayItem(cmd, (int)i);
		if (!cJSON_IsString(w) || strcmp(w->valuestring, want[i]))
			return 0;
	}
	return 1;
}

int gkx__pool_pod_is_hardened(const cJSON *pod, const gkx__pool *p, char *why, size_t why_len)
{
	const cJSON *spec = gkx__json_at(pod, "spec", GKX__END);
	const cJSON *c = cJSON_GetArrayItem(gkx__json_at(spec, "containers", GKX__END), 0);
	const cJSON *sc = gkx__json_at(c, "securityContext", GKX__END);
	const cJSON *psc = gkx__json_at(spec, "securityContext", GKX__END);
	const cJSON *v;
	const char *s;

#define NOT(cond, what)                                     \
	do {                                                \
		if (cond) {                                 \
			snprintf(why, why_len, "%s", what); \
			return 0;                           \
		}                                           \
	} while (0)
	NOT(!c || cJSON_GetArraySize(gkx__json_at(spec, "containers", GKX__END)) != 1,
	    "not one container");
	NOT(gkx__json_at(spec, "initContainers", GKX__END) ||
	            gkx__json_at(spec, "ephemeralContainers", GKX__END),
	    "other containers");
	s = gkx__json_str(spec, "runtimeClassName", GKX__END);
	NOT(!s || strcmp(s, p->runtime_class), "another RuntimeClass");
	s = gkx__json_str(c, "image", GKX__END);
	NOT(!s || strcmp(s, p->image), "another image");
	NOT(!is_true(gkx__json_at(psc, "runAsNonRoot", GKX__END)) &&
	            !is_true(gkx__json_at(sc, "runAsNonRoot", GKX__END)),
	    "may run as root");
	v = gkx__json_at(sc, "allowPrivilegeEscalation", GKX__END);
	NOT(!cJSON_IsFalse(v), "privilege escalation allowed");
	NOT(is_true(gkx__json_at(sc, "privileged", GKX__END)), "privileged");
	NOT(!is_true(gkx__json_at(sc, "readOnlyRootFilesystem", GKX__END)), "writable root");
	NOT(!has_drop_all(gkx__json_at(sc, "capabilities", GKX__END)) ||
	            gkx__json_at(sc, "capabilities", "add", GKX__END),
	    "capabilities kept");
	NOT(!cJSON_IsFalse(gkx__json_at(spec, "automountServiceAccountToken", GKX__END)),
	    "a service-account token");
	NOT(is_true(gkx__json_at(spec, "hostNetwork", GKX__END)) ||
	            is_true(gkx__json_at(spec, "hostPID", GKX__END)) ||
	            is_true(gkx__json_at(spec, "hostIPC", GKX__END)),
	    "host namespaces");
	cJSON_ArrayForEach (v, gkx__json_at(spec, "volumes", GKX__END)) {
		const char *name = gkx__json_str(v, "name", GKX__END);
		int empty = gkx__json_at(v, "emptyDir", GKX__END) != NULL;
		int cm = gkx__json_at(v, "configMap", GKX__END) != NULL;
		NOT(!name || !((empty && (!strcmp(name, "code") || !strcmp(name, "tmp"))) ||
		               (cm && !strcmp(name, "gate") && p->network_none)),
		    "other volumes");
	}
	v = gkx__json_at(sc, "seccompProfile", "type", GKX__END);
	if (!v)
		v = gkx__json_at(psc, "seccompProfile", "type", GKX__END);
	NOT(!cJSON_IsString(v) || (strcmp(v->valuestring, "RuntimeDefault") &&
	                           strcmp(v->valuestring, "Localhost")),
	    "no seccomp profile");
	/* What runs beside the code in the container: only the waiting shell,
	 * with no hooks and no environment of its own (a planted LD_PRELOAD or
	 * proxy would see the code, or what it fetches). */
	NOT(!parks_only(c), "another command");
	NOT(gkx__json_at(c, "lifecycle", GKX__END) || gkx__json_at(c, "envFrom", GKX__END),
	    "hooks or envFrom");
	cJSON_ArrayForEach (v, gkx__json_at(c, "env", GKX__END)) {
		const char *name = gkx__json_str(v, "name", GKX__END);
		const char *value = gkx__json_str(v, "value", GKX__END);
		NOT(!name || strcmp(name, "HOME") || !value || strcmp(value, "/tmp") ||
		            gkx__json_at(v, "valueFrom", GKX__END),
		    "another environment");
	}
	s = gkx__json_str(pod, "metadata", "labels", GKX_LABEL_POOL, GKX__END);
	NOT(!s || strcmp(s, p->shape), "another pool");
#undef NOT
	return 1;
}

/* A parked pod that can serve a run of timeout_s: running, not going away,
 * hardened, and with enough life left. */
static int claimable(const cJSON *pod, const gkx__pool *p, long timeout_s, double now,
                     long *deadline_out)
{
	const cJSON *cs =
	        cJSON_GetArrayItem(gkx__json_at(pod, "status", "containerStatuses", GKX__END), 0);
	const char *phase = gkx__json_str(pod, "status", "phase", GKX__END);
	const char *start = gkx__json_str(pod, "status", "startTime", GKX__END);
	const cJSON *dl = gkx__json_at(pod, "spec", "activeDeadlineSeconds", GKX__END);
	double started, age;
	char why[64];

	if (!phase || strcmp(phase, "Running") || !gkx__json_at(cs, "state", "running", GKX__END) ||
	    gkx__json_at(pod, "metadata", "deletionTimestamp", GKX__END) || !start ||
	    gkx__parse_time(start, &started) < 0 || !cJSON_IsNumber(dl) ||
	    !gkx__pool_pod_is_hardened(pod, p, why, sizeof(why)))
		return 0;
	age = now - started;
	if (age < 0)
		age = 0;
	if (dl->valuedouble - age < (double)(timeout_s + CLAIM_MARGIN_S))
		return 0;
	/* What the claim leaves it: the run's time from now, and slack. */
	*deadline_out = (long)ceil(age) + timeout_s + CLAIM_MARGIN_S;
	if ((double)*deadline_out > dl->valuedouble)
		*deadline_out = (long)dl->valuedouble;
	return 1;
}

static int patch_claim(gkx_client *c, const gkx__pool *p, const char *pod, const char *rv,
                       const char *run_name, long deadline, gkx_error *err)
{
	gkx_buf pq = GKX_BUF_INIT, body = GKX_BUF_INIT;
	int rc;

	if (gkx__api_path(&pq, "v1", p->ns, "pods", pod, NULL) < 0 ||
	    gkx__buf_printf(&body,
	                    "{\"metadata\":{\"resourceVersion\":\"%s\",\"labels\":{\"%s\":\"%s\","
	                    "\"%s\":\"%s\"}},\"spec\":{\"activeDeadlineSeconds\":%ld}}",
	                    rv, GKX_LABEL_STATE, GKX_STATE_CLAIMED, GKX_LABEL_CLAIMED_BY, run_name,
	                    deadline) < 0)
		rc = gkx__error_oom(err);
	else
		rc = gkx__api_call(c, "PATCH", pq.ptr, "application/merge-patch+json", body.ptr,
		                   NULL, "claiming a parked sandbox", err);
	gkx__buf_free(&pq);
	gkx__buf_free(&body);
	return rc;
}

/* --network=none: the pod's policy must exist and deny everything before
 * any code goes in. */
static int policy_in_place(gkx_client *c, const gkx__pool *p, const char *job, gkx_error *err)
{
	gkx_buf pq = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	cJSON *np = NULL;
	const cJSON *types;
	const char *sel;
	int rc;

	if (gkx__api_path(&pq, "networking.k8s.io/v1", p->ns, "networkpolicies", job, NULL) < 0) {
		gkx__buf_free(&pq);
		return gkx__error_oom(err);
	}
	rc = gkx__api_call(c, "GET", pq.ptr, NULL, NULL, &resp,
	                   "reading the sandbox's NetworkPolicy", err);
	if (rc == 0) {
		np = cJSON_ParseWithLength(resp.ptr, resp.len);
		sel = gkx__json_str(np, "spec", "podSelector", "matchLabels", GKX_LABEL_RUN,
		                    GKX__END);
		types = gkx__json_at(np, "spec", "policyTypes", GKX__END);
		if (!sel || strcmp(sel, job) || cJSON_GetArraySize(types) != 2 ||
		    gkx__json_at(np, "spec", "ingress", GKX__END) ||
		    gkx__json_at(np, "spec", "egress", GKX__END))
			rc = gkx__error_set(err, GKX_ESTART,
			                    "the parked sandbox %s has no deny-all NetworkPolicy",
			                    job);
	}
	cJSON_Delete(np);
	gkx__buf_free(&pq);
	gkx__buf_free(&resp);
	return rc;
}

int gkx__pool_claim(gkx_client *c, const gkx__pool *p, const char *run_name, long timeout_s,
                    gkx__claim *out, gkx_error *err)
{
	cJSON *pods = NULL;
	const cJSON *pod;
	const cJSON *cand[MAX_CANDIDATES];
	long deadline[MAX_CANDIDATES];
	size_t n = 0, i;
	double now = wall_now();
	unsigned char rnd[MAX_CANDIDATES];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = list(c, p->ns, "v1", "pods", p->shape, "," GKX_LABEL_STATE "=" GKX_STATE_PARKED, &pods,
	          err);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach (pod, gkx__json_at(pods, "items", GKX__END)) {
		if (n < MAX_CANDIDATES && claimable(pod, p, timeout_s, now, &deadline[n]))
			cand[n++] = pod;
	}
	/* Concurrent clients see the same list: each tries them in its own
	 * random order, so that most first tries win. */
	if (n > 1 && gkx__random_bytes(rnd, n, NULL) == 0) {
		for (i = n - 1; i > 0; i--) {
			size_t j = rnd[i] % (i + 1);
			const cJSON *t = cand[i];
			long d = deadline[i];
			cand[i] = cand[j];
			cand[j] = t;
			deadline[i] = deadline[j];
			deadline[j] = d;
		}
	}
	rc = 1; /* nothing claimed yet */
	for (i = 0; i < n; i++) {
		const char *name = gkx__json_str(cand[i], "metadata", "name", GKX__END);
		const char *rv = gkx__json_str(cand[i], "metadata", "resourceVersion", GKX__END);
		const char *job =
		        gkx__json_str(cand[i], "metadata", "labels", GKX_LABEL_RUN, GKX__END);
		if (!name || !rv || !job)
			continue;
		rc = patch_claim(c, p, name, rv, run_name, deadline[i], err);
		if (rc == GKX_ECONFLICT || rc == GKX_ENOTFOUND) {
			rc = 1; /* another client was first, or it just went */
			continue;
		}
		if (rc < 0)
			break;
		snprintf(out->pod, sizeof(out->pod), "%s", name);
		snprintf(out->job, sizeof(out->job), "%s", job);
		out->deadline_s = deadline[i];
		if (p->network_none && (rc = policy_in_place(c, p, job, err)) < 0)
			break; /* claimed but unusable: the caller deletes it */
		rc = 0;
		break;
	}
	cJSON_Delete(pods);
	if (rc == 1)
		gkx_error_clear(err);
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
	if ((rc = list(c, p->ns, "batch/v1", "jobs", p->shape, NULL, &jobs, err)) < 0 ||
	    (rc = list(c, p->ns, "v1", "pods", p->shape, NULL, &pods, err)) < 0)
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

int gkx_pool_delete(gkx_client *c, const gkx_pool_options *caller, int all, unsigned *deleted,
                    gkx_error *err)
{
	gkx_pool_options o;
	gkx__pool p;
	cJSON *jobs = NULL;
	const cJSON *j;
	unsigned n = 0;
	int rc;

	if (deleted)
		*deleted = 0;
	if ((rc = pool_from_options(&p, c, caller, &o, err)) < 0)
		return rc;
	if ((rc = list(c, p.ns, "batch/v1", "jobs", all ? NULL : p.shape, NULL, &jobs, err)) < 0)
		return rc;
	cJSON_ArrayForEach (j, gkx__json_at(jobs, "items", GKX__END)) {
		const char *name = gkx__json_str(j, "metadata", "name", GKX__END);
		if (!name)
			continue;
		/* The Job's pod, NetworkPolicy and gate go with it. */
		rc = gkx__object_delete(c, p.ns, name, "batch/v1", "jobs", "deleting a sandbox",
		                        err);
		if (rc < 0)
			break;
		n++;
	}
	cJSON_Delete(jobs);
	if (deleted)
		*deleted = n;
	return rc;
}
