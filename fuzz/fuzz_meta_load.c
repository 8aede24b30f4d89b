/*
 * fuzz_meta_load.c: untrusted bytes as the `meta` file (hard state, purge
 * boundary and segment floor in two checksummed slots).
 *
 * The input is the whole file, put durable on a fresh simulated disk with
 * no segment. Each input runs twice: as given, and (when it differs) with
 * the checksum of every non-zero slot recomputed, so mutations also reach
 * the field checks behind the checksum. Properties:
 *   - rlog_open returns 0 or a typed code, and without segments a failure
 *     is ECORRUPT or EVERSION;
 *   - an opened log is empty at the purge boundary (first == purge + 1,
 *     last == purge index) and its hard state loads or is ENOTFOUND;
 *   - rlog_hard_state_save of a state derived from the input, a power cut
 *     and a reopen give back exactly that state and the same boundary;
 *   - an append of last + 1, a sync, a power cut and a reopen keep it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "memvfs.h"
#include "rlog/rlog.h"

#define NAME "fuzz_meta_load"

static struct rlog *must_open(const struct rlog_options *o, const char *when)
{
	struct rlog *log = NULL;
	int rv = rlog_open(o, &log);
	if (rv != 0) {
		fuzz_fail(NAME, "%s: open failed: %s: %s", when,
			  rlog_strerror(rv), rlog_open_errmsg());
	}
	return log;
}

/* The log must be empty at its purge boundary. */
static void check_bounds(struct rlog *log, uint64_t *pi, uint64_t *pt,
			 const char *when)
{
	rlog_purged(log, pi, pt);
	uint64_t first = rlog_first_index(log), last = rlog_last_index(log);
	if (first != *pi + 1 || last != *pi) {
		fuzz_fail(NAME,
			  "%s: first %llu last %llu with purge index %llu and "
			  "no segment",
			  when, (unsigned long long)first,
			  (unsigned long long)last, (unsigned long long)*pi);
	}
}

static bool hs_equal(const struct rlog_hard_state *a,
		     const struct rlog_hard_state *b)
{
	if (a->current_term != b->current_term || a->has_vote != b->has_vote) {
		return false;
	}
	return !a->has_vote || (a->voted_for_id == b->voted_for_id &&
				a->voted_for_term == b->voted_for_term &&
				a->committed == b->committed);
}

static void crash_reopen(struct rlog_sim_disk *disk,
			 const struct rlog_options *o, struct rlog **log,
			 const char *when)
{
	if (rlog_sim_disk_crash(disk) != 0) {
		fuzz_fail(NAME, "crash: out of memory");
	}
	rlog_close(*log);
	*log = must_open(o, when);
}

