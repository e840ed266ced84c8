/* kubectl-sandbox_run: the kubectl plugin. It owns what is process-wide
 * (curl's global init, signals, the terminal, the exit status) and leaves
 * everything that talks to Kubernetes to libgkexec. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gkexec/gkexec.h>

#include "options.h"

#define PLUGIN_VERSION GKX_VERSION

static gkx_run *volatile current_run;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	if (current_run)
		gkx_run_cancel(current_run);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

typedef struct {
	char *data;
	size_t len, cap;
} text;

static int text_put(text *t, const char *data, size_t len)
{
	if (t->len + len + 1 > t->cap) {
		size_t cap = (t->cap ? t->cap * 2 : 4096) + len;
		char *p = realloc(t->data, cap);
		if (!p)
			return -1;
		t->data = p;
		t->cap = cap;
	}
	memcpy(t->data + t->len, data, len);
	t->len += len;
	t->data[t->len] = '\0';
	return 0;
}

static int read_all(FILE *f, text *out)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > GKX_MAX_CODE_BYTES + 1 || text_put(out, chunk, n) < 0)
			return -1;
	}
	if (!out->data && text_put(out, "", 0) < 0)
		return -1;
	return ferror(f) ? -1 : 0;
}

static int write_out(const char *data, size_t len, void *ud)
{
	(void)ud;
	while (len) {
		ssize_t n = write(STDOUT_FILENO, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return 0; /* a closed stdout must not stop the sandbox's cleanup */
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_err(const char *data, size_t len, void *ud)
{
	(void)ud;
	while (len) {
		ssize_t n = write(STDERR_FILENO, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* What a reason of a script that did not end by itself means. */
static const char *reason_text(const char *reason)
{
	if (!strcmp(reason, "PodDeleted"))
		return ": the sandbox's pod was deleted while the script ran";
	if (!strcmp(reason, "Evicted"))
		return ": the node evicted the sandbox's pod";
	return "";
}

static void on_phase(gkx_phase phase, const char *detail, void *ud)
{
	static const char *const names[] = { "",         "creating", "waiting for a node",
		                             "starting", "running",  "cleaning up",
		                             "" };
	(void)ud;
	/* A claim's detail says it all: "claimed POD", "no parked sandbox ...". */
	if ((int)phase >= 1 && (int)phase <= 6)
		fprintf(stderr, "sandbox-run: %s%s%s\n", names[phase],
		        *detail && *names[phase] ? " " : "", detail);
}

/* -v=6 and up: each API request, as kubectl's round-tripper logs them. The
 * library passes no headers, so no credential can appear here. */
static void on_trace(const char *method, const char *url, long status, int error, size_t bytes,
                     double seconds, void *ud)
{
	(void)ud;
	if (error)
		fprintf(stderr, "sandbox-run: %s %s -> %s after %.0f ms\n", method, url,
		        gkx_strerror(error), seconds * 1000);
	else
		fprintf(stderr, "sandbox-run: %s %s %ld in %.0f ms, %lu bytes\n", method, url,
		        status, seconds * 1000, (unsigned long)bytes);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int fail(const char *what, const gkx_error *err)
{
	fprintf(stderr, "error: %s%s%s\n", what ? what : "", what ? ": " : "",
	        err->message[0] ? err->message : gkx_strerror(err->code));
	return EXIT_TOOL_FAILED;
}

/* The library kept the output (capture_bytes), every byte of it. */
static int print_result(const gkx_run *run)
{
	char *s = gkx_run_result_json(run, NULL);

	if (!s)
		return -1;
	printf("%s\n", s);
	gkx_free(s);
	return 0;
}

/* --keep: where to look. A warm run's pod is a parked sandbox's Job's,
 * which expires by itself. */
static void print_kept(const gkx_run *run, int network_none)
{
	if (gkx_run_warm(run))
		fprintf(stderr,
		        "sandbox-run: kept pod/%s in namespace %s; it expires at its deadline\n",
		        gkx_run_pod(run), gkx_run_namespace(run));
	else
		fprintf(stderr,
		        "sandbox-run: kept; inspect with: kubectl -n %s get job,pod,configmap%s -l "
		        "sandbox-run.gkexec.dev/run=%s\n",
		        gkx_run_namespace(run), network_none ? ",networkpolicy" : "",
		        gkx_run_name(run));
}

/* The config and client kubectl's flags describe. */
static int connect_cluster(const options *o, gkx_config **cfg, gkx_client **client, gkx_error *err)
{
	gkx_config_options co;
	int rc;

	gkx_config_options_init(&co);
	gkx_config_options_from_env(&co);
	co.kubeconfig = o->kubeconfig;
	co.context = o->context;
	co.cluster = o->cluster;
	co.user = o->user;
	co.ns = o->ns;
	co.request_timeout_ms = o->request_timeout_ms;
	co.server = o->server;
	co.token = o->token;
	co.certificate_authority = o->certificate_authority;
	co.insecure_skip_tls_verify = o->insecure_skip_tls_verify;
	co.tls_server_name = o->tls_server_name;
	if ((rc = gkx_config_load(cfg, &co, err)) < 0 ||
	    (rc = gkx_client_new(client, *cfg, err)) < 0)
		return rc;
	if (o->verbosity >= 6)
		gkx_client_set_trace(*client, on_trace, NULL);
	return 0;
}

static void print_pool(const options *o, const char *ns, const gkx_pool_status *st)
{
	if (o->output)
		printf("{\"apiVersion\": \"sandbox-run.gkexec.dev/v1alpha1\", \"kind\": "
		       "\"PoolStatus\", "
		       "\"namespace\": \"%s\", \"pool\": \"%s\", \"parked\": %u, \"starting\": %u, "
		       "\"claimed\": %u, \"ended\": %u}\n",
		       ns, st->shape, st->parked, st->starting, st->claimed, st->ended);
	else
		printf("pool %s in %s: %u parked, %u starting, %u in use, %u ended\n", st->shape,
		       ns, st->parked, st->starting, st->claimed, st->ended);
}

/* kubectl sandbox-run pool create|status|delete */
static int pool_command(const options *o)
{
	gkx_config *cfg = NULL;
	gkx_client *client = NULL;
	gkx_pool_options po;
	gkx_pool_status st;
	gkx_error err;
	const char *ns;
	int status = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (connect_cluster(o, &cfg, &client, &err) < 0) {
		status = fail(NULL, &err);
		goto out;
	}
	ns = o->ns && *o->ns ? o->ns : gkx_config_namespace(cfg);
	gkx_pool_options_init(&po);
	po.ns = ns;
	po.image = o->image;
	po.cpu = o->cpu;
	po.memory = o->memory;
	po.runtime_class = o->runtime_class;
	po.network = o->network;
	po.size = (unsigned)o->size;
	po.ttl_s = o->ttl_s;
	if (!strcmp(o->pool_action, "delete")) {
		unsigned n = 0;
		if (gkx_pool_delete(client, &po, o->all, &n, &err) < 0)
			status = fail("deleting the pool", &err);
		else if (!o->quiet)
			printf("deleted %u sandbox%s in %s\n", n, n == 1 ? "" : "es", ns);
	} else if (!strcmp(o->pool_action, "status")) {
		if (gkx_pool_status_get(client, &po, &st, &err) < 0)
			status = fail("reading the pool", &err);
		else
			print_pool(o, ns, &st);
	} else {
		unsigned want = o->size ? (unsigned)o->size : 2, tries = 0;
		if (gkx_pool_fill(client, &po, &st, &err) < 0) {
			status = fail("creating the pool", &err);
			goto out;
		}
		/* Until they are parked, as kubectl's rollout status waits; a
		 * pod that cannot start says why in `pool status` and its events. */
		while (o->wait != 0 && st.parked < want && tries++ < 240 && !got_signal) {
			struct timespec half = { 0, 500000000L };
			nanosleep(&half, NULL);
			if (gkx_pool_status_get(client, &po, &st, &err) < 0) {
				status = fail("reading the pool", &err);
				goto out;
			}
		}
		print_pool(o, ns, &st);
		/* A run takes a parked pod only with life left for its whole
		 * --timeout, and 30 s of slack: a claim can only shorten it. */
		if (o->ttl_s && o->ttl_s < 300 + 30 && !o->quiet)
			fprintf(stderr,
			        "note: runs with the default --timeout (5m) need 5m30s of a parked "
			        "sandbox's --ttl left; this pool serves runs with --timeout under "
			        "%lds\n",
			        o->ttl_s - 30);
		if (o->wait != 0 && st.parked < want) {
			fprintf(stderr,
			        "error: %u of %u sandboxes parked after 2 minutes; see kubectl -n "
			        "%s "
			        "get pods -l sandbox-run.gkexec.dev/pool=%s\n",
			        st.parked, want, ns, st.shape);
			status = EXIT_TOOL_FAILED;
		}
	}
out:
	gkx_client_free(client);
	gkx_config_free(cfg);
	curl_global_cleanup();
	return status;
}

int main(int argc, char **argv)
{
	options o;
	gkx_run_options ro;
	gkx_config *cfg = NULL;
	gkx_client *client = NULL;
	gkx_run *run = NULL;
	gkx_error err;
	text script = { NULL, 0, 0 }, *bodies = NULL;
	gkx_file *extra = NULL;
	const char *script_name;
	int status, rc, json_result, network_none = 0;

	/* The process will hold credentials: no core file, and not dumpable,
	 * which also keeps other processes of the same user from ptrace. */
	{
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	if (argc >= 2 && !strcmp(argv[1], "completion")) {
		if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
			options_usage_completion();
			return 0;
		}
		return options_completion(argc >= 3 ? argv[2] : NULL);
	}
	status = options_parse(&o, argc, argv);
	if (status) {
		options_free(&o);
		return status;
	}
	if (o.help) {
		if (o.pool_action)
			options_usage_pool(o.pool_action);
		else
			options_usage();
		options_free(&o);
		return 0;
	}
	if (o.version) {
		printf("kubectl-sandbox_run %s (libgkexec %s)\n", PLUGIN_VERSION, gkx_version());
		options_free(&o);
		return 0;
	}
	if (o.pool_action) {
		install_signals();
		status = pool_command(&o);
		options_free(&o);
		return status;
	}
	json_result = o.output && !strcmp(o.output, "json") && !o.dry_run;

	if (!strcmp(o.file, "-")) {
		script_name = "stdin.py";
		rc = read_all(stdin, &script);
	} else {
		FILE *f = fopen(o.file, "rb");
		script_name = base_name(o.file);
		if (!f) {
			fprintf(stderr, "error: cannot read %s: %s\n", o.file, strerror(errno));
			options_free(&o);
			return EXIT_TOOL_FAILED;
		}
		rc = read_all(f, &script);
		fclose(f);
	}
	if (rc < 0) {
		fprintf(stderr, "error: cannot read %s, or it is larger than 1 MiB\n", o.file);
		status = EXIT_TOOL_FAILED;
		goto out;
	}

	if (o.nfiles) {
		size_t i;
		extra = calloc(o.nfiles, sizeof(*extra));
		bodies = calloc(o.nfiles, sizeof(*bodies));
		if (!extra || !bodies) {
			fprintf(stderr, "error: out of memory\n");
			status = EXIT_TOOL_FAILED;
			goto out;
		}
		for (i = 0; i < o.nfiles; i++) {
			FILE *f = fopen(o.files[i], "rb");
			if (!f || read_all(f, &bodies[i]) < 0) {
				fprintf(stderr, "error: cannot read %s%s%s\n", o.files[i],
				        f ? "" : ": ",
				        f ? ", or it is larger than 1 MiB" : strerror(errno));
				if (f)
					fclose(f);
				status = EXIT_TOOL_FAILED;
				goto out;
			}
			fclose(f);
			extra[i].name = base_name(o.files[i]);
			extra[i].data = bodies[i].data;
			extra[i].len = bodies[i].len;
		}
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (connect_cluster(&o, &cfg, &client, &err) < 0) {
		/* --dry-run=client needs no cluster: with no kubeconfig at all,
		 * as kubectl's, it renders for -n or "default". */
		if (!(o.dry_run && !strcmp(err.reason, GKX_REASON_NO_KUBECONFIG))) {
			status = fail(NULL, &err);
			goto out;
		}
	}

	gkx_run_options_init(&ro);
	ro.script_name = script_name;
	ro.script = script.data;
	ro.script_len = script.len;
	ro.args = o.args;
	ro.nargs = o.nargs;
	ro.env = o.env;
	ro.nenv = o.nenv;
	ro.ns = o.ns; /* -n; else the context's (or "default" offline) */
	ro.image = o.image;
	ro.cpu = o.cpu;
	ro.memory = o.memory;
	ro.runtime_class = o.runtime_class;
	ro.network = o.network;
	network_none = o.network && !strcmp(o.network, "none");
	ro.files = extra;
	ro.nfiles = o.nfiles;
	ro.workdir = o.workdir;
	ro.start_timeout_s = o.start_timeout_s;
	/* A stream shows the first --limit-bytes; a result keeps the last
	 * (1 MiB by default), so a flood cannot grow it without bound. */
	if (json_result)
		ro.capture_bytes = o.limit_bytes > 0 ? (size_t)o.limit_bytes
		                                     : (size_t)GKX_DEFAULT_CAPTURE_BYTES;
	else
		ro.limit_bytes = (size_t)o.limit_bytes;
	ro.timeout_s = o.timeout_s;
	ro.keep = o.keep;
	ro.on_output = json_result ? NULL : write_out;
	/* A warm run's stderr arrives apart: to stderr (or its own field). */
	ro.on_stderr = json_result ? NULL : write_err;
	ro.cold = o.cold;
	if (!o.quiet && (o.verbosity > 0 || isatty(STDERR_FILENO)))
		ro.on_phase = on_phase;
	if (gkx_run_new(&run, client, &ro, &err) < 0) {
		status = fail(NULL, &err);
		goto out;
	}

	if (o.dry_run) {
		const char *doc;
		if (gkx_run_render(run, o.output ? o.output : "yaml", &doc, &err) < 0) {
			status = fail(NULL, &err);
			goto out;
		}
		fputs(doc, stdout);
		status = 0;
		goto out;
	}

	current_run = run;
	install_signals();
	rc = gkx_run_execute(run, &err);
	current_run = NULL;
	if (json_result)
		print_result(run);
	if (gkx_run_output_truncated(run) && !o.quiet && json_result)
		fprintf(stderr,
		        "sandbox-run: output truncated: the result keeps its last %lu bytes "
		        "(--limit-bytes)\n",
		        (unsigned long)ro.capture_bytes);
	else if (gkx_run_output_truncated(run) && !o.quiet)
		fprintf(stderr, "sandbox-run: output truncated at %ld bytes (--limit-bytes)\n",
		        o.limit_bytes);

	if (got_signal) {
		status = 128 + got_signal;
		fprintf(stderr, "sandbox-run: interrupted; %s/%s %s\n", gkx_run_namespace(run),
		        gkx_run_warm(run) ? gkx_run_pod(run) : gkx_run_name(run),
		        rc == GKX_ECANCELED ? "deleted" : "may remain");
	} else if (rc < 0) {
		status = fail(NULL, &err);
		if (o.keep)
			print_kept(run, network_none);
	} else if (!strcmp(gkx_run_reason(run), "DeadlineExceeded")) {
		fprintf(stderr, "sandbox-run: the script exceeded its deadline and was stopped\n");
		status = EXIT_TIMED_OUT;
	} else {
		status = gkx_run_exit_code(run);
		if (!o.quiet && strcmp(gkx_run_reason(run), "Completed") &&
		    strcmp(gkx_run_reason(run), "Error"))
			fprintf(stderr, "sandbox-run: %s%s (exit code %d)%s%s\n",
			        gkx_run_reason(run), reason_text(gkx_run_reason(run)), status,
			        gkx_run_message(run)[0] ? ": " : "", gkx_run_message(run));
		if (o.keep)
			print_kept(run, network_none);
	}
out:
	gkx_run_free(run);
	gkx_client_free(client);
	gkx_config_free(cfg);
	free(script.data);
	if (bodies) {
		size_t i;
		for (i = 0; i < o.nfiles; i++)
			free(bodies[i].data);
	}
	free(bodies);
	free(extra);
	options_free(&o);
	curl_global_cleanup();
	return status;
}
