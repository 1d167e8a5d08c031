/* SPDX-License-Identifier: MIT */
/* sumwrite.c - write a summary through liblog's writer (see sumfile.h, docs/format.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>
#include <perflog/name.h>
#include <perflog/status.h>
#include <perflog/writer.h>

#include "analysis/hist.h"
#include "core/fields.h"
#include "perfan.h"
#include "summary/sumfile.h"

/* Packed fields (fields.h) are written as they are: their integers in host order, so the
 * format says little-endian, and perfan is built for little-endian hosts only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "summaries are little-endian");

/* Buckets per perflog.summary.hist message: ~18 KiB at most, far below the writer's
 * largest event. */
#define HIST_CHUNK 2048u

/* The fields of one message being built. */
struct msg {
	struct pl_field f[24];
	size_t n;
};

static void put(struct msg *m, const char *key, pl_value v)
{
	m->f[m->n].name = pl_name_intern(key, strlen(key));
	m->f[m->n].value = v;
	m->n++;
}

static void put_str(struct msg *m, const char *key, const char *s)
{
	put(m, key, s ? PL_V_STR(s) : PL_V_NIL());
}

static void send(struct pl_writer *w, const char *type, const struct msg *m)
{
	pl_message(w, NULL, pl_name_intern(type, strlen(type)), m->f, m->n);
}

static void write_header(struct pl_writer *w, const struct pf_summary *s, const char *filters)
{
	struct msg m = {0};
	put(&m, "version", PL_V_UINT(PF_SUMMARY_VERSION));
	put(&m, "hist_sub_bits", PL_V_UINT(PF_HIST_SUB_BITS));
	put(&m, "k", PL_V_UINT(s->k));
	put(&m, "groups", PL_V_BOOL(!s->lean));
	put_str(&m, "filters", filters ? filters : "");
	send(w, "perflog.summary", &m);
}

static void write_source(struct pl_writer *w, const struct pf_source *src)
{
	pl_value ids[256], names[256];
	size_t n = 0;
	struct msg m = {0};
	put_str(&m, "path", src->path);
	put(&m, "pid", PL_V_INT(src->pid));
	put_str(&m, "host", src->host);
	put_str(&m, "prog", src->prog);
	put(&m, "records", PL_V_UINT(src->records));
	put(&m, "dropped", PL_V_UINT(src->dropped));
	put(&m, "frames_skipped", PL_V_UINT(src->frames_skipped));
	put_str(&m, "status", src->status < 0 ? "damaged" : "read");
	if (src->status < 0) {
		put(&m, "error_offset", PL_V_UINT(src->err_offset));
		put_str(&m, "error_reason", src->err_reason ? src->err_reason : "");
	}
	/* Thread names, for the calls' "thread" (at most 256 named threads per file: the
	 * names of the others are not shown). */
	for (uint32_t t = 0; t < src->nthreads && n < 256; t++) {
		if (!src->thread_names[t])
			continue;
		ids[n] = PL_V_UINT(src->thread_ids ? src->thread_ids[t] : t);
		names[n] = PL_V_STR(src->thread_names[t]);
		n++;
	}
	put(&m, "thread_ids", PL_V_ARRAY(ids, n));
	put(&m, "thread_names", PL_V_ARRAY(names, n));
	send(w, "perflog.summary.input", &m);
}

static void write_failed(struct pl_writer *w, const struct pf_failed *f)
{
	struct msg m = {0};
	put_str(&m, "path", f->path);
	put_str(&m, "status", f->skipped ? "skipped" : "unreadable");
	put_str(&m, "error_reason", f->reason);
	send(w, "perflog.summary.input", &m);
}

static void write_counters(struct pl_writer *w, const struct pf_summary_counts *c,
			   uint64_t inputs_left_out)
{
	struct msg m = {0};
	put(&m, "records", PL_V_UINT(c->records));
	put(&m, "actions", PL_V_UINT(c->actions));
	put(&m, "unfinished", PL_V_UINT(c->unfinished));
	put(&m, "unmatched_ends", PL_V_UINT(c->unmatched));
	put(&m, "inputs_left_out", PL_V_UINT(inputs_left_out));

	send(w, "perflog.summary.counters", &m);
}

/* A histogram's non-empty runs of buckets, in perflog.summary.hist messages: of a type
 * (@arg < 0) or of group @group of its grouping @arg. */
