/* Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1), as
 * client-go runs them: fork/exec with an argv array (never a shell), the
 * kubeconfig's `env` added to the inherited environment, KUBERNETES_EXEC_INFO
 * describing the request, stdin only when interactive, and the printed
 * ExecCredential checked against the requested apiVersion. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define API_V1      "client.authentication.k8s.io/v1"
#define API_V1BETA1 "client.authentication.k8s.io/v1beta1"
#define STDERR_KEEP 2048u

void gkx__exec_config_free(gkx_exec_config *ec)
{
	if (!ec)
		return;
	free(ec->api_version);
	free(ec->command);
	gkx__strv_free(ec->args);
	gkx__strv_free(ec->env);
	free(ec->install_hint);
	free(ec->user);
	free(ec->file);
	free(ec);
}

char *gkx__strip_control(const char *s)
{
	size_t n = strlen(s), i, j = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b) {
			/* ESC [ ... final byte, or ESC ] ... BEL/ST, or ESC x */
			if (i + 1 < n && s[i + 1] == '[') {
				i += 2;
				while (i < n && !((unsigned char)s[i] >= 0x40 &&
				                  (unsigned char)s[i] <= 0x7e))
					i++;
			} else if (i + 1 < n && s[i + 1] == ']') {
				i += 2;
				while (i < n && s[i] != '\a' &&
				       !(s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\'))
					i++;
				if (i < n && s[i] == 0x1b)
					i++;
			} else {
				i++;
			}
			continue;
		}
		if (c < 0x20 && c != '\n' && c != '\t')
			continue;
		if (c == 0x7f)
			continue;
		out[j++] = (char)c;
	}
	out[j] = '\0';
	return out;
}

static char **strv_from_json(const cJSON *arr, int pairs, const char *file, const char *user,
                             gkx_error *err, int *rc)
{
	size_t n = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0, i = 0;
	char **v = calloc(n + 1, sizeof(*v));
	const cJSON *e;

	*rc = 0;
	if (!v) {
		*rc = gkx__error_oom(err);
		return NULL;
	}
	cJSON_ArrayForEach (e, arr) {
		if (pairs) {
			const char *name =
			        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
			const cJSON *val = cJSON_GetObjectItemCaseSensitive(e, "value");
			gkx_buf b = GKX_BUF_INIT;
			if (!name || !*name || strchr(name, '=')) {
				*rc = gkx__error_set(
				        err, GKX_ECONFIG,
				        "%s: user \"%s\": exec env entry without a valid name",
				        file, user);
				break;
			}
			if (gkx__buf_printf(&b, "%s=%s", name,
			                    cJSON_IsString(val) ? val->valuestring : "") < 0) {
				*rc = gkx__error_oom(err);
				break;
			}
			v[i++] = b.ptr;
		} else {
			if (!cJSON_IsString(e)) {
				*rc = gkx__error_set(err, GKX_ECONFIG,
				                     "%s: user \"%s\": exec args must be strings",
				                     file, user);
				break;
			}
			if (!(v[i++] = gkx__strdup(e->valuestring))) {
				*rc = gkx__error_oom(err);
				break;
			}
		}
	}
	if (*rc < 0) {
		gkx__strv_free(v);
		return NULL;
	}
	return v;
}

