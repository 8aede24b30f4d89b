/*
 * sim/scn.h: the scenario language, parsed into an array of commands.
 *
 * A scenario is a line-oriented text script that drives one rlog handle
 * through the simulator: options first, then commands (open, append, sync,
 * crash, fault, bitflip, expect ...). docs/SCENARIOS.md is the language
 * reference for users; this header is the contract of the parser and of the
 * AST it builds. What a command does when it runs (what a crash keeps under
 * each device option, how faults fire) belongs to the interpreter, not here.
 *
 * The parser is total: any byte string, of any length and content, yields
 * either a script or exactly one error message, in time linear in the input
 * and memory bounded by the caps below. It never reads past len and needs no
 * NUL terminator. Error messages look like
 *
 *     FILE:LINE:COL: error: MESSAGE; expected: FORM
 *
 * where LINE and COL count from 1, COL counts bytes (a tab is one column),
 * and FORM is the syntax of the command being parsed. Failures that belong
 * to no position (out of memory, a file that cannot be read) read
 * "FILE: error: MESSAGE". Every message starts with the script's name.
 *
 * Round trip: rlog_sim_scn_format prints a script as canonical text, and
 * parsing that text gives a script equal to the original under
 * rlog_sim_scn_equal (line numbers aside). The shrinker relies on this to
 * write minimal scenarios.
 *
 * Threads: the module has no global state; calls on different scripts may
 * run at once.
 */
#ifndef RLOG_SIM_SCN_H
#define RLOG_SIM_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rlog/rlog.h"
#include "rlog/vfs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Limits. ---- */
/* Longest line, in bytes, not counting the line break. */
#define RLOG_SIM_SCN_LINE_BYTES_MAX 4096u
/* Most commands in one script (an expect error or expect corrupt line does
 * not count; it becomes part of the command after it). */
#define RLOG_SIM_SCN_CMDS_MAX 100000u
/* Largest script text rlog_sim_scn_parse and rlog_sim_scn_parse_file accept,
 * in bytes. */
#define RLOG_SIM_SCN_TEXT_BYTES_MAX (64u * 1024u * 1024u)
/* Most bytes rlog_sim_cmd_format writes for one command, without the NUL. */
#define RLOG_SIM_SCN_CMD_TEXT_BYTES_MAX 256u
/* Payload size of append and replace when size= is absent and the kind
 * carries bytes (command, config). */
#define RLOG_SIM_SCN_SIZE_DEFAULT_BYTES 32u

/* ---- Options (the `option NAME=VALUE` lines). ---- */

/* Faults a scenario can schedule (`fault KIND`) or spread at random
 * (`option fault_rate_KIND=PER_MILLION`). */
enum rlog_sim_scn_fault {
	RLOG_SIM_SCN_FAULT_FSYNC_EIO = 0,   /* a file sync fails with EIO */
	RLOG_SIM_SCN_FAULT_READ_EIO = 1,    /* a read fails with EIO */
	RLOG_SIM_SCN_FAULT_WRITE_EIO = 2,   /* a write fails with EIO */
	RLOG_SIM_SCN_FAULT_ENOSPC = 3,	    /* a write finds the disk full */
	RLOG_SIM_SCN_FAULT_SHORT_WRITE = 4, /* a write stores only a prefix */
	RLOG_SIM_SCN_FAULT_DIRSYNC_EIO = 5, /* a directory sync fails */
	RLOG_SIM_SCN_FAULT_LOSE_DIROP = 6,  /* a create/remove/rename is lost */
	RLOG_SIM_SCN_FAULT_COUNT = 7
};

/*
 * What a crash does to the operations not yet synced (`option device=`):
 * one fate per run. The simulated disk owns the exact rules (sim/memvfs.h,
 * enum rlog_sim_fate); in short:
 *   random          each operation is kept, dropped or torn by sector;
 *   ordered_writes  only a prefix of them, in issue order, survives;
 *   lose_unsynced   every one is dropped;
 *   keep_unsynced   every one is kept.
 */
enum rlog_sim_scn_fate {
	RLOG_SIM_SCN_FATE_RANDOM = 0,
	RLOG_SIM_SCN_FATE_ORDERED = 1,
	RLOG_SIM_SCN_FATE_LOSE_UNSYNCED = 2,
	RLOG_SIM_SCN_FATE_KEEP_UNSYNCED = 3
};

