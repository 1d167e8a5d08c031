/* SPDX-License-Identifier: MIT */
/* test_writer_random.c - a seeded, randomized test of the whole writer: every trace it
 * makes is read back and compared, thread by thread, with what was recorded, exactly.
 *
 * A run is a few phases; each phase opens a new file (a restart: the new file defines
 * every name interned so far, enough by the later phases to fill more than a frame with
 * definitions alone), starts 1-3 threads, each doing a random sequence of nested actions,
 * failures, messages, thread names and flushes, with fields of every value type, and
 * bursts that cross frame boundaries: many new long names in one flush cycle, and large
 * string fields. Options vary by phase (ring size, flush interval, zstd level). Nothing
 * may be dropped (PL_FULL_BLOCK), so each thread's records must come back in its order
 * with the same types, task ids and levels, fields, outcomes and exception texts.
 *
 * PL_TEST_SEED=N replays one seed (printed on failure); PL_TEST_SEEDS=K runs K seeds.
 */
#define _GNU_SOURCE
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

#include <cmocka.h>

#include "helpers.h"

#define MAX_THREADS  3
#define MAX_DEPTH    12
#define MAX_FIELDS   6
#define EVENT_BUDGET (24u << 10) /* bytes of field data per event: well below the limit */

/* ---- a deterministic generator per thread ---- */

static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(next_u64(s) % n);
}

/* ---- what was recorded: per thread, in order ---- */

/* A digest of fields: names and values, integers by value whatever their encoding. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001B3ull; /* FNV-1a */
	return h;
}

static uint64_t mix_tag(uint64_t h, uint64_t tag, uint64_t v)
{
	h = mix(h, &tag, sizeof(tag));
	return mix(h, &v, sizeof(v));
}

static uint64_t digest_value(uint64_t h, const pl_value *v)
{
	switch (v->type) {
	case PL_VALUE_NIL:
		return mix_tag(h, 'n', 0);
	case PL_VALUE_BOOL:
		return mix_tag(h, 'b', v->v.b != 0);
	case PL_VALUE_INT:
		return v->v.i < 0 ? mix_tag(h, 'i', (uint64_t)v->v.i)
				  : mix_tag(h, 'u', (uint64_t)v->v.i);
	case PL_VALUE_UINT:
		return mix_tag(h, 'u', v->v.u);
	case PL_VALUE_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &v->v.f, sizeof(bits));
		return mix_tag(h, 'f', bits);
	}
	case PL_VALUE_STR:
	case PL_VALUE_BYTES:
		h = mix_tag(h, v->type == PL_VALUE_STR ? 's' : 'y', v->v.str.len);
		return mix(h, v->v.str.ptr, v->v.str.len);
	case PL_VALUE_ARRAY:
		h = mix_tag(h, 'a', v->v.array.len);
		for (size_t i = 0; i < v->v.array.len; i++)
			h = digest_value(h, &v->v.array.items[i]);
		return h;
	case PL_VALUE_MAP:
		h = mix_tag(h, 'm', v->v.map.len);
		for (size_t i = 0; i < v->v.map.len; i++) {
			h = mix(h, v->v.map.items[i].key, v->v.map.items[i].key_len);
			h = digest_value(h, &v->v.map.items[i].value);
		}
		return h;
	}
	return mix_tag(h, '?', v->type);
}

static uint64_t digest_fields(const struct pl_field *f, size_t n)
{
	uint64_t h = mix_tag(0xCBF29CE484222325ull, 'F', n);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *name = pl_name_str(f[i].name, &len);
		h = mix(mix_tag(h, 'k', len), name, len);
		h = digest_value(h, &f[i].value);
	}
	return h;
}

static uint64_t digest_kvs(const struct pl_kv *f, size_t n)
{
	uint64_t h = mix_tag(0xCBF29CE484222325ull, 'F', n);
	for (size_t i = 0; i < n; i++) {
		h = mix(mix_tag(h, 'k', f[i].key_len), f[i].key, f[i].key_len);
		h = digest_value(h, &f[i].value);
	}
	return h;
}

struct expect {
	int kind;		    /* PL_REC_START, _END, _MESSAGE */
	pl_name type;		    /* START and MESSAGE */
	char task[PL_TASK_STR_MAX]; /* "" for a root message (its task id is not known) */
	uint32_t depth;
	uint64_t fields; /* digest */
	int outcome;
	char *exc_type, *exc_msg; /* END failed; malloc'ed */
};

