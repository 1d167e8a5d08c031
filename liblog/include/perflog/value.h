/* SPDX-License-Identifier: MIT */
/* perflog/value.h - typed field values attached to actions and messages.
 *
 * pl_value is a transparent tagged union. Values passed to the writer are
 * borrowed for the duration of the call only (the writer copies them); values
 * returned by the reader are borrowed views valid until the next pl_reader_next().
 */
#ifndef PERFLOG_VALUE_H
#define PERFLOG_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Kinds of field value. Values are stable (they are part of the ABI). Since: 0.1 */
enum pl_value_type {
	PL_VALUE_NIL = 0,
	PL_VALUE_BOOL = 1,
	PL_VALUE_INT = 2,   /**< signed 64-bit */
	PL_VALUE_UINT = 3,  /**< unsigned 64-bit (only values above INT64_MAX need it) */
	PL_VALUE_FLOAT = 4, /**< IEEE double */
	PL_VALUE_STR = 5,   /**< UTF-8 text, not NUL-terminated: use .v.str.len */
	PL_VALUE_BYTES = 6, /**< raw bytes */
	PL_VALUE_ARRAY = 7, /**< shallow: items must be scalars (nested containers become nil) */
	PL_VALUE_MAP = 8,   /**< shallow: string keys, scalar values */
};

struct pl_kv;

/** A field value. Build with the PL_V_* helpers below. Since: 0.1 */
typedef struct pl_value {
	enum pl_value_type type;
	union {
		int b;
		int64_t i;
		uint64_t u;
		double f;
		struct {
			const char *ptr;
			size_t len;
		} str; /**< STR and BYTES */
		struct {
			const struct pl_value *items;
			size_t len;
		} array;
		struct {
			const struct pl_kv *items;
			size_t len;
		} map;
	} v;
} pl_value;

/**
 * struct pl_kv - a key/value pair with the key as UTF-8 text: the items of a
 * PL_VALUE_MAP value (written and read), and a record's fields as pl_reader_next() gives
 * them. The writer takes fields as struct pl_field (name.h), whose names are interned.
 */
struct pl_kv {
	const char *key;
	size_t key_len;
	pl_value value;
};

/**
 * pl_utf8_cut() - the length of the longest prefix of @s (@len bytes of UTF-8) that is at
 * most @max bytes and does not end inside a character: @len when it fits. For cutting text
 * to a size (liblog cuts exception texts so; perfan and the Python extension cut values).
 * Invalid UTF-8 is cut at @max, less any trailing continuation bytes. Since: 0.2
 */
size_t pl_utf8_cut(const char *s, size_t len, size_t max);

/* Compound-literal constructors: cheap, usable as function arguments. */
#define PL_V_NIL()	((pl_value){.type = PL_VALUE_NIL})
#define PL_V_BOOL(x)	((pl_value){.type = PL_VALUE_BOOL, .v = {.b = !!(x)}})
#define PL_V_INT(x)	((pl_value){.type = PL_VALUE_INT, .v = {.i = (int64_t)(x)}})
#define PL_V_UINT(x)	((pl_value){.type = PL_VALUE_UINT, .v = {.u = (uint64_t)(x)}})
#define PL_V_FLOAT(x)	((pl_value){.type = PL_VALUE_FLOAT, .v = {.f = (double)(x)}})
#define PL_V_STR(s)	((pl_value){.type = PL_VALUE_STR, .v = {.str = {(s), strlen(s)}}})
#define PL_V_STRN(p, n) ((pl_value){.type = PL_VALUE_STR, .v = {.str = {(p), (n)}}})
#define PL_V_BYTES(p, n)                                                                           \
	((pl_value){.type = PL_VALUE_BYTES, .v = {.str = {(const char *)(p), (n)}}})
#define PL_V_ARRAY(p, n) ((pl_value){.type = PL_VALUE_ARRAY, .v = {.array = {(p), (n)}}})
#define PL_V_MAP(p, n)	 ((pl_value){.type = PL_VALUE_MAP, .v = {.map = {(p), (n)}}})

#ifdef __cplusplus
}
#endif
#endif /* PERFLOG_VALUE_H */
