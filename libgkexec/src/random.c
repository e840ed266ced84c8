#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"

/* Lower-case letters and digits, as in the names kubectl's generateName
 * produces; n-1 characters plus the NUL. */
int gkx__random_suffix(char *out, size_t n, gkx_error *err)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char raw[64];
	size_t i, want = n - 1;

	if (n < 2 || want > sizeof(raw))
		return gkx__error_set(err, GKX_EINVAL, "bad random name length");
	if (getrandom(raw, want, 0) != (ssize_t)want)
		return gkx__error_set(err, GKX_ERROR, "getrandom: %s", strerror(errno));
	for (i = 0; i < want; i++)
		out[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	out[want] = '\0';
	return 0;
}

int gkx__random_bytes(void *out, size_t n, gkx_error *err)
{
	unsigned char *p = out;

	while (n) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return gkx__error_set(err, GKX_ERROR, "getrandom: %s", strerror(errno));
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}
