/*
 * bench/bench.h: what rlog-bench's engines share.
 *
 * Every engine (raw file, rlog, RocksDB, SQLite, LMDB, a naive design)
 * sits behind one small table of functions: open a directory, append a
 * batch and make it durable before returning (the Raft rule: a batch is
 * acknowledged only once it is on disk), read one entry, close. Optional
 * functions scan a range in order, purge a prefix and truncate a suffix.
 *
 * Every engine stores the same logical entries: a 64-bit index, a 64-bit
 * term and an opaque payload whose first 8 bytes carry the index (so every
 * read can be checked).
 */
#ifndef RLOG_BENCH_H
#define RLOG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One entry on its way in. */
struct bench_entry {
	uint64_t index;
	uint64_t term;
	const uint8_t *data;
	size_t len;
};

/* One entry on its way out; data is valid until the next call on the
 * engine handle. */
struct bench_read {
	uint64_t term;
	const uint8_t *data;
	size_t len;
};

/* Called by scan for each entry in order; nonzero stops the scan. */
typedef int (*bench_scan_cb)(void *ctx, uint64_t index,
			     const struct bench_read *r);

struct bench_engine {
	const char *name;
	const char *what; /* one line: how this engine stores a batch */
	/* Open (recovering what is there) or create the store in dir, an
	 * existing directory. */
	int (*open)(const char *dir, void **out);
	/* Append n entries with consecutive indexes following the last one,
	 * durably: on return 0 they survive a crash. */
	int (*append)(void *h, const struct bench_entry *e, size_t n);
	/* Read the entry at index. */
	int (*read)(void *h, uint64_t index, struct bench_read *out);
	/* Optional (NULL: a loop of read): every entry of [first, last]. */
	int (*scan)(void *h, uint64_t first, uint64_t last, bench_scan_cb cb,
		    void *ctx);
	/* Optional: remove every entry up to and including index, durably. */
	int (*purge)(void *h, uint64_t index, uint64_t term);
	/* Optional: remove every entry from index on, durably. */
	int (*truncate)(void *h, uint64_t from_index);
	int (*close)(void *h);
	/* Optional: the library's version string. */
	const char *(*version)(void);
};

extern const struct bench_engine bench_eng_raw;
extern const struct bench_engine bench_eng_rlog;
extern const struct bench_engine bench_eng_naive;
#ifdef BENCH_HAVE_ROCKSDB
extern const struct bench_engine bench_eng_rocksdb;
#endif
#ifdef BENCH_HAVE_SQLITE
extern const struct bench_engine bench_eng_sqlite;
#endif
#ifdef BENCH_HAVE_LMDB
extern const struct bench_engine bench_eng_lmdb;
#endif

/* rlog's segment size for every rlog handle the bench opens (0: the
 * engine's default). */
extern uint64_t bench_rlog_segment_size;

/* ---- rlog's self-checks through a counting VFS and allocator. ---- */
struct bench_rlog_checks {
	uint64_t batches, entries;
	uint64_t pwrites, syncs, dir_syncs;	/* during the appends */
	uint64_t allocs_warm;			/* allocations, warm appends */
	uint64_t entries_warm;			/* entries appended warm */
	uint64_t reads, preads;			/* random point reads */
	uint64_t scan_entries, scan_preads;	/* one rlog_scan of all */
	uint64_t open_preads, open_bytes_read;	/* one rlog_open (recovery) */
	uint64_t purge_pwrites, purge_bytes;	/* purge of half the log */
	uint64_t purge_removes, purge_segments; /* files removed / before */
};
int bench_rlog_run_checks(const char *dir, struct bench_rlog_checks *c);

/* ---- Utilities (util.c). ---- */
double bench_now(void); /* monotonic seconds */
uint32_t bench_crc32c(uint32_t crc, const void *buf, size_t len);
bool bench_crc32c_hw(void); /* the SSE4.2 instruction is in use */
uint64_t bench_rand(uint64_t *state);
int bench_rm_rf(const char *path);
int bench_mkdir_p(const char *path);
uint64_t bench_du(const char *path); /* allocated bytes under path */
/* Resident set size now, and its peak (VmHWM), in bytes, of this
 * process; 0 when unknown. */
uint64_t bench_rss_now(void);
uint64_t bench_rss_peak(void);
/* /proc/self/io: bytes passed to write calls, bytes sent to storage. */
void bench_proc_io(uint64_t *wchar, uint64_t *write_bytes);
/* Write all len bytes to fd (retrying short writes and EINTR). */
int bench_write_all(int fd, const void *buf, size_t len);
int bench_pread_all(int fd, void *buf, size_t len, uint64_t off, size_t *got);
/* Store a little-endian 64-bit value. */
void bench_put64(uint8_t *p, uint64_t v);
uint64_t bench_get64(const uint8_t *p);

#endif
