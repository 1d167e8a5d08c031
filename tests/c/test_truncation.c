/* SPDX-License-Identifier: MIT */
/* test_truncation.c - the reader on damaged files: truncation at every byte offset, random
 * corruption, and files that are not traces at all.
 *
 * A small multi-frame trace is written with known frame boundaries (the file size after
 * open, after each pl_writer_flush() and after close). Every prefix of it must read back
 * as a prefix of the full file's records: PL_END exactly when the cut is a frame
 * boundary, otherwise an error with a reason and an offset inside the torn frame. Random
 * byte damage must never crash, never invent records, and always explain itself.
 * The sample is written once, by the process's first writer; each test damages copies
 * of it in a fresh directory of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"

#define BATCHES		   5
#define REQUESTS	   8 /* per batch, 5 events each: 200 events in all */
#define CORRUPT_ITERATIONS 2000
#define MAX_BOUNDARIES	   (BATCHES + 2)

/* ---- rendering: a record as one comparable line ---- */

static void render(const struct th_rec *r, char *buf, size_t len)
{
	snprintf(buf, len,
		 "k=%d ts=%" PRIu64 " wall=%" PRId64 " th=%u tid=%u task=%s type=%s f={%s} out=%d"
		 " dur=%" PRIu64 " exc=%s/%s name=%s count=%" PRIu64,
		 r->kind, r->ts_ns, r->wall_ns, r->thread, r->tid, r->task, r->type, r->fields,
		 r->outcome, r->duration_ns, r->exc_type, r->exc_msg, r->name, r->count);
}

/* The full file's records, rendered once. */
struct expect {
	char **lines;
	size_t n;
};

static void expect_init(struct expect *e, const struct th_trace *t)
{
	e->n = t->n;
	e->lines = calloc(t->n ? t->n : 1, sizeof(char *));
	assert_non_null(e->lines);
	for (size_t i = 0; i < t->n; i++) {
		char buf[4096];
		render(&t->recs[i], buf, sizeof(buf));
		e->lines[i] = strdup(buf);
		assert_non_null(e->lines[i]);
	}
}

static void expect_free(struct expect *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->lines[i]);
	free(e->lines);
}

/* Problems found in one test: each is printed (the first MAX_REPORTS), the test fails
 * at its end, so one run shows every kind of failure. */
#define MAX_REPORTS 20
static size_t nproblems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void problem(const char *fmt, ...)
{
	if (nproblems++ < MAX_REPORTS) {
		char buf[1024];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		print_error("%s\n", buf);
	}
}

static void no_problems(void)
{
	if (nproblems)
		fail_msg("%zu problems (the first %d printed above)", nproblems, MAX_REPORTS);
}

