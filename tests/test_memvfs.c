/*
 * tests/test_memvfs.c: the simulated disk (sim/memvfs.c). Each test proves
 * that a behaviour of the VFS contract, or a fault of the crash model,
 * really happens: lost, kept, torn and ordered unsynced writes, device
 * options, failed fsync, ENOSPC, bit flips, lost directory operations, dead
 * handles, crash points, determinism and clones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvfs.h"

/* Seeds searched by the tests that need every fate kind to show up. */
#define SEEDS 300u

/* ---- Helpers. ---- */

static struct rlog_sim_disk *disk_new(const struct rlog_sim_disk_options *o,
				      uint64_t seed)
{
	struct rlog_sim_disk *disk = NULL;
	assert_int_equal(rlog_sim_disk_new(o, seed, &disk), 0);
	assert_non_null(disk);
	return disk;
}

static struct rlog_file *file_open(struct rlog_sim_disk *disk, const char *name,
				   int flags)
{
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	struct rlog_file *f = NULL;
	assert_int_equal(vfs->open(vfs, name, flags, &f), 0);
	assert_non_null(f);
	return f;
}

static void file_write(struct rlog_file *f, const void *buf, size_t len,
		       uint64_t offset)
{
	assert_int_equal(f->ops->pwrite(f, buf, len, offset), 0);
}

static void file_close(struct rlog_file *f)
{
	assert_int_equal(f->ops->close(f), 0);
}

static void dir_sync(struct rlog_sim_disk *disk)
{
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	assert_int_equal(vfs->sync_dir(vfs), 0);
}

/* Put a durable file of len bytes of value byte. */
static void put_fill(struct rlog_sim_disk *disk, const char *name, uint8_t byte,
		     size_t len)
{
	uint8_t *buf = malloc(len > 0 ? len : 1u);
	assert_non_null(buf);
	memset(buf, byte, len);
	assert_int_equal(rlog_sim_disk_put_file(disk, name, buf, len), 0);
	free(buf);
}

/* Read a whole file's durable or cached bytes; the caller frees. */
static uint8_t *read_all(struct rlog_sim_disk *disk, const char *name,
			 bool durable, size_t *len)
{
	uint8_t *data = NULL;
	assert_int_equal(
	    rlog_sim_disk_read_file(disk, name, durable, &data, len), 0);
	return data;
}

static bool file_exists(struct rlog_sim_disk *disk, const char *name,
			bool durable)
{
	uint64_t size;
	int rc = rlog_sim_disk_file_size(disk, name, durable, &size);
	assert_true(rc == 0 || rc == -ENOENT);
	return rc == 0;
}

/* New bytes of a write: never 0 and never the old fill 0xAA. */
static uint8_t new_byte(size_t i)
{
	return (uint8_t)(0x11u + i % 97u);
}

#define OLD_BYTE 0xAAu

enum piece_kind {
	PIECE_KEPT,
	PIECE_DROPPED,
	PIECE_ZEROED,
	PIECE_GARBAGE,
	PIECE_PARTIAL,
	PIECE_KINDS,
};

/* Classify bytes [start, end) of got: new_byte(i - off) everywhere, old
 * everywhere, zero everywhere, a new prefix followed by old, or garbage. */
static enum piece_kind classify(const uint8_t *got, size_t start, size_t end,
				size_t off)
{
	size_t n_new = 0;
	while (start + n_new < end &&
	       got[start + n_new] == new_byte(start + n_new - off)) {
		n_new++;
	}
	size_t n_old = 0;
	while (start + n_old < end && got[start + n_old] == OLD_BYTE) {
		n_old++;
	}
	size_t n_zero = 0;
	while (start + n_zero < end && got[start + n_zero] == 0) {
		n_zero++;
	}
	size_t len = end - start;
	if (n_new == len) {
		return PIECE_KEPT;
	}
	if (n_old == len) {
		return PIECE_DROPPED;
	}
	if (n_zero == len) {
		return PIECE_ZEROED;
	}
	size_t tail = n_new;
	while (tail < len && got[start + tail] == OLD_BYTE) {
		tail++;
	}
	return n_new > 0 && tail == len ? PIECE_PARTIAL : PIECE_GARBAGE;
}

/* Over a synced file of old_len bytes of OLD_BYTE, issue one unsynced write
 * of len new bytes at off, crash, and return the durable bytes. */
static uint8_t *torn_trial(const struct rlog_sim_disk_options *o, uint64_t seed,
			   size_t old_len, size_t off, size_t len,
			   size_t *got_len)
{
	struct rlog_sim_disk *disk = disk_new(o, seed);
	put_fill(disk, "seg", OLD_BYTE, old_len);
	struct rlog_file *f = file_open(disk, "seg", 0);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	for (size_t i = 0; i < len; i++) {
		buf[i] = new_byte(i);
	}
	file_write(f, buf, len, off);
	free(buf);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	file_close(f);
	uint8_t *got = read_all(disk, "seg", true, got_len);
	rlog_sim_disk_free(disk);
	return got;
}

/* ---- Names and basic semantics. ---- */

/* Opening a missing name without CREATE fails with -ENOENT. */
static void memvfs_open_missing_without_create_enoent(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	struct rlog_file *f = (struct rlog_file *)1;
	assert_int_equal(vfs->open(vfs, "nope", 0, &f), -ENOENT);
	assert_null(f);
	rlog_sim_disk_free(disk);
}

/* CREATE|EXCL on an existing name fails with -EEXIST; CREATE alone opens. */
static void memvfs_open_excl_existing_eexist(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	struct rlog_file *g = NULL;
	assert_int_equal(
	    vfs->open(vfs, "a", RLOG_VFS_CREATE | RLOG_VFS_EXCL, &g), -EEXIST);
	g = file_open(disk, "a", RLOG_VFS_CREATE);
	file_close(g);
	file_close(f);
	rlog_sim_disk_free(disk);
}

/* Empty, too long, slashed, dot and NULL names fail with -EINVAL. */
static void memvfs_bad_names_einval(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	char longest[RLOG_VFS_NAME_MAX + 2];
	memset(longest, 'x', sizeof(longest));
	longest[RLOG_VFS_NAME_MAX + 1] = '\0';
	const char *bad[] = {"", "a/b", "/", ".", "..", longest, NULL};
	struct rlog_file *f = NULL;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vfs->open(vfs, bad[i], RLOG_VFS_CREATE, &f),
				 -EINVAL);
		assert_int_equal(vfs->remove(vfs, bad[i]), -EINVAL);
		assert_int_equal(vfs->lock(vfs, bad[i], &f), -EINVAL);
	}
	longest[RLOG_VFS_NAME_MAX] = '\0';
	f = file_open(disk, longest, RLOG_VFS_CREATE);
	file_close(f);
	assert_int_equal(vfs->rename(vfs, longest, "a/b"), -EINVAL);
	rlog_sim_disk_free(disk);
}

/* A read past EOF is short, and a gap left by a write past EOF reads as
 * zeros. */
