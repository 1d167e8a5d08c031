/* SPDX-License-Identifier: MIT */
/* test_mptok.c - pl_mptok_object() (reader/mptok.h): msgpack-c's unpack template turning
 * one record into tokens, with the reader's limits. Internal API.
 *
 * Valid objects built with msgpack-c's own packer are accepted with their exact size;
 * every strict prefix of one is -PL_ETRUNCATED; hostile headers (huge counts and lengths,
 * deep nesting, too many elements; limits of docs/format.md section 3) are refused
 * without allocating; ext types are corrupt.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <malloc.h>
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
#include <msgpack.h>

#include <perflog/status.h>

#include "common/config.h"
#include "reader/mpbytes.h"
#include "reader/mptok.h"

/* docs/format.md 3: "more than 131072 container elements in total" (a map entry counts
 * twice) "or nested deeper than 5". */
#define MAX_ELEMENTS 131072u
#define MAX_NESTING  5u
_Static_assert(2u * PL_READ_MAX_ITEMS == MAX_ELEMENTS, "config.h matches docs/format.md");
_Static_assert(PL_READ_MAX_NESTING == MAX_NESTING, "config.h matches docs/format.md");

/* Objects with at most this many bytes get every prefix checked from an exact-size heap
 * copy (ASan catches any read past it); larger ones a sample. */
#define ALL_PREFIXES_MAX 4096u

struct pk {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void pk_init(struct pk *p)
{
	msgpack_sbuffer_init(&p->sb);
	msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

static void pk_free(struct pk *p)
{
	msgpack_sbuffer_destroy(&p->sb);
}

/* Bytes of heap in use (glibc); under ASan mallinfo2() reports zeros, so the comparison
 * below holds trivially there and the non-ASan build is the one that checks. */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* One token list for the whole run, as the reader keeps one per file. */
static struct pl_mptok tk;

/* Tokenize; the token list may grow only with the bytes actually present (a token is at
 * least one byte), never with a count read from a header. */
static int check(const uint8_t *p, size_t len, size_t *size)
{
	size_t before = heap_in_use();
	int ret = pl_mptok_object(&tk, p, len, size);
	size_t after = heap_in_use();
	if (after > before && after - before > 2 * sizeof(struct pl_tok) * (len + 64))
		fail_msg("pl_mptok_object grew the heap by %zu bytes for %zu bytes of input",
			 after - before, len);
	return ret;
}

static int check_exact(const uint8_t *obj, size_t len, size_t *size)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, obj, len);
	int ret = check(copy, len, size);
	free(copy);
	return ret;
}

static void expect_truncated_prefix(const uint8_t *obj, size_t k)
{
	size_t size = 12345;
	int ret = check_exact(obj, k, &size);
	if (ret != -PL_ETRUNCATED)
		fail_msg("prefix of %zu bytes: %d, want -PL_ETRUNCATED", k, ret);
}

/* @obj (@len bytes) is one valid object: accepted alone and followed by other bytes,
 * with its exact size; each strict prefix is truncated. */
static void expect_valid(const uint8_t *obj, size_t len, const char *what)
{
	size_t size = 0;
	int ret = check_exact(obj, len, &size);
	if (ret != 0 || size != len)
		fail_msg("%s (%zu bytes): ret %d size %zu", what, len, ret, size);

	/* Trailing bytes are not part of the object (0xc1 is never valid msgpack). */
	uint8_t *more = malloc(len + 16);
	assert_non_null(more);
	memcpy(more, obj, len);
	memset(more + len, 0xc1, 16);
	size = 0;
	ret = check(more, len + 16, &size);
	if (ret != 0 || size != len)
		fail_msg("%s with trailing bytes: ret %d size %zu, want %zu", what, ret, size, len);
	free(more);

	if (len <= ALL_PREFIXES_MAX) {
		for (size_t k = 0; k < len; k++)
			expect_truncated_prefix(obj, k);
	} else {
		const size_t ks[] = {0, 1, 2,  3,	4,	 5,	  6,
				     8, 9, 16, len / 3, len / 2, len - 2, len - 1};
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
			expect_truncated_prefix(obj, ks[i]);
	}
}

