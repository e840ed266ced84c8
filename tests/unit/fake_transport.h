/* A scripted transport for unit tests: each expected request names a
 * method and a URL fragment and gets a status and a body. Requests are
 * recorded so that tests can assert what was sent. */
#ifndef FAKE_TRANSPORT_H
#define FAKE_TRANSPORT_H

#include <stddef.h>

#include <gkexec/gkexec.h>

#define FAKE_MAX 64

typedef struct {
	char method[16];
	char url[1024];
	char body[16384];
	char auth[256];
} fake_request;

void fake_reset(void);
/* Answer the next request whose method matches and whose URL contains
 * `url_part` with `status` and `body`, in the order expectations were added. */
void fake_expect(const char *method, const char *url_part, long status, const char *body);
/* Like fake_expect, but the request fails without an answer. */
void fake_expect_error(const char *method, const char *url_part, int error);
/* Like fake_expect, but the answer never ends (a stream that stays open). */
void fake_expect_open(const char *method, const char *url_part, long status, const char *body);
/* Like fake_expect, but answered only after `waits` further waits. */
void fake_expect_delayed(const char *method, const char *url_part, long status, const char *body,
                         int waits);
/* Like fake_expect, with a Retry-After of `secs` seconds. */
void fake_expect_retry_after(const char *method, const char *url_part, long status,
                             const char *body, long secs);
/* Like fake_expect, but after the body the connection fails with `error`. */
void fake_expect_cut(const char *method, const char *url_part, long status, const char *body,
                     int error);
size_t fake_count(void);
const fake_request *fake_request_at(size_t i);
/* Requests that matched no expectation (a test should assert none). */
size_t fake_unexpected(void);
/* Called on every wait(), for tests that act mid-run (e.g. cancel). */
void fake_on_wait(void (*fn)(void *), void *ud);

extern const gkx_transport fake_transport;

#endif
