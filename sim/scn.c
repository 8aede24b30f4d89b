/*
 * sim/scn.c: the scenario language: parser, printer and comparator.
 *
 * This module owns the text form of scenarios (docs/SCENARIOS.md) and
 * nothing else: it turns bytes into a struct rlog_sim_script and a script
 * back into canonical text. It never runs a command.
 *
 * Invariants:
 *   - every input gives a script or exactly one error message;
 *   - every loop is bounded by the input length or a named cap, and nothing
 *     recurses, so parsing is linear in the input;
 *   - memory stays under RLOG_SIM_SCN_CMDS_MAX commands plus one script;
 *   - every command in a returned script is valid, so the printer can print
 *     it and the parser accepts what the printer writes (the round trip).
 */
#include "scn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most tokens kept per line; no command takes more than 6, so a line with
 * more always fails on an unexpected token before this cap matters. */
#define SCN_TOKENS_MAX 16u
/* Bytes looked at to find a line end: the longest line, a '\r', a '\n'. */
#define SCN_LINE_SCAN_BYTES (RLOG_SIM_SCN_LINE_BYTES_MAX + 2u)
/* Longest piece of a token quoted in a message, and its buffer size. */
#define SCN_QUOTE_SHOWN_BYTES 40u
#define SCN_QUOTE_BYTES (SCN_QUOTE_SHOWN_BYTES + 4u)
/* Buffer for the MESSAGE part of an error. */
#define SCN_MSG_BYTES 256u
/* Buffer for one printf piece of the printer. */
#define SCN_PIECE_BYTES 160u
/* First size of the command array, and of the parse_file read buffer. */
#define SCN_CMDS_INITIAL 64u
#define SCN_FILE_CHUNK_BYTES (64u * 1024u)
#define SCN_KIB ((uint64_t)1024u)
#define SCN_MIB ((uint64_t)1024u * 1024u)
/* Option bits are below 1 << SCN_OPT_BITS. */
#define SCN_OPT_BITS 16u

#define SCN_ASSERT(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			scn_assert_fail(#cond, __LINE__);                      \
		}                                                              \
	} while (0)

_Static_assert(RLOG_SIM_SCN_OPT_FAULT_RATE(RLOG_SIM_SCN_FAULT_COUNT) <=
		   (1u << SCN_OPT_BITS),
	       "option bits fit in the per-option line table");
_Static_assert(RLOG_SIM_SCN_LINE_BYTES_MAX < UINT32_MAX / 2u,
	       "columns fit in uint32_t");
_Static_assert(RLOG_SIM_SCN_TEXT_BYTES_MAX < UINT32_MAX,
	       "line numbers fit in uint32_t");

/* ---- Forms: the syntax quoted after "expected:". ---- */

#define SCN_FORM_COMMAND                                                       \
	"a command: option, open, close, reopen, append, sync, truncate, "     \
	"replace, purge, reset, hardstate, crash, fault, bitflip, expect, "    \
	"check"
#define SCN_FORM_BYTES                                                         \
	"printable ASCII, spaces and tabs (any bytes may follow '#')"
#define SCN_FORM_LINE "a line of at most 4096 bytes"
#define SCN_FORM_TEXT "a script of at most 67108864 bytes"
#define SCN_FORM_CMDS "at most 100000 commands in one script"
#define SCN_FORM_OPTION_NAMES                                                  \
	"option NAME=VALUE with NAME one of seed, segment_size, sector_size, " \
	"disk_size, device, entry_size_max, preallocate, verify_on_open, "     \
	"fault_rate_fsync_eio, "                                               \
	"fault_rate_read_eio, fault_rate_write_eio, fault_rate_enospc, "       \
	"fault_rate_short_write, fault_rate_dirsync_eio, "                     \
	"fault_rate_lose_dirop"
#define SCN_FORM_OPTION_FIRST "option lines before the first command"
#define SCN_FORM_KIND "[kind=noop|command|config|none]"
#define SCN_FORM_VOTE "[vote=ID vote_term=T [committed=0|1]]"
#define SCN_FORM_FAULT                                                         \
	"fault fsync_eio|read_eio|write_eio|enospc|short_write|dirsync_eio|"   \
	"lose_dirop [file=NAME|any|last|meta] [after=N]"
#define SCN_FORM_EXPECT                                                        \
	"expect last_index N | first_index N | entry I term=T | missing I | "  \
	"hardstate term=T " SCN_FORM_VOTE " | hardstate none | "               \
	"purged I term=T | error CODE | corrupt"
#define SCN_FORM_EXPECT_ERROR                                                  \
	"expect error OK|EINVAL|ENOMEM|EIO|ENOSPC|ECORRUPT|ENOTFOUND|EFATAL|"  \
	"EBUSY|EVERSION"
#define SCN_FORM_EXPECT_ERROR_NEXT                                             \
	"expect error CODE, then one of open, close, reopen, append, sync, "   \
	"truncate, replace, purge, reset, hardstate, expect entry"
#define SCN_FORM_EXPECT_CORRUPT "expect corrupt"
#define SCN_FORM_EXPECT_CORRUPT_NEXT "expect corrupt, then open or reopen"

/* ---- Tables. ---- */

static const char *const scn_fault_names[RLOG_SIM_SCN_FAULT_COUNT] = {
    "fsync_eio",   "read_eio",	  "write_eio",	"enospc",
    "short_write", "dirsync_eio", "lose_dirop",
};

struct scn_code {
	const char *name;
	int code;
};

static const struct scn_code scn_codes[] = {
    {"OK", RLOG_OK},
    {"EINVAL", RLOG_EINVAL},
    {"ENOMEM", RLOG_ENOMEM},
    {"EIO", RLOG_EIO},
    {"ENOSPC", RLOG_ENOSPC},
    {"ECORRUPT", RLOG_ECORRUPT},
    {"ENOTFOUND", RLOG_ENOTFOUND},
    {"EFATAL", RLOG_EFATAL},
    {"EBUSY", RLOG_EBUSY},
    {"EVERSION", RLOG_EVERSION},
};

/* Payload kind names, indexed by enum rlog_payload_kind. */
static const char *const scn_payload_names[] = {"none", "noop", "command",
						"config"};

/* Fate names, indexed by enum rlog_sim_scn_fate. */
static const char *const scn_fate_names[] = {"random", "ordered_writes",
					     "lose_unsynced", "keep_unsynced"};

/* The device= words that are not fates. */
#define SCN_DEVICE_ATOMIC_SECTORS "atomic_sectors"
#define SCN_DEVICE_SAFE_APPEND "safe_append"

/* Command names, indexed by enum rlog_sim_cmd_kind. */
static const char *const scn_cmd_names[RLOG_SIM_CMD_KIND_END] = {
    [RLOG_SIM_CMD_OPEN] = "open",
    [RLOG_SIM_CMD_CLOSE] = "close",
    [RLOG_SIM_CMD_REOPEN] = "reopen",
    [RLOG_SIM_CMD_APPEND] = "append",
    [RLOG_SIM_CMD_SYNC] = "sync",
    [RLOG_SIM_CMD_TRUNCATE] = "truncate",
    [RLOG_SIM_CMD_REPLACE] = "replace",
    [RLOG_SIM_CMD_PURGE] = "purge",
    [RLOG_SIM_CMD_RESET] = "reset",
    [RLOG_SIM_CMD_HARDSTATE] = "hardstate",
    [RLOG_SIM_CMD_CRASH] = "crash",
    [RLOG_SIM_CMD_FAULT] = "fault",
    [RLOG_SIM_CMD_BITFLIP] = "bitflip",
    [RLOG_SIM_CMD_EXPECT_LAST_INDEX] = "expect last_index",
    [RLOG_SIM_CMD_EXPECT_FIRST_INDEX] = "expect first_index",
    [RLOG_SIM_CMD_EXPECT_ENTRY] = "expect entry",
    [RLOG_SIM_CMD_EXPECT_MISSING] = "expect missing",
    [RLOG_SIM_CMD_EXPECT_HARDSTATE] = "expect hardstate",
    [RLOG_SIM_CMD_EXPECT_PURGED] = "expect purged",
    [RLOG_SIM_CMD_CHECK] = "check",
};

/* ---- Parser state. ---- */

/* One token: a run of printable non-space bytes of the current line. */
struct scn_tok {
	const char *text;
	uint32_t len;
	uint32_t col; /* 1-based column of text[0] */
};

struct scn_parser {
	const char *name; /* for messages */
	char *err;
	size_t err_len;
	struct rlog_sim_script *script;
	size_t cmd_cap; /* commands script->cmds has room for */
	uint32_t line;	/* current line, 1-based */
	struct scn_tok toks[SCN_TOKENS_MAX];
	uint32_t tok_count;
	uint32_t eol_col; /* the column just after the last token */
	const char *form; /* what the current line should look like */
	char form_buf[SCN_PIECE_BYTES];
	bool cmd_seen;	    /* a command line came already */
	uint32_t fate_line; /* line that gave a crash fate; 0 when none */
	uint32_t opt_line[SCN_OPT_BITS]; /* line that set each option bit */
	/* An expect error / expect corrupt line waiting for its command. */
	bool pend_set;
	bool pend_corrupt;
	int pend_code;
	uint32_t pend_line;
	uint32_t pend_col;
};

struct scn_key {
	const char *name; /* the key as written before '=' */
	bool present;
	struct scn_tok key; /* the whole NAME=VALUE token */
	struct scn_tok val; /* VALUE */
};

