/* SPDX-License-Identifier: MIT */
/* test_roundtrip.c - what pl_writer records, pl_reader reads back (public API only).
 *
 * Every record kind (START, END, MESSAGE, THREAD, STATS) and every field value type;
 * failed actions; task ids and levels of nested actions and messages; continuing a task
 * from its serialized string; name interning; timestamps against the wall clock;
 * durations; double ends; NULL writers; PL_ACTION_SCOPE; the header; and how the output
 * file is created (mode, "{pid}", symlinks). Expectations come from the public headers
 * and docs/format.md, never from liblog's code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixture: a fresh directory per test ---- */

struct fx {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->dir = th_tmpdir();
	f->path = th_path(f->dir, "trace.pl");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->path);
	th_rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- small helpers ---- */

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(long ns)
{
	struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void tweak_block(struct pl_writer_options *o)
{
	o->full_policy = PL_FULL_BLOCK;
}

static void tweak_monotonic(struct pl_writer_options *o)
{
	o->clock = PL_CLOCK_MONOTONIC;
}

/* The level part of a record's task string: "@/2/1". */
static const char *level_of(const struct th_rec *r)
{
	const char *at = strchr(r->task, '@');
	if (!at)
		fail_msg("task string without '@': \"%s\"", r->task);
	return at;
}

static bool is_task_kind(int kind)
{
	return kind == PL_REC_START || kind == PL_REC_END || kind == PL_REC_MESSAGE;
}

/* The @nth (0-based) record of @kind whose type is @type (NULL: any). */
static const struct th_rec *find(const struct th_trace *t, int kind, const char *type, size_t nth)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->recs[i].kind == kind && (!type || strcmp(t->recs[i].type, type) == 0) &&
		    k++ == nth)
			return &t->recs[i];
	fail_msg("no record #%zu of kind %d, type %s", nth, kind, type ? type : "(any)");
	return NULL;
}

/* The END of the action that @start started: same task and level. */
static const struct th_rec *end_of(const struct th_trace *t, const struct th_rec *start)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->recs[i].kind == PL_REC_END && strcmp(t->recs[i].task, start->task) == 0)
			return &t->recs[i];
	fail_msg("no END for %s (%s)", start->task, start->type);
	return NULL;
}

/* Whether "name=value" is one of the ';'-separated fields rendered by th_read_all. */
static bool has_field(const char *fields, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = fields; (p = strstr(p, token)); p++)
		if ((p == fields || p[-1] == ';') && (p[n] == ';' || p[n] == '\0'))
			return true;
	return false;
}

struct want {
	int kind;
	const char *type;   /* NULL: not checked (END records have none) */
	const char *level;  /* e.g. "@/2/1" */
	const char *fields; /* as rendered by th_read_all; NULL: not checked */
};

/* The START/END/MESSAGE records of @t are exactly @w, in order, all in one task.
 * Returns the first of them. */
static const struct th_rec *expect_task(const struct th_trace *t, const struct want *w, size_t n)
{
	const struct th_rec *first = NULL;
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct th_rec *r = &t->recs[i];
		if (!is_task_kind(r->kind))
			continue;
		if (k >= n)
			fail_msg("unexpected record #%zu: kind %d type \"%s\" task %s", k, r->kind,
				 r->type, r->task);
		const struct want *e = &w[k++];
		if (r->kind != e->kind || (e->type && strcmp(r->type, e->type) != 0) ||
		    strcmp(level_of(r), e->level) != 0 ||
		    (e->fields && strcmp(r->fields, e->fields) != 0))
			fail_msg(
			    "record #%zu: got kind %d type \"%s\" %s fields \"%s\"; want kind %d "
			    "type \"%s\" %s fields \"%s\"",
			    k - 1, r->kind, r->type, level_of(r), r->fields, e->kind,
			    e->type ? e->type : "(any)", e->level, e->fields ? e->fields : "(any)");
		if (!first)
			first = r;
		if (r->prefix != first->prefix || r->seq != first->seq)
			fail_msg("record #%zu (%s) is not in the task of %s", k - 1, r->task,
				 first->task);
		if (r->prefix != t->hdr.task_prefix)
			fail_msg("record #%zu: prefix %016" PRIx64 ", header says %016" PRIx64,
				 k - 1, r->prefix, t->hdr.task_prefix);
	}
	assert_int_equal(k, n);
	return first;
}

/* A reader positioned on the first record of @kind with @type. */
static struct pl_reader *open_at(const char *path, int kind, const char *type,
				 struct pl_record *rec)
{
	struct pl_reader *r = NULL;
	int ret = pl_reader_open(path, &r);
	if (ret != 0)
		fail_msg("pl_reader_open(%s): %s", path, pl_strerror(ret));
	while ((ret = pl_reader_next(r, rec)) == 0)
		if ((int)rec->kind == kind && strcmp(rec->type, type) == 0)
			return r;
	pl_reader_close(r);
	fail_msg("no record of kind %d type %s (status %d)", kind, type, ret);
	return NULL;
}

/* The next record of @kind, or fail. */
static void next_of(struct pl_reader *r, int kind, struct pl_record *rec)
{
	int ret;
	while ((ret = pl_reader_next(r, rec)) == 0)
		if ((int)rec->kind == kind)
			return;
	fail_msg("no further record of kind %d (status %d)", kind, ret);
}

static const pl_value *field(const struct pl_record *rec, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < rec->nfields; i++)
		if (rec->fields[i].key_len == n && memcmp(rec->fields[i].key, name, n) == 0)
			return &rec->fields[i].value;
	fail_msg("no field \"%s\" in a record of kind %d", name, rec->kind);
	return NULL;
}

static const pl_value *map_get(const pl_value *m, const char *key)
{
	size_t n = strlen(key);
	assert_int_equal(m->type, PL_VALUE_MAP);
	for (size_t i = 0; i < m->v.map.len; i++)
		if (m->v.map.items[i].key_len == n && memcmp(m->v.map.items[i].key, key, n) == 0)
			return &m->v.map.items[i].value;
	fail_msg("no key \"%s\" in map", key);
	return NULL;
}

static void assert_int_value(const pl_value *v, int64_t want)
{
	assert_int_equal(v->type, PL_VALUE_INT);
	if (v->v.i != want)
		fail_msg("int %" PRId64 ", want %" PRId64, v->v.i, want);
}

static void assert_str_value(const pl_value *v, enum pl_value_type type, const void *p, size_t n)
{
	assert_int_equal(v->type, type);
	assert_int_equal(v->v.str.len, n);
	if (n)
		assert_memory_equal(v->v.str.ptr, p, n);
}

/* ---- names interned before the writer opens ---- */

static void test_name_interned_before_open(void **state)
{
	/* Names are process-wide: a program interns them (PL_NAME) whenever a call site first
	 * runs, which may well be before this writer opened. Its file must still read. */
	struct fx *f = *state;
	pl_name early = pl_name_intern("early.name", 10);
	const struct pl_field fld = {pl_name_intern("early.field", 11), PL_V_INT(5)};
	struct pl_writer *w = th_open(f->path, NULL);
	pl_message(w, NULL, early, &fld, 1);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	int ret = th_read_all(f->path, &t);
	if (ret != PL_END)
		fail_msg("reading back: %s at offset %" PRIu64 ": %s", pl_strerror(ret),
			 t.err_offset, t.err_reason);
	assert_string_equal(find(&t, PL_REC_MESSAGE, "early.name", 0)->fields, "early.field=5");
	th_trace_free(&t);
}

/* ---- field values ---- */

static const char utf8_text[] =
    "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";
static const uint8_t nul_bytes[] = {0x00, 0x01, 0x00, 0xff, 0x00, 0x7f, 0x00};
#define LONG_LEN (10u * 1024u + 7u)
#define NVALUES	 29

static void fill_long(char *s)
{
	for (size_t i = 0; i < LONG_LEN; i++)
		s[i] = (char)('a' + (i * 7 + i / 26) % 26);
}

