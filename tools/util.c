/*
 * util.c: argument parsing, error messages, output formatting and the
 * read-only lock probe shared by the rlog tool's subcommands.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

bool rlog_tool_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int rlog_tool_parse_u64(const char *s, uint64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9') {
		return -1;
	}
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

void rlog_tool_err(const char *cmd, const char *path, const char *fmt, ...)
{
	fprintf(stderr, "rlog %s: ", cmd);
	if (path != NULL) {
		fprintf(stderr, "%s: ", path);
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int rlog_tool_need_dir(const char *cmd, const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		rlog_tool_err(cmd, dir, "%s", strerror(errno));
		return RLOG_TOOL_EXIT_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		rlog_tool_err(cmd, dir, "not a directory");
		return RLOG_TOOL_EXIT_IO;
	}
	return 0;
}

const char *rlog_tool_code_name(int code)
{
	switch (code) {
	case RLOG_OK:
		return "RLOG_OK";
	case RLOG_EINVAL:
		return "RLOG_EINVAL";
	case RLOG_ENOMEM:
		return "RLOG_ENOMEM";
	case RLOG_EIO:
		return "RLOG_EIO";
	case RLOG_ENOSPC:
		return "RLOG_ENOSPC";
	case RLOG_ECORRUPT:
		return "RLOG_ECORRUPT";
	case RLOG_ENOTFOUND:
		return "RLOG_ENOTFOUND";
	case RLOG_EFATAL:
		return "RLOG_EFATAL";
	case RLOG_EBUSY:
		return "RLOG_EBUSY";
	case RLOG_EVERSION:
		return "RLOG_EVERSION";
	default:
		return "RLOG_E?";
	}
}

const char *rlog_tool_kind_name(enum rlog_payload_kind kind)
{
	switch (kind) {
	case RLOG_PAYLOAD_NONE:
		return "none";
	case RLOG_PAYLOAD_NOOP:
		return "noop";
	case RLOG_PAYLOAD_COMMAND:
		return "command";
	case RLOG_PAYLOAD_CONFIG:
		return "config";
	}
	return "?";
}

void rlog_tool_preview(FILE *f, const uint8_t *p, size_t len, size_t max)
{
	size_t n = len < max ? len : max;
	bool text = true;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e) {
			text = false;
			break;
		}
	}
	if (text) {
		fputc('"', f);
		for (size_t i = 0; i < n; i++) {
			if (p[i] == '"' || p[i] == '\\') {
				fputc('\\', f);
			}
			fputc(p[i], f);
		}
		fputc('"', f);
	} else {
		fputs("hex:", f);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%02x", p[i]);
		}
	}
	if (n < len) {
		fputs("...", f);
	}
}

enum rlog_tool_lock rlog_tool_lock_probe(const char *dir)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/LOCK", dir) >=
	    sizeof(path)) {
		return RLOG_TOOL_LOCK_UNKNOWN;
	}
	/* Read-only and shared: the probe creates nothing and, released at
	 * once, never keeps a writer out. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOENT ? RLOG_TOOL_LOCK_ABSENT
				       : RLOG_TOOL_LOCK_UNKNOWN;
	}
	enum rlog_tool_lock st = RLOG_TOOL_LOCK_FREE;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
		st = errno == EWOULDBLOCK ? RLOG_TOOL_LOCK_HELD
					  : RLOG_TOOL_LOCK_UNKNOWN;
	} else {
		flock(fd, LOCK_UN);
	}
	close(fd);
	return st;
}
