#ifndef GKEXEC_RUN_H
#define GKEXEC_RUN_H

#include <gkexec/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One extra file placed beside the script. */
typedef struct gkx_file {
	const char *name; /**< base name: letters, digits, '.', '-', '_' */
	const char *data;
	size_t len;
} gkx_file;

/** Where a run is, reported through on_phase. */
typedef enum {
	GKX_PHASE_CREATING = 1, /**< creating the Job and the ConfigMap */
	GKX_PHASE_SCHEDULING,   /**< waiting for the pod to be scheduled */
	GKX_PHASE_STARTING,     /**< pod scheduled; pulling the image, mounting */
	GKX_PHASE_RUNNING,      /**< the script runs */
	GKX_PHASE_CLEANING,     /**< deleting what the run created */
	GKX_PHASE_CLAIMING,     /**< looking for a parked sandbox; detail says what came of it */
	GKX_PHASE_ENDED /**< over, and what it made deleted (unless keep); detail: its name */
} gkx_phase;

typedef int (*gkx_output_cb)(const char *data, size_t len, void *userdata);
typedef void (*gkx_phase_cb)(gkx_phase phase, const char *detail, void *userdata);

/**
 * What to run and how. Strings and arrays are copied by gkx_run_new().
 * NULL or 0 selects the documented default.
 */
typedef struct gkx_run_options {
	unsigned int version;    /**< GKX_RUN_OPTIONS_VERSION */
	const char *script_name; /**< file name inside the pod, e.g. "hello.py" (required) */
	const char *script;      /**< the code (required) */
	size_t script_len;
	const gkx_file *files;
	size_t nfiles; /**< extra files beside the script */
	const char *const *args;
	size_t nargs; /**< arguments after the script */
	const char *const *env;
	size_t nenv;               /**< "KEY=VALUE" entries */
	const char *ns;            /**< namespace; default: the config's */
	const char *image;         /**< default GKX_DEFAULT_IMAGE */
	const char *cpu;           /**< cpu limit, default GKX_DEFAULT_CPU */
	const char *memory;        /**< memory limit, default "512Mi" */
	long timeout_s;            /**< activeDeadlineSeconds, default 300 */
	long ttl_s;                /**< ttlSecondsAfterFinished, default 600 */
	const char *runtime_class; /**< default "gvisor" */
	const char *workdir;       /**< working directory, default "/app" (the code) */
	long start_timeout_s;      /**< give up if not running by then; default min(timeout, 120) */
	size_t limit_bytes;        /**< deliver at most this much output; 0: no limit */
	int keep;                  /**< leave the objects in the cluster */
	gkx_output_cb on_output;
	void *output_userdata; /**< the script's output as it arrives */
	gkx_phase_cb on_phase;
	void *phase_userdata; /**< progress, optional */
	/* Since version 2. */
	/**
	 * "none": also create a NetworkPolicy, owned by the Job, that selects
	 * the run's pod and allows no ingress and no egress. It is created
	 * before the code, so the code never runs without it. Only a network
	 * plugin that enforces NetworkPolicy (Calico, Cilium, GKE Dataplane V2)
	 * makes it effective. NULL or "default": the namespace's policies.
	 */
	const char *network;
	/* Since version 3. */
	/**
	 * Where a warm run's stderr goes (a run in a parked sandbox has the two
	 * apart). NULL: to on_output too. A Job's run (the cold path) has them
	 * joined, in the order printed, in on_output.
	 */
	gkx_output_cb on_stderr;
	void *stderr_userdata;
	/**
	 * Never use a parked sandbox (see gkexec/pool.h): always a Job. By
	 * default a run takes a parked pod of its own shape when one exists.
	 */
	int cold;
	/* Since version 4. */
	/**
	 * Keep the last `capture_bytes` bytes of the output in the run, for its
	 * result document (gkx_run_result_json() with NULL output), whatever
	 * on_output does with them; a warm run keeps its stdout and its stderr
	 * apart, each up to this. 0: keep nothing (the output is only
	 * delivered). GKX_DEFAULT_CAPTURE_BYTES is what the plugin's -o json and
	 * the session use when not told otherwise.
	 */
	size_t capture_bytes;
} gkx_run_options;

