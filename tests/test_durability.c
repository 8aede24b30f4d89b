/*
 * Real-filesystem durability round trips over many small segments: bulk
 * appends, purge and truncate across segment boundaries (segment files
 * must really go away on purge), and seeded interleavings of append,
 * truncate, replace, purge, reset, hard state and reopen checked against a
 * reference model after every reopen. Deterministic: one fixed seed.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEGMENT_BYTES 4096u
#define MODEL_CAP 65536
#define BULK_ENTRIES 2000u

struct fx {
	char dir[512];
	struct rlog *log;
	struct tl_model m;
	struct tl_batch b;
	uint64_t rng;
};

/* xorshift64: a tiny deterministic generator; never seeded with 0. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Uniform enough in [lo, hi]. */
static uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(s) % (hi - lo + 1);
}

/* Close the fixture's handle; a later teardown then sees NULL even when
 * an assertion stops the test before it reopens. */
static void fx_close(struct fx *f)
{
	int rc = rlog_close(f->log);
	f->log = NULL;
	assert_int_equal(rc, 0);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	tl_mkdtemp(f->dir, sizeof(f->dir), "durab");
	tl_model_init(&f->m, MODEL_CAP);
	tl_batch_init(&f->b);
	f->rng = 0x9E3779B97F4A7C15ull;
	f->log = tl_open_dir(f->dir, SEGMENT_BYTES, 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	fx_close(f);
	tl_batch_free(&f->b);
	tl_model_free(&f->m);
	tl_rmtree(f->dir);
	free(f);
	return 0;
}

static void fx_check_rc(struct fx *f, int rc, const char *what)
{
	if (rc != 0) {
		fail_msg("%s: %s: %s", what, rlog_strerror(rc),
			 rlog_errmsg(f->log));
	}
}

static void fx_sync(struct fx *f)
{
	fx_check_rc(f, rlog_sync(f->log), "sync");
}

static void fx_reopen(struct fx *f)
{
	fx_close(f);
	f->log = tl_open_dir(f->dir, SEGMENT_BYTES, 0);
}

/* The term of the last entry, or of the purge boundary when empty. */
static uint64_t model_last_term(const struct tl_model *m)
{
	if (m->last >= tl_model_first(m)) {
		return m->e[m->last].term;
	}
	return m->purged_term;
}

/* A payload size: mostly small, sometimes a few KiB, rarely larger than
 * a whole segment. */
static size_t pick_len(uint64_t *rng)
{
	uint64_t r = rng_next(rng) % 100;
	if (r < 5) {
		return 0;
	}
	if (r < 85) {
		return (size_t)rng_range(rng, 1, 400);
	}
	if (r < 98) {
		return (size_t)rng_range(rng, 401, 3000);
	}
	return (size_t)rng_range(rng, SEGMENT_BYTES, 3 * SEGMENT_BYTES);
}

/* Fill f->b with n entries from last + 1 on, of the given term. */
static void fill_batch(struct fx *f, size_t n, uint64_t term)
{
	tl_batch_clear(&f->b);
	for (size_t i = 0; i < n; i++) {
		uint64_t idx = f->m.last + 1 + i;
		uint64_t k = rng_next(&f->rng) % 10;
		enum rlog_payload_kind kind = RLOG_PAYLOAD_COMMAND;
		if (k == 0) {
			kind = RLOG_PAYLOAD_NOOP;
		} else if (k == 1) {
			kind = RLOG_PAYLOAD_CONFIG;
		}
		size_t len = kind == RLOG_PAYLOAD_NOOP ? 0 : pick_len(&f->rng);
		tl_batch_add(&f->b, idx, term, kind,
			     (uint32_t)rng_next(&f->rng), len);
	}
}

static void fx_append_random(struct fx *f, size_t n, uint64_t term)
{
	fill_batch(f, n, term);
	fx_check_rc(f, rlog_append(f->log, f->b.entries, f->b.n), "append");
	tl_model_append(&f->m, &f->b);
}

/* Append count entries in batches of 1..64, syncing after each; the term
 * rises every few hundred entries. */
static void fx_bulk(struct fx *f, uint64_t count)
{
	uint64_t target = f->m.last + count;
	uint64_t term = model_last_term(&f->m) + 1;
	while (f->m.last < target) {
		uint64_t n = rng_range(&f->rng, 1, 64);
		if (n > target - f->m.last) {
			n = target - f->m.last;
		}
		if (rng_next(&f->rng) % 8 == 0) {
			term++;
		}
		fx_append_random(f, (size_t)n, term);
		fx_sync(f);
	}
}

struct scan_ctx {
	const struct tl_model *m;
	uint64_t next;
	bool bad;
};

static int scan_cb(void *arg, const struct rlog_entry *entry)
{
	struct scan_ctx *c = arg;
	if (entry->index != c->next || !tl_entry_equals(entry, c->m, c->next)) {
		c->bad = true;
		return 1;
	}
	c->next++;
	return 0;
}

/* The whole log equals the model, by get and by one scan. */
static void fx_check_all(struct fx *f)
{
	tl_model_check(f->log, &f->m);
	uint64_t first = tl_model_first(&f->m);
	if (f->m.last < first) {
		return;
	}
	struct scan_ctx c = {.m = &f->m, .next = first};
	assert_int_equal(rlog_scan(f->log, first, f->m.last, scan_cb, &c), 0);
	assert_false(c.bad);
	assert_int_equal(c.next, f->m.last + 1);
}

/* 2000 entries of varied sizes over many 4 KiB segments survive reopen
 * byte for byte. */
static void durability_many_segments_survive_reopen(void **state)
{
	struct fx *f = *state;
	fx_bulk(f, BULK_ENTRIES);
	size_t segs = tl_count_suffix(f->dir, ".seg");
	printf("durability: %u entries in %zu segment files\n", BULK_ENTRIES,
	       segs);
	assert_true(segs > 10);
	fx_check_all(f);
	fx_reopen(f);
	fx_check_all(f);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), segs);
	fx_bulk(f, 100);
	fx_reopen(f);
	fx_check_all(f);
}

