/* SPDX-License-Identifier: MIT */
/* cmd/export.c - `perfan export`: the traces as Chrome Trace Event JSON, JSON lines, or
 * OpenTelemetry spans (OTLP/JSON, export/otlp.h).
 *
 * chrome: one complete ("X") event per selected action, written when it ends (ts and dur
 * in µs, exact to the ns; args: task, inputs, outputs, outcome, exception), one instant
 * ("i") event per message, then a begin event ("B", no end) per action unfinished at the
 * end of the input and process_name / thread_name metadata ("M") for every
 * process and thread seen. Timestamps count from an origin (the first record's wall-clock
 * second, minus one second) given in "otherData"; Perfetto UI and speedscope open it.
 * jsonl: one JSON object per START, END, MESSAGE, THREAD and DROPPED record, in time order,
 * with the keys of perflog.read()'s dicts plus "file" and "pid".
 *
 * Streaming: memory is that of the other subcommands (open actions with their inputs;
 * chrome: and their level paths, so that an unfinished action's task names its level) plus
 * one entry per thread seen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>

#include "core/fields.h"
#include "core/scan.h"
#include "export/otlp.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "fmt/output.h"
#include "perfan.h"
#include "util/grow.h"

#define USAGE                                                                                      \
	"perfan export --format chrome|jsonl|otlp [--service NAME] [-o FILE] [FILTERS] TRACE..."

enum fmt { F_NONE, F_CHROME, F_JSONL, F_OTLP };

struct seen {
	uint32_t src, thread, tid;
};

struct state {
	struct pf_scan *sc;
	enum fmt fmt;
	FILE *out;
	bool have_origin;
	int64_t origin;
	uint64_t written;
	struct seen *threads;
	size_t nthreads, capthreads;
	struct pf_otlp *otlp;
	bool oom;
};

static void help(void)
{
	printf(
	    "Usage: %s\n"
	    "\n"
	    "Write the traces in another format, for other tools.\n"
	    "\n"
	    "chrome: Chrome Trace Event JSON, for Perfetto UI (ui.perfetto.dev), speedscope and\n"
	    "  chrome://tracing: a complete event (\"X\", ts and dur in µs) per action with its\n"
	    "  task, inputs, outputs, outcome and exception as args, an instant event per\n"
	    "  message, and the names of processes (pid, host, file) and threads. ts counts\n"
	    "  from otherData.origin_unix_ns. An action unfinished at the end of the input\n"
	    "  is a begin event (\"B\") without end, its args.outcome \"unfinished\".\n"
	    "jsonl: one JSON object per START, END, MESSAGE, THREAD and DROPPED record, in time\n"
	    "  order, with the keys of perflog.read()'s records (kind, ts_ns, wall_ns, thread,\n"
	    "  tid; START, END, MESSAGE: task, task_id, level, type, fields, and for END\n"
	    "  outcome, duration_ns, exc_type, exc_msg and the type of its START; THREAD: name,\n"
	    "  with ts_ns and wall_ns 0 as it has no time; DROPPED: count, reason) plus file and\n"
	    "  pid. For jq, DuckDB or pandas.\n"
	    "otlp: OpenTelemetry spans as OTLP/JSON, one ExportTraceServiceRequest per line (the\n"
	    "  OpenTelemetry Collector's otlpjsonfile receiver reads it), batched per process\n"
	    "  (resource: service.name, host.name, process.pid): a span per action, its trace id\n"
	    "  the task id, its span id a hash of task id and level (so parents are found\n"
	    "  across processes); attributes code.function, perflog.task, thread.id,\n"
	    "  thread.name, perflog.input.NAME and perflog.output.NAME; a failure has status\n"
	    "  ERROR and an \"exception\" event; messages are events of their action's span (a\n"
	    "  message outside any action ending in the input: a span of its own, attribute\n"
	    "  perflog.message); an action unfinished at the end of the input ends at its\n"
	    "  process's last sign of life, attribute perflog.unfinished.\n"
	    "\n"
	    "Filters: --type, --task, --since and --until select actions and messages (jsonl:\n"
	    "their records); --failed and --min select actions (jsonl: END records only, as a\n"
	    "START is written before its outcome is known). ENDs without a START are left out.\n"
	    "THREAD and DROPPED lines describe the input and are written whatever the filters.\n"
	    "\n"
	    "  -f, --format FMT    chrome, jsonl or otlp (required)\n"
	    "      --service NAME  otlp: service.name of every process (default: its program,\n"
	    "                      from its argv: \"python3 app.py\")\n"
	    "  -o, --output FILE   write to FILE instead of stdout\n"
	    "%s",
	    USAGE, PF_OPTS_HELP_NO_JSON);
}

static void task_id(uint64_t prefix, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%016" PRIx64 "-%" PRIx64, prefix, seq);
}

/* "<prefix>-<seq>@/a/b" into @buf; returns its length. */
static size_t task_str(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth,
		       char *buf, size_t len)
{
	int n = pl_task_format(prefix, seq, level, depth, buf, len);
	if (n >= 0)
		return (size_t)n;
	task_id(prefix, seq, buf, len);
	return strlen(buf);
}

