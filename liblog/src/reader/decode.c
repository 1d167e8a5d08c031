/* SPDX-License-Identifier: MIT */
/* decode.c - typed access to a record's tokens for the reader, with limits. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/status.h>

#include "../common/config.h"
#include "../common/format.h"
#include "decode.h"

/* ---- arena ---- */

/* pl_arena_reset() without the room: a larger buffer. */
int pl_arena_grow(struct pl_arena *a, size_t need)
{
	size_t cap = a->cap ? a->cap : 64 << 10;
	while (cap < need)
		cap *= 2;
	uint8_t *buf = malloc(cap); /* nothing in the old buffer is needed any more */
	if (!buf)
		return -PL_ENOMEM;
	free(a->buf);
	a->buf = buf;
	a->cap = cap;
	return 0;
}

void pl_arena_free(struct pl_arena *a)
{
	free(a->buf);
	*a = (struct pl_arena){0};
}

#define arena_alloc pl_arena_alloc

/* ---- values ---- */

int pl_dec_cstr(struct pl_arena *a, struct pl_tcur *c, const char **out)
{
	const struct pl_tok *k = pl_tcur_take(c, PL_T_STR);
	if (!k)
		return -PL_ECORRUPT;
	char *s = arena_alloc(a, k->n + 1);
	memcpy(s, k->v.p, k->n);
	s[k->n] = '\0';
	*out = s;
	return 0;
}

int pl_dec_level(struct pl_arena *a, struct pl_tcur *c, const uint32_t **level, uint32_t *depth)
{
	const struct pl_tok *k = pl_tcur_take(c, PL_T_ARRAY);
	if (!k)
		return -PL_ECORRUPT;
	uint32_t n = k->n;
	uint32_t *l = arena_alloc(a, (n ? n : 1) * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t u;
		if (!pl_tcur_u64(c, &u) || u > UINT32_MAX)
			return -PL_ECORRUPT;
		l[i] = (uint32_t)u;
	}
	*level = l;
	*depth = n;
	return 0;
}

/* A scalar subtree (one token). */
static int scalar(struct pl_tcur *c, pl_value *v)
{
	const struct pl_tok *k = pl_tcur_peek(c);
	if (!k)
		return -PL_ECORRUPT;
	switch (k->type) {
	case PL_T_NIL:
		*v = PL_V_NIL();
		break;
	case PL_T_BOOL:
		*v = PL_V_BOOL(k->v.u);
		break;
	case PL_T_UINT:
		*v = k->v.u <= INT64_MAX ? PL_V_INT(k->v.u) : PL_V_UINT(k->v.u);
		break;
	case PL_T_INT:
		*v = PL_V_INT(k->v.i);
		break;
	case PL_T_FLOAT:
		*v = PL_V_FLOAT(k->v.f);
		break;
	case PL_T_STR:
		*v = PL_V_STRN(k->v.p, k->n);
		break;
	case PL_T_BIN:
		*v = PL_V_BYTES(k->v.p, k->n);
		break;
	default:
		return -PL_ECORRUPT;
	}
	c->i++;
	return 0;
}

/* A field value: a scalar or a shallow array/map of scalars. */
static int value(struct pl_arena *a, struct pl_tcur *c, pl_value *v)
{
	const struct pl_tok *k;
	if ((k = pl_tcur_take(c, PL_T_ARRAY))) {
		uint32_t n = k->n;
		pl_value *items = arena_alloc(a, (n ? n : 1) * sizeof(pl_value));
		for (uint32_t i = 0; i < n; i++)
			if (scalar(c, &items[i]) < 0)
				return -PL_ECORRUPT;
		*v = PL_V_ARRAY(items, n);
		return 0;
	}
	if ((k = pl_tcur_take(c, PL_T_MAP))) {
		uint32_t n = k->n;
		struct pl_kv *kv = arena_alloc(a, (n ? n : 1) * sizeof(*kv));
		for (uint32_t i = 0; i < n; i++) {
			const struct pl_tok *key = pl_tcur_take(c, PL_T_STR);
			if (!key || scalar(c, &kv[i].value) < 0)
				return -PL_ECORRUPT;
			kv[i].key = key->v.p;
			kv[i].key_len = key->n;
		}
		*v = PL_V_MAP(kv, n);
		return 0;
	}
	return scalar(c, v);
}

