/* SPDX-License-Identifier: MIT */
/* sumrd.h - private to the summary reader (sumread.c, sumrd.c, sumargs.c): the state of
 * one summary being read, and typed access to a record's fields that records the first
 * reason a field is refused.
 */
#ifndef PERFAN_SUMRD_H
#define PERFAN_SUMRD_H

#include <stdbool.h>
#include <stdint.h>

#include <perflog/reader.h>

#include "analysis/argstats.h"
#include "analysis/hist.h"
#include "analysis/slots.h"
#include "core/input.h"
#include "core/names.h"
#include "summary/summary.h"

/* A type of the file, as read. */
struct type_in {
	uint32_t name; /* in the file's table */
	struct pf_typestat t;
	uint32_t next_bucket; /* hist chunks come in ascending order */
	uint64_t calls;	      /* finished calls read */
	bool has_inputs;      /* @a holds its perflog.summary.inputs */
	struct pf_argstats a;
	bool has_slots;				       /* @slots holds its perflog.summary.slots */
	uint64_t slot_width, slot_calls, slot_counted; /* as declared; counted in slots */
	struct pf_slots slots;
};

struct rd {
	const char *path;
	char err[256];
	uint64_t offset; /* of the record being read */
	struct pf_names local;
	uint64_t k;
	bool header, counters, end;
	bool groups; /* it holds argument groups and slots (not made with --lean) */
	uint32_t types_with_inputs;
	uint32_t *type_at; /* by name number in @local: index + 1 in @types, 0 if none */
	uint32_t ntype_at;
	struct pf_summary_counts counts;
	struct pf_source *src;
	size_t nsrc, src_cap;
	struct pf_failed *failed;
	size_t nfailed, failed_cap;
	struct type_in *types;
	size_t ntypes, types_cap;
	struct pf_call **calls;
	size_t ncalls, calls_cap;
	uint64_t end_inputs, end_types, end_calls;
	uint64_t inputs_left_out;

	struct pf_group *group; /* the last group read: its hist chunks follow it */
	uint32_t group_next;	/* its next bucket */
	size_t group_arg, group_idx;
	struct type_in *group_type;
};

/* Note why the summary is refused (the first reason is kept). Returns -1. */
int pf_sr_bad(struct rd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Field @key of @r, or NULL. */
const pl_value *pf_sr_fld(const struct pl_record *r, const char *key);

/* @v as a whole number >= 0 into *@out; false when it is not one. */
bool pf_sr_as_u64(const pl_value *v, uint64_t *out);

/* Typed fields: 0, or -1 after pf_sr_bad() when missing, of another type or out of range
 * (a number above @max); pf_sr_str() and pf_sr_name() also -2 when out of memory. */
int pf_sr_u64(struct rd *d, const struct pl_record *r, const char *key, uint64_t max,
	      uint64_t *out);
int pf_sr_i64(struct rd *d, const struct pl_record *r, const char *key, int64_t *out);
int pf_sr_bool(struct rd *d, const struct pl_record *r, const char *key, bool *out);
/* A string as a malloc'ed copy cut at @max bytes; NULL for nil when @nil_ok. */
int pf_sr_str(struct rd *d, const struct pl_record *r, const char *key, size_t max, bool nil_ok,
	      char **out);
/* A string naming a type, as its number in the file's own table. */
int pf_sr_name(struct rd *d, const struct pl_record *r, const char *key, uint32_t *out);
/* An array of at most @max items, or NULL after pf_sr_bad(). */
const pl_value *pf_sr_array(struct rd *d, const struct pl_record *r, const char *key, size_t max);

/* The type of the file's name @name, or NULL when it was not declared. */
struct type_in *pf_sr_type(struct rd *d, uint32_t name);

/* Note that @name is declared at index @i of @types. Returns 0, or -2 (out of memory). */
int pf_sr_type_add(struct rd *d, uint32_t name, size_t i);

/* perflog.summary.inputs, .arg and .group (sumargs.c): 0, -1 (bad), -2 (out of memory). */
int pf_sr_inputs(struct rd *d, const struct pl_record *r);
int pf_sr_arg(struct rd *d, const struct pl_record *r);
int pf_sr_group(struct rd *d, const struct pl_record *r);

/* perflog.summary.slots, .slot and .points (sumtime.c): 0, -1 (bad), -2 (out of memory). */
int pf_sr_slots(struct rd *d, const struct pl_record *r);
int pf_sr_slot(struct rd *d, const struct pl_record *r);
int pf_sr_points(struct rd *d, const struct pl_record *r);

/* After the last record: each histogram of @t (its own, its groups') adds up to its count
 * and has its extremes in its outer buckets; then their counts and sums are set. */
int pf_sr_check_hist(struct rd *d, struct type_in *t);

#endif /* PERFAN_SUMRD_H */