static void see_thread(struct state *st, uint32_t src, uint32_t thread, uint32_t tid)
{
	for (size_t i = st->nthreads; i-- > 0;)
		if (st->threads[i].src == src && st->threads[i].thread == thread)
			return;
	if (PF_GROW(st->threads, st->capthreads, st->nthreads, 16) < 0) {
		st->oom = true;
		return;
	}
	st->threads[st->nthreads++] = (struct seen){src, thread, tid};
}

static int64_t chrome_tid(uint32_t thread, uint32_t tid)
{
	return tid ? (int64_t)tid : (int64_t)thread;
}

static void begin_line(struct state *st, struct pf_json *j)
{
	if (st->fmt == F_CHROME && st->written)
		fputs(",\n", st->out);
	st->written++;
	pf_json_init(j, st->out, false);
	pf_json_object_begin(j);
}

static void end_line(struct state *st, struct pf_json *j)
{
	pf_json_object_end(j);
	if (st->fmt == F_JSONL)
		fputc('\n', st->out);
}

/* ---- jsonl ------------------------------------------------------------------------------ */

/* The keys every line starts with: kind, time, thread. */
static void jsonl_begin(struct state *st, struct pf_json *j, const char *kind,
			const struct pf_event *ev)
{
	begin_line(st, j);
	pf_json_key(j, "kind");
	pf_json_str(j, kind);
	pf_json_key(j, "ts_ns");
	pf_json_uint(j, ev->ts);
	pf_json_key(j, "wall_ns");
	pf_json_int(j, ev->wall);
	pf_json_key(j, "thread");
	pf_json_uint(j, ev->thread);
	pf_json_key(j, "tid");
	pf_json_uint(j, ev->tid);
}

/* The keys every line ends with: its file and process; then the newline. */
static void jsonl_end(struct state *st, struct pf_json *j, const struct pf_event *ev)
{
	pf_json_key(j, "file");
	pf_json_str(j, st->sc->in.src[ev->src].path);
	pf_json_key(j, "pid");
	pf_json_int(j, st->sc->in.src[ev->src].pid);
	end_line(st, j);
}

static void jsonl_record(struct state *st, const struct pf_event *ev, uint32_t type,
			 const struct pf_span *sp)
{
	struct pf_json j;
	char buf[PL_TASK_STR_MAX + 8];
	static const char *const kinds[] = {"?", "start", "end", "message"};
	jsonl_begin(st, &j, kinds[ev->kind <= PL_REC_MESSAGE ? ev->kind : 0], ev);
	pf_json_key(&j, "task");
	size_t n = task_str(ev->prefix, ev->seq, ev->level, ev->depth, buf, sizeof(buf));
	pf_json_strn(&j, buf, n);
	pf_json_key(&j, "task_id"); /* the task string up to its '@' */
	const char *at = memchr(buf, '@', n);
	pf_json_strn(&j, buf, at ? (size_t)(at - buf) : n);
	pf_json_key(&j, "level");
	pf_json_array_begin(&j);
	for (uint32_t i = 0; i < ev->depth; i++)
		pf_json_uint(&j, ev->level[i]);
	pf_json_array_end(&j);
	pf_json_key(&j, "type");
	pf_json_str(&j, pf_names_str(&st->sc->names, type));
	pf_json_key(&j, "fields");
	pf_fields_json(&j, ev->fields, ev->fields ? ev->fields_len : 0);
	if (sp) {
		pf_json_key(&j, "outcome");
		pf_json_str(&j, sp->failed ? "failed" : "succeeded");
		pf_json_key(&j, "duration_ns");
		pf_json_uint(&j, sp->duration_ns);
		pf_json_key(&j, "exc_type");
		pf_json_str(&j, ev->exc_type);
		pf_json_key(&j, "exc_msg");
		pf_json_str(&j, ev->exc_type ? (ev->exc_msg ? ev->exc_msg : "") : NULL);
	}
	jsonl_end(st, &j, ev);
}

