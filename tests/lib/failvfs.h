/*
 * failvfs: a fault-injecting wrapper around any struct rlog_vfs, for the
 * Nth-failure tests (SQLite's do_ioerr_test, test_vfs.c).
 *
 * Every call through the wrapper (directory methods and the methods of the
 * files it opened) is forwarded to the inner VFS. Once armed, the wrapper
 * counts the calls whose kind is in the armed mask and fails the Nth one
 * (1-based, counted from the arm) with the chosen negative errno, without
 * calling the inner VFS. In persistent mode every later call of a masked
 * kind fails too. close is counted in the totals but never fails.
 *
 * Ownership: the wrapper does not own the inner VFS, which must outlive it.
 * The wrapper must outlive every file opened through it and every handle
 * using it.
 */
#ifndef RLOG_TEST_FAILVFS_H
#define RLOG_TEST_FAILVFS_H

#include <stdbool.h>
#include <stdint.h>

#include "rlog/vfs.h"

/* Kinds of VFS calls, as bits for the arm mask. */
#define TL_FV_OPEN 0x001u
#define TL_FV_REMOVE 0x002u
#define TL_FV_RENAME 0x004u
#define TL_FV_LIST 0x008u
#define TL_FV_SYNC_DIR 0x010u
#define TL_FV_LOCK 0x020u
#define TL_FV_PREAD 0x040u
#define TL_FV_PWRITE 0x080u
#define TL_FV_SYNC 0x100u
#define TL_FV_TRUNCATE 0x200u
#define TL_FV_SIZE 0x400u
#define TL_FV_CLOSE 0x800u /* counted, never failed */
/* Every kind that can be failed. */
#define TL_FV_ALL 0x7FFu
/* Kinds whose failure poisons an rlog handle (rlog.h, "Errors"). */
#define TL_FV_POISONING                                                        \
	(TL_FV_PWRITE | TL_FV_SYNC | TL_FV_TRUNCATE | TL_FV_RENAME |           \
	 TL_FV_REMOVE | TL_FV_SYNC_DIR)

struct tl_failvfs;

/* Wrap inner. Returns 0 or -ENOMEM; on success *out must be freed with
 * tl_failvfs_free. The wrapper starts disarmed. */
int tl_failvfs_new(struct rlog_vfs *inner, struct tl_failvfs **out);

/* Free the wrapper (not the inner VFS). Files opened through it must be
 * closed already. NULL is a no-op. */
void tl_failvfs_free(struct tl_failvfs *fv);

/* The VFS to hand to rlog (rlog_options.vfs). Owned by the wrapper. */
struct rlog_vfs *tl_failvfs_vfs(struct tl_failvfs *fv);

/* Arm: reset the counters and fail the nth (1-based) call whose kind is in
 * kind_mask with err (a negative errno), once. n == 0 disarms. */
void tl_failvfs_arm(struct tl_failvfs *fv, uint64_t n, int err,
		    unsigned kind_mask);

/* As tl_failvfs_arm, but the nth and every later masked call fail. */
void tl_failvfs_arm_persistent(struct tl_failvfs *fv, uint64_t n, int err,
			       unsigned kind_mask);

/* When on, an injected pwrite failure first writes the first half of the
 * buffer through to the inner file (a write torn by the error, which
 * vfs.h allows: only success promises that everything was written). */
void tl_failvfs_set_torn(struct tl_failvfs *fv, bool on);

/* Stop failing calls; the counters and the fired record are kept. */
void tl_failvfs_disarm(struct tl_failvfs *fv);

/* True when an armed failure has been injected since the last arm. */
bool tl_failvfs_fired(const struct tl_failvfs *fv);

/* Kind (one TL_FV_* bit) of the first injected failure since the last arm,
 * or 0 when none fired. */
unsigned tl_failvfs_fired_kind(const struct tl_failvfs *fv);

/* True when failures were injected since the last arm and every one was
 * a pwrite of zero bytes only (the engine's zeros written ahead) or a call
 * on a seal file. */
bool tl_failvfs_fired_only_zero_writes(const struct tl_failvfs *fv);

/* True when failures were injected since the last arm and every one was a
 * call on a segment's seal file ("*.seal": best effort in the engine). */
bool tl_failvfs_fired_only_seals(const struct tl_failvfs *fv);

/* Every kind (TL_FV_* bits) that had an injected failure since the last
 * arm; more than one only in persistent mode. */
unsigned tl_failvfs_fired_mask(const struct tl_failvfs *fv);

/* Calls of a kind in the armed mask since the last arm (close excluded),
 * including the failed ones. */
uint64_t tl_failvfs_count(const struct tl_failvfs *fv);

/* Every call of every kind (close included) since the last arm. */
uint64_t tl_failvfs_count_all(const struct tl_failvfs *fv);

/* Files opened through the wrapper and not yet closed. */
uint64_t tl_failvfs_open_files(const struct tl_failvfs *fv);

/* A static name for one TL_FV_* bit ("pwrite", ...). */
const char *tl_failvfs_kind_name(unsigned kind);

/* When on, print every call and its result to stderr. Also switched on by
 * the environment variable TL_FAILVFS_TRACE=1 at creation. */
void tl_failvfs_trace(struct tl_failvfs *fv, bool on);

#endif
