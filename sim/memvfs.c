/*
 * sim/memvfs.c: the simulated disk.
 *
 * The disk owns three tables, all indexed by uint32_t so that a clone is a
 * copy of arrays plus the byte buffers, and no pointer into a table
 * survives a reallocation:
 *   - inodes: per file, the durable bytes, the cached view (shared with the
 *     durable bytes while they are equal, to keep crashes cheap), and the
 *     pending writes and truncates, whose bytes sit back to back in one
 *     arena per inode;
 *   - dents: the names, in a chained hash table; a name points to an inode
 *     in the current view (cur) and in the durable view (dur);
 *   - dirops: the pending directory operations, in issue order.
 * Open handles are malloc'd and kept on a doubly linked list, so that a
 * crash can kill them and freeing the disk can orphan them.
 *
 * Invariants:
 *   - an inode's links count the dents whose cur or dur is that inode plus
 *     the pending creates of it; it is freed when links and handles are 0;
 *   - a dent exists while it has a cur, a dur or a pending dirop naming it;
 *   - cache_shared implies the inode has no pending op;
 *   - bytes_used is the sum of the sizes of all inodes as reads see them;
 *   - every pending op (data or directory) has a distinct sequence number,
 *     the number of the op that issued it.
 */
#include "memvfs.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define SIM_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SIM_PRINTF(fmt, args)
#endif

#define SIM_NONE UINT32_MAX
#define SIM_PPM 1000000u
#define SIM_FNV_OFFSET 0xcbf29ce484222325ull
#define SIM_FNV_PRIME 0x100000001b3ull
#define SIM_NAME_BYTES (RLOG_VFS_NAME_MAX + 1)
/* Smallest allocation of a growable byte buffer. */
#define SIM_BUF_MIN_BYTES 64u
/* Hash buckets of an empty directory (a power of two). */
#define SIM_BUCKETS_MIN 16u

/* The VFS calls, for the trace. */
enum sim_op {
	SIM_OP_OPEN,
	SIM_OP_REMOVE,
	SIM_OP_RENAME,
	SIM_OP_LIST,
	SIM_OP_SYNC_DIR,
	SIM_OP_LOCK,
	SIM_OP_PREAD,
	SIM_OP_PWRITE,
	SIM_OP_SYNC,
	SIM_OP_TRUNCATE,
	SIM_OP_SIZE,
	SIM_OP_CLOSE,
};

static const char *const sim_op_names[] = {
    "open",  "remove", "rename", "list",     "sync_dir", "lock",
    "pread", "pwrite", "sync",	 "truncate", "size",	 "close",
};

static const char *const sim_fault_names[] = {
    "none", "eio",	"read",	    "write",	"nospace",
    "sync", "sync_dir", "dir_lost", "bit_flip",
};
_Static_assert(sizeof(sim_fault_names) / sizeof(sim_fault_names[0]) ==
		   RLOG_SIM_FAULT_COUNT,
	       "one name per fault kind");

/* The fate of one pending op, or of one sector piece of a torn write. */
enum sim_fate {
	SIM_FATE_KEPT,
	SIM_FATE_DROPPED,
	SIM_FATE_ZEROED,
	SIM_FATE_GARBAGE,
	SIM_FATE_PARTIAL, /* a byte prefix of the piece is kept */
	SIM_FATE_TORN,	  /* a write split into pieces, each with a fate */
	SIM_FATE_PREFIX,  /* ordered mode: a prefix of the write is kept */
};

static const char *const sim_mode_names[] = {
    "random",
    "lose_unsynced",
    "keep_unsynced",
    "ordered",
};

static const char *const sim_fate_names[] = {
    "kept", "dropped", "zeroed", "garbage", "partial", "torn", "prefix",
};

/* A growable byte buffer. Bytes in [len, cap) are unspecified. */
struct sim_buf {
	uint8_t *bytes;
	size_t len;
	size_t cap;
};

/* One pending write or truncate of an inode. */
struct sim_dop {
	uint64_t seq;	 /* number of the op that issued it */
	uint64_t offset; /* write offset, or the new size of a truncate */
	size_t len;	 /* bytes written; 0 for a truncate */
	size_t data_at;	 /* where the written bytes start in the pend arena */
	bool truncate;
};

struct sim_inode {
	struct sim_buf dur;   /* what survives a crash */
	struct sim_buf cache; /* what reads see, unless cache_shared */
	struct sim_buf pend;  /* bytes of the pending writes, back to back */
	struct sim_dop *ops;  /* pending ops in issue order */
	uint32_t nops;
	uint32_t ops_cap;
	uint32_t links;	  /* dent cur/dur references and pending creates */
	uint32_t handles; /* live open handles */
	uint32_t next_free;
	bool used;
	bool cache_shared; /* reads see dur */
	bool locked;
	char name[SIM_NAME_BYTES]; /* the name it was created under (trace) */
};

struct sim_dent {
	char name[SIM_NAME_BYTES];
	uint64_t hash;
	uint32_t next;	  /* hash chain, or free list */
	uint32_t cur;	  /* inode in the current view, or SIM_NONE */
	uint32_t dur;	  /* inode in the durable view, or SIM_NONE */
	uint32_t pending; /* pending dirops naming this dent */
	bool used;
};

enum sim_dirop_kind {
	SIM_DIR_CREATE,
	SIM_DIR_REMOVE,
	SIM_DIR_RENAME,
};

struct sim_dirop {
	uint64_t seq;
	uint32_t from; /* the dent created, removed or renamed */
	uint32_t to;   /* rename target dent, else SIM_NONE */
	uint32_t ino;  /* inode created, else SIM_NONE */
	uint8_t kind;
	bool doomed; /* hit by RLOG_SIM_FAULT_DIR_LOST: never durable */
};

struct sim_fault_slot {
	uint64_t op_number; /* 0 when matched by name */
	uint8_t kind;
	bool any_name;
	char name[SIM_NAME_BYTES];
	uint64_t skip; /* matching ops to let pass first */
};

struct sim_file {
	struct rlog_file base;	    /* first, so the VFS can hand it out */
	struct rlog_sim_disk *disk; /* NULL once the disk is freed */
	struct sim_file *prev;
	struct sim_file *next;
	uint32_t ino;
	bool dead; /* opened before a crash */
	bool holds_lock;
	char name[SIM_NAME_BYTES];
};

struct rlog_sim_disk {
	struct rlog_vfs vfs;
	struct rlog_sim_disk_options opts;
	struct rlog_sim_prng prng;
	struct sim_inode *inodes;
	uint32_t inodes_cap;
	uint32_t inodes_used;
	uint32_t inode_free;
	struct sim_dent *dents;
	uint32_t dents_cap;
	uint32_t dents_used;
	uint32_t dent_free;
	uint32_t *buckets;
	uint32_t nbuckets;
	struct sim_dirop *dirops;
	uint32_t ndirops;
	uint32_t dirops_cap;
	struct sim_fault_slot faults[RLOG_SIM_FAULTS_MAX];
	uint32_t nfaults;
	struct sim_file *files;
	uint64_t op_count;
	uint64_t crash_at;
	uint64_t bytes_used;
	uint64_t trace_hash;
	uint64_t crashes;
	uint64_t faults_injected;
	uint64_t *scratch; /* sequence numbers, for ordered crashes */
	size_t scratch_cap;
	char *trace; /* trace_lines lines of RLOG_SIM_TRACE_LINE_BYTES */
	uint32_t trace_head;
	uint32_t trace_count;
	bool dead;
	bool defer_free; /* a crash is reshaping the tables */
};

/* What one op contributes to the trace. */
struct sim_rec {
	const char *name;
	const char *name2;
	uint64_t offset;
	uint64_t len;
	uint64_t data_hash;
	enum sim_op op;
	enum rlog_sim_fault fault;
	bool dead;
};

/* ---- Hashing. ---- */

static uint64_t hash_u64(uint64_t h, uint64_t v)
{
	h = (h ^ v) * SIM_FNV_PRIME;
	return h ^ (h >> 32);
}

/* Hash bytes eight at a time, read little-endian so the result does not
 * depend on the machine. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i = 0;
	for (; i + 8u <= len; i += 8u) {
		uint64_t w = 0;
		for (unsigned k = 0; k < 8u; k++) {
			w |= (uint64_t)p[i + k] << (8u * k);
		}
		h = hash_u64(h, w);
	}
	for (; i < len; i++) {
		h = (h ^ p[i]) * SIM_FNV_PRIME;
	}
	return hash_u64(h, (uint64_t)len);
}

/* Length of s, looking at no more than max + 1 bytes. */
static size_t name_len_bounded(const char *s, size_t max)
{
	size_t n = 0;
	while (n <= max && s[n] != '\0') {
		n++;
	}
	return n;
}

static uint64_t hash_name(uint64_t h, const char *name)
{
	if (name == NULL) {
		return hash_u64(h, 0);
	}
	size_t len = name_len_bounded(name, RLOG_VFS_NAME_MAX);
	return hash_bytes(h, name, len);
}

/* ---- Readable trace. ---- */

static void trace_add(struct rlog_sim_disk *disk, const char *fmt, ...)
    SIM_PRINTF(2, 3);

static void trace_add(struct rlog_sim_disk *disk, const char *fmt, ...)
{
	uint32_t lines = disk->opts.trace_lines;
	if (lines == 0) {
		return;
	}
	char *line =
	    disk->trace + (size_t)disk->trace_head * RLOG_SIM_TRACE_LINE_BYTES;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, RLOG_SIM_TRACE_LINE_BYTES, fmt, ap);
	va_end(ap);
	disk->trace_head = (disk->trace_head + 1u) % lines;
	if (disk->trace_count < lines) {
		disk->trace_count++;
	}
}

/* Append formatted text to line (of RLOG_SIM_TRACE_LINE_BYTES) at *used,
 * ending in "..." once it no longer fits. */
static void line_append(char *line, size_t *used, const char *fmt, ...)
    SIM_PRINTF(3, 4);

static void line_append(char *line, size_t *used, const char *fmt, ...)
{
	size_t cap = RLOG_SIM_TRACE_LINE_BYTES;
	if (*used >= cap - 4u) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line + *used, cap - *used, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if ((size_t)n >= cap - 4u - *used) {
		memcpy(line + cap - 4u, "...", 4);
		*used = cap;
		return;
	}
	*used += (size_t)n;
}

/* ---- Byte buffers. ---- */

static int buf_reserve(struct sim_buf *b, size_t need)
{
	if (need <= b->cap) {
		return 0;
	}
	size_t cap = b->cap < SIM_BUF_MIN_BYTES ? SIM_BUF_MIN_BYTES : b->cap;
	for (int i = 0; i < 64 && cap < need; i++) {
		cap = cap > SIZE_MAX / 2u ? need : cap * 2u;
	}
	if (cap < need) {
		cap = need;
	}
	uint8_t *bytes = realloc(b->bytes, cap);
	if (bytes == NULL) {
		return -ENOMEM;
	}
	b->bytes = bytes;
	b->cap = cap;
	return 0;
}

/* Write n bytes of src (zeros when src is NULL) at off, extending with
 * zeros. Capacity for off + n must be reserved. */
