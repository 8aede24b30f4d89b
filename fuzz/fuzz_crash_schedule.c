/*
 * fuzz_crash_schedule.c: the input's bytes choose a workload, a crash point
 * and a fate; the simulator runs it and checks every recovery invariant.
 *
 * The harness builds a struct rlog_sim_script in memory (options and
 * commands; it is never passed to rlog_sim_scn_free), runs it once as
 * written, then once more crashing after VFS operation 1 + selector % ops
 * under the input's fate, with invariant 7 (append after recovery) checked.
 * The generator tracks the log it expects (first, last, the terms, the
 * purge boundary and the hard-state term) so that every command it emits is
 * valid for the state the run as written reaches: appends continue at
 * last + 1 with terms that never decrease, truncate and replace start
 * inside [first, last + 1], purge names an entry with its own term or lies
 * past the last one. So inputs spend their time on real crash paths, not
 * on argument errors. Input layout: fuzz.h (FUZZ_CS_*).
 *
 * A failed trial prints the outcome's message, the script as text and the
 * rlog-sim replay command, then aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "memvfs.h"
#include "rlog/rlog.h"
#include "run.h"
#include "scn.h"

#define NAME "fuzz_crash_schedule"
/* Most live entries the generator lets the log hold. */
#define TERMS_MAX 512u
/* Most commands: open plus the generated ones. */
#define CMDS_MAX (FUZZ_CS_CMDS_MAX + 1u)

/* The log the run as written reaches, as the generator tracks it. */
struct gen {
	uint64_t first; /* purge index + 1 */
	uint64_t last;
	uint64_t purge_term;
	uint64_t cur_term; /* at least every term so far */
	uint64_t hs_term;
	uint64_t terms[TERMS_MAX]; /* terms[i]: entry first + i */
};

/* A byte reader that yields zeros past the end. */
struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static uint8_t next_byte(struct rd *r)
{
	return r->off < r->len ? r->p[r->off++] : 0;
}

static uint64_t live(const struct gen *g)
{
	return g->last + 1 - g->first;
}

/* Payload sizes an append or replace may use. */
static const uint32_t sizes[8] = {1, 8, 33, 100, 250, 600, 1300, 4500};

/* Fill e with n entries from `from` (arguments a and b), clamped to the
 * room left; returns false when no entry fits. */
static bool entries(struct gen *g, uint64_t from, uint8_t a, uint8_t b,
		    struct rlog_sim_cmd_entries *e)
{
	uint64_t n = 1u + (a & 7u);
	uint32_t size = sizes[(a >> 3) & 7u];
	if (size > 4096u) {
		n = 1;
	}
	uint64_t keep = from - g->first; /* entries before from stay */
	if (keep + n > TERMS_MAX) {
		if (keep >= TERMS_MAX) {
			return false;
		}
		n = TERMS_MAX - keep;
	}
	static const enum rlog_payload_kind kinds[8] = {
	    RLOG_PAYLOAD_COMMAND, RLOG_PAYLOAD_COMMAND, RLOG_PAYLOAD_COMMAND,
	    RLOG_PAYLOAD_COMMAND, RLOG_PAYLOAD_CONFIG,	RLOG_PAYLOAD_NOOP,
	    RLOG_PAYLOAD_NONE,	  RLOG_PAYLOAD_COMMAND};
	e->kind = kinds[b & 7u];
	e->size_bytes =
	    (e->kind == RLOG_PAYLOAD_COMMAND || e->kind == RLOG_PAYLOAD_CONFIG)
		? size
		: 0;
	if ((b >> 3) & 1u) {
		g->cur_term++;
	}
	e->term = g->cur_term;
	e->first_index = from;
	e->last_index = from + n - 1;
	for (uint64_t i = from; i <= e->last_index; i++) {
		g->terms[i - g->first] = e->term;
	}
	g->last = e->last_index;
	return true;
}

/* Where in [first, last + 1] argument w points. */
static uint64_t where(const struct gen *g, uint8_t w)
{
	return g->first + (uint64_t)w % (live(g) + 1u);
}

