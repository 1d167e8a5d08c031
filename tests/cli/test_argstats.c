/* SPDX-License-Identifier: MIT */
/* test_argstats.c - analyzer/argstats.c's groups against counts kept here: every call in
 * its group whatever order the groupings and values come in (the lookups start at the one
 * found last), tails exact, and a string grouping past its value cap folding into
 * "(other)" without losing a call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "analysis/argstats.h"
#include "test_rng.h"

#define NAMES  5
#define VALUES 12
#define P95    1000

static const char *const names[NAMES] = {"process", "host", "thread", "parent", "outcome"};

struct ref {
	uint64_t calls, tail_calls, tail_ns;
};

static const struct pf_arg *arg_named(const struct pf_argstats *t, const char *name, bool context,
				      bool by_len)
{
	for (size_t i = 0; i < t->nargs; i++)
		if (t->args[i].context == context && t->args[i].by_len == by_len &&
		    !strcmp(t->args[i].name, name))
			return &t->args[i];
	return NULL;
}

static const struct pf_group *str_group(const struct pf_arg *a, const char *v)
{
	for (size_t i = 0; i < a->ng; i++)
		if (a->g[i].cls == PF_G_STR && a->g[i].str_len == strlen(v) &&
		    !memcmp(a->g[i].str, v, a->g[i].str_len))
			return &a->g[i];
	return NULL;
}

/* Context groupings, given in a new random order at each call, with values that repeat
 * in runs (as a thread's calls do) and jump at random. */
static void test_context_groups_count_every_call(void **state)
{
	(void)state;
	static struct ref ref[NAMES][VALUES];
	memset(ref, 0, sizeof(ref));
	struct pf_argstats t;
	pf_argstats_init(&t, P95);
	unsigned cur[NAMES] = {0};
	for (int call = 0; call < 20000; call++) {
		uint64_t d = next() % (3 * P95);
		unsigned order[NAMES];
		for (unsigned i = 0; i < NAMES; i++)
			order[i] = i;
		if (next() % 4 == 0) /* mostly the usual order, sometimes shuffled */
			for (unsigned i = NAMES - 1; i > 0; i--) {
				unsigned j = (unsigned)(next() % (i + 1)), x = order[i];
				order[i] = order[j];
				order[j] = x;
			}
		assert_int_equal(pf_argstats_add(&t, NULL, 0, d), 0);
		for (unsigned k = 0; k < NAMES; k++) {
			unsigned n = order[k];
			if (next() % 8 == 0)
				cur[n] = (unsigned)(next() % VALUES);
			char v[16];
			snprintf(v, sizeof(v), "v%u", cur[n]);
			assert_int_equal(pf_argstats_add_context(&t, names[n], strlen(names[n]), v,
								 strlen(v), d),
					 0);
			struct ref *r = &ref[n][cur[n]];
			r->calls++;
			if (d > P95) {
				r->tail_calls++;
				r->tail_ns += d - P95;
			}
		}
	}
	assert_int_equal(t.count, 20000);
	assert_int_equal(t.nargs, NAMES);
	for (unsigned n = 0; n < NAMES; n++) {
		const struct pf_arg *a = arg_named(&t, names[n], true, false);
		assert_non_null(a);
		assert_int_equal(a->calls, 20000);
		size_t seen = 0;
		for (unsigned v = 0; v < VALUES; v++) {
			char s[16];
			snprintf(s, sizeof(s), "v%u", v);
			const struct pf_group *g = str_group(a, s);
			if (!ref[n][v].calls) {
				assert_null(g);
				continue;
			}
			seen++;
			assert_non_null(g);
			assert_int_equal(g->hist.count, ref[n][v].calls);
			assert_int_equal(g->tail_calls, ref[n][v].tail_calls);
			assert_int_equal(g->tail_ns, ref[n][v].tail_ns);
		}
		assert_int_equal(a->ng, seen); /* one group per value, none twice */
	}
	pf_argstats_destroy(&t);
}

