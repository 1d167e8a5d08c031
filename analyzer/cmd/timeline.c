/* SPDX-License-Identifier: MIT */
/* cmd/timeline.c - `perfan timeline`: the merged chronological view of action starts, ends
 * and messages across processes and threads, one line each, for post-incident reading.
 * Streams: STARTs and messages are written as they are read, ENDs when their span is
 * complete (right after, in the same order); output stops after -n lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>

#include "core/fields.h"
#include "core/follow.h"
#include "core/scan.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "fmt/table.h"
#include "fmt/text.h"
#include "fmt/units.h"
#include "perfan.h"

#define USAGE "perfan timeline [-n LINES] [-f] [FILTERS] [--json] TRACE..."

/* --follow: the pause when everything written was read. */
#define FOLLOW_POLL_NS 100000000u

struct state {
	const struct pf_global *g;
	struct pf_scan *sc;	/* reading the files as they are, or */
	struct pf_follow *fw;	/* following them (--follow) */
	struct pf_names *names; /* of either */
	struct pf_filter *filter;
	struct pf_spans *spans; /* --follow's */
	bool json;
	struct pf_json j;
	uint64_t limit; /* 0: no limit */
	uint64_t written, omitted;
	bool ends_only; /* --failed or --min */
	bool begun;	/* the JSON document was started */
	bool oom;
};

static void help(void)
{
	printf(
	    "Usage: %s\n"
	    "\n"
	    "The merged chronological view of the traces: one line per action start, action\n"
	    "end and message, across processes and threads, in wall-clock order:\n"
	    "\n"
	    "  TIME  PID/THREAD  (indented by depth) start TYPE  inputs  task=ID\n"
	    "                                        end   TYPE  DURATION  ok|FAILED exc  outputs\n"
	    "                                        msg   TYPE  fields\n"
	    "\n"
	    "An end comes right after the last event before it; its action's start may lie\n"
	    "before --since. --type, --task, --since and --until select actions (by their start\n"
	    "time) and messages (by their time); --failed and --min select ends only (a start is\n"
	    "shown before its outcome is known). Actions still running at the end of the input\n"
	    "have a start and no end.\n"
	    "\n"
	    "  -n, --lines N       stop after N lines (default 1000, or no limit with -f; 0: no\n"
	    "                      limit); a last line says how many were left out\n"
	    "  -f, --follow        go on as the files grow, as tail -f does (and with the new\n"
	    "                      files of a DIR given, as a rotating writer starts them),\n"
	    "                      until interrupted or every file given was closed by its\n"
	    "                      writer. Events are printed as they are read, sorted by time\n"
	    "                      within each read; --since works as usual (-5m: before the\n"
	    "                      latest record when following starts); not with --until,\n"
	    "                      --json or +TIME\n"
	    "%s",
	    USAGE, PF_OPTS_HELP);
}

/* Start the JSON document at the first line (or at the end): nothing on stdout when no
 * input can be read. */
static void json_begin(struct state *st)
{
	if (!st->json || st->begun)
		return;
	st->begun = true;
	pf_json_init(&st->j, stdout, true);
	pf_json_object_begin(&st->j);
	pf_json_key(&st->j, "command");
	pf_json_str(&st->j, "timeline");
	pf_json_key(&st->j, "limit");
	pf_json_uint(&st->j, st->limit);
	pf_json_key(&st->j, "events");
	pf_json_array_begin(&st->j);
}

static bool take_line(struct state *st)
{
	if (st->limit && st->written >= st->limit) {
		st->omitted++;
		return false;
	}
	/* The last line: the rest is only counted, which needs no fields (--follow stops). */
	if (++st->written == st->limit && st->sc)
		pf_input_drop_fields(&st->sc->in);
	json_begin(st);
	return true;
}

static void task_str(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth,
		     char *buf, size_t len)
{
	if (pl_task_format(prefix, seq, level, depth, buf, len) < 0)
		snprintf(buf, len, "%016" PRIx64 "-%" PRIx64, prefix, seq);
}

