/*
 * test_record.c: CRC32C vectors on both implementations, the protobuf Entry
 * test vectors, and record framing that no damaged byte gets through.
 */
#include "testlib.h"

#include "internal.h"

static const uint8_t *bytes_of(const char *s)
{
	return (const uint8_t *)s;
}

/* Both CRC32C implementations reproduce the published check values. */
static void crc32c_vectors_match_both_paths(void **state)
{
	(void)state;
	uint8_t zeros[32] = {0}, ones[32], inc[32];
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++) {
		inc[i] = (uint8_t)i;
	}
	struct {
		const uint8_t *p;
		size_t len;
		uint32_t want;
	} v[] = {
	    {bytes_of("123456789"), 9, 0xE3069283u},
	    {zeros, 32, 0x8A9136AAu},
	    {ones, 32, 0x62A8AB43u},
	    {inc, 32, 0x46DD794Eu},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(rlog__crc32c_sw(0, v[i].p, v[i].len),
				 v[i].want);
		assert_int_equal(rlog__crc32c(0, v[i].p, v[i].len), v[i].want);
		uint32_t hw;
		if (rlog__crc32c_hw(0, v[i].p, v[i].len, &hw)) {
			assert_int_equal(hw, v[i].want);
		}
	}
}

/* The hardware and portable paths agree at every length and alignment. */
static void crc32c_hw_and_sw_agree_on_every_length(void **state)
{
	(void)state;
	uint8_t buf[1100];
	tl_payload(buf, sizeof(buf), 7, 3, 1);
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len + off <= sizeof(buf); len += 13) {
			uint32_t sw = rlog__crc32c_sw(0x1234u, buf + off, len);
			uint32_t hw;
			if (rlog__crc32c_hw(0x1234u, buf + off, len, &hw)) {
				assert_int_equal(sw, hw);
			}
			/* Split computation equals one pass. */
			uint32_t a = rlog__crc32c(0x1234u, buf + off, len / 2);
			a = rlog__crc32c(a, buf + off + len / 2, len - len / 2);
			assert_int_equal(a, sw);
		}
	}
}

static void check_body(const struct rlog_entry *e, const uint8_t *want,
		       size_t want_len)
{
	uint8_t rec[256];
	assert_int_equal(rlog__entry_body_size(e), want_len);
	size_t n =
	    rlog__rec_put(rec, 99, RLOG__REC_ENTRY, 0, e->index, e->term, 0, e);
	assert_int_equal(n, rlog__entry_record_size(e));
	assert_memory_equal(rec + RLOG__REC_HEADER_BYTES, want, want_len);
	struct rlog__rec r;
	uint64_t need;
	assert_int_equal(rlog__rec_check(rec, n, 99, &r, &need), RLOG__REC_OK);
}

/* Entries encode to d-engine's protobuf bytes exactly. */
static void record_entry_matches_dengine_vectors(void **state)
{
	(void)state;
	struct rlog_entry noop = {
	    .index = 1, .term = 1, .kind = RLOG_PAYLOAD_NOOP};
	const uint8_t v1[] = {0x08, 0x01, 0x10, 0x01, 0x1a, 0x02, 0x0a, 0x00};
	check_body(&noop, v1, sizeof(v1));
	struct rlog_entry abc = {.index = 300,
				 .term = 2,
				 .kind = RLOG_PAYLOAD_COMMAND,
				 .payload = bytes_of("abc"),
				 .payload_len = 3};
	const uint8_t v2[] = {0x08, 0xac, 0x02, 0x10, 0x02, 0x1a,
			      0x05, 0x12, 0x03, 0x61, 0x62, 0x63};
	check_body(&abc, v2, sizeof(v2));
	struct rlog_entry empty = {
	    .index = 5, .term = 3, .kind = RLOG_PAYLOAD_COMMAND};
	const uint8_t v3[] = {0x08, 0x05, 0x10, 0x03, 0x1a, 0x02, 0x12, 0x00};
	check_body(&empty, v3, sizeof(v3));
}

