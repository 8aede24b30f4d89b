/*
 * record.c: record framing, checksums and the protobuf Entry codec.
 *
 * This is the only module that sees protobuf-c types. A record is a 40-byte
 * header, a body (d-engine's Entry message, byte for byte) and zero padding
 * to 8 bytes; docs/FORMAT.md gives the layout. Bytes from disk are input:
 * every field is checked against its cap before use, nothing is asserted.
 */
#include "internal.h"

#include "entry.pb-c.h"

uint32_t rlog__seg_seed(uint64_t seq)
{
	uint8_t b[8];
	rlog__put64(b, seq);
	return rlog__crc32c(RLOG__CRC_SEED, b, sizeof(b));
}

/* Fill the protobuf-c structs for e. The structs live on the caller's
 * stack; no allocation happens on the append path. */
struct pb_entry {
	Rlogpb__Entry entry;
	Rlogpb__EntryPayload payload;
	Rlogpb__Noop noop;
};

static void pb_fill(struct pb_entry *pb, const struct rlog_entry *e)
{
	rlogpb__entry__init(&pb->entry);
	rlogpb__entry_payload__init(&pb->payload);
	rlogpb__noop__init(&pb->noop);
	pb->entry.index = e->index;
	pb->entry.term = e->term;
	switch (e->kind) {
	case RLOG_PAYLOAD_NONE:
		pb->entry.payload = NULL;
		return;
	case RLOG_PAYLOAD_NOOP:
		pb->payload.payload_case = RLOGPB__ENTRY_PAYLOAD__PAYLOAD_NOOP;
		pb->payload.noop = &pb->noop;
		break;
	case RLOG_PAYLOAD_COMMAND:
		pb->payload.payload_case =
		    RLOGPB__ENTRY_PAYLOAD__PAYLOAD_COMMAND;
		pb->payload.command.len = e->payload_len;
		pb->payload.command.data = (uint8_t *)(uintptr_t)e->payload;
		break;
	case RLOG_PAYLOAD_CONFIG:
		pb->payload.payload_case =
		    RLOGPB__ENTRY_PAYLOAD__PAYLOAD_CONFIG;
		pb->payload.config.len = e->payload_len;
		pb->payload.config.data = (uint8_t *)(uintptr_t)e->payload;
		break;
	}
	pb->entry.payload = &pb->payload;
}

/*
 * The append path encodes entries by hand into exactly the bytes
 * protobuf-c's pack writes (fields in order, zero scalars omitted, the oneof
 * present whenever a kind is set): no struct setup, no size pass through
 * the descriptor tables. rlog__entry_body_pack_reference is protobuf-c's own
 * pack, and tests/test_record.c checks the two agree byte for byte.
 */
static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Bytes of the EntryPayload message inside the entry; 0 for NONE. */
static size_t payload_msg_len(const struct rlog_entry *e)
{
	switch (e->kind) {
	case RLOG_PAYLOAD_NOOP:
		return 2; /* field 1, an empty Noop */
	case RLOG_PAYLOAD_COMMAND:
	case RLOG_PAYLOAD_CONFIG:
		return 1 + varint_len(e->payload_len) + e->payload_len;
	case RLOG_PAYLOAD_NONE:
		break;
	}
	return 0;
}

size_t rlog__entry_body_size(const struct rlog_entry *e)
{
	size_t n = 0;
	if (e->index != 0) {
		n += 1 + varint_len(e->index);
	}
	if (e->term != 0) {
		n += 1 + varint_len(e->term);
	}
	if (e->kind != RLOG_PAYLOAD_NONE) {
		size_t m = payload_msg_len(e);
		n += 1 + varint_len(m) + m;
	}
	return n;
}

static size_t entry_pack(const struct rlog_entry *e, uint8_t *out)
{
	uint8_t *p = out;
	if (e->index != 0) {
		*p++ = 0x08;
		p = put_varint(p, e->index);
	}
	if (e->term != 0) {
		*p++ = 0x10;
		p = put_varint(p, e->term);
	}
	if (e->kind != RLOG_PAYLOAD_NONE) {
		*p++ = 0x1a;
		p = put_varint(p, payload_msg_len(e));
		if (e->kind == RLOG_PAYLOAD_NOOP) {
			*p++ = 0x0a;
			*p++ = 0x00;
		} else {
			*p++ = e->kind == RLOG_PAYLOAD_COMMAND ? 0x12 : 0x1a;
			p = put_varint(p, e->payload_len);
			if (e->payload_len > 0) {
				memcpy(p, e->payload, e->payload_len);
				p += e->payload_len;
			}
		}
	}
	return (size_t)(p - out);
}

