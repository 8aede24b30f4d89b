/*
 * seal.c: the seal file of a segment, a compact summary that lets recovery
 * skip reading the segment.
 *
 * When the log moves on from a segment, that segment has just been synced
 * and is never written again below its end. Its effect on the log is then
 * fixed: keep the entries below some index `start`, then the segment's
 * surviving entries from `start` on. The seal records that effect (start,
 * and for every surviving entry its term, offset and size: 8 bytes per
 * entry plus 16 per change of term) so the next open can rebuild the index
 * from a file about 1/30 of the segment's size instead of reading and
 * checksumming every record. The records themselves are still checked, by
 * their own checksum and identity, whenever an entry is read.
 *
 * A seal is an optimisation and never the only copy of anything: it is
 * written without a sync, and a missing, torn, stale or damaged seal is
 * simply not used (recovery then reads the segment as before and writes the
 * seal again). It is trusted only when its checksums hold and it agrees
 * with the chain: same sequence number, same end as the next segment's
 * header records, records that lie inside that end.
 */
#include "internal.h"

#include <errno.h>

/* Body bytes read or written per call. A multiple of 16, so no 8- or
 * 16-byte item of the body straddles two chunks. */
#define SEAL_CHUNK_BYTES ((size_t)256 << 10)
_Static_assert(SEAL_CHUNK_BYTES % RLOG__SEAL_RUN_BYTES == 0,
	       "chunks hold whole runs");

void rlog__seal_name(char *buf, uint64_t seq)
{
	snprintf(buf, RLOG__SEAL_NAME_LEN + 1, "%016llx.seal",
		 (unsigned long long)seq);
}

bool rlog__seal_parse_name(const char *name, uint64_t *seq)
{
	char seg[RLOG__SEG_NAME_LEN + 1];
	if (strlen(name) != RLOG__SEAL_NAME_LEN ||
	    strcmp(name + 16, ".seal") != 0) {
		return false;
	}
	memcpy(seg, name, 16);
	memcpy(seg + 16, ".seg", 5);
	return rlog__seg_parse_name(seg, seq);
}

void rlog__seal_header_put(uint8_t *dst, const struct rlog__seal_header *h)
{
	memset(dst, 0, RLOG__SEAL_HEADER_BYTES);
	memcpy(dst, RLOG__SEAL_MAGIC, 8);
	rlog__put32(dst + 8, RLOG__FORMAT_VERSION);
	rlog__put32(dst + 12, RLOG__SEAL_HEADER_BYTES);
	rlog__put64(dst + 16, h->seq);
	rlog__put64(dst + 24, h->end_offset);
	rlog__put64(dst + 32, h->start);
	rlog__put64(dst + 40, h->first);
	rlog__put32(dst + 48, h->count);
	rlog__put32(dst + 52, h->runs);
	rlog__put32(dst + 56, h->body_crc);
	rlog__put32(dst + 60, rlog__crc32c(RLOG__CRC_SEED, dst, 60));
}

int rlog__seal_header_check(const uint8_t *buf, size_t len,
			    struct rlog__seal_header *out)
{
	if (len < RLOG__SEAL_HEADER_BYTES ||
	    rlog__crc32c(RLOG__CRC_SEED, buf, 60) != rlog__get32(buf + 60) ||
	    memcmp(buf, RLOG__SEAL_MAGIC, 8) != 0) {
		return RLOG_ECORRUPT;
	}
	if (rlog__get32(buf + 8) != RLOG__FORMAT_VERSION) {
		return RLOG_EVERSION;
	}
	if (rlog__get32(buf + 12) != RLOG__SEAL_HEADER_BYTES) {
		return RLOG_ECORRUPT;
	}
	out->seq = rlog__get64(buf + 16);
	out->end_offset = rlog__get64(buf + 24);
	out->start = rlog__get64(buf + 32);
	out->first = rlog__get64(buf + 40);
	out->count = rlog__get32(buf + 48);
	out->runs = rlog__get32(buf + 52);
	out->body_crc = rlog__get32(buf + 56);
	/* Smallest record: header plus the smallest body (2 bytes), padded. */
	uint64_t room = out->end_offset > RLOG__SEG_HEADER_BYTES
			    ? (out->end_offset - RLOG__SEG_HEADER_BYTES) /
				  RLOG__SEAL_RECORD_MIN_BYTES
			    : 0;
	if (out->end_offset < RLOG__SEG_HEADER_BYTES ||
	    out->end_offset % RLOG__REC_ALIGN != 0 || out->start == 0 ||
	    out->first < out->start || out->first > RLOG_INDEX_MAX + 1 ||
	    out->count > room || out->first + out->count > RLOG_INDEX_MAX + 1 ||
	    out->runs > out->count || (out->count > 0) != (out->runs > 0)) {
		return RLOG_ECORRUPT;
	}
	return 0;
}

