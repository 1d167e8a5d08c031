/* SPDX-License-Identifier: MIT */
/* perflog/reader.h - streaming reader of one trace file.
 *
 * Decodes records one at a time with memory bounded by fixed limits, whatever the
 * file says. A damaged or truncated file yields every record before the damage, then
 * an error naming the file, the byte offset and the reason.
 */
#ifndef PERFLOG_READER_H
#define PERFLOG_READER_H

#include <stddef.h>
#include <stdint.h>

#include <perflog/value.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque reader handle. */
struct pl_reader;

/** Record kinds delivered by pl_reader_next(). Values are stable. Since: 0.1 */
enum pl_record_kind {
	PL_REC_START = 1,   /**< an action started: type, task, level, fields (inputs) */
	PL_REC_END = 2,	    /**< an action ended: task, level, outcome, duration, fields */
	PL_REC_MESSAGE = 3, /**< a message: type, task, level, fields */
	PL_REC_THREAD =
	    4, /**< a thread's identity: thread, tid, name (may repeat with a new name) */
	PL_REC_DROPPED = 5, /**< events lost: count and reason ("full", "oversize", ...) */
	PL_REC_STATS = 6,   /**< the writer's final counters, written at close: fields */
};

/** Outcome of an ended action. */
enum pl_outcome {
	PL_SUCCEEDED = 0,
	PL_FAILED = 1,
	PL_CANCELLED = 2, /**< ended by a cancellation (pl_action_cancel()). Since: 0.2 */
};

/**
 * struct pl_record - a decoded record. A borrowed view: every pointer in it points
 * into reader-owned memory valid until the next pl_reader_next() or pl_reader_close().
 * Fields that do not apply to the record's kind are zero/NULL. Initialise it with
 * PL_RECORD_INIT: @size lets later versions append members without breaking older
 * callers (see "Structs that grow" in docs/c-api.md).
 */
struct pl_record {
	uint32_t size; /**< sizeof(struct pl_record); set to the bytes filled */
	enum pl_record_kind kind;
	uint64_t ts_ns;	       /**< nanoseconds since the file's clock anchor (monotonic) */
	int64_t wall_ns;       /**< the same instant as Unix time in nanoseconds */
	uint32_t thread;       /**< thread number within the process (1, 2, ...) */
	uint32_t tid;	       /**< OS thread id (from the THREAD record of @thread) */
	uint64_t task_prefix;  /**< task id, first part */
	uint64_t task_seq;     /**< task id, second part */
	const uint32_t *level; /**< path in the task tree, @depth entries */
	uint32_t depth;
	const char *type;	    /**< action or message type, NUL-terminated ("" if none) */
	const struct pl_kv *fields; /**< inputs, outputs, message fields, or STATS counters */
	size_t nfields;
	enum pl_outcome outcome; /**< END only */
	uint64_t duration_ns;	 /**< END only */
	const char *exc_type;	 /**< END failed or cancelled: exception type, or NULL */
	const char *exc_msg;	 /**< END failed or cancelled: exception message, or NULL */
	const char *name;	 /**< THREAD: thread name; DROPPED: the reason */
	uint64_t count;		 /**< DROPPED: number of events lost */
	uint64_t frame_offset;	 /**< file offset of the frame holding the record: it
				  *   changes exactly when a new frame begins (records of
				  *   one frame are only ordered within each thread) */
	uint32_t type_id;	 /**< START, MESSAGE: @type's name number in this file (one
				  *   number, one text, for the reader's life: a reader may
				  *   map each number once instead of each @type); 0 for
				  *   other kinds. Since: 0.2 */
};

/** PL_RECORD_INIT - the initialiser of a struct pl_record. Since: 0.1 */
#define PL_RECORD_INIT                                                                             \
	{                                                                                          \
		.size = sizeof(struct pl_record)                                                   \
	}

/**
 * struct pl_trace_header - what the file says about the process that wrote it. Owned by
 * the reader and only read through a pointer: later versions may append members.
 */
