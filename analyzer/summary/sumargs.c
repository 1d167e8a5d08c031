/* SPDX-License-Identifier: MIT */
/* sumargs.c - a summary's argument statistics read back (perflog.summary.inputs, .arg,
 * .group and their histograms), and the check of every histogram of a type. Groups are
 * bounded as perfan inputs bounds them: 64 + 64 groupings by value and length and 8
 * context ones per type, PF_ARGSTATS_MAX_GROUPS groups per grouping.
 */
#include <stdlib.h>
#include <string.h>

#include "analysis/argstats_int.h"
#include "analysis/hist.h"
#include "core/fields.h"
#include "summary/sumrd.h"

int pf_sr_inputs(struct rd *d, const struct pl_record *r)
{
	uint32_t name;
	int ret = pf_sr_name(d, r, "type", &name);
	if (ret < 0)
		return ret;
	struct type_in *t = pf_sr_type(d, name);
	if (!t || t->has_inputs || !d->groups)
		return pf_sr_bad(d, "perflog.summary.inputs: of no declared type, given twice, or "
				    "in a lean summary");
	if (++d->types_with_inputs > PF_SUMMARY_INPUT_TYPES_KEPT)
		return pf_sr_bad(d, "perflog.summary.inputs: of more types than a summary keeps");
	t->has_inputs = true;
	pf_argstats_init(&t->a, UINT64_MAX);
	if (pf_sr_u64(d, r, "count", t->t.count, &t->a.count) < 0 ||
	    pf_sr_u64(d, r, "ignored_fields", UINT64_MAX, &t->a.ignored_fields) < 0)
		return -1;
	return 0;
}

int pf_sr_arg(struct rd *d, const struct pl_record *r)
{
	uint32_t name;
	char *arg = NULL, *grouping = NULL;
	int ret = pf_sr_name(d, r, "type", &name);
	struct type_in *t = ret < 0 ? NULL : pf_sr_type(d, name);
	if (ret == 0 && (!t || !t->has_inputs))
		ret = pf_sr_bad(d, "perflog.summary.arg: before its type's perflog.summary.inputs");
	if (ret == 0)
		ret = pf_sr_str(d, r, "name", 255, false, &arg);
	if (ret == 0)
		ret = pf_sr_str(d, r, "grouping", 16, false, &grouping);
	struct pf_arg *a = NULL;
	if (ret == 0) {
		bool ctx = !strcmp(grouping, "context"), len = !strcmp(grouping, "length");
		size_t before = t->a.nargs;
		if (!ctx && !len && strcmp(grouping, "value"))
			ret = pf_sr_bad(d, "perflog.summary.arg: unknown grouping");
		else if (!(a = pf_argstats_find_arg_(&t->a, arg, strlen(arg), len, ctx)))
			ret = (ctx ? t->a.nargs - t->a.nfield_args < PF_ARGSTATS_MAX_CONTEXT
				   : t->a.nfield_args < PF_ARGSTATS_MAX_ARGS)
				  ? -2 /* there was room: out of memory */
				  : pf_sr_bad(d, "perflog.summary.arg: too many groupings");
		else if (t->a.nargs == before)
			ret = pf_sr_bad(d, "perflog.summary.arg: \"%s\" given twice", arg);
	}
	free(arg);
	free(grouping);
	if (ret < 0)
		return ret;
	const pl_value *folded = pf_sr_fld(r, "folded");
	if (pf_sr_u64(d, r, "calls", t->a.count, &a->calls) < 0 ||
	    pf_sr_u64(d, r, "folded_calls", a->calls, &a->folded_calls) < 0 ||
	    pf_sr_u64(d, r, "folded_values", UINT64_MAX, &a->folded_values) < 0 ||
	    pf_sr_u64(d, r, "capped_calls", a->folded_calls, &a->capped_calls) < 0)
		return -1;
	if (folded && folded->type != PL_VALUE_NIL) {
		if (folded->type != PL_VALUE_BYTES ||
		    folded->v.str.len != PF_ARGSTATS_FOLDED_BITS / 8)
			return pf_sr_bad(d, "perflog.summary.arg: \"folded\" is not a bitmap");
		if (!(a->folded = malloc(PF_ARGSTATS_FOLDED_BITS / 8)))
			return -2;
		memcpy(a->folded, folded->v.str.ptr, PF_ARGSTATS_FOLDED_BITS / 8);
	}
	return 0;
}