size_t rlog__entry_body_pack_reference(const struct rlog_entry *e, uint8_t *out)
{
	struct pb_entry pb;
	pb_fill(&pb, e);
	return rlogpb__entry__pack(&pb.entry, out);
}

uint64_t rlog__entry_record_size(const struct rlog_entry *e)
{
	return rlog__align8(RLOG__REC_HEADER_BYTES + rlog__entry_body_size(e));
}

size_t rlog__rec_put(uint8_t *dst, uint32_t seed, uint32_t type, uint32_t group,
		     uint64_t index, uint64_t term, uint64_t durable_offset,
		     const struct rlog_entry *e)
{
	size_t body_len = 0;
	if (type == RLOG__REC_ENTRY) {
		RLOG_ASSERT(e != NULL);
		body_len = entry_pack(e, dst + RLOG__REC_HEADER_BYTES);
	}
	RLOG_ASSERT(body_len <= RLOG__REC_BODY_MAX_BYTES);
	memset(dst + 4, 0, 4);
	dst[4] = (uint8_t)type;
	rlog__put32(dst + 8, (uint32_t)body_len);
	rlog__put32(dst + 12, group);
	rlog__put64(dst + 16, index);
	rlog__put64(dst + 24, term);
	rlog__put64(dst + 32, durable_offset);
	size_t covered = RLOG__REC_HEADER_BYTES + body_len;
	size_t total = (size_t)rlog__align8(covered);
	memset(dst + covered, 0, total - covered);
	rlog__put32(dst, rlog__crc32c(seed, dst + 4, covered - 4));
	return total;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

enum rlog__rec_status rlog__rec_check(const uint8_t *buf, uint64_t avail,
				      uint32_t seed, struct rlog__rec *out,
				      uint64_t *need_bytes)
{
	*need_bytes = RLOG__REC_HEADER_BYTES;
	if (avail < RLOG__REC_HEADER_BYTES) {
		if (all_zero(buf, (size_t)avail)) {
			return RLOG__REC_ZERO;
		}
		return RLOG__REC_SHORT;
	}
	if (all_zero(buf, RLOG__REC_HEADER_BYTES)) {
		return RLOG__REC_ZERO;
	}
	uint32_t type = buf[4];
	if (buf[5] != 0 || buf[6] != 0 || buf[7] != 0) {
		return RLOG__REC_BAD;
	}
	uint32_t body_len = rlog__get32(buf + 8);
	uint32_t group = rlog__get32(buf + 12);
	uint64_t index = rlog__get64(buf + 16);
	uint64_t term = rlog__get64(buf + 24);
	if (index == 0 || index > RLOG_INDEX_MAX) {
		return RLOG__REC_BAD;
	}
	if (type == RLOG__REC_ENTRY) {
		if (body_len < 2 || body_len > RLOG__REC_BODY_MAX_BYTES ||
		    group != 0) {
			return RLOG__REC_BAD;
		}
	} else if (type == RLOG__REC_TRUNCATE) {
		if (body_len != 0 || term != 0 ||
		    group > RLOG_BATCH_ENTRIES_MAX) {
			return RLOG__REC_BAD;
		}
	} else {
		return RLOG__REC_BAD;
	}
	uint64_t covered = RLOG__REC_HEADER_BYTES + (uint64_t)body_len;
	uint64_t total = rlog__align8(covered);
	*need_bytes = total;
	if (avail < total) {
		return RLOG__REC_SHORT;
	}
	uint32_t crc = rlog__crc32c(seed, buf + 4, (size_t)covered - 4);
	if (crc != rlog__get32(buf)) {
		return RLOG__REC_BAD;
	}
	out->type = type;
	out->body_len = body_len;
	out->group = group;
	out->index = index;
	out->term = term;
	out->durable_offset = rlog__get64(buf + 32);
	out->size_bytes = total;
	out->body = buf + RLOG__REC_HEADER_BYTES;
	return RLOG__REC_OK;
}

/* protobuf-c returns NULL both for bad input and for a failed allocation;
 * this wrapper remembers which. */
struct pb_alloc_ctx {
	const struct rlog_allocator *a;
	bool failed;
};

static void *pb_alloc(void *ctx, size_t size)
{
	struct pb_alloc_ctx *c = ctx;
	void *p = rlog__malloc(c->a, size);
	if (p == NULL) {
		c->failed = true;
	}
	return p;
}

static void pb_free(void *ctx, void *p)
{
	struct pb_alloc_ctx *c = ctx;
	rlog__free(c->a, p);
}

/* A minimal-length varint: the form protobuf-c writes. */
static bool canon_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned i = 0; i < 10 && *p < end; i++) {
		uint8_t b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			if (i > 0 && b == 0) {
				return false; /* not minimal */
			}
			if (i == 9 && b > 1) {
				return false; /* past 64 bits */
			}
			*v = x;
			return true;
		}
	}
	return false;
}