static void check_values(const struct pl_record *rec, const char *long_str)
{
	const pl_value *v;
	assert_int_equal(rec->nfields, NVALUES);

	assert_int_equal(field(rec, "nil")->type, PL_VALUE_NIL);
	v = field(rec, "t");
	assert_int_equal(v->type, PL_VALUE_BOOL);
	assert_true(v->v.b);
	v = field(rec, "f");
	assert_int_equal(v->type, PL_VALUE_BOOL);
	assert_false(v->v.b);

	assert_int_value(field(rec, "i0"), 0);
	assert_int_value(field(rec, "ineg1"), -1);
	assert_int_value(field(rec, "ineg33"), -33);
	assert_int_value(field(rec, "ineg_big"), -123456789012345LL);
	assert_int_value(field(rec, "ipos_big"), 4294967296LL);
	assert_int_value(field(rec, "imin"), INT64_MIN);
	assert_int_value(field(rec, "imax"), INT64_MAX);

	v = field(rec, "umax");
	assert_int_equal(v->type, PL_VALUE_UINT);
	assert_true(v->v.u == UINT64_MAX);
	v = field(rec, "uover");
	assert_int_equal(v->type, PL_VALUE_UINT);
	assert_true(v->v.u == (uint64_t)INT64_MAX + 1);

	v = field(rec, "fnegzero");
	assert_int_equal(v->type, PL_VALUE_FLOAT);
	assert_true(v->v.f == 0.0 && signbit(v->v.f));
	v = field(rec, "fbig");
	assert_int_equal(v->type, PL_VALUE_FLOAT);
	assert_true(v->v.f == 1e300);
	v = field(rec, "fthird");
	assert_int_equal(v->type, PL_VALUE_FLOAT);
	assert_true(v->v.f == 1.0 / 3.0);
	v = field(rec, "fdenorm");
	assert_int_equal(v->type, PL_VALUE_FLOAT);
	assert_true(v->v.f == -4.9e-324);
	v = field(rec, "finf");
	assert_int_equal(v->type, PL_VALUE_FLOAT);
	assert_true(isinf(v->v.f) && v->v.f > 0);

	assert_str_value(field(rec, "sempty"), PL_VALUE_STR, "", 0);
	assert_str_value(field(rec, "sutf8"), PL_VALUE_STR, utf8_text, sizeof(utf8_text) - 1);
	assert_str_value(field(rec, "slong"), PL_VALUE_STR, long_str, LONG_LEN);
	assert_str_value(field(rec, "bytes"), PL_VALUE_BYTES, nul_bytes, sizeof(nul_bytes));
	assert_str_value(field(rec, "bempty"), PL_VALUE_BYTES, "", 0);

	v = field(rec, "arr");
	assert_int_equal(v->type, PL_VALUE_ARRAY);
	assert_int_equal(v->v.array.len, 8);
	const pl_value *it = v->v.array.items;
	assert_int_value(&it[0], 1);
	assert_int_value(&it[1], -2);
	assert_int_equal(it[2].type, PL_VALUE_UINT);
	assert_true(it[2].v.u == UINT64_MAX);
	assert_int_equal(it[3].type, PL_VALUE_FLOAT);
	assert_true(it[3].v.f == 2.5);
	assert_int_equal(it[4].type, PL_VALUE_BOOL);
	assert_true(it[4].v.b);
	assert_int_equal(it[5].type, PL_VALUE_NIL);
	assert_str_value(&it[6], PL_VALUE_STR, "two", 3);
	assert_str_value(&it[7], PL_VALUE_BYTES, nul_bytes, 3);

	/* A container inside an array or a map becomes nil; its neighbours are kept. */
	v = field(rec, "arr_nested");
	assert_int_equal(v->type, PL_VALUE_ARRAY);
	assert_int_equal(v->v.array.len, 4);
	assert_int_value(&v->v.array.items[0], 1);
	assert_int_equal(v->v.array.items[1].type, PL_VALUE_NIL);
	assert_int_equal(v->v.array.items[2].type, PL_VALUE_NIL);
	assert_str_value(&v->v.array.items[3], PL_VALUE_STR, "x", 1);

	v = field(rec, "arr_empty");
	assert_int_equal(v->type, PL_VALUE_ARRAY);
	assert_int_equal(v->v.array.len, 0);

	v = field(rec, "map");
	assert_int_equal(v->type, PL_VALUE_MAP);
	assert_int_equal(v->v.map.len, 5);
	assert_int_value(map_get(v, "a"), 1);
	assert_str_value(map_get(v, "b"), PL_VALUE_STR, "bee", 3);
	assert_int_equal(map_get(v, "c")->type, PL_VALUE_NIL);
	assert_true(map_get(v, "\xc3\xa9")->v.f == -0.5);
	assert_int_value(map_get(v, ""), INT64_MIN);

	v = field(rec, "map_nested");
	assert_int_equal(v->type, PL_VALUE_MAP);
	assert_int_equal(v->v.map.len, 3);
	assert_int_equal(map_get(v, "m")->type, PL_VALUE_NIL);
	assert_int_equal(map_get(v, "l")->type, PL_VALUE_NIL);
	assert_int_value(map_get(v, "k"), 3);

	v = field(rec, "map_empty");
	assert_int_equal(v->type, PL_VALUE_MAP);
	assert_int_equal(v->v.map.len, 0);
}

static void test_field_values(void **state)
{
	struct fx *f = *state;
	char *long_str = malloc(LONG_LEN);
	assert_non_null(long_str);
	fill_long(long_str);

	const pl_value arr[] = {
	    PL_V_INT(1),  PL_V_INT(-2), PL_V_UINT(UINT64_MAX), PL_V_FLOAT(2.5),
	    PL_V_BOOL(1), PL_V_NIL(),	PL_V_STR("two"),       PL_V_BYTES(nul_bytes, 3)};
	const pl_value inner[] = {PL_V_INT(5), PL_V_STR("deep")};
	const struct pl_kv inner_kv[] = {{"z", 1, PL_V_INT(9)}};
	const pl_value arr_nested[] = {PL_V_INT(1), PL_V_ARRAY(inner, 2), PL_V_MAP(inner_kv, 1),
				       PL_V_STR("x")};
	const struct pl_kv kvs[] = {{"a", 1, PL_V_INT(1)},
				    {"b", 1, PL_V_STR("bee")},
				    {"c", 1, PL_V_NIL()},
				    {"\xc3\xa9", 2, PL_V_FLOAT(-0.5)},
				    {"", 0, PL_V_INT(INT64_MIN)}};
	const struct pl_kv kv_nested[] = {
	    {"m", 1, PL_V_MAP(kvs, 2)}, {"l", 1, PL_V_ARRAY(inner, 2)}, {"k", 1, PL_V_INT(3)}};
	const struct pl_field fields[] = {
	    PL_F("nil", PL_V_NIL()),
	    PL_F_BOOL("t", 1),
	    PL_F_BOOL("f", 0),
	    PL_F_INT("i0", 0),
	    PL_F_INT("ineg1", -1),
	    PL_F_INT("ineg33", -33),
	    PL_F_INT("ineg_big", -123456789012345LL),
	    PL_F_INT("ipos_big", 4294967296LL),
	    PL_F_INT("imin", INT64_MIN),
	    PL_F_INT("imax", INT64_MAX),
	    PL_F_UINT("umax", UINT64_MAX),
	    PL_F_UINT("uover", (uint64_t)INT64_MAX + 1),
	    PL_F_FLOAT("fnegzero", -0.0),
	    PL_F_FLOAT("fbig", 1e300),
	    PL_F_FLOAT("fthird", 1.0 / 3.0),
	    PL_F_FLOAT("fdenorm", -4.9e-324),
	    PL_F_FLOAT("finf", INFINITY),
	    PL_F("sempty", PL_V_STRN("", 0)),
	    PL_F_STR("sutf8", utf8_text),
	    PL_F("slong", PL_V_STRN(long_str, LONG_LEN)),
	    PL_F("bytes", PL_V_BYTES(nul_bytes, sizeof(nul_bytes))),
	    PL_F("bempty", PL_V_BYTES("", 0)),
	    PL_F("arr", PL_V_ARRAY(arr, ARRAY_LEN(arr))),
	    PL_F("arr_nested", PL_V_ARRAY(arr_nested, ARRAY_LEN(arr_nested))),
	    PL_F("arr_empty", PL_V_ARRAY(arr, 0)),
	    PL_F("map", PL_V_MAP(kvs, ARRAY_LEN(kvs))),
	    PL_F("map_nested", PL_V_MAP(kv_nested, ARRAY_LEN(kv_nested))),
	    PL_F("map_empty", PL_V_MAP(kvs, 0)),
	    PL_F_STR("last", "end"),
	};
	_Static_assert(ARRAY_LEN(fields) == NVALUES, "NVALUES counts the fields");

	struct pl_writer *w = th_open(f->path, NULL);
	pl_action a;
	/* The same values as inputs, message fields and outputs. */
	pl_action_begin(&a, w, NULL, PL_NAME("values.action"), fields, ARRAY_LEN(fields));
	pl_message(w, &a, PL_NAME("values.message"), fields, ARRAY_LEN(fields));
	pl_action_end(&a, fields, ARRAY_LEN(fields));
	/* The writer copied everything during the calls. */
	memset(long_str, 'Z', LONG_LEN);
	assert_int_equal(pl_writer_close(w), 0);
	fill_long(long_str);

	struct pl_record rec = PL_RECORD_INIT;
	struct pl_reader *r = open_at(f->path, PL_REC_START, "values.action", &rec);
	check_values(&rec, long_str);
	assert_str_value(field(&rec, "last"), PL_VALUE_STR, "end", 3);
	next_of(r, PL_REC_MESSAGE, &rec);
	assert_string_equal(rec.type, "values.message");
	check_values(&rec, long_str);
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.outcome, PL_SUCCEEDED);
	check_values(&rec, long_str);
	pl_reader_close(r);
	free(long_str);
}

