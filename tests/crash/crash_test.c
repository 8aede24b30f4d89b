/*
 * Real process crashes. A child process works on one log directory through
 * the POSIX backend and tells its parent over a pipe what it is about to do
 * (BEGIN, with every argument) and what returned 0 (DONE); the parent kills
 * it with SIGKILL at a pseudo-random moment, reopens the directory and
 * checks that it holds a state the contract (rlog.h, "Durability") allows:
 *   - everything acknowledged (DONE) is there, byte-identical: an entry's
 *     bytes are derived from its index and term (workload.h), and the
 *     parent's model knows the term of every index;
 *   - of the unit in flight at the kill, either nothing or all of it for
 *     replace, purge, reset and hard-state save (atomic and durable), and a
 *     prefix, entry by entry, for append + sync and truncate + append + sync
 *     (buffered until the sync returns);
 *   - nothing else: no hole, no resurrected entry, no other boundary.
 * The matching state becomes the model, and the next child continues from
 * the recovered last index. The log is never recreated: 200 kills per test
 * pile up on one directory. A third test (builds with the libfiu points)
 * kills the child right before each system call of each operation in turn.
 *
 * Determinism: a fixed seed (CRASH_SEED) drives every choice, the parent's
 * (how many acknowledgements or which BEGIN to wait for, and then a delay in
 * microseconds before SIGKILL) and the child's (which unit, its arguments).
 * The schedule is therefore fixed; where the kill lands inside a system
 * call still varies with real timing (disk latency, scheduling), which is
 * inherent to killing real processes. Every failure prints the seed and the
 * iteration; the statistics show where the kills landed.
 */
#include "testlib.h"
#include "workload.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef RLOG_FAULT_INJECTION
#include <fiu-control.h>
#include <fiu.h>
#endif

#define CRASH_SEED 0x5EED2024u
#define CRASH_ITERATIONS 200u
/* Segment sizes: the append test grows the log to thousands of entries
 * over a few hundred files; the mixed test keeps it short, so it uses the
 * smallest segments to start (and remove) files often. */
#define CRASH_APPEND_SEGMENT_BYTES (16u * 1024u)
#define CRASH_OPS_SEGMENT_BYTES 4096u
/* The syscall-boundary test: most kills per target operation. */
#define CRASH_SYSCALL_N_MAX 300u
/* The child runs at most this many units; the parent kills it long before. */
#define CHILD_UNITS_MAX 100000u
#define BATCH_ENTRIES_MAX 4u
/* How long the parent waits for one message before giving up. */
#define MSG_TIMEOUT_MS 30000
#define CANDS_MAX (BATCH_ENTRIES_MAX + 3u)

/* ---- The pipe protocol. ---- */

enum msg_kind { MSG_READY = 1, MSG_BEGIN, MSG_DONE, MSG_ERROR };

enum unit_kind {
	U_APPEND,   /* a = first index, b = entries, c = term; then sync */
	U_TRUNCATE, /* truncate at a, append b entries of term c, sync */
	U_REPLACE,  /* replace from a with b entries of term c */
	U_PURGE,    /* purge through a, whose term is c */
	U_RESET,    /* reset */
	U_HS,	    /* save the hard state of term c */
	U_COUNT
};

static const char *const unit_names[U_COUNT] = {
    "append+sync", "truncate+append+sync", "replace", "purge",
    "reset",	   "hard_state_save"};

/* One message; smaller than PIPE_BUF, so every write is atomic and a kill
 * never leaves half a message in the pipe. */
struct msg {
	uint32_t kind;
	uint32_t unit;
	uint64_t a;
	uint64_t b;
	uint64_t c;
	char text[232];
};

_Static_assert(sizeof(struct msg) < 512, "a message fits PIPE_BUF");

/* ---- The model of the log. ---- */

struct model {
	uint64_t purge_index;
	uint64_t purge_term;
	uint64_t last;
	uint64_t *terms; /* terms[i]: term of entry i, for i in [first, last] */
	size_t cap;	 /* terms can hold indexes 0 .. cap - 1 */
	bool has_hs;
	uint64_t hs_term;
};

static void model_reserve(struct model *m, uint64_t index)
{
	if (index < m->cap) {
		return;
	}
	size_t cap = m->cap ? m->cap : 1024;
	while (cap <= index) {
		cap *= 2;
	}
	m->terms = realloc(m->terms, cap * sizeof(*m->terms));
	assert_non_null(m->terms);
	memset(m->terms + m->cap, 0, (cap - m->cap) * sizeof(*m->terms));
	m->cap = cap;
}

