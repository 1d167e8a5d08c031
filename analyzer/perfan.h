/* SPDX-License-Identifier: MIT */
/* perfan.h - what perfan.c and the subcommands share: the subcommand descriptor, the exit
 * codes, global options and the two ways of complaining (usage errors and warnings).
 */
#ifndef PERFAN_PERFAN_H
#define PERFAN_PERFAN_H

#include <stdbool.h>

/* Exit codes: stable, documented in `perfan --help` and docs/perfan.md. */
enum pf_exit {
	PF_EXIT_OK = 0,		/* done; for `sla`: every check passed */
	PF_EXIT_FAILED = 1,	/* a check failed (`sla`, `diff`) */
	PF_EXIT_USAGE = 2,	/* bad command line: a message and the usage on stderr */
	PF_EXIT_UNREADABLE = 3, /* an input could not be read (unless --allow-unreadable), no
				 * input could be, or an internal error (e.g. ENOMEM) */
};

/* Options given before the subcommand; they apply to every subcommand. The one instance
 * is pf_global (set by perfan.c's main, before the subcommand runs); subcommands get it
 * as their `g`. */
struct pf_global {
	bool color; /* colour the tables: --color=always, or auto and stdout is a TTY */
	int jobs;   /* decoding threads (--jobs; -1 automatic: one per CPU, at most one per
		     * file; 0 none) */
	bool quiet; /* set while a subcommand reads its inputs a second time: pf_warn() and
		     * pf_error() are silent (the first pass already said it) */
};

/* perfan's options: the one global of the analyzer besides the exit status' counters. */
extern struct pf_global pf_global;

/**
 * struct pf_cmd - one subcommand. Each cmd_<name>.c defines `const struct pf_cmd
 * pf_cmd_<name>` and perfan.c lists it in its table; `perfan --help` is generated from it.
 * @name: the word on the command line.
 * @summary: one line for `perfan --help`.
 * @run: parses its own options from @argv (argv[0] is @name, getopt-ready), prints its own
 *       `--help`, does the work; returns a pf_exit code.
 */
struct pf_cmd {
	const char *name;
	const char *summary;
	int (*run)(const struct pf_global *g, int argc, char **argv);
};

extern const struct pf_cmd pf_cmd_stats;
extern const struct pf_cmd pf_cmd_slowest;
extern const struct pf_cmd pf_cmd_inflight;
extern const struct pf_cmd pf_cmd_sla;
extern const struct pf_cmd pf_cmd_inputs;
extern const struct pf_cmd pf_cmd_tree;
extern const struct pf_cmd pf_cmd_export;
extern const struct pf_cmd pf_cmd_diff;
extern const struct pf_cmd pf_cmd_timeline;
extern const struct pf_cmd pf_cmd_top;
extern const struct pf_cmd pf_cmd_report;
extern const struct pf_cmd pf_cmd_summarize;

/**
 * pf_usage_error() - print "perfan CMD: <message>", the command's usage line and a hint to
 * stderr. Returns: PF_EXIT_USAGE, to be returned by the caller.
 */
int pf_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * pf_note_unreadable() - count an input that could not be read (core/input.c): perfan
 * then exits with PF_EXIT_UNREADABLE where it would have exited with PF_EXIT_OK or
 * PF_EXIT_FAILED, unless pf_allow_unreadable() was called.
 */
void pf_note_unreadable(void);

/** pf_allow_unreadable() - the user's --allow-unreadable: judge what could be read. */
void pf_allow_unreadable(void);

/**
 * pf_exit_status() - @ret, a subcommand's result, or PF_EXIT_UNREADABLE (said on stderr)
 * when it would rest on part of the input without the user's consent: a gate must never
 * pass on what it could not read.
 */
int pf_exit_status(int ret);

/** pf_warn() - print "perfan: warning: <message>" to stderr. */
void pf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** pf_error() - print "perfan: <message>" to stderr. */
void pf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* PERFAN_PERFAN_H */
