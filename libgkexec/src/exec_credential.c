/* Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1):
 * the kubeconfig's `exec` stanza, and the ExecCredential a plugin prints,
 * checked against the requested apiVersion, as client-go checks them.
 * Running the plugin is exec_plugin.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define API_V1      "client.authentication.k8s.io/v1"
#define API_V1BETA1 "client.authentication.k8s.io/v1beta1"

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