static void buf_write(struct sim_buf *b, size_t off, const void *src, size_t n)
{
	if (n == 0) {
		return;
	}
	assert(off + n <= b->cap);
	if (off > b->len) {
		memset(b->bytes + b->len, 0, off - b->len);
	}
	if (src != NULL) {
		memcpy(b->bytes + off, src, n);
	} else {
		memset(b->bytes + off, 0, n);
	}
	if (off + n > b->len) {
		b->len = off + n;
	}
}

/* Set the length, extending with zeros. Capacity must be reserved. */
static void buf_resize(struct sim_buf *b, size_t size)
{
	if (size > 0) {
		assert(size <= b->cap);
	}
	if (size > b->len) {
		memset(b->bytes + b->len, 0, size - b->len);
	}
	b->len = size;
}

static void buf_free(struct sim_buf *b)
{
	free(b->bytes);
	b->bytes = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Make dst an exact copy of src, allocating only len bytes. */
static int buf_clone(struct sim_buf *dst, const struct sim_buf *src)
{
	dst->bytes = NULL;
	dst->len = 0;
	dst->cap = 0;
	if (src->len == 0) {
		return 0;
	}
	dst->bytes = malloc(src->len);
	if (dst->bytes == NULL) {
		return -ENOMEM;
	}
	memcpy(dst->bytes, src->bytes, src->len);
	dst->len = src->len;
	dst->cap = src->len;
	return 0;
}

/* ---- Names. ---- */

/* Check a bare name; on success *len is its length. */
static int name_check(const char *name, size_t *len)
{
	if (name == NULL) {
		return -EINVAL;
	}
	size_t n = name_len_bounded(name, RLOG_VFS_NAME_MAX);
	if (n == 0 || n > RLOG_VFS_NAME_MAX) {
		return -EINVAL;
	}
	if (memchr(name, '/', n) != NULL) {
		return -EINVAL;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		return -EINVAL;
	}
	*len = n;
	return 0;
}

/* ---- Inodes. ---- */

static const struct sim_buf *ino_view(const struct sim_inode *n)
{
	return n->cache_shared ? &n->dur : &n->cache;
}

static uint64_t ino_size(const struct sim_inode *n)
{
	return (uint64_t)ino_view(n)->len;
}

/* Make room for one more inode. */
static int ino_reserve(struct rlog_sim_disk *disk)
{
	if (disk->inodes_used >= disk->opts.files_max) {
		return -ENOSPC;
	}
	if (disk->inode_free != SIM_NONE) {
		return 0;
	}
	uint32_t old = disk->inodes_cap;
	uint32_t cap = old == 0 ? 16u : old * 2u;
	if (cap > disk->opts.files_max) {
		cap = disk->opts.files_max;
	}
	assert(cap > old);
	struct sim_inode *inodes =
	    realloc(disk->inodes, (size_t)cap * sizeof(*inodes));
	if (inodes == NULL) {
		return -ENOMEM;
	}
	memset(inodes + old, 0, (size_t)(cap - old) * sizeof(*inodes));
	for (uint32_t i = cap; i > old; i--) {
		inodes[i - 1u].next_free = disk->inode_free;
		disk->inode_free = i - 1u;
	}
	disk->inodes = inodes;
	disk->inodes_cap = cap;
	return 0;
}

/* Take a reserved inode slot: an empty file with no links. */
static uint32_t ino_alloc(struct rlog_sim_disk *disk, const char *name,
			  size_t len)
{
	uint32_t i = disk->inode_free;
	assert(i != SIM_NONE);
	struct sim_inode *n = &disk->inodes[i];
	disk->inode_free = n->next_free;
	memset(n, 0, sizeof(*n));
	n->used = true;
	n->cache_shared = true;
	n->next_free = SIM_NONE;
	memcpy(n->name, name, len);
	disk->inodes_used++;
	return i;
}

/* Free an inode's memory and slot without touching bytes_used. */
static void ino_free_raw(struct rlog_sim_disk *disk, uint32_t i)
{
	struct sim_inode *n = &disk->inodes[i];
	assert(n->used);
	buf_free(&n->dur);
	buf_free(&n->cache);
	buf_free(&n->pend);
	free(n->ops);
	memset(n, 0, sizeof(*n));
	n->next_free = disk->inode_free;
	disk->inode_free = i;
	disk->inodes_used--;
}

static void ino_free(struct rlog_sim_disk *disk, uint32_t i)
{
	uint64_t size = ino_size(&disk->inodes[i]);
	assert(disk->bytes_used >= size);
	disk->bytes_used -= size;
	ino_free_raw(disk, i);
}

static void ino_maybe_free(struct rlog_sim_disk *disk, uint32_t i)
{
	struct sim_inode *n = &disk->inodes[i];
	if (!disk->defer_free && n->links == 0 && n->handles == 0) {
		ino_free(disk, i);
	}
}

static void ino_unlink(struct rlog_sim_disk *disk, uint32_t i)
{
	assert(disk->inodes[i].links > 0);
	disk->inodes[i].links--;
	ino_maybe_free(disk, i);
}

/* Give the inode its own cache (a copy of dur) so it can diverge. */
static int ino_own_cache(struct sim_inode *n)
{
	if (!n->cache_shared) {
		return 0;
	}
	int rc = buf_reserve(&n->cache, n->dur.len);
	if (rc != 0) {
		return rc;
	}
	if (n->dur.len > 0) {
		memcpy(n->cache.bytes, n->dur.bytes, n->dur.len);
	}
	n->cache.len = n->dur.len;
	n->cache_shared = false;
	return 0;
}

/* Make room for one more pending op of data_len bytes and for a cache of
 * cache_len bytes. */
static int ino_reserve_op(struct sim_inode *n, size_t data_len,
			  size_t cache_len)
{
	if (n->nops >= RLOG_SIM_FILE_OPS_MAX) {
		return -ENOSPC;
	}
	int rc = ino_own_cache(n);
	if (rc == 0) {
		rc = buf_reserve(&n->cache, cache_len);
	}
	if (rc == 0) {
		rc = buf_reserve(&n->pend, n->pend.len + data_len);
	}
	if (rc != 0 || n->nops < n->ops_cap) {
		return rc;
	}
	uint32_t cap = n->ops_cap == 0 ? 8u : n->ops_cap * 2u;
	struct sim_dop *ops = realloc(n->ops, (size_t)cap * sizeof(*ops));
	if (ops == NULL) {
		return -ENOMEM;
	}
	n->ops = ops;
	n->ops_cap = cap;
	return 0;
}

/* Record and apply a pending write of len > 0 bytes. */
static int ino_write(struct rlog_sim_disk *disk, uint32_t i, uint64_t seq,
		     uint64_t offset, const void *data, size_t len)
{
	struct sim_inode *n = &disk->inodes[i];
	size_t off = (size_t)offset;
	int rc = ino_reserve_op(n, len, off + len);
	if (rc != 0) {
		return rc;
	}
	struct sim_dop *op = &n->ops[n->nops++];
	op->seq = seq;
	op->offset = offset;
	op->len = len;
	op->data_at = n->pend.len;
	op->truncate = false;
	memcpy(n->pend.bytes + n->pend.len, data, len);
	n->pend.len += len;
	size_t before = n->cache.len;
	buf_write(&n->cache, off, data, len);
	disk->bytes_used += (uint64_t)(n->cache.len - before);
	return 0;
}

/* Record and apply a pending truncate. */
static int ino_truncate(struct rlog_sim_disk *disk, uint32_t i, uint64_t seq,
			uint64_t size)
{
	struct sim_inode *n = &disk->inodes[i];
	int rc = ino_reserve_op(n, 0, (size_t)size);
	if (rc != 0) {
		return rc;
	}
	struct sim_dop *op = &n->ops[n->nops++];
	op->seq = seq;
	op->offset = size;
	op->len = 0;
	op->data_at = n->pend.len;
	op->truncate = true;
	disk->bytes_used -= (uint64_t)n->cache.len;
	buf_resize(&n->cache, (size_t)size);
	disk->bytes_used += (uint64_t)n->cache.len;
	return 0;
}

/* Reserve dur for every pending op of the inode, so applying them cannot
 * fail. */
static int ino_reserve_dur(struct sim_inode *n)
{
	size_t extent = n->dur.len;
	for (uint32_t j = 0; j < n->nops; j++) {
		const struct sim_dop *op = &n->ops[j];
		size_t end = (size_t)op->offset + (op->truncate ? 0u : op->len);
		if (end > extent) {
			extent = end;
		}
	}
	return buf_reserve(&n->dur, extent);
}

/* Apply one pending op to dur in full. */
static void ino_apply(struct sim_inode *n, const struct sim_dop *op)
{
	if (op->truncate) {
		buf_resize(&n->dur, (size_t)op->offset);
	} else {
		buf_write(&n->dur, (size_t)op->offset,
			  n->pend.bytes + op->data_at, op->len);
	}
}

static void ino_drop_pending(struct sim_inode *n)
{
	n->nops = 0;
	n->pend.len = 0;
}

/* ---- Directory entries. ---- */

static uint32_t dent_find(const struct rlog_sim_disk *disk, const char *name,
			  uint64_t hash)
{
	uint32_t i = disk->buckets[hash & (disk->nbuckets - 1u)];
	for (uint32_t steps = 0; i != SIM_NONE && steps <= disk->dents_used;
	     steps++) {
		const struct sim_dent *e = &disk->dents[i];
		if (e->hash == hash && strcmp(e->name, name) == 0) {
			return i;
		}
		i = e->next;
	}
	return SIM_NONE;
}

/* Rebuild the hash chains over nbuckets buckets. */
static int dent_rehash(struct rlog_sim_disk *disk, uint32_t nbuckets)
{
	uint32_t *buckets = malloc((size_t)nbuckets * sizeof(*buckets));
	if (buckets == NULL) {
		return -ENOMEM;
	}
	for (uint32_t b = 0; b < nbuckets; b++) {
		buckets[b] = SIM_NONE;
	}
	for (uint32_t i = disk->dents_cap; i > 0; i--) {
		struct sim_dent *e = &disk->dents[i - 1u];
		if (!e->used) {
			continue;
		}
		uint32_t b = (uint32_t)(e->hash & (nbuckets - 1u));
		e->next = buckets[b];
		buckets[b] = i - 1u;
	}
	free(disk->buckets);
	disk->buckets = buckets;
	disk->nbuckets = nbuckets;
	return 0;
}

/* Make room for n more dents, keeping the load factor at most one. */
static int dent_reserve(struct rlog_sim_disk *disk, uint32_t n)
{
	uint32_t need = disk->dents_used + n;
	if (need > disk->dents_cap) {
		uint32_t old = disk->dents_cap;
		uint32_t cap = old == 0 ? 16u : old * 2u;
		if (cap < need) {
			cap = need;
		}
		struct sim_dent *dents =
		    realloc(disk->dents, (size_t)cap * sizeof(*dents));
		if (dents == NULL) {
			return -ENOMEM;
		}
		memset(dents + old, 0, (size_t)(cap - old) * sizeof(*dents));
		for (uint32_t i = cap; i > old; i--) {
			dents[i - 1u].next = disk->dent_free;
			disk->dent_free = i - 1u;
		}
		disk->dents = dents;
		disk->dents_cap = cap;
	}
	if (need <= disk->nbuckets) {
		return 0;
	}
	uint32_t nb = disk->nbuckets;
	for (int k = 0; k < 32 && nb < need; k++) {
		nb *= 2u;
	}
	return dent_rehash(disk, nb);
}

/* Find name, or insert it into a reserved slot. */
static uint32_t dent_get(struct rlog_sim_disk *disk, const char *name,
			 size_t len, uint64_t hash)
{
	uint32_t i = dent_find(disk, name, hash);
	if (i != SIM_NONE) {
		return i;
	}
	i = disk->dent_free;
	assert(i != SIM_NONE);
	struct sim_dent *e = &disk->dents[i];
	disk->dent_free = e->next;
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, len);
	e->hash = hash;
	e->cur = SIM_NONE;
	e->dur = SIM_NONE;
	e->used = true;
	uint32_t b = (uint32_t)(hash & (disk->nbuckets - 1u));
	e->next = disk->buckets[b];
	disk->buckets[b] = i;
	disk->dents_used++;
	return i;
}

