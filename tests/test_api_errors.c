/*
 * The error contract of rlog.h: argument errors change nothing (also after
 * reopen), a second handle on one directory is refused, a purge past the
 * end installs a snapshot boundary, error texts are distinct, and, most of
 * all, the Nth-failure loop: for every operation and N = 1, 2, ... the Nth
 * VFS call inside it fails (tests/lib/failvfs.h) until the operation
 * succeeds without a fault. Each failure must return a typed code, poison
 * the handle when a write-class call failed, and leave a directory that
 * reopens to a valid state holding every acknowledged byte.
 */
#include "failvfs.h"
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODEL_CAP 512

/* ---- Fixture for the argument tests. ---- */

struct fx {
	char dir[512];
	struct rlog *log;
	struct tl_model m;
	struct tl_batch b;
	uint32_t entry_size_max_bytes;
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
	tl_mkdtemp(f->dir, sizeof(f->dir), "apierr");
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

static void fx_reopen(struct fx *f)
{
	fx_close(f);
	f->log = tl_open_dir(f->dir, 0, f->entry_size_max_bytes);
}

static void fx_append(struct fx *f, uint64_t from, uint64_t to, uint64_t term,
		      size_t len)
{
	tl_batch_clear(&f->b);
	for (uint64_t i = from; i <= to; i++) {
		tl_batch_add(&f->b, i, term, RLOG_PAYLOAD_COMMAND, 11, len);
	}
	assert_int_equal(rlog_append(f->log, f->b.entries, f->b.n), 0);
	tl_model_append(&f->m, &f->b);
}

/* Expect rc from an append of the batch, then an unchanged log. */
static void fx_expect_append(struct fx *f, int rc)
{
	assert_int_equal(rlog_append(f->log, f->b.entries, f->b.n), rc);
	assert_false(rlog_is_poisoned(f->log));
	tl_model_check(f->log, &f->m);
}

/* Appends that do not start at last + 1, or skip or repeat an index
 * inside the batch, are refused and change nothing, also after reopen. */
static void errors_append_not_contiguous_fails_unchanged(void **state)
{
	struct fx *f = *state;
	static const uint64_t bad_first[] = {0, 2, 7};
	for (size_t i = 0; i < 3; i++) {
		tl_batch_clear(&f->b);
		tl_batch_add(&f->b, bad_first[i], 1, RLOG_PAYLOAD_COMMAND, 1,
			     10);
		fx_expect_append(f, RLOG_EINVAL);
	}
	fx_append(f, 1, 5, 1, 20);
	assert_int_equal(rlog_sync(f->log), 0);
	static const uint64_t bad_next[] = {0, 1, 5, 7, UINT64_MAX};
	for (size_t i = 0; i < 5; i++) {
		tl_batch_clear(&f->b);
		tl_batch_add(&f->b, bad_next[i], 1, RLOG_PAYLOAD_COMMAND, 1,
			     10);
		fx_expect_append(f, RLOG_EINVAL);
	}
	/* A gap, a repeat and a step back inside one batch. */
	static const uint64_t batches[][3] = {
	    {6, 7, 9}, {6, 6, 7}, {6, 7, 6}, {6, 8, 9}};
	for (size_t i = 0; i < 4; i++) {
		tl_batch_clear(&f->b);
		for (size_t j = 0; j < 3; j++) {
			tl_batch_add(&f->b, batches[i][j], 1,
				     RLOG_PAYLOAD_COMMAND, 2, 10);
		}
		fx_expect_append(f, RLOG_EINVAL);
	}
	assert_true(strlen(rlog_errmsg(f->log)) > 0);
	assert_int_equal(rlog_sync(f->log), 0);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	fx_append(f, 6, 6, 1, 10);
	tl_model_check(f->log, &f->m);
}

/* A term below the last entry's, before or inside a batch, is refused. */
static void errors_append_decreasing_term_fails_unchanged(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 3, 2, 10);
	fx_append(f, 4, 5, 3, 10);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 6, 2, RLOG_PAYLOAD_COMMAND, 1, 10);
	fx_expect_append(f, RLOG_EINVAL);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 6, 4, RLOG_PAYLOAD_COMMAND, 1, 10);
	tl_batch_add(&f->b, 7, 3, RLOG_PAYLOAD_COMMAND, 1, 10);
	fx_expect_append(f, RLOG_EINVAL);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 6, 0, RLOG_PAYLOAD_COMMAND, 1, 10);
	fx_expect_append(f, RLOG_EINVAL);
	/* The same term, and a jump up, are fine. */
	fx_append(f, 6, 6, 3, 10);
	fx_append(f, 7, 7, 10, 10);
	assert_int_equal(rlog_sync(f->log), 0);
	fx_reopen(f);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 8, 9, RLOG_PAYLOAD_COMMAND, 1, 10);
	fx_expect_append(f, RLOG_EINVAL);
	tl_model_check(f->log, &f->m);
}

/* A payload over entry_size_max_bytes is refused, alone or in a batch,
 * by append and replace; the cap itself is accepted. */
static void errors_payload_over_cap_fails_unchanged(void **state)
{
	struct fx *f = *state;
	fx_close(f);
	f->entry_size_max_bytes = 1000;
	f->log = tl_open_dir(f->dir, 0, f->entry_size_max_bytes);
	fx_append(f, 1, 1, 1, 1000);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 2, 1, RLOG_PAYLOAD_COMMAND, 1, 1001);
	fx_expect_append(f, RLOG_EINVAL);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 2, 1, RLOG_PAYLOAD_COMMAND, 1, 10);
	tl_batch_add(&f->b, 3, 1, RLOG_PAYLOAD_CONFIG, 1, 5000);
	fx_expect_append(f, RLOG_EINVAL);
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n),
			 RLOG_EINVAL);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 1, 2, RLOG_PAYLOAD_COMMAND, 1, 1001);
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n),
			 RLOG_EINVAL);
	tl_model_check(f->log, &f->m);
	assert_int_equal(rlog_sync(f->log), 0);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Options out of their bounds make rlog_open fail with EINVAL. */
static void errors_open_bad_options_fails(void **state)
{
	struct fx *f = *state;
	struct rlog_options opts;
	struct rlog *log = (struct rlog *)&opts;
	assert_int_equal(rlog_open(NULL, &log), RLOG_EINVAL);
	assert_null(log);
	rlog_options_init(&opts);
	log = (struct rlog *)&opts;
	assert_int_equal(rlog_open(&opts, &log), RLOG_EINVAL);
	assert_null(log);
	assert_true(strlen(rlog_open_errmsg()) > 0);
	opts.dir = f->dir;
	assert_int_equal(rlog_open(&opts, NULL), RLOG_EINVAL);
	opts.segment_size_bytes = RLOG_SEGMENT_SIZE_MIN_BYTES - 1;
	assert_int_equal(rlog_open(&opts, &log), RLOG_EINVAL);
	assert_null(log);
	opts.segment_size_bytes = (uint64_t)RLOG_SEGMENT_SIZE_MAX_BYTES + 1;
	assert_int_equal(rlog_open(&opts, &log), RLOG_EINVAL);
	opts.segment_size_bytes = 0;
	opts.entry_size_max_bytes = RLOG_ENTRY_SIZE_MAX_BYTES + 1;
	assert_int_equal(rlog_open(&opts, &log), RLOG_EINVAL);
	assert_null(log);
}

struct count_ctx {
	uint64_t calls;
};

static int count_cb(void *arg, const struct rlog_entry *entry)
{
	struct count_ctx *c = arg;
	(void)entry;
	c->calls++;
	return 0;
}

/* NULL pointers and empty batches where the header forbids them give
 * EINVAL and change nothing. */
