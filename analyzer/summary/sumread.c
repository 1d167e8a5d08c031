/* SPDX-License-Identifier: MIT */
/* sumread.c - read a summary back, whole or not at all (see sumfile.h, docs/format.md).
 *
 * Everything is read into a private summary first (types and paths named in a table of
 * the file's own) and checked - counts against the end record, histograms against their
 * counts, minima and maxima, indexes against what the file declared - before any of it
 * is merged: a summary that is damaged or inconsistent contributes nothing, and says so.
 * Every allocation is bounded by the records present (at most PF_SUMMARY_K_MAX calls per
 * type, 256 thread names per input, PF_FIELDS_MAX bytes of inputs per call).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/reader.h>
#include <perflog/status.h>

#include "analysis/hist.h"
#include "core/fields.h"
#include "perfan.h"
#include "summary/sumfile.h"
#include "summary/sumrd.h"
#include "util/grow.h"

/* ---- records ----------------------------------------------------------------------- */

static int on_header(struct rd *d, const struct pl_record *r)
{
	uint64_t version, bits;
	if (pf_sr_u64(d, r, "version", UINT64_MAX, &version) < 0)
		return -1;
	if (version != PF_SUMMARY_VERSION)
		return pf_sr_bad(d,
				 "a summary of version %" PRIu64 " (this perfan reads version %d)",
				 version, PF_SUMMARY_VERSION);
	if (pf_sr_u64(d, r, "hist_sub_bits", 64, &bits) < 0)
		return -1;
	if (bits != PF_HIST_SUB_BITS)
		return pf_sr_bad(d,
				 "histograms of %" PRIu64
				 " sub-bucket bits, this perfan's have %d: "
				 "summaries of different resolutions do not merge",
				 bits, PF_HIST_SUB_BITS);
	if (pf_sr_bool(d, r, "groups", &d->groups) < 0)
		return -1;
	if (pf_sr_u64(d, r, "k", PF_SUMMARY_K_MAX, &d->k) < 0 || d->k == 0)
		return pf_sr_bad(d, "perflog.summary: \"k\" out of range");
	d->header = true;
	return 0;
}

