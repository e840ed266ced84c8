/* libFuzzer: a kubeconfig file, through the whole loader (YAML, merging,
 * resolving, base64, relative paths). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char path[64];
	gkx_config_options o;
	gkx_config *cfg = NULL;
	gkx_error err;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/gkx-fuzz-kubeconfig-%ld", (long)getpid());
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	gkx_config_options_init(&o);
	o.kubeconfig = path;
	if (gkx_config_load(&cfg, &o, &err) == 0)
		gkx_config_free(cfg);
	return 0;
}
