#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fake_transport.h"

typedef struct {
	char method[16];
	char url_part[256];
	long status;
	const char *body;
	int error;
	int open;
	int delay;
	long retry_after;
	int cut_error;
	int used;
} expectation;

static expectation expects[FAKE_MAX];
static size_t nexpects;
static fake_request requests[FAKE_MAX];
static size_t nrequests;
static size_t unexpected;
static gkx_http_request *pending[FAKE_MAX];
static expectation *pending_exp[FAKE_MAX];
static size_t npending;
static void (*wait_fn)(void *);
static void *wait_ud;

void fake_reset(void)
{
	memset(expects, 0, sizeof(expects));
	memset(requests, 0, sizeof(requests));
	nexpects = nrequests = unexpected = npending = 0;
	wait_fn = NULL;
	wait_ud = NULL;
}

static expectation *add(const char *method, const char *url_part)
{
	expectation *e = &expects[nexpects++];
	snprintf(e->method, sizeof(e->method), "%s", method);
	snprintf(e->url_part, sizeof(e->url_part), "%s", url_part);
	return e;
}

void fake_expect(const char *method, const char *url_part, long status, const char *body)
{
	expectation *e = add(method, url_part);
	e->status = status;
	e->body = body;
}

void fake_expect_error(const char *method, const char *url_part, int error)
{
	add(method, url_part)->error = error;
}

void fake_expect_open(const char *method, const char *url_part, long status, const char *body)
{
	expectation *e = add(method, url_part);
	e->status = status;
	e->body = body;
	e->open = 1;
}

void fake_expect_delayed(const char *method, const char *url_part, long status, const char *body,
                         int waits)
{
	expectation *e = add(method, url_part);
	e->status = status;
	e->body = body;
	e->delay = waits;
}

void fake_expect_retry_after(const char *method, const char *url_part, long status,
                             const char *body, long secs)
{
	expectation *e = add(method, url_part);
	e->status = status;
	e->body = body;
	e->retry_after = secs;
}

void fake_expect_cut(const char *method, const char *url_part, long status, const char *body,
                     int error)
{
	expectation *e = add(method, url_part);
	e->status = status;
	e->body = body;
	e->cut_error = error;
}

size_t fake_count(void) { return nrequests; }
const fake_request *fake_request_at(size_t i) { return &requests[i]; }
size_t fake_unexpected(void) { return unexpected; }

void fake_on_wait(void (*fn)(void *), void *ud)
{
	wait_fn = fn;
	wait_ud = ud;
}

static int f_create(void **state, void *arg)
{
	(void)arg;
	*state = &expects;
	return 0;
}

static int f_start(void *state, gkx_http_request *req)
{
	fake_request *r = &requests[nrequests < FAKE_MAX ? nrequests++ : FAKE_MAX - 1];
	size_t i;

	(void)state;
	snprintf(r->method, sizeof(r->method), "%s", req->method);
	snprintf(r->url, sizeof(r->url), "%s", req->url);
	snprintf(r->body, sizeof(r->body), "%.*s",
	         (int)(req->body_len < sizeof(r->body) - 1 ? req->body_len : sizeof(r->body) - 1),
	         req->body ? req->body : "");
	snprintf(r->auth, sizeof(r->auth), "%s", req->authorization ? req->authorization : "");
	req->done = 0;
	req->status = 0;
	req->error = 0;
	req->retry_after_s = 0;
	for (i = 0; i < nexpects; i++) {
		expectation *e = &expects[i];
		if (!e->used && !strcmp(e->method, req->method) && strstr(req->url, e->url_part)) {
			e->used = 1;
			pending[npending] = req;
			pending_exp[npending++] = e;
			req->transport_data = e;
			return 0;
		}
	}
	unexpected++;
	pending[npending] = req;
	pending_exp[npending++] = NULL;
	req->transport_data = NULL;
	return 0;
}

static void drop(size_t i)
{
	pending[i] = pending[npending - 1];
	pending_exp[i] = pending_exp[npending - 1];
	npending--;
}

static void f_cancel(void *state, gkx_http_request *req)
{
	size_t i;

	(void)state;
	for (i = 0; i < npending; i++)
		if (pending[i] == req) {
			drop(i);
			return;
		}
}

/* Deliver one pending request per wait, body in two chunks (to exercise
 * the readers' joining of partial data). */
static int f_wait(void *state, int timeout_ms)
{
	size_t i;

	(void)state;
	(void)timeout_ms;
	if (wait_fn)
		wait_fn(wait_ud);
	for (i = 0; i < npending; i++) {
		gkx_http_request *req = pending[i];
		expectation *e = pending_exp[i];
		if (req->status || req->done)
			continue;
		if (e && e->delay > 0) {
			e->delay--;
			continue;
		}
		if (!e) {
			req->status = 404;
			req->done = 1;
			drop(i);
			return 0;
		}
		if (e->error) {
			req->error = e->error;
			snprintf(req->error_text, sizeof(req->error_text), "fake transport error");
			req->done = 1;
			drop(i);
			return 0;
		}
		req->status = e->status;
		req->retry_after_s = e->retry_after;
		if (e->body && *e->body && req->on_data) {
			size_t n = strlen(e->body), half = n / 2;
			if (req->on_data(e->body, half, req->userdata) ||
			    req->on_data(e->body + half, n - half, req->userdata)) {
				req->error = GKX_ETOOBIG;
				req->done = 1;
				drop(i);
				return 0;
			}
		}
		if (e->cut_error) {
			req->error = e->cut_error;
			snprintf(req->error_text, sizeof(req->error_text), "connection cut (fake)");
		}
		if (!e->open) {
			req->done = 1;
			drop(i);
		}
		return 0;
	}
	/* Nothing to deliver: pass the time, as a real wait would. */
	{
		struct timespec ts;
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void f_destroy(void *state)
{
	(void)state;
	npending = 0;
}

const gkx_transport fake_transport = {
	GKX_TRANSPORT_VERSION, f_create, f_start, f_cancel, f_wait, f_destroy,
};
