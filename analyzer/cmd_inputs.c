/* cmd_inputs.c - `perfan inputs`: which inputs make an action type slow.
 *
 * Two passes over the traces. The first finds each selected type's p95 (hist.h); the
 * second groups the calls of the type by each of their arguments (the fields of their
 * START): strings and booleans by value, numbers in power-of-two buckets, strings and bytes
 * also by length bucket. Per group: calls, p50, p99, max, and the tail: the calls slower
 * than the type's p95 and the time they spent over it ("excess"), whose share tells how
 * much of the tail the group accounts for.
 *
 * Memory: per type, at most MAX_ARGS arguments (others are counted, not grouped), per
 * argument at most MAX_VALUES distinct strings (later ones are folded into "(other)") and
 * the buckets seen (at most 129 for integers and lengths, 2100 for floats); each group holds
 * one histogram.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "fields.h"
#include "hist.h"
#include "jsonw.h"
#include "opts.h"
#include "perfan.h"
#include "scan.h"
#include "table.h"
#include "units.h"

#define USAGE	   "perfan inputs --type GLOB [-n N] [FILTERS] [--json] TRACE..."
#define MAX_ARGS   64
#define MAX_VALUES 100
#define MAX_N	   100000

/* What a group stands for. */
enum gclass { G_NIL, G_BOOL, G_STR, G_OTHER, G_INT, G_FLOAT, G_LEN, G_ARRAY, G_MAP };

struct group {
	enum gclass cls;
	int64_t key; /* G_BOOL 0/1; G_INT, G_FLOAT, G_LEN: bucket (see bucket_*) */
	char *str;   /* G_STR: the (kept part of the) value */
	size_t str_len;
	bool cut;
	uint64_t tail_calls, tail_ns;
	struct pf_hist hist;
};

struct arg {
	char *name;
	size_t name_len;
	bool by_len; /* groups by length of strings and bytes */
	struct group *g;
	size_t ng, cap;
	uint64_t calls;
	uint64_t folded_calls; /* calls of strings past the MAX_VALUES first distinct ones */
	size_t nstr;
	double top_share; /* for ordering, set at the end */
};

struct tstate {
	bool init;
	bool selected; /* the type passed the filters in pass 1 */
	uint64_t p95;
	uint64_t count, tail_calls, tail_ns;
	struct arg *args;
	size_t nargs;
	uint64_t ignored_fields; /* field occurrences past MAX_ARGS arguments */
};

struct state {
	struct pf_scan *sc;
	const struct pf_agg *agg1;
	const struct pf_names *names1;
	struct tstate *t; /* by pass-2 type number */
	uint32_t nt;
	bool oom;
};

static void help(void)
{
	printf("Usage: %s\n"
	       "\n"
	       "Which inputs make an action type slow. For each argument recorded at the start\n"
	       "of the calls of each type matching --type, the calls are grouped by value:\n"
	       "strings and booleans by value (the first %d distinct strings of an argument;\n"
	       "later ones are folded into \"(other)\"), integers in power-of-two buckets\n"
	       "(1, 2..3, 4..7, ...; negatives alike), floats in [2^k, 2^(k+1)) buckets, and\n"
	       "strings and bytes also by length bucket (\"len(ARG)\"). The tail of a type is\n"
	       "its calls slower than its p95; a group's share of the tail is the time its calls\n"
	       "spent over the p95, over that of all calls. Groups are ranked by that share,\n"
	       "then by calls; each shows calls, calls in the tail, share, p50, p99 and max.\n"
	       "The traces are read twice (once for the p95s). At most %d arguments per type.\n"
	       "\n"
	       "  -n, --number N      groups shown per argument in the table (default 5; --json\n"
	       "                      shows all)\n"
	       "%s",
	       USAGE, MAX_VALUES, MAX_ARGS, PF_OPTS_HELP);
}

/* ---- grouping ---------------------------------------------------------------------------- */

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

