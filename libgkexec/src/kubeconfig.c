/* kubeconfig loading with kubectl's rules: which files, how they merge,
 * which context, cluster and user apply, and how flags override them.
 * client-go's tools/clientcmd is the reference for each rule. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

#define KUBECONFIG_MAX_BYTES (16u * 1024u * 1024u)
#define MAX_FILES            64

typedef struct {
	const char *name;
	const cJSON *body; /* the "cluster"/"user"/"context" mapping */
	const char *file;  /* where it was defined, for messages and relative paths */
} named;

typedef struct {
	named *items;
	size_t n, cap;
} named_list;

typedef struct {
	char *paths[MAX_FILES];
	cJSON *trees[MAX_FILES];
	size_t nfiles;
	named_list clusters, users, contexts;
	const char *current_context;
} merged;

/* The parsed files hold tokens, passwords and keys as strings. */
static void wipe_strings(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring)
			gkx__memzero(j->valuestring, strlen(j->valuestring));
		wipe_strings(j->child);
	}
}

static void merged_free(merged *m)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++) {
		free(m->paths[i]);
		wipe_strings(m->trees[i]);
		cJSON_Delete(m->trees[i]);
	}
	free(m->clusters.items);
	free(m->users.items);
	free(m->contexts.items);
}

static const named *named_find(const named_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].name, name))
			return &l->items[i];
	return NULL;
}

static int bool_field(const cJSON *obj, const char *key)
{
	const char *s = gkx__json_str(obj, key, GKX__END);
	return s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"));
}

/* Merge one file's list: within a file a name must be unique; across files
 * the first definition wins whole, as in client-go. */