/* Delete the dent once nothing refers to it. */
static void dent_drop_if_empty(struct rlog_sim_disk *disk, uint32_t i)
{
	struct sim_dent *e = &disk->dents[i];
	if (!e->used || e->cur != SIM_NONE || e->dur != SIM_NONE ||
	    e->pending != 0) {
		return;
	}
	uint32_t *link = &disk->buckets[e->hash & (disk->nbuckets - 1u)];
	for (uint32_t steps = 0; *link != SIM_NONE && steps <= disk->dents_used;
	     steps++) {
		if (*link == i) {
			*link = e->next;
			break;
		}
		link = &disk->dents[*link].next;
	}
	memset(e, 0, sizeof(*e));
	e->next = disk->dent_free;
	disk->dent_free = i;
	disk->dents_used--;
}

static void dent_set_cur(struct rlog_sim_disk *disk, uint32_t d, uint32_t ino)
{
	uint32_t old = disk->dents[d].cur;
	if (ino != SIM_NONE) {
		disk->inodes[ino].links++;
	}
	disk->dents[d].cur = ino;
	if (old != SIM_NONE) {
		ino_unlink(disk, old);
	}
}

static void dent_set_dur(struct rlog_sim_disk *disk, uint32_t d, uint32_t ino)
{
	uint32_t old = disk->dents[d].dur;
	if (ino != SIM_NONE) {
		disk->inodes[ino].links++;
	}
	disk->dents[d].dur = ino;
	if (old != SIM_NONE) {
		ino_unlink(disk, old);
	}
}

/* Look a name up in the current (durable false) or durable view. */
static uint32_t dent_inode(const struct rlog_sim_disk *disk, const char *name,
			   bool durable)
{
	size_t len;
	if (name_check(name, &len) != 0) {
		return SIM_NONE;
	}
	uint32_t d =
	    dent_find(disk, name, hash_bytes(SIM_FNV_OFFSET, name, len));
	if (d == SIM_NONE) {
		return SIM_NONE;
	}
	return durable ? disk->dents[d].dur : disk->dents[d].cur;
}

/* ---- Pending directory operations. ---- */

static int dirop_reserve(struct rlog_sim_disk *disk)
{
	if (disk->ndirops >= RLOG_SIM_DIR_OPS_MAX) {
		return -ENOSPC;
	}
	if (disk->ndirops < disk->dirops_cap) {
		return 0;
	}
	uint32_t cap = disk->dirops_cap == 0 ? 16u : disk->dirops_cap * 2u;
	struct sim_dirop *ops =
	    realloc(disk->dirops, (size_t)cap * sizeof(*ops));
	if (ops == NULL) {
		return -ENOMEM;
	}
	disk->dirops = ops;
	disk->dirops_cap = cap;
	return 0;
}

/* Append a reserved dirop, taking its references. */
static void dirop_push(struct rlog_sim_disk *disk, enum sim_dirop_kind kind,
		       uint64_t seq, uint32_t from, uint32_t to, uint32_t ino,
		       bool doomed)
{
	assert(disk->ndirops < disk->dirops_cap);
	struct sim_dirop *op = &disk->dirops[disk->ndirops++];
	op->seq = seq;
	op->from = from;
	op->to = to;
	op->ino = ino;
	op->kind = (uint8_t)kind;
	op->doomed = doomed;
	disk->dents[from].pending++;
	if (to != SIM_NONE) {
		disk->dents[to].pending++;
	}
	if (ino != SIM_NONE) {
		disk->inodes[ino].links++;
	}
}

/* Apply a dirop to the durable view. Ops act on names: a rename moves
 * whatever the durable view holds under its source name, if anything. */
static void dirop_apply(struct rlog_sim_disk *disk, const struct sim_dirop *op)
{
	switch (op->kind) {
	case SIM_DIR_CREATE:
		dent_set_dur(disk, op->from, op->ino);
		break;
	case SIM_DIR_REMOVE:
		dent_set_dur(disk, op->from, SIM_NONE);
		break;
	default: {
		uint32_t ino = disk->dents[op->from].dur;
		if (ino != SIM_NONE) {
			dent_set_dur(disk, op->to, ino);
			dent_set_dur(disk, op->from, SIM_NONE);
		}
		break;
	}
	}
}

/* Drop a dirop's references. */
static void dirop_release(struct rlog_sim_disk *disk,
			  const struct sim_dirop *op)
{
	if (op->ino != SIM_NONE) {
		ino_unlink(disk, op->ino);
	}
	disk->dents[op->from].pending--;
	dent_drop_if_empty(disk, op->from);
	if (op->to != SIM_NONE) {
		disk->dents[op->to].pending--;
		dent_drop_if_empty(disk, op->to);
	}
}

/* ---- Faults. ---- */

static uint32_t fault_bit(enum rlog_sim_fault kind)
{
	return 1u << (unsigned)kind;
}

static void fault_remove(struct rlog_sim_disk *disk, uint32_t i)
{
	memmove(&disk->faults[i], &disk->faults[i + 1u],
		(size_t)(disk->nfaults - i - 1u) * sizeof(disk->faults[0]));
	disk->nfaults--;
}

static bool fault_name_is(const struct sim_fault_slot *slot, const char *name)
{
	return name != NULL && strncmp(slot->name, name, SIM_NAME_BYTES) == 0;
}

/* Decide whether a fault of a kind in mask hits op opno, which names name
 * and name2 (either may be NULL): first the scheduled faults in the order
 * they were scheduled, then the random rates in kind order. *by_name tells
 * whether a scheduled fault matched by name. */
static enum rlog_sim_fault fault_draw(struct rlog_sim_disk *disk, uint64_t opno,
				      uint32_t mask, const char *name,
				      const char *name2, bool *by_name)
{
	*by_name = false;
	uint32_t i = 0;
	while (i < disk->nfaults) {
		const struct sim_fault_slot *slot = &disk->faults[i];
		if (slot->op_number != 0 && slot->op_number < opno) {
			fault_remove(disk, i);
			continue;
		}
		bool hit;
		if (slot->op_number != 0) {
			hit = slot->op_number == opno;
		} else {
			hit = slot->any_name || fault_name_is(slot, name) ||
			      fault_name_is(slot, name2);
		}
		if (hit && (mask & fault_bit(slot->kind)) != 0 &&
		    slot->skip > 0) {
			disk->faults[i].skip--;
			i++;
			continue;
		}
		if (hit && (mask & fault_bit(slot->kind)) != 0) {
			enum rlog_sim_fault kind = slot->kind;
			*by_name = slot->op_number == 0 && !slot->any_name;
			fault_remove(disk, i);
			disk->faults_injected++;
			return kind;
		}
		i++;
	}
	for (unsigned k = 1; k < RLOG_SIM_FAULT_COUNT; k++) {
		uint32_t rate = disk->opts.fault_rate_ppm[k];
		if ((mask & (1u << k)) == 0 || rate == 0) {
			continue;
		}
		if (rlog_sim_prng_chance(&disk->prng, rate, SIM_PPM)) {
			disk->faults_injected++;
			return (enum rlog_sim_fault)k;
		}
	}
	return RLOG_SIM_FAULT_NONE;
}

/* ---- Bit flips. ---- */

/* Flip a bit of inode i's durable bytes and, where it reaches, its cache. */
static void flip_apply(struct rlog_sim_disk *disk, uint32_t i, size_t offset,
		       unsigned bit)
{
	struct sim_inode *n = &disk->inodes[i];
	uint8_t mask = (uint8_t)(1u << bit);
	n->dur.bytes[offset] ^= mask;
	if (!n->cache_shared && offset < n->cache.len) {
		n->cache.bytes[offset] ^= mask;
	}
	disk->trace_hash = hash_u64(disk->trace_hash, 0xf11bu);
	disk->trace_hash = hash_u64(disk->trace_hash, (uint64_t)offset);
	disk->trace_hash = hash_u64(disk->trace_hash, (uint64_t)bit);
	trace_add(disk, "flip: %s @%zu bit %u", n->name, offset, bit);
}

/* Flip a PRNG-chosen durable bit of name, or of any file when NULL. */
static int flip_random(struct rlog_sim_disk *disk, const char *name)
{
	if (name != NULL) {
		uint32_t i = dent_inode(disk, name, true);
		if (i == SIM_NONE || disk->inodes[i].dur.len == 0) {
			return -ENOENT;
		}
		uint64_t size = (uint64_t)disk->inodes[i].dur.len;
		size_t off = (size_t)rlog_sim_prng_below(&disk->prng, size);
		unsigned bit = (unsigned)rlog_sim_prng_below(&disk->prng, 8);
		flip_apply(disk, i, off, bit);
		return 0;
	}
	uint64_t total = 0;
	for (uint32_t d = 0; d < disk->dents_cap; d++) {
		const struct sim_dent *e = &disk->dents[d];
		if (e->used && e->dur != SIM_NONE) {
			total += (uint64_t)disk->inodes[e->dur].dur.len;
		}
	}
	if (total == 0) {
		return -ENOENT;
	}
	uint64_t pick = rlog_sim_prng_below(&disk->prng, total);
	unsigned bit = (unsigned)rlog_sim_prng_below(&disk->prng, 8);
	for (uint32_t d = 0; d < disk->dents_cap; d++) {
		const struct sim_dent *e = &disk->dents[d];
		if (!e->used || e->dur == SIM_NONE) {
			continue;
		}
		uint64_t size = (uint64_t)disk->inodes[e->dur].dur.len;
		if (pick < size) {
			flip_apply(disk, e->dur, (size_t)pick, bit);
			return 0;
		}
		pick -= size;
	}
	return -ENOENT;
}

/* ---- Op bookkeeping. ---- */

/* Start an op: false when the machine is dead (the op must return -EIO
 * without effect). Otherwise number it and run any bit-flip fault. */
