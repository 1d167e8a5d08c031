/* SPDX-License-Identifier: MIT */
/* units.h - durations and wall-clock times as perfan reads and prints them.
 *
 * Durations on the command line take a unit: ns, us, µs, ms, s, m, h ("200ms", "1.5s",
 * "0"). Times are ISO-8601 wall-clock times ("2025-11-25T14:02", "...:05.5Z",
 * "...+01:00"; local time when no zone is given) or relative to the trace: "-5m" is five
 * minutes before the end of the input, "+30s" thirty seconds after its start.
 */
#ifndef PERFAN_UNITS_H
#define PERFAN_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Where a struct pf_time counts from. */
enum pf_time_base {
	PF_TIME_ABS = 0,   /* @ns is Unix time in ns */
	PF_TIME_END = 1,   /* @ns before the last record of the input ("-5m") */
	PF_TIME_START = 2, /* @ns after the first record of the input ("+5m") */
};

struct pf_time {
	enum pf_time_base base;
	int64_t ns;
};

/**
 * pf_duration_parse() - parse "<number><unit>" into nanoseconds.
 * @s: e.g. "200ms", "1.5s", "250us", "3µs", "2m"; "0" needs no unit.
 * Fractions are exact to the nanosecond (truncated below it).
 * Returns: 0, or -1 if @s is malformed, has no or an unknown unit, or overflows.
 */
int pf_duration_parse(const char *s, uint64_t *ns);

/**
 * pf_time_parse() - parse an ISO-8601 wall-clock time or a relative one ("-5m", "+1s").
 * Returns: 0, or -1 if @s is malformed.
 */
int pf_time_parse(const char *s, struct pf_time *out);

/** Enough bytes for pf_duration_format()'s output. */
#define PF_DURATION_MAX 32
/** Enough bytes for pf_wall_format()'s output. */
#define PF_WALL_MAX 48

/**
 * pf_duration_format() - a duration in an adaptive unit with 3 significant digits:
 * "850ns", "12.3µs", "1.50ms", "12.0s", "2m03s", "1h02m".
 */
void pf_duration_format(uint64_t ns, char *buf, size_t len);

/**
 * pf_wall_format() - a Unix time in ns as local time, to the microsecond:
 * "2025-11-25 14:02:03.123456" (@iso false), or ISO-8601 with the zone offset,
 * "2025-11-25T14:02:03.123456+01:00" (@iso true).
 */
void pf_wall_format(int64_t ns, bool iso, char *buf, size_t len);

/* Wall-clock arithmetic that saturates instead of overflowing (durations and times come
 * from the traces, which may be hostile): @wall + @ns, @wall - @ns, and @a - @b. */
__extension__ typedef __int128 pf_i128;

static inline int64_t pf_clamp64(pf_i128 v)
{
	return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

static inline int64_t pf_wall_add(int64_t wall, uint64_t ns)
{
	int64_t r;
	if (__builtin_expect(ns <= INT64_MAX && !__builtin_add_overflow(wall, (int64_t)ns, &r), 1))
		return r;
	return pf_clamp64((pf_i128)wall + ns);
}

static inline int64_t pf_wall_sub(int64_t wall, uint64_t ns)
{
	return pf_clamp64((pf_i128)wall - ns);
}

static inline int64_t pf_wall_diff(int64_t a, int64_t b)
{
	return pf_clamp64((pf_i128)a - b);
}

#endif /* PERFAN_UNITS_H */
