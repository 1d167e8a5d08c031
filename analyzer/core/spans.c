/* SPDX-License-Identifier: MIT */
/* spans.c - the open-action table: START/END pairing, child sums, ancestry (see spans.h). */
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>

#include "core/fields.h"
#include "core/spans.h"
#include "util/hash.h"

struct pf_open {
	uint64_t key; /* hash of (task, level); 0 = empty slot */
	uint64_t prefix, seq;
	int64_t start_wall;
	uint64_t child_ns;
	uint32_t depth, type;
	uint32_t nchildren;
	uint32_t block; /* inputs block + 1, 0 = none */
	uint32_t src, thread, tid;
};

/* A block: u16 length, the packed fields (PF_FIELDS_MAX bytes); with keep_levels, then
 * the level path (PL_TASK_MAX_DEPTH u32, unaligned: copied in and out). */
#define BLOCK_INPUTS (2 + PF_FIELDS_MAX)
#define BLOCK_LEVELS (PL_TASK_MAX_DEPTH * sizeof(uint32_t))

/* ---- keys: a value chained along the level path (the parent's is the child's before
 * its last step), mixed once into the key ----------------------------------------------- */

/* The chain starts from the task: (prefix, seq) are compared in full on lookup, so this
 * only has to spread them. */
static inline uint64_t path_seed(uint64_t prefix, uint64_t seq)
{
	return prefix ^ (seq * PF_HASH_GOLDEN);
}

/* One step a level: an xor and a multiply by an odd constant (a bijection, so two paths
 * of one task collide only if their values before the last step differ by the xor of
 * their last indexes, below 2^32: chance ~2^-64 for paths not crafted to). A full mix a
 * level cost the pairing a chain of multiplies to wait for. */
static inline uint64_t path_step(uint64_t h, uint32_t index)
{
	return (h ^ (index + 1ull)) * 0xd6e8feb86659fd93ull;
}

/* The table's key of a path's value: mixed (the slot is its low bits), 0 meaning empty. */
static inline uint64_t slot_key(uint64_t h)
{
	h = pf_hash_mix(h);
	return h ? h : 1;
}

/* ---- the table (open addressing, linear probing, backward-shift deletion) ---------- */

static struct pf_open *lookup(const struct pf_spans *s, uint64_t key, uint64_t prefix, uint64_t seq,
			      uint32_t depth)
{
	size_t mask = s->cap - 1;
	for (size_t i = key & mask; s->slots[i].key; i = (i + 1) & mask) {
		const struct pf_open *o = &s->slots[i];
		if (o->key == key && o->prefix == prefix && o->seq == seq && o->depth == depth)
			return &s->slots[i];
	}
	return NULL;
}

static int grow(struct pf_spans *s)
{
	/* Small at first: most traces have a few actions open at once, and a table that
	 * fits in L1 pairs faster (probes into 72 KB of slots missed it). */
	size_t cap = s->cap ? 2 * s->cap : 64;
	struct pf_open *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slots[i].key)
			continue;
		size_t j = s->slots[i].key & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

static void remove_slot(struct pf_spans *s, struct pf_open *o)
{
	size_t mask = s->cap - 1, i = (size_t)(o - s->slots), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!s->slots[j].key)
			break;
		size_t home = s->slots[j].key & mask;
		/* Slot j may move into the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i].key = 0;
	s->n--;
}

/* ---- inputs blocks ----------------------------------------------------------------- */

static uint32_t block_alloc(struct pf_spans *s)
{
	if (s->nfree)
		return s->free_blocks[--s->nfree] + 1;
	if (s->nblocks == s->pool_cap) {
		uint32_t cap = s->pool_cap ? 2 * s->pool_cap : 256;
		uint8_t *pool = realloc(s->pool, (size_t)cap * s->block_size);
		if (!pool)
			return 0;
		uint32_t *fb = realloc(s->free_blocks, cap * sizeof(*fb));
		if (!fb) {
			s->pool = pool;
			return 0;
		}
		s->pool = pool;
		s->free_blocks = fb;
		s->pool_cap = cap;
	}
	return ++s->nblocks;
}

static void block_free(struct pf_spans *s, uint32_t block)
{
	if (block)
		s->free_blocks[s->nfree++] = block - 1;
}

static uint8_t *block_ptr(const struct pf_spans *s, uint32_t block)
{
	return s->pool + (size_t)(block - 1) * s->block_size;
}

/* ---- records ----------------------------------------------------------------------- */

/* START and END out of line, each saving only the registers it uses: inlined into
 * pf_spans_feed(), every event paid both paths' saves (a sixth of the pairing). */
