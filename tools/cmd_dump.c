/*
 * cmd_dump.c: `rlog dump DIR`, the entries of a log as text or JSON lines,
 * read the way recovery reads them (without opening the log), or with
 * --raw every record and damaged region of every segment file, and every
 * seal file with its runs and listed entries.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "walk.h"

#define PREVIEW_TEXT_BYTES 32u

static const char dump_usage[] =
    "usage: rlog dump DIR [--from I] [--to J] [--json] [--raw]\n"
    "                     [--preview-bytes N]\n"
    "\n"
    "Print the live entries of the log in DIR, one a line, read the way\n"
    "recovery reads them (the log is not opened; nothing is changed):\n"
    "  text:  INDEX term=T kind=K size=N data=\"printable\" or hex:...\n"
    "  --json: {\"index\":I,\"term\":T,\"kind\":\"K\",\"size\":N,"
    "\"payload_hex\":\"...\"}\n"
    "\n"
    "  --from I, --to J   only entries in [I, J] (clipped to the log)\n"
    "  --json             JSON lines; the whole payload in hex unless\n"
    "                     --preview-bytes is given\n"
    "  --raw              every record of every segment file in file order\n"
    "                     (entries, truncate records, damaged regions),\n"
    "                     live or not, each segment followed by its seal\n"
    "                     file (state, header, runs of terms, listed\n"
    "                     entries), then orphan seals; --from/--to filter\n"
    "                     entry records and listed entries\n"
    "  --preview-bytes N  payload bytes shown (text default 32)\n"
    "\n"
    "When the log would not open, the entries recovery could read before\n"
    "the damage are printed and the exit status is 1.\n"
    "\n"
    "exit status: 0 ok, 1 the log is damaged or an entry unreadable,\n"
    "2 bad usage, 3 DIR unreadable\n";

struct dump_opts {
	const char *dir;
	uint64_t from;
	uint64_t to;
	bool json;
	bool raw;
	bool preview_set;
	uint64_t preview;
};

static int dump_args(int argc, char **argv, struct dump_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->to = UINT64_MAX;
	o->preview = PREVIEW_TEXT_BYTES;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		uint64_t *dst = NULL;
		if (rlog_tool_is_help(a)) {
			fputs(dump_usage, stdout);
			return -1;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "--raw") == 0) {
			o->raw = true;
			continue;
		}
		if (strcmp(a, "--from") == 0) {
			dst = &o->from;
		} else if (strcmp(a, "--to") == 0) {
			dst = &o->to;
		} else if (strcmp(a, "--preview-bytes") == 0) {
			dst = &o->preview;
			o->preview_set = true;
		} else if (a[0] == '-' || o->dir != NULL) {
			fprintf(stderr,
				"rlog dump: unexpected argument '%s'\n%s", a,
				dump_usage);
			return RLOG_TOOL_EXIT_USAGE;
		} else {
			o->dir = a;
			continue;
		}
		if (i + 1 >= argc ||
		    rlog_tool_parse_u64(argv[i + 1], dst) != 0) {
			fprintf(stderr, "rlog dump: %s needs a number\n", a);
			return RLOG_TOOL_EXIT_USAGE;
		}
		i++;
	}
	if (o->dir == NULL) {
		fprintf(stderr, "rlog dump: missing DIR\n%s", dump_usage);
		return RLOG_TOOL_EXIT_USAGE;
	}
	if (o->from > o->to) {
		fprintf(stderr,
			"rlog dump: --from %" PRIu64 " is past --to %" PRIu64
			"\n",
			o->from, o->to);
		return RLOG_TOOL_EXIT_USAGE;
	}
	return 0;
}

static void print_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%02x", p[i]);
	}
}

static void print_entry(const struct dump_opts *o, const struct rlog_entry *e)
{
	if (o->json) {
		size_t n = e->payload_len;
		bool cut = false;
		if (o->preview_set && o->preview < n) {
			n = (size_t)o->preview;
			cut = true;
		}
		printf("{\"index\":%" PRIu64 ",\"term\":%" PRIu64
		       ",\"kind\":\"%s\",\"size\":%zu,\"payload_hex\":\"",
		       e->index, e->term, rlog_tool_kind_name(e->kind),
		       e->payload_len);
		print_hex(stdout, e->payload, n);
		printf("\"%s}\n", cut ? ",\"truncated\":true" : "");
		return;
	}
	printf("%" PRIu64 " term=%" PRIu64 " kind=%s size=%zu", e->index,
	       e->term, rlog_tool_kind_name(e->kind), e->payload_len);
	if (e->payload_len > 0) {
		printf(" data=");
		rlog_tool_preview(stdout, e->payload, e->payload_len,
				  (size_t)o->preview);
	}
	printf("\n");
}

static int dump_live(const struct dump_opts *o, struct rlog_tool_walk *w)
{
	uint64_t from = o->from < w->first_index ? w->first_index : o->from;
	uint64_t to = o->to > w->last_index ? w->last_index : o->to;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc = RLOG_TOOL_EXIT_OK;
	for (uint64_t i = from; i <= to && i >= from; i++) {
		struct rlog_entry e;
		char why[512];
		int rv = rlog_tool_walk_entry(w, i, &e, &buf, &cap, why,
					      sizeof(why));
		if (rv < 0 && rv != RLOG_ECORRUPT && rv != RLOG_ENOTFOUND) {
			rlog_tool_err("dump", o->dir, "%s", why);
			rc = RLOG_TOOL_EXIT_IO;
			break;
		}
		if (rv != 0) {
			rlog_tool_err("dump", o->dir, "entry %" PRIu64 ": %s",
				      i, why);
			rc = RLOG_TOOL_EXIT_PROBLEM;
			continue;
		}
		print_entry(o, &e);
		if (i == UINT64_MAX) {
			break;
		}
	}
	free(buf);
	return rc;
}

/* ---- --raw ---- */

