/* SPDX-License-Identifier: MIT */
/* cmd/diff.c - `perfan diff BASE NEW`: per action type, the change of a percentile
 * between two sets of traces, with its 95 % interval and p-value (analysis/signif.h); a
 * regression is a change that is both significant (p below --alpha over the number of
 * types compared) and larger than --threshold (exit 1). A gate that fires on noise is
 * switched off within a week: the significance test is what keeps two runs of the same
 * program from "regressing".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/agg.h"
#include "analysis/signif.h"
#include "core/scan.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "fmt/table.h"
#include "fmt/units.h"
#include "perfan.h"
#include "summary/sumscan.h"
#include "util/hash.h"

#define USAGE                                                                                      \
	"perfan diff [--percentile P] [--threshold PCT] [--min-change D] [--alpha A] "             \
	"[--min-count N] [FILTERS] [--json] BASE NEW"

static const double quantiles[] = {0.5, 0.95, 0.99};
static const char *const qnames[] = {"p50", "p95", "p99"};
#define NQ (sizeof(quantiles) / sizeof(quantiles[0]))

enum { OPT_THRESHOLD = PF_OPT_FIRST_CMD, OPT_MIN_COUNT, OPT_ALPHA, OPT_PERCENTILE, OPT_MIN_CHANGE };

/* The percentiles --percentile takes. */
static const struct {
	const char *name;
	double q;
} percentiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"p99.9", 0.999}};

/* What one side knows of a type. */
struct side {
	const struct pf_typestat *t; /* NULL: the type is absent from this side */
	uint64_t q[NQ];
};

/* In the order the table lists them. */
enum verdict { V_REGRESSED, V_IMPROVED, V_SAME, V_FEW, V_NEW, V_GONE };
static const char *const verdict_names[] = {"regressed",     "improved", "no significant change",
					    "too few calls", "new",	 "gone"};

struct row {
	const char *name;
	struct side s[2];  /* base, new */
	double change[NQ]; /* (new - base) / base; NAN when not comparable */
	bool compared;	   /* enough calls on both sides: tested */
	struct pf_signif sig;
	enum verdict verdict;
};

/* What the verdicts rest on. */
struct judging {
	const char *pname; /* "p50" */
	double q;
	double threshold;	/* relative: 0.10 */
	uint64_t min_change_ns; /* absolute: a smaller change of the percentile never counts */
	double alpha;		/* before the correction */
	double alpha_m;		/* alpha / number of types compared (Bonferroni) */
	uint64_t min_count;
	size_t compared;
};

