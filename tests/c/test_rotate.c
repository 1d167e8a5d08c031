/* SPDX-License-Identifier: MIT */
/* test_rotate.c - rotation and retention.
 *
 * - 8 threads record numbered actions while the writer rotates every 64 KiB: every file
 *   reads to its end, starts with its own header (file_seq 0, 1, ... in name order) and
 *   ends with a STATS record; across the files every START and END is found exactly once.
 * - Retention keeps the newest closed files within keep_files and keep_bytes, and never
 *   deletes a file put at a closed file's name since (not the writer's any more).
 * - A next file that cannot be created: counted, recording goes on in the current file,
 *   and the next rotation succeeds once it can.
 * - A fork child rotates its own files, numbered from 0 under its pid.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

#define THREADS	   8
#define PER_THREAD 12000

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of @dir whose names start with @prefix, sorted; returns their number. */
static size_t list(const char *dir, const char *prefix, char **out, size_t max)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)) && n < max)
			out[n++] = th_path(dir, e->d_name);
	closedir(d);
	qsort(out, n, sizeof(*out), cmp_str);
	return n;
}

struct worker {
	struct pl_writer *w;
	unsigned index;
};

static void *work(void *arg)
{
	struct worker *k = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		/* A field that does not compress away, so that files grow. */
		char pad[40];
		uint64_t h =
		    ((uint64_t)k->index * PER_THREAD + (uint64_t)i + 1) * 0x9E3779B97F4A7C15ull;
		snprintf(pad, sizeof(pad), "%016" PRIx64 "%016" PRIx64, h,
			 (uint64_t)(h * 0xBF58476D1CE4E5B9ull));
		struct pl_field f[] = {PL_F_UINT("t", k->index), PL_F_INT("i", i),
				       PL_F_STR("pad", pad)};
		pl_action a;
		pl_action_begin(&a, k->w, NULL, PL_NAME("rot.work"), f, 3);
		pl_action_end(&a, NULL, 0);
	}
	return NULL;
}

static void set_rotate(struct pl_writer_options *o)
{
	o->rotate_bytes = 64u << 10;
	o->flush_interval_ms = 5;
	o->full_policy = PL_FULL_BLOCK;
}

/* Read @path: its header's file_seq, whether it ends with STATS, and each START's
 * (t, i) marked in @seen (failing on a second sighting). */
static uint32_t read_file(const char *path, uint8_t *seen, uint64_t *ends, bool *closed)
{
	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(path, &r), 0);
	uint32_t seq = pl_reader_header(r)->file_seq;
	assert_true(pl_reader_header(r)->file_wall_ns > 0);
	struct pl_record rec = PL_RECORD_INIT;
	int ret, last = 0;
	while ((ret = pl_reader_next(r, &rec)) == 0) {
		last = rec.kind;
		if (rec.kind == PL_REC_END)
			++*ends;
		if (rec.kind != PL_REC_START)
			continue;
		int64_t t = -1, i = -1;
		for (size_t f = 0; f < rec.nfields; f++) {
			const struct pl_kv *kv = &rec.fields[f];
			int64_t v = kv->value.type == PL_VALUE_UINT ? (int64_t)kv->value.v.u
								    : kv->value.v.i;
			if (kv->key_len == 1 && kv->key[0] == 't')
				t = v;
			else if (kv->key_len == 1 && kv->key[0] == 'i')
				i = v;
		}
		assert_true(t >= 0 && t < THREADS && i >= 0 && i < PER_THREAD);
		if (seen[t * PER_THREAD + i]++)
			fail_msg("%s: action t=%" PRId64 " i=%" PRId64 " twice", path, t, i);
	}
	if (ret != PL_END)
		fail_msg("%s: %s", path, pl_reader_error(r)->reason);
	*closed = last == PL_REC_STATS;
	pl_reader_close(r);
	return seq;
}

