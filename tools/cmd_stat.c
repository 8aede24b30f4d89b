/*
 * cmd_stat.c: `rlog stat DIR`, a summary of a log directory read the way
 * recovery reads it, without opening the log (so it works on a directory
 * that rlog_open refuses) and without changing anything.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>

#include "walk.h"

static const char stat_usage[] =
    "usage: rlog stat DIR\n"
    "\n"
    "Summarise the log in DIR without opening it: format version, lock,\n"
    "meta slots, hard state, purge boundary, first and last index, every\n"
    "segment file with its live index range, size and role, and its seal\n"
    "(valid and used by rlog_open, stale, damaged, or none), orphan\n"
    "seals, whether the tail is torn, and what rlog_open would say. Reads\n"
    "only; works on a directory whose log does not open. A segment taken\n"
    "from its seal is not read: `rlog verify` reads and checks it.\n"
    "\n"
    "exit status: 0 the log opens, 1 rlog_open would fail (corrupt or\n"
    "unsupported version), 2 bad usage, 3 DIR unreadable\n";

static const char *role_name(const struct rlog_tool_walk *w, size_t i)
{
	const struct rlog_tool_seg *s = &w->segs[i];
	switch (s->role) {
	case RLOG_TOOL_SEG_DEAD:
		return "dead";
	case RLOG_TOOL_SEG_CHAIN:
		if (w->chain_len > 0 && w->chain[w->chain_len - 1] == i) {
			return "last";
		}
		return "sealed";
	case RLOG_TOOL_SEG_ORPHAN:
		return "orphan";
	case RLOG_TOOL_SEG_TORN:
		return "torn-creation";
	case RLOG_TOOL_SEG_DAMAGED:
		return "damaged";
	case RLOG_TOOL_SEG_IGNORED:
		return "ignored";
	}
	return "?";
}

static void print_slot(const struct rlog_tool_walk *w, int i)
{
	int rc = w->slot_rc[i];
	fprintf(stdout, "slot %c ", i == 0 ? 'A' : 'B');
	if (rc == 0) {
		fprintf(stdout, "valid (generation %" PRIu64 ")",
			w->slot[i].generation);
	} else if (rc == 1) {
		fputs("never written", stdout);
	} else if (rc == RLOG_EVERSION) {
		fputs("unsupported version", stdout);
	} else {
		fputs("damaged", stdout);
	}
}

static void print_meta(const struct rlog_tool_walk *w)
{
	if (!w->meta_exists) {
		printf("meta: none (nothing saved yet)\n");
	} else {
		printf("meta: ");
		print_slot(w, 0);
		printf(", ");
		print_slot(w, 1);
		if (w->meta_slot >= 0) {
			printf("; using slot %c",
			       w->meta_slot == 0 ? 'A' : 'B');
		}
		printf("\n");
	}
	if (!w->meta_ok) {
		printf("hard_state: unreadable\n");
		printf("purge_boundary: unreadable\n");
		return;
	}
	const struct rlog__meta *m = &w->meta;
	if ((m->flags & RLOG__META_HS_SAVED) == 0) {
		printf("hard_state: none\n");
	} else {
		printf("hard_state: term %" PRIu64, m->current_term);
		if ((m->flags & RLOG__META_HS_VOTE) != 0) {
			printf(", vote {id %u, term %" PRIu64 ", committed %s}",
			       m->voted_for_id, m->voted_for_term,
			       (m->flags & RLOG__META_HS_COMMITTED) ? "yes"
								    : "no");
		} else {
			printf(", no vote");
		}
		printf("\n");
	}
	printf("purge_boundary: index %" PRIu64 " term %" PRIu64 "\n",
	       m->purge_index, m->purge_term);
}

/* The seal line under a segment's line. */
static void print_seal(const struct rlog_tool_walk *w,
		       const struct rlog_tool_seg *s)
{
	if (!s->has_seal) {
		printf("      no seal\n");
		return;
	}
	const struct rlog_tool_seal *sl = &w->seals[s->seal];
	char d[320];
	rlog_tool_seal_describe(sl, d, sizeof(d));
	printf("      seal: %s", d);
	if (sl->state == RLOG_TOOL_SEAL_USED) {
		printf(" (rlog_open reads the seal, not the records)");
	}
	printf("\n");
}

static void print_segments(const struct rlog_tool_walk *w)
{
	printf("min_seq: %" PRIu64 "\n", w->meta.min_seq);
	printf("segments: %zu file(s), %zu on the live chain\n", w->segs_len,
	       w->chain_len);
	for (size_t i = 0; i < w->segs_len; i++) {
		const struct rlog_tool_seg *s = &w->segs[i];
		printf("  %s %-13s %10" PRIu64 " bytes", s->name,
		       role_name(w, i), s->size_bytes);
		if (s->role == RLOG_TOOL_SEG_CHAIN && s->replayed) {
			if (s->live_count > 0) {
				printf("  entries %" PRIu64 "..%" PRIu64
				       " (%" PRIu64 ")",
				       s->live_first, s->live_last,
				       s->live_count);
			} else {
				printf("  no live entries");
			}
			printf("  records end at %" PRIu64, s->stop);
		} else if (s->role == RLOG_TOOL_SEG_CHAIN) {
			printf("  not read (recovery stops before it)");
		}
		if (s->hdr_rc == 0 && s->role != RLOG_TOOL_SEG_DEAD) {
			printf("  first_index %" PRIu64 " prev %" PRIu64
			       "@%" PRIu64,
			       s->hdr.first_index, s->hdr.prev_seq,
			       s->hdr.prev_end_offset);
		}
		printf("\n");
		print_seal(w, s);
	}
	if (w->seals_orphan == 0) {
		return;
	}
	printf("orphan seals: %zu file(s) without a segment file (ignored; "
	       "the next purge or reset removes them)\n",
	       w->seals_orphan);
	for (size_t i = 0; i < w->seals_len; i++) {
		const struct rlog_tool_seal *sl = &w->seals[i];
		if (!sl->has_seg) {
			printf("  %s orphan %10" PRIu64 " bytes\n", sl->name,
			       sl->size_bytes);
		}
	}
}