/* Report unless @t's records are the first t->n records of @e. */
static void check_prefix(const struct expect *e, const struct th_trace *t, const char *what)
{
	if (t->n > e->n) {
		problem("%s: %zu records, the full file has only %zu", what, t->n, e->n);
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		char buf[4096];
		render(&t->recs[i], buf, sizeof(buf));
		if (strcmp(buf, e->lines[i]) != 0) {
			problem("%s: record %zu differs\n  got:  %s\n  want: %s", what, i, buf,
				e->lines[i]);
			return;
		}
	}
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* ---- the sample trace ---- */

/* No frame but those we ask for: the flusher's timer never fires during the test. */
static void set_manual_frames(struct pl_writer_options *o)
{
	o->flush_interval_ms = 3600u * 1000u;
}

static void record_batch(struct pl_writer *w, int b)
{
	for (int i = 0; i < REQUESTS; i++) {
		pl_action root, child;
		pl_value arr[] = {PL_V_INT(i), PL_V_STR("x"), PL_V_BOOL(i & 1)};
		struct pl_kv map[] = {{"k", 1, PL_V_FLOAT(0.5 * i)}};
		struct pl_field in[] = {PL_F_INT("batch", b), PL_F_INT("i", i),
					PL_F_STR("word", "hello"), PL_F("arr", PL_V_ARRAY(arr, 3)),
					PL_F("map", PL_V_MAP(map, 1))};
		pl_action_begin(&root, w, NULL, PL_NAME("request"), in, 5);
		pl_action_begin(&child, w, &root, PL_NAME("step"), in + 1, 1);
		pl_message(w, &child, PL_NAME("note"), in + 2, 1);
		if (i % 3 == 0)
			pl_action_fail(&child, "builtins.ValueError", 19, "bad value", 9, NULL, 0);
		else
			pl_action_end(&child, in + 1, 1);
		struct pl_field out[] = {PL_F_UINT("result", UINT64_MAX - (uint64_t)i)};
		pl_action_end(&root, out, 1);
	}
}

/* Write the trace; @bounds receives the file size at every frame boundary. */
static size_t write_sample(const char *path, uint64_t *bounds)
{
	size_t nb = 0;
	struct pl_writer *w = th_open(path, set_manual_frames);
	bounds[nb++] = file_size(path); /* the magic and header frames */
	for (int b = 0; b < BATCHES; b++) {
		if (b == 2)
			pl_thread_name(w, "renamed");
		record_batch(w, b);
		assert_int_equal(pl_writer_flush(w), 0);
		bounds[nb++] = file_size(path);
	}
	assert_int_equal(pl_writer_close(w), 0);
	bounds[nb++] = file_size(path); /* the final frame with STATS */
	for (size_t i = 1; i < nb; i++)
		assert_true(bounds[i] > bounds[i - 1]);
	return nb;
}

/* The sample, written once (group setup) by the process's first writer; each test
 * writes its damaged copies into a fresh directory of its own. */
struct sample {
	char *sample_dir, *path;
	char *dir, *cut; /* this test's */
	uint8_t *data;
	size_t size;
	uint64_t bounds[MAX_BOUNDARIES];
	size_t nbounds;
	struct th_trace full;
	struct expect exp;
};

static int group_setup(void **state)
{
	struct sample *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->sample_dir = th_tmpdir();
	s->path = th_path(s->sample_dir, "sample.pl");
	s->nbounds = write_sample(s->path, s->bounds);
	s->data = th_slurp(s->path, &s->size);
	assert_int_equal(s->size, s->bounds[s->nbounds - 1]);
	assert_int_equal(th_read_all(s->path, &s->full), PL_END);
	expect_init(&s->exp, &s->full);
	print_message("sample: %zu bytes, %zu records, %zu frame boundaries\n", s->size, s->full.n,
		      s->nbounds);
	*state = s;
	return 0;
}

static int group_teardown(void **state)
{
	struct sample *s = *state;
	expect_free(&s->exp);
	th_trace_free(&s->full);
	free(s->data);
	free(s->path);
	th_rmdir(s->sample_dir);
	free(s);
	return 0;
}

static int test_setup(void **state)
{
	struct sample *s = *state;
	s->dir = th_tmpdir();
	s->cut = th_path(s->dir, "cut.pl");
	return 0;
}

static int test_teardown(void **state)
{
	struct sample *s = *state;
	free(s->cut);
	th_rmdir(s->dir);
	s->cut = s->dir = NULL;
	return 0;
}

/* The undamaged sample holds what was recorded: the baseline of the other tests. */
static void test_sample_reads_back(void **state)
{
	struct sample *s = *state;
	const struct th_trace *t = &s->full;
	assert_int_equal(th_count(t, PL_REC_START, "request"), BATCHES * REQUESTS);
	assert_int_equal(th_count(t, PL_REC_START, "step"), BATCHES * REQUESTS);
	assert_int_equal(th_count(t, PL_REC_MESSAGE, "note"), BATCHES * REQUESTS);
	assert_int_equal(th_count(t, PL_REC_END, NULL), 2 * BATCHES * REQUESTS);
	assert_int_equal(th_count(t, PL_REC_DROPPED, NULL), 0);
	assert_int_equal(th_count(t, PL_REC_STATS, NULL), 1);
	assert_int_equal(t->recs[t->n - 1].kind, PL_REC_STATS);
	/* The recording thread is described before its first event, then renamed. */
	size_t nthread = th_count(t, PL_REC_THREAD, NULL);
	if (nthread != 2)
		fail_msg("%zu THREAD records, want 2 (the thread's first appearance, its rename)",
			 nthread);
	assert_int_equal(t->recs[0].kind, PL_REC_THREAD);
	assert_true(t->recs[0].tid > 0);
	/* Each record names its frame: the first at 16 (after the magic frame), the others at
	 * the boundaries measured while writing, in file order. */
	uint64_t prev = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint64_t fo = t->recs[i].frame_offset;
		bool known = fo == 16;
		for (size_t k = 0; k + 1 < s->nbounds; k++)
			known = known || fo == s->bounds[k];
		if (!known || fo < prev)
			fail_msg("record %zu: frame_offset %" PRIu64 " (previous %" PRIu64 ")", i,
				 fo, prev);
		prev = fo;
	}
	assert_int_equal(prev, s->bounds[s->nbounds - 2]); /* STATS: in the last frame */
	assert_int_equal(t->n, 5 * BATCHES * REQUESTS + 3);
}

