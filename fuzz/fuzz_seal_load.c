/*
 * fuzz_seal_load.c: untrusted seal files (engine/src/seal.c) through
 * recovery.
 *
 * The engine itself builds one log on a simulated disk, once per process:
 * 4 KiB segments, three of them with terms 1-7, a purge while the first
 * segment was still the last (so its seal has first > start), a truncate
 * back across the first segment boundary and a replace inside the second
 * segment (so its seal starts below its segment and the segment holds
 * superseded records), a truncate from the last segment back into the
 * second, and a clean close, which seals the last segment too (a seal
 * recovery uses while the close mark after it lasts). The reference is
 * what an open without any seal file reads (every segment in full); that
 * open and its close write the canonical seals, and the seals written as
 * the log was built are kept as well: both must open to the reference.
 * Every input then replaces the seal of one of the three segments on a
 * fresh copy of that disk.
 *
 * Input:
 *   0     selector: bits 0-1 which segment's seal (modulo 3, oldest
 *         first), bits 2-3 the mode (below), bit 4 remove the other
 *         segments' seals, bit 5 modes XOR and BUILD start from the
 *         canonical seal instead of the one written as the log was built,
 *         bit 6 open with verify_on_open, bit 7 inject a fault into the
 *         first open: then byte 1 picks it (bit 7 a failed allocation, else
 *         an EIO; bits 0-5 the number, from 1, of the allocation or VFS
 *         operation that fails; an open makes about 45 and 15) and the
 *         mode's bytes follow from byte 2
 *   RAW   1..: the whole seal file
 *   XOR   1: flags; 2..: XORed into the base seal from offset 0, bytes
 *         past its end appended; with SEAL_CUT the file ends where the
 *         input does
 *   BUILD 1: flags; 2-11: five little-endian int16 deltas added to the
 *         base seal's end_offset, start, first, count and runs; 12: an
 *         int8 delta of seq; 13: XORed into the version; 14..: the body.
 *         The header checksum holds before the version is changed.
 *   NONE  no seal file
 * Flags: SEAL_FIX_BODY recomputes the body checksum into the header, then
 * SEAL_FIX_HDR the header checksum, so mutations reach the checks behind
 * them. Files are cut at 4 KiB.
 *
 * Properties (a violation aborts with a message):
 *   - rlog_open returns 0 or a typed RLOG_E* code (no crash, assert or
 *     hang), and a second open after a close returns the same code;
 *   - a seal whose checksums do not hold, a missing one, one recovery
 *     rejects (it rewrites it) and the engine's own seals all give exactly
 *     the reference: open returns 0 with the same first, last, purge
 *     boundary, hard state and every entry byte for byte and term for term
 *     (rlog_term too); after the close every rejected or missing seal
 *     has been rewritten as the canonical one, and a second open, which
 *     trusts those, gives the reference again;
 *   - with verify_on_open, whatever the seals hold, both opens give the
 *     reference and leave every seal file as it was;
 *   - with a fault injected, the open gives 0 or a typed code, and 0 only
 *     with the state the seal allows (below); a second open without the
 *     fault then does too, and over a seal that cannot lie it gives 0 and
 *     exactly the reference;
 *   - a seal with valid checksums that recovery keeps (its content may
 *     lie; the last segment's seal is only rewritten by the close, so every
 *     one there with valid checksums counts) gives 0 or a typed code; on 0,
 *     first and the purge boundary are the reference's, last stays below
 *     what the segment files can hold, every index of the reference and of
 *     the opened log reads (rlog_get) as exactly the reference entry or
 *     RLOG_ECORRUPT (never other bytes, another term, ENOTFOUND, or an
 *     entry past the reference), rlog_term agrees with every entry read,
 *     rlog_scan stops at the first ECORRUPT or returns the same entries,
 *     and a second open reads exactly the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "memvfs.h"
#include "rlog/rlog.h"

#define NAME "fuzz_seal_load"

/*
 * A seal with valid checksums is trusted for which record is live at each
 * index (docs/FORMAT.md, Seal file): random damage cannot pass both of its
 * checksums, but a crafted one can point an index at a superseded record
 * of that index (one a later truncate or replace removed), which then
 * reads back cleanly with its old term and payload; a crafted segment
 * file with valid checksums can define any log just as well. So a read
 * through a lying seal may also return a genuine record of the segment
 * files at that index (and rlog_term its term). Building with
 * -DFUZZ_SEAL_TOLERATE_SUPERSEDED=0 makes that a failure too, to see what
 * a campaign finds of that class (found by hand: a seal listing a
 * segment's records from before a truncate; one pointing at records a
 * replace superseded; a last segment's seal that undoes a truncate).
 */
#ifndef FUZZ_SEAL_TOLERATE_SUPERSEDED
#define FUZZ_SEAL_TOLERATE_SUPERSEDED 1
#endif

