/* URL building, Status errors, and requests through the fake transport. */
#include <stdio.h>
#include <time.h>

#include "testutil.h"

#include "fake_transport.h"
#include "internal.h"

static void test_paths_are_escaped(void **state)
{
	gkx_buf b = GKX_BUF_INIT;

	(void)state;
	assert_int_equal(gkx__api_path(&b, "v1", "default", "pods", NULL, NULL), 0);
	assert_string_equal(b.ptr, "/api/v1/namespaces/default/pods");
	gkx__buf_free(&b);
	assert_int_equal(gkx__api_path(&b, "batch/v1", "team a/../x", "jobs", "n?m#e", NULL), 0);
	assert_string_equal(b.ptr, "/apis/batch/v1/namespaces/team%20a%2F..%2Fx/jobs/n%3Fm%23e");
	gkx__buf_free(&b);
	assert_int_equal(gkx__api_path(&b, "v1", "ns", "pods", "p", "log"), 0);
	assert_int_equal(gkx__api_query(&b, "labelSelector", "job-name=a b&c"), 0);
	assert_int_equal(gkx__api_query(&b, "follow", "true"), 0);
	assert_string_equal(
	        b.ptr,
	        "/api/v1/namespaces/ns/pods/p/log?labelSelector=job-name%3Da%20b%26c&follow=true");
	gkx__buf_free(&b);
}

static void test_status_errors(void **state)
{
	static const char forbidden[] =
	        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	        "\"message\":\"jobs.batch is forbidden: User \\\"bob\\\" cannot create resource "
	        "\\\"jobs\\\" "
	        "in API group \\\"batch\\\" in the namespace "
	        "\\\"default\\\"\",\"reason\":\"Forbidden\","
	        "\"details\":{\"group\":\"batch\",\"kind\":\"jobs\"},\"code\":403}";
	gkx_error err;

	(void)state;
	gkx_error_clear(&err);
	assert_int_equal(
	        gkx__api_status_error(&err, 403, forbidden, strlen(forbidden), "creating Job"),
	        GKX_EFORBIDDEN);
	assert_int_equal(err.http_status, 403);
	assert_string_equal(err.reason, "Forbidden");
	assert_string_equal(
	        err.message,
	        "creating Job: jobs.batch is forbidden: User \"bob\" cannot create resource "
	        "\"jobs\" in API group \"batch\" in the namespace \"default\"");
	/* Not a Status: the HTTP code is all there is. */
	assert_int_equal(gkx__api_status_error(&err, 502, "<html>bad gateway</html>", 24, "x"),
	                 GKX_EAPI);
	assert_string_equal(err.message, "x: the server answered HTTP 502");
	/* Nothing of the 403 before it stays: no Status, no reason. */
	assert_int_equal(err.http_status, 502);
	assert_string_equal(err.reason, "");
	/* A failure with no response carries no HTTP status either, and its
	 * message may quote the one it replaces. */
	assert_int_equal(gkx__error_set(&err, GKX_ETRANSPORT, "again: %s", err.message),
	                 GKX_ETRANSPORT);
	assert_int_equal(err.http_status, 0);
	assert_string_equal(err.message, "again: x: the server answered HTTP 502");
	gkx__api_status_error(&err, 403, forbidden, strlen(forbidden), "creating Job");
	gkx__error_set(&err, GKX_ETIMEOUT, "later");
	assert_int_equal(err.http_status, 0);
	assert_string_equal(err.reason, "");
	assert_int_equal(gkx__api_status_error(&err, 404, NULL, 0, "y"), GKX_ENOTFOUND);
	assert_int_equal(gkx__api_status_error(&err, 409, "{}", 2, "y"), GKX_ECONFLICT);
	assert_int_equal(gkx__api_status_error(&err, 401, "{\"kind\":\"Status\"", 16, "y"),
	                 GKX_EUNAUTHORIZED);
	assert_int_equal(gkx__api_status_error(NULL, 410, NULL, 0, "y"), GKX_EGONE);
}

static gkx_config *token_config(void)
{
	gkx_config_options o;
	gkx_config *cfg = NULL;
	gkx_error err;

	gkx_config_options_init(&o);
	o.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	return cfg;
}

