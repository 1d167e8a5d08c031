/* SPDX-License-Identifier: MIT */
/* sumfile.h - summaries on disk (docs/format.md, "Summaries").
 *
 * A summary is a perflog trace written by liblog's writer (so zstd-compressed msgpack,
 * crash-evident frames, read back by liblog's reader: the analyzer links no codec of its
 * own). Its header's argv is {"perflog-summary", "<version>"}: how perfan tells it from
 * a trace when it opens its inputs. Its records are messages, in this order:
 * perflog.summary (version, histogram resolution, k), one perflog.summary.input per input
 * file, perflog.summary.counters, per type a perflog.summary.type and its histogram in
 * perflog.summary.hist chunks, one perflog.summary.call per kept call, and last
 * perflog.summary.end with the number of each. A reader takes nothing from a summary that
 * is not whole and valid: a wrong version, a different histogram resolution, damage,
 * a missing end, dropped records or an inconsistent value is an error naming the file.
 */
#ifndef PERFAN_SUMFILE_H
#define PERFAN_SUMFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/filter.h"
#include "core/input.h"
#include "core/names.h"
#include "summary/summary.h"

/** What pf_summary_write() writes besides the summary itself. */
struct pf_summary_meta {
	const struct pf_input *in;    /* the inputs (calls' @src index its sources) */
	const struct pf_names *names; /* the type numbers' names */
	struct pf_summary_counts counts;
	const char *filters; /* the filters applied, as text (informative) */
};

/**
 * pf_summary_write() - write @s to @path (created as liblog creates traces: mode 0600,
 * refusing symlinks and other users' files).
 * Returns: 0, or -1 after printing why ("perfan: PATH: reason").
 */
int pf_summary_write(const char *path, struct pf_summary *s, const struct pf_summary_meta *m);

/**
 * pf_summary_read() - read the summary @path and merge it into @s: its types (interned
 * into @names) whose name passes @f's --type (all when @f is NULL), their calls, its
 * running actions; its inputs become sources of @in (their unreadable and damaged files
 * warned about again, and unreadable ones counted as in a scan), its counters are added
 * to @s->counts. Nothing is merged unless the whole file is valid.
 * Returns: 0; -1 after printing "perfan: PATH: [offset N: ]reason" (the summary is then
 * counted as an unreadable input of @in); -2 when out of memory.
 */
int pf_summary_read(const char *path, struct pf_summary *s, struct pf_names *names,
		    struct pf_input *in, struct pf_filter *f);

#endif /* PERFAN_SUMFILE_H */
