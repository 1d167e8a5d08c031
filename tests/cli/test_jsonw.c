/* SPDX-License-Identifier: MIT */
/* test_jsonw.c - analyzer/fmt/jsonw.c's output against texts built here: strings made of
 * random pieces whose JSON form is known (plain text, quotes, backslashes, control bytes,
 * UTF-8 of each length, bytes that are not UTF-8), short and long, as keys and values;
 * integers at their limits; thousandths; separators compact and pretty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fmt/jsonw.h"
#include "test_rng.h"

/* A piece of a string and its form inside a JSON string. */
static const struct {
	const char *raw, *json;
} pieces[] = {
    {"a", "a"},
    {"hello world", "hello world"},
    {"~", "~"},
    {"\"", "\\\""},
    {"\\", "\\\\"},
    {"\n", "\\n"},
    {"\t", "\\t"},
    {"\r", "\\r"},
    {"\b", "\\b"},
    {"\f", "\\f"},
    {"\x01", "\\u0001"},
    {"\x1f", "\\u001f"},
    {"\x7f", "\\u007f"},
    {"\xc3\xa9", "\xc3\xa9"},		       /* é */
    {"\xe2\x82\xac", "\xe2\x82\xac"},	       /* € */
    {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},  /* an emoji */
    {"\xff", "\\ufffd"},		       /* never in UTF-8 */
    {"\xc0\xaf", "\\ufffd\\ufffd"},	       /* an overlong '/': both bytes refused */
    {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"}, /* a surrogate */
};
#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))

struct text {
	char *p;
	size_t n, cap;
};

static void add(struct text *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		t->cap = 2 * (t->n + n + 1);
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void adds(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

/* A random string of up to @max pieces into @raw, its JSON form (quoted) into @json. */
static void random_string(struct text *raw, struct text *json, unsigned max)
{
	raw->n = json->n = 0;
	add(raw, "", 0);
	adds(json, "\"");
	unsigned n = (unsigned)(next() % (max + 1));
	bool plain = next() % 2; /* half of them plain text only: the one-piece path */
	for (unsigned i = 0; i < n; i++) {
		size_t k = plain ? next() % 3 : next() % NPIECES;
		adds(raw, pieces[k].raw);
		adds(json, pieces[k].json);
	}
	adds(json, "\"");
}

static char *written(FILE *f, char **buf)
{
	assert_int_equal(fflush(f), 0);
	return *buf;
}

/* Arrays and objects of random strings, keys and integers, compact: the text is exactly
 * the pieces' forms joined by commas and colons. */
static void test_compact_documents(void **state)
{
	(void)state;
	struct text raw = {0}, js = {0}, want = {0};
	for (int doc = 0; doc < 3000; doc++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		assert_non_null(f);
		struct pf_json j;
		pf_json_init(&j, f, false);
		pf_json_object_begin(&j);
		want.n = 0;
		adds(&want, "{");
		unsigned members = (unsigned)(next() % 6);
		for (unsigned m = 0; m < members; m++) {
			if (m)
				adds(&want, ",");
			/* Long ones too: past the one-piece size, in plain text or not. */
			random_string(&raw, &js, next() % 8 ? 6 : 80);
			pf_json_keyn(&j, raw.p, raw.n);
			pf_json_array_begin(&j);
			add(&want, js.p, js.n);
			adds(&want, ":[");
			unsigned items = (unsigned)(next() % 5);
			for (unsigned i = 0; i < items; i++) {
				if (i)
					adds(&want, ",");
				char num[64];
				switch (next() % 4) {
				case 0:
					random_string(&raw, &js, 10);
					pf_json_strn(&j, raw.p, raw.n);
					add(&want, js.p, js.n);
					break;
				case 1: {
					int64_t v = (int64_t)next() >> (next() % 64);
					if (next() % 8 == 0)
						v = next() % 2 ? INT64_MIN : INT64_MAX;
					pf_json_int(&j, v);
					snprintf(num, sizeof(num), "%lld", (long long)v);
					adds(&want, num);
					break;
				}
				case 2: {
					uint64_t v = next() >> (next() % 64);
					if (next() % 8 == 0)
						v = next() % 2 ? 0 : UINT64_MAX;
					pf_json_uint(&j, v);
					snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
					adds(&want, num);
					break;
				}
				default: {
					int64_t v = (int64_t)next() >> (next() % 64);
					if (next() % 8 == 0)
						v = (int64_t)(next() % 2001) - 1000;
					pf_json_milli(&j, v);
					uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
					snprintf(num, sizeof(num), "%s%llu.%03llu",
						 v < 0 ? "-" : "", (unsigned long long)(a / 1000),
						 (unsigned long long)(a % 1000));
					adds(&want, num);
					break;
				}
				}
			}
			pf_json_array_end(&j);
			adds(&want, "]");
		}
		pf_json_object_end(&j);
		adds(&want, "}");
		fclose(f);
		if (strcmp(buf, want.p) != 0)
			fail_msg("document %d:\n got %s\nwant %s", doc, buf, want.p);
		free(buf);
	}
	free(raw.p);
	free(js.p);
	free(want.p);
}

/* Each byte value at each place of a plain string: found by the scan that goes eight
 * bytes at a time, whatever its place in the word. */
static void test_every_byte_everywhere(void **state)
{
	(void)state;
	for (int c = 1; c < 256; c++) {
		char form[16];
		if (c == '"' || c == '\\')
			snprintf(form, sizeof(form), "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			snprintf(form, sizeof(form), "%c", c);
		else if (c >= 0x80) /* alone, never well-formed UTF-8 */
			snprintf(form, sizeof(form), "\\ufffd");
		else {
			const char *named = c == '\n'	? "\\n"
					    : c == '\r' ? "\\r"
					    : c == '\t' ? "\\t"
					    : c == '\b' ? "\\b"
					    : c == '\f' ? "\\f"
							: NULL;
			if (named)
				snprintf(form, sizeof(form), "%s", named);
			else
				snprintf(form, sizeof(form), "\\u%04x", c);
		}
		for (size_t len = 1; len <= 20; len++)
			for (size_t at = 0; at < len; at++) {
				char raw[24], want[64];
				memset(raw, 'a', len);
				raw[at] = (char)c;
				snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)at, raw, form,
					 (int)(len - at - 1), raw + at + 1);
				char *buf = NULL;
				size_t n = 0;
				FILE *f = open_memstream(&buf, &n);
				struct pf_json j;
				pf_json_init(&j, f, false);
				pf_json_strn(&j, raw, len);
				fclose(f);
				if (strcmp(buf, want) != 0)
					fail_msg("byte %#x at %zu of %zu: got %s, want %s", c, at,
						 len, buf, want);
				free(buf);
			}
	}
}

/* Integers as strings and hex ids, against printf's. */
static void test_numbers_as_strings(void **state)
{
	(void)state;
	for (int k = 0; k < 20000; k++) {
		uint64_t u = next() >> (next() % 64),
			 w[4] = {next(), next() >> (next() % 64), 0, u};
		int64_t i = k < 2 ? (k ? INT64_MIN : INT64_MAX) : (int64_t)next() >> (next() % 64);
		size_t nw = 1 + next() % 4;
		char *buf = NULL, want[160];
		size_t n = 0;
		FILE *f = open_memstream(&buf, &n);
		struct pf_json j;
		pf_json_init(&j, f, false);
		pf_json_array_begin(&j);
		pf_json_int_str(&j, i);
		pf_json_uint_str(&j, u);
		pf_json_hex(&j, w, nw);
		pf_json_array_end(&j);
		fclose(f);
		int m = snprintf(want, sizeof(want), "[\"%lld\",\"%llu\",\"", (long long)i,
				 (unsigned long long)u);
		for (size_t x = 0; x < nw; x++)
			m += snprintf(want + m, sizeof(want) - (size_t)m, "%016llx",
				      (unsigned long long)w[x]);
		snprintf(want + m, sizeof(want) - (size_t)m, "\"]");
		assert_string_equal(buf, want);
		free(buf);
	}
}

/* Pretty documents: newlines and two spaces per level, ": " after keys. */
static void test_pretty_document(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct pf_json j;
	pf_json_init(&j, f, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "a");
	pf_json_uint(&j, 1);
	pf_json_key(&j, "b\"");
	pf_json_array_begin(&j);
	pf_json_int(&j, -2);
	pf_json_milli(&j, -1234);
	pf_json_str(&j, "x\n");
	pf_json_array_end(&j);
	pf_json_key(&j, "c");
	pf_json_object_begin(&j);
	pf_json_object_end(&j);
	pf_json_object_end(&j);
	assert_int_equal(pf_json_finish(&j), 0);
	assert_string_equal(written(f, &buf), "{\n"
					      "  \"a\": 1,\n"
					      "  \"b\\\"\": [\n"
					      "    -2,\n"
					      "    -1.234,\n"
					      "    \"x\\n\"\n"
					      "  ],\n"
					      "  \"c\": {}\n"
					      "}\n");
	fclose(f);
	free(buf);
}

int main(void)
{
	rng_seed("test_jsonw");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compact_documents),
	    cmocka_unit_test(test_every_byte_everywhere),
	    cmocka_unit_test(test_numbers_as_strings),
	    cmocka_unit_test(test_pretty_document),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
