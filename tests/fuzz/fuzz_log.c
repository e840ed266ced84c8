/* libFuzzer: the log stream handler. The input is a container log; the
 * target replays it as the run reads it: several requests, each from the
 * log's start and cut at a point the input chooses, in chunks the input
 * sizes, with failed requests (a non-200 Status body) in between, under a
 * limit_bytes the input picks. Whatever the cuts, the reader must receive
 * the log exactly once, in order, up to the limit: any difference aborts. */
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

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	gkx_buf out = GKX_BUF_INIT;
	gkx_run r;
	const char *log;
	size_t len, limit, chunk, want, i;
	unsigned nreq;

	if (size < 3)
		return 0;
	memset(&r, 0, sizeof(r));
	limit = data[0] < 128 ? 0 : (size_t)(data[0] - 128) * 3;
	chunk = 1 + data[1] % 32;
	nreq = 1 + data[2] % 8;
	log = (const char *)data + 3;
	len = size - 3;
	r.limit_bytes = limit;
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
	want = limit && len > limit ? limit : len;
	if (out.len != want || (want && memcmp(out.ptr, log, want)) || r.delivered != len ||
	    r.given != want || r.truncated != (limit && len > limit))
		abort();
	gkx__buf_free(&out);
	gkx__buf_free(&r.log.errbody);
	return 0;
}
