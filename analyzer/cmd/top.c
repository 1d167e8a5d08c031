/* SPDX-License-Identifier: MIT */
/* cmd/top.c - `perfan top`: a live view of traces being written. Per action type, over
 * the last --window: the rate, p50/p99/max and failures; then the longest-running
 * actions in flight with their inputs. Redrawn every --interval on a terminal; a block
 * of plain lines per interval otherwise; --once prints one snapshot.
 *
 * Time is the traces' own: the window ends at the latest sign of life read (a record, or
 * the clock checkpoint every frame carries, also from an idle writer), which for a live
 * service is now, within its flush interval (ten when nothing is recorded and no action
 * is open), and for a finished trace is its end: so
 * `top --once` of an old trace shows its last minute. Durations are binned per second of
 * their END into log-linear histograms (analysis/hist.h): memory is types x window
 * seconds x the buckets used, never the number of events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <perflog/action.h>

#include "analysis/hist.h"
#include "core/fields.h"
#include "core/follow.h"
#include "core/spans.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "fmt/table.h"
#include "fmt/text.h"
#include "fmt/units.h"
#include "perfan.h"
#include "util/grow.h"

#define USAGE                                                                                      \
	"perfan top [--window DUR] [--interval DUR] [--once] [--json] [-n ROWS] [--inflight N] "   \
	"[-t GLOB] TRACE|DIR..."

#define SEC	     1000000000LL
#define MAX_WINDOW_S (24 * 3600)

/* The ENDs of one type in one second. */
struct slot {
	int64_t sec; /* Unix second; 0: empty */
	uint64_t n, failed;
	struct pf_hist h;
};

struct row {
	uint32_t type;
	uint64_t n, failed, p50, p99, max;
};

struct running {
	uint32_t type, src, thread;
	int64_t start;
	uint64_t prefix, seq;
	char *inputs;
};

struct state {
	const struct pf_global *g;
	struct pf_names names;
	struct pf_spans spans;
	struct pf_follow fw;
	const char *glob;
	uint64_t window_ns, interval_ns;
	uint32_t nslots;       /* seconds kept per type: the window's, and one being filled */
	struct slot **by_type; /* by type number: nslots slots, or NULL (none ended yet) */
	uint32_t ntypes;
	int64_t first_end; /* the earliest END binned (rates over less than a window) */
	uint64_t rows, inflight_n;
	bool tty, oom;
	/* gathered per draw */
	struct running *run;
	size_t nrun, cap_run;
};

static void help(void)
{
	printf(
	    "Usage: %s\n"
	    "\n"
	    "A live view of traces being written, as top(1) is of processes. Per action type\n"
	    "over the last --window: calls per second, p50, p99 and max duration, failures;\n"
	    "then the longest-running actions in flight, with their inputs. Files grow as\n"
	    "their writers flush; in a DIR, files that appear (a rotating writer's next file)\n"
	    "are followed too. The window ends at the traces' latest sign of life: now, for a\n"
	    "live writer (within its flush interval, ten when it is idle); the end, for a\n"
	    "finished trace.\n"
	    "\n"
	    "On a terminal the view is redrawn every --interval; otherwise a block of lines is\n"
	    "printed per interval. perfan top runs until interrupted, or until every file given\n"
	    "(no directory) was closed by its writer.\n"
	    "\n"
	    "  -w, --window DUR    the time the figures cover (default 60s, at most 24h)\n"
	    "  -i, --interval DUR  time between redraws (default 1s, at least 10ms)\n"
	    "      --once          read what is there, print one snapshot and exit\n"
	    "      --json          one JSON object per snapshot and line (JSON lines): the\n"
	    "                      types' calls/s, calls, p50_ns, p99_ns, max_ns, failed, and\n"
	    "                      the longest-running actions in flight\n"
	    "  -n, --rows N        action types shown, most calls first (default: what fits\n"
	    "                      the terminal; 20 when not a terminal; 0: all)\n"
	    "      --inflight N    longest-running actions shown (default 5)\n"
	    "  -t, --type GLOB     only action types matching GLOB (fnmatch)\n"
	    "  -h, --help          this help\n"
	    "\n"
	    "DUR is a number with a unit: ns, us, ms, s, m, h (500ms, 1.5s, 5m).\n",
	    USAGE);
}

/* ---- recording ---------------------------------------------------------------------- */

