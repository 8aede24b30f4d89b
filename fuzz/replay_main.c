/*
 * fuzz/replay_main.c: run a harness over saved inputs, without a fuzzer.
 *
 * Usage: HARNESS_replay PATH...  Each file is read into a malloc buffer of
 * exactly its size (so ASan catches a read one byte past the input) and
 * passed to LLVMFuzzerTestOneInput; each directory is walked, recursively,
 * in name order, skipping names that start with '.' and README files. A
 * harness that finds a violation aborts, so the exit status tells.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Guard against symlink loops in the walk. */
#define REPLAY_DEPTH_MAX 8

static unsigned long replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (fseek(f, 0, SEEK_END) != 0) {
		fclose(f);
		fprintf(stderr, "replay: %s: cannot seek\n", path);
		return 1;
	}
	long end = ftell(f);
	if (end < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		fprintf(stderr, "replay: %s: cannot size\n", path);
		return 1;
	}
	size_t size = (size_t)end;
	/* An empty input still gets a valid pointer it must not read. */
	uint8_t *buf = malloc(size ? size : 1);
	if (buf == NULL) {
		fclose(f);
		fprintf(stderr, "replay: %s: out of memory\n", path);
		return 1;
	}
	size_t got = size ? fread(buf, 1, size, f) : 0;
	fclose(f);
	if (got != size) {
		free(buf);
		fprintf(stderr, "replay: %s: short read\n", path);
		return 1;
	}
	if (size == 0) {
		/* Give the harness a zero-byte allocation to point at. */
		free(buf);
		buf = malloc(0);
	}
	LLVMFuzzerTestOneInput(buf, size);
	free(buf);
	replayed++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_path(const char *path, int depth);

static int replay_dir(const char *path, int depth)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strncmp(de->d_name, "README", 6) == 0) {
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				rc = 1;
				break;
			}
			names = nn;
		}
		size_t len = strlen(path) + strlen(de->d_name) + 2;
		names[n] = malloc(len);
		if (names[n] == NULL) {
			rc = 1;
			break;
		}
		snprintf(names[n], len, "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	if (n > 0) {
		qsort(names, n, sizeof(*names), cmp_names);
	}
	for (size_t i = 0; i < n; i++) {
		if (rc == 0) {
			rc = replay_path(names[i], depth + 1);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int replay_path(const char *path, int depth)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth >= REPLAY_DEPTH_MAX) {
			fprintf(stderr, "replay: %s: too deep\n", path);
			return 1;
		}
		return replay_dir(path, depth);
	}
	return replay_file(path);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (replay_path(argv[i], 0) != 0) {
			return 1;
		}
	}
	printf("replayed %lu inputs\n", replayed);
	return 0;
}
