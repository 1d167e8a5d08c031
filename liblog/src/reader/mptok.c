/* SPDX-License-Identifier: MIT */
/* mptok.c - msgpack-c's unpack template instantiated with callbacks that append tokens
 * (see mptok.h for why). */
#include <stdlib.h>

#include <perflog/status.h>

#include "../common/config.h"
#include "mptok.h"

/* The template's container stack is its nesting limit (start_container refuses to open
 * one more): ours, not msgpack-c's default of 32. Must be set before unpack_define.h. */
#define MSGPACK_EMBED_STACK_SIZE PL_READ_MAX_NESTING
#include <msgpack/unpack.h> /* enum msgpack_unpack_return */
#include <msgpack/unpack_define.h>

#if MSGPACK_EMBED_STACK_SIZE != PL_READ_MAX_NESTING
#error "msgpack/unpack_define.h was included before mptok.c could set the nesting limit"
#endif

/* One run of the template: a cursor into the token list rather than an index, so that
 * appending a token is a compare and three stores (this is the innermost loop of reading). */
struct tok_run {
	struct pl_tok *cur, *end;
	struct pl_mptok *t;
	uint32_t items; /* container elements so far (a map entry counts twice) */
	int err;	/* why a callback refused: -PL_ELIMIT or -PL_ENOMEM */
};
typedef struct tok_run tok_user;
typedef uint32_t tok_ref; /* the template's "object": unused, the tokens are the output */

static __attribute__((noinline)) int grow(struct tok_run *u)
{
	struct pl_mptok *t = u->t;
	size_t at = (size_t)(u->cur - t->tok);
	uint32_t cap = t->cap * 2;
	struct pl_tok *tok = realloc(t->tok, (size_t)cap * sizeof(*tok));
	if (!tok) {
		u->err = -PL_ENOMEM;
		return -1;
	}
	t->tok = tok;
	t->cap = cap;
	u->cur = tok + at;
	u->end = tok + cap;
	return 0;
}

/* Append one token; -1 (and u->err) when memory runs out. The list cannot outgrow the
 * item cap plus one: every token but the root is a counted container element. */
static inline int push(struct tok_run *u, uint32_t type, uint32_t n, uint64_t v)
{
	if (__builtin_expect(u->cur == u->end, 0) && grow(u) < 0)
		return -1;
	struct pl_tok *k = u->cur++;
	k->type = type;
	k->n = n;
	k->v.u = v;
	return 0;
}

static inline int count(struct tok_run *u, uint64_t items)
{
	if (u->items + items > 2u * PL_READ_MAX_ITEMS) {
		u->err = -PL_ELIMIT;
		return -1;
	}
	u->items += (uint32_t)items;
	return 0;
}

#define CB(name) static inline int tok_cb##name
#define UINT_CB(name, ctype)                                                                       \
	CB(name)(tok_user * u, ctype d, tok_ref * o)                                               \
	{                                                                                          \
		*o = 0;                                                                            \
		return push(u, PL_T_UINT, 0, (uint64_t)d);                                         \
	}
#define INT_CB(name, ctype)                                                                        \
	CB(name)(tok_user * u, ctype d, tok_ref * o)                                               \
	{                                                                                          \
		*o = 0;                                                                            \
		return push(u, d < 0 ? PL_T_INT : PL_T_UINT, 0, (uint64_t)(int64_t)d);             \
	}

static inline tok_ref tok_cb_root(tok_user *u)
{
	(void)u;
	return 0;
}
UINT_CB(_uint8, uint8_t)
UINT_CB(_uint16, uint16_t)
UINT_CB(_uint32, uint32_t)
UINT_CB(_uint64, uint64_t)
INT_CB(_int8, int8_t)
INT_CB(_int16, int16_t)
INT_CB(_int32, int32_t)
INT_CB(_int64, int64_t)

CB(_float)(tok_user *u, float d, tok_ref *o)
{
	*o = 0;
	union {
		double f;
		uint64_t u;
	} x = {.f = d};
	return push(u, PL_T_FLOAT, 0, x.u);
}

CB(_double)(tok_user *u, double d, tok_ref *o)
{
	*o = 0;
	union {
		double f;
		uint64_t u;
	} x = {.f = d};
	return push(u, PL_T_FLOAT, 0, x.u);
}

