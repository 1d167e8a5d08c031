/* SPDX-License-Identifier: MIT */
/* test_refetch.c - analysis/refetch.c: the inputs of calls read again from their files.
 *
 * A trace of 12 frames (flushed by hand), 40 requests each with two inputs, some with a
 * container (the record path) and a few with none. Calls are made here from a plain read
 * of it (what identifies a START: start time, task id, level path), and their inputs
 * must come back packed exactly as pf_fields_pack() packs the fields that read gave:
 * one call, a few spread over the frames (a window each), more than a pass's threshold
 * (one pass), calls of a summary (left alone), calls whose START is not in the file
 * (counted missing), and all of them once the file was replaced by another.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../c/helpers.h"
#include "analysis/refetch.h"
#include "core/fields.h"
#include "core/input.h"
#include "core/names.h"

#define FRAMES 12
#define PER    40

static char *dir, *path, *other;

struct want {
	struct pf_call call;
	uint8_t packed[PF_FIELDS_MAX];
	size_t len;
};

static struct want starts[FRAMES * PER * 2]; /* req and step */
static size_t nstarts;

static void manual(struct pl_writer_options *o)
{
	o->flush_interval_ms = 3600u * 1000u;
}

static void write_trace(const char *file, int salt)
{
	struct pl_writer *w = th_open(file, manual);
	for (int b = 0; b < FRAMES; b++) {
		for (int i = 0; i < PER; i++) {
			pl_action req, step;
			pl_value items[] = {PL_V_INT(b), PL_V_STR("x")};
			struct pl_field in[] = {PL_F_INT("batch", b * 1000 + i + salt),
						PL_F_STR("path", i % 3 ? "/a" : "/bb")};
			struct pl_field deep[] = {PL_F("list", PL_V_ARRAY(items, 2))};
			if (i % 7 == 3)
				pl_action_begin(&req, w, NULL, PL_NAME("req"), deep, 1);
			else if (i % 11 == 5)
				pl_action_begin(&req, w, NULL, PL_NAME("req"), NULL, 0);
			else
				pl_action_begin(&req, w, NULL, PL_NAME("req"), in, 2);
			pl_action_begin(&step, w, &req, PL_NAME("step"), in, 1);
			pl_action_end(&step, NULL, 0);
			pl_action_end(&req, NULL, 0);
		}
		assert_int_equal(pl_writer_flush(w), 0);
	}
	assert_int_equal(pl_writer_close(w), 0);
}

/* Every START of @file as a call of source @src, with its fields packed. */
static void read_starts(const char *file, uint32_t src)
{
	struct pl_reader *r;
	struct pl_record rec = PL_RECORD_INIT;
	assert_int_equal(pl_reader_open(file, &r), 0);
	nstarts = 0;
	while (pl_reader_next(r, &rec) == 0) {
		if (rec.kind != PL_REC_START)
			continue;
		assert_true(nstarts < FRAMES * PER * 2);
		struct want *s = &starts[nstarts++];
		memset(s, 0, sizeof(*s));
		s->call.src = src;
		s->call.start_wall = rec.wall_ns;
		s->call.prefix = rec.task_prefix;
		s->call.seq = rec.task_seq;
		s->call.depth = rec.depth;
		memcpy(s->call.level, rec.level, rec.depth * sizeof(uint32_t));
		s->len = pf_fields_pack(s->packed, sizeof(s->packed), rec.fields, rec.nfields);
	}
	pl_reader_close(r);
}

static int setup(void **state)
{
	(void)state;
	dir = th_tmpdir();
	path = th_path(dir, "t.zst");
	other = th_path(dir, "other.zst");
	write_trace(path, 0);
	write_trace(other, 7);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_rmdir(dir);
	free(path);
	free(other);
	return 0;
}

struct ctx {
	struct pf_names names;
	struct pf_input in;
};

static void open_input(struct ctx *c, const char *file)
{
	char *paths[] = {(char *)file};
	memset(c, 0, sizeof(*c));
	pf_names_init(&c->names);
	assert_int_equal(pf_input_open(&c->in, paths, 1, &c->names, 0), 0);
	assert_int_equal(c->in.nsrc, 1);
}