static struct slot *type_slots(struct state *st, uint32_t type)
{
	if (type >= st->ntypes) {
		uint32_t n = type + 64;
		struct slot **v = realloc(st->by_type, n * sizeof(*v));
		if (!v)
			return NULL;
		memset(v + st->ntypes, 0, (n - st->ntypes) * sizeof(*v));
		st->by_type = v;
		st->ntypes = n;
	}
	if (!st->by_type[type]) {
		struct slot *s = calloc(st->nslots, sizeof(*s));
		if (!s)
			return NULL;
		for (uint32_t i = 0; i < st->nslots; i++)
			pf_hist_init(&s[i].h);
		st->by_type[type] = s;
	}
	return st->by_type[type];
}

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (st->glob && fnmatch(st->glob, pf_names_str(&st->names, sp->type), 0) != 0)
		return;
	int64_t end = sp->end->wall, sec = end / SEC;
	struct slot *slots = type_slots(st, sp->type);
	if (!slots) {
		st->oom = true;
		return;
	}
	struct slot *s = &slots[(uint64_t)sec % st->nslots];
	if (s->sec > sec)
		return; /* older than what the slot holds now: out of every window to come */
	if (s->sec < sec) {
		pf_hist_destroy(&s->h);
		pf_hist_init(&s->h);
		s->sec = sec;
		s->n = s->failed = 0;
	}
	if (pf_hist_record(&s->h, sp->duration_ns) < 0) {
		st->oom = true;
		return;
	}
	s->n++;
	s->failed += sp->failed;
	if (end < st->first_end)
		st->first_end = end;
}

static void on_event(void *userdata, const struct pf_event *ev)
{
	struct state *st = userdata;
	if (pf_spans_feed(&st->spans, ev) < 0)
		st->oom = true;
}

/* ---- drawing ------------------------------------------------------------------------ */

static void on_open(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (st->glob && fnmatch(st->glob, pf_names_str(&st->names, sp->type), 0) != 0)
		return;
	if (PF_GROW(st->run, st->cap_run, st->nrun, 64) < 0) {
		st->oom = true;
		return;
	}
	st->run[st->nrun++] = (struct running){sp->type,   sp->src, sp->thread, sp->start_wall,
					       sp->prefix, sp->seq, NULL};
	if (sp->inputs &&
	    !(st->run[st->nrun - 1].inputs = pf_fields_text(sp->inputs, sp->inputs_len)))
		st->oom = true;
}

static int cmp_running(const void *a, const void *b)
{
	const struct running *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->type < y->type ? -1 : x->type > y->type;
}

/* Is the process of file @src still writing a file that is followed? An action open in
 * a file whose writer closed it for good (stopped) will never end: not in flight. */
static bool process_live(const struct pf_follow *fw, uint32_t src, int64_t *alive)
{
	const struct pf_follow_src *s = &fw->src[src];
	bool live = false;
	*alive = INT64_MIN;
	for (size_t i = 0; i < fw->nsrc; i++) {
		const struct pf_follow_src *o = &fw->src[i];
		if (o->pid != s->pid || !o->host || !s->host || strcmp(o->host, s->host))
			continue;
		live |= !o->ended;
		if (o->alive > *alive)
			*alive = o->alive;
	}
	return live;
}

static void fmt_dur(uint64_t ns, char *buf, size_t len)
{
	pf_duration_format(ns, buf, len);
}

/* The columns beside the type's: so many characters at most (CALLS/S to FAILED). */
#define FIGURE_COLS 60

/* The types with ENDs in the window ending at @view_end, most calls first, into *@out
 * (malloc'd; NULL when none or out of memory, then st->oom), and the seconds the rates are
 * over: the window, or the part of it the traces cover. Returns the number of rows. */
static size_t collect_rows(struct state *st, int64_t view_end, struct row **out, double *span)
{
	int64_t last = view_end / SEC, from = last - (int64_t)(st->nslots - 1) + 1;
	struct row *rows = calloc(st->ntypes ? st->ntypes : 1, sizeof(*rows));
	struct pf_hist h;
	size_t n = 0;
	*out = rows;
	if (!rows) {
		st->oom = true;
		return 0;
	}
	for (uint32_t t = 0; t < st->ntypes; t++) {
		const struct slot *slots = st->by_type[t];
		if (!slots)
			continue;
		struct row r = {.type = t};
		pf_hist_init(&h);
		for (uint32_t i = 0; i < st->nslots; i++) {
			const struct slot *s = &slots[i];
			if (s->sec < from || s->sec > last || !s->n)
				continue;
			r.n += s->n;
			r.failed += s->failed;
			if (pf_hist_merge(&h, &s->h) < 0)
				st->oom = true;
		}
		if (r.n) {
			r.p50 = pf_hist_quantile(&h, 0.5);
			r.p99 = pf_hist_quantile(&h, 0.99);
			r.max = h.max;
			rows[n++] = r;
		}
		pf_hist_destroy(&h);
	}
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_row);
	int64_t covered = view_end - st->first_end;
	double span_s = (double)st->window_ns / 1e9;
	if (covered > 0 && (uint64_t)covered < st->window_ns)
		span_s = (double)covered / 1e9;
	*span = span_s < 1e-3 ? 1e-3 : span_s;
	return n;
}

