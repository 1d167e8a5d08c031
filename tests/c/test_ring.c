/* SPDX-License-Identifier: MIT */
/* test_ring.c - the per-thread SPSC byte ring (writer/ring.h), internal API.
 *
 * Edge cases of reserve/commit/peek/consume: an empty ring, an exact fill, a full ring
 * refusing, wrap-around writing a PAD event (kind 0, size = bytes to the ring's end) that
 * the consumer sees, no PAD when the wrapped event does not fit, and reserving again after
 * consuming. Then a two-thread producer/consumer stress with sequence numbers: every
 * item arrives once, in order, intact.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
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

#include "writer/event.h"
#include "writer/ring.h"

#define CAP 4096u

static int setup(void **state)
{
	struct pl_ring *tb = pl_ring_new(CAP);
	if (!tb)
		return -1;
	*state = tb;
	return 0;
}

static int teardown(void **state)
{
	/* A new ring has two references: its thread's and its writer's. */
	struct pl_ring *tb = *state;
	pl_ring_unref(tb);
	pl_ring_unref(tb);
	return 0;
}

/* Write an item of @n bytes at @p: a size/kind header like a staged event, then a
 * pattern derived from @seq, and commit it. */
static void put(struct pl_ring *tb, void *p, uint32_t n, uint64_t seq)
{
	uint8_t *b = p;
	memcpy(b, &n, 4);
	b[4] = PL_EV_START;
	for (uint32_t i = 5; i < n; i++)
		b[i] = (uint8_t)(seq * 31 + i);
	pl_ring_commit(tb, n);
}

static void check_item(const uint8_t *b, uint32_t n, uint64_t seq)
{
	uint32_t size;
	memcpy(&size, b, 4);
	assert_int_equal(size, n);
	assert_int_equal(b[4], PL_EV_START);
	for (uint32_t i = 5; i < n; i++)
		if (b[i] != (uint8_t)(seq * 31 + i))
			fail_msg("item %" PRIu64 ": byte %u is %u", seq, i, b[i]);
}

/* Consume and check the ring's PAD: it must lie at @pos and run to the ring's end. */
static void consume_pad(struct pl_ring *tb, const uint8_t *base, uint64_t pos)
{
	uint64_t len;
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_ptr_equal(q, base + pos);
	assert_int_equal(len, CAP - pos);
	const struct pl_ev *pad = (const struct pl_ev *)q;
	assert_int_equal(pad->kind, PL_EV_PAD);
	assert_int_equal(pad->size, CAP - pos);
	pl_ring_consume(tb, pad->size);
}

static void test_empty(void **state)
{
	struct pl_ring *tb = *state;
	uint64_t len = 123;
	assert_int_equal(pl_ring_used(tb), 0);
	(void)pl_ring_peek(tb, &len);
	assert_int_equal(len, 0);
	/* Larger than the ring: never fits. */
	assert_null(pl_ring_reserve(tb, CAP + 8));
	assert_null(pl_ring_reserve(tb, 2 * CAP));
	assert_int_equal(pl_ring_used(tb), 0);
}

static void test_exact_fill(void **state)
{
	struct pl_ring *tb = *state;
	uint8_t *p = pl_ring_reserve(tb, CAP);
	assert_non_null(p);
	put(tb, p, CAP, 1);
	assert_int_equal(pl_ring_used(tb), CAP);
	assert_null(pl_ring_reserve(tb, 8));
	assert_int_equal(pl_ring_used(tb), CAP);

	uint64_t len;
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_ptr_equal(q, p);
	assert_int_equal(len, CAP);
	check_item(q, CAP, 1);
	pl_ring_consume(tb, CAP);
	assert_int_equal(pl_ring_used(tb), 0);

	/* The whole ring is free again, starting at its beginning. */
	uint8_t *p2 = pl_ring_reserve(tb, CAP);
	assert_ptr_equal(p2, p);
	put(tb, p2, CAP, 2);
	q = pl_ring_peek(tb, &len);
	assert_int_equal(len, CAP);
	check_item(q, CAP, 2);
	pl_ring_consume(tb, CAP);
}

