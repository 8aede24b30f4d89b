/*
 * fuzz/fuzz.h: what the fuzz harnesses, their replay driver and the corpus
 * generator share: the entry point, a failure helper, and the input layouts
 * that make_corpus.c writes and the harnesses read.
 *
 * Every harness is one file defining LLVMFuzzerTestOneInput. It is built
 * three ways: for libFuzzer (clang -fsanitize=fuzzer), for AFL++ persistent
 * mode (afl-clang-fast -fsanitize=fuzzer links AFL's driver), and as a plain
 * replay executable (replay_main.c) that ctest runs over the corpora. A
 * harness reports a violated property with fuzz_fail(), which prints the
 * message and aborts, so every fuzzer sees it as a crash. Harnesses are
 * deterministic: no clock, no randomness, no state kept between inputs.
 */
#ifndef RLOG_FUZZ_FUZZ_H
#define RLOG_FUZZ_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rlog/rlog.h"

/* The libFuzzer entry point; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print "fuzz: HARNESS: MESSAGE" to stderr and abort. */
static inline void fuzz_fail(const char *harness, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static inline void fuzz_fail(const char *harness, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fuzz: %s: ", harness);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fflush(stderr);
	abort();
}

/* True when rv is RLOG_OK or one of the closed set of RLOG_E* codes. */
static inline int fuzz_typed(int rv)
{
	return rv <= 0 && rv >= -9; /* RLOG_OK .. RLOG_EVERSION */
}

/* FNV-1a over len bytes, continuing from h. */
static inline uint64_t fuzz_hash(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++) {
		h = (h ^ b[i]) * 0x100000001b3ull;
	}
	return h;
}
#define FUZZ_HASH_INIT 0xcbf29ce484222325ull

/*
 * fuzz_segment_load input: a 10-byte header, then the files' bytes.
 *
 *   0     flags (FUZZ_SEG_*); a count selector of 3 means one segment
 *         plus stray files whose names recovery must ignore
 *   1     sequence number selector: the first segment is 1 + byte 1, or
 *         with FUZZ_SEG_TOP_SEQ the last one is UINT64_MAX - byte 1
 *   2     gaps between sequence numbers: low nibble + 1 (first to second),
 *         high nibble + 1 (second to third)
 *   3     with FUZZ_SEG_FAULT: the VFS operation number (1 + byte 3) that
 *         fails with EIO during the first open, or with FUZZ_SEG_ALLOC
 *         too, the allocation number (1 + byte 3) of that open that fails
 *   4-5   length of segment 1 (little-endian) when there are 2 or 3
 *   6-7   length of segment 2 when there are 3
 *   8-9   length of the meta file when there is one
 *   10..  segments 1..n-1, then meta, then the last segment (the rest);
 *         lengths are clipped to what is left.
 */
#define FUZZ_SEG_HDR_BYTES 10u
#define FUZZ_SEG_COUNT_MASK 0x03u /* segments: 1 + (flags & 3) % 3 */
#define FUZZ_SEG_META 0x04u	  /* a meta file is present */
/* Recompute the checksums of segment headers, of every record whose framing
 * parses (an all-zero record header is left alone) and of both meta slots
 * (an all-zero slot is left alone), so mutations reach the checks behind
 * the checksums. */
#define FUZZ_SEG_FIX_CRC 0x08u
#define FUZZ_SEG_SMALL 0x10u   /* 4 KiB segments instead of the default */
#define FUZZ_SEG_FAULT 0x20u   /* fail one VFS op of the first open */
#define FUZZ_SEG_TOP_SEQ 0x40u /* sequence numbers near UINT64_MAX */
#define FUZZ_SEG_ALLOC 0x80u   /* with FAULT: fail an allocation instead */
#define FUZZ_SEG_FILES_MAX 3u  /* segment files per input */

/*
 * fuzz_record_decode input: one flags byte, the segment's sequence number
 * (8 bytes, little-endian; it seeds the record checksum), then the record.
 */
#define FUZZ_REC_HDR_BYTES 9u
#define FUZZ_REC_FIX_CRC 0x01u	/* recompute the record's checksum first */
#define FUZZ_REC_RAW_BODY 0x02u /* the rest is an Entry body, no framing */

