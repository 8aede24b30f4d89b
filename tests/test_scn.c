/*
 * test_scn.c: the scenario language parser: every command and option with
 * its fields, one test per class of error with its line, column and form,
 * the print/parse round trip, the file reader, allocation failures, and
 * seeded garbage that must always give a script or one named error.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"

#define ERR_BYTES 1024u

/* ---- Helpers. ---- */

/* Parse text named t.scn, which must succeed; the caller frees. */
static struct rlog_sim_script *parse_ok(const char *text)
{
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	int rc = rlog_sim_scn_parse("t.scn", text, strlen(text), &s, err,
				    sizeof(err));
	if (rc != 0) {
		print_message("unexpected error: %s\n", err);
	}
	assert_int_equal(rc, 0);
	assert_non_null(s);
	assert_string_equal(err, "");
	return s;
}

/* Parse text, which must fail with err starting "t.scn:LINE:COL: error: "
 * and holding msg in its message and form after "; expected: ". */
static void parse_fails(const char *text, unsigned line, unsigned col,
			const char *msg, const char *form)
{
	struct rlog_sim_script *s = (struct rlog_sim_script *)&s;
	char err[ERR_BYTES];
	char prefix[64];
	int rc = rlog_sim_scn_parse("t.scn", text, strlen(text), &s, err,
				    sizeof(err));
	if (rc == 0) {
		rlog_sim_scn_free(s);
		fail_msg("parsed, but expected an error: %s", text);
	}
	assert_int_equal(rc, RLOG_EINVAL);
	assert_null(s);
	snprintf(prefix, sizeof(prefix), "t.scn:%u:%u: error: ", line, col);
	if (strncmp(err, prefix, strlen(prefix)) != 0) {
		print_message("want prefix %s\n got %s\n", prefix, err);
	}
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
	const char *expected = strstr(err, "; expected: ");
	assert_non_null(expected);
	if (strstr(err, msg) == NULL || strstr(expected, form) == NULL) {
		print_message("want '%s' / '%s'\n got %s\n", msg, form, err);
	}
	assert_true(strstr(err, msg) != NULL && strstr(err, msg) < expected);
	assert_non_null(strstr(expected, form));
}

/* Parse a one-command text and return a copy of its only command. */
static struct rlog_sim_cmd parse_one(const char *text)
{
	struct rlog_sim_script *s = parse_ok(text);
	assert_int_equal(s->cmd_count, 1);
	struct rlog_sim_cmd c = s->cmds[0];
	rlog_sim_scn_free(s);
	return c;
}

/* Format a script into a new buffer (free with free). */
static char *format_script(const struct rlog_sim_script *s)
{
	size_t n = rlog_sim_scn_format(s, NULL, 0);
	char *buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(rlog_sim_scn_format(s, buf, n + 1), n);
	assert_int_equal(strlen(buf), n);
	return buf;
}

/* A script that uses every command, every option and most key forms. */
static const char every_command[] =
    "# A script with every command.\n"
    "option seed=42\n"
    "option segment_size=64k\n"
    "option sector_size=4096\n"
    "option disk_size=16m\n"
    "option device=atomic_sectors,safe_append\n"
    "option device=ordered_writes\n"
    "option entry_size_max=1m\n"
    "option verify_on_open=1\n"
    "option fault_rate_fsync_eio=10\n"
    "option fault_rate_read_eio=20\n"
    "option fault_rate_write_eio=30\n"
    "option fault_rate_enospc=40\n"
    "option fault_rate_short_write=50\n"
    "option fault_rate_dirsync_eio=60\n"
    "option fault_rate_lose_dirop=1000000\n"
    "\n"
    "open\n"
    "append 1..10 term=1\n"
    "append 11 term=2 size=100 kind=config\n"
    "append 12..13 term=2 kind=noop\n"
    "append 14 kind=none size=0 term=2\n"
    "sync\n"
    "expect error EINVAL\n"
    "truncate 20\n"
    "truncate 14\n"
    "replace 12..15 term=3 size=4k\n"
    "purge 5 term=1\n"
    "hardstate term=3\n"
    "hardstate term=4 vote=2 vote_term=4 committed=1\n"
    "hardstate committed=0 vote_term=5 vote=3 term=5\n"
    "fault fsync_eio\n"
    "fault read_eio file=last after=2\n"
    "fault write_eio file=0000000000000001.seg\n"
    "fault enospc file=meta\n"
    "fault short_write file=any after=0\n"
    "fault dirsync_eio after=1\n"
    "fault lose_dirop file=any\n"
    "crash\n"
    "expect corrupt\n"
    "reopen\n"
    "close\n"
    "expect error OK\n"
    "open\n"
    "bitflip any any\n"
    "bitflip last 100 bit=7\n"
    "bitflip meta any bit=0\n"
    "bitflip seg-1.log 0\n"
    "expect last_index 15\n"
    "expect first_index 6\n"
    "expect entry 6 term=1\n"
    "expect error ENOTFOUND\n"
    "expect entry 99 term=1\n"
    "expect missing 99\n"
    "expect hardstate term=5 vote=3 vote_term=5\n"
    "expect hardstate term=4 vote=2 vote_term=4 committed=1\n"
    "expect hardstate none\n"
    "expect purged 5 term=1\n"
    "reset\n"
    "check\n";

/* xorshift64: the deterministic source of every garbage input. */
static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Check one arbitrary input: it parses (and then round-trips) or fails
 * with one message that starts with the name and has the error shape. */
static void check_total(const char *text, size_t len)
{
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	int rc =
	    rlog_sim_scn_parse("fuzz.scn", text, len, &s, err, sizeof(err));
	if (rc != 0) {
		unsigned line = 0;
		unsigned col = 0;
		assert_int_equal(rc, RLOG_EINVAL);
		assert_null(s);
		assert_int_equal(
		    sscanf(err, "fuzz.scn:%u:%u: error: ", &line, &col), 2);
		assert_true(line >= 1);
		assert_true(col >= 1 && col <= RLOG_SIM_SCN_LINE_BYTES_MAX + 1);
		assert_non_null(strstr(err, "; expected: "));
		return;
	}
	assert_string_equal(err, "");
	char *text2 = format_script(s);
	struct rlog_sim_script *s2 = NULL;
	rc = rlog_sim_scn_parse("fuzz2.scn", text2, strlen(text2), &s2, err,
				sizeof(err));
	if (rc != 0) {
		print_message("reparse failed: %s\n", err);
	}
	assert_int_equal(rc, 0);
	assert_true(rlog_sim_scn_equal(s, s2));
	rlog_sim_scn_free(s2);
	rlog_sim_scn_free(s);
	free(text2);
}

/* ---- Every command parses with its fields. ---- */

/* The argument-less commands parse to their kinds with nothing attached. */
static void scn_bare_commands_parse_to_kinds(void **state)
{
	(void)state;
	struct rlog_sim_script *s =
	    parse_ok("open\nclose\nreopen\nsync\nreset\ncrash\ncheck\n");
	enum rlog_sim_cmd_kind want[] = {
	    RLOG_SIM_CMD_OPEN,	RLOG_SIM_CMD_CLOSE, RLOG_SIM_CMD_REOPEN,
	    RLOG_SIM_CMD_SYNC,	RLOG_SIM_CMD_RESET, RLOG_SIM_CMD_CRASH,
	    RLOG_SIM_CMD_CHECK,
	};
	assert_int_equal(s->cmd_count, 7);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(s->cmds[i].kind, want[i]);
		assert_int_equal(s->cmds[i].line, i + 1);
		assert_false(s->cmds[i].expect_set);
	}
	rlog_sim_scn_free(s);
}

/* append with a range and every key fills every entries field. */
static void scn_append_range_with_keys_fills_fields(void **state)
{
	(void)state;
	struct rlog_sim_cmd c =
	    parse_one("append 3..9 term=7 size=1k kind=config");
	assert_int_equal(c.kind, RLOG_SIM_CMD_APPEND);
	assert_int_equal(c.u.entries.first_index, 3);
	assert_int_equal(c.u.entries.last_index, 9);
	assert_int_equal(c.u.entries.term, 7);
	assert_int_equal(c.u.entries.size_bytes, 1024);
	assert_int_equal(c.u.entries.kind, RLOG_PAYLOAD_CONFIG);
}