static int on_input(struct rd *d, const struct pl_record *r)
{
	char *status;
	int ret = pf_sr_str(d, r, "status", 16, false, &status);
	if (ret < 0)
		return ret;
	bool failed = !strcmp(status, "unreadable"), skipped = !strcmp(status, "skipped");
	bool damaged = !strcmp(status, "damaged");
	bool ok = failed || skipped || damaged || !strcmp(status, "read");
	free(status);
	if (!ok)
		return pf_sr_bad(d, "perflog.summary.input: unknown \"status\"");
	if (failed || skipped) {
		if (PF_GROW(d->failed, d->failed_cap, d->nfailed, 4) < 0)
			return -2;
		struct pf_failed *f = &d->failed[d->nfailed];
		memset(f, 0, sizeof(*f));
		f->skipped = skipped;
		d->nfailed++;
		if ((ret = pf_sr_str(d, r, "path", 4096, false, &f->path)) < 0 ||
		    (ret = pf_sr_str(d, r, "error_reason", 1024, false, &f->reason)) < 0)
			return ret;
		return 0;
	}
	if (PF_GROW(d->src, d->src_cap, d->nsrc, 8) < 0)
		return -2;
	struct pf_source *s = &d->src[d->nsrc++];
	memset(s, 0, sizeof(*s));
	if ((ret = pf_sr_str(d, r, "path", 4096, false, &s->path)) < 0 ||
	    (ret = pf_sr_str(d, r, "host", PF_NAME_MAX, false, &s->host)) < 0 ||
	    (ret = pf_sr_str(d, r, "prog", 4096, false, &s->prog)) < 0 ||
	    pf_sr_i64(d, r, "pid", &s->pid) < 0 ||
	    pf_sr_u64(d, r, "records", UINT64_MAX, &s->records) < 0 ||
	    pf_sr_u64(d, r, "dropped", UINT64_MAX, &s->dropped) < 0 ||
	    pf_sr_u64(d, r, "frames_skipped", UINT64_MAX, &s->frames_skipped) < 0)
		return ret < 0 ? ret : -1;
	if (pf_source_process(s) < 0)
		return -2;
	s->status = PL_END;
	if (damaged) {
		s->status = -PL_ECORRUPT;
		if (pf_sr_u64(d, r, "error_offset", UINT64_MAX, &s->err_offset) < 0 ||
		    (ret = pf_sr_str(d, r, "error_reason", 1024, false, &s->err_reason)) < 0)
			return ret < 0 ? ret : -1;
	}
	const pl_value *ids = pf_sr_array(d, r, "thread_ids", 256);
	const pl_value *names = pf_sr_array(d, r, "thread_names", 256);
	if (!ids || !names || ids->v.array.len != names->v.array.len)
		return pf_sr_bad(d, "perflog.summary.input: thread ids and names differ in number");
	size_t n = ids->v.array.len;
	s->thread_ids = calloc(n ? n : 1, sizeof(*s->thread_ids));
	s->thread_names = calloc(n ? n : 1, sizeof(*s->thread_names));
	if (!s->thread_ids || !s->thread_names)
		return -2;
	for (size_t i = 0; i < n; i++) {
		uint64_t id;
		const pl_value *nm = &names->v.array.items[i];
		if (!pf_sr_as_u64(&ids->v.array.items[i], &id) || id > UINT32_MAX ||
		    (i && id <= s->thread_ids[i - 1]) || nm->type != PL_VALUE_STR)
			return pf_sr_bad(d, "perflog.summary.input: bad thread ids or names");
		s->thread_ids[i] = (uint32_t)id;
		s->nthreads++;
		if (!(s->thread_names[i] =
			  strndup(nm->v.str.ptr, pl_utf8_cut(nm->v.str.ptr, nm->v.str.len, 63))))
			return -2;
	}
	return 0;
}

static int on_counters(struct rd *d, const struct pl_record *r)
{
	struct pf_summary_counts *c = &d->counts;
	if (d->counters)
		return pf_sr_bad(d, "perflog.summary.counters given twice");
	d->counters = true;
	if (pf_sr_u64(d, r, "records", UINT64_MAX, &c->records) < 0 ||
	    pf_sr_u64(d, r, "actions", UINT64_MAX, &c->actions) < 0 ||
	    pf_sr_u64(d, r, "unfinished", UINT64_MAX, &c->unfinished) < 0 ||
	    pf_sr_u64(d, r, "unmatched_ends", UINT64_MAX, &c->unmatched) < 0 ||
	    pf_sr_u64(d, r, "inputs_left_out", UINT64_MAX, &d->inputs_left_out) < 0)
		return -1;
	return 0;
}

