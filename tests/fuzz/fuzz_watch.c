/* libFuzzer: a watch stream, cut into chunks at the places the first byte
 * chooses, each event handed to the pod-event logic's parser shape. */
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int on_event(const char *type, cJSON *obj, void *ud)
{
	(void)ud;
	/* Touch what the run reads from each event. */
	if (!strcmp(type, "ERROR"))
		return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(obj, "code")) ? GKX_EGONE
		                                                                     : GKX_EPROTO;
	(void)cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
	                                       "name");
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	gkx_watch_splitter w;
	size_t chunk, off = 0;

	if (!size)
		return 0;
	memset(&w, 0, sizeof(w));
	w.fn = on_event;
	chunk = 1 + data[0] % 64;
	data++;
	size--;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (gkx__watch_feed(&w, (const char *)data + off, n) < 0)
			break;
		off += n;
	}
	gkx__watch_reset(&w);
	return 0;
}
