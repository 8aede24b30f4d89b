/*
 * rlog-sim: run crash scenarios against rlog in the simulator.
 *
 *   rlog-sim run [options] FILES...
 *   rlog-sim replay FILE --seed S --point K --fate F [--nested]
 *
 * Results are a pure function of the scripts and the seeds; the clock is
 * read only to print trials per second.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memvfs.h"
#include "run.h"
#include "scn.h"

#define SHRINK_RUNS_MAX 400u
#define JOBS_MAX 64u

static const char usage[] =
    "usage:\n"
    "  rlog-sim run [options] FILES...\n"
    "  rlog-sim replay FILE --seed S --point K --fate F [--nested]\n"
    "\n"
    "run options:\n"
    "  --explore          crash at every VFS operation boundary (seeded\n"
    "                     samples beyond --max-points), recover, check\n"
    "  --seed S           first seed (default: the script's, else 1)\n"
    "  --seeds N          run N seeds: S, S+1, ... (default 1)\n"
    "  --fates N          fate assignments per crash point (default 4:\n"
    "                     lose unsynced, keep unsynced, 2 seeded device "
    "fates)\n"
    "  --max-points N     explore all points up to N, sample beyond (2000)\n"
    "  --no-nested        do not crash inside recovery\n"
    "  --shard I/N        run only work units u with u %% N == I (0-based)\n"
    "  --jobs N           processes to run in parallel (default 1)\n"
    "  --junit FILE       write JUnit XML\n"
    "  --json FILE        write a JSON report\n"
    "  --out DIR          where shrunk failing scenarios go (default: the\n"
    "                     report's directory, else .)\n"
    "  --no-shrink        do not shrink failures\n"
    "  --quiet            no progress line\n"
    "\n"
    "exit status: 0 all passed, 1 a scenario failed, 2 bad usage or input\n";

struct unit {
	size_t file;
	uint64_t seed;
	struct rlog_sim_explore_result r;
	double seconds;
	int status; /* 0 ran, 2 could not run */
};

struct opts {
	bool explore;
	bool seed_set;
	uint64_t seed;
	uint64_t seeds;
	uint32_t fates;
	uint64_t max_points;
	bool nested;
	uint64_t shard_i, shard_n;
	uint32_t jobs;
	const char *junit;
	const char *json;
	const char *out;
	bool shrink;
	bool quiet;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_u64(const char *s, uint64_t *v)
{
	if (s == NULL || *s < '0' || *s > '9') {
		return -1;
	}
	errno = 0;
	char *end;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return -1;
	}
	*v = (uint64_t)x;
	return 0;
}

static int arg_u64(int argc, char **argv, int *i, uint64_t *v)
{
	if (*i + 1 >= argc || parse_u64(argv[*i + 1], v) != 0) {
		fprintf(stderr, "rlog-sim: %s needs a non-negative integer\n",
			argv[*i]);
		return -1;
	}
	(*i)++;
	return 0;
}

static struct rlog_sim_explore_cfg cfg_for(const struct opts *o, uint64_t seed)
{
	struct rlog_sim_explore_cfg c = {
	    .seed = seed,
	    .fates = o->fates,
	    .max_points = o->max_points,
	    .nested = o->nested,
	    .check_append = true,
	};
	return c;
}

/* Run one unit: the script as written, or explored. */
static int run_unit(const struct opts *o, const struct rlog_sim_script *s,
		    uint64_t seed, struct rlog_sim_explore_result *r)
{
	if (o->explore) {
		struct rlog_sim_explore_cfg c = cfg_for(o, seed);
		return rlog_sim_explore(s, &c, r, NULL, NULL);
	}
	struct rlog_sim_trial t;
	rlog_sim_trial_init(&t, seed);
	struct rlog_sim_outcome out;
	int rv = rlog_sim_run_trial(s, &t, &out);
	memset(r, 0, sizeof(*r));
	r->failed = out.failed;
	r->line = out.line;
	snprintf(r->msg, sizeof(r->msg), "%s", out.msg);
	r->ops = out.ops;
	r->trials = 1;
	r->recoveries = out.recoveries;
	r->trace_hash = out.trace_hash;
	return rv;
}

