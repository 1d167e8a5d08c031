/* SPDX-License-Identifier: MIT */
/* topn.c - bounded selection of the worst calls (see topn.h). */
#include <stdlib.h>
#include <string.h>

#include "analysis/topn.h"

int pf_topn_init(struct pf_topn *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	t->cap = cap;
	t->alloc = cap < 16 ? (cap ? cap : 1) : 16; /* a large cap costs only when filled */
	t->heap = calloc(t->alloc, sizeof(*t->heap));
	return t->heap ? 0 : -1;
}

/* The heap is ordered so that the root is the call every other call is worse than. */
static bool above(const struct pf_call *a, const struct pf_call *b)
{
	return pf_call_worse(b, a);
}

static void sift_down(struct pf_topn *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < t->n && above(t->heap[l], t->heap[m]))
			m = l;
		if (l + 1 < t->n && above(t->heap[l + 1], t->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		struct pf_call *x = t->heap[i];
		t->heap[i] = t->heap[m];
		t->heap[m] = x;
		i = m;
	}
}

static void sift_up(struct pf_topn *t, size_t i)
{
	while (i > 0 && above(t->heap[i], t->heap[(i - 1) / 2])) {
		struct pf_call *x = t->heap[i];
		t->heap[i] = t->heap[(i - 1) / 2];
		t->heap[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
}

/* Keep @c (owned) if it is among the worst. Returns 0, or -1 when out of memory. */
static int keep(struct pf_topn *t, struct pf_call *c)
{
	if (t->n == t->cap && !pf_call_worse(c, t->heap[0])) {
		pf_call_free(c); /* a tie on duration and start, decided by task and level */
		return 0;
	}
	if (t->n < t->cap) {
		if (t->n == t->alloc) {
			size_t a = t->alloc * 2 < t->cap ? t->alloc * 2 : t->cap;
			struct pf_call **h = realloc(t->heap, a * sizeof(*h));
			if (!h) {
				pf_call_free(c);
				return -1;
			}
			t->heap = h;
			t->alloc = a;
		}
		t->heap[t->n++] = c;
		sift_up(t, t->n - 1);
	} else {
		pf_call_free(t->heap[0]);
		t->heap[0] = c;
		sift_down(t, 0);
	}
	return 0;
}

int pf_topn_offer(struct pf_topn *t, const struct pf_spans *spans, const struct pf_span *sp)
{
	uint64_t order = t->seen++;
	if (t->cap == 0)
		return 0;
	if (t->n == t->cap) {
		/* Cheap test first: would it beat the least bad call kept? */
		const struct pf_call *min = t->heap[0];
		if (sp->duration_ns < min->duration_ns ||
		    (sp->duration_ns == min->duration_ns && sp->start_wall > min->start_wall))
			return 0;
	}
	struct pf_call *c = pf_call_new(spans, sp, order);
	if (!c)
		return -1;
	return keep(t, c);
}

int pf_topn_offer_call(struct pf_topn *t, const struct pf_call *call)
{
	uint64_t order = t->seen++;
	if (t->cap == 0 || (t->n == t->cap && !pf_call_worse(call, t->heap[0])))
		return 0;
	struct pf_call *c = pf_call_dup(call);
	if (!c)
		return -1;
	c->order = order;
	return keep(t, c);
}

static int cmp_worse(const void *a, const void *b)
{
	const struct pf_call *x = *(struct pf_call *const *)a, *y = *(struct pf_call *const *)b;
	return pf_call_worse(x, y) ? -1 : pf_call_worse(y, x) ? 1 : 0;
}

void pf_topn_sort(struct pf_topn *t)
{
	qsort(t->heap, t->n, sizeof(*t->heap), cmp_worse);
}

void pf_topn_destroy(struct pf_topn *t)
{
	for (size_t i = 0; i < t->n; i++)
		pf_call_free(t->heap[i]);
	free(t->heap);
	memset(t, 0, sizeof(*t));
}
