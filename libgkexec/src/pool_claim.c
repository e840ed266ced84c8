/* Claiming a parked sandbox for a run (see pool.c for what one is).
 *
 * A claim is a merge patch of the pod's labels (state: claimed) and of its
 * activeDeadlineSeconds (shortened to what the run may take), with the
 * pod's resourceVersion as a precondition: of two clients that saw the
 * same parked pod, one gets it and the other a 409 and tries another.
 * It is not idempotent (sent twice, the second gets a 409 from the
 * first), so it is sent once and, when its answer was lost, the pod is
 * read back: its claimed-by label, the run's random name, says whose it
 * is. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define CLAIM_MARGIN_S 30 /* clocks disagree: the server-side deadline gets slack */
#define MAX_CANDIDATES 64

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
		rc = gkx__api_send(c, GKX__RETRY_NEVER, "PATCH", pq.ptr,
		                   "application/merge-patch+json", body.ptr, NULL,
		                   "claiming a parked sandbox", err);
	gkx__buf_free(&pq);
	gkx__buf_free(&body);
	return rc;
}

/* A claim whose answer never came (a cut connection, a timeout, a 5xx
 * from something in between) may have landed: the pod is read back. Its
 * claimed-by label is the run's name, random, so it tells our claim from
 * another's. 0: ours; 1: not ours (still parked, another's, or gone); or
 * an error when even the read failed. */
static int claim_landed(gkx_client *c, const gkx__pool *p, const char *pod, const char *run_name)
{
	gkx_buf pq = GKX_BUF_INIT, resp = GKX_BUF_INIT;
	cJSON *j = NULL;
	const char *state, *by;
	int rc;

	if (gkx__api_path(&pq, "v1", p->ns, "pods", pod, NULL) < 0)
		rc = GKX_ENOMEM;
	else
		rc = gkx__api_call(c, "GET", pq.ptr, NULL, NULL, &resp, "reading a claimed pod",
		                   NULL);
	if (rc == 0) {
		j = cJSON_ParseWithLength(resp.ptr, resp.len);
		state = gkx__json_str(j, "metadata", "labels", GKX_LABEL_STATE, GKX__END);
		by = gkx__json_str(j, "metadata", "labels", GKX_LABEL_CLAIMED_BY, GKX__END);
		rc = !j ? GKX_EPROTO
		        : !(state && !strcmp(state, GKX_STATE_CLAIMED) && by &&
		            !strcmp(by, run_name));
	} else if (rc == GKX_ENOTFOUND) {
		rc = 1;
	}
	cJSON_Delete(j);
	gkx__buf_free(&pq);
	gkx__buf_free(&resp);
	return rc;
}

/* The claim, sent once (a retry's 409 would hide its own success), and
 * read back when its answer was lost: 0 claimed, 1 not (try another), or
 * an error. A pod whose state even the read-back cannot tell is deleted:
 * never left claimed by nobody until its deadline. */
static int claim_one(gkx_client *c, const gkx__pool *p, const char *pod, const char *job,
                     const char *rv, const char *run_name, long deadline, gkx_error *err)
{
	gkx__flag *saved = c->cancel;
	int rc;

	/* As a create: a claim cut short by a cancel could not know whether
	 * it landed, and the pod would stay claimed by nobody. The list
	 * before it, and what follows, still see a cancel. */
	c->cancel = NULL;
	rc = patch_claim(c, p, pod, rv, run_name, deadline, err);
	if (rc == GKX_ETRANSPORT || rc == GKX_ETIMEOUT || rc == GKX_EAPI) {
		rc = claim_landed(c, p, pod, run_name);
		if (rc < 0)
			gkx__object_delete(c, p->ns, job, "batch/v1", "jobs", "deleting a sandbox",
			                   NULL);
		rc = rc == 0 ? gkx__error_clear_ok(err) : 1;
	} else if (rc == GKX_ECONFLICT || rc == GKX_ENOTFOUND) {
		rc = 1; /* another client was first, or it just went */
	}
	c->cancel = saved;
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
	rc = gkx__pool_list(c, p->ns, "v1", "pods", p->shape,
	                    "," GKX_LABEL_STATE "=" GKX_STATE_PARKED, &pods, err);
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
		rc = claim_one(c, p, name, job, rv, run_name, deadline[i], err);
		if (rc == 1)
			continue;
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