static void print_format(const struct rlog_tool_walk *w)
{
	if (w->verdict == RLOG_EVERSION) {
		printf("format: unsupported version (this rlog reads "
		       "version %u)\n",
		       RLOG__FORMAT_VERSION);
	} else if (!w->meta_exists && w->segs_len == 0) {
		printf("format: none yet (no rlog files: an empty log)\n");
	} else {
		printf("format: version %u\n", RLOG__FORMAT_VERSION);
	}
}

static const char *lock_name(enum rlog_tool_lock l)
{
	switch (l) {
	case RLOG_TOOL_LOCK_ABSENT:
		return "no LOCK file (never opened, or opened by a tool)";
	case RLOG_TOOL_LOCK_FREE:
		return "free";
	case RLOG_TOOL_LOCK_HELD:
		return "held: the log is open in another process";
	case RLOG_TOOL_LOCK_UNKNOWN:
		return "unknown (LOCK unreadable)";
	}
	return "?";
}

int rlog_tool_cmd_stat(int argc, char **argv)
{
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (rlog_tool_is_help(argv[i])) {
			fputs(stat_usage, stdout);
			return RLOG_TOOL_EXIT_OK;
		}
		if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr,
				"rlog stat: unexpected argument '%s'\n%s",
				argv[i], stat_usage);
			return RLOG_TOOL_EXIT_USAGE;
		}
		dir = argv[i];
	}
	if (dir == NULL) {
		fprintf(stderr, "rlog stat: missing DIR\n%s", stat_usage);
		return RLOG_TOOL_EXIT_USAGE;
	}
	int rc = rlog_tool_need_dir("stat", dir);
	if (rc != 0) {
		return rc;
	}
	struct rlog_tool_walk w;
	int rv = rlog_tool_walk(dir, NULL, &w);
	if (rv != 0) {
		rlog_tool_err("stat", dir, "%s", w.err);
		rlog_tool_walk_free(&w);
		return RLOG_TOOL_EXIT_IO;
	}
	printf("directory: %s\n", dir);
	print_format(&w);
	printf("lock: %s\n", lock_name(w.lock));
	print_meta(&w);
	if (w.verdict != 0) {
		printf("(the log does not open: the index range below is what "
		       "recovery could read)\n");
	}
	printf("first_index: %" PRIu64 "\n", w.first_index);
	printf("last_index: %" PRIu64 "\n", w.last_index);
	printf("entries: %" PRIu64 "\n", w.last_index >= w.first_index
					     ? w.last_index - w.first_index + 1
					     : 0);
	print_segments(&w);
	if (w.torn) {
		printf("tail: torn at %s@%" PRIu64 ": %" PRIu64
		       " bytes never acknowledged (recovery drops them; "
		       "`rlog repair` removes them)\n",
		       w.segs[w.torn_seg].name, w.torn_off, w.torn_bytes);
	} else if (w.zero_tail_bytes > 0) {
		printf("tail: clean (%" PRIu64 " zero bytes after the last "
		       "record)\n",
		       w.zero_tail_bytes);
	} else {
		printf("tail: clean\n");
	}
	if (w.settle) {
		printf("unsynced: %s bytes %" PRIu64 "..%" PRIu64
		       " not vouched for as synced; the next rlog_open "
		       "copies entries from %" PRIu64
		       " on into a new segment\n",
		       w.segs[w.chain[w.chain_len - 1]].name, w.settle_off,
		       w.settle_off + w.settle_bytes, w.settle_from);
	}
	if (w.verdict == 0) {
		printf("status: ok: rlog_open would succeed\n");
	} else {
		printf("status: rlog_open would fail with %s: %s\n",
		       rlog_tool_code_name(w.verdict), w.verdict_msg);
	}
	if (w.msgs_len > 0) {
		printf("%zu problem(s), %zu note(s):\n", w.problems, w.notes);
		rlog_tool_walk_print_msgs(&w, stdout);
	}
	if (w.verdict != 0) {
		printf("run `rlog verify %s` for every damaged record, "
		       "`rlog repair --dry-run %s` for what can be done\n",
		       dir, dir);
	}
	rc = w.verdict == 0 ? RLOG_TOOL_EXIT_OK : RLOG_TOOL_EXIT_PROBLEM;
	rlog_tool_walk_free(&w);
	return rc;
}
