/*
 * fuzz/make_corpus.c: write the seed corpora of every harness from real
 * engine output.
 *
 * Usage: make_corpus OUT_DIR SCENARIOS_DIR
 *
 * Each shape drives the engine through its public API on a simulated disk
 * (sim/memvfs.h), then reads the files it left and packs them in the input
 * layout of the harness (fuzz.h): valid logs (empty, one entry, many,
 * several segments, after truncate, replace, purge and reset, every payload
 * kind), torn tails from real crashes and cut, zero-filled or garbage
 * tails, damaged acknowledged records, both hard-state slots alone or
 * damaged, records of every type, and every scenario file. Files are
 * written to OUT_DIR/HARNESS/NAME; the regular files already in those five
 * directories are removed first, so the output is exactly what this
 * program makes. Everything is deterministic: the same program writes the
 * same bytes.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "internal.h"
#include "memvfs.h"
#include "rlog/rlog.h"

#define INPUT_BYTES_MAX (64u * 1024u)

static const char *out_root;
static unsigned long written;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "make_corpus: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL) {
		die("out of memory");
	}
	return p;
}

static const char *const harnesses[] = {
    "fuzz_segment_load",   "fuzz_meta_load",	  "fuzz_record_decode",
    "fuzz_scenario_parse", "fuzz_crash_schedule", "fuzz_seal_load"};

/* Create OUT/HARNESS and remove the regular files in it. */
static void prepare_dir(const char *harness)
{
	char path[4096];
	if (mkdir(out_root, 0755) != 0 && errno != EEXIST) {
		die("mkdir %s: %s", out_root, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/%s", out_root, harness);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		die("mkdir %s: %s", path, strerror(errno));
	}
	DIR *d = opendir(path);
	if (d == NULL) {
		die("opendir %s: %s", path, strerror(errno));
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strncmp(de->d_name, "cov-", 4) == 0) {
			continue;
		}
		char f[4096 + 256];
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		struct stat st;
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode)) {
			remove(f);
		}
	}
	closedir(d);
}

static void emit(const char *harness, const char *name, const void *p,
		 size_t len)
{
	if (len >= INPUT_BYTES_MAX) {
		die("%s/%s: %zu bytes, over the 64 KiB corpus cap", harness,
		    name, len);
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/%s", out_root, harness, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		die("%s: %s", path, strerror(errno));
	}
	if ((len > 0 && fwrite(p, 1, len, f) != len) || fclose(f) != 0) {
		die("%s: write failed", path);
	}
	written++;
}

/* ---- Driving the engine on a simulated disk. ---- */
struct ctx {
	struct rlog_sim_disk *disk;
	struct rlog *log;
	struct rlog_options o;
};

static void c_open(struct ctx *c)
{
	int rv = rlog_open(&c->o, &c->log);
	if (rv != 0) {
		die("open: %s: %s", rlog_strerror(rv), rlog_open_errmsg());
	}
}

static void c_new(struct ctx *c, uint64_t seg_size, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	if (rlog_sim_disk_new(NULL, seed, &c->disk) != 0) {
		die("disk_new");
	}
	rlog_options_init(&c->o);
	c->o.vfs = rlog_sim_disk_vfs(c->disk);
	c->o.segment_size_bytes = seg_size;
	/* Small zero tails, as in the simulator: the engine's 1 MiB would
	 * put every one-segment seed over the corpus cap. */
	c->o.preallocate_bytes = 4096;
	c_open(c);
}

static void c_free(struct ctx *c)
{
	rlog_close(c->log);
	rlog_sim_disk_free(c->disk);
}

static void check(int rv, const struct ctx *c, const char *what)
{
	if (rv != 0) {
		die("%s: %s: %s", what, rlog_strerror(rv), rlog_errmsg(c->log));
	}
}

/* Append (or replace with) first..last of one term, kind and size. */
static void c_entries(struct ctx *c, bool replace, uint64_t first,
		      uint64_t last, uint64_t term, enum rlog_payload_kind kind,
		      size_t size)
{
	size_t n = (size_t)(last - first + 1);
	struct rlog_entry *es = xmalloc(n * sizeof(*es));
	uint8_t *buf = xmalloc(n * size);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = buf + i * size;
		for (size_t k = 0; k < size; k++) {
			p[k] = (uint8_t)((first + i) * 31u + k * 7u + term);
		}
		bool carries =
		    kind == RLOG_PAYLOAD_COMMAND || kind == RLOG_PAYLOAD_CONFIG;
		es[i] = (struct rlog_entry){.index = first + i,
					    .term = term,
					    .kind = kind,
					    .payload = carries ? p : NULL,
					    .payload_len = carries ? size : 0};
	}
	int rv =
	    replace ? rlog_replace(c->log, es, n) : rlog_append(c->log, es, n);
	check(rv, c, replace ? "replace" : "append");
	free(buf);
	free(es);
}

static void c_append(struct ctx *c, uint64_t first, uint64_t last,
		     uint64_t term, size_t size)
{
	c_entries(c, false, first, last, term, RLOG_PAYLOAD_COMMAND, size);
}

static void c_sync(struct ctx *c)
{
	check(rlog_sync(c->log), c, "sync");
}

static void c_hs(struct ctx *c, uint64_t term, bool vote, uint32_t id,
		 bool committed)
{
	struct rlog_hard_state hs = {.current_term = term,
				     .has_vote = vote,
				     .voted_for_id = id,
				     .voted_for_term = vote ? term : 0,
				     .committed = committed};
	check(rlog_hard_state_save(c->log, &hs), c, "hard_state_save");
}

/* Cut the power with this fate and reopen. */
static void c_crash(struct ctx *c, enum rlog_sim_fate fate, uint64_t seed)
{
	rlog_sim_disk_set_fate(c->disk, fate);
	rlog_sim_disk_reseed(c->disk, seed);
	if (rlog_sim_disk_crash(c->disk) != 0) {
		die("crash");
	}
	rlog_close(c->log);
	c->log = NULL;
}

/* ---- The files of a disk, packed for fuzz_segment_load. ---- */
struct files {
	unsigned nseg;
	uint64_t seq[FUZZ_SEG_FILES_MAX];
	uint8_t *seg[FUZZ_SEG_FILES_MAX];
	size_t seg_len[FUZZ_SEG_FILES_MAX];
	uint8_t *meta; /* NULL: no meta file */
	size_t meta_len;
};

struct seg_list {
	uint64_t seqs[64];
	size_t n;
};