static void close_input(struct ctx *c)
{
	pf_input_close(&c->in);
	pf_names_destroy(&c->names);
}

/* Refetch the calls at @idx[0..n) of starts[] (as copies); check each one's inputs. */
static long refetch(struct ctx *c, const size_t *idx, size_t n, bool expect_found)
{
	struct pf_call **calls = calloc(n, sizeof(*calls));
	for (size_t i = 0; i < n; i++) {
		calls[i] = malloc(sizeof(**calls));
		*calls[i] = starts[idx[i]].call;
	}
	long missing = pf_refetch_inputs(&c->in, calls, n);
	for (size_t i = 0; i < n; i++) {
		const struct want *s = &starts[idx[i]];
		if (expect_found) {
			assert_non_null(calls[i]->inputs);
			assert_int_equal(calls[i]->inputs_len, s->len);
			assert_memory_equal(calls[i]->inputs, s->packed, s->len);
		} else {
			assert_null(calls[i]->inputs);
		}
		free(calls[i]->inputs);
		free(calls[i]);
	}
	free(calls);
	return missing;
}

static void test_calls_here_and_there(void **state)
{
	(void)state;
	struct ctx c;
	read_starts(path, 0);
	assert_int_equal(nstarts, FRAMES * PER * 2);
	open_input(&c, path);
	size_t one[] = {FRAMES * PER + 5};
	assert_int_equal(refetch(&c, one, 1, true), 0);
	/* Spread over the frames, unsorted, two in one frame, an empty and a deep one. */
	size_t few[] = {900, 3, 401, 402, 77, 2 * 5, 2 * 3 + 1, 500};
	assert_int_equal(refetch(&c, few, sizeof(few) / sizeof(few[0]), true), 0);
	size_t many[200];
	for (size_t i = 0; i < 200; i++)
		many[i] = (i * 37) % nstarts;
	assert_int_equal(refetch(&c, many, 200, true), 0);
	close_input(&c);
}

static void test_calls_not_there(void **state)
{
	(void)state;
	struct ctx c;
	read_starts(path, 0);
	open_input(&c, path);
	/* A START that is not in the file: another level path, another time. */
	assert_int_equal(starts[1].call.depth, 1); /* a step */
	starts[1].call.level[0] += 1000;
	starts[0].call.start_wall += 1;
	size_t idx[] = {0, 1, 2};
	struct pf_call *calls[3];
	for (int i = 0; i < 3; i++) {
		calls[i] = calloc(1, sizeof(**calls));
		*calls[i] = starts[idx[i]].call;
	}
	assert_int_equal(pf_refetch_inputs(&c.in, calls, 3), 2);
	assert_null(calls[0]->inputs);
	assert_null(calls[1]->inputs);
	assert_non_null(calls[2]->inputs);
	/* Calls that have inputs, or whose source is a summary, are left alone. */
	uint8_t mine = 0;
	calls[0]->inputs = &mine;
	c.in.src[0].summarized = true;
	free(calls[2]->inputs);
	calls[2]->inputs = NULL;
	assert_int_equal(pf_refetch_inputs(&c.in, calls, 3), 0);
	assert_ptr_equal(calls[0]->inputs, &mine);
	assert_null(calls[2]->inputs);
	c.in.src[0].summarized = false;
	for (int i = 0; i < 3; i++)
		free(calls[i]);
	close_input(&c);
}

static void test_file_replaced(void **state)
{
	(void)state;
	struct ctx c;
	read_starts(path, 0);
	open_input(&c, path);
	assert_int_equal(rename(other, path), 0); /* a rotation, say */
	size_t few[] = {3, 401, 900};
	assert_int_equal(refetch(&c, few, 3, false), 3);
	size_t many[40];
	for (size_t i = 0; i < 40; i++)
		many[i] = i * 20;
	assert_int_equal(refetch(&c, many, 40, false), 40);
	assert_int_equal(unlink(path), 0); /* and gone */
	assert_int_equal(refetch(&c, few, 3, false), 3);
	close_input(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_calls_here_and_there),
	    cmocka_unit_test(test_calls_not_there),
	    cmocka_unit_test(test_file_replaced),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
