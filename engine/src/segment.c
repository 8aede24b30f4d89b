/*
 * segment.c: segment files and recovery.
 *
 * A segment is an append-only file: a 64-byte header, then records, never
 * overwritten in place. Truncation is itself a record, so a segment's bytes
 * are a log of operations and any crash leaves a prefix of them. Segments
 * form a chain: each header names its predecessor and the offset where the
 * predecessor's valid records end, written only after that predecessor was
 * synced (and its name made durable). So every segment but the last must be
 * intact up to that offset, and only the last can have a torn tail.
 *
 * Recovery reads headers, builds the chain backwards from the newest valid
 * segment, replays records into the in-memory index, and decides at the end
 * of the last segment whether damage is a torn tail (dropped) or damage to
 * acknowledged bytes (RLOG_ECORRUPT): each record carries the offset up to
 * which its segment was known synced when it was written, so a later valid
 * record whose durable offset lies past the damage proves it was
 * acknowledged. Recovery changes no byte of the log in place: it settles
 * an unvouched tail into a new segment (rehome_tail), syncs the meta file,
 * and writes the seal (seal.c) of any segment but the last that it had to
 * read in full, so the next open can skip that segment's records.
 */
#include "internal.h"

#include <errno.h>

void rlog__seg_name(char *buf, uint64_t seq)
{
	snprintf(buf, RLOG__SEG_NAME_LEN + 1, "%016llx.seg",
		 (unsigned long long)seq);
}

bool rlog__seg_parse_name(const char *name, uint64_t *seq)
{
	if (strlen(name) != RLOG__SEG_NAME_LEN ||
	    strcmp(name + 16, ".seg") != 0) {
		return false;
	}
	uint64_t v = 0;
	for (int i = 0; i < 16; i++) {
		char c = name[i];
		uint64_t d;
		if (c >= '0' && c <= '9') {
			d = (uint64_t)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (uint64_t)(c - 'a' + 10);
		} else {
			return false;
		}
		v = (v << 4) | d;
	}
	if (v == 0 || v > RLOG__SEQ_MAX - RLOG__HEADROOM) {
		return false;
	}
	*seq = v;
	return true;
}

void rlog__seg_free(struct rlog *log, struct rlog__seg *s)
{
	if (s == NULL) {
		return;
	}
	if (s->file != NULL) {
		s->file->ops->close(s->file);
		s->file = NULL;
		RLOG_ASSERT(log->open_files > 0);
		log->open_files--;
	}
	rlog__free(&log->alloc, s);
}

int rlog__seg_file(struct rlog *log, struct rlog__seg *s,
		   struct rlog_file **out)
{
	if (s->file != NULL) {
		*out = s->file;
		return 0;
	}
	if (log->open_files >= RLOG__OPEN_FILES_MAX) {
		/* Close the oldest open segment that is not the last one. */
		for (size_t i = 0; i + 1 < log->segs_len; i++) {
			struct rlog__seg *o = log->segs[i];
			if (o->file != NULL) {
				o->file->ops->close(o->file);
				o->file = NULL;
				log->open_files--;
				break;
			}
		}
	}
	int rv = log->vfs->open(log->vfs, s->name, 0, &s->file);
	if (rv != 0) {
		s->file = NULL;
		return rv;
	}
	log->open_files++;
	*out = s->file;
	return 0;
}

/* ---- A read-ahead window over one file. ---- */
struct reader {
	struct rlog *log;
	struct rlog_file *file;
	const char *name;
	uint64_t size;
	uint8_t *buf;
	size_t cap;
	uint64_t win_off;
	size_t win_len;
};

/* Make [off, off + want) visible (clipped at end of file). *p points at
 * off, *avail is how many bytes from off are visible. */