/* A single index and no size or kind give one command entry of 32 bytes. */
static void scn_append_single_index_uses_defaults(void **state)
{
	(void)state;
	struct rlog_sim_cmd c = parse_one("append 5 term=2");
	assert_int_equal(c.u.entries.first_index, 5);
	assert_int_equal(c.u.entries.last_index, 5);
	assert_int_equal(c.u.entries.term, 2);
	assert_int_equal(c.u.entries.size_bytes,
			 RLOG_SIM_SCN_SIZE_DEFAULT_BYTES);
	assert_int_equal(c.u.entries.kind, RLOG_PAYLOAD_COMMAND);
	c = parse_one("append 5 term=2 kind=noop");
	assert_int_equal(c.u.entries.kind, RLOG_PAYLOAD_NOOP);
	assert_int_equal(c.u.entries.size_bytes, 0);
	c = parse_one("append 5 term=2 kind=none size=0");
	assert_int_equal(c.u.entries.kind, RLOG_PAYLOAD_NONE);
	c = parse_one("append 5 term=2 kind=command size=0");
	assert_int_equal(c.u.entries.size_bytes, 0);
}

/* Keys may come in any order after the positional arguments. */
static void scn_keys_in_any_order_parse_alike(void **state)
{
	(void)state;
	struct rlog_sim_cmd a =
	    parse_one("replace 1..2 term=3 size=9 kind=config");
	struct rlog_sim_cmd b =
	    parse_one("replace 1..2 kind=config size=9 term=3");
	assert_int_equal(a.kind, RLOG_SIM_CMD_REPLACE);
	assert_true(rlog_sim_cmd_equal(&a, &b));
}

/* The largest size and batch the engine takes are accepted. */
static void scn_size_at_limits_parses(void **state)
{
	(void)state;
	struct rlog_sim_cmd c = parse_one("append 1 term=1 size=64m");
	assert_int_equal(c.u.entries.size_bytes, RLOG_ENTRY_SIZE_MAX_BYTES);
	c = parse_one("append 1..4 term=1 size=64m");
	assert_int_equal(c.u.entries.last_index, 4);
	c = parse_one("append 1..65536 term=1 size=0");
	assert_int_equal(c.u.entries.last_index, RLOG_BATCH_ENTRIES_MAX);
	c = parse_one("append 18446744073709551615 term=18446744073709551615");
	assert_int_equal(c.u.entries.first_index, UINT64_MAX);
	assert_int_equal(c.u.entries.term, UINT64_MAX);
}

/* truncate and the index expectations keep their one index. */
static void scn_index_commands_fill_index(void **state)
{
	(void)state;
	struct {
		const char *text;
		enum rlog_sim_cmd_kind kind;
	} v[] = {
	    {"truncate 12", RLOG_SIM_CMD_TRUNCATE},
	    {"expect last_index 12", RLOG_SIM_CMD_EXPECT_LAST_INDEX},
	    {"expect first_index 12", RLOG_SIM_CMD_EXPECT_FIRST_INDEX},
	    {"expect missing 12", RLOG_SIM_CMD_EXPECT_MISSING},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct rlog_sim_cmd c = parse_one(v[i].text);
		assert_int_equal(c.kind, v[i].kind);
		assert_int_equal(c.u.index.index, 12);
	}
}

/* purge, expect entry and expect purged keep index and term. */
static void scn_log_id_commands_fill_index_and_term(void **state)
{
	(void)state;
	struct {
		const char *text;
		enum rlog_sim_cmd_kind kind;
	} v[] = {
	    {"purge 8 term=3", RLOG_SIM_CMD_PURGE},
	    {"expect entry 8 term=3", RLOG_SIM_CMD_EXPECT_ENTRY},
	    {"expect purged 8 term=3", RLOG_SIM_CMD_EXPECT_PURGED},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct rlog_sim_cmd c = parse_one(v[i].text);
		assert_int_equal(c.kind, v[i].kind);
		assert_int_equal(c.u.log_id.index, 8);
		assert_int_equal(c.u.log_id.term, 3);
	}
}

/* hardstate without a vote leaves the vote fields empty. */
static void scn_hardstate_term_only_has_no_vote(void **state)
{
	(void)state;
	struct rlog_sim_cmd c = parse_one("hardstate term=9");
	assert_int_equal(c.kind, RLOG_SIM_CMD_HARDSTATE);
	assert_false(c.u.hard_state.none);
	assert_int_equal(c.u.hard_state.value.current_term, 9);
	assert_false(c.u.hard_state.value.has_vote);
	assert_int_equal(c.u.hard_state.value.voted_for_id, 0);
	assert_int_equal(c.u.hard_state.value.voted_for_term, 0);
	assert_false(c.u.hard_state.value.committed);
}

/* hardstate and expect hardstate with a vote fill every field. */
static void scn_hardstate_with_vote_fills_fields(void **state)
{
	(void)state;
	const char *texts[] = {
	    "hardstate term=9 vote=4294967295 vote_term=8 committed=1",
	    "expect hardstate term=9 vote=4294967295 vote_term=8 "
	    "committed=1",
	};
	for (size_t i = 0; i < 2; i++) {
		struct rlog_sim_cmd c = parse_one(texts[i]);
		const struct rlog_hard_state *hs = &c.u.hard_state.value;
		assert_int_equal(c.kind, i == 0
					     ? RLOG_SIM_CMD_HARDSTATE
					     : RLOG_SIM_CMD_EXPECT_HARDSTATE);
		assert_int_equal(hs->current_term, 9);
		assert_true(hs->has_vote);
		assert_int_equal(hs->voted_for_id, UINT32_MAX);
		assert_int_equal(hs->voted_for_term, 8);
		assert_true(hs->committed);
	}
	struct rlog_sim_cmd c =
	    parse_one("hardstate term=1 vote=2 vote_term=1");
	assert_false(c.u.hard_state.value.committed);
}

/* expect hardstate none sets none and nothing else. */
static void scn_expect_hardstate_none_sets_none(void **state)
{
	(void)state;
	struct rlog_sim_cmd c = parse_one("expect hardstate none");
	assert_int_equal(c.kind, RLOG_SIM_CMD_EXPECT_HARDSTATE);
	assert_true(c.u.hard_state.none);
	assert_int_equal(c.u.hard_state.value.current_term, 0);
}

/* Every fault kind parses, with file any and no skip by default. */
static void scn_fault_every_kind_parses(void **state)
{
	(void)state;
	char text[128];
	for (int k = 0; k < RLOG_SIM_SCN_FAULT_COUNT; k++) {
		const char *name =
		    rlog_sim_scn_fault_name((enum rlog_sim_scn_fault)k);
		snprintf(text, sizeof(text), "fault %s", name);
		struct rlog_sim_cmd c = parse_one(text);
		assert_int_equal(c.kind, RLOG_SIM_CMD_FAULT);
		assert_int_equal(c.u.fault.kind, k);
		assert_int_equal(c.u.fault.file.sel, RLOG_SIM_SCN_FILE_ANY);
		assert_int_equal(c.u.fault.after, 0);
	}
}

/* fault file= and after= fill the target and the skip count. */
static void scn_fault_file_and_after_fill_fields(void **state)
{
	(void)state;
	struct rlog_sim_cmd c =
	    parse_one("fault write_eio file=0000000000000001.seg after=3");
	assert_int_equal(c.u.fault.kind, RLOG_SIM_SCN_FAULT_WRITE_EIO);
	assert_int_equal(c.u.fault.file.sel, RLOG_SIM_SCN_FILE_NAME);
	assert_string_equal(c.u.fault.file.name, "0000000000000001.seg");
	assert_int_equal(c.u.fault.after, 3);
	c = parse_one("fault fsync_eio file=meta");
	assert_int_equal(c.u.fault.file.sel, RLOG_SIM_SCN_FILE_META);
	c = parse_one("fault lose_dirop after=1 file=last");
	assert_int_equal(c.u.fault.file.sel, RLOG_SIM_SCN_FILE_LAST);
	assert_int_equal(c.u.fault.after, 1);
}

