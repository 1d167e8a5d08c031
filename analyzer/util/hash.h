/* SPDX-License-Identifier: MIT */
/* util/hash.h - the analyzer's hash functions, one of each kind: FNV-1a for text (short
 * names and values), and MurmurHash3's 64-bit finalizer to mix integers (task ids, level
 * paths). For hash tables and bitmaps inside one run: never written anywhere (the OTLP
 * export's span ids are liblog's pl_span_id()).
 */
#ifndef PERFAN_UTIL_HASH_H
#define PERFAN_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/** The golden ratio in 64 bits: spreads consecutive integers before mixing. */
#define PF_HASH_GOLDEN 0x9e3779b97f4a7c15ull

/** pf_hash_mix() - every bit of @h affects every bit of the result (fmix64). */
static inline uint64_t pf_hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/** pf_hash_task() - a task id (prefix, seq). */
static inline uint64_t pf_hash_task(uint64_t prefix, uint64_t seq)
{
	return pf_hash_mix(prefix ^ pf_hash_mix(seq + PF_HASH_GOLDEN));
}

/** pf_hash_bytes() - FNV-1a of @n bytes at @p, its basis xor'ed with @seed. */
static inline uint64_t pf_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

#endif /* PERFAN_UTIL_HASH_H */
