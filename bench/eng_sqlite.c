/*
 * bench/eng_sqlite.c: SQLite in WAL mode with synchronous=FULL (the WAL is
 * fsynced at every commit). Table log(idx INTEGER PRIMARY KEY, term, data
 * BLOB); a batch is one transaction of prepared INSERTs. Reads are a
 * prepared SELECT by rowid; a scan is one ordered SELECT. Purge and
 * truncate are one DELETE each (its own durable transaction).
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct eng {
	sqlite3 *db;
	sqlite3_stmt *ins, *get, *scan, *begin, *commit, *purge, *trunc;
};

static int fail(struct eng *g, const char *op)
{
	fprintf(stderr, "sqlite: %s: %s\n", op, sqlite3_errmsg(g->db));
	return -1;
}

static int eng_close(void *h);

static int prep(struct eng *g, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(g->db, sql, -1, st, NULL) != SQLITE_OK) {
		return fail(g, sql);
	}
	return 0;
}

static int eng_open(const char *dir, void **out)
{
	struct eng *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/log.sqlite", dir);
	if (sqlite3_open_v2(path, &g->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		fail(g, "open");
		eng_close(g);
		return -1;
	}
	char *err = NULL;
	if (sqlite3_exec(g->db,
			 "PRAGMA journal_mode=WAL;"
			 "PRAGMA synchronous=FULL;"
			 "CREATE TABLE IF NOT EXISTS log(idx INTEGER PRIMARY "
			 "KEY, term INTEGER NOT NULL, data BLOB NOT NULL);",
			 NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlite: setup: %s\n", err ? err : "?");
		sqlite3_free(err);
		eng_close(g);
		return -1;
	}
	if (prep(g, "INSERT INTO log(idx, term, data) VALUES (?, ?, ?)",
		 &g->ins) != 0 ||
	    prep(g, "SELECT term, data FROM log WHERE idx = ?", &g->get) != 0 ||
	    prep(g,
		 "SELECT idx, term, data FROM log WHERE idx BETWEEN ? AND ? "
		 "ORDER BY idx",
		 &g->scan) != 0 ||
	    prep(g, "BEGIN", &g->begin) != 0 ||
	    prep(g, "COMMIT", &g->commit) != 0 ||
	    prep(g, "DELETE FROM log WHERE idx <= ?", &g->purge) != 0 ||
	    prep(g, "DELETE FROM log WHERE idx >= ?", &g->trunc) != 0) {
		eng_close(g);
		return -1;
	}
	*out = g;
	return 0;
}

static int step_done(struct eng *g, sqlite3_stmt *st, const char *op)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		return fail(g, op);
	}
	return 0;
}

static int eng_append(void *h, const struct bench_entry *e, size_t n)
{
	struct eng *g = h;
	sqlite3_reset(g->get);
	if (step_done(g, g->begin, "begin") != 0) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(g->ins, 1, (sqlite3_int64)e[i].index);
		sqlite3_bind_int64(g->ins, 2, (sqlite3_int64)e[i].term);
		sqlite3_bind_blob(g->ins, 3, e[i].data, (int)e[i].len,
				  SQLITE_STATIC);
		if (step_done(g, g->ins, "insert") != 0) {
			sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return step_done(g, g->commit, "commit");
}

static int eng_read(void *h, uint64_t index, struct bench_read *out)
{
	struct eng *g = h;
	sqlite3_reset(g->get);
	sqlite3_bind_int64(g->get, 1, (sqlite3_int64)index);
	if (sqlite3_step(g->get) != SQLITE_ROW) {
		sqlite3_reset(g->get);
		return fail(g, "select");
	}
	/* The row stays valid until the next reset of g->get. */
	out->term = (uint64_t)sqlite3_column_int64(g->get, 0);
	out->data = sqlite3_column_blob(g->get, 1);
	out->len = (size_t)sqlite3_column_bytes(g->get, 1);
	return 0;
}

static int eng_scan(void *h, uint64_t first, uint64_t last, bench_scan_cb cb,
		    void *ctx)
{
	struct eng *g = h;
	sqlite3_bind_int64(g->scan, 1, (sqlite3_int64)first);
	sqlite3_bind_int64(g->scan, 2, (sqlite3_int64)last);
	uint64_t want = first;
	int rv = 0, rc;
	while ((rc = sqlite3_step(g->scan)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(g->scan, 0) != want) {
			rv = -1;
			break;
		}
		struct bench_read r;
		r.term = (uint64_t)sqlite3_column_int64(g->scan, 1);
		r.data = sqlite3_column_blob(g->scan, 2);
		r.len = (size_t)sqlite3_column_bytes(g->scan, 2);
		rv = cb(ctx, want, &r);
		if (rv != 0) {
			break;
		}
		want++;
	}
	if (rv == 0 && (rc != SQLITE_DONE || want != last + 1)) {
		rv = fail(g, "scan");
	}
	sqlite3_reset(g->scan);
	return rv;
}

static int eng_purge(void *h, uint64_t index, uint64_t term)
{
	(void)term;
	struct eng *g = h;
	sqlite3_reset(g->get);
	sqlite3_bind_int64(g->purge, 1, (sqlite3_int64)index);
	return step_done(g, g->purge, "purge");
}

static int eng_truncate(void *h, uint64_t from)
{
	struct eng *g = h;
	sqlite3_reset(g->get);
	sqlite3_bind_int64(g->trunc, 1, (sqlite3_int64)from);
	return step_done(g, g->trunc, "truncate");
}

static int eng_close(void *h)
{
	struct eng *g = h;
	sqlite3_stmt *sts[] = {g->ins,	  g->get,   g->scan, g->begin,
			       g->commit, g->purge, g->trunc};
	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		sqlite3_finalize(sts[i]);
	}
	int rc = sqlite3_close(g->db);
	free(g);
	return rc == SQLITE_OK ? 0 : -1;
}

const struct bench_engine bench_eng_sqlite = {
    .name = "sqlite",
    .what = "WAL, synchronous=FULL, one transaction of INSERTs per batch",
    .open = eng_open,
    .append = eng_append,
    .read = eng_read,
    .scan = eng_scan,
    .purge = eng_purge,
    .truncate = eng_truncate,
    .close = eng_close,
    .version = sqlite3_libversion,
};
