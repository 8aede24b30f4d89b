/*
 * log.c: the public API: handle lifetime, the write path, reads, purge,
 * reset, hard state, errors, and the in-memory index.
 *
 * Invariants of an open handle:
 *   - the live entries are [ents_first, ents_first + ents_len), contiguous,
 *     and ents_first == meta.purge_index + 1;
 *   - every segment but the last is durable up to its end_offset (it was
 *     synced before the next one received a byte), so only the last
 *     segment can hold unsynced bytes;
 *   - once poisoned, nothing is ever written again through this handle.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>

void rlog__assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "rlog: assertion failed: %s (%s:%d)\n", expr, file,
		line);
	abort();
}

/* ---- Allocation. ---- */
static void *def_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}
static void *def_realloc(void *ctx, void *p, size_t size)
{
	(void)ctx;
	return realloc(p, size);
}
static void def_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}
static const struct rlog_allocator default_alloc = {
    .ctx = NULL,
    .malloc = def_malloc,
    .realloc = def_realloc,
    .free = def_free,
};

void *rlog__malloc(const struct rlog_allocator *a, size_t size)
{
	return a->malloc(a->ctx, size == 0 ? 1 : size);
}
void *rlog__realloc(const struct rlog_allocator *a, void *p, size_t size)
{
	return a->realloc(a->ctx, p, size == 0 ? 1 : size);
}
void rlog__free(const struct rlog_allocator *a, void *p)
{
	if (p != NULL) {
		a->free(a->ctx, p);
	}
}
int rlog__grow(const struct rlog_allocator *a, uint8_t **buf, size_t *cap,
	       size_t need)
{
	if (*cap >= need) {
		return 0;
	}
	size_t ncap = *cap ? *cap : 4096;
	while (ncap < need) {
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	}
	uint8_t *n = rlog__realloc(a, *buf, ncap);
	if (n == NULL) {
		return RLOG_ENOMEM;
	}
	*buf = n;
	*cap = ncap;
	return 0;
}

/* ---- Errors. ---- */
const char *rlog_strerror(int code)
{
	switch (code) {
	case RLOG_OK:
		return "success";
	case RLOG_EINVAL:
		return "invalid argument";
	case RLOG_ENOMEM:
		return "out of memory";
	case RLOG_EIO:
		return "I/O error";
	case RLOG_ENOSPC:
		return "no space left on device";
	case RLOG_ECORRUPT:
		return "acknowledged data on disk is corrupt";
	case RLOG_ENOTFOUND:
		return "not found";
	case RLOG_EFATAL:
		return "handle poisoned by an earlier failure; close and "
		       "reopen";
	case RLOG_EBUSY:
		return "log directory is locked by another handle";
	case RLOG_EVERSION:
		return "unsupported on-disk format version";
	default:
		return "unknown error code";
	}
}

int rlog__errno_code(int neg_errno)
{
	switch (-neg_errno) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return RLOG_ENOSPC;
	case ENOMEM:
		return RLOG_ENOMEM;
	case EWOULDBLOCK:
		return RLOG_EBUSY;
	default:
		return RLOG_EIO;
	}
}

const char *rlog__errno_name(int neg_errno)
{
	switch (-neg_errno) {
	case EIO:
		return "EIO";
	case ENOSPC:
		return "ENOSPC";
	case EDQUOT:
		return "EDQUOT";
	case EFBIG:
		return "EFBIG";
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case ENOMEM:
		return "ENOMEM";
	case EINTR:
		return "EINTR";
	case EROFS:
		return "EROFS";
	case EWOULDBLOCK:
		return "EWOULDBLOCK";
	case EINVAL:
		return "EINVAL";
	case EBADF:
		return "EBADF";
	case EMFILE:
		return "EMFILE";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	default:
		return "error";
	}
}