static void *t_malloc(void *c, size_t n)
{
	(void)c;
	return malloc(n);
}
static void *t_realloc(void *c, void *p, size_t n)
{
	(void)c;
	return realloc(p, n);
}
static void t_free(void *c, void *p)
{
	(void)c;
	free(p);
}
static const struct rlog_allocator talloc = {NULL, t_malloc, t_realloc, t_free};

/* Every payload kind decodes back to what was encoded. */
static void record_entry_round_trips_every_kind(void **state)
{
	(void)state;
	const uint8_t cfg[] = {0x0a, 0x03, 0x08, 0x01, 0x10};
	struct rlog_entry in[] = {
	    {.index = 7, .term = 9, .kind = RLOG_PAYLOAD_NONE},
	    {.index = 8, .term = 9, .kind = RLOG_PAYLOAD_NOOP},
	    {.index = 9,
	     .term = 9,
	     .kind = RLOG_PAYLOAD_COMMAND,
	     .payload = bytes_of("hello"),
	     .payload_len = 5},
	    {.index = 10,
	     .term = 9,
	     .kind = RLOG_PAYLOAD_CONFIG,
	     .payload = cfg,
	     .payload_len = sizeof(cfg)},
	};
	uint8_t rec[256];
	uint8_t *pbuf = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < 4; i++) {
		size_t n = rlog__rec_put(rec, 5, RLOG__REC_ENTRY, 0,
					 in[i].index, in[i].term, 0, &in[i]);
		struct rlog__rec r;
		uint64_t need;
		assert_int_equal(rlog__rec_check(rec, n, 5, &r, &need),
				 RLOG__REC_OK);
		struct rlog_entry out;
		assert_int_equal(rlog__entry_decode(&talloc, r.body, r.body_len,
						    &out, &pbuf, &cap),
				 0);
		assert_int_equal(out.index, in[i].index);
		assert_int_equal(out.term, in[i].term);
		assert_int_equal(out.kind, in[i].kind);
		assert_int_equal(out.payload_len, in[i].payload_len);
		if (in[i].payload_len > 0) {
			assert_memory_equal(out.payload, in[i].payload,
					    in[i].payload_len);
		}
	}
	free(pbuf);
}

/* The hand encoder writes exactly protobuf-c's bytes, for every kind, for
 * varint lengths at their boundaries and for pseudo-random entries. */
static void record_hand_encoder_matches_protobuf_c(void **state)
{
	(void)state;
	static uint8_t payload[20000];
	tl_payload(payload, sizeof(payload), 1, 1, 9);
	const uint64_t nums[] = {
	    0,	       1,   127,	128,	    16383,
	    16384,     300, UINT32_MAX, 1ull << 56, UINT64_MAX >> 2,
	    UINT64_MAX};
	const size_t lens[] = {0, 1, 125, 126, 127, 128, 16383, 16384, 20000};
	static uint8_t a[21000], b[21000];
	uint64_t x = 88172645463325252ull;
	for (int round = 0; round < 3000; round++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		struct rlog_entry e = {
		    .index = nums[x % 11],
		    .term = nums[(x >> 8) % 11],
		    .kind = (enum rlog_payload_kind)((x >> 16) % 4),
		};
		if (e.kind == RLOG_PAYLOAD_COMMAND ||
		    e.kind == RLOG_PAYLOAD_CONFIG) {
			e.payload_len = lens[(x >> 24) % 9];
			e.payload = payload;
		}
		size_t n = rlog__entry_body_size(&e);
		size_t m = rlog__entry_body_pack_reference(&e, b);
		assert_int_equal(n, m);
		uint8_t rec[21100];
		size_t total =
		    rlog__rec_put(rec, 1, RLOG__REC_ENTRY, 0,
				  e.index ? e.index : 1, e.term, 0, &e);
		assert_int_equal(total, rlog__entry_record_size(&e));
		memcpy(a, rec + RLOG__REC_HEADER_BYTES, n);
		assert_memory_equal(a, b, n);
	}
}

