/* SPDX-License-Identifier: MIT */
/* call.h - one action kept for the report (a slowest call, an SLA offender): an owned copy
 * of what a span showed while its END was being read, and its text and JSON renderings.
 *
 * Bounded: inputs and outputs are packed (fields.h, PF_FIELDS_MAX bytes each), the
 * exception type and message are cut at PF_CALL_TEXT_MAX bytes, and at most
 * PF_CALL_PATH_MAX levels and ancestors are kept.
 */
#ifndef PERFAN_CALL_H
#define PERFAN_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/input.h"
#include "core/names.h"
#include "core/spans.h"
#include "fmt/jsonw.h"

#define PF_CALL_TEXT_MAX 1024
#define PF_CALL_PATH_MAX 64

struct pf_call {
	uint32_t type;
	uint64_t duration_ns, child_ns, self_ns;
	uint32_t nchildren;
	int64_t start_wall;
	uint32_t src, thread, tid;
	uint64_t prefix, seq;
	uint32_t depth; /* full depth; level[] keeps the first ones */
	uint32_t level[PF_CALL_PATH_MAX];
	uint32_t path[PF_CALL_PATH_MAX]; /* ancestor types, nearest last (see pf_spans_path) */
	size_t npath, path_elided;
	bool failed;
	bool running;		   /* still running when its trace ended: @duration_ns is a
				    * lower bound (how long it had been running by then) */
	char *exc_type, *exc_msg;  /* NULL when absent */
	uint8_t *inputs, *outputs; /* packed fields; NULL when absent */
	size_t inputs_len, outputs_len;
	uint64_t order; /* arrival number: the last tie-break */
};

/**
 * pf_call_new() - copy what the report needs of @sp (call during the span callback).
 * Returns: the call, or NULL when out of memory.
 */
struct pf_call *pf_call_new(const struct pf_spans *spans, const struct pf_span *sp, uint64_t order);

void pf_call_free(struct pf_call *c);

/**
 * pf_call_worse() - does @a rank before @b? Longer first, then earlier, then by task id
 * and level path (so that a ranking does not depend on the order inputs are read in),
 * then first seen.
 */
bool pf_call_worse(const struct pf_call *a, const struct pf_call *b);

/** pf_call_dup() - an owned copy of @c. Returns: it, or NULL when out of memory. */
struct pf_call *pf_call_dup(const struct pf_call *c);

/** What the renderers need to name things. */
struct pf_call_ctx {
	const struct pf_names *names;
	const struct pf_input *in;
	bool color;
};

/** pf_call_print_block() - a multi-line description headed "@rank. duration type ...". */
void pf_call_print_block(const struct pf_call_ctx *ctx, const struct pf_call *c, size_t rank,
			 FILE *f);

/** pf_call_print_line() - one indented line: duration, start, process, inputs, outcome. */
void pf_call_print_line(const struct pf_call_ctx *ctx, const struct pf_call *c, FILE *f);

/** pf_call_json() - the call as a JSON object. */
void pf_call_json(const struct pf_call_ctx *ctx, const struct pf_call *c, struct pf_json *j);

#endif /* PERFAN_CALL_H */
