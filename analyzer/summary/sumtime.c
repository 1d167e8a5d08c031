/* SPDX-License-Identifier: MIT */
/* sumtime.c - a summary's durations over time read back (perflog.summary.slots, .slot,
 * .points: slots.h), checked against the type's count.
 */
#include <stdlib.h>
#include <string.h>

#include "summary/sumrd.h"

/* Bins of the coarse histogram: hist.h's buckets taken 2^PF_SLOTS_BIN_SHIFT at a time. */
#define NBINS (PF_HIST_MAX_BUCKETS >> PF_SLOTS_BIN_SHIFT)

/* The declared type of @r's "type" with its slots begun (@begun) or not. */
static struct type_in *type_of(struct rd *d, const struct pl_record *r, bool begun)
{
	uint32_t name;
	if (pf_sr_name(d, r, "type", &name) < 0)
		return NULL;
	struct type_in *t = pf_sr_type(d, name);
	if (!t || !t->has_inputs || t->has_slots != begun) {
		pf_sr_bad(d, "%s: of no declared type, or out of order", r->type);
		return NULL;
	}
	return t;
}

int pf_sr_slots(struct rd *d, const struct pl_record *r)
{
	struct type_in *t = type_of(d, r, false);
	if (!t)
		return d->err[0] ? -1 : -2;
	if (pf_sr_u64(d, r, "width", 1ull << 56, &t->slot_width) < 0 ||
	    pf_sr_u64(d, r, "calls", t->t.count, &t->slot_calls) < 0)
		return -1;
	if (t->slot_width < PF_SLOTS_MIN_WIDTH || (t->slot_width & (t->slot_width - 1)) ||
	    t->slot_calls != t->t.count)
		return pf_sr_bad(d, "perflog.summary.slots: bad width, or calls not its type's");
	t->has_slots = true;
	return 0;
}

int pf_sr_slot(struct rd *d, const struct pl_record *r)
{
	struct type_in *t = type_of(d, r, true);
	if (!t)
		return d->err[0] ? -1 : -2;
	int64_t key;
	struct pf_slot s = {0};
	const pl_value *bins = pf_sr_array(d, r, "bins", 2 * NBINS);
	if (!bins || pf_sr_i64(d, r, "key", &key) < 0 ||
	    pf_sr_u64(d, r, "count", t->slot_calls, &s.count) < 0 ||
	    pf_sr_u64(d, r, "failures", s.count, &s.failures) < 0 ||
	    pf_sr_u64(d, r, "max_ns", t->t.hist.max, &s.max) < 0)
		return -1;
	int64_t lim = PF_SLOTS_MAX_TIME / (int64_t)t->slot_width;
	if (s.count == 0 || key < -lim || key > lim || bins->v.array.len % 2 ||
	    s.count > t->slot_calls - t->slot_counted)
		return pf_sr_bad(d, "perflog.summary.slot: bad key or counts");
	size_t n = bins->v.array.len / 2;
	struct pf_slot_bin *b = calloc(n ? n : 1, sizeof(*b));
	if (!b)
		return -2;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t bin, c;
		if (!pf_sr_as_u64(&bins->v.array.items[2 * i], &bin) ||
		    !pf_sr_as_u64(&bins->v.array.items[2 * i + 1], &c) || bin >= NBINS ||
		    (i && bin <= b[i - 1].bin) || c == 0 || c > s.count - total) {
			free(b);
			return pf_sr_bad(d, "perflog.summary.slot: bad bins");
		}
		b[i] = (struct pf_slot_bin){(uint32_t)bin, c};
		total += c;
	}
	if (total != s.count) {
		free(b);
		return pf_sr_bad(d, "perflog.summary.slot: bins do not add up to its count");
	}
	s.bins = b;
	s.nbins = s.cap = (uint32_t)n;
	int ret = pf_slots_add_slot(&t->slots, t->slot_width, key, &s);
	free(b);
	t->slot_counted += s.count;
	return ret < 0 ? -2 : 0;
}

int pf_sr_points(struct rd *d, const struct pl_record *r)
{
	struct type_in *t = type_of(d, r, true);
	if (!t)
		return d->err[0] ? -1 : -2;
	const pl_value *start = pf_sr_array(d, r, "start_ns", PF_SLOTS_SAMPLE);
	const pl_value *dur = pf_sr_array(d, r, "duration_ns", PF_SLOTS_SAMPLE);
	const pl_value *failed = pf_sr_array(d, r, "failed", PF_SLOTS_SAMPLE);
	if (!start || !dur || !failed)
		return -1;
	size_t n = start->v.array.len;
	if (dur->v.array.len != n || failed->v.array.len != n || n > t->slot_calls ||
	    t->slots.calls)
		return pf_sr_bad(d, "perflog.summary.points: arrays differ, or given twice");
	struct pf_slot_point *p = calloc(n ? n : 1, sizeof(*p));
	if (!p)
		return -2;
	for (size_t i = 0; i < n; i++) {
		const pl_value *s = &start->v.array.items[i], *f = &failed->v.array.items[i];
		if ((s->type != PL_VALUE_INT && s->type != PL_VALUE_UINT) ||
		    (s->type == PL_VALUE_UINT && s->v.u > INT64_MAX) ||
		    !pf_sr_as_u64(&dur->v.array.items[i], &p[i].duration_ns) ||
		    f->type != PL_VALUE_BOOL || p[i].duration_ns > t->t.hist.max) {
			free(p);
			return pf_sr_bad(d, "perflog.summary.points: a bad point");
		}
		p[i].start = s->type == PL_VALUE_INT ? s->v.i : (int64_t)s->v.u;
		p[i].failed = f->v.b;
	}
	int ret = pf_slots_add_sample(&t->slots, p, n, t->slot_calls);
	free(p);
	return ret < 0 ? -2 : 0;
}