static void memvfs_pread_past_eof_short_gap_zero(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	file_write(f, "xy", 2, 10);
	uint8_t buf[32];
	size_t n = 99;
	assert_int_equal(f->ops->pread(f, buf, sizeof(buf), 0, &n), 0);
	assert_int_equal(n, 12);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(buf[i], 0);
	}
	assert_memory_equal(buf + 10, "xy", 2);
	assert_int_equal(f->ops->pread(f, buf, 4, 12, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(f->ops->pread(f, buf, 4, 100, &n), 0);
	assert_int_equal(n, 0);
	uint64_t size = 0;
	assert_int_equal(f->ops->size(f, &size), 0);
	assert_int_equal(size, 12);
	file_close(f);
	rlog_sim_disk_free(disk);
}

/* A file whose name was removed keeps working through its open handle. */
static void memvfs_removed_open_file_keeps_working(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	file_write(f, "abc", 3, 0);
	assert_int_equal(vfs->remove(vfs, "a"), 0);
	dir_sync(disk);
	assert_false(file_exists(disk, "a", false));
	file_write(f, "d", 1, 3);
	assert_int_equal(f->ops->sync(f), 0);
	uint8_t buf[4];
	size_t n = 0;
	assert_int_equal(f->ops->pread(f, buf, 4, 0, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "abcd", 4);
	file_close(f);
	assert_int_equal(rlog_sim_disk_bytes_used(disk), 0);
	rlog_sim_disk_free(disk);
}

/* list reports the current names and stops at a nonzero callback result. */
static int list_collect(void *arg, const char *name)
{
	char *seen = arg;
	strcat(seen, name);
	strcat(seen, ",");
	return 0;
}

static int list_stop(void *arg, const char *name)
{
	(void)name;
	(*(int *)arg)++;
	return 7;
}

static void memvfs_list_current_names_stops_on_nonzero(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	file_close(file_open(disk, "a", RLOG_VFS_CREATE));
	file_close(file_open(disk, "b", RLOG_VFS_CREATE));
	file_close(file_open(disk, "c", RLOG_VFS_CREATE));
	assert_int_equal(vfs->remove(vfs, "b"), 0);
	char seen[64] = "";
	assert_int_equal(vfs->list(vfs, list_collect, seen), 0);
	assert_non_null(strstr(seen, "a,"));
	assert_non_null(strstr(seen, "c,"));
	assert_null(strstr(seen, "b,"));
	int calls = 0;
	assert_int_equal(vfs->list(vfs, list_stop, &calls), 7);
	assert_int_equal(calls, 1);
	rlog_sim_disk_free(disk);
}

/* ---- Crash fates of unsynced data. ---- */

/* Under lose_unsynced an unsynced write is gone after a crash, while a
 * synced one survives. */
static void memvfs_unsynced_write_lose_unsynced_lost(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_LOSE_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	dir_sync(disk);
	file_write(f, "durable", 7, 0);
	assert_int_equal(f->ops->sync(f), 0);
	file_write(f, "-lost", 5, 7);
	assert_int_equal(rlog_sim_disk_pending_count(disk), 1);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	file_close(f);
	size_t len = 0;
	uint8_t *got = read_all(disk, "a", false, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(got, "durable", 7);
	free(got);
	rlog_sim_disk_free(disk);
}

/* Under keep_unsynced every unsynced write and create survives a crash. */
static void memvfs_unsynced_write_keep_unsynced_kept(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_KEEP_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	file_write(f, "kept", 4, 0);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	file_close(f);
	size_t len = 0;
	uint8_t *got = read_all(disk, "a", true, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(got, "kept", 4);
	free(got);
	rlog_sim_disk_free(disk);
}

/* A file whose data was synced but whose create was never sync_dir'ed
 * vanishes when the create is lost. */
static void memvfs_synced_data_unsynced_create_vanishes(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_LOSE_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	file_write(f, "data", 4, 0);
	assert_int_equal(f->ops->sync(f), 0);
	assert_true(file_exists(disk, "a", false));
	assert_false(file_exists(disk, "a", true));
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	file_close(f);
	assert_false(file_exists(disk, "a", false));
	assert_int_equal(rlog_sim_disk_bytes_used(disk), 0);
	rlog_sim_disk_free(disk);
}

/* Synced and sync_dir'ed data survives every random crash. */
static void memvfs_synced_write_random_crash_survives(void **state)
{
	(void)state;
	for (uint64_t seed = 0; seed < 50; seed++) {
		struct rlog_sim_disk *disk = disk_new(NULL, seed);
		struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
		file_write(f, "safe", 4, 0);
		assert_int_equal(f->ops->sync(f), 0);
		dir_sync(disk);
		file_write(f, "unsafe", 6, 4);
		assert_int_equal(rlog_sim_disk_crash(disk), 0);
		file_close(f);
		size_t len = 0;
		uint8_t *got = read_all(disk, "a", false, &len);
		assert_true(len >= 4);
		assert_memory_equal(got, "safe", 4);
		free(got);
		rlog_sim_disk_free(disk);
	}
}

/* A pending truncate is lost under lose_unsynced and kept under
 * keep_unsynced. */
static void memvfs_unsynced_truncate_follows_fate(void **state)
{
	(void)state;
	for (int keep = 0; keep < 2; keep++) {
		struct rlog_sim_disk_options o = {
		    .fate = keep ? RLOG_SIM_FATE_KEEP_UNSYNCED
				 : RLOG_SIM_FATE_LOSE_UNSYNCED};
		struct rlog_sim_disk *disk = disk_new(&o, 1);
		put_fill(disk, "a", 1, 1000);
		struct rlog_file *f = file_open(disk, "a", 0);
		assert_int_equal(f->ops->truncate(f, 10), 0);
		uint64_t size = 0;
		assert_int_equal(f->ops->size(f, &size), 0);
		assert_int_equal(size, 10);
		assert_int_equal(rlog_sim_disk_crash(disk), 0);
		file_close(f);
		assert_int_equal(
		    rlog_sim_disk_file_size(disk, "a", true, &size), 0);
		assert_int_equal(size, keep ? 10 : 1000);
		rlog_sim_disk_free(disk);
	}
}

/* Under random fates with 512-byte sectors, a torn write yields, across a
 * bounded seed search, kept, dropped, zeroed, garbage and partial sectors,
 * and whole writes kept and dropped. */
static void memvfs_torn_write_random_all_fates_appear(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.sector_size = 512};
	unsigned counts[PIECE_KINDS] = {0};
	unsigned whole_kept = 0;
	unsigned whole_dropped = 0;
	unsigned mixed = 0;
	for (uint64_t seed = 0; seed < SEEDS; seed++) {
		size_t len = 0;
		uint8_t *got = torn_trial(&o, seed, 4096, 0, 4096, &len);
		assert_int_equal(len, 4096);
		unsigned here[PIECE_KINDS] = {0};
		for (size_t s = 0; s < 8; s++) {
			here[classify(got, s * 512, s * 512 + 512, 0)]++;
		}
		for (int k = 0; k < PIECE_KINDS; k++) {
			counts[k] += here[k];
		}
		whole_kept += here[PIECE_KEPT] == 8;
		whole_dropped += here[PIECE_DROPPED] == 8;
		mixed += here[PIECE_KEPT] > 0 &&
			 (here[PIECE_ZEROED] > 0 || here[PIECE_GARBAGE] > 0);
		free(got);
	}
	for (int k = 0; k < PIECE_KINDS; k++) {
		assert_true(counts[k] > 0);
	}
	assert_true(whole_kept > 0);
	assert_true(whole_dropped > 0);
	assert_true(mixed > 0);
}

/* With 4096-byte sectors, tearing happens at 4096-byte boundaries only:
 * each 512-byte block inside a 4096-byte sector shares its fate unless the
 * sector is partial or garbage. */
static void memvfs_torn_write_4096_sectors_tear_on_4096(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.sector_size = 4096,
					  .atomic_sectors = true};
	unsigned kinds[PIECE_KINDS] = {0};
	for (uint64_t seed = 0; seed < 64; seed++) {
		size_t len = 0;
		uint8_t *got = torn_trial(&o, seed, 16384, 0, 16384, &len);
		for (size_t s = 0; s < 4; s++) {
			enum piece_kind k =
			    classify(got, s * 4096, s * 4096 + 4096, 0);
			assert_true(k == PIECE_KEPT || k == PIECE_DROPPED);
			kinds[k]++;
		}
		free(got);
	}
	assert_true(kinds[PIECE_KEPT] > 0 && kinds[PIECE_DROPPED] > 0);
}

/* With atomic_sectors, an unaligned torn write splits at absolute 512-byte
 * boundaries and every piece is kept or dropped whole, never partial,
 * zeroed or garbage. */
static void memvfs_atomic_sectors_never_partial(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.sector_size = 512,
					  .atomic_sectors = true};
	const size_t off = 100;
	const size_t len = 2000;
	const size_t bounds[] = {100, 512, 1024, 1536, 2048, 2100};
	unsigned kinds[PIECE_KINDS] = {0};
	unsigned mixed = 0;
	for (uint64_t seed = 0; seed < SEEDS; seed++) {
		size_t got_len = 0;
		uint8_t *got = torn_trial(&o, seed, 4096, off, len, &got_len);
		unsigned kept = 0;
		for (size_t p = 0; p + 1 < sizeof(bounds) / sizeof(bounds[0]);
		     p++) {
			enum piece_kind k =
			    classify(got, bounds[p], bounds[p + 1], off);
			assert_true(k == PIECE_KEPT || k == PIECE_DROPPED);
			kinds[k]++;
			kept += k == PIECE_KEPT;
		}
		mixed += kept > 0 && kept < 5;
		free(got);
	}
	assert_true(kinds[PIECE_KEPT] > 0 && kinds[PIECE_DROPPED] > 0);
	assert_true(mixed > 0);
}

/* With safe_append, bytes written past the old durable size are never
 * garbage (only new bytes or zeros), while sectors inside the old size can
 * still be garbage. */
static void memvfs_safe_append_never_garbage_past_eof(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.sector_size = 512,
					  .safe_append = true};
	const size_t old_len = 2048;
	const size_t off = 1024;
	const size_t len = 4096;
	unsigned garbage_inside = 0;
	unsigned zero_past = 0;
	unsigned kept_past = 0;
	for (uint64_t seed = 0; seed < SEEDS; seed++) {
		size_t got_len = 0;
		uint8_t *got =
		    torn_trial(&o, seed, old_len, off, len, &got_len);
		for (size_t i = old_len; i < got_len; i++) {
			assert_true(got[i] == 0 || got[i] == new_byte(i - off));
			zero_past += got[i] == 0;
			kept_past += got[i] != 0;
		}
		for (size_t s = off; s < old_len; s += 512) {
			garbage_inside +=
			    classify(got, s, s + 512, off) == PIECE_GARBAGE;
		}
		free(got);
	}
	assert_true(garbage_inside > 0);
	assert_true(zero_past > 0);
	assert_true(kept_past > 0);
}

