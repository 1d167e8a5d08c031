/* SPDX-License-Identifier: MIT */
/* perflog/writer.h - the trace writer: one output file, fed by any number of threads.
 *
 * Recording threads stage events in per-thread lock-free rings; a background flusher
 * thread encodes them as msgpack, compresses them into independent zstd frames and
 * writes them at an interval and whenever a ring fills. The recording path takes no
 * lock and makes no system call besides reading the clock, with three exceptions: a
 * thread's first event registers its ring (under the writer's lock), a ring filling past
 * half wakes the flusher once (sem_post), and under PL_FULL_BLOCK a full ring waits.
 */
#ifndef PERFLOG_WRITER_H
#define PERFLOG_WRITER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque writer handle. */
struct pl_writer;

/**
 * What a recording thread does when its ring is full and cannot grow: a full ring first
 * grows by a segment (twice its size, up to 32 MiB) as long as all rings together stay
 * within max_memory, so a flusher that was not scheduled in time costs memory, not events.
 * Since: 0.1
 */
enum pl_full_policy {
	PL_FULL_DROP = 0,  /**< drop the event and count it (default: never blocks the host) */
	PL_FULL_BLOCK = 1, /**< wait for the flusher to make room (never drops for space) */
};

/** Which clock timestamps events. Since: 0.1 */
enum pl_clock {
	PL_CLOCK_AUTO = 0,	/**< calibrated TSC when invariant, else CLOCK_MONOTONIC */
	PL_CLOCK_MONOTONIC = 1, /**< always clock_gettime(CLOCK_MONOTONIC) */
};

/** Diagnostic callback: @priority is a syslog priority (3 = error, 4 = warning). */
typedef void (*pl_log_fn)(void *userdata, int priority, const char *msg);

/**
 * struct pl_writer_options - how to open a writer. Initialise with
 * pl_writer_options_init(), then set what you need. @size, the first member, lets later
 * versions append options without breaking older callers: a library newer than the
 * caller's header takes defaults for the members the caller does not know; an older
 * library refuses (-PL_EINVAL) a caller that set a member it does not know (see
 * "Structs that grow" in docs/c-api.md).
 */
struct pl_writer_options {
	uint32_t size;		    /**< sizeof(struct pl_writer_options), set by _init */
	const char *path;	    /**< output path; "{pid}" is replaced by the process id */
	uint32_t flush_interval_ms; /**< write a frame at least this often (every ten
				     * intervals when nothing is recorded and no action
				     * is open); default 100 */
	uint32_t buffer_size;	    /**< first ring bytes per recording thread; default 1 MiB */
	uint64_t max_memory;	    /**< cap on all rings together, grown ones included;
				     *   default 256 MiB */
	enum pl_full_policy full_policy; /**< when max_memory is reached; default PL_FULL_DROP */
	enum pl_clock clock;	 /**< default PL_CLOCK_AUTO (env PERFLOG_CLOCK=monotonic forces) */
	int compression_level;	 /**< zstd level; default 1 (fast, still small) */
	uint32_t file_mode;	 /**< permission bits of the file (0600, 0640, 0644; never
				  *   group or other write, no setuid/setgid/sticky); default 0600 */
	const char *const *argv; /**< argv for the header; NULL reads /proc/self/cmdline */
	pl_log_fn log_fn;	 /**< diagnostics; NULL (default) means silence */
	void *log_userdata;	 /**< passed to @log_fn */
	/* Rotation and retention (Since: 0.2). With either rotate_* set, the writer moves to
	 * a new file when the current one is that large or that old; @path then names each
	 * file by "{n}" (its number, 000000, 000001, ...; added before the extension when
	 * @path has none) and may hold "{time}" (UTC when the file was opened,
	 * 20261202T142241Z). A file left is closed for good: it ends with a STATS record (a
	 * file without one is still being written, or its writer was killed). */
	uint64_t rotate_bytes;	 /**< a new file past this size; 0: never (default) */
	uint32_t rotate_seconds; /**< a new file after this long; 0: never (default) */
	uint32_t keep_files;	 /**< closed files of this writer kept, oldest deleted
				  *   first; 0: all (default) */
	uint64_t keep_bytes;	 /**< bytes of this writer's closed files kept with the
				  *   current one, oldest deleted first; 0: all (default) */
};

/**
 * pl_writer_options_init() - fill @opts with the documented defaults.
 * @opts: caller storage. @path is left NULL and must be set.
 * Since: 0.1
 */
void pl_writer_options_init(struct pl_writer_options *opts);

/**
 * pl_writer_open() - create the trace file and start the flusher thread.
 * @opts: options; copied, so it may be freed after the call.
 * @out: receives the new writer on success, NULL on failure.
 *
 * The file is opened by pl_output_open() with @opts->file_mode: a trace holds inputs
 * (arguments, often secrets), so it is created new, or, when @path exists, reused only
 * if it is a regular file of the caller's with no other name, and then emptied and given
 * @opts->file_mode; a symlink, another user's file, a file with other hard links, a FIFO
 * or a directory is refused. The header frame is written before this returns.
 *
 * After fork(), the child's copy of the writer opens a new file if @path contains
 * "{pid}" and otherwise stops recording: two processes never write one file.
 *
 * Returns: 0; -PL_EINVAL for bad options; -PL_EEXIST if @path is refused (errno says
 * why, see pl_output_open()); -PL_EIO if the file cannot be created (errno kept);
 * -PL_ENOMEM.
 * Thread-safe. Since: 0.1
 */
int pl_writer_open(const struct pl_writer_options *opts, struct pl_writer **out);

