/*
 * walk.c: read an rlog directory the way recovery does, without changing
 * anything, and say what rlog_open would make of it.
 *
 * The steps and their order follow engine/src/segment.c and meta.c (see
 * docs/FORMAT.md, Recovery): meta slots, the segment listing, headers, the
 * chain from the newest valid header back, replay of every chain segment,
 * the torn-tail-or-damage decision at the end of the last one, the purge
 * boundary. The first error met is the verdict, which is what rlog_open
 * returns; the walk then goes on where it can, so that an operator sees
 * every problem. Files are opened read-only; nothing is locked, written,
 * synced, created or removed.
 *
 * Seals (engine/src/seal.c, docs/FORMAT.md, Seal file) are read here with
 * the engine's header check and CRC, and judged the way rlog__seal_load
 * judges them: a segment but the last whose seal holds is taken from the
 * seal, as recovery does, so that the verdict stays rlog_open's. To check
 * a seal, its segment is replayed in full into a scratch index beside the
 * walk's (struct lix) and the two compared.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "walk.h"

#define NO_LIMIT UINT64_MAX
/* Damaged regions the deep check of one last segment tracks one by one. */
#define REGIONS_MAX 4096u

bool rlog_tool_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	return n > 0 && (size_t)n < len;
}

/* ---- Messages and the verdict. ---- */

static void vmsg(struct rlog_tool_walk *w, enum rlog_tool_sev sev,
		 const char *file, bool has_off, uint64_t off, const char *fmt,
		 va_list ap)
{
	if (w->msgs_len == w->msgs_cap) {
		size_t ncap = w->msgs_cap ? w->msgs_cap * 2 : 16;
		void *n = realloc(w->msgs, ncap * sizeof(*w->msgs));
		if (n == NULL) {
			return; /* messages are best effort */
		}
		w->msgs = n;
		w->msgs_cap = ncap;
	}
	struct rlog_tool_msg *m = &w->msgs[w->msgs_len++];
	memset(m, 0, sizeof(*m));
	m->sev = sev;
	snprintf(m->file, sizeof(m->file), "%s", file ? file : "");
	m->has_offset = has_off;
	m->offset = off;
	vsnprintf(m->what, sizeof(m->what), fmt, ap);
	if (sev == RLOG_TOOL_PROBLEM) {
		w->problems++;
	} else {
		w->notes++;
	}
}

