/* SPDX-License-Identifier: MIT */
/* test_write_errors.c - the writer when the file cannot be written.
 *
 * - /dev/full (ENOSPC on every write): recording goes on, the error is reported by
 *   pl_writer_error(), the stats, pl_writer_flush() and pl_writer_close().
 * - RLIMIT_FSIZE in a child process: the write fails with EFBIG instead of SIGXFSZ
 *   killing the process, and the file keeps only whole frames, so it reads to PL_END.
 *   Once the limit is raised, recording resumes into the same file, which stays valid.
 * Children report through their exit status; the parent reads their files back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

#define FSIZE_LIMIT (64u << 10)
#define BATCH	    40	 /* messages per frame */
#define BLOB	    256u /* incompressible bytes per message: ~10 KiB per frame */
#define MAX_BATCHES 100	 /* 1 MiB: far past the limit */

static void set_manual_frames(struct pl_writer_options *o)
{
	o->flush_interval_ms = 3600u * 1000u;
}

/* The diagnostic callback: counts calls and keeps the last message. */
struct log_seen {
	int calls, priority;
	char msg[512];
};

static void log_cb(void *ud, int priority, const char *msg)
{
	struct log_seen *seen = ud;
	seen->calls++;
	seen->priority = priority;
	snprintf(seen->msg, sizeof(seen->msg), "%s", msg);
}

static void test_dev_full(void **state)
{
	(void)state;
	struct pl_writer_options o;
	struct pl_writer *w = NULL;
	struct log_seen seen = {0};
	pl_writer_options_init(&o);
	o.path = "/dev/full";
	o.log_fn = log_cb;
	o.log_userdata = &seen;
	int ret = pl_writer_open(&o, &w);
	print_message("pl_writer_open(/dev/full): %d (%s)\n", ret, pl_strerror(ret));
	if (ret < 0) {
		/* Failing cleanly is allowed: a status, no writer. */
		assert_true(ret == -PL_EIO);
		assert_null(w);
		return;
	}
	assert_non_null(w);
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 2000; i++) {
			pl_action a;
			pl_action_begin(&a, w, NULL, PL_NAME("work"),
					(struct pl_field[]){PL_F_INT("i", i)}, 1);
			pl_message(w, &a, PL_NAME("note"), NULL, 0);
			pl_action_end(&a, NULL, 0);
		}
		assert_int_equal(pl_writer_flush(w), -PL_EIO);
	}
	assert_int_equal(pl_writer_error(w), ENOSPC);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	print_message("events %" PRIu64 " write_errors %" PRIu64 " dropped_write %" PRIu64
		      " frames %" PRIu64 "\n",
		      st.events, st.write_errors, st.dropped_write, st.frames);
	assert_int_equal(st.events, 5 * 2000 * 3);
	assert_true(st.write_errors >= 5);
	assert_int_equal(st.last_errno, ENOSPC);
	/* Every event went into a frame that was lost. */
	assert_int_equal(st.dropped_write, st.events);
	assert_int_equal(st.frames, 0);
	assert_int_equal(st.bytes_written, 0);
	assert_int_equal(pl_writer_close(w), -PL_EIO);
	/* Told once (the same error every time), naming the file and the reason. */
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.priority, 4);
	assert_non_null(strstr(seen.msg, "/dev/full"));
	assert_non_null(strstr(seen.msg, strerror(ENOSPC)));
}

/* ---- RLIMIT_FSIZE, in a child ---- */

/* Exit codes of the child: which check failed. */
enum {
	CHILD_OK = 0,
	CHILD_RLIMIT = 10,
	CHILD_OPEN,
	CHILD_NEVER_FAILED,
	CHILD_ERRNO,
	CHILD_STATS,
	CHILD_FILE_SIZE,
	CHILD_FLUSH_AFTER,
	CHILD_CLOSE,
	CHILD_STILL_WRITING,
};

static const char *child_what(int code)
{
	switch (code) {
	case CHILD_RLIMIT:
		return "setrlimit failed";
	case CHILD_OPEN:
		return "pl_writer_open failed";
	case CHILD_NEVER_FAILED:
		return "no flush failed although the file passed the limit";
	case CHILD_ERRNO:
		return "pl_writer_error() is not EFBIG";
	case CHILD_STATS:
		return "stats do not show the failed write";
	case CHILD_FILE_SIZE:
		return "the file exceeds the limit";
	case CHILD_FLUSH_AFTER:
		return "flush failed after the limit was raised";
	case CHILD_CLOSE:
		return "pl_writer_close() did not return -PL_EIO";
	case CHILD_STILL_WRITING:
		return "a frame was written although the file is at the limit";
	default:
		return "unknown";
	}
}

