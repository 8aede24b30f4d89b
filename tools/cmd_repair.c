/*
 * cmd_repair.c: `rlog repair DIR`, cut away what recovery would drop
 * anyway (a torn tail, segment files torn at creation), and with --force
 * also damage to acknowledged data, keeping a backup of every byte removed.
 *
 * Planning runs the read-only walk (walk.c) over an overlay that pretends
 * the planned cuts were made, until the walk says rlog_open would succeed
 * with nothing left to drop; so the plan printed (and, with --dry-run, only
 * printed) is exactly what is done. Each cut is crash-safe on its own: the
 * removed bytes are copied to DIR/repair-backup-<seq>-<offset>.bin, that file
 * is fsynced and its name made durable with a directory fsync, and only
 * then is the segment truncated (and fsynced) or removed (and the directory
 * fsynced). A crash in between leaves a directory that a second repair
 * handles. The log's LOCK is held throughout, so a running node cannot
 * have the log open meanwhile.
 *
 * Seals: rlog_open takes a segment from its seal without reading it, so
 * the plan is made from a walk that also replays those segments in full
 * (RLOG_TOOL_WALK_CHECK_SEALS): damage in them is handled like damage
 * rlog_open reports. A segment's seal is removed (and the directory
 * fsynced) before the segment is cut or removed, so no seal outlives the
 * bytes it describes; orphan seals and seals that disagree with their
 * segment are removed too. A seal is derived data: it is not backed up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "walk.h"

#define STEPS_MAX 256u
#define COPY_CHUNK_BYTES (1024u * 1024u)

static const char repair_usage[] =
    "usage: rlog repair DIR [--dry-run] [--force]\n"
    "\n"
    "Remove what recovery drops anyway: a torn tail after the last durable\n"
    "point of the last segment, and segment files whose header was torn\n"
    "while they were created. Every removed byte is first copied to\n"
    "DIR/repair-backup-<seq>-<offset>.bin (fsynced); then the segment is\n"
    "truncated or removed, durably, its seal removed first. Orphan seals\n"
    "and seals that disagree with their segment are removed too (a seal\n"
    "is a summary of its segment: not backed up). Takes the log's LOCK:\n"
    "refuses while the log is open elsewhere.\n"
    "\n"
    "Damage to acknowledged data (what rlog_open reports as RLOG_ECORRUPT,\n"
    "or rlog_get for a segment rlog_open takes from its seal) is refused,\n"
    "with the reason and what a forced repair would drop.\n"
    "\n"
    "  --dry-run  print the plan, change nothing\n"
    "  --force    also cut at the damage: truncate the damaged segment\n"
    "             there and remove every newer segment file (backed up);\n"
    "             the acknowledged entries after the damage are lost\n"
    "\n"
    "Damage no cut can fix (both meta slots, entries missing below the\n"
    "first segment, an unknown format version) is refused even with\n"
    "--force.\n"
    "\n"
    "exit status: 0 repaired (or nothing to do; or --dry-run with a plan\n"
    "that would run), 1 refused (acknowledged data without --force,\n"
    "unrepairable, log open elsewhere), 2 bad usage, 3 I/O error\n";

enum step_kind { STEP_TRUNCATE = 1, STEP_REMOVE = 2, STEP_REMOVE_SEAL = 3 };

struct step {
	enum step_kind kind;
	bool forced; /* drops acknowledged data (or goes with a step that does)
		      */
	uint64_t seq;
	char name[RLOG__SEAL_NAME_LEN + 1];
	uint64_t offset; /* truncate here (remove: 0) */
	uint64_t size_bytes;
	uint64_t lost_count; /* intact entry records in the bytes removed */
	uint64_t lost_first;
	uint64_t lost_last;
	char why[600];
};

struct plan {
	struct step steps[STEPS_MAX];
	size_t len;
	struct rlog_tool_overlay ov;
	bool refused; /* unrepairable */
	char refuse_why[1200];
	bool forced;
	uint64_t before_first, before_last; /* the first walk */
	int before_verdict;
	char before_msg[512];
	int before_full; /* what a full read finds (verify_on_open) */
	char before_full_msg[512];
	bool cuts; /* a step cuts or removes a segment */
	bool before_torn;
	uint64_t after_first, after_last;
	int after_verdict;
};

