/* SPDX-License-Identifier: MIT */
/* cmd/stats.c - `perfan stats`: per action type count, failures, total and self time,
 * mean, percentiles and max, sorted by total time (where to look first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/agg.h"
#include "core/scan.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "fmt/table.h"
#include "fmt/units.h"
#include "perfan.h"
#include "summary/sumscan.h"

#define USAGE "perfan stats [--sort KEY] [FILTERS] [--json] TRACE|SUMMARY..."

static const double quantiles[] = {0.5, 0.9, 0.95, 0.99, 0.999};
static const char *const qkeys[] = {"p50_ns", "p90_ns", "p95_ns", "p99_ns", "p999_ns"};
#define NQ (sizeof(quantiles) / sizeof(quantiles[0]))

/* The percentile keys are in the order of quantiles[], so S_P50 + i sorts by q[i]. */
enum sort_key {
	S_TOTAL,
	S_SELF,
	S_COUNT,
	S_FAILED,
	S_MEAN,
	S_P50,
	S_P90,
	S_P95,
	S_P99,
	S_P999,
	S_MAX,
	S_TYPE
};
static const char *const sort_names[] = {"total", "self", "count", "failed", "mean", "p50",
					 "p90",	  "p95",  "p99",   "p99.9",  "max",  "type"};

struct row {
	uint32_t type;
	const char *name;
	const struct pf_typestat *t;
	uint64_t mean, q[NQ];
};

static enum sort_key sort_by;

static uint64_t sort_value(const struct row *r)
{
	switch (sort_by) {
	case S_SELF:
		return r->t->self_ns;
	case S_COUNT:
		return r->t->count;
	case S_FAILED:
		return r->t->failures;
	case S_MEAN:
		return r->mean;
	case S_P50:
	case S_P90:
	case S_P95:
	case S_P99:
	case S_P999:
		return r->q[sort_by - S_P50];
	case S_MAX:
		return r->t->hist.max;
	default:
		return r->t->total_ns;
	}
}

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (sort_by != S_TYPE) {
		uint64_t vx = sort_value(x), vy = sort_value(y);
		if (vx != vy)
			return vx > vy ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

static void help(void)
{
	printf("Usage: %s\n"
	       "\n"
	       "Per action type: count, failures, total time, self time (total minus the time of\n"
	       "direct children), mean, p50, p90, p95, p99, p99.9 and max of the durations.\n"
	       "Percentiles are nearest-rank within 0.39%% relative error (exact below 256 ns).\n"
	       "\n"
	       "      --sort KEY      order of the rows, largest first: total (default), self,\n"
	       "                      count, failed, mean, p50, p90, p95, p99, p99.9, max;\n"
	       "                      or type (by name)\n"
	       "%s",
	       USAGE, PF_OPTS_HELP);
}

struct state {
	struct pf_agg agg;
	bool oom;
};

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (pf_agg_add(&st->agg, sp) < 0)
		st->oom = true;
}

static void print_table(const struct pf_global *g, const struct row *rows, size_t n)
{
	static const char *const heads[] = {"TYPE", "COUNT", "FAILED", "TOTAL", "SELF",	 "MEAN",
					    "P50",  "P90",   "P95",    "P99",	"P99.9", "MAX"};
	size_t ncols = sizeof(heads) / sizeof(heads[0]);
	struct pf_table *t = pf_table_new(ncols);
	if (!t)
		return;
	for (size_t i = 0; i < ncols; i++)
		pf_table_column(t, i, heads[i], i ? PF_RIGHT : PF_LEFT);
	for (size_t r = 0; r < n; r++) {
		const struct row *w = &rows[r];
		uint64_t durs[] = {w->t->total_ns, w->t->self_ns, w->mean, w->q[0],	  w->q[1],
				   w->q[2],	   w->q[3],	  w->q[4], w->t->hist.max};
		pf_table_cell(t, PF_PLAIN, "%s", w->name);
		pf_table_cell(t, PF_PLAIN, "%llu", (unsigned long long)w->t->count);
		pf_table_cell(t, w->t->failures ? PF_RED : PF_PLAIN, "%llu",
			      (unsigned long long)w->t->failures);
		for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
			char d[PF_DURATION_MAX];
			pf_duration_format(durs[i], d, sizeof(d));
			pf_table_cell(t, PF_PLAIN, "%s", d);
		}
		pf_table_row_end(t);
	}
	pf_table_print(t, stdout, g->color);
	pf_table_free(t);
}

