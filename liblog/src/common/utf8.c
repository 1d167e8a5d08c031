/* SPDX-License-Identifier: MIT */
/* utf8.c - cutting UTF-8 text to a size without splitting a character. */
#include <perflog/perflog.h>

#include "macros.h"

PL_EXPORT size_t pl_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	/* s[n] is the first byte left out: while it continues a character, that character
	 * began inside the prefix, so it goes too. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}