/* Records in the file cut at @cut, counted at each boundary as the cuts pass them. */
static void test_truncate_every_offset(void **state)
{
	struct sample *s = *state;
	size_t at_bound[MAX_BOUNDARIES] = {0};
	nproblems = 0;
	/* Cutting at the final size is the full file itself. */
	for (size_t cut = 0; cut <= s->size; cut++) {
		th_spit(s->cut, s->data, cut);
		struct th_trace t;
		int ret = th_read_all(s->cut, &t);
		char what[64];
		snprintf(what, sizeof(what), "cut at %zu of %zu", cut, s->size);
		check_prefix(&s->exp, &t, what);

		/* The last boundary at or before the cut, if any. */
		size_t b = s->nbounds;
		while (b > 0 && s->bounds[b - 1] > cut)
			b--;
		bool at_boundary = b > 0 && s->bounds[b - 1] == cut;
		if (at_boundary) {
			if (ret != PL_END)
				problem("%s (a frame boundary): %s at %" PRIu64 ": %s", what,
					pl_strerror(ret), t.err_offset, t.err_reason);
			at_bound[b - 1] = t.n;
		} else if (ret >= 0) {
			problem("%s (inside a frame): status %d, want an error", what, ret);
		} else {
			if (t.err_reason[0] == '\0')
				problem("%s: %s without a reason", what, pl_strerror(ret));
			if (t.err_offset > cut)
				problem("%s: error offset %" PRIu64 " is past the cut", what,
					t.err_offset);
			if (b > 0) {
				/* Every whole frame before the cut is delivered; the damage is
				 * reported in the torn frame, not before it. */
				if (t.n < at_bound[b - 1])
					problem("%s: %zu records, the frames before it hold %zu",
						what, t.n, at_bound[b - 1]);
				if (t.err_offset < s->bounds[b - 1])
					problem("%s: error offset %" PRIu64
						" is before the torn frame at %" PRIu64,
						what, t.err_offset, s->bounds[b - 1]);
			} else if (t.n != 0) {
				problem("%s: %zu records before the first whole frame", what, t.n);
			}
			/* A file that ends inside a frame (or before the first) is truncated,
			 * not corrupt. */
			if (ret != -PL_ETRUNCATED)
				problem("%s: %s (%s), want %s", what, pl_strerror(ret),
					t.err_reason, pl_strerror(-PL_ETRUNCATED));
		}
		th_trace_free(&t);
	}
	no_problems();
	/* The boundaries split the records: every flushed batch added some. */
	for (size_t b = 1; b < s->nbounds; b++)
		assert_true(at_bound[b] > at_bound[b - 1]);
	assert_int_equal(at_bound[s->nbounds - 1], s->full.n);
}