int pl_dec_fields(struct pl_arena *a, const struct pl_strtab *names, struct pl_tcur *c,
		  const struct pl_kv **fields, size_t *n)
{
	*fields = NULL;
	*n = 0;
	if (pl_tcur_take(c, PL_T_NIL))
		return 0;
	const struct pl_tok *k = pl_tcur_take(c, PL_T_MAP);
	if (!k)
		return -PL_ECORRUPT;
	uint32_t cnt = k->n;
	struct pl_kv *kv = arena_alloc(a, (cnt ? cnt : 1) * sizeof(*kv));
	for (uint32_t i = 0; i < cnt; i++) {
		uint64_t id;
		const char *name;
		int ret;
		if (!pl_tcur_u64(c, &id) || !(name = pl_strtab_lookup(names, id, &kv[i].key_len)))
			return -PL_ECORRUPT;
		if ((ret = value(a, c, &kv[i].value)) < 0)
			return ret;
		kv[i].key = name;
	}
	*fields = kv;
	*n = cnt;
	return 0;
}

int pl_dec_str_map(struct pl_arena *a, struct pl_tcur *c, const struct pl_kv **fields, size_t *n)
{
	const struct pl_tok *k = pl_tcur_take(c, PL_T_MAP);
	if (!k)
		return -PL_ECORRUPT;
	uint32_t cnt = k->n;
	struct pl_kv *kv = arena_alloc(a, (cnt ? cnt : 1) * sizeof(*kv));
	for (uint32_t i = 0; i < cnt; i++) {
		const char *key;
		if (pl_dec_cstr(a, c, &key) < 0 || scalar(c, &kv[i].value) < 0)
			return -PL_ECORRUPT;
		kv[i].key = key;
		kv[i].key_len = strlen(key);
	}
	*fields = kv;
	*n = cnt;
	return 0;
}

/* ---- name table ---- */

int pl_strtab_define(struct pl_strtab *t, struct pl_tcur *c)
{
	uint64_t id;
	const struct pl_tok *str;
	if (!pl_tcur_u64(c, &id) || !(str = pl_tcur_take(c, PL_T_STR)))
		return -PL_ECORRUPT;
	if (id >= PL_READ_MAX_NAMES || t->len + str->n + 1 > PL_READ_MAX_NAME_BYTES)
		return -PL_ELIMIT;
	if (id >= t->cap) {
		uint32_t cap = t->cap ? t->cap : 256;
		while (cap <= id)
			cap *= 2;
		uint32_t *off = realloc(t->off, cap * sizeof(*off));
		if (!off)
			return -PL_ENOMEM;
		t->off = off; /* both arrays' first cap entries are valid whatever fails */
		uint32_t *lens = realloc(t->lens, cap * sizeof(*lens));
		if (!lens)
			return -PL_ENOMEM;
		t->lens = lens;
		memset(off + t->cap, 0, (cap - t->cap) * sizeof(*off));
		memset(lens + t->cap, 0, (cap - t->cap) * sizeof(*lens));
		t->cap = cap;
	}
	size_t need = t->len + str->n + 1;
	if (need > t->text_cap) {
		size_t cap = t->text_cap ? t->text_cap : 4096;
		while (cap < need)
			cap *= 2;
		char *text = realloc(t->text, cap);
		if (!text)
			return -PL_ENOMEM;
		t->text = text;
		t->text_cap = cap;
	}
	memcpy(t->text + t->len, str->v.p, str->n);
	t->text[t->len + str->n] = '\0';
	t->off[id] = (uint32_t)t->len + 1;
	t->lens[id] = (uint32_t)strnlen(t->text + t->len, str->n); /* as strlen() would say */
	t->len = need;
	return 0;
}

const char *pl_strtab_get(const struct pl_strtab *t, uint64_t id)
{
	if (id == 0)
		return "";
	if (id >= t->cap || t->off[id] == 0)
		return NULL;
	return t->text + t->off[id] - 1;
}

