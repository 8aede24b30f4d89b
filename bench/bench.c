/*
 * rlog-bench: rlog side by side with the physical limit (a raw file),
 * RocksDB, SQLite, LMDB and a naive design, on the same filesystem.
 *
 *   rlog-bench [options]                     every section, report
 *   rlog-bench cell ENGINE PAYLOAD BATCH [ENTRIES [SECONDS]]
 *                                            one append run (for perf,
 *                                            strace)
 *   rlog-bench fill ENGINE DIR ENTRIES PAYLOAD BATCH
 *   rlog-bench recover ENGINE DIR ENTRIES PAYLOAD POINTS
 *   rlog-bench seqcrc DIR
 *
 * Sections: the append grid (payload x batch, each batch appended and made
 * durable before the next, engines interleaved and repeated, medians as
 * ratios to raw), recovery in a fresh process (open, read every entry,
 * random point reads, RSS), purge and truncate cost (time and bytes
 * written), rlog's self-checks (a counting VFS and allocator), and the
 * simulator's crash-recover-check trials per second.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifdef BENCH_HAVE_SIM
#include "run.h"
#include "scn.h"
#endif

#ifndef BENCH_DEFAULT_DIR
#define BENCH_DEFAULT_DIR "build/bench/data"
#endif
#ifndef BENCH_SCENARIO_DIR
#define BENCH_SCENARIO_DIR "scenarios"
#endif

#define ENGINES_MAX 8u
#define REPS_MAX 15u
#define NPAY 3u
#define NBAT 3u

static const size_t payloads[NPAY] = {64, 1024, 16384};
static const size_t batches[NBAT] = {1, 64, 1024};

static const struct bench_engine *const all_engines[] = {
    &bench_eng_raw,	&bench_eng_rlog,
#ifdef BENCH_HAVE_ROCKSDB
    &bench_eng_rocksdb,
#endif
#ifdef BENCH_HAVE_SQLITE
    &bench_eng_sqlite,
#endif
#ifdef BENCH_HAVE_LMDB
    &bench_eng_lmdb,
#endif
    &bench_eng_naive,
};
#define ALL_ENGINES (sizeof(all_engines) / sizeof(all_engines[0]))

struct cfg {
	bool quick;
	const char *dir, *csv_path, *md_path, *scenarios, *label;
	unsigned reps;
	double cell_seconds;
	uint64_t cell_bytes_cap;
	uint64_t rec_entries, rec_points;
	uint64_t purge_bytes;
	double sim_budget; /* 0: every scenario */
	unsigned sim_seeds;
	unsigned rec_reps; /* runs of each recovery measurement */
	bool drop;	   /* drop the page cache before cold runs */
	bool grid, recovery, purge, sim, checks;
	const struct bench_engine *eng[ENGINES_MAX];
	size_t neng;
};

static FILE *md;  /* the report (markdown) */
static FILE *csv; /* section,engine,payload,batch,metric,value */

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("rlog-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static void csv_row(const char *section, const char *engine, size_t payload,
		    size_t batch, const char *metric, double value)
{
	fprintf(csv, "%s,%s,%zu,%zu,%s,%.9g\n", section, engine, payload, batch,
		metric, value);
}

static const struct bench_engine *find_engine(const char *name)
{
	for (size_t i = 0; i < ALL_ENGINES; i++) {
		if (strcmp(all_engines[i]->name, name) == 0) {
			return all_engines[i];
		}
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n)
{
	double t[REPS_MAX];
	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* The q-quantile of sorted v (nearest rank). */
static double quantile(const double *v, size_t n, double q)
{
	if (n == 0) {
		return 0;
	}
	size_t k = (size_t)ceil(q * (double)n);
	return v[k > 0 ? k - 1 : 0];
}

static double mb(uint64_t bytes)
{
	return (double)bytes / 1e6;
}

/* ---- Machine facts. ---- */
static void cpu_model(char *out, size_t len)
{
	snprintf(out, len, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f == NULL) {
		return;
	}
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			if (c != NULL) {
				c += 2;
				c[strcspn(c, "\n")] = '\0';
				snprintf(out, len, "%s", c);
			}
			break;
		}
	}
	fclose(f);
}

static const char *fs_magic_name(long type)
{
	switch ((unsigned long)type) {
	case 0xEF53ul:
		return "ext2/ext3/ext4";
	case 0x58465342ul:
		return "xfs";
	case 0x9123683Eul:
		return "btrfs";
	case 0x01021994ul:
		return "tmpfs";
	case 0x794c7630ul:
		return "overlayfs";
	case 0x2FC12FC1ul:
		return "zfs";
	case 0xF2F52010ul:
		return "f2fs";
	default:
		return "other";
	}
}

/* The mount holding path (longest mount point prefix in mountinfo). */
static void mount_of(const char *path, char *fstype, size_t flen, char *dev,
		     size_t dlen, char *opts, size_t olen)
{
	snprintf(fstype, flen, "?");
	snprintf(dev, dlen, "?");
	snprintf(opts, olen, "?");
	char real[4096];
	if (realpath(path, real) == NULL) {
		return;
	}
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (f == NULL) {
		return;
	}
	char line[4096];
	size_t best = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char mnt[1024], mopts[1024], type[128], src[1024],
		    sopts[1024] = "";
		/* id parent maj:min root mountpoint options ... - type src */
		if (sscanf(line, "%*s %*s %*s %*s %1023s %1023s", mnt, mopts) !=
		    2) {
			continue;
		}
		char *dash = strstr(line, " - ");
		if (dash == NULL || sscanf(dash + 3, "%127s %1023s %1023s",
					   type, src, sopts) < 2) {
			continue;
		}
		size_t n = strlen(mnt);
		bool prefix = strncmp(real, mnt, n) == 0 &&
			      (real[n] == '/' || real[n] == '\0' ||
			       strcmp(mnt, "/") == 0);
		if (prefix && n >= best) {
			best = n;
			snprintf(fstype, flen, "%s", type);
			snprintf(dev, dlen, "%s", src);
			snprintf(opts, olen, "%s (superblock: %s)", mopts,
				 sopts);
		}
	}
	fclose(f);
}

static bool try_drop_caches(void)
{
	sync();
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	bool ok = write(fd, "3\n", 2) == 2;
	close(fd);
	return ok;
}

static void loadavg_str(char *out, size_t len)
{
	double l[3];
	if (getloadavg(l, 3) == 3) {
		snprintf(out, len, "%.2f %.2f %.2f", l[0], l[1], l[2]);
	} else {
		snprintf(out, len, "?");
	}
}

static void machine_facts(const struct cfg *c, bool drop_ok)
{
	char cpu[256], fstype[128], dev[1024], opts[2200], load[64];
	cpu_model(cpu, sizeof(cpu));
	mount_of(c->dir, fstype, sizeof(fstype), dev, sizeof(dev), opts,
		 sizeof(opts));
	struct statfs sf;
	const char *magic = "?";
	if (statfs(c->dir, &sf) == 0) {
		magic = fs_magic_name((long)sf.f_type);
	}
	struct utsname u;
	uname(&u);
	struct sysinfo si;
	sysinfo(&si);
	loadavg_str(load, sizeof(load));
	fprintf(md, "## Machine\n\n");
	fprintf(md, "| fact | value |\n| --- | --- |\n");
	if (c->label != NULL) {
		fprintf(md, "| source | %s |\n", c->label);
	}
	fprintf(md, "| nproc | %ld |\n", sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(md, "| CPU | %s |\n", cpu);
	fprintf(md, "| CRC32C in the bench's raw reader | %s |\n",
		bench_crc32c_hw() ? "SSE4.2 instruction"
				  : "portable table (no SSE4.2)");
	fprintf(md, "| memory | %.1f GiB |\n",
		(double)si.totalram * si.mem_unit / (1024.0 * 1024 * 1024));
	fprintf(md, "| kernel | %s %s %s |\n", u.sysname, u.release, u.machine);
	fprintf(md, "| bench directory | `%s` |\n", c->dir);
	fprintf(md, "| filesystem | %s (statfs: %s) on %s, options %s |\n",
		fstype, magic, dev, opts);
	fprintf(md, "| page cache drop | %s |\n",
		drop_ok ? "yes (cold and warm recovery runs)"
			: "not possible: warm numbers only");
	fprintf(md, "| load average at start | %s |\n", load);
	fprintf(md,
		"| mode | %s: %u runs per grid cell, %.2f s of append time "
		"per engine per run, engines taking turns batch by batch |\n",
		c->quick ? "quick" : "full", c->reps, c->cell_seconds);
	fprintf(md, "| engines |");
	for (size_t i = 0; i < c->neng; i++) {
		const char *v = c->eng[i]->version ? c->eng[i]->version() : "";
		fprintf(md, " %s%s%s%s", c->eng[i]->name, *v ? " " : "", v,
			i + 1 < c->neng ? "," : "");
	}
	fprintf(md, " |\n\n");
	fprintf(md, "Engines:\n\n");
	for (size_t i = 0; i < c->neng; i++) {
		fprintf(md, "- **%s**: %s\n", c->eng[i]->name, c->eng[i]->what);
	}
	fprintf(md, "\n");
	csv_row("machine", "-", 0, 0, "nproc",
		(double)sysconf(_SC_NPROCESSORS_ONLN));
}

/* ---- One append run. ---- */
struct run {
	uint64_t entries;
	double seconds; /* sum of batch latencies */
	double *lat;
	size_t nlat, cap;
	bool ok;
};

static void lat_push(struct run *r, double v)
{
	if (r->nlat == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 1024;
		double *n = realloc(r->lat, nc * sizeof(*n));
		if (n == NULL) {
			die("out of memory");
		}
		r->lat = n;
		r->cap = nc;
	}
	r->lat[r->nlat++] = v;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t st = seed;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = bench_rand(&st);
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++) {
		p[i] = (uint8_t)bench_rand(&st);
	}
}