/* Bits of rlog_sim_scn_options.set: which options the script gave. */
#define RLOG_SIM_SCN_OPT_SEED 0x1u
#define RLOG_SIM_SCN_OPT_SEGMENT_SIZE 0x2u
#define RLOG_SIM_SCN_OPT_SECTOR_SIZE 0x4u
#define RLOG_SIM_SCN_OPT_DISK_SIZE 0x8u
#define RLOG_SIM_SCN_OPT_DEVICE 0x10u
#define RLOG_SIM_SCN_OPT_ENTRY_SIZE_MAX 0x20u
#define RLOG_SIM_SCN_OPT_PREALLOCATE 0x40u
#define RLOG_SIM_SCN_OPT_VERIFY_ON_OPEN 0x80u
#define RLOG_SIM_SCN_OPT_FAULT_RATE(fault) (0x100u << (unsigned)(fault))

/* The largest fault_rate_KIND value: one million per million, always. */
#define RLOG_SIM_SCN_FAULT_RATE_PPM_MAX 1000000u

/*
 * The run's configuration. Every field holds its default unless the script
 * set it, and set says which ones it did, so a driver can let its command
 * line override the rest. Defaults are those of rlog_sim_scn_options_init.
 */
struct rlog_sim_scn_options {
	/* RLOG_SIM_SCN_OPT_* bits of the options the script gave. */
	uint32_t set;
	/* Seed of every random choice of the run; default 1. */
	uint64_t seed;
	/* rlog_options.segment_size_bytes; default 0 (the engine's). */
	uint64_t segment_size_bytes;
	/* Sector size of the simulated disk: 512 (default) or 4096. */
	uint32_t sector_size_bytes;
	/* Capacity of the simulated disk; default 0 (unlimited). */
	uint64_t disk_size_bytes;
	/* option device: the crash fate (default random), and whether a torn
	 * sector is only ever kept or dropped whole (atomic_sectors) and bytes
	 * past a file's durable size never come back as garbage (safe_append);
	 * both default to false. */
	enum rlog_sim_scn_fate fate;
	bool atomic_sectors;
	bool safe_append;
	/* rlog_options.entry_size_max_bytes; default 0 (the engine's). */
	uint32_t entry_size_max_bytes;
	/* rlog_options.preallocate_bytes; default 4096 (the engine's own
	 * default, 1 MiB, is option preallocate=0; off is
	 * RLOG_PREALLOCATE_OFF). Small, so the explorer stays fast. */
	uint32_t preallocate_bytes;
	/* rlog_options.verify_on_open (no seals); default false. */
	bool verify_on_open;
	/* Chance of each fault per million matching operations; default 0. */
	uint32_t fault_rate_ppm[RLOG_SIM_SCN_FAULT_COUNT];
};

/* ---- Commands. ---- */

enum rlog_sim_cmd_kind {
	RLOG_SIM_CMD_OPEN = 1,	/* rlog_open */
	RLOG_SIM_CMD_CLOSE,	/* rlog_close */
	RLOG_SIM_CMD_REOPEN,	/* close if open, then open and recover */
	RLOG_SIM_CMD_APPEND,	/* u.entries: rlog_append */
	RLOG_SIM_CMD_SYNC,	/* rlog_sync */
	RLOG_SIM_CMD_TRUNCATE,	/* u.index: rlog_truncate */
	RLOG_SIM_CMD_REPLACE,	/* u.entries: rlog_replace */
	RLOG_SIM_CMD_PURGE,	/* u.log_id: rlog_purge */
	RLOG_SIM_CMD_RESET,	/* rlog_reset */
	RLOG_SIM_CMD_HARDSTATE, /* u.hard_state: rlog_hard_state_save */
	RLOG_SIM_CMD_CRASH,	/* crash the disk with the run's policy */
	RLOG_SIM_CMD_FAULT,	/* u.fault: schedule one fault */
	RLOG_SIM_CMD_BITFLIP,	/* u.bitflip: flip one durable bit */
	RLOG_SIM_CMD_EXPECT_LAST_INDEX,	 /* u.index: rlog_last_index */
	RLOG_SIM_CMD_EXPECT_FIRST_INDEX, /* u.index: rlog_first_index */
	RLOG_SIM_CMD_EXPECT_ENTRY,	 /* u.log_id: rlog_get has that term */
	RLOG_SIM_CMD_EXPECT_MISSING,	 /* u.index: rlog_get ENOTFOUND */
	RLOG_SIM_CMD_EXPECT_HARDSTATE, /* u.hard_state: rlog_hard_state_load */
	RLOG_SIM_CMD_EXPECT_PURGED,    /* u.log_id: rlog_purged */
	RLOG_SIM_CMD_CHECK,	       /* run the invariant checker */
	RLOG_SIM_CMD_KIND_END	       /* one past the last kind */
};

