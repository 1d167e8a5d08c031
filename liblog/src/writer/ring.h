/* ring.h - a recording thread's single-producer/single-consumer byte ring.
 *
 * The producer (the recording thread) reserves contiguous space, writes an event and
 * commits it; the consumer (the flusher) peeks committed bytes and consumes them.
 * Positions are free-running 64-bit byte counts; the capacity is a power of two.
 */
#ifndef PL_RING_H
#define PL_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/macros.h"

struct pl_writer;

struct pl_ring {
	/* Producer-owned line: written only by the recording thread. */
	uint64_t head;           /* committed bytes; store-release, read by flusher */
	uint64_t tail_cache;     /* last tail seen: avoids reading the flusher's line */
	uint64_t events;         /* events staged (relaxed; flusher and stats read) */
	uint64_t dropped_full;   /* events dropped, ring full (relaxed) */
	uint64_t dropped_oversize;
	uint64_t blocked;
	uint32_t wake_armed;     /* 1 once the flusher was woken for this fill */

	/* Consumer-owned line: written only by the flusher. */
	_Alignas(PL_CACHELINE) uint64_t tail; /* consumed bytes; store-release, read by producer */
	uint64_t reported_full;  /* drops already written as DROPPED records */
	uint64_t reported_oversize;
	uint64_t frame_full;     /* reported_* when the current frame opened: restored if */
	uint64_t frame_oversize; /* the frame is lost, so its DROPPED counts are re-sent */
	uint64_t last_ts;        /* ns of the last event encoded: timestamps never step back */
	bool info_written;       /* THREAD record written in the current file */

	/* Set at creation, then read-only (except the fields marked otherwise). */
	_Alignas(PL_CACHELINE) uint8_t *data;
	uint64_t mask;           /* capacity - 1 */
	uint64_t writer_id;      /* generation of the writer this ring belongs to */
	struct pl_writer *writer;
	pthread_t owner;
	pid_t tid;
	uint32_t serial;         /* thread number in the trace */
	char name[64];           /* thread name at creation */
	uint32_t refs;           /* atomic: 1 for the thread, 1 for the writer's registry */
	uint32_t orphaned;       /* atomic: the thread has exited */
	struct pl_ring *next;    /* registry list, under the writer's registry lock */
	struct pl_ring *next_in_thread; /* the owning thread's private list */
};

/* Allocate a ring of @capacity bytes (a power of two). NULL on ENOMEM. */
struct pl_ring *pl_ring_new(uint64_t capacity);

/* Free the ring bytes once no one will record into them (writer closed). */
void pl_ring_free_data(struct pl_ring *tb);

/* Drop one reference; frees on the last. */
void pl_ring_unref(struct pl_ring *tb);

/* Bytes committed and not yet consumed (either side may call). */
static inline uint64_t pl_ring_used(const struct pl_ring *tb)
{
	return load_acquire(&tb->head) - load_acquire(&tb->tail);
}

/*
 * Producer: reserve @n contiguous bytes (multiple of 8). Writes a PAD event over the
 * ring's tail end when needed. Returns NULL when there is not enough free space.
 */
static inline void *pl_ring_reserve(struct pl_ring *tb, uint32_t n)
{
	uint64_t cap = tb->mask + 1, head = tb->head;
	uint64_t pos = head & tb->mask, need = n;
	if (pos + n > cap)
		need += cap - pos; /* skip to the ring's start */
	if (unlikely(head + need - tb->tail_cache > cap)) {
		tb->tail_cache = load_acquire(&tb->tail);
		if (head + need - tb->tail_cache > cap)
			return NULL;
	}
	if (need != n) {
		/* A PAD header is just its size word and a zero kind. */
		uint32_t pad = (uint32_t)(cap - pos);
		*(uint32_t *)(tb->data + pos) = pad;
		tb->data[pos + 4] = 0;
		head += pad;
		store_release(&tb->head, head);
		pos = 0;
	}
	return tb->data + pos;
}

/* Producer: publish @n bytes written at the reserved pointer. */
static inline void pl_ring_commit(struct pl_ring *tb, uint32_t n)
{
	store_release(&tb->head, tb->head + n);
}

/* Consumer: the contiguous committed bytes at the tail (up to the ring's end). */
static inline const uint8_t *pl_ring_peek(struct pl_ring *tb, uint64_t *len)
{
	uint64_t head = load_acquire(&tb->head), tail = tb->tail;
	uint64_t pos = tail & tb->mask, avail = head - tail;
	uint64_t to_end = tb->mask + 1 - pos;
	*len = avail < to_end ? avail : to_end;
	return tb->data + pos;
}

/* Consumer: release @n bytes. */
static inline void pl_ring_consume(struct pl_ring *tb, uint64_t n)
{
	store_release(&tb->tail, tb->tail + n);
}

#endif /* PL_RING_H */