/* ---- record kinds ---- */

static void test_record_kinds(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	pl_thread_name(w, "rt-main");
	pl_action a;
	const struct pl_field in[] = {PL_F_INT("x", 3)};
	pl_action_begin(&a, w, NULL, PL_NAME("kinds.action"), in, 1);
	const struct pl_field mf[] = {PL_F_STR("what", "hello")};
	pl_message(w, &a, PL_NAME("kinds.message"), mf, 1);
	const struct pl_field out[] = {PL_F_INT("result", 9)};
	pl_action_end(&a, out, 1);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	assert_int_equal(pl_writer_close(w), 0);
	/* Four events were recorded: the thread name, START, MESSAGE and END. */
	assert_int_equal(st.events, 4);

	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	const struct want want[] = {
	    {PL_REC_START, "kinds.action", "@/", "x=3"},
	    {PL_REC_MESSAGE, "kinds.message", "@/1", "what=\"hello\""},
	    {PL_REC_END, NULL, "@/", "result=9"},
	};
	const struct th_rec *start = expect_task(&t, want, ARRAY_LEN(want));
	const struct th_rec *end = find(&t, PL_REC_END, NULL, 0);
	assert_int_equal(end->outcome, PL_SUCCEEDED);
	assert_string_equal(end->exc_type, "");
	assert_true(start->thread >= 1);
	assert_int_equal(start->tid, (uint32_t)gettid());

	/* THREAD: the renamed thread is the one that recorded the action. */
	size_t named = 0;
	for (size_t i = 0; i < t.n; i++) {
		const struct th_rec *r = &t.recs[i];
		if (r->kind != PL_REC_THREAD || strcmp(r->name, "rt-main") != 0)
			continue;
		named++;
		assert_int_equal(r->thread, start->thread);
		assert_int_equal(r->tid, (uint32_t)gettid());
	}
	assert_int_equal(named, 1);

	/* STATS: the last record of a closed file, with the writer's counters. */
	assert_true(t.n > 0);
	const struct th_rec *s = &t.recs[t.n - 1];
	assert_int_equal(s->kind, PL_REC_STATS);
	assert_int_equal(th_count(&t, PL_REC_STATS, NULL), 1);
	assert_int_equal(th_count(&t, PL_REC_DROPPED, NULL), 0);
	static const char *const zero[] = {"dropped_full=0",	  "dropped_oversize=0",
					   "dropped_no_buffer=0", "dropped_write=0",
					   "write_errors=0",	  "blocked=0"};
	if (!has_field(s->fields, "events=4"))
		fail_msg("STATS fields: %s", s->fields);
	for (size_t i = 0; i < ARRAY_LEN(zero); i++)
		if (!has_field(s->fields, zero[i]))
			fail_msg("STATS lacks %s: %s", zero[i], s->fields);
	for (const char *k = "frames=\0bytes_raw=\0bytes_written=\0"; *k; k += strlen(k) + 1)
		if (!strstr(s->fields, k))
			fail_msg("STATS lacks %s: %s", k, s->fields);
	th_trace_free(&t);
}

static void test_action_fail(void **state)
{
	struct fx *f = *state;
	char *long_type = malloc(2000), *long_msg = malloc(5000);
	assert_non_null(long_type);
	assert_non_null(long_msg);
	memset(long_type, 'T', 2000);
	memset(long_msg, 'm', 5000);

	struct pl_writer *w = th_open(f->path, NULL);
	pl_action a, b, c;
	const struct pl_field out[] = {PL_F_INT("partial", 2)};
	pl_action_begin(&a, w, NULL, PL_NAME("fail.a"), NULL, 0);
	pl_action_fail(&a, "builtins.ValueError", 19, "bad value: 42", 13, out, 1);
	pl_action_begin(&b, w, NULL, PL_NAME("fail.b"), NULL, 0);
	pl_action_fail(&b, "pkg.Err", 7, NULL, 0, NULL, 0);
	pl_action_begin(&c, w, NULL, PL_NAME("fail.c"), NULL, 0);
	pl_action_fail(&c, long_type, 2000, long_msg, 5000, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct pl_record rec = PL_RECORD_INIT;
	struct pl_reader *r = open_at(f->path, PL_REC_START, "fail.a", &rec);
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.outcome, PL_FAILED);
	assert_string_equal(rec.exc_type, "builtins.ValueError");
	assert_string_equal(rec.exc_msg, "bad value: 42");
	assert_int_equal(rec.nfields, 1);
	assert_int_value(field(&rec, "partial"), 2);
	assert_true(rec.duration_ns < 1000000000u);

	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.outcome, PL_FAILED);
	assert_string_equal(rec.exc_type, "pkg.Err");
	assert_true(rec.exc_msg == NULL || rec.exc_msg[0] == '\0');
	assert_int_equal(rec.nfields, 0);

	/* Exception texts are cut: the type at 1 KiB, the message at 4 KiB. */
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.outcome, PL_FAILED);
	assert_non_null(rec.exc_type);
	assert_non_null(rec.exc_msg);
	assert_int_equal(strlen(rec.exc_type), 1024);
	assert_int_equal(strlen(rec.exc_msg), 4096);
	assert_memory_equal(rec.exc_type, long_type, 1024);
	assert_memory_equal(rec.exc_msg, long_msg, 4096);
	assert_int_equal(pl_reader_next(r, &rec), 0);
	assert_int_equal(rec.kind, PL_REC_STATS);
	pl_reader_close(r);
	free(long_type);
	free(long_msg);
}

/* pl_action_cancel(): the outcome PL_CANCELLED (format 2), with what stopped the action
 * and its outputs; a failure next to it stays PL_FAILED. */
static void test_action_cancel(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	pl_action a, b, c;
	const struct pl_field out[] = {PL_F_INT("done", 3)};
	pl_action_begin(&a, w, NULL, PL_NAME("cancel.a"), NULL, 0);
	pl_action_cancel(&a, "asyncio.exceptions.CancelledError", 33, "shutting down", 13, out, 1);
	pl_action_begin(&b, w, NULL, PL_NAME("cancel.b"), NULL, 0);
	pl_action_cancel(&b, NULL, 0, NULL, 0, NULL, 0);
	pl_action_begin(&c, w, NULL, PL_NAME("cancel.c"), NULL, 0);
	pl_action_fail(&c, "pkg.Err", 7, "no", 2, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct pl_record rec = PL_RECORD_INIT;
	struct pl_reader *r = open_at(f->path, PL_REC_START, "cancel.a", &rec);
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.outcome, PL_CANCELLED);
	assert_string_equal(rec.exc_type, "asyncio.exceptions.CancelledError");
	assert_string_equal(rec.exc_msg, "shutting down");
	assert_int_equal(rec.nfields, 1);
	assert_int_value(field(&rec, "done"), 3);
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.outcome, PL_CANCELLED);
	assert_true(rec.exc_type == NULL || rec.exc_type[0] == '\0');
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.outcome, PL_FAILED);
	assert_string_equal(rec.exc_type, "pkg.Err");
	pl_reader_close(r);
}

/* Exception texts of multi-byte characters are cut at a character boundary (not through
 * one: the trace holds valid UTF-8), and pl_utf8_cut() itself. */
