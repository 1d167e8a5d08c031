/* SPDX-License-Identifier: MIT */
/* window.h - which frames a time window needs (pl_reader_set_window()).
 *
 * Before reading, every frame's index is read (pl_frames_index_scan(): one pread per
 * frame, nothing decompressed) to find the last frame that may hold a START of the
 * window and, for PL_WINDOW_ANCESTORS, the earliest frame holding the START of an action
 * open during the window. Then, frame by frame, a frame is
 *  - read when it may hold a START the caller needs, or an END of one delivered;
 *  - read for its THREAD, DROPPED and STATS records only ("meta") when its index says
 *    it has some (or NAME records, which later frames may use) but nothing else needed;
 *  - skipped otherwise.
 * The ENDs needed are those of the window's STARTs delivered so far: an open set of
 * their keys says when the last has ended, after which nothing but meta is read.
 */
#ifndef PL_WINDOW_H
#define PL_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "frames.h"

enum pl_win_verdict { PL_WIN_READ, PL_WIN_META, PL_WIN_SKIP };

struct pl_window {
	bool on;  /* a window was set */
	bool off; /* turned off: an index disagreed; read everything */
	int64_t since, until;
	bool ancestors;	     /* PL_WINDOW_ANCESTORS */
	bool starts_only;    /* PL_WINDOW_STARTS_ONLY: the ENDs are not looked for */
	uint64_t back_off;   /* with it: frames at this offset or later are needed */
	bool any_start;	     /* some indexed frame may hold a START of the window */
	uint64_t last_start; /* offset of the last such frame */
	uint64_t scan_end;   /* frames at or past this offset were not indexed: read them */
	uint64_t *keys;	     /* open set of the window's actions (0: empty slot) */
	uint32_t cap, n;
	bool keys_lost; /* out of memory: never stop early */
	uint64_t skipped, bytes_skipped;
};

/* Plan the window over the indexes of @f from its current offset. Returns 0 or a
 * negative pl_status. */
int pl_window_plan(struct pl_window *w, struct pl_frames *f, int64_t since, int64_t until,
		   bool ancestors, bool starts_only);

/* What to do with the frame whose index @ix was read at @off. */
enum pl_win_verdict pl_window_decide(const struct pl_window *w, const struct pl_frame_ix *ix,
				     uint64_t off);

/* A START of the window (@key: its task and level, see pl_window_key) was delivered. */
void pl_window_opened(struct pl_window *w, uint64_t key);

/* An END was delivered: its action, if one of the window's, is closed. */
void pl_window_closed(struct pl_window *w, uint64_t key);

/* The key of an action: task id and level path. Never 0. */
uint64_t pl_window_key(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth);

/* The first and last wall time of the timed records of @f's frames from its current
 * offset: 1 (set), 0 (none), -PL_EINVAL (not wholly indexed). */
int pl_window_extent(struct pl_frames *f, int64_t *first, int64_t *last);

void pl_window_free(struct pl_window *w);

#endif /* PL_WINDOW_H */
