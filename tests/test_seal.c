/*
 * test_seal.c: seal files (engine/src/seal.c) on a real directory.
 *
 * A seal summarises a segment once the log has moved on from it, so the
 * next open rebuilds that segment's part of the index without reading it.
 * These tests check what a rollover writes byte by byte, prove by counting
 * reads that an open uses the seals, and check that a seal which is
 * damaged, stale, inconsistent, orphaned or never written changes nothing
 * but speed: the open gives exactly the log a full read gives. Damage
 * inside a sealed segment is found when the entry is read.
 *
 * Reads are counted and seal writes failed by a small VFS wrapped around
 * the POSIX one (cvfs below), which keys on file names.
 */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SEG_BYTES 4096u
#define PAYLOAD_BYTES 40u
#define MODEL_CAP 4096u
#define SEQS_MAX 256u
#define SEAL_ITEMS_MAX 1024u
#define RECS_MAX 1024u

/* ---- A VFS that counts reads per file and fails seal writes. ---- */

struct cv_stat {
	char name[RLOG_VFS_NAME_MAX + 1];
	uint64_t preads;
	uint64_t read_bytes; /* bytes returned by pread */
	uint64_t read_end;   /* largest offset + bytes returned */
	uint64_t body_from;  /* lowest offset read past the 64-byte header */
};

#define CV_STATS_MAX 512u

struct cvfs {
	struct rlog_vfs vfs; /* handed to rlog; vfs.ctx points back here */
	struct rlog_vfs *inner;
	struct cv_stat stats[CV_STATS_MAX];
	size_t stats_len;
	/* Creating a *.seal file fails with this negative errno (0: no). */
	int seal_open_err;
	/* The seal_pwrite_nth pwrite to each *.seal file fails with this
	 * negative errno (0: no), after writing half its bytes when torn. */
	int seal_pwrite_err;
	unsigned seal_pwrite_nth;
	bool seal_torn;
	unsigned injected; /* failures injected so far */
};

struct cv_file {
	struct rlog_file base; /* first member, as vfs.h requires */
	struct cvfs *cv;
	struct rlog_file *inner;
	unsigned pwrites;
	char name[RLOG_VFS_NAME_MAX + 1];
};

static bool is_seal_name(const char *name)
{
	size_t len = strlen(name);
	return len > 5 && strcmp(name + len - 5, ".seal") == 0;
}

static struct cv_stat *cv_find(struct cvfs *cv, const char *name, bool add)
{
	for (size_t i = 0; i < cv->stats_len; i++) {
		if (strcmp(cv->stats[i].name, name) == 0) {
			return &cv->stats[i];
		}
	}
	if (!add) {
		return NULL;
	}
	assert_true(cv->stats_len < CV_STATS_MAX);
	struct cv_stat *st = &cv->stats[cv->stats_len++];
	memset(st, 0, sizeof(*st));
	st->body_from = UINT64_MAX;
	snprintf(st->name, sizeof(st->name), "%s", name);
	return st;
}

static void cv_reset_counts(struct cvfs *cv)
{
	cv->stats_len = 0;
}

static int cv_pread(struct rlog_file *file, void *buf, size_t len,
		    uint64_t offset, size_t *nread)
{
	struct cv_file *f = (struct cv_file *)file;
	int rc = f->inner->ops->pread(f->inner, buf, len, offset, nread);
	if (rc == 0) {
		struct cv_stat *st = cv_find(f->cv, f->name, true);
		st->preads++;
		st->read_bytes += *nread;
		if (offset + *nread > st->read_end) {
			st->read_end = offset + *nread;
		}
		uint64_t from = offset > RLOG__SEG_HEADER_BYTES
				    ? offset
				    : RLOG__SEG_HEADER_BYTES;
		if (offset + *nread > RLOG__SEG_HEADER_BYTES &&
		    from < st->body_from) {
			st->body_from = from;
		}
	}
	return rc;
}

static int cv_pwrite(struct rlog_file *file, const void *buf, size_t len,
		     uint64_t offset)
{
	struct cv_file *f = (struct cv_file *)file;
	struct cvfs *cv = f->cv;
	f->pwrites++;
	if (cv->seal_pwrite_err != 0 && is_seal_name(f->name) &&
	    f->pwrites == cv->seal_pwrite_nth) {
		if (cv->seal_torn && len > 1) {
			(void)f->inner->ops->pwrite(f->inner, buf, len / 2,
						    offset);
		}
		cv->injected++;
		return cv->seal_pwrite_err;
	}
	return f->inner->ops->pwrite(f->inner, buf, len, offset);
}

static int cv_sync(struct rlog_file *file)
{
	struct cv_file *f = (struct cv_file *)file;
	return f->inner->ops->sync(f->inner);
}

static int cv_truncate(struct rlog_file *file, uint64_t size)
{
	struct cv_file *f = (struct cv_file *)file;
	return f->inner->ops->truncate(f->inner, size);
}

static int cv_size(struct rlog_file *file, uint64_t *size)
{
	struct cv_file *f = (struct cv_file *)file;
	return f->inner->ops->size(f->inner, size);
}

static int cv_close(struct rlog_file *file)
{
	struct cv_file *f = (struct cv_file *)file;
	int rc = f->inner->ops->close(f->inner);
	free(f);
	return rc;
}

static const struct rlog_file_ops cv_file_ops = {
    .pread = cv_pread,
    .pwrite = cv_pwrite,
    .sync = cv_sync,
    .truncate = cv_truncate,
    .size = cv_size,
    .close = cv_close,
};

static int cv_open(struct rlog_vfs *vfs, const char *name, int flags,
		   struct rlog_file **out)
{
	struct cvfs *cv = vfs->ctx;
	*out = NULL;
	if (cv->seal_open_err != 0 && is_seal_name(name) &&
	    (flags & RLOG_VFS_CREATE) != 0) {
		cv->injected++;
		return cv->seal_open_err;
	}
	struct rlog_file *inner = NULL;
	int rc = cv->inner->open(cv->inner, name, flags, &inner);
	if (rc != 0) {
		return rc;
	}
	struct cv_file *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		inner->ops->close(inner);
		return -ENOMEM;
	}
	f->base.ops = &cv_file_ops;
	f->cv = cv;
	f->inner = inner;
	snprintf(f->name, sizeof(f->name), "%s", name);
	*out = &f->base;
	return 0;
}

static int cv_remove(struct rlog_vfs *vfs, const char *name)
{
	struct cvfs *cv = vfs->ctx;
	return cv->inner->remove(cv->inner, name);
}

static int cv_rename(struct rlog_vfs *vfs, const char *from, const char *to)
{
	struct cvfs *cv = vfs->ctx;
	return cv->inner->rename(cv->inner, from, to);
}

static int cv_list(struct rlog_vfs *vfs, rlog_vfs_list_cb cb, void *arg)
{
	struct cvfs *cv = vfs->ctx;
	return cv->inner->list(cv->inner, cb, arg);
}

static int cv_sync_dir(struct rlog_vfs *vfs)
{
	struct cvfs *cv = vfs->ctx;
	return cv->inner->sync_dir(cv->inner);
}

static int cv_lock(struct rlog_vfs *vfs, const char *name,
		   struct rlog_file **out)
{
	struct cvfs *cv = vfs->ctx;
	return cv->inner->lock(cv->inner, name, out);
}

static void cv_init(struct cvfs *cv, struct rlog_vfs *inner)
{
	memset(cv, 0, sizeof(*cv));
	cv->inner = inner;
	cv->vfs.ctx = cv;
	cv->vfs.open = cv_open;
	cv->vfs.remove = cv_remove;
	cv->vfs.rename = cv_rename;
	cv->vfs.list = cv_list;
	cv->vfs.sync_dir = cv_sync_dir;
	cv->vfs.lock = cv_lock;
}

/* ---- Fixture. ---- */

struct fx {
	char dir[512];
	struct rlog_vfs *posix;
	struct cvfs cv;
	struct tl_model m;
	struct tl_batch b;
	bool verify_on_open; /* for the opens through the counting VFS */
};

static void fx_dir_open(struct fx *f)
{
	tl_mkdtemp(f->dir, sizeof(f->dir), "seal");
	assert_int_equal(rlog_vfs_posix_new(f->dir, &f->posix), 0);
	cv_init(&f->cv, f->posix);
	tl_model_reset(&f->m);
}

static void fx_dir_close(struct fx *f)
{
	rlog_vfs_posix_free(f->posix);
	f->posix = NULL;
	tl_rmtree(f->dir);
}

/* Start over in a fresh empty directory with an empty model. */
static void fx_new_dir(struct fx *f)
{
	fx_dir_close(f);
	fx_dir_open(f);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	tl_model_init(&f->m, MODEL_CAP);
	tl_batch_init(&f->b);
	fx_dir_open(f);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	fx_dir_close(f);
	tl_batch_free(&f->b);
	tl_model_free(&f->m);
	free(f);
	return 0;
}

/* Open through the counting VFS (counts reset first); returns the code. */
static int fx_open_rc(struct fx *f, uint32_t preallocate, struct rlog **out)
{
	struct rlog_options o;
	rlog_options_init(&o);
	o.vfs = &f->cv.vfs;
	o.segment_size_bytes = SEG_BYTES;
	o.preallocate_bytes = preallocate;
	o.verify_on_open = f->verify_on_open;
	cv_reset_counts(&f->cv);
	*out = NULL;
	return rlog_open(&o, out);
}

static struct rlog *fx_open_pre(struct fx *f, uint32_t preallocate)
{
	struct rlog *log = NULL;
	int rc = fx_open_rc(f, preallocate, &log);
	if (rc != 0) {
		fail_msg("open %s: %s: %s", f->dir, rlog_strerror(rc),
			 rlog_open_errmsg());
	}
	return log;
}

static struct rlog *fx_open(struct fx *f)
{
	return fx_open_pre(f, 0);
}

/* Open with rlog_options.dir (the engine's own POSIX VFS). */
static struct rlog *fx_open_dir(struct fx *f)
{
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = f->dir;
	o.segment_size_bytes = SEG_BYTES;
	struct rlog *log = NULL;
	int rc = rlog_open(&o, &log);
	if (rc != 0) {
		fail_msg("open %s: %s: %s", f->dir, rlog_strerror(rc),
			 rlog_open_errmsg());
	}
	return log;
}

