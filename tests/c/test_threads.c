/* SPDX-License-Identifier: MIT */
/* test_threads.c - the writer under concurrency, checked by reading the trace back.
 *
 * - Many threads record into one PL_FULL_BLOCK writer: every (thread, seq) arrives exactly
 *   once, in order within each trace thread, nothing is dropped, STATS counts every event.
 * - Short-lived threads created and joined in waves under a memory cap that only holds
 *   one wave of rings: the rings of exited threads must be reclaimed, every event arrives.
 * - The same threads alternate between two writers: each file holds exactly its half.
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

#include <cmocka.h>

#include "helpers.h"

#define NTHREADS      8
#define NACTIONS      20000
#define SHORT_THREADS 200
#define SHORT_EVENTS  100
#define SHORT_WAVE    4
#define ALT_THREADS   3
#define ALT_EVENTS    6000
/* PL_MIN_RING_BYTES (liblog/src/common/config.h): rings are rounded up to a power of 2. */
#define RING_BYTES (256u << 10)

/* ---- streaming read-back (the big traces do not fit th_read_all's copies) ---- */

typedef void (*rec_fn)(void *ctx, const struct pl_record *rec);

/* Feed every record of @path to @fn; returns the final status (PL_END or negative). */
static int read_stream(const char *path, rec_fn fn, void *ctx)
{
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	int ret = pl_reader_open(path, &r);
	if (ret == 0)
		while ((ret = pl_reader_next(r, &rec)) == 0)
			fn(ctx, &rec);
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(r);
		print_error("%s: %s at offset %" PRIu64 ": %s\n", path, pl_strerror(ret), e->offset,
			    e->reason);
	}
	pl_reader_close(r);
	return ret;
}

static const pl_value *field(const struct pl_record *rec, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < rec->nfields; i++)
		if (rec->fields[i].key_len == kl && memcmp(rec->fields[i].key, key, kl) == 0)
			return &rec->fields[i].value;
	return NULL;
}

static int64_t int_field(const struct pl_record *rec, const char *key)
{
	const pl_value *v = field(rec, key);
	if (!v)
		fail_msg("record kind %d has no field %s", rec->kind, key);
	if (v->type == PL_VALUE_UINT)
		return (int64_t)v->v.u;
	assert_int_equal(v->type, PL_VALUE_INT);
	return v->v.i;
}

/* What a checker learns about one trace thread number. */
struct tinfo {
	int worker;	/* worker index seen in its records, -1 before the first */
	int64_t next;	/* next expected sequence number */
	bool in_action; /* a START was seen, its END not yet */
	int nthread;	/* THREAD records */
	char name[64];	/* last THREAD name */
};

#define MAX_TRACE_THREADS 1024

struct check {
	struct tinfo th[MAX_TRACE_THREADS];
	int nworkers;
	int64_t per_worker;		  /* events (or actions) each worker recorded */
	int64_t seen[SHORT_THREADS];	  /* records of each worker */
	int worker_thread[SHORT_THREADS]; /* trace thread number of each worker */
	int64_t stride, offset;		  /* worker seq values are offset + k * stride */
	uint64_t starts, ends, messages, dropped, stats_events, nstats;
	bool actions; /* START/END pairs (else MESSAGE) */
};

static void check_init(struct check *c, int nworkers, int64_t per_worker, bool actions)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < MAX_TRACE_THREADS; i++)
		c->th[i].worker = -1;
	c->nworkers = nworkers;
	c->per_worker = per_worker;
	c->actions = actions;
	c->stride = 1;
	for (int i = 0; i < SHORT_THREADS; i++)
		c->worker_thread[i] = -1;
}

