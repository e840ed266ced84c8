/* libFuzzer: an API server's error body (a Status, or anything). */
#include "internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	gkx_buf b = GKX_BUF_INIT;
	gkx_error err;
	long status = size ? 400 + data[0] % 200 : 500;

	if (gkx__buf_put(&b, data, size) < 0)
		return 0;
	gkx__api_status_error(&err, status, b.ptr, b.len, "fuzzing");
	gkx__buf_free(&b);
	return 0;
}
