/* SPDX-License-Identifier: MIT */
/* test_follow.c - pl_reader_follow(): reading a trace while it is being written.
 *
 * - A finished trace is copied into a new file a few bytes at a time (sizes that cut
 *   indexes, frame headers and blocks everywhere); a follower reading after every append
 *   gets PL_AGAIN at each cut, never an error, and in the end exactly the records of a
 *   plain read of the whole file, in order. The same with a time window set.
 * - A writer thread records while the main thread follows its file: every action comes,
 *   and the closing STATS record last.
 * - Damage in what is written is still an error; a pipe cannot be followed; turning
 *   follow on after PL_END reads what was appended since.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

#define FRAMES	     12
#define LIVE_ACTIONS 3000

static char *dir;

static void manual(struct pl_writer_options *o)
{
	o->flush_interval_ms = 3600u * 1000u;
}

/* FRAMES frames of requests with inputs, one action open across most of them. */
static void write_trace(const char *path)
{
	struct pl_writer *w = th_open(path, manual);
	pl_action outer;
	for (int b = 0; b < FRAMES; b++) {
		if (b == 1)
			pl_action_begin(&outer, w, NULL, PL_NAME("outer"), NULL, 0);
		for (int i = 0; i < 40; i++) {
			pl_action req;
			struct pl_field in[] = {PL_F_INT("batch", b), PL_F_STR("word", "follow")};
			pl_action_begin(&req, w, b > 1 ? &outer : NULL, PL_NAME("req"), in, 2);
			pl_message(w, &req, PL_NAME("note"), in, 1);
			pl_action_end(&req, NULL, 0);
		}
		if (b == FRAMES - 2)
			pl_action_end(&outer, NULL, 0);
		assert_int_equal(pl_writer_flush(w), 0);
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	assert_int_equal(pl_writer_close(w), 0);
}

static void push(struct th_trace *t, size_t *cap, const struct pl_record *rec)
{
	if (t->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		t->recs = realloc(t->recs, *cap * sizeof(*t->recs));
		assert_non_null(t->recs);
	}
	th_rec_copy(&t->recs[t->n++], rec);
}

static bool same_rec(const struct th_rec *x, const struct th_rec *y)
{
	return x->kind == y->kind && x->wall_ns == y->wall_ns && x->ts_ns == y->ts_ns &&
	       !strcmp(x->task, y->task) && !strcmp(x->type, y->type) &&
	       !strcmp(x->fields, y->fields) && !strcmp(x->name, y->name) &&
	       x->frame_offset == y->frame_offset;
}

static void assert_same(const struct th_trace *a, const struct th_trace *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_true(same_rec(&a->recs[i], &b->recs[i]));
}

/* Every record of @a is in @b, in the same order. */
static void assert_subsequence(const struct th_trace *a, const struct th_trace *b)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && !same_rec(&a->recs[i], &b->recs[j]))
			j++;
		if (j == b->n)
			fail_msg("record %zu of %zu is missing", i, a->n);
		j++;
	}
}

/* A plain (or windowed) read of a whole file. */
static void read_whole(const char *path, int64_t since, struct th_trace *t)
{
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	size_t cap = 0;
	memset(t, 0, sizeof(*t));
	assert_int_equal(pl_reader_open(path, &r), 0);
	if (since != INT64_MIN)
		assert_int_equal(pl_reader_set_window(r, since, INT64_MAX, PL_WINDOW_ANCESTORS), 0);
	int ret;
	while ((ret = pl_reader_next(r, &rec)) == 0)
		push(t, &cap, &rec);
	assert_int_equal(ret, PL_END);
	pl_reader_close(r);
}

/* Copy @src into a new file @step(i) bytes at a time, following it from the first
 * moment it can be opened. */
