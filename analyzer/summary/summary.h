/* SPDX-License-Identifier: MIT */
/* summary.h - what `perfan summarize` keeps of a set of traces, so that stats, slowest,
 * inflight, sla and diff answer from it exactly as from the traces (docs/format.md,
 * "Summaries"), and summaries of parts merge into the summary of the whole.
 *
 * What it keeps, per action type: the aggregate (count, failures, total and self time,
 * the histogram: histograms add bucket by bucket); the @k slowest finished actions as
 * calls (call.h: duration, inputs, path, process...; the k slowest of a union are among
 * the k slowest of its parts, and calls rank by a total order, so merging is exact for
 * any N <= k); and every action still running when its process's files ended (each
 * with how long it had run by its process's last sign of life: exact when all files of a
 * process are summarized together, which is why partitions are by process). Besides: the
 * scan's counters, and the inputs (as struct pf_source, appended to the scan's inputs).
 * And per type its calls grouped by argument values and context (argstats.h) with a
 * histogram per group, for `perfan inputs`: with no tail, as the parts have no common
 * p95; the reader of merged summaries sets it from the histograms (pf_argstats_retail).
 * And per type (the same types) its durations over time (slots.h: for `perfan report`),
 * (the time range of each type's actions is in its aggregate, agg.h).
 *
 * Memory: one aggregate per type, at most k calls per type, and the running actions.
 */
#ifndef PERFAN_SUMMARY_H
#define PERFAN_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/agg.h"
#include "analysis/argstats.h"
#include "analysis/call.h"
#include "analysis/slots.h"
#include "analysis/topn.h"
#include "core/spans.h"

/** The summary format's version (docs/format.md): readers refuse any other. */
#define PF_SUMMARY_VERSION 1
/** Finished calls kept per type unless summarize -k says otherwise: enough for the
 *  largest default -n (sla's, slowest's, inflight's) and `slowest -n 100`. */
#define PF_SUMMARY_K_DEFAULT 100
#define PF_SUMMARY_K_MAX     100000
/** Types with argument statistics in a summary being made: the first ones seen (each may
 *  take megabytes: a million types must not take gigabytes); of them, the
 *  PF_SUMMARY_INPUT_TYPES_KEPT with the most total time are written. */
#define PF_SUMMARY_INPUT_TYPES	    1024
#define PF_SUMMARY_INPUT_TYPES_KEPT 256

/** The scan's counters a summary carries (added to the scan's when it is read). */
struct pf_summary_counts {
	uint64_t records, actions, unfinished, unmatched;
};

struct pf_summary {
	size_t k;		  /* finished calls kept per type */
	struct pf_agg agg;	  /* finished actions, by type number */
	struct pf_topn *top;	  /* by type number: the k slowest finished (heap) */
	uint32_t ntop;		  /* entries of @top */
	struct pf_call **running; /* every selected action still running at its end */
	size_t nrunning, running_cap;
	struct pf_argstats *inputs; /* by type number: argument and context groups */
	uint32_t ninputs;	    /* entries of @inputs */
	uint32_t inputs_used;	    /* types with statistics (PF_SUMMARY_INPUT_TYPES) */
	uint64_t inputs_left_out;   /* calls of types past it, not grouped */
	struct pf_slots *slots;	    /* by type number, for the types of @inputs */
	uint32_t nslots;
	struct pf_summary_counts counts; /* of the summaries read (pf_summary_read) */
	bool lean;			 /* made with summarize --lean: no groups, no slots */
	size_t lean_files;		 /* summaries read that were lean */
	size_t files;			 /* summaries read into it */
};

/** pf_summary_init() - an empty summary keeping @k calls per type (1..PF_SUMMARY_K_MAX). */
void pf_summary_init(struct pf_summary *s, size_t k);

/**
 * pf_summary_add_span() - count finished span @sp (during the scan's span callback).
 * Returns: 0, or -1 when out of memory.
 */
int pf_summary_add_span(struct pf_summary *s, const struct pf_spans *spans,
			const struct pf_span *sp);

/**
 * pf_summary_add_running() - keep running span @sp (pf_scan_foreach_inflight()'s callback).
 * Returns: 0, or -1 when out of memory.
 */
int pf_summary_add_running(struct pf_summary *s, const struct pf_spans *spans,
			   const struct pf_span *sp);

/**
 * pf_summary_add_call() - keep a copy of @c, a call of another summary: among the running
 * ones if @c->running, else among its type's slowest. Returns: 0, or -1 (out of memory).
 */
int pf_summary_add_call(struct pf_summary *s, const struct pf_call *c);

/**
 * pf_summary_merge_type() - add a type's aggregate @t (another summary's) into @type's.
 * Returns: 0, or -1 when out of memory.
 */
int pf_summary_merge_type(struct pf_summary *s, uint32_t type, const struct pf_typestat *t);

/**
 * pf_summary_inputs() - @type's argument statistics (created empty on first use), for
 * pf_argstats_add() and pf_context_add() or pf_argstats_merge(). NULL when out of memory,
 * or with *@full set when PF_SUMMARY_INPUT_TYPES types have statistics already.
 */
struct pf_argstats *pf_summary_inputs(struct pf_summary *s, uint32_t type, bool *full);

/**
 * pf_summary_slots() - @type's durations over time, when it has argument statistics
 * (pf_summary_inputs() made them); NULL otherwise, or when out of memory.
 */
struct pf_slots *pf_summary_slots(struct pf_summary *s, uint32_t type);

/**
 * pf_summary_sorted() - the kept finished calls of @type, slowest first, and their number
 * in *@n (the heap is sorted in place; add nothing afterwards). NULL when there are none.
 */
struct pf_call **pf_summary_sorted(struct pf_summary *s, uint32_t type, size_t *n);

/** pf_summary_destroy() - free everything (@s may be zeroed memory). */
void pf_summary_destroy(struct pf_summary *s);

#endif /* PERFAN_SUMMARY_H */