int gkx__exec_config_parse(gkx_exec_config **out, const cJSON *exec, const char *file,
                           const char *user, gkx_error *err)
{
	gkx_exec_config *ec = calloc(1, sizeof(*ec));
	const char *api =
	        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(exec, "apiVersion"));
	const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(exec, "command"));
	const char *mode =
	        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(exec, "interactiveMode"));
	const char *hint =
	        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(exec, "installHint"));
	const char *pci =
	        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(exec, "provideClusterInfo"));
	int rc = 0;

	*out = NULL;
	if (!ec)
		return gkx__error_oom(err);
	if (!api || (strcmp(api, API_V1) && strcmp(api, API_V1BETA1))) {
		rc = gkx__error_set(err, GKX_ECONFIG,
		                    "%s: user \"%s\": exec plugin apiVersion \"%s\" is not "
		                    "supported; use %s or %s",
		                    file, user, api ? api : "", API_V1, API_V1BETA1);
		goto fail;
	}
	if (!cmd || !*cmd) {
		rc = gkx__error_set(err, GKX_ECONFIG, "%s: user \"%s\": exec plugin has no command",
		                    file, user);
		goto fail;
	}
	if (!mode || !*mode) {
		if (!strcmp(api, API_V1)) {
			rc = gkx__error_set(
			        err, GKX_ECONFIG,
			        "%s: interactiveMode must be specified for %s to use exec "
			        "authentication plugin",
			        file, user);
			goto fail;
		}
		ec->interactive_mode = GKX_INTERACTIVE_IFAVAILABLE;
	} else if (!strcmp(mode, "Never")) {
		ec->interactive_mode = GKX_INTERACTIVE_NEVER;
	} else if (!strcmp(mode, "IfAvailable")) {
		ec->interactive_mode = GKX_INTERACTIVE_IFAVAILABLE;
	} else if (!strcmp(mode, "Always")) {
		ec->interactive_mode = GKX_INTERACTIVE_ALWAYS;
	} else {
		rc = gkx__error_set(err, GKX_ECONFIG,
		                    "%s: user \"%s\": invalid interactiveMode \"%s\" (Never, "
		                    "IfAvailable or Always)",
		                    file, user, mode);
		goto fail;
	}
	ec->provide_cluster_info = pci && !strcmp(pci, "true");
	/* A command with a '/' is a path relative to the kubeconfig that names
	 * it; a bare name is looked up in PATH when it runs. */
	if (strchr(cmd, '/') && cmd[0] != '/' && strrchr(file, '/')) {
		gkx_buf b = GKX_BUF_INIT;
		const char *slash = strrchr(file, '/');
		if (gkx__buf_put(&b, file, (size_t)(slash - file + 1)) < 0 ||
		    gkx__buf_puts(&b, cmd) < 0) {
			rc = gkx__error_oom(err);
			goto fail;
		}
		ec->command = b.ptr;
	} else {
		ec->command = gkx__strdup(cmd);
	}
	ec->api_version = gkx__strdup(api);
	ec->install_hint = hint ? gkx__strip_control(hint) : NULL;
	ec->user = gkx__strdup(user);
	ec->file = gkx__strdup(file);
	if (!ec->command || !ec->api_version || (hint && !ec->install_hint) || !ec->user ||
	    !ec->file) {
		rc = gkx__error_oom(err);
		goto fail;
	}
	ec->args = strv_from_json(cJSON_GetObjectItemCaseSensitive(exec, "args"), 0, file, user,
	                          err, &rc);
	if (rc < 0)
		goto fail;
	ec->env = strv_from_json(cJSON_GetObjectItemCaseSensitive(exec, "env"), 1, file, user, err,
	                         &rc);
	if (rc < 0)
		goto fail;
	*out = ec;
	return 0;
fail:
	gkx__exec_config_free(ec);
	return rc;
}

