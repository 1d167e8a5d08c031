/* SPDX-License-Identifier: MIT */
/* cmd/inputs.c - `perfan inputs`: which inputs make an action type slow.
 *
 * Two passes over the traces. The first finds each selected type's p95 (hist.h); the
 * second groups the calls of the type by each of their arguments (argstats.h: strings and
 * booleans by value, numbers in power-of-two buckets, strings and bytes also by length)
 * and ranks the groups by their share of the tail, the time spent over the p95.
 *
 * Memory: that of argstats.h per selected type.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/agg.h"
#include "analysis/argstats.h"
#include "analysis/context.h"
#include "analysis/hist.h"
#include "core/fields.h"
#include "core/scan.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "fmt/table.h"
#include "fmt/text.h"
#include "fmt/units.h"
#include "perfan.h"
#include "summary/sumscan.h"
#include "util/grow.h"

#define USAGE                                                                                      \
	"perfan inputs --type GLOB [-n N] [--by args,context] [FILTERS] [--json] TRACE|SUMMARY..."

/* The groupings --by chooses: the arguments, and the context (analysis/context.h). */
enum { BY_ARGS = 1u << 16, BY_CONTEXT = PF_CTX_ALL };

static const struct {
	const char *name;
	unsigned bits;
} by_names[] = {
    {"args", BY_ARGS},	   {"context", BY_CONTEXT},	{"process", PF_CTX_PROCESS},
    {"host", PF_CTX_HOST}, {"thread", PF_CTX_THREAD},	{"parent", PF_CTX_PARENT},
    {"root", PF_CTX_ROOT}, {"outcome", PF_CTX_OUTCOME},
};
#define MAX_N 100000

struct tstate {
	bool init;
	bool selected;		    /* the type passed the filters in pass 1 */
	bool merged;		    /* summaries' groups were merged in: tails from histograms */
	const struct pf_hist *hist; /* of all its calls (pass 1) */
	struct pf_argstats a;
};

/* Types analyzed at most: the argument groups of a type take up to ~10 KiB, and a
 * --type matching a million types must not take gigabytes. Past it, the types with the
 * most total time are kept, and a note says how many were left out. */
#define MAX_TYPES 256

struct state {
	struct pf_scan *sc;
	const struct pf_agg *agg1;
	const struct pf_names *names1;
	bool *kept1;		 /* by pass-1 type number: analyzed (NULL: every type) */
	uint32_t left_out;	 /* types matched but not analyzed (MAX_TYPES) */
	uint64_t left_out_calls; /* calls of types the summaries kept no groups of */
	uint32_t *order;	 /* the types shown, by total time (then name) */
	uint32_t norder;
	struct tstate *t; /* by pass-2 type number */
	uint32_t nt;
	unsigned by; /* BY_* */
	bool oom;
};

static void help(void)
{
	printf("Usage: %s\n"
	       "\n"
	       "Which inputs make an action type slow. For each argument recorded at the start\n"
	       "of the calls of each type matching --type, the calls are grouped by value:\n"
	       "strings and booleans by value (%d distinct strings per argument: when more\n"
	       "come, the one with the least time over p95 is folded into \"(other)\", ranked\n"
	       "last; a value seen again after that shows counts that are lower bounds, marked\n"
	       "\xe2\x89\xa5), integers in power-of-two buckets\n"
	       "(1, 2..3, 4..7, ...; negatives alike), floats in [2^k, 2^(k+1)) buckets, and\n"
	       "strings and bytes also by length bucket (\"len(ARG)\"; a placeholder such as\n"
	       "\"<set len=546>\" by the length it gives; not for a string argument with at\n"
	       "most %d values: its values say more). A bucket shows the values it held:\n"
	       "their range, or the one value. The tail of a type is\n"
	       "its calls slower than its p95; a group's share of the tail is the time its calls\n"
	       "spent over the p95, over that of all calls. Groups are ranked by that share,\n"
	       "then by calls; each shows calls, calls in the tail, share, p50, p99 and max.\n"
	       "The traces are read twice (once for the p95s). At most %d groupings per type\n"
	       "(a string argument takes two: values and lengths) and %d groups in all; values\n"
	       "past them are counted in \"(other)\".\n"
	       "\n"
	       "The calls are also grouped by their context, each grouping shown as [NAME]:\n"
	       "[process] (host:pid and program), [host], [thread] (its name, else its OS tid),\n"
	       "[parent] (the type of the action the call ran in; \"(none)\" for a task's first\n"
	       "action, \"(not read)\" when its start is in no file given), [root] (the type of\n"
	       "the task's first action: which request the call served) and [outcome]\n"
	       "(\"succeeded\" or \"failed\"). A context grouping whose one value holds every\n"
	       "call is summed up in one line.\n"
	       "\n"
	       "Groupings are ranked by how differently their groups are spread in the tail than\n"
	       "over all calls: by the largest excess of a group's share of the tail over its\n"
	       "share of the calls (a group of 5%% of the calls with 90%% of the tail: 0.85).\n"
	       "\n"
	       "  -n, --number N      groups shown per grouping in the table (default 5; --json\n"
	       "                      shows all)\n"
	       "      --by LIST       groupings, comma-separated: args, context (all of the\n"
	       "                      following), process, host, thread, parent, root, outcome\n"
	       "                      (default args,context)\n"
	       "%s",
	       USAGE, PF_ARGSTATS_MAX_VALUES, PF_ARGSTATS_FEW_VALUES, PF_ARGSTATS_MAX_ARGS,
	       PF_ARGSTATS_MAX_GROUPS, PF_OPTS_HELP);
}

