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

#include "batch.h"
#include "fields.h"
#include "perfan.h"

/* Exception text kept per failed END. */
#define EXC_MAX 1024

enum { EV_FAILED = 1, EV_EXC = 2 };

struct pf_batch_ev {
	uint64_t ts;
	int64_t wall;
	uint64_t prefix, seq, duration;
	uint32_t level, depth; /* level: byte offset in the arena */
	uint32_t type, thread, tid;
	uint32_t data;	   /* byte offset of packed fields, then exception text */
	uint16_t data_len; /* bytes of packed fields */
	uint8_t kind, flags;
};

/* Room for @n more bytes in the arena, 4-aligned. Returns the offset or UINT32_MAX. */
static uint32_t arena_reserve(struct pf_source *s, size_t n)
{
	size_t at = (s->nbytes + 3) & ~(size_t)3;
	if (at + n > s->cap_bytes || !s->bytes) {
		size_t cap = s->cap_bytes ? s->cap_bytes : 64 << 10;
		while (at + n > cap)
			cap *= 2;
		uint8_t *b = realloc(s->bytes, cap);
		if (!b)
			return UINT32_MAX;
		s->bytes = b;
		s->cap_bytes = cap;
	}
	s->nbytes = at;
	return (uint32_t)at;
}

static size_t cstr_put(uint8_t *dst, const char *s)
{
	size_t n = s ? strnlen(s, EXC_MAX) : 0;
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
	return n + 1;
}

static void note_thread(struct pf_source *s, const struct pl_record *rec)
{
	if (rec->thread >= s->nthreads) {
		uint32_t n = s->nthreads ? s->nthreads : 8;
		while (n <= rec->thread)
			n *= 2;
		char **t = realloc(s->thread_names, n * sizeof(*t));
		if (!t)
			return; /* a name is a nicety: go on without it */
		memset(t + s->nthreads, 0, (n - s->nthreads) * sizeof(*t));
		s->thread_names = t;
		s->nthreads = n;
	}
	free(s->thread_names[rec->thread]);
	s->thread_names[rec->thread] = rec->name ? strdup(rec->name) : NULL;
}

/* Append @rec to the batch. Returns 0 or -2 (out of memory). */
static int append(struct pf_source *s, const struct pl_record *rec, struct pf_names *names,
		  bool keep_fields)
{
	struct pf_batch_ev *e = &s->ev[s->n];
	*e = (struct pf_batch_ev){
	    .ts = rec->ts_ns,
	    .wall = rec->wall_ns,
	    .prefix = rec->task_prefix,
	    .seq = rec->task_seq,
	    .duration = rec->duration_ns,
	    .depth = rec->depth,
	    .type = PF_NAME_NONE,
	    .thread = rec->thread,
	    .tid = rec->tid,
	    .data = UINT32_MAX,
	    .kind = (uint8_t)rec->kind,
	    .flags = rec->kind == PL_REC_END && rec->outcome == PL_FAILED ? EV_FAILED : 0,
	};
	if (rec->kind != PL_REC_END &&
	    (e->type = pf_names_intern(names, rec->type)) == PF_NAME_NONE)
		return -2;
	if ((e->level = arena_reserve(s, rec->depth * sizeof(uint32_t))) == UINT32_MAX)
		return -2;
	if (rec->depth)
		memcpy(s->bytes + e->level, rec->level, rec->depth * sizeof(uint32_t));
	s->nbytes += rec->depth * sizeof(uint32_t);
	if (keep_fields) { /* START and message fields, END outputs and exception */
		bool exc = rec->exc_type != NULL;
		if ((e->data = arena_reserve(s, PF_FIELDS_MAX + (exc ? 2 * EXC_MAX + 2 : 0))) ==
		    UINT32_MAX)
			return -2;
		uint8_t *p = s->bytes + e->data;
		e->data_len = (uint16_t)pf_fields_pack(p, PF_FIELDS_MAX, rec->fields, rec->nfields);
		size_t n = e->data_len;
		if (exc) {
			e->flags |= EV_EXC;
			n += cstr_put(p + n, rec->exc_type);
			n += cstr_put(p + n, rec->exc_msg);
		}
		s->nbytes += n;
	}
	s->n++;
	return 0;
}

/* Stable natural merge sort of order[0..n) by timestamp. */
static void sort_batch(struct pf_source *s)
{
	const struct pf_batch_ev *ev = s->ev;
	uint32_t n = s->n, i;
	for (i = 1; i < n && ev[s->order[i - 1]].ts <= ev[s->order[i]].ts; i++)
		;
	if (i >= n)
		return; /* one run: already sorted (the single-thread case) */
	for (;;) {
		uint32_t runs = 0;
		for (i = 0; i < n;) {
			uint32_t a = i, b = i + 1, c;
			while (b < n && ev[s->order[b - 1]].ts <= ev[s->order[b]].ts)
				b++;
			for (c = b + (b < n);
			     c < n && ev[s->order[c - 1]].ts <= ev[s->order[c]].ts;)
				c++;
			uint32_t x = a, y = b, o = a;
			while (x < b && y < c)
				s->tmp[o++] = ev[s->order[y]].ts < ev[s->order[x]].ts
						  ? s->order[y++]
						  : s->order[x++];
			while (x < b)
				s->tmp[o++] = s->order[x++];
			while (y < c)
				s->tmp[o++] = s->order[y++];
			runs++;
			i = c;
		}
		uint32_t *t = s->order;
		s->order = s->tmp;
		s->tmp = t;
		if (runs <= 1)
			return;
	}
}

