/*
 * internal.h: what the engine's modules share and nothing outside sees.
 *
 * The handle (struct rlog), the on-disk constants of format v1 (specified
 * byte by byte in docs/FORMAT.md), the in-memory index, and the helpers for
 * errors, allocation and little-endian encoding. Symbols that cross module
 * boundaries are named rlog__<module>_<verb>; everything else is static.
 */
#ifndef RLOG_INTERNAL_H
#define RLOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rlog/rlog.h"
#include "rlog/vfs.h"

/* ---- Assertions: programmer errors only, never disk bytes. ---- */
#define RLOG_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			rlog__assert_fail(#cond, __FILE__, __LINE__);          \
		}                                                              \
	} while (0)
void rlog__assert_fail(const char *expr, const char *file, int line);

/* ---- Format v1 constants (docs/FORMAT.md). ---- */
#define RLOG__FORMAT_VERSION 1u

/* CRC32C seed for every checksum: non-zero, so an all-zero region never
 * validates. Record checksums are further seeded by the segment's
 * sequence number (rlog__seg_seed). */
#define RLOG__CRC_SEED 0x726c6f67u /* "rlog" */

#define RLOG__SEG_MAGIC "RLOGSEG1"
#define RLOG__SEG_HEADER_BYTES 64u
#define RLOG__REC_HEADER_BYTES 40u
#define RLOG__REC_ALIGN 8u
#define RLOG__REC_ENTRY 1u
#define RLOG__REC_TRUNCATE 2u
/* Largest record body accepted from disk: the largest payload plus the
 * protobuf framing around it. Independent of the open's options, so a log
 * written with a larger entry_size_max_bytes still opens. */
#define RLOG__REC_BODY_MAX_BYTES (RLOG_ENTRY_SIZE_MAX_BYTES + 64u)

#define RLOG__META_NAME "meta"
#define RLOG__LOCK_NAME "LOCK"
#define RLOG__META_MAGIC "RLOGMETA"
#define RLOG__META_SLOT_BYTES 128u
#define RLOG__META_SLOT_A_OFFSET 0u
#define RLOG__META_SLOT_B_OFFSET 4096u
#define RLOG__META_HS_SAVED 0x1u
#define RLOG__META_HS_VOTE 0x2u
#define RLOG__META_HS_COMMITTED 0x4u

/* Largest segment sequence number and meta generation: far beyond any
 * real use, and far enough below 2^64 that nothing wraps. */
#define RLOG__SEQ_MAX (UINT64_C(1) << 62)
#define RLOG__GENERATION_MAX (UINT64_C(1) << 62)
/* What is read from disk must leave room to go on: a segment name or meta
 * generation within this much of its cap is not accepted, so even a
 * crafted directory can always create new segments and save again. */
#define RLOG__HEADROOM (UINT64_C(1) << 32)

/* Segment file names: 16 lowercase hex digits of the sequence number. */
#define RLOG__SEG_NAME_LEN 20 /* "%016llx.seg" */

/* Seal files (seal.c): "%016llx.seal", a 64-byte header, then 16 bytes per
 * run of equal terms and 8 per entry. */
#define RLOG__SEAL_NAME_LEN 21
#define RLOG__SEAL_MAGIC "RLOGSEAL"
#define RLOG__SEAL_HEADER_BYTES 64u
#define RLOG__SEAL_RUN_BYTES 16u
#define RLOG__SEAL_ENT_BYTES 8u
/* The smallest ENTRY record: header and a 2-byte body, padded. */
#define RLOG__SEAL_RECORD_MIN_BYTES 48u
/* Most segment files kept open at once; others are reopened on demand. */
#define RLOG__OPEN_FILES_MAX 64u
/* Read-ahead window used by recovery. */
#define RLOG__READ_WINDOW_BYTES (1024u * 1024u)

_Static_assert(RLOG__REC_HEADER_BYTES % RLOG__REC_ALIGN == 0,
	       "record header keeps alignment");
_Static_assert(RLOG__SEG_HEADER_BYTES % RLOG__REC_ALIGN == 0,
	       "segment header keeps alignment");
_Static_assert(RLOG__META_SLOT_BYTES <= 512u, "a meta slot fits a sector");
_Static_assert(RLOG__META_SLOT_B_OFFSET >= 4096u,
	       "meta slots never share a 4 KiB sector");

