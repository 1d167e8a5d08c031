/* SPDX-License-Identifier: MIT */
/* test_fastpath.c - the reader's fast path (reader.c) delivers exactly what the generic
 * path (msgpack-c's unpacker) does, and fails exactly where and as it does.
 *
 * - A trace of every kind of record and value liblog's writer makes: fields of every
 *   scalar type and length class (fixstr, str8, str16; ints of every width, negative,
 *   above INT64_MAX), containers and more than 15 fields (generic path), levels deeper
 *   than the fast path takes, remote tasks, failed ENDs with and without a message,
 *   messages, two threads. Read four ways (fast or generic, fields decoded or skipped):
 *   the same records, member by member (a digest of them all).
 * - The same trace's frame contents, damaged at random (bytes changed, array, map and
 *   str headers made longer or shorter, cut short) and read both ways, 3000 times: the
 *   same records, the same error, at the same offset.
 * - The fast path is taken: pl_reader_stats() counts the records it left to the generic
 *   path, and PERFLOG_READER_GENERIC=1 leaves it all of them. (The writer puts events in
 *   BLOCK records, format 2, whose events both paths decode alike once the record is
 *   opened; version 1's event records are tested on tests/fixtures/v1.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "../fuzz/fuzz_common.h"
#include "helpers.h"

static char *dir, *path;

static char big[3000]; /* filled by setup(), before the second thread starts */

static void record_all_kinds(struct pl_writer *w, int salt)
{
	pl_value items[] = {PL_V_INT(1), PL_V_STR("two"), PL_V_FLOAT(3.5)};
	struct pl_kv kvs[] = {{"k", 1, PL_V_INT(-7)}, {"s", 1, PL_V_STR("v")}};
	for (int i = 0; i < 200; i++) {
		pl_action req, step, deep[70];
		struct pl_field f[] = {
		    PL_F_INT("small", i),
		    PL_F_INT("neg", -i - 1),
		    PL_F_INT("i16", 1000 + i),
		    PL_F_INT("i32", -100000 - i),
		    PL_F_INT("i64", (int64_t)1 << 40),
		    {PL_NAME("huge"), PL_V_UINT(UINT64_MAX - (uint64_t)i)},
		    {PL_NAME("f"), PL_V_FLOAT(i / 3.0)},
		    {PL_NAME("b"), PL_V_BOOL(i & 1)},
		    {PL_NAME("nil"), PL_V_NIL()},
		    PL_F_STR("empty", ""),
		    {PL_NAME("s31"), PL_V_STRN(big, 31)},
		    {PL_NAME("s200"), PL_V_STRN(big, 200 + (size_t)salt)},
		    {PL_NAME("s2k"), PL_V_STRN(big, 2000 + (size_t)i)},
		    {PL_NAME("bin"), PL_V_BYTES(big, (size_t)i % 40)},
		    PL_F_INT("x15", i * 3),
		    PL_F_INT("x16", -i * 3),
		};
		/* 1 to 16 fields: 16 is more than the fast path takes. */
		pl_action_begin(&req, w, NULL, PL_NAME("req"), f, (size_t)(i % 16 + 1));
		struct pl_field c[] = {
		    {PL_NAME("arr"), PL_V_ARRAY(items, 3)},
		    {PL_NAME("map"), PL_V_MAP(kvs, 2)},
		};
		pl_action_begin(&step, w, &req, PL_NAME("step.containers"), c, i % 3);
		pl_message(w, &step, PL_NAME("note"), f, (size_t)(i % 17));
		if (i % 50 == 0) { /* deeper than the fast path takes */
			pl_action *parent = &step;
			for (int d = 0; d < 70; d++) {
				pl_action_begin(&deep[d], w, parent, PL_NAME("deep"), NULL, 0);
				parent = &deep[d];
			}
			for (int d = 69; d >= 0; d--)
				pl_action_end(&deep[d], NULL, 0);
		}
		if (i % 7 == 0)
			pl_action_fail(&step, "builtins.ValueError", 19,
				       i % 14 ? "bad value" : NULL, i % 14 ? 9 : 0, NULL, 0);
		else if (i % 11 == 0)
			pl_action_cancel(&step, "CancelledError", 14, NULL, 0, NULL, 0);
		else
			pl_action_end(&step, f, (size_t)(i % 17));
		if (i % 10 == 0) {
			struct pl_task_ref ref = {0x1234567890abcdefull, (uint64_t)i, 2, {3, 1}};
			pl_action remote;
			pl_action_begin_remote(&remote, w, &ref, PL_NAME("remote"), f, 2);
			pl_action_end(&remote, NULL, 0);
		}
		pl_action_end(&req, NULL, 0);
	}
}

