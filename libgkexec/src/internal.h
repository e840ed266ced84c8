/* Internal declarations shared by the library's modules. Not API. */
#ifndef GKEXEC_INTERNAL_H
#define GKEXEC_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "gkexec/gkexec.h"
#include "gkexec/sys/transport.h"

#if defined(__GNUC__)
#define GKX__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GKX__PRINTF(f, a)
#endif

/* Builders that add to a cJSON tree: cJSON's Add* helpers return NULL on
 * failure, and then the whole builder fails at its `fail:` label. */
#define GKX__OK(x)                 \
	do {                       \
		if (!(x))          \
			goto fail; \
	} while (0)

/* ---- json.c: reading cJSON trees ---- */
/* The node at a path of object keys ending in GKX__END (a typed NULL, as a
 * variadic sentinel must be), e.g.
 * gkx__json_at(pod, "status", "containerStatuses", GKX__END); NULL if absent. */
#define GKX__END ((const char *)0)
const cJSON *gkx__json_at(const cJSON *j, ...);
/* The string at such a path, or NULL when absent or not a string. */
const char *gkx__json_str(const cJSON *j, ...);

/* ---- a cancel flag ---- */
/* Set by gkx_run_cancel() and its kin from another thread or a signal
 * handler, read by the thread that runs. A lock-free atomic int is the one
 * type both allow (C11 7.14.1.1 for handlers; a volatile sig_atomic_t
 * shared between threads is a data race), as libuv's handles use. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a cancel flag must be a lock-free atomic int");
typedef atomic_int gkx__flag;

/* 1 when f is set; NULL is never set. */
static inline int gkx__flag_test(gkx__flag *f) { return f && atomic_load(f) != 0; }

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
/* Options structs and function tables start with their version. Accept
 * every version from 1 to `current`; refuse 0 ("not initialised") and a
 * newer one (the program was built against a newer libgkexec), saying so.
 * Then copy what that version had into a current struct, zeroing the rest:
 * the library never reads past the end of an older caller's struct. */
int gkx__check_version(const void *versioned, unsigned current, const char *name, gkx_error *err);
void gkx__copy_versioned(void *dst, size_t dst_size, const void *src, size_t src_size);
/* A call succeeded: whatever failure it handled on the way is nobody's
 * error now. Clears err and returns 0. */
int gkx__error_clear_ok(gkx_error *err);

/* ---- output.c: output kept for a result, and bytes as JSON text ---- */
/* The last `cap` bytes put (a ring once full); nothing when cap is 0. Put
 * never fails: bytes it cannot keep set `dropped`, which the result says. */
typedef struct gkx__capture {
	char *ptr;
	size_t cap, size, len; /* the most kept; allocated; kept */
	size_t head;           /* once full: the oldest byte, where the next goes */
	int dropped;
} gkx__capture;
void gkx__capture_init(gkx__capture *c, size_t cap);
void gkx__capture_put(gkx__capture *c, const char *data, size_t len);
/* The kept bytes in order, appended to out; after a drop, from the first
 * character boundary of the first 4 bytes. */
int gkx__capture_bytes(const gkx__capture *c, gkx_buf *out);
void gkx__capture_free(gkx__capture *c);
/* UTF-8 text of any bytes: each NUL and each ill-formed sequence (maximal
 * subpart) becomes U+FFFD. 0 when nothing was replaced, 1 when something
 * was, or GKX_ENOMEM. */
int gkx__utf8_text(gkx_buf *out, const char *data, size_t len);
/* obj[name] = those bytes as text; obj[b64_name] = null when the text is
 * the bytes, else the bytes in base64. 0 or GKX_ENOMEM. */
int gkx__json_add_bytes(cJSON *obj, const char *name, const char *b64_name, const char *data,
                        size_t len);

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
/* A request's (and a credential plugin's) time when --request-timeout is 0. */
#define GKX_DEFAULT_REQUEST_TIMEOUT_MS 30000L

