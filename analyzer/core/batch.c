/* SPDX-License-Identifier: MIT */
/* batch.c - a frame of one file as events sorted by timestamp (see batch.h, input.h).
 *
 * The events are copied out of liblog's borrowed records: that is the price of sorting.
 * The copy is compact (72 bytes, variable parts in one byte arena) and the sort is a
 * natural merge sort over the per-thread runs a frame consists of, so a frame written by
 * one thread costs one pass to find that it is sorted.
 */
#include <stdlib.h>
#include <string.h>

#include <perflog/status.h>

#include "core/batch.h"
#include "core/fields.h"
#include "util/grow.h"

/* Exception text kept per failed END. */
#define EXC_MAX 1024

/* The arena grown to hold @n bytes at @at. Returns 0 or -1 (out of memory). */
static __attribute__((noinline)) int arena_grow(struct pf_batch *b, size_t at, size_t n)
{
	size_t cap = b->cap_bytes ? b->cap_bytes : 64 << 10;
	while (at + n > cap)
		cap *= 2;
	uint8_t *m = realloc(b->bytes, cap);
	if (!m)
		return -1;
	b->bytes = m;
	b->cap_bytes = cap;
	return 0;
}

/* Room for @n more bytes in the arena, 4-aligned. Returns the offset or UINT32_MAX. In
 * line: called for every event, its call was a tenth of filling a batch. */
static inline uint32_t arena_reserve(struct pf_batch *b, size_t n)
{
	size_t at = (b->nbytes + 3) & ~(size_t)3;
	if (__builtin_expect(at + n > b->cap_bytes || !b->bytes, 0) && arena_grow(b, at, n) < 0)
		return UINT32_MAX;
	b->nbytes = at;
	return (uint32_t)at;
}

static size_t cstr_put(uint8_t *dst, const char *s)
{
	size_t n = s ? strnlen(s, EXC_MAX) : 0;
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
	return n + 1;
}

static int note_thread(struct pf_batch *b, const struct pl_record *rec)
{
	if (PF_GROW(b->threads, b->cap_threads, b->nthreads, 8) < 0)
		return -2;
	char *name = NULL;
	if (rec->name && !(name = pf_name_dup(rec->name)))
		return -2;
	b->threads[b->nthreads++] = (struct pf_batch_thread){rec->thread, name};
	return 0;
}

/* @x by a load of its own: the reader stored the record's members one by one, and GCC
 * merged neighbours into one wider load (two u64 into 16 bytes, two u32 into 8), which
 * the store buffer cannot forward from the narrower stores: a stall that was half of
 * pf_batch_fill's time. A volatile load is never merged. */
#define OWN_LOAD(x) (*(const volatile __typeof__(x) *)&(x))

/* Name number @id of the file (its text @text, or NULL) as a local number: interned once
 * per number (the reader keeps a number's text for its life), not once per event.
 * PF_NAME_NONE: no memory. */
static uint32_t map_type(struct pf_producer *p, uint32_t id, const char *text);

static inline uint32_t local_type(struct pf_producer *p, uint32_t id, const char *text)
{
	if (__builtin_expect(id < p->nby_id && p->by_id[id], 1))
		return p->by_id[id] - 1;
	return map_type(p, id, text);
}

/* local_type()'s first sight of number @id: intern its text (@text, or the reader's text
 * of the number when NULL). */
static __attribute__((noinline)) uint32_t map_type(struct pf_producer *p, uint32_t id,
						   const char *text)
{
	if (!text && !(text = pl_reader_name(p->r, id)))
		text = ""; /* cannot happen: the reader delivers defined numbers only */
	uint32_t t = pf_names_intern(&p->local, text);
	if (t == PF_NAME_NONE || id == 0)
		return t;
	if (id >= p->nby_id) { /* numbers are below PL_READ_MAX_NAMES (2^20) */
		uint32_t n = p->nby_id ? p->nby_id : 64;
		while (n <= id)
			n *= 2;
		uint32_t *m = realloc(p->by_id, n * sizeof(*m));
		if (!m)
			return t; /* interned the slow way next time too */
		memset(m + p->nby_id, 0, (n - p->nby_id) * sizeof(*m));
		p->by_id = m;
		p->nby_id = n;
	}
	p->by_id[id] = t + 1;
	return t;
}

