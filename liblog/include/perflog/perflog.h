/* SPDX-License-Identifier: MIT */
/*
 * perflog/perflog.h - liblog, perflog's C library: the umbrella header.
 *
 * Introduction
 *   liblog records what a program does as *actions* - a start, an end, a duration, inputs
 *   and outputs, an outcome - and *messages*, in eliot-style causal trees: every event has
 *   a task id and a level (its path in the task's tree), so a request's actions stay
 *   together across threads and processes. Events go from per-thread rings to a flusher
 *   thread that writes zstd-compressed msgpack frames to a trace file (docs/format.md);
 *   recording one costs a few tens of nanoseconds and never blocks unless asked to.
 *
 * The objects (each header documents its functions)
 *   writer.h   struct pl_writer: a trace file being written - options (flush interval,
 *              memory, full policy, rotation and retention), flush, stats, close.
 *   action.h   pl_action: one running action in caller storage - begin, end, fail,
 *              messages, PL_ACTION_SCOPE; pl_action_serialize() to continue a task in
 *              another process.
 *   name.h     pl_name: interned names of types and fields (PL_NAME()); struct pl_field.
 *   value.h    pl_value: the field values (PL_V_INT(), PL_V_STR(), ...); struct pl_kv.
 *   reader.h   struct pl_reader: a trace file read back, record by record, with time
 *              windows by the frame index and following a file being written.
 *   status.h   pl_status error codes and pl_strerror().
 *
 * Rules that hold throughout
 *   - Recording never fails the caller: what cannot be recorded is counted
 *     (pl_writer_stats) and the trace says so (DROPPED records).
 *   - Functions that can fail return 0 or a negative pl_status; none aborts.
 *   - Thread safety: a writer is shared by any number of threads; an action belongs to
 *     one thread at a time (action.h); a reader to one thread.
 *   - Structs that grow start with their size (PL_*_INIT): a program built against one
 *     release runs with a later one (docs/c-api.md, "Structs that grow"); symbols are
 *     versioned (PERFLOG_0.1, PERFLOG_0.2).
 *
 * Example
 *   struct pl_writer_options o;
 *   struct pl_writer *w;
 *   pl_writer_options_init(&o);
 *   o.path = "trace-{pid}.zst";
 *   if (pl_writer_open(&o, &w) == 0) {
 *           {
 *                   PL_ACTION_SCOPE(req, w, NULL, "http.request", PL_F_STR("path", url));
 *                   ... work: nested actions take &req as their parent ...
 *           }   (req ends here)
 *           pl_writer_close(w);
 *   }
 *   then: perfan slowest trace-*.zst
 */
#ifndef PERFLOG_PERFLOG_H
#define PERFLOG_PERFLOG_H

#include <perflog/action.h>
#include <perflog/name.h>
#include <perflog/reader.h>
#include <perflog/status.h>
#include <perflog/tracecontext.h>
#include <perflog/value.h>
#include <perflog/writer.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PL_VERSION_MAJOR  0
#define PL_VERSION_MINOR  2
#define PL_VERSION_PATCH  0
#define PL_VERSION_STRING "0.2.0"
/** PL_VERSION_NUMBER: major * 10000 + minor * 100 + patch, as pl_version_number(). */
#define PL_VERSION_NUMBER (PL_VERSION_MAJOR * 10000 + PL_VERSION_MINOR * 100 + PL_VERSION_PATCH)

/** pl_version_number() - the library's version at run time (see PL_VERSION_NUMBER). */
unsigned pl_version_number(void);
/** pl_version_string() - "0.2.0"; static storage. */
const char *pl_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* PERFLOG_PERFLOG_H */
