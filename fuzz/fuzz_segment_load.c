/*
 * fuzz_segment_load.c: untrusted segment files (and meta) through recovery.
 *
 * The input (layout in fuzz.h) becomes 1-3 segment files named like real
 * ones and optionally a meta file, durable on a fresh simulated disk. Then:
 *   - rlog_open returns 0 or a typed RLOG_E* code; with no fault injected,
 *     a failure is ECORRUPT or EVERSION, and a second open fails the same;
 *     an injected EIO (or failed allocation) in the first open gives a typed
 *     error or no effect, and a clean open afterwards goes on as below;
 *   - when it opens, first == purge index + 1, every entry in [first, last]
 *     reads and decodes with rlog_get (index and term as rlog_term says),
 *     the neighbours outside answer ENOTFOUND, and rlog_scan over the whole
 *     range returns the same entries byte for byte;
 *   - close and reopen gives the same first, last, purge boundary, terms
 *     and hard state (recovery is deterministic and writes nothing);
 *   - an append of last + 1, a sync and a power cut keep the new entry and
 *     everything before it.
 * Any violation prints a message and aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "memvfs.h"
#include "rlog/rlog.h"

#define NAME "fuzz_segment_load"

/* What an open handle shows. hashes[] is filled by full reads only. */
struct state {
	uint64_t first;
	uint64_t last;
	uint64_t purge_index;
	uint64_t purge_term;
	int hs_rc;
	struct rlog_hard_state hs;
	size_t n; /* entries in [first, last] */
	uint64_t *terms;
	uint64_t *hashes;
};

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

/* Recompute every checksum the framing lets us find (see FUZZ_SEG_FIX_CRC).
 */
static void fix_segment(uint8_t *p, size_t len, uint64_t seq)
{
	if (len < RLOG__SEG_HEADER_BYTES) {
		return;
	}
	rlog__put32(p + 60, rlog__crc32c(RLOG__CRC_SEED, p, 60));
	uint32_t seed = rlog__seg_seed(seq);
	size_t off = RLOG__SEG_HEADER_BYTES;
	while (len - off >= RLOG__REC_HEADER_BYTES) {
		bool zero = true;
		for (size_t i = 0; i < RLOG__REC_HEADER_BYTES; i++) {
			if (p[off + i] != 0) {
				zero = false;
				break;
			}
		}
		uint32_t body = rlog__get32(p + off + 8);
		if (zero || body > len - off - RLOG__REC_HEADER_BYTES) {
			return;
		}
		size_t covered = RLOG__REC_HEADER_BYTES + (size_t)body;
		rlog__put32(p + off,
			    rlog__crc32c(seed, p + off + 4, covered - 4));
		size_t total = (size_t)rlog__align8(covered);
		if (total > len - off) {
			return;
		}
		off += total;
	}
}

static void fix_meta(uint8_t *p, size_t len)
{
	const size_t slots[2] = {RLOG__META_SLOT_A_OFFSET,
				 RLOG__META_SLOT_B_OFFSET};
	for (int s = 0; s < 2; s++) {
		size_t off = slots[s];
		if (len < off + RLOG__META_SLOT_BYTES) {
			continue;
		}
		bool zero = true;
		for (size_t i = 0; i < RLOG__META_SLOT_BYTES; i++) {
			if (p[off + i] != 0) {
				zero = false;
				break;
			}
		}
		if (!zero) {
			rlog__put32(p + off + 124,
				    rlog__crc32c(RLOG__CRC_SEED, p + off, 124));
		}
	}
}

/* An allocator that can fail its Nth call while armed (FUZZ_SEG_ALLOC). */
struct fail_alloc {
	uint64_t calls;
	uint64_t fail_at; /* 0: never */
	bool failed;
};

static bool fa_fails(struct fail_alloc *fa)
{
	if (fa->fail_at == 0 || ++fa->calls != fa->fail_at) {
		return false;
	}
	fa->failed = true;
	return true;
}

static void *fa_malloc(void *ctx, size_t size)
{
	return fa_fails(ctx) ? NULL : malloc(size);
}

