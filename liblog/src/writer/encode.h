/* SPDX-License-Identifier: MIT */
/* encode.h - staged events -> msgpack records -> zstd frames (flusher thread only).
 *
 * Events go into BLOCK records (format.h: one thread's events as columns), other records
 * are packed as they come; a block goes into `raw` whole before any other record does.
 * Records of one flush cycle are packed into `raw`; the HEADER (a new file's first frame),
 * the frame's CLOCK checkpoint and the names defined since the last cycle go into `defs`,
 * which is fed to the compressor first. `raw` always begins outside any chunk, so that it
 * can go into the next frame when the names fill this one.
 * A frame is ended explicitly, and its compressed bytes are then in `out`.
 */
#ifndef PL_ENCODE_H
#define PL_ENCODE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <zstd.h>

#include "../common/clock.h"
#include "../common/config.h"
#include "../common/format.h"
#include "event.h"

/* One column of the BLOCK being built (format.h). */
struct pl_col {
	uint8_t *p;
	size_t len, cap;
};

/* The BLOCK being built: the events of one thread, until another thread's event or any
 * other record comes (then it goes into raw whole). Its columns keep their memory. */
struct pl_enc_block {
	bool open;
	uint32_t thread, count;
	uint64_t base_ts, last_ts; /* its first and last events' times (they never step back) */
	struct pl_col col[PL_BLK_COLUMNS];
	size_t room;	    /* free bytes every column has at least (pl_enc_event) */
	size_t bytes_bound; /* the columns' bytes at most (pl_enc_frame_full) */
};

static inline size_t pl_enc_block_bytes(const struct pl_enc_block *b)
{
	size_t n = 0;
	for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
		n += b->col[i].len;
	return n;
}

struct pl_encoder {
	msgpack_sbuffer raw;  /* records of the current cycle */
	msgpack_packer pk;    /* packs into raw */
	msgpack_sbuffer defs; /* NAME records of the current cycle */
	msgpack_packer dpk;
	ZSTD_CCtx *cctx;
	uint8_t *out; /* compressed bytes of the current frame */
	size_t out_len, out_cap;
	bool magic_pending;   /* the file's magic frame goes before the next frame */
	bool frame_had_magic; /* the current frame starts the file */
	bool frame_open;
	uint64_t frame_opened_ns; /* monotonic time the current frame was opened */
	uint64_t frame_raw;	  /* raw bytes fed into the current frame */
	uint64_t frame_events;	  /* events in the current frame (for write-loss counts) */
	uint64_t bytes_raw;	  /* total raw bytes (stats; relaxed atomic) */
	uint32_t names_defined;	  /* names 0..n-1 are defined in this file */
	uint32_t names_at_open;	  /* names_defined when the frame opened (undo on loss) */
	struct pl_enc_block blk;
	/* The open chunk (or block): thread and the previous record's timestamp and own
	 * task seq. */
	bool chunk_open;
	uint32_t chunk_thread;
	uint64_t prev_ts, prev_seq;
	struct pl_clock_cache clock; /* the segment of the last event converted */
	uint64_t own_prefix;
	/* The frame's index (format.h), written before it: its place in out (SIZE_MAX:
	 * none, memory ran out) and what the frame holds. Records staged in raw are
	 * summed apart (raw_*) until they go into a frame: they may be held back into
	 * the next one. A range with min > max is empty. */
	size_t ix_at;
	uint8_t ix_flags, raw_flags; /* PL_IX_* */
	uint32_t ix_events, raw_events;
	uint64_t ix_min, ix_max, raw_min, raw_max; /* ts of timed records */
	uint64_t ck_ts; /* the frame's opening CLOCK, to turn ts into wall time */
	int64_t ck_wall;
	uint64_t open_off; /* set by the flusher before the frame ends: offset of the
			    * frame of the oldest open action's START, UINT64_MAX if none */
	int64_t file_wall; /* for the header: when the current file was opened */
	uint32_t file_seq; /* and its number among the writer's files */
};