uint64_t rlog__seal_file_bytes(const struct rlog__seal_header *h)
{
	return RLOG__SEAL_HEADER_BYTES +
	       (uint64_t)h->runs * RLOG__SEAL_RUN_BYTES +
	       (uint64_t)h->count * RLOG__SEAL_ENT_BYTES;
}

/* ---- Writing. ---- */

/* Where the entries of s begin in the index: s is the last segment the
 * index points into, so they are its suffix. */
static uint64_t seal_first(const struct rlog *log, const struct rlog__seg *s)
{
	uint64_t k = rlog__ents_last(log) + 1;
	while (k > log->ents_first && rlog__ent_at(log, k - 1)->seg == s) {
		k--;
	}
	return k;
}

static int seal_flush(struct rlog_file *f, const uint8_t *buf, size_t *fill,
		      uint64_t *off)
{
	int rv = f->ops->pwrite(f, buf, *fill, *off);
	*off += *fill;
	*fill = 0;
	return rv;
}

/* Write the body (runs, then entries) of s's seal after its header. */
static int seal_put_body(struct rlog *log, const struct rlog__seg *s,
			 struct rlog_file *f, uint64_t first, uint64_t last,
			 uint32_t *crc)
{
	uint8_t *buf = log->rbuf;
	size_t fill = 0;
	uint64_t off = RLOG__SEAL_HEADER_BYTES;
	uint32_t c = rlog__seg_seed(s->seq);
	uint64_t term = 0;
	for (uint64_t i = first; i <= last; i++) {
		const struct rlog__ent *e = rlog__ent_at(log, i);
		if (i != first && e->term == term) {
			continue;
		}
		term = e->term;
		if (fill + RLOG__SEAL_RUN_BYTES > SEAL_CHUNK_BYTES) {
			c = rlog__crc32c(c, buf, fill);
			int rv = seal_flush(f, buf, &fill, &off);
			if (rv != 0) {
				return rv;
			}
		}
		rlog__put64(buf + fill, i);
		rlog__put64(buf + fill + 8, term);
		fill += RLOG__SEAL_RUN_BYTES;
	}
	for (uint64_t i = first; i <= last; i++) {
		const struct rlog__ent *e = rlog__ent_at(log, i);
		if (fill + RLOG__SEAL_ENT_BYTES > SEAL_CHUNK_BYTES) {
			c = rlog__crc32c(c, buf, fill);
			int rv = seal_flush(f, buf, &fill, &off);
			if (rv != 0) {
				return rv;
			}
		}
		rlog__put32(buf + fill, e->offset_bytes);
		rlog__put32(buf + fill + 4, e->size_bytes);
		fill += RLOG__SEAL_ENT_BYTES;
	}
	c = rlog__crc32c(c, buf, fill);
	*crc = c;
	return fill > 0 ? seal_flush(f, buf, &fill, &off) : 0;
}

void rlog__seal_write(struct rlog *log, struct rlog__seg *s)
{
	if (!log->seals || s->touch_low == UINT64_MAX || !s->header_written ||
	    s->durable_offset < s->end_offset) {
		return;
	}
	uint64_t last = rlog__ents_last(log);
	uint64_t first = seal_first(log, s);
	uint64_t count = last + 1 - first;
	/* Entries between start and first can only be missing because a
	 * purge dropped them; anything else would be a seal that no replay
	 * produces, so none is written. */
	if (s->touch_low > first ||
	    (first > s->touch_low && first - 1 > log->meta.purge_index) ||
	    count > UINT32_MAX) {
		return;
	}
	uint64_t runs = 0;
	uint64_t term = 0;
	for (uint64_t i = first; i <= last; i++) {
		const struct rlog__ent *e = rlog__ent_at(log, i);
		if (i == first || e->term != term) {
			runs++;
			term = e->term;
		}
	}
	if (rlog__grow(&log->alloc, &log->rbuf, &log->rbuf_cap,
		       SEAL_CHUNK_BYTES) != 0) {
		return;
	}
	char name[RLOG__SEAL_NAME_LEN + 1];
	rlog__seal_name(name, s->seq);
	struct rlog_file *f = NULL;
	int rv =
	    log->vfs->open(log->vfs, name, RLOG_VFS_CREATE | RLOG_VFS_EXCL, &f);
	if (rv == -EEXIST) {
		/* A seal from before a crash that left s the last segment
		 * again; s has grown since. */
		if (log->vfs->remove(log->vfs, name) != 0) {
			return;
		}
		rv = log->vfs->open(log->vfs, name,
				    RLOG_VFS_CREATE | RLOG_VFS_EXCL, &f);
	}
	if (rv != 0) {
		return;
	}
	log->dir_dirty = true;
	struct rlog__seal_header h = {
	    .seq = s->seq,
	    .end_offset = s->end_offset,
	    .start = s->touch_low,
	    .first = first,
	    .count = (uint32_t)count,
	    .runs = (uint32_t)runs,
	    .body_crc = 0,
	};
	rv = seal_put_body(log, s, f, first, last, &h.body_crc);
	if (rv == 0) {
		uint8_t hdr[RLOG__SEAL_HEADER_BYTES];
		rlog__seal_header_put(hdr, &h);
		rv = f->ops->pwrite(f, hdr, sizeof(hdr), 0);
	}
	int crv = f->ops->close(f);
	if (rv != 0 || crv != 0) {
		/* Best effort: a partial seal would only hold disk space
		 * (it cannot validate without its header). */
		(void)log->vfs->remove(log->vfs, name);
	}
}