struct pl_trace_header {
	uint32_t version; /**< format version of the file */
	int64_t pid;
	const char *host;
	const char *const *argv; /**< @argc strings */
	size_t argc;
	const char *clock;	 /**< "tsc" or "monotonic" */
	uint64_t mono_anchor_ns; /**< CLOCK_MONOTONIC at ts_ns == 0 */
	int64_t wall_anchor_ns;	 /**< CLOCK_REALTIME at ts_ns == 0 (Unix ns) */
	uint64_t task_prefix;	 /**< this process's task id prefix */
	const char *library;	 /**< "perflog <version>" of the writer */
	int64_t file_wall_ns;	 /**< CLOCK_REALTIME when this file was opened (Unix ns; 0
				  *   in files of older writers). Since: 0.2 */
	uint32_t file_seq;	 /**< the file's number among its writer's files (rotation:
				  *   0, 1, ...). Since: 0.2 */
};

/**
 * struct pl_reader_error - where and why reading stopped. Owned by the reader and only
 * read through a pointer: later versions may append members.
 */
struct pl_reader_error {
	int status;	    /**< negative pl_status, or 0 if no error */
	const char *path;   /**< the file */
	uint64_t offset;    /**< byte offset in the file of the damaged frame or data */
	const char *reason; /**< human-readable reason, e.g. "truncated frame (412 of ? bytes)" */
};

/**
 * pl_reader_open() - open a trace file and read its header.
 * @path: the file.
 * @out: receives the reader; on failure it still receives one whose pl_reader_error()
 *       says why, and which the caller must close (NULL only when the reader itself
 *       could not be allocated).
 * Returns: 0; -PL_EIO (cannot open/read), -PL_EFORMAT (not a perflog trace),
 * -PL_EVERSION, -PL_ETRUNCATED, -PL_ECORRUPT, -PL_ENOMEM. Since: 0.1
 */
int pl_reader_open(const char *path, struct pl_reader **out);

/**
 * pl_reader_header() - the file's header; valid until pl_reader_close(). Since: 0.1
 */
const struct pl_trace_header *pl_reader_header(const struct pl_reader *r);

/**
 * pl_reader_next() - decode the next record.
 * @r: the reader.
 * @rec: initialised with PL_RECORD_INIT; receives a borrowed view of the record (see
 *       struct pl_record), at most @rec->size bytes of it.
 *
 * Returns: 0 with a record; PL_END (positive) at a clean end of file (PL_AGAIN, positive,
 * at the end of a followed file: pl_reader_follow()); -PL_EINVAL if @r or
 * @rec is NULL or @rec->size is smaller than the 0.1 struct (nothing is read); a negative
 * pl_status when the rest of the file is unreadable (every record before the damage has
 * been delivered; pl_reader_error() gives file, offset and reason). After PL_END or an
 * error, further calls return the same. Not thread-safe: one thread per reader.
 * Since: 0.1
 */
int pl_reader_next(struct pl_reader *r, struct pl_record *rec);

/**
 * struct pl_event - a START, END or MESSAGE as pl_reader_next_events() delivers it: the
 * members of struct pl_record that such a record has, its level path in the caller's
 * array and its type as a name number. Pointers are borrowed views as a struct
 * pl_record's, valid until the next pl_reader_next_events() or pl_reader_next(). A value
 * in the caller's array: it never changes (see "Structs that grow" in docs/c-api.md).
 * Since: 0.2
 */
