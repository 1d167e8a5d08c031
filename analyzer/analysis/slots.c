/* SPDX-License-Identifier: MIT */
/* slots.c - durations over time in slots that widen to fit, and a mergeable sample (see
 * slots.h).
 */
#include <stdlib.h>
#include <string.h>

#include "analysis/hist.h"
#include "analysis/slots.h"
#include "util/grow.h"

#define SEED 0x736c6f7473ull

void pf_slots_init(struct pf_slots *t)
{
	memset(t, 0, sizeof(*t));
	t->rng = SEED;
}

uint64_t pf_sample_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

size_t pf_sample_split(uint64_t calls0, uint64_t calls1, size_t m, uint64_t *rng)
{
	/* m draws without replacement from the union of two populations: how many fall in
	 * the first (a hypergeometric draw, one step at a time). */
	size_t k0 = 0;
	for (size_t i = 0; i < m && calls0 + calls1; i++) {
		if (pf_sample_random(rng) % (calls0 + calls1) < calls0) {
			calls0--;
			k0++;
		} else {
			calls1--;
		}
	}
	return k0;
}

/* Slot key of time @t on the grid of width @w (a power of two): floor(t / w). */
static int64_t key_of(int64_t t, uint64_t w)
{
	return t >> __builtin_ctzll(w); /* an arithmetic shift floors negatives too */
}

static int bin_add(struct pf_slot *s, uint32_t bin, uint64_t n)
{
	uint32_t lo = 0, hi = s->nbins;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (s->bins[mid].bin < bin)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nbins && s->bins[lo].bin == bin) {
		s->bins[lo].count += n;
		return 0;
	}
	if (PF_GROW(s->bins, s->cap, s->nbins, 8) < 0)
		return -1;
	memmove(&s->bins[lo + 1], &s->bins[lo], (s->nbins - lo) * sizeof(*s->bins));
	s->bins[lo] = (struct pf_slot_bin){bin, n};
	s->nbins++;
	return 0;
}

static int slot_merge(struct pf_slot *d, const struct pf_slot *s)
{
	d->count += s->count;
	d->failures += s->failures;
	d->max = s->max > d->max ? s->max : d->max;
	for (uint32_t i = 0; i < s->nbins; i++)
		if (bin_add(d, s->bins[i].bin, s->bins[i].count) < 0)
			return -1;
	return 0;
}

static void slot_free(struct pf_slot *s)
{
	free(s->bins);
	memset(s, 0, sizeof(*s));
}

/* Make the window hold key @key of a grid of width @w (>= t->width), widening it as
 * needed. Returns 0, or -1 when out of memory. */
static int fit(struct pf_slots *t, uint64_t w, int64_t key)
{
	if (!t->s) {
		if (!(t->s = calloc(PF_SLOTS_MAX, sizeof(*t->s))))
			return -1;
		t->width = w;
		t->base = key - PF_SLOTS_MAX / 8; /* room for a little disorder before it */
		return 0;
	}
	int64_t now = key_of(key * (int64_t)w, t->width);
	if (w <= t->width && now >= t->base && now < t->base + PF_SLOTS_MAX)
		return 0; /* the usual case: it is in the window */
	int64_t first = INT64_MAX, last = INT64_MIN;
	for (int64_t i = 0; i < PF_SLOTS_MAX; i++)
		if (t->s[i].count) {
			first = first == INT64_MAX ? i : first;
			last = i;
		}
	uint64_t nw = w > t->width ? w : t->width;
	int64_t lo, hi;
	for (;;) {
		int64_t k = key_of(key * (int64_t)w, nw);
		lo = hi = k;
		if (first != INT64_MAX) {
			int64_t a = key_of((t->base + first) * (int64_t)t->width, nw);
			int64_t b = key_of((t->base + last) * (int64_t)t->width, nw);
			lo = a < lo ? a : lo;
			hi = b > hi ? b : hi;
		}
		if (hi - lo < PF_SLOTS_MAX)
			break;
		nw *= 2;
	}
	int64_t nbase = nw == t->width ? t->base : lo - (PF_SLOTS_MAX - (hi - lo + 1)) / 8;
	if (nw == t->width && lo >= t->base && hi < t->base + PF_SLOTS_MAX)
		return 0;   /* it fits as it is */
	if (nw == t->width) /* same grid, moved: keep the window's start where it fits */
		nbase = lo < t->base ? lo : hi - PF_SLOTS_MAX + 1;
	struct pf_slot *ns = calloc(PF_SLOTS_MAX, sizeof(*ns));
	if (!ns)
		return -1;
	for (int64_t i = 0; i < PF_SLOTS_MAX; i++) {
		if (!t->s[i].count)
			continue;
		int64_t k = key_of((t->base + i) * (int64_t)t->width, nw) - nbase;
		if (slot_merge(&ns[k], &t->s[i]) < 0) {
			for (int64_t j = 0; j < PF_SLOTS_MAX; j++)
				slot_free(&ns[j]);
			free(ns);
			return -1;
		}
	}
	for (int64_t i = 0; i < PF_SLOTS_MAX; i++)
		slot_free(&t->s[i]);
	free(t->s);
	t->s = ns;
	t->width = nw;
	t->base = nbase;
	return 0;
}