static struct arg *find_arg(struct tstate *t, const char *name, size_t len, bool by_len)
{
	for (size_t i = 0; i < t->nargs; i++) {
		struct arg *a = &t->args[i];
		if (a->by_len == by_len && a->name_len == len && !memcmp(a->name, name, len))
			return a;
	}
	if (t->nargs == MAX_ARGS)
		return NULL;
	if (!t->args && !(t->args = calloc(MAX_ARGS, sizeof(*t->args))))
		return NULL;
	struct arg *a = &t->args[t->nargs];
	if (!(a->name = strndup(name, len)))
		return NULL;
	a->name_len = len;
	a->by_len = by_len;
	t->nargs++;
	return a;
}

static struct group *find_group(struct arg *a, enum gclass cls, int64_t key, const char *s,
				size_t n, bool cut)
{
	for (size_t i = 0; i < a->ng; i++) {
		struct group *g = &a->g[i];
		if (g->cls != cls || g->key != key)
			continue;
		if (cls != G_STR || (g->str_len == n && g->cut == cut && !memcmp(g->str, s, n)))
			return g;
	}
	if (cls == G_STR && a->nstr == MAX_VALUES)
		return find_group(a, G_OTHER, 0, NULL, 0, false);
	if (a->ng == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;
		struct group *g = realloc(a->g, cap * sizeof(*g));
		if (!g)
			return NULL;
		a->g = g;
		a->cap = cap;
	}
	struct group *g = &a->g[a->ng];
	memset(g, 0, sizeof(*g));
	g->cls = cls;
	g->key = key;
	pf_hist_init(&g->hist);
	if (cls == G_STR) {
		if (!(g->str = malloc(n ? n : 1)))
			return NULL;
		memcpy(g->str, s, n);
		g->str_len = n;
		g->cut = cut;
		a->nstr++;
	}
	a->ng++;
	return g;
}

static int count_in(struct tstate *t, struct arg *a, struct group *g, uint64_t d)
{
	if (!g)
		return -1;
	a->calls++;
	if (g->cls == G_OTHER)
		a->folded_calls++;
	if (d > t->p95) {
		g->tail_calls++;
		g->tail_ns += d - t->p95;
	}
	return pf_hist_record(&g->hist, d);
}

static int add_field(struct tstate *t, const struct pf_field *f, uint64_t d)
{
	struct arg *a = find_arg(t, f->key, f->key_len, false);
	if (!a) {
		if (t->nargs < MAX_ARGS)
			return -1;
		t->ignored_fields++;
		return 0;
	}
	struct group *g;
	switch (f->kind) {
	case PF_FIELD_BOOL:
		g = find_group(a, G_BOOL, f->b, NULL, 0, false);
		break;
	case PF_FIELD_INT:
		g = find_group(a, G_INT,
			       f->i < 0 ? -log2_bucket(-(uint64_t)f->i)
					: log2_bucket((uint64_t)f->i),
			       NULL, 0, false);
		break;
	case PF_FIELD_UINT:
		g = find_group(a, G_INT, log2_bucket(f->u), NULL, 0, false);
		break;
	case PF_FIELD_FLOAT:
		g = find_group(a, G_FLOAT, float_bucket(f->f), NULL, 0, false);
		break;
	case PF_FIELD_STR:
		g = find_group(a, G_STR, 0, f->s, f->s_len, f->cut);
		break;
	case PF_FIELD_BYTES:
		g = NULL; /* by length only */
		break;
	case PF_FIELD_ARRAY:
		g = find_group(a, G_ARRAY, 0, NULL, 0, false);
		break;
	case PF_FIELD_MAP:
		g = find_group(a, G_MAP, 0, NULL, 0, false);
		break;
	default:
		g = find_group(a, G_NIL, 0, NULL, 0, false);
		break;
	}
	if (f->kind != PF_FIELD_BYTES && count_in(t, a, g, d) < 0)
		return -1;
	if (f->kind != PF_FIELD_STR && f->kind != PF_FIELD_BYTES)
		return 0;
	struct arg *l = find_arg(t, f->key, f->key_len, true);
	if (!l) {
		if (t->nargs < MAX_ARGS)
			return -1;
		t->ignored_fields++;
		return 0;
	}
	return count_in(t, l, find_group(l, G_LEN, log2_bucket(f->orig_len), NULL, 0, false), d);
}