static int ov_add(struct rlog_tool_overlay *ov, uint64_t seq, bool removed,
		  uint64_t size, bool seal_removed)
{
	if (ov->len == ov->cap) {
		size_t ncap = ov->cap ? ov->cap * 2 : 8;
		void *n = realloc(ov->items, ncap * sizeof(*ov->items));
		if (n == NULL) {
			return -ENOMEM;
		}
		ov->items = n;
		ov->cap = ncap;
	}
	ov->items[ov->len].seq = seq;
	ov->items[ov->len].removed = removed;
	ov->items[ov->len].size_bytes = size;
	ov->items[ov->len].seal_removed = seal_removed;
	ov->len++;
	return 0;
}

static int ov_set(struct rlog_tool_overlay *ov, uint64_t seq, bool removed,
		  uint64_t size)
{
	for (size_t i = 0; i < ov->len; i++) {
		if (ov->items[i].seq == seq) {
			ov->items[i].removed = removed;
			ov->items[i].size_bytes = size;
			return 0;
		}
	}
	return ov_add(ov, seq, removed, size, false);
}

/* Make the walk see the seal of seq as removed. */
static int ov_set_seal(struct rlog_tool_overlay *ov, uint64_t seq)
{
	for (size_t i = 0; i < ov->len; i++) {
		if (ov->items[i].seq == seq) {
			ov->items[i].seal_removed = true;
			return 0;
		}
	}
	return ov_add(ov, seq, false, UINT64_MAX, true);
}

static struct step *new_step(struct plan *p)
{
	if (p->len >= STEPS_MAX) {
		p->refused = true;
		snprintf(p->refuse_why, sizeof(p->refuse_why),
			 "more than %u repair steps needed", STEPS_MAX);
		return NULL;
	}
	struct step *st = &p->steps[p->len];
	memset(st, 0, sizeof(*st));
	return st;
}

/* Add a step that removes seals[k] and apply it to the overlay. */
static int add_seal_step(struct plan *p, struct rlog_tool_walk *w, size_t k,
			 bool forced, const char *why)
{
	const struct rlog_tool_seal *sl = &w->seals[k];
	struct step *st = new_step(p);
	if (st == NULL) {
		return 0;
	}
	st->kind = STEP_REMOVE_SEAL;
	st->forced = forced;
	st->seq = sl->seq;
	memcpy(st->name, sl->name, sizeof(sl->name));
	st->size_bytes = sl->size_bytes;
	snprintf(st->why, sizeof(st->why), "%s", why);
	p->len++;
	int rv = ov_set_seal(&p->ov, sl->seq);
	if (rv != 0) {
		snprintf(w->err, sizeof(w->err), "out of memory");
	}
	return rv;
}

/* Add a step for segs[i] and apply it to the overlay; the removal of its
 * seal, if it has one, goes first. */
static int add_step(struct plan *p, struct rlog_tool_walk *w, size_t i,
		    enum step_kind kind, uint64_t offset, bool forced,
		    const char *why)
{
	if (w->segs[i].has_seal) {
		char swhy[160];
		snprintf(swhy, sizeof(swhy),
			 "%s is %s (next step): its seal must not outlive the "
			 "bytes it describes",
			 w->segs[i].name,
			 kind == STEP_REMOVE ? "removed" : "cut short");
		int rv = add_seal_step(p, w, w->segs[i].seal, forced, swhy);
		if (rv != 0) {
			return rv;
		}
	}
	if (p->len >= STEPS_MAX) {
		p->refused = true;
		snprintf(p->refuse_why, sizeof(p->refuse_why),
			 "more than %u repair steps needed", STEPS_MAX);
		return 0;
	}
	const struct rlog_tool_seg *s = &w->segs[i];
	struct step *st = &p->steps[p->len];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->forced = forced;
	st->seq = s->seq;
	memcpy(st->name, s->name, sizeof(st->name));
	st->offset = kind == STEP_TRUNCATE ? offset : 0;
	st->size_bytes = s->size_bytes;
	snprintf(st->why, sizeof(st->why), "%s", why);
	int rv = rlog_tool_walk_count(w, i, st->offset, s->size_bytes,
				      &st->lost_count, &st->lost_first,
				      &st->lost_last);
	if (rv != 0) {
		return rv;
	}
	p->len++;
	p->cuts = true;
	if (forced) {
		p->forced = true;
	}
	rv = ov_set(&p->ov, s->seq, kind == STEP_REMOVE, st->offset);
	if (rv != 0) {
		snprintf(w->err, sizeof(w->err), "out of memory");
	}
	return rv;
}