static int list_cb(void *arg, const char *name, uint64_t size)
{
	(void)size;
	struct seg_list *l = arg;
	uint64_t seq;
	if (rlog__seg_parse_name(name, &seq) && l->n < 64) {
		l->seqs[l->n++] = seq;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Take the newest (up to three) segments and meta of the durable view. */
static void files_load(struct files *f, struct rlog_sim_disk *disk)
{
	memset(f, 0, sizeof(*f));
	struct seg_list l = {.n = 0};
	rlog_sim_disk_list_files(disk, true, list_cb, &l);
	qsort(l.seqs, l.n, sizeof(l.seqs[0]), cmp_u64);
	size_t from = l.n > FUZZ_SEG_FILES_MAX ? l.n - FUZZ_SEG_FILES_MAX : 0;
	for (size_t i = from; i < l.n; i++) {
		char name[RLOG__SEG_NAME_LEN + 1];
		rlog__seg_name(name, l.seqs[i]);
		unsigned k = f->nseg++;
		f->seq[k] = l.seqs[i];
		if (rlog_sim_disk_read_file(disk, name, true, &f->seg[k],
					    &f->seg_len[k]) != 0) {
			die("read %s", name);
		}
	}
	if (rlog_sim_disk_read_file(disk, RLOG__META_NAME, true, &f->meta,
				    &f->meta_len) != 0) {
		f->meta = NULL;
		f->meta_len = 0;
	}
}

static void files_free(struct files *f)
{
	for (unsigned i = 0; i < f->nseg; i++) {
		free(f->seg[i]);
	}
	free(f->meta);
	memset(f, 0, sizeof(*f));
}

static void emit_files(const struct files *f, const char *name, uint8_t flags,
		       uint8_t fault_op)
{
	struct files empty_seg = *f;
	if (f->nseg == 0) {
		/* An empty log has no segment: give it a zero-byte one, which
		 * recovery treats as a torn creation. */
		empty_seg.nseg = 1;
		empty_seg.seq[0] = 1;
		empty_seg.seg[0] = NULL;
		empty_seg.seg_len[0] = 0;
		f = &empty_seg;
	}
	uint8_t h[FUZZ_SEG_HDR_BYTES] = {0};
	h[0] = (uint8_t)(flags | (f->nseg - 1u));
	if (f->meta != NULL) {
		h[0] |= FUZZ_SEG_META;
	}
	if (f->seq[0] < 1 || f->seq[0] > 256) {
		die("%s: first sequence number %llu not encodable", name,
		    (unsigned long long)f->seq[0]);
	}
	h[1] = (uint8_t)(f->seq[0] - 1u);
	for (unsigned i = 1; i < f->nseg; i++) {
		uint64_t gap = f->seq[i] - f->seq[i - 1];
		if (gap < 1 || gap > 16) {
			die("%s: gap %llu not encodable", name,
			    (unsigned long long)gap);
		}
		h[2] |= (uint8_t)((gap - 1u) << (4 * (i - 1)));
	}
	h[3] = fault_op;
	for (unsigned i = 0; i + 1 < f->nseg; i++) {
		if (f->seg_len[i] > 0xffff) {
			die("%s: segment too long", name);
		}
		h[4 + 2 * i] = (uint8_t)f->seg_len[i];
		h[5 + 2 * i] = (uint8_t)(f->seg_len[i] >> 8);
	}
	h[8] = (uint8_t)f->meta_len;
	h[9] = (uint8_t)(f->meta_len >> 8);
	size_t total = sizeof(h) + f->meta_len;
	for (unsigned i = 0; i < f->nseg; i++) {
		total += f->seg_len[i];
	}
	uint8_t *p = xmalloc(total);
	memcpy(p, h, sizeof(h));
	size_t off = sizeof(h);
	for (unsigned i = 0; i < f->nseg; i++) {
		if (i + 1 == f->nseg && f->meta != NULL) {
			memcpy(p + off, f->meta, f->meta_len);
			off += f->meta_len;
		}
		if (f->seg_len[i] > 0) {
			memcpy(p + off, f->seg[i], f->seg_len[i]);
		}
		off += f->seg_len[i];
	}
	emit("fuzz_segment_load", name, p, total);
	free(p);
}

/* Emit the disk's files as a segment-load input (and a CRC-fixing twin
 * when fix is set). */
static void emit_disk(struct ctx *c, const char *name, uint8_t flags)
{
	struct files f;
	files_load(&f, c->disk);
	emit_files(&f, name, flags, 0);
	files_free(&f);
}

/* Resize the last segment to len, filling new bytes with fill (or with a
 * byte pattern when pattern is set). */
static void last_resize(struct files *f, size_t len, uint8_t fill, bool pattern)
{
	unsigned k = f->nseg - 1;
	uint8_t *p = realloc(f->seg[k], len ? len : 1);
	if (p == NULL) {
		die("out of memory");
	}
	for (size_t i = f->seg_len[k]; i < len; i++) {
		p[i] = pattern ? (uint8_t)(i * 37u + 11u) : fill;
	}
	f->seg[k] = p;
	f->seg_len[k] = len;
}

/* Offsets of the records of a segment (at most max). */
static size_t record_offsets(const uint8_t *p, size_t len, uint64_t seq,
			     size_t *offs, size_t max)
{
	size_t n = 0;
	uint64_t off = RLOG__SEG_HEADER_BYTES;
	uint32_t seed = rlog__seg_seed(seq);
	while (off < len && n < max) {
		struct rlog__rec r;
		uint64_t need;
		if (rlog__rec_check(p + off, len - off, seed, &r, &need) !=
		    RLOG__REC_OK) {
			break;
		}
		offs[n++] = (size_t)off;
		off += r.size_bytes;
	}
	return n;
}

/* ---- fuzz_segment_load and fuzz_record_decode seeds. ---- */

static void emit_records(struct ctx *c, const char *prefix)
{
	struct files f;
	files_load(&f, c->disk);
	unsigned count = 0;
	for (unsigned s = 0; s < f.nseg; s++) {
		size_t offs[64];
		size_t n =
		    record_offsets(f.seg[s], f.seg_len[s], f.seq[s], offs, 64);
		for (size_t i = 0; i < n && count < 4; i++) {
			size_t end =
			    i + 1 < n
				? offs[i + 1]
				: (size_t)rlog__align8(
				      RLOG__REC_HEADER_BYTES +
				      rlog__get32(f.seg[s] + offs[i] + 8));
			size_t len = end - offs[i];
			uint8_t *p = xmalloc(FUZZ_REC_HDR_BYTES + len);
			p[0] = 0;
			rlog__put64(p + 1, f.seq[s]);
			memcpy(p + FUZZ_REC_HDR_BYTES, f.seg[s] + offs[i], len);
			char name[64];
			snprintf(name, sizeof(name), "%s-%u", prefix, count);
			emit("fuzz_record_decode", name, p,
			     FUZZ_REC_HDR_BYTES + len);
			free(p);
			count++;
		}
	}
	files_free(&f);
}

static void seg_valid_shapes(void)
{
	struct ctx c;
	/* Empty: a fresh log writes no segment. */
	c_new(&c, 0, 1);
	emit_disk(&c, "empty", 0);
	c_free(&c);

	/* One entry, synced. */
	c_new(&c, 0, 1);
	c_append(&c, 1, 1, 1, 40);
	c_sync(&c);
	emit_disk(&c, "single", 0);
	emit_disk(&c, "single-fixcrc", FUZZ_SEG_FIX_CRC);
	/* Count selector 3: one segment plus stray file names. */
	emit_disk(&c, "single-strays", 3);
	/* The injected EIO at several operations of the first open. */
	static const uint8_t fault_ops[] = {0, 2, 4, 6, 9, 12};
	struct files sf;
	files_load(&sf, c.disk);
	for (size_t i = 0; i < sizeof(fault_ops); i++) {
		char fname[32];
		snprintf(fname, sizeof(fname), "single-fault-op%u",
			 fault_ops[i] + 1u);
		emit_files(&sf, fname, FUZZ_SEG_FAULT, fault_ops[i]);
	}
	files_free(&sf);
	emit_records(&c, "single");
	c_free(&c);

	/* Many entries, every payload kind, several batches. */
	c_new(&c, 0, 1);
	c_append(&c, 1, 60, 1, 20);
	c_entries(&c, false, 61, 62, 2, RLOG_PAYLOAD_NOOP, 0);
	c_entries(&c, false, 63, 64, 2, RLOG_PAYLOAD_NONE, 0);
	c_entries(&c, false, 65, 70, 3, RLOG_PAYLOAD_CONFIG, 12);
	c_append(&c, 71, 120, 3, 0);
	c_sync(&c);
	c_hs(&c, 3, true, 2, true);
	emit_disk(&c, "many-kinds", 0);
	emit_disk(&c, "many-kinds-fixcrc", FUZZ_SEG_FIX_CRC);
	c_free(&c);

	/* Several segments with 4 KiB segments. */
	c_new(&c, RLOG_SEGMENT_SIZE_MIN_BYTES, 1);
	for (uint64_t i = 1; i <= 60; i += 10) {
		c_append(&c, i, i + 9, 1 + i / 30, 100);
		c_sync(&c);
	}
	emit_disk(&c, "multi-seg", FUZZ_SEG_SMALL);
	emit_disk(&c, "multi-seg-fixcrc", FUZZ_SEG_SMALL | FUZZ_SEG_FIX_CRC);
	struct files mf;
	files_load(&mf, c.disk);
	for (uint8_t op = 3; op < 40; op += 3) {
		char fname[32];
		snprintf(fname, sizeof(fname), "multi-seg-fault-op%u", op + 1u);
		emit_files(&mf, fname, FUZZ_SEG_SMALL | FUZZ_SEG_FAULT, op);
	}
	/* A failed allocation at several points of the open. */
	for (uint8_t n = 0; n < 40; n += 4) {
		char fname[32];
		snprintf(fname, sizeof(fname), "multi-seg-nomem-%u", n + 1u);
		emit_files(&mf, fname,
			   FUZZ_SEG_SMALL | FUZZ_SEG_FAULT | FUZZ_SEG_ALLOC, n);
	}
	files_free(&mf);
	c_free(&c);

	/* After truncate: a TRUNCATE record, then new entries. */
	c_new(&c, 0, 1);
	c_append(&c, 1, 20, 1, 30);
	c_sync(&c);
	check(rlog_truncate(c.log, 11), &c, "truncate");
	c_sync(&c);
	c_append(&c, 11, 15, 2, 30);
	c_sync(&c);
	emit_disk(&c, "truncate", 0);
	emit_disk(&c, "truncate-fixcrc", FUZZ_SEG_FIX_CRC);
	emit_records(&c, "truncate");
	c_free(&c);

	/* After replace: a TRUNCATE record heading a group. */
	c_new(&c, 0, 1);
	c_append(&c, 1, 12, 1, 30);
	c_sync(&c);
	c_entries(&c, true, 8, 14, 2, RLOG_PAYLOAD_COMMAND, 25);
	emit_disk(&c, "replace", 0);
	emit_disk(&c, "replace-fixcrc", FUZZ_SEG_FIX_CRC);
	emit_records(&c, "replace");
	c_free(&c);

	/* After purge: meta holds the boundary, early segments removed. */
	c_new(&c, RLOG_SEGMENT_SIZE_MIN_BYTES, 1);
	for (uint64_t i = 1; i <= 80; i += 20) {
		c_append(&c, i, i + 19, 1, 120);
		c_sync(&c);
	}
	check(rlog_purge(c.log, 30, 1), &c, "purge");
	emit_disk(&c, "purge", FUZZ_SEG_SMALL);
	emit_disk(&c, "purge-fixcrc", FUZZ_SEG_SMALL | FUZZ_SEG_FIX_CRC);
	/* Purge past the end: a snapshot install, every segment dead. */
	check(rlog_purge(c.log, 100, 4), &c, "purge past the end");
	c_append(&c, 101, 103, 4, 10);
	c_sync(&c);
	emit_disk(&c, "purge-snapshot", FUZZ_SEG_SMALL);
	c_free(&c);

	/* After reset: min_seq past the old segments, a new chain. */
	c_new(&c, 0, 1);
	c_append(&c, 1, 10, 1, 30);
	c_sync(&c);
	c_hs(&c, 2, false, 0, false);
	check(rlog_reset(c.log), &c, "reset");
	c_append(&c, 1, 4, 3, 30);
	c_sync(&c);
	emit_disk(&c, "reset", 0);
	emit_disk(&c, "reset-fixcrc", FUZZ_SEG_FIX_CRC);
	c_free(&c);
}

/* Torn and damaged tails, from real crashes and by hand. */
static void seg_tail_shapes(void)
{
	struct ctx c;
	char name[64];
	/* Real crashes of an unsynced batch under the random fate. */
	for (uint64_t seed = 1; seed <= 4; seed++) {
		c_new(&c, 0, seed);
		c_append(&c, 1, 8, 1, 60);
		c_sync(&c);
		c_append(&c, 9, 20, 1, 90);
		c_crash(&c, RLOG_SIM_FATE_RANDOM, seed * 7919u);
		snprintf(name, sizeof(name), "torn-crash-%llu",
			 (unsigned long long)seed);
		emit_disk(&c, name, seed % 2 ? 0 : FUZZ_SEG_FIX_CRC);
		if (seed == 1) {
			/* Faults and failed allocations while recovery
			 * settles the torn tail. */
			struct files tf;
			files_load(&tf, c.disk);
			for (uint8_t op = 8; op < 48; op += 4) {
				snprintf(name, sizeof(name), "torn-fault-op%u",
					 op + 1u);
				emit_files(&tf, name, FUZZ_SEG_FAULT, op);
				snprintf(name, sizeof(name), "torn-nomem-%u",
					 op + 1u);
				emit_files(&tf, name,
					   FUZZ_SEG_FAULT | FUZZ_SEG_ALLOC, op);
			}
			files_free(&tf);
		}
		rlog_sim_disk_free(c.disk);
	}

	/* A synced log whose tail gets cut, zeroed or filled with garbage. */
	c_new(&c, 0, 1);
	c_append(&c, 1, 6, 1, 50);
	c_sync(&c);
	c_append(&c, 7, 9, 1, 50);
	c_sync(&c);
	struct files f;
	files_load(&f, c.disk);
	size_t len = f.seg_len[0];
	size_t offs[16];
	size_t n = record_offsets(f.seg[0], len, f.seq[0], offs, 16);
	struct files g = f;
	g.seg[0] = xmalloc(len);
	static const size_t cuts[] = {3, 20, 41};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		/* Cut inside the last record. */
		memcpy(g.seg[0], f.seg[0], len);
		g.seg_len[0] = offs[n - 1] + cuts[i];
		snprintf(name, sizeof(name), "tail-cut-%zu", cuts[i]);
		emit_files(&g, name, 0, 0);
	}
	/* Zero-filled tail (preallocation), then garbage after valid data. */
	memcpy(g.seg[0], f.seg[0], len);
	g.seg_len[0] = len;
	last_resize(&g, len + 4096, 0, false);
	emit_files(&g, "tail-zero", 0, 0);
	last_resize(&g, len, 0, false);
	last_resize(&g, len + 300, 0, true);
	emit_files(&g, "tail-garbage", 0, 0);
	/* A record in the middle damaged: later records carry a durable
	 * offset past it, so it was acknowledged: corruption. */
	last_resize(&g, len, 0, false);
	memcpy(g.seg[0], f.seg[0], len);
	g.seg[0][offs[2] + 45] ^= 0x10;
	emit_files(&g, "damaged-acked", 0, 0);
	/* The last record damaged (nothing after it vouches for it). */
	memcpy(g.seg[0], f.seg[0], len);
	g.seg[0][offs[n - 1] + 50] ^= 0x01;
	emit_files(&g, "damaged-last", 0, 0);
	/* Header of another version, with a valid checksum. */
	memcpy(g.seg[0], f.seg[0], len);
	rlog__put32(g.seg[0] + 8, 2);
	rlog__put32(g.seg[0] + 60, rlog__crc32c(RLOG__CRC_SEED, g.seg[0], 60));
	emit_files(&g, "version-2", 0, 0);
	/* Header damaged: the only segment, records vouch for a sync. */
	memcpy(g.seg[0], f.seg[0], len);
	g.seg[0][20] ^= 0x40;
	emit_files(&g, "header-damaged", 0, 0);
	/* The sequence number in the header disagrees with the name. */
	memcpy(g.seg[0], f.seg[0], len);
	rlog__put64(g.seg[0] + 16, 9);
	emit_files(&g, "header-wrong-seq", FUZZ_SEG_FIX_CRC, 0);
	free(g.seg[0]);
	files_free(&f);
	c_free(&c);

	/* Two segments: the first damaged inside data the second vouches
	 * for; the second's header torn. */
	c_new(&c, RLOG_SEGMENT_SIZE_MIN_BYTES, 1);
	c_append(&c, 1, 20, 1, 150);
	c_sync(&c);
	c_append(&c, 21, 40, 1, 150);
	c_sync(&c);
	files_load(&f, c.disk);
	if (f.nseg >= 2) {
		f.seg[0][f.seg_len[0] - 30] ^= 0x04;
		emit_files(&f, "sealed-damaged", FUZZ_SEG_SMALL, 0);
		f.seg[0][f.seg_len[0] - 30] ^= 0x04;
		unsigned k = f.nseg - 1;
		f.seg[k][5] ^= 0x20;
		emit_files(&f, "newest-header-torn", FUZZ_SEG_SMALL, 0);
		f.seg[k][5] ^= 0x20;
		/* The newest segment cut short inside its header. */
		size_t keep = f.seg_len[k];
		f.seg_len[k] = 30;
		emit_files(&f, "newest-header-short", FUZZ_SEG_SMALL, 0);
		f.seg_len[k] = keep;
		/* The middle segment missing: a hole in the chain. */
		if (f.nseg == 3) {
			struct files h = f;
			h.nseg = 2;
			h.seq[1] = f.seq[2];
			h.seg[1] = f.seg[2];
			h.seg_len[1] = f.seg_len[2];
			emit_files(&h, "chain-hole", FUZZ_SEG_SMALL, 0);
		}
	}
	files_free(&f);
	c_free(&c);
}

/* ---- fuzz_seal_load seeds. ---- */

/* The input layout of fuzz/fuzz_seal_load.c (byte 0 selector, byte 1 flags
 * of the XOR and BUILD modes, the BUILD header deltas). */
#define SEAL_SEL_MODE_SHIFT 2
#define SEAL_SEL_DROP_OTHER 0x10u
#define SEAL_SEL_CANON 0x20u
#define SEAL_SEL_VERIFY 0x40u
#define SEAL_SEL_FAULT 0x80u
#define SEAL_FAULT_ALLOC 0x80u
#define SEAL_SEGS 3u
enum { SEAL_RAW = 0, SEAL_XOR = 1, SEAL_BUILD = 2, SEAL_NONE = 3 };
#define SEAL_FIX_HDR 0x01u
#define SEAL_FIX_BODY 0x02u
#define SEAL_FIX (SEAL_FIX_HDR | SEAL_FIX_BODY)
#define SEAL_CUT 0x04u
#define SEAL_BUILD_HDR_BYTES 14u

struct seal_file {
	uint8_t *p;
	size_t len;
};

struct seal_base {
	uint64_t seq[SEAL_SEGS];
	uint32_t first_rec_size[SEAL_SEGS]; /* of the record at offset 64 */
	struct seal_file built[SEAL_SEGS];  /* as the log was built */
	struct seal_file canon[SEAL_SEGS];  /* by an open and close */
};

static void seal_read(struct rlog_sim_disk *disk, uint64_t seq,
		      struct seal_file *f)
{
	char name[RLOG__SEAL_NAME_LEN + 1];
	rlog__seal_name(name, seq);
	if (rlog_sim_disk_read_file(disk, name, false, &f->p, &f->len) != 0) {
		die("seal base: no %s", name);
	}
}

static void seal_base_load(struct seal_base *b)
{
	struct ctx c;
	c_new(&c, RLOG_SEGMENT_SIZE_MIN_BYTES, 1);
	const char *what = "";
	check(fuzz_seal_base_build(c.log, &what), &c, what);
	check(rlog_close(c.log), &c, "close");
	c.log = NULL;
	struct seg_list l = {.n = 0};
	rlog_sim_disk_list_files(c.disk, false, list_cb, &l);
	qsort(l.seqs, l.n, sizeof(l.seqs[0]), cmp_u64);
	if (l.n != SEAL_SEGS) {
		die("seal base: %zu segments, not %u", l.n, SEAL_SEGS);
	}
	for (unsigned k = 0; k < SEAL_SEGS; k++) {
		b->seq[k] = l.seqs[k];
		seal_read(c.disk, b->seq[k], &b->built[k]);
		char name[RLOG__SEG_NAME_LEN + 1];
		rlog__seg_name(name, b->seq[k]);
		uint8_t *seg;
		size_t seg_len;
		struct rlog__rec r;
		uint64_t need;
		if (rlog_sim_disk_read_file(c.disk, name, false, &seg,
					    &seg_len) != 0 ||
		    rlog__rec_check(seg + RLOG__SEG_HEADER_BYTES,
				    seg_len - RLOG__SEG_HEADER_BYTES,
				    rlog__seg_seed(b->seq[k]), &r,
				    &need) != RLOG__REC_OK) {
			die("seal base: no record in %s", name);
		}
		b->first_rec_size[k] = (uint32_t)r.size_bytes;
		free(seg);
	}
	/* Without seals, recovery reads every segment and writes the
	 * canonical seals, the close that of the last one. */
	for (unsigned k = 0; k < SEAL_SEGS; k++) {
		char name[RLOG__SEAL_NAME_LEN + 1];
		rlog__seal_name(name, b->seq[k]);
		if (rlog_sim_disk_put_file(c.disk, name, "", 0) != 0 ||
		    c.o.vfs->remove(c.o.vfs, name) != 0) {
			die("seal base: remove %s", name);
		}
	}
	c_open(&c);
	check(rlog_close(c.log), &c, "close");
	c.log = NULL;
	for (unsigned k = 0; k < SEAL_SEGS; k++) {
		seal_read(c.disk, b->seq[k], &b->canon[k]);
	}
	rlog_sim_disk_free(c.disk);
}

static void seal_emit(const char *name, uint8_t sel, uint8_t flags,
		      bool with_flags, const uint8_t *p, size_t len)
{
	uint8_t *buf = xmalloc(2 + len);
	size_t n = 0;
	buf[n++] = sel;
	if (with_flags) {
		buf[n++] = flags;
	}
	if (len > 0) {
		memcpy(buf + n, p, len);
	}
	emit("fuzz_seal_load", name, buf, n + len);
	free(buf);
}

static uint8_t seal_sel(unsigned k, unsigned mode, uint8_t extra)
{
	return (uint8_t)(k | mode << SEAL_SEL_MODE_SHIFT | extra);
}

/* XOR input that changes bytes [off, off + len) of the base by mask. */
static void seal_xor(const char *name, unsigned k, uint8_t extra, uint8_t flags,
		     size_t off, const uint8_t *mask, size_t len)
{
	uint8_t buf[512];
	memset(buf, 0, sizeof(buf));
	if (off + len > sizeof(buf)) {
		die("%s: mask too long", name);
	}
	if (len > 0) {
		memcpy(buf + off, mask, len);
	}
	seal_emit(name, seal_sel(k, SEAL_XOR, extra), flags, true, buf,
		  off + len);
}

/* BUILD input: deltas (end_offset, start, first, count, runs), seq delta,
 * version XOR, then the body. */
static void seal_build(const char *name, unsigned k, uint8_t extra,
		       const int16_t d[5], int8_t seq, uint8_t version,
		       const uint8_t *body, size_t body_len)
{
	uint8_t *buf = xmalloc(SEAL_BUILD_HDR_BYTES - 2 + body_len);
	for (int i = 0; i < 5; i++) {
		buf[2 * i] = (uint8_t)((uint16_t)d[i] & 0xff);
		buf[2 * i + 1] = (uint8_t)((uint16_t)d[i] >> 8);
	}
	buf[10] = (uint8_t)seq;
	buf[11] = version;
	if (body_len > 0) {
		memcpy(buf + SEAL_BUILD_HDR_BYTES - 2, body, body_len);
	}
	seal_emit(name, seal_sel(k, SEAL_BUILD, extra), SEAL_FIX, true, buf,
		  SEAL_BUILD_HDR_BYTES - 2 + body_len);
	free(buf);
}

static void seal_shapes(void)
{
	struct seal_base b;
	seal_base_load(&b);
	char name[64];
	static const uint8_t one = 0x01, eight = 0x08, two = 0x02;
	for (unsigned k = 0; k < SEAL_SEGS; k++) {
		const struct seal_file *built = &b.built[k],
				       *canon = &b.canon[k];
		unsigned seg = k + 1;
		/* Missing seals. */
		snprintf(name, sizeof(name), "none-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_NONE, 0), 0, false, NULL, 0);
		snprintf(name, sizeof(name), "none-all-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_NONE, SEAL_SEL_DROP_OTHER), 0,
			  false, NULL, 0);
		/* Raw files: the engine's seals, then damaged ones. */
		snprintf(name, sizeof(name), "raw-built-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, built->p,
			  built->len);
		snprintf(name, sizeof(name), "raw-canonical-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, canon->p,
			  canon->len);
		snprintf(name, sizeof(name), "raw-built-drop-other-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, SEAL_SEL_DROP_OTHER), 0,
			  false, built->p, built->len);
		snprintf(name, sizeof(name), "raw-empty-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, NULL, 0);
		snprintf(name, sizeof(name), "raw-header-only-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, built->p,
			  RLOG__SEAL_HEADER_BYTES);
		snprintf(name, sizeof(name), "raw-cut-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, built->p,
			  built->len - 8);
		snprintf(name, sizeof(name), "raw-header-cut-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, built->p,
			  RLOG__SEAL_HEADER_BYTES - 4);
		uint8_t *d = xmalloc(canon->len);
		memcpy(d, canon->p, canon->len);
		d[RLOG__SEAL_HEADER_BYTES + 9] ^= 0x10;
		snprintf(name, sizeof(name), "raw-body-bitflip-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, d,
			  canon->len);
		memcpy(d, canon->p, canon->len);
		d[33] ^= 0x01;
		snprintf(name, sizeof(name), "raw-header-bitflip-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, d,
			  canon->len);
		memset(d, 0, canon->len);
		snprintf(name, sizeof(name), "raw-zeros-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false, d,
			  canon->len);
		free(d);
		/* The other segment's seal under this name: valid checksums
		 * under the wrong sequence number. */
		snprintf(name, sizeof(name), "raw-other-segment-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, 0), 0, false,
			  b.built[(k + 1) % SEAL_SEGS].p,
			  b.built[(k + 1) % SEAL_SEGS].len);

		/* XOR: the seal itself, then one field at a time with the
		 * checksums fixed (and once without). */
		for (int c = 0; c < 2; c++) {
			uint8_t extra = c ? SEAL_SEL_CANON : 0;
			const char *tag = c ? "canonical" : "built";
			snprintf(name, sizeof(name), "xor-identity-%s-%u", tag,
				 seg);
			seal_xor(name, k, extra, SEAL_FIX, 0, NULL, 0);
		}
		static const struct {
			const char *what;
			size_t off;
			uint8_t mask;
		} fields[] = {
		    {"magic", 3, 0x20},		{"version", 8, 0x03},
		    {"header-bytes", 12, 0x40}, {"seq", 16, 0x03},
		    {"end-offset", 24, 0x08},	{"end-offset-align", 24, 0x04},
		    {"start", 32, 0x01},	{"start-zero", 32, 0xff},
		    {"first", 40, 0x01},	{"count", 48, 0x01},
		    {"runs", 52, 0x01},		{"run-index", 64, 0x01},
		    {"run-term", 72, 0x01},	{"run-term-high", 79, 0x40},
		    {"entry-offset", 0, 0x08},	{"entry-size", 0, 0x08},
		};
		struct rlog__seal_header h;
		if (rlog__seal_header_check(built->p, built->len, &h) != 0) {
			die("seal base: built seal does not check");
		}
		size_t ents = RLOG__SEAL_HEADER_BYTES +
			      (size_t)h.runs * RLOG__SEAL_RUN_BYTES;
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]);
		     i++) {
			size_t off = fields[i].off;
			if (strcmp(fields[i].what, "entry-offset") == 0) {
				off = ents + 8; /* the second entry */
			} else if (strcmp(fields[i].what, "entry-size") == 0) {
				off = ents + 4 + 3 * 8;
			}
			snprintf(name, sizeof(name), "xor-%s-%u",
				 fields[i].what, seg);
			seal_xor(name, k, 0, SEAL_FIX, off, &fields[i].mask, 1);
		}
		snprintf(name, sizeof(name), "xor-version-nofix-%u", seg);
		seal_xor(name, k, 0, 0, 8, &two, 1);
		snprintf(name, sizeof(name), "xor-body-crc-only-%u", seg);
		seal_xor(name, k, 0, SEAL_FIX_BODY, ents, &one, 1);
		snprintf(name, sizeof(name), "xor-cut-entry-%u", seg);
		{
			uint8_t z[512];
			memset(z, 0, sizeof(z));
			seal_emit(name, seal_sel(k, SEAL_XOR, 0),
				  SEAL_FIX | SEAL_CUT, true, z, built->len - 8);
			snprintf(name, sizeof(name), "xor-extend-%u", seg);
			z[built->len] = 0x40;
			seal_emit(name, seal_sel(k, SEAL_XOR, 0), SEAL_FIX,
				  true, z, built->len + 8);
		}
		snprintf(name, sizeof(name), "xor-drop-other-%u", seg);
		seal_xor(name, k, SEAL_SEL_DROP_OTHER, SEAL_FIX, 40, &eight, 1);

		/* BUILD: the engine's header with deltas, then bodies. */
		static const int16_t zero[5] = {0, 0, 0, 0, 0};
		for (int c = 0; c < 2; c++) {
			const struct seal_file *f = c ? canon : built;
			snprintf(name, sizeof(name), "build-identity-%s-%u",
				 c ? "canonical" : "built", seg);
			seal_build(name, k, c ? SEAL_SEL_CANON : 0, zero, 0, 0,
				   f->p + RLOG__SEAL_HEADER_BYTES,
				   f->len - RLOG__SEAL_HEADER_BYTES);
		}
		const uint8_t *body = built->p + RLOG__SEAL_HEADER_BYTES;
		size_t body_len = built->len - RLOG__SEAL_HEADER_BYTES;
		size_t runs_len = (size_t)h.runs * RLOG__SEAL_RUN_BYTES;
		uint8_t *nb = xmalloc(body_len + 64);
		/* One entry more (a copy of the last), one run more. */
		memcpy(nb, body, body_len);
		memcpy(nb + body_len, body + body_len - 8, 8);
		const int16_t count_up[5] = {0, 0, 0, 1, 0};
		snprintf(name, sizeof(name), "build-count-up-%u", seg);
		seal_build(name, k, 0, count_up, 0, 0, nb, body_len + 8);
		memcpy(nb, body, runs_len);
		rlog__put64(nb + runs_len, h.first + h.count - 1);
		rlog__put64(nb + runs_len + 8, 7);
		memcpy(nb + runs_len + 16, body + runs_len,
		       body_len - runs_len);
		const int16_t runs_up[5] = {0, 0, 0, 0, 1};
		snprintf(name, sizeof(name), "build-run-up-%u", seg);
		seal_build(name, k, 0, runs_up, 0, 0, nb, body_len + 16);
		/* Header fields off by one, each alone. */
		static const struct {
			const char *what;
			int16_t d[5];
			int8_t seq;
			uint8_t version;
		} hdrs[] = {
		    {"end-minus-8", {-8, 0, 0, 0, 0}, 0, 0},
		    {"end-plus-8", {8, 0, 0, 0, 0}, 0, 0},
		    {"start-minus-1", {0, -1, 0, 0, 0}, 0, 0},
		    {"start-plus-1", {0, 1, 0, 0, 0}, 0, 0},
		    {"first-minus-1", {0, 0, -1, 0, 0}, 0, 0},
		    {"first-plus-1", {0, 0, 1, 0, 0}, 0, 0},
		    {"start-first-minus-2", {0, -2, -2, 0, 0}, 0, 0},
		    {"seq-plus-1", {0, 0, 0, 0, 0}, 1, 0},
		    {"version-2", {0, 0, 0, 0, 0}, 0, 3},
		    {"count-runs-zero", {0, 0, 0, -32768, -32768}, 0, 0},
		};
		for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
			snprintf(name, sizeof(name), "build-%s-%u",
				 hdrs[i].what, seg);
			seal_build(name, k, 0, hdrs[i].d, hdrs[i].seq,
				   hdrs[i].version, body, body_len);
		}
		/* Bodies that break one rule each: entries out of order,
		 * misaligned, too small, past the end; a first run not at
		 * first; a term below the one before. Then bodies that keep
		 * every rule but lie: the first entry at another index's
		 * record, a term run starting one entry early (both read back
		 * as ECORRUPT). */
		static const char *const rules[] = {
		    "entries-swapped",	"entry-misaligned", "entry-too-small",
		    "entry-past-end",	"run-not-first",    "run-term-zero",
		    "lie-first-record", "lie-run-early"};
		for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
			memcpy(nb, body, body_len);
			uint8_t *e0 = nb + runs_len, *e1 = e0 + 8;
			switch (i) {
			case 0:
				memcpy(e0, body + runs_len + 8, 8);
				memcpy(e1, body + runs_len, 8);
				break;
			case 1:
				rlog__put32(e1, rlog__get32(e1) + 4);
				break;
			case 2:
				rlog__put32(e1 + 4, 40);
				break;
			case 3:
				rlog__put32(nb + body_len - 8,
					    (uint32_t)h.end_offset);
				break;
			case 4:
				rlog__put64(nb, h.first + 1);
				break;
			case 5:
				rlog__put64(nb + 8, 0);
				break;
			case 6:
				rlog__put32(e0, RLOG__SEG_HEADER_BYTES);
				rlog__put32(e0 + 4, b.first_rec_size[k]);
				break;
			default:
				if (h.runs > 1) {
					rlog__put64(nb + 16,
						    rlog__get64(nb + 16) - 1);
				}
				break;
			}
			snprintf(name, sizeof(name), "build-%s-%u", rules[i],
				 seg);
			seal_build(name, k, 0, zero, 0, 0, nb, body_len);
			if (i == 6) {
				/* verify_on_open reads no seal, not even one
				 * that lies with valid checksums. */
				snprintf(name, sizeof(name),
					 "verify-build-%s-%u", rules[i], seg);
				seal_build(name, k, SEAL_SEL_VERIFY, zero, 0, 0,
					   nb, body_len);
			}
		}
		snprintf(name, sizeof(name), "verify-raw-built-%u", seg);
		seal_emit(name, seal_sel(k, SEAL_RAW, SEAL_SEL_VERIFY), 0,
			  false, built->p, built->len);
		/* The engine's seal with an EIO at VFS operations 1-47 of the
		 * open (every second one), or allocation 1-15 failing. */
		for (unsigned op = 0; op < 47; op += 2) {
			snprintf(name, sizeof(name), "fault-eio-op%u-%u",
				 op + 1, seg);
			seal_emit(name, seal_sel(k, SEAL_RAW, SEAL_SEL_FAULT),
				  (uint8_t)op, true, built->p, built->len);
		}
		for (unsigned a = 0; a < 15; a++) {
			snprintf(name, sizeof(name), "fault-nomem-%u-%u", a + 1,
				 seg);
			seal_emit(name, seal_sel(k, SEAL_RAW, SEAL_SEL_FAULT),
				  (uint8_t)(SEAL_FAULT_ALLOC | a), true,
				  built->p, built->len);
		}
		snprintf(name, sizeof(name), "verify-none-all-%u", seg);
		seal_emit(name,
			  seal_sel(k, SEAL_NONE,
				   SEAL_SEL_VERIFY | SEAL_SEL_DROP_OTHER),
			  0, false, NULL, 0);
		free(nb);
	}
	for (unsigned k = 0; k < SEAL_SEGS; k++) {
		free(b.built[k].p);
		free(b.canon[k].p);
	}
}