/* Input selector (byte 0). */
#define SEAL_SEL_WHICH 0x03u
#define SEAL_SEL_MODE_SHIFT 2
#define SEAL_SEL_DROP_OTHER 0x10u
#define SEAL_SEL_CANON 0x20u
#define SEAL_SEL_VERIFY 0x40u
#define SEAL_SEL_FAULT 0x80u
#define SEAL_FAULT_ALLOC 0x80u /* in the fault byte */
#define SEAL_FAULT_NUMBER 0x3fu
enum seal_mode { SEAL_RAW = 0, SEAL_XOR = 1, SEAL_BUILD = 2, SEAL_NONE = 3 };
/* Flags (byte 1 of XOR and BUILD). */
#define SEAL_FIX_HDR 0x01u
#define SEAL_FIX_BODY 0x02u
#define SEAL_CUT 0x04u
#define SEAL_BUILD_HDR_BYTES 14u

#define SEGS 3u	       /* segments in the base log, each sealed */
#define FILES_MAX 16u  /* files in the base directory */
#define REF_MAX 256u   /* entries the reference may hold */
#define SEAL_MAX 4096u /* bytes of a built seal file (longer are cut) */

struct file {
	char name[RLOG_VFS_NAME_MAX + 1];
	uint8_t *p;
	size_t len;
};

/* What the base log reads as, and the files it is made of. */
struct base {
	bool ready;
	struct file files[FILES_MAX];
	size_t nfiles;
	uint64_t seq[SEGS];
	char seal_name[SEGS][RLOG__SEAL_NAME_LEN + 1];
	struct file built[SEGS]; /* seals written as the log was built */
	struct file canon[SEGS]; /* seals an open and close without any write */
	uint64_t first, last, purge_index, purge_term;
	int hs_rc;
	struct rlog_hard_state hs;
	size_t n;
	uint64_t terms[REF_MAX];
	uint64_t hashes[REF_MAX];
	uint64_t max_entries; /* what the segment files could hold */
	/* Index and term of every valid ENTRY record in the segments. */
	size_t nrecs;
	uint64_t rec_index[REF_MAX * 2];
	uint64_t rec_term[REF_MAX * 2];
};

static struct base B;

static uint64_t entry_hash(const struct rlog_entry *e)
{
	uint64_t h = FUZZ_HASH_INIT;
	h = fuzz_hash(h, &e->index, sizeof(e->index));
	h = fuzz_hash(h, &e->term, sizeof(e->term));
	uint32_t kind = (uint32_t)e->kind;
	h = fuzz_hash(h, &kind, sizeof(kind));
	uint64_t len = e->payload_len;
	h = fuzz_hash(h, &len, sizeof(len));
	if (e->payload_len > 0) {
		h = fuzz_hash(h, e->payload, e->payload_len);
	}
	return h;
}

static void check(int rv, struct rlog *log, const char *what)
{
	if (rv != 0) {
		fuzz_fail(NAME, "base log: %s: %s: %s", what, rlog_strerror(rv),
			  log ? rlog_errmsg(log) : rlog_open_errmsg());
	}
}

/* ---- An allocator that keeps large blocks. ----
 *
 * Every open grows a 256 KiB buffer for the seals. Under ASan a fresh block
 * that size is an mmap, page faults and an munmap with a TLB flush, most of
 * an execution; this allocator keeps up to BIG_SLOTS freed large blocks
 * and hands them out again, filled with 0xbe as ASan fills new memory, so
 * no byte of one input reaches the next. */
#define BIG_MIN_BYTES ((size_t)64 << 10)
#define BIG_SLOTS 8u
#define HDR_BYTES 16u /* the block's size, keeping 16-byte alignment */

static uint8_t *big_cache[BIG_SLOTS];
static size_t big_size[BIG_SLOTS];
/* While fail_at is set, allocation number fail_at (from 1) fails. */
static uint64_t alloc_calls, alloc_fail_at;
static bool alloc_failed;

static bool blk_fails(void)
{
	if (alloc_fail_at == 0 || ++alloc_calls != alloc_fail_at) {
		return false;
	}
	alloc_failed = true;
	return true;
}

static size_t blk_size(const void *p)
{
	size_t size;
	memcpy(&size, (const uint8_t *)p - HDR_BYTES, sizeof(size));
	return size;
}

static void *blk_malloc(void *ctx, size_t size)
{
	(void)ctx;
	if (blk_fails()) {
		return NULL;
	}
	if (size >= BIG_MIN_BYTES) {
		for (unsigned i = 0; i < BIG_SLOTS; i++) {
			if (big_cache[i] != NULL && big_size[i] == size) {
				uint8_t *p = big_cache[i];
				big_cache[i] = NULL;
				memset(p + HDR_BYTES, 0xbe, size);
				return p + HDR_BYTES;
			}
		}
	}
	if (size > SIZE_MAX - HDR_BYTES) {
		return NULL;
	}
	uint8_t *p = malloc(HDR_BYTES + size);
	if (p == NULL) {
		return NULL;
	}
	memcpy(p, &size, sizeof(size));
	return p + HDR_BYTES;
}

