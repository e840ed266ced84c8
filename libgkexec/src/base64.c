/* Base64 for kubeconfig *-data fields, basic auth and binary ConfigMap
 * data. None of the chosen dependencies exports a codec (libcurl's is
 * internal to it), so this small one lives here. */
#include "internal.h"

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int gkx__base64_decode(gkx_buf *out, const char *in, size_t len)
{
	unsigned long acc = 0;
	int bits = 0, pad = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;
		unsigned char byte;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad)
			return GKX_EINVAL; /* data after padding */
		v = b64_value(c);
		if (v < 0)
			return GKX_EINVAL;
		acc = ((acc << 6) | (unsigned long)v) & 0xffffffUL;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (unsigned char)((acc >> bits) & 0xffu);
			if (gkx__buf_put(out, &byte, 1) < 0)
				return GKX_ENOMEM;
		}
	}
	if (pad > 2 || bits >= 6)
		return GKX_EINVAL;
	if (!out->ptr && gkx__buf_put(out, "", 0) < 0)
		return GKX_ENOMEM;
	return 0;
}

int gkx__base64_encode(gkx_buf *out, const unsigned char *in, size_t len)
{
	static const char tbl[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned long)in[i + 2];
		q[0] = tbl[(v >> 18) & 63];
		q[1] = tbl[(v >> 12) & 63];
		q[2] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? tbl[v & 63] : '=';
		if (gkx__buf_put(out, q, 4) < 0)
			return GKX_ENOMEM;
	}
	if (!out->ptr && gkx__buf_put(out, "", 0) < 0)
		return GKX_ENOMEM;
	return 0;
}