static struct tstate *tstate_of(struct state *st, uint32_t type)
{
	if (type >= st->nt) {
		uint32_t n = st->nt ? st->nt : 16;
		while (n <= type)
			n *= 2;
		struct tstate *t = realloc(st->t, n * sizeof(*t));
		if (!t)
			return NULL;
		memset(t + st->nt, 0, (n - st->nt) * sizeof(*t));
		st->t = t;
		st->nt = n;
	}
	struct tstate *t = &st->t[type];
	if (!t->init) {
		/* The first pass numbered types in its own table: find this one by name. */
		const char *name = pf_names_str(&st->sc->names, type);
		for (uint32_t i = 0; i < st->names1->n; i++) {
			const struct pf_typestat *ts = pf_agg_get(st->agg1, i);
			if (ts && !strcmp(st->names1->str[i], name)) {
				t->selected = true;
				t->p95 = pf_hist_quantile(&ts->hist, 0.95);
			}
		}
		t->init = true;
	}
	return t;
}

static void on_span1(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (pf_agg_add((struct pf_agg *)st->agg1, sp) < 0)
		st->oom = true;
}

static void on_span2(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	struct tstate *t = tstate_of(st, sp->type);
	if (!t) {
		st->oom = true;
		return;
	}
	if (!t->selected)
		return;
	uint64_t d = sp->duration_ns;
	t->count++;
	if (d > t->p95) {
		t->tail_calls++;
		t->tail_ns += d - t->p95;
	}
	struct pf_fields_iter it = {sp->inputs, sp->inputs ? sp->inputs_len : 0, 0};
	struct pf_field f;
	while (pf_fields_next(&it, &f))
		if (add_field(t, &f, d) < 0)
			st->oom = true;
}

/* ---- output ------------------------------------------------------------------------------ */

static double share(const struct tstate *t, const struct group *g)
{
	return t->tail_ns ? (double)g->tail_ns / (double)t->tail_ns : 0.0;
}

static int group_cmp(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;
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
	const struct arg *a = pa, *b = pb;
	if (a->top_share != b->top_share)
		return a->top_share > b->top_share ? -1 : 1;
	int c = strcmp(a->name, b->name);
	return c ? c : a->by_len - b->by_len;
}

static void int_range(int64_t key, int64_t *lo, int64_t *hi, bool *neg)
{
	*neg = key < 0;
	uint64_t b = (uint64_t)(key < 0 ? -key : key);
	uint64_t l = b ? 1ull << (b - 1) : 0, h = b ? (b == 64 ? UINT64_MAX : (1ull << b) - 1) : 0;
	*lo = (int64_t)(l > INT64_MAX ? INT64_MAX : l);
	*hi = (int64_t)(h > INT64_MAX ? INT64_MAX : h);
}

