/* SPDX-License-Identifier: MIT */
/* refetch.h - the inputs of a few calls, read again from their trace files after a scan
 * that did not keep every START's fields (PF_SCAN_END_DATA).
 *
 * Why: decoding and packing the fields of every START is ~40 % of what `perfan sla` costs
 * over `stats`, to show the inputs of a handful of calls (the worst of the types that
 * fail, and none when every type passes: the usual CI run). So such a subcommand scans
 * without them and then finds each shown call's START again through its file's frame
 * index (pl_reader_set_window() at its start time): one frame read per call at most,
 * fewer when calls share a frame. The START is known by its start time, task id and
 * level path, which name one action.
 */
#ifndef PERFAN_REFETCH_H
#define PERFAN_REFETCH_H

#include <stddef.h>

#include "analysis/call.h"
#include "core/input.h"

/** Calls shown up to which a subcommand reads their inputs again rather than keeping
 *  every START's (the defaults of slowest and inflight): each costs part of a frame's
 *  decoding, ~2 ms for 60,000 events. On a 3 M-event trace of 51 frames, 10 calls read
 *  again cost a fifth of what keeping every input does, 32 a little more than it. */
#define PF_REFETCH_FEW 20

/**
 * pf_refetch_inputs() - fill in the inputs (packed, fields.h) of those of @calls[0..@n)
 * that have none and come from a trace file of @in (calls of summaries keep theirs). A
 * call whose START is not found again (its file changed or went away since the scan)
 * keeps none, as one whose inputs were never recorded: they print as unknown.
 * Returns: the number of such calls (warn about them), or -1 when out of memory.
 */
long pf_refetch_inputs(const struct pf_input *in, struct pf_call *const *calls, size_t n);

#endif /* PERFAN_REFETCH_H */
