/* SPDX-License-Identifier: MIT */
/* cmd/report.c - `perfan report -o report.html`: one self-contained HTML page to look at
 * rather than read: per type a latency histogram with its percentiles and SLA limits,
 * latency over time, waterfalls of the slowest task trees, the slowest calls with their
 * inputs and which inputs make the top types slow.
 *
 * Options and the two passes over the traces are here (what they gather: report.h); the
 * document is written by report/json.c into the page of report/html.c. The output file
 * is created only once the traces are read, so that unreadable input leaves an older
 * report in place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/context.h"
#include "analysis/refetch.h"
#include "fmt/opts.h"
#include "fmt/output.h"
#include "fmt/units.h"
#include "perfan.h"
#include "report/report.h"
#include "summary/sumfile.h"
#include "summary/sumscan.h"

#define USAGE                                                                                      \
	"perfan report -o FILE [-n N] [--trees N] [--children K] [--types N] [--points N] "        \
	"[--p50 D ... --max D] [FILTERS] TRACE|SUMMARY..."

enum {
	OPT_TREES = PF_OPT_FIRST_CMD,
	OPT_TYPES,
	OPT_POINTS,
	OPT_CHILDREN,
};

/* Option values: default, and largest accepted (they bound the page's size). */
static const struct {
	const char *name;
	size_t def, min, max;
} counts[] = {
    {"--slowest", 20, 1, 1000},
    {"--trees", 5, 0, 50},
    {"--types", 8, 0, 20},
    {"--points", 2000, 0, 5000},
    {"--children", 12, 0, PF_WATERFALL_MAX_NODES},
};

static void help(void)
{
	printf(
	    "Usage: %s\n"
	    "\n"
	    "Write one self-contained HTML page (no network access: inline SVG and a little\n"
	    "JavaScript) about the actions passing the filters:\n"
	    "  - per action type, a histogram of durations on a log scale with p50, p95 and\n"
	    "    p99 marked, and the limits given (as in perfan sla) with PASS or FAIL;\n"
	    "  - for the top types by total time (--types), latency over wall-clock time: p50\n"
	    "    and p99 per time bucket and a scatter plot of a sample of the calls (at most\n"
	    "    --points, drawn with a fixed seed, plus the 10 slowest of each type);\n"
	    "  - waterfalls of the task trees of the slowest top-level actions (--trees; of the\n"
	    "    slowest actions when no top-level action passes the filters), where of an\n"
	    "    action with many children the longest are drawn and the others summed up\n"
	    "    by type in one row (--children);\n"
	    "  - the slowest calls with their inputs, and which inputs make the top types slow\n"
	    "    (as perfan inputs shows);\n"
	    "  - the actions still running when their traces ended (a crash, kill -9, a hang),\n"
	    "    longest-running first, as perfan inflight lists them.\n"
	    "The traces are read twice. Every part that grows with the traces is cut to keep\n"
	    "the page around 2 MB at most, and the page says what it left out. The file is\n"
	    "created with mode 0600, never through a symbolic link: it holds the calls' inputs.\n"
	    "\n"
	    "  -o, --output FILE   the page to write (required; - for stdout)\n"
	    "  -n, --slowest N     rows of the slowest calls, and of the actions in flight\n"
	    "                      (default 20, at most 1000)\n"
	    "      --trees N       task trees drawn (default 5, at most 50)\n"
	    "      --children K    children drawn per action in the trees: the K longest, in\n"
	    "                      their order, the others summed up by type in one row, as\n"
	    "                      perfan tree --children K (default 12; 0: all)\n"
	    "      --types N       types charted over time and ranked by input (default 8, at\n"
	    "                      most 20)\n"
	    "      --points N      sampled points of the scatter plots, shared among the types\n"
	    "                      (default 2000, at most 5000; 0: only the 10 slowest)\n"
	    "%s"
	    "%s",
	    USAGE, PF_LIMITS_HELP, PF_OPTS_HELP_NO_JSON);
}

static int parse_size(const char *arg, size_t which, size_t *out)
{
	uint64_t v;
	if (pf_opts_count("report", USAGE, counts[which].name, arg, counts[which].min,
			  counts[which].max, &v))
		return PF_EXIT_USAGE;
	*out = (size_t)v;
	return 0;
}

