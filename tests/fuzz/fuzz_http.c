/* libFuzzer: what a server answers to the exec stream's WebSocket
 * upgrade, read by ws.c's HTTP/1.1 head parser and, for a refusal with
 * chunks, its chunked decoder. Both read network bytes before any frame.
 *
 * The head parser must say "not yet" (0) for anything shorter than its
 * limit that has no empty line, and once it has parsed a head, parse the
 * same head from those bytes alone, with a status from 100 to 599 and
 * NUL-terminated strings. The chunked decoder, given the bytes after the
 * head (or the whole input when there is none), must give no more bytes
 * than it got, and decide the same on any longer input once a prefix has
 * decided (complete or broken): the transport feeds it growing prefixes.
 * What it decodes, chunked again in sizes the first byte picks, must
 * decode to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_head(const char *in, size_t len, size_t *body_at)
{
	gkx_http1_head h, again;
	int rc = gkx__http1_head(&h, in, len);

	*body_at = 0;
	if (rc == 0) {
		if (len > GKX_HTTP1_MAX_HEAD)
			abort();
		return;
	}
	if (rc != 1) {
		if (rc != GKX_EPROTO)
			abort();
		return;
	}
	if (h.head_len < 16 || h.head_len > len || h.status < 100 || h.status > 599 ||
	    h.content_length < -1 || h.retry_after_s < 0 ||
	    memchr(h.accept, '\0', sizeof(h.accept)) == NULL ||
	    memchr(h.protocol, '\0', sizeof(h.protocol)) == NULL)
		abort();
	/* The head alone parses the same; one byte less is not whole yet. */
	if (gkx__http1_head(&again, in, h.head_len) != 1 || memcmp(&h, &again, sizeof(h)))
		abort();
	if (gkx__http1_head(&again, in, h.head_len - 1) !=
	    (h.head_len - 1 > GKX_HTTP1_MAX_HEAD ? GKX_EPROTO : 0))
		abort();
	*body_at = h.head_len;
}

/* The decoder's verdict on a prefix holds for the whole. */
static void check_prefix(const char *in, size_t cut, int whole_rc, const gkx_buf *whole)
{
	gkx_buf part = GKX_BUF_INIT;
	int rc = gkx__http1_dechunk(&part, in, cut);

	if (rc == GKX_ENOMEM)
		abort();
	if (rc == 1 &&
	    (whole_rc != 1 || part.len != whole->len || memcmp(part.ptr, whole->ptr, part.len)))
		abort();
	if (rc == GKX_EPROTO && whole_rc != GKX_EPROTO)
		abort();
	gkx__buf_free(&part);
}

/* Chunk the decoded body again, in pieces of `step`, and decode that. */
static void check_round_trip(const gkx_buf *body, size_t step)
{
	gkx_buf chunked = GKX_BUF_INIT, back = GKX_BUF_INIT;
	size_t off = 0;

	while (off < body->len) {
		size_t n = body->len - off < step ? body->len - off : step;
		if (gkx__buf_printf(&chunked, "%zx\r\n", n) < 0 ||
		    gkx__buf_put(&chunked, body->ptr + off, n) < 0 ||
		    gkx__buf_puts(&chunked, "\r\n") < 0)
			abort();
		off += n;
	}
	if (gkx__buf_puts(&chunked, "0\r\n\r\n") < 0)
		abort();
	if (gkx__http1_dechunk(&back, chunked.ptr, chunked.len) != 1 || back.len != body->len ||
	    (back.len && memcmp(back.ptr, body->ptr, back.len)))
		abort();
	gkx__buf_free(&chunked);
	gkx__buf_free(&back);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *in = (const char *)data;
	gkx_buf body = GKX_BUF_INIT;
	size_t at, len;
	int rc;

	if (size < 1)
		return 0;
	check_head(in, size, &at);
	len = size - at;
	rc = gkx__http1_dechunk(&body, in + at, len);
	if (rc != 0 && rc != 1 && rc != GKX_EPROTO)
		abort();
	if (body.len > len)
		abort();
	if (len)
		check_prefix(in + at, data[0] % len, rc, &body);
	if (rc == 1)
		check_round_trip(&body, 1 + data[0] % 16);
	gkx__buf_free(&body);
	return 0;
}