/* bitflip takes every file target, any or a number, and an optional bit. */
static void scn_bitflip_targets_fill_fields(void **state)
{
	(void)state;
	struct rlog_sim_cmd c = parse_one("bitflip any any");
	assert_int_equal(c.kind, RLOG_SIM_CMD_BITFLIP);
	assert_int_equal(c.u.bitflip.file.sel, RLOG_SIM_SCN_FILE_ANY);
	assert_true(c.u.bitflip.offset_any);
	assert_true(c.u.bitflip.bit_any);
	c = parse_one("bitflip last 4096 bit=7");
	assert_int_equal(c.u.bitflip.file.sel, RLOG_SIM_SCN_FILE_LAST);
	assert_false(c.u.bitflip.offset_any);
	assert_int_equal(c.u.bitflip.offset, 4096);
	assert_false(c.u.bitflip.bit_any);
	assert_int_equal(c.u.bitflip.bit, 7);
	c = parse_one("bitflip meta 0 bit=0");
	assert_int_equal(c.u.bitflip.file.sel, RLOG_SIM_SCN_FILE_META);
	assert_int_equal(c.u.bitflip.bit, 0);
	c = parse_one("bitflip A-z_0.9 any");
	assert_int_equal(c.u.bitflip.file.sel, RLOG_SIM_SCN_FILE_NAME);
	assert_string_equal(c.u.bitflip.file.name, "A-z_0.9");
	c = parse_one(
	    "bitflip "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa 1");
	assert_int_equal(strlen(c.u.bitflip.file.name), RLOG_VFS_NAME_MAX);
}

/* expect error attaches every code to the command after it. */
static void scn_expect_error_attaches_every_code(void **state)
{
	(void)state;
	const char *names[] = {"OK",	 "EINVAL",   "ENOMEM",	  "EIO",
			       "ENOSPC", "ECORRUPT", "ENOTFOUND", "EFATAL",
			       "EBUSY",	 "EVERSION"};
	int codes[] = {RLOG_OK,	    RLOG_EINVAL,   RLOG_ENOMEM,	   RLOG_EIO,
		       RLOG_ENOSPC, RLOG_ECORRUPT, RLOG_ENOTFOUND, RLOG_EFATAL,
		       RLOG_EBUSY,  RLOG_EVERSION};
	char text[128];
	for (size_t i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "open\nexpect error %s\nsync\n",
			 names[i]);
		struct rlog_sim_script *s = parse_ok(text);
		assert_int_equal(s->cmd_count, 2);
		assert_false(s->cmds[0].expect_set);
		assert_true(s->cmds[1].expect_set);
		assert_int_equal(s->cmds[1].expect_code, codes[i]);
		assert_int_equal(s->cmds[1].expect_line, 2);
		assert_int_equal(s->cmds[1].line, 3);
		assert_string_equal(rlog_sim_scn_code_name(codes[i]), names[i]);
		rlog_sim_scn_free(s);
	}
}

/* expect error may sit on comment lines away from its command. */
static void scn_expect_error_skips_comments_and_blanks(void **state)
{
	(void)state;
	struct rlog_sim_script *s =
	    parse_ok("expect error EIO # the next one\n\n# note\nappend "
		     "1 term=1\n");
	assert_int_equal(s->cmd_count, 1);
	assert_true(s->cmds[0].expect_set);
	assert_int_equal(s->cmds[0].expect_code, RLOG_EIO);
	assert_int_equal(s->cmds[0].expect_line, 1);
	assert_int_equal(s->cmds[0].line, 4);
	rlog_sim_scn_free(s);
}

/* expect corrupt becomes an ECORRUPT expectation on open or reopen. */
static void scn_expect_corrupt_attaches_to_open(void **state)
{
	(void)state;
	struct rlog_sim_script *s =
	    parse_ok("expect corrupt\nopen\nexpect corrupt\nreopen\n");
	assert_int_equal(s->cmd_count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_true(s->cmds[i].expect_set);
		assert_int_equal(s->cmds[i].expect_code, RLOG_ECORRUPT);
	}
	assert_int_equal(s->cmds[1].kind, RLOG_SIM_CMD_REOPEN);
	rlog_sim_scn_free(s);
}

/* Every option lands in its field and sets its bit. */
static void scn_options_fill_fields_and_bits(void **state)
{
	(void)state;
	struct rlog_sim_script *s = parse_ok(every_command);
	const struct rlog_sim_scn_options *o = &s->options;
	assert_int_equal(o->seed, 42);
	assert_int_equal(o->segment_size_bytes, 64 * 1024);
	assert_int_equal(o->sector_size_bytes, 4096);
	assert_int_equal(o->disk_size_bytes, 16 * 1024 * 1024);
	assert_int_equal(o->fate, RLOG_SIM_SCN_FATE_ORDERED);
	assert_true(o->atomic_sectors);
	assert_true(o->safe_append);
	assert_int_equal(o->entry_size_max_bytes, 1024 * 1024);
	uint32_t want[] = {10, 20, 30, 40, 50, 60, 1000000};
	for (int k = 0; k < RLOG_SIM_SCN_FAULT_COUNT; k++) {
		assert_int_equal(o->fault_rate_ppm[k], want[k]);
		assert_true(o->set & RLOG_SIM_SCN_OPT_FAULT_RATE(k));
	}
	assert_true(o->set & RLOG_SIM_SCN_OPT_SEED);
	assert_true(o->set & RLOG_SIM_SCN_OPT_SEGMENT_SIZE);
	assert_true(o->set & RLOG_SIM_SCN_OPT_SECTOR_SIZE);
	assert_true(o->set & RLOG_SIM_SCN_OPT_DISK_SIZE);
	assert_true(o->set & RLOG_SIM_SCN_OPT_DEVICE);
	assert_true(o->set & RLOG_SIM_SCN_OPT_ENTRY_SIZE_MAX);
	assert_true(o->verify_on_open);
	assert_true(o->set & RLOG_SIM_SCN_OPT_VERIFY_ON_OPEN);
	rlog_sim_scn_free(s);
	/* 0 is a value the script gave; anything but 0 and 1 is not. */
	s = parse_ok("option verify_on_open=0\nopen\n");
	assert_false(s->options.verify_on_open);
	assert_true(s->options.set & RLOG_SIM_SCN_OPT_VERIFY_ON_OPEN);
	rlog_sim_scn_free(s);
	parse_fails("option verify_on_open=2", 1, 23, "verify_on_open",
		    "option verify_on_open=0|1");
}

/* A script without options gets the defaults and an empty set mask. */
static void scn_options_absent_give_defaults(void **state)
{
	(void)state;
	struct rlog_sim_scn_options d;
	rlog_sim_scn_options_init(&d);
	struct rlog_sim_script *s = parse_ok("open\n");
	assert_int_equal(s->options.set, 0);
	assert_int_equal(s->options.seed, 1);
	assert_int_equal(s->options.sector_size_bytes, 512);
	assert_int_equal(s->options.segment_size_bytes, 0);
	assert_int_equal(s->options.disk_size_bytes, 0);
	assert_int_equal(s->options.fate, RLOG_SIM_SCN_FATE_RANDOM);
	assert_false(s->options.atomic_sectors);
	assert_false(s->options.safe_append);
	assert_false(s->options.verify_on_open);
	assert_int_equal(d.seed, s->options.seed);
	rlog_sim_scn_free(s);
}

/* Each fate parses, may repeat, and combines with both restrictions. */
static void scn_device_values_parse(void **state)
{
	(void)state;
	struct {
		const char *text;
		enum rlog_sim_scn_fate fate;
		bool atomic_sectors;
		bool safe_append;
	} v[] = {
	    {"option device=random\noption device=random\n",
	     RLOG_SIM_SCN_FATE_RANDOM, false, false},
	    {"option device=atomic_sectors\n", RLOG_SIM_SCN_FATE_RANDOM, true,
	     false},
	    {"option device=lose_unsynced,lose_unsynced\n",
	     RLOG_SIM_SCN_FATE_LOSE_UNSYNCED, false, false},
	    {"option device=safe_append,keep_unsynced\n",
	     RLOG_SIM_SCN_FATE_KEEP_UNSYNCED, false, true},
	    {"option device=random,atomic_sectors,safe_append\n",
	     RLOG_SIM_SCN_FATE_RANDOM, true, true},
	    {"option device=ordered_writes\noption device=atomic_sectors\n",
	     RLOG_SIM_SCN_FATE_ORDERED, true, false},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct rlog_sim_script *s = parse_ok(v[i].text);
		assert_true(s->options.set & RLOG_SIM_SCN_OPT_DEVICE);
		assert_int_equal(s->options.fate, v[i].fate);
		assert_int_equal(s->options.atomic_sectors,
				 v[i].atomic_sectors);
		assert_int_equal(s->options.safe_append, v[i].safe_append);
		rlog_sim_scn_free(s);
	}
}

