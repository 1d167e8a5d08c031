/* SPDX-License-Identifier: MIT */
/* text.c - escaping text from traces for a person's terminal (see text.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmt/text.h"

/* The length of the valid UTF-8 character at @p (1-4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
	if (!n || p[0] > 0xF4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
	    (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
		return 0; /* overlong, surrogate, past U+10FFFF */
	return n;
}

/* The escaped form of the character at @p into @buf; returns its length and sets *@used
 * to the bytes of @p it stands for. */
static size_t one(const unsigned char *p, char buf[8], size_t *used)
{
	size_t n = utf8_len(p);
	*used = n ? n : 1;
	if (!n)
		return (size_t)snprintf(buf, 8, "\\x%02x", p[0]);
	if (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) {
		if (p[0] == '\n' || p[0] == '\t' || p[0] == '\r') {
			buf[0] = '\\';
			buf[1] = p[0] == '\n' ? 'n' : p[0] == '\t' ? 't' : 'r';
			return 2;
		}
		return (size_t)snprintf(buf, 8, "\\x%02x", p[0]);
	}
	if (n == 2 && p[0] == 0xC2 && p[1] < 0xA0) /* C1 controls, CSI among them */
		return (size_t)snprintf(buf, 8, "\\u00%02x", p[1]);
	memcpy(buf, p, n);
	return n;
}

size_t pf_text_escape(const char *s, char *out, size_t cap)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		char buf[8];
		size_t used, n = one(p, buf, &used);
		if (o + n + sizeof(ellipsis) > cap) {
			memcpy(out + o, ellipsis, sizeof(ellipsis)); /* with its NUL */
			return o + sizeof(ellipsis) - 1;
		}
		memcpy(out + o, buf, n);
		o += n;
		p += used;
	}
	out[o] = '\0';
	return o;
}

void pf_text_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		char buf[8];
		size_t used, n = one(p, buf, &used);
		fwrite(buf, 1, n, f);
		p += used;
	}
}

size_t pf_text_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80; /* all but continuation bytes */
	return n;
}

const char *pf_text_esc(const char *s)
{
	static __thread char bufs[8][PF_TEXT_ESC_MAX];
	static __thread unsigned next;
	char *b = bufs[next++ % 8];
	pf_text_escape(s ? s : "(null)", b, PF_TEXT_ESC_MAX);
	return b;
}

/* The byte offset of character @k of @s (its length when @s has fewer). */
static size_t char_offset(const char *s, size_t k)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && k-- == 0)
			break;
	return i;
}

const char *pf_text_fit(const char *s, size_t cols, char *out, size_t cap)
{
	const char *e = pf_text_esc(s);
	size_t w = pf_text_chars(e);
	if (w <= cols) {
		snprintf(out, cap, "%s%*s", e, (int)(cols - w), "");
		return out;
	}
	if (cols == 0) {
		*out = '\0';
		return out;
	}
	/* Cut in the middle: the head says which process, the tail tells apart threads that
	 * share a long prefix (ThreadPoolExecutor-0_1, ..._12). */
	size_t tail = (cols - 1) / 3, head = cols - 1 - tail;
	size_t h = char_offset(e, head), t = char_offset(e, w - tail);
	snprintf(out, cap, "%.*s\xe2\x80\xa6%s", (int)h, e, e + t);
	return out;
}
