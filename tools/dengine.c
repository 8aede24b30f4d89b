/*
 * dengine.c: parse d-engine's FileStorageEngine files (see dengine.h).
 *
 * Every length read from the input is checked against what is left of the
 * buffer before use; every loop is bounded by the input's size. Entry
 * bodies go through the engine's own decoder (rlog_tool_entry_decode), so
 * what is reported importable is exactly what rlog stores.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dengine.h"
#include "tool.h"

#define LEN_PREFIX_BYTES 8u
/* Offsets of superseded copies named in one duplicate issue. */
#define DUP_OFFSETS_SHOWN 4u

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

static void issue(struct rlog_dengine_report *r,
		  enum rlog_dengine_issue_kind kind, bool is_problem,
		  uint64_t offset, uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void issue(struct rlog_dengine_report *r,
		  enum rlog_dengine_issue_kind kind, bool is_problem,
		  uint64_t offset, uint64_t index, const char *fmt, ...)
{
	if (is_problem) {
		r->problems++;
	}
	if (r->issues_len >= RLOG_DENGINE_ISSUES_MAX || r->issues == NULL) {
		r->issues_dropped++;
		return;
	}
	struct rlog_dengine_issue *is = &r->issues[r->issues_len++];
	memset(is, 0, sizeof(*is));
	is->kind = kind;
	is->problem = is_problem;
	is->offset = offset;
	is->index = index;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(is->what, sizeof(is->what), fmt, ap);
	va_end(ap);
}

int rlog_dengine_hard_state_decode(const uint8_t *buf, size_t len,
				   struct rlog_hard_state *out, size_t *used,
				   char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	*used = 0;
	if (len < RLOG_DENGINE_HS_BYTES_NO_VOTE) {
		snprintf(why, why_len,
			 "%zu bytes: a HardState needs %u (no vote) or %u", len,
			 RLOG_DENGINE_HS_BYTES_NO_VOTE,
			 RLOG_DENGINE_HS_BYTES_VOTE);
		return RLOG_ECORRUPT;
	}
	out->current_term = get_le(buf, 8);
	uint8_t tag = buf[8];
	if (tag == 0) {
		*used = RLOG_DENGINE_HS_BYTES_NO_VOTE;
		return 0;
	}
	if (tag != 1) {
		snprintf(why, why_len,
			 "byte 8 (the vote's option tag) is %u, not 0 or 1",
			 tag);
		return RLOG_ECORRUPT;
	}
	if (len < RLOG_DENGINE_HS_BYTES_VOTE) {
		snprintf(why, why_len,
			 "%zu bytes: a HardState with a vote needs %u", len,
			 RLOG_DENGINE_HS_BYTES_VOTE);
		return RLOG_ECORRUPT;
	}
	uint8_t committed = buf[21];
	if (committed > 1) {
		snprintf(why, why_len,
			 "byte 21 (vote committed) is %u, not 0 or 1",
			 committed);
		return RLOG_ECORRUPT;
	}
	out->has_vote = true;
	out->voted_for_id = (uint32_t)get_le(buf + 9, 4);
	out->voted_for_term = get_le(buf + 13, 8);
	out->committed = committed == 1;
	*used = RLOG_DENGINE_HS_BYTES_VOTE;
	return 0;
}

/* First pass: frame the records (no allocation). Returns how many have a
 * body of 2 bytes or more (the only ones that can carry an index). */
static size_t frame_count(const uint8_t *log, size_t log_len)
{
	size_t n = 0;
	size_t pos = 0;
	while (log_len - pos >= LEN_PREFIX_BYTES) {
		uint64_t len = get_be64(log + pos);
		size_t left = log_len - pos - LEN_PREFIX_BYTES;
		if (len > left) {
			break;
		}
		if (len >= 2) {
			n++;
		}
		pos += LEN_PREFIX_BYTES + (size_t)len;
	}
	return n;
}

/* Second pass: decode every framed record. */
static int decode_all(struct rlog_dengine_report *r, const uint8_t *log,
		      size_t log_len, size_t cap)
{
	uint8_t *scratch = NULL;
	size_t scratch_cap = 0;
	size_t pos = 0;
	int rv = 0;
	while (pos < log_len) {
		if (log_len - pos < LEN_PREFIX_BYTES) {
			r->torn = true;
			r->torn_offset = pos;
			r->torn_bytes = log_len - pos;
			break;
		}
		uint64_t len = get_be64(log + pos);
		size_t left = log_len - pos - LEN_PREFIX_BYTES;
		if (len > left) {
			r->torn = true;
			r->torn_offset = pos;
			r->torn_bytes = log_len - pos;
			break;
		}
		r->records++;
		const uint8_t *body = log + pos + LEN_PREFIX_BYTES;
		struct rlog_entry e;
		int dc = RLOG_ECORRUPT;
		if (len > 0 && len <= UINT32_MAX) {
			dc = rlog_tool_entry_decode(body, (size_t)len, &e,
						    &scratch, &scratch_cap);
		}
		if (dc == RLOG_ENOMEM) {
			rv = RLOG_ENOMEM;
			break;
		}
		if (len == 0 || (dc == 0 && e.index == 0)) {
			r->index_zero++;
			issue(r, RLOG_DENGINE_INDEX_ZERO, true, pos, 0,
			      "an entry with index 0 (%" PRIu64
			      " body bytes): not a log entry, not imported",
			      len);
		} else if (dc != 0) {
			r->undecodable++;
			issue(r, RLOG_DENGINE_UNDECODABLE, true, pos, 0,
			      "%" PRIu64 " body bytes that are not an Entry "
			      "rlog can keep (bad wire format, unknown "
			      "fields, or a payload over %u bytes)",
			      len, RLOG_ENTRY_SIZE_MAX_BYTES);
		} else if (r->recs_len < cap) {
			struct rlog_dengine_rec *x = &r->recs[r->recs_len++];
			x->offset = pos;
			x->index = e.index;
			x->term = e.term;
			x->body_len = (uint32_t)len;
			x->kind = (uint32_t)e.kind;
			r->decoded++;
		}
		pos += LEN_PREFIX_BYTES + (size_t)len;
	}
	free(scratch);
	if (rv == 0 && r->torn) {
		issue(r, RLOG_DENGINE_TORN_TAIL, false, r->torn_offset, 0,
		      "torn tail: the last %" PRIu64 " bytes are a record "
		      "cut short (d-engine drops them too)",
		      r->torn_bytes);
	}
	return rv;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rlog_dengine_rec *x = a, *y = b;
	if (x->index != y->index) {
		return x->index < y->index ? -1 : 1;
	}
	return (x->offset > y->offset) - (x->offset < y->offset);
}

static bool same_bytes(const uint8_t *log, const struct rlog_dengine_rec *a,
		       const struct rlog_dengine_rec *b)
{
	return a->body_len == b->body_len &&
	       memcmp(log + a->offset + LEN_PREFIX_BYTES,
		      log + b->offset + LEN_PREFIX_BYTES, a->body_len) == 0;
}

/* Keep the last record of every index (d-engine's rule), in index order. */
static void dedupe(struct rlog_dengine_report *r, const uint8_t *log)
{
	size_t out = 0;
	for (size_t i = 0; i < r->recs_len;) {
		size_t j = i;
		while (j + 1 < r->recs_len &&
		       r->recs[j + 1].index == r->recs[i].index) {
			j++;
		}
		const struct rlog_dengine_rec *kept = &r->recs[j];
		if (j > i) {
			size_t differ = 0;
			char offs[128] = "";
			size_t used = 0;
			for (size_t k = i; k < j; k++) {
				if (!same_bytes(log, &r->recs[k], kept)) {
					differ++;
				}
				if (k - i < DUP_OFFSETS_SHOWN &&
				    used < sizeof(offs)) {
					int n = snprintf(
					    offs + used, sizeof(offs) - used,
					    "%s%" PRIu64, k > i ? ", " : "",
					    r->recs[k].offset);
					used += n > 0 ? (size_t)n : 0;
				}
			}
			r->duplicates += j - i;
			r->duplicates_differ += differ;
			issue(r, RLOG_DENGINE_DUPLICATE, false, kept->offset,
			      kept->index,
			      "index %" PRIu64 " written %zu times: the last "
			      "(offset %" PRIu64 ", term %" PRIu64
			      ") is kept, as d-engine does; superseded at "
			      "offset(s) %s%s, differing from it: %zu",
			      kept->index, j - i + 1, kept->offset, kept->term,
			      offs, j - i > DUP_OFFSETS_SHOWN ? ", ..." : "",
			      differ);
		}
		r->recs[out++] = *kept;
		i = j + 1;
	}
	r->recs_len = out;
}

/* The run to import, and every gap and term decrease after it. */
static void find_run(struct rlog_dengine_report *r)
{
	r->distinct = r->recs_len;
	if (r->recs_len == 0) {
		return;
	}
	r->min_index = r->recs[0].index;
	r->max_index = r->recs[r->recs_len - 1].index;
	r->missing = (r->max_index - r->min_index + 1) - r->distinct;
	r->run = r->recs;
	r->run_len = 1;
	bool open = true;
	for (size_t i = 1; i < r->recs_len; i++) {
		const struct rlog_dengine_rec *p = &r->recs[i - 1];
		const struct rlog_dengine_rec *c = &r->recs[i];
		uint64_t after = r->recs_len - i;
		if (c->index != p->index + 1) {
			issue(r, RLOG_DENGINE_GAP, true, c->offset, c->index,
			      "gap: indexes %" PRIu64 "..%" PRIu64
			      " missing (%" PRIu64 ")%s",
			      p->index + 1, c->index - 1,
			      c->index - p->index - 1,
			      open ? "; the import stops before it" : "");
			open = false;
		} else if (c->term < p->term) {
			issue(r, RLOG_DENGINE_TERM_DECREASE, true, c->offset,
			      c->index,
			      "entry %" PRIu64 " has term %" PRIu64
			      ", below entry %" PRIu64 "'s term %" PRIu64 "%s",
			      c->index, c->term, p->index, p->term,
			      open ? "; the import stops before it" : "");
			open = false;
		}
		if (open) {
			r->run_len++;
		} else if (r->left_out == 0) {
			r->left_out = after;
		}
	}
}

/* Issues in file order (log.data first). */
static int issue_cmp(const void *a, const void *b)
{
	const struct rlog_dengine_issue *x = a, *y = b;
	bool xh = x->kind == RLOG_DENGINE_HARD_STATE;
	bool yh = y->kind == RLOG_DENGINE_HARD_STATE;
	if (xh != yh) {
		return xh ? 1 : -1;
	}
	if (x->offset != y->offset) {
		return x->offset < y->offset ? -1 : 1;
	}
	return (x->kind > y->kind) - (x->kind < y->kind);
}

int rlog_dengine_parse(const uint8_t *log, size_t log_len, const uint8_t *hs,
		       size_t hs_len, bool hs_present,
		       struct rlog_dengine_report *out)
{
	memset(out, 0, sizeof(*out));
	if (log == NULL) {
		log_len = 0;
	}
	out->log_bytes = log_len;
	out->issues = calloc(RLOG_DENGINE_ISSUES_MAX, sizeof(*out->issues));
	if (out->issues == NULL) {
		return RLOG_ENOMEM;
	}
	size_t cap = log_len > 0 ? frame_count(log, log_len) : 0;
	if (cap > 0) {
		out->recs = calloc(cap, sizeof(*out->recs));
		if (out->recs == NULL) {
			return RLOG_ENOMEM;
		}
	}
	if (log_len > 0) {
		int rv = decode_all(out, log, log_len, cap);
		if (rv != 0) {
			return rv;
		}
	}
	if (out->recs_len > 1) {
		qsort(out->recs, out->recs_len, sizeof(*out->recs), rec_cmp);
	}
	dedupe(out, log);
	find_run(out);
	if (out->issues_len > 1) {
		qsort(out->issues, out->issues_len, sizeof(*out->issues),
		      issue_cmp);
	}
	out->hs_present = hs_present;
	if (hs_present) {
		out->hs_bytes = hs_len;
		char why[160];
		size_t used = 0;
		if (hs == NULL) {
			hs_len = 0;
		}
		if (rlog_dengine_hard_state_decode(hs, hs_len, &out->hs, &used,
						   why, sizeof(why)) == 0) {
			out->hs_valid = true;
			out->hs_trailing = hs_len - used;
		} else {
			issue(out, RLOG_DENGINE_HARD_STATE, true, 0, 0,
			      "hard_state.bin does not decode: %s (d-engine "
			      "would start with no term and no vote)",
			      why);
		}
	}
	return 0;
}

void rlog_dengine_report_free(struct rlog_dengine_report *r)
{
	free(r->issues);
	free(r->recs);
	memset(r, 0, sizeof(*r));
}