/* BYTES take k and m suffixes in either case, and leading zeros. */
static void scn_bytes_suffixes_scale(void **state)
{
	(void)state;
	struct rlog_sim_script *s =
	    parse_ok("option segment_size=3K\noption disk_size=2M\n"
		     "option entry_size_max=0007\noption sector_size=4k\n");
	assert_int_equal(s->options.segment_size_bytes, 3 * 1024);
	assert_int_equal(s->options.disk_size_bytes, 2 * 1024 * 1024);
	assert_int_equal(s->options.entry_size_max_bytes, 7);
	assert_int_equal(s->options.sector_size_bytes, 4096);
	rlog_sim_scn_free(s);
}

/* Comments, blank lines, tabs, CRLF and a missing last newline are fine. */
static void scn_comments_and_blank_lines_are_ignored(void **state)
{
	(void)state;
	struct rlog_sim_script *s =
	    parse_ok("# header \xff\xfe invalid UTF-8 and \x01 control bytes\n"
		     "\n   \t  \n"
		     "\topen   # trailing comment\r\n"
		     "append\t1..2  term=1#comment glued to a token\n"
		     "#\n"
		     "   sync");
	assert_int_equal(s->cmd_count, 3);
	assert_int_equal(s->cmds[0].line, 4);
	assert_int_equal(s->cmds[1].u.entries.term, 1);
	assert_int_equal(s->cmds[2].kind, RLOG_SIM_CMD_SYNC);
	assert_int_equal(s->cmds[2].line, 7);
	rlog_sim_scn_free(s);
}

/* Empty text, and text of comments only, give an empty script. */
static void scn_empty_text_gives_empty_script(void **state)
{
	(void)state;
	struct rlog_sim_script *s = NULL;
	char err[8] = "x";
	assert_int_equal(
	    rlog_sim_scn_parse(NULL, NULL, 0, &s, err, sizeof(err)), 0);
	assert_non_null(s);
	assert_int_equal(s->cmd_count, 0);
	assert_string_equal(err, "");
	rlog_sim_scn_free(s);
	s = parse_ok("# nothing\n\n");
	assert_int_equal(s->cmd_count, 0);
	rlog_sim_scn_free(s);
	rlog_sim_scn_free(NULL);
}

/* ---- Errors: one test per class, each with line, column and form. ---- */

/* A misspelled command names itself and lists every command. */
static void scn_unknown_command_lists_commands(void **state)
{
	(void)state;
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	const char *text = "open\n  apend 1 term=1\n";
	assert_int_equal(rlog_sim_scn_parse("t.scn", text, strlen(text), &s,
					    err, sizeof(err)),
			 RLOG_EINVAL);
	assert_string_equal(
	    err, "t.scn:2:3: error: unknown command 'apend'; expected: a "
		 "command: option, open, close, reopen, append, sync, "
		 "truncate, replace, purge, reset, hardstate, crash, "
		 "fault, bitflip, expect, check");
	parse_fails("OPEN\n", 1, 1, "unknown command 'OPEN'", "a command:");
	parse_fails("expect lastindex 3\n", 1, 8,
		    "unknown expectation 'lastindex'", "expect last_index N |");
	parse_fails("append 1 term=1 kind=noops\n", 1, 22,
		    "unknown kind 'noops'", "[kind=noop|command|config|none]");
}

/* A missing positional argument is reported just past the last token. */
static void scn_missing_argument_points_past_line(void **state)
{
	(void)state;
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	const char *text = "append   # no range\n";
	assert_int_equal(rlog_sim_scn_parse("t.scn", text, strlen(text), &s,
					    err, sizeof(err)),
			 RLOG_EINVAL);
	assert_string_equal(err, "t.scn:1:7: error: missing FIRST..LAST; "
				 "expected: append FIRST..LAST term=T "
				 "[size=N] [kind=noop|command|config|none]");
	parse_fails("truncate", 1, 9, "missing index", "truncate I");
	parse_fails("purge 3", 1, 8, "missing term=T", "purge I term=T");
	parse_fails("append 1..3 size=4", 1, 19, "missing term=T",
		    "append FIRST..LAST");
	parse_fails("append term=1", 1, 8,
		    "missing FIRST..LAST before 'term=1'",
		    "append FIRST..LAST");
	parse_fails("hardstate", 1, 10, "missing term=T", "hardstate term=T");
	parse_fails("fault", 1, 6, "missing fault kind", "fault fsync_eio|");
	parse_fails("bitflip last", 1, 13, "missing offset", "bitflip NAME|");
	parse_fails("expect", 1, 7, "missing what to expect",
		    "expect last_index");
	parse_fails("expect error", 1, 13, "missing error code",
		    "expect error OK|EINVAL");
	parse_fails("option", 1, 7, "missing NAME=VALUE", "option NAME=VALUE");
	parse_fails("option seed", 1, 12, "missing '=VALUE' after 'seed'",
		    "option seed=U64");
	parse_fails("option seed=", 1, 13, "missing value after 'seed='",
		    "option seed=U64");
	parse_fails("append 1 term=", 1, 15, "missing value after 'term='",
		    "append FIRST..LAST");
	parse_fails("append 1 =3", 1, 10, "missing key name before '='",
		    "append FIRST..LAST");
	parse_fails("hardstate term=1 vote=2", 1, 18, "vote= needs vote_term=",
		    "[vote=ID vote_term=T [committed=0|1]]");
	parse_fails("hardstate term=1 vote_term=2", 1, 18,
		    "vote_term= needs vote=", "hardstate term=T");
	parse_fails("hardstate term=1 committed=1", 1, 18,
		    "committed= needs vote=", "hardstate term=T");
}

/* Words, signs and empty parts where a number belongs are rejected. */
static void scn_bad_number_points_at_value(void **state)
{
	(void)state;
	parse_fails("truncate five", 1, 10,
		    "index 'five' is not a decimal number", "truncate I");
	parse_fails("truncate -5", 1, 10, "index '-5' is not a decimal number",
		    "truncate I");
	parse_fails("purge 1 term=+5", 1, 14,
		    "term '+5' is not a decimal number", "purge I term=T");
	parse_fails("purge 1 term=0x10", 1, 15,
		    "term: unexpected 'x10' after the number",
		    "purge I term=T");
	parse_fails("expect last_index 12abc", 1, 21,
		    "index: unexpected 'abc' after the number",
		    "expect last_index N");
	parse_fails("append 1 term=1 size=1g", 1, 23,
		    "size: unexpected 'g' after the number", "append");
	parse_fails("append 1 term=1 size=1kb", 1, 24,
		    "size: unexpected 'b' after the number", "append");
	parse_fails("option sector_size=1024", 1, 20,
		    "sector_size must be 512 or 4096, not '1024'",
		    "option sector_size=512|4096");
	parse_fails("hardstate term=1 vote=1 vote_term=1 committed=yes", 1, 47,
		    "committed must be 0 or 1, not 'yes'", "hardstate term=T");
	parse_fails("bitflip last 0 bit=8", 1, 20, "bit '8' is larger than 7",
		    "[bit=0..7]");
	parse_fails("bitflip last 0 bit=any", 1, 20,
		    "bit 'any' is not a decimal number", "[bit=0..7]");
	parse_fails("option fault_rate_enospc=1000001", 1, 26,
		    "fault_rate_enospc '1000001' is larger than 1000000",
		    "option fault_rate_enospc=PER_MILLION (0..1000000)");
}

/* Numbers past 64 bits (or their field) are rejected, not wrapped. */
static void scn_overflow_is_rejected(void **state)
{
	(void)state;
	parse_fails("truncate 18446744073709551616", 1, 10,
		    "index '18446744073709551616' does not fit in 64 bits",
		    "truncate I");
	parse_fails("purge 1 term=99999999999999999999999", 1, 14,
		    "does not fit in 64 bits (the largest is "
		    "18446744073709551615)",
		    "purge I term=T");
	parse_fails("option disk_size=18014398509481984m", 1, 18,
		    "disk_size '18014398509481984m' is larger than "
		    "18446744073709551615",
		    "option disk_size=BYTES");
	parse_fails("option entry_size_max=4g", 1, 24,
		    "entry_size_max: unexpected 'g'", "option entry_size_max");
	parse_fails("option entry_size_max=4096m", 1, 23,
		    "entry_size_max '4096m' is larger than 4294967295",
		    "option entry_size_max=BYTES");
	parse_fails("hardstate term=1 vote=4294967296 vote_term=1", 1, 23,
		    "vote '4294967296' is larger than 4294967295",
		    "hardstate term=T");
	parse_fails("append 1 term=1 size=65537k", 1, 22,
		    "size '65537k' is larger than 64m", "append");
}

