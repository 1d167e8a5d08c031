/* SPDX-License-Identifier: MIT */
/* leb128.h - the integers of a BLOCK record's columns (format.h): LEB128, 7 bits a byte,
 * low group first, at most 10 bytes; signed ones zigzag-mapped first. The writer puts
 * them into space it has reserved (at most PL_UV_MAX bytes each); the reader takes them
 * from a bounded cursor and refuses anything past its end or longer than 10 bytes. */
#ifndef PL_LEB128_H
#define PL_LEB128_H

#include <stdbool.h>
#include <stdint.h>

#include "macros.h"

#define PL_UV_MAX 10u

/* Write @v at @p (room for PL_UV_MAX bytes); returns the byte after it. */
static inline uint8_t *pl_uv_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint64_t pl_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t pl_unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Read one from *@p (before @end) into *@out and move *@p past it. False, with *@p
 * unchanged, when it runs past @end or over 10 bytes, or its 10th byte holds more than
 * the 64th bit. */
static inline bool pl_uv_get(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *q = *p;
	if (likely(q < end && *q < 0x80)) { /* the usual one-byte case */
		*out = *q;
		*p = q + 1;
		return true;
	}
	uint64_t v = 0;
	for (unsigned shift = 0; q < end && shift < 70; shift += 7) {
		uint8_t b = *q++;
		if (shift == 63 && b > 1)
			return false;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80) {
			*out = v;
			*p = q;
			return true;
		}
	}
	return false;
}

#endif /* PL_LEB128_H */
