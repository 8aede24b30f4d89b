/*
 * test_format.c: recovery against damaged bytes on a real directory: torn
 * tails at every byte, zero-filled tails, bit flips in acknowledged data,
 * stale records from other segments, rotation and purge across segments.
 */
#include "testlib.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define PAYLOAD 40

static struct rlog *open_dir(const char *dir, uint64_t seg_size, int *rv)
{
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = dir;
	o.segment_size_bytes = seg_size;
	struct rlog *log = NULL;
	*rv = rlog_open(&o, &log);
	return log;
}

static struct rlog *must_open(const char *dir, uint64_t seg_size)
{
	int rv;
	struct rlog *log = open_dir(dir, seg_size, &rv);
	if (rv != 0) {
		fail_msg("open %s: %s: %s", dir, rlog_strerror(rv),
			 rlog_open_errmsg());
	}
	return log;
}

/* Append [first, last] with term and derived payloads, syncing after each
 * batch of `batch` entries. */
static void append_range(struct rlog *log, uint64_t first, uint64_t last,
			 uint64_t term, uint64_t batch)
{
	uint8_t buf[PAYLOAD];
	for (uint64_t i = first; i <= last;) {
		uint64_t end = i + batch - 1 < last ? i + batch - 1 : last;
		for (uint64_t k = i; k <= end; k++) {
			tl_payload(buf, sizeof(buf), k, term, 0);
			struct rlog_entry e = {.index = k,
					       .term = term,
					       .kind = RLOG_PAYLOAD_COMMAND,
					       .payload = buf,
					       .payload_len = sizeof(buf)};
			assert_int_equal(rlog_append(log, &e, 1), 0);
		}
		assert_int_equal(rlog_sync(log), 0);
		i = end + 1;
	}
}

static void check_entry(struct rlog *log, uint64_t index, uint64_t term)
{
	struct rlog_entry e;
	int rv = rlog_get(log, index, &e);
	if (rv != 0) {
		fail_msg("get %llu: %s: %s", (unsigned long long)index,
			 rlog_strerror(rv), rlog_errmsg(log));
	}
	uint8_t want[PAYLOAD];
	tl_payload(want, sizeof(want), index, term, 0);
	assert_int_equal(e.term, term);
	assert_int_equal(e.payload_len, sizeof(want));
	assert_memory_equal(e.payload, want, sizeof(want));
}

static void seg_path(char *out, size_t len, const char *dir, uint64_t seq)
{
	char name[RLOG__SEG_NAME_LEN + 1];
	rlog__seg_name(name, seq);
	snprintf(out, len, "%s/%s", dir, name);
}

static long file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

static void flip_byte(const char *path, long off, uint8_t mask)
{
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	int c = fgetc(f);
	assert_true(c != EOF);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	fputc(c ^ mask, f);
	fclose(f);
}

static void copy_dir(const char *from, const char *to)
{
	DIR *d = opendir(from);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			continue;
		}
		char a[4096], b[4096];
		snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
		FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
		assert_non_null(in);
		assert_non_null(out);
		char buf[8192];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
			assert_int_equal(fwrite(buf, 1, n, out), n);
		}
		fclose(in);
		fclose(out);
	}
	closedir(d);
}

