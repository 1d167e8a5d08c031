/* SPDX-License-Identifier: MIT */
/* flusher.c - the writer's background thread: drains every ring, encodes, compresses
 * and writes whole frames at the flush interval, when a ring fills, on request and at
 * close. Every write to the file happens here (pl_writer_open() only creates it), with
 * every signal blocked, so that a SIGXFSZ from an exceeded RLIMIT_FSIZE becomes an EFBIG
 * write error instead of killing the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <perflog/status.h>

#include "../common/config.h"
#include "../common/format.h"
#include "../common/taskid.h"
#include "thread.h"
#include "writer_int.h"

/* Open a frame (with the header if the file needs one) and remember what drop counts
 * were reported before it, to report them again if it is lost. */
static void open_frame(struct pl_writer *w)
{
	if (w->enc.frame_open)
		return;
	pl_enc_frame_open(&w->enc, &w->clock,
			  w->header_pending ? (const char *const *)w->argv : NULL);
	w->header_pending = false;
	for (struct pl_ring *tb = load_acquire(&w->rings); tb; tb = tb->next) {
		tb->frame_full = tb->reported_full;
		tb->frame_oversize = tb->reported_oversize;
	}
	w->frame_lost = w->reported_lost;
	w->frame_no_buffer = w->reported_no_buffer;
}

/* Feed names and records to the compressor, in as many frames as the names need. */
static void commit(struct pl_writer *w)
{
	bool more;
	int ret;
	while ((ret = pl_enc_commit(&w->enc, &more)) == 0 && more) {
		pl_flusher_end_frame(w);
		open_frame(w);
	}
	if (ret == 0) /* the records drained so far are in the frame: their ENDs count */
		for (struct pl_ring *tb = load_acquire(&w->rings); tb; tb = tb->next)
			pl_openset_settle(&tb->open, w->sink.good_off);
}

/* Encode the committed events of @tb (up to what was committed when we started). */
static void drain_ring(struct pl_writer *w, struct pl_ring *tb)
{
	struct pl_encoder *e = &w->enc;
	if (!tb->info_written) {
		pl_enc_thread(e, tb->serial, tb->tid, tb->name, strlen(tb->name));
		tb->info_written = true;
	}
	uint64_t limit = pl_ring_used(tb);
	while (limit) {
		uint64_t len;
		const uint8_t *p = pl_ring_peek(tb, &len);
		len = PL_MIN(len, limit);
		if (!len)
			break; /* cannot happen: @limit bytes were committed */
		uint64_t off =
		    pl_enc_run(e, &w->clock, tb->serial, tb->tid, p, len, &tb->last_ts, &tb->open);
		pl_ring_consume(tb, off);
		limit -= off;
		if (pl_enc_frame_full(e)) {
			/* Keep frames bounded: the reader refuses oversized ones. Everything
			 * staged so far is in the frame: a file may end here (rotation). */
			commit(w);
			pl_flusher_end_frame(w);
			pl_rotate_maybe(w);
			open_frame(w);
			if (!tb->info_written) { /* the frame was lost: describe the thread again */
				pl_enc_thread(e, tb->serial, tb->tid, tb->name, strlen(tb->name));
				tb->info_written = true;
			}
		}
	}
	store_relaxed(&tb->wake_armed, 0);
	if (pl_ring_used(tb) == 0)
		pl_ring_trim(tb, 0); /* idle: the spares of its last burst go back too */
	else if (pl_ring_caught_up(tb))
		pl_ring_trim(tb, 1); /* the burst is over: one spare for the next growth */
	/* Segments the ring left behind go back to the writer's budget. */
	if (tb->freed) {
		pl_writer_budget_give(w, tb->freed);
		tb->freed = 0;
	}
	uint64_t full = load_relaxed(&tb->dropped_full);
	if (full != tb->reported_full) {
		pl_enc_dropped(e, &w->clock, tb->serial, full - tb->reported_full, PL_DROP_FULL);
		tb->reported_full = full;
	}
	uint64_t big = load_relaxed(&tb->dropped_oversize);
	if (big != tb->reported_oversize) {
		pl_enc_dropped(e, &w->clock, tb->serial, big - tb->reported_oversize,
			       PL_DROP_OVERSIZE);
		tb->reported_oversize = big;
	}
}

