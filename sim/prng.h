/*
 * sim/prng.h: the seeded pseudo-random generator behind every random choice
 * the simulator makes.
 *
 * The generator is xoshiro256** seeded through splitmix64. It owns nothing
 * but its 256-bit state, which lives in a struct the caller owns: there is
 * no global state, so two generators with the same seed produce the same
 * stream on any machine, whatever else runs in the process. Byte order
 * never leaks into results (rlog_sim_prng_fill is little-endian by
 * definition).
 */
#ifndef RLOG_SIM_PRNG_H
#define RLOG_SIM_PRNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The generator state. Treat it as opaque; copying it forks the stream. */
struct rlog_sim_prng {
	uint64_t s[4];
};

/* Seed the generator. Every seed, including 0, gives a valid state. */
void rlog_sim_prng_init(struct rlog_sim_prng *prng, uint64_t seed);

/* Return the next 64 uniformly distributed bits. */
uint64_t rlog_sim_prng_next_u64(struct rlog_sim_prng *prng);

/* Return a uniform value in [0, n) without modulo bias. n must be nonzero;
 * for n == 0 the result is 0. The rejection loop is capped at 64 draws, and
 * a draw is rejected with probability below one half, so the cap is
 * reached with probability below 2^-64. */
uint64_t rlog_sim_prng_below(struct rlog_sim_prng *prng, uint64_t n);

/* Return true with probability num/den (den nonzero; num >= den is always
 * true, num == 0 always false). Always consumes randomness, so the stream
 * does not depend on the probability. */
bool rlog_sim_prng_chance(struct rlog_sim_prng *prng, uint64_t num,
			  uint64_t den);

/* Fill len bytes of buf with random bytes. Each 64-bit draw supplies eight
 * bytes, least significant first, so filling n bytes gives a prefix of
 * filling any m >= n bytes from the same state. */
void rlog_sim_prng_fill(struct rlog_sim_prng *prng, void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RLOG_SIM_PRNG_H */
