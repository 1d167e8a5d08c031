/* SPDX-License-Identifier: MIT */
/* test_suspend.c - pl_reader_suspend(): a reader gives back its file descriptor and
 * buffers and picks up where it stopped, for programs that read more files than they may
 * keep open (perfan with thousands of rotated traces).
 *
 * - Suspending after every record of a multi-frame trace yields exactly the records of
 *   a plain read, and each suspension closes the reader's descriptor.
 * - A file replaced while its reader was suspended is an error naming the offset, after
 *   every record read before.
 * - A pipe cannot be reopened: refused, and the reader goes on.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

#define ACTIONS 30000

static char *dir, *path;

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A trace of several frames: actions with a field, a flush every 5000. */
static void write_trace(const char *p)
{
	struct pl_writer *w = th_open(p, NULL);
	for (int i = 0; i < ACTIONS; i++) {
		struct pl_field f[] = {PL_F_INT("i", i), PL_F_STR("pad", "some text to compress")};
		pl_action a;
		pl_action_begin(&a, w, NULL, PL_NAME("suspend.work"), f, 2);
		pl_action_end(&a, NULL, 0);
		if (i % 5000 == 4999)
			assert_int_equal(pl_writer_flush(w), 0);
	}
	assert_int_equal(pl_writer_close(w), 0);
}

static int setup(void **state)
{
	dir = th_tmpdir();
	path = th_path(dir, "t.zst");
	write_trace(path);
	return 0;
}

static int teardown(void **state)
{
	free(path);
	th_rmdir(dir);
	return 0;
}

static void test_suspended_after_every_record(void **state)
{
	struct th_trace plain;
	assert_int_equal(th_read_all(path, &plain), PL_END);
	assert_true(plain.n > 2 * ACTIONS);

	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(path, &r), 0);
	struct pl_record rec = PL_RECORD_INIT;
	size_t i = 0;
	uint64_t frames = 0, last_frame = 0;
	int ret;
	while ((ret = pl_reader_next(r, &rec)) == 0) {
		assert_true(i < plain.n);
		const struct th_rec *want = &plain.recs[i++];
		assert_int_equal(rec.kind, want->kind);
		assert_int_equal(rec.ts_ns, want->ts_ns);
		assert_int_equal(rec.frame_offset, want->frame_offset);
		assert_string_equal(rec.type, want->type);
		char fields[1024];
		th_render_fields(rec.fields, rec.nfields, fields, sizeof(fields));
		assert_string_equal(fields, want->fields);
		/* The reader reopened its file to read a new frame (or still holds it from
		 * pl_reader_open): the suspension closes it. */
		bool reopened = rec.frame_offset != last_frame;
		frames += reopened;
		last_frame = rec.frame_offset;
		int before = open_fds();
		assert_int_equal(pl_reader_suspend(r), 0);
		assert_int_equal(open_fds(), before - (reopened ? 1 : 0));
		assert_int_equal(pl_reader_suspend(r), 0); /* twice: nothing more to give back */
	}
	assert_int_equal(ret, PL_END);
	assert_int_equal(i, plain.n);
	assert_true(frames >= 6); /* the suspensions fell between and inside frames */
	pl_reader_close(r);
	th_trace_free(&plain);
}

static void test_replaced_while_suspended(void **state)
{
	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(path, &r), 0);
	struct pl_record rec = PL_RECORD_INIT;
	/* Read the first frame to its end: the next record needs the file again. */
	uint64_t first = 0;
	size_t n = 0;
	for (;;) {
		assert_int_equal(pl_reader_next(r, &rec), 0);
		if (n++ == 0)
			first = rec.frame_offset;
		else if (rec.frame_offset != first)
			break;
	}
	assert_int_equal(pl_reader_suspend(r), 0);
	char *other = th_path(dir, "other.zst");
	write_trace(other);
	assert_int_equal(rename(other, path), 0); /* another inode at the same path */
	free(other);
	int ret;
	while ((ret = pl_reader_next(r, &rec)) == 0)
		; /* the rest of the frame in memory */
	assert_int_equal(ret, -PL_EIO);
	const struct pl_reader_error *e = pl_reader_error(r);
	assert_non_null(strstr(e->reason, "replaced"));
	assert_true(e->offset > first);
	pl_reader_close(r);
	write_trace(path); /* for the tests after this one */
}

struct feeder {
	int fd;
	uint8_t *data;
	size_t len;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	for (size_t off = 0; off < f->len;) {
		ssize_t n = write(f->fd, f->data + off, f->len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(f->fd);
	return NULL;
}

static void test_pipe_is_not_suspended(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct feeder f = {p[1], NULL, 0};
	f.data = th_slurp(path, &f.len);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	char name[64];
	snprintf(name, sizeof(name), "/proc/self/fd/%d", p[0]);
	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(name, &r), 0);
	assert_int_equal(pl_reader_suspend(r), -PL_EINVAL);
	struct pl_record rec = PL_RECORD_INIT;
	size_t n = 0;
	int ret;
	while ((ret = pl_reader_next(r, &rec)) == 0)
		n++;
	assert_int_equal(ret, PL_END);
	assert_true(n > 2 * ACTIONS);
	pl_reader_close(r);
	pthread_join(t, NULL);
	close(p[0]);
	free(f.data);
	assert_int_equal(pl_reader_suspend(NULL), -PL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suspended_after_every_record),
	    cmocka_unit_test(test_replaced_while_suspended),
	    cmocka_unit_test(test_pipe_is_not_suspended),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
