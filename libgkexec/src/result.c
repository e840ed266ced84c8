/* One result document for a run, whoever asks: the plugin's -o json and
 * each entry of a session's results (the Python binding). The schema is in
 * the README. */
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

/* Seconds from the start of the run, to the millisecond; null if never. */
static cJSON *add_seconds(cJSON *obj, const char *name, double s)
{
	if (s < 0)
		return cJSON_AddNullToObject(obj, name);
	return cJSON_AddNumberToObject(obj, name, (double)(long)(s * 1000 + 0.5) / 1000);
}

/* The output members. A Job's run has its streams joined in "output"; a
 * warm run has them apart as well, and "output" is stdout then stderr. Each
 * text has its "...Base64" beside it (see output.c). */
static int add_output(cJSON *j, int warm, const gkx_buf *out, const gkx_buf *err)
{
	gkx_buf both = GKX_BUF_INIT;
	int rc;

	if (!warm) {
		if (gkx__json_add_bytes(j, "output", "outputBase64", out->ptr, out->len) < 0 ||
		    !cJSON_AddNullToObject(j, "stdout") ||
		    !cJSON_AddNullToObject(j, "stdoutBase64") ||
		    !cJSON_AddNullToObject(j, "stderr") ||
		    !cJSON_AddNullToObject(j, "stderrBase64"))
			return GKX_ENOMEM;
		return 0;
	}
	if (gkx__buf_put(&both, out->ptr, out->len) < 0 ||
	    gkx__buf_put(&both, err->ptr, err->len) < 0)
		rc = GKX_ENOMEM;
	else
		rc = gkx__json_add_bytes(j, "output", "outputBase64", both.ptr, both.len);
	gkx__buf_free(&both);
	if (rc == 0)
		rc = gkx__json_add_bytes(j, "stdout", "stdoutBase64", out->ptr, out->len);
	if (rc == 0)
		rc = gkx__json_add_bytes(j, "stderr", "stderrBase64", err->ptr, err->len);
	return rc;
}

cJSON *gkx__run_result(const gkx_run *run, int status, const gkx_error *e, const gkx_buf *output,
                       const gkx_buf *stderr_text)
{
	cJSON *j = cJSON_CreateObject(), *t;
	int warm = run && run->warm, ok;
	gkx_run_timings tm;
	int exit_code = run ? gkx_run_exit_code(run) : -1;
	gkx_buf out = GKX_BUF_INIT, err = GKX_BUF_INIT;

	GKX__OK(j);
	GKX__OK(cJSON_AddStringToObject(j, "apiVersion", "sandbox-run.gkexec.dev/v1alpha1"));
	GKX__OK(cJSON_AddStringToObject(j, "kind", "RunResult"));
	GKX__OK(cJSON_AddStringToObject(j, "name", run ? gkx_run_name(run) : ""));
	GKX__OK(cJSON_AddStringToObject(j, "namespace", run ? gkx_run_namespace(run) : ""));
	GKX__OK(cJSON_AddBoolToObject(j, "ok", status == 0 && exit_code == 0));
	GKX__OK(exit_code >= 0 ? cJSON_AddNumberToObject(j, "exitCode", exit_code)
	                       : cJSON_AddNullToObject(j, "exitCode"));
	GKX__OK(cJSON_AddStringToObject(j, "reason", run ? gkx_run_reason(run) : "Invalid"));
	GKX__OK(run && gkx_run_message(run)[0]
	                ? cJSON_AddStringToObject(j, "message", gkx_run_message(run))
	                : cJSON_AddNullToObject(j, "message"));
	/* What the caller collected, else what the run kept. */
	ok = gkx__buf_put(&out, "", 0) == 0 && gkx__buf_put(&err, "", 0) == 0;
	if (ok && (output || stderr_text))
		ok = (!output || gkx__buf_put(&out, output->ptr, output->len) == 0) &&
		     (!stderr_text || gkx__buf_put(&err, stderr_text->ptr, stderr_text->len) == 0);
	else if (ok && run)
		ok = gkx__capture_bytes(&run->cap_out, &out) == 0 &&
		     gkx__capture_bytes(&run->cap_err, &err) == 0;
	ok = ok && add_output(j, warm, &out, &err) == 0;
	gkx__buf_free(&out);
	gkx__buf_free(&err);
	GKX__OK(ok);
	GKX__OK(cJSON_AddBoolToObject(j, "warm", warm));
	GKX__OK(warm ? cJSON_AddStringToObject(j, "pod", run->claim.pod)
	             : cJSON_AddNullToObject(j, "pod"));
	GKX__OK(cJSON_AddBoolToObject(j, "outputTruncated", run && gkx_run_output_truncated(run)));
	GKX__OK(t = cJSON_AddObjectToObject(j, "timings"));
	if (run)
		gkx_run_get_timings(run, &tm);
	else
		tm.created = tm.scheduled = tm.started = tm.ended = tm.finished = -1;
	GKX__OK(add_seconds(t, "created", tm.created));
	GKX__OK(add_seconds(t, "scheduled", tm.scheduled));
	GKX__OK(add_seconds(t, "started", tm.started));
	GKX__OK(add_seconds(t, "ended", tm.ended));
	GKX__OK(add_seconds(t, "finished", tm.finished));
	GKX__OK(cJSON_AddNumberToObject(j, "apiRequests",
	                                run && run->executed ? gkx_run_request_count(run) : 0));
	GKX__OK(cJSON_AddNumberToObject(j, "status", status));
	if (status < 0) {
		GKX__OK(cJSON_AddStringToObject(j, "errorCode", gkx_error_name(status)));
		GKX__OK(cJSON_AddStringToObject(
		        j, "error", e && e->message[0] ? e->message : gkx_strerror(status)));
	} else {
		GKX__OK(cJSON_AddNullToObject(j, "errorCode"));
		GKX__OK(cJSON_AddNullToObject(j, "error"));
	}
	return j;
fail:
	cJSON_Delete(j);
	return NULL;
}

char *gkx_run_result_json_split(const gkx_run *run, const char *output, const char *stderr_text)
{
	gkx_buf out = GKX_BUF_INIT, err = GKX_BUF_INIT;
	cJSON *j;
	char *s;

	if (!run || !run->executed)
		return NULL;
	/* The caller's C strings, borrowed: they end at their NUL. */
	out.ptr = (char *)output;
	out.len = output ? strlen(output) : 0;
	err.ptr = (char *)stderr_text;
	err.len = stderr_text ? strlen(stderr_text) : 0;
	j = gkx__run_result(run, run->result_rc, &run->result_err, output ? &out : NULL,
	                    stderr_text ? &err : NULL);
	s = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	return s;
}

char *gkx_run_result_json(const gkx_run *run, const char *output)
{
	return gkx_run_result_json_split(run, output, NULL);
}

void gkx_free(void *p) { cJSON_free(p); }
