/*
 * bench/eng_rlog.c: rlog through its public API (rlog_append + rlog_sync per
 * batch, rlog_get, rlog_scan, rlog_purge, rlog_truncate + rlog_sync), on the
 * POSIX VFS with default options.
 *
 * Also rlog's self-checks: the same calls through a VFS that wraps the POSIX
 * one and counts every operation, and an allocator that counts every
 * allocation, to verify one write per batch, one pread per point read and
 * no allocation per entry on the append path.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "rlog/rlog.h"

uint64_t bench_rlog_segment_size;

struct eng {
	struct rlog *log;
	struct rlog_entry *ents;
	size_t cap;
};

static int eng_open(const char *dir, void **out)
{
	struct eng *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return -1;
	}
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = dir;
	o.segment_size_bytes = bench_rlog_segment_size;
	int rv = rlog_open(&o, &g->log);
	if (rv != 0) {
		fprintf(stderr, "rlog: open %s: %s: %s\n", dir,
			rlog_strerror(rv), rlog_open_errmsg());
		free(g);
		return -1;
	}
	*out = g;
	return 0;
}

static int fail(struct eng *g, const char *op, int rv)
{
	fprintf(stderr, "rlog: %s: %s: %s\n", op, rlog_strerror(rv),
		rlog_errmsg(g->log));
	return -1;
}

static int eng_append(void *h, const struct bench_entry *e, size_t n)
{
	struct eng *g = h;
	if (n > g->cap) {
		struct rlog_entry *ne = realloc(g->ents, n * sizeof(*ne));
		if (ne == NULL) {
			return -1;
		}
		g->ents = ne;
		g->cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		g->ents[i].index = e[i].index;
		g->ents[i].term = e[i].term;
		g->ents[i].kind = RLOG_PAYLOAD_COMMAND;
		g->ents[i].payload = e[i].data;
		g->ents[i].payload_len = e[i].len;
	}
	int rv = rlog_append(g->log, g->ents, n);
	if (rv != 0) {
		return fail(g, "append", rv);
	}
	rv = rlog_sync(g->log);
	if (rv != 0) {
		return fail(g, "sync", rv);
	}
	return 0;
}

static int eng_read(void *h, uint64_t index, struct bench_read *out)
{
	struct eng *g = h;
	struct rlog_entry e;
	int rv = rlog_get(g->log, index, &e);
	if (rv != 0) {
		return fail(g, "get", rv);
	}
	out->term = e.term;
	out->data = e.payload;
	out->len = e.payload_len;
	return 0;
}

struct scan_ctx {
	bench_scan_cb cb;
	void *ctx;
};

static int scan_one(void *ctx, const struct rlog_entry *e)
{
	struct scan_ctx *s = ctx;
	struct bench_read r = {e->term, e->payload, e->payload_len};
	return s->cb(s->ctx, e->index, &r);
}

static int eng_scan(void *h, uint64_t first, uint64_t last, bench_scan_cb cb,
		    void *ctx)
{
	struct eng *g = h;
	struct scan_ctx s = {cb, ctx};
	int rv = rlog_scan(g->log, first, last, scan_one, &s);
	if (rv < 0) {
		return fail(g, "scan", rv);
	}
	return rv;
}

static int eng_purge(void *h, uint64_t index, uint64_t term)
{
	struct eng *g = h;
	int rv = rlog_purge(g->log, index, term);
	return rv == 0 ? 0 : fail(g, "purge", rv);
}

static int eng_truncate(void *h, uint64_t from)
{
	struct eng *g = h;
	int rv = rlog_truncate(g->log, from);
	if (rv == 0) {
		rv = rlog_sync(g->log);
	}
	return rv == 0 ? 0 : fail(g, "truncate", rv);
}

static int eng_close(void *h)
{
	struct eng *g = h;
	int rv = rlog_close(g->log);
	free(g->ents);
	free(g);
	return rv == 0 ? 0 : -1;
}

#define STR2(x) #x
#define STR(x) STR2(x)
static const char *eng_version(void)
{
	return STR(RLOG_VERSION_MAJOR) "." STR(RLOG_VERSION_MINOR) "." STR(
	    RLOG_VERSION_PATCH);
}

const struct bench_engine bench_eng_rlog = {
    .name = "rlog",
    .what = "rlog_append (one record per entry, CRC32C) + rlog_sync "
	    "(fdatasync), default options",
    .open = eng_open,
    .append = eng_append,
    .read = eng_read,
    .scan = eng_scan,
    .purge = eng_purge,
    .truncate = eng_truncate,
    .close = eng_close,
    .version = eng_version,
};

/* ---- A counting VFS and allocator for the self-checks. ---- */
struct counts {
	uint64_t pwrites, pwrite_bytes, preads, pread_bytes, syncs, dir_syncs,
	    removes, allocs;
};