int gkx__exec_config_parse(gkx_exec_config **out, const cJSON *exec, const char *file,
                           const char *user, gkx_error *err);
void gkx__exec_config_free(gkx_exec_config *ec);
/* Parse an ExecCredential a plugin printed; pure, for tests and fuzzing. */
int gkx__exec_credential_parse(gkx_exec_cred *out, const char *json, size_t len,
                               const char *api_version, gkx_error *err);
void gkx__exec_cred_clear(gkx_exec_cred *c);
/* What bounds a plugin besides the config's request timeout: the run it
 * serves. */
typedef struct gkx__exec_limits {
	double deadline;   /* gkx__mono_now() time never to wait past; 0: none */
	gkx__flag *cancel; /* set: stop at once; may be NULL */
} gkx__exec_limits;
/* Run the plugin (exec_plugin.c) and parse what it prints. A plugin that
 * does not answer in time is ended, with what it started: GKX_ETIMEOUT,
 * or GKX_ECANCELED after a cancel. `lim` may be NULL. */
int gkx__exec_get(gkx_exec_cred *out, const gkx_config *cfg, const gkx__exec_limits *lim,
                  gkx_error *err);
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
	const gkx_transport *tp; /* &tp_table */
	gkx_transport tp_table;  /* the caller's table, copied by its version */
	void *tp_state;
	gkx_tls tls;
	char *authorization; /* "Bearer ..." or "Basic ..."; a secret */
	gkx_exec_cred cred;  /* from the exec plugin, when there is one */
	int have_cred;
	char *file_token; /* from token_file */
	long token_mtime_ns;
	gkx__flag *cancel; /* borrowed from the current run */
	/* The latest deadline (gkx__mono_now() time) of the runs going on
	 * this client, 0 when none: a credential plugin is not waited for
	 * past it. */
	double run_deadline;
	unsigned requests; /* sent, retries included */
	gkx_trace_cb trace;
	void *trace_ud;
	int last_attempts; /* how many tries the last gkx__api_call made */
	int exec_refused;  /* pods/exec was forbidden: runs start their code themselves */
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

/* What a request may be sent again after: every request says which. */
typedef enum {
	/* Sending it twice does what sending it once does: reads, deletes,
	 * and creates of client-chosen names (the caller reads back its own
	 * object after a 409 on a retry). Retried on 5xx, 429 and a lost
	 * answer. */
	GKX__RETRY_IDEMPOTENT,
	/* Not idempotent (a claim: its 409 on a retry would hide its own
	 * success): only a 429 or a 401, which the server answers before
	 * acting, is sent again. After any other failure the caller finds out
	 * by reading back what the server holds. */
	GKX__RETRY_NEVER
} gkx__retry;

/* A complete request: method, path-with-query, optional JSON body. The body
 * of the answer lands in `resp` (may be NULL). */
int gkx__api_send(gkx_client *c, gkx__retry policy, const char *method, const char *path_query,
                  const char *content_type, const char *body, gkx_buf *resp, const char *what,
                  gkx_error *err);
/* gkx__api_send of an idempotent request. */
int gkx__api_call(gkx_client *c, const char *method, const char *path_query,
                  const char *content_type, const char *body, gkx_buf *resp, const char *what,
                  gkx_error *err);

/* POST one object (freed here) into ns; *answer (may be NULL) gets the
 * server's copy. A 409 after a retried POST is our own first attempt, so
 * the object, named `name`, is read back. */
int gkx__object_create(gkx_client *c, const char *ns, const char *name, const char *gv,
                       const char *resource, cJSON *obj, const char *what, cJSON **answer,
                       gkx_error *err);
/* DELETE one object by name; gone already counts as done. A Job's pod goes
 * with it (propagationPolicy=Background). err NULL: not described. */
int gkx__object_delete(gkx_client *c, const char *ns, const char *name, const char *gv,
                       const char *resource, const char *what, gkx_error *err);