typedef int (*scn_parse_fn)(struct scn_parser *p, struct rlog_sim_cmd *cmd,
			    uint32_t arg);

/* How to parse one command: its keyword, form and argument parser. */
struct scn_spec {
	const char *word; /* keyword after "expect " for expectations */
	enum rlog_sim_cmd_kind kind;
	const char *form;
	scn_parse_fn parse;
};

_Noreturn static void scn_assert_fail(const char *cond, int line)
{
	fprintf(stderr, "sim/scn.c:%d: assertion failed: %s\n", line, cond);
	abort();
}

/* ---- Small helpers. ---- */

static bool scn_tok_is(const struct scn_tok *t, const char *word)
{
	size_t n = strlen(word);
	return t->len == n && memcmp(t->text, word, n) == 0;
}

/* A token's bytes, cut to SCN_QUOTE_SHOWN_BYTES, as a C string in buf.
 * Tokens hold printable ASCII only (scn_lex checks), so buf prints safely. */
static const char *scn_quote(const struct scn_tok *t, char *buf, size_t len)
{
	SCN_ASSERT(len >= SCN_QUOTE_BYTES);
	if (t->len > SCN_QUOTE_SHOWN_BYTES) {
		memcpy(buf, t->text, SCN_QUOTE_SHOWN_BYTES);
		memcpy(buf + SCN_QUOTE_SHOWN_BYTES, "...", 4);
	} else {
		memcpy(buf, t->text, t->len);
		buf[t->len] = '\0';
	}
	return buf;
}

/* The sub-token of t from byte off on, len bytes. */
static struct scn_tok scn_sub(const struct scn_tok *t, uint32_t off,
			      uint32_t len)
{
	SCN_ASSERT(off <= t->len);
	SCN_ASSERT(len <= t->len - off);
	struct scn_tok s = {t->text + off, len, t->col + off};
	return s;
}

/* Canonical text of a byte count: "64m", "4k" or plain digits. */
static const char *scn_bytes_text(uint64_t v, char *buf, size_t len)
{
	if (v != 0 && v % SCN_MIB == 0) {
		(void)snprintf(buf, len, "%" PRIu64 "m", v / SCN_MIB);
	} else if (v != 0 && v % SCN_KIB == 0) {
		(void)snprintf(buf, len, "%" PRIu64 "k", v / SCN_KIB);
	} else {
		(void)snprintf(buf, len, "%" PRIu64, v);
	}
	return buf;
}

/* ---- Errors. ---- */

/* Write "NAME:LINE:COL: error: MSG; expected: FORM" and return EINVAL. */
__attribute__((format(printf, 3, 4))) static int
scn_error(struct scn_parser *p, uint32_t col, const char *fmt, ...)
{
	char msg[SCN_MSG_BYTES];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	SCN_ASSERT(p->form != NULL);
	if (p->err != NULL && p->err_len > 0) {
		(void)snprintf(p->err, p->err_len,
			       "%s:%" PRIu32 ":%" PRIu32
			       ": error: %s; expected: %s",
			       p->name, p->line, col, msg, p->form);
	}
	return RLOG_EINVAL;
}

/* Write "NAME: error: MSG" into err and return code. */
__attribute__((format(printf, 5, 6))) static int
scn_error_plain(const char *name, char *err, size_t err_len, int code,
		const char *fmt, ...)
{
	char msg[SCN_MSG_BYTES];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err != NULL && err_len > 0) {
		(void)snprintf(err, err_len, "%s: error: %s", name, msg);
	}
	return code;
}

/* ---- Values. ---- */

/* Parse the leading decimal digits of t into *out; *used gets their count.
 * The first byte must be a digit; the value must fit in 64 bits. */
static int scn_digits(struct scn_parser *p, const struct scn_tok *t,
		      const char *what, uint64_t *out, uint32_t *used)
{
	char q[SCN_QUOTE_BYTES];
	uint64_t v = 0;
	uint32_t i = 0;
	if (t->len == 0) {
		return scn_error(p, t->col, "missing %s", what);
	}
	if (t->text[0] < '0' || t->text[0] > '9') {
		return scn_error(p, t->col, "%s '%s' is not a decimal number",
				 what, scn_quote(t, q, sizeof(q)));
	}
	while (i < t->len && t->text[i] >= '0' && t->text[i] <= '9') {
		uint64_t d = (uint64_t)(t->text[i] - '0');
		if (v > (UINT64_MAX - d) / 10u) {
			return scn_error(p, t->col,
					 "%s '%s' does not fit in 64 bits (the "
					 "largest is %" PRIu64 ")",
					 what, scn_quote(t, q, sizeof(q)),
					 UINT64_MAX);
		}
		v = v * 10u + d;
		i++;
	}
	*out = v;
	*used = i;
	return 0;
}

/* Report bytes of t from used on as junk after the number. */
static int scn_junk(struct scn_parser *p, const struct scn_tok *t,
		    uint32_t used, const char *what)
{
	char q[SCN_QUOTE_BYTES];
	struct scn_tok rest = scn_sub(t, used, t->len - used);
	return scn_error(p, rest.col, "%s: unexpected '%s' after the number",
			 what, scn_quote(&rest, q, sizeof(q)));
}

/* Parse all of t as a decimal u64. */
static int scn_u64(struct scn_parser *p, const struct scn_tok *t,
		   const char *what, uint64_t *out)
{
	uint32_t used = 0;
	int rc = scn_digits(p, t, what, out, &used);
	if (rc != 0) {
		return rc;
	}
	if (used < t->len) {
		return scn_junk(p, t, used, what);
	}
	return 0;
}

/* Parse all of t as a decimal u64 of at most max. */
static int scn_u64_max(struct scn_parser *p, const struct scn_tok *t,
		       const char *what, uint64_t max, uint64_t *out)
{
	char q[SCN_QUOTE_BYTES];
	int rc = scn_u64(p, t, what, out);
	if (rc != 0) {
		return rc;
	}
	if (*out > max) {
		return scn_error(p, t->col, "%s '%s' is larger than %" PRIu64,
				 what, scn_quote(t, q, sizeof(q)), max);
	}
	return 0;
}

/* Parse t as BYTES: digits with an optional k or m suffix (KiB, MiB), at
 * most max bytes. */
static int scn_bytes(struct scn_parser *p, const struct scn_tok *t,
		     const char *what, uint64_t max, uint64_t *out)
{
	char q[SCN_QUOTE_BYTES];
	char lim[32];
	uint64_t v = 0;
	uint64_t unit = 1;
	uint32_t used = 0;
	int rc = scn_digits(p, t, what, &v, &used);
	if (rc != 0) {
		return rc;
	}
	if (used < t->len) {
		char c = t->text[used];
		if (c == 'k' || c == 'K') {
			unit = SCN_KIB;
			used++;
		} else if (c == 'm' || c == 'M') {
			unit = SCN_MIB;
			used++;
		}
	}
	if (used < t->len) {
		return scn_junk(p, t, used, what);
	}
	if (v > max / unit) {
		return scn_error(p, t->col, "%s '%s' is larger than %s", what,
				 scn_quote(t, q, sizeof(q)),
				 scn_bytes_text(max, lim, sizeof(lim)));
	}
	*out = v * unit;
	return 0;
}

/* Parse t as "FIRST..LAST" or a single index "I" (FIRST = LAST = I). */
static int scn_range(struct scn_parser *p, const struct scn_tok *t,
		     uint64_t *first, uint64_t *last)
{
	char q[SCN_QUOTE_BYTES];
	uint32_t dots = 0;
	while (dots + 1 < t->len &&
	       !(t->text[dots] == '.' && t->text[dots + 1] == '.')) {
		dots++;
	}
	if (dots + 1 >= t->len) {
		int rc = scn_u64(p, t, "index", first);
		*last = *first;
		return rc;
	}
	struct scn_tok a = scn_sub(t, 0, dots);
	struct scn_tok b = scn_sub(t, dots + 2, t->len - dots - 2);
	if (a.len == 0) {
		return scn_error(p, t->col, "missing FIRST before '..'");
	}
	if (b.len == 0) {
		return scn_error(p, b.col, "missing LAST after '..'");
	}
	int rc = scn_u64(p, &a, "FIRST", first);
	if (rc == 0) {
		rc = scn_u64(p, &b, "LAST", last);
	}
	if (rc != 0) {
		return rc;
	}
	if (*first > *last) {
		return scn_error(p, t->col,
				 "range '%s' is empty: FIRST must not exceed "
				 "LAST",
				 scn_quote(t, q, sizeof(q)));
	}
	if (*last - *first >= RLOG_BATCH_ENTRIES_MAX) {
		return scn_error(p, t->col,
				 "range '%s' holds more than %u entries, the "
				 "most one command may carry",
				 scn_quote(t, q, sizeof(q)),
				 RLOG_BATCH_ENTRIES_MAX);
	}
	return 0;
}

