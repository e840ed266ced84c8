/* kubeconfig loading, table-driven where the cases share a shape. The rules
 * mirror client-go's tools/clientcmd loader tests: which files, merge order
 * (first file wins, per name), precedence of flags, relative paths. */
#include <stdio.h>
#include <unistd.h>

#include "testutil.h"

#include "internal.h"

#define FIX(name) GKX_FIXTURES "/kubeconfig/" name

static int load(gkx_config **cfg, const char *kubeconfig, const char *env, const char *context,
                gkx_error *err)
{
	gkx_config_options o;

	gkx_config_options_init(&o);
	o.kubeconfig = kubeconfig;
	o.kubeconfig_env = env;
	o.context = context;
	return gkx_config_load(cfg, &o, err);
}

static void test_inline_material(void **state)
{
	gkx_config *cfg = NULL;
	gkx_error err;

	(void)state;
	assert_int_equal(load(&cfg, FIX("inline.yaml"), NULL, NULL, &err), 0);
	assert_string_equal(gkx_config_server(cfg), "https://127.0.0.1:6443"); /* slash trimmed */
	assert_string_equal(gkx_config_namespace(cfg), "team-a");
	assert_string_equal(gkx_config_context(cfg), "dev");
	/* *-data wins over the file (which does not even exist) */
	assert_string_equal(cfg->ca.ptr, "FAKE CA PEM\n");
	assert_string_equal(cfg->cert.ptr, "FAKE CLIENT CERT\n");
	assert_string_equal(cfg->key.ptr, "FAKE CLIENT KEY\n");
	assert_null(cfg->token);
	gkx_config_free(cfg);
}

static void test_namespace_precedence(void **state)
{
	gkx_config_options o;
	gkx_config *cfg = NULL;
	gkx_error err;

	(void)state;
	/* The context without a namespace falls back to "default". */
	assert_int_equal(load(&cfg, FIX("inline.yaml"), NULL, "no-namespace", &err), 0);
	assert_string_equal(gkx_config_namespace(cfg), "default");
	gkx_config_free(cfg);
	/* -n beats the context's namespace. */
	gkx_config_options_init(&o);
	o.kubeconfig = FIX("inline.yaml");
	o.ns = "flag-ns";
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_string_equal(gkx_config_namespace(cfg), "flag-ns");
	gkx_config_free(cfg);
}

static void test_relative_paths(void **state)
{
	gkx_config *cfg = NULL;
	gkx_error err;

	(void)state;
	assert_int_equal(load(&cfg, FIX("relative/config"), NULL, NULL, &err), 0);
	assert_string_equal(cfg->ca.ptr, "FAKE CA FROM FILE\n");
	assert_string_equal(cfg->cert.ptr, "CERT FROM FILE\n");
	assert_string_equal(cfg->key.ptr, "KEY FROM FILE\n");
	gkx_config_free(cfg);
	/* tokenFile, relative too, trailing newline dropped */
	assert_int_equal(load(&cfg, FIX("relative/config"), NULL, "file-token", &err), 0);
	assert_string_equal(cfg->token, "token-from-file");
	gkx_config_free(cfg);
}

static void test_token_stays_text(void **state)
{
	gkx_config *cfg = NULL;
	gkx_error err;

	(void)state;
	assert_int_equal(load(&cfg, FIX("token.yaml"), NULL, NULL, &err), 0);
	assert_string_equal(cfg->token, "0123456789");
	assert_string_equal(gkx_config_namespace(cfg), "007"); /* quoted digits stay a string */
	assert_int_equal(cfg->insecure, 1);
	gkx_config_free(cfg);
	assert_int_equal(load(&cfg, FIX("token.yaml"), NULL, "basic", &err), 0);
	assert_string_equal(cfg->username, "admin");
	assert_string_equal(cfg->password, "s3cret");
	gkx_config_free(cfg);
}

static void test_merge_first_file_wins(void **state)
{
	gkx_config *cfg = NULL;
	gkx_error err;
	const char *list = FIX("merge-a.yaml") ":" FIX("merge-b.yaml") ":" FIX("merge-c.yaml");

	(void)state;
	/* current-context from the first file that sets it: ctx-a (file a). */
	assert_int_equal(load(&cfg, NULL, list, NULL, &err), 0);
	assert_string_equal(gkx_config_context(cfg), "ctx-a");
	/* ctx-a is defined in a and b: a's whole entry wins. */
	assert_string_equal(gkx_config_namespace(cfg), "from-a");
	/* cluster "shared" from a, not b */
	assert_string_equal(gkx_config_server(cfg), "https://a.example.test");
	/* the user comes from the third file */
	assert_string_equal(cfg->token, "token-c");
	gkx_config_free(cfg);
	/* --context picks the second file's context. */
	assert_int_equal(load(&cfg, NULL, list, "ctx-b", &err), 0);
	assert_string_equal(gkx_config_server(cfg), "https://only-b.example.test");
	assert_string_equal(gkx_config_namespace(cfg), "from-b");
	gkx_config_free(cfg);
}