/* ---- random corruption ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t seed_from_env(void)
{
	const char *e = getenv("PERFLOG_TEST_SEED");
	if (e && *e)
		return strtoull(e, NULL, 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
}

static void test_random_corruption(void **state)
{
	struct sample *s = *state;
	uint64_t seed = seed_from_env();
	print_message("seed %" PRIu64 " (set PERFLOG_TEST_SEED to replay)\n", seed);
	rng_state = seed;
	uint8_t *buf = malloc(s->size);
	assert_non_null(buf);
	size_t errors = 0, clean = 0;
	nproblems = 0;
	for (int it = 0; it < CORRUPT_ITERATIONS; it++) {
		memcpy(buf, s->data, s->size);
		int nmut = 1 + (int)(rng() % 4);
		char what[160];
		int wl = snprintf(what, sizeof(what), "seed %" PRIu64 " iteration %d:", seed, it);
		for (int m = 0; m < nmut; m++) {
			size_t off = (size_t)(rng() % s->size);
			switch (rng() % 3) {
			case 0:
				buf[off] ^= (uint8_t)(1u << (rng() % 8));
				break;
			case 1:
				buf[off] = (uint8_t)rng();
				break;
			default:
				buf[off] = (uint8_t)~buf[off];
				break;
			}
			if (wl > 0 && (size_t)wl < sizeof(what))
				wl += snprintf(what + wl, sizeof(what) - (size_t)wl, " @%zu", off);
		}
		th_spit(s->cut, buf, s->size);
		struct th_trace t;
		int ret = th_read_all(s->cut, &t);
		check_prefix(&s->exp, &t, what);
		if (ret < 0) {
			errors++;
			if (t.err_reason[0] == '\0')
				problem("%s %s without a reason", what, pl_strerror(ret));
			if (t.err_offset >= s->size)
				problem("%s error offset %" PRIu64
					" is not inside the %zu-byte file",
					what, t.err_offset, s->size);
		} else {
			if (ret != PL_END)
				problem("%s status %d", what, ret);
			clean++;
		}
		th_trace_free(&t);
	}
	print_message("%zu damaged reads reported an error, %zu read cleanly\n", errors, clean);
	no_problems();
	/* Almost every change is caught (checksums); a clean read is a harmless byte. */
	assert_true(errors > CORRUPT_ITERATIONS / 2);
	free(buf);
}

/* A frame whose header lost its checksum flag (one bit) must be refused, not decoded:
 * without the checksum, damage inside the frame would go unnoticed. Frames start at
 * byte 16 (after the magic frame) and at every recorded boundary but the last, each
 * with its 64-byte index frame (docs/format.md) before the zstd frame; the error names
 * the index's offset, where the writer's unit begins. */
static void test_checksum_flag_cleared(void **state)
{
	struct sample *s = *state;
	uint8_t *buf = malloc(s->size);
	assert_non_null(buf);
	nproblems = 0;
	for (size_t k = 0; k < s->nbounds; k++) {
		size_t start = k == 0 ? 16 : (size_t)s->bounds[k - 1];
		if (start + 64 + 5 > s->size)
			continue;
		memcpy(buf, s->data, s->size);
		static const uint8_t imagic[4] = {0x5F, 0x2A, 0x4D, 0x18};
		static const uint8_t zmagic[4] = {0x28, 0xB5, 0x2F, 0xFD};
		assert_memory_equal(buf + start, imagic, 4);
		size_t data = start + 64;
		assert_memory_equal(buf + data, zmagic, 4);
		assert_true(buf[data + 4] & 0x04);
		buf[data + 4] &= (uint8_t)~0x04;
		th_spit(s->cut, buf, s->size);
		struct th_trace t;
		char what[64];
		snprintf(what, sizeof(what), "frame at %zu without checksum flag:", start);
		int ret = th_read_all(s->cut, &t);
		check_prefix(&s->exp, &t, what);
		if (ret != -PL_ECORRUPT)
			problem("%s status %d, want -PL_ECORRUPT", what, ret);
		else if (t.err_offset != start)
			problem("%s error offset %" PRIu64 ", want %zu", what, t.err_offset, start);
		th_trace_free(&t);
	}
	free(buf);
	no_problems();
}

