/*
 * A full disk, for real. A child process appends and syncs until the
 * filesystem refuses more bytes, then the test checks the contract:
 *   - the failing call returns RLOG_ENOSPC, rlog_errmsg names the errno,
 *     and the handle is poisoned (RLOG_EFATAL on every later mutating call);
 *   - a reopen while the disk is still full either works and returns
 *     every acknowledged entry byte-identical and the last acknowledged
 *     hard state, or, when recovery needs space to make the tail durable,
 *     fails with RLOG_ENOSPC (the report says which);
 *   - once space is available again a reopen continues normally: appends
 *     are acknowledged and survive one more reopen.
 *
 * Two ways to fill a disk:
 *   - RLIMIT_FSIZE (always available): the child lowers its file-size limit
 *     and ignores SIGXFSZ, so a write past the limit fails with EFBIG, which
 *     the engine maps to RLOG_ENOSPC. Raising the limit frees "space".
 *   - a small tmpfs (needs CAP_SYS_ADMIN: the child mounts it in a private
 *     mount namespace, so nothing outside the test sees it): a true ENOSPC
 *     from the kernel. Remounting with a larger size frees space. Skipped
 *     where mounting is not permitted (unprivileged CI containers).
 * The child reports over a pipe; the parent asserts on the reports, and
 * for RLIMIT_FSIZE also reopens the directory itself, outside the limited
 * process, and checks every acknowledged entry again.
 */
#include "testlib.h"
#include "workload.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define FD_BATCHES_MAX 200000u
#define FD_ENTRIES_PER_BATCH_MAX 4u
#define FD_RLIMIT_BYTES (96u * 1024u)
#define FD_RLIMIT_SEGMENT_BYTES (1024u * 1024u)
#define FD_TMPFS_SIZE "size=256k"
#define FD_TMPFS_BIGGER "size=4m"
#define FD_TMPFS_SEGMENT_BYTES (64u * 1024u)
#define FD_EXIT_SKIP 77

enum fd_kind {
	FD_ACK = 1, /* value: last index acknowledged */
	FD_HS,	    /* value: term of the hard state acknowledged */
	FD_FULL,    /* rc: the code of the call that hit the full disk */
	FD_CHECK,   /* rc: 0 or 1 (a broken promise, text says which) */
	FD_DONE
};

struct fd_msg {
	uint32_t kind;
	int32_t rc;
	uint64_t value;
	char text[240];
};

static uint64_t term_of(uint64_t index)
{
	return 1 + index / 50;
}

/* ---- The child: plain checks, reported over the pipe. ---- */

struct child {
	int fd;
	const char *dir;
	uint64_t segment_bytes;
	uint64_t acked; /* last index acknowledged */
	uint64_t hs;	/* term of the last hard state acknowledged */
	int failures;
};

static void child_send(struct child *c, uint32_t kind, int rc, uint64_t value,
		       const char *text)
{
	struct fd_msg m;
	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.rc = rc;
	m.value = value;
	snprintf(m.text, sizeof(m.text), "%s", text != NULL ? text : "");
	if (write(c->fd, &m, sizeof(m)) != (ssize_t)sizeof(m)) {
		_exit(4);
	}
}

/* Report one check; a false cond counts as a broken promise. */
static void child_check(struct child *c, bool cond, const char *what,
			const char *detail)
{
	char text[240];
	snprintf(text, sizeof(text), "%s%s%s", what, detail ? ": " : "",
		 detail ? detail : "");
	if (!cond) {
		c->failures++;
	}
	child_send(c, FD_CHECK, cond ? 0 : 1, 0, text);
}

static int child_open(struct child *c, struct rlog **log)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = c->dir;
	opts.segment_size_bytes = c->segment_bytes;
	int rc = rlog_open(&opts, log);
	child_check(c, rc == 0, "open", rc ? rlog_open_errmsg() : NULL);
	return rc;
}