/* Each record of a worker carries t (worker index) and i (its sequence number). */
static void check_rec(void *ctx, const struct pl_record *rec)
{
	struct check *c = ctx;
	if (rec->kind == PL_REC_DROPPED) {
		c->dropped++;
		print_error("unexpected DROPPED %" PRIu64 " (%s) in thread %u\n", rec->count,
			    rec->name, rec->thread);
		return;
	}
	if (rec->kind == PL_REC_STATS) {
		c->nstats++;
		c->stats_events = (uint64_t)int_field(rec, "events");
		assert_int_equal(int_field(rec, "dropped_full"), 0);
		assert_int_equal(int_field(rec, "dropped_oversize"), 0);
		assert_int_equal(int_field(rec, "dropped_no_buffer"), 0);
		assert_int_equal(int_field(rec, "dropped_write"), 0);
		return;
	}
	assert_true(rec->thread > 0 && rec->thread < MAX_TRACE_THREADS);
	struct tinfo *ti = &c->th[rec->thread];
	if (rec->kind == PL_REC_THREAD) {
		snprintf(ti->name, sizeof(ti->name), "%s", rec->name);
		assert_true(rec->tid > 0);
		ti->nthread++;
		return;
	}
	/* A thread is described (THREAD record) before its first event. */
	if (ti->nthread == 0)
		fail_msg("trace thread %u: record kind %d before any THREAD record", rec->thread,
			 rec->kind);
	/* END carries only i: its worker is the one of its trace thread. */
	int64_t t = rec->kind == PL_REC_END && !field(rec, "t") ? ti->worker : int_field(rec, "t");
	int64_t i = int_field(rec, "i");
	assert_true(t >= 0 && t < c->nworkers);
	if (ti->worker < 0) {
		/* A worker records from one thread: one trace thread number per worker. */
		if (c->worker_thread[t] >= 0)
			fail_msg("worker %" PRId64 " appears as threads %d and %u", t,
				 c->worker_thread[t], rec->thread);
		ti->worker = (int)t;
		ti->next = c->offset;
		c->worker_thread[t] = (int)rec->thread;
	} else if (ti->worker != t) {
		fail_msg("trace thread %u carries workers %d and %" PRId64, rec->thread, ti->worker,
			 t);
	}
	switch (rec->kind) {
	case PL_REC_START:
		assert_true(c->actions);
		assert_false(ti->in_action);
		if (i != ti->next)
			fail_msg("thread %u (worker %" PRId64 "): START i=%" PRId64
				 ", expected %" PRId64,
				 rec->thread, t, i, ti->next);
		assert_string_equal(rec->type, "work");
		ti->in_action = true;
		c->starts++;
		c->seen[t]++;
		break;
	case PL_REC_END:
		assert_true(c->actions);
		assert_true(ti->in_action);
		assert_int_equal(i, ti->next);
		assert_int_equal(rec->outcome, PL_SUCCEEDED);
		ti->in_action = false;
		ti->next += c->stride;
		c->ends++;
		break;
	case PL_REC_MESSAGE:
		assert_false(c->actions);
		if (i != ti->next)
			fail_msg("thread %u (worker %" PRId64 "): message i=%" PRId64
				 ", expected %" PRId64,
				 rec->thread, t, i, ti->next);
		assert_string_equal(rec->type, "tick");
		ti->next += c->stride;
		c->messages++;
		c->seen[t]++;
		break;
	default:
		fail_msg("unexpected record kind %d", rec->kind);
	}
}

/* After the whole file: every worker complete, nothing else. */
static void check_done(struct check *c, uint64_t total_events, int thread_recs)
{
	for (int t = 0; t < c->nworkers; t++) {
		if (c->seen[t] != c->per_worker)
			fail_msg("worker %d: %" PRId64 " records, expected %" PRId64, t, c->seen[t],
				 c->per_worker);
		int tn = c->worker_thread[t];
		assert_true(tn > 0);
		assert_false(c->th[tn].in_action);
		if (c->th[tn].nthread != thread_recs)
			fail_msg("worker %d (trace thread %d): %d THREAD records, expected %d", t,
				 tn, c->th[tn].nthread, thread_recs);
	}
	assert_int_equal(c->dropped, 0);
	assert_int_equal(c->nstats, 1);
	assert_int_equal(c->stats_events, total_events);
	if (c->actions) {
		assert_int_equal(c->starts, (uint64_t)c->nworkers * (uint64_t)c->per_worker);
		assert_int_equal(c->ends, c->starts);
	} else {
		assert_int_equal(c->messages, (uint64_t)c->nworkers * (uint64_t)c->per_worker);
	}
}

/* ---- many threads, one writer ---- */

struct worker {
	struct pl_writer *w, *w2; /* w2: alternate with it when not NULL */
	int index;
	int count;
	pthread_barrier_t *start;
};

