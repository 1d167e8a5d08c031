/* SPDX-License-Identifier: MIT */
/* test_hist.c - analyzer/hist.c against exact nearest-rank quantiles of random samples:
 * the documented bound |reported - exact| <= exact / 256, merging, bucket layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "analysis/hist.h"
#include "test_rng.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t exact(const uint64_t *sorted, size_t n, double q)
{
	uint64_t ppm = (uint64_t)(q * 1e6 + 0.5);
	uint64_t rank = (ppm * n + 999999) / 1000000;
	return sorted[(rank ? rank : 1) - 1];
}

static void check_bound(const struct pf_hist *h, const uint64_t *sorted, size_t n)
{
	static const double qs[] = {0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t e = exact(sorted, n, qs[i]), got = pf_hist_quantile(h, qs[i]);
		uint64_t diff = got > e ? got - e : e - got;
		if (diff * 256 > e)
			fail_msg("q=%g: got %llu, exact %llu", qs[i], (unsigned long long)got,
				 (unsigned long long)e);
	}
}

static void test_random(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		size_t n = 1 + next() % 20000;
		uint64_t *v = malloc(n * sizeof(*v));
		struct pf_hist h, a, b;
		pf_hist_init(&h);
		pf_hist_init(&a);
		pf_hist_init(&b);
		unsigned shift = (unsigned)(next() % 56);
		for (size_t i = 0; i < n; i++) {
			v[i] = next() >> (8 + next() % 8) >> shift; /* wide, skewed ranges */
			assert_int_equal(pf_hist_record(&h, v[i]), 0);
			assert_int_equal(pf_hist_record(i % 2 ? &a : &b, v[i]), 0);
		}
		qsort(v, n, sizeof(*v), cmp_u64);
		check_bound(&h, v, n);
		assert_int_equal(pf_hist_merge(&a, &b), 0);
		assert_int_equal(a.count, n);
		assert_int_equal(a.min, v[0]);
		assert_int_equal(a.max, v[n - 1]);
		for (double q = 0.01; q < 1; q += 0.01)
			assert_int_equal(pf_hist_quantile(&a, q), pf_hist_quantile(&h, q));
		pf_hist_destroy(&h);
		pf_hist_destroy(&a);
		pf_hist_destroy(&b);
		free(v);
	}
}

static void test_layout(void **state)
{
	(void)state;
	uint64_t prev_hi = 0;
	/* Buckets tile the value range with no gap and no overlap, each within 1/128. */
	for (uint32_t i = 0; i < 7424; i++) {
		uint64_t lo, hi;
		pf_hist_bucket_bounds(i, &lo, &hi);
		if (i)
			assert_int_equal(lo, prev_hi + 1);
		assert_true(hi >= lo);
		assert_true((hi - lo) * 128 <= lo);
		assert_int_equal(pf_hist_index(lo), i);
		assert_int_equal(pf_hist_index(hi), i);
		prev_hi = hi;
	}
	assert_int_equal(prev_hi, UINT64_MAX);
}

static void test_edges(void **state)
{
	(void)state;
	struct pf_hist h;
	pf_hist_init(&h);
	assert_int_equal(pf_hist_quantile(&h, 0.5), 0);
	assert_int_equal(pf_hist_record(&h, UINT64_MAX), 0);
	assert_int_equal(pf_hist_record(&h, 0), 0);
	assert_int_equal(pf_hist_quantile(&h, 0.5), 0);
	assert_int_equal(pf_hist_quantile(&h, 1.0), UINT64_MAX);
	pf_hist_destroy(&h);
	pf_hist_init(&h);
	for (uint64_t v = 1; v <= 1000; v++) /* 0.999 * 1000 is rank 999 exactly */
		assert_int_equal(pf_hist_record(&h, v * 1000000), 0);
	uint64_t got = pf_hist_quantile(&h, 0.999), e = 999000000;
	assert_true((got > e ? got - e : e - got) * 256 <= e);
	pf_hist_destroy(&h);
	pf_hist_destroy(NULL);
}

int main(void)
{
	rng_seed("test_hist");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
