/* WebSocket (RFC 6455) for the exec stream: the client's side of the
 * handshake and of the framing, as pure functions over bytes, so that the
 * transport only moves bytes and the tests and the fuzzer can feed any.
 *
 * Why not libcurl's WebSocket API: Debian's libcurl 7.88 is built without
 * it (curl_ws_send() answers CURLE_NOT_BUILT_IN). Why not libwslay: every
 * machine that installs the plugin from krew would then need libwslay too,
 * and the framing a client needs is small: it masks what it sends, and it
 * reads unmasked frames, joins fragments and answers pings. Checking the
 * server's Sec-WebSocket-Accept needs SHA-1, which libcurl does not expose;
 * it is here too, used for nothing else (it authenticates nothing: it only
 * proves the server understood the upgrade). */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* ---- SHA-1 (FIPS 180-4), for the handshake only ---- */

static unsigned long rol(unsigned long x, int n)
{
	return ((x << n) | (x >> (32 - n))) & 0xffffffffUL;
}

static void sha1_block(unsigned long h[5], const unsigned char *p)
{
	unsigned long w[80], a, b, c, d, e, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (unsigned long)p[4 * i] << 24 | (unsigned long)p[4 * i + 1] << 16 |
		       (unsigned long)p[4 * i + 2] << 8 | (unsigned long)p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	for (i = 0; i < 80; i++) {
		unsigned long f, k;
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999UL;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1UL;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdcUL;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6UL;
		}
		t = (rol(a, 5) + (f & 0xffffffffUL) + e + k + w[i]) & 0xffffffffUL;
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] = (h[0] + a) & 0xffffffffUL;
	h[1] = (h[1] + b) & 0xffffffffUL;
	h[2] = (h[2] + c) & 0xffffffffUL;
	h[3] = (h[3] + d) & 0xffffffffUL;
	h[4] = (h[4] + e) & 0xffffffffUL;
}

void gkx__sha1(unsigned char out[20], const void *data, size_t len)
{
	unsigned long h[5] = { 0x67452301UL, 0xefcdab89UL, 0x98badcfeUL, 0x10325476UL,
		               0xc3d2e1f0UL };
	const unsigned char *p = data;
	unsigned char block[64];
	size_t i, rest = len % 64;
	unsigned long long bits = (unsigned long long)len * 8;

	for (i = 0; i + 64 <= len; i += 64)
		sha1_block(h, p + i);
	memset(block, 0, sizeof(block));
	memcpy(block, p + i, rest);
	block[rest] = 0x80;
	if (rest >= 56) {
		sha1_block(h, block);
		memset(block, 0, sizeof(block));
	}
	for (i = 0; i < 8; i++)
		block[63 - i] = (unsigned char)(bits >> (8 * i));
	sha1_block(h, block);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ---- the handshake ---- */

int gkx__ws_accept_for(char out[29], const char *key)
{
	gkx_buf in = GKX_BUF_INIT, b64 = GKX_BUF_INIT;
	unsigned char digest[20];
	int rc = GKX_ENOMEM;

	if (gkx__buf_printf(&in, "%s%s", key, WS_GUID) == 0) {
		gkx__sha1(digest, in.ptr, in.len);
		if (gkx__base64_encode(&b64, digest, sizeof(digest)) == 0 && b64.len == 28) {
			memcpy(out, b64.ptr, 29);
			rc = 0;
		}
	}
	gkx__buf_free(&in);
	gkx__buf_free(&b64);
	return rc;
}

int gkx__ws_handshake(gkx_buf *out, char key[25], const char *url, const gkx_http_request *req,
                      gkx_error *err)
{
	unsigned char nonce[16];
	gkx_buf b64 = GKX_BUF_INIT;
	const char *rest, *path;
	size_t i, hostlen;
	int rc;

	/* https://host[:port]/path?query */
	rest = strstr(url, "://");
	if (!rest)
		return gkx__error_set(err, GKX_EINVAL, "not an absolute URL: %s", url);
	rest += 3;
	path = strchr(rest, '/');
	hostlen = path ? (size_t)(path - rest) : strlen(rest);
	if ((rc = gkx__random_bytes(nonce, sizeof(nonce), err)) < 0)
		return rc;
	if (gkx__base64_encode(&b64, nonce, sizeof(nonce)) < 0 || b64.len != 24) {
		gkx__buf_free(&b64);
		return gkx__error_oom(err);
	}
	memcpy(key, b64.ptr, 25);
	gkx__buf_free(&b64);
	rc = gkx__buf_printf(out,
	                     "GET %s HTTP/1.1\r\nHost: %.*s\r\nUpgrade: websocket\r\n"
	                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ",
	                     path ? path : "/", (int)hostlen, rest, key);
	for (i = 0; rc == 0 && i < req->nsubprotocols; i++)
		rc = gkx__buf_printf(out, "%s%s", i ? ", " : "", req->subprotocols[i]);
	rc = rc ? rc : gkx__buf_puts(out, "\r\n");
	if (rc == 0 && req->authorization)
		rc = gkx__buf_printf(out, "Authorization: %s\r\n", req->authorization);
	for (i = 0; rc == 0 && i < req->nheaders; i++)
		rc = gkx__buf_printf(out, "%s: %s\r\n", req->headers[i].name,
		                     req->headers[i].value);
	if (rc == 0)
		rc = gkx__buf_printf(out, "User-Agent: kubectl-sandbox-run/%s (libgkexec)\r\n\r\n",
		                     GKX_VERSION);
	return rc < 0 ? gkx__error_oom(err) : 0;
}

/* ---- an HTTP/1.1 answer's head ---- */

/* n bytes equal a lower-case word, ignoring ASCII case (header names and
 * the tokens RFC 6455 4.1 names are case-insensitive). */
static int lower_eq(const char *s, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return 0;
	}
	return 1;
}