static void test_exception_text_cut_on_a_character(void **state)
{
	struct fx *f = *state;
	/* "€" is 3 bytes: 1024 and 4096 are not multiples of 3. */
	size_t n = 2000;
	char *text = malloc(3 * n);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		memcpy(text + 3 * i, "\xe2\x82\xac", 3);
	struct pl_writer *w = th_open(f->path, NULL);
	pl_action a;
	pl_action_begin(&a, w, NULL, PL_NAME("fail.utf8"), NULL, 0);
	pl_action_fail(&a, text, 3 * n, text, 3 * n, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);
	struct pl_record rec = PL_RECORD_INIT;
	struct pl_reader *r = open_at(f->path, PL_REC_START, "fail.utf8", &rec);
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(strlen(rec.exc_type), 1023); /* 341 whole characters */
	assert_int_equal(strlen(rec.exc_msg), 4095);  /* 1365 */
	assert_memory_equal(rec.exc_msg, text, 4095);
	pl_reader_close(r);

	assert_int_equal(pl_utf8_cut(text, 6, 10), 6);		/* fits */
	assert_int_equal(pl_utf8_cut(text, 9, 4), 3);		/* inside the 2nd character */
	assert_int_equal(pl_utf8_cut(text, 9, 6), 6);		/* on a boundary */
	assert_int_equal(pl_utf8_cut(text, 9, 2), 0);		/* inside the 1st */
	assert_int_equal(pl_utf8_cut("abc", 3, 2), 2);		/* ASCII */
	assert_int_equal(pl_utf8_cut("\x80\x80\x80", 3, 2), 0); /* stray continuations */
	free(text);
}

/* pl_reader_skip_fields(): inputs, outputs and message fields left out, everything else
 * (types, tasks, durations, exceptions) as without it; and back on again. */
static void test_skip_fields(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	pl_action a, b;
	const struct pl_field in[] = {PL_F_INT("n", 7), PL_F_STR("s", "text")};
	const struct pl_field out[] = {PL_F_INT("partial", 2)};
	pl_action_begin(&a, w, NULL, PL_NAME("skip.a"), in, 2);
	pl_message(w, &a, PL_NAME("skip.msg"), in, 2);
	pl_action_fail(&a, "pkg.Err", 7, "why", 3, out, 1);
	pl_action_begin(&b, w, NULL, PL_NAME("skip.b"), in, 2);
	pl_action_end(&b, out, 1);
	assert_int_equal(pl_writer_close(w), 0);

	struct pl_record rec = PL_RECORD_INIT;
	struct pl_reader *r = open_at(f->path, PL_REC_START, "skip.a", &rec);
	assert_int_equal(rec.nfields, 2); /* decoded until told otherwise */
	pl_reader_skip_fields(r, 1);
	next_of(r, PL_REC_MESSAGE, &rec);
	assert_string_equal(rec.type, "skip.msg");
	assert_null(rec.fields);
	assert_int_equal(rec.nfields, 0);
	assert_int_equal(rec.depth, 1);
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.outcome, PL_FAILED);
	assert_string_equal(rec.exc_type, "pkg.Err");
	assert_string_equal(rec.exc_msg, "why");
	assert_int_equal(rec.nfields, 0);
	assert_true(rec.duration_ns > 0 && rec.duration_ns < 1000000000u);
	next_of(r, PL_REC_START, &rec);
	assert_string_equal(rec.type, "skip.b");
	assert_int_equal(rec.nfields, 0);
	pl_reader_skip_fields(r, 0);
	next_of(r, PL_REC_END, &rec);
	assert_int_equal(rec.nfields, 1);
	assert_int_value(field(&rec, "partial"), 2);
	pl_reader_skip_fields(NULL, 1); /* a no-op */
	pl_reader_close(r);
}

/* pl_reader_skip_fields_of(): the kinds asked for only, by record and by run; mutation
 * tried: a mask tested by the START's bit whatever the kind fails it. */
static void test_skip_fields_of(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	const struct pl_field in[] = {PL_F_INT("n", 7), PL_F_STR("s", "text")};
	const struct pl_field out[] = {PL_F_INT("partial", 2)};
	for (int i = 0; i < 40; i++) {
		pl_action a;
		pl_action_begin(&a, w, NULL, PL_NAME("skip.a"), in, 2);
		pl_message(w, &a, PL_NAME("skip.msg"), in, 2);
		if (i % 2)
			pl_action_fail(&a, "pkg.Err", 7, "why", 3, out, 1);
		else
			pl_action_end(&a, out, 1);
	}
	assert_int_equal(pl_writer_close(w), 0);

	for (int bulk = 0; bulk < 2; bulk++) {
		struct pl_reader *r = NULL;
		assert_int_equal(pl_reader_open(f->path, &r), 0);
		pl_reader_skip_fields_of(r, PL_SKIP_START | PL_SKIP_MESSAGE);
		struct pl_record rec = PL_RECORD_INIT;
		struct pl_event ev[16];
		uint32_t lv[64];
		unsigned starts = 0, msgs = 0, ends = 0, failed = 0, in_runs = 0;
		int ret;
		for (;;) {
			size_t n = bulk ? pl_reader_next_events(r, ev, 16, lv, 64) : 0;
			in_runs += (unsigned)n;
			for (size_t i = 0; i < n; i++) {
				if (ev[i].kind == PL_REC_END) {
					ends++;
					assert_int_equal(ev[i].nfields, 1);
					assert_string_equal(ev[i].fields[0].key, "partial");
					failed += ev[i].exc_type != NULL;
				} else {
					starts += ev[i].kind == PL_REC_START;
					msgs += ev[i].kind == PL_REC_MESSAGE;
					assert_null(ev[i].fields);
					assert_int_equal(ev[i].nfields, 0);
				}
			}
			if (n)
				continue;
			if ((ret = pl_reader_next(r, &rec)) != 0)
				break;
			if (rec.kind == PL_REC_END) {
				ends++;
				assert_int_value(field(&rec, "partial"), 2);
				if (rec.outcome == PL_FAILED) {
					failed++;
					assert_string_equal(rec.exc_msg, "why");
				}
			} else if (rec.kind == PL_REC_START || rec.kind == PL_REC_MESSAGE) {
				starts += rec.kind == PL_REC_START;
				msgs += rec.kind == PL_REC_MESSAGE;
				assert_null(rec.fields);
				assert_int_equal(rec.nfields, 0);
			}
		}
		assert_int_equal(ret, PL_END);
		assert_int_equal(starts, 40);
		assert_int_equal(msgs, 40);
		assert_int_equal(ends, 40);
		assert_int_equal(failed, 20);
		if (bulk)
			assert_true(in_runs > 100); /* most through pl_reader_next_events() */
		pl_reader_close(r);
	}
	pl_reader_skip_fields_of(NULL, PL_SKIP_ALL); /* a no-op */
}

/* ---- tasks and levels ---- */

