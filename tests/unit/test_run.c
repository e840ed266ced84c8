/* The run's state machine over the fake transport: what is sent, in which
 * order, what the caller gets back, and that cleanup happens on every path. */
#include <stdio.h>
#include <time.h>

#include "testutil.h"

#include "fake_transport.h"
#include "run_internal.h"

#define JOB_CREATED "{\"kind\":\"Job\",\"metadata\":{\"name\":\"x\",\"uid\":\"uid-123\"}}"
#define CM_CREATED  "{\"kind\":\"ConfigMap\"}"
/* A log record as the kubelet writes it with timestamps=true. */
#define TS "2026-11-30T06:29:09.123456789Z "
#define POD(type, state)                                                                           \
	"{\"type\":\"" type "\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-1\"},"   \
	"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"containerStatuses\":[{\"name\":\"sandbox\"," \
	"\"state\":" state "}]}}}\n"
#define RUNNING "{\"running\":{\"startedAt\":\"2026-01-01T00:00:00Z\"}}"
#define TERMINATED(code, reason) \
	"{\"terminated\":{\"exitCode\":" #code ",\"reason\":\"" reason "\"}}"
#define PENDING_POD                                                                           \
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-1\"}," \
	"\"status\":{\"phase\":\"Pending\"}}}\n"