static void model_copy(struct model *dst, const struct model *src)
{
	uint64_t *terms = dst->terms;
	size_t cap = dst->cap;
	*dst = *src;
	dst->terms = terms;
	dst->cap = cap;
	model_reserve(dst, src->last + 1);
	memcpy(dst->terms, src->terms,
	       (size_t)(src->last + 1) * sizeof(*terms));
}

static void model_free(struct model *m)
{
	free(m->terms);
	memset(m, 0, sizeof(*m));
}

static void model_append(struct model *m, uint64_t first, uint64_t n,
			 uint64_t term)
{
	assert_int_equal(first, m->last + 1);
	model_reserve(m, first + n);
	for (uint64_t i = 0; i < n; i++) {
		m->terms[first + i] = term;
	}
	m->last = first + n - 1;
}

static void model_truncate(struct model *m, uint64_t from)
{
	assert_true(from > m->purge_index && from <= m->last + 1);
	m->last = from - 1;
}

static void model_purge(struct model *m, uint64_t index, uint64_t term)
{
	if (index <= m->purge_index) {
		return;
	}
	m->purge_index = index;
	m->purge_term = term;
	if (index >= m->last) {
		m->last = index;
	}
}

static void model_reset(struct model *m)
{
	m->purge_index = 0;
	m->purge_term = 0;
	m->last = 0;
}

/* Apply a unit, with only the first k of its new entries for the
 * buffered ones (k == b: all of it). */
static void model_apply(struct model *m, const struct msg *u, uint64_t k)
{
	switch (u->unit) {
	case U_APPEND:
		model_append(m, u->a, k, u->c);
		break;
	case U_TRUNCATE:
		model_truncate(m, u->a);
		model_append(m, u->a, k, u->c);
		break;
	case U_REPLACE:
		model_truncate(m, u->a);
		model_append(m, u->a, u->b, u->c);
		break;
	case U_PURGE:
		model_purge(m, u->a, u->c);
		break;
	case U_RESET:
		model_reset(m);
		break;
	case U_HS:
		m->has_hs = true;
		m->hs_term = u->c;
		break;
	default:
		fail_msg("unknown unit %u", u->unit);
	}
}

/* Read the whole reopened log into *m, checking that every entry holds
 * exactly the bytes derived from its own index and term and that the hard
 * state is whole. Returns false with why filled on damage. */
static bool model_read(struct rlog *log, struct model *m, char *why,
		       size_t why_len)
{
	rlog_purged(log, &m->purge_index, &m->purge_term);
	m->last = rlog_last_index(log);
	if (rlog_first_index(log) != m->purge_index + 1) {
		snprintf(why, why_len, "first index %llu, purge index %llu",
			 (unsigned long long)rlog_first_index(log),
			 (unsigned long long)m->purge_index);
		return false;
	}
	model_reserve(m, m->last + 1);
	for (uint64_t i = m->purge_index + 1; i <= m->last; i++) {
		struct rlog_entry e;
		int rc = rlog_get(log, i, &e);
		if (rc != 0) {
			snprintf(why, why_len, "get %llu: %s: %s",
				 (unsigned long long)i, rlog_strerror(rc),
				 rlog_errmsg(log));
			return false;
		}
		if (!wl_entry_ok(&e, i, e.term)) {
			snprintf(why, why_len,
				 "entry %llu (term %llu): bytes differ from "
				 "the ones written",
				 (unsigned long long)i,
				 (unsigned long long)e.term);
			return false;
		}
		m->terms[i] = e.term;
	}
	struct rlog_hard_state hs;
	int rc = rlog_hard_state_load(log, &hs);
	m->has_hs = rc == 0;
	m->hs_term = rc == 0 ? hs.current_term : 0;
	if (rc != 0 && rc != RLOG_ENOTFOUND) {
		snprintf(why, why_len, "hard_state_load: %s",
			 rlog_strerror(rc));
		return false;
	}
	if (rc == 0 && !wl_hard_state_ok(&hs)) {
		snprintf(why, why_len, "hard state of term %llu is torn",
			 (unsigned long long)hs.current_term);
		return false;
	}
	return true;
}

