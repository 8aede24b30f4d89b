/*
 * tool_helper: builds and damages rlog directories for the rlog tool's
 * end-to-end tests (run_tool_tests.sh), through the public API only.
 *
 *   tool_helper build DIR OPS...   open DIR (created), run OPS, close
 *       seg BYTES           segment size (first op only; default 4096)
 *       term T              term of the following appends (default 1)
 *       payload BYTES       payload size of the following appends (16)
 *       kind K              noop | command | config (command)
 *       append N            append N entries, one call
 *       batches N M         N appends of M entries each
 *       sync                rlog_sync
 *       hs TERM [ID VTERM [committed]]   rlog_hard_state_save
 *       purge I             rlog_purge(I, term of I)
 *       truncate I          rlog_truncate(I)
 *       replace I N         rlog_replace with N entries from I
 *   tool_helper open [--verify] DIR "ok first=F last=L" (exit 0) or
 *                                   "error RLOG_X: message" (exit 1);
 *                                   --verify: with verify_on_open
 *   tool_helper get [--verify] DIR [I...]
 *                                   open DIR and rlog_get entries I (by
 *                                   default every entry): a line
 *                                   "error I RLOG_X: message" for each
 *                                   that fails, then "read N entries: K
 *                                   failed"; exit 1 when any failed (or
 *                                   the open did, printed as by open)
 *   tool_helper check DIR [F L]     every entry in [F, L] (default: the
 *                                   whole log) has the payload append
 *                                   wrote for its index and term
 *   tool_helper hold DIR MARKER     open DIR, create MARKER, wait until
 *                                   MARKER is removed (30 s at most)
 *   tool_helper flip FILE OFFSET    invert one byte
 *   tool_helper put FILE OFFSET HEX write bytes at OFFSET
 *   tool_helper cut FILE SIZE       truncate FILE to SIZE bytes
 *   tool_helper seal-fix FILE       recompute both checksums of a seal
 *                                   file (docs/FORMAT.md, Seal file) after
 *                                   its fields were edited with put; its
 *                                   own CRC32C, not the engine's
 *
 * Payloads are a pure function of (index, term, size), so a check after
 * repair or import proves every byte came back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rlog/rlog.h"

#define PAYLOAD_MAX_BYTES (1024u * 1024u)
#define BATCH_MAX 4096u

static uint64_t num(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || s[0] == '\0') {
		fprintf(stderr, "tool_helper: not a number: '%s'\n", s);
		exit(2);
	}
	return (uint64_t)v;
}

/* The payload of entry (index, term): "e<index>t<term>." repeated. */
static void fill_payload(uint8_t *buf, size_t len, uint64_t index,
			 uint64_t term)
{
	char unit[64];
	int n = snprintf(unit, sizeof(unit), "e%" PRIu64 "t%" PRIu64 ".", index,
			 term);
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)unit[i % (size_t)n];
	}
}

struct builder {
	struct rlog *log;
	uint64_t term;
	size_t payload;
	enum rlog_payload_kind kind;
	struct rlog_entry ents[BATCH_MAX];
	uint8_t *bufs[BATCH_MAX];
};

static void die_rv(struct builder *b, const char *op, int rv)
{
	fprintf(stderr, "tool_helper: %s: %s: %s\n", op, rlog_strerror(rv),
		b->log ? rlog_errmsg(b->log) : rlog_open_errmsg());
	exit(1);
}

static void make_entries(struct builder *b, uint64_t from, size_t n)
{
	if (n > BATCH_MAX) {
		fprintf(stderr, "tool_helper: at most %u entries a call\n",
			BATCH_MAX);
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		struct rlog_entry *e = &b->ents[i];
		memset(e, 0, sizeof(*e));
		e->index = from + i;
		e->term = b->term;
		e->kind = b->kind;
		if (b->kind == RLOG_PAYLOAD_COMMAND ||
		    b->kind == RLOG_PAYLOAD_CONFIG) {
			b->bufs[i] = realloc(b->bufs[i], b->payload + 1);
			fill_payload(b->bufs[i], b->payload, e->index, e->term);
			e->payload = b->bufs[i];
			e->payload_len = b->payload;
		}
	}
}

