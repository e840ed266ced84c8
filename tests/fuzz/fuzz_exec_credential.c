/* libFuzzer: what an exec credential plugin prints. */
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	gkx_buf b = GKX_BUF_INIT;
	gkx_exec_cred cred;
	gkx_error err;

	if (gkx__buf_put(&b, data, size) < 0)
		return 0;
	if (gkx__exec_credential_parse(&cred, b.ptr, b.len, "client.authentication.k8s.io/v1",
	                               &err) == 0)
		gkx__exec_cred_clear(&cred);
	gkx__buf_free(&b);
	return 0;
}
