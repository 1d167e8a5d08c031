/* SPDX-License-Identifier: MIT */
/* test_fork.c - fork() while threads record: never two processes writing one file.
 *
 * Worker threads record continuously (PL_FULL_BLOCK, so nothing may be missing) while the
 * main thread, which records too, forks several times.
 * - Path with "{pid}": each child writes its own file (its pid in the name and header, a
 *   new task prefix) holding the child's events only; the parent's file is complete.
 * - Path without "{pid}": the child records nothing (stats stay 0, flush says
 *   -PL_ECLOSED); the parent's file is complete.
 * - A worker calling pl_writer_flush() in a loop while the main thread forks.
 * Children guard themselves with alarm() and report through their exit status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include "helpers.h"

#define NWORKERS	  3
#define NFORKS		  6
#define CHILD_EVENTS	  100
#define MAX_WORKER_EVENTS 200000 /* bounds the parent's trace */
#define MAIN_TAG	  -1	 /* "t" of the main thread's records */

/* ---- field helpers ---- */

static const pl_value *field(const struct pl_record *rec, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < rec->nfields; i++)
		if (rec->fields[i].key_len == kl && memcmp(rec->fields[i].key, key, kl) == 0)
			return &rec->fields[i].value;
	return NULL;
}

static int64_t int_field(const struct pl_record *rec, const char *key, int64_t dflt)
{
	const pl_value *v = field(rec, key);
	if (!v)
		return dflt;
	return v->type == PL_VALUE_UINT ? (int64_t)v->v.u : v->v.i;
}

/* ---- workers ---- */

struct shared {
	struct pl_writer *w;
	int stop;		 /* atomic */
	int64_t count[NWORKERS]; /* atomic: events recorded by each worker */
	int64_t flushes;	 /* atomic: flushes done by the flushing worker */
	int flush_errors;	 /* atomic */
};

