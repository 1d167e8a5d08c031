/* SPDX-License-Identifier: MIT */
/* test_window.c - pl_reader_set_window(): a time window read by the frame index.
 *
 * One trace of 20 frames, ~2 ms apart (flushed by hand), with short requests in every
 * frame, an `outer` action open from frame 2 to 15 with an `inner` child in frame 9, and
 * a `slow` action from frame 8 to 13. Against a plain read of the same file:
 * - the window's STARTs and MESSAGEs, and the ENDs of those STARTs, are all delivered,
 *   in file order, as a subsequence of the plain read; THREAD records all; frames are
 *   skipped; the last checkpoint is the same;
 * - PL_WINDOW_ANCESTORS also delivers the START of `outer`, open when `inner` began;
 * - a window after the last record delivers no action and still ends cleanly;
 * - pl_reader_extent() gives the first and last record's times;
 * - an index that lies about its frame is noticed, and the window's records still come.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"

#define FRAMES 20

static char *dir, *path;
static struct th_trace full;
static int64_t batch_wall[FRAMES + 1]; /* wall time of each batch's first record */

static void spin_ms(int ms)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ms * 1000000L);
}

static void manual(struct pl_writer_options *o)
{
	o->flush_interval_ms = 3600u * 1000u;
}

static void write_trace(void)
{
	struct pl_writer *w = th_open(path, manual);
	pl_action outer, inner, slow;
	for (int b = 0; b < FRAMES; b++) {
		for (int i = 0; i < 5; i++) {
			pl_action req, step;
			struct pl_field in[] = {PL_F_INT("batch", b), PL_F_INT("i", i)};
			pl_action_begin(&req, w, NULL, PL_NAME("req"), in, 2);
			pl_action_begin(&step, w, &req, PL_NAME("step"), NULL, 0);
			pl_message(w, &step, PL_NAME("note"), in, 1);
			pl_action_end(&step, NULL, 0);
			pl_action_end(&req, NULL, 0);
		}
		if (b == 2)
			pl_action_begin(&outer, w, NULL, PL_NAME("outer"), NULL, 0);
		if (b == 8)
			pl_action_begin(&slow, w, NULL, PL_NAME("slow"), NULL, 0);
		if (b == 9) {
			pl_action_begin(&inner, w, &outer, PL_NAME("inner"), NULL, 0);
			pl_action_end(&inner, NULL, 0);
		}
		if (b == 13)
			pl_action_end(&slow, NULL, 0);
		if (b == 15)
			pl_action_end(&outer, NULL, 0);
		assert_int_equal(pl_writer_flush(w), 0);
		spin_ms(2);
	}
	assert_int_equal(pl_writer_close(w), 0);
}

static int setup(void **state)
{
	(void)state;
	dir = th_tmpdir();
	path = th_path(dir, "w.zst");
	write_trace();
	assert_int_equal(th_read_all(path, &full), PL_END);
	/* Each batch's first record: the first `req` START with that batch input. */
	int b = 0;
	for (size_t i = 0; i < full.n && b < FRAMES; i++) {
		char want[32];
		snprintf(want, sizeof(want), "batch=%d;i=0", b);
		if (full.recs[i].kind == PL_REC_START && !strcmp(full.recs[i].type, "req") &&
		    !strcmp(full.recs[i].fields, want))
			batch_wall[b++] = full.recs[i].wall_ns;
	}
	assert_int_equal(b, FRAMES);
	batch_wall[FRAMES] = INT64_MAX;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_trace_free(&full);
	th_rmdir(dir);
	free(path);
	return 0;
}

struct got {
	struct th_rec *recs;
	size_t n;
	struct pl_reader_stats st;
	char problem[256]; /* st.index_problem, kept past the reader's close */
	int64_t ck_wall;
};