/* Under ordered_writes, interleaved appends to two files survive only as a
 * prefix of the issue order (the write at the cut may be a byte prefix),
 * and none, all and partial outcomes all occur. */
static void memvfs_ordered_writes_only_prefixes(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_ORDERED};
	enum { WRITES = 6, CHUNK = 100 };
	unsigned saw_none = 0;
	unsigned saw_all = 0;
	unsigned saw_partial = 0;
	uint8_t buf[CHUNK];
	for (uint64_t seed = 0; seed < SEEDS; seed++) {
		struct rlog_sim_disk *disk = disk_new(&o, seed);
		struct rlog_file *a = file_open(disk, "a", RLOG_VFS_CREATE);
		struct rlog_file *b = file_open(disk, "b", RLOG_VFS_CREATE);
		dir_sync(disk);
		for (size_t w = 0; w < WRITES; w++) {
			for (size_t i = 0; i < CHUNK; i++) {
				buf[i] = new_byte(w * CHUNK + i);
			}
			file_write(a, buf, CHUNK, w * CHUNK);
			file_write(b, buf, CHUNK, w * CHUNK);
		}
		assert_int_equal(rlog_sim_disk_crash(disk), 0);
		file_close(a);
		file_close(b);
		size_t la = 0;
		size_t lb = 0;
		uint8_t *ga = read_all(disk, "a", true, &la);
		uint8_t *gb = read_all(disk, "b", true, &lb);
		for (size_t i = 0; i < la; i++) {
			assert_int_equal(ga[i], new_byte(i));
		}
		for (size_t i = 0; i < lb; i++) {
			assert_int_equal(gb[i], new_byte(i));
		}
		/* Global order a0 b0 a1 b1 ...: a holds ka whole writes plus
		 * pa bytes, b holds kb plus pb; a prefix needs ka == kb or
		 * ka == kb + 1, with at most the write at the cut partial. */
		size_t ka = la / CHUNK, pa = la % CHUNK;
		size_t kb = lb / CHUNK, pb = lb % CHUNK;
		assert_true(ka == kb || ka == kb + 1);
		if (pa > 0) {
			assert_true(ka == kb && pb == 0);
		}
		if (pb > 0) {
			assert_true(ka == kb + 1);
		}
		saw_none += la == 0 && lb == 0;
		saw_all += la == WRITES * CHUNK && lb == WRITES * CHUNK;
		saw_partial += pa > 0 || pb > 0;
		free(ga);
		free(gb);
		rlog_sim_disk_free(disk);
	}
	assert_true(saw_none > 0 && saw_all > 0 && saw_partial > 0);
}

/* Under random fates, a pending create is sometimes kept and sometimes
 * lost. */
static void memvfs_random_dir_fate_kept_and_lost(void **state)
{
	(void)state;
	unsigned kept = 0;
	unsigned lost = 0;
	for (uint64_t seed = 0; seed < 64; seed++) {
		struct rlog_sim_disk *disk = disk_new(NULL, seed);
		file_close(file_open(disk, "x", RLOG_VFS_CREATE));
		assert_int_equal(rlog_sim_disk_crash(disk), 0);
		if (file_exists(disk, "x", false)) {
			kept++;
		} else {
			lost++;
		}
		rlog_sim_disk_free(disk);
	}
	assert_true(kept > 0 && lost > 0);
}

/* ---- Directory durability. ---- */

/* A rename over an existing name is undone by a crash before sync_dir and
 * durable after it. */
static void memvfs_rename_durable_after_sync_dir(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_LOSE_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	put_fill(disk, "tmp", 1, 10);
	put_fill(disk, "cur", 2, 20);
	assert_int_equal(vfs->rename(vfs, "tmp", "cur"), 0);
	assert_false(file_exists(disk, "tmp", false));
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	uint64_t size = 0;
	assert_int_equal(rlog_sim_disk_file_size(disk, "tmp", false, &size), 0);
	assert_int_equal(size, 10);
	assert_int_equal(rlog_sim_disk_file_size(disk, "cur", false, &size), 0);
	assert_int_equal(size, 20);
	assert_int_equal(vfs->rename(vfs, "tmp", "cur"), 0);
	dir_sync(disk);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	assert_false(file_exists(disk, "tmp", false));
	assert_int_equal(rlog_sim_disk_file_size(disk, "cur", false, &size), 0);
	assert_int_equal(size, 10);
	assert_int_equal(rlog_sim_disk_bytes_used(disk), 10);
	rlog_sim_disk_free(disk);
}

/* A remove is undone by a crash before sync_dir (the name returns with its
 * durable bytes) and durable after it. */
