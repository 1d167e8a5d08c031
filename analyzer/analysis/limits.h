/* SPDX-License-Identifier: MIT */
/* limits.h - latency limits (--p50 ... --max) and the verdict of a type against them,
 * shared by `perfan sla` (the CI gate) and `perfan report` (which shows the verdicts).
 *
 * A type fails when an observed value exceeds its limit: the nearest-rank percentile of
 * its histogram (within PF_HIST_REL_ERROR, so a value within 0.39% of its limit may be
 * judged either way) or its exact maximum.
 */
#ifndef PERFAN_LIMITS_H
#define PERFAN_LIMITS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "analysis/hist.h"

/** The checks, in column order: p50, p90, p95, p99, p99.9, max. */
#define PF_LIMITS_N 6

struct pf_limit_check {
	const char *opt;  /* option name without "--", and the name in "FAIL (p99)": "p99" */
	const char *name; /* table heading: "P99" */
	const char *key;  /* JSON key: "p99_ns" */
	double q;	  /* quantile; 1.0 is the maximum (exact) */
};

extern const struct pf_limit_check pf_limit_checks[PF_LIMITS_N];

/* getopt values of the limit options: above opts.h's own, below the subcommands'. */
#define PF_OPT_LIMIT 0x180

/* clang-format off */
#define PF_LIMITS_LONG                                                                 \
	{"p50", required_argument, NULL, PF_OPT_LIMIT + 0},                            \
	{"p90", required_argument, NULL, PF_OPT_LIMIT + 1},                            \
	{"p95", required_argument, NULL, PF_OPT_LIMIT + 2},                            \
	{"p99", required_argument, NULL, PF_OPT_LIMIT + 3},                            \
	{"p999", required_argument, NULL, PF_OPT_LIMIT + 4},                           \
	{"max", required_argument, NULL, PF_OPT_LIMIT + 5}
/* clang-format on */

#define PF_LIMITS_HELP                                                                             \
	"      --p50 D, --p90 D, --p95 D, --p99 D, --p999 D, --max D\n"                            \
	"                      the largest allowed percentile or maximum duration\n"

/** struct pf_limits - the limits given; @set[i] tells whether pf_limit_checks[i] is. */
struct pf_limits {
	bool set[PF_LIMITS_N];
	uint64_t ns[PF_LIMITS_N];
};

/** struct pf_verdict - one type against the limits. */
struct pf_verdict {
	uint64_t observed[PF_LIMITS_N]; /* for the limits set */
	bool over[PF_LIMITS_N];
	bool fail;
	uint64_t lowest_over; /* the smallest limit exceeded (UINT64_MAX if none) */
};

/**
 * pf_limits_handle() - take getopt_long() result @c with argument @arg, as pf_opts_handle().
 * @cmd, @usage: for the usage error message.
 * Returns: 1 if @c is a limit option (and @arg a valid duration), 0 if it is not one, or
 * PF_EXIT_USAGE negated after printing a usage error.
 */
int pf_limits_handle(struct pf_limits *l, int c, const char *arg, const char *cmd,
		     const char *usage);

/** pf_limits_any() - was any limit given? */
bool pf_limits_any(const struct pf_limits *l);

/** pf_limits_check() - judge the durations of @h against @l into @v. */
void pf_limits_check(const struct pf_limits *l, const struct pf_hist *h, struct pf_verdict *v);

#endif /* PERFAN_LIMITS_H */
