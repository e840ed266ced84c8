#ifndef GKEXEC_TRANSPORT_H
#define GKEXEC_TRANSPORT_H

#include <gkexec/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The HTTP transport: a per-client function table through which every
 * request travels. The default one uses libcurl (multi interface, so several
 * streams progress in one thread). Tests and embedders may install their own
 * with gkx_client_set_transport().
 *
 * A transport drives many requests at once. start() begins one; the body
 * arrives through the request's on_data callback while wait() runs; when a
 * request ends the transport sets `done`, `status` and, for a failure
 * without a response, `error`. cancel() ends a request early without
 * calling it done with success.
 */

/** TLS material for one server, in memory. Borrowed by the transport. */
typedef struct gkx_tls {
	const unsigned char *ca;
	size_t ca_len; /**< PEM bundle, or NULL for the system's */
	const unsigned char *cert;
	size_t cert_len; /**< client certificate, PEM */
	const unsigned char *key;
	size_t key_len;          /**< client key, PEM */
	const char *server_name; /**< SNI and verification name override */
	int insecure;            /**< skip verification */
} gkx_tls;

/** Return 0 to continue, non-zero to abort the request. */
typedef int (*gkx_data_cb)(const char *data, size_t len, void *userdata);

typedef struct gkx_http_request {
	/* Set by the caller before start(). */
	const char *method;        /**< "GET", "POST", "PATCH", "DELETE" */
	const char *url;           /**< absolute, already escaped */
	const char *authorization; /**< full header value or NULL; a secret */
	const char *content_type;  /**< for the body, or NULL */
	const char *body;
	size_t body_len;
	const gkx_tls *tls;
	const char *proxy; /**< proxy URL (http, https, socks5) or NULL */
	long timeout_ms;   /**< whole request; 0 for none (streams) */
	gkx_data_cb on_data;
	void *userdata;
	/* Set by the transport. */
	int done;             /**< 1 once the request has ended */
	long status;          /**< HTTP status, set before the first on_data call */
	int error;            /**< 0, or a GKX_E* code when no answer came */
	long retry_after_s;   /**< the Retry-After header, in seconds; 0 if none */
	char error_text[256]; /**< why, when error is set */
	void *transport_data; /**< private to the transport */
	/* Kept by the library; a transport leaves them alone. */
	size_t bytes;   /**< body bytes received */
	double started; /**< when it was started (monotonic seconds) */
	gkx_data_cb lib_cb;
	void *lib_ud;
} gkx_http_request;

typedef struct gkx_transport {
	unsigned int version; /**< GKX_TRANSPORT_VERSION */
	/** Create per-client state in *state. */
	int (*create)(void **state, void *arg);
	/** Begin a request. The request must stay valid until done or cancelled. */
	int (*start)(void *state, gkx_http_request *req);
	/** Abandon a request that is not done. */
	void (*cancel)(void *state, gkx_http_request *req);
	/** Make progress for at most timeout_ms; returns 0 or a GKX_E* code. */
	int (*wait)(void *state, int timeout_ms);
	/** Destroy the per-client state; accepts NULL. */
	void (*destroy)(void *state);
} gkx_transport;

#define GKX_TRANSPORT_VERSION 1

/** The libcurl transport, the default. Static; never free it. */
GKX_API const gkx_transport *gkx_transport_curl(void);

#ifdef __cplusplus
}
#endif
#endif