static void memvfs_remove_durable_after_sync_dir(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_LOSE_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	put_fill(disk, "a", 3, 30);
	assert_int_equal(vfs->remove(vfs, "a"), 0);
	assert_int_equal(vfs->remove(vfs, "a"), -ENOENT);
	assert_true(file_exists(disk, "a", true));
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	assert_true(file_exists(disk, "a", false));
	assert_int_equal(vfs->remove(vfs, "a"), 0);
	dir_sync(disk);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	assert_false(file_exists(disk, "a", false));
	assert_int_equal(rlog_sim_disk_bytes_used(disk), 0);
	rlog_sim_disk_free(disk);
}

/* A create hit by the lost-directory-op fault is gone after a crash even
 * though sync_dir succeeded and the data was synced. */
static void memvfs_dir_lost_create_gone_after_sync_dir(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_KEEP_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_DIR_LOST, "a"), 0);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	file_write(f, "x", 1, 0);
	assert_int_equal(f->ops->sync(f), 0);
	dir_sync(disk);
	assert_true(file_exists(disk, "a", false));
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	file_close(f);
	assert_false(file_exists(disk, "a", false));
	assert_int_equal(rlog_sim_disk_fault_count(disk), 1);
	rlog_sim_disk_free(disk);
}

/* A lost remove brings the name back with its durable bytes, and a lost
 * rename leaves the old name, despite a successful sync_dir. */
static void memvfs_dir_lost_remove_rename_undone(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_KEEP_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	put_fill(disk, "a", 4, 40);
	put_fill(disk, "b", 5, 50);
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_DIR_LOST, "a"), 0);
	assert_int_equal(vfs->remove(vfs, "a"), 0);
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_DIR_LOST, NULL), 0);
	assert_int_equal(vfs->rename(vfs, "b", "c"), 0);
	dir_sync(disk);
	assert_false(file_exists(disk, "a", false));
	assert_false(file_exists(disk, "b", false));
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	uint64_t size = 0;
	assert_int_equal(rlog_sim_disk_file_size(disk, "a", false, &size), 0);
	assert_int_equal(size, 40);
	assert_int_equal(rlog_sim_disk_file_size(disk, "b", false, &size), 0);
	assert_int_equal(size, 50);
	assert_false(file_exists(disk, "c", false));
	rlog_sim_disk_free(disk);
}

/* A failed sync_dir returns -EIO and leaves the create pending, so a crash
 * that loses unsynced ops loses it. */
static void memvfs_sync_dir_fault_eio_keeps_pending(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_LOSE_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	file_close(file_open(disk, "a", RLOG_VFS_CREATE));
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_SYNC_DIR, NULL), 0);
	assert_int_equal(vfs->sync_dir(vfs), -EIO);
	assert_int_equal(rlog_sim_disk_pending_count(disk), 1);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	assert_false(file_exists(disk, "a", false));
	rlog_sim_disk_free(disk);
}

/* ---- I/O faults. ---- */

/* A failed fsync drops the pending data from the durable path: reads still
 * return it before the crash, a later successful sync does not bring it
 * back, and after the crash it is gone even under keep_unsynced. */
static void memvfs_failed_fsync_drops_pending_data(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_KEEP_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	dir_sync(disk);
	file_write(f, "AAAA", 4, 0);
	assert_int_equal(f->ops->sync(f), 0);
	file_write(f, "BBBB", 4, 4);
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_SYNC, "a"), 0);
	assert_int_equal(f->ops->sync(f), -EIO);
	uint8_t buf[12];
	size_t n = 0;
	assert_int_equal(f->ops->pread(f, buf, 8, 0, &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "AAAABBBB", 8);
	file_write(f, "CCCC", 4, 8);
	assert_int_equal(f->ops->sync(f), 0);
	size_t len = 0;
	uint8_t *dur = read_all(disk, "a", true, &len);
	assert_int_equal(len, 12);
	assert_memory_equal(dur, "AAAA\0\0\0\0CCCC", 12);
	free(dur);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	file_close(f);
	dur = read_all(disk, "a", false, &len);
	assert_int_equal(len, 12);
	assert_memory_equal(dur, "AAAA\0\0\0\0CCCC", 12);
	free(dur);
	rlog_sim_disk_free(disk);
}

/* pread fails with -EIO under a read fault and reads nothing. */
static void memvfs_read_fault_eio(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	put_fill(disk, "a", 9, 10);
	struct rlog_file *f = file_open(disk, "a", 0);
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_READ, "a"), 0);
	uint8_t buf[10];
	size_t n = 5;
	assert_int_equal(f->ops->pread(f, buf, 10, 0, &n), -EIO);
	assert_int_equal(n, 0);
	assert_int_equal(f->ops->pread(f, buf, 10, 0, &n), 0);
	assert_int_equal(n, 10);
	file_close(f);
	rlog_sim_disk_free(disk);
}

/* A write fault returns -EIO after writing a prefix of the bytes, and
 * across seeds both empty and non-empty prefixes occur. */
static void memvfs_write_fault_eio_writes_prefix(void **state)
{
	(void)state;
	unsigned empty = 0;
	unsigned some = 0;
	uint8_t buf[100];
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = new_byte(i);
	}
	for (uint64_t seed = 0; seed < 200; seed++) {
		struct rlog_sim_disk *disk = disk_new(NULL, seed);
		struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
		assert_int_equal(
		    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_WRITE, NULL),
		    0);
		assert_int_equal(f->ops->pwrite(f, buf, sizeof(buf), 0), -EIO);
		size_t len = 0;
		uint8_t *got = read_all(disk, "a", false, &len);
		assert_true(len <= sizeof(buf));
		assert_memory_equal(got, buf, len);
		empty += len == 0;
		some += len > 0 && len < sizeof(buf);
		free(got);
		file_close(f);
		rlog_sim_disk_free(disk);
	}
	assert_true(empty > 0 && some > 0);
}

/* At the disk size limit a write stores the prefix that fits and returns
 * -ENOSPC; growing truncates fail too, overwrites still work, and a
 * durable remove frees the space. */
static void memvfs_disk_full_short_write_enospc(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.disk_size_max_bytes = 1000};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	uint8_t buf[600];
	memset(buf, 7, sizeof(buf));
	struct rlog_file *a = file_open(disk, "a", RLOG_VFS_CREATE);
	struct rlog_file *b = file_open(disk, "b", RLOG_VFS_CREATE);
	file_write(a, buf, 600, 0);
	assert_int_equal(b->ops->pwrite(b, buf, 600, 0), -ENOSPC);
	uint64_t size = 0;
	assert_int_equal(b->ops->size(b, &size), 0);
	assert_int_equal(size, 400);
	assert_int_equal(rlog_sim_disk_bytes_used(disk), 1000);
	assert_int_equal(b->ops->pwrite(b, buf, 1, 400), -ENOSPC);
	assert_int_equal(b->ops->truncate(b, 401), -ENOSPC);
	file_write(a, buf, 600, 0);
	file_close(a);
	assert_int_equal(vfs->remove(vfs, "a"), 0);
	dir_sync(disk);
	assert_int_equal(rlog_sim_disk_bytes_used(disk), 400);
	file_write(b, buf, 600, 400);
	file_close(b);
	rlog_sim_disk_free(disk);
}

/* Writes and truncates past the file size cap fail with -EFBIG, and
 * creating more than files_max files fails with -ENOSPC. */