/* Steps that drop only what recovery drops anyway. */
static int plan_clean(struct plan *p, struct rlog_tool_walk *w, bool *added)
{
	*added = false;
	for (size_t i = w->segs_len; i > 0; i--) {
		if (w->segs[i - 1].role != RLOG_TOOL_SEG_TORN) {
			continue;
		}
		int rv = add_step(p, w, i - 1, STEP_REMOVE, 0, false,
				  "header torn at creation, never "
				  "acknowledged (recovery ignores it)");
		if (rv != 0) {
			return rv;
		}
		*added = true;
	}
	if (w->torn) {
		int rv = add_step(p, w, w->torn_seg, STEP_TRUNCATE, w->torn_off,
				  false,
				  "torn tail after the last durable point, "
				  "never acknowledged (recovery drops it)");
		if (rv != 0) {
			return rv;
		}
		*added = true;
	}
	for (size_t k = 0; k < w->seals_len; k++) {
		const struct rlog_tool_seal *sl = &w->seals[k];
		char why[300];
		if (sl->state == RLOG_TOOL_SEAL_ORPHAN) {
			snprintf(why, sizeof(why),
				 "orphan: there is no %016" PRIx64 ".seg "
				 "(the next purge or reset would remove it)",
				 sl->seq);
		} else if (sl->disagrees) {
			snprintf(why, sizeof(why),
				 "disagrees with %s, which rlog_open would "
				 "not read but take from the seal; without it "
				 "rlog_open reads the segment (and writes a "
				 "correct seal)",
				 w->segs[sl->seg].name);
		} else {
			continue;
		}
		int rv = add_seal_step(p, w, k, false, why);
		if (rv != 0) {
			return rv;
		}
		*added = true;
	}
	return 0;
}

/* Steps that cut at the verdict's damage: everything newer goes. */
static int plan_forced(struct plan *p, struct rlog_tool_walk *w, bool *added)
{
	*added = false;
	size_t d = w->full_damage_seg;
	char why[600];
	snprintf(why, sizeof(why), "newer than the damage at %s",
		 w->segs[d].name);
	for (size_t i = w->segs_len; i > d + 1; i--) {
		int rv = add_step(p, w, i - 1, STEP_REMOVE, 0, true, why);
		if (rv != 0) {
			return rv;
		}
		*added = true;
	}
	snprintf(why, sizeof(why), "%s", w->full_verdict_msg);
	if (w->full_damage == RLOG_TOOL_DMG_FILE) {
		int rv = add_step(p, w, d, STEP_REMOVE, 0, true, why);
		if (rv != 0) {
			return rv;
		}
		*added = true;
	} else if (w->full_damage_off < w->segs[d].size_bytes) {
		int rv = add_step(p, w, d, STEP_TRUNCATE, w->full_damage_off,
				  true, why);
		if (rv != 0) {
			return rv;
		}
		*added = true;
	}
	return 0;
}

static const char *unrepairable_advice(const struct rlog_tool_walk *w)
{
	if (w->full_verdict == RLOG_EVERSION) {
		return "the files were written by another version of rlog: "
		       "open them with that version";
	}
	return "no cut can bring this back: restore the directory from a "
	       "backup, or rebuild this node (move the directory away, start "
	       "empty and let Raft send it a snapshot and the log)";
}

/* Walk over the overlay until nothing is left to cut (or nothing can be).
 */
