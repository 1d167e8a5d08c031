/* SPDX-License-Identifier: MIT */
/* slots.h - an action type's durations over wall-clock time, mergeable: what a summary
 * keeps for `perfan report`'s latency-over-time charts, whose time range is not known
 * while one part of a fleet is summarized.
 *
 * Slots: the calls counted by their start in slots of @width ns (a power of two, at least
 * PF_SLOTS_MIN_WIDTH) on a grid anchored at the Unix epoch, at most PF_SLOTS_MAX of them:
 * when a call falls outside the window, the width doubles (two slots become one) until
 * it fits. Grids of different widths nest, so two slots merge exactly into the coarser
 * grid. Per slot: calls, failures, the maximum, and the durations' coarse histogram (the
 * log-linear buckets of hist.h taken 2^PF_SLOTS_BIN_SHIFT at a time: what report/series.h
 * draws p50 and p99 from), kept sparse.
 *
 * Sample: a uniform random sample of at most PF_SLOTS_SAMPLE calls (reservoir sampling
 * with a fixed seed); two samples merge into a uniform sample of the union (each part
 * drawn from in proportion to the calls it stands for).
 *
 * Memory: per slot with calls ~40 bytes and 16 per coarse bin used; 24 bytes per point.
 */
#ifndef PERFAN_SLOTS_H
#define PERFAN_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PF_SLOTS_MAX	   512
#define PF_SLOTS_MIN_WIDTH (1ull << 20) /* ~1 ms */
#define PF_SLOTS_BIN_SHIFT 4
#define PF_SLOTS_SAMPLE	   1000
/* Times a slot may start at (Unix ns, either sign): room for widening to 2^57 ns. */
#define PF_SLOTS_MAX_TIME (INT64_MAX - (1ll << 57))

struct pf_slot_bin {
	uint32_t bin; /* hist.h bucket >> PF_SLOTS_BIN_SHIFT */
	uint64_t count;
};

struct pf_slot {
	uint64_t count, failures, max;
	struct pf_slot_bin *bins; /* ascending by bin */
	uint32_t nbins, cap;
};

struct pf_slot_point {
	int64_t start;
	uint64_t duration_ns;
	bool failed;
};

struct pf_slots {
	uint64_t width;	   /* ns per slot; 0: no call yet */
	int64_t base;	   /* slot 0 is [base * width, (base + 1) * width) */
	struct pf_slot *s; /* PF_SLOTS_MAX */
	uint64_t calls;
	struct pf_slot_point *pts; /* the sample */
	size_t npts;
	uint64_t rng;
};

/** pf_slots_init() - empty (allocates nothing). */
void pf_slots_init(struct pf_slots *t);

/** pf_slots_add() - count one call. Returns: 0, or -1 when out of memory. */
int pf_slots_add(struct pf_slots *t, int64_t start, uint64_t duration_ns, bool failed);

/**
 * pf_slots_add_slot() - add the counts of a slot of another grid (a summary's): @key is
 * its index on a grid of @width ns (a power of two >= PF_SLOTS_MIN_WIDTH), @bins its
 * coarse histogram. Returns: 0, or -1 when out of memory.
 */
int pf_slots_add_slot(struct pf_slots *t, uint64_t width, int64_t key, const struct pf_slot *s);

/**
 * pf_slots_add_sample() - merge @pts (@n points, a uniform sample of @calls calls) into
 * @t's sample. Returns: 0, or -1 when out of memory.
 */
int pf_slots_add_sample(struct pf_slots *t, const struct pf_slot_point *pts, size_t n,
			uint64_t calls);

/** pf_slots_merge() - add @src's slots and sample into @t. Returns: 0, or -1 (ENOMEM). */
int pf_slots_merge(struct pf_slots *t, const struct pf_slots *src);

/** pf_slots_destroy() - free everything. */
void pf_slots_destroy(struct pf_slots *t);

/** pf_sample_random() - the next number of a splitmix64 generator at *@state. */
uint64_t pf_sample_random(uint64_t *state);

/**
 * pf_sample_split() - of @m calls drawn without replacement from two populations of
 * @calls0 and @calls1 calls, how many come from the first (a hypergeometric draw): how
 * two uniform samples make a uniform sample of their union.
 */
size_t pf_sample_split(uint64_t calls0, uint64_t calls1, size_t m, uint64_t *rng);

#endif /* PERFAN_SLOTS_H */
