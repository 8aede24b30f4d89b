/*
 * rlog/rlog.h: a crash-safe Raft log store.
 *
 * One handle owns one directory holding a log of entries (index, term,
 * payload) and the node's hard state (current term and vote). This header
 * is the whole contract: what each call does, when its effect is durable,
 * who owns what, and what the handle looks like after a failure.
 *
 * Indexes. Entry indexes are contiguous. The log holds the entries
 * [rlog_first_index, rlog_last_index]; it is empty when last < first.
 * Entries at or below the purge boundary (see rlog_purge) are gone; the
 * first index is always purge index + 1, and the next append must be
 * rlog_last_index + 1.
 *
 * Durability.
 *   - rlog_append and rlog_truncate are buffered: they are durable once a
 *     later rlog_sync returns 0. After a crash the log equals the state after
 *     some prefix of the appends (entry by entry) and truncates issued since
 *     the last successful sync: never a hole, never a truncated entry back.
 *   - rlog_replace, rlog_purge, rlog_reset and rlog_hard_state_save are
 *     durable and atomic when they return 0: after a crash during one of
 *     them the store holds either everything before it or all of it.
 *
 * Errors. Every call that can fail returns 0 or one of the negative RLOG_E*
 * codes below; rlog_strerror names a code and rlog_errmsg gives the context
 * of the handle's last error (operation, file, offset, errno).
 * A failed write, sync, truncate, rename, remove or directory sync poisons
 * the handle: every later mutating call returns RLOG_EFATAL, because after a
 * failed fsync the kernel may already have dropped the data and a retry could
 * falsely succeed. Reads keep working. Close and reopen the log: recovery
 * reads the disk, which is the truth.
 *
 * Threads. A handle is used by one thread at a time. Different handles (on
 * different directories) are independent.
 */
#ifndef RLOG_RLOG_H
#define RLOG_RLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rlog/vfs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RLOG_VERSION_MAJOR 0
#define RLOG_VERSION_MINOR 1
#define RLOG_VERSION_PATCH 0

/* ---- Error codes: a closed set. ---- */
#define RLOG_OK 0
#define RLOG_EINVAL (-1)    /* bad argument or API misuse; nothing changed */
#define RLOG_ENOMEM (-2)    /* allocation failed */
#define RLOG_EIO (-3)	    /* the disk returned an I/O error */
#define RLOG_ENOSPC (-4)    /* no space left (or quota exceeded) */
#define RLOG_ECORRUPT (-5)  /* acknowledged data on disk is damaged */
#define RLOG_ENOTFOUND (-6) /* no such entry, or hard state never saved */
#define RLOG_EFATAL (-7)    /* the handle is poisoned: close and reopen */
#define RLOG_EBUSY (-8)	    /* the directory is open in another handle */
#define RLOG_EVERSION (-9)  /* files written by an unknown format version */

/* ---- Limits: every size rlog accepts or reads has a named cap. ---- */
/* Largest payload of one entry, in bytes (the default of
 * rlog_options.entry_size_max_bytes and its upper bound). */
#define RLOG_ENTRY_SIZE_MAX_BYTES (64u * 1024u * 1024u)
/* Default and bounds of rlog_options.segment_size_bytes. */
#define RLOG_SEGMENT_SIZE_DEFAULT_BYTES (64u * 1024u * 1024u)
#define RLOG_SEGMENT_SIZE_MIN_BYTES (4u * 1024u)
#define RLOG_SEGMENT_SIZE_MAX_BYTES (1024u * 1024u * 1024u)
/* Most entries in one rlog_append or rlog_replace call. */
#define RLOG_BATCH_ENTRIES_MAX 65536u
/* Most bytes one append or replace call may add to the log. */
#define RLOG_BATCH_SIZE_MAX_BYTES (256u * 1024u * 1024u)
/* Most segment files in one directory. */
#define RLOG_SEGMENT_COUNT_MAX 100000u
/* Largest entry index (and purge index) accepted from the API or disk. */
#define RLOG_INDEX_MAX (UINT64_C(1) << 62)

