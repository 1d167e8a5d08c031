/* SPDX-License-Identifier: MIT */
/* report/json.c - the JSON document of `perfan report` (see report.h): everything the
 * page shows, already aggregated, so that the page's script only draws.
 *
 * Size: every part that grows with the traces is cut at a byte budget (the rest is
 * counted in an "..._omitted" member and the page says so), and the scatter plots hold
 * at most --points points, so that the page stays around 2 MB at most whatever the input.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <perflog/perflog.h>

#include "core/fields.h"
#include "fmt/units.h"
#include "report/report.h"

/* Byte budgets, after escaping; the template adds ~50 KB. */
#define BUDGET_ARGV    (16u << 10)
#define BUDGET_FILES   (64u << 10)
#define BUDGET_TYPES   (320u << 10)
#define BUDGET_SLOWEST (256u << 10)
#define BUDGET_TREES   (640u << 10)
#define BUDGET_INPUTS  (256u << 10)
/* Shown per charted type in the inputs ranking: the top arguments, the top groups each. */
#define INPUT_ARGS   4
#define INPUT_GROUPS 5

struct budget {
	struct pf_report_sink *sink;
	uint64_t start, limit;
};

static struct budget budget_begin(struct pf_report_sink *sink, uint64_t limit)
{
	fflush(sink->f);
	return (struct budget){sink, sink->bytes, limit};
}

/* Is there room for one more element? */
static bool more(struct budget *b)
{
	fflush(b->sink->f);
	return b->sink->bytes - b->start < b->limit;
}

static void json_wall(struct pf_json *j, const char *key, int64_t ns)
{
	char buf[PF_WALL_MAX];
	pf_wall_format(ns, true, buf, sizeof(buf));
	pf_json_key(j, key);
	pf_json_str(j, buf);
}

/* ---- the traces ------------------------------------------------------------------------- */

static void json_inputs(const struct pf_report *r, struct pf_report_sink *sink, struct pf_json *j)
{
	const struct pf_scan *sc = &r->sc1;
	struct budget b = budget_begin(sink, BUDGET_ARGV);
	pf_json_key(j, "argv");
	pf_json_array_begin(j);
	pf_json_str(j, "perfan");
	for (int i = 0; i < r->argc && more(&b); i++)
		pf_json_str(j, r->argv[i]);
	pf_json_array_end(j);

	b = budget_begin(sink, BUDGET_FILES);
	pf_json_key(j, "files");
	pf_json_array_begin(j);
	size_t i = 0;
	for (; i < sc->in.nsrc && more(&b); i++)
		pf_scan_source_json(&sc->in.src[i], j);
	pf_json_array_end(j);
	pf_json_key(j, "files_omitted");
	pf_json_uint(j, sc->in.nsrc - i);
	pf_scan_json_counters(sc, j);
	if (sc->selected) {
		pf_json_key(j, "first_ns");
		pf_json_int(j, r->first_ns);
		pf_json_key(j, "last_ns");
		pf_json_int(j, r->last_ns);
		json_wall(j, "first", r->first_ns);
		json_wall(j, "last", r->last_ns);
	}
}

/* ---- per type --------------------------------------------------------------------------- */

/* Histogram bars for a log axis: powers of two below 256 ns ([0], [1], [2, 3], ...
 * [128, 255]), then a quarter of a power of two each (32 buckets of hist.h). */
static uint32_t bar_of(uint32_t idx)
{
	if (idx < 2 * PF_HIST_SUB)
		return idx ? 64u - (uint32_t)__builtin_clzll(idx) : 0;
	return 9 + ((idx - 2 * PF_HIST_SUB) >> 5);
}

static void bar_bounds(uint32_t bar, uint64_t *lo, uint64_t *hi)
{
	uint64_t l2, h2;
	if (bar < 9) {
		*lo = bar ? 1ull << (bar - 1) : 0;
		*hi = bar ? (1ull << bar) - 1 : 0;
		return;
	}
	uint32_t first = 2 * PF_HIST_SUB + ((bar - 9) << 5);
	pf_hist_bucket_bounds(first, lo, &h2);
	pf_hist_bucket_bounds(first + 31, &l2, hi);
}