static int parse_args(struct pf_report *r, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    PF_LIMITS_LONG,
	    {"output", required_argument, NULL, 'o'},
	    {"slowest", required_argument, NULL, 'n'},
	    {"trees", required_argument, NULL, OPT_TREES},
	    {"types", required_argument, NULL, OPT_TYPES},
	    {"points", required_argument, NULL, OPT_POINTS},
	    {"children", required_argument, NULL, OPT_CHILDREN},
	    {0},
	};
	size_t *sizes[] = {&r->nslowest, &r->ntrees, &r->ntypes, &r->npoints, &r->nchildren};
	_Static_assert(sizeof(sizes) / sizeof(sizes[0]) == sizeof(counts) / sizeof(counts[0]),
		       "a size per counted option");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		*sizes[i] = counts[i].def;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT "o:n:", longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&r->o, c, optarg, "report", USAGE)) < 0 ||
		    (!ret && (ret = pf_limits_handle(&r->lim, c, optarg, "report", USAGE)) < 0))
			return -ret;
		if (ret > 0)
			continue;
		if (c == 'o')
			r->output = optarg;
		else if (c == 'n')
			ret = parse_size(optarg, 0, &r->nslowest);
		else if (c >= OPT_TREES && c <= OPT_CHILDREN)
			ret = parse_size(optarg, (size_t)(c - OPT_TREES + 1),
					 sizes[c - OPT_TREES + 1]);
		else
			return pf_opts_unknown(c, argv, "report", USAGE);
		if (ret)
			return ret;
	}
	if (r->o.help)
		return 0;
	if (r->o.json)
		return pf_usage_error("report", USAGE,
				      "--json: report writes HTML (its data is "
				      "JSON inside the page)");
	if (!r->output)
		return pf_usage_error("report", USAGE, "-o FILE is required (- for stdout)");
	if (optind >= argc)
		return pf_usage_error("report", USAGE, "no trace file given");
	if (strcmp(r->output, "-") &&
	    pf_output_is_input(r->output, argv + optind, (size_t)(argc - optind)))
		return pf_usage_error("report", USAGE, "-o %s: that is one of the traces to read",
				      r->output);
	return 0;
}

/* ---- pass 1: every selected action ------------------------------------------------------- */

/* The time range takes actions started from @first to @last, the last ending at @end. */
static void widen_range(struct pf_report *r, int64_t first, int64_t last, int64_t end)
{
	if (!r->range_set || first < r->first_ns)
		r->first_ns = first;
	if (!r->range_set || end > r->last_ns)
		r->last_ns = end;
	if (!r->range_set || last > r->last_start)
		r->last_start = last;
	r->range_set = true;
}

/* A summary's call: among the slowest (finished) or in flight (running). Summaries give
 * no trees: those need the records. */
static int summary_call1(void *userdata, const struct pf_call *c)
{
	struct pf_report *r = userdata;
	return pf_topn_offer_call(c->running ? &r->inflight : &r->slowest, c);
}

/* After pass 1 over the traces: what the summaries add. Returns 0, or -1 (ENOMEM). */
static int summaries1(struct pf_report *r)
{
	for (uint32_t type = 0; type < r->sum1.agg.n; type++) {
		const struct pf_typestat *t = pf_agg_get(&r->sum1.agg, type);
		if (t)
			widen_range(r, t->first_start, t->last_start, t->last_end);
	}
	return pf_sumscan_agg(&r->sum1, &r->agg) < 0 ||
		       pf_sumscan_calls(&r->sum1, true, true, summary_call1, r) < 0
		   ? -1
		   : 0;
}

static void on_span1(void *userdata, const struct pf_span *sp)
{
	struct pf_report *r = userdata;
	const struct pf_spans *spans = &r->sc1.spans;
	int64_t end = pf_wall_add(sp->start_wall, sp->duration_ns);
	widen_range(r, sp->start_wall, sp->start_wall, end);
	if (pf_agg_add(&r->agg, sp) < 0 || pf_topn_offer(&r->slowest, spans, sp) < 0 ||
	    (sp->depth == 0 && pf_topn_offer(&r->roots, spans, sp) < 0) ||
	    pf_topn_offer(&r->any, spans, sp) < 0)
		r->oom = true;
}