static int on_type(struct rd *d, const struct pl_record *r)
{
	uint32_t name;
	int ret = pf_sr_name(d, r, "type", &name);
	if (ret < 0)
		return ret;
	if (pf_sr_type(d, name))
		return pf_sr_bad(d, "perflog.summary.type: \"%s\" given twice",
				 pf_names_str(&d->local, name));
	if (PF_GROW(d->types, d->types_cap, d->ntypes, 16) < 0 ||
	    pf_sr_type_add(d, name, d->ntypes) < 0)
		return -2;
	struct type_in *t = &d->types[d->ntypes++];
	memset(t, 0, sizeof(*t));
	t->name = name;
	pf_hist_init(&t->t.hist);
	struct pf_typestat *s = &t->t;
	if (pf_sr_u64(d, r, "count", UINT64_MAX, &s->count) < 0 ||
	    pf_sr_u64(d, r, "failures", s->count, &s->failures) < 0 ||
	    pf_sr_u64(d, r, "total_ns", UINT64_MAX, &s->total_ns) < 0 ||
	    pf_sr_u64(d, r, "self_ns", s->total_ns, &s->self_ns) < 0 ||
	    pf_sr_u64(d, r, "min_ns", UINT64_MAX, &s->hist.min) < 0 ||
	    pf_sr_u64(d, r, "max_ns", UINT64_MAX, &s->hist.max) < 0 ||
	    pf_sr_i64(d, r, "first_start_ns", &s->first_start) < 0 ||
	    pf_sr_i64(d, r, "last_start_ns", &s->last_start) < 0 ||
	    pf_sr_i64(d, r, "last_end_ns", &s->last_end) < 0)
		return -1;
	if (s->first_start > s->last_start || s->last_start > s->last_end)
		return pf_sr_bad(d, "perflog.summary.type: time range out of order");
	if (s->count == 0 || s->hist.min > s->hist.max)
		return pf_sr_bad(d, "perflog.summary.type: count 0 or min above max");
	__extension__ typedef unsigned __int128 u128;
	if ((u128)s->hist.min * s->count > s->total_ns ||
	    (u128)s->hist.max * s->count < s->total_ns)
		return pf_sr_bad(d, "perflog.summary.type: total outside count x [min, max]");
	return 0;
}

static int on_hist(struct rd *d, const struct pl_record *r)
{
	uint32_t name;
	uint64_t first, arg, group;
	int ret = pf_sr_name(d, r, "type", &name);
	if (ret < 0)
		return ret;
	struct type_in *t = pf_sr_type(d, name);
	const pl_value *a = pf_sr_array(d, r, "counts", PF_HIST_MAX_BUCKETS);
	if (!t || !a || pf_sr_u64(d, r, "first", PF_HIST_MAX_BUCKETS, &first) < 0)
		return pf_sr_bad(d, "perflog.summary.hist: of no declared type, or bad");
	struct pf_hist *h = &t->t.hist;
	uint32_t *next = &t->next_bucket;
	if (pf_sr_fld(r, "arg")) { /* a group's: right after it */
		if (pf_sr_u64(d, r, "arg", UINT32_MAX, &arg) < 0 ||
		    pf_sr_u64(d, r, "group", UINT32_MAX, &group) < 0 || !d->group ||
		    d->group_type != t || arg != d->group_arg || group != d->group_idx)
			return pf_sr_bad(d, "perflog.summary.hist: not of the group before it");
		h = &d->group->hist;
		next = &d->group_next;
	}
	size_t n = a->v.array.len;
	if (first < *next || first + n > PF_HIST_MAX_BUCKETS)
		return pf_sr_bad(d, "perflog.summary.hist: buckets out of order or range");
	for (size_t i = 0; i < n; i++) {
		uint64_t c;
		if (!pf_sr_as_u64(&a->v.array.items[i], &c))
			return pf_sr_bad(d, "perflog.summary.hist: a count is not a whole number");
		if (c && pf_hist_add_bucket(h, (uint32_t)(first + i), c) < 0)
			return -2;
	}
	*next = (uint32_t)(first + n);
	return 0;
}

static int get_bytes(struct rd *d, const struct pl_record *r, const char *key, uint8_t **out,
		     size_t *len)
{
	const pl_value *v = pf_sr_fld(r, key);
	*out = NULL;
	*len = 0;
	if (!v || v->type == PL_VALUE_NIL)
		return 0;
	if (v->type != PL_VALUE_BYTES || v->v.str.len > PF_FIELDS_MAX)
		return pf_sr_bad(d, "perflog.summary.call: \"%s\" not packed fields", key);
	if (!(*out = malloc(v->v.str.len ? v->v.str.len : 1)))
		return -2;
	memcpy(*out, v->v.str.ptr, v->v.str.len);
	*len = v->v.str.len;
	return 0;
}

