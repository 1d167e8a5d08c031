/* SPDX-License-Identifier: MIT */
/* scan.c - the shared analysis loop (see scan.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "core/scan.h"
#include "perfan.h"

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct pf_scan *sc = userdata;
	sc->actions++;
	if (!pf_filter_span(&sc->filter, sp))
		return;
	sc->selected++;
	sc->fn(sc->userdata, sp);
}

int pf_scan_run(struct pf_scan *sc, const struct pf_opts *o, char *const *paths, size_t npaths,
		bool keep_inputs, pf_span_fn fn, void *userdata)
{
	return pf_scan_run_events(sc, o, paths, npaths, keep_inputs ? PF_SCAN_INPUTS : 0, fn, NULL,
				  userdata);
}

void pf_scan_json_nothing_read(const struct pf_input *in, const char *cmd)
{
	struct pf_scan sc = {.in = *in}; /* a read-only view: every counter zero */
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, cmd);
	pf_scan_json_summary(&sc, &j);
	pf_json_key(&j, "error");
	pf_json_str(&j, "no input could be read");
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

/* Summaries hold what passed the filters when they were made: only --type selects among
 * what they hold. Returns 0, or PF_EXIT_USAGE after saying why. */
static int summaries_allowed(const struct pf_scan *sc, const struct pf_opts *o, unsigned flags)
{
	const char *path = sc->in.summaries[0];
	if (!(flags & PF_SCAN_SUMMARIES)) {
		pf_error("%s: a summary (perfan summarize), not a trace: this subcommand needs the "
			 "records (summaries serve stats, slowest, inflight, sla, diff and "
			 "summarize)",
			 path);
		return PF_EXIT_USAGE;
	}
	const char *opt = o->has_since	   ? "--since"
			  : o->has_until   ? "--until"
			  : o->has_task	   ? "--task"
			  : o->failed_only ? "--failed"
			  : o->min_ns	   ? "--min"
					   : NULL;
	if (opt) {
		pf_error("%s applies when summarizing (perfan summarize %s ...): %s is a summary, "
			 "where only --type selects",
			 opt, opt, path);
		return PF_EXIT_USAGE;
	}
	return 0;
}

uint64_t pf_scan_unfinished(const struct pf_scan *sc)
{
	return pf_spans_open(&sc->spans) + sc->sum_unfinished;
}

uint64_t pf_scan_unmatched(const struct pf_scan *sc)
{
	return sc->spans.unmatched + sc->sum_unmatched;
}

int pf_scan_run_events(struct pf_scan *sc, const struct pf_opts *o, char *const *paths,
		       size_t npaths, unsigned flags, pf_span_fn fn,
		       void (*ev_fn)(void *userdata, const struct pf_event *ev), void *userdata)
{
	memset(sc, 0, sizeof(*sc));
	sc->fn = fn;
	sc->ev_fn = ev_fn;
	sc->userdata = userdata;
	pf_names_init(&sc->names);
	int ret = pf_input_open(&sc->in, paths, npaths, &sc->names,
				flags & (PF_INPUT_FIELDS | PF_INPUT_META | PF_INPUT_END_DATA));
	if (ret == -1) {
		if (o->json)
			pf_scan_json_nothing_read(&sc->in, o->cmd);
		return PF_EXIT_UNREADABLE;
	}
	if (ret == 0 && sc->in.nsummaries && (ret = summaries_allowed(sc, o, flags)) != 0)
		return ret;
	if (ret < 0 || pf_spans_init(&sc->spans, flags & PF_SCAN_INPUTS,
				     flags & PF_SCAN_OPEN_LEVELS, on_span, sc) < 0)
		goto oom;
	int64_t first = 0, last = 0;
	if (pf_filter_needs_extent(o) && pf_input_extent(&sc->in, &first, &last) < 0) {
		pf_error("--since/--until: the input holds no timed record to count from");
		return PF_EXIT_UNREADABLE;
	}
	pf_filter_init(&sc->filter, o, &sc->names, first, last);
	/* Selection is by START time: a window need not read the frames before it. */
	pf_input_set_window(&sc->in, sc->filter.since, sc->filter.until);
	pf_spans_window(&sc->spans, sc->filter.since, sc->filter.until);

	const struct pf_event *ev;
	while ((ret = pf_input_next(&sc->in, &ev)) == 0) {
		if (sc->ev_fn)
			sc->ev_fn(userdata, ev);
		if (pf_spans_feed(&sc->spans, ev) < 0)
			goto oom;
	}
	if (ret < 0)
		goto oom;
	for (size_t i = 0; i < sc->in.nsrc; i++)
		sc->dropped_events += sc->in.src[i].dropped;
	return PF_EXIT_OK;
oom:
	pf_error("out of memory");
	sc->oom = true;
	return PF_EXIT_UNREADABLE;
}