static void must_close(struct rlog *log)
{
	int rc = rlog_close(log);
	if (rc != 0) {
		fail_msg("close: %s", rlog_strerror(rc));
	}
}

/* The term schedule of the multi-segment logs: several runs of equal
 * terms per segment. */
static uint64_t term_of(uint64_t index)
{
	return 1 + (index - 1) / 25;
}

/* Append one synced batch of the batch in f->b and apply it to the model. */
static void fx_append_batch(struct fx *f, struct rlog *log)
{
	int rc = rlog_append(log, f->b.entries, f->b.n);
	if (rc == 0) {
		rc = rlog_sync(log);
	}
	if (rc != 0) {
		fail_msg("append at %llu: %s: %s",
			 (unsigned long long)f->b.entries[0].index,
			 rlog_strerror(rc), rlog_errmsg(log));
	}
	tl_model_append(&f->m, &f->b);
}

/* Append [from, to] one entry per synced batch, with term term (0: the
 * schedule of term_of) and salt. */
static void fx_append_range(struct fx *f, struct rlog *log, uint64_t from,
			    uint64_t to, uint64_t term, uint32_t salt)
{
	for (uint64_t i = from; i <= to; i++) {
		tl_batch_clear(&f->b);
		tl_batch_add(&f->b, i, term != 0 ? term : term_of(i),
			     RLOG_PAYLOAD_COMMAND, salt, PAYLOAD_BYTES);
		fx_append_batch(f, log);
	}
}

/* rlog_replace [from, to] in one call with term; applied to the model. */
static void fx_replace(struct fx *f, struct rlog *log, uint64_t from,
		       uint64_t to, uint64_t term)
{
	tl_batch_clear(&f->b);
	for (uint64_t i = from; i <= to; i++) {
		tl_batch_add(&f->b, i, term, RLOG_PAYLOAD_COMMAND, 3,
			     PAYLOAD_BYTES);
	}
	int rc = rlog_replace(log, f->b.entries, f->b.n);
	if (rc != 0) {
		fail_msg("replace at %llu: %s: %s", (unsigned long long)from,
			 rlog_strerror(rc), rlog_errmsg(log));
	}
	tl_model_replace(&f->m, &f->b);
}

/* ---- Files. ---- */

static void fx_path(const struct fx *f, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", f->dir, name);
	assert_true(n > 0 && (size_t)n < len);
}

static void seg_file(const struct fx *f, uint64_t seq, char *out, size_t len)
{
	char name[RLOG__SEG_NAME_LEN + 1];
	rlog__seg_name(name, seq);
	fx_path(f, name, out, len);
}

static void seal_file(const struct fx *f, uint64_t seq, char *out, size_t len)
{
	char name[RLOG__SEAL_NAME_LEN + 1];
	rlog__seal_name(name, seq);
	fx_path(f, name, out, len);
}

/* The whole file, or NULL when it does not exist. */
static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		assert_int_equal(errno, ENOENT);
		*len = 0;
		return NULL;
	}
	struct stat st;
	assert_int_equal(fstat(fileno(fp), &st), 0);
	*len = (size_t)st.st_size;
	uint8_t *buf = malloc(*len > 0 ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, *len, fp), *len);
	fclose(fp);
	return buf;
}

