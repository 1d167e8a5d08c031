/* SPDX-License-Identifier: MIT */
/* perflog/tracecontext.h - W3C Trace Context: perflog tasks inside distributed traces.
 *
 * An OpenTelemetry-instrumented caller sends a `traceparent` header,
 * "00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>". It carries no perflog
 * level, so continuing one starts a new perflog task (its own task id, exact levels) whose
 * root records the header as its field "perflog.traceparent"; while that root runs, the
 * task is registered here (a process-wide table keyed by task id), so that any action of
 * the task formats a traceparent with the caller's trace id and its own span id, and a
 * further service joins the same distributed trace. A task not continued from a
 * traceparent has the trace id its task id gives: the prefix, then the sequence number,
 * 16 hex digits each - what `perfan export --format otlp` writes.
 *
 * Span ids are pl_span_id(): the same 64-bit hash of task id and level that the OTLP
 * export writes, so the spans of both agree.
 *
 * Limits: the table is per process. An action of the task in another process (continued
 * with a perflog task string, pl_action_serialize()) formats the trace id its task id
 * gives, not the caller's; `perfan export` still puts all of the task's spans in the
 * caller's trace when the root's file is among those exported.
 */
#ifndef PERFLOG_TRACECONTEXT_H
#define PERFLOG_TRACECONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <perflog/action.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Length of a version-00 traceparent; a buffer of PL_TRACEPARENT_LEN + 1 holds it. */
#define PL_TRACEPARENT_LEN 55

/** The name of the field a continued task's root records the traceparent in. */
#define PL_TRACEPARENT_FIELD "perflog.traceparent"

/** struct pl_traceparent - a parsed traceparent. Public values. Since: 0.2 */
struct pl_traceparent {
	uint8_t trace_id[16]; /**< never all zero */
	uint8_t parent_id[8]; /**< the caller's span id; never all zero */
	uint8_t flags;	      /**< trace-flags: bit 0 "sampled" */
};

/**
 * pl_traceparent_parse() - parse a traceparent header value (W3C Trace Context level 1).
 * @s, @len: the value, not necessarily NUL-terminated; spaces and tabs around it ignored.
 * Version 00 must be exactly 55 characters; a higher version at least that, followed by
 * "-" when longer (its fields are read as version 00's, as the specification says);
 * version ff, upper-case hex, or an all-zero trace id or parent id are invalid.
 * Returns: 0, or -PL_EINVAL. Since: 0.2
 */
int pl_traceparent_parse(const char *s, size_t len, struct pl_traceparent *out);

/**
 * pl_traceparent_format() - "00-<trace id>-<span id>-<flags>" into @buf (at least
 * PL_TRACEPARENT_LEN + 1 bytes). Returns: PL_TRACEPARENT_LEN, or -PL_EINVAL if @len is too
 * small. Since: 0.2
 */
int pl_traceparent_format(const uint8_t trace_id[16], uint64_t span_id, uint8_t flags, char *buf,
			  size_t len);

/**
 * pl_span_id() - the span id of the action at @level (@depth indexes; NULL when 0) of task
 * (@prefix, @seq): with fmix64 MurmurHash3's 64-bit finalizer and G = 0x9e3779b97f4a7c15,
 * h = fmix64(prefix ^ fmix64(seq + G)), then h = fmix64(h + G * (index + 1)) per index,
 * 1 if h is 0 (mod 2^64). Stable: files and other programs hold it. Since: 0.2
 */
uint64_t pl_span_id(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth);

/**
 * pl_task_trace_set() - register task (@prefix, @seq) as continued from @tp: its actions'
 * traceparents carry @tp's trace id and flags. For bindings that begin the root themselves
 * (pl_action_begin_at); call pl_task_trace_clear() when the root ends.
 * Returns: 0, or -PL_ENOMEM (then the task keeps the trace id its task id gives). Since: 0.2
 */
int pl_task_trace_set(uint64_t prefix, uint64_t seq, const struct pl_traceparent *tp);

/** pl_task_trace_clear() - forget what pl_task_trace_set() registered. Since: 0.2 */
void pl_task_trace_clear(uint64_t prefix, uint64_t seq);

/**
 * pl_task_trace_id() - the trace id of task (@prefix, @seq) into @out, and its flags:
 * the registered caller's if continued from a traceparent, else the task id's (flags 01).
 * Returns: the flags. Since: 0.2
 */
uint8_t pl_task_trace_id(uint64_t prefix, uint64_t seq, uint8_t out[16]);

/**
 * pl_action_begin_traceparent() - start a new task continuing a distributed trace: as
 * pl_action_begin() with no parent, @tp registered until @a ends and recorded as the root's
 * field "perflog.traceparent" after @fields (at most 63 of them are kept).
 * Thread-safe. Since: 0.2
 */
void pl_action_begin_traceparent(pl_action *a, struct pl_writer *w, const struct pl_traceparent *tp,
				 pl_name type, const struct pl_field *fields, size_t nfields);

/**
 * pl_action_traceparent() - the traceparent to send with a request made inside @a: its
 * task's trace id, @a's span id. @buf: at least PL_TRACEPARENT_LEN + 1 bytes.
 * Returns: PL_TRACEPARENT_LEN, or -PL_EINVAL (@len too small, or @a deeper than
 * PL_LEVEL_MAX_DEPTH). Thread-safe. Since: 0.2
 */
int pl_action_traceparent(const pl_action *a, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PERFLOG_TRACECONTEXT_H */