void pl_strtab_free(struct pl_strtab *t)
{
	free(t->off);
	free(t->lens);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

/* ---- header ---- */

static bool key_is(const struct pl_tok *k, const char *s)
{
	size_t n = strlen(s);
	return k->type == PL_T_STR && k->n == n && memcmp(k->v.p, s, n) == 0;
}

/* An argv value: an array of strings only (each one token); anything else is ignored
 * like an unknown key, not an unreadable file. */
static bool argv_ok(const struct pl_tcur *c, const struct pl_tok *v)
{
	if (v->type != PL_T_ARRAY)
		return false;
	for (uint32_t j = 0; j < v->n; j++) {
		const struct pl_tok *s = &v[1 + j];
		if (s >= c->t + c->end || s->type != PL_T_STR)
			return false;
	}
	return true;
}

int pl_dec_header(struct pl_tcur *c, struct pl_trace_header *h, char **store)
{
	const struct pl_tok *map = pl_tcur_take(c, PL_T_MAP);
	if (!map)
		return -PL_ECORRUPT;
	const struct pl_tcur body = *c; /* the first key */
	/* First pass: how much text to copy (the frame buffer will be reused). */
	size_t text = 0, argc = 0;
	bool argv_seen = false; /* a repeated "argv" key is ignored, in both passes */
	for (uint32_t i = 0; i < map->n; i++) {
		const struct pl_tok *k = pl_tcur_peek(c), *v;
		if (!pl_tcur_skip(c) || !(v = pl_tcur_peek(c)))
			return -PL_ECORRUPT;
		if (v->type == PL_T_STR)
			text += v->n + 1;
		if (!argv_seen && key_is(k, PL_H_ARGV) && argv_ok(c, v)) {
			argv_seen = true;
			argc = v->n;
			for (uint32_t j = 0; j < argc; j++)
				text += v[1 + j].n + 1;
		}
		pl_tcur_skip(c);
	}
	char *blk = malloc((argc + 1) * sizeof(char *) + text + 1);
	if (!blk)
		return -PL_ENOMEM;
	free(*store);
	*store = blk;
	const char **argv = (const char **)blk;
	char *t = blk + (argc + 1) * sizeof(char *);
	memset(h, 0, sizeof(*h));
	h->host = h->clock = h->library = "";
	h->argv = argv;
	argv[0] = NULL;
#define COPY(k, dst)                                                                               \
	do {                                                                                       \
		memcpy(t, (k)->v.p, (k)->n);                                                       \
		t[(k)->n] = '\0';                                                                  \
		(dst) = t;                                                                         \
		t += (k)->n + 1;                                                                   \
	} while (0)
	bool fmt_ok = false;
	uint64_t version = 0; /* 0: missing (versions start at 1) */
	argv_seen = false;
	*c = body;
	for (uint32_t i = 0; i < map->n; i++) {
		const struct pl_tok *k = pl_tcur_peek(c);
		pl_tcur_skip(c);
		const struct pl_tok *v = pl_tcur_peek(c);
		uint64_t u;
		int64_t s;
		struct pl_tcur vc = *c;
		if (key_is(k, PL_H_FORMAT))
			fmt_ok =
			    v->type == PL_T_STR && v->n == 7 && memcmp(v->v.p, "perflog", 7) == 0;
		else if (key_is(k, PL_H_VERSION) && pl_tcur_u64(&vc, &u))
			version = u;
		else if (key_is(k, PL_H_PID) && pl_tcur_i64(&vc, &s))
			h->pid = s;
		else if (key_is(k, PL_H_HOST) && v->type == PL_T_STR)
			COPY(v, h->host);
		else if (key_is(k, PL_H_CLOCK) && v->type == PL_T_STR)
			COPY(v, h->clock);
		else if (key_is(k, PL_H_LIBRARY) && v->type == PL_T_STR)
			COPY(v, h->library);
		else if (key_is(k, PL_H_MONO) && pl_tcur_u64(&vc, &u))
			h->mono_anchor_ns = u;
		else if (key_is(k, PL_H_WALL) && pl_tcur_i64(&vc, &s))
			h->wall_anchor_ns = s;
		else if (key_is(k, PL_H_PREFIX) && pl_tcur_u64(&vc, &u))
			h->task_prefix = u;
		else if (key_is(k, PL_H_FILE_WALL) && pl_tcur_i64(&vc, &s))
			h->file_wall_ns = s;
		else if (key_is(k, PL_H_FILE_SEQ) && pl_tcur_u64(&vc, &u) && u <= UINT32_MAX)
			h->file_seq = (uint32_t)u;
		else if (!argv_seen && key_is(k, PL_H_ARGV) && argv_ok(c, v)) {
			argv_seen = true;
			for (uint32_t j = 0; j < v->n; j++)
				COPY(&v[1 + j], argv[j]);
			argv[v->n] = NULL;
			h->argc = v->n;
		}
		pl_tcur_skip(c);
	}
#undef COPY
	if (!fmt_ok || version == 0)
		return -PL_EFORMAT;
	if (version > PL_FORMAT_VERSION)
		return -PL_EVERSION; /* compared before narrowing: 2^32 + 1 is not version 1 */
	h->version = (uint32_t)version;
	return 0;
}