struct raw_ctx {
	const struct dump_opts *o;
	struct rlog_tool_walk *w;
	size_t seg;
	uint8_t *buf;
	size_t cap;
};

static void raw_where(const struct raw_ctx *c, uint64_t off)
{
	const char *name = c->w->segs[c->seg].name;
	if (c->o->json) {
		printf("{\"file\":\"%s\",\"offset\":%" PRIu64 ",", name, off);
	} else {
		printf("%s@%" PRIu64 " ", name, off);
	}
}

static void raw_entry(struct raw_ctx *c, const struct rlog_tool_rec_view *v)
{
	const struct rlog__rec *r = &v->rec;
	if (r->index < c->o->from || r->index > c->o->to) {
		return;
	}
	struct rlog_entry e;
	int rv =
	    rlog_tool_entry_decode(r->body, r->body_len, &e, &c->buf, &c->cap);
	raw_where(c, v->offset);
	if (c->o->json) {
		printf("\"type\":\"entry\",\"index\":%" PRIu64
		       ",\"term\":%" PRIu64 ",\"durable_offset\":%" PRIu64
		       ",\"record_bytes\":%" PRIu64,
		       r->index, r->term, r->durable_offset, r->size_bytes);
		if (rv == 0) {
			size_t n = e.payload_len;
			if (c->o->preview_set && c->o->preview < n) {
				n = (size_t)c->o->preview;
			}
			printf(
			    ",\"kind\":\"%s\",\"size\":%zu,\"payload_hex\":\"",
			    rlog_tool_kind_name(e.kind), e.payload_len);
			print_hex(stdout, e.payload, n);
			printf("\"}\n");
		} else {
			printf(",\"body\":\"undecodable\"}\n");
		}
		return;
	}
	printf("entry index=%" PRIu64 " term=%" PRIu64 " durable=%" PRIu64
	       " record_bytes=%" PRIu64,
	       r->index, r->term, r->durable_offset, r->size_bytes);
	if (rv != 0) {
		printf(" body=undecodable\n");
		return;
	}
	printf(" kind=%s size=%zu", rlog_tool_kind_name(e.kind), e.payload_len);
	if (e.payload_len > 0) {
		printf(" data=");
		rlog_tool_preview(stdout, e.payload, e.payload_len,
				  (size_t)c->o->preview);
	}
	printf("\n");
}

static int raw_cb(void *ctx, const struct rlog_tool_rec_view *v)
{
	struct raw_ctx *c = ctx;
	if (v->valid && v->rec.type == RLOG__REC_ENTRY) {
		raw_entry(c, v);
		return 0;
	}
	raw_where(c, v->offset);
	if (v->valid) {
		if (c->o->json) {
			printf(
			    "\"type\":\"truncate\",\"from\":%" PRIu64
			    ",\"group\":%u,\"durable_offset\":%" PRIu64 "}\n",
			    v->rec.index, v->rec.group, v->rec.durable_offset);
		} else {
			printf("truncate from=%" PRIu64
			       " group=%u durable=%" PRIu64 "\n",
			       v->rec.index, v->rec.group,
			       v->rec.durable_offset);
		}
		return 0;
	}
	if (c->o->json) {
		printf("\"type\":\"%s\",\"bytes\":%" PRIu64 "}\n",
		       v->zero ? "zeros" : "damaged", v->end - v->offset);
	} else {
		printf("%s bytes=%" PRIu64 "\n", v->zero ? "zeros" : "damaged",
		       v->end - v->offset);
	}
	return 0;
}

