/* SPDX-License-Identifier: MIT */
/* argstats.c - group the calls of a type by argument value (see argstats.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/argstats.h"
#include "analysis/argstats_int.h"
#include "util/grow.h"
#include "util/hash.h"

/* Bucket of a magnitude: 0 for 0, else 1 + floor(log2(v)), so v in [2^(b-1), 2^b - 1]. */
static int64_t log2_bucket(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 0;
}

/* Float bucket: |v| in [2^(e-1), 2^e) gives key e (-1074 < e <= 1024), minus 1<<20 for
 * negatives;
 * zero, nan and infinities have keys of their own. */
#define FKEY_ZERO INT64_MIN
#define FKEY_NAN  (INT64_MIN + 1)
#define FKEY_INF  (INT64_MIN + 2)
#define FKEY_NINF (INT64_MIN + 3)
#define FKEY_NEG  (1 << 20)
static int64_t float_bucket(double v)
{
	if (v == 0)
		return FKEY_ZERO;
	if (isnan(v))
		return FKEY_NAN;
	if (isinf(v))
		return v > 0 ? FKEY_INF : FKEY_NINF;
	int e;
	frexp(fabs(v), &e);
	return v < 0 ? e - FKEY_NEG : e;
}

/* Names and values are mostly short: compared in line, not by a call to memcmp. */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
	if (n > 16)
		return !memcmp(a, b, n);
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static inline bool arg_is(const struct pf_arg *a, const char *name, size_t len, bool by_len,
			  bool context)
{
	return a->by_len == by_len && a->context == context && a->name_len == len &&
	       same_bytes(a->name, name, len);
}

struct pf_arg *pf_argstats_find_arg_(struct pf_argstats *t, const char *name, size_t len,
				     bool by_len, bool context)
{
	/* Calls of a type give their fields in one order, and the context groupings come in
	 * theirs: the argument after the one found last is nearly always the one asked for.
	 * A scan of every argument, a memcmp each, was a quarter of `perfan summarize`. */
	size_t i = t->next_arg;
	if (i < t->nargs && arg_is(&t->args[i], name, len, by_len, context)) {
		t->next_arg = i + 1;
		return &t->args[i];
	}
	for (i = 0; i < t->nargs; i++) {
		struct pf_arg *a = &t->args[i];
		if (arg_is(a, name, len, by_len, context)) {
			t->next_arg = i + 1;
			return a;
		}
	}
	if (context ? t->nargs - t->nfield_args == PF_ARGSTATS_MAX_CONTEXT
		    : t->nfield_args == PF_ARGSTATS_MAX_ARGS)
		return NULL;
	if (!t->args &&
	    !(t->args = calloc(PF_ARGSTATS_MAX_ARGS + PF_ARGSTATS_MAX_CONTEXT, sizeof(*t->args))))
		return NULL;
	struct pf_arg *a = &t->args[t->nargs];
	if (!(a->name = strndup(name, len)))
		return NULL;
	a->name_len = len;
	a->by_len = by_len;
	a->context = context;
	t->next_arg = t->nargs + 1;
	t->nargs++;
	t->nfield_args += !context;
	return a;
}

static uint64_t hash_str(const char *s, size_t n, bool cut)
{
	return pf_hash_bytes(s, n, cut); /* a cut value differs from its kept prefix */
}

struct pf_group *pf_argstats_new_group_(struct pf_arg *a, enum pf_gclass cls, int64_t key)
{
	if (PF_GROW(a->g, a->cap, a->ng, 8) < 0)
		return NULL;
	struct pf_group *g = &a->g[a->ng++];
	memset(g, 0, sizeof(*g));
	g->cls = cls;
	g->key = key;
	pf_hist_init(&g->hist);
	return g;
}

/* The string groups are full: fold the one with the least tail time (then the fewest
 * calls) into "(other)" and return its slot, emptied, for a new value. */
struct pf_group *pf_argstats_other_group_(struct pf_arg *a)
{
	for (size_t i = 0; i < a->ng; i++)
		if (a->g[i].cls == PF_G_OTHER)
			return &a->g[i];
	return pf_argstats_new_group_(a, PF_G_OTHER, 0);
}