static void write_all(const char *path, const uint8_t *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static uint64_t file_bytes(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static void flip_byte(const char *path, uint64_t off, uint8_t mask)
{
	size_t len;
	uint8_t *buf = read_all(path, &len);
	assert_non_null(buf);
	assert_true(off < len);
	buf[off] ^= mask;
	write_all(path, buf, len);
	free(buf);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sequence numbers of the segment (seal false) or seal (seal true) files
 * in the directory, ascending. */
static size_t list_seqs(const struct fx *f, bool seal, uint64_t *seqs)
{
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		bool ok = seal ? rlog__seal_parse_name(de->d_name, &seq)
			       : rlog__seg_parse_name(de->d_name, &seq);
		if (ok) {
			assert_true(n < SEQS_MAX);
			seqs[n++] = seq;
		}
	}
	closedir(d);
	qsort(seqs, n, sizeof(seqs[0]), cmp_u64);
	return n;
}

static void remove_seals(const struct fx *f)
{
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, true, seqs);
	for (size_t i = 0; i < n; i++) {
		char path[700];
		seal_file(f, seqs[i], path, sizeof(path));
		assert_int_equal(unlink(path), 0);
	}
}

static struct rlog__seg_header seg_header(const struct fx *f, uint64_t seq)
{
	char path[700];
	seg_file(f, seq, path, sizeof(path));
	size_t len;
	uint8_t *buf = read_all(path, &len);
	assert_non_null(buf);
	struct rlog__seg_header h;
	assert_int_equal(rlog__seg_header_check(buf, len, &h), 0);
	free(buf);
	assert_int_equal(h.seq, seq);
	return h;
}

/* One record of a segment, as the format lays it out. */
struct rec {
	uint64_t off;
	uint32_t type;
	uint32_t body_len;
	uint32_t group;
	uint64_t index;
	uint64_t term;
	uint64_t durable_offset;
	uint64_t size;
};

/* The records of segment seq from its header up to end (which must fall
 * on a record boundary). Returns how many. */
static size_t seg_walk(const struct fx *f, uint64_t seq, uint64_t end,
		       struct rec *out)
{
	char path[700];
	seg_file(f, seq, path, sizeof(path));
	size_t len;
	uint8_t *buf = read_all(path, &len);
	assert_non_null(buf);
	assert_true(end <= len);
	size_t n = 0;
	uint64_t off = RLOG__SEG_HEADER_BYTES;
	while (off < end) {
		assert_true(n < RECS_MAX);
		assert_true(off + RLOG__REC_HEADER_BYTES <= end);
		struct rec *r = &out[n++];
		const uint8_t *p = buf + off;
		r->off = off;
		r->type = p[4];
		r->body_len = rlog__get32(p + 8);
		r->group = rlog__get32(p + 12);
		r->durable_offset = rlog__get64(p + 32);
		r->index = rlog__get64(p + 16);
		r->term = rlog__get64(p + 24);
		r->size = rlog__align8(RLOG__REC_HEADER_BYTES + r->body_len);
		off += r->size;
	}
	assert_int_equal(off, end);
	free(buf);
	return n;
}

/* ---- Seals, decoded. ---- */

struct seal {
	struct rlog__seal_header h;
	uint64_t run_at[SEAL_ITEMS_MAX];
	uint64_t run_term[SEAL_ITEMS_MAX];
	uint32_t off[SEAL_ITEMS_MAX];
	uint32_t size[SEAL_ITEMS_MAX];
};

/* Decode the seal bytes buf[0..len) into *s, checking both checksums and
 * the file size; false when anything fails. */
static bool seal_decode(const uint8_t *buf, size_t len, struct seal *s)
{
	memset(s, 0, sizeof(*s));
	if (rlog__seal_header_check(buf, len, &s->h) != 0 ||
	    rlog__seal_file_bytes(&s->h) != len || s->h.runs > SEAL_ITEMS_MAX ||
	    s->h.count > SEAL_ITEMS_MAX) {
		return false;
	}
	const uint8_t *body = buf + RLOG__SEAL_HEADER_BYTES;
	size_t body_len = len - RLOG__SEAL_HEADER_BYTES;
	if (rlog__crc32c(rlog__seg_seed(s->h.seq), body, body_len) !=
	    s->h.body_crc) {
		return false;
	}
	for (uint32_t i = 0; i < s->h.runs; i++) {
		s->run_at[i] = rlog__get64(body + 16 * (size_t)i);
		s->run_term[i] = rlog__get64(body + 16 * (size_t)i + 8);
	}
	const uint8_t *ents = body + 16 * (size_t)s->h.runs;
	for (uint32_t i = 0; i < s->h.count; i++) {
		s->off[i] = rlog__get32(ents + 8 * (size_t)i);
		s->size[i] = rlog__get32(ents + 8 * (size_t)i + 4);
	}
	return true;
}

/* Encode *s with nruns runs and nents entries in its body (its header's
 * own runs and count may say otherwise) and correct checksums: the body's
 * seeded with the header's seq. Returns a malloc'd buffer. */
static uint8_t *seal_encode(const struct seal *s, uint32_t nruns,
			    uint32_t nents, size_t *len)
{
	*len = RLOG__SEAL_HEADER_BYTES + 16 * (size_t)nruns + 8 * (size_t)nents;
	uint8_t *buf = calloc(1, *len);
	assert_non_null(buf);
	uint8_t *body = buf + RLOG__SEAL_HEADER_BYTES;
	for (uint32_t i = 0; i < nruns; i++) {
		rlog__put64(body + 16 * (size_t)i, s->run_at[i]);
		rlog__put64(body + 16 * (size_t)i + 8, s->run_term[i]);
	}
	uint8_t *ents = body + 16 * (size_t)nruns;
	for (uint32_t i = 0; i < nents; i++) {
		rlog__put32(ents + 8 * (size_t)i, s->off[i]);
		rlog__put32(ents + 8 * (size_t)i + 4, s->size[i]);
	}
	struct rlog__seal_header h = s->h;
	h.body_crc = rlog__crc32c(rlog__seg_seed(h.seq), body,
				  *len - RLOG__SEAL_HEADER_BYTES);
	rlog__seal_header_put(buf, &h);
	return buf;
}

/* Read and decode the seal of seq; fails the test when it is missing or
 * invalid. */
static void seal_load(const struct fx *f, uint64_t seq, struct seal *s)
{
	char path[700];
	seal_file(f, seq, path, sizeof(path));
	size_t len;
	uint8_t *buf = read_all(path, &len);
	if (buf == NULL) {
		fail_msg("no seal for segment %llu", (unsigned long long)seq);
	}
	bool ok = seal_decode(buf, len, s);
	free(buf);
	if (!ok) {
		fail_msg("seal of segment %llu does not validate",
			 (unsigned long long)seq);
	}
	assert_int_equal(s->h.seq, seq);
}

static uint8_t *seal_bytes(const struct fx *f, uint64_t seq, size_t *len)
{
	char path[700];
	seal_file(f, seq, path, sizeof(path));
	return read_all(path, len);
}

/* ---- Checks. ---- */

struct scan_ctx {
	const struct tl_model *m;
	uint64_t next;
	uint64_t calls;
	bool bad;
};

static int scan_cb(void *ctx, const struct rlog_entry *e)
{
	struct scan_ctx *c = ctx;
	c->calls++;
	if (e->index != c->next || !tl_entry_equals(e, c->m, e->index)) {
		c->bad = true;
		return 1;
	}
	c->next++;
	return 0;
}

static void check_scan(struct rlog *log, const struct tl_model *m,
		       uint64_t from, uint64_t to)
{
	struct scan_ctx c = {.m = m, .next = from};
	int rc = rlog_scan(log, from, to, scan_cb, &c);
	if (rc != 0 || c.bad || c.next != to + 1) {
		fail_msg("scan [%llu, %llu]: rc %d, stopped at %llu: %s",
			 (unsigned long long)from, (unsigned long long)to, rc,
			 (unsigned long long)c.next, rlog_errmsg(log));
	}
}

/* The log equals the model: bounds, every entry by rlog_get, rlog_term
 * and rlog_scan (whole range and a middle part). */
static void check_log(struct rlog *log, const struct tl_model *m)
{
	tl_model_check(log, m);
	uint64_t first = tl_model_first(m);
	if (m->last >= first) {
		check_scan(log, m, first, m->last);
		uint64_t mid = first + (m->last - first) / 3;
		check_scan(log, m, mid, mid + (m->last - mid) / 2);
	}
}

/* What the last open read of one file. */
static struct cv_stat read_of(struct fx *f, const char *name)
{
	struct cv_stat none;
	memset(&none, 0, sizeof(none));
	none.body_from = UINT64_MAX;
	const struct cv_stat *st = cv_find(&f->cv, name, false);
	return st != NULL ? *st : none;
}

static struct cv_stat seg_read_of(struct fx *f, uint64_t seq)
{
	char name[RLOG__SEG_NAME_LEN + 1];
	rlog__seg_name(name, seq);
	return read_of(f, name);
}

/* Did the last open read no more than the 64-byte header of seq? */
static bool seg_header_only(struct fx *f, uint64_t seq)
{
	struct cv_stat st = seg_read_of(f, seq);
	return st.preads <= 1 && st.read_bytes <= RLOG__SEG_HEADER_BYTES &&
	       st.read_end <= RLOG__SEG_HEADER_BYTES &&
	       st.body_from == UINT64_MAX;
}

/* Did the last open read seq to the end of its file? */
static bool seg_read_in_full(struct fx *f, uint64_t seq)
{
	char path[700];
	seg_file(f, seq, path, sizeof(path));
	struct cv_stat st = seg_read_of(f, seq);
	uint64_t size = file_bytes(path);
	return st.read_end == size && st.body_from == RLOG__SEG_HEADER_BYTES &&
	       st.read_bytes + RLOG__SEG_HEADER_BYTES >= size;
}

/* The seal header of seq, when its file exists and validates. */
static bool seal_header_of(const struct fx *f, uint64_t seq,
			   struct rlog__seal_header *h)
{
	char path[700];
	seal_file(f, seq, path, sizeof(path));
	size_t len;
	uint8_t *buf = read_all(path, &len);
	if (buf == NULL) {
		return false;
	}
	bool ok = rlog__seal_header_check(buf, len, h) == 0 &&
		  rlog__seal_file_bytes(h) == len && h->seq == seq;
	free(buf);
	return ok;
}

/*
 * How the last open read the last segment: in full, or (when a clean
 * close left a seal of it ending at its clean mark) nothing of its records
 * below the seal's end. A seal of the last segment is written by
 * rlog_close in the engine being integrated; either way a seal that is
 * there after a clean close must be used.
 */
static bool last_seg_read_ok(struct fx *f, uint64_t seq)
{
	struct rlog__seal_header h;
	if (seal_header_of(f, seq, &h)) {
		struct cv_stat st = seg_read_of(f, seq);
		return st.body_from >= h.end_offset;
	}
	return seg_read_in_full(f, seq);
}

/* After an open through the counting VFS: every segment but the last had
 * at most its header read (its seal was used), and the last was read in
 * full. */
static void assert_seals_used(struct fx *f)
{
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	assert_true(n >= 1);
	for (size_t i = 0; i + 1 < n; i++) {
		if (!seg_header_only(f, seqs[i])) {
			struct cv_stat st = seg_read_of(f, seqs[i]);
			fail_msg("segment %llu: %llu preads, %llu bytes read "
				 "at open (seal not used)",
				 (unsigned long long)seqs[i],
				 (unsigned long long)st.preads,
				 (unsigned long long)st.read_bytes);
		}
	}
	if (!last_seg_read_ok(f, seqs[n - 1])) {
		fail_msg(
		    "last segment %llu: read from %llu at open",
		    (unsigned long long)seqs[n - 1],
		    (unsigned long long)seg_read_of(f, seqs[n - 1]).body_from);
	}
}

/* The record at off of segment seq. */
static struct rec seg_rec_at(const struct fx *f, uint64_t seq, uint64_t off)
{
	char path[700];
	seg_file(f, seq, path, sizeof(path));
	size_t len;
	uint8_t *buf = read_all(path, &len);
	assert_non_null(buf);
	assert_true(off + RLOG__REC_HEADER_BYTES <= len);
	const uint8_t *p = buf + off;
	struct rec r = {.off = off,
			.type = p[4],
			.body_len = rlog__get32(p + 8),
			.group = rlog__get32(p + 12),
			.index = rlog__get64(p + 16),
			.term = rlog__get64(p + 24),
			.durable_offset = rlog__get64(p + 32)};
	r.size = rlog__align8(RLOG__REC_HEADER_BYTES + r.body_len);
	free(buf);
	return r;
}

/* Every segment but the last has a seal that validates and agrees with
 * the chain (seq, end = the next header's prev_end_offset, next index =
 * the next header's first_index). The last has none, or (after a clean
 * close) one that validates and ends where the clean mark starts. */
static void assert_seals_valid(const struct fx *f)
{
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	uint64_t seals[SEQS_MAX];
	size_t ns = list_seqs(f, true, seals);
	assert_true(n >= 1);
	assert_true(ns == n - 1 || ns == n);
	struct seal *s = malloc(sizeof(*s));
	assert_non_null(s);
	for (size_t i = 0; i < ns; i++) {
		assert_int_equal(seals[i], seqs[i]);
		seal_load(f, seqs[i], s);
		if (i + 1 < n) {
			struct rlog__seg_header next =
			    seg_header(f, seqs[i + 1]);
			assert_int_equal(next.prev_seq, seqs[i]);
			assert_int_equal(s->h.end_offset, next.prev_end_offset);
			assert_true(s->h.first + s->h.count ==
				    next.first_index);
			continue;
		}
		struct rec mark = seg_rec_at(f, seqs[i], s->h.end_offset);
		assert_int_equal(mark.type, RLOG__REC_TRUNCATE);
		assert_int_equal(mark.group, 0);
		assert_int_equal(mark.index, s->h.first + s->h.count);
		assert_int_equal(mark.durable_offset, s->h.end_offset);
	}
	free(s);
}

/* Close, reopen through the counting VFS, prove the seals were used and
 * the log is the model. Returns the new handle. */
static struct rlog *reopen_sealed(struct fx *f, struct rlog *log)
{
	must_close(log);
	log = fx_open(f);
	assert_seals_used(f);
	check_log(log, &f->m);
	return log;
}

/* Build a log of entries 1..last (term_of, one synced batch each) over
 * several segments, and close it. */
static void build_multi(struct fx *f, uint64_t last)
{
	struct rlog *log = fx_open(f);
	fx_append_range(f, log, 1, last, 0, 0);
	check_log(log, &f->m);
	must_close(log);
}

/* ---- 1. What a rollover writes. ---- */

/* Every segment but the last gets a seal whose header and body describe
 * exactly its records; the last has none. */
static void seal_rollover_writes_exact_seal_per_segment(void **state)
{
	struct fx *f = *state;
	struct rlog *log = fx_open_dir(f);
	fx_append_range(f, log, 1, 200, 0, 0);
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	assert_true(n >= 4);
	/* Seals are written at the rollover, before the handle closes. */
	uint64_t sealed[SEQS_MAX];
	assert_int_equal(list_seqs(f, true, sealed), n - 1);
	char last_seal[700];
	seal_file(f, seqs[n - 1], last_seal, sizeof(last_seal));
	assert_false(file_exists(last_seal));
	must_close(log);
	assert_seals_valid(f);

	struct seal *s = malloc(sizeof(*s));
	struct rec *recs = malloc(RECS_MAX * sizeof(*recs));
	assert_non_null(s);
	assert_non_null(recs);
	for (size_t k = 0; k + 1 < n; k++) {
		char path[700];
		seal_file(f, seqs[k], path, sizeof(path));
		size_t len;
		uint8_t *buf = read_all(path, &len);
		assert_non_null(buf);
		struct rlog__seal_header h;
		assert_int_equal(rlog__seal_header_check(buf, len, &h), 0);
		free(buf);
		seal_load(f, seqs[k], s);
		struct rlog__seg_header cur = seg_header(f, seqs[k]);
		struct rlog__seg_header next = seg_header(f, seqs[k + 1]);
		assert_int_equal(next.prev_seq, seqs[k]);
		assert_int_equal(s->h.seq, seqs[k]);
		assert_int_equal(s->h.end_offset, next.prev_end_offset);
		assert_int_equal(s->h.start, cur.first_index);
		assert_int_equal(s->h.first, cur.first_index);
		assert_int_equal(s->h.count,
				 next.first_index - cur.first_index);
		assert_int_equal(file_bytes(path),
				 rlog__seal_file_bytes(&s->h));
		/* Runs: one per change of term, at the entry that starts it. */
		uint32_t runs = 0;
		for (uint64_t i = s->h.first; i < s->h.first + s->h.count;
		     i++) {
			if (i == s->h.first || term_of(i) != term_of(i - 1)) {
				assert_true(runs < s->h.runs);
				assert_int_equal(s->run_at[runs], i);
				assert_int_equal(s->run_term[runs], term_of(i));
				runs++;
			}
		}
		assert_int_equal(runs, s->h.runs);
		/* Entries: offset and size of every record, in order, ending
		 * where the segment ends. */
		size_t nrec = seg_walk(f, seqs[k], s->h.end_offset, recs);
		assert_int_equal(nrec, s->h.count);
		for (size_t j = 0; j < nrec; j++) {
			assert_int_equal(recs[j].type, RLOG__REC_ENTRY);
			assert_int_equal(recs[j].index, s->h.first + j);
			assert_int_equal(recs[j].term, term_of(recs[j].index));
			assert_int_equal(recs[j].off, s->off[j]);
			assert_int_equal(recs[j].size, s->size[j]);
		}
	}
	free(recs);
	free(s);
}

/* ---- 2. A reopen uses them. ---- */

/* The open reads at most the 64-byte header of every sealed segment and
 * the last one in full, and every entry reads back byte for byte. */
static void seal_reopen_reads_headers_only(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	struct rlog *log = fx_open(f);
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	assert_true(n >= 4);
	for (size_t i = 0; i + 1 < n; i++) {
		assert_true(seg_header_only(f, seqs[i]));
		/* ... and its seal was read instead. */
		char name[RLOG__SEAL_NAME_LEN + 1];
		rlog__seal_name(name, seqs[i]);
		assert_true(read_of(f, name).read_bytes > 0);
	}
	assert_true(last_seg_read_ok(f, seqs[n - 1]));
	check_log(log, &f->m);
	/* Appends continue after a sealed open, and survive another. */
	fx_append_range(f, log, 201, 260, 0, 0);
	log = reopen_sealed(f, log);
	must_close(log);
	assert_seals_valid(f);
}

/* ---- 3. Damage inside a sealed segment. ---- */

static bool errmsg_names(const char *msg, uint64_t off)
{
	char want[64];
	snprintf(want, sizeof(want),
		 "0000000000000001.seg@%llu:", (unsigned long long)off);
	return strstr(msg, want) != NULL;
}

/* A bit flip in an entry's payload in a sealed segment is not seen by the
 * open; reading that entry reports RLOG_ECORRUPT with the file and offset,
 * its neighbours still read; without the seals the open itself reports
 * the same place. */
static void seal_bitflip_in_sealed_segment_found_on_read(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	const uint64_t target = 10;
	struct rlog__seg_header next = seg_header(f, 2);
	assert_int_equal(next.prev_seq, 1);
	assert_true(next.first_index > target + 1);
	struct rec *recs = malloc(RECS_MAX * sizeof(*recs));
	assert_non_null(recs);
	size_t nrec = seg_walk(f, 1, next.prev_end_offset, recs);
	assert_true(nrec > target);
	const struct rec *r = &recs[target - 1];
	assert_int_equal(r->index, target);
	uint64_t off = r->off;
	char path[700];
	seg_file(f, 1, path, sizeof(path));
	/* The last byte of the body is the last payload byte. */
	flip_byte(path, off + RLOG__REC_HEADER_BYTES + r->body_len - 1, 0x04);
	free(recs);

	struct rlog *log = fx_open_dir(f);
	struct rlog_entry e;
	assert_int_equal(rlog_get(log, target, &e), RLOG_ECORRUPT);
	if (!errmsg_names(rlog_errmsg(log), off)) {
		fail_msg("get: errmsg \"%s\" does not name the record at %llu",
			 rlog_errmsg(log), (unsigned long long)off);
	}
	for (uint64_t i = 1; i <= f->m.last; i++) {
		if (i == target) {
			continue;
		}
		int rc = rlog_get(log, i, &e);
		if (rc != 0 || !tl_entry_equals(&e, &f->m, i)) {
			fail_msg("get %llu: %d: %s", (unsigned long long)i, rc,
				 rlog_errmsg(log));
		}
	}
	struct scan_ctx c = {.m = &f->m, .next = 1};
	assert_int_equal(rlog_scan(log, 1, 20, scan_cb, &c), RLOG_ECORRUPT);
	assert_false(c.bad);
	assert_int_equal(c.calls, target - 1);
	assert_true(errmsg_names(rlog_errmsg(log), off));
	check_scan(log, &f->m, target + 1, f->m.last);
	check_scan(log, &f->m, 1, target - 1);
	must_close(log);

	/* Without seals the open reads segment 1 and finds it. */
	remove_seals(f);
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = f->dir;
	o.segment_size_bytes = SEG_BYTES;
	log = (struct rlog *)1;
	assert_int_equal(rlog_open(&o, &log), RLOG_ECORRUPT);
	assert_null(log);
	if (!errmsg_names(rlog_open_errmsg(), off)) {
		fail_msg("open: errmsg \"%s\" does not name the record at "
			 "%llu",
			 rlog_open_errmsg(), (unsigned long long)off);
	}
}

/* ---- 4. A damaged seal. ---- */

/* A seal with any one byte flipped is not used: the open reads the
 * segment, gives the same log, and writes the seal again as it was. */
static void seal_damaged_seal_ignored_and_rewritten(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	const uint64_t seq = 2;
	size_t len;
	uint8_t *orig = seal_bytes(f, seq, &len);
	assert_non_null(orig);
	char path[700];
	seal_file(f, seq, path, sizeof(path));
	struct seal *s = malloc(sizeof(*s));
	assert_non_null(s);
	assert_true(seal_decode(orig, len, s));
	assert_true(s->h.runs >= 2);
	for (size_t off = 0; off < len; off++) {
		uint8_t *bad = malloc(len);
		assert_non_null(bad);
		memcpy(bad, orig, len);
		bad[off] ^= (uint8_t)(off % 2 == 0 ? 0x01 : 0x80);
		write_all(path, bad, len);
		free(bad);
		struct rlog *log = fx_open(f);
		if (!seg_read_in_full(f, seq)) {
			fail_msg("byte %zu flipped: the seal was used", off);
		}
		uint64_t seqs[SEQS_MAX];
		size_t n = list_seqs(f, false, seqs);
		for (size_t i = 0; i + 1 < n; i++) {
			if (seqs[i] != seq) {
				assert_true(seg_header_only(f, seqs[i]));
			}
		}
		assert_true(last_seg_read_ok(f, seqs[n - 1]));
		check_log(log, &f->m);
		must_close(log);
		size_t got_len;
		uint8_t *got = seal_bytes(f, seq, &got_len);
		assert_non_null(got);
		assert_int_equal(got_len, len);
		assert_memory_equal(got, orig, len);
		free(got);
	}
	/* The rewritten seal is used again. */
	struct rlog *log = fx_open(f);
	assert_seals_used(f);
	check_log(log, &f->m);
	must_close(log);
	free(s);
	free(orig);
}

/* ---- 5. A stale seal. ---- */

/* The crash between writing a segment's seal and creating the next
 * segment: the segment is the last one again, its unvouched tail is
 * settled into a new segment, so it now ends earlier than the seal says.
 * The seal is not used, the log is right, and the seal is rewritten. */
static void seal_stale_after_lost_rollover_ignored(void **state)
{
	struct fx *f = *state;
	struct rlog *log = fx_open(f);
	uint64_t i = 0;
	while (tl_count_suffix(f->dir, ".seg") < 2) {
		i++;
		fx_append_range(f, log, i, i, 0, 0);
	}
	must_close(log);
	/* Segment 2 holds only entry i, the batch that rolled over; drop
	 * it as if the crash came right after seal 1 was written. */
	struct rlog__seg_header h2 = seg_header(f, 2);
	assert_int_equal(h2.first_index, i);
	char path[700];
	seg_file(f, 2, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	seal_file(f, 2, path, sizeof(path));
	if (file_exists(path)) {
		assert_int_equal(unlink(path), 0);
	}
	tl_model_truncate(&f->m, i);
	struct seal *stale = malloc(sizeof(*stale));
	assert_non_null(stale);
	seal_load(f, 1, stale);
	assert_int_equal(stale->h.first + stale->h.count, i);

	log = fx_open(f);
	check_log(log, &f->m);
	/* Continue with another term past another rollover. */
	uint64_t last = f->m.last;
	fx_append_range(f, log, last + 1, last + 70, 9, 5);
	must_close(log);
	struct rlog__seg_header after = seg_header(f, 2);
	assert_int_equal(after.prev_seq, 1);
	assert_true(after.prev_end_offset < stale->h.end_offset);

	log = fx_open(f);
	assert_true(seg_read_in_full(f, 1));
	check_log(log, &f->m);
	must_close(log);
	assert_seals_valid(f);
	struct seal *now = malloc(sizeof(*now));
	assert_non_null(now);
	seal_load(f, 1, now);
	assert_int_equal(now->h.end_offset, after.prev_end_offset);
	log = fx_open(f);
	assert_seals_used(f);
	check_log(log, &f->m);
	must_close(log);
	free(now);
	free(stale);
}

/* A seal of segment 1 from another log whose segment 1 ended elsewhere
 * (same seq, checksums valid, same entries at the same offsets up to its
 * end) is not used, in either direction. */
static void seal_stale_from_other_log_ignored(void **state)
{
	struct fx *f = *state;
	/* Log B: 1..40 in segment 1, then a batch too big for it. */
	struct rlog *log = fx_open(f);
	fx_append_range(f, log, 1, 40, 0, 0);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 1);
	tl_batch_clear(&f->b);
	for (uint64_t i = 41; i <= 60; i++) {
		tl_batch_add(&f->b, i, term_of(i), RLOG_PAYLOAD_COMMAND, 0,
			     PAYLOAD_BYTES);
	}
	fx_append_batch(f, log);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 2);
	must_close(log);
	size_t short_len;
	uint8_t *short_seal = seal_bytes(f, 1, &short_len);
	assert_non_null(short_seal);

	/* Log A: the same entries one by one; segment 1 goes further. */
	fx_new_dir(f);
	build_multi(f, 200);
	assert_true(seg_header(f, 2).first_index > 41);
	size_t long_len;
	uint8_t *long_seal = seal_bytes(f, 1, &long_len);
	assert_non_null(long_seal);
	assert_true(long_len > short_len);
	char path[700];
	seal_file(f, 1, path, sizeof(path));
	write_all(path, short_seal, short_len);
	struct rlog *a = fx_open(f);
	assert_true(seg_read_in_full(f, 1));
	check_log(a, &f->m);
	must_close(a);
	size_t len;
	uint8_t *now = seal_bytes(f, 1, &len);
	assert_non_null(now);
	assert_int_equal(len, long_len);
	assert_memory_equal(now, long_seal, len);
	free(now);

	/* And the longer seal in the log whose segment 1 is shorter. */
	fx_new_dir(f);
	log = fx_open(f);
	fx_append_range(f, log, 1, 40, 0, 0);
	tl_batch_clear(&f->b);
	for (uint64_t i = 41; i <= 60; i++) {
		tl_batch_add(&f->b, i, term_of(i), RLOG_PAYLOAD_COMMAND, 0,
			     PAYLOAD_BYTES);
	}
	fx_append_batch(f, log);
	must_close(log);
	seal_file(f, 1, path, sizeof(path));
	write_all(path, long_seal, long_len);
	log = fx_open(f);
	assert_true(seg_read_in_full(f, 1));
	check_log(log, &f->m);
	must_close(log);
	now = seal_bytes(f, 1, &len);
	assert_non_null(now);
	assert_int_equal(len, short_len);
	assert_memory_equal(now, short_seal, len);
	free(now);
	free(long_seal);
	free(short_seal);
}

