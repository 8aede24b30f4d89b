/*
 * d-engine's file storage test suite, re-expressed against rlog on real
 * temporary directories: empty store, single entry and batch appends,
 * inclusive ranges, purge, truncate, replace, reset, large entries, hard
 * state, the four durability cases across close and reopen, and the
 * payload kinds. Every entry is compared byte for byte with a reference
 * model (tests/lib/testlib.h).
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_CAP 512

struct fx {
	char dir[512];
	struct rlog *log;
	struct tl_model m;
	struct tl_batch b;
	uint64_t segment_size_bytes;
};

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
	tl_mkdtemp(f->dir, sizeof(f->dir), "dengine");
	tl_model_init(&f->m, MODEL_CAP);
	tl_batch_init(&f->b);
	f->log = tl_open_dir(f->dir, 0, 0);
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

/* Close the handle and open the directory again. */
static void fx_reopen(struct fx *f)
{
	fx_close(f);
	f->log = tl_open_dir(f->dir, f->segment_size_bytes, 0);
}

/* Append [from, to] with one term and payloads of len bytes; must work. */
static void fx_append(struct fx *f, uint64_t from, uint64_t to, uint64_t term,
		      size_t len)
{
	tl_batch_clear(&f->b);
	for (uint64_t i = from; i <= to; i++) {
		tl_batch_add(&f->b, i, term, RLOG_PAYLOAD_COMMAND, 7, len);
	}
	int rc = rlog_append(f->log, f->b.entries, f->b.n);
	if (rc != 0) {
		fail_msg("append [%llu, %llu]: %s: %s",
			 (unsigned long long)from, (unsigned long long)to,
			 rlog_strerror(rc), rlog_errmsg(f->log));
	}
	tl_model_append(&f->m, &f->b);
}

static void fx_sync(struct fx *f)
{
	int rc = rlog_sync(f->log);
	if (rc != 0) {
		fail_msg("sync: %s: %s", rlog_strerror(rc),
			 rlog_errmsg(f->log));
	}
}

static uint64_t term_of(struct rlog *log, uint64_t index)
{
	uint64_t term = 0;
	assert_int_equal(rlog_term(log, index, &term), 0);
	return term;
}

/* A fresh store is empty: first 1, last 0, nothing to get or load. */
static void dengine_empty_store_reports_nothing(void **state)
{
	struct fx *f = *state;
	struct rlog_entry e;
	struct rlog_hard_state hs;
	uint64_t pidx = 99;
	uint64_t pterm = 99;
	assert_int_equal(rlog_first_index(f->log), 1);
	assert_int_equal(rlog_last_index(f->log), 0);
	assert_int_equal(rlog_get(f->log, 1, &e), RLOG_ENOTFOUND);
	assert_int_equal(rlog_get(f->log, 0, &e), RLOG_ENOTFOUND);
	assert_int_equal(rlog_hard_state_load(f->log, &hs), RLOG_ENOTFOUND);
	rlog_purged(f->log, &pidx, &pterm);
	assert_int_equal(pidx, 0);
	assert_int_equal(pterm, 0);
	rlog_purged(f->log, NULL, NULL);
	assert_false(rlog_is_poisoned(f->log));
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* One appended entry reads back byte for byte and sets last to 1. */
static void dengine_single_entry_round_trips(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 1, 1, 33);
	assert_int_equal(rlog_last_index(f->log), 1);
	assert_int_equal(rlog_first_index(f->log), 1);
	tl_model_check(f->log, &f->m);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* A batch of 100 entries over several terms reads back entry by entry. */
static void dengine_batch_append_round_trips(void **state)
{
	struct fx *f = *state;
	tl_batch_clear(&f->b);
	for (uint64_t i = 1; i <= 100; i++) {
		tl_batch_add(&f->b, i, 1 + i / 30, RLOG_PAYLOAD_COMMAND,
			     (uint32_t)i, (size_t)(i * 13 % 200));
	}
	assert_int_equal(rlog_append(f->log, f->b.entries, f->b.n), 0);
	tl_model_append(&f->m, &f->b);
	tl_model_check(f->log, &f->m);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

struct scan_ctx {
	const struct tl_model *m;
	uint64_t next;	  /* index expected next */
	uint64_t calls;	  /* callbacks seen */
	uint64_t stop_at; /* return stop_rc at this call (0: never) */
	int stop_rc;
	bool bad; /* an entry was out of order or differed */
};

static int scan_cb(void *arg, const struct rlog_entry *entry)
{
	struct scan_ctx *c = arg;
	c->calls++;
	if (entry->index != c->next || !tl_entry_equals(entry, c->m, c->next)) {
		c->bad = true;
	}
	c->next++;
	if (c->stop_at != 0 && c->calls == c->stop_at) {
		return c->stop_rc;
	}
	return 0;
}

/* rlog_scan visits an inclusive range in index order with exact bytes. */
static void dengine_scan_range_is_inclusive_and_ordered(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 50);
	fx_append(f, 11, 20, 2, 70);
	static const uint64_t ranges[][2] = {
	    {5, 12}, {1, 20}, {7, 7}, {20, 20}, {1, 1}};
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		struct scan_ctx c = {.m = &f->m, .next = ranges[r][0]};
		int rc =
		    rlog_scan(f->log, ranges[r][0], ranges[r][1], scan_cb, &c);
		assert_int_equal(rc, 0);
		assert_false(c.bad);
		assert_int_equal(c.calls, ranges[r][1] - ranges[r][0] + 1);
	}
}