static struct pf_group *fold_one(struct pf_arg *a)
{
	struct pf_group *other = pf_argstats_other_group_(a);
	if (!other)
		return NULL;
	if (!a->folded && !(a->folded = calloc(PF_ARGSTATS_FOLDED_BITS / 64, sizeof(uint64_t))))
		return NULL;
	struct pf_group *v = NULL;
	for (size_t i = 0; i < a->ng; i++) {
		struct pf_group *g = &a->g[i];
		if (g->cls == PF_G_STR &&
		    (!v || g->tail_ns < v->tail_ns ||
		     (g->tail_ns == v->tail_ns && g->hist.count < v->hist.count)))
			v = g;
	}
	if (pf_hist_merge(&other->hist, &v->hist) < 0)
		return NULL;
	other->tail_calls += v->tail_calls;
	other->tail_ns += v->tail_ns;
	a->folded_calls += v->hist.count;
	a->folded_values++;
	uint64_t h = hash_str(v->str, v->str_len, v->cut) % PF_ARGSTATS_FOLDED_BITS;
	a->folded[h / 64] |= 1ull << (h % 64);
	free(v->str);
	pf_hist_destroy(&v->hist);
	memset(v, 0, sizeof(*v));
	pf_hist_init(&v->hist);
	a->nstr--;
	return v;
}

static inline bool group_is(const struct pf_group *g, enum pf_gclass cls, int64_t key,
			    const char *s, size_t n, bool cut)
{
	return g->cls == cls && g->key == key &&
	       (cls != PF_G_STR || (g->str_len == n && g->cut == cut && same_bytes(g->str, s, n)));
}

struct pf_group *pf_argstats_find_group_(struct pf_argstats *t, struct pf_arg *a,
					 enum pf_gclass cls, int64_t key, const char *s, size_t n,
					 bool cut)
{
	/* The group found last first: most calls repeat a value (one host, one process, a
	 * thread, an outcome) or its bucket. */
	if (a->last < a->ng && group_is(&a->g[a->last], cls, key, s, n, cut))
		return &a->g[a->last];
	for (size_t i = 0; i < a->ng; i++) {
		if (group_is(&a->g[i], cls, key, s, n, cut)) {
			a->last = i;
			return &a->g[i];
		}
	}
	/* Context groupings have bounds of their own (PF_ARGSTATS_MAX_CONTEXT strings). */
	bool full = !a->context && t->ngroups >= PF_ARGSTATS_MAX_GROUPS;
	if (full && (cls != PF_G_STR || a->nstr == 0))
		return pf_argstats_other_group_(
		    a); /* the cap: no new group (a string may take a slot) */
	struct pf_group *g;
	if (cls == PF_G_STR && (a->nstr == PF_ARGSTATS_MAX_VALUES || full)) {
		g = fold_one(a);
	} else {
		g = pf_argstats_new_group_(a, cls, key);
		t->ngroups += g != NULL && !a->context;
	}
	if (!g)
		return NULL;
	g->cls = cls;
	g->key = key;
	if (cls == PF_G_STR) {
		if (!(g->str = malloc(n ? n : 1)))
			return NULL;
		memcpy(g->str, s, n);
		g->str_len = n;
		g->cut = cut;
		if (a->folded) {
			uint64_t h = hash_str(s, n, cut) % PF_ARGSTATS_FOLDED_BITS;
			g->partial = a->folded[h / 64] >> (h % 64) & 1;
		}
		a->nstr++;
	}
	a->last = (size_t)(g - a->g);
	return g;
}

/* pf_argstats_find_arg_() and pf_argstats_find_group_() with the usual case, the one
 * looked at first, in line: their calls were most of what a lookup cost. */
static inline struct pf_arg *find_arg(struct pf_argstats *t, const char *name, size_t len,
				      bool by_len, bool context)
{
	size_t i = t->next_arg;
	if (__builtin_expect(i < t->nargs, 1) && arg_is(&t->args[i], name, len, by_len, context)) {
		t->next_arg = i + 1;
		return &t->args[i];
	}
	return pf_argstats_find_arg_(t, name, len, by_len, context);
}