/* Parse t as a file target: any, last, meta or a bare file name. */
static int scn_file(struct scn_parser *p, const struct scn_tok *t,
		    struct rlog_sim_scn_file *out)
{
	char q[SCN_QUOTE_BYTES];
	memset(out, 0, sizeof(*out));
	if (scn_tok_is(t, "any")) {
		out->sel = RLOG_SIM_SCN_FILE_ANY;
		return 0;
	}
	if (scn_tok_is(t, "last")) {
		out->sel = RLOG_SIM_SCN_FILE_LAST;
		return 0;
	}
	if (scn_tok_is(t, "meta")) {
		out->sel = RLOG_SIM_SCN_FILE_META;
		return 0;
	}
	if (t->len > RLOG_VFS_NAME_MAX) {
		return scn_error(p, t->col,
				 "file name '%s' is longer than %u bytes",
				 scn_quote(t, q, sizeof(q)), RLOG_VFS_NAME_MAX);
	}
	if (scn_tok_is(t, ".") || scn_tok_is(t, "..")) {
		return scn_error(p, t->col, "'%s' is not a file name",
				 scn_quote(t, q, sizeof(q)));
	}
	for (uint32_t i = 0; i < t->len; i++) {
		char c = t->text[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			  c == '-';
		if (!ok) {
			return scn_error(p, t->col + i,
					 "file name '%s' holds '%c'; names use "
					 "A-Z a-z 0-9 . _ -",
					 scn_quote(t, q, sizeof(q)), c);
		}
	}
	out->sel = RLOG_SIM_SCN_FILE_NAME;
	memcpy(out->name, t->text, t->len);
	out->name[t->len] = '\0';
	return 0;
}

static int scn_payload_kind(struct scn_parser *p, const struct scn_tok *t,
			    enum rlog_payload_kind *out)
{
	char q[SCN_QUOTE_BYTES];
	for (size_t i = 0; i < sizeof(scn_payload_names) / sizeof(char *);
	     i++) {
		if (scn_tok_is(t, scn_payload_names[i])) {
			*out = (enum rlog_payload_kind)i;
			return 0;
		}
	}
	return scn_error(p, t->col, "unknown kind '%s'",
			 scn_quote(t, q, sizeof(q)));
}

/* ---- Tokens and keys of the current line. ---- */

/* Token arg of the line as a positional argument named what. */
static int scn_arg(struct scn_parser *p, uint32_t arg, const char *what,
		   const struct scn_tok **out)
{
	char q[SCN_QUOTE_BYTES];
	if (arg >= p->tok_count) {
		return scn_error(p, p->eol_col, "missing %s", what);
	}
	const struct scn_tok *t = &p->toks[arg];
	if (memchr(t->text, '=', t->len) != NULL) {
		return scn_error(p, t->col, "missing %s before '%s'", what,
				 scn_quote(t, q, sizeof(q)));
	}
	*out = t;
	return 0;
}

/* Fail on the first token from arg on, if any. */
static int scn_end(struct scn_parser *p, uint32_t arg)
{
	char q[SCN_QUOTE_BYTES];
	if (arg < p->tok_count) {
		const struct scn_tok *t = &p->toks[arg];
		return scn_error(p, t->col, "unexpected '%s'",
				 scn_quote(t, q, sizeof(q)));
	}
	return 0;
}

/* Match every token from arg on against keys[] (NAME=VALUE, each at most
 * once); who names the command in messages. */
static int scn_keys(struct scn_parser *p, uint32_t arg, struct scn_key *keys,
		    size_t key_count, const char *who)
{
	char q[SCN_QUOTE_BYTES];
	for (uint32_t i = arg; i < p->tok_count; i++) {
		const struct scn_tok *t = &p->toks[i];
		const char *eq = memchr(t->text, '=', t->len);
		if (eq == NULL) {
			return scn_error(p, t->col, "unexpected '%s'",
					 scn_quote(t, q, sizeof(q)));
		}
		uint32_t key_len = (uint32_t)(eq - t->text);
		struct scn_tok name = scn_sub(t, 0, key_len);
		if (key_len == 0) {
			return scn_error(p, t->col,
					 "missing key name before '='");
		}
		struct scn_key *k = NULL;
		for (size_t j = 0; j < key_count && k == NULL; j++) {
			if (scn_tok_is(&name, keys[j].name)) {
				k = &keys[j];
			}
		}
		if (k == NULL) {
			return scn_error(p, t->col, "unknown key '%s' for %s",
					 scn_quote(&name, q, sizeof(q)), who);
		}
		if (k->present) {
			return scn_error(p, t->col, "%s= given twice", k->name);
		}
		k->present = true;
		k->key = *t;
		k->val = scn_sub(t, key_len + 1, t->len - key_len - 1);
		if (k->val.len == 0) {
			return scn_error(p, k->val.col,
					 "missing value after '%s='", k->name);
		}
	}
	return 0;
}

/* ---- Command argument parsers (one per argument shape). ---- */

static int scn_p_none(struct scn_parser *p, struct rlog_sim_cmd *cmd,
		      uint32_t arg)
{
	(void)cmd;
	return scn_end(p, arg);
}

/* FIRST..LAST term=T [size=N] [kind=K] of append and replace. */
static int scn_p_entries(struct scn_parser *p, struct rlog_sim_cmd *cmd,
			 uint32_t arg)
{
	struct rlog_sim_cmd_entries *e = &cmd->u.entries;
	struct scn_key keys[3] = {
	    {.name = "term"}, {.name = "size"}, {.name = "kind"}};
	const struct scn_tok *range = NULL;
	char lim[32];
	int rc = scn_arg(p, arg, "FIRST..LAST", &range);
	if (rc == 0) {
		rc = scn_range(p, range, &e->first_index, &e->last_index);
	}
	if (rc == 0) {
		rc =
		    scn_keys(p, arg + 1, keys, 3, rlog_sim_cmd_name(cmd->kind));
	}
	if (rc != 0) {
		return rc;
	}
	if (!keys[0].present) {
		return scn_error(p, p->eol_col, "missing term=T");
	}
	rc = scn_u64(p, &keys[0].val, "term", &e->term);
	e->kind = RLOG_PAYLOAD_COMMAND;
	if (rc == 0 && keys[2].present) {
		rc = scn_payload_kind(p, &keys[2].val, &e->kind);
	}
	if (rc != 0) {
		return rc;
	}
	bool carries =
	    e->kind == RLOG_PAYLOAD_COMMAND || e->kind == RLOG_PAYLOAD_CONFIG;
	e->size_bytes = carries ? RLOG_SIM_SCN_SIZE_DEFAULT_BYTES : 0;
	if (keys[1].present) {
		rc = scn_bytes(p, &keys[1].val, "size",
			       RLOG_ENTRY_SIZE_MAX_BYTES, &e->size_bytes);
		if (rc != 0) {
			return rc;
		}
		if (!carries && e->size_bytes != 0) {
			return scn_error(p, keys[1].val.col,
					 "kind=%s carries no payload, so size "
					 "must be 0",
					 scn_payload_names[e->kind]);
		}
	}
	/* The count is at most RLOG_BATCH_ENTRIES_MAX and the size at most
	 * RLOG_ENTRY_SIZE_MAX_BYTES, so the product fits in 64 bits. */
	uint64_t count = e->last_index - e->first_index + 1u;
	if (count * e->size_bytes > RLOG_BATCH_SIZE_MAX_BYTES) {
		return scn_error(p, range->col,
				 "%" PRIu64 " entries of %" PRIu64
				 " bytes exceed the batch limit of %s",
				 count, e->size_bytes,
				 scn_bytes_text(RLOG_BATCH_SIZE_MAX_BYTES, lim,
						sizeof(lim)));
	}
	return 0;
}

/* One index: truncate I, expect last_index N, first_index N, missing I. */
static int scn_p_index(struct scn_parser *p, struct rlog_sim_cmd *cmd,
		       uint32_t arg)
{
	const struct scn_tok *t = NULL;
	int rc = scn_arg(p, arg, "index", &t);
	if (rc == 0) {
		rc = scn_u64(p, t, "index", &cmd->u.index.index);
	}
	if (rc == 0) {
		rc = scn_end(p, arg + 1);
	}
	return rc;
}

/* I term=T: purge, expect entry, expect purged. */
static int scn_p_log_id(struct scn_parser *p, struct rlog_sim_cmd *cmd,
			uint32_t arg)
{
	struct scn_key keys[1] = {{.name = "term"}};
	const struct scn_tok *t = NULL;
	int rc = scn_arg(p, arg, "index", &t);
	if (rc == 0) {
		rc = scn_u64(p, t, "index", &cmd->u.log_id.index);
	}
	if (rc == 0) {
		rc =
		    scn_keys(p, arg + 1, keys, 1, rlog_sim_cmd_name(cmd->kind));
	}
	if (rc != 0) {
		return rc;
	}
	if (!keys[0].present) {
		return scn_error(p, p->eol_col, "missing term=T");
	}
	return scn_u64(p, &keys[0].val, "term", &cmd->u.log_id.term);
}

/* The vote=ID vote_term=T [committed=0|1] part of a hard state. */
static int scn_vote(struct scn_parser *p, const struct scn_key *keys,
		    struct rlog_hard_state *hs)
{
	char q[SCN_QUOTE_BYTES];
	const struct scn_key *vote = &keys[1];
	const struct scn_key *vote_term = &keys[2];
	const struct scn_key *committed = &keys[3];
	uint64_t id = 0;
	if (!vote->present) {
		if (vote_term->present) {
			return scn_error(p, vote_term->key.col,
					 "vote_term= needs vote=");
		}
		if (committed->present) {
			return scn_error(p, committed->key.col,
					 "committed= needs vote=");
		}
		return 0;
	}
	if (!vote_term->present) {
		return scn_error(p, vote->key.col, "vote= needs vote_term=");
	}
	int rc = scn_u64_max(p, &vote->val, "vote", UINT32_MAX, &id);
	if (rc == 0) {
		rc = scn_u64(p, &vote_term->val, "vote_term",
			     &hs->voted_for_term);
	}
	if (rc != 0) {
		return rc;
	}
	hs->has_vote = true;
	hs->voted_for_id = (uint32_t)id;
	if (committed->present) {
		if (!scn_tok_is(&committed->val, "0") &&
		    !scn_tok_is(&committed->val, "1")) {
			return scn_error(
			    p, committed->val.col,
			    "committed must be 0 or 1, not '%s'",
			    scn_quote(&committed->val, q, sizeof(q)));
		}
		hs->committed = committed->val.text[0] == '1';
	}
	return 0;
}

/* term=T [vote=ID vote_term=T [committed=0|1]], or none for expect. */
static int scn_p_hard_state(struct scn_parser *p, struct rlog_sim_cmd *cmd,
			    uint32_t arg)
{
	struct rlog_sim_cmd_hard_state *h = &cmd->u.hard_state;
	struct scn_key keys[4] = {{.name = "term"},
				  {.name = "vote"},
				  {.name = "vote_term"},
				  {.name = "committed"}};
	if (cmd->kind == RLOG_SIM_CMD_EXPECT_HARDSTATE && arg < p->tok_count &&
	    scn_tok_is(&p->toks[arg], "none")) {
		h->none = true;
		return scn_end(p, arg + 1);
	}
	int rc = scn_keys(p, arg, keys, 4, rlog_sim_cmd_name(cmd->kind));
	if (rc != 0) {
		return rc;
	}
	if (!keys[0].present) {
		return scn_error(p, p->eol_col, "missing term=T");
	}
	rc = scn_u64(p, &keys[0].val, "term", &h->value.current_term);
	if (rc != 0) {
		return rc;
	}
	return scn_vote(p, keys, &h->value);
}

/* KIND [file=F] [after=N]. */
static int scn_p_fault(struct scn_parser *p, struct rlog_sim_cmd *cmd,
		       uint32_t arg)
{
	struct rlog_sim_cmd_fault *f = &cmd->u.fault;
	struct scn_key keys[2] = {{.name = "file"}, {.name = "after"}};
	const struct scn_tok *t = NULL;
	char q[SCN_QUOTE_BYTES];
	int rc = scn_arg(p, arg, "fault kind", &t);
	if (rc != 0) {
		return rc;
	}
	size_t k = 0;
	while (k < RLOG_SIM_SCN_FAULT_COUNT &&
	       !scn_tok_is(t, scn_fault_names[k])) {
		k++;
	}
	if (k == RLOG_SIM_SCN_FAULT_COUNT) {
		return scn_error(p, t->col, "unknown fault kind '%s'",
				 scn_quote(t, q, sizeof(q)));
	}
	f->kind = (enum rlog_sim_scn_fault)k;
	rc = scn_keys(p, arg + 1, keys, 2, "fault");
	if (rc != 0) {
		return rc;
	}
	if (keys[0].present) {
		if (f->kind == RLOG_SIM_SCN_FAULT_DIRSYNC_EIO) {
			return scn_error(p, keys[0].key.col,
					 "dirsync_eio takes no file=: a "
					 "directory sync names no file");
		}
		rc = scn_file(p, &keys[0].val, &f->file);
	}
	if (rc == 0 && keys[1].present) {
		rc = scn_u64(p, &keys[1].val, "after", &f->after);
	}
	return rc;
}

/* FILE OFFSET|any [bit=B]. */
static int scn_p_bitflip(struct scn_parser *p, struct rlog_sim_cmd *cmd,
			 uint32_t arg)
{
	struct rlog_sim_cmd_bitflip *b = &cmd->u.bitflip;
	struct scn_key keys[1] = {{.name = "bit"}};
	const struct scn_tok *t = NULL;
	uint64_t bit = 0;
	int rc = scn_arg(p, arg, "file", &t);
	if (rc == 0) {
		rc = scn_file(p, t, &b->file);
	}
	if (rc == 0) {
		rc = scn_arg(p, arg + 1, "offset", &t);
	}
	if (rc != 0) {
		return rc;
	}
	if (scn_tok_is(t, "any")) {
		b->offset_any = true;
	} else {
		rc = scn_u64(p, t, "offset", &b->offset);
	}
	if (rc == 0) {
		rc = scn_keys(p, arg + 2, keys, 1, "bitflip");
	}
	if (rc != 0) {
		return rc;
	}
	b->bit_any = !keys[0].present;
	if (keys[0].present) {
		rc = scn_u64_max(p, &keys[0].val, "bit", 7, &bit);
		b->bit = (uint8_t)bit;
	}
	return rc;
}

static const struct scn_spec scn_cmd_specs[] = {
    {"open", RLOG_SIM_CMD_OPEN, "open", scn_p_none},
    {"close", RLOG_SIM_CMD_CLOSE, "close", scn_p_none},
    {"reopen", RLOG_SIM_CMD_REOPEN, "reopen", scn_p_none},
    {"append", RLOG_SIM_CMD_APPEND,
     "append FIRST..LAST term=T [size=N] " SCN_FORM_KIND, scn_p_entries},
    {"sync", RLOG_SIM_CMD_SYNC, "sync", scn_p_none},
    {"truncate", RLOG_SIM_CMD_TRUNCATE, "truncate I", scn_p_index},
    {"replace", RLOG_SIM_CMD_REPLACE,
     "replace FIRST..LAST term=T [size=N] " SCN_FORM_KIND, scn_p_entries},
    {"purge", RLOG_SIM_CMD_PURGE, "purge I term=T", scn_p_log_id},
    {"reset", RLOG_SIM_CMD_RESET, "reset", scn_p_none},
    {"hardstate", RLOG_SIM_CMD_HARDSTATE, "hardstate term=T " SCN_FORM_VOTE,
     scn_p_hard_state},
    {"crash", RLOG_SIM_CMD_CRASH, "crash", scn_p_none},
    {"fault", RLOG_SIM_CMD_FAULT, SCN_FORM_FAULT, scn_p_fault},
    {"bitflip", RLOG_SIM_CMD_BITFLIP,
     "bitflip NAME|any|last|meta OFFSET|any [bit=0..7]", scn_p_bitflip},
    {"check", RLOG_SIM_CMD_CHECK, "check", scn_p_none},
};

static const struct scn_spec scn_expect_specs[] = {
    {"last_index", RLOG_SIM_CMD_EXPECT_LAST_INDEX, "expect last_index N",
     scn_p_index},
    {"first_index", RLOG_SIM_CMD_EXPECT_FIRST_INDEX, "expect first_index N",
     scn_p_index},
    {"entry", RLOG_SIM_CMD_EXPECT_ENTRY, "expect entry I term=T", scn_p_log_id},
    {"missing", RLOG_SIM_CMD_EXPECT_MISSING, "expect missing I", scn_p_index},
    {"hardstate", RLOG_SIM_CMD_EXPECT_HARDSTATE,
     "expect hardstate term=T " SCN_FORM_VOTE " | expect hardstate none",
     scn_p_hard_state},
    {"purged", RLOG_SIM_CMD_EXPECT_PURGED, "expect purged I term=T",
     scn_p_log_id},
};

static const struct scn_spec *scn_find(const struct scn_spec *specs,
				       size_t count, const struct scn_tok *t)
{
	for (size_t i = 0; i < count; i++) {
		if (scn_tok_is(t, specs[i].word)) {
			return &specs[i];
		}
	}
	return NULL;
}

/* ---- Options. ---- */

/* Parse the value of option device: NAME[,NAME...]. Names add to what
 * earlier device lines gave; at most one crash fate per run. */
static int scn_opt_device(struct scn_parser *p, const struct scn_tok *v)
{
	struct rlog_sim_scn_options *o = &p->script->options;
	char q[SCN_QUOTE_BYTES];
	uint32_t start = 0;
	while (start <= v->len) {
		uint32_t end = start;
		while (end < v->len && v->text[end] != ',') {
			end++;
		}
		struct scn_tok item = scn_sub(v, start, end - start);
		start = end + 1;
		if (item.len == 0) {
			return scn_error(p, item.col, "missing device name");
		}
		if (scn_tok_is(&item, SCN_DEVICE_ATOMIC_SECTORS)) {
			o->atomic_sectors = true;
			continue;
		}
		if (scn_tok_is(&item, SCN_DEVICE_SAFE_APPEND)) {
			o->safe_append = true;
			continue;
		}
		uint32_t f = 0;
		while (f < 4u && !scn_tok_is(&item, scn_fate_names[f])) {
			f++;
		}
		if (f == 4u) {
			return scn_error(p, item.col, "unknown device '%s'",
					 scn_quote(&item, q, sizeof(q)));
		}
		if (p->fate_line != 0 && (uint32_t)o->fate != f) {
			return scn_error(
			    p, item.col,
			    "device %s conflicts with %s from line "
			    "%" PRIu32 ": a run has one crash fate",
			    scn_fate_names[f], scn_fate_names[o->fate],
			    p->fate_line);
		}
		o->fate = (enum rlog_sim_scn_fate)f;
		p->fate_line = p->line;
	}
	return 0;
}

/* Set the option with bit (one of RLOG_SIM_SCN_OPT_*) from value v. */
static int scn_opt_value(struct scn_parser *p, uint32_t bit,
			 const struct scn_tok *v, const char *name)
{
	struct rlog_sim_scn_options *o = &p->script->options;
	char q[SCN_QUOTE_BYTES];
	uint64_t x = 0;
	int rc = 0;
	if (bit == RLOG_SIM_SCN_OPT_SEED) {
		rc = scn_u64(p, v, name, &o->seed);
	} else if (bit == RLOG_SIM_SCN_OPT_SEGMENT_SIZE) {
		rc = scn_bytes(p, v, name, UINT64_MAX, &o->segment_size_bytes);
	} else if (bit == RLOG_SIM_SCN_OPT_DISK_SIZE) {
		rc = scn_bytes(p, v, name, UINT64_MAX, &o->disk_size_bytes);
	} else if (bit == RLOG_SIM_SCN_OPT_ENTRY_SIZE_MAX) {
		rc = scn_bytes(p, v, name, UINT32_MAX, &x);
		o->entry_size_max_bytes = (uint32_t)x;
	} else if (bit == RLOG_SIM_SCN_OPT_PREALLOCATE) {
		if (scn_tok_is(v, "off")) {
			o->preallocate_bytes = RLOG_PREALLOCATE_OFF;
		} else {
			rc = scn_bytes(p, v, name, RLOG_PREALLOCATE_MAX_BYTES,
				       &x);
			o->preallocate_bytes = (uint32_t)x;
		}
	} else if (bit == RLOG_SIM_SCN_OPT_VERIFY_ON_OPEN) {
		rc = scn_u64_max(p, v, name, 1, &x);
		o->verify_on_open = x == 1;
	} else if (bit == RLOG_SIM_SCN_OPT_SECTOR_SIZE) {
		rc = scn_bytes(p, v, name, UINT32_MAX, &x);
		if (rc == 0 && x != 512u && x != 4096u) {
			return scn_error(p, v->col,
					 "sector_size must be 512 or 4096, not "
					 "'%s'",
					 scn_quote(v, q, sizeof(q)));
		}
		o->sector_size_bytes = (uint32_t)x;
	} else if (bit == RLOG_SIM_SCN_OPT_DEVICE) {
		rc = scn_opt_device(p, v);
	} else {
		uint32_t k = 0;
		while (k < RLOG_SIM_SCN_FAULT_COUNT &&
		       bit != RLOG_SIM_SCN_OPT_FAULT_RATE(k)) {
			k++;
		}
		SCN_ASSERT(k < RLOG_SIM_SCN_FAULT_COUNT);
		rc = scn_u64_max(p, v, name, RLOG_SIM_SCN_FAULT_RATE_PPM_MAX,
				 &x);
		o->fault_rate_ppm[k] = (uint32_t)x;
	}
	return rc;
}

/* Find option name: its bit and form (the form may be built in p). */
static uint32_t scn_opt_find(struct scn_parser *p, const struct scn_tok *name)
{
	static const struct {
		const char *name;
		uint32_t bit;
		const char *form;
	} opts[] = {
	    {"seed", RLOG_SIM_SCN_OPT_SEED, "option seed=U64"},
	    {"segment_size", RLOG_SIM_SCN_OPT_SEGMENT_SIZE,
	     "option segment_size=BYTES"},
	    {"sector_size", RLOG_SIM_SCN_OPT_SECTOR_SIZE,
	     "option sector_size=512|4096"},
	    {"disk_size", RLOG_SIM_SCN_OPT_DISK_SIZE,
	     "option disk_size=BYTES (0 = unlimited)"},
	    {"device", RLOG_SIM_SCN_OPT_DEVICE,
	     "option device=NAME[,NAME...] with at most one of random, "
	     "ordered_writes, lose_unsynced, keep_unsynced, and any of "
	     "atomic_sectors, safe_append"},
	    {"entry_size_max", RLOG_SIM_SCN_OPT_ENTRY_SIZE_MAX,
	     "option entry_size_max=BYTES"},
	    {"preallocate", RLOG_SIM_SCN_OPT_PREALLOCATE,
	     "option preallocate=BYTES|off (0 = the engine's default)"},
	    {"verify_on_open", RLOG_SIM_SCN_OPT_VERIFY_ON_OPEN,
	     "option verify_on_open=0|1"},
	};
	static const char prefix[] = "fault_rate_";
	const uint32_t prefix_len = (uint32_t)(sizeof(prefix) - 1u);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (scn_tok_is(name, opts[i].name)) {
			p->form = opts[i].form;
			return opts[i].bit;
		}
	}
	if (name->len <= prefix_len ||
	    memcmp(name->text, prefix, prefix_len) != 0) {
		return 0;
	}
	struct scn_tok kind = scn_sub(name, prefix_len, name->len - prefix_len);
	for (uint32_t k = 0; k < RLOG_SIM_SCN_FAULT_COUNT; k++) {
		if (scn_tok_is(&kind, scn_fault_names[k])) {
			(void)snprintf(p->form_buf, sizeof(p->form_buf),
				       "option fault_rate_%s=PER_MILLION "
				       "(0..1000000)",
				       scn_fault_names[k]);
			p->form = p->form_buf;
			return RLOG_SIM_SCN_OPT_FAULT_RATE(k);
		}
	}
	return 0;
}