static int rd_view(struct reader *rd, uint64_t off, uint64_t want,
		   const uint8_t **p, uint64_t *avail)
{
	if (off >= rd->size) {
		*p = rd->buf;
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
	if (rlog__grow(&rd->log->alloc, &rd->buf, &rd->cap, (size_t)len) != 0) {
		return rlog__err(rd->log, RLOG_ENOMEM, "open: out of memory");
	}
	size_t got = 0;
	int rv =
	    rd->file->ops->pread(rd->file, rd->buf, (size_t)len, off, &got);
	if (rv != 0) {
		return rlog__err(rd->log, rlog__errno_code(rv),
				 "open: read %s@%llu: %s (errno %d)", rd->name,
				 (unsigned long long)off, rlog__errno_name(rv),
				 -rv);
	}
	rd->win_off = off;
	rd->win_len = got;
	*p = rd->buf;
	*avail = got;
	return 0;
}

/* Check the record at off; reads as much as it needs. */
static int rd_record(struct reader *rd, uint64_t off, uint32_t seed,
		     struct rlog__rec *rec, enum rlog__rec_status *st)
{
	const uint8_t *p = NULL;
	uint64_t avail = 0;
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

/* ---- Candidate segment files found in the directory. ---- */
struct cand {
	uint64_t seq;
	int hdr_rc; /* 0, RLOG_ECORRUPT or RLOG_EVERSION */
	struct rlog__seg_header hdr;
	bool on_chain;
};

struct scan_ctx {
	struct rlog *log;
	struct cand *c;
	size_t len;
	size_t cap;
	uint64_t *seals; /* sequence numbers of the seal files listed */
	size_t seals_len;
	size_t seals_cap;
	int err;
};

static int list_seal(struct scan_ctx *sc, uint64_t seq)
{
	if (sc->seals_len >= RLOG_SEGMENT_COUNT_MAX) {
		return 0; /* more seals than segments: the rest stay put */
	}
	if (sc->seals_len == sc->seals_cap) {
		size_t ncap = sc->seals_cap ? sc->seals_cap * 2 : 16;
		void *n = rlog__realloc(&sc->log->alloc, sc->seals,
					ncap * sizeof(*sc->seals));
		if (n == NULL) {
			sc->err = rlog__err(sc->log, RLOG_ENOMEM,
					    "open: out of memory");
			return 1;
		}
		sc->seals = n;
		sc->seals_cap = ncap;
	}
	sc->seals[sc->seals_len++] = seq;
	return 0;
}

static int list_cb(void *arg, const char *name)
{
	struct scan_ctx *sc = arg;
	uint64_t seq;
	if (rlog__seal_parse_name(name, &seq)) {
		return list_seal(sc, seq);
	}
	if (!rlog__seg_parse_name(name, &seq)) {
		return 0; /* not ours: meta, LOCK, or a stranger's file */
	}
	if (sc->len >= RLOG_SEGMENT_COUNT_MAX) {
		sc->err = rlog__err(sc->log, RLOG_ECORRUPT,
				    "open: more than %u segment files",
				    RLOG_SEGMENT_COUNT_MAX);
		return 1;
	}
	if (sc->len == sc->cap) {
		size_t ncap = sc->cap ? sc->cap * 2 : 16;
		void *n = rlog__realloc(&sc->log->alloc, sc->c,
					ncap * sizeof(*sc->c));
		if (n == NULL) {
			sc->err = rlog__err(sc->log, RLOG_ENOMEM,
					    "open: out of memory");
			return 1;
		}
		sc->c = n;
		sc->cap = ncap;
	}
	memset(&sc->c[sc->len], 0, sizeof(sc->c[0]));
	sc->c[sc->len].seq = seq;
	sc->len++;
	return 0;
}

static int cand_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct cand *)a)->seq;
	uint64_t y = ((const struct cand *)b)->seq;
	return (x > y) - (x < y);
}

static struct cand *cand_find(struct scan_ctx *sc, uint64_t seq)
{
	size_t lo = 0, hi = sc->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sc->c[mid].seq == seq) {
			return &sc->c[mid];
		}
		if (sc->c[mid].seq < seq) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

static int open_reader(struct rlog *log, struct reader *rd, const char *name,
		       struct rlog_file *file)
{
	memset(rd, 0, sizeof(*rd));
	rd->log = log;
	rd->file = file;
	rd->name = name;
	int rv = file->ops->size(file, &rd->size);
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "open: size of %s: %s (errno %d)", name,
				 rlog__errno_name(rv), -rv);
	}
	return 0;
}

/* Search [from, end of file) for a valid record of this segment whose
 * durable offset lies past damage_off: proof that the damaged bytes had
 * been synced, i.e. acknowledged. *zero_tail tells whether every byte from
 * from on is zero. */
