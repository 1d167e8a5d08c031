/* SPDX-License-Identifier: MIT */
/* window.c - frame selection for a time window (see window.h). */
#include <stdlib.h>
#include <string.h>

#include <perflog/status.h>

#include "../common/format.h"
#include "window.h"

/* Records a frame's index says it holds that are delivered whatever the window. */
#define META_FLAGS (PL_IX_HEADER | PL_IX_NAME | PL_IX_THREAD | PL_IX_DROPPED | PL_IX_STATS)

static bool timed(const struct pl_frame_ix *ix)
{
	return ix->first_wall <= ix->last_wall;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static uint64_t minu(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

struct plan {
	struct pl_window *w;
	uint64_t prev_open; /* open_off of the frame before */
	uint64_t run_open;  /* least open_off of the frames since the last in the window */
	uint64_t back;	    /* least open_off around the window's frames */
	bool seen;
	uint64_t end; /* offset past the last frame indexed */
};

static void plan_frame(void *ctx, const struct pl_frame_ix *ix, uint64_t off)
{
	struct plan *p = ctx;
	struct pl_window *w = p->w;
	bool in = timed(ix) && ix->last_wall >= w->since && ix->first_wall < w->until;
	if (in) {
		/* An action open when one of the window's started was open at the end of the
		 * frame before that START's frame, or started in it. */
		uint64_t lo = p->seen ? p->run_open : p->prev_open;
		p->back = minu(p->back, minu(lo, ix->open_off));
		p->run_open = UINT64_MAX;
		p->seen = true;
		w->any_start = true;
		w->last_start = off;
	} else if (p->seen) {
		p->run_open = minu(p->run_open, ix->open_off);
	}
	p->prev_open = ix->open_off;
	p->end = off + PL_INDEX_FRAME_BYTES + ix->data_len;
}

int pl_window_plan(struct pl_window *w, struct pl_frames *f, int64_t since, int64_t until,
		   bool ancestors, bool starts_only)
{
	w->on = true;
	w->since = since;
	w->until = until;
	struct plan p = {w,	     UINT64_MAX, UINT64_MAX,
			 UINT64_MAX, false,	 f->ix_pending ? f->unit_off : pl_frames_offset(f)};
	int ret = pl_frames_index_scan(f, plan_frame, &p);
	if (ret < 0)
		return ret;
	w->scan_end = p.end;
	w->ancestors = ancestors;
	w->starts_only = starts_only;
	w->back_off = p.back;
	return 0;
}

enum pl_win_verdict pl_window_decide(const struct pl_window *w, const struct pl_frame_ix *ix,
				     uint64_t off)
{
	if (!w->on || w->off || off >= w->scan_end)
		return PL_WIN_READ;
	bool before =
	    !timed(ix) || (ix->last_wall < w->since && (!w->ancestors || off < w->back_off));
	bool after = (!w->any_start || off > w->last_start) &&
		     (w->starts_only || (w->n == 0 && !w->keys_lost));
	if (!before && !after)
		return PL_WIN_READ;
	/* Past the window's frames a look-up of STARTs needs nothing more, not even the
	 * meta records (names are defined before they are used). */
	if (w->starts_only && after)
		return PL_WIN_SKIP;
	return ix->flags & META_FLAGS ? PL_WIN_META : PL_WIN_SKIP;
}

uint64_t pl_window_key(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth)
{
	uint64_t h = (prefix ^ 0x9e3779b97f4a7c15u) * 0xff51afd7ed558ccdu;
	h = (h ^ seq) * 0xc4ceb9fe1a85ec53u;
	h = (h ^ depth) * 0x100000001b3u;
	for (uint32_t i = 0; i < depth; i++) {
		h = (h ^ level[i]) * 0x100000001b3u;
		h ^= h >> 29;
	}
	return h | 1;
}

/* Linear probing; deletion shifts the run back, so no tombstones. */
static uint32_t slot(const struct pl_window *w, uint64_t key)
{
	uint32_t mask = w->cap - 1, i = (uint32_t)(key ^ (key >> 32)) & mask;
	while (w->keys[i] && w->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

static bool grow(struct pl_window *w)
{
	uint32_t cap = w->cap ? w->cap * 2 : 64;
	uint64_t *old = w->keys, *keys = calloc(cap, sizeof(*keys));
	if (!keys || cap < w->cap) {
		free(keys);
		return false;
	}
	uint32_t oldcap = w->cap;
	w->keys = keys;
	w->cap = cap;
	for (uint32_t i = 0; i < oldcap; i++)
		if (old[i])
			w->keys[slot(w, old[i])] = old[i];
	free(old);
	return true;
}

void pl_window_opened(struct pl_window *w, uint64_t key)
{
	if (w->keys_lost)
		return;
	if ((w->n + 1) * 2 > w->cap && !grow(w)) {
		w->keys_lost = true; /* read to the end: no early stop without the set */
		return;
	}
	uint32_t i = slot(w, key);
	if (!w->keys[i]) { /* the same action twice (a damaged file) counts once */
		w->keys[i] = key;
		w->n++;
	}
}

void pl_window_closed(struct pl_window *w, uint64_t key)
{
	if (!w->n)
		return;
	uint32_t mask = w->cap - 1, i = slot(w, key);
	if (!w->keys[i])
		return;
	w->keys[i] = 0;
	w->n--;
	for (uint32_t j = (i + 1) & mask; w->keys[j]; j = (j + 1) & mask) {
		uint64_t k = w->keys[j];
		w->keys[j] = 0;
		w->keys[slot(w, k)] = k;
	}
}

struct extent {
	int64_t first, last;
};

static void extent_frame(void *ctx, const struct pl_frame_ix *ix, uint64_t off)
{
	struct extent *e = ctx;
	(void)off;
	if (!timed(ix))
		return;
	e->first = min64(e->first, ix->first_wall);
	if (ix->last_wall > e->last)
		e->last = ix->last_wall;
}

int pl_window_extent(struct pl_frames *f, int64_t *first, int64_t *last)
{
	struct extent e = {INT64_MAX, INT64_MIN};
	int ret = pl_frames_index_scan(f, extent_frame, &e);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return -PL_EINVAL;
	if (e.first > e.last)
		return 0;
	*first = e.first;
	*last = e.last;
	return 1;
}

void pl_window_free(struct pl_window *w)
{
	free(w->keys);
	memset(w, 0, sizeof(*w));
}