static void test_fill_in_pieces(void **state)
{
	struct pl_ring *tb = *state;
	uint8_t *base = NULL;
	for (uint64_t i = 0; i < CAP / 512; i++) {
		uint8_t *p = pl_ring_reserve(tb, 512);
		assert_non_null(p);
		if (!base)
			base = p;
		assert_ptr_equal(p, base + i * 512);
		put(tb, p, 512, i);
	}
	assert_int_equal(pl_ring_used(tb), CAP);
	assert_null(pl_ring_reserve(tb, 8));
	assert_null(pl_ring_reserve(tb, 512));

	/* Consuming one item frees exactly its room, at the ring's start. */
	uint64_t len;
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_int_equal(len, CAP);
	check_item(q, 512, 0);
	pl_ring_consume(tb, 512);
	assert_null(pl_ring_reserve(tb, 520));
	uint8_t *p = pl_ring_reserve(tb, 512);
	assert_ptr_equal(p, base);
	put(tb, p, 512, 8);
	assert_null(pl_ring_reserve(tb, 8));

	/* The consumer sees the rest in order, up to the ring's end, then from its start. */
	q = pl_ring_peek(tb, &len);
	assert_ptr_equal(q, base + 512);
	assert_int_equal(len, CAP - 512);
	for (uint64_t i = 1; i < CAP / 512; i++)
		check_item(q + (i - 1) * 512, 512, i);
	pl_ring_consume(tb, len);
	q = pl_ring_peek(tb, &len);
	assert_ptr_equal(q, base);
	assert_int_equal(len, 512);
	check_item(q, 512, 8);
	pl_ring_consume(tb, 512);
	assert_int_equal(pl_ring_used(tb), 0);
}

static void test_partial_fill_no_wrap(void **state)
{
	struct pl_ring *tb = *state;
	uint8_t *p = pl_ring_reserve(tb, CAP - 96);
	assert_non_null(p);
	put(tb, p, CAP - 96, 1);
	/* 104 bytes do not fit before the end, and the start is still in use. */
	assert_null(pl_ring_reserve(tb, 104));
	assert_int_equal(pl_ring_used(tb), CAP - 96);
	/* 96 bytes end exactly at the ring's end: no PAD. */
	uint8_t *p2 = pl_ring_reserve(tb, 96);
	assert_ptr_equal(p2, p + CAP - 96);
	put(tb, p2, 96, 2);
	assert_int_equal(pl_ring_used(tb), CAP);
	uint64_t len;
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_int_equal(len, CAP);
	check_item(q, CAP - 96, 1);
	check_item(q + CAP - 96, 96, 2);
	pl_ring_consume(tb, CAP);
}

static void test_wrap_writes_pad(void **state)
{
	struct pl_ring *tb = *state;
	uint64_t len;
	uint8_t *base = pl_ring_reserve(tb, 3072);
	assert_non_null(base);
	put(tb, base, 3072, 1);
	(void)pl_ring_peek(tb, &len);
	pl_ring_consume(tb, len);

	/* 2048 bytes do not fit in the last 1024: a PAD fills them, the item goes first. */
	uint8_t *p = pl_ring_reserve(tb, 2048);
	assert_ptr_equal(p, base);
	/* The PAD is visible to the consumer already; the item is not until committed. */
	assert_int_equal(pl_ring_used(tb), 1024);
	put(tb, p, 2048, 2);
	assert_int_equal(pl_ring_used(tb), 3072);

	consume_pad(tb, base, 3072);
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_ptr_equal(q, base);
	assert_int_equal(len, 2048);
	check_item(q, 2048, 2);
	pl_ring_consume(tb, 2048);
	assert_int_equal(pl_ring_used(tb), 0);

	/* And reserving goes on after it. */
	p = pl_ring_reserve(tb, 2048);
	assert_ptr_equal(p, base + 2048);
	put(tb, p, 2048, 3);
	q = pl_ring_peek(tb, &len);
	assert_int_equal(len, 2048);
	check_item(q, 2048, 3);
	pl_ring_consume(tb, 2048);
}

static void test_wrap_without_room(void **state)
{
	struct pl_ring *tb = *state;
	uint64_t len;
	uint8_t *base = pl_ring_reserve(tb, 3072);
	assert_non_null(base);
	put(tb, base, 3072, 1);
	pl_ring_consume(tb, 3072);
	uint8_t *p = pl_ring_reserve(tb, 512);
	assert_ptr_equal(p, base + 3072);
	put(tb, p, 512, 2);

	/* 512 of PAD + 3584 would need 4096 bytes with 512 in use: refused, no PAD. */
	assert_null(pl_ring_reserve(tb, 3584));
	assert_int_equal(pl_ring_used(tb), 512);
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_ptr_equal(q, base + 3072);
	assert_int_equal(len, 512);
	check_item(q, 512, 2);

	/* Once consumed, the same request fills the ring exactly: PAD 512 + 3584. */
	pl_ring_consume(tb, 512);
	p = pl_ring_reserve(tb, 3584);
	assert_ptr_equal(p, base);
	put(tb, p, 3584, 3);
	assert_int_equal(pl_ring_used(tb), CAP);
	assert_null(pl_ring_reserve(tb, 8));
	consume_pad(tb, base, 3584);
	q = pl_ring_peek(tb, &len);
	assert_int_equal(len, 3584);
	check_item(q, 3584, 3);
	pl_ring_consume(tb, 3584);
	assert_int_equal(pl_ring_used(tb), 0);
	assert_non_null(pl_ring_reserve(tb, CAP - 3584));
}