static int make_plan(const char *dir, struct plan *p, char *err, size_t err_len)
{
	size_t iters_max = 8;
	for (size_t iter = 0; iter < iters_max; iter++) {
		struct rlog_tool_walk w;
		int rv = rlog_tool_walk_ex(dir, &p->ov,
					   RLOG_TOOL_WALK_CHECK_SEALS, &w);
		if (rv != 0) {
			snprintf(err, err_len, "%s", w.err);
			rlog_tool_walk_free(&w);
			return rv;
		}
		if (iter == 0) {
			iters_max = w.segs_len + w.seals_len + 8;
			p->before_first = w.first_index;
			p->before_last = w.last_index;
			p->before_verdict = w.verdict;
			p->before_torn = w.torn;
			snprintf(p->before_msg, sizeof(p->before_msg), "%s",
				 w.verdict_msg);
			p->before_full = w.full_verdict;
			snprintf(p->before_full_msg, sizeof(p->before_full_msg),
				 "%s", w.full_verdict_msg);
		}
		p->after_first = w.first_index;
		p->after_last = w.last_index;
		p->after_verdict = w.full_verdict;
		bool added = false;
		if (w.full_verdict == 0) {
			rv = plan_clean(p, &w, &added);
		} else if (w.full_verdict == RLOG_ECORRUPT &&
			   (w.full_damage == RLOG_TOOL_DMG_RECORD ||
			    w.full_damage == RLOG_TOOL_DMG_FILE)) {
			rv = plan_forced(p, &w, &added);
			if (rv == 0 && !added) {
				p->refused = true;
				snprintf(p->refuse_why, sizeof(p->refuse_why),
					 "%s: %s", w.full_verdict_msg,
					 unrepairable_advice(&w));
			}
		} else {
			p->refused = true;
			snprintf(p->refuse_why, sizeof(p->refuse_why),
				 "%s%s: %s: %s",
				 p->len > 0 ? "even after the cuts above, "
					    : "",
				 rlog_tool_code_name(w.full_verdict),
				 w.full_verdict_msg, unrepairable_advice(&w));
		}
		if (rv != 0) {
			snprintf(err, err_len, "%s", w.err);
		}
		rlog_tool_walk_free(&w);
		if (rv != 0) {
			return rv;
		}
		if (!added || p->refused) {
			return 0;
		}
	}
	p->refused = true;
	snprintf(p->refuse_why, sizeof(p->refuse_why),
		 "the plan does not converge");
	return 0;
}

static void print_step(size_t n, const struct step *s)
{
	if (s->kind == STEP_REMOVE_SEAL) {
		printf("  %zu. remove %s (%" PRIu64 " bytes, no backup: a "
		       "seal only summarises its segment)%s\n",
		       n, s->name, s->size_bytes, s->forced ? " [FORCED]" : "");
	} else if (s->kind == STEP_TRUNCATE) {
		printf("  %zu. truncate %s at %" PRIu64 " (drop %" PRIu64
		       " bytes, backup repair-backup-%016" PRIx64 "-%" PRIu64
		       ".bin)%s\n",
		       n, s->name, s->offset, s->size_bytes - s->offset, s->seq,
		       s->offset, s->forced ? " [FORCED]" : "");
	} else {
		printf("  %zu. remove %s (%" PRIu64 " bytes, backup "
		       "repair-backup-%016" PRIx64 "-0.bin)%s\n",
		       n, s->name, s->size_bytes, s->seq,
		       s->forced ? " [FORCED]" : "");
	}
	printf("     why: %s\n", s->why);
	if (s->lost_count > 0) {
		printf("     %s: %" PRIu64 " intact entry record(s), indexes "
		       "%" PRIu64 "..%" PRIu64 "\n",
		       s->forced ? "drops acknowledged data" : "drops",
		       s->lost_count, s->lost_first, s->lost_last);
	}
}

/* ---- Doing it. ---- */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	int rv = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rv;
}

/* Create the backup file for a cut, with a fresh name. */
static int backup_open(const char *dir, const struct step *s, char *path,
		       size_t len)
{
	for (unsigned n = 0; n < 1000; n++) {
		char name[96];
		if (n == 0) {
			snprintf(name, sizeof(name),
				 "repair-backup-%016" PRIx64 "-%" PRIu64 ".bin",
				 s->seq, s->offset);
		} else {
			snprintf(name, sizeof(name),
				 "repair-backup-%016" PRIx64 "-%" PRIu64
				 ".%u.bin",
				 s->seq, s->offset, n);
		}
		if (!rlog_tool_path(path, len, dir, name)) {
			return -ENAMETOOLONG;
		}
		int fd =
		    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST) {
			return fd >= 0 ? fd : -errno;
		}
	}
	return -EEXIST;
}

