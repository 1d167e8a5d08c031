/* SPDX-License-Identifier: MIT */
/* opts.h - the options every subcommand takes: filters and --json.
 *
 * A subcommand lists PF_OPTS_LONG in its getopt_long() table, adds PF_OPTS_SHORT to its
 * short options, and hands every option it does not know itself to pf_opts_handle().
 * Its --help prints PF_OPTS_HELP (or PF_OPTS_HELP_NO_JSON) after its own options.
 */
#ifndef PERFAN_OPTS_H
#define PERFAN_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include <perflog/action.h>

#include "fmt/units.h"

/* getopt values of the long-only options (outside the char range). */
enum {
	PF_OPT_SINCE = 0x100,
	PF_OPT_UNTIL,
	PF_OPT_TASK,
	PF_OPT_FAILED,
	PF_OPT_MIN,
	PF_OPT_JSON,
	PF_OPT_ALLOW_UNREADABLE,
	PF_OPT_FIRST_CMD = 0x200, /* subcommands number their own long-only options from here */
};

#define PF_OPTS_SHORT "ht:"
/* clang-format off */
#define PF_OPTS_LONG                                                                   \
	{"help", no_argument, NULL, 'h'},                                              \
	{"type", required_argument, NULL, 't'},                                        \
	{"since", required_argument, NULL, PF_OPT_SINCE},                              \
	{"until", required_argument, NULL, PF_OPT_UNTIL},                              \
	{"task", required_argument, NULL, PF_OPT_TASK},                                \
	{"failed", no_argument, NULL, PF_OPT_FAILED},                                  \
	{"min", required_argument, NULL, PF_OPT_MIN},                                  \
	{"json", no_argument, NULL, PF_OPT_JSON},                                      \
	{"allow-unreadable", no_argument, NULL, PF_OPT_ALLOW_UNREADABLE}
/* clang-format on */

/* The --help text of the common options: PF_OPTS_HELP, or PF_OPTS_HELP_NO_JSON for a
 * subcommand that rejects --json (export and report write JSON or HTML already). */
#define PF_OPTS_HELP_FILTERS                                                                       \
	"Filters (an action is counted when it passes all of them):\n"                             \
	"  -t, --type GLOB     action types matching GLOB (fnmatch: 'db.*', 'http.[gp]*')\n"       \
	"      --since TIME    actions starting at or after TIME\n"                                \
	"      --until TIME    actions starting before TIME\n"                                     \
	"      --task ID       actions of task ID ('<prefix>-<seq>'), or of the subtree\n"         \
	"                      ID@/a/b (the form perfan and pl_task_format print)\n"               \
	"      --failed        failed actions only\n"                                              \
	"      --min DURATION  actions lasting at least DURATION\n"
#define PF_OPTS_HELP_JSON                                                                          \
	"Output:\n"                                                                                \
	"      --json          JSON on stdout instead of a table (all durations in ns)\n"
#define PF_OPTS_HELP_TAIL                                                                          \
	"      --allow-unreadable\n"                                                               \
	"                      give a result (exit 0 or 1) on what could be read when an\n"        \
	"                      input could not be (default: exit status 3)\n"                      \
	"  -h, --help          this help\n"                                                        \
	"\n"                                                                                       \
	"DURATION is a number with a unit: ns, us, \xc2\xb5s, ms, s, m, h (200ms, 1.5s, 90s,\n"    \
	"1.5h).\n"                                                                                 \
	"TIME is ISO-8601 wall-clock time (2025-11-25T14:02:05, ...05.250Z, ...+01:00; local\n"    \
	"time without a zone), or relative to the input: -5m (before its last record), +30s\n"     \
	"(after its first record).\n"
#define PF_OPTS_HELP	     PF_OPTS_HELP_FILTERS PF_OPTS_HELP_JSON PF_OPTS_HELP_TAIL
#define PF_OPTS_HELP_NO_JSON PF_OPTS_HELP_FILTERS "Other:\n" PF_OPTS_HELP_TAIL

struct pf_opts {
	const char *type_glob; /* NULL: every type */
	bool has_since, has_until;
	struct pf_time since, until;
	bool has_task;
	struct pl_task_ref task; /* depth 0 unless a level was given */
	bool failed_only;
	uint64_t min_ns;
	bool json;
	bool help;
	const char *cmd; /* the subcommand, set by pf_opts_handle() (for --json documents) */
};

/**
 * pf_opts_handle() - take option @c (as returned by getopt_long) with argument @arg.
 * @cmd, @usage: for the usage error message.
 * Returns: 1 if the option was one of the common ones (and valid), 0 if it is not a common
 * option, or PF_EXIT_USAGE negated after printing a usage error for a bad value.
 */
int pf_opts_handle(struct pf_opts *o, int c, const char *arg, const char *cmd, const char *usage);

/**
 * pf_opts_count() - parse @arg, the value of option @opt, as a whole number from @min to
 * @max (decimal, no sign) into *@out: the one rule of every count option (-n, --rows, ...).
 * @cmd, @usage: for the usage error message ("OPT: 'ARG' is not a number from MIN to MAX";
 * "... a count (MIN or more)" when @max is UINT64_MAX).
 * Returns: 0, or PF_EXIT_USAGE after printing the usage error (*@out unchanged).
 */
int pf_opts_count(const char *cmd, const char *usage, const char *opt, const char *arg,
		  uint64_t min, uint64_t max, uint64_t *out);

/**
 * pf_opts_unknown() - the usage error for a getopt_long() '?' or ':' result.
 * Returns: PF_EXIT_USAGE.
 */
int pf_opts_unknown(int c, char **argv, const char *cmd, const char *usage);

#endif /* PERFAN_OPTS_H */
