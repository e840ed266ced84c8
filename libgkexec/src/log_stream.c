/* The kubelet's container log, read with timestamps=true, turned back into
 * the bytes the container wrote.
 *
 * Why timestamps: the kubelet streams a log with status 200, and when
 * something fails after the first byte (the container was removed while the
 * log was followed, as at a deadline), it appends its own error text to the
 * same body: "rpc error: code = NotFound desc = an error occurred when try
 * to find container ...". Without timestamps that text is indistinguishable
 * from the script's output. With them, every record the container wrote
 * starts with an RFC 3339 time and a space, and anything that does not is
 * the node talking, never the script.
 *
 * The record format: "TIME SP CONTENT", CONTENT ending in '\n' for a whole
 * line. containerd cuts a line longer than its max_container_log_line_size
 * (16 KiB by default) into partial records with no newline; a 1.20 kubelet
 * prefixes each part with its own time, newer ones only the first. A record
 * with no newline that is shorter than that can only be the container's
 * last (it ended without a newline), and the kubelet's error may follow it
 * directly, so such content is held back until the stream ends cleanly and
 * then cut before a gRPC error ("rpc error: code = "). */
#include <string.h>

#include "internal.h"

enum { S_START, S_CONTENT, S_SPLIT, S_FOREIGN };

#define TS_MAX       40 /* "2006-01-02T15:04:05.999999999+07:00" is 35 */
#define FOREIGN_KEEP 1024
#define GRPC_ERROR   "rpc error: code = "

static int digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int gkx__log_valid_time(const char *s, size_t n)
{
	size_t i = 19;

	/* YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+HH:MM|-HH:MM) */
	if (n < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return 0;
	if (s[i] == '.') {
		size_t f = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f || i - f > 9)
			return 0;
	}
	if (i + 1 == n && s[i] == 'Z')
		return 1;
	return i + 6 == n && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2) &&
	       s[i + 3] == ':' && digits(s + i + 4, 2);
}

static int may_be_time(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == '.' || c == 'Z' ||
	       c == '+';
}

void gkx__log_parser_reset(gkx_log_parser *p)
{
	size_t split = p->split;

	gkx__buf_free(&p->held);
	gkx__buf_free(&p->foreign);
	memset(p, 0, sizeof(*p));
	p->split = split ? split : GKX_LOG_SPLIT;
}

static int keep_foreign(gkx_log_parser *p, const char *data, size_t len)
{
	size_t room = p->foreign.len < FOREIGN_KEEP ? FOREIGN_KEEP - p->foreign.len : 0;

	p->state = S_FOREIGN;
	return gkx__buf_put(&p->foreign, data, len < room ? len : room) < 0 ? GKX_ENOMEM : 0;
}

/* Hand over the held content and then `len` more bytes. */
static int emit(gkx_log_parser *p, const char *data, size_t len, gkx_data_cb out, void *ud)
{
	if (p->held.len) {
		int stop = out(p->held.ptr, p->held.len, ud);
		p->held.len = 0;
		if (stop)
			return 1;
	}
	return len ? out(data, len, ud) : 0;
}

int gkx__log_parse(gkx_log_parser *p, const char *data, size_t len, gkx_data_cb out, void *ud)
{
	size_t i = 0;

	if (!p->split)
		p->split = GKX_LOG_SPLIT;
	while (i < len) {
		if (p->state == S_FOREIGN)
			return keep_foreign(p, data + i, len - i);
		if (p->state == S_START || p->state == S_SPLIT) {
			char c = data[i];
			if (c == ' ' && p->tslen && gkx__log_valid_time(p->ts, p->tslen)) {
				p->tslen = 0;
				p->reclen = 0;
				p->state = S_CONTENT;
				i++;
				continue;
			}
			if (may_be_time(c) && p->tslen < TS_MAX) {
				p->ts[p->tslen++] = c;
				i++;
				continue;
			}
			/* Not a time. After a full record that is the kubelet's own
			 * text; after a 16 KiB part it is the line going on (a newer
			 * kubelet does not stamp the parts). */
			if (p->state == S_START) {
				int rc = keep_foreign(p, p->ts, p->tslen);
				p->tslen = 0;
				if (rc < 0)
					return rc;
				continue;
			}
			p->state = S_CONTENT;
			if (p->tslen) {
				if (gkx__buf_put(&p->held, p->ts, p->tslen) < 0)
					return GKX_ENOMEM;
				p->reclen += p->tslen;
				p->tslen = 0;
			}
			continue;
		}
		/* S_CONTENT: up to a newline, or up to the part size. */
		{
			size_t room = p->split > p->reclen ? p->split - p->reclen : 0;
			size_t n = len - i < room ? len - i : room;
			const char *nl = memchr(data + i, '\n', n);
			if (nl) {
				size_t k = (size_t)(nl - (data + i)) + 1;
				if (emit(p, data + i, k, out, ud))
					return 1;
				i += k;
				p->state = S_START;
				continue;
			}
			if (gkx__buf_put(&p->held, data + i, n) < 0)
				return GKX_ENOMEM;
			p->reclen += n;
			i += n;
			/* Only the end of a line with no newline yet may turn out to
			 * carry the node's text: hand over all but that much. */
			if (p->held.len >= 2 * GKX_LOG_HOLD) {
				size_t give = p->held.len - GKX_LOG_HOLD;
				int stop = out(p->held.ptr, give, ud);
				gkx__buf_consume(&p->held, give);
				if (stop)
					return 1;
			}
			if (p->reclen >= p->split) {
				p->reclen = 0;
				p->state = S_SPLIT;
			}
		}
	}
	return 0;
}

int gkx__log_parse_end(gkx_log_parser *p)
{
	/* A clean end inside a would-be time: after a part, the line going
	 * on; after a whole line, not a record, so the node's. */
	if (p->tslen) {
		int rc = p->state == S_SPLIT ? gkx__buf_put(&p->held, p->ts, p->tslen)
		                             : keep_foreign(p, p->ts, p->tslen);
		p->tslen = 0;
		p->state = p->state == S_SPLIT ? S_CONTENT : p->state;
		if (rc < 0)
			return GKX_ENOMEM;
	}
	return gkx__log_parser_foreign(p);
}

int gkx__log_parse_flush(gkx_log_parser *p, int removed, gkx_data_cb out, void *ud)
{
	size_t keep = p->held.len, n = strlen(GRPC_ERROR), at;
	int rc = 0;

	if (!p->held.len)
		return 0;
	for (at = 0; removed && at + n <= p->held.len; at++) {
		if (!memcmp(p->held.ptr + at, GRPC_ERROR, n)) {
			keep = at;
			if ((rc = keep_foreign(p, p->held.ptr + at, p->held.len - at)) < 0)
				return rc;
			break;
		}
	}
	if (keep && out(p->held.ptr, keep, ud))
		rc = 1;
	p->held.len = 0;
	return rc;
}

int gkx__log_parser_foreign(const gkx_log_parser *p)
{
	return p->state == S_FOREIGN || p->foreign.len > 0;
}