/* Version 1 ended before `network`, version 2 before `on_stderr`, version 3
 * before `capture_bytes`. The library accepts every version up to its own
 * and reads only what the caller's version had. */
#define GKX_RUN_OPTIONS_VERSION 4
/** Every member spelled out, all defaults, and the current version. */
#define GKX_RUN_OPTIONS_INIT                                                                       \
	{                                                                                          \
		GKX_RUN_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, NULL,     \
		        NULL, NULL, 0, 0, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, \
		        NULL, 0, 0                                                                 \
	}
#define GKX_DEFAULT_IMAGE "python:3.11-slim"
/** One CPU: a run's start is a burst (gVisor's own start is charged to the
 * pod, then the interpreter's), and a quota of half a CPU throttled it. */
#define GKX_DEFAULT_CPU    "1"
#define GKX_MAX_CODE_BYTES (1024 * 1024)
/** The output a result keeps by default: its last 1 MiB. Enough for any
 * answer a person or a program reads; a flood beyond it is not kept, so a
 * result (and each of a batch's) stays small however long the run. */
#define GKX_DEFAULT_CAPTURE_BYTES (1024 * 1024)

/** Fill `opts` with zeroes and the current version. */
GKX_API void gkx_run_options_init(gkx_run_options *opts);

/** One sandboxed execution. Used by one thread at a time. */
typedef struct gkx_run gkx_run;

/**
 * Validate the options and prepare a run with a fresh unique name. Nothing
 * is sent yet. The client is borrowed and must outlive the run. Fails with
 * GKX_EINVAL or GKX_ETOOBIG (code and files above GKX_MAX_CODE_BYTES).
 * `client` may be NULL for a run that is only rendered (gkx_run_render(),
 * as kubectl's --dry-run=client needs no cluster); its namespace is then
 * opts->ns or "default", and executing it fails with GKX_EINVAL.
 */
GKX_API int gkx_run_new(gkx_run **out, gkx_client *client, const gkx_run_options *opts,
                        gkx_error *err);

/**
 * Create the objects, stream the output, wait for the end and delete what
 * was created (unless `keep`). Returns 0 when the script ran to an end
 * (see gkx_run_exit_code() and gkx_run_reason()), or a negative code when
 * the tool, the cluster or the pod's start failed, or on cancellation
 * (GKX_ECANCELED). Cleanup is attempted on every path. Call once.
 */
GKX_API int gkx_run_execute(gkx_run *run, gkx_error *err);

/**
 * Ask a running gkx_run_execute() to stop, clean up and return
 * GKX_ECANCELED. It only sets a lock-free atomic flag, so another thread
 * or a signal handler may call it while the run executes. Takes effect
 * within about a second.
 */
GKX_API void gkx_run_cancel(gkx_run *run);

/** Render the ConfigMap and Job as a kubectl List: format "json" or "yaml". */
GKX_API int gkx_run_render(gkx_run *run, const char *format, const char **out, gkx_error *err);

/** After execution: what gkx_run_execute() returned (or a batch got for
 * this run), and its details (borrowed). GKX_EINVAL before execution. */
GKX_API int gkx_run_status(const gkx_run *run);
GKX_API const gkx_error *gkx_run_error(const gkx_run *run);

/** The script's exit code, or -1 when it did not end by itself. */
GKX_API int gkx_run_exit_code(const gkx_run *run);

/**
 * Why the run ended: "Completed", "Error", "OOMKilled", "Evicted",
 * "DeadlineExceeded", "Interrupted", or a start failure such as
 * "ImagePullBackOff"; "" before.
 */
GKX_API const char *gkx_run_reason(const gkx_run *run);

/**
 * What the cluster said about the end, when it said something: for
 * "Evicted" the kubelet's message (e.g. "Pod ephemeral local storage usage
 * exceeds the total limit of containers 128Mi."); "" otherwise. Borrowed.
 */
