/*
 * cmd_import.c: `rlog import-dengine SRC DST`, convert a d-engine
 * FileStorageEngine directory into a new rlog directory.
 *
 * SRC is only read (log.data is mapped read-only). The new log is built
 * through the public API in a sibling directory DST.import-<pid>, synced,
 * closed, and only then renamed to DST (and the parent directory fsynced),
 * so DST either does not exist or holds the whole import.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dengine.h"
#include "tool.h"

/* Entries and payload bytes handed to one rlog_append. */
#define IMPORT_BATCH_ENTRIES 4096u
#define IMPORT_BATCH_BYTES (32u * 1024u * 1024u)
/* Most bytes of hard_state.bin read (d-engine's is 9 or 22). */
#define HS_READ_MAX_BYTES 4096u

static const char import_usage[] =
    "usage: rlog import-dengine SRC DST [--dry-run] [--segment-size BYTES]\n"
    "                                   [--boundary-term T]\n"
    "\n"
    "Convert the d-engine FileStorageEngine directory SRC (logs/log.data,\n"
    "meta/hard_state.bin) into a new rlog directory DST, and report what\n"
    "SRC holds: entry count and range, indexes written more than once\n"
    "(the last one written is imported, as d-engine keeps it), records\n"
    "that do not decode (offset), a torn tail (offset, bytes), gaps and\n"
    "terms that decrease. The contiguous run of entries from the lowest\n"
    "index is imported; what lies after a gap is left out and named.\n"
    "SRC is never changed. DST must not exist or be an empty directory;\n"
    "it appears only once the import is complete and synced.\n"
    "\n"
    "  --dry-run           report only, write nothing\n"
    "  --segment-size B    segment size of the new log (default 64 MiB)\n"
    "  --boundary-term T   when the lowest index L is above 1, the new log\n"
    "                      starts with purge boundary {L-1, T}; d-engine's\n"
    "                      files do not say that term (default 0)\n"
    "\n"
    "exit status: 0 imported and nothing left out (notes allowed: torn\n"
    "tail, duplicates), 1 imported with entries or hard state left out,\n"
    "or refused (DST not empty, SRC not a d-engine directory), 2 bad\n"
    "usage, 3 I/O error\n";

struct import_opts {
	const char *src;
	char *dst; /* argv's own string: trailing slashes are cut */
	bool dry_run;
	uint64_t segment_size_bytes;
	uint64_t boundary_term;
	bool boundary_set;
};

static int import_args(int argc, char **argv, struct import_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		uint64_t *dst = NULL;
		if (rlog_tool_is_help(a)) {
			fputs(import_usage, stdout);
			return -1;
		}
		if (strcmp(a, "--dry-run") == 0) {
			o->dry_run = true;
			continue;
		}
		if (strcmp(a, "--segment-size") == 0) {
			dst = &o->segment_size_bytes;
		} else if (strcmp(a, "--boundary-term") == 0) {
			dst = &o->boundary_term;
			o->boundary_set = true;
		} else if (a[0] == '-' || (o->src != NULL && o->dst != NULL)) {
			fprintf(stderr,
				"rlog import-dengine: unexpected argument "
				"'%s'\n%s",
				a, import_usage);
			return RLOG_TOOL_EXIT_USAGE;
		} else {
			if (o->src == NULL) {
				o->src = argv[i];
			} else {
				o->dst = argv[i];
			}
			continue;
		}
		if (i + 1 >= argc ||
		    rlog_tool_parse_u64(argv[i + 1], dst) != 0) {
			fprintf(stderr,
				"rlog import-dengine: %s needs a number\n", a);
			return RLOG_TOOL_EXIT_USAGE;
		}
		i++;
	}
	if (o->src == NULL || o->dst == NULL) {
		fprintf(stderr, "rlog import-dengine: needs SRC and DST\n%s",
			import_usage);
		return RLOG_TOOL_EXIT_USAGE;
	}
	/* "dst/" would put the temporary directory inside DST. */
	char *end = o->dst + strlen(o->dst);
	while (end > o->dst + 1 && end[-1] == '/') {
		*--end = '\0';
	}
	if (o->segment_size_bytes != 0 &&
	    (o->segment_size_bytes < RLOG_SEGMENT_SIZE_MIN_BYTES ||
	     o->segment_size_bytes > RLOG_SEGMENT_SIZE_MAX_BYTES)) {
		fprintf(stderr,
			"rlog import-dengine: --segment-size must lie in "
			"[%u, %u]\n",
			RLOG_SEGMENT_SIZE_MIN_BYTES,
			RLOG_SEGMENT_SIZE_MAX_BYTES);
		return RLOG_TOOL_EXIT_USAGE;
	}
	return 0;
}