/* A comma-separated header value holds the token, in any case
 * ("Connection: keep-alive, Upgrade"). */
static int has_token(const char *v, size_t n, const char *token)
{
	size_t i = 0, start, end;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end > start && lower_eq(v + start, end - start, token))
			return 1;
	}
	return 0;
}

static int header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
	size_t k = strlen(name), i;

	if (n <= k || line[k] != ':' || !lower_eq(line, k, name))
		return 0;
	i = k + 1;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	*value = line + i;
	*vlen = n - i;
	while (*vlen && (line[i + *vlen - 1] == ' ' || line[i + *vlen - 1] == '\t'))
		(*vlen)--;
	return 1;
}

int gkx__http1_head(gkx_http1_head *h, const char *data, size_t len)
{
	const char *end = NULL, *line, *p;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	for (i = 0; i + 3 < len; i++)
		if (!memcmp(data + i, "\r\n\r\n", 4)) {
			end = data + i;
			break;
		}
	if (!end)
		return len > GKX_HTTP1_MAX_HEAD ? GKX_EPROTO : 0;
	h->head_len = (size_t)(end - data) + 4;
	/* HTTP/1.1 101 Switching Protocols */
	if (end - data < 12 || memcmp(data, "HTTP/1.", 7) || data[8] != ' ' || data[9] < '1' ||
	    data[9] > '5' || data[10] < '0' || data[10] > '9' || data[11] < '0' || data[11] > '9')
		return GKX_EPROTO;
	h->status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
	line = memchr(data, '\n', (size_t)(end - data));
	while (line && line < end) {
		const char *value;
		size_t n, vlen;
		line++;
		p = memchr(line, '\r', (size_t)(end + 2 - line));
		if (!p)
			break;
		n = (size_t)(p - line);
		if (header_is(line, n, "sec-websocket-accept", &value, &vlen))
			snprintf(h->accept, sizeof(h->accept), "%.*s", (int)vlen, value);
		else if (header_is(line, n, "sec-websocket-protocol", &value, &vlen))
			snprintf(h->protocol, sizeof(h->protocol), "%.*s", (int)vlen, value);
		else if (header_is(line, n, "upgrade", &value, &vlen))
			h->upgrade_websocket = lower_eq(value, vlen, "websocket");
		else if (header_is(line, n, "connection", &value, &vlen))
			h->connection_upgrade |= has_token(value, vlen, "upgrade");
		else if (header_is(line, n, "content-length", &value, &vlen)) {
			long long v = 0;
			size_t k;
			for (k = 0; k < vlen && value[k] >= '0' && value[k] <= '9' && v < 1LL << 40;
			     k++)
				v = v * 10 + (value[k] - '0');
			h->content_length = k == vlen && vlen ? v : -1;
		} else if (header_is(line, n, "transfer-encoding", &value, &vlen))
			h->chunked = vlen >= 7 && lower_eq(value + vlen - 7, 7, "chunked");
		else if (header_is(line, n, "retry-after", &value, &vlen)) {
			long v = 0;
			size_t k;
			for (k = 0; k < vlen && value[k] >= '0' && value[k] <= '9' && v < 100000;
			     k++)
				v = v * 10 + (value[k] - '0');
			h->retry_after_s = v;
		}
		line = memchr(p, '\n', (size_t)(end + 2 - p));
	}
	return 1;
}