static void blk_free(void *ctx, void *ptr)
{
	(void)ctx;
	if (ptr == NULL) {
		return;
	}
	uint8_t *p = (uint8_t *)ptr - HDR_BYTES;
	size_t size = blk_size(ptr);
	if (size >= BIG_MIN_BYTES) {
		for (unsigned i = 0; i < BIG_SLOTS; i++) {
			if (big_cache[i] == NULL) {
				big_cache[i] = p;
				big_size[i] = size;
				return;
			}
		}
	}
	free(p);
}

static void *blk_realloc(void *ctx, void *ptr, size_t size)
{
	if (ptr == NULL) {
		return blk_malloc(ctx, size);
	}
	size_t old = blk_size(ptr);
	if (old < BIG_MIN_BYTES && size < BIG_MIN_BYTES) {
		if (blk_fails()) {
			return NULL;
		}
		uint8_t *p =
		    realloc((uint8_t *)ptr - HDR_BYTES, HDR_BYTES + size);
		if (p == NULL) {
			return NULL;
		}
		memcpy(p, &size, sizeof(size));
		return p + HDR_BYTES;
	}
	uint8_t *n = blk_malloc(ctx, size);
	if (n == NULL) {
		return NULL;
	}
	memcpy(n, ptr, old < size ? old : size);
	blk_free(ctx, ptr);
	return n;
}

static const struct rlog_allocator blk_alloc = {NULL, blk_malloc, blk_realloc,
						blk_free};

/* ---- The base log. ---- */

static struct rlog *open_on(struct rlog_sim_disk *disk, bool verify, int *rv)
{
	struct rlog_options o;
	rlog_options_init(&o);
	o.vfs = rlog_sim_disk_vfs(disk);
	o.verify_on_open = verify;
	o.allocator = &blk_alloc;
	o.segment_size_bytes = RLOG_SEGMENT_SIZE_MIN_BYTES;
	struct rlog *log = NULL;
	*rv = rlog_open(&o, &log);
	return *rv == 0 ? log : NULL;
}

/* The workload (fuzz.h, shared with make_corpus.c). */
static void build_log(struct rlog *log)
{
	const char *what = "";
	check(fuzz_seal_base_build(log, &what), log, what);
}

static int collect_cb(void *arg, const char *name, uint64_t size)
{
	(void)size;
	struct base *b = arg;
	if (b->nfiles == FILES_MAX) {
		fuzz_fail(NAME, "base log: too many files");
	}
	snprintf(b->files[b->nfiles++].name, RLOG_VFS_NAME_MAX + 1, "%s", name);
	return 0;
}

static void read_file(struct rlog_sim_disk *disk, const char *name,
		      struct file *f)
{
	if (f->name != name) {
		snprintf(f->name, sizeof(f->name), "%s", name);
	}
	if (rlog_sim_disk_read_file(disk, name, false, &f->p, &f->len) != 0) {
		fuzz_fail(NAME, "base log: read %s", name);
	}
}

static void list_records(const struct file *f, uint64_t seq)
{
	uint64_t off = RLOG__SEG_HEADER_BYTES;
	while (off < f->len) {
		struct rlog__rec r;
		uint64_t need;
		if (rlog__rec_check(f->p + off, f->len - off,
				    rlog__seg_seed(seq), &r,
				    &need) != RLOG__REC_OK) {
			return;
		}
		if (r.type == RLOG__REC_ENTRY) {
			if (B.nrecs == REF_MAX * 2) {
				fuzz_fail(NAME, "base log: too many records");
			}
			B.rec_index[B.nrecs] = r.index;
			B.rec_term[B.nrecs++] = r.term;
		}
		off += r.size_bytes;
	}
}

/* Is (index, term) a record of the segment files? */
static bool on_disk(uint64_t index, uint64_t term)
{
	for (size_t i = 0; i < B.nrecs; i++) {
		if (B.rec_index[i] == index && B.rec_term[i] == term) {
			return true;
		}
	}
	return false;
}

/* A fresh disk holding the base files, with the seals replaced: seals[i]
 * NULL removes seal i, otherwise it is written as given. */
static struct rlog_sim_disk *make_disk(const struct file *const *seals)
{
	struct rlog_sim_disk *disk = NULL;
	if (rlog_sim_disk_new(NULL, 1, &disk) != 0) {
		fuzz_fail(NAME, "disk_new failed");
	}
	for (size_t i = 0; i < B.nfiles; i++) {
		const struct file *f = &B.files[i];
		bool skip = false;
		for (unsigned k = 0; k < SEGS; k++) {
			skip = skip || strcmp(f->name, B.seal_name[k]) == 0;
		}
		if (!skip &&
		    rlog_sim_disk_put_file(disk, f->name, f->p, f->len) != 0) {
			fuzz_fail(NAME, "put_file %s", f->name);
		}
	}
	for (unsigned k = 0; k < SEGS; k++) {
		if (seals[k] != NULL &&
		    rlog_sim_disk_put_file(disk, B.seal_name[k], seals[k]->p,
					   seals[k]->len) != 0) {
			fuzz_fail(NAME, "put_file %s (%zu bytes)",
				  B.seal_name[k], seals[k]->len);
		}
	}
	return disk;
}