static const char *thread_name(const struct state *st, uint32_t src, uint32_t thread)
{
	return st->fw ? pf_follow_thread_name(st->fw, src, thread)
		      : pf_input_thread_name(&st->sc->in, src, thread);
}

static int64_t src_pid(const struct state *st, uint32_t src)
{
	return st->fw ? st->fw->src[src].pid : st->sc->in.src[src].pid;
}

static const char *thread_label(struct state *st, uint32_t src, uint32_t thread, char *buf,
				size_t len)
{
	const char *name = thread_name(st, src, thread);
	if (name)
		snprintf(buf, len, "%" PRId64 "/%s", src_pid(st, src), name);
	else
		snprintf(buf, len, "%" PRId64 "/t%" PRIu32, src_pid(st, src), thread);
	return buf;
}

/* The process/thread column's width: fixed, for lines are printed as they come; wider
 * labels are cut in the middle so the indentation of the nesting always lines up. */
#define THREAD_COLS 20

/* A text line's common part: time, process/thread, indentation, what, type. */
static void text_head(struct state *st, int64_t wall, uint32_t src, uint32_t thread, uint32_t depth,
		      const char *what, enum pf_style style, uint32_t type)
{
	char w[PF_WALL_MAX], t[512], col[4 * THREAD_COLS + 1]; /* t: whole names */
	pf_wall_format(wall, false, w, sizeof(w));
	printf(
	    "%s  %s  %*s%s%-5s%s %s", w,
	    pf_text_fit(thread_label(st, src, thread, t, sizeof(t)), THREAD_COLS, col, sizeof(col)),
	    (int)(2 * (depth > 40 ? 40 : depth)), "", pf_style_begin(style, st->g->color), what,
	    pf_style_end(style, st->g->color), pf_text_esc(pf_names_str(st->names, type)));
}

static void text_fields(struct state *st, const uint8_t *f, size_t len)
{
	if (!f || !len)
		return;
	char *s = pf_fields_text(f, len);
	if (!s) {
		st->oom = true;
		return;
	}
	if (*s) {
		fputs("  ", stdout);
		pf_text_put(stdout, s);
	}
	free(s);
}

static void json_head(struct state *st, const char *kind, int64_t wall, uint32_t src,
		      uint32_t thread, uint32_t tid, uint64_t prefix, uint64_t seq,
		      const uint32_t *level, uint32_t depth, uint32_t type)
{
	struct pf_json *j = &st->j;
	char buf[PL_TASK_STR_MAX + 8], w[PF_WALL_MAX];
	pf_json_object_begin(j);
	pf_json_key(j, "kind");
	pf_json_str(j, kind);
	pf_json_key(j, "time");
	pf_wall_format(wall, true, w, sizeof(w));
	pf_json_str(j, w);
	pf_json_key(j, "wall_ns");
	pf_json_int(j, wall);
	pf_json_key(j, "pid");
	pf_json_int(j, src_pid(st, src));
	pf_json_key(j, "thread");
	pf_json_uint(j, thread);
	pf_json_key(j, "thread_name");
	pf_json_str(j, thread_name(st, src, thread));
	pf_json_key(j, "tid");
	pf_json_uint(j, tid);
	pf_json_key(j, "task");
	task_str(prefix, seq, level, depth, buf, sizeof(buf));
	pf_json_str(j, buf);
	pf_json_key(j, "depth");
	pf_json_uint(j, depth);
	pf_json_key(j, "type");
	pf_json_str(j, pf_names_str(st->names, type));
}

