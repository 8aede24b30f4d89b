/*
 * meta.c: the hard state, the purge boundary and the live-segment floor
 * (min_seq), kept in two checksummed slots of the file "meta".
 *
 * Crash safety: a save writes the whole new value to slot A and syncs, then
 * to slot B and syncs. A crash during the first write leaves slot B with the
 * old value; during the second, slot A holds the new one. Both slots carry a
 * generation number and the valid slot with the highest generation wins, so
 * a crash at any byte leaves the old or the new value. After a completed
 * save both slots hold the new value, so damage to one slot loses nothing;
 * damage to both is reported as corruption. No rename and no directory
 * operation on this path, except a directory sync once when the file is
 * first created.
 */
#include "internal.h"

#include <errno.h>

void rlog__meta_encode(const struct rlog__meta *m,
		       uint8_t out[RLOG__META_SLOT_BYTES])
{
	memset(out, 0, RLOG__META_SLOT_BYTES);
	memcpy(out, RLOG__META_MAGIC, 8);
	rlog__put32(out + 8, RLOG__FORMAT_VERSION);
	rlog__put32(out + 12, m->flags);
	rlog__put64(out + 16, m->generation);
	rlog__put64(out + 24, m->current_term);
	rlog__put64(out + 32, m->voted_for_term);
	rlog__put32(out + 40, m->voted_for_id);
	rlog__put64(out + 48, m->purge_index);
	rlog__put64(out + 56, m->purge_term);
	rlog__put64(out + 64, m->min_seq);
	rlog__put32(out + 124, rlog__crc32c(RLOG__CRC_SEED, out, 124));
}

int rlog__meta_decode(const uint8_t *buf, size_t len, struct rlog__meta *out)
{
	if (len < RLOG__META_SLOT_BYTES) {
		/* A slot the file does not reach was never written, unless
		 * some of its bytes are there and not zero. */
		for (size_t i = 0; i < len; i++) {
			if (buf[i] != 0) {
				return RLOG_ECORRUPT;
			}
		}
		return 1;
	}
	bool zero = true;
	for (size_t i = 0; i < RLOG__META_SLOT_BYTES; i++) {
		if (buf[i] != 0) {
			zero = false;
			break;
		}
	}
	if (zero) {
		return 1;
	}
	if (rlog__crc32c(RLOG__CRC_SEED, buf, 124) != rlog__get32(buf + 124)) {
		return RLOG_ECORRUPT;
	}
	if (memcmp(buf, RLOG__META_MAGIC, 8) != 0) {
		return RLOG_ECORRUPT;
	}
	if (rlog__get32(buf + 8) != RLOG__FORMAT_VERSION) {
		return RLOG_EVERSION;
	}
	for (size_t i = 72; i < 124; i++) {
		if (buf[i] != 0) {
			return RLOG_ECORRUPT;
		}
	}
	out->flags = rlog__get32(buf + 12);
	out->generation = rlog__get64(buf + 16);
	out->current_term = rlog__get64(buf + 24);
	out->voted_for_term = rlog__get64(buf + 32);
	out->voted_for_id = rlog__get32(buf + 40);
	out->purge_index = rlog__get64(buf + 48);
	out->purge_term = rlog__get64(buf + 56);
	out->min_seq = rlog__get64(buf + 64);
	uint32_t known =
	    RLOG__META_HS_SAVED | RLOG__META_HS_VOTE | RLOG__META_HS_COMMITTED;
	if ((out->flags & ~known) != 0 || out->generation == 0 ||
	    out->generation > RLOG__GENERATION_MAX - RLOG__HEADROOM ||
	    out->purge_index > RLOG_INDEX_MAX ||
	    out->min_seq > RLOG__SEQ_MAX - RLOG__HEADROOM + 1) {
		return RLOG_ECORRUPT;
	}
	return 0;
}

static int read_slot(struct rlog *log, uint64_t offset, struct rlog__meta *m)
{
	uint8_t buf[RLOG__META_SLOT_BYTES];
	size_t got = 0;
	int rv = log->meta_file->ops->pread(log->meta_file, buf, sizeof(buf),
					    offset, &got);
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "open: read meta@%llu: %s (errno %d)",
				 (unsigned long long)offset,
				 rlog__errno_name(rv), -rv);
	}
	return rlog__meta_decode(buf, got, m);
}