/* A hand-made seal whose checksums hold but whose end_offset is not the
 * one the next segment's header records is not used. */
static void seal_wrong_end_offset_ignored(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	struct seal *g = malloc(sizeof(*g));
	struct seal *s = malloc(sizeof(*s));
	assert_non_null(g);
	assert_non_null(s);
	seal_load(f, 1, g);
	size_t orig_len;
	uint8_t *orig = seal_bytes(f, 1, &orig_len);
	assert_non_null(orig);
	const int64_t deltas[] = {8, 64, 4096, -8, -64};
	for (size_t k = 0; k < sizeof(deltas) / sizeof(deltas[0]); k++) {
		*s = *g;
		s->h.end_offset =
		    (uint64_t)((int64_t)g->h.end_offset + deltas[k]);
		size_t len;
		uint8_t *buf = seal_encode(s, s->h.runs, s->h.count, &len);
		char path[700];
		seal_file(f, 1, path, sizeof(path));
		write_all(path, buf, len);
		free(buf);
		struct rlog *log = fx_open(f);
		if (!seg_read_in_full(f, 1)) {
			fail_msg("end_offset %+lld: the seal was used",
				 (long long)deltas[k]);
		}
		check_log(log, &f->m);
		must_close(log);
		uint8_t *now = seal_bytes(f, 1, &len);
		assert_non_null(now);
		assert_int_equal(len, orig_len);
		assert_memory_equal(now, orig, len);
		free(now);
	}
	free(orig);
	free(s);
	free(g);
}

