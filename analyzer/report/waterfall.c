/* SPDX-License-Identifier: MIT */
/* waterfall.c - flat task trees for the report (see waterfall.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>

#include "core/fields.h"
#include "report/folding.h"
#include "report/waterfall.h"
#include "util/grow.h"

void pf_waterfall_init(struct pf_waterfall *w)
{
	memset(w, 0, sizeof(*w));
}

static int id_cmp(uint64_t p1, uint64_t s1, uint64_t p2, uint64_t s2)
{
	if (p1 != p2)
		return p1 < p2 ? -1 : 1;
	return (s1 > s2) - (s1 < s2);
}

static struct pf_waterfall_tree *find_tree(const struct pf_waterfall *w, uint64_t prefix,
					   uint64_t seq)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct pf_waterfall_tree *t = &w->t[w->by_id[mid]];
		int c = id_cmp(prefix, seq, t->tree.prefix, t->tree.seq);
		if (!c)
			return t;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int pf_waterfall_add(struct pf_waterfall *w, const struct pf_call *c)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->t[i].tree.prefix == c->prefix && w->t[i].tree.seq == c->seq)
			return 0;
	if (PF_GROW(w->t, w->cap, w->n, 8) < 0)
		return -1;
	struct pf_waterfall_tree *t = &w->t[w->n++];
	memset(t, 0, sizeof(*t));
	pf_task_tree_init(&t->tree, c->prefix, c->seq, PF_WATERFALL_MAX_NODES,
			  PF_WATERFALL_TEXT_MAX);
	t->anchor_depth = c->depth < PF_CALL_PATH_MAX ? c->depth : PF_CALL_PATH_MAX;
	memcpy(t->anchor, c->level, t->anchor_depth * sizeof(uint32_t));
	return 0;
}

static const struct pf_waterfall *sort_w; /* for by_id_cmp() */

static int by_id_cmp(const void *a, const void *b)
{
	const struct pf_waterfall_tree *x = &sort_w->t[*(const size_t *)a];
	const struct pf_waterfall_tree *y = &sort_w->t[*(const size_t *)b];
	return id_cmp(x->tree.prefix, x->tree.seq, y->tree.prefix, y->tree.seq);
}

int pf_waterfall_ready(struct pf_waterfall *w)
{
	free(w->by_id);
	if (!(w->by_id = malloc((w->n ? w->n : 1) * sizeof(*w->by_id))))
		return -1;
	for (size_t i = 0; i < w->n; i++)
		w->by_id[i] = i;
	sort_w = w;
	qsort(w->by_id, w->n, sizeof(*w->by_id), by_id_cmp);
	return 0;
}

int pf_waterfall_event(struct pf_waterfall *w, const struct pf_event *ev)
{
	struct pf_waterfall_tree *t = w->n ? find_tree(w, ev->prefix, ev->seq) : NULL;
	return t ? pf_task_tree_event(&t->tree, ev) : 0;
}

/* ---- output ----------------------------------------------------------------------------- */

/* The nodes seen under @n, @n included, and the sum of their depths (@n at @depth). */
static void count_rows(const struct pf_tnode *n, uint32_t depth, uint32_t *rows, size_t *levels)
{
	if (n->state != PF_T_MISSING) {
		(*rows)++;
		*levels += depth;
	}
	for (uint32_t i = 0; i < n->nkids && depth < PL_TASK_MAX_DEPTH; i++)
		count_rows(&n->kids[i], depth + 1, rows, levels);
}

/* Append the nodes seen under @n (sorted), @n first, with their level paths. */
static void add_rows(struct pf_waterfall_tree *t, const struct pf_tnode *n, uint32_t *path,
		     uint32_t depth, uint32_t **at)
{
	if (n->state != PF_T_MISSING) {
		struct pf_waterfall_node *r = &t->nodes[t->n++];
		r->node = n;
		r->level = *at;
		r->depth = depth;
		memcpy(*at, path, depth * sizeof(*path));
		*at += depth;
	}
	for (uint32_t i = 0; i < n->nkids && depth < PL_TASK_MAX_DEPTH; i++) {
		path[depth] = n->kids[i].idx;
		add_rows(t, &n->kids[i], path, depth + 1, at);
	}
}

/* @t's rows: its nodes seen in depth-first order (by level path, a parent before its
 * children), as folding.h wants them. Out of memory: no row. */
