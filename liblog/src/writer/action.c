/* SPDX-License-Identifier: MIT */
/* action.c - the recording hot path: pl_action_* and pl_message stage fixed-layout
 * events into the calling thread's ring. No locks, no system calls (except waking the
 * flusher once per half-filled ring, and waiting under PL_FULL_BLOCK); what cannot be
 * staged is counted, never reported to the caller.
 */
#define _GNU_SOURCE
#include <msgpack.h>
#include <string.h>
#include <time.h>

#include <perflog/action.h>
#include <perflog/status.h>
#include <perflog/tracecontext.h>

#include "../common/config.h"
#include "../common/mpcursor.h"
#include "../common/taskid.h"
#include "event.h"
#include "thread.h"
#include "writer_int.h"

#define PL_AF_ACTIVE	  1u
#define PL_AF_TRACEPARENT 2u /* the root of a task continued from a traceparent */
#define PL_AF_LOCAL                                                                                \
	4u /* a task of this process, its START staged (or counted as                              \
	    * dropped): with PL_AF_ACTIVE alone, the END's fast path */

/* ---- fields: an upper bound of their msgpack size, then the encoding ---- */

static inline uint64_t scalar_bound(const pl_value *v)
{
	switch (v->type) {
	case PL_VALUE_STR:
	case PL_VALUE_BYTES:
		return 5 + (uint64_t)PL_MIN(v->v.str.len, (size_t)PL_MAX_EVENT_BYTES);
	default:
		return 9;
	}
}

static uint64_t value_bound(const pl_value *v)
{
	uint64_t n = 5;
	switch (v->type) {
	case PL_VALUE_ARRAY:
		for (size_t i = 0; i < v->v.array.len && n <= PL_MAX_EVENT_BYTES; i++)
			n += scalar_bound(&v->v.array.items[i]);
		return n;
	case PL_VALUE_MAP:
		for (size_t i = 0; i < v->v.map.len && n <= PL_MAX_EVENT_BYTES; i++)
			n += 5 + PL_MIN(v->v.map.items[i].key_len, (size_t)PL_MAX_EVENT_BYTES) +
			     scalar_bound(&v->v.map.items[i].value);
		return n;
	default:
		return scalar_bound(v);
	}
}

static inline uint64_t fields_bound(const struct pl_field *f, size_t n)
{
	uint64_t b = 5;
	for (size_t i = 0; i < n && b <= PL_MAX_EVENT_BYTES; i++)
		b += 5 + value_bound(&f[i].value);
	return b;
}

/* Packed into ring space already proven large enough by fields_bound(). */
static inline __attribute__((always_inline)) void pack_scalar(struct pl_mpcursor *pk,
							      const pl_value *v)
{
	if (likely(v->type == PL_VALUE_INT)) { /* the usual one: no jump table */
		pl_mp_int64(pk, v->v.i);
		return;
	}
	switch (v->type) {
	case PL_VALUE_BOOL:
		v->v.b ? pl_mp_true(pk) : pl_mp_false(pk);
		break;
	case PL_VALUE_INT:
		pl_mp_int64(pk, v->v.i);
		break;
	case PL_VALUE_UINT:
		pl_mp_uint64(pk, v->v.u);
		break;
	case PL_VALUE_FLOAT:
		pl_mp_double(pk, v->v.f);
		break;
	case PL_VALUE_STR:
		pl_mp_str_with_body(pk, v->v.str.ptr, v->v.str.len);
		break;
	case PL_VALUE_BYTES:
		pl_mp_bin_with_body(pk, v->v.str.ptr, v->v.str.len);
		break;
	default: /* nil, and containers nested deeper than one level */
		pl_mp_nil(pk);
		break;
	}
}

