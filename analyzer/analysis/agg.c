/* SPDX-License-Identifier: MIT */
/* agg.c - per-type aggregates (see agg.h). */
#include <stdlib.h>
#include <string.h>

#include "analysis/agg.h"
#include "fmt/units.h"

void pf_agg_init(struct pf_agg *a)
{
	memset(a, 0, sizeof(*a));
}

/* Make room for entry @type (past the table). Returns 0, or -1 when out of memory. */
static __attribute__((noinline)) int grow(struct pf_agg *a, uint32_t type)
{
	uint32_t n = a->n ? a->n : 64;
	while (n <= type)
		n *= 2;
	struct pf_typestat *t = realloc(a->t, n * sizeof(*t));
	if (!t)
		return -1;
	for (uint32_t i = a->n; i < n; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		/* Extremes that any action replaces (read only once one is counted). */
		t[i].first_start = INT64_MAX;
		t[i].last_start = t[i].last_end = INT64_MIN;
		pf_hist_init(&t[i].hist);
	}
	a->t = t;
	a->n = n;
	return 0;
}

static inline int reserve(struct pf_agg *a, uint32_t type)
{
	return __builtin_expect(type < a->n, 1) ? 0 : grow(a, type);
}

int pf_agg_add(struct pf_agg *a, const struct pf_span *sp)
{
	if (reserve(a, sp->type) < 0)
		return -1;
	struct pf_typestat *t = &a->t[sp->type];
	if (pf_hist_record(&t->hist, sp->duration_ns) < 0)
		return -1;
	int64_t start = sp->start_wall, end = pf_wall_add(start, sp->duration_ns);
	t->first_start = start < t->first_start ? start : t->first_start;
	t->last_start = start > t->last_start ? start : t->last_start;
	t->last_end = end > t->last_end ? end : t->last_end;
	t->count++;
	t->failures += sp->failed;
	t->total_ns += sp->duration_ns;
	t->self_ns += sp->self_ns;
	return 0;
}

int pf_agg_merge(struct pf_agg *a, uint32_t type, const struct pf_typestat *src)
{
	if (reserve(a, type) < 0)
		return -1;
	struct pf_typestat *t = &a->t[type];
	if (pf_hist_merge(&t->hist, &src->hist) < 0)
		return -1;
	if (!t->count || src->first_start < t->first_start)
		t->first_start = src->first_start;
	if (!t->count || src->last_start > t->last_start)
		t->last_start = src->last_start;
	if (!t->count || src->last_end > t->last_end)
		t->last_end = src->last_end;
	t->count += src->count;
	t->failures += src->failures;
	t->total_ns += src->total_ns;
	t->self_ns += src->self_ns;
	return 0;
}

const struct pf_typestat *pf_agg_get(const struct pf_agg *a, uint32_t type)
{
	return type < a->n && a->t[type].count ? &a->t[type] : NULL;
}

void pf_agg_destroy(struct pf_agg *a)
{
	for (uint32_t i = 0; i < a->n; i++)
		pf_hist_destroy(&a->t[i].hist);
	free(a->t);
	pf_agg_init(a);
}
