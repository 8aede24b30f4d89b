/*
 * failvfs: see failvfs.h. One struct tl_failvfs holds the armed state and
 * the counters; each wrapped file points back at it and at its inner file.
 */
#include "failvfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl_failvfs {
	struct rlog_vfs vfs; /* handed out; vfs.ctx points back here */
	struct rlog_vfs *inner;
	bool armed;
	bool persistent;
	bool torn;
	uint64_t fail_at; /* 1-based position among masked calls */
	int err;
	unsigned mask;
	uint64_t count;	    /* masked calls since the arm */
	uint64_t count_all; /* every call since the arm */
	bool fired;
	unsigned fired_kind;
	unsigned fired_mask;
	bool fired_nonzero; /* an injected failure hit other than zero bytes */
	bool fired_nonseal; /* an injected failure hit other than a seal */
	uint64_t open_files;
	bool trace;
};

struct fv_file {
	struct rlog_file base; /* first member, as vfs.h requires */
	struct tl_failvfs *fv;
	struct rlog_file *inner;
	char name[RLOG_VFS_NAME_MAX + 1];
};

const char *tl_failvfs_kind_name(unsigned kind)
{
	switch (kind) {
	case TL_FV_OPEN:
		return "open";
	case TL_FV_REMOVE:
		return "remove";
	case TL_FV_RENAME:
		return "rename";
	case TL_FV_LIST:
		return "list";
	case TL_FV_SYNC_DIR:
		return "sync_dir";
	case TL_FV_LOCK:
		return "lock";
	case TL_FV_PREAD:
		return "pread";
	case TL_FV_PWRITE:
		return "pwrite";
	case TL_FV_SYNC:
		return "sync";
	case TL_FV_TRUNCATE:
		return "truncate";
	case TL_FV_SIZE:
		return "size";
	case TL_FV_CLOSE:
		return "close";
	default:
		return "?";
	}
}

/* A segment's seal file: writing and reading it is best effort. */
static bool is_seal(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;
	return n >= 5 && strcmp(name + n - 5, ".seal") == 0;
}

/* Count one call of kind and decide whether it fails: 0 to forward it, or
 * the injected negative errno. */
static int fv_check(struct tl_failvfs *fv, unsigned kind, const char *name)
{
	fv->count_all++;
	if (kind == TL_FV_CLOSE || (fv->mask & kind) == 0) {
		return 0;
	}
	fv->count++;
	if (!fv->armed) {
		return 0;
	}
	bool hit = fv->count == fv->fail_at ||
		   (fv->persistent && fv->count > fv->fail_at);
	if (!hit) {
		return 0;
	}
	if (!fv->fired) {
		fv->fired = true;
		fv->fired_kind = kind;
	}
	if (!is_seal(name)) {
		fv->fired_nonseal = true;
		if (kind != TL_FV_PWRITE) {
			fv->fired_nonzero = true;
		}
	}
	fv->fired_mask |= kind;
	if (fv->trace) {
		fprintf(stderr, "failvfs: #%llu %s %s -> injected %d\n",
			(unsigned long long)fv->count,
			tl_failvfs_kind_name(kind), name != NULL ? name : "",
			fv->err);
	}
	return fv->err;
}

static void fv_trace(const struct tl_failvfs *fv, unsigned kind,
		     const char *name, uint64_t a, uint64_t b, int rc)
{
	if (!fv->trace) {
		return;
	}
	fprintf(stderr, "failvfs: %s %s %llu %llu -> %d\n",
		tl_failvfs_kind_name(kind), name != NULL ? name : "",
		(unsigned long long)a, (unsigned long long)b, rc);
}

static int fv_pread(struct rlog_file *file, void *buf, size_t len,
		    uint64_t offset, size_t *nread)
{
	struct fv_file *f = (struct fv_file *)file;
	int rc = fv_check(f->fv, TL_FV_PREAD, f->name);
	if (rc != 0) {
		*nread = 0;
		return rc;
	}
	rc = f->inner->ops->pread(f->inner, buf, len, offset, nread);
	fv_trace(f->fv, TL_FV_PREAD, f->name, offset, len, rc);
	return rc;
}

static int fv_pwrite(struct rlog_file *file, const void *buf, size_t len,
		     uint64_t offset)
{
	struct fv_file *f = (struct fv_file *)file;
	bool was_nonzero = f->fv->fired_nonzero;
	int rc = fv_check(f->fv, TL_FV_PWRITE, f->name);
	if (rc != 0) {
		const uint8_t *b = buf;
		bool zero = true;
		for (size_t i = 0; i < len && zero; i++) {
			zero = b[i] == 0;
		}
		f->fv->fired_nonzero =
		    was_nonzero || (!zero && !is_seal(f->name));
		if (f->fv->torn && len > 1) {
			(void)f->inner->ops->pwrite(f->inner, buf, len / 2,
						    offset);
		}
		return rc;
	}
	rc = f->inner->ops->pwrite(f->inner, buf, len, offset);
	fv_trace(f->fv, TL_FV_PWRITE, f->name, offset, len, rc);
	return rc;
}