static void *second_thread(void *w)
{
	record_all_kinds(w, 1);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	dir = th_tmpdir();
	path = th_path(dir, "all.zst");
	memset(big, 'x', sizeof(big));
	struct pl_writer *w = th_open(path, NULL);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, second_thread, w), 0);
	record_all_kinds(w, 0);
	pthread_join(t, NULL);
	assert_int_equal(pl_writer_close(w), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(path);
	th_rmdir(dir);
	return 0;
}

static void test_every_kind_the_same_both_ways(void **state)
{
	(void)state;
	for (size_t s = 0; s < FUZZ_SKIPS; s++) {
		struct fuzz_digest a = fuzz_digest_read(path, false, fuzz_skips[s]);
		struct fuzz_digest b = fuzz_digest_read(path, true, fuzz_skips[s]);
		assert_int_equal(a.status, PL_END);
		assert_true(a.records > 3000);
		assert_int_equal(a.records, b.records);
		assert_true(a.h == b.h);
	}
	/* The digest sees a difference: fields decoded and skipped do differ. */
	assert_true(fuzz_digest_read(path, false, 0).h !=
		    fuzz_digest_read(path, false, PL_SKIP_ALL).h);
	assert_true(fuzz_digest_read(path, false, PL_SKIP_START | PL_SKIP_MESSAGE).h !=
		    fuzz_digest_read(path, false, PL_SKIP_ALL).h);
}

static void test_many_events_at_once_the_same(void **state)
{
	(void)state;
	uint64_t bulk, none;
	for (size_t s = 0; s < FUZZ_SKIPS; s++) {
		unsigned skip = fuzz_skips[s];
		struct fuzz_digest a = fuzz_digest_events(path, skip, false, 0, &none);
		assert_int_equal(a.status, PL_END);
		assert_int_equal(none, 0);
		for (uint32_t seed = 1; seed <= 4; seed++) {
			struct fuzz_digest b = fuzz_digest_events(path, skip, true, seed, &bulk);
			assert_int_equal(b.status, PL_END);
			assert_int_equal(a.records, b.records);
			assert_true(a.h == b.h);
			/* Most events come in runs, but those with containers in their
			 * fields or more than 15 of them (unless skipped), the deep ones
			 * and those that do not fit the room given. */
			print_message("fields skipped %#x: %llu of %llu records at once\n", skip,
				      (unsigned long long)bulk, (unsigned long long)b.records);
			assert_true(bulk > b.records / (skip ? 3 : 4));
		}
	}
	/* The digest sees the fields: decoded and skipped differ. */
	assert_true(fuzz_digest_events(path, 0, false, 0, &none).h !=
		    fuzz_digest_events(path, PL_SKIP_ALL, false, 0, &none).h);
	struct pl_reader *r;
	struct pl_record rec = PL_RECORD_INIT;
	struct pl_event ev[64];
	uint32_t lv[256];
	assert_int_equal(pl_reader_open(path, &r), 0);
	/* No room: nothing; then runs, never past a run's end. */
	assert_int_equal(pl_reader_next(r, &rec), 0);
	while (rec.kind != PL_REC_START)
		assert_int_equal(pl_reader_next(r, &rec), 0);
	assert_int_equal(pl_reader_next_events(r, ev, 0, lv, 256), 0);
	assert_int_equal(pl_reader_next_events(NULL, ev, 64, lv, 256), 0);
	assert_int_equal(pl_reader_next_events(r, NULL, 64, lv, 256), 0);
	assert_int_equal(pl_reader_next_events(r, ev, 64, NULL, 256), 0);
	uint64_t at_once = 0;
	int ret = 0;
	while (ret == 0) {
		size_t n = pl_reader_next_events(r, ev, 64, lv, 256);
		at_once += n;
		for (size_t i = 0; i < n; i++) {
			assert_true(ev[i].kind >= PL_REC_START && ev[i].kind <= PL_REC_MESSAGE);
			assert_true(i == 0 || ev[i].thread == ev[0].thread); /* one run */
			assert_true(i == 0 || ev[i].ts_ns >= ev[i - 1].ts_ns);
			assert_true(i == 0 || ev[i].level == ev[i - 1].level + ev[i - 1].depth);
		}
		if (!n)
			ret = pl_reader_next(r, &rec);
	}
	assert_int_equal(ret, PL_END);
	assert_true(at_once > 1000);
	assert_string_equal(pl_reader_name(r, 0), "");
	assert_null(pl_reader_name(r, 1u << 30));
	assert_null(pl_reader_name(NULL, 0));
	pl_reader_close(r);
}