/*
 * Decode the exact bytes protobuf-c writes for an entry, without allocating:
 * index, term when not zero, then at most the payload, whose bytes out points
 * at inside body. Anything else (other field order, non-minimal varints,
 * unknown fields, an empty EntryPayload) returns false and takes the general
 * protobuf-c path, so both accept exactly the same messages.
 */
static bool decode_canonical(const uint8_t *body, size_t len,
			     struct rlog_entry *out)
{
	const uint8_t *p = body, *end = body + len;
	uint64_t v;
	if (p == end || *p++ != 0x08 || !canon_varint(&p, end, &v) || v == 0 ||
	    v > RLOG_INDEX_MAX) {
		return false;
	}
	out->index = v;
	out->term = 0;
	if (p < end && *p == 0x10) {
		p++;
		if (!canon_varint(&p, end, &v) || v == 0) {
			return false;
		}
		out->term = v;
	}
	out->kind = RLOG_PAYLOAD_NONE;
	out->payload = NULL;
	out->payload_len = 0;
	if (p == end) {
		return true;
	}
	if (*p++ != 0x1a || !canon_varint(&p, end, &v) ||
	    v != (uint64_t)(end - p) || v == 0) {
		return false;
	}
	uint8_t tag = *p++;
	if (!canon_varint(&p, end, &v) || v != (uint64_t)(end - p)) {
		return false;
	}
	switch (tag) {
	case 0x0a:
		if (v != 0) {
			return false;
		}
		out->kind = RLOG_PAYLOAD_NOOP;
		return true;
	case 0x12:
		out->kind = RLOG_PAYLOAD_COMMAND;
		break;
	case 0x1a:
		out->kind = RLOG_PAYLOAD_CONFIG;
		break;
	default:
		return false;
	}
	if (v > RLOG_ENTRY_SIZE_MAX_BYTES) {
		return false;
	}
	out->payload = v ? p : NULL;
	out->payload_len = (size_t)v;
	return true;
}

int rlog__entry_decode(const struct rlog_allocator *a, const uint8_t *body,
		       size_t len, struct rlog_entry *out, uint8_t **pbuf,
		       size_t *pbuf_cap)
{
	if (decode_canonical(body, len, out)) {
		return 0;
	}
	struct pb_alloc_ctx ctx = {.a = a, .failed = false};
	ProtobufCAllocator pa = {
	    .alloc = pb_alloc,
	    .free = pb_free,
	    .allocator_data = &ctx,
	};
	/* unpack(len 0) yields an all-default message; a body is never empty.
	 */
	if (len == 0) {
		return RLOG_ECORRUPT;
	}
	Rlogpb__Entry *m = rlogpb__entry__unpack(&pa, len, body);
	if (m == NULL) {
		return ctx.failed ? RLOG_ENOMEM : RLOG_ECORRUPT;
	}
	int rc = RLOG_ECORRUPT;
	const ProtobufCBinaryData *bytes = NULL;
	/* Unknown fields would not survive a re-encode byte for byte. */
	if (m->base.n_unknown_fields != 0) {
		goto out_free;
	}
	if (m->index > RLOG_INDEX_MAX) {
		goto out_free;
	}
	out->index = m->index;
	out->term = m->term;
	out->kind = RLOG_PAYLOAD_NONE;
	if (m->payload != NULL) {
		if (m->payload->base.n_unknown_fields != 0) {
			goto out_free;
		}
		switch (m->payload->payload_case) {
		case RLOGPB__ENTRY_PAYLOAD__PAYLOAD_NOOP:
			if (m->payload->noop->base.n_unknown_fields != 0) {
				goto out_free;
			}
			out->kind = RLOG_PAYLOAD_NOOP;
			break;
		case RLOGPB__ENTRY_PAYLOAD__PAYLOAD_COMMAND:
			out->kind = RLOG_PAYLOAD_COMMAND;
			bytes = &m->payload->command;
			break;
		case RLOGPB__ENTRY_PAYLOAD__PAYLOAD_CONFIG:
			out->kind = RLOG_PAYLOAD_CONFIG;
			bytes = &m->payload->config;
			break;
		default:
			/* An EntryPayload with no case set is read as no
			 * payload at all. */
			break;
		}
	}
	out->payload = NULL;
	out->payload_len = 0;
	if (bytes != NULL && bytes->len > 0) {
		if (bytes->len > RLOG_ENTRY_SIZE_MAX_BYTES) {
			goto out_free;
		}
		if (rlog__grow(a, pbuf, pbuf_cap, bytes->len) != 0) {
			rc = RLOG_ENOMEM;
			goto out_free;
		}
		memcpy(*pbuf, bytes->data, bytes->len);
		out->payload = *pbuf;
		out->payload_len = bytes->len;
	}
	rc = 0;
out_free:
	rlogpb__entry__free_unpacked(m, &pa);
	return rc;
}