static void *fa_realloc(void *ctx, void *p, size_t size)
{
	return fa_fails(ctx) ? NULL : realloc(p, size);
}

static void fa_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

/* Names recovery must pass over: not 16 lowercase hex digits, sequence 0,
 * a suffix that is not ".seg", too long or too short. */
static const char *const strays[] = {"0000000000000000.seg",
				     "000000000000000A.seg",
				     "00000000000000g1.seg",
				     "0000000000000001.sex",
				     "00000000000000001.seg",
				     "1.seg",
				     "LOCK.old"};

static void put(struct rlog_sim_disk *disk, const char *name, const uint8_t *p,
		size_t len)
{
	int rv = rlog_sim_disk_put_file(disk, name, p, len);
	if (rv != 0) {
		fuzz_fail(NAME, "put_file %s (%zu bytes): %d", name, len, rv);
	}
}

/* Lay the input out as files on disk. */
static void build_disk(struct rlog_sim_disk *disk, uint8_t *p, size_t size)
{
	uint8_t flags = p[0];
	unsigned nseg = 1u + (flags & FUZZ_SEG_COUNT_MASK) % 3u;
	uint64_t gap[2] = {1u + (p[2] & 0x0fu), 1u + (p[2] >> 4)};
	uint64_t seq[FUZZ_SEG_FILES_MAX];
	if (flags & FUZZ_SEG_TOP_SEQ) {
		seq[nseg - 1] = UINT64_MAX - p[1];
		for (unsigned i = nseg - 1; i > 0; i--) {
			seq[i - 1] = seq[i] - gap[i - 1];
		}
	} else {
		seq[0] = 1u + (uint64_t)p[1];
		for (unsigned i = 1; i < nseg; i++) {
			seq[i] = seq[i - 1] + gap[i - 1];
		}
	}
	size_t lens[FUZZ_SEG_FILES_MAX] = {0};
	for (unsigned i = 0; i + 1 < nseg; i++) {
		lens[i] = (size_t)p[4 + 2 * i] | (size_t)p[5 + 2 * i] << 8;
	}
	size_t meta_len = (size_t)p[8] | (size_t)p[9] << 8;
	size_t off = FUZZ_SEG_HDR_BYTES;
	char name[RLOG__SEG_NAME_LEN + 1];
	for (unsigned i = 0; i < nseg; i++) {
		if (i + 1 == nseg && (flags & FUZZ_SEG_META)) {
			size_t m =
			    meta_len < size - off ? meta_len : size - off;
			if (flags & FUZZ_SEG_FIX_CRC) {
				fix_meta(p + off, m);
			}
			put(disk, RLOG__META_NAME, p + off, m);
			off += m;
		}
		size_t len = i + 1 == nseg ? size - off : lens[i];
		if (len > size - off) {
			len = size - off;
		}
		if (flags & FUZZ_SEG_FIX_CRC) {
			fix_segment(p + off, len, seq[i]);
		}
		rlog__seg_name(name, seq[i]);
		put(disk, name, p + off, len);
		off += len;
	}
	if ((flags & FUZZ_SEG_COUNT_MASK) == 3u) {
		for (size_t i = 0; i < sizeof(strays) / sizeof(strays[0]);
		     i++) {
			put(disk, strays[i], p, size < 80 ? size : 80);
		}
	}
}

static void free_state(struct state *s)
{
	free(s->terms);
	free(s->hashes);
	memset(s, 0, sizeof(*s));
}

/* Read the handle's bounds, terms and hard state; with full, also read and
 * check every entry. max_entries bounds what the input could hold. */
