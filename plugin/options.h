/* Command-line options of kubectl-sandbox_run, parsed in kubectl's style. */
#ifndef SANDBOX_RUN_OPTIONS_H
#define SANDBOX_RUN_OPTIONS_H

#include <stddef.h>

#define EXIT_TOOL_FAILED 125
#define EXIT_TIMED_OUT   124

typedef struct {
	const char *kubeconfig, *context, *cluster, *user, *ns;
	const char *server, *token, *certificate_authority, *tls_server_name;
	int insecure_skip_tls_verify;
	long request_timeout_ms;
	const char *image, *cpu, *memory, *runtime_class, *network;
	long timeout_s;
	const char **env;
	size_t nenv;
	const char **files;
	size_t nfiles; /* -f/--file: extra files beside the script */
	const char *workdir;
	long start_timeout_s;
	long limit_bytes;
	const char *file; /* the script, or "-" for stdin */
	const char **args;
	size_t nargs;
	const char *dry_run; /* "client" or NULL */
	const char *output;  /* "json", "yaml" or NULL */
	int keep, quiet, verbosity, help, version;
	int cold;                /* never use a parked sandbox */
	const char *pool_action; /* `pool create|status|delete`, "" for `pool` alone, else NULL */
	long size;               /* pool create: parked sandboxes wanted */
	long ttl_s;              /* pool create: a parked sandbox's life */
	int all;                 /* pool delete: every pool in the namespace */
	int wait;                /* pool create: until they are parked (-1: unset) */
} options;

/* Returns 0, or prints a message naming the bad flag and returns the exit
 * status to use. The arrays point into argv. */
int options_parse(options *o, int argc, char **argv);
void options_free(options *o);
void options_usage(void);
/* The help of `pool` (action ""), of `pool create|status|delete`, and of
 * `completion`. */
void options_usage_pool(const char *action);
void options_usage_completion(void);
/* Print a completion script for bash or zsh; 0, or the exit status. */
int options_completion(const char *shell);

#endif