static bool model_equal(const struct model *a, const struct model *b)
{
	if (a->purge_index != b->purge_index || a->last != b->last ||
	    a->has_hs != b->has_hs || a->hs_term != b->hs_term) {
		return false;
	}
	if (a->purge_index > 0 && a->purge_term != b->purge_term) {
		return false;
	}
	for (uint64_t i = a->purge_index + 1; i <= a->last; i++) {
		if (a->terms[i] != b->terms[i]) {
			return false;
		}
	}
	return true;
}

static void model_describe(const struct model *m, char *buf, size_t len)
{
	uint64_t last_term = m->last > m->purge_index ? m->terms[m->last] : 0;
	snprintf(buf, len, "purged {%llu,%llu} last %llu (term %llu) hs %s%llu",
		 (unsigned long long)m->purge_index,
		 (unsigned long long)m->purge_term, (unsigned long long)m->last,
		 (unsigned long long)last_term, m->has_hs ? "" : "none ",
		 (unsigned long long)m->hs_term);
}

/* ---- The child. ---- */

struct child_plan {
	const char *dir;
	uint64_t segment_bytes;
	uint64_t seed;
	uint64_t next_term; /* above every term the log has seen */
	bool mixed;	    /* false: append + sync only */
	int target;	    /* mixed: the unit chosen half of the time */
	/* The syscall-boundary test: run the target once and exit 0, with a
	 * SIGKILL armed at the kill_at-th system call of the backend inside
	 * it (of rlog_open when kill_in_open). */
	bool once;
	bool kill_in_open;
	uint64_t kill_at;
};

static void child_send(int fd, const struct msg *m)
{
	const char *p = (const char *)m;
	size_t left = sizeof(*m);
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			_exit(4);
		}
		p += n;
		left -= (size_t)n;
	}
}

static void child_fail(int fd, const char *what, int rc, struct rlog *log)
{
	struct msg m;
	memset(&m, 0, sizeof(m));
	m.kind = MSG_ERROR;
	snprintf(m.text, sizeof(m.text), "%s: %s: %s", what, rlog_strerror(rc),
		 log != NULL ? rlog_errmsg(log) : rlog_open_errmsg());
	child_send(fd, &m);
	_exit(3);
}

static int child_append(struct rlog *log, uint64_t first, uint64_t n,
			uint64_t term, bool replace)
{
	struct rlog_entry e[BATCH_ENTRIES_MAX];
	static uint8_t bufs[BATCH_ENTRIES_MAX][WL_PAYLOAD_MAX_BYTES];
	for (uint64_t i = 0; i < n; i++) {
		wl_entry(&e[i], bufs[i], first + i, term);
	}
	if (replace) {
		return rlog_replace(log, e, (size_t)n);
	}
	return rlog_append(log, e, (size_t)n);
}

/* Choose the next unit and its arguments from the log's state. */
static void child_choose(int fd, struct rlog *log,
			 const struct child_plan *plan, uint64_t *rng,
			 uint64_t *term, struct msg *u)
{
	uint64_t first = rlog_first_index(log);
	uint64_t last = rlog_last_index(log);
	bool empty = last < first;
	memset(u, 0, sizeof(*u));
	u->kind = MSG_BEGIN;
	u->unit = U_APPEND;
	if (plan->mixed) {
		if (plan->once || wl_rand_below(rng, 2) == 0) {
			u->unit = (uint32_t)plan->target;
		} else {
			/* Appends half the time, so the log keeps growing. */
			uint64_t r = wl_rand_below(rng, 10);
			u->unit = r < 5 ? U_APPEND : (uint32_t)(r - 4);
		}
		if (u->unit == U_TRUNCATE && empty) {
			u->unit = U_APPEND;
		}
	}
	u->b = 1 + wl_rand_below(rng, BATCH_ENTRIES_MAX);
	switch (u->unit) {
	case U_APPEND:
		u->a = last + 1;
		u->c = *term;
		break;
	case U_TRUNCATE:
		u->a = first + wl_rand_below(rng, last - first + 1);
		u->b = wl_rand_below(rng, BATCH_ENTRIES_MAX);
		u->c = ++*term;
		break;
	case U_REPLACE:
		u->a = first + wl_rand_below(rng, last - first + 2);
		u->c = ++*term;
		break;
	case U_PURGE:
		if (empty || wl_rand_below(rng, 4) == 0) {
			/* Past the end: a snapshot install. */
			u->a = last + 1 + wl_rand_below(rng, 3);
			u->c = *term;
		} else {
			u->a = first + wl_rand_below(rng, last - first + 1);
			int rc = rlog_term(log, u->a, &u->c);
			if (rc != 0) {
				child_fail(fd, "term", rc, log);
			}
		}
		break;
	case U_RESET:
		break;
	case U_HS: {
		struct rlog_hard_state hs;
		u->c = rlog_hard_state_load(log, &hs) == 0 ? hs.current_term + 1
							   : 1;
		break;
	}
	default:
		break;
	}
}