static inline void pack_fields(uint8_t **cursor, const struct pl_field *f, size_t n)
{
	struct pl_mpcursor cur = {*cursor};
	pl_mp_map(&cur, n);
	for (size_t i = 0; i < n; i++) {
		const pl_value *v = &f[i].value;
		pl_mp_uint32(&cur, f[i].name);
		if (v->type == PL_VALUE_ARRAY) {
			pl_mp_array(&cur, v->v.array.len);
			for (size_t j = 0; j < v->v.array.len; j++)
				pack_scalar(&cur, &v->v.array.items[j]);
		} else if (v->type == PL_VALUE_MAP) {
			pl_mp_map(&cur, v->v.map.len);
			for (size_t j = 0; j < v->v.map.len; j++) {
				const struct pl_kv *kv = &v->v.map.items[j];
				pl_mp_str_with_body(&cur, kv->key, kv->key_len);
				pack_scalar(&cur, &kv->value);
			}
		} else {
			pack_scalar(&cur, v);
		}
	}
	*cursor = cur.p;
}

/* ---- levels ---- */

/* Write @a's path (a->priv_depth entries) into @out, walking up to the root. */
static void fill_level(const pl_action *a, uint32_t *out)
{
	uint32_t d = a->priv_depth;
	while (d > 0) {
		if (a->priv_path) {
			memcpy(out, a->priv_path, d * sizeof(uint32_t));
			return;
		}
		out[--d] = a->priv_index;
		a = a->priv_parent;
	}
}

/* ---- staging ---- */

struct stage {
	uint8_t kind, flags;
	pl_name type;
	uint64_t ticks, prefix, seq, duration;
	const pl_action *path_of; /* level = path of this action ... */
	uint32_t extra_index;	  /* ... plus this child index when non-zero */
	uint32_t depth;
	const struct pl_field *fields;
	size_t nfields;
	const char *exc_type, *exc_msg;
	uint32_t exc_type_len, exc_msg_len;
};

/* PL_FULL_BLOCK: how long a recording thread sleeps between two tries while the flusher
 * drains its ring (short: a flush of one ring takes microseconds). */
#define BLOCK_RETRY_NS 20000

static void *grow_ring(struct pl_writer *w, struct pl_ring *tb, uint32_t size);

static void wait_for_room(struct pl_writer *w, struct pl_ring *tb, uint32_t size, void **p)
{
	tb->blocked++;
	/* Growing is tried again too: the flusher frees a whole drained segment (a spare,
	 * or budget) long before it reaches the current one. */
	while (!(*p = pl_ring_reserve(tb, size)) && !(*p = grow_ring(w, tb, size))) {
		if (!load_relaxed(&w->enabled))
			return;
		sem_post(&w->wake);
		struct timespec ts = {0, BLOCK_RETRY_NS};
		nanosleep(&ts, NULL);
	}
}

/* The ring's current segment is full: link another (a spare, or a new one if the
 * memory budget allows) and wake the flusher, which is behind. Returns the space, or
 * NULL. */
static __attribute__((noinline)) void *grow_ring(struct pl_writer *w, struct pl_ring *tb,
						 uint32_t size)
{
	/* A spare first: taking budget for it and giving it back could make another
	 * thread's growth fail meanwhile. */
	int r = pl_ring_grow(tb, false);
	if (r < 0) {
		uint64_t cap = pl_ring_capacity(tb);
		bool budget = pl_writer_budget_take(w, cap);
		r = pl_ring_grow(tb, budget);
		if (budget && r != 0)
			pl_writer_budget_give(w, cap); /* a spare came meanwhile, or no memory */
		if (r < 0)
			return NULL;
	}
	sem_post(&w->wake);
	return pl_ring_reserve(tb, size);
}

/* Space for one staged event of @size bytes in @tb, the calling thread's ring, or NULL
 * after counting why not (oversize, full). A full ring grows within max_memory; past
 * that, PL_FULL_BLOCK waits and PL_FULL_DROP drops. Always inlined: as a call, its
 * prologue and the ring's pointer chase were a fifth of an event's time. */
