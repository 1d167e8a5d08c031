/* SPDX-License-Identifier: MIT */
/* summary.c - the in-memory summary: building and merging (see summary.h). */
#include <stdlib.h>
#include <string.h>

#include "summary/summary.h"
#include "util/grow.h"

void pf_summary_init(struct pf_summary *s, size_t k)
{
	memset(s, 0, sizeof(*s));
	s->k = k;
	pf_agg_init(&s->agg);
}

/* The heap of @type's slowest, created on first use; NULL when out of memory. */
static struct pf_topn *top_of(struct pf_summary *s, uint32_t type)
{
	if (PF_GROW_ZEROED(s->top, s->ntop, type, 64) < 0)
		return NULL;
	struct pf_topn *t = &s->top[type];
	if (!t->heap && pf_topn_init(t, s->k) < 0)
		return NULL;
	return t;
}

int pf_summary_add_span(struct pf_summary *s, const struct pf_spans *spans,
			const struct pf_span *sp)
{
	struct pf_topn *t = top_of(s, sp->type);
	if (!t || pf_agg_add(&s->agg, sp) < 0)
		return -1;
	return pf_topn_offer(t, spans, sp);
}

static int keep_running(struct pf_summary *s, struct pf_call *c)
{
	if (!c || PF_GROW(s->running, s->running_cap, s->nrunning, 16) < 0) {
		pf_call_free(c);
		return -1;
	}
	s->running[s->nrunning++] = c;
	return 0;
}

int pf_summary_add_running(struct pf_summary *s, const struct pf_spans *spans,
			   const struct pf_span *sp)
{
	return keep_running(s, pf_call_new(spans, sp, s->nrunning));
}

int pf_summary_add_call(struct pf_summary *s, const struct pf_call *c)
{
	if (c->running)
		return keep_running(s, pf_call_dup(c));
	struct pf_topn *t = top_of(s, c->type);
	return t ? pf_topn_offer_call(t, c) : -1;
}

int pf_summary_merge_type(struct pf_summary *s, uint32_t type, const struct pf_typestat *t)
{
	return pf_agg_merge(&s->agg, type, t);
}

struct pf_argstats *pf_summary_inputs(struct pf_summary *s, uint32_t type, bool *full)
{
	*full = false;
	if (PF_GROW_ZEROED(s->inputs, s->ninputs, type, 64) < 0)
		return NULL;
	struct pf_argstats *a = &s->inputs[type];
	if (a->p95 == 0) { /* new: zeroed */
		if (s->inputs_used == PF_SUMMARY_INPUT_TYPES) {
			*full = true;
			return NULL;
		}
		s->inputs_used++;
		pf_argstats_init(a, UINT64_MAX); /* no tail: there is no p95 yet */
	}
	return a;
}

struct pf_slots *pf_summary_slots(struct pf_summary *s, uint32_t type)
{
	if (type >= s->ninputs || !s->inputs[type].p95 ||
	    PF_GROW_ZEROED(s->slots, s->nslots, type, 64) < 0)
		return NULL;
	return &s->slots[type]; /* zeroed is empty (its sample's seed 0) */
}

struct pf_call **pf_summary_sorted(struct pf_summary *s, uint32_t type, size_t *n)
{
	*n = 0;
	if (type >= s->ntop || !s->top[type].heap)
		return NULL;
	pf_topn_sort(&s->top[type]);
	*n = s->top[type].n;
	return s->top[type].heap;
}

void pf_summary_destroy(struct pf_summary *s)
{
	for (uint32_t i = 0; i < s->ntop; i++)
		if (s->top[i].heap)
			pf_topn_destroy(&s->top[i]);
	free(s->top);
	for (size_t i = 0; i < s->nrunning; i++)
		pf_call_free(s->running[i]);
	free(s->running);
	for (uint32_t i = 0; i < s->ninputs; i++)
		pf_argstats_destroy(&s->inputs[i]);
	free(s->inputs);
	for (uint32_t i = 0; i < s->nslots; i++)
		pf_slots_destroy(&s->slots[i]);
	free(s->slots);
	pf_agg_destroy(&s->agg);
	memset(s, 0, sizeof(*s));
}
