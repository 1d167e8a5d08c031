/* SPDX-License-Identifier: MIT */
/* report/html.c - the page of `perfan report`: the embedded template (report/assets.h)
 * with the title and the JSON document written into its slots (see report.h).
 *
 * Traces are untrusted input. The document sits in <script type="application/json">,
 * which the HTML parser ends at the first "</script" whatever the JSON says, so every '<'
 * (and '>' and '&', for good measure) is written as a JSON escape, \u003c: such bytes
 * can only occur inside JSON strings, where the escape means the same character. The
 * script then draws with DOM text nodes and attributes only (never innerHTML), and the
 * page's Content-Security-Policy lets no other script run and nothing be fetched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "report/assets.h"
#include "report/report.h"

/* Files named in the title; the page lists them all. */
#define TITLE_FILES 3

static ssize_t escape_write(void *cookie, const char *buf, size_t size)
{
	struct pf_report_sink *s = cookie;
	FILE *out = s->out;
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		const char *esc = NULL;
		if (i < size) {
			switch (buf[i]) {
			case '<':
				esc = "\\u003c";
				break;
			case '>':
				esc = "\\u003e";
				break;
			case '&':
				esc = "\\u0026";
				break;
			default:
				continue;
			}
		}
		if (i > start && fwrite(buf + start, 1, i - start, out) != i - start)
			return -1;
		s->bytes += i - start;
		if (esc) {
			if (fwrite(esc, 1, 6, out) != 6)
				return -1;
			s->bytes += 6;
		}
		start = i + 1;
	}
	return (ssize_t)size;
}

static void put_html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
		}
	}
}

static void put_title(const struct pf_report *r, FILE *f)
{
	const struct pf_input *in = &r->sc1.in;
	fputs("perfan report: ", f);
	for (size_t i = 0; i < in->nsrc && i < TITLE_FILES; i++) {
		if (i)
			fputs(", ", f);
		put_html_text(f, in->src[i].path);
	}
	if (in->nsrc > TITLE_FILES)
		fprintf(f, " (+%zu more)", in->nsrc - TITLE_FILES);
}

static int put_data(struct pf_report *r, FILE *out)
{
	struct pf_report_sink sink = {.out = out};
	cookie_io_functions_t io = {.write = escape_write};
	if (!(sink.f = fopencookie(&sink, "w", io)))
		return -1;
	pf_report_json(r, &sink);
	int ret = fclose(sink.f);
	return ret == 0 && !ferror(out) ? 0 : -1;
}

int pf_report_html(struct pf_report *r, FILE *out)
{
	for (size_t i = 0; i < pf_report_nparts; i++) {
		const struct pf_report_part *p = &pf_report_parts[i];
		if (fwrite(p->text, 1, p->len, out) != p->len)
			return -1;
		if (p->slot == PF_SLOT_TITLE)
			put_title(r, out);
		else if (p->slot == PF_SLOT_DATA && put_data(r, out) < 0)
			return -1;
	}
	return ferror(out) ? -1 : 0;
}