static void test_smallest_pad(void **state)
{
	/* An 8-byte gap before the end still holds a PAD header (size and kind). */
	struct pl_ring *tb = *state;
	uint8_t *base = pl_ring_reserve(tb, CAP - 8);
	assert_non_null(base);
	put(tb, base, CAP - 8, 1);
	pl_ring_consume(tb, CAP - 8);
	uint8_t *p = pl_ring_reserve(tb, 16);
	assert_ptr_equal(p, base);
	put(tb, p, 16, 2);
	consume_pad(tb, base, CAP - 8);
	uint64_t len;
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_int_equal(len, 16);
	check_item(q, 16, 2);
	pl_ring_consume(tb, 16);
}

/* ---- producer/consumer stress ---- */

#define STRESS_CAP     4096u
#define STRESS_SECONDS 1

struct stress {
	struct pl_ring *tb;
	uint64_t seed;
	uint64_t deadline_ns;
	uint64_t produced; /* atomic: items committed; final once done is set */
	unsigned grow;	   /* segments the producer may add when the ring is full */
	int done;	   /* atomic */
	int abort;	   /* atomic: the consumer found an error */
};

/* The random seed: $PL_TEST_SEED replays a run; otherwise the clock and pid. */
static uint64_t test_seed(void)
{
	const char *e = getenv("PL_TEST_SEED");
	if (e && *e)
		return strtoull(e, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 24);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The size of item @seq: 16..344 bytes, a multiple of 8, from a hash of the seed. */
static uint32_t item_size(uint64_t seed, uint64_t seq)
{
	uint64_t h = (seq + 1) * 0x9E3779B97F4A7C15ull ^ seed;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return 16 + 8 * (uint32_t)(h % 42);
}

static void put_seq(uint8_t *b, uint32_t n, uint64_t seq)
{
	memcpy(b, &n, 4);
	b[4] = PL_EV_START;
	memset(b + 5, 0, 3);
	memcpy(b + 8, &seq, 8);
	for (uint32_t i = 16; i < n; i++)
		b[i] = (uint8_t)(seq ^ i);
}

static void *producer_main(void *arg)
{
	struct stress *s = arg;
	uint64_t seq = 0;
	while (!__atomic_load_n(&s->abort, __ATOMIC_RELAXED)) {
		if ((seq & 255) == 0 && mono_ns() >= s->deadline_ns)
			break;
		uint32_t n = item_size(s->seed, seq);
		uint8_t *p;
		while (!(p = pl_ring_reserve(s->tb, n))) {
			if (__atomic_load_n(&s->abort, __ATOMIC_RELAXED))
				goto out;
			/* As the writer does, within a budget (no cmocka assert off the main
			 * thread: a failed growth just waits like a full ring). */
			if (s->grow && pl_ring_grow(s->tb, true) >= 0) {
				s->grow--;
				continue;
			}
			sched_yield();
		}
		put_seq(p, n, seq);
		pl_ring_commit(s->tb, n);
		__atomic_store_n(&s->produced, ++seq, __ATOMIC_RELEASE);
	}
out:
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void run_stress(unsigned grow)
{
	struct stress s = {0};
	s.seed = test_seed();
	s.grow = grow;
	print_message("ring stress seed: PL_TEST_SEED=%" PRIu64 "\n", s.seed);
	s.tb = pl_ring_new(STRESS_CAP);
	assert_non_null(s.tb);
	s.deadline_ns = mono_ns() + STRESS_SECONDS * 1000000000ull;

	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, producer_main, &s), 0);

	char err[256] = "";
	uint64_t expect = 0, pads = 0;
	for (;;) {
		uint64_t len;
		const uint8_t *p = pl_ring_peek(s.tb, &len);
		if (len == 0) {
			/* Read done before used: once done is set, every item is committed. */
			if (__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) && pl_ring_used(s.tb) == 0)
				break;
			sched_yield();
			continue;
		}
		/* Offsets within the segment being drained (peek may have moved on). */
		const struct pl_seg *seg = s.tb->cons;
		uint64_t off = 0, pos = (uint64_t)(p - seg->data), cap = seg->mask + 1;
		while (off < len && !err[0]) {
			const uint8_t *b = p + off;
			uint32_t size;
			memcpy(&size, b, 4);
			if (size < 8 || size % 8 || off + size > len) {
				snprintf(err, sizeof(err), "bad size %u at ring offset %" PRIu64,
					 size, pos + off);
			} else if (b[4] == PL_EV_PAD) {
				if (pos + off + size != cap)
					snprintf(err, sizeof(err),
						 "PAD at %" PRIu64 " of %u bytes misses the end",
						 pos + off, size);
				pads++;
			} else {
				uint64_t seq;
				memcpy(&seq, b + 8, 8);
				if (b[4] != PL_EV_START || seq != expect ||
				    size != item_size(s.seed, expect))
					snprintf(err, sizeof(err),
						 "item %" PRIu64 ": kind %u seq %" PRIu64
						 " size %u",
						 expect, b[4], seq, size);
				for (uint32_t i = 16; i < size && !err[0]; i++)
					if (b[i] != (uint8_t)(seq ^ i))
						snprintf(err, sizeof(err),
							 "item %" PRIu64 ": byte %u", seq, i);
				expect++;
			}
			off += size;
		}
		if (err[0])
			break;
		pl_ring_consume(s.tb, off);
	}
	__atomic_store_n(&s.abort, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	uint64_t produced = __atomic_load_n(&s.produced, __ATOMIC_ACQUIRE);
	pl_ring_unref(s.tb);
	pl_ring_unref(s.tb);
	print_message("ring stress: %" PRIu64 " items, %" PRIu64 " wrap-arounds\n", expect, pads);
	if (err[0])
		fail_msg("%s", err);
	assert_int_equal(expect, produced);
	/* Enough traffic to have wrapped many times, and grown as often as allowed. */
	assert_true(produced >= 10000);
	assert_true(pads >= 100);
	assert_int_equal(s.grow, 0);
}