/* @e's level path (e->depth entries at @level) into the arena. Returns 0 or -2. */
static inline int put_level(struct pf_batch *b, struct pf_batch_ev *e, const uint32_t *level)
{
	if ((e->level = arena_reserve(b, e->depth * sizeof(uint32_t))) == UINT32_MAX)
		return -2;
	uint32_t *lv = (uint32_t *)(b->bytes + e->level); /* 4-aligned */
	for (uint32_t i = 0; i < e->depth; i++)		  /* a few entries: no memcpy call */
		lv[i] = level[i];
	b->nbytes += e->depth * sizeof(uint32_t);
	return 0;
}

/* @e's fields (START and message fields, END outputs) packed and its exception text,
 * right after its level path (put_level): see ev_data(). Returns 0 or -2. */
static int put_data(struct pf_batch *b, struct pf_batch_ev *e, const struct pl_kv *fields,
		    size_t nfields, const char *exc_type, const char *exc_msg)
{
	bool exc = exc_type != NULL;
	e->flags |= EV_DATA;
	if (!nfields && !exc) /* an END's usual: its (empty) fields are kept all the same */
		return 0;
	/* Reserved right after the level (4-aligned, as its end is). */
	uint32_t at = arena_reserve(b, PF_FIELDS_MAX + (exc ? 2 * EXC_MAX + 2 : 0));
	if (at == UINT32_MAX)
		return -2;
	uint8_t *d = b->bytes + at;
	e->data_len = (uint16_t)pf_fields_pack(d, PF_FIELDS_MAX, fields, nfields);
	size_t n = e->data_len;
	if (exc) {
		e->flags |= EV_EXC;
		n += cstr_put(d + n, exc_type);
		n += cstr_put(d + n, exc_msg);
	}
	b->nbytes += n;
	return 0;
}

/* Append @rec to the batch. Returns 0 or -2 (out of memory). */
static int append(struct pf_batch *b, struct pf_producer *p, const struct pl_record *rec)
{
	struct pf_batch_ev *e = &b->ev[b->n];
	if (b->n > 0 && rec->ts_ns < e[-1].ts)
		b->unsorted =
		    true; /* noted here: a pass over the batch later costs a miss per event */
	*e = (struct pf_batch_ev){
	    .ts = rec->ts_ns,
	    .wall = rec->wall_ns,
	    .prefix = OWN_LOAD(rec->task_prefix),
	    .seq = OWN_LOAD(rec->task_seq),
	    .duration = rec->duration_ns,
	    .depth = rec->depth,
	    .type = PF_NAME_NONE,
	    .thread = OWN_LOAD(rec->thread),
	    .tid = OWN_LOAD(rec->tid),
	    .kind = (uint8_t)rec->kind,
	    /* Cancelled counts as failed here: perfan shows its exception the same way. */
	    .flags = rec->kind == PL_REC_END && rec->outcome != PL_SUCCEEDED ? EV_FAILED : 0,
	};
	if (rec->kind != PL_REC_END &&
	    (e->type = local_type(p, rec->type_id, rec->type)) == PF_NAME_NONE)
		return -2;
	if (put_level(b, e, rec->level) < 0 ||
	    ((p->keep_fields || (p->keep_end && rec->kind == PL_REC_END)) &&
	     put_data(b, e, rec->fields, rec->nfields, rec->exc_type, rec->exc_msg) < 0))
		return -2;
	b->n++;
	return 0;
}

/* Append THREAD or DROPPED @rec as an event: its name or reason in the arena after an
 * empty level (as take_carry() expects), a DROPPED's count as the duration. Returns 0 or
 * -2 (out of memory). */
static int append_meta(struct pf_batch *b, const struct pl_record *rec)
{
	struct pf_batch_ev *e = &b->ev[b->n];
	if (b->n > 0 && rec->ts_ns < e[-1].ts)
		b->unsorted = true;
	*e = (struct pf_batch_ev){
	    .ts = rec->ts_ns,
	    .wall = rec->wall_ns,
	    .duration = rec->kind == PL_REC_DROPPED ? rec->count : 0,
	    .type = PF_NAME_NONE,
	    .thread = rec->thread,
	    .tid = rec->tid,
	    .kind = (uint8_t)rec->kind,
	    .flags = EV_NAME | EV_DATA,
	};
	if ((e->level = arena_reserve(b, EXC_MAX + 1)) == UINT32_MAX) /* depth 0 */
		return -2;
	b->nbytes += cstr_put(b->bytes + ev_data(e), rec->name);
	b->n++;
	return 0;
}