/* ---- Little-endian helpers. ---- */
static inline void rlog__put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}
static inline void rlog__put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}
static inline uint32_t rlog__get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}
static inline uint64_t rlog__get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}
static inline uint64_t rlog__align8(uint64_t n)
{
	return (n + (RLOG__REC_ALIGN - 1)) & ~(uint64_t)(RLOG__REC_ALIGN - 1);
}

/* ---- CRC32C (crc32c.c). ---- */
/* Extend crc (a previous result, or a seed) over len bytes. Picks the
 * SSE4.2 instruction at run time when the CPU has it. */
uint32_t rlog__crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable and hardware paths, exposed for tests. The hardware one
 * returns false when the CPU lacks it. */
uint32_t rlog__crc32c_sw(uint32_t crc, const void *buf, size_t len);
bool rlog__crc32c_hw(uint32_t crc, const void *buf, size_t len, uint32_t *out);

/* ---- Records (record.c). The only module that sees protobuf-c. ---- */
struct rlog__rec {
	uint32_t type;	   /* RLOG__REC_ENTRY or RLOG__REC_TRUNCATE */
	uint32_t body_len; /* bytes of the protobuf Entry (0: truncate) */
	uint32_t group; /* truncate: entry records that follow in its group */
	uint64_t index; /* entry index, or the truncate's from index */
	uint64_t term;	/* entry term, 0 for truncate */
	uint64_t durable_offset; /* bytes of this segment synced when written */
	uint64_t size_bytes;	 /* whole record, header + body + padding */
	const uint8_t *body;	 /* points into the caller's buffer */
};

enum rlog__rec_status {
	RLOG__REC_OK = 0,
	RLOG__REC_SHORT = 1, /* fewer bytes available than the record needs */
	RLOG__REC_ZERO = 2,  /* the header is all zero bytes */
	RLOG__REC_BAD = 3    /* checksum or field check failed */
};

uint32_t rlog__seg_seed(uint64_t seq);
/* Encoded size of an entry's protobuf body. */
size_t rlog__entry_body_size(const struct rlog_entry *e);
/* protobuf-c's own encoding of e, for tests that compare it with the
 * engine's hand encoder; returns the bytes written to out. */
size_t rlog__entry_body_pack_reference(const struct rlog_entry *e,
				       uint8_t *out);
/* Size of a whole ENTRY record for e. */
uint64_t rlog__entry_record_size(const struct rlog_entry *e);
/* Write a record into dst (which has room for its size_bytes); body is
 * produced from e for ENTRY records (e == NULL for TRUNCATE). Returns the
 * record's size in bytes. */
size_t rlog__rec_put(uint8_t *dst, uint32_t seed, uint32_t type, uint32_t group,
		     uint64_t index, uint64_t term, uint64_t durable_offset,
		     const struct rlog_entry *e);
/* Parse and check one record at buf[0..avail). On RLOG__REC_SHORT,
 * *need_bytes is how many bytes the record needs (when known). */
enum rlog__rec_status rlog__rec_check(const uint8_t *buf, uint64_t avail,
				      uint32_t seed, struct rlog__rec *out,
				      uint64_t *need_bytes);
/* Does an ENTRY body name exactly this index and term? (Recovery checks it
 * without keeping the payload.) 0, RLOG_ECORRUPT or RLOG_ENOMEM. */
int rlog__entry_check(const struct rlog_allocator *a, const uint8_t *body,
		      size_t len, uint64_t index, uint64_t term);
/* Decode an ENTRY body into *out. The payload points into body when the
 * bytes are in the canonical form the engine writes; otherwise (any other
 * valid encoding) it is copied into *pbuf, grown with the allocator as
 * needed. Either way it is valid as long as both body and *pbuf are.
 * Returns 0, RLOG_ECORRUPT or RLOG_ENOMEM. */
int rlog__entry_decode(const struct rlog_allocator *a, const uint8_t *body,
		       size_t len, struct rlog_entry *out, uint8_t **pbuf,
		       size_t *pbuf_cap);
/* Segment header. */
void rlog__seg_header_put(uint8_t *dst, uint64_t seq, uint64_t first_index,
			  uint64_t prev_seq, uint64_t prev_end_offset,
			  uint64_t durable_offset);
struct rlog__seg_header {
	uint32_t version;
	uint64_t seq;
	uint64_t first_index;
	uint64_t prev_seq;
	uint64_t prev_end_offset;
	uint64_t
	    durable_offset; /* bytes synced before the header was written */
};
/* 0, RLOG_ECORRUPT (bad magic/checksum/fields) or RLOG_EVERSION. */
int rlog__seg_header_check(const uint8_t *buf, size_t len,
			   struct rlog__seg_header *out);