/* ---- the two passes ---------------------------------------------------------------------- */

static struct tstate *tstate_of(struct state *st, uint32_t type)
{
	if (PF_GROW_ZEROED(st->t, st->nt, type, 16) < 0)
		return NULL;
	struct tstate *t = &st->t[type];
	if (!t->init) {
		/* The first pass numbered types in its own table: find this one by name (a
		 * hash lookup: 1M types must not cost 1M^2 comparisons). */
		uint32_t i = pf_names_find(st->names1, pf_names_str(&st->sc->names, type));
		const struct pf_typestat *ts = i == PF_NAME_NONE ? NULL : pf_agg_get(st->agg1, i);
		if (ts && (!st->kept1 || st->kept1[i])) {
			t->selected = true;
			t->hist = &ts->hist;
			pf_argstats_init(&t->a, pf_hist_quantile(&ts->hist, 0.95));
		}
		t->init = true;
	}
	return t;
}

static int cmp_total(const void *a, const void *b, void *ctx)
{
	const struct pf_agg *agg = ctx;
	uint64_t x = agg->t[*(const uint32_t *)a].total_ns,
		 y = agg->t[*(const uint32_t *)b].total_ns;
	if (x != y)
		return x > y ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* After the first pass: past MAX_TYPES matched types, keep those with the most total
 * time. Returns 0, or -1 when out of memory. */
static int keep_busiest(struct state *st)
{
	const struct pf_agg *agg = st->agg1;
	uint32_t n = 0;
	for (uint32_t i = 0; i < agg->n; i++)
		n += pf_agg_get(agg, i) != NULL;
	if (n <= MAX_TYPES)
		return 0;
	uint32_t *order = malloc(n * sizeof(*order));
	st->kept1 = calloc(agg->n, sizeof(*st->kept1));
	if (!order || !st->kept1) {
		free(order);
		return -1;
	}
	for (uint32_t i = 0, k = 0; i < agg->n; i++)
		if (pf_agg_get(agg, i))
			order[k++] = i;
	qsort_r(order, n, sizeof(*order), cmp_total, (void *)agg);
	for (uint32_t k = 0; k < MAX_TYPES; k++)
		st->kept1[order[k]] = true;
	st->left_out = n - MAX_TYPES;
	free(order);
	return 0;
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
	bool args = st->by & BY_ARGS;
	if (pf_argstats_add(&t->a, args ? sp->inputs : NULL, args ? sp->inputs_len : 0,
			    sp->duration_ns) < 0 ||
	    pf_context_add(&t->a, st->sc, sp, st->by & PF_CTX_ALL) < 0)
		st->oom = true;
}

/* After the second pass: the groups of the summaries among the inputs, of the types
 * analyzed. Returns 0, or -1 when out of memory. */
static int merge_summaries(struct state *st, const struct pf_summary *sum)
{
	for (uint32_t type = 0; type < sum->ninputs; type++) {
		if (!sum->inputs[type].p95)
			continue; /* no statistics of this type */
		struct tstate *t = tstate_of(st, type);
		if (!t)
			return -1;
		if (!t->selected)
			continue;
		if (pf_argstats_merge(&t->a, &sum->inputs[type]) < 0)
			return -1;
		t->merged = true;
	}
	st->left_out_calls += sum->inputs_left_out;
	return 0;
}

static int cmp_shown(const void *a, const void *b, void *ctx)
{
	const struct state *st = ctx;
	const struct tstate *x = &st->t[*(const uint32_t *)a], *y = &st->t[*(const uint32_t *)b];
	if (x->hist->sum != y->hist->sum)
		return x->hist->sum > y->hist->sum ? -1 : 1;
	return strcmp(pf_names_str(&st->sc->names, *(const uint32_t *)a),
		      pf_names_str(&st->sc->names, *(const uint32_t *)b));
}

/* The types to show, most total time first (not in the order they were met: summaries
 * meet them in another order than the traces). Returns 0, or -1 when out of memory. */
static int order_types(struct state *st)
{
	if (!(st->order = malloc((st->nt ? st->nt : 1) * sizeof(*st->order))))
		return -1;
	for (uint32_t i = 0; i < st->nt; i++)
		if (st->t[i].a.count && st->t[i].hist)
			st->order[st->norder++] = i;
	qsort_r(st->order, st->norder, sizeof(*st->order), cmp_shown, st);
	return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static void grouping_json(struct pf_json *j, const struct pf_argstats *t, const struct pf_arg *a)
{
	pf_json_object_begin(j);
	pf_json_key(j, "name");
	pf_json_str(j, a->name);
	pf_json_key(j, "grouping");
	pf_json_str(j, a->context ? "context" : a->by_len ? "length" : "value");
	pf_json_key(j, "score");
	pf_json_double(j, a->score);
	pf_json_key(j, "calls");
	pf_json_uint(j, a->calls);
	pf_json_key(j, "folded_calls");
	pf_json_uint(j, a->folded_calls);
	pf_json_key(j, "folded_values");
	pf_json_uint(j, a->folded_values);
	pf_json_key(j, "capped_calls");
	pf_json_uint(j, a->capped_calls);
	pf_json_key(j, "groups");
	pf_json_array_begin(j);
	for (size_t m = 0; m < a->ng; m++)
		pf_group_json(j, t, &a->g[m]);
	pf_json_array_end(j);
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
	pf_json_uint(&j, PF_ARGSTATS_MAX_ARGS);
	pf_json_key(&j, "max_values");
	pf_json_uint(&j, PF_ARGSTATS_MAX_VALUES);
	pf_json_key(&j, "types_left_out");
	pf_json_uint(&j, st->left_out);
	if (st->left_out_calls) { /* summaries only: see docs/perfan.md */
		pf_json_key(&j, "summarized_calls_not_grouped");
		pf_json_uint(&j, st->left_out_calls);
	}
	pf_json_key(&j, "types");
	pf_json_array_begin(&j);
	for (uint32_t r = 0; r < st->norder; r++) {
		uint32_t i = st->order[r];
		const struct pf_argstats *t = &st->t[i].a;
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
		for (int context = 0; context < 2; context++) {
			pf_json_key(&j, context ? "context" : "arguments");
			pf_json_array_begin(&j);
			for (size_t k = 0; k < t->nargs; k++)
				if (t->args[k].context == context)
					grouping_json(&j, t, &t->args[k]);
			pf_json_array_end(&j);
		}
		pf_json_object_end(&j);
	}
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

static void print_uniform(const struct pf_argstats *t)
{
	size_t col = 0; /* wrapped at 88 columns, as the tables are narrow */
	for (size_t k = 0; k < t->nargs; k++) {
		const struct pf_arg *a = &t->args[k];
		if (!pf_arg_uniform(t, a))
			continue;
		char lb[PF_GROUP_LABEL_MAX], shown[4 * PF_GROUP_LABEL_MAX + 8];
		pf_group_label(&a->g[0], lb, sizeof(lb));
		pf_text_escape(lb, shown, sizeof(shown));
		char item[sizeof(shown) + 64];
		size_t len =
		    (size_t)snprintf(item, sizeof(item), "[%s] %s", pf_text_esc(a->name), shown);
		if (!col)
			col = (size_t)printf("\nin every call: %s", item) - 1;
		else if (col + 2 + len > 88)
			col = (size_t)printf(",\n  %s", item) - 2;
		else
			col += (size_t)printf(", %s", item);
	}
	if (col)
		putchar('\n');
}

static void print_text(const struct state *st, size_t n, bool color)
{
	bool any = false;
	char d1[PF_DURATION_MAX], d2[PF_DURATION_MAX], d3[PF_DURATION_MAX];
	for (uint32_t r = 0; r < st->norder; r++) {
		uint32_t i = st->order[r];
		const struct pf_argstats *t = &st->t[i].a;
		if (any)
			putchar('\n');
		any = true;
		pf_duration_format(t->p95, d1, sizeof(d1));
		pf_duration_format(t->tail_ns, d2, sizeof(d2));
		printf("%s%s%s: %" PRIu64 " call%s, p95 %s; tail: %" PRIu64 " call%s over p95, %s "
		       "over it in all\n",
		       pf_style_begin(PF_BOLD, color), pf_text_esc(pf_names_str(&st->sc->names, i)),
		       pf_style_end(PF_BOLD, color), t->count, t->count == 1 ? "" : "s", d1,
		       t->tail_calls, t->tail_calls == 1 ? "" : "s", d2);
		if (!t->nfield_args && (st->by & BY_ARGS))
			printf("  (no arguments recorded)\n");
		for (size_t k = 0; k < t->nargs; k++) {
			const struct pf_arg *a = &t->args[k];
			if (pf_arg_uniform(t, a))
				continue;
			char title[300], shown[4 * sizeof(title) + 8];
			pf_arg_title(a, title, sizeof(title));
			pf_text_escape(title, shown,
				       sizeof(shown)); /* argument names: from the trace */
			struct pf_table *tb = pf_table_new(7);
			if (!tb)
				return;
			pf_table_column(tb, 0, shown, PF_LEFT);
			pf_table_column(tb, 1, "calls", PF_RIGHT);
			pf_table_column(tb, 2, "tail", PF_RIGHT);
			pf_table_column(tb, 3, "share", PF_RIGHT);
			pf_table_column(tb, 4, "p50", PF_RIGHT);
			pf_table_column(tb, 5, "p99", PF_RIGHT);
			pf_table_column(tb, 6, "max", PF_RIGHT);
			for (size_t m = 0; m < a->ng && m < n; m++) {
				const struct pf_group *g = &a->g[m];
				char lb[PF_GROUP_LABEL_MAX];
				pf_group_label(g, lb, sizeof(lb));
				pf_duration_format(pf_hist_quantile(&g->hist, 0.5), d1, sizeof(d1));
				pf_duration_format(pf_hist_quantile(&g->hist, 0.99), d2,
						   sizeof(d2));
				pf_duration_format(g->hist.max, d3, sizeof(d3));
				double sh = pf_group_share(t, g);
				pf_table_cell(tb, PF_PLAIN, "%s", lb);
				/* A partial group's counts are lower bounds (argstats.h). */
				pf_table_cell(tb, PF_PLAIN, "%s%" PRIu64,
					      g->partial ? "\xe2\x89\xa5" : "", g->hist.count);
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
			uint64_t by_tail = a->folded_calls - a->capped_calls;
			if (by_tail)
				printf("  (other): %" PRIu64 " call%s of %" PRIu64
				       " value%s folded to keep the %d with the most time "
				       "over p95 (\xe2\x89\xa5: a value also among them)\n",
				       by_tail, by_tail == 1 ? "" : "s", a->folded_values,
				       a->folded_values == 1 ? "" : "s", PF_ARGSTATS_MAX_VALUES);
			if (a->capped_calls)
				printf("  (other): %" PRIu64
				       " call%s with values past the %d groups "
				       "kept per type\n",
				       a->capped_calls, a->capped_calls == 1 ? "" : "s",
				       PF_ARGSTATS_MAX_GROUPS);
		}
		print_uniform(t);
		if (t->ignored_fields)
			printf("  note: %" PRIu64 " values of arguments past the first %d were "
			       "not grouped\n",
			       t->ignored_fields, PF_ARGSTATS_MAX_ARGS);
	}
	if (!any)
		printf("(no action matched)\n");
}

static void state_destroy(struct state *st)
{
	for (uint32_t i = 0; i < st->nt; i++)
		pf_argstats_destroy(&st->t[i].a);
	free(st->t);
	free(st->kept1);
	free(st->order);
}

/* --by LIST. Returns 0, or -1 after a usage message. */
static int parse_by(const char *list, unsigned *by)
{
	*by = 0;
	for (const char *p = list;;) {
		size_t len = strcspn(p, ",");
		unsigned bits = 0;
		for (size_t i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++)
			if (strlen(by_names[i].name) == len && !strncmp(p, by_names[i].name, len))
				bits = by_names[i].bits;
		if (!bits) {
			pf_usage_error("inputs", USAGE,
				       "--by: '%.*s' is not one of args, context, process, host, "
				       "thread, parent, root, outcome",
				       (int)len, p);
			return -1;
		}
		*by |= bits;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"number", required_argument, NULL, 'n'},
	    {"by", required_argument, NULL, 'B'},
	    {0},
	};
	struct pf_opts o = {0};
	unsigned long n = 5;
	unsigned by = BY_ARGS | BY_CONTEXT;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT "n:", longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "inputs", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c == 'B') {
			if (parse_by(optarg, &by) < 0)
				return PF_EXIT_USAGE;
			continue;
		}
		if (c != 'n')
			return pf_opts_unknown(c, argv, "inputs", USAGE);
		uint64_t v;
		if (pf_opts_count("inputs", USAGE, "-n", optarg, 1, MAX_N, &v))
			return PF_EXIT_USAGE;
		n = v;
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
	struct pf_summary sum1 = {0}, sum2 = {0};
	struct pf_agg agg;
	pf_agg_init(&agg);
	struct state st = {.agg1 = &agg, .names1 = &sc1.names, .by = by};
	st.sc = &sc1;
	ret = pf_sumscan_run(&sc1, &sum1, &o, paths, npaths, 0, on_span1, &st);
	if (ret == PF_EXIT_OK && pf_sumscan_agg(&sum1, &agg) < 0)
		st.oom = true;
	if (ret == PF_EXIT_OK && sum1.lean_files) {
		pf_error("inputs: %zu of the summaries given %s lean (perfan summarize --lean): "
			 "they hold no argument groups",
			 sum1.lean_files, sum1.lean_files == 1 ? "is" : "are");
		ret = PF_EXIT_USAGE;
	}
	if (ret == PF_EXIT_OK && st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if (ret != PF_EXIT_OK) {
		pf_scan_destroy(&sc1);
		pf_summary_destroy(&sum1);
		pf_agg_destroy(&agg);
		return ret;
	}
	if (keep_busiest(&st) < 0) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
		state_destroy(&st);
		pf_scan_destroy(&sc1);
		pf_summary_destroy(&sum1);
		pf_agg_destroy(&agg);
		return ret;
	}
	st.sc = &sc2;
	pf_global.quiet = true;
	ret = pf_sumscan_run(&sc2, &sum2, &o, paths, npaths, PF_SCAN_INPUTS, on_span2, &st);
	pf_global.quiet = false;
	if (ret == PF_EXIT_OK && merge_summaries(&st, &sum2) < 0)
		st.oom = true;
	if (ret == PF_EXIT_OK && st.oom)
		ret = PF_EXIT_UNREADABLE;
	if (ret != PF_EXIT_OK) {
		pf_error(sc2.oom || st.oom ? "out of memory" : "the input could not be read again");
		goto out;
	}
	for (uint32_t i = 0; i < st.nt; i++) {
		struct tstate *t = &st.t[i];
		if (t->merged) /* the parts had no common p95: tails from the histograms */
			pf_argstats_retail(&t->a, t->hist, t->a.p95);
		pf_argstats_finish(&t->a);
	}
	if (order_types(&st) < 0) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	if (o.json) {
		print_json(&st);
		goto out;
	}
	print_text(&st, n, g->color);
	if (st.left_out)
		printf("\nnote: %u more type%s matched --type; the %d with the most total time "
		       "are shown (narrow --type to see others)\n",
		       st.left_out, st.left_out == 1 ? "" : "s", MAX_TYPES);
	if (st.left_out_calls)
		printf("\nnote: the summaries read hold no groups for %llu calls (of types past "
		       "the %d a summary keeps statistics of)\n",
		       (unsigned long long)st.left_out_calls, PF_SUMMARY_INPUT_TYPES_KEPT);
	if (pf_scan_unfinished(&sc2) || pf_scan_unmatched(&sc2) || sc2.dropped_events)
		putchar('\n');
	pf_scan_notes(&sc2, stdout);
out:
	state_destroy(&st);
	pf_scan_destroy(&sc2);
	pf_scan_destroy(&sc1);
	pf_summary_destroy(&sum1);
	pf_summary_destroy(&sum2);
	pf_agg_destroy(&agg);
	return ret;
}

const struct pf_cmd pf_cmd_inputs = {
    .name = "inputs",
    .summary = "which inputs (argument values) make an action type slow",
    .run = run,
};
