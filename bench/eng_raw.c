/*
 * bench/eng_raw.c: the physical limit. One file, each entry an 8-byte
 * little-endian length and the payload; a batch is ONE pwrite at the end of
 * the file and one fdatasync. No checksum, no term, no header: the least a
 * durable log can do. Reads go through an in-memory table of offsets (8
 * bytes per entry), one pread each. Opening an existing file reads it once
 * sequentially (1 MiB reads), computes CRC32C over every byte and rebuilds
 * the offsets. Purge punches a hole (nothing rewritten); truncate is
 * ftruncate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define RAW_CHUNK (1u << 20)

struct raw {
	int fd;
	uint64_t first; /* index of offs[0] */
	uint64_t *offs; /* offset of each entry's length field, plus end */
	size_t n, cap;	/* entries; offs holds n + 1 values */
	uint8_t *wbuf, *rbuf;
	size_t wcap, rcap;
	uint32_t crc; /* of the whole file, computed at open */
};

static int raw_push(struct raw *r, uint64_t end)
{
	if (r->n + 2 > r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 4096;
		uint64_t *o = realloc(r->offs, nc * sizeof(*o));
		if (o == NULL) {
			return -1;
		}
		r->offs = o;
		r->cap = nc;
	}
	r->offs[++r->n] = end;
	return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap) {
		return 0;
	}
	size_t nc = *cap ? *cap : 4096;
	while (nc < need) {
		nc *= 2;
	}
	uint8_t *b = realloc(*buf, nc);
	if (b == NULL) {
		return -1;
	}
	*buf = b;
	*cap = nc;
	return 0;
}

/* Read the file once: CRC32C over every byte, offsets of every entry. */
static int raw_load(struct raw *r)
{
	uint8_t *buf = malloc(RAW_CHUNK);
	if (buf == NULL) {
		return -1;
	}
	uint64_t off = 0, next = 0; /* next: where the next length starts */
	uint8_t lenbuf[8];
	size_t lenhave = 0;
	uint32_t crc = 0;
	for (;;) {
		ssize_t got = read(r->fd, buf, RAW_CHUNK);
		if (got < 0) {
			if (errno == EINTR) {
				continue;
			}
			free(buf);
			return -1;
		}
		if (got == 0) {
			break;
		}
		crc = bench_crc32c(crc, buf, (size_t)got);
		uint64_t end = off + (uint64_t)got;
		while (next < end) {
			/* collect the 8 length bytes, maybe across chunks */
			while (lenhave < 8 && next + lenhave < end) {
				lenbuf[lenhave] = buf[next + lenhave - off];
				lenhave++;
			}
			if (lenhave < 8) {
				break;
			}
			uint64_t len = bench_get64(lenbuf);
			lenhave = 0;
			next += 8 + len;
			if (raw_push(r, next) != 0) {
				free(buf);
				return -1;
			}
		}
		off = end;
	}
	free(buf);
	r->crc = crc;
	if (next != off || lenhave != 0) {
		fprintf(stderr, "raw: torn tail at %llu\n",
			(unsigned long long)off);
		return -1;
	}
	return 0;
}

static int raw_open(const char *dir, void **out)
{
	struct raw *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/raw.log", dir);
	r->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	r->first = 1;
	r->cap = 4096;
	r->offs = malloc(r->cap * sizeof(*r->offs));
	if (r->fd < 0 || r->offs == NULL) {
		goto fail;
	}
	r->offs[0] = 0;
	if (raw_load(r) != 0) {
		goto fail;
	}
	*out = r;
	return 0;
fail:
	fprintf(stderr, "raw: open %s: %s\n", path, strerror(errno));
	if (r->fd >= 0) {
		close(r->fd);
	}
	free(r->offs);
	free(r);
	return -1;
}

static int raw_append(void *h, const struct bench_entry *e, size_t n)
{
	struct raw *r = h;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		total += 8 + e[i].len;
	}
	if (grow(&r->wbuf, &r->wcap, total) != 0) {
		return -1;
	}
	uint8_t *p = r->wbuf;
	for (size_t i = 0; i < n; i++) {
		bench_put64(p, e[i].len);
		memcpy(p + 8, e[i].data, e[i].len);
		p += 8 + e[i].len;
	}
	uint64_t base = r->offs[r->n];
	ssize_t w = pwrite(r->fd, r->wbuf, total, (off_t)base);
	if (w != (ssize_t)total) {
		fprintf(stderr, "raw: pwrite: %s\n",
			w < 0 ? strerror(errno) : "short");
		return -1;
	}
	if (fdatasync(r->fd) != 0) {
		fprintf(stderr, "raw: fdatasync: %s\n", strerror(errno));
		return -1;
	}
	uint64_t off = base;
	for (size_t i = 0; i < n; i++) {
		off += 8 + e[i].len;
		if (raw_push(r, off) != 0) {
			return -1;
		}
	}
	return 0;
}