/* Purge across segment boundaries removes the segment files below the
 * boundary and survives reopen. */
static void durability_purge_across_segments_removes_files(void **state)
{
	struct fx *f = *state;
	fx_bulk(f, BULK_ENTRIES);
	size_t before = tl_count_suffix(f->dir, ".seg");
	uint64_t at = BULK_ENTRIES / 2;
	fx_check_rc(f, rlog_purge(f->log, at, f->m.e[at].term), "purge");
	tl_model_purge(&f->m, at, f->m.e[at].term);
	size_t middle = tl_count_suffix(f->dir, ".seg");
	printf("durability: purge at %llu: %zu -> %zu segment files\n",
	       (unsigned long long)at, before, middle);
	assert_true(middle < before);
	assert_true(middle > 1);
	fx_check_all(f);
	fx_reopen(f);
	fx_check_all(f);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), middle);
	/* Purge up to the last entry but one: a segment or two remain. */
	at = BULK_ENTRIES - 1;
	fx_check_rc(f, rlog_purge(f->log, at, f->m.e[at].term), "purge");
	tl_model_purge(&f->m, at, f->m.e[at].term);
	size_t after = tl_count_suffix(f->dir, ".seg");
	printf("durability: purge at %llu: %zu -> %zu segment files\n",
	       (unsigned long long)at, middle, after);
	assert_true(after < middle);
	assert_true(after <= 3);
	fx_reopen(f);
	fx_check_all(f);
	/* Past the end (snapshot install): the log is empty, starts over. */
	at = BULK_ENTRIES + 50;
	uint64_t term = model_last_term(&f->m) + 1;
	fx_check_rc(f, rlog_purge(f->log, at, term), "purge");
	tl_model_purge(&f->m, at, term);
	assert_true(tl_count_suffix(f->dir, ".seg") <= 2);
	fx_reopen(f);
	fx_check_all(f);
	fx_bulk(f, 300);
	fx_reopen(f);
	fx_check_all(f);
}