static bool op_enter(struct rlog_sim_disk *disk, struct sim_rec *rec,
		     uint64_t *opno)
{
	if (disk->dead) {
		rec->dead = true;
		return false;
	}
	disk->op_count++;
	*opno = disk->op_count;
	bool by_name;
	enum rlog_sim_fault f =
	    fault_draw(disk, *opno, fault_bit(RLOG_SIM_FAULT_BIT_FLIP),
		       rec->name, rec->name2, &by_name);
	if (f == RLOG_SIM_FAULT_BIT_FLIP) {
		int rc = flip_random(disk, by_name ? rec->name : NULL);
		disk->trace_hash = hash_u64(disk->trace_hash, (uint64_t)-rc);
	}
	return true;
}

/* Print an op's trace line. */
static void op_trace_line(struct rlog_sim_disk *disk, const struct sim_rec *rec,
			  int rc)
{
	char line[RLOG_SIM_TRACE_LINE_BYTES];
	size_t used = 0;
	if (rec->dead) {
		line_append(line, &used, "dead: ");
	} else {
		line_append(line, &used, "#%" PRIu64 " ", disk->op_count);
	}
	line_append(line, &used, "%s", sim_op_names[rec->op]);
	if (rec->name != NULL) {
		line_append(line, &used, " %.*s", RLOG_VFS_NAME_MAX, rec->name);
	}
	if (rec->name2 != NULL) {
		line_append(line, &used, " -> %.*s", RLOG_VFS_NAME_MAX,
			    rec->name2);
	}
	if (rec->op == SIM_OP_PREAD || rec->op == SIM_OP_PWRITE) {
		line_append(line, &used, " @%" PRIu64 "+%" PRIu64, rec->offset,
			    rec->len);
	} else if (rec->op == SIM_OP_TRUNCATE) {
		line_append(line, &used, " to %" PRIu64, rec->offset);
	} else if (rec->op == SIM_OP_OPEN) {
		line_append(line, &used, " flags %" PRIu64, rec->offset);
	}
	line_append(line, &used, " = %d", rc);
	if (rec->fault != RLOG_SIM_FAULT_NONE) {
		line_append(line, &used, " (fault %s)",
			    sim_fault_names[rec->fault]);
	}
	trace_add(disk, "%s", line);
}

/* Finish an op: hash it into the trace, log it, and kill the machine once
 * the crash point is reached. Returns rc. */
static int op_finish(struct rlog_sim_disk *disk, const struct sim_rec *rec,
		     int rc)
{
	uint64_t h = disk->trace_hash;
	h = hash_u64(h, ((uint64_t)rec->op << 8) | (uint64_t)rec->fault);
	h = hash_u64(h, rec->dead ? 1u : 0u);
	h = hash_name(h, rec->name);
	h = hash_name(h, rec->name2);
	h = hash_u64(h, rec->offset);
	h = hash_u64(h, rec->len);
	h = hash_u64(h, rec->data_hash);
	h = hash_u64(h, (uint64_t)(int64_t)rc);
	disk->trace_hash = h;
	if (disk->opts.trace_lines != 0) {
		op_trace_line(disk, rec, rc);
	}
	if (!disk->dead && disk->op_count >= disk->crash_at) {
		disk->dead = true;
	}
	return rc;
}

/* ---- Files. ---- */

static const struct rlog_file_ops sim_file_ops;

static struct sim_file *file_of(struct rlog_file *file)
{
	return (struct sim_file *)file;
}

/* Create a new empty file under name (missing from the current view). */
static int disk_create(struct rlog_sim_disk *disk, const char *name, size_t len,
		       uint64_t hash, uint64_t opno, bool doomed, uint32_t *ino)
{
	int rc = ino_reserve(disk);
	if (rc == 0) {
		rc = dent_reserve(disk, 1);
	}
	if (rc == 0) {
		rc = dirop_reserve(disk);
	}
	if (rc != 0) {
		return rc;
	}
	uint32_t d = dent_get(disk, name, len, hash);
	uint32_t i = ino_alloc(disk, name, len);
	dirop_push(disk, SIM_DIR_CREATE, opno, d, SIM_NONE, i, doomed);
	dent_set_cur(disk, d, i);
	*ino = i;
	return 0;
}

static void file_attach(struct rlog_sim_disk *disk, struct sim_file *f,
			uint32_t ino, const char *name, size_t len, bool lock)
{
	f->base.ops = &sim_file_ops;
	f->disk = disk;
	f->ino = ino;
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	disk->inodes[ino].handles++;
	if (lock) {
		f->holds_lock = true;
		disk->inodes[ino].locked = true;
	}
	f->prev = NULL;
	f->next = disk->files;
	if (disk->files != NULL) {
		disk->files->prev = f;
	}
	disk->files = f;
}

/* Unlink a handle from the disk, releasing its lock and inode. */
static void file_detach(struct rlog_sim_disk *disk, struct sim_file *f)
{
	if (f->prev != NULL) {
		f->prev->next = f->next;
	} else {
		disk->files = f->next;
	}
	if (f->next != NULL) {
		f->next->prev = f->prev;
	}
	if (!f->dead) {
		struct sim_inode *n = &disk->inodes[f->ino];
		if (f->holds_lock) {
			n->locked = false;
		}
		n->handles--;
		ino_maybe_free(disk, f->ino);
	}
}

/* The body of open and lock. */
static int disk_open(struct rlog_sim_disk *disk, struct sim_rec *rec,
		     uint64_t opno, const char *name, int flags, bool lock,
		     struct rlog_file **out)
{
	size_t len;
	int rc = name_check(name, &len);
	if (rc != 0 || out == NULL ||
	    (flags & ~(RLOG_VFS_CREATE | RLOG_VFS_EXCL)) != 0) {
		return -EINVAL;
	}
	uint64_t hash = hash_bytes(SIM_FNV_OFFSET, name, len);
	uint32_t d = dent_find(disk, name, hash);
	uint32_t ino = d == SIM_NONE ? SIM_NONE : disk->dents[d].cur;
	bool create = ino == SIM_NONE;
	bool want_create = (flags & RLOG_VFS_CREATE) != 0;
	if (!create && want_create && (flags & RLOG_VFS_EXCL) != 0) {
		return -EEXIST;
	}
	if (create && !want_create) {
		return -ENOENT;
	}
	uint32_t mask = fault_bit(RLOG_SIM_FAULT_EIO);
	if (create) {
		mask |= fault_bit(RLOG_SIM_FAULT_DIR_LOST);
	}
	bool by_name;
	rec->fault = fault_draw(disk, opno, mask, name, NULL, &by_name);
	if (rec->fault == RLOG_SIM_FAULT_EIO) {
		return -EIO;
	}
	if (lock && !create && disk->inodes[ino].locked) {
		return -EWOULDBLOCK;
	}
	struct sim_file *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		return -ENOMEM;
	}
	if (create) {
		bool doomed = rec->fault == RLOG_SIM_FAULT_DIR_LOST;
		rc = disk_create(disk, name, len, hash, opno, doomed, &ino);
		if (rc != 0) {
			free(f);
			return rc;
		}
	}
	file_attach(disk, f, ino, name, len, lock);
	*out = &f->base;
	return 0;
}

/* Amount of a write of len bytes at offset to inode i that fits in the
 * disk size limit. */
static size_t disk_fit(const struct rlog_sim_disk *disk, uint32_t i,
		       uint64_t offset, size_t len)
{
	uint64_t limit = disk->opts.disk_size_max_bytes;
	uint64_t size = ino_size(&disk->inodes[i]);
	uint64_t end = offset + (uint64_t)len;
	if (limit == 0 || end <= size) {
		return len;
	}
	uint64_t avail =
	    limit > disk->bytes_used ? limit - disk->bytes_used : 0;
	if (end - size <= avail) {
		return len;
	}
	uint64_t allowed_end = size + avail;
	return allowed_end <= offset ? 0 : (size_t)(allowed_end - offset);
}

static int disk_pread(struct rlog_sim_disk *disk, struct sim_file *f,
		      struct sim_rec *rec, uint64_t opno, void *buf, size_t len,
		      uint64_t offset, size_t *nread)
{
	if (nread == NULL || (buf == NULL && len > 0)) {
		return -EINVAL;
	}
	uint32_t mask =
	    fault_bit(RLOG_SIM_FAULT_EIO) | fault_bit(RLOG_SIM_FAULT_READ);
	bool by_name;
	rec->fault = fault_draw(disk, opno, mask, f->name, NULL, &by_name);
	if (rec->fault != RLOG_SIM_FAULT_NONE) {
		return -EIO;
	}
	const struct sim_buf *view = ino_view(&disk->inodes[f->ino]);
	size_t n = 0;
	if (offset < (uint64_t)view->len) {
		size_t left = view->len - (size_t)offset;
		n = len < left ? len : left;
	}
	if (n > 0) {
		memcpy(buf, view->bytes + offset, n);
	}
	*nread = n;
	/* What a read returns follows from the writes before it, which the
	 * trace already hashes; its length is enough here. */
	rec->data_hash = (uint64_t)n;
	return 0;
}

static int disk_pwrite(struct rlog_sim_disk *disk, struct sim_file *f,
		       struct sim_rec *rec, uint64_t opno, const void *buf,
		       size_t len, uint64_t offset)
{
	uint64_t max = disk->opts.file_size_max_bytes;
	if (buf == NULL && len > 0) {
		return -EINVAL;
	}
	if (offset > max || (uint64_t)len > max - offset) {
		return -EFBIG;
	}
	rec->data_hash = hash_bytes(SIM_FNV_OFFSET, buf, len);
	uint32_t mask = fault_bit(RLOG_SIM_FAULT_EIO) |
			fault_bit(RLOG_SIM_FAULT_WRITE) |
			fault_bit(RLOG_SIM_FAULT_NOSPACE);
	bool by_name;
	rec->fault = fault_draw(disk, opno, mask, f->name, NULL, &by_name);
	size_t keep = len;
	int err = 0;
	if (rec->fault != RLOG_SIM_FAULT_NONE) {
		keep = (size_t)rlog_sim_prng_below(&disk->prng,
						   (uint64_t)len + 1u);
		err = rec->fault == RLOG_SIM_FAULT_NOSPACE ? -ENOSPC : -EIO;
	}
	size_t fit = disk_fit(disk, f->ino, offset, keep);
	if (fit < keep) {
		keep = fit;
		if (err == 0) {
			err = -ENOSPC;
		}
	}
	if (keep > 0) {
		int rc = ino_write(disk, f->ino, opno, offset, buf, keep);
		if (rc != 0) {
			return rc;
		}
	}
	return err;
}

static int disk_sync(struct rlog_sim_disk *disk, struct sim_file *f,
		     struct sim_rec *rec, uint64_t opno)
{
	struct sim_inode *n = &disk->inodes[f->ino];
	uint32_t mask =
	    fault_bit(RLOG_SIM_FAULT_EIO) | fault_bit(RLOG_SIM_FAULT_SYNC);
	bool by_name;
	rec->fault = fault_draw(disk, opno, mask, f->name, NULL, &by_name);
	rec->len = n->nops;
	if (rec->fault != RLOG_SIM_FAULT_NONE) {
		/* Like Linux after a failed fsync: the dirty pages are marked
		 * clean, so this data never reaches the disk, yet the page
		 * cache keeps serving it. */
		ino_drop_pending(n);
		return -EIO;
	}
	int rc = ino_reserve_dur(n);
	if (rc != 0) {
		return rc;
	}
	for (uint32_t j = 0; j < n->nops; j++) {
		ino_apply(n, &n->ops[j]);
	}
	ino_drop_pending(n);
	return 0;
}

