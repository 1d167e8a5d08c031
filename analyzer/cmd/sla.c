/* SPDX-License-Identifier: MIT */
/* cmd/sla.c - `perfan sla`: check each action type against latency limits; a table of
 * observed vs allowed with PASS/FAIL, the worst calls of failing types with their inputs.
 * Exit 0 when every type passes, 1 when any fails (or no action matched): the CI gate.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/agg.h"
#include "analysis/call.h"
#include "analysis/limits.h"
#include "analysis/refetch.h"
#include "analysis/topn.h"
#include "core/scan.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "fmt/table.h"
#include "fmt/units.h"
#include "perfan.h"
#include "summary/sumscan.h"
#include "util/grow.h"

#define USAGE                                                                                      \
	"perfan sla [--p50 D] [--p90 D] [--p95 D] [--p99 D] [--p999 D] [--max D] "                 \
	"[--worst K] [--min-count N] [FILTERS] [--json] TRACE|SUMMARY..."
#define MAX_WORST 1000

struct state {
	struct pf_scan *sc;
	struct pf_agg agg;
	struct pf_topn *worst; /* by type number */
	uint32_t nworst;
	size_t k;
	bool oom;
};

struct verdict {
	uint32_t type;
	const struct pf_typestat *t;
	struct pf_verdict v;	  /* lowest_over: the worst calls listed are above it */
	bool few;		  /* fewer than --min-count calls: not judged */
	bool is_max[PF_LIMITS_N]; /* the percentile is the slowest call: too few calls for it */
};

/* A 95 % interval of the @q-quantile from the order statistics alone (no assumption on
 * the distribution): the ranks n q -/+ 1.96 sqrt(n q (1 - q)), widened by one. */
static void quantile_ci(const struct pf_hist *h, double q, uint64_t *lo, uint64_t *hi)
{
	double n = (double)h->count, sd = sqrt(n * q * (1 - q));
	double l = floor(n * q - 1.96 * sd), u = ceil(n * q + 1.96 * sd) + 1;
	*lo = pf_hist_at_rank(h, l < 1 ? 1 : (uint64_t)l);
	*hi = pf_hist_at_rank(h, u > n ? h->count : (uint64_t)u);
}

static void help(void)
{
	printf("Usage: %s\n"
	       "\n"
	       "Check every action type (or those matching --type) against the limits given;\n"
	       "at least one is needed. A type fails when an observed percentile exceeds its\n"
	       "limit. Observed percentiles are nearest-rank within 0.39%% relative error\n"
	       "(exact below 256 ns; max is exact), so a value within 0.39%% of its limit may\n"
	       "be judged either way. Actions still running when their trace ended (a hang, a\n"
	       "crash) count with how long they had run by then: at least that long.\n"
	       "A percentile of too few calls is the slowest call (the p99 of fewer than 100):\n"
	       "it is marked '*' and said below the table; --min-count N leaves out the types\n"
	       "with fewer than N calls (not judged, 'too few calls'). --json gives each\n"
	       "observed percentile with a 95%% interval from the order statistics.\n"
	       "Exit status: 0 when every type judged passes; 1 when one fails, or no action\n"
	       "matched, or no type had --min-count calls.\n"
	       "\n"
	       "%s"
	       "      --worst K       worst calls listed per failing type (default 3, 0: none)\n"
	       "      --min-count N   calls a type needs to be judged (default 1)\n"
	       "%s",
	       USAGE, PF_LIMITS_HELP, PF_OPTS_HELP);
}

/* The heap of @type's worst calls, created on first use; NULL when out of memory. */
static struct pf_topn *worst_of(struct state *st, uint32_t type)
{
	if (PF_GROW_ZEROED(st->worst, st->nworst, type, 64) < 0)
		return NULL;
	struct pf_topn *t = &st->worst[type];
	return t->heap || pf_topn_init(t, st->k) == 0 ? t : NULL;
}

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (pf_agg_add(&st->agg, sp) < 0) {
		st->oom = true;
		return;
	}
	if (st->k == 0)
		return;
	struct pf_topn *t = worst_of(st, sp->type);
	if (!t || pf_topn_offer(t, &st->sc->spans, sp) < 0)
		st->oom = true;
}