static int call_fields(struct rd *d, const struct pl_record *r, struct pf_call *c)
{
	uint64_t u[8];
	int ret;
	if (pf_sr_name(d, r, "type", &c->type) < 0 ||
	    pf_sr_bool(d, r, "running", &c->running) < 0 ||
	    pf_sr_u64(d, r, "duration_ns", UINT64_MAX, &c->duration_ns) < 0 ||
	    pf_sr_u64(d, r, "child_ns", UINT64_MAX, &c->child_ns) < 0 ||
	    pf_sr_u64(d, r, "self_ns", c->duration_ns, &c->self_ns) < 0 ||
	    pf_sr_u64(d, r, "children", UINT32_MAX, &u[0]) < 0 ||
	    pf_sr_i64(d, r, "start_ns", &c->start_wall) < 0 ||
	    pf_sr_u64(d, r, "input", d->nsrc ? d->nsrc - 1 : 0, &u[1]) < 0 || d->nsrc == 0 ||
	    pf_sr_u64(d, r, "thread", UINT32_MAX, &u[2]) < 0 ||
	    pf_sr_u64(d, r, "tid", UINT32_MAX, &u[3]) < 0 ||
	    pf_sr_u64(d, r, "task_prefix", UINT64_MAX, &c->prefix) < 0 ||
	    pf_sr_u64(d, r, "task_seq", UINT64_MAX, &c->seq) < 0 ||
	    pf_sr_u64(d, r, "depth", PL_TASK_MAX_DEPTH, &u[4]) < 0 ||
	    pf_sr_u64(d, r, "path_elided", PL_TASK_MAX_DEPTH, &u[5]) < 0 ||
	    pf_sr_bool(d, r, "failed", &c->failed) < 0)
		return pf_sr_bad(d, "perflog.summary.call: bad or missing fields");
	c->nchildren = (uint32_t)u[0];
	c->src = (uint32_t)u[1];
	c->thread = (uint32_t)u[2];
	c->tid = (uint32_t)u[3];
	c->depth = (uint32_t)u[4];
	c->path_elided = u[5];
	const pl_value *level = pf_sr_array(d, r, "level", PF_CALL_PATH_MAX);
	const pl_value *path = pf_sr_array(d, r, "path", PF_CALL_PATH_MAX);
	if (!level || !path ||
	    level->v.array.len != (c->depth < PF_CALL_PATH_MAX ? c->depth : PF_CALL_PATH_MAX))
		return pf_sr_bad(d, "perflog.summary.call: level or path do not match the depth");
	for (size_t i = 0; i < level->v.array.len; i++) {
		if (!pf_sr_as_u64(&level->v.array.items[i], &u[6]) || u[6] > UINT32_MAX)
			return pf_sr_bad(d, "perflog.summary.call: bad level");
		c->level[i] = (uint32_t)u[6];
	}
	for (size_t i = 0; i < path->v.array.len; i++) {
		const pl_value *p = &path->v.array.items[i];
		if (p->type == PL_VALUE_NIL) {
			c->path[c->npath++] = PF_NAME_NONE;
			continue;
		}
		if (p->type != PL_VALUE_STR)
			return pf_sr_bad(d, "perflog.summary.call: bad path");
		char *s =
		    strndup(p->v.str.ptr, pl_utf8_cut(p->v.str.ptr, p->v.str.len, PF_NAME_MAX));
		uint32_t id = s ? pf_names_intern(&d->local, s) : PF_NAME_NONE;
		free(s);
		if (id == PF_NAME_NONE)
			return -2;
		c->path[c->npath++] = id;
	}
	if ((ret = pf_sr_str(d, r, "exc_type", PF_CALL_TEXT_MAX, true, &c->exc_type)) < 0 ||
	    (ret = pf_sr_str(d, r, "exc_msg", PF_CALL_TEXT_MAX, true, &c->exc_msg)) < 0 ||
	    (ret = get_bytes(d, r, "inputs", &c->inputs, &c->inputs_len)) < 0 ||
	    (ret = get_bytes(d, r, "outputs", &c->outputs, &c->outputs_len)) < 0)
		return ret;
	if (!c->exc_type != !c->exc_msg || (c->running && c->failed))
		return pf_sr_bad(d, "perflog.summary.call: inconsistent outcome");
	return 0;
}

