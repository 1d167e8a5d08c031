/* SPDX-License-Identifier: MIT */
/* encode.c - msgpack records and zstd frames, as specified in format.h. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <perflog/perflog.h>

#include "../common/config.h"
#include "../common/format.h"
#include "../common/leb128.h"
#include "../common/macros.h"
#include "../common/mpcursor.h"
#include "encode.h"
#include "names.h"
#include "openset.h"

int pl_encoder_init(struct pl_encoder *e, int level)
{
	memset(e, 0, sizeof(*e));
	msgpack_sbuffer_init(&e->raw);
	msgpack_packer_init(&e->pk, &e->raw, msgpack_sbuffer_write);
	msgpack_sbuffer_init(&e->defs);
	msgpack_packer_init(&e->dpk, &e->defs, msgpack_sbuffer_write);
	e->cctx = ZSTD_createCCtx();
	if (!e->cctx)
		return -PL_ENOMEM;
	/* The checksum lets the reader refuse a damaged frame instead of decoding garbage. */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_checksumFlag, 1)))
		return -PL_EINVAL;
	e->magic_pending = true;
	e->raw_min = UINT64_MAX;
	e->open_off = UINT64_MAX;
	return 0;
}

void pl_encoder_destroy(struct pl_encoder *e)
{
	for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
		free(e->blk.col[i].p);
	msgpack_sbuffer_destroy(&e->raw);
	msgpack_sbuffer_destroy(&e->defs);
	ZSTD_freeCCtx(e->cctx);
	free(e->out);
	e->cctx = NULL;
	e->out = NULL;
}

void pl_encoder_reset_file(struct pl_encoder *e, uint64_t own_prefix)
{
	msgpack_sbuffer_clear(&e->raw);
	msgpack_sbuffer_clear(&e->defs);
	ZSTD_CCtx_reset(e->cctx, ZSTD_reset_session_only);
	e->out_len = 0;
	e->magic_pending = true;
	e->frame_open = false;
	e->frame_raw = e->frame_events = 0;
	e->names_defined = 0;
	e->chunk_open = false;
	e->blk.open = false;
	e->own_prefix = own_prefix;
	e->clock = (struct pl_clock_cache){0}; /* the file's conversion is a new one */
	e->raw_flags = 0;
	e->raw_events = 0;
	e->raw_min = UINT64_MAX;
	e->raw_max = 0;
}

static void flush_block(struct pl_encoder *e);

/* A timed record at @ts went into raw. */
static inline void raw_time(struct pl_encoder *e, uint64_t ts)
{
	if (ts < e->raw_min)
		e->raw_min = ts;
	if (ts > e->raw_max)
		e->raw_max = ts;
}

static int out_reserve(struct pl_encoder *e, size_t more)
{
	if (e->out_len + more <= e->out_cap)
		return 0;
	size_t cap = e->out_cap ? e->out_cap : 64 << 10;
	while (cap < e->out_len + more)
		cap *= 2;
	uint8_t *p = realloc(e->out, cap);
	if (!p)
		return -PL_ENOMEM;
	e->out = p;
	e->out_cap = cap;
	return 0;
}

static void pack_strn(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str_with_body(pk, s, len);
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
	pack_strn(pk, s, strlen(s));
}

