/* SPDX-License-Identifier: MIT */
/* batch.h - private to input.c: read one file a frame at a time into a batch of compact
 * events sorted by timestamp (see input.h for why and for the bounds).
 *
 * Filling a batch (decompressing, decoding, copying, sorting: most of perfan's time) is
 * done by the file's producer, which may be a worker thread (input.c): so a batch also
 * carries everything else the producer learned while filling it - type names it met for
 * the first time, thread names, dropped-event and record counts, and how the file ended -
 * and the consumer applies that when it takes the batch. The producer state (the reader,
 * its own name table) is touched by one fill at a time; a filled batch is read-only.
 */
#ifndef PERFAN_BATCH_H
#define PERFAN_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/input.h"
#include "core/names.h"

/* One event of a batch, compact (the views, struct pf_event, are made as it is delivered). */
enum { EV_FAILED = 1, EV_EXC = 2, EV_NAME = 4, EV_DATA = 8 };

struct pf_batch_ev {
	uint64_t ts;
	int64_t wall;
	uint64_t prefix, seq, duration;
	/* Byte offset in the arena of the level, followed by (with EV_DATA) the packed
	 * fields, then exception text (or a name): no offset of their own, so that an
	 * event is one cache line (the batches are written by one core and read by
	 * another, and stores to them were a third of filling one). */
	uint32_t level, depth;
	uint32_t type, thread, tid;
	uint16_t data_len; /* bytes of packed fields */
	uint8_t kind, flags;
};

_Static_assert(sizeof(struct pf_batch_ev) == 64, "a batch event is a cache line");

/* Where @e's packed fields (or name) are: right after its level entries. */
static inline uint32_t ev_data(const struct pf_batch_ev *e)
{
	return e->level + e->depth * (uint32_t)sizeof(uint32_t);
}

/* A thread name met while filling: owned by the batch until the consumer takes it. */
struct pf_batch_thread {
	uint32_t thread;
	char *name;
};

struct pf_batch {
	/* A cache line of its own: a file's two batches sit side by side, one read by the
	 * analysis thread while a decoding thread writes the other's counters. */
	_Alignas(64) struct pf_batch_ev *ev; /* ev[n] is the carried event when @carry */
	uint32_t *order, *tmp;		     /* order[0..n): events by timestamp, when
					      * @unsorted (else they are in order) */
	uint32_t n, cap_ev;
	bool carry;	/* ev[n] is the first event of the next frame, read already */
	bool unsorted;	/* an event was earlier than the one appended before it */
	uint8_t *bytes; /* levels, packed fields and exception text */
	size_t nbytes, cap_bytes;
	/* Learned while filling, for the consumer. */
	uint32_t names_from, names_to; /* new local type numbers [from, to) */
	const char **names;	       /* their texts (owned by the producer's table) */
	uint32_t cap_names;
	struct pf_batch_thread *threads; /* thread names, in file order */
	uint32_t nthreads, cap_threads;
	uint64_t records, dropped; /* records read, events the writer lost */
	int64_t alive_wall;	   /* the writer's latest clock checkpoint read (wall) */
	uint64_t frames_skipped;   /* at the end: frames the window let the reader skip */
	char *index_problem;	   /* at the end: an index that disagreed, or NULL */
	bool end;		   /* the file ended with this batch */
	int status;		   /* when @end: PL_END or the negative pl_status */
	uint64_t err_offset;
	char *err_reason;
	bool oom; /* the fill ran out of memory */
};

/* What the producer of one file keeps between fills. */
struct pf_producer {
	const char *path;      /* opened by the first fill (the source's path) */
	bool opened;	       /* the first fill opened it (then @r NULL means ended) */
	bool holding;	       /* counted among the readers holding a file open (input.c) */
	struct pl_reader *r;   /* NULL before the first fill and once the file has ended */
	struct pf_names local; /* type numbers of this file's events */
	uint32_t *by_id;       /* the file's name number -> local number + 1 (0: not yet) */
	uint32_t nby_id;
	uint64_t frame_off;   /* frame_offset of the last record read (0: none yet) */
	struct pl_event *run; /* events taken at once (batch.c), or NULL */
	uint32_t *run_levels; /* their levels, with fields kept (batch.c), or NULL */
	bool runs;	      /* the file may have runs of events to take at once (batch.c) */
	bool keep_fields;
	bool keep_end;	  /* without @keep_fields: the outputs and exception text of ENDs */
	bool drop_fields; /* set by the consumer (atomic): the next fill stops keeping them */
	bool meta;	  /* THREAD and DROPPED records as events too */
	bool window;	  /* read by the index only what [since, until) needs */
	int64_t since, until;
};

/**
 * pf_batch_fill() - replace @b's content by the next batch of @p's file (the rest of the
 * current frame), starting with the event @prev carried over, if any (@prev is the batch
 * filled before, or NULL; it is only read). Returns: 1 when the batch holds events, 0
 * when it holds none (the file ended: b->end), -2 when out of memory (b->oom).
 */
int pf_batch_fill(struct pf_batch *b, struct pf_producer *p, const struct pf_batch *prev);

/* Event @i of @b in timestamp order: an order was made only for an unsorted batch. */
static inline const struct pf_batch_ev *pf_batch_ev_at(const struct pf_batch *b, uint32_t i)
{
	return &b->ev[b->unsorted ? b->order[i] : i];
}

/**
 * pf_batch_view() - the view @v of event order[@i] of @b, with its type translated
 * through @type_map (local number -> pf_names number). In line: it is called for every
 * event delivered.
 */
static inline void pf_batch_view(const struct pf_batch *b, uint32_t i, uint32_t src,
				 const uint32_t *type_map, struct pf_event *v)
{
	const struct pf_batch_ev *e = pf_batch_ev_at(b, i);
	/* Member by member: an initializer would zero the whole struct first (rep stos). */
	v->kind = (enum pl_record_kind)e->kind;
	v->src = src;
	v->thread = e->thread;
	v->tid = e->tid;
	v->ts = e->ts;
	v->wall = e->wall;
	v->prefix = e->prefix;
	v->seq = e->seq;
	v->level = (const uint32_t *)(b->bytes + e->level);
	v->depth = e->depth;
	v->type = e->type == PF_NAME_NONE ? PF_NAME_NONE : type_map[e->type];
	v->duration_ns = e->duration;
	v->failed = e->flags & EV_FAILED;
	v->fields = NULL;
	v->fields_len = 0;
	v->exc_type = v->exc_msg = NULL;
	v->name = NULL;
	v->count = 0;
	if (e->flags & EV_NAME) {
		v->name = (const char *)b->bytes + ev_data(e);
		v->count = e->duration;
	} else if (e->flags & EV_DATA) {
		v->fields = b->bytes + ev_data(e);
		v->fields_len = e->data_len;
		if (e->flags & EV_EXC) {
			v->exc_type = (const char *)v->fields + e->data_len;
			v->exc_msg = v->exc_type + strlen(v->exc_type) + 1;
		}
	}
}

/** pf_batch_last_wall() - the wall time of @b's latest event (INT64_MIN if none). */
static inline int64_t pf_batch_last_wall(const struct pf_batch *b)
{
	/* Sorted by timestamp, and wall time follows it within a file. */
	return b->n ? pf_batch_ev_at(b, b->n - 1)->wall : INT64_MIN;
}

/** pf_batch_free() - free the batch's memory. */
void pf_batch_free(struct pf_batch *b);

#endif /* PERFAN_BATCH_H */
