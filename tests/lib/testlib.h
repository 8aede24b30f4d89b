/*
 * Shared helpers for the cmocka tests: scratch directories and entries.
 */
#ifndef RLOG_TESTLIB_H
#define RLOG_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rlog/rlog.h"

/* Create a fresh empty directory under $RLOG_TEST_TMPDIR (or /tmp) and
 * return its path in buf. Aborts the test on failure. */
void tl_mkdtemp(char *buf, size_t len, const char *tag);

/* Remove a directory tree made by tl_mkdtemp (files one level deep). */
void tl_rmtree(const char *path);

/* Fill payload bytes derived from (index, term, salt) into buf. */
void tl_payload(uint8_t *buf, size_t len, uint64_t index, uint64_t term,
		uint32_t salt);

/* ---- Added for the API suites (test_dengine_suite, test_api_errors,
 * test_durability). ---- */

#include <stdbool.h>

/* Copy every regular file of directory src (one level deep) into the
 * existing directory dst. Aborts the test on failure. */
void tl_copydir(const char *src, const char *dst);

/* Number of names in dir ending in suffix (e.g. ".seg"). */
size_t tl_count_suffix(const char *dir, const char *suffix);

/* Open an rlog on dir with the given segment size (0: default) and
 * entry cap (0: default); asserts success. */
struct rlog *tl_open_dir(const char *dir, uint64_t segment_size_bytes,
			 uint32_t entry_size_max_bytes);

/* Open an rlog on a caller-owned VFS; returns the rlog_open code. */
int tl_open_vfs(struct rlog_vfs *vfs, uint64_t segment_size_bytes,
		struct rlog **out);

/*
 * A batch of entries whose payload bytes are derived from
 * (index, term, salt) by tl_payload; it owns the payload buffers.
 */
struct tl_batch {
	struct rlog_entry *entries;
	uint32_t *salts;
	size_t n;
	size_t cap;
};

void tl_batch_init(struct tl_batch *b);
void tl_batch_free(struct tl_batch *b);
/* Drop the entries (keeps the allocation). */
void tl_batch_clear(struct tl_batch *b);
/* Add one entry; NONE and NOOP must have len 0. */
void tl_batch_add(struct tl_batch *b, uint64_t index, uint64_t term,
		  enum rlog_payload_kind kind, uint32_t salt, size_t len);

/* One entry of the reference model. */
struct tl_mentry {
	uint64_t term;
	enum rlog_payload_kind kind;
	uint32_t salt;
	size_t len;
};

/*
 * Reference model of what a log must hold: entries
 * [purged_index + 1, last], the purge boundary and the hard state.
 * e is indexed by entry index.
 */
struct tl_model {
	uint64_t purged_index;
	uint64_t purged_term;
	uint64_t last;
	struct tl_mentry *e;
	size_t cap; /* entries e can hold: indexes 0 .. cap - 1 */
	bool has_hs;
	struct rlog_hard_state hs;
};

void tl_model_init(struct tl_model *m, size_t cap);
void tl_model_free(struct tl_model *m);
/* dst must be initialised; it becomes a copy of src. */
void tl_model_copy(struct tl_model *dst, const struct tl_model *src);
uint64_t tl_model_first(const struct tl_model *m);
/* Apply an accepted append (or the append half of a replace). */
void tl_model_append(struct tl_model *m, const struct tl_batch *b);
/* Apply an accepted truncate at from_index. */
void tl_model_truncate(struct tl_model *m, uint64_t from_index);
/* Apply an accepted replace (truncate at first index, append). */
void tl_model_replace(struct tl_model *m, const struct tl_batch *b);
/* Apply an accepted purge (no-op at or below the boundary). */
void tl_model_purge(struct tl_model *m, uint64_t index, uint64_t term);
/* Apply an accepted reset (the hard state is kept). */
void tl_model_reset(struct tl_model *m);
void tl_model_set_hs(struct tl_model *m, const struct rlog_hard_state *hs);

/* Fill buf with the expected payload of entry index of the model. */
void tl_model_payload(const struct tl_model *m, uint64_t index, uint8_t *buf);

/*
 * Compare the open log with the model: first, last, purge boundary, every
 * entry byte for byte (rlog_get and rlog_term) and the hard state (the vote
 * fields and committed only when has_vote). Returns true when equal; else
 * writes the first difference into why.
 */
bool tl_model_matches(struct rlog *log, const struct tl_model *m, char *why,
		      size_t why_len);

/* As tl_model_matches, failing the test with the difference. */
void tl_model_check(struct rlog *log, const struct tl_model *m);

/* Compare one entry with what the model says (kind, term, bytes). */
bool tl_entry_equals(const struct rlog_entry *got, const struct tl_model *m,
		     uint64_t index);

/* True when two hard states are equal (vote fields only with a vote). */
bool tl_hs_equal(const struct rlog_hard_state *a,
		 const struct rlog_hard_state *b);

#endif