static inline struct pf_group *find_group(struct pf_argstats *t, struct pf_arg *a,
					  enum pf_gclass cls, int64_t key, const char *s, size_t n,
					  bool cut)
{
	if (__builtin_expect(a->last < a->ng, 1) && group_is(&a->g[a->last], cls, key, s, n, cut))
		return &a->g[a->last];
	return pf_argstats_find_group_(t, a, cls, key, s, n, cut);
}

/* Widen a group's seen range [lo, hi] to @v (the group's first value sets it). */
#define WIDEN(g, lo, hi, v)                                                                        \
	do {                                                                                       \
		if (!(g)->hist.count || (v) < (g)->lo)                                             \
			(g)->lo = (v);                                                             \
		if (!(g)->hist.count || (v) > (g)->hi)                                             \
			(g)->hi = (v);                                                             \
	} while (0)

/* @g's seen range takes magnitude @m (for a negative group: of the negative value). */
static void seen(struct pf_group *g, uint64_t m)
{
	if (g)
		WIDEN(g, seen_lo, seen_hi, m);
}

static void fseen(struct pf_group *g, double v)
{
	if (g)
		WIDEN(g, fseen_lo, fseen_hi, v);
}

/* The length a placeholder stands for: the Python extension records a container it does
 * not convert (a set, a generator with a length) as "<set len=546>"; grouping by the
 * placeholder's own length (13) would say nothing. Returns -1 for any other string. */
static int64_t placeholder_len(const char *s, size_t n)
{
	if (n < 8 || s[0] != '<' || s[n - 1] != '>')
		return -1;
	size_t i = n - 1, digits = 0;
	uint64_t v = 0, mul = 1;
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9' && digits < 18) {
		v += (uint64_t)(s[--i] - '0') * mul;
		mul *= 10;
		digits++;
	}
	if (!digits || i < 5 || memcmp(s + i - 5, " len=", 5) != 0)
		return -1;
	return (int64_t)v;
}

static int count_in(struct pf_argstats *t, struct pf_arg *a, struct pf_group *g, uint64_t d)
{
	if (!g)
		return -1;
	a->calls++;
	if (g->cls == PF_G_OTHER) { /* past the group cap (folded groups: in fold_one) */
		a->folded_calls++;
		a->capped_calls++;
	}
	if (d > t->p95) {
		g->tail_calls++;
		g->tail_ns += d - t->p95;
	}
	return pf_hist_record(&g->hist, d);
}

static int add_field(struct pf_argstats *t, const struct pf_field *f, uint64_t d)
{
	struct pf_arg *a = find_arg(t, f->key, f->key_len, false, false);
	if (!a) {
		if (t->nfield_args < PF_ARGSTATS_MAX_ARGS)
			return -1;
		t->ignored_fields++;
		return 0;
	}
	struct pf_group *g;
	switch (f->kind) {
	case PF_FIELD_BOOL:
		g = find_group(t, a, PF_G_BOOL, f->b, NULL, 0, false);
		break;
	case PF_FIELD_INT: {
		uint64_t m = f->i < 0 ? -(uint64_t)f->i : (uint64_t)f->i;
		g = find_group(t, a, PF_G_INT, f->i < 0 ? -log2_bucket(m) : log2_bucket(m), NULL, 0,
			       false);
		seen(g, m);
		break;
	}
	case PF_FIELD_UINT:
		g = find_group(t, a, PF_G_INT, log2_bucket(f->u), NULL, 0, false);
		seen(g, f->u);
		break;
	case PF_FIELD_FLOAT:
		g = find_group(t, a, PF_G_FLOAT, float_bucket(f->f), NULL, 0, false);
		if (!isnan(f->f))
			fseen(g, f->f);
		break;
	case PF_FIELD_STR:
		g = find_group(t, a, PF_G_STR, 0, f->s, f->s_len, f->cut);
		break;
	case PF_FIELD_BYTES:
		g = NULL; /* by length only */
		break;
	case PF_FIELD_ARRAY:
		g = find_group(t, a, PF_G_ARRAY, 0, NULL, 0, false);
		break;
	case PF_FIELD_MAP:
		g = find_group(t, a, PF_G_MAP, 0, NULL, 0, false);
		break;
	default:
		g = find_group(t, a, PF_G_NIL, 0, NULL, 0, false);
		break;
	}
	if (f->kind != PF_FIELD_BYTES && count_in(t, a, g, d) < 0)
		return -1;
	if (f->kind != PF_FIELD_STR && f->kind != PF_FIELD_BYTES)
		return 0;
	struct pf_arg *l = find_arg(t, f->key, f->key_len, true, false);
	if (!l) {
		if (t->nfield_args < PF_ARGSTATS_MAX_ARGS)
			return -1;
		t->ignored_fields++;
		return 0;
	}
	int64_t ph = f->kind == PF_FIELD_STR ? placeholder_len(f->s, f->s_len) : -1;
	uint64_t n = ph >= 0 ? (uint64_t)ph : f->orig_len;
	struct pf_group *lg = find_group(t, l, PF_G_LEN, log2_bucket(n), NULL, 0, false);
	seen(lg, n);
	return count_in(t, l, lg, d);
}

