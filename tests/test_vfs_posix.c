/*
 * Tests of the POSIX VFS backend (engine/src/vfs_posix.c) on a real
 * directory: every method, the name and flag checks, locking within and
 * across processes, and, in fault-injection builds, every libfiu point the
 * backend defines, including the short-write and EINTR loops.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "testlib.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rlog/vfs.h"

#ifdef RLOG_FAULT_INJECTION
/* fiu.h declares fiu_init only when FIU_ENABLE is defined, which test
 * builds do not do for test sources. */
#ifndef FIU_ENABLE
#define FIU_ENABLE 1
#endif
#include <fiu-control.h>
#include <fiu.h>
#endif

/* Room for a scratch directory path and one file name under it. */
#define PATH_BYTES_MAX 512

/* A scratch directory with a VFS rooted at it. */
struct fixture {
	char dir[PATH_BYTES_MAX];
	struct rlog_vfs *vfs;
	struct rlog_file *file; /* "f" holding "hello", when a test opens it */
};

/* Names seen by one list call. */
struct listing {
	char names[16][RLOG_VFS_NAME_MAX + 1];
	int count;
	int stop_after; /* return 1 after this many names; 0 = never */
};

static int listing_cb(void *arg, const char *name)
{
	struct listing *l = arg;
	if (l->count < 16) {
		snprintf(l->names[l->count], sizeof(l->names[0]), "%s", name);
	}
	l->count++;
	if (l->stop_after != 0 && l->count >= l->stop_after) {
		return 1;
	}
	return 0;
}

