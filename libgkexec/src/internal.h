/* Internal declarations shared by the library's modules. Not API. */
#ifndef GKEXEC_INTERNAL_H
#define GKEXEC_INTERNAL_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "gkexec/gkexec.h"

#if defined(__GNUC__)
#define GKX__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GKX__PRINTF(f, a)
#endif

/* ---- buf.c: a growable byte buffer, always NUL-terminated ---- */
typedef struct gkx_buf {
	char *ptr;
	size_t len;
	size_t cap;
} gkx_buf;

#define GKX_BUF_INIT       \
	{                  \
		NULL, 0, 0 \
	}

int gkx__buf_put(gkx_buf *b, const void *data, size_t len);
int gkx__buf_puts(gkx_buf *b, const char *s);
int gkx__buf_printf(gkx_buf *b, const char *fmt, ...) GKX__PRINTF(2, 3);
/* Drop the first n bytes. */
void gkx__buf_consume(gkx_buf *b, size_t n);
void gkx__buf_free(gkx_buf *b);
/* Take the bytes out of the buffer, which is left empty; NULL if none. */
char *gkx__buf_detach(gkx_buf *b);
/* Zero the bytes before freeing: for buffers that held a secret. */
void gkx__buf_free_secret(gkx_buf *b);
void gkx__memzero(void *p, size_t n);
char *gkx__strdup(const char *s);
char *gkx__strndup(const char *s, size_t n);
void gkx__free_secret(char *s);
/* Free a NULL-terminated array of strings and the array; accepts NULL. */
void gkx__strv_free(char **v);

/* Read a whole file, at most `limit` bytes, else GKX_ETOOBIG. */
int gkx__read_file(gkx_buf *out, const char *path, size_t limit, gkx_error *err);

/* ---- error.c ---- */
int gkx__error_set(gkx_error *err, int code, const char *fmt, ...) GKX__PRINTF(3, 4);
/* Prefix an existing message ("<prefix>: <old message>"). */
void gkx__error_prefix(gkx_error *err, const char *fmt, ...) GKX__PRINTF(2, 3);
int gkx__error_oom(gkx_error *err);

/* ---- base64.c ---- */
int gkx__base64_decode(gkx_buf *out, const char *in, size_t len);
int gkx__base64_encode(gkx_buf *out, const unsigned char *in, size_t len);

/* ---- yaml.c: YAML <-> cJSON, bounded ---- */
#define GKX_YAML_MAX_DEPTH 64
#define GKX_YAML_MAX_NODES 100000
/* Parse one YAML (or JSON) document into a cJSON tree. `what` names the input
 * in error messages (a file name). Refuses aliases, excess depth and size. */
int gkx__yaml_parse(cJSON **out, const char *data, size_t len, const char *what, gkx_error *err);
/* Emit a cJSON tree as a YAML document. */
int gkx__yaml_emit(gkx_buf *out, const cJSON *json, gkx_error *err);

/* ---- exec_credential.c: client.authentication.k8s.io exec plugins ---- */
enum { GKX_INTERACTIVE_NEVER, GKX_INTERACTIVE_IFAVAILABLE, GKX_INTERACTIVE_ALWAYS };

typedef struct gkx_exec_config {
	char *api_version;
	char *command;      /* resolved against the kubeconfig's directory when it has a '/' */
	char **args;        /* NULL-terminated */
	char **env;         /* "NAME=VALUE", NULL-terminated */
	char *install_hint; /* terminal escape sequences already stripped */
	char *user, *file;  /* for messages */
	int provide_cluster_info;
	int interactive_mode;
} gkx_exec_config;

typedef struct gkx_exec_cred {
	char *token;       /* a secret */
	gkx_buf cert, key; /* PEM; the key is a secret */
	double expiry;     /* seconds since the epoch; 0: never */
} gkx_exec_cred;

#define GKX_EXEC_MAX_OUTPUT (1024u * 1024u)

int gkx__exec_config_parse(gkx_exec_config **out, const cJSON *exec, const char *file,
                           const char *user, gkx_error *err);
