/* SPDX-License-Identifier: MIT */
/* argmerge.c - argument statistics of parts merged into those of the whole, and their
 * tails read back from the groups' histograms (summaries: see argstats.h).
 */
#include <stdlib.h>
#include <string.h>

#include "analysis/argstats.h"
#include "analysis/argstats_int.h"
#include "util/hash.h"

/* Widen @dst's seen range by @src's (@dst_empty: @dst has no value yet). */
static void widen(struct pf_group *dst, const struct pf_group *src, bool dst_empty)
{
	if (dst_empty || src->seen_lo < dst->seen_lo)
		dst->seen_lo = src->seen_lo;
	if (dst_empty || src->seen_hi > dst->seen_hi)
		dst->seen_hi = src->seen_hi;
	if (dst_empty || src->fseen_lo < dst->fseen_lo)
		dst->fseen_lo = src->fseen_lo;
	if (dst_empty || src->fseen_hi > dst->fseen_hi)
		dst->fseen_hi = src->fseen_hi;
}

static int merge_arg(struct pf_argstats *dst, struct pf_arg *d, const struct pf_arg *a)
{
	d->calls += a->calls;
	d->folded_calls += a->folded_calls;
	d->folded_values += a->folded_values;
	d->capped_calls += a->capped_calls;
	if (a->folded) {
		if (!d->folded &&
		    !(d->folded = calloc(PF_ARGSTATS_FOLDED_BITS / 64, sizeof(uint64_t))))
			return -1;
		for (size_t i = 0; i < PF_ARGSTATS_FOLDED_BITS / 64; i++)
			d->folded[i] |= a->folded[i];
	}
	for (size_t m = 0; m < a->ng; m++) {
		const struct pf_group *g = &a->g[m];
		struct pf_group *dg = g->cls == PF_G_OTHER
					  ? pf_argstats_other_group_(d)
					  : pf_argstats_find_group_(dst, d, g->cls, g->key, g->str,
								    g->str_len, g->cut);
		if (!dg)
			return -1;
		if (dg->cls == PF_G_OTHER && g->cls != PF_G_OTHER) { /* past the caps here */
			d->folded_calls += g->hist.count;
			d->capped_calls += g->hist.count;
		}
		/* A value the part folded into its "(other)": some of its calls are not here. */
		if (g->cls == PF_G_STR && a->folded) {
			uint64_t h =
			    pf_hash_bytes(g->str, g->str_len, g->cut) % PF_ARGSTATS_FOLDED_BITS;
			dg->partial |= a->folded[h / 64] >> (h % 64) & 1;
		}
		bool empty = dg->hist.count == 0;
		if (pf_hist_merge(&dg->hist, &g->hist) < 0)
			return -1;
		dg->partial |= g->partial;
		dg->tail_calls += g->tail_calls;
		dg->tail_ns += g->tail_ns;
		widen(dg, g, empty);
	}
	return 0;
}

int pf_argstats_merge(struct pf_argstats *dst, const struct pf_argstats *src)
{
	dst->count += src->count;
	dst->tail_calls += src->tail_calls;
	dst->tail_ns += src->tail_ns;
	dst->ignored_fields += src->ignored_fields;
	for (size_t k = 0; k < src->nargs; k++) {
		const struct pf_arg *a = &src->args[k];
		struct pf_arg *d =
		    pf_argstats_find_arg_(dst, a->name, a->name_len, a->by_len, a->context);
		if (!d) {
			if (a->context ? dst->nargs - dst->nfield_args < PF_ARGSTATS_MAX_CONTEXT
				       : dst->nfield_args < PF_ARGSTATS_MAX_ARGS)
				return -1; /* there was room: out of memory */
			dst->ignored_fields += a->calls;
			continue;
		}
		if (merge_arg(dst, d, a) < 0)
			return -1;
	}
	return 0;
}

/* The calls of @h slower than @p95 and their time over it, each bucket's values taken as
 * the bucket's middle clamped to the histogram's min and max (as its quantiles are). */
static void hist_tail(const struct pf_hist *h, uint64_t p95, uint64_t *calls, uint64_t *ns)
{
	*calls = *ns = 0;
	for (uint32_t i = 0; i < h->nbuckets; i++) {
		uint64_t c = h->counts[i], lo, hi;
		if (!c)
			continue;
		pf_hist_bucket_bounds(h->first + i, &lo, &hi);
		uint64_t v = lo + (hi - lo) / 2;
		v = v < h->min ? h->min : v > h->max ? h->max : v;
		if (v > p95) {
			*calls += c;
			*ns += c * (v - p95);
		}
	}
}

void pf_argstats_retail(struct pf_argstats *t, const struct pf_hist *type_hist, uint64_t p95)
{
	t->p95 = p95;
	t->count = type_hist->count;
	hist_tail(type_hist, p95, &t->tail_calls, &t->tail_ns);
	for (size_t k = 0; k < t->nargs; k++)
		for (size_t m = 0; m < t->args[k].ng; m++) {
			struct pf_group *g = &t->args[k].g[m];
			hist_tail(&g->hist, p95, &g->tail_calls, &g->tail_ns);
		}
}
