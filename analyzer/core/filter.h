/* SPDX-License-Identifier: MIT */
/* filter.h - the predicate the common filter options (opts.h) build over completed spans.
 *
 * An action passes when its type matches --type (fnmatch, no flags), its start time is in
 * [--since, --until), its task (and level prefix) is --task's, it failed (--failed) and it
 * lasted at least --min. The type test is cached per type number, so it costs one fnmatch()
 * per type, not per event.
 */
#ifndef PERFAN_FILTER_H
#define PERFAN_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/names.h"
#include "core/spans.h"
#include "fmt/opts.h"

struct pf_filter {
	const struct pf_opts *o;
	const struct pf_names *names;
	int64_t since, until; /* resolved: INT64_MIN / INT64_MAX when absent */
	uint8_t *type_state;  /* by type number: 0 not yet tested, 1 passes, 2 fails */
	uint32_t ntypes;
	bool all; /* no filter given: every span passes (tested first, per span) */
};

/**
 * pf_filter_init() - resolve relative times against [@first, @last], the wall-clock extent
 * of the input (only read when a relative time was given).
 */
void pf_filter_init(struct pf_filter *f, const struct pf_opts *o, const struct pf_names *names,
		    int64_t first, int64_t last);

/** pf_filter_type() - does action type @type pass --type? */
bool pf_filter_type(struct pf_filter *f, uint32_t type);

/** pf_filter_span() - does @sp pass every filter? */
bool pf_filter_span(struct pf_filter *f, const struct pf_span *sp);

struct pf_event;
/** pf_filter_event() - does a START or message pass the filters that can be decided
 *  before its END (type, task, time window; not --failed or --min)? */
bool pf_filter_event(struct pf_filter *f, const struct pf_event *ev);

/** pf_filter_needs_extent() - was a relative --since/--until given? */
bool pf_filter_needs_extent(const struct pf_opts *o);

void pf_filter_destroy(struct pf_filter *f);

#endif /* PERFAN_FILTER_H */