/* Generate one command from the reader; false when it has none to give. */
static bool gen_cmd(struct gen *g, struct rd *r, struct rlog_sim_cmd *c)
{
	uint8_t op = next_byte(r) % FUZZ_CS_OP_COUNT;
	switch (op) {
	case FUZZ_CS_APPEND: {
		uint8_t a = next_byte(r), b = next_byte(r);
		c->kind = RLOG_SIM_CMD_APPEND;
		return entries(g, g->last + 1, a, b, &c->u.entries);
	}
	case FUZZ_CS_SYNC:
		c->kind = RLOG_SIM_CMD_SYNC;
		return true;
	case FUZZ_CS_TRUNCATE: {
		uint64_t from = where(g, next_byte(r));
		c->kind = RLOG_SIM_CMD_TRUNCATE;
		c->u.index.index = from;
		g->last = from - 1;
		return true;
	}
	case FUZZ_CS_REPLACE: {
		uint64_t from = where(g, next_byte(r));
		uint8_t a = next_byte(r), b = next_byte(r);
		c->kind = RLOG_SIM_CMD_REPLACE;
		return entries(g, from, a, b, &c->u.entries);
	}
	case FUZZ_CS_PURGE: {
		uint8_t w = next_byte(r);
		uint64_t idx, term;
		c->kind = RLOG_SIM_CMD_PURGE;
		if ((w & 0x80u) == 0 && live(g) > 0) {
			/* first - 1 (a no-op) ... last, with its own term. */
			idx = g->first - 1 + (uint64_t)w % (live(g) + 1u);
			term = idx >= g->first ? g->terms[idx - g->first]
					       : g->purge_term;
		} else {
			/* Past the last entry: a snapshot install. */
			idx = g->last + 1u + (w & 7u);
			term = g->cur_term;
		}
		c->u.log_id.index = idx;
		c->u.log_id.term = term;
		if (idx < g->first) {
			return true;
		}
		if (idx >= g->last) {
			g->first = idx + 1;
			g->last = idx;
		} else {
			uint64_t drop = idx + 1 - g->first;
			memmove(g->terms, g->terms + drop,
				(size_t)(live(g) - drop) * sizeof(g->terms[0]));
			g->first = idx + 1;
		}
		g->purge_term = term;
		return true;
	}
	case FUZZ_CS_RESET:
		c->kind = RLOG_SIM_CMD_RESET;
		g->first = 1;
		g->last = 0;
		g->purge_term = 0;
		return true;
	case FUZZ_CS_HARDSTATE: {
		uint8_t b = next_byte(r);
		c->kind = RLOG_SIM_CMD_HARDSTATE;
		g->hs_term += b & 1u;
		struct rlog_hard_state *hs = &c->u.hard_state.value;
		hs->current_term = g->hs_term;
		if (b & 2u) {
			hs->has_vote = true;
			hs->voted_for_id = (b >> 2) & 7u;
			hs->voted_for_term = g->hs_term;
			hs->committed = (b & 0x20u) != 0;
		}
		return true;
	}
	case FUZZ_CS_REOPEN:
		c->kind = RLOG_SIM_CMD_REOPEN;
		return true;
	default:
		c->kind = RLOG_SIM_CMD_CHECK;
		return true;
	}
}

static void options(struct rlog_sim_scn_options *o, const uint8_t *h)
{
	rlog_sim_scn_options_init(o);
	static const enum rlog_sim_scn_fate fates[4] = {
	    RLOG_SIM_SCN_FATE_RANDOM, RLOG_SIM_SCN_FATE_ORDERED,
	    RLOG_SIM_SCN_FATE_LOSE_UNSYNCED, RLOG_SIM_SCN_FATE_KEEP_UNSYNCED};
	o->seed = 1u + h[4];
	o->fate = fates[h[0] & 3u];
	o->atomic_sectors = (h[0] & 0x04u) != 0;
	o->safe_append = (h[0] & 0x08u) != 0;
	o->sector_size_bytes = (h[0] & 0x10u) ? 4096u : 512u;
	o->segment_size_bytes = (h[0] & 0x20u) ? 4096u : 65536u;
	o->set = RLOG_SIM_SCN_OPT_SEED | RLOG_SIM_SCN_OPT_DEVICE |
		 RLOG_SIM_SCN_OPT_SECTOR_SIZE | RLOG_SIM_SCN_OPT_SEGMENT_SIZE;
}

static void report(const struct rlog_sim_script *s,
		   const struct rlog_sim_trial *t,
		   const struct rlog_sim_outcome *o)
{
	size_t n = rlog_sim_scn_format(s, NULL, 0);
	char *text = malloc(n + 1);
	if (text != NULL) {
		rlog_sim_scn_format(s, text, n + 1);
	}
	fprintf(stderr,
		"--- script (commands are numbered as lines 1..n) ---\n%s"
		"--- replay: save the script as x.scn, then\n"
		"rlog-sim replay x.scn --seed %llu --point %llu --fate %u%s\n",
		text ? text : "(out of memory)", (unsigned long long)t->seed,
		(unsigned long long)(t->crash_at == RLOG_SIM_NEVER
					 ? 0
					 : t->crash_at),
		t->fate, t->nested ? " --nested" : "");
	free(text);
	fuzz_fail(NAME, "%s", o->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_CS_HDR_BYTES) {
		return 0;
	}
	struct rlog_sim_cmd cmds[CMDS_MAX];
	struct gen g;
	memset(cmds, 0, sizeof(cmds));
	memset(&g, 0, sizeof(g));
	g.first = 1;
	g.cur_term = 1;
	struct rlog_sim_script s;
	memset(&s, 0, sizeof(s));
	options(&s.options, data);
	s.cmds = cmds;
	cmds[0].kind = RLOG_SIM_CMD_OPEN;
	cmds[0].line = 1;
	s.cmd_count = 1;
	struct rd r = {.p = data + FUZZ_CS_HDR_BYTES,
		       .len = size - FUZZ_CS_HDR_BYTES,
		       .off = 0};
	while (r.off < r.len && s.cmd_count < CMDS_MAX) {
		struct rlog_sim_cmd *c = &cmds[s.cmd_count];
		if (gen_cmd(&g, &r, c)) {
			c->line = (uint32_t)s.cmd_count + 1u;
			s.cmd_count++;
		} else {
			memset(c, 0, sizeof(*c));
		}
	}
	struct rlog_sim_trial t;
	struct rlog_sim_outcome o;
	rlog_sim_trial_init(&t, s.options.seed);
	t.check_append = true;
	if (rlog_sim_run_trial(&s, &t, &o) != 0) {
		return 0; /* out of memory */
	}
	if (o.failed) {
		report(&s, &t, &o);
	}
	if (o.ops == 0) {
		return 0;
	}
	uint64_t sel = (uint64_t)data[1] | (uint64_t)data[2] << 8;
	t.crash_at = 1u + sel % o.ops;
	t.fate = data[3];
	t.nested = (data[0] & 0x40u) != 0;
	if (rlog_sim_run_trial(&s, &t, &o) != 0) {
		return 0;
	}
	if (o.failed) {
		report(&s, &t, &o);
	}
	return 0;
}
