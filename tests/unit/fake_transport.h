/* A scripted transport for unit tests: each expected request names a
 * method and a URL fragment and gets a status and a body, or (a
 * WebSocket) a subprotocol and messages. Requests and what the client sent
 * on WebSockets are recorded so that tests can assert them.
 *
 * Each scripted server is a `fake`; the fake_* functions without an
 * instance work on a default one, which the transport uses when
 * gkx_client_set_transport() gets NULL as its argument. Tests that run
 * clients in several threads give each thread its own fake. */
#ifndef FAKE_TRANSPORT_H
#define FAKE_TRANSPORT_H

#include <stddef.h>

#include <gkexec/gkexec.h>
#include <gkexec/sys/transport.h>

#define FAKE_MAX 64

typedef struct {
	char method[16];
	char url[1024];
	char body[16384];
	char auth[256];
	char subprotocols[128]; /* offered, comma-separated; "" for plain HTTP */
} fake_request;

/* One WebSocket message, scripted or sent. */
typedef struct {
	int kind; /* GKX_WS_BINARY, GKX_WS_TEXT, GKX_WS_CLOSE */
	const char *data;
	size_t len;
} fake_message;

typedef struct fake fake;

fake *fake_new(void);
void fake_free(fake *f);
/* Forget every expectation and record of one fake. */
void fake_clear(fake *f);

void fake_reset(void);
/* Answer the next request whose method matches and whose URL contains
 * `url_part` with `status` and `body`, in the order expectations were added. */
void fake_expect(const char *method, const char *url_part, long status, const char *body);
void fake_expect_on(fake *f, const char *method, const char *url_part, long status,
                    const char *body);
/* Like fake_expect, but the request fails without an answer. */
void fake_expect_error(const char *method, const char *url_part, int error);
/* Like fake_expect, but the answer never ends (a stream that stays open). */
void fake_expect_open(const char *method, const char *url_part, long status, const char *body);
void fake_expect_open_on(fake *f, const char *method, const char *url_part, long status,
                         const char *body);
/* Like fake_expect, but answered only after `waits` further waits. */
void fake_expect_delayed(const char *method, const char *url_part, long status, const char *body,
                         int waits);
/* Like fake_expect, with a Retry-After of `secs` seconds. */
void fake_expect_retry_after(const char *method, const char *url_part, long status,
                             const char *body, long secs);
/* Like fake_expect, but after the body the connection fails with `error`. */
void fake_expect_cut(const char *method, const char *url_part, long status, const char *body,
                     int error);
/*
 * A WebSocket: the upgrade to a URL containing `url_part` is answered by
 * switching to `subprotocol` (status 101), and once the client has sent
 * `after_sends` messages the server's `msgs` arrive, one per wait, and the
 * stream ends (or stays open when `open`). A subprotocol of NULL refuses
 * the upgrade with `status` and a body of msgs[0].data; a status of 0
 * never answers it.
 */
void fake_expect_ws(const char *url_part, const char *subprotocol, long status,
                    const fake_message *msgs, size_t nmsgs, size_t after_sends, int open);
size_t fake_count(void);
const fake_request *fake_request_at(size_t i);
size_t fake_count_on(const fake *f);
const fake_request *fake_request_at_on(const fake *f, size_t i);
/* What the client sent on WebSockets, in order (the data is copied). */
size_t fake_sent(void);
const fake_message *fake_sent_at(size_t i);
/* Requests the client cancelled before they ended. */
size_t fake_cancelled(void);
/* Requests that matched no expectation (a test should assert none). */
size_t fake_unexpected(void);
size_t fake_unexpected_on(const fake *f);
/* Expectations no request matched (a test of an exact sequence should
 * assert none: a request the code no longer makes is news too). */
size_t fake_unused(void);
/* Called on every wait(), for tests that act mid-run (e.g. cancel). */
void fake_on_wait(void (*fn)(void *), void *ud);

extern const gkx_transport fake_transport;
/* The same as a version 1 table, without WebSockets: a cold run's
 * container then runs the script itself and the client reads its log. */
extern const gkx_transport fake_transport_v1;

#endif
