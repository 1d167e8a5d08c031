/* SPDX-License-Identifier: MIT */
/* topn.h - the N worst calls seen so far, in a min-heap of at most N owned calls.
 *
 * A span is copied only when it would enter the heap, so after the first N the cost per
 * span is one comparison; memory is N calls (call.h bounds each).
 */
#ifndef PERFAN_TOPN_H
#define PERFAN_TOPN_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis/call.h"
#include "core/spans.h"

struct pf_topn {
	struct pf_call **heap; /* heap[0] is the least bad call kept */
	size_t n, cap;
	size_t alloc;  /* entries of @heap allocated: grown up to @cap as calls come */
	uint64_t seen; /* spans offered: the arrival numbers */
};

/** pf_topn_init() - keep the @cap worst calls. Returns: 0, or -1 when out of memory. */
int pf_topn_init(struct pf_topn *t, size_t cap);

/**
 * pf_topn_offer() - consider @sp (during the span callback).
 * Returns: 0, or -1 when out of memory.
 */
int pf_topn_offer(struct pf_topn *t, const struct pf_spans *spans, const struct pf_span *sp);

/**
 * pf_topn_offer_call() - consider a copy of @c (a call kept elsewhere: a summary's).
 * Returns: 0, or -1 when out of memory.
 */
int pf_topn_offer_call(struct pf_topn *t, const struct pf_call *c);

/** pf_topn_sort() - order the kept calls worst first (the heap is gone afterwards). */
void pf_topn_sort(struct pf_topn *t);

void pf_topn_destroy(struct pf_topn *t);

#endif /* PERFAN_TOPN_H */