/* An index frame whose length field is damaged must be refused: zstd, which sees a
 * skippable frame, would follow the length and pass over real frames without a word. The
 * worst case: a length that lands exactly on a later frame, skipping whole frames. */
static void test_index_length_damaged(void **state)
{
	struct sample *s = *state;
	uint8_t *buf = malloc(s->size);
	assert_non_null(buf);
	nproblems = 0;
	for (size_t k = 0; k + 1 < s->nbounds; k++) {
		size_t start = k == 0 ? 16 : (size_t)s->bounds[k - 1];
		size_t to = (size_t)s->bounds[k + 1]; /* skip this unit and the next */
		memcpy(buf, s->data, s->size);
		uint32_t len = (uint32_t)(to - start - 8);
		memcpy(buf + start + 4, &len, 4);
		th_spit(s->cut, buf, s->size);
		struct th_trace t;
		char what[80];
		snprintf(what, sizeof(what), "index at %zu with length %u:", start, len);
		int ret = th_read_all(s->cut, &t);
		check_prefix(&s->exp, &t, what);
		if (ret != -PL_ECORRUPT)
			problem("%s status %d, want -PL_ECORRUPT", what, ret);
		else if (t.err_offset != start)
			problem("%s error offset %" PRIu64 ", want %zu", what, t.err_offset, start);
		th_trace_free(&t);
	}
	free(buf);
	no_problems();
}

/* ---- not a trace ---- */

/* Open @path: the open fails with @want, the error names the file and says why, and
 * pl_reader_next() keeps returning the error. */
static void expect_open_error(const char *path, int want)
{
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	int ret = pl_reader_open(path, &r);
	if (ret != want)
		fail_msg("%s: open returned %d (%s), want %d (%s)", path, ret, pl_strerror(ret),
			 want, pl_strerror(want));
	assert_non_null(r);
	const struct pl_reader_error *e = pl_reader_error(r);
	assert_int_equal(e->status, want);
	assert_non_null(e->path);
	assert_string_equal(e->path, path);
	assert_non_null(e->reason);
	assert_true(e->reason[0] != '\0');
	print_message("%s: %s at %" PRIu64 ": %s\n", path, pl_strerror(ret), e->offset, e->reason);
	assert_int_equal(pl_reader_next(r, &rec), want);
	pl_reader_close(r);
}

static void test_not_a_trace(void **state)
{
	struct sample *s = *state;
	char *empty = th_path(s->dir, "empty.pl");
	char *text = th_path(s->dir, "text.pl");
	char *future = th_path(s->dir, "future.pl");
	char *missing = th_path(s->dir, "missing.pl");

	th_spit(empty, NULL, 0);
	expect_open_error(empty, -PL_ETRUNCATED);

	static const char words[] = "this is a text file, not a perflog trace at all\n";
	th_spit(text, (const uint8_t *)words, sizeof(words) - 1);
	expect_open_error(text, -PL_EFORMAT);

	/* A valid trace but for the version byte ending the magic frame. */
	uint8_t *copy = malloc(s->size);
	assert_non_null(copy);
	memcpy(copy, s->data, s->size);
	assert_memory_equal(copy + 8, "PERFLOG", 7);
	assert_int_equal(copy[15], 2); /* docs/format.md: version 2 */
	copy[15] = 3;
	th_spit(future, copy, s->size);
	expect_open_error(future, -PL_EVERSION);
	free(copy);

	expect_open_error(missing, -PL_EIO);

	free(empty);
	free(text);
	free(future);
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample_reads_back),
	    cmocka_unit_test_setup_teardown(test_truncate_every_offset, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_random_corruption, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_checksum_flag_cleared, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_index_length_damaged, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_trace, test_setup, test_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
