/* SPDX-License-Identifier: MIT */
/* ring.h - a recording thread's single-producer/single-consumer byte ring, which grows.
 *
 * The producer (the recording thread) reserves contiguous space, writes an event and
 * commits it; the consumer (the flusher) peeks committed bytes and consumes them.
 *
 * The ring is a chain of segments of one size. The producer writes into the newest; when
 * it is full and the writer's memory budget allows, the producer links another segment
 * after it and goes on there (pl_ring_grow): a flusher that was not scheduled in time
 * costs memory, not events. The consumer drains the oldest segment, and once the producer
 * has moved on and the segment is empty, goes on with the next; the segment it leaves
 * becomes one of the ring's spares, which the producer takes before allocating (so a
 * ring that keeps growing circulates warm segments instead of mapping new memory), and
 * one past PL_RING_SPARES is freed (back to the system: segments are mmap'ed), as are
 * the spares once the ring is idle. Within a segment,
 * positions are free-running 64-bit byte counts and the capacity is a power of two; an
 * event never straddles two segments.
 */
#ifndef PL_RING_H
#define PL_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/macros.h"
#include "openset.h"

struct pl_writer;

/* Drained segments a ring keeps for reuse until it is idle. */
#define PL_RING_SPARES 8

/* One segment. The producer writes @head, the consumer @tail, each on its own line. */
struct pl_seg {
	uint64_t head;	     /* committed bytes; store-release, read by the consumer */
	uint64_t tail_cache; /* producer's last view of @tail */
	_Alignas(PL_CACHELINE) uint64_t tail; /* consumed bytes; store-release */
	_Alignas(PL_CACHELINE) uint8_t *data;
	uint64_t mask;	     /* capacity - 1 */
	struct pl_seg *next; /* set once (store-release) when the producer moves on */
};

struct pl_ring {
	/* Producer-owned lines: written only by the recording thread. */
	struct pl_seg *prod; /* the segment being written */
	/* The fast reservation (pl_ring_reserve): where the next event goes in prod's data,
	 * and up to where the bytes from there are known free and contiguous. */
	uint8_t *wr, *wr_end;
	uint64_t wake_head;    /* prod->head past which the producer checks whether the
				* flusher needs waking (0: at the next commit) */
	bool prefetch;	       /* prod is larger than a core's cache (pl_ring_reserve) */
	uint64_t events;       /* events staged (relaxed; flusher and stats read) */
	uint64_t dropped_full; /* events dropped, ring full (relaxed) */
	uint64_t dropped_oversize;
	uint64_t blocked;
	uint64_t grown;	     /* segments added past the first (relaxed) */
	uint32_t wake_armed; /* 1 once the flusher was woken for this fill */

	/* Consumer-owned line: written only by the flusher. */
	_Alignas(PL_CACHELINE) struct pl_seg *cons; /* the segment being drained */
	uint64_t freed;		/* bytes of segments freed, not yet given back to the
				 * writer's budget (flusher.c) */
	uint64_t reported_full; /* drops already written as DROPPED records */
	uint64_t reported_oversize;
	uint64_t frame_full;	 /* reported_* when the current frame opened: restored if */
	uint64_t frame_oversize; /* the frame is lost, so its DROPPED counts are re-sent */
	uint64_t last_ts;	 /* ns of the last event encoded: timestamps never step back */
	bool info_written;	 /* THREAD record written in the current file */
	struct pl_openset open;	 /* its open actions, for the frame index */

	/* Set at creation, then read-only (except the fields marked otherwise). */
	_Alignas(PL_CACHELINE) uint64_t bytes; /* atomic: capacity of the live segments */
	/* Drained segments to reuse (atomic: the consumer fills an empty slot by compare-
	 * and-swap, the producer or a trim empties one by exchange). More than one: a
	 * producer that outran the flusher finds its next segments here instead of
	 * mapping new ones while the flusher unmaps the old (a fifth of both cores). */
	struct pl_seg *spare[PL_RING_SPARES];
	bool live;	    /* segments allocated (false once freed) */
	uint64_t writer_id; /* generation of the writer this ring belongs to */
	struct pl_writer *writer;
	pthread_t owner;
	pid_t tid;
	uint32_t serial;		/* thread number in the trace */
	char name[64];			/* thread name at creation */
	uint32_t refs;			/* atomic: 1 for the thread, 1 for the writer's registry */
	uint32_t orphaned;		/* atomic: the thread has exited */
	struct pl_ring *next;		/* registry list, under the writer's registry lock */
	struct pl_ring *next_in_thread; /* the owning thread's private list */
};

/* Allocate a ring with one segment of @capacity bytes (a power of two), its pages
 * touched now so that the recording thread takes no page fault. NULL on ENOMEM. */
struct pl_ring *pl_ring_new(uint64_t capacity);

