/* SPDX-License-Identifier: MIT */
/* cmd/diff.c - `perfan diff BASE NEW`: per action type, count and p50/p95/p99 in two sets
 * of traces and their relative change; a regression is a percentile that grew by more than
 * the threshold, for a type with enough actions on both sides (exit 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
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

#define USAGE "perfan diff [--threshold PCT] [--min-count N] [FILTERS] [--json] BASE NEW"

static const double quantiles[] = {0.5, 0.95, 0.99};
static const char *const qnames[] = {"p50", "p95", "p99"};
#define NQ (sizeof(quantiles) / sizeof(quantiles[0]))

enum { OPT_THRESHOLD = PF_OPT_FIRST_CMD, OPT_MIN_COUNT };

/* What one side knows of a type. */
struct side {
	const struct pf_typestat *t; /* NULL: the type is absent from this side */
	uint64_t q[NQ];
};

enum status { ST_REGRESSION, ST_OK, ST_FEW, ST_NEW, ST_GONE };
static const char *const status_names[] = {"regression", "ok", "few", "new", "gone"};

struct row {
	const char *name;
	struct side s[2];  /* base, new */
	double change[NQ]; /* (new - base) / base; NAN when not comparable */
	bool regressed[NQ];
	enum status status;
};

static void help(void)
{
	printf(
	    "Usage: %s\n"
	    "\n"
	    "Compare two sets of traces, BASE (e.g. the last release) and NEW: per action type\n"
	    "present in either, the count and p50, p95 and p99 of the durations on both sides\n"
	    "and their relative change (NEW - BASE) / BASE. BASE and NEW are each a trace file\n"
	    "or a directory of them. The filters apply to both sides (relative times count from\n"
	    "each side's own input).\n"
	    "\n"
	    "A type regressed when its p50, p95 or p99 grew by more than the threshold and it has\n"
	    "at least --min-count actions on both sides (with fewer it is shown as 'few' and "
	    "never\n"
	    "flagged). Types present on one side only are 'new' or 'gone'. Percentiles are\n"
	    "nearest-rank within 0.39%% relative error, so a change within about 0.8%% of the\n"
	    "threshold may go either way.\n"
	    "\n"
	    "      --threshold PCT   allowed growth in percent (default 10: '10', '10%%', "
	    "'2.5%%')\n"
	    "      --min-count N     actions needed on each side to judge a type (default 10)\n"
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
	if (x->status != y->status)
		return x->status < y->status ? -1 : 1;
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

static void judge(struct row *w, double threshold, uint64_t min_count)
{
	const struct side *b = &w->s[0], *nw = &w->s[1];
	for (size_t i = 0; i < NQ; i++) {
		w->change[i] = NAN;
		w->regressed[i] = false;
	}
	if (!b->t) {
		w->status = ST_NEW;
		return;
	}
	if (!nw->t) {
		w->status = ST_GONE;
		return;
	}
	for (size_t i = 0; i < NQ; i++)
		if (b->q[i] > 0)
			w->change[i] = ((double)nw->q[i] - (double)b->q[i]) / (double)b->q[i];
	if (b->t->count < min_count || nw->t->count < min_count) {
		w->status = ST_FEW;
		return;
	}
	w->status = ST_OK;
	for (size_t i = 0; i < NQ; i++) {
		/* new > base * (1 + threshold), in integers where it matters: base 0 never
		 * regresses (no relative change). */
		if (b->q[i] > 0 && (double)nw->q[i] > (double)b->q[i] * (1.0 + threshold)) {
			w->regressed[i] = true;
			w->status = ST_REGRESSION;
		}
	}
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

static void print_table(const struct pf_global *g, const struct row *rows, size_t n)
{
	static const char *const heads[] = {"TYPE",   "COUNT", "P50",	 "CHANGE", "P95",
					    "CHANGE", "P99",   "CHANGE", "STATUS"};
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
		for (size_t i = 0; i < NQ; i++) {
			char d[2][PF_DURATION_MAX];
			for (int s = 0; s < 2; s++) {
				if (w->s[s].t)
					pf_duration_format(w->s[s].q[i], d[s], sizeof(d[s]));
				else
					snprintf(d[s], sizeof(d[s]), "-");
			}
			pf_table_cell(t, PF_PLAIN, "%s \xe2\x86\x92 %s", d[0], d[1]);
			if (isnan(w->change[i]))
				pf_table_cell(t, PF_PLAIN, "-");
			else
				pf_table_cell(t,
					      w->regressed[i]	       ? PF_RED
					      : w->change[i] < -0.0005 ? PF_GREEN
								       : PF_PLAIN,
					      "%+.1f%%", 100.0 * w->change[i]);
		}
		pf_table_cell(t, w->status == ST_REGRESSION ? PF_RED : PF_PLAIN, "%s",
			      w->status == ST_REGRESSION ? "REGRESSION" : status_names[w->status]);
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

static void print_json(const struct pf_scan sc[2], const struct row *rows, size_t n,
		       double threshold, uint64_t min_count, size_t nreg)
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "diff");
	pf_json_key(&j, "threshold_percent");
	pf_json_double(&j, 100.0 * threshold);
	pf_json_key(&j, "min_count");
	pf_json_uint(&j, min_count);
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
		pf_json_key(&j, "status");
		pf_json_str(&j, status_names[w->status]);
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
		pf_json_key(&j, "regressed");
		pf_json_array_begin(&j);
		for (size_t i = 0; i < NQ; i++)
			if (w->regressed[i])
				pf_json_str(&j, qnames[i]);
		pf_json_array_end(&j);
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
	    {0},
	};
	struct pf_opts o = {0};
	double threshold = 0.10;
	uint64_t min_count = 10;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT, longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "diff", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c == OPT_THRESHOLD) {
			if (parse_threshold(optarg, &threshold) < 0)
				return pf_usage_error("diff", USAGE,
						      "--threshold: '%s' is not a percentage "
						      "(e.g. 10%%)",
						      optarg);
		} else if (c == OPT_MIN_COUNT) {
			uint64_t v;
			if (pf_opts_count("diff", USAGE, "--min-count", optarg, 0, UINT64_MAX, &v))
				return PF_EXIT_USAGE;
			min_count = v;
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
	struct row *rows = NULL;
	int scanned = 0;
	ret = PF_EXIT_OK;
	for (int s = 0; s < 2 && ret == PF_EXIT_OK; s++) {
		pf_agg_init(&st[s].agg);
		ret = pf_scan_run(&sc[s], &o, argv + optind + s, 1, false, on_span, &st[s]);
		scanned++;
		if (ret == PF_EXIT_OK && st[s].oom) {
			pf_error("out of memory");
			ret = PF_EXIT_UNREADABLE;
		}
	}
	if (ret != PF_EXIT_OK)
		goto out;
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
		judge(&rows[r], threshold, min_count);
		nreg += rows[r].status == ST_REGRESSION;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	if (o.json) {
		print_json(sc, rows, n, threshold, min_count, nreg);
	} else {
		print_table(g, rows, n);
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
			printf("%zu type%s regressed: p50, p95 or p99 grew by more than %g%% "
			       "(types with at least %llu actions on both sides)\n",
			       nreg, nreg == 1 ? "" : "s", 100.0 * threshold,
			       (unsigned long long)min_count);
		else
			printf("no regression: no p50, p95 or p99 grew by more than %g%% "
			       "(types with at least %llu actions on both sides)\n",
			       100.0 * threshold, (unsigned long long)min_count);
	}
	if (nreg)
		ret = PF_EXIT_FAILED;
out:
	free(rows);
	for (int s = 0; s < scanned; s++) {
		pf_scan_destroy(&sc[s]);
		pf_agg_destroy(&st[s].agg);
	}
	return ret;
}

const struct pf_cmd pf_cmd_diff = {
    .name = "diff",
    .summary = "per action type: change of p50/p95/p99 and count between two trace sets",
    .run = run,
};
