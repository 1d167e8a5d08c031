/* ring.c - allocation and reference counting of per-thread rings. */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

struct pl_ring *pl_ring_new(uint64_t capacity)
{
	struct pl_ring *tb = NULL;
	if (posix_memalign((void **)&tb, PL_CACHELINE, sizeof(*tb)) != 0)
		return NULL;
	memset(tb, 0, sizeof(*tb));
	if (posix_memalign((void **)&tb->data, PL_CACHELINE, capacity) != 0) {
		free(tb);
		return NULL;
	}
	/* Touch every page now, so that the recording thread never takes a page fault. */
	memset(tb->data, 0, capacity);
	tb->mask = capacity - 1;
	tb->refs = 2;
	return tb;
}

/* Free the ring's bytes early (its writer is gone; the thread may live on). */
void pl_ring_free_data(struct pl_ring *tb)
{
	free(tb->data);
	tb->data = NULL;
}

void pl_ring_unref(struct pl_ring *tb)
{
	if (__atomic_sub_fetch(&tb->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(tb->data);
	free(tb);
}