/* option NAME=VALUE. */
static int scn_parse_option(struct scn_parser *p)
{
	char q[SCN_QUOTE_BYTES];
	p->form = SCN_FORM_OPTION_NAMES;
	if (p->cmd_seen) {
		p->form = SCN_FORM_OPTION_FIRST;
		return scn_error(p, p->toks[0].col,
				 "option after the first command; options "
				 "must come first");
	}
	if (p->tok_count < 2) {
		return scn_error(p, p->eol_col, "missing NAME=VALUE");
	}
	const struct scn_tok *t = &p->toks[1];
	const char *eq = memchr(t->text, '=', t->len);
	uint32_t name_len = eq == NULL ? t->len : (uint32_t)(eq - t->text);
	struct scn_tok name = scn_sub(t, 0, name_len);
	uint32_t bit = scn_opt_find(p, &name);
	if (bit == 0) {
		return scn_error(p, t->col, "unknown option '%s'",
				 scn_quote(&name, q, sizeof(q)));
	}
	if (eq == NULL) {
		return scn_error(p, t->col + t->len,
				 "missing '=VALUE' after '%s'",
				 scn_quote(&name, q, sizeof(q)));
	}
	struct scn_tok v = scn_sub(t, name_len + 1, t->len - name_len - 1);
	if (v.len == 0) {
		return scn_error(p, v.col, "missing value after '%s='",
				 scn_quote(&name, q, sizeof(q)));
	}
	uint32_t slot = 0;
	while (slot < SCN_OPT_BITS && (1u << slot) != bit) {
		slot++;
	}
	SCN_ASSERT(slot < SCN_OPT_BITS);
	struct rlog_sim_scn_options *o = &p->script->options;
	if ((o->set & bit) != 0 && bit != RLOG_SIM_SCN_OPT_DEVICE) {
		return scn_error(
		    p, t->col, "option %s is already set on line %" PRIu32,
		    scn_quote(&name, q, sizeof(q)), p->opt_line[slot]);
	}
	int rc = scn_opt_value(p, bit, &v, scn_quote(&name, q, sizeof(q)));
	if (rc == 0) {
		rc = scn_end(p, 2);
	}
	if (rc == 0) {
		o->set |= bit;
		p->opt_line[slot] = p->line;
	}
	return rc;
}