static void flatten(struct pf_waterfall_tree *t)
{
	uint32_t rows = 0, path[PL_TASK_MAX_DEPTH];
	size_t levels = 0;
	free(t->nodes);
	free(t->levels);
	t->n = 0;
	pf_task_tree_sort(&t->tree);
	count_rows(&t->tree.root, 0, &rows, &levels);
	t->nodes = malloc((rows ? rows : 1) * sizeof(*t->nodes));
	t->levels = malloc((levels ? levels : 1) * sizeof(*t->levels));
	if (!t->nodes || !t->levels)
		return;
	uint32_t *at = t->levels;
	add_rows(t, &t->tree.root, path, 0, &at);
}

static void json_level(struct pf_json *j, const uint32_t *level, uint32_t depth)
{
	pf_json_array_begin(j);
	for (uint32_t i = 0; i < depth; i++)
		pf_json_uint(j, level[i]);
	pf_json_array_end(j);
}

static void json_node(const struct pf_waterfall_node *row, const struct pf_names *names,
		      const struct pf_input *in, struct pf_json *j)
{
	const struct pf_tnode *n = row->node;
	pf_json_object_begin(j);
	pf_json_key(j, "level");
	json_level(j, row->level, row->depth);
	pf_json_key(j, "kind");
	pf_json_str(j, n->state == PF_T_MESSAGE ? "message" : "action");
	pf_json_key(j, "type");
	pf_json_str(j, n->type == PF_NAME_NONE ? NULL : pf_names_str(names, n->type));
	pf_json_key(j, "status");
	pf_json_str(j, pf_tstate_name(n->state));
	pf_json_key(j, "start_ns");
	pf_json_int(j, n->wall);
	pf_json_key(j, "duration_ns");
	if (n->state == PF_T_SUCCEEDED || n->state == PF_T_FAILED)
		pf_json_uint(j, n->duration_ns);
	else
		pf_json_null(j);
	pf_json_key(j, "inputs");
	pf_fields_json(j, n->inputs, n->inputs_len);
	pf_tnode_json_outcome(n, j);
	pf_json_key(j, "pid");
	pf_json_int(j, in->src[n->src].pid);
	pf_json_key(j, "thread");
	pf_json_uint(j, n->thread);
	pf_json_key(j, "thread_name");
	pf_json_str(j, pf_input_thread_name(in, n->src, n->thread));
	pf_json_object_end(j);
}

static void json_more(const struct pf_fold_summary *m, const struct pf_names *names,
		      struct pf_json *j)
{
	pf_json_object_begin(j);
	pf_json_key(j, "kind");
	pf_json_str(j, "more");
	pf_json_key(j, "parent");
	json_level(j, m->parent, m->depth);
	pf_json_key(j, "count");
	pf_json_uint(j, m->count);
	pf_json_key(j, "duration_ns");
	pf_json_uint(j, m->ns);
	pf_json_key(j, "start_ns");
	pf_json_int(j, m->first);
	pf_json_key(j, "end_ns");
	pf_json_int(j, m->last);
	pf_json_key(j, "descendants");
	pf_json_uint(j, m->below);
	pf_json_key(j, "types");
	pf_json_array_begin(j);
	for (uint32_t i = 0; i < m->ntypes; i++) {
		pf_json_object_begin(j);
		pf_json_key(j, "type");
		pf_json_str(j, m->types[i].type == PF_NAME_NONE
				   ? NULL
				   : pf_names_str(names, m->types[i].type));
		pf_json_key(j, "count");
		pf_json_uint(j, m->types[i].count);
		pf_json_key(j, "duration_ns");
		pf_json_uint(j, m->types[i].ns);
		pf_json_object_end(j);
	}
	pf_json_array_end(j);
	pf_json_key(j, "other_count");
	pf_json_uint(j, m->other);
	pf_json_object_end(j);
}

/* At least the bytes of json_node()'s output, were every byte of text escaped as \u003c. */
static uint64_t node_cost(const struct pf_waterfall_node *row, const struct pf_names *names,
			  const struct pf_input *in)
{
	const struct pf_tnode *n = row->node;
	const char *thread = pf_input_thread_name(in, n->src, n->thread);
	uint64_t text = n->inputs_len + n->outputs_len + (thread ? strlen(thread) : 0) +
			(n->type == PF_NAME_NONE ? 0 : strlen(pf_names_str(names, n->type))) +
			(n->exc_type ? strlen(n->exc_type) + strlen(n->exc_msg) : 0);
	return 300 + 11 * (uint64_t)row->depth + 6 * text;
}