/* ---- Reading. ---- */

bool rlog__seal_peek(struct rlog *log, uint64_t seq,
		     struct rlog__seal_header *h)
{
	if (!log->seals) {
		return false;
	}
	char name[RLOG__SEAL_NAME_LEN + 1];
	rlog__seal_name(name, seq);
	struct rlog_file *f = NULL;
	if (log->vfs->open(log->vfs, name, 0, &f) != 0) {
		return false;
	}
	uint8_t hb[RLOG__SEAL_HEADER_BYTES];
	size_t got = 0;
	int rv = f->ops->pread(f, hb, sizeof(hb), 0, &got);
	f->ops->close(f);
	return rv == 0 && rlog__seal_header_check(hb, got, h) == 0 &&
	       h->seq == seq;
}

struct seal_reader {
	struct rlog_file *f;
	uint8_t *buf;
	uint64_t off; /* file offset of the next chunk */
	uint64_t end; /* file offset where this section ends */
};

/* Read the next chunk of a section into r->buf; *len is its size. */
static int seal_next(struct seal_reader *r, size_t *len)
{
	uint64_t left = r->end - r->off;
	size_t want = left < SEAL_CHUNK_BYTES ? (size_t)left : SEAL_CHUNK_BYTES;
	size_t got = 0;
	int rv = r->f->ops->pread(r->f, r->buf, want, r->off, &got);
	if (rv != 0) {
		return rv;
	}
	if (got != want) {
		return -EIO;
	}
	r->off += want;
	*len = want;
	return 0;
}

/*
 * Check the entries section of a seal against the segment (pass 1, apply
 * false) or push its entries into the index (pass 2, apply true). Returns
 * 0, 1 when the seal does not hold, or a negative errno / RLOG code.
 */
static int seal_entries(struct rlog *log, struct rlog__seg *s,
			const struct rlog__seal_header *h, const uint8_t *runs,
			struct seal_reader *r, bool apply, uint32_t *crc)
{
	uint64_t next_off = RLOG__SEG_HEADER_BYTES;
	uint32_t run = 0;
	uint64_t term = 0;
	uint64_t index = h->first;
	while (r->off < r->end) {
		size_t len = 0;
		int rv = seal_next(r, &len);
		if (rv != 0) {
			return rv;
		}
		*crc = rlog__crc32c(*crc, r->buf, len);
		for (size_t k = 0; k < len; k += RLOG__SEAL_ENT_BYTES) {
			uint64_t off = rlog__get32(r->buf + k);
			uint64_t size = rlog__get32(r->buf + k + 4);
			const uint8_t *rp =
			    runs + (size_t)run * RLOG__SEAL_RUN_BYTES;
			if (run < h->runs && rlog__get64(rp) == index) {
				term = rlog__get64(rp + 8);
				run++;
			}
			if (off < next_off || off % RLOG__REC_ALIGN != 0 ||
			    size < RLOG__SEAL_RECORD_MIN_BYTES ||
			    size % RLOG__REC_ALIGN != 0 ||
			    off > h->end_offset || size > h->end_offset - off) {
				return 1;
			}
			if (apply) {
				rv = rlog__ents_push(log, index, term, s, off,
						     size);
				if (rv != 0) {
					return rv;
				}
			}
			next_off = off + size;
			index++;
		}
	}
	return 0;
}

