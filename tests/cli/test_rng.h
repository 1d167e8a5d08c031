/* SPDX-License-Identifier: MIT */
/* test_rng.h - the analyzer unit tests' random numbers: xorshift64*, seeded from
 * TEST_SEED or the clock and printed, so that a failing run can be repeated. */
#ifndef PERFAN_TEST_RNG_H
#define PERFAN_TEST_RNG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t rng;

static inline uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

/* Seed from TEST_SEED (or the clock) and print it with @name. */
static inline void rng_seed(const char *name)
{
	const char *s = getenv("TEST_SEED");
	rng = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + 1;
	if (!rng)
		rng = 1;
	printf("%s: TEST_SEED=%llu\n", name, (unsigned long long)rng);
}

#endif /* PERFAN_TEST_RNG_H */
