/* SPDX-License-Identifier: MIT */
/* cmd/slowest.c - `perfan slowest`: the N slowest actions with their inputs, outcome,
 * causal path from the task's root and child/self breakdown; and `perfan inflight`: the
 * same for the actions still running when their trace ended (a crash, kill -9, a hang),
 * longest-running first - the first question after an incident. Keeps N calls, not
 * events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/call.h"
#include "analysis/refetch.h"
#include "analysis/topn.h"
#include "core/scan.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "perfan.h"
#include "summary/sumscan.h"

#define MAX_N 100000

/* Which actions a run ranks. */
enum which {
	ALL,	  /* slowest: finished, and running ones by how long they ran */
	FINISHED, /* slowest --finished */
	RUNNING,  /* inflight */
};

struct cmd {
	const char *name, *usage;
	unsigned long default_n;
	enum which which;
};

static const struct cmd slowest_cmd = {
    "slowest", "perfan slowest [-n N] [--finished] [FILTERS] [--json] TRACE|SUMMARY...", 10, ALL};
static const struct cmd inflight_cmd = {
    "inflight", "perfan inflight [-n N] [FILTERS] [--json] TRACE|SUMMARY...", 20, RUNNING};

struct state {
	struct pf_scan *sc;
	struct pf_topn top;
	bool finished;	  /* offer finished actions */
	uint64_t running; /* running actions offered */
	bool oom;
};

enum { OPT_FINISHED = PF_OPT_FIRST_CMD };

static void help(const struct cmd *cmd)
{
	printf("Usage: %s\n\n", cmd->usage);
	if (cmd->which == RUNNING)
		printf(
		    "The actions still running when their trace ended - a crash, kill -9, a hang,\n"
		    "or a process still recording - longest-running first: how long each had been\n"
		    "running at the last sign of life of its file (its last record, or the\n"
		    "writer's last clock checkpoint: a lower bound of its duration), type, "
		    "inputs,\n"
		    "process and thread, task id, and the path of action types from the task's\n"
		    "root (its open ancestors).\n\n"
		    "  -n, --number N      how many (default %lu, at most %d)\n",
		    cmd->default_n, MAX_N);
	else
		printf(
		    "The N slowest actions, slowest first: duration, type, wall-clock start, "
		    "process\n"
		    "and thread, inputs (the fields given at the start), outputs, outcome and\n"
		    "exception, the path of action types from the task's root, and the split of "
		    "the\n"
		    "duration between direct children and the action itself (self).\n"
		    "\n"
		    "Actions still running when their trace ended (a crash, a hang) are ranked by\n"
		    "how long they had been running by then, marked \"running \xe2\x89\xa5\".\n"
		    "\n"
		    "  -n, --number N      how many (default %lu, at most %d)\n"
		    "      --finished      finished actions only (perfan inflight lists the "
		    "others)\n",
		    cmd->default_n, MAX_N);
	fputs(PF_OPTS_HELP, stdout);
}

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (st->finished && pf_topn_offer(&st->top, &st->sc->spans, sp) < 0)
		st->oom = true;
}

static void on_inflight(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	st->running++;
	if (pf_topn_offer(&st->top, &st->sc->spans, sp) < 0)
		st->oom = true;
}

static int offer_call(void *userdata, const struct pf_call *c)
{
	struct state *st = userdata;
	st->running += c->running;
	return pf_topn_offer_call(&st->top, c);
}

static void print_json(const struct cmd *cmd, const struct pf_scan *sc,
		       const struct pf_call_ctx *ctx, const struct state *st, size_t n)
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, cmd->name);
	pf_scan_json_summary(sc, &j);
	pf_json_key(&j, "n");
	pf_json_uint(&j, n);
	pf_json_key(&j, "running");
	pf_json_uint(&j, st->running);
	pf_json_key(&j, "calls");
	pf_json_array_begin(&j);
	for (size_t i = 0; i < st->top.n; i++)
		pf_call_json(ctx, st->top.heap[i], &j);
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

static void print_heading(const struct cmd *cmd, const struct pf_scan *sc, const struct state *st)
{
	uint64_t total = (st->finished ? sc->selected : 0) + st->running;
	if (st->top.n == 0)
		puts(cmd->which == RUNNING ? "(no action was running when its trace ended)"
					   : "(no action matched)");
	else if (cmd->which == RUNNING)
		printf("%llu action%s still running when %s trace ended%s:\n",
		       (unsigned long long)st->running, st->running == 1 ? " was" : "s were",
		       st->running == 1 ? "its" : "their",
		       st->top.n < st->running ? ", the longest-running first" : "");
	else if (st->running)
		printf("The %zu slowest of %llu action%s (%llu still running when %s trace "
		       "ended):\n",
		       st->top.n, (unsigned long long)total, total == 1 ? "" : "s",
		       (unsigned long long)st->running, st->running == 1 ? "its" : "their");
	else
		printf("The %zu slowest of %llu action%s:\n", st->top.n, (unsigned long long)total,
		       total == 1 ? "" : "s");
}