/* ---- Commands. ---- */

/* True for the commands whose engine call returns a code to expect. */
static bool scn_kind_has_code(enum rlog_sim_cmd_kind kind)
{
	switch (kind) {
	case RLOG_SIM_CMD_OPEN:
	case RLOG_SIM_CMD_CLOSE:
	case RLOG_SIM_CMD_REOPEN:
	case RLOG_SIM_CMD_APPEND:
	case RLOG_SIM_CMD_SYNC:
	case RLOG_SIM_CMD_TRUNCATE:
	case RLOG_SIM_CMD_REPLACE:
	case RLOG_SIM_CMD_PURGE:
	case RLOG_SIM_CMD_RESET:
	case RLOG_SIM_CMD_HARDSTATE:
	case RLOG_SIM_CMD_EXPECT_ENTRY:
		return true;
	default:
		return false;
	}
}

/* Attach a waiting expect error/corrupt line to cmd, if it may take it. */
static int scn_attach(struct scn_parser *p, struct rlog_sim_cmd *cmd)
{
	if (!p->pend_set) {
		return 0;
	}
	bool opens =
	    cmd->kind == RLOG_SIM_CMD_OPEN || cmd->kind == RLOG_SIM_CMD_REOPEN;
	if (p->pend_corrupt && !opens) {
		p->form = SCN_FORM_EXPECT_CORRUPT_NEXT;
		return scn_error(p, p->toks[0].col,
				 "expect corrupt on line %" PRIu32
				 " applies only to open or reopen, not to %s",
				 p->pend_line, rlog_sim_cmd_name(cmd->kind));
	}
	if (!scn_kind_has_code(cmd->kind)) {
		p->form = SCN_FORM_EXPECT_ERROR_NEXT;
		return scn_error(p, p->toks[0].col,
				 "expect error on line %" PRIu32
				 " cannot apply to %s, which returns no code",
				 p->pend_line, rlog_sim_cmd_name(cmd->kind));
	}
	cmd->expect_set = true;
	cmd->expect_code = p->pend_code;
	cmd->expect_line = p->pend_line;
	p->pend_set = false;
	return 0;
}