static int merge_list(named_list *into, const cJSON *tree, const char *key, const char *inner,
                      const char *file, gkx_error *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tree, key), *e;
	size_t first = into->n;

	if (!arr || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return gkx__error_set(err, GKX_ECONFIG, "%s: \"%s\" must be a list", file, key);
	cJSON_ArrayForEach (e, arr) {
		const char *name = gkx__json_str(e, "name", GKX__END);
		const cJSON *body = cJSON_GetObjectItemCaseSensitive(e, inner);
		size_t i;
		int seen = 0;

		if (!cJSON_IsObject(e) || !name || !*name)
			return gkx__error_set(err, GKX_ECONFIG,
			                      "%s: an entry of \"%s\" has no name", file, key);
		if (body && !cJSON_IsObject(body) && !cJSON_IsNull(body))
			return gkx__error_set(err, GKX_ECONFIG,
			                      "%s: %s \"%s\": \"%s\" must be a mapping", file, key,
			                      name, inner);
		for (i = first; i < into->n; i++)
			if (!strcmp(into->items[i].name, name))
				return gkx__error_set(err, GKX_ECONFIG,
				                      "%s: %s \"%s\" is defined twice", file, key,
				                      name);
		for (i = 0; i < first; i++)
			if (!strcmp(into->items[i].name, name))
				seen = 1;
		if (seen)
			continue;
		if (into->n == into->cap) {
			size_t cap = into->cap ? into->cap * 2 : 8;
			named *p = realloc(into->items, cap * sizeof(*p));
			if (!p)
				return gkx__error_oom(err);
			into->items = p;
			into->cap = cap;
		}
		into->items[into->n].name = name;
		into->items[into->n].body = cJSON_IsObject(body) ? body : NULL;
		into->items[into->n].file = file;
		into->n++;
	}
	return 0;
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int load_file(merged *m, const char *path, gkx_error *err)
{
	gkx_buf data = GKX_BUF_INIT;
	cJSON *tree = NULL;
	const char *cc;
	int rc;
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (!strcmp(m->paths[i], path))
			return 0; /* listed twice: the first one counts */
	if (m->nfiles == MAX_FILES)
		return gkx__error_set(err, GKX_ECONFIG, "more than %d kubeconfig files", MAX_FILES);
	rc = gkx__read_file(&data, path, KUBECONFIG_MAX_BYTES, err);
	if (rc < 0)
		return rc == GKX_ETOOBIG
		               ? gkx__error_set(err, GKX_ECONFIG, "%s: larger than %u bytes", path,
		                                KUBECONFIG_MAX_BYTES)
		               : rc;
	rc = gkx__yaml_parse(&tree, data.ptr, data.len, path, err);
	gkx__buf_free_secret(&data);
	if (rc < 0)
		return rc;
	if (!cJSON_IsObject(tree) && !cJSON_IsNull(tree)) {
		cJSON_Delete(tree);
		return gkx__error_set(err, GKX_ECONFIG, "%s: not a kubeconfig (expected a mapping)",
		                      path);
	}
	m->paths[m->nfiles] = gkx__strdup(path);
	m->trees[m->nfiles] = tree;
	if (!m->paths[m->nfiles]) {
		cJSON_Delete(tree);
		return gkx__error_oom(err);
	}
	path = m->paths[m->nfiles];
	m->nfiles++;
	if ((rc = merge_list(&m->clusters, tree, "clusters", "cluster", path, err)) < 0 ||
	    (rc = merge_list(&m->users, tree, "users", "user", path, err)) < 0 ||
	    (rc = merge_list(&m->contexts, tree, "contexts", "context", path, err)) < 0)
		return rc;
	cc = gkx__json_str(tree, "current-context", GKX__END);
	if (!m->current_context && cc && *cc)
		m->current_context = cc;
	return 0;
}

/* Which files, in kubectl's order: --kubeconfig (must exist), else the
 * KUBECONFIG list (empty entries ignored, missing files skipped), else
 * ~/.kube/config when it exists. */
static int load_files(merged *m, const gkx_config_options *o, gkx_error *err)
{
	if (o->kubeconfig && *o->kubeconfig) {
		if (!file_exists(o->kubeconfig))
			return gkx__error_set(err, GKX_ECONFIG, "kubeconfig %s: %s", o->kubeconfig,
			                      strerror(errno));
		return load_file(m, o->kubeconfig, err);
	}
	if (o->kubeconfig_env && *o->kubeconfig_env) {
		const char *p = o->kubeconfig_env;
		while (*p) {
			const char *end = strchr(p, ':');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			if (n) {
				char *path = gkx__strndup(p, n);
				int rc = 0;
				if (!path)
					return gkx__error_oom(err);
				if (file_exists(path))
					rc = load_file(m, path, err);
				free(path);
				if (rc < 0)
					return rc;
			}
			p += n;
			if (*p == ':')
				p++;
		}
		return 0;
	}
	if (o->home && *o->home) {
		gkx_buf path = GKX_BUF_INIT;
		int rc = 0;
		if (gkx__buf_printf(&path, "%s/.kube/config", o->home) < 0)
			return gkx__error_oom(err);
		if (file_exists(path.ptr))
			rc = load_file(m, path.ptr, err);
		gkx__buf_free(&path);
		return rc;
	}
	return 0;
}

/* A path from a kubeconfig is relative to the directory of its file. */
static int resolve_path(gkx_buf *out, const char *file, const char *path)
{
	const char *slash;

	if (path[0] == '/' || !file)
		return gkx__buf_puts(out, path);
	slash = strrchr(file, '/');
	if (!slash)
		return gkx__buf_puts(out, path);
	if (gkx__buf_put(out, file, (size_t)(slash - file + 1)) < 0)
		return GKX_ENOMEM;
	return gkx__buf_puts(out, path);
}

/* Inline "<key>-data" (base64) wins over the file "<key>". */
static int load_material(gkx_buf *out, const named *entry, const char *key, const char *what,
                         gkx_error *err)
{
	char datakey[64];
	const char *data, *path;
	gkx_buf full = GKX_BUF_INIT;
	int rc;

	snprintf(datakey, sizeof(datakey), "%s-data", key);
	data = gkx__json_str(entry->body, datakey, GKX__END);
	if (data && *data) {
		if (gkx__base64_decode(out, data, strlen(data)) < 0)
			return gkx__error_set(err, GKX_ECONFIG,
			                      "%s: %s of \"%s\" is not valid base64", entry->file,
			                      datakey, entry->name);
		return 1;
	}
	path = gkx__json_str(entry->body, key, GKX__END);
	if (!path || !*path)
		return 0;
	if (resolve_path(&full, entry->file, path) < 0)
		return gkx__error_oom(err);
	rc = gkx__read_file(out, full.ptr, KUBECONFIG_MAX_BYTES, err);
	if (rc < 0)
		gkx__error_prefix(err, "%s: %s \"%s\": %s", entry->file, what, entry->name, key);
	gkx__buf_free(&full);
	return rc < 0 ? rc : 1;
}

static int set_str(char **dst, const char *src, gkx_error *err)
{
	free(*dst);
	*dst = gkx__strdup(src ? src : "");
	return *dst ? 0 : gkx__error_oom(err);
}

static int trim_token(char **dst, const char *src, size_t n, gkx_error *err)
{
	while (n && (src[n - 1] == '\n' || src[n - 1] == '\r' || src[n - 1] == ' '))
		n--;
	gkx__free_secret(*dst);
	*dst = gkx__strndup(src, n);
	return *dst ? 0 : gkx__error_oom(err);
}

int gkx__read_token(char **out, const char *path, gkx_error *err)
{
	gkx_buf data = GKX_BUF_INIT;
	int rc = gkx__read_file(&data, path, 1024 * 1024, err);

	if (rc == 0)
		rc = trim_token(out, data.ptr, data.len, err);
	gkx__buf_free_secret(&data);
	return rc;
}

static int resolve_user(gkx_config *cfg, const named *u, gkx_error *err)
{
	const char *token = gkx__json_str(u->body, "token", GKX__END);
	const char *token_file = gkx__json_str(u->body, "tokenFile", GKX__END);
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(u->body, "auth-provider");
	int rc, have_cert, have_key;

	if (cJSON_IsObject(ap)) {
		const char *name = gkx__json_str(ap, "name", GKX__END);
		if (name && !strcmp(name, "gcp"))
			return gkx__error_set(
			        err, GKX_ECONFIG,
			        "%s: user \"%s\" uses the removed auth-provider \"gcp\"; install "
			        "gke-gcloud-auth-plugin and run `gcloud container clusters "
			        "get-credentials` to switch to the exec plugin",
			        u->file, u->name);
		return gkx__error_set(
		        err, GKX_ECONFIG,
		        "%s: user \"%s\": auth-provider \"%s\" is not supported; use an "
		        "exec credential plugin",
		        u->file, u->name, name ? name : "?");
	}
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(u->body, "exec"))) {
		rc = gkx__exec_config_parse(&cfg->exec,
		                            cJSON_GetObjectItemCaseSensitive(u->body, "exec"),
		                            u->file, u->name, err);
		if (rc < 0)
			return rc;
	}
	if ((have_cert = load_material(&cfg->cert, u, "client-certificate", "user", err)) < 0)
		return have_cert;
	if ((have_key = load_material(&cfg->key, u, "client-key", "user", err)) < 0)
		return have_key;
	if (have_cert != have_key)
		return gkx__error_set(err, GKX_ECONFIG,
		                      "%s: user \"%s\" has a client %s but no client %s", u->file,
		                      u->name, have_cert ? "certificate" : "key",
		                      have_cert ? "key" : "certificate");
	if (token && *token) {
		if ((rc = trim_token(&cfg->token, token, strlen(token), err)) < 0)
			return rc;
	} else if (token_file && *token_file) {
		gkx_buf path = GKX_BUF_INIT;
		if (resolve_path(&path, u->file, token_file) < 0)
			return gkx__error_oom(err);
		/* Read now to fail early; the client re-reads it when it changes. */
		rc = gkx__read_token(&cfg->token, path.ptr, err);
		if (rc < 0)
			gkx__error_prefix(err, "%s: user \"%s\": tokenFile", u->file, u->name);
		cfg->token_file = gkx__buf_detach(&path);
		if (rc < 0)
			return rc == GKX_ENOMEM ? rc : GKX_ECONFIG;
	}
	if (gkx__json_str(u->body, "username", GKX__END) &&
	    gkx__json_str(u->body, "password", GKX__END)) {
		if (set_str(&cfg->username, gkx__json_str(u->body, "username", GKX__END), err) <
		            0 ||
		    set_str(&cfg->password, gkx__json_str(u->body, "password", GKX__END), err) < 0)
			return GKX_ENOMEM;
	}
	return 0;
}