/* ---- Reading SRC. ---- */

struct src_files {
	char log_path[4096];
	char hs_path[4096];
	bool log_present;
	const uint8_t *log; /* mapped read-only */
	size_t log_len;
	bool hs_present;
	uint8_t hs[HS_READ_MAX_BYTES];
	size_t hs_len;
	uint64_t hs_file_bytes;
};

static int map_log(struct src_files *s)
{
	int fd = open(s->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			return 0;
		}
		return -errno;
	}
	s->log_present = true;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if ((uint64_t)st.st_size > SIZE_MAX / 2) {
		close(fd);
		return -EFBIG;
	}
	s->log_len = (size_t)st.st_size;
	if (s->log_len > 0) {
		void *p = mmap(NULL, s->log_len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			close(fd);
			return -e;
		}
		s->log = p;
	}
	close(fd);
	return 0;
}

static int read_hs(struct src_files *s)
{
	int fd = open(s->hs_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	s->hs_present = true;
	struct stat st;
	if (fstat(fd, &st) == 0) {
		s->hs_file_bytes = (uint64_t)st.st_size;
	}
	while (s->hs_len < sizeof(s->hs)) {
		ssize_t n =
		    read(fd, s->hs + s->hs_len, sizeof(s->hs) - s->hs_len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0) {
			break;
		}
		s->hs_len += (size_t)n;
	}
	close(fd);
	return 0;
}

/* ---- The report. ---- */

static void print_report(const struct import_opts *o, const struct src_files *s,
			 const struct rlog_dengine_report *r)
{
	printf("source: %s\n", o->src);
	if (!s->log_present) {
		printf("log.data: missing (an empty log)\n");
	} else {
		printf("log.data: %" PRIu64 " bytes, %" PRIu64 " records\n",
		       r->log_bytes, r->records);
	}
	if (r->distinct > 0) {
		printf("  entries: %" PRIu64 " distinct indexes in [%" PRIu64
		       ", %" PRIu64 "]",
		       r->distinct, r->min_index, r->max_index);
		if (r->missing > 0) {
			printf(", %" PRIu64 " indexes missing", r->missing);
		}
		printf("\n");
	} else {
		printf("  entries: none\n");
	}
	printf("  duplicates: %" PRIu64 " record(s) superseded by a later one "
	       "of the same index (%" PRIu64 " differ from it)\n",
	       r->duplicates, r->duplicates_differ);
	printf("  undecodable: %" PRIu64 ", index 0: %" PRIu64 "\n",
	       r->undecodable, r->index_zero);
	if (r->torn) {
		printf("  torn tail: %" PRIu64 " bytes at offset %" PRIu64 "\n",
		       r->torn_bytes, r->torn_offset);
	} else {
		printf("  torn tail: none\n");
	}
	if (!r->hs_present) {
		printf("hard_state.bin: missing (no hard state)\n");
	} else if (r->hs_valid) {
		printf("hard_state.bin: %" PRIu64 " bytes: term %" PRIu64,
		       s->hs_file_bytes, r->hs.current_term);
		if (r->hs.has_vote) {
			printf(", vote {id %u, term %" PRIu64 ", committed %s}",
			       r->hs.voted_for_id, r->hs.voted_for_term,
			       r->hs.committed ? "yes" : "no");
		} else {
			printf(", no vote");
		}
		if (r->hs_trailing > 0) {
			printf(" (%" PRIu64 " trailing bytes ignored, as "
			       "bincode does)",
			       r->hs_trailing);
		}
		printf("\n");
	} else {
		printf("hard_state.bin: %" PRIu64 " bytes: does not decode\n",
		       s->hs_file_bytes);
	}
	for (size_t i = 0; i < r->issues_len; i++) {
		const struct rlog_dengine_issue *is = &r->issues[i];
		const char *file = is->kind == RLOG_DENGINE_HARD_STATE
				       ? "hard_state.bin"
				       : "log.data";
		printf("%s %s@%" PRIu64 ": %s\n",
		       is->problem ? "problem" : "note", file, is->offset,
		       is->what);
	}
	if (r->issues_dropped > 0) {
		printf("... and %zu more issue(s) not listed\n",
		       r->issues_dropped);
	}
	if (r->run_len > 0) {
		printf("import: entries %" PRIu64 "..%" PRIu64 " (%zu)",
		       r->run[0].index, r->run[r->run_len - 1].index,
		       r->run_len);
		if (r->left_out > 0) {
			printf("; left out: %" PRIu64 " entries after index "
			       "%" PRIu64,
			       r->left_out, r->run[r->run_len - 1].index);
		}
		printf("\n");
	} else {
		printf("import: no entries\n");
	}
}

/* ---- Writing DST. ---- */

/* DST must not exist, or be an empty directory. */
static int check_dst(const char *dst)
{
	struct stat st;
	if (stat(dst, &st) != 0) {
		if (errno == ENOENT) {
			return 0;
		}
		rlog_tool_err("import-dengine", dst, "%s", strerror(errno));
		return RLOG_TOOL_EXIT_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		rlog_tool_err("import-dengine", dst,
			      "exists and is not a directory: refusing");
		return RLOG_TOOL_EXIT_PROBLEM;
	}
	DIR *d = opendir(dst);
	if (d == NULL) {
		rlog_tool_err("import-dengine", dst, "%s", strerror(errno));
		return RLOG_TOOL_EXIT_IO;
	}
	bool empty = true;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = false;
			break;
		}
	}
	closedir(d);
	if (!empty) {
		rlog_tool_err("import-dengine", dst,
			      "exists and is not empty: refusing to write "
			      "into it");
		return RLOG_TOOL_EXIT_PROBLEM;
	}
	return 0;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     de->d_name) < sizeof(path)) {
			unlink(path);
		}
	}
	closedir(d);
	rmdir(dir);
}

