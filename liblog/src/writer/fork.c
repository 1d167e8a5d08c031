/* SPDX-License-Identifier: MIT */
/* fork.c - pthread_atfork handlers: never two processes writing one file.
 *
 * Before fork, every writer's locks are taken, so the child starts with no half-done
 * cycle or registry change. In the child, only the forking thread exists: rings of the
 * other threads are freed, staged events (the parent writes them) are discarded, a new
 * task prefix is drawn, and each writer either opens a new file (its path template has
 * "{pid}") or stops recording.
 */
#include <stdbool.h>
#include <string.h>

#include "../common/taskid.h"
#include "names.h"
#include "thread.h"
#include "writer_int.h"

static void prepare(void)
{
	pl_names_atfork_prepare();
	pl_writers_lock();
	for (struct pl_writer *w = pl_writers_first(); w; w = w->next_open) {
		pthread_mutex_lock(&w->ctl_lock);
		pthread_mutex_lock(&w->cycle_lock);
		pthread_mutex_lock(&w->reg_lock);
	}
}

static void unlock_all(void)
{
	for (struct pl_writer *w = pl_writers_first(); w; w = w->next_open) {
		pthread_mutex_unlock(&w->reg_lock);
		pthread_mutex_unlock(&w->cycle_lock);
		pthread_mutex_unlock(&w->ctl_lock);
	}
}

static void parent(void)
{
	unlock_all();
	pl_writers_unlock();
	pl_names_atfork_parent();
}

static void child(void)
{
	unlock_all();
	pl_names_atfork_child();
	pl_task_after_fork_child();
	pl_tl_cache = (struct pl_thread_cache){0, NULL};
	for (struct pl_writer *w = pl_writers_first(); w; w = w->next_open) {
		bool was_enabled = load_relaxed(&w->enabled);
		store_relaxed(&w->enabled, 0);
		/* The parent's flusher does not exist here; its file is the parent's. */
		w->flusher_running = false;
		/* Waiters on these (flush callers, the flusher) do not exist in the child, and
		 * destroying a condition variable would wait for them: make them anew. */
		memset(&w->ctl_cond, 0, sizeof(w->ctl_cond));
		pthread_cond_init(&w->ctl_cond, NULL);
		memset(&w->wake, 0, sizeof(w->wake));
		sem_init(&w->wake, 0, 0);
		w->flush_req = w->flush_done = 0;
		w->closing = w->finished = false;
		pl_sink_close(&w->sink);
		pl_rings_release_all(w, true);
		w->mem_used = 0; /* a quota reserved by a thread that no longer exists */
		w->next_serial = 0;
		/* The child's file counts the child's events only. */
		w->retired_events = w->retired_full = w->retired_oversize = 0;
		w->retired_blocked = w->retired_grown = 0;
		w->dropped_no_buffer = w->lost_events = 0;
		w->reported_lost = w->reported_no_buffer = 0;
		w->enc.bytes_raw = 0;
		w->id = pl_writer_new_id();
		pl_rotate_forget(w); /* the parent's files: the child numbers its own */
		w->rotations = w->rotate_errors = w->files_deleted = 0;
		if (was_enabled && strstr(w->path_template, "{pid}") &&
		    pl_writer_start_file(w) < 0 && w->opts.log_fn)
			w->opts.log_fn(w->opts.log_userdata, 4,
				       "perflog: the fork child could not open its own trace file; "
				       "it records nothing");
	}
	pl_writers_unlock();
}

void pl_fork_handlers_install(void)
{
	pthread_atfork(prepare, parent, child);
}