/* A THREAD or DROPPED record, with the keys of perflog.read()'s dicts. A THREAD has no time
 * (liblog's reader gives ts 0): it comes out first, or before the frame that renames. */
static void jsonl_meta(struct state *st, const struct pf_event *ev)
{
	struct pf_json j;
	bool thread = ev->kind == PL_REC_THREAD;
	jsonl_begin(st, &j, thread ? "thread" : "dropped", ev);
	pf_json_key(&j, thread ? "name" : "reason");
	pf_json_str(&j, ev->name);
	if (!thread) {
		pf_json_key(&j, "count");
		pf_json_uint(&j, ev->count);
	}
	jsonl_end(st, &j, ev);
}

/* ---- chrome ----------------------------------------------------------------------------- */

static void chrome_common(struct state *st, struct pf_json *j, const char *ph, uint32_t type,
			  int64_t wall, uint32_t src, uint32_t thread, uint32_t tid)
{
	pf_json_key(j, "name");
	pf_json_str(j, pf_names_str(&st->sc->names, type));
	pf_json_key(j, "ph");
	pf_json_str(j, ph);
	pf_json_key(j, "ts");
	pf_json_milli(j, wall - st->origin);
	pf_json_key(j, "pid");
	pf_json_int(j, st->sc->in.src[src].pid);
	pf_json_key(j, "tid");
	pf_json_int(j, chrome_tid(thread, tid));
	see_thread(st, src, thread, tid);
}

static void chrome_action(struct state *st, const struct pf_span *sp)
{
	struct pf_json j;
	char buf[PL_TASK_STR_MAX + 8];
	begin_line(st, &j);
	chrome_common(st, &j, "X", sp->type, sp->start_wall, sp->src, sp->thread, sp->tid);
	pf_json_key(&j, "cat");
	pf_json_str(&j, sp->failed ? "action,failed" : "action");
	pf_json_key(&j, "dur");
	pf_json_milli(&j, (int64_t)sp->duration_ns);
	pf_json_key(&j, "args");
	pf_json_object_begin(&j);
	pf_json_key(&j, "task");
	pf_json_strn(&j, buf,
		     task_str(sp->prefix, sp->seq, sp->level, sp->depth, buf, sizeof(buf)));
	pf_json_key(&j, "inputs");
	pf_fields_json(&j, sp->inputs, sp->inputs ? sp->inputs_len : 0);
	pf_json_key(&j, "outputs");
	pf_fields_json(&j, sp->end->fields, sp->end->fields ? sp->end->fields_len : 0);
	pf_json_key(&j, "outcome");
	pf_json_str(&j, sp->failed ? "failed" : "succeeded");
	if (sp->end->exc_type) {
		pf_json_key(&j, "exception");
		pf_json_str(&j, sp->end->exc_type);
		pf_json_key(&j, "message");
		pf_json_str(&j, sp->end->exc_msg ? sp->end->exc_msg : "");
	}
	pf_json_object_end(&j);
	end_line(st, &j);
}

/* An action still open at the end: a begin event ("B") without its end, which Perfetto
 * shows as not finished; args.task with its level, as for complete events. */
static void chrome_unfinished(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (!pf_filter_span(&st->sc->filter, sp))
		return;
	struct pf_json j;
	char buf[PL_TASK_STR_MAX + 8];
	begin_line(st, &j);
	chrome_common(st, &j, "B", sp->type, sp->start_wall, sp->src, sp->thread, sp->tid);
	pf_json_key(&j, "cat");
	pf_json_str(&j, "action,unfinished");
	pf_json_key(&j, "args");
	pf_json_object_begin(&j);
	pf_json_key(&j, "task");
	pf_json_strn(&j, buf,
		     task_str(sp->prefix, sp->seq, sp->level, sp->depth, buf, sizeof(buf)));
	pf_json_key(&j, "inputs");
	pf_fields_json(&j, sp->inputs, sp->inputs ? sp->inputs_len : 0);
	pf_json_key(&j, "outcome");
	pf_json_str(&j, "unfinished");
	pf_json_object_end(&j);
	end_line(st, &j);
}