/* Open, read the whole log exactly, close: the state every seal the
 * engine wrote must give. */
static void expect_reference(struct rlog_sim_disk *disk, bool verify,
			     const char *when);

static void init_base(void)
{
	struct rlog_sim_disk *disk = NULL;
	if (rlog_sim_disk_new(NULL, 1, &disk) != 0) {
		fuzz_fail(NAME, "disk_new failed");
	}
	int rv;
	struct rlog *log = open_on(disk, false, &rv);
	check(rv, NULL, "open");
	build_log(log);
	check(rlog_close(log), NULL, "close");
	rlog_sim_disk_list_files(disk, false, collect_cb, &B);
	unsigned nseg = 0;
	for (size_t i = 0; i < B.nfiles; i++) {
		uint64_t seq;
		if (rlog__seg_parse_name(B.files[i].name, &seq)) {
			if (nseg == SEGS) {
				fuzz_fail(NAME, "base log: over %u segments",
					  SEGS);
			}
			B.seq[nseg++] = seq;
		}
		read_file(disk, B.files[i].name, &B.files[i]);
	}
	if (nseg != SEGS) {
		fuzz_fail(NAME, "base log: %u segments, not %u", nseg, SEGS);
	}
	for (unsigned i = 1; i < SEGS; i++) {
		if (B.seq[i] <= B.seq[i - 1]) {
			fuzz_fail(NAME, "base log: segments out of order");
		}
	}
	uint64_t seg_bytes = 0;
	for (size_t i = 0; i < B.nfiles; i++) {
		uint64_t seq;
		if (rlog__seg_parse_name(B.files[i].name, &seq)) {
			seg_bytes += B.files[i].len;
		}
	}
	B.max_entries = seg_bytes / RLOG__SEAL_RECORD_MIN_BYTES + 1;
	for (size_t i = 0; i < B.nfiles; i++) {
		uint64_t seq;
		if (rlog__seg_parse_name(B.files[i].name, &seq)) {
			list_records(&B.files[i], seq);
		}
	}
	for (unsigned k = 0; k < SEGS; k++) {
		rlog__seal_name(B.seal_name[k], B.seq[k]);
		read_file(disk, B.seal_name[k], &B.built[k]);
	}
	rlog_sim_disk_free(disk);

	/* The reference: no seals, every segment read in full. */
	const struct file *none[SEGS] = {NULL, NULL, NULL};
	disk = make_disk(none);
	log = open_on(disk, false, &rv);
	check(rv, NULL, "reference open");
	B.first = rlog_first_index(log);
	B.last = rlog_last_index(log);
	rlog_purged(log, &B.purge_index, &B.purge_term);
	B.hs_rc = rlog_hard_state_load(log, &B.hs);
	if (B.hs_rc != 0) {
		check(B.hs_rc == RLOG_ENOTFOUND ? 0 : B.hs_rc, log,
		      "hard state");
		memset(&B.hs, 0, sizeof(B.hs));
	}
	if (B.last < B.first || B.last - B.first + 1 > REF_MAX) {
		fuzz_fail(NAME, "base log: [%llu, %llu] out of range",
			  (unsigned long long)B.first,
			  (unsigned long long)B.last);
	}
	B.n = (size_t)(B.last - B.first + 1);
	for (size_t i = 0; i < B.n; i++) {
		struct rlog_entry e;
		check(rlog_get(log, B.first + i, &e), log, "reference get");
		B.terms[i] = e.term;
		B.hashes[i] = entry_hash(&e);
	}
	check(rlog_close(log), NULL, "reference close");
	for (unsigned k = 0; k < SEGS; k++) {
		read_file(disk, B.seal_name[k], &B.canon[k]);
	}
	rlog_sim_disk_free(disk);
	B.ready = true;

	/* The engine's own seals, both kinds and mixed, give the reference.
	 */
	const struct file *built[SEGS] = {&B.built[0], &B.built[1],
					  &B.built[2]};
	const struct file *canon[SEGS] = {&B.canon[0], &B.canon[1],
					  &B.canon[2]};
	const struct file *mixed[SEGS] = {&B.canon[0], &B.built[1],
					  &B.canon[2]};
	const struct file *const *sets[] = {built, canon, mixed};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		disk = make_disk(sets[i]);
		expect_reference(disk, false,
				 "base log with the engine's seals");
		rlog_sim_disk_free(disk);
	}
}

/* ---- Checking an open handle. ---- */

