/* SPDX-License-Identifier: MIT */
/* folding.c - --children K for the report's waterfalls (see folding.h).
 *
 * Three passes over the nodes in depth-first order: number the groups of siblings with a
 * stack of the parent paths along the current branch; per group larger than K, sort its
 * members by duration and mark all but the K longest; then sum up the marked ones and
 * their subtrees (contiguous) into one summary per group, placed after the group's last
 * subtree.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>

#include "fmt/units.h"
#include "report/folding.h"

static bool has_prefix(const struct pf_waterfall_node *n, const uint32_t *path, uint32_t depth)
{
	return n->depth >= depth && (!depth || !memcmp(n->level, path, depth * sizeof(*path)));
}

/* Is @n's level a prefix of @path (which is at least as deep)? */
static bool has_prefix_of(const struct pf_waterfall_node *n, const uint32_t *path)
{
	return !n->depth || !memcmp(n->level, path, n->depth * sizeof(*path));
}

static int64_t node_end(const struct pf_tnode *n)
{
	bool ended = n->state == PF_T_SUCCEEDED || n->state == PF_T_FAILED;
	return ended ? pf_wall_add(n->wall, n->duration_ns) : n->wall;
}

static const struct pf_waterfall_node *sort_nodes; /* for by_length() */

/* Longest first (messages and unfinished actions count as 0, as in `perfan tree`); ties:
 * the first in child order, as the nodes are sorted by level. */
static int by_length(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint64_t dx = sort_nodes[x].node->duration_ns, dy = sort_nodes[y].node->duration_ns;
	if (dx != dy)
		return dx > dy ? -1 : 1;
	return (x > y) - (x < y);
}

/* By position, and at one position the deeper parent first (its rows end first). */
static int more_cmp(const void *a, const void *b)
{
	const struct pf_fold_summary *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return (x->depth < y->depth) - (x->depth > y->depth);
}

static void more_add(struct pf_fold_summary *m, const struct pf_tnode *n)
{
	m->count++;
	m->ns += n->duration_ns;
	if (n->wall < m->first)
		m->first = n->wall;
	if (node_end(n) > m->last)
		m->last = node_end(n);
	uint32_t i = 0;
	while (i < m->ntypes && m->types[i].type != n->type)
		i++;
	if (i == PF_FOLD_TYPES) {
		m->other++;
		return;
	}
	if (i == m->ntypes)
		m->types[m->ntypes++].type = n->type;
	m->types[i].count++;
	m->types[i].ns += n->duration_ns;
	/* Keep the most frequent first; ties stay in order of first appearance. */
	for (; i > 0 && m->types[i].count > m->types[i - 1].count; i--) {
		struct pf_fold_summary_type tmp = m->types[i];
		m->types[i] = m->types[i - 1];
		m->types[i - 1] = tmp;
	}
}

/* Give each node but the roots the number of its group of siblings (the children of one
 * level path, whether or not that parent was seen); *@last gets each group's last node. */
static uint32_t group_siblings(const struct pf_waterfall_tree *t, uint32_t *grp, uint32_t *last)
{
	struct {
		const uint32_t *path;
		uint32_t depth, g;
	} stack[PL_TASK_MAX_DEPTH + 1];
	uint32_t sp = 0, ng = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct pf_waterfall_node *x = &t->nodes[i];
		grp[i] = UINT32_MAX;
		if (!x->depth)
			continue;
		/* The stack holds the parent paths along the current branch (depth-first order:
		 * a group's members and their subtrees are contiguous). */
		uint32_t pd = x->depth - 1;
		while (sp && (stack[sp - 1].depth > pd ||
			      !has_prefix(x, stack[sp - 1].path, stack[sp - 1].depth)))
			sp--;
		if (!sp || stack[sp - 1].depth != pd) {
			if (sp == sizeof(stack) / sizeof(stack[0]))
				continue; /* deeper than any task: never folded */
			stack[sp].path = x->level;
			stack[sp].depth = pd;
			stack[sp++].g = ng++;
		}
		grp[i] = stack[sp - 1].g;
		last[grp[i]] = i;
	}
	return ng;
}

