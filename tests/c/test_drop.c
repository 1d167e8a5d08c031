/* SPDX-License-Identifier: MIT */
/* test_drop.c - what the writer cannot stage is counted and reported in the trace.
 *
 * - PL_FULL_DROP with the smallest ring, no room to grow (max_memory) and a flusher that
 *   only wakes when a ring is half full: a burst overruns the ring; stats and file agree
 *   on every dropped event ("full").
 * - The same ring with room to grow: the same burst drops nothing.
 * - An event larger than the largest staged event is dropped as "oversize".
 * - max_memory below one ring: every event is dropped as "no_buffer".
 * - PL_FULL_BLOCK with the same ring and burst drops nothing.
 * - The same ring that may not grow, filled past half again and again with pauses: the
 *   flusher (no timer) is woken by every fill, so nothing is dropped.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"

/* PL_MIN_RING_BYTES and PL_MAX_EVENT_BYTES in liblog/src/common/config.h (checked below:
 * one byte less is refused). The largest event is min(64 KiB, ring / 4). */
#define MIN_RING   (256u << 10)
#define MAX_EVENT  (64u << 10)
#define PAYLOAD	   4000u /* bytes of the string field of each burst action */
#define BURST	   20000 /* actions per burst: ~80 MB through a 256 KiB ring */
#define MAX_BURSTS 20

/* ---- reading back: counts by kind and by DROPPED reason ---- */

struct tally {
	uint64_t start, end, message, thread, dropped_records;
	uint64_t full, oversize, no_buffer, write, other;
	uint64_t nstats;
	uint64_t st_events, st_full, st_oversize, st_no_buffer, st_write;
	size_t max_str; /* longest string field seen */
};

static uint64_t stat_field(const struct pl_record *rec, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct pl_kv *kv = &rec->fields[i];
		if (kv->key_len == kl && memcmp(kv->key, key, kl) == 0) {
			if (kv->value.type == PL_VALUE_UINT)
				return kv->value.v.u;
			assert_int_equal(kv->value.type, PL_VALUE_INT);
			return (uint64_t)kv->value.v.i;
		}
	}
	fail_msg("STATS has no %s", key);
	return 0;
}

static void tally_file(const char *path, struct tally *t)
{
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	memset(t, 0, sizeof(*t));
	int ret = pl_reader_open(path, &r);
	if (ret == 0) {
		while ((ret = pl_reader_next(r, &rec)) == 0) {
			for (size_t i = 0; i < rec.nfields; i++)
				if (rec.fields[i].value.type == PL_VALUE_STR &&
				    rec.fields[i].value.v.str.len > t->max_str)
					t->max_str = rec.fields[i].value.v.str.len;
			switch (rec.kind) {
			case PL_REC_START:
				t->start++;
				break;
			case PL_REC_END:
				t->end++;
				break;
			case PL_REC_MESSAGE:
				t->message++;
				break;
			case PL_REC_THREAD:
				t->thread++;
				break;
			case PL_REC_DROPPED:
				t->dropped_records++;
				assert_true(rec.count > 0);
				if (strcmp(rec.name, "full") == 0)
					t->full += rec.count;
				else if (strcmp(rec.name, "oversize") == 0)
					t->oversize += rec.count;
				else if (strcmp(rec.name, "no_buffer") == 0)
					t->no_buffer += rec.count;
				else if (strcmp(rec.name, "write_error") == 0)
					t->write += rec.count;
				else
					t->other += rec.count;
				break;
			case PL_REC_STATS:
				t->nstats++;
				t->st_events = stat_field(&rec, "events");
				t->st_full = stat_field(&rec, "dropped_full");
				t->st_oversize = stat_field(&rec, "dropped_oversize");
				t->st_no_buffer = stat_field(&rec, "dropped_no_buffer");
				t->st_write = stat_field(&rec, "dropped_write");
				break;
			default:
				fail_msg("unknown record kind %d", rec.kind);
			}
		}
	}
	if (ret != PL_END) {
		const struct pl_reader_error *e = pl_reader_error(r);
		fail_msg("%s: %s at %" PRIu64 ": %s", path, pl_strerror(ret), e->offset, e->reason);
	}
	pl_reader_close(r);
}

