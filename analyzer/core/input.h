/* SPDX-License-Identifier: MIT */
/* input.h - the records of many trace files as one stream of events in time order.
 *
 * Each path is a trace file, "-" (standard input, copied once into memory), or a directory
 * (every regular file in it whose name does not start with '.', in name order; files
 * there that are not perflog traces, and subdirectories, are skipped with a warning).
 *
 * Order. Within a file, records of one thread are in order, but the chunks of different
 * threads in a frame overlap in time (docs/format.md 2.3): a parent's START may come after
 * its child's END in file order. So each file is read a batch at a time - one frame,
 * found by the records' frame_offset changing, and at most PF_BATCH_EVENTS events - and the
 * batch is sorted by timestamp (stable). Disorder across two frames (the flusher drains
 * threads one after the other) is left: it spans microseconds. A k-way merge (a binary heap
 * keyed by wall time, ties by file order) then interleaves the files.
 *
 * Events are compact copies: START/END/MESSAGE with the type interned (names.h) and,
 * when asked, fields packed (fields.h) and exception text. THREAD records become thread
 * names, DROPPED records a count per file, and, when asked (PF_INPUT_META), events too:
 * a THREAD, with no timestamp of its own (ts and wall 0, as liblog's reader gives it), is
 * sorted first in its batch and so comes out before the events of the frame holding it;
 * a DROPPED has its chunk's latest time. STATS records are skipped.
 *
 * Summaries (`perfan summarize`) among the inputs are recognised by their header and set
 * aside in @summaries, unread: pf_input_open() succeeds when only summaries were given.
 *
 * Any number of files. Each file's header is read when the inputs are opened (to check
 * that it is a trace, and for its start time); the file is then closed and opened again
 * only when the merge reaches that start time (when the file was opened, or the clock
 * anchor of older writers: no event of the file precedes it; less a second for clock
 * adjustments), and its memory is freed
 * once it has ended: what is held is bounded by the files that overlap in time, not by
 * their number. And at most pf_input_open_budget() files are open at once: past that, a
 * file's reader gives back its descriptor and buffers after each batch (pl_reader_suspend)
 * and reopens the file for the next one.
 *
 * Errors, and what perfan chose to do about them:
 *  - a file that cannot be opened or is not a trace: "perfan: FILE: reason" on stderr and
 *    the file is left out (counted in @unreadable, and for the exit status, perfan.h);
 *    in a directory, a file that is not a perflog trace is skipped with a warning instead
 *    (@skipped); pf_input_open() fails only when no input can be read at all;
 *  - a file damaged or cut short: every record before the damage is delivered, then
 *    "perfan: warning: FILE: offset N: reason" on stderr, and the other files go on.
 *
 * Threads. Decoding (decompression, msgpack, copying and sorting a batch) is most of the
 * work; it runs on a pool of worker threads (pf_global.jobs, by default one per CPU, at most one
 * per file), each file's next batch being filled while its current one is delivered.
 * The events, their order and every warning are the same with or without threads: the
 * main thread applies what a batch says (new names, thread names, damage) when it takes it.
 *
 * Memory per file being read: one pl_reader (one decompressed frame, ~1 MiB) and two
 * batches (each at most PF_BATCH_EVENTS events and PF_BATCH_BYTES of levels and fields).
 */
#ifndef PERFAN_INPUT_H
#define PERFAN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <perflog/reader.h>

#include "core/names.h"

/** argv[0] in the header of a summary (perfan summarize; summary/sumfile.h): how an
 *  input is told to be one. */
#define PF_SUMMARY_ARGV0 "perflog-summary"

/** Most events sorted together: ~64 bytes each. */
#define PF_BATCH_EVENTS (64u * 1024)
/** Most bytes of levels, fields and exception text held by one batch. */
#define PF_BATCH_BYTES (4u << 20)

/** struct pf_event - one START, END or MESSAGE (or THREAD or DROPPED, when asked for);
 * a view valid until the next event. */
