/* SPDX-License-Identifier: MIT */
/* sumscan.h - the scan of the subcommands that accept summaries (stats, slowest,
 * inflight, sla, diff, summarize): traces are scanned as by pf_scan_run_events(), then
 * the summaries among the inputs are read into one merged summary that the subcommand
 * adds to what it collected from the spans.
 */
#ifndef PERFAN_SUMSCAN_H
#define PERFAN_SUMSCAN_H

#include "analysis/agg.h"
#include "core/scan.h"
#include "summary/summary.h"

/**
 * pf_sumscan_run() - pf_scan_run_events(@flags | PF_SCAN_SUMMARIES, no event callback),
 * then read the summaries among the inputs into @sum (initialised here; destroy it in
 * every case): the types and calls --type selects. Their counters are added to @sc's
 * (actions, selected, records, dropped events, unfinished, unmatched, and the running
 * actions pf_scan_foreach_inflight() counts), their inputs become sources of @sc->in;
 * a summary that cannot be read is an unreadable input (message printed).
 * Returns: as pf_scan_run_events(); PF_EXIT_UNREADABLE also when only summaries were
 * given and none could be read.
 */
int pf_sumscan_run(struct pf_scan *sc, struct pf_summary *sum, const struct pf_opts *o,
		   char *const *paths, size_t npaths, unsigned flags, pf_span_fn fn,
		   void *userdata);

/**
 * pf_sumscan_agg() - merge @sum's per type aggregates (finished actions) into @agg.
 * Returns: 0, or -1 when out of memory.
 */
int pf_sumscan_agg(const struct pf_summary *sum, struct pf_agg *agg);

/**
 * pf_sumscan_calls() - call @fn(@userdata, call) for each call @sum keeps: the k slowest
 * finished actions of each type (@finished) and every running one (@running). Stops when
 * @fn returns < 0. Returns: 0, or what @fn returned.
 */
int pf_sumscan_calls(const struct pf_summary *sum, bool finished, bool running,
		     int (*fn)(void *userdata, const struct pf_call *c), void *userdata);

#endif /* PERFAN_SUMSCAN_H */
