/* SPDX-License-Identifier: MIT */
/* names.c - pl_name_intern(): the process-wide, append-only name table. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/name.h>

#include "../common/macros.h"
#include "names.h"

#define BLOCK_BITS 10u
#define BLOCK_LEN  (1u << BLOCK_BITS)
#define NBLOCKS	   (PL_NAMES_MAX / BLOCK_LEN)

struct entry {
	const char *s;
	uint32_t len;
	uint32_t hash;
};

/* Entries live in fixed blocks that never move, so readers need no lock. Written
 * under `lock`; `count` is published with release after the entry is complete. */
static struct entry *blocks[NBLOCKS];
static uint32_t count;
/* Bytes of all names, counted as a reader counts them (text and NUL). */
static uint64_t bytes;
/* Names refused for the limits (atomic): recorded as the empty name, and counted. */
static uint64_t refused;
/* Open-addressing index from hash to id, used only under `lock`. */
static uint32_t *index_slots;
static uint32_t index_cap;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a: names are short, interning is rare */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static struct entry *entry_at(uint32_t id)
{
	return &blocks[id >> BLOCK_BITS][id & (BLOCK_LEN - 1)];
}

static int index_grow(void)
{
	uint32_t cap = index_cap ? index_cap * 2 : 1024;
	uint32_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (uint32_t id = 1; id < count; id++) {
		uint32_t i = entry_at(id)->hash & (cap - 1);
		while (slots[i])
			i = (i + 1) & (cap - 1);
		slots[i] = id;
	}
	free(index_slots);
	index_slots = slots;
	index_cap = cap;
	return 0;
}

/* Must hold `lock`. Name 0 is the empty string. */
static int ensure_zero(void)
{
	if (count)
		return 0;
	if (!blocks[0] && !(blocks[0] = calloc(BLOCK_LEN, sizeof(struct entry))))
		return -1;
	blocks[0][0] = (struct entry){"", 0, hash_bytes("", 0)};
	store_release(&count, 1);
	return 0;
}

PL_EXPORT pl_name pl_name_intern(const char *s, size_t len)
{
	pl_name id = 0;
	if (!s || len == 0)
		return 0;
	if (len > PL_NAME_MAX_LEN)
		len = PL_NAME_MAX_LEN;
	uint32_t h = hash_bytes(s, len);
	pthread_mutex_lock(&lock);
	if (ensure_zero() < 0)
		goto out;
	if ((count + 1) * 2 > index_cap && index_grow() < 0)
		goto out;
	uint32_t i = h & (index_cap - 1);
	for (; index_slots[i]; i = (i + 1) & (index_cap - 1)) {
		struct entry *e = entry_at(index_slots[i]);
		if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0) {
			id = index_slots[i];
			goto out;
		}
	}
	/* Every file defines every name: past the reader's limits, no file would be
	 * readable to its end (docs/format.md section 3). */
	if (count >= PL_NAMES_MAX || bytes + len + 1 > PL_NAMES_MAX_BYTES) {
		__atomic_add_fetch(&refused, 1, __ATOMIC_RELAXED);
		goto out;
	}
	struct entry **blk = &blocks[count >> BLOCK_BITS];
	if (!*blk && !(*blk = calloc(BLOCK_LEN, sizeof(struct entry))))
		goto out;
	char *copy = malloc(len + 1);
	if (!copy)
		goto out;
	memcpy(copy, s, len);
	copy[len] = '\0';
	(*blk)[count & (BLOCK_LEN - 1)] = (struct entry){copy, (uint32_t)len, h};
	index_slots[i] = count;
	bytes += len + 1;
	id = count;
	store_release(&count, count + 1);
out:
	pthread_mutex_unlock(&lock);
	return id;
}

uint64_t pl_names_refused(void)
{
	return load_relaxed(&refused);
}

uint32_t pl_names_count(void)
{
	return load_acquire(&count);
}

const char *pl_names_get(uint32_t id, uint32_t *len)
{
	if (id >= load_acquire(&count)) {
		*len = 0;
		return "";
	}
	const struct entry *e = entry_at(id);
	*len = e->len;
	return e->s;
}

PL_EXPORT const char *pl_name_str(pl_name name, size_t *len)
{
	uint32_t l;
	const char *s = pl_names_get(name, &l);
	if (len)
		*len = l;
	return s;
}

void pl_names_atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

void pl_names_atfork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

void pl_names_atfork_child(void)
{
	pthread_mutex_unlock(&lock);
}