/* ---- 6. Checksums valid, content inconsistent. ---- */

enum forge {
	FORGE_START_PAST_NEXT,
	FORGE_START_ZERO,
	FORGE_FIRST_BELOW_START,
	FORGE_FIRST_ABOVE_START_NO_PURGE,
	FORGE_SEQ_OTHER,
	FORGE_END_MISALIGNED,
	FORGE_RUN_NOT_AT_FIRST,
	FORGE_RUNS_EQUAL,
	FORGE_RUNS_FALLING,
	FORGE_RUN_PAST_COUNT,
	FORGE_TERMS_EQUAL,
	FORGE_TERMS_FALLING,
	FORGE_TERM_BELOW_PREVIOUS,
	FORGE_NO_RUNS,
	FORGE_RUNS_OVER_COUNT,
	FORGE_ENT_PAST_END,
	FORGE_ENT_CROSSES_END,
	FORGE_ENTS_OVERLAP,
	FORGE_ENT_IN_HEADER,
	FORGE_ENT_MISALIGNED,
	FORGE_ENT_TOO_SMALL,
	FORGE_ENT_SIZE_ODD,
	FORGE_COUNT_OVER_ROOM,
	FORGE_FILE_LONGER,
	FORGE_FILE_SHORTER,
	FORGE_HEADER_COUNT_LOW,
	FORGE_FEWER_ENTRIES,
	FORGE_CASES
};

/* Forge case k from the genuine seal g (of a segment with at least three
 * runs, after a segment whose last term is below its first). Returns the
 * encoded bytes. */
static uint8_t *forge(enum forge k, const struct seal *g, struct seal *s,
		      size_t *len)
{
	*s = *g;
	uint32_t nruns = g->h.runs, nents = g->h.count;
	uint32_t c = g->h.count;
	uint64_t first = g->h.first;
	bool longer = false, shorter = false;
	switch (k) {
	case FORGE_START_PAST_NEXT:
		s->h.start = first + 1;
		s->h.first = first + 1;
		s->run_at[0] = first + 1;
		break;
	case FORGE_START_ZERO:
		s->h.start = 0;
		break;
	case FORGE_FIRST_BELOW_START:
		s->h.start = first + 1;
		break;
	case FORGE_FIRST_ABOVE_START_NO_PURGE:
		s->h.first = first + 1;
		s->run_at[0] = first + 1;
		break;
	case FORGE_SEQ_OTHER:
		s->h.seq = g->h.seq + 1;
		break;
	case FORGE_END_MISALIGNED:
		s->h.end_offset = g->h.end_offset + 4;
		break;
	case FORGE_RUN_NOT_AT_FIRST:
		s->run_at[0] = first + 1;
		break;
	case FORGE_RUNS_EQUAL:
		s->run_at[1] = s->run_at[0];
		break;
	case FORGE_RUNS_FALLING:
		s->run_at[2] = s->run_at[1] - 1;
		break;
	case FORGE_RUN_PAST_COUNT:
		s->run_at[nruns - 1] = first + c;
		break;
	case FORGE_TERMS_EQUAL:
		s->run_term[1] = s->run_term[0];
		break;
	case FORGE_TERMS_FALLING:
		s->run_term[2] = s->run_term[0];
		break;
	case FORGE_TERM_BELOW_PREVIOUS:
		s->run_term[0] = term_of(first - 1) - 1;
		break;
	case FORGE_NO_RUNS:
		s->h.runs = 0;
		nruns = 0;
		break;
	case FORGE_RUNS_OVER_COUNT:
		s->h.runs = c + 1;
		nruns = c + 1;
		for (uint32_t i = 0; i < nruns; i++) {
			s->run_at[i] = first + i;
			s->run_term[i] = g->run_term[0] + i;
		}
		break;
	case FORGE_ENT_PAST_END:
		s->off[c - 1] = (uint32_t)g->h.end_offset + 8;
		break;
	case FORGE_ENT_CROSSES_END:
		s->size[c - 1] += 8;
		break;
	case FORGE_ENTS_OVERLAP:
		s->off[5] = s->off[4] + 8;
		break;
	case FORGE_ENT_IN_HEADER:
		s->off[0] = RLOG__SEG_HEADER_BYTES - 8;
		break;
	case FORGE_ENT_MISALIGNED:
		s->off[c - 1] += 4;
		s->size[c - 1] -= 8;
		break;
	case FORGE_ENT_TOO_SMALL:
		s->size[c - 1] = 40;
		break;
	case FORGE_ENT_SIZE_ODD:
		s->size[c - 1] -= 4;
		break;
	case FORGE_COUNT_OVER_ROOM: {
		uint64_t room = (g->h.end_offset - RLOG__SEG_HEADER_BYTES) /
				RLOG__SEAL_RECORD_MIN_BYTES;
		assert_true(room + 1 < SEAL_ITEMS_MAX);
		s->h.count = (uint32_t)room + 1;
		s->h.runs = 1;
		nruns = 1;
		nents = s->h.count;
		for (uint32_t i = 0; i < nents; i++) {
			s->off[i] = RLOG__SEG_HEADER_BYTES +
				    i * RLOG__SEAL_RECORD_MIN_BYTES;
			s->size[i] = RLOG__SEAL_RECORD_MIN_BYTES;
		}
		break;
	}
	case FORGE_FILE_LONGER:
		longer = true;
		break;
	case FORGE_FILE_SHORTER:
		shorter = true;
		break;
	case FORGE_HEADER_COUNT_LOW:
		s->h.count = c - 1;
		break;
	case FORGE_FEWER_ENTRIES:
		/* A consistent seal of one entry less: the log after it would
		 * not continue where the next segment's header says. */
		s->h.count = c - 1;
		nents = c - 1;
		if (nruns > 1 && s->run_at[nruns - 1] == first + c - 1) {
			nruns--;
			s->h.runs = nruns;
		}
		break;
	case FORGE_CASES:
		fail();
	}
	uint8_t *buf = seal_encode(s, nruns, nents, len);
	if (longer) {
		buf = realloc(buf, *len + 8);
		assert_non_null(buf);
		memset(buf + *len, 0, 8);
		*len += 8;
	}
	if (shorter) {
		*len -= 8;
	}
	return buf;
}

/* Hand-made seals with valid checksums but content that cannot be true
 * of the segment (or of the log before it) are not used, never crash the
 * open, and are replaced by the right seal. */
static void seal_inconsistent_seal_ignored(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	const uint64_t seq = 2;
	struct seal *g = malloc(sizeof(*g));
	struct seal *s = malloc(sizeof(*s));
	assert_non_null(g);
	assert_non_null(s);
	seal_load(f, seq, g);
	/* The cases need three runs, a term step at the segment's start and
	 * a few entries. */
	assert_true(g->h.runs >= 3);
	assert_true(g->h.count >= 8);
	assert_true(term_of(g->h.first - 1) >= 2);
	assert_true(g->run_term[0] >= term_of(g->h.first - 1));
	size_t orig_len;
	uint8_t *orig = seal_bytes(f, seq, &orig_len);
	assert_non_null(orig);
	char path[700];
	seal_file(f, seq, path, sizeof(path));
	for (int k = 0; k < FORGE_CASES; k++) {
		size_t len;
		uint8_t *buf = forge((enum forge)k, g, s, &len);
		write_all(path, buf, len);
		free(buf);
		struct rlog *log = NULL;
		int rc = fx_open_rc(f, 0, &log);
		if (rc != 0) {
			fail_msg("forged seal case %d: open: %s: %s", k,
				 rlog_strerror(rc), rlog_open_errmsg());
		}
		if (!seg_read_in_full(f, seq)) {
			fail_msg("forged seal case %d was used", k);
		}
		check_log(log, &f->m);
		must_close(log);
		uint8_t *now = seal_bytes(f, seq, &len);
		assert_non_null(now);
		assert_int_equal(len, orig_len);
		assert_memory_equal(now, orig, len);
		free(now);
	}
	free(orig);
	free(s);
	free(g);
}