/* Seal file header (seal.c, docs/FORMAT.md). */
struct rlog__seal_header {
	uint64_t seq;
	uint64_t end_offset; /* where the segment's records end */
	uint64_t start;	     /* entries below it come from earlier segments */
	uint64_t first;	     /* index of the first entry listed */
	uint32_t count;	     /* entries listed */
	uint32_t runs;	     /* runs of equal terms */
	uint32_t body_crc;
};
void rlog__seal_header_put(uint8_t *dst, const struct rlog__seal_header *h);
/* 0, RLOG_ECORRUPT (bad magic/checksum/fields) or RLOG_EVERSION. */
int rlog__seal_header_check(const uint8_t *buf, size_t len,
			    struct rlog__seal_header *out);
/* Size of the whole seal file the header describes. */
uint64_t rlog__seal_file_bytes(const struct rlog__seal_header *h);

/* ---- Meta slots (meta.c): hard state, purge boundary, min_seq. ---- */
struct rlog__meta {
	uint64_t generation; /* bumped by every write; 0 = never written */
	uint32_t flags;	     /* RLOG__META_HS_* */
	uint64_t current_term;
	uint32_t voted_for_id;
	uint64_t voted_for_term;
	uint64_t purge_index;
	uint64_t purge_term;
	uint64_t min_seq; /* segments with a smaller sequence number are dead */
};
void rlog__meta_encode(const struct rlog__meta *m,
		       uint8_t out[RLOG__META_SLOT_BYTES]);
/* 0 valid, 1 all zero (never written), RLOG_ECORRUPT, RLOG_EVERSION. */
int rlog__meta_decode(const uint8_t *buf, size_t len, struct rlog__meta *out);

/* ---- The handle. ---- */
struct rlog__seg {
	uint64_t seq;
	uint64_t first_index;	  /* from the header */
	uint64_t prev_seq;	  /* from the header */
	uint64_t prev_end_offset; /* from the header */
	uint64_t end_offset;	  /* where the next record goes */
	uint64_t durable_offset;  /* bytes known synced */
	uint64_t evidence_offset; /* the largest durable offset on disk */
	uint64_t file_bytes;	  /* size of the file: written up to here */
	uint64_t touch_low;  /* lowest index a record here touches (seal) */
	bool seal_used;	     /* recovery rebuilt it from its seal */
	bool no_zero_ahead;  /* zeros ahead met a full disk: none again */
	bool clean_mark;     /* recovery found a clean-close mark at its end */
	bool header_vouched; /* a record on disk proves the header durable */
	struct rlog_file *file; /* NULL while closed */
	bool header_written;	/* false until the first write lands */
	char name[RLOG__SEG_NAME_LEN + 1];
};

/* One live entry of the in-memory index: 24 bytes, no payload. */
struct rlog__ent {
	uint64_t term;
	struct rlog__seg *seg;
	uint32_t offset_bytes; /* of its record in seg */
	uint32_t size_bytes;   /* of its whole record */
};
_Static_assert(sizeof(struct rlog__ent) <= 24, "index stays small");

struct rlog {
	struct rlog_vfs *vfs;
	struct rlog_vfs *owned_vfs; /* the POSIX VFS made from opts->dir */
	struct rlog_allocator alloc;
	uint64_t segment_size_bytes;
	uint32_t entry_size_max_bytes;
	uint32_t preallocate_bytes; /* 0: off */
	bool seals; /* write and use seals (not verify_on_open) */

	struct rlog_file *lock_file;
	struct rlog_file *meta_file; /* NULL until meta exists */
	struct rlog__meta meta;
	bool meta_b_first; /* slot A holds the only good copy: write B first */

	/* The live chain of segments in sequence order. */
	struct rlog__seg **segs;
	size_t segs_len;
	size_t segs_cap;
	uint64_t next_seq;
	bool tail_ok; /* appends may go to the end of the last segment */
	uint32_t open_files;

	/* Files left from interrupted operations, removed by purge/reset. */
	char (*orphans)[RLOG_VFS_NAME_MAX + 1];
	size_t orphans_len;
	size_t orphans_cap;

	/* In-memory index of live entries: ents[ents_off + (i - ents_first)].
	 */
	struct rlog__ent *ents;
	void *ents_block; /* the allocation ents points into (aligned) */
	size_t ents_off;
	size_t ents_len;
	size_t ents_cap;
	uint64_t ents_first; /* index of the first live entry slot */