static void take_state(struct rlog *log, struct state *s, bool full,
		       size_t max_entries, const char *when)
{
	memset(s, 0, sizeof(*s));
	s->first = rlog_first_index(log);
	s->last = rlog_last_index(log);
	rlog_purged(log, &s->purge_index, &s->purge_term);
	if (s->first != s->purge_index + 1) {
		fuzz_fail(NAME,
			  "%s: first index %llu is not purge index %llu + 1",
			  when, (unsigned long long)s->first,
			  (unsigned long long)s->purge_index);
	}
	if (s->last >= s->first) {
		uint64_t n = s->last - s->first + 1;
		if (n == 0 || n > max_entries) {
			fuzz_fail(
			    NAME,
			    "%s: log [%llu, %llu] holds more entries than "
			    "the input's %zu records could",
			    when, (unsigned long long)s->first,
			    (unsigned long long)s->last, max_entries);
		}
		s->n = (size_t)n;
	} else if (s->last != s->first - 1) {
		fuzz_fail(NAME, "%s: empty log with last %llu, first %llu",
			  when, (unsigned long long)s->last,
			  (unsigned long long)s->first);
	}
	s->hs_rc = rlog_hard_state_load(log, &s->hs);
	if (s->hs_rc != 0 && s->hs_rc != RLOG_ENOTFOUND) {
		fuzz_fail(NAME, "%s: hard_state_load returned %d", when,
			  s->hs_rc);
	}
	s->terms = malloc((s->n ? s->n : 1) * sizeof(*s->terms));
	s->hashes = malloc((s->n ? s->n : 1) * sizeof(*s->hashes));
	if (s->terms == NULL || s->hashes == NULL) {
		fuzz_fail(NAME, "out of memory");
	}
	for (size_t i = 0; i < s->n; i++) {
		uint64_t idx = s->first + i;
		if (rlog_term(log, idx, &s->terms[i]) != 0) {
			fuzz_fail(NAME,
				  "%s: rlog_term(%llu) failed inside the log",
				  when, (unsigned long long)idx);
		}
		if (i > 0 && s->terms[i] < s->terms[i - 1]) {
			fuzz_fail(NAME, "%s: term decreases at %llu", when,
				  (unsigned long long)idx);
		}
		if (!full) {
			continue;
		}
		struct rlog_entry e;
		int rv = rlog_get(log, idx, &e);
		if (rv != 0) {
			fuzz_fail(NAME,
				  "%s: rlog_get(%llu) in [%llu, %llu]: %s: %s",
				  when, (unsigned long long)idx,
				  (unsigned long long)s->first,
				  (unsigned long long)s->last,
				  rlog_strerror(rv), rlog_errmsg(log));
		}
		if (e.index != idx || e.term != s->terms[i]) {
			fuzz_fail(
			    NAME,
			    "%s: rlog_get(%llu) gave index %llu term %llu, "
			    "rlog_term says %llu",
			    when, (unsigned long long)idx,
			    (unsigned long long)e.index,
			    (unsigned long long)e.term,
			    (unsigned long long)s->terms[i]);
		}
		s->hashes[i] = entry_hash(&e);
	}
}

/* rlog_scan must see what rlog_get saw. */
struct scan_ctx {
	const struct state *s;
	size_t next;
};

static int scan_cb(void *arg, const struct rlog_entry *e)
{
	struct scan_ctx *c = arg;
	if (c->next >= c->s->n) {
		fuzz_fail(NAME, "scan: more entries than [first, last]");
	}
	uint64_t idx = c->s->first + c->next;
	if (e->index != idx || entry_hash(e) != c->s->hashes[c->next]) {
		fuzz_fail(NAME, "scan: entry %llu differs from rlog_get's",
			  (unsigned long long)idx);
	}
	c->next++;
	return 0;
}

static void check_reads(struct rlog *log, const struct state *s)
{
	struct rlog_entry e;
	if (s->first > 1 && rlog_get(log, s->first - 1, &e) != RLOG_ENOTFOUND) {
		fuzz_fail(NAME, "rlog_get(first - 1) is not ENOTFOUND");
	}
	if (s->last < UINT64_MAX &&
	    rlog_get(log, s->last + 1, &e) != RLOG_ENOTFOUND) {
		fuzz_fail(NAME, "rlog_get(last + 1) is not ENOTFOUND");
	}
	if (s->n == 0) {
		return;
	}
	struct scan_ctx c = {.s = s, .next = 0};
	int rv = rlog_scan(log, s->first, s->last, scan_cb, &c);
	if (rv != 0 || c.next != s->n) {
		fuzz_fail(NAME,
			  "scan [%llu, %llu] returned %d after %zu entries",
			  (unsigned long long)s->first,
			  (unsigned long long)s->last, rv, c.next);
	}
}

