/* SPDX-License-Identifier: MIT */
/* pool.c - worker threads for numbered jobs (see pool.h). */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/pool.h"

struct pf_pool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t done; /* a job finished */
	size_t *queue;	     /* ring of submitted job numbers */
	size_t head, len, njobs;
	bool *finished; /* by job: its last submitted run is over */
	bool stop;
	void (*fn)(void *ctx, size_t job);
	void *ctx;
	pthread_t *threads;
	unsigned nthreads;
};

static void *worker(void *arg)
{
	struct pf_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->len == 0)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		size_t job = p->queue[p->head];
		p->head = (p->head + 1) % p->njobs;
		p->len--;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->ctx, job);
		pthread_mutex_lock(&p->mu);
		p->finished[job] = true;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct pf_pool *pf_pool_start(unsigned nthreads, size_t njobs, void (*fn)(void *ctx, size_t job),
			      void *ctx)
{
	if (nthreads == 0 || njobs == 0)
		return NULL;
	struct pf_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->queue = calloc(njobs, sizeof(*p->queue));
	p->finished = calloc(njobs, sizeof(*p->finished));
	p->threads = calloc(nthreads, sizeof(*p->threads));
	if (!p->queue || !p->finished || !p->threads) {
		free(p->queue);
		free(p->finished);
		free(p->threads);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->njobs = njobs;
	p->fn = fn;
	p->ctx = ctx;
	/* Workers take no asynchronous signal: SIGINT, SIGPIPE and the like stay the main
	 * thread's. A fault (SIGSEGV...) stays unblocked, or the kernel would kill perfan
	 * without running a handler (a sanitizer's report). */
	sigset_t all, old;
	sigfillset(&all);
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			break;
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nthreads == 0) {
		pf_pool_stop(p);
		return NULL;
	}
	return p;
}

void pf_pool_submit(struct pf_pool *p, size_t job)
{
	pthread_mutex_lock(&p->mu);
	p->finished[job] = false;
	p->queue[(p->head + p->len) % p->njobs] = job;
	p->len++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void pf_pool_wait(struct pf_pool *p, size_t job)
{
	pthread_mutex_lock(&p->mu);
	while (!p->finished[job])
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void pf_pool_stop(struct pf_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p->queue);
	free(p->finished);
	free(p->threads);
	free(p);
}

unsigned pf_pool_auto_threads(int jobs, size_t njobs)
{
	long n = jobs;
	if (jobs < 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 1 ? cpus : 0; /* one CPU: no thread to overlap with */
		if (n > 8)
			n = 8;
	}
	if ((size_t)n > njobs)
		n = (long)njobs;
	return (unsigned)n;
}