static void note(struct rlog_tool_walk *w, const char *file, bool has_off,
		 uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void note(struct rlog_tool_walk *w, const char *file, bool has_off,
		 uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(w, RLOG_TOOL_NOTE, file, has_off, off, fmt, ap);
	va_end(ap);
}

static void problem(struct rlog_tool_walk *w, const char *file, bool has_off,
		    uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void problem(struct rlog_tool_walk *w, const char *file, bool has_off,
		    uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(w, RLOG_TOOL_PROBLEM, file, has_off, off, fmt, ap);
	va_end(ap);
}

/* Record an error recovery would stop at: always a problem message; the
 * verdict only if it is the first. */
static void verdict(struct rlog_tool_walk *w, int code,
		    enum rlog_tool_damage dmg, size_t seg, const char *file,
		    bool has_off, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
static void verdict(struct rlog_tool_walk *w, int code,
		    enum rlog_tool_damage dmg, size_t seg, const char *file,
		    bool has_off, uint64_t off, const char *fmt, ...)
{
	char what[480];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	problem(w, file, has_off, off, "%s", what);
	if (w->full_verdict == 0) {
		w->full_verdict = code;
		w->full_damage = dmg;
		w->full_damage_seg = seg;
		w->full_damage_off = off;
		if (file != NULL && has_off) {
			snprintf(w->full_verdict_msg,
				 sizeof(w->full_verdict_msg),
				 "%s@%" PRIu64 ": %s", file, off, what);
		} else if (file != NULL) {
			snprintf(w->full_verdict_msg,
				 sizeof(w->full_verdict_msg), "%s: %s", file,
				 what);
		} else {
			snprintf(w->full_verdict_msg,
				 sizeof(w->full_verdict_msg), "%s", what);
		}
	}
	if (w->verdict != 0) {
		return;
	}
	w->verdict = code;
	w->damage = dmg;
	w->damage_seg = seg;
	w->damage_off = off;
	if (file != NULL && has_off) {
		snprintf(w->verdict_msg, sizeof(w->verdict_msg),
			 "%s@%" PRIu64 ": %s", file, off, what);
	} else if (file != NULL) {
		snprintf(w->verdict_msg, sizeof(w->verdict_msg), "%s: %s", file,
			 what);
	} else {
		snprintf(w->verdict_msg, sizeof(w->verdict_msg), "%s", what);
	}
}

static struct rlog_tool_msg *problem_at(struct rlog_tool_walk *w,
					const char *file, uint64_t off)
{
	for (size_t i = 0; i < w->msgs_len; i++) {
		struct rlog_tool_msg *m = &w->msgs[i];
		if (m->sev == RLOG_TOOL_PROBLEM && m->has_offset &&
		    m->offset == off && strcmp(m->file, file) == 0) {
			return m;
		}
	}
	return NULL;
}

/* Damage in a segment rlog_open takes from its seal: a problem (what, then
 * why rlog_open does not see it), and what a full read would stop at if it
 * is the first. */
static void sealed_damage(struct rlog_tool_walk *w, size_t seg, uint64_t off,
			  const char *what, const char *why)
{
	const char *file = w->segs[seg].name;
	problem(w, file, true, off, "%s%s", what, why);
	w->sealed_damage++;
	if (w->full_verdict == 0) {
		w->full_verdict = RLOG_ECORRUPT;
		w->full_damage = RLOG_TOOL_DMG_RECORD;
		w->full_damage_seg = seg;
		w->full_damage_off = off;
		snprintf(w->full_verdict_msg, sizeof(w->full_verdict_msg),
			 "%s@%" PRIu64 ": %s", file, off, what);
	}
}

void rlog_tool_walk_print_msgs(const struct rlog_tool_walk *w, FILE *f)
{
	for (size_t i = 0; i < w->msgs_len; i++) {
		const struct rlog_tool_msg *m = &w->msgs[i];
		fputs(m->sev == RLOG_TOOL_PROBLEM ? "problem" : "note", f);
		if (m->file[0] != '\0' && m->has_offset) {
			fprintf(f, " %s@%" PRIu64 ": ", m->file, m->offset);
		} else if (m->file[0] != '\0') {
			fprintf(f, " %s: ", m->file);
		} else {
			fputs(": ", f);
		}
		fprintf(f, "%s\n", m->what);
	}
}

/* ---- Reading files. ---- */

static const struct rlog_tool_overlay_item *
ov_find(const struct rlog_tool_walk *w, uint64_t seq)
{
	if (w->ov == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < w->ov->len; i++) {
		if (w->ov->items[i].seq == seq) {
			return &w->ov->items[i];
		}
	}
	return NULL;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + *got, len - *got,
				  (off_t)(off + *got));
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (n == 0) {
			break;
		}
		*got += (size_t)n;
	}
	return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (*cap >= need) {
		return 0;
	}
	size_t ncap = *cap ? *cap : 4096;
	while (ncap < need) {
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	}
	uint8_t *n = realloc(*buf, ncap);
	if (n == NULL) {
		return -ENOMEM;
	}
	*buf = n;
	*cap = ncap;
	return 0;
}

/* A read-ahead window over one segment file, as recovery's. */
struct rd {
	struct rlog_tool_walk *w;
	int fd;
	const char *name;
	uint64_t size;
	uint8_t *buf;
	size_t cap;
	uint64_t win_off;
	size_t win_len;
};

static int rd_open(struct rlog_tool_walk *w, struct rd *rd,
		   const struct rlog_tool_seg *s)
{
	memset(rd, 0, sizeof(*rd));
	rd->w = w;
	rd->fd = -1;
	rd->name = s->name;
	char path[4096];
	if (!rlog_tool_path(path, sizeof(path), w->dir, s->name)) {
		snprintf(w->err, sizeof(w->err), "%s: path too long", s->name);
		return -ENAMETOOLONG;
	}
	rd->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (rd->fd < 0) {
		int e = errno;
		snprintf(w->err, sizeof(w->err), "open %s: %s", s->name,
			 strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(rd->fd, &st) != 0) {
		int e = errno;
		snprintf(w->err, sizeof(w->err), "stat %s: %s", s->name,
			 strerror(e));
		close(rd->fd);
		rd->fd = -1;
		return -e;
	}
	rd->size = (uint64_t)st.st_size;
	const struct rlog_tool_overlay_item *it = ov_find(w, s->seq);
	if (it != NULL && !it->removed && it->size_bytes < rd->size) {
		rd->size = it->size_bytes;
	}
	return 0;
}

static void rd_close(struct rd *rd)
{
	if (rd->fd >= 0) {
		close(rd->fd);
	}
	free(rd->buf);
	rd->fd = -1;
	rd->buf = NULL;
}

/* Make [off, off + want) visible (clipped at end of file). */
static int rd_view(struct rd *rd, uint64_t off, uint64_t want,
		   const uint8_t **p, uint64_t *avail)
{
	static const uint8_t none[1] = {0};
	if (off >= rd->size) {
		*p = rd->buf ? rd->buf : none;
		*avail = 0;
		return 0;
	}
	uint64_t left = rd->size - off;
	if (want > left) {
		want = left;
	}
	if (off >= rd->win_off && off + want <= rd->win_off + rd->win_len) {
		*p = rd->buf + (off - rd->win_off);
		*avail = rd->win_off + rd->win_len - off;
		return 0;
	}
	uint64_t len =
	    want > RLOG__READ_WINDOW_BYTES ? want : RLOG__READ_WINDOW_BYTES;
	if (len > left) {
		len = left;
	}
	if (grow(&rd->buf, &rd->cap, (size_t)len) != 0) {
		snprintf(rd->w->err, sizeof(rd->w->err), "out of memory");
		return -ENOMEM;
	}
	size_t got = 0;
	int rv = pread_full(rd->fd, rd->buf, (size_t)len, off, &got);
	if (rv != 0) {
		snprintf(rd->w->err, sizeof(rd->w->err),
			 "read %s@%" PRIu64 ": %s", rd->name, off,
			 strerror(-rv));
		return rv;
	}
	rd->win_off = off;
	rd->win_len = got;
	*p = rd->buf;
	*avail = got;
	return 0;
}

/* Check the record at off, reading as much as it needs. */
static int rd_record(struct rd *rd, uint64_t off, uint32_t seed,
		     struct rlog__rec *rec, enum rlog__rec_status *st)
{
	const uint8_t *p;
	uint64_t avail;
	uint64_t need = RLOG__REC_HEADER_BYTES;
	for (int pass = 0; pass < 2; pass++) {
		int rv = rd_view(rd, off, need, &p, &avail);
		if (rv != 0) {
			return rv;
		}
		uint64_t want = need;
		*st = rlog__rec_check(p, avail, seed, rec, &need);
		if (*st != RLOG__REC_SHORT || need <= want ||
		    avail >= rd->size - off) {
			return 0;
		}
	}
	return 0;
}

/* Whether every byte of [from, to) is zero. */
static int rd_zero(struct rd *rd, uint64_t from, uint64_t to, bool *zero)
{
	*zero = true;
	for (uint64_t off = from; off < to && off < rd->size;) {
		const uint8_t *p;
		uint64_t avail;
		int rv = rd_view(rd, off, to - off, &p, &avail);
		if (rv != 0) {
			return rv;
		}
		if (avail == 0) {
			break;
		}
		uint64_t n = avail < to - off ? avail : to - off;
		for (uint64_t i = 0; i < n; i++) {
			if (p[i] != 0) {
				*zero = false;
				return 0;
			}
		}
		off += n;
	}
	return 0;
}

/* Recovery's search for proof of a sync: a valid record of this segment,
 * at any aligned offset from `from` on, whose durable offset lies past
 * damage_off. *zero_tail tells whether every byte from `from` on is zero. */
static int find_evidence(struct rd *rd, uint32_t seed, uint64_t from,
			 uint64_t damage_off, bool *found, uint64_t *found_off,
			 bool *zero_tail)
{
	*found = false;
	*zero_tail = true;
	for (uint64_t off = from; off < rd->size; off += RLOG__REC_ALIGN) {
		const uint8_t *p;
		uint64_t avail;
		int rv = rd_view(rd, off, RLOG__REC_HEADER_BYTES, &p, &avail);
		if (rv != 0) {
			return rv;
		}
		uint64_t step =
		    avail < RLOG__REC_ALIGN ? avail : RLOG__REC_ALIGN;
		for (uint64_t i = 0; i < step; i++) {
			if (p[i] != 0) {
				*zero_tail = false;
			}
		}
		if (avail < RLOG__REC_HEADER_BYTES) {
			continue;
		}
		if (p[4] != RLOG__REC_ENTRY && p[4] != RLOG__REC_TRUNCATE) {
			continue;
		}
		struct rlog__rec rec;
		enum rlog__rec_status st;
		rv = rd_record(rd, off, seed, &rec, &st);
		if (rv != 0) {
			return rv;
		}
		if (st == RLOG__REC_OK && rec.durable_offset > damage_off) {
			*found = true;
			*found_off = off;
			*zero_tail = false;
			return 0;
		}
	}
	return 0;
}

/* ---- The live index, as the engine keeps it. ---- */

static uint64_t ents_last(const struct rlog_tool_walk *w)
{
	return w->ents_first + w->ents_len - 1;
}

static const struct rlog_tool_ent *ent_at(const struct rlog_tool_walk *w,
					  uint64_t index)
{
	if (index < w->ents_first || index - w->ents_first >= w->ents_len) {
		return NULL;
	}
	return &w->ents[w->ents_off + (size_t)(index - w->ents_first)];
}

static uint64_t prev_term(const struct rlog_tool_walk *w, uint64_t index)
{
	const struct rlog_tool_ent *e = ent_at(w, index);
	return e ? e->term : 0;
}

static int ents_push(struct rlog_tool_walk *w, uint64_t term, size_t seg,
		     uint64_t offset, uint64_t size)
{
	if (w->ents_off + w->ents_len == w->ents_cap) {
		if (w->ents_off > 0 && w->ents_off >= w->ents_cap / 2) {
			memmove(w->ents, w->ents + w->ents_off,
				w->ents_len * sizeof(*w->ents));
			w->ents_off = 0;
		} else {
			size_t ncap = w->ents_cap ? w->ents_cap * 2 : 1024;
			void *n = realloc(w->ents, ncap * sizeof(*w->ents));
			if (n == NULL) {
				snprintf(w->err, sizeof(w->err),
					 "out of memory");
				return -ENOMEM;
			}
			w->ents = n;
			w->ents_cap = ncap;
		}
	}
	struct rlog_tool_ent *e = &w->ents[w->ents_off + w->ents_len];
	e->term = term;
	e->offset = offset;
	e->seg = (uint32_t)seg;
	e->size_bytes = (uint32_t)size;
	w->ents_len++;
	return 0;
}

static void ents_truncate(struct rlog_tool_walk *w, uint64_t from_index)
{
	if (from_index <= w->ents_first) {
		w->ents_first = from_index;
		w->ents_len = 0;
		w->ents_off = 0;
		return;
	}
	uint64_t keep = from_index - w->ents_first;
	if (keep < w->ents_len) {
		w->ents_len = (size_t)keep;
	}
}

static void ents_purge(struct rlog_tool_walk *w, uint64_t through_index)
{
	if (through_index < w->ents_first) {
		return;
	}
	if (through_index >= ents_last(w)) {
		w->ents_first = through_index + 1;
		w->ents_len = 0;
		w->ents_off = 0;
		return;
	}
	size_t drop = (size_t)(through_index + 1 - w->ents_first);
	w->ents_off += drop;
	w->ents_len -= drop;
	w->ents_first += drop;
}

/*
 * A scratch index: what a full replay of one segment makes of the log,
 * kept beside the walk's index, which stays as it was before the segment
 * (recovery builds it from the seal instead). Entries [base, base + len)
 * come from the segment; below base the walk's index holds, so base ends
 * as the lowest index the segment's records touch (or the log's next
 * index before it, when they touch none lower). Replay functions take a
 * NULL lix to work on the walk's index itself.
 */
struct lix {
	uint64_t base;
	struct rlog_tool_ent *e;
	size_t len;
	size_t cap;
};

static uint64_t ix_term(const struct rlog_tool_walk *w, const struct lix *lx,
			uint64_t index)
{
	if (lx == NULL || index < lx->base) {
		return prev_term(w, index);
	}
	return index - lx->base < lx->len ? lx->e[index - lx->base].term : 0;
}

static int ix_push(struct rlog_tool_walk *w, struct lix *lx, uint64_t index,
		   uint64_t term, size_t seg, uint64_t offset, uint64_t size)
{
	if (lx == NULL) {
		return ents_push(w, term, seg, offset, size);
	}
	(void)index; /* always base + len */
	if (lx->len == lx->cap) {
		size_t ncap = lx->cap ? lx->cap * 2 : 256;
		void *n = realloc(lx->e, ncap * sizeof(*lx->e));
		if (n == NULL) {
			snprintf(w->err, sizeof(w->err), "out of memory");
			return -ENOMEM;
		}
		lx->e = n;
		lx->cap = ncap;
	}
	struct rlog_tool_ent *e = &lx->e[lx->len++];
	e->term = term;
	e->offset = offset;
	e->seg = (uint32_t)seg;
	e->size_bytes = (uint32_t)size;
	return 0;
}

static void ix_truncate(struct rlog_tool_walk *w, struct lix *lx,
			uint64_t from_index)
{
	if (lx == NULL) {
		ents_truncate(w, from_index);
		return;
	}
	if (from_index < lx->base) {
		lx->base = from_index;
		lx->len = 0;
	} else if (from_index - lx->base < lx->len) {
		lx->len = (size_t)(from_index - lx->base);
	}
}

/* ---- Meta. ---- */

static int read_slot(struct rlog_tool_walk *w, int fd, uint64_t offset,
		     struct rlog__meta *m, int *rc)
{
	uint8_t buf[RLOG__META_SLOT_BYTES];
	size_t got = 0;
	int rv = pread_full(fd, buf, sizeof(buf), offset, &got);
	if (rv != 0) {
		snprintf(w->err, sizeof(w->err), "read meta@%" PRIu64 ": %s",
			 offset, strerror(-rv));
		return rv;
	}
	memset(m, 0, sizeof(*m));
	*rc = rlog__meta_decode(buf, got, m);
	return 0;
}

static const char *slot_state(int rc)
{
	switch (rc) {
	case 0:
		return "valid";
	case 1:
		return "never written";
	case RLOG_EVERSION:
		return "unsupported version";
	default:
		return "damaged";
	}
}

/* Which states of the two slots a crash explains: a save writes slot A,
 * syncs, then writes slot B. */
static void meta_notes(struct rlog_tool_walk *w)
{
	int ra = w->slot_rc[0], rb = w->slot_rc[1];
	const char *m = RLOG__META_NAME;
	for (int i = 0; i < 2; i++) {
		int other = 1 - i;
		char slot = i == 0 ? 'A' : 'B';
		uint64_t off = i == 0 ? RLOG__META_SLOT_A_OFFSET
				      : RLOG__META_SLOT_B_OFFSET;
		if (w->slot_rc[i] != RLOG_ECORRUPT) {
			continue;
		}
		if (w->slot_rc[other] == 0) {
			note(w, m, true, off,
			     "slot %c is damaged: a save was cut short by a "
			     "crash, or the disk damaged it; slot %c holds "
			     "the value and the next save rewrites both",
			     slot, i == 0 ? 'B' : 'A');
		} else {
			note(w, m, true, off,
			     "slot %c is damaged and slot %c was never "
			     "written: the first save ever was cut short, "
			     "nothing was acknowledged",
			     slot, i == 0 ? 'B' : 'A');
		}
	}
	if (ra == 0 && rb == 0) {
		if (w->slot[0].generation < w->slot[1].generation) {
			problem(w, m, true, RLOG__META_SLOT_A_OFFSET,
				"slot A (generation %" PRIu64
				") is older than slot B (generation %" PRIu64
				"): saves write A first, so no crash "
				"explains this; slot B is used",
				w->slot[0].generation, w->slot[1].generation);
		} else if (w->slot[0].generation > w->slot[1].generation) {
			note(w, m, true, RLOG__META_SLOT_B_OFFSET,
			     "slot B (generation %" PRIu64
			     ") lags slot A (generation %" PRIu64
			     "): a save was interrupted after slot A; "
			     "slot A is used",
			     w->slot[1].generation, w->slot[0].generation);
		}
	}
	if (ra == 0 && rb == 1) {
		note(w, m, true, RLOG__META_SLOT_B_OFFSET,
		     "slot B was never written: the first save was "
		     "interrupted after slot A; slot A is used");
	}
}

static int load_meta(struct rlog_tool_walk *w)
{
	char path[4096];
	memset(&w->meta, 0, sizeof(w->meta));
	w->meta_ok = true;
	if (!rlog_tool_path(path, sizeof(path), w->dir, RLOG__META_NAME)) {
		snprintf(w->err, sizeof(w->err), "meta: path too long");
		return -ENAMETOOLONG;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			return 0;
		}
		int e = errno;
		snprintf(w->err, sizeof(w->err), "open %s: %s", RLOG__META_NAME,
			 strerror(e));
		return -e;
	}
	w->meta_exists = true;
	struct stat st;
	if (fstat(fd, &st) == 0) {
		w->meta_size_bytes = (uint64_t)st.st_size;
	}
	int rv = read_slot(w, fd, RLOG__META_SLOT_A_OFFSET, &w->slot[0],
			   &w->slot_rc[0]);
	if (rv == 0) {
		rv = read_slot(w, fd, RLOG__META_SLOT_B_OFFSET, &w->slot[1],
			       &w->slot_rc[1]);
	}
	close(fd);
	if (rv != 0) {
		return rv;
	}
	int ra = w->slot_rc[0], rb = w->slot_rc[1];
	const char *m = RLOG__META_NAME;
	if (ra == RLOG_EVERSION || rb == RLOG_EVERSION) {
		w->meta_ok = false;
		verdict(w, RLOG_EVERSION, RLOG_TOOL_DMG_FATAL, 0, m, false, 0,
			"unsupported format version (slot A %s, slot B %s)",
			slot_state(ra), slot_state(rb));
		return 0;
	}
	if (ra == RLOG_ECORRUPT && rb == RLOG_ECORRUPT) {
		w->meta_ok = false;
		verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_FATAL, 0, m, false, 0,
			"both slots (offsets %u and %u) fail their checksum: "
			"the hard state and purge boundary are lost",
			RLOG__META_SLOT_A_OFFSET, RLOG__META_SLOT_B_OFFSET);
		return 0;
	}
	if (ra == 0 &&
	    (rb != 0 || w->slot[0].generation >= w->slot[1].generation)) {
		w->meta = w->slot[0];
		w->meta_slot = 0;
	} else if (rb == 0) {
		w->meta = w->slot[1];
		w->meta_slot = 1;
	}
	meta_notes(w);
	return 0;
}