static void errors_null_args_fail_unchanged(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 3, 1, 10);
	assert_int_equal(rlog_append(f->log, NULL, 1), RLOG_EINVAL);
	assert_int_equal(rlog_replace(f->log, NULL, 1), RLOG_EINVAL);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 4, 1, RLOG_PAYLOAD_COMMAND, 1, 10);
	assert_int_equal(rlog_replace(f->log, f->b.entries, 0), RLOG_EINVAL);
	/* A payload length without bytes is refused. */
	struct rlog_entry e = {.index = 4,
			       .term = 1,
			       .kind = RLOG_PAYLOAD_COMMAND,
			       .payload = NULL,
			       .payload_len = 5};
	assert_int_equal(rlog_append(f->log, &e, 1), RLOG_EINVAL);
	/* n == 0 is either refused or a no-op; nothing changes. */
	int rc = rlog_append(f->log, f->b.entries, 0);
	assert_true(rc == 0 || rc == RLOG_EINVAL);
	assert_int_equal(rlog_scan(f->log, 1, 3, NULL, NULL), RLOG_EINVAL);
	assert_int_equal(rlog_hard_state_save(f->log, NULL), RLOG_EINVAL);
	struct count_ctx c = {0};
	assert_int_equal(rlog_scan(f->log, 1, 3, count_cb, &c), 0);
	assert_int_equal(c.calls, 3);
	assert_int_equal(rlog_close(NULL), 0);
	assert_false(rlog_is_poisoned(f->log));
	tl_model_check(f->log, &f->m);
}

/* An unknown payload kind is refused; NONE or NOOP with bytes is either
 * refused or stored without them. */
static void errors_bad_kind_fails_unchanged(void **state)
{
	struct fx *f = *state;
	static const uint8_t bytes[4] = {1, 2, 3, 4};
	struct rlog_entry e = {.index = 1,
			       .term = 1,
			       .kind = (enum rlog_payload_kind)7,
			       .payload = bytes,
			       .payload_len = sizeof(bytes)};
	assert_int_equal(rlog_append(f->log, &e, 1), RLOG_EINVAL);
	e.kind = (enum rlog_payload_kind) - 1;
	assert_int_equal(rlog_append(f->log, &e, 1), RLOG_EINVAL);
	tl_model_check(f->log, &f->m);
	e.kind = RLOG_PAYLOAD_NOOP;
	int rc = rlog_append(f->log, &e, 1);
	assert_true(rc == 0 || rc == RLOG_EINVAL);
	if (rc == 0) {
		struct rlog_entry got;
		assert_int_equal(rlog_get(f->log, 1, &got), 0);
		assert_int_equal(got.kind, RLOG_PAYLOAD_NOOP);
		assert_int_equal(got.payload_len, 0);
	} else {
		tl_model_check(f->log, &f->m);
	}
}

/* Truncate outside [first, last + 1] is refused and changes nothing. */
static void errors_truncate_out_of_range_fails_unchanged(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rlog_truncate(f->log, 2), RLOG_EINVAL);
	assert_int_equal(rlog_truncate(f->log, 0), RLOG_EINVAL);
	assert_int_equal(rlog_truncate(f->log, 1), 0);
	fx_append(f, 1, 10, 1, 10);
	assert_int_equal(rlog_sync(f->log), 0);
	assert_int_equal(rlog_purge(f->log, 3, 1), 0);
	tl_model_purge(&f->m, 3, 1);
	static const uint64_t bad[] = {0, 1, 3, 12, 100, UINT64_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rlog_truncate(f->log, bad[i]), RLOG_EINVAL);
	}
	assert_int_equal(rlog_truncate(f->log, 11), 0);
	assert_false(rlog_is_poisoned(f->log));
	assert_int_equal(rlog_sync(f->log), 0);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	assert_int_equal(rlog_truncate(f->log, 4), 0);
	tl_model_truncate(&f->m, 4);
	assert_int_equal(rlog_sync(f->log), 0);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* Replace starting outside [first, last + 1], with a gap or with a term
 * below the kept prefix, is refused and changes nothing. */
static void errors_replace_invalid_fails_unchanged(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 2, 10);
	assert_int_equal(rlog_sync(f->log), 0);
	assert_int_equal(rlog_purge(f->log, 2, 2), 0);
	tl_model_purge(&f->m, 2, 2);
	static const uint64_t bad_first[] = {0, 1, 2, 12};
	for (size_t i = 0; i < 4; i++) {
		tl_batch_clear(&f->b);
		tl_batch_add(&f->b, bad_first[i], 3, RLOG_PAYLOAD_COMMAND, 1,
			     10);
		assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n),
				 RLOG_EINVAL);
	}
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 5, 3, RLOG_PAYLOAD_COMMAND, 1, 10);
	tl_batch_add(&f->b, 7, 3, RLOG_PAYLOAD_COMMAND, 1, 10);
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n),
			 RLOG_EINVAL);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 5, 1, RLOG_PAYLOAD_COMMAND, 1, 10);
	assert_int_equal(rlog_replace(f->log, f->b.entries, f->b.n),
			 RLOG_EINVAL);
	assert_false(rlog_is_poisoned(f->log));
	tl_model_check(f->log, &f->m);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* A purge whose term does not match the entry is refused. */
static void errors_purge_term_mismatch_fails_unchanged(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 5, 1, 10);
	fx_append(f, 6, 10, 2, 10);
	assert_int_equal(rlog_sync(f->log), 0);
	assert_int_equal(rlog_purge(f->log, 5, 2), RLOG_EINVAL);
	assert_int_equal(rlog_purge(f->log, 6, 1), RLOG_EINVAL);
	assert_int_equal(rlog_purge(f->log, 6, 3), RLOG_EINVAL);
	assert_int_equal(rlog_purge(f->log, 10, 1), RLOG_EINVAL);
	assert_false(rlog_is_poisoned(f->log));
	tl_model_check(f->log, &f->m);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	assert_int_equal(rlog_purge(f->log, 6, 2), 0);
	tl_model_purge(&f->m, 6, 2);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* A second handle on an open directory gets EBUSY until the first one is
 * closed, through the dir option and through a VFS alike. */
static void errors_second_open_is_busy(void **state)
{
	struct fx *f = *state;
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = f->dir;
	struct rlog *second = (struct rlog *)&opts;
	assert_int_equal(rlog_open(&opts, &second), RLOG_EBUSY);
	assert_null(second);
	assert_true(strlen(rlog_open_errmsg()) > 0);
	struct rlog_vfs *vfs = NULL;
	assert_int_equal(rlog_vfs_posix_new(f->dir, &vfs), 0);
	second = (struct rlog *)&opts;
	assert_int_equal(tl_open_vfs(vfs, 0, &second), RLOG_EBUSY);
	assert_null(second);
	fx_append(f, 1, 2, 1, 10);
	assert_int_equal(rlog_sync(f->log), 0);
	fx_close(f);
	f->log = NULL;
	assert_int_equal(tl_open_vfs(vfs, 0, &second), 0);
	tl_model_check(second, &f->m);
	assert_int_equal(rlog_open(&opts, &f->log), RLOG_EBUSY);
	assert_null(f->log);
	assert_int_equal(rlog_close(second), 0);
	rlog_vfs_posix_free(vfs);
	f->log = tl_open_dir(f->dir, 0, 0);
	tl_model_check(f->log, &f->m);
}

