/* SPDX-License-Identifier: MIT */
/* test_clock.c - the tick -> ns conversion (common/clock.h). Internal API.
 *
 * Refining the rate must never change what earlier ticks convert to (a START converted
 * in one flush and its END in a later one must agree), the function must never step back,
 * and f(end) - f(start) is then the exact distance between two timestamps, so that nested
 * actions nest. Checked with real TSC readings and refinements over ~0.3 s (the monotonic
 * clock's conversion is the identity and is checked too).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/clock.h"

#define SAMPLES 300

static void sleep_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

static void check_conversion(bool tsc)
{
	static struct pl_clock_conv c; /* ~6 KiB: not on the stack */
	pl_clock_conv_init(&c, tsc);
	uint64_t ticks[SAMPLES], first[SAMPLES];
	for (int i = 0; i < SAMPLES; i++) {
		ticks[i] = pl_ticks(c.tsc);
		first[i] = pl_clock_ns(&c, ticks[i]); /* as the flush of its time converts it */
		if (i % 3 == 2)
			pl_clock_conv_refine(&c);
		sleep_us(1000);
	}
	assert_true(c.nseg > 1 || !c.tsc);
	for (int i = 0; i < SAMPLES; i++) {
		/* Later refinements changed nothing for earlier ticks. */
		assert_int_equal(pl_clock_ns(&c, ticks[i]), first[i]);
		if (i > 0) {
			assert_true(first[i] >= first[i - 1]); /* never steps back */
			/* and tracks CLOCK_MONOTONIC: ~1 ms per sample (sleeps are >= 1 ms) */
			assert_true(first[i] - first[i - 1] >= 900000);
		}
	}
	/* The function is continuous at every segment start. */
	for (uint32_t k = 1; k < c.nseg; k++) {
		const struct pl_clock_seg *s = &c.seg[(c.first + k) % PL_CLOCK_SEGMENTS];
		const struct pl_clock_seg *p = &c.seg[(c.first + k - 1) % PL_CLOCK_SEGMENTS];
		assert_int_equal(pl_clock_seg_ns(p, s->tick), s->ns);
	}
	/* Against CLOCK_MONOTONIC over the whole run: within 0.1 %. */
	uint64_t t = pl_ticks(c.tsc), m = pl_mono_ns() - c.mono0;
	uint64_t f = pl_clock_ns(&c, t);
	uint64_t diff = f > m ? f - m : m - f;
	assert_true(diff < m / 1000 + 10000);
}

static void test_tsc(void **state)
{
	(void)state;
	if (!pl_clock_tsc_usable())
		skip();
	check_conversion(true);
}

static void test_monotonic(void **state)
{
	(void)state;
	check_conversion(false);
}

/* More refinements than segments kept: the ring wraps, the newest conversions hold. */
static void test_history_wraps(void **state)
{
	(void)state;
	if (!pl_clock_tsc_usable())
		skip();
	static struct pl_clock_conv c;
	pl_clock_conv_init(&c, true);
	uint64_t t = 0, ns = 0;
	for (uint32_t i = 0; i < PL_CLOCK_SEGMENTS + 20; i++) {
		sleep_us(50);
		pl_clock_conv_refine(&c);
		if (i == PL_CLOCK_SEGMENTS) {
			t = pl_ticks(true);
			ns = pl_clock_ns(&c, t);
		}
	}
	assert_int_equal(c.nseg, PL_CLOCK_SEGMENTS);
	assert_int_equal(pl_clock_ns(&c, t), ns);
	assert_true(pl_clock_ns(&c, c.tick0) <= pl_clock_ns(&c, t));
}

/* pl_clock_ns_hint() returns what pl_clock_ns() does whatever the hint: stale, out of
 * range, or pointing at a slot the segment ring has since reused. Synthetic segments
 * (no sleeping): a full ring whose oldest slot is not slot 0, then a partial one. */
static void check_hint(struct pl_clock_conv *c)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	uint32_t hint = 0;
	struct pl_clock_cache cache = {0};
	const struct pl_clock_seg *old = &c->seg[c->first];
	const struct pl_clock_seg *new = &c->seg[(c->first + c->nseg - 1) % PL_CLOCK_SEGMENTS];
	uint64_t lo = old->tick / 2, span = new->tick + 5000 - lo, t = lo;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		switch (x % 4) {
		case 0: /* anywhere, the hint left as it is */
			t = lo + (x >> 8) % span;
			break;
		case 1: /* rising a little: the usual case */
			t += (x >> 8) % 700;
			break;
		case 2: /* a start a little before the last end */
			t -= t > (x >> 8) % 300 ? (x >> 8) % 300 : 0;
			break;
		default: /* a hint that is no slot, or any slot */
			hint = (uint32_t)(x >> 16);
			break;
		}
		assert_int_equal(pl_clock_ns_hint(c, &hint, t), pl_clock_ns(c, t));
		assert_int_equal(pl_clock_ns_cached(c, &cache, t), pl_clock_ns(c, t));
	}
	/* Exactly at each segment start, and one tick before it. */
	for (uint32_t k = 0; k < c->nseg; k++) {
		uint64_t at = c->seg[(c->first + k) % PL_CLOCK_SEGMENTS].tick;
		assert_int_equal(pl_clock_ns_hint(c, &hint, at), pl_clock_ns(c, at));
		assert_int_equal(pl_clock_ns_hint(c, &hint, at - 1), pl_clock_ns(c, at - 1));
		assert_int_equal(pl_clock_ns_cached(c, &cache, at), pl_clock_ns(c, at));
		assert_int_equal(pl_clock_ns_cached(c, &cache, at - 1), pl_clock_ns(c, at - 1));
	}
}