/* The file says what the stats say. */
static void assert_file_agrees(const struct tally *t, const struct pl_writer_stats *st)
{
	assert_int_equal(t->nstats, 1);
	assert_int_equal(t->st_events, st->events);
	assert_int_equal(t->st_full, st->dropped_full);
	assert_int_equal(t->st_oversize, st->dropped_oversize);
	assert_int_equal(t->st_no_buffer, st->dropped_no_buffer);
	assert_int_equal(t->st_write, 0);
	assert_int_equal(t->full, st->dropped_full);
	assert_int_equal(t->oversize, st->dropped_oversize);
	assert_int_equal(t->no_buffer, st->dropped_no_buffer);
	assert_int_equal(t->write + t->other, 0);
}

/* ---- options ---- */

/* Smallest ring, no timer: the flusher runs only when a ring is half full. */
/* One ring that may not grow (max_memory holds it alone), a flusher that only wakes
 * when the ring is half full. */
static void set_tiny_drop(struct pl_writer_options *o)
{
	o->buffer_size = MIN_RING;
	o->max_memory = MIN_RING;
	o->full_policy = PL_FULL_DROP;
	o->flush_interval_ms = 3600u * 1000u;
}

/* The same ring with room to grow: the default max_memory. */
static void set_tiny_growing(struct pl_writer_options *o)
{
	set_tiny_drop(o);
	o->max_memory = 256u << 20;
}

static void set_tiny_block(struct pl_writer_options *o)
{
	set_tiny_drop(o);
	o->full_policy = PL_FULL_BLOCK;
}

static void set_no_memory(struct pl_writer_options *o)
{
	o->buffer_size = MIN_RING;
	o->max_memory = MIN_RING - 1;
}

static char payload[PAYLOAD + 1];

static void burst(struct pl_writer *w, int n)
{
	for (int i = 0; i < n; i++) {
		pl_action a;
		struct pl_field f[] = {PL_F_INT("i", i), PL_F("blob", PL_V_STRN(payload, PAYLOAD))};
		pl_action_begin(&a, w, NULL, PL_NAME("burst"), f, 2);
		pl_action_end(&a, NULL, 0);
	}
}

static void test_min_ring_is_the_limit(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "limit.pl");
	struct pl_writer_options o;
	struct pl_writer *w = NULL;
	pl_writer_options_init(&o);
	o.path = path;
	o.buffer_size = MIN_RING - 1;
	assert_int_equal(pl_writer_open(&o, &w), -PL_EINVAL);
	assert_null(w);
	o.buffer_size = MIN_RING;
	assert_int_equal(pl_writer_open(&o, &w), 0);
	assert_int_equal(pl_writer_close(w), 0);
	free(path);
	th_rmdir(dir);
}

static void test_full_ring_drops(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "drop.pl");
	struct pl_writer *w = th_open(path, set_tiny_drop);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	uint64_t attempted = 0;
	int bursts = 0;
	do {
		burst(w, BURST);
		attempted += 2 * BURST;
		bursts++;
		pl_writer_stats(w, &st);
	} while (st.dropped_full == 0 && bursts < MAX_BURSTS);
	print_message("%d bursts: attempted %" PRIu64 " events %" PRIu64 " dropped_full %" PRIu64
		      "\n",
		      bursts, attempted, st.events, st.dropped_full);
	assert_true(st.dropped_full > 0);
	assert_int_equal(st.events + st.dropped_full + st.dropped_oversize + st.dropped_no_buffer,
			 attempted);
	assert_int_equal(st.dropped_oversize + st.dropped_no_buffer + st.blocked, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct tally t;
	tally_file(path, &t);
	print_message("file: start %" PRIu64 " end %" PRIu64 " dropped records %" PRIu64
		      " (%" PRIu64 " full)\n",
		      t.start, t.end, t.dropped_records, t.full);
	assert_file_agrees(&t, &st);
	assert_true(t.dropped_records > 0);
	assert_int_equal(t.start + t.end, st.events);
	assert_int_equal(t.message, 0);
	free(path);
	th_rmdir(dir);
}