/* Expect every append except at boundary + 1 to be refused. */
static void expect_only_next_append(struct fx *f, uint64_t next, uint64_t term)
{
	static const int64_t deltas[] = {-10, -2, -1, 1, 2, 100};
	for (size_t i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		int64_t idx = (int64_t)next + deltas[i];
		if (idx < 0) {
			continue;
		}
		tl_batch_clear(&f->b);
		tl_batch_add(&f->b, (uint64_t)idx, term, RLOG_PAYLOAD_COMMAND,
			     3, 10);
		fx_expect_append(f, RLOG_EINVAL);
	}
}

/* A purge past the last entry (snapshot install) empties the log durably
 * and the next append must be purge index + 1, also after a restart. */
static void errors_purge_past_end_installs_boundary(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 10, 1, 10);
	assert_int_equal(rlog_sync(f->log), 0);
	assert_int_equal(rlog_purge(f->log, 15, 7), 0);
	tl_model_purge(&f->m, 15, 7);
	assert_int_equal(rlog_first_index(f->log), 16);
	assert_int_equal(rlog_last_index(f->log), 15);
	uint64_t term = 0;
	assert_int_equal(rlog_term(f->log, 15, &term), 0);
	assert_int_equal(term, 7);
	tl_model_check(f->log, &f->m);
	expect_only_next_append(f, 16, 7);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	expect_only_next_append(f, 16, 7);
	/* Truncate is only allowed at last + 1 on the empty log. */
	assert_int_equal(rlog_truncate(f->log, 15), RLOG_EINVAL);
	assert_int_equal(rlog_truncate(f->log, 16), 0);
	fx_append(f, 16, 18, 7, 10);
	assert_int_equal(rlog_sync(f->log), 0);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	/* A purge exactly at the last entry empties the log as well. */
	assert_int_equal(rlog_purge(f->log, 18, 7), 0);
	tl_model_purge(&f->m, 18, 7);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
	expect_only_next_append(f, 19, 7);
	fx_append(f, 19, 19, 8, 10);
	assert_int_equal(rlog_sync(f->log), 0);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* rlog_strerror names every code with distinct non-empty text, and
 * unknown codes with text unlike any known one. */
static void errors_strerror_is_distinct(void **state)
{
	(void)state;
	static const int known[] = {RLOG_OK,	    RLOG_EINVAL, RLOG_ENOMEM,
				    RLOG_EIO,	    RLOG_ENOSPC, RLOG_ECORRUPT,
				    RLOG_ENOTFOUND, RLOG_EFATAL, RLOG_EBUSY,
				    RLOG_EVERSION};
	static const int unknown[] = {1, 5, -10, -100, INT_MIN, INT_MAX};
	size_t nk = sizeof(known) / sizeof(known[0]);
	for (size_t i = 0; i < nk; i++) {
		const char *a = rlog_strerror(known[i]);
		assert_non_null(a);
		assert_true(strlen(a) > 0);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(a, rlog_strerror(known[j]));
		}
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		const char *u = rlog_strerror(unknown[i]);
		assert_non_null(u);
		assert_true(strlen(u) > 0);
		for (size_t j = 0; j < nk; j++) {
			assert_string_not_equal(u, rlog_strerror(known[j]));
		}
	}
}

/* rlog_errmsg is empty on a fresh handle and non-empty after an error. */
static void errors_errmsg_set_after_error(void **state)
{
	struct fx *f = *state;
	assert_non_null(rlog_errmsg(f->log));
	assert_string_equal(rlog_errmsg(f->log), "");
	assert_int_equal(rlog_truncate(f->log, 5), RLOG_EINVAL);
	assert_true(strlen(rlog_errmsg(f->log)) > 0);
	tl_batch_clear(&f->b);
	tl_batch_add(&f->b, 3, 1, RLOG_PAYLOAD_COMMAND, 1, 1);
	assert_int_equal(rlog_append(f->log, f->b.entries, 1), RLOG_EINVAL);
	assert_true(strlen(rlog_errmsg(f->log)) > 0);
}

/* A second process opening the directory gets EBUSY while this one holds
 * it, and opens it once it is closed. */
static void errors_other_process_open_is_busy(void **state)
{
	struct fx *f = *state;
	for (int round = 0; round < 2; round++) {
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct rlog_options opts;
			rlog_options_init(&opts);
			opts.dir = f->dir;
			struct rlog *log = NULL;
			int rc = rlog_open(&opts, &log);
			int want = round == 0 ? RLOG_EBUSY : 0;
			int ok = rc == want && (rc != 0 || log != NULL);
			rlog_close(log);
			_exit(ok ? 0 : 1);
		}
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		if (round == 0) {
			fx_close(f);
			f->log = NULL;
		}
	}
	f->log = tl_open_dir(f->dir, 0, 0);
}

/* A batch over RLOG_BATCH_ENTRIES_MAX entries or RLOG_BATCH_SIZE_MAX_BYTES
 * bytes is refused by append and replace and changes nothing. */
static void errors_batch_over_caps_fails_unchanged(void **state)
{
	struct fx *f = *state;
	fx_append(f, 1, 2, 1, 10);
	size_t n = (size_t)RLOG_BATCH_ENTRIES_MAX + 1;
	struct rlog_entry *e = calloc(n, sizeof(*e));
	assert_non_null(e);
	for (size_t i = 0; i < n; i++) {
		e[i].index = 3 + i;
		e[i].term = 1;
		e[i].kind = RLOG_PAYLOAD_NOOP;
	}
	assert_int_equal(rlog_append(f->log, e, n), RLOG_EINVAL);
	assert_int_equal(rlog_replace(f->log, e, n), RLOG_EINVAL);
	tl_model_check(f->log, &f->m);
	/* Five payloads of 60 MiB (one shared buffer) exceed 256 MiB. */
	size_t big_bytes = 60u * 1024u * 1024u;
	uint8_t *big = calloc(1, big_bytes);
	assert_non_null(big);
	for (size_t i = 0; i < 5; i++) {
		e[i].kind = RLOG_PAYLOAD_COMMAND;
		e[i].payload = big;
		e[i].payload_len = big_bytes;
	}
	assert_int_equal(rlog_append(f->log, e, 5), RLOG_EINVAL);
	assert_int_equal(rlog_replace(f->log, e, 5), RLOG_EINVAL);
	free(big);
	free(e);
	assert_false(rlog_is_poisoned(f->log));
	tl_model_check(f->log, &f->m);
	assert_int_equal(rlog_sync(f->log), 0);
	fx_reopen(f);
	tl_model_check(f->log, &f->m);
}

/* ---- A counting allocator that can fail the Nth allocation. ---- */

struct fail_alloc {
	struct rlog_allocator iface;
	uint64_t count;	  /* malloc and realloc calls since the arm */
	uint64_t fail_at; /* 0: never */
	bool persistent;
	bool fired;
	int64_t live; /* blocks allocated and not freed */
};

static bool fa_fail(struct fail_alloc *a)
{
	a->count++;
	if (a->fail_at == 0) {
		return false;
	}
	if (a->count == a->fail_at ||
	    (a->persistent && a->count > a->fail_at)) {
		a->fired = true;
		return true;
	}
	return false;
}

static void *fa_malloc(void *ctx, size_t size)
{
	struct fail_alloc *a = ctx;
	if (fa_fail(a)) {
		return NULL;
	}
	void *p = malloc(size != 0 ? size : 1);
	if (p != NULL) {
		a->live++;
	}
	return p;
}

static void *fa_realloc(void *ctx, void *ptr, size_t size)
{
	struct fail_alloc *a = ctx;
	if (fa_fail(a)) {
		return NULL;
	}
	void *p = realloc(ptr, size != 0 ? size : 1);
	if (p != NULL && ptr == NULL) {
		a->live++;
	}
	return p;
}

