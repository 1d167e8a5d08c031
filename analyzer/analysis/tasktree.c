/* SPDX-License-Identifier: MIT */
/* tasktree.c - one task's tree from its events (see tasktree.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <perflog/reader.h>

#include "analysis/tasktree.h"
#include "core/fields.h"
#include "core/names.h"
#include "fmt/units.h"
#include "util/grow.h"

void pf_task_tree_init(struct pf_task_tree *t, uint64_t prefix, uint64_t seq, uint32_t max_nodes,
		       size_t text_max)
{
	memset(t, 0, sizeof(*t));
	t->prefix = prefix;
	t->seq = seq;
	t->root.type = PF_NAME_NONE;
	t->max_nodes = max_nodes;
	t->text_max = text_max;
}

static struct pf_tnode *find_kid(struct pf_tnode *p, uint32_t idx)
{
	/* Children mostly arrive in order: look from the end. */
	for (uint32_t i = p->nkids; i-- > 0;)
		if (p->kids[i].idx == idx)
			return &p->kids[i];
	return NULL;
}

const struct pf_tnode *pf_tnode_find(const struct pf_tnode *p, uint32_t idx)
{
	return find_kid((struct pf_tnode *)p, idx);
}

/* @p's child @idx, made (MISSING) if absent; NULL when out of memory. */
static struct pf_tnode *kid(struct pf_tnode *p, uint32_t idx)
{
	struct pf_tnode *n = find_kid(p, idx);
	if (n)
		return n;
	if (PF_GROW(p->kids, p->capkids, p->nkids, 4) < 0)
		return NULL;
	n = &p->kids[p->nkids++];
	memset(n, 0, sizeof(*n));
	n->idx = idx;
	n->type = PF_NAME_NONE;
	return n;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

/* Copy what @ev says about its node @n. */
static int take(struct pf_tnode *n, const struct pf_event *ev, size_t text_max)
{
	if (ev->kind == PL_REC_START || ev->kind == PL_REC_MESSAGE) {
		n->type = ev->type;
		n->src = ev->src;
		n->thread = ev->thread;
		n->tid = ev->tid;
		n->wall = ev->wall;
		n->has_wall = true;
		if (n->state == PF_T_MISSING)
			n->state = ev->kind == PL_REC_MESSAGE ? PF_T_MESSAGE : PF_T_RUNNING;
		if (ev->fields_len && !n->inputs) {
			if (!(n->inputs = dup_bytes(ev->fields, ev->fields_len)))
				return -1;
			n->inputs_len = ev->fields_len;
		}
		return 0;
	}
	/* END */
	n->state = ev->failed ? PF_T_FAILED : PF_T_SUCCEEDED;
	n->duration_ns = ev->duration_ns;
	if (!n->has_wall) {
		n->src = ev->src;
		n->thread = ev->thread;
		n->tid = ev->tid;
		n->wall = pf_wall_sub(ev->wall, ev->duration_ns);
		n->has_wall = true;
	}
	if (ev->fields_len && !n->outputs) {
		if (!(n->outputs = dup_bytes(ev->fields, ev->fields_len)))
			return -1;
		n->outputs_len = ev->fields_len;
	}
	if (ev->exc_type && !n->exc_type) {
		n->exc_type = strndup(ev->exc_type, text_max);
		n->exc_msg = strndup(ev->exc_msg ? ev->exc_msg : "", text_max);
		if (!n->exc_type || !n->exc_msg)
			return -1;
	}
	return 0;
}

int pf_task_tree_event(struct pf_task_tree *t, const struct pf_event *ev)
{
	/* At the cap, only nodes seen already take events: look them up, make none. */
	bool full = t->max_nodes && t->nodes >= t->max_nodes;
	struct pf_tnode *n = &t->root;
	for (uint32_t d = 0; d < ev->depth && n; d++)
		n = full ? find_kid(n, ev->level[d]) : kid(n, ev->level[d]);
	if (full && (!n || n->state == PF_T_MISSING)) {
		t->omitted += ev->kind != PL_REC_END; /* count each node once: by its START */
		return 0;
	}
	if (!n)
		return -1;
	if (n->state == PF_T_MISSING)
		t->nodes++;
	return take(n, ev, t->text_max);
}

static int kid_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct pf_tnode *)a)->idx, y = ((const struct pf_tnode *)b)->idx;
	return (x > y) - (x < y);
}

static void sort_node(struct pf_tnode *n)
{
	if (n->nkids > 1)
		qsort(n->kids, n->nkids, sizeof(*n->kids), kid_cmp);
	for (uint32_t i = 0; i < n->nkids; i++)
		sort_node(&n->kids[i]);
}

void pf_task_tree_sort(struct pf_task_tree *t)
{
	sort_node(&t->root);
}

uint64_t pf_tnode_descendants(const struct pf_tnode *n)
{
	uint64_t k = n->nkids;
	for (uint32_t i = 0; i < n->nkids; i++)
		k += pf_tnode_descendants(&n->kids[i]);
	return k;
}

void pf_tnode_json_outcome(const struct pf_tnode *n, struct pf_json *j)
{
	pf_json_key(j, "outputs");
	pf_fields_json(j, n->outputs, n->outputs_len);
	pf_json_key(j, "exception");
	if (!n->exc_type) {
		pf_json_null(j);
		return;
	}
	pf_json_object_begin(j);
	pf_json_key(j, "type");
	pf_json_str(j, n->exc_type);
	pf_json_key(j, "message");
	pf_json_str(j, n->exc_msg);
	pf_json_object_end(j);
}

const char *pf_tstate_name(enum pf_tstate s)
{
	static const char *const names[] = {"missing", "unfinished", "succeeded", "failed",
					    "message"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void free_node(struct pf_tnode *n)
{
	for (uint32_t i = 0; i < n->nkids; i++)
		free_node(&n->kids[i]);
	free(n->kids);
	free(n->inputs);
	free(n->outputs);
	free(n->exc_type);
	free(n->exc_msg);
}

void pf_task_tree_destroy(struct pf_task_tree *t)
{
	if (!t)
		return;
	free_node(&t->root);
	memset(&t->root, 0, sizeof(t->root));
	t->root.type = PF_NAME_NONE;
}
