/* SPDX-License-Identifier: MIT */
/* openset.c - open actions per thread, for the frame index (see openset.h). */
#include <stdlib.h>
#include <string.h>

#include "openset.h"

void pl_openset_note_slow(struct pl_openset *s, const struct pl_ev *ev, uint64_t key)
{
	if (ev->kind == PL_EV_START) {
		if (s->n == s->cap) {
			uint32_t cap = s->cap ? s->cap * 2 : 16;
			struct pl_open_ent *e =
			    cap <= PL_OPENSET_MAX ? realloc(s->ent, cap * sizeof(*e)) : NULL;
			if (!e) {
				if (!s->overflow)
					s->floor = UINT64_MAX; /* set when it goes in a frame */
				s->overflow = true;
				return;
			}
			s->ent = e;
			s->cap = cap;
		}
		s->ent[s->n++] = (struct pl_open_ent){key, UINT64_MAX};
		return;
	}
	for (uint32_t i = s->n; i-- > s->nfed;) {
		if (s->ent[i].key == key) { /* START and END go into one frame */
			memmove(&s->ent[i], &s->ent[i + 1], (s->n - i - 1) * sizeof(*s->ent));
			s->n--;
			return;
		}
	}
	if (s->npending == s->pending_cap) {
		uint32_t cap = s->pending_cap ? s->pending_cap * 2 : 16;
		uint64_t *p = realloc(s->pending, cap * sizeof(*p));
		if (!p)
			return; /* the action stays open: conservative */
		s->pending = p;
		s->pending_cap = cap;
	}
	s->pending[s->npending++] = key;
}

void pl_openset_settle(struct pl_openset *s, uint64_t off)
{
	for (uint32_t k = 0; k < s->npending; k++) {
		uint64_t key = s->pending[k];
		for (uint32_t i = s->nfed; i-- > 0;) {
			if (s->ent[i].key == key) {
				memmove(&s->ent[i], &s->ent[i + 1],
					(s->n - i - 1) * sizeof(*s->ent));
				s->n--;
				s->nfed--;
				break;
			}
		}
	}
	s->npending = 0;
	for (uint32_t i = s->nfed; i < s->n; i++)
		s->ent[i].off = off;
	s->nfed = s->n;
	if (s->overflow && s->floor == UINT64_MAX)
		s->floor = off;
	if (s->pending_cap > 4096) { /* a burst's array goes back */
		free(s->pending);
		s->pending = NULL;
		s->pending_cap = 0;
	}
}

void pl_openset_new_file(struct pl_openset *s)
{
	for (uint32_t i = 0; i < s->nfed; i++)
		s->ent[i].off = 0;
	if (s->overflow && s->floor != UINT64_MAX)
		s->floor = 0;
}

uint64_t pl_openset_oldest(const struct pl_openset *s, uint64_t cur)
{
	/* Entries go into frames in order: the first is in the earliest. */
	uint64_t oldest = !s->n ? UINT64_MAX : s->nfed ? s->ent[0].off : cur;
	if (s->overflow) {
		uint64_t floor = s->floor == UINT64_MAX ? cur : s->floor;
		oldest = floor < oldest ? floor : oldest;
	}
	return oldest;
}

void pl_openset_free(struct pl_openset *s)
{
	free(s->ent);
	free(s->pending);
	memset(s, 0, sizeof(*s));
}