void gkx__exec_config_free(gkx_exec_config *ec);
/* Parse an ExecCredential a plugin printed; pure, for tests and fuzzing. */
int gkx__exec_credential_parse(gkx_exec_cred *out, const char *json, size_t len,
                               const char *api_version, gkx_error *err);
void gkx__exec_cred_clear(gkx_exec_cred *c);
/* Run the plugin and parse what it prints. */
int gkx__exec_get(gkx_exec_cred *out, const gkx_config *cfg, gkx_error *err);
/* RFC 3339 time to seconds since the epoch. */
int gkx__parse_time(const char *s, double *out);
/* Copy of s without terminal escape sequences and control characters. */
char *gkx__strip_control(const char *s);

/* ---- config: the resolved view the client uses ---- */
struct gkx_config {
	char *server; /* https://host:port, no trailing slash */
	char *ns;
	char *context;
	char *cluster_name;
	char *user_name;
	gkx_buf ca, cert, key; /* PEM; key is a secret */
	char *tls_server_name;
	int insecure;
	char *token;               /* secret */
	char *username, *password; /* basic auth; secrets */
	char *token_file;          /* re-read when it changes (tokenFile, in-cluster) */
	char *proxy_url;
	long request_timeout_ms;
	gkx_exec_config *exec;
	char *exec_cluster_config; /* the cluster's client.authentication.k8s.io/exec extension, JSON */
	char **environ;            /* for exec plugins; NULL-terminated, or NULL */
	int stdin_is_terminal;
};

/* Read a token file into *out (replacing it), trailing newlines and spaces
 * dropped; *out is a secret, freed with gkx__free_secret. */
int gkx__read_token(char **out, const char *path, gkx_error *err);

/* ---- api.c: REST helpers over the transport ---- */
struct gkx_client {
	const gkx_config *cfg;
	const gkx_transport *tp;
	void *tp_state;
	gkx_tls tls;
	char *authorization; /* "Bearer ..." or "Basic ..."; a secret */
	gkx_exec_cred cred;  /* from the exec plugin, when there is one */
	int have_cred;
	char *file_token; /* from token_file */
	long token_mtime_ns;
	const volatile sig_atomic_t *cancel; /* borrowed from the current run */
	unsigned requests;                   /* sent, retries included */
	gkx_trace_cb trace;
	void *trace_ud;
	int last_attempts; /* how many tries the last gkx__api_call made */
};

/* Append the path for a namespaced collection or object, escaping each part:
 * /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]] ("batch/v1" groups under /apis). */
int gkx__api_path(gkx_buf *out, const char *group_version, const char *ns, const char *resource,
                  const char *name, const char *sub);
/* Append "&key=value" (or "?" first) with the value escaped. */
int gkx__api_query(gkx_buf *url, const char *key, const char *value);

/* Turn a non-2xx answer into err: the Status message when the body is one. */
int gkx__api_status_error(gkx_error *err, long http_status, const char *body, size_t len,
                          const char *what);

/* A complete request: method, path-with-query, optional JSON body. The body
 * of the answer lands in `resp` (may be NULL). */
int gkx__api_call(gkx_client *c, const char *method, const char *path_query,
                  const char *content_type, const char *body, gkx_buf *resp, const char *what,
                  gkx_error *err);

/* Seconds on the monotonic clock. */
double gkx__mono_now(void);

/* Start a request through the transport, counting it; and report its end
 * (done or cancelled) to the trace callback. */
int gkx__api_start(gkx_client *c, gkx_http_request *req);
void gkx__api_finished(gkx_client *c, const gkx_http_request *req, int cancelled);

/* Wait about `ms` while the transport keeps other streams going. */
int gkx__api_pause(gkx_client *c, long ms);

/* Start a streaming GET (watch, logs) without waiting for it. */
int gkx__api_stream_start(gkx_client *c, gkx_http_request *req, gkx_buf *url,
                          const char *path_query, gkx_data_cb cb, void *ud, gkx_error *err);

