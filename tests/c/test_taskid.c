/* SPDX-License-Identifier: MIT */
/* test_taskid.c - task strings: pl_task_format() / pl_task_parse() round trips at every depth
 * bound, malformed strings and short buffers refused with -PL_EINVAL, and
 * pl_action_serialize() limits. Public API only (docs/format.md section 2.4 for the form).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

/* The random seed: $PL_TEST_SEED replays a run; otherwise the clock and pid. */
static uint64_t test_seed(void)
{
	const char *e = getenv("PL_TEST_SEED");
	if (e && *e)
		return strtoull(e, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 24);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: enough to vary levels; the seed is printed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Format, check the text length, parse back, and compare every part. */
static void roundtrip(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth)
{
	char buf[PL_TASK_STR_MAX];
	struct pl_task_ref ref;
	int n = pl_task_format(prefix, seq, level, depth, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	memset(&ref, 0xa5, sizeof(ref));
	assert_int_equal(pl_task_parse(buf, (size_t)n, &ref), 0);
	assert_true(ref.prefix == prefix);
	assert_true(ref.seq == seq);
	assert_int_equal(ref.depth, depth);
	for (uint32_t i = 0; i < depth; i++)
		assert_int_equal(ref.level[i], level[i]);
}

static void test_format_documented_form(void **state)
{
	(void)state;
	char buf[PL_TASK_STR_MAX];
	static const uint32_t lv[] = {2, 1};
	/* The example of docs/format.md 2.4: prefix as 16 hex digits, seq in hex. */
	assert_int_equal(pl_task_format(0x0b4f3e0c9d2a7781ull, 0x1f, lv, 2, buf, sizeof(buf)), 24);
	assert_string_equal(buf, "0b4f3e0c9d2a7781-1f@/2/1");
	assert_int_equal(pl_task_format(1, 0, NULL, 0, buf, sizeof(buf)), 20);
	assert_string_equal(buf, "0000000000000001-0@/");
}

static void test_roundtrip_depth0(void **state)
{
	(void)state;
	roundtrip(1, 1, NULL, 0);
	roundtrip(0x0b4f3e0c9d2a7781ull, 0x1f, NULL, 0);
	roundtrip(UINT64_MAX, UINT64_MAX, NULL, 0);
	roundtrip(UINT64_MAX, 0, NULL, 0);
}

static void test_roundtrip_depth1(void **state)
{
	(void)state;
	static const uint32_t one[] = {1}, big[] = {UINT32_MAX}, mid[] = {1234567};
	roundtrip(0xdeadbeefull, 42, one, 1);
	roundtrip(UINT64_MAX, UINT64_MAX, big, 1);
	roundtrip(1, 0, mid, 1);
}

static void test_roundtrip_max_depth(void **state)
{
	(void)state;
	uint32_t level[PL_TASK_MAX_DEPTH];
	char buf[PL_TASK_STR_MAX];

	/* Longest possible string: it must fit PL_TASK_STR_MAX exactly. */
	for (uint32_t i = 0; i < PL_TASK_MAX_DEPTH; i++)
		level[i] = UINT32_MAX;
	roundtrip(UINT64_MAX, UINT64_MAX, level, PL_TASK_MAX_DEPTH);
	int n = pl_task_format(UINT64_MAX, UINT64_MAX, level, PL_TASK_MAX_DEPTH, buf, sizeof(buf));
	assert_int_equal(n, PL_TASK_STR_MAX - 1);

	uint64_t seed = test_seed();
	print_message("taskid random seed: PL_TEST_SEED=%" PRIu64 "\n", seed);
	rng_state = seed ? seed : 1;
	for (int round = 0; round < 200; round++) {
		uint32_t depth = (uint32_t)(rnd() % (PL_TASK_MAX_DEPTH + 1));
		for (uint32_t i = 0; i < depth; i++) {
			uint64_t r = rnd();
			/* Mix small indexes (the usual case) and full-range ones. */
			level[i] = (uint32_t)(r & 1 ? r % 9 + 1 : (r >> 32) | 1);
		}
		roundtrip(rnd() | 1, rnd() >> (rnd() % 64), level, depth);
	}
}

static void expect_invalid(const char *s, size_t len)
{
	struct pl_task_ref ref;
	int ret = pl_task_parse(s, len, &ref);
	if (ret != -PL_EINVAL)
		fail_msg("pl_task_parse(\"%.*s\") = %d, want -PL_EINVAL", (int)len, s, ret);
}

#define INVALID(lit) expect_invalid((lit), sizeof(lit) - 1)

static void test_parse_malformed(void **state)
{
	(void)state;
	char buf[4096];

	INVALID("");
	INVALID("00000000000000ab-1");	  /* missing '@' and level */
	INVALID("00000000000000ab-1/1");  /* missing '@' */
	INVALID("00000000000000ab-1@");	  /* missing '/' */
	INVALID("00000000000000ab-1@1");  /* missing '/' */
	INVALID("00000000000000ab1@/");	  /* missing '-' */
	INVALID("00000000000000ab-@/");	  /* missing seq */
	INVALID("-1@/");		  /* missing prefix */
	INVALID("00000000000000ab-1@/0"); /* zero level index */
	INVALID("00000000000000ab-1@/3/0");
	INVALID("00000000000000ab-1@/0/3");
	INVALID("00000000000000xy-1@/"); /* non-hex prefix */
	INVALID("g-1@/");
	INVALID(" 00000000000000ab-1@/");
	INVALID("00000000000000ab-1g@/"); /* non-hex seq */
	INVALID("0000000000000000-1@/");  /* prefix 0 */
	INVALID("0-1@/1");
	INVALID("00000000000000001-1@/"); /* 17 hex digits, even with value 1 */
	INVALID("100000000000000000-1@/");
	INVALID("00000000000000ab-00000000000000001@/");
	INVALID("00000000000000ab-1@/4294967296"); /* level > UINT32_MAX */
	INVALID("00000000000000ab-1@/1/99999999999999999999999");
	INVALID("00000000000000ab-1@/-1");
	INVALID("00000000000000ab-1@/+1");
	INVALID("00000000000000ab-1@/1x"); /* trailing garbage */
	INVALID("00000000000000ab-1@/1 ");
	INVALID("00000000000000ab-1@/ ");
	INVALID("00000000000000ab-1@/x");
	INVALID("00000000000000ab-1@/1@/2");
	INVALID("00000000000000ab-1@//"); /* "//" */
	INVALID("00000000000000ab-1@/1//2");
	INVALID("00000000000000ab-1@/1/");  /* trailing '/' */
	INVALID("00000000000000ab-1@/1\0"); /* NUL inside @len */

	/* Too deep: PL_TASK_MAX_DEPTH + 1 levels. */
	int off = snprintf(buf, sizeof(buf), "00000000000000ab-1@");
	for (uint32_t i = 0; i <= PL_TASK_MAX_DEPTH; i++)
		off += snprintf(buf + off, sizeof(buf) - (size_t)off, "/1");
	expect_invalid(buf, (size_t)off);
	/* One level fewer is fine: the limit is exact. */
	struct pl_task_ref ref;
	assert_int_equal(pl_task_parse(buf, (size_t)off - 2, &ref), 0);
	assert_int_equal(ref.depth, PL_TASK_MAX_DEPTH);
}

static void test_parse_boundaries(void **state)
{
	(void)state;
	struct pl_task_ref ref;
	static const char max[] = "ffffffffffffffff-ffffffffffffffff@/4294967295";
	assert_int_equal(pl_task_parse(max, sizeof(max) - 1, &ref), 0);
	assert_true(ref.prefix == UINT64_MAX);
	assert_true(ref.seq == UINT64_MAX);
	assert_int_equal(ref.depth, 1);
	assert_int_equal(ref.level[0], UINT32_MAX);

	/* Short prefixes (fewer than 16 digits) are still hex numbers. */
	static const char short_prefix[] = "ab-2a@/3/1";
	assert_int_equal(pl_task_parse(short_prefix, sizeof(short_prefix) - 1, &ref), 0);
	assert_true(ref.prefix == 0xab);
	assert_true(ref.seq == 0x2a);
	assert_int_equal(ref.depth, 2);
	assert_int_equal(ref.level[0], 3);
	assert_int_equal(ref.level[1], 1);
}

static void test_parse_respects_len(void **state)
{
	(void)state;
	struct pl_task_ref ref;
	static const char s[] = "00000000000000ab-1@/1/2XYZ";
	/* Only the first @len bytes count: the rest is not part of the string. */
	assert_int_equal(pl_task_parse(s, sizeof(s) - 4, &ref), 0);
	assert_int_equal(ref.depth, 2);
	assert_int_equal(ref.level[1], 2);
	assert_int_equal(pl_task_parse(s, sizeof(s) - 6, &ref), 0);
	assert_int_equal(ref.depth, 1);
	assert_int_equal(ref.level[0], 1);
	expect_invalid(s, sizeof(s) - 5); /* ends in "/" */

	/* Not NUL-terminated: an exact-size heap copy lets ASan see any read past the end. */
	static const char t[] = "0b4f3e0c9d2a7781-1f@/2/10";
	char *exact = malloc(sizeof(t) - 1);
	assert_non_null(exact);
	memcpy(exact, t, sizeof(t) - 1);
	assert_int_equal(pl_task_parse(exact, sizeof(t) - 1, &ref), 0);
	assert_true(ref.prefix == 0x0b4f3e0c9d2a7781ull);
	assert_true(ref.seq == 0x1f);
	assert_int_equal(ref.depth, 2);
	assert_int_equal(ref.level[1], 10);
	free(exact);
}

/* Every buffer shorter than the text plus its NUL is refused, and nothing is written
 * past @len. */
static void check_small_buffers(uint64_t prefix, uint64_t seq, const uint32_t *level,
				uint32_t depth)
{
	char want[PL_TASK_STR_MAX], buf[PL_TASK_STR_MAX + 16];
	int n = pl_task_format(prefix, seq, level, depth, want, sizeof(want));
	assert_true(n > 0);
	for (size_t len = 0; len <= (size_t)n + 1; len++) {
		memset(buf, 0x5a, sizeof(buf));
		int ret = pl_task_format(prefix, seq, level, depth, buf, len);
		if (len <= (size_t)n) {
			if (ret != -PL_EINVAL)
				fail_msg("len %zu of %d: got %d, want -PL_EINVAL", len, n, ret);
		} else {
			assert_int_equal(ret, n);
			assert_string_equal(buf, want);
		}
		for (size_t i = len; i < sizeof(buf); i++)
			if (buf[i] != 0x5a)
				fail_msg("len %zu: byte %zu written past the buffer", len, i);
	}
}

/* The text against printf's, built here: ids of every size, levels of every width. */
static void test_format_matches_printf(void **state)
{
	(void)state;
	for (int k = 0; k < 20000; k++) {
		uint64_t prefix = rnd() >> (rnd() % 64), seq = rnd() >> (rnd() % 64);
		uint32_t depth = (uint32_t)(rnd() % (PL_TASK_MAX_DEPTH + 1)),
			 level[PL_TASK_MAX_DEPTH];
		char want[PL_TASK_STR_MAX], got[PL_TASK_STR_MAX];
		int n = snprintf(want, sizeof(want), "%016llx-%llx@", (unsigned long long)prefix,
				 (unsigned long long)seq);
		for (uint32_t i = 0; i < depth; i++) {
			level[i] = (uint32_t)(rnd() >> (32 + rnd() % 32));
			n += snprintf(want + n, sizeof(want) - (size_t)n, "/%u", level[i]);
		}
		if (depth == 0)
			n += snprintf(want + n, sizeof(want) - (size_t)n, "/");
		assert_int_equal(pl_task_format(prefix, seq, level, depth, got, sizeof(got)), n);
		assert_string_equal(got, want);
	}
}

static void test_format_small_buffers(void **state)
{
	(void)state;
	static const uint32_t lv[] = {12, 3, 4000000000u};
	uint32_t deep[PL_TASK_MAX_DEPTH];
	for (uint32_t i = 0; i < PL_TASK_MAX_DEPTH; i++)
		deep[i] = i + 1;
	check_small_buffers(0x0b4f3e0c9d2a7781ull, 0x1f, NULL, 0);
	check_small_buffers(1, 0, lv, 1);
	check_small_buffers(UINT64_MAX, UINT64_MAX, lv, 3);
	check_small_buffers(7, 1234, deep, PL_TASK_MAX_DEPTH);
}

static void test_serialize_limits(void **state)
{
	(void)state;
	/* Actions without a writer record nothing but keep their place in the tree. */
	static pl_action chain[PL_TASK_MAX_DEPTH + 1];
	char buf[PL_TASK_STR_MAX];
	struct pl_task_ref ref;

	pl_action_begin(&chain[0], NULL, NULL, PL_NAME("taskid.chain"), NULL, 0);
	for (uint32_t i = 1; i <= PL_TASK_MAX_DEPTH; i++)
		pl_action_begin(&chain[i], NULL, &chain[i - 1], PL_NAME("taskid.chain"), NULL, 0);

	/* chain[k] is at depth k; its serialized child slot is at depth k + 1. */
	int n = pl_action_serialize(&chain[0], buf, sizeof(buf));
	assert_int_equal((size_t)n, strlen(buf));
	assert_int_equal(pl_task_parse(buf, (size_t)n, &ref), 0);
	assert_int_equal(ref.depth, 1);
	assert_int_equal(ref.level[0], 2); /* slot 1 is chain[1] */
	uint64_t prefix = ref.prefix, seq = ref.seq;
	assert_true(prefix != 0);

	n = pl_action_serialize(&chain[PL_TASK_MAX_DEPTH - 1], buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(pl_task_parse(buf, (size_t)n, &ref), 0);
	assert_true(ref.prefix == prefix);
	assert_true(ref.seq == seq);
	assert_int_equal(ref.depth, PL_TASK_MAX_DEPTH);
	for (uint32_t i = 0; i + 1 < PL_TASK_MAX_DEPTH; i++)
		assert_int_equal(ref.level[i], 1);
	assert_int_equal(ref.level[PL_TASK_MAX_DEPTH - 1], 2); /* slot 1 is the chain */

	/* One deeper cannot be carried across processes. */
	assert_int_equal(pl_action_serialize(&chain[PL_TASK_MAX_DEPTH], buf, sizeof(buf)),
			 -PL_EINVAL);

	/* A buffer too small for the text and its NUL. */
	pl_action root;
	pl_action_begin(&root, NULL, NULL, PL_NAME("taskid.root"), NULL, 0);
	n = pl_action_serialize(&root, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(pl_action_serialize(&root, buf, (size_t)n), -PL_EINVAL);
	assert_int_equal(pl_action_serialize(&root, buf, 0), -PL_EINVAL);
	n = pl_action_serialize(&root, buf, sizeof(buf));
	assert_int_equal(pl_task_parse(buf, (size_t)n, &ref), 0);
	assert_int_equal(ref.depth, 1);
	/* Two top-level actions of one process: same prefix, different sequence numbers. */
	assert_true(ref.prefix == prefix);
	assert_true(ref.seq != seq);

	for (int i = PL_TASK_MAX_DEPTH; i >= 0; i--)
		pl_action_end(&chain[i], NULL, 0);
	pl_action_end(&root, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_documented_form),
	    cmocka_unit_test(test_roundtrip_depth0),
	    cmocka_unit_test(test_roundtrip_depth1),
	    cmocka_unit_test(test_roundtrip_max_depth),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_parse_boundaries),
	    cmocka_unit_test(test_parse_respects_len),
	    cmocka_unit_test(test_format_small_buffers),
	    cmocka_unit_test(test_format_matches_printf),
	    cmocka_unit_test(test_serialize_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