static void copy(struct th_rec *o, const struct pl_record *rec)
{
	memset(o, 0, sizeof(*o));
	o->kind = rec->kind;
	o->wall_ns = rec->wall_ns;
	o->prefix = rec->task_prefix;
	o->seq = rec->task_seq;
	if (rec->kind == PL_REC_START || rec->kind == PL_REC_END || rec->kind == PL_REC_MESSAGE)
		pl_task_format(rec->task_prefix, rec->task_seq, rec->level, rec->depth, o->task,
			       sizeof(o->task));
	snprintf(o->type, sizeof(o->type), "%s", rec->type);
}

/* Read @file with the window [@since, @until) (@flags), or none when since == until. */
static void read_window(const char *file, int64_t since, int64_t until, unsigned flags,
			struct got *g)
{
	struct pl_reader *r;
	struct pl_record rec = PL_RECORD_INIT;
	memset(g, 0, sizeof(*g));
	assert_int_equal(pl_reader_open(file, &r), 0);
	if (since != until)
		assert_int_equal(pl_reader_set_window(r, since, until, flags), 0);
	g->recs = calloc(full.n + 1, sizeof(*g->recs));
	int ret;
	while ((ret = pl_reader_next(r, &rec)) == 0) {
		assert_true(g->n < full.n);
		copy(&g->recs[g->n++], &rec);
	}
	assert_int_equal(ret, PL_END);
	g->st = (struct pl_reader_stats)PL_READER_STATS_INIT;
	assert_int_equal(pl_reader_stats(r, &g->st), 0);
	snprintf(g->problem, sizeof(g->problem), "%s", g->st.index_problem);
	g->st.index_problem = g->problem;
	pl_reader_checkpoint(r, NULL, &g->ck_wall);
	pl_reader_close(r);
}

static bool same(const struct th_rec *a, const struct th_rec *b)
{
	return a->kind == b->kind && a->wall_ns == b->wall_ns && !strcmp(a->task, b->task) &&
	       !strcmp(a->type, b->type);
}

/* The task string of @r's action with its END: the task and level, which END shares. */
static bool delivered(const struct got *g, int kind, const char *task)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->recs[i].kind == kind && !strcmp(g->recs[i].task, task))
			return true;
	return false;
}

static void check_window(int64_t since, int64_t until, unsigned flags, struct got *g)
{
	read_window(path, since, until, flags, g);
	/* A subsequence of the plain read. */
	size_t j = 0;
	for (size_t i = 0; i < g->n; i++) {
		while (j < full.n && !same(&full.recs[j], &g->recs[i]))
			j++;
		assert_true(j < full.n);
		j++;
	}
	size_t starts = 0;
	for (size_t i = 0; i < full.n; i++) {
		const struct th_rec *f = &full.recs[i];
		bool in = f->wall_ns >= since && f->wall_ns < until;
		if ((f->kind == PL_REC_START || f->kind == PL_REC_MESSAGE) && in) {
			assert_true(delivered(g, f->kind, f->task));
			if (f->kind == PL_REC_START) {
				starts++;
				assert_true(delivered(g, PL_REC_END, f->task));
			}
		}
		if (f->kind == PL_REC_THREAD || f->kind == PL_REC_STATS)
			assert_true(delivered(g, f->kind, f->task));
	}
	int64_t ck;
	struct got plain;
	read_window(path, 0, 0, 0, &plain);
	ck = plain.ck_wall;
	assert_int_equal(g->ck_wall, ck);
	print_message("window %d..: %zu starts, %zu of %zu records, %llu frames read, %llu "
		      "skipped\n",
		      (int)((since - batch_wall[0]) / 1000000), starts, g->n, full.n,
		      (unsigned long long)g->st.frames, (unsigned long long)g->st.frames_skipped);
	free(plain.recs);
}

static const char *find_task(const char *type)
{
	for (size_t i = 0; i < full.n; i++)
		if (full.recs[i].kind == PL_REC_START && !strcmp(full.recs[i].type, type))
			return full.recs[i].task;
	fail_msg("no %s", type);
	return NULL;
}