/* An action still running when its trace ended (a crash, kill -9, a hang, a live
 * process): ranked by how long it had been running (pf_scan_foreach_inflight). */
static void on_inflight(void *userdata, const struct pf_span *sp)
{
	struct pf_report *r = userdata;
	if (pf_topn_offer(&r->inflight, &r->sc1.spans, sp) < 0)
		r->oom = true;
}

static const struct pf_report *rank_r; /* for rank_cmp() */

/* By total time, then by name. */
static int rank_cmp(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const struct pf_typestat *x = pf_agg_get(&rank_r->agg, a), *y = pf_agg_get(&rank_r->agg, b);
	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return strcmp(pf_names_str(&rank_r->sc1.names, a), pf_names_str(&rank_r->sc1.names, b));
}

/* What pass 2 needs: the types ranked and charted, their series and inputs, the trees. */
static int prepare(struct pf_report *r)
{
	if (!(r->rank = malloc((r->agg.n ? r->agg.n : 1) * sizeof(*r->rank))))
		return -1;
	for (uint32_t t = 0; t < r->agg.n; t++)
		if (pf_agg_get(&r->agg, t))
			r->rank[r->nrank++] = t;
	rank_r = r;
	qsort(r->rank, r->nrank, sizeof(*r->rank), rank_cmp);
	r->ncharted = r->nrank < r->ntypes ? r->nrank : r->ntypes;
	size_t n = r->ncharted ? r->ncharted : 1;
	if (!(r->series = calloc(n, sizeof(*r->series))) ||
	    !(r->inputs = calloc(n, sizeof(*r->inputs))))
		return -1;
	for (size_t k = 0; k < r->ncharted; k++) {
		const struct pf_typestat *t = pf_agg_get(&r->agg, r->rank[k]);
		if (pf_series_init(&r->series[k], r->first_ns, r->last_start, PF_REPORT_BUCKETS,
				   r->npoints / r->ncharted, PF_REPORT_SLOW_POINTS,
				   PF_REPORT_SEED + k) < 0)
			return -1;
		pf_argstats_init(&r->inputs[k], pf_hist_quantile(&t->hist, 0.95));
	}
	struct pf_topn *trees = r->roots.n ? &r->roots : &r->any;
	r->trees_of_roots = r->roots.n > 0;
	pf_topn_sort(trees);
	pf_topn_sort(&r->slowest);
	for (size_t i = 0; i < trees->n && i < r->ntrees; i++)
		if (pf_waterfall_add(&r->wf, trees->heap[i]) < 0)
			return -1;
	return pf_waterfall_ready(&r->wf);
}

/* The inputs of the slowest and running calls pass 1 ranked, read again from their files
 * (after prepare(): the slowest are sorted). Returns 0, or -1 (ENOMEM). */
static int refetch_inputs(struct pf_report *r)
{
	long a = pf_refetch_inputs(&r->sc1.in, r->slowest.heap, r->slowest.n);
	long b = a < 0 ? a : pf_refetch_inputs(&r->sc1.in, r->inflight.heap, r->inflight.n);
	if (a < 0 || b < 0)
		return -1;
	if (a + b > 0)
		pf_warn("the inputs of %ld of the calls shown could not be read again: their "
			"files changed since",
			a + b);
	return 0;
}

/* ---- pass 2: the charted types and the chosen tasks -------------------------------------- */

/* The charted index of pass-2 type @type, or -1. The passes number types alike (same
 * input, same order), but look it up by name rather than rely on it. */