/* ---- Types. ---- */

/* What an entry carries, as d-engine's EntryPayload oneof. */
enum rlog_payload_kind {
	RLOG_PAYLOAD_NONE = 0,	  /* no payload at all */
	RLOG_PAYLOAD_NOOP = 1,	  /* a leader's no-op */
	RLOG_PAYLOAD_COMMAND = 2, /* application command bytes */
	RLOG_PAYLOAD_CONFIG = 3	  /* encoded MembershipChange message */
};

/*
 * One log entry. payload/payload_len are the command bytes or the encoded
 * MembershipChange message; NONE and NOOP carry no bytes (payload_len 0).
 * On the way in the engine copies what it keeps; on the way out (rlog_get,
 * rlog_scan) payload points into memory owned by the handle.
 */
struct rlog_entry {
	uint64_t index;
	uint64_t term;
	enum rlog_payload_kind kind;
	const uint8_t *payload;
	size_t payload_len;
};

/* The node's hard state, as d-engine's HardState. */
struct rlog_hard_state {
	uint64_t current_term;
	bool has_vote; /* voted_for is present */
	uint32_t voted_for_id;
	uint64_t voted_for_term;
	bool committed;
};

/* An injectable allocator; every allocation of the engine goes through it. */
struct rlog_allocator {
	void *ctx;
	void *(*malloc)(void *ctx, size_t size);
	void *(*realloc)(void *ctx, void *ptr, size_t size);
	void (*free)(void *ctx, void *ptr);
};

struct rlog_options {
	/* The directory to use through the POSIX backend, created when
	 * missing. Ignored when vfs is set. */
	const char *dir;
	/* A caller-owned VFS rooted at the log's directory; it must outlive
	 * the handle. NULL means the POSIX backend on dir. */
	struct rlog_vfs *vfs;
	/* Target size of one segment file; a segment is closed and a new one
	 * started once it would exceed this. 0 means the default (64 MiB). */
	uint64_t segment_size_bytes;
	/* Largest payload accepted by append/replace; 0 means the default. */
	uint32_t entry_size_max_bytes;
	/* NULL means malloc/realloc/free. */
	const struct rlog_allocator *allocator;
	/* Zeros written ahead of small batches that grow a segment, so that
	 * the following batches overwrite bytes the file already has and
	 * their sync need not commit a size change to the filesystem journal
	 * (up to 1.4x faster syncs on ext4). Batches over 32 KiB always
	 * append. 0 means the default (1 MiB); RLOG_PREALLOCATE_OFF turns it
	 * off; at most RLOG_PREALLOCATE_MAX_BYTES. */
	uint32_t preallocate_bytes;
	/* false (the default): a segment the log has moved on from, and the
	 * last one at a clean close, gets a seal, a small summary of its
	 * entries (8 bytes each), and the next open rebuilds the index from
	 * the seals instead of reading those segments; their records are
	 * checked when they are read, so damage there is reported as
	 * RLOG_ECORRUPT by rlog_get/rlog_scan. true:
	 * every open reads and checks every record, reporting damage
	 * anywhere as RLOG_ECORRUPT from rlog_open; no seal is used or
	 * written. */
	bool verify_on_open;
};
#define RLOG_PREALLOCATE_DEFAULT_BYTES (1u << 20)
#define RLOG_PREALLOCATE_MAX_BYTES (64u << 20)
#define RLOG_PREALLOCATE_OFF UINT32_MAX

struct rlog; /* opaque handle */

/* Fill *opts with the defaults (every field zero/NULL). */
RLOG_API void rlog_options_init(struct rlog_options *opts);