/* Seconds on the monotonic clock. */
double gkx__mono_now(void);

/* A request as the library keeps it: what the transport sees (first), then
 * the library's own accounting, which no transport ever touches. */
typedef struct gkx__request {
	gkx_http_request http;
	size_t bytes;   /* body bytes, or message bytes, received */
	double started; /* when it was started (monotonic seconds) */
	gkx_data_cb cb; /* the caller's readers, behind the counting ones */
	gkx_message_cb mcb;
	void *ud;
} gkx__request;

/* Start a request through the transport, counting it; and report its end
 * (done or cancelled) to the trace callback. */
int gkx__api_start(gkx_client *c, gkx__request *req);
void gkx__api_finished(gkx_client *c, const gkx__request *req, int cancelled);

/* Wait about `ms` while the transport keeps other streams going. */
int gkx__api_pause(gkx_client *c, long ms);

/* Start a streaming GET (watch, logs) without waiting for it. */
int gkx__api_stream_start(gkx_client *c, gkx__request *req, gkx_buf *url, const char *path_query,
                          gkx_data_cb cb, void *ud, gkx_error *err);

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

/* ---- pod_status.c: why a pod ended, as its status says ---- */
typedef struct gkx__pod_end {
	/* The pod's own reason when it has one (the kubelet's "Evicted",
	 * "DeadlineExceeded", ...), else the container's terminated reason
	 * ("OOMKilled", "Error", "Completed"); "" when neither says. */
	char reason[64];
	char message[512]; /* the same one's message, trailing blanks dropped */
	int exit_code;     /* the container's, -1 while it has not terminated */
	int container_ended;
	int pod_failed; /* status.phase is Failed */
	int from_pod;   /* reason and message are the pod's, not the container's */
} gkx__pod_end;
/* Read a pod object (a watch event's, or a GET's): 1 when the container
 * has terminated or the pod has failed (evicted pods may show neither
 * container state nor exit code), else 0. Pure; never fails. */
int gkx__pod_end_read(const cJSON *pod, gkx__pod_end *out);

/* ---- manifest.c: pure request builders ---- */
typedef struct gkx_manifest_spec {
	const char *name;
	const char *ns;
	const char *image;
	const char *script_name;
	const char *interpreter; /* runs /app/<script_name> */
	const char *const *args;
	size_t nargs; /* after the script's path */
	const char *const *env;
	size_t nenv; /* KEY=VALUE */
	const char *cpu_limit, *cpu_request;
	const char *memory_limit, *memory_request;
	long timeout_s, ttl_s;
	const char *runtime_class;
	const char *workdir;    /* NULL: /app */
	const char *job_uid;    /* for the ConfigMap's ownerReference, or NULL */
	const char *end_marker; /* the wrapper prints this and the exit status last */
	/* A parked sandbox (pool.c): a Job whose pod waits, with an empty
	 * writable /app, until a run claims it and execs its code in. */
	const char *pool; /* the pool's shape label; NULL: a Job of one run */
	long pool_ttl_s;  /* the pod's own deadline: it expires by itself */
	int gate;         /* also mount the ConfigMap named like the Job (see pool.c) */
	/* A run whose code the client sends and starts over pods/exec once
	 * the container runs (run_exec.c): the container only waits, with an
	 * empty writable /app as a parked pod's. */
	int exec_delivery;
} gkx_manifest_spec;

/* Labels every object of the tool carries, and the pool's. */
#define GKX_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define GKX_TOOL_NAME        "kubectl-sandbox-run"
#define GKX_LABEL_RUN        "sandbox-run.gkexec.dev/run"
#define GKX_LABEL_POOL       "sandbox-run.gkexec.dev/pool"
#define GKX_LABEL_STATE      "sandbox-run.gkexec.dev/state"
#define GKX_LABEL_CLAIMED_BY "sandbox-run.gkexec.dev/claimed-by"
#define GKX_STATE_PARKED     "parked"
#define GKX_STATE_CLAIMED    "claimed"
#define GKX_STATE_RETIRED    "retired" /* a pool delete took it out of the pool */
/* What a parked pod runs until it expires, and how runs exec into it. */
#define GKX_PARK_COMMAND "exec sleep 2147483647"

