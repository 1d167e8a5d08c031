/* SPDX-License-Identifier: MIT */
/* test_names_limit.c - the writer's name table stops where readers stop: every file
 * defines every name interned so far, so a process that interned more than a reader
 * accepts of one file (PL_READ_MAX_NAME_BYTES, docs/format.md section 3) would write
 * traces that no reader can read to their end. Interning past PL_NAMES_MAX_BYTES returns
 * the empty name, and a trace written after that reads back whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

static void test_names_stop_at_the_byte_limit(void **state)
{
	char name[PL_NAME_MAX_LEN];
	uint64_t bytes = 0;
	pl_name last = 0;
	uint32_t i;
	for (i = 0;; i++) {
		int n = snprintf(name, sizeof(name), "limit.%u.", i);
		memset(name + n, 'x', sizeof(name) - (size_t)n);
		pl_name id = pl_name_intern(name, sizeof(name));
		if (id == 0)
			break;
		assert_true(id > last);
		last = id;
		bytes += sizeof(name) + 1;
		assert_true(bytes <= PL_NAMES_MAX_BYTES);
	}
	/* Refused only once the next name would not fit. */
	assert_true(bytes + 2 * (sizeof(name) + 1) > PL_NAMES_MAX_BYTES);
	assert_int_equal(pl_name_intern(name, sizeof(name)), 0);
	/* Names interned before stay what they were; short ones may still fit. */
	size_t len;
	assert_int_equal(strncmp(pl_name_str(last, &len), "limit.", 6), 0);
	assert_int_equal(len, sizeof(name));

	char *dir = th_tmpdir(), *path = th_path(dir, "names.zst");
	struct pl_writer *w = th_open(path, NULL);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	assert_int_equal(pl_writer_stats(w, &st), 0);
	assert_int_equal(st.names_refused, 2); /* counted, as every loss is */
	pl_action a;
	pl_action_begin(&a, w, NULL, last, NULL, 0);
	pl_action_end(&a, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);
	struct th_trace t;
	assert_int_equal(th_read_all(path, &t), PL_END);
	assert_int_equal(th_count(&t, PL_REC_START, NULL), 1);
	for (size_t j = 0; j < t.n; j++)
		if (t.recs[j].kind == PL_REC_START) /* th_rec keeps 255 bytes of the type */
			assert_memory_equal(t.recs[j].type, pl_name_str(last, NULL), 255);
	th_trace_free(&t);
	free(path);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_stop_at_the_byte_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