static void memvfs_limits_efbig_enospc(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.file_size_max_bytes = 4096,
					  .files_max = 2};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	struct rlog_file *a = file_open(disk, "a", RLOG_VFS_CREATE);
	uint8_t buf[200] = {0};
	assert_int_equal(a->ops->pwrite(a, buf, 200, 4000), -EFBIG);
	assert_int_equal(a->ops->pwrite(a, buf, 1, UINT64_MAX), -EFBIG);
	assert_int_equal(a->ops->truncate(a, 4097), -EFBIG);
	file_write(a, buf, 96, 4000);
	struct rlog_file *b = file_open(disk, "b", RLOG_VFS_CREATE);
	struct rlog_file *c = NULL;
	assert_int_equal(vfs->open(vfs, "c", RLOG_VFS_CREATE, &c), -ENOSPC);
	assert_int_equal(rlog_sim_disk_put_file(disk, "c", buf, 1), -ENOSPC);
	file_close(a);
	file_close(b);
	struct rlog_sim_disk_options bad = {.sector_size = 1000};
	struct rlog_sim_disk *none = NULL;
	assert_int_equal(rlog_sim_disk_new(&bad, 1, &none), -EINVAL);
	rlog_sim_disk_free(disk);
}

/* rlog_sim_disk_flip_bit changes exactly the chosen bit in both the
 * durable bytes and the cached view. */
static void memvfs_bit_flip_changes_one_bit(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	put_fill(disk, "a", 0x0f, 100);
	struct rlog_file *f = file_open(disk, "a", 0);
	file_write(f, "z", 1, 99);
	assert_int_equal(rlog_sim_disk_flip_bit(disk, "a", 10, 3), 0);
	assert_int_equal(rlog_sim_disk_flip_bit(disk, "a", 100, 0), -EINVAL);
	assert_int_equal(rlog_sim_disk_flip_bit(disk, "a", 0, 8), -EINVAL);
	assert_int_equal(rlog_sim_disk_flip_bit(disk, "zz", 0, 0), -ENOENT);
	for (int durable = 0; durable < 2; durable++) {
		size_t len = 0;
		uint8_t *got = read_all(disk, "a", durable != 0, &len);
		assert_int_equal(len, 100);
		for (size_t i = 0; i < 99; i++) {
			assert_int_equal(got[i], i == 10 ? 0x07 : 0x0f);
		}
		free(got);
	}
	file_close(f);
	rlog_sim_disk_free(disk);
}

/* Count the bits that differ between two equal-length buffers. */
static unsigned bits_differ(const uint8_t *a, const uint8_t *b, size_t len)
{
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		for (uint8_t x = (uint8_t)(a[i] ^ b[i]); x != 0;
		     x = (uint8_t)(x & (x - 1u))) {
			bits++;
		}
	}
	return bits;
}

/* A PRNG-chosen flip, direct or as a fault at an op number, changes exactly
 * one bit of the durable data. */
static void memvfs_random_bit_flip_changes_one_bit(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 9);
	assert_int_equal(rlog_sim_disk_flip_random_bit(disk, NULL), -ENOENT);
	put_fill(disk, "a", 0x55, 64);
	size_t len = 0;
	uint8_t *before = read_all(disk, "a", true, &len);
	assert_int_equal(rlog_sim_disk_flip_random_bit(disk, NULL), 0);
	uint8_t *after = read_all(disk, "a", true, &len);
	assert_int_equal(bits_differ(before, after, len), 1);
	free(before);
	before = after;
	uint64_t next = rlog_sim_disk_op_count(disk) + 1u;
	assert_int_equal(
	    rlog_sim_disk_fault_at(disk, RLOG_SIM_FAULT_BIT_FLIP, next), 0);
	struct rlog_file *f = file_open(disk, "a", 0);
	after = read_all(disk, "a", true, &len);
	assert_int_equal(bits_differ(before, after, len), 1);
	free(before);
	free(after);
	file_close(f);
	rlog_sim_disk_free(disk);
}

/* A generic EIO fault at an op number fails exactly that op with no
 * effect, and a fault at a passed op number is refused. */
static void memvfs_fault_at_op_number_fails_that_op(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	uint64_t next = rlog_sim_disk_op_count(disk) + 1u;
	assert_int_equal(rlog_sim_disk_fault_at(disk, RLOG_SIM_FAULT_EIO, next),
			 0);
	struct rlog_file *f = NULL;
	assert_int_equal(vfs->open(vfs, "a", RLOG_VFS_CREATE, &f), -EIO);
	assert_null(f);
	assert_false(file_exists(disk, "a", false));
	f = file_open(disk, "a", RLOG_VFS_CREATE);
	assert_int_equal(rlog_sim_disk_fault_at(disk, RLOG_SIM_FAULT_EIO, 1),
			 -EINVAL);
	next = rlog_sim_disk_op_count(disk) + 1u;
	assert_int_equal(rlog_sim_disk_fault_at(disk, RLOG_SIM_FAULT_EIO, next),
			 0);
	uint64_t size = 0;
	assert_int_equal(f->ops->size(f, &size), -EIO);
	assert_int_equal(f->ops->size(f, &size), 0);
	file_close(f);
	rlog_sim_disk_free(disk);
}

/* A fault rate of one million per million hits every eligible op and a rate
 * of zero none. */
static void memvfs_random_fault_rate_fires(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {0};
	o.fault_rate_ppm[RLOG_SIM_FAULT_READ] = 1000000;
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	put_fill(disk, "a", 1, 10);
	struct rlog_file *f = file_open(disk, "a", 0);
	uint8_t buf[10];
	size_t n = 0;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(f->ops->pread(f, buf, 10, 0, &n), -EIO);
	}
	assert_int_equal(rlog_sim_disk_fault_count(disk), 10);
	assert_int_equal(
	    rlog_sim_disk_set_fault_rate(disk, RLOG_SIM_FAULT_READ, 0), 0);
	assert_int_equal(f->ops->pread(f, buf, 10, 0, &n), 0);
	assert_int_equal(
	    rlog_sim_disk_set_fault_rate(disk, RLOG_SIM_FAULT_READ, 1000001),
	    -EINVAL);
	file_close(f);
	rlog_sim_disk_free(disk);
}

/* A scheduled no-space fault makes pwrite store a prefix and return
 * -ENOSPC and makes truncate fail with no change; a close fault still
 * frees the handle. */
static void memvfs_nospace_fault_enospc_close_fault_frees(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 4);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	uint8_t buf[300];
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = new_byte(i);
	}
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_NOSPACE, "a"), 0);
	assert_int_equal(f->ops->pwrite(f, buf, sizeof(buf), 0), -ENOSPC);
	uint64_t size = 0;
	assert_int_equal(f->ops->size(f, &size), 0);
	assert_true(size <= sizeof(buf));
	size_t len = 0;
	uint8_t *got = read_all(disk, "a", false, &len);
	assert_memory_equal(got, buf, len);
	free(got);
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_NOSPACE, "a"), 0);
	assert_int_equal(f->ops->truncate(f, size + 10u), -ENOSPC);
	uint64_t after = 0;
	assert_int_equal(f->ops->size(f, &after), 0);
	assert_int_equal(after, size);
	assert_int_equal(
	    rlog_sim_disk_fault_next(disk, RLOG_SIM_FAULT_EIO, "a"), 0);
	assert_int_equal(f->ops->close(f), -EIO);
	rlog_sim_disk_free(disk);
}

/* ---- Crashes, handles and locks. ---- */

/* After a crash every old handle answers -EIO to everything but close,
 * which frees it (ASan checks the free). */
