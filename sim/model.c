/*
 * sim/model.c: the reference model and the invariant checker.
 *
 * See model.h for the model. The checker compares a recovered handle with
 * every legal state (the durable log plus each prefix of the pending
 * operations) and names the invariant a mismatch breaks.
 */
#include "model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

static void say(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

/* ---- Model logs. ---- */
uint64_t rlog_sim_mlog_last(const struct rlog_sim_mlog *l)
{
	return l->purge_index + l->len;
}

const struct rlog_sim_ment *rlog_sim_mlog_at(const struct rlog_sim_mlog *l,
					     uint64_t index)
{
	if (index <= l->purge_index || index > rlog_sim_mlog_last(l)) {
		return NULL;
	}
	return &l->ents[index - l->purge_index - 1];
}

static int mlog_push(struct rlog_sim_mlog *l, struct rlog_sim_ment e)
{
	if (l->len == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		void *n = realloc(l->ents, ncap * sizeof(*l->ents));
		if (n == NULL) {
			return -ENOMEM;
		}
		l->ents = n;
		l->cap = ncap;
	}
	l->ents[l->len++] = e;
	return 0;
}

static void mlog_truncate(struct rlog_sim_mlog *l, uint64_t from)
{
	if (from <= l->purge_index + 1) {
		l->len = 0;
		return;
	}
	uint64_t keep = from - l->purge_index - 1;
	if (keep < l->len) {
		l->len = (size_t)keep;
	}
}

static void mlog_purge(struct rlog_sim_mlog *l, uint64_t index, uint64_t term)
{
	if (index <= l->purge_index) {
		return;
	}
	if (index >= rlog_sim_mlog_last(l)) {
		l->len = 0;
	} else {
		size_t drop = (size_t)(index - l->purge_index);
		memmove(l->ents, l->ents + drop,
			(l->len - drop) * sizeof(*l->ents));
		l->len -= drop;
	}
	l->purge_index = index;
	l->purge_term = term;
}

static int mlog_copy(struct rlog_sim_mlog *dst, const struct rlog_sim_mlog *src)
{
	struct rlog_sim_ment *e = NULL;
	size_t cap = src->len ? src->len : 1;
	e = malloc(cap * sizeof(*e));
	if (e == NULL) {
		return -ENOMEM;
	}
	if (src->len) {
		memcpy(e, src->ents, src->len * sizeof(*e));
	}
	free(dst->ents);
	*dst = *src;
	dst->ents = e;
	dst->cap = cap;
	return 0;
}

/* Steps an op contributes to the prefix order. */
static uint64_t op_steps(const struct rlog_sim_op *op)
{
	if (op->kind == RLOG_SIM_OP_APPEND) {
		return op->last - op->first + 1;
	}
	return 1;
}

/* Apply step `step` (0-based) of op to l. */
static int op_apply_step(struct rlog_sim_mlog *l, const struct rlog_sim_op *op,
			 uint64_t step)
{
	switch (op->kind) {
	case RLOG_SIM_OP_APPEND:
		(void)step;
		return mlog_push(l, op->ment);
	case RLOG_SIM_OP_TRUNCATE:
		mlog_truncate(l, op->first);
		return 0;
	case RLOG_SIM_OP_GROUP:
		mlog_truncate(l, op->first);
		for (uint64_t i = op->first; i <= op->last; i++) {
			int rv = mlog_push(l, op->ment);
			if (rv != 0) {
				return rv;
			}
		}
		return 0;
	case RLOG_SIM_OP_PURGE:
		mlog_purge(l, op->first, op->ment.term);
		return 0;
	case RLOG_SIM_OP_RESET:
		l->len = 0;
		l->purge_index = 0;
		l->purge_term = 0;
		return 0;
	}
	return 0;
}

/* ---- The model. ---- */
void rlog_sim_model_init(struct rlog_sim_model *m, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	m->seed = seed;
}

void rlog_sim_model_free(struct rlog_sim_model *m)
{
	free(m->durable.ents);
	free(m->cur.ents);
	free(m->pending);
	memset(m, 0, sizeof(*m));
}

int rlog_sim_model_copy(struct rlog_sim_model *dst,
			const struct rlog_sim_model *src)
{
	struct rlog_sim_model t = *src;
	t.durable.ents = NULL;
	t.cur.ents = NULL;
	t.pending = NULL;
	if (mlog_copy(&t.durable, &src->durable) != 0 ||
	    mlog_copy(&t.cur, &src->cur) != 0) {
		rlog_sim_model_free(&t);
		return -ENOMEM;
	}
	t.pending_cap = src->pending_len ? src->pending_len : 1;
	t.pending = malloc(t.pending_cap * sizeof(*t.pending));
	if (t.pending == NULL) {
		rlog_sim_model_free(&t);
		return -ENOMEM;
	}
	if (src->pending_len) {
		memcpy(t.pending, src->pending,
		       src->pending_len * sizeof(*t.pending));
	}
	*dst = t;
	return 0;
}

void rlog_sim_payload(uint64_t seed, uint64_t index,
		      const struct rlog_sim_ment *e, uint8_t *buf)
{
	struct rlog_sim_prng p;
	rlog_sim_prng_init(&p, seed ^ (index * 0x9E3779B97F4A7C15ull) ^
				   (e->term * 0xC2B2AE3D27D4EB4Full) ^
				   ((uint64_t)e->size_bytes << 40) ^ e->kind);
	rlog_sim_prng_fill(&p, buf, e->size_bytes);
}

static int push_op(struct rlog_sim_model *m, struct rlog_sim_op op)
{
	if (m->pending_len == m->pending_cap) {
		size_t ncap = m->pending_cap ? m->pending_cap * 2 : 32;
		void *n = realloc(m->pending, ncap * sizeof(*m->pending));
		if (n == NULL) {
			return -ENOMEM;
		}
		m->pending = n;
		m->pending_cap = ncap;
	}
	m->pending[m->pending_len++] = op;
	return 0;
}

/* Make everything so far durable: durable = cur, nothing pending. */
static int settle(struct rlog_sim_model *m)
{
	m->pending_len = 0;
	return mlog_copy(&m->durable, &m->cur);
}

int rlog_sim_model_append(struct rlog_sim_model *m, uint64_t first,
			  uint64_t last, struct rlog_sim_ment e, bool ok)
{
	struct rlog_sim_op op = {RLOG_SIM_OP_APPEND, first, last, e};
	if (!ok) {
		m->poisoned = true;
		/* A failed write may still have reached the disk, but only
		 * as a continuation of the current log. */
		if (first != rlog_sim_mlog_last(&m->cur) + 1) {
			return 0;
		}
		return push_op(m, op);
	}
	for (uint64_t i = first; i <= last; i++) {
		int rv = mlog_push(&m->cur, e);
		if (rv != 0) {
			return rv;
		}
	}
	return push_op(m, op);
}

int rlog_sim_model_sync(struct rlog_sim_model *m, bool ok)
{
	if (!ok) {
		m->poisoned = true;
		return 0;
	}
	return settle(m);
}

int rlog_sim_model_truncate(struct rlog_sim_model *m, uint64_t from, bool ok)
{
	struct rlog_sim_op op = {RLOG_SIM_OP_TRUNCATE, from, from, {0, 0, 0}};
	if (!ok) {
		m->poisoned = true;
		return push_op(m, op);
	}
	mlog_truncate(&m->cur, from);
	return push_op(m, op);
}

int rlog_sim_model_replace(struct rlog_sim_model *m, uint64_t first,
			   uint64_t last, struct rlog_sim_ment e, bool ok)
{
	struct rlog_sim_op op = {RLOG_SIM_OP_GROUP, first, last, e};
	if (!ok) {
		m->poisoned = true;
		return push_op(m, op);
	}
	int rv = op_apply_step(&m->cur, &op, 0);
	if (rv != 0) {
		return rv;
	}
	return settle(m);
}

int rlog_sim_model_purge(struct rlog_sim_model *m, uint64_t index,
			 uint64_t term, bool ok)
{
	struct rlog_sim_op op = {RLOG_SIM_OP_PURGE, index, index, {term, 0, 0}};
	if (!ok) {
		m->poisoned = true;
		return push_op(m, op);
	}
	mlog_purge(&m->cur, index, term);
	return settle(m);
}

int rlog_sim_model_reset(struct rlog_sim_model *m, bool ok)
{
	struct rlog_sim_op op = {RLOG_SIM_OP_RESET, 0, 0, {0, 0, 0}};
	if (!ok) {
		m->poisoned = true;
		return push_op(m, op);
	}
	m->cur.len = 0;
	m->cur.purge_index = 0;
	m->cur.purge_term = 0;
	return settle(m);
}

void rlog_sim_model_hardstate(struct rlog_sim_model *m,
			      const struct rlog_hard_state *hs, bool ok)
{
	if (ok) {
		m->hs_acked_set = true;
		m->hs_acked = *hs;
		m->hs_inflight_set = false;
		return;
	}
	m->poisoned = true;
	m->hs_inflight_set = true;
	m->hs_inflight = *hs;
}

/* ---- Checking. ---- */
static bool hs_equal(const struct rlog_hard_state *a,
		     const struct rlog_hard_state *b)
{
	if (a->current_term != b->current_term || a->has_vote != b->has_vote) {
		return false;
	}
	if (!a->has_vote) {
		return true;
	}
	return a->voted_for_id == b->voted_for_id &&
	       a->voted_for_term == b->voted_for_term &&
	       a->committed == b->committed;
}

static void hs_text(char *buf, size_t len, bool set,
		    const struct rlog_hard_state *hs)
{
	if (!set) {
		snprintf(buf, len, "none");
	} else if (hs->has_vote) {
		snprintf(buf, len,
			 "term=%llu vote=%u vote_term=%llu committed=%d",
			 (unsigned long long)hs->current_term, hs->voted_for_id,
			 (unsigned long long)hs->voted_for_term,
			 hs->committed ? 1 : 0);
	} else {
		snprintf(buf, len, "term=%llu",
			 (unsigned long long)hs->current_term);
	}
}

/* Do the handle's indexes and terms equal l's? With allow_loss, the handle
 * may also hold only a prefix of l (damage was injected). */
static bool terms_match(const struct rlog_sim_mlog *l, struct rlog *log,
			bool allow_loss)
{
	uint64_t pi, pt;
	rlog_purged(log, &pi, &pt);
	if (pi != l->purge_index || pt != l->purge_term) {
		return false;
	}
	if (rlog_last_index(log) != rlog_sim_mlog_last(l) &&
	    (!allow_loss || rlog_last_index(log) > rlog_sim_mlog_last(l))) {
		return false;
	}
	for (uint64_t i = pi + 1; i <= rlog_last_index(log); i++) {
		uint64_t t;
		if (rlog_term(log, i, &t) != 0 ||
		    t != rlog_sim_mlog_at(l, i)->term) {
			return false;
		}
	}
	return true;
}

/* Read every entry and compare it byte for byte with l. */
static int payloads_match(const struct rlog_sim_model *m,
			  const struct rlog_sim_mlog *l, struct rlog *log,
			  char *msg, size_t len)
{
	uint8_t *want = NULL;
	size_t want_cap = 0;
	int rv = 0;
	for (uint64_t i = l->purge_index + 1; i <= rlog_last_index(log); i++) {
		const struct rlog_sim_ment *e = rlog_sim_mlog_at(l, i);
		struct rlog_entry got;
		int g = rlog_get(log, i, &got);
		if (g == RLOG_ECORRUPT && m->damage_injected) {
			/* Damage to a segment recovery did not need to read
			 * (it had a seal) shows when the entry is read:
			 * reported as corruption, which is invariant 5. */
			say(msg, len, "%s", rlog_errmsg(log));
			rv = 2;
			break;
		}
		if (g != 0) {
			say(msg, len,
			    "invariant 1: entry %llu unreadable after "
			    "recovery: "
			    "%s (%s)",
			    (unsigned long long)i, rlog_strerror(g),
			    rlog_errmsg(log));
			rv = -1;
			break;
		}
		if (want_cap < e->size_bytes) {
			free(want);
			want_cap = e->size_bytes;
			want = malloc(want_cap);
			if (want == NULL) {
				rv = -ENOMEM;
				break;
			}
		}
		rlog_sim_payload(m->seed, i, e, want);
		if (got.index != i || got.term != e->term ||
		    (uint8_t)got.kind != e->kind ||
		    got.payload_len != e->size_bytes ||
		    (e->size_bytes > 0 &&
		     memcmp(got.payload, want, e->size_bytes) != 0)) {
			say(msg, len,
			    "invariant 1: entry %llu is not byte-identical: "
			    "expected term %llu kind %u size %u, found term "
			    "%llu kind %d size %zu%s",
			    (unsigned long long)i, (unsigned long long)e->term,
			    e->kind, e->size_bytes,
			    (unsigned long long)got.term, (int)got.kind,
			    got.payload_len,
			    got.payload_len == e->size_bytes ? " (bytes differ)"
							     : "");
			rv = -1;
			break;
		}
	}
	free(want);
	return rv;
}

static void describe_mismatch(const struct rlog_sim_model *m, struct rlog *log,
			      const struct rlog_sim_mlog *full, char *msg,
			      size_t len)
{
	const struct rlog_sim_mlog *d = &m->durable;
	uint64_t pi, pt;
	rlog_purged(log, &pi, &pt);
	uint64_t last = rlog_last_index(log);
	bool removes = false;
	for (size_t i = 0; i < m->pending_len; i++) {
		if (m->pending[i].kind != RLOG_SIM_OP_APPEND) {
			removes = true;
		}
	}
	if (pi < d->purge_index) {
		say(msg, len,
		    "invariant 3: purge boundary went back: acknowledged "
		    "%llu, found %llu",
		    (unsigned long long)d->purge_index, (unsigned long long)pi);
		return;
	}
	/* First index where the handle differs from the durable state. */
	for (uint64_t i = pi + 1; i <= rlog_sim_mlog_last(d) || i <= last;
	     i++) {
		const struct rlog_sim_ment *e = rlog_sim_mlog_at(d, i);
		uint64_t t = 0;
		bool have = rlog_term(log, i, &t) == 0 && i <= last;
		if (e != NULL && !have && !removes) {
			say(msg, len,
			    "invariant 1: acknowledged entry %llu (term %llu) "
			    "lost: log recovered as [%llu, %llu], acknowledged "
			    "[%llu, %llu]",
			    (unsigned long long)i, (unsigned long long)e->term,
			    (unsigned long long)(pi + 1),
			    (unsigned long long)last,
			    (unsigned long long)(d->purge_index + 1),
			    (unsigned long long)rlog_sim_mlog_last(d));
			return;
		}
		if (have && (e == NULL || e->term != t)) {
			const struct rlog_sim_ment *f =
			    rlog_sim_mlog_at(full, i);
			say(msg, len,
			    "invariant %s: entry %llu recovered with term "
			    "%llu, "
			    "but no legal state has it (acknowledged: %s%llu, "
			    "after all pending operations: %s%llu)",
			    e == NULL && f != NULL ? "2" : "3",
			    (unsigned long long)i, (unsigned long long)t,
			    e ? "term " : "absent",
			    (unsigned long long)(e ? e->term : 0),
			    f ? "term " : "absent",
			    (unsigned long long)(f ? f->term : 0));
			return;
		}
		if (i == UINT64_MAX) {
			break;
		}
	}
	say(msg, len,
	    "invariant 2: recovered log [%llu, %llu] purged (%llu, %llu) "
	    "equals "
	    "no prefix of the operations since the last sync (acknowledged "
	    "[%llu, %llu], after all pending [%llu, %llu])",
	    (unsigned long long)(pi + 1), (unsigned long long)last,
	    (unsigned long long)pi, (unsigned long long)pt,
	    (unsigned long long)(d->purge_index + 1),
	    (unsigned long long)rlog_sim_mlog_last(d),
	    (unsigned long long)(full->purge_index + 1),
	    (unsigned long long)rlog_sim_mlog_last(full));
}

static int check_bounds(struct rlog *log, char *msg, size_t len)
{
	uint64_t pi, pt;
	rlog_purged(log, &pi, &pt);
	uint64_t first = rlog_first_index(log), last = rlog_last_index(log);
	if (first != pi + 1) {
		say(msg, len,
		    "invariant 10: first index %llu but purge boundary %llu",
		    (unsigned long long)first, (unsigned long long)pi);
		return -1;
	}
	if (last + 1 < first) {
		say(msg, len, "invariant 10: last index %llu below first %llu",
		    (unsigned long long)last, (unsigned long long)first);
		return -1;
	}
	struct rlog_entry e;
	if (first > 1 && rlog_get(log, first - 1, &e) != RLOG_ENOTFOUND) {
		say(msg, len,
		    "invariant 10: entry %llu below the first index "
		    "is readable",
		    (unsigned long long)(first - 1));
		return -1;
	}
	if (rlog_get(log, last + 1, &e) != RLOG_ENOTFOUND) {
		say(msg, len,
		    "invariant 10: entry %llu past the last index is readable",
		    (unsigned long long)(last + 1));
		return -1;
	}
	uint64_t t;
	if (pi > 0 && (rlog_term(log, pi, &t) != 0 || t != pt)) {
		say(msg, len,
		    "invariant 10: the purge boundary %llu does not answer "
		    "its term %llu",
		    (unsigned long long)pi, (unsigned long long)pt);
		return -1;
	}
	return 0;
}

static int check_hard_state(struct rlog_sim_model *m, struct rlog *log,
			    bool recovered, char *msg, size_t len)
{
	struct rlog_hard_state hs;
	int rv = rlog_hard_state_load(log, &hs);
	bool have = rv == 0;
	if (rv != 0 && rv != RLOG_ENOTFOUND) {
		say(msg, len, "invariant 4: hard state load failed: %s",
		    rlog_strerror(rv));
		return -1;
	}
	bool ok = false;
	if (!have) {
		ok = !m->hs_acked_set;
	} else {
		ok = (m->hs_acked_set && hs_equal(&hs, &m->hs_acked)) ||
		     (recovered && m->hs_inflight_set &&
		      hs_equal(&hs, &m->hs_inflight));
	}
	if (!ok) {
		char a[96], b[96], c[96];
		hs_text(a, sizeof(a), m->hs_acked_set, &m->hs_acked);
		hs_text(b, sizeof(b), m->hs_inflight_set, &m->hs_inflight);
		hs_text(c, sizeof(c), have, &hs);
		say(msg, len,
		    "invariant 4: hard state is %s; expected the acknowledged "
		    "%s or the one in flight %s",
		    c, a, b);
		return -1;
	}
	if (recovered) {
		m->hs_acked_set = have;
		if (have) {
			m->hs_acked = hs;
		}
		m->hs_inflight_set = false;
	}
	return 0;
}

int rlog_sim_check_recovered(struct rlog_sim_model *m, struct rlog *log,
			     char *msg, size_t msg_len)
{
	if (check_bounds(log, msg, msg_len) != 0) {
		return -1;
	}
	struct rlog_sim_mlog st = {0};
	int rv = mlog_copy(&st, &m->durable);
	if (rv != 0) {
		return rv;
	}
	bool found = false;
	char first_payload_msg[512] = "";
	for (size_t k = 0; k <= m->pending_len && !found; k++) {
		const struct rlog_sim_op *op =
		    k < m->pending_len ? &m->pending[k] : NULL;
		uint64_t steps = op ? op_steps(op) : 1;
		for (uint64_t s = 0; s < steps; s++) {
			if (terms_match(&st, log, m->damage_injected)) {
				char pm[512];
				rv =
				    payloads_match(m, &st, log, pm, sizeof(pm));
				if (rv == 0) {
					found = true;
					break;
				}
				if (rv == 2) {
					say(msg, msg_len, "%s", pm);
					free(st.ents);
					return 1;
				}
				if (rv != -1) {
					free(st.ents);
					return rv;
				}
				if (first_payload_msg[0] == '\0') {
					snprintf(first_payload_msg,
						 sizeof(first_payload_msg),
						 "%s", pm);
				}
			}
			if (op == NULL) {
				break;
			}
			rv = op_apply_step(&st, op, s);
			if (rv != 0) {
				free(st.ents);
				return rv;
			}
		}
	}
	if (!found) {
		if (first_payload_msg[0] != '\0') {
			say(msg, msg_len, "%s", first_payload_msg);
		} else {
			describe_mismatch(m, log, &st, msg, msg_len);
		}
		free(st.ents);
		return -1;
	}
	if (check_hard_state(m, log, true, msg, msg_len) != 0) {
		free(st.ents);
		return -1;
	}
	/* Adopt the recovered state (cut to what survived the damage). */
	mlog_truncate(&st, rlog_last_index(log) + 1);
	free(m->durable.ents);
	m->durable = st;
	rv = mlog_copy(&m->cur, &m->durable);
	m->pending_len = 0;
	m->poisoned = false;
	m->damage_injected = false;
	return rv;
}

int rlog_sim_check_live(struct rlog_sim_model *m, struct rlog *log, char *msg,
			size_t msg_len)
{
	if (check_bounds(log, msg, msg_len) != 0) {
		return -1;
	}
	if (!terms_match(&m->cur, log, false)) {
		uint64_t pi, pt;
		rlog_purged(log, &pi, &pt);
		say(msg, msg_len,
		    "check: live log [%llu, %llu] purged (%llu, %llu) differs "
		    "from the model's [%llu, %llu] purged (%llu, %llu)",
		    (unsigned long long)(pi + 1),
		    (unsigned long long)rlog_last_index(log),
		    (unsigned long long)pi, (unsigned long long)pt,
		    (unsigned long long)(m->cur.purge_index + 1),
		    (unsigned long long)rlog_sim_mlog_last(&m->cur),
		    (unsigned long long)m->cur.purge_index,
		    (unsigned long long)m->cur.purge_term);
		return -1;
	}
	int rv = payloads_match(m, &m->cur, log, msg, msg_len);
	if (rv != 0) {
		return rv == 2 ? -1 : rv;
	}
	return check_hard_state(m, log, false, msg, msg_len);
}

uint64_t rlog_sim_fingerprint(struct rlog *log)
{
	uint64_t h = 1469598103934665603ull;
	uint64_t pi, pt;
	rlog_purged(log, &pi, &pt);
	uint64_t v[4] = {pi, pt, rlog_first_index(log), rlog_last_index(log)};
	for (int i = 0; i < 4; i++) {
		h = (h ^ v[i]) * 1099511628211ull;
	}
	for (uint64_t i = pi + 1; i <= rlog_last_index(log); i++) {
		uint64_t t = 0;
		(void)rlog_term(log, i, &t);
		h = (h ^ t) * 1099511628211ull;
	}
	struct rlog_hard_state hs;
	if (rlog_hard_state_load(log, &hs) == 0) {
		h = (h ^ hs.current_term) * 1099511628211ull;
		h = (h ^ hs.voted_for_id) * 1099511628211ull;
		h = (h ^ hs.voted_for_term) * 1099511628211ull;
		h = (h ^ ((hs.has_vote ? 2u : 0u) + (hs.committed ? 1u : 0u))) *
		    1099511628211ull;
	}
	return h;
}
