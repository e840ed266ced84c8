/* Exec credential plugins, token files and in-cluster config. The cases
 * follow client-go's exec authenticator tests: both API versions, every
 * interactiveMode against a terminal or not, cluster info, env, caching
 * until expiry, one refresh on 401, and each malformed answer. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "fake_transport.h"
#include "internal.h"

#define EXEC_KUBECONFIG GKX_FIXTURES "/exec/kubeconfig.yaml"

static char dir[64];
static char env_dir[128];
static const char *child_environ[] = { env_dir, "INHERITED=from-parent", "PATH=/usr/bin:/bin",
	                               NULL };

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gkx-cred-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(env_dir, sizeof(env_dir), "GKX_TEST_DIR=%s", dir);
	fake_reset();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void slurp(const char *name, char *out, size_t n)
{
	char path[256];
	FILE *f;
	size_t got;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f) {
		out[0] = '\0';
		return;
	}
	got = fread(out, 1, n - 1, f);
	out[got] = '\0';
	fclose(f);
}

static void remove_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static int calls(void)
{
	char buf[32];
	slurp("calls", buf, sizeof(buf));
	return (int)strtol(buf, NULL, 10);
}

static gkx_client *client_for(gkx_config **cfg, const char *context, int tty, int *rc,
                              gkx_error *err)
{
	gkx_config_options o;
	gkx_client *c = NULL;

	gkx_config_options_init(&o);
	o.kubeconfig = EXEC_KUBECONFIG;
	o.context = context;
	o.exec_environ = child_environ;
	o.stdin_is_terminal = tty;
	*rc = gkx_config_load(cfg, &o, err);
	if (*rc < 0)
		return NULL;
	assert_int_equal(gkx_client_new(&c, *cfg, err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, err), 0);
	return c;
}

static int get(gkx_client *c, gkx_error *err)
{
	return gkx__api_call(c, "GET", "/version", NULL, NULL, NULL, "probing", err);
}

static void test_v1_token_env_and_caching(void **state)
{
	gkx_config *cfg;
	gkx_error err;
	int rc;
	gkx_client *c = client_for(&cfg, "v1", 1, &rc, &err);
	char buf[4096];

	(void)state;
	assert_non_null(c);
	assert_int_equal(calls(), 0); /* not run before it is needed */
	fake_expect("GET", "/version", 200, "{}");
	fake_expect("GET", "/version", 200, "{}");
	assert_int_equal(get(c, &err), 0);
	assert_int_equal(get(c, &err), 0);
	assert_string_equal(fake_request_at(0)->auth, "Bearer exec-token-1");
	assert_string_equal(fake_request_at(1)->auth, "Bearer exec-token-1");
	assert_int_equal(calls(), 1); /* no expiry: cached */
	slurp("fixture_env", buf, sizeof(buf));
	assert_string_equal(buf, "from-kubeconfig");
	slurp("inherited", buf, sizeof(buf));
	assert_string_equal(buf, "from-parent");
	/* interactiveMode Never: not interactive even on a terminal, no stdin */
	slurp("stdin", buf, sizeof(buf));
	assert_string_equal(buf, "notty\n");
	slurp("info", buf, sizeof(buf));
	{
		cJSON *info = cJSON_Parse(buf);
		assert_json_string(info, "apiVersion", "client.authentication.k8s.io/v1");
		assert_json_string(info, "kind", "ExecCredential");
		assert_json_bool(info, "spec.interactive", 0);
		assert_null(at(info, "spec.cluster")); /* provideClusterInfo not set */
		cJSON_Delete(info);
	}
	gkx_client_free(c);
	gkx_config_free(cfg);
}

typedef struct {
	const char *context;
	int tty;
	int want_rc;
	int want_interactive;
} mode_case;

