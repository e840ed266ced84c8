#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_transport.h"

#define FAKE_MSGS 16

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
	/* A WebSocket. */
	int ws;
	char subprotocol[64];
	fake_message msgs[FAKE_MSGS];
	size_t nmsgs, next_msg, after_sends;
} expectation;

struct fake {
	expectation expects[FAKE_MAX];
	size_t nexpects;
	fake_request requests[FAKE_MAX];
	size_t nrequests;
	size_t unexpected;
	gkx_http_request *pending[FAKE_MAX];
	expectation *pending_exp[FAKE_MAX];
	size_t npending;
	fake_message sent[FAKE_MAX];
	size_t nsent;
	size_t ncancelled;
	void (*wait_fn)(void *);
	void *wait_ud;
};

static fake default_fake;

fake *fake_new(void) { return calloc(1, sizeof(fake)); }

static void clear_sent(fake *f)
{
	size_t i;

	for (i = 0; i < f->nsent; i++)
		free((char *)f->sent[i].data);
	f->nsent = 0;
}

void fake_free(fake *f)
{
	if (!f)
		return;
	clear_sent(f);
	free(f);
}

void fake_clear(fake *f)
{
	clear_sent(f);
	memset(f, 0, sizeof(*f));
}

void fake_reset(void) { fake_clear(&default_fake); }

static expectation *add(fake *f, const char *method, const char *url_part)
{
	expectation *e = &f->expects[f->nexpects++];
	snprintf(e->method, sizeof(e->method), "%s", method);
	snprintf(e->url_part, sizeof(e->url_part), "%s", url_part);
	return e;
}

void fake_expect_on(fake *f, const char *method, const char *url_part, long status,
                    const char *body)
{
	expectation *e = add(f, method, url_part);
	e->status = status;
	e->body = body;
}

void fake_expect(const char *method, const char *url_part, long status, const char *body)
{
	fake_expect_on(&default_fake, method, url_part, status, body);
}

void fake_expect_error(const char *method, const char *url_part, int error)
{
	add(&default_fake, method, url_part)->error = error;
}

void fake_expect_open_on(fake *f, const char *method, const char *url_part, long status,
                         const char *body)
{
	expectation *e = add(f, method, url_part);
	e->status = status;
	e->body = body;
	e->open = 1;
}

void fake_expect_open(const char *method, const char *url_part, long status, const char *body)
{
	fake_expect_open_on(&default_fake, method, url_part, status, body);
}

void fake_expect_delayed(const char *method, const char *url_part, long status, const char *body,
                         int waits)
{
	expectation *e = add(&default_fake, method, url_part);
	e->status = status;
	e->body = body;
	e->delay = waits;
}

void fake_expect_retry_after(const char *method, const char *url_part, long status,
                             const char *body, long secs)
{
	expectation *e = add(&default_fake, method, url_part);
	e->status = status;
	e->body = body;
	e->retry_after = secs;
}

void fake_expect_cut(const char *method, const char *url_part, long status, const char *body,
                     int error)
{
	expectation *e = add(&default_fake, method, url_part);
	e->status = status;
	e->body = body;
	e->cut_error = error;
}

void fake_expect_ws(const char *url_part, const char *subprotocol, long status,
                    const fake_message *msgs, size_t nmsgs, size_t after_sends, int open)
{
	expectation *e = add(&default_fake, "GET", url_part);
	size_t i;

	e->ws = 1;
	e->open = open;
	e->status = subprotocol ? 101 : status;
	snprintf(e->subprotocol, sizeof(e->subprotocol), "%s", subprotocol ? subprotocol : "");
	for (i = 0; i < nmsgs && i < FAKE_MSGS; i++)
		e->msgs[i] = msgs[i];
	e->nmsgs = i;
	e->after_sends = after_sends;
	if (!subprotocol)
		e->body = nmsgs ? msgs[0].data : "";
}

size_t fake_count_on(const fake *f) { return f->nrequests; }
const fake_request *fake_request_at_on(const fake *f, size_t i) { return &f->requests[i]; }
size_t fake_count(void) { return default_fake.nrequests; }
const fake_request *fake_request_at(size_t i) { return &default_fake.requests[i]; }
size_t fake_sent(void) { return default_fake.nsent; }
const fake_message *fake_sent_at(size_t i) { return &default_fake.sent[i]; }
size_t fake_unexpected_on(const fake *f) { return f->unexpected; }
size_t fake_unexpected(void) { return default_fake.unexpected; }

size_t fake_unused(void)
{
	size_t i, n = 0;

	for (i = 0; i < default_fake.nexpects; i++)
		n += !default_fake.expects[i].used;
	return n;
}

void fake_on_wait(void (*fn)(void *), void *ud)
{
	default_fake.wait_fn = fn;
	default_fake.wait_ud = ud;
}

static int f_create(void **state, void *arg)
{
	*state = arg ? arg : &default_fake;
	return 0;
}

