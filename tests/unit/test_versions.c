/* One version rule for every struct a caller hands in (gkx_config_options,
 * gkx_run_options, gkx_transport): version 0 is "not initialised", every
 * version from 1 to the current one is accepted and only what that
 * version had is read, a newer one is refused. Older structs are
 * allocated at exactly their old size, so that a read past them is an
 * AddressSanitizer (and valgrind) error. */
#include <stddef.h>

#include "testutil.h"

#include "fake_transport.h"
#include "run_internal.h"

#define NEWER_MESSAGE(name, v, cur)                                                     \
	name " version " #v " is newer than this libgkexec's (" #cur "): run with the " \
	     "libgkexec whose header the program was built against"

static void *old_struct(const void *full, size_t size)
{
	void *p = malloc(size);

	assert_non_null(p);
	memcpy(p, full, size);
	return p;
}

static void test_config_options(void **state)
{
	gkx_config_options o = GKX_CONFIG_OPTIONS_INIT, *v1;
	gkx_config *cfg = NULL;
	gkx_error err;

	(void)state;
	o.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	v1 = old_struct(&o, sizeof(o)); /* version 1 is today's */
	assert_int_equal(gkx_config_load(&cfg, v1, &err), 0);
	assert_error_clear(&err);
	gkx_config_free(cfg);
	free(v1);

	o.version = 0;
	assert_int_equal(gkx_config_load(&cfg, &o, &err), GKX_EINVAL);
	assert_string_equal(err.message, "gkx_config_options not initialised: fill it with its "
	                                 "_init() function or _INIT macro");
	o.version = GKX_CONFIG_OPTIONS_VERSION + 1;
	assert_int_equal(gkx_config_load(&cfg, &o, &err), GKX_EINVAL);
	assert_string_equal(err.message, NEWER_MESSAGE("gkx_config_options", 2, 1));
	assert_null(cfg);
}

static void test_run_options(void **state)
{
	gkx_config_options co = GKX_CONFIG_OPTIONS_INIT;
	gkx_run_options o = GKX_RUN_OPTIONS_INIT, *old;
	gkx_config *cfg;
	gkx_client *client;
	gkx_run *run = NULL;
	gkx_error err;
	const char *doc;

	(void)state;
	co.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	assert_int_equal(gkx_config_load(&cfg, &co, &err), 0);
	assert_int_equal(gkx_client_new(&client, cfg, &err), 0);
	o.script_name = "hello.py";
	o.script = "print(1)";
	o.script_len = 8;
	o.network = "none";

	/* Version 1 ended before `network`: a version 1 caller gets none. */
	o.version = 1;
	old = old_struct(&o, offsetof(gkx_run_options, network));
	assert_int_equal(gkx_run_new(&run, client, old, &err), 0);
	assert_error_clear(&err);
	assert_int_equal(gkx_run_render(run, "json", &doc, &err), 0);
	assert_null(strstr(doc, "NetworkPolicy"));
	gkx_run_free(run);
	free(old);

	/* Version 2 ended before `on_stderr`. */
	o.version = 2;
	old = old_struct(&o, offsetof(gkx_run_options, on_stderr));
	assert_int_equal(gkx_run_new(&run, client, old, &err), 0);
	assert_int_equal(gkx_run_render(run, "json", &doc, &err), 0);
	assert_non_null(strstr(doc, "NetworkPolicy"));
	gkx_run_free(run);
	free(old);

	/* Version 3 ended before `capture_bytes`: nothing is kept. */
	o.version = 3;
	o.capture_bytes = 100;
	old = old_struct(&o, offsetof(gkx_run_options, capture_bytes));
	assert_int_equal(gkx_run_new(&run, client, old, &err), 0);
	assert_int_equal(run->cap_out.cap, 0);
	gkx_run_free(run);
	free(old);

	o.version = 4;
	old = old_struct(&o, sizeof(o));
	assert_int_equal(gkx_run_new(&run, client, old, &err), 0);
	assert_int_equal(run->cap_out.cap, 100);
	gkx_run_free(run);
	free(old);

	o.version = 0;
	assert_int_equal(gkx_run_new(&run, client, &o, &err), GKX_EINVAL);
	assert_string_equal(err.message, "gkx_run_options not initialised: fill it with its "
	                                 "_init() function or _INIT macro");
	o.version = GKX_RUN_OPTIONS_VERSION + 1;
	assert_int_equal(gkx_run_new(&run, client, &o, &err), GKX_EINVAL);
	assert_string_equal(err.message, NEWER_MESSAGE("gkx_run_options", 5, 4));
	assert_null(run);
	gkx_client_free(client);
	gkx_config_free(cfg);
}

static void test_transport(void **state)
{
	gkx_config_options co = GKX_CONFIG_OPTIONS_INIT;
	gkx_transport t = fake_transport, *old;
	gkx_config *cfg;
	gkx_client *client;
	gkx__request req;
	gkx_error err;
	static const char *const proto[] = { "v4.channel.k8s.io" };

	(void)state;
	fake_reset();
	co.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	assert_int_equal(gkx_config_load(&cfg, &co, &err), 0);
	assert_int_equal(gkx_client_new(&client, cfg, &err), 0);

	/* Version 1 had no send(): accepted, but it opens no WebSocket. */
	t.version = 1;
	old = old_struct(&t, offsetof(gkx_transport, send));
	assert_int_equal(gkx_client_set_transport(client, old, NULL, &err), 0);
	assert_error_clear(&err);
	memset(&req, 0, sizeof(req));
	req.http.method = "GET";
	req.http.url = "https://api.example.test/api/v1/namespaces/a/pods/p/exec";
	req.http.subprotocols = proto;
	req.http.nsubprotocols = 1;
	assert_int_equal(gkx__api_start(client, &req), GKX_EINVAL);
	assert_int_equal(fake_count(), 0);

	t.version = 2;
	assert_int_equal(gkx_client_set_transport(client, &t, NULL, &err), 0);
	free(old); /* the client keeps its own copy of the table */
	assert_int_equal(gkx__api_start(client, &req), 0);
	assert_int_equal(fake_count(), 1);
	client->tp->cancel(client->tp_state, &req.http);

	t.version = 0;
	assert_int_equal(gkx_client_set_transport(client, &t, NULL, &err), GKX_EINVAL);
	assert_string_equal(err.message, "gkx_transport not initialised: fill it with its "
	                                 "_init() function or _INIT macro");
	t.version = GKX_TRANSPORT_VERSION + 1;
	assert_int_equal(gkx_client_set_transport(client, &t, NULL, &err), GKX_EINVAL);
	assert_string_equal(err.message, NEWER_MESSAGE("gkx_transport", 3, 2));
	gkx_client_free(client);
	gkx_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_options),
		cmocka_unit_test(test_run_options),
		cmocka_unit_test(test_transport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