typedef void (*build_fn)(msgpack_packer *pk);

static void b_nil(msgpack_packer *pk)
{
	msgpack_pack_nil(pk);
}
static void b_true(msgpack_packer *pk)
{
	msgpack_pack_true(pk);
}
static void b_false(msgpack_packer *pk)
{
	msgpack_pack_false(pk);
}
static void b_fixint(msgpack_packer *pk)
{
	msgpack_pack_int(pk, 5);
}
static void b_negfixint(msgpack_packer *pk)
{
	msgpack_pack_int(pk, -7);
}
static void b_uint8(msgpack_packer *pk)
{
	msgpack_pack_uint8(pk, 200);
}
static void b_uint16(msgpack_packer *pk)
{
	msgpack_pack_uint16(pk, 60000);
}
static void b_uint32(msgpack_packer *pk)
{
	msgpack_pack_uint32(pk, 4000000000u);
}
static void b_uint64(msgpack_packer *pk)
{
	msgpack_pack_uint64(pk, UINT64_MAX);
}
static void b_int8(msgpack_packer *pk)
{
	msgpack_pack_int8(pk, -100);
}
static void b_int16(msgpack_packer *pk)
{
	msgpack_pack_int16(pk, -30000);
}
static void b_int32(msgpack_packer *pk)
{
	msgpack_pack_int32(pk, INT32_MIN);
}
static void b_int64(msgpack_packer *pk)
{
	msgpack_pack_int64(pk, INT64_MIN);
}
static void b_float(msgpack_packer *pk)
{
	msgpack_pack_float(pk, 1.5f);
}
static void b_double(msgpack_packer *pk)
{
	msgpack_pack_double(pk, -0.0);
}

static void pack_str_n(msgpack_packer *pk, size_t n)
{
	char *s = malloc(n ? n : 1);
	assert_non_null(s);
	memset(s, 'q', n);
	msgpack_pack_str_with_body(pk, s, n);
	free(s);
}

static void pack_bin_n(msgpack_packer *pk, size_t n)
{
	char *s = calloc(1, n ? n : 1);
	assert_non_null(s);
	msgpack_pack_bin_with_body(pk, s, n);
	free(s);
}

static void b_str0(msgpack_packer *pk)
{
	pack_str_n(pk, 0);
}
static void b_fixstr(msgpack_packer *pk)
{
	pack_str_n(pk, 31);
}
static void b_str8(msgpack_packer *pk)
{
	pack_str_n(pk, 200);
}
static void b_str16(msgpack_packer *pk)
{
	pack_str_n(pk, 3000);
}
static void b_str32(msgpack_packer *pk)
{
	pack_str_n(pk, 70000);
}
static void b_bin0(msgpack_packer *pk)
{
	pack_bin_n(pk, 0);
}
static void b_bin8(msgpack_packer *pk)
{
	pack_bin_n(pk, 100);
}
static void b_bin16(msgpack_packer *pk)
{
	pack_bin_n(pk, 1000);
}
static void b_bin32(msgpack_packer *pk)
{
	pack_bin_n(pk, 70000);
}

static void b_arr0(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 0);
}
static void b_map0(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 0);
}

static void b_fixarray(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 15);
	for (int i = 0; i < 15; i++)
		msgpack_pack_int(pk, i * 1000);
}

static void b_array16(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 300);
	for (int i = 0; i < 300; i++) {
		if (i % 3)
			msgpack_pack_nil(pk);
		else
			pack_str_n(pk, (size_t)i % 7);
	}
}

static void b_fixmap(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 15);
	for (int i = 0; i < 15; i++) {
		msgpack_pack_uint32(pk, (uint32_t)i);
		msgpack_pack_double(pk, i / 3.0);
	}
}

static void b_map16(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 100);
	for (int i = 0; i < 100; i++) {
		pack_str_n(pk, 3);
		msgpack_pack_int64(pk, -i);
	}
}