static void write_hist(struct pl_writer *w, const char *name, long arg, size_t group,
		       const struct pf_hist *h)
{
	static pl_value counts[HIST_CHUNK];
	for (uint32_t i = 0; i < h->nbuckets;) {
		while (i < h->nbuckets && !h->counts[i])
			i++;
		if (i == h->nbuckets)
			break;
		uint32_t first = i, n = 0;
		while (i < h->nbuckets && n < HIST_CHUNK &&
		       (h->counts[i] || (i + 1 < h->nbuckets && h->counts[i + 1])))
			counts[n++] = PL_V_UINT(h->counts[i++]);
		struct msg c = {0};
		put_str(&c, "type", name);
		if (arg >= 0) {
			put(&c, "arg", PL_V_UINT((uint64_t)arg));
			put(&c, "group", PL_V_UINT(group));
		}
		put(&c, "first", PL_V_UINT(h->first + first));
		put(&c, "counts", PL_V_ARRAY(counts, n));
		send(w, "perflog.summary.hist", &c);
	}
}

static void write_type(struct pl_writer *w, const char *name, const struct pf_typestat *t)
{
	struct msg m = {0};
	put_str(&m, "type", name);
	put(&m, "count", PL_V_UINT(t->count));
	put(&m, "failures", PL_V_UINT(t->failures));
	put(&m, "total_ns", PL_V_UINT(t->total_ns));
	put(&m, "self_ns", PL_V_UINT(t->self_ns));
	put(&m, "min_ns", PL_V_UINT(t->hist.min));
	put(&m, "max_ns", PL_V_UINT(t->hist.max));
	put(&m, "first_start_ns", PL_V_INT(t->first_start));
	put(&m, "last_start_ns", PL_V_INT(t->last_start));
	put(&m, "last_end_ns", PL_V_INT(t->last_end));
	send(w, "perflog.summary.type", &m);
	write_hist(w, name, -1, 0, &t->hist);
}

static void write_group(struct pl_writer *w, const char *name, size_t arg, size_t k,
			const struct pf_group *g)
{
	struct msg m = {0};
	put_str(&m, "type", name);
	put(&m, "arg", PL_V_UINT(arg));
	put(&m, "kind", PL_V_UINT(g->cls));
	put(&m, "key", PL_V_INT(g->key));
	put(&m, "str", g->cls == PF_G_STR ? PL_V_BYTES(g->str, g->str_len) : PL_V_NIL());
	put(&m, "cut", PL_V_BOOL(g->cut));
	put(&m, "partial", PL_V_BOOL(g->partial));
	put(&m, "seen_lo", PL_V_UINT(g->seen_lo));
	put(&m, "seen_hi", PL_V_UINT(g->seen_hi));
	put(&m, "fseen_lo", PL_V_FLOAT(g->fseen_lo));
	put(&m, "fseen_hi", PL_V_FLOAT(g->fseen_hi));
	put(&m, "count", PL_V_UINT(g->hist.count));
	put(&m, "total_ns", PL_V_UINT(g->hist.sum));
	put(&m, "min_ns", PL_V_UINT(g->hist.min));
	put(&m, "max_ns", PL_V_UINT(g->hist.max));
	send(w, "perflog.summary.group", &m);
	write_hist(w, name, (long)arg, k, &g->hist);
}

/* A type's calls grouped by argument values and context (summary.h), without tails. */
static void write_inputs(struct pl_writer *w, const char *name, const struct pf_argstats *a)
{
	struct msg m = {0};
	put_str(&m, "type", name);
	put(&m, "count", PL_V_UINT(a->count));
	put(&m, "ignored_fields", PL_V_UINT(a->ignored_fields));
	send(w, "perflog.summary.inputs", &m);
	for (size_t k = 0; k < a->nargs; k++) {
		const struct pf_arg *g = &a->args[k];
		struct msg am = {0};
		put_str(&am, "type", name);
		put_str(&am, "name", g->name);
		put_str(&am, "grouping", g->context ? "context" : g->by_len ? "length" : "value");
		put(&am, "calls", PL_V_UINT(g->calls));
		put(&am, "folded_calls", PL_V_UINT(g->folded_calls));
		put(&am, "folded_values", PL_V_UINT(g->folded_values));
		put(&am, "capped_calls", PL_V_UINT(g->capped_calls));
		put(&am, "folded",
		    g->folded ? PL_V_BYTES(g->folded, PF_ARGSTATS_FOLDED_BITS / 8) : PL_V_NIL());
		send(w, "perflog.summary.arg", &am);
		for (size_t i = 0; i < g->ng; i++)
			write_group(w, name, k, i, &g->g[i]);
	}
}