/* Append cmd to the script, growing the array up to the cap. */
static int scn_push(struct scn_parser *p, const struct rlog_sim_cmd *cmd)
{
	struct rlog_sim_script *s = p->script;
	if (s->cmd_count >= RLOG_SIM_SCN_CMDS_MAX) {
		p->form = SCN_FORM_CMDS;
		return scn_error(p, p->toks[0].col, "more than %u commands",
				 RLOG_SIM_SCN_CMDS_MAX);
	}
	if (s->cmd_count == p->cmd_cap) {
		size_t cap =
		    p->cmd_cap == 0 ? SCN_CMDS_INITIAL : p->cmd_cap * 2;
		if (cap > RLOG_SIM_SCN_CMDS_MAX) {
			cap = RLOG_SIM_SCN_CMDS_MAX;
		}
		size_t bytes = cap * sizeof(*s->cmds);
		void *grown = s->cmds == NULL
				  ? s->allocator.malloc(s->allocator.ctx, bytes)
				  : s->allocator.realloc(s->allocator.ctx,
							 s->cmds, bytes);
		if (grown == NULL) {
			return scn_error_plain(p->name, p->err, p->err_len,
					       RLOG_ENOMEM, "out of memory");
		}
		s->cmds = grown;
		p->cmd_cap = cap;
	}
	s->cmds[s->cmd_count] = *cmd;
	s->cmd_count++;
	return 0;
}

/* Parse the arguments of a command line per spec and append it. */
static int scn_parse_cmd(struct scn_parser *p, const struct scn_spec *spec,
			 uint32_t arg)
{
	struct rlog_sim_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.kind = spec->kind;
	cmd.line = p->line;
	p->form = spec->form;
	int rc = spec->parse(p, &cmd, arg);
	if (rc == 0) {
		rc = scn_attach(p, &cmd);
	}
	if (rc == 0) {
		rc = scn_push(p, &cmd);
	}
	return rc;
}

/* expect error CODE and expect corrupt: remember them for the next line. */
static int scn_parse_expect_code(struct scn_parser *p, bool corrupt)
{
	char q[SCN_QUOTE_BYTES];
	const struct scn_tok *t = NULL;
	int code = RLOG_ECORRUPT;
	p->form = corrupt ? SCN_FORM_EXPECT_CORRUPT : SCN_FORM_EXPECT_ERROR;
	if (p->pend_set) {
		p->form = SCN_FORM_EXPECT_ERROR_NEXT;
		return scn_error(p, p->toks[0].col,
				 "expect %s on line %" PRIu32
				 " is still waiting for its command",
				 p->pend_corrupt ? "corrupt" : "error",
				 p->pend_line);
	}
	if (!corrupt) {
		int rc = scn_arg(p, 2, "error code", &t);
		if (rc != 0) {
			return rc;
		}
		size_t i = 0;
		while (i < sizeof(scn_codes) / sizeof(scn_codes[0]) &&
		       !scn_tok_is(t, scn_codes[i].name)) {
			i++;
		}
		if (i == sizeof(scn_codes) / sizeof(scn_codes[0])) {
			return scn_error(p, t->col, "unknown error code '%s'",
					 scn_quote(t, q, sizeof(q)));
		}
		code = scn_codes[i].code;
	}
	int rc = scn_end(p, corrupt ? 2 : 3);
	if (rc != 0) {
		return rc;
	}
	p->pend_set = true;
	p->pend_corrupt = corrupt;
	p->pend_code = code;
	p->pend_line = p->line;
	p->pend_col = p->toks[0].col;
	return 0;
}

static int scn_parse_expect(struct scn_parser *p)
{
	char q[SCN_QUOTE_BYTES];
	p->form = SCN_FORM_EXPECT;
	if (p->tok_count < 2) {
		return scn_error(p, p->eol_col, "missing what to expect");
	}
	const struct scn_tok *w = &p->toks[1];
	if (scn_tok_is(w, "error")) {
		return scn_parse_expect_code(p, false);
	}
	if (scn_tok_is(w, "corrupt")) {
		return scn_parse_expect_code(p, true);
	}
	const struct scn_spec *spec =
	    scn_find(scn_expect_specs,
		     sizeof(scn_expect_specs) / sizeof(scn_expect_specs[0]), w);
	if (spec == NULL) {
		return scn_error(p, w->col, "unknown expectation '%s'",
				 scn_quote(w, q, sizeof(q)));
	}
	return scn_parse_cmd(p, spec, 2);
}

/* Parse the tokens of one non-empty line. */
static int scn_parse_line(struct scn_parser *p)
{
	char q[SCN_QUOTE_BYTES];
	const struct scn_tok *w = &p->toks[0];
	if (scn_tok_is(w, "option")) {
		return scn_parse_option(p);
	}
	p->cmd_seen = true;
	if (scn_tok_is(w, "expect")) {
		return scn_parse_expect(p);
	}
	const struct scn_spec *spec = scn_find(
	    scn_cmd_specs, sizeof(scn_cmd_specs) / sizeof(scn_cmd_specs[0]), w);
	if (spec == NULL) {
		p->form = SCN_FORM_COMMAND;
		return scn_error(p, w->col, "unknown command '%s'",
				 scn_quote(w, q, sizeof(q)));
	}
	return scn_parse_cmd(p, spec, 1);
}

/* ---- Lines. ---- */

static bool scn_is_space(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool scn_is_graph(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

/* Split one line (n bytes, no line break) into p->toks. Stops at '#' and
 * fails on any byte outside printable ASCII, space and tab before it. */
static int scn_lex(struct scn_parser *p, const char *s, size_t n)
{
	size_t i = 0;
	p->tok_count = 0;
	p->eol_col = 1;
	while (i < n && p->tok_count < SCN_TOKENS_MAX) {
		unsigned char c = (unsigned char)s[i];
		if (c == '#') {
			break;
		}
		if (scn_is_space(c)) {
			i++;
			continue;
		}
		if (!scn_is_graph(c)) {
			p->form = SCN_FORM_BYTES;
			return scn_error(p, (uint32_t)(i + 1),
					 "invalid byte 0x%02x", (unsigned)c);
		}
		size_t start = i;
		while (i < n && scn_is_graph((unsigned char)s[i]) &&
		       s[i] != '#') {
			i++;
		}
		struct scn_tok *t = &p->toks[p->tok_count];
		t->text = s + start;
		t->len = (uint32_t)(i - start);
		t->col = (uint32_t)(start + 1);
		p->tok_count++;
		p->eol_col = (uint32_t)(i + 1);
	}
	return 0;
}

/* Parse every line of text, then check nothing is left waiting. */
static int scn_parse_lines(struct scn_parser *p, const char *text, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		const char *start = text + pos;
		size_t left = len - pos;
		size_t scan =
		    left < SCN_LINE_SCAN_BYTES ? left : SCN_LINE_SCAN_BYTES;
		const char *nl = memchr(start, '\n', scan);
		size_t n = nl != NULL ? (size_t)(nl - start) : scan;
		pos = nl != NULL ? pos + n + 1 : len;
		p->line++;
		if (n > 0 && start[n - 1] == '\r') {
			n--;
		}
		if (n > RLOG_SIM_SCN_LINE_BYTES_MAX) {
			p->form = SCN_FORM_LINE;
			return scn_error(p, RLOG_SIM_SCN_LINE_BYTES_MAX + 1u,
					 "line is longer than %u bytes",
					 RLOG_SIM_SCN_LINE_BYTES_MAX);
		}
		int rc = scn_lex(p, start, n);
		if (rc == 0 && p->tok_count > 0) {
			rc = scn_parse_line(p);
		}
		if (rc != 0) {
			return rc;
		}
	}
	if (p->pend_set) {
		p->line = p->pend_line;
		p->form = p->pend_corrupt ? SCN_FORM_EXPECT_CORRUPT_NEXT
					  : SCN_FORM_EXPECT_ERROR_NEXT;
		return scn_error(p, p->pend_col,
				 "expect %s is the last line; it needs a "
				 "command after it",
				 p->pend_corrupt ? "corrupt" : "error");
	}
	return 0;
}

/* ---- Public: parsing. ---- */

static void *scn_std_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void *scn_std_realloc(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	return realloc(ptr, size);
}

static void scn_std_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

void rlog_sim_scn_options_init(struct rlog_sim_scn_options *opts)
{
	SCN_ASSERT(opts != NULL);
	memset(opts, 0, sizeof(*opts));
	opts->seed = 1;
	opts->sector_size_bytes = 512;
	opts->preallocate_bytes = 4096;
}

int rlog_sim_scn_parse_alloc(const char *name, const char *text, size_t len,
			     const struct rlog_allocator *allocator,
			     struct rlog_sim_script **out, char *err,
			     size_t err_len)
{
	static const struct rlog_allocator std = {
	    NULL, scn_std_malloc, scn_std_realloc, scn_std_free};
	struct scn_parser p;
	SCN_ASSERT(out != NULL);
	SCN_ASSERT(text != NULL || len == 0);
	*out = NULL;
	if (err != NULL && err_len > 0) {
		err[0] = '\0';
	}
	memset(&p, 0, sizeof(p));
	p.name = name != NULL ? name : "<input>";
	p.err = err;
	p.err_len = err_len;
	if (len > RLOG_SIM_SCN_TEXT_BYTES_MAX) {
		p.line = 1;
		p.form = SCN_FORM_TEXT;
		return scn_error(&p, 1, "script is %zu bytes, over the limit",
				 len);
	}
	const struct rlog_allocator *a = allocator != NULL ? allocator : &std;
	struct rlog_sim_script *s = a->malloc(a->ctx, sizeof(*s));
	if (s == NULL) {
		return scn_error_plain(p.name, err, err_len, RLOG_ENOMEM,
				       "out of memory");
	}
	memset(s, 0, sizeof(*s));
	rlog_sim_scn_options_init(&s->options);
	s->allocator = *a;
	p.script = s;
	int rc = scn_parse_lines(&p, text != NULL ? text : "", len);
	if (rc != 0) {
		rlog_sim_scn_free(s);
		return rc;
	}
	if (err != NULL && err_len > 0) {
		err[0] = '\0';
	}
	*out = s;
	return 0;
}

int rlog_sim_scn_parse(const char *name, const char *text, size_t len,
		       struct rlog_sim_script **out, char *err, size_t err_len)
{
	return rlog_sim_scn_parse_alloc(name, text, len, NULL, out, err,
					err_len);
}

void rlog_sim_scn_free(struct rlog_sim_script *script)
{
	if (script == NULL) {
		return;
	}
	struct rlog_allocator a = script->allocator;
	if (script->cmds != NULL) {
		a.free(a.ctx, script->cmds);
	}
	a.free(a.ctx, script);
}

/* Read all of f into a new malloc buffer of at most cap + 1 bytes. */
static int scn_read_all(FILE *f, size_t cap, char **buf_out, size_t *len_out)
{
	char *buf = NULL;
	size_t size = 0;
	size_t len = 0;
	while (len <= cap) {
		if (len == size) {
			size_t grow =
			    size == 0 ? SCN_FILE_CHUNK_BYTES : size * 2;
			grow = grow > cap + 1 ? cap + 1 : grow;
			char *b = realloc(buf, grow);
			if (b == NULL) {
				free(buf);
				return RLOG_ENOMEM;
			}
			buf = b;
			size = grow;
		}
		size_t got = fread(buf + len, 1, size - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				return RLOG_EIO;
			}
			break;
		}
	}
	*buf_out = buf;
	*len_out = len;
	return 0;
}

