/* SPDX-License-Identifier: MIT */
/* sumscan.c - scanning traces and summaries together (see sumscan.h). */
#include "summary/sumscan.h"
#include "perfan.h"
#include "summary/sumfile.h"

int pf_sumscan_run(struct pf_scan *sc, struct pf_summary *sum, const struct pf_opts *o,
		   char *const *paths, size_t npaths, unsigned flags, pf_span_fn fn, void *userdata)
{
	pf_summary_init(sum, PF_SUMMARY_K_MAX);
	int ret =
	    pf_scan_run_events(sc, o, paths, npaths, flags | PF_SCAN_SUMMARIES, fn, NULL, userdata);
	if (ret != PF_EXIT_OK || sc->in.nsummaries == 0)
		return ret;
	size_t nsrc = sc->in.nsrc;
	for (size_t i = 0; i < sc->in.nsummaries; i++) {
		if (pf_summary_read(sc->in.summaries[i], sum, &sc->names, &sc->in, &sc->filter) ==
		    -2) {
			sc->oom = true;
			return PF_EXIT_UNREADABLE;
		}
	}
	for (size_t i = nsrc; i < sc->in.nsrc; i++)
		sc->dropped_events += sc->in.src[i].dropped;
	sc->in.records += sum->counts.records;
	sc->actions += sum->counts.actions;
	sc->sum_unfinished += sum->counts.unfinished;
	sc->sum_unmatched += sum->counts.unmatched;
	sc->sum_running += sum->nrunning;
	for (uint32_t type = 0; type < sum->agg.n; type++) {
		const struct pf_typestat *t = pf_agg_get(&sum->agg, type);
		sc->selected += t ? t->count : 0;
	}
	if (sc->in.nsrc == 0) { /* only summaries were given, and none could be read */
		if (o->json)
			pf_scan_json_nothing_read(&sc->in, o->cmd);
		return PF_EXIT_UNREADABLE;
	}
	return PF_EXIT_OK;
}

int pf_sumscan_agg(const struct pf_summary *sum, struct pf_agg *agg)
{
	for (uint32_t type = 0; type < sum->agg.n; type++) {
		const struct pf_typestat *t = pf_agg_get(&sum->agg, type);
		if (t && pf_agg_merge(agg, type, t) < 0)
			return -1;
	}
	return 0;
}

int pf_sumscan_calls(const struct pf_summary *sum, bool finished, bool running,
		     int (*fn)(void *userdata, const struct pf_call *c), void *userdata)
{
	int ret = 0;
	for (uint32_t type = 0; finished && type < sum->ntop && ret >= 0; type++)
		for (size_t i = 0; i < sum->top[type].n && ret >= 0; i++)
			ret = fn(userdata, sum->top[type].heap[i]);
	for (size_t i = 0; running && i < sum->nrunning && ret >= 0; i++)
		ret = fn(userdata, sum->running[i]);
	return ret < 0 ? ret : 0;
}