/* The handle must show the reference exactly. */
static void check_exact(struct rlog *log, const char *when)
{
	uint64_t pi, pt;
	rlog_purged(log, &pi, &pt);
	if (rlog_first_index(log) != B.first ||
	    rlog_last_index(log) != B.last || pi != B.purge_index ||
	    pt != B.purge_term) {
		fuzz_fail(NAME,
			  "%s: log [%llu, %llu] purged %llu/%llu, reference "
			  "[%llu, %llu] purged %llu/%llu",
			  when, (unsigned long long)rlog_first_index(log),
			  (unsigned long long)rlog_last_index(log),
			  (unsigned long long)pi, (unsigned long long)pt,
			  (unsigned long long)B.first,
			  (unsigned long long)B.last,
			  (unsigned long long)B.purge_index,
			  (unsigned long long)B.purge_term);
	}
	struct rlog_hard_state hs;
	memset(&hs, 0, sizeof(hs));
	int rv = rlog_hard_state_load(log, &hs);
	if (rv != B.hs_rc ||
	    (rv == 0 && (hs.current_term != B.hs.current_term ||
			 hs.has_vote != B.hs.has_vote ||
			 hs.voted_for_id != B.hs.voted_for_id ||
			 hs.voted_for_term != B.hs.voted_for_term ||
			 hs.committed != B.hs.committed))) {
		fuzz_fail(NAME, "%s: hard state differs (%d)", when, rv);
	}
	for (size_t i = 0; i < B.n; i++) {
		uint64_t idx = B.first + i;
		uint64_t term = 0;
		rv = rlog_term(log, idx, &term);
		if (rv != 0 || term != B.terms[i]) {
			fuzz_fail(NAME,
				  "%s: rlog_term(%llu) gave %d, term %llu; "
				  "reference term %llu",
				  when, (unsigned long long)idx, rv,
				  (unsigned long long)term,
				  (unsigned long long)B.terms[i]);
		}
		struct rlog_entry e;
		rv = rlog_get(log, idx, &e);
		if (rv != 0) {
			fuzz_fail(NAME, "%s: rlog_get(%llu): %s: %s", when,
				  (unsigned long long)idx, rlog_strerror(rv),
				  rlog_errmsg(log));
		}
		if (e.index != idx || e.term != B.terms[i] ||
		    entry_hash(&e) != B.hashes[i]) {
			fuzz_fail(NAME,
				  "%s: rlog_get(%llu) gave index %llu term "
				  "%llu, not the reference entry (term %llu)",
				  when, (unsigned long long)idx,
				  (unsigned long long)e.index,
				  (unsigned long long)e.term,
				  (unsigned long long)B.terms[i]);
		}
	}
}

static void expect_reference(struct rlog_sim_disk *disk, bool verify,
			     const char *when)
{
	int rv;
	struct rlog *log = open_on(disk, verify, &rv);
	if (rv != 0) {
		fuzz_fail(NAME, "%s: open failed: %s: %s", when,
			  rlog_strerror(rv), rlog_open_errmsg());
	}
	check_exact(log, when);
	rlog_close(log);
}

/* What one open read: per index of [lo, hi], the entry's hash or the
 * error of rlog_get. */
struct seen {
	uint64_t first, last, lo, hi;
	uint64_t hash[REF_MAX * 2];
	int err[REF_MAX * 2];
};

/* rlog_scan must return what rlog_get did, up to the first error. */
struct scan_ctx {
	const struct seen *s;
	uint64_t next;
};

static int scan_cb(void *arg, const struct rlog_entry *e)
{
	struct scan_ctx *c = arg;
	size_t k = (size_t)(c->next - c->s->lo);
	if (e->index != c->next || c->s->err[k] != 0 ||
	    entry_hash(e) != c->s->hash[k]) {
		fuzz_fail(NAME, "scan: entry %llu differs from rlog_get's",
			  (unsigned long long)c->next);
	}
	c->next++;
	return 0;
}

/* A handle opened over a seal that may lie: bounds, then every index of
 * the reference and of the handle. */
