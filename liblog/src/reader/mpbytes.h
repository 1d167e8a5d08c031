/* SPDX-License-Identifier: MIT */
/* mpbytes.h - msgpack integers, strings, nil and array/map headers read straight from
 * the bytes: what the reader's fast path (reader.c) needs to decode the format's
 * fixed record layouts without tokenizing them first.
 *
 * Not a msgpack codec: each function accepts the encodings of one kind of value and
 * answers false for anything else (ext types, containers where a scalar is expected,
 * reserved bytes, a length past the end), without consuming; the fast path then leaves
 * the record to the generic path (mptok.c: msgpack-c's unpacker), which decides what
 * is an error. So nothing here reports an error, and a length read from the file is
 * always checked against the bytes present before it is used.
 */
#ifndef PL_MPBYTES_H
#define PL_MPBYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <perflog/value.h>

struct pl_bcur {
	const uint8_t *p, *end;
};

static inline uint64_t pl_b_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* @n more bytes are there. */
static inline bool pl_b_has(const struct pl_bcur *c, size_t n)
{
	return (size_t)(c->end - c->p) >= n;
}

/* An unsigned integer in any of its encodings. */
static inline bool pl_b_u64(struct pl_bcur *c, uint64_t *out)
{
	if (!pl_b_has(c, 1))
		return false;
	uint8_t b = c->p[0];
	if (b <= 0x7f) {
		*out = b;
		c->p++;
		return true;
	}
	if (b < 0xcc || b > 0xcf)
		return false;
	unsigned n = 1u << (b - 0xcc); /* 0xcc..0xcf: uint 8, 16, 32, 64 */
	if (!pl_b_has(c, 1 + n))
		return false;
	*out = pl_b_be(c->p + 1, n);
	c->p += 1 + n;
	return true;
}

/* A signed integer: a negative one, or an unsigned one up to INT64_MAX. */
static inline bool pl_b_i64(struct pl_bcur *c, int64_t *out)
{
	if (!pl_b_has(c, 1))
		return false;
	uint8_t b = c->p[0];
	if (b >= 0xe0) { /* negative fixint */
		*out = (int8_t)b;
		c->p++;
		return true;
	}
	if (b >= 0xd0 && b <= 0xd3) { /* int 8, 16, 32, 64 */
		unsigned n = 1u << (b - 0xd0);
		if (!pl_b_has(c, 1 + n))
			return false;
		uint64_t u = pl_b_be(c->p + 1, n);
		unsigned shift = 64 - 8 * n; /* sign-extend from n bytes */
		*out = (int64_t)(u << shift) >> shift;
		c->p += 1 + n;
		return true;
	}
	struct pl_bcur save = *c;
	uint64_t u;
	if (!pl_b_u64(c, &u))
		return false;
	if (u > (uint64_t)INT64_MAX) {
		*c = save;
		return false;
	}
	*out = (int64_t)u;
	return true;
}

/* The header of an array (fix, 16 or 32): its number of elements. */
static inline bool pl_b_array(struct pl_bcur *c, uint32_t *n)
{
	if (!pl_b_has(c, 1))
		return false;
	uint8_t b = c->p[0];
	if (b >= 0x90 && b <= 0x9f) {
		*n = b & 0x0f;
		c->p++;
		return true;
	}
	unsigned k = b == 0xdc ? 2 : b == 0xdd ? 4 : 0;
	if (!k || !pl_b_has(c, 1 + k))
		return false;
	*n = (uint32_t)pl_b_be(c->p + 1, k);
	c->p += 1 + k;
	return true;
}

/* The header of a fixmap (at most 15 pairs): its number of pairs. */
static inline bool pl_b_fixmap(struct pl_bcur *c, uint32_t *n)
{
	if (!pl_b_has(c, 1) || (c->p[0] & 0xf0) != 0x80)
		return false;
	*n = c->p[0] & 0x0f;
	c->p++;
	return true;
}

static inline bool pl_b_nil(struct pl_bcur *c)
{
	if (!pl_b_has(c, 1) || c->p[0] != 0xc0)
		return false;
	c->p++;
	return true;
}

/* A str or bin of @n bytes (@bin: which) as a view of the bytes. */
static inline bool pl_b_raw(struct pl_bcur *c, const char **p, uint32_t *n, bool *bin)
{
	if (!pl_b_has(c, 1))
		return false;
	uint8_t b = c->p[0];
	unsigned k; /* bytes of the length */
	*bin = false;
	if ((b & 0xe0) == 0xa0) {
		*n = b & 0x1f;
		k = 0;
	} else if (b >= 0xd9 && b <= 0xdb) {
		k = 1u << (b - 0xd9);
	} else if (b >= 0xc4 && b <= 0xc6) {
		k = 1u << (b - 0xc4);
		*bin = true;
	} else {
		return false;
	}
	if (!pl_b_has(c, 1 + k))
		return false;
	if (k)
		*n = (uint32_t)pl_b_be(c->p + 1, k);
	if (!pl_b_has(c, 1 + k + (size_t)*n))
		return false;
	*p = *n ? (const char *)c->p + 1 + k : ""; /* an empty one is "", never NULL */
	c->p += 1 + k + *n;
	return true;
}

