/* libFuzzer: the log stream handler. The input is what a container wrote;
 * the target encodes it as the kubelet serves it with timestamps=true
 * (a time and a space before each record, lines cut into parts of a
 * size the input picks, every part stamped as a 1.20 kubelet does or
 * only the first as newer ones do, a last line with no newline) and
 * replays it as the run reads it: several requests, each from the log's
 * start and cut where the input chooses, in chunks the input sizes, some
 * failed (a non-200 Status body), some ended by the node's own error text
 * after a record, under a limit_bytes the input picks. Whatever happens,
 * the reader must receive the container's bytes exactly once, in order, up
 * to the limit, and never a byte of the node's text: any difference aborts.
 * What the result keeps of it (a capture of a size the input picks) is its
 * end, and survives the JSON text and base64 with every byte.
 * The wrapper's end marker (a fixed nonce here) ends the output wherever
 * it is followed by 1-3 digits and a newline, as a simple search says.
 *
 * Input: 5 bytes of settings, then the container's output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* What the result keeps (the run's capture of `cap` bytes) is the end of
 * what the reader got, from a character boundary; as JSON text it is
 * UTF-8, and its base64 gives every kept byte back. */
static void check_kept(const gkx_run *r, const char *out, size_t len, size_t cap)
{
	gkx_buf kept = GKX_BUF_INIT, text = GKX_BUF_INIT, again = GKX_BUF_INIT, b64 = GKX_BUF_INIT,
	        back = GKX_BUF_INIT;
	size_t i, from;

	if (gkx__capture_bytes(&r->cap_out, &kept) < 0)
		abort();
	from = len > cap ? len - cap : 0;
	if (kept.len > len - from || kept.len + 3 < len - from ||
	    (kept.len && memcmp(kept.ptr, out + len - kept.len, kept.len)) ||
	    r->cap_out.dropped != (len > cap))
		abort();
	for (i = from; i < len - kept.len; i++)
		if (((unsigned char)out[i] & 0xC0) != 0x80)
			abort(); /* only a cut character's continuation is skipped */
	if (gkx__utf8_text(&text, kept.ptr, kept.len) < 0 ||
	    gkx__utf8_text(&again, text.ptr, text.len) != 0 ||
	    gkx__base64_encode(&b64, (const unsigned char *)kept.ptr, kept.len) < 0 ||
	    gkx__base64_decode(&back, b64.ptr, b64.len) < 0 || back.len != kept.len ||
	    (kept.len && memcmp(back.ptr, kept.ptr, kept.len)))
		abort();
	gkx__buf_free(&kept);
	gkx__buf_free(&text);
	gkx__buf_free(&again);
	gkx__buf_free(&b64);
	gkx__buf_free(&back);
}

#define NODE_ERROR "rpc error: code = NotFound desc = an error occurred when try to find container"

static const char *const times[] = {
	"2026-11-30T06:29:09.123456789Z",
	"2026-11-30T06:29:09Z",
	"2026-11-30T07:29:09.5+01:00",
};

#define MARKER GKX_END_MARKER_PREFIX "fuzzfuzzfuzzfuzz:"

/* How much of the container's output is the script's: up to the first
 * marker that has its digits and newline. */
static size_t reference(const char *c, size_t n)
{
	size_t ml = strlen(MARKER), i, d;

	for (i = 0; i + ml <= n; i++) {
		if (memcmp(c + i, MARKER, ml))
			continue;
		for (d = i + ml; d < n && d - i - ml < 3 && c[d] >= '0' && c[d] <= '9'; d++)
			;
		if (d > i + ml && d < n && c[d] == '\n')
			return i;
	}
	return n;
}

static int collect(const char *data, size_t len, void *ud)
{
	return gkx__buf_put(ud, data, len) < 0;
}

/* A line's body is cut after `split` bytes; the newline is not counted. */
static void encode(gkx_buf *log, size_t *ends, size_t *nends, const char *c, size_t n, size_t split,
                   int stamp_parts, unsigned salt)
{
	size_t i = 0;

	*nends = 0;
	while (i < n) {
		const char *nl = memchr(c + i, '\n', n - i);
		size_t body = nl ? (size_t)(nl - (c + i)) : n - i, done = 0;
		int first = 1;
		do {
			size_t part = body - done > split ? split : body - done;
			int last = done + part == body;
			if (first || stamp_parts) {
				gkx__buf_puts(log, times[(salt + i + done) % 3]);
				gkx__buf_puts(log, " ");
			}
			gkx__buf_put(log, c + i + done, part);
			if (last && nl)
				gkx__buf_puts(log, "\n");
			done += part;
			first = 0;
			ends[(*nends)++] = log->len; /* a record ends here */
		} while (done < body);
		i += body + (nl ? 1 : 0);
	}
}

/* Inputs the format itself cannot tell apart, which the reader documents:
 * a newer kubelet's unstamped part that begins with a time and a space, and
 * a node error (the pod was deleted) glued to a last line that itself
 * holds the gRPC error's words. */