/* ---- results ---------------------------------------------------------------------------- */

bool pf_arg_uniform(const struct pf_argstats *t, const struct pf_arg *a)
{
	return a->context && a->ng == 1 && a->g[0].cls == PF_G_STR &&
	       a->g[0].hist.count == t->count;
}

double pf_group_share(const struct pf_argstats *t, const struct pf_group *g)
{
	return t->tail_ns ? (double)g->tail_ns / (double)t->tail_ns : 0.0;
}

static int group_cmp(const void *pa, const void *pb)
{
	const struct pf_group *a = pa, *b = pb;
	if ((a->cls == PF_G_OTHER) != (b->cls == PF_G_OTHER))
		return a->cls == PF_G_OTHER ? 1 : -1; /* not a value: never the top group */
	if (a->tail_ns != b->tail_ns)
		return a->tail_ns > b->tail_ns ? -1 : 1;
	if (a->hist.count != b->hist.count)
		return a->hist.count > b->hist.count ? -1 : 1;
	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	size_t n = a->str_len < b->str_len ? a->str_len : b->str_len;
	int c = n ? memcmp(a->str, b->str, n) : 0;
	return c ? c : (a->str_len > b->str_len) - (a->str_len < b->str_len);
}

static int arg_cmp(const void *pa, const void *pb)
{
	const struct pf_arg *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->context != b->context)
		return a->context - b->context; /* arguments first */
	int c = strcmp(a->name, b->name);
	return c ? c : a->by_len - b->by_len;
}

/* How much more of the tail than of the calls @a's most telling group has. "(other)" is
 * not a value and does not count. */
static double score(const struct pf_argstats *t, const struct pf_arg *a)
{
	double best = 0;
	for (size_t m = 0; m < a->ng && t->count; m++) {
		const struct pf_group *g = &a->g[m];
		double excess = pf_group_share(t, g) - (double)g->hist.count / (double)t->count;
		if (g->cls != PF_G_OTHER && excess > best)
			best = excess;
	}
	return best;
}

