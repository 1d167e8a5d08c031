/* SPDX-License-Identifier: MIT */
/* writer_int.h - struct pl_writer and the functions its modules share. */
#ifndef PL_WRITER_INT_H
#define PL_WRITER_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

#include <perflog/writer.h>

#include "../common/clock.h"
#include "encode.h"
#include "ring.h"
#include "sink.h"

struct pl_writer {
	/* Read by the hot path; written at open, close and fork only. */
	uint32_t enabled; /* atomic: 0 after close/at-exit/fork-stop */
	bool use_tsc;
	enum pl_full_policy full_policy;
	uint64_t id;	    /* generation: unique per writer and per fork child */
	uint32_t max_event; /* largest staged event accepted */
	uint64_t ring_bytes;

	struct pl_writer_options opts; /* copy; opts.path points at path_template */
	char *path_template;
	char *path;	  /* expanded path of the current file */
	char **old_paths; /* paths of earlier files: pl_writer_path() strings stay
			   * valid until close (flusher-owned) */
	size_t nold_paths;
	sem_t wake; /* posted by producers (ring half full), flush, close */

	/* Registry of rings: written under reg_lock by new threads and the flusher. */
	pthread_mutex_t reg_lock;
	struct pl_ring *rings;
	uint32_t next_serial;
	uint64_t mem_used;	    /* atomic: bytes of ring segments (pl_writer_budget_*) */
	uint64_t dropped_no_buffer; /* atomic */

	/* Totals of rings already freed, added under reg_lock. */
	uint64_t retired_events, retired_full, retired_oversize, retired_blocked, retired_grown;
	/* Their open sets' STARTs and ENDs (openset.h; read by the flusher, which retires
	 * rings itself while it runs). */
	uint64_t retired_starts, retired_ends;

	/* Flush/close handshake: under ctl_lock. */
	pthread_mutex_t ctl_lock;
	pthread_cond_t ctl_cond;
	uint64_t flush_req;  /* flushes requested */
	uint64_t flush_done; /* flushes completed */
	int flush_status;    /* result of the last completed flush */
	bool closing;
	bool finished; /* the final frame and stats are written */

	/* Flusher-owned (cycle_lock held for a whole cycle, so fork sees no half cycle). */
	pthread_mutex_t cycle_lock;
	pthread_t flusher;
	bool flusher_running;
	struct pl_clock_conv clock;
	struct pl_encoder enc;
	struct pl_sink sink;
	char **argv;	      /* for the header; owned */
	bool header_pending;  /* the next frame starts a file */
	uint64_t lost_events; /* events in frames that failed to write (relaxed) */
	uint64_t reported_lost, reported_no_buffer;
	uint64_t frame_lost, frame_no_buffer; /* reported_* at frame open (see ring.h) */
	int logged_errno;		      /* last write error given to opts.log_fn */
	int cycle_err;			      /* -PL_EIO if a frame of the current cycle was lost */

	/* Rotation (rotate.c; flusher-owned). */
	bool rotating;		    /* a rotate_* option is set */
	uint32_t file_seq;	    /* number of the current file */
	uint64_t file_opened_ns;    /* CLOCK_MONOTONIC when it was opened */
	struct pl_file_rec *closed; /* this writer's closed files, oldest first */
	size_t nclosed, closed_cap;
	uint64_t rotations, rotate_errors, files_deleted; /* relaxed atomics */

	struct pl_writer *next_open; /* list of open writers, under the global list lock */
};

/* A closed file of the writer, for retention: deleted only if it is still that file. */
struct pl_file_rec {
	char *path;
	dev_t dev;
	ino_t ino;
	uint64_t bytes;
};

/* writer.c: the list of open writers, for the exit and fork handlers. */
void pl_writers_lock(void);
void pl_writers_unlock(void);
struct pl_writer *pl_writers_first(void);
uint64_t pl_writer_new_id(void);

/* rotate.c: the path of file number @seq opened at @wall_ns: "{pid}", "{n}" and "{time}"
 * of the template expanded ("{n}" added before the extension when rotating without it).
 * malloc'ed, NULL without memory. */
char *pl_path_expand(const struct pl_writer *w, uint32_t seq, int64_t wall_ns);
/* rotate.c: at a frame boundary (flusher), move to the next file if the current one is
 * large or old enough, then apply retention. */
void pl_rotate_maybe(struct pl_writer *w);
/* Whether the current file is due to rotate (by size or age), frames aside. */
bool pl_rotate_due(const struct pl_writer *w);
/* rotate.c: forget the closed files (without deleting them) and start numbering anew
 * (fork child: they are the parent's). */
void pl_rotate_forget(struct pl_writer *w);
/* Create the current file and start the flusher (open, fork child). */
int pl_writer_start_file(struct pl_writer *w);
/* Stop the flusher and free everything. */
void pl_writer_free(struct pl_writer *w);

/* flusher.c: start the thread; stop it after a final frame with the STATS record. */
int pl_flusher_start(struct pl_writer *w);
void pl_flusher_stop(struct pl_writer *w);
/* End and write the open frame (flusher thread, cycle_lock held). 0 or -PL_EIO. */
int pl_flusher_end_frame(struct pl_writer *w);
/* Write a frame with the STATS record that closes the current file (rotation). */
void pl_flusher_close_file(struct pl_writer *w);
/* The sink now holds a new file: describe the threads again in it. */
void pl_flusher_new_file(struct pl_writer *w);
/* Ask for a frame holding everything staged so far and wait for it. */
int pl_flusher_request(struct pl_writer *w, bool final);

/* thread.c: take @bytes of max_memory for ring segments; false if they do not fit. */
bool pl_writer_budget_take(struct pl_writer *w, uint64_t bytes);
/* thread.c: give back @bytes taken. */
void pl_writer_budget_give(struct pl_writer *w, uint64_t bytes);
/* thread.c: the calling thread's ring for @w, created on first use; NULL if none. */
struct pl_ring *pl_thread_ring_slow(struct pl_writer *w);
/* Unregister and release every ring of @w (close, fork child). */
void pl_rings_release_all(struct pl_writer *w, bool only_this_thread_survives);
/* Free the drained rings of exited threads (flusher). */
void pl_rings_reclaim(struct pl_writer *w);
/* Add ring counters to @out (takes reg_lock). */
void pl_rings_stats(struct pl_writer *w, struct pl_writer_stats *out);

/* fork.c */
void pl_fork_handlers_install(void);

#endif /* PL_WRITER_INT_H */