/* A nonzero callback return stops the scan and is returned as is. */
static void dengine_scan_early_stop_returns_callback_value(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 20);
	struct scan_ctx c = {
	    .m = &f->m, .next = 2, .stop_at = 3, .stop_rc = 42};
	assert_int_equal(rlog_scan(f->log, 2, 9, scan_cb, &c), 42);
	assert_int_equal(c.calls, 3);
	assert_false(c.bad);
	c = (struct scan_ctx){
	    .m = &f->m, .next = 1, .stop_at = 1, .stop_rc = -77};
	assert_int_equal(rlog_scan(f->log, 1, 10, scan_cb, &c), -77);
	assert_int_equal(c.calls, 1);
}

/* A range not inside the log, or reversed, is refused. */
static void dengine_scan_outside_log_fails(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 20);
	struct scan_ctx c = {.m = &f->m, .next = 1};
	assert_int_equal(rlog_scan(f->log, 5, 4, scan_cb, &c), RLOG_EINVAL);
	assert_int_equal(rlog_scan(f->log, 5, 11, scan_cb, &c), RLOG_ENOTFOUND);
	assert_int_equal(rlog_scan(f->log, 0, 3, scan_cb, &c), RLOG_ENOTFOUND);
	assert_int_equal(rlog_scan(f->log, 11, 12, scan_cb, &c),
			 RLOG_ENOTFOUND);
	assert_int_equal(c.calls, 0);
}

/* Purge drops entries up to the index and records {index, term}. */
static void dengine_purge_removes_prefix(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 40);
	fx_append(f, 11, 20, 3, 40);
	fx_sync(f);
	assert_int_equal(rlog_purge(f->log, 12, 3), 0);
	tl_model_purge(&f->m, 12, 3);
	assert_int_equal(rlog_first_index(f->log), 13);
	assert_int_equal(rlog_last_index(f->log), 20);
	uint64_t pidx = 0;
	uint64_t pterm = 0;
	rlog_purged(f->log, &pidx, &pterm);
	assert_int_equal(pidx, 12);
	assert_int_equal(pterm, 3);
	assert_int_equal(term_of(f->log, 12), 3);
	struct rlog_entry e;
	assert_int_equal(rlog_get(f->log, 12, &e), RLOG_ENOTFOUND);
	assert_int_equal(rlog_get(f->log, 1, &e), RLOG_ENOTFOUND);
	tl_model_check(f->log, &f->m);
	/* A purge at or below the boundary changes nothing. */
	assert_int_equal(rlog_purge(f->log, 5, 1), 0);
	tl_model_check(f->log, &f->m);
	fx_append(f, 21, 22, 3, 10);
	tl_model_check(f->log, &f->m);
}

/* Purge at index 0 is a no-op. */
static void dengine_purge_zero_is_noop(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rlog_purge(f->log, 0, 0), 0);
	tl_model_check(f->log, &f->m);
	fx_append(f, 1, 5, 1, 10);
	assert_int_equal(rlog_purge(f->log, 0, 0), 0);
	tl_model_check(f->log, &f->m);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Truncate removes the suffix; last + 1 is a no-op. */
