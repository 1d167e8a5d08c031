/* SPDX-License-Identifier: MIT */
/* signif.h - is the change of a percentile between two sets of durations real, or noise?
 *
 * The method: a bootstrap of the percentile of each side, computed from perfan's
 * histograms without the values. In a resample of n values drawn from a side, the
 * nearest-rank q-quantile (rank k = ceil(q n)) is the value at a position U of the side's
 * distribution, and U follows Beta(k, n - k + 1) (the k-th order statistic of n uniforms).
 * So one bootstrap draw of a side's percentile is one Beta draw and one lookup in its
 * histogram (its bucket's middle, clamped to the side's min and max). Each of
 * PF_SIGNIF_DRAWS draws gives a relative change (new* - base*) / base; their 2.5th and
 * 97.5th percentiles are the 95 % interval, and their mean and standard deviation the
 * p-value of "no change" (two-sided, normal approximation: p = erfc(|mean / sd| / sqrt 2)).
 *
 * What it assumes: each side's calls are independent draws of one distribution (calls
 * that run slower together, e.g. in one slow minute, make it too confident). Values
 * within one histogram bucket (0.39 %) are alike. Deterministic: the random numbers are
 * seeded by the caller (perfan diff: from the type's name), so a run repeats exactly.
 */
#ifndef PERFAN_SIGNIF_H
#define PERFAN_SIGNIF_H

#include <stdint.h>

#include "analysis/hist.h"

/** Bootstrap draws per comparison: ~0.45 ms on the reference machine (less with many calls). */
#define PF_SIGNIF_DRAWS 2000

struct pf_signif {
	double change;		/* (new - base) / base of the q-quantiles (NAN: base 0) */
	double ci_low, ci_high; /* 95 % bootstrap interval of @change */
	double p_value;		/* of "the q-quantile did not change", two-sided */
};

/**
 * pf_signif_quantile() - compare the @q-quantile (0 < q < 1) of @base and @new.
 * @seed: seeds the draws (the same seed, the same answer).
 * Returns: 0; -1 when a side is empty or out of memory (*@out then says nothing).
 */
int pf_signif_quantile(const struct pf_hist *base, const struct pf_hist *new, double q,
		       uint64_t seed, struct pf_signif *out);

#endif /* PERFAN_SIGNIF_H */