static int resolve_cluster(gkx_config *cfg, const named *c, gkx_error *err)
{
	const char *server = gkx__json_str(c->body, "server", GKX__END);
	const char *sni = gkx__json_str(c->body, "tls-server-name", GKX__END);
	int rc;

	if (server && (rc = set_str(&cfg->server, server, err)) < 0)
		return rc;
	if (sni && (rc = set_str(&cfg->tls_server_name, sni, err)) < 0)
		return rc;
	const char *proxy = gkx__json_str(c->body, "proxy-url", GKX__END);
	const cJSON *ext;

	cfg->insecure = bool_field(c->body, "insecure-skip-tls-verify");
	if (proxy && *proxy) {
		if (strncmp(proxy, "http://", 7) && strncmp(proxy, "https://", 8) &&
		    strncmp(proxy, "socks5://", 9))
			return gkx__error_set(err, GKX_ECONFIG,
			                      "%s: cluster \"%s\": proxy-url \"%s\" must use http, "
			                      "https or socks5",
			                      c->file, c->name, proxy);
		if ((rc = set_str(&cfg->proxy_url, proxy, err)) < 0)
			return rc;
	}
	/* The exec plugin's per-cluster config, passed on with provideClusterInfo. */
	cJSON_ArrayForEach (ext, cJSON_GetObjectItemCaseSensitive(c->body, "extensions")) {
		const char *name = gkx__json_str(ext, "name", GKX__END);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(ext, "extension");
		if (name && !strcmp(name, "client.authentication.k8s.io/exec") && e) {
			cJSON_free(cfg->exec_cluster_config);
			cfg->exec_cluster_config = cJSON_PrintUnformatted(e);
		}
	}
	rc = load_material(&cfg->ca, c, "certificate-authority", "cluster", err);
	return rc < 0 ? rc : 0;
}

