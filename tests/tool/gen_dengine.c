/*
 * gen_dengine: writes d-engine FileStorageEngine directories for the tests
 * of `rlog import-dengine`, byte by byte from d-engine's formats and with
 * an Entry encoder of its own (not the engine's), so the import is checked
 * against an independent reading of the wire format:
 *
 *   DIR/logs/log.data        records: u64 big-endian length + Entry
 *   DIR/meta/hard_state.bin  bincode 1.x HardState, little-endian:
 *                            u64 term, u8 tag, [u32 id, u64 term, u8 bool]
 *
 *   gen_dengine DIR CASE
 *
 * Cases (the payload of entry i at term t is "cmd-<i>-t<t>"):
 *   clean       entries 1..10 (noop, commands, a config), hard state = the
 *               test vector {term 5, vote {id 10, term 4, not committed}}
 *   novote      entries 1..3, hard state {term 7, no vote}: 9 bytes
 *   dups        1..5 at term 1, then 3..5 again at term 2 (different
 *               bytes), then 5 at term 2 once more (identical): 4
 *               superseded, 3 of them differ from the kept record
 *   undecodable 1..3, a record of garbage bytes, 4..5
 *   torn        1..4, then a record whose length says 100 with 10 present
 *   tornlen     1..4, then 5 bytes (a length prefix cut short)
 *   gap         1..4, 7..9: import 1..4, leave out 3
 *   termdec     1..3 at term 2, 4..5 at term 1: import 1..3
 *   start5      entries 5..8: the new log starts after boundary 4
 *   zero        1..2, an Entry with index 0, a 0-length record, 3
 *   badhs       entries 1..2, hard state with vote tag 2
 *   shorths     entries 1..2, hard state of 5 bytes
 *   emptyhs     entries 1..2, hard state of 0 bytes (a torn save)
 *   trailing    entries 1..2, hard state of 9 bytes plus 3 trailing bytes
 *   nohs        entries 1..2, no hard_state.bin
 *   empty       log.data of 0 bytes, no hard state
 *   all         duplicates, an undecodable record, a gap and a torn
 *               tail together, test-vector hard state
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUF_MAX (1u << 20)

struct buf {
	uint8_t b[BUF_MAX];
	size_t len;
};

static struct buf log_data, hs_data;

static void put(struct buf *b, const void *p, size_t n)
{
	if (n == 0) {
		return;
	}
	if (b->len + n > BUF_MAX) {
		fprintf(stderr, "gen_dengine: buffer full\n");
		exit(1);
	}
	memcpy(b->b + b->len, p, n);
	b->len += n;
}

static void put_byte(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_varint(struct buf *b, uint64_t v)
{
	while (v >= 0x80) {
		put_byte(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	put_byte(b, (uint8_t)v);
}

enum kind { K_NOOP, K_COMMAND, K_CONFIG };

/* Entry{index, term, payload}: proto3 omits zero scalars. */
static void encode_entry(struct buf *out, uint64_t index, uint64_t term,
			 enum kind k, const char *data)
{
	static struct buf pl;
	pl.len = 0;
	if (k == K_NOOP) {
		put_byte(&pl, 0x0a); /* field 1 noop, length-delimited */
		put_byte(&pl, 0x00);
	} else {
		put_byte(&pl, k == K_COMMAND ? 0x12 : 0x1a);
		put_varint(&pl, strlen(data));
		put(&pl, data, strlen(data));
	}
	if (index != 0) {
		put_byte(out, 0x08);
		put_varint(out, index);
	}
	if (term != 0) {
		put_byte(out, 0x10);
		put_varint(out, term);
	}
	put_byte(out, 0x1a);
	put_varint(out, pl.len);
	put(out, pl.b, pl.len);
}

static void put_be64(struct buf *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		put_byte(b, (uint8_t)(v >> (8 * i)));
	}
}

static void put_le(struct buf *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) {
		put_byte(b, (uint8_t)(v >> (8 * i)));
	}
}

/* One log.data record of raw body bytes. */
static void record_raw(const uint8_t *body, size_t n)
{
	put_be64(&log_data, n);
	put(&log_data, body, n);
}

static void record(uint64_t index, uint64_t term, enum kind k)
{
	static struct buf body;
	char data[64];
	snprintf(data, sizeof(data), "cmd-%llu-t%llu",
		 (unsigned long long)index, (unsigned long long)term);
	body.len = 0;
	encode_entry(&body, index, term, k, data);
	record_raw(body.b, body.len);
}

