/* Running an exec credential plugin, as client-go runs one: fork/exec with
 * an argv array (never a shell), the kubeconfig's `env` added to the
 * inherited environment, KUBERNETES_EXEC_INFO describing the request, stdin
 * only when interactive. Unlike client-go, a plugin is not waited for
 * forever: it has the request timeout (30 s when none is given; none for a
 * plugin that talks to a person on the terminal), never past the run's
 * deadline, and is then ended with what it started. A non-interactive
 * plugin runs in its own process group for that; an interactive one must
 * stay in the terminal's foreground group, so only it is ended. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define STDERR_KEEP   2048u
#define SLICE_MS      100 /* how often a cancel is looked at */
#define KILL_GRACE_MS 500 /* from SIGTERM to SIGKILL */

static char *exec_info(const gkx_config *cfg, const gkx_exec_config *ec, int interactive)
{
	cJSON *j = cJSON_CreateObject(), *spec, *cl;
	char *s = NULL;

	if (!j || !cJSON_AddStringToObject(j, "kind", "ExecCredential") ||
	    !cJSON_AddStringToObject(j, "apiVersion", ec->api_version) ||
	    !(spec = cJSON_AddObjectToObject(j, "spec")) ||
	    !cJSON_AddBoolToObject(spec, "interactive", interactive))
		goto out;
	if (ec->provide_cluster_info) {
		gkx_buf ca = GKX_BUF_INIT;
		if (!(cl = cJSON_AddObjectToObject(spec, "cluster")) ||
		    !cJSON_AddStringToObject(cl, "server", cfg->server))
			goto out;
		if (cfg->tls_server_name &&
		    !cJSON_AddStringToObject(cl, "tls-server-name", cfg->tls_server_name))
			goto out;
		if (cfg->insecure && !cJSON_AddTrueToObject(cl, "insecure-skip-tls-verify"))
			goto out;
		if (cfg->ca.len) {
			if (gkx__base64_encode(&ca, (const unsigned char *)cfg->ca.ptr,
			                       cfg->ca.len) < 0 ||
			    !cJSON_AddStringToObject(cl, "certificate-authority-data", ca.ptr)) {
				gkx__buf_free(&ca);
				goto out;
			}
			gkx__buf_free(&ca);
		}
		if (cfg->proxy_url && !cJSON_AddStringToObject(cl, "proxy-url", cfg->proxy_url))
			goto out;
		if (cfg->exec_cluster_config) {
			cJSON *c = cJSON_Parse(cfg->exec_cluster_config);
			if (!c || !cJSON_AddItemToObject(cl, "config", c)) {
				cJSON_Delete(c);
				goto out;
			}
		}
	}
	s = cJSON_PrintUnformatted(j);
out:
	cJSON_Delete(j);
	return s;
}

/* PATH lookup as exec.LookPath does, in the PATH of the given environment. */
static char *find_command(const char *cmd, char *const *environ_)
{
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	size_t i;

	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0 ? gkx__strdup(cmd) : NULL;
	for (i = 0; environ_ && environ_[i]; i++)
		if (!strncmp(environ_[i], "PATH=", 5))
			path = environ_[i] + 5;
	while (*path) {
		size_t n = strcspn(path, ":");
		gkx_buf b = GKX_BUF_INIT;
		struct stat st;
		if (gkx__buf_put(&b, n ? path : ".", n ? n : 1) < 0 ||
		    gkx__buf_printf(&b, "/%s", cmd) < 0) {
			gkx__buf_free(&b);
			return NULL;
		}
		if (stat(b.ptr, &st) == 0 && S_ISREG(st.st_mode) && access(b.ptr, X_OK) == 0)
			return b.ptr;
		gkx__buf_free(&b);
		path += n;
		if (*path == ':')
			path++;
	}
	return NULL;
}

/* The child's environment: the inherited one, then the plugin's `env`
 * (overriding same names), then KUBERNETES_EXEC_INFO. */
static char **child_env(const gkx_config *cfg, const gkx_exec_config *ec, const char *info)
{
	size_t n = 0, i, k, cap;
	char **env;
	gkx_buf b = GKX_BUF_INIT;

	for (i = 0; cfg->environ && cfg->environ[i]; i++)
		n++;
	for (i = 0; ec->env[i]; i++)
		n++;
	cap = n + 2;
	env = calloc(cap, sizeof(*env));
	if (!env)
		return NULL;
	n = 0;
	for (i = 0; cfg->environ && cfg->environ[i]; i++) {
		const char *e = cfg->environ[i];
		size_t nl = strcspn(e, "=");
		int overridden = !strncmp(e, "KUBERNETES_EXEC_INFO=", 21);
		for (k = 0; ec->env[k] && !overridden; k++)
			if (!strncmp(ec->env[k], e, nl + 1))
				overridden = 1;
		if (!overridden)
			env[n++] = (char *)e;
	}
	for (k = 0; ec->env[k]; k++)
		env[n++] = ec->env[k];
	if (gkx__buf_printf(&b, "KUBERNETES_EXEC_INFO=%s", info) < 0) {
		free(env);
		return NULL;
	}
	env[n++] = b.ptr; /* freed by the caller: the last entry */
	env[n] = NULL;
	return env;
}