struct batch {
	struct rlog_entry ents[IMPORT_BATCH_ENTRIES];
	size_t pay_off[IMPORT_BATCH_ENTRIES];
	size_t n;
	uint8_t *arena;
	size_t arena_len;
	size_t arena_cap;
};

static int batch_flush(struct rlog *log, struct batch *b, char *why,
		       size_t why_len)
{
	if (b->n == 0) {
		return 0;
	}
	for (size_t i = 0; i < b->n; i++) {
		b->ents[i].payload =
		    b->ents[i].payload_len ? b->arena + b->pay_off[i] : NULL;
	}
	int rv = rlog_append(log, b->ents, b->n);
	if (rv != 0) {
		snprintf(why, why_len, "append: %s: %s", rlog_strerror(rv),
			 rlog_errmsg(log));
	}
	b->n = 0;
	b->arena_len = 0;
	return rv;
}

static int batch_add(struct batch *b, const struct rlog_entry *e)
{
	size_t need = b->arena_len + e->payload_len;
	if (need > b->arena_cap) {
		size_t ncap = b->arena_cap ? b->arena_cap : 65536;
		while (ncap < need) {
			ncap *= 2;
		}
		uint8_t *n = realloc(b->arena, ncap);
		if (n == NULL) {
			return RLOG_ENOMEM;
		}
		b->arena = n;
		b->arena_cap = ncap;
	}
	if (e->payload_len > 0) {
		memcpy(b->arena + b->arena_len, e->payload, e->payload_len);
	}
	b->ents[b->n] = *e;
	b->pay_off[b->n] = b->arena_len;
	b->arena_len = need;
	b->n++;
	return 0;
}

