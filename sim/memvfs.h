/*
 * sim/memvfs.h: the simulated disk, an in-memory struct rlog_vfs with a
 * crash and fault model.
 *
 * One disk is one directory. It implements exactly the weakest contract of
 * rlog/vfs.h and no more:
 *   - Every file (inode) has durable bytes (what survives a crash), a cached
 *     view (what reads see) and an ordered list of pending operations
 *     (writes and truncates issued since its last successful sync). sync
 *     applies the file's pending operations, in order, to its durable bytes.
 *   - The directory has durable names and an ordered list of pending
 *     directory operations (create, remove, rename), which sync_dir makes
 *     durable. Names are separate from inodes: an open file keeps working
 *     after its name is removed or renamed, as in POSIX.
 *   - rlog_sim_disk_crash models a power cut. It decides the fate of every
 *     pending operation with the disk's PRNG (see enum rlog_sim_fate),
 *     applies the survivors in issue order to the durable state, makes that
 *     the whole state, releases every lock and kills every open handle: a
 *     dead handle answers -EIO to everything but close, which frees it.
 *
 * Crash points. Every VFS call made while the machine is alive (open,
 * remove, rename, list, sync_dir, lock, pread, pwrite, sync, truncate, size,
 * close, including calls on dead handles) gets the next op number, starting
 * at 1; rlog_sim_disk_op_count returns the number of the last one. After
 * rlog_sim_disk_set_crash_at(disk, K), once op K has completed the machine
 * is dead: every later VFS call returns -EIO and has no effect (close still
 * frees its handle) and is not numbered, and rlog_sim_disk_crashed returns
 * true. The driver then calls rlog_sim_disk_crash to settle the fates and
 * revive the disk.
 *
 * Determinism. Every random choice (fates, garbage bytes, random faults,
 * short-write lengths) comes from the PRNG owned by the disk, seeded at
 * creation. The module reads no clock and has no global mutable state, so
 * the same seed and the same calls give the same results and the same
 * trace hash on any machine.
 *
 * Limits. Files are capped at file_size_max_bytes (-EFBIG beyond), the
 * number of files at files_max (-ENOSPC), and the total size of all files
 * as reads see them at disk_size_max_bytes (-ENOSPC, after writing the
 * prefix that fits). A removed file's space is reclaimed once the removal is
 * durable (sync_dir or crash) and its last handle is closed.
 *
 * Threads: a disk, its VFS and its files are used by one thread at a time.
 */
#ifndef RLOG_SIM_MEMVFS_H
#define RLOG_SIM_MEMVFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prng.h"
#include "rlog/vfs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default and upper bound of rlog_sim_disk_options.file_size_max_bytes. */
#define RLOG_SIM_FILE_SIZE_MAX_BYTES (1024ull * 1024u * 1024u)
/* Default and upper bound of rlog_sim_disk_options.files_max. */
#define RLOG_SIM_FILES_MAX 100000u
/* Most pending directory operations between two sync_dirs (-ENOSPC). */
#define RLOG_SIM_DIR_OPS_MAX (1u << 20)
/* Most pending writes and truncates of one file between syncs (-ENOSPC). */
#define RLOG_SIM_FILE_OPS_MAX (1u << 22)
/* Most faults scheduled at once (rlog_sim_disk_fault_at/_next). */
#define RLOG_SIM_FAULTS_MAX 64u
/* Upper bound of rlog_sim_disk_options.trace_lines. */
#define RLOG_SIM_TRACE_LINES_MAX (1u << 20)
/* Longest readable trace line, in bytes, with its NUL. */
#define RLOG_SIM_TRACE_LINE_BYTES 192u
/* The crash_at value that never crashes. */
#define RLOG_SIM_NEVER UINT64_MAX

/*
 * What a crash does to the operations pending at that moment. Directory
 * operations hit by RLOG_SIM_FAULT_DIR_LOST are lost in every mode.
 */
