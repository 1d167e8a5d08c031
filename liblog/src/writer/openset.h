/* SPDX-License-Identifier: MIT */
/* openset.h - the actions each recording thread has open, as the flusher encodes them.
 *
 * The index written before every frame (format.h) says in which frame of the file the
 * oldest action its writer had open started (an offset, not a time: wall times of one
 * instant differ slightly from frame to frame with the clock's corrections), so that a reader asked
 * for a time window can also read the STARTs of the window's ancestors (perfan's causal paths)
 * without reading the whole file. The flusher keeps, per ring, the open actions in START order: a
 * thread's own actions nest, so an END is nearly always the last entry and the oldest is the first.
 *
 * An END counts only once its record is in a frame: records of a cycle may be held back
 * into the next frame (encode.h), and a frame's index must not call an action closed
 * whose END it does not hold. An END whose START is not in a frame yet either closes it
 * at once (both go into the same frame); one whose START is already in a frame waits in
 * @pending until pl_openset_settle().
 *
 * Conservative by design: an END that matches nothing (its START was recorded by another
 * thread, or dropped) is ignored, and its START's entry stays, making the oldest open
 * action older than it is; past PL_OPENSET_MAX entries (thousands of coroutines open on
 * one thread) new STARTs are not kept but the oldest time is held at the first of them
 * for good. Either costs a reader time, never a record.
 */
#ifndef PL_OPENSET_H
#define PL_OPENSET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "event.h"

/** Most open actions kept per thread. */
#define PL_OPENSET_MAX 4096u

struct pl_open_ent {
	uint64_t key; /* hash of the task id and level path */
	uint64_t off; /* offset of the frame holding its START (once in one) */
};

struct pl_openset {
	struct pl_open_ent *ent; /* oldest first */
	uint32_t n, cap;
	uint32_t nfed;	   /* ent[0..nfed) have their START in a frame */
	uint64_t *pending; /* keys of ENDs encoded but not yet in a frame */
	uint32_t npending, pending_cap;
	/* STARTs and ENDs noted: summed over every ring, their difference is the number of
	 * actions open (an END on another thread than its START included), where @n keeps
	 * such a START for good. A dropped START or END leaves it off: never 0 again. */
	uint64_t starts, ends;
	bool overflow;	/* a START was not kept: @floor holds */
	uint64_t floor; /* offset of the first frame past that START (UINT64_MAX:
			 * not yet in one) */
};

/* The action's identity: task id (prefix only when continued from another process: the
 * own prefix is the same for every action of the writer) and level path. */
static inline uint64_t pl_openset_key(const struct pl_ev *ev)
{
	const uint8_t *p = (const uint8_t *)(ev + 1);
	uint64_t h = 0x9e3779b97f4a7c15u ^ ev->seq;
	if (ev->flags & PL_EVF_REMOTE) {
		uint64_t prefix;
		memcpy(&prefix, p, 8);
		h = (h ^ prefix) * 0xff51afd7ed558ccdu;
		p += 8;
	}
	if (ev->kind == PL_EV_END)
		p += 8; /* the duration */
	h = (h ^ ev->depth) * 0xc4ceb9fe1a85ec53u;
	for (uint32_t i = 0; i < ev->depth; i++) {
		uint32_t l;
		memcpy(&l, p + 4 * i, 4);
		h = (h ^ l) * 0x100000001b3u;
		h ^= h >> 29;
	}
	return h;
}

/* pl_openset_note() when the entry cannot simply be appended or popped. */
void pl_openset_note_slow(struct pl_openset *s, const struct pl_ev *ev, uint64_t key);

/* Note a staged START or END @ev (other kinds are ignored). Inline for the usual cases,
 * which the flusher meets at every event: a START appended, an END of the last entry
 * (a thread's actions nest) popped. */
static inline void pl_openset_note(struct pl_openset *s, const struct pl_ev *ev)
{
	s->starts += ev->kind == PL_EV_START;
	s->ends += ev->kind == PL_EV_END;
	if (ev->kind == PL_EV_START) {
		uint64_t key = pl_openset_key(ev);
		if (s->n < s->cap)
			s->ent[s->n++] = (struct pl_open_ent){key, UINT64_MAX};
		else
			pl_openset_note_slow(s, ev, key);
	} else if (ev->kind == PL_EV_END && s->n) {
		uint64_t key = pl_openset_key(ev);
		if (s->n > s->nfed && s->ent[s->n - 1].key == key)
			s->n--; /* START and END go into one frame */
		else
			pl_openset_note_slow(s, ev, key);
	}
}

/* Every record noted so far is in the frame at file offset @off now: close the actions
 * of the ENDs, and the STARTs have their frame. */
void pl_openset_settle(struct pl_openset *s, uint64_t off);

/* A new file: every open action started before it (offset 0). */
void pl_openset_new_file(struct pl_openset *s);

/* Offset of the frame holding the oldest open action's START (@cur: the frame being
 * filled, for STARTs not yet in one), or UINT64_MAX if none. */
uint64_t pl_openset_oldest(const struct pl_openset *s, uint64_t cur);

void pl_openset_free(struct pl_openset *s);

#endif /* PL_OPENSET_H */