/* The cache follows a conversion that gains segments: a tick past the newest segment's
 * start converts through the newer one as soon as it is added, and the first segments
 * dropped from a full ring stop converting ticks before the new oldest. */
static void test_cache_follows_refinement(void **state)
{
	(void)state;
	static struct pl_clock_conv c;
	memset(&c, 0, sizeof(c));
	c.nseg = 1;
	c.seg[0] = (struct pl_clock_seg){1000, 0, 1ull << 32};
	struct pl_clock_cache k = {0};
	assert_int_equal(pl_clock_ns_cached(&c, &k, 5000), 4000);
	/* A second segment from tick 3000 on, at half the rate, as refine adds it. */
	c.seg[1] = (struct pl_clock_seg){3000, 2000, 1ull << 31};
	c.nseg = 2;
	c.gen++;
	assert_int_equal(pl_clock_ns_cached(&c, &k, 5000), pl_clock_ns(&c, 5000));
	assert_int_equal(pl_clock_ns_cached(&c, &k, 5000), 3000);
	assert_int_equal(pl_clock_ns_cached(&c, &k, 2000), 1000);
	assert_true(k.lo == 1000 && k.hi == 3000); /* the oldest segment is cached too */
	/* The first one dropped: ticks before 3000 are extrapolated from the second. */
	c.first = 1;
	c.nseg = 1;
	c.gen++;
	assert_int_equal(pl_clock_ns_cached(&c, &k, 2000), pl_clock_ns(&c, 2000));
	assert_int_equal(pl_clock_ns_cached(&c, &k, 2000), 1500);
}

static void test_hint_agrees(void **state)
{
	(void)state;
	static struct pl_clock_conv c;
	memset(&c, 0, sizeof(c));
	c.first = 250;
	c.nseg = PL_CLOCK_SEGMENTS;
	for (uint32_t k = 0; k < c.nseg; k++) /* 1000 ticks each, rates that differ */
		c.seg[(c.first + k) % PL_CLOCK_SEGMENTS] =
		    (struct pl_clock_seg){100000 + 1000 * k, 30000 + 333 * k, (3ull << 31) + k};
	check_hint(&c);
	c.first = 3; /* the ring moved on: slots before 3 hold nothing valid any more */
	c.nseg = 40;
	check_hint(&c);
	c.nseg = 1;
	check_hint(&c);
}

/* The flusher's pattern against a conversion that keeps gaining segments, as
 * pl_clock_conv_refine() adds them (each continuous with the last, a new rate; the
 * oldest dropped once the ring is full): events at rising ticks, each END converting its
 * start too, sometimes far back; every result must be pl_clock_ns()'s. */
static void test_cache_against_growing_conversion(void **state)
{
	(void)state;
	static struct pl_clock_conv c;
	memset(&c, 0, sizeof(c));
	c.tsc = true;
	c.nseg = 1;
	c.seg[0] = (struct pl_clock_seg){1000000, 0, (1ull << 32) + 12345};
	c.gen = 7;
	struct pl_clock_cache k = {0};
	uint64_t x = 0x853c49e6748fea9bu, now = 1000000;
	for (int i = 0; i < 400000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		now += x % 5000;
		if (x % 97 == 0) { /* a refinement */
			const struct pl_clock_seg *last =
			    &c.seg[(c.first + c.nseg - 1) % PL_CLOCK_SEGMENTS];
			if (now > last->tick) {
				uint64_t ns = pl_clock_ns(&c, now);
				if (c.nseg == PL_CLOCK_SEGMENTS) {
					c.first = (c.first + 1) % PL_CLOCK_SEGMENTS;
					c.nseg--;
				}
				c.seg[(c.first + c.nseg) % PL_CLOCK_SEGMENTS] =
				    (struct pl_clock_seg){now, ns,
							  (1ull << 32) - 5000 + (x >> 40) % 10000};
				c.nseg++;
				c.gen++;
			}
		}
		uint64_t back = (x >> 20) % 8 == 0 ? (x >> 24) % 3000000 : (x >> 24) % 3000;
		uint64_t start = now > back ? now - back : 0;
		assert_int_equal(pl_clock_ns_cached(&c, &k, now), pl_clock_ns(&c, now));
		assert_int_equal(pl_clock_ns_cached(&c, &k, start), pl_clock_ns(&c, start));
	}
	assert_int_equal(c.nseg, PL_CLOCK_SEGMENTS); /* the ring wrapped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tsc),
	    cmocka_unit_test(test_monotonic),
	    cmocka_unit_test(test_history_wraps),
	    cmocka_unit_test(test_hint_agrees),
	    cmocka_unit_test(test_cache_follows_refinement),
	    cmocka_unit_test(test_cache_against_growing_conversion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