/* Stable natural merge sort of order[0..n) by timestamp. */
static void sort_batch(struct pf_batch *b)
{
	const struct pf_batch_ev *ev = b->ev;
	uint32_t n = b->n, i;
	if (!b->unsorted)
		return; /* one run: already sorted (the single-thread case), no order */
	for (i = 0; i < n; i++)
		b->order[i] = i;
	for (;;) {
		uint32_t runs = 0;
		for (i = 0; i < n;) {
			uint32_t a = i, m = i + 1, c;
			while (m < n && ev[b->order[m - 1]].ts <= ev[b->order[m]].ts)
				m++;
			for (c = m + (m < n);
			     c < n && ev[b->order[c - 1]].ts <= ev[b->order[c]].ts;)
				c++;
			uint32_t x = a, y = m, o = a;
			while (x < m && y < c)
				b->tmp[o++] = ev[b->order[y]].ts < ev[b->order[x]].ts
						  ? b->order[y++]
						  : b->order[x++];
			while (x < m)
				b->tmp[o++] = b->order[x++];
			while (y < c)
				b->tmp[o++] = b->order[y++];
			runs++;
			i = c;
		}
		uint32_t *t = b->order;
		b->order = b->tmp;
		b->tmp = t;
		if (runs <= 1)
			return;
	}
}

/* The arrays grow with the largest frame seen, up to the cap. Returns 0 or -2. */
static __attribute__((noinline)) int grow_events(struct pf_batch *b)
{
	uint32_t cap = b->cap_ev ? 2 * b->cap_ev : 1024;
	struct pf_batch_ev *ev = realloc(b->ev, cap * sizeof(*ev));
	if (!ev)
		return -2;
	b->ev = ev;
	uint32_t *o = realloc(b->order, cap * sizeof(*o));
	if (!o)
		return -2;
	b->order = o;
	uint32_t *t = realloc(b->tmp, cap * sizeof(*t));
	if (!t)
		return -2;
	b->tmp = t;
	b->cap_ev = cap;
	return 0;
}

/* Room for one more event. Returns 0 or -2 (out of memory). */
static inline int ensure_events(struct pf_batch *b)
{
	return __builtin_expect(b->n < b->cap_ev, 1) ? 0 : grow_events(b);
}

/* The event @prev held back starts @b. Its bytes are the tail of @prev's arena. */
static int take_carry(struct pf_batch *b, const struct pf_batch *prev)
{
	struct pf_batch_ev e = prev->ev[prev->n];
	uint32_t base = e.level;
	size_t len = prev->nbytes - base;
	if (ensure_events(b) < 0 || arena_reserve(b, len) == UINT32_MAX)
		return -2;
	memcpy(b->bytes, prev->bytes + base, len);
	b->nbytes = len;
	e.level -= base; /* its data follows the level: see ev_data() */
	b->ev[0] = e;
	b->n = 1;
	return 0;
}

/* The ENDs among the @n events @ev of a run just appended as @e (their levels one after
 * the other in the arena from offset @at) that have outputs or exception text: their
 * level copied to the end of the arena with their data after it (ev_data()). Few ENDs
 * have either, so the reader writes the run's levels in one piece and these are copied
 * apart. Returns 0 or -2. */
static int keep_ends(struct pf_batch *b, const struct pl_event *ev, struct pf_batch_ev *e, size_t n,
		     uint32_t at)
{
	for (size_t i = 0; i < n; i++) {
		const struct pl_event *v = &ev[i];
		if (v->kind != PL_REC_END || (!v->nfields && !v->exc_type))
			continue;
		uint32_t to = arena_reserve(b, v->depth * sizeof(uint32_t));
		if (to == UINT32_MAX)
			return -2;
		/* After the reserve: growing the arena moves what lies in it. */
		memcpy(b->bytes + to, b->bytes + at + v->level * sizeof(uint32_t),
		       v->depth * sizeof(uint32_t));
		e[i].level = to;
		b->nbytes = to + v->depth * sizeof(uint32_t);
		if (put_data(b, &e[i], v->fields, v->nfields, v->exc_type, v->exc_msg) < 0)
			return -2;
	}
	return 0;
}

/* Events taken from the reader at once, and level entries room is made for (a deeper
 * event is left to pl_reader_next()). */
#define RUN_EVENTS 256
#define RUN_LEVELS 1024

/* The rest of the run of events the reader is in (pl_reader_next_events()), appended
 * as append() would, up to the batch's caps. Returns 0 or -2. */