/* Empty, reversed, half-open and oversized ranges are rejected. */
static void scn_bad_range_is_rejected(void **state)
{
	(void)state;
	parse_fails("append 9..3 term=1", 1, 8,
		    "range '9..3' is empty: FIRST must not exceed LAST",
		    "append FIRST..LAST");
	parse_fails("append ..3 term=1", 1, 8, "missing FIRST before '..'",
		    "append FIRST..LAST");
	parse_fails("replace 3.. term=1", 1, 12, "missing LAST after '..'",
		    "replace FIRST..LAST");
	parse_fails("append 1...3 term=1", 1, 11,
		    "LAST '.3' is not a decimal number", "append FIRST..LAST");
	parse_fails("append 1..2..3 term=1", 1, 12,
		    "LAST: unexpected '..3' after the number", "append");
	parse_fails("append 1.3 term=1", 1, 9,
		    "index: unexpected '.3' after the number", "append");
	parse_fails("append 1..65537 term=1", 1, 8,
		    "range '1..65537' holds more than 65536 entries", "append");
	parse_fails("append 0..18446744073709551615 term=1", 1, 8,
		    "holds more than 65536 entries", "append");
	parse_fails("append 1..5 term=1 size=64m", 1, 8,
		    "5 entries of 67108864 bytes exceed the batch limit of "
		    "256m",
		    "append");
}

/* Unknown options, misplaced and repeated options are rejected. */
static void scn_unknown_option_lists_names(void **state)
{
	(void)state;
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	const char *text = "option seeed=1\n";
	assert_int_equal(rlog_sim_scn_parse("t.scn", text, strlen(text), &s,
					    err, sizeof(err)),
			 RLOG_EINVAL);
	assert_string_equal(
	    err,
	    "t.scn:1:8: error: unknown option 'seeed'; expected: option "
	    "NAME=VALUE with NAME one of seed, segment_size, sector_size, "
	    "disk_size, device, entry_size_max, preallocate, verify_on_open, "
	    "fault_rate_fsync_eio, "
	    "fault_rate_read_eio, fault_rate_write_eio, fault_rate_enospc, "
	    "fault_rate_short_write, fault_rate_dirsync_eio, "
	    "fault_rate_lose_dirop");
	parse_fails("option fault_rate_=1", 1, 8,
		    "unknown option 'fault_rate_'", "with NAME one of seed");
	parse_fails("option fault_rate_eio=1", 1, 8,
		    "unknown option 'fault_rate_eio'", "fault_rate_lose_dirop");
	parse_fails("open\noption seed=1\n", 2, 1,
		    "option after the first command",
		    "option lines before the first command");
	parse_fails("option seed=1\n\noption seed=2\n", 3, 8,
		    "option seed is already set on line 1", "option seed=U64");
	parse_fails("option seed=1 seed=2\n", 1, 15, "unexpected 'seed=2'",
		    "option seed=U64");
	parse_fails("option device=fast\n", 1, 15, "unknown device 'fast'",
		    "option device=NAME[,NAME...]");
	parse_fails("option device=safe_append,\n", 1, 27,
		    "missing device name", "option device=");
	parse_fails("option device=random,ordered_writes\n", 1, 22,
		    "device ordered_writes conflicts with random from line 1: "
		    "a run has one crash fate",
		    "with at most one of random, ordered_writes, "
		    "lose_unsynced, keep_unsynced, and any of atomic_sectors, "
		    "safe_append");
	parse_fails("option device=safe_append,lose_unsynced\n\noption "
		    "device=keep_unsynced\n",
		    3, 15,
		    "device keep_unsynced conflicts with lose_unsynced "
		    "from line 1",
		    "option device=");
	parse_fails("option device=ordered_writes\noption device=random\n", 2,
		    15, "device random conflicts with ordered_writes",
		    "option device=");
}

/* An unknown fault kind is named, and the form lists the kinds. */
static void scn_unknown_fault_kind_lists_kinds(void **state)
{
	(void)state;
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	const char *text = "fault fsync_eoi after=1\n";
	assert_int_equal(rlog_sim_scn_parse("t.scn", text, strlen(text), &s,
					    err, sizeof(err)),
			 RLOG_EINVAL);
	assert_string_equal(
	    err, "t.scn:1:7: error: unknown fault kind 'fsync_eoi'; "
		 "expected: fault fsync_eio|read_eio|write_eio|enospc|"
		 "short_write|dirsync_eio|lose_dirop [file=NAME|any|last|"
		 "meta] [after=N]");
	parse_fails("fault dirsync_eio file=meta", 1, 19,
		    "dirsync_eio takes no file=", "fault fsync_eio|");
	parse_fails("fault enospc when=now", 1, 14,
		    "unknown key 'when' for fault", "fault fsync_eio|");
}

/* Tokens after a complete command, and keys given twice, are junk. */
static void scn_trailing_junk_points_at_token(void **state)
{
	(void)state;
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	const char *text = "sync now\n";
	assert_int_equal(rlog_sim_scn_parse("t.scn", text, strlen(text), &s,
					    err, sizeof(err)),
			 RLOG_EINVAL);
	assert_string_equal(
	    err, "t.scn:1:6: error: unexpected 'now'; expected: sync");
	parse_fails("truncate 5 6", 1, 12, "unexpected '6'", "truncate I");
	parse_fails("append 1 term=1 2", 1, 17, "unexpected '2'", "append");
	parse_fails("append 1 term=1 term=2", 1, 17, "term= given twice",
		    "append");
	parse_fails("purge 1 term=1 size=2", 1, 16,
		    "unknown key 'size' for purge", "purge I term=T");
	parse_fails("expect hardstate none term=1", 1, 23,
		    "unexpected 'term=1'", "expect hardstate none");
	parse_fails("hardstate none", 1, 11, "unexpected 'none'",
		    "hardstate term=T");
	parse_fails("expect error EIO EIO", 1, 18, "unexpected 'EIO'",
		    "expect error OK|");
	parse_fails("expect corrupt now", 1, 16, "unexpected 'now'",
		    "expect corrupt");
	parse_fails("a b c d e f g h i j k l m n o p q r s t u v", 1, 1,
		    "unknown command 'a'", "a command:");
	parse_fails("sync 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18", 1, 6,
		    "unexpected '1'", "sync");
	/* A long token is cut in the message. */
	parse_fails(
	    "sync "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    1, 6, "unexpected 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'",
	    "sync");
}

/* A line over 4096 bytes fails at column 4097; 4096 bytes still parse. */
static void scn_overlong_line_is_rejected(void **state)
{
	(void)state;
	size_t n = RLOG_SIM_SCN_LINE_BYTES_MAX;
	char *text = malloc(n + 16);
	assert_non_null(text);
	memset(text, ' ', n + 16);
	memcpy(text, "open\n", 5);
	memcpy(text + 5, "sync", 4);
	text[5 + n] = '\n';
	text[5 + n + 1] = '\0';
	struct rlog_sim_script *s = parse_ok(text);
	assert_int_equal(s->cmd_count, 2);
	rlog_sim_scn_free(s);
	memcpy(text + 5 + n - 5, "#\r", 2); /* a CR before LF is not counted */
	text[5 + n] = '\r';
	text[5 + n + 1] = '\n';
	text[5 + n + 2] = '\0';
	s = parse_ok(text);
	rlog_sim_scn_free(s);
	text[5 + n] = ' ';
	parse_fails(text, 2, 4097, "line is longer than 4096 bytes",
		    "a line of at most 4096 bytes");
	text[5 + n + 1] = '\0'; /* no newline at all */
	parse_fails(text, 2, 4097, "line is longer than 4096 bytes",
		    "a line of at most 4096 bytes");
	free(text);
}

