/*
 * bench/eng_naive.c: the naive design. One file; every entry (8-byte length
 * + payload) is copied into its own heap block, kept in memory for reads,
 * and written with its own write() call; one fdatasync per batch. Opening
 * reads the whole file into memory. Purge rewrites the live entries into a
 * new file and renames it over the old one (a file-per-log engine has no
 * other way to give the space back); truncate is ftruncate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

struct naive {
	int fd;
	char path[4096], tmp[4096], dir[4096];
	uint64_t first;
	uint8_t **ents; /* each: 8-byte length + payload */
	size_t n, cap;
	uint64_t size; /* file size */
};

static int push(struct naive *g, uint8_t *blk)
{
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 4096;
		uint8_t **e = realloc(g->ents, nc * sizeof(*e));
		if (e == NULL) {
			return -1;
		}
		g->ents = e;
		g->cap = nc;
	}
	g->ents[g->n++] = blk;
	return 0;
}

static int load(struct naive *g)
{
	size_t cap = 1u << 20, have = 0;
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		return -1;
	}
	for (;;) {
		ssize_t got = read(g->fd, buf + have, cap - have);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			free(buf);
			return -1;
		}
		have += (size_t)got;
		size_t pos = 0;
		while (have - pos >= 8) {
			uint64_t len = bench_get64(buf + pos);
			if (have - pos < 8 + len) {
				break;
			}
			uint8_t *blk = malloc(8 + len);
			if (blk == NULL || push(g, blk) != 0) {
				free(blk);
				free(buf);
				return -1;
			}
			memcpy(blk, buf + pos, 8 + len);
			pos += 8 + (size_t)len;
		}
		g->size += pos;
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		if (got == 0) {
			break;
		}
		if (have == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	free(buf);
	if (have != 0) {
		fprintf(stderr, "naive: torn tail\n");
		return -1;
	}
	return 0;
}

static int naive_open(const char *dir, void **out)
{
	struct naive *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return -1;
	}
	snprintf(g->dir, sizeof(g->dir), "%s", dir);
	snprintf(g->path, sizeof(g->path), "%s/naive.log", dir);
	snprintf(g->tmp, sizeof(g->tmp), "%s/naive.log.tmp", dir);
	g->first = 1;
	g->fd = open(g->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (g->fd < 0 || load(g) != 0) {
		fprintf(stderr, "naive: open %s: %s\n", g->path,
			strerror(errno));
		if (g->fd >= 0) {
			close(g->fd);
		}
		free(g);
		return -1;
	}
	*out = g;
	return 0;
}

static void free_ents(struct naive *g, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		free(g->ents[i]);
	}
}

static int naive_append(void *h, const struct bench_entry *e, size_t n)
{
	struct naive *g = h;
	for (size_t i = 0; i < n; i++) {
		uint8_t *blk = malloc(8 + e[i].len);
		if (blk == NULL || push(g, blk) != 0) {
			free(blk);
			return -1;
		}
		bench_put64(blk, e[i].len);
		memcpy(blk + 8, e[i].data, e[i].len);
		if (bench_write_all(g->fd, blk, 8 + e[i].len) != 0) {
			fprintf(stderr, "naive: write: %s\n", strerror(errno));
			return -1;
		}
		g->size += 8 + e[i].len;
	}
	if (fdatasync(g->fd) != 0) {
		fprintf(stderr, "naive: fdatasync: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int naive_read(void *h, uint64_t index, struct bench_read *out)
{
	struct naive *g = h;
	if (index < g->first || index - g->first >= g->n) {
		return -1;
	}
	const uint8_t *blk = g->ents[index - g->first];
	out->term = 0;
	out->len = (size_t)bench_get64(blk);
	out->data = blk + 8;
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	int rv = fsync(fd);
	close(fd);
	return rv;
}

/* Rewrite the live entries into a new file, then rename it over. */
static int naive_purge(void *h, uint64_t index, uint64_t term)
{
	(void)term;
	struct naive *g = h;
	if (index < g->first) {
		return 0;
	}
	if (index - g->first >= g->n) {
		return -1;
	}
	size_t k = (size_t)(index - g->first) + 1;
	int fd = open(
	    g->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		return -1;
	}
	uint64_t size = 0;
	for (size_t i = k; i < g->n; i++) {
		size_t len = 8 + (size_t)bench_get64(g->ents[i]);
		if (bench_write_all(fd, g->ents[i], len) != 0) {
			close(fd);
			return -1;
		}
		size += len;
	}
	if (fdatasync(fd) != 0 || rename(g->tmp, g->path) != 0 ||
	    sync_dir(g->dir) != 0) {
		close(fd);
		return -1;
	}
	close(g->fd);
	g->fd = fd;
	free_ents(g, 0, k);
	memmove(g->ents, g->ents + k, (g->n - k) * sizeof(*g->ents));
	g->n -= k;
	g->first = index + 1;
	g->size = size;
	return 0;
}

static int naive_truncate(void *h, uint64_t from)
{
	struct naive *g = h;
	if (from < g->first || from - g->first > g->n) {
		return -1;
	}
	size_t k = (size_t)(from - g->first);
	uint64_t size = g->size;
	for (size_t i = k; i < g->n; i++) {
		size -= 8 + bench_get64(g->ents[i]);
	}
	if (ftruncate(g->fd, (off_t)size) != 0 || fdatasync(g->fd) != 0) {
		return -1;
	}
	free_ents(g, k, g->n);
	g->n = k;
	g->size = size;
	return 0;
}

static int naive_close(void *h)
{
	struct naive *g = h;
	int rv = close(g->fd);
	free_ents(g, 0, g->n);
	free(g->ents);
	free(g);
	return rv;
}

const struct bench_engine bench_eng_naive = {
    .name = "naive",
    .what = "one write() per entry into one file, everything kept in "
	    "memory, one fdatasync per batch",
    .open = naive_open,
    .append = naive_append,
    .read = naive_read,
    .scan = NULL,
    .purge = naive_purge,
    .truncate = naive_truncate,
    .close = naive_close,
};
