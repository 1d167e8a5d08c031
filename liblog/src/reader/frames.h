/* SPDX-License-Identifier: MIT */
/* frames.h - a trace file as a sequence of verified zstd frames.
 *
 * Each frame is decompressed whole (bounded by PL_READ_MAX_FRAME) and its checksum
 * verified before any of its bytes are handed out, so a record is never decoded from a
 * torn or damaged frame.
 */
#ifndef PL_FRAMES_H
#define PL_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zstd.h>

struct pl_frames {
	int fd;                /* -1 while suspended (pl_frames_suspend) */
	char *path;            /* to reopen after a suspension */
	dev_t dev;             /* the file's identity, checked when reopening */
	ino_t ino;
	bool regular;          /* a regular file: it can be reopened and sought */
	ZSTD_DCtx *dctx;
	uint8_t *in;           /* input block */
	size_t in_len, in_pos;
	uint64_t in_base;      /* file offset of in[0] */
	uint8_t *frame;        /* decompressed content of the current frame */
	size_t frame_cap;
	char reason[160];      /* why the last call failed */
	uint64_t err_off;      /* file offset the failure refers to */
};

/* Open @path and check the magic frame. 0, or a negative pl_status (reason set). */
int pl_frames_open(struct pl_frames *f, const char *path);

/*
 * Next data frame: its content in @data and @len (valid until the next call) and its
 * file offset in @off. Skippable frames are passed over. Returns 0; PL_END at a clean
 * end of file; a negative pl_status with `reason` and `err_off` set.
 */
int pl_frames_next(struct pl_frames *f, const uint8_t **data, size_t *len, uint64_t *off);

/*
 * Give back the file descriptor, the input block, the decompression context and, unless
 * @keep_frame, the current frame's content, until pl_frames_next() needs the file again:
 * it then reopens the same file (a replaced file is an error) at the offset consumed.
 * Returns 0, or -PL_EINVAL if the file is not a regular file (it could not be reopened).
 */
int pl_frames_suspend(struct pl_frames *f, bool keep_frame);

/* File offset consumed so far. */
uint64_t pl_frames_offset(const struct pl_frames *f);

void pl_frames_close(struct pl_frames *f);

#endif /* PL_FRAMES_H */
