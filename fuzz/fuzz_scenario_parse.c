/*
 * fuzz_scenario_parse.c: arbitrary text through the scenario parser.
 *
 * Properties (sim/scn.h): rlog_sim_scn_parse is total: it returns either 0
 * and a script, or RLOG_EINVAL / RLOG_ENOMEM with one message that starts
 * with the script's name; a parsed script formats (rlog_sim_scn_format,
 * whose two calls agree on the length) to text that parses again to an
 * equal script (rlog_sim_scn_equal), and formatting that one gives the same
 * text byte for byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rlog/rlog.h"
#include "scn.h"

#define NAME "fuzz_scenario_parse"
#define SCRIPT_NAME "fuzz.scn"

/* Format s into a new NUL-terminated buffer; *len gets its length. */
static char *format(const struct rlog_sim_script *s, size_t *len)
{
	size_t n = rlog_sim_scn_format(s, NULL, 0);
	char *buf = malloc(n + 1);
	if (buf == NULL) {
		fuzz_fail(NAME, "out of memory for %zu bytes", n + 1);
	}
	size_t m = rlog_sim_scn_format(s, buf, n + 1);
	if (m != n || strlen(buf) != n) {
		fuzz_fail(NAME, "format gave %zu bytes, then %zu (strlen %zu)",
			  n, m, strlen(buf));
	}
	*len = n;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rlog_sim_script *s = NULL;
	char err[512];
	int rv = rlog_sim_scn_parse(SCRIPT_NAME, (const char *)data, size, &s,
				    err, sizeof(err));
	if (rv != 0) {
		if (rv != RLOG_EINVAL && rv != RLOG_ENOMEM) {
			fuzz_fail(NAME, "parse returned %d", rv);
		}
		if (s != NULL) {
			fuzz_fail(NAME, "parse failed but returned a script");
		}
		if (strncmp(err, SCRIPT_NAME ":", strlen(SCRIPT_NAME) + 1) !=
			0 ||
		    strstr(err, "error: ") == NULL) {
			fuzz_fail(NAME,
				  "error message \"%s\" does not start "
				  "with \"" SCRIPT_NAME ":\"",
				  err);
		}
		return 0;
	}
	if (s == NULL || err[0] != '\0') {
		fuzz_fail(NAME,
			  "parse succeeded without a script or with "
			  "message \"%s\"",
			  err);
	}
	size_t len = 0;
	char *text = format(s, &len);
	struct rlog_sim_script *t = NULL;
	rv = rlog_sim_scn_parse("formatted.scn", text, len, &t, err,
				sizeof(err));
	if (rv != 0) {
		fuzz_fail(NAME, "formatted script does not parse: %s\n%s", err,
			  text);
	}
	if (!rlog_sim_scn_equal(s, t)) {
		fuzz_fail(NAME,
			  "formatted script parses to a different one:\n%s",
			  text);
	}
	size_t len2 = 0;
	char *text2 = format(t, &len2);
	if (len2 != len || memcmp(text, text2, len) != 0) {
		fuzz_fail(NAME, "formatting is not stable:\n%s\n---\n%s", text,
			  text2);
	}
	free(text2);
	free(text);
	rlog_sim_scn_free(t);
	rlog_sim_scn_free(s);
	return 0;
}
