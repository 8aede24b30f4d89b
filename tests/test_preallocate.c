/*
 * Zeros written ahead of small batches (rlog_options.preallocate_bytes) on
 * the real filesystem: how far a segment grows, that later batches write
 * inside it without growing it, that a reopen continues in place over the
 * zeros with every entry intact, that large batches and
 * RLOG_PREALLOCATE_OFF only append, that the zeros stop at the segment's
 * target size, and that a bad size is refused with a message. Crashes in
 * the middle of it are the simulator's (every scenario runs with it on).
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct fx {
	char dir[512];
	struct tl_model m;
	struct tl_batch b;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	tl_mkdtemp(f->dir, sizeof(f->dir), "prealloc");
	tl_model_init(&f->m, 4096);
	tl_batch_init(&f->b);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	tl_batch_free(&f->b);
	tl_model_free(&f->m);
	tl_rmtree(f->dir);
	free(f);
	return 0;
}

static struct rlog *open_with(const struct fx *f, uint64_t segment_bytes,
			      uint32_t preallocate)
{
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = f->dir;
	o.segment_size_bytes = segment_bytes;
	o.preallocate_bytes = preallocate;
	struct rlog *log = NULL;
	int rc = rlog_open(&o, &log);
	if (rc != 0) {
		fail_msg("open: %s: %s", rlog_strerror(rc), rlog_open_errmsg());
	}
	return log;
}

/* Size of the first (lowest-numbered) segment file. */
static uint64_t seg_size(const struct fx *f)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/0000000000000001.seg", f->dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* The first segment's bytes; *len is its size. */
static uint8_t *seg_read(const struct fx *f, uint64_t *len)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/0000000000000001.seg", f->dir);
	*len = seg_size(f);
	uint8_t *buf = malloc(*len ? (size_t)*len : 1);
	assert_non_null(buf);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, (size_t)*len, fp), (size_t)*len);
	fclose(fp);
	return buf;
}

/* Append one synced batch of n entries of payload bytes each. */
static void append(struct fx *f, struct rlog *log, size_t n, size_t payload)
{
	tl_batch_clear(&f->b);
	uint64_t next = rlog_last_index(log) + 1;
	for (size_t i = 0; i < n; i++) {
		tl_batch_add(&f->b, next + i, 1, RLOG_PAYLOAD_COMMAND, 7,
			     payload);
	}
	int rc = rlog_append(log, f->b.entries, f->b.n);
	if (rc == 0) {
		rc = rlog_sync(log);
	}
	if (rc != 0) {
		fail_msg("append: %s: %s", rlog_strerror(rc), rlog_errmsg(log));
	}
	tl_model_append(&f->m, &f->b);
}

/* Where the first segment stops holding non-zero bytes: the end of its
 * records, give or take their zero padding and payload bytes that happen
 * to be zero (a few bytes). */
static uint64_t records_end(const struct fx *f)
{
	uint64_t len;
	uint8_t *buf = seg_read(f, &len);
	uint64_t end = len;
	while (end > 0 && buf[end - 1] == 0) {
		end--;
	}
	free(buf);
	return end;
}

static void test_default_grows_by_one_mib(void **state)
{
	struct fx *f = *state;
	struct rlog *log = open_with(f, 0, 0);
	append(f, log, 1, 100);
	uint64_t end = records_end(f);
	assert_true(end > 64);
	/* Records end on an 8-byte boundary; zeros fill the next MiB. */
	assert_in_range(seg_size(f) - end, RLOG_PREALLOCATE_DEFAULT_BYTES,
			RLOG_PREALLOCATE_DEFAULT_BYTES + 16);
	/* The next batches land inside the zeros: the file does not grow. */
	uint64_t size = seg_size(f);
	for (int i = 0; i < 100; i++) {
		append(f, log, 3, 200);
	}
	assert_int_equal(seg_size(f), size);
	assert_true(records_end(f) > end);
	tl_model_check(log, &f->m);
	assert_int_equal(rlog_close(log), 0);

	/* Reopen: the zero tail ends the log, appends continue in the same
	 * segment, over the zeros. */
	log = open_with(f, 0, 0);
	tl_model_check(log, &f->m);
	append(f, log, 2, 50);
	assert_int_equal(tl_count_suffix(f->dir, ".seg"), 1);
	assert_int_equal(seg_size(f), size);
	tl_model_check(log, &f->m);
	assert_int_equal(rlog_close(log), 0);
	log = open_with(f, 0, 0);
	tl_model_check(log, &f->m);
	assert_int_equal(rlog_close(log), 0);
}

static void test_off_and_large_batches_only_append(void **state)
{
	struct fx *f = *state;
	struct rlog *log = open_with(f, 0, RLOG_PREALLOCATE_OFF);
	append(f, log, 1, 100);
	assert_in_range(seg_size(f) - records_end(f), 0, 16);
	assert_int_equal(rlog_close(log), 0);

	/* Default size, but one batch over 32 KiB: no zeros after it. */
	log = open_with(f, 0, 0);
	append(f, log, 40, 1024);
	assert_in_range(seg_size(f) - records_end(f), 0, 16);
	tl_model_check(log, &f->m);
	assert_int_equal(rlog_close(log), 0);
}

static void test_zeros_stop_at_segment_size(void **state)
{
	struct fx *f = *state;
	const uint64_t seg = 16384;
	struct rlog *log = open_with(f, seg, 0);
	append(f, log, 1, 100);
	assert_int_equal(seg_size(f), seg);
	for (int i = 0; i < 200; i++) {
		append(f, log, 1, 100);
	}
	assert_true(tl_count_suffix(f->dir, ".seg") > 1);
	assert_true(seg_size(f) <= seg + 256);
	tl_model_check(log, &f->m);
	assert_int_equal(rlog_close(log), 0);
	log = open_with(f, seg, 0);
	tl_model_check(log, &f->m);
	assert_int_equal(rlog_close(log), 0);
}

static void test_bad_size_refused(void **state)
{
	struct fx *f = *state;
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = f->dir;
	o.preallocate_bytes = RLOG_PREALLOCATE_MAX_BYTES + 1u;
	struct rlog *log = (struct rlog *)1;
	assert_int_equal(rlog_open(&o, &log), RLOG_EINVAL);
	assert_null(log);
	assert_non_null(strstr(rlog_open_errmsg(), "preallocate_bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default_grows_by_one_mib,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		test_off_and_large_batches_only_append, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_zeros_stop_at_segment_size,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_size_refused, fx_setup,
					    fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