static void test_interactive_modes(void **state)
{
	static const mode_case cases[] = {
		{ "v1-info", 1, 0, 1 },             /* IfAvailable, terminal */
		{ "v1-info", 0, 0, 0 },             /* IfAvailable, no terminal */
		{ "v1", 1, 0, 0 },                  /* Never */
		{ "v1-always", 1, 0, 1 },           /* Always, terminal */
		{ "v1-always", 0, GKX_ECONFIG, 0 }, /* Always without a terminal */
		{ "v1beta1", 0, 0, 0 },             /* v1beta1 defaults to IfAvailable */
		{ "v1beta1", 1, 0, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gkx_config *cfg;
		gkx_error err;
		int rc;
		gkx_client *c = client_for(&cfg, cases[i].context, cases[i].tty, &rc, &err);
		char buf[4096];
		cJSON *info;

		remove_file("info");
		fake_reset();
		fake_expect("GET", "/version", 200, "{}");
		rc = get(c, &err);
		if (rc != cases[i].want_rc)
			fail_msg("case %lu (%s, tty %d): rc %d (%s)", (unsigned long)i,
			         cases[i].context, cases[i].tty, rc, err.message);
		if (rc == 0) {
			slurp("info", buf, sizeof(buf));
			info = cJSON_Parse(buf);
			assert_json_bool(info, "spec.interactive", cases[i].want_interactive);
			cJSON_Delete(info);
		} else {
			assert_non_null(strstr(err.message, "standard input is not a terminal"));
		}
		gkx_client_free(c);
		gkx_config_free(cfg);
	}
}

static void test_cluster_info(void **state)
{
	gkx_config *cfg;
	gkx_error err;
	int rc;
	gkx_client *c = client_for(&cfg, "v1-info", 0, &rc, &err);
	char buf[4096];
	cJSON *info;

	(void)state;
	fake_expect("GET", "/version", 200, "{}");
	assert_int_equal(get(c, &err), 0);
	slurp("info", buf, sizeof(buf));
	info = cJSON_Parse(buf);
	assert_json_string(info, "spec.cluster.server", "https://api.example.test:6443");
	assert_json_string(info, "spec.cluster.certificate-authority-data", "RkFLRSBDQSBQRU0K");
	assert_json_string(info, "spec.cluster.tls-server-name", "kubernetes.internal");
	assert_json_string(info, "spec.cluster.config.audience", "sandbox");
	cJSON_Delete(info);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

static void test_expiry_and_401_refresh(void **state)
{
	gkx_config *cfg;
	gkx_error err;
	int rc;
	gkx_client *c = client_for(&cfg, "expired", 0, &rc, &err);

	(void)state;
	/* An expired credential is fetched again for every request. */
	fake_expect("GET", "/version", 200, "{}");
	fake_expect("GET", "/version", 200, "{}");
	assert_int_equal(get(c, &err), 0);
	assert_int_equal(get(c, &err), 0);
	assert_string_equal(fake_request_at(1)->auth, "Bearer old-token-2");
	assert_int_equal(calls(), 2);
	gkx_client_free(c);
	gkx_config_free(cfg);

	/* A 401 refreshes a cached credential once and retries. */
	remove_file("calls");
	c = client_for(&cfg, "v1beta1", 0, &rc, &err);
	fake_reset();
	fake_expect("GET", "/version", 401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\"}");
	fake_expect("GET", "/version", 200, "{}");
	assert_int_equal(get(c, &err), 0);
	assert_string_equal(fake_request_at(0)->auth, "Bearer beta-token-1");
	assert_string_equal(fake_request_at(1)->auth, "Bearer beta-token-2");
	/* Only once: a second 401 is the answer. */
	fake_expect("GET", "/version", 401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\"}");
	fake_expect("GET", "/version", 401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\"}");
	assert_int_equal(get(c, &err), GKX_EUNAUTHORIZED);
	assert_int_equal(fake_count(), 4);
	assert_int_equal(calls(), 3);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

static void test_cert_pair(void **state)
{
	gkx_config *cfg;
	gkx_error err;
	int rc;
	gkx_client *c = client_for(&cfg, "cert", 0, &rc, &err);

	(void)state;
	fake_expect("GET", "/version", 200, "{}");
	assert_int_equal(get(c, &err), 0);
	assert_string_equal(fake_request_at(0)->auth, "");
	assert_memory_equal(c->tls.cert, "CERT PEM", 8);
	assert_memory_equal(c->tls.key, "KEY PEM", 7);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

typedef struct {
	const char *context;
	int code;
	const char *message_part;
} fail_case;

static void test_failures(void **state)
{
	static const fail_case cases[] = {
		{ "wrong-version", GKX_ECONFIG,
		  "exec plugin is configured to use API version client.authentication.k8s.io/v1, "
		  "plugin "
		  "returned version client.authentication.k8s.io/v1beta1" },
		{ "refuse", GKX_EUNAUTHORIZED,
		  "failed with exit code 3: your session expired, run login again" },
		{ "garbage", GKX_ECONFIG, "decoding stdout" },
		{ "missing", GKX_ECONFIG,
		  "exec: executable gkexec-no-such-auth-plugin not found (the credential plugin of "
		  "user "
		  "\"missing\" in " EXEC_KUBECONFIG
		  ")\n\nInstall it with apt install gkexec-auth" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gkx_config *cfg;
		gkx_error err;
		int rc;
		gkx_client *c = client_for(&cfg, cases[i].context, 0, &rc, &err);

		fake_reset();
		rc = get(c, &err);
		if (rc != cases[i].code || !strstr(err.message, cases[i].message_part))
			fail_msg("case %s: rc %d, message \"%s\"", cases[i].context, rc,
			         err.message);
		assert_int_equal(fake_count(), 0); /* nothing sent without a credential */
		assert_null(strchr(err.message, '\033'));
		gkx_client_free(c);
		gkx_config_free(cfg);
	}
}

static void test_config_errors(void **state)
{
	static const fail_case cases[] = {
		{ "v1-no-mode", GKX_ECONFIG, "interactiveMode must be specified for v1-no-mode" },
		{ "alpha", GKX_ECONFIG,
		  "apiVersion \"client.authentication.k8s.io/v1alpha1\" is not supported" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gkx_config *cfg = NULL;
		gkx_error err;
		int rc;
		assert_null(client_for(&cfg, cases[i].context, 0, &rc, &err));
		if (rc != cases[i].code || !strstr(err.message, cases[i].message_part))
			fail_msg("case %s: rc %d, message \"%s\"", cases[i].context, rc,
			         err.message);
		assert_null(cfg);
	}
}

typedef struct {
	const char *json;
	int code;
	const char *message_part;
} parse_case;

static void test_parse_exec_credential(void **state)
{
	static const parse_case cases[] = {
		{ "{\"apiVersion\":\"client.authentication.k8s.io/"
		  "v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\","
		  "\"expirationTimestamp\":\"2030-06-01T12:00:00Z\"}}",
		  0, "" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/"
		  "v1\",\"kind\":\"ExecCredential\"}",
		  GKX_ECONFIG, "didn't return a status field" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/"
		  "v1\",\"kind\":\"ExecCredential\",\"status\":{}}",
		  GKX_ECONFIG, "didn't return a token or cert/key pair" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/"
		  "v1\",\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"c\"}}",
		  GKX_ECONFIG, "only certificate or key" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/"
		  "v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\","
		  "\"expirationTimestamp\":\"tomorrow\"}}",
		  GKX_ECONFIG, "invalid expirationTimestamp" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/"
		  "v1\",\"kind\":\"Pod\",\"status\":{\"token\":\"t\"}}",
		  GKX_ECONFIG, "not ExecCredential" },
		{ "[1,2]", GKX_ECONFIG, "decoding stdout" },
		{ "", GKX_ECONFIG, "decoding stdout" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gkx_exec_cred cred;
		gkx_error err;
		int rc = gkx__exec_credential_parse(&cred, cases[i].json, strlen(cases[i].json),
		                                    "client.authentication.k8s.io/v1", &err);
		if (rc != cases[i].code || (rc && !strstr(err.message, cases[i].message_part)))
			fail_msg("case %lu: rc %d \"%s\"", (unsigned long)i, rc,
			         rc ? err.message : "");
		if (rc == 0) {
			assert_string_equal(cred.token, "t");
			assert_true(cred.expiry == 1906545600.0); /* 2030-06-01T12:00:00Z */
		}
		gkx__exec_cred_clear(&cred);
	}
}

static void test_parse_time(void **state)
{
	double t;

	(void)state;
	assert_int_equal(gkx__parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_true(t == 0);
	assert_int_equal(gkx__parse_time("2024-02-29T23:59:59.5Z", &t), 0);
	assert_true(t == 1709251199.5);
	assert_int_equal(gkx__parse_time("2024-03-01T01:00:00+01:00", &t), 0);
	assert_true(t == 1709251200.0);
	assert_int_equal(gkx__parse_time("2024-03-01T01:00:00", &t), GKX_EINVAL);
	assert_int_equal(gkx__parse_time("2024-13-01T01:00:00Z", &t), GKX_EINVAL);
	assert_int_equal(gkx__parse_time("garbage", &t), GKX_EINVAL);
}

static void test_strip_control(void **state)
{
	char *s;

	(void)state;
	s = gkx__strip_control("a\033[1;31mred\033[0m \033]0;title\007b\rc\x01");
	assert_string_equal(s, "ared bc");
	free(s);
}

static void test_token_file_reread(void **state)
{
	char kc[256], tok[256];
	gkx_config_options o;
	gkx_config *cfg;
	gkx_client *c;
	gkx_error err;
	FILE *f;
	struct timespec later[2];

	(void)state;
	snprintf(tok, sizeof(tok), "%s/token", dir);
	snprintf(kc, sizeof(kc), "%s/config", dir);
	f = fopen(tok, "w");
	fputs("first\n", f);
	fclose(f);
	f = fopen(kc, "w");
	fputs("clusters: [{name: c, cluster: {server: 'https://x.example.test'}}]\n"
	      "users: [{name: u, user: {tokenFile: token}}]\n"
	      "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n",
	      f);
	fclose(f);
	gkx_config_options_init(&o);
	o.kubeconfig = kc;
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_int_equal(gkx_client_new(&c, cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, &err), 0);
	fake_expect("GET", "/version", 200, "{}");
	fake_expect("GET", "/version", 200, "{}");
	assert_int_equal(get(c, &err), 0);
	f = fopen(tok, "w");
	fputs("second\n", f);
	fclose(f);
	/* a different modification time, whatever the clock's resolution */
	later[0].tv_sec = later[1].tv_sec = time(NULL) + 10;
	later[0].tv_nsec = later[1].tv_nsec = 0;
	utimensat(AT_FDCWD, tok, later, 0);
	assert_int_equal(get(c, &err), 0);
	assert_string_equal(fake_request_at(0)->auth, "Bearer first");
	assert_string_equal(fake_request_at(1)->auth, "Bearer second");
	gkx_client_free(c);
	gkx_config_free(cfg);
}

static void test_in_cluster(void **state)
{
	gkx_config_options o;
	gkx_config *cfg;
	gkx_error err;

	(void)state;
	gkx_config_options_init(&o);
	o.home = "/nonexistent";
	o.incluster_host = "10.0.0.1";
	o.incluster_port = "443";
	o.serviceaccount_dir = GKX_FIXTURES "/serviceaccount";
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_string_equal(gkx_config_server(cfg), "https://10.0.0.1:443");
	assert_string_equal(gkx_config_namespace(cfg), "pod-ns");
	assert_string_equal(cfg->token, "sa-token");
	assert_string_equal(cfg->ca.ptr, "SA CA PEM\n");
	gkx_config_free(cfg);
	/* IPv6, and -n wins over the pod's namespace */
	o.incluster_host = "fd00::1";
	o.ns = "other";
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_string_equal(gkx_config_server(cfg), "https://[fd00::1]:443");
	assert_string_equal(gkx_config_namespace(cfg), "other");
	gkx_config_free(cfg);
	/* A kubeconfig present wins over in-cluster */
	o.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_string_equal(gkx_config_server(cfg), "https://api.example.test");
	gkx_config_free(cfg);
	/* No token file: a clear error */
	o.kubeconfig = NULL;
	o.serviceaccount_dir = "/nonexistent";
	assert_int_equal(gkx_config_load(&cfg, &o, &err), GKX_ECONFIG);
	assert_non_null(strstr(err.message, "in-cluster config"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v1_token_env_and_caching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interactive_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_401_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_pair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
		cmocka_unit_test(test_parse_exec_credential),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_strip_control),
		cmocka_unit_test_setup_teardown(test_token_file_reread, setup, teardown),
		cmocka_unit_test(test_in_cluster),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