static int apply_overrides(gkx_config *cfg, const gkx_config_options *o, gkx_error *err)
{
	int rc;

	if (o->server && *o->server && (rc = set_str(&cfg->server, o->server, err)) < 0)
		return rc;
	if (o->token && *o->token) {
		if ((rc = trim_token(&cfg->token, o->token, strlen(o->token), err)) < 0)
			return rc;
		/* A token given on the command line replaces every other credential. */
		gkx__buf_free_secret(&cfg->cert);
		gkx__buf_free_secret(&cfg->key);
		gkx__exec_config_free(cfg->exec);
		cfg->exec = NULL;
		free(cfg->token_file);
		cfg->token_file = NULL;
	}
	if (o->certificate_authority && *o->certificate_authority) {
		gkx__buf_free(&cfg->ca);
		if ((rc = gkx__read_file(&cfg->ca, o->certificate_authority, KUBECONFIG_MAX_BYTES,
		                         err)) < 0)
			return rc;
	}
	if (o->tls_server_name && *o->tls_server_name &&
	    (rc = set_str(&cfg->tls_server_name, o->tls_server_name, err)) < 0)
		return rc;
	if (o->insecure_skip_tls_verify) {
		cfg->insecure = 1;
		/* kubectl drops the file's CA when the flag asks to skip checks. */
		if (!(o->certificate_authority && *o->certificate_authority))
			gkx__buf_free(&cfg->ca);
	}
	if (o->request_timeout_ms > 0)
		cfg->request_timeout_ms = o->request_timeout_ms;
	return 0;
}