static void range(uint64_t from, uint64_t to, uint64_t term)
{
	for (uint64_t i = from; i <= to; i++) {
		record(i, term, K_COMMAND);
	}
}

static void hs_vector(void)
{
	/* HardState{term 5, vote {id 10, term 4, committed false}}. */
	static const uint8_t v[22] = {0x05, 0,	  0, 0, 0, 0,	 0, 0,
				      0x01, 0x0a, 0, 0, 0, 0x04, 0, 0,
				      0,    0,	  0, 0, 0, 0x00};
	put(&hs_data, v, sizeof(v));
}

static void hs_novote(uint64_t term)
{
	put_le(&hs_data, term, 8);
	put_byte(&hs_data, 0);
}

static int write_file(const char *dir, const char *sub, const char *name,
		      const struct buf *b)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	size_t n = b->len ? fwrite(b->b, 1, b->len, f) : 0;
	int rc = fclose(f) == 0 && n == b->len ? 0 : 1;
	return rc;
}

static int gen_case(const char *c, bool *want_hs)
{
	*want_hs = true;
	if (strcmp(c, "clean") == 0) {
		record(1, 1, K_NOOP);
		range(2, 8, 1);
		record(9, 2, K_CONFIG);
		record(10, 2, K_COMMAND);
		hs_vector();
	} else if (strcmp(c, "novote") == 0) {
		range(1, 3, 7);
		hs_novote(7);
	} else if (strcmp(c, "dups") == 0) {
		range(1, 5, 1);
		range(3, 5, 2);
		record(5, 2, K_COMMAND);
		hs_vector();
	} else if (strcmp(c, "undecodable") == 0) {
		static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
		range(1, 3, 1);
		record_raw(junk, sizeof(junk));
		range(4, 5, 1);
		hs_vector();
	} else if (strcmp(c, "torn") == 0 || strcmp(c, "tornlen") == 0) {
		range(1, 4, 1);
		if (c[4] == '\0') {
			put_be64(&log_data, 100);
			put(&log_data, "0123456789", 10);
		} else {
			put(&log_data, "\0\0\0\0\0", 5);
		}
		hs_vector();
	} else if (strcmp(c, "gap") == 0) {
		range(1, 4, 1);
		range(7, 9, 1);
		hs_vector();
	} else if (strcmp(c, "termdec") == 0) {
		range(1, 3, 2);
		range(4, 5, 1);
		hs_novote(2);
	} else if (strcmp(c, "start5") == 0) {
		range(5, 8, 3);
		hs_novote(3);
	} else if (strcmp(c, "zero") == 0) {
		range(1, 2, 1);
		record(0, 1, K_NOOP);
		record_raw(NULL, 0);
		range(3, 3, 1);
		hs_vector();
	} else if (strcmp(c, "badhs") == 0) {
		range(1, 2, 1);
		hs_novote(3);
		hs_data.b[8] = 2;
	} else if (strcmp(c, "shorths") == 0) {
		range(1, 2, 1);
		put_le(&hs_data, 3, 5);
	} else if (strcmp(c, "emptyhs") == 0) {
		range(1, 2, 1);
	} else if (strcmp(c, "trailing") == 0) {
		range(1, 2, 1);
		hs_novote(4);
		put(&hs_data, "xyz", 3);
	} else if (strcmp(c, "nohs") == 0) {
		range(1, 2, 1);
		*want_hs = false;
	} else if (strcmp(c, "empty") == 0) {
		*want_hs = false;
	} else if (strcmp(c, "all") == 0) {
		static const uint8_t junk[] = {0x08, 0x80};
		range(1, 6, 1);
		range(4, 5, 2);
		record_raw(junk, sizeof(junk));
		range(6, 6, 2);
		range(9, 10, 2);
		put_be64(&log_data, 4000);
		put(&log_data, "abc", 3);
		hs_vector();
	} else {
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen_dengine DIR CASE\n");
		return 2;
	}
	const char *dir = argv[1];
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	bool want_hs;
	int rc = gen_case(argv[2], &want_hs);
	if (rc != 0) {
		fprintf(stderr, "gen_dengine: unknown case '%s'\n", argv[2]);
		return rc;
	}
	rc = write_file(dir, "logs", "log.data", &log_data);
	if (rc == 0 && want_hs) {
		rc = write_file(dir, "meta", "hard_state.bin", &hs_data);
	}
	return rc;
}