/*
 * Open the log in opts->dir (or opts->vfs), creating an empty one if the
 * directory holds none, and recover: find the durable end of the log, drop
 * a torn tail that was never acknowledged, and build the in-memory index.
 * What recovery reads is made durable before open returns (bytes no record
 * vouches for as synced are copied into a new segment; see docs/FORMAT.md),
 * because they may sit only in the page cache of a crashed writer or of a
 * failed fsync. Recovery never changes a byte in place, so a crash during
 * it changes nothing.
 * On success *out is the handle. Errors: RLOG_EINVAL (bad options),
 * RLOG_EBUSY (another handle holds the directory), RLOG_ECORRUPT
 * (acknowledged data damaged; rlog_open_errmsg tells where), RLOG_EVERSION,
 * RLOG_EIO, RLOG_ENOSPC, RLOG_ENOMEM. On error *out is NULL.
 */
RLOG_API int rlog_open(const struct rlog_options *opts, struct rlog **out);

/*
 * Context of the last rlog_open failure in this thread (which file, which
 * offset, what was found). Valid until the next rlog_open in this thread.
 */
RLOG_API const char *rlog_open_errmsg(void);

/*
 * Close the handle and free everything it owns. Unsynced appends and
 * truncates are not synced: call rlog_sync first to keep them. When all
 * was synced, one small record noting it is written (not synced), which
 * spares the next open from settling the tail, and then the last
 * segment's seal, which spares it from reading that segment (best effort,
 * not synced either). Always frees the handle;
 * returns 0, or the RLOG_E* code of the first failure of that write or of
 * closing a file.
 * NULL is a no-op returning 0.
 */
RLOG_API int rlog_close(struct rlog *log);

/*
 * Append n entries (persist_entries). entries[0].index must be
 * rlog_last_index + 1 and indexes must follow one another; terms must not
 * decrease (and not be below the last entry's term). The engine copies the
 * entries. Buffered: durable after the next successful rlog_sync.
 * Errors: RLOG_EINVAL (not contiguous, term decreasing, payload over the
 * cap, kind unknown; nothing changed), RLOG_EFATAL (poisoned), RLOG_EIO /
 * RLOG_ENOSPC (the handle is now poisoned), RLOG_ENOMEM.
 */
RLOG_API int rlog_append(struct rlog *log, const struct rlog_entry *entries,
			 size_t n);

/*
 * Make every append and truncate issued before it durable (flush). When it
 * returns 0 they survive any crash. On failure the handle is poisoned and
 * nothing issued since the last successful sync may be assumed durable.
 */
RLOG_API int rlog_sync(struct rlog *log);

/*
 * Read the entry at index into *out. out->payload points into a buffer
 * owned by the handle, valid until the next call on the handle. Every read
 * checks the record's checksum and identity (index, term, size).
 * Errors: RLOG_ENOTFOUND (index outside [first, last]), RLOG_ECORRUPT (the
 * bytes on disk no longer match: damage the open did not read, in a
 * segment it knew from its seal; rlog_errmsg names the file and offset),
 * RLOG_EIO, RLOG_ENOMEM.
 */
RLOG_API int rlog_get(struct rlog *log, uint64_t index, struct rlog_entry *out);

/*
 * Read the term of the entry at index without touching the disk. Also
 * answers for the purge boundary itself (index == rlog_purged index).
 * Errors: RLOG_ENOTFOUND.
 */
RLOG_API int rlog_term(const struct rlog *log, uint64_t index, uint64_t *term);

/*
 * Called by rlog_scan for each entry in order. The entry and its payload
 * are valid only during the call. A nonzero return stops the scan, and
 * rlog_scan returns that value. The callback may read the log (rlog_get,
 * rlog_term) but must not call a mutating function on the same handle.
 */
typedef int (*rlog_scan_cb)(void *ctx, const struct rlog_entry *entry);

/*
 * Call cb for every entry in [first_index, last_index] (get_entries,
 * inclusive). The whole range must lie inside the log. Reads ahead in
 * windows of up to 1 MiB, so a long scan costs few reads.
 * Errors: RLOG_EINVAL (first > last), RLOG_ENOTFOUND (range outside the
 * log), RLOG_ECORRUPT, RLOG_EIO, RLOG_ENOMEM, or cb's nonzero value.
 */