static inline __attribute__((always_inline)) void *
reserve_in(struct pl_writer *w, struct pl_ring *tb, uint64_t size, uint32_t depth)
{
	if (unlikely(size > w->max_event || depth > PL_LEVEL_MAX_DEPTH)) {
		store_relaxed(&tb->dropped_oversize, tb->dropped_oversize + 1);
		return NULL;
	}
	void *p = pl_ring_reserve(tb, (uint32_t)size);
	if (unlikely(!p) && !(p = grow_ring(w, tb, (uint32_t)size))) {
		if (w->full_policy == PL_FULL_BLOCK)
			wait_for_room(w, tb, (uint32_t)size, &p);
		if (!p) {
			store_relaxed(&tb->dropped_full, tb->dropped_full + 1);
			return NULL;
		}
	}
	return p;
}

/* The calling thread's ring, or NULL after counting an event that has none. */
static inline struct pl_ring *ring_or_count(struct pl_writer *w)
{
	struct pl_ring *tb = pl_thread_ring(w);
	if (unlikely(!tb))
		__atomic_fetch_add(&w->dropped_no_buffer, 1, __ATOMIC_RELAXED);
	return tb;
}

/* reserve_in() the calling thread's ring, found here; *@tbp receives it. */
static inline void *stage_reserve(struct pl_writer *w, uint64_t size, uint32_t depth,
				  struct pl_ring **tbp)
{
	struct pl_ring *tb = ring_or_count(w);
	if (!tb)
		return NULL;
	*tbp = tb;
	return reserve_in(w, tb, size, depth);
}

/* The ring holds more than 1/PL_WAKE_FRACTION of its segment maybe: wake the flusher
 * if it is so and no wake is pending (a rare system call), and say at which head to
 * look again. */
static __attribute__((noinline)) void wake_check(struct pl_writer *w, struct pl_ring *tb,
						 uint64_t head)
{
	uint64_t mark = pl_ring_capacity(tb) / PL_WAKE_FRACTION;
	pl_ring_refresh(tb);
	if (pl_ring_pending(tb) > mark && !load_relaxed(&tb->wake_armed)) {
		store_relaxed(&tb->wake_armed, 1);
		sem_post(&w->wake);
	}
	/* Below the threshold: past it next. Above it (woken now or earlier, the flusher
	 * busy): again after 1/16 of the segment, which sees a drained ring soon enough for
	 * the next wake. */
	uint64_t at = tb->prod->tail_cache + mark;
	tb->wake_head = at > head ? at : head + pl_ring_capacity(tb) / 16;
}

/* Publish the event of @used bytes; one compare decides whether to look at waking the
 * flusher (wake_check). */
static inline void stage_publish(struct pl_writer *w, struct pl_ring *tb, uint32_t used)
{
	uint64_t head = pl_ring_commit(tb, used);
	store_relaxed(&tb->events, tb->events + 1);
	if (unlikely(head > tb->wake_head))
		wake_check(w, tb, head);
}

