/* SPDX-License-Identifier: MIT */
/* filter.c - the span predicate (see filter.h). */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/input.h"

static int64_t resolve(const struct pf_time *t, int64_t first, int64_t last)
{
	switch (t->base) {
	case PF_TIME_END:
		return last - t->ns;
	case PF_TIME_START:
		return first + t->ns;
	default:
		return t->ns;
	}
}

bool pf_filter_needs_extent(const struct pf_opts *o)
{
	return (o->has_since && o->since.base != PF_TIME_ABS) ||
	       (o->has_until && o->until.base != PF_TIME_ABS);
}

void pf_filter_init(struct pf_filter *f, const struct pf_opts *o, const struct pf_names *names,
		    int64_t first, int64_t last)
{
	memset(f, 0, sizeof(*f));
	f->o = o;
	f->names = names;
	f->since = o->has_since ? resolve(&o->since, first, last) : INT64_MIN;
	f->until = o->has_until ? resolve(&o->until, first, last) : INT64_MAX;
	f->all = !o->type_glob && !o->min_ns && !o->failed_only && !o->has_task &&
		 f->since == INT64_MIN && f->until == INT64_MAX;
}

bool pf_filter_type(struct pf_filter *f, uint32_t type)
{
	if (!f->o->type_glob)
		return true;
	if (type >= f->ntypes) {
		uint32_t n = f->ntypes ? f->ntypes : 64;
		while (n <= type)
			n *= 2;
		uint8_t *s = realloc(f->type_state, n);
		if (!s) /* cannot cache: answer without it */
			return fnmatch(f->o->type_glob, pf_names_str(f->names, type), 0) == 0;
		memset(s + f->ntypes, 0, n - f->ntypes);
		f->type_state = s;
		f->ntypes = n;
	}
	if (!f->type_state[type])
		f->type_state[type] =
		    fnmatch(f->o->type_glob, pf_names_str(f->names, type), 0) == 0 ? 1 : 2;
	return f->type_state[type] == 1;
}

bool pf_filter_span(struct pf_filter *f, const struct pf_span *sp)
{
	if (f->all)
		return true;
	const struct pf_opts *o = f->o;
	if (sp->duration_ns < o->min_ns || (o->failed_only && !sp->failed))
		return false;
	if (sp->start_wall < f->since || sp->start_wall >= f->until)
		return false;
	if (o->has_task) {
		if (sp->prefix != o->task.prefix || sp->seq != o->task.seq ||
		    sp->depth < o->task.depth)
			return false;
		for (uint32_t i = 0; i < o->task.depth; i++)
			if (sp->level[i] != o->task.level[i])
				return false;
	}
	return pf_filter_type(f, sp->type);
}

void pf_filter_destroy(struct pf_filter *f)
{
	free(f->type_state);
	memset(f, 0, sizeof(*f));
}

bool pf_filter_event(struct pf_filter *f, const struct pf_event *ev)
{
	struct pf_span sp = {
	    .type = ev->type,
	    .prefix = ev->prefix,
	    .seq = ev->seq,
	    .level = ev->level,
	    .depth = ev->depth,
	    .start_wall = ev->wall,
	    .duration_ns = UINT64_MAX, /* unknown yet: passes --min */
	    .failed = true,	       /* unknown yet: passes --failed */
	};
	return pf_filter_span(f, &sp);
}