/* The content of every frame, one after the other (index and magic frames left out):
 * what fuzz_wrap_records() turns back into a one-frame file. */
static uint8_t *contents(size_t *out_len)
{
	size_t len;
	uint8_t *file = th_slurp(path, &len);
	size_t cap = 64u << 20, n = 0;
	uint8_t *out = malloc(cap);
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_inBuffer in = {file, len, 0};
	while (in.pos < in.size) {
		ZSTD_outBuffer o = {out + n, cap - n, 0};
		size_t r = ZSTD_decompressStream(dc, &o, &in);
		assert_false(ZSTD_isError(r));
		n += o.pos;
	}
	ZSTD_freeDCtx(dc);
	free(file);
	*out_len = n;
	return out;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_damaged_contents_fail_the_same_both_ways(void **state)
{
	(void)state;
	size_t len;
	uint8_t *content = contents(&len);
	/* One frame of at most 16 MiB: keep the first part, cut at a record boundary or
	 * not, it does not matter (a cut record is damage too). */
	if (len > (4u << 20))
		len = 4u << 20;
	char *mpath = th_path(dir, "damaged.zst");
	uint8_t *copy = malloc(len);
	size_t differ = 0, failed = 0;
	for (int iter = 0; iter < 3000; iter++) {
		/* Damage near the start (where the fast path meets it first) most of the time. */
		size_t n = iter % 3 ? 4096 + next_rand() % 60000 : len;
		memcpy(copy, content, n);
		int flips = 1 + (int)(next_rand() % 4);
		for (int k = 0; k < flips; k++) {
			size_t at = 64 + next_rand() % (n - 64); /* spare the header mostly */
			if (iter % 2) {
				/* Structure: an array or map header one or two elements longer
				 * or shorter, a str's length off by one. */
				while (at < n &&
				       !((copy[at] & 0xe0) == 0x80 || (copy[at] & 0xe0) == 0xa0))
					at++;
				if (at < n)
					copy[at] =
					    (uint8_t)(copy[at] + (next_rand() % 2 ? 1 : 2) *
								     (next_rand() % 2 ? 1 : -1));
			} else {
				copy[at] = (uint8_t)next_rand();
			}
		}
		size_t flen = 0;
		uint8_t *file = fuzz_wrap_records(copy, n, &flen);
		assert_non_null(file);
		th_spit(mpath, file, flen);
		free(file);
		if (!fuzz_paths_agree(mpath))
			differ++;
		if (fuzz_digest_read(mpath, false, 0).status < 0)
			failed++;
	}
	assert_int_equal(differ, 0);
	assert_true(failed > 300); /* the damage was mostly noticed, so errors were compared */
	free(copy);
	free(mpath);
	free(content);
}

static void test_the_fast_path_is_taken(void **state)
{
	(void)state;
	struct pl_reader *r;
	struct pl_record rec = PL_RECORD_INIT;
	struct pl_reader_stats st = PL_READER_STATS_INIT;
	uint64_t records = 0;
	assert_int_equal(pl_reader_open(path, &r), 0);
	while (pl_reader_next(r, &rec) == 0)
		records++;
	assert_int_equal(pl_reader_stats(r, &st), 0);
	pl_reader_close(r);
	/* Format 2: every event is in a BLOCK, which the fast path opens (its events'
	 * fields with containers go to the tokenizer, but the record is the fast path's):
	 * the generic path takes the header, the names, the threads and the stats. */
	print_message("%llu of %llu records by the generic path\n",
		      (unsigned long long)st.records_generic, (unsigned long long)records);
	assert_true(st.records_generic > 0);
	assert_true(st.records_generic < 64);
	uint64_t fast_generic = st.records_generic;
	setenv("PERFLOG_READER_GENERIC", "1", 1);
	assert_int_equal(pl_reader_open(path, &r), 0);
	unsetenv("PERFLOG_READER_GENERIC");
	uint64_t again = 0;
	while (pl_reader_next(r, &rec) == 0)
		again++;
	assert_int_equal(pl_reader_stats(r, &st), 0);
	pl_reader_close(r);
	assert_int_equal(again, records);
	assert_true(st.records_generic > fast_generic); /* all: the blocks too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_the_same_both_ways),
	    cmocka_unit_test(test_many_events_at_once_the_same),
	    cmocka_unit_test(test_damaged_contents_fail_the_same_both_ways),
	    cmocka_unit_test(test_the_fast_path_is_taken),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
