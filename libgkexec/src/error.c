#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *gkx_strerror(int code)
{
	switch (code) {
	case GKX_OK: return "success";
	case GKX_ERROR: return "error";
	case GKX_ENOMEM: return "out of memory";
	case GKX_EINVAL: return "invalid argument";
	case GKX_ECONFIG: return "invalid or missing kubeconfig";
	case GKX_EIO: return "cannot read a local file";
	case GKX_ETRANSPORT: return "cannot reach the API server";
	case GKX_EAPI: return "the API server refused the request";
	case GKX_ENOTFOUND: return "not found";
	case GKX_ECONFLICT: return "already exists or conflicts";
	case GKX_EFORBIDDEN: return "forbidden";
	case GKX_EUNAUTHORIZED: return "unauthorized";
	case GKX_ETIMEOUT: return "timed out";
	case GKX_ECANCELED: return "canceled";
	case GKX_EGONE: return "resource version expired";
	case GKX_EPROTO: return "unexpected answer from the API server";
	case GKX_ETOOBIG: return "too large";
	case GKX_ESTART: return "the pod did not start";
	default: return "unknown error";
	}
}

void gkx_error_clear(gkx_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
}

int gkx__error_set(gkx_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

void gkx__error_prefix(gkx_error *err, const char *fmt, ...)
{
	gkx_buf b = GKX_BUF_INIT;
	va_list ap;
	size_t n;
	int n1;

	if (!err)
		return;
	va_start(ap, fmt);
	n1 = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n1 < 0 || gkx__buf_put(&b, "", 0) < 0)
		return;
	{
		char *prefix = malloc((size_t)n1 + 1);
		if (!prefix) {
			gkx__buf_free(&b);
			return;
		}
		va_start(ap, fmt);
		vsnprintf(prefix, (size_t)n1 + 1, fmt, ap);
		va_end(ap);
		if (gkx__buf_printf(&b, "%s: %s", prefix, err->message) < 0)
			b.len = 0;
		free(prefix);
	}
	if (b.len) {
		/* The message is bounded: keep the start, which names the file. */
		n = b.len < sizeof(err->message) - 1 ? b.len : sizeof(err->message) - 1;
		memcpy(err->message, b.ptr, n);
		err->message[n] = '\0';
	}
	gkx__buf_free(&b);
}

int gkx__error_oom(gkx_error *err) { return gkx__error_set(err, GKX_ENOMEM, "out of memory"); }

const char *gkx_version(void) { return GKX_VERSION; }