/* HEADER goes into the definitions buffer: it must precede every other record. */
static void pack_header(struct pl_encoder *e, const struct pl_clock_conv *c,
			const char *const *argv)
{
	char host[256] = "";
	(void)gethostname(host, sizeof(host) - 1);
	msgpack_packer *pk = &e->dpk;
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint8(pk, PL_K_HEADER);
	msgpack_pack_map(pk, 13);
	pack_cstr(pk, PL_H_FORMAT);
	pack_cstr(pk, "perflog");
	pack_cstr(pk, PL_H_VERSION);
	msgpack_pack_uint32(pk, PL_FORMAT_VERSION);
	pack_cstr(pk, PL_H_PID);
	msgpack_pack_int64(pk, getpid());
	pack_cstr(pk, PL_H_HOST);
	pack_cstr(pk, host);
	pack_cstr(pk, PL_H_ARGV);
	size_t argc = 0;
	while (argv && argv[argc] && argc < 4096)
		argc++;
	msgpack_pack_array(pk, argc);
	for (size_t i = 0; i < argc; i++)
		pack_strn(pk, argv[i], strnlen(argv[i], 4096));
	pack_cstr(pk, PL_H_CLOCK);
	pack_cstr(pk, c->tsc ? "tsc" : "monotonic");
	pack_cstr(pk, PL_H_TICKS);
	msgpack_pack_double(pk, pl_clock_conv_hz(c));
	pack_cstr(pk, PL_H_MONO);
	msgpack_pack_uint64(pk, c->mono0);
	pack_cstr(pk, PL_H_WALL);
	msgpack_pack_int64(pk, c->wall0);
	pack_cstr(pk, PL_H_PREFIX);
	msgpack_pack_uint64(pk, e->own_prefix);
	pack_cstr(pk, PL_H_LIBRARY);
	pack_cstr(pk, "perflog " PL_VERSION_STRING);
	pack_cstr(pk, PL_H_FILE_WALL);
	msgpack_pack_int64(pk, e->file_wall);
	pack_cstr(pk, PL_H_FILE_SEQ);
	msgpack_pack_uint32(pk, e->file_seq);
}

void pl_enc_frame_open(struct pl_encoder *e, const struct pl_clock_conv *c, const char *const *argv)
{
	if (e->frame_open)
		return;
	e->frame_open = true;
	e->frame_raw = e->frame_events = 0;
	e->chunk_open = false;
	e->names_at_open = e->names_defined;
	e->frame_had_magic = e->magic_pending;
	uint64_t mono = pl_mono_ns();
	e->frame_opened_ns = mono;
	if (e->magic_pending && out_reserve(e, PL_MAGIC_FRAME_BYTES) == 0) {
		uint8_t m[PL_MAGIC_FRAME_BYTES];
		uint32_t id = PL_MAGIC_FRAME_ID, len = 8;
		memcpy(m, &id, 4); /* little-endian hosts only: x86-64 and aarch64 */
		memcpy(m + 4, &len, 4);
		memcpy(m + 8, PL_MAGIC_TEXT, 7);
		m[15] = PL_FORMAT_VERSION;
		memcpy(e->out + e->out_len, m, sizeof(m));
		e->out_len += sizeof(m);
		e->magic_pending = false;
	}
	/* Room for the index frame, filled in when the frame ends and its size is known. */
	e->ix_at = SIZE_MAX;
	if (out_reserve(e, PL_INDEX_FRAME_BYTES) == 0) {
		e->ix_at = e->out_len;
		memset(e->out + e->out_len, 0, PL_INDEX_FRAME_BYTES);
		e->out_len += PL_INDEX_FRAME_BYTES;
	}
	e->ix_flags = 0;
	e->ix_events = 0;
	e->ix_min = UINT64_MAX;
	e->ix_max = 0;
	if (argv) {
		pack_header(e, c, argv);
		e->ix_flags |= PL_IX_HEADER;
	}
	/* The checkpoint's time on the events' own time line (the tick conversion), not
	 * CLOCK_MONOTONIC's: they differ by the conversion's small offset, which would
	 * otherwise shift the wall-clock times of one frame against the next by some µs.
	 * It goes with the definitions, fed first: records already buffered (held back
	 * while names filled the previous frame) come into this frame after it. */
	uint64_t ticks;
	int64_t wall;
	pl_clock_wall_pair(c->tsc, &ticks, &wall);
	e->ck_ts = pl_clock_ns(c, ticks);
	e->ck_wall = wall;
	msgpack_pack_array(&e->dpk, 3);
	msgpack_pack_uint8(&e->dpk, PL_K_CLOCK);
	msgpack_pack_uint64(&e->dpk, e->ck_ts);
	msgpack_pack_int64(&e->dpk, wall);
}

void pl_enc_thread(struct pl_encoder *e, uint32_t thread, int64_t tid, const char *name,
		   size_t name_len)
{
	flush_block(e);
	msgpack_pack_array(&e->pk, 4);
	e->raw_flags |= PL_IX_THREAD;
	msgpack_pack_uint8(&e->pk, PL_K_THREAD);
	msgpack_pack_uint32(&e->pk, thread);
	msgpack_pack_int64(&e->pk, tid);
	pack_strn(&e->pk, name, name_len);
}