static void check_lying(struct rlog *log, struct seen *s, const char *when)
{
	s->first = rlog_first_index(log);
	s->last = rlog_last_index(log);
	uint64_t pi, pt;
	rlog_purged(log, &pi, &pt);
	if (s->first != B.first || pi != B.purge_index || pt != B.purge_term) {
		fuzz_fail(NAME,
			  "%s: first %llu purged %llu/%llu, reference first "
			  "%llu purged %llu/%llu (meta is untouched)",
			  when, (unsigned long long)s->first,
			  (unsigned long long)pi, (unsigned long long)pt,
			  (unsigned long long)B.first,
			  (unsigned long long)B.purge_index,
			  (unsigned long long)B.purge_term);
	}
	if (s->last + 1 < s->first || s->last - s->first + 1 > B.max_entries ||
	    s->last - s->first + 1 > REF_MAX * 2) {
		fuzz_fail(NAME,
			  "%s: log [%llu, %llu] holds more entries than the "
			  "segment files could (%llu)",
			  when, (unsigned long long)s->first,
			  (unsigned long long)s->last,
			  (unsigned long long)B.max_entries);
	}
	s->lo = B.first;
	s->hi = s->last > B.last ? s->last : B.last;
	for (uint64_t idx = s->lo; idx <= s->hi; idx++) {
		size_t k = (size_t)(idx - s->lo);
		bool inside = idx >= s->first && idx <= s->last;
		bool in_ref = idx <= B.last;
		struct rlog_entry e;
		int rv = rlog_get(log, idx, &e);
		s->err[k] = rv;
		s->hash[k] = 0;
		if (rv == 0) {
			s->hash[k] = entry_hash(&e);
			bool tolerated = FUZZ_SEAL_TOLERATE_SUPERSEDED &&
					 inside && e.index == idx &&
					 on_disk(idx, e.term);
			if (!tolerated &&
			    (!inside || !in_ref || e.index != idx ||
			     e.term != B.terms[idx - B.first] ||
			     s->hash[k] != B.hashes[idx - B.first])) {
				fuzz_fail(NAME,
					  "%s: rlog_get(%llu) returned index "
					  "%llu term %llu, %s (reference term "
					  "%llu, log [%llu, %llu])",
					  when, (unsigned long long)idx,
					  (unsigned long long)e.index,
					  (unsigned long long)e.term,
					  in_ref ? "not the reference entry"
						 : "past the reference log",
					  in_ref ? (unsigned long long)
						       B.terms[idx - B.first]
						 : 0ull,
					  (unsigned long long)s->first,
					  (unsigned long long)s->last);
			}
			uint64_t term = 0;
			if (rlog_term(log, idx, &term) != 0 || term != e.term) {
				fuzz_fail(NAME,
					  "%s: rlog_term(%llu) disagrees with "
					  "rlog_get",
					  when, (unsigned long long)idx);
			}
		} else if (!(rv == RLOG_ECORRUPT && inside) &&
			   !(rv == RLOG_ENOTFOUND && !inside && !in_ref)) {
			fuzz_fail(
			    NAME,
			    "%s: rlog_get(%llu) returned %s (log "
			    "[%llu, %llu]): %s",
			    when, (unsigned long long)idx, rlog_strerror(rv),
			    (unsigned long long)s->first,
			    (unsigned long long)s->last, rlog_errmsg(log));
		}
	}
	if (s->last >= s->first) {
		struct scan_ctx c = {.s = s, .next = s->first};
		int rv = rlog_scan(log, s->first, s->last, scan_cb, &c);
		size_t k = (size_t)(c.next - s->lo);
		bool ok =
		    c.next == s->last + 1
			? rv == 0
			: rv == RLOG_ECORRUPT && s->err[k] == RLOG_ECORRUPT;
		if (!ok) {
			fuzz_fail(NAME,
				  "%s: scan [%llu, %llu] returned %d at "
				  "%llu",
				  when, (unsigned long long)s->first,
				  (unsigned long long)s->last, rv,
				  (unsigned long long)c.next);
		}
	}
}

static bool same_bytes(const uint8_t *p, size_t len, const struct file *f)
{
	return len == f->len && (len == 0 || memcmp(p, f->p, len) == 0);
}

/* The seal file of sealed segment k on disk equals want (NULL: there is
 * none). */
static void expect_seal(struct rlog_sim_disk *disk, unsigned k,
			const struct file *want, const char *what,
			const char *when)
{
	uint8_t *p = NULL;
	size_t len = 0;
	int rv = rlog_sim_disk_read_file(disk, B.seal_name[k], false, &p, &len);
	if (want == NULL ? rv == 0 : rv != 0 || !same_bytes(p, len, want)) {
		fuzz_fail(NAME, "%s: %s is %s after the open, not %s", when,
			  B.seal_name[k],
			  rv != 0	 ? "missing"
			  : want == NULL ? "there"
					 : "different",
			  what);
	}
	free(p);
}

/* After an open and close that did not use the seal had (NULL: none),
 * segment i's seal is the canonical one: the open rewrites those of the
 * earlier segments, the close that of the last. */
static void expect_rewritten(struct rlog_sim_disk *disk, unsigned i,
			     const struct file *had)
{
	(void)had;
	expect_seal(disk, i, &B.canon[i], "the canonical seal", "close");
}

/* An open with an injected fault returned rv (log on 0); honest says the
 * seal cannot lie. Then a clean open on the same disk. */
static void check_faulted(struct rlog_sim_disk *disk, struct rlog *log, int rv,
			  bool verify, bool honest)
{
	static struct seen seen;
	if (rv == 0) {
		if (honest || verify) {
			check_exact(log, "open with a fault");
		} else {
			check_lying(log, &seen, "open with a fault");
		}
		rlog_close(log);
	}
	log = open_on(disk, verify, &rv);
	if (!fuzz_typed(rv)) {
		fuzz_fail(NAME, "open after a fault returned %d", rv);
	}
	if (honest || verify) {
		if (rv != 0) {
			fuzz_fail(NAME, "open after a fault failed: %s: %s",
				  rlog_strerror(rv), rlog_open_errmsg());
		}
		check_exact(log, "open after a fault");
	} else if (rv == 0) {
		check_lying(log, &seen, "open after a fault");
	}
	if (rv == 0) {
		rlog_close(log);
	}
}