static void append(struct builder *b, size_t n)
{
	make_entries(b, rlog_last_index(b->log) + 1, n);
	int rv = rlog_append(b->log, b->ents, n);
	if (rv != 0) {
		die_rv(b, "append", rv);
	}
}

static int run_op(struct builder *b, int argc, char **argv, int i)
{
	const char *op = argv[i];
	int need = 0;
	if (strcmp(op, "sync") == 0) {
		int rv = rlog_sync(b->log);
		if (rv != 0) {
			die_rv(b, "sync", rv);
		}
		return i + 1;
	}
	if (strcmp(op, "hs") == 0) {
		struct rlog_hard_state hs = {0};
		if (i + 1 >= argc) {
			goto usage;
		}
		hs.current_term = num(argv[i + 1]);
		int used = 2;
		if (i + 3 < argc && argv[i + 2][0] >= '0' &&
		    argv[i + 2][0] <= '9') {
			hs.has_vote = true;
			hs.voted_for_id = (uint32_t)num(argv[i + 2]);
			hs.voted_for_term = num(argv[i + 3]);
			used = 4;
			if (i + 4 < argc &&
			    strcmp(argv[i + 4], "committed") == 0) {
				hs.committed = true;
				used = 5;
			}
		}
		int rv = rlog_hard_state_save(b->log, &hs);
		if (rv != 0) {
			die_rv(b, "hs", rv);
		}
		return i + used;
	}
	need = strcmp(op, "batches") == 0 || strcmp(op, "replace") == 0 ? 2 : 1;
	if (i + need >= argc) {
		goto usage;
	}
	uint64_t a = num(argv[i + 1]);
	uint64_t c = need == 2 ? num(argv[i + 2]) : 0;
	if (strcmp(op, "term") == 0) {
		b->term = a;
	} else if (strcmp(op, "payload") == 0) {
		if (a > PAYLOAD_MAX_BYTES) {
			goto usage;
		}
		b->payload = (size_t)a;
	} else if (strcmp(op, "kind") == 0) {
		goto usage;
	} else if (strcmp(op, "append") == 0) {
		append(b, (size_t)a);
	} else if (strcmp(op, "batches") == 0) {
		for (uint64_t k = 0; k < a; k++) {
			append(b, (size_t)c);
		}
	} else if (strcmp(op, "purge") == 0) {
		uint64_t t = 0;
		if (rlog_term(b->log, a, &t) != 0) {
			t = b->term;
		}
		int rv = rlog_purge(b->log, a, t);
		if (rv != 0) {
			die_rv(b, "purge", rv);
		}
	} else if (strcmp(op, "truncate") == 0) {
		int rv = rlog_truncate(b->log, a);
		if (rv != 0) {
			die_rv(b, "truncate", rv);
		}
	} else if (strcmp(op, "replace") == 0) {
		make_entries(b, a, (size_t)c);
		int rv = rlog_replace(b->log, b->ents, (size_t)c);
		if (rv != 0) {
			die_rv(b, "replace", rv);
		}
	} else {
		goto usage;
	}
	return i + 1 + need;
usage:
	fprintf(stderr, "tool_helper: bad op at '%s'\n", op);
	exit(2);
}

static int cmd_build(int argc, char **argv)
{
	static struct builder b;
	b.term = 1;
	b.payload = 16;
	b.kind = RLOG_PAYLOAD_COMMAND;
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = argv[0];
	o.segment_size_bytes = 4096;
	int i = 1;
	if (argc >= 3 && strcmp(argv[1], "seg") == 0) {
		o.segment_size_bytes = num(argv[2]);
		i = 3;
	}
	int rv = rlog_open(&o, &b.log);
	if (rv != 0) {
		die_rv(&b, "open", rv);
	}
	while (i < argc) {
		if (strcmp(argv[i], "kind") == 0 && i + 1 < argc) {
			const char *k = argv[i + 1];
			b.kind =
			    strcmp(k, "noop") == 0     ? RLOG_PAYLOAD_NOOP
			    : strcmp(k, "config") == 0 ? RLOG_PAYLOAD_CONFIG
			    : strcmp(k, "none") == 0   ? RLOG_PAYLOAD_NONE
						       : RLOG_PAYLOAD_COMMAND;
			i += 2;
			continue;
		}
		i = run_op(&b, argc, argv, i);
	}
	rlog_close(b.log);
	for (size_t k = 0; k < BATCH_MAX; k++) {
		free(b.bufs[k]);
	}
	return 0;
}