static void draw_types(struct state *st, FILE *out, int64_t view_end, size_t max_rows, size_t cols)
{
	struct row *rows;
	double span_s;
	size_t n = collect_rows(st, view_end, &rows, &span_s);
	if (!rows)
		return;
	struct pf_table *tab = pf_table_new(7);
	if (!tab) {
		st->oom = true;
		free(rows);
		return;
	}
	const char *head[] = {"TYPE", "CALLS/S", "CALLS", "P50", "P99", "MAX", "FAILED"};
	for (size_t c = 0; c < 7; c++)
		pf_table_column(tab, c, head[c], c ? PF_RIGHT : PF_LEFT);
	size_t shown = max_rows && max_rows < n ? max_rows : n;
	for (size_t i = 0; i < shown; i++) {
		const struct row *r = &rows[i];
		char a[PF_DURATION_MAX], b[PF_DURATION_MAX], c[PF_DURATION_MAX];
		fmt_dur(r->p50, a, sizeof(a));
		fmt_dur(r->p99, b, sizeof(b));
		fmt_dur(r->max, c, sizeof(c));
		/* On a terminal, a long type is cut in the middle: a row never wraps. */
		const char *name = pf_text_esc(pf_names_str(&st->names, r->type));
		size_t room = cols > FIGURE_COLS + 12 ? cols - FIGURE_COLS : 12;
		char fit[4 * 512 + 1];
		if (st->tty && pf_text_chars(name) > room)
			name = pf_text_fit(pf_names_str(&st->names, r->type),
					   room < 512 ? room : 512, fit, sizeof(fit));
		pf_table_cell(tab, PF_BOLD, "%s", name);
		pf_table_cell(tab, PF_PLAIN, "%.1f", (double)r->n / span_s);
		pf_table_cell(tab, PF_PLAIN, "%" PRIu64, r->n);
		pf_table_cell(tab, PF_PLAIN, "%s", a);
		pf_table_cell(tab, PF_PLAIN, "%s", b);
		pf_table_cell(tab, PF_PLAIN, "%s", c);
		pf_table_cell(tab, r->failed ? PF_RED : PF_PLAIN, "%" PRIu64, r->failed);
		pf_table_row_end(tab);
	}
	if (n)
		pf_table_print(tab, out, st->g->color);
	else
		fprintf(out, "(no action ended in the window)\n");
	if (shown < n)
		fprintf(out, "... %zu more type%s (-n 0 shows all)\n", n - shown,
			n - shown == 1 ? "" : "s");
	pf_table_free(tab);
	free(rows);
}

/* The actions in flight in live processes, longest-running first, into st->run. */
static void collect_running(struct state *st)
{
	for (size_t i = 0; i < st->nrun; i++)
		free(st->run[i].inputs);
	st->nrun = 0;
	pf_spans_foreach_open(&st->spans, on_open, st);
	/* Keep the actions of live processes, with how long each has been running. */
	size_t n = 0;
	for (size_t i = 0; i < st->nrun; i++) {
		int64_t alive;
		if (process_live(&st->fw, st->run[i].src, &alive)) {
			st->run[n++] = st->run[i];
		} else {
			free(st->run[i].inputs);
		}
	}
	st->nrun = n;
	if (n > 1)
		qsort(st->run, n, sizeof(*st->run), cmp_running);
}