static int raw_read(void *h, uint64_t index, struct bench_read *out)
{
	struct raw *r = h;
	if (index < r->first || index - r->first >= r->n) {
		return -1;
	}
	size_t i = (size_t)(index - r->first);
	uint64_t off = r->offs[i] + 8;
	size_t len = (size_t)(r->offs[i + 1] - off);
	if (grow(&r->rbuf, &r->rcap, len ? len : 1) != 0) {
		return -1;
	}
	size_t got;
	if (bench_pread_all(r->fd, r->rbuf, len, off, &got) != 0 ||
	    got != len) {
		return -1;
	}
	out->term = 0;
	out->data = r->rbuf;
	out->len = len;
	return 0;
}

/* Sequential: one 1 MiB window slides over the range. */
static int raw_scan(void *h, uint64_t first, uint64_t last, bench_scan_cb cb,
		    void *ctx)
{
	struct raw *r = h;
	if (first < r->first || last < first || last - r->first >= r->n) {
		return -1;
	}
	uint8_t *buf = NULL;
	size_t cap = 0;
	uint64_t wstart = 0, wend = 0; /* file range held in buf */
	int rv = 0;
	for (uint64_t i = first; i <= last && rv == 0; i++) {
		size_t k = (size_t)(i - r->first);
		uint64_t off = r->offs[k] + 8, end = r->offs[k + 1];
		if (off < wstart || end > wend) {
			uint64_t stop = r->offs[r->n];
			size_t want = (size_t)(end - off) > RAW_CHUNK
					  ? (size_t)(end - off)
					  : RAW_CHUNK;
			if (off + want > stop) {
				want = (size_t)(stop - off);
			}
			size_t got;
			if (grow(&buf, &cap, want) != 0 ||
			    bench_pread_all(r->fd, buf, want, off, &got) != 0 ||
			    got < end - off) {
				rv = -1;
				break;
			}
			wstart = off;
			wend = off + got;
		}
		struct bench_read rd = {0, buf + (off - wstart),
					(size_t)(end - off)};
		rv = cb(ctx, i, &rd);
	}
	free(buf);
	return rv;
}

static int raw_purge(void *h, uint64_t index, uint64_t term)
{
	(void)term;
	struct raw *r = h;
	if (index < r->first) {
		return 0;
	}
	if (index - r->first >= r->n) {
		return -1;
	}
	size_t k = (size_t)(index - r->first) + 1;
	uint64_t cut = r->offs[k] & ~(uint64_t)4095;
	if (cut > 0 &&
	    fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)cut) != 0) {
		fprintf(stderr, "raw: punch hole: %s\n", strerror(errno));
		return -1;
	}
	if (fdatasync(r->fd) != 0) {
		return -1;
	}
	memmove(r->offs, r->offs + k, (r->n + 1 - k) * sizeof(*r->offs));
	r->n -= k;
	r->first = index + 1;
	return 0;
}

static int raw_truncate(void *h, uint64_t from)
{
	struct raw *r = h;
	if (from < r->first || from - r->first > r->n) {
		return -1;
	}
	size_t k = (size_t)(from - r->first);
	if (ftruncate(r->fd, (off_t)r->offs[k]) != 0 || fdatasync(r->fd) != 0) {
		fprintf(stderr, "raw: truncate: %s\n", strerror(errno));
		return -1;
	}
	r->n = k;
	return 0;
}

static int raw_close(void *h)
{
	struct raw *r = h;
	int rv = close(r->fd);
	free(r->offs);
	free(r->wbuf);
	free(r->rbuf);
	free(r);
	return rv;
}

const struct bench_engine bench_eng_raw = {
    .name = "raw",
    .what = "8-byte length + payload per entry, one pwrite per batch, "
	    "fdatasync",
    .open = raw_open,
    .append = raw_append,
    .read = raw_read,
    .scan = raw_scan,
    .purge = raw_purge,
    .truncate = raw_truncate,
    .close = raw_close,
};