static void test_rotation_under_threads(void **state)
{
	char *dir = th_tmpdir(), *path = th_path(dir, "rot.zst");
	struct pl_writer *w = th_open(path, set_rotate);
	struct worker ks[THREADS];
	pthread_t t[THREADS];
	for (unsigned i = 0; i < THREADS; i++) {
		ks[i] = (struct worker){w, i};
		assert_int_equal(pthread_create(&t[i], NULL, work, &ks[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	assert_int_equal(pl_writer_stats(w, &st), 0);
	assert_int_equal(pl_writer_close(w), 0);
	assert_int_equal(st.dropped_full + st.dropped_write + st.dropped_no_buffer, 0);

	char *files[4096];
	size_t n = list(dir, "rot.", files, 4096);
	print_message("%zu files, %" PRIu64 " rotations before close\n", n, st.rotations);
	assert_true(n >= 4);
	assert_true(st.rotations <= n - 1); /* more happen while closing */
	uint8_t *seen = calloc(THREADS * PER_THREAD, 1);
	uint64_t ends = 0;
	for (size_t f = 0; f < n; f++) {
		char want[64];
		snprintf(want, sizeof(want), "rot.%06zu.zst", f);
		assert_non_null(strstr(files[f], want));
		bool closed;
		assert_int_equal(read_file(files[f], seen, &ends, &closed), f);
		assert_true(closed);
		free(files[f]);
	}
	for (size_t i = 0; i < THREADS * PER_THREAD; i++)
		if (seen[i] != 1)
			fail_msg("action %zu seen %u times", i, seen[i]);
	assert_int_equal(ends, THREADS * PER_THREAD);
	free(seen);
	free(path);
	th_rmdir(dir);
}

static void set_keep(struct pl_writer_options *o)
{
	set_rotate(o);
	o->keep_files = 2;
	o->keep_bytes = 1u << 20;
}

static void test_retention(void **state)
{
	char *dir = th_tmpdir(), *path = th_path(dir, "keep-{n}.zst");
	char *other = th_path(dir, "keep-other.zst");
	th_spit(other, (const uint8_t *)"not ours", 8);
	struct pl_writer *w = th_open(path, set_keep);
	struct worker k = {w, 0};
	/* Replace file 0 once it is closed: a file at its name that is no longer the
	 * writer's must survive retention. */
	char *first = th_path(dir, "keep-000000.zst");
	for (int round = 0; round < 40; round++) {
		work(&k);
		assert_int_equal(pl_writer_flush(w), 0);
		struct pl_writer_stats st = PL_WRITER_STATS_INIT;
		pl_writer_stats(w, &st);
		if (st.rotations >= 1)
			break;
	}
	char *tmp = th_path(dir, "replacement");
	th_spit(tmp, (const uint8_t *)"replacement", 11);
	assert_int_equal(rename(tmp, first), 0);
	for (int round = 0; round < 8; round++) {
		work(&k);
		/* A frame boundary each round, where the file changes: deterministic. */
		assert_int_equal(pl_writer_flush(w), 0);
	}
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	assert_int_equal(pl_writer_close(w), 0);
	print_message("rotations %" PRIu64 ", deleted %" PRIu64 "\n", st.rotations,
		      st.files_deleted);
	assert_true(st.rotations > 4);
	assert_true(st.files_deleted >= st.rotations - 3);

	char *files[4096];
	size_t n = list(dir, "keep-0", files, 4096);
	/* The replacement, the 2 closed files kept, the last one. */
	assert_true(n <= 4);
	size_t len;
	uint8_t *data = th_slurp(first, &len);
	assert_memory_equal(data, "replacement", 11);
	free(data);
	/* The closed files kept (all but the replacement and the last, closed by close()
	 * after retention last ran) are within keep_files and keep_bytes. */
	uint64_t total = 0;
	assert_true(n - 2 <= 2);
	for (size_t i = 1; i + 1 < n; i++) {
		struct stat sb;
		assert_int_equal(stat(files[i], &sb), 0);
		total += (uint64_t)sb.st_size;
	}
	assert_true(total <= 1u << 20);
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	data = th_slurp(other, &len);
	assert_memory_equal(data, "not ours", 8);
	free(data);
	free(tmp);
	free(first);
	free(other);
	free(path);
	th_rmdir(dir);
}

static void test_next_file_refused(void **state)
{
	char *dir = th_tmpdir(), *path = th_path(dir, "r-{n}.zst");
	char *blocker = th_path(dir, "r-000001.zst");
	assert_int_equal(mkdir(blocker, 0700), 0); /* the next file cannot be created */
	struct pl_writer *w = th_open(path, set_rotate);
	struct worker k = {w, 0};
	work(&k);
	assert_int_equal(pl_writer_flush(w), 0);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	assert_true(st.rotate_errors >= 1);
	assert_int_equal(st.rotations, 0);
	assert_int_equal(rmdir(blocker), 0);
	k.index = 1;
	work(&k);
	assert_int_equal(pl_writer_flush(w), 0);
	pl_writer_stats(w, &st);
	assert_true(st.rotations >= 1);
	assert_int_equal(pl_writer_close(w), 0);
	assert_int_equal(st.dropped_write + st.dropped_full, 0);
	uint8_t *seen = calloc(THREADS * PER_THREAD, 1);
	uint64_t ends = 0;
	char *files[64];
	size_t n = list(dir, "r-", files, 64);
	for (size_t i = 0; i < n; i++) {
		bool closed;
		read_file(files[i], seen, &ends, &closed);
		free(files[i]);
	}
	assert_int_equal(ends, 2 * PER_THREAD); /* nothing lost while it could not rotate */
	free(seen);
	free(blocker);
	free(path);
	th_rmdir(dir);
}

static void test_fork_child_rotates_its_own(void **state)
{
	char *dir = th_tmpdir(), *path = th_path(dir, "f-{pid}-{n}.zst");
	struct pl_writer *w = th_open(path, set_rotate);
	struct worker k = {w, 0};
	work(&k);
	assert_int_equal(pl_writer_flush(w), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		for (k.index = 1; k.index <= 4; k.index++)
			work(&k);
		_exit(pl_writer_close(w) == 0 ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(pl_writer_close(w), 0);
	char prefix[64], *files[256];
	snprintf(prefix, sizeof(prefix), "f-%d-", (int)child);
	size_t n = list(dir, prefix, files, 256);
	assert_true(n >= 2);
	uint8_t *seen = calloc(THREADS * PER_THREAD, 1);
	uint64_t ends = 0;
	for (size_t i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof(want), "f-%d-%06zu.zst", (int)child, i);
		assert_non_null(strstr(files[i], want));
		bool closed;
		assert_int_equal(read_file(files[i], seen, &ends, &closed), i);
		assert_true(closed);
		free(files[i]);
	}
	assert_int_equal(ends, 4 * PER_THREAD); /* the child's own actions, all of them */
	free(seen);
	free(path);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rotation_under_threads),
	    cmocka_unit_test(test_retention),
	    cmocka_unit_test(test_next_file_refused),
	    cmocka_unit_test(test_fork_child_rotates_its_own),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