static int find_evidence(struct reader *rd, uint32_t seed, uint64_t from,
			 uint64_t damage_off, bool *found, uint64_t *found_off,
			 bool *zero_tail)
{
	*found = false;
	*zero_tail = true;
	for (uint64_t off = from; off < rd->size; off += RLOG__REC_ALIGN) {
		const uint8_t *p = NULL;
		uint64_t avail = 0;
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

static uint64_t prev_term(const struct rlog *log, uint64_t index)
{
	const struct rlog__ent *e = rlog__ent_at(log, index);
	return e ? e->term : 0;
}

/* Check that the `group` entry records after a truncate record at off all
 * exist and follow from `from`, within limit. On success *end is the
 * offset after the group. */
static int check_group(struct reader *rd, uint32_t seed, uint64_t off,
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
		rv = rlog__entry_check(&rd->log->alloc, rec.body, rec.body_len,
				       rec.index, rec.term);
		if (rv == RLOG_ENOMEM) {
			return rlog__err(rd->log, rv, "open: out of memory");
		}
		if (rv != 0) {
			return 0;
		}
		term = rec.term;
		off += rec.size_bytes;
	}
	*ok = true;
	*end = off;
	return 0;
}

/* Replay one segment's records into the index, from its header to limit
 * (UINT64_MAX for the last segment). *stop is where replay stopped and
 * *why says why when it stopped early. */
static int replay(struct rlog *log, struct rlog__seg *s, struct reader *rd,
		  uint64_t limit, uint64_t *expected, uint64_t *stop,
		  const char **why, uint64_t *evidence, uint64_t *mark_end)
{
	uint32_t seed = rlog__seg_seed(s->seq);
	uint64_t off = RLOG__SEG_HEADER_BYTES;
	*why = NULL;
	*evidence = 0;
	*mark_end = 0;
	while (off < limit && off < rd->size) {
		struct rlog__rec rec;
		enum rlog__rec_status st;
		int rv = rd_record(rd, off, seed, &rec, &st);
		if (rv != 0) {
			return rv;
		}
		if (st != RLOG__REC_OK) {
			*why = st == RLOG__REC_ZERO ? "zero bytes"
			       : st == RLOG__REC_SHORT
				   ? "record cut short"
				   : "checksum or field mismatch";
			break;
		}
		if (off + rec.size_bytes > limit) {
			*why = "record crosses the segment's recorded end";
			break;
		}
		if (rec.durable_offset > *evidence &&
		    rec.durable_offset <= off) {
			*evidence = rec.durable_offset;
		}
		/* The mark of a clean close vouches for everything before it;
		 * it is itself not synced, but losing it changes nothing. */
		bool mark = rec.type == RLOG__REC_TRUNCATE && rec.group == 0 &&
			    rec.index == *expected && rec.durable_offset == off;
		*mark_end = mark ? off + rec.size_bytes : 0;
		if (rec.type == RLOG__REC_ENTRY) {
			if (rec.index != *expected) {
				*why = "entry index out of sequence";
				break;
			}
			if (rec.term < prev_term(log, rec.index - 1)) {
				*why = "entry term decreases";
				break;
			}
			rv = rlog__entry_check(&log->alloc, rec.body,
					       rec.body_len, rec.index,
					       rec.term);
			if (rv == RLOG_ENOMEM) {
				return rlog__err(log, rv,
						 "open: out of memory");
			}
			if (rv != 0) {
				*why = "entry body does not match its header";
				break;
			}
			rv = rlog__ents_push(log, rec.index, rec.term, s, off,
					     rec.size_bytes);
			if (rv != 0) {
				return rlog__err(log, rv,
						 "open: out of memory");
			}
			if (rec.index < s->touch_low) {
				s->touch_low = rec.index;
			}
			(*expected)++;
			off += rec.size_bytes;
			continue;
		}
		/* A truncate record, possibly heading a replace group. */
		if (rec.index > *expected) {
			*why = "truncate past the end of the log";
			break;
		}
		bool ok;
		uint64_t end;
		uint64_t floor =
		    rec.index > 1 ? prev_term(log, rec.index - 1) : 0;
		rv = check_group(rd, seed, off + rec.size_bytes, limit,
				 rec.index, rec.group, floor, &ok, &end);
		if (rv != 0) {
			return rv;
		}
		if (!ok) {
			*why = "replace group incomplete";
			break;
		}
		rlog__ents_truncate(log, rec.index);
		*expected = rec.index;
		if (rec.index < s->touch_low) {
			s->touch_low = rec.index;
		}
		uint64_t goff = off + rec.size_bytes;
		for (uint32_t i = 0; i < rec.group; i++) {
			struct rlog__rec g;
			rv = rd_record(rd, goff, seed, &g, &st);
			if (rv != 0) {
				return rv;
			}
			RLOG_ASSERT(st == RLOG__REC_OK);
			rv = rlog__ents_push(log, g.index, g.term, s, goff,
					     g.size_bytes);
			if (rv != 0) {
				return rlog__err(log, rv,
						 "open: out of memory");
			}
			(*expected)++;
			goff += g.size_bytes;
		}
		RLOG_ASSERT(goff == end);
		off = end;
	}
	if (*why == NULL && off < limit && limit != UINT64_MAX) {
		*why = "file ends before the segment's recorded end";
	}
	*stop = off;
	return 0;
}

/*
 * The last segment of a log closed cleanly: rlog_close wrote the clean
 * mark at its end and then the seal up to that mark. The seal holds only
 * while that very mark is still there: any write after the reopen starts
 * at the mark and overwrites it, and a sync of such a write makes that
 * durable, so an intact mark proves nothing after it was acknowledged (it
 * is then dropped like a torn tail). *stop is the end of the mark when the
 * seal was used.
 */
static int tail_seal(struct rlog *log, struct rlog__seg *s, struct reader *rd,
		     uint64_t *expected, bool *used, uint64_t *stop)
{
	*used = false;
	struct rlog__seal_header h;
	if (!rlog__seal_peek(log, s->seq, &h) || h.end_offset > rd->size ||
	    rd->size - h.end_offset < RLOG__REC_HEADER_BYTES) {
		return 0;
	}
	struct rlog__rec rec;
	enum rlog__rec_status st;
	int rv = rd_record(rd, h.end_offset, rlog__seg_seed(s->seq), &rec, &st);
	if (rv != 0) {
		return rv;
	}
	bool mark = st == RLOG__REC_OK && rec.type == RLOG__REC_TRUNCATE &&
		    rec.group == 0 && rec.durable_offset == h.end_offset &&
		    rec.index == h.first + h.count;
	if (!mark) {
		return 0;
	}
	rv = rlog__seal_load(log, s, h.end_offset, rec.index, expected, used);
	*stop = h.end_offset + RLOG__REC_HEADER_BYTES;
	return rv;
}

static int read_header(struct rlog *log, struct cand *c)
{
	char name[RLOG__SEG_NAME_LEN + 1];
	rlog__seg_name(name, c->seq);
	struct rlog_file *f;
	int rv = log->vfs->open(log->vfs, name, 0, &f);
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "open: open %s: %s (errno %d)", name,
				 rlog__errno_name(rv), -rv);
	}
	uint8_t buf[RLOG__SEG_HEADER_BYTES];
	size_t got = 0;
	rv = f->ops->pread(f, buf, sizeof(buf), 0, &got);
	f->ops->close(f);
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "open: read %s@0: %s (errno %d)", name,
				 rlog__errno_name(rv), -rv);
	}
	c->hdr_rc = rlog__seg_header_check(buf, got, &c->hdr);
	if (c->hdr_rc == 0 && c->hdr.seq != c->seq) {
		c->hdr_rc = RLOG_ECORRUPT;
	}
	return 0;
}

/* A newest file whose header is unreadable: torn creation (never
 * acknowledged) unless a valid record in it proves a sync happened. */