int gkx__http1_dechunk(gkx_buf *out, const char *in, size_t len)
{
	size_t i = 0;

	out->len = 0;
	for (;;) {
		unsigned long long n = 0;
		size_t digits = 0;
		const char *eol;
		while (i < len) {
			char c = in[i];
			int v = c >= '0' && c <= '9'   ? c - '0'
			        : c >= 'a' && c <= 'f' ? c - 'a' + 10
			        : c >= 'A' && c <= 'F' ? c - 'A' + 10
			                               : -1;
			if (v < 0)
				break;
			if (++digits > 8)
				return GKX_EPROTO;
			n = n * 16 + (unsigned long long)v;
			i++;
		}
		eol = i < len ? memchr(in + i, '\n', len - i) : NULL;
		if (!eol)
			return 0;
		if (!digits)
			return GKX_EPROTO;
		i = (size_t)(eol - in) + 1; /* chunk extensions are skipped */
		if (n == 0) {
			/* the last chunk, then trailers up to an empty line */
			for (;;) {
				eol = i < len ? memchr(in + i, '\n', len - i) : NULL;
				if (!eol)
					return 0;
				if (eol == in + i || (eol == in + i + 1 && in[i] == '\r'))
					return 1;
				i = (size_t)(eol - in) + 1;
			}
		}
		if (len - i < n + 2)
			return 0;
		if (gkx__buf_put(out, in + i, (size_t)n) < 0)
			return GKX_ENOMEM;
		i += (size_t)n;
		if (in[i] == '\r')
			i++;
		if (i >= len || in[i] != '\n')
			return GKX_EPROTO;
		i++;
	}
}

/* ---- frames ---- */