static void *action_worker(void *arg)
{
	struct worker *wk = arg;
	char name[32];
	snprintf(name, sizeof(name), "worker-%d", wk->index);
	pl_thread_name(wk->w, name);
	if (wk->start)
		pthread_barrier_wait(wk->start);
	for (int i = 0; i < wk->count; i++) {
		pl_action a;
		struct pl_field f[] = {PL_F_INT("t", wk->index), PL_F_INT("i", i)};
		pl_action_begin(&a, wk->w, NULL, PL_NAME("work"), f, 2);
		pl_action_end(&a, f + 1, 1);
	}
	return NULL;
}

static void set_block(struct pl_writer_options *o)
{
	o->full_policy = PL_FULL_BLOCK;
}

static void test_many_threads_one_writer(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "threads.pl");
	struct pl_writer *w = th_open(path, set_block);
	pthread_t tids[NTHREADS];
	struct worker wk[NTHREADS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, NTHREADS);
	for (int t = 0; t < NTHREADS; t++) {
		wk[t] = (struct worker){.w = w, .index = t, .count = NACTIONS, .start = &start};
		assert_int_equal(pthread_create(&tids[t], NULL, action_worker, &wk[t]), 0);
	}
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(tids[t], NULL);
	pthread_barrier_destroy(&start);

	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	/* START and END of every action, and each worker's pl_thread_name() event. */
	const uint64_t total = 2ull * NTHREADS * NACTIONS + NTHREADS;
	print_message("events %" PRIu64 " blocked %" PRIu64 " frames %" PRIu64 "\n", st.events,
		      st.blocked, st.frames);
	assert_int_equal(st.events, total);
	assert_int_equal(st.dropped_full + st.dropped_oversize + st.dropped_no_buffer, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct check *c = malloc(sizeof(*c));
	assert_non_null(c);
	check_init(c, NTHREADS, NACTIONS, true);
	assert_int_equal(read_stream(path, check_rec, c), PL_END);
	/* Each worker's thread: described at its first event, then named. */
	check_done(c, total, 2);
	/* pl_thread_name() reached the trace for every worker's thread. */
	for (int t = 0; t < NTHREADS; t++) {
		char want[32];
		snprintf(want, sizeof(want), "worker-%d", t);
		assert_string_equal(c->th[c->worker_thread[t]].name, want);
	}
	free(c);
	free(path);
	th_rmdir(dir);
}

/* ---- short-lived threads ---- */

static void *message_worker(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < wk->count; i++) {
		struct pl_field f[] = {PL_F_INT("t", wk->index), PL_F_INT("i", i)};
		pl_message(wk->w, NULL, PL_NAME("tick"), f, 2);
	}
	return NULL;
}

/* Room for exactly one wave of rings: later waves need the rings of exited threads back. */
static void set_short_lived(struct pl_writer_options *o)
{
	o->full_policy = PL_FULL_BLOCK;
	o->buffer_size = RING_BYTES;
	o->max_memory = (uint64_t)SHORT_WAVE * RING_BYTES;
	o->flush_interval_ms = 3600u * 1000u; /* reclaim only on our flushes */
}

/* Reclaimed by the background flusher while new threads keep coming. */
static void set_short_lived_fast(struct pl_writer_options *o)
{
	o->full_policy = PL_FULL_BLOCK;
	o->buffer_size = RING_BYTES;
	o->flush_interval_ms = 2;
}

static void run_short_lived(void (*tweak)(struct pl_writer_options *), bool flush_each_wave)
{
	char *dir = th_tmpdir();
	char *path = th_path(dir, "short.pl");
	struct pl_writer *w = th_open(path, tweak);
	struct worker wk[SHORT_WAVE];
	pthread_t tids[SHORT_WAVE];
	for (int base = 0; base < SHORT_THREADS; base += SHORT_WAVE) {
		for (int k = 0; k < SHORT_WAVE; k++) {
			wk[k] = (struct worker){.w = w, .index = base + k, .count = SHORT_EVENTS};
			assert_int_equal(pthread_create(&tids[k], NULL, message_worker, &wk[k]), 0);
		}
		for (int k = 0; k < SHORT_WAVE; k++)
			pthread_join(tids[k], NULL);
		if (flush_each_wave)
			assert_int_equal(pl_writer_flush(w), 0);
	}
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	print_message("events %" PRIu64 " no_buffer %" PRIu64 " frames %" PRIu64 "\n", st.events,
		      st.dropped_no_buffer, st.frames);
	assert_int_equal(st.dropped_no_buffer, 0);
	assert_int_equal(st.dropped_full + st.dropped_oversize, 0);
	assert_int_equal(st.events, (uint64_t)SHORT_THREADS * SHORT_EVENTS);
	assert_int_equal(pl_writer_close(w), 0);

	struct check *c = malloc(sizeof(*c));
	assert_non_null(c);
	check_init(c, SHORT_THREADS, SHORT_EVENTS, false);
	assert_int_equal(read_stream(path, check_rec, c), PL_END);
	check_done(c, (uint64_t)SHORT_THREADS * SHORT_EVENTS, 1);
	free(c);
	free(path);
	th_rmdir(dir);
}

