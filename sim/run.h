/*
 * sim/run.h: the scenario interpreter and the crash-point explorer.
 *
 * A trial runs one script on a fresh simulated disk under one seed,
 * optionally killing the machine after VFS operation number crash_at. Then
 * it settles the unsynced operations under one fate assignment, recovers,
 * checks every invariant against the reference model, and runs the rest of
 * the script. Trials are pure functions of (script, seed, crash_at, fate,
 * nested): replaying the same tuple gives the same trace hash.
 *
 * The explorer runs the script once as written, then a trial for every
 * operation boundary (or a seeded sample of them) under several fates.
 */
#ifndef RLOG_SIM_RUN_H
#define RLOG_SIM_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "scn.h"

/* One trial. */
struct rlog_sim_trial {
	uint64_t seed;	      /* overrides the script's seed option */
	uint64_t crash_at;    /* kill after this op; RLOG_SIM_NEVER for none */
	uint32_t fate;	      /* 0 lose unsynced, 1 keep, >= 2 device fates */
	bool nested;	      /* also crash once inside the recovery */
	bool check_append;    /* invariant 7: append + crash after recovery */
	uint32_t trace_lines; /* readable VFS trace kept for a report */
	FILE *trace_out;      /* where the trace goes on failure (or NULL) */
};

struct rlog_sim_outcome {
	bool failed;
	char msg[1024];	       /* the violation, with the script line */
	uint32_t line;	       /* script line being run when it failed */
	uint64_t ops;	       /* VFS operations in the whole trial */
	uint64_t trace_hash;   /* of the disk's operation trace */
	uint64_t recoveries;   /* checked recoveries */
	bool crashed_at_point; /* the crash point was reached */
	bool nothing_pending;  /* ...with no unsynced op to decide on */
	bool ended_corrupt;    /* stopped on an expected corruption */
};

void rlog_sim_trial_init(struct rlog_sim_trial *t, uint64_t seed);

/* Run one trial. Returns 0 (see o->failed) or -ENOMEM. */
int rlog_sim_run_trial(const struct rlog_sim_script *s,
		       const struct rlog_sim_trial *t,
		       struct rlog_sim_outcome *o);

struct rlog_sim_explore_cfg {
	uint64_t seed;
	uint32_t fates;	     /* fate assignments per crash point */
	uint64_t max_points; /* all points when the trace has at most this */
	bool nested;	     /* crash inside recovery at every point */
	bool check_append;   /* invariant 7 at every point (fate 0) */
};

struct rlog_sim_explore_result {
	bool failed;
	char msg[1024];
	uint32_t line;
	uint64_t fail_point; /* 0: the run as written failed */
	uint32_t fail_fate;
	bool fail_nested;
	uint64_t ops;	     /* ops of the run as written */
	uint64_t points;     /* crash points explored */
	uint64_t trials;     /* trials run, the one as written included */
	uint64_t recoveries; /* checked recoveries in all trials */
	uint64_t trace_hash; /* of the run as written */
};

/* Called after every crash point; may print progress. */
typedef void (*rlog_sim_progress_cb)(void *ctx, uint64_t done, uint64_t total);

int rlog_sim_explore(const struct rlog_sim_script *s,
		     const struct rlog_sim_explore_cfg *cfg,
		     struct rlog_sim_explore_result *r,
		     rlog_sim_progress_cb progress, void *ctx);

/* Mix values into a seed (splitmix-style), for deriving fate seeds. */
uint64_t rlog_sim_mix(uint64_t a, uint64_t b);

#endif
