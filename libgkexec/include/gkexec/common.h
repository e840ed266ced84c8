/*
 * libgkexec: run untrusted code in a hardened Kubernetes Job.
 *
 * Ownership, for the whole API: a handle that gkx_<x>_new() gives you is
 * yours, and you release it with gkx_<x>_free(), which accepts NULL. A
 * `const char *` that a getter returns is borrowed from the handle it came
 * from and lives as long as that handle. Strings you pass in are copied. The
 * library never returns memory you must free() yourself.
 *
 * Errors: functions return 0 on success or a negative GKX_E* code. Where a
 * function takes a `gkx_error *err` (always last, may be NULL), it fills it
 * with the code, the HTTP status and a message that carries the API server's
 * own Status message or the kubeconfig file and position at fault. A call
 * that returns 0 leaves `err` clear, whatever it handled on the way.
 *
 * Versions: structs a caller fills (gkx_config_options, gkx_run_options,
 * and a transport table) start with their version; fill them with their
 * _init() function or _INIT macro. The library accepts every version from
 * 1 to its own, reading only what that version had, and refuses a newer
 * one with GKX_EINVAL.
 *
 * Threads: a client, and everything made from it, is used by one thread at
 * a time; separate clients may run in separate threads at once, and a
 * loaded config may be shared by all of them. The exception: the cancel
 * functions (gkx_run_cancel(), gkx_batch_cancel(), gkx_session_cancel())
 * may be called from any thread, or a signal handler, while another runs.
 *
 * The library never prints, never exits, never installs signal handlers and
 * reads the environment only in functions whose name ends in _from_env. It
 * has no mutable global state (tests/unit/stress_threads.c checks it under
 * ThreadSanitizer); curl_global_init() belongs to the program.
 */
#ifndef GKEXEC_COMMON_H
#define GKEXEC_COMMON_H

#include <stddef.h>

#include <gkexec/version.h>

#if defined(GKX_STATIC)
#define GKX_API
#elif defined(__GNUC__)
#define GKX_API __attribute__((visibility("default")))
#else
#define GKX_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Every error code, once: XX(NAME, value, short name, text). The enum, the
 * short names (gkx_error_name(), the RunResult's "errorCode") and the texts
 * (gkx_strerror()) are all made from this table. Values are never
 * renumbered; new codes are appended.
 */
#define GKX_ERROR_MAP(XX)                                                                 \
	XX(OK, 0, "ok", "success")                                                        \
	XX(ERROR, -1, "error", "unclassified failure")                                    \
	XX(ENOMEM, -2, "no-memory", "out of memory")                                      \
	XX(EINVAL, -3, "invalid", "an argument or an option is invalid")                  \
	XX(ECONFIG, -4, "config", "the kubeconfig is missing, malformed or inconsistent") \
	XX(EIO, -5, "io", "a local file could not be read")                               \
	XX(ETRANSPORT, -6, "transport", "connection, TLS or protocol failure")            \
	XX(EAPI, -7, "api", "the API server refused the request")                         \
	XX(ENOTFOUND, -8, "not-found", "not found (HTTP 404)")                            \
	XX(ECONFLICT, -9, "conflict", "already exists or conflicts (HTTP 409)")           \
	XX(EFORBIDDEN, -10, "forbidden", "forbidden (HTTP 403)")                          \
	XX(EUNAUTHORIZED, -11, "unauthorized", "unauthorized (HTTP 401)")                 \
	XX(ETIMEOUT, -12, "timeout", "a client-side deadline passed")                     \
	XX(ECANCELED, -13, "canceled", "canceled")                                        \
	XX(EGONE, -14, "gone", "a watch's resource version expired (HTTP 410)")           \
	XX(EPROTO, -15, "protocol", "the server's answer could not be understood")        \
	XX(ETOOBIG, -16, "too-big", "an input or a response exceeds its limit")           \
	XX(ESTART, -17, "start", "the pod never started (image, runtime class, scheduling)")

/** Error codes: GKX_OK, GKX_ERROR, GKX_ENOMEM, ... (see GKX_ERROR_MAP). */
/* clang-format off */
typedef enum {
#define GKX__ERROR_ENUM(name, value, short_name, text) GKX_##name = (value),
	GKX_ERROR_MAP(GKX__ERROR_ENUM)
#undef GKX__ERROR_ENUM
	GKX_ERROR_CODES_END = -18 /**< not a code: one below the last; it moves as codes are added */
} gkx_error_code;
/* clang-format on */

/** Details of a failure. Caller-owned; plain data, no cleanup needed. */
typedef struct gkx_error {
	int code;           /**< a gkx_error_code */
	long http_status;   /**< HTTP status, 0 when no response was involved */
	char reason[64];    /**< the Status reason, e.g. "Forbidden", or empty */
	char message[1024]; /**< human-readable, never contains a credential */
} gkx_error;

/** Static text for a code; never NULL ("unknown error" for a code this
 * library does not know). */
GKX_API const char *gkx_strerror(int code);

/** The code's short name, e.g. "forbidden" for GKX_EFORBIDDEN: the
 * RunResult's "errorCode". Static; "unknown" for a code it does not know. */
GKX_API const char *gkx_error_name(int code);

/** Reset an error to GKX_OK with empty strings. Accepts NULL. */
GKX_API void gkx_error_clear(gkx_error *err);

/** The library's version as "x.y.z", for comparing with GKX_VERSION. */
GKX_API const char *gkx_version(void);

/** Free memory the library handed over (gkx_run_result_json()). NULL is fine. */
GKX_API void gkx_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