/* A group's label: "text" for strings (quoted), 4..7 for buckets, and so on. */
void pf_group_label(const struct pf_group *g, char *buf, size_t len)
{
	switch (g->cls) {
	case PF_G_NIL:
		snprintf(buf, len, "null");
		break;
	case PF_G_BOOL:
		snprintf(buf, len, "%s", g->key ? "true" : "false");
		break;
	case PF_G_OTHER:
		snprintf(buf, len, "(other)");
		break;
	case PF_G_ARRAY:
		snprintf(buf, len, "(array)");
		break;
	case PF_G_MAP:
		snprintf(buf, len, "(map)");
		break;
	case PF_G_STR: {
		size_t o = 0;
		buf[o++] = '"';
		for (size_t i = 0; i < g->str_len && o + 8 < len; i++) {
			unsigned char c = (unsigned char)g->str[i];
			if (c == '"' || c == '\\')
				o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
			else if (c < 0x20 || c == 0x7f)
				o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
			else
				buf[o++] = (char)c;
		}
		snprintf(buf + o, len - o, "%s\"", g->cut ? "\xe2\x80\xa6" : "");
		break;
	}
	case PF_G_INT:
	case PF_G_LEN: {
		/* The range seen, not the bucket's: one value shows as itself. */
		uint64_t lo = g->seen_lo, hi = g->seen_hi;
		if (lo == hi)
			snprintf(buf, len, "%s%" PRIu64, g->key < 0 ? "-" : "", lo);
		else if (g->key < 0)
			snprintf(buf, len, "-%" PRIu64 "..-%" PRIu64, hi, lo);
		else
			snprintf(buf, len, "%" PRIu64 "..%" PRIu64, lo, hi);
		break;
	}
	case PF_G_FLOAT:
		if (g->key == FKEY_ZERO) {
			snprintf(buf, len, "0.0");
		} else if (g->key == FKEY_NAN) {
			snprintf(buf, len, "nan");
		} else if (g->key == FKEY_INF || g->key == FKEY_NINF) {
			snprintf(buf, len, "%sinf", g->key == FKEY_NINF ? "-" : "");
		} else if (g->fseen_lo == g->fseen_hi) {
			snprintf(buf, len, "%g", g->fseen_lo);
		} else {
			snprintf(buf, len, "%g..%g", g->fseen_lo, g->fseen_hi);
		}
		break;
	}
}

void pf_arg_title(const struct pf_arg *a, char *buf, size_t len)
{
	snprintf(buf, len, a->context ? "[%s]" : a->by_len ? "len(%s)" : "%s", a->name);
}

static void arg_free(struct pf_arg *a)
{
	for (size_t m = 0; m < a->ng; m++) {
		pf_hist_destroy(&a->g[m].hist);
		free(a->g[m].str);
	}
	free(a->g);
	free(a->name);
	free(a->folded);
}

/* A grouping by length says nothing its values do not when they are few and all kept
 * (route "/export", method "GET"): it is left out. Bytes (no grouping by value) keep it. */
static bool len_redundant(const struct pf_argstats *t, const struct pf_arg *l)
{
	if (!l->by_len || l->context)
		return false;
	for (size_t k = 0; k < t->nargs; k++) {
		const struct pf_arg *a = &t->args[k];
		if (!a->by_len && !a->context && a->name_len == l->name_len &&
		    !memcmp(a->name, l->name, l->name_len))
			return a->folded_values == 0 && a->nstr <= PF_ARGSTATS_FEW_VALUES;
	}
	return false;
}

void pf_argstats_finish(struct pf_argstats *t)
{
	size_t kept = 0;
	for (size_t k = 0; k < t->nargs; k++) {
		if (len_redundant(t, &t->args[k])) {
			arg_free(&t->args[k]);
			t->nfield_args--;
			continue;
		}
		t->args[kept++] = t->args[k];
	}
	t->nargs = kept;
	for (size_t k = 0; k < t->nargs; k++) {
		struct pf_arg *a = &t->args[k];
		if (a->ng > 1)
			qsort(a->g, a->ng, sizeof(*a->g), group_cmp);
		a->score = score(t, a);
	}
	if (t->nargs > 1)
		qsort(t->args, t->nargs, sizeof(*t->args), arg_cmp);
}