/* Free space for @n more bytes of records; NULL if memory ran out. */
static uint8_t *raw_reserve(struct pl_encoder *e, size_t n)
{
	msgpack_sbuffer *b = &e->raw;
	if (b->alloc - b->size < n) {
		size_t cap = b->alloc ? b->alloc : 256 << 10;
		while (cap - b->size < n)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p)
			return NULL;
		b->data = p;
		b->alloc = cap;
	}
	return (uint8_t *)b->data + b->size;
}

/* Open @thread's chunk at @ts unless it is the open one. */
static inline __attribute__((always_inline)) void
chunk_cur(struct pl_encoder *e, struct pl_mpcursor *c, uint32_t thread, uint64_t ts)
{
	if (e->chunk_open && e->chunk_thread == thread)
		return;
	pl_mp_array(c, 3);
	pl_mp_uint8(c, PL_K_CHUNK);
	pl_mp_uint32(c, thread);
	pl_mp_uint64(c, ts);
	e->chunk_open = true;
	e->chunk_thread = thread;
	e->prev_ts = ts;
	e->prev_seq = 0;
}

static void chunk(struct pl_encoder *e, uint32_t thread, uint64_t ts)
{
	flush_block(e);
	struct pl_mpcursor c = {raw_reserve(e, 32)};
	if (!c.p)
		return;
	chunk_cur(e, &c, thread, ts);
	e->raw.size = (size_t)((char *)c.p - e->raw.data);
}

/* ---- BLOCK records: one thread's events as columns (format.h) ---- */

enum { C_KINDS, C_DTS, C_TYPES, C_TASKS, C_LEVELS, C_DURS, C_FIELDS, C_EXCS };

/* Room for @n more bytes in column @c; false if memory ran out. */
static inline bool col_room(struct pl_col *c, size_t n)
{
	if (likely(c->cap - c->len >= n))
		return true;
	size_t cap = c->cap ? c->cap : 4096;
	while (cap - c->len < n)
		cap *= 2;
	uint8_t *p = realloc(c->p, cap);
	if (!p)
		return false;
	c->p = p;
	c->cap = cap;
	return true;
}

/* The most one event adds to all columns together, besides its level entries
 * (PL_UV_MAX each), fields and exception texts: the kind byte, its delta time, type,
 * task (a remote prefix and seq), depth, duration, fields length, two text lengths. */
#define EV_FIXED_MAX (1 + 3 * PL_UV_MAX + 8 + PL_UV_MAX + 2 * PL_UV_MAX + 2 * PL_UV_MAX)

/* Free bytes a column is given beyond an event's need when it must grow (pl_enc_event):
 * 8 columns of it at most, next to the ~5 MiB a frame's block may take. */
#define COL_SLACK (32u << 10)

static inline void col_uv(struct pl_col *c, uint64_t v)
{
	c->len = (size_t)(pl_uv_put(c->p + c->len, v) - c->p);
}

static inline void col_bytes(struct pl_col *c, const void *p, size_t n)
{
	memcpy(c->p + c->len, p, n);
	c->len += n;
}

/* memcpy() for the usual few bytes of fields: two overlapping moves instead of a call
 * (a tenth of the flusher's time), reading and writing only the @n. */