/* Encodings other than the canonical one decode to the same entry through
 * the general path; the canonical one decodes without copying. */
static void record_noncanonical_entry_decodes_alike(void **state)
{
	(void)state;
	const uint8_t canon[] = {0x08, 0xac, 0x02, 0x10, 0x02, 0x1a,
				 0x05, 0x12, 0x03, 0x61, 0x62, 0x63};
	const uint8_t swapped[] = {0x10, 0x02, 0x08, 0xac, 0x02, 0x1a,
				   0x05, 0x12, 0x03, 0x61, 0x62, 0x63};
	const uint8_t long_varint[] = {0x08, 0xac, 0x82, 0x00, 0x10, 0x02, 0x1a,
				       0x05, 0x12, 0x03, 0x61, 0x62, 0x63};
	uint8_t *pbuf = NULL;
	size_t cap = 0;
	struct rlog_entry a, b;
	assert_int_equal(
	    rlog__entry_decode(&talloc, canon, sizeof(canon), &a, &pbuf, &cap),
	    0);
	assert_true(a.payload >= canon && a.payload < canon + sizeof(canon));
	const uint8_t *others[] = {swapped, long_varint};
	size_t lens[] = {sizeof(swapped), sizeof(long_varint)};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rlog__entry_decode(&talloc, others[i], lens[i],
						    &b, &pbuf, &cap),
				 0);
		assert_int_equal(b.index, 300);
		assert_int_equal(b.term, 2);
		assert_int_equal(b.kind, RLOG_PAYLOAD_COMMAND);
		assert_int_equal(b.payload_len, 3);
		assert_memory_equal(b.payload, "abc", 3);
	}
	/* An EntryPayload with no case set reads as no payload. */
	const uint8_t empty_payload[] = {0x08, 0x01, 0x10, 0x01, 0x1a, 0x00};
	assert_int_equal(rlog__entry_decode(&talloc, empty_payload,
					    sizeof(empty_payload), &b, &pbuf,
					    &cap),
			 0);
	assert_int_equal(b.kind, RLOG_PAYLOAD_NONE);
	/* Unknown fields are refused on every path. */
	const uint8_t unknown[] = {0x08, 0x01, 0x10, 0x01, 0x20, 0x05};
	assert_int_equal(rlog__entry_decode(&talloc, unknown, sizeof(unknown),
					    &b, &pbuf, &cap),
			 RLOG_ECORRUPT);
	free(pbuf);
}

/* An all-zero region never validates as a record, header or slot. */
static void record_zero_region_never_validates(void **state)
{
	(void)state;
	uint8_t z[512] = {0};
	struct rlog__rec r;
	uint64_t need;
	assert_int_equal(rlog__rec_check(z, sizeof(z), 0, &r, &need),
			 RLOG__REC_ZERO);
	struct rlog__seg_header h;
	assert_int_equal(rlog__seg_header_check(z, 64, &h), RLOG_ECORRUPT);
	struct rlog__meta m;
	assert_int_equal(rlog__meta_decode(z, RLOG__META_SLOT_BYTES, &m), 1);
	/* Even with a plausible length, the seeded checksum of zeros is not
	 * zero. */
	z[4] = RLOG__REC_ENTRY;
	z[8] = 8;
	z[16] = 1;
	assert_int_equal(rlog__rec_check(z, sizeof(z), 0, &r, &need),
			 RLOG__REC_BAD);
}