/* The NetworkPolicy of --network=none: it selects the run's pod and allows
 * no traffic either way; owned by the Job when job_uid is set. */
cJSON *gkx__manifest_network_policy(const gkx_manifest_spec *spec);

cJSON *gkx__manifest_job(const gkx_manifest_spec *spec);
/* files[0] is the script. */
cJSON *gkx__manifest_configmap(const gkx_manifest_spec *spec, const gkx_file *files, size_t nfiles);
/* The interpreter for a script name: "python3" for .py, "sh" for .sh, ...;
 * a string constant, or NULL when the extension is not known. */
const char *gkx__manifest_interpreter(const char *script_name);
/* A "request" for a limit: a quarter of a memory limit, an eighth of a CPU
 * limit, at least the unit's minimum. */
int gkx__manifest_request_for(char *out, size_t outlen, const char *limit, int is_memory);
int gkx__manifest_valid_quantity(const char *q);
int gkx__manifest_valid_file_name(const char *name);

/* ---- exec.c: a command in a running pod, over a WebSocket (pods/exec) ---- */
typedef struct gkx_exec {
	gkx_client *client;
	gkx__request req;
	gkx_buf url;
	gkx_buf errbody; /* a refused upgrade's Status */
	gkx_buf status;  /* channel 3: the command's Status */
	gkx_data_cb on_stdout, on_stderr;
	void *ud;
	int active, finished, closed;
	double closed_at;  /* when the status and the server's Close were both in */
	int exit_code;     /* once finished: the command's, 0-255 */
	char message[512]; /* the Status message */
} gkx_exec;
/* Start `argv` in the container; the stream opens while waits run. */
int gkx__exec_start(gkx_exec *e, gkx_client *c, const char *ns, const char *pod,
                    const char *container, const char *const *argv, size_t argc, gkx_error *err);
/* 5 or 4 once open (v5.channel.k8s.io or v4), else 0. */
int gkx__exec_protocol(const gkx_exec *e);
/* Write to the command's stdin; close it (v5 only: v4 cannot). */
int gkx__exec_write(gkx_exec *e, const char *data, size_t len);
int gkx__exec_close_stdin(gkx_exec *e);
/* After a wait: 0 while it runs, 1 when it ended with a status (exit_code
 * set), or an error (refused, cut, no status). */
int gkx__exec_step(gkx_exec *e, gkx_error *err);
void gkx__exec_stop(gkx_exec *e);
void gkx__exec_free(gkx_exec *e);
/* The status channel's Status: 0 with *exit_code, GKX_EAPI when the
 * command could not run (message says why), GKX_EPROTO when it is not a
 * Status. Pure, for tests and fuzzing. */
int gkx__exec_parse_status(const char *json, size_t len, int *exit_code, char *message,
                           size_t message_len);

/* ---- pool.c: parked sandboxes ---- */
typedef struct gkx__pool {
	const char *ns, *image, *cpu, *memory, *runtime_class; /* borrowed */
	char cpu_req[32], mem_req[32];
	int network_none;
	long ttl_s;
	char shape[17]; /* the pool label: a hash of all the above but ns and ttl */
} gkx__pool;
typedef struct gkx__claim {
	char pod[254];
	char job[254];
	long deadline_s; /* the pod's activeDeadlineSeconds after the claim */
} gkx__claim;
int gkx__pool_init(gkx__pool *p, const char *ns, const char *image, const char *cpu,
                   const char *memory, const char *runtime_class, int network_none, long ttl_s,
                   gkx_error *err);
/* GET a collection of the pool's objects (shape NULL: of every pool's;
 * extra: more of the label selector, from its ',') into *out. */