static int copy_range(int from, int to, uint64_t off, uint64_t end)
{
	uint8_t *buf = malloc(COPY_CHUNK_BYTES);
	if (buf == NULL) {
		return -ENOMEM;
	}
	int rv = 0;
	while (off < end && rv == 0) {
		size_t want = end - off < COPY_CHUNK_BYTES ? (size_t)(end - off)
							   : COPY_CHUNK_BYTES;
		ssize_t n = pread(from, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			rv = n < 0 ? -errno : -EIO;
			break;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t m = write(to, buf + done, (size_t)(n - done));
			if (m < 0 && errno == EINTR) {
				continue;
			}
			if (m <= 0) {
				rv = m < 0 ? -errno : -EIO;
				break;
			}
			done += m;
		}
		off += (uint64_t)n;
	}
	free(buf);
	return rv;
}

/* One cut: backup (synced, name synced), then truncate or remove
 * (synced). *what names the failed call. */
static int do_step(const char *dir, const struct step *s, char *bpath,
		   size_t bpath_len, const char **what)
{
	char spath[4096];
	if (!rlog_tool_path(spath, sizeof(spath), dir, s->name)) {
		*what = "path";
		return -ENAMETOOLONG;
	}
	if (s->kind == STEP_REMOVE_SEAL) {
		/* Durably gone before the segment it describes changes. */
		snprintf(bpath, bpath_len, "%s", spath);
		int rv = unlink(spath) == 0 || errno == ENOENT ? 0 : -errno;
		*what = "remove seal";
		if (rv == 0) {
			rv = fsync_dir(dir);
			*what = "fsync directory";
		}
		return rv;
	}
	int seg = open(spath, (s->kind == STEP_TRUNCATE ? O_RDWR : O_RDONLY) |
				  O_CLOEXEC);
	if (seg < 0) {
		*what = "open segment";
		return -errno;
	}
	int bk = backup_open(dir, s, bpath, bpath_len);
	if (bk < 0) {
		close(seg);
		*what = "create backup";
		return bk;
	}
	int rv = copy_range(seg, bk, s->offset, s->size_bytes);
	*what = "copy to backup";
	if (rv == 0) {
		rv = fsync(bk) == 0 ? 0 : -errno;
		*what = "fsync backup";
	}
	if (close(bk) != 0 && rv == 0) {
		rv = -errno;
		*what = "close backup";
	}
	if (rv == 0) {
		/* The backup's name must be durable before the bytes it
		 * keeps can disappear. */
		rv = fsync_dir(dir);
		*what = "fsync directory";
	}
	if (rv == 0 && s->kind == STEP_TRUNCATE) {
		rv = ftruncate(seg, (off_t)s->offset) == 0 ? 0 : -errno;
		*what = "truncate segment";
		if (rv == 0) {
			rv = fsync(seg) == 0 ? 0 : -errno;
			*what = "fsync segment";
		}
	}
	close(seg);
	if (rv == 0 && s->kind == STEP_REMOVE) {
		rv = unlink(spath) == 0 ? 0 : -errno;
		*what = "remove segment";
		if (rv == 0) {
			rv = fsync_dir(dir);
			*what = "fsync directory";
		}
	}
	return rv;
}

static void explain_loss(const struct plan *p)
{
	uint64_t count = 0, first = UINT64_MAX, last = 0;
	for (size_t i = 0; i < p->len; i++) {
		const struct step *s = &p->steps[i];
		if (!s->forced || s->lost_count == 0) {
			continue;
		}
		count += s->lost_count;
		first = s->lost_first < first ? s->lost_first : first;
		last = s->lost_last > last ? s->lost_last : last;
	}
	printf("lost: the damaged bytes");
	if (count > 0) {
		printf(" and %" PRIu64 " intact entry record(s) with indexes "
		       "%" PRIu64 "..%" PRIu64 " stored after them",
		       count, first, last);
	}
	printf(", all synced and acknowledged (see the backups).\n");
	printf("The log now ends at index %" PRIu64
	       ": Raft must send this node the rest again. Entries it had "
	       "acknowledged may have counted towards a commit: until it has "
	       "caught up, make sure a majority of the other nodes hold every "
	       "committed entry. The hard state (term, vote) is untouched.\n",
	       p->after_last);
}

struct repair_opts {
	const char *dir;
	bool dry_run;
	bool force;
};