static bool listing_has(const struct listing *l, const char *name)
{
	for (int i = 0; i < l->count && i < 16; i++) {
		if (strcmp(l->names[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static void list_all(struct rlog_vfs *vfs, struct listing *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(vfs->list(vfs, listing_cb, l), 0);
}

static void path_of(const struct fixture *f, const char *name, char *buf,
		    size_t len)
{
	int n = snprintf(buf, len, "%s/%s", f->dir, name);
	assert_true(n > 0 && (size_t)n < len);
}

/* True when name exists in the fixture's directory, checked without the
 * VFS. */
static bool path_exists(const struct fixture *f, const char *name)
{
	char path[PATH_BYTES_MAX];
	struct stat st;
	path_of(f, name, path, sizeof(path));
	return stat(path, &st) == 0;
}

/* Creates (or replaces the contents of) name with len bytes of data. */
static void write_file(struct rlog_vfs *vfs, const char *name, const void *data,
		       size_t len)
{
	struct rlog_file *file;
	assert_int_equal(vfs->open(vfs, name, RLOG_VFS_CREATE, &file), 0);
	assert_int_equal(file->ops->truncate(file, 0), 0);
	assert_int_equal(file->ops->pwrite(file, data, len, 0), 0);
	assert_int_equal(file->ops->sync(file), 0);
	assert_int_equal(file->ops->close(file), 0);
}

/* Asserts that name holds exactly the len bytes at data. */
static void expect_file(struct rlog_vfs *vfs, const char *name,
			const void *data, size_t len)
{
	struct rlog_file *file;
	uint64_t size;
	size_t nread;
	unsigned char *buf = malloc(len + 16);
	assert_non_null(buf);
	assert_int_equal(vfs->open(vfs, name, 0, &file), 0);
	assert_int_equal(file->ops->size(file, &size), 0);
	assert_int_equal(size, len);
	assert_int_equal(file->ops->pread(file, buf, len + 16, 0, &nread), 0);
	assert_int_equal(nread, len);
	assert_memory_equal(buf, data, len);
	assert_int_equal(file->ops->close(file), 0);
	free(buf);
}

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	tl_mkdtemp(f->dir, sizeof(f->dir), "vfs_posix");
	assert_int_equal(rlog_vfs_posix_new(f->dir, &f->vfs), 0);
	assert_non_null(f->vfs);
}

static void fixture_fini(struct fixture *f)
{
	if (f->file != NULL) {
		f->file->ops->close(f->file);
		f->file = NULL;
	}
	rlog_vfs_posix_free(f->vfs);
	f->vfs = NULL;
	/* tl_rmtree removes one level; clear a possible "sub" first. */
	char sub[PATH_BYTES_MAX];
	path_of(f, "sub", sub, sizeof(sub));
	rmdir(sub);
	tl_rmtree(f->dir);
}

static int setup(void **state)
{
#ifdef RLOG_FAULT_INJECTION
	fiu_init(0);
#endif
	struct fixture *f = malloc(sizeof(*f));
	assert_non_null(f);
	fixture_init(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fixture_fini(f);
	free(f);
	return 0;
}

/* A file written, synced, truncated, listed, renamed and removed through
 * the VFS behaves like the same file handled directly. */
static void vfs_posix_round_trip_all_methods_agree(void **state)
{
	struct fixture *f = *state;
	struct rlog_vfs *vfs = f->vfs;
	struct rlog_file *file;
	struct listing l;
	uint8_t data[4096];
	uint8_t buf[4096];
	uint64_t size;
	size_t nread;

	tl_payload(data, sizeof(data), 1, 1, 7);
	assert_int_equal(
	    vfs->open(vfs, "seg-1", RLOG_VFS_CREATE | RLOG_VFS_EXCL, &file), 0);
	assert_int_equal(file->ops->size(file, &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(file->ops->pwrite(file, data, sizeof(data), 0), 0);
	assert_int_equal(file->ops->sync(file), 0);
	assert_int_equal(file->ops->size(file, &size), 0);
	assert_int_equal(size, sizeof(data));
	assert_int_equal(file->ops->pread(file, buf, sizeof(buf), 0, &nread),
			 0);
	assert_int_equal(nread, sizeof(buf));
	assert_memory_equal(buf, data, sizeof(data));

	/* Shrink, then grow: the grown part reads as zeros. */
	assert_int_equal(file->ops->truncate(file, 100), 0);
	assert_int_equal(file->ops->size(file, &size), 0);
	assert_int_equal(size, 100);
	assert_int_equal(file->ops->truncate(file, 200), 0);
	assert_int_equal(file->ops->pread(file, buf, sizeof(buf), 0, &nread),
			 0);
	assert_int_equal(nread, 200);
	assert_memory_equal(buf, data, 100);
	for (size_t i = 100; i < 200; i++) {
		assert_int_equal(buf[i], 0);
	}
	assert_int_equal(file->ops->sync(file), 0);
	assert_int_equal(file->ops->close(file), 0);
	assert_int_equal(vfs->sync_dir(vfs), 0);

	list_all(vfs, &l);
	assert_int_equal(l.count, 1);
	assert_true(listing_has(&l, "seg-1"));

	assert_int_equal(vfs->rename(vfs, "seg-1", "seg-2"), 0);
	assert_int_equal(vfs->sync_dir(vfs), 0);
	list_all(vfs, &l);
	assert_int_equal(l.count, 1);
	assert_true(listing_has(&l, "seg-2"));
	assert_false(path_exists(f, "seg-1"));

	/* Reopening without CREATE keeps the contents. */
	assert_int_equal(vfs->open(vfs, "seg-2", RLOG_VFS_CREATE, &file), 0);
	assert_int_equal(file->ops->size(file, &size), 0);
	assert_int_equal(size, 200);
	assert_int_equal(file->ops->close(file), 0);

	assert_int_equal(vfs->remove(vfs, "seg-2"), 0);
	assert_int_equal(vfs->sync_dir(vfs), 0);
	list_all(vfs, &l);
	assert_int_equal(l.count, 0);
	assert_false(path_exists(f, "seg-2"));
}

/* A write of several megabytes round-trips byte for byte. */
static void vfs_posix_large_write_reads_back_equal(void **state)
{
	struct fixture *f = *state;
	size_t len = 3u * 1024u * 1024u + 17u;
	uint8_t *data = malloc(len);
	assert_non_null(data);
	tl_payload(data, len, 9, 9, 9);
	write_file(f->vfs, "big", data, len);
	expect_file(f->vfs, "big", data, len);
	free(data);
}

/* A read that runs past the end of the file returns only what exists, and a
 * read at or beyond the end returns nothing. */
static void vfs_posix_pread_past_eof_returns_short(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *file;
	uint8_t buf[64];
	size_t nread = 99;

	write_file(f->vfs, "f", "0123456789", 10);
	assert_int_equal(f->vfs->open(f->vfs, "f", 0, &file), 0);
	assert_int_equal(file->ops->pread(file, buf, sizeof(buf), 4, &nread),
			 0);
	assert_int_equal(nread, 6);
	assert_memory_equal(buf, "456789", 6);
	assert_int_equal(file->ops->pread(file, buf, sizeof(buf), 10, &nread),
			 0);
	assert_int_equal(nread, 0);
	assert_int_equal(
	    file->ops->pread(file, buf, sizeof(buf), 1u << 20, &nread), 0);
	assert_int_equal(nread, 0);
	assert_int_equal(file->ops->pread(file, buf, 0, 0, &nread), 0);
	assert_int_equal(nread, 0);
	assert_int_equal(file->ops->close(file), 0);
}

/* A write past the end leaves a gap that reads as zeros. */
static void vfs_posix_pwrite_past_end_gap_reads_zeros(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *file;
	uint8_t buf[32];
	uint8_t want[32];
	size_t nread;

	memset(want, 0, sizeof(want));
	memcpy(want, "ab", 2);
	memcpy(want + 30, "yz", 2);
	assert_int_equal(f->vfs->open(f->vfs, "f", RLOG_VFS_CREATE, &file), 0);
	assert_int_equal(file->ops->pwrite(file, "ab", 2, 0), 0);
	assert_int_equal(file->ops->pwrite(file, "yz", 2, 30), 0);
	assert_int_equal(file->ops->pread(file, buf, sizeof(buf), 0, &nread),
			 0);
	assert_int_equal(nread, 32);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(file->ops->pwrite(file, "", 0, 100), 0);
	assert_int_equal(file->ops->close(file), 0);
}

/* Offsets and sizes an off_t cannot hold are refused before any I/O. */
static void vfs_posix_offset_beyond_off_t_fails(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *file;
	uint8_t buf[8];
	size_t nread = 5;

	assert_int_equal(f->vfs->open(f->vfs, "f", RLOG_VFS_CREATE, &file), 0);
	assert_int_equal(
	    file->ops->pread(file, buf, sizeof(buf), UINT64_MAX, &nread),
	    -EINVAL);
	assert_int_equal(nread, 0);
	assert_int_equal(file->ops->pwrite(file, "x", 1, UINT64_MAX), -EFBIG);
	assert_int_equal(file->ops->pwrite(file, "xy", 2, (uint64_t)INT64_MAX),
			 -EFBIG);
	assert_int_equal(file->ops->truncate(file, UINT64_MAX), -EFBIG);
	assert_int_equal(file->ops->close(file), 0);
}

/* Opening an existing name with CREATE and EXCL fails with -EEXIST and
 * leaves the file alone. */
static void vfs_posix_open_excl_existing_fails_eexist(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *file = (struct rlog_file *)f;

	write_file(f->vfs, "f", "hello", 5);
	assert_int_equal(
	    f->vfs->open(f->vfs, "f", RLOG_VFS_CREATE | RLOG_VFS_EXCL, &file),
	    -EEXIST);
	assert_null(file);
	expect_file(f->vfs, "f", "hello", 5);
}

/* Opening a missing name without CREATE fails with -ENOENT and creates
 * nothing. */
static void vfs_posix_open_missing_without_create_fails_enoent(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *file = (struct rlog_file *)f;
	struct listing l;

	assert_int_equal(f->vfs->open(f->vfs, "nope", 0, &file), -ENOENT);
	assert_null(file);
	list_all(f->vfs, &l);
	assert_int_equal(l.count, 0);
}

/* Unknown flag bits, and EXCL without CREATE, are rejected. */
static void vfs_posix_open_bad_flags_fails_einval(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *file;

	assert_int_equal(f->vfs->open(f->vfs, "f", 0x100, &file), -EINVAL);
	assert_null(file);
	assert_int_equal(f->vfs->open(f->vfs, "f", RLOG_VFS_EXCL, &file),
			 -EINVAL);
	assert_null(file);
	assert_false(path_exists(f, "f"));
}

/* Every method that takes a name rejects empty names, names with '/', "."
 * and "..", and names longer than RLOG_VFS_NAME_MAX; the longest legal name
 * works. */
static void vfs_posix_bad_names_fail_einval(void **state)
{
	struct fixture *f = *state;
	struct rlog_vfs *vfs = f->vfs;
	struct rlog_file *file;
	char longest[RLOG_VFS_NAME_MAX + 1];
	char too_long[RLOG_VFS_NAME_MAX + 2];
	const char *bad[] = {"", "a/b", "/x", "x/", ".", "..", too_long, NULL};
	struct listing l;

	memset(longest, 'n', RLOG_VFS_NAME_MAX);
	longest[RLOG_VFS_NAME_MAX] = '\0';
	memset(too_long, 'n', RLOG_VFS_NAME_MAX + 1);
	too_long[RLOG_VFS_NAME_MAX + 1] = '\0';
	write_file(vfs, "ok", "1", 1);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *name = bad[i];
		assert_int_equal(vfs->open(vfs, name, RLOG_VFS_CREATE, &file),
				 -EINVAL);
		assert_null(file);
		assert_int_equal(vfs->lock(vfs, name, &file), -EINVAL);
		assert_null(file);
		assert_int_equal(vfs->remove(vfs, name), -EINVAL);
		assert_int_equal(vfs->rename(vfs, "ok", name), -EINVAL);
		assert_int_equal(vfs->rename(vfs, name, "ok"), -EINVAL);
	}
	list_all(vfs, &l);
	assert_int_equal(l.count, 1);
	assert_true(listing_has(&l, "ok"));

	assert_int_equal(vfs->open(vfs, longest, RLOG_VFS_CREATE, &file), 0);
	assert_int_equal(file->ops->close(file), 0);
	assert_int_equal(vfs->rename(vfs, longest, "ok"), 0);
	assert_false(path_exists(f, longest));
}

/* Removing or renaming a missing name fails with -ENOENT. */
static void vfs_posix_missing_name_remove_rename_fail_enoent(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->vfs->remove(f->vfs, "nope"), -ENOENT);
	assert_int_equal(f->vfs->rename(f->vfs, "nope", "other"), -ENOENT);
	assert_false(path_exists(f, "other"));
}

/* Rename over an existing name replaces it with the source's contents. */
static void vfs_posix_rename_existing_target_replaces_it(void **state)
{
	struct fixture *f = *state;
	struct listing l;

	write_file(f->vfs, "a", "new", 3);
	write_file(f->vfs, "b", "old contents", 12);
	assert_int_equal(f->vfs->rename(f->vfs, "a", "b"), 0);
	assert_int_equal(f->vfs->sync_dir(f->vfs), 0);
	expect_file(f->vfs, "b", "new", 3);
	list_all(f->vfs, &l);
	assert_int_equal(l.count, 1);
	assert_true(listing_has(&l, "b"));
}

/* A nonzero callback return stops the listing and is returned by list. */
static void vfs_posix_list_callback_nonzero_stops(void **state)
{
	struct fixture *f = *state;
	struct listing l;

	write_file(f->vfs, "a", "1", 1);
	write_file(f->vfs, "b", "2", 1);
	write_file(f->vfs, "c", "3", 1);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_int_equal(f->vfs->list(f->vfs, listing_cb, &l), 1);
	assert_int_equal(l.count, 2);
	/* A later listing starts over from the first entry. */
	list_all(f->vfs, &l);
	assert_int_equal(l.count, 3);
	assert_int_equal(f->vfs->list(f->vfs, NULL, NULL), -EINVAL);
}

/* A second lock of the same name fails with -EWOULDBLOCK, even from this
 * process, and succeeds once the first lock's file is closed. */
static void vfs_posix_lock_twice_fails_ewouldblock(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *first;
	struct rlog_file *second = (struct rlog_file *)f;
	struct rlog_vfs *other;

	assert_int_equal(f->vfs->lock(f->vfs, "LOCK", &first), 0);
	assert_true(path_exists(f, "LOCK"));
	assert_int_equal(f->vfs->lock(f->vfs, "LOCK", &second), -EWOULDBLOCK);
	assert_null(second);
	/* A second VFS on the same directory conflicts too. */
	assert_int_equal(rlog_vfs_posix_new(f->dir, &other), 0);
	assert_int_equal(other->lock(other, "LOCK", &second), -EWOULDBLOCK);
	/* A different name is an independent lock. */
	assert_int_equal(f->vfs->lock(f->vfs, "LOCK2", &second), 0);
	assert_int_equal(second->ops->close(second), 0);

	assert_int_equal(first->ops->close(first), 0);
	assert_int_equal(other->lock(other, "LOCK", &second), 0);
	assert_int_equal(second->ops->close(second), 0);
	rlog_vfs_posix_free(other);
}

/* A lock held by this process makes lock fail with -EWOULDBLOCK in another
 * process, and the other process gets it after the holder closes it. */
static void vfs_posix_lock_other_process_fails_ewouldblock(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *held;
	int status;

	assert_int_equal(f->vfs->lock(f->vfs, "LOCK", &held), 0);
	for (int round = 0; round < 2; round++) {
		int want = round == 0 ? -EWOULDBLOCK : 0;
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct rlog_vfs *vfs;
			struct rlog_file *file;
			if (rlog_vfs_posix_new(f->dir, &vfs) != 0) {
				_exit(2);
			}
			int rv = vfs->lock(vfs, "LOCK", &file);
			if (rv == 0) {
				file->ops->close(file);
			}
			rlog_vfs_posix_free(vfs);
			_exit(rv == want ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		if (round == 0) {
			assert_int_equal(held->ops->close(held), 0);
		}
	}
}

/* rlog_vfs_posix_new creates a missing directory, reuses an existing one,
 * and reports a missing parent or a non-directory. */
static void vfs_posix_new_creates_missing_directory(void **state)
{
	struct fixture *f = *state;
	char sub[PATH_BYTES_MAX];
	char deep[PATH_BYTES_MAX];
	char file_path[PATH_BYTES_MAX];
	struct rlog_vfs *vfs = (struct rlog_vfs *)f;
	struct stat st;

	path_of(f, "sub", sub, sizeof(sub));
	assert_int_equal(rlog_vfs_posix_new(sub, &vfs), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	write_file(vfs, "x", "1", 1);
	rlog_vfs_posix_free(vfs);

	/* Reopening sees the same files. */
	assert_int_equal(rlog_vfs_posix_new(sub, &vfs), 0);
	expect_file(vfs, "x", "1", 1);
	assert_int_equal(vfs->remove(vfs, "x"), 0);
	rlog_vfs_posix_free(vfs);

	/* A trailing slash names the same directory. */
	int n = snprintf(deep, sizeof(deep), "%s/", sub);
	assert_true(n > 0 && (size_t)n < sizeof(deep));
	assert_int_equal(rlog_vfs_posix_new(deep, &vfs), 0);
	rlog_vfs_posix_free(vfs);

	n = snprintf(deep, sizeof(deep), "%s/a/b", f->dir);
	assert_true(n > 0 && (size_t)n < sizeof(deep));
	vfs = (struct rlog_vfs *)f;
	assert_int_equal(rlog_vfs_posix_new(deep, &vfs), -ENOENT);
	assert_null(vfs);

	write_file(f->vfs, "plain", "1", 1);
	path_of(f, "plain", file_path, sizeof(file_path));
	assert_int_equal(rlog_vfs_posix_new(file_path, &vfs), -ENOTDIR);
	assert_null(vfs);
	rlog_vfs_posix_free(NULL);
}

/* Files are opened relative to the directory descriptor, so changing the
 * working directory does not redirect them. */
static void vfs_posix_chdir_names_stay_in_root(void **state)
{
	struct fixture *f = *state;
	char cwd[PATH_BYTES_MAX * 2];
	char rel[PATH_BYTES_MAX];
	struct rlog_vfs *vfs;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(rlog_vfs_posix_new("sub", &vfs), 0);
	assert_int_equal(chdir("/"), 0);
	write_file(vfs, "x", "abc", 3);
	path_of(f, "sub/x", rel, sizeof(rel));
	assert_int_equal(access(rel, F_OK), 0);
	assert_int_equal(vfs->remove(vfs, "x"), 0);
	rlog_vfs_posix_free(vfs);
	assert_int_equal(chdir(cwd), 0);
}

#ifdef RLOG_FAULT_INJECTION

/* Every point the backend defines; teardown disables them all. */
static const char *const all_points[] = {
    "rlog/posix/mkdir",
    "rlog/posix/open",
    "rlog/posix/pread",
    "rlog/posix/pread/eintr",
    "rlog/posix/pwrite",
    "rlog/posix/pwrite/short",
    "rlog/posix/pwrite/eintr",
    "rlog/posix/fdatasync",
    "rlog/posix/ftruncate",
    "rlog/posix/fstat",
    "rlog/posix/close",
    "rlog/posix/unlink",
    "rlog/posix/rename",
    "rlog/posix/readdir",
    "rlog/posix/fsync_dir",
    "rlog/posix/flock",
    "rlog/posix/*",
};

static void faults_disable_all(void)
{
	for (size_t i = 0; i < sizeof(all_points) / sizeof(all_points[0]);
	     i++) {
		fiu_disable(all_points[i]);
	}
}

/* Enables point to fail once with errno err (0 = no failinfo). A point is
 * disabled first because re-enabling a name leaks inside libfiu. */
static void fault_once(const char *point, int err)
{
	fiu_disable(point);
	assert_int_equal(
	    fiu_enable(point, 1, (void *)(intptr_t)err, FIU_ONETIME), 0);
}

/* External-callback state: fire on evaluations fire_from..fire_to (1-based,
 * inclusive) and count every evaluation. */
static int fault_evaluations;
static int fault_fire_from;
static int fault_fire_to;

static int fault_window_cb(const char *name, int *failnum, void **failinfo,
			   unsigned int *flags)
{
	(void)name;
	(void)failnum;
	(void)failinfo;
	(void)flags;
	fault_evaluations++;
	return fault_evaluations >= fault_fire_from &&
	       fault_evaluations <= fault_fire_to;
}

/* Enables point through fault_window_cb with errno err. */
static void fault_window(const char *point, int err, int from, int to)
{
	fault_evaluations = 0;
	fault_fire_from = from;
	fault_fire_to = to;
	fiu_disable(point);
	assert_int_equal(fiu_enable_external(point, 1, (void *)(intptr_t)err, 0,
					     fault_window_cb),
			 0);
}

static int fault_setup(void **state)
{
	int rv = setup(state);
	faults_disable_all();
	return rv;
}

static int fault_teardown(void **state)
{
	faults_disable_all();
	return teardown(state);
}

/* Operations run with one point armed. Each starts from a fixture holding
 * "f" = "hello", open as f->file, and cleans up what it created. */
static int op_open(struct fixture *f)
{
	struct rlog_file *file = (struct rlog_file *)f;
	int rv = f->vfs->open(f->vfs, "f", 0, &file);
	if (rv == 0) {
		return file->ops->close(file);
	}
	assert_null(file);
	return rv;
}

static int op_new_existing(struct fixture *f)
{
	struct rlog_vfs *vfs = (struct rlog_vfs *)f;
	int rv = rlog_vfs_posix_new(f->dir, &vfs);
	if (rv == 0) {
		rlog_vfs_posix_free(vfs);
		return 0;
	}
	assert_null(vfs);
	return rv;
}

static int op_new_sub(struct fixture *f)
{
	struct rlog_vfs *vfs = (struct rlog_vfs *)f;
	char sub[PATH_BYTES_MAX];
	path_of(f, "sub", sub, sizeof(sub));
	int rv = rlog_vfs_posix_new(sub, &vfs);
	if (rv == 0) {
		rlog_vfs_posix_free(vfs);
		return 0;
	}
	assert_null(vfs);
	return rv;
}

static int op_pread(struct fixture *f)
{
	uint8_t buf[16];
	size_t nread = 99;
	int rv = f->file->ops->pread(f->file, buf, sizeof(buf), 0, &nread);
	if (rv == 0) {
		assert_int_equal(nread, 5);
		assert_memory_equal(buf, "hello", 5);
	} else {
		assert_int_equal(nread, 0);
	}
	return rv;
}

static int op_pwrite(struct fixture *f)
{
	return f->file->ops->pwrite(f->file, "HELLO, WORLD", 12, 0);
}

static int op_sync(struct fixture *f)
{
	return f->file->ops->sync(f->file);
}

static int op_truncate(struct fixture *f)
{
	return f->file->ops->truncate(f->file, 2);
}

static int op_size(struct fixture *f)
{
	uint64_t size = 99;
	int rv = f->file->ops->size(f->file, &size);
	assert_int_equal(size, rv == 0 ? 5 : 0);
	return rv;
}

static int op_lock_close(struct fixture *f)
{
	struct rlog_file *file;
	assert_int_equal(f->vfs->lock(f->vfs, "LOCK", &file), 0);
	return file->ops->close(file);
}

static int op_lock(struct fixture *f)
{
	struct rlog_file *file = (struct rlog_file *)f;
	int rv = f->vfs->lock(f->vfs, "LOCK", &file);
	if (rv == 0) {
		return file->ops->close(file);
	}
	assert_null(file);
	return rv;
}

static int op_remove(struct fixture *f)
{
	return f->vfs->remove(f->vfs, "f");
}

static int op_rename(struct fixture *f)
{
	return f->vfs->rename(f->vfs, "f", "g");
}

static int op_list(struct fixture *f)
{
	struct listing l;
	memset(&l, 0, sizeof(l));
	int rv = f->vfs->list(f->vfs, listing_cb, &l);
	if (rv == 0) {
		assert_true(listing_has(&l, "f"));
	} else {
		assert_int_equal(l.count, 0);
	}
	return rv;
}

static int op_sync_dir(struct fixture *f)
{
	return f->vfs->sync_dir(f->vfs);
}

/* Checks run after the failure: nothing the failed call was asked to change
 * has changed, and the VFS still works. */
static void check_unchanged(struct fixture *f)
{
	struct listing l;
	expect_file(f->vfs, "f", "hello", 5);
	list_all(f->vfs, &l);
	assert_true(listing_has(&l, "f"));
	assert_false(listing_has(&l, "g"));
}

static void check_no_sub(struct fixture *f)
{
	check_unchanged(f);
	assert_false(path_exists(f, "sub"));
}

static void check_sub_exists(struct fixture *f)
{
	check_unchanged(f);
	assert_true(path_exists(f, "sub"));
}

/* After an injected close failure the lock must be released anyway. */
static void check_lock_free(struct fixture *f)
{
	struct rlog_file *file;
	check_unchanged(f);
	assert_int_equal(f->vfs->lock(f->vfs, "LOCK", &file), 0);
	assert_int_equal(file->ops->close(file), 0);
}

struct fault_case {
	const char *point;
	int (*op)(struct fixture *f);
	void (*check)(struct fixture *f);
};

static const struct fault_case fault_cases[] = {
    {"rlog/posix/mkdir", op_new_sub, check_no_sub},
    {"rlog/posix/open", op_open, check_unchanged},
    {"rlog/posix/open", op_new_existing, check_unchanged},
    {"rlog/posix/open", op_new_sub, check_sub_exists},
    {"rlog/posix/open", op_list, check_unchanged},
    {"rlog/posix/open", op_lock, check_lock_free},
    {"rlog/posix/pread", op_pread, check_unchanged},
    {"rlog/posix/pwrite", op_pwrite, check_unchanged},
    {"rlog/posix/fdatasync", op_sync, check_unchanged},
    {"rlog/posix/ftruncate", op_truncate, check_unchanged},
    {"rlog/posix/fstat", op_size, check_unchanged},
    {"rlog/posix/close", op_lock_close, check_lock_free},
    {"rlog/posix/unlink", op_remove, check_unchanged},
    {"rlog/posix/rename", op_rename, check_unchanged},
    {"rlog/posix/readdir", op_list, check_unchanged},
    {"rlog/posix/fsync_dir", op_sync_dir, check_unchanged},
    {"rlog/posix/fsync_dir", op_new_sub, check_sub_exists},
    {"rlog/posix/flock", op_lock, check_lock_free},
};

/* Sets up the fault-case fixture: "f" = "hello", open as f->file. */
static void fault_fixture_init(struct fixture *f)
{
	fixture_init(f);
	write_file(f->vfs, "f", "hello", 5);
	assert_int_equal(f->vfs->open(f->vfs, "f", 0, &f->file), 0);
}

/* Every point, armed once with EIO, ENOSPC or EDQUOT, makes its operation
 * fail with exactly that errno, changes nothing, and the operation works
 * once the point is disarmed. */
static void vfs_posix_fault_point_fails_with_configured_errno(void **state)
{
	const int errs[] = {EIO, ENOSPC, EDQUOT};
	(void)state;
	for (size_t c = 0; c < sizeof(fault_cases) / sizeof(fault_cases[0]);
	     c++) {
		const struct fault_case *fc = &fault_cases[c];
		for (size_t e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
			struct fixture f;
			fault_fixture_init(&f);
			fault_once(fc->point, errs[e]);
			int rv = fc->op(&f);
			fiu_disable(fc->point);
			if (rv != -errs[e]) {
				fail_msg("case %zu (%s): got %d, want %d", c,
					 fc->point, rv, -errs[e]);
			}
			fc->check(&f);
			rv = fc->op(&f);
			if (rv != 0) {
				fail_msg("case %zu (%s) after disarm: got %d",
					 c, fc->point, rv);
			}
			fixture_fini(&f);
		}
	}
}

/* A point armed without failinfo fails with EIO. */
static void vfs_posix_fault_without_failinfo_fails_eio(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *file;

	write_file(f->vfs, "f", "hello", 5);
	assert_int_equal(f->vfs->open(f->vfs, "f", 0, &file), 0);
	fault_once("rlog/posix/pwrite", 0);
	assert_int_equal(file->ops->pwrite(file, "x", 1, 0), -EIO);
	fiu_disable("rlog/posix/pwrite");
	assert_int_equal(file->ops->close(file), 0);
	expect_file(f->vfs, "f", "hello", 5);
}

/* With every write iteration cut to half of what is left, pwrite keeps
 * looping and the whole buffer still lands. */
static void vfs_posix_short_writes_loop_until_complete(void **state)
{
	struct fixture *f = *state;
	uint8_t data[1000];
	struct rlog_file *file;

	tl_payload(data, sizeof(data), 3, 4, 5);
	assert_int_equal(f->vfs->open(f->vfs, "f", RLOG_VFS_CREATE, &file), 0);
	fault_window("rlog/posix/pwrite/short", 0, 1, 1 << 30);
	assert_int_equal(file->ops->pwrite(file, data, sizeof(data), 0), 0);
	fiu_disable("rlog/posix/pwrite/short");
	/* 1000 bytes halved each time takes more than ten iterations. */
	assert_true(fault_evaluations > 10);
	assert_int_equal(file->ops->close(file), 0);
	expect_file(f->vfs, "f", data, sizeof(data));

	/* A single short write also completes. */
	tl_payload(data, sizeof(data), 6, 7, 8);
	assert_int_equal(f->vfs->open(f->vfs, "f", 0, &file), 0);
	fault_once("rlog/posix/pwrite/short", 0);
	assert_int_equal(file->ops->pwrite(file, data, sizeof(data), 0), 0);
	fiu_disable("rlog/posix/pwrite/short");
	assert_int_equal(file->ops->close(file), 0);
	expect_file(f->vfs, "f", data, sizeof(data));
}

/* EINTR from write iterations is retried and the data is complete; an
 * EINTR that never stops ends in -EINTR instead of looping forever. */
static void vfs_posix_pwrite_eintr_retried(void **state)
{
	struct fixture *f = *state;
	uint8_t data[300];
	struct rlog_file *file;

	tl_payload(data, sizeof(data), 1, 2, 3);
	assert_int_equal(f->vfs->open(f->vfs, "f", RLOG_VFS_CREATE, &file), 0);
	fault_window("rlog/posix/pwrite/eintr", 0, 1, 5);
	assert_int_equal(file->ops->pwrite(file, data, sizeof(data), 0), 0);
	assert_int_equal(fault_evaluations, 6);
	fiu_disable("rlog/posix/pwrite/eintr");
	expect_file(f->vfs, "f", data, sizeof(data));

	/* EINTR mixed with short writes. */
	fault_window("rlog/posix/pwrite/eintr", 0, 2, 4);
	fault_once("rlog/posix/pwrite/short", 0);
	assert_int_equal(file->ops->pwrite(file, data, sizeof(data), 300), 0);
	fiu_disable("rlog/posix/pwrite/eintr");
	fiu_disable("rlog/posix/pwrite/short");

	/* The pwrite point itself reporting EINTR is retried as well. */
	fault_once("rlog/posix/pwrite", EINTR);
	assert_int_equal(file->ops->pwrite(file, data, sizeof(data), 600), 0);
	fiu_disable("rlog/posix/pwrite");

	fault_window("rlog/posix/pwrite/eintr", 0, 1, 1 << 30);
	assert_int_equal(file->ops->pwrite(file, "zz", 2, 0), -EINTR);
	fiu_disable("rlog/posix/pwrite/eintr");
	assert_int_equal(file->ops->close(file), 0);

	uint8_t want[900];
	memcpy(want, data, 300);
	memcpy(want + 300, data, 300);
	memcpy(want + 600, data, 300);
	expect_file(f->vfs, "f", want, sizeof(want));
}

/* EINTR from read iterations is retried and the read is complete. */
static void vfs_posix_pread_eintr_retried(void **state)
{
	struct fixture *f = *state;
	uint8_t data[300];
	uint8_t buf[400];
	size_t nread;
	struct rlog_file *file;

	tl_payload(data, sizeof(data), 4, 4, 4);
	write_file(f->vfs, "f", data, sizeof(data));
	assert_int_equal(f->vfs->open(f->vfs, "f", 0, &file), 0);
	fault_window("rlog/posix/pread/eintr", 0, 1, 3);
	assert_int_equal(file->ops->pread(file, buf, sizeof(buf), 0, &nread),
			 0);
	assert_int_equal(nread, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	fiu_disable("rlog/posix/pread/eintr");

	fault_once("rlog/posix/pread", EINTR);
	assert_int_equal(file->ops->pread(file, buf, 100, 50, &nread), 0);
	assert_int_equal(nread, 100);
	assert_memory_equal(buf, data + 50, 100);
	fiu_disable("rlog/posix/pread");

	fault_window("rlog/posix/pread/eintr", 0, 1, 1 << 30);
	assert_int_equal(file->ops->pread(file, buf, 10, 0, &nread), -EINTR);
	assert_int_equal(nread, 0);
	fiu_disable("rlog/posix/pread/eintr");
	assert_int_equal(file->ops->close(file), 0);
}

/* An fdatasync that reports EINTR is retried, but one that fails with EIO
 * is not: the error comes back even though a second call would succeed. */
static void vfs_posix_sync_failure_not_retried(void **state)
{
	struct fixture *f = *state;
	struct rlog_file *file;

	assert_int_equal(f->vfs->open(f->vfs, "f", RLOG_VFS_CREATE, &file), 0);
	assert_int_equal(file->ops->pwrite(file, "abc", 3, 0), 0);

	fault_window("rlog/posix/fdatasync", EINTR, 1, 2);
	assert_int_equal(file->ops->sync(file), 0);
	assert_int_equal(fault_evaluations, 3);
	fiu_disable("rlog/posix/fdatasync");

	fault_window("rlog/posix/fdatasync", EIO, 1, 1);
	assert_int_equal(file->ops->sync(file), -EIO);
	assert_int_equal(fault_evaluations, 1);
	fiu_disable("rlog/posix/fdatasync");

	fault_window("rlog/posix/fsync_dir", EINTR, 1, 1);
	assert_int_equal(f->vfs->sync_dir(f->vfs), 0);
	assert_int_equal(fault_evaluations, 2);
	fault_window("rlog/posix/fsync_dir", ENOSPC, 1, 1);
	assert_int_equal(f->vfs->sync_dir(f->vfs), -ENOSPC);
	assert_int_equal(fault_evaluations, 1);
	fiu_disable("rlog/posix/fsync_dir");
	assert_int_equal(file->ops->close(file), 0);
}

/* A readdir failure in the middle of a listing stops it with the errno
 * after the names already delivered. */
static void vfs_posix_list_readdir_failure_midway_returns_errno(void **state)
{
	struct fixture *f = *state;
	struct listing l;

	write_file(f->vfs, "a", "1", 1);
	write_file(f->vfs, "b", "2", 1);
	write_file(f->vfs, "c", "3", 1);
	/* Evaluation 1 is fdopendir and 2 to 6 are the readdir calls for the
	 * five entries ("." and ".." among them, in any order). Failing the
	 * sixth evaluation delivers four entries, one or two of them dots. */
	memset(&l, 0, sizeof(l));
	fault_window("rlog/posix/readdir", EDQUOT, 6, 6);
	assert_int_equal(f->vfs->list(f->vfs, listing_cb, &l), -EDQUOT);
	fiu_disable("rlog/posix/readdir");
	assert_true(l.count >= 2);
	assert_true(l.count <= 3);
	list_all(f->vfs, &l);
	assert_int_equal(l.count, 3);
}

/* True when name holds exactly the len bytes at data. */
static bool file_equals(struct rlog_vfs *vfs, const char *name,
			const void *data, size_t len)
{
	struct rlog_file *file;
	size_t nread = 0;
	unsigned char *buf = malloc(len + 16);
	assert_non_null(buf);
	assert_int_equal(vfs->open(vfs, name, 0, &file), 0);
	assert_int_equal(file->ops->pread(file, buf, len + 16, 0, &nread), 0);
	assert_int_equal(file->ops->close(file), 0);
	bool equal = nread == len && memcmp(buf, data, len) == 0;
	free(buf);
	return equal;
}

/* Writes "tmp" in full, syncs it, renames it over "data" and syncs the
 * directory: the crash-safe replace the engine uses for its metadata. */
static int commit_sequence(struct rlog_vfs *vfs, const uint8_t *data,
			   size_t len)
{
	struct rlog_file *file;
	int rv = vfs->open(vfs, "tmp", RLOG_VFS_CREATE | RLOG_VFS_EXCL, &file);
	if (rv != 0) {
		return rv;
	}
	rv = file->ops->pwrite(file, data, len, 0);
	if (rv == 0) {
		rv = file->ops->sync(file);
	}
	int close_rv = file->ops->close(file);
	if (rv == 0) {
		rv = close_rv;
	}
	if (rv == 0) {
		rv = vfs->rename(vfs, "tmp", "data");
	}
	if (rv == 0) {
		rv = vfs->sync_dir(vfs);
	}
	return rv;
}

/* Failing the Nth point evaluation of a write-sync-rename sequence, for
 * N = 1, 2, ... until it succeeds, always yields 0 or a negative errno and
 * leaves either the old "data" or the new one, never a mix. */
static void vfs_posix_fail_nth_operation_leaves_old_or_new(void **state)
{
	struct fixture *f = *state;
	uint8_t old_data[2000];
	uint8_t new_data[3000];
	int n;

	tl_payload(old_data, sizeof(old_data), 1, 1, 1);
	tl_payload(new_data, sizeof(new_data), 2, 2, 2);
	for (n = 1; n < 1000; n++) {
		write_file(f->vfs, "data", old_data, sizeof(old_data));
		fault_window("rlog/posix/*", EIO, n, n);
		int rv = commit_sequence(f->vfs, new_data, sizeof(new_data));
		int evaluations = fault_evaluations;
		fiu_disable("rlog/posix/*");
		assert_true(rv <= 0);
		if (rv == 0) {
			expect_file(f->vfs, "data", new_data, sizeof(new_data));
			assert_false(path_exists(f, "tmp"));
		} else if (path_exists(f, "tmp")) {
			/* The rename never happened. */
			expect_file(f->vfs, "data", old_data, sizeof(old_data));
			assert_int_equal(f->vfs->remove(f->vfs, "tmp"), 0);
		} else {
			/* Either nothing happened or only sync_dir failed. */
			assert_true(file_equals(f->vfs, "data", old_data,
						sizeof(old_data)) ||
				    file_equals(f->vfs, "data", new_data,
						sizeof(new_data)));
		}
		if (evaluations < n) {
			/* Nothing was injected: the sweep is complete. */
			assert_int_equal(rv, 0);
			break;
		}
	}
	assert_true(n > 5);
	assert_true(n < 1000);
}

#endif /* RLOG_FAULT_INJECTION */

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		vfs_posix_round_trip_all_methods_agree, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_large_write_reads_back_equal, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_pread_past_eof_returns_short, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_pwrite_past_end_gap_reads_zeros, setup, teardown),
	    cmocka_unit_test_setup_teardown(vfs_posix_offset_beyond_off_t_fails,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_open_excl_existing_fails_eexist, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_open_missing_without_create_fails_enoent, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_open_bad_flags_fails_einval, setup, teardown),
	    cmocka_unit_test_setup_teardown(vfs_posix_bad_names_fail_einval,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_missing_name_remove_rename_fail_enoent, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_rename_existing_target_replaces_it, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_list_callback_nonzero_stops, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_lock_twice_fails_ewouldblock, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_lock_other_process_fails_ewouldblock, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_new_creates_missing_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(vfs_posix_chdir_names_stay_in_root,
					    setup, teardown),
#ifdef RLOG_FAULT_INJECTION
	    cmocka_unit_test_setup_teardown(
		vfs_posix_fault_point_fails_with_configured_errno, fault_setup,
		fault_teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_fault_without_failinfo_fails_eio, fault_setup,
		fault_teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_short_writes_loop_until_complete, fault_setup,
		fault_teardown),
	    cmocka_unit_test_setup_teardown(vfs_posix_pwrite_eintr_retried,
					    fault_setup, fault_teardown),
	    cmocka_unit_test_setup_teardown(vfs_posix_pread_eintr_retried,
					    fault_setup, fault_teardown),
	    cmocka_unit_test_setup_teardown(vfs_posix_sync_failure_not_retried,
					    fault_setup, fault_teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_list_readdir_failure_midway_returns_errno,
		fault_setup, fault_teardown),
	    cmocka_unit_test_setup_teardown(
		vfs_posix_fail_nth_operation_leaves_old_or_new, fault_setup,
		fault_teardown),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
