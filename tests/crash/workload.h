/*
 * workload.h: what the real-process crash tests write and how they check
 * it, shared by the writer program (tests/crash/writer.c), the crash driver
 * (tests/crash/crash_test.c) and the full-disk test. Needs no cmocka, so a
 * plain program can use it.
 *
 * Every entry's bytes are derived from its index and term alone: a reader
 * that knows (index, term) knows the exact payload, kind and length, so a
 * process that never saw the writer can check that an entry is
 * byte-identical to what was acknowledged.
 */
#ifndef RLOG_TEST_WORKLOAD_H
#define RLOG_TEST_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rlog/rlog.h"

/* Largest payload wl_entry produces, in bytes. */
#define WL_PAYLOAD_MAX_BYTES 400u

/* Payload length of the entry (index, term): 0 (a no-op entry) for about
 * one entry in sixteen, else 1 .. WL_PAYLOAD_MAX_BYTES. */
size_t wl_payload_len(uint64_t index, uint64_t term);

/* Fill buf (len bytes) with the payload of the entry (index, term). */
void wl_payload(uint8_t *buf, size_t len, uint64_t index, uint64_t term);

/* Build the entry (index, term) into *e; its payload goes to buf, which
 * must hold WL_PAYLOAD_MAX_BYTES and outlive the use of *e. */
void wl_entry(struct rlog_entry *e, uint8_t *buf, uint64_t index,
	      uint64_t term);

/* True when e is exactly the entry (index, term): index, term, kind,
 * length and every payload byte. */
bool wl_entry_ok(const struct rlog_entry *e, uint64_t index, uint64_t term);

/* The hard state the workloads save for a term: the vote fields are
 * derived from the term so that a loaded value can be checked whole. */
struct rlog_hard_state wl_hard_state(uint64_t term);

/* True when hs is exactly wl_hard_state(hs->current_term). */
bool wl_hard_state_ok(const struct rlog_hard_state *hs);

/* A small seeded PRNG (splitmix64): the same seed gives the same
 * sequence on every machine. */
uint64_t wl_rand(uint64_t *state);

/* Uniform in [0, n); n > 0. */
uint64_t wl_rand_below(uint64_t *state, uint64_t n);

#endif
