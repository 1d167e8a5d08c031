/* SPDX-License-Identifier: MIT */
/* taskid.h - task ids without coordination: a random per-process prefix plus a
 * sequence number handed out to threads in blocks.
 *
 * Why not random 128-bit ids per task (eliot's UUID4): they are incompressible, and a
 * service starting millions of tasks would spend most trace bytes on them. Sequential
 * numbers under one random prefix are unique across hosts and compress to ~1 byte.
 */
#ifndef PL_TASKID_H
#define PL_TASKID_H

#include <stdint.h>

#include "macros.h"

/* Process-wide state, inline-read on the hot path; owned by taskid.c. */
extern uint64_t pl_g_task_prefix;
extern PL_TLS uint64_t pl_tl_seq, pl_tl_seq_end;
uint64_t pl_task_prefix_slow(void);
uint64_t pl_task_seq_block(void);

/* This process's task id prefix (random, never 0). Changes in a fork child. */
static inline uint64_t pl_task_prefix(void)
{
	uint64_t p = load_relaxed(&pl_g_task_prefix);
	return likely(p) ? p : pl_task_prefix_slow();
}

/* A new task sequence number, unique within the process (starts at 1). */
static inline uint64_t pl_task_next_seq(void)
{
	if (unlikely(pl_tl_seq == pl_tl_seq_end))
		return pl_task_seq_block();
	return pl_tl_seq++;
}

/* Called in a fork child: draw a new prefix so parent and child never share ids. */
void pl_task_after_fork_child(void);

#endif /* PL_TASKID_H */
