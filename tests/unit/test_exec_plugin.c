/* A credential plugin that never answers (tests/fixtures/exec/plugin.sh
 * hang: it loops forever, says on stderr what it waits for, and starts a
 * child that ignores SIGTERM and loops too) is ended within its bound: the
 * request timeout, the run's deadline, or a cancel. Its child goes with it,
 * the error names the plugin's command, and nothing is sent. Before the
 * bound, each of these calls waited forever. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "fake_transport.h"
#include "internal.h"

#define EXEC_KUBECONFIG GKX_FIXTURES "/exec/kubeconfig.yaml"
/* As the kubeconfig names it: relative to the kubeconfig's directory. */
#define PLUGIN_COMMAND GKX_FIXTURES "/exec/./plugin.sh"

static char dir[64];
static char env_dir[128];
static const char *child_environ[] = { env_dir, "PATH=/usr/bin:/bin", NULL };

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gkx-hang-XXXXXX");
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

static double now(void) { return gkx__mono_now(); }

static gkx_client *hang_client(gkx_config **cfg, long request_timeout_ms)
{
	gkx_config_options o;
	gkx_client *c = NULL;
	gkx_error err;

	gkx_config_options_init(&o);
	o.kubeconfig = EXEC_KUBECONFIG;
	o.context = "hang";
	o.exec_environ = child_environ;
	o.request_timeout_ms = request_timeout_ms;
	assert_int_equal(gkx_config_load(cfg, &o, &err), 0);
	assert_int_equal(gkx_client_new(&c, *cfg, &err), 0);
	assert_int_equal(gkx_client_set_transport(c, &fake_transport, NULL, &err), 0);
	return c;
}

static pid_t recorded_pid(const char *name)
{
	char path[256];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("the plugin did not record %s", name);
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	assert_true(pid > 1);
	return (pid_t)pid;
}

/* Running: it has a /proc entry that is not a zombie (an orphan's zombie
 * waits for whoever reaps orphans here; it runs nothing). */
static int running(pid_t pid)
{
	char path[64], stat[512], *paren;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	return !(paren && paren[1] == ' ' && paren[2] == 'Z');
}

/* Both the plugin and its child are gone (the child may take a moment to
 * be reaped). */
static void assert_all_gone(void)
{
	pid_t plugin = recorded_pid("plugin.pid"), child = recorded_pid("child.pid");
	int i;

	for (i = 0; i < 100 && (running(plugin) || running(child)); i++) {
		struct timespec ms10 = { 0, 10000000L };
		nanosleep(&ms10, NULL);
	}
	if (running(plugin) || running(child)) {
		kill(child, SIGKILL); /* not to leave it behind the failure */
		kill(plugin, SIGKILL);
		fail_msg("still running: the plugin (%s), its child (%s)",
		         running(plugin) ? "yes" : "no", running(child) ? "yes" : "no");
	}
}

static void assert_contains(const char *s, const char *part)
{
	if (!strstr(s, part))
		fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

static void test_request_timeout(void **state)
{
	gkx_config *cfg;
	gkx_client *c = hang_client(&cfg, 1000);
	gkx_error err;
	double t0 = now(), took;
	int rc;

	(void)state;
	rc = gkx__api_call(c, "GET", "/version", NULL, NULL, NULL, "probing", &err);
	took = now() - t0;
	assert_int_equal(rc, GKX_ETIMEOUT);
	assert_int_equal(err.code, GKX_ETIMEOUT);
	if (took < 0.9 || took > 2.0)
		fail_msg("ended after %.2f s; the request timeout is 1 s", took);
	assert_contains(err.message, "the credential plugin \"" PLUGIN_COMMAND
	                             "\" did not answer within 1s, the request timeout; it "
	                             "was stopped. Run it by hand");
	assert_contains(err.message, "raise --request-timeout (user \"hang\" in " EXEC_KUBECONFIG
	                             "). It printed: waiting for the browser login...");
	assert_int_equal(fake_count(), 0);
	assert_all_gone();
	gkx_client_free(c);
	gkx_config_free(cfg);
}

static gkx_run *new_run(gkx_client *c, long timeout_s, int cold)
{
	gkx_run_options o;
	gkx_run *run = NULL;
	gkx_error err;

	gkx_run_options_init(&o);
	o.script_name = "job.py";
	o.script = "print(1)";
	o.script_len = 8;
	o.timeout_s = timeout_s;
	o.cold = cold;
	assert_int_equal(gkx_run_new(&run, c, &o, &err), 0);
	return run;
}

/* The request timeout would be 30 s: the run's deadline (1 s and the
 * client's 2 s of grace) comes first. Cold, so the plugin runs for the
 * Job's POST, which is then known not to have been sent: no cleanup
 * request runs the plugin again. */
static void test_run_deadline(void **state)
{
	gkx_config *cfg;
	gkx_client *c = hang_client(&cfg, 0);
	gkx_run *run = new_run(c, 1, 1);
	gkx_error err;
	double t0, took;
	int rc;

	(void)state;
	t0 = now();
	rc = gkx_run_execute(run, &err);
	took = now() - t0;
	assert_int_equal(rc, GKX_ETIMEOUT);
	if (took < 2.8 || took > 4.0)
		fail_msg("ended after %.2f s; the run's deadline is 3 s away", took);
	/* Within 3 s, less what starting it took (2.9 s under valgrind). */
	assert_contains(err.message,
	                "the credential plugin \"" PLUGIN_COMMAND "\" did not answer within ");
	assert_contains(err.message, "s, the time left before the run's deadline; it was stopped");
	assert_contains(err.message, "give the run a longer --timeout");
	assert_int_equal(fake_count(), 0);
	assert_all_gone();
	/* The client is not held to that run's deadline afterwards. */
	assert_true(c->run_deadline == 0);
	gkx_run_free(run);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

static gkx_run *volatile alarm_run;

static void on_alarm(int sig)
{
	(void)sig;
	gkx_run_cancel(alarm_run); /* async-signal-safe, as run.h promises */
}

/* Ctrl-C while the plugin runs (for the claim's look for a parked pod):
 * the run ends at once, canceled, the plugin and its child with it. */
static void test_cancel(void **state)
{
	gkx_config *cfg;
	gkx_client *c = hang_client(&cfg, 30000);
	gkx_run *run = new_run(c, 60, 0);
	struct sigaction sa, old;
	struct itimerval in300ms;
	gkx_error err;
	double t0, took;
	int rc;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	alarm_run = run;
	memset(&in300ms, 0, sizeof(in300ms));
	in300ms.it_value.tv_usec = 300000;
	assert_int_equal(setitimer(ITIMER_REAL, &in300ms, NULL), 0);
	t0 = now();
	rc = gkx_run_execute(run, &err);
	took = now() - t0;
	sigaction(SIGALRM, &old, NULL);
	assert_int_equal(rc, GKX_ECANCELED);
	if (took > 1.5)
		fail_msg("ended %.2f s after the start, the cancel came after 0.3 s", took);
	assert_contains(err.message, "canceled while the credential plugin \"" PLUGIN_COMMAND
	                             "\" ran; it was stopped");
	assert_string_equal(gkx_run_reason(run), "Interrupted");
	assert_int_equal(fake_count(), 0);
	assert_all_gone();
	gkx_run_free(run);
	gkx_client_free(c);
	gkx_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