static void memvfs_dead_handle_after_crash_eio(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	put_fill(disk, "a", 1, 10);
	struct rlog_file *f = file_open(disk, "a", 0);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	uint8_t buf[4];
	size_t n = 3;
	uint64_t size = 0;
	assert_int_equal(f->ops->pread(f, buf, 4, 0, &n), -EIO);
	assert_int_equal(n, 0);
	assert_int_equal(f->ops->pwrite(f, buf, 4, 0), -EIO);
	assert_int_equal(f->ops->sync(f), -EIO);
	assert_int_equal(f->ops->truncate(f, 0), -EIO);
	assert_int_equal(f->ops->size(f, &size), -EIO);
	struct rlog_file *g = file_open(disk, "a", 0);
	assert_int_equal(g->ops->size(g, &size), 0);
	assert_int_equal(size, 10);
	assert_int_equal(f->ops->close(f), 0);
	file_close(g);
	rlog_sim_disk_free(disk);
}

/* Once the crash point is reached every call returns -EIO without effect,
 * the op count stops, close still frees, and crash revives the disk. */
static void memvfs_crash_at_kills_machine(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_KEEP_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	uint64_t k = rlog_sim_disk_op_count(disk) + 2u;
	rlog_sim_disk_set_crash_at(disk, k);
	file_write(f, "1", 1, 0);
	assert_false(rlog_sim_disk_crashed(disk));
	file_write(f, "2", 1, 1);
	assert_true(rlog_sim_disk_crashed(disk));
	assert_int_equal(rlog_sim_disk_op_count(disk), k);
	assert_int_equal(f->ops->pwrite(f, "3", 1, 2), -EIO);
	struct rlog_file *g = NULL;
	assert_int_equal(vfs->open(vfs, "b", RLOG_VFS_CREATE, &g), -EIO);
	assert_int_equal(vfs->sync_dir(vfs), -EIO);
	assert_int_equal(rlog_sim_disk_op_count(disk), k);
	assert_int_equal(f->ops->close(f), -EIO);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	assert_false(rlog_sim_disk_crashed(disk));
	size_t len = 0;
	uint8_t *got = read_all(disk, "a", false, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(got, "12", 2);
	free(got);
	assert_false(file_exists(disk, "b", false));
	file_close(file_open(disk, "b", RLOG_VFS_CREATE));
	rlog_sim_disk_set_crash_at(disk, 0);
	assert_true(rlog_sim_disk_crashed(disk));
	rlog_sim_disk_free(disk);
}

/* A second lock of a locked file gives -EWOULDBLOCK until the first is
 * closed, and a crash releases every lock. */
static void memvfs_lock_second_ewouldblock(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	struct rlog_file *l1 = NULL;
	struct rlog_file *l2 = NULL;
	assert_int_equal(vfs->lock(vfs, "LOCK", &l1), 0);
	assert_int_equal(vfs->lock(vfs, "LOCK", &l2), -EWOULDBLOCK);
	assert_null(l2);
	file_close(l1);
	assert_int_equal(vfs->lock(vfs, "LOCK", &l1), 0);
	dir_sync(disk);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	assert_int_equal(vfs->lock(vfs, "LOCK", &l2), 0);
	assert_int_equal(l1->ops->close(l1), 0);
	file_close(l2);
	rlog_sim_disk_free(disk);
}

/* Handles left open when the disk is freed become orphans: -EIO, and close
 * frees them. */
static void memvfs_orphan_handle_close_frees(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 1);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	rlog_sim_disk_free(disk);
	assert_int_equal(f->ops->sync(f), -EIO);
	assert_int_equal(f->ops->close(f), 0);
}

/* A scripted workload with random fates, tearing and random faults. */
static uint64_t workload(uint64_t seed, uint64_t *content)
{
	struct rlog_sim_disk_options o = {.trace_lines = 16};
	o.fault_rate_ppm[RLOG_SIM_FAULT_WRITE] = 50000;
	o.fault_rate_ppm[RLOG_SIM_FAULT_BIT_FLIP] = 20000;
	struct rlog_sim_disk *disk = disk_new(&o, seed);
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	uint8_t buf[3000];
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = new_byte(i);
	}
	for (int round = 0; round < 3; round++) {
		struct rlog_file *f = file_open(disk, "log", RLOG_VFS_CREATE);
		for (int w = 0; w < 8; w++) {
			(void)f->ops->pwrite(f, buf, sizeof(buf),
					     (uint64_t)w * 1000u);
			if (w == 3) {
				(void)f->ops->sync(f);
				(void)vfs->sync_dir(vfs);
			}
		}
		(void)vfs->rename(vfs, "log", "old");
		assert_int_equal(rlog_sim_disk_crash(disk), 0);
		assert_int_equal(f->ops->close(f), 0);
	}
	uint64_t h = rlog_sim_disk_trace_hash(disk);
	*content = rlog_sim_disk_content_hash(disk, false);
	rlog_sim_disk_free(disk);
	return h;
}

/* The same seed gives the same trace hash and contents; different seeds
 * give different fates. */
static void memvfs_same_seed_same_trace_hash(void **state)
{
	(void)state;
	uint64_t c1 = 0;
	uint64_t c2 = 0;
	uint64_t c3 = 0;
	uint64_t h1 = workload(11, &c1);
	uint64_t h2 = workload(11, &c2);
	uint64_t h3 = workload(12, &c3);
	assert_true(h1 == h2);
	assert_true(c1 == c2);
	assert_true(h1 != h3);
	assert_true(c1 != c3);
}

/* A clone has the same state but evolves independently: crashing or
 * writing one does not touch the other, and equal seeds give equal
 * fates. */
static void memvfs_clone_independent(void **state)
{
	(void)state;
	struct rlog_sim_disk *disk = disk_new(NULL, 3);
	struct rlog_file *f = file_open(disk, "a", RLOG_VFS_CREATE);
	uint8_t buf[4096];
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = new_byte(i);
	}
	file_write(f, buf, sizeof(buf), 0);
	struct rlog_sim_disk *c1 = NULL;
	struct rlog_sim_disk *c2 = NULL;
	assert_int_equal(rlog_sim_disk_clone(disk, &c1), 0);
	assert_int_equal(rlog_sim_disk_clone(disk, &c2), 0);
	assert_int_equal(rlog_sim_disk_pending_count(c1), 2);
	assert_true(rlog_sim_disk_trace_hash(c1) ==
		    rlog_sim_disk_trace_hash(disk));
	assert_int_equal(rlog_sim_disk_crash(c1), 0);
	assert_int_equal(rlog_sim_disk_crash(c2), 0);
	assert_true(rlog_sim_disk_content_hash(c1, true) ==
		    rlog_sim_disk_content_hash(c2, true));
	assert_int_equal(rlog_sim_disk_pending_count(disk), 2);
	file_write(f, "x", 1, 0);
	uint64_t size = 0;
	assert_int_equal(f->ops->size(f, &size), 0);
	assert_int_equal(size, 4096);
	unsigned differ = 0;
	for (uint64_t seed = 0; seed < 16; seed++) {
		struct rlog_sim_disk *c = NULL;
		assert_int_equal(rlog_sim_disk_clone(disk, &c), 0);
		rlog_sim_disk_reseed(c, seed);
		assert_int_equal(rlog_sim_disk_crash(c), 0);
		differ += rlog_sim_disk_content_hash(c, true) !=
			  rlog_sim_disk_content_hash(c1, true);
		rlog_sim_disk_free(c);
	}
	assert_true(differ > 0);
	rlog_sim_disk_set_fate(disk, RLOG_SIM_FATE_KEEP_UNSYNCED);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	assert_int_equal(rlog_sim_disk_file_size(disk, "a", true, &size), 0);
	assert_int_equal(size, 4096);
	file_close(f);
	rlog_sim_disk_free(c1);
	rlog_sim_disk_free(c2);
	rlog_sim_disk_free(disk);
}