static int on_call(struct rd *d, const struct pl_record *r)
{
	if (PF_GROW(d->calls, d->calls_cap, d->ncalls, 64) < 0)
		return -2;
	struct pf_call *c = calloc(1, sizeof(*c));
	if (!c)
		return -2;
	c->order = d->ncalls;
	d->calls[d->ncalls++] = c;
	int ret = call_fields(d, r, c);
	if (ret < 0)
		return ret;
	if (!c->running) {
		struct type_in *t = pf_sr_type(d, c->type);
		if (!t || ++t->calls > d->k || t->calls > t->t.count)
			return pf_sr_bad(d,
					 "perflog.summary.call: more calls of \"%s\" than it has "
					 "(or than k)",
					 pf_names_str(&d->local, c->type));
	}
	return 0;
}

static int on_end(struct rd *d, const struct pl_record *r)
{
	if (pf_sr_u64(d, r, "inputs", UINT64_MAX, &d->end_inputs) < 0 ||
	    pf_sr_u64(d, r, "types", UINT64_MAX, &d->end_types) < 0 ||
	    pf_sr_u64(d, r, "calls", UINT64_MAX, &d->end_calls) < 0)
		return -1;
	if (d->end_inputs != d->nsrc + d->nfailed || d->end_types != d->ntypes ||
	    d->end_calls != d->ncalls)
		return pf_sr_bad(d,
				 "perflog.summary.end: the summary holds other numbers of inputs, "
				 "types or calls than its end says (cut short?)");
	d->end = true;
	return 0;
}

static int on_record(struct rd *d, const struct pl_record *r)
{
	if (r->kind == PL_REC_THREAD || r->kind == PL_REC_STATS)
		return 0;
	if (r->kind == PL_REC_DROPPED)
		return pf_sr_bad(d, "its writer dropped %" PRIu64 " records: incomplete", r->count);
	if (r->kind != PL_REC_MESSAGE || d->end)
		return pf_sr_bad(d, "a record that is not part of a summary");
	const char *t = r->type;
	if (!d->header)
		return strcmp(t, "perflog.summary")
			   ? pf_sr_bad(d, "no perflog.summary record first")
			   : on_header(d, r);
	if (!strcmp(t, "perflog.summary.input"))
		return d->counters ? pf_sr_bad(d, "an input after the counters") : on_input(d, r);
	if (!d->counters)
		return !strcmp(t, "perflog.summary.counters")
			   ? on_counters(d, r)
			   : pf_sr_bad(d, "no counters before %s", t);
	if (!strcmp(t, "perflog.summary.type"))
		return on_type(d, r);
	if (!strcmp(t, "perflog.summary.hist"))
		return on_hist(d, r);
	if (!strcmp(t, "perflog.summary.call"))
		return on_call(d, r);
	if (!strcmp(t, "perflog.summary.inputs"))
		return pf_sr_inputs(d, r);
	if (!strcmp(t, "perflog.summary.arg"))
		return pf_sr_arg(d, r);
	if (!strcmp(t, "perflog.summary.group"))
		return pf_sr_group(d, r);
	if (!strcmp(t, "perflog.summary.slots"))
		return pf_sr_slots(d, r);
	if (!strcmp(t, "perflog.summary.slot"))
		return pf_sr_slot(d, r);
	if (!strcmp(t, "perflog.summary.points"))
		return pf_sr_points(d, r);
	if (!strcmp(t, "perflog.summary.end"))
		return on_end(d, r);
	return pf_sr_bad(d, "unknown record %s", t);
}

/* ---- merging ----------------------------------------------------------------------- */