/* Room for one more event: the arrays grow with the largest frame seen, up to the cap. */
static int ensure_events(struct pf_source *s)
{
	if (s->n < s->cap_ev)
		return 0;
	uint32_t cap = s->cap_ev ? 2 * s->cap_ev : 1024;
	struct pf_batch_ev *ev = realloc(s->ev, cap * sizeof(*ev));
	if (!ev)
		return -2;
	s->ev = ev;
	uint32_t *o = realloc(s->order, cap * sizeof(*o));
	if (!o)
		return -2;
	s->order = o;
	uint32_t *t = realloc(s->tmp, cap * sizeof(*t));
	if (!t)
		return -2;
	s->tmp = t;
	s->cap_ev = cap;
	return 0;
}

int pf_batch_load(struct pf_source *s, struct pf_names *names, bool keep_fields, bool quiet)
{
	if (s->carry) {
		/* The first event of this frame was read with the last batch and held back:
		 * it starts this one. Its bytes are the tail of the arena. */
		struct pf_batch_ev e = s->ev[s->n];
		uint32_t base = e.level;
		memmove(s->bytes, s->bytes + base, s->nbytes - base);
		s->nbytes -= base;
		e.level -= base;
		if (e.data != UINT32_MAX)
			e.data -= base;
		s->ev[0] = e;
		s->n = 1;
		s->carry = false;
	} else {
		s->n = 0;
		s->nbytes = 0;
	}
	s->next = 0;
	while (s->r && s->n < PF_BATCH_EVENTS && s->nbytes < PF_BATCH_BYTES) {
		struct pl_record rec;
		int ret = pl_reader_next(s->r, &rec);
		if (ret != 0) {
			s->status = ret;
			if (ret < 0) {
				const struct pl_reader_error *e = pl_reader_error(s->r);
				s->err_offset = e->offset;
				s->err_reason = strdup(e->reason);
				if (!quiet)
					pf_warn("%s: offset %llu: %s (the %llu records before it "
						"were analyzed)",
						s->path, (unsigned long long)e->offset, e->reason,
						(unsigned long long)s->records);
			}
			pl_reader_close(s->r);
			s->r = NULL;
			break;
		}
		s->records++;
		/* The first record of a new frame ends the batch (it is kept for the next one). */
		uint64_t off = rec.frame_offset;
		bool boundary = off != s->frame_off && s->n > 0;
		s->frame_off = off;
		switch (rec.kind) {
		case PL_REC_START:
		case PL_REC_END:
		case PL_REC_MESSAGE:
			if (ensure_events(s) < 0 || append(s, &rec, names, keep_fields) < 0)
				return -2;
			/* Other threads' records of the new frame may be earlier than this one:
			 * hold it back for the next batch instead of delivering it now. */
			if (boundary) {
				s->n--;
				s->carry = true;
			}
			break;
		case PL_REC_THREAD:
			note_thread(s, &rec);
			break;
		case PL_REC_DROPPED:
			s->dropped += rec.count;
			break;
		default:
			break;
		}
		if (boundary)
			break;
	}
	for (uint32_t i = 0; i < s->n; i++)
		s->order[i] = i;
	sort_batch(s);
	return s->n > 0 ? 1 : 0;
}

void pf_batch_view(struct pf_source *s, uint32_t src)
{
	const struct pf_batch_ev *e = &s->ev[s->order[s->next]];
	struct pf_event *v = &s->cur;
	*v = (struct pf_event){
	    .kind = (enum pl_record_kind)e->kind,
	    .src = src,
	    .thread = e->thread,
	    .tid = e->tid,
	    .ts = e->ts,
	    .wall = e->wall,
	    .prefix = e->prefix,
	    .seq = e->seq,
	    .level = (const uint32_t *)(s->bytes + e->level),
	    .depth = e->depth,
	    .type = e->type,
	    .duration_ns = e->duration,
	    .failed = e->flags & EV_FAILED,
	};
	if (e->data != UINT32_MAX) {
		v->fields = s->bytes + e->data;
		v->fields_len = e->data_len;
		if (e->flags & EV_EXC) {
			v->exc_type = (const char *)v->fields + e->data_len;
			v->exc_msg = v->exc_type + strlen(v->exc_type) + 1;
		}
	}
}

void pf_batch_free(struct pf_source *s)
{
	free(s->ev);
	free(s->order);
	free(s->tmp);
	free(s->bytes);
	s->ev = NULL;
	s->order = s->tmp = NULL;
	s->bytes = NULL;
	s->n = s->next = s->cap_ev = 0;
	s->nbytes = s->cap_bytes = 0;
}
