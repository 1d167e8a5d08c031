/* SPDX-License-Identifier: MIT */
/* util/grow.h - growable arrays: the one way perfan makes room for one more element. */
#ifndef PERFAN_UTIL_GROW_H
#define PERFAN_UTIL_GROW_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The capacity after @cap when element @need must fit: doubled (from @first). */
static inline size_t pf_grow_cap(size_t cap, size_t need, size_t first)
{
	size_t c = cap ? 2 * cap : first;
	while (c <= need)
		c *= 2;
	return c;
}

/**
 * PF_GROW() - make room for element @need of @arr, an array of @cap elements (realloc'ed,
 * doubling from @first). @arr and @cap are lvalues (e.g. t->items, t->cap), updated only
 * on success. Evaluates to 0, or -1 when out of memory (@arr still valid, unchanged).
 */
#define PF_GROW(arr, cap, need, first)                                                             \
	__extension__({                                                                            \
		int pf_ret_ = 0;                                                                   \
		if ((size_t)(need) >= (size_t)(cap)) {                                             \
			size_t pf_c_ = pf_grow_cap((cap), (need), (first));                        \
			__typeof__(arr) pf_p_ = realloc((arr), pf_c_ * sizeof(*(arr)));            \
			if (pf_p_) {                                                               \
				(arr) = pf_p_;                                                     \
				(cap) = pf_c_;                                                     \
			} else {                                                                   \
				pf_ret_ = -1;                                                      \
			}                                                                          \
		}                                                                                  \
		pf_ret_;                                                                           \
	})

/**
 * PF_GROW_ZEROED() - as PF_GROW(), for an array indexed by a number (a type's): room for
 * element @need, the new elements zeroed. @n, the element count, is a uint32_t lvalue.
 * Evaluates to 0, or -1 when out of memory (@arr still valid, unchanged).
 */
#define PF_GROW_ZEROED(arr, n, need, first)                                                        \
	__extension__({                                                                            \
		int pf_ret_ = 0;                                                                   \
		if ((uint32_t)(need) >= (n)) {                                                     \
			uint32_t pf_c_ = (n) ? (n) : (first);                                      \
			while (pf_c_ <= (uint32_t)(need))                                          \
				pf_c_ *= 2;                                                        \
			__typeof__(arr) pf_p_ = realloc((arr), pf_c_ * sizeof(*(arr)));            \
			if (pf_p_) {                                                               \
				memset(pf_p_ + (n), 0, (pf_c_ - (n)) * sizeof(*(arr)));            \
				(arr) = pf_p_;                                                     \
				(n) = pf_c_;                                                       \
			} else {                                                                   \
				pf_ret_ = -1;                                                      \
			}                                                                          \
		}                                                                                  \
		pf_ret_;                                                                           \
	})

#endif /* PERFAN_UTIL_GROW_H */