/* ---- fuzz_meta_load seeds. ---- */

static void emit_meta_of(struct ctx *c, const char *name)
{
	uint8_t *p;
	size_t len;
	if (rlog_sim_disk_read_file(c->disk, RLOG__META_NAME, true, &p, &len) !=
	    0) {
		die("%s: no meta file", name);
	}
	emit("fuzz_meta_load", name, p, len);
	free(p);
}

static void meta_shapes(void)
{
	struct ctx c;
	c_new(&c, 0, 1);
	c_hs(&c, 1, false, 0, false);
	emit_meta_of(&c, "hs-term");
	c_hs(&c, 5, true, 3, true);
	emit_meta_of(&c, "hs-vote-committed");
	c_append(&c, 1, 10, 5, 8);
	check(rlog_purge(c.log, 6, 5), &c, "purge");
	emit_meta_of(&c, "purge");
	check(rlog_reset(c.log), &c, "reset");
	emit_meta_of(&c, "reset");
	c_free(&c);

	/* Hand-made slots: the generation order of A and B, one slot alone,
	 * damage, another version, unknown flags, generation 0. */
	struct rlog__meta m = {.generation = 7,
			       .flags =
				   RLOG__META_HS_SAVED | RLOG__META_HS_VOTE,
			       .current_term = 9,
			       .voted_for_id = 4,
			       .voted_for_term = 9,
			       .purge_index = 12,
			       .purge_term = 8,
			       .min_seq = 3};
	uint8_t file[RLOG__META_SLOT_B_OFFSET + RLOG__META_SLOT_BYTES];
	uint8_t slot[RLOG__META_SLOT_BYTES];
	memset(file, 0, sizeof(file));
	rlog__meta_encode(&m, slot);
	memcpy(file, slot, sizeof(slot));
	emit("fuzz_meta_load", "slot-a-only", file, RLOG__META_SLOT_BYTES);
	m.generation = 8;
	m.current_term = 10;
	rlog__meta_encode(&m, slot);
	memcpy(file + RLOG__META_SLOT_B_OFFSET, slot, sizeof(slot));
	emit("fuzz_meta_load", "b-newer", file, sizeof(file));
	file[RLOG__META_SLOT_B_OFFSET + 30] ^= 0x08;
	emit("fuzz_meta_load", "b-damaged", file, sizeof(file));
	file[30] ^= 0x08;
	emit("fuzz_meta_load", "both-damaged", file, sizeof(file));
	memset(file, 0, RLOG__META_SLOT_BYTES);
	file[RLOG__META_SLOT_B_OFFSET + 30] ^= 0x08;
	emit("fuzz_meta_load", "b-only", file, sizeof(file));
	emit("fuzz_meta_load", "b-cut", file, RLOG__META_SLOT_B_OFFSET + 60);
	memset(file, 0, sizeof(file));
	emit("fuzz_meta_load", "zeros", file, sizeof(file));
	emit("fuzz_meta_load", "empty", file, 0);
	/* A first save torn: slot A half written, slot B never. */
	rlog__meta_encode(&m, slot);
	memcpy(file, slot, 64);
	emit("fuzz_meta_load", "first-save-torn", file, 64);
	/* Version 2 with a valid checksum; unknown flags; generation 0. */
	rlog__meta_encode(&m, slot);
	rlog__put32(slot + 8, 2);
	rlog__put32(slot + 124, rlog__crc32c(RLOG__CRC_SEED, slot, 124));
	emit("fuzz_meta_load", "version-2", slot, sizeof(slot));
	m.flags = 0x80;
	rlog__meta_encode(&m, slot);
	emit("fuzz_meta_load", "unknown-flags", slot, sizeof(slot));
	m.flags = RLOG__META_HS_SAVED;
	m.generation = 0;
	rlog__meta_encode(&m, slot);
	emit("fuzz_meta_load", "generation-0", slot, sizeof(slot));
	/* Reserved bytes set, then a wrong magic (checksums valid). */
	m.generation = 2;
	rlog__meta_encode(&m, slot);
	slot[100] = 1;
	rlog__put32(slot + 124, rlog__crc32c(RLOG__CRC_SEED, slot, 124));
	emit("fuzz_meta_load", "reserved-set", slot, sizeof(slot));
	rlog__meta_encode(&m, slot);
	slot[0] = 'X';
	rlog__put32(slot + 124, rlog__crc32c(RLOG__CRC_SEED, slot, 124));
	emit("fuzz_meta_load", "bad-magic", slot, sizeof(slot));
	/* Slot A valid, slot B zero and then cut short after a few bytes. */
	rlog__meta_encode(&m, slot);
	memset(file, 0, sizeof(file));
	memcpy(file, slot, sizeof(slot));
	file[RLOG__META_SLOT_B_OFFSET + 2] = 0x55;
	emit("fuzz_meta_load", "b-garbage-short", file,
	     RLOG__META_SLOT_B_OFFSET + 16);
}