/* Any event: fields, exception text, remote task. */
static void stage(struct pl_writer *w, const struct stage *s)
{
	uint64_t fb = s->nfields ? fields_bound(s->fields, s->nfields) : 0;
	bool remote = s->flags & PL_EVF_REMOTE;
	uint64_t size = sizeof(struct pl_ev) + (remote ? 8 : 0) + (s->kind == PL_EV_END ? 8 : 0) +
			(uint64_t)s->depth * 4 + fb + s->exc_type_len + s->exc_msg_len;
	size = PL_ALIGN_UP(size, 8);
	struct pl_ring *tb;
	void *p = stage_reserve(w, size, s->depth, &tb);
	if (!p)
		return;
	struct pl_ev *ev = p;
	uint8_t *cur = (uint8_t *)(ev + 1);
	ev->kind = s->kind;
	ev->flags = s->flags | (s->nfields ? PL_EVF_FIELDS : 0);
	ev->depth = (uint16_t)s->depth;
	ev->type = s->type;
	ev->exc_type_len = (uint16_t)s->exc_type_len;
	ev->exc_msg_len = (uint16_t)s->exc_msg_len;
	ev->ticks = s->ticks;
	ev->seq = s->seq;
	if (remote) {
		memcpy(cur, &s->prefix, 8);
		cur += 8;
	}
	if (s->kind == PL_EV_END) {
		memcpy(cur, &s->duration, 8);
		cur += 8;
	}
	if (s->depth) {
		uint32_t *level = (uint32_t *)cur;
		fill_level(s->path_of, level);
		if (s->extra_index)
			level[s->depth - 1] = s->extra_index;
		cur += s->depth * 4;
	}
	uint8_t *fstart = cur;
	if (s->nfields)
		pack_fields(&cur, s->fields, s->nfields);
	ev->fields_len = (uint32_t)(cur - fstart);
	if (s->exc_type_len) {
		memcpy(cur, s->exc_type, s->exc_type_len);
		cur += s->exc_type_len;
	}
	if (s->exc_msg_len) {
		memcpy(cur, s->exc_msg, s->exc_msg_len);
		cur += s->exc_msg_len;
	}
	uint32_t used = (uint32_t)PL_ALIGN_UP((uint64_t)(cur - (uint8_t *)p), 8);
	ev->size = used;
	stage_publish(w, tb, used);
}

/* Bytes of a plain END at @depth: header, duration, level. */
static inline uint32_t plain_end_size(uint32_t depth)
{
	return (uint32_t)PL_ALIGN_UP(sizeof(struct pl_ev) + 8 + depth * 4u, 8);
}

/* Write @a's plain END at @ev, @size bytes reserved; @depth is @a's (passed: a store
 * through @ev could alias @a for the compiler, which would read it again). */
static inline __attribute__((always_inline)) void
write_plain_end(struct pl_ev *ev, const pl_action *a, uint32_t depth, uint32_t size, uint64_t now)
{
	*ev = (struct pl_ev){.size = size,
			     .kind = PL_EV_END,
			     .depth = (uint16_t)depth,
			     .ticks = now,
			     .seq = a->priv_seq};
	uint64_t dur = now - a->priv_start;
	memcpy(ev + 1, &dur, 8);
	if (depth)
		fill_level(a, (uint32_t *)((uint8_t *)(ev + 1) + 8));
}

/* The most frequent event, an END that succeeded with no outputs, without the generic
 * path's bookkeeping. */
static inline __attribute__((always_inline)) void stage_plain_end(struct pl_writer *w,
								  const pl_action *a, uint64_t now)
{
	uint32_t depth = a->priv_depth, size = plain_end_size(depth);
	struct pl_ring *tb;
	void *p = stage_reserve(w, size, depth, &tb);
	if (!p)
		return;
	write_plain_end(p, a, depth, size, now);
	stage_publish(w, tb, size);
}

/* The usual START: a local task, at most FAST_FIELDS fields, each a scalar (what a C call
 * site or a decorated Python call passes). Its size is bounded in one pass over the
 * field types, so the generic path's bounds pass and staging struct are skipped. */
#define FAST_FIELDS 8

/* Bytes of the fields' msgpack map at most (map header 1, then per field a name as
 * uint32: 5, a value: 9, or 5 + its length for a string or bytes), or UINT64_MAX when
 * the generic path must take them (too many, or a container). */
static inline uint64_t fast_fields_bound(const struct pl_field *f, size_t n)
{
	if (n > FAST_FIELDS)
		return UINT64_MAX;
	uint64_t bound = 1 + n * 14;
	for (size_t i = 0; i < n; i++) {
		unsigned t = f[i].value.type;
		if (t > PL_VALUE_FLOAT) {
			if (t > PL_VALUE_BYTES)
				return UINT64_MAX;
			/* Header 5 (within the 14). Clamped as in scalar_bound(): a longer
			 * one makes the event oversize, refused before anything is packed. */
			bound += PL_MIN(f[i].value.v.str.len, (size_t)PL_MAX_EVENT_BYTES);
		}
	}
	return bound;
}