static void test_call_sends_bearer_and_parses(void **state)
{
	gkx_config *cfg = token_config();
	gkx_client *c = NULL;
	gkx_buf resp = GKX_BUF_INIT;
	gkx_error err;

	(void)state;
	fake_reset();
	assert_int_equal(gkx_client_new(&c, cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, &err), 0);
	fake_expect("GET", "/api/v1/namespaces/007/pods/p", 200, "{\"kind\":\"Pod\"}");
	assert_int_equal(gkx__api_call(c, "GET", "/api/v1/namespaces/007/pods/p", NULL, NULL, &resp,
	                               "reading pod", &err),
	                 0);
	assert_string_equal(resp.ptr, "{\"kind\":\"Pod\"}");
	assert_int_equal(fake_count(), 1);
	assert_string_equal(fake_request_at(0)->url,
	                    "https://api.example.test/api/v1/namespaces/007/pods/p");
	assert_string_equal(fake_request_at(0)->auth, "Bearer 0123456789");
	gkx__buf_free(&resp);

	/* A refusal carries the server's message; the token is nowhere in it. */
	fake_expect("DELETE", "/jobs/j", 403,
	            "{\"kind\":\"Status\",\"message\":\"jobs.batch \\\"j\\\" is "
	            "forbidden\",\"reason\":\"Forbidden\"}");
	assert_int_equal(gkx__api_call(c, "DELETE", "/apis/batch/v1/namespaces/007/jobs/j", NULL,
	                               NULL, NULL, "deleting Job", &err),
	                 GKX_EFORBIDDEN);
	assert_string_equal(err.message, "deleting Job: jobs.batch \"j\" is forbidden");
	assert_null(strstr(err.message, "0123456789"));

	/* No answer at all, five times: a transport error names the server. */
	{
		int i;
		for (i = 0; i < 5; i++)
			fake_expect_error("GET", "/x", GKX_ETRANSPORT);
	}
	assert_int_equal(gkx__api_call(c, "GET", "/x", NULL, NULL, NULL, "probing", &err),
	                 GKX_ETRANSPORT);
	assert_non_null(strstr(err.message, "https://api.example.test"));
	assert_int_equal(c->last_attempts, 5);
	assert_int_equal(fake_unexpected(), 0);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_retries(void **state)
{
	gkx_config *cfg = token_config();
	gkx_client *c = NULL;
	gkx_error err;
	double t;
	int i;

	(void)state;
	fake_reset();
	assert_int_equal(gkx_client_new(&c, cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, &err), 0);
	/* 429 with Retry-After: 1 waits about a second, then succeeds. */
	fake_expect_retry_after("GET", "/a", 429, "{\"kind\":\"Status\",\"message\":\"slow down\"}",
	                        1);
	fake_expect("GET", "/a", 200, "{}");
	t = mono();
	assert_int_equal(gkx__api_call(c, "GET", "/a", NULL, NULL, NULL, "a", &err), 0);
	assert_true(mono() - t >= 0.9);
	assert_int_equal(c->last_attempts, 2);
	/* 500, 502, 503, 504, then success: every one of them is retried. */
	fake_expect("DELETE", "/b", 500, "{}");
	fake_expect("DELETE", "/b", 502, "{}");
	fake_expect("DELETE", "/b", 503, "{}");
	fake_expect("DELETE", "/b", 504, "{}");
	fake_expect("DELETE", "/b", 200, "{}");
	assert_int_equal(gkx__api_call(c, "DELETE", "/b", NULL, NULL, NULL, "b", &err), 0);
	assert_int_equal(c->last_attempts, 5);
	/* ...but not forever. */
	for (i = 0; i < 5; i++)
		fake_expect("GET", "/c", 503, "{\"kind\":\"Status\",\"message\":\"overloaded\"}");
	assert_int_equal(gkx__api_call(c, "GET", "/c", NULL, NULL, NULL, "c", &err), GKX_EAPI);
	assert_string_equal(err.message, "c: overloaded");
	/* A 4xx other than 429 is an answer, not a hiccup. */
	fake_expect("GET", "/d", 422, "{\"kind\":\"Status\",\"message\":\"invalid\"}");
	assert_int_equal(gkx__api_call(c, "GET", "/d", NULL, NULL, NULL, "d", &err), GKX_EAPI);
	assert_int_equal(c->last_attempts, 1);
	assert_int_equal(fake_unexpected(), 0);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

/* A request that is not idempotent is sent once: a 500 or a lost answer
 * may come after the server acted, and a second try would hide that. A
 * 429, refused before anything happened, still waits and goes again. */
static void test_no_retry_when_not_idempotent(void **state)
{
	gkx_config *cfg = token_config();
	gkx_client *c = NULL;
	gkx_error err;

	(void)state;
	fake_reset();
	assert_int_equal(gkx_client_new(&c, cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, &err), 0);
	fake_expect("PATCH", "/p", 500, "{\"kind\":\"Status\",\"message\":\"etcd timeout\"}");
	assert_int_equal(
	        gkx__api_send(c, GKX__RETRY_NEVER, "PATCH", "/p", NULL, "{}", NULL, "p", &err),
	        GKX_EAPI);
	assert_int_equal(c->last_attempts, 1);
	assert_int_equal(err.http_status, 500);
	fake_expect_error("PATCH", "/p", GKX_ETRANSPORT);
	assert_int_equal(
	        gkx__api_send(c, GKX__RETRY_NEVER, "PATCH", "/p", NULL, "{}", NULL, "p", &err),
	        GKX_ETRANSPORT);
	assert_int_equal(c->last_attempts, 1);
	fake_expect_retry_after("PATCH", "/p", 429, "{}", 0);
	fake_expect("PATCH", "/p", 200, "{}");
	assert_int_equal(
	        gkx__api_send(c, GKX__RETRY_NEVER, "PATCH", "/p", NULL, "{}", NULL, "p", &err), 0);
	assert_int_equal(c->last_attempts, 2);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

typedef struct {
	int calls;
	char line[1200];
} trace_seen;

static void on_trace(const char *method, const char *url, long status, int error, size_t bytes,
                     double seconds, void *ud)
{
	trace_seen *t = ud;

	t->calls++;
	snprintf(t->line, sizeof(t->line), "%s %s %ld %d %lu %d", method, url, status, error,
	         (unsigned long)bytes, seconds >= 0);
}

static void test_trace(void **state)
{
	gkx_config *cfg = token_config();
	gkx_client *c = NULL;
	gkx_error err;
	trace_seen seen;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	fake_reset();
	assert_int_equal(gkx_client_new(&c, cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, &err), 0);
	gkx_client_set_trace(c, on_trace, &seen);
	fake_expect("GET", "/version", 200, "{\"major\":\"1\"}"); /* 13 bytes */
	assert_int_equal(gkx__api_call(c, "GET", "/version", NULL, NULL, NULL, "v", &err), 0);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.line, "GET https://api.example.test/version 200 0 13 1");
	/* The trace is given no headers: the token cannot reach it. */
	assert_null(strstr(seen.line, "0123456789"));
	gkx_client_set_trace(c, NULL, NULL);
	fake_expect("GET", "/version", 200, "{}");
	assert_int_equal(gkx__api_call(c, "GET", "/version", NULL, NULL, NULL, "v", &err), 0);
	assert_int_equal(seen.calls, 1);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

static void test_basic_auth_header(void **state)
{
	gkx_config_options o;
	gkx_config *cfg = NULL;
	gkx_client *c = NULL;
	gkx_error err;

	(void)state;
	fake_reset();
	gkx_config_options_init(&o);
	o.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	o.context = "basic";
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_int_equal(gkx_client_new(&c, cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, &err), 0);
	fake_expect("GET", "/version", 200, "{}");
	assert_int_equal(gkx__api_call(c, "GET", "/version", NULL, NULL, NULL, "v", &err), 0);
	/* base64("admin:s3cret") */
	assert_string_equal(fake_request_at(0)->auth, "Basic YWRtaW46czNjcmV0");
	gkx_client_free(c);
	gkx_config_free(cfg);
}

static int count_events(const char *type, cJSON *obj, void *ud)
{
	int *n = ud;
	(void)obj;
	if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED"))
		(*n)++;
	return 0;
}

static void test_watch_splitter(void **state)
{
	static const char stream[] = "{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n"
	                             "{\"type\":\"MODIFIED\",\"object\":{\"a\":2}}\r\n\n"
	                             "{\"type\":\"MODIFIED\",\"object\":{\"a\":3}}";
	gkx_watch_splitter w;
	int n = 0;
	size_t i;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.fn = count_events;
	w.ud = &n;
	/* Byte by byte: events span any chunk boundary. */
	for (i = 0; i < sizeof(stream) - 1; i++)
		assert_int_equal(gkx__watch_feed(&w, stream + i, 1), 0);
	assert_int_equal(n, 2); /* the third has no newline yet */
	assert_int_equal(gkx__watch_feed(&w, "\n", 1), 0);
	assert_int_equal(n, 3);
	/* Junk is a protocol error, and it sticks. */
	assert_int_equal(gkx__watch_feed(&w, "not json\n", 9), GKX_EPROTO);
	assert_int_equal(gkx__watch_feed(&w, stream, 10), GKX_EPROTO);
	gkx__watch_reset(&w);
	/* An event that never ends is cut off at the limit. */
	{
		char *big = malloc(GKX_WATCH_MAX_EVENT + 2);
		memset(big, 'x', GKX_WATCH_MAX_EVENT + 1);
		assert_int_equal(gkx__watch_feed(&w, big, GKX_WATCH_MAX_EVENT + 1), GKX_ETOOBIG);
		free(big);
	}
	gkx__watch_reset(&w);
}

static void test_strerror_and_version(void **state)
{
	int code;

	(void)state;
	for (code = 0; code >= GKX_ESTART; code--)
		assert_string_not_equal(gkx_strerror(code), "unknown error");
	assert_string_equal(gkx_strerror(-1000), "unknown error");
	assert_string_equal(gkx_version(), GKX_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_are_escaped),
		cmocka_unit_test(test_status_errors),
		cmocka_unit_test(test_call_sends_bearer_and_parses),
		cmocka_unit_test(test_basic_auth_header),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_no_retry_when_not_idempotent),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_watch_splitter),
		cmocka_unit_test(test_strerror_and_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