struct pf_event {
	enum pl_record_kind kind;
	uint32_t src; /* index of its file in pf_input.src */
	uint32_t thread, tid;
	uint64_t ts;	      /* ns on the file's monotonic time line */
	int64_t wall;	      /* Unix ns */
	uint64_t prefix, seq; /* task id */
	const uint32_t *level;
	uint32_t depth;
	uint32_t type;	       /* START, MESSAGE: number in pf_names; END: PF_NAME_NONE */
	uint64_t duration_ns;  /* END */
	bool failed;	       /* END */
	const uint8_t *fields; /* packed (fields.h), when kept; else NULL */
	size_t fields_len;
	const char *exc_type; /* END failed, when kept; else NULL */
	const char *exc_msg;
	const char *name; /* THREAD: the thread's name; DROPPED: the reason; else NULL */
	uint64_t count;	  /* DROPPED: the number of events lost */
};

struct pf_pool;

/* A batch of one file: the producer side (batch.h). */
struct pf_batch;
struct pf_producer;

/** One input file. Fields above @prod belong to the consumer (the analysis thread). */
struct pf_source {
	char *path;	 /* as given ("-": standard input) */
	char *open_path; /* what is opened when not @path (standard input's copy), or NULL */
	int64_t pid;	 /* from the file's header */
	dev_t dev;	 /* the file's identity: the same file given twice is read once */
	ino_t ino;
	char *host;
	char *prog;		 /* the program, from the header's argv: "prog", "python3 app.py" */
	char *process;		 /* "host:pid prog", made once (inputs' [process] grouping) */
	int64_t start;		 /* wall time before which the file holds no event (see above) */
	int64_t last_wall;	 /* its last sign of life read so far: latest event or clock
				  * checkpoint (wall; INT64_MIN: none) */
	uint64_t records;	 /* records read from this file */
	uint64_t dropped;	 /* events its writer lost (DROPPED records) */
	uint64_t frames_skipped; /* frames a time window let perfan pass over */
	int status;		 /* 0 reading, PL_END, or the negative pl_status */
	uint64_t err_offset;	 /* where the damage is, when status < 0 */
	char *err_reason;
	char **thread_names; /* by trace thread number; NULL entries unnamed */
	uint32_t nthreads;
	uint32_t *thread_ids; /* when set (a summary's input): thread_names[i] names thread
			       * thread_ids[i], the ids ascending */
	bool summarized;      /* added by pf_input_add_source(): described by a summary,
			       * no trace file of its own to read */
	uint32_t *type_map;   /* the producer's type numbers -> pf_names numbers */
	uint32_t map_len;
	/* Two batches: b[cur] is being delivered while the other is filled (by a worker
	 * of the pool, or right away when there is none). */
	struct pf_producer *prod;
	struct pf_batch *b; /* [2] */
	unsigned cur;
	bool ended;	    /* b[cur] is the file's last batch */
	uint32_t next;	    /* b[cur]'s next event to deliver */
	struct pf_event ev; /* the event at next, as a view */
};

/** An input that could not be read, or was skipped (a directory's non-trace or
 * subdirectory): listed by --json with its reason. */
struct pf_failed {
	char *path, *reason;
	bool skipped;
};

struct pf_input {
	struct pf_source *src;
	size_t nsrc;
	struct pf_names *names;
	bool keep_fields, keep_end, meta;
	struct pf_pool *pool; /* decoding threads, or NULL */
	size_t *heap;	      /* indexes into src of files that have a pending event */
	size_t nheap;
	size_t *waiting; /* indexes into src of files not read yet, by start time */
	size_t nwaiting, next_waiting;
	unsigned open_now; /* readers holding their file open (atomic: the pool's workers) */
	unsigned open_budget;
	bool started;		  /* the first pf_input_next() started reading */
	bool delivered;		  /* heap[0]'s event was handed out: advance it first */
	uint64_t records;	  /* records read in all */
	size_t unreadable;	  /* inputs that could not be read (not even their header) */
	size_t skipped;		  /* files in a directory that are not perflog traces */
	struct pf_failed *failed; /* the unreadable and skipped inputs, for --json */
	size_t nfailed, failed_cap;
	char **summaries; /* inputs that are summaries (perfan summarize), not traces: not
			   * read here (summary/sumfile.h reads them) */
	size_t nsummaries, summaries_cap;
	/* Views made ahead while one file is read (no merge to do): run[run_i, run_n) are
	 * the next events, handed out in line by pf_input_next(). */
	struct pf_event *run;
	uint32_t run_i, run_n;
};

