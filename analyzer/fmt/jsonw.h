/* SPDX-License-Identifier: MIT */
/* jsonw.h - a streaming JSON writer: values go straight to a FILE, with commas, indentation
 * and string escaping handled here so that callers cannot produce invalid JSON.
 *
 * Strings are written as valid JSON whatever the bytes: '"', '\\' and control characters
 * are escaped, and bytes that are not well-formed UTF-8 become U+FFFD. Non-finite doubles
 * become null. Nesting deeper than PF_JSON_MAX_DEPTH is a programming error (asserted).
 */
#ifndef PERFAN_JSONW_H
#define PERFAN_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PF_JSON_MAX_DEPTH 160

struct pf_json {
	FILE *f;
	int depth;
	bool pretty;
	bool after_key;			  /* the next value completes a "key": pair */
	bool nonempty[PF_JSON_MAX_DEPTH]; /* the container at each depth has a member */
};

/** pf_json_init() - write to @f; @pretty indents by two spaces per level. */
void pf_json_init(struct pf_json *j, FILE *f, bool pretty);

void pf_json_object_begin(struct pf_json *j);
void pf_json_object_end(struct pf_json *j);
void pf_json_array_begin(struct pf_json *j);
void pf_json_array_end(struct pf_json *j);

/** pf_json_keyn() - the key of the next member of the current object, @len bytes (it
 * need not be NUL-terminated). */
void pf_json_keyn(struct pf_json *j, const char *key, size_t len);

/** pf_json_key() - as pf_json_keyn(), of a NUL-terminated key. In line, so that a literal
 * key's length is known when compiling (a strlen per key was a tenth of an export). */
static inline void pf_json_key(struct pf_json *j, const char *key)
{
	pf_json_keyn(j, key, strlen(key));
}

void pf_json_str(struct pf_json *j, const char *s); /* NULL writes null */
void pf_json_strn(struct pf_json *j, const char *s, size_t len);
void pf_json_int(struct pf_json *j, int64_t v);
void pf_json_uint(struct pf_json *j, uint64_t v);
void pf_json_double(struct pf_json *j, double v);
void pf_json_bool(struct pf_json *j, bool v);
void pf_json_null(struct pf_json *j);
/** pf_json_milli() - @v thousandths as an exact decimal: 1234 gives 1.234 (ns as µs). */
void pf_json_milli(struct pf_json *j, int64_t v);
/** pf_json_int_str() - @v as a string of its decimal digits (protobuf's JSON form of a
 * 64-bit integer). */
void pf_json_int_str(struct pf_json *j, int64_t v);
/** pf_json_uint_str() - as pf_json_int_str(), unsigned. */
void pf_json_uint_str(struct pf_json *j, uint64_t v);
/** pf_json_hex() - a string of the 16 lowercase hex digits of each of @w[0..@n) (n <= 4):
 * ids of trace formats. */
void pf_json_hex(struct pf_json *j, const uint64_t *w, size_t n);
/** pf_json_real() - as pf_json_double(), always with a "." or an exponent (1.0, not 1). */
void pf_json_real(struct pf_json *j, double v);

/** pf_json_finish() - end the document with a newline. Returns: 0, or -1 on a write error. */
int pf_json_finish(struct pf_json *j);

#endif /* PERFAN_JSONW_H */