static long chart_index(struct pf_report *r, uint32_t type)
{
	if (type >= r->nchart_of) {
		uint32_t n = r->nchart_of ? r->nchart_of : 64;
		while (n <= type)
			n *= 2;
		uint32_t *m = realloc(r->chart_of, n * sizeof(*m));
		if (!m) {
			r->oom = true;
			return -1;
		}
		memset(m + r->nchart_of, 0, (n - r->nchart_of) * sizeof(*m));
		r->chart_of = m;
		r->nchart_of = n;
	}
	if (!r->chart_of[type]) {
		const char *name = pf_names_str(&r->sc2.names, type);
		r->chart_of[type] = 1;
		for (size_t k = 0; k < r->ncharted; k++)
			if (!strcmp(name, pf_names_str(&r->sc1.names, r->rank[k])))
				r->chart_of[type] = 2 + (uint32_t)k;
	}
	return (long)r->chart_of[type] - 2;
}

static void on_span2(void *userdata, const struct pf_span *sp)
{
	struct pf_report *r = userdata;
	long k = chart_index(r, sp->type);
	if (k < 0)
		return;
	if (pf_series_add(&r->series[k], sp->start_wall, sp->duration_ns, sp->failed) < 0 ||
	    pf_argstats_add(&r->inputs[k], sp->inputs, sp->inputs_len, sp->duration_ns) < 0 ||
	    pf_context_add(&r->inputs[k], &r->sc2, sp, PF_CTX_ALL) < 0)
		r->oom = true;
}

static int summary_slow2(void *userdata, const struct pf_call *c)
{
	struct pf_report *r = userdata;
	long k = chart_index(r, c->type);
	if (k >= 0)
		pf_series_add_slow(&r->series[k], c->start_wall, c->duration_ns, c->failed);
	return r->oom ? -1 : 0;
}

/* After pass 2 over the traces: the summaries' durations over time, sample, slowest
 * points and input groups of the charted types (their tails then set from the groups'
 * histograms against the type's p95). Returns 0, or -1 when out of memory. */
static int summaries2(struct pf_report *r)
{
	struct pf_summary *s = &r->sum2;
	if (!s->files)
		return 0;
	for (uint32_t type = 0; type < s->ninputs; type++) {
		long k = s->inputs[type].p95 ? chart_index(r, type) : -1;
		if (k < 0)
			continue;
		const struct pf_slots *sl = type < s->nslots ? &s->slots[type] : NULL;
		for (int64_t i = 0; sl && sl->s && i < PF_SLOTS_MAX; i++) {
			int64_t mid =
			    (sl->base + i) * (int64_t)sl->width + (int64_t)(sl->width / 2);
			if (sl->s[i].count && pf_series_add_slot(&r->series[k], mid, &sl->s[i]) < 0)
				return -1;
		}
		if (sl && pf_series_add_sample(&r->series[k], sl->pts, sl->npts, sl->calls) < 0)
			return -1;
		const struct pf_typestat *t = pf_agg_get(&r->agg, r->rank[k]);
		if (pf_argstats_merge(&r->inputs[k], &s->inputs[type]) < 0)
			return -1;
		pf_argstats_retail(&r->inputs[k], &t->hist, r->inputs[k].p95);
	}
	return pf_sumscan_calls(s, true, false, summary_slow2, r);
}

static void on_event2(void *userdata, const struct pf_event *ev)
{
	struct pf_report *r = userdata;
	if (pf_waterfall_event(&r->wf, ev) < 0)
		r->oom = true;
}

/* ---- the command ------------------------------------------------------------------------- */

static int write_page(struct pf_report *r)
{
	FILE *f = strcmp(r->output, "-") ? pf_output_open(r->output) : stdout;
	if (!f) {
		pf_error("%s: cannot write: %s", r->output, pf_output_error(errno));
		return PF_EXIT_UNREADABLE;
	}
	int ret = pf_report_html(r, f);
	if ((f != stdout ? fclose(f) : fflush(f)) != 0 || ret < 0) {
		pf_error("%s: write error: %s", f != stdout ? r->output : "stdout",
			 strerror(errno));
		return PF_EXIT_UNREADABLE;
	}
	return PF_EXIT_OK;
}

