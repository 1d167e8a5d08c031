/* SPDX-License-Identifier: MIT */
/* clock.c - TSC detection and calibration against CLOCK_MONOTONIC. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static bool tsc_usable;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

static void detect_tsc(void)
{
	const char *env = getenv("PERFLOG_CLOCK");
	if (!PL_HAVE_TSC || (env && strcmp(env, "monotonic") == 0))
		return;
	/* Only an invariant TSC ticks at a constant rate across frequency changes and
	 * deep sleep states, and is synchronised across cores by the kernel. */
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	char line[4096];
	bool constant = false, nonstop = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	tsc_usable = constant && nonstop;
}

bool pl_clock_tsc_usable(void)
{
	pthread_once(&tsc_once, detect_tsc);
	return tsc_usable;
}

/* A (ticks, monotonic ns) pair read close together: the tightest of a few tries, so that
 * a preemption between the two reads cannot skew the rate. */
static void read_pair(uint64_t *ticks, uint64_t *mono)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t t1 = pl_ticks(true), m = pl_mono_ns(), t2 = pl_ticks(true);
		if (t2 - t1 < best) {
			best = t2 - t1;
			*ticks = t1 + (t2 - t1) / 2;
			*mono = m;
		}
	}
}

void pl_clock_wall_pair(bool tsc, uint64_t *ticks, int64_t *wall)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t t1 = pl_ticks(tsc);
		int64_t w = pl_wall_ns();
		uint64_t t2 = pl_ticks(tsc);
		if (t2 - t1 < best) {
			best = t2 - t1;
			*ticks = t1 + (t2 - t1) / 2;
			*wall = w;
		}
	}
}

static void set_rate(struct pl_clock_conv *c, uint64_t dticks, uint64_t dns)
{
	if (dticks == 0)
		return;
	c->mult = (uint64_t)(((pl_u128)dns << 32) / dticks);
}

void pl_clock_conv_init(struct pl_clock_conv *c, bool tsc)
{
	c->tsc = tsc && PL_HAVE_TSC;
	c->mult = 1ull << 32;
	c->wall0 = pl_wall_ns();
	c->first = 0;
	c->nseg = 1;
	c->gen++; /* never back to a value a cache may hold (a new file starts a new one) */
	if (!c->tsc) {
		c->tick0 = c->mono0 = pl_mono_ns();
		c->seg[0] = (struct pl_clock_seg){c->tick0, 0, c->mult};
		return;
	}
	read_pair(&c->tick0, &c->mono0);
	/* Busy-wait ~1 ms for a first rate; pl_clock_conv_refine() improves it as the
	 * span grows (1 ms gives ~1e-4, one second ~1e-7). */
	uint64_t end = c->mono0 + 1000000, t, m;
	do
		m = pl_mono_ns();
	while (m < end);
	read_pair(&t, &m);
	set_rate(c, t - c->tick0, m - c->mono0);
	c->seg[0] = (struct pl_clock_seg){c->tick0, 0, c->mult};
}

void pl_clock_conv_refine(struct pl_clock_conv *c)
{
	if (!c->tsc)
		return;
	uint64_t t, m;
	read_pair(&t, &m);
	const struct pl_clock_seg *last = &c->seg[(c->first + c->nseg - 1) % PL_CLOCK_SEGMENTS];
	if (t <= last->tick || m <= c->mono0)
		return;
	/* The new segment starts where the function has got to at t: continuous. Its rate is
	 * the one measured over the whole span since the anchor (the longer, the better). */
	uint64_t ns = pl_clock_ns(c, t);
	set_rate(c, t - c->tick0, m - c->mono0);
	if (c->nseg == PL_CLOCK_SEGMENTS) {
		c->first = (c->first + 1) % PL_CLOCK_SEGMENTS;
		c->nseg--;
	}
	c->seg[(c->first + c->nseg) % PL_CLOCK_SEGMENTS] = (struct pl_clock_seg){t, ns, c->mult};
	c->nseg++;
	c->gen++;
}

uint64_t pl_clock_cache_fill(const struct pl_clock_conv *c, struct pl_clock_cache *k,
			     uint64_t ticks)
{
	uint64_t ns = pl_clock_ns_hint(c, &k->hint, ticks); /* the segment's slot in hint */
	uint32_t slot = k->hint % PL_CLOCK_SEGMENTS;
	uint32_t rel = (slot + PL_CLOCK_SEGMENTS - c->first) % PL_CLOCK_SEGMENTS;
	k->gen = c->gen;
	k->s = c->seg[slot];
	k->hi = rel + 1 < c->nseg ? c->seg[(slot + 1) % PL_CLOCK_SEGMENTS].tick : UINT64_MAX;
	/* Before the oldest segment the search extrapolates it backwards: no cached range. */
	k->lo = rel < c->nseg && ticks >= k->s.tick ? k->s.tick : k->hi;
	return ns;
}

double pl_clock_conv_hz(const struct pl_clock_conv *c)
{
	if (!c->tsc || c->mult == 0)
		return 0.0;
	return 1e9 * 4294967296.0 / (double)c->mult;
}
