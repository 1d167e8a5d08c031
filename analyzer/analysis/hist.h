/* SPDX-License-Identifier: MIT */
/* hist.h - a log-linear (HDR-style) histogram of durations in nanoseconds.
 *
 * Values below 256 ns have a bucket each; above, every power of two [2^k, 2^(k+1)) is
 * cut into 128 equal buckets. A quantile is reported as the middle of the bucket that
 * holds the exact answer, clamped to the exact min and max (and is exact when the answer
 * is the min or the max, e.g. p99 of fewer than 100 values), so:
 *
 *     |reported - exact| <= exact / 256      (relative error <= 0.39%; exact below 256 ns)
 *
 * where "exact" is the nearest-rank quantile: the smallest recorded value v such that at
 * least ceil(q * count) recorded values are <= v. count, sum, min and max are exact.
 * Histograms merge by adding counts (same answer as one histogram of all the values).
 * Memory: 8 bytes per bucket from the smallest to the largest value seen, in steps of 16
 * buckets (128 bytes for a type seen once; at most 7424 buckets, 58 KiB, and 1024 buckets,
 * 8 KiB, for values spanning two decades).
 */
#ifndef PERFAN_HIST_H
#define PERFAN_HIST_H

#include <stdint.h>

#define PF_HIST_SUB_BITS 7
#define PF_HIST_SUB	 (1u << PF_HIST_SUB_BITS)
/** Buckets in all: the bucket of UINT64_MAX is the last one. */
#define PF_HIST_MAX_BUCKETS ((64u - PF_HIST_SUB_BITS + 1) << PF_HIST_SUB_BITS)
/** The documented bound on the relative error of pf_hist_quantile(). */
#define PF_HIST_REL_ERROR (1.0 / (2 * PF_HIST_SUB))

struct pf_hist {
	uint64_t *counts; /* counts[k] is bucket @first + k; @nbuckets allocated */
	uint32_t first, nbuckets;
	uint64_t count, sum, min, max;
};

/** pf_hist_init() - an empty histogram in caller storage (allocates nothing). */
void pf_hist_init(struct pf_hist *h);

/** pf_hist_destroy() - free the buckets; NULL is a no-op. */
void pf_hist_destroy(struct pf_hist *h);

/* Out of line: grow the bucket window to hold bucket @idx. Returns 0 or -1 (ENOMEM). */
int pf_hist_grow_(struct pf_hist *h, uint32_t idx);

/** pf_hist_index() - the bucket of @v. */
static inline uint32_t pf_hist_index(uint64_t v)
{
	if (v < 2 * PF_HIST_SUB)
		return (uint32_t)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v) - PF_HIST_SUB_BITS;
	return ((e + 1) << PF_HIST_SUB_BITS) + (uint32_t)((v >> e) - PF_HIST_SUB);
}

/**
 * pf_hist_record() - add one value.
 * Returns: 0, or -1 if the bucket array could not grow (out of memory; nothing changed).
 */
static inline int pf_hist_record(struct pf_hist *h, uint64_t v)
{
	uint32_t i = pf_hist_index(v);
	/* One compare: below @first, the difference wraps to a large number. */
	if (__builtin_expect(i - h->first >= h->nbuckets, 0) && pf_hist_grow_(h, i) < 0)
		return -1;
	h->counts[i - h->first]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	return 0;
}

/**
 * pf_hist_add_bucket() - add @n to the count of bucket @idx (< PF_HIST_MAX_BUCKETS) only:
 * for rebuilding a histogram from its buckets, the caller then sets count, sum, min and
 * max. Returns: 0, or -1 when out of memory.
 */
int pf_hist_add_bucket(struct pf_hist *h, uint32_t idx, uint64_t n);

/** pf_hist_merge() - add @src's values into @dst. Returns: 0, or -1 (out of memory). */
int pf_hist_merge(struct pf_hist *dst, const struct pf_hist *src);

/**
 * pf_hist_quantile() - the nearest-rank @q-quantile (0 < q <= 1), within the error bound
 * above; q is taken to the millionth (0.999 is exact). Returns: 0 for an empty histogram.
 */
uint64_t pf_hist_quantile(const struct pf_hist *h, double q);

/** pf_hist_quantile_rank() - the rank ceil(@q * count) pf_hist_quantile() answers with. */
uint64_t pf_hist_quantile_rank(const struct pf_hist *h, double q);

/**
 * pf_hist_at_rank() - the @rank-th smallest value (1-based; clamped to 1..count), within
 * the error bound above (exact at the ends). Returns: 0 for an empty histogram.
 */
uint64_t pf_hist_at_rank(const struct pf_hist *h, uint64_t rank);

/** pf_hist_bucket_bounds() - the smallest and largest value of bucket @idx. */
void pf_hist_bucket_bounds(uint32_t idx, uint64_t *lo, uint64_t *hi);

#endif /* PERFAN_HIST_H */