static void test_levels(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	pl_action root, a, b;
	pl_action_begin(&root, w, NULL, PL_NAME("lv.root"), NULL, 0);
	pl_message(w, &root, PL_NAME("lv.m1"), NULL, 0);
	pl_action_begin(&a, w, &root, PL_NAME("lv.a"), NULL, 0);
	pl_message(w, &a, PL_NAME("lv.m2"), NULL, 0);
	pl_action_begin(&b, w, &a, PL_NAME("lv.b"), NULL, 0);
	pl_message(w, &b, PL_NAME("lv.m3"), NULL, 0);
	pl_action_end(&b, NULL, 0);
	pl_message(w, &a, PL_NAME("lv.m4"), NULL, 0);
	pl_action_end(&a, NULL, 0);
	pl_message(w, &root, PL_NAME("lv.m5"), NULL, 0);
	pl_action_end(&root, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	const struct want want[] = {
	    {PL_REC_START, "lv.root", "@/", ""}, {PL_REC_MESSAGE, "lv.m1", "@/1", ""},
	    {PL_REC_START, "lv.a", "@/2", ""},	 {PL_REC_MESSAGE, "lv.m2", "@/2/1", ""},
	    {PL_REC_START, "lv.b", "@/2/2", ""}, {PL_REC_MESSAGE, "lv.m3", "@/2/2/1", ""},
	    {PL_REC_END, NULL, "@/2/2", ""},	 {PL_REC_MESSAGE, "lv.m4", "@/2/3", ""},
	    {PL_REC_END, NULL, "@/2", ""},	 {PL_REC_MESSAGE, "lv.m5", "@/3", ""},
	    {PL_REC_END, NULL, "@/", ""},
	};
	expect_task(&t, want, ARRAY_LEN(want));
	th_trace_free(&t);
}

static void test_deep_levels(void **state)
{
	/* Deeper than a task string can carry (PL_TASK_MAX_DEPTH), still recorded. */
	enum { DEPTH = 100 };
	struct fx *f = *state;
	static pl_action chain[DEPTH + 1];
	struct pl_writer *w = th_open(f->path, NULL);
	pl_action_begin(&chain[0], w, NULL, PL_NAME("deep"), NULL, 0);
	for (int i = 1; i <= DEPTH; i++)
		pl_action_begin(&chain[i], w, &chain[i - 1], PL_NAME("deep"), NULL, 0);
	for (int i = DEPTH; i >= 0; i--)
		pl_action_end(&chain[i], NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	char level[2 * DEPTH + 2];
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	for (int i = 0; i <= DEPTH; i++) {
		const struct th_rec *s = find(&t, PL_REC_START, "deep", (size_t)i);
		const struct th_rec *e = find(&t, PL_REC_END, NULL, (size_t)(DEPTH - i));
		int off = snprintf(level, sizeof(level), "@");
		for (int k = 0; k < i; k++)
			off += snprintf(level + off, sizeof(level) - (size_t)off, "/1");
		if (i == 0)
			snprintf(level, sizeof(level), "@/");
		assert_string_equal(level_of(s), level);
		assert_string_equal(level_of(e), level);
	}
	th_trace_free(&t);
}

struct thread_task {
	struct pl_writer *w;
};

static void *thread_task_main(void *arg)
{
	struct thread_task *tt = arg;
	pl_action a;
	pl_action_begin(&a, tt->w, NULL, PL_NAME("tid.thread"), NULL, 0);
	pl_action_end(&a, NULL, 0);
	return NULL;
}

static void test_task_ids(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	pl_action a, b;
	pl_action_begin(&a, w, NULL, PL_NAME("tid.a"), NULL, 0);
	pl_action_end(&a, NULL, 0);
	pl_action_begin(&b, w, NULL, PL_NAME("tid.b"), NULL, 0);
	pl_action_end(&b, NULL, 0);
	pl_message(w, NULL, PL_NAME("tid.m"), NULL, 0);
	struct thread_task tt = {w};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, thread_task_main, &tt), 0);
	pthread_join(th, NULL);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	assert_true(t.hdr.task_prefix != 0);
	const struct th_rec *r[] = {
	    find(&t, PL_REC_START, "tid.a", 0), find(&t, PL_REC_START, "tid.b", 0),
	    find(&t, PL_REC_MESSAGE, "tid.m", 0), find(&t, PL_REC_START, "tid.thread", 0)};
	for (size_t i = 0; i < ARRAY_LEN(r); i++) {
		/* Each is a task of its own: the root of a tree with the process's prefix. */
		assert_true(r[i]->prefix == t.hdr.task_prefix);
		assert_string_equal(level_of(r[i]), "@/");
		for (size_t j = 0; j < i; j++)
			if (r[i]->seq == r[j]->seq)
				fail_msg("tasks %s and %s share a sequence number", r[i]->task,
					 r[j]->task);
	}
	assert_true(r[3]->thread != r[0]->thread);
	/* Each END carries its START's task and level. */
	end_of(&t, r[0]);
	end_of(&t, r[1]);
	end_of(&t, r[3]);
	assert_int_equal(th_count(&t, PL_REC_END, NULL), 3);
	th_trace_free(&t);
}

static void test_remote(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	char s[PL_TASK_STR_MAX], s2[PL_TASK_STR_MAX];
	struct pl_task_ref ref, fref, ref2;

	/* Continue our own task through its string, as another process would. */
	pl_action a, rem, child, sib;
	pl_action_begin(&a, w, NULL, PL_NAME("rm.parent"), NULL, 0);
	int n = pl_action_serialize(&a, s, sizeof(s));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(s));
	assert_int_equal(pl_task_parse(s, (size_t)n, &ref), 0);
	assert_int_equal(ref.depth, 1);
	assert_int_equal(ref.level[0], 1);
	const struct pl_field in[] = {PL_F_STR("from", "serialized")};
	pl_action_begin_remote(&rem, w, &ref, PL_NAME("rm.remote"), in, 1);
	pl_message(w, &rem, PL_NAME("rm.inside"), NULL, 0);
	pl_action_begin(&child, w, &rem, PL_NAME("rm.child"), NULL, 0);
	pl_action_end(&child, NULL, 0);
	pl_action_end(&rem, NULL, 0);
	/* The serialized slot stays reserved: the next child of @a is the second. */
	pl_action_begin(&sib, w, &a, PL_NAME("rm.sibling"), NULL, 0);
	pl_action_end(&sib, NULL, 0);
	pl_action_end(&a, NULL, 0);

	/* A task from a foreign process. */
	static const char foreign[] = "00000000deadbeef-2a@/3/1";
	assert_int_equal(pl_task_parse(foreign, sizeof(foreign) - 1, &fref), 0);
	pl_action fr, fchild;
	pl_action_begin_remote(&fr, w, &fref, PL_NAME("rm.foreign"), NULL, 0);
	pl_message(w, &fr, PL_NAME("rm.foreign.msg"), NULL, 0);
	n = pl_action_serialize(&fr, s2, sizeof(s2));
	assert_true(n > 0);
	assert_int_equal(pl_task_parse(s2, (size_t)n, &ref2), 0);
	assert_true(ref2.prefix == 0xdeadbeefu);
	assert_true(ref2.seq == 0x2a);
	assert_int_equal(ref2.depth, 3);
	assert_int_equal(ref2.level[0], 3);
	assert_int_equal(ref2.level[1], 1);
	assert_int_equal(ref2.level[2], 2);
	pl_action_begin(&fchild, w, &fr, PL_NAME("rm.foreign.child"), NULL, 0);
	pl_action_end(&fchild, NULL, 0);
	pl_action_fail(&fr, "remote.Error", 12, "x", 1, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	const struct th_rec *parent = find(&t, PL_REC_START, "rm.parent", 0);
	assert_true(parent->prefix == t.hdr.task_prefix);
	assert_true(ref.prefix == parent->prefix);
	assert_true(ref.seq == parent->seq);

	const struct {
		int kind;
		const char *type;
		size_t nth;
		const char *level;
		bool foreign;
	} want[] = {
	    {PL_REC_START, "rm.remote", 0, "@/1", false},
	    {PL_REC_MESSAGE, "rm.inside", 0, "@/1/1", false},
	    {PL_REC_START, "rm.child", 0, "@/1/2", false},
	    {PL_REC_END, NULL, 0, "@/1/2", false},
	    {PL_REC_END, NULL, 1, "@/1", false},
	    {PL_REC_START, "rm.sibling", 0, "@/2", false},
	    {PL_REC_END, NULL, 2, "@/2", false},
	    {PL_REC_END, NULL, 3, "@/", false},
	    {PL_REC_START, "rm.foreign", 0, "@/3/1", true},
	    {PL_REC_MESSAGE, "rm.foreign.msg", 0, "@/3/1/1", true},
	    {PL_REC_START, "rm.foreign.child", 0, "@/3/1/3", true},
	    {PL_REC_END, NULL, 4, "@/3/1/3", true},
	    {PL_REC_END, NULL, 5, "@/3/1", true},
	};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		const struct th_rec *r = find(&t, want[i].kind, want[i].type, want[i].nth);
		if (strcmp(level_of(r), want[i].level) != 0)
			fail_msg("#%zu %s: level %s, want %s", i,
				 want[i].type ? want[i].type : "END", level_of(r), want[i].level);
		uint64_t prefix = want[i].foreign ? 0xdeadbeefu : parent->prefix;
		uint64_t seq = want[i].foreign ? 0x2a : parent->seq;
		if (r->prefix != prefix || r->seq != seq)
			fail_msg("#%zu %s: task %s, want %016" PRIx64 "-%" PRIx64, i,
				 want[i].type ? want[i].type : "END", r->task, prefix, seq);
	}
	assert_string_equal(find(&t, PL_REC_START, "rm.remote", 0)->fields, "from=\"serialized\"");
	const struct th_rec *fend = find(&t, PL_REC_END, NULL, 5);
	assert_int_equal(fend->outcome, PL_FAILED);
	assert_string_equal(fend->exc_type, "remote.Error");
	assert_int_equal(th_count(&t, PL_REC_START, NULL), 6);
	assert_int_equal(th_count(&t, PL_REC_END, NULL), 6);
	th_trace_free(&t);
}

/* ---- names ---- */

#define NDISTINCT 5000
#define NSAME	  1000