static int validate(gkx_config *cfg, gkx_error *err)
{
	size_t n = strlen(cfg->server);

	if (!n)
		return gkx__error_set(
		        err, GKX_ECONFIG,
		        "cluster \"%s\" has no server; set it in the kubeconfig or pass --server",
		        cfg->cluster_name);
	while (n > 1 && cfg->server[n - 1] == '/')
		cfg->server[--n] = '\0';
	if (strncmp(cfg->server, "https://", 8) && strncmp(cfg->server, "http://", 7))
		return gkx__error_set(err, GKX_ECONFIG,
		                      "server \"%s\" must start with https:// (or http://)",
		                      cfg->server);
	if (cfg->insecure && cfg->ca.len)
		return gkx__error_set(
		        err, GKX_ECONFIG,
		        "cluster \"%s\": specifying a root certificates file with the insecure "
		        "flag is not allowed",
		        cfg->cluster_name);
	if (!strncmp(cfg->server, "http://", 7) &&
	    (cfg->token || cfg->password || cfg->key.len || cfg->exec))
		return gkx__error_set(
		        err, GKX_ECONFIG,
		        "refusing to send credentials over plain http to %s; use https",
		        cfg->server);
	return 0;
}

void gkx_config_options_init(gkx_config_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = GKX_CONFIG_OPTIONS_VERSION;
}

void gkx_config_options_from_env(gkx_config_options *opts)
{
	opts->kubeconfig_env = getenv("KUBECONFIG");
	opts->home = getenv("HOME");
	opts->exec_environ = (const char *const *)environ;
	opts->stdin_is_terminal = isatty(STDIN_FILENO);
	opts->incluster_host = getenv("KUBERNETES_SERVICE_HOST");
	opts->incluster_port = getenv("KUBERNETES_SERVICE_PORT");
}

/* A pod's own service account, as client-go's InClusterConfig reads it. */
static int load_in_cluster(gkx_config *cfg, const gkx_config_options *o, gkx_error *err)
{
	const char *dir = o->serviceaccount_dir ? o->serviceaccount_dir
	                                        : "/var/run/secrets/kubernetes.io/serviceaccount";
	gkx_buf path = GKX_BUF_INIT, ns = GKX_BUF_INIT;
	int rc, v6 = strchr(o->incluster_host, ':') != NULL;

	if (gkx__buf_printf(&path, "https://%s%s%s:%s", v6 ? "[" : "", o->incluster_host,
	                    v6 ? "]" : "", o->incluster_port) < 0)
		return gkx__error_oom(err);
	free(cfg->server);
	cfg->server = gkx__buf_detach(&path);
	if ((rc = set_str(&cfg->context, "", err)) < 0 ||
	    (rc = set_str(&cfg->cluster_name, "in-cluster", err)) < 0 ||
	    (rc = set_str(&cfg->user_name, "", err)) < 0)
		return rc;
	if (gkx__buf_printf(&path, "%s/token", dir) < 0)
		return gkx__error_oom(err);
	rc = gkx__read_token(&cfg->token, path.ptr, err);
	if (rc < 0) {
		gkx__error_prefix(err, "in-cluster config (KUBERNETES_SERVICE_HOST is set)");
		gkx__buf_free(&path);
		return GKX_ECONFIG;
	}
	cfg->token_file = gkx__buf_detach(&path);
	if (gkx__buf_printf(&path, "%s/ca.crt", dir) < 0)
		return gkx__error_oom(err);
	rc = gkx__read_file(&cfg->ca, path.ptr, KUBECONFIG_MAX_BYTES, err);
	gkx__buf_free(&path);
	if (rc < 0) {
		gkx__error_prefix(err, "in-cluster config");
		return GKX_ECONFIG;
	}
	if (gkx__buf_printf(&path, "%s/namespace", dir) < 0)
		return gkx__error_oom(err);
	if (gkx__read_file(&ns, path.ptr, 4096, NULL) == 0 && ns.len) {
		size_t n = ns.len;
		while (n && (ns.ptr[n - 1] == '\n' || ns.ptr[n - 1] == ' '))
			n--;
		ns.ptr[n] = '\0';
		if (n)
			rc = set_str(&cfg->ns, ns.ptr, err);
	}
	gkx__buf_free(&path);
	gkx__buf_free(&ns);
	return rc;
}

