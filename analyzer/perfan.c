/* SPDX-License-Identifier: MIT */
/* perfan.c - main(): global options, the subcommand table, help generated from it, and
 * the exit codes. Each subcommand lives in cmd/<name>.c and parses its own options.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <perflog/perflog.h>

#include "analysis/hist.h"
#include "core/input.h"
#include "perfan.h"

/* clang-format off */
static const struct pf_cmd *const commands[] = {
    &pf_cmd_stats,
    &pf_cmd_slowest,
    &pf_cmd_inflight,
    &pf_cmd_sla,
    &pf_cmd_inputs,
    &pf_cmd_tree,
    &pf_cmd_timeline,
    &pf_cmd_top,
    &pf_cmd_export,
    &pf_cmd_diff,
    &pf_cmd_report,
    &pf_cmd_summarize,
};
/* clang-format on */

#define USAGE "perfan [--color WHEN] [--jobs N] SUBCOMMAND [OPTIONS] TRACE..."

static void help(void)
{
	printf("Usage: %s\n"
	       "\n"
	       "Analyze perflog traces: which calls are slow, with which inputs, inside which\n"
	       "request; check latency limits in CI.\n"
	       "\n"
	       "Subcommands:\n",
	       USAGE);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-9s %s\n", commands[i]->name, commands[i]->summary);
	printf("\n"
	       "Global options (before the subcommand):\n"
	       "      --color WHEN  colour tables: auto (default: when stdout is a terminal and\n"
	       "                    NO_COLOR is unset), always, never\n"
	       "  -j, --jobs N      decoding threads besides the main one (default: one per\n"
	       "                    CPU, at most 8 and at most one per file; 0: decode in\n"
	       "                    the main thread). Results are the same.\n"
	       "  -h, --help        this help\n"
	       "  -V, --version     print the version\n"
	       "\n"
	       "TRACE is a trace file or a directory of them; several are merged by time.\n"
	       "Percentiles are nearest-rank, within %.2f%% relative error (a log-linear\n"
	       "histogram; exact below 256 ns); counts, totals, min and max are exact.\n"
	       "\n"
	       "Exit status: 0 done (sla: every limit met; diff: no regression), 1 an sla limit\n"
	       "was exceeded or diff found a regression, 2 usage error, 3 an input could not\n"
	       "be read (its header, at least: the rest is reported on, but no verdict is\n"
	       "given on part of the input unless the subcommand has --allow-unreadable), no\n"
	       "input could be read, or an internal error (out of memory). Damaged files only\n"
	       "warn: the records before the damage are analyzed. In a directory, files that\n"
	       "are not perflog traces are skipped with a warning.\n"
	       "\n"
	       "Run 'perfan SUBCOMMAND --help' for the options of a subcommand.\n",
	       100.0 * PF_HIST_REL_ERROR);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"color", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	const char *color = getenv("NO_COLOR") && *getenv("NO_COLOR") ? "never" : "auto";
	int c;
	opterr = 0;
	/* "+": stop at the subcommand; its options are its own. */
	while ((c = getopt_long(argc, argv, "+:hVj:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			color = optarg;
			break;
		case 'j': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 0 || n > 64)
				return pf_usage_error(NULL, USAGE,
						      "--jobs: '%s' is not a number from 0 to 64",
						      optarg);
			pf_global.jobs = (int)n;
			break;
		}
		case 'h':
			help();
			return PF_EXIT_OK;
		case 'V':
			printf("perfan %s (libperflog %s)\n", PL_VERSION_STRING,
			       pl_version_string());
			return PF_EXIT_OK;
		case ':':
			return pf_usage_error(NULL, USAGE, "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			return pf_usage_error(NULL, USAGE, "unknown option '%s'", argv[optind - 1]);
		}
	}
	struct pf_global *g = &pf_global;
	if (strcmp(color, "always") == 0)
		g->color = true;
	else if (strcmp(color, "auto") == 0)
		g->color =
		    isatty(STDOUT_FILENO) && !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb"));
	else if (strcmp(color, "never") != 0)
		return pf_usage_error(NULL, USAGE, "--color: '%s' is not auto, always or never",
				      color);
	if (optind >= argc)
		return pf_usage_error(NULL, USAGE, "no subcommand given");
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i]->name) != 0)
			continue;
		int first = optind;
		optind = 0; /* glibc: reinitialize getopt for the subcommand's own argv */
		return pf_exit_status(commands[i]->run(g, argc - first, argv + first));
	}
	return pf_usage_error(NULL, USAGE, "unknown subcommand '%s'", name);
}