/* One run of the plugin: what it is given, and what it gave back. */
typedef struct {
	const gkx_exec_config *ec;
	int interactive;
	char *path, *info, **env, **argv;
	int out[2], err[2], fail[2]; /* pipes: stdout, stderr, exec's errno */
	pid_t pid;
	double give_up; /* gkx__mono_now() time; 0: never */
	gkx__flag *cancel;
	gkx_buf stdout_buf, errtail;
	int status, child_errno;
} plugin_run;

/* 0 when the plugin may go on, GKX_ETIMEOUT or GKX_ECANCELED when not;
 * *wait_ms gets how long the next wait may be. */
static int keep_waiting(const plugin_run *p, int *wait_ms)
{
	double left;

	if (gkx__flag_test(p->cancel))
		return GKX_ECANCELED;
	*wait_ms = SLICE_MS;
	if (p->give_up <= 0)
		return 0;
	left = (p->give_up - gkx__mono_now()) * 1000.0;
	if (left <= 0)
		return GKX_ETIMEOUT;
	if (left < SLICE_MS)
		*wait_ms = (int)left + 1;
	return 0;
}

static int take_output(plugin_run *p, int which, const char *chunk, size_t n, int *toobig)
{
	if (which == 0) {
		if (p->stdout_buf.len + n > GKX_EXEC_MAX_OUTPUT)
			*toobig = 1;
		else if (gkx__buf_put(&p->stdout_buf, chunk, n) < 0)
			return GKX_ENOMEM;
		return 0;
	}
	if (gkx__buf_put(&p->errtail, chunk, n) < 0)
		return GKX_ENOMEM;
	if (p->errtail.len > STDERR_KEEP)
		gkx__buf_consume(&p->errtail, p->errtail.len - STDERR_KEEP);
	return 0;
}

/* Read stdout and stderr until both close, the time is up or a cancel. */
static int read_child(plugin_run *p)
{
	struct pollfd fds[2];
	char chunk[4096];
	int open_fds = (p->out[0] >= 0) + (p->err[0] >= 0), toobig = 0, rc, wait_ms;

	fds[0].fd = p->out[0];
	fds[0].events = POLLIN;
	fds[1].fd = p->err[0];
	fds[1].events = POLLIN;
	while (open_fds > 0) {
		int i;
		if ((rc = keep_waiting(p, &wait_ms)) < 0)
			return rc;
		if (poll(fds, 2, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			return GKX_ERROR;
		}
		for (i = 0; i < 2; i++) {
			ssize_t n;
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fds[i].fd = -1;
				open_fds--;
			} else if ((rc = take_output(p, i, chunk, (size_t)n, &toobig)) < 0) {
				return rc;
			}
		}
	}
	return toobig ? GKX_ETOOBIG : 0;
}

static void pause_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* Its exit, after its output closed: it may still linger, so within the
 * same bounds. 0 (reaped), or GKX_ETIMEOUT / GKX_ECANCELED. */
static int wait_child(plugin_run *p)
{
	int rc, wait_ms;

	for (;;) {
		pid_t got = waitpid(p->pid, &p->status, WNOHANG);
		if (got == p->pid || (got < 0 && errno != EINTR)) {
			p->pid = -1;
			return 0;
		}
		if ((rc = keep_waiting(p, &wait_ms)) < 0)
			return rc;
		pause_ms(wait_ms < 10 ? wait_ms : 10);
	}
}

/* End the plugin and, from its own process group, what it started: TERM,
 * a grace to save what it was writing, then KILL for what is left (a
 * child that ignored TERM). Reaps the plugin. */