static void dengine_truncate_removes_suffix(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 30);
	assert_int_equal(rlog_truncate(f->log, 11), 0);
	tl_model_check(f->log, &f->m);
	assert_int_equal(rlog_truncate(f->log, 6), 0);
	tl_model_truncate(&f->m, 6);
	assert_int_equal(rlog_last_index(f->log), 5);
	struct rlog_entry e;
	assert_int_equal(rlog_get(f->log, 6, &e), RLOG_ENOTFOUND);
	tl_model_check(f->log, &f->m);
	assert_int_equal(rlog_truncate(f->log, 1), 0);
	tl_model_truncate(&f->m, 1);
	assert_int_equal(rlog_last_index(f->log), 0);
	tl_model_check(f->log, &f->m);
	fx_append(f, 1, 3, 2, 30);
	tl_model_check(f->log, &f->m);
}

/* Truncate then re-append with a new term survives reopen with no stale
 * tail: the old entries 9 and 10 stay gone. */
static void
dengine_truncate_reappend_survives_reopen_without_stale_tail(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 64);
	fx_sync(f);
	assert_int_equal(rlog_truncate(f->log, 6), 0);
	tl_model_truncate(&f->m, 6);
	fx_append(f, 6, 8, 2, 80);
	fx_sync(f);
	fx_reopen(f);
	assert_int_equal(rlog_last_index(f->log), 8);
	struct rlog_entry e;
	for (uint64_t i = 6; i <= 8; i++) {
		assert_int_equal(rlog_get(f->log, i, &e), 0);
		assert_int_equal(e.term, 2);
	}
	assert_int_equal(rlog_get(f->log, 9, &e), RLOG_ENOTFOUND);
	assert_int_equal(rlog_get(f->log, 10, &e), RLOG_ENOTFOUND);
	tl_model_check(f->log, &f->m);
}

/* Replace in the middle swaps the suffix, durably without a sync. */
static void dengine_replace_middle_suffix_is_durable(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 30);
	fx_sync(f);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 6, 2, RLOG_PAYLOAD_COMMAND, 99, 45);
	tl_batch_add(&f->b, 7, 2, RLOG_PAYLOAD_NOOP, 0, 0);
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n), 0);
	tl_model_replace(&f->m, &f->b);
	assert_int_equal(rlog_last_index(f->log), 7);
	tl_model_check(f->log, &f->m);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Replace from last + 1 is a plain durable append. */
static void dengine_replace_at_end_appends(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 30);
	fx_sync(f);
	tl_batch_clear(&f->b);
	for (uint64_t i = 11; i <= 13; i++) {
		tl_batch_add(&f->b, i, 2, RLOG_PAYLOAD_COMMAND, 5, 25);
	}
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n), 0);
	tl_model_replace(&f->m, &f->b);
	assert_int_equal(rlog_last_index(f->log), 13);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Replace also makes earlier unsynced appends durable. */
static void dengine_replace_syncs_earlier_appends(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 30);
	fx_sync(f);
	fx_append(f, 11, 12, 1, 30);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 12, 2, RLOG_PAYLOAD_COMMAND, 3, 17);
	tl_batch_add(&f->b, 13, 2, RLOG_PAYLOAD_COMMAND, 3, 18);
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n), 0);
	tl_model_replace(&f->m, &f->b);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Reset empties the log and the boundary; the next append is 1. */
static void dengine_reset_empties_log(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 30);
	fx_sync(f);
	assert_int_equal(rlog_purge(f->log, 3, 1), 0);
	assert_int_equal(rlog_reset(f->log), 0);
	tl_model_reset(&f->m);
	tl_model_check(f->log, &f->m);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 11, 1, RLOG_PAYLOAD_COMMAND, 1, 4);
	assert_int_equal(rlog_append(f->log, f->b.entries, 1), RLOG_EINVAL);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	fx_append(f, 1, 2, 4, 30);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Reset keeps the hard state. */
