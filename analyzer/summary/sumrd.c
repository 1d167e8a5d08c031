/* SPDX-License-Identifier: MIT */
/* sumrd.c - typed access to a summary record's fields (see sumrd.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary/sumrd.h"
#include "util/grow.h"

int pf_sr_bad(struct rd *d, const char *fmt, ...)
{
	if (d->err[0])
		return -1; /* the first reason is the one told */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- fields ------------------------------------------------------------------------ */

const pl_value *pf_sr_fld(const struct pl_record *r, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < r->nfields; i++)
		if (r->fields[i].key_len == n && !memcmp(r->fields[i].key, key, n))
			return &r->fields[i].value;
	return NULL;
}

bool pf_sr_as_u64(const pl_value *v, uint64_t *out)
{
	if (v && v->type == PL_VALUE_UINT)
		*out = v->v.u;
	else if (v && v->type == PL_VALUE_INT && v->v.i >= 0)
		*out = (uint64_t)v->v.i;
	else
		return false;
	return true;
}

int pf_sr_u64(struct rd *d, const struct pl_record *r, const char *key, uint64_t max, uint64_t *out)
{
	if (!pf_sr_as_u64(pf_sr_fld(r, key), out) || *out > max)
		return pf_sr_bad(d, "%s: \"%s\" missing or out of range", r->type, key);
	return 0;
}

int pf_sr_i64(struct rd *d, const struct pl_record *r, const char *key, int64_t *out)
{
	const pl_value *v = pf_sr_fld(r, key);
	if (v && v->type == PL_VALUE_INT)
		*out = v->v.i;
	else if (v && v->type == PL_VALUE_UINT && v->v.u <= INT64_MAX)
		*out = (int64_t)v->v.u;
	else
		return pf_sr_bad(d, "%s: \"%s\" missing or not an integer", r->type, key);
	return 0;
}

int pf_sr_bool(struct rd *d, const struct pl_record *r, const char *key, bool *out)
{
	const pl_value *v = pf_sr_fld(r, key);
	if (!v || v->type != PL_VALUE_BOOL)
		return pf_sr_bad(d, "%s: \"%s\" missing or not a boolean", r->type, key);
	*out = v->v.b;
	return 0;
}

/* A string field as a malloc'ed copy (cut at @max bytes); NULL in *@out for nil when
 * @nil_ok. Returns 0, -1 (bad), -2 (out of memory). */
int pf_sr_str(struct rd *d, const struct pl_record *r, const char *key, size_t max, bool nil_ok,
	      char **out)
{
	const pl_value *v = pf_sr_fld(r, key);
	*out = NULL;
	if (nil_ok && (!v || v->type == PL_VALUE_NIL))
		return 0;
	if (!v || v->type != PL_VALUE_STR)
		return pf_sr_bad(d, "%s: \"%s\" missing or not a string", r->type, key);
	size_t n = pl_utf8_cut(v->v.str.ptr, v->v.str.len, max);
	return (*out = strndup(v->v.str.ptr, n)) ? 0 : -2;
}

/* A string naming a type, as a number in the file's own table. */
int pf_sr_name(struct rd *d, const struct pl_record *r, const char *key, uint32_t *out)
{
	char *s;
	int ret = pf_sr_str(d, r, key, PF_NAME_MAX, false, &s);
	if (ret < 0)
		return ret;
	*out = pf_names_intern(&d->local, s);
	free(s);
	return *out == PF_NAME_NONE ? -2 : 0;
}

const pl_value *pf_sr_array(struct rd *d, const struct pl_record *r, const char *key, size_t max)
{
	const pl_value *v = pf_sr_fld(r, key);
	if (!v || v->type != PL_VALUE_ARRAY || v->v.array.len > max) {
		pf_sr_bad(d, "%s: \"%s\" missing, not an array or too long", r->type, key);
		return NULL;
	}
	return v;
}

struct type_in *pf_sr_type(struct rd *d, uint32_t name)
{
	return name < d->ntype_at && d->type_at[name] ? &d->types[d->type_at[name] - 1] : NULL;
}

int pf_sr_type_add(struct rd *d, uint32_t name, size_t i)
{
	if (PF_GROW_ZEROED(d->type_at, d->ntype_at, name, 64) < 0)
		return -2;
	d->type_at[name] = (uint32_t)i + 1;
	return 0;
}