static void print_json(const struct pf_scan *sc, const struct row *rows, size_t n)
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "stats");
	pf_scan_json_summary(sc, &j);
	pf_json_key(&j, "quantile_relative_error");
	pf_json_double(&j, PF_HIST_REL_ERROR);
	pf_json_key(&j, "sort");
	pf_json_str(&j, sort_names[sort_by]);
	pf_json_key(&j, "types");
	pf_json_array_begin(&j);
	for (size_t r = 0; r < n; r++) {
		const struct row *w = &rows[r];
		pf_json_object_begin(&j);
		pf_json_key(&j, "type");
		pf_json_str(&j, w->name);
		pf_json_key(&j, "count");
		pf_json_uint(&j, w->t->count);
		pf_json_key(&j, "failures");
		pf_json_uint(&j, w->t->failures);
		pf_json_key(&j, "total_ns");
		pf_json_uint(&j, w->t->total_ns);
		pf_json_key(&j, "self_ns");
		pf_json_uint(&j, w->t->self_ns);
		pf_json_key(&j, "mean_ns");
		pf_json_uint(&j, w->mean);
		pf_json_key(&j, "min_ns");
		pf_json_uint(&j, w->t->hist.min);
		for (size_t i = 0; i < NQ; i++) {
			pf_json_key(&j, qkeys[i]);
			pf_json_uint(&j, w->q[i]);
		}
		pf_json_key(&j, "max_ns");
		pf_json_uint(&j, w->t->hist.max);
		pf_json_object_end(&j);
	}
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"sort", required_argument, NULL, PF_OPT_FIRST_CMD},
	    {0},
	};
	struct pf_opts o = {0};
	int c, ret;
	sort_by = S_TOTAL;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT, longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "stats", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c != PF_OPT_FIRST_CMD)
			return pf_opts_unknown(c, argv, "stats", USAGE);
		size_t k = 0;
		while (k < sizeof(sort_names) / sizeof(sort_names[0]) &&
		       strcmp(optarg, sort_names[k]))
			k++;
		if (k == sizeof(sort_names) / sizeof(sort_names[0]))
			return pf_usage_error("stats", USAGE,
					      "--sort: unknown key '%s' (keys: total, self, count, "
					      "failed, mean, p50, p90, p95, p99, p99.9, max, type)",
					      optarg);
		sort_by = (enum sort_key)k;
	}
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	if (optind >= argc)
		return pf_usage_error("stats", USAGE, "no trace file given");

	struct state st = {0};
	struct pf_agg *agg = &st.agg;
	struct pf_scan sc;
	struct row *rows = NULL;
	struct pf_summary sum = {0};
	pf_agg_init(agg);
	ret =
	    pf_sumscan_run(&sc, &sum, &o, argv + optind, (size_t)(argc - optind), 0, on_span, &st);
	if (ret == PF_EXIT_OK && pf_sumscan_agg(&sum, agg) < 0)
		st.oom = true;
	if (ret == PF_EXIT_OK && st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if (ret != PF_EXIT_OK)
		goto out;
	size_t n = 0;
	rows = calloc(agg->n ? agg->n : 1, sizeof(*rows));
	if (!rows) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	for (uint32_t type = 0; type < agg->n; type++) {
		const struct pf_typestat *t = pf_agg_get(agg, type);
		if (!t)
			continue;
		struct row *w = &rows[n++];
		*w = (struct row){type,
				  pf_names_str(&sc.names, type),
				  t,
				  (t->total_ns + t->count / 2) / t->count,
				  {0}};
		for (size_t i = 0; i < NQ; i++)
			w->q[i] = pf_hist_quantile(&t->hist, quantiles[i]);
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	if (o.json) {
		print_json(&sc, rows, n);
	} else {
		print_table(g, rows, n);
		if (n == 0)
			printf("(no action matched)\n");
		pf_scan_notes(&sc, stdout);
	}
out:
	free(rows);
	pf_scan_destroy(&sc);
	pf_summary_destroy(&sum);
	pf_agg_destroy(agg);
	return ret;
}

const struct pf_cmd pf_cmd_stats = {
    .name = "stats",
    .summary = "per action type: count, failures, total/self time, percentiles",
    .run = run,
};