/* ---- 7. Purge. ---- */

/* A purge into the current last segment before it is sealed: the seal
 * written at the rollover lists the entries from purge + 1 on, and the
 * open starts the log there, twice. A later purge into the sealed
 * segment is applied over its seal. */
static void seal_purge_before_seal_reopens_exact(void **state)
{
	struct fx *f = *state;
	struct rlog *log = fx_open(f);
	fx_append_range(f, log, 1, 30, 0, 0);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 1);
	assert_int_equal(rlog_purge(log, 20, term_of(20)), 0);
	tl_model_purge(&f->m, 20, term_of(20));
	uint64_t i = 30;
	while (tl_count_suffix(f->dir, ".seg") < 2) {
		i++;
		fx_append_range(f, log, i, i, 0, 0);
	}
	fx_append_range(f, log, i + 1, i + 10, 0, 0);
	struct seal *s = malloc(sizeof(*s));
	assert_non_null(s);
	seal_load(f, 1, s);
	assert_int_equal(s->h.start, 1);
	assert_int_equal(s->h.first, 21);
	assert_int_equal(s->h.first + s->h.count, seg_header(f, 2).first_index);
	check_log(log, &f->m);
	log = reopen_sealed(f, log);
	assert_int_equal(rlog_first_index(log), 21);
	log = reopen_sealed(f, log);
	assert_int_equal(rlog_first_index(log), 21);

	/* Purge again, into the sealed segment (it keeps live entries). */
	assert_int_equal(rlog_purge(log, 25, term_of(25)), 0);
	tl_model_purge(&f->m, 25, term_of(25));
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 2);
	log = reopen_sealed(f, log);
	assert_int_equal(rlog_first_index(log), 26);
	/* And past it: segment 1 and its seal go. */
	uint64_t p = seg_header(f, 2).first_index + 2;
	assert_int_equal(rlog_purge(log, p, term_of(p)), 0);
	tl_model_purge(&f->m, p, term_of(p));
	char path[700];
	seal_file(f, 1, path, sizeof(path));
	assert_false(file_exists(path));
	seg_file(f, 1, path, sizeof(path));
	assert_false(file_exists(path));
	fx_append_range(f, log, f->m.last + 1, f->m.last + 60, 0, 0);
	log = reopen_sealed(f, log);
	log = reopen_sealed(f, log);
	must_close(log);
	assert_seals_valid(f);
	free(s);
}

/* ---- 8. Truncate reaching back. ---- */

/* Right after a rollover, a truncate into the previous segment and new
 * entries past another rollover: the log reopens as exactly 1..80 with
 * the new terms, twice, and no truncated entry comes back. */
static void seal_truncate_into_previous_segment_reopens_exact(void **state)
{
	struct fx *f = *state;
	struct rlog *log = fx_open(f);
	fx_append_range(f, log, 1, 60, 1, 0);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 2);
	struct rlog__seg_header h2 = seg_header(f, 2);
	assert_true(h2.first_index > 30);
	assert_int_equal(rlog_truncate(log, 30), 0);
	tl_model_truncate(&f->m, 30);
	fx_append_range(f, log, 30, 80, 2, 1);
	assert_true(tl_count_suffix(f->dir, ".seg") >= 3);
	struct seal *s = malloc(sizeof(*s));
	assert_non_null(s);
	seal_load(f, 2, s);
	assert_int_equal(s->h.start, 30);
	assert_int_equal(s->h.first, 30);
	check_log(log, &f->m);
	log = reopen_sealed(f, log);
	for (uint64_t i = 1; i <= 80; i++) {
		uint64_t term = 0;
		assert_int_equal(rlog_term(log, i, &term), 0);
		assert_int_equal(term, i < 30 ? 1 : 2);
	}
	assert_int_equal(rlog_last_index(log), 80);
	log = reopen_sealed(f, log);
	must_close(log);
	assert_seals_valid(f);
	free(s);
}

/* Bytes of the ENTRY record of a command entry with len payload bytes. */
static uint64_t rec_bytes(uint64_t index, size_t len)
{
	struct rlog_entry e = {.index = index,
			       .term = 1,
			       .kind = RLOG_PAYLOAD_COMMAND,
			       .payload_len = len};
	return rlog__entry_record_size(&e);
}

/* A segment whose only record is a truncate (it started with the
 * truncate and the next batch did not fit) gets a seal of no entries that
 * the open uses; a purge past that truncate reopens right too. */
static void seal_truncate_only_segment_reopens_exact(void **state)
{
	struct fx *f = *state;
	struct rlog *log = fx_open_pre(f, RLOG_PREALLOCATE_OFF);
	fx_append_range(f, log, 1, 30, 1, 0);
	char path[700];
	seg_file(f, 1, path, sizeof(path));
	/* Fill segment 1 so a truncate record (40 bytes) no longer fits:
	 * records come in every multiple of 8 bytes from 48 on, so the last
	 * one can leave less than 8. */
	for (uint64_t i = 31;; i++) {
		uint64_t left = SEG_BYTES - file_bytes(path);
		if (left < RLOG__REC_HEADER_BYTES) {
			break;
		}
		size_t len = PAYLOAD_BYTES;
		if (left < 2 * rec_bytes(i, PAYLOAD_BYTES)) {
			len = 0;
			assert_true(rec_bytes(i, len) <= left);
			while (rec_bytes(i, len + 1) <= left) {
				len++;
			}
		}
		tl_batch_clear(&f->b);
		tl_batch_add(&f->b, i, 1, RLOG_PAYLOAD_COMMAND, 0, len);
		fx_append_batch(f, log);
		assert_int_equal(tl_count_suffix(f->dir, ".seg"), 1);
	}
	assert_int_equal(rlog_truncate(log, 20), 0);
	tl_model_truncate(&f->m, 20);
	assert_int_equal(rlog_sync(log), 0);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 2);
	/* Segment 2 holds the truncate only; a batch larger than a segment
	 * starts segment 3. */
	tl_batch_clear(&f->b);
	for (uint64_t i = 20; i < 20 + 60; i++) {
		tl_batch_add(&f->b, i, 2, RLOG_PAYLOAD_COMMAND, 1,
			     PAYLOAD_BYTES);
	}
	fx_append_batch(f, log);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 3);
	struct seal *s = malloc(sizeof(*s));
	assert_non_null(s);
	seal_load(f, 2, s);
	assert_int_equal(s->h.start, 20);
	assert_int_equal(s->h.first, 20);
	assert_int_equal(s->h.count, 0);
	assert_int_equal(s->h.runs, 0);
	assert_int_equal(s->h.end_offset,
			 RLOG__SEG_HEADER_BYTES + RLOG__REC_HEADER_BYTES);
	fx_append_range(f, log, 80, 90, 2, 1);
	log = reopen_sealed(f, log);
	log = reopen_sealed(f, log);
	/* A purge past the truncate: segments 1 and 2 hold nothing live. */
	assert_int_equal(rlog_purge(log, 25, 2), 0);
	tl_model_purge(&f->m, 25, 2);
	log = reopen_sealed(f, log);
	must_close(log);
	assert_seals_valid(f);
	free(s);
}

/* ---- 9. Replace. ---- */

/* rlog_replace groups that take their own segment or start a new one:
 * the seals record the truncate's reach, and the log reopens exactly. */
static void seal_replace_across_rollover_reopens_exact(void **state)
{
	struct fx *f = *state;
	struct rlog *log = fx_open(f);
	fx_append_range(f, log, 1, 40, 1, 0);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 1);
	/* A group larger than a segment: a segment of its own. */
	fx_replace(f, log, 20, 75, 2);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 2);
	/* A small group that no longer fits: segment 3. */
	fx_replace(f, log, 70, 72, 3);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 3);
	struct seal *s = malloc(sizeof(*s));
	assert_non_null(s);
	seal_load(f, 2, s);
	assert_int_equal(s->h.start, 20);
	assert_int_equal(s->h.first, 20);
	assert_int_equal(s->h.count, 56);
	assert_int_equal(s->h.runs, 1);
	assert_int_equal(s->run_term[0], 2);
	fx_append_range(f, log, 73, 140, 3, 2);
	/* One more replace reaching back into a sealed segment. */
	uint64_t h4 = seg_header(f, 4).first_index;
	fx_replace(f, log, h4 - 3, h4 + 1, 4);
	check_log(log, &f->m);
	log = reopen_sealed(f, log);
	log = reopen_sealed(f, log);
	must_close(log);
	assert_seals_valid(f);
	free(s);
}

/* ---- 10. A log without seals. ---- */

/* A log whose seals are gone opens by reading every segment, writes the
 * same seals again, and the next open uses them. A failed seal write at
 * open does not fail the open. */
static void seal_missing_seals_written_at_open(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	assert_true(n >= 4);
	uint8_t *orig[SEQS_MAX];
	size_t orig_len[SEQS_MAX];
	for (size_t i = 0; i + 1 < n; i++) {
		orig[i] = seal_bytes(f, seqs[i], &orig_len[i]);
		assert_non_null(orig[i]);
	}
	remove_seals(f);

	/* First with every seal write failing: nothing is written, the open
	 * succeeds. */
	f->cv.seal_open_err = -EIO;
	struct rlog *log = fx_open(f);
	assert_true(f->cv.injected >= n - 1);
	for (size_t i = 0; i < n; i++) {
		assert_true(seg_read_in_full(f, seqs[i]));
	}
	check_log(log, &f->m);
	must_close(log);
	f->cv.seal_open_err = 0;
	uint64_t none[SEQS_MAX];
	assert_int_equal(list_seqs(f, true, none), 0);

	log = fx_open(f);
	for (size_t i = 0; i < n; i++) {
		assert_true(seg_read_in_full(f, seqs[i]));
	}
	check_log(log, &f->m);
	/* Written during the open, before any rollover. */
	for (size_t i = 0; i + 1 < n; i++) {
		size_t len;
		uint8_t *now = seal_bytes(f, seqs[i], &len);
		assert_non_null(now);
		assert_int_equal(len, orig_len[i]);
		assert_memory_equal(now, orig[i], len);
		free(now);
	}
	must_close(log);
	assert_seals_valid(f);
	log = fx_open(f);
	assert_seals_used(f);
	check_log(log, &f->m);
	must_close(log);
	for (size_t i = 0; i + 1 < n; i++) {
		free(orig[i]);
	}
}

