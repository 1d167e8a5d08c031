/* SPDX-License-Identifier: MIT */
/* tracecontext.c - traceparent parsing and formatting, span ids, and the table of tasks
 * continued from a traceparent (see perflog/tracecontext.h).
 *
 * The table is process-wide (one mutex): it is touched when a continued task begins and
 * ends and when a traceparent is formatted, never when an action is recorded. Open
 * addressing keyed by the task id, backward-shift deletion; it holds the continued tasks
 * whose root is running, so it is as big as the requests in flight.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/status.h>
#include <perflog/tracecontext.h>

#include "macros.h"

#define GOLDEN 0x9e3779b97f4a7c15ull

static uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

PL_EXPORT uint64_t pl_span_id(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth)
{
	uint64_t h = fmix64(prefix ^ fmix64(seq + GOLDEN));
	for (uint32_t i = 0; i < depth; i++)
		h = fmix64(h + GOLDEN * (level[i] + 1ull));
	return h ? h : 1;
}

/* ---- text ---------------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case too: the specification allows only lower case */
}

/* @n bytes from 2n hex digits at @s. Returns: false if one is not a hex digit. */
static bool unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

PL_EXPORT int pl_traceparent_parse(const char *s, size_t len, struct pl_traceparent *out)
{
	if (!s || !out)
		return -PL_EINVAL;
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	uint8_t version;
	if (len < PL_TRACEPARENT_LEN || !unhex(s, &version, 1) || version == 0xff)
		return -PL_EINVAL;
	if (version == 0 ? len != PL_TRACEPARENT_LEN
			 : len > PL_TRACEPARENT_LEN && s[PL_TRACEPARENT_LEN] != '-')
		return -PL_EINVAL;
	struct pl_traceparent tp;
	if (s[2] != '-' || s[35] != '-' || s[52] != '-' || !unhex(s + 3, tp.trace_id, 16) ||
	    !unhex(s + 36, tp.parent_id, 8) || !unhex(s + 53, &tp.flags, 1) ||
	    all_zero(tp.trace_id, 16) || all_zero(tp.parent_id, 8))
		return -PL_EINVAL;
	*out = tp;
	return 0;
}

PL_EXPORT int pl_traceparent_format(const uint8_t trace_id[16], uint64_t span_id, uint8_t flags,
				    char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (!buf || len < PL_TRACEPARENT_LEN + 1)
		return -PL_EINVAL;
	char *p = buf;
	*p++ = '0';
	*p++ = '0';
	*p++ = '-';
	for (int i = 0; i < 16; i++) {
		*p++ = hex[trace_id[i] >> 4];
		*p++ = hex[trace_id[i] & 15];
	}
	*p++ = '-';
	for (int i = 60; i >= 0; i -= 4)
		*p++ = hex[span_id >> i & 15];
	*p++ = '-';
	*p++ = hex[flags >> 4];
	*p++ = hex[flags & 15];
	*p = '\0';
	return PL_TRACEPARENT_LEN;
}

/* ---- the table of continued tasks ------------------------------------------------------ */

struct entry {
	uint64_t prefix, seq; /* prefix 0: an empty slot (task prefixes are never 0) */
	struct pl_traceparent tp;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *g_slots;
static size_t g_cap, g_n;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* A fork while another thread holds g_lock must not leave the child's copy locked (a
 * prefork server continues requests in its children). */
static void fork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
}

static void fork_after(void)
{
	pthread_mutex_unlock(&g_lock);
}

static void init_once(void)
{
	(void)pthread_atfork(fork_prepare, fork_after, fork_after);
}

static void lock(void)
{
	pthread_once(&g_once, init_once);
	pthread_mutex_lock(&g_lock);
}

static size_t home(uint64_t prefix, uint64_t seq, size_t mask)
{
	return (size_t)fmix64(prefix ^ fmix64(seq + GOLDEN)) & mask;
}

/* The slot of (prefix, seq), or of the empty slot where it would go. Under g_lock. */
static struct entry *probe(uint64_t prefix, uint64_t seq)
{
	size_t mask = g_cap - 1;
	for (size_t i = home(prefix, seq, mask);; i = (i + 1) & mask)
		if (!g_slots[i].prefix || (g_slots[i].prefix == prefix && g_slots[i].seq == seq))
			return &g_slots[i];
}

static int grow(void)
{
	size_t cap = g_cap ? 2 * g_cap : 64;
	struct entry *slots = calloc(cap, sizeof(*slots)), *old = g_slots;
	if (!slots)
		return -PL_ENOMEM;
	size_t old_cap = g_cap;
	g_slots = slots;
	g_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].prefix)
			*probe(old[i].prefix, old[i].seq) = old[i];
	free(old);
	return 0;
}

PL_EXPORT int pl_task_trace_set(uint64_t prefix, uint64_t seq, const struct pl_traceparent *tp)
{
	if (!prefix || !tp)
		return -PL_EINVAL;
	int ret = 0;
	lock();
	if (2 * (g_n + 1) > g_cap)
		ret = grow();
	if (!ret) {
		struct entry *e = probe(prefix, seq);
		g_n += !e->prefix;
		*e = (struct entry){prefix, seq, *tp};
	}
	pthread_mutex_unlock(&g_lock);
	return ret;
}

PL_EXPORT void pl_task_trace_clear(uint64_t prefix, uint64_t seq)
{
	lock();
	struct entry *e = g_cap && prefix ? probe(prefix, seq) : NULL;
	if (e && e->prefix) {
		size_t mask = g_cap - 1, i = (size_t)(e - g_slots), j = i;
		for (;;) {
			j = (j + 1) & mask;
			if (!g_slots[j].prefix)
				break;
			size_t h = home(g_slots[j].prefix, g_slots[j].seq, mask);
			/* Slot j may fill the hole at i unless its home lies cyclically in (i, j].
			 */
			bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
			if (!stays) {
				g_slots[i] = g_slots[j];
				i = j;
			}
		}
		g_slots[i].prefix = 0;
		g_n--;
	}
	pthread_mutex_unlock(&g_lock);
}

PL_EXPORT uint8_t pl_task_trace_id(uint64_t prefix, uint64_t seq, uint8_t out[16])
{
	lock();
	struct entry *e = g_cap && prefix ? probe(prefix, seq) : NULL;
	bool found = e && e->prefix;
	uint8_t flags = found ? e->tp.flags : 1;
	if (found)
		memcpy(out, e->tp.trace_id, 16);
	pthread_mutex_unlock(&g_lock);
	if (!found)
		for (int i = 0; i < 8; i++) {
			out[i] = (uint8_t)(prefix >> (56 - 8 * i));
			out[8 + i] = (uint8_t)(seq >> (56 - 8 * i));
		}
	return flags;
}