/* The file at @path holds the whole burst, as @st counted it, and no DROPPED record. */
static void assert_whole_burst(const char *path, const struct pl_writer_stats *st)
{
	struct tally t;
	tally_file(path, &t);
	assert_file_agrees(&t, st);
	assert_int_equal(t.dropped_records, 0);
	assert_int_equal(t.start, BURST);
	assert_int_equal(t.end, BURST);
}

/* The burst that overruns a ring that may not grow: with room to grow, nothing is
 * dropped, the file holds every event, and memory is back within one ring at close. */
static void test_full_ring_grows(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "grow.pl");
	struct pl_writer *w = th_open(path, set_tiny_growing);
	burst(w, BURST);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	print_message("events %" PRIu64 " grown %" PRIu64 " ring bytes %" PRIu64 "\n", st.events,
		      st.ring_grown, st.ring_bytes);
	assert_int_equal(st.events, 2 * BURST);
	assert_int_equal(st.dropped_full + st.dropped_oversize + st.dropped_no_buffer, 0);
	assert_int_equal(st.blocked, 0);
	assert_true(st.ring_bytes <= 256u << 20);
	assert_int_equal(pl_writer_flush(w), 0);
	assert_int_equal(pl_writer_close(w), 0);
	assert_whole_burst(path, &st);
	free(path);
	th_rmdir(dir);
}

static void test_full_ring_blocks(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "block.pl");
	struct pl_writer *w = th_open(path, set_tiny_block);
	burst(w, BURST);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	print_message("events %" PRIu64 " blocked %" PRIu64 "\n", st.events, st.blocked);
	assert_int_equal(st.events, 2 * BURST);
	assert_int_equal(st.dropped_full + st.dropped_oversize + st.dropped_no_buffer, 0);
	/* The ring did fill: ~80 MB went through 256 KiB. */
	assert_true(st.blocked > 0);
	assert_int_equal(pl_writer_close(w), 0);
	assert_whole_burst(path, &st);
	free(path);
	th_rmdir(dir);
}

/* A fill: past half of MIN_RING (a START is ~4 KB), well below the whole of it. */
#define FILL_ACTIONS 36
#define FILLS	     30

/* Each fill must wake the flusher, which has no timer: its bytes_raw moves within
 * seconds. It drains at least the half that woke it, so what a fill leaves behind plus
 * the next fill fits in the ring, and nothing may be dropped. The wake is re-armed by
 * the producer after each drain: a fill that found it armed and never looked again
 * would leave the ring to fill up and time out here. */
static void test_half_full_wakes(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "wake.pl");
	struct pl_writer *w = th_open(path, set_tiny_drop);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	assert_int_equal(pl_writer_flush(w), 0);
	for (int fill = 0; fill < FILLS; fill++) {
		pl_writer_stats(w, &st);
		uint64_t before = st.bytes_raw;
		burst(w, FILL_ACTIONS);
		int waited_ms = 0;
		for (; waited_ms < 10000; waited_ms++) {
			pl_writer_stats(w, &st);
			if (st.bytes_raw > before)
				break;
			struct timespec ms = {0, 1000000};
			nanosleep(&ms, NULL);
		}
		if (st.bytes_raw == before)
			fail_msg("fill %d did not wake the flusher within 10 s", fill);
	}
	pl_writer_stats(w, &st);
	assert_int_equal(st.events, 2 * FILL_ACTIONS * FILLS);
	assert_int_equal(st.dropped_full + st.dropped_oversize + st.dropped_no_buffer, 0);
	assert_int_equal(pl_writer_close(w), 0);
	struct tally t;
	tally_file(path, &t);
	assert_file_agrees(&t, &st);
	assert_int_equal(t.dropped_records, 0);
	assert_int_equal(t.start + t.end, st.events);
	free(path);
	th_rmdir(dir);
}

