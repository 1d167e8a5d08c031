/* SPDX-License-Identifier: MIT */
/* names.h - the process-wide table of interned names (writer side).
 *
 * Append-only: a name's number never changes and its text never moves, so the hot path
 * and the flusher read without a lock; only interning takes the table's mutex.
 */
#ifndef PL_NAMES_H
#define PL_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Number of names interned so far, including name 0 (""); acquire-ordered, so every
 * name below the count can be read. */
uint32_t pl_names_count(void);

/* Names refused by pl_name_intern() for the limits since the process started. */
uint64_t pl_names_refused(void);

/* Text and length of name @id (< pl_names_count()). */
const char *pl_names_get(uint32_t id, uint32_t *len);

/* fork() protection of the table's mutex. */
void pl_names_atfork_prepare(void);
void pl_names_atfork_parent(void);
void pl_names_atfork_child(void);

#endif /* PL_NAMES_H */
