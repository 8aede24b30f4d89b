/*
 * walk.h: a read-only walk of an rlog directory, the way recovery reads it.
 *
 * rlog_tool_walk mirrors rlog_open's recovery (docs/FORMAT.md, Recovery)
 * step by step with the engine's own record, header and meta checks, but
 * opens every file read-only, takes no lock, syncs nothing and keeps going
 * after the first error so that an operator sees everything. Its verdict is
 * what rlog_open would return for the same bytes; the first error it finds
 * is the one rlog_open reports.
 *
 * Seals (docs/FORMAT.md, Seal file) are read the way recovery reads them:
 * a segment whose seal holds is taken from the seal, not from its records,
 * so the verdict stays rlog_open's. With RLOG_TOOL_WALK_CHECK_SEALS the
 * walk also replays every such segment in full, beside the index, and
 * compares: damage there (which rlog_open does not see, and rlog_get
 * reports when the entry is read) and a seal that disagrees with its
 * segment become problems, and the full_* fields say what a full read
 * (rlog_open with verify_on_open) would return.
 *
 * An overlay lets `rlog repair` plan: it makes the walk see some segment
 * files as removed or cut short, and some seal files as removed, without
 * touching them.
 */
#ifndef RLOG_TOOL_WALK_H
#define RLOG_TOOL_WALK_H

#include "internal.h"
#include "tool.h"

enum rlog_tool_sev {
	RLOG_TOOL_NOTE = 0,   /* legal state, nothing acknowledged is lost */
	RLOG_TOOL_PROBLEM = 1 /* damage, or a state no crash explains */
};

struct rlog_tool_msg {
	enum rlog_tool_sev sev;
	char file[RLOG_VFS_NAME_MAX + 1]; /* "" for the directory itself */
	bool has_offset;
	uint64_t offset;
	char what[480];
};

/* What recovery makes of a segment file. */
enum rlog_tool_role {
	RLOG_TOOL_SEG_DEAD = 0,	   /* below min_seq: ignored, removed later */
	RLOG_TOOL_SEG_CHAIN = 1,   /* on the live chain */
	RLOG_TOOL_SEG_ORPHAN = 2,  /* valid header, not on the chain */
	RLOG_TOOL_SEG_TORN = 3,	   /* newest files, header torn at creation */
	RLOG_TOOL_SEG_DAMAGED = 4, /* header damaged where recovery needs it */
	RLOG_TOOL_SEG_IGNORED = 5  /* header damaged, off the chain: ignored */
};

/* What recovery makes of a seal file. */
enum rlog_tool_seal_state {
	RLOG_TOOL_SEAL_UNCHECKED = 0, /* recovery never looks at it */
	RLOG_TOOL_SEAL_USED = 1,      /* holds: recovery takes the segment
					 from it */
	RLOG_TOOL_SEAL_STALE = 2,     /* checksums hold, but it is of another
					 state of the segment or the log */
	RLOG_TOOL_SEAL_DAMAGED = 3,   /* checksum, size or version */
	RLOG_TOOL_SEAL_INVALID = 4,   /* checksums hold, contents impossible */
	RLOG_TOOL_SEAL_ORPHAN = 5     /* no segment file of its number */
};

struct rlog_tool_seal {
	uint64_t seq;
	char name[RLOG__SEAL_NAME_LEN + 1];
	uint64_t size_bytes;
	bool has_seg; /* a segment file of the same number is listed */
	size_t seg;   /* its index into segs */
	int hdr_rc;   /* rlog__seal_header_check's result; -1: unreadable */
	struct rlog__seal_header hdr;
	enum rlog_tool_seal_state state;
	char why[200]; /* stale, damaged, invalid, unchecked: why */
	/* RLOG_TOOL_WALK_CHECK_SEALS, for a used seal: */
	bool checked;	 /* compared with a full replay of its segment */
	bool disagrees;	 /* and the two differ */
	bool seg_damage; /* the full replay met damage: not compared */
};

