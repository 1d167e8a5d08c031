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

#include <stddef.h>
#include <stdint.h>

#include <perflog/value.h>

#include "jsonw.h"

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

#endif /* PERFAN_FIELDS_H */
