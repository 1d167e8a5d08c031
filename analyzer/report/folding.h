/* SPDX-License-Identifier: MIT */
/* folding.h - which rows of a waterfall tree to draw when its nodes have many children
 * (`perfan report --children K`), as `perfan tree --children K` prints them.
 *
 * A loop under one action (the spelling corrector's `known` over ~700 `edits1` calls)
 * would draw hundreds of near-identical rows. So of each node's children, only the K
 * longest are drawn, in child order (ties: the first); the others are summed up by type
 * in one summary row, placed after the node's subtree, and what is under them is drawn
 * neither. Messages and unfinished actions count as lasting 0, as in `perfan tree`. The
 * nodes on the path to the tree's anchor (the highlighted action) are always drawn.
 *
 * The tree's nodes must be in depth-first order (by level path): a node's subtree is
 * then contiguous, and the children of one level path are grouped whether or not that
 * parent was seen.
 */
#ifndef PERFAN_FOLDING_H
#define PERFAN_FOLDING_H

#include <stdint.h>

#include "report/waterfall.h"

/** Types named in a summary row; children of further types are only counted. */
#define PF_FOLD_TYPES 8

/** struct pf_fold_summary - a summary row: the children of one node left out, and their subtrees.
 */
struct pf_fold_summary {
	const uint32_t *parent; /* the node's level path (borrowed from a child's level) */
	uint32_t depth;		/* the node's depth */
	uint32_t at;		/* drawn before node @at (@at == n: at the end) */
	uint64_t count, ns;	/* children left out, the sum of their durations */
	uint64_t below;		/* nodes under them */
	int64_t first, last;	/* start of the first one, end of the last one to end */
	struct pf_fold_summary_type {
		uint32_t type; /* PF_NAME_NONE when the START was not seen */
		uint64_t count, ns;
	} types[PF_FOLD_TYPES]; /* the most frequent first (ties: the first seen) */
	uint32_t ntypes;
	uint64_t other; /* children of further types */
};

/**
 * struct pf_fold_rows - the rows of one tree: node indexes (< the tree's n) and summaries
 * (n + index in @more), in drawing order. With @row NULL, the rows are the nodes.
 */
struct pf_fold_rows {
	uint32_t *row;
	uint32_t n;
	struct pf_fold_summary *more;
	uint32_t nmore;
};

/**
 * pf_fold_waterfall() - the rows of @t (nodes in depth-first order) with at most @k children drawn
 * per node (@k 0: every node). Borrows @t's level paths: @t must not change while @f is
 * used. Returns: 0; or -1 when out of memory, @f then drawing every node.
 * Call pf_fold_rows_destroy() in both cases.
 */
int pf_fold_waterfall(const struct pf_waterfall_tree *t, uint32_t k, struct pf_fold_rows *f);

/** pf_fold_rows_n() - the number of rows. */
static inline uint32_t pf_fold_rows_n(const struct pf_waterfall_tree *t,
				      const struct pf_fold_rows *f)
{
	return f->row ? f->n : t->n;
}

/** pf_fold_rows_at() - row @r: its node, or NULL with *@m set to the summary. */
static inline const struct pf_waterfall_node *pf_fold_rows_at(const struct pf_waterfall_tree *t,
							      const struct pf_fold_rows *f,
							      uint32_t r,
							      const struct pf_fold_summary **m)
{
	uint32_t x = f->row ? f->row[r] : r;
	*m = x >= t->n ? &f->more[x - t->n] : NULL;
	return *m ? NULL : &t->nodes[x];
}

/** pf_fold_rows_destroy() - free @f's memory. */
void pf_fold_rows_destroy(struct pf_fold_rows *f);

#endif /* PERFAN_FOLDING_H */