/* append FIRST..LAST term=T [size=N] [kind=K], and replace likewise: the
 * entries first_index..last_index (inclusive), all of term and kind, each
 * with a payload of size_bytes (0 for noop and none). At most
 * RLOG_BATCH_ENTRIES_MAX entries and RLOG_BATCH_SIZE_MAX_BYTES of payload,
 * so one command is one engine call. */
struct rlog_sim_cmd_entries {
	uint64_t first_index;
	uint64_t last_index;
	uint64_t term;
	uint64_t size_bytes; /* at most RLOG_ENTRY_SIZE_MAX_BYTES */
	enum rlog_payload_kind kind;
};

/* truncate I, expect last_index N, expect first_index N, expect missing I. */
struct rlog_sim_cmd_index {
	uint64_t index;
};

/* purge I term=T, expect purged I term=T, expect entry I term=T. */
struct rlog_sim_cmd_log_id {
	uint64_t index;
	uint64_t term;
};

/* hardstate ... and expect hardstate ...; none is true only for
 * `expect hardstate none` (no hard state was ever saved), and then value is
 * all zero. Without vote=, value.has_vote is false and the vote fields 0. */
struct rlog_sim_cmd_hard_state {
	bool none;
	struct rlog_hard_state value;
};

/* Which file a fault or bit flip targets. */
enum rlog_sim_scn_file_sel {
	RLOG_SIM_SCN_FILE_ANY = 0, /* any file (a bit flip picks one by seed) */
	RLOG_SIM_SCN_FILE_LAST,	   /* the newest segment file */
	RLOG_SIM_SCN_FILE_META,	   /* the hard-state file, meta */
	RLOG_SIM_SCN_FILE_NAME	   /* the file called name */
};

struct rlog_sim_scn_file {
	enum rlog_sim_scn_file_sel sel;
	/* With RLOG_SIM_SCN_FILE_NAME: a bare name of 1 to RLOG_VFS_NAME_MAX
	 * bytes from [A-Za-z0-9._-], not "." or ".."; else empty. */
	char name[RLOG_VFS_NAME_MAX + 1];
};

/* fault KIND [file=F] [after=N]: the (after + 1)-th operation from now that
 * matches kind and file fails. dirsync_eio takes no file (sel is ANY). */
struct rlog_sim_cmd_fault {
	enum rlog_sim_scn_fault kind;
	struct rlog_sim_scn_file file;
	uint64_t after;
};

/* bitflip F OFFSET|any [bit=B]: flip one bit of durable data. */
struct rlog_sim_cmd_bitflip {
	struct rlog_sim_scn_file file;
	bool offset_any; /* pick the byte offset by seed */
	uint64_t offset; /* byte offset in the file when !offset_any, else 0 */
	bool bit_any;	 /* no bit= given: pick the bit by seed */
	uint8_t bit;	 /* 0..7 when !bit_any, else 0 */
};

/*
 * One command. kind says which member of u is valid; for commands without
 * arguments u is all zero. An `expect error CODE` or `expect corrupt` line is
 * not a command of its own: it sets expect_set on the command right after it,
 * which must be one that calls the engine (open, close, reopen, append,
 * sync, truncate, replace, purge, reset, hardstate, expect entry; only open
 * and reopen after `expect corrupt`). expect_code is then the RLOG_OK or
 * RLOG_E* code that call must return; `expect corrupt` is stored as
 * RLOG_ECORRUPT. Without expect_set the interpreter's default applies.
 */
struct rlog_sim_cmd {
	enum rlog_sim_cmd_kind kind;
	uint32_t line;	      /* 1-based line of the command */
	bool expect_set;      /* an expect error/corrupt line came before */
	int expect_code;      /* RLOG_OK or RLOG_E*; 0 when !expect_set */
	uint32_t expect_line; /* its line; 0 when !expect_set */
	union {
		struct rlog_sim_cmd_entries entries;
		struct rlog_sim_cmd_index index;
		struct rlog_sim_cmd_log_id log_id;
		struct rlog_sim_cmd_hard_state hard_state;
		struct rlog_sim_cmd_fault fault;
		struct rlog_sim_cmd_bitflip bitflip;
	} u;
};

