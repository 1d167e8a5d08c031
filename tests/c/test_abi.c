/* SPDX-License-Identifier: MIT */
/* test_abi.c - the structs that grow (docs/c-api.md, "Structs that grow"): callers
 * compiled against an older header (a smaller size) and against a newer one (a larger
 * size) both work, nothing is written past the caller's size, and a size below the first
 * release or a member this library does not know is refused.
 *
 * The 0.1 sizes are spelled here by the last member of each struct in release 0.1, not
 * by sizeof: a member appended later must not change them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define SIZE_TO(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#define OPTIONS_0_1	      SIZE_TO(struct pl_writer_options, log_userdata)
#define STATS_0_1	      SIZE_TO(struct pl_writer_stats, last_errno)
#define RECORD_0_1	      SIZE_TO(struct pl_record, frame_offset)
#define GUARD		      0xA5
#define EXTRA		      64 /* bytes a newer header might have appended */

/* A caller's struct of any size, followed by guard bytes. */
union buf {
	struct pl_writer_options opts;
	struct pl_writer_stats stats;
	struct pl_record rec;
	unsigned char b[1024];
};

static void set_size(union buf *u, size_t size)
{
	uint32_t s = (uint32_t)size;
	memcpy(u->b, &s, sizeof(s));
}

static void assert_guarded(const union buf *u, size_t from)
{
	for (size_t i = from; i < sizeof(u->b); i++)
		if (u->b[i] != GUARD)
			fail_msg("byte %zu past the caller's %zu was written", i, from);
}

static char *dir;

static int open_with(union buf *u, size_t size, const char *name, struct pl_writer **w)
{
	char *path = th_path(dir, name);
	memset(u->b, 0, sizeof(u->b));
	pl_writer_options_init(&u->opts);
	u->opts.path = path;
	set_size(u, size);
	int ret = pl_writer_open(&u->opts, w);
	free(path);
	return ret;
}

static void test_options_sizes(void **state)
{
	union buf u;
	struct pl_writer *w = NULL;
	/* An older caller: exactly the 0.1 members; the rest take their defaults. */
	assert_int_equal(open_with(&u, OPTIONS_0_1, "old.zst", &w), 0);
	assert_int_equal(pl_writer_close(w), 0);
	/* A newer caller that left the members this library lacks at zero. */
	assert_int_equal(open_with(&u, sizeof(u.opts) + EXTRA, "new.zst", &w), 0);
	assert_int_equal(pl_writer_close(w), 0);
	/* A newer caller that set one of them: refused, not silently ignored. */
	memset(u.b, 0, sizeof(u.b));
	pl_writer_options_init(&u.opts);
	char *path = th_path(dir, "set.zst");
	u.opts.path = path;
	set_size(&u, sizeof(u.opts) + EXTRA);
	u.b[sizeof(u.opts) + EXTRA - 1] = 1;
	assert_int_equal(pl_writer_open(&u.opts, &w), -PL_EINVAL);
	assert_null(w);
	free(path);
	/* An older caller's struct is followed by whatever its memory holds: members past
	 * its size are never read (keep_files alone would be refused, needing a rotate_*). */
	memset(u.b, 0, sizeof(u.b));
	pl_writer_options_init(&u.opts);
	path = th_path(dir, "older.zst");
	u.opts.path = path;
	u.opts.keep_files = 5;
	assert_int_equal(pl_writer_open(&u.opts, &w), -PL_EINVAL); /* read: refused */
	set_size(&u, OPTIONS_0_1);
	assert_int_equal(pl_writer_open(&u.opts, &w), 0); /* past the size: not read */
	assert_int_equal(pl_writer_close(w), 0);
	free(path);
	/* Older than the first release, or never initialised. */
	assert_int_equal(open_with(&u, OPTIONS_0_1 - 1, "small.zst", &w), -PL_EINVAL);
	assert_int_equal(open_with(&u, 0, "zero.zst", &w), -PL_EINVAL);
}