/* Flipping any single bit of a record makes it fail its check. */
static void record_any_bit_flip_is_rejected(void **state)
{
	(void)state;
	struct rlog_entry e = {.index = 42,
			       .term = 7,
			       .kind = RLOG_PAYLOAD_COMMAND,
			       .payload = bytes_of("payload!"),
			       .payload_len = 8};
	uint8_t rec[128];
	size_t n = rlog__rec_put(rec, 77, RLOG__REC_ENTRY, 0, 42, 7, 64, &e);
	size_t covered = RLOG__REC_HEADER_BYTES + rlog__entry_body_size(&e);
	for (size_t bit = 0; bit < covered * 8; bit++) {
		rec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		struct rlog__rec r;
		uint64_t need;
		enum rlog__rec_status st =
		    rlog__rec_check(rec, n, 77, &r, &need);
		assert_int_not_equal(st, RLOG__REC_OK);
		rec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* A record checked under another segment's seed is rejected. */
	struct rlog__rec r;
	uint64_t need;
	assert_int_equal(rlog__rec_check(rec, n, 78, &r, &need), RLOG__REC_BAD);
	assert_int_equal(rlog__rec_check(rec, n, 77, &r, &need), RLOG__REC_OK);
}

/* Meta slots round-trip and reject damage and unknown versions. */
static void meta_slot_round_trips_and_rejects_damage(void **state)
{
	(void)state;
	struct rlog__meta m = {.generation = 3,
			       .flags =
				   RLOG__META_HS_SAVED | RLOG__META_HS_VOTE,
			       .current_term = 5,
			       .voted_for_id = 10,
			       .voted_for_term = 4,
			       .purge_index = 100,
			       .purge_term = 2,
			       .min_seq = 7};
	uint8_t buf[RLOG__META_SLOT_BYTES];
	rlog__meta_encode(&m, buf);
	struct rlog__meta out;
	assert_int_equal(rlog__meta_decode(buf, sizeof(buf), &out), 0);
	assert_int_equal(out.generation, m.generation);
	assert_int_equal(out.flags, m.flags);
	assert_int_equal(out.current_term, m.current_term);
	assert_int_equal(out.voted_for_id, m.voted_for_id);
	assert_int_equal(out.voted_for_term, m.voted_for_term);
	assert_int_equal(out.purge_index, m.purge_index);
	assert_int_equal(out.purge_term, m.purge_term);
	assert_int_equal(out.min_seq, m.min_seq);
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x10;
		assert_int_not_equal(rlog__meta_decode(buf, sizeof(buf), &out),
				     0);
		buf[i] ^= 0x10;
	}
	rlog__put32(buf + 8, 2);
	rlog__put32(buf + 124, rlog__crc32c(RLOG__CRC_SEED, buf, 124));
	assert_int_equal(rlog__meta_decode(buf, sizeof(buf), &out),
			 RLOG_EVERSION);
}

/* Segment names parse back to their sequence number and nothing else
 * parses. */
static void segment_names_round_trip(void **state)
{
	(void)state;
	char name[RLOG__SEG_NAME_LEN + 1];
	rlog__seg_name(name, 0x1f);
	assert_string_equal(name, "000000000000001f.seg");
	uint64_t seq;
	assert_true(rlog__seg_parse_name(name, &seq));
	assert_int_equal(seq, 0x1f);
	assert_false(rlog__seg_parse_name("000000000000001F.seg", &seq));
	assert_false(rlog__seg_parse_name("0000000000000000.seg", &seq));
	assert_false(rlog__seg_parse_name("meta", &seq));
	assert_false(rlog__seg_parse_name("000000000000001f.seg.tmp", &seq));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(crc32c_vectors_match_both_paths),
	    cmocka_unit_test(crc32c_hw_and_sw_agree_on_every_length),
	    cmocka_unit_test(record_entry_matches_dengine_vectors),
	    cmocka_unit_test(record_entry_round_trips_every_kind),
	    cmocka_unit_test(record_hand_encoder_matches_protobuf_c),
	    cmocka_unit_test(record_noncanonical_entry_decodes_alike),
	    cmocka_unit_test(record_zero_region_never_validates),
	    cmocka_unit_test(record_any_bit_flip_is_rejected),
	    cmocka_unit_test(meta_slot_round_trips_and_rejects_damage),
	    cmocka_unit_test(segment_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