static int judge_bad_header(struct rlog *log, struct cand *c, bool *corrupt)
{
	*corrupt = false;
	char name[RLOG__SEG_NAME_LEN + 1];
	rlog__seg_name(name, c->seq);
	struct rlog_file *f;
	int rv = log->vfs->open(log->vfs, name, 0, &f);
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "open: open %s: %s (errno %d)", name,
				 rlog__errno_name(rv), -rv);
	}
	struct reader rd;
	rv = open_reader(log, &rd, name, f);
	bool found = false, zero;
	uint64_t at = 0;
	if (rv == 0) {
		rv = find_evidence(&rd, rlog__seg_seed(c->seq),
				   RLOG__SEG_HEADER_BYTES, 0, &found, &at,
				   &zero);
	}
	rlog__free(&log->alloc, rd.buf);
	f->ops->close(f);
	if (rv != 0) {
		return rv;
	}
	if (found) {
		*corrupt = true;
		return rlog__err(log, RLOG_ECORRUPT,
				 "open: %s@0: segment header damaged, but the "
				 "record at offset %llu shows it was synced",
				 name, (unsigned long long)at);
	}
	return 0;
}

static int add_orphan_name(struct rlog *log, const char *name)
{
	if (log->orphans_len == log->orphans_cap) {
		size_t ncap = log->orphans_cap ? log->orphans_cap * 2 : 8;
		void *n = rlog__realloc(&log->alloc, log->orphans,
					ncap * sizeof(*log->orphans));
		if (n == NULL) {
			return rlog__err(log, RLOG_ENOMEM,
					 "open: out of memory");
		}
		log->orphans = n;
		log->orphans_cap = ncap;
	}
	snprintf(log->orphans[log->orphans_len], RLOG_VFS_NAME_MAX + 1, "%s",
		 name);
	log->orphans_len++;
	return 0;
}

/* A segment off the chain and its seal, if it has one. */
static int add_orphan(struct rlog *log, uint64_t seq)
{
	char name[RLOG__SEAL_NAME_LEN + 1];
	rlog__seal_name(name, seq);
	int rv = add_orphan_name(log, name);
	if (rv == 0) {
		rlog__seg_name(name, seq);
		rv = add_orphan_name(log, name);
	}
	return rv;
}

/* Find the chain: from the newest segment with a valid header back through
 * prev_seq links. Fills chain[] oldest first; returns its length in *n. */
static int build_chain(struct rlog *log, struct scan_ctx *sc,
		       struct cand **chain, size_t *n)
{
	*n = 0;
	struct cand *last = NULL;
	for (size_t i = sc->len; i > 0; i--) {
		struct cand *c = &sc->c[i - 1];
		if (c->seq < log->meta.min_seq) {
			break;
		}
		if (c->hdr_rc == RLOG_EVERSION) {
			char name[RLOG__SEG_NAME_LEN + 1];
			rlog__seg_name(name, c->seq);
			return rlog__err(
			    log, RLOG_EVERSION,
			    "open: %s: unsupported format version %u", name,
			    c->hdr.version);
		}
		if (c->hdr_rc == 0) {
			last = c;
			break;
		}
		bool corrupt;
		int rv = judge_bad_header(log, c, &corrupt);
		if (rv != 0) {
			return rv;
		}
	}
	if (last == NULL) {
		return 0;
	}
	/* Walk back; the chain is at most sc->len long. */
	struct cand *cur = last;
	size_t len = 0;
	for (size_t guard = 0; guard <= sc->len; guard++) {
		chain[len++] = cur;
		cur->on_chain = true;
		char name[RLOG__SEG_NAME_LEN + 1];
		rlog__seg_name(name, cur->seq);
		struct cand *prev = NULL;
		if (cur->hdr.prev_seq != 0 &&
		    cur->hdr.prev_seq >= log->meta.min_seq) {
			prev = cand_find(sc, cur->hdr.prev_seq);
		}
		if (prev == NULL) {
			/* Purge removed it, or it was the first segment.
			 * Whether anything live is missing shows after the
			 * replay: the log must then reach down to the purge
			 * boundary. */
			break;
		}
		if (prev->hdr_rc != 0) {
			char pname[RLOG__SEG_NAME_LEN + 1];
			rlog__seg_name(pname, prev->seq);
			return rlog__err(log,
					 prev->hdr_rc == RLOG_EVERSION
					     ? RLOG_EVERSION
					     : RLOG_ECORRUPT,
					 "open: %s@0: segment header damaged "
					 "(it precedes %s)",
					 pname, name);
		}
		cur = prev;
	}
	/* Reverse into oldest-first order. */
	for (size_t i = 0; i < len / 2; i++) {
		struct cand *t = chain[i];
		chain[i] = chain[len - 1 - i];
		chain[len - 1 - i] = t;
	}
	*n = len;
	return 0;
}

