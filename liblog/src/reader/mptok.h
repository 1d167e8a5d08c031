/* SPDX-License-Identifier: MIT */
/* mptok.h - one msgpack object as a flat list of tokens, by msgpack-c's own unpacker.
 *
 * msgpack-c's object unpacker (msgpack_unpack) builds a tree of msgpack_object in a
 * zone, allocating each array and map from the count in its header: a hostile count
 * drives a huge allocation, and the generic tree costs ~90 ns for a 9-element record.
 * Its unpack_template.h is meant to be instantiated with other callbacks (unpack.c does
 * exactly that to build msgpack_object); here the callbacks append tokens in pre-order
 * (a container's token comes before its elements), so:
 *   - nothing is allocated from a count: the token list grows only as elements are
 *     actually read, and the container elements of one record are capped at
 *     2 * PL_READ_MAX_ITEMS (a map entry counts twice), the nesting at
 *     PL_READ_MAX_NESTING (docs/format.md section 3);
 *   - strings are views into the input (no copy; an empty one points at "", never NULL).
 * The reader then walks the tokens with a cursor (struct pl_tcur).
 */
#ifndef PL_MPTOK_H
#define PL_MPTOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pl_tok_type {
	PL_T_NIL,
	PL_T_BOOL,  /* v.u is 0 or 1 */
	PL_T_UINT,  /* any non-negative integer, whatever its encoding */
	PL_T_INT,   /* a negative integer */
	PL_T_FLOAT, /* float32 widened, or float64 */
	PL_T_STR,   /* v.p, n bytes, not NUL-terminated */
	PL_T_BIN,   /* v.p, n bytes */
	PL_T_ARRAY, /* n elements follow (each a whole subtree) */
	PL_T_MAP,   /* n key/value pairs follow: key subtree, value subtree, ... */
};

struct pl_tok {
	uint32_t type; /* enum pl_tok_type */
	uint32_t n;    /* STR/BIN: bytes; ARRAY: elements; MAP: pairs */
	union {
		uint64_t u;
		int64_t i;
		double f;
		const char *p;
	} v;
};

/* A token list, reused from record to record. */
struct pl_mptok {
	struct pl_tok *tok;
	uint32_t n, cap;
};

/* Free the token list (a zeroed struct pl_mptok is a valid empty one). */
void pl_mptok_free(struct pl_mptok *t);

/* Tokenize the object at @p (at most @len bytes) into @t, replacing its tokens.
 * Returns 0 and the object's size in *@size; -PL_ETRUNCATED if it runs past @len;
 * -PL_ELIMIT beyond the limits above; -PL_ECORRUPT for bytes that are not msgpack or a
 * (whole) ext value, a type the format does not use; -PL_ENOMEM. */
int pl_mptok_object(struct pl_mptok *t, const uint8_t *p, size_t len, size_t *size);

/* A cursor over the subtrees of a token list: each pl_tcur_* call consumes one whole
 * subtree (an element of a record, say) and fails without consuming when its type is
 * wrong. */
struct pl_tcur {
	const struct pl_tok *t;
	uint32_t i, end;
};

/* The next subtree's first token, or NULL at the end. */
static inline const struct pl_tok *pl_tcur_peek(const struct pl_tcur *c)
{
	return c->i < c->end ? &c->t[c->i] : NULL;
}

/* Skip the next subtree, whatever it is. Returns false at the end. */
bool pl_tcur_skip(struct pl_tcur *c);

/* The next subtree as an unsigned integer; false (nothing consumed) if it is not one. */
static inline bool pl_tcur_u64(struct pl_tcur *c, uint64_t *out)
{
	if (c->i >= c->end || c->t[c->i].type != PL_T_UINT)
		return false;
	*out = c->t[c->i++].v.u;
	return true;
}

/* The next subtree as a signed integer (negative, or non-negative up to INT64_MAX). */
static inline bool pl_tcur_i64(struct pl_tcur *c, int64_t *out)
{
	if (c->i >= c->end)
		return false;
	const struct pl_tok *k = &c->t[c->i];
	if (k->type == PL_T_INT || (k->type == PL_T_UINT && k->v.u <= (uint64_t)INT64_MAX)) {
		*out = k->v.i;
		c->i++;
		return true;
	}
	return false;
}

/* The next subtree if its first token has type @type (a container's elements follow
 * it: the cursor stops right after the container's own token). NULL otherwise. */
static inline const struct pl_tok *pl_tcur_take(struct pl_tcur *c, enum pl_tok_type type)
{
	if (c->i >= c->end || c->t[c->i].type != type)
		return NULL;
	return &c->t[c->i++];
}

#endif /* PL_MPTOK_H */
