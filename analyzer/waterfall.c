/* waterfall.c - flat task trees for the report (see waterfall.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>

#include "fields.h"
#include "waterfall.h"
#include "wfold.h"

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

static struct pf_wtree *find_tree(const struct pf_waterfall *w, uint64_t prefix, uint64_t seq)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct pf_wtree *t = &w->t[w->by_id[mid]];
		int c = id_cmp(prefix, seq, t->prefix, t->seq);
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
		if (w->t[i].prefix == c->prefix && w->t[i].seq == c->seq)
			return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		struct pf_wtree *t = realloc(w->t, cap * sizeof(*t));
		if (!t)
			return -1;
		w->t = t;
		w->cap = cap;
	}
	struct pf_wtree *t = &w->t[w->n++];
	memset(t, 0, sizeof(*t));
	t->prefix = c->prefix;
	t->seq = c->seq;
	t->anchor_depth = c->depth < PF_CALL_PATH_MAX ? c->depth : PF_CALL_PATH_MAX;
	memcpy(t->anchor, c->level, t->anchor_depth * sizeof(uint32_t));
	return 0;
}

static const struct pf_waterfall *sort_w; /* for by_id_cmp() */

static int by_id_cmp(const void *a, const void *b)
{
	const struct pf_wtree *x = &sort_w->t[*(const size_t *)a];
	const struct pf_wtree *y = &sort_w->t[*(const size_t *)b];
	return id_cmp(x->prefix, x->seq, y->prefix, y->seq);
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

/* ---- nodes ------------------------------------------------------------------------------ */

static uint64_t level_hash(const uint32_t *level, uint32_t depth)
{
	uint64_t h = 0xcbf29ce484222325ull ^ depth;
	for (uint32_t i = 0; i < depth; i++)
		h = (h ^ level[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static bool same_level(const struct pf_wnode *n, const uint32_t *level, uint32_t depth,
		       uint64_t hash)
{
	return n->hash == hash && n->depth == depth &&
	       (!depth || !memcmp(n->level, level, depth * sizeof(*level)));
}

static struct pf_wnode *find_node(const struct pf_wtree *t, const uint32_t *level, uint32_t depth,
				  uint64_t hash)
{
	if (!t->nslots)
		return NULL;
	for (uint32_t i = (uint32_t)hash & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
		if (!t->slots[i])
			return NULL;
		struct pf_wnode *n = &t->nodes[t->slots[i] - 1];
		if (same_level(n, level, depth, hash))
			return n;
	}
}

static void index_node(struct pf_wtree *t, uint32_t k)
{
	uint32_t i = (uint32_t)t->nodes[k].hash & (t->nslots - 1);
	while (t->slots[i])
		i = (i + 1) & (t->nslots - 1);
	t->slots[i] = k + 1;
}

/* A new node for @ev's level, or NULL with *@full set when the tree is at its cap. */
static struct pf_wnode *new_node(struct pf_wtree *t, const struct pf_event *ev, uint64_t hash,
				 bool *full)
{
	*full = t->n >= PF_WATERFALL_MAX_NODES;
	if (*full)
		return NULL;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? 2 * t->cap : 16;
		struct pf_wnode *n = realloc(t->nodes, cap * sizeof(*n));
		if (!n)
			return NULL;
		t->nodes = n;
		t->cap = cap;
	}
	if (2 * (t->n + 1) > t->nslots) {
		uint32_t ns = t->nslots ? 2 * t->nslots : 64;
		uint32_t *s = calloc(ns, sizeof(*s));
		if (!s)
			return NULL;
		free(t->slots);
		t->slots = s;
		t->nslots = ns;
		for (uint32_t k = 0; k < t->n; k++)
			index_node(t, k);
	}
	struct pf_wnode *n = &t->nodes[t->n];
	memset(n, 0, sizeof(*n));
	if (ev->depth && !(n->level = malloc(ev->depth * sizeof(*n->level))))
		return NULL;
	if (ev->depth)
		memcpy(n->level, ev->level, ev->depth * sizeof(*n->level));
	n->depth = ev->depth;
	n->hash = hash;
	n->type = PF_NAME_NONE;
	index_node(t, t->n++);
	return n;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

int pf_waterfall_event(struct pf_waterfall *w, const struct pf_event *ev)
{
	struct pf_wtree *t = w->n ? find_tree(w, ev->prefix, ev->seq) : NULL;
	if (!t)
		return 0;
	uint64_t hash = level_hash(ev->level, ev->depth);
	struct pf_wnode *n = find_node(t, ev->level, ev->depth, hash);
	bool full = false;
	if (!n && !(n = new_node(t, ev, hash, &full))) {
		if (!full)
			return -1;
		t->omitted += ev->kind != PL_REC_END; /* count each node once: by its START */
		return 0;
	}
	n->src = ev->src;
	n->thread = ev->thread;
	if (ev->kind == PL_REC_START || ev->kind == PL_REC_MESSAGE) {
		n->has_start = true;
		n->type = ev->type;
		n->wall = ev->wall;
		if (ev->kind == PL_REC_MESSAGE)
			n->state = PF_W_MESSAGE;
		if (ev->fields_len && !n->inputs) {
			if (!(n->inputs = dup_bytes(ev->fields, ev->fields_len)))
				return -1;
			n->inputs_len = ev->fields_len;
		}
		return 0;
	}
	n->state = ev->failed ? PF_W_FAILED : PF_W_SUCCEEDED;
	n->duration_ns = ev->duration_ns;
	if (!n->has_start)
		n->wall = ev->wall - (int64_t)ev->duration_ns;
	if (ev->fields_len && !n->outputs) {
		if (!(n->outputs = dup_bytes(ev->fields, ev->fields_len)))
			return -1;
		n->outputs_len = ev->fields_len;
	}
	if (ev->exc_type && !n->exc_type) {
		n->exc_type = strndup(ev->exc_type, PF_WATERFALL_TEXT_MAX);
		n->exc_msg = strndup(ev->exc_msg ? ev->exc_msg : "", PF_WATERFALL_TEXT_MAX);
		if (!n->exc_type || !n->exc_msg)
			return -1;
	}
	return 0;
}

/* ---- output ----------------------------------------------------------------------------- */

/* Depth-first order: by level path, a parent before its children. */
static int node_cmp(const void *a, const void *b)
{
	const struct pf_wnode *x = a, *y = b;
	uint32_t d = x->depth < y->depth ? x->depth : y->depth;
	for (uint32_t i = 0; i < d; i++)
		if (x->level[i] != y->level[i])
			return x->level[i] < y->level[i] ? -1 : 1;
	return (x->depth > y->depth) - (x->depth < y->depth);
}

static void json_level(struct pf_json *j, const uint32_t *level, uint32_t depth)
{
	pf_json_array_begin(j);
	for (uint32_t i = 0; i < depth; i++)
		pf_json_uint(j, level[i]);
	pf_json_array_end(j);
}

static void json_node(const struct pf_wnode *n, const struct pf_names *names,
		      const struct pf_input *in, struct pf_json *j)
{
	static const char *const states[] = {"unfinished", "succeeded", "failed", "message"};
	pf_json_object_begin(j);
	pf_json_key(j, "level");
	json_level(j, n->level, n->depth);
	pf_json_key(j, "kind");
	pf_json_str(j, n->state == PF_W_MESSAGE ? "message" : "action");
	pf_json_key(j, "type");
	pf_json_str(j, n->type == PF_NAME_NONE ? NULL : pf_names_str(names, n->type));
	pf_json_key(j, "status");
	pf_json_str(j, states[n->state]);
	pf_json_key(j, "start_ns");
	pf_json_int(j, n->wall);
	pf_json_key(j, "duration_ns");
	if (n->state == PF_W_SUCCEEDED || n->state == PF_W_FAILED)
		pf_json_uint(j, n->duration_ns);
	else
		pf_json_null(j);
	pf_json_key(j, "inputs");
	pf_fields_json(j, n->inputs, n->inputs_len);
	pf_json_key(j, "outputs");
	pf_fields_json(j, n->outputs, n->outputs_len);
	pf_json_key(j, "exception");
	if (n->exc_type) {
		pf_json_object_begin(j);
		pf_json_key(j, "type");
		pf_json_str(j, n->exc_type);
		pf_json_key(j, "message");
		pf_json_str(j, n->exc_msg);
		pf_json_object_end(j);
	} else {
		pf_json_null(j);
	}
	pf_json_key(j, "pid");
	pf_json_int(j, in->src[n->src].pid);
	pf_json_key(j, "thread");
	pf_json_uint(j, n->thread);
	pf_json_key(j, "thread_name");
	pf_json_str(j, pf_input_thread_name(in, n->src, n->thread));
	pf_json_object_end(j);
}

static void json_more(const struct pf_wmore *m, const struct pf_names *names, struct pf_json *j)
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
static uint64_t node_cost(const struct pf_wnode *n, const struct pf_names *names,
			  const struct pf_input *in)
{
	const char *thread = pf_input_thread_name(in, n->src, n->thread);
	uint64_t text = n->inputs_len + n->outputs_len + (thread ? strlen(thread) : 0) +
			(n->type == PF_NAME_NONE ? 0 : strlen(pf_names_str(names, n->type))) +
			(n->exc_type ? strlen(n->exc_type) + strlen(n->exc_msg) : 0);
	return 300 + 11 * (uint64_t)n->depth + 6 * text;
}

/* The same for json_more(). */
static uint64_t more_cost(const struct pf_wmore *m, const struct pf_names *names)
{
	uint64_t c = 300 + 11 * (uint64_t)m->depth;
	for (uint32_t i = 0; i < m->ntypes; i++)
		c += 80 + 6 * (m->types[i].type == PF_NAME_NONE
				   ? 0
				   : strlen(pf_names_str(names, m->types[i].type)));
	return c;
}

static uint64_t row_cost(const struct pf_wtree *t, const struct pf_wrows *f, uint32_t r,
			 const struct pf_names *names, const struct pf_input *in)
{
	const struct pf_wmore *m;
	const struct pf_wnode *n = pf_wrows_at(t, f, r, &m);
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
	struct pf_wrows *rows = calloc(w->n ? w->n : 1, sizeof(*rows));
	if (!need || !allow || !order || !rows)
		ntrees = 0; /* no memory left to share out: draw no tree */
	for (size_t k = 0; k < ntrees; k++) {
		struct pf_wtree *t = &w->t[k];
		/* The slots index is stale once sorted; the events are all in by now. */
		qsort(t->nodes, t->n, sizeof(*t->nodes), node_cmp);
		pf_wfold(t, max_kids, &rows[k]); /* without memory for it: every node, unfolded */
		for (uint32_t r = 0; r < pf_wrows_n(t, &rows[k]); r++)
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
		struct pf_wtree *t = &w->t[k];
		pf_json_object_begin(j);
		pf_json_key(j, "task");
		snprintf(id, sizeof(id), "%016" PRIx64 "-%" PRIx64, t->prefix, t->seq);
		pf_json_str(j, id);
		pf_json_key(j, "anchor");
		json_level(j, t->anchor, t->anchor_depth);
		pf_json_key(j, "nodes");
		pf_json_array_begin(j);
		uint64_t used = 0, drawn = 0, folded = 0;
		for (uint32_t r = 0; r < pf_wrows_n(t, &rows[k]); r++) {
			const struct pf_wmore *m;
			const struct pf_wnode *n = pf_wrows_at(t, &rows[k], r, &m);
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
		pf_json_uint(j, t->omitted + (t->n - drawn - folded));
		pf_json_object_end(j);
	}
	pf_json_array_end(j);
	for (size_t k = 0; k < ntrees; k++)
		pf_wrows_destroy(&rows[k]);
	free(rows);
	free(need);
	free(allow);
	free(order);
}

void pf_waterfall_destroy(struct pf_waterfall *w)
{
	for (size_t k = 0; k < w->n; k++) {
		struct pf_wtree *t = &w->t[k];
		for (uint32_t i = 0; i < t->n; i++) {
			struct pf_wnode *n = &t->nodes[i];
			free(n->level);
			free(n->inputs);
			free(n->outputs);
			free(n->exc_type);
			free(n->exc_msg);
		}
		free(t->nodes);
		free(t->slots);
	}
	free(w->t);
	free(w->by_id);
	pf_waterfall_init(w);
}