static void fresh_dir(const char *dir)
{
	if (bench_rm_rf(dir) != 0 || bench_mkdir_p(dir) != 0) {
		die("cannot prepare %s", dir);
	}
}

/* Remove dir and wait for the filesystem to settle (outside timings). */
static void drop_dir(const char *dir)
{
	bench_rm_rf(dir);
	int fd = open(dir, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s/..", dir);
		fd = open(parent, O_RDONLY | O_CLOEXEC);
	}
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
}

/*
 * Append batches of `batch` entries of `payload` bytes into a fresh store
 * of engine e in dir until max_entries or max_seconds of append time
 * (whichever first; at least 3 batches). Each batch is durable before the
 * next starts. pool holds batch * payload random bytes.
 */
static void run_append(const struct bench_engine *e, const char *dir,
		       size_t payload, size_t batch, uint64_t max_entries,
		       double max_seconds, uint8_t *pool,
		       struct bench_entry *ents, struct run *r)
{
	memset(r, 0, sizeof(*r));
	fresh_dir(dir);
	void *h;
	if (e->open(dir, &h) != 0) {
		note("%s: open failed\n", e->name);
		return;
	}
	uint64_t next = 1;
	size_t nb = 0;
	r->ok = true;
	while (r->entries < max_entries &&
	       (r->seconds < max_seconds || nb < 3)) {
		for (size_t i = 0; i < batch; i++) {
			uint8_t *p = pool + i * payload;
			bench_put64(p, next + i);
			ents[i].index = next + i;
			ents[i].term = 1;
			ents[i].data = p;
			ents[i].len = payload;
		}
		double t0 = bench_now();
		int rv = e->append(h, ents, batch);
		double dt = bench_now() - t0;
		if (rv != 0) {
			note("%s: append failed\n", e->name);
			r->ok = false;
			break;
		}
		lat_push(r, dt);
		r->seconds += dt;
		r->entries += batch;
		next += batch;
		nb++;
	}
	if (r->ok) {
		/* Check the last entry reads back. */
		struct bench_read rd;
		if (e->read(h, next - 1, &rd) != 0 || rd.len != payload ||
		    bench_get64(rd.data) != next - 1) {
			note("%s: read back of %" PRIu64 " failed\n", e->name,
			     next - 1);
			r->ok = false;
		}
	}
	e->close(h);
	drop_dir(dir);
}

/*
 * One repetition of a grid cell for every engine at once: each engine's
 * store is open in its own fresh directory and batches are issued round
 * robin (the order rotated every round), so every engine meets the same
 * moment-to-moment state of a shared machine. Only one engine has dirty
 * data at any time: each batch is durable before the next engine's starts.
 * An engine stops after max_entries or max_seconds of its own append time
 * (at least 3 batches).
 */
static void run_lockstep(const struct cfg *c, size_t payload, size_t batch,
			 uint64_t max_entries, double max_seconds, unsigned rot,
			 uint8_t *pool, struct bench_entry *ents,
			 struct run *runs)
{
	void *h[ENGINES_MAX];
	uint64_t next[ENGINES_MAX];
	size_t nb[ENGINES_MAX];
	bool active[ENGINES_MAX];
	char dir[ENGINES_MAX][4096];
	size_t live = 0;
	for (size_t ei = 0; ei < c->neng; ei++) {
		memset(&runs[ei], 0, sizeof(runs[ei]));
		snprintf(dir[ei], sizeof(dir[ei]), "%s/grid-%s", c->dir,
			 c->eng[ei]->name);
		fresh_dir(dir[ei]);
		next[ei] = 1;
		nb[ei] = 0;
		active[ei] = c->eng[ei]->open(dir[ei], &h[ei]) == 0;
		runs[ei].ok = active[ei];
		if (!active[ei]) {
			note("%s: open failed\n", c->eng[ei]->name);
		}
		live += active[ei];
	}
	for (size_t round = 0; live > 0; round++) {
		for (size_t k = 0; k < c->neng; k++) {
			size_t ei = (k + rot + round) % c->neng;
			if (!active[ei]) {
				continue;
			}
			const struct bench_engine *e = c->eng[ei];
			struct run *r = &runs[ei];
			for (size_t i = 0; i < batch; i++) {
				uint8_t *p = pool + i * payload;
				bench_put64(p, next[ei] + i);
				ents[i].index = next[ei] + i;
				ents[i].term = 1;
				ents[i].data = p;
				ents[i].len = payload;
			}
			double t0 = bench_now();
			int rv = e->append(h[ei], ents, batch);
			double dt = bench_now() - t0;
			if (rv != 0) {
				note("%s: append failed\n", e->name);
				r->ok = false;
				active[ei] = false;
				live--;
				continue;
			}
			lat_push(r, dt);
			r->seconds += dt;
			r->entries += batch;
			next[ei] += batch;
			nb[ei]++;
			if (r->entries >= max_entries ||
			    (r->seconds >= max_seconds && nb[ei] >= 3)) {
				active[ei] = false;
				live--;
			}
		}
	}
	for (size_t ei = 0; ei < c->neng; ei++) {
		const struct bench_engine *e = c->eng[ei];
		if (runs[ei].ok) {
			struct bench_read rd;
			if (e->read(h[ei], next[ei] - 1, &rd) != 0 ||
			    rd.len != payload ||
			    bench_get64(rd.data) != next[ei] - 1) {
				note("%s: read back of %" PRIu64 " failed\n",
				     e->name, next[ei] - 1);
				runs[ei].ok = false;
			}
		}
		if (nb[ei] > 0 || runs[ei].ok) {
			e->close(h[ei]);
		}
	}
	for (size_t ei = 0; ei < c->neng; ei++) {
		drop_dir(dir[ei]);
	}
}

/* ---- Section 1: the append grid. ---- */
struct stat_cell {
	double rate[REPS_MAX]; /* entries/s of each repetition */
	uint64_t entries[REPS_MAX];
	double *lat; /* every batch latency of every repetition */
	size_t nlat, cap;
	bool failed;
	double med, p50, p99, spread;
};

static struct stat_cell grid[NPAY][NBAT][ENGINES_MAX];

static uint64_t cell_max_entries(const struct cfg *c, size_t payload,
				 size_t batch)
{
	uint64_t n = c->cell_bytes_cap / payload;
	if (n > 20000000u) {
		n = 20000000u;
	}
	n = (n + batch - 1) / batch * batch;
	if (n < 3 * (uint64_t)batch) {
		n = 3 * (uint64_t)batch;
	}
	return n;
}

static size_t engine_pos(const struct cfg *c, const char *name)
{
	for (size_t i = 0; i < c->neng; i++) {
		if (strcmp(c->eng[i]->name, name) == 0) {
			return i;
		}
	}
	return SIZE_MAX;
}