int rlog__err(struct rlog *log, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(log->errmsg, sizeof(log->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

int rlog__poison(struct rlog *log, int neg_errno, const char *fmt, ...)
{
	char what[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log->poisoned = true;
	snprintf(log->errmsg, sizeof(log->errmsg),
		 "%s: %s (errno %d); handle poisoned", what,
		 rlog__errno_name(neg_errno), -neg_errno);
	return rlog__errno_code(neg_errno);
}

static int fatal(struct rlog *log, const char *op)
{
	/* Keep the first failure's context visible after the op name. */
	char prev[sizeof(log->errmsg)];
	memcpy(prev, log->errmsg, sizeof(prev));
	snprintf(log->errmsg, sizeof(log->errmsg),
		 "%s: handle poisoned by: %.400s", op, prev);
	return RLOG_EFATAL;
}

static _Thread_local char open_errmsg[512];

const char *rlog_open_errmsg(void)
{
	return open_errmsg;
}

const char *rlog_errmsg(const struct rlog *log)
{
	return log ? log->errmsg : "";
}

bool rlog_is_poisoned(const struct rlog *log)
{
	return log->poisoned;
}

/* ---- The in-memory index. ---- */
uint64_t rlog__ents_last(const struct rlog *log)
{
	return log->ents_first + log->ents_len - 1;
}

struct rlog__ent *rlog__ent_at(const struct rlog *log, uint64_t index)
{
	if (index < log->ents_first ||
	    index - log->ents_first >= log->ents_len) {
		return NULL;
	}
	return &log->ents[log->ents_off + (size_t)(index - log->ents_first)];
}

/*
 * Move the index into a block of at least cap slots, keeping its live
 * slots and dropping the purged ones in front. Small indexes are plain
 * allocations. Once the index passes one huge page it lives in 2 MiB
 * aligned, 2 MiB rounded blocks that the kernel is asked to back with huge
 * pages (with the default allocator only: a caller's allocator may not
 * hand out anonymous memory), cutting first-touch page faults 512-fold.
 * The allocation is one huge page larger than needed, so aligning it costs
 * address space only.
 */
static int ents_resize(struct rlog *log, size_t cap)
{
	const size_t huge = RLOG__HUGE_PAGE_BYTES;
	const size_t esz = sizeof(struct rlog__ent);
	if (cap > (SIZE_MAX - 2 * huge) / esz) {
		return RLOG_ENOMEM;
	}
	size_t bytes = cap * esz;
	if (bytes < huge || log->alloc.malloc != def_malloc) {
		if (log->ents_off > 0) {
			memmove(log->ents, log->ents + log->ents_off,
				log->ents_len * esz);
			log->ents_off = 0;
		}
		/* Once in huge pages the index only grows, so it is never
		 * moved back into a plain allocation. */
		RLOG_ASSERT(log->ents == log->ents_block);
		void *n = rlog__realloc(&log->alloc, log->ents_block, bytes);
		if (n == NULL) {
			return RLOG_ENOMEM;
		}
		log->ents_block = n;
		log->ents = n;
		log->ents_cap = cap;
		return 0;
	}
	bytes = (bytes + huge - 1) / huge * huge;
	uint8_t *block = rlog__malloc(&log->alloc, bytes + huge);
	if (block == NULL) {
		return RLOG_ENOMEM;
	}
	uintptr_t at = ((uintptr_t)block + huge - 1) & ~(uintptr_t)(huge - 1);
	struct rlog__ent *ents =
	    (struct rlog__ent *)(block + (at - (uintptr_t)block));
	rlog__advise_huge_pages(ents, bytes);
	if (log->ents_len > 0) {
		memcpy(ents, log->ents + log->ents_off, log->ents_len * esz);
	}
	rlog__free(&log->alloc, log->ents_block);
	log->ents_block = block;
	log->ents = ents;
	log->ents_off = 0;
	log->ents_cap = bytes / esz;
	return 0;
}

int rlog__ents_push(struct rlog *log, uint64_t index, uint64_t term,
		    struct rlog__seg *seg, uint64_t offset, uint64_t size)
{
	RLOG_ASSERT(index == log->ents_first + log->ents_len);
	RLOG_ASSERT(offset <= UINT32_MAX && size <= UINT32_MAX);
	if (log->ents_off + log->ents_len == log->ents_cap) {
		if (log->ents_off > 0 && log->ents_off >= log->ents_cap / 2) {
			memmove(log->ents, log->ents + log->ents_off,
				log->ents_len * sizeof(*log->ents));
			log->ents_off = 0;
		} else {
			size_t ncap = log->ents_cap ? log->ents_cap * 2 : 64;
			if (log->ents_cap > SIZE_MAX / 2 ||
			    ents_resize(log, ncap) != 0) {
				return RLOG_ENOMEM;
			}
		}
	}
	struct rlog__ent *e = &log->ents[log->ents_off + log->ents_len];
	e->term = term;
	e->seg = seg;
	e->offset_bytes = (uint32_t)offset;
	e->size_bytes = (uint32_t)size;
	log->ents_len++;
	return 0;
}

int rlog__ents_reserve(struct rlog *log, size_t extra)
{
	size_t used = log->ents_off + log->ents_len;
	if (extra > SIZE_MAX / sizeof(*log->ents) - used) {
		return RLOG_ENOMEM;
	}
	size_t need = used + extra;
	if (need <= log->ents_cap) {
		return 0;
	}
	/* Grow at least geometrically, so a chain of many segments does not
	 * copy the index once per segment. */
	if (need < log->ents_cap * 2 &&
	    log->ents_cap <= SIZE_MAX / sizeof(*log->ents) / 2) {
		need = log->ents_cap * 2;
	}
	return ents_resize(log, need - log->ents_off);
}

void rlog__ents_truncate(struct rlog *log, uint64_t from_index)
{
	if (from_index <= log->ents_first) {
		log->ents_first = from_index;
		log->ents_len = 0;
		log->ents_off = 0;
		return;
	}
	uint64_t keep = from_index - log->ents_first;
	if (keep < log->ents_len) {
		log->ents_len = (size_t)keep;
	}
}

void rlog__ents_purge(struct rlog *log, uint64_t through_index)
{
	if (through_index < log->ents_first) {
		return;
	}
	if (through_index >= rlog__ents_last(log)) {
		log->ents_first = through_index + 1;
		log->ents_len = 0;
		log->ents_off = 0;
		return;
	}
	size_t drop = (size_t)(through_index + 1 - log->ents_first);
	log->ents_off += drop;
	log->ents_len -= drop;
	log->ents_first += drop;
}

/* ---- Open and close. ---- */
void rlog_options_init(struct rlog_options *opts)
{
	memset(opts, 0, sizeof(*opts));
}

/* Close every file and free the handle; returns the first close error as
 * a negative errno (0 when none). */
static int free_handle(struct rlog *log)
{
	int first = 0;
	for (size_t i = 0; i < log->segs_len; i++) {
		struct rlog__seg *s = log->segs[i];
		if (s->file != NULL) {
			int rv = s->file->ops->close(s->file);
			s->file = NULL;
			log->open_files--;
			if (first == 0) {
				first = rv;
			}
		}
		rlog__seg_free(log, s);
	}
	log->segs_len = 0;
	if (log->meta_file != NULL) {
		int rv = log->meta_file->ops->close(log->meta_file);
		if (first == 0) {
			first = rv;
		}
	}
	if (log->lock_file != NULL) {
		int rv = log->lock_file->ops->close(log->lock_file);
		if (first == 0) {
			first = rv;
		}
	}
	const struct rlog_allocator a = log->alloc;
	rlog__free(&a, log->segs);
	rlog__free(&a, log->orphans);
	rlog__free(&a, log->ents_block);
	rlog__free(&a, log->wbuf);
	rlog__free(&a, log->rbuf);
	rlog__free(&a, log->pbuf);
	rlog__free(&a, log->sbuf);
	if (log->owned_vfs != NULL) {
		int rv = rlog__vfs_posix_close(log->owned_vfs);
		if (first == 0) {
			first = rv;
		}
	}
	rlog__free(&a, log);
	return first;
}

int rlog_open(const struct rlog_options *opts, struct rlog **out)
{
	open_errmsg[0] = '\0';
	if (out == NULL) {
		snprintf(open_errmsg, sizeof(open_errmsg), "open: out is NULL");
		return RLOG_EINVAL;
	}
	*out = NULL;
	if (opts == NULL || (opts->vfs == NULL && opts->dir == NULL)) {
		snprintf(open_errmsg, sizeof(open_errmsg),
			 "open: options need a dir or a vfs");
		return RLOG_EINVAL;
	}
	uint64_t seg_size = opts->segment_size_bytes
				? opts->segment_size_bytes
				: RLOG_SEGMENT_SIZE_DEFAULT_BYTES;
	if (seg_size < RLOG_SEGMENT_SIZE_MIN_BYTES ||
	    seg_size > RLOG_SEGMENT_SIZE_MAX_BYTES) {
		snprintf(open_errmsg, sizeof(open_errmsg),
			 "open: segment_size_bytes %llu outside [%u, %u]",
			 (unsigned long long)seg_size,
			 RLOG_SEGMENT_SIZE_MIN_BYTES,
			 RLOG_SEGMENT_SIZE_MAX_BYTES);
		return RLOG_EINVAL;
	}
	uint32_t entry_max = opts->entry_size_max_bytes
				 ? opts->entry_size_max_bytes
				 : RLOG_ENTRY_SIZE_MAX_BYTES;
	if (entry_max > RLOG_ENTRY_SIZE_MAX_BYTES) {
		snprintf(open_errmsg, sizeof(open_errmsg),
			 "open: entry_size_max_bytes %u over the cap %u",
			 entry_max, RLOG_ENTRY_SIZE_MAX_BYTES);
		return RLOG_EINVAL;
	}
	uint32_t prealloc = opts->preallocate_bytes;
	if (prealloc == 0) {
		prealloc = RLOG_PREALLOCATE_DEFAULT_BYTES;
	} else if (prealloc == RLOG_PREALLOCATE_OFF) {
		prealloc = 0;
	} else if (prealloc > RLOG_PREALLOCATE_MAX_BYTES) {
		snprintf(open_errmsg, sizeof(open_errmsg),
			 "open: preallocate_bytes %u over the cap %u "
			 "(RLOG_PREALLOCATE_OFF turns it off)",
			 prealloc, RLOG_PREALLOCATE_MAX_BYTES);
		return RLOG_EINVAL;
	}
	const struct rlog_allocator *a =
	    opts->allocator ? opts->allocator : &default_alloc;
	if (a->malloc == NULL || a->realloc == NULL || a->free == NULL) {
		snprintf(open_errmsg, sizeof(open_errmsg),
			 "open: allocator lacks a function");
		return RLOG_EINVAL;
	}
	struct rlog *log = rlog__malloc(a, sizeof(*log));
	if (log == NULL) {
		snprintf(open_errmsg, sizeof(open_errmsg),
			 "open: out of memory");
		return RLOG_ENOMEM;
	}
	memset(log, 0, sizeof(*log));
	log->alloc = *a;
	log->segment_size_bytes = seg_size;
	log->entry_size_max_bytes = entry_max;
	log->preallocate_bytes = prealloc;
	log->seals = !opts->verify_on_open;
	log->ents_first = 1;
	int rv;
	if (opts->vfs != NULL) {
		log->vfs = opts->vfs;
	} else {
		rv = rlog_vfs_posix_new(opts->dir, &log->owned_vfs);
		if (rv != 0) {
			rv = rlog__err(log, rlog__errno_code(rv),
				       "open: directory %s: %s (errno %d)",
				       opts->dir, rlog__errno_name(rv), -rv);
			goto fail;
		}
		log->vfs = log->owned_vfs;
	}
	rv = log->vfs->lock(log->vfs, RLOG__LOCK_NAME, &log->lock_file);
	if (rv != 0) {
		log->lock_file = NULL;
		if (rv == -EWOULDBLOCK || rv == -EAGAIN) {
			rv = rlog__err(log, RLOG_EBUSY,
				       "open: %s is locked: the log is open in "
				       "another handle or process",
				       RLOG__LOCK_NAME);
		} else {
			rv = rlog__err(log, rlog__errno_code(rv),
				       "open: lock %s: %s (errno %d)",
				       RLOG__LOCK_NAME, rlog__errno_name(rv),
				       -rv);
		}
		goto fail;
	}
	rv = rlog__meta_load(log);
	if (rv != 0) {
		goto fail;
	}
	rv = rlog__recover(log);
	if (rv != 0) {
		goto fail;
	}
	RLOG_ASSERT(log->ents_first == log->meta.purge_index + 1);
	log->errmsg[0] = '\0';
	*out = log;
	return 0;
fail:
	snprintf(open_errmsg, sizeof(open_errmsg), "%s", log->errmsg);
	(void)free_handle(log);
	return rv;
}

/* At a clean close, when everything was synced but no record on disk says
 * so yet, append one record that does: a truncate at last + 1 (which
 * changes nothing) carrying durable offset = end. The next open then knows
 * the whole segment is durable and has nothing to settle. It needs no sync:
 * if it is lost, the next open settles the tail as after a crash. */
static int mark_synced(struct rlog *log)
{
	if (log->poisoned || log->segs_len == 0 || !log->tail_ok) {
		return 0;
	}
	struct rlog__seg *s = log->segs[log->segs_len - 1];
	if (!s->header_written || s->durable_offset != s->end_offset) {
		return 0;
	}
	if (s->evidence_offset >= s->end_offset && s->header_vouched) {
		/* Nothing was written since an open that found the mark at
		 * the end: seal up to it, unless the open used that seal
		 * (one missing, stale or damaged is written again). */
		if (!s->seal_used) {
			rlog__seal_write(log, s);
		}
		return 0;
	}
	uint8_t rec[RLOG__REC_HEADER_BYTES];
	rlog__rec_put(rec, rlog__seg_seed(s->seq), RLOG__REC_TRUNCATE, 0,
		      rlog__ents_last(log) + 1, 0, s->end_offset, NULL);
	struct rlog_file *f;
	int rv = rlog__seg_file(log, s, &f);
	if (rv == 0) {
		rv = f->ops->pwrite(f, rec, sizeof(rec), s->end_offset);
	}
	if (rv == 0) {
		/* The seal up to the mark: the next open uses it while the
		 * mark is still there (segment.c, tail_seal). */
		rlog__seal_write(log, s);
	}
	return rv == 0 ? 0 : rlog__errno_code(rv);
}

int rlog_close(struct rlog *log)
{
	if (log == NULL) {
		return 0;
	}
	int rv = mark_synced(log);
	int crv = free_handle(log);
	if (rv == 0 && crv != 0) {
		rv = rlog__errno_code(crv);
	}
	return rv;
}

/* ---- Validation. ---- */
uint64_t rlog_first_index(const struct rlog *log)
{
	return log->meta.purge_index + 1;
}

uint64_t rlog_last_index(const struct rlog *log)
{
	return rlog__ents_last(log);
}

void rlog_purged(const struct rlog *log, uint64_t *index, uint64_t *term)
{
	if (index != NULL) {
		*index = log->meta.purge_index;
	}
	if (term != NULL) {
		*term = log->meta.purge_term;
	}
}

int rlog_term(const struct rlog *log, uint64_t index, uint64_t *term)
{
	const struct rlog__ent *e = rlog__ent_at(log, index);
	if (e != NULL) {
		*term = e->term;
		return 0;
	}
	if (index != 0 && index == log->meta.purge_index) {
		*term = log->meta.purge_term;
		return 0;
	}
	return RLOG_ENOTFOUND;
}

/* Term of the entry before index, or 0 when there is none. */
static uint64_t term_before(const struct rlog *log, uint64_t index)
{
	uint64_t t = 0;
	if (index > 1 && rlog_term(log, index - 1, &t) == 0) {
		return t;
	}
	return 0;
}

/* Check a batch that must start at from; sums its record bytes. */
static int check_batch(struct rlog *log, const char *op,
		       const struct rlog_entry *entries, size_t n,
		       uint64_t from, uint64_t *bytes)
{
	if (n > RLOG_BATCH_ENTRIES_MAX) {
		return rlog__err(log, RLOG_EINVAL,
				 "%s: %zu entries in one call, over the cap %u",
				 op, n, RLOG_BATCH_ENTRIES_MAX);
	}
	uint64_t term = term_before(log, from);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rlog_entry *e = &entries[i];
		if (e->index > RLOG_INDEX_MAX) {
			return rlog__err(
			    log, RLOG_EINVAL,
			    "%s: entry %zu has index %llu, over the "
			    "cap %llu",
			    op, i, (unsigned long long)e->index,
			    (unsigned long long)RLOG_INDEX_MAX);
		}
		if (e->index != from + i) {
			return rlog__err(
			    log, RLOG_EINVAL,
			    "%s: entry %zu has index %llu, expected "
			    "%llu (appends must be contiguous)",
			    op, i, (unsigned long long)e->index,
			    (unsigned long long)(from + i));
		}
		if (e->term < term) {
			return rlog__err(log, RLOG_EINVAL,
					 "%s: entry %llu has term %llu, below "
					 "the previous term %llu",
					 op, (unsigned long long)e->index,
					 (unsigned long long)e->term,
					 (unsigned long long)term);
		}
		term = e->term;
		switch (e->kind) {
		case RLOG_PAYLOAD_NONE:
		case RLOG_PAYLOAD_NOOP:
			if (e->payload_len != 0) {
				return rlog__err(log, RLOG_EINVAL,
						 "%s: entry %llu: a none/noop "
						 "entry carries no payload",
						 op,
						 (unsigned long long)e->index);
			}
			break;
		case RLOG_PAYLOAD_COMMAND:
		case RLOG_PAYLOAD_CONFIG:
			if (e->payload_len > log->entry_size_max_bytes) {
				return rlog__err(
				    log, RLOG_EINVAL,
				    "%s: entry %llu: payload of %zu "
				    "bytes over the cap %u",
				    op, (unsigned long long)e->index,
				    e->payload_len, log->entry_size_max_bytes);
			}
			if (e->payload == NULL && e->payload_len != 0) {
				return rlog__err(
				    log, RLOG_EINVAL,
				    "%s: entry %llu: payload is NULL", op,
				    (unsigned long long)e->index);
			}
			break;
		default:
			return rlog__err(
			    log, RLOG_EINVAL,
			    "%s: entry %llu: unknown payload kind %d", op,
			    (unsigned long long)e->index, (int)e->kind);
		}
		sum += rlog__entry_record_size(e);
	}
	if (sum > RLOG_BATCH_SIZE_MAX_BYTES) {
		return rlog__err(
		    log, RLOG_EINVAL, "%s: batch of %llu bytes over the cap %u",
		    op, (unsigned long long)sum, RLOG_BATCH_SIZE_MAX_BYTES);
	}
	*bytes = sum;
	return 0;
}

/* ---- The write path. ---- */

/* Make the last segment durable: data, then names. */
static int sync_tail(struct rlog *log, const char *op)
{
	if (log->segs_len > 0) {
		struct rlog__seg *s = log->segs[log->segs_len - 1];
		if (s->durable_offset < s->end_offset) {
			struct rlog_file *f;
			int rv = rlog__seg_file(log, s, &f);
			if (rv != 0) {
				return rlog__poison(log, rv, "%s: open %s", op,
						    s->name);
			}
			rv = f->ops->sync(f);
			if (rv != 0) {
				return rlog__poison(log, rv, "%s: fdatasync %s",
						    op, s->name);
			}
			s->durable_offset = s->end_offset;
		}
	}
	if (log->dir_dirty) {
		int rv = log->vfs->sync_dir(log->vfs);
		if (rv != 0) {
			return rlog__poison(log, rv, "%s: fsync directory", op);
		}
		log->dir_dirty = false;
	}
	return 0;
}

/* Pick the segment that receives need more bytes, starting a new one when
 * the last is full or its tail is unsafe. *hdr is true when the caller must
 * write the new segment's header in front of its records. */
static int ensure_tail(struct rlog *log, const char *op, uint64_t need,
		       struct rlog__seg **out, bool *hdr)
{
	struct rlog__seg *s =
	    log->segs_len ? log->segs[log->segs_len - 1] : NULL;
	*hdr = false;
	if (s != NULL && log->tail_ok &&
	    (s->end_offset + need <= log->segment_size_bytes ||
	     s->end_offset <= RLOG__SEG_HEADER_BYTES)) {
		*out = s;
		return 0;
	}
	if (log->segs_len >= RLOG_SEGMENT_COUNT_MAX ||
	    log->next_seq > RLOG__SEQ_MAX) {
		return rlog__err(log, RLOG_ENOSPC,
				 "%s: %u segment files in use; purge first", op,
				 RLOG_SEGMENT_COUNT_MAX);
	}
	/* The new header vouches for its predecessor up to end_offset, so the
	 * predecessor's bytes and name must be durable first. */
	int rv = sync_tail(log, op);
	if (rv != 0) {
		return rv;
	}
	if (s != NULL) {
		/* s is final below its end now: summarise it for the next
		 * recovery. Best effort and never synced: a lost seal only
		 * makes that recovery read s in full. */
		rlog__seal_write(log, s);
	}
	if (log->segs_len == log->segs_cap) {
		size_t ncap = log->segs_cap ? log->segs_cap * 2 : 8;
		void *n = rlog__realloc(&log->alloc, log->segs,
					ncap * sizeof(*log->segs));
		if (n == NULL) {
			return rlog__err(log, RLOG_ENOMEM, "%s: out of memory",
					 op);
		}
		log->segs = n;
		log->segs_cap = ncap;
	}
	struct rlog__seg *ns = rlog__malloc(&log->alloc, sizeof(*ns));
	if (ns == NULL) {
		return rlog__err(log, RLOG_ENOMEM, "%s: out of memory", op);
	}
	memset(ns, 0, sizeof(*ns));
	ns->seq = log->next_seq;
	ns->first_index = rlog__ents_last(log) + 1;
	ns->prev_seq = s ? s->seq : 0;
	ns->prev_end_offset = s ? s->end_offset : 0;
	ns->touch_low = UINT64_MAX;
	rlog__seg_name(ns->name, ns->seq);
	if (log->open_files >= RLOG__OPEN_FILES_MAX) {
		for (size_t i = 0; i < log->segs_len; i++) {
			struct rlog__seg *o = log->segs[i];
			if (o->file != NULL) {
				o->file->ops->close(o->file);
				o->file = NULL;
				log->open_files--;
				break;
			}
		}
	}
	rv = log->vfs->open(log->vfs, ns->name, RLOG_VFS_CREATE | RLOG_VFS_EXCL,
			    &ns->file);
	if (rv != 0) {
		rv = rlog__poison(log, rv, "%s: create %s", op, ns->name);
		rlog__free(&log->alloc, ns);
		return rv;
	}
	log->open_files++;
	log->next_seq++;
	log->segs[log->segs_len++] = ns;
	log->dir_dirty = true;
	log->tail_ok = true;
	*out = ns;
	*hdr = true;
	return 0;
}

/* Source of the zeros written ahead: one write covers the default amount.
 * Never written, so its pages stay the kernel's shared zero page and cost
 * no memory. */
static uint8_t zero_block[RLOG_PREALLOCATE_DEFAULT_BYTES];

/*
 * After a small batch that grew segment s to end, write zeros after it, up
 * to preallocate_bytes and within the segment's target size. A batch that
 * lands inside bytes the file already has is an overwrite, and its
 * fdatasync need not commit a change of the file's size or allocation to
 * the filesystem journal (measured 1.4x faster per sync on ext4 than an
 * append), so the next batches are cheaper to make durable. The same sync
 * that makes the batch durable makes the zeros durable. Large batches are
 * bound by bandwidth, not by the journal, and writing their bytes twice
 * costs more than it saves, so they only append.
 *
 * The zeros are a separate write, once per preallocate_bytes of data. A
 * full disk (ENOSPC, EDQUOT, EFBIG) only leaves a shorter zero tail: they
 * are an optimisation and must never fail an append that fits, nor keep
 * the space a later recovery needs, so the file is cut back to where the
 * zeros that were written end, and the segment gets no more. Any other
 * failure is a device error and poisons the handle like every failed
 * write. Recovery already ends the log at an all-zero tail and continues
 * in place (docs/FORMAT.md).
 */
static int zero_ahead(struct rlog *log, const char *op, struct rlog__seg *s,
		      struct rlog_file *f, uint64_t end, uint64_t total)
{
	if (log->preallocate_bytes == 0 || s->no_zero_ahead ||
	    end < s->file_bytes || total > RLOG__ZERO_AHEAD_BATCH_MAX ||
	    end >= log->segment_size_bytes) {
		return 0;
	}
	uint64_t room = log->segment_size_bytes - end;
	uint64_t want =
	    room < log->preallocate_bytes ? room : log->preallocate_bytes;
	uint64_t done = 0;
	while (done < want) {
		uint64_t n = want - done;
		if (n > sizeof(zero_block)) {
			n = sizeof(zero_block);
		}
		int rv = f->ops->pwrite(f, zero_block, (size_t)n, end + done);
		if (rv != 0 && rlog__errno_code(rv) == RLOG_ENOSPC) {
			/* The failed write may have taken the disk's last
			 * blocks; give them back (recovery may need them to
			 * settle a tail) and stop preallocating here. */
			s->no_zero_ahead = true;
			rv = f->ops->truncate(f, end + done);
			if (rv != 0) {
				return rlog__poison(
				    log, rv, "%s: truncate %s to %llu", op,
				    s->name, (unsigned long long)(end + done));
			}
			break;
		}
		if (rv != 0) {
			return rlog__poison(
			    log, rv, "%s: write zeros ahead %s@%llu+%llu", op,
			    s->name, (unsigned long long)(end + done),
			    (unsigned long long)n);
		}
		done += n;
	}
	s->file_bytes = end + done;
	return 0;
}

/* Write one batch of records: an optional truncate record heading `group`
 * entries, or plain entries. Updates the index only after the write. */
static int write_batch(struct rlog *log, const char *op, bool truncate,
		       uint64_t from, const struct rlog_entry *entries,
		       size_t n, uint64_t entry_bytes)
{
	uint64_t need = entry_bytes + (truncate ? RLOG__REC_HEADER_BYTES : 0);
	struct rlog__seg *s = NULL;
	bool hdr = false;
	int rv = ensure_tail(log, op, need, &s, &hdr);
	if (rv != 0) {
		return rv;
	}
	uint64_t total = need + (hdr ? RLOG__SEG_HEADER_BYTES : 0);
	uint64_t base = hdr ? 0 : s->end_offset;
	if (rlog__grow(&log->alloc, &log->wbuf, &log->wbuf_cap,
		       (size_t)total) != 0) {
		return rlog__err(log, RLOG_ENOMEM, "%s: out of memory", op);
	}
	uint8_t *p = log->wbuf;
	if (hdr) {
		rlog__seg_header_put(p, s->seq, s->first_index, s->prev_seq,
				     s->prev_end_offset, 0);
		p += RLOG__SEG_HEADER_BYTES;
	}
	uint32_t seed = rlog__seg_seed(s->seq);
	if (truncate) {
		p += rlog__rec_put(p, seed, RLOG__REC_TRUNCATE, (uint32_t)n,
				   from, 0, s->durable_offset, NULL);
	}
	uint64_t first_entry_off = base + (uint64_t)(p - log->wbuf);
	for (size_t i = 0; i < n; i++) {
		p += rlog__rec_put(p, seed, RLOG__REC_ENTRY, 0,
				   entries[i].index, entries[i].term,
				   s->durable_offset, &entries[i]);
	}
	RLOG_ASSERT((uint64_t)(p - log->wbuf) == total);
	struct rlog_file *f;
	rv = rlog__seg_file(log, s, &f);
	if (rv != 0) {
		return rlog__poison(log, rv, "%s: open %s", op, s->name);
	}
	rv = f->ops->pwrite(f, log->wbuf, (size_t)total, base);
	if (rv != 0) {
		return rlog__poison(log, rv, "%s: write %s@%llu+%llu", op,
				    s->name, (unsigned long long)base,
				    (unsigned long long)total);
	}
	if (base + total > s->file_bytes) {
		s->file_bytes = base + total;
	}
	/* A batch of entries is followed by more; a lone truncate record
	 * (a leader change, a reset of the tail) is not worth 1 MiB. */
	rv = n > 0 ? zero_ahead(log, op, s, f, base + total, total) : 0;
	if (rv != 0) {
		return rv;
	}
	s->header_written = true;
	s->end_offset = base + total;
	if (s->durable_offset > s->evidence_offset) {
		s->evidence_offset = s->durable_offset;
	}
	if (s->durable_offset > 0) {
		s->header_vouched = true;
	}
	uint64_t low = truncate ? from : n > 0 ? entries[0].index : UINT64_MAX;
	if (low < s->touch_low) {
		s->touch_low = low;
	}
	if (truncate) {
		rlog__ents_truncate(log, from);
	}
	uint64_t off = first_entry_off;
	for (size_t i = 0; i < n; i++) {
		uint64_t sz = rlog__entry_record_size(&entries[i]);
		rv = rlog__ents_push(log, entries[i].index, entries[i].term, s,
				     off, sz);
		if (rv != 0) {
			/* The bytes are on their way to disk but the index
			 * cannot hold them: only a reopen can recover. */
			log->poisoned = true;
			return rlog__err(log, RLOG_ENOMEM,
					 "%s: out of memory for the index; "
					 "handle poisoned",
					 op);
		}
		off += sz;
	}
	return 0;
}

int rlog_append(struct rlog *log, const struct rlog_entry *entries, size_t n)
{
	if (log == NULL) {
		return RLOG_EINVAL;
	}
	if (log->poisoned) {
		return fatal(log, "append");
	}
	if (n == 0) {
		return 0;
	}
	if (entries == NULL) {
		return rlog__err(log, RLOG_EINVAL, "append: entries is NULL");
	}
	uint64_t bytes;
	int rv = check_batch(log, "append", entries, n,
			     rlog_last_index(log) + 1, &bytes);
	if (rv != 0) {
		return rv;
	}
	return write_batch(log, "append", false, 0, entries, n, bytes);
}

int rlog_sync(struct rlog *log)
{
	if (log == NULL) {
		return RLOG_EINVAL;
	}
	if (log->poisoned) {
		return fatal(log, "sync");
	}
	return sync_tail(log, "sync");
}

int rlog_truncate(struct rlog *log, uint64_t from_index)
{
	if (log == NULL) {
		return RLOG_EINVAL;
	}
	if (log->poisoned) {
		return fatal(log, "truncate");
	}
	uint64_t first = rlog_first_index(log), last = rlog_last_index(log);
	if (from_index < first || from_index > last + 1) {
		return rlog__err(log, RLOG_EINVAL,
				 "truncate: index %llu outside [%llu, %llu]",
				 (unsigned long long)from_index,
				 (unsigned long long)first,
				 (unsigned long long)(last + 1));
	}
	if (from_index == last + 1) {
		return 0;
	}
	return write_batch(log, "truncate", true, from_index, NULL, 0, 0);
}

int rlog_replace(struct rlog *log, const struct rlog_entry *entries, size_t n)
{
	if (log == NULL) {
		return RLOG_EINVAL;
	}
	if (log->poisoned) {
		return fatal(log, "replace");
	}
	if (n == 0 || entries == NULL) {
		return rlog__err(log, RLOG_EINVAL,
				 "replace: needs at least one entry");
	}
	uint64_t from = entries[0].index;
	uint64_t first = rlog_first_index(log), last = rlog_last_index(log);
	if (from < first || from > last + 1) {
		return rlog__err(log, RLOG_EINVAL,
				 "replace: index %llu outside [%llu, %llu]",
				 (unsigned long long)from,
				 (unsigned long long)first,
				 (unsigned long long)(last + 1));
	}
	uint64_t bytes;
	int rv = check_batch(log, "replace", entries, n, from, &bytes);
	if (rv != 0) {
		return rv;
	}
	/* One write holds the truncate record and the whole group; recovery
	 * applies the group only when every record of it is intact. Even at
	 * last + 1, where the truncate changes nothing, it is what makes the
	 * new entries all-or-nothing. */
	rv = write_batch(log, "replace", true, from, entries, n, bytes);
	if (rv != 0) {
		return rv;
	}
	return sync_tail(log, "replace");
}

/* ---- Reads. ---- */

/* A read-ahead window over one segment, used within one rlog_scan call. */
struct window {
	const struct rlog__seg *seg;
	uint64_t off;
	size_t len;
};

/* Read the record of entry e: with a window, through it (refilled with up
 * to RLOG__READ_WINDOW_BYTES of the segment when the record is not in it);
 * without, with one pread of exactly the record. */
static int fetch(struct rlog *log, const char *op, const struct rlog__ent *e,
		 struct window *w, const uint8_t **rec, size_t *got)
{
	struct rlog__seg *s = e->seg;
	if (w != NULL && w->seg == s && e->offset_bytes >= w->off &&
	    e->offset_bytes + (uint64_t)e->size_bytes <= w->off + w->len) {
		*rec = log->sbuf + (e->offset_bytes - w->off);
		*got = e->size_bytes;
		return 0;
	}
	struct rlog_file *f;
	int rv = rlog__seg_file(log, s, &f);
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "%s: open %s: %s (errno %d)", op, s->name,
				 rlog__errno_name(rv), -rv);
	}
	size_t want = e->size_bytes;
	uint8_t **buf = &log->rbuf;
	size_t *cap = &log->rbuf_cap;
	if (w != NULL) {
		uint64_t left = s->end_offset > e->offset_bytes
				    ? s->end_offset - e->offset_bytes
				    : 0;
		if (want < RLOG__READ_WINDOW_BYTES) {
			want = left < RLOG__READ_WINDOW_BYTES
				   ? (size_t)left
				   : RLOG__READ_WINDOW_BYTES;
		}
		if (want < e->size_bytes) {
			want = e->size_bytes;
		}
		buf = &log->sbuf;
		cap = &log->sbuf_cap;
		w->seg = NULL;
	}
	if (rlog__grow(&log->alloc, buf, cap, want) != 0) {
		return rlog__err(log, RLOG_ENOMEM, "%s: out of memory", op);
	}
	rv = f->ops->pread(f, *buf, want, e->offset_bytes, got);
	if (rv != 0) {
		return rlog__err(log, rlog__errno_code(rv),
				 "%s: read %s@%u: %s (errno %d)", op, s->name,
				 e->offset_bytes, rlog__errno_name(rv), -rv);
	}
	if (w != NULL) {
		w->seg = s;
		w->off = e->offset_bytes;
		w->len = *got;
		if (*got > e->size_bytes) {
			*got = e->size_bytes;
		}
	}
	*rec = *buf;
	return 0;
}

/* Read and decode the entry at index into *out. The payload points into a
 * handle-owned buffer. */
static int read_entry(struct rlog *log, const char *op, uint64_t index,
		      struct rlog_entry *out, struct window *w)
{
	const struct rlog__ent *e = rlog__ent_at(log, index);
	if (e == NULL) {
		return rlog__err(log, RLOG_ENOTFOUND,
				 "%s: index %llu outside [%llu, %llu]", op,
				 (unsigned long long)index,
				 (unsigned long long)rlog_first_index(log),
				 (unsigned long long)rlog_last_index(log));
	}
	const struct rlog__seg *s = e->seg;
	const uint8_t *bytes = NULL;
	size_t got = 0;
	int rv = fetch(log, op, e, w, &bytes, &got);
	if (rv != 0) {
		return rv;
	}
	struct rlog__rec rec;
	uint64_t need;
	enum rlog__rec_status st =
	    rlog__rec_check(bytes, got, rlog__seg_seed(s->seq), &rec, &need);
	if (st != RLOG__REC_OK || rec.type != RLOG__REC_ENTRY ||
	    rec.index != index || rec.term != e->term ||
	    rec.size_bytes != e->size_bytes) {
		return rlog__err(log, RLOG_ECORRUPT,
				 "%s: %s@%u: record of entry %llu no longer "
				 "matches its checksum or identity",
				 op, s->name, e->offset_bytes,
				 (unsigned long long)index);
	}
	rv = rlog__entry_decode(&log->alloc, rec.body, rec.body_len, out,
				&log->pbuf, &log->pbuf_cap);
	if (rv == RLOG_ENOMEM) {
		return rlog__err(log, rv, "%s: out of memory", op);
	}
	if (rv != 0 || out->index != index || out->term != e->term) {
		return rlog__err(log, RLOG_ECORRUPT,
				 "%s: %s@%u: entry %llu does not decode as the "
				 "entry its header names",
				 op, s->name, e->offset_bytes,
				 (unsigned long long)index);
	}
	return 0;
}

int rlog_get(struct rlog *log, uint64_t index, struct rlog_entry *out)
{
	if (log == NULL || out == NULL) {
		return RLOG_EINVAL;
	}
	return read_entry(log, "get", index, out, NULL);
}

int rlog_scan(struct rlog *log, uint64_t first_index, uint64_t last_index,
	      rlog_scan_cb cb, void *ctx)
{
	if (log == NULL || cb == NULL) {
		return RLOG_EINVAL;
	}
	if (first_index > last_index) {
		return rlog__err(log, RLOG_EINVAL,
				 "scan: first %llu after last %llu",
				 (unsigned long long)first_index,
				 (unsigned long long)last_index);
	}
	if (first_index < rlog_first_index(log) ||
	    last_index > rlog_last_index(log)) {
		return rlog__err(
		    log, RLOG_ENOTFOUND,
		    "scan: [%llu, %llu] outside the log [%llu, %llu]",
		    (unsigned long long)first_index,
		    (unsigned long long)last_index,
		    (unsigned long long)rlog_first_index(log),
		    (unsigned long long)rlog_last_index(log));
	}
	struct window w = {NULL, 0, 0};
	for (uint64_t i = first_index; i <= last_index; i++) {
		struct rlog_entry e;
		int rv = read_entry(log, "scan", i, &e, &w);
		if (rv != 0) {
			return rv;
		}
		rv = cb(ctx, &e);
		if (rv != 0) {
			return rv;
		}
		if (i == UINT64_MAX) {
			break;
		}
	}
	return 0;
}

/* ---- Purge and reset. ---- */

static int remove_file(struct rlog *log, const char *op, const char *name)
{
	int rv = log->vfs->remove(log->vfs, name);
	if (rv != 0 && rv != -ENOENT) {
		return rlog__poison(log, rv, "%s: remove %s", op, name);
	}
	log->dir_dirty = true;
	return 0;
}

static int remove_orphans(struct rlog *log, const char *op)
{
	for (size_t i = 0; i < log->orphans_len; i++) {
		int rv = remove_file(log, op, log->orphans[i]);
		if (rv != 0) {
			return rv;
		}
	}
	log->orphans_len = 0;
	return 0;
}

/* Remove the first k segments of the chain. */
static int remove_segs(struct rlog *log, const char *op, size_t k)
{
	size_t done = 0;
	int rv = 0;
	for (; done < k; done++) {
		struct rlog__seg *s = log->segs[done];
		if (s->file != NULL) {
			s->file->ops->close(s->file);
			s->file = NULL;
			log->open_files--;
		}
		/* The seal first: one left without its segment would be
		 * an orphan, a segment left without its seal is only read in
		 * full. */
		char seal[RLOG__SEAL_NAME_LEN + 1];
		rlog__seal_name(seal, s->seq);
		rv = remove_file(log, op, seal);
		if (rv == 0) {
			rv = remove_file(log, op, s->name);
		}
		if (rv != 0) {
			break;
		}
		rlog__seg_free(log, s);
	}
	if (done > 0 && log->segs_len > done) {
		memmove(log->segs, log->segs + done,
			(log->segs_len - done) * sizeof(*log->segs));
	}
	log->segs_len -= done;
	return rv;
}

int rlog_purge(struct rlog *log, uint64_t index, uint64_t term)
{
	if (log == NULL) {
		return RLOG_EINVAL;
	}
	if (log->poisoned) {
		return fatal(log, "purge");
	}
	if (index <= log->meta.purge_index) {
		return 0;
	}
	if (index > RLOG_INDEX_MAX) {
		return rlog__err(log, RLOG_EINVAL,
				 "purge: index %llu over the cap %llu",
				 (unsigned long long)index,
				 (unsigned long long)RLOG_INDEX_MAX);
	}
	uint64_t last = rlog_last_index(log);
	uint64_t have;
	if (index <= last && rlog_term(log, index, &have) == 0 &&
	    have != term) {
		return rlog__err(log, RLOG_EINVAL,
				 "purge: entry %llu has term %llu, not %llu",
				 (unsigned long long)index,
				 (unsigned long long)have,
				 (unsigned long long)term);
	}
	/* Everything issued before the purge is made durable first, so a
	 * crash after the boundary is recorded leaves a prefix of the ops. */
	int rv = sync_tail(log, "purge");
	if (rv != 0) {
		return rv;
	}
	struct rlog__meta m = log->meta;
	m.purge_index = index;
	m.purge_term = term;
	bool all = index >= last;
	if (all) {
		/* Snapshot install: every segment becomes dead at once. */
		m.min_seq = log->next_seq;
	}
	rv = rlog__meta_store(log, &m, "purge");
	if (rv != 0) {
		return rv;
	}
	rlog__ents_purge(log, index);
	/* Now remove whole files below the boundary: every segment before
	 * the one holding the first live entry (live entries lie in chain
	 * order, so earlier ones hold only purged or truncated records), or
	 * all of them when nothing is live. The boundary is already durable,
	 * so a crash here leaves files that recovery skips. */
	size_t k = 0;
	if (all) {
		k = log->segs_len;
		log->tail_ok = false;
	} else {
		const struct rlog__seg *keep =
		    rlog__ent_at(log, index + 1)->seg;
		while (k + 1 < log->segs_len && log->segs[k] != keep) {
			k++;
		}
	}
	rv = remove_segs(log, "purge", k);
	if (rv == 0) {
		rv = remove_orphans(log, "purge");
	}
	if (rv == 0) {
		rv = sync_tail(log, "purge");
	}
	return rv;
}

int rlog_reset(struct rlog *log)
{
	if (log == NULL) {
		return RLOG_EINVAL;
	}
	if (log->poisoned) {
		return fatal(log, "reset");
	}
	struct rlog__meta m = log->meta;
	m.purge_index = 0;
	m.purge_term = 0;
	m.min_seq = log->next_seq;
	int rv = rlog__meta_store(log, &m, "reset");
	if (rv != 0) {
		return rv;
	}
	log->ents_first = 1;
	log->ents_len = 0;
	log->ents_off = 0;
	log->tail_ok = false;
	rv = remove_segs(log, "reset", log->segs_len);
	if (rv == 0) {
		rv = remove_orphans(log, "reset");
	}
	if (rv == 0) {
		rv = sync_tail(log, "reset");
	}
	return rv;
}

/* ---- Hard state. ---- */
int rlog_hard_state_save(struct rlog *log, const struct rlog_hard_state *hs)
{
	if (log == NULL || hs == NULL) {
		return RLOG_EINVAL;
	}
	if (log->poisoned) {
		return fatal(log, "hard_state_save");
	}
	if ((log->meta.flags & RLOG__META_HS_SAVED) &&
	    hs->current_term < log->meta.current_term) {
		return rlog__err(log, RLOG_EINVAL,
				 "hard_state_save: term %llu below the saved "
				 "term %llu",
				 (unsigned long long)hs->current_term,
				 (unsigned long long)log->meta.current_term);
	}
	struct rlog__meta m = log->meta;
	m.flags = RLOG__META_HS_SAVED;
	m.current_term = hs->current_term;
	m.voted_for_id = 0;
	m.voted_for_term = 0;
	if (hs->has_vote) {
		m.flags |= RLOG__META_HS_VOTE;
		m.voted_for_id = hs->voted_for_id;
		m.voted_for_term = hs->voted_for_term;
		if (hs->committed) {
			m.flags |= RLOG__META_HS_COMMITTED;
		}
	}
	return rlog__meta_store(log, &m, "hard_state_save");
}

int rlog_hard_state_load(const struct rlog *log, struct rlog_hard_state *hs)
{
	if (log == NULL || hs == NULL) {
		return RLOG_EINVAL;
	}
	if (!(log->meta.flags & RLOG__META_HS_SAVED)) {
		return RLOG_ENOTFOUND;
	}
	memset(hs, 0, sizeof(*hs));
	hs->current_term = log->meta.current_term;
	hs->has_vote = (log->meta.flags & RLOG__META_HS_VOTE) != 0;
	hs->voted_for_id = log->meta.voted_for_id;
	hs->voted_for_term = log->meta.voted_for_term;
	hs->committed = (log->meta.flags & RLOG__META_HS_COMMITTED) != 0;
	return 0;
}