typedef struct {
	gkx_config *cfg;
	gkx_client *client;
	gkx_buf out;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	gkx_config_options o;
	gkx_error err;

	fake_reset();
	gkx_config_options_init(&o);
	o.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	o.ns = "sandbox";
	assert_int_equal(gkx_config_load(&f->cfg, &o, &err), 0);
	assert_int_equal(gkx_client_new(&f->client, f->cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(f->client, &fake_transport_v1, NULL, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	gkx_client_free(f->client);
	gkx_config_free(f->cfg);
	gkx__buf_free(&f->out);
	free(f);
	return 0;
}

static int capture(const char *data, size_t len, void *ud)
{
	return gkx__buf_put(ud, data, len) < 0;
}

/* A run of `code` whose output goes to f->out; `tweak`, if given, changes
 * the options first. */
static gkx_run *new_run_with(fixture *f, const char *code, void (*tweak)(gkx_run_options *))
{
	gkx_run_options o;
	gkx_run *run = NULL;
	gkx_error err;

	gkx_run_options_init(&o);
	o.script_name = "hello.py";
	o.script = code;
	o.script_len = strlen(code);
	o.on_output = capture;
	o.output_userdata = &f->out;
	o.cold = 1; /* the Job path, its log read (no WebSockets); test_warm.c has the others */
	if (tweak)
		tweak(&o);
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	return run;
}

static gkx_run *new_run(fixture *f, const char *code) { return new_run_with(f, code, NULL); }

static void expect_cleanup(void)
{
	fake_expect("DELETE", "/apis/batch/v1/namespaces/sandbox/jobs/sandbox-run-", 200, "{}");
	fake_expect("DELETE", "/api/v1/namespaces/sandbox/configmaps/sandbox-run-", 200, "{}");
}

static void assert_methods(const char *const *want, size_t n)
{
	size_t i;

	if (fake_count() != n) {
		for (i = 0; i < fake_count(); i++)
			print_message("request %lu: %s %s\n", (unsigned long)i,
			              fake_request_at(i)->method, fake_request_at(i)->url);
		fail_msg("%lu requests, want %lu", (unsigned long)fake_count(), (unsigned long)n);
	}
	for (i = 0; i < n; i++) {
		char got[1200];
		snprintf(got, sizeof(got), "%s %s", fake_request_at(i)->method,
		         fake_request_at(i)->url);
		if (!strstr(got, want[i]))
			fail_msg("request %lu is \"%s\", want \"%s\"", (unsigned long)i, got,
			         want[i]);
	}
	assert_int_equal(fake_unexpected(), 0);
}

static void test_script_exit_code_and_output(void **state)
{
	static const char *const want[] = {
		"POST https://api.example.test/apis/batch/v1/namespaces/sandbox/jobs",
		"POST https://api.example.test/api/v1/namespaces/sandbox/configmaps",
		"GET "
		"https://api.example.test/api/v1/namespaces/sandbox/"
		"pods?labelSelector=job-name%3Dsandbox-run-",
		"GET "
		"https://api.example.test/api/v1/namespaces/sandbox/pods/pod-1/"
		"log?container=sandbox",
		"DELETE "
		"https://api.example.test/apis/batch/v1/namespaces/sandbox/jobs/sandbox-run-",
		"DELETE https://api.example.test/api/v1/namespaces/sandbox/configmaps/sandbox-run-",
	};
	fixture *f = *state;
	gkx_run *run = new_run(f, "import sys; print('hi'); sys.exit(3)\n");
	gkx_error err;
	cJSON *job, *cm;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, PENDING_POD POD("MODIFIED", TERMINATED(3, "Error")));
	fake_expect("GET", "/log", 200, TS "hi\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(gkx_run_exit_code(run), 3);
	assert_string_equal(gkx_run_reason(run), "Error");
	assert_string_equal(f->out.ptr, "hi\n");
	assert_methods(want, 6);
	/* The watch asks for bookmarks; the log is not followed once the
	 * container has ended; the Job goes with propagationPolicy=Background. */
	assert_non_null(strstr(fake_request_at(2)->url, "watch=true"));
	assert_non_null(strstr(fake_request_at(2)->url, "allowWatchBookmarks=true"));
	assert_null(strstr(fake_request_at(3)->url, "follow"));
	assert_non_null(strstr(fake_request_at(4)->url, "propagationPolicy=Background"));
	/* What was created: the Job, then the ConfigMap owned by its uid. */
	job = cJSON_Parse(fake_request_at(0)->body);
	cm = cJSON_Parse(fake_request_at(1)->body);
	assert_json_string(job, "kind", "Job");
	assert_json_string(job, "metadata.namespace", "sandbox");
	assert_json_string(cm, "metadata.ownerReferences.0.uid", "uid-123");
	assert_string_equal(
	        cJSON_GetObjectItemCaseSensitive(at(cm, "data"), "hello.py")->valuestring,
	        "import sys; print('hi'); sys.exit(3)\n");
	cJSON_Delete(job);
	cJSON_Delete(cm);
	gkx_run_free(run);
}

static int refuse(const char *data, size_t len, void *ud)
{
	(void)data;
	(void)len;
	(void)ud;
	return 1;
}

static void refusing_reader(gkx_run_options *o) { o->on_output = refuse; }

/* An output reader that refuses the output stops the run, which still
 * cleans up. */
static void test_reader_stops_the_run(void **state)
{
	static const char *const want[] = { "POST", "POST", "GET", "GET", "DELETE", "DELETE" };
	fixture *f = *state;
	gkx_run *run = new_run_with(f, "print(1)", refusing_reader);
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_open("GET", "/log", 200, TS "1\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), GKX_ECANCELED);
	assert_string_equal(err.message, "the output reader stopped the run");
	assert_methods(want, 6);
	gkx_run_free(run);
}

static void network_none(gkx_run_options *o) { o->network = "none"; }

/* --network=none: the policy is created after the Job (it needs the uid)
 * and before the ConfigMap (the pod cannot start without its code), and is
 * deleted with the rest. */
static void test_network_none_policy(void **state)
{
	static const char *const want[] = {
		"POST https://api.example.test/apis/batch/v1/namespaces/sandbox/jobs",
		"POST "
		"https://api.example.test/apis/networking.k8s.io/v1/namespaces/sandbox/"
		"networkpolicies",
		"POST https://api.example.test/api/v1/namespaces/sandbox/configmaps",
		"GET https://api.example.test/api/v1/namespaces/sandbox/pods?",
		"GET https://api.example.test/api/v1/namespaces/sandbox/pods/pod-1/log?",
		"DELETE "
		"https://api.example.test/apis/batch/v1/namespaces/sandbox/jobs/sandbox-run-",
		"DELETE "
		"https://api.example.test/apis/networking.k8s.io/v1/namespaces/sandbox/"
		"networkpolicies/sandbox-run-",
		"DELETE https://api.example.test/api/v1/namespaces/sandbox/configmaps/sandbox-run-",
	};
	fixture *f = *state;
	gkx_run *run = new_run_with(f, "print(1)", network_none);
	gkx_error err;
	cJSON *np;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/networkpolicies", 201, "{\"kind\":\"NetworkPolicy\"}");
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, PENDING_POD POD("MODIFIED", TERMINATED(0, "Completed")));
	fake_expect("GET", "/log", 200, TS "1\n");
	fake_expect("DELETE", "/jobs/", 200, "{}");
	fake_expect("DELETE", "/networkpolicies/", 200, "{}");
	fake_expect("DELETE", "/configmaps/", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(gkx_run_exit_code(run), 0);
	assert_methods(want, 8);
	np = cJSON_Parse(fake_request_at(1)->body);
	assert_json_string(np, "kind", "NetworkPolicy");
	assert_json_string(np, "metadata.name", gkx_run_name(run));
	assert_json_string(np, "metadata.ownerReferences.0.uid", "uid-123");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(at(np, "spec.podSelector.matchLabels"),
	                                                     "sandbox-run.gkexec.dev/run")
	                            ->valuestring,
	                    gkx_run_name(run));
	cJSON_Delete(np);
	gkx_run_free(run);
}

/* A user who may not create NetworkPolicies: the run stops with the
 * server's reason, before any code exists, and the Job is deleted. */
static void test_network_policy_forbidden(void **state)
{
	static const char *const want[] = { "POST", "POST", "DELETE", "DELETE", "DELETE" };
	fixture *f = *state;
	gkx_run *run = new_run_with(f, "print(1)", network_none);
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/networkpolicies", 403,
	            "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"message\":\"networkpolicies."
	            "networking.k8s.io is forbidden\"}");
	fake_expect("DELETE", "/jobs/", 200, "{}");
	fake_expect("DELETE", "/networkpolicies/", 404,
	            "{\"kind\":\"Status\",\"message\":\"not found\"}");
	fake_expect("DELETE", "/configmaps/", 404,
	            "{\"kind\":\"Status\",\"message\":\"not found\"}");
	assert_int_equal(gkx_run_execute(run, &err), GKX_EFORBIDDEN);
	assert_string_equal(
	        err.message,
	        "creating NetworkPolicy: networkpolicies.networking.k8s.io is forbidden");
	assert_methods(want, 5);
	gkx_run_free(run);
}

static void test_follow_then_resume_without_duplicates(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	/* The first watch sees the container running and closes; the second
	 * (a resumed watch) reports its end a few waits later. */
	fake_expect("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_delayed("GET", "/pods?", 200, POD("MODIFIED", TERMINATED(0, "Completed")), 3);
	/* The followed log delivers part of a line and stays open... */
	fake_expect_open("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	                 TS "line1\n" TS "li");
	/* ...so the finished log is fetched and only what is new delivered. */
	fake_expect("GET", "/log?container=sandbox&timestamps=true", 200,
	            TS "line1\n" TS "line2\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_string_equal(f->out.ptr, "line1\nline2\n");
	assert_int_equal(gkx_run_exit_code(run), 0);
	assert_string_equal(gkx_run_reason(run), "Completed");
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_count(), 8);
	gkx_run_free(run);
}

static void test_forbidden_job_creates_nothing(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_expect("POST", "/jobs", 403,
	            "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"jobs.batch is "
	            "forbidden: "
	            "User \\\"r\\\" cannot create resource \\\"jobs\\\" in API group \\\"batch\\\" "
	            "in the "
	            "namespace \\\"sandbox\\\"\",\"reason\":\"Forbidden\",\"code\":403}");
	assert_int_equal(gkx_run_execute(run, &err), GKX_EFORBIDDEN);
	assert_int_equal(err.code, GKX_EFORBIDDEN);
	assert_int_equal(err.http_status, 403);
	assert_string_equal(
	        err.message,
	        "creating Job: jobs.batch is forbidden: User \"r\" cannot create "
	        "resource \"jobs\" in API group \"batch\" in the namespace \"sandbox\"");
	assert_int_equal(fake_count(), 1); /* nothing was created, so nothing is deleted */
	assert_int_equal(gkx_run_exit_code(run), -1);
	/* The run keeps its outcome for later readers (batches, bindings). */
	assert_int_equal(gkx_run_status(run), GKX_EFORBIDDEN);
	assert_int_equal(gkx_run_error(run)->code, GKX_EFORBIDDEN);
	assert_string_equal(gkx_run_error(run)->message, err.message);
	gkx_run_free(run);
}

static void test_configmap_failure_deletes_job(void **state)
{
	static const char *const want[] = { "POST", "POST", "DELETE", "DELETE" };
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 422,
	            "{\"kind\":\"Status\",\"message\":\"etcd is sad\"}");
	fake_expect("DELETE", "/jobs/", 200, "{}");
	fake_expect("DELETE", "/configmaps/", 404,
	            "{\"kind\":\"Status\",\"message\":\"not found\"}");
	assert_int_equal(gkx_run_execute(run, &err), GKX_EAPI);
	assert_string_equal(err.message, "creating ConfigMap: etcd is sad");
	assert_methods(want, 4);
	gkx_run_free(run);
}

static void test_create_retried_after_a_reset(void **state)
{
	static const char *const want[] = { "POST", "POST", "GET",    "POST",
		                            "GET",  "GET",  "DELETE", "DELETE" };
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;
	cJSON *cm;

	/* The first POST's connection drops after the server created the Job;
	 * the retry gets 409, and the run reads its own Job back. */
	fake_expect_error("POST", "/jobs", GKX_ETRANSPORT);
	fake_expect("POST", "/jobs", 409,
	            "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"message\":\"exists\"}");
	fake_expect("GET", "/apis/batch/v1/namespaces/sandbox/jobs/sandbox-run-", 200,
	            "{\"kind\":\"Job\",\"metadata\":{\"uid\":\"uid-from-get\"}}");
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD("ADDED", TERMINATED(0, "Completed")));
	fake_expect("GET", "/log", 200, TS "1\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	/* The 409 was handled: it is nobody's error now. */
	assert_error_clear(&err);
	assert_error_clear(gkx_run_error(run));
	assert_methods(want, 8);
	cm = cJSON_Parse(fake_request_at(3)->body);
	assert_json_string(cm, "metadata.ownerReferences.0.uid", "uid-from-get");
	cJSON_Delete(cm);
	assert_int_equal(gkx_run_request_count(run), 8);
	gkx_run_free(run);
}

static void sleep_100ms(void *ud)
{
	struct timespec ts = { 0, 100000000L };

	(void)ud;
	nanosleep(&ts, NULL);
}

/* A runner may run Jobs but not read events: the 403 on events is handled
 * and the run that then succeeds leaves no error behind. */
static void test_events_forbidden_leaves_no_error(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_on_wait(sleep_100ms, NULL);
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	/* No pod for a few seconds: after 3 the run asks for the Job's events,
	 * every 2 s, and is refused each time. */
	fake_expect_delayed("GET", "/pods?", 200, POD("ADDED", TERMINATED(0, "Completed")), 40);
	{
		int i;
		for (i = 0; i < 8; i++)
			fake_expect("GET", "/events?", 403,
			            "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"message\":"
			            "\"events is forbidden\",\"code\":403}");
	}
	fake_expect("GET", "/log", 200, TS "1\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_string_equal(f->out.ptr, "1\n");
	assert_error_clear(&err);
	assert_error_clear(gkx_run_error(run));
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
}

static void test_image_pull_failure(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open("GET", "/pods?", 200,
	                 POD("MODIFIED",
	                     "{\"waiting\":{\"reason\":\"ImagePullBackOff\",\"message\":"
	                     "\"Back-off pulling image \\\"127.0.0.1:1/missing:1\\\"\"}}"));
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), GKX_ESTART);
	assert_string_equal(gkx_run_reason(run), "ImagePullBackOff");
	assert_non_null(strstr(err.message, "127.0.0.1:1/missing:1"));
	assert_int_equal(fake_count(), 5); /* cleanup happened */
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
}

static int waits_before_cancel;

static void cancel_later(void *ud)
{
	if (--waits_before_cancel == 0)
		gkx_run_cancel(ud);
}

/* The last phase a run reported, and how many requests had been sent when
 * it said it had ended. */
static struct {
	int last;
	char ended_detail[64];
	size_t requests_at_end;
} phases;

static void note_phase(gkx_phase phase, const char *detail, void *ud)
{
	(void)ud;
	phases.last = (int)phase;
	if (phase == GKX_PHASE_ENDED) {
		snprintf(phases.ended_detail, sizeof(phases.ended_detail), "%s", detail);
		phases.requests_at_end = fake_count();
	}
}

static void with_phases(gkx_run_options *o)
{
	memset(&phases, 0, sizeof(phases));
	o->on_phase = note_phase;
}

static void test_cancel_cleans_up(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run_with(f, "while True: pass", with_phases);
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_open("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	                 TS "tick\n");
	expect_cleanup();
	/* Like a SIGINT while the log streams: after the two creates, the
	 * watch and the log have answered. */
	waits_before_cancel = 5;
	fake_on_wait(cancel_later, run);
	assert_int_equal(gkx_run_execute(run, &err), GKX_ECANCELED);
	assert_string_equal(gkx_run_reason(run), "Interrupted");
	assert_string_equal(f->out.ptr, "tick\n");
	assert_int_equal(fake_count(), 6);
	assert_string_equal(fake_request_at(fake_count() - 2)->method, "DELETE");
	assert_string_equal(fake_request_at(fake_count() - 1)->method, "DELETE");
	/* The last word: ended, once both deletes were sent (a binding that
	 * stops waiting names what has not ended). */
	assert_int_equal(phases.last, GKX_PHASE_ENDED);
	assert_int_equal(phases.requests_at_end, 6);
	assert_string_equal(phases.ended_detail, gkx_run_name(run));
	gkx_run_free(run);
}

/* A cleanup the API server refused: the run never says it ended, so that
 * a binding still names its Job as left in the cluster. */
static void test_failed_cleanup_is_not_ended(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run_with(f, "while True: pass", with_phases);
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_open("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	                 TS "tick\n");
	fake_expect("DELETE", "/jobs/sandbox-run-", 403,
	            "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"message\":\"no\","
	            "\"code\":403}");
	fake_expect("DELETE", "/configmaps/sandbox-run-", 200, "{}");
	waits_before_cancel = 5;
	fake_on_wait(cancel_later, run);
	assert_int_equal(gkx_run_execute(run, &err), GKX_ECANCELED);
	assert_int_not_equal(phases.last, GKX_PHASE_ENDED);
	assert_string_equal(phases.ended_detail, "");
	gkx_run_free(run);
}

static void test_cancel_during_create(void **state)
{
	static const char *const want[] = { "POST", "DELETE", "DELETE" };
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	/* The cancel arrives while the Job's POST is in flight: the POST is
	 * let finish (so that the run knows the Job exists), no ConfigMap is
	 * created, and both are deleted by name. */
	fake_expect_delayed("POST", "/jobs", 201, JOB_CREATED, 3);
	expect_cleanup();
	waits_before_cancel = 1;
	fake_on_wait(cancel_later, run);
	assert_int_equal(gkx_run_execute(run, &err), GKX_ECANCELED);
	assert_string_equal(gkx_run_reason(run), "Interrupted");
	assert_methods(want, 3);
	assert_non_null(strstr(fake_request_at(1)->url, gkx_run_name(run)));
	gkx_run_free(run);
}

static void test_keep_leaves_objects(void **state)
{
	fixture *f = *state;
	gkx_run_options o;
	gkx_run *run = NULL;
	gkx_error err;

	gkx_run_options_init(&o);
	o.script_name = "a.sh";
	o.script = "echo hi";
	o.script_len = 7;
	o.keep = 1;
	o.cold = 1;
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD("ADDED", TERMINATED(0, "Completed")));
	fake_expect("GET", "/log", 200, TS "hi\n");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(fake_count(), 4);
	assert_int_equal(gkx_run_execute(run, &err), GKX_EINVAL); /* once only */
	gkx_run_free(run);
}

static void test_pod_deleted_by_deadline(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "import time; time.sleep(999)");
	gkx_error err;

	run->timeout_s = 1; /* the deletion comes at the Job's deadline */
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open("GET", "/pods?", 200,
	                 PENDING_POD
	                 "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"pod-1\"}}}\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_string_equal(gkx_run_reason(run), "DeadlineExceeded");
	assert_int_equal(gkx_run_exit_code(run), -1);
	gkx_run_free(run);
}

/* The same deletion long before the deadline: somebody else deleted the
 * pod, and the run says so instead of DeadlineExceeded. */
static void test_pod_deleted_before_deadline(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "import time; time.sleep(999)");
	gkx_error err;

	run->timeout_s = 600;
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open("GET", "/pods?", 200,
	                 PENDING_POD
	                 "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"pod-1\"}}}\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), GKX_ERROR);
	assert_string_equal(gkx_run_reason(run), "PodDeleted");
	assert_non_null(strstr(err.message, "pod-1 was deleted while the script ran"));
	assert_int_equal(gkx_run_exit_code(run), -1);
	gkx_run_free(run);
}

/* Recorded on the local cluster under gVisor: the Job controller deleted
 * the pod at its deadline while the log was followed, and the kubelet
 * appended its error to the log's 200 body. It must never be output. */
#define NODE_ERROR                                                                        \
	"rpc error: code = NotFound desc = an error occurred when try to find container " \
	"\"3f0a9c1d2e4b\": not found"
#define DELETING_POD                                                                            \
	"{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-1\"," \
	"\"deletionTimestamp\":\"2026-11-30T06:30:00Z\"},\"spec\":{\"nodeName\":\"n1\"},"       \
	"\"status\":{\"containerStatuses\":[{\"name\":\"sandbox\",\"state\":" RUNNING "}]}}}\n"
#define POD_GONE "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404}"

static void node_error_at_deadline(void **state, const char *followed, const char *want)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print('napping'); import time; time.sleep(999)");
	gkx_error err;

	run->timeout_s = 1; /* the deletion comes at the Job's deadline */
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_delayed("GET", "/pods?", 200, DELETING_POD, 2);
	fake_expect("GET", "/log?container=sandbox&timestamps=true&follow=true", 200, followed);
	/* Deleted while running: one look without following; the pod is gone. */
	fake_expect("GET", "/log?container=sandbox&timestamps=true", 404, POD_GONE);
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(err.code, 0);
	assert_string_equal(f->out.ptr ? f->out.ptr : "", want);
	assert_string_equal(gkx_run_reason(run), "DeadlineExceeded");
	assert_int_equal(gkx_run_exit_code(run), -1);
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
}

static void test_node_error_is_not_output(void **state)
{
	node_error_at_deadline(state, TS "napping\n" NODE_ERROR, "napping\n");
}

/* The script's last line had no newline: the error is glued to it. */
static void test_node_error_after_partial_line(void **state)
{
	node_error_at_deadline(state, TS "napping\n" TS "zzz" NODE_ERROR, "napping\nzzz");
}

/* The node's error on a follow while the container still runs: the log is
 * read again, and each byte is delivered once. */
static void test_node_error_then_resume(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_delayed("GET", "/pods?", 200, POD("MODIFIED", TERMINATED(0, "Completed")), 4);
	fake_expect("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	            TS "a\n"
	               "rpc error: code = Unknown desc = transient");
	fake_expect("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	            TS "a\n" TS "b\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_string_equal(f->out.ptr, "a\nb\n");
	assert_string_equal(gkx_run_reason(run), "Completed");
	assert_int_equal(gkx_run_exit_code(run), 0);
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
}

/* The wrapper's end marker in the log ends the run with its exit code while
 * the pod status still says running; the marker is not output, not even
 * glued to a line the script left unfinished. The Job is deleted first,
 * then its pod at once (grace 0), then the ConfigMap. A marker with a
 * status from a signal (137) waits for the pod's status instead. */
static void test_end_marker_ends_the_run(void **state)
{
	static const char *const want[] = { "POST",   "POST",   "GET",   "GET",
		                            "DELETE", "DELETE", "DELETE" };
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	char log[256], other[128];
	gkx_error err;
	cJSON *job;
	const cJSON *cmd;

	/* Another run's marker (another nonce) is just output. */
	snprintf(other, sizeof(other), GKX_END_MARKER_PREFIX "aaaaaaaaaaaaaaaa:0");
	snprintf(log, sizeof(log), TS "%s\n" TS "partial line%s3\n", other, run->end_marker);
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_open("GET", "/log", 200, log);
	fake_expect("DELETE", "/jobs/sandbox-run-", 200, "{}");
	fake_expect("DELETE", "/pods/pod-1?gracePeriodSeconds=0", 200, "{}");
	fake_expect("DELETE", "/configmaps/sandbox-run-", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(gkx_run_exit_code(run), 3);
	assert_string_equal(gkx_run_reason(run), "Error");
	snprintf(log, sizeof(log), "%s\npartial line", other);
	assert_string_equal(f->out.ptr, log);
	assert_methods(want, 7);
	assert_non_null(strstr(fake_request_at(3)->url, "follow=true"));
	assert_non_null(strstr(fake_request_at(4)->url, "/jobs/"));
	assert_non_null(strstr(fake_request_at(5)->url, "/pods/pod-1?gracePeriodSeconds=0"));
	/* The marker is the one the Job's wrapper prints. */
	job = cJSON_Parse(fake_request_at(0)->body);
	cmd = at(job, "spec.template.spec.containers.0.command");
	assert_string_equal(cJSON_GetArrayItem(cmd, 0)->valuestring, "/bin/sh");
	assert_non_null(strstr(cJSON_GetArrayItem(cmd, 2)->valuestring, run->end_marker));
	assert_int_equal(
	        strncmp(run->end_marker, GKX_END_MARKER_PREFIX, strlen(GKX_END_MARKER_PREFIX)), 0);
	cJSON_Delete(job);
	gkx_run_free(run);
}

static void test_end_marker_of_a_signal_waits_for_status(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "x = bytearray(1 << 40)");
	char log[256];
	gkx_error err;

	snprintf(log, sizeof(log), TS "%s137\n", run->end_marker);
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_delayed("GET", "/pods?", 200, POD("MODIFIED", TERMINATED(137, "OOMKilled")), 3);
	fake_expect("GET", "/log", 200, log);
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(gkx_run_exit_code(run), 137);
	assert_string_equal(gkx_run_reason(run), "OOMKilled");
	assert_null(f->out.ptr);
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
}

/* What a pod's status says about its end (pod_status.c). The recorded
 * pod: a 1.20 kubelet evicted it under gVisor, its memory-backed /tmp past
 * sizeLimit; its status has no container statuses left at all. The pod's
 * own reason wins over the container's "Error"; the kubelet's trailing
 * space goes. */
static void test_pod_end_reasons(void **state)
{
	static const char running[] = "{\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
	                              "{\"state\":" RUNNING "}]}}";
	static const char oom[] = "{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":["
	                          "{\"state\":" TERMINATED(137, "OOMKilled") "}]}}";
	static const char evicted_after_exit[] =
	        "{\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\",\"message\":\"Pod "
	        "ephemeral local storage usage exceeds the total limit of containers 128Mi. \","
	        "\"containerStatuses\":[{\"state\":" TERMINATED(137, "Error") "}]}}";
	char *line = recorded_pod_event("evicted-emptydir-memory.json", "MODIFIED", "p", NULL);
	cJSON *ev = cJSON_Parse(line), *pod;
	gkx__pod_end end;

	(void)state;
	assert_int_equal(gkx__pod_end_read(at(ev, "object"), &end), 1);
	assert_string_equal(end.reason, "Evicted");
	assert_string_equal(end.message,
	                    "Usage of EmptyDir volume \"tmp\" exceeds the limit \"64Mi\".");
	assert_true(end.from_pod && end.pod_failed);
	assert_false(end.container_ended);
	assert_int_equal(end.exit_code, -1);
	cJSON_Delete(ev);
	cJSON_free(line);

	pod = cJSON_Parse(evicted_after_exit);
	assert_int_equal(gkx__pod_end_read(pod, &end), 1);
	assert_string_equal(end.reason, "Evicted");
	assert_string_equal(end.message, "Pod ephemeral local storage usage exceeds the total "
	                                 "limit of containers 128Mi.");
	assert_true(end.container_ended);
	assert_int_equal(end.exit_code, 137);
	cJSON_Delete(pod);
	pod = cJSON_Parse(oom);
	assert_int_equal(gkx__pod_end_read(pod, &end), 1);
	assert_string_equal(end.reason, "OOMKilled");
	assert_false(end.from_pod);
	assert_int_equal(end.exit_code, 137);
	cJSON_Delete(pod);
	pod = cJSON_Parse(running);
	assert_int_equal(gkx__pod_end_read(pod, &end), 0);
	assert_string_equal(end.reason, "");
	cJSON_Delete(pod);
}

/* The kubelet evicted the pod (its /tmp or ephemeral storage over the
 * limit): the container only says exit 137, "Error"; the run says
 * Evicted, with the kubelet's words, in the result too. */
static void test_evicted_job_says_so(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "open('/tmp/x', 'wb').write(bytes(1 << 30))");
	char *evicted =
	        recorded_pod_event("evicted-emptydir-memory.json", "MODIFIED", "pod-1", NULL);
	char *doc;
	gkx_error err;
	cJSON *j;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_delayed("GET", "/pods?", 200, evicted, 2);
	fake_expect("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	            TS "writing\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_string_equal(gkx_run_reason(run), "Evicted");
	assert_int_equal(gkx_run_exit_code(run), 137);
	assert_string_equal(gkx_run_message(run),
	                    "Usage of EmptyDir volume \"tmp\" exceeds the limit \"64Mi\".");
	assert_string_equal(f->out.ptr, "writing\n");
	doc = gkx_run_result_json(run, f->out.ptr);
	j = cJSON_Parse(doc);
	assert_json_string(j, "reason", "Evicted");
	assert_json_string(j, "message", gkx_run_message(run));
	assert_json_number(j, "exitCode", 137);
	assert_json_bool(j, "ok", 0);
	cJSON_Delete(j);
	gkx_free(doc);
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
	cJSON_free(evicted);
}

/* As recorded: the kubelet evicted the pod while its log was followed; the
 * log's last read is refused (400: the evicted pod's container is "not
 * available"). The log ends there; the run is Evicted, not Failed. */
#define NOT_AVAILABLE                                                                          \
	"{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"container \\\"sandbox\\\" " \
	"in pod \\\"pod-1\\\" is not available\",\"reason\":\"BadRequest\",\"code\":400}"

static void test_evicted_while_log_followed(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "open('/tmp/x', 'wb').write(bytes(1 << 30))");
	char *evicted =
	        recorded_pod_event("evicted-emptydir-memory.json", "MODIFIED", "pod-1", NULL);
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD("ADDED", RUNNING));
	fake_expect_delayed("GET", "/pods?", 200, evicted, 3);
	fake_expect_open("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	                 TS "writing\n");
	fake_expect("GET", "/log?container=sandbox&timestamps=true", 400, NOT_AVAILABLE);
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_string_equal(gkx_run_reason(run), "Evicted");
	assert_int_equal(gkx_run_exit_code(run), 137);
	assert_string_equal(f->out.ptr, "writing\n");
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
	cJSON_free(evicted);
}

static void test_pod_never_created(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open("GET", "/pods?", 200, "");
	/* After a few quiet seconds the run asks for the Job's events. */
	fake_expect("GET",
	            "/events?fieldSelector=involvedObject.kind%3DJob%2CinvolvedObject.name%"
	            "3Dsandbox-run-",
	            200,
	            "{\"kind\":\"EventList\",\"items\":[{\"reason\":\"FailedCreate\",\"message\":"
	            "\"Error creating: pods \\\"x\\\" is forbidden: pod rejected: RuntimeClass "
	            "\\\"gvisor\\\" "
	            "not found\"}]}");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), GKX_ESTART);
	assert_string_equal(gkx_run_reason(run), "FailedCreate");
	assert_string_equal(err.message,
	                    "the Job cannot create its pod: Error creating: pods \"x\" is "
	                    "forbidden: pod rejected: RuntimeClass \"gvisor\" not found");
	assert_int_equal(fake_count(), 6);
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
}

#define POD_RV(type, rv, state)                                                                 \
	"{\"type\":\"" type "\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-1\"," \
	"\"resourceVersion\":\"" rv                                                             \
	"\"},\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"containerStatuses\":"                 \
	"[{\"name\":\"sandbox\",\"state\":" state "}]}}}\n"

static void test_watch_resumes_and_relists(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	/* The first watch closes (its timeout, an apiserver restart)... */
	fake_expect("GET", "/pods?", 200,
	            POD_RV("ADDED", "10", "{\"waiting\":{\"reason\":\"ContainerCreating\"}}"));
	/* ...the next resumes from resourceVersion 10 and is told it expired... */
	fake_expect("GET", "&resourceVersion=10", 200,
	            "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":"
	            "\"Expired\"}}\n");
	/* ...so the third starts over without one. */
	fake_expect("GET", "/pods?", 200, POD_RV("ADDED", "12", TERMINATED(0, "Completed")));
	fake_expect("GET", "/log", 200, TS "1\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_string_equal(gkx_run_reason(run), "Completed");
	assert_int_equal(fake_count(), 8);
	assert_null(strstr(fake_request_at(2)->url, "resourceVersion="));
	assert_non_null(strstr(fake_request_at(3)->url, "resourceVersion=10"));
	assert_null(strstr(fake_request_at(4)->url, "resourceVersion="));
	assert_string_equal(f->out.ptr, "1\n");
	assert_int_equal(fake_unexpected(), 0);
	gkx_run_free(run);
}

static void test_dropped_log_resumes(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD_RV("ADDED", "5", RUNNING));
	/* The followed log is cut mid-line; the next follow repeats the log
	 * from its start, only the new bytes come out, and it ends cleanly:
	 * the container has stopped and that is the whole log, even before
	 * the watch (resumed from resourceVersion 5) reports the end. */
	fake_expect_cut("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	                TS "a\n" TS "b", GKX_ETRANSPORT);
	fake_expect("GET", "/log?container=sandbox&timestamps=true&follow=true", 200,
	            TS "a\n" TS "b\n" TS "c\n");
	fake_expect_delayed("GET", "&resourceVersion=5", 200,
	                    POD_RV("MODIFIED", "6", TERMINATED(0, "Completed")), 4);
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_string_equal(f->out.ptr, "a\nb\nc\n");
	assert_string_equal(gkx_run_reason(run), "Completed");
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_count(), 8); /* no fetch of the finished log was needed */
	gkx_run_free(run);
}

static void limit_5(gkx_run_options *o) { o->limit_bytes = 5; }

static void test_output_limit(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run_with(f, "print('hello world')", limit_5);
	gkx_error err;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, POD("ADDED", TERMINATED(0, "Completed")));
	fake_expect("GET", "/log", 200, TS "hello world\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_string_equal(f->out.ptr, "hello");
	assert_int_equal(gkx_run_output_truncated(run), 1);
	assert_int_equal(gkx_run_exit_code(run), 0);
	gkx_run_free(run);
}

static void start_in_1s(gkx_run_options *o) { o->start_timeout_s = 1; }

static void test_start_timeout_unschedulable(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run_with(f, "print(1)", start_in_1s);
	gkx_error err;
	gkx_run_timings t;

	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect_open(
	        "GET", "/pods?", 200,
	        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"pod-1\"},\"status\":{"
	        "\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":"
	        "\"False\",\"reason\":\"Unschedulable\",\"message\":\"0/1 nodes are available: 1 "
	        "Insufficient cpu.\"}]}}}\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), GKX_ESTART);
	assert_string_equal(gkx_run_reason(run), "Unschedulable");
	assert_string_equal(err.message,
	                    "the pod was not scheduled within 1 s: Unschedulable: 0/1 nodes are "
	                    "available: 1 Insufficient cpu.");
	gkx_run_get_timings(run, &t);
	assert_true(t.created >= 0 && t.scheduled < 0 && t.started < 0 && t.finished >= 1.0);
	gkx_run_free(run);
}

static void test_batch_interleaves_runs(void **state)
{
	fixture *f = *state;
	gkx_run *runs[3];
	gkx_batch *b = NULL;
	gkx_error err;
	size_t i;

	for (i = 0; i < 3; i++)
		runs[i] = new_run(f, "print(1)");
	assert_int_equal(gkx_batch_new(&b, f->client, 2, &err), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(gkx_batch_add(b, runs[i], &err), 0);
		fake_expect("POST", "/jobs", 201, JOB_CREATED);
		fake_expect("POST", "/configmaps", 201, CM_CREATED);
		fake_expect("GET", "/pods?", 200, POD("ADDED", TERMINATED(0, "Completed")));
		fake_expect("GET", "/log", 200, TS "1\n");
		expect_cleanup();
	}
	assert_int_equal(gkx_batch_execute(b, &err), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(gkx_run_status(runs[i]), 0);
		assert_int_equal(gkx_run_exit_code(runs[i]), 0);
		assert_string_equal(gkx_run_reason(runs[i]), "Completed");
	}
	assert_string_equal(f->out.ptr, "1\n1\n1\n");
	assert_int_equal(fake_count(), 18);
	assert_int_equal(fake_unexpected(), 0);
	/* Two ran at once: the second run's Job was created before the first
	 * run's log was read. */
	assert_string_equal(fake_request_at(2)->method, "GET");  /* run 1's watch */
	assert_string_equal(fake_request_at(3)->method, "POST"); /* run 2's Job */
	assert_non_null(strstr(fake_request_at(3)->url, "/jobs"));
	for (i = 0; i < 4; i++)
		assert_null(strstr(fake_request_at(i)->url, "/log"));
	assert_int_equal(gkx_batch_execute(b, &err), GKX_EINVAL);
	gkx_batch_free(b);
	for (i = 0; i < 3; i++)
		gkx_run_free(runs[i]);
}

static void test_batch_cancel_before_start(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)");
	gkx_batch *b = NULL;
	gkx_error err;

	assert_int_equal(gkx_batch_new(&b, f->client, 1, &err), 0);
	assert_int_equal(gkx_batch_add(b, run, &err), 0);
	gkx_batch_cancel(b);
	assert_int_equal(gkx_batch_execute(b, &err), GKX_ECANCELED);
	assert_int_equal(gkx_run_status(run), GKX_ECANCELED);
	assert_string_equal(gkx_run_reason(run), "Interrupted");
	assert_int_equal(fake_count(), 0); /* the cluster was never touched */
	gkx_batch_free(b);
	gkx_run_free(run);
}

typedef struct {
	const char *script_name;
	size_t script_len;
	const char *env;
	const char *cpu;
	const char *file_name;
	int code;
	const char *message_part;
} bad_case;

static void test_bad_options(void **state)
{
	static const bad_case cases[] = {
		{ "../x.py", 1, NULL, NULL, NULL, GKX_EINVAL, "plain file name" },
		{ "x.exe", 1, NULL, NULL, NULL, GKX_EINVAL, "cannot tell how to run" },
		{ "x.py", GKX_MAX_CODE_BYTES + 1, NULL, NULL, NULL, GKX_ETOOBIG,
		  "at most 1048576" },
		{ "x.py", 1, "NOEQUALS", NULL, NULL, GKX_EINVAL, "not KEY=VALUE" },
		{ "x.py", 1, "=v", NULL, NULL, GKX_EINVAL, "not KEY=VALUE" },
		{ "x.py", 1, NULL, "a lot", NULL, GKX_EINVAL, "cpu \"a lot\"" },
		{ "x.py", 1, NULL, NULL, "x.py", GKX_EINVAL, "given twice" },
		{ "x.py", 1, NULL, NULL, "a/b", GKX_EINVAL, "plain file name" },
	};
	fixture *f = *state;
	char *big = calloc(1, GKX_MAX_CODE_BYTES + 2);
	size_t i;

	memset(big, 'x', GKX_MAX_CODE_BYTES + 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gkx_run_options o;
		gkx_run *run = (gkx_run *)1;
		gkx_error err;
		gkx_file file;
		const char *env = cases[i].env;
		int rc;

		gkx_run_options_init(&o);
		o.script_name = cases[i].script_name;
		o.script = big;
		o.script_len = cases[i].script_len;
		if (env) {
			o.env = &env;
			o.nenv = 1;
		}
		o.cpu = cases[i].cpu;
		if (cases[i].file_name) {
			file.name = cases[i].file_name;
			file.data = "d";
			file.len = 1;
			o.files = &file;
			o.nfiles = 1;
		}
		rc = gkx_run_new(&run, f->client, &o, &err);
		if (rc != cases[i].code || !strstr(err.message, cases[i].message_part))
			fail_msg("case %lu: rc %d \"%s\"", (unsigned long)i, rc, err.message);
		assert_null(run);
	}
	free(big);
	assert_int_equal(fake_count(), 0);
}

/* The RunResult document, after a script that exited 3 and after a run the
 * cluster refused; nothing before execution. */
static void test_result_json(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print(1)"), *refused = new_run(f, "print(1)");
	gkx_error err;
	char *s;
	cJSON *j;

	assert_null(gkx_run_result_json(run, NULL));
	fake_expect("POST", "/jobs", 201, JOB_CREATED);
	fake_expect("POST", "/configmaps", 201, CM_CREATED);
	fake_expect("GET", "/pods?", 200, PENDING_POD POD("MODIFIED", TERMINATED(3, "Error")));
	fake_expect("GET", "/log", 200, TS "out\n");
	expect_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	s = gkx_run_result_json(run, "out\n");
	j = cJSON_Parse(s);
	assert_json_string(j, "kind", "RunResult");
	assert_json_string(j, "name", gkx_run_name(run));
	assert_json_string(j, "namespace", "sandbox");
	assert_true(cJSON_IsFalse(at(j, "ok")));
	assert_json_number(j, "exitCode", 3);
	assert_json_string(j, "reason", "Error");
	assert_json_string(j, "output", "out\n");
	assert_json_number(j, "apiRequests", 6);
	assert_json_number(j, "status", 0);
	assert_true(cJSON_IsNull(at(j, "error")) && cJSON_IsNull(at(j, "errorCode")));
	assert_true(cJSON_IsNumber(at(j, "timings.created")) &&
	            cJSON_IsNumber(at(j, "timings.finished")));
	cJSON_Delete(j);
	gkx_free(s);

	fake_expect("POST", "/jobs", 403,
	            "{\"kind\":\"Status\",\"message\":\"jobs.batch is forbidden\"}");
	assert_int_equal(gkx_run_execute(refused, &err), GKX_EFORBIDDEN);
	s = gkx_run_result_json(refused, NULL);
	j = cJSON_Parse(s);
	assert_true(cJSON_IsFalse(at(j, "ok")) && cJSON_IsNull(at(j, "exitCode")));
	assert_json_string(j, "reason", "Failed");
	assert_json_string(j, "output", "");
	assert_json_number(j, "status", GKX_EFORBIDDEN);
	assert_json_string(j, "errorCode", "forbidden");
	assert_json_string(j, "error", "creating Job: jobs.batch is forbidden");
	assert_true(cJSON_IsNull(at(j, "timings.started")));
	cJSON_Delete(j);
	gkx_free(s);
	gkx_run_free(run);
	gkx_run_free(refused);
}

/* A program built against version 1 of gkx_run_options has no `network`:
 * whatever lies where it would be is not read. A newer version than the
 * library knows is refused. */
/* --dry-run=client needs no cluster: a run made without a client renders
 * (namespace from the options, else "default") and refuses to execute. */
static void test_render_without_a_client(void **state)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_run *run = NULL;
	gkx_error err;
	const char *doc;
	cJSON *list;

	(void)state;
	o.script_name = "a.py";
	o.script = "print(1)";
	o.script_len = 8;
	assert_int_equal(gkx_run_new(&run, NULL, &o, &err), 0);
	assert_int_equal(gkx_run_render(run, "json", &doc, &err), 0);
	list = cJSON_Parse(doc);
	assert_json_string(list, "items.1.metadata.namespace", "default");
	cJSON_Delete(list);
	assert_int_equal(gkx_run_execute(run, &err), GKX_EINVAL);
	assert_int_equal(gkx_run_request_count(run), 0);
	gkx_run_free(run);
	o.ns = "team-a";
	assert_int_equal(gkx_run_new(&run, NULL, &o, &err), 0);
	assert_int_equal(gkx_run_render(run, "yaml", &doc, &err), 0);
	assert_non_null(strstr(doc, "namespace: team-a"));
	gkx_run_free(run);
}