/* ---- Listing and headers. ---- */

static int seg_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct rlog_tool_seg *)a)->seq;
	uint64_t y = ((const struct rlog_tool_seg *)b)->seq;
	return (x > y) - (x < y);
}

static int seal_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct rlog_tool_seal *)a)->seq;
	uint64_t y = ((const struct rlog_tool_seal *)b)->seq;
	return (x > y) - (x < y);
}

static int list_seal(struct rlog_tool_walk *w, uint64_t seq)
{
	const struct rlog_tool_overlay_item *it = ov_find(w, seq);
	if (it != NULL && it->seal_removed) {
		return 0;
	}
	if (w->seals_len == w->seals_cap) {
		size_t ncap = w->seals_cap ? w->seals_cap * 2 : 16;
		void *n = realloc(w->seals, ncap * sizeof(*w->seals));
		if (n == NULL) {
			snprintf(w->err, sizeof(w->err), "out of memory");
			return -ENOMEM;
		}
		w->seals = n;
		w->seals_cap = ncap;
	}
	struct rlog_tool_seal *sl = &w->seals[w->seals_len++];
	memset(sl, 0, sizeof(*sl));
	sl->seq = seq;
	rlog__seal_name(sl->name, seq);
	return 0;
}

/* Returns 0, a negative errno, or 1 when the listing itself is the
 * verdict (too many segment files). */
static int list_dir(struct rlog_tool_walk *w)
{
	DIR *d = opendir(w->dir);
	if (d == NULL) {
		int e = errno;
		snprintf(w->err, sizeof(w->err), "open directory: %s",
			 strerror(e));
		return -e;
	}
	int rv = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				int e = errno;
				snprintf(w->err, sizeof(w->err),
					 "list directory: %s", strerror(e));
				rv = -e;
			}
			break;
		}
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strcmp(name, RLOG__META_NAME) == 0 ||
		    strcmp(name, RLOG__LOCK_NAME) == 0) {
			continue;
		}
		uint64_t seq;
		if (rlog__seal_parse_name(name, &seq)) {
			rv = list_seal(w, seq);
			if (rv != 0) {
				break;
			}
			continue;
		}
		if (!rlog__seg_parse_name(name, &seq)) {
			if (strncmp(name, "repair-backup-", 14) == 0) {
				w->backups++;
			} else {
				w->other_names++;
			}
			continue;
		}
		const struct rlog_tool_overlay_item *it = ov_find(w, seq);
		if (it != NULL && it->removed) {
			continue;
		}
		if (w->segs_len >= RLOG_SEGMENT_COUNT_MAX) {
			verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_FATAL, 0, NULL,
				false, 0, "more than %u segment files",
				RLOG_SEGMENT_COUNT_MAX);
			rv = 1;
			break;
		}
		if (w->segs_len == w->segs_cap) {
			size_t ncap = w->segs_cap ? w->segs_cap * 2 : 16;
			void *n = realloc(w->segs, ncap * sizeof(*w->segs));
			if (n == NULL) {
				snprintf(w->err, sizeof(w->err),
					 "out of memory");
				rv = -ENOMEM;
				break;
			}
			w->segs = n;
			w->segs_cap = ncap;
		}
		struct rlog_tool_seg *s = &w->segs[w->segs_len++];
		memset(s, 0, sizeof(*s));
		s->seq = seq;
		rlog__seg_name(s->name, seq);
	}
	closedir(d);
	if (rv == 0 && w->segs_len > 1) {
		qsort(w->segs, w->segs_len, sizeof(*w->segs), seg_cmp);
	}
	if (rv == 0 && w->seals_len > 1) {
		qsort(w->seals, w->seals_len, sizeof(*w->seals), seal_cmp);
	}
	return rv;
}

static int read_header(struct rlog_tool_walk *w, struct rlog_tool_seg *s)
{
	struct rd rd;
	int rv = rd_open(w, &rd, s);
	if (rv != 0 && s->seq < w->meta.min_seq) {
		/* Recovery never opens a dead file; neither does its verdict
		 * depend on this one. */
		s->hdr_rc = 1;
		s->role = RLOG_TOOL_SEG_DEAD;
		w->err[0] = '\0';
		return 0;
	}
	if (rv != 0) {
		return rv;
	}
	s->size_bytes = rd.size;
	s->hdr_rc = 1;
	s->role = RLOG_TOOL_SEG_DEAD;
	if (s->seq >= w->meta.min_seq) {
		s->role = RLOG_TOOL_SEG_IGNORED;
		uint8_t buf[RLOG__SEG_HEADER_BYTES];
		size_t got = 0;
		size_t want =
		    rd.size < sizeof(buf) ? (size_t)rd.size : sizeof(buf);
		rv = pread_full(rd.fd, buf, want, 0, &got);
		if (rv != 0) {
			snprintf(w->err, sizeof(w->err), "read %s@0: %s",
				 s->name, strerror(-rv));
		} else {
			s->hdr_rc = rlog__seg_header_check(buf, got, &s->hdr);
			if (s->hdr_rc == 0 && s->hdr.seq != s->seq) {
				s->hdr_rc = RLOG_ECORRUPT;
			}
		}
	}
	rd_close(&rd);
	return rv;
}

/* ---- Seals: listing and headers. ---- */