/*
 * fuzz_crash_schedule input: a 5-byte header, then one command per group of
 * bytes (the opcode byte picks the command, 0-3 more bytes its arguments).
 *
 *   0     device: bits 0-1 fate (random, ordered_writes, lose_unsynced,
 *         keep_unsynced), bit 2 atomic_sectors, bit 3 safe_append, bit 4
 *         4096-byte sectors, bit 5 4 KiB segments (else 64 KiB), bit 6 also
 *         crash once inside the recovery (nested)
 *   1-2   crash point selector (little-endian): the trial crashes after VFS
 *         operation 1 + selector % (operations of the run as written)
 *   3     trial fate: 0 lose unsynced, 1 keep unsynced, 2+ the device's
 *   4     seed of the simulated disk (payloads, garbage, random fates)
 *   5..   commands; at most FUZZ_CS_CMDS_MAX are generated
 */
#define FUZZ_CS_HDR_BYTES 5u
#define FUZZ_CS_CMDS_MAX 40u
enum fuzz_cs_op {
	FUZZ_CS_APPEND = 0,    /* +2 bytes: count/size, kind/term step */
	FUZZ_CS_SYNC = 1,      /* no argument */
	FUZZ_CS_TRUNCATE = 2,  /* +1 byte: where in [first, last + 1] */
	FUZZ_CS_REPLACE = 3,   /* +3 bytes: where, count/size, kind/term */
	FUZZ_CS_PURGE = 4,     /* +1 byte: where (past last: snapshot) */
	FUZZ_CS_RESET = 5,     /* no argument */
	FUZZ_CS_HARDSTATE = 6, /* +1 byte: term step and vote */
	FUZZ_CS_REOPEN = 7,    /* no argument */
	FUZZ_CS_CHECK = 8,     /* no argument */
	FUZZ_CS_OP_COUNT = 9
};

/* ---- fuzz_seal_load's base log, which make_corpus.c builds too. ---- */

/* Append (or replace with) first..last of one term, payloads of size bytes
 * that depend on index and term, then sync. 0 or the failing call's code;
 * *what names the call. */
static inline int fuzz_seal_base_put(struct rlog *log, bool replace,
				     uint64_t first, uint64_t last,
				     uint64_t term, size_t size,
				     const char **what)
{
	struct rlog_entry es[32];
	uint8_t buf[32][256];
	size_t n = (size_t)(last - first + 1);
	*what = "base log: batch too large";
	if (n > 32 || size > sizeof(buf[0])) {
		return RLOG_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < size; k++) {
			buf[i][k] =
			    (uint8_t)((first + i) * 31u + k * 7u + term * 13u);
		}
		es[i] = (struct rlog_entry){.index = first + i,
					    .term = term,
					    .kind = i % 7 == 3
							? RLOG_PAYLOAD_CONFIG
							: RLOG_PAYLOAD_COMMAND,
					    .payload = buf[i],
					    .payload_len = size};
	}
	*what = replace ? "replace" : "append";
	int rv = replace ? rlog_replace(log, es, n) : rlog_append(log, es, n);
	if (rv == 0) {
		*what = "sync";
		rv = rlog_sync(log);
	}
	return rv;
}

/* The workload on a log opened with 4 KiB segments (docs at the top of
 * fuzz_seal_load.c): three segments, a purge in the first while it is the
 * last, truncates back across segment boundaries, a replace. 0 or the
 * failing call's code, named in *what. */
static inline int fuzz_seal_base_build(struct rlog *log, const char **what)
{
	static const struct {
		uint8_t op; /* 0 append, 1 replace, 2 purge, 3 truncate */
		uint8_t first, last, term;
		uint16_t size;
	} steps[] = {
	    {0, 1, 6, 1, 90},
	    {0, 7, 12, 2, 90},
	    {2, 8, 0, 2, 0},
	    {0, 13, 18, 3, 120},
	    {0, 19, 24, 3, 120},
	    /* Segment 2 starts here. */
	    {0, 25, 30, 3, 200},
	    {3, 23, 0, 0, 0},
	    {0, 23, 28, 4, 150},
	    {1, 26, 30, 5, 100},
	    {0, 31, 36, 5, 180},
	    /* Segment 3. */
	    {0, 37, 44, 6, 160},
	    {3, 30, 0, 0, 0},
	    {0, 30, 32, 7, 60},
	};
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		int rv;
		if (steps[k].op == 2) {
			*what = "purge";
			rv = rlog_purge(log, steps[k].first, steps[k].term);
		} else if (steps[k].op == 3) {
			*what = "truncate";
			rv = rlog_truncate(log, steps[k].first);
		} else {
			rv = fuzz_seal_base_put(
			    log, steps[k].op == 1, steps[k].first,
			    steps[k].last, steps[k].term, steps[k].size, what);
		}
		if (rv != 0) {
			return rv;
		}
	}
	return 0;
}

#endif /* RLOG_FUZZ_FUZZ_H */