static uint64_t rng_state = 0x243F6A8885A308D3ull; /* fixed: the data need only be random */

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* One frame: BATCH messages "seq" numbered from *seq, with incompressible blobs. */
static int record_frame(struct pl_writer *w, int64_t *seq, bool late_name)
{
	uint8_t blob[BLOB];
	for (int i = 0; i < BATCH; i++) {
		for (size_t k = 0; k < BLOB; k += 8) {
			uint64_t r = rng();
			memcpy(blob + k, &r, 8);
		}
		struct pl_field f[] = {PL_F_INT("seq", *seq), PL_F("blob", PL_V_BYTES(blob, BLOB))};
		if (late_name)
			pl_message(w, NULL, PL_NAME("late"), f, 2); /* first used here */
		else
			pl_message(w, NULL, PL_NAME("chunk"), f, 2);
		(*seq)++;
	}
	return pl_writer_flush(w);
}

/*
 * The child: record frames until a flush fails at the limit (never killed by SIGXFSZ),
 * check the error, then (if @resume) raise the limit and record more, and close.
 * Writes the number of messages it recorded, and where the failure began, to @info.
 */
static int child_main(const char *path, bool resume, int info_fd)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) < 0)
		return CHILD_RLIMIT;
	rlim_t hard = rl.rlim_max;
	rl.rlim_cur = FSIZE_LIMIT;
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return CHILD_RLIMIT;
	struct pl_writer_options o;
	struct pl_writer *w = NULL;
	pl_writer_options_init(&o);
	o.path = path;
	set_manual_frames(&o);
	if (pl_writer_open(&o, &w) < 0)
		return CHILD_OPEN;
	int64_t seq = 0, failed_at = -1;
	for (int b = 0; b < MAX_BATCHES; b++) {
		int64_t first = seq;
		if (record_frame(w, &seq, false) < 0) {
			failed_at = first;
			break;
		}
	}
	if (failed_at < 0)
		return CHILD_NEVER_FAILED;
	if (pl_writer_error(w) != EFBIG)
		return CHILD_ERRNO;
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	if (st.write_errors == 0 || st.last_errno != EFBIG || st.dropped_write < BATCH)
		return CHILD_STATS;
	struct stat sb;
	if (stat(path, &sb) < 0 || (uint64_t)sb.st_size > FSIZE_LIMIT)
		return CHILD_FILE_SIZE;
	int64_t late_from = -1;
	if (resume) {
		/* A name first used in a lost frame must still be defined in the file. */
		if (record_frame(w, &seq, true) == 0)
			return CHILD_STILL_WRITING; /* the file is still at the limit */
		rl.rlim_cur = hard;
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			return CHILD_RLIMIT;
		late_from = seq;
		for (int b = 0; b < 3; b++)
			if (record_frame(w, &seq, true) < 0)
				return CHILD_FLUSH_AFTER;
	}
	if (pl_writer_close(w) != -PL_EIO)
		return CHILD_CLOSE;
	int64_t info[3] = {seq, failed_at, late_from};
	if (write(info_fd, info, sizeof(info)) != (ssize_t)sizeof(info))
		return CHILD_OPEN;
	return CHILD_OK;
}

static void run_child(const char *path, bool resume, int64_t info[3])
{
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		alarm(20); /* a hang fails the test instead of blocking the runner */
		_exit(child_main(path, resume, pfd[1]));
	}
	close(pfd[1]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the child was killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)),
			 WTERMSIG(status) == SIGXFSZ ? ": SIGXFSZ reached the host" : "");
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != CHILD_OK)
		fail_msg("child: %s (exit %d)", child_what(WEXITSTATUS(status)),
			 WEXITSTATUS(status));
	assert_int_equal(read(pfd[0], info, 3 * sizeof(int64_t)), (ssize_t)(3 * sizeof(int64_t)));
	close(pfd[0]);
}