static int push_seg(struct rlog *log, const struct cand *c)
{
	if (log->segs_len == log->segs_cap) {
		size_t ncap = log->segs_cap ? log->segs_cap * 2 : 8;
		void *n = rlog__realloc(&log->alloc, log->segs,
					ncap * sizeof(*log->segs));
		if (n == NULL) {
			return RLOG_ENOMEM;
		}
		log->segs = n;
		log->segs_cap = ncap;
	}
	struct rlog__seg *s = rlog__malloc(&log->alloc, sizeof(*s));
	if (s == NULL) {
		return RLOG_ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	s->seq = c->seq;
	s->first_index = c->hdr.first_index;
	s->prev_seq = c->hdr.prev_seq;
	s->prev_end_offset = c->hdr.prev_end_offset;
	s->touch_low = UINT64_MAX;
	s->header_written = true;
	rlog__seg_name(s->name, c->seq);
	log->segs[log->segs_len++] = s;
	return 0;
}

static int replay_chain(struct rlog *log, struct cand **chain, size_t n)
{
	uint64_t expected = chain[0]->hdr.first_index;
	log->ents_first = expected;
	struct reader rd;
	memset(&rd, 0, sizeof(rd));
	int rv = 0;
	for (size_t i = 0; i < n; i++) {
		rv = push_seg(log, chain[i]);
		if (rv != 0) {
			rv = rlog__err(log, rv, "open: out of memory");
			break;
		}
		struct rlog__seg *s = log->segs[log->segs_len - 1];
		if (s->first_index != expected) {
			rv = rlog__err(
			    log, RLOG_ECORRUPT,
			    "open: %s@0: segment starts at index %llu "
			    "but the log before it ends at %llu",
			    s->name, (unsigned long long)s->first_index,
			    (unsigned long long)(expected - 1));
			break;
		}
		struct rlog_file *f;
		rv = rlog__seg_file(log, s, &f);
		if (rv != 0) {
			rv = rlog__err(log, rlog__errno_code(rv),
				       "open: open %s: %s (errno %d)", s->name,
				       rlog__errno_name(rv), -rv);
			break;
		}
		uint8_t *keep = rd.buf;
		size_t keep_cap = rd.cap;
		rv = open_reader(log, &rd, s->name, f);
		rd.buf = keep;
		rd.cap = keep_cap;
		if (rv != 0) {
			break;
		}
		/* At most one entry per smallest record: reserve that much
		 * address space now; pages are touched only as entries come. */
		uint64_t most =
		    rd.size / (RLOG__REC_HEADER_BYTES + RLOG__REC_ALIGN);
		if (rlog__ents_reserve(log, (size_t)most) != 0) {
			rv = rlog__err(log, RLOG_ENOMEM, "open: out of memory");
			break;
		}
		bool is_last = i + 1 == n;
		uint64_t limit =
		    is_last ? UINT64_MAX : chain[i + 1]->hdr.prev_end_offset;
		if (!is_last && log->seals && limit <= rd.size) {
			/* Synced before its successor began: its seal, when
			 * it holds, says all recovery needs. */
			bool used = false;
			rv = rlog__seal_load(log, s, limit,
					     chain[i + 1]->hdr.first_index,
					     &expected, &used);
			if (rv != 0) {
				break;
			}
			if (used) {
				s->end_offset = limit;
				s->file_bytes = rd.size;
				s->durable_offset = limit;
				s->evidence_offset = limit;
				s->header_vouched = true;
				continue;
			}
		}
		uint64_t stop = 0;
		const char *why = NULL;
		uint64_t evidence = 0, mark_end = 0;
		bool sealed_tail = false;
		if (is_last) {
			rv = tail_seal(log, s, &rd, &expected, &sealed_tail,
				       &stop);
			if (rv != 0) {
				break;
			}
		}
		if (sealed_tail) {
			/* What the replay would find: records up to the mark,
			 * which vouches for them, then the mark. */
			mark_end = stop;
			evidence = stop - RLOG__REC_HEADER_BYTES;
		} else {
			rv = replay(log, s, &rd, limit, &expected, &stop, &why,
				    &evidence, &mark_end);
			if (rv != 0) {
				break;
			}
		}
		s->end_offset = stop;
		s->file_bytes = rd.size;
		/* Every segment but the last was synced before its successor
		 * began; in the last, only what a record vouches for is known
		 * durable. */
		/* A header written after its records (a settled tail) vouches
		 * for those records but not for itself: a failed fsync may have
		 * left it in the page cache only. Only a record written after
		 * it, with a durable offset, proves the header durable. */
		s->header_vouched = evidence > 0;
		if (chain[i]->hdr.durable_offset > evidence &&
		    chain[i]->hdr.durable_offset <= stop && s->header_vouched) {
			evidence = chain[i]->hdr.durable_offset;
		}
		s->durable_offset = is_last ? evidence : stop;
		/* Past what is vouched for there is only the mark of a clean
		 * close: nothing to settle. */
		s->clean_mark = mark_end != 0 && mark_end == stop &&
				evidence + RLOG__REC_HEADER_BYTES == stop;
		s->evidence_offset = s->durable_offset;
		if (!is_last) {
			if (why != NULL || stop != limit) {
				rv = rlog__err(
				    log, RLOG_ECORRUPT,
				    "open: %s@%llu: %s, inside data "
				    "synced before %016llx.seg was "
				    "started",
				    s->name, (unsigned long long)stop,
				    why ? why : "bad record",
				    (unsigned long long)chain[i + 1]->seq);
				break;
			}
			/* Read in full: write the seal the next open uses. */
			rlog__seal_write(log, s);
			continue;
		}
		/* The last segment: torn tail or damage? */
		log->tail_ok = true;
		if (stop < rd.size) {
			bool found, zero;
			uint64_t at = 0;
			rv = find_evidence(&rd, rlog__seg_seed(s->seq),
					   stop + RLOG__REC_ALIGN, stop, &found,
					   &at, &zero);
			if (rv != 0) {
				break;
			}
			if (found) {
				rv = rlog__err(
				    log, RLOG_ECORRUPT,
				    "open: %s@%llu: %s in acknowledged "
				    "data (the record at offset %llu "
				    "was written after it was synced)",
				    s->name, (unsigned long long)stop,
				    why ? why : "bad record",
				    (unsigned long long)at);
				break;
			}
			/* Appending over a torn tail could let stale records
			 * link up later; start a new segment instead. An
			 * all-zero tail holds nothing stale. */
			const uint8_t *p = NULL;
			uint64_t avail = 0;
			rv = rd_view(&rd, stop, RLOG__REC_ALIGN, &p, &avail);
			if (rv != 0) {
				break;
			}
			for (uint64_t k = 0; k < avail && k < RLOG__REC_ALIGN;
			     k++) {
				if (p[k] != 0) {
					zero = false;
				}
			}
			log->tail_ok = zero;
		}
		if (s->clean_mark) {
			/* The mark itself may be in the page cache only (a
			 * failed fsync drops it for good): nothing may vouch
			 * for it later, so the log's end is where it starts
			 * and the next write goes over it. */
			s->end_offset = s->durable_offset;
		}
	}
	rlog__free(&log->alloc, rd.buf);
	return rv;
}

/* Walk the valid records of s from its header up to `to`, tracking the
 * log's next index, then on to `end`, tracking the lowest index any record
 * there touches. Records were checked by the replay already. */
static int walk_region(struct rlog *log, struct rlog__seg *s, struct reader *rd,
		       uint64_t to, uint64_t end, uint64_t *next_at_to,
		       uint64_t *low)
{
	uint32_t seed = rlog__seg_seed(s->seq);
	uint64_t next = s->first_index;
	uint64_t off = RLOG__SEG_HEADER_BYTES;
	*low = UINT64_MAX;
	while (off < end) {
		struct rlog__rec rec;
		enum rlog__rec_status st;
		int rv = rd_record(rd, off, seed, &rec, &st);
		if (rv != 0) {
			return rv;
		}
		if (st != RLOG__REC_OK) {
			return rlog__err(log, RLOG_ECORRUPT,
					 "open: %s@%llu: record changed while "
					 "recovering",
					 s->name, (unsigned long long)off);
		}
		uint64_t touched = rec.index;
		if (off < to) {
			next = rec.type == RLOG__REC_ENTRY ? rec.index + 1
							   : rec.index;
		} else if (touched < *low) {
			*low = touched;
		}
		off += rec.size_bytes;
		if (off > to && off - rec.size_bytes < to) {
			return rlog__err(log, RLOG_ECORRUPT,
					 "open: %s: durable offset %llu is not "
					 "at a record boundary",
					 s->name, (unsigned long long)to);
		}
	}
	*next_at_to = next;
	if (*low == UINT64_MAX) {
		*low = next;
	}
	return 0;
}

/* Append one record (already in wire form at rec) to the rehome buffer,
 * re-sealed for segment ns: durable offset 0, checksum under its seed. */
static int copy_record(struct rlog *log, struct rlog__seg *ns, uint64_t *boff,
		       const uint8_t *rec, uint64_t size, uint64_t *file_off)
{
	if (*boff + size > RLOG__READ_WINDOW_BYTES && *boff > 0) {
		int rv = ns->file->ops->pwrite(ns->file, log->wbuf,
					       (size_t)*boff, *file_off);
		if (rv != 0) {
			return rv;
		}
		*file_off += *boff;
		*boff = 0;
	}
	if (rlog__grow(&log->alloc, &log->wbuf, &log->wbuf_cap,
		       (size_t)(*boff + size)) != 0) {
		return -ENOMEM;
	}
	uint8_t *d = log->wbuf + *boff;
	memcpy(d, rec, (size_t)size);
	rlog__put64(d + 32, 0);
	uint32_t body_len = rlog__get32(d + 8);
	rlog__put32(d, rlog__crc32c(rlog__seg_seed(ns->seq), d + 4,
				    RLOG__REC_HEADER_BYTES - 4 + body_len));
	*boff += size;
	return 0;
}

/*
 * Make what recovery read durable before anything builds on it.
 *
 * Bytes of the last segment that no record vouches for as synced,
 * [durable_offset, end_offset), may sit only in the page cache: written by
 * a process that crashed before its sync, or left there after a failed
 * fsync, when the kernel has already marked those pages clean and will
 * never write them (a plain fdatasync would succeed and change nothing).
 * Rewriting them in place is no answer: a torn rewrite can destroy bytes
 * that were in fact acknowledged. Instead their effect moves to a new
 * segment: its records (a truncate heading a copy of every entry the
 * region wrote) are written and synced first, and only then its header,
 * which names the old segment as predecessor ending at durable_offset and
 * records that the whole file was synced. Until that header is durable
 * the old segment stays the last one, unchanged; once it is, the copies
 * are. When not even the old segment's header is vouched for, the new
 * segment replaces it in the chain.
 */
static int rehome_tail(struct rlog *log)
{
	struct rlog__seg *s = log->segs[log->segs_len - 1];
	uint64_t d = s->durable_offset;
	bool replace = d < RLOG__SEG_HEADER_BYTES;
	struct rlog_file *f;
	int rv = rlog__seg_file(log, s, &f);
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "open: open %s: %s (errno %d)", s->name,
				 rlog__errno_name(rv), -rv);
	}
	struct reader rd;
	rv = open_reader(log, &rd, s->name, f);
	uint64_t next_at_d = s->first_index, low = s->first_index;
	if (rv == 0) {
		rv = walk_region(log, s, &rd,
				 replace ? RLOG__SEG_HEADER_BYTES : d,
				 s->end_offset, &next_at_d, &low);
	}
	rlog__free(&log->alloc, rd.buf);
	if (rv != 0) {
		return rv;
	}
	uint64_t from = low > log->ents_first ? low : log->ents_first;
	uint64_t last = rlog__ents_last(log);
	uint64_t group = last >= from ? last - from + 1 : 0;
	if (group > RLOG_BATCH_ENTRIES_MAX * 64ull) {
		return rlog__err(log, RLOG_ECORRUPT,
				 "open: %s: %llu unsynced entries to settle",
				 s->name, (unsigned long long)group);
	}
	if (log->segs_len == log->segs_cap) {
		size_t ncap = log->segs_cap * 2;
		void *n = rlog__realloc(&log->alloc, log->segs,
					ncap * sizeof(*log->segs));
		if (n == NULL) {
			return rlog__err(log, RLOG_ENOMEM,
					 "open: out of memory");
		}
		log->segs = n;
		log->segs_cap = ncap;
	}
	struct rlog__seg *ns = rlog__malloc(&log->alloc, sizeof(*ns));
	if (ns == NULL) {
		return rlog__err(log, RLOG_ENOMEM, "open: out of memory");
	}
	memset(ns, 0, sizeof(*ns));
	if (log->next_seq > RLOG__SEQ_MAX) {
		rlog__free(&log->alloc, ns);
		return rlog__err(log, RLOG_ENOSPC,
				 "open: segment sequence numbers exhausted");
	}
	ns->seq = log->next_seq++;
	ns->first_index = replace ? s->first_index : next_at_d;
	ns->prev_seq = replace ? s->prev_seq : s->seq;
	ns->prev_end_offset = replace ? s->prev_end_offset : d;
	/* When the purge boundary lies past where the new segment would
	 * continue, everything before `from` is purged: the new segment
	 * starts the chain afresh and every older one becomes an orphan. */
	bool restart = from > ns->first_index;
	if (restart) {
		ns->first_index = from;
		ns->prev_seq = 0;
		ns->prev_end_offset = 0;
	}
	ns->header_written = true;
	ns->touch_low = from;
	rlog__seg_name(ns->name, ns->seq);
	rv = log->vfs->open(log->vfs, ns->name, RLOG_VFS_CREATE | RLOG_VFS_EXCL,
			    &ns->file);
	if (rv != 0) {
		rv = rlog__err(log, rlog__errno_code(rv),
			       "open: create %s: %s (errno %d)", ns->name,
			       rlog__errno_name(rv), -rv);
		rlog__free(&log->alloc, ns);
		return rv;
	}
	log->open_files++;
	/* The records first: a truncate heading the group, then the copies. */
	uint8_t trunc[RLOG__REC_HEADER_BYTES];
	rlog__rec_put(trunc, rlog__seg_seed(ns->seq), RLOG__REC_TRUNCATE,
		      (uint32_t)(group > RLOG_BATCH_ENTRIES_MAX ? 0 : group),
		      from, 0, 0, NULL);
	uint64_t boff = 0, file_off = RLOG__SEG_HEADER_BYTES;
	uint64_t rec_off = file_off;
	rv = copy_record(log, ns, &boff, trunc, sizeof(trunc), &file_off);
	rec_off += sizeof(trunc);
	for (uint64_t i = from; rv == 0 && i <= last && group > 0; i++) {
		struct rlog__ent *e = rlog__ent_at(log, i);
		struct rlog_file *ef;
		rv = rlog__seg_file(log, e->seg, &ef);
		if (rv != 0) {
			break;
		}
		if (rlog__grow(&log->alloc, &log->rbuf, &log->rbuf_cap,
			       e->size_bytes) != 0) {
			rv = -ENOMEM;
			break;
		}
		size_t got = 0;
		rv = ef->ops->pread(ef, log->rbuf, e->size_bytes,
				    e->offset_bytes, &got);
		if (rv == 0 && got != e->size_bytes) {
			rv = -EIO;
		}
		if (rv == 0) {
			rv = copy_record(log, ns, &boff, log->rbuf,
					 e->size_bytes, &file_off);
		}
		e->seg = ns;
		e->offset_bytes = (uint32_t)rec_off;
		rec_off += e->size_bytes;
	}
	if (rv == 0 && boff > 0) {
		rv = ns->file->ops->pwrite(ns->file, log->wbuf, (size_t)boff,
					   file_off);
	}
	if (rv == 0) {
		rv = ns->file->ops->sync(ns->file);
	}
	/* The header last: valid only once every record is durable. */
	uint8_t hdr[RLOG__SEG_HEADER_BYTES];
	rlog__seg_header_put(hdr, ns->seq, ns->first_index, ns->prev_seq,
			     ns->prev_end_offset, rec_off);
	if (rv == 0) {
		rv = ns->file->ops->pwrite(ns->file, hdr, sizeof(hdr), 0);
	}
	if (rv == 0) {
		rv = ns->file->ops->sync(ns->file);
	}
	/* The header vouches for the records but not for itself (its fsync
	 * could fail and leave it in the page cache only). Once that fsync
	 * succeeded, a mark record (a no-op truncate whose durable offset
	 * covers the header) says so, so the next open has nothing to do. */
	uint8_t mark[RLOG__REC_HEADER_BYTES];
	rlog__rec_put(mark, rlog__seg_seed(ns->seq), RLOG__REC_TRUNCATE, 0,
		      rlog__ents_last(log) + 1, 0, rec_off, NULL);
	if (rv == 0) {
		rv = ns->file->ops->pwrite(ns->file, mark, sizeof(mark),
					   rec_off);
	}
	if (rv == 0) {
		rv = ns->file->ops->sync(ns->file);
	}
	rec_off += sizeof(mark);
	/* From here the handle's view includes ns either way; on failure the
	 * open fails and frees it. */
	ns->end_offset = rec_off;
	ns->durable_offset = rec_off;
	ns->evidence_offset = rec_off - sizeof(mark);
	ns->header_vouched = true;
	if (restart || replace) {
		/* The old segments leave the chain (all of them on a restart,
		 * else the last); purge or reset removes their files. The
		 * index no longer points into them: live entries were copied.
		 */
		size_t keep = restart ? 0 : log->segs_len - 1;
		for (size_t k = keep; k < log->segs_len; k++) {
			int orv = add_orphan(log, log->segs[k]->seq);
			rlog__seg_free(log, log->segs[k]);
			if (rv == 0) {
				rv = orv;
			}
		}
		log->segs_len = keep;
	} else {
		s->end_offset = d;
	}
	log->segs[log->segs_len++] = ns;
	log->tail_ok = true;
	if (rv == -ENOMEM) {
		return rlog__err(log, RLOG_ENOMEM, "open: out of memory");
	}
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "open: settle the unsynced tail into %s: %s "
				 "(errno %d)",
				 ns->name, rlog__errno_name(rv), -rv);
	}
	return 0;
}

