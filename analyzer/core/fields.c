/* SPDX-License-Identifier: MIT */
/* fields.c - pack field values into a bounded byte string; print them as text or JSON.
 *
 * Layout (also written into summaries, docs/format.md §4; little-endian, as perfan's hosts):
 *   field   := u8 keylen, key bytes, value       keylen 255 = "more fields were dropped"
 *   value   := u8 tag, payload
 *   NIL/FALSE/TRUE: -      INT/UINT/FLOAT: 8 bytes (host order)
 *   STR: u16 len, bytes    STR_CUT: u16 len, bytes, u32 original length
 *   BYTES: u32 original length
 *   ARRAY: u16 kept, u8 dropped?, values        MAP: u16 kept, u8 dropped?, (u8 keylen, key,
 * value)...
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fields.h"

enum { T_NIL, T_FALSE, T_TRUE, T_INT, T_UINT, T_FLOAT, T_STR, T_STR_CUT, T_BYTES, T_ARRAY, T_MAP };
#define KEY_MORE 255
#define KEY_MAX	 254

struct out {
	uint8_t *p;
	size_t len, cap; /* cap excludes the byte reserved for the "more" mark */
};

static inline __attribute__((always_inline)) bool put(struct out *o, const void *src, size_t n)
{
	if (o->len + n > o->cap)
		return false;
	uint8_t *d = o->p + o->len;
	const uint8_t *s = src;
	if (n <= 16) { /* keys and most strings: no memcpy call */
		if (n >= 8) {
			uint64_t a, b; /* two moves that overlap when n < 16 */
			memcpy(&a, s, 8);
			memcpy(&b, s + n - 8, 8);
			memcpy(d, &a, 8);
			memcpy(d + n - 8, &b, 8);
		} else {
			for (size_t i = 0; i < n; i++)
				d[i] = s[i];
		}
	} else {
		memcpy(d, s, n);
	}
	o->len += n;
	return true;
}

/* pl_utf8_cut() only when there is something to cut. */
static inline size_t cut(const char *s, size_t len, size_t max)
{
	return len <= max ? len : pl_utf8_cut(s, len, max);
}

static bool put_u8(struct out *o, uint8_t v)
{
	return put(o, &v, 1);
}

static bool put_key(struct out *o, const char *k, size_t len)
{
	len = cut(k, len, KEY_MAX);
	return put_u8(o, (uint8_t)len) && put(o, k, len);
}

static bool put_value(struct out *o, const pl_value *v, int depth)
{
	size_t start = o->len;
	bool ok = true;
	switch (v->type) {
	case PL_VALUE_BOOL:
		ok = put_u8(o, v->v.b ? T_TRUE : T_FALSE);
		break;
	case PL_VALUE_INT:
		ok = put_u8(o, T_INT) && put(o, &v->v.i, 8);
		break;
	case PL_VALUE_UINT:
		ok = put_u8(o, T_UINT) && put(o, &v->v.u, 8);
		break;
	case PL_VALUE_FLOAT:
		ok = put_u8(o, T_FLOAT) && put(o, &v->v.f, 8);
		break;
	case PL_VALUE_STR: {
		uint16_t n = (uint16_t)cut(v->v.str.ptr, v->v.str.len, PF_FIELD_STR_MAX);
		bool cut = n < v->v.str.len;
		uint32_t orig = v->v.str.len > UINT32_MAX ? UINT32_MAX : (uint32_t)v->v.str.len;
		ok = put_u8(o, cut ? T_STR_CUT : T_STR) && put(o, &n, 2) &&
		     put(o, v->v.str.ptr, n) && (!cut || put(o, &orig, 4));
		break;
	}
	case PL_VALUE_BYTES: {
		uint32_t n = v->v.str.len > UINT32_MAX ? UINT32_MAX : (uint32_t)v->v.str.len;
		ok = put_u8(o, T_BYTES) && put(o, &n, 4);
		break;
	}
	case PL_VALUE_ARRAY:
	case PL_VALUE_MAP: {
		bool is_map = v->type == PL_VALUE_MAP;
		size_t n = is_map ? v->v.map.len : v->v.array.len;
		if (depth > 0 || !put_u8(o, is_map ? T_MAP : T_ARRAY))
			return depth > 0 ? put_u8(o, T_NIL) : false; /* containers are shallow */
		size_t hdr = o->len;
		uint16_t kept = 0;
		uint8_t dropped = 0;
		if (!put(o, &kept, 2) || !put_u8(o, dropped)) {
			ok = false;
			break;
		}
		for (size_t i = 0; i < n && kept < UINT16_MAX; i++, kept++) {
			size_t at = o->len;
			bool fit =
			    is_map ? put_key(o, v->v.map.items[i].key, v->v.map.items[i].key_len) &&
					 put_value(o, &v->v.map.items[i].value, depth + 1)
				   : put_value(o, &v->v.array.items[i], depth + 1);
			if (!fit) {
				o->len = at;
				break;
			}
		}
		dropped = kept < n;
		memcpy(o->p + hdr, &kept, 2);
		o->p[hdr + 2] = dropped;
		break;
	}
	default:
		ok = put_u8(o, T_NIL);
		break;
	}
	if (!ok)
		o->len = start;
	return ok;
}