struct cvfs {
	struct rlog_vfs base; /* first: the engine passes &base back */
	struct rlog_vfs *inner;
	struct counts *c;
};

struct cfile {
	struct rlog_file base;
	struct rlog_file *inner;
	struct counts *c;
};

static int cf_pread(struct rlog_file *f, void *buf, size_t len, uint64_t off,
		    size_t *nread)
{
	struct cfile *cf = (struct cfile *)f;
	cf->c->preads++;
	int rv = cf->inner->ops->pread(cf->inner, buf, len, off, nread);
	if (rv == 0) {
		cf->c->pread_bytes += *nread;
	}
	return rv;
}

static int cf_pwrite(struct rlog_file *f, const void *buf, size_t len,
		     uint64_t off)
{
	struct cfile *cf = (struct cfile *)f;
	cf->c->pwrites++;
	cf->c->pwrite_bytes += len;
	return cf->inner->ops->pwrite(cf->inner, buf, len, off);
}

static int cf_sync(struct rlog_file *f)
{
	struct cfile *cf = (struct cfile *)f;
	cf->c->syncs++;
	return cf->inner->ops->sync(cf->inner);
}

static int cf_truncate(struct rlog_file *f, uint64_t size)
{
	struct cfile *cf = (struct cfile *)f;
	return cf->inner->ops->truncate(cf->inner, size);
}

static int cf_size(struct rlog_file *f, uint64_t *size)
{
	struct cfile *cf = (struct cfile *)f;
	return cf->inner->ops->size(cf->inner, size);
}

static int cf_close(struct rlog_file *f)
{
	struct cfile *cf = (struct cfile *)f;
	int rv = cf->inner->ops->close(cf->inner);
	free(cf);
	return rv;
}

static const struct rlog_file_ops cfile_ops = {
    cf_pread, cf_pwrite, cf_sync, cf_truncate, cf_size, cf_close,
};

static int cv_open(struct rlog_vfs *vfs, const char *name, int flags,
		   struct rlog_file **out)
{
	struct cvfs *v = (struct cvfs *)vfs;
	struct cfile *cf = malloc(sizeof(*cf));
	if (cf == NULL) {
		return -12; /* -ENOMEM */
	}
	int rv = v->inner->open(v->inner, name, flags, &cf->inner);
	if (rv != 0) {
		free(cf);
		return rv;
	}
	cf->base.ops = &cfile_ops;
	cf->c = v->c;
	*out = &cf->base;
	return 0;
}

static int cv_remove(struct rlog_vfs *vfs, const char *name)
{
	struct cvfs *v = (struct cvfs *)vfs;
	v->c->removes++;
	return v->inner->remove(v->inner, name);
}

static int cv_rename(struct rlog_vfs *vfs, const char *from, const char *to)
{
	struct cvfs *v = (struct cvfs *)vfs;
	return v->inner->rename(v->inner, from, to);
}

static int cv_list(struct rlog_vfs *vfs, rlog_vfs_list_cb cb, void *arg)
{
	struct cvfs *v = (struct cvfs *)vfs;
	return v->inner->list(v->inner, cb, arg);
}

static int cv_sync_dir(struct rlog_vfs *vfs)
{
	struct cvfs *v = (struct cvfs *)vfs;
	v->c->dir_syncs++;
	return v->inner->sync_dir(v->inner);
}

static int cv_lock(struct rlog_vfs *vfs, const char *name,
		   struct rlog_file **out)
{
	struct cvfs *v = (struct cvfs *)vfs;
	return v->inner->lock(v->inner, name, out);
}

static void *ca_malloc(void *ctx, size_t size)
{
	((struct counts *)ctx)->allocs++;
	return malloc(size);
}

static void *ca_realloc(void *ctx, void *p, size_t size)
{
	((struct counts *)ctx)->allocs++;
	return realloc(p, size);
}

static void ca_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

#define CHECK_BATCHES 1000u
#define CHECK_BATCH 64u
#define CHECK_PAYLOAD 256u
#define CHECK_READS 10000u
#define CHECK_SEGMENT (4u * 1024u * 1024u)

static int append_batches(struct rlog *log, struct rlog_entry *ents,
			  uint8_t *payload, uint64_t *next, unsigned batches)
{
	for (unsigned b = 0; b < batches; b++) {
		for (unsigned i = 0; i < CHECK_BATCH; i++) {
			uint8_t *p = payload + (size_t)i * CHECK_PAYLOAD;
			bench_put64(p, *next);
			ents[i].index = (*next)++;
			ents[i].term = 1;
			ents[i].kind = RLOG_PAYLOAD_COMMAND;
			ents[i].payload = p;
			ents[i].payload_len = CHECK_PAYLOAD;
		}
		int rv = rlog_append(log, ents, CHECK_BATCH);
		if (rv == 0) {
			rv = rlog_sync(log);
		}
		if (rv != 0) {
			fprintf(stderr, "rlog checks: append: %s: %s\n",
				rlog_strerror(rv), rlog_errmsg(log));
			return -1;
		}
	}
	return 0;
}