static int child_append_batch(struct rlog *log, uint64_t batch)
{
	struct rlog_entry e[FD_ENTRIES_PER_BATCH_MAX];
	static uint8_t bufs[FD_ENTRIES_PER_BATCH_MAX][WL_PAYLOAD_MAX_BYTES];
	size_t n = 1 + (size_t)(batch % FD_ENTRIES_PER_BATCH_MAX);
	uint64_t next = rlog_last_index(log) + 1;
	for (size_t i = 0; i < n; i++) {
		wl_entry(&e[i], bufs[i], next + i, term_of(next + i));
	}
	return rlog_append(log, e, n);
}

/* Append, sync and save hard state until a call fails; report every
 * acknowledgement. Returns the failing call's code (0: batches ran out). */
static int child_fill(struct child *c, struct rlog *log, uint64_t batches,
		      const char **what)
{
	for (uint64_t b = 0; b < batches; b++) {
		*what = "append";
		int rc = child_append_batch(log, b);
		if (rc == 0) {
			*what = "sync";
			rc = rlog_sync(log);
		}
		if (rc != 0) {
			return rc;
		}
		c->acked = rlog_last_index(log);
		child_send(c, FD_ACK, 0, c->acked, NULL);
		if (b % 4 != 3) {
			continue;
		}
		uint64_t term = term_of(c->acked);
		struct rlog_hard_state hs = wl_hard_state(term);
		*what = "hard_state_save";
		rc = rlog_hard_state_save(log, &hs);
		if (rc != 0) {
			return rc;
		}
		c->hs = term;
		child_send(c, FD_HS, 0, term, NULL);
	}
	return 0;
}

/* Every acknowledged entry and the hard state, checked in the open log. */
static void child_verify(struct child *c, struct rlog *log, const char *when)
{
	char detail[200] = "";
	bool ok =
	    rlog_first_index(log) == 1 && rlog_last_index(log) >= c->acked;
	for (uint64_t i = 1; ok && i <= rlog_last_index(log); i++) {
		struct rlog_entry e;
		int rc = rlog_get(log, i, &e);
		if (rc != 0 || !wl_entry_ok(&e, i, term_of(i))) {
			snprintf(detail, sizeof(detail), "entry %llu: %s",
				 (unsigned long long)i,
				 rc != 0 ? rlog_errmsg(log) : "bytes differ");
			ok = false;
		}
	}
	struct rlog_hard_state hs;
	int rc = rlog_hard_state_load(log, &hs);
	if (ok && c->hs > 0 &&
	    (rc != 0 || hs.current_term < c->hs || !wl_hard_state_ok(&hs))) {
		snprintf(detail, sizeof(detail), "hard state: %s, term %llu",
			 rlog_strerror(rc),
			 (unsigned long long)hs.current_term);
		ok = false;
	}
	char what[80];
	snprintf(what, sizeof(what), "%s: acknowledged entries 1..%llu intact",
		 when, (unsigned long long)c->acked);
	child_check(c, ok, what, ok ? NULL : detail);
}

/* The handle that hit the full disk: typed, named, poisoned. */
static void child_check_full(struct child *c, struct rlog *log, int rc,
			     const char *what, const char *errno_text)
{
	char text[240];
	snprintf(text, sizeof(text), "%s: %s", what, rlog_errmsg(log));
	child_send(c, FD_FULL, rc, c->acked, text);
	child_check(c, rc == RLOG_ENOSPC, "the code is RLOG_ENOSPC",
		    rlog_strerror(rc));
	child_check(c, strstr(rlog_errmsg(log), errno_text) != NULL,
		    "rlog_errmsg names the errno", errno_text);
	child_check(c, rlog_is_poisoned(log), "the handle is poisoned", NULL);
	struct rlog_hard_state hs = wl_hard_state(1000);
	bool fatal = child_append_batch(log, 0) == RLOG_EFATAL &&
		     rlog_sync(log) == RLOG_EFATAL &&
		     rlog_hard_state_save(log, &hs) == RLOG_EFATAL &&
		     rlog_purge(log, 1, term_of(1)) == RLOG_EFATAL;
	child_check(c, fatal, "later mutating calls give RLOG_EFATAL", NULL);
}