static int ambiguous(const char *c, size_t n, size_t split, int stamp_parts, int glue)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(c + i, '\n', n - i);
		size_t body = nl ? (size_t)(nl - (c + i)) : n - i, off;
		for (off = split; !stamp_parts && off < body; off += split) {
			const char *sp =
			        memchr(c + i + off, ' ', body - off < 41 ? body - off : 41);
			if (sp && gkx__log_valid_time(c + i + off, (size_t)(sp - (c + i + off))))
				return 1;
		}
		if (!nl && glue && body) {
			for (off = 0; off + 18 <= body; off++)
				if (!memcmp(c + i + off, "rpc error: code = ", 18))
					return 1;
		}
		i += body + (nl ? 1 : 0);
	}
	return 0;
}

/* Feed log[0, reach) to the handler in chunks of `chunk` bytes. */
static void feed(gkx_run *r, const char *log, size_t reach, size_t chunk)
{
	size_t off = 0;

	gkx__run_log_reset(r); /* a new request starts at the log's beginning */
	while (off < reach) {
		size_t n = reach - off < chunk ? reach - off : chunk;
		if (gkx__run_log_data(log + off, n, r))
			abort(); /* collect() never refuses */
		off += n;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	gkx_buf out = GKX_BUF_INIT, log = GKX_BUF_INIT;
	gkx_run r;
	const char *c;
	size_t n, limit, chunk, want, split, i, nends, *ends;
	unsigned nreq, flags;
	int stamp_parts, glue;

	if (size < 5)
		return 0;
	memset(&r, 0, sizeof(r));
	limit = data[0] < 128 ? 0 : (size_t)(data[0] - 128) * 3;
	chunk = 1 + data[1] % 32;
	nreq = 1 + data[2] % 8;
	split = 1 + data[3] % 64;
	flags = data[4];
	stamp_parts = flags & 1;
	glue = (flags & 2) != 0; /* the last request ends with the node's error */
	c = (const char *)data + 5;
	n = size - 5;
	if (ambiguous(c, n, split, stamp_parts, glue))
		return 0;
	ends = malloc((n + 1) * sizeof(*ends));
	if (!ends)
		return 0;
	encode(&log, ends, &nends, c, n, split, stamp_parts, flags);
	r.logp.split = split;
	snprintf(r.end_marker, sizeof(r.end_marker), "%s", MARKER);
	r.limit_bytes = limit;
	gkx__capture_init(&r.cap_out, 1 + (size_t)data[3] * 5);
	r.on_output = collect;
	r.output_ud = &out;
	for (i = 0; i < nreq; i++) {
		/* Earlier requests end early; the last one reads it all. */
		size_t reach = log.len;
		int last = i + 1 == nreq;
		if (!last && log.len) {
			/* two bytes of the log pick the fraction of it this request reads */
			unsigned long frac = (unsigned long)(unsigned char)log.ptr[i % log.len]
			                             << 8 |
			                     (unsigned char)log.ptr[(i + 1) % log.len];
			reach = (size_t)((unsigned long long)log.len * frac >> 16);
		}
		if (i % 3 == 1) {
			r.log.req.http.status = 500; /* a failed request: its body is a Status */
			feed(&r, log.ptr, reach, chunk);
			if (r.log.errbody.len > GKX_STREAM_MAX_ERROR_BODY)
				abort();
		}
		r.log.req.http.status = 200;
		if (!last && (flags & 4) && nends &&
		    log.ptr[ends[(flags >> 3) % nends] - 1] == '\n') {
			/* Ended cleanly by the node's error after a whole line. */
			gkx_buf cut = GKX_BUF_INIT;
			gkx__buf_put(&cut, log.ptr, ends[(flags >> 3) % nends]);
			gkx__buf_puts(&cut, NODE_ERROR);
			feed(&r, cut.ptr, cut.len, chunk);
			if (gkx__run_log_finish(&r) != 1)
				abort();
			gkx__buf_free(&cut);
			continue;
		}
		if (last && glue) {
			gkx__buf_puts(&log, NODE_ERROR);
			reach = log.len;
		}
		feed(&r, log.ptr, reach, chunk);
		if (last) {
			/* The node appends its text only when the pod is gone. */
			int rc = gkx__run_log_finish(&r);
			r.pod_deleted = glue;
			if (rc < 0 || gkx__run_log_flush(&r) != 0)
				abort();
			if ((rc == 1 || gkx__log_parser_foreign(&r.logp)) != glue)
				abort(); /* the node's text is seen exactly when it came */
		}
	}
	{
		size_t script = reference(c, n);
		want = limit && script > limit ? limit : script;
		if (out.len != want || (want && memcmp(out.ptr, c, want)) || r.delivered != n ||
		    r.given != want || r.truncated != (limit && script > limit) ||
		    r.marker_seen != (script < n))
			abort();
		check_kept(&r, out.ptr, out.len, r.cap_out.cap);
	}
	gkx__buf_free(&out);
	gkx__buf_free(&log);
	gkx__buf_free(&r.log.errbody);
	gkx__log_parser_reset(&r.logp);
	gkx__buf_free(&r.hold);
	gkx__capture_free(&r.cap_out);
	free(ends);
	return 0;
}