static void help(void)
{
	printf(
	    "Usage: %s\n"
	    "\n"
	    "Compare two sets of traces, BASE (e.g. the last release) and NEW: per action type\n"
	    "present in either, the count, the chosen percentile of the durations on both sides,\n"
	    "its relative change (NEW - BASE) / BASE with a 95%% confidence interval, the\n"
	    "p-value of 'no change', and a verdict. BASE and NEW are each a trace file or a\n"
	    "directory of them. The filters apply to both sides (relative times count from each\n"
	    "side's own input).\n"
	    "\n"
	    "Verdicts: 'regressed' when the change is significant (p below ALPHA divided by the\n"
	    "number of types compared) and larger than the threshold; 'improved' likewise for\n"
	    "a decrease; 'no significant change' otherwise; 'too few calls' when a side has\n"
	    "fewer than --min-count; 'new' or 'gone' when a side has none. The interval and the\n"
	    "p-value come from a bootstrap of the percentile computed from perfan's histograms\n"
	    "(docs/perfan.md: the method and its limits); they assume independent calls.\n"
	    "\n"
	    "      --percentile P    p50 (default), p90, p95, p99 or p99.9\n"
	    "      --threshold PCT   smallest change that counts, in percent (default 10: '10',\n"
	    "                        '10%%', '2.5%%')\n"
	    "      --min-change D    smallest change that counts, as a duration (default 0):\n"
	    "                        sub-microsecond bodies move by more than 10%% between\n"
	    "                        two runs of a busy machine\n"
	    "      --alpha A         significance level before correction (default 0.01)\n"
	    "      --min-count N     calls needed on each side to judge a type (default 10)\n"
	    "%s"
	    "\n"
	    "Exit status: 0 no regression, 1 at least one regression, 2 usage error, 3 BASE or\n"
	    "NEW could not be read.\n",
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

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->verdict != y->verdict)
		return x->verdict < y->verdict ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Add @side's types to @rows, matched by name: the base's (side 0) first, noting the row
 * of each base type number in @row_of; then the new side's, found in the base's names by
 * a hash lookup (linear in the number of types). Returns the new row count. */
static size_t collect(struct row *rows, size_t n, int side, const struct pf_scan *sc,
		      const struct pf_agg *agg, const struct pf_names *base, uint32_t *row_of,
		      bool with_internal)
{
	for (uint32_t type = 0; type < agg->n; type++) {
		const struct pf_typestat *t = pf_agg_get(agg, type);
		const char *name = pf_names_str(&sc->names, type);
		/* perflog's own types (perflog:remote_task, ...) only when --type asks. */
		if (!t || (!with_internal && pf_names_internal(name)))
			continue;
		size_t r = n;
		if (side == 1) {
			uint32_t b = pf_names_find(base, name);
			if (b != PF_NAME_NONE && row_of[b] != UINT32_MAX)
				r = row_of[b];
		}
		if (r == n) {
			memset(&rows[n], 0, sizeof(rows[n]));
			rows[n].name = name;
			if (side == 0)
				row_of[type] = (uint32_t)n;
			n++;
		}
		rows[r].s[side].t = t;
		for (size_t i = 0; i < NQ; i++)
			rows[r].s[side].q[i] = pf_hist_quantile(&t->hist, quantiles[i]);
	}
	return n;
}

/* First pass: the changes of p50/p95/p99, and whether the type can be tested. */
static void prepare(struct row *w, const struct judging *jg)
{
	const struct side *b = &w->s[0], *nw = &w->s[1];
	for (size_t i = 0; i < NQ; i++)
		w->change[i] = NAN;
	w->sig = (struct pf_signif){NAN, NAN, NAN, NAN};
	w->compared = false;
	if (!b->t) {
		w->verdict = V_NEW;
		return;
	}
	if (!nw->t) {
		w->verdict = V_GONE;
		return;
	}
	for (size_t i = 0; i < NQ; i++)
		if (b->q[i] > 0)
			w->change[i] = ((double)nw->q[i] - (double)b->q[i]) / (double)b->q[i];
	if (b->t->count < jg->min_count || nw->t->count < jg->min_count) {
		w->verdict = V_FEW;
		return;
	}
	w->compared = true;
}

/* Second pass, once the number of types compared is known. Returns -1 out of memory. */
static int judge(struct row *w, const struct judging *jg)
{
	if (!w->compared)
		return 0;
	/* Seeded by the name: the same inputs give the same verdict, run after run. */
	uint64_t seed = pf_hash_bytes(w->name, strlen(w->name), 0x5eed);
	if (pf_signif_quantile(&w->s[0].t->hist, &w->s[1].t->hist, jg->q, seed, &w->sig) < 0)
		return -1;
	uint64_t qb = pf_hist_quantile(&w->s[0].t->hist, jg->q);
	uint64_t qn = pf_hist_quantile(&w->s[1].t->hist, jg->q);
	uint64_t delta = qn > qb ? qn - qb : qb - qn;
	bool significant = w->sig.p_value < jg->alpha_m && delta >= jg->min_change_ns;
	if (significant && w->sig.change > jg->threshold)
		w->verdict = V_REGRESSED;
	else if (significant && w->sig.change < -jg->threshold)
		w->verdict = V_IMPROVED;
	else
		w->verdict = V_SAME;
	return 0;
}

static void count_cell(struct pf_table *t, const struct row *w)
{
	char c[2][24];
	for (int s = 0; s < 2; s++) {
		if (w->s[s].t)
			snprintf(c[s], sizeof(c[s]), "%llu", (unsigned long long)w->s[s].t->count);
		else
			snprintf(c[s], sizeof(c[s]), "-");
	}
	pf_table_cell(t, PF_PLAIN, "%s \xe2\x86\x92 %s", c[0], c[1]);
}

static void print_table(const struct pf_global *g, const struct judging *jg, const struct row *rows,
			size_t n)
{
	const char *heads[] = {"TYPE", "COUNT", jg->pname, "CHANGE", "95% CI", "P", "VERDICT"};
	char up[8];
	snprintf(up, sizeof(up), "%s", jg->pname);
	for (char *c = up; *c; c++)
		*c = *c == 'p' ? 'P' : *c;
	heads[2] = up;
	size_t ncols = sizeof(heads) / sizeof(heads[0]);
	struct pf_table *t = pf_table_new(ncols);
	if (!t)
		return;
	for (size_t i = 0; i < ncols; i++)
		pf_table_column(t, i, heads[i], i && i < ncols - 1 ? PF_RIGHT : PF_LEFT);
	for (size_t r = 0; r < n; r++) {
		const struct row *w = &rows[r];
		pf_table_cell(t, PF_PLAIN, "%s", w->name);
		count_cell(t, w);
		char d[2][PF_DURATION_MAX];
		for (int s = 0; s < 2; s++) {
			if (w->s[s].t)
				pf_duration_format(pf_hist_quantile(&w->s[s].t->hist, jg->q), d[s],
						   sizeof(d[s]));
			else
				snprintf(d[s], sizeof(d[s]), "-");
		}
		pf_table_cell(t, PF_PLAIN, "%s \xe2\x86\x92 %s", d[0], d[1]);
		if (w->compared && !isnan(w->sig.change)) {
			pf_table_cell(t,
				      w->verdict == V_REGRESSED	 ? PF_RED
				      : w->verdict == V_IMPROVED ? PF_GREEN
								 : PF_PLAIN,
				      "%+.1f%%", 100.0 * w->sig.change);
			pf_table_cell(t, PF_PLAIN, "%+.1f%%..%+.1f%%", 100.0 * w->sig.ci_low,
				      100.0 * w->sig.ci_high);
			if (w->sig.p_value < 0.0001)
				pf_table_cell(t, PF_PLAIN, "<0.0001");
			else
				pf_table_cell(t, PF_PLAIN, "%.4f", w->sig.p_value);
		} else {
			/* Not tested (too few calls, new, gone): the change alone, when there
			 * is one, without an interval or a p-value. */
			uint64_t b = w->s[0].t ? pf_hist_quantile(&w->s[0].t->hist, jg->q) : 0;
			uint64_t nw = w->s[1].t ? pf_hist_quantile(&w->s[1].t->hist, jg->q) : 0;
			if (w->s[0].t && w->s[1].t && b > 0)
				pf_table_cell(t, PF_PLAIN, "%+.1f%%",
					      100.0 * ((double)nw - (double)b) / (double)b);
			else
				pf_table_cell(t, PF_PLAIN, "-");
			pf_table_cell(t, PF_PLAIN, "-");
			pf_table_cell(t, PF_PLAIN, "-");
		}
		pf_table_cell(t, w->verdict == V_REGRESSED ? PF_RED : PF_PLAIN, "%s",
			      w->verdict == V_REGRESSED ? "REGRESSED" : verdict_names[w->verdict]);
		pf_table_row_end(t);
	}
	pf_table_print(t, stdout, g->color);
	pf_table_free(t);
}

static void json_side(struct pf_json *j, const struct side *s)
{
	if (!s->t) {
		pf_json_null(j);
		return;
	}
	pf_json_object_begin(j);
	pf_json_key(j, "count");
	pf_json_uint(j, s->t->count);
	pf_json_key(j, "failures");
	pf_json_uint(j, s->t->failures);
	for (size_t i = 0; i < NQ; i++) {
		char k[16];
		snprintf(k, sizeof(k), "%s_ns", qnames[i]);
		pf_json_key(j, k);
		pf_json_uint(j, s->q[i]);
	}
	pf_json_object_end(j);
}

static void json_num(struct pf_json *j, const char *key, double v)
{
	pf_json_key(j, key);
	if (isnan(v))
		pf_json_null(j);
	else
		pf_json_double(j, v);
}

/* --json when a side could not be read: each side's inputs and counters, and which. */
static void print_unreadable_json(const struct pf_scan sc[2], int scanned, const int side_ret[2])
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "diff");
	for (int s = 0; s < scanned; s++) {
		pf_json_key(&j, s ? "new" : "base");
		pf_json_object_begin(&j);
		pf_scan_json_summary(&sc[s], &j);
		pf_json_object_end(&j);
	}
	pf_json_key(&j, "error");
	pf_json_str(&j, side_ret[0] && side_ret[1] ? "neither side could be read"
			: side_ret[0]		   ? "the base side could not be read"
						   : "the new side could not be read");
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

