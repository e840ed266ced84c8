/* libFuzzer: the log stream handler. The input is a container log; the
 * target replays it as the run reads it: several requests, each from the
 * log's start and cut at a point the input chooses, in chunks the input
 * sizes, with failed requests (a non-200 Status body) in between, under a
 * limit_bytes the input picks. Whatever the cuts, the reader must receive
 * the log exactly once, in order, up to the end marker line and the limit,
 * and the marker's exit code must be read: any difference from a plain
 * reading of the whole log (reference() below) aborts. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int collect(const char *data, size_t len, void *ud)
{
	return gkx__buf_put(ud, data, len) < 0;
}

/* Feed log[0, reach) to the handler in chunks of `chunk` bytes. */
static void feed(gkx_run *r, const char *log, size_t reach, size_t chunk)
{
	size_t off = 0;

	r->seen = 0; /* a new request starts at the log's beginning */
	while (off < reach) {
		size_t n = reach - off < chunk ? reach - off : chunk;
		if (gkx__run_log_data(log + off, n, r))
			abort(); /* collect() never refuses */
		off += n;
	}
}

#define MARKER "sandbox-run-end:fz:"

/* The whole log at once: the output is what precedes the first marker
 * followed by 1 to 3 digits and a newline; *code is its number, or -1. */
static size_t reference(const char *log, size_t len, int *code)
{
	size_t ml = strlen(MARKER), from = 0;
	const char *p;

	*code = -1;
	while ((p = memmem(log + from, len - from, MARKER, ml)) != NULL) {
		size_t at = (size_t)(p - log), d = at + ml;
		int n = 0;
		while (d < len && d - at - ml < 3 && log[d] >= '0' && log[d] <= '9')
			n = n * 10 + (log[d++] - '0');
		if (d > at + ml && d < len && log[d] == '\n') {
			*code = n;
			return at;
		}
		from = at + 1;
	}
	return len;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	gkx_buf out = GKX_BUF_INIT;
	gkx_run r;
	const char *log;
	size_t len, limit, chunk, want, plain, i;
	unsigned nreq;
	int code;

	if (size < 3)
		return 0;
	memset(&r, 0, sizeof(r));
	limit = data[0] < 128 ? 0 : (size_t)(data[0] - 128) * 3;
	chunk = 1 + data[1] % 32;
	nreq = 1 + data[2] % 8;
	log = (const char *)data + 3;
	len = size - 3;
	r.limit_bytes = limit;
	memcpy(r.end_marker, MARKER, sizeof(MARKER));
	r.end_len = strlen(MARKER);
	r.on_output = collect;
	r.output_ud = &out;
	for (i = 0; i < nreq; i++) {
		/* Earlier requests are cut somewhere; the last one reads it all. */
		size_t reach = len;
		if (i + 1 < nreq && len) {
			/* two bytes of the log pick the fraction of it this request reads */
			unsigned long frac = (unsigned long)(unsigned char)log[i % len] << 8 |
			                     (unsigned char)log[(i + 1) % len];
			reach = (size_t)((unsigned long long)len * frac >> 16);
		}
		if (i % 3 == 1) {
			r.log.req.status = 500; /* a failed request: its body is a Status */
			feed(&r, log, reach, chunk);
			if (r.log.errbody.len > GKX_STREAM_MAX_ERROR_BODY)
				abort();
			gkx__buf_free(&r.log.errbody);
		}
		r.log.req.status = 200;
		feed(&r, log, reach, chunk);
	}
	if (gkx__run_log_flush(&r))
		abort();
	plain = reference(log, len, &code);
	want = limit && plain > limit ? limit : plain;
	if (out.len != want || (want && memcmp(out.ptr, log, want)) || r.delivered != len ||
	    r.given != want || r.truncated != (limit && plain > limit) || r.marker_seen != (code >= 0) ||
	    (code >= 0 && r.marker_exit != code) || r.hold.len)
		abort();
	gkx__buf_free(&out);
	gkx__buf_free(&r.log.errbody);
	gkx__buf_free(&r.hold);
	return 0;
}
