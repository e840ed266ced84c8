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
 * own Status message or the kubeconfig file and position at fault.
 *
 * The library never prints, never exits, never installs signal handlers and
 * reads the environment only in functions whose name ends in _from_env. It
 * has no mutable global state; curl_global_init() belongs to the program.
 */
#ifndef GKEXEC_COMMON_H
#define GKEXEC_COMMON_H

#include <stddef.h>

#include <gkexec/version.h>

#if defined(GKX_STATIC)
#define GKX_API
#elif defined(_WIN32)
#define GKX_API __declspec(dllimport)
#elif defined(__GNUC__)
#define GKX_API __attribute__((visibility("default")))
#else
#define GKX_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. Values are never renumbered; new ones are appended. */
typedef enum {
	GKX_OK = 0,
	GKX_ERROR = -1,          /**< unclassified failure */
	GKX_ENOMEM = -2,         /**< out of memory */
	GKX_EINVAL = -3,         /**< an argument or an option is invalid */
	GKX_ECONFIG = -4,        /**< the kubeconfig is missing, malformed or inconsistent */
	GKX_EIO = -5,            /**< a local file could not be read */
	GKX_ETRANSPORT = -6,     /**< connection, TLS or protocol failure */
	GKX_EAPI = -7,           /**< the API server refused the request */
	GKX_ENOTFOUND = -8,      /**< HTTP 404 */
	GKX_ECONFLICT = -9,      /**< HTTP 409 (AlreadyExists or Conflict) */
	GKX_EFORBIDDEN = -10,    /**< HTTP 403 */
	GKX_EUNAUTHORIZED = -11, /**< HTTP 401 */
	GKX_ETIMEOUT = -12,      /**< a client-side deadline passed */
	GKX_ECANCELED = -13,     /**< gkx_run_cancel() was called */
	GKX_EGONE = -14,         /**< HTTP 410: a watch's resourceVersion expired */
	GKX_EPROTO = -15,        /**< the server's answer could not be understood */
	GKX_ETOOBIG = -16,       /**< an input or a response exceeds its limit */
	GKX_ESTART = -17         /**< the pod never started (image, runtime class, scheduling) */
} gkx_error_code;

/** Details of a failure. Caller-owned; plain data, no cleanup needed. */
typedef struct gkx_error {
	int code;           /**< a gkx_error_code */
	long http_status;   /**< HTTP status, 0 when no response was involved */
	char reason[64];    /**< the Status reason, e.g. "Forbidden", or empty */
	char message[1024]; /**< human-readable, never contains a credential */
} gkx_error;

/** Static text for a code; never NULL. */
GKX_API const char *gkx_strerror(int code);

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