struct rlog_tool_seg {
	uint64_t seq;
	char name[RLOG__SEG_NAME_LEN + 1];
	bool has_seal; /* seals[seal] is of this segment */
	size_t seal;
	uint64_t size_bytes; /* as the walk sees it (overlay applied) */
	int hdr_rc;	     /* 0, RLOG_ECORRUPT, RLOG_EVERSION; dead: 1 */
	struct rlog__seg_header hdr;
	enum rlog_tool_role role;
	bool replayed;	     /* recovery read its records (or its seal) */
	bool from_seal;	     /* recovery took it from its seal */
	uint64_t limit;	     /* chain: next one's prev_end_offset, or max */
	uint64_t stop;	     /* where replay stopped */
	uint64_t evidence;   /* bytes its records vouch for as synced */
	const char *why;     /* why replay stopped early, NULL if it did not */
	uint64_t entry_recs; /* ENTRY records replayed */
	uint64_t trunc_recs; /* TRUNCATE records replayed */
	uint64_t live_first; /* live entries it holds (count 0: none) */
	uint64_t live_last;
	uint64_t live_count;
};

/* One live entry: where its record is. */
struct rlog_tool_ent {
	uint64_t term;
	uint64_t offset;
	uint32_t seg; /* index into segs */
	uint32_t size_bytes;
};

/* Where the damage behind the verdict lies, for `rlog repair --force`. */
enum rlog_tool_damage {
	RLOG_TOOL_DMG_NONE = 0,
	RLOG_TOOL_DMG_RECORD = 1, /* bad bytes in segs[seg] at offset */
	RLOG_TOOL_DMG_FILE = 2,	  /* segs[seg] as a whole (its header) */
	RLOG_TOOL_DMG_FATAL = 3	  /* nothing a cut can fix */
};

struct rlog_tool_overlay_item {
	uint64_t seq;
	bool removed;
	uint64_t size_bytes; /* when not removed: the file ends here */
	bool seal_removed;   /* the seal file of seq is gone */
};

struct rlog_tool_overlay {
	struct rlog_tool_overlay_item *items;
	size_t len;
	size_t cap;
};

struct rlog_tool_walk {
	const char *dir;
	const struct rlog_tool_overlay *ov;
	enum rlog_tool_lock lock;

	/* meta */
	bool meta_exists;
	uint64_t meta_size_bytes;
	int slot_rc[2]; /* rlog__meta_decode's result per slot */
	struct rlog__meta slot[2];
	int meta_slot;		/* -1 none, 0 A, 1 B */
	bool meta_ok;		/* meta decides nothing wrong */
	struct rlog__meta meta; /* what recovery uses (zeros if none) */

	/* segment files in sequence order */
	struct rlog_tool_seg *segs;
	size_t segs_len;
	size_t segs_cap;
	struct rlog_tool_seal *seals; /* seal files in sequence order */
	size_t seals_len;
	size_t seals_cap;
	size_t seals_used;   /* recovery takes that many segments from seals */
	size_t seals_orphan; /* seal files without a segment file */
	bool check_seals;    /* RLOG_TOOL_WALK_CHECK_SEALS */
	size_t *chain;	     /* indexes into segs, oldest first */
	size_t chain_len;
	size_t other_names; /* files that are not rlog's */
	size_t backups;	    /* repair-backup-* files */

	/* the live index */
	struct rlog_tool_ent *ents;
	size_t ents_off;
	size_t ents_len;
	size_t ents_cap;
	uint64_t ents_first;

	/* results */
	uint64_t first_index;
	uint64_t last_index;
	bool torn;	   /* the last segment ends in a torn tail */
	size_t torn_seg;   /* index into segs */
	uint64_t torn_off; /* where it starts */
	uint64_t torn_bytes;
	uint64_t zero_tail_bytes; /* an all-zero tail (harmless) */
	bool settle; /* the next open copies unsynced records forward */
	uint64_t settle_off;
	uint64_t settle_bytes;
	uint64_t settle_from; /* first index it copies */
	int verdict;	      /* what rlog_open would return */
	char verdict_msg[512];
	enum rlog_tool_damage damage;
	size_t damage_seg;
	uint64_t damage_off;

	/* What a full read finds first (rlog_open with verify_on_open): the
	 * verdict, or damage in a segment rlog_open takes from its seal.
	 * Without RLOG_TOOL_WALK_CHECK_SEALS the same as the verdict. */
	int full_verdict;
	char full_verdict_msg[512];
	enum rlog_tool_damage full_damage;
	size_t full_damage_seg;
	uint64_t full_damage_off;
	size_t sealed_damage; /* problems in segments taken from seals */
	size_t seals_disagree;