/*
 * A parsed script: the options and the commands in order. A script from
 * rlog_sim_scn_parse owns cmds and is freed with rlog_sim_scn_free. Callers
 * may also build one themselves (to format it, say); such a script must not
 * be passed to rlog_sim_scn_free.
 */
struct rlog_sim_script {
	struct rlog_sim_scn_options options;
	struct rlog_sim_cmd *cmds;
	size_t cmd_count;
	/* Private: the allocator that owns this script and cmds. */
	struct rlog_allocator allocator;
};

/* ---- Parsing. ---- */

/*
 * Parse len bytes of text (no NUL needed; any bytes allowed). name is used
 * in error messages, "<input>" when NULL. On success returns 0 and *out is a
 * new script for rlog_sim_scn_free. On failure *out is NULL and the return is
 * RLOG_EINVAL (a syntax error, or the text is over
 * RLOG_SIM_SCN_TEXT_BYTES_MAX) or RLOG_ENOMEM. Unless err is NULL or err_len
 * is 0, err receives a NUL-terminated message: the one error on failure
 * (truncated to err_len), the empty string on success.
 */
int rlog_sim_scn_parse(const char *name, const char *text, size_t len,
		       struct rlog_sim_script **out, char *err, size_t err_len);

/*
 * rlog_sim_scn_parse with every allocation through allocator (NULL means
 * malloc/realloc/free). The script keeps a copy of *allocator and frees
 * itself with it, so its ctx must outlive the script.
 */
int rlog_sim_scn_parse_alloc(const char *name, const char *text, size_t len,
			     const struct rlog_allocator *allocator,
			     struct rlog_sim_script **out, char *err,
			     size_t err_len);

/*
 * Read the file at path (at most RLOG_SIM_SCN_TEXT_BYTES_MAX bytes) and
 * parse it with path as the name. Returns as rlog_sim_scn_parse, plus
 * RLOG_ENOTFOUND (no such file) and RLOG_EIO (cannot open or read it); err
 * then says why, as "PATH: error: MESSAGE". A file over the cap gives
 * RLOG_EINVAL, as an over-long text does in rlog_sim_scn_parse.
 */
int rlog_sim_scn_parse_file(const char *path, struct rlog_sim_script **out,
			    char *err, size_t err_len);

/* Free a script from rlog_sim_scn_parse*. NULL is a no-op. */
void rlog_sim_scn_free(struct rlog_sim_script *script);

/* Fill *opts with the defaults, set = 0. */
void rlog_sim_scn_options_init(struct rlog_sim_scn_options *opts);

/* ---- Printing and comparing. ---- */

/*
 * Write the canonical text of cmd into buf, like snprintf: at most len - 1
 * bytes and a NUL (nothing when len is 0), returning the full length without
 * the NUL, which is at most RLOG_SIM_SCN_CMD_TEXT_BYTES_MAX. The text is one
 * line ending in '\n', or two when cmd has an expectation (the expect line
 * first). cmd must be a valid command, as the parser builds them.
 */
size_t rlog_sim_cmd_format(const struct rlog_sim_cmd *cmd, char *buf,
			   size_t len);

/*
 * Write the canonical text of a whole script (the options it set, then
 * every command) into buf, like rlog_sim_cmd_format, returning the full
 * length without the NUL. Call with len 0 to learn the size.
 */
size_t rlog_sim_scn_format(const struct rlog_sim_script *script, char *buf,
			   size_t len);

/* True when a and b mean the same command; line numbers are ignored. */
bool rlog_sim_cmd_equal(const struct rlog_sim_cmd *a,
			const struct rlog_sim_cmd *b);

/* True when a and b have equal options and equal commands in order. */
bool rlog_sim_scn_equal(const struct rlog_sim_script *a,
			const struct rlog_sim_script *b);

/* ---- Names. ---- */

/* The keyword(s) of a command kind, e.g. "append" or "expect last_index";
 * "?" for a value outside the enum. */
const char *rlog_sim_cmd_name(enum rlog_sim_cmd_kind kind);

/* The name of a fault kind as the language spells it, e.g. "fsync_eio";
 * "?" for a value outside the enum. */
const char *rlog_sim_scn_fault_name(enum rlog_sim_scn_fault fault);

/* The language's name of an RLOG code, e.g. "OK" or "ECORRUPT"; "?" for a
 * value outside the closed set. */
const char *rlog_sim_scn_code_name(int code);

#ifdef __cplusplus
}
#endif

#endif /* RLOG_SIM_SCN_H */