static inline void copy_short(uint8_t *d, const uint8_t *p, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;
		memcpy(&a, p, 8);
		memcpy(&b, p + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else {
		memcpy(d, p, n);
	}
}

static inline void col_bytes_short(struct pl_col *c, const uint8_t *p, size_t n)
{
	copy_short(c->p + c->len, p, n);
	c->len += n;
}

/* The open block goes into raw as one BLOCK record; it stays the open chunk (a DROPPED
 * of its thread may follow), while the thread's next events open another block. Its
 * time range counts for the frame's index only once it is in raw. */
static void flush_block(struct pl_encoder *e)
{
	struct pl_enc_block *b = &e->blk;
	if (!b->open)
		return;
	b->open = false;
	b->bytes_bound = 0;
	if (b->count == 0)
		return; /* its first event found no memory: nothing to write */
	struct pl_mpcursor cur = {raw_reserve(e, pl_enc_block_bytes(b) + 64)};
	if (cur.p) {
		pl_mp_array(&cur, PL_BLK_ELEMENTS);
		pl_mp_uint8(&cur, PL_K_BLOCK);
		pl_mp_uint32(&cur, b->thread);
		pl_mp_uint64(&cur, b->base_ts);
		pl_mp_uint32(&cur, b->count);
		for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
			pl_mp_bin_with_body(&cur, b->col[i].p, b->col[i].len);
		e->raw.size = (size_t)((char *)cur.p - e->raw.data);
		raw_time(e, b->base_ts);
		raw_time(e, b->last_ts);
		e->chunk_open = true;
		e->chunk_thread = b->thread;
	} else { /* out of memory: the block's events are lost, as a record would be; no
		  * chunk is open for a DROPPED that follows */
		e->raw_events -= b->count;
		e->frame_events -= b->count;
		e->chunk_open = false;
	}
}

void pl_enc_event(struct pl_encoder *e, const struct pl_clock_conv *c, uint32_t thread, int64_t tid,
		  const struct pl_ev *ev, uint64_t *last_ts)
{
	const uint8_t *p = (const uint8_t *)(ev + 1);
	uint64_t prefix = e->own_prefix, dur = 0;
	bool remote = ev->flags & PL_EVF_REMOTE;
	if (remote) {
		memcpy(&prefix, p, 8);
		p += 8;
	}
	if (ev->kind == PL_EV_END) {
		memcpy(&dur, p, 8);
		p += 8;
	}
	const uint8_t *level = p;
	p += ev->depth * 4u;
	const uint8_t *fields = p;
	p += ev->fields_len;
	const char *exc_type = (const char *)p, *exc_msg = exc_type + ev->exc_type_len;

	if (ev->kind == PL_EV_THREAD_NAME) {
		pl_enc_thread(e, thread, tid, exc_type, ev->exc_type_len);
		return;
	}
	/* The conversion never steps back (clock.h), but a thread that moved to another CPU
	 * may read a TSC a little behind: clamp, so that its timestamps never step back. */
	uint64_t ts_conv = pl_clock_ns_cached(c, &e->clock, ev->ticks), ts = ts_conv;
	if (ts < *last_ts)
		ts = *last_ts;
	*last_ts = ts;
	struct pl_enc_block *b = &e->blk;
	if (!b->open || b->thread != thread) {
		flush_block(e);
		b->open = true;
		b->thread = thread;
		b->base_ts = ts;
		b->count = 0;
		for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
			b->col[i].len = 0;
		b->bytes_bound = 0;
		e->chunk_open = false; /* the block is the chunk now */
		e->prev_ts = ts;
		e->prev_seq = 0;
	}
	bool end = ev->kind == PL_EV_END;
	bool has_fields = ev->flags & PL_EVF_FIELDS;
	bool failed = ev->flags & PL_EVF_FAILED;
	struct pl_col *col = b->col;
	/* All the room first: an event goes in whole or not at all. b->room, a lower bound
	 * of every column's free bytes, saves checking the eight one by one (they were a
	 * sixth of this function). */
	size_t need = EV_FIXED_MAX + PL_UV_MAX * (size_t)ev->depth + ev->fields_len +
		      ev->exc_type_len + ev->exc_msg_len;
	if (likely(b->room >= need)) {
		b->room -= need;
	} else {
		/* Each column is given COL_SLACK bytes more than this event needs when it can
		 * be: b->room counts every event at its most, ~10 times its usual size, and
		 * would otherwise run out (and bring the run here) every few dozen events. */
		if (!col_room(&col[C_KINDS], 1) || !col_room(&col[C_DTS], PL_UV_MAX) ||
		    !col_room(&col[C_TYPES], PL_UV_MAX) ||
		    !col_room(&col[C_TASKS], 8 + PL_UV_MAX) ||
		    !col_room(&col[C_LEVELS], PL_UV_MAX * (1 + (size_t)ev->depth)) ||
		    !col_room(&col[C_DURS], PL_UV_MAX) ||
		    !col_room(&col[C_FIELDS], PL_UV_MAX + ev->fields_len) ||
		    !col_room(&col[C_EXCS], 2 * PL_UV_MAX + ev->exc_type_len + ev->exc_msg_len))
			return;
		for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
			(void)col_room(&col[i], need + COL_SLACK); /* short is fine: checked */
		size_t least = SIZE_MAX;
		for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
			least = PL_MIN(least, col[i].cap - col[i].len);
		b->room = least > need ? least - need : 0;
	}
	b->bytes_bound += need;
	uint8_t kind = end ? PL_K_END : ev->kind == PL_EV_START ? PL_K_START : PL_K_MESSAGE;
	unsigned outcome = !failed			  ? PL_OUT_SUCCEEDED
			   : ev->flags & PL_EVF_CANCELLED ? PL_OUT_CANCELLED
							  : PL_OUT_FAILED;
	col[C_KINDS].p[col[C_KINDS].len++] =
	    (uint8_t)(kind | outcome << PL_BLK_OUTCOME_SHIFT | (has_fields ? PL_BLK_FIELDS : 0) |
		      (remote ? PL_BLK_REMOTE : 0));
	col_uv(&col[C_DTS], ts - e->prev_ts);
	e->prev_ts = ts;
	if (!end)
		col_uv(&col[C_TYPES], ev->type);
	if (remote) {
		col_bytes(&col[C_TASKS], &prefix, 8); /* little-endian hosts only */
		col_uv(&col[C_TASKS], ev->seq);
	} else {
		col_uv(&col[C_TASKS], pl_zigzag((int64_t)(ev->seq - e->prev_seq)));
		e->prev_seq = ev->seq;
	}
	col_uv(&col[C_LEVELS], ev->depth);
	for (uint32_t i = 0; i < ev->depth; i++) {
		uint32_t l;
		memcpy(&l, level + 4 * i, 4);
		col_uv(&col[C_LEVELS], l);
	}
	if (end) {
		/* The same function as the timestamps, so START ts + duration == END ts. */
		col_uv(&col[C_DURS], ts_conv - pl_clock_ns_cached(c, &e->clock, ev->ticks - dur));
	}
	if (has_fields) {
		col_uv(&col[C_FIELDS], ev->fields_len);
		col_bytes_short(&col[C_FIELDS], fields, ev->fields_len);
	}
	if (failed) {
		col_uv(&col[C_EXCS], ev->exc_type_len);
		col_bytes(&col[C_EXCS], exc_type, ev->exc_type_len);
		col_uv(&col[C_EXCS], ev->exc_msg_len);
		col_bytes(&col[C_EXCS], exc_msg, ev->exc_msg_len);
	}
	b->count++;
	b->last_ts = ts;
	e->frame_events++;
	e->raw_events++;
}

/* ---- a run of staged events at once (pl_enc_run) ---- */

_Static_assert((int)PL_EV_START == (int)PL_K_START && (int)PL_EV_END == (int)PL_K_END &&
		   (int)PL_EV_MESSAGE == (int)PL_K_MESSAGE && PL_EVF_FIELDS << 2 == PL_BLK_FIELDS,
	       "a plain event's kinds byte is its kind and fields flag, moved");

/* Bytes ahead of the event being encoded that the flusher prefetches. */
#define RUN_PREFETCH 1024

/* The column cursors of the block being built, kept in locals across a run and written
 * back before anything else looks at the block. @used sums the events' bounds since the
 * load, against @lim: the least of the columns' room and the frame's bytes left. */
#define RUN_LOAD()                                                                                 \
	do {                                                                                       \
		size_t used_ = e->raw.size + e->frame_raw + 64 + b->bytes_bound;                   \
		size_t left_ = used_ < PL_FRAME_TARGET_BYTES ? PL_FRAME_TARGET_BYTES - used_ : 0;  \
		ev_left = e->frame_events < PL_FRAME_MAX_EVENTS                                    \
			      ? PL_FRAME_MAX_EVENTS - (uint32_t)e->frame_events                    \
			      : 0;                                                                 \
		/* Room means every column has memory (pl_enc_event): before, no cursor. */        \
		open_here = b->open && b->thread == thread && b->room;                             \
		lim = open_here ? PL_MIN(b->room, left_) : 0;                                      \
		kp = dp = tp = ap = lp = up = fp = NULL;                                           \
		if (open_here) {                                                                   \
			kp = col[C_KINDS].p + col[C_KINDS].len;                                    \
			dp = col[C_DTS].p + col[C_DTS].len;                                        \
			tp = col[C_TYPES].p + col[C_TYPES].len;                                    \
			ap = col[C_TASKS].p + col[C_TASKS].len;                                    \
			lp = col[C_LEVELS].p + col[C_LEVELS].len;                                  \
			up = col[C_DURS].p + col[C_DURS].len;                                      \
			fp = col[C_FIELDS].p + col[C_FIELDS].len;                                  \
		}                                                                                  \
		prev_ts = e->prev_ts;                                                              \
		prev_seq = e->prev_seq;                                                            \
	} while (0)

#define RUN_STORE()                                                                                \
	do {                                                                                       \
		if (open_here) {                                                                   \
			col[C_KINDS].len = (size_t)(kp - col[C_KINDS].p);                          \
			col[C_DTS].len = (size_t)(dp - col[C_DTS].p);                              \
			col[C_TYPES].len = (size_t)(tp - col[C_TYPES].p);                          \
			col[C_TASKS].len = (size_t)(ap - col[C_TASKS].p);                          \
			col[C_LEVELS].len = (size_t)(lp - col[C_LEVELS].p);                        \
			col[C_DURS].len = (size_t)(up - col[C_DURS].p);                            \
			col[C_FIELDS].len = (size_t)(fp - col[C_FIELDS].p);                        \
		}                                                                                  \
		b->room -= used;                                                                   \
		b->bytes_bound += used;                                                            \
		if (n)                                                                             \
			b->last_ts = lts;                                                          \
		b->count += n;                                                                     \
		e->frame_events += n;                                                              \
		e->raw_events += n;                                                                \
		e->prev_ts = prev_ts;                                                              \
		e->prev_seq = prev_seq;                                                            \
		used = 0;                                                                          \
		n = 0;                                                                             \
	} while (0)

size_t pl_enc_run(struct pl_encoder *e, const struct pl_clock_conv *c, uint32_t thread, int64_t tid,
		  const uint8_t *p, size_t len, uint64_t *last_ts, struct pl_openset *open)
{
	struct pl_enc_block *b = &e->blk;
	struct pl_col *col = b->col;
	uint8_t *kp, *dp, *tp, *ap, *lp, *up, *fp;
	size_t lim, used = 0, off = 0;
	uint64_t prev_ts, prev_seq, lts = *last_ts;
	uint32_t n = 0, ev_left;
	bool open_here;
	RUN_LOAD();
	while (off < len) {
		const struct pl_ev *ev = (const struct pl_ev *)(p + off);
		/* The recording thread wrote these lines on another core: ask for them a few
		 * events ahead, or each one costs a miss (the encoder's largest cost). Past
		 * the segment's end is harmless: a prefetch never faults. */
		__builtin_prefetch(p + off + RUN_PREFETCH);
		unsigned kind = ev->kind;
		if (kind == PL_EV_PAD) {
			off += ev->size;
			continue;
		}
		/* Plain events of the open block that fit its room and the frame are encoded
		 * here; the rest (another thread's block, a remote task, an exception, a
		 * column to grow, a thread name, a full frame) go the slow way. */
		size_t need = EV_FIXED_MAX + PL_UV_MAX * (size_t)ev->depth + ev->fields_len;
		if (unlikely(kind > PL_EV_MESSAGE ||
			     (ev->flags & (PL_EVF_REMOTE | PL_EVF_FAILED)) || need > lim - used ||
			     n >= ev_left)) {
			RUN_STORE();
			/* A full frame ends before this event (after one at least, as every
			 * call must take something). */
			if (off && pl_enc_frame_full(e))
				break;
			*last_ts = lts;
			pl_enc_event(e, c, thread, tid, ev, last_ts);
			pl_openset_note(open, ev);
			lts = *last_ts;
			off += ev->size;
			RUN_LOAD();
			continue;
		}
		off += ev->size;
		const uint8_t *q = (const uint8_t *)(ev + 1);
		uint64_t dur = 0;
		if (kind == PL_EV_END) {
			memcpy(&dur, q, 8);
			q += 8;
		}
		uint64_t ts_conv = pl_clock_ns_cached(c, &e->clock, ev->ticks);
		uint64_t ts = ts_conv < lts ? lts : ts_conv; /* see pl_enc_event */
		lts = ts;
		used += need;
		*kp++ = (uint8_t)(kind | (ev->flags & PL_EVF_FIELDS) << 2);
		dp = pl_uv_put(dp, ts - prev_ts);
		prev_ts = ts;
		if (kind != PL_EV_END)
			tp = pl_uv_put(tp, ev->type);
		ap = pl_uv_put(ap, pl_zigzag((int64_t)(ev->seq - prev_seq)));
		prev_seq = ev->seq;
		uint32_t depth = ev->depth;
		lp = pl_uv_put(lp, depth);
		for (uint32_t i = 0; i < depth; i++) {
			uint32_t l;
			memcpy(&l, q + 4 * i, 4);
			lp = pl_uv_put(lp, l);
		}
		if (kind == PL_EV_END)
			up = pl_uv_put(up,
				       ts_conv - pl_clock_ns_cached(c, &e->clock, ev->ticks - dur));
		if (ev->flags & PL_EVF_FIELDS) {
			fp = pl_uv_put(fp, ev->fields_len);
			copy_short(fp, q + 4 * depth, ev->fields_len);
			fp += ev->fields_len;
		}
		n++;
		pl_openset_note(open, ev);
	}
	RUN_STORE();
	*last_ts = lts;
	return off;
}

void pl_enc_dropped(struct pl_encoder *e, const struct pl_clock_conv *c, uint32_t thread,
		    uint64_t count, const char *reason)
{
	/* Now, on the events' time line (see pl_enc_frame_open). */
	chunk(e, thread, pl_clock_ns(c, pl_ticks(c->tsc)));
	e->raw_flags |= PL_IX_DROPPED;
	raw_time(e, e->prev_ts); /* the record takes its chunk's latest time */
	msgpack_pack_array(&e->pk, 3);
	msgpack_pack_uint8(&e->pk, PL_K_DROPPED);
	msgpack_pack_uint64(&e->pk, count);
	pack_cstr(&e->pk, reason);
}

void pl_enc_stats(struct pl_encoder *e, const char *const *keys, const uint64_t *vals, size_t n)
{
	flush_block(e);
	e->raw_flags |= PL_IX_STATS;
	msgpack_pack_array(&e->pk, 2);
	msgpack_pack_uint8(&e->pk, PL_K_STATS);
	msgpack_pack_map(&e->pk, n);
	for (size_t i = 0; i < n; i++) {
		pack_cstr(&e->pk, keys[i]);
		msgpack_pack_uint64(&e->pk, vals[i]);
	}
}

static int compress(struct pl_encoder *e, const void *src, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {src, len, 0};
	for (;;) {
		if (out_reserve(e, ZSTD_CStreamOutSize()) < 0)
			return -PL_ENOMEM;
		ZSTD_outBuffer out = {e->out, e->out_cap, e->out_len};
		size_t left = ZSTD_compressStream2(e->cctx, &out, &in, mode);
		e->out_len = out.pos;
		if (ZSTD_isError(left))
			return -PL_EIO;
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int pl_enc_commit(struct pl_encoder *e, bool *more)
{
	flush_block(e);
	/* Names are read after the cycle's events: any name an event uses was interned
	 * before the event was staged, so it is below this count. A new file defines every
	 * name so far, which may exceed a frame: stop at the frame target, and let the
	 * caller end the frame and call again before the records go in. */
	uint32_t n = pl_names_count();
	uint32_t id = e->names_defined ? e->names_defined : 1, from = id;
	for (; id < n && e->frame_raw + e->defs.size < PL_FRAME_TARGET_BYTES; id++) {
		uint32_t len;
		const char *s = pl_names_get(id, &len);
		msgpack_pack_array(&e->dpk, 3);
		msgpack_pack_uint8(&e->dpk, PL_K_NAME);
		msgpack_pack_uint32(&e->dpk, id);
		pack_strn(&e->dpk, s, len);
	}
	if (id > from)
		e->ix_flags |= PL_IX_NAME;
	if (id > e->names_defined)
		e->names_defined = id;
	*more = id < n;
	int ret = 0;
	size_t raw = *more ? 0 : e->raw.size;
	if (e->defs.size)
		ret = compress(e, e->defs.data, e->defs.size, ZSTD_e_continue);
	if (ret == 0 && raw)
		ret = compress(e, e->raw.data, raw, ZSTD_e_continue);
	e->frame_raw += e->defs.size + raw;
	store_relaxed(&e->bytes_raw, e->bytes_raw + e->defs.size + raw);
	msgpack_sbuffer_clear(&e->defs);
	if (raw) {
		e->ix_flags |= e->raw_flags;
		e->ix_events += e->raw_events;
		if (e->raw_min < e->ix_min)
			e->ix_min = e->raw_min;
		if (e->raw_max > e->ix_max && e->raw_min <= e->raw_max)
			e->ix_max = e->raw_max;
		e->raw_flags = 0;
		e->raw_events = 0;
		e->raw_min = UINT64_MAX;
		e->raw_max = 0;
		msgpack_sbuffer_clear(&e->raw);
		/* The next records open a chunk of their own: buffered records must never
		 * depend on a chunk opened by records already fed, since they may be held
		 * back into the next frame (above), which begins with no chunk open. */
		e->chunk_open = false;
	}
	return ret;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8); /* little-endian hosts only, as the magic frame */
}

/* The wall time a reader gives @ts in this frame: from the frame's opening CLOCK
 * (unsigned arithmetic, as the reader's). */
static int64_t frame_wall(const struct pl_encoder *e, uint64_t ts)
{
	return (int64_t)((uint64_t)e->ck_wall + (ts - e->ck_ts));
}

/* Write the index frame reserved before the frame's data (format.h). */
static void fill_index(struct pl_encoder *e, uint64_t end_ts, int64_t end_wall)
{
	if (e->ix_at == SIZE_MAX)
		return;
	uint8_t *p = e->out + e->ix_at;
	uint32_t id = PL_INDEX_FRAME_ID, len = PL_INDEX_PAYLOAD;
	uint32_t data_len = (uint32_t)(e->out_len - e->ix_at - PL_INDEX_FRAME_BYTES);
	bool timed = e->ix_min <= e->ix_max;
	memcpy(p, &id, 4);
	memcpy(p + 4, &len, 4);
	p += 8;
	memcpy(p, PL_INDEX_MAGIC, 4);
	p[4] = PL_INDEX_VERSION;
	p[5] = e->ix_flags;
	p[6] = p[7] = 0;
	memcpy(p + 8, &data_len, 4);
	memcpy(p + 12, &e->ix_events, 4);
	put64(p + 16, timed ? (uint64_t)frame_wall(e, e->ix_min) : (uint64_t)INT64_MAX);
	put64(p + 24, timed ? (uint64_t)frame_wall(e, e->ix_max) : (uint64_t)INT64_MIN);
	put64(p + 32, e->open_off);
	put64(p + 40, end_ts);
	put64(p + 48, (uint64_t)end_wall);
}

int pl_enc_frame_end(struct pl_encoder *e, const struct pl_clock_conv *c)
{
	if (!e->frame_open)
		return 0;
	e->frame_open = false;
	e->chunk_open = false;
	/* A closing checkpoint, now: the frame says the writer was alive until it was
	 * written, which is all a reader has of a process killed later (perfan inflight). */
	uint8_t ck[32];
	struct pl_mpcursor cur = {ck};
	uint64_t ticks;
	int64_t wall;
	pl_clock_wall_pair(c->tsc, &ticks, &wall);
	pl_mp_array(&cur, 3);
	pl_mp_uint8(&cur, PL_K_CLOCK);
	pl_mp_uint64(&cur, pl_clock_ns(c, ticks));
	pl_mp_int64(&cur, wall);
	int ret = compress(e, ck, (size_t)(cur.p - ck), ZSTD_e_continue);
	if (ret == 0)
		ret = compress(e, NULL, 0, ZSTD_e_end);
	if (ret == 0)
		fill_index(e, pl_clock_ns(c, ticks), wall);
	return ret;
}

void pl_enc_frame_clear(struct pl_encoder *e)
{
	e->out_len = 0;
	e->frame_events = 0;
}

bool pl_enc_frame_lost(struct pl_encoder *e)
{
	e->names_defined = e->names_at_open;
	e->out_len = 0;
	e->frame_events = 0;
	if (e->frame_had_magic)
		e->magic_pending = true;
	return e->frame_had_magic;
}