static int child_run_unit(struct rlog *log, const struct msg *u)
{
	int rc = 0;
	struct rlog_hard_state hs;
	switch (u->unit) {
	case U_APPEND:
		rc = child_append(log, u->a, u->b, u->c, false);
		break;
	case U_TRUNCATE:
		rc = rlog_truncate(log, u->a);
		if (rc == 0 && u->b > 0) {
			rc = child_append(log, u->a, u->b, u->c, false);
		}
		break;
	case U_REPLACE:
		return child_append(log, u->a, u->b, u->c, true);
	case U_PURGE:
		return rlog_purge(log, u->a, u->c);
	case U_RESET:
		return rlog_reset(log);
	case U_HS:
		hs = wl_hard_state(u->c);
		return rlog_hard_state_save(log, &hs);
	default:
		return RLOG_EINVAL;
	}
	if (rc == 0) {
		rc = rlog_sync(log);
	}
	return rc;
}

/* ---- SIGKILL at a system call boundary (fault-injection builds). ---- */

#ifdef RLOG_FAULT_INJECTION
/* The backend's failure points, one evaluated right before each system
 * call (vfs_posix.c). Here they never fail a call: the callback only
 * counts them and kills the process at the armed one, so the process dies
 * exactly between two system calls of the engine. */
static const char *const kill_points[] = {
    "rlog/posix/mkdir",	 "rlog/posix/open",	 "rlog/posix/pread",
    "rlog/posix/pwrite", "rlog/posix/fdatasync", "rlog/posix/ftruncate",
    "rlog/posix/fstat",	 "rlog/posix/close",	 "rlog/posix/unlink",
    "rlog/posix/rename", "rlog/posix/readdir",	 "rlog/posix/fsync_dir",
    "rlog/posix/flock"};

static uint64_t kill_at_call;
static uint64_t kill_calls;

static int kill_decide(const char *name, int *failnum, void **failinfo,
		       unsigned int *flags)
{
	(void)name;
	(void)failnum;
	(void)failinfo;
	(void)flags;
	if (kill_at_call != 0 && ++kill_calls == kill_at_call) {
		(void)raise(SIGKILL);
	}
	return 0;
}

/* Kill the process right before the nth backend system call from now
 * (0: disarm). The points are enabled on first use, in the child. */
static void kill_arm(uint64_t n)
{
	static bool enabled;
	if (n != 0 && !enabled) {
		if (fiu_init(0) != 0) {
			_exit(6);
		}
		for (size_t i = 0;
		     i < sizeof(kill_points) / sizeof(kill_points[0]); i++) {
			if (fiu_enable_external(kill_points[i], 1, NULL, 0,
						kill_decide) != 0) {
				_exit(6);
			}
		}
		enabled = true;
	}
	kill_calls = 0;
	kill_at_call = n;
}
#else
static void kill_arm(uint64_t n)
{
	(void)n;
}
#endif

/* The syscall-boundary test's child: make sure the log has entries, run
 * the target once with the kill armed, report, and exit 0 when the kill
 * was not reached. Never returns. */
static void child_once(int fd, struct rlog *log, const struct child_plan *plan,
		       uint64_t *rng, uint64_t *term)
{
	struct child_plan append = *plan;
	append.mixed = false;
	struct msg m;
	while (rlog_last_index(log) + 1 < rlog_first_index(log) + 40) {
		child_choose(fd, log, &append, rng, term, &m);
		child_send(fd, &m);
		int rc = child_run_unit(log, &m);
		if (rc != 0) {
			child_fail(fd, unit_names[m.unit], rc, log);
		}
		m.kind = MSG_DONE;
		child_send(fd, &m);
	}
	if (!plan->kill_in_open) {
		child_choose(fd, log, plan, rng, term, &m);
		child_send(fd, &m);
		kill_arm(plan->kill_at);
		int rc = child_run_unit(log, &m);
		kill_arm(0);
		if (rc != 0) {
			child_fail(fd, unit_names[m.unit], rc, log);
		}
		m.kind = MSG_DONE;
		child_send(fd, &m);
	}
	(void)rlog_close(log);
	_exit(0);
}

