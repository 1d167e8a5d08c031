/* SPDX-License-Identifier: MIT */
/* report.h - private to `perfan report`: what its two passes over the traces gather
 * (cmd/report.c), the JSON document made of it (report/json.c) and the self-contained HTML
 * page that carries the document and draws it (report/html.c, with the template, CSS and
 * JavaScript of analyzer/report/ embedded at build time: report/assets.h).
 *
 * Pass 1 (every selected action): per-type histograms, the slowest actions, the slowest
 * top-level actions (whose tasks get a waterfall), the time range.
 * Pass 2 (knowing the types to chart, their p95 and the tasks): per charted type, latency
 * over time (series.h) and the ranking of inputs (argstats.h); the chosen task trees
 * (waterfall.h) from every event of their tasks.
 */
#ifndef PERFAN_REPORT_H
#define PERFAN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/agg.h"
#include "analysis/argstats.h"
#include "analysis/limits.h"
#include "analysis/topn.h"
#include "core/scan.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "report/series.h"
#include "report/waterfall.h"
#include "summary/summary.h"

/** Time buckets of the latency-over-time charts. */
#define PF_REPORT_BUCKETS 100
/** Slowest calls of each charted type always drawn in its scatter, beside the sample. */
#define PF_REPORT_SLOW_POINTS 10
/** Seed of the scatter sample: fixed, so that the same traces give the same page. */
#define PF_REPORT_SEED 0x7065726661ull

struct pf_report {
	/* The command line. */
	struct pf_opts o;
	struct pf_limits lim;
	const char *output; /* "-": stdout */
	size_t nslowest, ntrees, ntypes, npoints;
	size_t nchildren; /* --children: children drawn per node of a tree (0: all) */
	char **argv;	  /* for the page: the arguments after "report" */
	int argc;
	char *const *paths;
	size_t npaths;

	/* Pass 1. */
	bool pass1;
	struct pf_scan sc1;
	struct pf_agg agg;
	struct pf_topn slowest;	   /* the table */
	struct pf_topn roots;	   /* the slowest top-level actions: their tasks' trees */
	struct pf_topn any;	   /* the slowest actions, for trees when no root is selected */
	struct pf_topn inflight;   /* the longest-running actions still open at the end */
	int64_t first_ns, last_ns; /* earliest start, latest end of the selected actions */
	int64_t last_start;	   /* latest start */
	bool range_set;		   /* an action set them */
	struct pf_summary sum1;	   /* the summaries among the inputs, as pass 1 read them */

	/* Between the passes: pass-1 type numbers by total time, the first @ncharted charted. */
	uint32_t *rank;
	size_t nrank, ncharted;
	bool trees_of_roots;

	/* Pass 2. */
	bool pass2;
	struct pf_scan sc2;
	uint32_t *chart_of; /* by pass-2 type number: 0 not looked up, 1 not charted, 2 + index */
	uint32_t nchart_of;
	struct pf_series *series;   /* by charted index */
	struct pf_argstats *inputs; /* by charted index */
	struct pf_waterfall wf;
	struct pf_summary sum2; /* the summaries, read again: series and inputs */

	bool oom;
};

/**
 * struct pf_report_sink - where the JSON document goes: @f escapes '<', '>' and '&' (so
 * that no byte sequence of the traces can close the <script> element holding it) and
 * counts in @bytes what it wrote, to keep each part of the page within its budget.
 */
struct pf_report_sink {
	FILE *f;	/* the escaping stream */
	FILE *out;	/* the page, which @f writes into */
	uint64_t bytes; /* written through @f so far (after fflush(@f)) */
};

/** pf_report_json() - the document the page's script draws (report/json.c). */
void pf_report_json(struct pf_report *r, struct pf_report_sink *sink);

/**
 * pf_report_html() - write the page to @out (report/html.c).
 * Returns: 0, or -1 on a write error or when out of memory (errno set).
 */
int pf_report_html(struct pf_report *r, FILE *out);

#endif /* PERFAN_REPORT_H */
