/* SPDX-License-Identifier: MIT */
/* series.h - the latency of one action type over wall-clock time, in bounded memory:
 * "when did it get slow?" for `perfan report`.
 *
 * Two views of the same calls, fed in any order:
 *  - buckets: the time range [t0, t0 + nbuckets * width) is cut into equal buckets by the
 *    calls' start; each counts calls and failures, keeps the exact maximum and a coarse
 *    histogram (8 bins per power of two: the log-linear buckets of hist.h taken 16 at a
 *    time), from which the bucket's p50 and p99 are read to within PF_SERIES_REL_ERROR
 *    (±8 ns below 256 ns). Memory: 1.9 KB per bucket that holds a call.
 *  - points: a sample of single calls (start, duration, outcome) for a scatter plot: a
 *    uniform random sample of at most @sample calls (reservoir sampling, Vitter's
 *    algorithm R, with a fixed seed so that a report is reproducible) plus, always, the
 *    @slow slowest calls. Memory: 24 bytes per point kept.
 */
#ifndef PERFAN_SERIES_H
#define PERFAN_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/slots.h"
#include "fmt/jsonw.h"

/** Bound on the relative error of a bucket's percentiles (above 256 ns). */
#define PF_SERIES_REL_ERROR (1.0 / 16)

struct pf_series_point {
	int64_t start; /* Unix ns */
	uint64_t duration_ns;
	uint64_t order; /* arrival number: ties and duplicates (sampled and slowest) */
	bool failed;
};

struct pf_series_bucket {
	uint64_t count, failures, max;
	uint32_t *coarse; /* PF_SERIES_COARSE counts, NULL until the first call */
};

struct pf_series {
	int64_t t0;
	uint64_t width; /* ns per bucket, at least 1 */
	uint32_t nbuckets;
	struct pf_series_bucket *b;
	struct pf_series_point *sample; /* the reservoir */
	size_t nsample, sample_cap;
	struct pf_series_point *slow; /* min-heap by duration: the slowest calls */
	size_t nslow, slow_cap;
	uint64_t seen;	  /* calls fed */
	uint64_t outside; /* calls starting outside the range (counted in no bucket) */
	uint64_t rng;	  /* splitmix64 state */
};

/**
 * pf_series_init() - an empty series over [@t0, @t1] (Unix ns, @t1 >= @t0) in @nbuckets
 * buckets, keeping a sample of @sample calls plus the @slow slowest, drawn with @seed.
 * Returns: 0, or -1 when out of memory (pf_series_destroy() in every case).
 */
int pf_series_init(struct pf_series *s, int64_t t0, int64_t t1, uint32_t nbuckets, size_t sample,
		   size_t slow, uint64_t seed);

/** pf_series_add() - count one call. Returns: 0, or -1 when out of memory. */
int pf_series_add(struct pf_series *s, int64_t start, uint64_t duration_ns, bool failed);

/**
 * pf_series_add_slot() - count the calls of a summary's slot (slots.h) as if they all
 * started at @start (the slot's middle). Returns: 0, or -1 when out of memory.
 */
int pf_series_add_slot(struct pf_series *s, int64_t start, const struct pf_slot *slot);

/**
 * pf_series_add_sample() - merge @pts, a uniform sample of @calls calls (a summary's), into
 * the sample: the result is a uniform sample of all the calls. Returns: 0, or -1 (ENOMEM).
 */
int pf_series_add_sample(struct pf_series *s, const struct pf_slot_point *pts, size_t n,
			 uint64_t calls);

/** pf_series_add_slow() - offer one of a summary's slowest calls for the slowest points. */
void pf_series_add_slow(struct pf_series *s, int64_t start, uint64_t d, bool failed);

/**
 * pf_series_json() - members of the current object: "count", "sampled" (points written),
 * "points": [[start - @origin, duration_ns, failed 0/1], ...] in time order, and
 * "buckets": [[index, count, failures, p50_ns, p99_ns, max_ns], ...] for buckets with calls.
 */
void pf_series_json(const struct pf_series *s, int64_t origin, struct pf_json *j);

void pf_series_destroy(struct pf_series *s);

#endif /* PERFAN_SERIES_H */