/* The same for json_more(). */
static uint64_t more_cost(const struct pf_fold_summary *m, const struct pf_names *names)
{
	uint64_t c = 300 + 11 * (uint64_t)m->depth;
	for (uint32_t i = 0; i < m->ntypes; i++)
		c += 80 + 6 * (m->types[i].type == PF_NAME_NONE
				   ? 0
				   : strlen(pf_names_str(names, m->types[i].type)));
	return c;
}

static uint64_t row_cost(const struct pf_waterfall_tree *t, const struct pf_fold_rows *f,
			 uint32_t r, const struct pf_names *names, const struct pf_input *in)
{
	const struct pf_fold_summary *m;
	const struct pf_waterfall_node *n = pf_fold_rows_at(t, f, r, &m);
	return n ? node_cost(n, names, in) : more_cost(m, names);
}

static const uint64_t *sort_need; /* for by_need() */

static int by_need(const void *a, const void *b)
{
	uint64_t x = sort_need[*(const size_t *)a], y = sort_need[*(const size_t *)b];
	return (x > y) - (x < y);
}

void pf_waterfall_json(struct pf_waterfall *w, const struct pf_names *names,
		       const struct pf_input *in, struct pf_json *j, uint64_t budget,
		       uint32_t max_kids)
{
	char id[PL_TASK_STR_MAX + 8];
	size_t ntrees = w->n;
	uint64_t *need = calloc(w->n ? w->n : 1, sizeof(*need));
	uint64_t *allow = calloc(w->n ? w->n : 1, sizeof(*allow));
	size_t *order = calloc(w->n ? w->n : 1, sizeof(*order));
	struct pf_fold_rows *rows = calloc(w->n ? w->n : 1, sizeof(*rows));
	if (!need || !allow || !order || !rows)
		ntrees = 0; /* no memory left to share out: draw no tree */
	for (size_t k = 0; k < ntrees; k++) {
		struct pf_waterfall_tree *t = &w->t[k];
		/* The events are all in by now. */
		flatten(t);
		pf_fold_waterfall(t, max_kids,
				  &rows[k]); /* without memory for it: every node, unfolded */
		for (uint32_t r = 0; r < pf_fold_rows_n(t, &rows[k]); r++)
			need[k] += row_cost(t, &rows[k], r, names, in);
		order[k] = k;
	}
	/* Water-filling: the smallest trees first, each up to an equal share of the rest. */
	sort_need = need;
	qsort(order, ntrees, sizeof(*order), by_need);
	for (size_t i = 0; i < ntrees; i++) {
		uint64_t share = budget / (ntrees - i);
		allow[order[i]] = need[order[i]] < share ? need[order[i]] : share;
		budget -= allow[order[i]];
	}
	pf_json_array_begin(j);
	for (size_t k = 0; k < ntrees; k++) {
		struct pf_waterfall_tree *t = &w->t[k];
		pf_json_object_begin(j);
		pf_json_key(j, "task");
		snprintf(id, sizeof(id), "%016" PRIx64 "-%" PRIx64, t->tree.prefix, t->tree.seq);
		pf_json_str(j, id);
		pf_json_key(j, "anchor");
		json_level(j, t->anchor, t->anchor_depth);
		pf_json_key(j, "nodes");
		pf_json_array_begin(j);
		uint64_t used = 0, drawn = 0, folded = 0;
		for (uint32_t r = 0; r < pf_fold_rows_n(t, &rows[k]); r++) {
			const struct pf_fold_summary *m;
			const struct pf_waterfall_node *n = pf_fold_rows_at(t, &rows[k], r, &m);
			used += row_cost(t, &rows[k], r, names, in);
			if (used > allow[k])
				break;
			if (n) {
				json_node(n, names, in, j);
				drawn++;
			} else {
				json_more(m, names, j);
				folded += m->count + m->below;
			}
		}
		pf_json_array_end(j);
		pf_json_key(j, "folded");
		pf_json_uint(j, folded);
		pf_json_key(j, "omitted");
		pf_json_uint(j, t->tree.omitted + (t->tree.nodes - drawn - folded));
		pf_json_object_end(j);
	}
	pf_json_array_end(j);
	for (size_t k = 0; k < ntrees; k++)
		pf_fold_rows_destroy(&rows[k]);
	free(rows);
	free(need);
	free(allow);
	free(order);
}

void pf_waterfall_destroy(struct pf_waterfall *w)
{
	for (size_t k = 0; k < w->n; k++) {
		struct pf_waterfall_tree *t = &w->t[k];
		pf_task_tree_destroy(&t->tree);
		free(t->nodes);
		free(t->levels);
	}
	free(w->t);
	free(w->by_id);
	pf_waterfall_init(w);
}