static int seal_open(const struct rlog_tool_walk *w,
		     const struct rlog_tool_seal *sl, int *fd)
{
	char path[4096];
	if (!rlog_tool_path(path, sizeof(path), w->dir, sl->name)) {
		return -ENAMETOOLONG;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

/* Read the n body bytes of seal sl into a new buffer *out. Returns 0 with
 * *out set, 0 with *out NULL and *io the error (a negative errno, or 1 for
 * a short read) when it cannot be read, or -ENOMEM. */
static int seal_read_body(struct rlog_tool_walk *w,
			  const struct rlog_tool_seal *sl, size_t n,
			  uint8_t **out, int *io)
{
	*out = NULL;
	*io = 0;
	uint8_t *b = malloc(n > 0 ? n : 1);
	if (b == NULL) {
		snprintf(w->err, sizeof(w->err), "out of memory");
		return -ENOMEM;
	}
	int fd;
	size_t got = 0;
	int rv = seal_open(w, sl, &fd);
	if (rv == 0) {
		rv = pread_full(fd, b, n, RLOG__SEAL_HEADER_BYTES, &got);
		close(fd);
	}
	if (rv != 0 || got != n) {
		*io = rv != 0 ? rv : 1;
		free(b);
		return 0;
	}
	*out = b;
	return 0;
}

/* Read and check a seal's header, as rlog__seal_load starts. A seal that
 * cannot be read is not an I/O error of the walk: recovery does not use
 * it and reads the segment instead. */
static void read_seal_header(struct rlog_tool_walk *w,
			     struct rlog_tool_seal *sl)
{
	int fd;
	int rv = seal_open(w, sl, &fd);
	if (rv != 0) {
		sl->hdr_rc = -1;
		snprintf(sl->why, sizeof(sl->why), "unreadable: %s",
			 strerror(-rv));
		return;
	}
	struct stat st;
	uint8_t buf[RLOG__SEAL_HEADER_BYTES];
	size_t got = 0;
	rv = fstat(fd, &st) == 0 ? 0 : -errno;
	if (rv == 0) {
		sl->size_bytes = (uint64_t)st.st_size;
		rv = pread_full(fd, buf, sizeof(buf), 0, &got);
	}
	close(fd);
	if (rv != 0) {
		sl->hdr_rc = -1;
		snprintf(sl->why, sizeof(sl->why), "unreadable: %s",
			 strerror(-rv));
		return;
	}
	if (got < sizeof(buf)) {
		sl->hdr_rc = RLOG_ECORRUPT;
		snprintf(sl->why, sizeof(sl->why),
			 "%zu bytes, shorter than its header", got);
		return;
	}
	sl->hdr_rc = rlog__seal_header_check(buf, got, &sl->hdr);
	if (sl->hdr_rc == RLOG_EVERSION) {
		snprintf(sl->why, sizeof(sl->why),
			 "unsupported version %" PRIu32, rlog__get32(buf + 8));
	} else if (sl->hdr_rc != 0) {
		snprintf(sl->why, sizeof(sl->why),
			 "header checksum, magic or fields");
	}
}

/* Pair every seal with the segment file of its number; read headers. */
static void link_seals(struct rlog_tool_walk *w)
{
	size_t j = 0;
	for (size_t i = 0; i < w->seals_len; i++) {
		struct rlog_tool_seal *sl = &w->seals[i];
		while (j < w->segs_len && w->segs[j].seq < sl->seq) {
			j++;
		}
		if (j < w->segs_len && w->segs[j].seq == sl->seq) {
			sl->has_seg = true;
			sl->seg = j;
			w->segs[j].has_seal = true;
			w->segs[j].seal = i;
		} else {
			w->seals_orphan++;
		}
		read_seal_header(w, sl);
	}
}

static struct rlog_tool_seg *seg_find(struct rlog_tool_walk *w, uint64_t seq,
				      size_t *idx)
{
	size_t lo = 0, hi = w->segs_len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->segs[mid].seq == seq) {
			*idx = mid;
			return &w->segs[mid];
		}
		if (w->segs[mid].seq < seq) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

/* A newest file with an unreadable header: a torn creation, unless a
 * valid record in it proves that a sync happened after it was written. */
static int judge_bad_header(struct rlog_tool_walk *w, size_t i)
{
	struct rlog_tool_seg *s = &w->segs[i];
	struct rd rd;
	int rv = rd_open(w, &rd, s);
	if (rv != 0) {
		return rv;
	}
	bool found = false, zero;
	uint64_t at = 0;
	rv = find_evidence(&rd, rlog__seg_seed(s->seq), RLOG__SEG_HEADER_BYTES,
			   0, &found, &at, &zero);
	rd_close(&rd);
	if (rv != 0) {
		return rv;
	}
	if (found) {
		s->role = RLOG_TOOL_SEG_DAMAGED;
		verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_FILE, i, s->name, true,
			0,
			"segment header damaged, but the record at offset "
			"%" PRIu64 " shows it was synced",
			at);
	} else {
		s->role = RLOG_TOOL_SEG_TORN;
	}
	return 0;
}

/* Find the chain from the newest valid header back (recovery step 3-4). */
static int build_chain(struct rlog_tool_walk *w)
{
	struct rlog_tool_seg *last = NULL;
	size_t last_i = 0;
	for (size_t i = w->segs_len; i > 0; i--) {
		struct rlog_tool_seg *c = &w->segs[i - 1];
		if (c->seq < w->meta.min_seq) {
			break;
		}
		if (c->hdr_rc == RLOG_EVERSION) {
			c->role = RLOG_TOOL_SEG_DAMAGED;
			verdict(w, RLOG_EVERSION, RLOG_TOOL_DMG_FATAL, i - 1,
				c->name, false, 0,
				"unsupported format version %u",
				c->hdr.version);
			return 0;
		}
		if (c->hdr_rc == 0) {
			last = c;
			last_i = i - 1;
			break;
		}
		int rv = judge_bad_header(w, i - 1);
		if (rv != 0) {
			return rv;
		}
	}
	if (last == NULL) {
		return 0;
	}
	w->chain = malloc(w->segs_len * sizeof(*w->chain));
	if (w->chain == NULL) {
		snprintf(w->err, sizeof(w->err), "out of memory");
		return -ENOMEM;
	}
	size_t cur = last_i;
	size_t len = 0;
	for (size_t guard = 0; guard <= w->segs_len && len < w->segs_len;
	     guard++) {
		struct rlog_tool_seg *c = &w->segs[cur];
		w->chain[len++] = cur;
		c->role = RLOG_TOOL_SEG_CHAIN;
		struct rlog_tool_seg *prev = NULL;
		size_t prev_i = 0;
		if (c->hdr.prev_seq != 0 &&
		    c->hdr.prev_seq >= w->meta.min_seq) {
			prev = seg_find(w, c->hdr.prev_seq, &prev_i);
		}
		if (prev == NULL) {
			break;
		}
		if (prev->hdr_rc != 0) {
			prev->role = RLOG_TOOL_SEG_DAMAGED;
			verdict(
			    w,
			    prev->hdr_rc == RLOG_EVERSION ? RLOG_EVERSION
							  : RLOG_ECORRUPT,
			    prev->hdr_rc == RLOG_EVERSION ? RLOG_TOOL_DMG_FATAL
							  : RLOG_TOOL_DMG_FILE,
			    prev_i, prev->name, true, 0,
			    "segment header damaged (it precedes %s)", c->name);
			break;
		}
		cur = prev_i;
	}
	for (size_t i = 0; i < len / 2; i++) {
		size_t t = w->chain[i];
		w->chain[i] = w->chain[len - 1 - i];
		w->chain[len - 1 - i] = t;
	}
	w->chain_len = len;
	return 0;
}

/* ---- Replay (recovery steps 5-6). ---- */

/* Check that the `group` entry records after a truncate record at off all
 * exist and follow from `from`, within limit. */
static int check_group(struct rd *rd, uint32_t seed, uint64_t off,
		       uint64_t limit, uint64_t from, uint32_t group,
		       uint64_t term_floor, bool *ok, uint64_t *end)
{
	*ok = false;
	uint64_t term = term_floor;
	for (uint32_t i = 0; i < group; i++) {
		if (off >= limit) {
			return 0;
		}
		struct rlog__rec rec;
		enum rlog__rec_status st;
		int rv = rd_record(rd, off, seed, &rec, &st);
		if (rv != 0) {
			return rv;
		}
		if (st != RLOG__REC_OK || rec.type != RLOG__REC_ENTRY ||
		    rec.index != from + i || rec.term < term ||
		    off + rec.size_bytes > limit) {
			return 0;
		}
		term = rec.term;
		off += rec.size_bytes;
	}
	*ok = true;
	*end = off;
	return 0;
}

static const char *status_why(enum rlog__rec_status st)
{
	return st == RLOG__REC_ZERO    ? "zero bytes"
	       : st == RLOG__REC_SHORT ? "record cut short"
				       : "checksum or field mismatch";
}

static int replay_group(struct rlog_tool_walk *w, struct lix *lx, size_t si,
			struct rd *rd, uint32_t seed, uint64_t goff,
			uint32_t group, uint64_t *expected)
{
	for (uint32_t i = 0; i < group; i++) {
		struct rlog__rec g;
		enum rlog__rec_status st;
		int rv = rd_record(rd, goff, seed, &g, &st);
		if (rv != 0) {
			return rv;
		}
		if (st != RLOG__REC_OK) {
			snprintf(w->err, sizeof(w->err),
				 "%s@%" PRIu64 ": changed while being read",
				 rd->name, goff);
			return -EAGAIN;
		}
		rv = ix_push(w, lx, *expected, g.term, si, goff, g.size_bytes);
		if (rv != 0) {
			return rv;
		}
		(*expected)++;
		goff += g.size_bytes;
	}
	return 0;
}

static int replay(struct rlog_tool_walk *w, struct lix *lx, size_t si,
		  struct rd *rd, uint64_t limit, uint64_t *expected)
{
	struct rlog_tool_seg *s = &w->segs[si];
	uint32_t seed = rlog__seg_seed(s->seq);
	uint64_t off = RLOG__SEG_HEADER_BYTES;
	s->why = NULL;
	s->evidence = 0;
	while (off < limit && off < rd->size) {
		struct rlog__rec rec;
		enum rlog__rec_status st;
		int rv = rd_record(rd, off, seed, &rec, &st);
		if (rv != 0) {
			return rv;
		}
		if (st != RLOG__REC_OK) {
			s->why = status_why(st);
			break;
		}
		if (off + rec.size_bytes > limit) {
			s->why = "record crosses the segment's recorded end";
			break;
		}
		/* What the records vouch for as synced (as recovery). */
		if (rec.durable_offset > s->evidence &&
		    rec.durable_offset <= off) {
			s->evidence = rec.durable_offset;
		}
		if (rec.type == RLOG__REC_TRUNCATE && rec.group == 0 &&
		    rec.index == *expected && rec.durable_offset == off) {
			/* A clean close's mark vouches for all before it. */
			s->evidence = off + rec.size_bytes;
		}
		if (rec.type == RLOG__REC_ENTRY) {
			if (rec.index != *expected) {
				s->why = "entry index out of sequence";
				break;
			}
			if (rec.term < ix_term(w, lx, rec.index - 1)) {
				s->why = "entry term decreases";
				break;
			}
			rv = ix_push(w, lx, rec.index, rec.term, si, off,
				     rec.size_bytes);
			if (rv != 0) {
				return rv;
			}
			s->entry_recs++;
			(*expected)++;
			off += rec.size_bytes;
			continue;
		}
		if (rec.index > *expected) {
			s->why = "truncate past the end of the log";
			break;
		}
		bool ok;
		uint64_t end = 0;
		uint64_t floor =
		    rec.index > 1 ? ix_term(w, lx, rec.index - 1) : 0;
		rv = check_group(rd, seed, off + rec.size_bytes, limit,
				 rec.index, rec.group, floor, &ok, &end);
		if (rv != 0) {
			return rv;
		}
		if (!ok) {
			s->why = "replace group incomplete";
			break;
		}
		ix_truncate(w, lx, rec.index);
		*expected = rec.index;
		uint32_t group = rec.group;
		rv = replay_group(w, lx, si, rd, seed, off + rec.size_bytes,
				  group, expected);
		if (rv != 0) {
			return rv;
		}
		s->trunc_recs++;
		s->entry_recs += group;
		off = end;
	}
	if (s->why == NULL && off < limit && limit != NO_LIMIT) {
		s->why = "file ends before the segment's recorded end";
	}
	s->stop = off;
	s->replayed = true;
	if (s->hdr.durable_offset > s->evidence &&
	    s->hdr.durable_offset <= off) {
		s->evidence = s->hdr.durable_offset;
	}
	return 0;
}

/* The end of the last segment: torn tail, zero tail, or damage. */
static int judge_tail(struct rlog_tool_walk *w, size_t si, struct rd *rd)
{
	struct rlog_tool_seg *s = &w->segs[si];
	if (s->stop >= rd->size) {
		return 0;
	}
	bool found, zero;
	uint64_t at = 0;
	int rv =
	    find_evidence(rd, rlog__seg_seed(s->seq), s->stop + RLOG__REC_ALIGN,
			  s->stop, &found, &at, &zero);
	if (rv != 0) {
		return rv;
	}
	const char *why = s->why ? s->why : "bad record";
	if (found) {
		verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_RECORD, si, s->name,
			true, s->stop,
			"%s in acknowledged data (the record at offset "
			"%" PRIu64 " was written after it was synced)",
			why, at);
		return 0;
	}
	bool head_zero;
	uint64_t head_end = s->stop + RLOG__REC_ALIGN;
	rv = rd_zero(rd, s->stop, head_end < rd->size ? head_end : rd->size,
		     &head_zero);
	if (rv != 0) {
		return rv;
	}
	uint64_t bytes = rd->size - s->stop;
	if (zero && head_zero) {
		w->zero_tail_bytes = bytes;
		note(w, s->name, true, s->stop,
		     "%" PRIu64 " zero bytes after the last record: "
		     "harmless, appends continue there",
		     bytes);
		return 0;
	}
	w->torn = true;
	w->torn_seg = si;
	w->torn_off = s->stop;
	w->torn_bytes = bytes;
	uint64_t count = 0, first = 0, last = 0;
	rv = rlog_tool_walk_count(w, si, s->stop, rd->size, &count, &first,
				  &last);
	if (rv != 0) {
		return rv;
	}
	char held[160] = "";
	if (count > 0) {
		snprintf(held, sizeof(held),
			 "; it holds %" PRIu64 " intact record(s) of entries "
			 "%" PRIu64 "..%" PRIu64 " that follow the damage",
			 count, first, last);
	}
	note(w, s->name, true, s->stop,
	     "torn tail: %" PRIu64 " bytes (%s) written after the last "
	     "durable point, never acknowledged; recovery drops them%s",
	     bytes, why, held);
	return 0;
}

/* ---- Seals: recovery's use of them (rlog__seal_load). ---- */

/* The term of each listed entry, run by run. */
struct seal_terms {
	const uint8_t *runs;
	uint32_t nruns;
	uint32_t run;
	uint64_t term;
};

static uint64_t seal_term_next(struct seal_terms *t, uint64_t index)
{
	if (t->run < t->nruns &&
	    rlog__get64(t->runs + (size_t)t->run * RLOG__SEAL_RUN_BYTES) ==
		index) {
		t->term = rlog__get64(
		    t->runs + (size_t)t->run * RLOG__SEAL_RUN_BYTES + 8);
		t->run++;
	}
	return t->term;
}

static void seal_why(struct rlog_tool_seal *sl, enum rlog_tool_seal_state st,
		     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seal_why(struct rlog_tool_seal *sl, enum rlog_tool_seal_state st,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sl->why, sizeof(sl->why), fmt, ap);
	va_end(ap);
	sl->state = st;
}

/* Whether recovery takes segs[si], which ends at limit and after which
 * the log goes on at next_index, from its seal when the log's next index
 * is expected: every check of rlog__seal_load, in an order that names the
 * likeliest cause. When it does, *body holds the seal's body (runs, then
 * entries); the caller frees it. 0 or -ENOMEM. */