int rlog__entry_check(const struct rlog_allocator *a, const uint8_t *body,
		      size_t len, uint64_t index, uint64_t term)
{
	struct rlog_entry e;
	if (decode_canonical(body, len, &e)) {
		return e.index == index && e.term == term ? 0 : RLOG_ECORRUPT;
	}
	uint8_t *pbuf = NULL;
	size_t cap = 0;
	int rv = rlog__entry_decode(a, body, len, &e, &pbuf, &cap);
	rlog__free(a, pbuf);
	if (rv != 0) {
		return rv;
	}
	return e.index == index && e.term == term ? 0 : RLOG_ECORRUPT;
}

void rlog__seg_header_put(uint8_t *dst, uint64_t seq, uint64_t first_index,
			  uint64_t prev_seq, uint64_t prev_end_offset,
			  uint64_t durable_offset)
{
	memset(dst, 0, RLOG__SEG_HEADER_BYTES);
	memcpy(dst, RLOG__SEG_MAGIC, 8);
	rlog__put32(dst + 8, RLOG__FORMAT_VERSION);
	rlog__put32(dst + 12, RLOG__SEG_HEADER_BYTES);
	rlog__put64(dst + 16, seq);
	rlog__put64(dst + 24, first_index);
	rlog__put64(dst + 32, prev_seq);
	rlog__put64(dst + 40, prev_end_offset);
	rlog__put64(dst + 48, durable_offset);
	rlog__put32(dst + 60, rlog__crc32c(RLOG__CRC_SEED, dst, 60));
}

int rlog__seg_header_check(const uint8_t *buf, size_t len,
			   struct rlog__seg_header *out)
{
	if (len < RLOG__SEG_HEADER_BYTES) {
		return RLOG_ECORRUPT;
	}
	if (rlog__crc32c(RLOG__CRC_SEED, buf, 60) != rlog__get32(buf + 60)) {
		return RLOG_ECORRUPT;
	}
	if (memcmp(buf, RLOG__SEG_MAGIC, 8) != 0) {
		return RLOG_ECORRUPT;
	}
	out->version = rlog__get32(buf + 8);
	if (out->version != RLOG__FORMAT_VERSION) {
		return RLOG_EVERSION;
	}
	if (rlog__get32(buf + 12) != RLOG__SEG_HEADER_BYTES ||
	    rlog__get32(buf + 56) != 0) {
		return RLOG_ECORRUPT;
	}
	out->seq = rlog__get64(buf + 16);
	out->first_index = rlog__get64(buf + 24);
	out->prev_seq = rlog__get64(buf + 32);
	out->prev_end_offset = rlog__get64(buf + 40);
	out->durable_offset = rlog__get64(buf + 48);
	if (out->first_index == 0 || out->first_index > RLOG_INDEX_MAX + 1 ||
	    out->seq > RLOG__SEQ_MAX - RLOG__HEADROOM ||
	    out->prev_seq >= out->seq ||
	    (out->durable_offset != 0 &&
	     out->durable_offset < RLOG__SEG_HEADER_BYTES) ||
	    (out->prev_seq != 0 &&
	     out->prev_end_offset < RLOG__SEG_HEADER_BYTES)) {
		return RLOG_ECORRUPT;
	}
	return 0;
}