static __attribute__((noinline)) int on_start(struct pf_spans *s, const struct pf_event *rec)
{
	uint64_t h = path_seed(rec->prefix, rec->seq);
	for (uint32_t i = 0; i < rec->depth; i++)
		h = path_step(h, rec->level[i]);
	uint64_t key = slot_key(h);
	/* Room first (a duplicate, rare, may grow the table needlessly): then one probe finds
	 * either the action already open or the empty slot that ends its chain. */
	if (2 * (s->n + 1) > s->cap && grow(s) < 0)
		return -1;
	size_t mask = s->cap - 1, i = key & mask;
	struct pf_open *o;
	for (;; i = (i + 1) & mask) {
		o = &s->slots[i];
		if (!o->key) {
			s->n++;
			break;
		}
		if (o->key == key && o->prefix == rec->prefix && o->seq == rec->seq &&
		    o->depth == rec->depth) { /* the same action again: keep the newer START */
			s->duplicates++;
			block_free(s, o->block);
			break;
		}
	}
	*o = (struct pf_open){
	    .key = key,
	    .prefix = rec->prefix,
	    .seq = rec->seq,
	    .start_wall = rec->wall,
	    .depth = rec->depth,
	    .type = rec->type,
	    .src = rec->src,
	    .thread = rec->thread,
	    .tid = rec->tid,
	};
	if ((s->keep_inputs && rec->fields) || s->keep_levels) {
		if (!(o->block = block_alloc(s)))
			return -1;
		uint8_t *b = block_ptr(s, o->block);
		uint16_t len = s->keep_inputs && rec->fields ? (uint16_t)rec->fields_len : 0;
		memcpy(b, &len, 2); /* len <= PF_FIELDS_MAX */
		if (len)
			memcpy(b + 2, rec->fields, len);
		if (s->keep_levels && o->depth)
			memcpy(b + BLOCK_INPUTS, rec->level,
			       (o->depth < PL_TASK_MAX_DEPTH ? o->depth : PL_TASK_MAX_DEPTH) *
				   sizeof(uint32_t));
	}
	return 0;
}

/* An END whose START is not open: counted unless its START would be outside the
 * window (not read, not missing). Returns 0. */
static int unmatched(struct pf_spans *s, const struct pf_event *rec)
{
	int64_t start = (int64_t)((uint64_t)rec->wall - rec->duration_ns);
	s->unmatched += start >= s->since && start < s->until;
	return 0;
}

static __attribute__((noinline)) int on_end(struct pf_spans *s, const struct pf_event *rec)
{
	uint64_t h = path_seed(rec->prefix, rec->seq), parent = 0;
	for (uint32_t i = 0; i < rec->depth; i++) {
		parent = h;
		h = path_step(h, rec->level[i]);
	}
	if (s->cap == 0)
		return unmatched(s, rec);
	if (rec->depth > 0) {
		struct pf_open *p =
		    lookup(s, slot_key(parent), rec->prefix, rec->seq, rec->depth - 1);
		if (p) {
			p->child_ns += rec->duration_ns;
			p->nchildren++;
		}
	}
	struct pf_open *o = lookup(s, slot_key(h), rec->prefix, rec->seq, rec->depth);
	if (!o)
		return unmatched(s, rec);
	/* Member by member: an initializer would zero the whole struct first (a `rep stos`
	 * that cost more than the rest of this function). */
	struct pf_span sp;
	sp.type = o->type;
	sp.src = o->src;
	sp.thread = o->thread;
	sp.tid = o->tid;
	sp.prefix = o->prefix;
	sp.seq = o->seq;
	sp.level = rec->level;
	sp.depth = rec->depth;
	sp.start_wall = o->start_wall;
	sp.duration_ns = rec->duration_ns;
	sp.child_ns = o->child_ns;
	sp.nchildren = o->nchildren;
	sp.self_ns = rec->duration_ns > o->child_ns ? rec->duration_ns - o->child_ns : 0;
	sp.failed = rec->failed;
	sp.end = rec;
	sp.running = false;
	sp.inputs = NULL;
	sp.inputs_len = 0;
	if (o->block && s->keep_inputs) {
		const uint8_t *b = block_ptr(s, o->block);
		uint16_t len;
		memcpy(&len, b, 2);
		sp.inputs = b + 2;
		sp.inputs_len = len;
	}
	s->fn(s->userdata, &sp);
	block_free(s, o->block);
	remove_slot(s, o);
	return 0;
}