GKX_API const char *gkx_run_message(const gkx_run *run);

/** 1 when output was dropped: beyond limit_bytes, or the start of what
 * capture_bytes keeps. */
GKX_API int gkx_run_output_truncated(const gkx_run *run);

/** Seconds from the start of gkx_run_execute() until each moment; a moment
 * that never came is -1. */
typedef struct gkx_run_timings {
	double created;   /**< the Job and the ConfigMap exist */
	double scheduled; /**< the pod was bound to a node */
	double started;   /**< the container was seen running (or ended) */
	double ended;     /**< the container's end was seen */
	double finished;  /**< cleanup done: the call returns */
} gkx_run_timings;

GKX_API void gkx_run_get_timings(const gkx_run *run, gkx_run_timings *out);

/** The number of HTTP requests the run sent, retries included. */
GKX_API unsigned gkx_run_request_count(const gkx_run *run);

/**
 * After execution: the run as one JSON document, the "RunResult" that
 * `kubectl sandbox-run -o json` prints (schema in the README): name,
 * exit code, reason, `output`, timings, request count, status and error.
 * `output` NULL: what the run kept (capture_bytes), every byte of it (text
 * that is not UTF-8 also comes in base64); otherwise that text, which as a
 * C string ends at its first NUL. Free it with gkx_free(). NULL before
 * execution or when out of memory.
 */
GKX_API char *gkx_run_result_json(const gkx_run *run, const char *output);

/**
 * Like gkx_run_result_json() for a run whose streams were apart: `output`
 * is what on_output got, `stderr_text` what on_stderr got (NULL if nothing
 * or if on_stderr was not set); both NULL: what the run kept. The
 * document's "stdout" and "stderr" are set for a warm run, and its
 * "output" is stdout followed by stderr.
 */
GKX_API char *gkx_run_result_json_split(const gkx_run *run, const char *output,
                                        const char *stderr_text);

/** 1 when the run used a parked sandbox (warm), 0 when it made a Job. */
GKX_API int gkx_run_warm(const gkx_run *run);

/** The pod the script ran in ("" until known): the Job's pod, or the
 * parked pod a warm run claimed (its Job is named like it, without the
 * last dash and suffix). Borrowed. */
GKX_API const char *gkx_run_pod(const gkx_run *run);

/** The name shared by the Job and the ConfigMap, and their namespace. */
GKX_API const char *gkx_run_name(const gkx_run *run);
GKX_API const char *gkx_run_namespace(const gkx_run *run);

/** Release a run. Accepts NULL. Does not contact the cluster. */
GKX_API void gkx_run_free(gkx_run *run);

/**
 * Several runs at once from one thread: the batch starts up to `parallel`
 * of its runs, interleaves them over the client's transport (one
 * connection, one event loop) and starts the next as each ends. Runs are
 * borrowed, must share the batch's client, and must outlive the batch.
 */
typedef struct gkx_batch gkx_batch;

GKX_API int gkx_batch_new(gkx_batch **out, gkx_client *client, unsigned parallel, gkx_error *err);
/** Add a run that has not executed yet. */
GKX_API int gkx_batch_add(gkx_batch *batch, gkx_run *run, gkx_error *err);
/**
 * Execute every run; returns when all have ended and been cleaned up. Each
 * run's outcome is in gkx_run_status() and the other getters. Returns 0, or
 * GKX_ECANCELED after gkx_batch_cancel() (runs not yet started then get
 * GKX_ECANCELED and reason "Interrupted" without touching the cluster).
 */
GKX_API int gkx_batch_execute(gkx_batch *batch, gkx_error *err);
/** Like gkx_run_cancel(), for every run of the batch: from any thread or
 * a signal handler. */
GKX_API void gkx_batch_cancel(gkx_batch *batch);
GKX_API void gkx_batch_free(gkx_batch *batch);

#ifdef __cplusplus
}
#endif
#endif