static void fa_free(void *ctx, void *ptr)
{
	struct fail_alloc *a = ctx;
	if (ptr != NULL) {
		a->live--;
		free(ptr);
	}
}

static void fa_init(struct fail_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->iface.ctx = a;
	a->iface.malloc = fa_malloc;
	a->iface.realloc = fa_realloc;
	a->iface.free = fa_free;
}

static void fa_arm(struct fail_alloc *a, uint64_t n, bool persistent)
{
	a->count = 0;
	a->fail_at = n;
	a->persistent = persistent;
	a->fired = false;
}

/* Every allocation goes through the injected allocator and all of it is
 * freed by rlog_close. */
static void errors_allocator_sees_every_block(void **state)
{
	struct fx *f = *state;
	struct fail_alloc a;
	fa_init(&a);
	fx_close(f);
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = f->dir;
	opts.allocator = &a.iface;
	assert_int_equal(rlog_open(&opts, &f->log), 0);
	assert_true(a.count > 0);
	assert_true(a.live > 0);
	fx_append(f, 1, 50, 1, 300);
	assert_int_equal(rlog_sync(f->log), 0);
	struct rlog_entry e;
	assert_int_equal(rlog_get(f->log, 7, &e), 0);
	fx_close(f);
	assert_int_equal(a.live, 0);
	assert_int_equal(rlog_open(&opts, &f->log), 0);
	tl_model_check(f->log, &f->m);
	fx_close(f);
	assert_int_equal(a.live, 0);
	/* An allocator lacking a function is a bad option. */
	a.iface.realloc = NULL;
	f->log = (struct rlog *)&opts;
	assert_int_equal(rlog_open(&opts, &f->log), RLOG_EINVAL);
	assert_null(f->log);
	f->log = tl_open_dir(f->dir, 0, 0);
}

/* ---- The Nth-failure loop. ---- */

#define NTH_SEGMENT_BYTES 4096u
#define NTH_MAX 400u
#define NTH_CANDS_MAX 12

enum op {
	OP_OPEN,
	OP_APPEND,
	OP_SYNC,
	OP_TRUNCATE,
	OP_REPLACE,
	OP_PURGE,
	OP_RESET,
	OP_HS_SAVE,
	OP_CLOSE,
	OP_GET,
	OP_SCAN,
	OP_APPEND_ROLL,
	OP_TRUNC_APPEND_SYNC,
	OP_PURGE_ALL,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {"open",
					       "append",
					       "sync",
					       "truncate",
					       "replace",
					       "purge",
					       "reset",
					       "hard_state_save",
					       "close",
					       "get",
					       "scan",
					       "append+roll+sync",
					       "trunc+append+sync",
					       "purge past end"};

/* Which entries an operation does not touch: reads of them must keep
 * returning the acknowledged bytes after a failure. */
static const uint64_t op_stable[OP_COUNT][2] = {
    [OP_OPEN] = {6, 40},
    [OP_APPEND] = {6, 40},
    [OP_SYNC] = {6, 40},
    [OP_TRUNCATE] = {6, 19},
    [OP_REPLACE] = {6, 29},
    [OP_PURGE] = {23, 40},
    [OP_RESET] = {1, 0},
    [OP_HS_SAVE] = {6, 40},
    [OP_CLOSE] = {6, 40},
    [OP_GET] = {6, 40},
    [OP_SCAN] = {6, 40},
    [OP_APPEND_ROLL] = {6, 40},
    [OP_TRUNC_APPEND_SYNC] = {6, 19},
    [OP_PURGE_ALL] = {1, 0}};

#define NTH_TRUNCATE_AT 20u
#define NTH_PURGE_AT 22u
#define NTH_PURGE_TERM 2u
#define NTH_PURGE_ALL_AT 50u
#define NTH_PURGE_ALL_TERM 6u
#define NTH_REPLACE_PENDING 2u

enum source { SRC_VFS, SRC_ALLOC };

struct pass {
	const char *name;
	enum source src;
	int err;
	unsigned mask;
	bool persistent;
	bool torn; /* a failed pwrite leaves half its bytes behind */
};

static const struct pass passes[] = {
    {"EIO once", SRC_VFS, -EIO, TL_FV_ALL, false, false},
    {"ENOSPC once", SRC_VFS, -ENOSPC, TL_FV_ALL, false, false},
    {"EIO sticky", SRC_VFS, -EIO, TL_FV_ALL, true, false},
    {"ENOSPC writes", SRC_VFS, -ENOSPC, TL_FV_PWRITE | TL_FV_TRUNCATE, true,
     false},
    {"EIO torn", SRC_VFS, -EIO, TL_FV_ALL, false, true},
    {"ENOSPC torn", SRC_VFS, -ENOSPC, TL_FV_PWRITE | TL_FV_TRUNCATE, true,
     true},
    {"ENOMEM once", SRC_ALLOC, 0, 0, false, false},
    {"ENOMEM sticky", SRC_ALLOC, 0, 0, true, false},
};

#define NPASSES (sizeof(passes) / sizeof(passes[0]))

/* The acknowledged state every iteration starts from, and what the
 * operations under test do to it. */
struct world {
	char template_dir[512];
	struct tl_model base;
	struct tl_batch appended; /* 41..45, term 4, one call */
	struct tl_batch rolled;	  /* 41..48, term 4, one call each */
	struct tl_batch replaced; /* 30..33, term 5 */
	struct tl_batch reappend; /* 20..24, term 5, after truncate 20 */
	struct rlog_hard_state hs_new;
	struct tl_model scratch;
	struct tl_model cands[NTH_CANDS_MAX];
	size_t ncands;
	uint64_t reached[OP_COUNT][NPASSES];
	uint64_t faults[OP_COUNT][NPASSES];
};

static struct world *world;

static void batch_add_entries(struct tl_batch *dst, const struct tl_batch *src,
			      size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const struct rlog_entry *e = &src->entries[i];
		tl_batch_add(dst, e->index, e->term, e->kind, src->salts[i],
			     e->payload_len);
	}
}

/* Build the template: 1..40 over three terms in 4 KiB segments, purged
 * at 5, and a hard state. */
static void world_build_template(struct world *w)
{
	struct rlog *log = tl_open_dir(w->template_dir, NTH_SEGMENT_BYTES, 0);
	struct tl_batch b;
	tl_batch_init(&b);
	for (uint64_t i = 1; i <= 40; i++) {
		uint64_t term = i <= 10 ? 1 : (i <= 25 ? 2 : 3);
		tl_batch_add(&b, i, term, RLOG_PAYLOAD_COMMAND, (uint32_t)i,
			     100 + (size_t)(i * 37 % 300));
		if (i % 10 == 0) {
			assert_int_equal(rlog_append(log, b.entries, b.n), 0);
			tl_model_append(&w->base, &b);
			tl_batch_clear(&b);
		}
	}
	tl_batch_free(&b);
	assert_int_equal(rlog_sync(log), 0);
	assert_int_equal(rlog_purge(log, 5, 1), 0);
	tl_model_purge(&w->base, 5, 1);
	struct rlog_hard_state hs = {.current_term = 3,
				     .has_vote = true,
				     .voted_for_id = 2,
				     .voted_for_term = 3,
				     .committed = true};
	assert_int_equal(rlog_hard_state_save(log, &hs), 0);
	tl_model_set_hs(&w->base, &hs);
	tl_model_check(log, &w->base);
	assert_int_equal(rlog_close(log), 0);
}

