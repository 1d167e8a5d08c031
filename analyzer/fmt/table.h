/* SPDX-License-Identifier: MIT */
/* table.h - aligned text tables for the human-readable output.
 *
 * Cells are formatted as they are added and kept until pf_table_print(), which sizes each
 * column to its widest cell (in characters, so "µs" counts as two). Columns are separated
 * by two spaces; trailing spaces are never written. Styles become ANSI colours only when
 * the caller says colour is on (perfan: --color, or auto and stdout is a TTY).
 */
#ifndef PERFAN_TABLE_H
#define PERFAN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum pf_align { PF_LEFT = 0, PF_RIGHT = 1 };
enum pf_style { PF_PLAIN = 0, PF_BOLD, PF_DIM, PF_RED, PF_GREEN, PF_YELLOW };

struct pf_table;

/** pf_table_new() - a table of @ncols columns. Returns: NULL when out of memory. */
struct pf_table *pf_table_new(size_t ncols);

/** pf_table_free() - NULL is a no-op. */
void pf_table_free(struct pf_table *t);

/** pf_table_column() - set column @i's header text and alignment (default: left, ""). */
void pf_table_column(struct pf_table *t, size_t i, const char *header, enum pf_align align);

/**
 * pf_table_cell() - append a cell to the current row (printf-style). A row holds at most
 * ncols cells; extra cells are ignored. Returns: 0, or -1 when out of memory (the table
 * then prints "?" in that cell).
 */
int pf_table_cell(struct pf_table *t, enum pf_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** pf_table_row_end() - end the current row (missing cells are empty). */
int pf_table_row_end(struct pf_table *t);

/** pf_table_print() - write the header line and the rows. */
void pf_table_print(const struct pf_table *t, FILE *f, bool color);

/** pf_style_begin() / pf_style_end() - the ANSI sequences of @style, "" without colour. */
const char *pf_style_begin(enum pf_style style, bool color);
const char *pf_style_end(enum pf_style style, bool color);

#endif /* PERFAN_TABLE_H */
