/* SPDX-License-Identifier: MIT */
/* units.c - parse and print durations and wall-clock times (see units.h).
 *
 * Parsing is done by hand rather than with strtod(): "1.1s" must be exactly
 * 1100000000 ns, and the accepted syntax must not depend on the locale.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fmt/units.h"

__extension__ typedef unsigned __int128 u128;

static const struct {
	const char *name;
	uint64_t ns;
} unit_table[] = {
    {"ns", 1},		 {"us", 1000},	    {"\xc2\xb5s", 1000}, /* µs, MICRO SIGN */
    {"\xce\xbcs", 1000},					 /* μs, GREEK SMALL LETTER MU */
    {"ms", 1000000},	 {"s", 1000000000}, {"m", 60000000000},	 {"h", 3600000000000},
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int pf_duration_parse(const char *s, uint64_t *ns)
{
	const char *p = s;
	uint64_t ip = 0, frac = 0, scale = 1;
	int digits = 0;
	for (; is_digit(*p); p++, digits++) {
		if (ip > (UINT64_MAX - 9) / 10)
			return -1;
		ip = ip * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; is_digit(*p); p++, digits++) {
			if (scale < 1000000000000000000ull) { /* digits below 1e-18 cannot matter */
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
	}
	if (digits == 0)
		return -1;
	if (*p == '\0') { /* a bare number: only zero is unambiguous */
		if (ip || frac)
			return -1;
		*ns = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(unit_table) / sizeof(unit_table[0]); i++) {
		if (strcmp(p, unit_table[i].name) != 0)
			continue;
		u128 v = (u128)ip * unit_table[i].ns + (u128)frac * unit_table[i].ns / scale;
		if (v > UINT64_MAX)
			return -1;
		*ns = (uint64_t)v;
		return 0;
	}
	return -1;
}

/* Parse exactly @n digits at *p into *out. */
static bool fixed_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

int pf_time_parse(const char *s, struct pf_time *out)
{
	uint64_t d;
	if (s[0] == '-' || s[0] == '+') {
		if (pf_duration_parse(s + 1, &d) < 0 || d > INT64_MAX)
			return -1;
		*out = (struct pf_time){s[0] == '-' ? PF_TIME_END : PF_TIME_START, (int64_t)d};
		return 0;
	}
	struct tm tm = {0};
	int Y, M, D, h = 0, m = 0, sec = 0;
	int64_t frac_ns = 0;
	const char *p = s;
	if (!fixed_digits(&p, 4, &Y) || *p++ != '-' || !fixed_digits(&p, 2, &M) || *p++ != '-' ||
	    !fixed_digits(&p, 2, &D))
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!fixed_digits(&p, 2, &h) || *p++ != ':' || !fixed_digits(&p, 2, &m))
			return -1;
		if (*p == ':') {
			p++;
			if (!fixed_digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				int64_t scale = 100000000;
				if (!is_digit(*++p))
					return -1;
				for (; is_digit(*p); p++, scale /= 10)
					frac_ns += (*p - '0') * scale;
			}
		}
	}
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t;
	if (*p == '\0') { /* no zone: local time, with DST as it was on that date */
		tm.tm_isdst = -1;
		t = mktime(&tm);
	} else if (p[0] == 'Z' && p[1] == '\0') {
		t = timegm(&tm);
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (!fixed_digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (*p && !fixed_digits(&p, 2, &om))
			return -1;
		if (*p || oh > 23 || om > 59)
			return -1;
		t = timegm(&tm) - sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	*out = (struct pf_time){PF_TIME_ABS, (int64_t)t * 1000000000 + frac_ns};
	return 0;
}

void pf_duration_format(uint64_t ns, char *buf, size_t len)
{
	static const char *const names[] = {"ns", "\xc2\xb5s", "ms", "s"};
	if (ns < 1000) {
		snprintf(buf, len, "%uns", (unsigned)ns);
		return;
	}
	if (ns < 59995000000ull) {
		double v = (double)ns;
		int u = 0;
		while (u < 3 && v >= 999.5) { /* 999.5 would print as "1000": one unit up */
			v /= 1000;
			u++;
		}
		int decimals = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
		snprintf(buf, len, "%.*f%s", decimals, v, names[u]);
		return;
	}
	uint64_t s = (ns + 500000000) / 1000000000;
	if (s < 3600)
		snprintf(buf, len, "%um%02us", (unsigned)(s / 60), (unsigned)(s % 60));
	else
		snprintf(buf, len, "%lluh%02um", (unsigned long long)(s / 3600),
			 (unsigned)(s % 3600 / 60));
}

void pf_wall_format(int64_t ns, bool iso, char *buf, size_t len)
{
	int64_t sec = ns / 1000000000, sub = ns % 1000000000;
	if (sub < 0) { /* floor division for times before 1970 */
		sec--;
		sub += 1000000000;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "%lld", (long long)ns);
		return;
	}
	char date[32], zone[16] = "";
	strftime(date, sizeof(date), iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	if (iso) {
		int off = (int)(tm.tm_gmtoff / 60), a = off < 0 ? -off : off;
		if (off == 0)
			snprintf(zone, sizeof(zone), "Z");
		else
			snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+',
				 a / 60 % 100, a % 60);
	}
	snprintf(buf, len, "%s.%06lld%s", date, (long long)(sub / 1000), zone);
}
