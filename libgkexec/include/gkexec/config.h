#ifndef GKEXEC_CONFIG_H
#define GKEXEC_CONFIG_H

#include <gkexec/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Where to look for kubeconfig files and what to override, in kubectl's
 * terms. Every field is optional (NULL or 0 means "not given"); the strings
 * are borrowed only for the duration of gkx_config_load().
 */
typedef struct gkx_config_options {
	unsigned int version;              /**< GKX_CONFIG_OPTIONS_VERSION */
	const char *kubeconfig;            /**< --kubeconfig: one file, which must exist */
	const char *kubeconfig_env;        /**< the value of KUBECONFIG: a ':'-separated list */
	const char *home;                  /**< home directory, for ~/.kube/config */
	const char *context;               /**< --context */
	const char *cluster;               /**< --cluster */
	const char *user;                  /**< --user */
	const char *ns;                    /**< -n/--namespace */
	const char *server;                /**< --server */
	const char *token;                 /**< --token */
	const char *certificate_authority; /**< --certificate-authority */
	const char *tls_server_name;       /**< --tls-server-name */
	int insecure_skip_tls_verify;      /**< --insecure-skip-tls-verify */
	long request_timeout_ms;           /**< --request-timeout; 0: none */
	/** The environment an exec credential plugin inherits ("NAME=VALUE",
	 * NULL-terminated), as kubectl passes its own; NULL: only the plugin's
	 * `env` entries and KUBERNETES_EXEC_INFO. */
	const char *const *exec_environ;
	int stdin_is_terminal;      /**< for exec plugins' interactiveMode */
	const char *incluster_host; /**< KUBERNETES_SERVICE_HOST */
	const char *incluster_port; /**< KUBERNETES_SERVICE_PORT */
	const char
	        *serviceaccount_dir; /**< default /var/run/secrets/kubernetes.io/serviceaccount */
} gkx_config_options;

#define GKX_CONFIG_OPTIONS_VERSION 1
/** Every member spelled out (no -Wmissing-field-initializers warning), all
 * "not given", and the current version. gkx_config_options_init() does the
 * same at run time. */
#define GKX_CONFIG_OPTIONS_INIT                                                                   \
	{                                                                                         \
		GKX_CONFIG_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
		        NULL, NULL, 0, 0, NULL, 0, NULL, NULL, NULL                               \
	}

/** Fill `opts` with zeroes and the current version. A program built
 * against an older header may pass its older struct: the library reads
 * only what that version had. A newer version is refused (GKX_EINVAL). */
GKX_API void gkx_config_options_init(gkx_config_options *opts);

/**
 * Fill what kubectl takes from its process: opts->kubeconfig_env (KUBECONFIG),
 * opts->home (HOME), opts->exec_environ (the whole environment, for exec plugins),
 * opts->stdin_is_terminal, and the in-cluster service host and port. The
 * pointers borrow the environment's strings.
 */
GKX_API void gkx_config_options_from_env(gkx_config_options *opts);

/**
 * A resolved, immutable client configuration: one server, its TLS material
 * (in memory), one set of credentials and a namespace. A loaded config may
 * be shared by several clients and threads.
 */
typedef struct gkx_config gkx_config;

/**
 * Load and merge kubeconfig files as kubectl does, then apply the overrides.
 * With no kubeconfig file at all and the in-cluster host and port set, use
 * the pod's service account (token, CA and namespace files).
 * On success *out is yours to release with gkx_config_free(). Fails with
 * GKX_ECONFIG (a message names the file, and for YAML errors the line and
 * column), GKX_EIO or GKX_ENOMEM.
 */
GKX_API int gkx_config_load(gkx_config **out, const gkx_config_options *opts, gkx_error *err);

/** The gkx_error reason of gkx_config_load() when there is no kubeconfig
 * at all (no file, no in-cluster service account): a caller may still
 * render manifests offline (gkx_run_new() with no client). */
#define GKX_REASON_NO_KUBECONFIG "NoKubeconfig"

/** Release a config. Accepts NULL. */
GKX_API void gkx_config_free(gkx_config *cfg);

/** Borrowed getters. Never NULL for a loaded config, "" when unknown. */
GKX_API const char *gkx_config_server(const gkx_config *cfg);
GKX_API const char *gkx_config_namespace(const gkx_config *cfg);
GKX_API const char *gkx_config_context(const gkx_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
