#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define GKX__ERROR_ROW(name, value, short_name, text) { value, short_name, text },
static const struct {
	int code;
	const char *name;
	const char *text;
} errors[] = { GKX_ERROR_MAP(GKX__ERROR_ROW) };
#undef GKX__ERROR_ROW

const char *gkx_strerror(int code)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(*errors); i++)
		if (errors[i].code == code)
			return errors[i].text;
	return "unknown error";
}

const char *gkx_error_name(int code)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(*errors); i++)
		if (errors[i].code == code)
			return errors[i].name;
	return "unknown";
}

void gkx_error_clear(gkx_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
}

/* Each failure starts clean: an HTTP status or Status reason left by an
 * earlier, handled failure would otherwise be reported with this one. The
 * message is formatted aside first, since its arguments may name the old
 * message. */
int gkx__error_set(gkx_error *err, int code, const char *fmt, ...)
{
	gkx_error fresh;
	va_list ap;

	if (!err)
		return code;
	memset(&fresh, 0, sizeof(fresh));
	fresh.code = code;
	va_start(ap, fmt);
	vsnprintf(fresh.message, sizeof(fresh.message), fmt, ap);
	va_end(ap);
	*err = fresh;
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

int gkx__check_version(const void *versioned, unsigned current, const char *name, gkx_error *err)
{
	unsigned version;

	if (!versioned)
		return gkx__error_set(err, GKX_EINVAL, "no %s given", name);
	memcpy(&version, versioned, sizeof(version));
	if (version == 0)
		return gkx__error_set(err, GKX_EINVAL,
		                      "%s not initialised: fill it with its _init() function or "
		                      "_INIT macro",
		                      name);
	if (version > current)
		return gkx__error_set(
		        err, GKX_EINVAL,
		        "%s version %u is newer than this libgkexec's (%u): run with the "
		        "libgkexec whose header the program was built against",
		        name, version, current);
	return 0;
}

void gkx__copy_versioned(void *dst, size_t dst_size, const void *src, size_t src_size)
{
	memset(dst, 0, dst_size);
	memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
}

int gkx__error_clear_ok(gkx_error *err)
{
	gkx_error_clear(err);
	return 0;
}

int gkx__error_oom(gkx_error *err) { return gkx__error_set(err, GKX_ENOMEM, "out of memory"); }

const char *gkx_version(void) { return GKX_VERSION; }