static void chrome_message(struct state *st, const struct pf_event *ev)
{
	struct pf_json j;
	char buf[PL_TASK_STR_MAX + 8];
	begin_line(st, &j);
	chrome_common(st, &j, "i", ev->type, ev->wall, ev->src, ev->thread, ev->tid);
	pf_json_key(&j, "cat");
	pf_json_str(&j, "message");
	pf_json_key(&j, "s");
	pf_json_str(&j, "t");
	pf_json_key(&j, "args");
	pf_json_object_begin(&j);
	pf_json_key(&j, "task");
	pf_json_strn(&j, buf,
		     task_str(ev->prefix, ev->seq, ev->level, ev->depth, buf, sizeof(buf)));
	pf_json_key(&j, "fields");
	pf_fields_json(&j, ev->fields, ev->fields ? ev->fields_len : 0);
	pf_json_object_end(&j);
	end_line(st, &j);
}

static void chrome_meta(struct state *st, const char *what, uint32_t src, int64_t tid,
			const char *name)
{
	struct pf_json j;
	begin_line(st, &j);
	pf_json_key(&j, "name");
	pf_json_str(&j, what);
	pf_json_key(&j, "ph");
	pf_json_str(&j, "M");
	pf_json_key(&j, "pid");
	pf_json_int(&j, st->sc->in.src[src].pid);
	pf_json_key(&j, "tid");
	pf_json_int(&j, tid);
	pf_json_key(&j, "args");
	pf_json_object_begin(&j);
	pf_json_key(&j, "name");
	pf_json_str(&j, name);
	pf_json_object_end(&j);
	end_line(st, &j);
}

static void chrome_end(struct state *st)
{
	char name[512];
	pf_spans_foreach_open(&st->sc->spans, chrome_unfinished, st);
	for (size_t i = 0; i < st->sc->in.nsrc; i++) {
		const struct pf_source *s = &st->sc->in.src[i];
		bool used = false;
		for (size_t k = 0; k < st->nthreads && !used; k++)
			used = st->threads[k].src == i;
		if (!used)
			continue;
		snprintf(name, sizeof(name), "pid %" PRId64 "%s%s (%s)", s->pid,
			 s->host && *s->host ? " on " : "", s->host ? s->host : "", s->path);
		chrome_meta(st, "process_name", (uint32_t)i, 0, name);
	}
	for (size_t k = 0; k < st->nthreads; k++) {
		const struct seen *t = &st->threads[k];
		const char *n = pf_input_thread_name(&st->sc->in, t->src, t->thread);
		if (n)
			snprintf(name, sizeof(name), "%s (%" PRIu32 ")", n, t->thread);
		else
			snprintf(name, sizeof(name), "thread %" PRIu32, t->thread);
		chrome_meta(st, "thread_name", t->src, chrome_tid(t->thread, t->tid), name);
	}
	fputs("\n],\n\"displayTimeUnit\": \"ms\",\n\"otherData\": ", st->out);
	struct pf_json j;
	pf_json_init(&j, st->out, false);
	pf_json_object_begin(&j);
	pf_json_key(&j, "generator");
	pf_json_str(&j, "perfan export");
	pf_json_key(&j, "origin_unix_ns");
	pf_json_int(&j, st->origin);
	pf_json_key(&j, "unfinished_actions");
	pf_json_uint(&j, pf_scan_unfinished(st->sc));
	pf_json_key(&j, "unmatched_ends");
	pf_json_uint(&j, pf_scan_unmatched(st->sc));
	pf_json_key(&j, "dropped_events");
	pf_json_uint(&j, st->sc->dropped_events);
	pf_json_object_end(&j);
	fputs("\n}\n", st->out);
}

/* ---- the stream ------------------------------------------------------------------------- */

static void on_event(void *userdata, const struct pf_event *ev)
{
	struct state *st = userdata;
	if (ev->kind == PL_REC_THREAD || ev->kind == PL_REC_DROPPED) {
		jsonl_meta(st, ev); /* asked for by jsonl only (PF_SCAN_META) */
		return;
	}
	if (!st->have_origin) {
		/* The first event is (nearly) the earliest: a second of margin for the small
		 * disorder across frames keeps every ts positive. */
		int64_t sec = 1000000000;
		st->origin = (ev->wall / sec - 1) * sec;
		st->have_origin = true;
		if (st->fmt == F_CHROME)
			fputs("{\"traceEvents\": [\n", st->out);
	}
	/* A root continuing a traceparent puts its whole task in the caller's trace, whether
	 * or not the filters select the root. */
	if (st->fmt == F_OTLP && ev->kind == PL_REC_START && pf_otlp_start(st->otlp, ev) < 0)
		st->oom = true;
	if (ev->kind == PL_REC_END || !pf_filter_event(&st->sc->filter, ev))
		return;
	if (st->fmt == F_OTLP) {
		if (ev->kind == PL_REC_MESSAGE && pf_otlp_message(st->otlp, ev) < 0)
			st->oom = true;
		return;
	}
	if (st->fmt == F_JSONL)
		jsonl_record(st, ev, ev->type, NULL);
	else if (ev->kind == PL_REC_MESSAGE)
		chrome_message(st, ev);
}

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (st->fmt == F_OTLP) {
		if (pf_otlp_span(st->otlp, sp) < 0)
			st->oom = true;
		return;
	}
	if (st->fmt == F_JSONL)
		jsonl_record(st, sp->end, sp->type, sp);
	else
		chrome_action(st, sp);
}

