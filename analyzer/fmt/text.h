/* SPDX-License-Identifier: MIT */
/* text.h - the one rule for text from a trace that perfan prints for a person (tables,
 * listings, warnings): names, exception texts and file names may hold anything, and a
 * terminal must neither obey them (ESC, BEL: colours, titles, cursor moves) nor be fooled
 * by them (a newline in a file name forging an output line). So:
 *   - newline, tab and carriage return print as \n, \t, \r;
 *   - other control characters (C0, DEL, and C1 U+0080..U+009F) as \xHH or \u00HH;
 *   - bytes that are not UTF-8 as \xHH;
 *   - everything else as it is (a backslash too: the escapes are for reading, not for
 *     parsing; --json is exact).
 */
#ifndef PERFAN_TEXT_H
#define PERFAN_TEXT_H

#include <stddef.h>
#include <stdio.h>

/** The longest text pf_text_esc() returns, cut with "…" past it. */
#define PF_TEXT_ESC_MAX 2048

/**
 * pf_text_escape() - @s (NUL-terminated) escaped into @out (@cap bytes, NUL-terminated,
 * cut at a whole character with "…" when it does not fit; @cap >= 8).
 * Returns: the length written.
 */
size_t pf_text_escape(const char *s, char *out, size_t cap);

/** pf_text_put() - write @s escaped to @f. */
void pf_text_put(FILE *f, const char *s);

/**
 * pf_text_esc() - @s escaped, for a printf argument: one of 8 rotating buffers of the
 * calling thread, valid until 8 more calls. NULL prints as "(null)".
 */
const char *pf_text_esc(const char *s);

/** pf_text_chars() - the characters of UTF-8 @s (the columns it takes, one each). */
size_t pf_text_chars(const char *s);

/**
 * pf_text_fit() - @s escaped and made exactly @cols columns wide, for a column of a
 * streamed output whose width cannot wait for the longest value: padded with spaces, or
 * cut in the middle at whole characters with "…" (the head and the tail both kept).
 * Written to @out (@cap bytes, at least 4 * @cols + 1). Columns are counted one per
 * character.
 * Returns: @out.
 */
const char *pf_text_fit(const char *s, size_t cols, char *out, size_t cap);

#endif /* PERFAN_TEXT_H */
