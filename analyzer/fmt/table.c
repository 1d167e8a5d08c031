/* SPDX-License-Identifier: MIT */
/* table.c - aligned text tables (see table.h). Tables are small (a row per action type
 * or per reported call), so cells are simply strings in a growing array. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/table.h"
#include "fmt/text.h"

struct cell {
	char *text; /* NULL: out of memory, printed as "?" */
	enum pf_style style;
};

struct pf_table {
	size_t ncols;
	const char **headers;
	enum pf_align *align;
	struct cell *cells; /* row-major, ncols per row */
	size_t nrows, cap;  /* rows complete, rows allocated */
	size_t col;	    /* cells in the current (incomplete) row */
};

struct pf_table *pf_table_new(size_t ncols)
{
	struct pf_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->headers = calloc(ncols, sizeof(*t->headers));
	t->align = calloc(ncols, sizeof(*t->align));
	if (!t->headers || !t->align) {
		pf_table_free(t);
		return NULL;
	}
	for (size_t i = 0; i < ncols; i++)
		t->headers[i] = "";
	return t;
}

void pf_table_free(struct pf_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap * t->ncols; i++) /* unused cells are zeroed */
		free(t->cells[i].text);
	free(t->cells);
	free(t->headers);
	free(t->align);
	free(t);
}

void pf_table_column(struct pf_table *t, size_t i, const char *header, enum pf_align align)
{
	if (i >= t->ncols)
		return;
	t->headers[i] = header;
	t->align[i] = align;
}

/* Make room for row t->nrows; its cells start zeroed (empty). */
static int reserve_row(struct pf_table *t)
{
	if (t->nrows < t->cap)
		return 0;
	size_t cap = t->cap ? 2 * t->cap : 16;
	struct cell *c = realloc(t->cells, cap * t->ncols * sizeof(*c));
	if (!c)
		return -1;
	memset(c + t->cap * t->ncols, 0, (cap - t->cap) * t->ncols * sizeof(*c));
	t->cells = c;
	t->cap = cap;
	return 0;
}

int pf_table_cell(struct pf_table *t, enum pf_style style, const char *fmt, ...)
{
	if (t->col >= t->ncols || reserve_row(t) < 0)
		return -1;
	struct cell *c = &t->cells[t->nrows * t->ncols + t->col++];
	va_list ap;
	va_start(ap, fmt);
	char *raw;
	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	va_end(ap);
	/* Cells show names from traces: one escaping rule (text.h), at most 4x longer. */
	c->text = NULL;
	if (raw) {
		size_t cap = 4 * strlen(raw) + 8;
		if ((c->text = malloc(cap)))
			pf_text_escape(raw, c->text, cap);
		free(raw);
	}
	c->style = style;
	return c->text ? 0 : -1;
}

int pf_table_row_end(struct pf_table *t)
{
	if (reserve_row(t) < 0)
		return -1;
	for (; t->col < t->ncols; t->col++)
		t->cells[t->nrows * t->ncols + t->col].text = strdup("");
	t->nrows++;
	t->col = 0;
	return 0;
}

const char *pf_style_begin(enum pf_style style, bool color)
{
	static const char *const seq[] = {"",	      "\033[1m",  "\033[2m",
					  "\033[31m", "\033[32m", "\033[33m"};
	return color ? seq[style] : "";
}

const char *pf_style_end(enum pf_style style, bool color)
{
	return color && style != PF_PLAIN ? "\033[0m" : "";
}

static void print_cell(FILE *f, const char *text, enum pf_style style, bool color, size_t width,
		       enum pf_align align, bool last)
{
	size_t w = pf_text_chars(text);
	size_t pad = width > w ? width - w : 0;
	if (align == PF_RIGHT)
		fprintf(f, "%*s", (int)pad, "");
	fprintf(f, "%s%s%s", pf_style_begin(style, color), text, pf_style_end(style, color));
	if (align == PF_LEFT && !last)
		fprintf(f, "%*s", (int)pad, "");
}

void pf_table_print(const struct pf_table *t, FILE *f, bool color)
{
	size_t *width = calloc(t->ncols, sizeof(*width));
	if (!width)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		width[i] = pf_text_chars(t->headers[i]);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i].text;
			size_t w = pf_text_chars(s ? s : "?");
			if (w > width[i])
				width[i] = w;
		}
	}
	for (size_t i = 0; i < t->ncols; i++) {
		fputs(i ? "  " : "", f);
		print_cell(f, t->headers[i], PF_BOLD, color, width[i], t->align[i],
			   i + 1 == t->ncols);
	}
	fputc('\n', f);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const struct cell *c = &t->cells[r * t->ncols + i];
			fputs(i ? "  " : "", f);
			print_cell(f, c->text ? c->text : "?", c->style, color, width[i],
				   t->align[i], i + 1 == t->ncols);
		}
		fputc('\n', f);
	}
	free(width);
}