static int world_setup(void **state)
{
	(void)state;
	world = calloc(1, sizeof(*world));
	assert_non_null(world);
	struct world *w = world;
	tl_mkdtemp(w->template_dir, sizeof(w->template_dir), "nth-tpl");
	tl_model_init(&w->base, MODEL_CAP);
	tl_model_init(&w->scratch, MODEL_CAP);
	for (size_t i = 0; i < NTH_CANDS_MAX; i++) {
		tl_model_init(&w->cands[i], MODEL_CAP);
	}
	tl_batch_init(&w->appended);
	tl_batch_init(&w->rolled);
	tl_batch_init(&w->replaced);
	tl_batch_init(&w->reappend);
	world_build_template(w);
	tl_batch_add(&w->appended, 41, 4, RLOG_PAYLOAD_COMMAND, 1, 200);
	tl_batch_add(&w->appended, 42, 4, RLOG_PAYLOAD_NOOP, 0, 0);
	tl_batch_add(&w->appended, 43, 4, RLOG_PAYLOAD_COMMAND, 3, 3000);
	tl_batch_add(&w->appended, 44, 4, RLOG_PAYLOAD_CONFIG, 4, 60);
	tl_batch_add(&w->appended, 45, 4, RLOG_PAYLOAD_COMMAND, 5, 5000);
	for (uint64_t i = 41; i <= 48; i++) {
		tl_batch_add(&w->rolled, i, 4, RLOG_PAYLOAD_COMMAND,
			     (uint32_t)i, 1500 + (size_t)i);
	}
	tl_batch_add(&w->replaced, 30, 5, RLOG_PAYLOAD_COMMAND, 6, 0);
	tl_batch_add(&w->replaced, 31, 5, RLOG_PAYLOAD_NOOP, 0, 0);
	tl_batch_add(&w->replaced, 32, 5, RLOG_PAYLOAD_CONFIG, 7, 90);
	tl_batch_add(&w->replaced, 33, 5, RLOG_PAYLOAD_COMMAND, 8, 4500);
	for (uint64_t i = 20; i <= 24; i++) {
		tl_batch_add(&w->reappend, i, 5, RLOG_PAYLOAD_COMMAND,
			     (uint32_t)(i + 100), 700);
	}
	w->hs_new = (struct rlog_hard_state){.current_term = 4,
					     .has_vote = true,
					     .voted_for_id = 1,
					     .voted_for_term = 4,
					     .committed = false};
	return 0;
}

/* Print the table of N reached, so a reader sees the loops ran. */
static void world_print(const struct world *w)
{
	printf("nth-failure: N at which each operation first succeeded "
	       "(faults injected before it)\n");
	printf("  %-18s", "operation");
	for (size_t pi = 0; pi < NPASSES; pi++) {
		printf(" %-14s", passes[pi].name);
	}
	printf("\n");
	for (size_t op = 0; op < OP_COUNT; op++) {
		if (w->reached[op][0] == 0) {
			continue;
		}
		printf("  %-18s", op_names[op]);
		for (size_t pi = 0; pi < NPASSES; pi++) {
			char cell[32];
			snprintf(cell, sizeof(cell), "%llu (%llu)",
				 (unsigned long long)w->reached[op][pi],
				 (unsigned long long)w->faults[op][pi]);
			printf(" %-14s", cell);
		}
		printf("\n");
	}
	fflush(stdout);
}

static int world_teardown(void **state)
{
	(void)state;
	struct world *w = world;
	world_print(w);
	tl_rmtree(w->template_dir);
	tl_model_free(&w->base);
	tl_model_free(&w->scratch);
	for (size_t i = 0; i < NTH_CANDS_MAX; i++) {
		tl_model_free(&w->cands[i]);
	}
	tl_batch_free(&w->appended);
	tl_batch_free(&w->rolled);
	tl_batch_free(&w->replaced);
	tl_batch_free(&w->reappend);
	free(w);
	world = NULL;
	return 0;
}

/* Add start plus the first k entries of b, for k in [kmin, kmax]. */
static void cands_add_prefixes(struct world *w, const struct tl_model *start,
			       const struct tl_batch *b, size_t kmin,
			       size_t kmax)
{
	struct tl_batch part;
	tl_batch_init(&part);
	for (size_t k = kmin; k <= kmax; k++) {
		assert_true(w->ncands < NTH_CANDS_MAX);
		struct tl_model *c = &w->cands[w->ncands++];
		tl_model_copy(c, start);
		tl_batch_clear(&part);
		batch_add_entries(&part, b, 0, k);
		tl_model_append(c, &part);
	}
	tl_batch_free(&part);
}

/* Add one candidate: the base state with op fully applied. */
static void cands_add_done(struct world *w, enum op op)
{
	assert_true(w->ncands < NTH_CANDS_MAX);
	struct tl_model *c = &w->cands[w->ncands++];
	tl_model_copy(c, &w->base);
	switch (op) {
	case OP_APPEND:
	case OP_SYNC:
		tl_model_append(c, &w->appended);
		break;
	case OP_APPEND_ROLL:
		tl_model_append(c, &w->rolled);
		break;
	case OP_TRUNCATE:
		tl_model_truncate(c, NTH_TRUNCATE_AT);
		break;
	case OP_TRUNC_APPEND_SYNC:
		tl_model_truncate(c, NTH_TRUNCATE_AT);
		tl_model_append(c, &w->reappend);
		break;
	case OP_REPLACE:
		tl_model_replace(c, &w->replaced);
		break;
	case OP_PURGE:
		tl_model_purge(c, NTH_PURGE_AT, NTH_PURGE_TERM);
		break;
	case OP_PURGE_ALL:
		tl_model_purge(c, NTH_PURGE_ALL_AT, NTH_PURGE_ALL_TERM);
		break;
	case OP_RESET:
		tl_model_reset(c);
		break;
	case OP_HS_SAVE:
		tl_model_set_hs(c, &w->hs_new);
		break;
	default:
		break;
	}
}

/* Fill w->cands with the states a reopen may find. done: the operation
 * returned 0 (and buffered ones were then synced without faults). */
static void cands_build(struct world *w, enum op op, bool done)
{
	w->ncands = 0;
	switch (op) {
	case OP_OPEN:
	case OP_GET:
	case OP_SCAN:
		cands_add_prefixes(w, &w->base, &w->appended, 0, 0);
		return;
	case OP_CLOSE:
		/* Close does not sync: any prefix of the appends. */
		cands_add_prefixes(w, &w->base, &w->appended, 0, w->appended.n);
		return;
	case OP_APPEND:
	case OP_SYNC:
		if (!done) {
			cands_add_prefixes(w, &w->base, &w->appended, 0,
					   w->appended.n);
			return;
		}
		break;
	case OP_APPEND_ROLL:
		if (!done) {
			cands_add_prefixes(w, &w->base, &w->rolled, 0,
					   w->rolled.n);
			return;
		}
		break;
	case OP_TRUNC_APPEND_SYNC:
		if (!done) {
			/* Before the truncate, or after it with a prefix of
			 * the new entries; never old entries past 19 mixed
			 * with new ones. */
			cands_add_prefixes(w, &w->base, &w->appended, 0, 0);
			tl_model_copy(&w->scratch, &w->base);
			tl_model_truncate(&w->scratch, NTH_TRUNCATE_AT);
			cands_add_prefixes(w, &w->scratch, &w->reappend, 0,
					   w->reappend.n - 1);
		}
		break;
	case OP_REPLACE:
		if (!done) {
			cands_add_prefixes(w, &w->base, &w->appended, 0,
					   NTH_REPLACE_PENDING);
		}
		break;
	default:
		if (!done) {
			cands_add_prefixes(w, &w->base, &w->appended, 0, 0);
		}
		break;
	}
	cands_add_done(w, op);
}