/* A summary's call: its type's aggregate already counts a finished one; a running one
 * is counted here, as on_span() counts the running actions of traces. */
static int on_call(void *userdata, const struct pf_call *c)
{
	struct state *st = userdata;
	if (c->running) {
		struct pf_span sp = {.type = c->type,
				     .start_wall = c->start_wall,
				     .duration_ns = c->duration_ns,
				     .self_ns = c->self_ns,
				     .running = true};
		if (pf_agg_add(&st->agg, &sp) < 0)
			return -1;
	}
	if (st->k == 0)
		return 0;
	struct pf_topn *t = worst_of(st, c->type);
	return t ? pf_topn_offer_call(t, c) : -1;
}

static const struct pf_names *sort_names; /* for cmp_verdicts() */

/* Failing types first, then those judged, then by name. */
static int cmp_verdicts(const void *a, const void *b)
{
	const struct verdict *x = a, *y = b;
	if (x->v.fail != y->v.fail)
		return x->v.fail ? -1 : 1;
	if (x->few != y->few)
		return x->few ? 1 : -1;
	return strcmp(pf_names_str(sort_names, x->type), pf_names_str(sort_names, y->type));
}

static void print_table(const struct pf_global *g, const struct pf_scan *sc,
			const struct pf_limits *lim, const struct verdict *v, size_t n)
{
	size_t ncols = 3, col[PF_LIMITS_N];
	for (size_t i = 0; i < PF_LIMITS_N; i++)
		if (lim->set[i])
			col[i] = ncols++ - 1;
	struct pf_table *t = pf_table_new(ncols);
	char heads[PF_LIMITS_N][64];
	if (!t)
		return;
	pf_table_column(t, 0, "TYPE", PF_LEFT);
	pf_table_column(t, 1, "COUNT", PF_RIGHT);
	for (size_t i = 0; i < PF_LIMITS_N; i++) {
		if (!lim->set[i])
			continue;
		char d[PF_DURATION_MAX];
		pf_duration_format(lim->ns[i], d, sizeof(d));
		snprintf(heads[i], sizeof(heads[i]), "%s \xe2\x89\xa4 %s", pf_limit_checks[i].name,
			 d);
		pf_table_column(t, col[i], heads[i], PF_RIGHT);
	}
	pf_table_column(t, ncols - 1, "RESULT", PF_LEFT);
	for (size_t r = 0; r < n; r++) {
		pf_table_cell(t, PF_PLAIN, "%s", pf_names_str(&sc->names, v[r].type));
		pf_table_cell(t, PF_PLAIN, "%llu", (unsigned long long)v[r].t->count);
		char failed[64] = "";
		for (size_t i = 0; i < PF_LIMITS_N; i++) {
			if (!lim->set[i])
				continue;
			char d[PF_DURATION_MAX];
			pf_duration_format(v[r].v.observed[i], d, sizeof(d));
			pf_table_cell(t, v[r].v.over[i] ? PF_RED : PF_PLAIN, "%s%s", d,
				      v[r].is_max[i] ? "*" : "");
			if (v[r].v.over[i])
				snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed),
					 "%s%s", *failed ? ", " : "", pf_limit_checks[i].opt);
		}
		if (v[r].few)
			pf_table_cell(t, PF_PLAIN, "too few calls");
		else if (v[r].v.fail)
			pf_table_cell(t, PF_RED, "FAIL (%s)", failed);
		else
			pf_table_cell(t, PF_GREEN, "PASS");
		pf_table_row_end(t);
	}
	pf_table_print(t, stdout, g->color);
	pf_table_free(t);
}

/* Below the table: which percentiles rest on too few calls to mean more than the max. */
static void print_few_note(const struct pf_limits *lim, const struct verdict *v, size_t n)
{
	for (size_t i = 0; i < PF_LIMITS_N; i++) {
		if (!lim->set[i] || pf_limit_checks[i].q >= 1)
			continue;
		size_t k = 0;
		uint64_t most = 0;
		for (size_t r = 0; r < n; r++)
			if (v[r].is_max[i]) {
				k++;
				most = v[r].t->count > most ? v[r].t->count : most;
			}
		if (k)
			printf("* %s of %s%llu call%s is the slowest call (%zu type%s): too few "
			       "calls for it; --min-count leaves such types out\n",
			       pf_limit_checks[i].opt, k > 1 ? "up to " : "",
			       (unsigned long long)most, most == 1 ? "" : "s", k,
			       k == 1 ? "" : "s");
	}
}