/* A type's durations over time (slots.h): the grid, each slot with calls, the sample. */
static void write_slots(struct pl_writer *w, const char *name, const struct pf_slots *t)
{
	static pl_value a[3][PF_SLOTS_SAMPLE];
	static pl_value bins[2 * 512];
	struct msg m = {0};
	put_str(&m, "type", name);
	put(&m, "width", PL_V_UINT(t->width));
	put(&m, "calls", PL_V_UINT(t->calls));
	send(w, "perflog.summary.slots", &m);
	for (int64_t i = 0; t->s && i < PF_SLOTS_MAX; i++) {
		const struct pf_slot *s = &t->s[i];
		if (!s->count)
			continue;
		uint32_t n = 0;
		for (uint32_t b = 0; b < s->nbins && n + 2 <= sizeof(bins) / sizeof(bins[0]); b++) {
			bins[n++] = PL_V_UINT(s->bins[b].bin);
			bins[n++] = PL_V_UINT(s->bins[b].count);
		}
		struct msg sm = {0};
		put_str(&sm, "type", name);
		put(&sm, "key", PL_V_INT(t->base + i));
		put(&sm, "count", PL_V_UINT(s->count));
		put(&sm, "failures", PL_V_UINT(s->failures));
		put(&sm, "max_ns", PL_V_UINT(s->max));
		put(&sm, "bins", PL_V_ARRAY(bins, n));
		send(w, "perflog.summary.slot", &sm);
	}
	for (size_t i = 0; i < t->npts; i++) {
		a[0][i] = PL_V_INT(t->pts[i].start);
		a[1][i] = PL_V_UINT(t->pts[i].duration_ns);
		a[2][i] = PL_V_BOOL(t->pts[i].failed);
	}
	struct msg pm = {0};
	put_str(&pm, "type", name);
	put(&pm, "start_ns", PL_V_ARRAY(a[0], t->npts));
	put(&pm, "duration_ns", PL_V_ARRAY(a[1], t->npts));
	put(&pm, "failed", PL_V_ARRAY(a[2], t->npts));
	send(w, "perflog.summary.points", &pm);
}

/* Which types' argument statistics are written: the PF_SUMMARY_INPUT_TYPES_KEPT with the
 * most total time. Returns a flag per type number (NULL: all, or out of memory: none is
 * dropped then) and adds the calls of the others to *@left_out. */
static bool *inputs_kept(const struct pf_summary *s, uint64_t *left_out)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->ninputs; i++)
		n += s->inputs[i].p95 != 0;
	if (n <= PF_SUMMARY_INPUT_TYPES_KEPT)
		return NULL;
	bool *kept = calloc(s->ninputs, sizeof(*kept));
	if (!kept)
		return NULL;
	for (uint32_t r = 0; r < PF_SUMMARY_INPUT_TYPES_KEPT; r++) {
		uint32_t best = UINT32_MAX;
		for (uint32_t i = 0; i < s->ninputs; i++) {
			const struct pf_typestat *t = pf_agg_get(&s->agg, i);
			if (s->inputs[i].p95 && !kept[i] && t &&
			    (best == UINT32_MAX || t->total_ns > s->agg.t[best].total_ns))
				best = i;
		}
		if (best != UINT32_MAX)
			kept[best] = true;
	}
	for (uint32_t i = 0; i < s->ninputs; i++)
		*left_out += s->inputs[i].p95 && !kept[i] ? s->inputs[i].count : 0;
	return kept;
}
static void write_call(struct pl_writer *w, const struct pf_names *names, const struct pf_call *c)
{
	pl_value level[PF_CALL_PATH_MAX], path[PF_CALL_PATH_MAX];
	uint32_t depth = c->depth < PF_CALL_PATH_MAX ? c->depth : PF_CALL_PATH_MAX;
	for (uint32_t i = 0; i < depth; i++)
		level[i] = PL_V_UINT(c->level[i]);
	for (size_t i = 0; i < c->npath; i++)
		path[i] = c->path[i] == PF_NAME_NONE ? PL_V_NIL()
						     : PL_V_STR(pf_names_str(names, c->path[i]));
	struct msg m = {0};
	put_str(&m, "type", pf_names_str(names, c->type));
	put(&m, "running", PL_V_BOOL(c->running));
	put(&m, "duration_ns", PL_V_UINT(c->duration_ns));
	put(&m, "child_ns", PL_V_UINT(c->child_ns));
	put(&m, "self_ns", PL_V_UINT(c->self_ns));
	put(&m, "children", PL_V_UINT(c->nchildren));
	put(&m, "start_ns", PL_V_INT(c->start_wall));
	put(&m, "input", PL_V_UINT(c->src));
	put(&m, "thread", PL_V_UINT(c->thread));
	put(&m, "tid", PL_V_UINT(c->tid));
	put(&m, "task_prefix", PL_V_UINT(c->prefix));
	put(&m, "task_seq", PL_V_UINT(c->seq));
	put(&m, "depth", PL_V_UINT(c->depth));
	put(&m, "level", PL_V_ARRAY(level, depth));
	put(&m, "path", PL_V_ARRAY(path, c->npath));
	put(&m, "path_elided", PL_V_UINT(c->path_elided));
	put(&m, "failed", PL_V_BOOL(c->failed));
	put_str(&m, "exc_type", c->exc_type);
	put_str(&m, "exc_msg", c->exc_msg);
	put(&m, "inputs", c->inputs ? PL_V_BYTES(c->inputs, c->inputs_len) : PL_V_NIL());
	put(&m, "outputs", c->outputs ? PL_V_BYTES(c->outputs, c->outputs_len) : PL_V_NIL());
	send(w, "perflog.summary.call", &m);
}