/* A group's label: "text" for strings (quoted), 4..7 for buckets, and so on. */
static void label(const struct group *g, char *buf, size_t len)
{
	switch (g->cls) {
	case G_NIL:
		snprintf(buf, len, "null");
		break;
	case G_BOOL:
		snprintf(buf, len, "%s", g->key ? "true" : "false");
		break;
	case G_OTHER:
		snprintf(buf, len, "(other)");
		break;
	case G_ARRAY:
		snprintf(buf, len, "(array)");
		break;
	case G_MAP:
		snprintf(buf, len, "(map)");
		break;
	case G_STR: {
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
	case G_INT:
	case G_LEN: {
		int64_t lo, hi;
		bool neg;
		int_range(g->key, &lo, &hi, &neg);
		if (lo == hi)
			snprintf(buf, len, "%s%" PRId64, neg ? "-" : "", lo);
		else if (neg)
			snprintf(buf, len, "-%" PRId64 "..-%" PRId64, hi, lo);
		else
			snprintf(buf, len, "%" PRId64 "..%" PRId64, lo, hi);
		break;
	}
	case G_FLOAT:
		if (g->key == FKEY_ZERO) {
			snprintf(buf, len, "0.0");
		} else if (g->key == FKEY_NAN) {
			snprintf(buf, len, "nan");
		} else if (g->key == FKEY_INF || g->key == FKEY_NINF) {
			snprintf(buf, len, "%sinf", g->key == FKEY_NINF ? "-" : "");
		} else {
			bool neg = g->key < -FKEY_NEG / 2;
			int e = (int)(neg ? g->key + FKEY_NEG : g->key);
			double lo = ldexp(1, e - 1), hi = ldexp(1, e);
			if (neg)
				snprintf(buf, len, "(-%g, -%g]", hi, lo);
			else
				snprintf(buf, len, "[%g, %g)", lo, hi);
		}
		break;
	}
}

static void arg_title(const struct arg *a, char *buf, size_t len)
{
	snprintf(buf, len, a->by_len ? "len(%s)" : "%s", a->name);
}

static void finish(struct state *st)
{
	for (uint32_t i = 0; i < st->nt; i++) {
		struct tstate *t = &st->t[i];
		for (size_t k = 0; k < t->nargs; k++) {
			struct arg *a = &t->args[k];
			if (a->ng > 1)
				qsort(a->g, a->ng, sizeof(*a->g), group_cmp);
			a->top_share = a->ng ? share(t, &a->g[0]) : 0;
		}
		if (t->nargs > 1)
			qsort(t->args, t->nargs, sizeof(*t->args), arg_cmp);
	}
}

static void json_group(struct pf_json *j, const struct tstate *t, const struct group *g)
{
	char buf[PF_FIELD_STR_MAX * 4 + 64];
	pf_json_object_begin(j);
	pf_json_key(j, "group");
	label(g, buf, sizeof(buf));
	pf_json_str(j, buf);
	pf_json_key(j, "kind");
	static const char *const kinds[] = {"null",  "bool",   "string", "other", "int",
					    "float", "length", "array",	 "map"};
	pf_json_str(j, kinds[g->cls]);
	if (g->cls == G_STR) {
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
	} else if (g->cls == G_BOOL) {
		pf_json_key(j, "value");
		pf_json_bool(j, g->key);
	} else if (g->cls == G_INT || g->cls == G_LEN) {
		int64_t lo, hi;
		bool neg;
		int_range(g->key, &lo, &hi, &neg);
		pf_json_key(j, "min");
		pf_json_int(j, neg ? -hi : lo);
		pf_json_key(j, "max");
		pf_json_int(j, neg ? -lo : hi);
	}
	pf_json_key(j, "count");
	pf_json_uint(j, g->hist.count);
	pf_json_key(j, "tail_calls");
	pf_json_uint(j, g->tail_calls);
	pf_json_key(j, "tail_ns");
	pf_json_uint(j, g->tail_ns);
	pf_json_key(j, "tail_share");
	pf_json_double(j, share(t, g));
	pf_json_key(j, "p50_ns");
	pf_json_uint(j, pf_hist_quantile(&g->hist, 0.5));
	pf_json_key(j, "p99_ns");
	pf_json_uint(j, pf_hist_quantile(&g->hist, 0.99));
	pf_json_key(j, "max_ns");
	pf_json_uint(j, g->hist.max);
	pf_json_object_end(j);
}

static void print_json(const struct state *st)
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "inputs");
	pf_scan_json_summary(st->sc, &j);
	pf_json_key(&j, "max_arguments");
	pf_json_uint(&j, MAX_ARGS);
	pf_json_key(&j, "max_values");
	pf_json_uint(&j, MAX_VALUES);
	pf_json_key(&j, "types");
	pf_json_array_begin(&j);
	for (uint32_t i = 0; i < st->nt; i++) {
		const struct tstate *t = &st->t[i];
		if (!t->count)
			continue;
		pf_json_object_begin(&j);
		pf_json_key(&j, "type");
		pf_json_str(&j, pf_names_str(&st->sc->names, i));
		pf_json_key(&j, "count");
		pf_json_uint(&j, t->count);
		pf_json_key(&j, "p95_ns");
		pf_json_uint(&j, t->p95);
		pf_json_key(&j, "tail_calls");
		pf_json_uint(&j, t->tail_calls);
		pf_json_key(&j, "tail_ns");
		pf_json_uint(&j, t->tail_ns);
		pf_json_key(&j, "ignored_fields");
		pf_json_uint(&j, t->ignored_fields);
		pf_json_key(&j, "arguments");
		pf_json_array_begin(&j);
		for (size_t k = 0; k < t->nargs; k++) {
			const struct arg *a = &t->args[k];
			pf_json_object_begin(&j);
			pf_json_key(&j, "name");
			pf_json_str(&j, a->name);
			pf_json_key(&j, "grouping");
			pf_json_str(&j, a->by_len ? "length" : "value");
			pf_json_key(&j, "calls");
			pf_json_uint(&j, a->calls);
			pf_json_key(&j, "folded_calls");
			pf_json_uint(&j, a->folded_calls);
			pf_json_key(&j, "groups");
			pf_json_array_begin(&j);
			for (size_t m = 0; m < a->ng; m++)
				json_group(&j, t, &a->g[m]);
			pf_json_array_end(&j);
			pf_json_object_end(&j);
		}
		pf_json_array_end(&j);
		pf_json_object_end(&j);
	}
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

