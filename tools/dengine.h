/*
 * dengine.h: read d-engine's FileStorageEngine files, never trusting them.
 *
 * d-engine keeps its log in logs/log.data, a sequence of records, each a
 * u64 big-endian length followed by that many bytes of an Entry protobuf
 * message, and its hard state in meta/hard_state.bin, bincode 1.x of
 * HardState (little-endian):
 *
 *   u64 current_term, u8 vote tag (0 none, 1 some), and when 1:
 *   u32 voted_for_id, u64 voted_for_term, u8 committed (0 or 1)
 *
 * 9 bytes without a vote, 22 with one. When d-engine loads log.data it
 * keeps the last record of every index, skips records it cannot decode and
 * stops at a record cut short; rlog_dengine_parse finds the same entries
 * and reports all of it instead of skipping it silently: undecodable
 * records, index 0, duplicates, a torn tail, gaps, terms that decrease.
 * The entries to import are the contiguous run that starts at the lowest
 * index (one record per index, the last one written).
 *
 * Any bytes at all give a report: no crash, no read outside the buffers,
 * and allocation bounded by the input (at most 32 bytes per record of 10
 * bytes or more, plus the largest payload, plus RLOG_DENGINE_ISSUES_MAX
 * issues). Suitable for a fuzz harness.
 */
#ifndef RLOG_TOOL_DENGINE_H
#define RLOG_TOOL_DENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rlog/rlog.h"

/* Issues kept one by one; the counters in the report stay complete. */
#define RLOG_DENGINE_ISSUES_MAX 1000u
/* HardState sizes in bincode 1.x. */
#define RLOG_DENGINE_HS_BYTES_NO_VOTE 9u
#define RLOG_DENGINE_HS_BYTES_VOTE 22u

enum rlog_dengine_issue_kind {
	RLOG_DENGINE_UNDECODABLE = 1, /* a record that is no Entry rlog keeps */
	RLOG_DENGINE_INDEX_ZERO = 2,  /* an Entry with index 0 */
	RLOG_DENGINE_DUPLICATE = 3,   /* an index written more than once */
	RLOG_DENGINE_GAP = 4,	      /* indexes missing between two others */
	RLOG_DENGINE_TERM_DECREASE = 5, /* an entry's term below its previous */
	RLOG_DENGINE_TORN_TAIL = 6,	/* the file ends inside a record */
	RLOG_DENGINE_HARD_STATE = 7	/* hard_state.bin does not decode */
};

struct rlog_dengine_issue {
	enum rlog_dengine_issue_kind kind;
	bool problem;	 /* false: a note (legal; nothing is lost) */
	uint64_t offset; /* in log.data, or in hard_state.bin */
	uint64_t index;	 /* the entry index concerned, 0 when none */
	char what[240];
};

/* One decodable record of log.data. */
struct rlog_dengine_rec {
	uint64_t offset; /* of its length prefix */
	uint64_t index;
	uint64_t term;
	uint32_t body_len; /* the Entry message starts at offset + 8 */
	uint32_t kind;	   /* enum rlog_payload_kind */
};

struct rlog_dengine_report {
	/* log.data */
	uint64_t log_bytes;
	uint64_t records;     /* records framed (length + body) */
	uint64_t decoded;     /* decoded, index >= 1 */
	uint64_t undecodable; /* did not decode, or over rlog's cap */
	uint64_t index_zero;  /* decoded with index 0 */
	uint64_t duplicates;  /* superseded by a later record of its index */
	uint64_t duplicates_differ; /* ... whose bytes differ from the kept */
	bool torn;		    /* the file ends inside a record */
	uint64_t torn_offset;
	uint64_t torn_bytes;
	uint64_t distinct; /* distinct indexes */
	uint64_t min_index;
	uint64_t max_index;
	uint64_t missing; /* indexes in [min, max] with no record */
	/* What to import: run[0..run_len) in index order, contiguous from
	 * min_index, terms not decreasing. */
	const struct rlog_dengine_rec *run;
	size_t run_len;
	uint64_t left_out; /* distinct indexes after the run */

	/* hard_state.bin */
	bool hs_present;
	bool hs_valid;
	uint64_t hs_bytes;
	uint64_t hs_trailing; /* bytes after the HardState (bincode 1.x
				 ignores them, so does d-engine) */
	struct rlog_hard_state hs;

	struct rlog_dengine_issue *issues;
	size_t issues_len;
	size_t issues_dropped;
	size_t problems; /* issues with problem set, dropped ones included */

	struct rlog_dengine_rec *recs; /* owned; run points into it */
	size_t recs_len;
};

/*
 * Parse log.data (log[0..log_len)) and hard_state.bin (hs[0..hs_len), when
 * hs_present) into *out. Returns 0 (whatever the bytes) or RLOG_ENOMEM.
 * Free *out with rlog_dengine_report_free in both cases.
 */
int rlog_dengine_parse(const uint8_t *log, size_t log_len, const uint8_t *hs,
		       size_t hs_len, bool hs_present,
		       struct rlog_dengine_report *out);

void rlog_dengine_report_free(struct rlog_dengine_report *r);

/*
 * Decode a bincode 1.x HardState. Returns 0 with *out filled and *used the
 * bytes it took (9 or 22), or RLOG_ECORRUPT with why saying what is wrong.
 */
int rlog_dengine_hard_state_decode(const uint8_t *buf, size_t len,
				   struct rlog_hard_state *out, size_t *used,
				   char *why, size_t why_len);

#endif /* RLOG_TOOL_DENGINE_H */
