/* Several threads, each with its own client over its own scripted server
 * and all sharing one loaded config (which the header says is immutable
 * and shareable), each running scripts of its own language many thousands
 * of times. Every rendered command must be its own thread's; every 25th
 * run is executed through the fake server, and the Job it sent must be
 * too. Built with -fsanitize=thread in the test command, where any data
 * race is a failure. Before the fix, one shared static buffer for the
 * interpreter made 1,029 of 40,000 runs take another thread's.
 *
 * Alongside, runs and batches whose pod never ends are cancelled from
 * another thread (as Ctrl-C in a notebook does through the binding): each
 * must end with GKX_ECANCELED, and TSan must see no race on the flag.
 * With `volatile sig_atomic_t` flags it reported one on every cancel.
 *
 * Usage: stress_threads [RUNS-PER-THREAD]   (default 5000) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fake_transport.h"

#define THREADS 4

static const struct {
	const char *script, *interpreter;
} langs[THREADS] = {
	{ "job.py", "python3" },
	{ "job.sh", "sh" },
	{ "job.js", "node" },
	{ "job.rb", "ruby" },
};

typedef struct {
	int index;
	long runs;
	const gkx_config *cfg;
	long wrong;
	char first_wrong[256];
} worker;

static const cJSON *get(const cJSON *j, const char *a, const char *b, const char *c)
{
	j = cJSON_GetObjectItemCaseSensitive(j, a);
	j = b ? cJSON_GetObjectItemCaseSensitive(j, b) : j;
	return c ? cJSON_GetObjectItemCaseSensitive(j, c) : j;
}

/* The Job's command must be sh -c ... INTERPRETER /app/SCRIPT ARG. */
static int command_is(worker *w, const cJSON *job, const char *arg)
{
	const cJSON *c = cJSON_GetArrayItem(
	        get(get(job, "spec", "template", "spec"), "containers", NULL, NULL), 0);
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(c, "command");
	const char *interp = cJSON_GetStringValue(cJSON_GetArrayItem(cmd, 3));
	const char *path = cJSON_GetStringValue(cJSON_GetArrayItem(cmd, 4));
	const char *a = cJSON_GetStringValue(cJSON_GetArrayItem(cmd, 5));
	char want_path[64];

	snprintf(want_path, sizeof(want_path), "/app/%s", langs[w->index].script);
	if (interp && path && a && !strcmp(interp, langs[w->index].interpreter) &&
	    !strcmp(path, want_path) && !strcmp(a, arg) && cJSON_GetArraySize(cmd) == 6)
		return 1;
	if (!w->wrong++)
		snprintf(w->first_wrong, sizeof(w->first_wrong), "thread %d (%s) got %s %s %s",
		         w->index, langs[w->index].interpreter, interp ? interp : "(none)",
		         path ? path : "(none)", a ? a : "(none)");
	return 0;
}

static void *work(void *self)
{
	worker *w = self;
	fake *f = fake_new();
	gkx_client *client = NULL;
	gkx_error err;
	long i;

	if (!f || gkx_client_new(&client, w->cfg, &err) < 0 ||
	    gkx_client_set_transport(client, &fake_transport_v1, f, &err) < 0) {
		w->wrong = -1;
		return NULL;
	}
	for (i = 0; i < w->runs; i++) {
		gkx_run_options o;
		gkx_run *run = NULL;
		const char *doc, *argv[1];
		char arg[32];
		cJSON *list;

		snprintf(arg, sizeof(arg), "arg-%d-%ld", w->index, i);
		argv[0] = arg;
		gkx_run_options_init(&o);
		o.script_name = langs[w->index].script;
		o.script = "x";
		o.script_len = 1;
		o.args = argv;
		o.nargs = 1;
		o.cold = 1;
		if (gkx_run_new(&run, client, &o, &err) < 0 ||
		    gkx_run_render(run, "json", &doc, &err) < 0) {
			w->wrong++;
			gkx_run_free(run);
			continue;
		}
		list = cJSON_Parse(doc);
		command_is(w,
		           cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(list, "items"), 1),
		           arg);
		cJSON_Delete(list);
		if (i % 25 == 0) {
			/* Executed, through this thread's own scripted server. */
			fake_clear(f);
			fake_expect_on(f, "POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
			fake_expect_on(f, "POST", "/configmaps", 201, "{}");
			fake_expect_on(
			        f, "GET", "/pods?", 200,
			        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"p\"},"
			        "\"status\":{\"containerStatuses\":[{\"state\":{\"terminated\":"
			        "{\"exitCode\":0}}}]}}}\n");
			fake_expect_on(f, "GET", "/log", 200, "2026-11-30T06:29:09Z ok\n");
			fake_expect_on(f, "DELETE", "/jobs/", 200, "{}");
			fake_expect_on(f, "DELETE", "/configmaps/", 200, "{}");
			if (gkx_run_execute(run, &err) < 0 || fake_unexpected_on(f) != 0) {
				w->wrong++;
			} else {
				cJSON *job = cJSON_Parse(fake_request_at_on(f, 0)->body);
				command_is(w, job, arg);
				cJSON_Delete(job);
			}
		}
		gkx_run_free(run);
	}
	gkx_client_free(client);
	fake_free(f);
	return NULL;
}

/* ---- cancelled from another thread ---- */

