/*
 * The transport implementer's interface. Programs that only run sandboxes
 * never need this header; it is for those who replace how the library
 * talks HTTP (tests, embedders with their own event loop). Include it as
 * <gkexec/sys/transport.h>.
 *
 * A transport is a per-client function table through which every request
 * travels. The default one uses libcurl (multi interface, so that several
 * streams progress in one thread). Install another with
 * gkx_client_set_transport(), before the client's first request.
 *
 * A transport drives many requests at once. start() begins one; what the
 * server sends arrives through the request's callbacks while wait() runs;
 * when a request ends the transport sets `done`, `status` and, for a
 * failure without a response, `error`. cancel() ends a request early
 * without calling it done. Requests and everything they point to are the
 * caller's and stay valid until done or cancelled.
 *
 * Two kinds of request:
 * - HTTP: the response body arrives through on_data, in chunks.
 * - WebSocket (RFC 6455; since version 2): `subprotocols` is not empty.
 *   The transport sends the upgrade (GET, the headers below, the offered
 *   subprotocols), checks the answer, and once the server has switched
 *   protocols sets `status` to 101 and `subprotocol` to the server's
 *   choice. The server's messages then arrive whole, in order, through
 *   on_message, and send() writes messages. A refused upgrade is an
 *   ordinary answer: its status and its body (through on_data).
 *
 * Versions: a table says which version of this header it was built
 * against; the library accepts every version from 1 to
 * GKX_TRANSPORT_VERSION and uses only what that version had (a version 1
 * table cannot open WebSockets, so warm runs fall back to Jobs).
 */
#ifndef GKEXEC_SYS_TRANSPORT_H
#define GKEXEC_SYS_TRANSPORT_H

#include <gkexec/common.h>

#ifdef __cplusplus
extern "C" {
#endif

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

/** Body bytes as they arrive. Return 0 to continue, non-zero to abort. */
typedef int (*gkx_data_cb)(const char *data, size_t len, void *userdata);

/** Kinds of WebSocket message, as RFC 6455 numbers their opcodes. */
typedef enum {
	GKX_WS_TEXT = 1,
	GKX_WS_BINARY = 2,
	GKX_WS_CLOSE = 8 /**< data: a 2-byte status code and a reason, or nothing */
} gkx_ws_kind;

/** One whole WebSocket message. Return 0 to continue, non-zero to abort. */
typedef int (*gkx_message_cb)(int kind, const char *data, size_t len, void *userdata);

/** One header line. */
typedef struct gkx_http_header {
	const char *name;
	const char *value;
} gkx_http_header;

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
	void *userdata; /**< for on_data and on_message */
	/* Set by the transport. */
	int done;             /**< 1 once the request has ended */
	long status;          /**< HTTP status, set before the first on_data call */
	int error;            /**< 0, or a GKX_E* code when no answer came */
	long retry_after_s;   /**< the Retry-After header, in seconds; 0 if none */
	char error_text[256]; /**< why, when error is set */
	void *transport_data; /**< private to the transport */
	/* Since version 2; set by the caller. */
	const gkx_http_header *headers; /**< more request headers, or NULL */
	size_t nheaders;
	const char *const *subprotocols; /**< non-empty: a WebSocket, offering these */
	size_t nsubprotocols;
	gkx_message_cb on_message; /**< a WebSocket's messages */
	/* Since version 2; set by the transport. */
	char subprotocol[64]; /**< the WebSocket subprotocol the server chose */
} gkx_http_request;

typedef struct gkx_transport {
	unsigned int version; /**< GKX_TRANSPORT_VERSION when built */
	/** Create per-client state in *state. */
	int (*create)(void **state, void *arg);
	/** Begin a request. */
	int (*start)(void *state, gkx_http_request *req);
	/** Abandon a request that is not done. */
	void (*cancel)(void *state, gkx_http_request *req);
	/** Make progress for at most timeout_ms; returns 0 or a GKX_E* code. */
	int (*wait)(void *state, int timeout_ms);
	/** Destroy the per-client state; accepts NULL. */
	void (*destroy)(void *state);
	/* Since version 2. */
	/**
	 * Send one message on an open WebSocket: GKX_WS_BINARY, or GKX_WS_CLOSE
	 * (data: nothing, or a status code and reason). The transport copies
	 * the data and writes it while wait() runs, in order. 0 or a GKX_E*.
	 */
	int (*send)(void *state, gkx_http_request *req, int kind, const void *data, size_t len);
} gkx_transport;

#define GKX_TRANSPORT_VERSION 2
/** A table with every member spelled out, the functions NULL: fill them. */
#define GKX_TRANSPORT_INIT                                                \
	{                                                                 \
		GKX_TRANSPORT_VERSION, NULL, NULL, NULL, NULL, NULL, NULL \
	}

/** The libcurl transport, the default. Static; never free it. */
GKX_API const gkx_transport *gkx_transport_curl(void);

#ifdef __cplusplus
}
#endif
#endif
