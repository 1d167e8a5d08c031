/* SPDX-License-Identifier: MIT */
/* names.h - action types interned as small dense numbers, the same across input files.
 *
 * Each file numbers its names in its own way and liblog hands out strings that live only
 * until the next record, so perfan keeps its own table: the per-type statistics are then
 * plain arrays indexed by the number. A small cache keyed by the string's address makes
 * the common case (the same reader handing out the same pointer for the same name) one
 * strcmp() instead of a hash; the strcmp() keeps it right if an address is reused.
 */
#ifndef PERFAN_NAMES_H
#define PERFAN_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define PF_NAME_NONE UINT32_MAX

/* Names (types, thread names, hosts) longer than this many bytes are cut, at a UTF-8
 * character boundary, and end in "…": liblog accepts up to 64 MiB of name text, and every
 * table, JSON document and report page repeats names. Two types alike in their first
 * PF_NAME_MAX bytes are counted as one. */
#define PF_NAME_MAX 256

struct pf_names {
	char **str; /* by number */
	uint32_t n, cap;
	uint32_t *slots;  /* open addressing: number + 1, 0 = empty */
	uint64_t *hashes; /* hash of each slot's string */
	uint32_t nslots;  /* power of two */
	struct {
		const char *ptr;
		uint32_t id;
	} cache[256];
};

void pf_names_init(struct pf_names *t);
void pf_names_destroy(struct pf_names *t);

/**
 * pf_name_dup() - a malloc'ed copy of @s, cut as PF_NAME_MAX says (NULL for NULL, or when
 * out of memory).
 */
char *pf_name_dup(const char *s);

/** pf_names_intern() - the number of @s (cut as PF_NAME_MAX says). Returns: it, or
 * PF_NAME_NONE out of memory. */
uint32_t pf_names_intern(struct pf_names *t, const char *s);

/**
 * pf_names_find() - the number of @s as stored (a name of another table: already cut),
 * without adding it. Returns: it, or PF_NAME_NONE. Constant time.
 */
uint32_t pf_names_find(const struct pf_names *t, const char *s);

/**
 * pf_names_internal() - whether @s is one of perflog's own action types ("perflog:...":
 * remote task roots, thread roots), which the gates leave out unless --type names them.
 */
static inline int pf_names_internal(const char *s)
{
	return s[0] == 'p' && !__builtin_strncmp(s, "perflog:", 8);
}

/** pf_names_str() - the text of number @id ("?" for PF_NAME_NONE). */
static inline const char *pf_names_str(const struct pf_names *t, uint32_t id)
{
	return id < t->n ? t->str[id] : "?";
}

#endif /* PERFAN_NAMES_H */