static void draw_running(struct state *st, FILE *out, size_t cols)
{
	collect_running(st);
	size_t n = st->nrun;
	fprintf(out, "\nIn flight: %zu action%s", n, n == 1 ? "" : "s");
	if (!n || !st->inflight_n) {
		fputc('\n', out);
		return;
	}
	fprintf(out, "; the longest-running:\n");
	for (size_t i = 0; i < n && i < st->inflight_n; i++) {
		const struct running *r = &st->run[i];
		int64_t alive;
		process_live(&st->fw, r->src, &alive);
		char d[PF_DURATION_MAX], task[PL_TASK_STR_MAX], line[1024], fit[4 * 512 + 1];
		fmt_dur(alive > r->start ? (uint64_t)(alive - r->start) : 0, d, sizeof(d));
		if (pl_task_format(r->prefix, r->seq, NULL, 0, task, sizeof(task)) < 0)
			task[0] = '\0';
		const char *tname = pf_follow_thread_name(&st->fw, r->src, r->thread);
		char thr[64];
		if (tname)
			snprintf(thr, sizeof(thr), "%" PRId64 "/%s", st->fw.src[r->src].pid, tname);
		else
			snprintf(thr, sizeof(thr), "%" PRId64 "/t%" PRIu32, st->fw.src[r->src].pid,
				 r->thread);
		int len = snprintf(line, sizeof(line), "  %9s  %s  %s  task=%s", d,
				   pf_text_esc(pf_names_str(&st->names, r->type)), pf_text_esc(thr),
				   task);
		if (len < 0)
			continue;
		fprintf(
		    out, "  %9s  %s%s%s  %s  %stask=%s%s", d, pf_style_begin(PF_BOLD, st->g->color),
		    pf_text_esc(pf_names_str(&st->names, r->type)),
		    pf_style_end(PF_BOLD, st->g->color), pf_text_esc(thr),
		    pf_style_begin(PF_DIM, st->g->color), task, pf_style_end(PF_DIM, st->g->color));
		/* Inputs last, cut (in the middle) to the terminal's width. */
		size_t room = cols > (size_t)len + 2 ? cols - (size_t)len - 2 : 0;
		if (room > 512)
			room = 512;
		if (r->inputs && *r->inputs && room >= 8) {
			char esc[PF_TEXT_ESC_MAX];
			pf_text_escape(r->inputs, esc, sizeof(esc));
			fprintf(out, "  %s",
				pf_text_chars(esc) <= room
				    ? esc
				    : pf_text_fit(r->inputs, room, fit, sizeof(fit)));
		}
		fputc('\n', out);
	}
}

static void draw(struct state *st, size_t term_rows, size_t term_cols)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out) {
		st->oom = true;
		return;
	}
	int64_t view_end = pf_follow_alive(&st->fw);
	char w[PF_WALL_MAX], win[PF_DURATION_MAX];
	pf_duration_format(st->window_ns, win, sizeof(win));
	uint64_t dropped = 0;
	for (size_t i = 0; i < st->fw.nsrc; i++)
		dropped += st->fw.src[i].dropped;
	if (view_end == INT64_MIN) {
		fprintf(out, "perfan top: waiting for records (%zu file%s)\n", st->fw.nsrc,
			st->fw.nsrc == 1 ? "" : "s");
	} else {
		pf_wall_format(view_end, false, w, sizeof(w));
		fprintf(out, "perfan top  %s  window %s  files %zu (%zu being written)", w, win,
			st->fw.nsrc, pf_follow_active(&st->fw));
		if (dropped)
			fprintf(out, "  %sdropped %" PRIu64 "%s",
				pf_style_begin(PF_RED, st->g->color), dropped,
				pf_style_end(PF_RED, st->g->color));
		fputs("\n\n", out);
		/* Rows that fit: the header lines, the table's, the in-flight block. */
		size_t fixed = 3 + 1 + 3 + st->inflight_n;
		size_t max_rows = st->rows != UINT64_MAX  ? st->rows
				  : term_rows > fixed + 1 ? term_rows - fixed
							  : 1;
		draw_types(st, out, view_end, max_rows, term_cols);
		draw_running(st, out, term_cols);
	}
	fclose(out);
	if (st->tty)
		fputs("\033[H\033[2J", stdout); /* home, clear: then the whole frame at once */
	fwrite(buf, 1, len, stdout);
	if (!st->tty)
		fputc('\n', stdout);
	fflush(stdout);
	free(buf);
}