/* Truncate across segment boundaries, re-append with a new term and
 * reopen: the new entries are there and no stale tail comes back. */
static void durability_truncate_across_segments_then_reappend(void **state)
{
	struct fx *f = *state;
	fx_bulk(f, BULK_ENTRIES);
	size_t before = tl_count_suffix(f->dir, ".seg");
	fx_check_rc(f, rlog_truncate(f->log, 500), "truncate");
	tl_model_truncate(&f->m, 500);
	fx_sync(f);
	fx_check_all(f);
	fx_reopen(f);
	fx_check_all(f);
	size_t after = tl_count_suffix(f->dir, ".seg");
	printf("durability: truncate at 500: %zu -> %zu segment files\n",
	       before, after);
	/* Re-append 300 entries: fewer than were cut, so a stale tail would
	 * show as entries past the end. */
	fx_bulk(f, 300);
	fx_reopen(f);
	fx_check_all(f);
	struct rlog_entry e;
	assert_int_equal(rlog_get(f->log, 800, &e), RLOG_ENOTFOUND);
	assert_int_equal(rlog_get(f->log, BULK_ENTRIES, &e), RLOG_ENOTFOUND);
	/* Truncate and re-append without a sync in between. */
	fx_check_rc(f, rlog_truncate(f->log, 100), "truncate");
	tl_model_truncate(&f->m, 100);
	fx_append_random(f, 40, model_last_term(&f->m) + 1);
	fx_check_rc(f, rlog_truncate(f->log, 120), "truncate");
	tl_model_truncate(&f->m, 120);
	fx_append_random(f, 5, model_last_term(&f->m) + 1);
	fx_sync(f);
	fx_reopen(f);
	fx_check_all(f);
}

/* After a truncate far back and a re-append, a purge still removes every
 * segment file whose entries all lie below the boundary, stale segments
 * of the truncated tail included (rlog.h, rlog_purge). */
static void durability_purge_after_truncate_reclaims_segments(void **state)
{
	struct fx *f = *state;
	fx_bulk(f, BULK_ENTRIES);
	size_t full = tl_count_suffix(f->dir, ".seg");
	fx_check_rc(f, rlog_truncate(f->log, 500), "truncate");
	tl_model_truncate(&f->m, 500);
	fx_sync(f);
	fx_bulk(f, 1000);
	uint64_t at = f->m.last - 100;
	fx_check_rc(f, rlog_purge(f->log, at, f->m.e[at].term), "purge");
	tl_model_purge(&f->m, at, f->m.e[at].term);
	size_t after = tl_count_suffix(f->dir, ".seg");
	printf("durability: %zu segments for %u entries; after truncate at "
	       "500, re-append to %llu and purge at %llu: %zu\n",
	       full, BULK_ENTRIES, (unsigned long long)f->m.last,
	       (unsigned long long)at, after);
	/* 100 live entries fill about 4 segments; allow generous slack. */
	assert_true(after <= 2 * (full * 100 / BULK_ENTRIES) + 3);
	fx_reopen(f);
	fx_check_all(f);
}

/* A purge between a truncate point and the end, with the truncate record
 * and stale entries still on disk, reopens to exactly the live log, with
 * small and with large segments. */
static void durability_purge_past_truncate_point_reopens(void **state)
{
	struct fx *f = *state;
	static const uint64_t sizes[] = {SEGMENT_BYTES, 0};
	for (size_t r = 0; r < 2; r++) {
		fx_close(f);
		f->log = tl_open_dir(f->dir, sizes[r], 0);
		uint64_t base = f->m.last;
		fx_bulk(f, 40);
		fx_check_rc(f, rlog_truncate(f->log, base + 5), "truncate");
		tl_model_truncate(&f->m, base + 5);
		fx_bulk(f, 55);
		uint64_t at = base + 20;
		fx_check_rc(f, rlog_purge(f->log, at, f->m.e[at].term),
			    "purge");
		tl_model_purge(&f->m, at, f->m.e[at].term);
		fx_check_all(f);
		fx_close(f);
		f->log = tl_open_dir(f->dir, sizes[r], 0);
		fx_check_all(f);
		fx_bulk(f, 5);
		fx_close(f);
		f->log = tl_open_dir(f->dir, sizes[r], 0);
		fx_check_all(f);
	}
}