int rlog__seal_load(struct rlog *log, struct rlog__seg *s, uint64_t end_offset,
		    uint64_t next_index, uint64_t *expected, bool *used)
{
	*used = false;
	char name[RLOG__SEAL_NAME_LEN + 1];
	rlog__seal_name(name, s->seq);
	struct rlog_file *f = NULL;
	if (log->vfs->open(log->vfs, name, 0, &f) != 0) {
		return 0; /* none (or unreadable): read the segment instead */
	}
	uint8_t *runs = NULL;
	uint64_t size = 0;
	uint8_t hb[RLOG__SEAL_HEADER_BYTES];
	size_t got = 0;
	struct rlog__seal_header h;
	int rv = f->ops->size(f, &size);
	if (rv == 0) {
		rv = f->ops->pread(f, hb, sizeof(hb), 0, &got);
	}
	/* The header must agree with the chain before anything else is
	 * read: a seal of another life of this segment (it grew after a
	 * crash, or was cut short by a settled tail) has another end. */
	if (rv != 0 || got != sizeof(hb) ||
	    rlog__seal_header_check(hb, got, &h) != 0 || h.seq != s->seq ||
	    h.end_offset != end_offset || size != rlog__seal_file_bytes(&h) ||
	    h.start > *expected || h.first + h.count != next_index ||
	    (h.first > h.start && h.first - 1 > log->meta.purge_index)) {
		goto unused;
	}
	if (rlog__grow(&log->alloc, &log->rbuf, &log->rbuf_cap,
		       SEAL_CHUNK_BYTES) != 0) {
		rv = RLOG_ENOMEM;
		goto fail;
	}
	/* Pass 1: runs into memory (at most 16 bytes per entry, less than
	 * the index they describe), checksum and check everything. */
	size_t runs_bytes = (size_t)h.runs * RLOG__SEAL_RUN_BYTES;
	runs = rlog__malloc(&log->alloc, runs_bytes > 0 ? runs_bytes : 1);
	if (runs == NULL) {
		rv = RLOG_ENOMEM;
		goto fail;
	}
	got = 0;
	if (runs_bytes > 0 &&
	    (f->ops->pread(f, runs, runs_bytes, RLOG__SEAL_HEADER_BYTES,
			   &got) != 0 ||
	     got != runs_bytes)) {
		goto unused;
	}
	uint32_t crc = rlog__crc32c(rlog__seg_seed(s->seq), runs, runs_bytes);
	/* Terms never decrease along the log: the first run starts at the
	 * first entry and may not go below the entry before `start` (unless
	 * entries in between were purged); runs rise strictly. */
	uint64_t floor = 0;
	if (h.first == h.start && h.start > 1) {
		const struct rlog__ent *b = rlog__ent_at(log, h.start - 1);
		floor = b ? b->term : 0;
	}
	for (uint32_t i = 0; i < h.runs; i++) {
		uint64_t at = rlog__get64(runs + (size_t)i * 16);
		uint64_t term = rlog__get64(runs + (size_t)i * 16 + 8);
		uint64_t prev_at =
		    i > 0 ? rlog__get64(runs + (size_t)(i - 1) * 16) : 0;
		if ((i == 0 && at != h.first) || (i > 0 && at <= prev_at) ||
		    at >= h.first + h.count || term < floor ||
		    (i > 0 && term == floor)) {
			goto unused;
		}
		floor = term;
	}
	struct seal_reader r = {
	    .f = f,
	    .buf = log->rbuf,
	    .off = RLOG__SEAL_HEADER_BYTES + runs_bytes,
	    .end = size,
	};
	rv = seal_entries(log, s, &h, runs, &r, false, &crc);
	if (rv != 0 || crc != h.body_crc) {
		goto unused;
	}
	/* Pass 2: apply. Everything was checked; reading the same bytes
	 * again can only fail on a device error or a file changed under the
	 * lock, and by now the index has changed, so that is an error. */
	rlog__ents_truncate(log, h.start);
	if (h.first > h.start) {
		/* Entries from start to first were purged before the seal was
		 * written; all below first go at the purge boundary anyway. */
		rlog__ents_purge(log, h.first - 1);
	}
	if (rlog__ents_reserve(log, h.count) != 0) {
		rv = RLOG_ENOMEM;
		goto fail;
	}
	uint32_t crc2 = rlog__crc32c(rlog__seg_seed(s->seq), runs, runs_bytes);
	r.off = RLOG__SEAL_HEADER_BYTES + runs_bytes;
	rv = seal_entries(log, s, &h, runs, &r, true, &crc2);
	if (rv == 0 && crc2 != h.body_crc) {
		rv = 1;
	}
	if (rv != 0) {
		goto fail;
	}
	rlog__free(&log->alloc, runs);
	f->ops->close(f);
	s->touch_low = h.start;
	s->seal_used = true;
	*expected = h.first + h.count;
	*used = true;
	return 0;
fail:
	rlog__free(&log->alloc, runs);
	f->ops->close(f);
	if (rv == RLOG_ENOMEM || rv == -ENOMEM) {
		return rlog__err(log, RLOG_ENOMEM, "open: out of memory");
	}
	if (rv > 0) {
		return rlog__err(log, RLOG_ECORRUPT,
				 "open: %s changed while it was read", name);
	}
	return rlog__err(log, rlog__errno_code(rv),
			 "open: read %s: %s (errno %d)", name,
			 rlog__errno_name(rv), -rv);
unused:
	rlog__free(&log->alloc, runs);
	f->ops->close(f);
	return 0;
}