static void dengine_reset_keeps_hard_state(void **state)
{
	struct fx *f = *state;
	struct rlog_hard_state hs = {.current_term = 9,
				     .has_vote = true,
				     .voted_for_id = 3,
				     .voted_for_term = 9,
				     .committed = true};
	fx_append(f, 1, 4, 1, 30);
	assert_int_equal(rlog_hard_state_save(f->log, &hs), 0);
	tl_model_set_hs(&f->m, &hs);
	assert_int_equal(rlog_reset(f->log), 0);
	tl_model_reset(&f->m);
	tl_model_check(f->log, &f->m);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* A 100 KiB entry round trips, also with 4 KiB segments. */
static void dengine_large_entry_round_trips(void **state)
{
	struct fx *f = *state;
	fx_close(f);
	f->segment_size_bytes = RLOG_SEGMENT_SIZE_MIN_BYTES;
	f->log = tl_open_dir(f->dir, f->segment_size_bytes, 0);
	fx_append(f, 1, 1, 1, 100);
	fx_append(f, 2, 2, 1, 100 * 1024);
	fx_append(f, 3, 3, 1, 100);
	fx_append(f, 4, 4, 2, 100 * 1024 + 1);
	tl_model_check(f->log, &f->m);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Hard state saves and loads with and without a vote. */
static void dengine_hard_state_round_trips(void **state)
{
	struct fx *f = *state;
	static const struct rlog_hard_state states[] = {
	    {.current_term = 1, .has_vote = false},
	    {.current_term = 2,
	     .has_vote = true,
	     .voted_for_id = 7,
	     .voted_for_term = 2,
	     .committed = false},
	    {.current_term = 2,
	     .has_vote = true,
	     .voted_for_id = 7,
	     .voted_for_term = 2,
	     .committed = true},
	    {.current_term = 5, .has_vote = false},
	    {.current_term = UINT64_MAX - 1,
	     .has_vote = true,
	     .voted_for_id = UINT32_MAX,
	     .voted_for_term = UINT64_MAX - 1,
	     .committed = true},
	};
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct rlog_hard_state got;
		assert_int_equal(rlog_hard_state_save(f->log, &states[i]), 0);
		memset(&got, 0, sizeof(got));
		assert_int_equal(rlog_hard_state_load(f->log, &got), 0);
		assert_true(tl_hs_equal(&got, &states[i]));
		tl_model_set_hs(&f->m, &states[i]);
		fx_reopen(f);
		tl_model_check(f->log, &f->m);
	}
}

/* A hard state with a lower term is refused and changes nothing. */
static void dengine_hard_state_term_decrease_fails(void **state)
{
	struct fx *f = *state;
	struct rlog_hard_state hs = {.current_term = 5};
	assert_int_equal(rlog_hard_state_save(f->log, &hs), 0);
	tl_model_set_hs(&f->m, &hs);
	struct rlog_hard_state lower = {.current_term = 4,
					.has_vote = true,
					.voted_for_id = 1,
					.voted_for_term = 4};
	assert_int_equal(rlog_hard_state_save(f->log, &lower), RLOG_EINVAL);
	assert_false(rlog_is_poisoned(f->log));
	tl_model_check(f->log, &f->m);
	fx_reopen(f);
	assert_int_equal(rlog_hard_state_save(f->log, &lower), RLOG_EINVAL);
	tl_model_check(f->log, &f->m);
}

/* Synced entries survive close and reopen. */
static void dengine_persisted_entries_survive_reopen(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 30, 1, 90);
	fx_append(f, 31, 40, 2, 10);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	fx_append(f, 41, 41, 2, 10);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* A saved hard state survives close and reopen, beside the entries. */
static void dengine_hard_state_survives_reopen(void **state)
{
	struct fx *f = *state;
	struct rlog_hard_state hs = {.current_term = 3,
				     .has_vote = true,
				     .voted_for_id = 2,
				     .voted_for_term = 3,
				     .committed = false};
	fx_append(f, 1, 3, 1, 10);
	fx_sync(f);
	assert_int_equal(rlog_hard_state_save(f->log, &hs), 0);
	tl_model_set_hs(&f->m, &hs);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* A synced truncate survives close and reopen. */
static void dengine_truncate_survives_reopen(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 20, 1, 100);
	fx_sync(f);
	assert_int_equal(rlog_truncate(f->log, 8), 0);
	tl_model_truncate(&f->m, 8);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	fx_append(f, 8, 9, 2, 100);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* A purge survives close and reopen, boundary included. */
static void dengine_purge_survives_reopen(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 20, 1, 100);
	fx_append(f, 21, 25, 4, 100);
	fx_sync(f);
	assert_int_equal(rlog_purge(f->log, 21, 4), 0);
	tl_model_purge(&f->m, 21, 4);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	assert_int_equal(term_of(f->log, 21), 4);
	fx_append(f, 26, 27, 4, 1);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Every payload kind round trips, empty command and config included. */
static void dengine_payload_kinds_round_trip(void **state)
{
	struct fx *f = *state;
	static const uint8_t one = 0xAB;
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 1, 1, RLOG_PAYLOAD_NONE, 0, 0);
	tl_batch_add(&f->b, 2, 1, RLOG_PAYLOAD_NOOP, 0, 0);
	tl_batch_add(&f->b, 3, 1, RLOG_PAYLOAD_COMMAND, 0, 0);
	tl_batch_add(&f->b, 4, 1, RLOG_PAYLOAD_COMMAND, 4, 1);
	tl_batch_add(&f->b, 5, 1, RLOG_PAYLOAD_COMMAND, 5, 300);
	tl_batch_add(&f->b, 6, 2, RLOG_PAYLOAD_CONFIG, 6, 57);
	tl_batch_add(&f->b, 7, 2, RLOG_PAYLOAD_CONFIG, 0, 0);
	tl_batch_add(&f->b, 8, 2, RLOG_PAYLOAD_NOOP, 0, 0);
	tl_batch_add(&f->b, 9, 2, RLOG_PAYLOAD_COMMAND, 0, 0);
	/* An empty command given with a non-NULL pointer is still empty. */
	struct rlog_entry with_ptr = f->b.entries[8];
	with_ptr.payload = &one;
	assert_int_equal(rlog_append(f->log, f->b.entries, 8), 0);
	assert_int_equal(rlog_append(f->log, &with_ptr, 1), 0);
	tl_model_append(&f->m, &f->b);
	tl_model_check(f->log, &f->m);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	struct rlog_entry e;
	assert_int_equal(rlog_get(f->log, 3, &e), 0);
	assert_int_equal(e.kind, RLOG_PAYLOAD_COMMAND);
	assert_int_equal(e.payload_len, 0);
	assert_int_equal(rlog_get(f->log, 1, &e), 0);
	assert_int_equal(e.kind, RLOG_PAYLOAD_NONE);
	assert_int_equal(rlog_get(f->log, 7, &e), 0);
	assert_int_equal(e.kind, RLOG_PAYLOAD_CONFIG);
}

/* The payload of rlog_get stays valid until the next call and a second
 * get does not disturb a copy taken before it. */
static void dengine_get_payload_valid_until_next_call(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 2, 1, 500);
	struct rlog_entry a;
	struct rlog_entry b;
	assert_int_equal(rlog_get(f->log, 1, &a), 0);
	uint8_t copy[500];
	assert_int_equal(a.payload_len, sizeof(copy));
	memcpy(copy, a.payload, sizeof(copy));
	assert_int_equal(rlog_get(f->log, 2, &b), 0);
	assert_true(tl_entry_equals(&b, &f->m, 2));
	struct rlog_entry c = {.index = 1,
			       .term = 1,
			       .kind = RLOG_PAYLOAD_COMMAND,
			       .payload = copy,
			       .payload_len = sizeof(copy)};
	assert_true(tl_entry_equals(&c, &f->m, 1));
}