static int seal_eval(struct rlog_tool_walk *w, size_t si, uint64_t limit,
		     uint64_t next_index, uint64_t expected, uint8_t **body)
{
	*body = NULL;
	const struct rlog_tool_seg *s = &w->segs[si];
	struct rlog_tool_seal *sl = &w->seals[s->seal];
	const struct rlog__seal_header *h = &sl->hdr;
	if (sl->hdr_rc != 0) {
		sl->state = RLOG_TOOL_SEAL_DAMAGED; /* why: read_seal_header */
		return 0;
	}
	uint64_t want = rlog__seal_file_bytes(h);
	if (h->seq != s->seq) {
		seal_why(sl, RLOG_TOOL_SEAL_STALE,
			 "it names segment %016" PRIx64, h->seq);
		return 0;
	}
	if (h->end_offset != limit) {
		seal_why(sl, RLOG_TOOL_SEAL_STALE,
			 "ends at %" PRIu64 ", segment ends at %" PRIu64,
			 h->end_offset, limit);
		return 0;
	}
	if (sl->size_bytes != want) {
		seal_why(sl, RLOG_TOOL_SEAL_DAMAGED,
			 "%" PRIu64 " bytes, its header describes %" PRIu64,
			 sl->size_bytes, want);
		return 0;
	}
	if (h->start > expected) {
		seal_why(sl, RLOG_TOOL_SEAL_STALE,
			 "starts at index %" PRIu64
			 ", past the log's next index %" PRIu64,
			 h->start, expected);
		return 0;
	}
	if (h->first + h->count != next_index) {
		seal_why(sl, RLOG_TOOL_SEAL_STALE,
			 "its entries end at index %" PRIu64
			 ", but the log goes on at %" PRIu64 " after it",
			 h->first + h->count - 1, next_index);
		return 0;
	}
	if (h->first > h->start && h->first - 1 > w->meta.purge_index) {
		seal_why(sl, RLOG_TOOL_SEAL_STALE,
			 "leaves out entries %" PRIu64 "..%" PRIu64
			 ", which are not purged (purge boundary %" PRIu64 ")",
			 h->start, h->first - 1, w->meta.purge_index);
		return 0;
	}
	size_t blen = (size_t)(want - RLOG__SEAL_HEADER_BYTES);
	uint8_t *b = NULL;
	int io = 0;
	int rv = seal_read_body(w, sl, blen, &b, &io);
	if (rv != 0) {
		return rv;
	}
	if (b == NULL) {
		seal_why(sl, RLOG_TOOL_SEAL_DAMAGED, "unreadable: %s",
			 io < 0 ? strerror(-io) : "cut short");
		return 0;
	}
	if (rlog__crc32c(rlog__seg_seed(s->seq), b, blen) != h->body_crc) {
		seal_why(sl, RLOG_TOOL_SEAL_DAMAGED, "body checksum");
		free(b);
		return 0;
	}
	/* Runs: they start at the first entry and rise strictly in index and
	 * term, the first no lower than the term of entry start - 1. */
	uint64_t floor = 0;
	if (h->first == h->start && h->start > 1) {
		floor = prev_term(w, h->start - 1);
	}
	uint64_t prev_at = 0;
	for (uint32_t i = 0; i < h->runs; i++) {
		uint64_t at = rlog__get64(b + (size_t)i * RLOG__SEAL_RUN_BYTES);
		uint64_t term =
		    rlog__get64(b + (size_t)i * RLOG__SEAL_RUN_BYTES + 8);
		if ((i == 0 && at != h->first) || (i > 0 && at <= prev_at) ||
		    at >= h->first + h->count) {
			seal_why(sl, RLOG_TOOL_SEAL_INVALID,
				 "run %" PRIu32 " starts at index %" PRIu64
				 ", outside its entries or out of order",
				 i, at);
			free(b);
			return 0;
		}
		if (term < floor || (i > 0 && term == floor)) {
			if (i == 0) {
				seal_why(sl, RLOG_TOOL_SEAL_STALE,
					 "its first term %" PRIu64
					 " is below entry %" PRIu64
					 "'s term %" PRIu64,
					 term, h->start - 1, floor);
			} else {
				seal_why(sl, RLOG_TOOL_SEAL_INVALID,
					 "run %" PRIu32 " (index %" PRIu64
					 ") does not raise the term",
					 i, at);
			}
			free(b);
			return 0;
		}
		floor = term;
		prev_at = at;
	}
	/* Entries: inside [64, end_offset), rising, whole aligned records. */
	const uint8_t *ents = b + (size_t)h->runs * RLOG__SEAL_RUN_BYTES;
	uint64_t next_off = RLOG__SEG_HEADER_BYTES;
	for (uint32_t k = 0; k < h->count; k++) {
		uint64_t off = rlog__get32(ents + (size_t)k * 8);
		uint64_t size = rlog__get32(ents + (size_t)k * 8 + 4);
		if (off < next_off || off % RLOG__REC_ALIGN != 0 ||
		    size < RLOG__SEAL_RECORD_MIN_BYTES ||
		    size % RLOG__REC_ALIGN != 0 || off > h->end_offset ||
		    size > h->end_offset - off) {
			seal_why(sl, RLOG_TOOL_SEAL_INVALID,
				 "entry %" PRIu64 " at offset %" PRIu64
				 " (%" PRIu64 " bytes) is not a record "
				 "after the one before it inside the segment",
				 h->first + k, off, size);
			free(b);
			return 0;
		}
		next_off = off + size;
	}
	sl->state = RLOG_TOOL_SEAL_USED;
	*body = b;
	return 0;
}

/* Build segs[si]'s part of the index from its seal, as recovery does. */
static int seal_apply(struct rlog_tool_walk *w, size_t si, const uint8_t *body,
		      uint64_t *expected)
{
	const struct rlog__seal_header *h = &w->seals[w->segs[si].seal].hdr;
	ents_truncate(w, h->start);
	if (h->first > h->start) {
		ents_purge(w, h->first - 1);
	}
	struct seal_terms t = {.runs = body, .nruns = h->runs};
	const uint8_t *ents = body + (size_t)h->runs * RLOG__SEAL_RUN_BYTES;
	for (uint32_t k = 0; k < h->count; k++) {
		uint64_t term = seal_term_next(&t, h->first + k);
		int rv =
		    ents_push(w, term, si, rlog__get32(ents + (size_t)k * 8),
			      rlog__get32(ents + (size_t)k * 8 + 4));
		if (rv != 0) {
			return rv;
		}
	}
	*expected = h->first + h->count;
	return 0;
}

/* Compare a used seal with what the full replay of its segment made of the
 * log (lx, and next: the log's next index after it), as far as the log
 * differs beyond the purge boundary. */
static void seal_compare(struct rlog_tool_walk *w, size_t si,
			 const uint8_t *body, const struct lix *lx,
			 uint64_t next)
{
	const struct rlog_tool_seg *s = &w->segs[si];
	struct rlog_tool_seal *sl = &w->seals[s->seal];
	const struct rlog__seal_header *h = &sl->hdr;
	uint64_t purge = w->meta.purge_index;
	char first[300] = "";
	uint64_t bad = 0;
	if (h->first + h->count != next) {
		snprintf(first, sizeof(first),
			 "it lists entries up to %" PRIu64
			 ", the records leave the log ending at %" PRIu64,
			 h->first + h->count - 1, next - 1);
		bad++;
	}
	if (h->first == h->start && h->start > lx->base && next > lx->base &&
	    h->start - 1 > purge) {
		if (bad == 0) {
			snprintf(first, sizeof(first),
				 "it keeps the log up to index %" PRIu64
				 ", the records replace it from index %" PRIu64,
				 h->start - 1, lx->base);
		}
		bad++;
	}
	struct seal_terms t = {.runs = body, .nruns = h->runs};
	const uint8_t *ents = body + (size_t)h->runs * RLOG__SEAL_RUN_BYTES;
	for (uint32_t k = 0; k < h->count; k++) {
		uint64_t index = h->first + k;
		uint64_t term = seal_term_next(&t, index);
		uint64_t off = rlog__get32(ents + (size_t)k * 8);
		uint64_t size = rlog__get32(ents + (size_t)k * 8 + 4);
		if (index >= next) {
			break;
		}
		if (index < lx->base) {
			if (bad == 0) {
				snprintf(first, sizeof(first),
					 "entry %" PRIu64 ": it lists a record "
					 "at offset %" PRIu64 ", but the "
					 "records leave that entry in an "
					 "earlier segment",
					 index, off);
			}
			bad++;
			continue;
		}
		const struct rlog_tool_ent *e = &lx->e[index - lx->base];
		if (e->term != term || e->offset != off ||
		    e->size_bytes != size) {
			if (bad == 0) {
				snprintf(first, sizeof(first),
					 "entry %" PRIu64 ": it says term "
					 "%" PRIu64 ", record at offset "
					 "%" PRIu64 " (%" PRIu64 " bytes); the "
					 "records say term %" PRIu64
					 " at offset %" PRIu64 " (%" PRIu32
					 " bytes)",
					 index, term, off, size, e->term,
					 e->offset, e->size_bytes);
			}
			bad++;
		}
	}
	if (bad == 0) {
		return;
	}
	sl->disagrees = true;
	w->seals_disagree++;
	problem(w, sl->name, false, 0,
		"disagrees with %s, whose records rlog_open does not read: "
		"%s%s; rlog_open trusts the seal (`rlog repair` removes it)",
		s->name, first, bad > 1 ? " (and more)" : "");
}

/* RLOG_TOOL_WALK_CHECK_SEALS: replay chain[ci], which recovery takes from
 * its seal up to limit, in full beside the index (expected: the log's next
 * index before it), and compare. */
static int seal_check(struct rlog_tool_walk *w, size_t ci, struct rd *rd,
		      const uint8_t *body, uint64_t expected, uint64_t limit)
{
	size_t si = w->chain[ci];
	bool is_last = ci + 1 == w->chain_len;
	struct rlog_tool_seg *s = &w->segs[si];
	struct rlog_tool_seal *sl = &w->seals[s->seal];
	struct lix lx = {.base = expected};
	uint64_t next = expected;
	int rv = replay(w, &lx, si, rd, limit, &next);
	if (rv != 0 || (s->why == NULL && s->stop == limit)) {
		if (rv == 0) {
			sl->checked = true;
			seal_compare(w, si, body, &lx, next);
		}
		free(lx.e);
		return rv;
	}
	free(lx.e);
	/* The message a full read gives (rlog_open with verify_on_open). */
	const char *why = s->why ? s->why : "bad record";
	char what[300];
	if (!is_last) {
		snprintf(what, sizeof(what),
			 "%s, inside data synced before %s was started", why,
			 w->segs[w->chain[ci + 1]].name);
	} else {
		bool found = false, zero;
		uint64_t at = 0;
		rv = find_evidence(rd, rlog__seg_seed(s->seq),
				   s->stop + RLOG__REC_ALIGN, s->stop, &found,
				   &at, &zero);
		if (rv != 0) {
			return rv;
		}
		snprintf(what, sizeof(what),
			 "%s in acknowledged data (the record at offset "
			 "%" PRIu64 " was written after it was synced)",
			 why, found ? at : limit);
	}
	char how[200];
	snprintf(how, sizeof(how),
		 " (rlog_open takes this segment from %s and does not read "
		 "these records)",
		 sl->name);
	sl->seg_damage = true;
	sealed_damage(w, si, s->stop, what, how);
	return 0;
}