/* ---- fuzz_record_decode seeds beyond the ones cut from segments. ---- */

static void record_shapes(void)
{
	/* The test vectors of docs/FORMAT.md as raw bodies. */
	static const uint8_t v1[] = {0x08, 0x01, 0x10, 0x01,
				     0x1a, 0x02, 0x0a, 0x00};
	static const uint8_t v2[] = {0x08, 0xac, 0x02, 0x10, 0x02, 0x1a,
				     0x05, 0x12, 0x03, 0x61, 0x62, 0x63};
	static const uint8_t v3[] = {0x08, 0x05, 0x10, 0x03,
				     0x1a, 0x02, 0x12, 0x00};
	/* An unknown field, a config payload, a payload with no case set,
	 * and a non-canonical varint. */
	static const uint8_t v4[] = {0x08, 0x01, 0x10, 0x01, 0x20, 0x07};
	static const uint8_t v5[] = {0x08, 0x02, 0x10, 0x01, 0x1a,
				     0x04, 0x1a, 0x02, 0x08, 0x01};
	static const uint8_t v6[] = {0x08, 0x03, 0x10, 0x01, 0x1a, 0x00};
	static const uint8_t v7[] = {0x08, 0x81, 0x00, 0x10, 0x01};
	static const uint8_t v8[] = {0x08, 0x01, 0x10, 0x01, 0x1a,
				     0x04, 0x0a, 0x02, 0x08, 0x01};
	const struct {
		const char *name;
		const uint8_t *p;
		size_t len;
	} bodies[] = {
	    {"raw-noop", v1, sizeof(v1)},
	    {"raw-command", v2, sizeof(v2)},
	    {"raw-empty-command", v3, sizeof(v3)},
	    {"raw-unknown-field", v4, sizeof(v4)},
	    {"raw-config", v5, sizeof(v5)},
	    {"raw-no-case", v6, sizeof(v6)},
	    {"raw-long-varint", v7, sizeof(v7)},
	    {"raw-noop-unknown", v8, sizeof(v8)},
	};
	uint8_t buf[64];
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		buf[0] = FUZZ_REC_RAW_BODY;
		rlog__put64(buf + 1, 1);
		memcpy(buf + FUZZ_REC_HDR_BYTES, bodies[i].p, bodies[i].len);
		emit("fuzz_record_decode", bodies[i].name, buf,
		     FUZZ_REC_HDR_BYTES + bodies[i].len);
	}
	/* Framed records with the checksum left for the harness to fix:
	 * the body's identity disagreeing with the header, an unknown type,
	 * a TRUNCATE with a group, and a cut record. */
	uint8_t rec[FUZZ_REC_HDR_BYTES + 64];
	struct rlog_entry e = {
	    .index = 5, .term = 2, .kind = RLOG_PAYLOAD_NOOP};
	memset(rec, 0, sizeof(rec));
	rec[0] = FUZZ_REC_FIX_CRC;
	rlog__put64(rec + 1, 3);
	size_t n = rlog__rec_put(rec + FUZZ_REC_HDR_BYTES, 0, RLOG__REC_ENTRY,
				 0, 6, 2, 64, &e);
	emit("fuzz_record_decode", "fix-identity-mismatch", rec,
	     FUZZ_REC_HDR_BYTES + n);
	rec[FUZZ_REC_HDR_BYTES + 4] = 7;
	emit("fuzz_record_decode", "fix-unknown-type", rec,
	     FUZZ_REC_HDR_BYTES + n);
	n = rlog__rec_put(rec + FUZZ_REC_HDR_BYTES, 0, RLOG__REC_TRUNCATE, 3, 4,
			  0, 64, NULL);
	emit("fuzz_record_decode", "fix-truncate-group", rec,
	     FUZZ_REC_HDR_BYTES + n);
	n = rlog__rec_put(rec + FUZZ_REC_HDR_BYTES, rlog__seg_seed(3),
			  RLOG__REC_ENTRY, 0, 5, 2, 0, &e);
	rec[0] = 0;
	emit("fuzz_record_decode", "cut", rec, FUZZ_REC_HDR_BYTES + 30);
	emit("fuzz_record_decode", "cut-body", rec, FUZZ_REC_HDR_BYTES + 44);
	memset(rec + FUZZ_REC_HDR_BYTES, 0, 40);
	emit("fuzz_record_decode", "zero", rec, FUZZ_REC_HDR_BYTES + 40);
}