static int run_cmd(const struct cmd *cmd, const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"number", required_argument, NULL, 'n'},
	    {"finished", no_argument, NULL, OPT_FINISHED},
	    {0},
	};
	struct pf_opts o = {0};
	unsigned long n = cmd->default_n;
	enum which which = cmd->which;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT "n:", longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, cmd->name, cmd->usage)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c == OPT_FINISHED && cmd->which == ALL) {
			which = FINISHED;
			continue;
		}
		if (c != 'n')
			return pf_opts_unknown(c, argv, cmd->name, cmd->usage);
		uint64_t v;
		if (pf_opts_count(cmd->name, cmd->usage, "-n", optarg, 1, MAX_N, &v))
			return PF_EXIT_USAGE;
		n = v;
	}
	if (o.help) {
		help(cmd);
		return PF_EXIT_OK;
	}
	if (optind >= argc)
		return pf_usage_error(cmd->name, cmd->usage, "no trace file given");

	struct pf_scan sc;
	struct state st = {.sc = &sc, .finished = which != RUNNING};
	struct pf_summary sum = {0};
	if (pf_topn_init(&st.top, n) < 0) {
		pf_error("out of memory");
		return PF_EXIT_UNREADABLE;
	}
	/* A few calls shown: their inputs are read again after the scan (refetch.h). */
	bool refetch = n <= PF_REFETCH_FEW;
	ret = pf_sumscan_run(&sc, &sum, &o, argv + optind, (size_t)(argc - optind),
			     (refetch ? PF_SCAN_END_DATA : PF_SCAN_INPUTS) | PF_SCAN_OPEN_LEVELS,
			     on_span, &st);
	if (ret == PF_EXIT_OK && which != FINISHED)
		pf_scan_foreach_inflight(&sc, on_inflight, &st);
	if (ret == PF_EXIT_OK &&
	    pf_sumscan_calls(&sum, which != RUNNING, which != FINISHED, offer_call, &st) < 0)
		st.oom = true;
	if (ret == PF_EXIT_OK && sum.files && n > sum.k)
		pf_warn("the summaries keep the %zu slowest finished actions of each type: -n %lu "
			"may leave out some",
			sum.k, n);
	if (ret == PF_EXIT_OK && st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if (ret != PF_EXIT_OK)
		goto out;
	pf_topn_sort(&st.top);
	long missing = refetch ? pf_refetch_inputs(&sc.in, st.top.heap, st.top.n) : 0;
	if (missing < 0) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
		goto out;
	}
	if (missing > 0)
		pf_warn("the inputs of %ld of the calls could not be read again: their files "
			"changed since",
			missing);
	struct pf_call_ctx ctx = {&sc.names, &sc.in, g->color};
	if (o.json) {
		print_json(cmd, &sc, &ctx, &st, n);
		goto out;
	}
	print_heading(cmd, &sc, &st);
	for (size_t i = 0; i < st.top.n; i++) {
		putchar('\n');
		pf_call_print_block(&ctx, st.top.heap[i], i + 1, stdout);
	}
	if (which != RUNNING) {
		if (pf_scan_unfinished(&sc) || pf_scan_unmatched(&sc) || sc.dropped_events)
			putchar('\n');
		pf_scan_notes(&sc, stdout);
	}
out:
	pf_scan_destroy(&sc);
	pf_summary_destroy(&sum);
	pf_topn_destroy(&st.top);
	return ret;
}

static int run_slowest(const struct pf_global *g, int argc, char **argv)
{
	return run_cmd(&slowest_cmd, g, argc, argv);
}

static int run_inflight(const struct pf_global *g, int argc, char **argv)
{
	return run_cmd(&inflight_cmd, g, argc, argv);
}

const struct pf_cmd pf_cmd_slowest = {
    .name = "slowest",
    .summary = "the N slowest actions with inputs, causal path and self time",
    .run = run_slowest,
};

const struct pf_cmd pf_cmd_inflight = {
    .name = "inflight",
    .summary = "the actions still running when each trace ended (crash, hang, kill -9)",
    .run = run_inflight,
};
