/* Replays inputs through a fuzz target without libFuzzer, so that the
 * seeds and every crash once found (tests/fuzz/regressions/TARGET/) run in
 * the ordinary builds, under ASan/UBSan and valgrind with the unit tests.
 *   replay_TARGET FILE|DIR...   (exits 1 if nothing was replayed) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			unsigned char *p = realloc(data, cap = cap ? cap * 2 : 4096);
			if (!p) {
				free(data);
				fclose(f);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 1;
}

static int replay(const char *path)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	char sub[4096];
	int count = 0, rc;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	if (!(d = opendir(path))) {
		perror(path);
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if ((rc = replay(sub)) < 0) {
			closedir(d);
			return rc;
		}
		count += rc;
	}
	closedir(d);
	return count;
}

int main(int argc, char **argv)
{
	int i, total = 0, rc;

	for (i = 1; i < argc; i++) {
		if ((rc = replay(argv[i])) < 0)
			return 1;
		total += rc;
	}
	printf("%d inputs replayed\n", total);
	return total ? 0 : 1;
}
