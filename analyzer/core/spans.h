/* SPDX-License-Identifier: MIT */
/* spans.h - pair START and END records into completed actions ("spans"), with self time.
 *
 * An END record carries the duration but not the type: the type, the inputs and the
 * start time come from the START with the same (task prefix, task seq, level). Open
 * actions wait in a hash table keyed by that triple, so memory is bounded by the number
 * of actions open at once (plus PF_FIELDS_MAX bytes each when inputs are kept, and
 * PL_TASK_MAX_DEPTH level numbers when levels are), never by the number of events. When an
 * END arrives:
 *   - its START's entry is taken out of the table and the span is handed to a callback;
 *   - its duration is added to the entry of its parent (same task, level minus its last
 *     index), if that is open, so that the parent's self time is its duration minus the
 *     durations of its direct children (clamped at 0: children running in parallel can
 *     add up to more than the parent).
 * Children are joined to parents across threads and files alike: the key is the task id,
 * which is global. Messages (which share the child numbering) are not actions and are
 * ignored here.
 *
 * Keys are compared by task id, depth and a 64-bit hash of the level path; two open
 * actions of one task at different levels of the same depth with the same hash would be
 * confused (probability ~2^-64 per pair of paths not crafted to collide: a trace made to
 * confuse them gets wrong durations and types, nothing worse).
 */
#ifndef PERFAN_SPANS_H
#define PERFAN_SPANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/input.h"
#include "core/names.h"

/** struct pf_span - a completed action; a view valid during the callback only. */
struct pf_span {
	uint32_t type;	       /* number in the pf_names table */
	uint32_t src;	       /* input file of the START */
	uint32_t thread, tid;  /* thread of the START (trace thread number, OS tid) */
	uint64_t prefix, seq;  /* task id */
	const uint32_t *level; /* level path, @depth entries (the END's, borrowed) */
	uint32_t depth;
	int64_t start_wall; /* wall-clock start, Unix ns */
	uint64_t duration_ns;
	uint64_t child_ns; /* sum of the durations of the direct children */
	uint32_t nchildren;
	uint64_t self_ns; /* duration - children, at least 0 */
	bool failed;
	const uint8_t *inputs; /* packed START fields (fields.h), or NULL if not kept */
	size_t inputs_len;
	const struct pf_event *end; /* the END: outputs (fields) and exception, when kept;
				     * NULL for an action still running */
	bool running; /* still open at the end of its file: @duration_ns is how long it had
		       * been running at the file's last record (pf_scan_foreach_inflight) */
};

typedef void (*pf_span_fn)(void *userdata, const struct pf_span *sp);

struct pf_open; /* a table slot (spans.c) */

struct pf_spans {
	pf_span_fn fn;
	void *userdata;
	bool keep_inputs, keep_levels;
	size_t block_size; /* of the pool's blocks (inputs, levels) */
	struct pf_open *slots;
	size_t cap, n; /* slots allocated (power of two), open actions */
	uint8_t *pool; /* blocks of inputs, one per open action when kept */
	uint32_t nblocks, pool_cap;
	uint32_t *free_blocks;
	uint32_t nfree;
	uint64_t unmatched;   /* ENDs without their START (dropped events, missing file), among
			       * those started in [since, until) by their duration */
	int64_t since, until; /* the time window counted (pf_spans_window); open by default */
	uint64_t duplicates;  /* STARTs of an action already open (same file given twice?) */
};

/**
 * pf_spans_init() - an empty pairing table.
 * @keep_inputs: keep every START's fields until its END (needed to show inputs; the
 *               events must carry them: pf_input_open(PF_INPUT_FIELDS)).
 * @keep_levels: keep every open action's level path, for pf_spans_foreach_open().
 * @fn: called for every completed span, in END order.
 * Returns: 0, or -1 when out of memory.
 */
int pf_spans_init(struct pf_spans *s, bool keep_inputs, bool keep_levels, pf_span_fn fn,
		  void *userdata);

/**
 * pf_spans_feed() - take one event (START and END matter; messages are ignored).
 * Returns: 0, or -1 when out of memory.
 */
int pf_spans_feed(struct pf_spans *s, const struct pf_event *ev);

/**
 * pf_spans_path() - the types of @sp's open ancestors, root first (PF_NAME_NONE where an
 * ancestor is not open: its START was not seen or it already ended). Call during the
 * callback. At most @max are stored: the nearest ones, *@elided telling how many
 * root-side ones were left out. Returns: the number stored.
 */
size_t pf_spans_path(const struct pf_spans *s, const struct pf_span *sp, uint32_t *types,
		     size_t max, size_t *elided);

/**
 * pf_spans_ancestor() - the type of @sp's ancestor at depth @depth (< @sp->depth; 0 is the
 * task's root action), or PF_NAME_NONE when it is not open (its START was not read). Call
 * during the callback: a parent is open until its children end.
 */
uint32_t pf_spans_ancestor(const struct pf_spans *s, const struct pf_span *sp, uint32_t depth);

/**
 * pf_spans_window() - count only the actions started in [@since, @until) in @unmatched
 * and pf_spans_open(): with --since/--until, perfan reads only the frames the window
 * needs (the frame index), and actions outside it may lack their START or END there.
 */
void pf_spans_window(struct pf_spans *s, int64_t since, int64_t until);

/** pf_spans_open() - the actions still open (started in the window, if one is set). */
size_t pf_spans_open(const struct pf_spans *s);

/**
 * pf_spans_foreach_open() - call @fn(@userdata, view) for each action still open (e.g. at
 * the end of the input: unfinished), by start time (then task id and depth). The view has the type,
 * start, thread, task and inputs, and its level path if kept (else depth 0, level NULL); its
 * duration is 0, @end NULL.
 */
void pf_spans_foreach_open(const struct pf_spans *s, pf_span_fn fn, void *userdata);

/** pf_spans_destroy() - free everything. */
void pf_spans_destroy(struct pf_spans *s);

#endif /* PERFAN_SPANS_H */
