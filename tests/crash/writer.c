/*
 * writer: a small rlog client for tests that fail or kill a real process
 * from the outside (libfiu's POSIX preload under fiu-run, tests/crash/).
 *
 *   writer write DIR BATCHES [SEGMENT_BYTES]
 *     Open the log in DIR (creating it), then BATCHES times append a batch
 *     of 1..4 entries after the last index, sync, and print "ack INDEX"
 *     (the last index now durable); after every third batch save the hard
 *     state of the last entry's term and print "hs TERM". Each line is
 *     flushed before the next operation starts, so every line printed was
 *     acknowledged. Exits 0 when all batches are acknowledged.
 *     On an rlog error it prints "writer: OP: STRERROR: ERRMSG" to stderr
 *     and exits 1, after checking the contract of the failed handle: an
 *     RLOG_EIO or RLOG_ENOSPC from a mutating call must have poisoned it
 *     and the next append must give RLOG_EFATAL; if not, exit 2.
 *
 *   writer verify DIR LAST_ACKED HS_TERM
 *     Reopen DIR and check, from outside the process that wrote it, that
 *     every entry 1..LAST_ACKED is present and byte-identical (the content
 *     of entry i is derived from i and its term, see workload.h), that any
 *     entry past it is intact too (an unacknowledged tail may survive), and
 *     that the hard state is the one saved with HS_TERM or a later one
 *     (0: none acknowledged). Exits 0, or 1 printing what differs.
 *
 * Terms follow the index (term_of), so the writer can continue any log it
 * wrote before: the next entry's content depends on nothing but its index.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITER_ENTRIES_PER_BATCH_MAX 4u

enum { EXIT_OK = 0, EXIT_RLOG_ERROR = 1, EXIT_CONTRACT = 2, EXIT_USAGE = 3 };

/* The term of entry index: non-decreasing in the index. */
static uint64_t term_of(uint64_t index)
{
	return 1 + index / 50;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

/* Report a failed mutating call and check that the handle is poisoned. */
static int fail_call(struct rlog *log, const char *op, int rc)
{
	fprintf(stderr, "writer: %s: %s: %s\n", op, rlog_strerror(rc),
		rlog_errmsg(log));
	if (rc != RLOG_EIO && rc != RLOG_ENOSPC) {
		return EXIT_RLOG_ERROR;
	}
	if (!rlog_is_poisoned(log)) {
		fprintf(stderr,
			"writer: contract: %s failed with %s but the "
			"handle is not poisoned\n",
			op, rlog_strerror(rc));
		return EXIT_CONTRACT;
	}
	uint8_t buf[WL_PAYLOAD_MAX_BYTES];
	struct rlog_entry e;
	uint64_t next = rlog_last_index(log) + 1;
	wl_entry(&e, buf, next, term_of(next));
	int again = rlog_append(log, &e, 1);
	if (again != RLOG_EFATAL) {
		fprintf(stderr,
			"writer: contract: append on a poisoned handle "
			"gave %s, not EFATAL\n",
			rlog_strerror(again));
		return EXIT_CONTRACT;
	}
	fprintf(stderr, "writer: handle poisoned as promised\n");
	return EXIT_RLOG_ERROR;
}

static int open_log(const char *dir, uint64_t segment_bytes, struct rlog **out)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = dir;
	opts.segment_size_bytes = segment_bytes;
	int rc = rlog_open(&opts, out);
	if (rc != 0) {
		fprintf(stderr, "writer: open %s: %s: %s\n", dir,
			rlog_strerror(rc), rlog_open_errmsg());
	}
	return rc;
}

/* Print one acknowledgement line and push it out before going on. */
static void ack(const char *what, uint64_t value)
{
	printf("%s %llu\n", what, (unsigned long long)value);
	fflush(stdout);
}

static int append_batch(struct rlog *log, uint64_t batch)
{
	struct rlog_entry e[WRITER_ENTRIES_PER_BATCH_MAX];
	static uint8_t bufs[WRITER_ENTRIES_PER_BATCH_MAX][WL_PAYLOAD_MAX_BYTES];
	size_t n = 1 + (size_t)(batch % WRITER_ENTRIES_PER_BATCH_MAX);
	uint64_t next = rlog_last_index(log) + 1;
	for (size_t i = 0; i < n; i++) {
		wl_entry(&e[i], bufs[i], next + i, term_of(next + i));
	}
	return rlog_append(log, e, n);
}

