/*
 * rlog/vfs.h: the virtual filesystem every byte of rlog goes through.
 *
 * Two levels, like a directory and the files in it. A struct rlog_vfs is
 * rooted at one directory; names are bare file names (no '/'), at most
 * RLOG_VFS_NAME_MAX bytes. A struct rlog_file is one open file in it.
 *
 * Every method returns 0 on success or a negative errno value (-EIO,
 * -ENOSPC, -ENOENT, ...). Methods never return a positive value.
 *
 * Durability contract. This is the weakest contract a backend must meet,
 * and the engine assumes nothing stronger; the simulated disk in sim/
 * implements exactly this and no more:
 *   - pwrite and truncate change what later preads of the same file return
 *     at once, but they are durable (survive a crash or power loss) only
 *     after a later sync of that file returns 0. Until then, after a crash,
 *     any subset of them may have reached the disk, in any order, and a
 *     write may be torn at sector granularity.
 *   - sync makes the file's data and size durable. If sync fails, the file's
 *     unsynced data may be lost even though reads still return it; the
 *     engine never retries a failed sync.
 *   - open with RLOG_VFS_CREATE, remove and rename change the directory at
 *     once, but are durable only after a later sync_dir returns 0.
 *   - lock takes an exclusive advisory lock for the life of the returned
 *     file; a second lock of the same name, from this process or another,
 *     fails with -EWOULDBLOCK until the first file is closed.
 *
 * Threads: a VFS and its files are used by one thread at a time.
 */
#ifndef RLOG_VFS_H
#define RLOG_VFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the public API; everything else in the shared library is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define RLOG_API __attribute__((visibility("default")))
#else
#define RLOG_API
#endif

/* Longest bare file name a VFS must accept, in bytes, without the NUL. */
#define RLOG_VFS_NAME_MAX 64

/* Flags for rlog_vfs.open. */
#define RLOG_VFS_CREATE 0x1 /* create the file when it does not exist */
#define RLOG_VFS_EXCL 0x2   /* with CREATE: fail with -EEXIST if it exists */

struct rlog_file;

/* Per-file methods. Backends embed struct rlog_file as their first member. */
struct rlog_file_ops {
	/* Read up to len bytes at offset into buf. *nread receives the count,
	 * which is smaller than len only at end of file. */
	int (*pread)(struct rlog_file *file, void *buf, size_t len,
		     uint64_t offset, size_t *nread);
	/* Write all len bytes at offset, extending the file if needed (a gap
	 * reads as zeros). Either everything is written or an error returns;
	 * a backend retries short writes and EINTR itself. */
	int (*pwrite)(struct rlog_file *file, const void *buf, size_t len,
		      uint64_t offset);
	/* Make the file's data and size durable (fdatasync). */
	int (*sync)(struct rlog_file *file);
	/* Set the file's size; a larger size extends with zeros. */
	int (*truncate)(struct rlog_file *file, uint64_t size);
	/* Current size in bytes, as reads see it. */
	int (*size)(struct rlog_file *file, uint64_t *size);
	/* Close and free the file. Always releases it, even on error. */
	int (*close)(struct rlog_file *file);
};

struct rlog_file {
	const struct rlog_file_ops *ops;
};

/* Called by list once per name in the directory ("." and ".." excluded).
 * A nonzero return stops the listing and is returned by list. */
typedef int (*rlog_vfs_list_cb)(void *arg, const char *name);

struct rlog_vfs {
	void *ctx; /* backend state */
	/* Open name; flags are RLOG_VFS_CREATE and RLOG_VFS_EXCL. A missing
	 * file without CREATE gives -ENOENT. */
	int (*open)(struct rlog_vfs *vfs, const char *name, int flags,
		    struct rlog_file **out);
	/* Remove name. Durable after sync_dir. */
	int (*remove)(struct rlog_vfs *vfs, const char *name);
	/* Rename from to to, replacing to atomically. Durable after sync_dir.
	 */
	int (*rename)(struct rlog_vfs *vfs, const char *from, const char *to);
	/* Call cb for every name in the directory, in no particular order. */
	int (*list)(struct rlog_vfs *vfs, rlog_vfs_list_cb cb, void *arg);
	/* Make every create, remove and rename so far durable. */
	int (*sync_dir)(struct rlog_vfs *vfs);
	/* Create or open name and lock it exclusively; -EWOULDBLOCK when it
	 * is already locked. Closing the returned file releases the lock. */
	int (*lock)(struct rlog_vfs *vfs, const char *name,
		    struct rlog_file **out);
};

/*
 * The POSIX backend, rooted at dir. The directory is created (mode 0755)
 * when it does not exist; its parent must. On success *out must be freed
 * with rlog_vfs_posix_free after every handle using it is closed.
 * Returns 0, -ENOMEM, -ENAMETOOLONG or the errno of mkdir/open.
 */
RLOG_API int rlog_vfs_posix_new(const char *dir, struct rlog_vfs **out);
RLOG_API void rlog_vfs_posix_free(struct rlog_vfs *vfs);

#ifdef __cplusplus
}
#endif

#endif /* RLOG_VFS_H */