static int f_start(void *state, gkx_http_request *req)
{
	fake *f = state;
	fake_request *r = &f->requests[f->nrequests < FAKE_MAX ? f->nrequests++ : FAKE_MAX - 1];
	size_t i, at = 0;

	snprintf(r->method, sizeof(r->method), "%s", req->method);
	snprintf(r->url, sizeof(r->url), "%s", req->url);
	snprintf(r->body, sizeof(r->body), "%.*s",
	         (int)(req->body_len < sizeof(r->body) - 1 ? req->body_len : sizeof(r->body) - 1),
	         req->body ? req->body : "");
	snprintf(r->auth, sizeof(r->auth), "%s", req->authorization ? req->authorization : "");
	r->subprotocols[0] = '\0';
	for (i = 0; i < req->nsubprotocols; i++)
		at += (size_t)snprintf(r->subprotocols + at, sizeof(r->subprotocols) - at, "%s%s",
		                       i ? "," : "", req->subprotocols[i]);
	req->done = 0;
	req->status = 0;
	req->error = 0;
	req->retry_after_s = 0;
	req->subprotocol[0] = '\0';
	for (i = 0; i < f->nexpects; i++) {
		expectation *e = &f->expects[i];
		if (!e->used && !strcmp(e->method, req->method) && strstr(req->url, e->url_part) &&
		    e->ws == (req->nsubprotocols > 0)) {
			e->used = 1;
			f->pending[f->npending] = req;
			f->pending_exp[f->npending++] = e;
			req->transport_data = e;
			return 0;
		}
	}
	f->unexpected++;
	f->pending[f->npending] = req;
	f->pending_exp[f->npending++] = NULL;
	req->transport_data = NULL;
	return 0;
}

static void drop(fake *f, size_t i)
{
	f->pending[i] = f->pending[f->npending - 1];
	f->pending_exp[i] = f->pending_exp[f->npending - 1];
	f->npending--;
}

static void f_cancel(void *state, gkx_http_request *req)
{
	fake *f = state;
	size_t i;

	for (i = 0; i < f->npending; i++)
		if (f->pending[i] == req) {
			drop(f, i);
			f->ncancelled++;
			return;
		}
}

size_t fake_cancelled(void) { return default_fake.ncancelled; }

static int f_send(void *state, gkx_http_request *req, int kind, const void *data, size_t len)
{
	fake *f = state;
	fake_message *m;
	char *copy;

	if (!req->transport_data || req->status != 101 || f->nsent >= FAKE_MAX)
		return GKX_EINVAL;
	copy = malloc(len + 1);
	if (!copy)
		return GKX_ENOMEM;
	memcpy(copy, data, len);
	copy[len] = '\0';
	m = &f->sent[f->nsent++];
	m->kind = kind;
	m->data = copy;
	m->len = len;
	return 0;
}

/* A WebSocket's next step: open it, or deliver one message, or end it. */
static int ws_step(fake *f, size_t i, gkx_http_request *req, expectation *e)
{
	if (!req->status && !e->status)
		return 0; /* an upgrade that is never answered */
	if (!req->status) {
		req->status = e->status;
		if (e->status == 101) {
			snprintf(req->subprotocol, sizeof(req->subprotocol), "%s", e->subprotocol);
		} else {
			if (e->body && *e->body && req->on_data)
				req->on_data(e->body, strlen(e->body), req->userdata);
			req->done = 1;
			drop(f, i);
		}
		return 1;
	}
	if (f->nsent < e->after_sends)
		return 0;
	if (e->next_msg < e->nmsgs) {
		const fake_message *m = &e->msgs[e->next_msg++];
		if (req->on_message && req->on_message(m->kind, m->data, m->len, req->userdata)) {
			req->error = GKX_ETOOBIG;
			req->done = 1;
			drop(f, i);
		}
		return 1;
	}
	if (!e->open) {
		req->done = 1;
		drop(f, i);
		return 1;
	}
	return 0;
}

/* Deliver one pending request per wait, body in two chunks (to exercise
 * the readers' joining of partial data). */
static int f_wait(void *state, int timeout_ms)
{
	fake *f = state;
	size_t i;

	if (f->wait_fn)
		f->wait_fn(f->wait_ud);
	for (i = 0; i < f->npending; i++) {
		gkx_http_request *req = f->pending[i];
		expectation *e = f->pending_exp[i];
		if (e && e->ws && !req->done) {
			if (ws_step(f, i, req, e))
				return 0;
			continue;
		}
		if (req->status || req->done)
			continue;
		if (e && e->delay > 0) {
			e->delay--;
			continue;
		}
		if (!e) {
			req->status = 404;
			req->done = 1;
			drop(f, i);
			return 0;
		}
		if (e->error) {
			req->error = e->error;
			snprintf(req->error_text, sizeof(req->error_text), "fake transport error");
			req->done = 1;
			drop(f, i);
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
				drop(f, i);
				return 0;
			}
		}
		if (e->cut_error) {
			req->error = e->cut_error;
			snprintf(req->error_text, sizeof(req->error_text), "connection cut (fake)");
		}
		if (!e->open) {
			req->done = 1;
			drop(f, i);
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
	fake *f = state;

	f->npending = 0;
}

const gkx_transport fake_transport = {
	GKX_TRANSPORT_VERSION, f_create, f_start, f_cancel, f_wait, f_destroy, f_send,
};

const gkx_transport fake_transport_v1 = {
	1, f_create, f_start, f_cancel, f_wait, f_destroy, NULL,
};