struct worker {
	struct pl_writer *w;
	uint32_t index, phase;
	uint64_t rng;
	bool heavy;
	struct expect *ex;
	size_t n, cap;
	/* the value bytes of the current event: k->buf[0..used) */
	char *buf;
	size_t used;
};

static struct expect *push(struct worker *k, int kind)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 256;
		k->ex = realloc(k->ex, k->cap * sizeof(*k->ex));
		assert_non_null(k->ex);
	}
	struct expect *e = &k->ex[k->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

/* ---- random inputs ---- */

static pl_name fresh_name(struct worker *k, const char *what)
{
	static uint64_t counter; /* across threads and phases: every name new */
	uint64_t id = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	char s[600];
	int n = snprintf(s, sizeof(s), "%s.%" PRIu64 ".", what, id);
	uint32_t pad = below(&k->rng, 4) == 0 ? below(&k->rng, 500) : below(&k->rng, 24);
	for (uint32_t i = 0; i < pad; i++)
		s[n++] = (char)('a' + (id + i) % 26);
	return pl_name_intern(s, (size_t)n);
}

static pl_name pick_name(struct worker *k, const char *what)
{
	static const char *const pool[] = {"db.query",	   "http.get",	"parse", "render",
					   "cache.lookup", "é.ünïcode", "x"};
	if (below(&k->rng, 5) == 0)
		return fresh_name(k, what);
	const char *s = pool[below(&k->rng, sizeof(pool) / sizeof(pool[0]))];
	return pl_name_intern(s, strlen(s));
}

/* Bytes for strings: printable ASCII and some multi-byte UTF-8 (valid text). */
static const char *text(struct worker *k, size_t len)
{
	char *p = k->buf + k->used;
	for (size_t i = 0; i < len; i++) {
		uint32_t r = below(&k->rng, 64);
		if (r == 0 && i + 2 <= len) {
			p[i++] = (char)0xC3; /* é */
			p[i] = (char)0xA9;
		} else {
			p[i] = (char)(' ' + r % 95);
		}
	}
	k->used += len;
	return p;
}

static pl_value scalar(struct worker *k, size_t budget)
{
	switch (below(&k->rng, 8)) {
	case 0:
		return PL_V_NIL();
	case 1:
		return PL_V_BOOL(below(&k->rng, 2));
	case 2:
		return PL_V_INT((int64_t)next_u64(&k->rng) >> below(&k->rng, 64));
	case 3:
		return PL_V_UINT((1ull << 63) + (next_u64(&k->rng) >> 1));
	case 4:
		return PL_V_FLOAT((double)(int64_t)next_u64(&k->rng) /
				  (double)(1 + below(&k->rng, 1000)));
	case 5: {
		size_t len = below(&k->rng, 8) == 0 ? below(&k->rng, (uint32_t)budget + 1)
						    : below(&k->rng, 40);
		if (len > budget)
			len = budget;
		return PL_V_STRN(text(k, len), len);
	}
	case 6: {
		size_t len = below(&k->rng, 64);
		char *p = k->buf + k->used;
		for (size_t i = 0; i < len; i++)
			p[i] = (char)next_u64(&k->rng);
		k->used += len;
		return PL_V_BYTES(p, len);
	}
	default:
		return PL_V_INT(below(&k->rng, 100));
	}
}

/* Fields of one event into @f, their values' bytes in k->buf from k->used on, at most
 * @budget bytes of strings in all; returns their number. */
static size_t random_fields(struct worker *k, struct pl_field *f, pl_value items[][5],
			    struct pl_kv kvs[][4], size_t budget)
{
	size_t n = below(&k->rng, MAX_FIELDS + 1), start = k->used;
	for (size_t i = 0; i < n; i++) {
		f[i].name = pick_name(k, "field");
		size_t spent = k->used - start;
		size_t share = spent < budget ? (budget - spent) / (n - i) : 0;
		uint32_t r = below(&k->rng, 10);
		if (r == 0) {
			size_t m = below(&k->rng, 6);
			for (size_t j = 0; j < m; j++)
				items[i][j] = scalar(k, 32);
			f[i].value = PL_V_ARRAY(items[i], m);
		} else if (r == 1) {
			size_t m = below(&k->rng, 5);
			for (size_t j = 0; j < m; j++) {
				size_t kl = 1 + below(&k->rng, 12);
				kvs[i][j].key = text(k, kl);
				kvs[i][j].key_len = kl;
				kvs[i][j].value = scalar(k, 32);
			}
			f[i].value = PL_V_MAP(kvs[i], m);
		} else {
			f[i].value = scalar(k, share);
		}
	}
	return n;
}

/* ---- the recording threads ---- */

struct open_action {
	pl_action a;
	char task[PL_TASK_STR_MAX];
	uint32_t level[MAX_DEPTH + 1], depth;
	uint32_t children;
};

static void task_of(struct open_action *o)
{
	uint64_t prefix, seq;
	pl_action_task(&o->a, &prefix, &seq);
	int d = pl_action_level(&o->a, o->level, MAX_DEPTH + 1);
	assert_true(d >= 0);
	o->depth = (uint32_t)d;
	assert_true(pl_task_format(prefix, seq, o->level, o->depth, o->task, sizeof(o->task)) > 0);
}

static void name_thread(struct worker *k)
{
	char name[64];
	snprintf(name, sizeof(name), "t%u.p%u.%u", k->index, k->phase, below(&k->rng, 100));
	pl_thread_name(k->w, name);
}

static void begin(struct worker *k, struct open_action *st, uint32_t *depth, pl_name type,
		  size_t big)
{
	struct pl_field f[MAX_FIELDS];
	pl_value items[MAX_FIELDS][5];
	struct pl_kv kvs[MAX_FIELDS][4];
	k->used = 0;
	size_t n = random_fields(k, f, items, kvs, big ? big : EVENT_BUDGET);
	struct open_action *o = &st[*depth], *parent = *depth ? &st[*depth - 1] : NULL;
	pl_action_begin(&o->a, k->w, parent ? &parent->a : NULL, type, f, n);
	o->children = 0;
	if (parent)
		parent->children++;
	task_of(o);
	struct expect *e = push(k, PL_REC_START);
	e->type = type;
	e->depth = o->depth;
	snprintf(e->task, sizeof(e->task), "%s", o->task);
	e->fields = digest_fields(f, n);
	(*depth)++;
}

static void end(struct worker *k, struct open_action *st, uint32_t *depth)
{
	struct open_action *o = &st[--(*depth)];
	struct pl_field f[MAX_FIELDS];
	pl_value items[MAX_FIELDS][5];
	struct pl_kv kvs[MAX_FIELDS][4];
	k->used = 0;
	size_t n = random_fields(k, f, items, kvs, EVENT_BUDGET / 2);
	struct expect *e = push(k, PL_REC_END);
	snprintf(e->task, sizeof(e->task), "%s", o->task);
	e->depth = o->depth;
	e->fields = digest_fields(f, n);
	if (below(&k->rng, 4) == 0) {
		size_t tl = 1 + below(&k->rng, 60), ml = below(&k->rng, 3000);
		const char *t = text(k, tl);
		const char *m = below(&k->rng, 5) ? text(k, ml) : NULL;
		if (!m)
			ml = 0;
		pl_action_fail(&o->a, t, tl, m, ml, f, n);
		e->outcome = PL_FAILED;
		e->exc_type = strndup(t, tl);
		e->exc_msg = strndup(m ? m : "", ml);
	} else {
		pl_action_end(&o->a, f, n);
		e->outcome = PL_SUCCEEDED;
	}
}

static void message(struct worker *k, struct open_action *st, uint32_t depth, pl_name type)
{
	struct pl_field f[MAX_FIELDS];
	pl_value items[MAX_FIELDS][5];
	struct pl_kv kvs[MAX_FIELDS][4];
	k->used = 0;
	size_t n = random_fields(k, f, items, kvs, EVENT_BUDGET / 4);
	struct open_action *parent = depth ? &st[depth - 1] : NULL;
	pl_message(k->w, parent ? &parent->a : NULL, type, f, n);
	struct expect *e = push(k, PL_REC_MESSAGE);
	e->type = type;
	e->fields = digest_fields(f, n);
	if (parent) {
		uint32_t level[MAX_DEPTH + 2];
		memcpy(level, parent->level, parent->depth * sizeof(level[0]));
		level[parent->depth] = ++parent->children;
		uint64_t prefix, seq;
		pl_action_task(&parent->a, &prefix, &seq);
		e->depth = parent->depth + 1;
		pl_task_format(prefix, seq, level, e->depth, e->task, sizeof(e->task));
	} else {
		e->depth = UINT32_MAX; /* not known: not compared */
	}
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	struct open_action st[MAX_DEPTH];
	uint32_t depth = 0;
	name_thread(k);
	uint32_t ops = k->heavy ? 300 + below(&k->rng, 600) : 200 + below(&k->rng, 2500);
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t r = below(&k->rng, 100);
		if (r < 35 && depth < MAX_DEPTH) {
			begin(k, st, &depth, pick_name(k, "action"), 0);
		} else if (r < 70 && depth) {
			end(k, st, &depth);
		} else if (r < 85) {
			message(k, st, depth, pick_name(k, "message"));
		} else if (r < 86) {
			assert_int_equal(pl_writer_flush(k->w), 0);
		} else if (r < 87) {
			name_thread(k);
		} else if (r < 89 && (k->heavy || below(&k->rng, 4) == 0)) {
			/* Many new names in one flush cycle: their definitions fill frames. */
			uint32_t m = 200 + below(&k->rng, k->heavy ? 4000 : 1000);
			for (uint32_t j = 0; j < m; j++)
				message(k, st, depth, fresh_name(k, "burst"));
		} else if (r < 91 && depth < MAX_DEPTH) {
			/* Large inputs: a burst of them crosses the frame target. */
			uint32_t m = 20 + below(&k->rng, k->heavy ? 150 : 40);
			for (uint32_t j = 0; j < m && depth < MAX_DEPTH; j++) {
				begin(k, st, &depth, pick_name(k, "big"), EVENT_BUDGET / 2);
				end(k, st, &depth);
			}
		}
	}
	while (depth)
		end(k, st, &depth);
	return NULL;
}