size_t pf_fields_pack(uint8_t *buf, size_t cap, const struct pl_kv *kv, size_t n)
{
	struct out o = {buf, 0, cap - 1};
	for (size_t i = 0; i < n; i++) {
		size_t at = o.len;
		if (!put_key(&o, kv[i].key, kv[i].key_len) || !put_value(&o, &kv[i].value, 0)) {
			o.len = at;
			buf[o.len++] = KEY_MORE; /* the reserved byte */
			break;
		}
	}
	return o.len;
}

/* ---- reading back ------------------------------------------------------------------- */

struct in {
	const uint8_t *p;
	size_t len, pos;
};

static uint8_t get_u8(struct in *in)
{
	return in->pos < in->len ? in->p[in->pos++] : 0;
}

static void get(struct in *in, void *dst, size_t n)
{
	if (in->pos + n > in->len) {
		memset(dst, 0, n);
		in->pos = in->len;
		return;
	}
	memcpy(dst, in->p + in->pos, n);
	in->pos += n;
}

static const char *get_bytes(struct in *in, size_t *n)
{
	if (in->pos + *n > in->len)
		*n = in->len - in->pos;
	const char *s = (const char *)in->p + in->pos;
	in->pos += *n;
	return s;
}

/* One value as read: a scalar whole; of an array or map, its item count and whether items
 * were dropped, @in then at its first item (a map item is a key, then a value). The one
 * place that knows the value tags. */
struct val {
	enum pf_field_kind kind;
	bool b;
	int64_t i;
	uint64_t u;
	double f;
	const char *s; /* STR: the kept bytes */
	size_t s_len;
	bool cut;	   /* STR: longer than what was kept */
	uint64_t orig_len; /* STR, BYTES: the length in the trace */
	uint16_t count;	   /* ARRAY, MAP */
	bool dropped;	   /* ARRAY, MAP: items left out when packing */
};