int pf_fold_waterfall(const struct pf_waterfall_tree *t, uint32_t k, struct pf_fold_rows *f)
{
	uint32_t n = t->n, *grp = NULL, *last = NULL, *start = NULL, *fill = NULL, *mem = NULL;
	uint32_t *more_of = NULL;
	uint8_t *hide = NULL; /* 1: a child left out, 2: under one */
	int ret = -1;
	memset(f, 0, sizeof(*f));
	if (!k || n < 2)
		return 0;
	if (!(grp = malloc(n * sizeof(*grp))) || !(last = malloc(n * sizeof(*last))))
		goto out;
	uint32_t ng = group_siblings(t, grp, last);
	if (!(start = calloc(ng + 1, sizeof(*start))) ||
	    !(fill = malloc((ng + 1) * sizeof(*fill))) || !(mem = malloc(n * sizeof(*mem))) ||
	    !(hide = calloc(n, 1)) || !(more_of = malloc((ng + 1) * sizeof(*more_of))))
		goto out;
	/* The members of each group, together (counting sort), then the longest of each. */
	for (uint32_t i = 0; i < n; i++)
		if (grp[i] != UINT32_MAX)
			start[grp[i] + 1]++;
	for (uint32_t g = 0; g < ng; g++) {
		start[g + 1] += start[g];
		fill[g] = start[g];
		more_of[g] = UINT32_MAX;
	}
	for (uint32_t i = 0; i < n; i++)
		if (grp[i] != UINT32_MAX)
			mem[fill[grp[i]]++] = i;
	bool any = false;
	sort_nodes = t->nodes;
	for (uint32_t g = 0; g < ng; g++) {
		if (start[g + 1] - start[g] <= k)
			continue;
		qsort(mem + start[g], start[g + 1] - start[g], sizeof(*mem), by_length);
		for (uint32_t m = start[g] + k; m < start[g + 1]; m++) {
			const struct pf_waterfall_node *x = &t->nodes[mem[m]];
			bool anchor_path =
			    x->depth <= t->anchor_depth && has_prefix_of(x, t->anchor);
			if (!anchor_path) {
				hide[mem[m]] = 1;
				any = true;
			}
		}
	}
	if (!any) {
		ret = 0;
		goto out;
	}
	if (!(f->row = malloc((n + 1) * sizeof(*f->row))) ||
	    !(f->more = malloc(ng * sizeof(*f->more))))
		goto out;
	/* Sum up each group's children left out, with their subtrees (contiguous). */
	for (uint32_t i = 0; i < n;) {
		const struct pf_waterfall_node *x = &t->nodes[i];
		if (hide[i] != 1) {
			i++;
			continue;
		}
		uint32_t g = grp[i];
		if (more_of[g] == UINT32_MAX) {
			struct pf_fold_summary *m = &f->more[more_of[g] = f->nmore++];
			memset(m, 0, sizeof(*m));
			m->parent = x->level;
			m->depth = x->depth - 1;
			m->first = INT64_MAX;
			m->last = INT64_MIN;
			const struct pf_waterfall_node *l = &t->nodes[last[g]];
			for (m->at = last[g] + 1;
			     m->at < n && has_prefix(&t->nodes[m->at], l->level, l->depth);)
				m->at++;
		}
		struct pf_fold_summary *m = &f->more[more_of[g]];
		more_add(m, x->node);
		for (i++; i < n && has_prefix(&t->nodes[i], x->level, x->depth); i++) {
			hide[i] = 2;
			m->below++;
		}
	}
	qsort(f->more, f->nmore, sizeof(*f->more), more_cmp);
	for (uint32_t i = 0, m = 0; i <= n; i++) {
		while (m < f->nmore && f->more[m].at == i)
			f->row[f->n++] = n + m++;
		if (i < n && !hide[i])
			f->row[f->n++] = i;
	}
	ret = 0;
out:
	if (ret < 0 || !f->row) {
		free(f->row);
		free(f->more);
		memset(f, 0, sizeof(*f));
	}
	free(grp);
	free(last);
	free(start);
	free(fill);
	free(mem);
	free(hide);
	free(more_of);
	return ret;
}

void pf_fold_rows_destroy(struct pf_fold_rows *f)
{
	free(f->row);
	free(f->more);
	memset(f, 0, sizeof(*f));
}
