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

/* This process's task id prefix (random, never 0). Changes in a fork child. */
uint64_t pl_task_prefix(void);

/* A new task sequence number, unique within the process (starts at 1). */
uint64_t pl_task_next_seq(void);

/* Called in a fork child: draw a new prefix so parent and child never share ids. */
void pl_task_after_fork_child(void);

#endif /* PL_TASKID_H */