/* A START record as the writer lays it out: [1, dts, type, task, level, fields]. */
static void b_record(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 6);
	msgpack_pack_uint8(pk, 1);
	msgpack_pack_int64(pk, -3);
	msgpack_pack_uint32(pk, 17);
	msgpack_pack_int64(pk, 1);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint32(pk, 2);
	msgpack_pack_uint32(pk, 1);
	msgpack_pack_map(pk, 3);
	msgpack_pack_uint32(pk, 4);
	msgpack_pack_array(pk, 2);
	msgpack_pack_true(pk);
	pack_bin_n(pk, 3);
	msgpack_pack_uint32(pk, 5);
	msgpack_pack_map(pk, 1);
	pack_str_n(pk, 1);
	msgpack_pack_nil(pk);
	msgpack_pack_uint32(pk, 6);
	pack_str_n(pk, 40);
}

/* [[[[[1]]]]]: as deep as allowed. */
static void b_max_nesting(msgpack_packer *pk)
{
	for (unsigned i = 0; i < MAX_NESTING; i++)
		msgpack_pack_array(pk, 1);
	msgpack_pack_int(pk, 1);
}

/* Maps and arrays mixed, as deep as allowed, with siblings after the deep part. */
static void b_max_nesting_mixed(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 2);
	msgpack_pack_map(pk, 1);
	msgpack_pack_int(pk, 1);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 2);
	pack_str_n(pk, 1);
	msgpack_pack_array(pk, 2);
	msgpack_pack_nil(pk);
	msgpack_pack_int(pk, 3);
	pack_str_n(pk, 2);
	msgpack_pack_nil(pk);
	msgpack_pack_int(pk, 9);
}

/* MAX_ELEMENTS elements exactly, split over two containers and their parent. */
static void b_max_elements(msgpack_packer *pk)
{
	uint32_t half = (MAX_ELEMENTS - 2) / 2;
	msgpack_pack_array(pk, 2);
	for (int k = 0; k < 2; k++) {
		msgpack_pack_array(pk, half);
		for (uint32_t i = 0; i < half; i++)
			msgpack_pack_nil(pk);
	}
}

/* A map of MAX_ELEMENTS / 2 entries: MAX_ELEMENTS elements. */
static void b_max_map(msgpack_packer *pk)
{
	msgpack_pack_map(pk, MAX_ELEMENTS / 2);
	for (uint32_t i = 0; i < MAX_ELEMENTS / 2; i++) {
		msgpack_pack_nil(pk);
		msgpack_pack_true(pk);
	}
}

static const struct {
	const char *name;
	build_fn fn;
} valid[] = {
    {"nil", b_nil},
    {"true", b_true},
    {"false", b_false},
    {"fixint", b_fixint},
    {"negfixint", b_negfixint},
    {"uint8", b_uint8},
    {"uint16", b_uint16},
    {"uint32", b_uint32},
    {"uint64", b_uint64},
    {"int8", b_int8},
    {"int16", b_int16},
    {"int32", b_int32},
    {"int64", b_int64},
    {"float32", b_float},
    {"float64", b_double},
    {"str0", b_str0},
    {"fixstr", b_fixstr},
    {"str8", b_str8},
    {"str16", b_str16},
    {"str32", b_str32},
    {"bin0", b_bin0},
    {"bin8", b_bin8},
    {"bin16", b_bin16},
    {"bin32", b_bin32},
    {"array0", b_arr0},
    {"map0", b_map0},
    {"fixarray", b_fixarray},
    {"array16", b_array16},
    {"fixmap", b_fixmap},
    {"map16", b_map16},
    {"record", b_record},
    {"max nesting", b_max_nesting},
    {"max nesting mixed", b_max_nesting_mixed},
    {"max elements", b_max_elements},
    {"max map", b_max_map},
};

static void test_valid_objects(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct pk p;
		pk_init(&p);
		valid[i].fn(&p.pk);
		expect_valid((const uint8_t *)p.sb.data, p.sb.size, valid[i].name);
		pk_free(&p);
	}
}

