/* SPDX-License-Identifier: MIT */
/* jsonw.c - streaming JSON writer (see jsonw.h). */
#define _GNU_SOURCE
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "fmt/jsonw.h"

/* A writer's stream is used by one thread: stdio's per-call locking was 40 % of an export's
 * time (perf), so the unlocked forms. */
#define fputc  fputc_unlocked
#define fputs  fputs_unlocked
#define fwrite fwrite_unlocked

void pf_json_init(struct pf_json *j, FILE *f, bool pretty)
{
	*j = (struct pf_json){.f = f, .pretty = pretty};
}

static void newline(struct pf_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Before any value or key: the separator, unless the value completes a "key": pair. */
static void before_value(struct pf_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->nonempty[j->depth])
			fputc(',', j->f);
		j->nonempty[j->depth] = true;
		newline(j);
	}
}

/* The separator before_value() would write, into @out, when it is at most one byte (not
 * pretty: no newline and indentation); returns its length, or -1 for the pretty case. */
static inline int sep_into(struct pf_json *j, char *out)
{
	if (j->after_key) {
		j->after_key = false;
		return 0;
	}
	if (j->depth == 0)
		return 0;
	if (j->pretty)
		return -1;
	bool comma = j->nonempty[j->depth];
	j->nonempty[j->depth] = true;
	out[0] = ',';
	return comma;
}

/* A byte that goes into a JSON string as it is: printable ASCII but '"' and '\\'. */
static inline bool plain(unsigned char c)
{
	return (unsigned char)(c - 0x20) < 0x5f && c != '"' && c != '\\';
}

/* Bytes of @s[0..n) that are plain() from the start. Eight at a time: the byte-by-byte
 * scan was a fifth of an OTLP export. A word has a byte below 0x20, above 0x7e, '"' or
 * '\\' when the classic "has a byte less than" and "has a zero byte" tests say so. */
static inline size_t plain_run(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0x7f);
		uint64_t bad = ((x - ones * 0x20) & ~x) | x | ((q - ones) & ~q) |
			       ((b - ones) & ~b) | ((d - ones) & ~d);
		if (bad & high)
			break;
	}
	while (i < n && plain(s[i]))
		i++;
	return i;
}

/* The most a value written in one piece (separator, quotes, text) takes. */
#define PIECE 256

static void open_container(struct pf_json *j, char c)
{
	before_value(j);
	fputc(c, j->f);
	assert(j->depth + 1 < PF_JSON_MAX_DEPTH);
	j->nonempty[++j->depth] = false;
}

static void close_container(struct pf_json *j, char c)
{
	assert(j->depth > 0 && !j->after_key);
	bool had = j->nonempty[j->depth--];
	if (had)
		newline(j);
	fputc(c, j->f);
}

void pf_json_object_begin(struct pf_json *j)
{
	open_container(j, '{');
}

void pf_json_object_end(struct pf_json *j)
{
	close_container(j, '}');
}

void pf_json_array_begin(struct pf_json *j)
{
	open_container(j, '[');
}

void pf_json_array_end(struct pf_json *j)
{
	close_container(j, ']');
}

/* Length of the well-formed UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
		hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

static void write_string(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		/* A run of printable ASCII goes out in one write. */
		size_t run = i + plain_run(s + i, n - i);
		if (run > i) {
			fwrite(s + i, 1, run - i, f);
			i = run;
			continue;
		}
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n':
				fputs("\\n", f);
				break;
			case '\r':
				fputs("\\r", f);
				break;
			case '\t':
				fputs("\\t", f);
				break;
			case '\b':
				fputs("\\b", f);
				break;
			case '\f':
				fputs("\\f", f);
				break;
			default:
				fprintf(f, "\\u%04x", c);
				break;
			}
			i++;
		} else {
			size_t len = utf8_len(s + i, n - i);
			if (len == 0) {
				fputs("\\ufffd", f);
				i++;
			} else {
				fwrite(s + i, 1, len, f);
				i += len;
			}
		}
	}
	fputc('"', f);
}

/* A string of plain bytes short enough goes out with its separator (and a key's colon)
 * in one fwrite: five stdio calls per key or value were most of an export's time.
 * Returns false, having written nothing, otherwise. */
