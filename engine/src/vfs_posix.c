/*
 * vfs_posix.c: the POSIX backend of the rlog VFS (see rlog/vfs.h).
 *
 * This is the only file in engine/ that makes system calls. It owns the
 * directory descriptor a VFS is rooted at and one descriptor per open file,
 * and it turns every failure into a negative errno value. Everything above
 * it (segments, hard state, the log) sees only struct rlog_vfs.
 *
 * Invariants.
 *   - A VFS holds one O_DIRECTORY descriptor on its directory for its whole
 *     life. Every file operation goes through openat, unlinkat and renameat
 *     relative to that descriptor, so names are bare file names and a later
 *     chdir or rename of a parent directory cannot redirect them.
 *   - Names are checked before any call: non-empty, no '/', not "." or "..",
 *     at most RLOG_VFS_NAME_MAX bytes. Anything else is -EINVAL.
 *   - Methods return 0 or a negative errno, never -1 and never a positive
 *     value. errno is read right after the failing call, before any cleanup
 *     call can overwrite it.
 *   - Every loop is bounded: the read and write loops advance by at least one
 *     byte per iteration or count an EINTR against POSIX_EINTR_RETRIES_MAX.
 *
 * Durability, operation by operation (the contract is in rlog/vfs.h).
 *   - pwrite and truncate only reach the page cache. They become durable
 *     when a later sync of the same file returns 0.
 *   - sync is fdatasync. It flushes the data and any metadata needed to read
 *     it back, which includes a size changed by pwrite or ftruncate
 *     (fdatasync(2)); timestamps are not needed. A failed fdatasync is never
 *     retried: after a writeback error the kernel may already have marked the
 *     dirty pages clean, so a second call can succeed without the data being
 *     on disk (the 2018 PostgreSQL "fsyncgate"). Only EINTR, which means the
 *     call was interrupted before it reported anything, is retried.
 *   - Creating, removing and renaming a file change only the directory. They
 *     become durable when a later sync_dir (fsync on the directory
 *     descriptor) returns 0. renameat replaces the target atomically, so
 *     after a crash the name refers to either the old or the new file.
 *   - rlog_vfs_posix_new fsyncs the parent directory after it creates the
 *     VFS directory. Without that, a crash could lose the new directory
 *     entry and with it every file that sync and sync_dir already made
 *     durable inside it.
 *   - close does not sync. Closing a file never makes anything durable.
 *   - lock files carry no data; their creation need not be durable, because
 *     an flock lock does not survive a crash anyway.
 *
 * Fault injection. When compiled with RLOG_FAULT_INJECTION (test builds),
 * every system call is preceded by a libfiu point. When the point fires, the
 * call is skipped and fails with the errno given as the point's failinfo
 * (EIO when none was given). The points are:
 *   rlog/posix/mkdir, rlog/posix/open (every open and openat, including the
 *   directory opens in new and list), rlog/posix/pread, rlog/posix/pwrite,
 *   rlog/posix/fdatasync, rlog/posix/ftruncate, rlog/posix/fstat,
 *   rlog/posix/close, rlog/posix/unlink, rlog/posix/rename,
 *   rlog/posix/readdir (fdopendir and readdir in list),
 *   rlog/posix/fsync_dir (sync_dir and the parent sync in new) and
 *   rlog/posix/flock.
 * Three more points model partial effects instead of failures:
 *   rlog/posix/pwrite/short makes one write iteration write only half of
 *   what is left (at least one byte), and rlog/posix/pwrite/eintr and
 *   rlog/posix/pread/eintr make one iteration fail with EINTR without any
 *   I/O. The loops must absorb both.
 * close is the one exception to "skip the call": Linux releases the
 * descriptor even when close fails, so an injected close failure still
 * closes the descriptor and then reports the injected errno. Release builds
 * define neither RLOG_FAULT_INJECTION nor FIU_ENABLE, include nothing from
 * libfiu, and the macros below compile to the bare calls.
 */
#define _GNU_SOURCE

#include "rlog/vfs.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef RLOG_FAULT_INJECTION
#include <fiu.h>
#endif

/* File offsets travel as uint64_t and must fit a 64-bit off_t. */
_Static_assert(sizeof(off_t) == sizeof(int64_t), "off_t must be 64 bits");

/* Most EINTR results one read, write or sync call absorbs before it gives
 * up with -EINTR. Real interruptions are rare; the cap keeps the loops
 * bounded even if a signal storm (or a fault point) never stops. */
