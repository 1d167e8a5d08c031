/* SPDX-License-Identifier: MIT */
/* sink.h - the output file: created safely, written a whole frame at a time, with write
 * errors counted instead of reported to the recording program. */
#ifndef PL_SINK_H
#define PL_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pl_sink {
	int fd;
	bool regular;	   /* a regular file (else a character device) */
	uint64_t good_off; /* file size after the last complete frame */
	/* Written by the flusher, read by pl_writer_stats() (relaxed atomics). */
	uint64_t frames, bytes_written, write_errors;
	int last_errno;
};

/* Open @path by the rule of pl_output_open() (perflog/writer.h). Returns 0, or what
 * pl_output_open() returns on failure (errno set). */
int pl_sink_open(struct pl_sink *s, const char *path, mode_t mode);

/* Append a whole frame. On failure the file is cut back to the last whole frame, so
 * that later frames stay readable; the error is counted. Returns 0 or -errno. */
int pl_sink_write(struct pl_sink *s, const void *buf, size_t len);

/* Go on in the regular file open at @fd (rotation), closing the current one, whose size
 * goes to *@closed_bytes; the counters go on. Returns 0, or -PL_EEXIST if @fd is not a
 * regular file (nothing changed). */
int pl_sink_switch(struct pl_sink *s, int fd, uint64_t *closed_bytes);

/* Close the file (no-op if not open). */
void pl_sink_close(struct pl_sink *s);

#endif /* PL_SINK_H */