/* ---- Building the seal file from the input. ---- */

static void fix_crcs(uint8_t *p, size_t len, uint64_t seq, uint8_t flags)
{
	if (len < RLOG__SEAL_HEADER_BYTES) {
		return;
	}
	if (flags & SEAL_FIX_BODY) {
		rlog__put32(p + 56,
			    rlog__crc32c(rlog__seg_seed(seq),
					 p + RLOG__SEAL_HEADER_BYTES,
					 len - RLOG__SEAL_HEADER_BYTES));
	}
	if (flags & SEAL_FIX_HDR) {
		rlog__put32(p + 60, rlog__crc32c(RLOG__CRC_SEED, p, 60));
	}
}

/* Both checksums of the file hold (so recovery may believe it). */
static bool crcs_hold(const uint8_t *p, size_t len, uint64_t seq)
{
	return len >= RLOG__SEAL_HEADER_BYTES &&
	       rlog__crc32c(RLOG__CRC_SEED, p, 60) == rlog__get32(p + 60) &&
	       rlog__crc32c(rlog__seg_seed(seq), p + RLOG__SEAL_HEADER_BYTES,
			    len - RLOG__SEAL_HEADER_BYTES) ==
		   rlog__get32(p + 56);
}

static uint64_t add_delta(uint64_t v, const uint8_t *d)
{
	int16_t delta = (int16_t)(uint16_t)(d[0] | d[1] << 8);
	return v + (uint64_t)(int64_t)delta;
}

/* The seal file of an XOR or BUILD input, in a new buffer. */
static uint8_t *build_seal(enum seal_mode mode, const struct file *base,
			   uint64_t seq, const uint8_t *in, size_t n,
			   size_t *out_len)
{
	uint8_t flags = 0;
	if (n > 0) {
		flags = in[0];
		in++;
		n--;
	}
	uint8_t *p;
	size_t len;
	if (mode == SEAL_XOR) {
		len = (flags & SEAL_CUT) || n > base->len ? n : base->len;
		if (len > SEAL_MAX) {
			len = SEAL_MAX;
		}
		p = malloc(len ? len : 1);
		if (p == NULL) {
			fuzz_fail(NAME, "out of memory");
		}
		for (size_t i = 0; i < len; i++) {
			uint8_t b = i < base->len ? base->p[i] : 0;
			p[i] = (uint8_t)(b ^ (i < n ? in[i] : 0));
		}
	} else {
		uint8_t h[SEAL_BUILD_HDR_BYTES - 2] = {0};
		memcpy(h, in, n < sizeof(h) ? n : sizeof(h));
		size_t body = n > sizeof(h) ? n - sizeof(h) : 0;
		if (body > SEAL_MAX - RLOG__SEAL_HEADER_BYTES) {
			body = SEAL_MAX - RLOG__SEAL_HEADER_BYTES;
		}
		len = RLOG__SEAL_HEADER_BYTES + body;
		p = malloc(len);
		if (p == NULL) {
			fuzz_fail(NAME, "out of memory");
		}
		struct rlog__seal_header sh;
		if (rlog__seal_header_check(base->p, base->len, &sh) != 0) {
			fuzz_fail(NAME, "base seal does not check");
		}
		sh.end_offset = add_delta(sh.end_offset, h);
		sh.start = add_delta(sh.start, h + 2);
		sh.first = add_delta(sh.first, h + 4);
		sh.count = (uint32_t)add_delta(sh.count, h + 6);
		sh.runs = (uint32_t)add_delta(sh.runs, h + 8);
		sh.seq += (uint64_t)(int64_t)(int8_t)h[10];
		rlog__seal_header_put(p, &sh);
		p[8] ^= h[11]; /* the header checksum is stale unless fixed */
		if (body > 0) {
			memcpy(p + RLOG__SEAL_HEADER_BYTES, in + sizeof(h),
			       body);
		}
	}
	fix_crcs(p, len, seq, flags);
	*out_len = len;
	return p;
}

