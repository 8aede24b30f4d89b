/*
 * fuzz_record_decode.c: record framing and the protobuf Entry codec alone,
 * with no disk and no handle, at full speed.
 *
 * Input (fuzz.h): a flags byte, the segment's sequence number (8 bytes
 * LE, which seeds the checksum), then a record. With FUZZ_REC_FIX_CRC the
 * record's checksum is recomputed first (when its length field fits), so
 * the fields and the body behind the checksum get fuzzed; with
 * FUZZ_REC_RAW_BODY the rest is decoded as a bare Entry body.
 *
 * Properties: rlog__rec_check and rlog__entry_decode never crash and
 * return their documented values; a record that checks OK reports sizes
 * inside the input; and when an ENTRY record checks OK and its body decodes
 * to the entry its header names (what the engine accepts), re-encoding
 * that entry with rlog__rec_put gives a record that checks OK with the same
 * header fields and decodes to the same entry. Raw bodies get the same
 * round trip through a fresh record.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "rlog/rlog.h"

#define NAME "fuzz_record_decode"

static void *fz_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}
static void *fz_realloc(void *ctx, void *p, size_t size)
{
	(void)ctx;
	return realloc(p, size);
}
static void fz_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}
static const struct rlog_allocator alloc = {
    .ctx = NULL, .malloc = fz_malloc, .realloc = fz_realloc, .free = fz_free};

/* Encode e as an ENTRY record with these header fields, check it and
 * decode it again: everything must come back. */
static void round_trip(uint32_t seed, const struct rlog_entry *e,
		       uint64_t index, uint64_t term, uint64_t durable_offset)
{
	size_t body = rlog__entry_body_size(e);
	if (body < 2) {
		return; /* Entry{0, 0, none} encodes to nothing: no record */
	}
	uint64_t size = rlog__entry_record_size(e);
	uint8_t *rec = malloc((size_t)size);
	if (rec == NULL) {
		return;
	}
	size_t put = rlog__rec_put(rec, seed, RLOG__REC_ENTRY, 0, index, term,
				   durable_offset, e);
	if (put != size) {
		fuzz_fail(NAME,
			  "rec_put wrote %zu bytes, record size says %llu", put,
			  (unsigned long long)size);
	}
	struct rlog__rec r;
	uint64_t need = 0;
	enum rlog__rec_status st = rlog__rec_check(rec, size, seed, &r, &need);
	if (st != RLOG__REC_OK) {
		fuzz_fail(NAME,
			  "re-encoded record of %llu fails its check (%d)",
			  (unsigned long long)index, (int)st);
	}
	if (r.type != RLOG__REC_ENTRY || r.group != 0 || r.index != index ||
	    r.term != term || r.durable_offset != durable_offset ||
	    r.size_bytes != size || r.body_len != body) {
		fuzz_fail(NAME, "re-encoded record header differs");
	}
	/* The engine's hand encoder must write protobuf-c's bytes exactly. */
	uint8_t *ref = malloc(body);
	if (ref != NULL) {
		size_t n = rlog__entry_body_pack_reference(e, ref);
		if (n != body || memcmp(ref, r.body, body) != 0) {
			fuzz_fail(NAME,
				  "hand encoding of entry %llu differs from "
				  "protobuf-c's (%zu vs %zu bytes)",
				  (unsigned long long)e->index, body, n);
		}
		free(ref);
	}
	struct rlog_entry d;
	uint8_t *pbuf = NULL;
	size_t pcap = 0;
	int rv =
	    rlog__entry_decode(&alloc, r.body, r.body_len, &d, &pbuf, &pcap);
	if (rv != 0) {
		fuzz_fail(NAME, "re-encoded entry %llu does not decode (%d)",
			  (unsigned long long)index, rv);
	}
	if (d.index != e->index || d.term != e->term || d.kind != e->kind ||
	    d.payload_len != e->payload_len ||
	    (d.payload_len > 0 &&
	     memcmp(d.payload, e->payload, d.payload_len) != 0)) {
		fuzz_fail(NAME,
			  "entry %llu changed in a round trip: kind %d/%d "
			  "len %zu/%zu",
			  (unsigned long long)index, (int)e->kind, (int)d.kind,
			  e->payload_len, d.payload_len);
	}
	free(pbuf);
	free(rec);
}