static int do_write(const char *dir, uint64_t batches, uint64_t segment_bytes)
{
	struct rlog *log = NULL;
	if (open_log(dir, segment_bytes, &log) != 0) {
		return EXIT_RLOG_ERROR;
	}
	int status = EXIT_OK;
	for (uint64_t b = 0; b < batches; b++) {
		int rc = append_batch(log, b);
		if (rc != 0) {
			status = fail_call(log, "append", rc);
			break;
		}
		rc = rlog_sync(log);
		if (rc != 0) {
			status = fail_call(log, "sync", rc);
			break;
		}
		ack("ack", rlog_last_index(log));
		if (b % 3 != 2) {
			continue;
		}
		uint64_t term = term_of(rlog_last_index(log));
		struct rlog_hard_state hs = wl_hard_state(term);
		rc = rlog_hard_state_save(log, &hs);
		if (rc != 0) {
			status = fail_call(log, "hard_state_save", rc);
			break;
		}
		ack("hs", term);
	}
	int rc = rlog_close(log);
	if (rc != 0 && status == EXIT_OK) {
		fprintf(stderr, "writer: close: %s\n", rlog_strerror(rc));
		status = EXIT_RLOG_ERROR;
	}
	return status;
}

static int verify_entries(struct rlog *log, uint64_t last_acked)
{
	uint64_t first = rlog_first_index(log);
	uint64_t last = rlog_last_index(log);
	if (first != 1) {
		fprintf(stderr, "verify: first index %llu, want 1\n",
			(unsigned long long)first);
		return EXIT_RLOG_ERROR;
	}
	if (last < last_acked) {
		fprintf(stderr,
			"verify: last index %llu, but %llu was acknowledged\n",
			(unsigned long long)last,
			(unsigned long long)last_acked);
		return EXIT_RLOG_ERROR;
	}
	for (uint64_t i = first; i <= last; i++) {
		struct rlog_entry e;
		int rc = rlog_get(log, i, &e);
		if (rc != 0) {
			fprintf(stderr, "verify: get %llu: %s: %s\n",
				(unsigned long long)i, rlog_strerror(rc),
				rlog_errmsg(log));
			return EXIT_RLOG_ERROR;
		}
		if (!wl_entry_ok(&e, i, term_of(i))) {
			fprintf(stderr,
				"verify: entry %llu (%s) differs from what "
				"was written\n",
				(unsigned long long)i,
				i <= last_acked ? "acknowledged"
						: "unacknowledged tail");
			return EXIT_RLOG_ERROR;
		}
	}
	return EXIT_OK;
}

static int verify_hard_state(struct rlog *log, uint64_t hs_term)
{
	struct rlog_hard_state hs;
	int rc = rlog_hard_state_load(log, &hs);
	if (hs_term == 0 && rc == RLOG_ENOTFOUND) {
		return EXIT_OK;
	}
	if (rc != 0) {
		fprintf(stderr, "verify: hard_state_load: %s\n",
			rlog_strerror(rc));
		return EXIT_RLOG_ERROR;
	}
	if (hs.current_term < hs_term || !wl_hard_state_ok(&hs)) {
		fprintf(stderr,
			"verify: hard state term %llu (vote %d), want the "
			"one of term %llu or a later one\n",
			(unsigned long long)hs.current_term, (int)hs.has_vote,
			(unsigned long long)hs_term);
		return EXIT_RLOG_ERROR;
	}
	return EXIT_OK;
}

static int do_verify(const char *dir, uint64_t last_acked, uint64_t hs_term)
{
	struct rlog *log = NULL;
	if (open_log(dir, 0, &log) != 0) {
		return EXIT_RLOG_ERROR;
	}
	int status = verify_entries(log, last_acked);
	if (status == EXIT_OK) {
		status = verify_hard_state(log, hs_term);
	}
	if (status == EXIT_OK) {
		printf("verified: entries 1..%llu present (%llu acknowledged), "
		       "hard state ok\n",
		       (unsigned long long)rlog_last_index(log),
		       (unsigned long long)last_acked);
	}
	(void)rlog_close(log);
	return status;
}

static int usage(void)
{
	fprintf(stderr, "usage: writer write DIR BATCHES [SEGMENT_BYTES]\n"
			"       writer verify DIR LAST_ACKED HS_TERM\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "write") == 0) {
		uint64_t batches = 0;
		uint64_t segment_bytes = 64 * 1024;
		if (parse_u64(argv[3], &batches) != 0 ||
		    (argc == 5 && parse_u64(argv[4], &segment_bytes) != 0)) {
			return usage();
		}
		return do_write(argv[2], batches, segment_bytes);
	}
	if (argc == 5 && strcmp(argv[1], "verify") == 0) {
		uint64_t last_acked = 0;
		uint64_t hs_term = 0;
		if (parse_u64(argv[3], &last_acked) != 0 ||
		    parse_u64(argv[4], &hs_term) != 0) {
			return usage();
		}
		return do_verify(argv[2], last_acked, hs_term);
	}
	return usage();
}
