/* The watch API sends one JSON event per line: {"type": ..., "object": ...}.
 * Bytes arrive in arbitrary chunks; this joins them into lines, bounded. */
#include <string.h>

#include "internal.h"

static int deliver(gkx_watch_splitter *w, const char *line, size_t len)
{
	cJSON *ev, *type, *obj;
	int rc;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	ev = cJSON_ParseWithLength(line, len);
	if (!ev)
		return GKX_EPROTO;
	type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
	if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
		cJSON_Delete(ev);
		return GKX_EPROTO;
	}
	rc = w->fn(type->valuestring, obj, w->ud);
	cJSON_Delete(ev);
	return rc;
}

int gkx__watch_feed(gkx_watch_splitter *w, const char *data, size_t len)
{
	while (len && !w->error) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;

		if (w->pending.len + take > GKX_WATCH_MAX_EVENT) {
			w->error = GKX_ETOOBIG;
			break;
		}
		if (gkx__buf_put(&w->pending, data, take) < 0) {
			w->error = GKX_ENOMEM;
			break;
		}
		if (!nl)
			break;
		/* The buffer keeps a NUL after the line, as cJSON wants. */
		w->error = deliver(w, w->pending.ptr, w->pending.len);
		gkx__buf_consume(&w->pending, w->pending.len);
		data += take + 1;
		len -= take + 1;
	}
	return w->error;
}

void gkx__watch_reset(gkx_watch_splitter *w)
{
	gkx__buf_free(&w->pending);
	w->error = 0;
}
