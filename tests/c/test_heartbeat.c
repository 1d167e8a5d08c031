/* SPDX-License-Identifier: MIT */
/* test_heartbeat.c - how often the writer ends a frame when nothing is recorded.
 *
 * A frame ends with a clock checkpoint: the writer's sign of life, to which perfan
 * measures a call still running at a crash. So while an action is open a frame still
 * ends every flush interval; with nothing recorded and no action open, only every ten
 * (liblog/src/writer/flusher.c), also after an action ended by another thread than the
 * one that began it; and the first event after a quiet spell is written within an
 * interval, not when the quiet frame was due. Counted from pl_writer_stats()
 * over real time with a 50 ms interval: the bounds are a few times away from the
 * expected counts, and load only makes frames rarer (checked where that matters).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"

#define INTERVAL_MS 50u

struct fx {
	char *dir, *path;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = th_tmpdir();
	f->path = th_path(f->dir, "hb.zst");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->path);
	th_rmdir(f->dir);
	free(f);
	return 0;
}

static void tweak(struct pl_writer_options *o)
{
	o->flush_interval_ms = INTERVAL_MS;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static uint64_t frames(struct pl_writer *w)
{
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	return st.frames;
}

/* Frames ended during @ms of doing nothing, after a flush. */
static uint64_t frames_while_idle(struct pl_writer *w, uint64_t ms)
{
	assert_int_equal(pl_writer_flush(w), 0);
	uint64_t before = frames(w);
	sleep_ms(ms);
	return frames(w) - before;
}

/* Nothing open: ~one frame per ten intervals (2 s: ~4), not one per interval (~40). */
static void test_quiet_writer_ends_a_frame_every_ten_intervals(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, tweak);
	pl_action a;
	pl_action_begin(&a, w, NULL, PL_NAME("hb.done"), NULL, 0);
	pl_action_end(&a, NULL, 0);
	uint64_t n = frames_while_idle(w, 2000);
	print_message("quiet, 2 s: %llu frames\n", (unsigned long long)n);
	assert_true(n >= 1); /* still a sign of life */
	assert_true(n <= 8);
	assert_int_equal(pl_writer_close(w), 0);
}

/* An action open: a frame every interval (1 s: ~20; at least 8 unless the flusher was
 * starved for 60 % of the second). */
static void test_open_action_keeps_a_frame_every_interval(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, tweak);
	pl_action a;
	pl_action_begin(&a, w, NULL, PL_NAME("hb.hung"), NULL, 0);
	uint64_t n = frames_while_idle(w, 1000);
	print_message("an action open, 1 s: %llu frames\n", (unsigned long long)n);
	assert_true(n >= 8);
	pl_action_end(&a, NULL, 0);
	/* Once it ends, the writer goes quiet again. */
	n = frames_while_idle(w, 2000);
	assert_true(n <= 8);
	assert_int_equal(pl_writer_close(w), 0);
	/* And the trace holds the action whole. */
	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	assert_int_equal(th_count(&t, PL_REC_START, "hb.hung"), 1);
	assert_int_equal(th_count(&t, PL_REC_END, NULL), 1); /* an END has no type of its own */
	th_trace_free(&t);
}

struct cross {
	pl_action a;
};

static void *end_elsewhere(void *arg)
{
	pl_action_end(&((struct cross *)arg)->a, NULL, 0);
	return NULL;
}

/* An action begun on one thread and ended on another is closed too: the writer goes
 * quiet after it (the per-thread open sets alone would keep its START for good). */
static void test_end_on_another_thread_lets_the_writer_go_quiet(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, tweak);
	struct cross c;
	pl_action_begin(&c.a, w, NULL, PL_NAME("hb.carried"), NULL, 0);
	assert_int_equal(pl_writer_flush(w), 0); /* its START drained on this thread's ring */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, end_elsewhere, &c), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	uint64_t n = frames_while_idle(w, 2000);
	print_message("after an END on another thread, 2 s: %llu frames\n", (unsigned long long)n);
	assert_true(n <= 8);
	assert_int_equal(pl_writer_close(w), 0);
}

/* After a quiet spell, a new event goes out within an interval or so (the quiet frame,
 * open for a while, ends at the next cycle), not when the quiet frame was due. */
static void test_event_after_quiet_spell_is_written_promptly(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, tweak);
	(void)frames_while_idle(w, INTERVAL_MS); /* a quiet frame has been open a while */
	uint64_t before = frames(w), t0 = now_ms(), waited = 0;
	pl_action a;
	pl_action_begin(&a, w, NULL, PL_NAME("hb.late"), NULL, 0);
	pl_action_end(&a, NULL, 0);
	while (frames(w) == before && waited < 5000) {
		sleep_ms(2);
		waited = now_ms() - t0;
	}
	print_message("written after %llu ms\n", (unsigned long long)waited);
	assert_true(frames(w) > before);
	/* Due at the next cycle (<= 25 ms); had the quiet frame's due time held, ~450 ms. */
	assert_true(waited < 4 * INTERVAL_MS);
	assert_int_equal(pl_writer_close(w), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_quiet_writer_ends_a_frame_every_ten_intervals),
	    T(test_open_action_keeps_a_frame_every_interval),
	    T(test_end_on_another_thread_lets_the_writer_go_quiet),
	    T(test_event_after_quiet_spell_is_written_promptly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