static void test_stress(void **state)
{
	(void)state;
	run_stress(0);
}

/* The same with a producer that grows the ring (5 times) rather than wait: segments are
 * drained in order, each item once, and freed behind the consumer. */
static void test_stress_growing(void **state)
{
	(void)state;
	run_stress(5);
}

static void test_grow_chain(void **state)
{
	struct pl_ring *tb = *state;
	put(tb, pl_ring_reserve(tb, CAP), CAP, 1);
	assert_null(pl_ring_reserve(tb, 8));
	assert_int_equal(pl_ring_grow(tb, true), 0);
	assert_int_equal(pl_ring_capacity(tb), CAP);
	assert_int_equal(tb->bytes, 2 * CAP);
	uint8_t *p = pl_ring_reserve(tb, 512);
	assert_non_null(p);
	put(tb, p, 512, 2);
	assert_int_equal(pl_ring_grow(tb, true), 0); /* a third, empty so far */
	assert_int_equal(pl_ring_used(tb), CAP + 512);

	/* The oldest segment first, whole; the next only once it is drained. */
	uint64_t len;
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_int_equal(len, CAP);
	check_item(q, CAP, 1);
	pl_ring_consume(tb, CAP);
	q = pl_ring_peek(tb, &len);
	assert_int_equal(len, 512);
	check_item(q, 512, 2);
	assert_non_null(tb->spare[0]); /* the first segment, kept for reuse */
	pl_ring_consume(tb, 512);
	(void)pl_ring_peek(tb, &len); /* the second left too: a second spare */
	assert_int_equal(len, 0);
	assert_non_null(tb->spare[1]);
	assert_int_equal(tb->freed, 0);
	assert_int_equal(tb->bytes, 3 * CAP);
	assert_int_equal(pl_ring_used(tb), 0);
	pl_ring_trim(tb, 0); /* idle: both go back */
	assert_null(tb->spare[0]);
	assert_null(tb->spare[1]);
	assert_int_equal(tb->freed, 2 * CAP);
	assert_int_equal(tb->bytes, CAP);
}

/* A ring that outran its consumer by many segments keeps PL_RING_SPARES of them once
 * drained (its next growth maps nothing) and frees the rest. */
