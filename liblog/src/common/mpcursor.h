/* SPDX-License-Identifier: MIT */
/* mpcursor.h - msgpack-c's packing template, instantiated to write into memory already
 * known to be large enough: pl_mp_int64(&cur, v), pl_mp_str(&cur, n), ...
 *
 * Why: the ready-made msgpack_packer calls a write callback through a pointer for every
 * 1-9 byte token; on the hot path and in the flusher that call (and msgpack_sbuffer's
 * capacity check) cost more than the token. msgpack-c's pack_template.h is meant to be
 * instantiated with another sink (pack.h does exactly this for msgpack_packer), so here
 * the sink is a cursor and every token compiles to a few stores. Callers bound the size
 * first (a record's msgpack is never much larger than its staged form).
 */
#ifndef PL_MPCURSOR_H
#define PL_MPCURSOR_H

#include <msgpack.h>
#include <stdint.h>
#include <string.h>

struct pl_mpcursor {
	uint8_t *p;
};

static inline __attribute__((always_inline)) void pl_mp_put(struct pl_mpcursor *c, const void *buf,
							    size_t len)
{
	memcpy(c->p, buf, len);
	c->p += len;
}

#define msgpack_pack_inline_func(name)                                                             \
	static inline __attribute__((always_inline, unused)) int pl_mp##name
#define msgpack_pack_inline_func_cint(name)                                                        \
	static inline __attribute__((always_inline, unused)) int pl_mp##name
#define msgpack_pack_user			   struct pl_mpcursor *
#define msgpack_pack_append_buffer(user, buf, len) return (pl_mp_put((user), (buf), (len)), 0)
#define msgpack_pack_ext(x, l, t)		   pl_mp_ext((x), (l), (t))
#include <msgpack/pack_template.h>
#undef msgpack_pack_ext
#ifdef msgpack_pack_inline_func_cint
#undef msgpack_pack_inline_func_cint
#endif

/* pack.h's conveniences, for the cursor. */
static inline __attribute__((always_inline, unused)) void
pl_mp_str_with_body(struct pl_mpcursor *c, const void *b, size_t l)
{
	pl_mp_str(c, l);
	pl_mp_str_body(c, b, l);
}

static inline __attribute__((always_inline, unused)) void
pl_mp_bin_with_body(struct pl_mpcursor *c, const void *b, size_t l)
{
	pl_mp_bin(c, l);
	pl_mp_bin_body(c, b, l);
}

#endif /* PL_MPCURSOR_H */
