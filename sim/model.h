/*
 * sim/model.h: the reference model of what the engine acknowledged, and the
 * checker of the recovery invariants (DESIGN.md, invariants 1-10).
 *
 * The model keeps the log as of the last durability point (`durable`), the
 * operations issued since then (`pending`, each append counted entry by
 * entry), and the log the live handle should show (`cur`). After a crash,
 * the only legal logs are `durable` with some prefix of `pending` applied.
 * Atomic operations (replace, purge, reset) that fail or are cut off by a
 * crash go into `pending` as one indivisible operation, so the prefix rule
 * covers them too. Payload bytes are never stored: they are derived from the
 * run's seed, the index, the term, the size and the kind.
 */
#ifndef RLOG_SIM_MODEL_H
#define RLOG_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rlog/rlog.h"

/* One entry as the model knows it. */
struct rlog_sim_ment {
	uint64_t term;
	uint32_t size_bytes;
	uint8_t kind; /* enum rlog_payload_kind */
};

/* A log state: purge boundary and the live entries (purge_index+1 ...). */
struct rlog_sim_mlog {
	uint64_t purge_index;
	uint64_t purge_term;
	struct rlog_sim_ment *ents;
	size_t len;
	size_t cap;
};

enum rlog_sim_op_kind {
	RLOG_SIM_OP_APPEND = 1, /* entries first..last, one prefix step each */
	RLOG_SIM_OP_TRUNCATE,	/* from = first */
	RLOG_SIM_OP_GROUP,	/* replace: truncate at first, then entries */
	RLOG_SIM_OP_PURGE,	/* purge through first with term */
	RLOG_SIM_OP_RESET
};

struct rlog_sim_op {
	enum rlog_sim_op_kind kind;
	uint64_t first;
	uint64_t last;
	struct rlog_sim_ment ment; /* APPEND/GROUP: every entry; PURGE: term */
};

struct rlog_sim_model {
	uint64_t seed; /* payload derivation */
	struct rlog_sim_mlog durable;
	struct rlog_sim_mlog cur;
	struct rlog_sim_op *pending;
	size_t pending_len;
	size_t pending_cap;
	/* Hard state: the last acknowledged value and one in flight. */
	bool hs_acked_set;
	struct rlog_hard_state hs_acked;
	bool hs_inflight_set;
	struct rlog_hard_state hs_inflight;
	bool poisoned;	      /* a mutating call failed since the open */
	bool damage_injected; /* a bit flip hit the disk since last check */
};

/* Zero-initialise. */
void rlog_sim_model_init(struct rlog_sim_model *m, uint64_t seed);
void rlog_sim_model_free(struct rlog_sim_model *m);
/* Deep copy. 0 or -ENOMEM. */
int rlog_sim_model_copy(struct rlog_sim_model *dst,
			const struct rlog_sim_model *src);

/* Fill buf (size_bytes long) with the payload of entry index. */
void rlog_sim_payload(uint64_t seed, uint64_t index,
		      const struct rlog_sim_ment *e, uint8_t *buf);

/* Record the outcome of engine calls. ok is true when the call returned 0;
 * a failed call is recorded as issued-but-unsure. All return 0 or -ENOMEM. */
int rlog_sim_model_append(struct rlog_sim_model *m, uint64_t first,
			  uint64_t last, struct rlog_sim_ment e, bool ok);
int rlog_sim_model_sync(struct rlog_sim_model *m, bool ok);
int rlog_sim_model_truncate(struct rlog_sim_model *m, uint64_t from, bool ok);
int rlog_sim_model_replace(struct rlog_sim_model *m, uint64_t first,
			   uint64_t last, struct rlog_sim_ment e, bool ok);
int rlog_sim_model_purge(struct rlog_sim_model *m, uint64_t index,
			 uint64_t term, bool ok);
int rlog_sim_model_reset(struct rlog_sim_model *m, bool ok);
void rlog_sim_model_hardstate(struct rlog_sim_model *m,
			      const struct rlog_hard_state *hs, bool ok);

/* Last index and first index of a model log. */
uint64_t rlog_sim_mlog_last(const struct rlog_sim_mlog *l);
/* Entry at index, or NULL. */
const struct rlog_sim_ment *rlog_sim_mlog_at(const struct rlog_sim_mlog *l,
					     uint64_t index);

/*
 * Check a freshly recovered handle against the model (invariants 1-4, 10)
 * and on success adopt its state as the new durable state. Returns 0, or -1
 * with a message naming the invariant, index, expected and found in msg;
 * 1 when damage was injected and reading an entry reported it as
 * corruption (the engine's message in msg); -ENOMEM on allocation failure.
 */
int rlog_sim_check_recovered(struct rlog_sim_model *m, struct rlog *log,
			     char *msg, size_t msg_len);

/*
 * Check a live handle: it must show exactly `cur` (entries byte for byte)
 * and the acknowledged hard state. Returns 0 or -1 with msg.
 */
int rlog_sim_check_live(struct rlog_sim_model *m, struct rlog *log, char *msg,
			size_t msg_len);

/* A compact fingerprint of a handle's visible state (indexes, purge, terms,
 * hard state), for the idempotence check. */
uint64_t rlog_sim_fingerprint(struct rlog *log);

#endif