struct worker {
	struct shared *sh;
	int index;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct shared *sh = wk->sh;
	int64_t i = 0;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) && i < MAX_WORKER_EVENTS) {
		pl_message(sh->w, NULL, PL_NAME("tick"),
			   (struct pl_field[]){PL_F_INT("t", wk->index), PL_F_INT("i", i)}, 2);
		__atomic_store_n(&sh->count[wk->index], ++i, __ATOMIC_RELEASE);
		if (i % 64 == 0) {
			struct timespec ts = {0, 50000};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static void *flusher_worker(void *arg)
{
	struct shared *sh = arg;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		if (pl_writer_flush(sh->w) != 0)
			__atomic_add_fetch(&sh->flush_errors, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sh->flushes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Wait until every worker has recorded @n more events than in @base. */
static void wait_progress(struct shared *sh, const int64_t *base, int64_t n)
{
	for (int k = 0; k < NWORKERS; k++) {
		while (__atomic_load_n(&sh->count[k], __ATOMIC_ACQUIRE) < base[k] + n &&
		       __atomic_load_n(&sh->count[k], __ATOMIC_ACQUIRE) < MAX_WORKER_EVENTS) {
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
	}
}

/* ---- the child ---- */

enum {
	CHILD_OK = 0,
	CHILD_PATH = 10,
	CHILD_FLUSH,
	CHILD_STATS,
	CHILD_CLOSE,
	CHILD_RECORDED,
};

static const char *child_what(int code)
{
	switch (code) {
	case CHILD_PATH:
		return "pl_writer_path() does not name the child's file";
	case CHILD_FLUSH:
		return "pl_writer_flush() returned the wrong status";
	case CHILD_STATS:
		return "the child's stats are wrong";
	case CHILD_CLOSE:
		return "pl_writer_close() failed";
	case CHILD_RECORDED:
		return "a stopped writer recorded events";
	default:
		return "unknown";
	}
}

/* Record CHILD_EVENTS messages tagged with @k, then check what the writer says. */
static int child_main(struct pl_writer *w, int k, bool own_file, const char *tmpl_dir)
{
	for (int i = 0; i < CHILD_EVENTS; i++)
		pl_message(w, NULL, PL_NAME("child_tick"),
			   (struct pl_field[]){PL_F_INT("child", k), PL_F_INT("i", i)}, 2);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	if (own_file) {
		char want[512];
		snprintf(want, sizeof(want), "%s/trace-%ld.pl", tmpl_dir, (long)getpid());
		const char *p = pl_writer_path(w);
		if (!p || strcmp(p, want) != 0)
			return CHILD_PATH;
		if (pl_writer_flush(w) != 0)
			return CHILD_FLUSH;
		/* The child's file counts the child's events only. */
		if (st.events != CHILD_EVENTS || st.dropped_full + st.dropped_no_buffer != 0)
			return CHILD_STATS;
		if (pl_writer_close(w) != 0)
			return CHILD_CLOSE;
	} else {
		if (st.events != 0)
			return CHILD_RECORDED;
		if (pl_writer_flush(w) != -PL_ECLOSED)
			return CHILD_FLUSH;
		int ret = pl_writer_close(w);
		if (ret != 0 && ret != -PL_ECLOSED)
			return CHILD_CLOSE;
	}
	return CHILD_OK;
}

static pid_t fork_child(struct pl_writer *w, int k, bool own_file, const char *dir)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(15); /* a deadlocked child is killed by SIGALRM, and the test fails */
		_exit(child_main(w, k, own_file, dir));
	}
	return pid;
}

/* Wait for the child; returns 0, or fills @why and returns -1. */
static int wait_child(pid_t pid, char *why, size_t len)
{
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		snprintf(why, len, "waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFSIGNALED(status)) {
		snprintf(why, len, "child %ld killed by signal %d (%s)%s", (long)pid,
			 WTERMSIG(status), strsignal(WTERMSIG(status)),
			 WTERMSIG(status) == SIGALRM ? ": deadlocked after fork" : "");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != CHILD_OK) {
		snprintf(why, len, "child %ld: %s (exit %d)", (long)pid,
			 child_what(WEXITSTATUS(status)), WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

/* ---- reading back ---- */

/* The parent's file: every worker's i = 0..count-1 in order, the main thread's too. */
struct parent_check {
	int64_t next[NWORKERS];
	int64_t main_next;
	uint64_t stats_events, nstats, dropped, other;
};

static void read_parent(const char *path, struct parent_check *c, uint64_t *prefix)
{
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	memset(c, 0, sizeof(*c));
	int ret = pl_reader_open(path, &r);
	if (ret == 0) {
		*prefix = pl_reader_header(r)->task_prefix;
		assert_int_equal(pl_reader_header(r)->pid, getpid());
		while ((ret = pl_reader_next(r, &rec)) == 0) {
			if (rec.kind == PL_REC_STATS) {
				c->nstats++;
				c->stats_events = (uint64_t)int_field(&rec, "events", -1);
				continue;
			}
			if (rec.kind == PL_REC_DROPPED) {
				c->dropped += rec.count;
				continue;
			}
			if (rec.kind != PL_REC_MESSAGE) {
				if (rec.kind != PL_REC_THREAD)
					c->other++;
				continue;
			}
			assert_int_equal(rec.task_prefix, *prefix);
			if (field(&rec, "child"))
				fail_msg("%s: a child's record in the parent's file", path);
			int64_t t = int_field(&rec, "t", -2), i = int_field(&rec, "i", -2);
			int64_t *next = NULL;
			if (t == MAIN_TAG)
				next = &c->main_next;
			else if (t >= 0 && t < NWORKERS)
				next = &c->next[t];
			if (!next)
				fail_msg("%s: message with t=%" PRId64, path, t);
			if (i != *next)
				fail_msg("%s: t=%" PRId64 " i=%" PRId64 ", expected %" PRId64, path,
					 t, i, *next);
			(*next)++;
		}
	}
	if (ret != PL_END) {
		const struct pl_reader_error *e = pl_reader_error(r);
		fail_msg("%s: %s at %" PRIu64 ": %s", path, pl_strerror(ret), e->offset, e->reason);
	}
	pl_reader_close(r);
}

/* A child's file: its pid, its own prefix, its CHILD_EVENTS messages only. */
static void read_child(const char *path, pid_t pid, int k, uint64_t *prefix)
{
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	int64_t next = 0;
	uint64_t nstats = 0, stats_events = 0;
	int ret = pl_reader_open(path, &r);
	if (ret == 0) {
		const struct pl_trace_header *h = pl_reader_header(r);
		assert_int_equal(h->pid, pid);
		*prefix = h->task_prefix;
		while ((ret = pl_reader_next(r, &rec)) == 0) {
			switch (rec.kind) {
			case PL_REC_THREAD:
				/* The child's only thread is its main thread: tid == pid. */
				assert_int_equal(rec.tid, (uint32_t)pid);
				break;
			case PL_REC_MESSAGE:
				if (strcmp(rec.type, "child_tick") != 0)
					fail_msg("%s: a %s record in child %d's file", path,
						 rec.type, k);
				assert_int_equal(int_field(&rec, "child", -1), k);
				assert_int_equal(int_field(&rec, "i", -1), next);
				assert_int_equal(rec.task_prefix, *prefix);
				assert_int_equal(rec.tid, (uint32_t)pid);
				next++;
				break;
			case PL_REC_STATS:
				nstats++;
				stats_events = (uint64_t)int_field(&rec, "events", -1);
				break;
			default:
				fail_msg("%s: record kind %d in child %d's file", path, rec.kind,
					 k);
			}
		}
	}
	if (ret != PL_END) {
		const struct pl_reader_error *e = pl_reader_error(r);
		fail_msg("%s: %s at %" PRIu64 ": %s", path, pl_strerror(ret), e->offset, e->reason);
	}
	pl_reader_close(r);
	assert_int_equal(next, CHILD_EVENTS);
	assert_int_equal(nstats, 1);
	assert_int_equal(stats_events, CHILD_EVENTS);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- the scenario ---- */

static void set_block(struct pl_writer_options *o)
{
	o->full_policy = PL_FULL_BLOCK;
	o->flush_interval_ms = 10;
}

static void run(bool with_pid, bool flushing_worker)
{
	char *dir = th_tmpdir();
	char *tmpl = th_path(dir, with_pid ? "trace-{pid}.pl" : "trace.pl");
	/* Static: if a check fails, workers still running never see a dead stack frame. */
	static struct shared sh;
	memset(&sh, 0, sizeof(sh));
	sh.w = th_open(tmpl, set_block);
	char *parent_path = strdup(pl_writer_path(sh.w));
	assert_non_null(parent_path);
	if (with_pid) {
		char want[64];
		snprintf(want, sizeof(want), "trace-%ld.pl", (long)getpid());
		assert_non_null(strstr(parent_path, want));
	}

	struct worker wk[NWORKERS];
	pthread_t tids[NWORKERS], ftid;
	for (int k = 0; k < NWORKERS; k++) {
		wk[k] = (struct worker){&sh, k};
		assert_int_equal(pthread_create(&tids[k], NULL, worker_main, &wk[k]), 0);
	}
	if (flushing_worker)
		assert_int_equal(pthread_create(&ftid, NULL, flusher_worker, &sh), 0);

	pid_t pids[NFORKS];
	int64_t main_i = 0, base[NWORKERS] = {0};
	char why[256] = "";
	int failed = 0;
	for (int f = 0; f < NFORKS; f++) {
		/* Fork while every worker is busy and the main thread has a ring of its own. */
		wait_progress(&sh, base, 500);
		for (int k = 0; k < NWORKERS; k++)
			base[k] = __atomic_load_n(&sh.count[k], __ATOMIC_ACQUIRE);
		for (int j = 0; j < 10; j++, main_i++) {
			struct pl_field fl[] = {PL_F_INT("t", MAIN_TAG), PL_F_INT("i", main_i)};
			pl_message(sh.w, NULL, PL_NAME("tick"), fl, 2);
		}
		pids[f] = fork_child(sh.w, f, with_pid, dir);
		if ((failed = wait_child(pids[f], why, sizeof(why))) < 0)
			break;
		/* The parent's writer goes on. */
		if ((failed = pl_writer_flush(sh.w)) < 0) {
			snprintf(why, sizeof(why), "parent flush: %s", pl_strerror(failed));
			break;
		}
	}

	/* Stop the threads before any failure is reported. */
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < NWORKERS; k++)
		pthread_join(tids[k], NULL);
	if (flushing_worker)
		pthread_join(ftid, NULL);
	if (failed)
		fail_msg("%s", why);
	if (flushing_worker) {
		print_message("flushing worker: %" PRId64 " flushes\n", sh.flushes);
		assert_int_equal(sh.flush_errors, 0);
	}
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(sh.w, &st);
	assert_int_equal(pl_writer_close(sh.w), 0);

	int64_t total = main_i;
	for (int k = 0; k < NWORKERS; k++)
		total += sh.count[k];
	print_message("parent: %" PRId64 " events (stats %" PRIu64 ")\n", total, st.events);
	assert_int_equal(st.events, (uint64_t)total);

	struct parent_check pc;
	uint64_t parent_prefix = 0;
	read_parent(parent_path, &pc, &parent_prefix);
	for (int k = 0; k < NWORKERS; k++)
		assert_int_equal(pc.next[k], sh.count[k]);
	assert_int_equal(pc.main_next, main_i);
	assert_int_equal(pc.nstats, 1);
	assert_int_equal(pc.stats_events, (uint64_t)total);
	assert_int_equal(pc.dropped + pc.other, 0);

	/* The parent's file, and one per child if the path has "{pid}". */
	assert_int_equal(count_files(dir), with_pid ? 1 + NFORKS : 1);
	uint64_t prefixes[NFORKS];
	for (int f = 0; f < NFORKS; f++) {
		char name[64];
		snprintf(name, sizeof(name), "trace-%ld.pl", (long)pids[f]);
		char *cp = th_path(dir, name);
		if (with_pid) {
			read_child(cp, pids[f], f, &prefixes[f]);
			assert_true(prefixes[f] != parent_prefix);
			for (int g = 0; g < f; g++)
				assert_true(prefixes[f] != prefixes[g]);
		} else {
			/* No file of the child's anywhere. */
			assert_int_equal(access(cp, F_OK), -1);
		}
		free(cp);
	}
	free(parent_path);
	free(tmpl);
	th_rmdir(dir);
}

static void test_fork_pid_path(void **state)
{
	(void)state;
	run(true, false);
}

static void test_fork_plain_path(void **state)
{
	(void)state;
	run(false, false);
}

static void test_fork_while_flushing(void **state)
{
	(void)state;
	run(true, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fork_pid_path),
	    cmocka_unit_test(test_fork_plain_path),
	    cmocka_unit_test(test_fork_while_flushing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
