/* Pure builders for what a run sends: the hardened Job and the ConfigMap
 * that carries the code. No I/O; every field here is asserted by a test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RUN_AS_ID           1001
#define TERMINATION_GRACE_S 1
/* /tmp and an exec'd /app are tmpfs (emptyDir medium Memory): see
 * memory_dir() for why. */
#define TMP_SIZE "64Mi"
/* What is left on the node's disk: the container's log (the kubelet
 * rotates it) and, for a Job whose container runs the script, nothing
 * else the script can write. */
#define EPHEMERAL_LIMIT   "128Mi"
#define EPHEMERAL_REQUEST "16Mi"
#define LABEL_MANAGED_BY  GKX_LABEL_MANAGED_BY
#define LABEL_RUN         GKX_LABEL_RUN
#define TOOL_NAME         GKX_TOOL_NAME
#define CODE_SIZE         "4Mi" /* an exec'd /app: 1 MiB of code, with room */
#define GKX__MERGE_SCRIPT "exec \"$0\" \"$@\" 2>&1"

static const struct {
	const char *ext;
	const char *interp;
} interpreters[] = {
	{ ".py", "python3" }, { ".sh", "sh" },   { ".bash", "bash" }, { ".js", "node" },
	{ ".rb", "ruby" },    { ".pl", "perl" }, { NULL, NULL },
};

const char *gkx__manifest_interpreter(const char *script_name)
{
	size_t n = strlen(script_name), i;

	for (i = 0; interpreters[i].ext; i++) {
		size_t e = strlen(interpreters[i].ext);
		if (n > e && !strcmp(script_name + n - e, interpreters[i].ext))
			return interpreters[i].interp;
	}
	return NULL;
}