static int repair_args(int argc, char **argv, struct repair_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (rlog_tool_is_help(a)) {
			fputs(repair_usage, stdout);
			return -1;
		}
		if (strcmp(a, "--dry-run") == 0) {
			o->dry_run = true;
		} else if (strcmp(a, "--force") == 0) {
			o->force = true;
		} else if (a[0] == '-' || o->dir != NULL) {
			fprintf(stderr,
				"rlog repair: unexpected argument '%s'\n%s", a,
				repair_usage);
			return RLOG_TOOL_EXIT_USAGE;
		} else {
			o->dir = a;
		}
	}
	if (o->dir == NULL) {
		fprintf(stderr, "rlog repair: missing DIR\n%s", repair_usage);
		return RLOG_TOOL_EXIT_USAGE;
	}
	return 0;
}

/* Take the log's LOCK as rlog_open does. *vfs and *lock own it. */
static int take_lock(const char *dir, struct rlog_vfs **vfs,
		     struct rlog_file **lock)
{
	*vfs = NULL;
	*lock = NULL;
	int rv = rlog_vfs_posix_new(dir, vfs);
	if (rv != 0) {
		rlog_tool_err("repair", dir, "%s", strerror(-rv));
		return RLOG_TOOL_EXIT_IO;
	}
	rv = (*vfs)->lock(*vfs, RLOG__LOCK_NAME, lock);
	if (rv == -EWOULDBLOCK || rv == -EAGAIN) {
		rlog_tool_err(
		    "repair", dir,
		    "RLOG_EBUSY: %s: the log is open in another process (LOCK "
		    "is held): stop it first",
		    rlog_strerror(RLOG_EBUSY));
		rlog_vfs_posix_free(*vfs);
		*vfs = NULL;
		return RLOG_TOOL_EXIT_PROBLEM;
	}
	if (rv != 0) {
		rlog_tool_err("repair", dir, "lock %s: %s", RLOG__LOCK_NAME,
			      strerror(-rv));
		rlog_vfs_posix_free(*vfs);
		*vfs = NULL;
		return RLOG_TOOL_EXIT_IO;
	}
	return 0;
}

static void drop_lock(struct rlog_vfs *vfs, struct rlog_file *lock)
{
	if (lock != NULL) {
		lock->ops->close(lock);
	}
	if (vfs != NULL) {
		rlog_vfs_posix_free(vfs);
	}
}

static void print_found(const struct plan *p)
{
	char range[96];
	rlog_tool_range(range, sizeof(range), p->before_first, p->before_last);
	if (p->before_verdict != 0) {
		printf("found: rlog_open would fail with %s: %s\n",
		       rlog_tool_code_name(p->before_verdict), p->before_msg);
	} else if (p->before_full != 0) {
		printf("found: rlog_open would succeed, taking segments from "
		       "their seals without reading them, but a full read "
		       "(rlog_open with verify_on_open, rlog_get of the "
		       "entries there) fails with %s: %s\n",
		       rlog_tool_code_name(p->before_full), p->before_full_msg);
	} else if (p->len > 0 && p->cuts) {
		printf("found: the log opens (%s) with bytes recovery drops\n",
		       range);
	} else if (p->len > 0) {
		printf("found: the log opens (%s) with seal files to remove\n",
		       range);
	} else {
		printf("found: the log opens (%s) and holds nothing recovery "
		       "would drop\n",
		       range);
	}
}