/* NUL, control, DEL, lone CR and non-ASCII bytes before '#' are rejected. */
static void scn_invalid_byte_points_at_byte(void **state)
{
	(void)state;
	struct {
		const char *text;
		size_t len;
		unsigned line;
		unsigned col;
		const char *msg;
	} v[] = {
	    {"sync\0\n", 6, 1, 5, "invalid byte 0x00"},
	    {"open\nappend 1 term=\xff\n", 21, 2, 15, "invalid byte 0xff"},
	    {"open\rsync\n", 10, 1, 5, "invalid byte 0x0d"},
	    {"\x7f", 1, 1, 1, "invalid byte 0x7f"},
	    {"sync \x0b", 6, 1, 6, "invalid byte 0x0b"},
	    {"cr\xc3\xa9\n", 5, 1, 3, "invalid byte 0xc3"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct rlog_sim_script *s = NULL;
		char err[ERR_BYTES];
		char want[128];
		assert_int_equal(rlog_sim_scn_parse("t.scn", v[i].text,
						    v[i].len, &s, err,
						    sizeof(err)),
				 RLOG_EINVAL);
		snprintf(want, sizeof(want),
			 "t.scn:%u:%u: error: %s; expected: printable ASCII",
			 v[i].line, v[i].col, v[i].msg);
		assert_true(strncmp(err, want, strlen(want)) == 0);
	}
}

/* Bad file names for fault and bitflip are rejected with the cause. */
static void scn_bad_file_name_is_rejected(void **state)
{
	(void)state;
	parse_fails("bitflip a/b 0", 1, 10, "file name 'a/b' holds '/'",
		    "bitflip NAME|any|last|meta");
	parse_fails("fault read_eio file=..", 1, 21, "'..' is not a file name",
		    "fault fsync_eio|");
	parse_fails("bitflip . 0", 1, 9, "'.' is not a file name", "bitflip");
	parse_fails(
	    "bitflip "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaa 1",
	    1, 9, "is longer than 64 bytes", "bitflip");
	parse_fails("bitflip seg:1 0", 1, 12, "holds ':'", "bitflip");
}

/* Payload sizes with empty kinds and over the cap are rejected. */
static void scn_bad_size_is_rejected(void **state)
{
	(void)state;
	parse_fails("append 1 term=1 kind=noop size=1", 1, 32,
		    "kind=noop carries no payload, so size must be 0",
		    "append");
	parse_fails("replace 1 term=1 size=8 kind=none", 1, 23,
		    "kind=none carries no payload, so size must be 0",
		    "replace");
	parse_fails("append 1 term=1 size=67108865", 1, 22,
		    "size '67108865' is larger than 64m", "append");
}

/* expect error/corrupt with no fitting command after it is rejected. */
static void scn_misplaced_expect_error_is_rejected(void **state)
{
	(void)state;
	parse_fails("open\n  expect error EIO\n# end\n", 2, 3,
		    "expect error is the last line; it needs a command after "
		    "it",
		    "expect error CODE, then one of open");
	parse_fails("expect corrupt\n", 1, 1, "expect corrupt is the last line",
		    "expect corrupt, then "
		    "open or reopen");
	parse_fails("expect error EIO\ncrash\n", 2, 1,
		    "expect error on line 1 cannot apply to crash",
		    "then one of");
	parse_fails("expect error EIO\nexpect last_index 3\n", 2, 1,
		    "cannot apply to expect last_index", "then one of");
	parse_fails("expect error EIO\nexpect error EIO\nsync\n", 2, 1,
		    "expect error on line 1 is still waiting for its command",
		    "then one of");
	parse_fails("expect corrupt\nexpect error EIO\nopen\n", 2, 1,
		    "expect corrupt on line 1 is still waiting", "then one of");
	parse_fails("expect corrupt\nsync\n", 2, 1,
		    "expect corrupt on line 1 applies only to open or reopen, "
		    "not to sync",
		    "expect corrupt, then open or reopen");
	parse_fails("expect error EIOO\n", 1, 14, "unknown error code 'EIOO'",
		    "expect error OK|EINVAL|ENOMEM|EIO|ENOSPC|ECORRUPT|"
		    "ENOTFOUND|EFATAL|EBUSY|EVERSION");
	parse_fails("expect error RLOG_EIO\n", 1, 14,
		    "unknown error code 'RLOG_EIO'", "expect error OK|");
	parse_fails("expect error EIO\noption seed=1\n", 2, 1,
		    "option after the first command", "option lines");
}

/* More than 100000 commands fail on the first one over the cap. */
static void scn_too_many_commands_is_rejected(void **state)
{
	(void)state;
	size_t n = RLOG_SIM_SCN_CMDS_MAX + 1;
	char *text = malloc(n * 5 + 1);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++) {
		memcpy(text + i * 5, "sync\n", 5);
	}
	text[(n - 1) * 5] = '\0';
	struct rlog_sim_script *s = parse_ok(text);
	assert_int_equal(s->cmd_count, RLOG_SIM_SCN_CMDS_MAX);
	rlog_sim_scn_free(s);
	text[(n - 1) * 5] = 's';
	text[n * 5] = '\0';
	parse_fails(text, 100001, 1, "more than 100000 commands",
		    "at most 100000 commands in one script");
	free(text);
}

/* Text over 64 MiB is refused at 1:1 without being read. */
static void scn_text_over_cap_is_rejected(void **state)
{
	(void)state;
	size_t len = (size_t)RLOG_SIM_SCN_TEXT_BYTES_MAX + 1;
	char *text = malloc(len);
	assert_non_null(text);
	memset(text, '#', 1);
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	assert_int_equal(
	    rlog_sim_scn_parse("big.scn", text, len, &s, err, sizeof(err)),
	    RLOG_EINVAL);
	assert_null(s);
	assert_string_equal(err, "big.scn:1:1: error: script is 67108865 "
				 "bytes, over the limit; expected: a script "
				 "of at most 67108864 bytes");
	free(text);
}

/* A short or absent error buffer is filled safely and truncated. */
static void scn_small_error_buffer_truncates(void **state)
{
	(void)state;
	struct rlog_sim_script *s = NULL;
	char err[12];
	memset(err, 'z', sizeof(err));
	assert_int_equal(
	    rlog_sim_scn_parse("t.scn", "bad", 3, &s, err, sizeof(err)),
	    RLOG_EINVAL);
	assert_string_equal(err, "t.scn:1:1: ");
	assert_int_equal(rlog_sim_scn_parse("t.scn", "bad", 3, &s, NULL, 0),
			 RLOG_EINVAL);
	assert_int_equal(rlog_sim_scn_parse("t.scn", "bad", 3, &s, err, 0),
			 RLOG_EINVAL);
	assert_null(s);
	assert_int_equal(
	    rlog_sim_scn_parse(NULL, "bad", 3, &s, err, sizeof(err)),
	    RLOG_EINVAL);
	assert_string_equal(err, "<input>:1:1");
}

/* ---- Printing and the round trip. ---- */

/* Printing a script with every command and reparsing gives it back. */
static void scn_round_trip_every_command_is_equal(void **state)
{
	(void)state;
	struct rlog_sim_script *a = parse_ok(every_command);
	bool seen[RLOG_SIM_CMD_KIND_END] = {false};
	for (size_t i = 0; i < a->cmd_count; i++) {
		seen[a->cmds[i].kind] = true;
	}
	for (int k = RLOG_SIM_CMD_OPEN; k < RLOG_SIM_CMD_KIND_END; k++) {
		assert_true(seen[k]);
	}
	char *text = format_script(a);
	struct rlog_sim_script *b = parse_ok(text);
	assert_true(rlog_sim_scn_equal(a, b));
	char *text2 = format_script(b);
	assert_string_equal(text, text2);
	/* Changing any one command breaks equality. */
	b->cmds[3].u.entries.term++;
	assert_false(rlog_sim_scn_equal(a, b));
	b->cmds[3].u.entries.term--;
	b->options.seed++;
	assert_false(rlog_sim_scn_equal(a, b));
	rlog_sim_scn_free(a);
	rlog_sim_scn_free(b);
	free(text);
	free(text2);
}

/* The canonical text drops defaults and uses ranges and suffixes. */
static void scn_format_is_canonical(void **state)
{
	(void)state;
	struct rlog_sim_script *s =
	    parse_ok("option device=safe_append,ordered_writes\n"
		     "option segment_size=65536\n"
		     "append 0003..3 term=01 size=32 kind=command\n"
		     "append 4..5 term=1 kind=noop size=0\n"
		     "fault short_write file=any after=0\n"
		     "expect error ECORRUPT\nreopen\n"
		     "expect error ECORRUPT\nsync\n"
		     "hardstate term=2 vote=1 vote_term=2 committed=0\n"
		     "bitflip x 5\n");
	char *text = format_script(s);
	assert_string_equal(text, "option segment_size=64k\n"
				  "option device=ordered_writes,safe_append\n"
				  "append 3 term=1\n"
				  "append 4..5 term=1 kind=noop\n"
				  "fault short_write\n"
				  "expect corrupt\nreopen\n"
				  "expect error ECORRUPT\nsync\n"
				  "hardstate term=2 vote=1 vote_term=2\n"
				  "bitflip x 5\n");
	rlog_sim_scn_free(s);
	free(text);
}