static bool verify_on_open;

static struct rlog *open_dir(const char *dir, int *rv)
{
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = dir;
	o.verify_on_open = verify_on_open;
	struct rlog *log = NULL;
	*rv = rlog_open(&o, &log);
	return log;
}

static const char *code_name(int rv)
{
	switch (rv) {
	case RLOG_ECORRUPT:
		return "RLOG_ECORRUPT";
	case RLOG_EVERSION:
		return "RLOG_EVERSION";
	case RLOG_EBUSY:
		return "RLOG_EBUSY";
	case RLOG_EIO:
		return "RLOG_EIO";
	case RLOG_ENOTFOUND:
		return "RLOG_ENOTFOUND";
	default:
		return "RLOG_E?";
	}
}

static int cmd_open(const char *dir)
{
	int rv;
	struct rlog *log = open_dir(dir, &rv);
	if (rv != 0) {
		printf("error %s: %s\n", code_name(rv), rlog_open_errmsg());
		return 1;
	}
	printf("ok first=%" PRIu64 " last=%" PRIu64 "\n", rlog_first_index(log),
	       rlog_last_index(log));
	rlog_close(log);
	return 0;
}

static int cmd_get(const char *dir, int argc, char **argv)
{
	int rv;
	struct rlog *log = open_dir(dir, &rv);
	if (rv != 0) {
		printf("error %s: %s\n", code_name(rv), rlog_open_errmsg());
		return 1;
	}
	uint64_t n = 0, failed = 0;
	uint64_t first = rlog_first_index(log), last = rlog_last_index(log);
	for (int k = 0; argc == 0 ? k == 0 : k < argc; k++) {
		uint64_t from = argc == 0 ? first : num(argv[k]);
		uint64_t to = argc == 0 ? last : from;
		for (uint64_t i = from; i <= to; i++) {
			struct rlog_entry e;
			n++;
			rv = rlog_get(log, i, &e);
			if (rv != 0) {
				printf("error %" PRIu64 " %s: %s\n", i,
				       code_name(rv), rlog_errmsg(log));
				failed++;
			}
		}
	}
	printf("read %" PRIu64 " entries: %" PRIu64 " failed\n", n, failed);
	rlog_close(log);
	return failed > 0;
}

/* CRC32C (Castagnoli, reflected 0x82F63B78), bit by bit: an independent
 * implementation for hand-made seals. */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++) {
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
		}
	}
	return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static int cmd_seal_fix(const char *path)
{
	FILE *f = fopen(path, "r+b");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	uint8_t *buf = malloc(PAYLOAD_MAX_BYTES);
	size_t len = buf ? fread(buf, 1, PAYLOAD_MAX_BYTES, f) : 0;
	int rc = 1;
	if (len >= 64) {
		const uint32_t seed = 0x726c6f67u; /* "rlog" */
		uint8_t seq[8];
		memcpy(seq, buf + 16, 8);
		uint32_t seg_seed = crc32c(seed, seq, sizeof(seq));
		put_le32(buf + 56, crc32c(seg_seed, buf + 64, len - 64));
		put_le32(buf + 60, crc32c(seed, buf, 60));
		rc = fseek(f, 0, SEEK_SET) == 0 && fwrite(buf, 1, 64, f) == 64
			 ? 0
			 : 1;
	}
	free(buf);
	if (fclose(f) != 0) {
		rc = 1;
	}
	return rc;
}

