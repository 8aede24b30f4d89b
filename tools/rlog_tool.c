/*
 * rlog: the command-line tool for operators looking at a log directory.
 *
 *   rlog stat DIR                       summary of the log
 *   rlog dump DIR [--from I] [--to J]   entries as text
 *
 * Exit status: 0 success, 1 the log could not be read (corrupt, locked,
 * I/O error), 2 bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rlog/rlog.h"

static const char usage[] =
    "usage: rlog COMMAND DIR [options]\n"
    "\n"
    "commands:\n"
    "  stat DIR                      first/last index, purge boundary, "
    "hard state\n"
    "  dump DIR [--from I] [--to J]  entries: index, term, kind, size, "
    "preview\n"
    "\n"
    "exit status: 0 ok, 1 the log could not be read, 2 bad usage\n";

static int parse_u64(const char *s, uint64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9') {
		return -1;
	}
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

static struct rlog *open_or_die(const char *dir)
{
	struct rlog_options o;
	rlog_options_init(&o);
	o.dir = dir;
	struct rlog *log;
	int rv = rlog_open(&o, &log);
	if (rv != 0) {
		fprintf(stderr, "rlog: %s: %s: %s\n", dir, rlog_strerror(rv),
			rlog_open_errmsg());
		return NULL;
	}
	return log;
}

static const char *kind_name(enum rlog_payload_kind k)
{
	switch (k) {
	case RLOG_PAYLOAD_NONE:
		return "none";
	case RLOG_PAYLOAD_NOOP:
		return "noop";
	case RLOG_PAYLOAD_COMMAND:
		return "command";
	case RLOG_PAYLOAD_CONFIG:
		return "config";
	}
	return "?";
}

static int cmd_stat(const char *dir)
{
	struct rlog *log = open_or_die(dir);
	if (log == NULL) {
		return 1;
	}
	uint64_t pi, pt;
	rlog_purged(log, &pi, &pt);
	printf("dir: %s\n", dir);
	printf("first_index: %" PRIu64 "\n", rlog_first_index(log));
	printf("last_index: %" PRIu64 "\n", rlog_last_index(log));
	printf("purged: index %" PRIu64 " term %" PRIu64 "\n", pi, pt);
	struct rlog_hard_state hs;
	if (rlog_hard_state_load(log, &hs) == 0) {
		printf("hard_state: term %" PRIu64, hs.current_term);
		if (hs.has_vote) {
			printf(" vote id %u term %" PRIu64 " committed %d",
			       hs.voted_for_id, hs.voted_for_term,
			       hs.committed ? 1 : 0);
		}
		printf("\n");
	} else {
		printf("hard_state: none\n");
	}
	rlog_close(log);
	return 0;
}

struct dump_ctx {
	int unused;
};

static int dump_cb(void *ctx, const struct rlog_entry *e)
{
	(void)ctx;
	printf("%" PRIu64 " term=%" PRIu64 " kind=%s size=%zu ", e->index,
	       e->term, kind_name(e->kind), e->payload_len);
	size_t n = e->payload_len < 16 ? e->payload_len : 16;
	for (size_t i = 0; i < n; i++) {
		printf("%02x", e->payload[i]);
	}
	printf("\n");
	return 0;
}

static int cmd_dump(const char *dir, int argc, char **argv)
{
	uint64_t from = 0, to = UINT64_MAX;
	for (int i = 0; i + 1 <= argc; i += 2) {
		uint64_t *dst = NULL;
		if (strcmp(argv[i], "--from") == 0) {
			dst = &from;
		} else if (strcmp(argv[i], "--to") == 0) {
			dst = &to;
		} else {
			fprintf(stderr, "rlog dump: unknown option '%s'\n%s",
				argv[i], usage);
			return 2;
		}
		if (i + 1 >= argc || parse_u64(argv[i + 1], dst) != 0) {
			fprintf(stderr, "rlog dump: %s needs a number\n",
				argv[i]);
			return 2;
		}
		i++;
	}
	struct rlog *log = open_or_die(dir);
	if (log == NULL) {
		return 1;
	}
	uint64_t first = rlog_first_index(log), last = rlog_last_index(log);
	if (from < first) {
		from = first;
	}
	if (to > last) {
		to = last;
	}
	int rv = 0;
	if (from <= to) {
		struct dump_ctx c = {0};
		rv = rlog_scan(log, from, to, dump_cb, &c);
		if (rv != 0) {
			fprintf(stderr, "rlog: %s: %s: %s\n", dir,
				rlog_strerror(rv), rlog_errmsg(log));
		}
	}
	rlog_close(log);
	return rv == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 3) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "stat") == 0 && argc == 3) {
		return cmd_stat(argv[2]);
	}
	if (strcmp(argv[1], "dump") == 0) {
		return cmd_dump(argv[2], argc - 3, argv + 3);
	}
	fprintf(stderr, "rlog: unknown command '%s'\n%s", argv[1], usage);
	return 2;
}