static void read_value(struct in *in, struct val *v)
{
	uint8_t tag = get_u8(in);
	uint16_t n16;
	uint32_t n32;
	size_t n;
	memset(v, 0, sizeof(*v));
	switch (tag) {
	case T_FALSE:
	case T_TRUE:
		v->kind = PF_FIELD_BOOL;
		v->b = tag == T_TRUE;
		break;
	case T_INT:
		v->kind = PF_FIELD_INT;
		get(in, &v->i, 8);
		break;
	case T_UINT:
		v->kind = PF_FIELD_UINT;
		get(in, &v->u, 8);
		break;
	case T_FLOAT:
		v->kind = PF_FIELD_FLOAT;
		get(in, &v->f, 8);
		break;
	case T_STR:
	case T_STR_CUT:
		v->kind = PF_FIELD_STR;
		get(in, &n16, 2);
		n = n16;
		v->s = get_bytes(in, &n);
		v->s_len = v->orig_len = n;
		if (tag == T_STR_CUT) {
			get(in, &n32, 4);
			v->cut = true;
			v->orig_len = n32;
		}
		break;
	case T_BYTES:
		v->kind = PF_FIELD_BYTES;
		get(in, &n32, 4);
		v->orig_len = n32;
		break;
	case T_ARRAY:
	case T_MAP:
		v->kind = tag == T_MAP ? PF_FIELD_MAP : PF_FIELD_ARRAY;
		get(in, &v->count, 2);
		v->dropped = get_u8(in);
		break;
	default:
		v->kind = PF_FIELD_NIL;
		break;
	}
}

/* A map item's key (or a field's: the same layout). */
static const char *read_key(struct in *in, size_t *n)
{
	*n = get_u8(in);
	return get_bytes(in, n);
}

/* A growing text buffer. */
struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_write(struct sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_write(b, s, strlen(s));
}

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_write(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Text of a string value: quoted, with C escapes for quotes, backslashes and controls. */
static void text_str(struct sb *b, const char *s, size_t n, bool cut)
{
	sb_write(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c == '\n')
			sb_puts(b, "\\n");
		else if (c == '\t')
			sb_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			sb_printf(b, "\\x%02x", c);
		else
			sb_write(b, s + i, 1);
	}
	sb_puts(b, cut ? "\xe2\x80\xa6\"" : "\"");
}

static void text_value(struct sb *b, struct in *in)
{
	struct val v;
	read_value(in, &v);
	switch (v.kind) {
	case PF_FIELD_BOOL:
		sb_puts(b, v.b ? "true" : "false");
		break;
	case PF_FIELD_INT:
		sb_printf(b, "%" PRId64, v.i);
		break;
	case PF_FIELD_UINT:
		sb_printf(b, "%" PRIu64, v.u);
		break;
	case PF_FIELD_FLOAT:
		sb_printf(b, "%g", v.f);
		break;
	case PF_FIELD_STR:
		text_str(b, v.s, v.s_len, v.cut);
		break;
	case PF_FIELD_BYTES:
		sb_printf(b, "<%" PRIu64 " bytes>", v.orig_len);
		break;
	case PF_FIELD_ARRAY:
	case PF_FIELD_MAP: {
		bool map = v.kind == PF_FIELD_MAP;
		sb_puts(b, map ? "{" : "[");
		for (uint16_t k = 0; k < v.count && in->pos < in->len; k++) {
			sb_puts(b, k ? ", " : "");
			if (map) {
				size_t n;
				const char *key = read_key(in, &n);
				sb_write(b, key, n);
				sb_puts(b, ": ");
			}
			text_value(b, in);
		}
		if (v.dropped)
			sb_puts(b, v.count ? ", \xe2\x80\xa6" : "\xe2\x80\xa6");
		sb_puts(b, map ? "}" : "]");
		break;
	}
	case PF_FIELD_NIL:
		sb_puts(b, "nil");
		break;
	}
}