static void stop_child(plugin_run *p)
{
	pid_t target = p->interactive ? p->pid : -p->pid;
	int i, reaped = 0;

	if (p->pid <= 0)
		return;
	kill(target, SIGTERM);
	for (i = 0; i < KILL_GRACE_MS / 10 && !reaped; i++) {
		pid_t got = waitpid(p->pid, &p->status, WNOHANG);
		reaped = got == p->pid || (got < 0 && errno != EINTR);
		if (!reaped)
			pause_ms(10);
	}
	kill(target, SIGKILL);
	while (!reaped && waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	p->pid = -1;
}

static int spawn(plugin_run *p, gkx_error *err)
{
	if (pipe2(p->out, O_CLOEXEC) < 0 || pipe2(p->fail, O_CLOEXEC) < 0 ||
	    (!p->interactive && pipe2(p->err, O_CLOEXEC) < 0))
		return gkx__error_set(err, GKX_ERROR, "exec: pipe: %s", strerror(errno));
	p->pid = fork();
	if (p->pid < 0)
		return gkx__error_set(err, GKX_ERROR, "exec: fork: %s", strerror(errno));
	if (p->pid == 0) {
		/* Only async-signal-safe calls from here on. */
		int e, nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (!p->interactive) {
			setpgid(0, 0);
			if (nul >= 0)
				dup2(nul, 0);
			dup2(p->err[1], 2);
		}
		dup2(p->out[1], 1);
		execve(p->path, p->argv, p->env);
		e = errno;
		if (write(p->fail[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	/* Both sides set the group, so that it exists whichever runs first. */
	if (!p->interactive)
		setpgid(p->pid, p->pid);
	close(p->out[1]);
	close(p->fail[1]);
	p->out[1] = p->fail[1] = -1;
	if (p->err[1] >= 0) {
		close(p->err[1]);
		p->err[1] = -1;
	}
	return 0;
}

static void not_found(const gkx_exec_config *ec, gkx_error *err)
{
	gkx__error_set(
	        err, GKX_ECONFIG,
	        "exec: executable %s not found (the credential plugin of user \"%s\" in %s)%s%s",
	        ec->command, ec->user, ec->file, ec->install_hint ? "\n\n" : "",
	        ec->install_hint ? ec->install_hint : "");
}

/* The end of what it printed on stderr, without terminal controls or
 * trailing blanks; "" when nothing. Freed by the caller. */
static char *stderr_tail(const plugin_run *p)
{
	char *tail = gkx__strip_control(p->errtail.ptr ? p->errtail.ptr : "");
	size_t tl = tail ? strlen(tail) : 0;

	while (tl && (tail[tl - 1] == '\n' || tail[tl - 1] == ' '))
		tail[--tl] = '\0';
	return tail;
}

/* A plugin ended for taking too long, or for a cancel. */
static int stopped(const plugin_run *p, int rc, long budget_ms, int by_deadline, gkx_error *err)
{
	const gkx_exec_config *ec = p->ec;
	char within[32], *tail;

	if (rc == GKX_ECANCELED)
		return gkx__error_set(err, rc,
		                      "canceled while the credential plugin \"%s\" ran; it was "
		                      "stopped",
		                      ec->command);
	if (budget_ms % 1000 == 0)
		snprintf(within, sizeof(within), "%lds", budget_ms / 1000);
	else
		snprintf(within, sizeof(within), "%.1fs", (double)budget_ms / 1000.0);
	tail = stderr_tail(p);
	rc = gkx__error_set(
	        err, GKX_ETIMEOUT,
	        "the credential plugin \"%s\" did not answer within %s, %s; it was "
	        "stopped. Run it by hand to see what it waits for, or %s (user \"%s\" in %s)%s%s",
	        ec->command, within,
	        by_deadline ? "the time left before the run's deadline" : "the request timeout",
	        by_deadline ? "give the run a longer --timeout" : "raise --request-timeout",
	        ec->user, ec->file, tail && *tail ? ". It printed: " : "", tail ? tail : "");
	free(tail);
	return rc;
}

/* How it ended, once it has: an error for every way but a clean exit. */
static int check_exit(const plugin_run *p, int rc, gkx_error *err)
{
	const gkx_exec_config *ec = p->ec;
	const int status = p->status;
	char *tail;

	if (p->child_errno) {
		if (p->child_errno == ENOENT)
			not_found(ec, err);
		else
			gkx__error_set(err, GKX_ECONFIG, "exec: cannot run %s: %s", ec->command,
			               strerror(p->child_errno));
		return GKX_ECONFIG;
	}
	if (rc == GKX_ETOOBIG)
		return gkx__error_set(err, GKX_ECONFIG, "exec: %s printed more than %u bytes",
		                      ec->command, GKX_EXEC_MAX_OUTPUT);
	if (rc < 0)
		return gkx__error_set(err, rc, "exec: reading the output of %s failed",
		                      ec->command);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		tail = stderr_tail(p);
		rc = gkx__error_set(err, GKX_EUNAUTHORIZED,
		                    "exec: executable %s failed with exit code %d%s%s", ec->command,
		                    WEXITSTATUS(status), tail && *tail ? ": " : "",
		                    tail ? tail : "");
		free(tail);
		return rc;
	}
	if (WIFSIGNALED(status))
		return gkx__error_set(err, GKX_EUNAUTHORIZED,
		                      "exec: executable %s was killed by signal %d", ec->command,
		                      WTERMSIG(status));
	return 0;
}

/* Its arguments and environment; 0 or an error. */
static int prepare(plugin_run *p, const gkx_config *cfg, gkx_error *err)
{
	const gkx_exec_config *ec = p->ec;
	size_t nargs = 0, i;

	p->path = find_command(ec->command, cfg->environ);
	if (!p->path) {
		not_found(ec, err);
		return GKX_ECONFIG;
	}
	while (ec->args[nargs])
		nargs++;
	p->argv = calloc(nargs + 2, sizeof(*p->argv));
	p->info = exec_info(cfg, ec, p->interactive);
	p->env = p->info ? child_env(cfg, ec, p->info) : NULL;
	if (!p->argv || !p->info || !p->env)
		return gkx__error_oom(err);
	p->argv[0] = ec->command;
	for (i = 0; i < nargs; i++)
		p->argv[i + 1] = ec->args[i];
	return 0;
}

static void plugin_run_free(plugin_run *p)
{
	size_t i;

	stop_child(p);
	for (i = 0; i < 2; i++) {
		if (p->out[i] >= 0)
			close(p->out[i]);
		if (p->err[i] >= 0)
			close(p->err[i]);
		if (p->fail[i] >= 0)
			close(p->fail[i]);
	}
	if (p->env) {
		for (i = 0; p->env[i]; i++)
			if (!p->env[i + 1])
				free(p->env[i]); /* KUBERNETES_EXEC_INFO, ours */
		free(p->env);
	}
	free(p->argv);
	cJSON_free(p->info);
	free(p->path);
	gkx__buf_free_secret(&p->stdout_buf);
	gkx__buf_free(&p->errtail);
}

/* How long it may take in ms (0: no bound), and whether the run's
 * deadline rather than the request timeout decided it. */
static long budget_ms(const gkx_config *cfg, int interactive, const gkx__exec_limits *lim,
                      int *by_deadline)
{
	long ms = cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms
	          : interactive               ? 0
	                                      : GKX_DEFAULT_REQUEST_TIMEOUT_MS;

	*by_deadline = 0;
	if (lim && lim->deadline > 0) {
		double left = (lim->deadline - gkx__mono_now()) * 1000.0;
		long left_ms = left < 1 ? 1 : (long)left;
		if (!ms || left_ms < ms) {
			ms = left_ms;
			*by_deadline = 1;
		}
	}
	return ms;
}

int gkx__exec_get(gkx_exec_cred *out, const gkx_config *cfg, const gkx__exec_limits *lim,
                  gkx_error *err)
{
	const gkx_exec_config *ec = cfg->exec;
	plugin_run p;
	long budget;
	int rc, by_deadline;

	memset(out, 0, sizeof(*out));
	if (ec->interactive_mode == GKX_INTERACTIVE_ALWAYS && !cfg->stdin_is_terminal)
		return gkx__error_set(
		        err, GKX_ECONFIG,
		        "exec plugin cannot support interactive mode: standard input is not a "
		        "terminal (user \"%s\" in %s has interactiveMode: Always)",
		        ec->user, ec->file);
	memset(&p, 0, sizeof(p));
	p.ec = ec;
	p.pid = -1;
	p.out[0] = p.out[1] = p.err[0] = p.err[1] = p.fail[0] = p.fail[1] = -1;
	p.interactive = ec->interactive_mode != GKX_INTERACTIVE_NEVER && cfg->stdin_is_terminal;
	p.cancel = lim ? lim->cancel : NULL;
	budget = budget_ms(cfg, p.interactive, lim, &by_deadline);
	p.give_up = budget ? gkx__mono_now() + (double)budget / 1000.0 : 0;
	if ((rc = prepare(&p, cfg, err)) < 0 || (rc = spawn(&p, err)) < 0)
		goto out;
	rc = read_child(&p);
	if (rc == 0 || rc == GKX_ETOOBIG) {
		int wrc = wait_child(&p);
		rc = wrc < 0 ? wrc : rc;
	}
	if (rc == GKX_ETIMEOUT || rc == GKX_ECANCELED) {
		stop_child(&p);
		rc = stopped(&p, rc, budget, by_deadline, err);
		goto out;
	}
	if (read(p.fail[0], &p.child_errno, sizeof(p.child_errno)) != (ssize_t)sizeof(int))
		p.child_errno = 0;
	if ((rc = check_exit(&p, rc, err)) < 0)
		goto out;
	rc = gkx__exec_credential_parse(out, p.stdout_buf.ptr ? p.stdout_buf.ptr : "",
	                                p.stdout_buf.len, ec->api_version, err);
	if (rc < 0)
		gkx__error_prefix(err, "exec plugin %s of user \"%s\"", ec->command, ec->user);
out:
	plugin_run_free(&p);
	return rc;
}