int gkx__pool_list(gkx_client *c, const char *ns, const char *gv, const char *resource,
                   const char *shape, const char *extra, cJSON **out, gkx_error *err);
/* Make one parked sandbox (Job; with network none, its policy and gate). */
int gkx__pool_park(gkx_client *c, const gkx__pool *p, gkx_error *err);
/* Claim a parked pod that can serve a run of timeout_s: 0 (out filled),
 * 1 when there is none, or an error (out->job set if the pod was claimed
 * and must be deleted). */
int gkx__pool_claim(gkx_client *c, const gkx__pool *p, const char *run_name, long timeout_s,
                    gkx__claim *out, gkx_error *err);
/* A pod's spec has the hardening of ours (why: what it lacks). Pure. */
int gkx__pool_pod_is_hardened(const cJSON *pod, const gkx__pool *p, char *why, size_t why_len);

/* ---- random.c ---- */
int gkx__random_suffix(char *out, size_t n, gkx_error *err);
int gkx__random_bytes(void *out, size_t n, gkx_error *err);

/* The start of a failed stream's body that is kept (a Status is small). */
#define GKX_STREAM_MAX_ERROR_BODY (64u * 1024u)

/* ---- ws.c: WebSocket (RFC 6455), the client's side, pure ---- */
#define GKX_WS_MAX_MESSAGE (16u * 1024u * 1024u)
#define GKX_HTTP1_MAX_HEAD (64u * 1024u)
void gkx__sha1(unsigned char out[20], const void *data, size_t len);
/* The Sec-WebSocket-Accept a server must answer to `key` (28 chars + NUL). */
int gkx__ws_accept_for(char out[29], const char *key);
/* The upgrade request for req (its URL's path, its Authorization, headers
 * and subprotocols) with a fresh random key, which lands in key. */
int gkx__ws_handshake(gkx_buf *out, char key[25], const char *url, const gkx_http_request *req,
                      gkx_error *err);
/* An HTTP/1.1 answer's head: 0 while incomplete, 1 when parsed (head_len
 * bytes), GKX_EPROTO when it is not one. */
typedef struct gkx_http1_head {
	int status;
	size_t head_len;
	long long content_length; /* -1: none given */
	int chunked;
	int upgrade_websocket;  /* "Upgrade: websocket", in any case */
	int connection_upgrade; /* "Connection:" lists the token "upgrade" */
	long retry_after_s;
	char accept[64];
	char protocol[64];
} gkx_http1_head;
int gkx__http1_head(gkx_http1_head *h, const char *data, size_t len);
/* A whole chunked body into out: 1 when complete, 0 while incomplete,
 * GKX_EPROTO or GKX_ENOMEM. */
int gkx__http1_dechunk(gkx_buf *out, const char *in, size_t len);
/* One frame from the client: always final, always masked with `mask`. */
int gkx__ws_encode(gkx_buf *out, int opcode, const void *data, size_t len,
                   const unsigned char mask[4]);
/* The server's frames, fed in any pieces: each whole message (fragments
 * joined) and each control frame (ping 9, pong 10, close 8) goes to
 * on_message; a callback that returns non-zero stops it with GKX_ECANCELED.
 * GKX_EPROTO for a frame no server may send (a Close with a 1-byte body or
 * a code RFC 6455 7.4 does not allow on the wire too), GKX_ETOOBIG past
 * GKX_WS_MAX_MESSAGE. Nothing after a Close is delivered. */
typedef struct gkx_ws_decoder {
	gkx_buf in;
	gkx_buf message; /* fragments so far */
	int message_kind;
	int closed; /* a close frame came */
	gkx_message_cb on_message;
	void *ud;
} gkx_ws_decoder;
int gkx__ws_feed(gkx_ws_decoder *d, const char *data, size_t len);
void gkx__ws_decoder_reset(gkx_ws_decoder *d);

#endif