struct pl_event {
	uint64_t ts_ns;		    /**< as struct pl_record's */
	int64_t wall_ns;	    /**< as struct pl_record's */
	uint64_t task_prefix;	    /**< task id, first part */
	uint64_t task_seq;	    /**< task id, second part */
	uint64_t duration_ns;	    /**< END only (else 0) */
	const struct pl_kv *fields; /**< inputs, outputs or message fields (NULL: none, or
				     *   skipped by pl_reader_skip_fields()) */
	const char *exc_type;	    /**< END failed or cancelled: exception type, or NULL */
	const char *exc_msg;	    /**< END failed or cancelled: exception message, or NULL */
	uint32_t nfields;
	uint32_t level; /**< where the level path starts in the caller's level array:
			 *   @depth entries from there */
	uint32_t depth;
	uint32_t type_id;  /**< START, MESSAGE: the type's name number (its text:
			    *   pl_reader_name()); END: 0 */
	uint32_t thread;   /**< thread number within the process */
	uint32_t tid;	   /**< OS thread id (0 before the thread's THREAD record) */
	uint8_t kind;	   /**< PL_REC_START, PL_REC_END or PL_REC_MESSAGE */
	uint8_t outcome;   /**< END: enum pl_outcome; else PL_SUCCEEDED */
	uint16_t reserved; /**< 0 */
};

/**
 * pl_reader_next_events() - decode the next records at once, as long as they are events
 * of one run of one thread (a BLOCK record, docs/format.md 2.9): the fast way to read a
 * trace. The events are those pl_reader_next() would deliver next, in the same order,
 * member by member (the frame offset left out: it is that of the record pl_reader_next()
 * delivered last, as a run lies within one frame). It stops before the first record it
 * does not deliver: any record other than such an event, an event it cannot decode
 * (which pl_reader_next() then reads, or reports as damage), fields with containers or
 * more than 15 of them (pl_reader_next() takes those), the end of the run, @max events,
 * @max_levels level entries, or the room of its memory for views (64 KiB at least). It delivers
 * nothing with a time window set (pl_reader_set_window()), but for PL_WINDOW_STARTS_ONLY's
 * (then the events of the frames read whole, as pl_reader_next() delivers them). Mix it
 * freely with pl_reader_next():
 * when it returns 0, pl_reader_next() reads on.
 * @r: the reader. @ev: room for @max events.
 * @levels: room for @max_levels entries: the events' level paths, one after the other
 *          from levels[0] (an event's are levels[ev.level .. ev.level + ev.depth)).
 * Returns: the number of events delivered; 0 when the next record is not one it
 * delivers (read it with pl_reader_next()), and when @r, @ev or @levels is NULL.
 * Since: 0.2
 */
size_t pl_reader_next_events(struct pl_reader *r, struct pl_event *ev, size_t max, uint32_t *levels,
			     size_t max_levels);

/**
 * pl_reader_name() - the text of name number @id of the file (struct pl_event's
 * @type_id, struct pl_record's @type_id), as defined by what was read so far.
 * Returns: a NUL-terminated string owned by @r, valid until pl_reader_close(); "" for
 * number 0; NULL if @r is NULL or the number is not defined. Since: 0.2
 */
const char *pl_reader_name(const struct pl_reader *r, uint32_t id);

/**
 * pl_reader_skip_fields() - leave out the fields of the START, END and MESSAGE records
 * read from now on (inputs, outputs, message fields): their @fields is NULL and @nfields
 * 0. Everything else, the exception text of failed actions included, is delivered as
 * before. For callers that need only times, types, tasks and outcomes: decoding is
 * faster. @skip: nonzero to skip, 0 to decode them again. Since: 0.1
 */
void pl_reader_skip_fields(struct pl_reader *r, int skip);

/** Kinds of records for pl_reader_skip_fields_of(), or'ed. Since: 0.2 */
enum pl_skip_kinds {
	PL_SKIP_START = 1u << PL_REC_START,	/**< inputs */
	PL_SKIP_END = 1u << PL_REC_END,		/**< outputs */
	PL_SKIP_MESSAGE = 1u << PL_REC_MESSAGE, /**< message fields */
	PL_SKIP_ALL = PL_SKIP_START | PL_SKIP_END | PL_SKIP_MESSAGE,
};