/* The last segment's seal is used only after a clean close: the seal ends
 * where rlog_close wrote its mark, and the mark is still there
 * (engine/src/segment.c, tail_seal). *limit: the seal's end, or NO_LIMIT
 * when it does not hold. */
static int tail_mark(struct rlog_tool_walk *w, size_t si, struct rd *rd,
		     uint64_t *limit)
{
	const struct rlog_tool_seg *s = &w->segs[si];
	struct rlog_tool_seal *sl = &w->seals[s->seal];
	const struct rlog__seal_header *h = &sl->hdr;
	*limit = NO_LIMIT;
	if (sl->hdr_rc != 0) {
		sl->state = RLOG_TOOL_SEAL_DAMAGED; /* why: read_seal_header */
		return 0;
	}
	if (h->seq != s->seq) {
		seal_why(sl, RLOG_TOOL_SEAL_STALE,
			 "it names segment %016" PRIx64, h->seq);
		return 0;
	}
	uint64_t end = h->end_offset;
	if (end > rd->size || rd->size - end < RLOG__REC_HEADER_BYTES) {
		seal_why(sl, RLOG_TOOL_SEAL_STALE,
			 "ends at %" PRIu64 ", with no room for a clean-close "
			 "mark after it in the segment's %" PRIu64 " bytes",
			 end, rd->size);
		return 0;
	}
	struct rlog__rec rec;
	enum rlog__rec_status st;
	int rv = rd_record(rd, end, rlog__seg_seed(s->seq), &rec, &st);
	if (rv != 0) {
		return rv;
	}
	if (st != RLOG__REC_OK || rec.type != RLOG__REC_TRUNCATE ||
	    rec.group != 0 || rec.durable_offset != end ||
	    rec.index != h->first + h->count) {
		seal_why(sl, RLOG_TOOL_SEAL_STALE,
			 "ends at %" PRIu64 ", where the segment holds no "
			 "clean-close mark: it was written after the seal",
			 end);
		return 0;
	}
	*limit = end;
	return 0;
}

/* Try chain[ci]'s seal as recovery does; *taken when it was used. */
static int seal_try(struct rlog_tool_walk *w, size_t ci, struct rd *rd,
		    uint64_t *expected, bool *taken)
{
	size_t si = w->chain[ci];
	bool is_last = ci + 1 == w->chain_len;
	struct rlog_tool_seg *s = &w->segs[si];
	*taken = false;
	uint64_t limit = s->limit;
	uint64_t next_index = 0;
	if (is_last) {
		int rv = tail_mark(w, si, rd, &limit);
		if (rv != 0 || limit == NO_LIMIT) {
			return rv;
		}
		/* The mark's index, which tail_mark found equal. */
		const struct rlog__seal_header *h = &w->seals[s->seal].hdr;
		next_index = h->first + h->count;
	} else if (s->limit > rd->size) {
		seal_why(&w->seals[s->seal], RLOG_TOOL_SEAL_UNCHECKED,
			 "the segment file ends before the end the next "
			 "header records");
		return 0;
	} else {
		next_index = w->segs[w->chain[ci + 1]].hdr.first_index;
	}
	uint8_t *body = NULL;
	int rv = seal_eval(w, si, limit, next_index, *expected, &body);
	if (rv == 0 && body != NULL && w->check_seals) {
		rv = seal_check(w, ci, rd, body, *expected, limit);
	}
	if (rv == 0 && body != NULL) {
		rv = seal_apply(w, si, body, expected);
		/* As a replay would end: at the recorded end, or after the
		 * clean-close mark, which vouches for all before it. */
		s->why = NULL;
		s->stop = is_last ? limit + RLOG__REC_HEADER_BYTES : limit;
		s->evidence = s->stop;
		s->replayed = true;
		s->from_seal = true;
		*taken = rv == 0;
	}
	free(body);
	return rv;
}

static int replay_chain(struct rlog_tool_walk *w)
{
	uint64_t expected = w->segs[w->chain[0]].hdr.first_index;
	w->ents_first = expected;
	for (size_t i = 0; i < w->chain_len; i++) {
		bool is_last = i + 1 == w->chain_len;
		w->segs[w->chain[i]].limit =
		    is_last ? NO_LIMIT
			    : w->segs[w->chain[i + 1]].hdr.prev_end_offset;
	}
	for (size_t i = 0; i < w->chain_len; i++) {
		size_t si = w->chain[i];
		struct rlog_tool_seg *s = &w->segs[si];
		bool is_last = i + 1 == w->chain_len;
		if (s->hdr.first_index != expected) {
			verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_FILE, si,
				s->name, true, 0,
				"segment starts at index %" PRIu64
				" but the log before it ends at %" PRIu64,
				s->hdr.first_index, expected - 1);
			return 0;
		}
		struct rd rd;
		int rv = rd_open(w, &rd, s);
		if (rv != 0) {
			return rv;
		}
		bool taken = false;
		if (s->has_seal) {
			rv = seal_try(w, i, &rd, &expected, &taken);
			if (rv != 0 || (taken && !is_last)) {
				rd_close(&rd);
				if (rv != 0) {
					return rv;
				}
				continue;
			}
		}
		if (!taken) {
			rv = replay(w, NULL, si, &rd, s->limit, &expected);
		}
		if (rv == 0 && !is_last &&
		    (s->why != NULL || s->stop != s->limit)) {
			verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_RECORD, si,
				s->name, true, s->stop,
				"%s, inside data synced before %s was started",
				s->why ? s->why : "bad record",
				w->segs[w->chain[i + 1]].name);
			rd_close(&rd);
			return 0;
		}
		if (rv == 0 && is_last) {
			rv = judge_tail(w, si, &rd);
		}
		rd_close(&rd);
		if (rv != 0) {
			return rv;
		}
	}
	return 0;
}

/* Recovery step 7: the purge boundary. */
static void check_purge(struct rlog_tool_walk *w, bool checks)
{
	uint64_t purge = w->meta.purge_index;
	if (checks && ents_last(w) < purge && w->chain_len > 0) {
		verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_FATAL, 0, NULL, false,
			0,
			"the log ends at index %" PRIu64
			" but entries up to the purge boundary %" PRIu64
			" were acknowledged",
			ents_last(w), purge);
		return;
	}
	ents_purge(w, purge);
	if (w->chain_len == 0) {
		w->ents_first = purge + 1;
	}
	if (checks && w->ents_first != purge + 1) {
		const struct rlog_tool_seg *s = &w->segs[w->chain[0]];
		verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_FATAL, 0, s->name, true,
			0,
			"the log starts at index %" PRIu64
			" but the purge boundary is %" PRIu64
			": entries in between are missing (a segment "
			"before it is gone)",
			w->ents_first, purge);
	}
}

/* Recovery step 8 (settling): the records of the last segment past what
 * any record vouches for as synced are copied into a new segment at the
 * next open. What can stop it is a verdict too. */
static int check_settle(struct rlog_tool_walk *w)
{
	size_t si = w->chain[w->chain_len - 1];
	struct rlog_tool_seg *s = &w->segs[si];
	if (!s->replayed || s->evidence >= s->stop) {
		return 0;
	}
	uint64_t to = s->evidence < RLOG__SEG_HEADER_BYTES
			  ? RLOG__SEG_HEADER_BYTES
			  : s->evidence;
	struct rd rd;
	int rv = rd_open(w, &rd, s);
	if (rv != 0) {
		return rv;
	}
	uint32_t seed = rlog__seg_seed(s->seq);
	uint64_t low = UINT64_MAX, next = s->hdr.first_index;
	bool aligned = true;
	for (uint64_t off = RLOG__SEG_HEADER_BYTES; off < s->stop;) {
		struct rlog__rec rec;
		enum rlog__rec_status st;
		rv = rd_record(&rd, off, seed, &rec, &st);
		if (rv != 0 || st != RLOG__REC_OK) {
			break;
		}
		if (off < to) {
			next = rec.type == RLOG__REC_ENTRY ? rec.index + 1
							   : rec.index;
		} else if (rec.index < low) {
			low = rec.index;
		}
		off += rec.size_bytes;
		if (off > to && off - rec.size_bytes < to) {
			aligned = false;
			break;
		}
	}
	rd_close(&rd);
	if (rv != 0) {
		return rv;
	}
	if (!aligned) {
		verdict(
		    w, RLOG_ECORRUPT, RLOG_TOOL_DMG_FATAL, si, s->name, false,
		    0, "durable offset %" PRIu64 " is not at a record boundary",
		    to);
		return 0;
	}
	if (low == UINT64_MAX) {
		low = next;
	}
	uint64_t from = low > w->ents_first ? low : w->ents_first;
	uint64_t last = ents_last(w);
	uint64_t group = last >= from ? last - from + 1 : 0;
	if (group > RLOG_BATCH_ENTRIES_MAX * 64ull) {
		verdict(w, RLOG_ECORRUPT, RLOG_TOOL_DMG_FATAL, si, s->name,
			false, 0, "%" PRIu64 " unsynced entries to settle",
			group);
		return 0;
	}
	w->settle = true;
	w->settle_off = s->evidence;
	w->settle_bytes = s->stop - s->evidence;
	w->settle_from = from;
	note(w, s->name, true, s->evidence,
	     "bytes %" PRIu64 "..%" PRIu64 " are not vouched for as synced "
	     "(written after the last sync or clean close): the next "
	     "rlog_open copies entries from %" PRIu64 " on into a new segment",
	     s->evidence, s->stop, from);
	return 0;
}

static void role_notes(struct rlog_tool_walk *w)
{
	for (size_t i = 0; i < w->segs_len; i++) {
		struct rlog_tool_seg *s = &w->segs[i];
		switch (s->role) {
		case RLOG_TOOL_SEG_DEAD:
			note(w, s->name, false, 0,
			     "dead segment below min_seq %" PRIu64
			     " (left by an interrupted purge or reset); "
			     "ignored, the next purge or reset removes it",
			     w->meta.min_seq);
			break;
		case RLOG_TOOL_SEG_ORPHAN:
			note(w, s->name, false, 0,
			     "not on the live chain (left by an interrupted "
			     "operation); ignored, the next purge or reset "
			     "removes it");
			break;
		case RLOG_TOOL_SEG_TORN:
			note(w, s->name, true, 0,
			     "header torn while the segment was being "
			     "created, and no record in it shows a sync: "
			     "never acknowledged, recovery ignores it");
			break;
		case RLOG_TOOL_SEG_IGNORED:
			note(w, s->name, true, 0,
			     "header %s, but the file is not on the live "
			     "chain: ignored by recovery",
			     s->hdr_rc == RLOG_EVERSION
				 ? "of an unsupported version"
				 : "damaged");
			break;
		case RLOG_TOOL_SEG_CHAIN:
		case RLOG_TOOL_SEG_DAMAGED:
			break;
		}
	}
	if (w->backups > 0) {
		note(w, NULL, false, 0,
		     "%zu repair backup file(s) (repair-backup-*.bin): bytes "
		     "an earlier `rlog repair` removed; ignored by rlog",
		     w->backups);
	}
	if (w->other_names > 0) {
		note(w, NULL, false, 0,
		     "%zu other file(s) that are not rlog's: ignored",
		     w->other_names);
	}
	if (w->lock == RLOG_TOOL_LOCK_HELD) {
		note(w, RLOG__LOCK_NAME, false, 0,
		     "held: the log is open in another process, so files "
		     "may change while they are read");
	}
}