static void follow_copy(const char *src, int64_t since, size_t (*step)(size_t i))
{
	size_t len;
	uint8_t *data = th_slurp(src, &len);
	char *dst = th_path(dir, "grow.zst");
	unlink(dst);
	int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	struct th_trace got = {0};
	size_t cap = 0, at = 0, agains = 0;
	for (size_t i = 0; at < len || r == NULL; i++) {
		size_t n = step(i);
		if (n > len - at)
			n = len - at;
		assert_int_equal(write(fd, data + at, n), (ssize_t)n);
		at += n;
		if (!r) {
			int ret = pl_reader_open(dst, &r);
			if (ret < 0) { /* no whole first frame yet */
				assert_int_equal(ret, -PL_ETRUNCATED);
				pl_reader_close(r);
				r = NULL;
				assert_true(at < len);
				continue;
			}
			assert_int_equal(pl_reader_follow(r, 1), 0);
			if (since != INT64_MIN)
				assert_int_equal(
				    pl_reader_set_window(r, since, INT64_MAX, PL_WINDOW_ANCESTORS),
				    0);
		}
		int ret;
		while ((ret = pl_reader_next(r, &rec)) == 0)
			push(&got, &cap, &rec);
		if (ret != PL_AGAIN)
			fail_msg("offset %zu of %zu: %d %s", at, len, ret,
				 pl_reader_error(r)->reason);
		agains++;
	}
	/* The whole file is there: still PL_AGAIN (the writer could go on) until follow
	 * is turned off. */
	assert_int_equal(pl_reader_next(r, &rec), PL_AGAIN);
	assert_int_equal(pl_reader_follow(r, 0), 0);
	assert_int_equal(pl_reader_next(r, &rec), PL_END);
	struct pl_reader_stats st = PL_READER_STATS_INIT;
	assert_int_equal(pl_reader_stats(r, &st), 0);
	assert_int_equal(st.index_disagrees, 0);
	pl_reader_close(r);
	close(fd);

	struct th_trace whole, window;
	read_whole(src, INT64_MIN, &whole);
	if (since == INT64_MIN) {
		assert_same(&got, &whole);
	} else {
		/* What the window needs, as a reader of the finished file gets it; while the
		 * file grew, the index could not tell as much, and more was read. */
		read_whole(src, since, &window);
		assert_subsequence(&window, &got);
		assert_subsequence(&got, &whole);
		th_trace_free(&window);
	}
	assert_true(agains > FRAMES);
	th_trace_free(&got);
	th_trace_free(&whole);
	free(data);
	free(dst);
}

static size_t step_primes(size_t i)
{
	static const size_t p[] = {1, 3, 7, 13, 61, 64, 509, 2, 16, 5, 1021};
	return p[i % (sizeof(p) / sizeof(p[0]))];
}

static size_t step_one(size_t i)
{
	(void)i;
	return 1;
}

static void test_follow_growing_copy(void **state)
{
	(void)state;
	char *src = th_path(dir, "src.zst");
	write_trace(src);
	follow_copy(src, INT64_MIN, step_primes);
	follow_copy(src, INT64_MIN, step_one); /* every byte boundary */
	/* A window from the middle: frames before it are passed over by their index,
	 * also while the file grows. */
	struct th_trace whole;
	read_whole(src, INT64_MIN, &whole);
	int64_t mid = 0;
	for (size_t i = 0, starts = 0; i < whole.n; i++)
		if (whole.recs[i].kind == PL_REC_START && ++starts == FRAMES * 40 / 2)
			mid = whole.recs[i].wall_ns;
	assert_true(mid > 0);
	follow_copy(src, mid, step_primes);
	th_trace_free(&whole);
	free(src);
}

struct live {
	const char *path;
	struct pl_writer *w;
};

static void *record_live(void *arg)
{
	struct live *l = arg;
	for (int i = 0; i < LIVE_ACTIONS; i++) {
		pl_action a;
		struct pl_field in[] = {PL_F_INT("i", i)};
		pl_action_begin(&a, l->w, NULL, PL_NAME("live"), in, 1);
		pl_action_end(&a, NULL, 0);
		if (i % 500 == 0) {
			struct timespec ms = {0, 2000000};
			nanosleep(&ms, NULL);
		}
	}
	assert_int_equal(pl_writer_close(l->w), 0);
	return NULL;
}