/* ---- fuzz_scenario_parse seeds. ---- */

static void scenario_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		die("opendir %s: %s", dir, strerror(errno));
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".scn") != 0) {
			continue;
		}
		char path[4096 + 256];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		if (f == NULL) {
			die("%s: %s", path, strerror(errno));
		}
		static uint8_t buf[INPUT_BYTES_MAX];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		char name[300];
		snprintf(name, sizeof(name), "scn-%s", de->d_name);
		emit("fuzz_scenario_parse", name, buf, n);
	}
	closedir(d);
}

/* Short scripts, each valid or failing in its own way, so the corpus
 * reaches every message of the parser. */
static const char *const snippets[] = {
    "open\nappend 1..3 term=1 size=2k kind=config\nsync\ncrash\nreopen\n",
    "option seed=9\noption segment_size=4K\noption sector_size=4096\n"
    "option disk_size=1m\noption entry_size_max=64k\n"
    "option device=ordered_writes,atomic_sectors\noption "
    "device=safe_append\n"
    "option fault_rate_fsync_eio=5\nopen\n",
    "open\nexpect error EINVAL\nappend 5 term=1\nexpect corrupt\nreopen\n",
    "open\nhardstate term=3 vote=2 vote_term=3 committed=1\n"
    "expect hardstate term=3 vote=2 vote_term=3 committed=1\n"
    "expect hardstate none\n",
    "open\nfault fsync_eio file=last\nfault dirsync_eio\n"
    "fault write_eio file=meta after=0\nfault lose_dirop file=any\n"
    "bitflip last 64 bit=3\nbitflip any any\nbitflip "
    "0000000000000001.seg 70\n",
    "open\r\nappend 1 term=1 kind=noop # comment\r\nsync#x\n"
    "expect entry 1 term=1\nexpect missing 2\nexpect first_index 1\n"
    "expect last_index 1\nexpect purged 0 term=0\ncheck\nclose\n",
    ("open\npurge 3 term=1\nreset\ntruncate 1\nreplace 1..2 term=2 "
     "kind=none\n"),
    "appendx 1\n",
    "open\nappend\n",
    "open\nappend 3..1 term=1\n",
    "open\nappend 1.. term=1\n",
    "open\nappend ..3 term=1\n",
    "open\nappend 1 term=x\n",
    "open\nappend 1 term=99999999999999999999\n",
    "open\nappend 1 term=1 term=2\n",
    "open\nappend 1 term=1 bogus=2\n",
    "open\nappend 1 size=3\n",
    "open\nappend 1 term=1 kind=noop size=4\n",
    "open\nappend 1 term=1 kind=other\n",
    "open\nappend 1..65537 term=1 size=64m\n",
    "open\nappend 1 term=1 size=65m\n",
    "open\nappend 1 term=1 size=12q\n",
    "open\nappend 1 term=1 extra\n",
    "open\nappend 1 term=\n",
    "open\nappend 1 =3\n",
    "open\nopen now\n",
    "open\nhardstate vote=1\n",
    "open\nhardstate term=1 vote=1\n",
    "open\nhardstate term=1 vote_term=1\n",
    "open\nhardstate term=1 committed=1\n",
    "open\nhardstate term=1 vote=1 vote_term=1 committed=2\n",
    "open\nhardstate term=1 vote=4294967296 vote_term=1\n",
    "open\nexpect hardstate none extra\n",
    "open\nfault bogus\n",
    "open\nfault dirsync_eio file=last\n",
    "open\nfault fsync_eio file=a/b\n",
    "open\nfault fsync_eio file=..\n",
    "open\nbitflip\n",
    "open\nbitflip last\n",
    "open\nbitflip last 3 bit=8\n",
    "option seed=1\noption seed=2\n",
    "open\noption seed=1\n",
    "option\n",
    "option seed\n",
    "option seed=\n",
    "option bogus=1\n",
    "option sector_size=1000\n",
    "option device=\n",
    "option device=random,ordered_writes\n",
    "option device=weird\n",
    "option device=random,,atomic_sectors\n",
    "option fault_rate_bogus=1\n",
    "option fault_rate_enospc=1000001\n",
    "option entry_size_max=4g\n",
    "expect\n",
    "expect nothing\n",
    "expect error\n",
    "expect error EWHAT\nopen\n",
    "expect error EIO\n",
    "expect corrupt\nappend 1 term=1\n",
    "expect error EIO\nexpect error EIO\nopen\n",
    "expect error EIO\ncheck\n",
    "open\nappend 1 term=1\tsize=1\x01\n",
    "open\nsync\xff\n",
    "OPEN\n",
    "open\npurge 1\n",
    "open\npurge term=1\n",
    "open\ntruncate\n",
    "open\ntruncate -1\n",
    "open\nexpect last_index 0x10\n",
    "",
    "# only a comment",
    "\n\n\n",
    "open",
};

