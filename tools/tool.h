/*
 * tool.h: what the rlog command-line tool's files share.
 *
 * Exit codes (one set for every subcommand, documented in `rlog --help`
 * and docs/TOOL.md), the subcommand entry points, and small helpers for
 * argument parsing, error messages and output formatting. Symbols that
 * cross files are named rlog_tool_<verb>.
 */
#ifndef RLOG_TOOL_H
#define RLOG_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rlog/rlog.h"

/* ---- Exit codes. ---- */
/* Done; the log is clean (notes allowed). */
#define RLOG_TOOL_EXIT_OK 0
/* Problems found, or the operation refused. */
#define RLOG_TOOL_EXIT_PROBLEM 1
/* Bad command line. */
#define RLOG_TOOL_EXIT_USAGE 2
/* I/O error, missing path, out of memory. */
#define RLOG_TOOL_EXIT_IO 3

/* Subcommands: argv[0] is the subcommand's name. */
int rlog_tool_cmd_stat(int argc, char **argv);
int rlog_tool_cmd_dump(int argc, char **argv);
int rlog_tool_cmd_verify(int argc, char **argv);
int rlog_tool_cmd_repair(int argc, char **argv);
int rlog_tool_cmd_import(int argc, char **argv);

/* True when arg is -h or --help. */
bool rlog_tool_is_help(const char *arg);

/* Parse a decimal u64 (digits only). 0 or -1. */
int rlog_tool_parse_u64(const char *s, uint64_t *out);

/* Print "rlog CMD: PATH: message" to stderr. path may be NULL. */
void rlog_tool_err(const char *cmd, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Check that dir names an existing directory; print why not and return an
 * exit code (RLOG_TOOL_EXIT_IO) when it does not, else 0. */
int rlog_tool_need_dir(const char *cmd, const char *dir);

/* The name of an RLOG_E* code, e.g. "RLOG_ECORRUPT". */
const char *rlog_tool_code_name(int code);

/* "none", "noop", "command", "config". */
const char *rlog_tool_kind_name(enum rlog_payload_kind kind);

/* Print a payload preview of at most max bytes: "text" in quotes when
 * every byte shown is printable ASCII, else hex; "..." when cut. */
void rlog_tool_preview(FILE *f, const uint8_t *p, size_t len, size_t max);

/* Lock state of a log directory, probed without changing anything. */
enum rlog_tool_lock {
	RLOG_TOOL_LOCK_ABSENT = 0, /* no LOCK file */
	RLOG_TOOL_LOCK_FREE = 1,   /* LOCK exists, nobody holds it */
	RLOG_TOOL_LOCK_HELD = 2,   /* another process has the log open */
	RLOG_TOOL_LOCK_UNKNOWN = 3 /* could not tell (permissions) */
};
enum rlog_tool_lock rlog_tool_lock_probe(const char *dir);

/*
 * Decode one d-engine Entry protobuf message (the body of a record, or of
 * a d-engine log.data record). On success *out holds index, term, kind and
 * payload; out->payload points into *scratch, which the function grows
 * with malloc as needed (the caller frees it with free()).
 * Returns 0, RLOG_ECORRUPT (not an Entry rlog can keep: bad wire format,
 * unknown fields, payload over RLOG_ENTRY_SIZE_MAX_BYTES) or RLOG_ENOMEM.
 * Never reads outside body[0..len).
 */
int rlog_tool_entry_decode(const uint8_t *body, size_t len,
			   struct rlog_entry *out, uint8_t **scratch,
			   size_t *scratch_cap);

#endif /* RLOG_TOOL_H */