static void print_text(const struct state *st, size_t n, bool color)
{
	bool any = false;
	char d1[PF_DURATION_MAX], d2[PF_DURATION_MAX], d3[PF_DURATION_MAX];
	for (uint32_t i = 0; i < st->nt; i++) {
		const struct tstate *t = &st->t[i];
		if (!t->count)
			continue;
		if (any)
			putchar('\n');
		any = true;
		pf_duration_format(t->p95, d1, sizeof(d1));
		pf_duration_format(t->tail_ns, d2, sizeof(d2));
		printf("%s%s%s: %" PRIu64 " call%s, p95 %s; tail: %" PRIu64 " call%s over p95, %s "
		       "over it in all\n",
		       pf_style_begin(PF_BOLD, color), pf_names_str(&st->sc->names, i),
		       pf_style_end(PF_BOLD, color), t->count, t->count == 1 ? "" : "s", d1,
		       t->tail_calls, t->tail_calls == 1 ? "" : "s", d2);
		if (!t->nargs)
			printf("  (no arguments recorded)\n");
		for (size_t k = 0; k < t->nargs; k++) {
			const struct arg *a = &t->args[k];
			char title[300];
			arg_title(a, title, sizeof(title));
			struct pf_table *tb = pf_table_new(7);
			if (!tb)
				return;
			pf_table_column(tb, 0, title, PF_LEFT);
			pf_table_column(tb, 1, "calls", PF_RIGHT);
			pf_table_column(tb, 2, "tail", PF_RIGHT);
			pf_table_column(tb, 3, "share", PF_RIGHT);
			pf_table_column(tb, 4, "p50", PF_RIGHT);
			pf_table_column(tb, 5, "p99", PF_RIGHT);
			pf_table_column(tb, 6, "max", PF_RIGHT);
			for (size_t m = 0; m < a->ng && m < n; m++) {
				const struct group *g = &a->g[m];
				char lb[PF_FIELD_STR_MAX * 4 + 64];
				label(g, lb, sizeof(lb));
				pf_duration_format(pf_hist_quantile(&g->hist, 0.5), d1, sizeof(d1));
				pf_duration_format(pf_hist_quantile(&g->hist, 0.99), d2,
						   sizeof(d2));
				pf_duration_format(g->hist.max, d3, sizeof(d3));
				double sh = share(t, g);
				pf_table_cell(tb, PF_PLAIN, "%s", lb);
				pf_table_cell(tb, PF_PLAIN, "%" PRIu64, g->hist.count);
				pf_table_cell(tb, PF_PLAIN, "%" PRIu64, g->tail_calls);
				pf_table_cell(tb, sh >= 0.5 ? PF_RED : PF_PLAIN, "%.1f%%",
					      100.0 * sh);
				pf_table_cell(tb, PF_PLAIN, "%s", d1);
				pf_table_cell(tb, PF_PLAIN, "%s", d2);
				pf_table_cell(tb, PF_PLAIN, "%s", d3);
				pf_table_row_end(tb);
			}
			putchar('\n');
			pf_table_print(tb, stdout, color);
			pf_table_free(tb);
			if (a->ng > n)
				printf("  \xe2\x80\xa6 %zu more group%s\n", a->ng - n,
				       a->ng - n == 1 ? "" : "s");
			if (a->calls < t->count)
				printf("  (absent in %" PRIu64 " call%s)\n", t->count - a->calls,
				       t->count - a->calls == 1 ? "" : "s");
			if (a->folded_calls)
				printf(
				    "  (other): %" PRIu64 " call%s with values past the first %d "
				    "distinct ones\n",
				    a->folded_calls, a->folded_calls == 1 ? "" : "s", MAX_VALUES);
		}
		if (t->ignored_fields)
			printf("  note: %" PRIu64 " values of arguments past the first %d were "
			       "not grouped\n",
			       t->ignored_fields, MAX_ARGS);
	}
	if (!any)
		printf("(no action matched)\n");
}