static void print_json(const struct pf_scan sc[2], const struct judging *jg, const struct row *rows,
		       size_t n, size_t nreg)
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "diff");
	pf_json_key(&j, "percentile");
	pf_json_str(&j, jg->pname);
	pf_json_key(&j, "threshold_percent");
	pf_json_double(&j, 100.0 * jg->threshold);
	pf_json_key(&j, "min_change_ns");
	pf_json_uint(&j, jg->min_change_ns);
	pf_json_key(&j, "alpha");
	pf_json_double(&j, jg->alpha);
	pf_json_key(&j, "types_compared");
	pf_json_uint(&j, jg->compared);
	pf_json_key(&j, "alpha_corrected");
	pf_json_double(&j, jg->alpha_m);
	pf_json_key(&j, "min_count");
	pf_json_uint(&j, jg->min_count);
	pf_json_key(&j, "quantile_relative_error");
	pf_json_double(&j, PF_HIST_REL_ERROR);
	for (int s = 0; s < 2; s++) {
		pf_json_key(&j, s ? "new" : "base");
		pf_json_object_begin(&j);
		pf_scan_json_summary(&sc[s], &j);
		pf_json_object_end(&j);
	}
	pf_json_key(&j, "regressions");
	pf_json_uint(&j, nreg);
	pf_json_key(&j, "types");
	pf_json_array_begin(&j);
	for (size_t r = 0; r < n; r++) {
		const struct row *w = &rows[r];
		pf_json_object_begin(&j);
		pf_json_key(&j, "type");
		pf_json_str(&j, w->name);
		pf_json_key(&j, "verdict");
		pf_json_str(&j, verdict_names[w->verdict]);
		pf_json_key(&j, "base");
		json_side(&j, &w->s[0]);
		pf_json_key(&j, "new");
		json_side(&j, &w->s[1]);
		for (size_t i = 0; i < NQ; i++) {
			char k[16];
			snprintf(k, sizeof(k), "%s_change", qnames[i]);
			pf_json_key(&j, k);
			if (isnan(w->change[i]))
				pf_json_null(&j);
			else
				pf_json_double(&j, w->change[i]);
		}
		json_num(&j, "change", w->sig.change);
		json_num(&j, "ci_low", w->sig.ci_low);
		json_num(&j, "ci_high", w->sig.ci_high);
		json_num(&j, "p_value", w->sig.p_value);
		pf_json_object_end(&j);
	}
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

