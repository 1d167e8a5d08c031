/* SPDX-License-Identifier: MIT */
/* thread.c - creating, registering and reclaiming the rings of recording threads.
 *
 * Each ring has two references: its thread's (dropped by the thread-exit destructor)
 * and its writer's registry (dropped when the flusher reclaims a drained ring of an
 * exited thread, or when the writer closes). Whoever drops the last one frees it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thread.h"

PL_TLS struct pl_thread_cache pl_tl_cache;
static __thread struct pl_ring *tl_rings; /* this thread's rings, any writer */

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void thread_exit(void *arg)
{
	(void)arg;
	struct pl_ring *tb = tl_rings, *next;
	tl_rings = NULL;
	pl_tl_cache = (struct pl_thread_cache){0, NULL};
	for (; tb; tb = next) {
		next = tb->next_in_thread;
		store_release(&tb->orphaned, 1);
		pl_ring_unref(tb);
	}
}

static void exit_key_create(void)
{
	(void)pthread_key_create(&exit_key, thread_exit);
}

bool pl_writer_budget_take(struct pl_writer *w, uint64_t bytes)
{
	uint64_t used = load_relaxed(&w->mem_used);
	do {
		if (used + bytes > w->opts.max_memory)
			return false;
	} while (!__atomic_compare_exchange_n(&w->mem_used, &used, used + bytes, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

void pl_writer_budget_give(struct pl_writer *w, uint64_t bytes)
{
	__atomic_sub_fetch(&w->mem_used, bytes, __ATOMIC_RELAXED);
}

struct pl_ring *pl_thread_ring_slow(struct pl_writer *w)
{
	struct pl_ring *tb;
	uint64_t id = load_relaxed(&w->id);
	for (tb = tl_rings; tb; tb = tb->next_in_thread) {
		if (tb->writer_id == id && tb->live) {
			pl_tl_cache = (struct pl_thread_cache){id, tb};
			return tb;
		}
	}
	if (!load_relaxed(&w->enabled))
		return NULL;

	bool room = pl_writer_budget_take(w, w->ring_bytes);
	tb = room ? pl_ring_new(w->ring_bytes) : NULL;
	if (!tb) {
		if (room)
			pl_writer_budget_give(w, w->ring_bytes);
		/* Remember the refusal so that later events skip this slow path. */
		pl_tl_cache = (struct pl_thread_cache){id, NULL};
		return NULL;
	}
	tb->writer = w;
	tb->writer_id = id;
	tb->owner = pthread_self();
	tb->tid = gettid();
	if (pthread_getname_np(tb->owner, tb->name, sizeof(tb->name)) != 0)
		tb->name[0] = '\0';

	pthread_once(&exit_key_once, exit_key_create);
	pthread_setspecific(exit_key, (void *)1); /* non-NULL: run thread_exit */
	tb->next_in_thread = tl_rings;
	tl_rings = tb;

	pthread_mutex_lock(&w->reg_lock);
	tb->serial = ++w->next_serial;
	tb->next = w->rings;
	store_release(&w->rings, tb); /* the flusher walks the list without the lock */
	pthread_mutex_unlock(&w->reg_lock);

	pl_tl_cache = (struct pl_thread_cache){id, tb};
	return tb;
}

static void retire(struct pl_writer *w, struct pl_ring *tb)
{
	w->retired_events += load_relaxed(&tb->events);
	w->retired_full += load_relaxed(&tb->dropped_full);
	w->retired_oversize += load_relaxed(&tb->dropped_oversize);
	w->retired_blocked += load_relaxed(&tb->blocked);
	w->retired_grown += load_relaxed(&tb->grown);
	w->retired_starts += tb->open.starts;
	w->retired_ends += tb->open.ends;
	/* What the ring still holds, and what the flusher freed but did not give back. */
	pl_writer_budget_give(w, load_relaxed(&tb->bytes) + tb->freed);
	tb->freed = 0;
}

void pl_rings_release_all(struct pl_writer *w, bool fork_child)
{
	pthread_t self = pthread_self();
	pthread_mutex_lock(&w->reg_lock);
	struct pl_ring *tb = w->rings, *next;
	w->rings = NULL;
	for (; tb; tb = next) {
		next = tb->next;
		retire(w, tb);
		if (fork_child && !pthread_equal(tb->owner, self)) {
			/* Its thread does not exist in the child, and may or may not have
			 * dropped its reference before the fork: nobody else holds it. Its
			 * actions will never end here: not counted as open. */
			w->retired_starts -= tb->open.starts;
			w->retired_ends -= tb->open.ends;
			pl_ring_free_data(tb);
			free(tb);
			continue;
		}
		if (!load_acquire(&tb->orphaned))
			pl_ring_free_data(tb); /* the thread lives on, but never records here */
		pl_ring_unref(tb);
	}
	pthread_mutex_unlock(&w->reg_lock);
}

void pl_rings_reclaim(struct pl_writer *w)
{
	pthread_mutex_lock(&w->reg_lock);
	struct pl_ring **pp = &w->rings;
	while (*pp) {
		struct pl_ring *tb = *pp;
		if (load_acquire(&tb->orphaned) && pl_ring_used(tb) == 0 &&
		    load_relaxed(&tb->dropped_full) == tb->reported_full &&
		    load_relaxed(&tb->dropped_oversize) == tb->reported_oversize) {
			*pp = tb->next;
			retire(w, tb);
			pl_ring_unref(tb);
			continue;
		}
		pp = &tb->next;
	}
	pthread_mutex_unlock(&w->reg_lock);
}

void pl_rings_stats(struct pl_writer *w, struct pl_writer_stats *out)
{
	pthread_mutex_lock(&w->reg_lock);
	out->events += w->retired_events;
	out->dropped_full += w->retired_full;
	out->dropped_oversize += w->retired_oversize;
	out->blocked += w->retired_blocked;
	out->ring_grown += w->retired_grown;
	for (struct pl_ring *tb = w->rings; tb; tb = tb->next) {
		out->events += load_relaxed(&tb->events);
		out->dropped_full += load_relaxed(&tb->dropped_full);
		out->dropped_oversize += load_relaxed(&tb->dropped_oversize);
		out->blocked += load_relaxed(&tb->blocked);
		out->ring_grown += load_relaxed(&tb->grown);
	}
	pthread_mutex_unlock(&w->reg_lock);
}