/* One snapshot as a JSON line: what the table and the in-flight block show, unrounded. */
static void draw_json(struct state *st)
{
	struct pf_json j;
	pf_json_init(&j, stdout, false);
	int64_t view_end = pf_follow_alive(&st->fw);
	uint64_t dropped = 0;
	for (size_t i = 0; i < st->fw.nsrc; i++)
		dropped += st->fw.src[i].dropped;
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "top");
	pf_json_key(&j, "end_ns"); /* the traces' latest sign of life; null: no record yet */
	if (view_end == INT64_MIN)
		pf_json_null(&j);
	else
		pf_json_int(&j, view_end);
	pf_json_key(&j, "window_ns");
	pf_json_uint(&j, st->window_ns);
	pf_json_key(&j, "files");
	pf_json_uint(&j, st->fw.nsrc);
	pf_json_key(&j, "files_being_written");
	pf_json_uint(&j, pf_follow_active(&st->fw));
	pf_json_key(&j, "dropped_events");
	pf_json_uint(&j, dropped);
	struct row *rows = NULL;
	double span_s = 1;
	size_t n = view_end == INT64_MIN ? 0 : collect_rows(st, view_end, &rows, &span_s);
	pf_json_key(&j, "seconds"); /* what the rates are over */
	pf_json_double(&j, span_s);
	pf_json_key(&j, "types");
	pf_json_array_begin(&j);
	for (size_t i = 0; i < n && i < st->rows; i++) {
		const struct row *r = &rows[i];
		pf_json_object_begin(&j);
		pf_json_key(&j, "type");
		pf_json_str(&j, pf_names_str(&st->names, r->type));
		pf_json_key(&j, "calls_per_s");
		pf_json_double(&j, (double)r->n / span_s);
		pf_json_key(&j, "calls");
		pf_json_uint(&j, r->n);
		pf_json_key(&j, "p50_ns");
		pf_json_uint(&j, r->p50);
		pf_json_key(&j, "p99_ns");
		pf_json_uint(&j, r->p99);
		pf_json_key(&j, "max_ns");
		pf_json_uint(&j, r->max);
		pf_json_key(&j, "failed");
		pf_json_uint(&j, r->failed);
		pf_json_object_end(&j);
	}
	pf_json_array_end(&j);
	pf_json_key(&j, "types_left_out");
	pf_json_uint(&j, n > st->rows ? n - st->rows : 0);
	free(rows);
	collect_running(st);
	pf_json_key(&j, "in_flight");
	pf_json_uint(&j, st->nrun);
	pf_json_key(&j, "longest_running");
	pf_json_array_begin(&j);
	for (size_t i = 0; i < st->nrun && i < st->inflight_n; i++) {
		const struct running *r = &st->run[i];
		int64_t alive;
		process_live(&st->fw, r->src, &alive);
		char task[PL_TASK_STR_MAX];
		if (pl_task_format(r->prefix, r->seq, NULL, 0, task, sizeof(task)) < 0)
			task[0] = '\0';
		pf_json_object_begin(&j);
		pf_json_key(&j, "type");
		pf_json_str(&j, pf_names_str(&st->names, r->type));
		pf_json_key(&j, "running_ns");
		pf_json_uint(&j, alive > r->start ? (uint64_t)(alive - r->start) : 0);
		pf_json_key(&j, "start_ns");
		pf_json_int(&j, r->start);
		pf_json_key(&j, "pid");
		pf_json_int(&j, st->fw.src[r->src].pid);
		pf_json_key(&j, "thread");
		pf_json_str(&j, pf_follow_thread_name(&st->fw, r->src, r->thread));
		pf_json_key(&j, "task_id");
		pf_json_str(&j, task);
		pf_json_key(&j, "inputs");
		pf_json_str(&j, r->inputs ? r->inputs : "");
		pf_json_object_end(&j);
	}
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	fputc('\n', stdout);
	fflush(stdout);
}

/* ---- the loop ----------------------------------------------------------------------- */

static int64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * SEC + t.tv_nsec;
}

static void sleep_until(int64_t deadline)
{
	int64_t left = deadline - mono_ns();
	if (left > 0)
		pf_follow_sleep((uint64_t)left);
}

static int parse_count(const char *opt, const char *arg, uint64_t *out)
{
	return pf_opts_count("top", USAGE, opt, arg, 0, 1000000, out);
}

static int parse_dur(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	if (pf_duration_parse(arg, out) < 0 || *out < min || *out > max) {
		char a[PF_DURATION_MAX], b[PF_DURATION_MAX];
		pf_duration_format(min, a, sizeof(a));
		pf_duration_format(max, b, sizeof(b));
		return pf_usage_error("top", USAGE, "%s: '%s' is not a duration from %s to %s", opt,
				      arg, a, b);
	}
	return 0;
}