static void test_short_lived_threads_capped(void **state)
{
	(void)state;
	run_short_lived(set_short_lived, true);
}

static void test_short_lived_threads_background(void **state)
{
	(void)state;
	run_short_lived(set_short_lived_fast, false);
}

/* ---- two writers, alternately ---- */

static void *alternate_worker(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < wk->count; i++) {
		struct pl_field f[] = {PL_F_INT("t", wk->index), PL_F_INT("i", i)};
		pl_message(i % 2 ? wk->w2 : wk->w, NULL, PL_NAME("tick"), f, 2);
	}
	return NULL;
}

static void test_two_writers_alternately(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *p1 = th_path(dir, "one.pl"), *p2 = th_path(dir, "two.pl");
	struct pl_writer *w1 = th_open(p1, set_block), *w2 = th_open(p2, set_block);
	/* The main thread is worker 0; the others run beside it. */
	struct worker wk[ALT_THREADS];
	pthread_t tids[ALT_THREADS];
	for (int t = 0; t < ALT_THREADS; t++) {
		wk[t] = (struct worker){.w = w1, .w2 = w2, .index = t, .count = ALT_EVENTS};
		if (t > 0)
			assert_int_equal(pthread_create(&tids[t], NULL, alternate_worker, &wk[t]),
					 0);
	}
	alternate_worker(&wk[0]);
	for (int t = 1; t < ALT_THREADS; t++)
		pthread_join(tids[t], NULL);

	const uint64_t half = (uint64_t)ALT_THREADS * ALT_EVENTS / 2;
	struct pl_writer_stats s1 = PL_WRITER_STATS_INIT, s2 = PL_WRITER_STATS_INIT;
	pl_writer_stats(w1, &s1);
	pl_writer_stats(w2, &s2);
	assert_int_equal(s1.events, half);
	assert_int_equal(s2.events, half);
	assert_int_equal(pl_writer_close(w1), 0);
	assert_int_equal(pl_writer_close(w2), 0);

	/* one.pl holds the even i of every worker, two.pl the odd ones, each in order. */
	struct check *c = malloc(sizeof(*c));
	assert_non_null(c);
	check_init(c, ALT_THREADS, ALT_EVENTS / 2, false);
	c->stride = 2;
	assert_int_equal(read_stream(p1, check_rec, c), PL_END);
	check_done(c, half, 1);
	check_init(c, ALT_THREADS, ALT_EVENTS / 2, false);
	c->stride = 2;
	c->offset = 1;
	assert_int_equal(read_stream(p2, check_rec, c), PL_END);
	check_done(c, half, 1);

	/* The main thread keeps rings of closed writers; a new writer still gets its events. */
	char *p3 = th_path(dir, "three.pl");
	struct pl_writer *w3 = th_open(p3, set_block);
	wk[0] = (struct worker){.w = w3, .w2 = w3, .index = 0, .count = 10};
	alternate_worker(&wk[0]);
	assert_int_equal(pl_writer_close(w3), 0);
	check_init(c, 1, 10, false);
	assert_int_equal(read_stream(p3, check_rec, c), PL_END);
	check_done(c, 10, 1);

	free(c);
	free(p1);
	free(p2);
	free(p3);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many_threads_one_writer),
	    cmocka_unit_test(test_short_lived_threads_capped),
	    cmocka_unit_test(test_short_lived_threads_background),
	    cmocka_unit_test(test_two_writers_alternately),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