void gkx__exec_cred_clear(gkx_exec_cred *c)
{
	gkx__free_secret(c->token);
	c->token = NULL;
	gkx__buf_free(&c->cert);
	gkx__buf_free_secret(&c->key);
	c->expiry = 0;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int gkx__parse_time(const char *s, double *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long v[6];
	const char seps[] = "--T::";
	int i, m;
	double days = 0, frac = 0;
	long tz = 0;

	for (i = 0; i < 6; i++) {
		int digits = i == 0 ? 4 : 2, k;
		v[i] = 0;
		for (k = 0; k < digits; k++, s++) {
			if (*s < '0' || *s > '9')
				return GKX_EINVAL;
			v[i] = v[i] * 10 + (*s - '0');
		}
		if (i < 5) {
			if (*s != seps[i] && !(i == 2 && (*s == 't' || *s == ' ')))
				return GKX_EINVAL;
			s++;
		}
	}
	if (*s == '.') {
		double scale = 0.1;
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1;
		if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' && s[3] == ':' &&
		      s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9'))
			return GKX_EINVAL;
		tz = sign * (((s[1] - '0') * 10 + (s[2] - '0')) * 3600L +
		             ((s[4] - '0') * 10 + (s[5] - '0')) * 60L);
		s += 6;
	} else {
		return GKX_EINVAL;
	}
	if (*s || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 ||
	    v[5] > 60 || v[0] < 1970)
		return GKX_EINVAL;
	for (i = 1970; i < v[0]; i++)
		days += is_leap(i) ? 366 : 365;
	for (m = 0; m < v[1] - 1; m++)
		days += mdays[m] + (m == 1 && is_leap((int)v[0]));
	days += (double)(v[2] - 1);
	*out = days * 86400.0 + (double)(v[3] * 3600 + v[4] * 60 + v[5]) + frac - (double)tz;
	return 0;
}

int gkx__exec_credential_parse(gkx_exec_cred *out, const char *json, size_t len,
                               const char *api_version, gkx_error *err)
{
	cJSON *j = cJSON_ParseWithLength(json, len);
	const char *api = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "apiVersion"));
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "kind"));
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(j, "status");
	const char *token, *cert, *key, *exp;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!j || !cJSON_IsObject(j)) {
		rc = gkx__error_set(err, GKX_ECONFIG, "decoding stdout: not a JSON object");
		goto out;
	}
	if (!kind || strcmp(kind, "ExecCredential")) {
		rc = gkx__error_set(err, GKX_ECONFIG,
		                    "decoding stdout: kind is \"%s\", not ExecCredential",
		                    kind ? kind : "");
		goto out;
	}
	if (!api || strcmp(api, api_version)) {
		rc = gkx__error_set(err, GKX_ECONFIG,
		                    "exec plugin is configured to use API version %s, plugin "
		                    "returned version %s",
		                    api_version, api ? api : "(none)");
		goto out;
	}
	if (!cJSON_IsObject(status)) {
		rc = gkx__error_set(err, GKX_ECONFIG, "exec plugin didn't return a status field");
		goto out;
	}
	token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "token"));
	cert = cJSON_GetStringValue(
	        cJSON_GetObjectItemCaseSensitive(status, "clientCertificateData"));
	key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "clientKeyData"));
	exp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "expirationTimestamp"));
	if ((!token || !*token) && !(cert && *cert) && !(key && *key)) {
		rc = gkx__error_set(err, GKX_ECONFIG,
		                    "exec plugin didn't return a token or cert/key pair");
		goto out;
	}
	if (!!(cert && *cert) != !!(key && *key)) {
		rc = gkx__error_set(err, GKX_ECONFIG,
		                    "exec plugin returned only certificate or key, not both");
		goto out;
	}
	if (exp && *exp && gkx__parse_time(exp, &out->expiry) < 0) {
		rc = gkx__error_set(err, GKX_ECONFIG,
		                    "exec plugin returned an invalid expirationTimestamp \"%s\"",
		                    exp);
		goto out;
	}
	if ((token && *token && !(out->token = gkx__strdup(token))) ||
	    (cert && *cert &&
	     (gkx__buf_puts(&out->cert, cert) < 0 || gkx__buf_puts(&out->key, key) < 0)))
		rc = gkx__error_oom(err);
out:
	if (rc < 0)
		gkx__exec_cred_clear(out);
	if (j) {
		/* The parsed tree held the credential: clear its strings first. */
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status"), *f;
		cJSON_ArrayForEach (f, st)
			if (cJSON_IsString(f))
				gkx__memzero(f->valuestring, strlen(f->valuestring));
	}
	cJSON_Delete(j);
	return rc;
}

/* ---- running the plugin ---- */

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

static int read_child(int out_fd, int err_fd, gkx_buf *out, gkx_buf *errtail)
{
	struct pollfd p[2];
	char chunk[4096];
	int open_fds = (out_fd >= 0) + (err_fd >= 0), toobig = 0;

	p[0].fd = out_fd;
	p[0].events = POLLIN;
	p[1].fd = err_fd;
	p[1].events = POLLIN;
	while (open_fds > 0) {
		int i;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return GKX_ERROR;
		}
		for (i = 0; i < 2; i++) {
			ssize_t n;
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				if (out->len + (size_t)n > GKX_EXEC_MAX_OUTPUT)
					toobig = 1;
				else if (gkx__buf_put(out, chunk, (size_t)n) < 0)
					return GKX_ENOMEM;
			} else {
				if (gkx__buf_put(errtail, chunk, (size_t)n) < 0)
					return GKX_ENOMEM;
				if (errtail->len > STDERR_KEEP)
					gkx__buf_consume(errtail, errtail->len - STDERR_KEEP);
			}
		}
	}
	return toobig ? GKX_ETOOBIG : 0;
}

static void not_found(const gkx_exec_config *ec, gkx_error *err)
{
	gkx__error_set(
	        err, GKX_ECONFIG,
	        "exec: executable %s not found (the credential plugin of user \"%s\" in %s)%s%s",
	        ec->command, ec->user, ec->file, ec->install_hint ? "\n\n" : "",
	        ec->install_hint ? ec->install_hint : "");
}