static void test_spares_bounded(void **state)
{
	struct pl_ring *tb = *state;
	uint64_t len;
	for (int i = 0; i < PL_RING_SPARES + 1; i++) {
		put(tb, pl_ring_reserve(tb, CAP), CAP, (uint8_t)(i + 1));
		assert_int_equal(pl_ring_grow(tb, true), 0);
	}
	for (int i = 0; i < PL_RING_SPARES + 1; i++) {
		const uint8_t *q = pl_ring_peek(tb, &len);
		assert_int_equal(len, CAP);
		check_item(q, CAP, (uint8_t)(i + 1));
		pl_ring_consume(tb, len);
	}
	(void)pl_ring_peek(tb, &len); /* the consumer reaches the producer's segment */
	assert_int_equal(len, 0);
	assert_int_equal(tb->freed, CAP);
	assert_int_equal(tb->bytes, (PL_RING_SPARES + 1) * CAP);
	for (int i = 0; i < PL_RING_SPARES; i++) {
		struct pl_seg *want = tb->spare[i];
		assert_non_null(want);
		assert_int_equal(pl_ring_grow(tb, false), 1); /* reused */
		assert_ptr_equal(tb->prod, want);
	}
	assert_int_equal(pl_ring_grow(tb, false), -1); /* none left, none may be mapped */
}

/* Spares hold memory of the writer's budget: once the consumer has caught up with the
 * producer's segment all but one go back, and all once the ring is empty. */
static void test_trim_keeps_one(void **state)
{
	struct pl_ring *tb = *state;
	uint64_t len;
	for (int i = 0; i < 3; i++) {
		put(tb, pl_ring_reserve(tb, CAP), CAP, (uint8_t)(i + 1));
		assert_int_equal(pl_ring_grow(tb, true), 0);
	}
	assert_false(pl_ring_caught_up(tb));
	put(tb, pl_ring_reserve(tb, 512), 512, 9); /* the thread records on */
	for (int i = 0; i < 3; i++) {
		(void)pl_ring_peek(tb, &len);
		pl_ring_consume(tb, len);
	}
	const uint8_t *q = pl_ring_peek(tb, &len); /* the producer's segment */
	assert_int_equal(len, 512);
	check_item(q, 512, 9);
	assert_true(pl_ring_caught_up(tb));
	assert_int_equal(tb->bytes, 4 * CAP); /* 3 spares and the live segment */
	pl_ring_trim(tb, 1);
	assert_non_null(tb->spare[0]);
	assert_null(tb->spare[1]);
	assert_null(tb->spare[2]);
	assert_int_equal(tb->freed, 2 * CAP);
	assert_int_equal(tb->bytes, 2 * CAP);
	pl_ring_consume(tb, len);
	assert_int_equal(pl_ring_used(tb), 0);
	pl_ring_trim(tb, 0);
	assert_null(tb->spare[0]);
	assert_int_equal(tb->bytes, CAP);
}

/* Segments drained by the consumer come back to the producer as spares: a ring that
 * keeps growing reuses them instead of mapping new ones. */
static void test_spare_reused(void **state)
{
	struct pl_ring *tb = *state;
	uint64_t len;
	put(tb, pl_ring_reserve(tb, CAP), CAP, 1);
	assert_int_equal(pl_ring_grow(tb, false), -1); /* no spare, no allocation allowed */
	assert_int_equal(pl_ring_grow(tb, true), 0);   /* allocated */
	struct pl_seg *first = tb->cons;
	put(tb, pl_ring_reserve(tb, CAP), CAP, 2);
	(void)pl_ring_peek(tb, &len);
	pl_ring_consume(tb, len);     /* the first segment drained ... */
	(void)pl_ring_peek(tb, &len); /* ... and left: it is the spare */
	assert_int_equal(len, CAP);
	assert_ptr_equal(tb->spare[0], first);
	assert_int_equal(tb->freed, 0);
	assert_int_equal(pl_ring_grow(tb, false), 1); /* reused, no memory needed */
	assert_ptr_equal(tb->prod, first);
	assert_null(tb->spare[0]);
	put(tb, pl_ring_reserve(tb, 512), 512, 3);
	pl_ring_consume(tb, len);
	const uint8_t *q = pl_ring_peek(tb, &len);
	assert_int_equal(len, 512);
	check_item(q, 512, 3);
	assert_int_equal(tb->bytes, 2 * CAP);
	pl_ring_consume(tb, len);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_empty),
	    T(test_exact_fill),
	    T(test_fill_in_pieces),
	    T(test_partial_fill_no_wrap),
	    T(test_wrap_writes_pad),
	    T(test_wrap_without_room),
	    T(test_smallest_pad),
	    T(test_grow_chain),
	    T(test_spare_reused),
	    T(test_spares_bounded),
	    T(test_trim_keeps_one),
	    cmocka_unit_test(test_stress),
	    cmocka_unit_test(test_stress_growing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
