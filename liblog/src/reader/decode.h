/* SPDX-License-Identifier: MIT */
/* decode.h - tokens of a record (mptok.h) -> pl_record pieces.
 *
 * Every function consumes one subtree from the cursor, returns 0 or a negative
 * pl_status, and never trusts a type: an element of the wrong msgpack type is
 * -PL_ECORRUPT. Memory comes from a per-record arena that the reader sizes from the
 * record's token count and byte size before decoding it, so decoding a record never
 * allocates (only the header, once per file, and names go to the heap).
 */
#ifndef PL_DECODE_H
#define PL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <perflog/reader.h>

#include "mptok.h"

/* Scratch memory for one record's views; reset per record. */
struct pl_arena {
	uint8_t *buf;
	size_t len, cap;
};

/* Bytes of arena that decoding a record of @size bytes and @ntok tokens can use, at
 * most: a pl_kv or pl_value (plus alignment) per token, and its strings with NULs. */
static inline size_t pl_arena_bound(size_t size, uint32_t ntok)
{
	return size + (size_t)ntok * (sizeof(struct pl_kv) + sizeof(pl_value) + 16) + 64;
}

int pl_arena_grow(struct pl_arena *a, size_t need);

/* Empty the arena and make room for @need bytes. Returns 0 or -PL_ENOMEM. In line: it
 * runs for every record, and almost always has the room. */
static inline int pl_arena_reset(struct pl_arena *a, size_t need)
{
	a->len = 0;
	return __builtin_expect(need <= a->cap, 1) ? 0 : pl_arena_grow(a, need);
}
void pl_arena_free(struct pl_arena *a);

/* @n bytes (8-aligned) of the room pl_arena_reset() made: this cannot fail. */
static inline void *pl_arena_alloc(struct pl_arena *a, size_t n)
{
	void *p = a->buf + a->len;
	a->len += (n + 7) & ~(size_t)7;
	return p;
}

/* Name table of one file: number -> NUL-terminated text. */
struct pl_strtab {
	uint32_t *off;	/* by number: offset into text + 1; 0 = undefined */
	uint32_t *lens; /* by number: the text's length (a field's key_len without strlen) */
	uint32_t cap;	/* entries in off and lens */
	char *text;
	size_t len, text_cap;
};

/* Define the name whose number and text are the cursor's next two subtrees. */
int pl_strtab_define(struct pl_strtab *t, struct pl_tcur *c);
/* The text of @id, or NULL if undefined. */
const char *pl_strtab_get(const struct pl_strtab *t, uint64_t id);
void pl_strtab_free(struct pl_strtab *t);

/* pl_strtab_get() in line, with the text's length in *@len. */
static inline const char *pl_strtab_lookup(const struct pl_strtab *t, uint64_t id, size_t *len)
{
	if (id == 0) {
		*len = 0;
		return "";
	}
	if (id >= t->cap || t->off[id] == 0)
		return NULL;
	*len = t->lens[id];
	return t->text + t->off[id] - 1;
}

/* A NUL-terminated copy of a str. */
int pl_dec_cstr(struct pl_arena *a, struct pl_tcur *c, const char **out);
/* A level array. */
int pl_dec_level(struct pl_arena *a, struct pl_tcur *c, const uint32_t **level, uint32_t *depth);
/* A fields map {name number: value} (or nil) with names resolved through @names. */
int pl_dec_fields(struct pl_arena *a, const struct pl_strtab *names, struct pl_tcur *c,
		  const struct pl_kv **fields, size_t *n);
/* A STATS map {str: scalar}. */
int pl_dec_str_map(struct pl_arena *a, struct pl_tcur *c, const struct pl_kv **fields, size_t *n);

/* The HEADER map into @h, with strings copied into one malloc'ed block *@store. */
int pl_dec_header(struct pl_tcur *c, struct pl_trace_header *h, char **store);

#endif /* PL_DECODE_H */