static void section_grid(const struct cfg *c)
{
	size_t cells = NPAY * NBAT, cell = 0;
	for (size_t pi = 0; pi < NPAY; pi++) {
		for (size_t bi = 0; bi < NBAT; bi++, cell++) {
			size_t P = payloads[pi], B = batches[bi];
			uint64_t maxn = cell_max_entries(c, P, B);
			uint8_t *pool = malloc(P * B);
			struct bench_entry *ents = malloc(B * sizeof(*ents));
			if (pool == NULL || ents == NULL) {
				die("out of memory");
			}
			fill_random(pool, P * B, 0x5eed + P * 31 + B);
			for (unsigned rep = 0; rep < c->reps; rep++) {
				note(
				    "\r[grid %zu/%zu] P=%zu B=%zu rep %u/%u   ",
				    cell + 1, cells, P, B, rep + 1, c->reps);
				struct run runs[ENGINES_MAX];
				run_lockstep(c, P, B, maxn, c->cell_seconds,
					     rep, pool, ents, runs);
				for (size_t ei = 0; ei < c->neng; ei++) {
					struct run *r = &runs[ei];
					struct stat_cell *s = &grid[pi][bi][ei];
					if (!r->ok || r->seconds <= 0) {
						s->failed = true;
					} else {
						s->rate[rep] =
						    (double)r->entries /
						    r->seconds;
						s->entries[rep] = r->entries;
					}
					for (size_t i = 0; i < r->nlat; i++) {
						if (s->nlat == s->cap) {
							size_t nc =
							    s->cap ? s->cap * 2
								   : 1024;
							double *n = realloc(
							    s->lat,
							    nc * sizeof(*n));
							if (n == NULL) {
								die("out of "
								    "memory");
							}
							s->lat = n;
							s->cap = nc;
						}
						s->lat[s->nlat++] = r->lat[i];
					}
					free(r->lat);
				}
			}
			free(pool);
			free(ents);
		}
	}
	note("\n");
	/* Statistics. */
	for (size_t pi = 0; pi < NPAY; pi++) {
		for (size_t bi = 0; bi < NBAT; bi++) {
			for (size_t ei = 0; ei < c->neng; ei++) {
				struct stat_cell *s = &grid[pi][bi][ei];
				if (s->failed) {
					continue;
				}
				s->med = median(s->rate, c->reps);
				double lo = s->rate[0], hi = s->rate[0];
				for (unsigned r = 1; r < c->reps; r++) {
					lo = s->rate[r] < lo ? s->rate[r] : lo;
					hi = s->rate[r] > hi ? s->rate[r] : hi;
				}
				s->spread = s->med > 0 ? (hi - lo) / s->med : 0;
				qsort(s->lat, s->nlat, sizeof(double),
				      cmp_double);
				s->p50 = quantile(s->lat, s->nlat, 0.50);
				s->p99 = quantile(s->lat, s->nlat, 0.99);
			}
		}
	}
	size_t raw = engine_pos(c, "raw"), rl = engine_pos(c, "rlog");
	/* The ratio table. */
	fprintf(md, "## 1. Append grid\n\n");
	fprintf(md,
		"Each batch is appended and made durable before the next "
		"starts. Entries/s are medians of %u runs per cell. In a run "
		"every engine's store is open at once and the engines take "
		"turns batch by batch (the order rotated every round), so "
		"they all meet the same moments of a shared machine; each "
		"stops after %.2f s of its own append time or its entry cap "
		"(%.0f MiB of payload), whichever first. Ratios are engine / "
		"raw, cell by cell (higher is better; raw is the physical "
		"limit).\n\n",
		c->reps, c->cell_seconds,
		(double)c->cell_bytes_cap / (1024.0 * 1024.0));
	fprintf(md, "| payload B | batch | raw entries/s | raw MB/s |");
	for (size_t ei = 0; ei < c->neng; ei++) {
		if (ei != raw) {
			fprintf(md, " %s |", c->eng[ei]->name);
		}
	}
	bool others = false;
	for (size_t ei = 0; ei < c->neng; ei++) {
		const char *n = c->eng[ei]->name;
		if (strcmp(n, "rocksdb") == 0 || strcmp(n, "sqlite") == 0 ||
		    strcmp(n, "lmdb") == 0) {
			others = true;
		}
	}
	if (rl != SIZE_MAX && others) {
		fprintf(md, " rlog / best of rocksdb,sqlite,lmdb |");
	}
	fprintf(md, "\n| ---: | ---: | ---: | ---: |");
	for (size_t ei = 0; ei < c->neng; ei++) {
		if (ei != raw) {
			fprintf(md, " ---: |");
		}
	}
	if (rl != SIZE_MAX && others) {
		fprintf(md, " ---: |");
	}
	fprintf(md, "\n");
	for (size_t pi = 0; pi < NPAY; pi++) {
		for (size_t bi = 0; bi < NBAT; bi++) {
			size_t P = payloads[pi], B = batches[bi];
			double rr = raw != SIZE_MAX && !grid[pi][bi][raw].failed
					? grid[pi][bi][raw].med
					: 0;
			fprintf(md, "| %zu | %zu | %.0f | %.1f |", P, B, rr,
				rr * (double)P / 1e6);
			for (size_t ei = 0; ei < c->neng; ei++) {
				if (ei == raw) {
					continue;
				}
				struct stat_cell *s = &grid[pi][bi][ei];
				if (s->failed || rr <= 0) {
					fprintf(md, " failed |");
				} else {
					fprintf(md, " %.2fx |", s->med / rr);
				}
			}
			if (rl != SIZE_MAX && others) {
				double best = 0;
				for (size_t ei = 0; ei < c->neng; ei++) {
					const char *n = c->eng[ei]->name;
					if ((strcmp(n, "rocksdb") == 0 ||
					     strcmp(n, "sqlite") == 0 ||
					     strcmp(n, "lmdb") == 0) &&
					    !grid[pi][bi][ei].failed &&
					    grid[pi][bi][ei].med > best) {
						best = grid[pi][bi][ei].med;
					}
				}
				double v = grid[pi][bi][rl].med;
				if (best > 0 && !grid[pi][bi][rl].failed) {
					fprintf(md, " %.2fx |", v / best);
				} else {
					fprintf(md, " - |");
				}
			}
			fprintf(md, "\n");
		}
	}
	fprintf(md, "\n### Absolute numbers\n\n");
	fprintf(md, "MB/s counts payload bytes. Latency is per batch "
		    "(append + durable sync), over every batch of every "
		    "run. Spread is (max - min) / median of the runs' "
		    "rates: the noise of the machine.\n\n");
	fprintf(md, "| payload B | batch | engine | entries/s | MB/s | p50 "
		    "ms | p99 ms | spread | entries/run |\n");
	fprintf(md, "| ---: | ---: | --- | ---: | ---: | ---: | ---: | "
		    "---: | ---: |\n");
	for (size_t pi = 0; pi < NPAY; pi++) {
		for (size_t bi = 0; bi < NBAT; bi++) {
			size_t P = payloads[pi], B = batches[bi];
			double rr = raw != SIZE_MAX && !grid[pi][bi][raw].failed
					? grid[pi][bi][raw].med
					: 0;
			for (size_t ei = 0; ei < c->neng; ei++) {
				struct stat_cell *s = &grid[pi][bi][ei];
				const char *n = c->eng[ei]->name;
				if (s->failed) {
					fprintf(md,
						"| %zu | %zu | %s | failed | "
						"| | | | |\n",
						P, B, n);
					csv_row("append", n, P, B, "failed", 1);
					continue;
				}
				double ents[REPS_MAX];
				for (unsigned r = 0; r < c->reps; r++) {
					ents[r] = (double)s->entries[r];
				}
				fprintf(md,
					"| %zu | %zu | %s | %.0f | %.1f | "
					"%.3f | %.3f | %.0f%% | %.0f |\n",
					P, B, n, s->med,
					s->med * (double)P / 1e6, s->p50 * 1e3,
					s->p99 * 1e3, s->spread * 100,
					median(ents, c->reps));
				csv_row("append", n, P, B, "entries_per_s",
					s->med);
				csv_row("append", n, P, B, "mb_per_s",
					s->med * (double)P / 1e6);
				csv_row("append", n, P, B, "p50_ms",
					s->p50 * 1e3);
				csv_row("append", n, P, B, "p99_ms",
					s->p99 * 1e3);
				csv_row("append", n, P, B, "spread", s->spread);
				if (rr > 0) {
					csv_row("append", n, P, B,
						"ratio_to_raw", s->med / rr);
				}
				for (unsigned r = 0; r < c->reps; r++) {
					char m[32];
					snprintf(m, sizeof(m),
						 "entries_per_s_run%u", r + 1);
					csv_row("append", n, P, B, m,
						s->rate[r]);
				}
			}
		}
	}
	fprintf(md, "\n");
}

/* ---- Children: recovery in a fresh process. ---- */
struct kv {
	char text[8192];
};

static double kv_get(const struct kv *k, const char *key)
{
	size_t n = strlen(key);
	const char *p = k->text;
	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, n) == 0 && p[n] == ' ') {
			return strtod(p + n + 1, NULL);
		}
		p = strchr(p, '\n');
		if (p != NULL) {
			p++;
		}
	}
	return NAN;
}