/* @ticks: the START's clock reading, passed by value: reading it back from @a right
 * after storing it made the compiler merge it with the next member into one 16-byte
 * load, which cannot be forwarded from two 8-byte stores (a stall of ~5 ns). */
static inline __attribute__((always_inline)) void
stage_fast_start(struct pl_writer *w, struct pl_ring *tb, const pl_action *a, pl_name type,
		 const struct pl_field *f, size_t n, uint64_t fbound, uint64_t ticks)
{
	uint32_t depth = a->priv_depth;
	uint64_t seq = a->priv_seq;
	uint64_t bound = PL_ALIGN_UP(sizeof(struct pl_ev) + (uint64_t)depth * 4 + fbound, 8);
	void *p = reserve_in(w, tb, bound, depth);
	if (!p)
		return;
	struct pl_ev *ev = p;
	uint8_t *cur = (uint8_t *)(ev + 1);
	if (depth) {
		fill_level(a, (uint32_t *)cur);
		cur += depth * 4;
	}
	uint8_t *fstart = cur;
	if (n) {
		struct pl_mpcursor pk = {cur};
		pl_mp_map(&pk, n);
		for (size_t i = 0; i < n; i++) {
			pl_mp_uint32(&pk, f[i].name);
			pack_scalar(&pk, &f[i].value);
		}
		cur = pk.p;
	}
	uint32_t used = (uint32_t)PL_ALIGN_UP((uint64_t)(cur - (uint8_t *)p), 8);
	*ev = (struct pl_ev){.size = used,
			     .kind = PL_EV_START,
			     .flags = n ? PL_EVF_FIELDS : 0,
			     .depth = (uint16_t)depth,
			     .type = type,
			     .fields_len = (uint32_t)(cur - fstart),
			     .ticks = ticks,
			     .seq = seq};
	stage_publish(w, tb, used);
}

static inline bool recording(struct pl_writer *w)
{
	return w && likely(load_relaxed(&w->enabled));
}

/* ---- public API ---- */

/* The START of any action, recording assumed. */
static __attribute__((noinline)) void begin_generic(pl_action *a, struct pl_writer *w, pl_name type,
						    const struct pl_field *fields, size_t nfields)
{
	/* A thread's first event creates its ring (~0.5 ms to allocate and touch 1 MiB):
	 * do that before reading the clock, so it does not count in the duration. */
	(void)pl_thread_ring(w);
	uint64_t ticks = pl_ticks(w->use_tsc);
	a->priv_start = ticks;
	if (a->priv_prefix == pl_task_prefix())
		a->priv_flags |= PL_AF_LOCAL;
	/* Every member assigned: a partial initializer zeroes the struct with `rep stos`,
	 * which measured as a quarter of this function. */
	struct stage s;
	s.kind = PL_EV_START;
	s.flags = a->priv_prefix != pl_task_prefix() ? PL_EVF_REMOTE : 0;
	s.type = type;
	s.ticks = ticks;
	s.prefix = a->priv_prefix;
	s.seq = a->priv_seq;
	s.duration = 0;
	s.path_of = a;
	s.extra_index = 0;
	s.depth = a->priv_depth;
	s.fields = fields;
	s.nfields = nfields;
	s.exc_type = s.exc_msg = NULL;
	s.exc_type_len = s.exc_msg_len = 0;
	stage(w, &s);
}

/* The usual START (a local task, few scalar fields, the thread's ring exists) staged in
 * line; anything else goes to begin_generic(), so that the fast path's function stays
 * small (its register saves were ~25 instructions per event). */
static inline __attribute__((always_inline)) void begin_common(pl_action *a, struct pl_writer *w,
							       bool local, pl_name type,
							       const struct pl_field *fields,
							       size_t nfields)
{
	if (!recording(w))
		return;
	struct pl_ring *tb = pl_thread_ring(w);
	uint64_t fbound;
	if (likely(tb && local) && (fbound = fast_fields_bound(fields, nfields)) != UINT64_MAX) {
		uint64_t ticks = pl_ticks(w->use_tsc);
		a->priv_start = ticks;
		a->priv_flags = PL_AF_ACTIVE | PL_AF_LOCAL;
		stage_fast_start(w, tb, a, type, fields, nfields, fbound, ticks);
		return;
	}
	begin_generic(a, w, type, fields, nfields);
}