CB(_nil)(tok_user *u, tok_ref *o)
{
	*o = 0;
	return push(u, PL_T_NIL, 0, 0);
}

CB(_true)(tok_user *u, tok_ref *o)
{
	*o = 0;
	return push(u, PL_T_BOOL, 0, 1);
}

CB(_false)(tok_user *u, tok_ref *o)
{
	*o = 0;
	return push(u, PL_T_BOOL, 0, 0);
}

CB(_array)(tok_user *u, unsigned int n, tok_ref *o)
{
	*o = 0;
	return count(u, n) < 0 ? -1 : push(u, PL_T_ARRAY, n, 0);
}

CB(_array_item)(tok_user *u, tok_ref *c, tok_ref o)
{
	(void)u, (void)c, (void)o;
	return 0;
}

CB(_map)(tok_user *u, unsigned int n, tok_ref *o)
{
	*o = 0;
	return count(u, 2 * (uint64_t)n) < 0 ? -1 : push(u, PL_T_MAP, n, 0);
}

CB(_map_item)(tok_user *u, tok_ref *c, tok_ref k, tok_ref v)
{
	(void)u, (void)c, (void)k, (void)v;
	return 0;
}

static inline int push_ptr(tok_user *u, uint32_t type, const char *p, unsigned int l)
{
	if (push(u, type, l, 0) < 0)
		return -1;
	/* The template leaves p NULL (or stale) for an empty str/bin: views never are. */
	u->cur[-1].v.p = l ? p : "";
	return 0;
}

CB(_str)(tok_user *u, const char *b, const char *p, unsigned int l, tok_ref *o)
{
	(void)b;
	*o = 0;
	return push_ptr(u, PL_T_STR, p, l);
}

CB(_bin)(tok_user *u, const char *b, const char *p, unsigned int l, tok_ref *o)
{
	(void)b;
	*o = 0;
	return push_ptr(u, PL_T_BIN, p, l);
}

CB(_ext)(tok_user *u, const char *b, const char *p, unsigned int l, tok_ref *o)
{
	(void)u, (void)b, (void)p, (void)l, (void)o;
	return -1; /* the format has no ext types: corrupt */
}

#define msgpack_unpack_struct(name)    struct pl_mptok_tpl##name
#define msgpack_unpack_func(ret, name) static ret pl_mptok_tpl##name
#define msgpack_unpack_callback(name)  tok_cb##name
#define msgpack_unpack_object	       tok_ref
#define msgpack_unpack_user	       tok_user

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wpedantic" /* case ranges */
#include <msgpack/unpack_template.h>
#pragma GCC diagnostic pop

void pl_mptok_free(struct pl_mptok *t)
{
	free(t->tok);
	*t = (struct pl_mptok){0};
}

int pl_mptok_object(struct pl_mptok *t, const uint8_t *p, size_t len, size_t *size)
{
	if (!t->tok) {
		if (!(t->tok = malloc(64 * sizeof(*t->tok))))
			return -PL_ENOMEM;
		t->cap = 64;
	}
	struct pl_mptok_tpl_context ctx;
	ctx.user = (struct tok_run){t->tok, t->tok + t->cap, t, 0, 0};
	pl_mptok_tpl_init(&ctx);
	size_t off = 0;
	int ret = pl_mptok_tpl_execute(&ctx, (const char *)p, len, &off);
	t->n = (uint32_t)(ctx.user.cur - t->tok); /* t->tok may have been reallocated */
	if (ret > 0) {
		*size = off;
		return 0;
	}
	if (ret == 0)
		return -PL_ETRUNCATED;
	if (ret == MSGPACK_UNPACK_NOMEM_ERROR && !ctx.user.err)
		return -PL_ELIMIT; /* the template's stack: nested too deep */
	return ctx.user.err ? ctx.user.err : -PL_ECORRUPT;
}

bool pl_tcur_skip(struct pl_tcur *c)
{
	if (c->i >= c->end)
		return false;
	/* Pre-order: a subtree is its first token and, recursively, its elements'. */
	uint64_t pending = 1;
	while (pending && c->i < c->end) {
		const struct pl_tok *k = &c->t[c->i++];
		pending--;
		if (k->type == PL_T_ARRAY)
			pending += k->n;
		else if (k->type == PL_T_MAP)
			pending += 2 * (uint64_t)k->n;
	}
	return true;
}