int pf_summary_write(const char *path, struct pf_summary *s, const struct pf_summary_meta *meta)
{
	static const char *const argv[] = {PF_SUMMARY_ARGV0, "1", NULL};
	_Static_assert(PF_SUMMARY_VERSION == 1, "argv[1] is the version");
	struct pl_writer_options o;
	struct pl_writer *w;
	pl_writer_options_init(&o);
	o.path = path;
	o.full_policy = PL_FULL_BLOCK; /* a summary missing a record would be a wrong answer */
	o.clock = PL_CLOCK_MONOTONIC;  /* no TSC calibration: its times are not used */
	o.compression_level = 3;
	o.argv = argv;
	int ret = pl_writer_open(&o, &w);
	if (ret < 0) {
		pf_error("%s: cannot write the summary: %s%s%s", path, pl_strerror(ret),
			 errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	const struct pf_input *in = meta->in;
	uint64_t ntypes = 0, ncalls = 0;
	write_header(w, s, meta->filters);
	for (size_t i = 0; i < in->nsrc; i++)
		write_source(w, &in->src[i]);
	for (size_t i = 0; i < in->nfailed; i++)
		write_failed(w, &in->failed[i]);
	uint64_t left_out = s->inputs_left_out;
	bool *kept = inputs_kept(s, &left_out);
	write_counters(w, &meta->counts, left_out);
	for (uint32_t type = 0; type < s->agg.n; type++) {
		const struct pf_typestat *t = pf_agg_get(&s->agg, type);
		if (!t)
			continue;
		write_type(w, pf_names_str(meta->names, type), t);
		ntypes++;
		size_t n;
		struct pf_call **calls = pf_summary_sorted(s, type, &n);
		n = n < s->k ? n : s->k; /* merged heaps may hold more than the k claimed */
		for (size_t i = 0; i < n; i++)
			write_call(w, meta->names, calls[i]);
		ncalls += n;
		if (!s->lean && type < s->ninputs && s->inputs[type].p95 && (!kept || kept[type])) {
			write_inputs(w, pf_names_str(meta->names, type), &s->inputs[type]);
			/* Only whole: a part without slots for it (past the types a summary
			 * groups) leaves them partial, and a report must not draw those. */
			if (type < s->nslots && s->slots[type].calls == t->count)
				write_slots(w, pf_names_str(meta->names, type), &s->slots[type]);
		}
	}
	free(kept);
	for (size_t i = 0; i < s->nrunning; i++)
		write_call(w, meta->names, s->running[i]);
	ncalls += s->nrunning;
	struct msg m = {0};
	put(&m, "inputs", PL_V_UINT(in->nsrc + in->nfailed));
	put(&m, "types", PL_V_UINT(ntypes));
	put(&m, "calls", PL_V_UINT(ncalls));
	send(w, "perflog.summary.end", &m);

	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	int werr = pl_writer_error(w);
	ret = pl_writer_close(w);
	uint64_t lost = st.dropped_full + st.dropped_oversize + st.dropped_no_buffer +
			st.dropped_write + st.names_refused;
	if (ret < 0 || werr || lost) {
		pf_error("%s: the summary could not be written whole (%s; %" PRIu64
			 " records lost): do not use it",
			 path,
			 werr	   ? strerror(werr)
			 : ret < 0 ? pl_strerror(ret)
				   : "records dropped",
			 lost);
		return -1;
	}
	return 0;
}
