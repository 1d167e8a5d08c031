/* cmd/slowest.c - `perfan slowest`: the N slowest actions with their inputs, outcome,
 * causal path from the task's root and child/self breakdown. Keeps N calls, not events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/call.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "perfan.h"
#include "core/scan.h"
#include "analysis/topn.h"

#define USAGE "perfan slowest [-n N] [FILTERS] [--json] TRACE..."
#define MAX_N 100000

struct state {
	struct pf_scan *sc;
	struct pf_topn top;
	bool oom;
};

static void help(void)
{
	printf("Usage: %s\n"
	       "\n"
	       "The N slowest actions, slowest first: duration, type, wall-clock start, process\n"
	       "and thread, inputs (the fields given at the start), outputs, outcome and\n"
	       "exception, the path of action types from the task's root, and the split of the\n"
	       "duration between direct children and the action itself (self).\n"
	       "\n"
	       "  -n, --number N      how many (default 10, at most %d)\n"
	       "%s",
	       USAGE, MAX_N, PF_OPTS_HELP);
}

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (pf_topn_offer(&st->top, &st->sc->spans, sp) < 0)
		st->oom = true;
}

static void print_json(const struct pf_scan *sc, const struct pf_call_ctx *ctx,
		       const struct pf_topn *top, size_t n)
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "slowest");
	pf_scan_json_summary(sc, &j);
	pf_json_key(&j, "n");
	pf_json_uint(&j, n);
	pf_json_key(&j, "calls");
	pf_json_array_begin(&j);
	for (size_t i = 0; i < top->n; i++)
		pf_call_json(ctx, top->heap[i], &j);
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"number", required_argument, NULL, 'n'},
	    {0},
	};
	struct pf_opts o = {0};
	unsigned long n = 10;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT "n:", longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "slowest", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c != 'n')
			return pf_opts_unknown(c, argv, "slowest", USAGE);
		char *end;
		errno = 0;
		n = strtoul(optarg, &end, 10);
		if (errno || *end || end == optarg || optarg[0] == '-' || n == 0 || n > MAX_N)
			return pf_usage_error("slowest", USAGE,
					      "-n: '%s' is not a number from 1 to %d", optarg,
					      MAX_N);
	}
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	if (optind >= argc)
		return pf_usage_error("slowest", USAGE, "no trace file given");

	struct pf_scan sc;
	struct state st = {.sc = &sc};
	if (pf_topn_init(&st.top, n) < 0) {
		pf_error("out of memory");
		return PF_EXIT_UNREADABLE;
	}
	ret = pf_scan_run(&sc, &o, argv + optind, (size_t)(argc - optind), true, on_span, &st);
	if (ret == PF_EXIT_OK && st.oom) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if (ret != PF_EXIT_OK)
		goto out;
	pf_topn_sort(&st.top);
	struct pf_call_ctx ctx = {&sc.names, &sc.in, g->color};
	if (o.json) {
		print_json(&sc, &ctx, &st.top, n);
		goto out;
	}
	if (st.top.n == 0)
		printf("(no action matched)\n");
	else
		printf("The %zu slowest of %llu action%s:\n", st.top.n,
		       (unsigned long long)sc.selected, sc.selected == 1 ? "" : "s");
	for (size_t i = 0; i < st.top.n; i++) {
		putchar('\n');
		pf_call_print_block(&ctx, st.top.heap[i], i + 1, stdout);
	}
	if (pf_spans_open(&sc.spans) || sc.spans.unmatched || sc.dropped_events)
		putchar('\n');
	pf_scan_notes(&sc, stdout);
out:
	pf_scan_destroy(&sc);
	pf_topn_destroy(&st.top);
	return ret;
}

const struct pf_cmd pf_cmd_slowest = {
    .name = "slowest",
    .summary = "the N slowest actions with inputs, causal path and self time",
    .run = run,
};