static void test_window_reads_what_it_needs(void **state)
{
	(void)state;
	struct got g;
	check_window(batch_wall[9], batch_wall[10], 0, &g);
	assert_true(g.st.frames_skipped >= 8);
	assert_false(g.st.index_disagrees);
	/* `slow` started in frame 8, before the window: not needed, and it ends in 13, when
	 * nothing of the window is open any more: frames after it are skipped. */
	assert_false(delivered(&g, PL_REC_START, find_task("outer")));
	free(g.recs);

	check_window(batch_wall[8], batch_wall[9], 0, &g);
	assert_true(delivered(&g, PL_REC_END, find_task("slow"))); /* read on until it ends */
	free(g.recs);

	check_window(batch_wall[9], batch_wall[10], PL_WINDOW_ANCESTORS, &g);
	assert_true(delivered(&g, PL_REC_START, find_task("outer"))); /* inner's parent */
	free(g.recs);

	check_window(batch_wall[0], INT64_MAX, 0, &g);
	assert_int_equal(g.st.frames_skipped, 0);
	free(g.recs);
}

/* PL_WINDOW_STARTS_ONLY: the window's STARTs and MESSAGEs, by runs as well, and no
 * frame read for an END: `slow`, open across the window's frame, ends in frame 13, which
 * a plain window reads and this one does not. */
static void test_window_starts_only(void **state)
{
	(void)state;
	struct pl_reader *r;
	struct pl_record rec = PL_RECORD_INIT;
	struct pl_event ev[8];
	uint32_t lv[64];
	int64_t since = batch_wall[8], until = batch_wall[9];
	assert_int_equal(pl_reader_open(path, &r), 0);
	assert_int_equal(pl_reader_set_window(r, since, until, PL_WINDOW_STARTS_ONLY), 0);
	size_t starts = 0, by_runs = 0, threads = 0;
	bool slow_end = false;
	int ret;
	for (;;) {
		size_t n = pl_reader_next_events(r, ev, 8, lv, 64);
		by_runs += n;
		for (size_t i = 0; i < n; i++)
			starts += ev[i].kind == PL_REC_START && ev[i].wall_ns >= since &&
				  ev[i].wall_ns < until;
		if (n)
			continue;
		if ((ret = pl_reader_next(r, &rec)) != 0)
			break;
		threads += rec.kind == PL_REC_THREAD;
		starts += rec.kind == PL_REC_START && rec.wall_ns >= since && rec.wall_ns < until;
		if (rec.kind == PL_REC_END && rec.depth == 0) {
			char task[64];
			pl_task_format(rec.task_prefix, rec.task_seq, rec.level, rec.depth, task,
				       sizeof(task));
			slow_end |= !strcmp(task, find_task("slow"));
		}
	}
	assert_int_equal(ret, PL_END);
	size_t want = 0, want_threads = 0;
	for (size_t i = 0; i < full.n; i++) {
		want += full.recs[i].kind == PL_REC_START && full.recs[i].wall_ns >= since &&
			full.recs[i].wall_ns < until;
		want_threads += full.recs[i].kind == PL_REC_THREAD;
	}
	assert_int_equal(starts, want); /* 5 req, 5 step and `slow` */
	assert_int_equal(threads, want_threads);
	assert_true(by_runs > 0);
	assert_false(slow_end);
	struct pl_reader_stats st = PL_READER_STATS_INIT;
	assert_int_equal(pl_reader_stats(r, &st), 0);
	assert_false(st.index_disagrees);
	assert_true(st.frames_skipped >= FRAMES - 4);
	pl_reader_close(r);

	struct got g; /* without it, frames up to slow's END are read */
	check_window(since, until, 0, &g);
	assert_true(delivered(&g, PL_REC_END, find_task("slow")));
	assert_true(g.st.frames_skipped < st.frames_skipped);
	free(g.recs);
}