#define POSIX_EINTR_RETRIES_MAX 1000

/* Most bytes passed to one pread or pwrite system call. Linux transfers at
 * most 0x7ffff000 bytes per call anyway; this keeps every length well below
 * SSIZE_MAX. */
#define POSIX_IO_CHUNK_MAX_BYTES ((size_t)1 << 30)

/* Largest file offset or size an off_t can hold. */
#define POSIX_OFF_MAX ((uint64_t)INT64_MAX)

/* Mode of created files and of the VFS directory, before the umask. */
#define POSIX_FILE_MODE ((mode_t)0644)
#define POSIX_DIR_MODE ((mode_t)0755)

#ifdef RLOG_FAULT_INJECTION
/* Evaluates the libfiu point name. When it fires, sets errno to the point's
 * failinfo (EIO when it is 0 or out of range) and returns true. */
static bool posix_fault(const char *name)
{
	if (fiu_fail(name) == 0) {
		return false;
	}
	intptr_t info = (intptr_t)fiu_failinfo();
	errno = (info > 0 && info <= INT_MAX) ? (int)info : EIO;
	return true;
}
#define POSIX_FAULT(point) posix_fault(point)
/* Evaluates to call, unless the point fires; then to failval, with errno
 * set to the injected error and without making the call. */
#define POSIX_CALL(point, failval, call)                                       \
	(posix_fault(point) ? (failval) : (call))
#else
#define POSIX_FAULT(point) false
#define POSIX_CALL(point, failval, call) (call)
#endif

/* Backend state of a VFS: ctx of the embedded struct points back here. */
struct posix_vfs {
	struct rlog_vfs vfs;
	int dir_fd; /* O_DIRECTORY descriptor the VFS is rooted at */
};

/* One open file. base comes first so a struct rlog_file * converts back. */
struct posix_file {
	struct rlog_file base;
	int fd;
};

static struct posix_file *posix_file_of(struct rlog_file *file)
{
	return (struct posix_file *)(void *)file;
}

static struct posix_vfs *posix_vfs_of(struct rlog_vfs *vfs)
{
	return (struct posix_vfs *)vfs->ctx;
}

/* Returns 0 when name is a valid bare file name, else -EINVAL. */
static int posix_name_check(const char *name)
{
	if (name == NULL) {
		return -EINVAL;
	}
	size_t len = strnlen(name, RLOG_VFS_NAME_MAX + 1);
	if (len == 0 || len > RLOG_VFS_NAME_MAX) {
		return -EINVAL;
	}
	if (memchr(name, '/', len) != NULL) {
		return -EINVAL;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		return -EINVAL;
	}
	return 0;
}

/* Closes fd and returns 0 or a negative errno. The descriptor is released
 * in every case, as Linux does even when close fails; an EINTR from close
 * is therefore success, and close is never retried. */
static int posix_close_fd(int fd)
{
	int injected = POSIX_FAULT("rlog/posix/close") ? errno : 0;
	int rv = close(fd);
	int err = errno;
	if (injected != 0) {
		return -injected;
	}
	if (rv != 0 && err != EINTR) {
		return -err;
	}
	return 0;
}

/* Flushes fd with fdatasync (datasync) or fsync, retrying only EINTR. */
static int posix_sync_fd(int fd, bool datasync)
{
	for (int attempt = 0; attempt <= POSIX_EINTR_RETRIES_MAX; attempt++) {
		int rv;
		if (datasync) {
			rv = POSIX_CALL("rlog/posix/fdatasync", -1,
					fdatasync(fd));
		} else {
			rv = POSIX_CALL("rlog/posix/fsync_dir", -1, fsync(fd));
		}
		if (rv == 0) {
			return 0;
		}
		int err = errno;
		if (err != EINTR) {
			return -err;
		}
	}
	return -EINTR;
}