/* rlog_sim_cmd_format truncates like snprintf and reports the full size. */
static void scn_cmd_format_truncates_like_snprintf(void **state)
{
	(void)state;
	struct rlog_sim_cmd c =
	    parse_one("expect error EIO\nappend 1..2 term=3");
	char buf[64];
	size_t n = rlog_sim_cmd_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "expect error EIO\nappend 1..2 term=3\n");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(rlog_sim_cmd_format(&c, NULL, 0), n);
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(rlog_sim_cmd_format(&c, buf, 5), n);
	assert_string_equal(buf, "expe");
	assert_int_equal(buf[5], 'z');
	assert_int_equal(rlog_sim_cmd_format(&c, buf, 1), n);
	assert_string_equal(buf, "");
}

/* The longest command of every shape fits the documented text cap. */
static void scn_longest_commands_fit_text_cap(void **state)
{
	(void)state;
	struct rlog_sim_script *s = parse_ok(
	    "expect error ENOTFOUND\n"
	    "append 18446744073709551614..18446744073709551615 "
	    "term=18446744073709551615 size=65535k kind=config\n"
	    "expect error ENOTFOUND\n"
	    "hardstate term=18446744073709551615 vote=4294967295 "
	    "vote_term=18446744073709551615 committed=1\n"
	    "fault short_write "
	    "file=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaa after=18446744073709551615\n"
	    "bitflip "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aa 18446744073709551615 bit=7\n");
	for (size_t i = 0; i < s->cmd_count; i++) {
		assert_true(rlog_sim_cmd_format(&s->cmds[i], NULL, 0) <=
			    RLOG_SIM_SCN_CMD_TEXT_BYTES_MAX);
	}
	char *text = format_script(s);
	struct rlog_sim_script *b = parse_ok(text);
	assert_true(rlog_sim_scn_equal(s, b));
	rlog_sim_scn_free(s);
	rlog_sim_scn_free(b);
	free(text);
}

/* Equality ignores line numbers but not expectations. */
static void scn_equal_ignores_lines_only(void **state)
{
	(void)state;
	struct rlog_sim_cmd a = parse_one("sync");
	struct rlog_sim_cmd b = parse_one("\n\n  sync");
	assert_int_not_equal(a.line, b.line);
	assert_true(rlog_sim_cmd_equal(&a, &b));
	b = parse_one("expect error OK\nsync");
	assert_false(rlog_sim_cmd_equal(&a, &b));
	a = parse_one("expect error EIO\nsync");
	assert_false(rlog_sim_cmd_equal(&a, &b));
	a = parse_one("bitflip foo 1");
	b = parse_one("bitflip fop 1");
	assert_false(rlog_sim_cmd_equal(&a, &b));
}

/* Names exist for every kind, fault and code, and "?" outside them. */
static void scn_names_cover_every_value(void **state)
{
	(void)state;
	for (int k = RLOG_SIM_CMD_OPEN; k < RLOG_SIM_CMD_KIND_END; k++) {
		const char *name = rlog_sim_cmd_name((enum rlog_sim_cmd_kind)k);
		assert_string_not_equal(name, "?");
	}
	assert_string_equal(rlog_sim_cmd_name(RLOG_SIM_CMD_KIND_END), "?");
	assert_string_equal(rlog_sim_cmd_name((enum rlog_sim_cmd_kind)0), "?");
	assert_string_equal(rlog_sim_cmd_name(RLOG_SIM_CMD_EXPECT_PURGED),
			    "expect purged");
	assert_string_equal(rlog_sim_scn_fault_name(RLOG_SIM_SCN_FAULT_COUNT),
			    "?");
	assert_string_equal(
	    rlog_sim_scn_fault_name(RLOG_SIM_SCN_FAULT_LOSE_DIROP),
	    "lose_dirop");
	assert_string_equal(rlog_sim_scn_code_name(-42), "?");
	assert_string_equal(rlog_sim_scn_code_name(RLOG_EVERSION), "EVERSION");
}

/* ---- Files and memory. ---- */

/* Write len bytes of text to dir/name and return the path in path. */
static void write_file(char *path, size_t path_len, const char *dir,
		       const char *name, const char *text, size_t len)
{
	snprintf(path, path_len, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* parse_file reads a script and reports errors under its path. */
static void scn_parse_file_reads_and_names_errors(void **state)
{
	(void)state;
	char dir[512];
	char path[1024];
	char err[ERR_BYTES];
	char want[1200];
	struct rlog_sim_script *s = NULL;
	tl_mkdtemp(dir, sizeof(dir), "scn");
	write_file(path, sizeof(path), dir, "ok.scn", every_command,
		   strlen(every_command));
	assert_int_equal(rlog_sim_scn_parse_file(path, &s, err, sizeof(err)),
			 0);
	struct rlog_sim_script *t = parse_ok(every_command);
	assert_true(rlog_sim_scn_equal(s, t));
	rlog_sim_scn_free(s);
	rlog_sim_scn_free(t);
	write_file(path, sizeof(path), dir, "bad.scn", "open\nsnyc\n", 10);
	assert_int_equal(rlog_sim_scn_parse_file(path, &s, err, sizeof(err)),
			 RLOG_EINVAL);
	snprintf(want, sizeof(want), "%s:2:1: error: unknown command 'snyc'",
		 path);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	snprintf(path, sizeof(path), "%s/missing.scn", dir);
	assert_int_equal(rlog_sim_scn_parse_file(path, &s, err, sizeof(err)),
			 RLOG_ENOTFOUND);
	assert_null(s);
	snprintf(want, sizeof(want), "%s: error: cannot open: ", path);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	assert_int_equal(rlog_sim_scn_parse_file(dir, &s, err, sizeof(err)),
			 RLOG_EIO);
	snprintf(want, sizeof(want), "%s: error: cannot ", dir);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	snprintf(path, sizeof(path), "%s/big.scn", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(
	    ftruncate(fileno(f), (off_t)RLOG_SIM_SCN_TEXT_BYTES_MAX + 1), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rlog_sim_scn_parse_file(path, &s, err, sizeof(err)),
			 RLOG_EINVAL);
	snprintf(want, sizeof(want),
		 "%s: error: file is larger than 67108864 bytes", path);
	assert_string_equal(err, want);
	tl_rmtree(dir);
}

/* An allocator that fails once its budget of calls is spent. */
struct budget {
	int calls_left;
	int live;
};

static void *budget_malloc(void *ctx, size_t size)
{
	struct budget *b = ctx;
	if (b->calls_left-- <= 0) {
		return NULL;
	}
	b->live++;
	return malloc(size);
}

static void *budget_realloc(void *ctx, void *ptr, size_t size)
{
	struct budget *b = ctx;
	if (b->calls_left-- <= 0) {
		return NULL;
	}
	if (ptr == NULL) {
		b->live++;
	}
	return realloc(ptr, size);
}

static void budget_free(void *ctx, void *ptr)
{
	struct budget *b = ctx;
	if (ptr != NULL) {
		b->live--;
	}
	free(ptr);
}

/* Failing the Nth allocation gives ENOMEM and frees everything, for every
 * N until parsing succeeds. */
static void scn_alloc_failure_returns_enomem(void **state)
{
	(void)state;
	char text[300 * 5 + 1];
	for (size_t i = 0; i < 300; i++) {
		memcpy(text + i * 5, "sync\n", 5);
	}
	text[sizeof(text) - 1] = '\0';
	bool done = false;
	for (int n = 0; n < 32 && !done; n++) {
		struct budget b = {n, 0};
		struct rlog_allocator a = {&b, budget_malloc, budget_realloc,
					   budget_free};
		struct rlog_sim_script *s = NULL;
		char err[ERR_BYTES];
		int rc = rlog_sim_scn_parse_alloc("t.scn", text, strlen(text),
						  &a, &s, err, sizeof(err));
		if (rc == 0) {
			assert_int_equal(s->cmd_count, 300);
			rlog_sim_scn_free(s);
			done = true;
		} else {
			assert_int_equal(rc, RLOG_ENOMEM);
			assert_null(s);
			assert_string_equal(err, "t.scn: error: out of memory");
		}
		assert_int_equal(b.live, 0);
		assert_true(n >= 4 || !done);
	}
	assert_true(done);
}

/* ---- Garbage. ---- */

/* Words of the language, glued at random into near-valid inputs. */
static const char *const garbage_words[] = {
    "open",
    "close",
    "reopen",
    "append",
    "sync",
    "truncate",
    "replace",
    "purge",
    "reset",
    "hardstate",
    "crash",
    "fault",
    "bitflip",
    "expect",
    "check",
    "option",
    "error",
    "corrupt",
    "entry",
    "missing",
    "last_index",
    "first_index",
    "purged",
    "none",
    "any",
    "last",
    "meta",
    "term=",
    "size=",
    "kind=",
    "vote=",
    "vote_term=",
    "committed=",
    "file=",
    "after=",
    "bit=",
    "seed=",
    "device=ordered_writes,atomic_sectors",
    "device=random",
    "fsync_eio",
    "enospc",
    "EIO",
    "OK",
    "noop",
    "config",
    "1",
    "2..5",
    "0",
    "18446744073709551616",
    "..",
    "=",
    "k",
    "m",
    ",",
    "#",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\n",
    "\n",
};

/* 20000 seeded inputs of random bytes and words parse or fail cleanly. */
static void scn_random_inputs_parse_or_fail_with_name(void **state)
{
	(void)state;
	uint64_t x = 0x9E3779B97F4A7C15ull;
	char buf[512];
	size_t words = sizeof(garbage_words) / sizeof(garbage_words[0]);
	size_t parsed = 0;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 0;
		size_t target = (size_t)(xorshift(&x) % 200u);
		bool bytes = (iter % 4) == 0;
		while (len < target) {
			uint64_t r = xorshift(&x);
			if (bytes || r % 8u == 0) {
				buf[len++] = (char)(r >> 32);
				continue;
			}
			const char *w = garbage_words[(r >> 8) % words];
			size_t n = strlen(w);
			if (len + n > sizeof(buf)) {
				break;
			}
			memcpy(buf + len, w, n);
			len += n;
		}
		struct rlog_sim_script *s = NULL;
		if (rlog_sim_scn_parse("p", buf, len, &s, NULL, 0) == 0) {
			parsed++;
			rlog_sim_scn_free(s);
		}
		check_total(buf, len);
	}
	/* The generator must reach the accepting paths too. */
	assert_true(parsed > 100);
}

/* 20000 seeded mutations of the full script parse or fail cleanly. */
static void scn_mutated_script_parse_or_fail_with_name(void **state)
{
	(void)state;
	uint64_t x = 0xD1B54A32D192ED03ull;
	size_t base = strlen(every_command);
	char *buf = malloc(base * 2 + 64);
	assert_non_null(buf);
	size_t parsed = 0;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = base;
		memcpy(buf, every_command, base);
		int edits = 1 + (int)(xorshift(&x) % 4u);
		for (int e = 0; e < edits && len > 0; e++) {
			uint64_t r = xorshift(&x);
			size_t at = (size_t)((r >> 16) % len);
			size_t span = 1 + (size_t)((r >> 40) % 16u);
			span = span > len - at ? len - at : span;
			switch (r % 5u) {
			case 0: /* replace a byte */
				buf[at] = (char)(r >> 24);
				break;
			case 1: /* delete a span */
				memmove(buf + at, buf + at + span,
					len - at - span);
				len -= span;
				break;
			case 2: /* duplicate a span */
				if (len + span <= base * 2) {
					memmove(buf + at + span, buf + at,
						len - at);
					len += span;
				}
				break;
			case 3: /* flip one bit */
				buf[at] =
				    (char)(buf[at] ^ (1 << (r >> 60 & 7)));
				break;
			default: /* cut the tail */
				len = at;
				break;
			}
		}
		struct rlog_sim_script *s = NULL;
		if (rlog_sim_scn_parse("p", buf, len, &s, NULL, 0) == 0) {
			parsed++;
			rlog_sim_scn_free(s);
		}
		check_total(buf, len);
	}
	assert_true(parsed > 100);
	free(buf);
}

/* 10 MB of garbage, one huge line, and 10 MB of comments all end quickly. */
static void scn_ten_megabytes_end_in_bounded_time(void **state)
{
	(void)state;
	size_t len = 10u * 1024u * 1024u;
	char *buf = malloc(len);
	assert_non_null(buf);
	uint64_t x = 42;
	for (size_t i = 0; i < len; i++) {
		buf[i] = (char)xorshift(&x);
	}
	check_total(buf, len);
	memset(buf, 'a', len);
	struct rlog_sim_script *s = NULL;
	char err[ERR_BYTES];
	assert_int_equal(
	    rlog_sim_scn_parse("big", buf, len, &s, err, sizeof(err)),
	    RLOG_EINVAL);
	assert_true(strncmp(err, "big:1:4097: error: line is longer", 33) == 0);
	for (size_t i = 0; i < len; i++) {
		buf[i] = (i % 64u == 63u) ? '\n' : (i % 64u == 0 ? '#' : 'c');
	}
	assert_int_equal(
	    rlog_sim_scn_parse("big", buf, len, &s, err, sizeof(err)), 0);
	assert_int_equal(s->cmd_count, 0);
	rlog_sim_scn_free(s);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scn_bare_commands_parse_to_kinds),
	    cmocka_unit_test(scn_append_range_with_keys_fills_fields),
	    cmocka_unit_test(scn_append_single_index_uses_defaults),
	    cmocka_unit_test(scn_keys_in_any_order_parse_alike),
	    cmocka_unit_test(scn_size_at_limits_parses),
	    cmocka_unit_test(scn_index_commands_fill_index),
	    cmocka_unit_test(scn_log_id_commands_fill_index_and_term),
	    cmocka_unit_test(scn_hardstate_term_only_has_no_vote),
	    cmocka_unit_test(scn_hardstate_with_vote_fills_fields),
	    cmocka_unit_test(scn_expect_hardstate_none_sets_none),
	    cmocka_unit_test(scn_fault_every_kind_parses),
	    cmocka_unit_test(scn_fault_file_and_after_fill_fields),
	    cmocka_unit_test(scn_bitflip_targets_fill_fields),
	    cmocka_unit_test(scn_expect_error_attaches_every_code),
	    cmocka_unit_test(scn_expect_error_skips_comments_and_blanks),
	    cmocka_unit_test(scn_expect_corrupt_attaches_to_open),
	    cmocka_unit_test(scn_options_fill_fields_and_bits),
	    cmocka_unit_test(scn_options_absent_give_defaults),
	    cmocka_unit_test(scn_device_values_parse),
	    cmocka_unit_test(scn_bytes_suffixes_scale),
	    cmocka_unit_test(scn_comments_and_blank_lines_are_ignored),
	    cmocka_unit_test(scn_empty_text_gives_empty_script),
	    cmocka_unit_test(scn_unknown_command_lists_commands),
	    cmocka_unit_test(scn_missing_argument_points_past_line),
	    cmocka_unit_test(scn_bad_number_points_at_value),
	    cmocka_unit_test(scn_overflow_is_rejected),
	    cmocka_unit_test(scn_bad_range_is_rejected),
	    cmocka_unit_test(scn_unknown_option_lists_names),
	    cmocka_unit_test(scn_unknown_fault_kind_lists_kinds),
	    cmocka_unit_test(scn_trailing_junk_points_at_token),
	    cmocka_unit_test(scn_overlong_line_is_rejected),
	    cmocka_unit_test(scn_invalid_byte_points_at_byte),
	    cmocka_unit_test(scn_bad_file_name_is_rejected),
	    cmocka_unit_test(scn_bad_size_is_rejected),
	    cmocka_unit_test(scn_misplaced_expect_error_is_rejected),
	    cmocka_unit_test(scn_too_many_commands_is_rejected),
	    cmocka_unit_test(scn_text_over_cap_is_rejected),
	    cmocka_unit_test(scn_small_error_buffer_truncates),
	    cmocka_unit_test(scn_round_trip_every_command_is_equal),
	    cmocka_unit_test(scn_format_is_canonical),
	    cmocka_unit_test(scn_cmd_format_truncates_like_snprintf),
	    cmocka_unit_test(scn_longest_commands_fit_text_cap),
	    cmocka_unit_test(scn_equal_ignores_lines_only),
	    cmocka_unit_test(scn_names_cover_every_value),
	    cmocka_unit_test(scn_parse_file_reads_and_names_errors),
	    cmocka_unit_test(scn_alloc_failure_returns_enomem),
	    cmocka_unit_test(scn_random_inputs_parse_or_fail_with_name),
	    cmocka_unit_test(scn_mutated_script_parse_or_fail_with_name),
	    cmocka_unit_test(scn_ten_megabytes_end_in_bounded_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