int rlog_tool_seal_body(struct rlog_tool_walk *w, size_t k, uint8_t **body,
			size_t *len)
{
	const struct rlog_tool_seal *sl = &w->seals[k];
	*body = NULL;
	*len = 0;
	if (sl->hdr_rc != 0 ||
	    sl->size_bytes != rlog__seal_file_bytes(&sl->hdr)) {
		return 0;
	}
	size_t n = (size_t)(sl->size_bytes - RLOG__SEAL_HEADER_BYTES);
	uint8_t *b = NULL;
	int io = 0;
	int rv = seal_read_body(w, sl, n, &b, &io);
	if (rv != 0) {
		return rv;
	}
	if (b == NULL) {
		snprintf(w->err, sizeof(w->err), "read %s: %s", sl->name,
			 io < 0 ? strerror(-io) : "cut short");
		return io < 0 ? io : -EIO;
	}
	*body = b;
	*len = n;
	return 0;
}

void rlog_tool_seal_describe(const struct rlog_tool_seal *sl, char *buf,
			     size_t len)
{
	switch (sl->state) {
	case RLOG_TOOL_SEAL_USED:
		snprintf(buf, len, "valid, %" PRIu32 " entries%s",
			 sl->hdr.count,
			 sl->disagrees	  ? ", but they disagree with the "
					    "segment's records"
			 : sl->seg_damage ? "; the segment's records are "
					    "damaged"
					  : "");
		return;
	case RLOG_TOOL_SEAL_STALE:
		snprintf(buf, len, "stale (%s), not used", sl->why);
		return;
	case RLOG_TOOL_SEAL_DAMAGED:
		snprintf(buf, len, "damaged (%s), not used", sl->why);
		return;
	case RLOG_TOOL_SEAL_INVALID:
		snprintf(buf, len, "invalid (%s), not used", sl->why);
		return;
	case RLOG_TOOL_SEAL_ORPHAN:
		snprintf(buf, len, "orphan (no %016" PRIx64 ".seg), not used",
			 sl->seq);
		return;
	case RLOG_TOOL_SEAL_UNCHECKED:
		snprintf(buf, len, "not checked (%s)", sl->why);
		return;
	}
	snprintf(buf, len, "?");
}

/* The state of every seal recovery did not judge, and the notes. */
static void seal_notes(struct rlog_tool_walk *w)
{
	for (size_t i = 0; i < w->seals_len; i++) {
		struct rlog_tool_seal *sl = &w->seals[i];
		const struct rlog_tool_seg *s =
		    sl->has_seg ? &w->segs[sl->seg] : NULL;
		char d[320];
		if (s == NULL) {
			sl->state = RLOG_TOOL_SEAL_ORPHAN;
			note(w, sl->name, false, 0,
			     "orphan seal: there is no %016" PRIx64 ".seg; "
			     "ignored, the next purge or reset removes it "
			     "(`rlog repair` too)",
			     sl->seq);
			continue;
		}
		switch (sl->state) {
		case RLOG_TOOL_SEAL_USED:
			w->seals_used++;
			continue;
		case RLOG_TOOL_SEAL_STALE:
		case RLOG_TOOL_SEAL_DAMAGED:
		case RLOG_TOOL_SEAL_INVALID:
			rlog_tool_seal_describe(sl, d, sizeof(d));
			note(w, sl->name, false, 0,
			     "%s: recovery reads %s in full instead", d,
			     s->name);
			continue;
		case RLOG_TOOL_SEAL_UNCHECKED:
			if (sl->why[0] != '\0' &&
			    s->role == RLOG_TOOL_SEG_CHAIN && s->replayed) {
				continue; /* judged by seal_try */
			}
			break;
		case RLOG_TOOL_SEAL_ORPHAN:
			break;
		}
		if (s->role == RLOG_TOOL_SEG_CHAIN) {
			seal_why(sl, RLOG_TOOL_SEAL_UNCHECKED,
				 "recovery stops before this segment");
		} else if (s->role == RLOG_TOOL_SEG_DAMAGED) {
			seal_why(sl, RLOG_TOOL_SEAL_UNCHECKED,
				 "recovery stops at this segment's header");
		} else {
			seal_why(sl, RLOG_TOOL_SEAL_UNCHECKED,
				 "the segment is not on the live chain; the "
				 "next purge or reset removes both");
		}
	}
}

static void live_ranges(struct rlog_tool_walk *w)
{
	for (size_t k = 0; k < w->ents_len; k++) {
		const struct rlog_tool_ent *e = &w->ents[w->ents_off + k];
		struct rlog_tool_seg *s = &w->segs[e->seg];
		uint64_t index = w->ents_first + k;
		if (s->live_count == 0) {
			s->live_first = index;
		}
		s->live_last = index;
		s->live_count++;
	}
}

int rlog_tool_walk(const char *dir, const struct rlog_tool_overlay *ov,
		   struct rlog_tool_walk *w)
{
	return rlog_tool_walk_ex(dir, ov, 0, w);
}

int rlog_tool_walk_ex(const char *dir, const struct rlog_tool_overlay *ov,
		      unsigned flags, struct rlog_tool_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->dir = dir;
	w->ov = ov;
	w->check_seals = (flags & RLOG_TOOL_WALK_CHECK_SEALS) != 0;
	w->rd_fd = -1;
	w->meta_slot = -1;
	w->ents_first = 1;
	w->lock = rlog_tool_lock_probe(dir);
	int rv = load_meta(w);
	if (rv != 0) {
		return rv;
	}
	rv = list_dir(w);
	if (rv < 0) {
		return rv;
	}
	link_seals(w);
	if (rv == 1) {
		w->first_index = w->meta.purge_index + 1;
		w->last_index = w->meta.purge_index;
		return 0;
	}
	for (size_t i = 0; i < w->segs_len; i++) {
		rv = read_header(w, &w->segs[i]);
		if (rv != 0) {
			return rv;
		}
	}
	rv = build_chain(w);
	if (rv != 0) {
		return rv;
	}
	if (w->chain_len > 0) {
		rv = replay_chain(w);
		if (rv != 0) {
			return rv;
		}
	}
	if (w->meta_ok) {
		check_purge(w, w->verdict == 0);
	}
	if (w->verdict == 0 && w->chain_len > 0) {
		rv = check_settle(w);
		if (rv != 0) {
			return rv;
		}
	}
	for (size_t i = 0; i < w->segs_len; i++) {
		struct rlog_tool_seg *s = &w->segs[i];
		if (s->role == RLOG_TOOL_SEG_IGNORED && s->hdr_rc == 0) {
			s->role = RLOG_TOOL_SEG_ORPHAN;
		}
	}
	role_notes(w);
	seal_notes(w);
	live_ranges(w);
	/* A log that opens starts after its purge boundary; of one that
	 * does not, say what recovery could read. */
	w->first_index =
	    w->verdict == 0 ? w->meta.purge_index + 1 : w->ents_first;
	w->last_index = ents_last(w);
	return 0;
}

void rlog_tool_range(char *buf, size_t len, uint64_t first, uint64_t last)
{
	if (last < first) {
		snprintf(buf, len, "no entries (next index %" PRIu64 ")",
			 first);
	} else {
		snprintf(buf, len, "entries [%" PRIu64 ", %" PRIu64 "]", first,
			 last);
	}
}

/* ---- Deep checks (rlog verify). ---- */

/* Which live entries have their record in [start, end) of segs[si], and so
 * fail to read: "rlog_get fails with RLOG_ECORRUPT for entry N" (or
 * "entries A..B"), or that none does. */
static void live_reads(const struct rlog_tool_walk *w, size_t si,
		       uint64_t start, uint64_t end, char *buf, size_t len)
{
	const struct rlog_tool_seg *s = &w->segs[si];
	uint64_t lo = 0, hi = 0;
	bool any = false;
	if (s->live_count > 0) {
		/* Offsets rise with the index inside a segment. */
		uint64_t a = s->live_first, b = s->live_last + 1;
		while (a < b) {
			uint64_t mid = a + (b - a) / 2;
			const struct rlog_tool_ent *e = ent_at(w, mid);
			if (e->offset + e->size_bytes <= start) {
				a = mid + 1;
			} else {
				b = mid;
			}
		}
		for (uint64_t i = a; i <= s->live_last; i++) {
			const struct rlog_tool_ent *e = ent_at(w, i);
			if (e->seg != si || e->offset >= end) {
				break;
			}
			if (!any) {
				lo = i;
			}
			any = true;
			hi = i;
		}
	}
	if (!any) {
		snprintf(buf, len,
			 "no live entry is stored there, so no read sees it");
	} else if (lo == hi) {
		snprintf(buf, len,
			 "rlog_get fails with RLOG_ECORRUPT for entry %" PRIu64,
			 lo);
	} else {
		snprintf(buf, len,
			 "rlog_get fails with RLOG_ECORRUPT for entries "
			 "%" PRIu64 "..%" PRIu64,
			 lo, hi);
	}
}

struct region {
	uint64_t start;
	uint64_t end;
	bool zero;
	uint64_t max_durable_after; /* of valid records after it */
};

struct deep {
	struct rlog_tool_walk *w;
	struct rd *rd;
	size_t si;
	bool is_last;
	uint64_t limit;		/* chain: recorded end, else size */
	uint64_t identity_end;	/* check bodies of records before it */
	struct region *regions; /* last segment only */
	size_t regions_len;
	uint8_t *scratch;
	size_t scratch_cap;
};

/* Called for a valid record: check its body against its header. */
static void deep_record(struct deep *d, uint64_t off,
			const struct rlog__rec *rec)
{
	if (d->is_last && d->regions_len > 0) {
		struct region *r = &d->regions[d->regions_len - 1];
		if (rec->durable_offset > r->max_durable_after) {
			r->max_durable_after = rec->durable_offset;
		}
	}
	if (rec->type != RLOG__REC_ENTRY || off >= d->identity_end) {
		return;
	}
	struct rlog_entry e;
	int rc = rlog_tool_entry_decode(rec->body, rec->body_len, &e,
					&d->scratch, &d->scratch_cap);
	const char *name = d->w->segs[d->si].name;
	if (rc == RLOG_ENOMEM) {
		problem(d->w, name, true, off,
			"out of memory decoding the entry body");
	} else if (rc != 0) {
		problem(d->w, name, true, off,
			"entry %" PRIu64 ": the checksum matches but the body "
			"is not an Entry message rlog can read",
			rec->index);
	} else if (e.index != rec->index || e.term != rec->term) {
		problem(d->w, name, true, off,
			"entry identity mismatch: the record header says index "
			"%" PRIu64 " term %" PRIu64 ", its body says index "
			"%" PRIu64 " term %" PRIu64,
			rec->index, rec->term, e.index, e.term);
	}
}

