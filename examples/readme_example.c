/* The README's example: a Raft node's storage loop in miniature. */
#include <stdio.h>
#include <string.h>

#include <rlog/rlog.h>

int main(int argc, char **argv)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = argc > 1 ? argv[1] : "./rlog-data";

	struct rlog *log;
	int rv = rlog_open(&opts, &log);
	if (rv != 0) {
		fprintf(stderr, "open: %s: %s\n", rlog_strerror(rv),
			rlog_open_errmsg());
		return 1;
	}

	/* Before answering a vote: save the hard state (durable on return). */
	struct rlog_hard_state hs = {.current_term = 2,
				     .has_vote = true,
				     .voted_for_id = 1,
				     .voted_for_term = 2};
	rv = rlog_hard_state_save(log, &hs);

	/* Append entries, then sync before acknowledging them to the leader. */
	uint64_t next = rlog_last_index(log) + 1;
	const char *cmd = "set x=1";
	struct rlog_entry e[2] = {
	    {.index = next, .term = 2, .kind = RLOG_PAYLOAD_NOOP},
	    {.index = next + 1,
	     .term = 2,
	     .kind = RLOG_PAYLOAD_COMMAND,
	     .payload = (const uint8_t *)cmd,
	     .payload_len = strlen(cmd)},
	};
	if (rv == 0) {
		rv = rlog_append(log, e, 2);
	}
	if (rv == 0) {
		rv = rlog_sync(log);
	}
	if (rv != 0) {
		/* A failed write or sync poisons the handle: close, reopen,
		 * and let Raft catch the follower up. */
		fprintf(stderr, "%s: %s\n", rlog_strerror(rv),
			rlog_errmsg(log));
		rlog_close(log);
		return 1;
	}

	struct rlog_entry got;
	rv = rlog_get(log, next + 1, &got);
	if (rv == 0) {
		printf("entry %llu term %llu: %.*s (log holds [%llu, %llu])\n",
		       (unsigned long long)got.index,
		       (unsigned long long)got.term, (int)got.payload_len,
		       (const char *)got.payload,
		       (unsigned long long)rlog_first_index(log),
		       (unsigned long long)rlog_last_index(log));
	}
	rlog_close(log);
	return rv == 0 ? 0 : 1;
}