/* Open creates the log directory when it is missing. */
static void dengine_open_creates_missing_directory(void **state)
{
	struct fx *f = *state;
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	struct rlog *log = tl_open_dir(sub, 0, 0);
	struct rlog_entry e = {
	    .index = 1, .term = 1, .kind = RLOG_PAYLOAD_NOOP};
	assert_int_equal(rlog_append(log, &e, 1), 0);
	assert_int_equal(rlog_sync(log), 0);
	assert_int_equal(rlog_close(log), 0);
	log = tl_open_dir(sub, 0, 0);
	assert_int_equal(rlog_last_index(log), 1);
	assert_int_equal(rlog_close(log), 0);
	tl_rmtree(sub);
}

/* After a truncate the next entries may carry a lower term than the
 * removed ones, as long as it is not below the kept prefix (a follower
 * overwriting a deposed leader's entries). */
static void dengine_truncate_allows_lower_term_reappend(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 5, 1, 20);
	fx_append(f, 6, 10, 3, 20);
	fx_sync(f);
	assert_int_equal(rlog_truncate(f->log, 6), 0);
	tl_model_truncate(&f->m, 6);
	fx_append(f, 6, 7, 2, 20);
	fx_sync(f);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	/* The same through replace: 6.. had term 2, new 6.. has term 1. */
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 6, 1, RLOG_PAYLOAD_COMMAND, 9, 33);
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n), 0);
	tl_model_replace(&f->m, &f->b);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Replace from the first index after a purge swaps the whole log. */