/* ---- reading back ---- */

static void check_trace(const char *path, struct worker *ks, uint32_t nk, uint64_t seed,
			uint32_t phase)
{
	struct pl_reader *r = NULL;
	int ret = pl_reader_open(path, &r);
	if (ret < 0)
		fail_msg("seed %" PRIu64 " phase %u: open: %s", seed, phase,
			 pl_reader_error(r)->reason);
	uint32_t owner[64]; /* thread number -> worker index + 1 */
	memset(owner, 0, sizeof(owner));
	size_t pos[MAX_THREADS] = {0};
	bool stats = false;
	struct pl_record rec = PL_RECORD_INIT;
	while ((ret = pl_reader_next(r, &rec)) == 0) {
		if (rec.kind == PL_REC_THREAD) {
			unsigned idx, ph;
			assert_true(rec.thread < 64);
			if (sscanf(rec.name, "t%u.p%u", &idx, &ph) == 2 && idx < nk)
				owner[rec.thread] = idx + 1;
			continue;
		}
		if (rec.kind == PL_REC_DROPPED)
			fail_msg("seed %" PRIu64 " phase %u: %" PRIu64 " events dropped (%s)", seed,
				 phase, rec.count, rec.name);
		if (rec.kind == PL_REC_STATS) {
			stats = true;
			continue;
		}
		assert_true(rec.thread < 64);
		if (!owner[rec.thread])
			fail_msg("seed %" PRIu64 " phase %u: a record of unnamed thread %u", seed,
				 phase, rec.thread);
		struct worker *k = &ks[owner[rec.thread] - 1];
		size_t i = pos[k->index]++;
		if (i >= k->n)
			fail_msg("seed %" PRIu64
				 " phase %u: thread %u: more records than recorded (%zu)",
				 seed, phase, k->index, k->n);
		const struct expect *e = &k->ex[i];
		char task[PL_TASK_STR_MAX];
		pl_task_format(rec.task_prefix, rec.task_seq, rec.level, rec.depth, task,
			       sizeof(task));
		const char *want_type = e->kind == PL_REC_END ? "" : pl_name_str(e->type, NULL);
		bool same = rec.kind == (enum pl_record_kind)e->kind &&
			    strcmp(rec.type, want_type) == 0 &&
			    (e->depth == UINT32_MAX ||
			     (rec.depth == e->depth && strcmp(task, e->task) == 0)) &&
			    digest_kvs(rec.fields, rec.nfields) == e->fields;
		if (same && e->kind == PL_REC_END) {
			same = (int)rec.outcome == e->outcome;
			if (same && e->outcome == PL_FAILED)
				same = rec.exc_type && strcmp(rec.exc_type, e->exc_type) == 0 &&
				       strcmp(rec.exc_msg ? rec.exc_msg : "", e->exc_msg) == 0;
		}
		if (!same)
			fail_msg(
			    "seed %" PRIu64 " phase %u: thread %u record %zu (file offset of its "
			    "frame %" PRIu64 "): got kind %d type '%.60s' task %s (%zu fields), "
			    "recorded kind %d type '%.60s' task %s",
			    seed, phase, k->index, i, rec.frame_offset, rec.kind, rec.type, task,
			    rec.nfields, e->kind, want_type, e->task);
	}
	if (ret != PL_END)
		fail_msg("seed %" PRIu64 " phase %u: %s: offset %" PRIu64 ": %s", seed, phase, path,
			 pl_reader_error(r)->offset, pl_reader_error(r)->reason);
	pl_reader_close(r);
	assert_true(stats);
	for (uint32_t t = 0; t < nk; t++)
		if (pos[t] != ks[t].n)
			fail_msg("seed %" PRIu64
				 " phase %u: thread %u: %zu of %zu records read back",
				 seed, phase, t, pos[t], ks[t].n);
}