/* Packed arguments: an int by power-of-two bucket, a string by value and by length. */
static void test_argument_groups_count_every_call(void **state)
{
	(void)state;
	enum { BUCKETS = 20, STRS = 7 };
	static uint64_t by_bucket[BUCKETS + 1], by_str[STRS], by_len[8];
	memset(by_bucket, 0, sizeof(by_bucket));
	memset(by_str, 0, sizeof(by_str));
	memset(by_len, 0, sizeof(by_len));
	struct pf_argstats t;
	pf_argstats_init(&t, P95);
	uint8_t buf[512];
	for (int call = 0; call < 20000; call++) {
		unsigned b = (unsigned)(next() % (BUCKETS + 1)); /* 0, or [2^(b-1), 2^b) */
		int64_t i = b ? (int64_t)((1ull << (b - 1)) + next() % (1ull << (b - 1))) : 0;
		unsigned s = (unsigned)(next() % STRS);
		char str[16];
		memset(str, 'x', sizeof(str));
		str[s] = '\0'; /* lengths 0..6: buckets 0, 1, 2, 2, 3, 3, 3 */
		struct pl_kv kv[2] = {
		    {.key = "n", .key_len = 1, .value = {.type = PL_VALUE_INT, .v.i = i}},
		    {.key = "s", .key_len = 1, .value = {.type = PL_VALUE_STR, .v.str = {str, s}}},
		};
		/* Now and then the arguments come the other way round. */
		bool swap = next() % 5 == 0;
		struct pl_kv two[2] = {kv[swap], kv[!swap]};
		size_t len = pf_fields_pack(buf, sizeof(buf), two, 2);
		assert_true(len > 0);
		assert_int_equal(pf_argstats_add(&t, buf, len, P95 / 2), 0);
		by_bucket[b]++;
		by_str[s]++;
		by_len[s ? 64 - __builtin_clzll(s) : 0]++;
	}
	const struct pf_arg *n = arg_named(&t, "n", false, false);
	const struct pf_arg *s = arg_named(&t, "s", false, false);
	const struct pf_arg *l = arg_named(&t, "s", false, true);
	assert_non_null(n);
	assert_non_null(s);
	assert_non_null(l);
	for (unsigned b = 0; b <= BUCKETS; b++) {
		const struct pf_group *g = NULL;
		for (size_t k = 0; k < n->ng; k++)
			if (n->g[k].cls == PF_G_INT && n->g[k].key == (int64_t)b)
				g = &n->g[k];
		assert_true(by_bucket[b] == 0 || (g && g->hist.count == by_bucket[b]));
	}
	for (unsigned k = 0; k < STRS; k++) {
		char v[16];
		memset(v, 'x', sizeof(v));
		v[k] = '\0';
		const struct pf_group *g = str_group(s, v);
		assert_non_null(g);
		assert_int_equal(g->hist.count, by_str[k]);
	}
	assert_int_equal(s->ng, STRS);
	for (unsigned b = 0; b < 8; b++) {
		const struct pf_group *g = NULL;
		for (size_t k = 0; k < l->ng; k++)
			if (l->g[k].cls == PF_G_LEN && l->g[k].key == (int64_t)b)
				g = &l->g[k];
		assert_true(by_len[b] == 0 || (g && g->hist.count == by_len[b]));
	}
	pf_argstats_destroy(&t);
}

/* More string values than a grouping keeps: the least telling fold into "(other)", and
 * the calls of the groups plus "(other)" are every call. */
static void test_folding_loses_no_call(void **state)
{
	(void)state;
	struct pf_argstats t;
	pf_argstats_init(&t, P95);
	uint64_t calls = 0;
	for (int call = 0; call < 30000; call++) {
		/* A few values often, many once in a while. */
		unsigned v = next() % 2 ? (unsigned)(next() % 5)
					: (unsigned)(next() % (3 * PF_ARGSTATS_MAX_VALUES));
		char s[16];
		snprintf(s, sizeof(s), "k%u", v);
		uint64_t d = next() % (2 * P95);
		assert_int_equal(pf_argstats_add(&t, NULL, 0, d), 0);
		assert_int_equal(pf_argstats_add_context(&t, "root", 4, s, strlen(s), d), 0);
		calls++;
	}
	const struct pf_arg *a = arg_named(&t, "root", true, false);
	assert_non_null(a);
	uint64_t sum = 0;
	size_t strs = 0, others = 0;
	for (size_t i = 0; i < a->ng; i++) {
		sum += a->g[i].hist.count;
		strs += a->g[i].cls == PF_G_STR;
		others += a->g[i].cls == PF_G_OTHER;
		for (size_t j = 0; j < i; j++) /* no value twice */
			assert_false(a->g[i].cls == PF_G_STR && a->g[j].cls == PF_G_STR &&
				     a->g[i].str_len == a->g[j].str_len &&
				     !memcmp(a->g[i].str, a->g[j].str, a->g[i].str_len));
	}
	assert_int_equal(sum, calls);
	assert_int_equal(a->calls, calls);
	assert_int_equal(strs, PF_ARGSTATS_MAX_VALUES);
	assert_int_equal(others, 1);
	assert_true(a->folded_values > 0);
	pf_argstats_destroy(&t);
}

int main(void)
{
	rng_seed("test_argstats");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_context_groups_count_every_call),
	    cmocka_unit_test(test_argument_groups_count_every_call),
	    cmocka_unit_test(test_folding_loses_no_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