enum rlog_sim_fate {
	/* Each pending op independently. A write is kept, dropped or torn:
	 * split at sector boundaries (absolute file offsets; the first and
	 * last pieces may be partial sectors), each piece kept, dropped,
	 * zeroed or filled with PRNG garbage, and a kept piece may be only a
	 * byte prefix of itself. A truncate and each directory op is kept or
	 * dropped. Survivors apply in issue order. */
	RLOG_SIM_FATE_RANDOM = 0,
	/* Every pending op is dropped (no randomness; the fast default of
	 * exhaustive explorers). */
	RLOG_SIM_FATE_LOSE_UNSYNCED,
	/* Every pending op is kept (no randomness; the other extreme). */
	RLOG_SIM_FATE_KEEP_UNSYNCED,
	/* Only a prefix, in issue order across the whole disk, of the pending
	 * data and directory ops survives. The first op past the prefix, if
	 * it is a write, may survive as a byte prefix of itself (a sector
	 * prefix with atomic_sectors). */
	RLOG_SIM_FATE_ORDERED,
};

/* Faults. Each can be scheduled (rlog_sim_disk_fault_at, _fault_next) and
 * drawn at random (rlog_sim_disk_options.fault_rate_ppm). */
enum rlog_sim_fault {
	RLOG_SIM_FAULT_NONE = 0,
	/* Any op fails with -EIO, with the effect of the specific faults below
	 * for pread, pwrite and sync, and no effect for the others; close
	 * still frees the handle. */
	RLOG_SIM_FAULT_EIO,
	/* pread fails with -EIO and reads nothing. */
	RLOG_SIM_FAULT_READ,
	/* pwrite writes a PRNG-chosen prefix (possibly empty) of its bytes,
	 * as a pending write, then fails with -EIO. */
	RLOG_SIM_FAULT_WRITE,
	/* pwrite writes a PRNG-chosen prefix then fails with -ENOSPC; truncate
	 * fails with -ENOSPC and changes nothing. */
	RLOG_SIM_FAULT_NOSPACE,
	/* sync fails with -EIO and the file's pending ops are dropped from the
	 * durable path: no later sync or crash makes them durable, while reads
	 * keep returning them until the next crash (Linux behaviour). */
	RLOG_SIM_FAULT_SYNC,
	/* sync_dir fails with -EIO; the pending directory ops stay pending. */
	RLOG_SIM_FAULT_SYNC_DIR,
	/* The op (a create by open or lock, a remove or a rename) succeeds,
	 * but is lost at the next crash even if sync_dir succeeds meanwhile:
	 * a lying disk. */
	RLOG_SIM_FAULT_DIR_LOST,
	/* One PRNG-chosen bit of durable data flips, in both the durable bytes
	 * and the cached view, just before the op runs; the op itself runs
	 * normally. Scheduled by name, the bit is in that file. */
	RLOG_SIM_FAULT_BIT_FLIP,
	RLOG_SIM_FAULT_COUNT,
};

/* Device model. All-zero options are valid: random fates, 512-byte
 * sectors, no faults, default limits, no readable trace. */
struct rlog_sim_disk_options {
	/* Sector size for tearing: 512 or 4096 (0 means 512). */
	uint32_t sector_size;
	/* Crash fate mode; see enum rlog_sim_fate. */
	enum rlog_sim_fate fate;
	/* A sector is never partial, zeroed or garbage: only kept or dropped
	 * whole. */
	bool atomic_sectors;
	/* Bytes written beyond the file's durable size are never garbage after
	 * a crash: kept, dropped or zero only. */
	bool safe_append;
	/* Total size of all files, as reads see them (0 = unlimited). */
	uint64_t disk_size_max_bytes;
	/* Largest file size (0 = RLOG_SIM_FILE_SIZE_MAX_BYTES, the maximum). */
	uint64_t file_size_max_bytes;
	/* Most files (0 = RLOG_SIM_FILES_MAX, the maximum). */
	uint32_t files_max;
	/* Lines kept in the readable trace ring (0 = no readable trace). */
	uint32_t trace_lines;
	/* Random fault rates: chance per million eligible ops, indexed by
	 * enum rlog_sim_fault (NONE is ignored). BIT_FLIP is eligible at every
	 * op, EIO at every op, the others at the ops they name. */
	uint32_t fault_rate_ppm[RLOG_SIM_FAULT_COUNT];
};