int gkx__manifest_valid_file_name(const char *name)
{
	const char *p;

	if (!name || !*name || strlen(name) > 253 || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

/* Quantities: digits, an optional fraction, an optional suffix. */
static const struct {
	const char *suffix;
	double factor;
} suffixes[] = {
	{ "Ki", 1024.0 },
	{ "Mi", 1048576.0 },
	{ "Gi", 1073741824.0 },
	{ "Ti", 1099511627776.0 },
	{ "k", 1e3 },
	{ "M", 1e6 },
	{ "G", 1e9 },
	{ "T", 1e12 },
	{ "m", 1e-3 },
	{ "", 1.0 },
	{ NULL, 0 },
};

static int parse_quantity(const char *q, double *value)
{
	const char *p = q;
	char *end;
	size_t i;

	if (!q || !(*p >= '0' && *p <= '9'))
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	for (i = 0; suffixes[i].suffix; i++) {
		if (!strcmp(p, suffixes[i].suffix)) {
			*value = strtod(q, &end) * suffixes[i].factor;
			return *value > 0;
		}
	}
	return 0;
}

int gkx__manifest_valid_quantity(const char *q)
{
	double v;
	return parse_quantity(q, &v);
}

int gkx__manifest_request_for(char *out, size_t outlen, const char *limit, int is_memory)
{
	double v;

	if (!parse_quantity(limit, &v))
		return GKX_EINVAL;
	/* Memory, which cannot be throttled, a quarter of the limit; CPU an
	 * eighth: a run's use is a burst the limit must allow (with the limit
	 * at half a CPU the quota cost a cold run 0.3 s under gVisor), while
	 * the scheduler need set aside only a steady share. */
	v /= is_memory ? 4 : 8;
	if (is_memory) {
		long long bytes = (long long)floor(v);
		if (bytes % 1048576 == 0)
			snprintf(out, outlen, "%lldMi", bytes / 1048576);
		else if (bytes % 1024 == 0)
			snprintf(out, outlen, "%lldKi", bytes / 1024);
		else
			snprintf(out, outlen, "%lld", bytes);
	} else {
		long long milli = (long long)floor(v * 1000 + 0.5);
		snprintf(out, outlen, "%lldm", milli > 0 ? milli : 1);
	}
	return 0;
}

static cJSON *labels(const gkx_manifest_spec *s)
{
	cJSON *l = cJSON_CreateObject();

	if (!l || !cJSON_AddStringToObject(l, LABEL_MANAGED_BY, TOOL_NAME) ||
	    !cJSON_AddStringToObject(l, LABEL_RUN, s->name) ||
	    (s->pool && !cJSON_AddStringToObject(l, GKX_LABEL_POOL, s->pool))) {
		cJSON_Delete(l);
		return NULL;
	}
	return l;
}

static cJSON *metadata(const gkx_manifest_spec *s)
{
	cJSON *m = cJSON_CreateObject();

	GKX__OK(m);
	GKX__OK(cJSON_AddStringToObject(m, "name", s->name));
	GKX__OK(cJSON_AddStringToObject(m, "namespace", s->ns));
	GKX__OK(cJSON_AddItemToObject(m, "labels", labels(s)));
	return m;
fail:
	cJSON_Delete(m);
	return NULL;
}

/* The metadata of an object that goes when the Job goes: the garbage
 * collector deletes it with the Job, even if the client never returns. */
static cJSON *owned_metadata(const gkx_manifest_spec *s)
{
	cJSON *m = metadata(s), *refs, *r;

	GKX__OK(m);
	if (s->job_uid) {
		GKX__OK(refs = cJSON_AddArrayToObject(m, "ownerReferences"));
		GKX__OK(r = cJSON_CreateObject());
		GKX__OK(cJSON_AddItemToArray(refs, r));
		GKX__OK(cJSON_AddStringToObject(r, "apiVersion", "batch/v1"));
		GKX__OK(cJSON_AddStringToObject(r, "kind", "Job"));
		GKX__OK(cJSON_AddStringToObject(r, "name", s->name));
		GKX__OK(cJSON_AddStringToObject(r, "uid", s->job_uid));
	}
	return m;
fail:
	cJSON_Delete(m);
	return NULL;
}

static cJSON *env_var(const char *name, size_t name_len, const char *value)
{
	cJSON *e = cJSON_CreateObject();
	char *n = gkx__strndup(name, name_len);

	GKX__OK(e && n);
	GKX__OK(cJSON_AddStringToObject(e, "name", n));
	GKX__OK(cJSON_AddStringToObject(e, "value", value));
	free(n);
	return e;
fail:
	free(n);
	cJSON_Delete(e);
	return NULL;
}

static cJSON *container(const gkx_manifest_spec *s)
{
	cJSON *c = cJSON_CreateObject(), *cmd, *env, *sc, *caps, *res, *lim, *req, *mounts, *m;
	char path[512], wrapper[160];
	size_t i;
	int is_python = s->script_name && strlen(s->script_name) > 3 &&
	                !strcmp(s->script_name + strlen(s->script_name) - 3, ".py");

	GKX__OK(c);
	GKX__OK(cJSON_AddStringToObject(c, "name", "sandbox"));
	GKX__OK(cJSON_AddStringToObject(c, "image", s->image));
	GKX__OK(cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent"));
	GKX__OK(cmd = cJSON_AddArrayToObject(c, "command"));
	/* containerd copies stdout and stderr through two pipes, and the log
	 * can record a later line of one before an earlier line of the other.
	 * One pipe keeps the order the script printed in: sh joins them and
	 * execs the interpreter, passing every argument through "$@" unquoted. */
	GKX__OK(cJSON_AddItemToArray(cmd, cJSON_CreateString("/bin/sh")));
	GKX__OK(cJSON_AddItemToArray(cmd, cJSON_CreateString("-c")));
	/* With an end marker, sh runs the interpreter (not exec), then prints
	 * the marker and the exit status and exits with that status, so the
	 * pod status says the same: the client learns the end from the log at
	 * once, where the pod status tells it only at the kubelet's next
	 * relist, up to a second later. */
	if (s->end_marker)
		snprintf(wrapper, sizeof(wrapper),
		         "\"$0\" \"$@\" 2>&1; s=$?; echo \"%s$s\"; exit $s", s->end_marker);
	else
		snprintf(wrapper, sizeof(wrapper), "%s", GKX__MERGE_SCRIPT);
	if (s->pool || s->exec_delivery) {
		/* Parked, or a run whose code the client starts by exec as soon
		 * as the container runs: wait, doing nothing, until then or the
		 * deadline. */
		GKX__OK(cJSON_AddItemToArray(cmd, cJSON_CreateString(GKX_PARK_COMMAND)));
	} else {
		GKX__OK(cJSON_AddItemToArray(cmd, cJSON_CreateString(wrapper)));
		GKX__OK(cJSON_AddItemToArray(cmd, cJSON_CreateString(s->interpreter)));
		snprintf(path, sizeof(path), "/app/%s", s->script_name);
		GKX__OK(cJSON_AddItemToArray(cmd, cJSON_CreateString(path)));
		for (i = 0; i < s->nargs; i++)
			GKX__OK(cJSON_AddItemToArray(cmd, cJSON_CreateString(s->args[i])));
	}
	GKX__OK(cJSON_AddStringToObject(c, "workingDir", s->workdir ? s->workdir : "/app"));

	GKX__OK(env = cJSON_AddArrayToObject(c, "env"));
	/* Unbuffered, so stdout and stderr reach the log in the order printed. */
	if (is_python) {
		GKX__OK(cJSON_AddItemToArray(env, env_var("PYTHONUNBUFFERED", 16, "1")));
		GKX__OK(cJSON_AddItemToArray(env, env_var("PYTHONDONTWRITEBYTECODE", 23, "1")));
	}
	GKX__OK(cJSON_AddItemToArray(env, env_var("HOME", 4, "/tmp")));
	for (i = 0; i < s->nenv; i++) {
		const char *eq = strchr(s->env[i], '=');
		GKX__OK(eq);
		GKX__OK(cJSON_AddItemToArray(env,
		                             env_var(s->env[i], (size_t)(eq - s->env[i]), eq + 1)));
	}

	GKX__OK(sc = cJSON_AddObjectToObject(c, "securityContext"));
	GKX__OK(cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation"));
	GKX__OK(cJSON_AddFalseToObject(sc, "privileged"));
	GKX__OK(cJSON_AddTrueToObject(sc, "readOnlyRootFilesystem"));
	GKX__OK(cJSON_AddTrueToObject(sc, "runAsNonRoot"));
	GKX__OK(caps = cJSON_AddObjectToObject(sc, "capabilities"));
	GKX__OK(cJSON_AddItemToObject(caps, "drop", cJSON_CreateArray()));
	GKX__OK(cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(caps, "drop"),
	                             cJSON_CreateString("ALL")));

	GKX__OK(res = cJSON_AddObjectToObject(c, "resources"));
	GKX__OK(lim = cJSON_AddObjectToObject(res, "limits"));
	GKX__OK(cJSON_AddStringToObject(lim, "cpu", s->cpu_limit));
	GKX__OK(cJSON_AddStringToObject(lim, "memory", s->memory_limit));
	GKX__OK(cJSON_AddStringToObject(lim, "ephemeral-storage", EPHEMERAL_LIMIT));
	GKX__OK(req = cJSON_AddObjectToObject(res, "requests"));
	GKX__OK(cJSON_AddStringToObject(req, "cpu", s->cpu_request));
	GKX__OK(cJSON_AddStringToObject(req, "memory", s->memory_request));
	GKX__OK(cJSON_AddStringToObject(req, "ephemeral-storage", EPHEMERAL_REQUEST));

	GKX__OK(mounts = cJSON_AddArrayToObject(c, "volumeMounts"));
	GKX__OK(m = cJSON_CreateObject());
	GKX__OK(cJSON_AddItemToArray(mounts, m));
	GKX__OK(cJSON_AddStringToObject(m, "name", "code"));
	GKX__OK(cJSON_AddStringToObject(m, "mountPath", "/app"));
	/* A parked pod's /app, or an exec'd run's, takes the code over the
	 * exec; the files are 0444. */
	GKX__OK(s->pool || s->exec_delivery ? cJSON_AddFalseToObject(m, "readOnly")
	                                    : cJSON_AddTrueToObject(m, "readOnly"));
	GKX__OK(m = cJSON_CreateObject());
	GKX__OK(cJSON_AddItemToArray(mounts, m));
	GKX__OK(cJSON_AddStringToObject(m, "name", "tmp"));
	GKX__OK(cJSON_AddStringToObject(m, "mountPath", "/tmp"));
	if (s->gate) {
		GKX__OK(m = cJSON_CreateObject());
		GKX__OK(cJSON_AddItemToArray(mounts, m));
		GKX__OK(cJSON_AddStringToObject(m, "name", "gate"));
		GKX__OK(cJSON_AddStringToObject(m, "mountPath", "/var/run/sandbox-run"));
		GKX__OK(cJSON_AddTrueToObject(m, "readOnly"));
	}
	return c;
fail:
	cJSON_Delete(c);
	return NULL;
}

/* A writable directory the script can fill: tmpfs, sized. On disk an
 * emptyDir's sizeLimit is only checked by the kubelet's eviction manager,
 * from volume statistics it refreshes about once a minute: under gVisor
 * a script wrote 400 MiB into a 64Mi /tmp in 1.7 s, and 1.2 GB in
 * another run, before anything noticed. A kubelet with
 * SizeMemoryBackedVolumes (on by default since 1.22) mounts a
 * memory-backed emptyDir as a tmpfs of size sizeLimit (or the pod's
 * memory limit if smaller), and gVisor writes through to it: the write
 * past 64 MiB fails with ENOSPC at once. Older kubelets still evict past
 * sizeLimit. Its pages are charged to the pod's memory cgroup: the memory
 * limit covers the script and its files there together (the sandbox is
 * OOMKilled past it), so the script never holds more than that limit. */
static cJSON *memory_dir(cJSON *vols, const char *name, const char *size)
{
	cJSON *v = cJSON_CreateObject(), *ed;

	GKX__OK(v);
	GKX__OK(cJSON_AddItemToArray(vols, v));
	GKX__OK(cJSON_AddStringToObject(v, "name", name));
	GKX__OK(ed = cJSON_AddObjectToObject(v, "emptyDir"));
	GKX__OK(cJSON_AddStringToObject(ed, "medium", "Memory"));
	GKX__OK(cJSON_AddStringToObject(ed, "sizeLimit", size));
	return v;
fail:
	return NULL;
}

static cJSON *pod_spec(const gkx_manifest_spec *s)
{
	cJSON *p = cJSON_CreateObject(), *tol, *t, *sc, *seccomp, *cs, *vols, *v, *cm;

	GKX__OK(p);
	GKX__OK(cJSON_AddStringToObject(p, "runtimeClassName", s->runtime_class));
	GKX__OK(tol = cJSON_AddArrayToObject(p, "tolerations"));
	GKX__OK(t = cJSON_CreateObject());
	GKX__OK(cJSON_AddItemToArray(tol, t));
	GKX__OK(cJSON_AddStringToObject(t, "key", "sandbox.gke.io/runtime"));
	GKX__OK(cJSON_AddStringToObject(t, "operator", "Equal"));
	GKX__OK(cJSON_AddStringToObject(t, "value", "gvisor"));
	GKX__OK(cJSON_AddStringToObject(t, "effect", "NoSchedule"));
	GKX__OK(cJSON_AddStringToObject(p, "restartPolicy", "Never"));
	/* A parked pod expires by itself (the kubelet enforces it), whether
	 * or not anyone claims it; a claim only ever shortens this. */
	if (s->pool)
		GKX__OK(cJSON_AddNumberToObject(p, "activeDeadlineSeconds", (double)s->pool_ttl_s));
	/* Untrusted code needs no graceful shutdown, and a pod stuck pulling
	 * its image otherwise lingers 30 s after its Job is deleted. */
	GKX__OK(cJSON_AddNumberToObject(p, "terminationGracePeriodSeconds", TERMINATION_GRACE_S));
	GKX__OK(cJSON_AddFalseToObject(p, "automountServiceAccountToken"));
	GKX__OK(cJSON_AddFalseToObject(p, "enableServiceLinks"));
	GKX__OK(sc = cJSON_AddObjectToObject(p, "securityContext"));
	GKX__OK(cJSON_AddTrueToObject(sc, "runAsNonRoot"));
	GKX__OK(cJSON_AddNumberToObject(sc, "runAsUser", RUN_AS_ID));
	GKX__OK(cJSON_AddNumberToObject(sc, "runAsGroup", RUN_AS_ID));
	GKX__OK(seccomp = cJSON_AddObjectToObject(sc, "seccompProfile"));
	GKX__OK(cJSON_AddStringToObject(seccomp, "type", "RuntimeDefault"));
	GKX__OK(cs = cJSON_AddArrayToObject(p, "containers"));
	GKX__OK(cJSON_AddItemToArray(cs, container(s)));

	GKX__OK(vols = cJSON_AddArrayToObject(p, "volumes"));
	if (s->pool || s->exec_delivery) {
		/* No ConfigMap to mount: the kubelet fetches a ConfigMap only once
		 * the node authorizer has linked the pod to it, and when it asks
		 * first it is refused and tries again a second or more later.
		 * The script may write here too: bounded as /tmp is. */
		GKX__OK(memory_dir(vols, "code", CODE_SIZE));
	} else {
		GKX__OK(v = cJSON_CreateObject());
		GKX__OK(cJSON_AddItemToArray(vols, v));
		GKX__OK(cJSON_AddStringToObject(v, "name", "code"));
		GKX__OK(cm = cJSON_AddObjectToObject(v, "configMap"));
		GKX__OK(cJSON_AddStringToObject(cm, "name", s->name));
		GKX__OK(cJSON_AddNumberToObject(cm, "defaultMode", 0444));
	}
	if (s->gate) {
		/* --network=none: the pod cannot start before this ConfigMap,
		 * which is created after its NetworkPolicy. */
		cJSON *g;
		GKX__OK(g = cJSON_CreateObject());
		GKX__OK(cJSON_AddItemToArray(vols, g));
		GKX__OK(cJSON_AddStringToObject(g, "name", "gate"));
		GKX__OK(cm = cJSON_AddObjectToObject(g, "configMap"));
		GKX__OK(cJSON_AddStringToObject(cm, "name", s->name));
	}
	GKX__OK(memory_dir(vols, "tmp", TMP_SIZE));
	return p;
fail:
	cJSON_Delete(p);
	return NULL;
}

cJSON *gkx__manifest_job(const gkx_manifest_spec *s)
{
	cJSON *j = cJSON_CreateObject(), *spec, *tmpl, *tm;

	GKX__OK(j);
	GKX__OK(cJSON_AddStringToObject(j, "apiVersion", "batch/v1"));
	GKX__OK(cJSON_AddStringToObject(j, "kind", "Job"));
	GKX__OK(cJSON_AddItemToObject(j, "metadata", metadata(s)));
	GKX__OK(spec = cJSON_AddObjectToObject(j, "spec"));
	GKX__OK(cJSON_AddNumberToObject(spec, "backoffLimit", 0));
	GKX__OK(cJSON_AddNumberToObject(spec, "activeDeadlineSeconds", (double)s->timeout_s));
	GKX__OK(cJSON_AddNumberToObject(spec, "ttlSecondsAfterFinished", (double)s->ttl_s));
	GKX__OK(tmpl = cJSON_AddObjectToObject(spec, "template"));
	GKX__OK(tm = cJSON_AddObjectToObject(tmpl, "metadata"));
	GKX__OK(cJSON_AddItemToObject(tm, "labels", labels(s)));
	if (s->pool)
		GKX__OK(cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(tm, "labels"),
		                                GKX_LABEL_STATE, GKX_STATE_PARKED));
	GKX__OK(cJSON_AddItemToObject(tmpl, "spec", pod_spec(s)));
	return j;
fail:
	cJSON_Delete(j);
	return NULL;
}

static int valid_utf8(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k, extra;
		if (c < 0x80) {
			if (c == 0)
				return 0;
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0 && c >= 0xC2)
			extra = 1;
		else if ((c & 0xF0) == 0xE0)
			extra = 2;
		else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
			extra = 3;
		else
			return 0;
		if (extra > n - i - 1)
			return 0;
		for (k = 1; k <= extra; k++)
			if (((unsigned char)s[i + k] & 0xC0) != 0x80)
				return 0;
		i += extra + 1;
	}
	return 1;
}

cJSON *gkx__manifest_configmap(const gkx_manifest_spec *s, const gkx_file *files, size_t nfiles)
{
	cJSON *cm = cJSON_CreateObject(), *meta, *data = NULL, *bin = NULL;
	size_t i;

	GKX__OK(cm);
	GKX__OK(cJSON_AddStringToObject(cm, "apiVersion", "v1"));
	GKX__OK(cJSON_AddStringToObject(cm, "kind", "ConfigMap"));
	GKX__OK(meta = owned_metadata(s));
	GKX__OK(cJSON_AddItemToObject(cm, "metadata", meta));
	GKX__OK(cJSON_AddTrueToObject(cm, "immutable"));
	for (i = 0; i < nfiles; i++) {
		const gkx_file *f = &files[i];
		if (valid_utf8(f->data, f->len)) {
			char *text = gkx__strndup(f->data, f->len);
			GKX__OK(text);
			if (!data && !(data = cJSON_AddObjectToObject(cm, "data"))) {
				free(text);
				goto fail;
			}
			if (!cJSON_AddStringToObject(data, f->name, text)) {
				free(text);
				goto fail;
			}
			free(text);
		} else {
			gkx_buf b64 = GKX_BUF_INIT;
			GKX__OK(bin || (bin = cJSON_AddObjectToObject(cm, "binaryData")));
			if (gkx__base64_encode(&b64, (const unsigned char *)f->data, f->len) < 0 ||
			    !cJSON_AddStringToObject(bin, f->name, b64.ptr)) {
				gkx__buf_free(&b64);
				goto fail;
			}
			gkx__buf_free(&b64);
		}
	}
	return cm;
fail:
	cJSON_Delete(cm);
	return NULL;
}

cJSON *gkx__manifest_network_policy(const gkx_manifest_spec *s)
{
	cJSON *np = cJSON_CreateObject(), *spec, *sel, *ml, *types;

	GKX__OK(np);
	GKX__OK(cJSON_AddStringToObject(np, "apiVersion", "networking.k8s.io/v1"));
	GKX__OK(cJSON_AddStringToObject(np, "kind", "NetworkPolicy"));
	GKX__OK(cJSON_AddItemToObject(np, "metadata", owned_metadata(s)));
	GKX__OK(spec = cJSON_AddObjectToObject(np, "spec"));
	GKX__OK(sel = cJSON_AddObjectToObject(spec, "podSelector"));
	GKX__OK(ml = cJSON_AddObjectToObject(sel, "matchLabels"));
	GKX__OK(cJSON_AddStringToObject(ml, LABEL_RUN, s->name));
	/* Both types named and no rule given: nothing in, nothing out. */
	GKX__OK(types = cJSON_AddArrayToObject(spec, "policyTypes"));
	GKX__OK(cJSON_AddItemToArray(types, cJSON_CreateString("Ingress")));
	GKX__OK(cJSON_AddItemToArray(types, cJSON_CreateString("Egress")));
	return np;
fail:
	cJSON_Delete(np);
	return NULL;
}