/* The child: open, then run units until killed. Never returns. */
static void child_main(int fd, const struct child_plan *plan)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = plan->dir;
	opts.segment_size_bytes = plan->segment_bytes;
	struct rlog *log = NULL;
	if (plan->kill_in_open) {
		kill_arm(plan->kill_at);
	}
	int rc = rlog_open(&opts, &log);
	kill_arm(0);
	if (rc != 0) {
		child_fail(fd, "open", rc, NULL);
	}
	struct msg m;
	memset(&m, 0, sizeof(m));
	m.kind = MSG_READY;
	m.a = rlog_last_index(log);
	child_send(fd, &m);
	uint64_t rng = plan->seed;
	uint64_t term = plan->next_term;
	if (plan->once) {
		child_once(fd, log, plan, &rng, &term);
	}
	for (uint32_t i = 0; i < CHILD_UNITS_MAX; i++) {
		child_choose(fd, log, plan, &rng, &term, &m);
		child_send(fd, &m);
		rc = child_run_unit(log, &m);
		if (rc != 0) {
			child_fail(fd, unit_names[m.unit], rc, log);
		}
		m.kind = MSG_DONE;
		child_send(fd, &m);
	}
	_exit(0);
}

/* ---- The parent. ---- */

struct crash_stats {
	uint64_t kills;
	uint64_t in_open;	       /* killed before READY */
	uint64_t idle;		       /* killed between units */
	uint64_t in_flight[U_COUNT];   /* killed with a unit in flight */
	uint64_t flight_new[U_COUNT];  /* ... that came back applied */
	uint64_t flight_part[U_COUNT]; /* ... that came back in part */
	uint64_t acked_units[U_COUNT]; /* units acknowledged in total */
	uint64_t max_last;
};

struct crash_world {
	char dir[512];
	uint64_t segment_bytes;
	struct model m;
	struct model got;
	struct model cands[CANDS_MAX];
	uint64_t next_term;
	uint64_t rng;
	struct crash_stats st;
};

enum recv_result { RECV_MSG, RECV_EOF, RECV_TIMEOUT };

/* Wait up to MSG_TIMEOUT_MS for one message. RECV_EOF: the child is gone
 * and the pipe is drained. */
