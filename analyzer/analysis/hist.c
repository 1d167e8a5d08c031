/* SPDX-License-Identifier: MIT */
/* hist.c - log-linear histogram: growth, merge and quantiles (see hist.h for the bounds). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/hist.h"

__extension__ typedef unsigned __int128 u128;

#define HIST_MAX_BUCKETS PF_HIST_MAX_BUCKETS
_Static_assert(HIST_MAX_BUCKETS == 7424, "bucket count of the documented layout");

void pf_hist_init(struct pf_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void pf_hist_destroy(struct pf_hist *h)
{
	if (!h)
		return;
	free(h->counts);
	pf_hist_init(h);
}

#define STEP 16u /* buckets are allocated in aligned steps of this many */

/* Make the window cover buckets [lo, hi] (and what it covers already). */
static int cover(struct pf_hist *h, uint32_t lo, uint32_t hi)
{
	uint32_t first = lo & ~(STEP - 1), last = (hi | (STEP - 1)) + 1; /* [first, last) */
	if (h->nbuckets) {
		uint32_t size = h->nbuckets;
		if (h->first < first)
			first = h->first;
		if (h->first + h->nbuckets > last)
			last = h->first + h->nbuckets;
		/* At least double when growing, so that a slowly moving extreme does not
		 * reallocate at every new bucket: the room goes on the side that grew. */
		if (last - first < 2 * size) {
			if (hi >= h->first + size)
				last = first + 2 * size;
			else
				first = last > 2 * size ? last - 2 * size : 0;
		}
	}
	if (last > HIST_MAX_BUCKETS)
		last = HIST_MAX_BUCKETS;
	uint32_t n = last - first;
	uint64_t *c = malloc(n * sizeof(*c));
	if (!c)
		return -1;
	memset(c, 0, n * sizeof(*c));
	if (h->nbuckets)
		memcpy(c + (h->first - first), h->counts, h->nbuckets * sizeof(*c));
	free(h->counts);
	h->counts = c;
	h->first = first;
	h->nbuckets = n;
	return 0;
}

int pf_hist_grow_(struct pf_hist *h, uint32_t idx)
{
	return cover(h, idx, idx);
}

int pf_hist_add_bucket(struct pf_hist *h, uint32_t idx, uint64_t n)
{
	if (idx - h->first >= h->nbuckets && cover(h, idx, idx) < 0)
		return -1;
	h->counts[idx - h->first] += n;
	return 0;
}

int pf_hist_merge(struct pf_hist *dst, const struct pf_hist *src)
{
	if (src->count == 0)
		return 0;
	uint32_t lo = src->first, hi = src->first + src->nbuckets - 1;
	if ((lo < dst->first || hi >= dst->first + dst->nbuckets || !dst->nbuckets) &&
	    cover(dst, lo, hi) < 0)
		return -1;
	for (uint32_t k = 0; k < src->nbuckets; k++)
		dst->counts[src->first + k - dst->first] += src->counts[k];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	return 0;
}

void pf_hist_bucket_bounds(uint32_t idx, uint64_t *lo, uint64_t *hi)
{
	if (idx < 2 * PF_HIST_SUB) {
		*lo = *hi = idx;
		return;
	}
	unsigned e = (idx >> PF_HIST_SUB_BITS) - 1;
	*lo = (uint64_t)(PF_HIST_SUB + (idx & (PF_HIST_SUB - 1))) << e;
	*hi = *lo + ((uint64_t)1 << e) - 1;
}

uint64_t pf_hist_quantile(const struct pf_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (!(q < 1.0))
		return h->max;
	/* rank = ceil(q * count) in integers: a float product could land on either side of
	 * a whole number (0.999 * 1000) and move the answer by one rank. */
	return pf_hist_at_rank(h, pf_hist_quantile_rank(h, q));
}

uint64_t pf_hist_quantile_rank(const struct pf_hist *h, double q)
{
	uint64_t ppm = q <= 0 ? 0 : (uint64_t)llround(q * 1e6);
	return (uint64_t)(((u128)ppm * h->count + 999999) / 1000000);
}

uint64_t pf_hist_at_rank(const struct pf_hist *h, uint64_t rank)
{
	if (h->count == 0)
		return 0;
	if (rank <= 1)
		return h->min; /* the extremes are kept exactly: no need to estimate them */
	if (rank >= h->count)
		return h->max;
	uint64_t seen = 0;
	for (uint32_t k = 0; k < h->nbuckets; k++) {
		seen += h->counts[k];
		if (seen < rank)
			continue;
		uint64_t lo, hi;
		pf_hist_bucket_bounds(h->first + k, &lo, &hi);
		uint64_t mid = lo + (hi - lo) / 2;
		return mid < h->min ? h->min : mid > h->max ? h->max : mid;
	}
	return h->max;
}