/* The readable trace records ops and the fates chosen at a crash. */
static void memvfs_trace_dump_shows_ops_and_fates(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.trace_lines = 64};
	bool saw_torn = false;
	for (uint64_t seed = 0; seed < 64 && !saw_torn; seed++) {
		struct rlog_sim_disk *disk = disk_new(&o, seed);
		struct rlog_file *f = file_open(disk, "3.seg", RLOG_VFS_CREATE);
		uint8_t buf[1024] = {1};
		file_write(f, buf, sizeof(buf), 4096);
		assert_int_equal(rlog_sim_disk_crash(disk), 0);
		file_close(f);
		FILE *out = tmpfile();
		assert_non_null(out);
		rlog_sim_disk_trace_dump(disk, out);
		rewind(out);
		char text[4096];
		size_t n = fread(text, 1, sizeof(text) - 1u, out);
		text[n] = '\0';
		fclose(out);
		assert_non_null(strstr(text, "pwrite 3.seg @4096+1024 = 0"));
		assert_non_null(strstr(text, "crash: create 3.seg"));
		saw_torn = strstr(text, "crash: 3.seg write @4096+1024 torn: "
					"s0") != NULL;
		rlog_sim_disk_free(disk);
	}
	assert_true(saw_torn);
}

/* put_file makes a durable file that survives a crash, and list_files
 * reports durable and current sizes. */
static int list_sizes(void *arg, const char *name, uint64_t size)
{
	uint64_t *sizes = arg;
	sizes[name[0] - 'a'] = size;
	return 0;
}

static void memvfs_put_file_durable_list_sizes(void **state)
{
	(void)state;
	struct rlog_sim_disk_options o = {.fate = RLOG_SIM_FATE_LOSE_UNSYNCED};
	struct rlog_sim_disk *disk = disk_new(&o, 1);
	put_fill(disk, "a", 1, 10);
	struct rlog_file *f = file_open(disk, "a", 0);
	file_write(f, "x", 1, 99);
	uint64_t sizes[2] = {0, 0};
	assert_int_equal(
	    rlog_sim_disk_list_files(disk, true, list_sizes, sizes), 0);
	assert_int_equal(sizes[0], 10);
	assert_int_equal(
	    rlog_sim_disk_list_files(disk, false, list_sizes, sizes), 0);
	assert_int_equal(sizes[0], 100);
	assert_int_equal(rlog_sim_disk_bytes_used(disk), 100);
	assert_int_equal(rlog_sim_disk_crash(disk), 0);
	file_close(f);
	assert_int_equal(
	    rlog_sim_disk_list_files(disk, false, list_sizes, sizes), 0);
	assert_int_equal(sizes[0], 10);
	assert_int_equal(rlog_sim_disk_bytes_used(disk), 10);
	rlog_sim_disk_free(disk);
}

/* ---- Randomized check against a shadow model. ---- */

enum { SH_NAMES = 4, SH_HANDLES = 4, SH_INODES = 1024, SH_OPS = 400 };

/* What reads must see: inodes with their bytes, names and handles. */
struct shadow {
	uint8_t *bytes[SH_INODES];
	size_t len[SH_INODES];
	int ninodes;
	int name_ino[SH_NAMES]; /* -1 when the name does not exist */
	struct rlog_file *handle[SH_HANDLES];
	int handle_ino[SH_HANDLES];
};

static const char *const sh_names[SH_NAMES] = {"a", "b", "c", "d"};

static int shadow_new_inode(struct shadow *sh, const uint8_t *data, size_t len)
{
	assert_true(sh->ninodes < SH_INODES);
	int i = sh->ninodes++;
	sh->bytes[i] = malloc(len > 0 ? len : 1u);
	assert_non_null(sh->bytes[i]);
	if (len > 0) {
		memcpy(sh->bytes[i], data, len);
	}
	sh->len[i] = len;
	return i;
}

static void shadow_resize(struct shadow *sh, int i, size_t len)
{
	uint8_t *p = realloc(sh->bytes[i], len > 0 ? len : 1u);
	assert_non_null(p);
	if (len > sh->len[i]) {
		memset(p + sh->len[i], 0, len - sh->len[i]);
	}
	sh->bytes[i] = p;
	sh->len[i] = len;
}

/* The whole file behind handle h must read as the shadow says. */
static void shadow_check_handle(struct shadow *sh, int h)
{
	struct rlog_file *f = sh->handle[h];
	int i = sh->handle_ino[h];
	uint64_t size = 0;
	assert_int_equal(f->ops->size(f, &size), 0);
	assert_int_equal(size, sh->len[i]);
	uint8_t *buf = malloc(sh->len[i] + 16u);
	assert_non_null(buf);
	size_t n = 0;
	assert_int_equal(f->ops->pread(f, buf, sh->len[i] + 16u, 0, &n), 0);
	assert_int_equal(n, sh->len[i]);
	assert_memory_equal(buf, sh->bytes[i], n);
	free(buf);
}

/* After a crash: close the dead handles, check the current view equals the
 * durable one with nothing pending, and reload the shadow from it. */
static void shadow_after_crash(struct shadow *sh, struct rlog_sim_disk *disk)
{
	for (int h = 0; h < SH_HANDLES; h++) {
		if (sh->handle[h] != NULL) {
			assert_int_equal(
			    sh->handle[h]->ops->close(sh->handle[h]), 0);
			sh->handle[h] = NULL;
		}
	}
	assert_int_equal(rlog_sim_disk_pending_count(disk), 0);
	assert_true(rlog_sim_disk_content_hash(disk, true) ==
		    rlog_sim_disk_content_hash(disk, false));
	uint64_t total = 0;
	for (int k = 0; k < SH_NAMES; k++) {
		sh->name_ino[k] = -1;
		if (!file_exists(disk, sh_names[k], false)) {
			continue;
		}
		size_t len = 0;
		uint8_t *data = read_all(disk, sh_names[k], false, &len);
		sh->name_ino[k] = shadow_new_inode(sh, data, len);
		total += len;
		free(data);
	}
	assert_int_equal(rlog_sim_disk_bytes_used(disk), total);
}

/* Open name k (creating it) into free handle slot h. */
static void shadow_open(struct shadow *sh, struct rlog_sim_disk *disk, int k,
			int h)
{
	sh->handle[h] = file_open(disk, sh_names[k], RLOG_VFS_CREATE);
	if (sh->name_ino[k] < 0) {
		sh->name_ino[k] = shadow_new_inode(sh, NULL, 0);
	}
	sh->handle_ino[h] = sh->name_ino[k];
}

/* Write random bytes at a random offset through handle h. */
static void shadow_write(struct shadow *sh, int h, struct rlog_sim_prng *prng,
			 uint8_t *buf)
{
	int i = sh->handle_ino[h];
	size_t off = (size_t)rlog_sim_prng_below(prng, 3000);
	size_t len = (size_t)rlog_sim_prng_below(prng, 1500);
	rlog_sim_prng_fill(prng, buf, len);
	file_write(sh->handle[h], buf, len, off);
	if (len > 0 && off + len > sh->len[i]) {
		shadow_resize(sh, i, off + len);
	}
	if (len > 0) {
		memcpy(sh->bytes[i] + off, buf, len);
	}
}