static void test_render(void **state)
{
	fixture *f = *state;
	gkx_run *run = new_run(f, "print('hi')\n");
	const char *doc;
	gkx_error err;
	cJSON *list;

	assert_int_equal(gkx_run_render(run, "json", &doc, &err), 0);
	list = cJSON_Parse(doc);
	assert_json_string(list, "kind", "List");
	assert_json_string(list, "items.0.kind", "ConfigMap");
	assert_json_string(list, "items.1.kind", "Job");
	assert_json_string(list, "items.1.metadata.namespace", "sandbox");
	assert_json_string(list, "items.1.spec.template.spec.containers.0.image",
	                   GKX_DEFAULT_IMAGE);
	assert_json_string(list, "items.1.spec.template.spec.containers.0.resources.limits.cpu",
	                   "1");
	assert_json_string(list, "items.1.spec.template.spec.containers.0.resources.limits.memory",
	                   "512Mi");
	assert_json_number(list, "items.1.spec.activeDeadlineSeconds", 300);
	assert_null(at(list, "items.0.metadata.ownerReferences"));
	cJSON_Delete(list);
	assert_int_equal(gkx_run_render(run, "yaml", &doc, &err), 0);
	assert_non_null(strstr(doc, "kind: List"));
	assert_non_null(strstr(doc, "runtimeClassName: gvisor"));
	assert_non_null(strstr(doc, "hello.py: |\n"));
	assert_int_equal(gkx_run_render(run, "xml", &doc, &err), GKX_EINVAL);
	assert_int_equal(fake_count(), 0); /* rendering sends nothing */
	gkx_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_script_exit_code_and_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_then_resume_without_duplicates, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_network_none_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_stops_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_policy_forbidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden_job_creates_nothing, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_configmap_failure_deletes_job, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_create_retried_after_a_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_forbidden_leaves_no_error, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_image_pull_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_cleans_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_cleanup_is_not_ended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_during_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_leaves_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pod_deleted_by_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pod_deleted_before_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_error_is_not_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_error_after_partial_line, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_node_error_then_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_marker_ends_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_marker_of_a_signal_waits_for_status, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_pod_never_created, setup, teardown),
		cmocka_unit_test(test_pod_end_reasons),
		cmocka_unit_test_setup_teardown(test_evicted_job_says_so, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evicted_while_log_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_resumes_and_relists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_log_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_timeout_unschedulable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_interleaves_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_cancel_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
		cmocka_unit_test(test_render_without_a_client),
		cmocka_unit_test_setup_teardown(test_result_json, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