/** Views made at once while one file is read. */
#define PF_INPUT_RUN 64

/* What pf_input_open() puts in the events (flags, or'ed). */
enum {
	PF_INPUT_FIELDS = 1 << 0,   /* fields and exception text */
	PF_INPUT_META = 1 << 1,	    /* THREAD and DROPPED records as events too */
	PF_INPUT_END_DATA = 1 << 2, /* without PF_INPUT_FIELDS: ENDs' outputs and exception
				     * text (the inputs of a few calls are read again
				     * after: analysis/refetch.h) */
};

/**
 * pf_input_open() - expand @paths and open every file.
 * @names: where types are interned.
 * @flags: PF_INPUT_FIELDS, PF_INPUT_META, PF_INPUT_END_DATA.
 * Returns: 0 when at least one file is readable; -1 when none is (messages printed),
 * -2 when out of memory. pf_input_close() must be called in every case.
 */
int pf_input_open(struct pf_input *in, char *const *paths, size_t npaths, struct pf_names *names,
		  unsigned flags);

/** pf_source_process() - @s's "host:pid prog" label, made once. Returns 0 or -1 (ENOMEM). */
int pf_source_process(struct pf_source *s);

/**
 * pf_input_add_source() - append @s, an input known from elsewhere (a summary's), as a
 * source that is not read: its calls can name it, --json lists it. The strings and arrays
 * @s points to become @in's. Call after reading is over.
 * Returns: its index in @in->src, or -1 when out of memory (@s's memory still the caller's).
 */
int pf_input_add_source(struct pf_input *in, const struct pf_source *s);

/**
 * pf_input_add_failed() - note an input that could not be read (@skipped false: counted
 * as unreadable, for the exit status too) or was skipped, for --json. Prints nothing.
 */
void pf_input_add_failed(struct pf_input *in, const char *path, const char *reason, bool skipped);

/** pf_input_next_slow() - pf_input_next() when no view is made ahead. */
int pf_input_next_slow(struct pf_input *in, const struct pf_event **ev);

/**
 * pf_input_next() - the next event of the merged stream; *@ev is valid until the next
 * call. In line: a view made ahead costs a compare.
 * Returns: 0 with *@ev set, 1 at the end of every file, -2 when out of memory.
 */
static inline int pf_input_next(struct pf_input *in, const struct pf_event **ev)
{
	if (__builtin_expect(in->run_i < in->run_n, 1)) {
		*ev = &in->run[in->run_i++];
		return 0;
	}
	return pf_input_next_slow(in, ev);
}

/**
 * pf_input_extent() - the wall-clock times of the first and last timed record of the
 * files of @in, read in a separate silent pass (for "-5m"-style times). Returns: 0, or -1
 * when there is no timed record.
 */
int pf_input_extent(const struct pf_input *in, int64_t *first, int64_t *last);

/**
 * pf_input_set_window() - read only what actions started in [@since, @until) need (their
 * START and END, and the STARTs of their open ancestors), by each file's frame index
 * (pl_reader_set_window()); THREAD and DROPPED records are all read. Call before the
 * first pf_input_next(). The environment variable PERFAN_NO_INDEX=1 turns it off.
 */
void pf_input_set_window(struct pf_input *in, int64_t since, int64_t until);

/**
 * pf_input_drop_fields() - fields and exception text are no longer needed: the batches
 * filled from now on leave them out (a few already filled or being filled may still
 * carry them), as without PF_INPUT_FIELDS, which decodes faster (`perfan timeline` once
 * its -n lines are written: the rest is only counted).
 */
void pf_input_drop_fields(struct pf_input *in);

/** pf_input_thread_name() - the name of @thread of file @src, or NULL. */
const char *pf_input_thread_name(const struct pf_input *in, uint32_t src, uint32_t thread);

/**
 * pf_input_open_budget() - how many input files perfan keeps open at once: within the
 * open-file limit (raised to its hard maximum first, once), less room for the rest of
 * the process, and at most 64 (each open reader holds ~2 MiB of buffers).
 */
unsigned pf_input_open_budget(void);

/** pf_input_close() - close every reader and free everything. */
void pf_input_close(struct pf_input *in);

#endif /* PERFAN_INPUT_H */