static void scenario_snippets(void)
{
	char name[32];
	for (size_t i = 0; i < sizeof(snippets) / sizeof(snippets[0]); i++) {
		snprintf(name, sizeof(name), "snippet-%02zu", i);
		emit("fuzz_scenario_parse", name, snippets[i],
		     strlen(snippets[i]));
	}
	/* A line over the 4096-byte limit. */
	static char longline[5000];
	memset(longline, 'a', sizeof(longline));
	emit("fuzz_scenario_parse", "long-line", longline, sizeof(longline));
}

/* ---- fuzz_crash_schedule seeds. ---- */

struct cs {
	uint8_t b[256];
	size_t n;
};

static void cs_begin(struct cs *s, uint8_t device, uint16_t sel, uint8_t fate,
		     uint8_t seed)
{
	s->b[0] = device;
	s->b[1] = (uint8_t)sel;
	s->b[2] = (uint8_t)(sel >> 8);
	s->b[3] = fate;
	s->b[4] = seed;
	s->n = FUZZ_CS_HDR_BYTES;
}

static void cs_op(struct cs *s, enum fuzz_cs_op op, int nargs, uint8_t a,
		  uint8_t b, uint8_t c)
{
	s->b[s->n++] = (uint8_t)op;
	const uint8_t args[3] = {a, b, c};
	for (int i = 0; i < nargs; i++) {
		s->b[s->n++] = args[i];
	}
}

