/* decode.c - typed access to msgpack objects for the reader, with limits. */
#include <stdlib.h>
#include <string.h>

#include <perflog/status.h>

#include "../common/config.h"
#include "../common/format.h"
#include "decode.h"

int pl_dec_u64(const msgpack_object *o, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -PL_ECORRUPT;
	*out = o->via.u64;
	return 0;
}

int pl_dec_i64(const msgpack_object *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
		*out = (int64_t)o->via.u64;
		return 0;
	}
	return -PL_ECORRUPT;
}

int pl_dec_cstr(msgpack_zone *zone, const msgpack_object *o, const char **out)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return -PL_ECORRUPT;
	char *s = msgpack_zone_malloc(zone, o->via.str.size + 1);
	if (!s)
		return -PL_ENOMEM;
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = '\0';
	*out = s;
	return 0;
}

int pl_dec_level(msgpack_zone *zone, const msgpack_object *o, const uint32_t **level,
		 uint32_t *depth)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return -PL_ECORRUPT;
	uint32_t n = o->via.array.size;
	uint32_t *l = msgpack_zone_malloc(zone, (n ? n : 1) * sizeof(uint32_t));
	if (!l)
		return -PL_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *e = &o->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_POSITIVE_INTEGER || e->via.u64 > UINT32_MAX)
			return -PL_ECORRUPT;
		l[i] = (uint32_t)e->via.u64;
	}
	*level = l;
	*depth = n;
	return 0;
}

static int scalar(const msgpack_object *o, pl_value *v)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		*v = PL_V_NIL();
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		*v = PL_V_BOOL(o->via.boolean);
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = o->via.u64 <= INT64_MAX ? PL_V_INT(o->via.u64) : PL_V_UINT(o->via.u64);
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*v = PL_V_INT(o->via.i64);
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = PL_V_FLOAT(o->via.f64);
		return 0;
	case MSGPACK_OBJECT_STR:
		*v = PL_V_STRN(o->via.str.ptr, o->via.str.size);
		return 0;
	case MSGPACK_OBJECT_BIN:
		*v = PL_V_BYTES(o->via.bin.ptr, o->via.bin.size);
		return 0;
	default:
		return -PL_ECORRUPT;
	}
}

/* A field value: a scalar or a shallow array/map of scalars. */
static int value(msgpack_zone *zone, const msgpack_object *o, pl_value *v)
{
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		uint32_t n = o->via.array.size;
		pl_value *items = msgpack_zone_malloc(zone, (n ? n : 1) * sizeof(pl_value));
		if (!items)
			return -PL_ENOMEM;
		for (uint32_t i = 0; i < n; i++)
			if (scalar(&o->via.array.ptr[i], &items[i]) < 0)
				return -PL_ECORRUPT;
		*v = PL_V_ARRAY(items, n);
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_MAP) {
		uint32_t n = o->via.map.size;
		struct pl_kv *kv = msgpack_zone_malloc(zone, (n ? n : 1) * sizeof(*kv));
		if (!kv)
			return -PL_ENOMEM;
		for (uint32_t i = 0; i < n; i++) {
			const msgpack_object_kv *p = &o->via.map.ptr[i];
			if (p->key.type != MSGPACK_OBJECT_STR || scalar(&p->val, &kv[i].value) < 0)
				return -PL_ECORRUPT;
			kv[i].key = p->key.via.str.ptr;
			kv[i].key_len = p->key.via.str.size;
		}
		*v = PL_V_MAP(kv, n);
		return 0;
	}
	return scalar(o, v);
}

int pl_dec_fields(msgpack_zone *zone, const struct pl_strtab *names, const msgpack_object *o,
		  const struct pl_kv **fields, size_t *n)
{
	*fields = NULL;
	*n = 0;
	if (o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (o->type != MSGPACK_OBJECT_MAP)
		return -PL_ECORRUPT;
	uint32_t cnt = o->via.map.size;
	struct pl_kv *kv = msgpack_zone_malloc(zone, (cnt ? cnt : 1) * sizeof(*kv));
	if (!kv)
		return -PL_ENOMEM;
	for (uint32_t i = 0; i < cnt; i++) {
		const msgpack_object_kv *p = &o->via.map.ptr[i];
		uint64_t id;
		const char *name;
		int ret;
		if (pl_dec_u64(&p->key, &id) < 0 || !(name = pl_strtab_get(names, id)))
			return -PL_ECORRUPT;
		if ((ret = value(zone, &p->val, &kv[i].value)) < 0)
			return ret;
		kv[i].key = name;
		kv[i].key_len = strlen(name);
	}
	*fields = kv;
	*n = cnt;
	return 0;
}

int pl_dec_str_map(msgpack_zone *zone, const msgpack_object *o, const struct pl_kv **fields,
		   size_t *n)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return -PL_ECORRUPT;
	uint32_t cnt = o->via.map.size;
	struct pl_kv *kv = msgpack_zone_malloc(zone, (cnt ? cnt : 1) * sizeof(*kv));
	if (!kv)
		return -PL_ENOMEM;
	for (uint32_t i = 0; i < cnt; i++) {
		const msgpack_object_kv *p = &o->via.map.ptr[i];
		const char *key;
		if (pl_dec_cstr(zone, &p->key, &key) < 0 || scalar(&p->val, &kv[i].value) < 0)
			return -PL_ECORRUPT;
		kv[i].key = key;
		kv[i].key_len = p->key.via.str.size;
	}
	*fields = kv;
	*n = cnt;
	return 0;
}