/* Message sequence numbers of @path, which must read to PL_END. */
struct seqs {
	int64_t *v;
	size_t n;
	uint64_t write_dropped; /* DROPPED "write_error" counts */
	uint64_t stats_dropped; /* STATS dropped_write */
	size_t nstats;
	size_t late;
};

static void read_seqs(const char *path, struct seqs *out)
{
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	memset(out, 0, sizeof(*out));
	out->v = malloc(MAX_BATCHES * BATCH * 2 * sizeof(int64_t));
	assert_non_null(out->v);
	int ret = pl_reader_open(path, &r);
	if (ret == 0) {
		while ((ret = pl_reader_next(r, &rec)) == 0) {
			if (rec.kind == PL_REC_DROPPED && strcmp(rec.name, "write_error") == 0)
				out->write_dropped += rec.count;
			if (rec.kind == PL_REC_STATS) {
				out->nstats++;
				for (size_t i = 0; i < rec.nfields; i++)
					if (rec.fields[i].key_len == 13 &&
					    memcmp(rec.fields[i].key, "dropped_write", 13) == 0)
						out->stats_dropped = rec.fields[i].value.v.u;
			}
			if (rec.kind != PL_REC_MESSAGE)
				continue;
			assert_true(rec.nfields >= 1);
			assert_int_equal(rec.fields[0].key_len, 3);
			assert_memory_equal(rec.fields[0].key, "seq", 3);
			assert_int_equal(rec.fields[0].value.type, PL_VALUE_INT);
			assert_true(out->n < MAX_BATCHES * BATCH * 2);
			out->v[out->n++] = rec.fields[0].value.v.i;
			if (strcmp(rec.type, "late") == 0)
				out->late++;
			else
				assert_string_equal(rec.type, "chunk");
		}
	}
	if (ret != PL_END) {
		const struct pl_reader_error *e = pl_reader_error(r);
		fail_msg("%s: %s at %" PRIu64 ": %s", path, pl_strerror(ret), e->offset, e->reason);
	}
	pl_reader_close(r);
}

static void test_fsize_limit(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "limited.pl");
	int64_t info[3];
	run_child(path, false, info);
	print_message("child recorded %" PRId64 " messages, writes failed from %" PRId64 "\n",
		      info[0], info[1]);

	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_true((uint64_t)sb.st_size <= FSIZE_LIMIT);
	struct seqs s;
	read_seqs(path, &s);
	/* Whole frames only: the messages before the first failed frame, in order. */
	print_message("file: %zu messages, %" PRIu64 " bytes\n", s.n, (uint64_t)sb.st_size);
	assert_true(s.n > 0);
	assert_int_equal(s.n, info[1]);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.v[i], (int64_t)i);
	free(s.v);
	free(path);
	th_rmdir(dir);
}

static void test_fsize_limit_then_resume(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	char *path = th_path(dir, "resumed.pl");
	int64_t info[3];
	run_child(path, true, info);
	print_message("child recorded %" PRId64 " messages, failed from %" PRId64
		      ", resumed at %" PRId64 "\n",
		      info[0], info[1], info[2]);

	struct seqs s;
	read_seqs(path, &s);
	/* Before the failure: all messages; then a gap (the lost frames, reported as
	 * DROPPED "write_error"); then every message recorded after the limit was raised. */
	size_t before = (size_t)info[1], after = (size_t)(info[0] - info[2]);
	print_message("file: %zu messages, %" PRIu64 " reported lost\n", s.n, s.write_dropped);
	assert_int_equal(s.n, before + after);
	for (size_t i = 0; i < before; i++)
		assert_int_equal(s.v[i], (int64_t)i);
	for (size_t i = 0; i < after; i++)
		assert_int_equal(s.v[before + i], info[2] + (int64_t)i);
	assert_int_equal(s.late, after);
	/* The final STATS record made it, and every lost message is accounted for by it
	 * and by the DROPPED records. */
	assert_int_equal(s.nstats, 1);
	assert_int_equal(s.stats_dropped, (uint64_t)(info[2] - info[1]));
	if (s.write_dropped != (uint64_t)(info[2] - info[1]))
		fail_msg("DROPPED write_error records count %" PRIu64 " lost events, %" PRId64
			 " were lost",
			 s.write_dropped, info[2] - info[1]);
	free(s.v);
	free(path);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dev_full),
	    cmocka_unit_test(test_fsize_limit),
	    cmocka_unit_test(test_fsize_limit_then_resume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