void pf_group_json(struct pf_json *j, const struct pf_argstats *t, const struct pf_group *g)
{
	char buf[PF_FIELD_STR_MAX * 4 + 64];
	pf_json_object_begin(j);
	pf_json_key(j, "group");
	pf_group_label(g, buf, sizeof(buf));
	pf_json_str(j, buf);
	pf_json_key(j, "kind");
	static const char *const kinds[] = {"null",  "bool",   "string", "other", "int",
					    "float", "length", "array",	 "map"};
	pf_json_str(j, kinds[g->cls]);
	if (g->cls == PF_G_STR) {
		/* Cut strings end in "…", as in the inputs of `perfan slowest --json`. */
		char v[PF_FIELD_STR_MAX + 4];
		size_t n = g->str_len < PF_FIELD_STR_MAX ? g->str_len : PF_FIELD_STR_MAX;
		memcpy(v, g->str, n);
		if (g->cut)
			memcpy(v + n, "\xe2\x80\xa6", 3);
		pf_json_key(j, "value");
		pf_json_strn(j, v, n + (g->cut ? 3 : 0));
		pf_json_key(j, "cut");
		pf_json_bool(j, g->cut);
		pf_json_key(j, "partial");
		pf_json_bool(j, g->partial);
	} else if (g->cls == PF_G_BOOL) {
		pf_json_key(j, "value");
		pf_json_bool(j, g->key);
	} else if (g->cls == PF_G_INT || g->cls == PF_G_LEN) {
		/* The values seen (the bucket's bounds were shown before: 262144..524287 for a
		 * group that only ever held 300000). */
		pf_json_key(j, "min");
		if (g->key < 0)
			pf_json_int(j, -(int64_t)(g->seen_hi > INT64_MAX ? INT64_MAX : g->seen_hi));
		else
			pf_json_uint(j, g->seen_lo);
		pf_json_key(j, "max");
		if (g->key < 0)
			pf_json_int(j, -(int64_t)(g->seen_lo > INT64_MAX ? INT64_MAX : g->seen_lo));
		else
			pf_json_uint(j, g->seen_hi);
	} else if (g->cls == PF_G_FLOAT && !isnan(g->fseen_lo) && isfinite(g->fseen_lo) &&
		   isfinite(g->fseen_hi)) {
		pf_json_key(j, "min");
		pf_json_double(j, g->fseen_lo);
		pf_json_key(j, "max");
		pf_json_double(j, g->fseen_hi);
	}
	pf_json_key(j, "count");
	pf_json_uint(j, g->hist.count);
	pf_json_key(j, "tail_calls");
	pf_json_uint(j, g->tail_calls);
	pf_json_key(j, "tail_ns");
	pf_json_uint(j, g->tail_ns);
	pf_json_key(j, "tail_share");
	pf_json_double(j, pf_group_share(t, g));
	pf_json_key(j, "p50_ns");
	pf_json_uint(j, pf_hist_quantile(&g->hist, 0.5));
	pf_json_key(j, "p99_ns");
	pf_json_uint(j, pf_hist_quantile(&g->hist, 0.99));
	pf_json_key(j, "max_ns");
	pf_json_uint(j, g->hist.max);
	pf_json_object_end(j);
}

void pf_argstats_init(struct pf_argstats *t, uint64_t p95)
{
	memset(t, 0, sizeof(*t));
	t->p95 = p95;
}

int pf_argstats_add(struct pf_argstats *t, const uint8_t *inputs, size_t len, uint64_t d)
{
	t->count++;
	if (d > t->p95) {
		t->tail_calls++;
		t->tail_ns += d - t->p95;
	}
	struct pf_fields_iter it = {inputs, inputs ? len : 0, 0};
	struct pf_field f;
	int ret = 0;
	while (pf_fields_next(&it, &f))
		if (add_field(t, &f, d) < 0)
			ret = -1;
	return ret;
}

int pf_argstats_add_context(struct pf_argstats *t, const char *name, size_t name_len,
			    const char *value, size_t len, uint64_t d)
{
	struct pf_arg *a = find_arg(t, name, name_len, false, true);
	if (!a)
		return t->nargs - t->nfield_args < PF_ARGSTATS_MAX_CONTEXT ? -1 : 0;
	/* Kept as arguments' strings are: at most PF_FIELD_STR_MAX bytes, on a UTF-8 boundary. */
	bool cut = len > PF_FIELD_STR_MAX;
	size_t n = cut ? PF_FIELD_STR_MAX : len;
	while (cut && n > 0 && ((unsigned char)value[n] & 0xc0) == 0x80)
		n--;
	return count_in(t, a, find_group(t, a, PF_G_STR, 0, value, n, cut), d);
}

void pf_argstats_destroy(struct pf_argstats *t)
{
	for (size_t k = 0; k < t->nargs; k++)
		arg_free(&t->args[k]);
	free(t->args);
	t->args = NULL;
	t->nargs = t->nfield_args = 0;
}