static void test_stats_sizes(void **state)
{
	union buf o;
	struct pl_writer *w = NULL;
	assert_int_equal(open_with(&o, sizeof(o.opts), "stats.zst", &w), 0);
	pl_action a;
	pl_action_begin(&a, w, NULL, PL_NAME("abi.action"), NULL, 0);
	pl_action_end(&a, NULL, 0);
	assert_int_equal(pl_writer_flush(w), 0);

	union buf u;
	static const size_t sizes[] = {STATS_0_1, sizeof(struct pl_writer_stats),
				       sizeof(struct pl_writer_stats) + EXTRA};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(u.b, GUARD, sizeof(u.b));
		set_size(&u, sizes[i]);
		assert_int_equal(pl_writer_stats(w, &u.stats), 0);
		size_t filled = sizes[i] < sizeof(u.stats) ? sizes[i] : sizeof(u.stats);
		assert_int_equal(u.stats.size, filled);
		assert_guarded(&u, filled);
		assert_int_equal(u.stats.events, 2); /* START and END */
		assert_true(u.stats.frames >= 1);
	}
	memset(u.b, GUARD, sizeof(u.b));
	set_size(&u, STATS_0_1 - 1);
	assert_int_equal(pl_writer_stats(w, &u.stats), -PL_EINVAL);
	assert_guarded(&u, sizeof(uint32_t));
	assert_int_equal(pl_writer_stats(NULL, &u.stats), -PL_EINVAL);
	assert_int_equal(pl_writer_stats(w, NULL), -PL_EINVAL);
	assert_int_equal(pl_writer_close(w), 0);
}

/* Read the trace with records of @size bytes; returns the records' types joined. */
static void read_types(const char *path, size_t size, char *out, size_t len)
{
	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(path, &r), 0);
	union buf u;
	out[0] = 0;
	for (;;) {
		memset(u.b, GUARD, sizeof(u.b));
		set_size(&u, size);
		int ret = pl_reader_next(r, &u.rec);
		if (ret == PL_END)
			break;
		assert_int_equal(ret, 0);
		size_t filled = size < sizeof(u.rec) ? size : sizeof(u.rec);
		assert_int_equal(u.rec.size, filled);
		assert_guarded(&u, filled);
		if (u.rec.kind == PL_REC_START || u.rec.kind == PL_REC_MESSAGE) {
			strncat(out, u.rec.type, len - strlen(out) - 2);
			strcat(out, ",");
		}
	}
	pl_reader_close(r);
}

static void test_record_sizes(void **state)
{
	union buf o;
	struct pl_writer *w = NULL;
	assert_int_equal(open_with(&o, sizeof(o.opts), "rec.zst", &w), 0);
	const struct pl_field n = PL_F_INT("n", 1);
	pl_action a;
	pl_action_begin(&a, w, NULL, PL_NAME("abi.outer"), &n, 1);
	pl_message(w, &a, PL_NAME("abi.note"), NULL, 0);
	pl_action_end(&a, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	char *path = th_path(dir, "rec.zst");
	char want[256], got[256];
	read_types(path, sizeof(struct pl_record), want, sizeof(want));
	assert_string_equal(want, "abi.outer,abi.note,");
	read_types(path, RECORD_0_1, got, sizeof(got));
	assert_string_equal(got, want);
	read_types(path, sizeof(struct pl_record) + EXTRA, got, sizeof(got));
	assert_string_equal(got, want);

	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(path, &r), 0);
	union buf u;
	memset(u.b, GUARD, sizeof(u.b));
	set_size(&u, RECORD_0_1 - 1);
	assert_int_equal(pl_reader_next(r, &u.rec), -PL_EINVAL);
	assert_guarded(&u, sizeof(uint32_t));
	struct pl_record rec = PL_RECORD_INIT; /* the refusal consumed nothing */
	do
		assert_int_equal(pl_reader_next(r, &rec), 0);
	while (rec.kind != PL_REC_START);
	assert_string_equal(rec.type, "abi.outer");
	uint32_t outer = rec.type_id; /* 0.2: the type's name number */
	assert_int_not_equal(outer, 0);
	assert_int_equal(pl_reader_next(r, &rec), 0);
	assert_int_equal(rec.kind, PL_REC_MESSAGE);
	assert_int_not_equal(rec.type_id, 0);
	assert_int_not_equal(rec.type_id, outer);
	assert_int_equal(pl_reader_next(r, &rec), 0);
	assert_int_equal(rec.kind, PL_REC_END);
	assert_int_equal(rec.type_id, 0);
	pl_reader_close(r);
	free(path);
}

static int setup(void **state)
{
	dir = th_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	th_rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_sizes),
	    cmocka_unit_test(test_stats_sizes),
	    cmocka_unit_test(test_record_sizes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