struct rlog_sim_disk;

/* ---- Life cycle. ---- */

/* Create an empty disk (opts may be NULL for the defaults) whose PRNG is
 * seeded with seed. Returns 0, -EINVAL for bad options, or -ENOMEM. */
int rlog_sim_disk_new(const struct rlog_sim_disk_options *opts, uint64_t seed,
		      struct rlog_sim_disk **out);

/* Free the disk. Handles still open become orphans: every method but close
 * returns -EIO, and close frees them. NULL is ignored. */
void rlog_sim_disk_free(struct rlog_sim_disk *disk);

/* Deep-copy the disk: files, pending ops, directory, scheduled faults, PRNG
 * state, op count, crash point and trace. The copy has no open handles (the
 * original's handles belong to the original) and no locks, so the usual next
 * step is rlog_sim_disk_crash on the copy, possibly after
 * rlog_sim_disk_reseed to try other fates. Returns 0 or -ENOMEM. */
int rlog_sim_disk_clone(const struct rlog_sim_disk *disk,
			struct rlog_sim_disk **out);

/* Reseed the disk's PRNG. Nothing else changes. */
void rlog_sim_disk_reseed(struct rlog_sim_disk *disk, uint64_t seed);

/* The VFS of the disk, owned by the disk. */
struct rlog_vfs *rlog_sim_disk_vfs(struct rlog_sim_disk *disk);

/* Change the fate mode used by later crashes (an unknown mode is ignored). */
void rlog_sim_disk_set_fate(struct rlog_sim_disk *disk,
			    enum rlog_sim_fate fate);

/* Change one random fault rate (per million eligible ops). Returns 0, or
 * -EINVAL for a bad kind or a rate above one million. */
int rlog_sim_disk_set_fault_rate(struct rlog_sim_disk *disk,
				 enum rlog_sim_fault kind, uint32_t rate_ppm);

/* ---- Crash points and crashes. ---- */

/* Number of the last op (0 before the first). */
uint64_t rlog_sim_disk_op_count(const struct rlog_sim_disk *disk);

/* Kill the machine once op k has completed (at once if it already has);
 * RLOG_SIM_NEVER cancels. */
void rlog_sim_disk_set_crash_at(struct rlog_sim_disk *disk, uint64_t k);

/* True while the machine is dead (crash point reached, not yet crashed). */
bool rlog_sim_disk_crashed(const struct rlog_sim_disk *disk);

/* Pending ops (data and directory) a crash would decide on now. */
uint64_t rlog_sim_disk_pending_count(const struct rlog_sim_disk *disk);

/* Cut the power: settle every pending op under the fate mode, make the
 * durable state the whole state, kill every handle, release every lock,
 * cancel the crash point and revive the machine. Works whether or not the
 * machine is dead. Returns 0, or -ENOMEM before changing anything (the
 * call may be retried). */
int rlog_sim_disk_crash(struct rlog_sim_disk *disk);

/* Number of crashes so far. */
uint64_t rlog_sim_disk_crash_count(const struct rlog_sim_disk *disk);

/* ---- Scheduled faults. ---- */

/* Inject fault kind into the op numbered op_number, if that op is one the
 * kind applies to (see enum rlog_sim_fault); otherwise the entry expires
 * unused. Returns 0, -EINVAL (NONE, bad kind, op number already passed) or
 * -ENOSPC (RLOG_SIM_FAULTS_MAX pending). */
int rlog_sim_disk_fault_at(struct rlog_sim_disk *disk, enum rlog_sim_fault kind,
			   uint64_t op_number);

/* Inject fault kind into the next op it applies to that names name (the
 * name given to open or lock for file methods; either name of a rename),
 * or into the next such op on any file when name is NULL. Returns 0,
 * -EINVAL or -ENOSPC as above. */
int rlog_sim_disk_fault_next(struct rlog_sim_disk *disk,
			     enum rlog_sim_fault kind, const char *name);

/* As rlog_sim_disk_fault_next, but the first skip ops the fault would hit
 * pass unharmed; the one after them fails. */
