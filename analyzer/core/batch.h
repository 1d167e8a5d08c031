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

#include "core/input.h"
#include "core/names.h"

struct pf_batch_ev;

/* A thread name met while filling: owned by the batch until the consumer takes it. */
struct pf_batch_thread {
	uint32_t thread;
	char *name;
};

struct pf_batch {
	/* A cache line of its own: a file's two batches sit side by side, one read by the
	 * analysis thread while a decoding thread writes the other's counters. */
	_Alignas(64) struct pf_batch_ev *ev; /* ev[n] is the carried event when @carry */
	uint32_t *order, *tmp;		     /* order[0..n): events by timestamp */
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
	bool meta;   /* THREAD and DROPPED records as events too */
	bool window; /* read by the index only what [since, until) needs */
	int64_t since, until;
};

/**
 * pf_batch_fill() - replace @b's content by the next batch of @p's file (the rest of the
 * current frame), starting with the event @prev carried over, if any (@prev is the batch
 * filled before, or NULL; it is only read). Returns: 1 when the batch holds events, 0
 * when it holds none (the file ended: b->end), -2 when out of memory (b->oom).
 */
int pf_batch_fill(struct pf_batch *b, struct pf_producer *p, const struct pf_batch *prev);

/**
 * pf_batch_view() - the view @v of event order[@i] of @b, with its type translated
 * through @type_map (local number -> pf_names number).
 */
void pf_batch_view(const struct pf_batch *b, uint32_t i, uint32_t src, const uint32_t *type_map,
		   struct pf_event *v);

/** pf_batch_last_wall() - the wall time of @b's latest event (INT64_MIN if none). */
int64_t pf_batch_last_wall(const struct pf_batch *b);

/** pf_batch_free() - free the batch's memory. */
void pf_batch_free(struct pf_batch *b);

#endif /* PERFAN_BATCH_H */