static void test_kubeconfig_list_rules(void **state)
{
	gkx_config *cfg = NULL;
	gkx_error err;
	/* empty entries ignored, duplicates and missing files skipped */
	const char *list = ":" FIX("merge-b.yaml") "::" FIX("missing.yaml") ":" FIX(
	        "merge-b.yaml") ":" FIX("merge-c.yaml");

	(void)state;
	assert_int_equal(load(&cfg, NULL, list, NULL, &err), 0);
	assert_string_equal(gkx_config_context(cfg), "ctx-b");
	gkx_config_free(cfg);
}

static void test_flag_overrides(void **state)
{
	gkx_config_options o;
	gkx_config *cfg = NULL;
	gkx_error err;

	(void)state;
	gkx_config_options_init(&o);
	o.kubeconfig = FIX("inline.yaml");
	o.server = "https://override.example.test:443";
	o.token = "flag-token";
	o.request_timeout_ms = 1500;
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_string_equal(gkx_config_server(cfg), "https://override.example.test:443");
	assert_string_equal(cfg->token, "flag-token");
	assert_int_equal(cfg->cert.len, 0); /* --token replaces the client certificate */
	assert_int_equal(cfg->request_timeout_ms, 1500);
	gkx_config_free(cfg);
}

typedef struct {
	const char *file;
	const char *env;
	const char *context;
	int code;
	const char *message_part;
} error_case;

static void test_errors(void **state)
{
	static const error_case cases[] = {
		{ FIX("missing.yaml"), NULL, NULL, GKX_ECONFIG, "missing.yaml" },
		{ FIX("inline.yaml"), NULL, "nope", GKX_ECONFIG, "context \"nope\" not found" },
		{ FIX("duplicate.yaml"), NULL, NULL, GKX_ECONFIG,
		  "clusters \"twice\" is defined twice" },
		{ FIX("bad-syntax.yaml"), NULL, NULL, GKX_ECONFIG, "bad-syntax.yaml:7:1" },
		{ FIX("ca-insecure.yaml"), NULL, NULL, GKX_ECONFIG,
		  "insecure flag is not allowed" },
		{ FIX("http-token.yaml"), NULL, NULL, GKX_ECONFIG, "plain http" },
		{ FIX("gcp.yaml"), NULL, NULL, GKX_ECONFIG, "gke-gcloud-auth-plugin" },
		{ FIX("alias.yaml"), NULL, NULL, GKX_ECONFIG, "alias.yaml:6:12: YAML aliases" },
		{ FIX("no-current.yaml"), NULL, NULL, GKX_ECONFIG, "no current context" },
		{ NULL, "/nonexistent/a:/nonexistent/b", NULL, GKX_ECONFIG, "no kubeconfig found" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gkx_config *cfg = (gkx_config *)1;
		gkx_error err;
		int rc = load(&cfg, cases[i].file, cases[i].env, cases[i].context, &err);
		if (rc != cases[i].code || !strstr(err.message, cases[i].message_part))
			fail_msg("case %lu (%s): rc %d, message \"%s\"; want %d and \"%s\"",
			         (unsigned long)i, cases[i].file ? cases[i].file : cases[i].env, rc,
			         err.message, cases[i].code, cases[i].message_part);
		assert_null(cfg);
	}
}

/* Untrusted input: deep nesting and binary junk are refused, not crashed on. */
static void test_hostile_documents(void **state)
{
	char path[] = "/tmp/gkx-kubeconfig-XXXXXX";
	gkx_config *cfg = NULL;
	gkx_error err;
	int fd, i;
	FILE *f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	for (i = 0; i < 200; i++)
		fputc('[', f);
	fclose(f);
	assert_int_equal(load(&cfg, path, NULL, NULL, &err), GKX_ECONFIG);
	assert_non_null(strstr(err.message, "nesting too deep"));

	f = fopen(path, "w");
	fwrite("\x00\x01\xfe\xff junk", 1, 9, f);
	fclose(f);
	assert_int_equal(load(&cfg, path, NULL, NULL, &err), GKX_ECONFIG);
	assert_non_null(strstr(err.message, path));
	unlink(path);
}

static void test_home_default(void **state)
{
	gkx_config_options o;
	gkx_config *cfg = NULL;
	gkx_error err;

	(void)state;
	gkx_config_options_init(&o);
	o.home = GKX_FIXTURES "/home";
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_string_equal(gkx_config_context(cfg), "from-home");
	gkx_config_free(cfg);
	/* KUBECONFIG, when set, replaces ~/.kube/config */
	o.kubeconfig_env = FIX("token.yaml");
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_string_equal(gkx_config_context(cfg), "c");
	gkx_config_free(cfg);
	/* --kubeconfig replaces both */
	o.kubeconfig = FIX("inline.yaml");
	assert_int_equal(gkx_config_load(&cfg, &o, &err), 0);
	assert_string_equal(gkx_config_context(cfg), "dev");
	gkx_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_material),
		cmocka_unit_test(test_namespace_precedence),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_token_stays_text),
		cmocka_unit_test(test_merge_first_file_wins),
		cmocka_unit_test(test_kubeconfig_list_rules),
		cmocka_unit_test(test_flag_overrides),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_hostile_documents),
		cmocka_unit_test(test_home_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