/* End the open frame and write it. Returns 0 or -PL_EIO. */
int pl_flusher_end_frame(struct pl_writer *w)
{
	struct pl_encoder *e = &w->enc;
	if (!e->frame_open)
		return 0;
	uint64_t events = e->frame_events;
	uint64_t oldest = UINT64_MAX;
	for (struct pl_ring *tb = load_acquire(&w->rings); tb; tb = tb->next) {
		uint64_t t = pl_openset_oldest(&tb->open, w->sink.good_off);
		if (t < oldest)
			oldest = t;
	}
	e->open_off = oldest;
	if (pl_enc_frame_end(e, &w->clock) == 0 &&
	    pl_sink_write(&w->sink, e->out, e->out_len) == 0) {
		pl_enc_frame_clear(e);
		return 0;
	}
	/* The frame is lost: count its events, and define and report again what it
	 * defined and reported. The cycle reports the loss (a flush must not succeed). */
	w->cycle_err = -PL_EIO;
	w->lost_events += events;
	if (pl_enc_frame_lost(e))
		w->header_pending = true;
	for (struct pl_ring *tb = load_acquire(&w->rings); tb; tb = tb->next) {
		tb->info_written = false;
		tb->reported_full = tb->frame_full;
		tb->reported_oversize = tb->frame_oversize;
	}
	w->reported_lost = w->frame_lost;
	w->reported_no_buffer = w->frame_no_buffer;
	/* Tell the user's diagnostic callback once per kind of error, not once per frame. */
	int err = load_relaxed(&w->sink.last_errno);
	if (w->opts.log_fn && err != w->logged_errno) {
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "perflog: writing %s failed: %s (events are counted as "
			 "dropped; recording goes on)",
			 w->path, strerror(err));
		w->opts.log_fn(w->opts.log_userdata, 4, msg);
		w->logged_errno = err;
	}
	return -PL_EIO;
}

static void writer_drops(struct pl_writer *w)
{
	struct pl_encoder *e = &w->enc;
	uint64_t nb = load_relaxed(&w->dropped_no_buffer);
	if (nb != w->reported_no_buffer) {
		pl_enc_dropped(e, &w->clock, 0, nb - w->reported_no_buffer, PL_DROP_NO_BUFFER);
		w->reported_no_buffer = nb;
	}
	if (w->lost_events != w->reported_lost) {
		pl_enc_dropped(e, &w->clock, 0, w->lost_events - w->reported_lost, PL_DROP_WRITE);
		w->reported_lost = w->lost_events;
	}
}

static void final_stats(struct pl_writer *w)
{
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	static const char *const keys[] = {
	    "events",	     "dropped_full", "dropped_oversize", "dropped_no_buffer",
	    "dropped_write", "blocked",	     "frames",		 "bytes_raw",
	    "bytes_written", "write_errors", "ring_grown",	 "names_refused"};
	const uint64_t vals[] = {
	    st.events,	      st.dropped_full, st.dropped_oversize, st.dropped_no_buffer,
	    st.dropped_write, st.blocked,      st.frames + 1,	    st.bytes_raw,
	    st.bytes_written, st.write_errors, st.ring_grown,	    st.names_refused};
	_Static_assert(ARRAY_SIZE(keys) == ARRAY_SIZE(vals), "one value per key");
	pl_enc_stats(&w->enc, keys, vals, ARRAY_SIZE(keys));
}

void pl_flusher_close_file(struct pl_writer *w)
{
	open_frame(w);
	final_stats(w);
	commit(w);
	pl_flusher_end_frame(w);
}

void pl_flusher_new_file(struct pl_writer *w)
{
	for (struct pl_ring *tb = load_acquire(&w->rings); tb; tb = tb->next) {
		tb->info_written = false; /* describe every thread again in the new file */
		pl_openset_new_file(&tb->open);
	}
}

/* Whether the open frame would only say that the writer is alive: no record in it but
 * its opening CLOCK, none held back for it, no action open and no rotation due. Its
 * clock checkpoint bounds how long a call hung at a crash had run, so with any action
 * open (as many STARTs as ENDs drained, over every ring, reclaimed ones too: an END
 * recorded by another thread counts; a dropped one keeps the writer from being quiet
 * again) a frame still
 * ends every interval; with none, nothing but the time the process was last seen
 * depends on it. Called after the cycle's commit, with what it fed counted. */