static void state_destroy(struct state *st)
{
	for (uint32_t i = 0; i < st->nt; i++) {
		struct tstate *t = &st->t[i];
		for (size_t k = 0; k < t->nargs; k++) {
			for (size_t m = 0; m < t->args[k].ng; m++) {
				pf_hist_destroy(&t->args[k].g[m].hist);
				free(t->args[k].g[m].str);
			}
			free(t->args[k].g);
			free(t->args[k].name);
		}
		free(t->args);
	}
	free(st->t);
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"number", required_argument, NULL, 'n'},
	    {0},
	};
	struct pf_opts o = {0};
	unsigned long n = 5;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT "n:", longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "inputs", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c != 'n')
			return pf_opts_unknown(c, argv, "inputs", USAGE);
		char *end;
		errno = 0;
		n = strtoul(optarg, &end, 10);
		if (errno || *end || end == optarg || optarg[0] == '-' || n == 0 || n > MAX_N)
			return pf_usage_error("inputs", USAGE,
					      "-n: '%s' is not a number from 1 to %d", optarg,
					      MAX_N);
	}
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	if (!o.type_glob)
		return pf_usage_error("inputs", USAGE, "--type is required");
	if (optind >= argc)
		return pf_usage_error("inputs", USAGE, "no trace file given");

	char *const *paths = argv + optind;
	size_t npaths = (size_t)(argc - optind);
	struct pf_scan sc1, sc2;
	struct pf_agg agg;
	pf_agg_init(&agg);
	struct state st = {.agg1 = &agg, .names1 = &sc1.names};
	st.sc = &sc1;
	ret = pf_scan_run(&sc1, &o, paths, npaths, false, on_span1, &st);
	if (ret == PF_EXIT_OK && st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if (ret != PF_EXIT_OK) {
		pf_scan_destroy(&sc1);
		pf_agg_destroy(&agg);
		return ret;
	}
	st.sc = &sc2;
	pf_quiet = true;
	ret = pf_scan_run(&sc2, &o, paths, npaths, true, on_span2, &st);
	pf_quiet = false;
	if (ret == PF_EXIT_OK && st.oom)
		ret = PF_EXIT_UNREADABLE;
	if (ret != PF_EXIT_OK) {
		pf_error(sc2.oom || st.oom ? "out of memory" : "the input could not be read again");
		goto out;
	}
	finish(&st);
	if (o.json) {
		print_json(&st);
		goto out;
	}
	print_text(&st, n, g->color);
	if (pf_spans_open(&sc2.spans) || sc2.spans.unmatched || sc2.dropped_events)
		putchar('\n');
	pf_scan_notes(&sc2, stdout);
out:
	state_destroy(&st);
	pf_scan_destroy(&sc2);
	pf_scan_destroy(&sc1);
	pf_agg_destroy(&agg);
	return ret;
}

const struct pf_cmd pf_cmd_inputs = {
    .name = "inputs",
    .summary = "which inputs (argument values) make an action type slow",
    .run = run,
};