char *pf_fields_text(const uint8_t *buf, size_t len)
{
	struct sb b = {0};
	struct in in = {buf, len, 0};
	sb_write(&b, "", 0);
	for (int k = 0; in.pos < in.len; k++) {
		size_t n = get_u8(&in);
		sb_puts(&b, k ? " " : "");
		if (n == KEY_MORE) {
			sb_puts(&b, "\xe2\x80\xa6");
			break;
		}
		const char *key = get_bytes(&in, &n);
		sb_write(&b, key, n);
		sb_puts(&b, "=");
		text_value(&b, &in);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static void json_value(struct pf_json *j, struct in *in)
{
	struct val v;
	read_value(in, &v);
	switch (v.kind) {
	case PF_FIELD_BOOL:
		pf_json_bool(j, v.b);
		break;
	case PF_FIELD_INT:
		pf_json_int(j, v.i);
		break;
	case PF_FIELD_UINT:
		pf_json_uint(j, v.u);
		break;
	case PF_FIELD_FLOAT:
		pf_json_real(j, v.f);
		break;
	case PF_FIELD_STR:
		if (!v.cut) {
			pf_json_strn(j, v.s, v.s_len);
		} else {
			char tmp[PF_FIELD_STR_MAX + 4];
			size_t n = v.s_len < PF_FIELD_STR_MAX ? v.s_len : PF_FIELD_STR_MAX;
			memcpy(tmp, v.s, n);
			memcpy(tmp + n, "\xe2\x80\xa6", 3);
			pf_json_strn(j, tmp, n + 3);
		}
		break;
	case PF_FIELD_BYTES: {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "<%" PRIu64 " bytes>", v.orig_len);
		pf_json_str(j, tmp);
		break;
	}
	case PF_FIELD_ARRAY:
	case PF_FIELD_MAP: {
		bool map = v.kind == PF_FIELD_MAP;
		if (map)
			pf_json_object_begin(j);
		else
			pf_json_array_begin(j);
		for (uint16_t k = 0; k < v.count && in->pos < in->len; k++) {
			if (map) {
				size_t n;
				const char *key = read_key(in, &n);
				pf_json_keyn(j, key, n);
			}
			json_value(j, in);
		}
		if (map)
			pf_json_object_end(j);
		else
			pf_json_array_end(j);
		break;
	}
	case PF_FIELD_NIL:
		pf_json_null(j);
		break;
	}
}

/* ---- OTLP/JSON attributes --------------------------------------------------------------- */

/* One value as an OTLP AnyValue (protobuf's JSON mapping: int64 as a decimal string,
 * non-finite doubles as "NaN"/"Infinity"). Bytes are not kept (only their length). */
static void otlp_value(struct pf_json *j, struct in *in)
{
	struct val v;
	read_value(in, &v);
	char tmp[PF_FIELD_STR_MAX + 4];
	pf_json_object_begin(j);
	switch (v.kind) {
	case PF_FIELD_BOOL:
		pf_json_key(j, "boolValue");
		pf_json_bool(j, v.b);
		break;
	case PF_FIELD_INT:
		pf_json_key(j, "intValue");
		snprintf(tmp, sizeof(tmp), "%" PRId64, v.i);
		pf_json_str(j, tmp);
		break;
	case PF_FIELD_UINT: /* AnyValue has no unsigned: past int64, the digits as a string */
		pf_json_key(j, v.u > INT64_MAX ? "stringValue" : "intValue");
		snprintf(tmp, sizeof(tmp), "%" PRIu64, v.u);
		pf_json_str(j, tmp);
		break;
	case PF_FIELD_FLOAT:
		pf_json_key(j, "doubleValue");
		if (isnan(v.f))
			pf_json_str(j, "NaN");
		else if (isinf(v.f))
			pf_json_str(j, v.f > 0 ? "Infinity" : "-Infinity");
		else
			pf_json_real(j, v.f);
		break;
	case PF_FIELD_STR: {
		size_t n = v.s_len < PF_FIELD_STR_MAX ? v.s_len : PF_FIELD_STR_MAX;
		memcpy(tmp, v.s, n);
		if (v.cut)
			memcpy(tmp + n, "\xe2\x80\xa6", 3);
		pf_json_key(j, "stringValue");
		pf_json_strn(j, tmp, n + (v.cut ? 3 : 0));
		break;
	}
	case PF_FIELD_BYTES:
		snprintf(tmp, sizeof(tmp), "<%" PRIu64 " bytes>", v.orig_len);
		pf_json_key(j, "stringValue");
		pf_json_str(j, tmp);
		break;
	case PF_FIELD_ARRAY:
	case PF_FIELD_MAP: {
		bool map = v.kind == PF_FIELD_MAP;
		pf_json_key(j, map ? "kvlistValue" : "arrayValue");
		pf_json_object_begin(j);
		pf_json_key(j, "values");
		pf_json_array_begin(j);
		for (uint16_t k = 0; k < v.count && in->pos < in->len; k++) {
			if (map) {
				size_t n;
				const char *key = read_key(in, &n);
				pf_json_object_begin(j);
				pf_json_key(j, "key");
				pf_json_strn(j, key, n);
				pf_json_key(j, "value");
			}
			otlp_value(j, in);
			if (map)
				pf_json_object_end(j);
		}
		pf_json_array_end(j);
		pf_json_object_end(j);
		break;
	}
	case PF_FIELD_NIL: /* an empty AnyValue */
		break;
	}
	pf_json_object_end(j);
}

void pf_fields_otlp(struct pf_json *j, const uint8_t *buf, size_t len, const char *prefix)
{
	struct in in = {buf, buf ? len : 0, 0};
	char key[64 + 256];
	size_t plen = strlen(prefix) < 64 ? strlen(prefix) : 64;
	memcpy(key, prefix, plen);
	while (in.pos < in.len) {
		size_t n = get_u8(&in);
		pf_json_object_begin(j);
		pf_json_key(j, "key");
		if (n == KEY_MORE) {
			memcpy(key + plen, "\xe2\x80\xa6", 3);
			pf_json_strn(j, key, plen + 3);
			pf_json_key(j, "value");
			pf_json_object_begin(j);
			pf_json_key(j, "stringValue");
			pf_json_str(j, "more fields not kept");
			pf_json_object_end(j);
			pf_json_object_end(j);
			break;
		}
		const char *name = get_bytes(&in, &n);
		memcpy(key + plen, name, n); /* n < 256 */
		pf_json_strn(j, key, plen + n);
		pf_json_key(j, "value");
		otlp_value(j, &in);
		pf_json_object_end(j);
	}
}

void pf_fields_json(struct pf_json *j, const uint8_t *buf, size_t len)
{
	struct in in = {buf, len, 0};
	pf_json_object_begin(j);
	while (in.pos < in.len) {
		size_t n = get_u8(&in);
		if (n == KEY_MORE) {
			pf_json_key(j, "\xe2\x80\xa6");
			pf_json_str(j, "more fields not kept");
			break;
		}
		const char *key = get_bytes(&in, &n);
		pf_json_keyn(j, key, n);
		json_value(j, &in);
	}
	pf_json_object_end(j);
}

/* ---- iterating -------------------------------------------------------------------------- */

static void skip_value(struct in *in)
{
	struct val v;
	read_value(in, &v);
	if (v.kind != PF_FIELD_ARRAY && v.kind != PF_FIELD_MAP)
		return;
	for (uint16_t k = 0; k < v.count && in->pos < in->len; k++) {
		size_t n;
		if (v.kind == PF_FIELD_MAP)
			read_key(in, &n);
		skip_value(in);
	}
}

bool pf_fields_next(struct pf_fields_iter *it, struct pf_field *f)
{
	struct in in = {it->p, it->len, it->pos};
	if (in.pos >= in.len)
		return false;
	if (in.p[in.pos] == KEY_MORE) {
		it->pos = it->len;
		return false;
	}
	memset(f, 0, sizeof(*f));
	f->key = read_key(&in, &f->key_len);
	size_t at = in.pos;
	struct val v;
	read_value(&in, &v);
	f->kind = v.kind;
	f->b = v.b;
	f->i = v.i;
	f->u = v.u;
	f->f = v.f;
	f->s = v.s;
	f->s_len = v.s_len;
	f->cut = v.cut;
	f->orig_len = v.orig_len;
	if (v.kind == PF_FIELD_ARRAY || v.kind == PF_FIELD_MAP) {
		in.pos = at; /* its items: passed over */
		skip_value(&in);
	}
	it->pos = in.pos;
	return true;
}
