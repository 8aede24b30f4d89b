/*
 * rlog: the command-line tool for operators looking at a log directory.
 *
 *   rlog stat DIR                 summary, read the way recovery reads it
 *   rlog dump DIR [...]           entries as text or JSON lines
 *   rlog verify DIR               every check, every problem
 *   rlog repair DIR [...]         cut a torn tail (or, forced, damage)
 *   rlog import-dengine SRC DST   convert a d-engine directory
 *
 * stat, dump and verify never change the directory and work on a log that
 * does not open. docs/TOOL.md describes every command and its output.
 */
#define _GNU_SOURCE
#include <string.h>

#include "tool.h"

static const char usage[] =
    "usage: rlog COMMAND [ARGS] (rlog COMMAND --help for details)\n"
    "\n"
    "commands:\n"
    "  stat DIR              format, lock, meta, hard state, purge boundary,\n"
    "                        index range, segments, torn tail, verdict\n"
    "  dump DIR [--from I] [--to J] [--json] [--raw]\n"
    "                        entries as text or JSON lines\n"
    "  verify DIR            check every record, header, link and meta slot\n"
    "  repair DIR [--dry-run] [--force]\n"
    "                        remove a torn tail (backed up); --force also\n"
    "                        cuts at damage to acknowledged data\n"
    "  import-dengine SRC DST [--dry-run]\n"
    "                        convert a d-engine FileStorageEngine directory\n"
    "\n"
    "stat, dump and verify only read: they take no lock, write nothing and\n"
    "work on a directory whose log does not open.\n"
    "\n"
    "exit status (every command):\n"
    "  0  success; the log is clean (notes allowed)\n"
    "  1  problems found, or the operation refused (corrupt log, log open\n"
    "     elsewhere, acknowledged data at stake, entries left out)\n"
    "  2  bad usage\n"
    "  3  I/O error, missing path, out of memory\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return RLOG_TOOL_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (rlog_tool_is_help(cmd) || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return RLOG_TOOL_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("rlog %d.%d.%d\n", RLOG_VERSION_MAJOR,
		       RLOG_VERSION_MINOR, RLOG_VERSION_PATCH);
		return RLOG_TOOL_EXIT_OK;
	}
	int sub_argc = argc - 1;
	char **sub_argv = argv + 1;
	if (strcmp(cmd, "stat") == 0) {
		return rlog_tool_cmd_stat(sub_argc, sub_argv);
	}
	if (strcmp(cmd, "dump") == 0) {
		return rlog_tool_cmd_dump(sub_argc, sub_argv);
	}
	if (strcmp(cmd, "verify") == 0) {
		return rlog_tool_cmd_verify(sub_argc, sub_argv);
	}
	if (strcmp(cmd, "repair") == 0) {
		return rlog_tool_cmd_repair(sub_argc, sub_argv);
	}
	if (strcmp(cmd, "import-dengine") == 0) {
		return rlog_tool_cmd_import(sub_argc, sub_argv);
	}
	fprintf(stderr, "rlog: unknown command '%s'\n%s", cmd, usage);
	return RLOG_TOOL_EXIT_USAGE;
}