/**
 * pl_reader_skip_fields_of() - as pl_reader_skip_fields(), for the kinds of records in
 * @kinds only (enum pl_skip_kinds, or'ed; 0 decodes every kind's fields again): a
 * reader that reports the outputs and exceptions of ENDs but looks up the inputs of a
 * few STARTs later (perfan sla) skips PL_SKIP_START | PL_SKIP_MESSAGE. Since: 0.2
 */
void pl_reader_skip_fields_of(struct pl_reader *r, unsigned kinds);

/**
 * pl_reader_follow() - read a file as its writer appends to it, as `tail -f` does. Where
 * pl_reader_next() would return PL_END (the end of the file) or -PL_ETRUNCATED (a frame
 * at the end not wholly written yet), it returns PL_AGAIN instead and stays before that
 * frame; a later call delivers what was appended by then. Damage in what is written is
 * still an error. A file ends for good when its writer closes it (a STATS record is then
 * its last) or dies (the caller decides, e.g. by the writer's pid or pl_reader_checkpoint()).
 * @r: the reader, of a regular file. @follow: nonzero to follow, 0 to stop at the end
 * again. Can be called at any time; turning it on after PL_END reads on from there.
 * Returns: 0; -PL_EINVAL if @r is NULL, failed, or does not read a regular file.
 * Since: 0.2
 */
int pl_reader_follow(struct pl_reader *r, int follow);

/**
 * pl_reader_checkpoint() - the latest clock checkpoint read: the writer records one in
 * every frame, and writes a frame every flush interval while an action is open, also when
 * nothing else happened, so at the end of a trace whose writer was killed (kill -9, a
 * crash, a hang) it says until when the writer was still alive, within a flush interval
 * (ten when no action was open). @ts: nanoseconds on the file's time line (see struct pl_record);
 * @wall: Unix ns. Before any checkpoint: 0 and the header's wall anchor. Either may be
 * NULL. Since: 0.2
 */
void pl_reader_checkpoint(const struct pl_reader *r, uint64_t *ts, int64_t *wall);

/** Flags of pl_reader_set_window(). Since: 0.2 */
enum pl_window_flags {
	/** Also read the STARTs of the actions open when the window's actions started
	 *  (their ancestors), by the index's oldest-open-action times. */
	PL_WINDOW_ANCESTORS = 1 << 0,
	/** The STARTs and MESSAGEs timed in the window only: nothing is read past the
	 *  last frame that may hold one of those (neither their ENDs nor the THREAD,
	 *  DROPPED and STATS records of later frames), and pl_reader_next_events()
	 *  delivers the runs of the frames read (it does not otherwise). For a reader
	 *  looking up a few records by their time. */
	PL_WINDOW_STARTS_ONLY = 1 << 1,
};

/**
 * pl_reader_set_window() - read only what a time window needs. Trace files of perflog
 * 0.2 carry a small index before every frame (docs/format.md): its time range, what
 * kinds of records it holds and when the oldest action open at its end started. With a
 * window set, frames that cannot hold what the window needs are passed over without
 * being decompressed. What is still delivered:
 *  - every START and MESSAGE timed in [@since_ns, @until_ns) (Unix ns; INT64_MIN and
 *    INT64_MAX for an open end), and the END of every such START (not with
 *    PL_WINDOW_STARTS_ONLY);
 *  - with PL_WINDOW_ANCESTORS, the START of every action that was open when one of
 *    those started;
 *  - every THREAD, DROPPED and STATS record of the file (up to the window's last frame
 *    with PL_WINDOW_STARTS_ONLY);
 *  - other START, END and MESSAGE records of the frames read (they are not filtered:
 *    the caller selects).
 * The events of a frame read for its THREAD, NAME, DROPPED or STATS records alone are
 * not decoded beyond their kinds and times (what the check of its index needs): damage
 * in their other columns is not reported, as in the frames passed over.
 * pl_reader_checkpoint() says the same as after reading every frame. A file without
 * the index (older writers), or the part of it past a frame without one, is read
 * whole; an index that disagrees with its frame turns the window off for the rest of
 * the file (pl_reader_stats() says so). Call it after pl_reader_open(), before the
 * first pl_reader_next().
 * Returns: 0; -PL_EINVAL if @r is NULL, records were already read or @since_ns >=
 * @until_ns. Since: 0.2
 */