static void test_sequence(void **state)
{
	/* Objects back to back: each call measures only the first. */
	(void)state;
	struct pk p;
	pk_init(&p);
	b_record(&p.pk);
	size_t first = p.sb.size;
	b_map16(&p.pk);
	size_t second = p.sb.size - first;
	b_nil(&p.pk);
	size_t size = 0;
	const uint8_t *d = (const uint8_t *)p.sb.data;
	assert_int_equal(check(d, p.sb.size, &size), 0);
	assert_int_equal(size, first);
	assert_int_equal(check(d + first, p.sb.size - first, &size), 0);
	assert_int_equal(size, second);
	assert_int_equal(check(d + first + second, 1, &size), 0);
	assert_int_equal(size, 1);
	pk_free(&p);
}

/* ---- random valid objects ---- */

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
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static void gen(msgpack_packer *pk, unsigned depth)
{
	uint64_t r = rnd();
	unsigned kind = (unsigned)(r % 16);
	if (depth < MAX_NESTING && kind >= 13) {
		uint32_t n = (uint32_t)((r >> 8) % 5);
		if (kind == 15) {
			msgpack_pack_map(pk, n);
			for (uint32_t i = 0; i < n; i++) {
				pack_str_n(pk, (size_t)((r >> 16) + i) % 6);
				gen(pk, depth + 1);
			}
		} else {
			msgpack_pack_array(pk, n);
			for (uint32_t i = 0; i < n; i++)
				gen(pk, depth + 1);
		}
		return;
	}
	switch (kind % 10) {
	case 0:
		msgpack_pack_nil(pk);
		break;
	case 1:
		msgpack_pack_true(pk);
		break;
	case 2:
		msgpack_pack_uint64(pk, rnd() >> (rnd() % 64));
		break;
	case 3:
		msgpack_pack_int64(pk, -(int64_t)(rnd() >> (1 + rnd() % 63)));
		break;
	case 4:
		msgpack_pack_double(pk, (double)(r >> 11) / 7.0);
		break;
	case 5:
		msgpack_pack_float(pk, (float)(r % 1000));
		break;
	case 6:
		pack_str_n(pk, (size_t)(r >> 20) % 40);
		break;
	case 7:
		pack_bin_n(pk, (size_t)(r >> 20) % 300);
		break;
	case 8:
		pack_str_n(pk, 256 + (size_t)(r >> 20) % 64);
		break;
	default:
		msgpack_pack_int(pk, (int)(r >> 40) % 200 - 100);
		break;
	}
}

static void test_random_objects(void **state)
{
	(void)state;
	uint64_t seed = test_seed();
	print_message("mptok random seed: PL_TEST_SEED=%" PRIu64 "\n", seed);
	rng_state = seed ? seed : 1;
	char what[64];
	for (int i = 0; i < 300; i++) {
		struct pk p;
		pk_init(&p);
		gen(&p.pk, 0);
		snprintf(what, sizeof(what), "random object %d (seed %" PRIu64 ")", i, seed);
		expect_valid((const uint8_t *)p.sb.data, p.sb.size, what);
		pk_free(&p);
	}
}

/* ---- hostile headers ---- */

static void expect_refused(const uint8_t *buf, size_t len, const char *what)
{
	size_t size = 0;
	int ret = check_exact(buf, len, &size);
	if (ret != -PL_ETRUNCATED && ret != -PL_ELIMIT)
		fail_msg("%s: %d, want -PL_ETRUNCATED or -PL_ELIMIT", what, ret);
}

