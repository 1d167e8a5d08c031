/* SPDX-License-Identifier: MIT */
/* taskid.c - task id prefix, sequence blocks, and the "<prefix>-<seq>@/a/b" form. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <perflog/action.h>
#include <perflog/status.h>

#include "config.h"
#include "macros.h"
#include "taskid.h"

/* Process-wide: the prefix (0 until first use) and the next free sequence block. */
uint64_t pl_g_task_prefix;
static uint64_t g_next_block = 1;
/* Per thread: the sequence block being used. */
PL_TLS uint64_t pl_tl_seq, pl_tl_seq_end;

static uint64_t draw_prefix(void)
{
	uint64_t p = 0;
	if (getrandom(&p, sizeof(p), GRND_NONBLOCK) != (ssize_t)sizeof(p)) {
		/* No entropy yet (early boot): mix what differs between processes. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		p = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)&p;
		p *= 0x9E3779B97F4A7C15ull;
	}
	return p ? p : 1;
}

uint64_t pl_task_prefix_slow(void)
{
	uint64_t expected = 0, fresh = draw_prefix();
	if (__atomic_compare_exchange_n(&pl_g_task_prefix, &expected, fresh, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return fresh;
	return expected;
}

uint64_t pl_task_seq_block(void)
{
	pl_tl_seq = __atomic_fetch_add(&g_next_block, PL_TASK_BLOCK, __ATOMIC_RELAXED);
	pl_tl_seq_end = pl_tl_seq + PL_TASK_BLOCK;
	return pl_tl_seq++;
}

void pl_task_after_fork_child(void)
{
	store_relaxed(&pl_g_task_prefix, draw_prefix());
}

/* Digits of @v in base @base (10 or 16), at least @min of them (zeros first), written at
 * @p if they fit before @end; returns the end of them, or NULL. */
static char *put_num(char *p, const char *end, uint64_t v, unsigned base, int min)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v || n < min);
	if (end - p < n)
		return NULL;
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* By hand, not snprintf: readers format one per event they print (perfan's exports spent
 * a tenth of their time in it). */
PL_EXPORT int pl_task_format(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth,
			     char *buf, size_t len)
{
	if (len == 0)
		return -PL_EINVAL;
	char *p = buf, *end = buf + len - 1; /* room for the NUL */
	if (!(p = put_num(p, end, prefix, 16, 16)) || p == end)
		return -PL_EINVAL;
	*p++ = '-';
	if (!(p = put_num(p, end, seq, 16, 1)) || p == end)
		return -PL_EINVAL;
	*p++ = '@';
	if (depth == 0) {
		if (p == end)
			return -PL_EINVAL;
		*p++ = '/';
	}
	for (uint32_t i = 0; i < depth; i++) {
		if (p == end)
			return -PL_EINVAL;
		*p++ = '/';
		if (!(p = put_num(p, end, level[i], 10, 1)))
			return -PL_EINVAL;
	}
	*p = '\0';
	return (int)(p - buf);
}

static int parse_hex(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;
	for (; *p < end && digits < 17; (*p)++, digits++) {
		char c = **p;
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		v = v << 4 | d;
	}
	if (digits == 0 || digits > 16)
		return -PL_EINVAL;
	*out = v;
	return 0;
}

PL_EXPORT int pl_task_parse(const char *s, size_t len, struct pl_task_ref *out)
{
	const char *p = s, *end = s + len;
	if (!s || !out)
		return -PL_EINVAL;
	memset(out, 0, sizeof(*out));
	if (parse_hex(&p, end, &out->prefix) < 0 || p == end || *p++ != '-' ||
	    parse_hex(&p, end, &out->seq) < 0 || p == end || *p++ != '@' || p == end || *p != '/')
		return -PL_EINVAL;
	if (out->prefix == 0)
		return -PL_EINVAL;
	if (end - p == 1)
		return 0; /* "@/": the root */
	while (p < end) {
		if (*p++ != '/' || p == end || out->depth >= PL_TASK_MAX_DEPTH)
			return -PL_EINVAL;
		uint64_t v = 0;
		int digits = 0;
		for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > UINT32_MAX)
				return -PL_EINVAL;
		}
		if (digits == 0 || v == 0)
			return -PL_EINVAL;
		out->level[out->depth++] = (uint32_t)v;
	}
	return 0;
}