static int disk_truncate(struct rlog_sim_disk *disk, struct sim_file *f,
			 struct sim_rec *rec, uint64_t opno, uint64_t size)
{
	if (size > disk->opts.file_size_max_bytes) {
		return -EFBIG;
	}
	uint32_t mask =
	    fault_bit(RLOG_SIM_FAULT_EIO) | fault_bit(RLOG_SIM_FAULT_NOSPACE);
	bool by_name;
	rec->fault = fault_draw(disk, opno, mask, f->name, NULL, &by_name);
	if (rec->fault == RLOG_SIM_FAULT_EIO) {
		return -EIO;
	}
	if (rec->fault == RLOG_SIM_FAULT_NOSPACE) {
		return -ENOSPC;
	}
	uint64_t now = ino_size(&disk->inodes[f->ino]);
	uint64_t limit = disk->opts.disk_size_max_bytes;
	uint64_t avail =
	    limit > disk->bytes_used ? limit - disk->bytes_used : 0;
	if (limit != 0 && size > now && size - now > avail) {
		return -ENOSPC;
	}
	return ino_truncate(disk, f->ino, opno, size);
}

/* Start a file method: 0 when it may run, else the error to return. */
static int file_enter(struct sim_file *f, struct sim_rec *rec, uint64_t *opno)
{
	rec->name = f->name;
	if (!op_enter(f->disk, rec, opno)) {
		return -EIO;
	}
	return f->dead ? -EIO : 0;
}

static int file_pread(struct rlog_file *file, void *buf, size_t len,
		      uint64_t offset, size_t *nread)
{
	struct sim_file *f = file_of(file);
	if (nread != NULL) {
		*nread = 0;
	}
	if (f->disk == NULL) {
		return -EIO;
	}
	struct sim_rec rec = {.op = SIM_OP_PREAD, .offset = offset, .len = len};
	uint64_t opno = 0;
	int rc = file_enter(f, &rec, &opno);
	if (rc == 0) {
		rc =
		    disk_pread(f->disk, f, &rec, opno, buf, len, offset, nread);
	}
	return op_finish(f->disk, &rec, rc);
}

static int file_pwrite(struct rlog_file *file, const void *buf, size_t len,
		       uint64_t offset)
{
	struct sim_file *f = file_of(file);
	if (f->disk == NULL) {
		return -EIO;
	}
	struct sim_rec rec = {
	    .op = SIM_OP_PWRITE, .offset = offset, .len = len};
	uint64_t opno = 0;
	int rc = file_enter(f, &rec, &opno);
	if (rc == 0) {
		rc = disk_pwrite(f->disk, f, &rec, opno, buf, len, offset);
	}
	return op_finish(f->disk, &rec, rc);
}

static int file_sync(struct rlog_file *file)
{
	struct sim_file *f = file_of(file);
	if (f->disk == NULL) {
		return -EIO;
	}
	struct sim_rec rec = {.op = SIM_OP_SYNC};
	uint64_t opno = 0;
	int rc = file_enter(f, &rec, &opno);
	if (rc == 0) {
		rc = disk_sync(f->disk, f, &rec, opno);
	}
	return op_finish(f->disk, &rec, rc);
}

static int file_truncate(struct rlog_file *file, uint64_t size)
{
	struct sim_file *f = file_of(file);
	if (f->disk == NULL) {
		return -EIO;
	}
	struct sim_rec rec = {.op = SIM_OP_TRUNCATE, .offset = size};
	uint64_t opno = 0;
	int rc = file_enter(f, &rec, &opno);
	if (rc == 0) {
		rc = disk_truncate(f->disk, f, &rec, opno, size);
	}
	return op_finish(f->disk, &rec, rc);
}

static int file_size(struct rlog_file *file, uint64_t *size)
{
	struct sim_file *f = file_of(file);
	if (f->disk == NULL) {
		return -EIO;
	}
	struct rlog_sim_disk *disk = f->disk;
	struct sim_rec rec = {.op = SIM_OP_SIZE};
	uint64_t opno = 0;
	int rc = file_enter(f, &rec, &opno);
	if (rc == 0 && size == NULL) {
		rc = -EINVAL;
	}
	if (rc == 0) {
		bool by_name;
		rec.fault =
		    fault_draw(disk, opno, fault_bit(RLOG_SIM_FAULT_EIO),
			       f->name, NULL, &by_name);
		rc = rec.fault != RLOG_SIM_FAULT_NONE ? -EIO : 0;
	}
	if (rc == 0) {
		*size = ino_size(&disk->inodes[f->ino]);
		rec.offset = *size;
	}
	return op_finish(disk, &rec, rc);
}

static int file_close(struct rlog_file *file)
{
	struct sim_file *f = file_of(file);
	struct rlog_sim_disk *disk = f->disk;
	if (disk == NULL) {
		free(f);
		return 0;
	}
	struct sim_rec rec = {.op = SIM_OP_CLOSE, .name = f->name};
	uint64_t opno = 0;
	int rc = 0;
	if (!op_enter(disk, &rec, &opno)) {
		rc = -EIO;
	} else if (!f->dead) {
		bool by_name;
		rec.fault =
		    fault_draw(disk, opno, fault_bit(RLOG_SIM_FAULT_EIO),
			       f->name, NULL, &by_name);
		rc = rec.fault != RLOG_SIM_FAULT_NONE ? -EIO : 0;
	}
	file_detach(disk, f);
	rc = op_finish(disk, &rec, rc);
	free(f);
	return rc;
}

static const struct rlog_file_ops sim_file_ops = {
    .pread = file_pread,
    .pwrite = file_pwrite,
    .sync = file_sync,
    .truncate = file_truncate,
    .size = file_size,
    .close = file_close,
};

/* ---- Directory methods. ---- */

static int vfs_open(struct rlog_vfs *vfs, const char *name, int flags,
		    struct rlog_file **out)
{
	struct rlog_sim_disk *disk = vfs->ctx;
	struct sim_rec rec = {.op = SIM_OP_OPEN,
			      .name = name,
			      .offset = (uint64_t)(flags & 0xff)};
	uint64_t opno = 0;
	if (out != NULL) {
		*out = NULL;
	}
	int rc = -EIO;
	if (op_enter(disk, &rec, &opno)) {
		rc = disk_open(disk, &rec, opno, name, flags, false, out);
	}
	return op_finish(disk, &rec, rc);
}

static int vfs_lock(struct rlog_vfs *vfs, const char *name,
		    struct rlog_file **out)
{
	struct rlog_sim_disk *disk = vfs->ctx;
	struct sim_rec rec = {.op = SIM_OP_LOCK, .name = name};
	uint64_t opno = 0;
	if (out != NULL) {
		*out = NULL;
	}
	int rc = -EIO;
	if (op_enter(disk, &rec, &opno)) {
		rc = disk_open(disk, &rec, opno, name, RLOG_VFS_CREATE, true,
			       out);
	}
	return op_finish(disk, &rec, rc);
}

static int disk_remove(struct rlog_sim_disk *disk, struct sim_rec *rec,
		       uint64_t opno, const char *name)
{
	size_t len;
	if (name_check(name, &len) != 0) {
		return -EINVAL;
	}
	uint32_t d =
	    dent_find(disk, name, hash_bytes(SIM_FNV_OFFSET, name, len));
	if (d == SIM_NONE || disk->dents[d].cur == SIM_NONE) {
		return -ENOENT;
	}
	uint32_t mask =
	    fault_bit(RLOG_SIM_FAULT_EIO) | fault_bit(RLOG_SIM_FAULT_DIR_LOST);
	bool by_name;
	rec->fault = fault_draw(disk, opno, mask, name, NULL, &by_name);
	if (rec->fault == RLOG_SIM_FAULT_EIO) {
		return -EIO;
	}
	int rc = dirop_reserve(disk);
	if (rc != 0) {
		return rc;
	}
	dirop_push(disk, SIM_DIR_REMOVE, opno, d, SIM_NONE, SIM_NONE,
		   rec->fault == RLOG_SIM_FAULT_DIR_LOST);
	dent_set_cur(disk, d, SIM_NONE);
	return 0;
}

static int vfs_remove(struct rlog_vfs *vfs, const char *name)
{
	struct rlog_sim_disk *disk = vfs->ctx;
	struct sim_rec rec = {.op = SIM_OP_REMOVE, .name = name};
	uint64_t opno = 0;
	int rc = -EIO;
	if (op_enter(disk, &rec, &opno)) {
		rc = disk_remove(disk, &rec, opno, name);
	}
	return op_finish(disk, &rec, rc);
}

static int disk_rename(struct rlog_sim_disk *disk, struct sim_rec *rec,
		       uint64_t opno, const char *from, const char *to)
{
	size_t from_len;
	size_t to_len;
	if (name_check(from, &from_len) != 0 || name_check(to, &to_len) != 0) {
		return -EINVAL;
	}
	uint32_t df =
	    dent_find(disk, from, hash_bytes(SIM_FNV_OFFSET, from, from_len));
	if (df == SIM_NONE || disk->dents[df].cur == SIM_NONE) {
		return -ENOENT;
	}
	uint32_t mask =
	    fault_bit(RLOG_SIM_FAULT_EIO) | fault_bit(RLOG_SIM_FAULT_DIR_LOST);
	bool by_name;
	rec->fault = fault_draw(disk, opno, mask, from, to, &by_name);
	if (rec->fault == RLOG_SIM_FAULT_EIO) {
		return -EIO;
	}
	if (strcmp(from, to) == 0) {
		return 0;
	}
	int rc = dent_reserve(disk, 1);
	if (rc == 0) {
		rc = dirop_reserve(disk);
	}
	if (rc != 0) {
		return rc;
	}
	uint32_t dt =
	    dent_get(disk, to, to_len, hash_bytes(SIM_FNV_OFFSET, to, to_len));
	dirop_push(disk, SIM_DIR_RENAME, opno, df, dt, SIM_NONE,
		   rec->fault == RLOG_SIM_FAULT_DIR_LOST);
	dent_set_cur(disk, dt, disk->dents[df].cur);
	dent_set_cur(disk, df, SIM_NONE);
	return 0;
}

static int vfs_rename(struct rlog_vfs *vfs, const char *from, const char *to)
{
	struct rlog_sim_disk *disk = vfs->ctx;
	struct sim_rec rec = {.op = SIM_OP_RENAME, .name = from, .name2 = to};
	uint64_t opno = 0;
	int rc = -EIO;
	if (op_enter(disk, &rec, &opno)) {
		rc = disk_rename(disk, &rec, opno, from, to);
	}
	return op_finish(disk, &rec, rc);
}