int pl_encoder_init(struct pl_encoder *e, int level);
void pl_encoder_destroy(struct pl_encoder *e);
/* Forget all file state (new file after fork): names, chunk, open frame. */
void pl_encoder_reset_file(struct pl_encoder *e, uint64_t own_prefix);

/* Open a frame if none is open: the magic frame and HEADER record when @argv is not
 * NULL (a new file), then a CLOCK checkpoint. */
void pl_enc_frame_open(struct pl_encoder *e, const struct pl_clock_conv *c,
		       const char *const *argv);
/* THREAD record. */
void pl_enc_thread(struct pl_encoder *e, uint32_t thread, int64_t tid, const char *name,
		   size_t name_len);
/* Bytes of records buffered and not yet fed to the compressor (raw and the block being
 * built, with its record's headers). */
static inline size_t pl_enc_pending(const struct pl_encoder *e)
{
	return e->raw.size + (e->blk.open ? pl_enc_block_bytes(&e->blk) + 64 : 0);
}
/* The open frame is full: end it before more records go in. Asked after every event:
 * the block's exact size (a sum over its columns, a fifth of the encoder's own time) is
 * counted only once an upper bound of it says the frame may be full. */
static inline bool pl_enc_frame_full(struct pl_encoder *e)
{
	if (e->frame_events >= PL_FRAME_MAX_EVENTS)
		return true;
	size_t base = e->raw.size + e->frame_raw + (e->blk.open ? 64 : 0);
	if (base + e->blk.bytes_bound < PL_FRAME_TARGET_BYTES)
		return false;
	e->blk.bytes_bound = e->blk.open ? pl_enc_block_bytes(&e->blk) : 0;
	return base + e->blk.bytes_bound >= PL_FRAME_TARGET_BYTES;
}
/* One staged event of @thread (into the block being built). */
void pl_enc_event(struct pl_encoder *e, const struct pl_clock_conv *c, uint32_t thread, int64_t tid,
		  const struct pl_ev *ev, uint64_t *last_ts);
struct pl_openset;

/* The staged events of @thread at @p[0..@len) (a span of its ring, PAD events skipped)
 * into the block being built, each also noted in @open (pl_openset_note), until the span
 * ends or the frame is full (pl_enc_frame_full). The same records as pl_enc_event() one
 * event at a time, with the block's cursors kept in registers across events. Returns the
 * bytes of @p taken (up to the event that filled the frame, included). */
size_t pl_enc_run(struct pl_encoder *e, const struct pl_clock_conv *c, uint32_t thread, int64_t tid,
		  const uint8_t *p, size_t len, uint64_t *last_ts, struct pl_openset *open);

/* DROPPED record in @thread's chunk (0: the writer itself). */
void pl_enc_dropped(struct pl_encoder *e, const struct pl_clock_conv *c, uint32_t thread,
		    uint64_t count, const char *reason);
/* STATS record: @n counters named by @keys. */
void pl_enc_stats(struct pl_encoder *e, const char *const *keys, const uint64_t *vals, size_t n);
/* Feed the cycle's names and records to the compressor. When the names alone fill the
 * frame, *@more is set and the records stay buffered: end the frame, open another and
 * call again. Returns 0 or -PL_ENOMEM. */
int pl_enc_commit(struct pl_encoder *e, bool *more);
/* End the open frame with a closing CLOCK checkpoint (the writer's last sign of life if
 * the process dies before the next frame); its bytes are then out[0..out_len). Returns 0,
 * -PL_ENOMEM or -PL_EIO. */
int pl_enc_frame_end(struct pl_encoder *e, const struct pl_clock_conv *c);
/* Drop the compressed bytes after they were written. */
void pl_enc_frame_clear(struct pl_encoder *e);
/* The frame could not be written: names it defined must be defined again, and if it
 * started the file, so must the magic and header. Returns true in that last case. */
bool pl_enc_frame_lost(struct pl_encoder *e);

#endif /* PL_ENCODE_H */
