#ifndef GKEXEC_CLIENT_H
#define GKEXEC_CLIENT_H

#include <gkexec/config.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A connection to one API server. Used by one thread at a time; different
 * clients may be used concurrently. The config passed to gkx_client_new()
 * is borrowed and must outlive the client.
 */
typedef struct gkx_client gkx_client;

/** Create a client with the libcurl transport. Free with gkx_client_free(). */
GKX_API int gkx_client_new(gkx_client **out, const gkx_config *cfg, gkx_error *err);

struct gkx_transport; /* <gkexec/sys/transport.h> */

/**
 * Replace the client's transport (before any request); see
 * <gkexec/sys/transport.h>. `arg` is passed to the table's create(). The
 * table is borrowed and must outlive the client. GKX_EINVAL for a table of
 * a version this library does not know (0, or newer than its own).
 */
GKX_API int gkx_client_set_transport(gkx_client *client, const struct gkx_transport *transport,
                                     void *arg, gkx_error *err);

/**
 * Called once for every HTTP request when it ends: its method, URL (which
 * never holds a credential; headers are not passed), HTTP status (0 if none),
 * a GKX_E* code when no answer came, the bytes of the body, and seconds.
 */
typedef void (*gkx_trace_cb)(const char *method, const char *url, long status, int error,
                             size_t bytes, double seconds, void *userdata);

/** Trace requests through `cb` (NULL stops tracing). */
GKX_API void gkx_client_set_trace(gkx_client *client, gkx_trace_cb cb, void *userdata);

/** Release a client. Accepts NULL. */
GKX_API void gkx_client_free(gkx_client *client);

/** The config the client was made from (borrowed). */
GKX_API const gkx_config *gkx_client_config(const gkx_client *client);

#ifdef __cplusplus
}
#endif
#endif