RLOG_API int rlog_scan(struct rlog *log, uint64_t first_index,
		       uint64_t last_index, rlog_scan_cb cb, void *ctx);

/*
 * Remove every entry at from_index and above. from_index must lie in
 * [first, last + 1] (last + 1 is a no-op). Buffered: durable after the next
 * successful rlog_sync; until then a crash may bring the entries back.
 * Errors: RLOG_EINVAL (out of range; nothing changed), RLOG_EFATAL,
 * RLOG_EIO / RLOG_ENOSPC (poisoned).
 */
RLOG_API int rlog_truncate(struct rlog *log, uint64_t from_index);

/*
 * Replace every entry from entries[0].index on with the n given entries
 * (replace_range): truncate at entries[0].index, then append. n >= 1 and
 * entries[0].index must lie in [first, last + 1]. Atomic and durable on
 * return 0: after a crash the log holds either the old suffix or the whole
 * new one, never a mix. Anything appended before it is synced with it.
 * Errors as rlog_append.
 */
RLOG_API int rlog_replace(struct rlog *log, const struct rlog_entry *entries,
			  size_t n);

/*
 * Remove every entry up to and including index (purge_logs up to the
 * LogId {index, term}) and record {index, term} as the purge boundary,
 * which survives restart (rlog_purged). When index lies inside the log its
 * term must match the entry's (else RLOG_EINVAL). An index at or past the
 * last entry (a follower installing a snapshot) empties the log; the next
 * append must then be index + 1. An index at or below the current boundary
 * is a no-op. Durable and atomic on return 0; whole segment files below the
 * boundary are removed, live data is never rewritten.
 * Errors: RLOG_EINVAL, RLOG_EFATAL, RLOG_EIO / RLOG_ENOSPC (poisoned).
 */
RLOG_API int rlog_purge(struct rlog *log, uint64_t index, uint64_t term);

/*
 * The purge boundary: the last purged LogId, or {0, 0} when nothing was
 * ever purged. Either pointer may be NULL.
 */
RLOG_API void rlog_purged(const struct rlog *log, uint64_t *index,
			  uint64_t *term);

/*
 * Remove every entry and the purge boundary: the log starts again at index
 * 1. The hard state is kept. Durable and atomic on return 0.
 * Errors: RLOG_EFATAL, RLOG_EIO / RLOG_ENOSPC (poisoned).
 */
RLOG_API int rlog_reset(struct rlog *log);

/* First index of the log: purge index + 1. */
RLOG_API uint64_t rlog_first_index(const struct rlog *log);

/* Index of the last entry; the purge index when the log is empty. */
RLOG_API uint64_t rlog_last_index(const struct rlog *log);

/*
 * Save the hard state: atomic and durable on return 0 (a crash leaves the
 * previous or the new value, never a mix). The current term must not
 * decrease (RLOG_EINVAL). Does not sync log entries.
 * Errors: RLOG_EINVAL, RLOG_EFATAL, RLOG_EIO / RLOG_ENOSPC (poisoned).
 */
RLOG_API int rlog_hard_state_save(struct rlog *log,
				  const struct rlog_hard_state *hs);

/*
 * Load the last saved hard state into *hs.
 * Errors: RLOG_ENOTFOUND when none was ever saved.
 */
RLOG_API int rlog_hard_state_load(const struct rlog *log,
				  struct rlog_hard_state *hs);

/* True when the handle is poisoned (see Errors above). */
RLOG_API bool rlog_is_poisoned(const struct rlog *log);

/* A static, human-readable name for an RLOG_E* code. */
RLOG_API const char *rlog_strerror(int code);

/*
 * Context of the handle's last error: the operation, the file and offset
 * involved and the system errno, e.g. "sync: fdatasync 0000000000000003.seg:
 * Input/output error (errno 5)". Empty when no error happened. Valid until
 * the next call on the handle.
 */
RLOG_API const char *rlog_errmsg(const struct rlog *log);

#ifdef __cplusplus
}
#endif

#endif /* RLOG_RLOG_H */
