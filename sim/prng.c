/*
 * sim/prng.c: xoshiro256** seeded by splitmix64.
 *
 * This module owns no state of its own; everything lives in the caller's
 * struct rlog_sim_prng. Invariant: the state is never all zero (splitmix64
 * cannot produce four zero words in a row from one seed, and xoshiro never
 * reaches the zero state from a nonzero one).
 */
#include "prng.h"

#include <assert.h>

/* Most draws below() makes before giving up on rejection sampling. */
#define PRNG_BELOW_TRIES_MAX 64

/* Advance a splitmix64 counter and return its next mixed output. */
static uint64_t prng_splitmix64(uint64_t *counter)
{
	*counter += 0x9e3779b97f4a7c15ull;
	uint64_t z = *counter;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Rotate x left by k bits, 0 < k < 64. */
static uint64_t prng_rotl(uint64_t x, unsigned k)
{
	return (x << k) | (x >> (64u - k));
}

void rlog_sim_prng_init(struct rlog_sim_prng *prng, uint64_t seed)
{
	assert(prng != NULL);
	uint64_t counter = seed;
	for (int i = 0; i < 4; i++) {
		prng->s[i] = prng_splitmix64(&counter);
	}
	assert((prng->s[0] | prng->s[1] | prng->s[2] | prng->s[3]) != 0);
}

uint64_t rlog_sim_prng_next_u64(struct rlog_sim_prng *prng)
{
	uint64_t *s = prng->s;
	uint64_t result = prng_rotl(s[1] * 5u, 7) * 9u;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = prng_rotl(s[3], 45);
	return result;
}

uint64_t rlog_sim_prng_below(struct rlog_sim_prng *prng, uint64_t n)
{
	assert(n != 0);
	if (n == 0) {
		return 0;
	}
	/* Values below threshold would make the low residues more likely, so
	 * they are rejected; 2^64 - threshold is a multiple of n. */
	uint64_t threshold = (0u - n) % n;
	uint64_t r = rlog_sim_prng_next_u64(prng);
	for (int tries = 1; r < threshold && tries < PRNG_BELOW_TRIES_MAX;
	     tries++) {
		r = rlog_sim_prng_next_u64(prng);
	}
	return r % n;
}

bool rlog_sim_prng_chance(struct rlog_sim_prng *prng, uint64_t num,
			  uint64_t den)
{
	assert(den != 0);
	if (den == 0) {
		return false;
	}
	return rlog_sim_prng_below(prng, den) < num;
}

void rlog_sim_prng_fill(struct rlog_sim_prng *prng, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;
	while (done < len) {
		uint64_t word = rlog_sim_prng_next_u64(prng);
		for (unsigned i = 0; i < 8u && done < len; i++) {
			out[done] = (uint8_t)(word >> (8u * i));
			done++;
		}
	}
}