static int append_run(struct pf_batch *b, struct pf_producer *p)
{
	if (!p->run && !(p->run = malloc(RUN_EVENTS * sizeof(*p->run))))
		return -2;
	if (p->keep_fields && !p->run_levels &&
	    !(p->run_levels = malloc(RUN_LEVELS * sizeof(*p->run_levels))))
		return -2;
	while (b->n < PF_BATCH_EVENTS && b->nbytes < PF_BATCH_BYTES) {
		uint32_t room = PF_BATCH_EVENTS - b->n;
		if (room > RUN_EVENTS)
			room = RUN_EVENTS;
		while (b->cap_ev < b->n + room)
			if (grow_events(b) < 0)
				return -2;
		/* Without fields, the reader writes the levels into the arena, one after the
		 * other; with them, each event's level is followed by its data (ev_data()),
		 * so the levels come through run_levels. */
		uint32_t at = 0, *lv = p->run_levels;
		if (!p->keep_fields) {
			if ((at = arena_reserve(b, RUN_LEVELS * sizeof(uint32_t))) == UINT32_MAX)
				return -2;
			lv = (uint32_t *)(b->bytes + at);
		}
		size_t n = pl_reader_next_events(p->r, p->run, room, lv, RUN_LEVELS);
		if (n == 0)
			break;
		struct pf_batch_ev *e = &b->ev[b->n];
		uint64_t prev_ts = b->n ? e[-1].ts : 0;
		for (size_t i = 0; i < n; i++) {
			const struct pl_event *v = &p->run[i];
			bool end = v->kind == PL_REC_END;
			uint32_t type = PF_NAME_NONE;
			if (!end && (type = local_type(p, v->type_id, NULL)) == PF_NAME_NONE)
				return -2;
			b->unsorted |= v->ts_ns < prev_ts;
			prev_ts = v->ts_ns;
			e[i] = (struct pf_batch_ev){
			    .ts = v->ts_ns,
			    .wall = v->wall_ns,
			    .prefix = v->task_prefix,
			    .seq = v->task_seq,
			    .duration = v->duration_ns,
			    .level = at + v->level * (uint32_t)sizeof(uint32_t),
			    .depth = v->depth,
			    .type = type,
			    .thread = v->thread,
			    .tid = v->tid,
			    .kind = v->kind,
			    .flags = end && v->outcome != PL_SUCCEEDED ? EV_FAILED : 0,
			};
			if (p->keep_fields && (put_level(b, &e[i], lv + v->level) < 0 ||
					       put_data(b, &e[i], v->fields, v->nfields,
							v->exc_type, v->exc_msg) < 0))
				return -2;
		}
		if (!p->keep_fields) {
			const struct pl_event *last = &p->run[n - 1];
			b->nbytes = at + (last->level + last->depth) * sizeof(uint32_t);
			if (p->keep_end && keep_ends(b, p->run, e, n, at) < 0)
				return -2;
		}
		b->n += (uint32_t)n;
		b->records += n;
	}
	return 0;
}

/* The file ended with status @ret (PL_END or an error of @p's reader): say so in @b and
 * close the reader. Returns 0 or -2. */
static int end_file(struct pf_batch *b, struct pf_producer *p, int ret)
{
	pl_reader_checkpoint(p->r, NULL, &b->alive_wall);
	struct pl_reader_stats st = PL_READER_STATS_INIT;
	if (pl_reader_stats(p->r, &st) == 0) {
		b->frames_skipped = st.frames_skipped;
		if (st.index_disagrees && !(b->index_problem = strdup(st.index_problem)))
			return -2;
	}
	b->end = true;
	b->status = ret;
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(p->r);
		b->err_offset = e->offset;
		if (!(b->err_reason = strdup(e->reason)))
			return -2;
	}
	pl_reader_close(p->r);
	p->r = NULL;
	return 0;
}

