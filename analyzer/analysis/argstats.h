/* SPDX-License-Identifier: MIT */
/* argstats.h - which inputs make an action type slow: the calls of one type grouped by
 * each of their arguments (the fields of their START). Used by `perfan inputs` and
 * `perfan report`.
 *
 * Strings and booleans are grouped by value, numbers in power-of-two buckets, strings and
 * bytes also by length bucket (a second argument "len(NAME)"). Per group: calls, a
 * histogram (p50, p99, max), and the tail: the calls slower than the type's p95 (given by
 * the caller, from a first pass) and the time they spent over it, whose share of the
 * type's tail tells how much of the tail the group accounts for.
 *
 * Memory: at most PF_ARGSTATS_MAX_ARGS arguments (values of others are counted in
 * @ignored_fields), per argument at most PF_ARGSTATS_MAX_VALUES distinct strings and the
 * buckets seen (at most 129 for integers and lengths, ~4200 for floats), and in all at most
 * PF_ARGSTATS_MAX_GROUPS groups per type (past it, values that would start a group go to
 * "(other)"): each group holds one histogram (up to 58 KiB), so a type's groups take at
 * most ~30 MiB whatever a hostile trace holds (context groupings, at most
 * PF_ARGSTATS_MAX_CONTEXT of PF_ARGSTATS_MAX_VALUES strings each, ~45 MiB more). When a new string
 * finds the string groups full, the group with the least time over p95 (then the fewest calls) is
 * folded into "(other)" and the new string takes its place: values that make the tail stay, however
 * late they come. A value seen again after its group was folded starts a new group whose counts
 * miss the folded calls: it is marked @partial (from a per-argument bitmap of folded values'
 * hashes, so a collision can mark an exact group partial, never the reverse). "(other)" is ranked
 * last.
 */
#ifndef PERFAN_ARGSTATS_H
#define PERFAN_ARGSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/hist.h"
#include "core/fields.h"
#include "fmt/jsonw.h"

#define PF_ARGSTATS_MAX_ARGS	64
#define PF_ARGSTATS_MAX_CONTEXT 8 /* context groupings (pf_argstats_add_context) */
#define PF_ARGSTATS_MAX_VALUES	100
#define PF_ARGSTATS_FOLDED_BITS 8192
#define PF_ARGSTATS_MAX_GROUPS	512
/* A string argument with at most this many values (all kept) is not also grouped by length
 * in the results: its values say more (pf_argstats_finish). */
#define PF_ARGSTATS_FEW_VALUES 10
/** Enough bytes for pf_group_label() (a quoted string with escapes, or a range). */
#define PF_GROUP_LABEL_MAX (PF_FIELD_STR_MAX * 4 + 64)

/* What a group stands for. */
enum pf_gclass {
	PF_G_NIL,
	PF_G_BOOL,
	PF_G_STR,
	PF_G_OTHER, /* string groups folded to make room, values past the group cap */
	PF_G_INT,
	PF_G_FLOAT,
	PF_G_LEN,
	PF_G_ARRAY,
	PF_G_MAP,
};

struct pf_group {
	enum pf_gclass cls;
	int64_t key; /* PF_G_BOOL 0/1; PF_G_INT, PF_G_FLOAT, PF_G_LEN: bucket */
	char *str;   /* PF_G_STR: the (kept part of the) value */
	size_t str_len;
	bool cut;
	bool partial; /* PF_G_STR: calls of this value may also be in "(other)" */
	uint64_t tail_calls, tail_ns;
	struct pf_hist hist;
	/* PF_G_INT, PF_G_LEN: the magnitudes seen (of negatives for a negative @key), so that
	 * a group shows the range actually seen, or its one value; PF_G_FLOAT likewise. */
	uint64_t seen_lo, seen_hi;
	double fseen_lo, fseen_hi;
};

struct pf_arg {
	char *name;
	size_t name_len;
	bool by_len;  /* groups by length of strings and bytes */
	bool context; /* not an argument: a fact about the call (pf_argstats_add_context) */
	struct pf_group *g;
	size_t ng, cap;
	size_t last; /* index in @g of the group found last: looked at first (a hint) */
	uint64_t calls;
	uint64_t folded_calls;	/* calls of string groups folded into "(other)" */
	uint64_t folded_values; /* string groups folded */
	uint64_t capped_calls;	/* of folded_calls: values past PF_ARGSTATS_MAX_GROUPS */
	size_t nstr;
	uint64_t *folded; /* bitmap of hashes of folded values (PF_ARGSTATS_FOLDED_BITS) */
	/* For ordering, set by pf_argstats_finish(): the largest excess of a group's share of
	 * the tail over its share of the calls (0 when the tail looks like all calls). */
	double score;
};