static void free_source(struct pf_source *s)
{
	for (uint32_t t = 0; t < s->nthreads; t++)
		free(s->thread_names[t]);
	free(s->thread_names);
	free(s->thread_ids);
	free(s->path);
	free(s->host);
	free(s->prog);
	free(s->process);
	free(s->err_reason);
}

static void rd_destroy(struct rd *d)
{
	for (size_t i = 0; i < d->nsrc; i++)
		free_source(&d->src[i]);
	free(d->src);
	for (size_t i = 0; i < d->nfailed; i++) {
		free(d->failed[i].path);
		free(d->failed[i].reason);
	}
	free(d->failed);
	for (size_t i = 0; i < d->ntypes; i++) {
		pf_hist_destroy(&d->types[i].t.hist);
		if (d->types[i].has_inputs)
			pf_argstats_destroy(&d->types[i].a);
		pf_slots_destroy(&d->types[i].slots);
	}
	free(d->types);
	for (size_t i = 0; i < d->ncalls; i++)
		pf_call_free(d->calls[i]);
	free(d->calls);
	pf_names_destroy(&d->local);
	free(d->type_at);
}

/* The file's name @id in @names, if @f selects it (*@keep). PF_NAME_NONE: out of memory. */
static uint32_t global_name(const struct rd *d, struct pf_names *names, uint32_t id)
{
	return id == PF_NAME_NONE ? PF_NAME_NONE
				  : pf_names_intern(names, pf_names_str(&d->local, id));
}

static bool add_overflows(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r);
}

/* Would merging @d into @s wrap a count or a total (a hostile pair of summaries)? Every
 * other count of a type is bounded by its count or total, checked here. */
static bool merge_overflows(const struct rd *d, const struct pf_summary *s,
			    const struct pf_names *names)
{
	const struct pf_summary_counts *a = &d->counts, *b = &s->counts;
	if (add_overflows(a->records, b->records) || add_overflows(a->actions, b->actions) ||
	    add_overflows(a->unfinished, b->unfinished) ||
	    add_overflows(a->unmatched, b->unmatched))
		return true;
	for (size_t i = 0; i < d->ntypes; i++) {
		uint32_t type = pf_names_find(names, pf_names_str(&d->local, d->types[i].name));
		const struct pf_typestat *x = &d->types[i].t;
		const struct pf_typestat *y =
		    type == PF_NAME_NONE ? NULL : pf_agg_get(&s->agg, type);
		if (y &&
		    (add_overflows(x->count, y->count) || add_overflows(x->total_ns, y->total_ns)))
			return true;
	}
	return false;
}

static int merge(struct rd *d, struct pf_summary *s, struct pf_names *names, struct pf_input *in,
		 struct pf_filter *f)
{
	if (merge_overflows(d, s, names))
		return pf_sr_bad(d, "its counts added to those read before would overflow");
	uint32_t *map = calloc(d->nsrc ? d->nsrc : 1, sizeof(*map));
	if (!map)
		return -2;
	for (size_t i = 0; i < d->nsrc; i++) {
		struct pf_source *src = &d->src[i];
		int idx = pf_input_add_source(in, src);
		if (idx < 0) {
			free(map);
			return -2;
		}
		memset(src, 0, sizeof(*src)); /* @in's now */
		map[i] = (uint32_t)idx;
		const struct pf_source *n = &in->src[idx];
		if (n->status < 0)
			pf_warn("%s: offset %llu: %s (the %llu records before it were analyzed; "
				"summarized in %s)",
				n->path, (unsigned long long)n->err_offset, n->err_reason,
				(unsigned long long)n->records, d->path);
	}
	for (size_t i = 0; i < d->nfailed; i++) {
		const struct pf_failed *fl = &d->failed[i];
		if (!fl->skipped)
			pf_error("%s: %s (summarized in %s)", fl->path, fl->reason, d->path);
		pf_input_add_failed(in, fl->path, fl->reason, fl->skipped);
	}
	int ret = 0;
	if (d->k < s->k)
		s->k = d->k; /* exact for as many calls per type as every summary kept: set
			      * before the calls, whose heaps take it as their bound */
	for (size_t i = 0; i < d->ntypes && ret == 0; i++) {
		uint32_t type = global_name(d, names, d->types[i].name);
		if (type == PF_NAME_NONE)
			ret = -2;
		else if ((!f || pf_filter_type(f, type)) &&
			 pf_summary_merge_type(s, type, &d->types[i].t) < 0)
			ret = -2;
		else if ((!f || pf_filter_type(f, type)) && d->types[i].has_inputs) {
			bool full;
			struct pf_argstats *a = pf_summary_inputs(s, type, &full);
			if ((!a && !full) || (a && pf_argstats_merge(a, &d->types[i].a) < 0))
				ret = -2;
			s->inputs_left_out += full ? d->types[i].a.count : 0;
			struct pf_slots *t = a ? pf_summary_slots(s, type) : NULL;
			if (a && d->types[i].has_slots &&
			    (!t || pf_slots_merge(t, &d->types[i].slots) < 0))
				ret = -2;
		}
	}
	s->inputs_left_out += d->inputs_left_out;

