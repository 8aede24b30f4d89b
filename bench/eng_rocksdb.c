/*
 * bench/eng_rocksdb.c: RocksDB through its C API. Key: the index as 8
 * big-endian bytes (so keys sort by index); value: the term (8 bytes) and
 * the payload. A batch is one WriteBatch written with sync=true (WAL +
 * fdatasync). Default options otherwise (create_if_missing). Reads are
 * rocksdb_get; a scan is an iterator. Purge and truncate are DeleteRange
 * written with sync=true; purge then drops the SST files wholly inside the
 * range (DeleteFilesInRange), as Raft stores on RocksDB do.
 */
#define _GNU_SOURCE
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct eng {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_writeoptions_t *wo;
	rocksdb_readoptions_t *ro;
	rocksdb_writebatch_t *wb;
	char *val; /* last rocksdb_get result */
};

static void key_of(uint64_t index, char k[8])
{
	for (int i = 0; i < 8; i++) {
		k[i] = (char)(uint8_t)(index >> (56 - 8 * i));
	}
}

static uint64_t index_of(const char *k)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = (v << 8) | (uint8_t)k[i];
	}
	return v;
}

static int check(char *err, const char *op)
{
	if (err == NULL) {
		return 0;
	}
	fprintf(stderr, "rocksdb: %s: %s\n", op, err);
	rocksdb_free(err);
	return -1;
}

static int eng_close(void *h);

static int eng_open(const char *dir, void **out)
{
	struct eng *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return -1;
	}
	g->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(g->opts, 1);
	g->wo = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(g->wo, 1);
	g->ro = rocksdb_readoptions_create();
	g->wb = rocksdb_writebatch_create();
	char *err = NULL;
	g->db = rocksdb_open(g->opts, dir, &err);
	if (check(err, "open") != 0 || g->db == NULL) {
		eng_close(g);
		return -1;
	}
	*out = g;
	return 0;
}

static int eng_append(void *h, const struct bench_entry *e, size_t n)
{
	struct eng *g = h;
	rocksdb_writebatch_clear(g->wb);
	for (size_t i = 0; i < n; i++) {
		char k[8];
		uint8_t term[8];
		key_of(e[i].index, k);
		bench_put64(term, e[i].term);
		const char *key = k;
		size_t klen = sizeof(k);
		const char *vals[2] = {(const char *)term,
				       (const char *)e[i].data};
		size_t vlens[2] = {sizeof(term), e[i].len};
		rocksdb_writebatch_putv(g->wb, 1, &key, &klen, 2, vals, vlens);
	}
	char *err = NULL;
	rocksdb_write(g->db, g->wo, g->wb, &err);
	return check(err, "write");
}

static int eng_read(void *h, uint64_t index, struct bench_read *out)
{
	struct eng *g = h;
	char k[8];
	key_of(index, k);
	if (g->val != NULL) {
		rocksdb_free(g->val);
		g->val = NULL;
	}
	size_t len = 0;
	char *err = NULL;
	g->val = rocksdb_get(g->db, g->ro, k, sizeof(k), &len, &err);
	if (check(err, "get") != 0 || g->val == NULL || len < 8) {
		return -1;
	}
	out->term = bench_get64((const uint8_t *)g->val);
	out->data = (const uint8_t *)g->val + 8;
	out->len = len - 8;
	return 0;
}

static int eng_scan(void *h, uint64_t first, uint64_t last, bench_scan_cb cb,
		    void *ctx)
{
	struct eng *g = h;
	rocksdb_iterator_t *it = rocksdb_create_iterator(g->db, g->ro);
	char k[8];
	key_of(first, k);
	rocksdb_iter_seek(it, k, sizeof(k));
	uint64_t want = first;
	int rv = 0;
	for (; want <= last; want++) {
		if (!rocksdb_iter_valid(it)) {
			rv = -1;
			break;
		}
		size_t klen, vlen;
		const char *key = rocksdb_iter_key(it, &klen);
		const char *val = rocksdb_iter_value(it, &vlen);
		if (klen != 8 || vlen < 8 || index_of(key) != want) {
			rv = -1;
			break;
		}
		struct bench_read r = {bench_get64((const uint8_t *)val),
				       (const uint8_t *)val + 8, vlen - 8};
		rv = cb(ctx, want, &r);
		if (rv != 0) {
			break;
		}
		rocksdb_iter_next(it);
	}
	char *err = NULL;
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	if (check(err, "iterate") != 0) {
		return -1;
	}
	return rv;
}

static int delete_range(struct eng *g, uint64_t from, uint64_t to)
{
	char a[8], b[8];
	key_of(from, a);
	key_of(to, b);
	rocksdb_writebatch_clear(g->wb);
	rocksdb_writebatch_delete_range(g->wb, a, sizeof(a), b, sizeof(b));
	char *err = NULL;
	rocksdb_write(g->db, g->wo, g->wb, &err);
	return check(err, "delete range");
}

static int eng_purge(void *h, uint64_t index, uint64_t term)
{
	(void)term;
	struct eng *g = h;
	if (delete_range(g, 0, index + 1) != 0) {
		return -1;
	}
	char a[8], b[8];
	key_of(0, a);
	key_of(index + 1, b);
	char *err = NULL;
	rocksdb_delete_file_in_range(g->db, a, sizeof(a), b, sizeof(b), &err);
	return check(err, "delete files in range");
}

static int eng_truncate(void *h, uint64_t from)
{
	return delete_range(h, from, UINT64_MAX);
}

static int eng_close(void *h)
{
	struct eng *g = h;
	if (g->db != NULL) {
		rocksdb_close(g->db);
	}
	if (g->val != NULL) {
		rocksdb_free(g->val);
	}
	rocksdb_writebatch_destroy(g->wb);
	rocksdb_readoptions_destroy(g->ro);
	rocksdb_writeoptions_destroy(g->wo);
	rocksdb_options_destroy(g->opts);
	free(g);
	return 0;
}

#ifndef BENCH_ROCKSDB_VERSION
#define BENCH_ROCKSDB_VERSION "?"
#endif
static const char *eng_version(void)
{
	return BENCH_ROCKSDB_VERSION;
}

const struct bench_engine bench_eng_rocksdb = {
    .name = "rocksdb",
    .what = "one WriteBatch per batch, sync=true, keys = big-endian "
	    "index, default options",
    .open = eng_open,
    .append = eng_append,
    .read = eng_read,
    .scan = eng_scan,
    .purge = eng_purge,
    .truncate = eng_truncate,
    .close = eng_close,
    .version = eng_version,
};
