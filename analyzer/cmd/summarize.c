/* SPDX-License-Identifier: MIT */
/* cmd/summarize.c - `perfan summarize`: a compact summary of traces (and of other
 * summaries: a tree reduce) from which stats, slowest, inflight, sla and diff answer as
 * from the traces themselves (summary/summary.h says what it keeps, and why that is exact;
 * docs/format.md, "Summaries", how it is written).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/context.h"
#include "core/scan.h"
#include "fmt/opts.h"
#include "fmt/output.h"
#include "perfan.h"
#include "summary/sumfile.h"
#include "summary/sumscan.h"

#define USAGE "perfan summarize [-k K] [--lean] [FILTERS] -o OUT TRACE|SUMMARY..."

enum { OPT_LEAN = PF_OPT_FIRST_CMD };

static void help(void)
{
	printf(
	    "Usage: %s\n"
	    "\n"
	    "Write a summary of the traces to OUT: per action type the count, failures, total\n"
	    "and self time and the histogram of durations; the K slowest actions of each type\n"
	    "with their inputs, path and process; every action still running when its process's\n"
	    "files ended; the calls grouped by argument values and context; the counters and\n"
	    "the list of input files; durations over time. stats, slowest, inflight, sla, diff,\n"
	    "inputs and report accept summaries (mixed with traces too) and answer as on the\n"
	    "traces (slowest -n and sla --worst up to K; inputs' tails within the histograms'\n"
	    "error; report draws no task trees from them). Summaries of\n"
	    "summaries merge exactly: give\n"
	    "each summarize all the files of a process (rotated ones too), so that every action\n"
	    "is paired with its end and its children.\n"
	    "\n"
	    "The filters apply here; the subcommands reading a summary accept --type only.\n"
	    "\n"
	    "  -o, --output OUT    the summary file (created mode 0600; an existing file of\n"
	    "                      yours is replaced)\n"
	    "  -k, --keep K        slowest actions kept per type (default %d, at most %d)\n"
	    "      --lean          no argument groups or durations over time: for stats,\n"
	    "                      slowest, inflight, sla and diff only (inputs and report\n"
	    "                      refuse it), and several times faster to make\n"
	    "%s",
	    USAGE, PF_SUMMARY_K_DEFAULT, PF_SUMMARY_K_MAX, PF_OPTS_HELP_NO_JSON);
}

struct state {
	struct pf_scan *sc;
	struct pf_summary sum;
	bool oom;
};

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (st->sum.lean) {
		if (pf_summary_add_span(&st->sum, &st->sc->spans, sp) < 0)
			st->oom = true;
		return;
	}
	bool full;
	struct pf_argstats *a = pf_summary_inputs(&st->sum, sp->type, &full);
	if (pf_summary_add_span(&st->sum, &st->sc->spans, sp) < 0 || (!a && !full) ||
	    (a && (pf_argstats_add(a, sp->inputs, sp->inputs_len, sp->duration_ns) < 0 ||
		   pf_context_add(a, st->sc, sp, PF_CTX_ALL) < 0)))
		st->oom = true;
	st->sum.inputs_left_out += full;
	struct pf_slots *t = a ? pf_summary_slots(&st->sum, sp->type) : NULL;
	if (a && (!t || pf_slots_add(t, sp->start_wall, sp->duration_ns, sp->failed) < 0))
		st->oom = true;
}

static void on_running(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (pf_summary_add_running(&st->sum, &st->sc->spans, sp) < 0)
		st->oom = true;
}

static int on_call(void *userdata, const struct pf_call *c)
{
	struct state *st = userdata;
	return pf_summary_add_call(&st->sum, c);
}

/* The options before the inputs, as one line: what the summary says it was made with. */
static char *filters_text(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	*p = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			i++; /* where it was written is not what it holds */
			continue;
		}
		if (!strncmp(argv[i], "--output=", 9) || !strncmp(argv[i], "-o", 2))
			continue;
		p += sprintf(p, "%s%s", p == s ? "" : " ", argv[i]);
	}
	return s;
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"output", required_argument, NULL, 'o'},
	    {"keep", required_argument, NULL, 'k'},
	    {"lean", no_argument, NULL, OPT_LEAN},
	    {0},
	};
	(void)g;
	struct pf_opts o = {0};
	const char *out = NULL;
	uint64_t k = PF_SUMMARY_K_DEFAULT;
	bool lean = false;
	int c, ret;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT "o:k:", longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "summarize", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c == 'o')
			out = optarg;
		else if (c == OPT_LEAN)
			lean = true;
		else if (c == 'k') {
			if (pf_opts_count("summarize", USAGE, "-k", optarg, 1, PF_SUMMARY_K_MAX,
					  &k))
				return PF_EXIT_USAGE;
		} else
			return pf_opts_unknown(c, argv, "summarize", USAGE);
	}
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	if (o.json)
		return pf_usage_error("summarize", USAGE,
				      "--json: a summary is read by the other "
				      "subcommands, which write JSON");
	if (!out)
		return pf_usage_error("summarize", USAGE, "-o OUT: where to write the summary");
	if (optind >= argc)
		return pf_usage_error("summarize", USAGE, "no trace file given");
	if (pf_output_is_input(out, argv + optind, (size_t)(argc - optind)))
		return pf_usage_error("summarize", USAGE, "-o %s: that is one of the inputs", out);
	char *filters = filters_text(optind, argv);
	struct pf_scan sc;
	struct state st = {.sc = &sc};
	struct pf_summary read = {0}; /* the summaries among the inputs */
	pf_summary_init(&st.sum, k);
	st.sum.lean = lean;
	ret = pf_sumscan_run(&sc, &read, &o, argv + optind, (size_t)(argc - optind),
			     PF_SCAN_INPUTS | PF_SCAN_OPEN_LEVELS, on_span, &st);
	if (ret == PF_EXIT_OK) {
		pf_scan_foreach_inflight(&sc, on_running, &st);
		if (pf_sumscan_agg(&read, &st.sum.agg) < 0 ||
		    pf_sumscan_calls(&read, true, true, on_call, &st) < 0)
			st.oom = true;
		if (read.lean_files && !lean) {
			pf_warn("%zu of the summaries read %s lean (--lean): so is this one",
				read.lean_files, read.lean_files == 1 ? "is" : "are");
			st.sum.lean = true;
		}
		for (uint32_t type = 0; type < read.ninputs && !st.oom && !st.sum.lean; type++) {
			if (read.inputs[type].p95 == 0)
				continue; /* none in what was read */
			bool full;
			struct pf_argstats *a = pf_summary_inputs(&st.sum, type, &full);
			if ((!a && !full) || (a && pf_argstats_merge(a, &read.inputs[type]) < 0))
				st.oom = true;
			struct pf_slots *t = a ? pf_summary_slots(&st.sum, type) : NULL;
			if (a && type < read.nslots &&
			    (!t || pf_slots_merge(t, &read.slots[type]) < 0))
				st.oom = true;
			st.sum.inputs_left_out += full ? read.inputs[type].count : 0;
		}
		st.sum.inputs_left_out += read.inputs_left_out;

		if (read.files && k > read.k) {
			st.sum.k = read.k; /* what it can claim */
			pf_warn("the summaries read keep the %zu slowest actions of each type: -k "
				"%llu cannot be more exact",
				read.k, (unsigned long long)k);
		}
	}
	/* Nothing could be read: the summary still says which files, and why, so that
	 * whoever merges it (perflog.fleet) reports them as perfan would. */
	bool nothing = ret == PF_EXIT_UNREADABLE && !sc.oom && sc.in.nsrc == 0 &&
		       sc.in.nsummaries == 0 && sc.in.nfailed > 0;
	if (ret == PF_EXIT_OK && (st.oom || !filters)) {
		pf_error("out of memory");
		ret = PF_EXIT_UNREADABLE;
	}
	if ((ret == PF_EXIT_OK || nothing) && filters) {
		struct pf_summary_meta m = {
		    .in = &sc.in,
		    .names = &sc.names,
		    .counts = {sc.in.records, sc.actions, pf_scan_unfinished(&sc),
			       pf_scan_unmatched(&sc)},
		    .filters = filters,
		};
		if (pf_summary_write(out, &st.sum, &m) < 0 || nothing)
			ret = PF_EXIT_UNREADABLE;
	}
	free(filters);
	pf_summary_destroy(&st.sum);
	pf_summary_destroy(&read);
	pf_scan_destroy(&sc);
	return ret;
}

const struct pf_cmd pf_cmd_summarize = {
    .name = "summarize",
    .summary = "a mergeable summary of traces (for stats, slowest, sla, inputs, report, ...)",
    .run = run,
};