static void run(const uint8_t *data, size_t size, uint64_t h)
{
	struct rlog_sim_disk *disk = NULL;
	if (rlog_sim_disk_new(NULL, 1, &disk) != 0) {
		fuzz_fail(NAME, "disk_new failed");
	}
	if (rlog_sim_disk_put_file(disk, RLOG__META_NAME, data, size) != 0) {
		fuzz_fail(NAME, "put_file meta failed");
	}
	struct rlog_options o;
	rlog_options_init(&o);
	o.vfs = rlog_sim_disk_vfs(disk);
	struct rlog *log = NULL;
	int rv = rlog_open(&o, &log);
	if (!fuzz_typed(rv)) {
		fuzz_fail(NAME, "open returned %d, not an RLOG code", rv);
	}
	if (rv != 0) {
		if (rv != RLOG_ECORRUPT && rv != RLOG_EVERSION) {
			fuzz_fail(NAME, "open failed: %s: %s",
				  rlog_strerror(rv), rlog_open_errmsg());
		}
		rlog_sim_disk_free(disk);
		return;
	}
	uint64_t pi, pt;
	check_bounds(log, &pi, &pt, "open");
	struct rlog_hard_state hs;
	rv = rlog_hard_state_load(log, &hs);
	if (rv != 0 && rv != RLOG_ENOTFOUND) {
		fuzz_fail(NAME, "hard_state_load returned %d", rv);
	}
	uint64_t term = rv == 0 ? hs.current_term : 0;
	if (term < UINT64_MAX && (h & 1)) {
		term++;
	}
	struct rlog_hard_state save = {.current_term = term};
	if (h & 2) {
		save.has_vote = true;
		save.voted_for_id = (uint32_t)(h >> 8);
		save.voted_for_term = h >> 40;
		save.committed = (h & 4) != 0;
	}
	rv = rlog_hard_state_save(log, &save);
	if (rv != 0) {
		fuzz_fail(NAME, "hard_state_save(term %llu): %s: %s",
			  (unsigned long long)term, rlog_strerror(rv),
			  rlog_errmsg(log));
	}
	crash_reopen(disk, &o, &log, "reopen after hard_state_save");
	uint64_t pi2, pt2;
	check_bounds(log, &pi2, &pt2, "reopen after hard_state_save");
	if (pi2 != pi || pt2 != pt) {
		fuzz_fail(NAME, "purge boundary changed by hard_state_save");
	}
	if (rlog_hard_state_load(log, &hs) != 0 || !hs_equal(&hs, &save)) {
		fuzz_fail(NAME, "saved hard state not recovered");
	}
	uint64_t idx = pi + 1;
	struct rlog_entry e = {
	    .index = idx, .term = pt > 0 ? pt : 1, .kind = RLOG_PAYLOAD_NOOP};
	rv = rlog_append(log, &e, 1);
	if (pi == UINT64_MAX) {
		if (rv != RLOG_EINVAL) {
			fuzz_fail(NAME,
				  "append past index UINT64_MAX returned %d",
				  rv);
		}
	} else {
		if (rv == 0) {
			rv = rlog_sync(log);
		}
		if (rv != 0) {
			fuzz_fail(NAME, "append %llu + sync: %s: %s",
				  (unsigned long long)idx, rlog_strerror(rv),
				  rlog_errmsg(log));
		}
		crash_reopen(disk, &o, &log, "reopen after append");
		struct rlog_entry got;
		rv = rlog_get(log, idx, &got);
		if (rv != 0 || rlog_last_index(log) != idx ||
		    got.term != e.term || got.kind != RLOG_PAYLOAD_NOOP) {
			fuzz_fail(NAME, "synced append of %llu lost (%d)",
				  (unsigned long long)idx, rv);
		}
		if (rlog_hard_state_load(log, &hs) != 0 ||
		    !hs_equal(&hs, &save)) {
			fuzz_fail(NAME, "hard state changed by an append");
		}
	}
	rlog_close(log);
	rlog_sim_disk_free(disk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fuzz_hash(FUZZ_HASH_INIT, data, size);
	run(data, size, h);
	/* The same bytes with valid checksums in every non-zero slot. */
	const size_t slots[2] = {RLOG__META_SLOT_A_OFFSET,
				 RLOG__META_SLOT_B_OFFSET};
	uint8_t *p = NULL;
	for (int s = 0; s < 2; s++) {
		size_t off = slots[s];
		if (size < off + RLOG__META_SLOT_BYTES) {
			continue;
		}
		bool zero = true;
		for (size_t i = 0; i < RLOG__META_SLOT_BYTES && zero; i++) {
			zero = data[off + i] == 0;
		}
		uint32_t crc = rlog__crc32c(RLOG__CRC_SEED, data + off, 124);
		if (zero || rlog__get32(data + off + 124) == crc) {
			continue;
		}
		if (p == NULL) {
			p = malloc(size);
			if (p == NULL) {
				return 0;
			}
			memcpy(p, data, size);
		}
		rlog__put32(p + off + 124, crc);
	}
	if (p != NULL) {
		run(p, size, h);
		free(p);
	}
	return 0;
}