static void otlp_unfinished(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (pf_otlp_span(st->otlp, sp) < 0)
		st->oom = true;
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	(void)g;
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"service", required_argument, NULL, 'S'},
	    {0},
	};
	const char *service = NULL;
	struct pf_opts o = {0};
	enum fmt fmt = F_NONE;
	const char *output = NULL;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT "f:o:", longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "export", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c == 'S') {
			service = optarg;
		} else if (c == 'o') {
			output = optarg;
		} else if (c == 'f') {
			if (!strcmp(optarg, "chrome"))
				fmt = F_CHROME;
			else if (!strcmp(optarg, "jsonl"))
				fmt = F_JSONL;
			else if (!strcmp(optarg, "otlp"))
				fmt = F_OTLP;
			else
				return pf_usage_error("export", USAGE,
						      "--format: '%s' is not chrome, jsonl or otlp",
						      optarg);
		} else {
			return pf_opts_unknown(c, argv, "export", USAGE);
		}
	}
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	if (o.json)
		return pf_usage_error("export", USAGE, "--json: export writes JSON already");
	if (fmt == F_NONE)
		return pf_usage_error("export", USAGE, "--format is required");
	if (service && fmt != F_OTLP)
		return pf_usage_error("export", USAGE, "--service: only with --format otlp");
	if (optind >= argc)
		return pf_usage_error("export", USAGE, "no trace file given");

	if (output && pf_output_is_input(output, argv + optind, (size_t)(argc - optind)))
		return pf_usage_error("export", USAGE, "-o %s: that is one of the traces to read",
				      output);
	struct pf_scan sc;
	struct state st = {.sc = &sc, .fmt = fmt, .out = stdout};
	if (output && !(st.out = pf_output_open(output))) {
		pf_error("%s: cannot write: %s", output, pf_output_error(errno));
		return PF_EXIT_UNREADABLE;
	}
	unsigned flags = PF_SCAN_INPUTS | (fmt == F_JSONL ? PF_SCAN_META : PF_SCAN_OPEN_LEVELS);
	if (fmt == F_OTLP && !(st.otlp = pf_otlp_new(st.out, &sc.in, &sc.names, service))) {
		pf_error("out of memory");
		if (st.out != stdout)
			fclose(st.out);
		return PF_EXIT_UNREADABLE;
	}
	ret = pf_scan_run_events(&sc, &o, argv + optind, (size_t)(argc - optind), flags, on_span,
				 on_event, &st);
	if (ret == PF_EXIT_OK && st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if (ret == PF_EXIT_OK && fmt == F_OTLP) {
		pf_scan_foreach_inflight(&sc, otlp_unfinished, &st);
		if (st.oom || pf_otlp_finish(st.otlp) < 0) {
			pf_error("out of memory");
			ret = PF_EXIT_UNREADABLE;
		}
	}
	if (ret == PF_EXIT_OK && fmt == F_CHROME) {
		if (!st.have_origin)
			fputs("{\"traceEvents\": [\n", st.out);
		chrome_end(&st);
	}
	if ((st.out != stdout ? fclose(st.out) : fflush(st.out)) != 0 && ret == PF_EXIT_OK) {
		pf_error("%s: write error: %s", output ? output : "stdout", strerror(errno));
		ret = PF_EXIT_UNREADABLE;
	}
	pf_otlp_free(st.otlp);
	pf_scan_destroy(&sc);
	free(st.threads);
	return ret;
}

const struct pf_cmd pf_cmd_export = {
    .name = "export",
    .summary = "write Chrome Trace Event JSON (Perfetto, speedscope), JSON lines or OTLP",
    .run = run,
};