static void raw_body(const uint8_t *p, size_t len)
{
	struct rlog_entry e;
	uint8_t *pbuf = NULL;
	size_t pcap = 0;
	int rv = rlog__entry_decode(&alloc, p, len, &e, &pbuf, &pcap);
	if (rv != 0 && rv != RLOG_ECORRUPT) {
		fuzz_fail(NAME, "entry_decode returned %d", rv);
	}
	if (rv == 0) {
		if (e.kind != RLOG_PAYLOAD_NONE &&
		    e.kind != RLOG_PAYLOAD_NOOP &&
		    e.kind != RLOG_PAYLOAD_COMMAND &&
		    e.kind != RLOG_PAYLOAD_CONFIG) {
			fuzz_fail(NAME, "decoded kind %d", (int)e.kind);
		}
		if (e.index != 0) {
			round_trip(rlog__seg_seed(1), &e, e.index, e.term, 0);
		}
	}
	free(pbuf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_REC_HDR_BYTES) {
		return 0;
	}
	uint8_t flags = data[0];
	uint64_t seq = rlog__get64(data + 1);
	const uint8_t *in = data + FUZZ_REC_HDR_BYTES;
	size_t len = size - FUZZ_REC_HDR_BYTES;
	if (flags & FUZZ_REC_RAW_BODY) {
		raw_body(in, len);
		return 0;
	}
	uint32_t seed = rlog__seg_seed(seq);
	uint8_t *p = malloc(len ? len : 1);
	if (p == NULL) {
		return 0;
	}
	memcpy(p, in, len);
	if ((flags & FUZZ_REC_FIX_CRC) && len >= RLOG__REC_HEADER_BYTES) {
		uint32_t body = rlog__get32(p + 8);
		if (body <= len - RLOG__REC_HEADER_BYTES) {
			rlog__put32(p, rlog__crc32c(seed, p + 4,
						    RLOG__REC_HEADER_BYTES - 4 +
							(size_t)body));
		}
	}
	struct rlog__rec r;
	uint64_t need = 0;
	enum rlog__rec_status st = rlog__rec_check(p, len, seed, &r, &need);
	switch (st) {
	case RLOG__REC_OK:
		if (r.size_bytes > len || r.size_bytes != need ||
		    r.size_bytes % RLOG__REC_ALIGN != 0 ||
		    r.size_bytes < RLOG__REC_HEADER_BYTES + r.body_len ||
		    r.body != p + RLOG__REC_HEADER_BYTES || r.index == 0) {
			fuzz_fail(NAME, "record OK with inconsistent sizes");
		}
		break;
	case RLOG__REC_SHORT:
		if (need <= len && need != RLOG__REC_HEADER_BYTES) {
			fuzz_fail(NAME, "SHORT but needs %llu of %zu bytes",
				  (unsigned long long)need, len);
		}
		free(p);
		return 0;
	case RLOG__REC_ZERO:
	case RLOG__REC_BAD:
		free(p);
		return 0;
	default:
		fuzz_fail(NAME, "rec_check returned %d", (int)st);
	}
	if (r.type == RLOG__REC_TRUNCATE) {
		if (r.body_len != 0 || r.term != 0 ||
		    r.group > RLOG_BATCH_ENTRIES_MAX) {
			fuzz_fail(NAME, "TRUNCATE record OK with bad fields");
		}
		free(p);
		return 0;
	}
	if (r.type != RLOG__REC_ENTRY) {
		fuzz_fail(NAME, "record OK with type %u", r.type);
	}
	struct rlog_entry e;
	uint8_t *pbuf = NULL;
	size_t pcap = 0;
	int rv =
	    rlog__entry_decode(&alloc, r.body, r.body_len, &e, &pbuf, &pcap);
	if (rv != 0 && rv != RLOG_ECORRUPT) {
		fuzz_fail(NAME, "entry_decode returned %d", rv);
	}
	if (rv == 0 && e.index == r.index && e.term == r.term) {
		round_trip(seed, &e, r.index, r.term, r.durable_offset);
	}
	free(pbuf);
	free(p);
	return 0;
}