static int cmd_check(const char *dir, int argc, char **argv)
{
	int rv;
	struct rlog *log = open_dir(dir, &rv);
	if (rv != 0) {
		printf("error %s: %s\n", code_name(rv), rlog_open_errmsg());
		return 1;
	}
	uint64_t from = argc >= 2 ? num(argv[0]) : rlog_first_index(log);
	uint64_t to = argc >= 2 ? num(argv[1]) : rlog_last_index(log);
	int bad = 0;
	uint8_t *want = malloc(PAYLOAD_MAX_BYTES);
	for (uint64_t i = from; i <= to && want != NULL; i++) {
		struct rlog_entry e;
		rv = rlog_get(log, i, &e);
		if (rv != 0) {
			printf("entry %" PRIu64 ": %s\n", i, rlog_strerror(rv));
			bad = 1;
			continue;
		}
		if (e.payload_len > PAYLOAD_MAX_BYTES) {
			bad = 1;
			continue;
		}
		fill_payload(want, e.payload_len, e.index, e.term);
		if (e.payload_len > 0 &&
		    memcmp(want, e.payload, e.payload_len) != 0) {
			printf("entry %" PRIu64 ": payload differs\n", i);
			bad = 1;
		}
	}
	free(want);
	printf("checked [%" PRIu64 ", %" PRIu64 "]: %s\n", from, to,
	       bad ? "BAD" : "ok");
	rlog_close(log);
	return bad;
}

static int cmd_hold(const char *dir, const char *marker)
{
	int rv;
	struct rlog *log = open_dir(dir, &rv);
	if (rv != 0) {
		printf("error %s: %s\n", code_name(rv), rlog_open_errmsg());
		return 1;
	}
	FILE *f = fopen(marker, "w");
	if (f == NULL) {
		rlog_close(log);
		return 1;
	}
	fclose(f);
	struct timespec ts = {0, 10 * 1000 * 1000};
	for (int i = 0; i < 3000 && access(marker, F_OK) == 0; i++) {
		nanosleep(&ts, NULL);
	}
	rlog_close(log);
	return 0;
}

static int file_op(const char *op, const char *path, int argc, char **argv)
{
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	int rc = 0;
	if (strcmp(op, "cut") == 0 && argc >= 1) {
		rc = ftruncate(fd, (off_t)num(argv[0])) == 0 ? 0 : 1;
	} else if (strcmp(op, "flip") == 0 && argc >= 1) {
		off_t off = (off_t)num(argv[0]);
		uint8_t c;
		if (pread(fd, &c, 1, off) != 1) {
			rc = 1;
		} else {
			c = (uint8_t)~c;
			rc = pwrite(fd, &c, 1, off) == 1 ? 0 : 1;
		}
	} else if (strcmp(op, "put") == 0 && argc >= 2) {
		off_t off = (off_t)num(argv[0]);
		const char *hex = argv[1];
		size_t n = strlen(hex) / 2;
		for (size_t i = 0; i < n && rc == 0; i++) {
			unsigned v;
			if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
				rc = 2;
				break;
			}
			uint8_t c = (uint8_t)v;
			rc = pwrite(fd, &c, 1, off + (off_t)i) == 1 ? 0 : 1;
		}
	} else {
		rc = 2;
	}
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: tool_helper build|open|get|check|hold|"
				"flip|put|cut|seal-fix ...\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "build") == 0) {
		return cmd_build(argc - 2, argv + 2);
	}
	if ((strcmp(cmd, "open") == 0 || strcmp(cmd, "get") == 0) &&
	    strcmp(argv[2], "--verify") == 0) {
		if (argc < 4) {
			fprintf(stderr, "tool_helper: %s: missing DIR\n", cmd);
			return 2;
		}
		verify_on_open = true;
		argv++;
		argc--;
	}
	if (strcmp(cmd, "open") == 0) {
		return cmd_open(argv[2]);
	}
	if (strcmp(cmd, "get") == 0) {
		return cmd_get(argv[2], argc - 3, argv + 3);
	}
	if (strcmp(cmd, "seal-fix") == 0) {
		return cmd_seal_fix(argv[2]);
	}
	if (strcmp(cmd, "check") == 0) {
		return cmd_check(argv[2], argc - 3, argv + 3);
	}
	if (strcmp(cmd, "hold") == 0 && argc >= 4) {
		return cmd_hold(argv[2], argv[3]);
	}
	if (strcmp(cmd, "flip") == 0 || strcmp(cmd, "put") == 0 ||
	    strcmp(cmd, "cut") == 0) {
		return file_op(cmd, argv[2], argc - 3, argv + 3);
	}
	fprintf(stderr, "tool_helper: unknown command '%s'\n", cmd);
	return 2;
}