static enum recv_result parent_recv(int fd, struct msg *m)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rc;
	do {
		rc = poll(&p, 1, MSG_TIMEOUT_MS);
	} while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		return RECV_TIMEOUT;
	}
	char *buf = (char *)m;
	size_t got = 0;
	while (got < sizeof(*m)) {
		ssize_t n = read(fd, buf + got, sizeof(*m) - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			fail_msg("read from the child: %s", strerror(errno));
		}
		if (n == 0) {
			assert_int_equal(got, 0);
			return RECV_EOF;
		}
		got += (size_t)n;
	}
	return RECV_MSG;
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000),
			      .tv_nsec = (long)(us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* What the parent learned about one child. */
struct run {
	bool ready;
	bool pending; /* a BEGIN without its DONE */
	struct msg unit;
};

/* Take one message into the model; fails the test on a child error. */
static void parent_take(struct crash_world *w, struct run *r,
			const struct msg *m, uint64_t iter)
{
	switch (m->kind) {
	case MSG_READY:
		r->ready = true;
		break;
	case MSG_BEGIN:
		assert_false(r->pending);
		r->pending = true;
		r->unit = *m;
		if (m->c >= w->next_term) {
			w->next_term = m->c + 1;
		}
		break;
	case MSG_DONE:
		assert_true(r->pending);
		r->pending = false;
		model_apply(&w->m, &r->unit, r->unit.b);
		w->st.acked_units[r->unit.unit]++;
		break;
	case MSG_ERROR:
		fail_msg("seed %#x iteration %llu: the child failed: %s",
			 CRASH_SEED, (unsigned long long)iter, m->text);
	default:
		fail_msg("bad message kind %u", m->kind);
	}
}

/* Fill w->cands with the states the reopened log may hold. */
static size_t cands_build(struct crash_world *w, const struct run *r)
{
	size_t n = 0;
	model_copy(&w->cands[n++], &w->m);
	if (!r->pending) {
		return n;
	}
	const struct msg *u = &r->unit;
	if (u->unit == U_APPEND || u->unit == U_TRUNCATE) {
		uint64_t kmin = u->unit == U_APPEND ? 1 : 0;
		for (uint64_t k = kmin; k <= u->b; k++) {
			model_copy(&w->cands[n], &w->m);
			model_apply(&w->cands[n++], u, k);
		}
		return n;
	}
	model_copy(&w->cands[n], &w->m);
	model_apply(&w->cands[n++], u, u->b);
	return n;
}

/* Reopen after the kill and adopt the state found, which must be one of
 * the allowed ones. */
static void parent_check(struct crash_world *w, const struct run *r,
			 uint64_t iter)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = w->dir;
	opts.segment_size_bytes = w->segment_bytes;
	struct rlog *log = NULL;
	int rc = rlog_open(&opts, &log);
	if (rc != 0) {
		fail_msg("seed %#x iteration %llu: reopen after the kill: "
			 "%s: %s",
			 CRASH_SEED, (unsigned long long)iter,
			 rlog_strerror(rc), rlog_open_errmsg());
	}
	char why[512] = "";
	if (!model_read(log, &w->got, why, sizeof(why))) {
		fail_msg("seed %#x iteration %llu: %s", CRASH_SEED,
			 (unsigned long long)iter, why);
	}
	assert_int_equal(rlog_close(log), 0);
	size_t n = cands_build(w, r);
	size_t match = n;
	for (size_t i = 0; i < n && match == n; i++) {
		if (model_equal(&w->got, &w->cands[i])) {
			match = i;
		}
	}
	if (match == n) {
		char have[160];
		char want[160];
		model_describe(&w->got, have, sizeof(have));
		fprintf(stderr, "reopened: %s\n", have);
		for (size_t i = 0; i < n; i++) {
			model_describe(&w->cands[i], want, sizeof(want));
			fprintf(stderr, "allowed %zu: %s\n", i, want);
		}
		fail_msg("seed %#x iteration %llu: killed %s%s: the reopened "
			 "log is no allowed state",
			 CRASH_SEED, (unsigned long long)iter,
			 r->pending ? "during " : "between units",
			 r->pending ? unit_names[r->unit.unit] : "");
	}
	if (r->pending) {
		w->st.in_flight[r->unit.unit]++;
		if (match == n - 1) {
			w->st.flight_new[r->unit.unit]++;
		} else if (match > 0) {
			w->st.flight_part[r->unit.unit]++;
		}
	}
	model_copy(&w->m, &w->got);
	if (w->m.last > w->st.max_last) {
		w->st.max_last = w->m.last;
	}
}

/*
 * One kill. Mixed: wait for the waits-th BEGIN of the target unit; else
 * wait for waits acknowledgements. Then sleep delay_us and SIGKILL.
 */
static void crash_once(struct crash_world *w, const struct child_plan *plan,
		       uint64_t waits, uint64_t delay_us, uint64_t iter)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], plan);
	}
	close(fds[1]);
	struct run r;
	memset(&r, 0, sizeof(r));
	uint64_t seen = 0;
	struct msg m;
	while (seen < waits) {
		enum recv_result rr = parent_recv(fds[0], &m);
		if (rr != RECV_MSG) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, NULL, 0);
			fail_msg("seed %#x iteration %llu: %s", CRASH_SEED,
				 (unsigned long long)iter,
				 rr == RECV_EOF ? "the child exited early"
						: "the child went silent");
		}
		parent_take(w, &r, &m, iter);
		if (plan->mixed ? (m.kind == MSG_BEGIN &&
				   m.unit == (uint32_t)plan->target)
				: m.kind == MSG_DONE) {
			seen++;
		}
	}
	sleep_us(delay_us);
	assert_int_equal(kill(pid, SIGKILL), 0);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Whatever the child sent before it died is still in the pipe. */
	enum recv_result rr;
	while ((rr = parent_recv(fds[0], &m)) == RECV_MSG) {
		parent_take(w, &r, &m, iter);
	}
	assert_int_equal(rr, RECV_EOF);
	close(fds[0]);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		fail_msg("iteration %llu: the child ended with status %d "
			 "before the kill",
			 (unsigned long long)iter, status);
	}
	w->st.kills++;
	if (!r.ready) {
		w->st.in_open++;
	} else if (!r.pending) {
		w->st.idle++;
	}
	parent_check(w, &r, iter);
}

