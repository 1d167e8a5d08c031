/* thread.h - the calling thread's ring for a writer: a one-entry thread-local cache in
 * front of the thread's private list of rings. */
#ifndef PL_THREAD_H
#define PL_THREAD_H

#include "writer_int.h"

struct pl_thread_cache {
	uint64_t writer_id;
	struct pl_tbuf *ring; /* NULL with a matching id: no ring allowed (memory cap) */
};

extern __thread struct pl_thread_cache pl_tl_cache;

static inline struct pl_tbuf *pl_thread_ring(struct pl_writer *w, bool *have)
{
	if (likely(pl_tl_cache.writer_id == w->id)) {
		*have = true;
		return pl_tl_cache.ring;
	}
	struct pl_tbuf *tb = pl_thread_ring_slow(w);
	*have = tb != NULL;
	return tb;
}

#endif /* PL_THREAD_H */