int gkx__ws_encode(gkx_buf *out, int opcode, const void *data, size_t len,
                   const unsigned char mask[4])
{
	unsigned char head[14];
	size_t n = 0, i, at;

	head[n++] = (unsigned char)(0x80 | (opcode & 0x0f)); /* FIN: we never fragment */
	if (len < 126) {
		head[n++] = (unsigned char)(0x80 | len);
	} else if (len <= 0xffff) {
		head[n++] = 0x80 | 126;
		head[n++] = (unsigned char)(len >> 8);
		head[n++] = (unsigned char)len;
	} else {
		head[n++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			head[n++] = (unsigned char)((unsigned long long)len >> (56 - 8 * i));
	}
	memcpy(head + n, mask, 4);
	n += 4;
	at = out->len;
	if (gkx__buf_put(out, head, n) < 0 || gkx__buf_put(out, data, len) < 0)
		return GKX_ENOMEM;
	for (i = 0; i < len; i++)
		out->ptr[at + n + i] ^= (char)mask[i % 4];
	return 0;
}

void gkx__ws_decoder_reset(gkx_ws_decoder *d)
{
	gkx__buf_free(&d->in);
	gkx__buf_free(&d->message);
	d->message_kind = 0;
	d->closed = 0;
}

static int deliver(gkx_ws_decoder *d, int kind, const char *data, size_t len)
{
	return d->on_message ? d->on_message(kind, data, len, d->ud) : 0;
}

/* RFC 6455 7.4.1 and IANA's registry: 1004 is reserved, and 1005, 1006
 * and 1015 stand for "no code", "no Close" and "TLS failed" and never
 * travel in a frame; 1016-2999 are unassigned, 3000-4999 are for
 * libraries and applications. */
static int close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

/* One whole frame at the start of d->in: its size, or 0 when more bytes are
 * needed, or a GKX_E* code. */
static long long frame(gkx_ws_decoder *d)
{
	const unsigned char *p = (const unsigned char *)d->in.ptr;
	size_t have = d->in.len, head = 2, i;
	unsigned long long len;
	int fin, op, rc = 0;

	if (have < 2)
		return 0;
	fin = p[0] & 0x80;
	op = p[0] & 0x0f;
	if (p[0] & 0x70)
		return GKX_EPROTO; /* no extension was negotiated */
	if (p[1] & 0x80)
		return GKX_EPROTO; /* a server never masks */
	len = p[1] & 0x7f;
	if (len == 126) {
		if (have < 4)
			return 0;
		len = (unsigned long long)p[2] << 8 | p[3];
		head = 4;
	} else if (len == 127) {
		if (have < 10)
			return 0;
		for (len = 0, i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		head = 10;
	}
	if (len > GKX_WS_MAX_MESSAGE)
		return GKX_ETOOBIG;
	if (have - head < len)
		return 0;
	if (op >= 8) {
		/* Control frames: whole, at most 125 bytes, between fragments too. */
		if (!fin || len > 125)
			return GKX_EPROTO;
		if (op == GKX_WS_CLOSE) {
			/* A body is nothing, or a code and a reason (5.5.1). */
			if (len == 1 ||
			    (len >= 2 && !close_code_valid((unsigned)p[head] << 8 | p[head + 1])))
				return GKX_EPROTO;
			d->closed = 1;
		}
		if (op == 9 || op == 10 || op == GKX_WS_CLOSE)
			rc = deliver(d, op, (const char *)p + head, (size_t)len);
		else
			return GKX_EPROTO;
	} else if (op == 0) {
		if (!d->message_kind)
			return GKX_EPROTO; /* a continuation of nothing */
		if (d->message.len + len > GKX_WS_MAX_MESSAGE)
			return GKX_ETOOBIG;
		if (gkx__buf_put(&d->message, p + head, (size_t)len) < 0)
			return GKX_ENOMEM;
		if (fin) {
			rc = deliver(d, d->message_kind, d->message.ptr, d->message.len);
			d->message.len = 0;
			d->message_kind = 0;
		}
	} else if (op == GKX_WS_TEXT || op == GKX_WS_BINARY) {
		if (d->message_kind)
			return GKX_EPROTO; /* a new message inside a fragmented one */
		if (fin) {
			rc = deliver(d, op, (const char *)p + head, (size_t)len);
		} else {
			d->message_kind = op;
			d->message.len = 0;
			if (gkx__buf_put(&d->message, p + head, (size_t)len) < 0)
				return GKX_ENOMEM;
		}
	} else {
		return GKX_EPROTO;
	}
	if (rc)
		return GKX_ECANCELED;
	return (long long)(head + len);
}

int gkx__ws_feed(gkx_ws_decoder *d, const char *data, size_t len)
{
	long long n;

	/* After a Close the server may send nothing more (5.5.1): whatever
	 * comes is dropped, never delivered. */
	if (d->closed)
		return 0;
	if (gkx__buf_put(&d->in, data, len) < 0)
		return GKX_ENOMEM;
	while ((n = frame(d)) > 0) {
		gkx__buf_consume(&d->in, (size_t)n);
		if (d->closed) {
			d->in.len = 0;
			break;
		}
	}
	return n < 0 ? (int)n : 0;
}