static int disk_list(struct rlog_sim_disk *disk, struct sim_rec *rec,
		     uint64_t opno, rlog_vfs_list_cb cb, void *arg)
{
	if (cb == NULL) {
		return -EINVAL;
	}
	bool by_name;
	rec->fault = fault_draw(disk, opno, fault_bit(RLOG_SIM_FAULT_EIO), NULL,
				NULL, &by_name);
	if (rec->fault != RLOG_SIM_FAULT_NONE) {
		return -EIO;
	}
	/* The callback may call back into the VFS, which may grow the table:
	 * index it afresh each time and pass a copy of the name. */
	uint32_t cap = disk->dents_cap;
	uint64_t h = SIM_FNV_OFFSET;
	for (uint32_t i = 0; i < cap && i < disk->dents_cap; i++) {
		const struct sim_dent *e = &disk->dents[i];
		if (!e->used || e->cur == SIM_NONE) {
			continue;
		}
		char name[SIM_NAME_BYTES];
		memcpy(name, e->name, sizeof(name));
		h = hash_name(h, name);
		rec->data_hash = h;
		int rc = cb(arg, name);
		if (rc != 0) {
			return rc;
		}
		if (disk->dead) {
			return -EIO;
		}
	}
	return 0;
}

static int vfs_list(struct rlog_vfs *vfs, rlog_vfs_list_cb cb, void *arg)
{
	struct rlog_sim_disk *disk = vfs->ctx;
	struct sim_rec rec = {.op = SIM_OP_LIST};
	uint64_t opno = 0;
	int rc = -EIO;
	if (op_enter(disk, &rec, &opno)) {
		rc = disk_list(disk, &rec, opno, cb, arg);
	}
	return op_finish(disk, &rec, rc);
}