static const char *raw_role(enum rlog_tool_role r)
{
	static const char *const names[] = {
	    "dead", "chain", "orphan", "torn-creation", "damaged", "ignored"};
	return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

static const char *seal_state_name(enum rlog_tool_seal_state st)
{
	static const char *const names[] = {"unchecked", "used",    "stale",
					    "damaged",	 "invalid", "orphan"};
	return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

/* One seal file: a line for its header, one per run, one per entry. */
static int raw_seal(const struct dump_opts *o, struct rlog_tool_walk *w,
		    size_t k)
{
	const struct rlog_tool_seal *sl = &w->seals[k];
	const struct rlog__seal_header *h = &sl->hdr;
	bool ok = sl->hdr_rc == 0;
	if (o->json) {
		printf("{\"file\":\"%s\",\"type\":\"seal\",\"state\":\"%s\","
		       "\"bytes\":%" PRIu64 ",\"header\":\"%s\"",
		       sl->name, seal_state_name(sl->state), sl->size_bytes,
		       ok ? "valid" : "invalid");
		if (ok) {
			printf(",\"seq\":%" PRIu64 ",\"end_offset\":%" PRIu64
			       ",\"start\":%" PRIu64 ",\"first\":%" PRIu64
			       ",\"count\":%" PRIu32 ",\"runs\":%" PRIu32,
			       h->seq, h->end_offset, h->start, h->first,
			       h->count, h->runs);
		}
		printf("}\n");
	} else {
		printf("%s seal state=%s bytes=%" PRIu64, sl->name,
		       seal_state_name(sl->state), sl->size_bytes);
		if (ok) {
			printf(" seq=%" PRIu64 " end_offset=%" PRIu64
			       " start=%" PRIu64 " first=%" PRIu64
			       " count=%" PRIu32 " runs=%" PRIu32 "\n",
			       h->seq, h->end_offset, h->start, h->first,
			       h->count, h->runs);
		} else {
			printf(" header=invalid\n");
		}
	}
	uint8_t *body = NULL;
	size_t len = 0;
	int rv = rlog_tool_seal_body(w, k, &body, &len);
	if (rv != 0 || body == NULL) {
		return rv;
	}
	uint64_t off = RLOG__SEAL_HEADER_BYTES;
	for (uint32_t i = 0; i < h->runs; i++, off += RLOG__SEAL_RUN_BYTES) {
		const uint8_t *r = body + (size_t)i * RLOG__SEAL_RUN_BYTES;
		uint64_t at = rlog__get64(r), term = rlog__get64(r + 8);
		if (o->json) {
			printf("{\"file\":\"%s\",\"offset\":%" PRIu64
			       ",\"type\":\"seal_run\",\"index\":%" PRIu64
			       ",\"term\":%" PRIu64 "}\n",
			       sl->name, off, at, term);
		} else {
			printf("%s@%" PRIu64 " run index=%" PRIu64
			       " term=%" PRIu64 "\n",
			       sl->name, off, at, term);
		}
	}
	const uint8_t *ents = body + (size_t)h->runs * RLOG__SEAL_RUN_BYTES;
	uint32_t run = 0;
	uint64_t term = 0;
	for (uint32_t i = 0; i < h->count; i++, off += RLOG__SEAL_ENT_BYTES) {
		uint64_t index = h->first + i;
		if (run < h->runs &&
		    rlog__get64(body + (size_t)run * RLOG__SEAL_RUN_BYTES) ==
			index) {
			term = rlog__get64(
			    body + (size_t)run * RLOG__SEAL_RUN_BYTES + 8);
			run++;
		}
		if (index < o->from || index > o->to) {
			continue;
		}
		uint32_t roff = rlog__get32(ents + (size_t)i * 8);
		uint32_t rsize = rlog__get32(ents + (size_t)i * 8 + 4);
		if (o->json) {
			printf("{\"file\":\"%s\",\"offset\":%" PRIu64
			       ",\"type\":\"seal_entry\",\"index\":%" PRIu64
			       ",\"term\":%" PRIu64
			       ",\"record_offset\":%" PRIu32
			       ",\"record_bytes\":%" PRIu32 "}\n",
			       sl->name, off, index, term, roff, rsize);
		} else {
			printf("%s@%" PRIu64 " listed index=%" PRIu64
			       " term=%" PRIu64 " record_offset=%" PRIu32
			       " record_bytes=%" PRIu32 "\n",
			       sl->name, off, index, term, roff, rsize);
		}
	}
	free(body);
	return 0;
}

static int dump_raw(const struct dump_opts *o, struct rlog_tool_walk *w)
{
	struct raw_ctx c = {.o = o, .w = w};
	int rc = RLOG_TOOL_EXIT_OK;
	for (size_t i = 0; i < w->segs_len; i++) {
		const struct rlog_tool_seg *s = &w->segs[i];
		c.seg = i;
		bool hdr_ok = s->hdr_rc == 0;
		if (o->json) {
			printf("{\"file\":\"%s\",\"type\":\"segment\",\"role\":"
			       "\"%s\",\"bytes\":%" PRIu64 ",\"header\":\"%s\"",
			       s->name, raw_role(s->role), s->size_bytes,
			       hdr_ok ? "valid" : "invalid");
			if (hdr_ok) {
				printf(",\"first_index\":%" PRIu64
				       ",\"prev_seq\":%" PRIu64
				       ",\"prev_end_offset\":%" PRIu64,
				       s->hdr.first_index, s->hdr.prev_seq,
				       s->hdr.prev_end_offset);
			}
			printf("}\n");
		} else {
			printf("%s segment role=%s bytes=%" PRIu64, s->name,
			       raw_role(s->role), s->size_bytes);
			if (hdr_ok) {
				printf(" first_index=%" PRIu64
				       " prev_seq=%" PRIu64
				       " prev_end_offset=%" PRIu64 "\n",
				       s->hdr.first_index, s->hdr.prev_seq,
				       s->hdr.prev_end_offset);
			} else {
				printf(" header=%s\n",
				       s->hdr_rc == 1 ? "not read" : "invalid");
			}
		}
		int rv = 0;
		if (s->size_bytes > RLOG__SEG_HEADER_BYTES) {
			rv = rlog_tool_walk_records(w, i, raw_cb, &c);
		}
		if (rv == 0 && s->has_seal) {
			rv = raw_seal(o, w, s->seal);
		}
		if (rv != 0) {
			rlog_tool_err("dump", o->dir, "%s", w->err);
			rc = RLOG_TOOL_EXIT_IO;
			break;
		}
	}
	for (size_t k = 0; k < w->seals_len && rc == RLOG_TOOL_EXIT_OK; k++) {
		if (w->seals[k].has_seg) {
			continue;
		}
		int rv = raw_seal(o, w, k);
		if (rv != 0) {
			rlog_tool_err("dump", o->dir, "%s", w->err);
			rc = RLOG_TOOL_EXIT_IO;
		}
	}
	free(c.buf);
	return rc;
}

int rlog_tool_cmd_dump(int argc, char **argv)
{
	struct dump_opts o;
	int rc = dump_args(argc, argv, &o);
	if (rc != 0) {
		return rc < 0 ? RLOG_TOOL_EXIT_OK : rc;
	}
	rc = rlog_tool_need_dir("dump", o.dir);
	if (rc != 0) {
		return rc;
	}
	struct rlog_tool_walk w;
	int rv = rlog_tool_walk(o.dir, NULL, &w);
	if (rv != 0) {
		rlog_tool_err("dump", o.dir, "%s", w.err);
		rlog_tool_walk_free(&w);
		return RLOG_TOOL_EXIT_IO;
	}
	rc = o.raw ? dump_raw(&o, &w) : dump_live(&o, &w);
	if (w.verdict != 0 && !o.raw) {
		rlog_tool_err("dump", o.dir,
			      "the log does not open (%s: %s); shown: the "
			      "entries recovery could read",
			      rlog_tool_code_name(w.verdict), w.verdict_msg);
	}
	if (w.verdict != 0 && rc == RLOG_TOOL_EXIT_OK) {
		rc = RLOG_TOOL_EXIT_PROBLEM;
	}
	fflush(stdout);
	rlog_tool_walk_free(&w);
	return rc;
}