static void test_interning(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, tweak_block);
	char buf[64], fbuf[64];

	pl_name same = pl_name_intern("intern.same", 11);
	assert_true(same != 0);
	size_t len = 0;
	assert_string_equal(pl_name_str(same, &len), "intern.same");
	assert_int_equal(len, 11);
	for (int i = 0; i < NSAME; i++) {
		const struct pl_field fld[] = {PL_F_INT("intern.k", i)};
		assert_int_equal(PL_NAME("intern.same"), same);
		pl_message(w, NULL, PL_NAME("intern.same"), fld, 1);
	}
	/* Interning reads only @len bytes. */
	assert_int_equal(pl_name_intern("intern.same.but.longer", 11), same);

	static pl_name ids[NDISTINCT];
	for (int i = 0; i < NDISTINCT; i++) {
		int n = snprintf(buf, sizeof(buf), "intern.distinct.%04d", i);
		int fn = snprintf(fbuf, sizeof(fbuf), "f%04d", i);
		ids[i] = pl_name_intern(buf, (size_t)n);
		assert_true(ids[i] != 0);
		const struct pl_field fld = {pl_name_intern(fbuf, (size_t)fn), PL_V_INT(i)};
		pl_message(w, NULL, ids[i], &fld, 1);
	}
	for (int i = 0; i < NDISTINCT; i++) {
		int n = snprintf(buf, sizeof(buf), "intern.distinct.%04d", i);
		assert_int_equal(pl_name_intern(buf, (size_t)n), ids[i]);
		assert_string_equal(pl_name_str(ids[i], NULL), buf);
		if (i && ids[i] == ids[i - 1])
			fail_msg("names %d and %d share number %u", i - 1, i, ids[i]);
	}
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	assert_int_equal(pl_writer_close(w), 0);
	assert_int_equal(st.dropped_full + st.dropped_oversize, 0);

	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	static unsigned char seen[NDISTINCT];
	memset(seen, 0, sizeof(seen));
	size_t nsame = 0, ndistinct = 0;
	for (size_t i = 0; i < t.n; i++) {
		const struct th_rec *r = &t.recs[i];
		if (r->kind != PL_REC_MESSAGE)
			continue;
		if (strcmp(r->type, "intern.same") == 0) {
			snprintf(fbuf, sizeof(fbuf), "intern.k=%zu", nsame++);
			assert_string_equal(r->fields, fbuf);
			continue;
		}
		int k;
		if (sscanf(r->type, "intern.distinct.%d", &k) != 1 || k < 0 || k >= NDISTINCT)
			fail_msg("unexpected message type \"%s\"", r->type);
		snprintf(fbuf, sizeof(fbuf), "f%04d=%d", k, k);
		assert_string_equal(r->fields, fbuf);
		if (seen[k]++)
			fail_msg("message %d read twice", k);
		ndistinct++;
	}
	assert_int_equal(nsame, NSAME);
	assert_int_equal(ndistinct, NDISTINCT);
	th_trace_free(&t);
}

static void test_long_names(void **state)
{
	/* Names are cut at PL_NAME_MAX_LEN bytes, thread names at 63. */
	struct fx *f = *state;
	char name[1500], tname[100];
	memset(name, 'n', sizeof(name));
	memset(tname, 'Q', sizeof(tname) - 1);
	tname[sizeof(tname) - 1] = '\0';
	pl_name n = pl_name_intern(name, sizeof(name));
	assert_true(n != 0);
	size_t len = 0;
	const char *s = pl_name_str(n, &len);
	assert_int_equal(len, PL_NAME_MAX_LEN);
	assert_int_equal(strlen(s), PL_NAME_MAX_LEN);
	assert_memory_equal(s, name, PL_NAME_MAX_LEN);
	/* The cut name is the same name as its first PL_NAME_MAX_LEN bytes. */
	assert_int_equal(pl_name_intern(name, PL_NAME_MAX_LEN), n);

	struct pl_writer *w = th_open(f->path, NULL);
	pl_thread_name(w, tname);
	pl_message(w, NULL, n, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	int ret;
	size_t threads = 0, messages = 0;
	assert_int_equal(pl_reader_open(f->path, &r), 0);
	while ((ret = pl_reader_next(r, &rec)) == 0) {
		if (rec.kind == PL_REC_THREAD && rec.name[0] == 'Q') {
			assert_int_equal(strlen(rec.name), 63);
			assert_memory_equal(rec.name, tname, 63);
			threads++;
		} else if (rec.kind == PL_REC_MESSAGE) {
			assert_int_equal(strlen(rec.type), PL_NAME_MAX_LEN);
			assert_memory_equal(rec.type, name, PL_NAME_MAX_LEN);
			messages++;
		}
	}
	assert_int_equal(ret, PL_END);
	assert_int_equal(threads, 1);
	assert_int_equal(messages, 1);
	pl_reader_close(r);
}

/* ---- time ---- */

struct clock_worker {
	struct pl_writer *w;
	int rounds;
};

static void record_rounds(struct pl_writer *w, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		pl_action a;
		const struct pl_field fld[] = {PL_F_INT("i", i)};
		pl_action_begin(&a, w, NULL, PL_NAME("clock.action"), fld, 1);
		pl_message(w, &a, PL_NAME("clock.msg"), NULL, 0);
		pl_action_end(&a, NULL, 0);
		if (i % 10 == 9)
			sleep_ns(200000);
	}
}

static void *clock_worker_main(void *arg)
{
	struct clock_worker *cw = arg;
	pl_thread_name(cw->w, "rt-worker");
	record_rounds(cw->w, cw->rounds);
	return NULL;
}

/* Every record's wall time lies within the test's own readings around the writer, and a
 * thread's timestamps never step back (the writer clamps TSC conversions). */
static void check_wall_clock(const char *path, void (*tweak)(struct pl_writer_options *))
{
	enum { ROUNDS = 60 };
	int64_t before = wall_now();
	struct pl_writer *w = th_open(path, tweak);
	struct clock_worker cw = {w, ROUNDS};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, clock_worker_main, &cw), 0);
	record_rounds(w, ROUNDS / 2);
	assert_int_equal(pl_writer_flush(w), 0); /* a second frame, with its own checkpoint */
	record_rounds(w, ROUNDS / 2);
	pthread_join(th, NULL);
	assert_int_equal(pl_writer_close(w), 0);
	int64_t after = wall_now();

	struct th_trace t;
	assert_int_equal(th_read_all(path, &t), PL_END);
	uint64_t last_ts[16];
	size_t per_thread[16];
	memset(last_ts, 0, sizeof(last_ts));
	memset(per_thread, 0, sizeof(per_thread));
	for (size_t i = 0; i < t.n; i++) {
		const struct th_rec *r = &t.recs[i];
		if (!is_task_kind(r->kind))
			continue;
		if (r->wall_ns < before || r->wall_ns > after)
			fail_msg("record %zu (%s %s): wall_ns %" PRId64 " outside [%" PRId64
				 ", %" PRId64 "] (by %" PRId64 " ns)",
				 i, r->type, r->task, r->wall_ns, before, after,
				 r->wall_ns < before ? before - r->wall_ns : r->wall_ns - after);
		assert_true(r->thread < 16);
		if (r->ts_ns < last_ts[r->thread])
			fail_msg("thread %u: ts_ns %" PRIu64 " after %" PRIu64, r->thread, r->ts_ns,
				 last_ts[r->thread]);
		last_ts[r->thread] = r->ts_ns;
		per_thread[r->thread]++;
	}
	size_t threads = 0;
	for (size_t i = 0; i < 16; i++) {
		if (!per_thread[i])
			continue;
		threads++;
		assert_int_equal(per_thread[i], 3 * ROUNDS);
	}
	assert_int_equal(threads, 2);
	th_trace_free(&t);
}

static void test_wall_clock(void **state)
{
	struct fx *f = *state;
	check_wall_clock(f->path, NULL);
}

static void test_wall_clock_monotonic(void **state)
{
	struct fx *f = *state;
	check_wall_clock(f->path, tweak_monotonic);
}

/* With CLOCK_MONOTONIC the duration lies within what the test measured around it; a TSC
 * rate refined over a short span may be off by a little, so only a sanity bound there. */
static void check_duration(const char *path, void (*tweak)(struct pl_writer_options *), bool tight)
{
	struct pl_writer *w = th_open(path, tweak);
	pl_action a;
	uint64_t t0 = mono_now();
	pl_action_begin(&a, w, NULL, PL_NAME("dur.sleep"), NULL, 0);
	sleep_ns(2000000);
	pl_action_end(&a, NULL, 0);
	uint64_t elapsed = mono_now() - t0;
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	assert_int_equal(th_read_all(path, &t), PL_END);
	const struct th_rec *s = find(&t, PL_REC_START, "dur.sleep", 0);
	const struct th_rec *e = end_of(&t, s);
	if (e->duration_ns < 2000000u || e->duration_ns > (tight ? elapsed : 2 * elapsed))
		fail_msg("duration %" PRIu64 " ns: want >= 2 ms and <= %" PRIu64 " ns measured",
			 e->duration_ns, elapsed);
	assert_true(e->ts_ns >= s->ts_ns + 2000000u);
	th_trace_free(&t);
}