static int posix_file_pread(struct rlog_file *file, void *buf, size_t len,
			    uint64_t offset, size_t *nread)
{
	struct posix_file *pf = posix_file_of(file);
	*nread = 0;
	if (offset > POSIX_OFF_MAX) {
		return -EINVAL;
	}
	/* Nothing can be stored past POSIX_OFF_MAX, so a longer read ends
	 * at end of file there. */
	if (len > POSIX_OFF_MAX - offset) {
		len = (size_t)(POSIX_OFF_MAX - offset);
	}
	unsigned char *p = buf;
	size_t done = 0;
	int eintr_count = 0;
	while (done < len) {
		size_t chunk = len - done;
		if (chunk > POSIX_IO_CHUNK_MAX_BYTES) {
			chunk = POSIX_IO_CHUNK_MAX_BYTES;
		}
		ssize_t n;
		if (POSIX_FAULT("rlog/posix/pread/eintr")) {
			errno = EINTR;
			n = -1;
		} else {
			n = POSIX_CALL("rlog/posix/pread", -1,
				       pread(pf->fd, p + done, chunk,
					     (off_t)(offset + done)));
		}
		if (n < 0) {
			int err = errno;
			if (err != EINTR ||
			    ++eintr_count > POSIX_EINTR_RETRIES_MAX) {
				return -err;
			}
			continue;
		}
		if (n == 0) {
			break; /* end of file */
		}
		done += (size_t)n;
	}
	*nread = done;
	return 0;
}

static int posix_file_pwrite(struct rlog_file *file, const void *buf,
			     size_t len, uint64_t offset)
{
	struct posix_file *pf = posix_file_of(file);
	if (offset > POSIX_OFF_MAX || len > POSIX_OFF_MAX - offset) {
		return -EFBIG;
	}
	const unsigned char *p = buf;
	size_t done = 0;
	int eintr_count = 0;
	while (done < len) {
		size_t chunk = len - done;
		if (chunk > POSIX_IO_CHUNK_MAX_BYTES) {
			chunk = POSIX_IO_CHUNK_MAX_BYTES;
		}
		ssize_t n;
		if (POSIX_FAULT("rlog/posix/pwrite/eintr")) {
			errno = EINTR;
			n = -1;
		} else {
			if (POSIX_FAULT("rlog/posix/pwrite/short")) {
				chunk = chunk > 1 ? chunk / 2 : 1;
			}
			n = POSIX_CALL("rlog/posix/pwrite", -1,
				       pwrite(pf->fd, p + done, chunk,
					      (off_t)(offset + done)));
		}
		if (n < 0) {
			int err = errno;
			if (err != EINTR ||
			    ++eintr_count > POSIX_EINTR_RETRIES_MAX) {
				return -err;
			}
			continue;
		}
		if (n == 0) {
			/* A regular file never accepts zero bytes of a
			 * non-empty write without an error; treat it as one
			 * rather than loop forever. */
			return -EIO;
		}
		done += (size_t)n;
	}
	return 0;
}

static int posix_file_sync(struct rlog_file *file)
{
	return posix_sync_fd(posix_file_of(file)->fd, true);
}

static int posix_file_truncate(struct rlog_file *file, uint64_t size)
{
	struct posix_file *pf = posix_file_of(file);
	if (size > POSIX_OFF_MAX) {
		return -EFBIG;
	}
	int rv = POSIX_CALL("rlog/posix/ftruncate", -1,
			    ftruncate(pf->fd, (off_t)size));
	if (rv != 0) {
		return -errno;
	}
	return 0;
}

