/* SPDX-License-Identifier: MIT */
/* sigterm.c - write a multiprocessing worker's events before SIGTERM ends it.
 *
 * Pool.terminate(), which `with Pool(...) as pool:` runs on exit, ends the workers with
 * SIGTERM, usually while they wait for the next task: the events they recorded since the
 * last flush (up to a flush interval's worth) would be lost. In a worker whose SIGTERM
 * disposition is the default, perflog/__init__.py asks for this instead: the signal
 * handler only writes a byte to a pipe (async-signal-safe); a thread of ours, blocked on
 * the pipe, flushes the writer (no GIL needed: a Python handler could wait for the main
 * thread to finish a long C call, and so delay the pool's termination) and then ends the
 * process with SIGTERM's default action, as it would have ended. A fork child of such a
 * worker gets the default disposition back (the thread does not survive a fork).
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include "module.h"

static int wake[2] = {-1, -1};
static pl_py_state *armed_state; /* the module state whose writer is flushed */
static bool atfork_set;

static void on_sigterm(int sig)
{
	int saved = errno;
	char c = (char)sig;
	ssize_t n = write(wake[1], &c, 1);
	(void)n; /* a full pipe means a wake-up is pending already */
	errno = saved;
}

static void *flush_then_die(void *arg)
{
	(void)arg;
	char c;
	while (read(wake[0], &c, 1) < 0 && errno == EINTR)
		;
	pl_py_state *st = __atomic_load_n(&armed_state, __ATOMIC_ACQUIRE);
	if (st && st->ctl_lock) {
		PyThread_acquire_lock(st->ctl_lock, WAIT_LOCK);
		if (st->writer)
			pl_writer_flush(st->writer);
		PyThread_release_lock(st->ctl_lock);
	}
	signal(SIGTERM, SIG_DFL);
	kill(getpid(), SIGTERM);
	return NULL;
}

/* In a fork child: no thread reads the pipe there, so the default comes back. */
static void child_reset(void)
{
	if (!armed_state)
		return;
	signal(SIGTERM, SIG_DFL);
	close(wake[0]);
	close(wake[1]);
	wake[0] = wake[1] = -1;
	armed_state = NULL;
}

void pl_py_sigterm_forget(pl_py_state *st)
{
	pl_py_state *expected = st;
	__atomic_compare_exchange_n(&armed_state, &expected, NULL, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
}

int pl_py_flush_on_sigterm(pl_py_state *st)
{
	if (armed_state)
		return 1;
	struct sigaction old;
	if (sigaction(SIGTERM, NULL, &old) < 0 || old.sa_handler != SIG_DFL ||
	    (old.sa_flags & SA_SIGINFO))
		return 0; /* the program handles SIGTERM itself, or ignores it: leave it */
	if (!atfork_set) {
		if (pthread_atfork(NULL, NULL, child_reset) != 0)
			return 0;
		atfork_set = true;
	}
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return 0;
	/* The reading end blocks; the handler's end must not. */
	fcntl(wake[0], F_SETFL, fcntl(wake[0], F_GETFL) & ~O_NONBLOCK);
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, prev;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 << 10);
	/* The thread blocks every signal: they go to the program's threads, as before. */
	pthread_sigmask(SIG_SETMASK, &all, &prev);
	int ret = pthread_create(&t, &attr, flush_then_die, NULL);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	pthread_attr_destroy(&attr);
	if (ret != 0) {
		close(wake[0]);
		close(wake[1]);
		wake[0] = wake[1] = -1;
		return 0;
	}
	__atomic_store_n(&armed_state, st, __ATOMIC_RELEASE);
	struct sigaction sa = {.sa_handler = on_sigterm};
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) < 0)
		return 0; /* the thread waits on a pipe nobody writes: harmless */
	return 1;
}
