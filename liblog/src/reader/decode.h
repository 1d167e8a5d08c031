/* decode.h - msgpack objects (already structure-checked) -> pl_record pieces.
 *
 * Every function returns 0 or a negative pl_status and never trusts a type: a field of
 * the wrong msgpack type is -PL_ECORRUPT. Memory comes from @zone, which the reader
 * clears before the next record.
 */
#ifndef PL_DECODE_H
#define PL_DECODE_H

#include <msgpack.h>
#include <stdint.h>

#include <perflog/reader.h>

/* Name table of one file: number -> NUL-terminated text. */
struct pl_strtab {
	uint32_t *off;   /* by number: offset into text + 1; 0 = undefined */
	uint32_t cap;    /* entries in off */
	char *text;
	size_t len, text_cap;
};

int pl_strtab_define(struct pl_strtab *t, const msgpack_object *id, const msgpack_object *str);
/* The text of @id, or NULL if undefined. */
const char *pl_strtab_get(const struct pl_strtab *t, uint64_t id);
void pl_strtab_free(struct pl_strtab *t);

int pl_dec_u64(const msgpack_object *o, uint64_t *out);
int pl_dec_i64(const msgpack_object *o, int64_t *out);
/* A NUL-terminated copy of a str object in @zone. */
int pl_dec_cstr(msgpack_zone *zone, const msgpack_object *o, const char **out);
/* A level array. */
int pl_dec_level(msgpack_zone *zone, const msgpack_object *o, const uint32_t **level,
		 uint32_t *depth);
/* A fields map {name number: value} (or nil) with names resolved through @names. */
int pl_dec_fields(msgpack_zone *zone, const struct pl_strtab *names, const msgpack_object *o,
		  const struct pl_kv **fields, size_t *n);
/* A STATS map {str: uint}. */
int pl_dec_str_map(msgpack_zone *zone, const msgpack_object *o, const struct pl_kv **fields,
		   size_t *n);

/* The HEADER map into @h, with strings copied into one malloc'ed block *@store. */
int pl_dec_header(const msgpack_object *map, struct pl_trace_header *h, char **store);

#endif /* PL_DECODE_H */