	bool poisoned;
	bool dir_dirty; /* a create/remove not yet made durable */

	uint8_t *wbuf; /* write batch buffer */
	size_t wbuf_cap;
	uint8_t *rbuf; /* read buffer */
	size_t rbuf_cap;
	uint8_t *pbuf; /* payload handed out by get/scan */
	size_t pbuf_cap;
	uint8_t *sbuf; /* read-ahead window of one rlog_scan call */
	size_t sbuf_cap;

	char errmsg[512];
};

/* Ask the kernel to back [p, p + len) with huge pages (both 2 MiB
 * aligned); a hint only, ignored where unsupported (vfs_posix.c). */
void rlog__advise_huge_pages(void *p, size_t len);
#define RLOG__HUGE_PAGE_BYTES ((size_t)2 << 20)

/* Batches up to this size get zeros written ahead (log.c, zero_ahead). */
#define RLOG__ZERO_AHEAD_BATCH_MAX ((uint64_t)32 << 10)

/* Allocation through the handle's allocator. */
void *rlog__malloc(const struct rlog_allocator *a, size_t size);
void *rlog__realloc(const struct rlog_allocator *a, void *p, size_t size);
void rlog__free(const struct rlog_allocator *a, void *p);
/* Grow *buf to at least need bytes. 0 or RLOG_ENOMEM. */
int rlog__grow(const struct rlog_allocator *a, uint8_t **buf, size_t *cap,
	       size_t need);

/* Record the context of an error on the handle; returns code. */
int rlog__err(struct rlog *log, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Map a negative errno from the VFS to an RLOG_E* code. */
int rlog__errno_code(int neg_errno);
/* A short name for a negative errno, e.g. "EIO". */
const char *rlog__errno_name(int neg_errno);
/* Poison the handle after a failed mutation and record why. */
int rlog__poison(struct rlog *log, int neg_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rlog_vfs_posix_free that reports the close of the directory (vfs_posix.c):
 * 0 or a negative errno. */
int rlog__vfs_posix_close(struct rlog_vfs *vfs);

/* Meta I/O (meta.c). */
int rlog__meta_load(struct rlog *log);
/* Save m to both slots, durably; op names the caller in error messages. */
int rlog__meta_store(struct rlog *log, const struct rlog__meta *m,
		     const char *op);

/* Segments (segment.c). */
int rlog__seg_file(struct rlog *log, struct rlog__seg *s,
		   struct rlog_file **out);
int rlog__recover(struct rlog *log);
void rlog__seg_free(struct rlog *log, struct rlog__seg *s);
void rlog__seg_name(char *buf, uint64_t seq);
bool rlog__seg_parse_name(const char *name, uint64_t *seq);

/* Seals (seal.c). */
void rlog__seal_name(char *buf, uint64_t seq);
bool rlog__seal_parse_name(const char *name, uint64_t *seq);
/* Write the seal of s, which was just synced up to its end and whose
 * entries end the index. Best effort: failures leave no seal. */
void rlog__seal_write(struct rlog *log, struct rlog__seg *s);
/* Read the header of segment seq's seal into *h: false when seals are off
 * or there is no valid one. */
bool rlog__seal_peek(struct rlog *log, uint64_t seq,
		     struct rlog__seal_header *h);
/* Rebuild s's part of the index from its seal, if there is one that holds
 * for a segment ending at end_offset after which the log continues at
 * next_index; *expected is the log's next index before and after. *used says
 * whether it was. 0 or an RLOG error (the index was changed when the error
 * came). */
int rlog__seal_load(struct rlog *log, struct rlog__seg *s, uint64_t end_offset,
		    uint64_t next_index, uint64_t *expected, bool *used);

/* Index (log.c). */
struct rlog__ent *rlog__ent_at(const struct rlog *log, uint64_t index);
uint64_t rlog__ents_last(const struct rlog *log);
int rlog__ents_push(struct rlog *log, uint64_t index, uint64_t term,
		    struct rlog__seg *seg, uint64_t offset, uint64_t size);
void rlog__ents_truncate(struct rlog *log, uint64_t from_index);
/* Make room for extra more entries at once (recovery sizes the index from
 * the segment sizes, so it is not copied as it grows). */
int rlog__ents_reserve(struct rlog *log, size_t extra);
void rlog__ents_purge(struct rlog *log, uint64_t through_index);

#endif /* RLOG_INTERNAL_H */