static void test_huge_counts(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		uint8_t bytes[10];
	} cases[] = {
	    {"array32 of 4G", {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0}},
	    {"map32 of 4G", {0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0}},
	    {"array16 of 0xFFFF", {0xdc, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0}},
	    {"map16 of 0xFFFF", {0xde, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0}},
	    {"str32 of 0xFFFFFFFF", {0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd', 'e'}},
	    {"bin32 of 0xFFFFFFFF", {0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5}},
	    {"str16 of 0xFFFF", {0xda, 0xff, 0xff, 'a', 'b', 'c', 'd', 'e', 'f', 'g'}},
	    {"array of array32", {0x91, 0xdd, 0x7f, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0}},
	    {"map value str32", {0x81, 0xc0, 0xdb, 0x80, 0x00, 0x00, 0x00, 'x', 'y', 'z'}},
	    {"fixarray of 15", {0x9f, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_refused(cases[i].bytes, sizeof(cases[i].bytes), cases[i].what);

	/* A string whose length runs past the buffer is truncated, as the contract says. */
	size_t size;
	assert_int_equal(check_exact(cases[4].bytes, 10, &size), -PL_ETRUNCATED);
}

static void test_nesting(void **state)
{
	(void)state;
	uint8_t buf[2048];
	size_t size;
	/* One level deeper than allowed. */
	memset(buf, 0x91, MAX_NESTING + 1);
	buf[MAX_NESTING + 1] = 0x01;
	assert_int_equal(check_exact(buf, MAX_NESTING + 2, &size), -PL_ELIMIT);
	/* The same through maps: {nil: {nil: ... 1}}. */
	for (unsigned i = 0; i <= MAX_NESTING; i++) {
		buf[2 * i] = 0x81;
		buf[2 * i + 1] = 0xc0;
	}
	buf[2 * (MAX_NESTING + 1)] = 0x01;
	assert_int_equal(check_exact(buf, 2 * (MAX_NESTING + 1) + 1, &size), -PL_ELIMIT);
	/* Far too deep: refused, not recursed into. */
	memset(buf, 0x91, sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = 0x01;
	assert_int_equal(check_exact(buf, sizeof(buf), &size), -PL_ELIMIT);
	memset(buf, 0xdd, sizeof(buf));
	for (size_t i = 0; i + 5 <= sizeof(buf); i += 5)
		memcpy(buf + i, "\xdd\x00\x00\x00\x01", 5);
	expect_refused(buf, sizeof(buf), "deep array32 chain");
}

static void test_too_many_elements(void **state)
{
	(void)state;
	struct pk p;
	size_t size;

	/* One flat array one element over the limit. */
	pk_init(&p);
	msgpack_pack_array(&p.pk, MAX_ELEMENTS + 1);
	for (uint32_t i = 0; i <= MAX_ELEMENTS; i++)
		msgpack_pack_nil(&p.pk);
	assert_int_equal(check_exact((const uint8_t *)p.sb.data, p.sb.size, &size), -PL_ELIMIT);
	pk_free(&p);

	/* All containers together: three arrays whose sum is over the limit. */
	pk_init(&p);
	uint32_t part = (MAX_ELEMENTS - 2) / 2;
	msgpack_pack_array(&p.pk, 3);
	for (int k = 0; k < 2; k++) {
		msgpack_pack_array(&p.pk, part);
		for (uint32_t i = 0; i < part; i++)
			msgpack_pack_nil(&p.pk);
	}
	msgpack_pack_nil(&p.pk);
	assert_int_equal(check_exact((const uint8_t *)p.sb.data, p.sb.size, &size), -PL_ELIMIT);
	pk_free(&p);

	/* A map entry counts twice. */
	pk_init(&p);
	msgpack_pack_map(&p.pk, MAX_ELEMENTS / 2 + 1);
	for (uint32_t i = 0; i <= MAX_ELEMENTS / 2; i++) {
		msgpack_pack_nil(&p.pk);
		msgpack_pack_nil(&p.pk);
	}
	assert_int_equal(check_exact((const uint8_t *)p.sb.data, p.sb.size, &size), -PL_ELIMIT);
	pk_free(&p);

	/* Many small containers: their elements add up too. */
	pk_init(&p);
	uint32_t outer = MAX_ELEMENTS / 8;
	msgpack_pack_array(&p.pk, outer);
	for (uint32_t i = 0; i < outer; i++) {
		msgpack_pack_array(&p.pk, 8);
		for (int k = 0; k < 8; k++)
			msgpack_pack_nil(&p.pk);
	}
	assert_int_equal(check_exact((const uint8_t *)p.sb.data, p.sb.size, &size), -PL_ELIMIT);
	pk_free(&p);
}

/* ---- ext types ---- */

static void test_ext_rejected(void **state)
{
	(void)state;
	static const size_t lens[] = {1, 2, 4, 8, 16, 3, 0, 300, 70000};
	char *body = calloc(1, 70000);
	assert_non_null(body);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int nested = 0; nested < 2; nested++) {
			struct pk p;
			size_t size;
			pk_init(&p);
			if (nested) {
				msgpack_pack_array(&p.pk, 2);
				msgpack_pack_nil(&p.pk);
			}
			msgpack_pack_ext_with_body(&p.pk, body, lens[i], 7);
			int ret = check_exact((const uint8_t *)p.sb.data, p.sb.size, &size);
			if (ret != -PL_ECORRUPT)
				fail_msg(
				    "ext of %zu bytes%s (type byte 0x%02x): %d, want -PL_ECORRUPT",
				    lens[i], nested ? " in an array" : "",
				    (uint8_t)p.sb.data[nested ? 2 : 0], ret);
			pk_free(&p);
		}
	}
	free(body);

	/* 0xc1 is never used by msgpack. */
	static const uint8_t c1[] = {0xc1};
	size_t size;
	assert_int_equal(check_exact(c1, 1, &size), -PL_ECORRUPT);
	static const uint8_t in_map[] = {0x81, 0xa1, 'k', 0xc1};
	assert_int_equal(check_exact(in_map, sizeof(in_map), &size), -PL_ECORRUPT);
}

/* The tokens themselves: types and values in pre-order, strings as views into the input,
 * every integer encoding folded into UINT/INT, and the cursor skipping whole subtrees. */
static void test_tokens(void **state)
{
	(void)state;
	struct pk p;
	pk_init(&p);
	msgpack_pack_array(&p.pk, 9);
	msgpack_pack_uint8(&p.pk, 2);
	msgpack_pack_fix_int64(&p.pk, -5); /* 9 bytes, not a fixint */
	msgpack_pack_fix_int8(&p.pk, 7);   /* a non-negative value in a signed encoding */
	msgpack_pack_array(&p.pk, 2);
	msgpack_pack_uint64(&p.pk, UINT64_MAX);
	msgpack_pack_fix_uint32(&p.pk, 300);
	msgpack_pack_true(&p.pk);
	msgpack_pack_nil(&p.pk);
	msgpack_pack_float(&p.pk, 1.5f);
	pack_str_n(&p.pk, 3);
	msgpack_pack_map(&p.pk, 1);
	pack_bin_n(&p.pk, 2);
	msgpack_pack_array(&p.pk, 1);
	msgpack_pack_double(&p.pk, -2.25);
	const uint8_t *d = (const uint8_t *)p.sb.data;
	size_t size = 0;
	assert_int_equal(check(d, p.sb.size, &size), 0);
	assert_int_equal(size, p.sb.size);
	const struct {
		enum pl_tok_type type;
		uint32_t n;
		uint64_t u;
	} want[] = {
	    {PL_T_ARRAY, 9, 0},	 {PL_T_UINT, 0, 2},  {PL_T_INT, 0, (uint64_t)-5},
	    {PL_T_UINT, 0, 7},	 {PL_T_ARRAY, 2, 0}, {PL_T_UINT, 0, UINT64_MAX},
	    {PL_T_UINT, 0, 300}, {PL_T_BOOL, 0, 1},  {PL_T_NIL, 0, 0},
	    {PL_T_FLOAT, 0, 0},	 {PL_T_STR, 3, 0},   {PL_T_MAP, 1, 0},
	    {PL_T_BIN, 2, 0},	 {PL_T_ARRAY, 1, 0}, {PL_T_FLOAT, 0, 0},
	};
	const size_t nwant = sizeof(want) / sizeof(want[0]);
	assert_int_equal(tk.n, nwant);
	for (size_t i = 0; i < nwant; i++) {
		assert_int_equal(tk.tok[i].type, want[i].type);
		assert_int_equal(tk.tok[i].n, want[i].n);
		if (want[i].type == PL_T_UINT || want[i].type == PL_T_INT ||
		    want[i].type == PL_T_BOOL)
			assert_true(tk.tok[i].v.u == want[i].u);
	}
	assert_true(tk.tok[9].v.f == 1.5);
	assert_true(tk.tok[14].v.f == -2.25);
	/* Strings and bytes are views into the input. */
	const char *lo = (const char *)d, *hi = lo + size;
	assert_true(tk.tok[10].v.p > lo && tk.tok[10].v.p + 3 <= hi);
	assert_memory_equal(tk.tok[10].v.p, "qqq", 3);
	assert_true(tk.tok[12].v.p > tk.tok[10].v.p && tk.tok[12].v.p + 2 <= hi);
	assert_memory_equal(tk.tok[12].v.p, "\0\0", 2);

	/* The cursor: element by element, containers skipped whole. */
	struct pl_tcur c = {tk.tok, 1, tk.n};
	uint64_t u;
	int64_t i;
	assert_true(pl_tcur_u64(&c, &u) && u == 2);
	assert_false(pl_tcur_u64(&c, &u)); /* -5 is not unsigned: nothing consumed */
	assert_true(pl_tcur_i64(&c, &i) && i == -5);
	assert_true(pl_tcur_i64(&c, &i) && i == 7);
	assert_null(pl_tcur_take(&c, PL_T_MAP));
	assert_true(pl_tcur_skip(&c)); /* [UINT64_MAX, 300] */
	assert_int_equal(c.i, 7);
	assert_non_null(pl_tcur_take(&c, PL_T_BOOL));
	for (int k = 0; k < 3; k++)
		assert_true(pl_tcur_skip(&c));
	assert_true(pl_tcur_skip(&c)); /* {bin: [double]} */
	assert_null(pl_tcur_peek(&c));
	assert_false(pl_tcur_skip(&c));
	pk_free(&p);
}

/* pl_b_skip_scalar() (the reader's skipped fields) accepts exactly the bytes
 * pl_b_scalar() (kept fields) accepts and stops where it stops: every first byte,
 * followed by random bytes or by lengths that fit, overrun or end the buffer; each
 * buffer an exact-size heap copy, so that ASan catches a read past it. */
static void check_skip(const uint8_t *bytes, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memcpy(buf, bytes, len);
	struct pl_bcur a = {buf, buf + len}, b = a;
	pl_value v;
	bool ok_a = pl_b_scalar(&a, &v), ok_b = pl_b_skip_scalar(&b);
	if (ok_a != ok_b || (ok_a && a.p != b.p))
		fail_msg("first byte 0x%02x, %zu bytes: scalar %d at %td, skip %d at %td",
			 len ? bytes[0] : 0, len, ok_a, a.p - buf, ok_b, b.p - buf);
	free(buf);
}

static void test_skip_scalar_agrees(void **state)
{
	(void)state;
	uint64_t x = 0x2545f4914f6cdd1du;
	uint8_t bytes[64] = {0};
	check_skip(bytes, 0);
	for (unsigned first = 0; first < 256; first++) {
		for (size_t len = 1; len <= sizeof(bytes); len++) {
			for (int rep = 0; rep < 4; rep++) {
				bytes[0] = (uint8_t)first;
				for (size_t i = 1; i < len; i++) {
					x ^= x << 13, x ^= x >> 7, x ^= x << 17;
					/* Small lengths too, so that str/bin bodies fit at times.
					 */
					bytes[i] = rep < 2 && i < 5 ? (uint8_t)(x % 8) : (uint8_t)x;
				}
				check_skip(bytes, len);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_objects),
	    cmocka_unit_test(test_sequence),
	    cmocka_unit_test(test_random_objects),
	    cmocka_unit_test(test_huge_counts),
	    cmocka_unit_test(test_nesting),
	    cmocka_unit_test(test_too_many_elements),
	    cmocka_unit_test(test_ext_rejected),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_skip_scalar_agrees),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	pl_mptok_free(&tk);
	return failed;
}
