/* SPDX-License-Identifier: MIT */
/* event.h - the staged event: what the hot path writes into a thread's ring and the
 * flusher turns into msgpack. In-memory only, never on disk; 8-byte aligned.
 *
 *   struct pl_ev | [u64 prefix if PL_EVF_REMOTE] | [u64 duration if END]
 *                | u32 level[depth] | fields (msgpack map) | exc_type | exc_msg | pad
 */
#ifndef PL_EVENT_H
#define PL_EVENT_H

#include <stdint.h>

enum pl_ev_kind {
	PL_EV_PAD = 0, /* filler up to the ring's end: skip `size` bytes */
	PL_EV_START = 1,
	PL_EV_END = 2, /* succeeded or failed (see flags) */
	PL_EV_MESSAGE = 3,
	PL_EV_THREAD_NAME = 4, /* name in the exc_type slot */
};

#define PL_EVF_REMOTE	 1u /* task prefix is not the process's: stored after the header */
#define PL_EVF_FAILED	 2u /* END of a failed action */
#define PL_EVF_FIELDS	 4u /* fields blob present (fields_len may still be 0: empty map) */
#define PL_EVF_CANCELLED 8u /* END of a cancelled action (with PL_EVF_FAILED: its exception) */

struct pl_ev {
	uint32_t size;	     /* bytes from this header to the next event, multiple of 8 */
	uint8_t kind;	     /* enum pl_ev_kind */
	uint8_t flags;	     /* PL_EVF_* */
	uint16_t depth;	     /* level entries */
	uint32_t type;	     /* pl_name */
	uint32_t fields_len; /* bytes of the msgpack fields map */
	uint16_t exc_type_len;
	uint16_t exc_msg_len;
	uint32_t reserved;
	uint64_t ticks; /* clock ticks at the event */
	uint64_t seq;	/* task sequence number */
};

_Static_assert(sizeof(struct pl_ev) == 40, "staged header layout");
_Static_assert(sizeof(struct pl_ev) % 8 == 0, "events stay 8-byte aligned");

#endif /* PL_EVENT_H */
