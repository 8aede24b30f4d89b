/*
 * bench/eng_lmdb.c: LMDB. One database with MDB_INTEGERKEY (the index as a
 * native size_t key); a batch is one write transaction of MDB_APPEND puts
 * (the value, term then payload, is written in place through MDB_RESERVE)
 * and mdb_txn_commit, which fdatasyncs (default flags: no MDB_NOSYNC).
 * Reads use one read transaction kept open until the next call; a scan is a
 * cursor. Purge and truncate delete with a cursor in one write transaction.
 * The map is 64 GiB of address space; the file only grows as it fills.
 */
#define _GNU_SOURCE
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define LMDB_MAP_BYTES ((size_t)64 << 30)

struct eng {
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *rtxn; /* open read transaction, or NULL */
	bool rtxn_reset;
};

static int fail(const char *op, int rc)
{
	fprintf(stderr, "lmdb: %s: %s\n", op, mdb_strerror(rc));
	return -1;
}

static int eng_open(const char *dir, void **out)
{
	struct eng *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return -1;
	}
	MDB_txn *txn = NULL;
	int rc = mdb_env_create(&g->env);
	if (rc == 0) {
		rc = mdb_env_set_mapsize(g->env, LMDB_MAP_BYTES);
	}
	if (rc == 0) {
		rc = mdb_env_open(g->env, dir, 0, 0644);
	}
	if (rc == 0) {
		rc = mdb_txn_begin(g->env, NULL, 0, &txn);
	}
	if (rc == 0) {
		rc = mdb_dbi_open(txn, NULL, MDB_INTEGERKEY, &g->dbi);
	}
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (rc != 0) {
		if (txn != NULL) {
			mdb_txn_abort(txn);
		}
		mdb_env_close(g->env);
		free(g);
		return fail("open", rc);
	}
	*out = g;
	return 0;
}

static void end_read(struct eng *g)
{
	if (g->rtxn != NULL) {
		mdb_txn_abort(g->rtxn);
		g->rtxn = NULL;
	}
}

static int eng_append(void *h, const struct bench_entry *e, size_t n)
{
	struct eng *g = h;
	end_read(g);
	MDB_txn *txn;
	int rc = mdb_txn_begin(g->env, NULL, 0, &txn);
	if (rc != 0) {
		return fail("begin", rc);
	}
	for (size_t i = 0; i < n; i++) {
		size_t key = (size_t)e[i].index;
		MDB_val k = {sizeof(key), &key};
		MDB_val v = {8 + e[i].len, NULL};
		rc = mdb_put(txn, g->dbi, &k, &v, MDB_APPEND | MDB_RESERVE);
		if (rc != 0) {
			mdb_txn_abort(txn);
			return fail("put", rc);
		}
		bench_put64(v.mv_data, e[i].term);
		memcpy((uint8_t *)v.mv_data + 8, e[i].data, e[i].len);
	}
	rc = mdb_txn_commit(txn);
	return rc == 0 ? 0 : fail("commit", rc);
}

static int begin_read(struct eng *g)
{
	int rc;
	if (g->rtxn == NULL) {
		rc = mdb_txn_begin(g->env, NULL, MDB_RDONLY, &g->rtxn);
		if (rc != 0) {
			g->rtxn = NULL;
			return fail("begin read", rc);
		}
		return 0;
	}
	mdb_txn_reset(g->rtxn);
	rc = mdb_txn_renew(g->rtxn);
	if (rc != 0) {
		mdb_txn_abort(g->rtxn);
		g->rtxn = NULL;
		return fail("renew", rc);
	}
	return 0;
}

static int eng_read(void *h, uint64_t index, struct bench_read *out)
{
	struct eng *g = h;
	if (begin_read(g) != 0) {
		return -1;
	}
	size_t key = (size_t)index;
	MDB_val k = {sizeof(key), &key}, v;
	int rc = mdb_get(g->rtxn, g->dbi, &k, &v);
	if (rc != 0 || v.mv_size < 8) {
		return fail("get", rc);
	}
	out->term = bench_get64(v.mv_data);
	out->data = (const uint8_t *)v.mv_data + 8;
	out->len = v.mv_size - 8;
	return 0;
}

static int eng_scan(void *h, uint64_t first, uint64_t last, bench_scan_cb cb,
		    void *ctx)
{
	struct eng *g = h;
	if (begin_read(g) != 0) {
		return -1;
	}
	MDB_cursor *cur;
	int rc = mdb_cursor_open(g->rtxn, g->dbi, &cur);
	if (rc != 0) {
		return fail("cursor", rc);
	}
	size_t key = (size_t)first;
	MDB_val k = {sizeof(key), &key}, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	int rv = 0;
	for (uint64_t want = first; want <= last; want++) {
		if (rc != 0 || k.mv_size != sizeof(size_t) ||
		    *(const size_t *)k.mv_data != (size_t)want ||
		    v.mv_size < 8) {
			rv = -1;
			break;
		}
		struct bench_read r = {bench_get64(v.mv_data),
				       (const uint8_t *)v.mv_data + 8,
				       v.mv_size - 8};
		rv = cb(ctx, want, &r);
		if (rv != 0) {
			break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rv;
}

/* Delete keys in [from, to] with a cursor, in one durable transaction:
 * from the front (a purge) or from the back (a truncate). */
static int delete_range(struct eng *g, uint64_t from, uint64_t to, bool front)
{
	end_read(g);
	MDB_txn *txn;
	int rc = mdb_txn_begin(g->env, NULL, 0, &txn);
	if (rc != 0) {
		return fail("begin", rc);
	}
	MDB_cursor *cur;
	rc = mdb_cursor_open(txn, g->dbi, &cur);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return fail("cursor", rc);
	}
	MDB_val k, v;
	for (;;) {
		rc = mdb_cursor_get(cur, &k, &v, front ? MDB_FIRST : MDB_LAST);
		if (rc != 0) {
			break;
		}
		size_t key = *(const size_t *)k.mv_data;
		if (key < from || key > to) {
			break;
		}
		rc = mdb_cursor_del(cur, 0);
		if (rc != 0) {
			break;
		}
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return fail("delete", rc);
	}
	rc = mdb_txn_commit(txn);
	return rc == 0 ? 0 : fail("commit", rc);
}

static int eng_purge(void *h, uint64_t index, uint64_t term)
{
	(void)term;
	return delete_range(h, 0, index, true);
}

static int eng_truncate(void *h, uint64_t from)
{
	return delete_range(h, from, SIZE_MAX, false);
}

static int eng_close(void *h)
{
	struct eng *g = h;
	end_read(g);
	mdb_env_close(g->env);
	free(g);
	return 0;
}

static const char *eng_version(void)
{
	return mdb_version(NULL, NULL, NULL);
}

const struct bench_engine bench_eng_lmdb = {
    .name = "lmdb",
    .what = "one write transaction of MDB_APPEND puts per batch, commit "
	    "fdatasyncs, MDB_INTEGERKEY",
    .open = eng_open,
    .append = eng_append,
    .read = eng_read,
    .scan = eng_scan,
    .purge = eng_purge,
    .truncate = eng_truncate,
    .close = eng_close,
    .version = eng_version,
};
