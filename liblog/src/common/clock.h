/* SPDX-License-Identifier: MIT */
/* clock.h - event timestamps: a calibrated TSC where it is invariant, else
 * CLOCK_MONOTONIC; and the conversion of ticks to nanoseconds since an anchor.
 *
 * Why TSC: on this class of machine (KVM, invariant TSC) rdtsc costs ~11 ns while
 * clock_gettime(CLOCK_MONOTONIC) costs ~33 ns, more than the whole event budget.
 */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "macros.h"

/* 128-bit products keep tick->ns conversion exact for centuries of ticks. */
__extension__ typedef unsigned __int128 pl_u128;

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PL_HAVE_TSC 1
#else
#define PL_HAVE_TSC 0
#endif

/* Monotonic and wall-clock time in ns. */
static inline uint64_t pl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t pl_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Raw ticks of the chosen clock: TSC ticks, or monotonic ns. */
static inline uint64_t pl_ticks(bool tsc)
{
#if PL_HAVE_TSC
	if (tsc)
		return __rdtsc();
#endif
	(void)tsc;
	return pl_mono_ns();
}

/* Whether the TSC is usable: invariant (constant_tsc + nonstop_tsc) and not disabled
 * by PERFLOG_CLOCK=monotonic. Computed once per process. */
bool pl_clock_tsc_usable(void);

/* Segments kept: refined every flush cycle (50-100 ms), 256 cover ~15-25 s. */
#define PL_CLOCK_SEGMENTS 256u

/* From @tick on (until the next segment): ns = @ns + (ticks - @tick) * @mult >> 32. */
struct pl_clock_seg {
	uint64_t tick, ns, mult;
};

/*
 * struct pl_clock_conv - ticks -> ns since an anchor: one fixed function, piecewise
 * linear and continuous. The anchor pairs a tick reading with CLOCK_MONOTONIC and
 * CLOCK_REALTIME readings. Each refinement of the rate starts a new segment where the
 * previous one had got to, and never changes the conversion of earlier ticks: so the
 * same ticks convert to the same ns in any later flush, the function never steps back,
 * and a duration computed as f(end) - f(start) is exactly the difference of the two
 * timestamps (a child always lies within its parent). Ticks older than the oldest
 * segment kept are extrapolated from it. Owned by one thread (the writer's flusher)
 * after pl_clock_conv_init().
 */
struct pl_clock_conv {
	bool tsc;
	uint64_t tick0;				    /* ticks at the anchor */
	uint64_t mono0;				    /* CLOCK_MONOTONIC ns at the anchor */
	int64_t wall0;				    /* CLOCK_REALTIME ns at the anchor */
	uint64_t mult;				    /* the latest rate, ns per tick << 32 */
	struct pl_clock_seg seg[PL_CLOCK_SEGMENTS]; /* a ring, oldest at @first */
	uint32_t first, nseg;
	uint32_t gen; /* changes with every segment added (pl_clock_cache) */
};

/* A (ticks, CLOCK_REALTIME ns) pair read close together: the tightest of a few tries,
 * so that a preemption between the two reads cannot shift the wall clock against the
 * events (a frame's CLOCK checkpoint). */
void pl_clock_wall_pair(bool tsc, uint64_t *ticks, int64_t *wall);

/* Take the anchor and an initial rate (a ~1 ms busy calibration for the TSC). */
void pl_clock_conv_init(struct pl_clock_conv *c, bool tsc);

/* Refine the rate from the anchor to now: the longer the span, the better the rate. */
void pl_clock_conv_refine(struct pl_clock_conv *c);

/* Ticks per second according to the current rate (0 for the monotonic clock). */
double pl_clock_conv_hz(const struct pl_clock_conv *c);

static inline uint64_t pl_clock_seg_ns(const struct pl_clock_seg *s, uint64_t ticks)
{
	if (ticks >= s->tick)
		return s->ns + (uint64_t)(((pl_u128)(ticks - s->tick) * s->mult) >> 32);
	uint64_t back = (uint64_t)(((pl_u128)(s->tick - ticks) * s->mult) >> 32);
	return back < s->ns ? s->ns - back : 0;
}

/* Convert ticks to ns since the anchor (0 for ticks before it). */
static inline uint64_t pl_clock_ns(const struct pl_clock_conv *c, uint64_t ticks)
{
	/* Newest first: nearly every event falls in the last segment or the one before. */
	for (uint32_t i = c->nseg; i-- > 1;) {
		const struct pl_clock_seg *s = &c->seg[(c->first + i) % PL_CLOCK_SEGMENTS];
		if (ticks >= s->tick)
			return pl_clock_seg_ns(s, ticks);
	}
	return pl_clock_seg_ns(&c->seg[c->first], ticks);
}

/* pl_clock_ns() for a caller converting ticks that mostly rise (one thread's events):
 * *@hint, the segment slot of the last conversion (any value at first), is tried before
 * the search and updated by it. The same result as pl_clock_ns(). */
static inline uint64_t pl_clock_ns_hint(const struct pl_clock_conv *c, uint32_t *hint,
					uint64_t ticks)
{
	uint32_t slot = *hint % PL_CLOCK_SEGMENTS;
	uint32_t rel = (slot + PL_CLOCK_SEGMENTS - c->first) % PL_CLOCK_SEGMENTS;
	/* The segment the search would pick: the newest starting at or before @ticks. */
	if (rel < c->nseg && ticks >= c->seg[slot].tick &&
	    (rel + 1 == c->nseg || ticks < c->seg[(slot + 1) % PL_CLOCK_SEGMENTS].tick))
		return pl_clock_seg_ns(&c->seg[slot], ticks);
	for (uint32_t i = c->nseg; i-- > 1;) {
		slot = (c->first + i) % PL_CLOCK_SEGMENTS;
		if (ticks >= c->seg[slot].tick) {
			*hint = slot;
			return pl_clock_seg_ns(&c->seg[slot], ticks);
		}
	}
	*hint = c->first; /* the oldest: a cache may hold it (pl_clock_cache_fill) */
	return pl_clock_seg_ns(&c->seg[c->first], ticks);
}

/* One segment of a conversion, copied with the range of ticks where it applies, for a
 * caller converting many ticks in a row (the flusher: two conversions per event). */
struct pl_clock_cache {
	uint64_t lo, hi; /* ticks in [lo, hi) convert through this segment */
	struct pl_clock_seg s;
	uint32_t gen; /* the conversion's gen when copied; the slot's hint for the search */
	uint32_t hint;
};

/* Copy the segment that converts @ticks into @k and return pl_clock_ns(@c, @ticks) (out
 * of line: about once per flush cycle). */
uint64_t pl_clock_cache_fill(const struct pl_clock_conv *c, struct pl_clock_cache *k,
			     uint64_t ticks);

/* pl_clock_ns() through @k (zeroed at first): the same result, in a few instructions
 * while @ticks stays in the cached segment and the conversion gained no segment. */
static inline uint64_t pl_clock_ns_cached(const struct pl_clock_conv *c, struct pl_clock_cache *k,
					  uint64_t ticks)
{
	if (likely(k->gen == c->gen && ticks >= k->lo && ticks < k->hi))
		return k->s.ns + (uint64_t)(((pl_u128)(ticks - k->s.tick) * k->s.mult) >> 32);
	return pl_clock_cache_fill(c, k, ticks);
}

#endif /* PL_CLOCK_H */
