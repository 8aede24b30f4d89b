/*
 * fuzz_dengine_import: d-engine's logs/log.data and meta/hard_state.bin, as
 * `rlog import-dengine` reads them (tools/dengine.c).
 *
 * Input layout: a 4-byte little-endian length L, one flag byte (bit 0: a
 * hard_state.bin exists), then L bytes of log.data (clipped to what is
 * there) and the rest as hard_state.bin. Any bytes must parse without a
 * crash, and the report must hold together: every count within the one
 * above it, the run to import contiguous from the lowest index with terms
 * not decreasing, each run record's body decoding again to its index and
 * term, a valid hard state only from 9 or more bytes.
 */
#include <stdbool.h>
#include <string.h>

#include "dengine.h"
#include "fuzz.h"
#include "internal.h"
#include "tool.h"

#define NAME "fuzz_dengine_import"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void check_run(const struct rlog_dengine_report *r, const uint8_t *log,
		      size_t log_len)
{
	uint8_t *scratch = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < r->run_len; i++) {
		const struct rlog_dengine_rec *x = &r->run[i];
		if (x->index != r->min_index + i) {
			fuzz_fail(NAME,
				  "run[%zu] has index %llu, expected %llu", i,
				  (unsigned long long)x->index,
				  (unsigned long long)(r->min_index + i));
		}
		if (i > 0 && x->term < r->run[i - 1].term) {
			fuzz_fail(NAME, "run[%zu] term %llu decreases", i,
				  (unsigned long long)x->term);
		}
		if (x->offset + 8 + x->body_len > log_len) {
			fuzz_fail(NAME,
				  "run[%zu] body past the end of log.data", i);
		}
		struct rlog_entry e;
		int rv = rlog_tool_entry_decode(
		    log + x->offset + 8, x->body_len, &e, &scratch, &cap);
		if (rv != 0 || e.index != x->index || e.term != x->term) {
			fuzz_fail(NAME,
				  "run[%zu] at offset %llu does not decode "
				  "to index %llu term %llu again",
				  i, (unsigned long long)x->offset,
				  (unsigned long long)x->index,
				  (unsigned long long)x->term);
		}
	}
	free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5) {
		return 0;
	}
	size_t log_len = le32(data);
	bool hs_present = (data[4] & 1) != 0;
	const uint8_t *rest = data + 5;
	size_t rest_len = size - 5;
	if (log_len > rest_len) {
		log_len = rest_len;
	}
	const uint8_t *hs = rest + log_len;
	size_t hs_len = rest_len - log_len;
	struct rlog_dengine_report r;
	int rv = rlog_dengine_parse(rest, log_len, hs, hs_len, hs_present, &r);
	if (rv != 0 && rv != RLOG_ENOMEM) {
		fuzz_fail(NAME, "parse returned %d", rv);
	}
	if (rv == 0) {
		if (r.decoded + r.undecodable + r.index_zero > r.records ||
		    r.distinct > r.decoded || r.run_len > r.distinct ||
		    r.duplicates_differ > r.duplicates) {
			fuzz_fail(NAME, "counts do not hold together");
		}
		if (r.torn && r.torn_offset + r.torn_bytes != log_len) {
			fuzz_fail(NAME, "torn tail does not reach the end");
		}
		if (r.hs_valid &&
		    (!hs_present || r.hs_bytes < 9 || r.hs_bytes > hs_len)) {
			fuzz_fail(NAME, "a valid hard state from %llu bytes",
				  (unsigned long long)r.hs_bytes);
		}
		check_run(&r, rest, log_len);
	}
	rlog_dengine_report_free(&r);
	return 0;
}