/* Run this program again with argv; its stdout into out. */
static int spawn(char *const argv[], struct kv *out, struct rusage *ru)
{
	int p[2];
	if (pipe(p) != 0) {
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(p[1]);
	size_t have = 0;
	for (;;) {
		ssize_t got =
		    read(p[0], out->text + have, sizeof(out->text) - 1 - have);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			break;
		}
		have += (size_t)got;
	}
	out->text[have] = '\0';
	close(p[0]);
	int status;
	if (wait4(pid, &status, 0, ru) < 0) {
		return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

struct verify {
	size_t payload;
	uint64_t count, bad;
};

static int verify_cb(void *ctx, uint64_t index, const struct bench_read *r)
{
	struct verify *v = ctx;
	v->count++;
	if (r->len != v->payload || r->len < 8 ||
	    bench_get64(r->data) != index) {
		v->bad++;
	}
	return 0;
}

/* recover ENGINE DIR ENTRIES PAYLOAD POINTS: open, read all, point reads. */
static int cmd_recover(int argc, char **argv)
{
	if (argc != 5) {
		die("recover ENGINE DIR ENTRIES PAYLOAD POINTS");
	}
	const struct bench_engine *e = find_engine(argv[0]);
	if (e == NULL) {
		die("unknown engine %s", argv[0]);
	}
	uint64_t n = strtoull(argv[2], NULL, 10);
	size_t payload = (size_t)strtoull(argv[3], NULL, 10);
	uint64_t points = strtoull(argv[4], NULL, 10);
	uint64_t rss_base = bench_rss_now();
	double t0 = bench_now();
	void *h;
	if (e->open(argv[1], &h) != 0) {
		return 1;
	}
	double t1 = bench_now();
	uint64_t rss_open = bench_rss_now();
	struct verify v = {payload, 0, 0};
	int rv;
	if (e->scan != NULL) {
		rv = e->scan(h, 1, n, verify_cb, &v);
	} else {
		rv = 0;
		for (uint64_t i = 1; i <= n && rv == 0; i++) {
			struct bench_read r;
			rv = e->read(h, i, &r);
			if (rv == 0) {
				verify_cb(&v, i, &r);
			}
		}
	}
	double t2 = bench_now();
	uint64_t st = 0x1234567;
	for (uint64_t i = 0; i < points && rv == 0; i++) {
		uint64_t idx = 1 + bench_rand(&st) % n;
		struct bench_read r;
		rv = e->read(h, idx, &r);
		if (rv == 0 &&
		    (r.len != payload || bench_get64(r.data) != idx)) {
			v.bad++;
		}
	}
	double t3 = bench_now();
	uint64_t rss_end = bench_rss_now();
	e->close(h);
	printf("rss_base %" PRIu64 "\n", rss_base);
	printf("open_s %.9f\nscan_s %.9f\npoints_s %.9f\nrss_open %" PRIu64
	       "\nrss_end %" PRIu64 "\nrss_peak %" PRIu64 "\nread %" PRIu64
	       "\nbad %" PRIu64 "\nok %d\n",
	       t1 - t0, t2 - t1, t3 - t2, rss_open, rss_end, bench_rss_peak(),
	       v.count, v.bad, rv == 0 && v.bad == 0 && v.count == n);
	return rv == 0 && v.bad == 0 && v.count == n ? 0 : 1;
}

/* seqcrc DIR: read every regular file of DIR sequentially + CRC32C. */
static int cmd_seqcrc(int argc, char **argv)
{
	if (argc != 1) {
		die("seqcrc DIR");
	}
	char pat[4096];
	snprintf(pat, sizeof(pat), "%s/*", argv[0]);
	double t0 = bench_now();
	glob_t g;
	if (glob(pat, 0, NULL, &g) != 0) {
		return 1;
	}
	size_t cap = 1u << 20;
	uint8_t *buf = malloc(cap);
	uint64_t total = 0;
	uint32_t crc = 0;
	for (size_t i = 0; i < g.gl_pathc && buf != NULL; i++) {
		int fd = open(g.gl_pathv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			continue;
		}
		for (;;) {
			ssize_t got = read(fd, buf, cap);
			if (got <= 0) {
				break;
			}
			crc = bench_crc32c(crc, buf, (size_t)got);
			total += (uint64_t)got;
		}
		close(fd);
	}
	globfree(&g);
	free(buf);
	double t1 = bench_now();
	printf("seq_s %.9f\nbytes %" PRIu64 "\ncrc %u\nrss_peak %" PRIu64
	       "\nok 1\n",
	       t1 - t0, total, crc, bench_rss_peak());
	return 0;
}

/* Fill a fresh store: entries of payload bytes in batches. */
static int fill(const struct bench_engine *e, const char *dir, uint64_t n,
		size_t payload, size_t batch, double *secs)
{
	uint8_t *pool = malloc(payload * batch);
	struct bench_entry *ents = malloc(batch * sizeof(*ents));
	if (pool == NULL || ents == NULL) {
		die("out of memory");
	}
	fill_random(pool, payload * batch, 77);
	void *h;
	if (e->open(dir, &h) != 0) {
		free(pool);
		free(ents);
		return -1;
	}
	double t = 0;
	int rv = 0;
	for (uint64_t next = 1; next <= n && rv == 0;) {
		size_t b =
		    (size_t)(n - next + 1 < batch ? n - next + 1 : batch);
		for (size_t i = 0; i < b; i++) {
			uint8_t *p = pool + i * payload;
			bench_put64(p, next + i);
			ents[i] = (struct bench_entry){next + i, 1, p, payload};
		}
		double t0 = bench_now();
		rv = e->append(h, ents, b);
		t += bench_now() - t0;
		next += b;
	}
	if (e->close(h) != 0) {
		rv = -1;
	}
	free(pool);
	free(ents);
	*secs = t;
	return rv;
}

static int cmd_fill(int argc, char **argv)
{
	if (argc != 5) {
		die("fill ENGINE DIR ENTRIES PAYLOAD BATCH");
	}
	const struct bench_engine *e = find_engine(argv[0]);
	if (e == NULL) {
		die("unknown engine %s", argv[0]);
	}
	fresh_dir(argv[1]);
	double s;
	uint64_t n = strtoull(argv[2], NULL, 10);
	if (fill(e, argv[1], n, (size_t)strtoull(argv[3], NULL, 10),
		 (size_t)strtoull(argv[4], NULL, 10), &s) != 0) {
		return 1;
	}
	printf("fill_s %.6f\nentries_per_s %.0f\n", s, (double)n / s);
	return 0;
}

/* ---- Section 2: recovery. ---- */
struct rec {
	const char *name;
	const char *cache;
	double open_s, scan_s, points_s, seq_s;
	double rss_base, rss_open, rss_peak, maxrss, rss_end;
	double fill_s;
	bool ok, seq;
};

static void child_run(const struct cfg *c, bool cold, char **argv,
		      struct rec *r)
{
	if (cold && !try_drop_caches()) {
		note("drop_caches failed\n");
	}
	struct kv kv;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	(void)c;
	int rv = spawn(argv, &kv, &ru);
	r->cache = cold ? "cold" : "warm";
	r->ok = rv == 0 && kv_get(&kv, "ok") == 1;
	r->open_s = kv_get(&kv, "open_s");
	r->scan_s = kv_get(&kv, "scan_s");
	r->points_s = kv_get(&kv, "points_s");
	r->seq_s = kv_get(&kv, "seq_s");
	r->rss_base = kv_get(&kv, "rss_base");
	r->rss_open = kv_get(&kv, "rss_open");
	r->rss_end = kv_get(&kv, "rss_end");
	r->rss_peak = kv_get(&kv, "rss_peak");
	r->maxrss = (double)ru.ru_maxrss * 1024.0;
	if (!r->ok) {
		note("\nchild %s %s failed:\n%s\n", argv[1], argv[2], kv.text);
	}
}

#define REC_REPS_MAX 3u

static double rec_total(const struct rec *r)
{
	return r->seq ? r->seq_s : r->open_s + r->scan_s;
}

static int cmp_rec(const void *a, const void *b)
{
	double x = rec_total(a), y = rec_total(b);
	return x < y ? -1 : x > y;
}

static void section_recovery(const struct cfg *c, bool drop_ok)
{
	const size_t P = 256, B = 1024;
	uint64_t n = c->rec_entries;
	char ns[32], ps[32], pts[32], dir[ENGINES_MAX][4096];
	snprintf(ns, sizeof(ns), "%" PRIu64, n);
	snprintf(ps, sizeof(ps), "%zu", P);
	snprintf(pts, sizeof(pts), "%" PRIu64, c->rec_points);
	double fill_s[ENGINES_MAX];
	bool fill_ok[ENGINES_MAX];
	for (size_t ei = 0; ei < c->neng; ei++) {
		const struct bench_engine *e = c->eng[ei];
		snprintf(dir[ei], sizeof(dir[ei]), "%s/recovery-%s", c->dir,
			 e->name);
		note("\r[recovery] writing %s: %" PRIu64 " x %zu B   ", e->name,
		     n, P);
		fresh_dir(dir[ei]);
		fill_ok[ei] = fill(e, dir[ei], n, P, B, &fill_s[ei]) == 0;
	}
	/* The items: sequential read + CRC32C of the raw file and of rlog's
	 * segment files (the references), then every engine. */
	struct item {
		const char *name;
		size_t ei;
		bool seq;
	} items[ENGINES_MAX + 2];
	size_t ni = 0;
	size_t raw = engine_pos(c, "raw"), rl = engine_pos(c, "rlog");
	if (raw != SIZE_MAX && fill_ok[raw]) {
		items[ni++] = (struct item){"raw-seq: raw file", raw, true};
	}
	if (rl != SIZE_MAX && fill_ok[rl]) {
		items[ni++] =
		    (struct item){"raw-seq: rlog's segment files", rl, true};
	}
	for (size_t ei = 0; ei < c->neng; ei++) {
		if (fill_ok[ei]) {
			items[ni++] =
			    (struct item){c->eng[ei]->name, ei, false};
		}
	}
	/* rec_reps runs of each item, cold (each after a page cache drop)
	 * then warm, the items interleaved and their order rotated. */
	static struct rec runs[2][ENGINES_MAX + 2][REC_REPS_MAX];
	for (int pass = 0; pass < 2; pass++) {
		bool cold = pass == 0;
		if (cold && !drop_ok) {
			continue;
		}
		for (unsigned rep = 0; rep < c->rec_reps; rep++) {
			for (size_t k = 0; k < ni; k++) {
				size_t it = (k + rep) % ni;
				struct item *m = &items[it];
				note("\r[recovery] %s %s run %u/%u          "
				     "        ",
				     m->name, cold ? "cold" : "warm", rep + 1,
				     c->rec_reps);
				struct rec *r = &runs[pass][it][rep];
				memset(r, 0, sizeof(*r));
				r->name = m->name;
				r->seq = m->seq;
				r->fill_s = fill_s[m->ei];
				if (m->seq) {
					char *argv[] = {"rlog-bench", "seqcrc",
							dir[m->ei], NULL};
					child_run(c, cold, argv, r);
				} else {
					char *argv[] = {
					    "rlog-bench",
					    "recover",
					    (char *)c->eng[m->ei]->name,
					    dir[m->ei],
					    ns,
					    ps,
					    pts,
					    NULL};
					child_run(c, cold, argv, r);
				}
			}
		}
	}
	note("\n");
	/* The median run of each item (by open + read-all time). */
	struct rec med[2][ENGINES_MAX + 2];
	bool have[2][ENGINES_MAX + 2];
	memset(have, 0, sizeof(have));
	for (int pass = 0; pass < 2; pass++) {
		for (size_t it = 0; it < ni; it++) {
			struct rec ok[REC_REPS_MAX];
			size_t nok = 0;
			for (unsigned rep = 0; rep < c->rec_reps; rep++) {
				if (runs[pass][it][rep].ok) {
					ok[nok++] = runs[pass][it][rep];
				}
			}
			if (nok == c->rec_reps) {
				qsort(ok, nok, sizeof(ok[0]), cmp_rec);
				med[pass][it] = ok[nok / 2];
				have[pass][it] = true;
			}
		}
	}
	fprintf(md, "## 2. Recovery\n\n");
	fprintf(md,
		"%" PRIu64 " entries of %zu bytes written in batches of %zu; "
		"then a fresh process (fork + exec of rlog-bench) opens the "
		"store, reads every entry in order (the engine's scan: "
		"rlog_scan, an iterator, a cursor, an ordered SELECT; raw "
		"reads 1 MiB windows; naive reads from memory), checks each "
		"one, then does %" PRIu64
		" random point reads (seeded). raw-seq rows read the files "
		"sequentially (1 MiB reads) and compute CRC32C over every "
		"byte: the floor for reading the log back. Each row is the "
		"median (by open + read-all time) of %u runs, the stores "
		"taking turns. %s\n\n",
		n, P, B, c->rec_points, c->rec_reps,
		drop_ok ? "Cold runs each follow `echo 3 > "
			  "/proc/sys/vm/drop_caches`; warm runs follow all "
			  "the cold ones."
			: "The page cache could not be dropped: warm numbers "
			  "only.");
	fprintf(md, "| engine | cache | open s | read all s | open + read "
		    "all s | vs raw-seq (raw file) | vs raw-seq (rlog "
		    "files) | point read us | RSS before open MB | RSS "
		    "after open MB | peak RSS MB (VmHWM) | ru_maxrss MB | "
		    "write entries/s |\n");
	fprintf(md, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: "
		    "| ---: | ---: | ---: | ---: | ---: |\n");
	for (int pass = 0; pass < 2; pass++) {
		double ref_raw = 0, ref_rlog = 0;
		for (size_t it = 0; it < ni; it++) {
			if (!have[pass][it] || !items[it].seq) {
				continue;
			}
			if (items[it].ei == raw) {
				ref_raw = med[pass][it].seq_s;
			} else {
				ref_rlog = med[pass][it].seq_s;
			}
		}
		const char *cache = pass == 0 ? "cold" : "warm";
		const char *sec = pass == 0 ? "recovery_cold" : "recovery_warm";
		if (pass == 0 && !drop_ok) {
			continue;
		}
		for (size_t it = 0; it < ni; it++) {
			struct rec *r = &med[pass][it];
			if (!have[pass][it]) {
				fprintf(md,
					"| %s | %s | failed | | | | | | | | | "
					"| |\n",
					items[it].name, cache);
				continue;
			}
			double tot = rec_total(r);
			if (r->seq) {
				fprintf(md,
					"| %s | %s | | | %.3f | %.2fx | %.2fx "
					"| | | | %.1f | %.1f | |\n",
					r->name, cache, tot,
					ref_raw > 0 ? tot / ref_raw : 0,
					ref_rlog > 0 ? tot / ref_rlog : 0,
					mb((uint64_t)r->rss_peak),
					mb((uint64_t)r->maxrss));
				csv_row(sec, r->name, P, B, "seq_s", tot);
				continue;
			}
			double pt = c->rec_points ? r->points_s * 1e6 /
							(double)c->rec_points
						  : 0;
			fprintf(md,
				"| %s | %s | %.3f | %.3f | %.3f | %.2fx | "
				"%.2fx | %.2f | %.1f | %.1f | %.1f | %.1f | "
				"%.0f |\n",
				r->name, cache, r->open_s, r->scan_s, tot,
				ref_raw > 0 ? tot / ref_raw : 0,
				ref_rlog > 0 ? tot / ref_rlog : 0, pt,
				mb((uint64_t)r->rss_base),
				mb((uint64_t)r->rss_open),
				mb((uint64_t)r->rss_peak),
				mb((uint64_t)r->maxrss),
				r->fill_s > 0 ? (double)n / r->fill_s : 0);
			csv_row(sec, r->name, P, B, "open_s", r->open_s);
			csv_row(sec, r->name, P, B, "read_all_s", r->scan_s);
			csv_row(sec, r->name, P, B, "open_read_all_s", tot);
			if (ref_raw > 0) {
				csv_row(sec, r->name, P, B,
					"ratio_to_raw_seq_raw_file",
					tot / ref_raw);
			}
			if (ref_rlog > 0) {
				csv_row(sec, r->name, P, B,
					"ratio_to_raw_seq_rlog_files",
					tot / ref_rlog);
				csv_row(sec, r->name, P, B,
					"open_ratio_to_raw_seq_rlog_files",
					r->open_s / ref_rlog);
			}
			csv_row(sec, r->name, P, B, "point_read_us", pt);
			csv_row(sec, r->name, P, B, "rss_base_bytes",
				r->rss_base);
			csv_row(sec, r->name, P, B, "rss_open_bytes",
				r->rss_open);
			csv_row(sec, r->name, P, B, "rss_peak_bytes",
				r->rss_peak);
			csv_row(sec, r->name, P, B, "ru_maxrss_bytes",
				r->maxrss);
		}
	}
	fprintf(md,
		"\nRSS before open is the child process itself (libc, and the "
		"RocksDB, SQLite and LMDB shared libraries every engine's "
		"child maps). Peak RSS is the child's own VmHWM (its exec'd "
		"image only). ru_maxrss (wait4) also counts the forked copy "
		"of the parent before exec, so it is at least the parent's "
		"RSS at fork time. LMDB's RSS includes the pages of its "
		"memory map it touched.\n\n");
	for (size_t ei = 0; ei < c->neng; ei++) {
		bench_rm_rf(dir[ei]);
	}
}

/* ---- Section 3: purge and truncate. ---- */
static void section_purge(const struct cfg *c)
{
	const size_t P = 1024, B = 1024;
	uint64_t n = c->purge_bytes / P;
	fprintf(md, "## 3. Purge and truncate\n\n");
	fprintf(md,
		"A log of %" PRIu64 " entries of %zu bytes (%.0f MB of "
		"payload, batches of %zu) is built, then half of it is purged "
		"(durably) and then the last 10%% is truncated (durably). "
		"Bytes written: `wchar` is what the process passed to write "
		"calls, `write_bytes` what it sent to storage (both from "
		"/proc/self/io, deltas over the call). Disk is the space "
		"allocated under the store's directory.\n\n",
		n, P, mb(n * P), B);
	fprintf(md, "| engine | build s | purge ms | purge wchar | purge "
		    "write_bytes | disk before MB | disk after purge MB | "
		    "truncate ms | truncate wchar | truncate write_bytes | "
		    "disk after truncate MB |\n");
	fprintf(md, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
		    "| ---: | ---: | ---: |\n");
	char dir[4096];
	for (size_t ei = 0; ei < c->neng; ei++) {
		const struct bench_engine *e = c->eng[ei];
		if (e->purge == NULL || e->truncate == NULL) {
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/purge-%s", c->dir, e->name);
		note("\r[purge] %s: building %.0f MB   ", e->name, mb(n * P));
		fresh_dir(dir);
		double build_s;
		if (fill(e, dir, n, P, B, &build_s) != 0) {
			fprintf(md, "| %s | failed | | | | | | | | | |\n",
				e->name);
			continue;
		}
		note("\r[purge] %s: purge and truncate        ", e->name);
		void *h;
		if (e->open(dir, &h) != 0) {
			fprintf(md, "| %s | failed | | | | | | | | | |\n",
				e->name);
			continue;
		}
		uint64_t du0 = bench_du(dir), w0, b0, w1, b1, w2, b2;
		sync();
		bench_proc_io(&w0, &b0);
		double t0 = bench_now();
		int rv = e->purge(h, n / 2, 1);
		double t1 = bench_now();
		bench_proc_io(&w1, &b1);
		uint64_t du1 = bench_du(dir);
		uint64_t from = n - n / 10 + 1;
		double t2 = bench_now();
		if (rv == 0) {
			bench_proc_io(&w1, &b1);
			t2 = bench_now();
			rv = e->truncate(h, from);
		}
		double t3 = bench_now();
		bench_proc_io(&w2, &b2);
		uint64_t du2 = bench_du(dir);
		/* The survivors are intact. */
		struct bench_read rd;
		if (rv == 0 && (e->read(h, n / 2 + 1, &rd) != 0 ||
				bench_get64(rd.data) != n / 2 + 1 ||
				e->read(h, from - 1, &rd) != 0 ||
				bench_get64(rd.data) != from - 1)) {
			rv = -1;
		}
		e->close(h);
		if (rv != 0) {
			fprintf(md, "| %s | failed | | | | | | | | | |\n",
				e->name);
			drop_dir(dir);
			continue;
		}
		uint64_t pw = w1 - w0, pb = b1 - b0, tw = w2 - w1, tb = b2 - b1;
		/* w1/b1 were read again just before the truncate. */
		fprintf(md,
			"| %s | %.2f | %.1f | %" PRIu64 " | %" PRIu64
			" | %.0f | %.0f | %.1f | %" PRIu64 " | %" PRIu64
			" | %.0f |\n",
			e->name, build_s, (t1 - t0) * 1e3, pw, pb, mb(du0),
			mb(du1), (t3 - t2) * 1e3, tw, tb, mb(du2));
		csv_row("purge", e->name, P, B, "purge_ms", (t1 - t0) * 1e3);
		csv_row("purge", e->name, P, B, "purge_wchar", (double)pw);
		csv_row("purge", e->name, P, B, "purge_write_bytes",
			(double)pb);
		csv_row("purge", e->name, P, B, "disk_before", (double)du0);
		csv_row("purge", e->name, P, B, "disk_after_purge",
			(double)du1);
		csv_row("purge", e->name, P, B, "truncate_ms", (t3 - t2) * 1e3);
		csv_row("purge", e->name, P, B, "truncate_wchar", (double)tw);
		csv_row("purge", e->name, P, B, "truncate_write_bytes",
			(double)tb);
		csv_row("purge", e->name, P, B, "disk_after_truncate",
			(double)du2);
		drop_dir(dir);
	}
	note("\n");
	fprintf(md, "\n");
}

/* ---- Section 4: rlog's self-checks. ---- */
static void section_checks(const struct cfg *c)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/checks-rlog", c->dir);
	fresh_dir(dir);
	note("[checks] rlog through a counting VFS and allocator\n");
	struct bench_rlog_checks k;
	int rv = bench_rlog_run_checks(dir, &k);
	drop_dir(dir);
	fprintf(md, "## 4. rlog's write and read path, counted\n\n");
	if (rv != 0) {
		fprintf(md, "The checks failed to run.\n\n");
		return;
	}
	fprintf(md,
		"rlog opened on a VFS that wraps the POSIX one and counts "
		"every call, with an allocator (rlog_options.allocator) that "
		"counts every allocation; 4 MiB segments so rotation and "
		"purge are exercised. %" PRIu64 " batches of 64 x 256 B were "
		"appended to warm up, then %" PRIu64 " more were counted.\n\n",
		k.batches, k.batches);
	fprintf(md, "| what | count | per unit |\n| --- | ---: | ---: |\n");
	fprintf(md,
		"| pwrite calls, counted appends | %" PRIu64
		" | %.3f per batch |\n",
		k.pwrites, (double)k.pwrites / (double)k.batches);
	fprintf(md,
		"| fdatasync calls, counted appends | %" PRIu64
		" | %.3f per batch |\n",
		k.syncs, (double)k.syncs / (double)k.batches);
	fprintf(md,
		"| directory fsyncs, counted appends (segment "
		"rotation) | %" PRIu64 " | %.3f per batch |\n",
		k.dir_syncs, (double)k.dir_syncs / (double)k.batches);
	fprintf(md,
		"| allocations, counted appends | %" PRIu64
		" | %.5f per entry |\n",
		k.allocs_warm, (double)k.allocs_warm / (double)k.entries_warm);
	fprintf(md,
		"| pread calls, rlog_open of %" PRIu64 " entries | %" PRIu64
		" | %.1f KiB per call |\n",
		2 * k.entries, k.open_preads,
		k.open_preads
		    ? (double)k.open_bytes_read / (double)k.open_preads / 1024
		    : 0);
	fprintf(md,
		"| pread calls, %" PRIu64 " random rlog_get | %" PRIu64
		" | %.3f per read |\n",
		k.reads, k.preads, (double)k.preads / (double)k.reads);
	fprintf(md,
		"| pread calls, rlog_scan of %" PRIu64 " entries | %" PRIu64
		" | %.3f per entry |\n",
		k.scan_entries, k.scan_preads,
		k.scan_entries ? (double)k.scan_preads / (double)k.scan_entries
			       : 0);
	fprintf(md,
		"| purge of half: files removed / segments before | "
		"%" PRIu64 " / %" PRIu64 " | |\n",
		k.purge_removes, k.purge_segments);
	fprintf(md,
		"| purge of half: pwrite calls, bytes | %" PRIu64 ", %" PRIu64
		" B | |\n",
		k.purge_pwrites, k.purge_bytes);
	fprintf(md, "\n");
	csv_row("checks", "rlog", 256, 64, "pwrites_per_batch",
		(double)k.pwrites / (double)k.batches);
	csv_row("checks", "rlog", 256, 64, "syncs_per_batch",
		(double)k.syncs / (double)k.batches);
	csv_row("checks", "rlog", 256, 64, "allocs_per_entry",
		(double)k.allocs_warm / (double)k.entries_warm);
	csv_row("checks", "rlog", 256, 64, "preads_per_get",
		(double)k.preads / (double)k.reads);
	csv_row("checks", "rlog", 256, 64, "preads_per_scanned_entry",
		k.scan_entries ? (double)k.scan_preads / (double)k.scan_entries
			       : 0);
	csv_row("checks", "rlog", 256, 64, "purge_bytes_written",
		(double)k.purge_bytes);
}

/* ---- Section 5: the simulator. ---- */
static void section_sim(const struct cfg *c)
{
	fprintf(md, "## 5. Simulator throughput\n\n");
#ifndef BENCH_HAVE_SIM
	(void)c;
	fprintf(md, "rlog-bench was built without the simulator.\n\n");
#else
	char pat[4096];
	snprintf(pat, sizeof(pat), "%s/*.scn", c->scenarios);
	glob_t g;
	if (glob(pat, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		fprintf(md, "No scenarios in %s.\n\n", c->scenarios);
		return;
	}
	fprintf(md,
		"rlog_sim_explore on every scenario (fates 4, max points "
		"2000, nested crashes, invariant 7 checks: the settings of "
		"ci/sim) with %u seed%s each (the script's seed and the next "
		"ones), one process, one core%s. A trial is one "
		"crash-recover-check run; crash points and trials are summed "
		"over the seeds.\n\n",
		c->sim_seeds, c->sim_seeds == 1 ? "" : "s",
		c->sim_budget > 0 ? ", stopped after the time budget of quick "
				    "mode"
				  : "");
	fprintf(md, "| scenario | VFS ops | crash points | trials | s | "
		    "trials/s | result |\n");
	fprintf(md, "| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
	uint64_t trials = 0;
	double secs = 0;
	size_t ran = 0, failed = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		if (c->sim_budget > 0 && secs >= c->sim_budget) {
			break;
		}
		const char *path = g.gl_pathv[i];
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		note("\r[sim %zu/%zu] %-44s", i + 1, g.gl_pathc, base);
		struct rlog_sim_script *s;
		char err[1024];
		if (rlog_sim_scn_parse_file(path, &s, err, sizeof(err)) != 0) {
			fprintf(md, "| %s | | | | | | parse error |\n", base);
			continue;
		}
		uint64_t ops = 0, points = 0, tr = 0;
		double dt = 0;
		bool bad = false;
		for (unsigned k = 0; k < c->sim_seeds; k++) {
			struct rlog_sim_explore_cfg cfg = {
			    .seed = s->options.seed + k,
			    .fates = 4,
			    .max_points = 2000,
			    .nested = true,
			    .check_append = true,
			};
			struct rlog_sim_explore_result r;
			double t0 = bench_now();
			int rv = rlog_sim_explore(s, &cfg, &r, NULL, NULL);
			dt += bench_now() - t0;
			ops = r.ops;
			points += r.points;
			tr += r.trials;
			bad = bad || rv != 0 || r.failed;
		}
		rlog_sim_scn_free(s);
		ran++;
		secs += dt;
		trials += tr;
		failed += bad;
		fprintf(md,
			"| %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64
			" | %.2f | %.0f | %s |\n",
			base, ops, points, tr, dt, dt > 0 ? (double)tr / dt : 0,
			bad ? "FAILED" : "passed");
		csv_row("sim", base, 0, 0, "trials", (double)tr);
		csv_row("sim", base, 0, 0, "seconds", dt);
	}
	globfree(&g);
	note("\n");
	fprintf(md,
		"| **all %zu run** | | | %" PRIu64 " | %.2f | **%.0f** | %zu "
		"failed |\n\n",
		ran, trials, secs, secs > 0 ? (double)trials / secs : 0,
		failed);
	csv_row("sim", "all", 0, 0, "trials_per_s_per_core",
		secs > 0 ? (double)trials / secs : 0);
#endif
}

/* ---- Targets (computed from the grid). ---- */
static void section_targets(const struct cfg *c)
{
	size_t raw = engine_pos(c, "raw"), rl = engine_pos(c, "rlog");
	if (!c->grid || raw == SIZE_MAX || rl == SIZE_MAX) {
		return;
	}
	fprintf(md, "## Append targets, cell by cell\n\n");
	fprintf(md, "| payload B | batch | rlog / raw | >= 0.95x raw | ahead "
		    "of rocksdb, sqlite, lmdb | >= 2x them at B=1024 |\n");
	fprintf(md, "| ---: | ---: | ---: | --- | --- | --- |\n");
	unsigned met95 = 0, metahead = 0, met2x = 0, cells2x = 0;
	for (size_t pi = 0; pi < NPAY; pi++) {
		for (size_t bi = 0; bi < NBAT; bi++) {
			struct stat_cell *r = &grid[pi][bi][raw];
			struct stat_cell *l = &grid[pi][bi][rl];
			double ratio = r->failed || l->failed || r->med <= 0
					   ? 0
					   : l->med / r->med;
			double best = 0;
			for (size_t ei = 0; ei < c->neng; ei++) {
				const char *n = c->eng[ei]->name;
				if ((strcmp(n, "rocksdb") == 0 ||
				     strcmp(n, "sqlite") == 0 ||
				     strcmp(n, "lmdb") == 0) &&
				    !grid[pi][bi][ei].failed &&
				    grid[pi][bi][ei].med > best) {
					best = grid[pi][bi][ei].med;
				}
			}
			bool ok95 = ratio >= 0.95;
			bool ahead = best > 0 && l->med > best;
			met95 += ok95;
			metahead += ahead;
			char two[32] = "";
			if (batches[bi] == 1024) {
				bool ok2 = best > 0 && l->med >= 2 * best;
				cells2x++;
				met2x += ok2;
				snprintf(two, sizeof(two), "%s (%.2fx)",
					 ok2 ? "yes" : "no",
					 best > 0 ? l->med / best : 0);
			}
			fprintf(
			    md,
			    "| %zu | %zu | %.2fx | %s | %s (%.2fx) | %s |\n",
			    payloads[pi], batches[bi], ratio,
			    ok95 ? "yes" : "no", ahead ? "yes" : "no",
			    best > 0 ? l->med / best : 0, two);
		}
	}
	fprintf(md,
		"\n>= 0.95x raw in %u of %u cells; ahead of every other "
		"engine in %u of %u; >= 2x them in %u of %u cells at "
		"B=1024.\n\n",
		met95, NPAY * NBAT, metahead, NPAY * NBAT, met2x, cells2x);
}

/* ---- cell: one append run, for profilers and strace. ---- */
static int cmd_cell(const struct cfg *c, int argc, char **argv)
{
	if (argc < 3) {
		die("cell ENGINE PAYLOAD BATCH [ENTRIES [SECONDS]]");
	}
	const struct bench_engine *e = find_engine(argv[0]);
	if (e == NULL) {
		die("unknown engine %s", argv[0]);
	}
	size_t P = (size_t)strtoull(argv[1], NULL, 10);
	size_t B = (size_t)strtoull(argv[2], NULL, 10);
	if (P < 8 || B < 1) {
		die("payload must be >= 8 and batch >= 1");
	}
	uint64_t n =
	    argc > 3 ? strtoull(argv[3], NULL, 10) : cell_max_entries(c, P, B);
	double secs = argc > 4 ? strtod(argv[4], NULL) : 1e9;
	if (n < B || !(secs > 0)) {
		die("cell: ENTRIES (%s) must be at least BATCH (%zu) and "
		    "SECONDS (%s) above 0",
		    argc > 3 ? argv[3] : "default", B,
		    argc > 4 ? argv[4] : "default");
	}
	uint8_t *pool = malloc(P * B);
	struct bench_entry *ents = malloc(B * sizeof(*ents));
	if (pool == NULL || ents == NULL) {
		die("out of memory");
	}
	fill_random(pool, P * B, 1);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/cell-%s", c->dir, e->name);
	struct run r;
	run_append(e, dir, P, B, n, secs, pool, ents, &r);
	qsort(r.lat, r.nlat, sizeof(double), cmp_double);
	printf("%s P=%zu B=%zu: %" PRIu64 " entries in %.3f s: %.0f "
	       "entries/s, %.1f MB/s, p50 %.3f ms, p99 %.3f ms%s\n",
	       e->name, P, B, r.entries, r.seconds,
	       (double)r.entries / r.seconds,
	       (double)r.entries * (double)P / r.seconds / 1e6,
	       quantile(r.lat, r.nlat, 0.5) * 1e3,
	       quantile(r.lat, r.nlat, 0.99) * 1e3, r.ok ? "" : " FAILED");
	free(r.lat);
	free(pool);
	free(ents);
	return r.ok ? 0 : 1;
}

static const char usage[] =
    "usage:\n"
    "  rlog-bench [options]      run the sections, print the report\n"
    "  rlog-bench [--dir D] cell ENGINE PAYLOAD BATCH [ENTRIES "
    "[SECONDS]]\n"
    "  rlog-bench fill ENGINE DIR ENTRIES PAYLOAD BATCH\n"
    "  rlog-bench recover ENGINE DIR ENTRIES PAYLOAD POINTS\n"
    "  rlog-bench seqcrc DIR\n"
    "\n"
    "options:\n"
    "  --quick               about a minute (default: full, minutes)\n"
    "  --dir DIR             where the stores go (default " BENCH_DEFAULT_DIR
    ")\n"
    "  --md FILE             also write the report (markdown) here\n"
    "  --csv FILE            write every number as CSV here\n"
    "  --label TEXT          what was measured (e.g. the commit)\n"
    "  --engines a,b,...     subset of engines (raw is the reference)\n"
    "  --sections a,b,...    subset of grid,recovery,purge,checks,sim\n"
    "  --reps N              runs per grid cell (default 5, quick 3)\n"
    "  --seconds S           append time per grid run\n"
    "  --recovery-entries N  entries for the recovery section\n"
    "  --purge-mb N          log size for the purge section\n"
    "  --scenarios DIR       scenario directory (default " BENCH_SCENARIO_DIR
    ")\n"
    "  --segment-size BYTES  rlog segment size (default: rlog's)\n"
    "  --no-drop-caches      warm recovery numbers only\n";

static void parse_list(struct cfg *c, const char *list, bool engines)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", list);
	if (engines) {
		c->neng = 0;
	} else {
		c->grid = c->recovery = c->purge = c->checks = c->sim = false;
	}
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (engines) {
			const struct bench_engine *e = find_engine(t);
			if (e == NULL) {
				die("engine %s is not built in", t);
			}
			if (c->neng < ENGINES_MAX) {
				c->eng[c->neng++] = e;
			}
		} else if (strcmp(t, "grid") == 0) {
			c->grid = true;
		} else if (strcmp(t, "recovery") == 0) {
			c->recovery = true;
		} else if (strcmp(t, "purge") == 0) {
			c->purge = true;
		} else if (strcmp(t, "checks") == 0) {
			c->checks = true;
		} else if (strcmp(t, "sim") == 0) {
			c->sim = true;
		} else {
			die("unknown section %s", t);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "recover") == 0) {
		return cmd_recover(argc - 2, argv + 2);
	}
	if (argc >= 2 && strcmp(argv[1], "seqcrc") == 0) {
		return cmd_seqcrc(argc - 2, argv + 2);
	}
	if (argc >= 2 && strcmp(argv[1], "fill") == 0) {
		return cmd_fill(argc - 2, argv + 2);
	}
	struct cfg c = {
	    .dir = BENCH_DEFAULT_DIR,
	    .scenarios = BENCH_SCENARIO_DIR,
	    .reps = 3,
	    .drop = true,
	    .grid = true,
	    .recovery = true,
	    .purge = true,
	    .checks = true,
	    .sim = true,
	};
	for (size_t i = 0; i < ALL_ENGINES; i++) {
		c.eng[c.neng++] = all_engines[i];
	}
	double seconds = 0;
	bool reps_set = false;
	uint64_t rec_entries = 0, purge_mb = 0;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (strcmp(a, "--quick") == 0) {
			c.quick = true;
		} else if (strcmp(a, "--dir") == 0 && more) {
			c.dir = argv[++i];
		} else if (strcmp(a, "--md") == 0 && more) {
			c.md_path = argv[++i];
		} else if (strcmp(a, "--label") == 0 && more) {
			c.label = argv[++i];
		} else if (strcmp(a, "--csv") == 0 && more) {
			c.csv_path = argv[++i];
		} else if (strcmp(a, "--engines") == 0 && more) {
			parse_list(&c, argv[++i], true);
		} else if (strcmp(a, "--sections") == 0 && more) {
			parse_list(&c, argv[++i], false);
		} else if (strcmp(a, "--reps") == 0 && more) {
			c.reps = (unsigned)strtoul(argv[++i], NULL, 10);
			reps_set = true;
		} else if (strcmp(a, "--seconds") == 0 && more) {
			seconds = strtod(argv[++i], NULL);
		} else if (strcmp(a, "--recovery-entries") == 0 && more) {
			rec_entries = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(a, "--purge-mb") == 0 && more) {
			purge_mb = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(a, "--scenarios") == 0 && more) {
			c.scenarios = argv[++i];
		} else if (strcmp(a, "--segment-size") == 0 && more) {
			bench_rlog_segment_size = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(a, "--no-drop-caches") == 0) {
			c.drop = false;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (a[0] != '-') {
			break;
		} else {
			fprintf(stderr, "rlog-bench: bad option %s\n%s", a,
				usage);
			return 2;
		}
	}
	c.cell_seconds = seconds > 0 ? seconds : c.quick ? 0.1 : 0.6;
	c.cell_bytes_cap = c.quick ? (128u << 20) : (1024u << 20);
	c.rec_entries = rec_entries ? rec_entries
			: c.quick   ? 100000u
				    : 1000000u;
	c.rec_points = c.quick ? 20000u : 100000u;
	c.purge_bytes = (purge_mb ? purge_mb : c.quick ? 64u : 1024u) << 20;
	c.sim_budget = c.quick ? 10.0 : 0;
	c.sim_seeds = c.quick ? 1 : 2;
	c.rec_reps = c.quick ? 1 : REC_REPS_MAX;
	if (!reps_set) {
		c.reps = c.quick ? 3 : 5;
	}
	if (c.reps < 1 || c.reps > REPS_MAX) {
		die("--reps must be 1..%u", REPS_MAX);
	}
	if (bench_mkdir_p(c.dir) != 0) {
		die("cannot create %s", c.dir);
	}
	if (i < argc) {
		if (strcmp(argv[i], "cell") == 0) {
			return cmd_cell(&c, argc - i - 1, argv + i + 1);
		}
		fprintf(stderr, "rlog-bench: unknown command %s\n%s", argv[i],
			usage);
		return 2;
	}
	if (engine_pos(&c, "raw") != 0) {
		/* raw must run (it is the reference); put it first. */
		size_t p = engine_pos(&c, "raw");
		if (p == SIZE_MAX) {
			if (c.neng == ENGINES_MAX) {
				die("too many engines");
			}
			memmove(c.eng + 1, c.eng, c.neng * sizeof(c.eng[0]));
			c.neng++;
		} else {
			memmove(c.eng + 1, c.eng, p * sizeof(c.eng[0]));
		}
		c.eng[0] = &bench_eng_raw;
	}
	char *md_buf = NULL, *csv_buf = NULL;
	size_t md_len = 0, csv_len = 0;
	md = open_memstream(&md_buf, &md_len);
	csv = open_memstream(&csv_buf, &csv_len);
	if (md == NULL || csv == NULL) {
		die("out of memory");
	}
	fprintf(csv, "section,engine,payload,batch,metric,value\n");
	bool drop_ok = c.drop && c.recovery && try_drop_caches();
	double t0 = bench_now();
	fprintf(md, "# rlog-bench results (%s mode)\n\n",
		c.quick ? "quick" : "full");
	machine_facts(&c, drop_ok);
	if (c.grid) {
		section_grid(&c);
	}
	if (c.recovery) {
		section_recovery(&c, drop_ok);
	}
	if (c.purge) {
		section_purge(&c);
	}
	if (c.checks) {
		section_checks(&c);
	}
	if (c.sim) {
		section_sim(&c);
	}
	section_targets(&c);
	char load[64];
	loadavg_str(load, sizeof(load));
	fprintf(md, "Total run time %.0f s; load average at the end %s.\n\n",
		bench_now() - t0, load);
	fclose(md);
	fclose(csv);
	fputs(md_buf, stdout);
	int rv = 0;
	if (c.md_path != NULL) {
		FILE *f = fopen(c.md_path, "w");
		if (f == NULL || fputs(md_buf, f) < 0 || fclose(f) != 0) {
			fprintf(stderr, "rlog-bench: cannot write %s\n",
				c.md_path);
			rv = 1;
		}
	}
	if (c.csv_path != NULL) {
		FILE *f = fopen(c.csv_path, "w");
		if (f == NULL || fputs(csv_buf, f) < 0 || fclose(f) != 0) {
			fprintf(stderr, "rlog-bench: cannot write %s\n",
				c.csv_path);
			rv = 1;
		}
	}
	free(md_buf);
	free(csv_buf);
	return rv;
}
