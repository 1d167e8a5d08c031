/* SPDX-License-Identifier: MIT */
/* test_tracecontext.c - W3C traceparent parsing (the specification's valid and invalid
 * forms), formatting, span ids (computed here from the documented rule), tasks continued
 * from a traceparent (their actions' traceparents carry the caller's trace id until the root
 * ends; the root records the header), and the table under threads. Public API only.
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

#include "helpers.h"

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void test_parse_valid(void **state)
{
	(void)state;
	struct pl_traceparent tp;
	assert_int_equal(pl_traceparent_parse(TP, strlen(TP), &tp), 0);
	assert_int_equal(tp.trace_id[0], 0x4b);
	assert_int_equal(tp.trace_id[15], 0x36);
	assert_int_equal(tp.parent_id[0], 0x00);
	assert_int_equal(tp.parent_id[7], 0xb7);
	assert_int_equal(tp.flags, 1);
	/* Spaces around (an HTTP header's optional whitespace); not NUL-terminated. */
	char buf[80];
	snprintf(buf, sizeof(buf), " \t%s  ", TP);
	assert_int_equal(pl_traceparent_parse(buf, strlen(buf), &tp), 0);
	memcpy(buf, TP, 55);
	buf[55] = 'X';
	assert_int_equal(pl_traceparent_parse(buf, 55, &tp), 0);
	/* A later version: its version-00 fields, and more after a "-". */
	const char *v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes";
	assert_int_equal(pl_traceparent_parse(v1, strlen(v1), &tp), 0);
	assert_int_equal(tp.flags, 0);
}

static void test_parse_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "00",
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",	 /* short */
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", /* v00 longer */
	    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",	 /* version ff */
	    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",	 /* upper case */
	    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",	 /* zero trace */
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",	 /* zero parent */
	    "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",	 /* separator */
	    "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",	 /* separator */
	    "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",	 /* not hex */
	    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",	 /* v01, no "-" */
	    "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",	 /* version */
	    "0123456789abcdef-1@/1/2",					 /* a task string */
	};
	struct pl_traceparent tp;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pl_traceparent_parse(bad[i], strlen(bad[i]), &tp), -PL_EINVAL);
	assert_int_equal(pl_traceparent_parse(NULL, 0, &tp), -PL_EINVAL);
}

static void test_format(void **state)
{
	(void)state;
	struct pl_traceparent tp;
	assert_int_equal(pl_traceparent_parse(TP, strlen(TP), &tp), 0);
	char buf[PL_TRACEPARENT_LEN + 1];
	assert_int_equal(
	    pl_traceparent_format(tp.trace_id, 0x00f067aa0ba902b7ull, 1, buf, sizeof(buf)),
	    PL_TRACEPARENT_LEN);
	assert_string_equal(buf, TP);
	assert_int_equal(pl_traceparent_format(tp.trace_id, 1, 1, buf, PL_TRACEPARENT_LEN),
			 -PL_EINVAL);
}

/* The documented rule, written here from docs/perfan.md. */
static uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static uint64_t ref_span_id(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth)
{
	const uint64_t g = 0x9e3779b97f4a7c15ull;
	uint64_t h = fmix(prefix ^ fmix(seq + g));
	for (uint32_t i = 0; i < depth; i++)
		h = fmix(h + g * (level[i] + 1ull));
	return h ? h : 1;
}

static void test_span_id(void **state)
{
	(void)state;
	uint32_t level[] = {1, 3, 2};
	for (uint32_t d = 0; d <= 3; d++)
		assert_true(pl_span_id(0x0123456789abcdefull, 0x64, level, d) ==
			    ref_span_id(0x0123456789abcdefull, 0x64, level, d));
	assert_true(pl_span_id(1, 1, NULL, 0) != pl_span_id(1, 2, NULL, 0));
}

/* The trace id and span id parts of a traceparent an action formats. */
static void parts(const pl_action *a, char trace[33], uint64_t *span, unsigned *flags)
{
	char buf[PL_TRACEPARENT_LEN + 1];
	assert_int_equal(pl_action_traceparent(a, buf, sizeof(buf)), PL_TRACEPARENT_LEN);
	struct pl_traceparent tp;
	assert_int_equal(pl_traceparent_parse(buf, PL_TRACEPARENT_LEN, &tp), 0);
	memcpy(trace, buf + 3, 32);
	trace[32] = '\0';
	*span = strtoull(buf + 36, NULL, 16);
	*flags = tp.flags;
}