/* Run one random op on the disk and the shadow alike. */
static void shadow_step(struct shadow *sh, struct rlog_sim_disk *disk,
			struct rlog_sim_prng *prng, uint8_t *buf)
{
	struct rlog_vfs *vfs = rlog_sim_disk_vfs(disk);
	int k = (int)rlog_sim_prng_below(prng, SH_NAMES);
	int k2 = (int)rlog_sim_prng_below(prng, SH_NAMES);
	int h = (int)rlog_sim_prng_below(prng, SH_HANDLES);
	struct rlog_file *f = sh->handle[h];
	int i = sh->handle_ino[h];
	switch (rlog_sim_prng_below(prng, 12)) {
	case 0:
		if (f == NULL) {
			shadow_open(sh, disk, k, h);
		}
		break;
	case 1:
	case 2:
		if (f != NULL) {
			shadow_write(sh, h, prng, buf);
		}
		break;
	case 3:
		if (f != NULL) {
			size_t size = (size_t)rlog_sim_prng_below(prng, 5000);
			assert_int_equal(f->ops->truncate(f, size), 0);
			shadow_resize(sh, i, size);
		}
		break;
	case 4:
		if (f != NULL) {
			int rc = f->ops->sync(f);
			assert_true(rc == 0 || rc == -EIO);
		}
		break;
	case 5:
		assert_int_equal(vfs->remove(vfs, sh_names[k]),
				 sh->name_ino[k] < 0 ? -ENOENT : 0);
		sh->name_ino[k] = -1;
		break;
	case 6:
		assert_int_equal(vfs->rename(vfs, sh_names[k], sh_names[k2]),
				 sh->name_ino[k] < 0 ? -ENOENT : 0);
		if (sh->name_ino[k] >= 0 && k != k2) {
			sh->name_ino[k2] = sh->name_ino[k];
			sh->name_ino[k] = -1;
		}
		break;
	case 7: {
		int rc = vfs->sync_dir(vfs);
		assert_true(rc == 0 || rc == -EIO);
		break;
	}
	case 8:
		if (f != NULL) {
			file_close(f);
			sh->handle[h] = NULL;
		}
		break;
	case 9:
		if (f != NULL) {
			shadow_check_handle(sh, h);
		}
		break;
	case 10: {
		struct rlog_sim_disk *c = NULL;
		assert_int_equal(rlog_sim_disk_clone(disk, &c), 0);
		assert_int_equal(rlog_sim_disk_crash(c), 0);
		assert_true(rlog_sim_disk_content_hash(c, true) ==
			    rlog_sim_disk_content_hash(c, false));
		rlog_sim_disk_free(c);
		break;
	}
	default:
		if (rlog_sim_prng_chance(prng, 1, 4)) {
			assert_int_equal(rlog_sim_disk_crash(disk), 0);
			shadow_after_crash(sh, disk);
		}
		break;
	}
}

/* Random ops, crashes and clones under every fate mode and device option,
 * with sync, sync_dir and directory faults, always read back what the
 * shadow model predicts, and every crash leaves current == durable. */
static void memvfs_random_ops_match_shadow_model(void **state)
{
	(void)state;
	uint8_t *buf = malloc(1500);
	assert_non_null(buf);
	for (uint64_t seed = 0; seed < 48; seed++) {
		struct rlog_sim_disk_options o = {
		    .sector_size = seed % 2 ? 512u : 4096u,
		    .fate = (enum rlog_sim_fate)(seed % 4),
		    .atomic_sectors = seed % 3 == 0,
		    .safe_append = seed % 5 == 0,
		    .trace_lines = seed % 7 == 0 ? 8u : 0u};
		o.fault_rate_ppm[RLOG_SIM_FAULT_SYNC] = 50000;
		o.fault_rate_ppm[RLOG_SIM_FAULT_SYNC_DIR] = 50000;
		o.fault_rate_ppm[RLOG_SIM_FAULT_DIR_LOST] = 50000;
		struct rlog_sim_disk *disk = disk_new(&o, seed);
		struct rlog_sim_prng prng;
		rlog_sim_prng_init(&prng, seed);
		struct shadow sh;
		memset(&sh, 0, sizeof(sh));
		for (int k = 0; k < SH_NAMES; k++) {
			sh.name_ino[k] = -1;
		}
		for (int step = 0; step < SH_OPS; step++) {
			shadow_step(&sh, disk, &prng, buf);
		}
		assert_int_equal(rlog_sim_disk_crash(disk), 0);
		shadow_after_crash(&sh, disk);
		for (int i = 0; i < sh.ninodes; i++) {
			free(sh.bytes[i]);
		}
		rlog_sim_disk_free(disk);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(memvfs_open_missing_without_create_enoent),
	    cmocka_unit_test(memvfs_open_excl_existing_eexist),
	    cmocka_unit_test(memvfs_bad_names_einval),
	    cmocka_unit_test(memvfs_pread_past_eof_short_gap_zero),
	    cmocka_unit_test(memvfs_removed_open_file_keeps_working),
	    cmocka_unit_test(memvfs_list_current_names_stops_on_nonzero),
	    cmocka_unit_test(memvfs_unsynced_write_lose_unsynced_lost),
	    cmocka_unit_test(memvfs_unsynced_write_keep_unsynced_kept),
	    cmocka_unit_test(memvfs_synced_data_unsynced_create_vanishes),
	    cmocka_unit_test(memvfs_synced_write_random_crash_survives),
	    cmocka_unit_test(memvfs_unsynced_truncate_follows_fate),
	    cmocka_unit_test(memvfs_torn_write_random_all_fates_appear),
	    cmocka_unit_test(memvfs_torn_write_4096_sectors_tear_on_4096),
	    cmocka_unit_test(memvfs_atomic_sectors_never_partial),
	    cmocka_unit_test(memvfs_safe_append_never_garbage_past_eof),
	    cmocka_unit_test(memvfs_ordered_writes_only_prefixes),
	    cmocka_unit_test(memvfs_random_dir_fate_kept_and_lost),
	    cmocka_unit_test(memvfs_rename_durable_after_sync_dir),
	    cmocka_unit_test(memvfs_remove_durable_after_sync_dir),
	    cmocka_unit_test(memvfs_dir_lost_create_gone_after_sync_dir),
	    cmocka_unit_test(memvfs_dir_lost_remove_rename_undone),
	    cmocka_unit_test(memvfs_sync_dir_fault_eio_keeps_pending),
	    cmocka_unit_test(memvfs_failed_fsync_drops_pending_data),
	    cmocka_unit_test(memvfs_read_fault_eio),
	    cmocka_unit_test(memvfs_write_fault_eio_writes_prefix),
	    cmocka_unit_test(memvfs_disk_full_short_write_enospc),
	    cmocka_unit_test(memvfs_limits_efbig_enospc),
	    cmocka_unit_test(memvfs_bit_flip_changes_one_bit),
	    cmocka_unit_test(memvfs_random_bit_flip_changes_one_bit),
	    cmocka_unit_test(memvfs_fault_at_op_number_fails_that_op),
	    cmocka_unit_test(memvfs_random_fault_rate_fires),
	    cmocka_unit_test(memvfs_nospace_fault_enospc_close_fault_frees),
	    cmocka_unit_test(memvfs_dead_handle_after_crash_eio),
	    cmocka_unit_test(memvfs_crash_at_kills_machine),
	    cmocka_unit_test(memvfs_lock_second_ewouldblock),
	    cmocka_unit_test(memvfs_orphan_handle_close_frees),
	    cmocka_unit_test(memvfs_same_seed_same_trace_hash),
	    cmocka_unit_test(memvfs_clone_independent),
	    cmocka_unit_test(memvfs_trace_dump_shows_ops_and_fates),
	    cmocka_unit_test(memvfs_put_file_durable_list_sizes),
	    cmocka_unit_test(memvfs_random_ops_match_shadow_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