static void json_hist(const struct pf_hist *h, struct pf_json *j)
{
	pf_json_array_begin(j);
	uint32_t end = h->first + h->nbuckets; /* bucket numbers held: [first, end) */
	for (uint32_t i = h->first; i < end;) {
		uint32_t bar = bar_of(i);
		uint64_t n = 0;
		for (; i < end && bar_of(i) == bar; i++)
			n += h->counts[i - h->first];
		if (!n)
			continue;
		uint64_t lo, hi;
		bar_bounds(bar, &lo, &hi);
		pf_json_array_begin(j);
		pf_json_uint(j, lo < h->min ? h->min : lo);
		pf_json_uint(j, hi > h->max ? h->max : hi);
		pf_json_uint(j, n);
		pf_json_array_end(j);
	}
	pf_json_array_end(j);
}

static void json_verdict(const struct pf_report *r, const struct pf_verdict *v, struct pf_json *j)
{
	pf_json_object_begin(j);
	pf_json_key(j, "pass");
	pf_json_bool(j, !v->fail);
	pf_json_key(j, "failed");
	pf_json_array_begin(j);
	for (size_t i = 0; i < PF_LIMITS_N; i++)
		if (v->over[i])
			pf_json_str(j, pf_limit_checks[i].opt);
	pf_json_array_end(j);
	pf_json_key(j, "observed");
	pf_json_object_begin(j);
	for (size_t i = 0; i < PF_LIMITS_N; i++) {
		if (!r->lim.set[i])
			continue;
		pf_json_key(j, pf_limit_checks[i].key);
		pf_json_uint(j, v->observed[i]);
	}
	pf_json_object_end(j);
	pf_json_object_end(j);
}

static void json_types(const struct pf_report *r, struct pf_report_sink *sink, struct pf_json *j)
{
	static const struct {
		const char *key;
		double q;
	} qs[] = {{"p50_ns", 0.5},
		  {"p90_ns", 0.9},
		  {"p95_ns", 0.95},
		  {"p99_ns", 0.99},
		  {"p999_ns", 0.999}};
	bool checked = pf_limits_any(&r->lim);
	size_t nfail = 0;
	for (size_t k = 0; k < r->nrank && checked; k++) {
		struct pf_verdict v;
		pf_limits_check(&r->lim, &pf_agg_get(&r->agg, r->rank[k])->hist, &v);
		nfail += v.fail;
	}
	pf_json_key(j, "limits");
	pf_json_object_begin(j);
	for (size_t i = 0; i < PF_LIMITS_N; i++) {
		if (!r->lim.set[i])
			continue;
		pf_json_key(j, pf_limit_checks[i].key);
		pf_json_uint(j, r->lim.ns[i]);
	}
	pf_json_object_end(j);
	pf_json_key(j, "sla");
	if (checked) {
		pf_json_object_begin(j);
		pf_json_key(j, "pass");
		pf_json_bool(j, r->nrank && !nfail);
		pf_json_key(j, "failed_types");
		pf_json_uint(j, nfail);
		pf_json_object_end(j);
	} else {
		pf_json_null(j);
	}

	struct budget b = budget_begin(sink, BUDGET_TYPES);
	pf_json_key(j, "types");
	pf_json_array_begin(j);
	size_t k = 0;
	for (; k < r->nrank && more(&b); k++) {
		const struct pf_typestat *t = pf_agg_get(&r->agg, r->rank[k]);
		pf_json_object_begin(j);
		pf_json_key(j, "type");
		pf_json_str(j, pf_names_str(&r->sc1.names, r->rank[k]));
		pf_json_key(j, "count");
		pf_json_uint(j, t->count);
		pf_json_key(j, "failures");
		pf_json_uint(j, t->failures);
		pf_json_key(j, "total_ns");
		pf_json_uint(j, t->total_ns);
		pf_json_key(j, "self_ns");
		pf_json_uint(j, t->self_ns);
		pf_json_key(j, "mean_ns");
		pf_json_uint(j, (t->total_ns + t->count / 2) / t->count);
		pf_json_key(j, "min_ns");
		pf_json_uint(j, t->hist.min);
		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			pf_json_key(j, qs[i].key);
			pf_json_uint(j, pf_hist_quantile(&t->hist, qs[i].q));
		}
		pf_json_key(j, "max_ns");
		pf_json_uint(j, t->hist.max);
		pf_json_key(j, "charted");
		pf_json_bool(j, k < r->ncharted);
		pf_json_key(j, "sla");
		if (checked) {
			struct pf_verdict v;
			pf_limits_check(&r->lim, &t->hist, &v);
			json_verdict(r, &v, j);
		} else {
			pf_json_null(j);
		}
		pf_json_key(j, "hist");
		json_hist(&t->hist, j);
		pf_json_object_end(j);
	}
	pf_json_array_end(j);
	pf_json_key(j, "types_omitted");
	pf_json_uint(j, r->nrank - k);
}

