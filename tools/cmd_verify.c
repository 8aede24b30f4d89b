/*
 * cmd_verify.c: `rlog verify DIR`, every check rlog can make of a log
 * directory, read-only: both meta slots, every segment header and chain
 * link, every record's checksum and identity (its body decoded and matched
 * with its header), past the first damage too. A torn tail in the last
 * segment is legal and reported as a note; damage anywhere else is a
 * problem. The verdict agrees with rlog_open: when it would fail, verify
 * exits 1.
 *
 * rlog_open takes a segment from its seal when the seal holds, without
 * reading its records. verify reads them anyway and checks each such seal
 * against the replay of its segment: damage there (which rlog_get reports
 * when the entry is read) and a seal that disagrees with its segment are
 * problems too, and it says what a full read (rlog_open with
 * verify_on_open) would return.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>

#include "walk.h"

static const char verify_usage[] =
    "usage: rlog verify DIR [--quiet]\n"
    "\n"
    "Check everything in the log directory DIR without changing it: both\n"
    "meta slots, every segment header and chain link, every record's\n"
    "checksum and identity (body decoded and matched with its header),\n"
    "the purge boundary, and every seal rlog_open would use against a\n"
    "full read of its segment (rlog_open does not read a segment it takes\n"
    "from its seal: damage there shows when the entry is read, and a\n"
    "seal that disagrees with its segment would be trusted). Every\n"
    "finding is printed as\n"
    "  problem FILE@OFFSET: what     (damage, or a state no crash explains)\n"
    "  note FILE@OFFSET: what        (legal: e.g. a torn tail that was\n"
    "                                 never acknowledged)\n"
    "then a summary and what rlog_open would say (and, when it would use\n"
    "seals, what it would say with verify_on_open). --quiet prints the\n"
    "problems and the summary only.\n"
    "\n"
    "exit status: 0 clean (notes only), 1 problems found (always when\n"
    "rlog_open would fail), 2 bad usage, 3 DIR unreadable\n";

int rlog_tool_cmd_verify(int argc, char **argv)
{
	const char *dir = NULL;
	bool quiet = false;
	for (int i = 1; i < argc; i++) {
		if (rlog_tool_is_help(argv[i])) {
			fputs(verify_usage, stdout);
			return RLOG_TOOL_EXIT_OK;
		}
		if (strcmp(argv[i], "--quiet") == 0) {
			quiet = true;
			continue;
		}
		if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr,
				"rlog verify: unexpected argument '%s'\n%s",
				argv[i], verify_usage);
			return RLOG_TOOL_EXIT_USAGE;
		}
		dir = argv[i];
	}
	if (dir == NULL) {
		fprintf(stderr, "rlog verify: missing DIR\n%s", verify_usage);
		return RLOG_TOOL_EXIT_USAGE;
	}
	int rc = rlog_tool_need_dir("verify", dir);
	if (rc != 0) {
		return rc;
	}
	struct rlog_tool_walk w;
	int rv = rlog_tool_walk_ex(dir, NULL, RLOG_TOOL_WALK_CHECK_SEALS, &w);
	if (rv == 0) {
		rv = rlog_tool_walk_deep(&w);
	}
	if (rv != 0) {
		rlog_tool_err("verify", dir, "%s", w.err);
		rlog_tool_walk_free(&w);
		return RLOG_TOOL_EXIT_IO;
	}
	for (size_t i = 0; i < w.msgs_len; i++) {
		if (quiet && w.msgs[i].sev != RLOG_TOOL_PROBLEM) {
			continue;
		}
		struct rlog_tool_walk one = w;
		one.msgs = &w.msgs[i];
		one.msgs_len = 1;
		rlog_tool_walk_print_msgs(&one, stdout);
	}
	uint64_t records = 0;
	for (size_t i = 0; i < w.chain_len; i++) {
		const struct rlog_tool_seg *s = &w.segs[w.chain[i]];
		records += s->entry_recs + s->trunc_recs;
	}
	if (w.seals_used > 0) {
		size_t damaged = 0;
		for (size_t i = 0; i < w.seals_len; i++) {
			damaged += w.seals[i].seg_damage ? 1 : 0;
		}
		printf("seals: %zu used by rlog_open, checked against a full "
		       "read of their segments: %zu agree, %zu disagree, "
		       "%zu with damaged records\n",
		       w.seals_used, w.seals_used - w.seals_disagree - damaged,
		       w.seals_disagree, damaged);
	}
	char range[96];
	rlog_tool_range(range, sizeof(range), w.first_index, w.last_index);
	printf("verified %s: %zu segment file(s), %" PRIu64
	       " records replayed, %s: %zu problem(s), %zu note(s)\n",
	       dir, w.segs_len, records, range, w.problems, w.notes);
	if (w.verdict == 0 && w.sealed_damage > 0) {
		printf("rlog_open: would succeed (it takes the damaged "
		       "segments from their seals and does not read them; "
		       "rlog_get fails for the entries named above)\n");
	} else if (w.verdict == 0) {
		printf("rlog_open: would succeed\n");
	} else {
		printf("rlog_open: would fail with %s: %s\n",
		       rlog_tool_code_name(w.verdict), w.verdict_msg);
	}
	if (w.seals_used > 0 && w.full_verdict == 0) {
		printf("rlog_open with verify_on_open: would succeed\n");
	} else if (w.seals_used > 0) {
		printf("rlog_open with verify_on_open: would fail with %s: "
		       "%s\n",
		       rlog_tool_code_name(w.full_verdict), w.full_verdict_msg);
	}
	rc = w.problems > 0 || w.verdict != 0 ? RLOG_TOOL_EXIT_PROBLEM
					      : RLOG_TOOL_EXIT_OK;
	rlog_tool_walk_free(&w);
	return rc;
}