int rlog__meta_load(struct rlog *log)
{
	memset(&log->meta, 0, sizeof(log->meta));
	int rv = log->vfs->open(log->vfs, RLOG__META_NAME, 0, &log->meta_file);
	if (rv == -ENOENT) {
		log->meta_file = NULL;
		return 0;
	}
	if (rv != 0) {
		log->meta_file = NULL;
		return rlog__err(log, rlog__errno_code(rv),
				 "open: open meta: %s (errno %d)",
				 rlog__errno_name(rv), -rv);
	}
	struct rlog__meta a = {0}, b = {0};
	int ra = read_slot(log, RLOG__META_SLOT_A_OFFSET, &a);
	if (ra < 0 && ra != RLOG_ECORRUPT && ra != RLOG_EVERSION) {
		return ra;
	}
	int rb = read_slot(log, RLOG__META_SLOT_B_OFFSET, &b);
	if (rb < 0 && rb != RLOG_ECORRUPT && rb != RLOG_EVERSION) {
		return rb;
	}
	if (ra == RLOG_EVERSION || rb == RLOG_EVERSION) {
		return rlog__err(log, RLOG_EVERSION,
				 "open: meta: unsupported format version");
	}
	if (ra == RLOG_ECORRUPT && rb == RLOG_ECORRUPT) {
		return rlog__err(log, RLOG_ECORRUPT,
				 "open: meta: both slots (offsets %u and %u) "
				 "fail their checksum",
				 RLOG__META_SLOT_A_OFFSET,
				 RLOG__META_SLOT_B_OFFSET);
	}
	if (ra == 0 && (rb != 0 || a.generation >= b.generation)) {
		log->meta = a;
		/* Completing the save must not touch the slot holding the
		 * chosen value until the other one is durable. */
		log->meta_b_first = true;
	} else if (rb == 0) {
		log->meta = b;
		log->meta_b_first = false;
	} else {
		/* Neither slot holds a value: never saved, or the first save
		 * ever was torn, so nothing was acknowledged. */
		memset(&log->meta, 0, sizeof(log->meta));
		return 0;
	}
	if (ra == 0 && rb == 0 && a.generation == b.generation) {
		return 0;
	}
	/* The last save did not complete both slots (or one was damaged
	 * since). The value chosen may sit only in the page cache, left there
	 * by a failed fsync that the kernel will never retry: complete the
	 * save, so that what this open acts on is durable. A crash during it
	 * leaves the chosen value or the one before, as any save does. */
	return rlog__meta_store(log, &log->meta, "open");
}

static int write_slot(struct rlog *log, const uint8_t *buf, uint64_t offset,
		      const char *op)
{
	int rv = log->meta_file->ops->pwrite(log->meta_file, buf,
					     RLOG__META_SLOT_BYTES, offset);
	if (rv != 0) {
		return rlog__poison(log, rv, "%s: write meta@%llu", op,
				    (unsigned long long)offset);
	}
	rv = log->meta_file->ops->sync(log->meta_file);
	if (rv != 0) {
		return rlog__poison(log, rv, "%s: fdatasync meta", op);
	}
	return 0;
}

int rlog__meta_store(struct rlog *log, const struct rlog__meta *m,
		     const char *op)
{
	RLOG_ASSERT(!log->poisoned);
	bool created = false;
	if (log->meta_file == NULL) {
		int rv = log->vfs->open(log->vfs, RLOG__META_NAME,
					RLOG_VFS_CREATE, &log->meta_file);
		if (rv != 0) {
			log->meta_file = NULL;
			return rlog__poison(log, rv, "%s: create meta", op);
		}
		created = true;
	}
	struct rlog__meta next = *m;
	next.generation = log->meta.generation + 1;
	/* Never write a generation the decoder would refuse. */
	if (next.generation > RLOG__GENERATION_MAX - RLOG__HEADROOM) {
		return rlog__err(log, RLOG_EIO, "%s: meta generation exhausted",
				 op);
	}
	uint8_t buf[RLOG__META_SLOT_BYTES];
	rlog__meta_encode(&next, buf);
	/* One slot, synced, then the other: the other slot always holds a
	 * complete value while one is being written. Normally A goes first;
	 * when an interrupted save left the only good copy in A, B does. */
	uint64_t first = RLOG__META_SLOT_A_OFFSET;
	uint64_t second = RLOG__META_SLOT_B_OFFSET;
	if (log->meta_b_first) {
		first = RLOG__META_SLOT_B_OFFSET;
		second = RLOG__META_SLOT_A_OFFSET;
	}
	int rv = write_slot(log, buf, first, op);
	if (rv != 0) {
		return rv;
	}
	rv = write_slot(log, buf, second, op);
	if (rv != 0) {
		return rv;
	}
	log->meta_b_first = false;
	/* A new file's name is durable only after the directory sync. */
	if (created || log->dir_dirty) {
		rv = log->vfs->sync_dir(log->vfs);
		if (rv != 0) {
			return rlog__poison(log, rv, "%s: fsync directory", op);
		}
		log->dir_dirty = false;
	}
	log->meta = next;
	return 0;
}