static void test_window_after_the_end(void **state)
{
	(void)state;
	struct got g;
	int64_t last = INT64_MIN;
	for (size_t i = 0; i < full.n; i++)
		if (full.recs[i].kind != PL_REC_THREAD && full.recs[i].kind != PL_REC_STATS &&
		    full.recs[i].wall_ns > last)
			last = full.recs[i].wall_ns;
	check_window(last + 1, INT64_MAX, 0, &g);
	for (size_t i = 0; i < g.n; i++)
		assert_true(g.recs[i].kind == PL_REC_THREAD || g.recs[i].kind == PL_REC_STATS ||
			    g.recs[i].wall_ns < batch_wall[1]); /* the frame read at open */
	/* Read: the frame read at open, and those with NAME, THREAD or STATS records. */
	assert_true(g.st.frames_skipped >= FRAMES - 6);
	free(g.recs);
}

static void test_extent(void **state)
{
	(void)state;
	int64_t lo = INT64_MAX, hi = INT64_MIN, first, last;
	for (size_t i = 0; i < full.n; i++) {
		const struct th_rec *f = &full.recs[i];
		if (f->kind == PL_REC_THREAD || f->kind == PL_REC_STATS)
			continue;
		lo = f->wall_ns < lo ? f->wall_ns : lo;
		hi = f->wall_ns > hi ? f->wall_ns : hi;
	}
	struct pl_reader *r;
	assert_int_equal(pl_reader_open(path, &r), 0);
	assert_int_equal(pl_reader_extent(r, &first, &last), 1);
	assert_int_equal(first, lo);
	assert_int_equal(last, hi);
	pl_reader_close(r);
}

/* The index frames of @data, by offset: each a 64-byte skippable frame before its data. */
static size_t index_offsets(const uint8_t *data, size_t size, uint64_t *offs, size_t max)
{
	size_t n = 0;
	for (size_t at = 16; at + 64 <= size && n < max;) {
		uint32_t id, len;
		memcpy(&id, data + at, 4);
		assert_int_equal(id, 0x184D2A5Fu);
		memcpy(&len, data + at + 16, 4); /* data_len */
		offs[n++] = at;
		at += 64 + len;
	}
	return n;
}

static void test_lying_index(void **state)
{
	(void)state;
	size_t size;
	uint8_t *data = th_slurp(path, &size);
	uint64_t offs[64];
	size_t n = index_offsets(data, size, offs, 64);
	assert_true(n >= FRAMES);
	/* The frame holding batch 9 says it holds a DROPPED record it does not have. */
	size_t k = 10; /* frame 0 holds the header and batch 0 */
	data[offs[k] + 8 + 5] ^= 8;
	char *bad = th_path(dir, "lying.zst");
	th_spit(bad, data, size);
	struct got g;
	read_window(bad, batch_wall[9], batch_wall[10], 0, &g);
	print_message("%s\n", g.st.index_problem);
	assert_true(g.st.index_disagrees);
	assert_non_null(strstr(g.st.index_problem, "disagrees"));
	for (size_t i = 0; i < full.n; i++) {
		const struct th_rec *f = &full.recs[i];
		if (f->kind == PL_REC_START && f->wall_ns >= batch_wall[9] &&
		    f->wall_ns < batch_wall[10])
			assert_true(delivered(&g, PL_REC_END, f->task));
	}
	free(g.recs);
	free(bad);
	free(data);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct pl_reader *r;
	struct pl_record rec = PL_RECORD_INIT;
	assert_int_equal(pl_reader_set_window(NULL, 0, 1, 0), -PL_EINVAL);
	assert_int_equal(pl_reader_open(path, &r), 0);
	assert_int_equal(pl_reader_set_window(r, 5, 5, 0), -PL_EINVAL);
	assert_int_equal(pl_reader_next(r, &rec), 0);
	assert_int_equal(pl_reader_set_window(r, 0, 1, 0), -PL_EINVAL); /* too late */
	pl_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_reads_what_it_needs),
	    cmocka_unit_test(test_window_starts_only),
	    cmocka_unit_test(test_window_after_the_end),
	    cmocka_unit_test(test_extent),
	    cmocka_unit_test(test_lying_index),
	    cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