/* @type's worst calls, or NULL when none was offered (a type a summary counted without
 * keeping calls of it). */
static const struct pf_topn *worst_kept(const struct state *st, uint32_t type)
{
	return type < st->nworst ? &st->worst[type] : NULL;
}

static void print_worst(const struct pf_call_ctx *ctx, struct state *st, const struct verdict *v,
			size_t n)
{
	for (size_t r = 0; r < n && st->k; r++) {
		if (!v[r].v.fail)
			continue;
		const struct pf_topn *t = worst_kept(st, v[r].type);
		char d[PF_DURATION_MAX];
		pf_duration_format(v[r].v.lowest_over, d, sizeof(d));
		printf("\nWorst %s calls (over %s):\n", pf_names_str(ctx->names, v[r].type), d);
		for (size_t i = 0; t && i < t->n; i++)
			if (t->heap[i]->duration_ns > v[r].v.lowest_over)
				pf_call_print_line(ctx, t->heap[i], stdout);
	}
}

/* The listed worst calls' inputs, read again from their files: the scan kept none (see
 * analysis/refetch.h). Returns 0, or -1 when out of memory. */
static int fetch_inputs(const struct pf_scan *sc, struct state *st, const struct verdict *v,
			size_t n)
{
	struct pf_call **calls = NULL;
	size_t m = 0, cap = 0;
	for (size_t r = 0; r < n && st->k; r++) {
		if (!v[r].v.fail)
			continue;
		const struct pf_topn *t = worst_kept(st, v[r].type);
		for (size_t i = 0; t && i < t->n; i++) {
			if (t->heap[i]->duration_ns <= v[r].v.lowest_over)
				continue;
			if (PF_GROW(calls, cap, m, 16) < 0) {
				free(calls);
				return -1;
			}
			calls[m++] = t->heap[i];
		}
	}
	long missing = m ? pf_refetch_inputs(&sc->in, calls, m) : 0;
	free(calls);
	if (missing > 0)
		pf_warn("the inputs of %ld of the worst calls could not be read again: their "
			"files changed since",
			missing);
	return missing < 0 ? -1 : 0;
}

