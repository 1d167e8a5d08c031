/* SPDX-License-Identifier: MIT */
/* ring.c - segments of per-thread rings, their allocation and reference counting. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ring.h"

/* Segments are mapped, not malloc'ed: unmapped when drained, their memory goes back to
 * the system at once (glibc's dynamic mmap threshold would keep freed megabytes in the
 * heap: the hardening issue saw 770 MB resident against a 256 MiB cap). */
static struct pl_seg *seg_new(uint64_t capacity, bool touch)
{
	struct pl_seg *s = NULL;
	if (posix_memalign((void **)&s, PL_CACHELINE, sizeof(*s)) != 0)
		return NULL;
	memset(s, 0, sizeof(*s));
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (touch ? MAP_POPULATE : 0);
	void *p = mmap(NULL, capacity, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		free(s);
		return NULL;
	}
	s->data = p;
	s->mask = capacity - 1;
	return s;
}

static void seg_free(struct pl_seg *s)
{
	munmap(s->data, s->mask + 1);
	free(s);
}

/* The producer writes from the start of a new current segment, all of it free. */
static void ring_start(struct pl_ring *tb)
{
	struct pl_seg *s = tb->prod;
	tb->wr = s->data;
	tb->wr_end = s->data + s->mask + 1;
	tb->wake_head = 0;
	tb->prefetch = s->mask + 1 >= PL_RING_PREFETCH_MIN;
}

struct pl_ring *pl_ring_new(uint64_t capacity)
{
	struct pl_ring *tb = NULL;
	if (posix_memalign((void **)&tb, PL_CACHELINE, sizeof(*tb)) != 0)
		return NULL;
	memset(tb, 0, sizeof(*tb));
	/* Every page touched now, so that the recording thread never takes a page fault. */
	if (!(tb->prod = tb->cons = seg_new(capacity, true))) {
		free(tb);
		return NULL;
	}
	ring_start(tb);
	tb->bytes = capacity;
	tb->live = true;
	tb->refs = 2;
	return tb;
}

int pl_ring_grow(struct pl_ring *tb, bool may_allocate)
{
	uint64_t capacity = tb->prod->mask + 1;
	int reused = 1;
	struct pl_seg *s = NULL;
	for (int i = 0; i < PL_RING_SPARES && !s; i++)
		if (load_relaxed(&tb->spare[i]))
			s = __atomic_exchange_n(&tb->spare[i], NULL, __ATOMIC_ACQUIRE);
	if (s) {
		s->head = s->tail_cache = s->tail = 0;
		s->next = NULL;
	} else {
		if (!may_allocate || !(s = seg_new(capacity, true)))
			return -1;
		__atomic_add_fetch(&tb->bytes, capacity, __ATOMIC_RELAXED);
		reused = 0;
	}
	store_relaxed(&tb->grown, tb->grown + 1);
	/* Every commit to the old segment happens before the consumer sees @next. */
	store_release(&tb->prod->next, s);
	tb->prod = s;
	ring_start(tb);
	return reused;
}

void *pl_ring_reserve_slow(struct pl_ring *tb, uint32_t n)
{
	struct pl_seg *s = tb->prod;
	uint64_t cap = s->mask + 1, head = s->head;
	uint64_t pos = head & s->mask, need = n;
	if (pos + n > cap)
		need += cap - pos; /* skip to the segment's start */
	if (head + need - s->tail_cache > cap) {
		s->tail_cache = load_acquire(&s->tail);
		if (head + need - s->tail_cache > cap)
			return NULL;
	}
	if (need != n) {
		/* A PAD header is just its size word and a zero kind. */
		uint32_t pad = (uint32_t)(cap - pos);
		*(uint32_t *)(s->data + pos) = pad;
		s->data[pos + 4] = 0;
		head += pad;
		store_release(&s->head, head);
		pos = 0;
	}
	uint64_t free = cap - (head - s->tail_cache), contig = cap - pos;
	tb->wr = s->data + pos;
	tb->wr_end = tb->wr + (free < contig ? free : contig);
	if (tb->prefetch)
		__builtin_prefetch(s->data + ((pos + PL_RING_PREFETCH) & s->mask), 1);
	return tb->wr;
}

/* Consumer: free segment @s of @tb (a spare no one will take), counting it as freed. */
static void seg_release(struct pl_ring *tb, struct pl_seg *s)
{
	uint64_t cap = s->mask + 1;
	seg_free(s);
	__atomic_sub_fetch(&tb->bytes, cap, __ATOMIC_RELAXED);
	tb->freed += cap;
}

/* Consumer: keep drained segment @s for the producer's next growth, or free it when
 * every slot is taken. */
static void keep_spare(struct pl_ring *tb, struct pl_seg *s)
{
	for (int i = 0; i < PL_RING_SPARES; i++) {
		struct pl_seg *none = NULL;
		if (__atomic_compare_exchange_n(&tb->spare[i], &none, s, false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return;
	}
	seg_release(tb, s);
}

const uint8_t *pl_ring_peek(struct pl_ring *tb, uint64_t *len)
{
	for (;;) {
		struct pl_seg *s = tb->cons;
		uint64_t head = load_acquire(&s->head), tail = s->tail;
		if (head == tail) {
			struct pl_seg *next = load_acquire(&s->next);
			/* The producer left @s: read its head again, as it stood when it left. */
			if (next && load_acquire(&s->head) == tail) {
				tb->cons = next;
				keep_spare(tb, s);
				continue;
			}
		}
		uint64_t pos = tail & s->mask, avail = head - tail;
		uint64_t to_end = s->mask + 1 - pos;
		*len = avail < to_end ? avail : to_end;
		return s->data + pos;
	}
}

void pl_ring_trim(struct pl_ring *tb, int keep)
{
	for (int i = keep; i < PL_RING_SPARES; i++) {
		if (!load_relaxed(&tb->spare[i]))
			continue;
		struct pl_seg *s = __atomic_exchange_n(&tb->spare[i], NULL, __ATOMIC_ACQUIRE);
		if (s)
			seg_release(tb, s);
	}
}

bool pl_ring_caught_up(const struct pl_ring *tb)
{
	return !load_acquire(&tb->cons->next);
}

uint64_t pl_ring_used(const struct pl_ring *tb)
{
	uint64_t n = 0;
	for (const struct pl_seg *s = tb->cons; s; s = load_acquire(&s->next))
		n += load_acquire(&s->head) - load_acquire(&s->tail);
	return n;
}

/* Free the ring's segments early (its writer is gone; the thread may live on). */
void pl_ring_free_data(struct pl_ring *tb)
{
	if (!tb->live)
		return;
	for (struct pl_seg *s = tb->cons, *next; s; s = next) {
		next = s->next;
		seg_free(s);
	}
	for (int i = 0; i < PL_RING_SPARES; i++) {
		if (tb->spare[i])
			seg_free(tb->spare[i]);
		tb->spare[i] = NULL;
	}
	tb->prod = tb->cons = NULL;
	tb->wr = tb->wr_end = NULL; /* no room: never reserved in again */
	tb->bytes = 0;
	tb->live = false;
	pl_openset_free(&tb->open);
}

void pl_ring_unref(struct pl_ring *tb)
{
	if (__atomic_sub_fetch(&tb->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pl_ring_free_data(tb);
	free(tb);
}