int pl_reader_set_window(struct pl_reader *r, int64_t since_ns, int64_t until_ns, unsigned flags);

/**
 * pl_reader_extent() - the wall-clock times of the file's first and last START, END,
 * MESSAGE or DROPPED record, from its index alone (nothing is decompressed). Call it
 * after pl_reader_open(), before the first pl_reader_next().
 * Returns: 1 with *@first and *@last set; 0 when the file holds no such record; -PL_EINVAL
 * when the file is not wholly indexed (read it to know), records were read already, or
 * @r is NULL. Since: 0.2
 */
int pl_reader_extent(struct pl_reader *r, int64_t *first, int64_t *last);

/**
 * struct pl_reader_stats - what a reader read and passed over. Initialise with
 * PL_READER_STATS_INIT (@size: see "Structs that grow" in docs/c-api.md).
 */
struct pl_reader_stats {
	uint32_t size;		   /**< sizeof(struct pl_reader_stats); set to the bytes filled */
	uint64_t frames;	   /**< frames decompressed */
	uint64_t frames_skipped;   /**< frames passed over by the index (pl_reader_set_window) */
	uint64_t bytes_skipped;	   /**< their compressed bytes */
	int index_disagrees;	   /**< an index did not match its frame: the window was
				    *   turned off from there (@index_problem says where) */
	const char *index_problem; /**< "offset N: ...", or "" */
	uint64_t records_generic;  /**< records decoded by the general msgpack path rather than
				    *   the fast one (reader.c): few in a trace of liblog's
				    *   writer (containers in fields, more than 15 fields, levels
				    *   deeper than 64, other kinds than actions and CHUNK/CLOCK) */
};

/** PL_READER_STATS_INIT - the initialiser of a struct pl_reader_stats. Since: 0.2 */
#define PL_READER_STATS_INIT                                                                       \
	{                                                                                          \
		.size = sizeof(struct pl_reader_stats)                                             \
	}

/**
 * pl_reader_stats() - fill @out with @r's counters (at most @out->size bytes).
 * Returns: 0; -PL_EINVAL if @r or @out is NULL or @out->size is too small. Since: 0.2
 */
int pl_reader_stats(const struct pl_reader *r, struct pl_reader_stats *out);

/**
 * pl_reader_suspend() - give back what the reader holds of the file until it is needed
 * again: the file descriptor, the input and decompression buffers and, between frames,
 * the frame buffer. The next pl_reader_next() that needs more of the file reopens it by
 * its path and goes on at the same offset; if the path then names another file (replaced
 * or rotated away), reading stops with -PL_EIO "the file was replaced while it was being
 * read". For programs that read more files at once than they may keep open (perfan).
 * @r: the reader.
 * Returns: 0; -PL_EINVAL if @r is NULL or does not read a regular file (a pipe cannot be
 * reopened). Not thread-safe with other calls on @r. Since: 0.2
 */
int pl_reader_suspend(struct pl_reader *r);

/**
 * pl_reader_error() - why reading stopped; status 0 if it did not.
 * Returns: a pointer owned by @r, valid until pl_reader_close(). Since: 0.1
 */
const struct pl_reader_error *pl_reader_error(const struct pl_reader *r);

/**
 * pl_reader_offset() - bytes of the file consumed so far (for progress reports).
 * Since: 0.1
 */
uint64_t pl_reader_offset(const struct pl_reader *r);

/** pl_reader_close() - free the reader; NULL is a no-op. Since: 0.1 */
void pl_reader_close(struct pl_reader *r);

#ifdef __cplusplus
}
#endif
#endif /* PERFLOG_READER_H */
