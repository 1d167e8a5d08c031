/* SPDX-License-Identifier: MIT */
/* follow.h - trace files read while they are being written (`perfan top`,
 * `perfan timeline --follow`), as `tail -F` reads logs.
 *
 * Paths are files or directories. A directory is listed again at every poll, so the files
 * a rotating writer starts there are followed from their first record; a file is read
 * through liblog's follow mode (pl_reader_follow), which stops before a frame still being
 * written and reads it whole once it is. A file ends for the follower when its closing
 * STATS record is read (its writer closed it: stopped or rotated), when it is damaged
 * (a warning), or when it was deleted (retention) and everything in it was read. A file
 * that cannot be opened yet (created, its first frame not written) is tried again at the
 * next poll; one that is not a trace is skipped with a warning.
 *
 * Events come in each file's order (not merged across files: a live view aggregates, and
 * PF_FOLLOW_SORTED sorts what one poll read by wall time). The files present at the start
 * can be read from a time on (pf_follow_open's @since or @back_ns, by the frame index with
 * ancestors, so that the actions open then are seen); files that appear later are read
 * whole.
 *
 * Memory: one reader (~2 MiB of buffers) per file still being followed; a writer's
 * retention bounds how many there are. Per poll at most PF_FOLLOW_BUDGET events are read,
 * so a view is redrawn on time even when the files hold far more.
 */
#ifndef PERFAN_FOLLOW_H
#define PERFAN_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/fields.h"
#include "core/input.h"
#include "core/names.h"

/** Most events read per pf_follow_poll(). */
#define PF_FOLLOW_BUDGET (256u * 1024)

/* pf_follow_open() flags. */
enum {
	PF_FOLLOW_FIELDS = 1 << 0, /* events carry fields and exception text */
	PF_FOLLOW_SORTED = 1 << 1, /* each poll's events are delivered sorted by wall time */
};

/** One followed file. */
struct pf_follow_src {
	char *path;
	dev_t dev;
	ino_t ino;
	struct pl_reader *r; /* NULL: not opened yet, or ended (@ended) */
	bool ended;	     /* closed by its writer, damaged, deleted or not a trace */
	bool windowed;	     /* present at the start: read from @since on */
	int64_t pid;
	char *host;
	char **thread_names; /* by trace thread number */
	uint32_t nthreads;
	int64_t alive;	  /* its writer's last sign of life read: record or checkpoint */
	uint64_t records; /* records read */
	uint64_t dropped; /* events its writer lost (DROPPED records) */
};

struct pf_follow_ev; /* a copied event (PF_FOLLOW_SORTED) */

struct pf_follow {
	char **paths; /* as given */
	size_t npaths;
	struct pf_follow_src *src;
	size_t nsrc, cap;
	struct pf_names *names;
	unsigned flags;
	int64_t since;	  /* for the files present at the start; INT64_MIN: all */
	uint64_t back_ns; /* or: this long before their latest record */
	bool started;	  /* the first poll ran: new files are read whole */
	size_t next_src;  /* where the next poll starts reading: each file gets its turn */
	uint8_t fbuf[PF_FIELDS_MAX]; /* one event's packed fields */
	/* PF_FOLLOW_SORTED: the poll's events, copied. */
	struct pf_follow_ev *ev;
	size_t nev, cap_ev;
	uint8_t *bytes;
	size_t nbytes, cap_bytes;
};

typedef void (*pf_follow_fn)(void *userdata, const struct pf_event *ev);

/**
 * pf_follow_open() - follow @paths (files and directories; "-" is refused: a pipe cannot
 * be followed). Nothing is read until the first poll.
 * @since: files present at the first poll are read from this wall time on (with the
 *         STARTs of the actions then open); INT64_MIN reads them whole.
 * @back_ns: if not 0, @since is instead this long before the latest record of the files
 *         present at the first poll (by their index: for a live writer, about now).
 * Returns: 0, or -1 when a path is neither a file nor a directory (message printed), -2
 * when out of memory. pf_follow_close() must be called in every case.
 */
int pf_follow_open(struct pf_follow *f, char *const *paths, size_t npaths, struct pf_names *names,
		   unsigned flags, int64_t since, uint64_t back_ns);

/**
 * pf_follow_start() - find the files and open those present, setting their window;
 * @since then holds the window's start as resolved (INT64_MIN: none). pf_follow_poll()
 * calls it first if the caller did not. Returns: 0, or -2 when out of memory.
 */
int pf_follow_start(struct pf_follow *f);

/**
 * pf_follow_poll() - find new files, read what was appended to each, and call
 * @fn(@userdata, event) for every START, END and MESSAGE (views valid during the call).
 * Returns: 1 when the budget ran out (more is ready: poll again now), 0 when everything
 * written was read, -2 when out of memory.
 */
int pf_follow_poll(struct pf_follow *f, pf_follow_fn fn, void *userdata);

/** pf_follow_thread_name() - the name of @thread of file @src, or NULL. */
const char *pf_follow_thread_name(const struct pf_follow *f, uint32_t src, uint32_t thread);

/** pf_follow_alive() - the latest sign of life of any file's writer (wall), or INT64_MIN. */
int64_t pf_follow_alive(const struct pf_follow *f);

/** pf_follow_active() - how many files are still being followed (not ended). */
size_t pf_follow_active(const struct pf_follow *f);

/** pf_follow_has_dir() - whether a path given is a directory (new files may come). */
bool pf_follow_has_dir(const struct pf_follow *f);

/**
 * pf_follow_catch_signals() - make SIGINT and SIGTERM end a follow loop instead of the
 * process (pf_follow_interrupted()), so that it stops between two outputs. The flag is
 * perfan's one global of this kind: a signal handler has nowhere else to put it.
 */
void pf_follow_catch_signals(void);

/** pf_follow_interrupted() - whether SIGINT or SIGTERM came (pf_follow_catch_signals). */
bool pf_follow_interrupted(void);

/** pf_follow_sleep() - sleep @ns, or less when a signal comes. */
void pf_follow_sleep(uint64_t ns);

/** pf_follow_close() - close every file and free everything. */
void pf_follow_close(struct pf_follow *f);

#endif /* PERFAN_FOLLOW_H */