/**
 * pl_output_open() - open @path for writing by the rule traces are written by, for
 * programs that write what they derive from traces (perfan's exports and reports hold
 * the same inputs).
 * @path: the file.
 * @mode: its permission bits: within 0777 and without group or other write (0600, 0640,
 *        0644); the umask applies to a new file.
 *
 * A new file is created exclusively (O_EXCL: no one else's file is ever written into,
 * whatever its name). An existing path is used only if it is a character device
 * (/dev/null), or a regular file owned by the caller's effective user with one link:
 * that file is emptied and its mode set to @mode, so an old world-readable file does not
 * stay so. A symlink (O_NOFOLLOW), another user's file, a file with other hard links, a
 * FIFO, socket or directory are refused.
 *
 * Returns: a file descriptor (write-only, blocking, close-on-exec, the file empty), or
 * -PL_EINVAL (bad @path or @mode); -PL_EEXIST when the path is refused, with errno ELOOP
 * (a symlink), EPERM (another user's file), EMLINK (other hard links) or EEXIST (not a
 * regular file or character device); -PL_EIO when it cannot be opened (errno kept).
 * Since: 0.2
 */
int pl_output_open(const char *path, unsigned mode);

/**
 * pl_writer_flush() - write everything recorded before this call, then return.
 * @w: the writer.
 *
 * Blocks until the flusher has written a frame holding every event staged (by any
 * thread) before the call. Returns: 0; -PL_EIO if that frame could not be written;
 * -PL_ECLOSED after fork() stopped this writer. Thread-safe. Since: 0.1
 */
int pl_writer_flush(struct pl_writer *w);

/**
 * pl_writer_close() - flush, write the final statistics record, close the file, free.
 * @w: the writer, or NULL (no-op).
 *
 * No thread may record into @w during or after this call. Blocks for the final write.
 * Returns: 0, or -PL_EIO if any write of the file's life failed. Since: 0.1
 */
int pl_writer_close(struct pl_writer *w);

/**
 * struct pl_writer_stats - counters since the writer opened. Initialise it with
 * PL_WRITER_STATS_INIT: @size, its first member, lets later versions append counters
 * without breaking older callers (see "Structs that grow" in docs/c-api.md). Since: 0.1
 */
struct pl_writer_stats {
	uint32_t size;		    /**< sizeof(struct pl_writer_stats); set to the bytes filled */
	uint64_t events;	    /**< events recorded into rings */
	uint64_t dropped_full;	    /**< events dropped because a ring was full */
	uint64_t dropped_oversize;  /**< events dropped because they exceed the ring or limits */
	uint64_t dropped_no_buffer; /**< events dropped because max_memory allowed no ring */
	uint64_t dropped_write;	    /**< events lost in frames that failed to write */
	uint64_t blocked;	    /**< times a thread waited under PL_FULL_BLOCK */
	uint64_t frames;	    /**< zstd frames written */
	uint64_t bytes_raw;	    /**< msgpack bytes before compression */
	uint64_t bytes_written;	    /**< bytes written to the file */
	uint64_t write_errors;	    /**< failed writes (ENOSPC, EFBIG, EIO, ...) */
	int last_errno;		    /**< errno of the last failed write, 0 if none */
	uint64_t ring_grown;	    /**< times a full ring grew by a segment (within max_memory)
				     *   instead of dropping or blocking. Since: 0.2 */
	uint64_t ring_bytes;	    /**< bytes of ring segments now held. Since: 0.2 */
	uint64_t rotations;	    /**< files closed and a new one started. Since: 0.2 */
	uint64_t rotate_errors;	    /**< new files that could not be created (the current one
				     *   goes on; retried at the next rotation). Since: 0.2 */
	uint64_t files_deleted;	    /**< closed files deleted by retention. Since: 0.2 */
	uint64_t names_refused;	    /**< names pl_name_intern() refused (PL_NAMES_MAX,
				     *   PL_NAMES_MAX_BYTES) in this process: recorded as the
				     *   empty name. Since: 0.2 */
};

/** PL_WRITER_STATS_INIT - the initialiser of a struct pl_writer_stats. Since: 0.1 */
#define PL_WRITER_STATS_INIT                                                                       \
	{                                                                                          \
		.size = sizeof(struct pl_writer_stats)                                             \
	}

/**
 * pl_writer_stats() - read the counters.
 * @w: the writer.
 * @out: initialised with PL_WRITER_STATS_INIT; receives the counters (a consistent-enough
 *       snapshot: each counter is exact, the set is not taken atomically), at most
 *       @out->size bytes of them, and @out->size is set to the bytes filled.
 * Returns: 0; -PL_EINVAL if @w or @out is NULL or @out->size is smaller than the 0.1
 * struct (nothing is written then). Thread-safe, lock-free for the recording threads.
 * Since: 0.1
 */
int pl_writer_stats(struct pl_writer *w, struct pl_writer_stats *out);

/**
 * pl_writer_error() - the last write error.
 * @w: the writer.
 * Returns: the errno of the last failed write (ENOSPC, EFBIG, ...), or 0. Since: 0.1
 */
int pl_writer_error(struct pl_writer *w);

/**
 * pl_writer_path() - the path being written (with "{pid}", "{n}" and "{time}" expanded):
 * with rotation, that of the current file.
 * Returns: a string owned by @w, valid until pl_writer_close(). Since: 0.1
 */
const char *pl_writer_path(struct pl_writer *w);

/**
 * pl_thread_name() - name the calling thread in the trace (shown by the analyzer).
 * @w: the writer; @name: UTF-8, cut at 63 bytes.
 * Recorded as an event of the calling thread; never fails. Since: 0.1
 */
void pl_thread_name(struct pl_writer *w, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* PERFLOG_WRITER_H */