static bool quiet(struct pl_writer *w)
{
	const struct pl_encoder *e = &w->enc;
	if (e->frame_had_magic || e->ix_flags || e->ix_events || e->raw.size || pl_rotate_due(w))
		return false;
	uint64_t starts = w->retired_starts, ends = w->retired_ends;
	for (struct pl_ring *tb = load_acquire(&w->rings); tb; tb = tb->next) {
		starts += tb->open.starts;
		ends += tb->open.ends;
	}
	return starts == ends;
}

/* One cycle. @force ends the frame whatever its age (flush request, close). */
static int cycle(struct pl_writer *w, bool force, bool final)
{
	struct pl_encoder *e = &w->enc;
	pthread_mutex_lock(&w->cycle_lock);
	w->cycle_err = 0;
	pl_clock_conv_refine(&w->clock);
	open_frame(w);
	for (struct pl_ring *tb = load_acquire(&w->rings); tb; tb = tb->next)
		if (tb->live)
			drain_ring(w, tb);
	writer_drops(w);
	if (final)
		final_stats(w);
	commit(w);
	uint64_t age = pl_mono_ns() - e->frame_opened_ns;
	uint64_t interval = (uint64_t)w->opts.flush_interval_ms * 1000000u;
	uint64_t due = quiet(w) ? interval * PL_QUIET_INTERVALS : interval / 2;
	if (force || age >= due || e->frame_raw >= PL_FRAME_TARGET_BYTES)
		pl_flusher_end_frame(w);
	if (!final && !e->frame_open)
		pl_rotate_maybe(w); /* at a frame boundary, nothing held back: a file may end */
	if (!final)
		pl_rings_reclaim(w);
	int ret = w->cycle_err;
	pthread_mutex_unlock(&w->cycle_lock);
	return ret;
}

static void *flusher_main(void *arg)
{
	struct pl_writer *w = arg;
	uint64_t half = (uint64_t)w->opts.flush_interval_ms * 500000u;
	if (half < 1000000u)
		half = 1000000u;
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t t = (uint64_t)ts.tv_nsec + half;
		ts.tv_sec += (time_t)(t / 1000000000u);
		ts.tv_nsec = (long)(t % 1000000000u);
		while (sem_clockwait(&w->wake, CLOCK_MONOTONIC, &ts) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&w->ctl_lock);
		uint64_t req = w->flush_req;
		bool closing = w->closing;
		pthread_mutex_unlock(&w->ctl_lock);

		int ret = cycle(w, req != w->flush_done || closing, closing);

		pthread_mutex_lock(&w->ctl_lock);
		if (req != w->flush_done) {
			w->flush_done = req;
			w->flush_status = ret;
		}
		if (closing)
			w->finished = true;
		pthread_cond_broadcast(&w->ctl_cond);
		pthread_mutex_unlock(&w->ctl_lock);
		if (closing)
			return NULL;
	}
}

int pl_flusher_start(struct pl_writer *w)
{
	/* Block the asynchronous signals in the flusher: the host's handlers must run on
	 * its own threads, and SIGXFSZ must turn into EFBIG here. Not the synchronous ones
	 * (a fault in this thread): blocked, the kernel would kill the process without
	 * running the host's crash handlers (faulthandler, a sanitizer's report). */
	sigset_t all, old;
	sigfillset(&all);
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&w->flusher, NULL, flusher_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -PL_ENOMEM;
	w->flusher_running = true;
	return 0;
}

int pl_flusher_request(struct pl_writer *w, bool final)
{
	pthread_mutex_lock(&w->ctl_lock);
	if (final)
		w->closing = true;
	uint64_t want = ++w->flush_req;
	sem_post(&w->wake);
	while (final ? !w->finished : w->flush_done < want)
		pthread_cond_wait(&w->ctl_cond, &w->ctl_lock);
	int ret = w->flush_status;
	pthread_mutex_unlock(&w->ctl_lock);
	return ret;
}

void pl_flusher_stop(struct pl_writer *w)
{
	if (!w->flusher_running)
		return;
	pl_flusher_request(w, true);
	pthread_join(w->flusher, NULL);
	w->flusher_running = false;
}