static int copy_environ(gkx_config *cfg, const char *const *env, gkx_error *err)
{
	size_t n = 0, i;

	if (!env)
		return 0;
	while (env[n])
		n++;
	cfg->environ = calloc(n + 1, sizeof(*cfg->environ));
	if (!cfg->environ)
		return gkx__error_oom(err);
	for (i = 0; i < n; i++)
		if (!(cfg->environ[i] = gkx__strdup(env[i])))
			return gkx__error_oom(err);
	return 0;
}

/* How much of gkx_config_options each version had. */
static const size_t config_options_size[] = { 0, sizeof(gkx_config_options) };

int gkx_config_load(gkx_config **out, const gkx_config_options *caller, gkx_error *err)
{
	gkx_config_options opts;
	const gkx_config_options *o = &opts;
	merged m;
	gkx_config *cfg;
	const named *ctx = NULL, *cl, *us;
	const char *ctx_name, *cl_name = "", *us_name = "", *ns = NULL;
	int rc;

	gkx_error_clear(err);
	*out = NULL;
	if ((rc = gkx__check_version(caller, GKX_CONFIG_OPTIONS_VERSION, "gkx_config_options",
	                             err)) < 0)
		return rc;
	gkx__copy_versioned(&opts, sizeof(opts), caller, config_options_size[caller->version]);
	memset(&m, 0, sizeof(m));
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return gkx__error_oom(err);
	if ((rc = load_files(&m, o, err)) < 0)
		goto fail;

	ctx_name = (o->context && *o->context) ? o->context : m.current_context;
	if (ctx_name) {
		ctx = named_find(&m.contexts, ctx_name);
		if (!ctx) {
			rc = gkx__error_set(err, GKX_ECONFIG, "context \"%s\" not found in %s%s",
			                    ctx_name, m.nfiles ? m.paths[0] : "any kubeconfig",
			                    m.nfiles > 1 ? " and the other KUBECONFIG files" : "");
			goto fail;
		}
		cl_name = gkx__json_str(ctx->body, "cluster", GKX__END);
		us_name = gkx__json_str(ctx->body, "user", GKX__END);
		ns = gkx__json_str(ctx->body, "namespace", GKX__END);
	} else if (m.nfiles == 0 && !(o->server && *o->server) && o->incluster_host &&
	           *o->incluster_host && o->incluster_port && *o->incluster_port) {
		if ((rc = set_str(&cfg->ns, o->ns && *o->ns ? o->ns : "default", err)) < 0 ||
		    (rc = load_in_cluster(cfg, o, err)) < 0 ||
		    (rc = apply_overrides(cfg, o, err)) < 0 ||
		    (rc = copy_environ(cfg, o->exec_environ, err)) < 0 ||
		    (rc = validate(cfg, err)) < 0)
			goto fail;
		if (o->ns && *o->ns && (rc = set_str(&cfg->ns, o->ns, err)) < 0)
			goto fail;
		merged_free(&m);
		*out = cfg;
		return 0;
	} else if (!(o->server && *o->server)) {
		if (m.nfiles == 0) {
			rc = gkx__error_set(
			        err, GKX_ECONFIG,
			        "no kubeconfig found: pass --kubeconfig, set KUBECONFIG or create "
			        "~/.kube/config (for example with your cloud's get-credentials)");
			/* So that a caller can tell "none at all" (it may still
			 * render offline) from a kubeconfig that is wrong. */
			if (err)
				snprintf(err->reason, sizeof(err->reason), "%s",
				         GKX_REASON_NO_KUBECONFIG);
		} else
			rc = gkx__error_set(
			        err, GKX_ECONFIG,
			        "%s: no current context; pass --context or run `kubectl config "
			        "use-context NAME`",
			        m.paths[0]);
		goto fail;
	}
	if (o->cluster && *o->cluster)
		cl_name = o->cluster;
	if (o->user && *o->user)
		us_name = o->user;
	if (o->ns && *o->ns)
		ns = o->ns;
	if ((rc = set_str(&cfg->context, ctx_name, err)) < 0 ||
	    (rc = set_str(&cfg->cluster_name, cl_name, err)) < 0 ||
	    (rc = set_str(&cfg->user_name, us_name, err)) < 0 ||
	    (rc = set_str(&cfg->ns, ns && *ns ? ns : "default", err)) < 0 ||
	    (rc = set_str(&cfg->server, "", err)) < 0)
		goto fail;

	if (cl_name && *cl_name) {
		cl = named_find(&m.clusters, cl_name);
		if (!cl) {
			rc = gkx__error_set(
			        err, GKX_ECONFIG,
			        "cluster \"%s\" (of context \"%s\") not found in the kubeconfig",
			        cl_name, ctx_name ? ctx_name : "");
			goto fail;
		}
		if (cl->body && (rc = resolve_cluster(cfg, cl, err)) < 0)
			goto fail;
	}
	if (us_name && *us_name) {
		us = named_find(&m.users, us_name);
		if (!us) {
			rc = gkx__error_set(
			        err, GKX_ECONFIG,
			        "user \"%s\" (of context \"%s\") not found in the kubeconfig",
			        us_name, ctx_name ? ctx_name : "");
			goto fail;
		}
		if (us->body && (rc = resolve_user(cfg, us, err)) < 0)
			goto fail;
	}
	if ((rc = apply_overrides(cfg, o, err)) < 0 || (rc = validate(cfg, err)) < 0 ||
	    (rc = copy_environ(cfg, o->exec_environ, err)) < 0)
		goto fail;
	cfg->stdin_is_terminal = o->stdin_is_terminal;
	merged_free(&m);
	*out = cfg;
	return 0;
fail:
	merged_free(&m);
	gkx_config_free(cfg);
	return rc;
}

void gkx_config_free(gkx_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->server);
	free(cfg->ns);
	free(cfg->context);
	free(cfg->cluster_name);
	free(cfg->user_name);
	free(cfg->tls_server_name);
	gkx__buf_free(&cfg->ca);
	gkx__buf_free(&cfg->cert);
	gkx__buf_free_secret(&cfg->key);
	gkx__free_secret(cfg->token);
	gkx__free_secret(cfg->username);
	gkx__free_secret(cfg->password);
	free(cfg->token_file);
	free(cfg->proxy_url);
	gkx__exec_config_free(cfg->exec);
	cJSON_free(cfg->exec_cluster_config);
	if (cfg->environ) {
		size_t i;
		for (i = 0; cfg->environ[i]; i++)
			gkx__free_secret(cfg->environ[i]);
		free(cfg->environ);
	}
	free(cfg);
}

const char *gkx_config_server(const gkx_config *cfg) { return cfg->server; }
const char *gkx_config_namespace(const gkx_config *cfg) { return cfg->ns; }
const char *gkx_config_context(const gkx_config *cfg) { return cfg->context; }