/* Unfaulted calls that set the stage on the open handle. */
static void op_prepare(struct world *w, struct rlog *log, enum op op)
{
	size_t n = 0;
	if (op == OP_SYNC || op == OP_CLOSE) {
		n = w->appended.n;
	} else if (op == OP_REPLACE) {
		n = NTH_REPLACE_PENDING;
	}
	if (n > 0) {
		assert_int_equal(rlog_append(log, w->appended.entries, n), 0);
	}
}

static int scan_check_cb(void *arg, const struct rlog_entry *entry)
{
	const struct world *w = arg;
	return tl_entry_equals(entry, &w->base, entry->index) ? 0 : 12345;
}

/* The compound operations: several calls, stopping at the first error. */
static int op_run_compound(struct world *w, enum op op, struct rlog *log)
{
	int rc = 0;
	if (op == OP_APPEND_ROLL) {
		for (size_t i = 0; i < w->rolled.n && rc == 0; i++) {
			rc = rlog_append(log, &w->rolled.entries[i], 1);
		}
	} else {
		rc = rlog_truncate(log, NTH_TRUNCATE_AT);
		if (rc == 0) {
			rc = rlog_append(log, w->reappend.entries,
					 w->reappend.n);
		}
	}
	if (rc == 0) {
		rc = rlog_sync(log);
	}
	return rc;
}

/* Run the operation under test. */
static int op_run(struct world *w, enum op op, struct rlog_vfs *vfs,
		  const struct rlog_allocator *alloc, struct rlog **logp)
{
	struct rlog_entry e;
	struct rlog_options opts;
	int rc;
	switch (op) {
	case OP_OPEN:
		rlog_options_init(&opts);
		opts.vfs = vfs;
		opts.segment_size_bytes = NTH_SEGMENT_BYTES;
		opts.allocator = alloc;
		return rlog_open(&opts, logp);
	case OP_APPEND:
		return rlog_append(*logp, w->appended.entries, w->appended.n);
	case OP_SYNC:
		return rlog_sync(*logp);
	case OP_TRUNCATE:
		return rlog_truncate(*logp, NTH_TRUNCATE_AT);
	case OP_REPLACE:
		return rlog_replace(*logp, w->replaced.entries, w->replaced.n);
	case OP_PURGE:
		return rlog_purge(*logp, NTH_PURGE_AT, NTH_PURGE_TERM);
	case OP_PURGE_ALL:
		return rlog_purge(*logp, NTH_PURGE_ALL_AT, NTH_PURGE_ALL_TERM);
	case OP_RESET:
		return rlog_reset(*logp);
	case OP_HS_SAVE:
		return rlog_hard_state_save(*logp, &w->hs_new);
	case OP_CLOSE:
		rc = rlog_close(*logp);
		*logp = NULL;
		return rc;
	case OP_GET:
		rc = rlog_get(*logp, 15, &e);
		if (rc == 0 && !tl_entry_equals(&e, &w->base, 15)) {
			fail_msg("get 15 returned 0 with wrong bytes");
		}
		return rc;
	case OP_SCAN:
		rc = rlog_scan(*logp, 6, 40, scan_check_cb, w);
		if (rc == 12345) {
			fail_msg("scan returned an entry with wrong bytes");
		}
		return rc;
	case OP_APPEND_ROLL:
	case OP_TRUNC_APPEND_SYNC:
		return op_run_compound(w, op, *logp);
	default:
		fail();
	}
	return 0;
}

static int rlog_code_of(const struct pass *p)
{
	if (p->src == SRC_ALLOC) {
		return RLOG_ENOMEM;
	}
	return p->err == -ENOSPC ? RLOG_ENOSPC : RLOG_EIO;
}

static bool rlog_code_known(int rc)
{
	return rc <= RLOG_OK && rc >= RLOG_EVERSION;
}

/* Every entry of the untouched range that the handle still holds reads
 * back as acknowledged. */
static void check_stable_reads(struct world *w, struct rlog *log, enum op op)
{
	uint64_t first = rlog_first_index(log);
	uint64_t last = rlog_last_index(log);
	uint64_t lo = op_stable[op][0] > first ? op_stable[op][0] : first;
	uint64_t hi = op_stable[op][1] < last ? op_stable[op][1] : last;
	for (uint64_t i = lo; i <= hi; i++) {
		struct rlog_entry e;
		int rc = rlog_get(log, i, &e);
		if (rc != 0 || !tl_entry_equals(&e, &w->base, i)) {
			fail_msg("%s: after the failure get %llu gave %d "
				 "or wrong bytes (%s)",
				 op_names[op], (unsigned long long)i, rc,
				 rlog_errmsg(log));
		}
	}
}

/* A poisoned handle refuses every mutating call with EFATAL and changes
 * nothing; reads keep working. */
static void check_poisoned(struct world *w, struct rlog *log, enum op op)
{
	assert_true(rlog_is_poisoned(log));
	uint64_t first = rlog_first_index(log);
	uint64_t last = rlog_last_index(log);
	uint64_t pidx = 0;
	uint64_t pterm = 0;
	rlog_purged(log, &pidx, &pterm);
	check_stable_reads(w, log, op);
	struct rlog_entry e = {
	    .index = last + 1, .term = 100, .kind = RLOG_PAYLOAD_NOOP};
	struct rlog_hard_state hs = {.current_term = 100};
	assert_int_equal(rlog_append(log, &e, 1), RLOG_EFATAL);
	assert_int_equal(rlog_sync(log), RLOG_EFATAL);
	assert_int_equal(rlog_replace(log, &e, 1), RLOG_EFATAL);
	assert_int_equal(rlog_reset(log), RLOG_EFATAL);
	assert_int_equal(rlog_hard_state_save(log, &hs), RLOG_EFATAL);
	if (last >= first) {
		uint64_t term = 0;
		assert_int_equal(rlog_term(log, first, &term), 0);
		assert_int_equal(rlog_truncate(log, last), RLOG_EFATAL);
		assert_int_equal(rlog_purge(log, first, term), RLOG_EFATAL);
	} else {
		assert_int_equal(rlog_purge(log, last + 5, 100), RLOG_EFATAL);
	}
	assert_true(strlen(rlog_errmsg(log)) > 0);
	assert_true(rlog_is_poisoned(log));
	assert_int_equal(rlog_first_index(log), first);
	assert_int_equal(rlog_last_index(log), last);
	uint64_t pidx2 = 0;
	uint64_t pterm2 = 0;
	rlog_purged(log, &pidx2, &pterm2);
	assert_int_equal(pidx2, pidx);
	assert_int_equal(pterm2, pterm);
	check_stable_reads(w, log, op);
}

/* What one iteration injected. */
struct nth_ctx {
	const struct pass *p;
	enum op op;
	uint64_t n;
	unsigned first_kind; /* VFS: kind of the first failed call */
	bool writes_failed;  /* VFS: a poisoning kind failed */
	bool only_zeros;     /* VFS: only writes of zeros ahead failed */
	bool only_seals;     /* VFS: only calls on seal files failed */
};

#define NTH_FAIL(c, ...)                                                       \
	do {                                                                   \
		fprintf(stderr, "%s [%s] N=%llu: ", op_names[(c)->op],         \
			(c)->p->name, (unsigned long long)(c)->n);             \
		fail_msg(__VA_ARGS__);                                         \
	} while (0)