static int run_plan(const struct repair_opts *o, const struct plan *p)
{
	for (size_t i = 0; i < p->len; i++) {
		char bpath[4096];
		const char *what = "";
		int rv =
		    do_step(o->dir, &p->steps[i], bpath, sizeof(bpath), &what);
		if (rv != 0) {
			rlog_tool_err("repair", o->dir,
				      "step %zu (%s %s): %s: %s; the steps "
				      "before it are done, run repair again",
				      i + 1,
				      p->steps[i].kind == STEP_TRUNCATE
					  ? "truncate"
					  : "remove",
				      p->steps[i].name, what, strerror(-rv));
			return RLOG_TOOL_EXIT_IO;
		}
		if (p->steps[i].kind == STEP_REMOVE_SEAL) {
			printf("done %zu: removed %s\n", i + 1, bpath);
		} else {
			printf("done %zu: backup %s\n", i + 1, bpath);
		}
	}
	struct rlog_tool_walk w;
	int rv =
	    rlog_tool_walk_ex(o->dir, NULL, RLOG_TOOL_WALK_CHECK_SEALS, &w);
	if (rv != 0) {
		rlog_tool_err("repair", o->dir, "%s", w.err);
		rlog_tool_walk_free(&w);
		return RLOG_TOOL_EXIT_IO;
	}
	int rc = RLOG_TOOL_EXIT_OK;
	if (w.verdict == 0 && w.full_verdict == 0 && !w.torn &&
	    w.seals_disagree == 0) {
		char range[96];
		rlog_tool_range(range, sizeof(range), w.first_index,
				w.last_index);
		printf("repaired: %s; rlog_open would succeed\n", range);
	} else {
		printf("after repair: rlog_open would %s%s%s%s%s\n",
		       w.verdict ? "fail: " : "succeed",
		       w.verdict ? w.verdict_msg : "",
		       w.torn ? " (a torn tail is left)" : "",
		       w.verdict == 0 && w.full_verdict != 0
			   ? "; a full read fails: "
			   : "",
		       w.verdict == 0 && w.full_verdict != 0
			   ? w.full_verdict_msg
			   : "");
		rc = RLOG_TOOL_EXIT_PROBLEM;
	}
	rlog_tool_walk_free(&w);
	return rc;
}

int rlog_tool_cmd_repair(int argc, char **argv)
{
	struct repair_opts o;
	int rc = repair_args(argc, argv, &o);
	if (rc != 0) {
		return rc < 0 ? RLOG_TOOL_EXIT_OK : rc;
	}
	rc = rlog_tool_need_dir("repair", o.dir);
	if (rc != 0) {
		return rc;
	}
	struct rlog_vfs *vfs = NULL;
	struct rlog_file *lock = NULL;
	if (o.dry_run) {
		if (rlog_tool_lock_probe(o.dir) == RLOG_TOOL_LOCK_HELD) {
			rlog_tool_err("repair", o.dir,
				      "RLOG_EBUSY: %s: the log is open in "
				      "another process "
				      "(LOCK is held): stop it first",
				      rlog_strerror(RLOG_EBUSY));
			return RLOG_TOOL_EXIT_PROBLEM;
		}
	} else {
		rc = take_lock(o.dir, &vfs, &lock);
		if (rc != 0) {
			return rc;
		}
	}
	struct plan *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rlog_tool_err("repair", o.dir, "out of memory");
		drop_lock(vfs, lock);
		return RLOG_TOOL_EXIT_IO;
	}
	char err[512] = "";
	int rv = make_plan(o.dir, p, err, sizeof(err));
	if (rv != 0) {
		rlog_tool_err("repair", o.dir, "%s", err);
		rc = RLOG_TOOL_EXIT_IO;
		goto out;
	}
	printf("repair %s\n", o.dir);
	print_found(p);
	if (p->len > 0) {
		printf("plan:\n");
		for (size_t i = 0; i < p->len; i++) {
			print_step(i + 1, &p->steps[i]);
		}
	}
	if (p->refused) {
		printf("refused: %s\n", p->refuse_why);
		rc = RLOG_TOOL_EXIT_PROBLEM;
		goto out;
	}
	if (p->len == 0) {
		printf("nothing to repair\n");
		rc = RLOG_TOOL_EXIT_OK;
		goto out;
	}
	char range[96];
	rlog_tool_range(range, sizeof(range), p->after_first, p->after_last);
	printf("after: %s; rlog_open would succeed\n", range);
	if (p->forced && !o.force) {
		printf("refused: acknowledged data is damaged (steps marked "
		       "[FORCED] drop entries that had been synced). Restore "
		       "the directory from a backup, or rebuild this node "
		       "from its peers, or run again with --force to keep "
		       "the intact part.\n");
		rc = RLOG_TOOL_EXIT_PROBLEM;
		goto out;
	}
	if (o.dry_run) {
		printf("dry run: nothing changed\n");
		rc = RLOG_TOOL_EXIT_OK;
		goto out;
	}
	rc = run_plan(&o, p);
	if (rc == RLOG_TOOL_EXIT_OK && p->forced) {
		explain_loss(p);
	}
out:
	free(p->ov.items);
	free(p);
	drop_lock(vfs, lock);
	return rc;
}
