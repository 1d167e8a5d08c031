/* SPDX-License-Identifier: MIT */
/* context.c - a call's context as argstats groupings (see context.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analysis/context.h"

/* Grouping @name, a string literal: its length is known here (a strlen per call and
 * grouping was a tenth of `perfan summarize`'s analysis). */
#define add(a, name, value, d) add_(a, name, sizeof(name) - 1, value, d)

static int add_(struct pf_argstats *a, const char *name, size_t name_len, const char *value,
		uint64_t d)
{
	return pf_argstats_add_context(a, name, name_len, value, strlen(value), d);
}

static const char *type_or(const struct pf_scan *sc, uint32_t type, const char *none)
{
	return type == PF_NAME_NONE ? none : pf_names_str(&sc->names, type);
}

int pf_context_add(struct pf_argstats *a, const struct pf_scan *sc, const struct pf_span *sp,
		   unsigned which)
{
	const struct pf_source *src = &sc->in.src[sp->src];
	uint64_t d = sp->duration_ns;
	char buf[PF_FIELD_STR_MAX + 64];
	int ret = 0;
	if (which & PF_CTX_PROCESS)
		ret |= add(a, "process", src->process ? src->process : "?", d);
	if (which & PF_CTX_HOST)
		ret |= add(a, "host", src->host, d);
	if (which & PF_CTX_THREAD) {
		const char *name = pf_input_thread_name(&sc->in, sp->src, sp->thread);
		if (!name) {
			snprintf(buf, sizeof(buf), "tid %" PRIu32, sp->tid);
			name = buf;
		}
		ret |= add(a, "thread", name, d);
	}
	if (which & PF_CTX_PARENT)
		ret |= add(a, "parent",
			   sp->depth ? type_or(sc, pf_spans_ancestor(&sc->spans, sp, sp->depth - 1),
					       "(not read)")
				     : "(none)",
			   d);
	if (which & PF_CTX_ROOT)
		ret |=
		    add(a, "root",
			sp->depth ? type_or(sc, pf_spans_ancestor(&sc->spans, sp, 0), "(not read)")
				  : pf_names_str(&sc->names, sp->type),
			d);
	if (which & PF_CTX_OUTCOME)
		ret |= add(a, "outcome", sp->failed ? "failed" : "succeeded", d);
	return ret;
}