/* Write the run and the hard state into a new log at dir. */
static int write_log(const struct import_opts *o, const struct src_files *s,
		     const struct rlog_dengine_report *r, const char *dir,
		     char *why, size_t why_len)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = dir;
	opts.segment_size_bytes = o->segment_size_bytes;
	struct rlog *log;
	int rv = rlog_open(&opts, &log);
	if (rv != 0) {
		snprintf(why, why_len, "open: %s: %s", rlog_strerror(rv),
			 rlog_open_errmsg());
		return rv;
	}
	struct batch *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		rlog_close(log);
		snprintf(why, why_len, "out of memory");
		return RLOG_ENOMEM;
	}
	if (r->run_len > 0 && r->run[0].index > 1) {
		rv = rlog_purge(log, r->run[0].index - 1, o->boundary_term);
		if (rv != 0) {
			snprintf(why, why_len, "purge: %s: %s",
				 rlog_strerror(rv), rlog_errmsg(log));
		}
	}
	uint8_t *scratch = NULL;
	size_t scratch_cap = 0;
	for (size_t i = 0; i < r->run_len && rv == 0; i++) {
		const struct rlog_dengine_rec *x = &r->run[i];
		struct rlog_entry e;
		rv = rlog_tool_entry_decode(s->log + x->offset + 8, x->body_len,
					    &e, &scratch, &scratch_cap);
		if (rv != 0) {
			snprintf(why, why_len, "entry %" PRIu64 ": %s",
				 x->index, rlog_strerror(rv));
			break;
		}
		if (b->n == IMPORT_BATCH_ENTRIES ||
		    b->arena_len + e.payload_len > IMPORT_BATCH_BYTES) {
			rv = batch_flush(log, b, why, why_len);
			if (rv != 0) {
				break;
			}
		}
		rv = batch_add(b, &e);
		if (rv != 0) {
			snprintf(why, why_len, "out of memory");
		}
	}
	if (rv == 0) {
		rv = batch_flush(log, b, why, why_len);
	}
	if (rv == 0) {
		rv = rlog_sync(log);
		if (rv != 0) {
			snprintf(why, why_len, "sync: %s: %s",
				 rlog_strerror(rv), rlog_errmsg(log));
		}
	}
	if (rv == 0 && r->hs_valid) {
		rv = rlog_hard_state_save(log, &r->hs);
		if (rv != 0) {
			snprintf(why, why_len, "hard state: %s: %s",
				 rlog_strerror(rv), rlog_errmsg(log));
		}
	}
	free(scratch);
	free(b->arena);
	free(b);
	int crv = rlog_close(log);
	return rv != 0 ? rv : crv;
}

static int fsync_parent(const char *path)
{
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", path);
	const char *parent = dirname(copy);
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	int rv = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rv;
}

static int do_import(const struct import_opts *o, const struct src_files *s,
		     const struct rlog_dengine_report *r)
{
	int rc = check_dst(o->dst);
	if (rc != 0) {
		return rc;
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.import-%ld", o->dst,
			     (long)getpid()) >= sizeof(tmp)) {
		rlog_tool_err("import-dengine", o->dst, "path too long");
		return RLOG_TOOL_EXIT_IO;
	}
	if (mkdir(tmp, 0755) != 0) {
		rlog_tool_err("import-dengine", tmp, "%s", strerror(errno));
		return RLOG_TOOL_EXIT_IO;
	}
	char why[768] = "";
	int rv = write_log(o, s, r, tmp, why, sizeof(why));
	if (rv != 0) {
		rlog_tool_err("import-dengine", tmp, "%s", why);
		remove_tree(tmp);
		return RLOG_TOOL_EXIT_IO;
	}
	/* The new log is complete and durable; the rename publishes it and
	 * the parent's fsync makes the name durable. rename replaces an
	 * empty directory atomically. */
	if (rename(tmp, o->dst) != 0) {
		rlog_tool_err("import-dengine", o->dst, "rename from %s: %s",
			      tmp, strerror(errno));
		remove_tree(tmp);
		return RLOG_TOOL_EXIT_IO;
	}
	rv = fsync_parent(o->dst);
	if (rv != 0) {
		rlog_tool_err("import-dengine", o->dst,
			      "fsync of its parent directory: %s",
			      strerror(-rv));
		return RLOG_TOOL_EXIT_IO;
	}
	return 0;
}