static void test_duration(void **state)
{
	struct fx *f = *state;
	check_duration(f->path, NULL, false);
}

static void test_duration_monotonic(void **state)
{
	struct fx *f = *state;
	check_duration(f->path, tweak_monotonic, true);
}

/* ---- action life cycle ---- */

static void test_end_twice(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	pl_action a, b;
	const struct pl_field one[] = {PL_F_INT("n", 1)}, two[] = {PL_F_INT("n", 2)};
	pl_action_begin(&a, w, NULL, PL_NAME("twice.a"), NULL, 0);
	pl_action_end(&a, one, 1);
	pl_action_end(&a, two, 1);
	pl_action_fail(&a, "E", 1, "late", 4, NULL, 0);
	pl_action_begin(&b, w, NULL, PL_NAME("twice.b"), NULL, 0);
	pl_action_fail(&b, "E", 1, "first", 5, NULL, 0);
	pl_action_end(&b, two, 1);
	pl_action_fail(&b, "E", 1, "second", 6, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	assert_int_equal(th_count(&t, PL_REC_END, NULL), 2);
	const struct th_rec *sa = find(&t, PL_REC_START, "twice.a", 0);
	const struct th_rec *sb = find(&t, PL_REC_START, "twice.b", 0);
	const struct th_rec *ea = find(&t, PL_REC_END, NULL, 0);
	const struct th_rec *eb = find(&t, PL_REC_END, NULL, 1);
	assert_true(ea->seq == sa->seq);
	assert_int_equal(ea->outcome, PL_SUCCEEDED);
	assert_string_equal(ea->fields, "n=1");
	assert_true(eb->seq == sb->seq);
	assert_int_equal(eb->outcome, PL_FAILED);
	assert_string_equal(eb->exc_msg, "first");
	th_trace_free(&t);
}

static void test_null_writer_parent(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	pl_action ghost, child;
	const struct pl_field in[] = {PL_F_INT("ghost", 1)};
	pl_action_begin(&ghost, NULL, NULL, PL_NAME("null.ghost"), in, 1);
	pl_action_begin(&child, w, &ghost, PL_NAME("null.child"), NULL, 0);
	pl_message(w, &child, PL_NAME("null.inner"), NULL, 0);
	pl_action_end(&child, NULL, 0);
	pl_message(w, &ghost, PL_NAME("null.msg"), NULL, 0);
	pl_action_end(&ghost, in, 1);
	pl_message(NULL, NULL, PL_NAME("null.nowhere"), NULL, 0);
	pl_message(NULL, &ghost, PL_NAME("null.nowhere"), NULL, 0);
	pl_action_fail(&ghost, "E", 1, NULL, 0, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	const struct want want[] = {
	    {PL_REC_START, "null.child", "@/1", ""},
	    {PL_REC_MESSAGE, "null.inner", "@/1/1", ""},
	    {PL_REC_END, NULL, "@/1", ""},
	    {PL_REC_MESSAGE, "null.msg", "@/2", ""},
	};
	expect_task(&t, want, ARRAY_LEN(want));
	assert_int_equal(th_count(&t, 0, "null.ghost"), 0);
	assert_int_equal(th_count(&t, 0, "null.nowhere"), 0);
	th_trace_free(&t);
}

static void test_action_scope(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	{
		PL_ACTION_SCOPE(outer, w, NULL, "scope.outer", PL_F_INT("n", 7));
		pl_message(w, &outer, PL_NAME("scope.inside"), NULL, 0);
		{
			PL_ACTION_SCOPE(failing, w, &outer, "scope.failing", PL_F_INT("m", 1));
			pl_action_fail(&failing, "E", 1, "boom", 4, NULL, 0);
		}
		{
			PL_ACTION_SCOPE(ended, w, &outer, "scope.ended", PL_F_INT("m", 2));
			const struct pl_field out[] = {PL_F_INT("r", 3)};
			pl_action_end(&ended, out, 1);
		}
		pl_message(w, &outer, PL_NAME("scope.last"), NULL, 0);
	}
	pl_message(w, NULL, PL_NAME("scope.after"), NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	/* Filter out the separate task of "scope.after", then check the scope's task. */
	const struct th_rec *after = find(&t, PL_REC_MESSAGE, "scope.after", 0);
	assert_string_equal(level_of(after), "@/");
	uint64_t after_seq = after->seq;
	size_t after_idx = (size_t)(after - t.recs);
	memmove(&t.recs[after_idx], &t.recs[after_idx + 1],
		(t.n - after_idx - 1) * sizeof(*t.recs));
	t.n--;
	const struct want want[] = {
	    {PL_REC_START, "scope.outer", "@/", "n=7"},
	    {PL_REC_MESSAGE, "scope.inside", "@/1", ""},
	    {PL_REC_START, "scope.failing", "@/2", "m=1"},
	    {PL_REC_END, NULL, "@/2", ""},
	    {PL_REC_START, "scope.ended", "@/3", "m=2"},
	    {PL_REC_END, NULL, "@/3", "r=3"},
	    {PL_REC_MESSAGE, "scope.last", "@/4", ""},
	    {PL_REC_END, NULL, "@/", ""},
	};
	const struct th_rec *first = expect_task(&t, want, ARRAY_LEN(want));
	assert_true(after_seq != first->seq);
	const struct th_rec *e_fail = find(&t, PL_REC_END, NULL, 0);
	assert_int_equal(e_fail->outcome, PL_FAILED);
	assert_string_equal(e_fail->exc_msg, "boom");
	assert_int_equal(find(&t, PL_REC_END, NULL, 1)->outcome, PL_SUCCEEDED);
	const struct th_rec *e_outer = find(&t, PL_REC_END, NULL, 2);
	assert_int_equal(e_outer->outcome, PL_SUCCEEDED);
	/* The scope ended when it was left: before the message recorded after it. */
	assert_true(e_outer < &t.recs[after_idx]);
	th_trace_free(&t);
}

/* ---- the header and the file ---- */

static const char *const fixed_argv[] = {"roundtrip-prog", "--flag", "", "\xc3\xa9t\xc3\xa9", NULL};

static void tweak_argv(struct pl_writer_options *o)
{
	o->argv = fixed_argv;
}

static void test_header(void **state)
{
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, tweak_argv);
	pl_message(w, NULL, PL_NAME("hdr.msg"), NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(f->path, &r), 0);
	const struct pl_trace_header *h = pl_reader_header(r);
	assert_non_null(h);
	assert_int_equal(h->version, 2); /* docs/format.md: format version 2 */
	assert_true(h->pid == (int64_t)getpid());
	assert_true(h->task_prefix != 0);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(h->host, host);
	assert_int_equal(h->argc, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(h->argv[i], fixed_argv[i]);
	assert_true(strcmp(h->clock, "tsc") == 0 || strcmp(h->clock, "monotonic") == 0);
	char lib[64];
	snprintf(lib, sizeof(lib), "perflog %s", pl_version_string());
	assert_string_equal(h->library, lib);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	assert_true(h->wall_anchor_ns > 0 &&
		    h->wall_anchor_ns <= (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	uint64_t prefix = h->task_prefix;

	struct pl_record rec = PL_RECORD_INIT;
	int ret;
	while ((ret = pl_reader_next(r, &rec)) == 0 && rec.kind != PL_REC_MESSAGE)
		;
	assert_int_equal(ret, 0);
	assert_string_equal(rec.type, "hdr.msg");
	assert_true(rec.task_prefix == prefix);
	pl_reader_close(r);
}

static void test_header_default_argv(void **state)
{
	/* Without @argv the writer reads /proc/self/cmdline: argv[0] names this test. */
	struct fx *f = *state;
	struct pl_writer *w = th_open(f->path, NULL);
	assert_int_equal(pl_writer_close(w), 0);
	struct pl_reader *r = NULL;
	assert_int_equal(pl_reader_open(f->path, &r), 0);
	const struct pl_trace_header *h = pl_reader_header(r);
	assert_true(h->argc >= 1);
	assert_non_null(strstr(h->argv[0], "test_roundtrip"));
	assert_null(h->argv[h->argc]);
	pl_reader_close(r);
}

static void test_path_pid(void **state)
{
	struct fx *f = *state;
	char *tmpl = th_path(f->dir, "trace-{pid}-x{pid}.pl");
	char want[4096];
	snprintf(want, sizeof(want), "%s/trace-%ld-x%ld.pl", f->dir, (long)getpid(),
		 (long)getpid());
	struct pl_writer *w = th_open(tmpl, NULL);
	assert_string_equal(pl_writer_path(w), want);
	pl_message(w, NULL, PL_NAME("pid.msg"), NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);

	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(stat(tmpl, &st), -1); /* no file named with a literal "{pid}" */
	struct th_trace t;
	assert_int_equal(th_read_all(want, &t), PL_END);
	assert_true(t.hdr.pid == (int64_t)getpid());
	assert_int_equal(th_count(&t, PL_REC_MESSAGE, "pid.msg"), 1);
	th_trace_free(&t);
	free(tmpl);
}

static void test_file_mode(void **state)
{
	struct fx *f = *state;
	/* With no umask in the way, the mode is the documented default itself. */
	mode_t old = umask(0);
	struct pl_writer *w = th_open(f->path, NULL);
	umask(old);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != 0600)
		fail_msg("mode %04o, want 0600", (unsigned)(st.st_mode & 07777));
	assert_int_equal(pl_writer_close(w), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_symlink_refused(void **state)
{
	struct fx *f = *state;
	char *target = th_path(f->dir, "precious");
	char *link = th_path(f->dir, "link.pl");
	char *absent = th_path(f->dir, "absent");
	char *dangling = th_path(f->dir, "dangling.pl");
	static const uint8_t content[] = "precious data";
	th_spit(target, content, sizeof(content));
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(symlink(absent, dangling), 0);
	struct stat before;
	assert_int_equal(stat(target, &before), 0);

	struct pl_writer_options o;
	struct pl_writer *w = (struct pl_writer *)&o; /* must be reset to NULL */
	pl_writer_options_init(&o);
	o.path = link;
	assert_int_equal(pl_writer_open(&o, &w), -PL_EEXIST);
	assert_null(w);

	size_t len;
	uint8_t *got = th_slurp(target, &len);
	assert_int_equal(len, sizeof(content));
	assert_memory_equal(got, content, len);
	free(got);
	struct stat st;
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode, before.st_mode);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* A dangling link is refused too, and its target is not created. */
	w = (struct pl_writer *)&o;
	o.path = dangling;
	assert_int_equal(pl_writer_open(&o, &w), -PL_EEXIST);
	assert_null(w);
	assert_int_equal(lstat(absent, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(lstat(dangling, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	free(target);
	free(link);
	free(absent);
	free(dangling);
}

/* A process that exits without closing its writer still leaves a whole trace: the exit
 * handler writes what is staged and the STATS record. */
static void test_flush_at_exit(void **state)
{
	struct fx *f = *state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pl_writer_options o;
		struct pl_writer *w;
		pl_writer_options_init(&o);
		o.path = f->path;
		o.flush_interval_ms = 3600u * 1000u; /* nothing but the exit handler writes */
		if (pl_writer_open(&o, &w) < 0)
			_exit(10);
		for (int i = 0; i < 1000; i++) {
			pl_action a;
			struct pl_field in[] = {PL_F_INT("i", i)};
			pl_action_begin(&a, w, NULL, PL_NAME("exit.work"), in, 1);
			pl_action_end(&a, NULL, 0);
		}
		exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct th_trace t;
	assert_int_equal(th_read_all(f->path, &t), PL_END);
	assert_int_equal(th_count(&t, PL_REC_START, "exit.work"), 1000);
	assert_int_equal(th_count(&t, PL_REC_END, NULL), 1000);
	assert_int_equal(th_count(&t, PL_REC_STATS, NULL), 1);
	assert_int_equal(t.hdr.pid, pid);
	th_trace_free(&t);
}

/* A file opened after many long names were interned must define them all, over several
 * frames: the reader refuses frames above 16 MiB. 20000 names of 1000 bytes are ~20 MB. */
static void test_many_names_before_open(void **state)
{
	struct fx *f = *state;
	enum { N = 20000, LEN = 1000 };
	char *name = malloc(LEN + 1);
	assert_non_null(name);
	memset(name, 'n', LEN);
	name[LEN] = '\0';
	pl_name last = 0;
	for (int i = 0; i < N; i++) {
		snprintf(name, 16, "%015d", i); /* distinct prefixes, the rest 'n's */
		name[15] = 'n';
		last = pl_name_intern(name, LEN);
		assert_true(last != 0);
	}
	struct pl_writer *w = th_open(f->path, NULL);
	pl_message(w, NULL, last, NULL, 0);
	assert_int_equal(pl_writer_close(w), 0);
	struct th_trace t;
	int ret = th_read_all(f->path, &t);
	if (ret != PL_END)
		fail_msg("read: %s at %" PRIu64 ": %s", pl_strerror(ret), t.err_offset,
			 t.err_reason);
	assert_int_equal(th_count(&t, PL_REC_MESSAGE, NULL), 1);
	for (size_t i = 0; i < t.n; i++)
		if (t.recs[i].kind == PL_REC_MESSAGE)
			assert_int_equal(strncmp(t.recs[i].type, name, 200), 0);
	th_trace_free(&t);
	free(name);
}

/* A backlog drained at once is cut into frames of 60,000 events at most
 * (docs/architecture.md), whatever mix of plain and other events it holds: successful
 * actions, failed ones (an END with its exception) and messages. Nothing waits in the
 * ring until the close (a 64 MiB ring is never half full, no timer), so every event is
 * encoded in one drain: 200,000 of them make four frames, and no event is lost. */
static void frames_tweak(struct pl_writer_options *o)
{
	o->buffer_size = 64u << 20;
	o->flush_interval_ms = 3600u * 1000u;
	o->full_policy = PL_FULL_BLOCK;
}

static void test_frames_bounded(void **state)
{
	struct fx *f = *state;
	enum { ACTIONS = 80000, FRAME_MAX = 60000 };
	struct pl_writer *w = th_open(f->path, frames_tweak);
	uint64_t events = 0;
	for (int i = 0; i < ACTIONS; i++) {
		pl_action a;
		struct pl_field in[] = {PL_F_INT("i", i), PL_F_INT("lo", i & 255)};
		pl_action_begin(&a, w, NULL, PL_NAME("frames.work"), in, 2);
		if (i % 2 == 0) {
			pl_message(w, &a, PL_NAME("frames.note"), NULL, 0);
			events++;
		}
		if (i % 1000 == 999)
			pl_action_fail(&a, "frames.Error", 12, "every thousandth", 16, NULL, 0);
		else
			pl_action_end(&a, NULL, 0);
		events += 2;
	}
	assert_int_equal(pl_writer_close(w), 0);
	struct pl_reader *r;
	assert_int_equal(pl_reader_open(f->path, &r), 0);
	struct pl_record rec = PL_RECORD_INIT;
	uint64_t frame = UINT64_MAX, in_frame = 0, max = 0, seen = 0, frames = 0, failed = 0;
	int ret;
	while ((ret = pl_reader_next(r, &rec)) == 0) {
		if (rec.kind != PL_REC_START && rec.kind != PL_REC_END &&
		    rec.kind != PL_REC_MESSAGE)
			continue;
		if (rec.frame_offset != frame) {
			frame = rec.frame_offset;
			in_frame = 0;
			frames++;
		}
		in_frame++;
		seen++;
		max = in_frame > max ? in_frame : max;
		failed += rec.kind == PL_REC_END && rec.outcome == PL_FAILED;
	}
	assert_int_equal(ret, PL_END);
	pl_reader_close(r);
	assert_int_equal(seen, events);
	assert_int_equal(failed, ACTIONS / 1000);
	assert_int_equal(max, FRAME_MAX);
	assert_int_equal(frames, (events + FRAME_MAX - 1) / FRAME_MAX);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_name_interned_before_open),
	    T(test_field_values),
	    T(test_record_kinds),
	    T(test_action_fail),
	    T(test_action_cancel),
	    T(test_exception_text_cut_on_a_character),
	    T(test_skip_fields),
	    T(test_skip_fields_of),
	    T(test_levels),
	    T(test_deep_levels),
	    T(test_task_ids),
	    T(test_remote),
	    T(test_interning),
	    T(test_long_names),
	    T(test_wall_clock),
	    T(test_wall_clock_monotonic),
	    T(test_duration),
	    T(test_duration_monotonic),
	    T(test_end_twice),
	    T(test_null_writer_parent),
	    T(test_action_scope),
	    T(test_header),
	    T(test_header_default_argv),
	    T(test_path_pid),
	    T(test_file_mode),
	    T(test_symlink_refused),
	    T(test_flush_at_exit),
	    T(test_many_names_before_open),
	    T(test_frames_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