#ifdef RLOG_FAULT_INJECTION
/*
 * One run of the syscall-boundary test: the child runs its target once
 * with the kill armed. Returns true when it was killed (the armed system
 * call was reached), false when the target ran through.
 */
static bool crash_at_syscall(struct crash_world *w,
			     const struct child_plan *plan, uint64_t iter)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], plan);
	}
	close(fds[1]);
	struct run r;
	memset(&r, 0, sizeof(r));
	struct msg m;
	enum recv_result rr;
	while ((rr = parent_recv(fds[0], &m)) == RECV_MSG) {
		parent_take(w, &r, &m, iter);
	}
	close(fds[0]);
	if (rr == RECV_TIMEOUT) {
		(void)kill(pid, SIGKILL);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(rr, RECV_EOF);
	bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	if (!killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fail_msg("iteration %llu: the child ended with status %d",
			 (unsigned long long)iter, status);
	}
	if (killed) {
		w->st.kills++;
		if (!r.ready) {
			w->st.in_open++;
		} else if (!r.pending) {
			w->st.idle++;
		}
	}
	parent_check(w, &r, iter);
	return killed;
}
#endif

static struct crash_world *world_new(const char *tag, uint64_t segment_bytes)
{
	struct crash_world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	tl_mkdtemp(w->dir, sizeof(w->dir), tag);
	w->segment_bytes = segment_bytes;
	w->next_term = 1;
	w->rng = CRASH_SEED;
	return w;
}

/* After all kills: the log still takes appends that survive a reopen. */
static void world_finish(struct crash_world *w)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = w->dir;
	opts.segment_size_bytes = w->segment_bytes;
	struct rlog *log = NULL;
	assert_int_equal(rlog_open(&opts, &log), 0);
	uint64_t first = rlog_last_index(log) + 1;
	struct msg u = {.kind = MSG_BEGIN,
			.unit = U_APPEND,
			.a = first,
			.b = 3,
			.c = w->next_term};
	assert_int_equal(child_run_unit(log, &u), 0);
	model_apply(&w->m, &u, u.b);
	assert_int_equal(rlog_close(log), 0);
	assert_int_equal(rlog_open(&opts, &log), 0);
	char why[512] = "";
	if (!model_read(log, &w->got, why, sizeof(why))) {
		fail_msg("final check: %s", why);
	}
	assert_true(model_equal(&w->got, &w->m));
	assert_int_equal(rlog_close(log), 0);
	tl_rmtree(w->dir);
	model_free(&w->m);
	model_free(&w->got);
	for (size_t i = 0; i < CANDS_MAX; i++) {
		model_free(&w->cands[i]);
	}
	free(w);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_stats(const char *name, const struct crash_stats *st,
			double secs)
{
	printf("%s: %llu kills in %.1f s; killed in open %llu, between units "
	       "%llu; log reached index %llu\n",
	       name, (unsigned long long)st->kills, secs,
	       (unsigned long long)st->in_open, (unsigned long long)st->idle,
	       (unsigned long long)st->max_last);
	for (int u = 0; u < U_COUNT; u++) {
		if (st->in_flight[u] == 0 && st->acked_units[u] == 0) {
			continue;
		}
		printf("  %-22s acknowledged %5llu; killed in flight %4llu: "
		       "came back old %llu, partial %llu, new %llu\n",
		       unit_names[u], (unsigned long long)st->acked_units[u],
		       (unsigned long long)st->in_flight[u],
		       (unsigned long long)(st->in_flight[u] -
					    st->flight_new[u] -
					    st->flight_part[u]),
		       (unsigned long long)st->flight_part[u],
		       (unsigned long long)st->flight_new[u]);
	}
	fflush(stdout);
}

/* SIGKILL at a seeded moment while a child appends and syncs, 200 times
 * over one directory: every acknowledged entry survives byte-identical,
 * the in-flight batch comes back as a prefix, and appending continues
 * from the recovered last index. */
static void crash_kill_during_append_keeps_acknowledged(void **state)
{
	(void)state;
	struct crash_world *w =
	    world_new("crash-append", CRASH_APPEND_SEGMENT_BYTES);
	double t0 = now_s();
	for (uint64_t i = 0; i < CRASH_ITERATIONS; i++) {
		struct child_plan plan = {.dir = w->dir,
					  .segment_bytes = w->segment_bytes,
					  .seed = wl_rand(&w->rng),
					  .next_term = w->next_term,
					  .mixed = false,
					  .target = U_APPEND};
		/* Up to 8 acknowledgements, then up to 3 ms: the kill lands
		 * anywhere from the child's open to the middle of a sync. */
		uint64_t waits = wl_rand_below(&w->rng, 9);
		uint64_t delay_us = wl_rand_below(&w->rng, 3000);
		crash_once(w, &plan, waits, delay_us, i);
		w->next_term++;
	}
	print_stats("crash append", &w->st, now_s() - t0);
	world_finish(w);
}