int rlog_sim_scn_parse_file(const char *path, struct rlog_sim_script **out,
			    char *err, size_t err_len)
{
	SCN_ASSERT(path != NULL);
	SCN_ASSERT(out != NULL);
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		return scn_error_plain(path, err, err_len,
				       e == ENOENT ? RLOG_ENOTFOUND : RLOG_EIO,
				       "cannot open: %s", strerror(e));
	}
	char *buf = NULL;
	size_t len = 0;
	errno = 0;
	int rc = scn_read_all(f, RLOG_SIM_SCN_TEXT_BYTES_MAX, &buf, &len);
	int e = errno;
	(void)fclose(f);
	if (rc == RLOG_ENOMEM) {
		return scn_error_plain(path, err, err_len, rc, "out of memory");
	}
	if (rc != 0) {
		return scn_error_plain(path, err, err_len, rc,
				       "cannot read: %s",
				       strerror(e != 0 ? e : EIO));
	}
	if (len > RLOG_SIM_SCN_TEXT_BYTES_MAX) {
		free(buf);
		return scn_error_plain(path, err, err_len, RLOG_EINVAL,
				       "file is larger than %u bytes",
				       RLOG_SIM_SCN_TEXT_BYTES_MAX);
	}
	rc = rlog_sim_scn_parse(path, buf, len, out, err, err_len);
	free(buf);
	return rc;
}

/* ---- Public: names. ---- */

const char *rlog_sim_cmd_name(enum rlog_sim_cmd_kind kind)
{
	if ((int)kind < (int)RLOG_SIM_CMD_OPEN ||
	    (int)kind >= (int)RLOG_SIM_CMD_KIND_END) {
		return "?";
	}
	return scn_cmd_names[kind];
}

const char *rlog_sim_scn_fault_name(enum rlog_sim_scn_fault fault)
{
	if ((int)fault < 0 || (int)fault >= (int)RLOG_SIM_SCN_FAULT_COUNT) {
		return "?";
	}
	return scn_fault_names[fault];
}

const char *rlog_sim_scn_code_name(int code)
{
	for (size_t i = 0; i < sizeof(scn_codes) / sizeof(scn_codes[0]); i++) {
		if (scn_codes[i].code == code) {
			return scn_codes[i].name;
		}
	}
	return "?";
}

/* ---- Printing. ---- */

/* An snprintf-like destination: writes what fits, counts everything. */
struct scn_sink {
	char *buf;
	size_t len;
	size_t total;
};

static void scn_put(struct scn_sink *s, const char *text)
{
	size_t n = strlen(text);
	if (s->len > 0 && s->total < s->len - 1) {
		size_t room = s->len - 1 - s->total;
		memcpy(s->buf + s->total, text, n < room ? n : room);
	}
	s->total += n;
}

__attribute__((format(printf, 2, 3))) static void scn_putf(struct scn_sink *s,
							   const char *fmt, ...)
{
	char piece[SCN_PIECE_BYTES];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	SCN_ASSERT(n >= 0);
	SCN_ASSERT((size_t)n < sizeof(piece));
	scn_put(s, piece);
}

static void scn_sink_end(struct scn_sink *s)
{
	if (s->len > 0) {
		s->buf[s->total < s->len ? s->total : s->len - 1] = '\0';
	}
}

static const char *scn_file_text(const struct rlog_sim_scn_file *f)
{
	switch (f->sel) {
	case RLOG_SIM_SCN_FILE_LAST:
		return "last";
	case RLOG_SIM_SCN_FILE_META:
		return "meta";
	case RLOG_SIM_SCN_FILE_NAME:
		return f->name;
	default:
		return "any";
	}
}

static void scn_put_entries(struct scn_sink *s,
			    const struct rlog_sim_cmd_entries *e)
{
	char num[32];
	bool carries =
	    e->kind == RLOG_PAYLOAD_COMMAND || e->kind == RLOG_PAYLOAD_CONFIG;
	uint64_t size_default = carries ? RLOG_SIM_SCN_SIZE_DEFAULT_BYTES : 0;
	scn_putf(s, " %" PRIu64, e->first_index);
	if (e->last_index != e->first_index) {
		scn_putf(s, "..%" PRIu64, e->last_index);
	}
	scn_putf(s, " term=%" PRIu64, e->term);
	if (e->size_bytes != size_default) {
		scn_putf(s, " size=%s",
			 scn_bytes_text(e->size_bytes, num, sizeof(num)));
	}
	if (e->kind != RLOG_PAYLOAD_COMMAND) {
		SCN_ASSERT((unsigned)e->kind < 4u);
		scn_putf(s, " kind=%s", scn_payload_names[e->kind]);
	}
}

static void scn_put_hard_state(struct scn_sink *s,
			       const struct rlog_sim_cmd_hard_state *h)
{
	if (h->none) {
		scn_put(s, " none");
		return;
	}
	scn_putf(s, " term=%" PRIu64, h->value.current_term);
	if (h->value.has_vote) {
		scn_putf(s, " vote=%" PRIu32 " vote_term=%" PRIu64,
			 h->value.voted_for_id, h->value.voted_for_term);
		if (h->value.committed) {
			scn_put(s, " committed=1");
		}
	}
}

static void scn_put_fault_bitflip(struct scn_sink *s,
				  const struct rlog_sim_cmd *c)
{
	if (c->kind == RLOG_SIM_CMD_FAULT) {
		const struct rlog_sim_cmd_fault *f = &c->u.fault;
		scn_putf(s, " %s", rlog_sim_scn_fault_name(f->kind));
		if (f->file.sel != RLOG_SIM_SCN_FILE_ANY) {
			scn_putf(s, " file=%s", scn_file_text(&f->file));
		}
		if (f->after != 0) {
			scn_putf(s, " after=%" PRIu64, f->after);
		}
		return;
	}
	const struct rlog_sim_cmd_bitflip *b = &c->u.bitflip;
	scn_putf(s, " %s", scn_file_text(&b->file));
	if (b->offset_any) {
		scn_put(s, " any");
	} else {
		scn_putf(s, " %" PRIu64, b->offset);
	}
	if (!b->bit_any) {
		scn_putf(s, " bit=%u", (unsigned)b->bit);
	}
}

/* Print one command (and its expect line) into s. */
static void scn_put_cmd(struct scn_sink *s, const struct rlog_sim_cmd *c)
{
	if (c->expect_set) {
		bool opens = c->kind == RLOG_SIM_CMD_OPEN ||
			     c->kind == RLOG_SIM_CMD_REOPEN;
		if (opens && c->expect_code == RLOG_ECORRUPT) {
			scn_put(s, "expect corrupt\n");
		} else {
			scn_putf(s, "expect error %s\n",
				 rlog_sim_scn_code_name(c->expect_code));
		}
	}
	scn_put(s, rlog_sim_cmd_name(c->kind));
	switch (c->kind) {
	case RLOG_SIM_CMD_APPEND:
	case RLOG_SIM_CMD_REPLACE:
		scn_put_entries(s, &c->u.entries);
		break;
	case RLOG_SIM_CMD_TRUNCATE:
	case RLOG_SIM_CMD_EXPECT_LAST_INDEX:
	case RLOG_SIM_CMD_EXPECT_FIRST_INDEX:
	case RLOG_SIM_CMD_EXPECT_MISSING:
		scn_putf(s, " %" PRIu64, c->u.index.index);
		break;
	case RLOG_SIM_CMD_PURGE:
	case RLOG_SIM_CMD_EXPECT_ENTRY:
	case RLOG_SIM_CMD_EXPECT_PURGED:
		scn_putf(s, " %" PRIu64 " term=%" PRIu64, c->u.log_id.index,
			 c->u.log_id.term);
		break;
	case RLOG_SIM_CMD_HARDSTATE:
	case RLOG_SIM_CMD_EXPECT_HARDSTATE:
		scn_put_hard_state(s, &c->u.hard_state);
		break;
	case RLOG_SIM_CMD_FAULT:
	case RLOG_SIM_CMD_BITFLIP:
		scn_put_fault_bitflip(s, c);
		break;
	default:
		break;
	}
	scn_put(s, "\n");
}