static void print_json(const struct pf_call_ctx *ctx, const struct pf_scan *sc, struct state *st,
		       const struct pf_limits *lim, const struct verdict *v, size_t n, bool pass)
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "sla");
	pf_scan_json_summary(sc, &j);
	pf_json_key(&j, "quantile_relative_error");
	pf_json_double(&j, PF_HIST_REL_ERROR);
	pf_json_key(&j, "limits");
	pf_json_object_begin(&j);
	for (size_t i = 0; i < PF_LIMITS_N; i++) {
		if (!lim->set[i])
			continue;
		pf_json_key(&j, pf_limit_checks[i].key);
		pf_json_uint(&j, lim->ns[i]);
	}
	pf_json_object_end(&j);
	pf_json_key(&j, "pass");
	pf_json_bool(&j, pass);
	pf_json_key(&j, "types");
	pf_json_array_begin(&j);
	for (size_t r = 0; r < n; r++) {
		pf_json_object_begin(&j);
		pf_json_key(&j, "type");
		pf_json_str(&j, pf_names_str(&sc->names, v[r].type));
		pf_json_key(&j, "count");
		pf_json_uint(&j, v[r].t->count);
		pf_json_key(&j, "judged");
		pf_json_bool(&j, !v[r].few);
		pf_json_key(&j, "pass");
		pf_json_bool(&j, !v[r].v.fail);
		pf_json_key(&j, "failed");
		pf_json_array_begin(&j);
		for (size_t i = 0; i < PF_LIMITS_N; i++)
			if (v[r].v.over[i])
				pf_json_str(&j, pf_limit_checks[i].opt);
		pf_json_array_end(&j);
		pf_json_key(&j, "observed");
		pf_json_object_begin(&j);
		for (size_t i = 0; i < PF_LIMITS_N; i++) {
			if (!lim->set[i])
				continue;
			pf_json_key(&j, pf_limit_checks[i].key);
			pf_json_uint(&j, v[r].v.observed[i]);
		}
		pf_json_object_end(&j);
		/* How sure: each percentile's 95 % interval, and which are just the max. */
		pf_json_key(&j, "ci95");
		pf_json_object_begin(&j);
		for (size_t i = 0; i < PF_LIMITS_N; i++) {
			if (!lim->set[i] || pf_limit_checks[i].q >= 1)
				continue;
			uint64_t lo, hi;
			quantile_ci(&v[r].t->hist, pf_limit_checks[i].q, &lo, &hi);
			pf_json_key(&j, pf_limit_checks[i].key);
			pf_json_array_begin(&j);
			pf_json_uint(&j, lo);
			pf_json_uint(&j, hi);
			pf_json_array_end(&j);
		}
		pf_json_object_end(&j);
		pf_json_key(&j, "percentile_is_max");
		pf_json_array_begin(&j);
		for (size_t i = 0; i < PF_LIMITS_N; i++)
			if (v[r].is_max[i])
				pf_json_str(&j, pf_limit_checks[i].opt);
		pf_json_array_end(&j);
		pf_json_key(&j, "worst");
		pf_json_array_begin(&j);
		if (v[r].v.fail && st->k) {
			const struct pf_topn *t = worst_kept(st, v[r].type);
			for (size_t i = 0; t && i < t->n; i++)
				if (t->heap[i]->duration_ns > v[r].v.lowest_over)
					pf_call_json(ctx, t->heap[i], &j);
		}
		pf_json_array_end(&j);
		pf_json_object_end(&j);
	}
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