int rlog_sim_disk_fault_after(struct rlog_sim_disk *disk,
			      enum rlog_sim_fault kind, const char *name,
			      uint64_t skip);

/* Cancel every scheduled fault. */
void rlog_sim_disk_fault_clear(struct rlog_sim_disk *disk);

/* Number of faults injected so far (scheduled or random). */
uint64_t rlog_sim_disk_fault_count(const struct rlog_sim_disk *disk);

/* Flip bit (0-7) of byte offset of the durable bytes of name (durable
 * directory), and in its cached view if that is as long. Not an op. Returns
 * 0, -ENOENT, or -EINVAL (bad name, bit, or offset past durable EOF). */
int rlog_sim_disk_flip_bit(struct rlog_sim_disk *disk, const char *name,
			   uint64_t offset, unsigned bit);

/* Flip one PRNG-chosen bit of the durable bytes of name, or of any durable
 * file when name is NULL (uniform over all durable bytes). Not an op.
 * Returns 0, -EINVAL, or -ENOENT when there is no durable byte to flip. */
int rlog_sim_disk_flip_random_bit(struct rlog_sim_disk *disk, const char *name);

/* ---- Trace. ---- */

/* Running 64-bit hash of every op (kind, names, offset, length, a hash of
 * the bytes, result, injected fault), every crash fate and every helper
 * that changes the disk. Equal runs give equal hashes. */
uint64_t rlog_sim_disk_trace_hash(const struct rlog_sim_disk *disk);

/* Print the readable trace (the last trace_lines lines, oldest first) to
 * out, one line per op or crash fate. Prints nothing when disabled. */
void rlog_sim_disk_trace_dump(const struct rlog_sim_disk *disk, FILE *out);

/* ---- Inspection and setup helpers (not ops: not numbered, no faults,
 * usable while the machine is dead). ---- */

/* Called once per file by rlog_sim_disk_list_files; nonzero stops it. */
typedef int (*rlog_sim_disk_list_cb)(void *arg, const char *name,
				     uint64_t size);

/* Call cb for every name of the durable directory with its durable size
 * (durable true), or of the current directory with its cached size. Order
 * is deterministic. Returns 0 or the first nonzero cb result. cb must not
 * change the disk. */
int rlog_sim_disk_list_files(const struct rlog_sim_disk *disk, bool durable,
			     rlog_sim_disk_list_cb cb, void *arg);

/* Size of name in the durable or current view. Returns 0, -EINVAL or
 * -ENOENT. */
int rlog_sim_disk_file_size(const struct rlog_sim_disk *disk, const char *name,
			    bool durable, uint64_t *size);

/* Copy the durable or cached bytes of name into a new buffer *data (free it
 * with free(); never NULL on success, even when *len is 0). Returns 0,
 * -EINVAL, -ENOENT or -ENOMEM. */
int rlog_sim_disk_read_file(const struct rlog_sim_disk *disk, const char *name,
			    bool durable, uint8_t **data, size_t *len);

/* Make name a new file holding exactly these len bytes, durable and cached,
 * with nothing pending, replacing any file of that name in both views
 * (handles open on the old file keep the old file). Meant for quiescent
 * disks (no pending directory op on name). Returns 0, -EINVAL, -EFBIG,
 * -ENOSPC or -ENOMEM. */
int rlog_sim_disk_put_file(struct rlog_sim_disk *disk, const char *name,
			   const void *data, size_t len);

/* Total size of all files as reads see them (the disk_size_max_bytes
 * measure). */
uint64_t rlog_sim_disk_bytes_used(const struct rlog_sim_disk *disk);

/* Order-independent hash of the names and bytes of the durable or current
 * view: equal views give equal hashes (for idempotence checks). */
uint64_t rlog_sim_disk_content_hash(const struct rlog_sim_disk *disk,
				    bool durable);
/* The same over the files for which keep(name) is true (all when keep is
 * NULL). */
uint64_t rlog_sim_disk_content_hash_if(const struct rlog_sim_disk *disk,
				       bool durable,
				       bool (*keep)(const char *name));

#ifdef __cplusplus
}
#endif

#endif /* RLOG_SIM_MEMVFS_H */