size_t rlog_sim_cmd_format(const struct rlog_sim_cmd *cmd, char *buf,
			   size_t len)
{
	struct scn_sink s = {buf, len, 0};
	SCN_ASSERT(cmd != NULL);
	SCN_ASSERT(buf != NULL || len == 0);
	scn_put_cmd(&s, cmd);
	scn_sink_end(&s);
	SCN_ASSERT(s.total <= RLOG_SIM_SCN_CMD_TEXT_BYTES_MAX);
	return s.total;
}

static void scn_put_options(struct scn_sink *s,
			    const struct rlog_sim_scn_options *o)
{
	char num[32];
	if (o->set & RLOG_SIM_SCN_OPT_SEED) {
		scn_putf(s, "option seed=%" PRIu64 "\n", o->seed);
	}
	if (o->set & RLOG_SIM_SCN_OPT_SEGMENT_SIZE) {
		scn_putf(
		    s, "option segment_size=%s\n",
		    scn_bytes_text(o->segment_size_bytes, num, sizeof(num)));
	}
	if (o->set & RLOG_SIM_SCN_OPT_SECTOR_SIZE) {
		scn_putf(s, "option sector_size=%" PRIu32 "\n",
			 o->sector_size_bytes);
	}
	if (o->set & RLOG_SIM_SCN_OPT_DISK_SIZE) {
		scn_putf(s, "option disk_size=%s\n",
			 scn_bytes_text(o->disk_size_bytes, num, sizeof(num)));
	}
	if (o->set & RLOG_SIM_SCN_OPT_DEVICE) {
		SCN_ASSERT((unsigned)o->fate < 4u);
		scn_putf(s, "option device=%s%s%s\n", scn_fate_names[o->fate],
			 o->atomic_sectors ? "," SCN_DEVICE_ATOMIC_SECTORS : "",
			 o->safe_append ? "," SCN_DEVICE_SAFE_APPEND : "");
	}
	if (o->set & RLOG_SIM_SCN_OPT_PREALLOCATE) {
		if (o->preallocate_bytes == RLOG_PREALLOCATE_OFF) {
			scn_putf(s, "option preallocate=off\n");
		} else {
			scn_putf(s, "option preallocate=%s\n",
				 scn_bytes_text(o->preallocate_bytes, num,
						sizeof(num)));
		}
	}
	if (o->set & RLOG_SIM_SCN_OPT_VERIFY_ON_OPEN) {
		scn_putf(s, "option verify_on_open=%d\n",
			 o->verify_on_open ? 1 : 0);
	}
	if (o->set & RLOG_SIM_SCN_OPT_ENTRY_SIZE_MAX) {
		scn_putf(
		    s, "option entry_size_max=%s\n",
		    scn_bytes_text(o->entry_size_max_bytes, num, sizeof(num)));
	}
	for (uint32_t k = 0; k < RLOG_SIM_SCN_FAULT_COUNT; k++) {
		if (o->set & RLOG_SIM_SCN_OPT_FAULT_RATE(k)) {
			scn_putf(s, "option fault_rate_%s=%" PRIu32 "\n",
				 scn_fault_names[k], o->fault_rate_ppm[k]);
		}
	}
}

size_t rlog_sim_scn_format(const struct rlog_sim_script *script, char *buf,
			   size_t len)
{
	struct scn_sink s = {buf, len, 0};
	char line[RLOG_SIM_SCN_CMD_TEXT_BYTES_MAX + 1];
	SCN_ASSERT(script != NULL);
	SCN_ASSERT(buf != NULL || len == 0);
	SCN_ASSERT(script->cmds != NULL || script->cmd_count == 0);
	scn_put_options(&s, &script->options);
	for (size_t i = 0; i < script->cmd_count; i++) {
		(void)rlog_sim_cmd_format(&script->cmds[i], line, sizeof(line));
		scn_put(&s, line);
	}
	scn_sink_end(&s);
	return s.total;
}

/* ---- Comparing. ---- */

static bool scn_file_equal(const struct rlog_sim_scn_file *a,
			   const struct rlog_sim_scn_file *b)
{
	if (a->sel != b->sel) {
		return false;
	}
	return a->sel != RLOG_SIM_SCN_FILE_NAME ||
	       strncmp(a->name, b->name, sizeof(a->name)) == 0;
}

static bool scn_hard_state_equal(const struct rlog_sim_cmd_hard_state *a,
				 const struct rlog_sim_cmd_hard_state *b)
{
	return a->none == b->none &&
	       a->value.current_term == b->value.current_term &&
	       a->value.has_vote == b->value.has_vote &&
	       a->value.voted_for_id == b->value.voted_for_id &&
	       a->value.voted_for_term == b->value.voted_for_term &&
	       a->value.committed == b->value.committed;
}

static bool scn_args_equal(const struct rlog_sim_cmd *a,
			   const struct rlog_sim_cmd *b)
{
	switch (a->kind) {
	case RLOG_SIM_CMD_APPEND:
	case RLOG_SIM_CMD_REPLACE:
		return a->u.entries.first_index == b->u.entries.first_index &&
		       a->u.entries.last_index == b->u.entries.last_index &&
		       a->u.entries.term == b->u.entries.term &&
		       a->u.entries.size_bytes == b->u.entries.size_bytes &&
		       a->u.entries.kind == b->u.entries.kind;
	case RLOG_SIM_CMD_TRUNCATE:
	case RLOG_SIM_CMD_EXPECT_LAST_INDEX:
	case RLOG_SIM_CMD_EXPECT_FIRST_INDEX:
	case RLOG_SIM_CMD_EXPECT_MISSING:
		return a->u.index.index == b->u.index.index;
	case RLOG_SIM_CMD_PURGE:
	case RLOG_SIM_CMD_EXPECT_ENTRY:
	case RLOG_SIM_CMD_EXPECT_PURGED:
		return a->u.log_id.index == b->u.log_id.index &&
		       a->u.log_id.term == b->u.log_id.term;
	case RLOG_SIM_CMD_HARDSTATE:
	case RLOG_SIM_CMD_EXPECT_HARDSTATE:
		return scn_hard_state_equal(&a->u.hard_state, &b->u.hard_state);
	case RLOG_SIM_CMD_FAULT:
		return a->u.fault.kind == b->u.fault.kind &&
		       a->u.fault.after == b->u.fault.after &&
		       scn_file_equal(&a->u.fault.file, &b->u.fault.file);
	case RLOG_SIM_CMD_BITFLIP:
		return scn_file_equal(&a->u.bitflip.file, &b->u.bitflip.file) &&
		       a->u.bitflip.offset_any == b->u.bitflip.offset_any &&
		       a->u.bitflip.offset == b->u.bitflip.offset &&
		       a->u.bitflip.bit_any == b->u.bitflip.bit_any &&
		       a->u.bitflip.bit == b->u.bitflip.bit;
	default:
		return true;
	}
}

bool rlog_sim_cmd_equal(const struct rlog_sim_cmd *a,
			const struct rlog_sim_cmd *b)
{
	SCN_ASSERT(a != NULL);
	SCN_ASSERT(b != NULL);
	if (a->kind != b->kind || a->expect_set != b->expect_set) {
		return false;
	}
	if (a->expect_set && a->expect_code != b->expect_code) {
		return false;
	}
	return scn_args_equal(a, b);
}

static bool scn_options_equal(const struct rlog_sim_scn_options *a,
			      const struct rlog_sim_scn_options *b)
{
	if (a->set != b->set || a->seed != b->seed ||
	    a->segment_size_bytes != b->segment_size_bytes ||
	    a->sector_size_bytes != b->sector_size_bytes ||
	    a->disk_size_bytes != b->disk_size_bytes || a->fate != b->fate ||
	    a->atomic_sectors != b->atomic_sectors ||
	    a->safe_append != b->safe_append ||
	    a->entry_size_max_bytes != b->entry_size_max_bytes ||
	    a->preallocate_bytes != b->preallocate_bytes ||
	    a->verify_on_open != b->verify_on_open) {
		return false;
	}
	for (size_t k = 0; k < RLOG_SIM_SCN_FAULT_COUNT; k++) {
		if (a->fault_rate_ppm[k] != b->fault_rate_ppm[k]) {
			return false;
		}
	}
	return true;
}

bool rlog_sim_scn_equal(const struct rlog_sim_script *a,
			const struct rlog_sim_script *b)
{
	SCN_ASSERT(a != NULL);
	SCN_ASSERT(b != NULL);
	if (!scn_options_equal(&a->options, &b->options) ||
	    a->cmd_count != b->cmd_count) {
		return false;
	}
	for (size_t i = 0; i < a->cmd_count; i++) {
		if (!rlog_sim_cmd_equal(&a->cmds[i], &b->cmds[i])) {
			return false;
		}
	}
	return true;
}
