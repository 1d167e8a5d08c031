/* SPDX-License-Identifier: MIT */
/* context.h - a call's context as groupings of argstats.h: the facts about a call that are not
 * its arguments - its process, host, thread, parent and root action types, and outcome - for
 * "what is different about the slow ones" (`perfan inputs`, `perfan report`).
 */
#ifndef PERFAN_CONTEXT_H
#define PERFAN_CONTEXT_H

#include "analysis/argstats.h"
#include "core/scan.h"

enum {
	PF_CTX_PROCESS = 1u << 0, /* "host:pid program" (input.h's prog) */
	PF_CTX_HOST = 1u << 1,
	PF_CTX_THREAD = 1u << 2,  /* its name, else "tid N" */
	PF_CTX_PARENT = 1u << 3,  /* the parent's type; "(none)" for a root; "(not read)" */
	PF_CTX_ROOT = 1u << 4,	  /* the task's root's type: the request it served */
	PF_CTX_OUTCOME = 1u << 5, /* "succeeded" or "failed" */
	PF_CTX_ALL = (1u << 6) - 1,
};

/**
 * pf_context_add() - group the call @sp, already given to pf_argstats_add(@a), by the
 * context groupings of @which (PF_CTX_*). Call during the span callback of scan @sc (the
 * parent and root are looked up among the actions still open).
 * Returns: 0, or -1 when out of memory.
 */
int pf_context_add(struct pf_argstats *a, const struct pf_scan *sc, const struct pf_span *sp,
		   unsigned which);

#endif /* PERFAN_CONTEXT_H */