/* After space came back: reopen, verify, append more, reopen, verify. */
static void child_after_space(struct child *c)
{
	struct rlog *log = NULL;
	if (child_open(c, &log) != 0) {
		return;
	}
	child_verify(c, log, "space back, reopen");
	const char *what = "";
	int rc = child_fill(c, log, 8, &what);
	child_check(c, rc == 0, "space back: appends acknowledged",
		    rc ? rlog_errmsg(log) : NULL);
	(void)rlog_close(log);
	if (child_open(c, &log) != 0) {
		return;
	}
	child_verify(c, log, "space back, second reopen");
	(void)rlog_close(log);
}

/* Fill the disk, check the failure, reopen while full; returns false when
 * the disk never filled. */
static bool child_until_full(struct child *c, const char *errno_text)
{
	struct rlog *log = NULL;
	if (child_open(c, &log) != 0) {
		return false;
	}
	const char *what = "";
	int rc = child_fill(c, log, FD_BATCHES_MAX, &what);
	child_check(c, rc != 0, "the disk filled up", NULL);
	if (rc == 0) {
		(void)rlog_close(log);
		return false;
	}
	child_check_full(c, log, rc, what, errno_text);
	(void)rlog_close(log);
	/* Still full. Recovery may need space (it moves bytes no sync
	 * vouches for into a new segment): it either opens with every
	 * acknowledged entry, or refuses with a typed RLOG_ENOSPC and must
	 * then leave the directory as it was for the reopen with space. */
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = c->dir;
	opts.segment_size_bytes = c->segment_bytes;
	rc = rlog_open(&opts, &log);
	if (rc == 0) {
		child_check(c, true, "disk still full: reopen works", NULL);
		child_verify(c, log, "disk still full, reopen");
		(void)rlog_close(log);
	} else {
		child_check(c, rc == RLOG_ENOSPC,
			    "disk still full: reopen refused with ENOSPC",
			    rlog_open_errmsg());
	}
	return true;
}

static void child_rlimit(struct child *c)
{
	struct rlimit old;
	if (getrlimit(RLIMIT_FSIZE, &old) != 0) {
		_exit(5);
	}
	struct rlimit lim = {.rlim_cur = FD_RLIMIT_BYTES,
			     .rlim_max = old.rlim_max};
	if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
	    setrlimit(RLIMIT_FSIZE, &lim) != 0) {
		_exit(5);
	}
	if (child_until_full(c, "EFBIG (errno 27)")) {
		lim.rlim_cur = old.rlim_max;
		child_check(c, setrlimit(RLIMIT_FSIZE, &lim) == 0,
			    "raise RLIMIT_FSIZE", NULL);
		child_after_space(c);
	}
}

static void child_tmpfs(struct child *c, const char *mnt)
{
	/* A private mount namespace: the tmpfs exists only for this child
	 * and vanishes with it. */
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("rlog-full-disk", mnt, "tmpfs", 0, FD_TMPFS_SIZE) != 0) {
		_exit(FD_EXIT_SKIP);
	}
	if (child_until_full(c, "ENOSPC (errno 28)")) {
		int rc = mount(NULL, mnt, NULL, MS_REMOUNT, FD_TMPFS_BIGGER);
		child_check(c, rc == 0, "remount the tmpfs larger",
			    rc ? strerror(errno) : NULL);
		child_after_space(c);
	}
	(void)umount2(mnt, MNT_DETACH);
}

/* ---- The parent. ---- */

struct report {
	uint64_t acked;
	uint64_t hs;
	uint64_t checks;
	int full_rc;
	char full_text[240];
	bool full;
};

/* Fork a child that fills the disk (tmpfs or RLIMIT_FSIZE), collect its
 * reports, and fail on any broken promise. Returns false when the child
 * could not mount and asked to be skipped. */
