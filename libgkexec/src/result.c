/* One result document for a run, whoever asks: the plugin's -o json and
 * each entry of a session's results (the Python binding). The schema is in
 * the README. */
#include <stdlib.h>

#include "run_internal.h"

/* Seconds from the start of the run, to the millisecond; null if never. */
static cJSON *add_seconds(cJSON *obj, const char *name, double s)
{
	if (s < 0)
		return cJSON_AddNullToObject(obj, name);
	return cJSON_AddNumberToObject(obj, name, (double)(long)(s * 1000 + 0.5) / 1000);
}

cJSON *gkx__run_result(const gkx_run *run, int status, const gkx_error *e, const char *output,
                       const char *stderr_text)
{
	cJSON *j = cJSON_CreateObject(), *t;
	int warm = run && run->warm;
	gkx_run_timings tm;
	int exit_code = run ? gkx_run_exit_code(run) : -1;

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
	if (warm) {
		/* Apart, as they came; "output" has both, stdout first. */
		gkx_buf both = GKX_BUF_INIT;
		int ok = gkx__buf_puts(&both, output ? output : "") == 0 &&
		         gkx__buf_puts(&both, stderr_text ? stderr_text : "") == 0 &&
		         cJSON_AddStringToObject(j, "output", both.ptr ? both.ptr : "") &&
		         cJSON_AddStringToObject(j, "stdout", output ? output : "") &&
		         cJSON_AddStringToObject(j, "stderr", stderr_text ? stderr_text : "");
		gkx__buf_free(&both);
		GKX__OK(ok);
	} else {
		GKX__OK(cJSON_AddStringToObject(j, "output", output ? output : ""));
		GKX__OK(cJSON_AddNullToObject(j, "stdout"));
		GKX__OK(cJSON_AddNullToObject(j, "stderr"));
	}
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
	cJSON *j;
	char *s;

	if (!run || !run->executed)
		return NULL;
	j = gkx__run_result(run, run->result_rc, &run->result_err, output, stderr_text);
	s = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	return s;
}

char *gkx_run_result_json(const gkx_run *run, const char *output)
{
	return gkx_run_result_json_split(run, output, NULL);
}

void gkx_free(void *p) { cJSON_free(p); }