static void on_event(void *userdata, const struct pf_event *ev)
{
	struct state *st = userdata;
	if (ev->kind == PL_REC_END || st->ends_only || !pf_filter_event(st->filter, ev) ||
	    !take_line(st))
		return;
	bool start = ev->kind == PL_REC_START;
	if (st->json) {
		json_head(st, start ? "start" : "message", ev->wall, ev->src, ev->thread, ev->tid,
			  ev->prefix, ev->seq, ev->level, ev->depth, ev->type);
		pf_json_key(&st->j, "fields");
		pf_fields_json(&st->j, ev->fields, ev->fields ? ev->fields_len : 0);
		pf_json_object_end(&st->j);
		return;
	}
	text_head(st, ev->wall, ev->src, ev->thread, ev->depth, start ? "start" : "msg",
		  start ? PF_BOLD : PF_DIM, ev->type);
	text_fields(st, ev->fields, ev->fields_len);
	if (start) {
		char buf[PL_TASK_STR_MAX + 8];
		task_str(ev->prefix, ev->seq, ev->level, ev->depth, buf, sizeof(buf));
		printf("  %stask=%s%s", pf_style_begin(PF_DIM, st->g->color), buf,
		       pf_style_end(PF_DIM, st->g->color));
	}
	putchar('\n');
}

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	const struct pf_event *end = sp->end;
	if (!take_line(st))
		return;
	if (st->json) {
		json_head(st, "end", end->wall, end->src, end->thread, end->tid, sp->prefix,
			  sp->seq, sp->level, sp->depth, sp->type);
		pf_json_key(&st->j, "duration_ns");
		pf_json_uint(&st->j, sp->duration_ns);
		pf_json_key(&st->j, "outcome");
		pf_json_str(&st->j, sp->failed ? "failed" : "succeeded");
		if (end->exc_type) {
			pf_json_key(&st->j, "exception");
			pf_json_str(&st->j, end->exc_type);
			pf_json_key(&st->j, "message");
			pf_json_str(&st->j, end->exc_msg ? end->exc_msg : "");
		}
		pf_json_key(&st->j, "fields");
		pf_fields_json(&st->j, end->fields, end->fields ? end->fields_len : 0);
		pf_json_object_end(&st->j);
		return;
	}
	char d[PF_DURATION_MAX];
	pf_duration_format(sp->duration_ns, d, sizeof(d));
	text_head(st, end->wall, end->src, end->thread, sp->depth, "end", PF_BOLD, sp->type);
	printf("  %s  ", d);
	if (sp->failed) {
		printf("%sFAILED%s", pf_style_begin(PF_RED, st->g->color),
		       pf_style_end(PF_RED, st->g->color));
		if (end->exc_type)
			printf(" %s: %s", pf_text_esc(end->exc_type),
			       pf_text_esc(end->exc_msg ? end->exc_msg : ""));
	} else {
		fputs("ok", stdout);
	}
	text_fields(st, end->fields, end->fields_len);
	putchar('\n');
}

/* --follow: the events of each read, and the spans they complete. */
static void follow_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (pf_filter_span(st->filter, sp))
		on_span(userdata, sp);
}

static void follow_event(void *userdata, const struct pf_event *ev)
{
	struct state *st = userdata;
	on_event(userdata, ev);
	if (pf_spans_feed(st->spans, ev) < 0)
		st->oom = true;
}