static void same_state(const struct state *a, const struct state *b, size_t n,
		       const char *when)
{
	if (a->first != b->first || a->purge_index != b->purge_index ||
	    a->purge_term != b->purge_term || a->hs_rc != b->hs_rc) {
		fuzz_fail(
		    NAME,
		    "%s: first/purge/hard state differ: first %llu vs %llu, "
		    "purged %llu/%llu vs %llu/%llu",
		    when, (unsigned long long)a->first,
		    (unsigned long long)b->first,
		    (unsigned long long)a->purge_index,
		    (unsigned long long)a->purge_term,
		    (unsigned long long)b->purge_index,
		    (unsigned long long)b->purge_term);
	}
	if (a->hs_rc == 0 && (a->hs.current_term != b->hs.current_term ||
			      a->hs.has_vote != b->hs.has_vote ||
			      a->hs.voted_for_id != b->hs.voted_for_id ||
			      a->hs.voted_for_term != b->hs.voted_for_term ||
			      a->hs.committed != b->hs.committed)) {
		fuzz_fail(NAME, "%s: hard state differs", when);
	}
	for (size_t i = 0; i < n; i++) {
		if (a->terms[i] != b->terms[i]) {
			fuzz_fail(NAME,
				  "%s: term of %llu differs (%llu vs %llu)",
				  when, (unsigned long long)(a->first + i),
				  (unsigned long long)a->terms[i],
				  (unsigned long long)b->terms[i]);
		}
	}
}

static struct rlog *must_open(const struct rlog_options *o, const char *when)
{
	struct rlog *log = NULL;
	int rv = rlog_open(o, &log);
	if (rv != 0) {
		fuzz_fail(NAME, "%s: open failed: %s: %s", when,
			  rlog_strerror(rv), rlog_open_errmsg());
	}
	return log;
}

/* Append last + 1, sync, cut the power, reopen: the entry and everything
 * before it must be there. Consumes *plog. */
