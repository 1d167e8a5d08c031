/* SPDX-License-Identifier: MIT */
/* otlp.h - actions as OpenTelemetry spans: OTLP/JSON, one ExportTraceServiceRequest per line
 * (what the OpenTelemetry Collector's `otlpjsonfile` receiver reads).
 *
 * Ids (docs/perfan.md, "export --format otlp"): the trace id is the task id, its 64-bit
 * prefix then its 64-bit sequence number as 32 hex digits; a span id is a 64-bit hash of the
 * task id and the level path (pf_otlp_span_id), so that a child finds its parent's id from
 * its own level, across processes and files, with no table (pl_span_id() of
 * perflog/tracecontext.h). A task continued in another
 * process keeps its trace id and its tree.
 *
 * Streaming: spans are written when their action ends, batched per process (host and pid:
 * the resource) up to PF_OTLP_BATCH spans a line. A message becomes an event of the span of
 * the action it was logged in, held until that action ends (at most PF_OTLP_MAX_EVENTS per
 * span, as the OpenTelemetry SDK's default limit; the others are counted in
 * droppedEventsCount); a message of its own task, or whose action never ends in the input,
 * becomes a span of no duration with attribute perflog.message. Memory: the open batches
 * (at most PF_OTLP_MAX_BUFFERED spans in all) and the held events.
 *
 * A task continued from a W3C traceparent (its root's START has the field
 * "perflog.traceparent", perflog/tracecontext.h) is written in the caller's trace: every
 * span of the task ending before its root carries the caller's trace id, and the root's
 * parent is the caller's span.
 */
#ifndef PERFAN_EXPORT_OTLP_H
#define PERFAN_EXPORT_OTLP_H

#include <stdint.h>
#include <stdio.h>

#include "core/input.h"
#include "core/names.h"
#include "core/spans.h"

#define PF_OTLP_BATCH	     512
#define PF_OTLP_MAX_BUFFERED 65536
#define PF_OTLP_MAX_EVENTS   128

struct pf_otlp;

/**
 * pf_otlp_new() - a writer to @out of the spans of @in's files (types named by @names).
 * @service: service.name of every resource, or NULL for each process's program
 *           (input.h's @prog: "python3 app.py").
 * Returns: the writer, or NULL when out of memory.
 */
struct pf_otlp *pf_otlp_new(FILE *out, const struct pf_input *in, const struct pf_names *names,
			    const char *service);

/** pf_otlp_span_id() - the span id of the action at @level (@depth indexes) of a task:
 * pl_span_id(), as traceparents made while recording carry it. */
uint64_t pf_otlp_span_id(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth);

/**
 * pf_otlp_start() - take a START event (before its END): a root continuing a traceparent
 * puts its task in the caller's trace. Returns: 0, or -1 when out of memory.
 */
int pf_otlp_start(struct pf_otlp *o, const struct pf_event *ev);

/**
 * pf_otlp_message() - take a MESSAGE event: held for its action's span.
 * Returns: 0, or -1 when out of memory.
 */
int pf_otlp_message(struct pf_otlp *o, const struct pf_event *ev);

/**
 * pf_otlp_span() - write a completed action, or (@sp->running) one unfinished at the end of
 * its input, which ends at its process's last sign of life with attribute
 * perflog.unfinished (pf_scan_foreach_inflight). Returns: 0, or -1 when out of memory.
 */
int pf_otlp_span(struct pf_otlp *o, const struct pf_span *sp);

/**
 * pf_otlp_finish() - write the messages still held (as spans) and every batch.
 * Returns: 0, or -1 when out of memory.
 */
int pf_otlp_finish(struct pf_otlp *o);

/** pf_otlp_free() - free the writer (NULL is fine); what is held and not finished is lost. */
void pf_otlp_free(struct pf_otlp *o);

#endif /* PERFAN_EXPORT_OTLP_H */
