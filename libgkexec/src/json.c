/* Reading cJSON trees by a path of keys: the one getter every module uses. */
#include <stdarg.h>

#include "internal.h"

static const cJSON *walk(const cJSON *j, va_list ap)
{
	const char *key;

	while (j && (key = va_arg(ap, const char *)) != NULL)
		j = cJSON_GetObjectItemCaseSensitive(j, key);
	return j;
}

const cJSON *gkx__json_at(const cJSON *j, ...)
{
	va_list ap;

	va_start(ap, j);
	j = walk(j, ap);
	va_end(ap);
	return j;
}

const char *gkx__json_str(const cJSON *j, ...)
{
	va_list ap;

	va_start(ap, j);
	j = walk(j, ap);
	va_end(ap);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}