static void destroy(struct pf_report *r)
{
	for (size_t k = 0; k < r->ncharted; k++) {
		if (r->series)
			pf_series_destroy(&r->series[k]);
		if (r->inputs)
			pf_argstats_destroy(&r->inputs[k]);
	}
	free(r->series);
	free(r->inputs);
	free(r->rank);
	free(r->chart_of);
	pf_waterfall_destroy(&r->wf);
	pf_topn_destroy(&r->slowest);
	pf_topn_destroy(&r->roots);
	pf_topn_destroy(&r->any);
	pf_topn_destroy(&r->inflight);
	pf_agg_destroy(&r->agg);
	pf_summary_destroy(&r->sum1);
	pf_summary_destroy(&r->sum2);
	if (r->pass2)
		pf_scan_destroy(&r->sc2);
	if (r->pass1)
		pf_scan_destroy(&r->sc1);
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	(void)g;
	struct pf_report r = {0};
	int ret = parse_args(&r, argc, argv);
	if (ret)
		return ret;
	if (r.o.help) {
		help();
		return PF_EXIT_OK;
	}
	r.argc = argc;
	r.argv = argv;
	r.paths = argv + optind;
	r.npaths = (size_t)(argc - optind);
	pf_agg_init(&r.agg);
	pf_waterfall_init(&r.wf);
	if (pf_topn_init(&r.slowest, r.nslowest) < 0 || pf_topn_init(&r.roots, r.ntrees) < 0 ||
	    pf_topn_init(&r.any, r.ntrees) < 0 || pf_topn_init(&r.inflight, r.nslowest) < 0) {
		r.oom = true;
		goto out;
	}
	r.pass1 = true;
	/* Pass 1 shows the inputs of the slowest and running calls only (the trees' come
	 * from pass 2): a few are read again after it rather than all kept (refetch.h). */
	bool refetch = r.nslowest <= PF_REFETCH_FEW;
	ret = pf_sumscan_run(&r.sc1, &r.sum1, &r.o, r.paths, r.npaths,
			     (refetch ? PF_SCAN_END_DATA : PF_SCAN_INPUTS) | PF_SCAN_OPEN_LEVELS,
			     on_span1, &r);
	if (ret != PF_EXIT_OK || r.oom)
		goto out;
	pf_scan_foreach_inflight(&r.sc1, on_inflight, &r);
	if (r.sum1.lean_files) {
		pf_error("report: %zu of the summaries given %s lean (perfan summarize --lean): "
			 "they hold no argument groups or durations over time",
			 r.sum1.lean_files, r.sum1.lean_files == 1 ? "is" : "are");
		ret = PF_EXIT_USAGE;
		goto out;
	}
	if (summaries1(&r) < 0) {
		r.oom = true;
		goto out;
	}
	pf_topn_sort(&r.inflight);
	if (prepare(&r) < 0 || (refetch && refetch_inputs(&r) < 0)) {
		r.oom = true;
		goto out;
	}
	if (r.ncharted || r.wf.n) {
		r.pass2 = true;
		pf_global.quiet = true;
		ret =
		    pf_scan_run_events(&r.sc2, &r.o, r.paths, r.npaths,
				       PF_SCAN_INPUTS | PF_SCAN_SUMMARIES, on_span2, on_event2, &r);
		if (ret == PF_EXIT_OK && r.sc2.in.nsummaries) {
			/* What pf_sumscan_run() does, with the waterfalls' event callback. */
			pf_summary_init(&r.sum2, PF_SUMMARY_K_MAX);
			for (size_t i = 0; i < r.sc2.in.nsummaries && !r.oom; i++)
				r.oom |=
				    pf_summary_read(r.sc2.in.summaries[i], &r.sum2, &r.sc2.names,
						    &r.sc2.in, &r.sc2.filter) == -2;
			r.oom |= summaries2(&r) < 0;
		}
		pf_global.quiet = false;
		if (ret != PF_EXIT_OK) {
			if (!r.sc2.oom)
				pf_error("the input could not be read again");
			r.oom |= r.sc2.oom;
			goto out;
		}
		if (r.oom)
			goto out;
	}
	ret = write_page(&r);
out:
	if (r.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	destroy(&r);
	return ret;
}

const struct pf_cmd pf_cmd_report = {
    .name = "report",
    .summary = "write a self-contained HTML report: histograms, waterfalls, slow inputs",
    .run = run,
};