/* A str (not bin). */
static inline bool pl_b_str(struct pl_bcur *c, const char **p, uint32_t *n)
{
	struct pl_bcur save = *c;
	bool bin;
	if (!pl_b_raw(c, p, n, &bin))
		return false;
	if (bin) {
		*c = save;
		return false;
	}
	return true;
}

/* A scalar field value, as decode.c's scalar() makes it from tokens: nil, bool, int
 * (unsigned ones above INT64_MAX as uint), float (float32 widened), str, bin. */
static inline bool pl_b_scalar(struct pl_bcur *c, pl_value *v)
{
	if (!pl_b_has(c, 1))
		return false;
	uint8_t b = c->p[0];
	if (b <= 0x7f) { /* the commonest two first: a positive fixint, */
		*v = PL_V_INT(b);
		c->p++;
		return true;
	}
	if ((b & 0xe0) == 0xa0) { /* a fixstr (as pl_b_raw() takes it) */
		uint32_t n = b & 0x1f;
		if (!pl_b_has(c, 1 + (size_t)n))
			return false;
		*v = PL_V_STRN(n ? (const char *)c->p + 1 : "", n);
		c->p += 1 + n;
		return true;
	}
	if (b == 0xc0 || b == 0xc2 || b == 0xc3) {
		*v = b == 0xc0 ? PL_V_NIL() : PL_V_BOOL(b == 0xc3);
		c->p++;
		return true;
	}
	if (b == 0xca || b == 0xcb) {
		unsigned n = b == 0xca ? 4 : 8;
		if (!pl_b_has(c, 1 + n))
			return false;
		uint64_t u = pl_b_be(c->p + 1, n);
		double d;
		if (n == 4) {
			uint32_t u32 = (uint32_t)u;
			float f;
			memcpy(&f, &u32, 4);
			d = f;
		} else {
			memcpy(&d, &u, 8);
		}
		*v = PL_V_FLOAT(d);
		c->p += 1 + n;
		return true;
	}
	int64_t i;
	uint64_t u;
	if (pl_b_i64(c, &i)) {
		*v = PL_V_INT(i);
		return true;
	}
	if (pl_b_u64(c, &u)) { /* above INT64_MAX */
		*v = PL_V_UINT(u);
		return true;
	}
	const char *p;
	uint32_t n;
	bool bin;
	if (!pl_b_raw(c, &p, &n, &bin))
		return false;
	*v = bin ? PL_V_BYTES(p, n) : PL_V_STRN(p, n);
	return true;
}

/* The size of a scalar whose first byte is 0xc0 + i (pl_b_skip_scalar): the whole size
 * for nil, bool, int, uint and float, PL_SCALAR_LEN | k for a str or bin whose length
 * takes the next k bytes, 0 for a byte that starts no scalar. */
#define PL_SCALAR_LEN 0x80
static const uint8_t pl_scalar_size_c0[32] = {
    [0x00] = 1,			/* nil */
    [0x02] = 1,			/* false */
    [0x03] = 1,			/* true */
    [0x04] = PL_SCALAR_LEN | 1, /* bin 8 */
    [0x05] = PL_SCALAR_LEN | 2, /* bin 16 */
    [0x06] = PL_SCALAR_LEN | 4, /* bin 32 */
    [0x0a] = 5,			/* float 32 */
    [0x0b] = 9,			/* float 64 */
    [0x0c] = 2,			/* uint 8 */
    [0x0d] = 3,
    [0x0e] = 5,
    [0x0f] = 9,
    [0x10] = 2, /* int 8 */
    [0x11] = 3,
    [0x12] = 5,
    [0x13] = 9,
    [0x19] = PL_SCALAR_LEN | 1, /* str 8 */
    [0x1a] = PL_SCALAR_LEN | 2, /* str 16 */
    [0x1b] = PL_SCALAR_LEN | 4, /* str 32 */
};

/* Step over one scalar, accepting exactly what pl_b_scalar() accepts (the same bytes
 * must read alike whether a record's fields are kept or skipped) without decoding it:
 * its size from the first byte, bounds checked. */
static inline bool pl_b_skip_scalar(struct pl_bcur *c)
{
	if (!pl_b_has(c, 1))
		return false;
	uint8_t b = c->p[0];
	size_t n;
	if (b <= 0x7f || b >= 0xe0) {
		n = 1; /* fixints */
	} else if (b < 0xc0) {
		if (b < 0xa0)
			return false;	    /* fixmap, fixarray */
		n = 1 + (size_t)(b & 0x1f); /* fixstr */
	} else {
		unsigned t = pl_scalar_size_c0[b - 0xc0];
		if (!t)
			return false;
		n = t;
		if (t & PL_SCALAR_LEN) {
			unsigned k = t & 7;
			if (!pl_b_has(c, 1 + k))
				return false;
			n = 1 + k + (size_t)pl_b_be(c->p + 1, k);
		}
	}
	if (!pl_b_has(c, n))
		return false;
	c->p += n;
	return true;
}

#endif /* PL_MPBYTES_H */