int rlog__recover(struct rlog *log)
{
	struct scan_ctx sc = {.log = log};
	int rv = log->vfs->list(log->vfs, list_cb, &sc);
	if (sc.err != 0) {
		rv = sc.err;
		goto out;
	}
	if (rv != 0) {
		rv = rlog__err(log, rlog__errno_code(rv),
			       "open: list directory: %s (errno %d)",
			       rlog__errno_name(rv), -rv);
		goto out;
	}
	if (sc.len > 0) {
		qsort(sc.c, sc.len, sizeof(sc.c[0]), cand_cmp);
	}
	log->next_seq = log->meta.min_seq > 0 ? log->meta.min_seq : 1;
	/* A seal left behind by a lost removal must never meet a new segment
	 * of the same number. */
	for (size_t i = 0; i < sc.seals_len; i++) {
		if (sc.seals[i] >= log->next_seq) {
			log->next_seq = sc.seals[i] + 1;
		}
	}
	for (size_t i = 0; i < sc.len; i++) {
		if (sc.c[i].seq >= log->next_seq) {
			log->next_seq = sc.c[i].seq + 1;
		}
		if (sc.c[i].seq >= log->meta.min_seq) {
			rv = read_header(log, &sc.c[i]);
			if (rv != 0) {
				goto out;
			}
		}
	}
	struct cand **chain = NULL;
	size_t n = 0;
	if (sc.len > 0) {
		chain = rlog__malloc(&log->alloc, sc.len * sizeof(*chain));
		if (chain == NULL) {
			rv = rlog__err(log, RLOG_ENOMEM, "open: out of memory");
			goto out;
		}
		rv = build_chain(log, &sc, chain, &n);
	}
	if (rv == 0 && n > 0) {
		rv = replay_chain(log, chain, n);
	} else if (rv == 0) {
		log->ents_first = log->meta.purge_index + 1;
		log->tail_ok = false;
	}
	rlog__free(&log->alloc, chain);
	if (rv != 0) {
		goto out;
	}
	for (size_t i = 0; i < sc.len; i++) {
		if (!sc.c[i].on_chain) {
			rv = add_orphan(log, sc.c[i].seq);
			if (rv != 0) {
				goto out;
			}
		}
	}
	for (size_t i = 0; i < sc.seals_len; i++) {
		if (cand_find(&sc, sc.seals[i]) == NULL) {
			char name[RLOG__SEAL_NAME_LEN + 1];
			rlog__seal_name(name, sc.seals[i]);
			rv = add_orphan_name(log, name);
			if (rv != 0) {
				goto out;
			}
		}
	}
	uint64_t purge = log->meta.purge_index;
	uint64_t last = rlog__ents_last(log);
	if (last < purge && log->segs_len > 0) {
		rv = rlog__err(
		    log, RLOG_ECORRUPT,
		    "open: the log ends at index %llu but entries up "
		    "to the purge boundary %llu were acknowledged",
		    (unsigned long long)last, (unsigned long long)purge);
		goto out;
	}
	rlog__ents_purge(log, purge);
	if (log->segs_len == 0) {
		log->ents_first = purge + 1;
	}
	if (log->ents_first != purge + 1) {
		rv = rlog__err(log, RLOG_ECORRUPT,
			       "open: %s@0: the log starts at index %llu but "
			       "the purge boundary is %llu: entries in between "
			       "are missing (a segment before it is gone)",
			       log->segs[0]->name,
			       (unsigned long long)log->ents_first,
			       (unsigned long long)purge);
		goto out;
	}
	if (log->segs_len > 0) {
		struct rlog__seg *t = log->segs[log->segs_len - 1];
		if (t->durable_offset < t->end_offset && !t->clean_mark) {
			rv = rehome_tail(log);
			if (rv != 0) {
				goto out;
			}
		}
	}
	/* Names read from the directory may not be durable yet either. */
	rv = log->vfs->sync_dir(log->vfs);
	if (rv != 0) {
		rv = rlog__err(log, rlog__errno_code(rv),
			       "open: fsync directory: %s (errno %d)",
			       rlog__errno_name(rv), -rv);
		goto out;
	}
	log->dir_dirty = false;
out:
	rlog__free(&log->alloc, sc.c);
	rlog__free(&log->alloc, sc.seals);
	return rv;
}