static int follow(struct state *st, const struct pf_opts *o, char *const *paths, size_t npaths)
{
	struct pf_names names;
	struct pf_spans spans;
	struct pf_follow fw;
	struct pf_filter filter;
	struct pf_opts fo = *o;
	int64_t since = INT64_MIN;
	uint64_t back = 0;
	if (o->has_since && o->since.base == PF_TIME_ABS)
		since = o->since.ns;
	else if (o->has_since)
		back = (uint64_t)o->since.ns;
	fo.has_since = false; /* the window's start, resolved by pf_follow_start() */
	pf_names_init(&names);
	pf_filter_init(&filter, &fo, &names, 0, 0);
	st->names = &names;
	st->filter = &filter;
	st->spans = &spans;
	st->fw = &fw;
	int ret = PF_EXIT_OK;
	bool spans_ok = pf_spans_init(&spans, true, false, follow_span, st) == 0;
	int r = pf_follow_open(&fw, paths, npaths, &names, PF_FOLLOW_FIELDS | PF_FOLLOW_SORTED,
			       since, back);
	if (r == -1) {
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	if (!spans_ok || r < 0 || pf_follow_start(&fw) < 0) {
		st->oom = true;
		goto out;
	}
	filter.since = fw.since;
	pf_spans_window(&spans, fw.since, INT64_MAX);
	pf_follow_catch_signals();
	bool dirs = pf_follow_has_dir(&fw);
	while (!pf_follow_interrupted() && !st->oom) {
		r = pf_follow_poll(&fw, follow_event, st);
		fflush(stdout);
		if (r < 0)
			st->oom = true;
		if (r < 0 || (st->limit && st->written >= st->limit))
			break;
		if (!dirs && fw.nsrc && !pf_follow_active(&fw))
			break; /* every file was closed by its writer: nothing more will come */
		if (r == 0)
			pf_follow_sleep(FOLLOW_POLL_NS);
	}
	if (!st->oom && st->omitted)
		printf("... stopped at %llu lines (-n)\n", (unsigned long long)st->written);
out:
	if (st->oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	pf_follow_close(&fw);
	if (spans_ok)
		pf_spans_destroy(&spans);
	pf_filter_destroy(&filter);
	pf_names_destroy(&names);
	return ret;
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"lines", required_argument, NULL, 'n'},
	    {"follow", no_argument, NULL, 'f'},
	    {0},
	};
	struct pf_opts o = {0};
	uint64_t limit = 1000;
	bool follow_on = false, limit_set = false;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT "n:f", longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "timeline", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c == 'f') {
			follow_on = true;
			continue;
		}
		if (c != 'n')
			return pf_opts_unknown(c, argv, "timeline", USAGE);
		limit_set = true;
		if (pf_opts_count("timeline", USAGE, "-n", optarg, 0, UINT64_MAX, &limit))
			return PF_EXIT_USAGE;
	}
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	if (optind >= argc)
		return pf_usage_error("timeline", USAGE, "no trace file given");
	if (follow_on && (o.json || o.has_until || (o.has_since && o.since.base == PF_TIME_START)))
		return pf_usage_error(
		    "timeline", USAGE,
		    "--follow cannot be used with --json, --until or --since +TIME");
	if (follow_on) {
		struct state st = {.g = g, .json = false, .limit = limit_set ? limit : 0};
		st.ends_only = o.failed_only || o.min_ns > 0;
		return follow(&st, &o, argv + optind, (size_t)(argc - optind));
	}

	struct pf_scan sc;
	struct state st = {.g = g, .sc = &sc, .json = o.json, .limit = limit};
	st.names = &sc.names;
	st.filter = &sc.filter;
	st.ends_only = o.failed_only || o.min_ns > 0;
	ret = pf_scan_run_events(&sc, &o, argv + optind, (size_t)(argc - optind), PF_SCAN_INPUTS,
				 on_span, on_event, &st);
	if (ret == PF_EXIT_OK && st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if (st.json && ret == PF_EXIT_OK)
		json_begin(&st);
	if (st.begun) {
		pf_json_array_end(&st.j);
		pf_json_key(&st.j, "lines");
		pf_json_uint(&st.j, st.written);
		pf_json_key(&st.j, "truncated");
		pf_json_bool(&st.j, st.omitted > 0);
		pf_json_key(&st.j, "omitted");
		pf_json_uint(&st.j, st.omitted);
		if (ret == PF_EXIT_OK)
			pf_scan_json_summary(&sc, &st.j);
		pf_json_object_end(&st.j);
		pf_json_finish(&st.j);
	} else if (ret == PF_EXIT_OK) {
		if (st.written == 0)
			printf("(no event matched)\n");
		if (st.omitted)
			printf("... truncated at %llu lines: %llu more left out (-n 0 shows all; "
			       "narrow with --since/--until)\n",
			       (unsigned long long)st.written, (unsigned long long)st.omitted);
		pf_scan_notes_events(&sc, stdout);
	}
	pf_scan_destroy(&sc);
	return ret;
}

const struct pf_cmd pf_cmd_timeline = {
    .name = "timeline",
    .summary = "merged chronological view of starts, ends and messages of all threads",
    .run = run,
};