/* Check what a call that met an injected fault returned and left. */
static void check_failed_call(struct world *w, const struct nth_ctx *c, int rc,
			      struct rlog *log)
{
	const char *what = c->p->src == SRC_ALLOC
			       ? "allocation"
			       : tl_failvfs_kind_name(c->first_kind);
	int want = rlog_code_of(c->p);
	if (rc == 0 &&
	    (c->only_seals || (c->only_zeros && want == RLOG_ENOSPC))) {
		/* The zeros written ahead of a small batch are skipped on a
		 * full disk: the append itself fitted and succeeded. A seal
		 * is best effort on any error: without it the next open reads
		 * the segment in full. */
		assert_non_null(log);
		assert_false(rlog_is_poisoned(log));
		check_stable_reads(w, log, c->op);
		return;
	}
	if (rc == 0 || !rlog_code_known(rc)) {
		NTH_FAIL(c, "a failed %s, yet the call returned %d", what, rc);
	}
	bool strict =
	    c->p->src == SRC_ALLOC || (c->first_kind & TL_FV_POISONING) != 0;
	if (strict && rc != want) {
		NTH_FAIL(c, "a failed %s must give %s, got %s", what,
			 rlog_strerror(want), rlog_strerror(rc));
	}
	if (rc != want && rc != RLOG_ECORRUPT && rc != RLOG_EFATAL) {
		NTH_FAIL(c, "a failed %s gave %s", what, rlog_strerror(rc));
	}
	if (c->op == OP_OPEN) {
		assert_null(log);
		assert_true(strlen(rlog_open_errmsg()) > 0);
		return;
	}
	if (c->op == OP_CLOSE) {
		return;
	}
	assert_non_null(log);
	if (strlen(rlog_errmsg(log)) == 0) {
		NTH_FAIL(c, "empty rlog_errmsg after %s", rlog_strerror(rc));
	}
	/* The context names the system errno (rlog.h, rlog_errmsg). */
	char errno_text[32];
	snprintf(errno_text, sizeof(errno_text), "errno %d", -c->p->err);
	if (c->p->src == SRC_VFS && rc == want &&
	    strstr(rlog_errmsg(log), errno_text) == NULL) {
		NTH_FAIL(c, "rlog_errmsg \"%s\" does not name %s",
			 rlog_errmsg(log), errno_text);
	}
	if (c->writes_failed && !rlog_is_poisoned(log)) {
		NTH_FAIL(c, "a failed %s did not poison the handle", what);
	}
	if (rlog_is_poisoned(log)) {
		check_poisoned(w, log, c->op);
	} else {
		check_stable_reads(w, log, c->op);
	}
}

/* Reopen without faults: the directory must hold one of the candidate
 * states, and the log must take the next append. */
static void check_reopen(struct world *w, const struct nth_ctx *c,
			 const char *dir)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = dir;
	opts.segment_size_bytes = NTH_SEGMENT_BYTES;
	struct rlog *log = NULL;
	int rc = rlog_open(&opts, &log);
	if (rc != 0) {
		NTH_FAIL(c, "reopen failed: %s: %s", rlog_strerror(rc),
			 rlog_open_errmsg());
	}
	static char why[NTH_CANDS_MAX][512];
	size_t match = w->ncands;
	for (size_t i = 0; i < w->ncands && match == w->ncands; i++) {
		if (tl_model_matches(log, &w->cands[i], why[i],
				     sizeof(why[i]))) {
			match = i;
		}
	}
	if (match == w->ncands) {
		for (size_t i = 0; i < w->ncands; i++) {
			fprintf(stderr, "  candidate %zu: %s\n", i, why[i]);
		}
		NTH_FAIL(c, "the reopened log matches no valid state");
	}
	/* The recovered log takes new entries (also after whatever torn
	 * bytes the failure left) and keeps them across one more reopen. */
	tl_model_copy(&w->scratch, &w->cands[match]);
	struct tl_batch more;
	tl_batch_init(&more);
	for (uint64_t i = 1; i <= 3; i++) {
		tl_batch_add(&more, w->scratch.last + i, 9,
			     RLOG_PAYLOAD_COMMAND, 99, 700);
	}
	rc = rlog_append(log, more.entries, more.n);
	if (rc == 0) {
		rc = rlog_sync(log);
	}
	if (rc != 0) {
		NTH_FAIL(c, "append after reopen: %s: %s", rlog_strerror(rc),
			 rlog_errmsg(log));
	}
	tl_model_append(&w->scratch, &more);
	tl_batch_free(&more);
	assert_int_equal(rlog_close(log), 0);
	log = NULL;
	rc = rlog_open(&opts, &log);
	if (rc != 0) {
		NTH_FAIL(c, "second reopen failed: %s: %s", rlog_strerror(rc),
			 rlog_open_errmsg());
	}
	if (!tl_model_matches(log, &w->scratch, why[0], sizeof(why[0]))) {
		NTH_FAIL(c, "after append and second reopen: %s", why[0]);
	}
	assert_int_equal(rlog_close(log), 0);
}

static void nth_arm(const struct nth_ctx *c, struct tl_failvfs *fv,
		    struct fail_alloc *fa)
{
	tl_failvfs_set_torn(fv, c->p->torn);
	if (c->p->src == SRC_ALLOC) {
		fa_arm(fa, c->n, c->p->persistent);
	} else if (c->p->persistent) {
		tl_failvfs_arm_persistent(fv, c->n, c->p->err, c->p->mask);
	} else {
		tl_failvfs_arm(fv, c->n, c->p->err, c->p->mask);
	}
}

/* Run the armed operation; returns whether a fault fired. */
static bool nth_run(struct world *w, struct nth_ctx *c, struct tl_failvfs *fv,
		    struct fail_alloc *fa, struct rlog **logp, int *rc)
{
	nth_arm(c, fv, fa);
	*rc = op_run(w, c->op, tl_failvfs_vfs(fv), &fa->iface, logp);
	tl_failvfs_disarm(fv);
	fa->fail_at = 0; /* disarm, keeping fired */
	if (c->p->src == SRC_ALLOC) {
		return fa->fired;
	}
	c->first_kind = tl_failvfs_fired_kind(fv);
	c->writes_failed = (tl_failvfs_fired_mask(fv) & TL_FV_POISONING) != 0;
	c->only_zeros = tl_failvfs_fired_only_zero_writes(fv);
	c->only_seals = tl_failvfs_fired_only_seals(fv);
	return tl_failvfs_fired(fv);
}

/* One iteration: copy the template, fail the nth VFS call or allocation
 * of op, check. Returns true when op succeeded without a fault. */
static bool nth_iteration(struct world *w, struct nth_ctx *c, uint64_t *faults)
{
	char dir[512];
	tl_mkdtemp(dir, sizeof(dir), "nth");
	tl_copydir(w->template_dir, dir);
	struct rlog_vfs *inner = NULL;
	struct tl_failvfs *fv = NULL;
	struct fail_alloc fa;
	fa_init(&fa);
	assert_int_equal(rlog_vfs_posix_new(dir, &inner), 0);
	assert_int_equal(tl_failvfs_new(inner, &fv), 0);
	struct rlog *log = NULL;
	if (c->op != OP_OPEN) {
		struct rlog_options opts;
		rlog_options_init(&opts);
		opts.vfs = tl_failvfs_vfs(fv);
		opts.segment_size_bytes = NTH_SEGMENT_BYTES;
		opts.allocator = &fa.iface;
		assert_int_equal(rlog_open(&opts, &log), 0);
		op_prepare(w, log, c->op);
	}
	int rc = 0;
	bool fired = nth_run(w, c, fv, &fa, &log, &rc);
	bool done = !fired && rc == 0;
	if (fired) {
		(*faults)++;
		check_failed_call(w, c, rc, log);
	} else if (rc != 0) {
		NTH_FAIL(c, "no fault fired but got %s: %s", rlog_strerror(rc),
			 log != NULL ? rlog_errmsg(log) : rlog_open_errmsg());
	} else if (c->op == OP_APPEND || c->op == OP_TRUNCATE) {
		assert_int_equal(rlog_sync(log), 0);
	}
	int close_rc = rlog_close(log);
	assert_true(rlog_code_known(close_rc));
	if (done && c->op != OP_CLOSE) {
		assert_int_equal(close_rc, 0);
	}
	if (tl_failvfs_open_files(fv) != 0 || fa.live != 0) {
		NTH_FAIL(c, "after close: %llu files open, %lld blocks live",
			 (unsigned long long)tl_failvfs_open_files(fv),
			 (long long)fa.live);
	}
	tl_failvfs_free(fv);
	rlog_vfs_posix_free(inner);
	cands_build(w, c->op, done);
	check_reopen(w, c, dir);
	tl_rmtree(dir);
	return done;
}