/* The slot of key @key of a grid of width @w, the window widened to hold it. */
static struct pf_slot *slot_at(struct pf_slots *t, uint64_t w, int64_t key)
{
	if (fit(t, w, key) < 0)
		return NULL;
	return &t->s[key_of(key * (int64_t)w, t->width) - t->base];
}

int pf_slots_add(struct pf_slots *t, int64_t start, uint64_t d, bool failed)
{
	uint64_t w = t->width ? t->width : PF_SLOTS_MIN_WIDTH;
	struct pf_slot *s = slot_at(t, w, key_of(start, w));
	if (!s || bin_add(s, pf_hist_index(d) >> PF_SLOTS_BIN_SHIFT, 1) < 0)
		return -1;
	s->count++;
	s->failures += failed;
	s->max = d > s->max ? d : s->max;
	/* The sample: reservoir sampling (Vitter's algorithm R). */
	t->calls++;
	struct pf_slot_point p = {start, d, failed};
	if (t->npts < PF_SLOTS_SAMPLE) {
		if (!t->pts && !(t->pts = malloc(PF_SLOTS_SAMPLE * sizeof(*t->pts))))
			return -1;
		t->pts[t->npts++] = p;
	} else {
		uint64_t j = pf_sample_random(&t->rng) % t->calls;
		if (j < PF_SLOTS_SAMPLE)
			t->pts[j] = p;
	}
	return 0;
}

int pf_slots_add_slot(struct pf_slots *t, uint64_t width, int64_t key, const struct pf_slot *s)
{
	int64_t at;
	if (width < PF_SLOTS_MIN_WIDTH || (width & (width - 1)) || width > (1ull << 56) ||
	    __builtin_mul_overflow(key, (int64_t)width, &at) || at > PF_SLOTS_MAX_TIME ||
	    at < -PF_SLOTS_MAX_TIME)
		return -1; /* not a grid this code makes (its callers check before) */
	struct pf_slot *d = slot_at(t, width, key);
	return d ? slot_merge(d, s) : -1;
}

/* Move @k points chosen at random among @pts[0..n) to its front (a partial shuffle). */
static void choose(struct pf_slot_point *pts, size_t n, size_t k, uint64_t *rng)
{
	for (size_t i = 0; i < k && i < n; i++) {
		size_t j = i + pf_sample_random(rng) % (n - i);
		struct pf_slot_point x = pts[i];
		pts[i] = pts[j];
		pts[j] = x;
	}
}

int pf_slots_add_sample(struct pf_slots *t, const struct pf_slot_point *pts, size_t n,
			uint64_t calls)
{
	size_t m = t->npts + n < PF_SLOTS_SAMPLE ? t->npts + n : PF_SLOTS_SAMPLE;
	size_t k0 = pf_sample_split(t->calls, calls, m, &t->rng);
	k0 = k0 < t->npts ? k0 : t->npts;
	size_t k1 = m - k0 < n ? m - k0 : n;
	if (m == 0) {
		t->calls += calls;
		return 0;
	}
	struct pf_slot_point *other = malloc((n ? n : 1) * sizeof(*other));
	if (!other || (!t->pts && !(t->pts = malloc(PF_SLOTS_SAMPLE * sizeof(*t->pts))))) {
		free(other);
		return -1;
	}
	memcpy(other, pts, n * sizeof(*other));
	choose(t->pts, t->npts, k0, &t->rng);
	choose(other, n, k1, &t->rng);
	memcpy(t->pts + k0, other, k1 * sizeof(*other));
	t->npts = k0 + k1;
	t->calls += calls;
	free(other);
	return 0;
}

int pf_slots_merge(struct pf_slots *t, const struct pf_slots *src)
{
	for (int64_t i = 0; src->s && i < PF_SLOTS_MAX; i++)
		if (src->s[i].count &&
		    pf_slots_add_slot(t, src->width, src->base + i, &src->s[i]) < 0)
			return -1;
	return pf_slots_add_sample(t, src->pts, src->npts, src->calls);
}

void pf_slots_destroy(struct pf_slots *t)
{
	for (int64_t i = 0; t->s && i < PF_SLOTS_MAX; i++)
		slot_free(&t->s[i]);
	free(t->s);
	free(t->pts);
	pf_slots_init(t);
}