static bool put_plain(struct pf_json *j, const char *s, size_t n, bool key)
{
	if (n > PIECE - 4 || j->pretty)
		return false;
	if (plain_run((const unsigned char *)s, n) != n)
		return false;
	char buf[PIECE];
	size_t k = (size_t)sep_into(j, buf);
	buf[k++] = '"';
	memcpy(buf + k, s, n);
	k += n;
	buf[k++] = '"';
	if (key)
		buf[k++] = ':';
	fwrite(buf, 1, k, j->f);
	return true;
}

void pf_json_keyn(struct pf_json *j, const char *key, size_t len)
{
	assert(!j->after_key);
	if (!put_plain(j, key, len, true)) {
		before_value(j);
		write_string(j->f, key, len);
		fputs(j->pretty ? ": " : ":", j->f);
	}
	j->after_key = true;
}

void pf_json_strn(struct pf_json *j, const char *s, size_t len)
{
	if (put_plain(j, s, len, false))
		return;
	before_value(j);
	write_string(j->f, s, len);
}

void pf_json_str(struct pf_json *j, const char *s)
{
	if (!s)
		pf_json_null(j);
	else
		pf_json_strn(j, s, strlen(s));
}

/* Decimal digits of @v ending at @end; returns where they begin. By hand: fprintf's
 * format parsing was a third of an export's time. */
static char *dec(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* The value's separator and @m's digits (after a '-' if @neg), in one fwrite. */
static void put_dec(struct pf_json *j, bool neg, uint64_t m)
{
	char buf[32], *end = buf + sizeof(buf), *p = dec(end, m);
	if (neg)
		*--p = '-';
	int sep = sep_into(j, p - 1);
	if (sep < 0)
		before_value(j); /* pretty: a newline and indentation first */
	p -= sep > 0;
	fwrite(p, 1, (size_t)(end - p), j->f);
}

void pf_json_int(struct pf_json *j, int64_t v)
{
	put_dec(j, v < 0, v < 0 ? -(uint64_t)v : (uint64_t)v);
}

void pf_json_uint(struct pf_json *j, uint64_t v)
{
	put_dec(j, false, v);
}

void pf_json_int_str(struct pf_json *j, int64_t v)
{
	char buf[24], *end = buf + sizeof(buf);
	uint64_t m = v < 0 ? -(uint64_t)v : (uint64_t)v;
	char *p = dec(end, m);
	if (v < 0)
		*--p = '-';
	pf_json_strn(j, p, (size_t)(end - p));
}

void pf_json_uint_str(struct pf_json *j, uint64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *p = dec(end, v);
	pf_json_strn(j, p, (size_t)(end - p));
}

void pf_json_hex(struct pf_json *j, const uint64_t *w, size_t n)
{
	char buf[64];
	assert(n <= 4);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 16; k++)
			buf[16 * i + (size_t)k] = "0123456789abcdef"[w[i] >> (60 - 4 * k) & 15];
	pf_json_strn(j, buf, 16 * n);
}

void pf_json_double(struct pf_json *j, double v)
{
	before_value(j);
	if (isfinite(v))
		fprintf(j->f, "%.17g", v);
	else
		fputs("null", j->f);
}

void pf_json_bool(struct pf_json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->f);
}

void pf_json_null(struct pf_json *j)
{
	before_value(j);
	fputs("null", j->f);
}

int pf_json_finish(struct pf_json *j)
{
	fputc('\n', j->f);
	return fflush(j->f) == 0 && !ferror(j->f) ? 0 : -1;
}

void pf_json_milli(struct pf_json *j, int64_t v)
{
	uint64_t m = v < 0 ? -(uint64_t)v : (uint64_t)v;
	char buf[32], *end = buf + sizeof(buf), *p = end - 4;
	p[0] = '.';
	p[1] = (char)('0' + m / 100 % 10);
	p[2] = (char)('0' + m / 10 % 10);
	p[3] = (char)('0' + m % 10);
	p = dec(p, m / 1000);
	if (v < 0)
		*--p = '-';
	int sep = sep_into(j, p - 1);
	if (sep < 0)
		before_value(j);
	p -= sep > 0;
	fwrite(p, 1, (size_t)(end - p), j->f);
}

void pf_json_real(struct pf_json *j, double v)
{
	char buf[40];
	before_value(j);
	if (!isfinite(v)) {
		fputs("null", j->f);
		return;
	}
	snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, j->f);
	if (!strpbrk(buf, ".e"))
		fputs(".0", j->f); /* stays a float for readers that tell 1 from 1.0 */
}