PL_EXPORT void pl_action_begin(pl_action *a, struct pl_writer *w, pl_action *parent, pl_name type,
			       const struct pl_field *fields, size_t nfields)
{
	a->priv_writer = w;
	a->priv_parent = parent;
	a->priv_path = NULL;
	a->priv_next_child = 1;
	a->priv_flags = PL_AF_ACTIVE;
	a->priv_start = 0;
	uint64_t own = pl_task_prefix();
	if (parent) {
		a->priv_prefix = parent->priv_prefix;
		a->priv_seq = parent->priv_seq;
		a->priv_index = __atomic_fetch_add(&parent->priv_next_child, 1, __ATOMIC_RELAXED);
		a->priv_depth = parent->priv_depth + 1;
	} else {
		a->priv_prefix = own;
		a->priv_seq = pl_task_next_seq();
		a->priv_index = 0;
		a->priv_depth = 0;
	}
	begin_common(a, w, a->priv_prefix == own, type, fields, nfields);
}

PL_EXPORT void pl_action_begin_at(pl_action *a, struct pl_writer *w, uint64_t prefix, uint64_t seq,
				  const uint32_t *level, uint32_t depth, pl_name type,
				  const struct pl_field *fields, size_t nfields)
{
	a->priv_writer = w;
	a->priv_parent = NULL;
	a->priv_path = level;
	a->priv_next_child = 1;
	a->priv_flags = PL_AF_ACTIVE;
	a->priv_start = 0;
	a->priv_prefix = prefix;
	a->priv_seq = seq;
	a->priv_depth = level ? depth : 0;
	a->priv_index = a->priv_depth ? level[a->priv_depth - 1] : 0;
	begin_common(a, w, prefix == pl_task_prefix(), type, fields, nfields);
}

PL_EXPORT void pl_action_begin_remote(pl_action *a, struct pl_writer *w,
				      const struct pl_task_ref *ref, pl_name type,
				      const struct pl_field *fields, size_t nfields)
{
	pl_action_begin_at(a, w, ref->prefix, ref->seq, ref->level,
			   PL_MIN(ref->depth, PL_TASK_MAX_DEPTH), type, fields, nfields);
}

PL_EXPORT void pl_action_begin_traceparent(pl_action *a, struct pl_writer *w,
					   const struct pl_traceparent *tp, pl_name type,
					   const struct pl_field *fields, size_t nfields)
{
	/* Registered before the START, so that the action's children see the caller's trace
	 * id as soon as they can begin. */
	uint64_t prefix = pl_task_prefix(), seq = pl_task_next_seq();
	bool registered = tp && pl_task_trace_set(prefix, seq, tp) == 0;
	char text[PL_TRACEPARENT_LEN + 1];
	struct pl_field f[64];
	size_t n = PL_MIN(nfields, 63);
	if (n)
		memcpy(f, fields, n * sizeof(*f));
	if (tp) {
		uint64_t parent = 0;
		for (int i = 0; i < 8; i++)
			parent = parent << 8 | tp->parent_id[i];
		pl_traceparent_format(tp->trace_id, parent, tp->flags, text, sizeof(text));
		f[n++] = (struct pl_field){PL_NAME(PL_TRACEPARENT_FIELD),
					   PL_V_STRN(text, PL_TRACEPARENT_LEN)};
	}
	pl_action_begin_at(a, w, prefix, seq, NULL, 0, type, f, n);
	if (registered)
		a->priv_flags |= PL_AF_TRACEPARENT;
}