static int fv_sync(struct rlog_file *file)
{
	struct fv_file *f = (struct fv_file *)file;
	int rc = fv_check(f->fv, TL_FV_SYNC, f->name);
	if (rc != 0) {
		return rc;
	}
	rc = f->inner->ops->sync(f->inner);
	fv_trace(f->fv, TL_FV_SYNC, f->name, 0, 0, rc);
	return rc;
}

static int fv_truncate(struct rlog_file *file, uint64_t size)
{
	struct fv_file *f = (struct fv_file *)file;
	int rc = fv_check(f->fv, TL_FV_TRUNCATE, f->name);
	if (rc != 0) {
		return rc;
	}
	rc = f->inner->ops->truncate(f->inner, size);
	fv_trace(f->fv, TL_FV_TRUNCATE, f->name, size, 0, rc);
	return rc;
}

static int fv_size(struct rlog_file *file, uint64_t *size)
{
	struct fv_file *f = (struct fv_file *)file;
	int rc = fv_check(f->fv, TL_FV_SIZE, f->name);
	if (rc != 0) {
		return rc;
	}
	rc = f->inner->ops->size(f->inner, size);
	fv_trace(f->fv, TL_FV_SIZE, f->name, rc == 0 ? *size : 0, 0, rc);
	return rc;
}

static int fv_close(struct rlog_file *file)
{
	struct fv_file *f = (struct fv_file *)file;
	struct tl_failvfs *fv = f->fv;
	(void)fv_check(fv, TL_FV_CLOSE, f->name);
	int rc = f->inner->ops->close(f->inner);
	fv_trace(fv, TL_FV_CLOSE, f->name, 0, 0, rc);
	fv->open_files--;
	free(f);
	return rc;
}

static const struct rlog_file_ops fv_file_ops = {
    .pread = fv_pread,
    .pwrite = fv_pwrite,
    .sync = fv_sync,
    .truncate = fv_truncate,
    .size = fv_size,
    .close = fv_close,
};

/* Wrap an inner file; on allocation failure close it and return -ENOMEM. */
static int fv_wrap(struct tl_failvfs *fv, const char *name,
		   struct rlog_file *inner, struct rlog_file **out)
{
	struct fv_file *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		inner->ops->close(inner);
		*out = NULL;
		return -ENOMEM;
	}
	f->base.ops = &fv_file_ops;
	f->fv = fv;
	f->inner = inner;
	snprintf(f->name, sizeof(f->name), "%s", name);
	fv->open_files++;
	*out = &f->base;
	return 0;
}

static int fv_open(struct rlog_vfs *vfs, const char *name, int flags,
		   struct rlog_file **out)
{
	struct tl_failvfs *fv = vfs->ctx;
	*out = NULL;
	int rc = fv_check(fv, TL_FV_OPEN, name);
	if (rc != 0) {
		return rc;
	}
	struct rlog_file *inner = NULL;
	rc = fv->inner->open(fv->inner, name, flags, &inner);
	fv_trace(fv, TL_FV_OPEN, name, (uint64_t)flags, 0, rc);
	if (rc != 0) {
		return rc;
	}
	return fv_wrap(fv, name, inner, out);
}

static int fv_remove(struct rlog_vfs *vfs, const char *name)
{
	struct tl_failvfs *fv = vfs->ctx;
	int rc = fv_check(fv, TL_FV_REMOVE, name);
	if (rc != 0) {
		return rc;
	}
	rc = fv->inner->remove(fv->inner, name);
	fv_trace(fv, TL_FV_REMOVE, name, 0, 0, rc);
	return rc;
}

static int fv_rename(struct rlog_vfs *vfs, const char *from, const char *to)
{
	struct tl_failvfs *fv = vfs->ctx;
	int rc = fv_check(fv, TL_FV_RENAME, from);
	if (rc != 0) {
		return rc;
	}
	rc = fv->inner->rename(fv->inner, from, to);
	if (fv->trace) {
		fprintf(stderr, "failvfs: rename %s %s -> %d\n", from, to, rc);
	}
	return rc;
}