static int parse_args(int argc, char **argv, struct pf_opts *o, struct pf_limits *lim, size_t *k,
		      uint64_t *min_count)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    PF_LIMITS_LONG,
	    {"worst", required_argument, NULL, PF_OPT_FIRST_CMD},
	    {"min-count", required_argument, NULL, PF_OPT_FIRST_CMD + 1},
	    {0},
	};
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT, longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(o, c, optarg, "sla", USAGE)) < 0 ||
		    (!ret && (ret = pf_limits_handle(lim, c, optarg, "sla", USAGE)) < 0))
			return -ret;
		if (ret > 0)
			continue;
		uint64_t v;
		if (c == PF_OPT_FIRST_CMD + 1) {
			if (pf_opts_count("sla", USAGE, "--min-count", optarg, 1, UINT64_MAX, &v))
				return PF_EXIT_USAGE;
			*min_count = v;
			continue;
		}
		if (c != PF_OPT_FIRST_CMD)
			return pf_opts_unknown(c, argv, "sla", USAGE);
		if (pf_opts_count("sla", USAGE, "--worst", optarg, 0, MAX_WORST, &v))
			return PF_EXIT_USAGE;
		*k = v;
	}
	if (o->help)
		return 0;
	if (!pf_limits_any(lim))
		return pf_usage_error("sla", USAGE,
				      "no limit given (--p50, --p90, --p95, --p99, --p999, --max)");
	if (optind >= argc)
		return pf_usage_error("sla", USAGE, "no trace file given");
	return 0;
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	struct pf_opts o = {0};
	struct pf_limits lim = {0};
	size_t k = 3;
	uint64_t min_count = 1;
	int ret = parse_args(argc, argv, &o, &lim, &k, &min_count);
	if (ret)
		return ret;
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	struct pf_scan sc;
	struct state st = {.sc = &sc, .k = k};
	struct verdict *v = NULL;
	struct pf_summary sum = {0};
	pf_agg_init(&st.agg);
	ret = pf_sumscan_run(&sc, &sum, &o, argv + optind, (size_t)(argc - optind),
			     k > 0 ? PF_SCAN_END_DATA | PF_SCAN_OPEN_LEVELS : 0, on_span, &st);
	/* An action still running when its trace ended lasted at least as long as it had
	 * run by then: a lower bound that fails a limit it exceeds (a hang fails the gate). */
	if (ret == PF_EXIT_OK)
		pf_scan_foreach_inflight(&sc, on_span, &st);
	if (ret == PF_EXIT_OK && (pf_sumscan_agg(&sum, &st.agg) < 0 ||
				  pf_sumscan_calls(&sum, true, true, on_call, &st) < 0))
		st.oom = true;
	if (ret == PF_EXIT_OK && sum.files && k > sum.k)
		pf_warn("the summaries keep the %zu slowest finished actions of each type: "
			"--worst %zu may leave out some",
			sum.k, k);
	if (ret == PF_EXIT_OK && st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if (ret != PF_EXIT_OK)
		goto out;
	v = calloc(st.agg.n ? st.agg.n : 1, sizeof(*v));
	if (!v) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	size_t n = 0, nfail = 0, nfew = 0;
	for (uint32_t type = 0; type < st.agg.n; type++) {
		const struct pf_typestat *t = pf_agg_get(&st.agg, type);
		/* perflog's own types (perflog:remote_task, ...) only when --type asks. */
		if (!t || (!o.type_glob && pf_names_internal(pf_names_str(&sc.names, type))))
			continue;
		struct verdict *w = &v[n++];
		w->type = type;
		w->t = t;
		pf_limits_check(&lim, &t->hist, &w->v);
		for (size_t i = 0; i < PF_LIMITS_N; i++)
			w->is_max[i] =
			    lim.set[i] && pf_limit_checks[i].q < 1 && t->count > 1 &&
			    pf_hist_quantile_rank(&t->hist, pf_limit_checks[i].q) >= t->count;
		w->few = t->count < min_count;
		if (w->few) {
			w->v.fail = false; /* not judged */
			memset(w->v.over, 0, sizeof(w->v.over));
			nfew++;
		}
		nfail += w->v.fail;
		if (w->v.fail && type < st.nworst)
			pf_topn_sort(&st.worst[type]);
	}
	sort_names = &sc.names;
	qsort(v, n, sizeof(*v), cmp_verdicts);
	bool pass = n > nfew && nfail == 0;
	if (nfail && fetch_inputs(&sc, &st, v, n) < 0) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	struct pf_call_ctx ctx = {&sc.names, &sc.in, g->color};
	if (o.json) {
		print_json(&ctx, &sc, &st, &lim, v, n, pass);
	} else {
		if (n) {
			print_table(g, &sc, &lim, v, n);
			print_few_note(&lim, v, n);
		}
		print_worst(&ctx, &st, v, n);
		if (n)
			putchar('\n');
		pf_scan_notes(&sc, stdout);
		if (n == 0)
			printf(
			    "sla: FAIL: no action matched (check the trace files, --type and the "
			    "filters)\n");
		else if (n == nfew)
			printf("sla: FAIL: no action type had %llu calls (--min-count): nothing "
			       "was judged\n",
			       (unsigned long long)min_count);
		else if (nfail)
			printf("sla: FAIL: %zu of %zu action type%s over the limits\n", nfail,
			       n - nfew, n - nfew == 1 ? "" : "s");
		else
			printf("sla: PASS: %zu action type%s within the limits\n", n - nfew,
			       n - nfew == 1 ? "" : "s");
		if (nfew && n != nfew)
			printf("(%zu type%s with fewer than %llu calls not judged)\n", nfew,
			       nfew == 1 ? "" : "s", (unsigned long long)min_count);
	}
	ret = pass ? PF_EXIT_OK : PF_EXIT_FAILED;
out:
	free(v);
	for (uint32_t i = 0; i < st.nworst; i++)
		pf_topn_destroy(&st.worst[i]);
	free(st.worst);
	pf_agg_destroy(&st.agg);
	pf_scan_destroy(&sc);
	pf_summary_destroy(&sum);
	return ret;
}

const struct pf_cmd pf_cmd_sla = {
    .name = "sla",
    .summary = "check latency limits per action type (exit 1 when one is exceeded)",
    .run = run,
};