PL_EXPORT int pl_action_traceparent(const pl_action *a, char *buf, size_t len)
{
	if (!a || a->priv_depth > PL_LEVEL_MAX_DEPTH || len < PL_TRACEPARENT_LEN + 1)
		return -PL_EINVAL;
	uint32_t level[PL_LEVEL_MAX_DEPTH];
	fill_level(a, level);
	uint8_t trace[16];
	uint8_t flags = pl_task_trace_id(a->priv_prefix, a->priv_seq, trace);
	return pl_traceparent_format(
	    trace, pl_span_id(a->priv_prefix, a->priv_seq, level, a->priv_depth), flags, buf, len);
}

PL_EXPORT uint32_t pl_action_next_child(pl_action *a)
{
	return __atomic_fetch_add(&a->priv_next_child, 1, __ATOMIC_RELAXED);
}

PL_EXPORT int pl_action_level(const pl_action *a, uint32_t *out, size_t max)
{
	if (!a || a->priv_depth > max)
		return -PL_EINVAL;
	fill_level(a, out);
	return (int)a->priv_depth;
}

PL_EXPORT void pl_action_task(const pl_action *a, uint64_t *prefix, uint64_t *seq)
{
	*prefix = a->priv_prefix;
	*seq = a->priv_seq;
}

PL_EXPORT void pl_task_new(uint64_t *prefix, uint64_t *seq)
{
	*prefix = pl_task_prefix();
	*seq = pl_task_next_seq();
}

static void end_common(pl_action *a, uint8_t flags, const char *et, size_t etl, const char *em,
		       size_t eml, const struct pl_field *fields, size_t nfields)
{
	if (!(a->priv_flags & PL_AF_ACTIVE))
		return;
	if (unlikely(a->priv_flags & PL_AF_TRACEPARENT))
		pl_task_trace_clear(a->priv_prefix, a->priv_seq);
	a->priv_flags &= ~(PL_AF_ACTIVE | PL_AF_TRACEPARENT);
	struct pl_writer *w = a->priv_writer;
	if (!recording(w) || a->priv_start == 0)
		return;
	uint64_t now = pl_ticks(w->use_tsc);
	if (a->priv_prefix != pl_task_prefix())
		flags |= PL_EVF_REMOTE;
	if (likely(flags == 0 && nfields == 0)) {
		stage_plain_end(w, a, now);
		return;
	}
	struct stage s;
	s.kind = PL_EV_END;
	s.flags = flags;
	s.type = 0;
	s.ticks = now;
	s.prefix = a->priv_prefix;
	s.seq = a->priv_seq;
	s.duration = now - a->priv_start;
	s.path_of = a;
	s.extra_index = 0;
	s.depth = a->priv_depth;
	s.fields = fields;
	s.nfields = nfields;
	s.exc_type = et;
	/* Cut at a character boundary: a trace holds valid UTF-8 where it was given some. */
	s.exc_type_len = (uint32_t)(et ? pl_utf8_cut(et, etl, PL_MAX_EXC_TYPE) : 0);
	s.exc_msg = em;
	s.exc_msg_len = (uint32_t)(em ? pl_utf8_cut(em, eml, PL_MAX_EXC_MSG) : 0);
	stage(w, &s);
}

/* pl_action_end()'s usual END when it cannot be staged on the spot. */
static __attribute__((noinline)) void plain_end_slow(struct pl_writer *w, const pl_action *a,
						     uint64_t now)
{
	stage_plain_end(w, a, now);
}

