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

/* A frame's index (format.h), as read from the file. */
struct pl_frame_ix {
	uint8_t flags;	   /* PL_IX_* */
	uint32_t data_len; /* compressed bytes of the data frame */
	uint32_t events;
	int64_t first_wall, last_wall; /* first > last: no timed record */
	uint64_t open_off;
	uint64_t end_ck_ts;
	int64_t end_ck_wall;
};

struct pl_frames {
	int fd;	    /* -1 while suspended (pl_frames_suspend) */
	char *path; /* to reopen after a suspension */
	dev_t dev;  /* the file's identity, checked when reopening */
	ino_t ino;
	bool regular;	 /* a regular file: it can be reopened and sought */
	bool follow;	 /* the end of the file is where its writer is: PL_AGAIN */
	uint8_t version; /* the magic frame's format version */
	ZSTD_DCtx *dctx;
	uint8_t *in; /* input block */
	size_t in_len, in_pos;
	uint64_t in_base; /* file offset of in[0] */
	uint8_t *frame;	  /* decompressed content of the current frame */
	size_t frame_cap;
	bool ix_pending; /* @ix was read (pl_frames_peek_index), its data frame not */
	bool ix_ok;	 /* @ix describes the data frame at the current offset */
	bool ix_seen;	 /* an index was met: every data frame has one */
	struct pl_frame_ix ix;
	uint64_t unit_off; /* offset of the pending index frame */
	bool ix_mismatch;  /* an index disagreed with its frame (reason in ix_why) */
	char ix_why[160];
	char reason[160]; /* why the last call failed */
	uint64_t err_off; /* file offset the failure refers to */
};

/* Open @path and check the magic frame. 0, or a negative pl_status (reason set). */
int pl_frames_open(struct pl_frames *f, const char *path);

/*
 * Next data frame: its content in @data and @len (valid until the next call) and its
 * file offset in @off. Skippable frames are passed over. Returns 0; PL_END at a clean
 * end of file; PL_AGAIN at the end of a followed one (pl_frames_follow()); a negative pl_status
 * with `reason` and `err_off` set.
 */
int pl_frames_next(struct pl_frames *f, const uint8_t **data, size_t *len, uint64_t *off);

/*
 * Give back the file descriptor, the input block, the decompression context and, unless
 * @keep_frame, the current frame's content, until pl_frames_next() needs the file again:
 * it then reopens the same file (a replaced file is an error) at the offset consumed.
 * Returns 0, or -PL_EINVAL if the file is not a regular file (it could not be reopened).
 */
int pl_frames_suspend(struct pl_frames *f, bool keep_frame);

/* pl_frames_peek_index(): an index was read (distinct from PL_END). */
#define PL_FRAMES_INDEXED 16

/*
 * The next frame's index, read without its data frame: PL_FRAMES_INDEXED with *@ix set and @off the
 * index frame's offset (then pl_frames_next() decodes the data frame, pl_frames_skip()
 * passes over it); 0 when the next frame has no index (pl_frames_next() reads it);
 * PL_END (PL_AGAIN when followed); or a negative pl_status.
 */
int pl_frames_peek_index(struct pl_frames *f, struct pl_frame_ix *ix, uint64_t *off);

/*
 * Pass over the data frame whose index pl_frames_peek_index() just gave, without
 * decompressing it. Returns 0; 1 when the index's length does not land on a frame
 * boundary (nothing skipped, ix_mismatch set: decode it with pl_frames_next()); or a
 * negative pl_status; PL_AGAIN when followed and the data frame is not wholly written.
 */
int pl_frames_skip(struct pl_frames *f);

/*
 * Read every index from the current offset on with pread() (the reading position does
 * not move), calling @fn for each (@off: its index frame's offset). Returns 1 when the
 * index covers the rest of the file, 0 when it stops short (a frame without one, a
 * damaged or cut one, or not a regular file), a negative pl_status when out of memory.
 */
int pl_frames_index_scan(struct pl_frames *f,
			 void (*fn)(void *ctx, const struct pl_frame_ix *ix, uint64_t off),
			 void *ctx);

/*
 * Follow the file as its writer appends to it: where reading would stop at the end of
 * the file (cleanly, or inside a frame or index not yet wholly written), the calls above
 * return PL_AGAIN with the position at the start of that frame, and a later call reads
 * what was appended. Regular files only.
 */
static inline void pl_frames_follow(struct pl_frames *f, bool on)
{
	f->follow = on;
}

/* File offset consumed so far. */
uint64_t pl_frames_offset(const struct pl_frames *f);

void pl_frames_close(struct pl_frames *f);

#endif /* PL_FRAMES_H */