static void test_follow_live_writer(void **state)
{
	(void)state;
	char *path = th_path(dir, "live.zst");
	struct live l = {path, th_open(path, NULL)};
	assert_int_equal(pl_writer_flush(l.w), 0); /* the header frame: openable */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, record_live, &l), 0);
	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(path, &r), 0);
	assert_int_equal(pl_reader_follow(r, 1), 0);
	struct pl_record rec = PL_RECORD_INIT;
	size_t starts = 0, ends = 0, polls = 0;
	bool stats = false;
	while (!stats) {
		int ret = pl_reader_next(r, &rec);
		if (ret == PL_AGAIN) {
			struct timespec ms = {0, 1000000};
			nanosleep(&ms, NULL);
			assert_true(++polls < 20000); /* 20 s: the writer is long done */
			continue;
		}
		assert_int_equal(ret, 0);
		starts += rec.kind == PL_REC_START;
		ends += rec.kind == PL_REC_END;
		stats = rec.kind == PL_REC_STATS;
	}
	assert_int_equal(pl_reader_next(r, &rec), PL_AGAIN); /* STATS is the last record */
	assert_int_equal(starts, LIVE_ACTIONS);
	assert_int_equal(ends, LIVE_ACTIONS);
	assert_true(polls > 0);
	pl_reader_close(r);
	pthread_join(t, NULL);
	free(path);
}

static void test_follow_damage_pipe_and_end(void **state)
{
	(void)state;
	char *src = th_path(dir, "dmg.zst");
	write_trace(src);
	struct th_trace whole;
	read_whole(src, INT64_MIN, &whole);
	uint64_t off = whole.recs[whole.n / 2].frame_offset;
	size_t len;
	uint8_t *data = th_slurp(src, &len);
	data[off + 64 + 40] ^= 0x55; /* inside the middle data frame, past its index */
	char *bad = th_path(dir, "bad.zst");
	th_spit(bad, data, len);
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	assert_int_equal(pl_reader_open(bad, &r), 0);
	assert_int_equal(pl_reader_follow(r, 1), 0);
	int ret;
	while ((ret = pl_reader_next(r, &rec)) == 0)
		;
	assert_int_equal(ret, -PL_ECORRUPT);
	assert_int_equal(pl_reader_error(r)->offset, off);
	assert_int_equal(pl_reader_follow(r, 1), -PL_EINVAL);
	pl_reader_close(r);

	/* Follow turned on after PL_END reads what was appended since: here, a file cut
	 * after its first frames, then completed. */
	char *part = th_path(dir, "part.zst");
	th_spit(part, data, (size_t)whole.recs[whole.n / 4].frame_offset); /* before the damage */
	assert_int_equal(pl_reader_open(part, &r), 0);
	size_t n = 0;
	while ((ret = pl_reader_next(r, &rec)) == 0)
		n++;
	assert_int_equal(ret, PL_END);
	assert_true(n > 0 && n < whole.n);
	free(data);
	data = th_slurp(src, &len); /* undamaged */
	int fd = open(part, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	size_t have = (size_t)whole.recs[whole.n / 4].frame_offset;
	assert_int_equal(write(fd, data + have, len - have), (ssize_t)(len - have));
	close(fd);
	assert_int_equal(pl_reader_follow(r, 1), 0);
	while ((ret = pl_reader_next(r, &rec)) == 0)
		n++;
	assert_int_equal(ret, PL_AGAIN);
	assert_int_equal(n, whole.n);
	pl_reader_close(r);

	/* A pipe cannot be followed (its end is its writer's), nor can NULL. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], data, len), (ssize_t)len);
	close(p[1]);
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", p[0]);
	assert_int_equal(pl_reader_open(fdpath, &r), 0);
	assert_int_equal(pl_reader_follow(r, 1), -PL_EINVAL);
	pl_reader_close(r);
	close(p[0]);
	assert_int_equal(pl_reader_follow(NULL, 1), -PL_EINVAL);
	th_trace_free(&whole);
	free(data);
	free(src);
	free(bad);
	free(part);
}

static int setup(void **state)
{
	(void)state;
	dir = th_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_follow_growing_copy),
	    cmocka_unit_test(test_follow_live_writer),
	    cmocka_unit_test(test_follow_damage_pipe_and_end),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