static void test_continued_task(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "t.zst");
	struct pl_writer *w = th_open(path, NULL);
	assert_non_null(w);
	struct pl_traceparent tp;
	assert_int_equal(pl_traceparent_parse(TP, strlen(TP), &tp), 0);
	pl_action root, child;
	struct pl_field in[] = {{PL_NAME("path"), PL_V_STR("/checkout")}};
	pl_action_begin_traceparent(&root, w, &tp, PL_NAME("http.request"), in, 1);
	pl_action_begin(&child, w, &root, PL_NAME("db.query"), NULL, 0);
	char trace[33];
	uint64_t span, prefix, seq;
	unsigned flags;
	pl_action_task(&root, &prefix, &seq);
	parts(&root, trace, &span, &flags);
	assert_string_equal(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_true(span == ref_span_id(prefix, seq, NULL, 0));
	assert_int_equal(flags, 1);
	parts(&child, trace, &span, &flags);
	uint32_t one = 1;
	assert_string_equal(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_true(span == ref_span_id(prefix, seq, &one, 1));
	/* An action begun at a place in the task (the Python extension's way) sees it too. */
	pl_action at;
	uint32_t lv[] = {2};
	pl_action_begin_at(&at, w, prefix, seq, lv, 1, PL_NAME("render"), NULL, 0);
	parts(&at, trace, &span, &flags);
	assert_string_equal(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	pl_action_end(&at, NULL, 0);
	pl_action_end(&child, NULL, 0);
	pl_action_end(&root, NULL, 0);
	/* The root ended: the task's id gives its trace id again. */
	char want[33];
	snprintf(want, sizeof(want), "%016llx%016llx", (unsigned long long)prefix,
		 (unsigned long long)seq);
	parts(&root, trace, &span, &flags);
	assert_string_equal(trace, want);
	assert_int_equal(flags, 1);
	assert_int_equal(pl_writer_close(w), 0);
	/* The root's START records the header, after the caller's fields. */
	struct th_trace t;
	assert_int_equal(th_read_all(path, &t), PL_END);
	bool seen = false;
	for (size_t i = 0; i < t.n; i++)
		if (t.recs[i].kind == PL_REC_START && !strcmp(t.recs[i].type, "http.request")) {
			assert_non_null(strstr(t.recs[i].fields, "path"));
			assert_non_null(strstr(t.recs[i].fields, "perflog.traceparent"));
			assert_non_null(strstr(t.recs[i].fields, TP));
			seen = true;
		}
	assert_true(seen);
	th_trace_free(&t);
	free(path);
	th_rmdir(dir);
}

static void test_not_recording(void **state)
{
	(void)state;
	/* No writer: nothing is recorded, but the caller's trace still goes through. */
	struct pl_traceparent tp;
	assert_int_equal(pl_traceparent_parse(TP, strlen(TP), &tp), 0);
	pl_action root;
	pl_action_begin_traceparent(&root, NULL, &tp, PL_NAME("job"), NULL, 0);
	char trace[33];
	uint64_t span;
	unsigned flags;
	parts(&root, trace, &span, &flags);
	assert_string_equal(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	pl_action_end(&root, NULL, 0);
	/* A plain task: its own id. */
	pl_action plain;
	pl_action_begin(&plain, NULL, NULL, PL_NAME("job"), NULL, 0);
	uint64_t prefix, seq;
	pl_action_task(&plain, &prefix, &seq);
	uint8_t id[16];
	assert_int_equal(pl_task_trace_id(prefix, seq, id), 1);
	assert_int_equal(id[0], (uint8_t)(prefix >> 56));
	assert_int_equal(id[15], (uint8_t)seq);
	pl_action_end(&plain, NULL, 0);
}

/* Threads beginning and ending continued tasks at once: each sees its own caller's trace
 * id (the table grows and shrinks under them). */
static void *worker(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < 2000; i++) {
		struct pl_traceparent tp = {.flags = 1};
		memset(tp.trace_id, (int)(k + 1), 16);
		memcpy(tp.trace_id + 8, &i, sizeof(i));
		tp.parent_id[7] = 1;
		pl_action roots[4];
		for (int r = 0; r < 4; r++)
			pl_action_begin_traceparent(&roots[r], NULL, &tp, PL_NAME("r"), NULL, 0);
		for (int r = 0; r < 4; r++) {
			char buf[PL_TRACEPARENT_LEN + 1];
			struct pl_traceparent got;
			if (pl_action_traceparent(&roots[r], buf, sizeof(buf)) !=
				PL_TRACEPARENT_LEN ||
			    pl_traceparent_parse(buf, PL_TRACEPARENT_LEN, &got) != 0 ||
			    memcmp(got.trace_id, tp.trace_id, 16) != 0)
				return (void *)1;
		}
		for (int r = 0; r < 4; r++)
			pl_action_end(&roots[r], NULL, 0);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (uintptr_t k = 0; k < 4; k++)
		assert_int_equal(pthread_create(&t[k], NULL, worker, (void *)k), 0);
	for (int k = 0; k < 4; k++) {
		void *ret;
		pthread_join(t[k], &ret);
		assert_null(ret);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid),	   cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test(test_format),	   cmocka_unit_test(test_span_id),
	    cmocka_unit_test(test_continued_task), cmocka_unit_test(test_not_recording),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
