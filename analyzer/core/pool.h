/* SPDX-License-Identifier: MIT */
/* pool.h - a few worker threads running numbered jobs, for decoding input files while
 * the main thread analyzes (input.c). A job number is submitted, runs once on some
 * worker, and is waited for by number; each number has at most one run outstanding.
 */
#ifndef PERFAN_POOL_H
#define PERFAN_POOL_H

#include <stddef.h>

struct pf_pool;

/**
 * pf_pool_start() - start @nthreads workers for job numbers 0..@njobs-1, each run being
 * @fn(@ctx, job). Returns: the pool, or NULL when threads or memory are not available
 * (the caller then runs jobs itself).
 */
struct pf_pool *pf_pool_start(unsigned nthreads, size_t njobs, void (*fn)(void *ctx, size_t job),
			      void *ctx);

/** pf_pool_submit() - queue a run of @job (which must not be outstanding). */
void pf_pool_submit(struct pf_pool *p, size_t job);

/** pf_pool_wait() - return once the last submitted run of @job has finished. */
void pf_pool_wait(struct pf_pool *p, size_t job);

/** pf_pool_stop() - let running jobs finish, drop queued ones, join and free. NULL: no-op. */
void pf_pool_stop(struct pf_pool *p);

/**
 * pf_pool_auto_threads() - how many workers to use for @njobs inputs given the --jobs
 * option @jobs (negative: automatic, one per CPU, at most 8:
 * decoding is most of the work, the main thread mostly waits for it).
 * Returns 0 when the main thread should do everything.
 */
unsigned pf_pool_auto_threads(int jobs, size_t njobs);

#endif /* PERFAN_POOL_H */