static int parse_threshold(const char *arg, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (end == arg || errno || !isfinite(v) || v < 0)
		return -1;
	if (*end == '%')
		end++;
	if (*end)
		return -1;
	*out = v / 100.0;
	return 0;
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"threshold", required_argument, NULL, OPT_THRESHOLD},
	    {"min-count", required_argument, NULL, OPT_MIN_COUNT},
	    {"alpha", required_argument, NULL, OPT_ALPHA},
	    {"percentile", required_argument, NULL, OPT_PERCENTILE},
	    {"min-change", required_argument, NULL, OPT_MIN_CHANGE},
	    {0},
	};
	struct pf_opts o = {0};
	struct judging jg = {"p50", 0.5, 0.10, 0, 0.01, 0.01, 10, 0};
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT, longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "diff", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c == OPT_THRESHOLD) {
			if (parse_threshold(optarg, &jg.threshold) < 0)
				return pf_usage_error("diff", USAGE,
						      "--threshold: '%s' is not a percentage "
						      "(e.g. 10%%)",
						      optarg);
		} else if (c == OPT_MIN_COUNT) {
			uint64_t v;
			if (pf_opts_count("diff", USAGE, "--min-count", optarg, 0, UINT64_MAX, &v))
				return PF_EXIT_USAGE;
			jg.min_count = v;
		} else if (c == OPT_MIN_CHANGE) {
			if (pf_duration_parse(optarg, &jg.min_change_ns) < 0)
				return pf_usage_error(
				    "diff", USAGE,
				    "--min-change: '%s' is not a duration (e.g. 1us)", optarg);
		} else if (c == OPT_ALPHA) {
			char *end;
			errno = 0;
			jg.alpha = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(jg.alpha > 0 && jg.alpha < 1))
				return pf_usage_error(
				    "diff", USAGE,
				    "--alpha: '%s' is not a number between 0 and 1 "
				    "(e.g. 0.01)",
				    optarg);
		} else if (c == OPT_PERCENTILE) {
			size_t k = 0, np = sizeof(percentiles) / sizeof(percentiles[0]);
			while (k < np && strcmp(optarg, percentiles[k].name) != 0)
				k++;
			if (k == np)
				return pf_usage_error("diff", USAGE,
						      "--percentile: '%s' is not one of p50, p90, "
						      "p95, p99, p99.9",
						      optarg);
			jg.pname = percentiles[k].name;
			jg.q = percentiles[k].q;
		} else {
			return pf_opts_unknown(c, argv, "diff", USAGE);
		}
	}
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	if (argc - optind != 2)
		return pf_usage_error("diff", USAGE,
				      argc - optind < 2 ? "give BASE and NEW"
							: "give exactly two paths, BASE and NEW");

	struct state st[2] = {0};
	struct pf_scan sc[2];
	struct pf_summary sum[2] = {0};
	struct row *rows = NULL;
	int scanned = 0, side_ret[2] = {PF_EXIT_OK, PF_EXIT_OK};
	/* Both sides are read even when one cannot be: --json then says which (its own
	 * document, not a scan's "nothing read" one). */
	struct pf_opts quiet = o;
	quiet.json = false;
	ret = PF_EXIT_OK;
	for (int s = 0; s < 2 && ret != PF_EXIT_USAGE && !st[0].oom; s++) {
		pf_agg_init(&st[s].agg);
		int r = pf_sumscan_run(&sc[s], &sum[s], &quiet, argv + optind + s, 1, 0, on_span,
				       &st[s]);
		scanned++;
		if (r == PF_EXIT_OK && pf_sumscan_agg(&sum[s], &st[s].agg) < 0)
			st[s].oom = true;
		if ((r == PF_EXIT_OK && st[s].oom) || sc[s].oom) {
			pf_error("out of memory");
			st[0].oom = true;
			r = PF_EXIT_UNREADABLE;
		}
		side_ret[s] = r;
		if (r != PF_EXIT_OK && ret != PF_EXIT_USAGE)
			ret = r;
	}
	if (ret != PF_EXIT_OK) {
		if (o.json && ret == PF_EXIT_UNREADABLE && !st[0].oom)
			print_unreadable_json(sc, scanned, side_ret);
		goto out;
	}
	rows = calloc((size_t)st[0].agg.n + st[1].agg.n + 1, sizeof(*rows));
	if (!rows) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	uint32_t *row_of = malloc(((size_t)st[0].agg.n + 1) * sizeof(*row_of));
	if (!row_of) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	memset(row_of, 0xff, ((size_t)st[0].agg.n + 1) * sizeof(*row_of));
	bool internal = o.type_glob != NULL;
	size_t n = collect(rows, 0, 0, &sc[0], &st[0].agg, NULL, row_of, internal);
	n = collect(rows, n, 1, &sc[1], &st[1].agg, &sc[0].names, row_of, internal);
	free(row_of);
	size_t nreg = 0;
	for (size_t r = 0; r < n; r++) {
		prepare(&rows[r], &jg);
		jg.compared += rows[r].compared;
	}
	jg.alpha_m = jg.compared ? jg.alpha / (double)jg.compared : jg.alpha;
	for (size_t r = 0; r < n; r++) {
		if (judge(&rows[r], &jg) < 0) {
			pf_error("out of memory");
			ret = PF_EXIT_UNREADABLE;
			goto out;
		}
		nreg += rows[r].verdict == V_REGRESSED;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	if (o.json) {
		print_json(sc, &jg, rows, n, nreg);
	} else {
		print_table(g, &jg, rows, n);
		if (n == 0)
			printf("(no action matched)\n");
		for (int s = 0; s < 2; s++) {
			/* notes of each side, prefixed with its name */
			char *buf = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&buf, &len);
			if (!m)
				continue;
			pf_scan_notes(&sc[s], m);
			fclose(m);
			for (char *line = buf; line && *line;) {
				char *nl = strchr(line, '\n');
				size_t l = nl ? (size_t)(nl - line) : strlen(line);
				printf("%s: %.*s\n", s ? "new" : "base", (int)l, line);
				line += l + (nl ? 1 : 0);
			}
			free(buf);
		}
		if (nreg)
			printf("%zu type%s regressed: ", nreg, nreg == 1 ? "" : "s");
		else
			printf("no regression: no ");
		printf("%s grew by more than %g%% with p < %.2g (alpha %g over %zu type%s "
		       "compared, each with at least %llu calls on both sides)\n",
		       jg.pname, 100.0 * jg.threshold, jg.alpha_m, jg.alpha, jg.compared,
		       jg.compared == 1 ? "" : "s", (unsigned long long)jg.min_count);
	}
	if (nreg)
		ret = PF_EXIT_FAILED;
out:
	free(rows);
	for (int s = 0; s < scanned; s++) {
		pf_scan_destroy(&sc[s]);
		pf_agg_destroy(&st[s].agg);
	}
	pf_summary_destroy(&sum[0]);
	pf_summary_destroy(&sum[1]);
	return ret;
}

const struct pf_cmd pf_cmd_diff = {
    .name = "diff",
    .summary = "per action type: a percentile's change between two trace sets, significance-tested",
    .run = run,
};