static int fv_list(struct rlog_vfs *vfs, rlog_vfs_list_cb cb, void *arg)
{
	struct tl_failvfs *fv = vfs->ctx;
	int rc = fv_check(fv, TL_FV_LIST, NULL);
	if (rc != 0) {
		return rc;
	}
	rc = fv->inner->list(fv->inner, cb, arg);
	fv_trace(fv, TL_FV_LIST, NULL, 0, 0, rc);
	return rc;
}

static int fv_sync_dir(struct rlog_vfs *vfs)
{
	struct tl_failvfs *fv = vfs->ctx;
	int rc = fv_check(fv, TL_FV_SYNC_DIR, NULL);
	if (rc != 0) {
		return rc;
	}
	rc = fv->inner->sync_dir(fv->inner);
	fv_trace(fv, TL_FV_SYNC_DIR, NULL, 0, 0, rc);
	return rc;
}

static int fv_lock(struct rlog_vfs *vfs, const char *name,
		   struct rlog_file **out)
{
	struct tl_failvfs *fv = vfs->ctx;
	*out = NULL;
	int rc = fv_check(fv, TL_FV_LOCK, name);
	if (rc != 0) {
		return rc;
	}
	struct rlog_file *inner = NULL;
	rc = fv->inner->lock(fv->inner, name, &inner);
	fv_trace(fv, TL_FV_LOCK, name, 0, 0, rc);
	if (rc != 0) {
		return rc;
	}
	return fv_wrap(fv, name, inner, out);
}

int tl_failvfs_new(struct rlog_vfs *inner, struct tl_failvfs **out)
{
	struct tl_failvfs *fv = calloc(1, sizeof(*fv));
	if (fv == NULL) {
		*out = NULL;
		return -ENOMEM;
	}
	fv->inner = inner;
	fv->vfs.ctx = fv;
	fv->vfs.open = fv_open;
	fv->vfs.remove = fv_remove;
	fv->vfs.rename = fv_rename;
	fv->vfs.list = fv_list;
	fv->vfs.sync_dir = fv_sync_dir;
	fv->vfs.lock = fv_lock;
	fv->mask = TL_FV_ALL;
	const char *t = getenv("TL_FAILVFS_TRACE");
	fv->trace = t != NULL && strcmp(t, "1") == 0;
	*out = fv;
	return 0;
}

void tl_failvfs_free(struct tl_failvfs *fv)
{
	free(fv);
}

struct rlog_vfs *tl_failvfs_vfs(struct tl_failvfs *fv)
{
	return &fv->vfs;
}

static void fv_arm(struct tl_failvfs *fv, uint64_t n, int err,
		   unsigned kind_mask, bool persistent)
{
	fv->armed = n != 0;
	fv->persistent = persistent;
	fv->fail_at = n;
	fv->err = err;
	fv->mask = kind_mask & TL_FV_ALL;
	fv->count = 0;
	fv->count_all = 0;
	fv->fired = false;
	fv->fired_kind = 0;
	fv->fired_mask = 0;
	fv->fired_nonzero = false;
	fv->fired_nonseal = false;
}

void tl_failvfs_arm(struct tl_failvfs *fv, uint64_t n, int err,
		    unsigned kind_mask)
{
	fv_arm(fv, n, err, kind_mask, false);
}

void tl_failvfs_arm_persistent(struct tl_failvfs *fv, uint64_t n, int err,
			       unsigned kind_mask)
{
	fv_arm(fv, n, err, kind_mask, true);
}

void tl_failvfs_set_torn(struct tl_failvfs *fv, bool on)
{
	fv->torn = on;
}

void tl_failvfs_disarm(struct tl_failvfs *fv)
{
	fv->armed = false;
}

bool tl_failvfs_fired(const struct tl_failvfs *fv)
{
	return fv->fired;
}

unsigned tl_failvfs_fired_kind(const struct tl_failvfs *fv)
{
	return fv->fired_kind;
}

bool tl_failvfs_fired_only_zero_writes(const struct tl_failvfs *fv)
{
	return fv->fired && !fv->fired_nonzero;
}

bool tl_failvfs_fired_only_seals(const struct tl_failvfs *fv)
{
	return fv->fired && !fv->fired_nonseal;
}

unsigned tl_failvfs_fired_mask(const struct tl_failvfs *fv)
{
	return fv->fired_mask;
}

uint64_t tl_failvfs_count(const struct tl_failvfs *fv)
{
	return fv->count;
}

uint64_t tl_failvfs_count_all(const struct tl_failvfs *fv)
{
	return fv->count_all;
}

uint64_t tl_failvfs_open_files(const struct tl_failvfs *fv)
{
	return fv->open_files;
}

void tl_failvfs_trace(struct tl_failvfs *fv, bool on)
{
	fv->trace = on;
}
