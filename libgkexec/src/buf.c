#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int buf_grow(gkx_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > (size_t)-1 - b->len - 1)
		return GKX_ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap && b->ptr)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	p = realloc(b->ptr, cap);
	if (!p)
		return GKX_ENOMEM;
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int gkx__buf_put(gkx_buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len) < 0)
		return GKX_ENOMEM;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int gkx__buf_puts(gkx_buf *b, const char *s) { return gkx__buf_put(b, s, strlen(s)); }

int gkx__buf_printf(gkx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return GKX_ERROR;
	if (buf_grow(b, (size_t)n) < 0)
		return GKX_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void gkx__buf_consume(gkx_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->ptr, b->ptr + n, b->len - n);
		b->len -= n;
	}
	if (b->ptr)
		b->ptr[b->len] = '\0';
}

char *gkx__buf_detach(gkx_buf *b)
{
	char *p = b->ptr;

	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void gkx__buf_free(gkx_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

void gkx__memzero(void *p, size_t n)
{
	/* A volatile pointer keeps the compiler from dropping the stores. */
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void gkx__buf_free_secret(gkx_buf *b)
{
	if (b->ptr)
		gkx__memzero(b->ptr, b->cap);
	gkx__buf_free(b);
}

char *gkx__strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *gkx__strdup(const char *s) { return s ? gkx__strndup(s, strlen(s)) : NULL; }

void gkx__free_secret(char *s)
{
	if (s)
		gkx__memzero(s, strlen(s));
	free(s);
}

int gkx__read_file(gkx_buf *out, const char *path, size_t limit, gkx_error *err)
{
	char chunk[8192];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return gkx__error_set(err, GKX_EIO, "cannot read %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > limit) {
			fclose(f);
			return gkx__error_set(err, GKX_ETOOBIG, "%s is larger than %lu bytes", path,
			                      (unsigned long)limit);
		}
		if (gkx__buf_put(out, chunk, n) < 0) {
			fclose(f);
			return gkx__error_oom(err);
		}
	}
	if (ferror(f)) {
		fclose(f);
		return gkx__error_set(err, GKX_EIO, "cannot read %s", path);
	}
	fclose(f);
	if (!out->ptr && gkx__buf_put(out, "", 0) < 0)
		return gkx__error_oom(err);
	return 0;
}

void gkx__strv_free(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}
