/* libFuzzer: what the server sends on an exec stream. The input's first
 * byte picks a chunk size; the rest is the server's bytes after the
 * upgrade. They are decoded twice, whole and in chunks, and both must
 * give the same messages and the same verdict (ws.c keeps no state that
 * depends on how bytes arrive); no message may pass the size limit, no
 * control frame be longer than 125 bytes. Each status-channel message,
 * and the input itself, goes through the exec status parser, whose exit
 * code must be -1 or 0..255 and agree with its return value. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

typedef struct {
	gkx_buf log; /* kind, length and bytes of every message, in order */
} seen;

static void check_status(const char *s, size_t len)
{
	char msg[128];
	int code = 7;
	int rc = gkx__exec_parse_status(s, len, &code, msg, sizeof(msg));

	if (code < -1 || code > 255 || (rc == 0) != (code >= 0) || strlen(msg) >= sizeof(msg))
		abort();
}

static int record(int kind, const char *data, size_t len, void *ud)
{
	seen *s = ud;
	unsigned char head[5];

	if (len > GKX_WS_MAX_MESSAGE || (kind >= 8 && len > 125))
		abort();
	if (kind == GKX_WS_BINARY && len && data[0] == 3)
		check_status(data + 1, len - 1);
	head[0] = (unsigned char)kind;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
	if (gkx__buf_put(&s->log, head, 5) < 0 || gkx__buf_put(&s->log, data, len) < 0)
		abort();
	return 0;
}

static int decode(const char *bytes, size_t len, size_t chunk, seen *s)
{
	gkx_ws_decoder d;
	size_t off = 0;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	d.on_message = record;
	d.ud = s;
	while (off < len && rc == 0) {
		size_t n = len - off < chunk ? len - off : chunk;
		rc = gkx__ws_feed(&d, bytes + off, n);
		off += n;
	}
	gkx__ws_decoder_reset(&d);
	return rc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	seen whole, parts;
	int rc1, rc2;

	if (size < 1)
		return 0;
	memset(&whole, 0, sizeof(whole));
	memset(&parts, 0, sizeof(parts));
	rc1 = decode((const char *)data + 1, size - 1, size, &whole);
	rc2 = decode((const char *)data + 1, size - 1, 1 + data[0] % 64, &parts);
	if (rc1 != rc2 || whole.log.len != parts.log.len ||
	    (whole.log.len && memcmp(whole.log.ptr, parts.log.ptr, whole.log.len)))
		abort();
	check_status((const char *)data + 1, size - 1);
	gkx__buf_free(&whole.log);
	gkx__buf_free(&parts.log);
	return 0;
}