static int open_counted(struct cvfs *v, struct rlog_allocator *a,
			struct rlog **log)
{
	struct rlog_options o;
	rlog_options_init(&o);
	o.vfs = &v->base;
	o.allocator = a;
	o.segment_size_bytes = CHECK_SEGMENT;
	int rv = rlog_open(&o, log);
	if (rv != 0) {
		fprintf(stderr, "rlog checks: open: %s: %s\n",
			rlog_strerror(rv), rlog_open_errmsg());
		return -1;
	}
	return 0;
}

static int count_cb(void *ctx, const struct rlog_entry *e)
{
	(void)e;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int count_seg(void *arg, const char *name)
{
	size_t n = strlen(name);
	if (n > 4 && strcmp(name + n - 4, ".seg") == 0) {
		(*(uint64_t *)arg)++;
	}
	return 0;
}

/*
 * 2 x CHECK_BATCHES batches of CHECK_BATCH entries of CHECK_PAYLOAD bytes
 * on 4 MiB segments (so rotation and purge are exercised): the first half
 * warms the handle up, the second is counted. Then reopen (counted),
 * random point reads, one scan of everything, and a purge of half.
 */
int bench_rlog_run_checks(const char *dir, struct bench_rlog_checks *out)
{
	memset(out, 0, sizeof(*out));
	struct counts c = {0};
	struct cvfs v = {0};
	struct rlog_allocator a = {&c, ca_malloc, ca_realloc, ca_free};
	if (rlog_vfs_posix_new(dir, &v.inner) != 0) {
		fprintf(stderr, "rlog checks: vfs %s failed\n", dir);
		return -1;
	}
	v.c = &c;
	v.base.ctx = &v;
	v.base.open = cv_open;
	v.base.remove = cv_remove;
	v.base.rename = cv_rename;
	v.base.list = cv_list;
	v.base.sync_dir = cv_sync_dir;
	v.base.lock = cv_lock;
	struct rlog_entry ents[CHECK_BATCH];
	uint8_t *payload = malloc((size_t)CHECK_BATCH * CHECK_PAYLOAD);
	struct rlog *log = NULL;
	int rv = -1;
	if (payload == NULL) {
		goto out;
	}
	uint64_t st = 42;
	for (size_t i = 0; i < (size_t)CHECK_BATCH * CHECK_PAYLOAD; i++) {
		payload[i] = (uint8_t)bench_rand(&st);
	}
	if (open_counted(&v, &a, &log) != 0) {
		goto out;
	}
	uint64_t next = 1;
	if (append_batches(log, ents, payload, &next, CHECK_BATCHES) != 0) {
		goto out;
	}
	struct counts before = c;
	if (append_batches(log, ents, payload, &next, CHECK_BATCHES) != 0) {
		goto out;
	}
	out->batches = CHECK_BATCHES;
	out->entries = (uint64_t)CHECK_BATCHES * CHECK_BATCH;
	out->pwrites = c.pwrites - before.pwrites;
	out->syncs = c.syncs - before.syncs;
	out->dir_syncs = c.dir_syncs - before.dir_syncs;
	out->allocs_warm = c.allocs - before.allocs;
	out->entries_warm = out->entries;
	rlog_close(log);
	log = NULL;

	before = c;
	if (open_counted(&v, &a, &log) != 0) {
		goto out;
	}
	out->open_preads = c.preads - before.preads;
	out->open_bytes_read = c.pread_bytes - before.pread_bytes;
	uint64_t last = rlog_last_index(log);
	before = c;
	for (unsigned i = 0; i < CHECK_READS; i++) {
		uint64_t idx = 1 + bench_rand(&st) % last;
		struct rlog_entry e;
		if (rlog_get(log, idx, &e) != 0 ||
		    bench_get64(e.payload) != idx) {
			fprintf(stderr, "rlog checks: get %llu failed\n",
				(unsigned long long)idx);
			goto out;
		}
	}
	out->reads = CHECK_READS;
	out->preads = c.preads - before.preads;
	before = c;
	if (rlog_scan(log, 1, last, count_cb, &out->scan_entries) != 0) {
		goto out;
	}
	out->scan_preads = c.preads - before.preads;

	v.inner->list(v.inner, count_seg, &out->purge_segments);
	before = c;
	if (rlog_purge(log, last / 2, 1) != 0) {
		fprintf(stderr, "rlog checks: purge: %s\n", rlog_errmsg(log));
		goto out;
	}
	out->purge_pwrites = c.pwrites - before.pwrites;
	out->purge_bytes = c.pwrite_bytes - before.pwrite_bytes;
	out->purge_removes = c.removes - before.removes;
	rv = 0;
out:
	rlog_close(log);
	rlog_vfs_posix_free(v.inner);
	free(payload);
	return rv;
}
