/* SPDX-License-Identifier: MIT */
/* series.c - latency over time: buckets and a sampled scatter (see series.h). */
#include <stdlib.h>
#include <string.h>

#include "analysis/hist.h"
#include "fmt/units.h"
#include "report/series.h"

/* Coarse bins: the log-linear buckets of hist.h, 16 at a time (8 per power of two). */
#define COARSE_SHIFT	 PF_SLOTS_BIN_SHIFT /* a summary's slots bin as the series does */
#define PF_SERIES_COARSE ((((64u - PF_HIST_SUB_BITS + 1) << PF_HIST_SUB_BITS) >> COARSE_SHIFT))
_Static_assert(PF_SERIES_COARSE == 464, "coarse bins cover every hist.h bucket");

int pf_series_init(struct pf_series *s, int64_t t0, int64_t t1, uint32_t nbuckets, size_t sample,
		   size_t slow, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	if (nbuckets == 0)
		nbuckets = 1;
	uint64_t range = (uint64_t)t1 - (uint64_t)t0 + 1;
	if (range == 0) /* the whole int64 range */
		range = UINT64_MAX;
	s->t0 = t0;
	s->width = range / nbuckets + (range % nbuckets != 0);
	s->nbuckets = (uint32_t)((range + s->width - 1) / s->width);
	s->rng = seed;
	s->sample_cap = sample;
	s->slow_cap = slow;
	s->b = calloc(s->nbuckets, sizeof(*s->b));
	s->sample = calloc(sample ? sample : 1, sizeof(*s->sample));
	s->slow = calloc(slow ? slow : 1, sizeof(*s->slow));
	return s->b && s->sample && s->slow ? 0 : -1;
}

/* splitmix64: a fixed, portable sequence (rand() differs between libcs). */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool less(const struct pf_series_point *a, const struct pf_series_point *b)
{
	if (a->duration_ns != b->duration_ns)
		return a->duration_ns < b->duration_ns;
	return a->order > b->order; /* of equal durations, the first seen ranks higher */
}