static void test_oversize(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "oversize.pl");
	struct pl_writer *w = th_open(path, set_tiny_drop);
	size_t big_len = MAX_EVENT + 1000, fits_len = MAX_EVENT / 2;
	char *big = malloc(big_len);
	assert_non_null(big);
	memset(big, 'z', big_len);

	/* Half the limit is staged; more than the limit is not, nor is anything else lost. */
	struct pl_field fits = PL_F("s", PL_V_STRN(big, fits_len));
	struct pl_field huge = PL_F("s", PL_V_STRN(big, big_len));
	pl_message(w, NULL, PL_NAME("fits"), &fits, 1);
	pl_message(w, NULL, PL_NAME("huge"), &huge, 1);
	pl_action a;
	pl_action_begin(&a, w, NULL, PL_NAME("huge_action"), &huge, 1);
	pl_action_end(&a, NULL, 0);
	pl_message(w, NULL, PL_NAME("after"), NULL, 0);

	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	assert_int_equal(st.dropped_oversize, 2);
	/* fits, after, and (maybe: its START was lost) the END of huge_action */
	assert_true(st.events == 2 || st.events == 3);
	assert_int_equal(st.dropped_full + st.dropped_no_buffer, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	assert_int_equal(th_read_all(path, &t), PL_END);
	assert_int_equal(th_count(&t, PL_REC_MESSAGE, "fits"), 1);
	assert_int_equal(th_count(&t, PL_REC_MESSAGE, "huge"), 0);
	assert_int_equal(th_count(&t, PL_REC_START, NULL), 0);
	assert_int_equal(th_count(&t, PL_REC_END, NULL), st.events - 2);
	assert_int_equal(th_count(&t, PL_REC_MESSAGE, "after"), 1);
	th_trace_free(&t);

	struct tally ty;
	tally_file(path, &ty);
	assert_file_agrees(&ty, &st);
	assert_int_equal(ty.oversize, 2);
	assert_int_equal(ty.max_str, fits_len); /* the staged string arrived whole */
	free(big);
	free(path);
	th_rmdir(dir);
}

struct nb_arg {
	struct pl_writer *w;
	int n;
};

static void *no_buffer_thread(void *arg)
{
	struct nb_arg *a = arg;
	for (int i = 0; i < a->n; i++)
		pl_message(a->w, NULL, PL_NAME("lost"), (struct pl_field[]){PL_F_INT("i", i)}, 1);
	return NULL;
}

static void test_no_buffer(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "nobuf.pl");
	struct pl_writer *w = th_open(path, set_no_memory);
	struct nb_arg a = {w, 500};
	pthread_t tid;
	no_buffer_thread(&a);
	assert_int_equal(pthread_create(&tid, NULL, no_buffer_thread, &a), 0);
	pthread_join(tid, NULL);
	pl_action act;
	pl_action_begin(&act, w, NULL, PL_NAME("lost_action"), NULL, 0);
	pl_action_end(&act, NULL, 0);

	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	print_message("events %" PRIu64 " no_buffer %" PRIu64 "\n", st.events,
		      st.dropped_no_buffer);
	assert_int_equal(st.events, 0);
	assert_int_equal(st.dropped_no_buffer, 2 * 500 + 2);
	assert_int_equal(st.dropped_full + st.dropped_oversize, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct tally t;
	tally_file(path, &t);
	assert_file_agrees(&t, &st);
	assert_true(t.dropped_records > 0);
	assert_int_equal(t.start + t.end + t.message, 0);
	free(path);
	th_rmdir(dir);
}

int main(void)
{
	memset(payload, 'p', PAYLOAD);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_min_ring_is_the_limit),
	    cmocka_unit_test(test_full_ring_drops),
	    cmocka_unit_test(test_full_ring_grows),
	    cmocka_unit_test(test_full_ring_blocks),
	    cmocka_unit_test(test_half_full_wakes),
	    cmocka_unit_test(test_oversize),
	    cmocka_unit_test(test_no_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
