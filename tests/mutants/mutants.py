"""The deliberate engine bugs of the mutation check (tests/mutation_check).

Each mutant is one small substitution in one engine file: the text must
occur exactly once, so a mutant that no longer applies fails loudly
instead of silently testing nothing. The suite of scenarios must catch
every one of them.
"""

MUTANTS = [
    ("tail-seal-without-mark",
     "the last segment's seal is used without its clean-close mark",
     "engine/src/segment.c",
     """	if (!mark) {
		return 0;
	}""",
     """	if (!mark && h.count == UINT32_MAX) {
		return 0;
	}"""),
    ("seal-fit-unchecked",
     "a segment's seal is used without checking that it ends where the "
     "chain goes on (its byte offset and its next index)",
     "engine/src/seal.c",
     """	    h.end_offset != end_offset || size != rlog__seal_file_bytes(&h) ||
	    h.start > *expected || h.first + h.count != next_index ||""",
     """	    end_offset == 0 || size != rlog__seal_file_bytes(&h) ||
	    h.start > *expected || next_index == 0 ||"""),
    ("seal-size-unpadded",
     "a seal records each entry's size without its padding",
     "engine/src/seal.c",
     """		rlog__put32(buf + fill + 4, e->size_bytes);""",
     """		rlog__put32(buf + fill + 4, e->size_bytes - 8);"""),
    ("seal-term-one-late",
     "a seal's change of term is applied one entry late",
     "engine/src/seal.c",
     """			if (run < h->runs && rlog__get64(rp) == index) {""",
     """			if (run < h->runs && rlog__get64(rp) + 1 == index) {"""),
    ("zero-ahead-overlaps-batch",
     "the zeros written ahead of a small batch start inside its last record",
     "engine/src/log.c",
     """		int rv = f->ops->pwrite(f, zero_block, (size_t)n, end + done);""",
     """		int rv = f->ops->pwrite(f, zero_block, (size_t)n, end + done - 16);"""),
    ("sync-skips-data-fsync",
     "sync does not fdatasync the segment",
     "engine/src/log.c",
     """			rv = f->ops->sync(f);
			if (rv != 0) {
				return rlog__poison(log, rv, "%s: fdatasync %s",""",
     """			rv = 0;
			if (rv != 0) {
				return rlog__poison(log, rv, "%s: fdatasync %s","""),
    ("segment-create-skips-dir-fsync",
     "a new segment's name is never made durable",
     "engine/src/log.c",
     """	if (log->dir_dirty) {
		int rv = log->vfs->sync_dir(log->vfs);""",
     """	if (0) {
		int rv = log->vfs->sync_dir(log->vfs);"""),
    ("hard-state-in-place",
     "hard state written over one slot in place, not crash-atomically",
     "engine/src/meta.c",
     """	uint64_t second = RLOG__META_SLOT_B_OFFSET;
	if (log->meta_b_first) {
		first = RLOG__META_SLOT_B_OFFSET;
		second = RLOG__META_SLOT_A_OFFSET;
	}""",
     """	uint64_t second = RLOG__META_SLOT_A_OFFSET;"""),
    ("bad-crc-accepted",
     "a record with a bad checksum is accepted",
     "engine/src/record.c",
     """	if (crc != rlog__get32(buf)) {
		return RLOG__REC_BAD;""",
     """	if (crc != rlog__get32(buf) && 0) {
		return RLOG__REC_BAD;"""),
    ("corruption-silently-truncated",
     "damage to acknowledged data in the last segment is dropped as a torn tail",
     "engine/src/segment.c",
     """			if (found) {
				rv = rlog__err(
				    log, RLOG_ECORRUPT,""",
     """			if (found && 0) {
				rv = rlog__err(
				    log, RLOG_ECORRUPT,"""),
    ("fsync-retried",
     "a failed fsync is retried and the write acknowledged",
     "engine/src/log.c",
     """			rv = f->ops->sync(f);
			if (rv != 0) {
				return rlog__poison(log, rv, "%s: fdatasync %s",""",
     """			rv = f->ops->sync(f);
			if (rv != 0) {
				rv = f->ops->sync(f);
			}
			if (rv != 0) {
				return rlog__poison(log, rv, "%s: fdatasync %s","""),
    ("purge-boundary-not-durable",
     "purge removes segments without making the boundary durable",
     "engine/src/log.c",
     """	rv = rlog__meta_store(log, &m, "purge");
	if (rv != 0) {
		return rv;
	}
	rlog__ents_purge(log, index);""",
     """	log->meta = m;
	rlog__ents_purge(log, index);"""),
    ("stale-segment-after-reset",
     "reset leaves its old segments live: a stale segment comes back",
     "engine/src/log.c",
     """	m.purge_term = 0;
	m.min_seq = log->next_seq;""",
     """	m.purge_term = 0;"""),
    ("truncate-not-written",
     "truncate changes only memory; a reopen resurrects the entries",
     "engine/src/log.c",
     """	return write_batch(log, "truncate", true, from_index, NULL, 0, 0);""",
     """	rlog__ents_truncate(log, from_index);
	return 0;"""),
    ("replace-not-atomic",
     "replace writes its truncate record without grouping the new entries",
     "engine/src/log.c",
     """		p += rlog__rec_put(p, seed, RLOG__REC_TRUNCATE, (uint32_t)n,""",
     """		p += rlog__rec_put(p, seed, RLOG__REC_TRUNCATE, 0,"""),
    ("handle-not-poisoned",
     "a failed write or sync does not poison the handle",
     "engine/src/log.c",
     """	log->poisoned = true;
	snprintf(log->errmsg, sizeof(log->errmsg),""",
     """	snprintf(log->errmsg, sizeof(log->errmsg),"""),
]
