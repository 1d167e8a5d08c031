/* SPDX-License-Identifier: MIT */
/* argstats_int.h - argstats.c's lookups, for argmerge.c only (merging keeps the same caps
 * and folding rules as counting). Not part of argstats.h's contract.
 */
#ifndef PERFAN_ARGSTATS_INT_H
#define PERFAN_ARGSTATS_INT_H

#include "analysis/argstats.h"

/* The grouping @name (by value, by length, or context), created when there is room;
 * NULL past PF_ARGSTATS_MAX_ARGS / PF_ARGSTATS_MAX_CONTEXT or out of memory. */
struct pf_arg *pf_argstats_find_arg_(struct pf_argstats *t, const char *name, size_t len,
				     bool by_len, bool context);

/* The group of a value, created (or taking a folded string's slot, or "(other)" past the
 * caps) when new; NULL when out of memory. */
struct pf_group *pf_argstats_find_group_(struct pf_argstats *t, struct pf_arg *a,
					 enum pf_gclass cls, int64_t key, const char *s, size_t n,
					 bool cut);

/* A new, empty group appended to @a (no cap checked); NULL when out of memory. */
struct pf_group *pf_argstats_new_group_(struct pf_arg *a, enum pf_gclass cls, int64_t key);

/* @a's "(other)" group, created when there is none; NULL when out of memory. */
struct pf_group *pf_argstats_other_group_(struct pf_arg *a);

#endif /* PERFAN_ARGSTATS_INT_H */