	for (size_t i = 0; i < d->ncalls && ret == 0; i++) {
		struct pf_call *c = d->calls[i];
		c->type = global_name(d, names, c->type);
		for (size_t p = 0; p < c->npath; p++)
			c->path[p] = global_name(d, names, c->path[p]);
		c->src = map[c->src];
		if (c->type == PF_NAME_NONE)
			ret = -2;
		else if ((!f || pf_filter_type(f, c->type)) && pf_summary_add_call(s, c) < 0)
			ret = -2;
	}
	free(map);
	s->counts.records += d->counts.records;
	s->counts.actions += d->counts.actions;
	s->counts.unfinished += d->counts.unfinished;
	s->counts.unmatched += d->counts.unmatched;
	s->files++;
	s->lean_files += !d->groups;
	return ret;
}

/* Read every record of @path into @d. Returns 0, -1 (bad: @d->err says why), -2 (ENOMEM). */
static int read_all(struct rd *d, const char *path)
{
	struct pl_reader *r;
	struct pl_record rec = PL_RECORD_INIT;
	int n = pl_reader_open(path, &r), ret = 0;
	if (n == 0) {
		const struct pl_trace_header *h = pl_reader_header(r);
		if (h->argc < 1 || strcmp(h->argv[0], PF_SUMMARY_ARGV0))
			ret = pf_sr_bad(d, "not a summary");
	}
	while (n == 0 && ret == 0 && (n = pl_reader_next(r, &rec)) == 0) {
		d->offset = rec.frame_offset;
		ret = on_record(d, &rec);
	}
	if (n == -PL_ENOMEM || !r) {
		ret = -2;
	} else if (n < 0 && ret == 0) {
		const struct pl_reader_error *e = pl_reader_error(r);
		d->offset = e->offset;
		ret = pf_sr_bad(d, "%s", e->reason ? e->reason : pl_strerror(n));
	} else if (ret == 0) {
		if (!d->end)
			ret = pf_sr_bad(d, "no perflog.summary.end record: cut short");
		for (size_t i = 0; i < d->ntypes && ret == 0; i++)
			ret = pf_sr_check_hist(d, &d->types[i]);
	}
	pl_reader_close(r);
	return ret;
}

int pf_summary_read(const char *path, struct pf_summary *s, struct pf_names *names,
		    struct pf_input *in, struct pf_filter *f)
{
	struct rd d = {.path = path};
	pf_names_init(&d.local);
	int ret = read_all(&d, path);
	if (ret == 0)
		ret = merge(&d, s, names, in, f);
	if (ret == -2) {
		pf_error("%s: out of memory", path);
	} else if (ret < 0) {
		pf_error("%s: offset %llu: %s", path, (unsigned long long)d.offset, d.err);
		pf_input_add_failed(in, path, d.err, false);
	}
	rd_destroy(&d);
	return ret;
}