static int disk_sync_dir(struct rlog_sim_disk *disk, struct sim_rec *rec,
			 uint64_t opno)
{
	uint32_t mask =
	    fault_bit(RLOG_SIM_FAULT_EIO) | fault_bit(RLOG_SIM_FAULT_SYNC_DIR);
	bool by_name;
	rec->fault = fault_draw(disk, opno, mask, NULL, NULL, &by_name);
	rec->len = disk->ndirops;
	if (rec->fault != RLOG_SIM_FAULT_NONE) {
		return -EIO;
	}
	/* Apply everything first, then release: pending creates keep their
	 * inodes and pending ops keep their dents alive meanwhile. A doomed
	 * op is silently never applied: the disk lied about it. */
	uint32_t n = disk->ndirops;
	for (uint32_t i = 0; i < n; i++) {
		if (!disk->dirops[i].doomed) {
			dirop_apply(disk, &disk->dirops[i]);
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		dirop_release(disk, &disk->dirops[i]);
	}
	disk->ndirops = 0;
	return 0;
}

static int vfs_sync_dir(struct rlog_vfs *vfs)
{
	struct rlog_sim_disk *disk = vfs->ctx;
	struct sim_rec rec = {.op = SIM_OP_SYNC_DIR};
	uint64_t opno = 0;
	int rc = -EIO;
	if (op_enter(disk, &rec, &opno)) {
		rc = disk_sync_dir(disk, &rec, opno);
	}
	return op_finish(disk, &rec, rc);
}

/* ---- Life cycle. ---- */

static int options_normalize(const struct rlog_sim_disk_options *in,
			     struct rlog_sim_disk_options *out)
{
	if (in == NULL) {
		memset(out, 0, sizeof(*out));
	} else {
		*out = *in;
	}
	if (out->sector_size == 0) {
		out->sector_size = 512;
	}
	if (out->file_size_max_bytes == 0) {
		out->file_size_max_bytes = RLOG_SIM_FILE_SIZE_MAX_BYTES;
	}
	if (out->files_max == 0) {
		out->files_max = RLOG_SIM_FILES_MAX;
	}
	if ((out->sector_size != 512 && out->sector_size != 4096) ||
	    out->file_size_max_bytes > RLOG_SIM_FILE_SIZE_MAX_BYTES ||
	    out->files_max > RLOG_SIM_FILES_MAX ||
	    out->trace_lines > RLOG_SIM_TRACE_LINES_MAX ||
	    (unsigned)out->fate > (unsigned)RLOG_SIM_FATE_ORDERED) {
		return -EINVAL;
	}
	for (unsigned k = 0; k < RLOG_SIM_FAULT_COUNT; k++) {
		if (out->fault_rate_ppm[k] > SIM_PPM) {
			return -EINVAL;
		}
	}
	return 0;
}

int rlog_sim_disk_new(const struct rlog_sim_disk_options *opts, uint64_t seed,
		      struct rlog_sim_disk **out)
{
	struct rlog_sim_disk_options o;
	int rc = options_normalize(opts, &o);
	if (rc != 0) {
		return rc;
	}
	struct rlog_sim_disk *disk = calloc(1, sizeof(*disk));
	if (disk == NULL) {
		return -ENOMEM;
	}
	disk->opts = o;
	disk->inode_free = SIM_NONE;
	disk->dent_free = SIM_NONE;
	disk->crash_at = RLOG_SIM_NEVER;
	disk->trace_hash = SIM_FNV_OFFSET;
	rlog_sim_prng_init(&disk->prng, seed);
	if (dent_rehash(disk, SIM_BUCKETS_MIN) != 0) {
		free(disk);
		return -ENOMEM;
	}
	if (o.trace_lines != 0) {
		disk->trace = calloc(o.trace_lines, RLOG_SIM_TRACE_LINE_BYTES);
		if (disk->trace == NULL) {
			free(disk->buckets);
			free(disk);
			return -ENOMEM;
		}
	}
	disk->vfs.ctx = disk;
	disk->vfs.open = vfs_open;
	disk->vfs.remove = vfs_remove;
	disk->vfs.rename = vfs_rename;
	disk->vfs.list = vfs_list;
	disk->vfs.sync_dir = vfs_sync_dir;
	disk->vfs.lock = vfs_lock;
	*out = disk;
	return 0;
}

void rlog_sim_disk_free(struct rlog_sim_disk *disk)
{
	if (disk == NULL) {
		return;
	}
	struct sim_file *f = disk->files;
	while (f != NULL) {
		struct sim_file *next = f->next;
		f->disk = NULL;
		f->dead = true;
		f->prev = NULL;
		f->next = NULL;
		f = next;
	}
	for (uint32_t i = 0; i < disk->inodes_cap; i++) {
		struct sim_inode *n = &disk->inodes[i];
		if (n->used) {
			buf_free(&n->dur);
			buf_free(&n->cache);
			buf_free(&n->pend);
			free(n->ops);
		}
	}
	free(disk->inodes);
	free(disk->dents);
	free(disk->buckets);
	free(disk->dirops);
	free(disk->scratch);
	free(disk->trace);
	free(disk);
}

/* Deep-copy one inode's buffers and ops into dst (whose pointers are
 * NULL). */
static int clone_inode(struct sim_inode *dst, const struct sim_inode *src)
{
	int rc = buf_clone(&dst->dur, &src->dur);
	if (rc == 0 && !src->cache_shared) {
		rc = buf_clone(&dst->cache, &src->cache);
	}
	if (rc == 0) {
		rc = buf_clone(&dst->pend, &src->pend);
	}
	if (rc != 0 || src->nops == 0) {
		dst->ops_cap = 0;
		return rc;
	}
	dst->ops = malloc((size_t)src->nops * sizeof(*dst->ops));
	if (dst->ops == NULL) {
		return -ENOMEM;
	}
	memcpy(dst->ops, src->ops, (size_t)src->nops * sizeof(*dst->ops));
	dst->ops_cap = src->nops;
	return 0;
}

/* Duplicate n bytes of src into *dst (NULL when n is 0). */
static int clone_array(void **dst, const void *src, size_t n)
{
	*dst = NULL;
	if (n == 0) {
		return 0;
	}
	*dst = malloc(n);
	if (*dst == NULL) {
		return -ENOMEM;
	}
	memcpy(*dst, src, n);
	return 0;
}

static int clone_tables(struct rlog_sim_disk *d, const struct rlog_sim_disk *s)
{
	void *p;
	int rc =
	    clone_array(&p, s->dents, (size_t)s->dents_cap * sizeof(*s->dents));
	d->dents = p;
	if (rc == 0) {
		rc = clone_array(&p, s->buckets,
				 (size_t)s->nbuckets * sizeof(*s->buckets));
		d->buckets = p;
	}
	if (rc == 0) {
		rc = clone_array(&p, s->dirops,
				 (size_t)s->dirops_cap * sizeof(*s->dirops));
		d->dirops = p;
	}
	if (rc == 0 && s->trace != NULL) {
		rc = clone_array(&p, s->trace,
				 (size_t)s->opts.trace_lines *
				     RLOG_SIM_TRACE_LINE_BYTES);
		d->trace = p;
	}
	if (rc != 0) {
		return rc;
	}
	rc = clone_array(&p, s->inodes,
			 (size_t)s->inodes_cap * sizeof(*s->inodes));
	d->inodes = p;
	if (rc != 0) {
		return rc;
	}
	for (uint32_t i = 0; i < s->inodes_cap; i++) {
		struct sim_inode *n = &d->inodes[i];
		memset(&n->dur, 0, sizeof(n->dur));
		memset(&n->cache, 0, sizeof(n->cache));
		memset(&n->pend, 0, sizeof(n->pend));
		n->ops = NULL;
		n->ops_cap = 0;
	}
	d->inodes_cap = s->inodes_cap;
	for (uint32_t i = 0; i < s->inodes_cap && rc == 0; i++) {
		if (s->inodes[i].used) {
			rc = clone_inode(&d->inodes[i], &s->inodes[i]);
		}
	}
	return rc;
}

int rlog_sim_disk_clone(const struct rlog_sim_disk *disk,
			struct rlog_sim_disk **out)
{
	struct rlog_sim_disk *d = malloc(sizeof(*d));
	if (d == NULL) {
		return -ENOMEM;
	}
	*d = *disk;
	d->vfs.ctx = d;
	d->files = NULL;
	d->scratch = NULL;
	d->scratch_cap = 0;
	d->inodes = NULL;
	d->inodes_cap = 0;
	d->dents = NULL;
	d->buckets = NULL;
	d->dirops = NULL;
	d->trace = NULL;
	int rc = clone_tables(d, disk);
	if (rc != 0) {
		rlog_sim_disk_free(d);
		return rc;
	}
	/* The copy has no handles: inodes only they kept alive go, and no
	 * lock is held. */
	for (uint32_t i = 0; i < d->inodes_cap; i++) {
		struct sim_inode *n = &d->inodes[i];
		if (!n->used) {
			continue;
		}
		n->handles = 0;
		n->locked = false;
		ino_maybe_free(d, i);
	}
	*out = d;
	return 0;
}

void rlog_sim_disk_reseed(struct rlog_sim_disk *disk, uint64_t seed)
{
	rlog_sim_prng_init(&disk->prng, seed);
}

struct rlog_vfs *rlog_sim_disk_vfs(struct rlog_sim_disk *disk)
{
	return &disk->vfs;
}

void rlog_sim_disk_set_fate(struct rlog_sim_disk *disk, enum rlog_sim_fate fate)
{
	assert((unsigned)fate <= (unsigned)RLOG_SIM_FATE_ORDERED);
	if ((unsigned)fate <= (unsigned)RLOG_SIM_FATE_ORDERED) {
		disk->opts.fate = fate;
	}
}

int rlog_sim_disk_set_fault_rate(struct rlog_sim_disk *disk,
				 enum rlog_sim_fault kind, uint32_t rate_ppm)
{
	if ((unsigned)kind == 0 || (unsigned)kind >= RLOG_SIM_FAULT_COUNT ||
	    rate_ppm > SIM_PPM) {
		return -EINVAL;
	}
	disk->opts.fault_rate_ppm[kind] = rate_ppm;
	return 0;
}

/* ---- Crash points. ---- */

uint64_t rlog_sim_disk_op_count(const struct rlog_sim_disk *disk)
{
	return disk->op_count;
}

void rlog_sim_disk_set_crash_at(struct rlog_sim_disk *disk, uint64_t k)
{
	disk->crash_at = k;
	if (disk->op_count >= k) {
		disk->dead = true;
	}
}

bool rlog_sim_disk_crashed(const struct rlog_sim_disk *disk)
{
	return disk->dead;
}

uint64_t rlog_sim_disk_pending_count(const struct rlog_sim_disk *disk)
{
	uint64_t count = disk->ndirops;
	for (uint32_t i = 0; i < disk->inodes_cap; i++) {
		if (disk->inodes[i].used) {
			count += disk->inodes[i].nops;
		}
	}
	return count;
}

uint64_t rlog_sim_disk_crash_count(const struct rlog_sim_disk *disk)
{
	return disk->crashes;
}

/* ---- Crash. ---- */

static int seq_compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Ordered mode: pick how many pending ops survive and return the sequence
 * number of the first one that does not (UINT64_MAX when all do). */
static int crash_pick_cut(struct rlog_sim_disk *disk, uint64_t *cut)
{
	uint64_t total = rlog_sim_disk_pending_count(disk);
	*cut = UINT64_MAX;
	/* Allocate before drawing, so that a failure changes nothing. */
	if (total > disk->scratch_cap) {
		uint64_t *s =
		    realloc(disk->scratch, (size_t)total * sizeof(*s));
		if (s == NULL) {
			return -ENOMEM;
		}
		disk->scratch = s;
		disk->scratch_cap = (size_t)total;
	}
	uint64_t k = rlog_sim_prng_below(&disk->prng, total + 1u);
	if (k == total) {
		return 0;
	}
	size_t n = 0;
	for (uint32_t i = 0; i < disk->ndirops; i++) {
		disk->scratch[n++] = disk->dirops[i].seq;
	}
	for (uint32_t i = 0; i < disk->inodes_cap; i++) {
		const struct sim_inode *ino = &disk->inodes[i];
		for (uint32_t j = 0; ino->used && j < ino->nops; j++) {
			disk->scratch[n++] = ino->ops[j].seq;
		}
	}
	assert(n == total);
	qsort(disk->scratch, n, sizeof(*disk->scratch), seq_compare);
	*cut = disk->scratch[k];
	return 0;
}

/* Draw the fate of one piece of a torn write; *keep receives the bytes
 * kept of a partial piece. */
static enum sim_fate crash_piece_fate(struct rlog_sim_disk *disk, size_t plen,
				      bool past_eof, size_t *keep)
{
	struct rlog_sim_prng *prng = &disk->prng;
	if (disk->opts.atomic_sectors) {
		return rlog_sim_prng_below(prng, 2) == 0 ? SIM_FATE_KEPT
							 : SIM_FATE_DROPPED;
	}
	enum sim_fate f = (enum sim_fate)rlog_sim_prng_below(prng, 4);
	if (f == SIM_FATE_GARBAGE && past_eof && disk->opts.safe_append) {
		f = (enum sim_fate)rlog_sim_prng_below(prng, 3);
	}
	if (f == SIM_FATE_KEPT && plen > 1u &&
	    rlog_sim_prng_chance(prng, 1, 4)) {
		*keep = 1u + (size_t)rlog_sim_prng_below(prng, plen - 1u);
		return SIM_FATE_PARTIAL;
	}
	return f;
}

/* Tear a write into sector pieces, each with its own fate, applied to dur
 * (reserved). old_size is the durable size before the crash. */
static void crash_tear(struct rlog_sim_disk *disk, struct sim_inode *n,
		       const struct sim_dop *op, size_t old_size, char *line,
		       size_t *used)
{
	size_t ss = disk->opts.sector_size;
	size_t off = (size_t)op->offset;
	size_t end = off + op->len;
	const uint8_t *data = n->pend.bytes + op->data_at;
	size_t pos = off;
	if (line != NULL) {
		line_append(line, used, ":");
	}
	for (size_t s = 0; pos < end && s <= op->len; s++) {
		size_t pend = (pos / ss + 1u) * ss;
		pend = pend < end ? pend : end;
		size_t plen = pend - pos;
		size_t keep = plen;
		enum sim_fate f =
		    crash_piece_fate(disk, plen, pend > old_size, &keep);
		if (f == SIM_FATE_KEPT || f == SIM_FATE_PARTIAL) {
			buf_write(&n->dur, pos, data + (pos - off), keep);
		} else if (f == SIM_FATE_ZEROED || f == SIM_FATE_GARBAGE) {
			buf_write(&n->dur, pos, NULL, plen);
		}
		if (f == SIM_FATE_GARBAGE) {
			rlog_sim_prng_fill(&disk->prng, n->dur.bytes + pos,
					   plen);
		}
		disk->trace_hash =
		    hash_u64(disk->trace_hash, ((uint64_t)f << 32) | keep);
		if (line != NULL && f == SIM_FATE_PARTIAL) {
			line_append(line, used, "%s s%zu kept %zu/%zu",
				    s ? "," : "", s, keep, plen);
		} else if (line != NULL) {
			line_append(line, used, "%s s%zu %s", s ? "," : "", s,
				    sim_fate_names[f]);
		}
		pos = pend;
	}
}

/* Ordered mode: keep a prefix of the write at the cut (whole sectors with
 * atomic_sectors). */
static size_t crash_prefix(struct rlog_sim_disk *disk, struct sim_inode *n,
			   const struct sim_dop *op)
{
	size_t ss = disk->opts.sector_size;
	size_t off = (size_t)op->offset;
	size_t keep;
	if (disk->opts.atomic_sectors) {
		size_t first = off / ss;
		size_t pieces = (off + op->len - 1u) / ss - first + 1u;
		size_t j = (size_t)rlog_sim_prng_below(&disk->prng,
						       (uint64_t)pieces + 1u);
		keep = j == 0 ? 0 : (first + j) * ss - off;
		keep = keep < op->len ? keep : op->len;
	} else {
		keep = (size_t)rlog_sim_prng_below(&disk->prng,
						   (uint64_t)op->len + 1u);
	}
	buf_write(&n->dur, off, n->pend.bytes + op->data_at, keep);
	return keep;
}

/* Decide the fate of one pending data op (before any piece fates). */
static enum sim_fate crash_op_fate(struct rlog_sim_disk *disk,
				   const struct sim_dop *op, uint64_t cut)
{
	switch (disk->opts.fate) {
	case RLOG_SIM_FATE_LOSE_UNSYNCED:
		return SIM_FATE_DROPPED;
	case RLOG_SIM_FATE_KEEP_UNSYNCED:
		return SIM_FATE_KEPT;
	case RLOG_SIM_FATE_ORDERED:
		if (op->seq < cut) {
			return SIM_FATE_KEPT;
		}
		return op->seq == cut && !op->truncate && op->len > 0
			   ? SIM_FATE_PREFIX
			   : SIM_FATE_DROPPED;
	default:
		if (op->truncate) {
			return rlog_sim_prng_below(&disk->prng, 2) == 0
				   ? SIM_FATE_KEPT
				   : SIM_FATE_DROPPED;
		}
		switch (rlog_sim_prng_below(&disk->prng, 3)) {
		case 0:
			return SIM_FATE_KEPT;
		case 1:
			return SIM_FATE_DROPPED;
		default:
			return SIM_FATE_TORN;
		}
	}
}

/* Settle and apply one pending data op of inode n. */
static void crash_data_op(struct rlog_sim_disk *disk, struct sim_inode *n,
			  const struct sim_dop *op, size_t old_size,
			  uint64_t cut)
{
	bool tracing = disk->opts.trace_lines != 0;
	char line[RLOG_SIM_TRACE_LINE_BYTES];
	size_t used = 0;
	enum sim_fate f = crash_op_fate(disk, op, cut);
	if (tracing && op->truncate) {
		line_append(line, &used, "crash: %s truncate to %" PRIu64 " %s",
			    n->name, op->offset, sim_fate_names[f]);
	} else if (tracing) {
		line_append(line, &used, "crash: %s write @%" PRIu64 "+%zu %s",
			    n->name, op->offset, op->len, sim_fate_names[f]);
	}
	uint64_t detail = 0;
	if (f == SIM_FATE_KEPT) {
		ino_apply(n, op);
	} else if (f == SIM_FATE_TORN) {
		crash_tear(disk, n, op, old_size, tracing ? line : NULL, &used);
	} else if (f == SIM_FATE_PREFIX) {
		detail = (uint64_t)crash_prefix(disk, n, op);
		if (tracing) {
			line_append(line, &used, " %" PRIu64 "/%zu", detail,
				    op->len);
		}
	}
	disk->trace_hash = hash_u64(disk->trace_hash, op->seq);
	disk->trace_hash =
	    hash_u64(disk->trace_hash, ((uint64_t)f << 48) ^ detail);
	if (tracing) {
		trace_add(disk, "%s", line);
	}
}

/* Settle every pending data op, inode by inode, in issue order. */
static void crash_data(struct rlog_sim_disk *disk, uint64_t cut)
{
	for (uint32_t i = 0; i < disk->inodes_cap; i++) {
		struct sim_inode *n = &disk->inodes[i];
		if (!n->used || n->nops == 0) {
			continue;
		}
		size_t old_size = n->dur.len;
		for (uint32_t j = 0; j < n->nops; j++) {
			crash_data_op(disk, n, &n->ops[j], old_size, cut);
		}
		ino_drop_pending(n);
	}
}

/* Settle every pending directory op, in issue order. */
static void crash_dir(struct rlog_sim_disk *disk, uint64_t cut)
{
	static const char *const kinds[] = {"create", "remove", "rename"};
	uint32_t count = disk->ndirops;
	for (uint32_t i = 0; i < count; i++) {
		const struct sim_dirop *op = &disk->dirops[i];
		bool kept;
		switch (disk->opts.fate) {
		case RLOG_SIM_FATE_LOSE_UNSYNCED:
			kept = false;
			break;
		case RLOG_SIM_FATE_KEEP_UNSYNCED:
			kept = true;
			break;
		case RLOG_SIM_FATE_ORDERED:
			kept = op->seq < cut;
			break;
		default:
			kept = rlog_sim_prng_below(&disk->prng, 2) == 0;
			break;
		}
		kept = kept && !op->doomed;
		if (kept) {
			dirop_apply(disk, op);
		}
		disk->trace_hash = hash_u64(disk->trace_hash,
					    (op->seq << 1) | (kept ? 1u : 0u));
		trace_add(disk, "crash: %s %s%s%s %s", kinds[op->kind],
			  disk->dents[op->from].name,
			  op->to != SIM_NONE ? " -> " : "",
			  op->to != SIM_NONE ? disk->dents[op->to].name : "",
			  kept ? "kept" : "lost");
	}
	for (uint32_t i = 0; i < count; i++) {
		dirop_release(disk, &disk->dirops[i]);
	}
	disk->ndirops = 0;
}

/* Make the durable view the whole state: kill the handles, point every name
 * at its durable inode, drop locks and caches, and free what is gone. */
static void crash_revive(struct rlog_sim_disk *disk)
{
	for (struct sim_file *f = disk->files; f != NULL; f = f->next) {
		if (!f->dead) {
			f->dead = true;
			disk->inodes[f->ino].handles--;
		}
	}
	for (uint32_t d = 0; d < disk->dents_cap; d++) {
		if (disk->dents[d].used) {
			dent_set_cur(disk, d, disk->dents[d].dur);
			dent_drop_if_empty(disk, d);
		}
	}
	disk->defer_free = false;
	disk->bytes_used = 0;
	for (uint32_t i = 0; i < disk->inodes_cap; i++) {
		struct sim_inode *n = &disk->inodes[i];
		if (!n->used) {
			continue;
		}
		if (n->links == 0 && n->handles == 0) {
			ino_free_raw(disk, i);
			continue;
		}
		assert(n->nops == 0);
		assert(n->handles == 0);
		n->locked = false;
		n->cache_shared = true;
		disk->bytes_used += (uint64_t)n->dur.len;
	}
}

int rlog_sim_disk_crash(struct rlog_sim_disk *disk)
{
	for (uint32_t i = 0; i < disk->inodes_cap; i++) {
		struct sim_inode *n = &disk->inodes[i];
		if (n->used && n->nops > 0) {
			int rc = ino_reserve_dur(n);
			if (rc != 0) {
				return rc;
			}
		}
	}
	uint64_t cut = UINT64_MAX;
	if (disk->opts.fate == RLOG_SIM_FATE_ORDERED) {
		int rc = crash_pick_cut(disk, &cut);
		if (rc != 0) {
			return rc;
		}
	}
	disk->crashes++;
	if (disk->opts.trace_lines != 0) {
		trace_add(disk,
			  "crash %" PRIu64 " after op %" PRIu64 ": %s, %" PRIu64
			  " pending",
			  disk->crashes, disk->op_count,
			  sim_mode_names[disk->opts.fate],
			  rlog_sim_disk_pending_count(disk));
	}
	disk->trace_hash = hash_u64(disk->trace_hash, 0xc4a54u);
	disk->defer_free = true;
	crash_data(disk, cut);
	crash_dir(disk, cut);
	crash_revive(disk);
	disk->dead = false;
	disk->crash_at = RLOG_SIM_NEVER;
	return 0;
}

/* ---- Scheduled faults. ---- */

static int fault_add(struct rlog_sim_disk *disk, enum rlog_sim_fault kind,
		     uint64_t op_number, const char *name)
{
	if ((unsigned)kind == 0 || (unsigned)kind >= RLOG_SIM_FAULT_COUNT) {
		return -EINVAL;
	}
	size_t len = 0;
	if (name != NULL && name_check(name, &len) != 0) {
		return -EINVAL;
	}
	if (disk->nfaults >= RLOG_SIM_FAULTS_MAX) {
		return -ENOSPC;
	}
	struct sim_fault_slot *slot = &disk->faults[disk->nfaults++];
	memset(slot, 0, sizeof(*slot));
	slot->kind = (uint8_t)kind;
	slot->op_number = op_number;
	slot->any_name = name == NULL;
	if (name != NULL) {
		memcpy(slot->name, name, len);
	}
	return 0;
}

int rlog_sim_disk_fault_at(struct rlog_sim_disk *disk, enum rlog_sim_fault kind,
			   uint64_t op_number)
{
	if (op_number <= disk->op_count) {
		return -EINVAL;
	}
	return fault_add(disk, kind, op_number, NULL);
}

int rlog_sim_disk_fault_next(struct rlog_sim_disk *disk,
			     enum rlog_sim_fault kind, const char *name)
{
	return fault_add(disk, kind, 0, name);
}

int rlog_sim_disk_fault_after(struct rlog_sim_disk *disk,
			      enum rlog_sim_fault kind, const char *name,
			      uint64_t skip)
{
	int rv = fault_add(disk, kind, 0, name);
	if (rv == 0) {
		disk->faults[disk->nfaults - 1u].skip = skip;
	}
	return rv;
}

void rlog_sim_disk_fault_clear(struct rlog_sim_disk *disk)
{
	disk->nfaults = 0;
}

uint64_t rlog_sim_disk_fault_count(const struct rlog_sim_disk *disk)
{
	return disk->faults_injected;
}

int rlog_sim_disk_flip_bit(struct rlog_sim_disk *disk, const char *name,
			   uint64_t offset, unsigned bit)
{
	size_t len;
	if (name_check(name, &len) != 0 || bit > 7u) {
		return -EINVAL;
	}
	uint32_t i = dent_inode(disk, name, true);
	if (i == SIM_NONE) {
		return -ENOENT;
	}
	if (offset >= (uint64_t)disk->inodes[i].dur.len) {
		return -EINVAL;
	}
	flip_apply(disk, i, (size_t)offset, bit);
	return 0;
}

int rlog_sim_disk_flip_random_bit(struct rlog_sim_disk *disk, const char *name)
{
	size_t len;
	if (name != NULL && name_check(name, &len) != 0) {
		return -EINVAL;
	}
	return flip_random(disk, name);
}

/* ---- Trace. ---- */

uint64_t rlog_sim_disk_trace_hash(const struct rlog_sim_disk *disk)
{
	return disk->trace_hash;
}

void rlog_sim_disk_trace_dump(const struct rlog_sim_disk *disk, FILE *out)
{
	uint32_t lines = disk->opts.trace_lines;
	if (lines == 0) {
		return;
	}
	uint32_t start = disk->trace_count < lines ? 0 : disk->trace_head;
	for (uint32_t k = 0; k < disk->trace_count; k++) {
		uint32_t at = (start + k) % lines;
		fprintf(out, "%s\n",
			disk->trace + (size_t)at * RLOG_SIM_TRACE_LINE_BYTES);
	}
}

/* ---- Inspection and setup helpers. ---- */

/* The bytes of inode i in the durable or current view. */
static const struct sim_buf *helper_view(const struct rlog_sim_disk *disk,
					 uint32_t i, bool durable)
{
	const struct sim_inode *n = &disk->inodes[i];
	return durable ? &n->dur : ino_view(n);
}

int rlog_sim_disk_list_files(const struct rlog_sim_disk *disk, bool durable,
			     rlog_sim_disk_list_cb cb, void *arg)
{
	for (uint32_t d = 0; d < disk->dents_cap; d++) {
		const struct sim_dent *e = &disk->dents[d];
		uint32_t i = durable ? e->dur : e->cur;
		if (!e->used || i == SIM_NONE) {
			continue;
		}
		int rc = cb(arg, e->name,
			    (uint64_t)helper_view(disk, i, durable)->len);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int rlog_sim_disk_file_size(const struct rlog_sim_disk *disk, const char *name,
			    bool durable, uint64_t *size)
{
	size_t len;
	if (name_check(name, &len) != 0 || size == NULL) {
		return -EINVAL;
	}
	uint32_t i = dent_inode(disk, name, durable);
	if (i == SIM_NONE) {
		return -ENOENT;
	}
	*size = (uint64_t)helper_view(disk, i, durable)->len;
	return 0;
}

int rlog_sim_disk_read_file(const struct rlog_sim_disk *disk, const char *name,
			    bool durable, uint8_t **data, size_t *len)
{
	size_t name_len;
	if (name_check(name, &name_len) != 0 || data == NULL || len == NULL) {
		return -EINVAL;
	}
	uint32_t i = dent_inode(disk, name, durable);
	if (i == SIM_NONE) {
		return -ENOENT;
	}
	const struct sim_buf *view = helper_view(disk, i, durable);
	uint8_t *copy = malloc(view->len > 0 ? view->len : 1u);
	if (copy == NULL) {
		return -ENOMEM;
	}
	if (view->len > 0) {
		memcpy(copy, view->bytes, view->len);
	}
	*data = copy;
	*len = view->len;
	return 0;
}

int rlog_sim_disk_put_file(struct rlog_sim_disk *disk, const char *name,
			   const void *data, size_t len)
{
	size_t name_len;
	if (name_check(name, &name_len) != 0 || (data == NULL && len > 0)) {
		return -EINVAL;
	}
	if ((uint64_t)len > disk->opts.file_size_max_bytes) {
		return -EFBIG;
	}
	uint64_t limit = disk->opts.disk_size_max_bytes;
	uint64_t avail =
	    limit > disk->bytes_used ? limit - disk->bytes_used : 0;
	if (limit != 0 && (uint64_t)len > avail) {
		return -ENOSPC;
	}
	int rc = ino_reserve(disk);
	if (rc == 0) {
		rc = dent_reserve(disk, 1);
	}
	if (rc != 0) {
		return rc;
	}
	uint32_t i = ino_alloc(disk, name, name_len);
	struct sim_inode *n = &disk->inodes[i];
	if (buf_reserve(&n->dur, len) != 0) {
		ino_free(disk, i);
		return -ENOMEM;
	}
	buf_write(&n->dur, 0, data, len);
	disk->bytes_used += (uint64_t)len;
	uint64_t hash = hash_bytes(SIM_FNV_OFFSET, name, name_len);
	uint32_t d = dent_get(disk, name, name_len, hash);
	dent_set_cur(disk, d, i);
	dent_set_dur(disk, d, i);
	disk->trace_hash = hash_u64(disk->trace_hash, hash);
	disk->trace_hash = hash_bytes(disk->trace_hash, data, len);
	trace_add(disk, "put: %s %zu bytes", n->name, len);
	return 0;
}

uint64_t rlog_sim_disk_bytes_used(const struct rlog_sim_disk *disk)
{
	return disk->bytes_used;
}

uint64_t rlog_sim_disk_content_hash(const struct rlog_sim_disk *disk,
				    bool durable)
{
	return rlog_sim_disk_content_hash_if(disk, durable, NULL);
}

uint64_t rlog_sim_disk_content_hash_if(const struct rlog_sim_disk *disk,
				       bool durable,
				       bool (*keep)(const char *name))
{
	uint64_t sum = 0;
	for (uint32_t d = 0; d < disk->dents_cap; d++) {
		const struct sim_dent *e = &disk->dents[d];
		uint32_t i = durable ? e->dur : e->cur;
		if (!e->used || i == SIM_NONE ||
		    (keep != NULL && !keep(e->name))) {
			continue;
		}
		const struct sim_buf *view = helper_view(disk, i, durable);
		uint64_t h = hash_name(SIM_FNV_OFFSET, e->name);
		h = hash_bytes(h, view->bytes, view->len);
		sum += hash_u64(h, 0x5eed);
	}
	return sum;
}