/* ---- calls, trees, series, inputs ------------------------------------------------------- */

static void json_slowest(const struct pf_report *r, struct pf_report_sink *sink, struct pf_json *j)
{
	struct pf_call_ctx ctx = {&r->sc1.names, &r->sc1.in, false};
	struct budget b = budget_begin(sink, BUDGET_SLOWEST);
	pf_json_key(j, "slowest");
	pf_json_array_begin(j);
	size_t i = 0;
	for (; i < r->slowest.n && more(&b); i++)
		pf_call_json(&ctx, r->slowest.heap[i], j);
	pf_json_array_end(j);
	pf_json_key(j, "slowest_omitted");
	pf_json_uint(j, r->slowest.n - i);
}

static void json_inflight(const struct pf_report *r, struct pf_report_sink *sink, struct pf_json *j)
{
	struct pf_call_ctx ctx = {&r->sc1.names, &r->sc1.in, false};
	struct budget b = budget_begin(sink, BUDGET_SLOWEST);
	pf_json_key(j, "inflight");
	pf_json_array_begin(j);
	size_t i = 0;
	for (; i < r->inflight.n && more(&b); i++)
		pf_call_json(&ctx, r->inflight.heap[i], j);
	pf_json_array_end(j);
	pf_json_key(j, "inflight_omitted");
	pf_json_uint(j, r->inflight.n - i);
	pf_json_key(j, "inflight_total");
	pf_json_uint(j, r->sc1.inflight_selected);
}

static void json_trees(struct pf_report *r, struct pf_json *j)
{
	pf_json_key(j, "trees_of");
	pf_json_str(j, r->trees_of_roots ? "roots" : "actions");
	pf_json_key(j, "tree_children");
	pf_json_uint(j, r->nchildren);
	pf_json_key(j, "trees");
	if (!r->pass2) {
		pf_json_array_begin(j);
		pf_json_array_end(j);
		return;
	}
	pf_waterfall_json(&r->wf, &r->sc2.names, &r->sc2.in, j, BUDGET_TREES,
			  (uint32_t)r->nchildren);
}

static void json_series(const struct pf_report *r, struct pf_json *j)
{
	pf_json_key(j, "series");
	pf_json_object_begin(j);
	pf_json_key(j, "origin_ns");
	pf_json_int(j, r->first_ns);
	pf_json_key(j, "bucket_ns");
	pf_json_uint(j, r->ncharted ? r->series[0].width : 0);
	pf_json_key(j, "nbuckets");
	pf_json_uint(j, r->ncharted ? r->series[0].nbuckets : 0);
	pf_json_key(j, "bucket_rel_error");
	pf_json_double(j, PF_SERIES_REL_ERROR);
	pf_json_key(j, "points");
	pf_json_uint(j, r->npoints);
	pf_json_key(j, "slow_points");
	pf_json_uint(j, PF_REPORT_SLOW_POINTS);
	pf_json_key(j, "types");
	pf_json_array_begin(j);
	for (size_t k = 0; k < r->ncharted && r->pass2; k++) {
		pf_json_object_begin(j);
		pf_json_key(j, "type");
		pf_json_str(j, pf_names_str(&r->sc1.names, r->rank[k]));
		pf_series_json(&r->series[k], r->first_ns, j);
		pf_json_object_end(j);
	}
	pf_json_array_end(j);
	pf_json_object_end(j);
}

