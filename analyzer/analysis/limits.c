/* SPDX-License-Identifier: MIT */
/* limits.c - latency limits and verdicts (see limits.h). */
#include <string.h>

#include "analysis/limits.h"
#include "fmt/units.h"
#include "perfan.h"

const struct pf_limit_check pf_limit_checks[PF_LIMITS_N] = {
    {"p50", "P50", "p50_ns", 0.5},	 {"p90", "P90", "p90_ns", 0.9},
    {"p95", "P95", "p95_ns", 0.95},	 {"p99", "P99", "p99_ns", 0.99},
    {"p999", "P99.9", "p999_ns", 0.999}, {"max", "MAX", "max_ns", 1.0},
};

int pf_limits_handle(struct pf_limits *l, int c, const char *arg, const char *cmd,
		     const char *usage)
{
	int i = c - PF_OPT_LIMIT;
	if (i < 0 || i >= PF_LIMITS_N)
		return 0;
	if (pf_duration_parse(arg, &l->ns[i]) < 0)
		return -pf_usage_error(cmd, usage,
				       "--%s: '%s' is not a duration (a number and one of "
				       "ns us \xc2\xb5s ms s m)",
				       pf_limit_checks[i].opt, arg);
	l->set[i] = true;
	return 1;
}

bool pf_limits_any(const struct pf_limits *l)
{
	for (size_t i = 0; i < PF_LIMITS_N; i++)
		if (l->set[i])
			return true;
	return false;
}

void pf_limits_check(const struct pf_limits *l, const struct pf_hist *h, struct pf_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->lowest_over = UINT64_MAX;
	for (size_t i = 0; i < PF_LIMITS_N; i++) {
		if (!l->set[i])
			continue;
		v->observed[i] = pf_hist_quantile(h, pf_limit_checks[i].q);
		v->over[i] = v->observed[i] > l->ns[i];
		if (v->over[i] && l->ns[i] < v->lowest_over)
			v->lowest_over = l->ns[i];
		v->fail |= v->over[i];
	}
}