/* Producer: link a segment after the current one and write there from now on: the
 * spare if there is one (returns 1), else a new one (returns 0; the caller has taken its
 * capacity from the budget). Returns -1 without memory (nothing changed). */
int pl_ring_grow(struct pl_ring *tb, bool may_allocate);

/* Consumer: free the spare segments but the first @keep: all (0) when the ring is idle,
 * all but one (1) when the consumer has caught up with the producer's segment (its
 * burst is over, though the thread records on). Spares count in the memory budget:
 * held, they would keep other threads' rings from growing. */
void pl_ring_trim(struct pl_ring *tb, int keep);

/* Consumer: is it draining the segment the producer writes (no backlog of segments)? */
bool pl_ring_caught_up(const struct pl_ring *tb);

/* Free every segment once no one will record into the ring (writer closed). */
void pl_ring_free_data(struct pl_ring *tb);

/* Drop one reference; frees on the last. */
void pl_ring_unref(struct pl_ring *tb);

/* Consumer (or anyone once the producer is gone): bytes committed and not consumed. */
uint64_t pl_ring_used(const struct pl_ring *tb);

/* Capacity of the segment being written (producer). */
static inline uint64_t pl_ring_capacity(const struct pl_ring *tb)
{
	return tb->prod->mask + 1;
}

/* Bytes ahead of the reservation that the producer prefetches for writing, in segments
 * of at least PL_RING_PREFETCH_MIN bytes. */
#define PL_RING_PREFETCH     2048
#define PL_RING_PREFETCH_MIN (8u << 20)

/* Producer: pl_ring_reserve() when the known free space does not hold @n bytes. */
void *pl_ring_reserve_slow(struct pl_ring *tb, uint32_t n);

/*
 * Producer: reserve @n contiguous bytes (multiple of 8) in the current segment. Writes a
 * PAD event over the segment's tail end when needed. Returns NULL when there is not
 * enough free space (the caller may pl_ring_grow() and try again).
 *
 * One compare while the space known free lasts (NanoLog's and Quill's producers
 * reserve the same way): the head, tail and wrap arithmetic run only when it does not,
 * a few times per segment. They were ~30 instructions of every event's ~100.
 */
static inline void *pl_ring_reserve(struct pl_ring *tb, uint32_t n)
{
	uint8_t *p = tb->wr;
	if (unlikely((uintptr_t)p + n > (uintptr_t)tb->wr_end))
		return pl_ring_reserve_slow(tb, n);
	/* A ring larger than a core's cache is cold memory where the producer writes: ask
	 * for the lines a few events ahead (the first store to a fresh line stalled the
	 * recording thread for ~a third of an event). A smaller ring stays cached, and there
	 * the prefetch cost (decorated Python calls: up to +30 ns). Never faults, even past
	 * the segment's end. */
	if (tb->prefetch)
		__builtin_prefetch(p + PL_RING_PREFETCH, 1);
	return p;
}

/* pl_ring_reserve() without its slow path: NULL also when the space known free does not
 * hold @n bytes, though the ring may (for a caller that must not call out). */
static inline void *pl_ring_reserve_fast(struct pl_ring *tb, uint32_t n)
{
	uint8_t *p = tb->wr;
	if (unlikely((uintptr_t)p + n > (uintptr_t)tb->wr_end))
		return NULL;
	if (tb->prefetch) /* as in pl_ring_reserve() */
		__builtin_prefetch(p + PL_RING_PREFETCH, 1);
	return p;
}

/* Producer: publish @n bytes written at the reserved pointer (at most the bytes
 * reserved). Returns the segment's new head. */
static inline uint64_t pl_ring_commit(struct pl_ring *tb, uint32_t n)
{
	struct pl_seg *s = tb->prod;
	uint64_t head = s->head + n;
	tb->wr += n;
	store_release(&s->head, head);
	return head;
}

/* Producer: bytes of the current segment not known to be consumed (a cheap upper bound,
 * refreshed by the caller through pl_ring_refresh()). */
static inline uint64_t pl_ring_pending(const struct pl_ring *tb)
{
	return tb->prod->head - tb->prod->tail_cache;
}

/* Producer: reread the consumer's position in the current segment. */
static inline void pl_ring_refresh(struct pl_ring *tb)
{
	tb->prod->tail_cache = load_acquire(&tb->prod->tail);
}

/* Consumer: the contiguous committed bytes at the tail (up to the segment's end),
 * moving on to (and freeing what it leaves of) the next segment once the current one is
 * drained and the producer has left it. */
const uint8_t *pl_ring_peek(struct pl_ring *tb, uint64_t *len);

/* Consumer: release @n bytes of those pl_ring_peek() returned. */
static inline void pl_ring_consume(struct pl_ring *tb, uint64_t n)
{
	store_release(&tb->cons->tail, tb->cons->tail + n);
}

#endif /* PL_RING_H */