int pf_sr_group(struct rd *d, const struct pl_record *r)
{
	uint32_t name;
	uint64_t arg, kind, count, total, lo, hi;
	int64_t key;
	int ret = pf_sr_name(d, r, "type", &name);
	if (ret < 0)
		return ret;
	struct type_in *t = pf_sr_type(d, name);
	if (!t || !t->has_inputs || pf_sr_u64(d, r, "arg", UINT32_MAX, &arg) < 0 ||
	    arg >= t->a.nargs || pf_sr_u64(d, r, "kind", PF_G_MAP, &kind) < 0 ||
	    pf_sr_i64(d, r, "key", &key) < 0)
		return pf_sr_bad(d, "perflog.summary.group: of no grouping, or bad");
	struct pf_arg *a = &t->a.args[arg];
	if (a->ng > (a->context ? PF_ARGSTATS_MAX_VALUES : PF_ARGSTATS_MAX_GROUPS))
		return pf_sr_bad(d, "perflog.summary.group: more groups than perfan keeps");
	const pl_value *str = pf_sr_fld(r, "str");
	bool is_str = kind == PF_G_STR;
	if (is_str != (str && str->type == PL_VALUE_BYTES) ||
	    (is_str && str->v.str.len > PF_FIELD_STR_MAX))
		return pf_sr_bad(d, "perflog.summary.group: \"str\" does not match its kind");
	struct pf_group *g = pf_argstats_new_group_(a, (enum pf_gclass)kind, key);
	if (!g || (is_str && !(g->str = malloc(str->v.str.len ? str->v.str.len : 1))))
		return -2;
	if (is_str) {
		memcpy(g->str, str->v.str.ptr, str->v.str.len);
		g->str_len = str->v.str.len;
		a->nstr++;
	}
	const pl_value *flo = pf_sr_fld(r, "fseen_lo"), *fhi = pf_sr_fld(r, "fseen_hi");
	if (pf_sr_bool(d, r, "cut", &g->cut) < 0 || pf_sr_bool(d, r, "partial", &g->partial) < 0 ||
	    pf_sr_u64(d, r, "seen_lo", UINT64_MAX, &g->seen_lo) < 0 ||
	    pf_sr_u64(d, r, "seen_hi", UINT64_MAX, &g->seen_hi) < 0 || !flo ||
	    flo->type != PL_VALUE_FLOAT || !fhi || fhi->type != PL_VALUE_FLOAT ||
	    pf_sr_u64(d, r, "count", a->calls, &count) < 0 ||
	    pf_sr_u64(d, r, "total_ns", UINT64_MAX, &total) < 0 ||
	    pf_sr_u64(d, r, "min_ns", UINT64_MAX, &lo) < 0 ||
	    pf_sr_u64(d, r, "max_ns", UINT64_MAX, &hi) < 0 || count == 0 || lo > hi)
		return pf_sr_bad(d, "perflog.summary.group: bad or missing fields");
	g->fseen_lo = flo->v.f;
	g->fseen_hi = fhi->v.f;
	g->hist.min = lo;
	g->hist.max = hi;
	/* Until check_groups() has checked the buckets against them. */
	g->tail_calls = count;
	g->tail_ns = total;
	d->group = g;
	d->group_type = t;
	d->group_arg = arg;
	d->group_idx = a->ng - 1;
	d->group_next = 0;
	return 0;
}

/* @h's bucket counts add up to @count, and its extremes are in its outer buckets; then
 * its count and sum are set. @what names it in the error. */
static int check_one(struct rd *d, struct pf_hist *h, uint64_t count, uint64_t total,
		     const char *what)
{
	uint64_t sum = 0, lo = UINT32_MAX, hi = 0;
	for (uint32_t i = 0; i < h->nbuckets; i++) {
		if (!h->counts[i])
			continue;
		if (sum + h->counts[i] < sum)
			return pf_sr_bad(d, "\"%s\": bucket counts overflow", what);
		sum += h->counts[i];
		lo = lo == UINT32_MAX ? h->first + i : lo;
		hi = h->first + i;
	}
	__extension__ typedef unsigned __int128 u128;
	if (sum != count || lo != pf_hist_index(h->min) || hi != pf_hist_index(h->max) ||
	    (u128)h->min * count > total || (u128)h->max * count < total)
		return pf_sr_bad(d, "\"%s\": histogram inconsistent with its count, min or max",
				 what);
	h->count = count;
	h->sum = total;
	return 0;
}

int pf_sr_check_hist(struct rd *d, struct type_in *t)
{
	const char *name = pf_names_str(&d->local, t->name);
	int ret = check_one(d, &t->t.hist, t->t.count, t->t.total_ns, name);
	if (ret == 0 && t->has_slots && t->slot_counted != t->slot_calls)
		ret = pf_sr_bad(d, "\"%s\": its slots do not add up to its calls", name);
	for (size_t k = 0; ret == 0 && t->has_inputs && k < t->a.nargs; k++) {
		struct pf_arg *a = &t->a.args[k];
		for (size_t m = 0; ret == 0 && m < a->ng; m++) {
			struct pf_group *g = &a->g[m];
			ret = check_one(d, &g->hist, g->tail_calls, g->tail_ns, name);
			g->tail_calls = g->tail_ns = 0;
		}
	}
	return ret;
}