int pf_spans_feed(struct pf_spans *s, const struct pf_event *rec)
{
	if (rec->kind == PL_REC_START)
		return on_start(s, rec);
	if (rec->kind == PL_REC_END)
		return on_end(s, rec);
	return 0;
}

size_t pf_spans_path(const struct pf_spans *s, const struct pf_span *sp, uint32_t *types,
		     size_t max, size_t *elided)
{
	size_t skip = sp->depth > max ? sp->depth - max : 0, n = 0;
	uint64_t h = path_seed(sp->prefix, sp->seq);
	for (uint32_t d = 0; d < sp->depth; d++) {
		if (d >= skip) {
			const struct pf_open *o = lookup(s, slot_key(h), sp->prefix, sp->seq, d);
			types[n++] = o ? o->type : PF_NAME_NONE;
		}
		h = path_step(h, sp->level[d]);
	}
	*elided = skip;
	return n;
}

uint32_t pf_spans_ancestor(const struct pf_spans *s, const struct pf_span *sp, uint32_t depth)
{
	uint64_t h = path_seed(sp->prefix, sp->seq);
	for (uint32_t d = 0; d < depth && d < sp->depth; d++)
		h = path_step(h, sp->level[d]);
	const struct pf_open *o =
	    depth < sp->depth ? lookup(s, slot_key(h), sp->prefix, sp->seq, depth) : NULL;
	return o ? o->type : PF_NAME_NONE;
}

/* Open actions by start, then task id and depth (then key: the same start, task and
 * depth at two levels), so that what is listed from them does not follow the table. */
static int cmp_open(const void *a, const void *b)
{
	const struct pf_open *x = *(const struct pf_open *const *)a;
	const struct pf_open *y = *(const struct pf_open *const *)b;
	if (x->start_wall != y->start_wall)
		return x->start_wall < y->start_wall ? -1 : 1;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

void pf_spans_foreach_open(const struct pf_spans *s, pf_span_fn fn, void *userdata)
{
	uint32_t level[PL_TASK_MAX_DEPTH];
	const struct pf_open **order = malloc((s->n ? s->n : 1) * sizeof(*order));
	size_t n = 0;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].key && order)
			order[n++] = &s->slots[i];
	if (order)
		qsort(order, n, sizeof(*order), cmp_open);
	/* Out of memory: in the table's order. */
	for (size_t i = 0, end = order ? n : s->cap; i < end; i++) {
		const struct pf_open *o = order ? order[i] : &s->slots[i];
		if (!o->key)
			continue;
		struct pf_span sp = {
		    .type = o->type,
		    .src = o->src,
		    .thread = o->thread,
		    .tid = o->tid,
		    .prefix = o->prefix,
		    .seq = o->seq,
		    .start_wall = o->start_wall,
		    .nchildren = o->nchildren,
		    .child_ns = o->child_ns,
		};
		if (o->block && s->keep_inputs) {
			const uint8_t *b = block_ptr(s, o->block);
			uint16_t len;
			memcpy(&len, b, 2);
			sp.inputs = b + 2;
			sp.inputs_len = len;
		}
		if (o->block && s->keep_levels) {
			sp.depth = o->depth < PL_TASK_MAX_DEPTH ? o->depth : PL_TASK_MAX_DEPTH;
			memcpy(level, block_ptr(s, o->block) + BLOCK_INPUTS,
			       sp.depth * sizeof(uint32_t));
			sp.level = level;
		}
		fn(userdata, &sp);
	}
	free(order);
}

void pf_spans_window(struct pf_spans *s, int64_t since, int64_t until)
{
	s->since = since;
	s->until = until;
}

size_t pf_spans_open(const struct pf_spans *s)
{
	if (s->since == INT64_MIN && s->until == INT64_MAX)
		return s->n;
	size_t n = 0;
	for (size_t i = 0; i < s->cap; i++)
		n += s->slots[i].key && s->slots[i].start_wall >= s->since &&
		     s->slots[i].start_wall < s->until;
	return n;
}

int pf_spans_init(struct pf_spans *s, bool keep_inputs, bool keep_levels, pf_span_fn fn,
		  void *userdata)
{
	memset(s, 0, sizeof(*s));
	s->since = INT64_MIN;
	s->until = INT64_MAX;
	s->keep_inputs = keep_inputs;
	s->keep_levels = keep_levels;
	s->block_size = BLOCK_INPUTS + (keep_levels ? BLOCK_LEVELS : 0);
	s->fn = fn;
	s->userdata = userdata;
	return grow(s);
}

void pf_spans_destroy(struct pf_spans *s)
{
	free(s->slots);
	free(s->pool);
	free(s->free_blocks);
	memset(s, 0, sizeof(*s));
}
