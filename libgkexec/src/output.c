/* The output a run keeps for its result document (-o json, the session's
 * results for bindings): at most a cap of bytes, and the bytes as JSON.
 *
 * The last bytes are kept, not the first: the end of a script's output is
 * where its answer and its failure are (a Python traceback, the last error
 * message), and the start of a flood is rarely what anyone wants. A stream
 * to a terminal cannot take back what it wrote, so --limit-bytes there
 * keeps the first bytes (run_log.c); a result is rendered at the end and
 * can choose.
 *
 * JSON strings are Unicode and cJSON's end at a NUL, but a script may print
 * any byte. A text that is UTF-8 without NUL goes as it is; any other goes
 * with each ill-formed sequence and each NUL replaced by U+FFFD, and its
 * bytes in base64 beside it, so that no byte is lost. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FIRST_ALLOC 4096u

void gkx__capture_init(gkx__capture *c, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->cap = cap;
}

void gkx__capture_free(gkx__capture *c)
{
	free(c->ptr);
	gkx__capture_init(c, 0);
}

/* Room for `more` bytes, up to the cap: 0, or -1 when out of memory. */
static int capture_grow(gkx__capture *c, size_t more)
{
	size_t want = c->size ? c->size : FIRST_ALLOC;
	char *p;

	while (want < c->len + more && want < c->cap)
		want = want > c->cap / 2 ? c->cap : want * 2;
	if (want > c->cap)
		want = c->cap;
	if (want <= c->size)
		return 0;
	p = realloc(c->ptr, want);
	if (!p)
		return -1;
	c->ptr = p;
	c->size = want;
	return 0;
}

void gkx__capture_put(gkx__capture *c, const char *data, size_t len)
{
	size_t n;

	if (!c->cap || !len)
		return;
	if (len > c->cap) {
		data += len - c->cap;
		len = c->cap;
		c->dropped = 1;
	}
	if (c->len + len > c->size && c->size < c->cap && capture_grow(c, len) < 0) {
		c->dropped = 1; /* said in the result, never silent */
		return;
	}
	n = c->size - c->len < len ? c->size - c->len : len;
	if (n) {
		memcpy(c->ptr + c->len, data, n);
		c->len += n;
		data += n;
		len -= n;
	}
	/* Full (len == size == cap): a ring whose oldest byte is at head. */
	while (len) {
		c->dropped = 1;
		n = c->cap - c->head < len ? c->cap - c->head : len;
		memcpy(c->ptr + c->head, data, n);
		c->head = (c->head + n) % c->cap;
		data += n;
		len -= n;
	}
}

int gkx__capture_bytes(const gkx__capture *c, gkx_buf *out)
{
	size_t skip = 0;

	if (gkx__buf_put(out, c->ptr ? c->ptr + c->head : "", c->len - c->head) < 0 ||
	    gkx__buf_put(out, c->ptr ? c->ptr : "", c->head) < 0)
		return GKX_ENOMEM;
	/* A start cut inside a character would read as U+FFFD, and make a
	 * text look binary: begin at the next character. */
	while (c->dropped && skip < 3 && skip < out->len &&
	       ((unsigned char)out->ptr[skip] & 0xC0) == 0x80)
		skip++;
	gkx__buf_consume(out, skip);
	return 0;
}

/* The length of the well-formed UTF-8 sequence (Unicode 15, table 3-7) at
 * p, or 0 with *bad the length of its maximal ill-formed subpart: each such
 * subpart is one U+FFFD, as Python's errors="replace" and browsers count. */
static size_t utf8_sequence(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	*bad = 1;
	if (c >= 0x01 && c <= 0x7F)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 0; /* NUL, a continuation byte, C0, C1, F5-FF */
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

int gkx__utf8_text(gkx_buf *out, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t i = 0, bad, n;
	int replaced = 0;

	while (i < len) {
		n = utf8_sequence(p + i, len - i, &bad);
		if (n) {
			if (gkx__buf_put(out, p + i, n) < 0)
				return GKX_ENOMEM;
			i += n;
			continue;
		}
		if (gkx__buf_put(out, "\xEF\xBF\xBD", 3) < 0)
			return GKX_ENOMEM;
		i += bad;
		replaced = 1;
	}
	if (!out->ptr && gkx__buf_put(out, "", 0) < 0)
		return GKX_ENOMEM;
	return replaced;
}

int gkx__json_add_bytes(cJSON *obj, const char *name, const char *b64_name, const char *data,
                        size_t len)
{
	gkx_buf text = GKX_BUF_INIT, b64 = GKX_BUF_INIT;
	int rc = gkx__utf8_text(&text, data, len), ok;

	if (rc < 0)
		return rc;
	ok = cJSON_AddStringToObject(obj, name, text.ptr) != NULL;
	gkx__buf_free(&text);
	if (ok && rc == 0)
		ok = cJSON_AddNullToObject(obj, b64_name) != NULL;
	else if (ok)
		ok = gkx__base64_encode(&b64, (const unsigned char *)data, len) == 0 &&
		     cJSON_AddStringToObject(obj, b64_name, b64.ptr) != NULL;
	gkx__buf_free(&b64);
	return ok ? 0 : GKX_ENOMEM;
}