static void nth_loop(enum op op)
{
	struct world *w = world;
	for (size_t pi = 0; pi < NPASSES; pi++) {
		struct nth_ctx c = {.p = &passes[pi], .op = op, .n = 1};
		uint64_t faults = 0;
		while (!nth_iteration(w, &c, &faults)) {
			c.n++;
			if (c.n > NTH_MAX) {
				NTH_FAIL(&c, "still failing at N=%u", NTH_MAX);
			}
		}
		w->reached[op][pi] = c.n;
		w->faults[op][pi] = faults;
		printf("nth-failure: %-18s %-14s succeeded at N=%-4llu "
		       "(%llu faults injected)\n",
		       op_names[op], passes[pi].name, (unsigned long long)c.n,
		       (unsigned long long)faults);
		fflush(stdout);
	}
}

/* Failing the Nth VFS call or allocation of rlog_open gives a typed
 * error, no handle, and leaves the directory as it was. */
static void nth_open_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_OPEN);
}

/* Failing the Nth call of rlog_append poisons on a failed write and
 * reopens to a prefix of the appended entries. */
static void nth_append_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_APPEND);
}

/* Failing the Nth call of rlog_sync poisons and reopens to a prefix of
 * the unsynced appends. */
static void nth_sync_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_SYNC);
}

/* Failing the Nth call of rlog_truncate reopens to the old log or the
 * truncated one, never anything in between. */
static void nth_truncate_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_TRUNCATE);
}

/* Failing the Nth call of rlog_replace reopens to the old suffix or the
 * whole new one. */
static void nth_replace_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_REPLACE);
}

/* Failing the Nth call of rlog_purge reopens to the old boundary or the
 * new one, with every entry above it. */
static void nth_purge_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_PURGE);
}

/* Failing the Nth call of a purge past the last entry reopens to the old
 * log or the empty one at the new boundary. */
static void nth_purge_past_end_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_PURGE_ALL);
}

/* Failing the Nth call of rlog_reset reopens to the old log or an empty
 * one, the hard state kept either way. */
static void nth_reset_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_RESET);
}

/* Failing the Nth call of rlog_hard_state_save reopens to the old or the
 * new hard state. */
static void nth_hard_state_save_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_HS_SAVE);
}

/* Failing the Nth call of rlog_close still frees the handle and closes
 * every file. */
static void nth_close_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_CLOSE);
}

/* Failing the Nth call of rlog_get gives a typed error and reads keep
 * working. */
static void nth_get_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_GET);
}

/* Failing the Nth call of rlog_scan gives a typed error and reads keep
 * working. */
static void nth_scan_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_SCAN);
}

/* Failing the Nth call of eight one-entry appends that roll segments,
 * then a sync, reopens to a prefix of them. */
static void nth_append_roll_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_APPEND_ROLL);
}

/* Failing the Nth call of truncate, re-append, sync reopens to the old
 * log or the truncated one plus a prefix of the new entries. */
static void nth_truncate_append_sync_failure_leaves_valid_state(void **state)
{
	(void)state;
	nth_loop(OP_TRUNC_APPEND_SYNC);
}

/* Opening an existing log writes nothing: no pwrite, truncate, rename or
 * remove reaches the VFS (syncing what is already there is allowed). */
static void nth_open_writes_nothing(void **state)
{
	(void)state;
	struct world *w = world;
	char dir[512];
	tl_mkdtemp(dir, sizeof(dir), "nth-open");
	tl_copydir(w->template_dir, dir);
	struct rlog_vfs *inner = NULL;
	struct tl_failvfs *fv = NULL;
	assert_int_equal(rlog_vfs_posix_new(dir, &inner), 0);
	assert_int_equal(tl_failvfs_new(inner, &fv), 0);
	tl_failvfs_arm(fv, UINT64_MAX, -EIO,
		       TL_FV_PWRITE | TL_FV_TRUNCATE | TL_FV_RENAME |
			   TL_FV_REMOVE);
	struct rlog *log = NULL;
	assert_int_equal(
	    tl_open_vfs(tl_failvfs_vfs(fv), NTH_SEGMENT_BYTES, &log), 0);
	assert_int_equal(tl_failvfs_count(fv), 0);
	printf("nth-failure: open of the template made %llu VFS calls, none "
	       "of them writes\n",
	       (unsigned long long)tl_failvfs_count_all(fv));
	tl_model_check(log, &w->base);
	assert_int_equal(tl_failvfs_count(fv), 0);
	assert_int_equal(rlog_close(log), 0);
	tl_failvfs_free(fv);
	rlog_vfs_posix_free(inner);
	tl_rmtree(dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest args[] = {
	    T(errors_append_not_contiguous_fails_unchanged),
	    T(errors_append_decreasing_term_fails_unchanged),
	    T(errors_payload_over_cap_fails_unchanged),
	    T(errors_batch_over_caps_fails_unchanged),
	    T(errors_open_bad_options_fails),
	    T(errors_null_args_fail_unchanged),
	    T(errors_bad_kind_fails_unchanged),
	    T(errors_truncate_out_of_range_fails_unchanged),
	    T(errors_replace_invalid_fails_unchanged),
	    T(errors_purge_term_mismatch_fails_unchanged),
	    T(errors_second_open_is_busy),
	    T(errors_other_process_open_is_busy),
	    T(errors_purge_past_end_installs_boundary),
	    cmocka_unit_test(errors_strerror_is_distinct),
	    T(errors_errmsg_set_after_error),
	    T(errors_allocator_sees_every_block),
	};
	const struct CMUnitTest nth[] = {
	    cmocka_unit_test(nth_open_writes_nothing),
	    cmocka_unit_test(nth_open_failure_leaves_valid_state),
	    cmocka_unit_test(nth_append_failure_leaves_valid_state),
	    cmocka_unit_test(nth_sync_failure_leaves_valid_state),
	    cmocka_unit_test(nth_truncate_failure_leaves_valid_state),
	    cmocka_unit_test(nth_replace_failure_leaves_valid_state),
	    cmocka_unit_test(nth_purge_failure_leaves_valid_state),
	    cmocka_unit_test(nth_purge_past_end_failure_leaves_valid_state),
	    cmocka_unit_test(nth_reset_failure_leaves_valid_state),
	    cmocka_unit_test(nth_hard_state_save_failure_leaves_valid_state),
	    cmocka_unit_test(nth_close_failure_leaves_valid_state),
	    cmocka_unit_test(nth_get_failure_leaves_valid_state),
	    cmocka_unit_test(nth_scan_failure_leaves_valid_state),
	    cmocka_unit_test(nth_append_roll_failure_leaves_valid_state),
	    cmocka_unit_test(
		nth_truncate_append_sync_failure_leaves_valid_state),
	};
	int failed =
	    cmocka_run_group_tests_name("api_errors", args, NULL, NULL);
	failed += cmocka_run_group_tests_name("nth_failure", nth, world_setup,
					      world_teardown);
	return failed;
}
