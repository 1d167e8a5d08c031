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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tsc),
	    cmocka_unit_test(test_monotonic),
	    cmocka_unit_test(test_history_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