struct inflight {
	struct pf_scan *sc;
	pf_span_fn fn;
	void *userdata;
	int64_t *alive; /* by source: the last sign of life of its process (all its files) */
};

static void on_open(void *userdata, const struct pf_span *open)
{
	struct inflight *f = userdata;
	struct pf_span sp = *open;
	int64_t last = f->alive ? f->alive[sp.src] : f->sc->in.src[sp.src].last_wall;
	sp.running = true;
	sp.duration_ns = last > sp.start_wall ? (uint64_t)last - (uint64_t)sp.start_wall : 0;
	sp.self_ns = sp.duration_ns > sp.child_ns ? sp.duration_ns - sp.child_ns : 0;
	if (pf_filter_span(&f->sc->filter, &sp)) {
		f->sc->inflight_selected++;
		f->fn(f->userdata, &sp);
	}
}

static int cmp_process(const void *a, const void *b, void *ctx)
{
	const struct pf_source *src = ctx;
	const struct pf_source *x = &src[*(const size_t *)a], *y = &src[*(const size_t *)b];
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->host, y->host);
}

/* The last sign of life of each source's process: the latest of its files' (a rotated
 * process's actions may start in one file and still run when a later one ends). NULL
 * when out of memory (each file's own is used then). */
static int64_t *process_alive(const struct pf_input *in)
{
	size_t n = in->nsrc, *idx = malloc(n * sizeof(*idx));
	int64_t *alive = malloc(n * sizeof(*alive));
	if (!idx || !alive) {
		free(idx);
		free(alive);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_process, in->src);
	for (size_t i = 0, j; i < n; i = j) {
		int64_t last = INT64_MIN;
		for (j = i; j < n && cmp_process(&idx[i], &idx[j], in->src) == 0; j++)
			if (in->src[idx[j]].last_wall > last)
				last = in->src[idx[j]].last_wall;
		for (size_t k = i; k < j; k++)
			alive[idx[k]] = last;
	}
	free(idx);
	return alive;
}

void pf_scan_foreach_inflight(struct pf_scan *sc, pf_span_fn fn, void *userdata)
{
	struct inflight f = {sc, fn, userdata, process_alive(&sc->in)};
	sc->inflight_shown = true;
	sc->inflight_selected += sc->sum_running;
	pf_spans_foreach_open(&sc->spans, on_open, &f);
	free(f.alive);
}

void pf_scan_source_json(const struct pf_source *s, struct pf_json *j)
{
	pf_json_object_begin(j);
	pf_json_key(j, "path");
	pf_json_str(j, s->path);
	pf_json_key(j, "pid");
	pf_json_int(j, s->pid);
	pf_json_key(j, "host");
	pf_json_str(j, s->host);
	pf_json_key(j, "records");
	pf_json_uint(j, s->records);
	pf_json_key(j, "dropped");
	pf_json_uint(j, s->dropped);
	pf_json_key(j, "frames_skipped");
	pf_json_uint(j, s->frames_skipped);
	pf_json_key(j, "status");
	pf_json_str(j, s->status < 0 ? "damaged" : "read");
	pf_json_key(j, "error");
	if (s->status < 0) {
		pf_json_object_begin(j);
		pf_json_key(j, "offset");
		pf_json_uint(j, s->err_offset);
		pf_json_key(j, "reason");
		pf_json_str(j, s->err_reason);
		pf_json_object_end(j);
	} else {
		pf_json_null(j);
	}
	pf_json_object_end(j);
}