static void check_append(struct rlog_sim_disk *disk,
			 const struct rlog_options *o, struct rlog **plog,
			 const struct state *before, size_t max_entries)
{
	struct rlog *log = *plog;
	static const uint8_t payload[] = "fuzz-append";
	uint64_t term = 1;
	if (before->last != 0) {
		(void)rlog_term(log, before->last, &term);
	}
	struct rlog_entry e = {.index = before->last + 1,
			       .term = term,
			       .kind = RLOG_PAYLOAD_COMMAND,
			       .payload = payload,
			       .payload_len = sizeof(payload)};
	int rv = rlog_append(log, &e, 1);
	if (before->last >= RLOG_INDEX_MAX) {
		/* No index may follow the cap: the append must be refused. */
		if (rv != RLOG_EINVAL) {
			fuzz_fail(NAME,
				  "append past RLOG_INDEX_MAX returned %d", rv);
		}
		return;
	}
	if (rv == 0) {
		rv = rlog_sync(log);
	}
	if (rv != 0) {
		fuzz_fail(NAME, "append %llu term %llu + sync: %s: %s",
			  (unsigned long long)e.index,
			  (unsigned long long)e.term, rlog_strerror(rv),
			  rlog_errmsg(log));
	}
	if (rlog_sim_disk_crash(disk) != 0) {
		fuzz_fail(NAME, "crash: out of memory");
	}
	rlog_close(log);
	*plog = log = must_open(o, "reopen after append and crash");
	struct state after;
	take_state(log, &after, false, max_entries + 1, "after append");
	if (after.last != e.index) {
		fuzz_fail(NAME, "synced append of %llu lost: last is %llu",
			  (unsigned long long)e.index,
			  (unsigned long long)after.last);
	}
	same_state(before, &after, before->n, "after append and crash");
	struct rlog_entry got;
	rv = rlog_get(log, e.index, &got);
	if (rv != 0 || got.term != e.term || got.kind != e.kind ||
	    got.payload_len != e.payload_len ||
	    memcmp(got.payload, payload, sizeof(payload)) != 0) {
		fuzz_fail(NAME, "appended entry %llu reads back wrong (%d)",
			  (unsigned long long)e.index, rv);
	}
	free_state(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_SEG_HDR_BYTES) {
		return 0;
	}
	uint8_t *p = malloc(size);
	if (p == NULL) {
		return 0;
	}
	memcpy(p, data, size);
	struct rlog_sim_disk *disk = NULL;
	if (rlog_sim_disk_new(NULL, 1, &disk) != 0) {
		fuzz_fail(NAME, "disk_new failed");
	}
	build_disk(disk, p, size);
	struct rlog_options o;
	rlog_options_init(&o);
	o.vfs = rlog_sim_disk_vfs(disk);
	o.segment_size_bytes =
	    (p[0] & FUZZ_SEG_SMALL) ? RLOG_SEGMENT_SIZE_MIN_BYTES : 0;
	/* Every entry needs a record of at least 48 bytes. */
	size_t max_entries = size / 48u + 1u;
	bool fault = (p[0] & FUZZ_SEG_FAULT) != 0;
	struct fail_alloc fa = {.calls = 0, .fail_at = 0, .failed = false};
	const struct rlog_allocator alloc = {&fa, fa_malloc, fa_realloc,
					     fa_free};
	o.allocator = &alloc;
	if (fault && (p[0] & FUZZ_SEG_ALLOC)) {
		fa.fail_at = 1u + p[3];
	} else if (fault && rlog_sim_disk_fault_at(disk, RLOG_SIM_FAULT_EIO,
						   1u + p[3]) != 0) {
		fuzz_fail(NAME, "fault_at failed");
	}
	struct rlog *log = NULL;
	int rv = rlog_open(&o, &log);
	if (!fuzz_typed(rv)) {
		fuzz_fail(NAME, "open returned %d, not an RLOG code", rv);
	}
	rlog_sim_disk_fault_clear(disk);
	fa.fail_at = 0;
	bool faulted = rlog_sim_disk_fault_count(disk) > 0 || fa.failed;
	if (rv != 0 && !faulted) {
		if (rv != RLOG_ECORRUPT && rv != RLOG_EVERSION) {
			fuzz_fail(NAME, "open failed with no fault: %s: %s",
				  rlog_strerror(rv), rlog_open_errmsg());
		}
		int rv2 = rlog_open(&o, &log);
		if (rv2 != rv) {
			fuzz_fail(NAME, "open gave %d, a second open %d", rv,
				  rv2);
		}
		goto out;
	}
	if (rv != 0) {
		/* The injected fault failed the open; the disk is unchanged,
		 * so a clean open must now work as if nothing happened. */
		rv = rlog_open(&o, &log);
		if (rv != 0) {
			if (rv != RLOG_ECORRUPT && rv != RLOG_EVERSION) {
				fuzz_fail(NAME, "open after a fault: %s: %s",
					  rlog_strerror(rv),
					  rlog_open_errmsg());
			}
			goto out;
		}
	}
	struct state a, b;
	take_state(log, &a, true, max_entries, "first open");
	check_reads(log, &a);
	rlog_close(log);
	log = must_open(&o, "second open");
	take_state(log, &b, false, max_entries, "second open");
	if (a.last != b.last) {
		fuzz_fail(NAME, "second open: last %llu, first open %llu",
			  (unsigned long long)b.last,
			  (unsigned long long)a.last);
	}
	same_state(&a, &b, a.n, "second open");
	free_state(&b);
	check_append(disk, &o, &log, &a, max_entries);
	free_state(&a);
	rlog_close(log);
out:
	rlog_sim_disk_free(disk);
	free(p);
	return 0;
}