static int count_segs(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		if (rlog__seg_parse_name(de->d_name, &seq)) {
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Cutting the last record at any byte opens with the entries before it,
 * and appends continue from there and survive a reopen. */
static void format_torn_tail_at_every_byte_opens_prefix(void **state)
{
	(void)state;
	char base[512], dir[512];
	tl_mkdtemp(base, sizeof(base), "torn-base");
	struct rlog *log = must_open(base, 0);
	append_range(log, 1, 5, 1, 5);
	char seg[1024];
	seg_path(seg, sizeof(seg), base, 1);
	long start = file_size(seg);
	/* Entry 6 is written but never synced: a crash may tear it. */
	uint8_t buf[PAYLOAD];
	tl_payload(buf, sizeof(buf), 6, 1, 0);
	struct rlog_entry six = {.index = 6,
				 .term = 1,
				 .kind = RLOG_PAYLOAD_COMMAND,
				 .payload = buf,
				 .payload_len = sizeof(buf)};
	assert_int_equal(rlog_append(log, &six, 1), 0);
	long end = file_size(seg);
	rlog_close(log);
	for (long cut = start; cut < end; cut++) {
		for (int garbage = 0; garbage < 2; garbage++) {
			tl_mkdtemp(dir, sizeof(dir), "torn");
			copy_dir(base, dir);
			seg_path(seg, sizeof(seg), dir, 1);
			if (garbage) {
				/* The rest of the record is garbage, not gone.
				 */
				for (long k = cut; k < end; k++) {
					flip_byte(seg, k, 0xa5);
				}
			} else {
				assert_int_equal(truncate(seg, cut), 0);
			}
			log = must_open(dir, 0);
			assert_int_equal(rlog_last_index(log), 5);
			check_entry(log, 5, 1);
			append_range(log, 6, 7, 2, 2);
			rlog_close(log);
			log = must_open(dir, 0);
			assert_int_equal(rlog_last_index(log), 7);
			check_entry(log, 5, 1);
			check_entry(log, 6, 2);
			check_entry(log, 7, 2);
			rlog_close(log);
			tl_rmtree(dir);
		}
	}
	tl_rmtree(base);
}

/* A zero-filled tail (as preallocation leaves) reads as the end of the
 * log, and appends go on right after the last record. */
static void format_zero_filled_tail_opens(void **state)
{
	(void)state;
	char dir[512], seg[1024];
	tl_mkdtemp(dir, sizeof(dir), "zero");
	struct rlog *log = must_open(dir, 0);
	append_range(log, 1, 20, 1, 4);
	rlog_close(log);
	seg_path(seg, sizeof(seg), dir, 1);
	long size = file_size(seg);
	assert_int_equal(truncate(seg, size + 65536), 0);
	log = must_open(dir, 0);
	assert_int_equal(rlog_last_index(log), 20);
	append_range(log, 21, 25, 1, 5);
	rlog_close(log);
	log = must_open(dir, 0);
	assert_int_equal(rlog_last_index(log), 25);
	for (uint64_t i = 1; i <= 25; i++) {
		check_entry(log, i, 1);
	}
	rlog_close(log);
	/* Still one segment: the zero tail was reused, not abandoned. */
	assert_int_equal(count_segs(dir), 1);
	tl_rmtree(dir);
}

/* A bit flip inside an acknowledged record is RLOG_ECORRUPT, naming the
 * file and the record's offset, in the last segment and in an earlier one.
 * After a clean close every segment is known from its seal, so the open
 * succeeds and the read of the damaged entry reports it; with
 * verify_on_open the open reads every record and reports it itself. */
static void format_bit_flip_in_acknowledged_record_is_corrupt(void **state)
{
	(void)state;
	for (int sealed = 0; sealed < 2; sealed++) {
		char dir[512], seg[1024];
		tl_mkdtemp(dir, sizeof(dir), "flip");
		struct rlog *log = must_open(dir, sealed ? 4096 : 0);
		append_range(log, 1, sealed ? 200 : 10, 1, 2);
		rlog_close(log);
		assert_true(count_segs(dir) >= (sealed ? 3 : 1));
		seg_path(seg, sizeof(seg), dir, 1);
		/* Record 3 starts after the header and two records. */
		long rec = RLOG__SEG_HEADER_BYTES;
		struct rlog_entry probe = {.index = 1,
					   .term = 1,
					   .kind = RLOG_PAYLOAD_COMMAND,
					   .payload_len = PAYLOAD};
		uint8_t tmp[PAYLOAD];
		probe.payload = tmp;
		rec += 2 * (long)rlog__entry_record_size(&probe);
		flip_byte(seg, rec + RLOG__REC_HEADER_BYTES + 10, 0x04);
		char want[64];
		snprintf(want, sizeof(want), "0000000000000001.seg@%ld", rec);
		int rv;
		log = open_dir(dir, 0, &rv);
		assert_non_null(log);
		struct rlog_entry e;
		assert_int_equal(rlog_get(log, 2, &e), 0);
		assert_int_equal(rlog_get(log, 3, &e), RLOG_ECORRUPT);
		if (strstr(rlog_errmsg(log), want) == NULL) {
			fail_msg("errmsg '%s' lacks '%s'", rlog_errmsg(log),
				 want);
		}
		assert_int_equal(rlog_get(log, 4, &e), 0);
		rlog_close(log);
		struct rlog_options o;
		rlog_options_init(&o);
		o.dir = dir;
		o.verify_on_open = true;
		log = NULL;
		assert_int_equal(rlog_open(&o, &log), RLOG_ECORRUPT);
		assert_null(log);
		if (strstr(rlog_open_errmsg(), want) == NULL) {
			fail_msg("errmsg '%s' lacks '%s'", rlog_open_errmsg(),
				 want);
		}
		/* Opening again gives the same answer: recovery wrote
		 * nothing. */
		assert_int_equal(rlog_open(&o, &log), RLOG_ECORRUPT);
		tl_rmtree(dir);
	}
}

/* A damaged segment header in the middle of the chain is corruption. */
static void format_damaged_sealed_header_is_corrupt(void **state)
{
	(void)state;
	char dir[512], seg[1024];
	tl_mkdtemp(dir, sizeof(dir), "hdr");
	struct rlog *log = must_open(dir, 4096);
	append_range(log, 1, 300, 1, 10);
	rlog_close(log);
	assert_true(count_segs(dir) >= 3);
	seg_path(seg, sizeof(seg), dir, 2);
	flip_byte(seg, 20, 0x01);
	int rv;
	log = open_dir(dir, 0, &rv);
	assert_int_equal(rv, RLOG_ECORRUPT);
	assert_non_null(strstr(rlog_open_errmsg(), "0000000000000002.seg@0"));
	tl_rmtree(dir);
}

/* A valid record copied from another segment is never accepted, even when
 * its index is the one expected next. */
static void format_stale_record_from_other_segment_is_rejected(void **state)
{
	(void)state;
	char dir[512], seg[1024];
	tl_mkdtemp(dir, sizeof(dir), "stale");
	struct rlog *log = must_open(dir, 0);
	append_range(log, 1, 10, 1, 10);
	rlog_close(log);
	/* Keep the bytes of record 5 of segment 1. */
	struct rlog_entry probe = {.index = 1,
				   .term = 1,
				   .kind = RLOG_PAYLOAD_COMMAND,
				   .payload_len = PAYLOAD};
	uint8_t tmp[PAYLOAD];
	probe.payload = tmp;
	long rsize = (long)rlog__entry_record_size(&probe);
	uint8_t rec[256];
	assert_true(rsize <= (long)sizeof(rec));
	seg_path(seg, sizeof(seg), dir, 1);
	FILE *f = fopen(seg, "rb");
	assert_non_null(f);
	fseek(f, RLOG__SEG_HEADER_BYTES + 4 * rsize, SEEK_SET);
	assert_int_equal(fread(rec, 1, (size_t)rsize, f), (size_t)rsize);
	fclose(f);
	/* Reset: segment 1 is gone, the log restarts in segment 2. */
	log = must_open(dir, 0);
	assert_int_equal(rlog_reset(log), 0);
	append_range(log, 1, 4, 1, 4);
	rlog_close(log);
	seg_path(seg, sizeof(seg), dir, 2);
	f = fopen(seg, "ab");
	assert_non_null(f);
	assert_int_equal(fwrite(rec, 1, (size_t)rsize, f), (size_t)rsize);
	fclose(f);
	log = must_open(dir, 0);
	assert_int_equal(rlog_last_index(log), 4);
	append_range(log, 5, 6, 2, 2);
	check_entry(log, 5, 2);
	rlog_close(log);
	log = must_open(dir, 0);
	assert_int_equal(rlog_last_index(log), 6);
	check_entry(log, 5, 2);
	rlog_close(log);
	tl_rmtree(dir);
}

/* Small segments rotate; purge removes whole files below the boundary and
 * both survive a reopen. */
static void format_rotation_and_purge_across_segments(void **state)
{
	(void)state;
	char dir[512];
	tl_mkdtemp(dir, sizeof(dir), "rot");
	struct rlog *log = must_open(dir, 4096);
	append_range(log, 1, 400, 1, 7);
	int before = count_segs(dir);
	assert_true(before >= 5);
	rlog_close(log);
	log = must_open(dir, 4096);
	assert_int_equal(rlog_last_index(log), 400);
	for (uint64_t i = 1; i <= 400; i += 13) {
		check_entry(log, i, 1);
	}
	assert_int_equal(rlog_purge(log, 250, 1), 0);
	int after = count_segs(dir);
	assert_true(after < before);
	assert_true(after >= 2);
	assert_int_equal(rlog_first_index(log), 251);
	struct rlog_entry e;
	assert_int_equal(rlog_get(log, 250, &e), RLOG_ENOTFOUND);
	check_entry(log, 251, 1);
	append_range(log, 401, 450, 2, 10);
	rlog_close(log);
	log = must_open(dir, 4096);
	assert_int_equal(rlog_first_index(log), 251);
	assert_int_equal(rlog_last_index(log), 450);
	uint64_t pi, pt;
	rlog_purged(log, &pi, &pt);
	assert_int_equal(pi, 250);
	assert_int_equal(pt, 1);
	for (uint64_t i = 251; i <= 450; i++) {
		check_entry(log, i, i <= 400 ? 1 : 2);
	}
	rlog_close(log);
	tl_rmtree(dir);
}

/* Truncating across segment boundaries and re-appending leaves exactly the
 * new history after a reopen. */
static void format_truncate_across_segments_no_resurrection(void **state)
{
	(void)state;
	char dir[512];
	tl_mkdtemp(dir, sizeof(dir), "trunc");
	struct rlog *log = must_open(dir, 4096);
	append_range(log, 1, 300, 1, 9);
	assert_int_equal(rlog_truncate(log, 100), 0);
	append_range(log, 100, 150, 2, 9);
	rlog_close(log);
	log = must_open(dir, 4096);
	assert_int_equal(rlog_last_index(log), 150);
	for (uint64_t i = 1; i <= 150; i++) {
		check_entry(log, i, i < 100 ? 1 : 2);
	}
	struct rlog_entry e;
	assert_int_equal(rlog_get(log, 151, &e), RLOG_ENOTFOUND);
	rlog_close(log);
	tl_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(format_torn_tail_at_every_byte_opens_prefix),
	    cmocka_unit_test(format_zero_filled_tail_opens),
	    cmocka_unit_test(format_bit_flip_in_acknowledged_record_is_corrupt),
	    cmocka_unit_test(format_damaged_sealed_header_is_corrupt),
	    cmocka_unit_test(
		format_stale_record_from_other_segment_is_rejected),
	    cmocka_unit_test(format_rotation_and_purge_across_segments),
	    cmocka_unit_test(format_truncate_across_segments_no_resurrection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
