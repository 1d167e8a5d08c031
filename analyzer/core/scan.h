/* SPDX-License-Identifier: MIT */
/* scan.h - the loop every analysis shares: open the inputs, merge them, pair STARTs and
 * ENDs into spans, filter, and hand each selected span to the subcommand.
 */
#ifndef PERFAN_SCAN_H
#define PERFAN_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/filter.h"
#include "core/input.h"
#include "core/names.h"
#include "core/spans.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"

struct pf_scan {
	struct pf_input in;
	struct pf_names names;
	struct pf_spans spans;
	struct pf_filter filter;
	pf_span_fn fn; /* the subcommand's callback, for selected spans only */
	void (*ev_fn)(void *userdata, const struct pf_event *ev); /* every event, or NULL */
	void *userdata;
	uint64_t actions;	    /* completed actions */
	uint64_t selected;	    /* of which passed the filters */
	uint64_t dropped_events;    /* events the writers reported lost (DROPPED records) */
	bool inflight_shown;	    /* pf_scan_foreach_inflight() ran: they are reported */
	uint64_t inflight_selected; /* of which passed the filters */
	bool oom;
	/* What the summaries among the inputs counted (summary/sumscan.h adds them; their
	 * actions and records are in the counters above, their inputs sources of @in). */
	uint64_t sum_unfinished, sum_unmatched;
	uint64_t sum_running; /* running actions they keep that --type selects */
};

/**
 * pf_scan_run() - read everything, calling @fn(@userdata, span) for each selected span.
 * @keep_inputs: keep START fields so that spans carry their inputs.
 * Returns: PF_EXIT_OK, or PF_EXIT_UNREADABLE when no input could be read or memory ran
 * out (message printed). Damaged inputs only warn. Call pf_scan_destroy() in every case.
 */
int pf_scan_run(struct pf_scan *sc, const struct pf_opts *o, char *const *paths, size_t npaths,
		bool keep_inputs, pf_span_fn fn, void *userdata);

/* What pf_scan_run_events() keeps (flags, or'ed). */
enum {
	PF_SCAN_INPUTS = PF_INPUT_FIELDS,     /* START fields: spans carry their inputs */
	PF_SCAN_META = PF_INPUT_META,	      /* THREAD and DROPPED events reach @ev_fn too */
	PF_SCAN_END_DATA = PF_INPUT_END_DATA, /* without PF_SCAN_INPUTS: ENDs' outputs and
					       * exceptions all the same (spans carry no
					       * inputs: analysis/refetch.h reads a few again) */
	PF_SCAN_OPEN_LEVELS = 1 << 8,	      /* open actions keep their level path (spans.h) */
	PF_SCAN_SUMMARIES = 1 << 9,	      /* summaries are accepted among the inputs (only
					       * --type may be given with them) */
};

/**
 * pf_scan_run_events() - as pf_scan_run(), and call @ev_fn(@userdata, event) for every
 * START, END and MESSAGE event of the merged stream (and THREAD and DROPPED with
 * PF_SCAN_META), before pairing it (so an END's @ev_fn comes before its span's @fn).
 * @flags: PF_SCAN_INPUTS, PF_SCAN_META, PF_SCAN_END_DATA, PF_SCAN_OPEN_LEVELS,
 * PF_SCAN_SUMMARIES.
 * Without PF_SCAN_SUMMARIES a summary among the inputs is a usage error (the subcommand
 * needs records); with it, they are left in @sc->in.summaries for summary/sumscan.h,
 * and only --type may be given.
 * Returns: as pf_scan_run(), or PF_EXIT_USAGE (message printed).
 */
int pf_scan_run_events(struct pf_scan *sc, const struct pf_opts *o, char *const *paths,
		       size_t npaths, unsigned flags, pf_span_fn fn,
		       void (*ev_fn)(void *userdata, const struct pf_event *ev), void *userdata);

/**
 * pf_scan_foreach_inflight() - after a scan, call @fn(@userdata, span) for each action
 * still running when its file ended (a crash, kill -9, a hang, a live process) that passes
 * the filters: @running set, @duration_ns how long it had been running at its process's
 * last sign of life (the latest record or clock checkpoint of the process's files: host
 * and pid), @self_ns that less its finished children, @end NULL. The scan needs
 * PF_SCAN_OPEN_LEVELS for task ids and paths, and PF_SCAN_INPUTS for inputs.
 */
void pf_scan_foreach_inflight(struct pf_scan *sc, pf_span_fn fn, void *userdata);

/** pf_scan_unfinished() - actions still open at the end (traces and summaries). */
uint64_t pf_scan_unfinished(const struct pf_scan *sc);

/** pf_scan_unmatched() - ENDs without their START (traces and summaries). */
uint64_t pf_scan_unmatched(const struct pf_scan *sc);

/**
 * pf_scan_source_json() - one input file as a JSON object: "path", "pid" and "host" (from
 * its header), "records" read, "dropped" (events its writer reported lost: DROPPED
 * records), "status" ("read", or "damaged": read up to an offset) and "error": null, or
 * {"offset", "reason"} of the damage where reading stopped.
 */
void pf_scan_source_json(const struct pf_source *s, struct pf_json *j);

/**
 * pf_scan_json_counters() - the scan's counters as members of an object:
 * "unreadable_inputs", "records", "actions", "selected", "unfinished" (and, after
 * pf_scan_foreach_inflight(), "unfinished_selected"), "unmatched_ends" and
 * "dropped_events".
 */
void pf_scan_json_counters(const struct pf_scan *sc, struct pf_json *j);

/**
 * pf_scan_json_summary() - "inputs": an array of pf_scan_source_json() objects, one per
 * file read, then one per input not read ({"path", "status": "unreadable" or "skipped",
 * "error": {"reason"}}), then pf_scan_json_counters(), as members of an object.
 */
void pf_scan_json_summary(const struct pf_scan *sc, struct pf_json *j);

/**
 * pf_scan_json_nothing_read() - the --json document of subcommand @cmd when no input of
 * @in could be read: "command", pf_scan_json_summary() (every counter 0) and "error", so
 * that a script reading stdout gets an answer rather than nothing.
 */
void pf_scan_json_nothing_read(const struct pf_input *in, const char *cmd);

/** pf_scan_notes() - lines about unfinished actions, unmatched ENDs and drops, if any. */
void pf_scan_notes(const struct pf_scan *sc, FILE *f);

/** pf_scan_notes_events() - the same for a listing of events (timeline): an unfinished
 * action is a start without an end there, an unmatched END is not shown. */
void pf_scan_notes_events(const struct pf_scan *sc, FILE *f);

void pf_scan_destroy(struct pf_scan *sc);

#endif /* PERFAN_SCAN_H */