/* ---- watch.c: newline-delimited JSON events ---- */
#define GKX_WATCH_MAX_EVENT (4u * 1024u * 1024u)
typedef int (*gkx_event_fn)(const char *type, cJSON *object, void *ud);
typedef struct gkx_watch_splitter {
	gkx_buf pending;
	gkx_event_fn fn;
	void *ud;
	int error; /* first failure, sticky */
} gkx_watch_splitter;
/* Feed bytes; complete lines become events. Returns 0 or a GKX_E* code. */
int gkx__watch_feed(gkx_watch_splitter *w, const char *data, size_t len);
void gkx__watch_reset(gkx_watch_splitter *w);

/* ---- log_stream.c: the kubelet's log read with timestamps=true ---- */
#define GKX_LOG_SPLIT 16384 /* containerd's max_container_log_line_size */
#define GKX_LOG_HOLD  4096  /* the end of an open line kept back; > any node error */
typedef struct gkx_log_parser {
	int state;
	char ts[40];
	size_t tslen;
	size_t reclen;   /* content bytes of the current record (or part) */
	size_t split;    /* the part size; 0: GKX_LOG_SPLIT */
	gkx_buf held;    /* content of a record whose end is not known yet */
	gkx_buf foreign; /* the start of text that is not a record: the node's */
} gkx_log_parser;
/* Feed a body; the container's bytes go to `out` (which returns non-zero
 * to stop: then 1 is returned). GKX_ENOMEM on failure. */
int gkx__log_parse(gkx_log_parser *p, const char *data, size_t len, gkx_data_cb out, void *ud);
/* The body ended cleanly: 1 when text that was not the container's came
 * (see gkx__log_parser_foreign), else 0. The end of an unfinished last line
 * stays held. */
int gkx__log_parse_end(gkx_log_parser *p);
/* Hand over what is held; `removed`: the container was removed (its pod
 * deleted), so a gRPC error at the end is the node's and is cut off.
 * Returns 1 when `out` refused, GKX_ENOMEM, or 0. */
int gkx__log_parse_flush(gkx_log_parser *p, int removed, gkx_data_cb out, void *ud);
/* Text that was not the container's arrived (p->foreign holds its start). */
int gkx__log_parser_foreign(const gkx_log_parser *p);
/* Start over (a new request); frees the buffers, keeps nothing. */
void gkx__log_parser_reset(gkx_log_parser *p);
/* An RFC 3339 time as the kubelet writes it. */
int gkx__log_valid_time(const char *s, size_t n);

/* ---- manifest.c: pure request builders ---- */
typedef struct gkx_manifest_spec {
	const char *name;
	const char *ns;
	const char *image;
	const char *script_name;
	const char *const *command;
	size_t ncommand;
	const char *const *env;
	size_t nenv; /* KEY=VALUE */
	const char *cpu_limit, *cpu_request;
	const char *memory_limit, *memory_request;
	long timeout_s, ttl_s;
	const char *runtime_class;
	const char *workdir; /* NULL: /app */
	const char *job_uid; /* for the ConfigMap's ownerReference, or NULL */
} gkx_manifest_spec;

/* The NetworkPolicy of --network=none: it selects the run's pod and allows
 * no traffic either way; owned by the Job when job_uid is set. */
cJSON *gkx__manifest_network_policy(const gkx_manifest_spec *spec);

cJSON *gkx__manifest_job(const gkx_manifest_spec *spec);
/* files[0] is the script. */
cJSON *gkx__manifest_configmap(const gkx_manifest_spec *spec, const gkx_file *files, size_t nfiles);
/* The default command for a script name: python3 for .py, sh for .sh, ... */
int gkx__manifest_command(const char *script_name, const char ***argv, size_t *argc);
/* A "request" for a limit: a quarter of it, at least the unit's minimum. */
int gkx__manifest_request_for(char *out, size_t outlen, const char *limit, int is_memory);
int gkx__manifest_valid_quantity(const char *q);
int gkx__manifest_valid_file_name(const char *name);

/* ---- random.c ---- */
int gkx__random_suffix(char *out, size_t n, gkx_error *err);

#endif
