#ifndef GKEXEC_SESSION_H
#define GKEXEC_SESSION_H

#include <gkexec/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A flat entry point for bindings (Python's ctypes, and any language with
 * a C FFI and JSON): plain C types only. Requests go in as JSON text and
 * results come out as JSON text that the session owns.
 *
 * Config (all optional):
 *   {"kubeconfig": "path", "context": "name", "namespace": "ns",
 *    "requestTimeout": seconds}
 * Requests, a JSON array; each (only "code" is required):
 *   {"code": "print(1)", "filename": "main.py", "files": {"name": "text"},
 *    "args": ["a"], "env": {"K": "V"}, "image": "python:3.11-slim",
 *    "timeout": 300, "cpu": "500m", "memory": "512Mi", "namespace": "ns",
 *    "limitBytes": 1048576, "workdir": "/app", "network": "none" | "default",
 *    "cold": false}
 * (limitBytes: the result keeps the last this many bytes of output, by
 * default GKX_DEFAULT_CAPTURE_BYTES; the output callback gets all of it.)
 * Results, a JSON array in the same order; each is what
 * gkx_run_result_json() gives for a run (a request that never became a run
 * has reason "Invalid" and the error):
 *   {"apiVersion": "sandbox-run.gkexec.dev/v1alpha1", "kind": "RunResult",
 *    "ok": true, "exitCode": 0 | null, "reason": "Completed", "output": "...",
 *    "outputBase64": null | "...", "outputTruncated": false,
 *    "name": "sandbox-run-...", "namespace": "ns",
 *    "status": 0, "errorCode": null | "config" | "invalid" | ..., "error": null | "message",
 *    "timings": {"created": s, "scheduled": s, "started": s, "ended": s, "finished": s},
 *    "apiRequests": 6, "warm": false, "pod": null | "name",
 *    "stdout": null | "...", "stdoutBase64": null | "...",
 *    "stderr": null | "...", "stderrBase64": null | "..."}   (stdout, stderr: warm runs)
 * Output is UTF-8 text; when the bytes were not (or held a NUL), each
 * ill-formed sequence is U+FFFD and "...Base64" holds the bytes.
 */
typedef struct gkx_session gkx_session;

/**
 * A session on the cluster of the config, which is resolved as kubectl
 * would from the process environment (KUBECONFIG, HOME, the environment of
 * exec plugins, in-cluster variables). Free with gkx_session_free().
 * GKX_ECONFIG (with the file and position) when the kubeconfig is unusable,
 * GKX_EINVAL when config_json is not valid.
 */
GKX_API int gkx_session_new_from_env(gkx_session **out, const char *config_json, gkx_error *err);

/** Output as it arrives: the index of the request in the array, and bytes. */
typedef void (*gkx_session_output_cb)(unsigned index, const char *data, size_t len, void *userdata);

/**
 * Run every request, up to `parallel` at once, from this thread. Returns 0
 * when each request got a result (a failed script or a refused request is a
 * result), GKX_EINVAL for malformed JSON, GKX_ECANCELED after a cancel
 * (results are still there). `cb` may be NULL.
 */
GKX_API int gkx_session_run(gkx_session *session, const char *requests_json, unsigned parallel,
                            gkx_session_output_cb cb, void *userdata, gkx_error *err);

/**
 * What each run holds in the cluster, as it changes, so that a caller that
 * stops waiting for a cancelled run can name what is left: called from the
 * thread of gkx_session_run() with the request's index, the run's phase
 * (gkx_phase in gkexec/run.h; GKX_PHASE_ENDED once what the run made is
 * deleted), the name of the Job it made or (warm) claimed, its namespace,
 * and its pod ("" until known). The strings are borrowed for the call.
 * Set it between runs; NULL turns it off.
 */
typedef void (*gkx_session_phase_cb)(unsigned index, int phase, const char *job, const char *ns,
                                     const char *pod, void *userdata);
GKX_API void gkx_session_on_phase(gkx_session *session, gkx_session_phase_cb cb, void *userdata);

/**
 * Parked sandboxes (gkexec/pool.h) from JSON:
 *   {"action": "fill" | "status" | "delete", "namespace": "ns",
 *    "image": ..., "cpu": ..., "memory": ..., "network": ..., (the shape)
 *    "size": 2, "ttl": 900, "all": false}
 * The answer, in gkx_session_results():
 *   {"pool": "shape label", "namespace": "ns", "parked": n, "starting": n,
 *    "claimed": n, "ended": n, "deleted": n}
 * GKX_EINVAL for malformed JSON, else what the pool call returned.
 */
GKX_API int gkx_session_pool(gkx_session *session, const char *request_json, gkx_error *err);

/** The results of the last gkx_session_run() or gkx_session_pool(), as
 * JSON; borrowed until the next call or free. "[]" before any. */
GKX_API const char *gkx_session_results(const gkx_session *session);

/** Stop a gkx_session_run() in progress, from any thread or a signal
 * handler: it only sets a flag. Runs already going are cleaned up. */
GKX_API void gkx_session_cancel(gkx_session *session);

/** Release a session. Accepts NULL. */
GKX_API void gkx_session_free(gkx_session *session);

#ifdef __cplusplus
}
#endif
#endif