enum { OPT_ONCE = PF_OPT_FIRST_CMD, OPT_INFLIGHT, OPT_JSON };

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"window", required_argument, NULL, 'w'},
	    {"interval", required_argument, NULL, 'i'},
	    {"once", no_argument, NULL, OPT_ONCE},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"rows", required_argument, NULL, 'n'},
	    {"inflight", required_argument, NULL, OPT_INFLIGHT},
	    {"type", required_argument, NULL, 't'},
	    {0},
	};
	struct state st = {.g = g,
			   .window_ns = 60 * SEC,
			   .interval_ns = SEC,
			   .rows = UINT64_MAX,
			   .inflight_n = 5,
			   .first_end = INT64_MAX};
	bool once = false, json = false;
	int c;
	while ((c = getopt_long(argc, argv, ":hw:i:n:t:", longopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'h':
			help();
			return PF_EXIT_OK;
		case 'w':
			bad = parse_dur("--window", optarg, SEC, (uint64_t)MAX_WINDOW_S * SEC,
					&st.window_ns);
			break;
		case 'i':
			bad = parse_dur("--interval", optarg, 10000000, 3600 * (uint64_t)SEC,
					&st.interval_ns);
			break;
		case OPT_ONCE:
			once = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'n':
			bad = parse_count("--rows", optarg, &st.rows);
			break;
		case OPT_INFLIGHT:
			bad = parse_count("--inflight", optarg, &st.inflight_n);
			break;
		case 't':
			st.glob = optarg;
			break;
		default:
			return pf_opts_unknown(c, argv, "top", USAGE);
		}
		if (bad)
			return bad;
	}
	if (optind >= argc)
		return pf_usage_error("top", USAGE, "no trace file or directory given");
	st.tty = isatty(STDOUT_FILENO) && !once && !json;
	if (st.rows == UINT64_MAX && !st.tty)
		st.rows = 20;
	if (st.rows == 0)
		st.rows = UINT64_MAX - 1; /* all */
	st.nslots = (uint32_t)((st.window_ns + SEC - 1) / SEC) + 1;

	int ret = PF_EXIT_OK;
	pf_names_init(&st.names);
	if (pf_spans_init(&st.spans, true, false, on_span, &st) < 0) {
		st.oom = true;
		goto out;
	}
	int r = pf_follow_open(&st.fw, argv + optind, (size_t)(argc - optind), &st.names,
			       PF_FOLLOW_FIELDS, INT64_MIN, st.window_ns);
	if (r == -1) {
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	if (r < 0) {
		st.oom = true;
		goto out;
	}
	if (!once)
		pf_follow_catch_signals();
	bool dirs = pf_follow_has_dir(&st.fw); /* new files may come: never done */
	while (!pf_follow_interrupted() && !st.oom) {
		int64_t deadline = mono_ns() + (int64_t)st.interval_ns;
		do
			r = pf_follow_poll(&st.fw, on_event, &st);
		while (r == 1 && (once || mono_ns() < deadline) && !pf_follow_interrupted());
		if (r < 0) {
			st.oom = true;
			break;
		}
		struct winsize ws = {0};
		size_t rows = 24, cols = 100;
		if (st.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
		    ws.ws_col) {
			rows = ws.ws_row;
			cols = ws.ws_col;
		}
		if (json)
			draw_json(&st);
		else
			draw(&st, rows, cols);
		if (once)
			break;
		if (!dirs && st.fw.nsrc && !pf_follow_active(&st.fw)) {
			if (!json) /* stdout is JSON lines only */
				printf("perfan top: every file was closed by its writer\n");
			break;
		}
		sleep_until(deadline);
	}
out:
	if (st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	for (size_t i = 0; i < st.nrun; i++)
		free(st.run[i].inputs);
	free(st.run);
	for (uint32_t t = 0; t < st.ntypes; t++) {
		if (!st.by_type[t])
			continue;
		for (uint32_t i = 0; i < st.nslots; i++)
			pf_hist_destroy(&st.by_type[t][i].h);
		free(st.by_type[t]);
	}
	free(st.by_type);
	pf_follow_close(&st.fw);
	pf_spans_destroy(&st.spans);
	pf_names_destroy(&st.names);
	return ret;
}

const struct pf_cmd pf_cmd_top = {
    .name = "top",
    .summary = "live view of traces being written: rates, percentiles, failures, in flight",
    .run = run,
};