static int verify_dst(const char *dst)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = dst;
	struct rlog *log;
	int rv = rlog_open(&opts, &log);
	if (rv != 0) {
		rlog_tool_err("import-dengine", dst, "reopen: %s: %s",
			      rlog_strerror(rv), rlog_open_errmsg());
		return RLOG_TOOL_EXIT_IO;
	}
	struct rlog_hard_state hs;
	bool has_hs = rlog_hard_state_load(log, &hs) == 0;
	printf("written: %s: entries [%" PRIu64 ", %" PRIu64
	       "], hard state %s\n",
	       dst, rlog_first_index(log), rlog_last_index(log),
	       has_hs ? "saved" : "none");
	rlog_close(log);
	return 0;
}

int rlog_tool_cmd_import(int argc, char **argv)
{
	struct import_opts o;
	int rc = import_args(argc, argv, &o);
	if (rc != 0) {
		return rc < 0 ? RLOG_TOOL_EXIT_OK : rc;
	}
	rc = rlog_tool_need_dir("import-dengine", o.src);
	if (rc != 0) {
		return rc;
	}
	struct src_files *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rlog_tool_err("import-dengine", o.src, "out of memory");
		return RLOG_TOOL_EXIT_IO;
	}
	snprintf(s->log_path, sizeof(s->log_path), "%s/logs/log.data", o.src);
	snprintf(s->hs_path, sizeof(s->hs_path), "%s/meta/hard_state.bin",
		 o.src);
	int rv = map_log(s);
	if (rv != 0) {
		rlog_tool_err("import-dengine", s->log_path, "%s",
			      strerror(-rv));
		free(s);
		return RLOG_TOOL_EXIT_IO;
	}
	rv = read_hs(s);
	if (rv != 0) {
		rlog_tool_err("import-dengine", s->hs_path, "%s",
			      strerror(-rv));
		rc = RLOG_TOOL_EXIT_IO;
		goto out_unmap;
	}
	if (!s->log_present && !s->hs_present) {
		rlog_tool_err("import-dengine", o.src,
			      "no logs/log.data and no meta/hard_state.bin: "
			      "not a d-engine FileStorageEngine directory");
		rc = RLOG_TOOL_EXIT_PROBLEM;
		goto out_unmap;
	}
	struct rlog_dengine_report r;
	rv = rlog_dengine_parse(s->log, s->log_len, s->hs, s->hs_len,
				s->hs_present, &r);
	if (rv != 0) {
		rlog_tool_err("import-dengine", o.src, "out of memory");
		rlog_dengine_report_free(&r);
		rc = RLOG_TOOL_EXIT_IO;
		goto out_unmap;
	}
	print_report(&o, s, &r);
	if (r.run_len > 0 && r.run[0].index > 1) {
		printf("note: the log starts at index %" PRIu64
		       ": the new log gets purge boundary {%" PRIu64
		       ", %" PRIu64 "}%s\n",
		       r.run[0].index, r.run[0].index - 1, o.boundary_term,
		       o.boundary_set ? ""
				      : " (term unknown; see --boundary-term)");
	}
	if (o.dry_run) {
		printf("dry run: nothing written\n");
		rc = RLOG_TOOL_EXIT_OK;
	} else {
		rc = do_import(&o, s, &r);
		if (rc == 0) {
			rc = verify_dst(o.dst);
		}
	}
	if (rc == RLOG_TOOL_EXIT_OK) {
		bool problems = r.problems > 0;
		printf("result: %s%s\n",
		       o.dry_run ? "would import" : "imported",
		       problems ? " with problems: something in SRC was "
				  "left out (see above)"
				: ": nothing left out");
		rc = problems ? RLOG_TOOL_EXIT_PROBLEM : RLOG_TOOL_EXIT_OK;
	}
	rlog_dengine_report_free(&r);
out_unmap:
	if (s->log != NULL) {
		munmap((void *)(uintptr_t)s->log, s->log_len);
	}
	free(s);
	return rc;
}