/* Appends never synced, then a close: the reopened log is the synced log
 * plus some prefix of them, never a hole. */
static void durability_unsynced_tail_reopens_as_prefix(void **state)
{
	struct fx *f = *state;
	fx_bulk(f, 200);
	struct tl_model synced;
	tl_model_init(&synced, MODEL_CAP);
	tl_model_copy(&synced, &f->m);
	for (int i = 0; i < 10; i++) {
		fx_append_random(f, (size_t)rng_range(&f->rng, 1, 20),
				 model_last_term(&f->m) + 1);
	}
	fx_close(f);
	f->log = tl_open_dir(f->dir, SEGMENT_BYTES, 0);
	uint64_t last = rlog_last_index(f->log);
	printf("durability: unsynced tail: synced %llu, appended to %llu, "
	       "reopened with %llu\n",
	       (unsigned long long)synced.last, (unsigned long long)f->m.last,
	       (unsigned long long)last);
	assert_true(last >= synced.last);
	assert_true(last <= f->m.last);
	f->m.last = last;
	fx_check_all(f);
	/* An unsynced truncate is either undone or kept whole. */
	fx_sync(f);
	tl_model_copy(&synced, &f->m);
	uint64_t cut = tl_model_first(&f->m) + 20;
	fx_check_rc(f, rlog_truncate(f->log, cut), "truncate");
	tl_model_truncate(&f->m, cut);
	fx_close(f);
	f->log = tl_open_dir(f->dir, SEGMENT_BYTES, 0);
	last = rlog_last_index(f->log);
	assert_true(last == synced.last || last == cut - 1);
	if (last == synced.last) {
		tl_model_copy(&f->m, &synced);
	}
	fx_check_all(f);
	tl_model_free(&synced);
}

/* The segment size may change between opens; old segments stay
 * readable and new ones use the new size. */
static void durability_segment_size_change_across_reopen(void **state)
{
	struct fx *f = *state;
	static const uint64_t sizes[] = {0, 8192, SEGMENT_BYTES, 1u << 20};
	fx_bulk(f, 300);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fx_close(f);
		f->log = tl_open_dir(f->dir, sizes[i], 0);
		fx_check_all(f);
		fx_bulk(f, 100);
	}
	fx_reopen(f);
	fx_check_all(f);
}

/* Counters of what the random walk did, printed so a reader sees it ran. */
struct walk_stats {
	unsigned ops[8];
};

enum walk_op {
	W_APPEND,
	W_SYNC,
	W_TRUNCATE,
	W_REPLACE,
	W_PURGE,
	W_HS,
	W_REOPEN,
	W_RESET
};

static enum walk_op walk_pick(uint64_t *rng)
{
	uint64_t r = rng_next(rng) % 1000;
	if (r < 420) {
		return W_APPEND;
	}
	if (r < 570) {
		return W_SYNC;
	}
	if (r < 680) {
		return W_TRUNCATE;
	}
	if (r < 770) {
		return W_REPLACE;
	}
	if (r < 850) {
		return W_PURGE;
	}
	if (r < 900) {
		return W_HS;
	}
	if (r < 995) {
		return W_REOPEN;
	}
	return W_RESET;
}

static void walk_truncate(struct fx *f)
{
	uint64_t first = tl_model_first(&f->m);
	uint64_t from = rng_range(&f->rng, first, f->m.last + 1);
	fx_check_rc(f, rlog_truncate(f->log, from), "truncate");
	tl_model_truncate(&f->m, from);
}

