/* SPDX-License-Identifier: MIT */
/* abi.h - the size-prefixed structs of the public API (docs/c-api.md, "Structs that
 * grow"). A caller compiled against an older header passes a smaller @size, one compiled
 * against a newer header a larger one; both keep working with this library.
 */
#ifndef PL_ABI_H
#define PL_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The size of @type up to and including @member: the size of the struct as a release
 * that ended with @member laid it out (without trailing padding). */
#define PL_SIZE_TO(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/**
 * pl_abi_copy_in() - take a caller's struct of @src_size bytes into @dst (this library's
 * layout, @dst_size bytes, already holding the defaults of members the caller may not
 * know). Returns: 0; -1 if @src_size is below @min_size (older than the first release of
 * the struct) or if a byte past @dst_size is nonzero (the caller set a member this
 * library does not have: silently ignoring it would change what the caller asked for).
 */
static inline int pl_abi_copy_in(void *dst, size_t dst_size, const void *src, size_t src_size,
				 size_t min_size)
{
	if (src_size < min_size)
		return -1;
	for (size_t i = dst_size; i < src_size; i++)
		if (((const unsigned char *)src)[i])
			return -1;
	memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
	return 0;
}

/**
 * pl_abi_copy_out() - give a caller's struct @dst the first bytes of @src (this library's
 * layout, @src_size bytes) that fit in it. Both begin with the uint32_t size: @dst's says
 * how big the caller's struct is, and is set to the bytes filled, so that the caller can
 * tell which members hold values. Nothing past the caller's size is written.
 */
static inline void pl_abi_copy_out(void *dst, const void *src, size_t src_size)
{
	uint32_t size;
	memcpy(&size, dst, sizeof(size));
	size_t n = size < src_size ? size : src_size;
	memcpy(dst, src, n);
	size = (uint32_t)n;
	memcpy(dst, &size, sizeof(size));
}

#endif /* PL_ABI_H */