/* A damaged region [start, end) of acknowledged data: a problem, unless
 * one was reported at start already. In a segment rlog_open takes from its
 * seal, say so and which reads fail. */
static void sealed_region(struct deep *d, uint64_t start, uint64_t end,
			  const char *what)
{
	const char *name = d->w->segs[d->si].name;
	const struct rlog_tool_seg *s = &d->w->segs[d->si];
	char reads[160] = "";
	if (s->from_seal) {
		live_reads(d->w, d->si, start, end, reads, sizeof(reads));
	}
	struct rlog_tool_msg *m = problem_at(d->w, name, start);
	if (m != NULL) {
		size_t n = strlen(m->what);
		if (reads[0] != '\0' && n < sizeof(m->what)) {
			snprintf(m->what + n, sizeof(m->what) - n, "; %s",
				 reads);
		}
		return;
	}
	if (!s->from_seal) {
		problem(d->w, name, true, start, "%s", what);
		return;
	}
	char why[300];
	snprintf(why, sizeof(why),
		 " (rlog_open takes this segment from %s and does not read "
		 "them); %s",
		 d->w->seals[s->seal].name, reads);
	sealed_damage(d->w, d->si, start, what, why);
}

static void deep_region(struct deep *d, uint64_t start, uint64_t end, bool zero)
{
	if (d->is_last) {
		if (d->regions_len < REGIONS_MAX) {
			struct region *r = &d->regions[d->regions_len++];
			r->start = start;
			r->end = end;
			r->zero = zero;
			r->max_durable_after = 0;
		}
		return;
	}
	char what[200];
	snprintf(what, sizeof(what),
		 "%" PRIu64 " %s bytes inside data synced before the next "
		 "segment was started",
		 end - start, zero ? "zeroed" : "damaged");
	sealed_region(d, start, end, what);
}

/* Walk records from `from` to `to`, resynchronising after damage at the
 * next aligned offset where a valid record starts: cb sees every valid
 * record and every damaged region in file order. */
static int scan_records(struct rd *rd, uint32_t seed, uint64_t from,
			uint64_t to, rlog_tool_rec_cb cb, void *ctx)
{
	uint64_t off = from;
	while (off < to && off < rd->size) {
		struct rlog_tool_rec_view v;
		memset(&v, 0, sizeof(v));
		enum rlog__rec_status st;
		int rv = rd_record(rd, off, seed, &v.rec, &st);
		if (rv != 0) {
			return rv;
		}
		if (st == RLOG__REC_OK && off + v.rec.size_bytes <= to) {
			v.valid = true;
			v.offset = off;
			v.end = off + v.rec.size_bytes;
			rv = cb(ctx, &v);
			if (rv != 0) {
				return rv;
			}
			off = v.end;
			continue;
		}
		uint64_t next = off + RLOG__REC_ALIGN;
		for (; next < to && next < rd->size; next += RLOG__REC_ALIGN) {
			struct rlog__rec rec;
			rv = rd_record(rd, next, seed, &rec, &st);
			if (rv != 0) {
				return rv;
			}
			if (st == RLOG__REC_OK && next + rec.size_bytes <= to) {
				break;
			}
		}
		uint64_t end = next < rd->size ? next : rd->size;
		if (end > to) {
			end = to;
		}
		memset(&v, 0, sizeof(v));
		v.offset = off;
		v.end = end;
		rv = rd_zero(rd, off, end, &v.zero);
		if (rv == 0) {
			rv = cb(ctx, &v);
		}
		if (rv != 0) {
			return rv;
		}
		off = next;
	}
	return 0;
}

static int deep_cb(void *ctx, const struct rlog_tool_rec_view *v)
{
	struct deep *d = ctx;
	if (v->valid) {
		deep_record(d, v->offset, &v->rec);
	} else {
		deep_region(d, v->offset, v->end, v->zero);
	}
	return 0;
}

/* Damaged regions of the last segment: acknowledged when a later valid
 * record was written after they were synced. */
static void deep_last_regions(struct deep *d)
{
	uint64_t later = 0;
	for (size_t k = d->regions_len; k > 0; k--) {
		struct region *r = &d->regions[k - 1];
		if (r->max_durable_after > later) {
			later = r->max_durable_after;
		}
		if (later <= r->start) {
			continue;
		}
		char what[200];
		snprintf(what, sizeof(what),
			 "%" PRIu64 " %s bytes in acknowledged data (a later "
			 "record was written after they were synced)",
			 r->end - r->start, r->zero ? "zeroed" : "damaged");
		sealed_region(d, r->start, r->end, what);
	}
}

static int deep_segment(struct rlog_tool_walk *w, size_t ci,
			struct region *regions)
{
	size_t si = w->chain[ci];
	struct rlog_tool_seg *s = &w->segs[si];
	struct rd rd;
	int rv = rd_open(w, &rd, s);
	if (rv != 0) {
		return rv;
	}
	struct deep d = {.w = w, .rd = &rd, .si = si, .regions = regions};
	d.is_last = ci + 1 == w->chain_len;
	d.limit = d.is_last ? rd.size : s->limit;
	d.identity_end = d.is_last && s->replayed ? s->stop : d.limit;
	rv = scan_records(&rd, rlog__seg_seed(s->seq), RLOG__SEG_HEADER_BYTES,
			  d.limit, deep_cb, &d);
	if (rv == 0 && d.is_last) {
		deep_last_regions(&d);
	}
	if (rv == 0 && !d.is_last && rd.size > d.limit) {
		note(w, s->name, true, d.limit,
		     "%" PRIu64 " bytes past the end recorded by %s's header "
		     "(a torn tail cut off, or unsynced records recovery "
		     "copied into a later segment): not part of the log",
		     rd.size - d.limit, w->segs[w->chain[ci + 1]].name);
	}
	free(d.scratch);
	rd_close(&rd);
	return rv;
}

int rlog_tool_walk_deep(struct rlog_tool_walk *w)
{
	struct region *regions = malloc(REGIONS_MAX * sizeof(*regions));
	if (regions == NULL) {
		snprintf(w->err, sizeof(w->err), "out of memory");
		return -ENOMEM;
	}
	int rv = 0;
	for (size_t ci = 0; ci < w->chain_len && rv == 0; ci++) {
		rv = deep_segment(w, ci, regions);
	}
	free(regions);
	return rv;
}

int rlog_tool_walk_records(struct rlog_tool_walk *w, size_t seg,
			   rlog_tool_rec_cb cb, void *ctx)
{
	struct rlog_tool_seg *s = &w->segs[seg];
	struct rd rd;
	int rv = rd_open(w, &rd, s);
	if (rv != 0) {
		return rv;
	}
	rv = scan_records(&rd, rlog__seg_seed(s->seq), RLOG__SEG_HEADER_BYTES,
			  rd.size, cb, ctx);
	rd_close(&rd);
	return rv;
}

/* ---- Counting and reading entries. ---- */

int rlog_tool_walk_count(struct rlog_tool_walk *w, size_t seg, uint64_t from,
			 uint64_t to, uint64_t *count, uint64_t *first,
			 uint64_t *last)
{
	*count = 0;
	*first = 0;
	*last = 0;
	struct rlog_tool_seg *s = &w->segs[seg];
	struct rd rd;
	int rv = rd_open(w, &rd, s);
	if (rv != 0) {
		return rv;
	}
	uint32_t seed = rlog__seg_seed(s->seq);
	uint64_t off =
	    from < RLOG__SEG_HEADER_BYTES ? RLOG__SEG_HEADER_BYTES : from;
	while (off < to && off < rd.size) {
		struct rlog__rec rec;
		enum rlog__rec_status st;
		rv = rd_record(&rd, off, seed, &rec, &st);
		if (rv != 0) {
			break;
		}
		if (st != RLOG__REC_OK) {
			off += RLOG__REC_ALIGN;
			continue;
		}
		if (rec.type == RLOG__REC_ENTRY) {
			if (*count == 0 || rec.index < *first) {
				*first = rec.index;
			}
			if (rec.index > *last) {
				*last = rec.index;
			}
			(*count)++;
		}
		off += rec.size_bytes;
	}
	rd_close(&rd);
	return rv;
}

int rlog_tool_walk_entry(struct rlog_tool_walk *w, uint64_t index,
			 struct rlog_entry *out, uint8_t **buf, size_t *cap,
			 char *why, size_t why_len)
{
	const struct rlog_tool_ent *e = ent_at(w, index);
	if (e == NULL) {
		snprintf(why, why_len, "entry %" PRIu64 " is not in the log",
			 index);
		return RLOG_ENOTFOUND;
	}
	const struct rlog_tool_seg *s = &w->segs[e->seg];
	if (w->rd_fd < 0 || w->rd_seg != e->seg) {
		if (w->rd_fd >= 0) {
			close(w->rd_fd);
			w->rd_fd = -1;
		}
		char path[4096];
		if (!rlog_tool_path(path, sizeof(path), w->dir, s->name)) {
			snprintf(why, why_len, "%s: path too long", s->name);
			return -ENAMETOOLONG;
		}
		w->rd_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (w->rd_fd < 0) {
			int err = errno;
			snprintf(why, why_len, "open %s: %s", s->name,
				 strerror(err));
			return -err;
		}
		w->rd_seg = e->seg;
	}
	if (grow(&w->rbuf, &w->rbuf_cap, e->size_bytes) != 0) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	size_t got = 0;
	int rv = pread_full(w->rd_fd, w->rbuf, e->size_bytes, e->offset, &got);
	if (rv != 0) {
		snprintf(why, why_len, "read %s@%" PRIu64 ": %s", s->name,
			 e->offset, strerror(-rv));
		return rv;
	}
	struct rlog__rec rec;
	uint64_t need;
	enum rlog__rec_status st =
	    rlog__rec_check(w->rbuf, got, rlog__seg_seed(s->seq), &rec, &need);
	if (st != RLOG__REC_OK || rec.type != RLOG__REC_ENTRY ||
	    rec.index != index || rec.term != e->term ||
	    rec.size_bytes != e->size_bytes) {
		snprintf(why, why_len,
			 "%s@%" PRIu64 ": the record of entry %" PRIu64
			 " no longer checks out",
			 s->name, e->offset, index);
		return RLOG_ECORRUPT;
	}
	rv = rlog_tool_entry_decode(rec.body, rec.body_len, out, buf, cap);
	if (rv == RLOG_ENOMEM) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	if (rv != 0 || out->index != rec.index || out->term != rec.term) {
		snprintf(why, why_len,
			 "%s@%" PRIu64 ": the body of entry %" PRIu64
			 " does not decode to the entry its header names",
			 s->name, e->offset, index);
		return RLOG_ECORRUPT;
	}
	return 0;
}

void rlog_tool_walk_free(struct rlog_tool_walk *w)
{
	if (w->rd_fd >= 0) {
		close(w->rd_fd);
	}
	free(w->rbuf);
	free(w->segs);
	free(w->seals);
	free(w->chain);
	free(w->ents);
	free(w->msgs);
	memset(w, 0, sizeof(*w));
	w->rd_fd = -1;
}