static bool run_child(struct child *c, const char *mnt, bool tmpfs,
		      struct report *rep)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		c->fd = fds[1];
		if (tmpfs) {
			child_tmpfs(c, mnt);
		} else {
			child_rlimit(c);
		}
		child_send(c, FD_DONE, c->failures, 0, NULL);
		_exit(c->failures == 0 ? 0 : 1);
	}
	close(fds[1]);
	memset(rep, 0, sizeof(*rep));
	int broken = 0;
	bool done = false;
	struct fd_msg m;
	while (read(fds[0], &m, sizeof(m)) == (ssize_t)sizeof(m)) {
		switch (m.kind) {
		case FD_ACK:
			rep->acked = m.value;
			break;
		case FD_HS:
			rep->hs = m.value;
			break;
		case FD_FULL:
			rep->full = true;
			rep->full_rc = m.rc;
			snprintf(rep->full_text, sizeof(rep->full_text), "%s",
				 m.text);
			break;
		case FD_CHECK:
			rep->checks++;
			printf("  %s: %s\n", m.rc == 0 ? "ok" : "BROKEN",
			       m.text);
			if (m.rc != 0) {
				broken++;
			}
			break;
		case FD_DONE:
			done = true;
			break;
		default:
			fail_msg("bad report kind %u", m.kind);
		}
	}
	close(fds[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == FD_EXIT_SKIP) {
		return false;
	}
	assert_int_equal(broken, 0);
	assert_true(done);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(rep->full);
	printf("full disk (%s): acknowledged 1..%llu, hs term %llu, then %s "
	       "(%s); %llu checks passed\n",
	       tmpfs ? "tmpfs" : "RLIMIT_FSIZE", (unsigned long long)rep->acked,
	       (unsigned long long)rep->hs, rlog_strerror(rep->full_rc),
	       rep->full_text, (unsigned long long)rep->checks);
	fflush(stdout);
	return true;
}

/* With RLIMIT_FSIZE below the segment size, an append fails with
 * RLOG_ENOSPC (EFBIG) and poisons the handle, a reopen under the limit
 * keeps every acknowledged entry, and after the limit is raised the log
 * continues; the parent then checks the directory again from outside. */
static void full_disk_rlimit_fsize_enospc_then_recovers(void **state)
{
	(void)state;
	char dir[512];
	tl_mkdtemp(dir, sizeof(dir), "full-rlimit");
	struct child c = {.dir = dir, .segment_bytes = FD_RLIMIT_SEGMENT_BYTES};
	struct report rep;
	assert_true(run_child(&c, NULL, false, &rep));
	/* The parent never had a limit: its reopen sees what the child
	 * acknowledged last, before and after the full disk. */
	struct rlog *log = tl_open_dir(dir, FD_RLIMIT_SEGMENT_BYTES, 0);
	assert_int_equal(rlog_first_index(log), 1);
	assert_true(rlog_last_index(log) >= rep.acked);
	for (uint64_t i = 1; i <= rlog_last_index(log); i++) {
		struct rlog_entry e;
		assert_int_equal(rlog_get(log, i, &e), 0);
		assert_true(wl_entry_ok(&e, i, term_of(i)));
	}
	struct rlog_hard_state hs;
	assert_int_equal(rlog_hard_state_load(log, &hs), 0);
	assert_true(hs.current_term >= rep.hs);
	assert_true(wl_hard_state_ok(&hs));
	assert_int_equal(rlog_close(log), 0);
	tl_rmtree(dir);
}

/* On a 256 KiB tmpfs (skipped without the privilege to mount) the
 * kernel's own ENOSPC gives RLOG_ENOSPC and a poisoned handle, a reopen on
 * the still-full disk loses nothing, and after a remount with more space
 * the log continues. */
static void full_disk_tmpfs_enospc_then_recovers(void **state)
{
	(void)state;
	char mnt[512];
	tl_mkdtemp(mnt, sizeof(mnt), "full-tmpfs");
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/log", mnt);
	struct child c = {.dir = dir, .segment_bytes = FD_TMPFS_SEGMENT_BYTES};
	struct report rep;
	bool ran = run_child(&c, mnt, true, &rep);
	rmdir(mnt);
	if (!ran) {
		printf("full disk (tmpfs): mounting not permitted here, "
		       "skipped\n");
		skip();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(full_disk_rlimit_fsize_enospc_then_recovers),
	    cmocka_unit_test(full_disk_tmpfs_enospc_then_recovers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