static void dengine_replace_whole_log_after_purge(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 20);
	fx_sync(f);
	assert_int_equal(rlog_purge(f->log, 4, 1), 0);
	tl_model_purge(&f->m, 4, 1);
	tl_batch_clear(&f->b);
	for (uint64_t i = 5; i <= 6; i++) {
		tl_batch_add(&f->b, i, 2, RLOG_PAYLOAD_CONFIG, 4, 12);
	}
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n), 0);
	tl_model_replace(&f->m, &f->b);
	tl_model_check(f->log, &f->m);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Two handles on two directories are independent. */
static void dengine_two_handles_are_independent(void **state)
{
	struct fx *f = *state;
	char other_dir[512];
	tl_mkdtemp(other_dir, sizeof(other_dir), "dengine2");
	struct rlog *other = tl_open_dir(other_dir, 0, 0);
	struct tl_model om;
	tl_model_init(&om, MODEL_CAP);
	struct tl_batch ob;
	tl_batch_init(&ob);
	for (uint64_t i = 1; i <= 30; i++) {
		fx_append(f, i, i, 1, 10 + (size_t)i);
		tl_batch_clear(&ob);
		tl_batch_add(&ob, i, 2, RLOG_PAYLOAD_CONFIG, 77,
			     40 - (size_t)i);
		assert_int_equal(rlog_append(other, ob.entries, 1), 0);
		tl_model_append(&om, &ob);
	}
	assert_int_equal(rlog_truncate(other, 20), 0);
	tl_model_truncate(&om, 20);
	assert_int_equal(rlog_purge(f->log, 10, 1), 0);
	tl_model_purge(&f->m, 10, 1);
	fx_sync(f);
	assert_int_equal(rlog_sync(other), 0);
	tl_model_check(f->log, &f->m);
	tl_model_check(other, &om);
	assert_int_equal(rlog_close(other), 0);
	fx_reopen(f);
	other = tl_open_dir(other_dir, 0, 0);
	tl_model_check(f->log, &f->m);
	tl_model_check(other, &om);
	assert_int_equal(rlog_close(other), 0);
	tl_batch_free(&ob);
	tl_model_free(&om);
	tl_rmtree(other_dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(dengine_empty_store_reports_nothing),
	    T(dengine_single_entry_round_trips),
	    T(dengine_batch_append_round_trips),
	    T(dengine_scan_range_is_inclusive_and_ordered),
	    T(dengine_scan_early_stop_returns_callback_value),
	    T(dengine_scan_outside_log_fails),
	    T(dengine_purge_removes_prefix),
	    T(dengine_purge_zero_is_noop),
	    T(dengine_truncate_removes_suffix),
	    T(dengine_truncate_reappend_survives_reopen_without_stale_tail),
	    T(dengine_replace_middle_suffix_is_durable),
	    T(dengine_replace_at_end_appends),
	    T(dengine_replace_syncs_earlier_appends),
	    T(dengine_reset_empties_log),
	    T(dengine_reset_keeps_hard_state),
	    T(dengine_large_entry_round_trips),
	    T(dengine_hard_state_round_trips),
	    T(dengine_hard_state_term_decrease_fails),
	    T(dengine_persisted_entries_survive_reopen),
	    T(dengine_hard_state_survives_reopen),
	    T(dengine_truncate_survives_reopen),
	    T(dengine_purge_survives_reopen),
	    T(dengine_payload_kinds_round_trip),
	    T(dengine_get_payload_valid_until_next_call),
	    T(dengine_open_creates_missing_directory),
	    T(dengine_truncate_allows_lower_term_reappend),
	    T(dengine_replace_whole_log_after_purge),
	    T(dengine_two_handles_are_independent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