static void replay_cmd(char *buf, size_t len, const char *file, uint64_t seed,
		       const struct rlog_sim_explore_result *r)
{
	snprintf(buf, len,
		 "rlog-sim replay %s --seed %" PRIu64 " --point %" PRIu64
		 " --fate %u%s",
		 file, seed, r->fail_point, r->fail_fate,
		 r->fail_nested ? " --nested" : "");
}

/* The kind of a failure: its message without the line prefix, up to the
 * first colon ("invariant 1", "expect last_index 5, found 4", ...). */
static void failure_kind(const char *msg, char *out, size_t len)
{
	const char *p = msg;
	if (strncmp(p, "line ", 5) == 0) {
		const char *c = strchr(p, ':');
		p = c ? c + 2 : p;
	}
	size_t n = strcspn(p, ":");
	if (n >= len) {
		n = len - 1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Shrink a failing script: drop commands one at a time while it still
 * fails the same way (same kind of violation; a script that merely
 * became invalid does not count). Writes the minimal script to path. */
static int shrink(const struct opts *o, const struct rlog_sim_script *s,
		  uint64_t seed, const char *path,
		  struct rlog_sim_explore_result *last)
{
	struct rlog_sim_script w = *s;
	w.cmds = malloc((s->cmd_count ? s->cmd_count : 1) * sizeof(*w.cmds));
	if (w.cmds == NULL) {
		return -ENOMEM;
	}
	memcpy(w.cmds, s->cmds, s->cmd_count * sizeof(*w.cmds));
	char kind[128], k2[128];
	failure_kind(last->msg, kind, sizeof(kind));
	unsigned runs = 0;
	bool progress = true;
	while (progress && runs < SHRINK_RUNS_MAX) {
		progress = false;
		for (size_t i = w.cmd_count; i > 0 && runs < SHRINK_RUNS_MAX;
		     i--) {
			struct rlog_sim_cmd removed = w.cmds[i - 1];
			memmove(&w.cmds[i - 1], &w.cmds[i],
				(w.cmd_count - i) * sizeof(*w.cmds));
			w.cmd_count--;
			struct rlog_sim_explore_result r;
			runs++;
			if (run_unit(o, &w, seed, &r) == 0 && r.failed &&
			    (failure_kind(r.msg, k2, sizeof(k2)),
			     strcmp(k2, kind) == 0)) {
				*last = r;
				progress = true;
				continue;
			}
			memmove(&w.cmds[i], &w.cmds[i - 1],
				(w.cmd_count - (i - 1)) * sizeof(*w.cmds));
			w.cmds[i - 1] = removed;
			w.cmd_count++;
		}
	}
	/* Then the simplest fate that still fails: explore again with 1, 2,
	 * ... fates (the first points are tried first, so the failure found
	 * also has the fewest operations pending). */
	if (o->explore && last->fail_point > 0) {
		for (uint32_t f = 1; f < o->fates && runs < SHRINK_RUNS_MAX;
		     f++) {
			struct rlog_sim_explore_cfg c = cfg_for(o, seed);
			c.fates = f;
			struct rlog_sim_explore_result r;
			runs++;
			if (rlog_sim_explore(&w, &c, &r, NULL, NULL) == 0 &&
			    r.failed &&
			    (failure_kind(r.msg, k2, sizeof(k2)),
			     strcmp(k2, kind) == 0)) {
				*last = r;
				break;
			}
		}
	}
	size_t n = rlog_sim_scn_format(&w, NULL, 0);
	char *text = malloc(n + 1);
	int rv = -ENOMEM;
	if (text != NULL) {
		rlog_sim_scn_format(&w, text, n + 1);
		FILE *f = fopen(path, "w");
		if (f != NULL) {
			fprintf(f, "# Shrunk by rlog-sim (%u runs): %s\n", runs,
				last->msg);
			fputs(text, f);
			fclose(f);
			rv = 0;
		} else {
			rv = -errno;
		}
	}
	free(text);
	free(w.cmds);
	return rv;
}

static void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n') {
				fputc(*s, f);
			}
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

static int cmd_replay(int argc, char **argv)
{
	if (argc < 1) {
		fputs(usage, stderr);
		return 2;
	}
	const char *file = argv[0];
	struct rlog_sim_trial t;
	rlog_sim_trial_init(&t, 1);
	bool seed_set = false;
	for (int i = 1; i < argc; i++) {
		uint64_t v;
		if (strcmp(argv[i], "--seed") == 0) {
			if (arg_u64(argc, argv, &i, &t.seed) != 0) {
				return 2;
			}
			seed_set = true;
		} else if (strcmp(argv[i], "--point") == 0) {
			if (arg_u64(argc, argv, &i, &v) != 0) {
				return 2;
			}
			t.crash_at = v == 0 ? RLOG_SIM_NEVER : v;
		} else if (strcmp(argv[i], "--fate") == 0) {
			if (arg_u64(argc, argv, &i, &v) != 0 ||
			    v > UINT32_MAX) {
				return 2;
			}
			t.fate = (uint32_t)v;
		} else if (strcmp(argv[i], "--nested") == 0) {
			t.nested = true;
		} else {
			fprintf(stderr,
				"rlog-sim replay: unknown option '%s'\n%s",
				argv[i], usage);
			return 2;
		}
	}
	struct rlog_sim_script *s;
	char err[1024];
	int rv = rlog_sim_scn_parse_file(file, &s, err, sizeof(err));
	if (rv != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (!seed_set) {
		t.seed = s->options.seed;
	}
	t.check_append = t.fate == 0;
	t.trace_lines = 4096;
	t.trace_out = stdout;
	struct rlog_sim_outcome o;
	rv = rlog_sim_run_trial(s, &t, &o);
	rlog_sim_scn_free(s);
	if (rv != 0) {
		fprintf(stderr, "rlog-sim: out of memory\n");
		return 2;
	}
	printf("replay %s seed %" PRIu64 " point %" PRIu64 " fate %u%s: %s\n",
	       file, t.seed, t.crash_at == RLOG_SIM_NEVER ? 0 : t.crash_at,
	       t.fate, t.nested ? " nested" : "",
	       o.failed ? "FAILED" : "passed");
	if (o.failed) {
		printf("  %s\n", o.msg);
	}
	printf("  %" PRIu64 " VFS ops, %" PRIu64 " recoveries, trace hash "
	       "%016" PRIx64 "\n",
	       o.ops, o.recoveries, o.trace_hash);
	return o.failed ? 1 : 0;
}

static void progress_line(const struct opts *o, size_t done, size_t total)
{
	if (o->quiet) {
		return;
	}
	fprintf(stderr, "\r[%zu/%zu] units done", done, total);
	if (done == total) {
		fputc('\n', stderr);
	}
	fflush(stderr);
}

/* Run the units assigned to this process (every jobs-th from job). */
static void run_units(const struct opts *o, struct rlog_sim_script **scripts,
		      struct unit *u, size_t n, uint32_t job, uint32_t jobs,
		      int fd)
{
	for (size_t i = job; i < n; i += jobs) {
		double t0 = now_s();
		if (scripts[u[i].file] == NULL) {
			u[i].status = 2;
		} else if (run_unit(o, scripts[u[i].file], u[i].seed,
				    &u[i].r) != 0) {
			u[i].status = 2;
			snprintf(u[i].r.msg, sizeof(u[i].r.msg),
				 "out of memory");
		}
		u[i].seconds = now_s() - t0;
		if (fd >= 0) {
			/* One write per result: under PIPE_BUF it is atomic, so
			 * workers sharing the pipe never interleave. */
			char msg[sizeof(size_t) + sizeof(struct unit)];
			_Static_assert(sizeof(msg) <= 4096,
				       "atomic pipe write");
			size_t idx = i;
			memcpy(msg, &idx, sizeof(idx));
			memcpy(msg + sizeof(idx), &u[i], sizeof(u[i]));
			if (write(fd, msg, sizeof(msg)) !=
			    (ssize_t)sizeof(msg)) {
				_exit(3);
			}
		} else {
			progress_line(o, i + 1, n);
		}
	}
}

static int run_parallel(const struct opts *o, struct rlog_sim_script **scripts,
			struct unit *u, size_t n)
{
	uint32_t jobs = o->jobs;
	if (jobs <= 1 || n <= 1) {
		run_units(o, scripts, u, n, 0, 1, -1);
		return 0;
	}
	int fds[2];
	if (pipe(fds) != 0) {
		perror("rlog-sim: pipe");
		return -1;
	}
	pid_t pids[JOBS_MAX];
	for (uint32_t j = 0; j < jobs; j++) {
		pids[j] = fork();
		if (pids[j] < 0) {
			perror("rlog-sim: fork");
			return -1;
		}
		if (pids[j] == 0) {
			close(fds[0]);
			run_units(o, scripts, u, n, j, jobs, fds[1]);
			close(fds[1]);
			_exit(0);
		}
	}
	close(fds[1]);
	size_t got = 0;
	for (;;) {
		size_t idx;
		struct unit tmp;
		ssize_t a = read(fds[0], &idx, sizeof(idx));
		if (a != (ssize_t)sizeof(idx)) {
			break;
		}
		size_t want = sizeof(tmp), have = 0;
		while (have < want) {
			ssize_t b =
			    read(fds[0], (char *)&tmp + have, want - have);
			if (b <= 0) {
				break;
			}
			have += (size_t)b;
		}
		if (have != want || idx >= n) {
			break;
		}
		u[idx] = tmp;
		got++;
		progress_line(o, got, n);
	}
	close(fds[0]);
	int bad = 0;
	for (uint32_t j = 0; j < jobs; j++) {
		int st;
		if (waitpid(pids[j], &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			bad = 1;
		}
	}
	if (got != n || bad) {
		fprintf(stderr,
			"rlog-sim: a worker process died (%zu of %zu "
			"units reported)\n",
			got, n);
		return -1;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct opts o = {.seeds = 1,
			 .fates = 4,
			 .max_points = 2000,
			 .nested = true,
			 .shard_n = 1,
			 .jobs = 1,
			 .shrink = true};
	const char *ci = getenv("CI");
	o.quiet = !isatty(2) || (ci != NULL && ci[0] != '\0');
	int nfiles = 0;
	char **files = calloc((size_t)argc + 1, sizeof(*files));
	if (files == NULL) {
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		uint64_t v;
		if (strcmp(a, "--explore") == 0) {
			o.explore = true;
		} else if (strcmp(a, "--seed") == 0) {
			if (arg_u64(argc, argv, &i, &o.seed) != 0) {
				return 2;
			}
			o.seed_set = true;
		} else if (strcmp(a, "--seeds") == 0) {
			if (arg_u64(argc, argv, &i, &o.seeds) != 0 ||
			    o.seeds == 0) {
				return 2;
			}
		} else if (strcmp(a, "--fates") == 0) {
			if (arg_u64(argc, argv, &i, &v) != 0 || v == 0 ||
			    v > 1000) {
				fprintf(stderr,
					"rlog-sim: --fates takes 1..1000\n");
				return 2;
			}
			o.fates = (uint32_t)v;
		} else if (strcmp(a, "--max-points") == 0) {
			if (arg_u64(argc, argv, &i, &o.max_points) != 0 ||
			    o.max_points == 0) {
				return 2;
			}
		} else if (strcmp(a, "--no-nested") == 0) {
			o.nested = false;
		} else if (strcmp(a, "--shard") == 0) {
			unsigned long long si, sn;
			char extra;
			if (i + 1 >= argc ||
			    sscanf(argv[i + 1], "%llu/%llu%c", &si, &sn,
				   &extra) != 2 ||
			    sn == 0 || si >= sn) {
				fprintf(stderr,
					"rlog-sim: --shard takes I/N with "
					"0 <= I < N\n");
				return 2;
			}
			o.shard_i = si;
			o.shard_n = sn;
			i++;
		} else if (strcmp(a, "--jobs") == 0) {
			if (arg_u64(argc, argv, &i, &v) != 0 || v == 0 ||
			    v > JOBS_MAX) {
				fprintf(stderr,
					"rlog-sim: --jobs takes 1..%u\n",
					JOBS_MAX);
				return 2;
			}
			o.jobs = (uint32_t)v;
		} else if (strcmp(a, "--junit") == 0 ||
			   strcmp(a, "--json") == 0 ||
			   strcmp(a, "--out") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "rlog-sim: %s needs a path\n",
					a);
				return 2;
			}
			const char **dst = a[2] == 'j' && a[3] == 'u' ? &o.junit
					   : a[2] == 'j'	      ? &o.json
								      : &o.out;
			*dst = argv[++i];
		} else if (strcmp(a, "--no-shrink") == 0) {
			o.shrink = false;
		} else if (strcmp(a, "--quiet") == 0) {
			o.quiet = true;
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "rlog-sim: unknown option '%s'\n%s", a,
				usage);
			return 2;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (nfiles == 0) {
		fprintf(stderr, "rlog-sim run: no scenario files\n%s", usage);
		return 2;
	}
	struct rlog_sim_script **scripts =
	    calloc((size_t)nfiles, sizeof(*scripts));
	int parse_fail = 0;
	for (int f = 0; f < nfiles; f++) {
		char err[1024];
		if (rlog_sim_scn_parse_file(files[f], &scripts[f], err,
					    sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			parse_fail++;
		}
	}
	/* Work units: (file, seed) in a fixed global order; a shard keeps
	 * every shard_n-th from shard_i. */
	size_t total = (size_t)nfiles * (size_t)o.seeds, n = 0;
	struct unit *u = calloc(total ? total : 1, sizeof(*u));
	for (size_t k = 0; k < total; k++) {
		if (k % o.shard_n != o.shard_i) {
			continue;
		}
		size_t f = k / o.seeds;
		uint64_t base = o.seed_set   ? o.seed
				: scripts[f] ? scripts[f]->options.seed
					     : 1;
		u[n].file = f;
		u[n].seed = base + k % o.seeds;
		n++;
	}
	double t0 = now_s();
	if (run_parallel(&o, scripts, u, n) != 0) {
		for (int f = 0; f < nfiles; f++) {
			rlog_sim_scn_free(scripts[f]);
		}
		free(scripts);
		free(u);
		free(files);
		return 2;
	}
	double secs = now_s() - t0;
	size_t passed = 0, failed = 0;
	uint64_t trials = 0, points = 0, recov = 0;
	for (size_t i = 0; i < n; i++) {
		struct unit *x = &u[i];
		const char *file = files[x->file];
		trials += x->r.trials;
		points += x->r.points;
		recov += x->r.recoveries;
		if (x->status == 2) {
			failed++;
			printf("ERROR %s seed=%" PRIu64 ": %s\n", file, x->seed,
			       scripts[x->file] ? x->r.msg : "does not parse");
			continue;
		}
		double rate =
		    x->seconds > 0 ? (double)x->r.trials / x->seconds : 0;
		if (!x->r.failed) {
			passed++;
			printf("PASS %s seed=%" PRIu64 ": %" PRIu64
			       " ops, %" PRIu64 " crash points, %" PRIu64
			       " trials, %" PRIu64 " recoveries checked, %.0f "
			       "trials/s, trace %016" PRIx64 "\n",
			       file, x->seed, x->r.ops, x->r.points,
			       x->r.trials, x->r.recoveries, rate,
			       x->r.trace_hash);
			continue;
		}
		failed++;
		char cmd[2600];
		replay_cmd(cmd, sizeof(cmd), file, x->seed, &x->r);
		printf("FAIL %s seed=%" PRIu64 ": %s\n", file, x->seed,
		       x->r.msg);
		printf("  replay: %s\n", cmd);
		if (o.shrink && o.explore) {
			char dir[1024];
			const char *rep = o.junit ? o.junit : o.json;
			if (o.out != NULL) {
				snprintf(dir, sizeof(dir), "%s", o.out);
			} else if (rep != NULL) {
				char tmp[1024];
				snprintf(tmp, sizeof(tmp), "%s", rep);
				snprintf(dir, sizeof(dir), "%s", dirname(tmp));
			} else {
				snprintf(dir, sizeof(dir), ".");
			}
			mkdir(dir, 0755);
			char base[1024], path[2300];
			snprintf(base, sizeof(base), "%s", file);
			snprintf(path, sizeof(path),
				 "%s/%s.seed%" PRIu64 ".min.scn", dir,
				 basename(base), x->seed);
			struct rlog_sim_explore_result last = x->r;
			if (shrink(&o, scripts[x->file], x->seed, path,
				   &last) == 0) {
				replay_cmd(cmd, sizeof(cmd), path, x->seed,
					   &last);
				printf("  shrunk to %s: %s\n  replay: %s\n",
				       path, last.msg, cmd);
			}
		}
	}
	printf("%s: %zu units, %" PRIu64 " crash points, %" PRIu64
	       " trials, %" PRIu64
	       " recoveries checked in %.2f s (%.0f trials/s)\n",
	       o.explore ? "explored" : "ran", n, points, trials, recov, secs,
	       secs > 0 ? (double)trials / secs : 0.0);
	if (o.junit != NULL) {
		FILE *f = fopen(o.junit, "w");
		if (f == NULL) {
			fprintf(stderr, "rlog-sim: cannot write %s: %s\n",
				o.junit, strerror(errno));
			return 2;
		}
		fprintf(f,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<testsuite name=\"rlog-sim\" tests=\"%zu\" "
			"failures=\"%zu\" time=\"%.3f\">\n",
			n, failed, secs);
		for (size_t i = 0; i < n; i++) {
			fprintf(f,
				"  <testcase classname=\"rlog-sim\" name=\"");
			xml_escape(f, files[u[i].file]);
			fprintf(f, " seed=%" PRIu64 "\" time=\"%.3f\">",
				u[i].seed, u[i].seconds);
			if (u[i].r.failed || u[i].status) {
				char cmd[2600];
				replay_cmd(cmd, sizeof(cmd), files[u[i].file],
					   u[i].seed, &u[i].r);
				fprintf(f, "<failure message=\"");
				xml_escape(f, u[i].r.msg);
				fprintf(f, "\">");
				xml_escape(f, cmd);
				fprintf(f, "</failure>");
			}
			fprintf(f, "</testcase>\n");
		}
		fprintf(f, "</testsuite>\n");
		fclose(f);
	}
	if (o.json != NULL) {
		FILE *f = fopen(o.json, "w");
		if (f == NULL) {
			fprintf(stderr, "rlog-sim: cannot write %s: %s\n",
				o.json, strerror(errno));
			return 2;
		}
		fprintf(f, "{\"units\": [\n");
		for (size_t i = 0; i < n; i++) {
			const struct unit *x = &u[i];
			fprintf(f, "  {\"file\": ");
			json_str(f, files[x->file]);
			fprintf(f,
				", \"seed\": %" PRIu64 ", \"passed\": %s, "
				"\"ops\": %" PRIu64 ", \"points\": %" PRIu64
				", \"trials\": %" PRIu64 ", \"seconds\": %.3f",
				x->seed,
				x->r.failed || x->status ? "false" : "true",
				x->r.ops, x->r.points, x->r.trials, x->seconds);
			if (x->r.failed || x->status) {
				char cmd[2600];
				replay_cmd(cmd, sizeof(cmd), files[x->file],
					   x->seed, &x->r);
				fprintf(f, ", \"message\": ");
				json_str(f, x->r.msg);
				fprintf(f, ", \"replay\": ");
				json_str(f, cmd);
			}
			fprintf(f, "}%s\n", i + 1 < n ? "," : "");
		}
		fprintf(
		    f,
		    "], \"passed\": %zu, \"failed\": %zu, \"trials\": %" PRIu64
		    ", \"seconds\": %.3f}\n",
		    passed, failed, trials, secs);
		fclose(f);
	}
	for (int f = 0; f < nfiles; f++) {
		rlog_sim_scn_free(scripts[f]);
	}
	free(scripts);
	free(u);
	free(files);
	printf("%zu passed, %zu failed\n", passed, failed);
	if (parse_fail > 0 && n == 0) {
		return 2;
	}
	return failed > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "run") == 0) {
		return cmd_run(argc - 2, argv + 2);
	}
	if (strcmp(argv[1], "replay") == 0) {
		return cmd_replay(argc - 2, argv + 2);
	}
	fprintf(stderr, "rlog-sim: unknown command '%s'\n%s", argv[1], usage);
	return 2;
}