static int posix_file_size(struct rlog_file *file, uint64_t *size)
{
	struct posix_file *pf = posix_file_of(file);
	struct stat st;
	*size = 0;
	int rv = POSIX_CALL("rlog/posix/fstat", -1, fstat(pf->fd, &st));
	if (rv != 0) {
		return -errno;
	}
	if (st.st_size < 0) {
		return -EIO;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static int posix_file_close(struct rlog_file *file)
{
	if (file == NULL) {
		return 0;
	}
	struct posix_file *pf = posix_file_of(file);
	int rv = posix_close_fd(pf->fd);
	free(pf);
	return rv;
}

static const struct rlog_file_ops posix_file_ops = {
    .pread = posix_file_pread,
    .pwrite = posix_file_pwrite,
    .sync = posix_file_sync,
    .truncate = posix_file_truncate,
    .size = posix_file_size,
    .close = posix_file_close,
};

/* Opens name with oflags and, when lock is set, takes an exclusive flock on
 * it. On success *out owns the descriptor (and the lock); on failure nothing
 * is left open and *out is NULL. */
static int posix_file_open(struct posix_vfs *pv, const char *name, int oflags,
			   bool lock, struct rlog_file **out)
{
	struct posix_file *pf = malloc(sizeof(*pf));
	if (pf == NULL) {
		return -ENOMEM;
	}
	int fd = POSIX_CALL("rlog/posix/open", -1,
			    openat(pv->dir_fd, name, oflags, POSIX_FILE_MODE));
	if (fd < 0) {
		int err = errno;
		free(pf);
		return -err;
	}
	if (lock) {
		int rv = POSIX_CALL("rlog/posix/flock", -1,
				    flock(fd, LOCK_EX | LOCK_NB));
		if (rv != 0) {
			int err = errno;
			(void)posix_close_fd(fd);
			free(pf);
			/* Linux defines EWOULDBLOCK as EAGAIN; other systems
			 * may not, so both map to the contract's code. */
			if (err == EAGAIN || err == EWOULDBLOCK) {
				return -EWOULDBLOCK;
			}
			return -err;
		}
	}
	pf->base.ops = &posix_file_ops;
	pf->fd = fd;
	*out = &pf->base;
	return 0;
}

static int posix_vfs_open(struct rlog_vfs *vfs, const char *name, int flags,
			  struct rlog_file **out)
{
	*out = NULL;
	int rv = posix_name_check(name);
	if (rv != 0) {
		return rv;
	}
	if ((flags & ~(RLOG_VFS_CREATE | RLOG_VFS_EXCL)) != 0) {
		return -EINVAL;
	}
	/* O_EXCL without O_CREAT is undefined in POSIX. */
	if ((flags & RLOG_VFS_EXCL) != 0 && (flags & RLOG_VFS_CREATE) == 0) {
		return -EINVAL;
	}
	int oflags = O_RDWR | O_CLOEXEC;
	if ((flags & RLOG_VFS_CREATE) != 0) {
		oflags |= O_CREAT;
	}
	if ((flags & RLOG_VFS_EXCL) != 0) {
		oflags |= O_EXCL;
	}
	return posix_file_open(posix_vfs_of(vfs), name, oflags, false, out);
}

static int posix_vfs_lock(struct rlog_vfs *vfs, const char *name,
			  struct rlog_file **out)
{
	*out = NULL;
	int rv = posix_name_check(name);
	if (rv != 0) {
		return rv;
	}
	/* flock locks belong to the open file description, so every lock
	 * call opens the file anew: a second lock from this process then
	 * conflicts with the first, just as one from another process would. */
	return posix_file_open(posix_vfs_of(vfs), name,
			       O_RDWR | O_CREAT | O_CLOEXEC, true, out);
}

static int posix_vfs_remove(struct rlog_vfs *vfs, const char *name)
{
	int rv = posix_name_check(name);
	if (rv != 0) {
		return rv;
	}
	rv = POSIX_CALL("rlog/posix/unlink", -1,
			unlinkat(posix_vfs_of(vfs)->dir_fd, name, 0));
	if (rv != 0) {
		return -errno;
	}
	return 0;
}

static int posix_vfs_rename(struct rlog_vfs *vfs, const char *from,
			    const char *to)
{
	int rv = posix_name_check(from);
	if (rv != 0) {
		return rv;
	}
	rv = posix_name_check(to);
	if (rv != 0) {
		return rv;
	}
	int dir_fd = posix_vfs_of(vfs)->dir_fd;
	rv = POSIX_CALL("rlog/posix/rename", -1,
			renameat(dir_fd, from, dir_fd, to));
	if (rv != 0) {
		return -errno;
	}
	return 0;
}

/* Reads the next entry of dir into *entry, NULL at the end. */
static int posix_readdir(DIR *dir, struct dirent **entry)
{
	*entry = NULL;
	if (POSIX_FAULT("rlog/posix/readdir")) {
		return -errno;
	}
	/* readdir returns NULL both at the end and on error; only errno
	 * tells them apart, so it must be cleared right before the call. */
	errno = 0;
	*entry = readdir(dir);
	if (*entry == NULL && errno != 0) {
		return -errno;
	}
	return 0;
}

/* Closes a directory stream and its descriptor. Errors are ignored: nothing
 * was written through it. */
static void posix_closedir(DIR *dir)
{
	(void)POSIX_FAULT("rlog/posix/close");
	(void)closedir(dir);
}

static int posix_vfs_list(struct rlog_vfs *vfs, rlog_vfs_list_cb cb, void *arg)
{
	if (cb == NULL) {
		return -EINVAL;
	}
	/* A fresh open of "." gives the stream its own file offset, so the
	 * VFS's descriptor is never moved and each listing starts at the
	 * beginning. fdopendir takes over the new descriptor. */
	int fd = POSIX_CALL("rlog/posix/open", -1,
			    openat(posix_vfs_of(vfs)->dir_fd, ".",
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0) {
		return -errno;
	}
	DIR *dir = POSIX_CALL("rlog/posix/readdir", NULL, fdopendir(fd));
	if (dir == NULL) {
		int err = errno;
		(void)posix_close_fd(fd);
		return -err;
	}
	/* The loop is bounded by the number of entries in the directory. */
	int rv;
	for (;;) {
		struct dirent *entry;
		rv = posix_readdir(dir, &entry);
		if (rv != 0 || entry == NULL) {
			break;
		}
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0) {
			continue;
		}
		rv = cb(arg, entry->d_name);
		if (rv != 0) {
			break;
		}
	}
	posix_closedir(dir);
	return rv;
}

static int posix_vfs_sync_dir(struct rlog_vfs *vfs)
{
	return posix_sync_fd(posix_vfs_of(vfs)->dir_fd, false);
}

/* Makes the entry of a just-created directory dir durable by fsyncing its
 * parent directory. */
static int posix_sync_parent(const char *dir)
{
	size_t len = strlen(dir);
	char *parent = malloc(len + 2);
	if (parent == NULL) {
		return -ENOMEM;
	}
	memcpy(parent, dir, len + 1);
	/* Strip trailing slashes, then the last component, then the slashes
	 * before it, keeping a lone leading "/". */
	while (len > 1 && parent[len - 1] == '/') {
		len--;
	}
	while (len > 0 && parent[len - 1] != '/') {
		len--;
	}
	while (len > 1 && parent[len - 1] == '/') {
		len--;
	}
	if (len == 0) {
		parent[0] = '.';
		len = 1;
	}
	parent[len] = '\0';

	int rv = 0;
	int fd = POSIX_CALL("rlog/posix/open", -1,
			    open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0) {
		rv = -errno;
		goto out_free_parent;
	}
	rv = posix_sync_fd(fd, false);
	int close_rv = posix_close_fd(fd);
	if (rv == 0) {
		rv = close_rv;
	}
out_free_parent:
	free(parent);
	return rv;
}

int rlog_vfs_posix_new(const char *dir, struct rlog_vfs **out)
{
	if (out == NULL) {
		return -EINVAL;
	}
	*out = NULL;
	if (dir == NULL) {
		return -EINVAL;
	}
	struct posix_vfs *pv = malloc(sizeof(*pv));
	if (pv == NULL) {
		return -ENOMEM;
	}
	int rv;
	bool created = true;
	if (POSIX_CALL("rlog/posix/mkdir", -1, mkdir(dir, POSIX_DIR_MODE)) !=
	    0) {
		if (errno != EEXIST) {
			rv = -errno;
			goto out_free_vfs;
		}
		created = false;
	}
	int fd = POSIX_CALL("rlog/posix/open", -1,
			    open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0) {
		rv = -errno;
		goto out_free_vfs;
	}
	/* The directory entry must be durable before any file in the
	 * directory can be: see the file header. */
	if (created) {
		rv = posix_sync_parent(dir);
		if (rv != 0) {
			goto out_close_dir;
		}
	}
	memset(pv, 0, sizeof(*pv));
	pv->dir_fd = fd;
	pv->vfs.ctx = pv;
	pv->vfs.open = posix_vfs_open;
	pv->vfs.remove = posix_vfs_remove;
	pv->vfs.rename = posix_vfs_rename;
	pv->vfs.list = posix_vfs_list;
	pv->vfs.sync_dir = posix_vfs_sync_dir;
	pv->vfs.lock = posix_vfs_lock;
	*out = &pv->vfs;
	return 0;

out_close_dir:
	(void)posix_close_fd(fd);
out_free_vfs:
	free(pv);
	return rv;
}

int rlog__vfs_posix_close(struct rlog_vfs *vfs)
{
	if (vfs == NULL) {
		return 0;
	}
	struct posix_vfs *pv = posix_vfs_of(vfs);
	int rv = posix_close_fd(pv->dir_fd);
	free(pv);
	return rv;
}

void rlog_vfs_posix_free(struct rlog_vfs *vfs)
{
	(void)rlog__vfs_posix_close(vfs);
}

/* Not file I/O, but a system call, so it lives here with the others. The
 * index of a large log is written once per entry into fresh memory; on a VM
 * a first-touch fault costs 10-40 us per 4 KiB page, which made the index
 * the largest cost of both recovery and small-entry appends. */
void rlog__advise_huge_pages(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	(void)madvise(p, len, MADV_HUGEPAGE);
#else
	(void)p;
	(void)len;
#endif
}