#define CANCELS 20

typedef struct {
	const gkx_config *cfg;
	pthread_mutex_t lock;
	gkx_run *run; /* published while it executes */
	gkx_batch *batch;
	int stop;
	long wrong;
} cancel_target;

static void expect_endless_run(fake *f)
{
	fake_clear(f);
	fake_expect_on(f, "POST", "/jobs", 201, "{\"metadata\":{\"uid\":\"u\"}}");
	fake_expect_on(f, "POST", "/configmaps", 201, "{}");
	fake_expect_open_on(f, "GET", "/pods?", 200, ""); /* the pod never comes */
	fake_expect_on(f, "DELETE", "/jobs/", 200, "{}");
	fake_expect_on(f, "DELETE", "/configmaps/", 200, "{}");
}

static void publish(cancel_target *t, gkx_run *run, gkx_batch *batch)
{
	pthread_mutex_lock(&t->lock);
	t->run = run;
	t->batch = batch;
	pthread_mutex_unlock(&t->lock);
}

/* Runs and batches in turn, each waiting for a pod that never comes
 * until the other thread cancels it. */
static void *cancelled_runs(void *self)
{
	cancel_target *t = self;
	fake *f = fake_new();
	gkx_client *client = NULL;
	gkx_error err;
	int i;

	if (!f || gkx_client_new(&client, t->cfg, &err) < 0 ||
	    gkx_client_set_transport(client, &fake_transport_v1, f, &err) < 0) {
		t->wrong = -1;
		goto out;
	}
	for (i = 0; i < CANCELS; i++) {
		gkx_run_options o;
		gkx_run *run = NULL;
		gkx_batch *batch = NULL;
		int rc;

		gkx_run_options_init(&o);
		o.script_name = "job.py";
		o.script = "x";
		o.script_len = 1;
		o.cold = 1;
		expect_endless_run(f);
		if (gkx_run_new(&run, client, &o, &err) < 0) {
			t->wrong++;
			continue;
		}
		if (i % 2 == 0) {
			publish(t, run, NULL);
			rc = gkx_run_execute(run, &err);
		} else if (gkx_batch_new(&batch, client, 1, &err) < 0 ||
		           gkx_batch_add(batch, run, &err) < 0) {
			rc = 0;
		} else {
			publish(t, NULL, batch);
			rc = gkx_batch_execute(batch, &err);
		}
		publish(t, NULL, NULL);
		if (rc != GKX_ECANCELED)
			t->wrong++;
		gkx_batch_free(batch);
		gkx_run_free(run);
	}
out:
	pthread_mutex_lock(&t->lock);
	t->stop = 1;
	pthread_mutex_unlock(&t->lock);
	gkx_client_free(client);
	fake_free(f);
	return NULL;
}

static void *canceller(void *self)
{
	cancel_target *t = self;

	for (;;) {
		struct timespec ms = { 0, 20000000L };
		int stop;
		nanosleep(&ms, NULL);
		pthread_mutex_lock(&t->lock);
		stop = t->stop;
		/* The lock keeps the run from being freed under the call; the
		 * flag itself is read by the run's thread without any lock. */
		if (t->run)
			gkx_run_cancel(t->run);
		if (t->batch)
			gkx_batch_cancel(t->batch);
		pthread_mutex_unlock(&t->lock);
		if (stop)
			return NULL;
	}
}

int main(int argc, char **argv)
{
	gkx_config_options co;
	gkx_config *cfg;
	gkx_error err;
	pthread_t t[THREADS], ct[2];
	worker w[THREADS];
	cancel_target target;
	long runs = argc > 1 ? strtol(argv[1], NULL, 10) : 5000, wrong = 0;
	int i;

	gkx_config_options_init(&co);
	co.kubeconfig = GKX_FIXTURES "/kubeconfig/token.yaml";
	if (gkx_config_load(&cfg, &co, &err) < 0) {
		fprintf(stderr, "config: %s\n", err.message);
		return 1;
	}
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].index = i;
		w[i].runs = runs;
		w[i].cfg = cfg;
		if (pthread_create(&t[i], NULL, work, &w[i]) != 0)
			return 1;
	}
	memset(&target, 0, sizeof(target));
	target.cfg = cfg;
	pthread_mutex_init(&target.lock, NULL);
	if (pthread_create(&ct[0], NULL, cancelled_runs, &target) != 0 ||
	    pthread_create(&ct[1], NULL, canceller, &target) != 0)
		return 1;
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		if (w[i].wrong) {
			fprintf(stderr, "%ld wrong in thread %d; first: %s\n", w[i].wrong, i,
			        w[i].first_wrong);
			wrong += w[i].wrong < 0 ? 1 : w[i].wrong;
		}
	}
	pthread_join(ct[0], NULL);
	pthread_join(ct[1], NULL);
	pthread_mutex_destroy(&target.lock);
	if (target.wrong) {
		fprintf(stderr,
		        "%ld of %d runs cancelled from another thread did not end canceled\n",
		        target.wrong, CANCELS);
		wrong += target.wrong < 0 ? 1 : target.wrong;
	}
	gkx_config_free(cfg);
	printf("%d threads x %ld runs (every 25th executed), %d cancelled from another thread: "
	       "%ld wrong\n",
	       THREADS, runs, CANCELS, wrong);
	return wrong != 0;
}