static int fill(struct pf_batch *b, struct pf_producer *p, const struct pf_batch *prev)
{
	if (!p->opened) {
		/* Opened when first needed, not with the other inputs (input.c). */
		p->opened = true;
		int ret = pl_reader_open(p->path, &p->r);
		if (ret == -PL_ENOMEM) {
			pl_reader_close(p->r);
			p->r = NULL;
			return -2;
		}
		if (ret < 0)
			return end_file(b, p, ret);
		/* Without fields kept, liblog need not decode them (~8 % of decoding). */
		pl_reader_skip_fields_of(p->r, p->keep_fields ? 0
					       : p->keep_end  ? PL_SKIP_START | PL_SKIP_MESSAGE
							      : PL_SKIP_ALL);
		if (p->window)
			pl_reader_set_window(p->r, p->since, p->until, PL_WINDOW_ANCESTORS);
		/* Runs of events are format 2's, and not delivered with a window. */
		p->runs = pl_reader_header(p->r)->version >= 2 && !p->window;
	}
	if (p->keep_fields && __atomic_load_n(&p->drop_fields, __ATOMIC_RELAXED)) {
		/* At a batch's start: its events are all of one layout (append_run()). */
		p->keep_fields = p->keep_end = false;
		if (p->r)
			pl_reader_skip_fields_of(p->r, PL_SKIP_ALL);
	}
	if (prev && prev->carry && take_carry(b, prev) < 0)
		return -2;
	/* Initialized once: the reader fills every member of each record it delivers. */
	struct pl_record rec = PL_RECORD_INIT;
	while (p->r && b->n < PF_BATCH_EVENTS && b->nbytes < PF_BATCH_BYTES) {
		int ret = pl_reader_next(p->r, &rec);
		if (ret != 0) {
			if (end_file(b, p, ret) < 0)
				return -2;
			break;
		}
		b->records++;
		/* The first record of a new frame ends the batch (it is kept for the next one). */
		uint64_t off = rec.frame_offset;
		bool boundary = off != p->frame_off && b->n > 0;
		p->frame_off = off;
		bool event = false;
		switch (rec.kind) {
		case PL_REC_START:
		case PL_REC_END:
		case PL_REC_MESSAGE:
			if (ensure_events(b) < 0 || append(b, p, &rec) < 0)
				return -2;
			event = true;
			break;
		case PL_REC_THREAD:
			if (note_thread(b, &rec) < 0)
				return -2;
			if ((event = p->meta) && (ensure_events(b) < 0 || append_meta(b, &rec) < 0))
				return -2;
			break;
		case PL_REC_DROPPED:
			b->dropped += rec.count;
			if ((event = p->meta) && (ensure_events(b) < 0 || append_meta(b, &rec) < 0))
				return -2;
			break;
		default:
			break;
		}
		/* Other threads' records of the new frame may be earlier than this one: hold it
		 * back for the next batch instead of delivering it now. */
		if (event && boundary) {
			b->n--;
			b->carry = true;
		}
		if (boundary)
			break;
		/* The events after it in its run (the same frame), at once. */
		if (event && p->runs && append_run(b, p) < 0)
			return -2;
	}
	return 0;
}

int pf_batch_fill(struct pf_batch *b, struct pf_producer *p, const struct pf_batch *prev)
{
	for (uint32_t i = 0; i < b->nthreads; i++)
		free(b->threads[i].name); /* names the consumer did not take (it stopped) */
	free(b->err_reason);
	free(b->index_problem);
	b->index_problem = NULL;
	b->frames_skipped = 0;
	b->n = 0;
	b->nbytes = 0;
	b->carry = b->unsorted = false;
	b->nthreads = 0;
	b->records = b->dropped = 0;
	b->end = b->oom = false;
	b->alive_wall = INT64_MIN;
	b->status = 0;
	b->err_offset = 0;
	b->err_reason = NULL;
	b->names_from = p->local.n;
	int ret = fill(b, p, prev);
	b->names_to = p->local.n;
	uint32_t nnew = b->names_to - b->names_from;
	if (ret == 0 && nnew > b->cap_names) {
		const char **names = realloc(b->names, nnew * sizeof(*names));
		if (names) {
			b->names = names;
			b->cap_names = nnew;
		} else {
			ret = -2;
		}
	}
	if (ret < 0) {
		b->oom = true;
		b->names_to = b->names_from;
		return -2;
	}
	for (uint32_t i = 0; i < nnew; i++)
		b->names[i] = pf_names_str(&p->local, b->names_from + i);
	sort_batch(b);
	return b->n > 0 ? 1 : 0;
}

void pf_batch_free(struct pf_batch *b)
{
	for (uint32_t i = 0; i < b->nthreads; i++)
		free(b->threads[i].name);
	free(b->threads);
	free(b->names);
	free(b->err_reason);
	free(b->index_problem);
	free(b->ev);
	free(b->order);
	free(b->tmp);
	free(b->bytes);
	memset(b, 0, sizeof(*b));
}
