/* SPDX-License-Identifier: MIT */
/* agg.h - per action type aggregates: counts, failures, total and self time, histogram.
 * Memory: one entry per type seen (plus its histogram), whatever the number of events.
 */
#ifndef PERFAN_AGG_H
#define PERFAN_AGG_H

#include <stdint.h>

#include "analysis/hist.h"
#include "core/spans.h"

struct pf_typestat {
	uint64_t count, failures;
	uint64_t total_ns, self_ns;
	int64_t first_start, last_start, last_end; /* wall (Unix ns) of the actions counted */
	struct pf_hist hist;			   /* of durations */
};

struct pf_agg {
	struct pf_typestat *t; /* by type number; count 0 = type not seen (or filtered out) */
	uint32_t n;
};

void pf_agg_init(struct pf_agg *a);

/** pf_agg_add() - count @sp in its type. Returns: 0, or -1 when out of memory. */
int pf_agg_add(struct pf_agg *a, const struct pf_span *sp);

/**
 * pf_agg_merge() - add @src (another aggregate's entry, e.g. a summary's) into @type's:
 * the same result as adding its spans one by one. Returns: 0, or -1 when out of memory.
 */
int pf_agg_merge(struct pf_agg *a, uint32_t type, const struct pf_typestat *src);

/** pf_agg_get() - the entry of @type, or NULL if there is none (nothing counted). */
const struct pf_typestat *pf_agg_get(const struct pf_agg *a, uint32_t type);

void pf_agg_destroy(struct pf_agg *a);

#endif /* PERFAN_AGG_H */
