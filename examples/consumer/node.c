/*
 * A Raft node's storage loop in miniature, built against an installed rlog
 * (find_package(rlog) or pkg-config). It boots three times on the same
 * directory; each boot is one term:
 *
 *   1. open the log (recovery) and check what the previous boot left;
 *   2. start an election: save the hard state with the new term and the
 *      vote for itself BEFORE asking for votes (durable on return);
 *   3. as leader: append a batch, sync BEFORE acknowledging it;
 *   4. as a follower that learns of a conflict: replace the suffix;
 *   5. take a snapshot: purge up to an index;
 *   6. close (a crash here loses nothing acknowledged).
 *
 * A final boot checks every entry, the purge boundary and the hard state.
 *
 *   node DIR    exit 0 when every check holds
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rlog/rlog.h>

#define NODE_ID 1u
#define BOOTS 3u
#define BATCH 8u

static int fail(const char *what, int rv, struct rlog *log)
{
	fprintf(stderr, "node: %s: %s: %s\n", what, rlog_strerror(rv),
		log ? rlog_errmsg(log) : rlog_open_errmsg());
	if (log != NULL) {
		rlog_close(log);
	}
	return 1;
}

/* The command of entry (index, term): what the application would store. */
static size_t command(char *buf, size_t len, uint64_t index, uint64_t term)
{
	int n = snprintf(buf, len, "set k%" PRIu64 " = t%" PRIu64, index, term);
	return n > 0 ? (size_t)n : 0;
}

static struct rlog *boot(const char *dir, int *rv)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = dir;
	opts.segment_size_bytes = 4096; /* small, to cross segments */
	struct rlog *log = NULL;
	*rv = rlog_open(&opts, &log);
	return log;
}

/* One term of the node's life. */
static int run_term(const char *dir, uint64_t boot_no)
{
	int rv;
	struct rlog *log = boot(dir, &rv);
	if (log == NULL) {
		return fail("open", rv, NULL);
	}
	/* Election: the term and vote are durable before any vote request. */
	struct rlog_hard_state hs;
	memset(&hs, 0, sizeof(hs));
	if (rlog_hard_state_load(log, &hs) != 0 && boot_no > 0) {
		return fail("a saved hard state is missing", RLOG_ENOTFOUND,
			    log);
	}
	hs.current_term++;
	hs.has_vote = true;
	hs.voted_for_id = NODE_ID;
	hs.voted_for_term = hs.current_term;
	hs.committed = false;
	rv = rlog_hard_state_save(log, &hs);
	if (rv != 0) {
		return fail("save hard state", rv, log);
	}
	/* Leader: a no-op, then commands; durable before the ack. */
	uint64_t next = rlog_last_index(log) + 1;
	struct rlog_entry e[BATCH];
	char cmds[BATCH][64];
	for (size_t i = 0; i < BATCH; i++) {
		e[i].index = next + i;
		e[i].term = hs.current_term;
		e[i].kind = i == 0 ? RLOG_PAYLOAD_NOOP : RLOG_PAYLOAD_COMMAND;
		e[i].payload = i == 0 ? NULL : (const uint8_t *)cmds[i];
		e[i].payload_len = i == 0 ? 0
					  : command(cmds[i], sizeof(cmds[i]),
						    e[i].index, e[i].term);
	}
	rv = rlog_append(log, e, BATCH);
	if (rv == 0) {
		rv = rlog_sync(log);
	}
	if (rv != 0) {
		/* A failed write or sync poisons the handle: close, reopen,
		 * let Raft catch up. Here: give up. */
		return fail("append+sync", rv, log);
	}
	/* Follower: the last two entries conflict with a new leader's;
	 * replace them atomically (durable on return). */
	uint64_t last = rlog_last_index(log);
	for (size_t i = 0; i < 2; i++) {
		e[i].index = last - 1 + i;
		e[i].term = hs.current_term;
		e[i].kind = RLOG_PAYLOAD_COMMAND;
		e[i].payload = (const uint8_t *)cmds[i];
		e[i].payload_len = command(cmds[i], sizeof(cmds[i]), e[i].index,
					   e[i].term + 100);
	}
	rv = rlog_replace(log, e, 2);
	if (rv != 0) {
		return fail("replace", rv, log);
	}
	/* Snapshot: everything up to 3 entries before the end. */
	uint64_t snap = rlog_last_index(log) - 3, snap_term;
	rv = rlog_term(log, snap, &snap_term);
	if (rv == 0) {
		rv = rlog_purge(log, snap, snap_term);
	}
	if (rv != 0) {
		return fail("purge", rv, log);
	}
	rv = rlog_close(log);
	return rv == 0 ? 0 : fail("close", rv, NULL);
}

static int check_entry(struct rlog *log, uint64_t index, uint64_t boots)
{
	struct rlog_entry got;
	int rv = rlog_get(log, index, &got);
	if (rv != 0) {
		return fail("get", rv, NULL);
	}
	/* Each boot wrote BATCH entries, the last two replaced (+100). */
	uint64_t term = (index - 1) / BATCH + 1;
	uint64_t pos = (index - 1) % BATCH;
	char want[64];
	size_t n = command(want, sizeof(want), index,
			   pos >= BATCH - 2 ? term + 100 : term);
	if (got.term != term || term > boots ||
	    (pos == 0 && got.kind != RLOG_PAYLOAD_NOOP) ||
	    (pos != 0 &&
	     (got.payload_len != n || memcmp(got.payload, want, n) != 0))) {
		fprintf(stderr, "node: entry %" PRIu64 " is wrong\n", index);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: node DIR\n");
		return 2;
	}
	const char *dir = argv[1];
	for (uint64_t b = 0; b < BOOTS; b++) {
		if (run_term(dir, b) != 0) {
			return 1;
		}
	}
	int rv;
	struct rlog *log = boot(dir, &rv);
	if (log == NULL) {
		return fail("reopen", rv, NULL);
	}
	struct rlog_hard_state hs;
	uint64_t purged, purged_term;
	rlog_purged(log, &purged, &purged_term);
	uint64_t first = rlog_first_index(log), last = rlog_last_index(log);
	int bad = rlog_hard_state_load(log, &hs) != 0 ||
		  hs.current_term != BOOTS || !hs.has_vote ||
		  hs.voted_for_id != NODE_ID || last != BOOTS * BATCH ||
		  purged != last - 3 || first != purged + 1;
	for (uint64_t i = first; i <= last && !bad; i++) {
		bad = check_entry(log, i, BOOTS);
	}
	printf("node: %u boots; log [%" PRIu64 ", %" PRIu64
	       "], purged through %" PRIu64 ", term %" PRIu64 ": %s\n",
	       BOOTS, first, last, purged, hs.current_term,
	       bad ? "WRONG" : "ok");
	rlog_close(log);
	return bad ? 1 : 0;
}
