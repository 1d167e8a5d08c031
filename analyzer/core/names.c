/* SPDX-License-Identifier: MIT */
/* names.c - the type-name table (see names.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/value.h>

#include "core/names.h"
#include "util/grow.h"
#include "util/hash.h"

void pf_names_init(struct pf_names *t)
{
	memset(t, 0, sizeof(*t));
}

void pf_names_destroy(struct pf_names *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		free(t->str[i]);
	free(t->str);
	free(t->slots);
	free(t->hashes);
	pf_names_init(t);
}

static uint64_t hash_str(const char *s)
{
	return pf_hash_bytes(s, strlen(s), 0); /* FNV-1a: names are short */
}

static int rehash(struct pf_names *t, uint32_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	uint64_t *hashes = calloc(nslots, sizeof(*hashes));
	if (!slots || !hashes) {
		free(slots);
		free(hashes);
		return -1;
	}
	for (uint32_t i = 0; i < t->nslots; i++) {
		if (!t->slots[i])
			continue;
		uint32_t j = (uint32_t)t->hashes[i] & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = t->slots[i];
		hashes[j] = t->hashes[i];
	}
	free(t->slots);
	free(t->hashes);
	t->slots = slots;
	t->hashes = hashes;
	t->nslots = nslots;
	return 0;
}

uint32_t pf_names_find(const struct pf_names *t, const char *s)
{
	if (!t->nslots)
		return PF_NAME_NONE;
	uint64_t h = hash_str(s);
	for (uint32_t j = (uint32_t)h & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1))
		if (t->hashes[j] == h && strcmp(t->str[t->slots[j] - 1], s) == 0)
			return t->slots[j] - 1;
	return PF_NAME_NONE;
}

static uint32_t intern_slow(struct pf_names *t, const char *s)
{
	if (2 * (t->n + 1) > t->nslots && rehash(t, t->nslots ? 2 * t->nslots : 64) < 0)
		return PF_NAME_NONE;
	uint64_t h = hash_str(s);
	uint32_t j = (uint32_t)h & (t->nslots - 1);
	for (; t->slots[j]; j = (j + 1) & (t->nslots - 1))
		if (t->hashes[j] == h && strcmp(t->str[t->slots[j] - 1], s) == 0)
			return t->slots[j] - 1;
	if (PF_GROW(t->str, t->cap, t->n, 64) < 0)
		return PF_NAME_NONE;
	if (!(t->str[t->n] = strdup(s)))
		return PF_NAME_NONE;
	t->slots[j] = t->n + 1;
	t->hashes[j] = h;
	return t->n++;
}

/* Bytes of @s to keep: all of it if at most PF_NAME_MAX, else PF_NAME_MAX or fewer, not
 * splitting a UTF-8 character. */
static size_t cut_len(const char *s, bool *cut)
{
	size_t n = strnlen(s, PF_NAME_MAX + 1);
	*cut = n > PF_NAME_MAX;
	if (!*cut)
		return n;
	return pl_utf8_cut(s, n, PF_NAME_MAX);
}

static const char ELLIPSIS[] = "\xe2\x80\xa6";

char *pf_name_dup(const char *s)
{
	if (!s)
		return NULL;
	bool cut;
	size_t n = cut_len(s, &cut);
	char *d = malloc(n + sizeof(ELLIPSIS));
	if (d) {
		memcpy(d, s, n);
		memcpy(d + n, cut ? ELLIPSIS : "", cut ? sizeof(ELLIPSIS) : 1);
	}
	return d;
}

uint32_t pf_names_intern(struct pf_names *t, const char *s)
{
	size_t c = ((uintptr_t)s >> 3) & 255;
	if (t->cache[c].ptr == s && strcmp(t->str[t->cache[c].id], s) == 0)
		return t->cache[c].id;
	char buf[PF_NAME_MAX + sizeof(ELLIPSIS)];
	bool cut;
	size_t n = cut_len(s, &cut);
	if (cut) { /* intern the cut name: every long name alike in its head is one type */
		memcpy(buf, s, n);
		memcpy(buf + n, ELLIPSIS, sizeof(ELLIPSIS));
		s = buf;
	}
	uint32_t id = intern_slow(t, s);
	if (id != PF_NAME_NONE && !cut) {
		t->cache[c].ptr = s;
		t->cache[c].id = id;
	}
	return id;
}