/* ---- 11. Orphan seals. ---- */

/* Plant an orphan seal above every segment; returns its seq. */
static uint64_t plant_orphan(struct fx *f)
{
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	assert_true(n >= 2);
	uint64_t orphan = seqs[n - 1] + 3;
	size_t len;
	uint8_t *buf = seal_bytes(f, seqs[0], &len);
	assert_non_null(buf);
	char path[700];
	seal_file(f, orphan, path, sizeof(path));
	write_all(path, buf, len);
	free(buf);
	return orphan;
}

/* A seal whose segment does not exist is never met by a new segment of
 * the same number, and the next purge removes it. */
static void seal_orphan_removed_by_purge_seq_not_reused(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	uint64_t orphan = plant_orphan(f);
	char orphan_path[700];
	seal_file(f, orphan, orphan_path, sizeof(orphan_path));
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	struct rlog *log = fx_open(f);
	assert_seals_used(f);
	check_log(log, &f->m);
	assert_true(file_exists(orphan_path));
	/* Roll over: the new segment is numbered past the orphan. */
	uint64_t i = f->m.last;
	while (tl_count_suffix(f->dir, ".seg") == n) {
		i++;
		fx_append_range(f, log, i, i, 0, 0);
	}
	uint64_t after[SEQS_MAX];
	size_t n2 = list_seqs(f, false, after);
	assert_int_equal(n2, n + 1);
	assert_int_equal(after[n2 - 1], orphan + 1);
	char path[700];
	seg_file(f, orphan, path, sizeof(path));
	assert_false(file_exists(path));
	fx_append_range(f, log, i + 1, i + 5, 0, 0);
	log = reopen_sealed(f, log);
	assert_true(file_exists(orphan_path));

	/* A purge inside segment 2 removes segment 1, its seal and the
	 * orphan. */
	uint64_t p = seg_header(f, seqs[1]).first_index + 1;
	assert_int_equal(rlog_purge(log, p, term_of(p)), 0);
	tl_model_purge(&f->m, p, term_of(p));
	assert_false(file_exists(orphan_path));
	seal_file(f, seqs[0], path, sizeof(path));
	assert_false(file_exists(path));
	check_log(log, &f->m);
	log = reopen_sealed(f, log);
	must_close(log);
	assert_seals_valid(f);
}

/* The same orphan is removed by a reset, and the log started again never
 * reuses its number either. */
static void seal_orphan_removed_by_reset(void **state)
{
	struct fx *f = *state;
	build_multi(f, 120);
	uint64_t orphan = plant_orphan(f);
	char orphan_path[700];
	seal_file(f, orphan, orphan_path, sizeof(orphan_path));
	struct rlog *log = fx_open(f);
	check_log(log, &f->m);
	assert_int_equal(rlog_reset(log), 0);
	tl_model_reset(&f->m);
	assert_false(file_exists(orphan_path));
	uint64_t none[SEQS_MAX];
	assert_int_equal(list_seqs(f, true, none), 0);
	assert_int_equal(list_seqs(f, false, none), 0);
	fx_append_range(f, log, 1, 100, 0, 7);
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	assert_true(n >= 2);
	assert_true(seqs[0] > orphan);
	log = reopen_sealed(f, log);
	must_close(log);
	assert_seals_valid(f);

	/* Planted again while closed: the next open numbers past it. */
	orphan = plant_orphan(f);
	log = fx_open(f);
	check_log(log, &f->m);
	n = list_seqs(f, false, seqs);
	uint64_t i = f->m.last;
	while (list_seqs(f, false, seqs) == n) {
		i++;
		fx_append_range(f, log, i, i, 0, 7);
	}
	assert_int_equal(seqs[n], orphan + 1);
	assert_int_equal(rlog_reset(log), 0);
	tl_model_reset(&f->m);
	seal_file(f, orphan, orphan_path, sizeof(orphan_path));
	assert_false(file_exists(orphan_path));
	must_close(log);
	log = fx_open(f);
	check_log(log, &f->m);
	must_close(log);
}

/* ---- 12. Failed seal writes. ---- */

struct seal_fault {
	const char *what;
	bool at_open; /* fail the create, else a pwrite */
	int err;
	unsigned nth; /* which pwrite of the seal file */
	bool torn;
};

/* Creating or writing a seal fails with EIO or ENOSPC: the appends that
 * roll over still succeed, the handle is not poisoned, no partial seal is
 * left, and a reopen gives the right log (and writes the seals). */
static void seal_write_failure_does_not_fail_append(void **state)
{
	struct fx *f = *state;
	const struct seal_fault cases[] = {
	    {"create EIO", true, -EIO, 0, false},
	    {"create ENOSPC", true, -ENOSPC, 0, false},
	    {"body EIO", false, -EIO, 1, false},
	    {"body ENOSPC torn", false, -ENOSPC, 1, true},
	    {"header EIO torn", false, -EIO, 2, true},
	    {"header ENOSPC", false, -ENOSPC, 2, false},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct seal_fault *c = &cases[k];
		fx_new_dir(f);
		struct rlog *log = fx_open(f);
		if (c->at_open) {
			f->cv.seal_open_err = c->err;
		} else {
			f->cv.seal_pwrite_err = c->err;
			f->cv.seal_pwrite_nth = c->nth;
			f->cv.seal_torn = c->torn;
		}
		fx_append_range(f, log, 1, 150, 0, 0);
		uint64_t seqs[SEQS_MAX];
		size_t n = list_seqs(f, false, seqs);
		if (n < 3 || f->cv.injected < n - 1) {
			fail_msg("%s: %zu segments, %u failures injected",
				 c->what, n, f->cv.injected);
		}
		assert_false(rlog_is_poisoned(log));
		uint64_t none[SEQS_MAX];
		if (list_seqs(f, true, none) != 0) {
			fail_msg("%s: a seal file was left", c->what);
		}
		/* Other writes still work on the same handle. */
		assert_int_equal(rlog_truncate(log, 140), 0);
		tl_model_truncate(&f->m, 140);
		fx_append_range(f, log, 140, 160, 0, 1);
		assert_false(rlog_is_poisoned(log));
		check_log(log, &f->m);
		must_close(log);
		f->cv.seal_open_err = 0;
		f->cv.seal_pwrite_err = 0;
		f->cv.seal_torn = false;
		assert_int_equal(list_seqs(f, true, none), 0);
		log = fx_open(f);
		check_log(log, &f->m);
		must_close(log);
		assert_seals_valid(f);
		log = fx_open(f);
		assert_seals_used(f);
		check_log(log, &f->m);
		must_close(log);
	}
}

/* ---- A crash image after a reopen. ---- */

/* Open the copy of the directory taken while the handle was open (what a
 * crash right then leaves, everything having been synced) and compare it
 * with the model. */
static void check_crash_image(struct fx *f)
{
	char img[512];
	tl_mkdtemp(img, sizeof(img), "seal-img");
	tl_copydir(f->dir, img);
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = img;
	o.segment_size_bytes = SEG_BYTES;
	struct rlog *log = NULL;
	int rc = rlog_open(&o, &log);
	if (rc != 0) {
		fail_msg("open crash image: %s: %s", rlog_strerror(rc),
			 rlog_open_errmsg());
	}
	check_log(log, &f->m);
	must_close(log);
	tl_rmtree(img);
}

/* After a clean close and a reopen, the next write goes over the clean
 * mark: a crash image taken after a truncate or appends were synced opens
 * with exactly them (no truncated entry back), whatever seal the clean
 * close left; so does one taken after the next rollover. */
static void seal_crash_after_reopen_and_append_exact(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	/* First a truncate: its record lands where the clean mark was. */
	struct rlog *log = fx_open(f);
	assert_int_equal(rlog_truncate(log, 195), 0);
	tl_model_truncate(&f->m, 195);
	assert_int_equal(rlog_sync(log), 0);
	check_crash_image(f);
	must_close(log);
	log = fx_open(f);
	check_log(log, &f->m);
	fx_append_range(f, log, 195, 203, 0, 9);
	assert_int_equal(list_seqs(f, false, seqs), n);
	check_crash_image(f);
	assert_int_equal(rlog_truncate(log, 202), 0);
	tl_model_truncate(&f->m, 202);
	assert_int_equal(rlog_sync(log), 0);
	check_crash_image(f);
	uint64_t i = f->m.last;
	while (list_seqs(f, false, seqs) == n) {
		i++;
		fx_append_range(f, log, i, i, 0, 0);
	}
	check_crash_image(f);
	log = reopen_sealed(f, log);
	must_close(log);
	assert_seals_valid(f);
}

/* A clean close seals the last segment up to its clean-close mark, and
 * the next open reads nothing of that segment before the mark; once a
 * write after the reopen has gone over the mark, an open of a crash image
 * no longer uses that seal (the segment is read in full), and the next
 * clean close writes the seal again. */
static void seal_clean_close_seals_last_segment(void **state)
{
	struct fx *f = *state;
	build_multi(f, 200);
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	assert_true(n >= 2);
	uint64_t last = seqs[n - 1];
	struct rlog__seal_header h;
	assert_true(seal_header_of(f, last, &h));
	assert_int_equal(h.first + h.count, 201);
	struct rlog *log = fx_open(f);
	struct cv_stat st = seg_read_of(f, last);
	assert_true(st.body_from >= h.end_offset);
	check_log(log, &f->m);
	/* A write goes over the mark: the seal no longer holds. */
	fx_append_range(f, log, 201, 201, 0, 0);
	char img[512];
	tl_mkdtemp(img, sizeof(img), "seal-tail");
	tl_copydir(f->dir, img);
	must_close(log);
	/* Back to the image of a crash after that append. */
	tl_copydir(img, f->dir);
	tl_rmtree(img);
	log = fx_open(f);
	assert_true(seg_read_in_full(f, last));
	check_log(log, &f->m);
	must_close(log);
	/* The open settled the unvouched append into a new last segment;
	 * the close sealed that one. */
	n = list_seqs(f, false, seqs);
	assert_true(seqs[n - 1] > last);
	assert_true(seal_header_of(f, seqs[n - 1], &h));
	assert_int_equal(h.first + h.count, 202);
	assert_seals_valid(f);
}