PL_EXPORT void pl_action_end(pl_action *a, const struct pl_field *fields, size_t nfields)
{
	/* The usual END (no outputs, a local task, recording, the TSC, room in the cached
	 * ring) staged here, in a function that calls out only in tail position: it needs
	 * no register saves (they were 14 of its ~80 instructions). Anything else takes
	 * plain_end_slow() or end_common(). */
	struct pl_writer *w = a->priv_writer;
	if (likely(nfields == 0 && a->priv_flags == (PL_AF_ACTIVE | PL_AF_LOCAL) &&
		   load_relaxed(&w->enabled) && w->use_tsc)) {
		a->priv_flags = PL_AF_LOCAL;
		uint64_t now = pl_ticks(true);
		uint32_t depth = a->priv_depth, size = plain_end_size(depth);
		struct pl_ring *tb = pl_tl_cache.ring;
		struct pl_ev *ev;
		/* An END is never oversize: at most PL_LEVEL_MAX_DEPTH entries, ~4 KiB. */
		if (unlikely(pl_tl_cache.writer_id != w->id || !tb || depth > PL_LEVEL_MAX_DEPTH ||
			     !(ev = pl_ring_reserve_fast(tb, size)))) {
			plain_end_slow(w, a, now);
			return;
		}
		write_plain_end(ev, a, depth, size, now);
		uint64_t head = pl_ring_commit(tb, size);
		store_relaxed(&tb->events, tb->events + 1);
		if (unlikely(head > tb->wake_head))
			wake_check(w, tb, head);
		return;
	}
	end_common(a, 0, NULL, 0, NULL, 0, fields, nfields);
}

/* A NULL text has no length: end_common() cuts each text only when it is there. */
PL_EXPORT void pl_action_fail(pl_action *a, const char *exc_type, size_t exc_type_len,
			      const char *exc_msg, size_t exc_msg_len,
			      const struct pl_field *fields, size_t nfields)
{
	end_common(a, PL_EVF_FAILED, exc_type, exc_type_len, exc_msg, exc_msg_len, fields, nfields);
}

PL_EXPORT void pl_action_cancel(pl_action *a, const char *exc_type, size_t exc_type_len,
				const char *exc_msg, size_t exc_msg_len,
				const struct pl_field *fields, size_t nfields)
{
	end_common(a, PL_EVF_FAILED | PL_EVF_CANCELLED, exc_type, exc_type_len, exc_msg,
		   exc_msg_len, fields, nfields);
}

PL_EXPORT void pl_action_end_scope(pl_action *a)
{
	pl_action_end(a, NULL, 0);
}

PL_EXPORT void pl_message(struct pl_writer *w, pl_action *parent, pl_name type,
			  const struct pl_field *fields, size_t nfields)
{
	if (!recording(w))
		return;
	struct stage s = {.kind = PL_EV_MESSAGE,
			  .type = type,
			  .ticks = pl_ticks(w->use_tsc),
			  .fields = fields,
			  .nfields = nfields};
	if (parent) {
		s.prefix = parent->priv_prefix;
		s.seq = parent->priv_seq;
		s.path_of = parent;
		s.extra_index = __atomic_fetch_add(&parent->priv_next_child, 1, __ATOMIC_RELAXED);
		s.depth = parent->priv_depth + 1;
		if (s.prefix != pl_task_prefix())
			s.flags = PL_EVF_REMOTE;
	} else {
		s.prefix = pl_task_prefix();
		s.seq = pl_task_next_seq();
	}
	stage(w, &s);
}

PL_EXPORT void pl_thread_name(struct pl_writer *w, const char *name)
{
	if (!recording(w) || !name)
		return;
	struct stage s = {.kind = PL_EV_THREAD_NAME,
			  .ticks = pl_ticks(w->use_tsc),
			  .exc_type = name,
			  .exc_type_len = (uint32_t)strnlen(name, PL_MAX_THREAD_NAME)};
	stage(w, &s);
}

PL_EXPORT int pl_action_serialize(pl_action *a, char *buf, size_t len)
{
	uint32_t level[PL_TASK_MAX_DEPTH];
	if (!a || !buf || a->priv_depth + 1 > PL_TASK_MAX_DEPTH)
		return -PL_EINVAL;
	fill_level(a, level);
	level[a->priv_depth] = __atomic_fetch_add(&a->priv_next_child, 1, __ATOMIC_RELAXED);
	return pl_task_format(a->priv_prefix, a->priv_seq, level, a->priv_depth + 1, buf, len);
}