static void walk_replace(struct fx *f, uint64_t term)
{
	uint64_t first = tl_model_first(&f->m);
	uint64_t from = rng_range(&f->rng, first, f->m.last + 1);
	uint64_t last = f->m.last;
	f->m.last = from - 1; /* fill_batch numbers from last + 1 */
	fill_batch(f, (size_t)rng_range(&f->rng, 1, 12), term);
	f->m.last = last;
	fx_check_rc(f, rlog_replace(f->log, f->b.entries, f->b.n), "replace");
	tl_model_replace(&f->m, &f->b);
}

static void walk_purge(struct fx *f, uint64_t term)
{
	uint64_t lo = f->m.purged_index;
	uint64_t at = rng_range(&f->rng, lo, f->m.last + 2);
	uint64_t at_term = term;
	if (at <= f->m.purged_index) {
		at_term = f->m.purged_term;
	} else if (at <= f->m.last) {
		at_term = f->m.e[at].term;
	}
	fx_check_rc(f, rlog_purge(f->log, at, at_term), "purge");
	tl_model_purge(&f->m, at, at_term);
}

/* Seeded interleavings of every mutating call and reopen; after every
 * reopen (always preceded by a sync) the log equals the model. */
static void durability_random_interleavings_match_model(void **state)
{
	struct fx *f = *state;
	struct walk_stats st;
	memset(&st, 0, sizeof(st));
	uint64_t term = 1;
	unsigned reopens = 0;
	for (unsigned step = 0; step < 1500; step++) {
		if (rng_next(&f->rng) % 40 == 0) {
			term++;
		}
		if (term < model_last_term(&f->m)) {
			term = model_last_term(&f->m);
		}
		enum walk_op op = walk_pick(&f->rng);
		/* Keep the log around a few hundred entries. */
		if (op == W_APPEND && f->m.last - f->m.purged_index > 600) {
			op = W_PURGE;
		}
		st.ops[op]++;
		switch (op) {
		case W_APPEND:
			fx_append_random(f, (size_t)rng_range(&f->rng, 1, 24),
					 term);
			break;
		case W_SYNC:
			fx_sync(f);
			break;
		case W_TRUNCATE:
			walk_truncate(f);
			break;
		case W_REPLACE:
			walk_replace(f, term);
			break;
		case W_PURGE:
			walk_purge(f, term);
			break;
		case W_HS: {
			struct rlog_hard_state hs = {
			    .current_term = term,
			    .has_vote = (step & 1) != 0,
			    .voted_for_id = (uint32_t)(step % 5),
			    .voted_for_term = term,
			    .committed = (step & 2) != 0};
			fx_check_rc(f, rlog_hard_state_save(f->log, &hs),
				    "hard_state_save");
			tl_model_set_hs(&f->m, &hs);
			break;
		}
		case W_REOPEN:
			fx_sync(f);
			fx_reopen(f);
			fx_check_all(f);
			reopens++;
			break;
		case W_RESET:
			fx_check_rc(f, rlog_reset(f->log), "reset");
			tl_model_reset(&f->m);
			break;
		}
		assert_int_equal(rlog_first_index(f->log),
				 tl_model_first(&f->m));
		assert_int_equal(rlog_last_index(f->log), f->m.last);
		assert_true(f->m.last + 64 < MODEL_CAP);
	}
	fx_sync(f);
	fx_reopen(f);
	fx_check_all(f);
	printf("durability: walk: %u appends %u syncs %u truncates "
	       "%u replaces %u purges %u hard states %u reopens %u resets; "
	       "last %llu\n",
	       st.ops[W_APPEND], st.ops[W_SYNC], st.ops[W_TRUNCATE],
	       st.ops[W_REPLACE], st.ops[W_PURGE], st.ops[W_HS], reopens + 1,
	       st.ops[W_RESET], (unsigned long long)f->m.last);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(durability_many_segments_survive_reopen),
	    T(durability_purge_across_segments_removes_files),
	    T(durability_truncate_across_segments_then_reappend),
	    T(durability_purge_after_truncate_reclaims_segments),
	    T(durability_purge_past_truncate_point_reopens),
	    T(durability_unsynced_tail_reopens_as_prefix),
	    T(durability_segment_size_change_across_reopen),
	    T(durability_random_interleavings_match_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