/* ---- verify_on_open. ---- */

/* With verify_on_open no seal is written or used: every open reads every
 * segment, and damage in a segment that has a seal is reported by the open
 * itself. The seals written without the option stay and keep working. */
static void seal_verify_on_open_reads_all_writes_none(void **state)
{
	struct fx *f = *state;
	f->verify_on_open = true;
	build_multi(f, 200);
	uint64_t seqs[SEQS_MAX];
	size_t n = list_seqs(f, false, seqs);
	assert_true(n >= 4);
	uint64_t none[SEQS_MAX];
	assert_int_equal(list_seqs(f, true, none), 0);
	struct rlog *log = fx_open(f);
	for (size_t i = 0; i < n; i++) {
		assert_true(seg_read_in_full(f, seqs[i]));
	}
	check_log(log, &f->m);
	must_close(log);
	assert_int_equal(list_seqs(f, true, none), 0);

	/* Without the option the open writes them; with it, they are not
	 * read, and are left in place. */
	f->verify_on_open = false;
	log = fx_open(f);
	check_log(log, &f->m);
	must_close(log);
	assert_seals_valid(f);
	f->verify_on_open = true;
	log = fx_open(f);
	for (size_t i = 0; i < n; i++) {
		assert_true(seg_read_in_full(f, seqs[i]));
		char name[RLOG__SEAL_NAME_LEN + 1];
		rlog__seal_name(name, seqs[i]);
		assert_int_equal(read_of(f, name).preads, 0);
	}
	check_log(log, &f->m);
	must_close(log);
	assert_seals_valid(f);

	/* Damage in segment 1: the open with the option finds it, the one
	 * without leaves it to the read. */
	struct rlog__seg_header next = seg_header(f, 2);
	struct rec *recs = malloc(RECS_MAX * sizeof(*recs));
	assert_non_null(recs);
	assert_true(seg_walk(f, 1, next.prev_end_offset, recs) > 5);
	uint64_t off = recs[4].off;
	char path[700];
	seg_file(f, 1, path, sizeof(path));
	flip_byte(path, off + RLOG__REC_HEADER_BYTES + recs[4].body_len - 1,
		  0x20);
	free(recs);
	log = NULL;
	assert_int_equal(fx_open_rc(f, 0, &log), RLOG_ECORRUPT);
	assert_null(log);
	assert_true(errmsg_names(rlog_open_errmsg(), off));
	f->verify_on_open = false;
	log = fx_open(f);
	assert_seals_used(f);
	struct rlog_entry e;
	assert_int_equal(rlog_get(log, 5, &e), RLOG_ECORRUPT);
	assert_true(errmsg_names(rlog_errmsg(log), off));
	must_close(log);
}

/* ---- 13. Names and the header codec. ---- */

/* Seal names are 16 lowercase hex digits of a non-zero seq then .seal. */
static void seal_parse_name_accepts_only_seal_names(void **state)
{
	(void)state;
	char name[RLOG__SEAL_NAME_LEN + 1];
	rlog__seal_name(name, 1);
	assert_string_equal(name, "0000000000000001.seal");
	rlog__seal_name(name, 0xabcdefULL);
	assert_string_equal(name, "0000000000abcdef.seal");
	uint64_t seq = 0;
	assert_true(rlog__seal_parse_name("0000000000000001.seal", &seq));
	assert_int_equal(seq, 1);
	assert_true(rlog__seal_parse_name("0000000000abcdef.seal", &seq));
	assert_int_equal(seq, 0xabcdefULL);
	const char *bad[] = {
	    "000000000000000A.seal",
	    "0000000000ABCDEF.seal",
	    "000000000000001.seal",
	    "00000000000000001.seal",
	    "0000000000000001.seg",
	    "0000000000000000.seal",
	    "0000000000000001.Seal",
	    "0000000000000001.seal.tmp",
	    "0000000000000001.sea",
	    "0000000000000001xseal",
	    "000000000000000g.seal",
	    "-000000000000001.seal",
	    " 000000000000001.seal",
	    "ffffffffffffffff.seal",
	    ".seal",
	    "",
	    "0000000000000001.seal ",
	    "meta",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		seq = 77;
		if (rlog__seal_parse_name(bad[i], &seq)) {
			fail_msg("accepted \"%s\"", bad[i]);
		}
		assert_int_equal(seq, 77);
	}
	/* And a segment name parser does not take seal names. */
	assert_false(rlog__seg_parse_name("0000000000000001.seal", &seq));
}

/* The header round-trips; a bad checksum, magic, header size or field is
 * RLOG_ECORRUPT and another version with a valid checksum RLOG_EVERSION. */
static void seal_header_codec_checks_fields(void **state)
{
	(void)state;
	struct rlog__seal_header h = {.seq = 7,
				      .end_offset = 4096,
				      .start = 100,
				      .first = 100,
				      .count = 40,
				      .runs = 2,
				      .body_crc = 0x12345678u};
	uint8_t buf[RLOG__SEAL_HEADER_BYTES];
	rlog__seal_header_put(buf, &h);
	assert_memory_equal(buf, "RLOGSEAL", 8);
	assert_int_equal(rlog__get32(buf + 8), 1);
	assert_int_equal(rlog__get32(buf + 12), 64);
	assert_int_equal(rlog__get32(buf + 60),
			 rlog__crc32c(RLOG__CRC_SEED, buf, 60));
	struct rlog__seal_header got;
	assert_int_equal(rlog__seal_header_check(buf, sizeof(buf), &got), 0);
	assert_int_equal(got.seq, 7);
	assert_int_equal(got.end_offset, 4096);
	assert_int_equal(got.start, 100);
	assert_int_equal(got.first, 100);
	assert_int_equal(got.count, 40);
	assert_int_equal(got.runs, 2);
	assert_int_equal(got.body_crc, 0x12345678u);
	assert_int_equal(rlog__seal_file_bytes(&got), 64 + 2 * 16 + 40 * 8);
	assert_int_equal(rlog__seal_header_check(buf, 63, &got), RLOG_ECORRUPT);
	for (size_t i = 0; i < sizeof(buf); i++) {
		uint8_t b[RLOG__SEAL_HEADER_BYTES];
		memcpy(b, buf, sizeof(b));
		b[i] ^= 0x10;
		assert_int_equal(rlog__seal_header_check(b, sizeof(b), &got),
				 RLOG_ECORRUPT);
	}
	uint8_t b[RLOG__SEAL_HEADER_BYTES];
	memcpy(b, buf, sizeof(b));
	rlog__put32(b + 8, 2);
	rlog__put32(b + 60, rlog__crc32c(RLOG__CRC_SEED, b, 60));
	assert_int_equal(rlog__seal_header_check(b, sizeof(b), &got),
			 RLOG_EVERSION);
	memcpy(b, buf, sizeof(b));
	rlog__put32(b + 12, 72);
	rlog__put32(b + 60, rlog__crc32c(RLOG__CRC_SEED, b, 60));
	assert_int_equal(rlog__seal_header_check(b, sizeof(b), &got),
			 RLOG_ECORRUPT);
	memcpy(b, buf, sizeof(b));
	b[0] = 'X';
	rlog__put32(b + 60, rlog__crc32c(RLOG__CRC_SEED, b, 60));
	assert_int_equal(rlog__seal_header_check(b, sizeof(b), &got),
			 RLOG_ECORRUPT);
	/* Fields that no segment can have. */
	struct rlog__seal_header bad[] = {
	    {.seq = 7, .end_offset = 56, .start = 1, .first = 1},
	    {.seq = 7, .end_offset = 4100, .start = 1, .first = 1},
	    {.seq = 7, .end_offset = 4096, .start = 0, .first = 1},
	    {.seq = 7, .end_offset = 4096, .start = 5, .first = 4},
	    {.seq = 7, .end_offset = 4096, .start = 1, .first = 1, .count = 1},
	    {.seq = 7, .end_offset = 4096, .start = 1, .first = 1, .runs = 1},
	    {.seq = 7,
	     .end_offset = 4096,
	     .start = 1,
	     .first = 1,
	     .count = 2,
	     .runs = 3},
	    {.seq = 7,
	     .end_offset = 4096,
	     .start = 1,
	     .first = 1,
	     .count = (4096 - 64) / 48 + 1,
	     .runs = 1},
	    {.seq = 7,
	     .end_offset = 4096,
	     .start = RLOG_INDEX_MAX,
	     .first = RLOG_INDEX_MAX,
	     .count = 2,
	     .runs = 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rlog__seal_header_put(b, &bad[i]);
		if (rlog__seal_header_check(b, sizeof(b), &got) !=
		    RLOG_ECORRUPT) {
			fail_msg("bad header %zu accepted", i);
		}
	}
	/* The largest count that fits is accepted. */
	struct rlog__seal_header ok = {.seq = 7,
				       .end_offset = 4096,
				       .start = 1,
				       .first = 1,
				       .count = (4096 - 64) / 48,
				       .runs = 1};
	rlog__seal_header_put(b, &ok);
	assert_int_equal(rlog__seal_header_check(b, sizeof(b), &got), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		seal_rollover_writes_exact_seal_per_segment, fx_setup,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(seal_reopen_reads_headers_only,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(seal_clean_close_seals_last_segment,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_bitflip_in_sealed_segment_found_on_read, fx_setup,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_damaged_seal_ignored_and_rewritten, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_stale_after_lost_rollover_ignored, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(seal_stale_from_other_log_ignored,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(seal_wrong_end_offset_ignored,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(seal_inconsistent_seal_ignored,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_purge_before_seal_reopens_exact, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_truncate_into_previous_segment_reopens_exact, fx_setup,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_truncate_only_segment_reopens_exact, fx_setup,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_replace_across_rollover_reopens_exact, fx_setup,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(seal_missing_seals_written_at_open,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_orphan_removed_by_purge_seq_not_reused, fx_setup,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(seal_orphan_removed_by_reset,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_write_failure_does_not_fail_append, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_crash_after_reopen_and_append_exact, fx_setup,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_verify_on_open_reads_all_writes_none, fx_setup,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(
		seal_parse_name_accepts_only_seal_names, NULL, NULL),
	    cmocka_unit_test_setup_teardown(seal_header_codec_checks_fields,
					    NULL, NULL),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