	struct rlog_tool_msg *msgs;
	size_t msgs_len;
	size_t msgs_cap;
	size_t problems;
	size_t notes;

	/* a cached open segment for entry reads */
	int rd_fd;
	size_t rd_seg;
	uint8_t *rbuf;
	size_t rbuf_cap;

	char err[512]; /* context of a negative return */
};

/*
 * Walk dir (read-only). ov may be NULL. Returns 0 when the walk finished
 * (w->verdict tells what rlog_open would say), or a negative errno when a
 * file could not be listed or read (w->err says which), or -ENOMEM.
 * Always call rlog_tool_walk_free afterwards.
 */
int rlog_tool_walk(const char *dir, const struct rlog_tool_overlay *ov,
		   struct rlog_tool_walk *w);

/* Also replay every segment taken from its seal in full and compare. */
#define RLOG_TOOL_WALK_CHECK_SEALS 1u
/* rlog_tool_walk with flags (RLOG_TOOL_WALK_*). */
int rlog_tool_walk_ex(const char *dir, const struct rlog_tool_overlay *ov,
		      unsigned flags, struct rlog_tool_walk *w);

/*
 * The checks recovery does not need but an operator does: every record of
 * every chain segment, past the first damage too (damaged regions are
 * resynchronised at the next valid record); every entry body decoded and
 * its index and term compared with its record header. Adds messages.
 * Returns 0 or a negative errno (w->err).
 */
int rlog_tool_walk_deep(struct rlog_tool_walk *w);

/* One step of a record walk: a valid record, or a damaged region. */
struct rlog_tool_rec_view {
	bool valid;
	uint64_t offset;      /* where it starts in the file */
	uint64_t end;	      /* where it ends */
	bool zero;	      /* a region whose bytes are all zero */
	struct rlog__rec rec; /* when valid; rec.body lives during the call */
};
typedef int (*rlog_tool_rec_cb)(void *ctx, const struct rlog_tool_rec_view *v);

/*
 * Walk every record of segs[seg] after its header, in file order,
 * resynchronising after damage at the next aligned valid record. A nonzero
 * return of cb stops the walk and is returned. Returns 0, cb's value, or a
 * negative errno (w->err).
 */
int rlog_tool_walk_records(struct rlog_tool_walk *w, size_t seg,
			   rlog_tool_rec_cb cb, void *ctx);

/*
 * Count the valid ENTRY records in segs[seg] between from and to (bytes),
 * skipping damaged regions. *count, *first and *last (index range; 0 when
 * none). Returns 0 or a negative errno.
 */
int rlog_tool_walk_count(struct rlog_tool_walk *w, size_t seg, uint64_t from,
			 uint64_t to, uint64_t *count, uint64_t *first,
			 uint64_t *last);

/*
 * Read the live entry at index. out->payload points into *buf (grown with
 * malloc; the caller frees it). Returns 0, RLOG_ENOTFOUND, RLOG_ECORRUPT
 * (why says what is wrong) or a negative errno.
 */
int rlog_tool_walk_entry(struct rlog_tool_walk *w, uint64_t index,
			 struct rlog_entry *out, uint8_t **buf, size_t *cap,
			 char *why, size_t why_len);

/*
 * Read the body of seals[k] (runs, then entries) into *body (malloc; the
 * caller frees it), when its header is valid and the file has the size it
 * describes; else *body is NULL. 0 or a negative errno (w->err).
 */
int rlog_tool_seal_body(struct rlog_tool_walk *w, size_t k, uint8_t **body,
			size_t *len);

/* A seal's state in a few words: "valid, 12 entries", "stale (...), not
 * used", ... */
void rlog_tool_seal_describe(const struct rlog_tool_seal *sl, char *buf,
			     size_t len);

/* Print every message, one a line: "problem FILE@OFF: what". */
void rlog_tool_walk_print_msgs(const struct rlog_tool_walk *w, FILE *f);

void rlog_tool_walk_free(struct rlog_tool_walk *w);

/* "entries [F, L]", or "no entries (next index F)" when L < F. */
void rlog_tool_range(char *buf, size_t len, uint64_t first, uint64_t last);

/* A segment file's full path in buf; false when it does not fit. */
bool rlog_tool_path(char *buf, size_t len, const char *dir, const char *name);

#endif /* RLOG_TOOL_WALK_H */