#define OP0(s, op) cs_op(s, op, 0, 0, 0, 0)
/* append: a = count-1 | size index << 3; b = kind | term step << 3 */
#define APPEND(s, a, b) cs_op(s, FUZZ_CS_APPEND, 2, a, b, 0)

static void crash_schedule_shapes(void)
{
	struct cs s;
	char name[64];
	/* Appends and syncs, crash points spread over the run. */
	for (unsigned k = 0; k < 4; k++) {
		cs_begin(&s, 0x00, (uint16_t)(k * 7u + 3u), (uint8_t)k,
			 (uint8_t)k);
		for (int i = 0; i < 6; i++) {
			APPEND(&s, (uint8_t)(3 | (i % 4) << 3), 0);
			if (i % 2) {
				OP0(&s, FUZZ_CS_SYNC);
			}
		}
		snprintf(name, sizeof(name), "append-sync-%u", k);
		emit("fuzz_crash_schedule", name, s.b, s.n);
	}
	/* Truncate and re-append (ordered writes). */
	cs_begin(&s, 0x01, 20, 2, 5);
	APPEND(&s, 7 | 2 << 3, 0);
	OP0(&s, FUZZ_CS_SYNC);
	cs_op(&s, FUZZ_CS_TRUNCATE, 1, 4, 0, 0);
	APPEND(&s, 3 | 1 << 3, 1 << 3);
	OP0(&s, FUZZ_CS_SYNC);
	cs_op(&s, FUZZ_CS_TRUNCATE, 1, 2, 0, 0);
	OP0(&s, FUZZ_CS_REOPEN);
	APPEND(&s, 2, 0);
	emit("fuzz_crash_schedule", "truncate-reappend", s.b, s.n);
	/* Replace in the middle and at the end; keep_unsynced device. */
	cs_begin(&s, 0x03 | 0x04, 33, 1, 6);
	APPEND(&s, 7 | 3 << 3, 0);
	cs_op(&s, FUZZ_CS_REPLACE, 3, 5, 2 | 4 << 3, 1 << 3);
	cs_op(&s, FUZZ_CS_REPLACE, 3, 255, 1, 5);
	OP0(&s, FUZZ_CS_CHECK);
	APPEND(&s, 1, 4);
	OP0(&s, FUZZ_CS_SYNC);
	emit("fuzz_crash_schedule", "replace", s.b, s.n);
	/* Purge inside the log, then a snapshot purge past its end, with
	 * small segments so whole files go. */
	cs_begin(&s, 0x20, 51, 2, 7);
	for (int i = 0; i < 4; i++) {
		APPEND(&s, 7 | 5 << 3, 0);
		OP0(&s, FUZZ_CS_SYNC);
	}
	cs_op(&s, FUZZ_CS_PURGE, 1, 12, 0, 0);
	APPEND(&s, 3 | 4 << 3, 1 << 3);
	cs_op(&s, FUZZ_CS_PURGE, 1, 0x83, 0, 0);
	APPEND(&s, 1, 0);
	OP0(&s, FUZZ_CS_SYNC);
	emit("fuzz_crash_schedule", "purge", s.b, s.n);
	/* Reset between hard-state saves (nested crash in recovery). */
	cs_begin(&s, 0x40, 17, 0, 8);
	APPEND(&s, 4, 0);
	OP0(&s, FUZZ_CS_SYNC);
	cs_op(&s, FUZZ_CS_HARDSTATE, 1, 0x23, 0, 0);
	OP0(&s, FUZZ_CS_RESET);
	APPEND(&s, 2 | 2 << 3, 1 << 3);
	cs_op(&s, FUZZ_CS_HARDSTATE, 1, 0x07, 0, 0);
	OP0(&s, FUZZ_CS_SYNC);
	emit("fuzz_crash_schedule", "reset-hardstate", s.b, s.n);
	/* Reopen with unsynced appends, then sync; 4096-byte sectors,
	 * atomic sectors and safe append. */
	cs_begin(&s, 0x1c, 9, 3, 9);
	APPEND(&s, 5 | 6 << 3, 0);
	OP0(&s, FUZZ_CS_REOPEN);
	OP0(&s, FUZZ_CS_SYNC);
	APPEND(&s, 2 | 7 << 3, 2);
	APPEND(&s, 1, 6);
	OP0(&s, FUZZ_CS_REOPEN);
	OP0(&s, FUZZ_CS_CHECK);
	emit("fuzz_crash_schedule", "reopen-unsynced", s.b, s.n);
	/* Rotation: large payloads in 4 KiB segments. */
	cs_begin(&s, 0x22, 40, 1, 10);
	for (int i = 0; i < 5; i++) {
		APPEND(&s, (uint8_t)(1 | (5 + i % 3) << 3), 0);
		OP0(&s, FUZZ_CS_SYNC);
	}
	APPEND(&s, 0 | 7 << 3, 0);
	emit("fuzz_crash_schedule", "rotation", s.b, s.n);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: make_corpus OUT_DIR SCENARIOS_DIR\n");
		return 2;
	}
	out_root = argv[1];
	for (size_t i = 0; i < sizeof(harnesses) / sizeof(harnesses[0]); i++) {
		prepare_dir(harnesses[i]);
	}
	seal_shapes();
	seg_valid_shapes();
	seg_tail_shapes();
	meta_shapes();
	record_shapes();
	scenario_files(argv[2]);
	scenario_snippets();
	crash_schedule_shapes();
	printf("make_corpus: wrote %lu files under %s\n", written, out_root);
	return 0;
}
