/*
 * test_sim_run.c: the interpreter and explorer are deterministic, replay
 * bit for bit, and report failures with the script line.
 */
#include "testlib.h"

#include <string.h>

#include "memvfs.h"
#include "run.h"
#include "scn.h"

static struct rlog_sim_script *parse(const char *text)
{
	struct rlog_sim_script *s = NULL;
	char err[512];
	int rv = rlog_sim_scn_parse("t.scn", text, strlen(text), &s, err,
				    sizeof(err));
	if (rv != 0) {
		fail_msg("parse: %s", err);
	}
	return s;
}

static const char script[] = "option seed=7\n"
			     "open\n"
			     "append 1..20 term=1 size=300\n"
			     "sync\n"
			     "append 21..25 term=1 size=700\n"
			     "truncate 23\n"
			     "hardstate term=2 vote=1 vote_term=2\n"
			     "replace 20..30 term=2 size=100\n"
			     "purge 5 term=1\n"
			     "crash\n"
			     "open\n"
			     "check\n";

/* The same trial twice gives the same trace hash and outcome; another seed
 * gives another trace (payload bytes and fates derive from it). */
static void sim_trial_same_inputs_same_trace(void **state)
{
	(void)state;
	struct rlog_sim_script *s = parse(script);
	struct rlog_sim_outcome a, b, c;
	struct rlog_sim_trial t;
	for (uint64_t k = 5; k < 60; k += 7) {
		rlog_sim_trial_init(&t, 7);
		t.crash_at = k;
		t.fate = 3;
		t.nested = true;
		assert_int_equal(rlog_sim_run_trial(s, &t, &a), 0);
		assert_int_equal(rlog_sim_run_trial(s, &t, &b), 0);
		assert_false(a.failed);
		assert_int_equal(a.trace_hash, b.trace_hash);
		assert_int_equal(a.ops, b.ops);
		assert_int_equal(a.recoveries, b.recoveries);
	}
	rlog_sim_trial_init(&t, 7);
	assert_int_equal(rlog_sim_run_trial(s, &t, &a), 0);
	t.seed = 8;
	assert_int_equal(rlog_sim_run_trial(s, &t, &c), 0);
	assert_false(c.failed);
	assert_int_not_equal(a.trace_hash, c.trace_hash);
	rlog_sim_scn_free(s);
}

/* Exploring twice gives identical results, point for point. */
static void sim_explore_is_deterministic(void **state)
{
	(void)state;
	struct rlog_sim_script *s = parse(script);
	struct rlog_sim_explore_cfg cfg = {.seed = 7,
					   .fates = 4,
					   .max_points = 1000,
					   .nested = true,
					   .check_append = true};
	struct rlog_sim_explore_result a, b;
	assert_int_equal(rlog_sim_explore(s, &cfg, &a, NULL, NULL), 0);
	assert_int_equal(rlog_sim_explore(s, &cfg, &b, NULL, NULL), 0);
	assert_false(a.failed);
	assert_true(a.points > 20);
	assert_int_equal(a.points, a.ops);
	assert_int_equal(a.trials, b.trials);
	assert_int_equal(a.recoveries, b.recoveries);
	assert_int_equal(a.trace_hash, b.trace_hash);
	/* A sample of points when the trace is longer than max_points. */
	cfg.max_points = 10;
	assert_int_equal(rlog_sim_explore(s, &cfg, &b, NULL, NULL), 0);
	assert_int_equal(b.points, 10);
	rlog_sim_scn_free(s);
}

/* A wrong expectation fails on the run as written, naming its line. */
static void sim_wrong_expect_fails_with_line(void **state)
{
	(void)state;
	struct rlog_sim_script *s = parse("open\n"
					  "append 1..3 term=1\n"
					  "sync\n"
					  "expect last_index 4\n");
	struct rlog_sim_trial t;
	rlog_sim_trial_init(&t, 1);
	struct rlog_sim_outcome o;
	assert_int_equal(rlog_sim_run_trial(s, &t, &o), 0);
	assert_true(o.failed);
	assert_int_equal(o.line, 4);
	assert_non_null(strstr(o.msg, "line 4"));
	assert_non_null(strstr(o.msg, "expect last_index 4, found 3"));
	rlog_sim_scn_free(s);
}

/* A crash point past the end of the run changes nothing: the trial equals
 * the run as written. */
static void sim_crash_point_past_end_is_the_plain_run(void **state)
{
	(void)state;
	struct rlog_sim_script *s = parse(script);
	struct rlog_sim_trial t;
	rlog_sim_trial_init(&t, 7);
	struct rlog_sim_outcome a, b;
	assert_int_equal(rlog_sim_run_trial(s, &t, &a), 0);
	t.crash_at = a.ops + 100;
	assert_int_equal(rlog_sim_run_trial(s, &t, &b), 0);
	assert_false(b.crashed_at_point);
	assert_int_equal(a.trace_hash, b.trace_hash);
	rlog_sim_scn_free(s);
}

/* Using a log before opening it is a script error, reported as such. */
static void sim_command_without_open_is_a_script_error(void **state)
{
	(void)state;
	struct rlog_sim_script *s = parse("append 1 term=1\n");
	struct rlog_sim_trial t;
	rlog_sim_trial_init(&t, 1);
	struct rlog_sim_outcome o;
	assert_int_equal(rlog_sim_run_trial(s, &t, &o), 0);
	assert_true(o.failed);
	assert_non_null(strstr(o.msg, "needs an open log"));
	rlog_sim_scn_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sim_trial_same_inputs_same_trace),
	    cmocka_unit_test(sim_explore_is_deterministic),
	    cmocka_unit_test(sim_wrong_expect_fails_with_line),
	    cmocka_unit_test(sim_crash_point_past_end_is_the_plain_run),
	    cmocka_unit_test(sim_command_without_open_is_a_script_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
