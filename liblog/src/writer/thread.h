/* SPDX-License-Identifier: MIT */
/* thread.h - the calling thread's ring for a writer: a one-entry thread-local cache in
 * front of the thread's private list of rings. */
#ifndef PL_THREAD_H
#define PL_THREAD_H

#include "writer_int.h"

struct pl_thread_cache {
	uint64_t writer_id;
	struct pl_ring *ring; /* NULL with a matching id: no ring allowed (memory cap) */
};

extern PL_TLS struct pl_thread_cache pl_tl_cache;

/* The ring, or NULL when the thread may have none (memory cap, writer stopped). */
static inline struct pl_ring *pl_thread_ring(struct pl_writer *w)
{
	if (likely(pl_tl_cache.writer_id == w->id))
		return pl_tl_cache.ring;
	return pl_thread_ring_slow(w);
}

#endif /* PL_THREAD_H */