int gkx__exec_get(gkx_exec_cred *out, const gkx_config *cfg, gkx_error *err)
{
	const gkx_exec_config *ec = cfg->exec;
	int interactive, outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, failp[2] = { -1, -1 };
	char *path = NULL, *info = NULL, **env = NULL, **argv = NULL;
	size_t nargs = 0, i;
	gkx_buf stdout_buf = GKX_BUF_INIT, errtail = GKX_BUF_INIT;
	pid_t pid;
	int rc = 0, status = 0, child_errno = 0;

	memset(out, 0, sizeof(*out));
	if (ec->interactive_mode == GKX_INTERACTIVE_ALWAYS && !cfg->stdin_is_terminal)
		return gkx__error_set(
		        err, GKX_ECONFIG,
		        "exec plugin cannot support interactive mode: standard input is not a "
		        "terminal (user \"%s\" in %s has interactiveMode: Always)",
		        ec->user, ec->file);
	interactive = ec->interactive_mode != GKX_INTERACTIVE_NEVER && cfg->stdin_is_terminal;
	path = find_command(ec->command, cfg->environ);
	if (!path) {
		not_found(ec, err);
		return GKX_ECONFIG;
	}
	for (i = 0; ec->args[i]; i++)
		nargs++;
	argv = calloc(nargs + 2, sizeof(*argv));
	info = exec_info(cfg, ec, interactive);
	env = info ? child_env(cfg, ec, info) : NULL;
	if (!argv || !info || !env) {
		rc = gkx__error_oom(err);
		goto out;
	}
	argv[0] = ec->command;
	for (i = 0; i < nargs; i++)
		argv[i + 1] = ec->args[i];
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(failp, O_CLOEXEC) < 0 ||
	    (!interactive && pipe2(errp, O_CLOEXEC) < 0)) {
		rc = gkx__error_set(err, GKX_ERROR, "exec: pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = gkx__error_set(err, GKX_ERROR, "exec: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here on. */
		int e, nul = open("/dev/null", O_RDONLY);
		if (!interactive && nul >= 0)
			dup2(nul, 0);
		dup2(outp[1], 1);
		if (!interactive)
			dup2(errp[1], 2);
		execve(path, argv, env);
		e = errno;
		if (write(failp[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(outp[1]);
	outp[1] = -1;
	close(failp[1]);
	failp[1] = -1;
	if (errp[1] >= 0) {
		close(errp[1]);
		errp[1] = -1;
	}
	rc = read_child(outp[0], errp[0], &stdout_buf, &errtail);
	if (read(failp[0], &child_errno, sizeof(child_errno)) != (ssize_t)sizeof(child_errno))
		child_errno = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (child_errno) {
		if (child_errno == ENOENT)
			not_found(ec, err);
		else
			gkx__error_set(err, GKX_ECONFIG, "exec: cannot run %s: %s", ec->command,
			               strerror(child_errno));
		rc = GKX_ECONFIG;
		goto out;
	}
	if (rc == GKX_ETOOBIG) {
		rc = gkx__error_set(err, GKX_ECONFIG, "exec: %s printed more than %u bytes",
		                    ec->command, GKX_EXEC_MAX_OUTPUT);
		goto out;
	}
	if (rc < 0) {
		gkx__error_set(err, rc, "exec: reading the output of %s failed", ec->command);
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		char *tail = gkx__strip_control(errtail.ptr ? errtail.ptr : "");
		size_t tl = tail ? strlen(tail) : 0;
		while (tl && (tail[tl - 1] == '\n' || tail[tl - 1] == ' '))
			tail[--tl] = '\0';
		rc = gkx__error_set(err, GKX_EUNAUTHORIZED,
		                    "exec: executable %s failed with exit code %d%s%s", ec->command,
		                    WEXITSTATUS(status), tl ? ": " : "", tl ? tail : "");
		free(tail);
		goto out;
	}
	if (WIFSIGNALED(status)) {
		rc = gkx__error_set(err, GKX_EUNAUTHORIZED,
		                    "exec: executable %s was killed by signal %d", ec->command,
		                    WTERMSIG(status));
		goto out;
	}
	rc = gkx__exec_credential_parse(out, stdout_buf.ptr ? stdout_buf.ptr : "", stdout_buf.len,
	                                ec->api_version, err);
	if (rc < 0)
		gkx__error_prefix(err, "exec plugin %s of user \"%s\"", ec->command, ec->user);
out:
	for (i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (failp[i] >= 0)
			close(failp[i]);
	}
	if (env) {
		for (i = 0; env[i]; i++)
			if (!env[i + 1])
				free(env[i]); /* KUBERNETES_EXEC_INFO, ours */
		free(env);
	}
	free(argv);
	cJSON_free(info);
	free(path);
	gkx__buf_free_secret(&stdout_buf);
	gkx__buf_free(&errtail);
	return rc;
}
