/*
 * workload.c: entry contents derived from (index, term), the hard state
 * derived from a term, and a seeded PRNG. See workload.h.
 */
#include "workload.h"

#include <string.h>

static uint64_t wl_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 31;
	return x;
}

size_t wl_payload_len(uint64_t index, uint64_t term)
{
	uint64_t h = wl_mix(index * 0x9E3779B97F4A7C15ull + term);
	if (h % 16 == 0) {
		return 0;
	}
	return 1 + (size_t)((h >> 8) % WL_PAYLOAD_MAX_BYTES);
}

void wl_payload(uint8_t *buf, size_t len, uint64_t index, uint64_t term)
{
	uint64_t x = wl_mix(index ^ (term << 40) ^ 0x5DEECE66Dull);
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0) {
			x = wl_mix(x + i);
		}
		buf[i] = (uint8_t)(x >> (8 * (i % 8)));
	}
}

void wl_entry(struct rlog_entry *e, uint8_t *buf, uint64_t index, uint64_t term)
{
	size_t len = wl_payload_len(index, term);
	memset(e, 0, sizeof(*e));
	e->index = index;
	e->term = term;
	if (len == 0) {
		e->kind = RLOG_PAYLOAD_NOOP;
		return;
	}
	e->kind = RLOG_PAYLOAD_COMMAND;
	wl_payload(buf, len, index, term);
	e->payload = buf;
	e->payload_len = len;
}

bool wl_entry_ok(const struct rlog_entry *e, uint64_t index, uint64_t term)
{
	size_t len = wl_payload_len(index, term);
	if (e->index != index || e->term != term || e->payload_len != len) {
		return false;
	}
	if (len == 0) {
		return e->kind == RLOG_PAYLOAD_NOOP;
	}
	if (e->kind != RLOG_PAYLOAD_COMMAND || e->payload == NULL) {
		return false;
	}
	uint8_t want[WL_PAYLOAD_MAX_BYTES];
	wl_payload(want, len, index, term);
	return memcmp(want, e->payload, len) == 0;
}

struct rlog_hard_state wl_hard_state(uint64_t term)
{
	struct rlog_hard_state hs;
	memset(&hs, 0, sizeof(hs));
	hs.current_term = term;
	hs.has_vote = term % 4 != 0;
	if (hs.has_vote) {
		hs.voted_for_id = (uint32_t)(term % 5) + 1;
		hs.voted_for_term = term;
		hs.committed = term % 2 == 0;
	}
	return hs;
}

bool wl_hard_state_ok(const struct rlog_hard_state *hs)
{
	struct rlog_hard_state want = wl_hard_state(hs->current_term);
	if (hs->has_vote != want.has_vote) {
		return false;
	}
	if (!want.has_vote) {
		return true;
	}
	return hs->voted_for_id == want.voted_for_id &&
	       hs->voted_for_term == want.voted_for_term &&
	       hs->committed == want.committed;
}

uint64_t wl_rand(uint64_t *state)
{
	*state += 0x9E3779B97F4A7C15ull;
	return wl_mix(*state);
}

uint64_t wl_rand_below(uint64_t *state, uint64_t n)
{
	return wl_rand(state) % n;
}