struct pf_argstats {
	uint64_t p95; /* the tail is the calls slower than this */
	uint64_t count, tail_calls, tail_ns;
	struct pf_arg *args;
	size_t nargs;		 /* arguments and context groupings */
	size_t nfield_args;	 /* of which arguments (at most PF_ARGSTATS_MAX_ARGS) */
	uint64_t ignored_fields; /* field occurrences past PF_ARGSTATS_MAX_ARGS arguments */
	size_t ngroups;		 /* groups of all arguments but "(other)" (not context) */
	size_t next_arg;	 /* after the argument found last: looked at first (a hint) */
};

/** pf_argstats_init() - empty statistics of a type whose p95 is @p95. */
void pf_argstats_init(struct pf_argstats *t, uint64_t p95);

/**
 * pf_argstats_add() - count one call of @d ns with packed START fields @inputs (fields.h;
 * NULL for none). Returns: 0, or -1 when out of memory (the call may be partly counted).
 */
int pf_argstats_add(struct pf_argstats *t, const uint8_t *inputs, size_t len, uint64_t d);

/**
 * pf_argstats_add_context() - group the call last given to pf_argstats_add() (of @d ns)
 * also by a fact about it that is not an argument: grouping @name of @name_len bytes (e.g.
 * "thread"), string value @value of @len bytes (its thread's name). At most
 * PF_ARGSTATS_MAX_CONTEXT names. Returns: 0, or -1 when out of memory.
 */
int pf_argstats_add_context(struct pf_argstats *t, const char *name, size_t name_len,
			    const char *value, size_t len, uint64_t d);

/**
 * pf_argstats_finish() - leave out the groupings by length of string arguments with at most
 * PF_ARGSTATS_FEW_VALUES values, all kept; then rank: per grouping, groups by share of the
 * tail, then by calls;
 * groupings by their score (how much more of the tail than of the calls their most telling
 * group has: Honeycomb BubbleUp's question, "what is different about the slow ones"), then
 * by name. A grouping whose one group holds every call scores 0: it tells nothing.
 */
void pf_argstats_finish(struct pf_argstats *t);

/** pf_arg_uniform() - @a is a context grouping whose one value holds every call: it tells
 * nothing about the slow ones (shown in one line, not as a table). */
bool pf_arg_uniform(const struct pf_argstats *t, const struct pf_arg *a);

/** pf_group_share() - the fraction of @t's tail time spent in @g's calls (0 if none). */
double pf_group_share(const struct pf_argstats *t, const struct pf_group *g);

/** pf_group_label() - "text" (quoted, C escapes), 4..7, [0.5, 1), true, (other), ... */
void pf_group_label(const struct pf_group *g, char *buf, size_t len);

/** pf_arg_title() - the argument's name, len(NAME) for a grouping by length, [NAME] for
 * a context grouping. */
void pf_arg_title(const struct pf_arg *a, char *buf, size_t len);

/** pf_group_json() - the group as a JSON object (as in `perfan inputs --json`). */
void pf_group_json(struct pf_json *j, const struct pf_argstats *t, const struct pf_group *g);

/**
 * pf_argstats_merge() - add @src's groupings and groups into @dst's (argmerge.c): the
 * statistics of the calls of both, within @dst's caps (a group that finds no room goes to
 * "(other)", counted as capped). Calls are the sum; tails are summed as they are (see
 * pf_argstats_retail()). Returns: 0, or -1 when out of memory.
 */
int pf_argstats_merge(struct pf_argstats *dst, const struct pf_argstats *src);

/**
 * pf_argstats_retail() - set the tail against @p95 from the histograms: the type's
 * (@type_hist: count, tail calls and time) and each group's. A bucket's calls are taken at
 * its middle (clamped to min and max), so a tail is exact but for the calls in @p95's own
 * bucket, and its time within PF_HIST_REL_ERROR of each call's duration: how statistics
 * merged from summaries, which had no common p95, get theirs.
 */
void pf_argstats_retail(struct pf_argstats *t, const struct pf_hist *type_hist, uint64_t p95);

/** pf_argstats_destroy() - free every argument and group. */
void pf_argstats_destroy(struct pf_argstats *t);

#endif /* PERFAN_ARGSTATS_H */
