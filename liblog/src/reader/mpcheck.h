/* mpcheck.h - structural check of one msgpack object before msgpack-c decodes it.
 *
 * msgpack-c allocates memory for an array or map from the count in its header before
 * reading the elements, so a hostile count would drive a huge allocation. This check
 * walks the object's headers only (no decoding), refusing counts that the remaining
 * bytes cannot hold or that exceed fixed limits, and nesting beyond a fixed depth.
 */
#ifndef PL_MPCHECK_H
#define PL_MPCHECK_H

#include <stddef.h>
#include <stdint.h>

/* Check the object at @p (at most @len bytes). Returns 0 and its size in *@size;
 * -PL_ETRUNCATED if it runs past @len; -PL_ELIMIT or -PL_ECORRUPT otherwise. */
int pl_mp_check(const uint8_t *p, size_t len, size_t *size);

#endif /* PL_MPCHECK_H */