static void json_argument(const struct pf_argstats *t, const struct pf_arg *a, struct pf_json *j)
{
	char title[PF_GROUP_LABEL_MAX];
	pf_arg_title(a, title, sizeof(title));
	pf_json_object_begin(j);
	pf_json_key(j, "name");
	pf_json_str(j, a->name);
	pf_json_key(j, "title");
	pf_json_str(j, title);
	pf_json_key(j, "grouping");
	pf_json_str(j, a->context ? "context" : a->by_len ? "length" : "value");
	pf_json_key(j, "calls");
	pf_json_uint(j, a->calls);
	pf_json_key(j, "folded_calls");
	pf_json_uint(j, a->folded_calls);
	pf_json_key(j, "capped_calls");
	pf_json_uint(j, a->capped_calls);
	pf_json_key(j, "groups_total");
	pf_json_uint(j, a->ng);
	pf_json_key(j, "groups");
	pf_json_array_begin(j);
	for (size_t m = 0; m < a->ng && m < INPUT_GROUPS; m++)
		pf_group_json(j, t, &a->g[m]);
	pf_json_array_end(j);
	pf_json_object_end(j);
}

static void json_inputs_rank(struct pf_report *r, struct pf_report_sink *sink, struct pf_json *j)
{
	struct budget b = budget_begin(sink, BUDGET_INPUTS);
	pf_json_key(j, "inputs");
	pf_json_array_begin(j);
	size_t k = 0;
	for (; k < r->ncharted && r->pass2 && more(&b); k++) {
		struct pf_argstats *t = &r->inputs[k];
		pf_argstats_finish(t);
		pf_json_object_begin(j);
		pf_json_key(j, "type");
		pf_json_str(j, pf_names_str(&r->sc1.names, r->rank[k]));
		pf_json_key(j, "count");
		pf_json_uint(j, t->count);
		pf_json_key(j, "p95_ns");
		pf_json_uint(j, t->p95);
		pf_json_key(j, "tail_calls");
		pf_json_uint(j, t->tail_calls);
		pf_json_key(j, "tail_ns");
		pf_json_uint(j, t->tail_ns);
		/* Context groupings with one value in every call: a line, not a table. */
		size_t nuniform = 0;
		for (size_t a = 0; a < t->nargs; a++)
			nuniform += pf_arg_uniform(t, &t->args[a]);
		pf_json_key(j, "arguments_total");
		pf_json_uint(j, t->nargs - nuniform);
		pf_json_key(j, "arguments");
		pf_json_array_begin(j);
		for (size_t a = 0, shown = 0; a < t->nargs && shown < INPUT_ARGS; a++)
			if (!pf_arg_uniform(t, &t->args[a])) {
				json_argument(t, &t->args[a], j);
				shown++;
			}
		pf_json_array_end(j);
		pf_json_key(j, "in_every_call");
		pf_json_array_begin(j);
		for (size_t a = 0; a < t->nargs; a++) {
			if (!pf_arg_uniform(t, &t->args[a]))
				continue;
			char lb[PF_GROUP_LABEL_MAX];
			pf_group_label(&t->args[a].g[0], lb, sizeof(lb));
			pf_json_object_begin(j);
			pf_json_key(j, "name");
			pf_json_str(j, t->args[a].name);
			pf_json_key(j, "value");
			pf_json_str(j, lb);
			pf_json_object_end(j);
		}
		pf_json_array_end(j);
		pf_json_object_end(j);
	}
	pf_json_array_end(j);
	pf_json_key(j, "inputs_omitted");
	pf_json_uint(j, r->pass2 ? r->ncharted - k : 0);
}

void pf_report_json(struct pf_report *r, struct pf_report_sink *sink)
{
	struct pf_json j;
	pf_json_init(&j, sink->f, false);
	pf_json_object_begin(&j);
	pf_json_key(&j, "generator");
	pf_json_str(&j, "perfan report " PL_VERSION_STRING);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	json_wall(&j, "generated", (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	pf_json_key(&j, "quantile_relative_error");
	pf_json_double(&j, PF_HIST_REL_ERROR);
	json_inputs(r, sink, &j);
	json_types(r, sink, &j);
	json_slowest(r, sink, &j);
	json_inflight(r, sink, &j);
	json_trees(r, &j);
	pf_json_key(&j, "summaries"); /* inputs that were summaries: no trees from them */
	pf_json_uint(&j, r->sum1.files);
	json_series(r, &j);
	json_inputs_rank(r, sink, &j);
	pf_json_object_end(&j);
}