static void keep_slow(struct pf_series *s, const struct pf_series_point *p)
{
	struct pf_series_point *h = s->slow;
	size_t i;
	if (s->nslow < s->slow_cap) {
		i = s->nslow++;
		while (i > 0 && less(p, &h[(i - 1) / 2])) {
			h[i] = h[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h[i] = *p;
		return;
	}
	if (!s->slow_cap || !less(&h[0], p))
		return;
	for (i = 0;;) { /* replace the root and sift down */
		size_t l = 2 * i + 1, m = l;
		if (l >= s->nslow)
			break;
		if (l + 1 < s->nslow && less(&h[l + 1], &h[l]))
			m = l + 1;
		if (!less(&h[m], p))
			break;
		h[i] = h[m];
		i = m;
	}
	h[i] = *p;
}

int pf_series_add(struct pf_series *s, int64_t start, uint64_t duration_ns, bool failed)
{
	struct pf_series_point p = {start, duration_ns, s->seen, failed};
	uint64_t n = s->seen++;
	if (s->nsample < s->sample_cap) {
		s->sample[s->nsample++] = p;
	} else if (s->sample_cap) {
		uint64_t r = next_random(&s->rng) % (n + 1);
		if (r < s->sample_cap)
			s->sample[r] = p;
	}
	keep_slow(s, &p);
	uint64_t i = ((uint64_t)start - (uint64_t)s->t0) / s->width;
	if (start < s->t0 || i >= s->nbuckets) {
		s->outside++;
		return 0;
	}
	struct pf_series_bucket *b = &s->b[i];
	if (!b->coarse && !(b->coarse = calloc(PF_SERIES_COARSE, sizeof(*b->coarse))))
		return -1;
	b->count++;
	b->failures += failed;
	if (duration_ns > b->max)
		b->max = duration_ns;
	b->coarse[pf_hist_index(duration_ns) >> COARSE_SHIFT]++;
	return 0;
}

/* The bucket of @start, or NULL (counted outside) when it is not in the range. */
static struct pf_series_bucket *bucket_of(struct pf_series *s, int64_t start, uint64_t n)
{
	uint64_t i = ((uint64_t)start - (uint64_t)s->t0) / s->width;
	if (start < s->t0 || i >= s->nbuckets) {
		s->outside += n;
		return NULL;
	}
	return &s->b[i];
}

int pf_series_add_slot(struct pf_series *s, int64_t start, const struct pf_slot *slot)
{
	struct pf_series_bucket *b = bucket_of(s, start, slot->count);
	if (!b)
		return 0;
	if (!b->coarse && !(b->coarse = calloc(PF_SERIES_COARSE, sizeof(*b->coarse))))
		return -1;
	b->count += slot->count;
	b->failures += slot->failures;
	b->max = slot->max > b->max ? slot->max : b->max;
	for (uint32_t i = 0; i < slot->nbins; i++) {
		if (slot->bins[i].bin >= PF_SERIES_COARSE)
			continue;
		uint32_t *c = &b->coarse[slot->bins[i].bin]; /* saturating: counts are 32-bit */
		uint64_t v = (uint64_t)*c + slot->bins[i].count;
		*c = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	return 0;
}

/* A summary's point: its order is made of what it is (high bit set: not an arrival
 * number), so that a call both sampled and among the slowest is drawn once. */
static struct pf_series_point summary_point(int64_t start, uint64_t d, bool failed)
{
	uint64_t h = ((uint64_t)start * 0x9e3779b97f4a7c15ull) ^ (d * 0xbf58476d1ce4e5b9ull);
	return (struct pf_series_point){start, d, h | 1ull << 63, failed};
}

int pf_series_add_sample(struct pf_series *s, const struct pf_slot_point *pts, size_t n,
			 uint64_t calls)
{
	size_t m = s->nsample + n < s->sample_cap ? s->nsample + n : s->sample_cap;
	size_t k0 = pf_sample_split(s->seen, calls, m, &s->rng);
	k0 = k0 < s->nsample ? k0 : s->nsample;
	size_t k1 = m - k0 < n ? m - k0 : n;
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!idx)
		return -1;
	for (size_t i = 0; i < k0; i++) { /* k0 of ours, at random, to the front */
		size_t j = i + next_random(&s->rng) % (s->nsample - i);
		struct pf_series_point x = s->sample[i];
		s->sample[i] = s->sample[j];
		s->sample[j] = x;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 0; i < k1; i++) { /* and k1 of theirs */
		size_t j = i + next_random(&s->rng) % (n - i), x = idx[i];
		idx[i] = idx[j];
		idx[j] = x;
		const struct pf_slot_point *p = &pts[idx[i]];
		s->sample[k0 + i] = summary_point(p->start, p->duration_ns, p->failed);
	}
	s->nsample = k0 + k1;
	s->seen += calls;
	free(idx);
	return 0;
}

void pf_series_add_slow(struct pf_series *s, int64_t start, uint64_t d, bool failed)
{
	struct pf_series_point p = summary_point(start, d, failed);
	keep_slow(s, &p);
}

/* Nearest-rank @q-quantile of a bucket: the middle of the coarse bin holding it. */
static uint64_t bucket_quantile(const struct pf_series_bucket *b, double q)
{
	uint64_t rank = (uint64_t)(q * (double)b->count);
	if ((double)rank < q * (double)b->count)
		rank++;
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (uint32_t c = 0; c < PF_SERIES_COARSE; c++) {
		seen += b->coarse[c];
		if (seen < rank)
			continue;
		uint64_t lo, hi, lo2, hi2;
		pf_hist_bucket_bounds(c << COARSE_SHIFT, &lo, &hi);
		pf_hist_bucket_bounds((c << COARSE_SHIFT) + (1u << COARSE_SHIFT) - 1, &lo2, &hi2);
		uint64_t mid = lo + (hi2 - lo) / 2;
		return mid > b->max ? b->max : mid;
	}
	return b->max;
}

static int by_order(const void *pa, const void *pb)
{
	const struct pf_series_point *a = pa, *b = pb;
	return (a->order > b->order) - (a->order < b->order);
}

static int by_start(const void *pa, const void *pb)
{
	const struct pf_series_point *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return by_order(pa, pb);
}

void pf_series_json(const struct pf_series *s, int64_t origin, struct pf_json *j)
{
	pf_json_key(j, "count");
	pf_json_uint(j, s->seen);
	/* The union of the sample and the slowest, each call once. */
	size_t n = s->nsample + s->nslow, k = 0;
	struct pf_series_point *all = malloc((n ? n : 1) * sizeof(*all));
	if (all) {
		memcpy(all, s->sample, s->nsample * sizeof(*all));
		memcpy(all + s->nsample, s->slow, s->nslow * sizeof(*all));
		qsort(all, n, sizeof(*all), by_order);
		for (size_t i = 0; i < n; i++)
			if (!k || all[i].order != all[k - 1].order)
				all[k++] = all[i];
		qsort(all, k, sizeof(*all), by_start);
	}
	pf_json_key(j, "sampled");
	pf_json_uint(j, k);
	pf_json_key(j, "points");
	pf_json_array_begin(j);
	for (size_t i = 0; i < k; i++) {
		pf_json_array_begin(j);
		pf_json_int(j, pf_wall_diff(all[i].start, origin));
		pf_json_uint(j, all[i].duration_ns);
		pf_json_uint(j, all[i].failed);
		pf_json_array_end(j);
	}
	pf_json_array_end(j);
	free(all);
	pf_json_key(j, "buckets");
	pf_json_array_begin(j);
	for (uint32_t i = 0; i < s->nbuckets; i++) {
		const struct pf_series_bucket *b = &s->b[i];
		if (!b->count)
			continue;
		pf_json_array_begin(j);
		pf_json_uint(j, i);
		pf_json_uint(j, b->count);
		pf_json_uint(j, b->failures);
		pf_json_uint(j, bucket_quantile(b, 0.5));
		pf_json_uint(j, bucket_quantile(b, 0.99));
		pf_json_uint(j, b->max);
		pf_json_array_end(j);
	}
	pf_json_array_end(j);
}

void pf_series_destroy(struct pf_series *s)
{
	for (uint32_t i = 0; s->b && i < s->nbuckets; i++)
		free(s->b[i].coarse);
	free(s->b);
	free(s->sample);
	free(s->slow);
	memset(s, 0, sizeof(*s));
}