/* ---- name table ---- */

int pl_strtab_define(struct pl_strtab *t, const msgpack_object *id_o, const msgpack_object *str)
{
	uint64_t id;
	if (pl_dec_u64(id_o, &id) < 0 || str->type != MSGPACK_OBJECT_STR)
		return -PL_ECORRUPT;
	if (id >= PL_READ_MAX_NAMES || t->len + str->via.str.size + 1 > PL_READ_MAX_NAME_BYTES)
		return -PL_ELIMIT;
	if (id >= t->cap) {
		uint32_t cap = t->cap ? t->cap : 256;
		while (cap <= id)
			cap *= 2;
		uint32_t *off = realloc(t->off, cap * sizeof(*off));
		if (!off)
			return -PL_ENOMEM;
		memset(off + t->cap, 0, (cap - t->cap) * sizeof(*off));
		t->off = off;
		t->cap = cap;
	}
	size_t need = t->len + str->via.str.size + 1;
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
	memcpy(t->text + t->len, str->via.str.ptr, str->via.str.size);
	t->text[t->len + str->via.str.size] = '\0';
	t->off[id] = (uint32_t)t->len + 1;
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
	free(t->text);
	memset(t, 0, sizeof(*t));
}

/* ---- header ---- */

static bool key_is(const msgpack_object *k, const char *s)
{
	size_t n = strlen(s);
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, s, n) == 0;
}

int pl_dec_header(const msgpack_object *map, struct pl_trace_header *h, char **store)
{
	if (map->type != MSGPACK_OBJECT_MAP)
		return -PL_ECORRUPT;
	/* First pass: how much text to copy (the frame buffer will be reused). */
	size_t text = 0, argc = 0;
	bool argv_seen = false; /* a repeated "argv" key is ignored, in both passes */
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];
		if (kv->val.type == MSGPACK_OBJECT_STR)
			text += kv->val.via.str.size + 1;
		if (!argv_seen && key_is(&kv->key, PL_H_ARGV) &&
		    kv->val.type == MSGPACK_OBJECT_ARRAY) {
			argv_seen = true;
			argc = kv->val.via.array.size;
			for (uint32_t j = 0; j < argc; j++) {
				const msgpack_object *a = &kv->val.via.array.ptr[j];
				if (a->type != MSGPACK_OBJECT_STR)
					return -PL_ECORRUPT;
				text += a->via.str.size + 1;
			}
		}
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
#define COPY(o, dst)                                                  \
	do {                                                          \
		memcpy(t, (o)->via.str.ptr, (o)->via.str.size);       \
		t[(o)->via.str.size] = '\0';                          \
		(dst) = t;                                            \
		t += (o)->via.str.size + 1;                           \
	} while (0)
	bool fmt_ok = false;
	argv_seen = false;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key, *v = &map->via.map.ptr[i].val;
		uint64_t u;
		int64_t s;
		if (key_is(k, PL_H_FORMAT))
			fmt_ok = v->type == MSGPACK_OBJECT_STR && v->via.str.size == 7 &&
				 memcmp(v->via.str.ptr, "perflog", 7) == 0;
		else if (key_is(k, PL_H_VERSION) && pl_dec_u64(v, &u) == 0)
			h->version = (uint32_t)u;
		else if (key_is(k, PL_H_PID) && pl_dec_i64(v, &s) == 0)
			h->pid = s;
		else if (key_is(k, PL_H_HOST) && v->type == MSGPACK_OBJECT_STR)
			COPY(v, h->host);
		else if (key_is(k, PL_H_CLOCK) && v->type == MSGPACK_OBJECT_STR)
			COPY(v, h->clock);
		else if (key_is(k, PL_H_LIBRARY) && v->type == MSGPACK_OBJECT_STR)
			COPY(v, h->library);
		else if (key_is(k, PL_H_MONO) && pl_dec_u64(v, &u) == 0)
			h->mono_anchor_ns = u;
		else if (key_is(k, PL_H_WALL) && pl_dec_i64(v, &s) == 0)
			h->wall_anchor_ns = s;
		else if (key_is(k, PL_H_PREFIX) && pl_dec_u64(v, &u) == 0)
			h->task_prefix = u;
		else if (!argv_seen && key_is(k, PL_H_ARGV) && v->type == MSGPACK_OBJECT_ARRAY) {
			argv_seen = true;
			for (uint32_t j = 0; j < v->via.array.size; j++)
				COPY(&v->via.array.ptr[j], argv[j]);
			argv[v->via.array.size] = NULL;
			h->argc = v->via.array.size;
		}
	}
#undef COPY
	if (!fmt_ok)
		return -PL_EFORMAT;
	return h->version > PL_FORMAT_VERSION ? -PL_EVERSION : 0;
}