/* SIGKILL while a child mixes appends with truncate, replace, purge,
 * reset and hard-state save, the kill aimed inside each of the five in
 * turn (after its BEGIN, a seeded delay of up to 6 ms): after reopen each
 * comes back old or new (truncate: old, or new with a prefix of the
 * entries appended after it), and nothing acknowledged is lost. */
static void crash_kill_during_each_op_keeps_old_or_new(void **state)
{
	(void)state;
	static const int targets[] = {U_PURGE, U_TRUNCATE, U_REPLACE, U_RESET,
				      U_HS};
	struct crash_world *w = world_new("crash-ops", CRASH_OPS_SEGMENT_BYTES);
	double t0 = now_s();
	for (uint64_t i = 0; i < CRASH_ITERATIONS; i++) {
		struct child_plan plan = {.dir = w->dir,
					  .segment_bytes = w->segment_bytes,
					  .seed = wl_rand(&w->rng),
					  .next_term = w->next_term,
					  .mixed = true,
					  .target = targets[i % 5]};
		/* Half the kills within 200 us of the BEGIN (the op's first
		 * system calls), half anywhere in the next 6 ms. */
		uint64_t waits = 1 + wl_rand_below(&w->rng, 2);
		uint64_t delay_us = wl_rand_below(
		    &w->rng, wl_rand_below(&w->rng, 2) == 0 ? 200 : 6000);
		crash_once(w, &plan, waits, delay_us, i);
	}
	print_stats("crash ops", &w->st, now_s() - t0);
	world_finish(w);
}

/* SIGKILL right before the 1st, 2nd, ... system call the backend makes
 * inside each operation and inside rlog_open's recovery, found through the
 * libfiu points (so skipped in builds without them), hits every boundary
 * exactly and without timing jitter, and each reopen finds the old or the
 * new state (a prefix for the buffered ones), recovery changing nothing. */
#ifdef RLOG_FAULT_INJECTION
static void crash_kill_at_each_syscall_keeps_old_or_new(void **state)
{
	(void)state;
	/* U_COUNT stands for rlog_open itself. */
	static const int targets[] = {U_APPEND, U_TRUNCATE, U_REPLACE, U_PURGE,
				      U_RESET,	U_HS,	    U_COUNT};
	struct crash_world *w =
	    world_new("crash-syscall", CRASH_OPS_SEGMENT_BYTES);
	double t0 = now_s();
	uint64_t iter = 0;
	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		bool open = targets[t] == U_COUNT;
		uint64_t n = 1;
		for (;; n++) {
			if (n > CRASH_SYSCALL_N_MAX) {
				fail_msg("still killed at N=%u",
					 CRASH_SYSCALL_N_MAX);
			}
			struct child_plan plan = {
			    .dir = w->dir,
			    .segment_bytes = w->segment_bytes,
			    .seed = wl_rand(&w->rng),
			    .next_term = w->next_term,
			    .mixed = true,
			    .target = open ? U_APPEND : targets[t],
			    .once = true,
			    .kill_in_open = open,
			    .kill_at = n};
			if (!crash_at_syscall(w, &plan, iter++)) {
				break;
			}
		}
		printf("crash syscall: %-22s killed before each of its "
		       "system calls, N reached %llu\n",
		       open ? "open (recovery)" : unit_names[targets[t]],
		       (unsigned long long)n);
	}
	print_stats("crash syscall", &w->st, now_s() - t0);
	world_finish(w);
}
#endif

/* An optional argument selects the tests to run by name (a cmocka filter
 * pattern, e.g. "*append*"), so ctest can run the three in parallel. */
int main(int argc, char **argv)
{
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(crash_kill_during_append_keeps_acknowledged),
	    cmocka_unit_test(crash_kill_during_each_op_keeps_old_or_new),
#ifdef RLOG_FAULT_INJECTION
	    /* Needs the libfiu points; builds without them do not have it. */
	    cmocka_unit_test(crash_kill_at_each_syscall_keeps_old_or_new),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
