/* SPDX-License-Identifier: MIT */
/* fields.h - field values (inputs, outputs) kept after their record is gone.
 *
 * liblog's records are views valid until the next record, so the fields perfan shows
 * later (the START fields of the slowest calls) are packed into a small owned byte
 * string: at most PF_FIELDS_MAX bytes per action, strings and bytes cut at
 * PF_FIELD_STR_MAX bytes (on a UTF-8 boundary, marked as cut). What does not fit is
 * dropped and marked, so that memory per kept action is bounded whatever the trace holds.
 */
#ifndef PERFAN_FIELDS_H
#define PERFAN_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <perflog/value.h>

#include "fmt/jsonw.h"

/** Bytes kept per action for its fields. */
#define PF_FIELDS_MAX 480
/** Bytes kept of one string or bytes value. */
#define PF_FIELD_STR_MAX 96

/**
 * pf_fields_pack() - pack @n fields into @buf (@cap bytes, at least 8).
 * Returns: bytes used (fields that do not fit are left out, with a mark).
 */
size_t pf_fields_pack(uint8_t *buf, size_t cap, const struct pl_kv *kv, size_t n);

/**
 * pf_fields_text() - packed fields as text: `name=value name2="text"`, strings quoted with
 * C escapes, cut values ending in "…". Returns: a malloc'd string ("" when empty), or NULL
 * when out of memory.
 */
char *pf_fields_text(const uint8_t *buf, size_t len);

/** pf_fields_json() - packed fields as a JSON object (cut strings end in "…"). */
void pf_fields_json(struct pf_json *j, const uint8_t *buf, size_t len);

/**
 * pf_fields_otlp() - packed fields as OTLP/JSON attributes: one KeyValue object
 * ({"key": PREFIX NAME, "value": AnyValue}) per field, written into an array the caller
 * opened. Integers are decimal strings (protobuf's JSON mapping of int64), unsigned values
 * past int64 strings, arrays and maps arrayValue and kvlistValue, bytes "<N bytes>".
 */
void pf_fields_otlp(struct pf_json *j, const uint8_t *buf, size_t len, const char *prefix);

enum pf_field_kind {
	PF_FIELD_NIL,
	PF_FIELD_BOOL,
	PF_FIELD_INT,
	PF_FIELD_UINT,
	PF_FIELD_FLOAT,
	PF_FIELD_STR,
	PF_FIELD_BYTES,
	PF_FIELD_ARRAY,
	PF_FIELD_MAP,
};

/** struct pf_field - one packed field, as pf_fields_next() shows it (views into the buffer). */
struct pf_field {
	const char *key;
	size_t key_len;
	enum pf_field_kind kind;
	bool b;	       /* BOOL */
	int64_t i;     /* INT */
	uint64_t u;    /* UINT */
	double f;      /* FLOAT */
	const char *s; /* STR: the kept bytes (at most PF_FIELD_STR_MAX) */
	size_t s_len;
	bool cut;	   /* STR: longer than what was kept */
	uint64_t orig_len; /* STR, BYTES: the length in the trace */
};

struct pf_fields_iter {
	const uint8_t *p;
	size_t len, pos;
};

/**
 * pf_fields_next() - the next field of a packed buffer; start with {buf, len, 0}.
 * Returns: true with *@f set, false at the end (or at the mark of dropped fields).
 */
bool pf_fields_next(struct pf_fields_iter *it, struct pf_field *f);

#endif /* PERFAN_FIELDS_H */