void pf_scan_json_counters(const struct pf_scan *sc, struct pf_json *j)
{
	pf_json_key(j, "unreadable_inputs");
	pf_json_uint(j, sc->in.unreadable);
	pf_json_key(j, "records");
	pf_json_uint(j, sc->in.records);
	pf_json_key(j, "actions");
	pf_json_uint(j, sc->actions);
	pf_json_key(j, "selected");
	pf_json_uint(j, sc->selected);
	pf_json_key(j, "unfinished");
	pf_json_uint(j, pf_scan_unfinished(sc));
	if (sc->inflight_shown) { /* counted (or listed) with how long they had run */
		pf_json_key(j, "unfinished_selected");
		pf_json_uint(j, sc->inflight_selected);
	}
	pf_json_key(j, "unmatched_ends");
	pf_json_uint(j, pf_scan_unmatched(sc));
	pf_json_key(j, "dropped_events");
	pf_json_uint(j, sc->dropped_events);
}

void pf_scan_json_summary(const struct pf_scan *sc, struct pf_json *j)
{
	pf_json_key(j, "inputs");
	pf_json_array_begin(j);
	for (size_t i = 0; i < sc->in.nsrc; i++)
		pf_scan_source_json(&sc->in.src[i], j);
	for (size_t i = 0; i < sc->in.nfailed; i++) { /* and those not read, saying why */
		const struct pf_failed *f = &sc->in.failed[i];
		pf_json_object_begin(j);
		pf_json_key(j, "path");
		pf_json_str(j, f->path);
		pf_json_key(j, "status");
		pf_json_str(j, f->skipped ? "skipped" : "unreadable");
		pf_json_key(j, "error");
		pf_json_object_begin(j);
		pf_json_key(j, "reason");
		pf_json_str(j, f->reason);
		pf_json_object_end(j);
		pf_json_object_end(j);
	}
	pf_json_array_end(j);
	pf_scan_json_counters(sc, j);
}

/* The notes footer. @events: the subcommand lists events (timeline), so an unfinished
 * action is shown as a start without an end, and an unmatched END is not shown. */
static void notes(const struct pf_scan *sc, FILE *f, bool events)
{
	uint64_t open = pf_scan_unfinished(sc), unmatched = pf_scan_unmatched(sc);
	if (open && events)
		fprintf(f,
			"note: %llu action%s still running at the end of the input (a start "
			"without an end)\n",
			(unsigned long long)open, open == 1 ? " was" : "s were");
	else if (open && sc->inflight_shown && !sc->inflight_selected)
		fprintf(
		    f,
		    "note: %llu action%s still running at the end of the input (none selected)\n",
		    (unsigned long long)open, open == 1 ? " was" : "s were");
	else if (open && !sc->inflight_shown)
		fprintf(f,
			"note: %llu action%s still running at the end of the input (not counted; "
			"perfan inflight lists them)\n",
			(unsigned long long)open, open == 1 ? " was" : "s were");
	else if (open)
		fprintf(f,
			"note: %llu action%s still running at the end of the input; %llu selected, "
			"counted with how long %s had run by then\n",
			(unsigned long long)open, open == 1 ? " was" : "s were",
			(unsigned long long)sc->inflight_selected,
			sc->inflight_selected == 1 ? "it" : "they");
	if (unmatched)
		fprintf(f, "note: %llu END record%s without a START (type unknown, not %s)\n",
			(unsigned long long)unmatched, unmatched == 1 ? "" : "s",
			events ? "shown" : "counted");
	if (sc->dropped_events)
		fprintf(f, "note: the writers dropped %llu event%s (DROPPED records)\n",
			(unsigned long long)sc->dropped_events, sc->dropped_events == 1 ? "" : "s");
}

void pf_scan_notes(const struct pf_scan *sc, FILE *f)
{
	notes(sc, f, false);
}

void pf_scan_notes_events(const struct pf_scan *sc, FILE *f)
{
	notes(sc, f, true);
}

void pf_scan_destroy(struct pf_scan *sc)
{
	pf_spans_destroy(&sc->spans);
	pf_filter_destroy(&sc->filter);
	pf_input_close(&sc->in);
	pf_names_destroy(&sc->names);
}