/* ---- One input. ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!B.ready) {
		init_base();
	}
	if (size < 1) {
		return 0;
	}
	uint8_t sel = data[0];
	unsigned k = (sel & SEAL_SEL_WHICH) % SEGS;
	enum seal_mode mode =
	    (enum seal_mode)((sel >> SEAL_SEL_MODE_SHIFT) & 3u);
	bool drop_other = (sel & SEAL_SEL_DROP_OTHER) != 0;
	bool verify = (sel & SEAL_SEL_VERIFY) != 0;
	const struct file *base =
	    (sel & SEAL_SEL_CANON) ? &B.canon[k] : &B.built[k];
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	bool fault = (sel & SEAL_SEL_FAULT) != 0;
	uint8_t fault_spec = 0;
	if (fault) {
		if (n == 0) {
			return 0;
		}
		fault_spec = in[0];
		in++;
		n--;
	}

	struct file input = {.p = NULL, .len = 0};
	if (mode == SEAL_RAW) {
		input.len = n;
		input.p = malloc(n ? n : 1);
		if (input.p == NULL) {
			fuzz_fail(NAME, "out of memory");
		}
		if (n > 0) {
			memcpy(input.p, in, n);
		}
	} else if (mode != SEAL_NONE) {
		input.p = build_seal(mode, base, B.seq[k], in, n, &input.len);
	}
	const struct file *seals[SEGS];
	for (unsigned i = 0; i < SEGS; i++) {
		seals[i] = drop_other ? NULL : &B.built[i];
	}
	seals[k] = mode == SEAL_NONE ? NULL : &input;

	/* Recovery may trust the seal only if its checksums hold; if it is
	 * one the engine wrote, it does not lie. */
	bool valid =
	    mode != SEAL_NONE && crcs_hold(input.p, input.len, B.seq[k]);
	bool genuine =
	    mode != SEAL_NONE && (same_bytes(input.p, input.len, &B.built[k]) ||
				  same_bytes(input.p, input.len, &B.canon[k]));

	struct rlog_sim_disk *disk = make_disk(seals);
	int rv;
	if (fault) {
		if (fault_spec & SEAL_FAULT_ALLOC) {
			alloc_calls = 0;
			alloc_failed = false;
			alloc_fail_at = 1u + (fault_spec & SEAL_FAULT_NUMBER);
		} else if (rlog_sim_disk_fault_at(
			       disk, RLOG_SIM_FAULT_EIO,
			       1u + (fault_spec & SEAL_FAULT_NUMBER)) != 0) {
			fuzz_fail(NAME, "fault_at failed");
		}
	}
	struct rlog *log = open_on(disk, verify, &rv);
	alloc_fail_at = 0;
	rlog_sim_disk_fault_clear(disk);
	if (!fuzz_typed(rv)) {
		fuzz_fail(NAME, "open returned %d, not an RLOG code", rv);
	}
	if (fault) {
		check_faulted(disk, log, rv, verify, !valid || genuine);
		goto out;
	}
	if (verify) {
		/* No seal is read or written. */
		if (rv != 0) {
			fuzz_fail(NAME, "verify_on_open: open failed: %s: %s",
				  rlog_strerror(rv), rlog_open_errmsg());
		}
		check_exact(log, "verify_on_open");
		rlog_close(log);
		expect_reference(disk, true, "second verify_on_open");
		for (unsigned i = 0; i < SEGS; i++) {
			expect_seal(disk, i, seals[i], "as it was",
				    "verify_on_open");
		}
		goto out;
	}
	/* A seal recovery did not use is rewritten by the open, one it used
	 * stays (the last segment's is only rewritten by the close). */
	bool kept = false;
	if (mode != SEAL_NONE) {
		uint8_t *p = NULL;
		size_t len = 0;
		kept = rlog_sim_disk_read_file(disk, B.seal_name[k], false, &p,
					       &len) == 0 &&
		       same_bytes(p, len, &input);
		free(p);
	}
	bool exact = !valid || genuine || !kept;
	static struct seen first_open, second_open;
	if (exact) {
		if (rv != 0) {
			fuzz_fail(NAME,
				  "open over a seal it must not trust (valid "
				  "%d, genuine %d, kept %d) failed: %s: %s",
				  valid, genuine, kept, rlog_strerror(rv),
				  rlog_open_errmsg());
		}
		check_exact(log, "open");
		rlog_close(log);
		/* Recovery rewrites the seal of a segment but the last that it
		 * read in full; the close, that of the last segment. */
		for (unsigned i = 0; i < SEGS; i++) {
			if (i == k ? !genuine : drop_other) {
				expect_rewritten(disk, i, seals[i]);
			}
		}
		expect_reference(disk, false, "second open");
	} else {
		if (rv == 0) {
			check_lying(log, &first_open, "open");
			rlog_close(log);
		}
		int rv2;
		log = open_on(disk, false, &rv2);
		if (rv2 != rv) {
			fuzz_fail(NAME, "open gave %s, a second open %s",
				  rlog_strerror(rv), rlog_strerror(rv2));
		}
		if (rv2 == 0) {
			check_lying(log, &second_open, "second open");
			if (first_open.last != second_open.last) {
				fuzz_fail(NAME,
					  "second open: last %llu, first open "
					  "%llu",
					  (unsigned long long)second_open.last,
					  (unsigned long long)first_open.last);
			}
			for (uint64_t i = first_open.lo; i <= first_open.hi;
			     i++) {
				size_t j = (size_t)(i - first_open.lo);
				if (first_open.err[j] != second_open.err[j] ||
				    first_open.hash[j] != second_open.hash[j]) {
					fuzz_fail(NAME,
						  "second open reads %llu "
						  "differently",
						  (unsigned long long)i);
				}
			}
			rlog_close(log);
		}
	}
out:
	rlog_sim_disk_free(disk);
	free(input.p);
	return 0;
}