static void run_seed(uint64_t seed)
{
	char *dir = th_tmpdir();
	uint64_t rng = seed;
	uint32_t phases = 3 + below(&rng, 2);
	for (uint32_t phase = 0; phase < phases; phase++) {
		char name[64];
		snprintf(name, sizeof(name), "p%u.zst", phase);
		char *path = th_path(dir, name);
		struct pl_writer_options o;
		pl_writer_options_init(&o);
		o.path = path;
		o.full_policy = PL_FULL_BLOCK;
		static const uint32_t rings[] = {256u << 10, 1u << 20};
		static const uint32_t intervals[] = {1, 20, 100, 60000};
		o.buffer_size = rings[below(&rng, 2)];
		o.flush_interval_ms = intervals[below(&rng, 4)];
		o.compression_level = 1 + (int)below(&rng, 3);
		struct pl_writer *w = NULL;
		assert_int_equal(pl_writer_open(&o, &w), 0);

		uint32_t nk = 1 + below(&rng, MAX_THREADS);
		struct worker ks[MAX_THREADS];
		pthread_t tids[MAX_THREADS];
		for (uint32_t t = 0; t < nk; t++) {
			ks[t] = (struct worker){.w = w,
						.index = t,
						.phase = phase,
						.rng = next_u64(&rng),
						.heavy = below(&rng, 3) == 0};
			ks[t].buf = malloc(EVENT_BUDGET * 2 + 4096);
			assert_non_null(ks[t].buf);
			assert_int_equal(pthread_create(&tids[t], NULL, worker_main, &ks[t]), 0);
		}
		for (uint32_t t = 0; t < nk; t++)
			pthread_join(tids[t], NULL);
		struct pl_writer_stats s = PL_WRITER_STATS_INIT;
		assert_int_equal(pl_writer_stats(w, &s), 0);
		assert_int_equal(pl_writer_close(w), 0);
		assert_int_equal(
		    s.dropped_full + s.dropped_oversize + s.dropped_no_buffer + s.dropped_write, 0);
		check_trace(path, ks, nk, seed, phase);
		for (uint32_t t = 0; t < nk; t++) {
			for (size_t i = 0; i < ks[t].n; i++) {
				free(ks[t].ex[i].exc_type);
				free(ks[t].ex[i].exc_msg);
			}
			free(ks[t].ex);
			free(ks[t].buf);
		}
		free(path);
	}
	th_rmdir(dir);
}

static void test_random_sequences(void **state)
{
	const char *one = getenv("PL_TEST_SEED");
	if (one) {
		run_seed(strtoull(one, NULL, 0));
		return;
	}
	const char *many = getenv("PL_TEST_SEEDS");
	uint64_t n = many ? strtoull(many, NULL, 0) : 4;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t seed = 0x5EED0000u + i;
		print_message("seed %" PRIu64 " (replay: PL_TEST_SEED=%" PRIu64 ")\n", seed, seed);
		run_seed(seed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_sequences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
