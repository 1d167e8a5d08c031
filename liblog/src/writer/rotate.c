/* SPDX-License-Identifier: MIT */
/* rotate.c - the writer's files: their names, moving to the next one (rotation) and
 * deleting the oldest (retention). Flusher thread only, at frame boundaries, so that every
 * file is complete on its own: header, names, thread names, and a closing STATS record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <perflog/status.h>
#include <perflog/writer.h>

#include "../common/taskid.h"
#include "writer_int.h"

/* ---- names --------------------------------------------------------------------------- */

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (!b->p)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			free(b->p);
			b->p = NULL;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* Where "{n}" goes when a rotating template has none: before the extension of the file
 * name ("trace.zst" -> "trace.{n}.zst"), or at the end. */
static size_t seq_slot(const char *tmpl)
{
	const char *base = strrchr(tmpl, '/');
	base = base ? base + 1 : tmpl;
	const char *dot = strrchr(base, '.');
	return dot && dot != base ? (size_t)(dot - tmpl) : strlen(tmpl);
}

char *pl_path_expand(const struct pl_writer *w, uint32_t seq, int64_t wall_ns)
{
	const char *tmpl = w->path_template;
	char pid[24], num[16], when[32] = "";
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(num, sizeof(num), "%06u", seq);
	time_t secs = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	if (gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	bool add_seq = w->rotating && !strstr(tmpl, "{n}");
	size_t slot = add_seq ? seq_slot(tmpl) : SIZE_MAX;
	struct buf b = {malloc(64), 0, 64};
	if (b.p)
		b.p[0] = '\0';
	for (size_t i = 0;; i++) {
		if (i == slot) {
			put(&b, ".", 1);
			put(&b, num, strlen(num));
		}
		if (!tmpl[i])
			break;
		if (strncmp(tmpl + i, "{pid}", 5) == 0) {
			put(&b, pid, strlen(pid));
			i += 4;
		} else if (strncmp(tmpl + i, "{n}", 3) == 0) {
			put(&b, num, strlen(num));
			i += 2;
		} else if (strncmp(tmpl + i, "{time}", 6) == 0) {
			put(&b, when, strlen(when));
			i += 5;
		} else {
			put(&b, tmpl + i, 1);
		}
	}
	return b.p;
}

/* ---- retention ----------------------------------------------------------------------- */

/* Delete the oldest closed file, if it is still the file this writer closed (never a file
 * put at its name since: retention deletes nothing that is not this writer's). */
static void delete_oldest(struct pl_writer *w)
{
	struct pl_file_rec *f = &w->closed[0];
	struct stat st;
	if (lstat(f->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == f->dev &&
	    st.st_ino == f->ino && unlink(f->path) == 0)
		store_relaxed(&w->files_deleted, w->files_deleted + 1);
	free(f->path);
	memmove(w->closed, w->closed + 1, (w->nclosed - 1) * sizeof(*w->closed));
	w->nclosed--;
}

/* Closed files are deleted, oldest first, until at most keep_files remain and they fit
 * keep_bytes with room for the new file to grow to rotate_bytes: so the writer's files
 * stay within keep_bytes at every moment, but for the last frame of a file, which may take
 * it past rotate_bytes. */
static void apply_retention(struct pl_writer *w)
{
	while (w->nclosed && w->opts.keep_files && w->nclosed > w->opts.keep_files)
		delete_oldest(w);
	if (!w->opts.keep_bytes)
		return;
	for (;;) {
		uint64_t total = w->sink.good_off > w->opts.rotate_bytes ? w->sink.good_off
									 : w->opts.rotate_bytes;
		for (size_t i = 0; i < w->nclosed; i++)
			total += w->closed[i].bytes;
		if (!w->nclosed || total <= w->opts.keep_bytes)
			return;
		delete_oldest(w);
	}
}

static void remember(struct pl_writer *w, const char *path, const struct stat *st, uint64_t bytes)
{
	if (w->nclosed == w->closed_cap) {
		size_t cap = w->closed_cap ? 2 * w->closed_cap : 16;
		struct pl_file_rec *c = realloc(w->closed, cap * sizeof(*c));
		if (!c)
			return; /* not deleted later: retention keeps too much, never too little */
		w->closed = c;
		w->closed_cap = cap;
	}
	char *copy = strdup(path);
	if (!copy)
		return;
	w->closed[w->nclosed++] = (struct pl_file_rec){copy, st->st_dev, st->st_ino, bytes};
}

void pl_rotate_forget(struct pl_writer *w)
{
	for (size_t i = 0; i < w->nclosed; i++)
		free(w->closed[i].path);
	free(w->closed);
	w->closed = NULL;
	w->nclosed = w->closed_cap = 0;
	w->file_seq = 0;
}

/* ---- rotation ------------------------------------------------------------------------ */

bool pl_rotate_due(const struct pl_writer *w)
{
	if (!w->rotating)
		return false;
	if (w->opts.rotate_bytes && w->sink.good_off >= w->opts.rotate_bytes)
		return true;
	return w->opts.rotate_seconds &&
	       pl_mono_ns() - w->file_opened_ns >= (uint64_t)w->opts.rotate_seconds * 1000000000u;
}

/* Tell the user's diagnostic callback (the host is never told otherwise). */
static void say(struct pl_writer *w, const char *what, const char *path, int err)
{
	if (!w->opts.log_fn)
		return;
	char msg[512];
	snprintf(msg, sizeof(msg), "perflog: %s %s: %s (recording goes on in %s)", what, path,
		 strerror(err), w->path);
	w->opts.log_fn(w->opts.log_userdata, 4, msg);
}

void pl_rotate_maybe(struct pl_writer *w)
{
	/* Only between frames with nothing buffered: starting a file forgets the buffers. */
	if (!pl_rotate_due(w) || !w->sink.regular || w->enc.frame_open || pl_enc_pending(&w->enc))
		return;
	/* The next file first: if it cannot be made, the current one goes on (nothing is
	 * lost) and the next cycle tries again. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t wall = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	char *next = pl_path_expand(w, w->file_seq + 1, wall);
	int fd = next ? pl_output_open(next, w->opts.file_mode) : -PL_ENOMEM;
	if (fd < 0) {
		store_relaxed(&w->rotate_errors, w->rotate_errors + 1);
		say(w, "cannot create the next trace file", next ? next : "(no memory)",
		    next ? errno : ENOMEM);
		free(next);
		return;
	}
	/* Close the current file: a frame with the closing STATS record. */
	pl_flusher_close_file(w);
	struct stat st;
	bool known = fstat(w->sink.fd, &st) == 0;
	uint64_t bytes;
	if (pl_sink_switch(&w->sink, fd, &bytes) < 0) { /* cannot happen: a new file */
		close(fd);
		free(next);
		return;
	}
	if (known)
		remember(w, w->path, &st, bytes);
	/* The next one: complete on its own (magic, header, every name, thread names). */
	char **old = realloc(w->old_paths, (w->nold_paths + 1) * sizeof(*old));
	if (old) {
		old[w->nold_paths++] = w->path;
		w->old_paths = old;
	} /* else: leaked, not freed under a pl_writer_path() caller */
	store_release(&w->path, next);
	w->file_seq++;
	w->file_opened_ns = pl_mono_ns();
	pl_encoder_reset_file(&w->enc, pl_task_prefix());
	w->enc.file_wall = wall;
	w->enc.file_seq = w->file_seq;
	w->header_pending = true;
	pl_flusher_new_file(w);
	store_relaxed(&w->rotations, w->rotations + 1);
	apply_retention(w);
}
