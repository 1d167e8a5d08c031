/* SPDX-License-Identifier: MIT */
/* reader.c - pl_reader: lifecycle and the record state machine.
 *
 * frames.c yields verified frame contents; each record is tokenized by msgpack-c's
 * unpacker (mptok.c, which also enforces the limits), then interpreted here: structural
 * records (NAME, CHUNK, CLOCK, HEADER) update the reader's state, the others are
 * delivered.
 *
 * The fast path. Most records are START, END, MESSAGE, CHUNK and CLOCK in the compact
 * encodings liblog's writer uses; tokenizing them first cost most of the reading time.
 * fast_record() decodes those straight from their bytes (mpbytes.h) and hands anything
 * else — another kind, an unusual encoding, a container in a field, anything wrong — to
 * the generic path unchanged, so every error and limit is still the generic path's, and
 * both give the same records (tests/c/test_fastpath.c compares them; fuzz_reader reads
 * each input both ways). PERFLOG_READER_GENERIC=1 in the environment turns it off.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/reader.h>
#include <perflog/status.h>

#include "../common/abi.h"
#include "../common/config.h"
#include "../common/format.h"
#include "../common/leb128.h"
#include "../common/macros.h"
#include "decode.h"
#include "frames.h"
#include "mpbytes.h"
#include "mptok.h"
#include "window.h"

struct pl_reader {
	char *path;
	struct pl_frames fr;
	const uint8_t *frame;
	size_t frame_len, pos;
	uint64_t frame_off;
	struct pl_mptok tok;   /* the current record's tokens */
	struct pl_arena arena; /* backs the current record's views; reset per record */
	struct pl_strtab names;
	uint32_t *tids; /* by thread number */
	uint32_t ntids;
	bool chunk_open;
	uint32_t thread;
	uint64_t prev_ts, prev_seq;
	/* The BLOCK record whose events are being delivered (format.h): its columns,
	 * consumed event by event, and where it is in the frame (for errors). */
	uint32_t blk_left, blk_tid; /* blk_tid: the OS thread id of its thread */
	size_t blk_pos, rec_pos;    /* rec_pos: the record being read (next_raw) */
	struct pl_bcur blk[PL_BLK_COLUMNS];
	uint64_t ck_ts; /* last CLOCK checkpoint */
	int64_t ck_wall;
	bool header_seen;
	bool opening;		  /* pl_reader_open: stop as soon as the header is read */
	uint8_t skip_fields;	  /* bit 1 << kind: that kind's fields are skipped
				   * (pl_reader_skip_fields_of()) */
	bool generic_only;	  /* PERFLOG_READER_GENERIC: no fast path */
	uint64_t records_generic; /* records the fast path left to the generic one */
	bool started;		  /* a record was read after the header */
	struct pl_window win;	  /* pl_reader_set_window() */
	bool meta_only;		  /* the current frame is read for THREAD/DROPPED/STATS */
	uint64_t frames;	  /* frames decompressed */
	/* The current frame's index, and what its records turned out to hold. */
	bool cur_ix_ok;
	struct pl_frame_ix cur_ix;
	uint8_t seen_flags;
	uint32_t seen_events;
	int64_t seen_first, seen_last;
	struct pl_trace_header hdr;
	char *hdr_store;
	int status; /* 0, PL_END, or the sticky error */
	struct pl_reader_error err;
	char reason[256];
};

static int set_error(struct pl_reader *r, int status, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int set_error(struct pl_reader *r, int status, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->status = status;
	r->err = (struct pl_reader_error){status, r->path, off, r->reason};
	return status;
}

static int record_error(struct pl_reader *r, int status, size_t rec_pos)
{
	const char *what = status == -PL_ELIMIT	   ? "safety limit exceeded"
			   : status == -PL_EFORMAT ? "not a perflog trace header"
			   : status == -PL_EVERSION
			       ? "trace format version newer than this reader's"
			   : status == -PL_ENOMEM ? "out of memory"
						  : "corrupt record";
	return set_error(r, status, r->frame_off, "%s in record at byte %zu of the frame's content",
			 what, rec_pos);
}

static int set_thread(struct pl_reader *r, uint64_t thread, int64_t tid)
{
	if (thread >= PL_READ_MAX_THREADS)
		return -PL_ELIMIT;
	if (thread >= r->ntids) {
		uint32_t n = r->ntids ? r->ntids : 16;
		while (n <= thread)
			n *= 2;
		uint32_t *t = realloc(r->tids, n * sizeof(*t));
		if (!t)
			return -PL_ENOMEM;
		memset(t + r->ntids, 0, (n - r->ntids) * sizeof(*t));
		r->tids = t;
		r->ntids = n;
	}
	r->tids[thread] = (uint32_t)tid;
	return 0;
}

/* The OS thread id of the current thread number (0: no THREAD record gave it yet). */
static inline uint32_t cur_tid(const struct pl_reader *r)
{
	return r->thread < r->ntids ? r->tids[r->thread] : 0;
}

/* @rec's times (@ts and its wall time), thread number and OS thread id (@tid). */
static inline void stamp(struct pl_reader *r, struct pl_record *rec, uint64_t ts, uint32_t tid)
{
	rec->ts_ns = ts;
	/* Unsigned: a hostile CLOCK record near INT64_MAX must wrap, not overflow (UB). */
	rec->wall_ns = (int64_t)((uint64_t)r->ck_wall + (ts - r->ck_ts));
	if (rec->wall_ns < r->seen_first)
		r->seen_first = rec->wall_ns;
	if (rec->wall_ns > r->seen_last)
		r->seen_last = rec->wall_ns;
	rec->thread = r->thread;
	rec->tid = tid;
}

/* START / END / MESSAGE: the record's elements after the kind are at @c. */
static int action_record(struct pl_reader *r, uint64_t kind, struct pl_tcur *c,
			 struct pl_record *rec)
{
	struct pl_arena *z = &r->arena;
	int64_t dts;
	uint64_t type = 0;
	if (!r->chunk_open || !pl_tcur_i64(c, &dts))
		return -PL_ECORRUPT;
	if (kind != PL_K_END) {
		if (!pl_tcur_u64(c, &type) || !(rec->type = pl_strtab_get(&r->names, type)))
			return -PL_ECORRUPT;
		rec->type_id = (uint32_t)type; /* below PL_READ_MAX_NAMES: it is defined */
	} else {
		rec->type = "";
	}
	const struct pl_tok *task = pl_tcur_take(c, PL_T_ARRAY);
	if (task) {
		if (task->n != 2 || !pl_tcur_u64(c, &rec->task_prefix) ||
		    !pl_tcur_u64(c, &rec->task_seq))
			return -PL_ECORRUPT;
	} else {
		int64_t d;
		if (!pl_tcur_i64(c, &d))
			return -PL_ECORRUPT;
		r->prev_seq += (uint64_t)d;
		rec->task_prefix = r->hdr.task_prefix;
		rec->task_seq = r->prev_seq;
	}
	int ret = pl_dec_level(z, c, &rec->level, &rec->depth);
	if (ret < 0)
		return ret;
	if (kind == PL_K_END) {
		uint64_t outcome;
		if (!pl_tcur_u64(c, &outcome) || outcome > 1 || !pl_tcur_u64(c, &rec->duration_ns))
			return -PL_ECORRUPT;
		rec->outcome = outcome ? PL_FAILED : PL_SUCCEEDED;
	}
	if (pl_tcur_peek(c)) {
		if (r->skip_fields & (1u << kind))
			pl_tcur_skip(c); /* still tokenized (and so checked), not decoded */
		else if ((ret = pl_dec_fields(z, &r->names, c, &rec->fields, &rec->nfields)) < 0)
			return ret;
	}
	if (kind == PL_K_END && rec->outcome == PL_FAILED && pl_tcur_peek(c)) {
		if (pl_dec_cstr(z, c, &rec->exc_type) < 0)
			return -PL_ECORRUPT;
		if (pl_tcur_peek(c) && pl_dec_cstr(z, c, &rec->exc_msg) < 0)
			return -PL_ECORRUPT;
	}
	r->prev_ts += (uint64_t)dts;
	rec->kind = (enum pl_record_kind)kind;
	stamp(r, rec, r->prev_ts, cur_tid(r));
	return 0;
}

/* Most of what the fast path takes: deeper levels and more fields go the generic way. */
#define FAST_MAX_DEPTH	64
#define FAST_MAX_FIELDS 15 /* a fixmap */

/* The fast paths' fields (@nf pairs decoded into @kv) as the record's, in the arena. */
static void put_views(struct pl_reader *r, struct pl_record *rec, const struct pl_kv *kv,
		      uint32_t nf)
{
	if (!nf)
		return;
	struct pl_kv *f = pl_arena_alloc(&r->arena, nf * sizeof(*f));
	for (uint32_t i = 0; i < nf; i++)
		f[i] = kv[i];
	rec->fields = f;
	rec->nfields = nf;
}

/* A failed END's exception type and message (NULL: absent) as NUL-terminated copies. */
static void put_exc(struct pl_reader *r, struct pl_record *rec, const char *const exc[2],
		    const uint64_t len[2])
{
	for (int i = 0; i < 2; i++) {
		if (!exc[i])
			continue;
		char *t = pl_arena_alloc(&r->arena, len[i] + 1);
		memcpy(t, exc[i], len[i]);
		t[len[i]] = '\0';
		*(i ? &rec->exc_msg : &rec->exc_type) = t;
	}
}

/* ---- BLOCK records (format version 2): events as columns ---- */

_Static_assert((int)PL_OUT_SUCCEEDED == (int)PL_SUCCEEDED && (int)PL_OUT_FAILED == (int)PL_FAILED &&
		   (int)PL_OUT_CANCELLED == (int)PL_CANCELLED,
	       "the format's outcome numbers are enum pl_outcome's");

enum { C_KINDS, C_DTS, C_TYPES, C_TASKS, C_LEVELS, C_DURS, C_FIELDS, C_EXCS };

/* A BLOCK record's elements: its events are delivered next (block_event). A BLOCK in a
 * version 1 file is a kind that version did not have, skipped as such. Returns 0 or a
 * negative pl_status. */
static int open_block(struct pl_reader *r, uint64_t thread, uint64_t base_ts, uint64_t count,
		      const struct pl_bcur *cols)
{
	if (r->hdr.version < 2)
		return 0;
	if (thread >= PL_READ_MAX_THREADS)
		return -PL_ELIMIT;
	/* One kinds byte per event: the count is justified by the bytes present. */
	if (count != (uint64_t)(cols[C_KINDS].end - cols[C_KINDS].p))
		return -PL_ECORRUPT;
	for (unsigned i = 0; count == 0 && i < PL_BLK_COLUMNS; i++)
		if (cols[i].p != cols[i].end)
			return -PL_ECORRUPT; /* columns left over */
	for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
		r->blk[i] = cols[i];
	r->chunk_open = true;
	r->thread = (uint32_t)thread;
	r->prev_ts = base_ts;
	r->prev_seq = 0;
	r->blk_pos = r->rec_pos;
	r->blk_left = (uint32_t)count;
	r->blk_tid = cur_tid(r); /* a THREAD record cannot come before the block's end */
	return 0;
}

static inline bool col_uv(struct pl_bcur *c, uint64_t *v)
{
	return pl_uv_get(&c->p, c->end, v);
}

/* @n bytes of column @c as a view. */
static inline bool col_take(struct pl_bcur *c, uint64_t n, const uint8_t **p)
{
	if (n > (uint64_t)(c->end - c->p))
		return false;
	*p = c->p;
	c->p += n;
	return true;
}

/* Fields {name number: scalar} of a fixmap at @c, straight from the bytes, each key with
 * its length: false (with @c moved) when they need the tokenizer (containers, more than
 * FAST_MAX_FIELDS). */
static bool fast_fields(const struct pl_reader *r, struct pl_bcur *c, struct pl_kv *kv,
			uint32_t *nf);

/* Skipped fields: a fixmap of uint keys and scalars, their shape checked without a
 * lookup or a copy (as a version 1 record's skipped fields are only tokenized). */
static bool fast_skip_fields(struct pl_bcur *c)
{
	uint32_t n;
	if (!pl_b_fixmap(c, &n))
		return false;
	const uint8_t *p = c->p, *end = c->end;
	for (uint32_t i = 0; i < n; i++) {
		/* The commonest in line: a positive fixint key (a name number below 128)
		 * and a value whose size its first byte gives (fixints, fixstr, numbers,
		 * nil, booleans); what pl_b_u64() and pl_b_skip_scalar() accept of them,
		 * with the same bounds. */
		if (end - p >= 2 && p[0] <= 0x7f) {
			uint8_t b = p[1];
			size_t len = 0; /* of the key and the value */
			if (b <= 0x7f || b >= 0xe0)
				len = 2;
			else if (b >= 0xa0 && b < 0xc0)
				len = 2 + (size_t)(b & 0x1f);
			else if (b >= 0xc0 && pl_scalar_size_c0[b - 0xc0] &&
				 !(pl_scalar_size_c0[b - 0xc0] & PL_SCALAR_LEN))
				len = 1 + (size_t)pl_scalar_size_c0[b - 0xc0];
			if (len) {
				if ((size_t)(end - p) < len)
					return false;
				p += len;
				continue;
			}
		}
		c->p = p;
		uint64_t id;
		if (!pl_b_u64(c, &id) || !pl_b_skip_scalar(c))
			return false;
		p = c->p;
	}
	c->p = p;
	return true;
}

/* Whether @k is a kinds byte of the format: a kind of 1-3, an outcome (of END only) of
 * 0-2, no reserved bit. Its low four bits as a set: 1, 2, 3, END failed (2 | 1 << 2),
 * END cancelled (2 | 2 << 2). */
static inline bool blk_kind_ok(uint8_t k)
{
	_Static_assert(PL_K_START == 1 && PL_K_END == 2 && PL_K_MESSAGE == 3 &&
			   PL_BLK_KIND_MASK == 3 && PL_BLK_OUTCOME_SHIFT == 2 &&
			   PL_BLK_RESERVED == 0xc0,
		       "the set below follows the kinds byte's layout");
	return !(k & PL_BLK_RESERVED) && ((0x44eu >> (k & 15)) & 1);
}

/* The block's next event into @rec. Returns 1, or a negative pl_status (the record is
 * corrupt from there). */
static int block_event(struct pl_reader *r, struct pl_record *rec)
{
	struct pl_bcur *col = r->blk;
	uint8_t k = *col[C_KINDS].p++; /* one byte per event: open_block() checked */
	uint64_t kind = k & PL_BLK_KIND_MASK, dts, type = 0, seq, depth, duration = 0;
	unsigned outcome = (k & PL_BLK_OUTCOME_MASK) >> PL_BLK_OUTCOME_SHIFT;
	bool end = kind == PL_K_END, failed = outcome != PL_OUT_SUCCEEDED;
	uint64_t prefix = r->hdr.task_prefix;
	const char *type_name = "";
	if (!blk_kind_ok(k) || !col_uv(&col[C_DTS], &dts))
		return -PL_ECORRUPT;
	if (!end &&
	    (!col_uv(&col[C_TYPES], &type) || !(type_name = pl_strtab_get(&r->names, type))))
		return -PL_ECORRUPT;
	if (k & PL_BLK_REMOTE) {
		const uint8_t *p8;
		if (!col_take(&col[C_TASKS], 8, &p8) || !col_uv(&col[C_TASKS], &seq))
			return -PL_ECORRUPT;
		memcpy(&prefix, p8, 8); /* little-endian hosts only, as the writer */
	} else {
		uint64_t z;
		if (!col_uv(&col[C_TASKS], &z))
			return -PL_ECORRUPT;
		seq = r->prev_seq += (uint64_t)pl_unzigzag(z);
	}
	/* Each entry takes a byte at least: the depth is bounded by the bytes present. */
	if (!col_uv(&col[C_LEVELS], &depth) ||
	    depth > (uint64_t)(col[C_LEVELS].end - col[C_LEVELS].p))
		return -PL_ECORRUPT;
	if (depth > PL_READ_MAX_ITEMS)
		return -PL_ELIMIT;
	/* Checked now, stored once the arena is sized: kept here meanwhile unless deeper
	 * than usual (then decoded again). */
	struct pl_bcur level = col[C_LEVELS];
	uint32_t lvbuf[FAST_MAX_DEPTH];
	for (uint64_t i = 0; i < depth; i++) {
		uint64_t u;
		if (!col_uv(&col[C_LEVELS], &u) || u > UINT32_MAX)
			return -PL_ECORRUPT;
		if (i < FAST_MAX_DEPTH)
			lvbuf[i] = (uint32_t)u;
	}
	if (end && !col_uv(&col[C_DURS], &duration))
		return -PL_ECORRUPT;
	struct pl_bcur fields = {NULL, NULL};
	if (k & PL_BLK_FIELDS) {
		uint64_t len;
		if (!col_uv(&col[C_FIELDS], &len) || !col_take(&col[C_FIELDS], len, &fields.p))
			return -PL_ECORRUPT;
		fields.end = fields.p + len;
	}
	const uint8_t *exc[2] = {NULL, NULL};
	uint64_t exc_len[2] = {0, 0};
	for (int i = 0; failed && i < 2; i++)
		if (!col_uv(&col[C_EXCS], &exc_len[i]) ||
		    !col_take(&col[C_EXCS], exc_len[i], &exc[i]))
			return -PL_ECORRUPT;
	/* The fields: scalars straight from the bytes, anything else by the tokenizer
	 * (which enforces the limits); either way exactly the bytes the column gave, and
	 * checked even when they are to be skipped (as a version 1 record's are), so that
	 * whether a file reads does not depend on pl_reader_skip_fields(). */
	struct pl_kv kv[FAST_MAX_FIELDS];
	uint32_t nf = 0;
	bool tokenized = false;
	size_t need = depth * 4 + exc_len[0] + exc_len[1] + 64;
	bool skip = r->skip_fields & (1u << kind);
	if (fields.p) {
		struct pl_bcur c = fields;
		if (!r->generic_only && skip) {
			if (fast_skip_fields(&c) && c.p == fields.end)
				goto checked;
			c = fields;
		}
		if (!r->generic_only && fast_fields(r, &c, kv, &nf) && c.p == fields.end) {
			need += nf * sizeof(struct pl_kv);
		} else {
			size_t size;
			nf = 0;
			int ret = pl_mptok_object(&r->tok, fields.p,
						  (size_t)(fields.end - fields.p), &size);
			if (ret == -PL_ENOMEM || ret == -PL_ELIMIT)
				return ret;
			if (ret < 0 || size != (size_t)(fields.end - fields.p) ||
			    r->tok.tok[0].type != PL_T_MAP)
				return -PL_ECORRUPT;
			tokenized = true;
			need += pl_arena_bound(size, r->tok.n);
		}
	checked:
		if (skip) {
			nf = 0;
			tokenized = false;
		}
	}
	if (pl_arena_reset(&r->arena, need) < 0)
		return -PL_ENOMEM;
	uint32_t *lv = pl_arena_alloc(&r->arena, (depth ? depth : 1) * sizeof(uint32_t));
	if (likely(depth <= FAST_MAX_DEPTH)) {
		for (uint32_t i = 0; i < (uint32_t)depth; i++) /* a few: no memcpy call */
			lv[i] = lvbuf[i];
	} else {
		for (uint64_t i = 0; i < depth; i++) {
			uint64_t u = 0;
			col_uv(&level, &u); /* checked above */
			lv[i] = (uint32_t)u;
		}
	}
	/* Every member, one by one: a copy of a zero record cost more than the event's
	 * decoding (the assertion is there to have a new member set here too). */
	_Static_assert(sizeof(struct pl_record) == 152, "set every member of the record below");
	rec->level = lv;
	rec->depth = (uint32_t)depth;
	rec->type = type_name;
	rec->type_id = (uint32_t)type;
	rec->task_prefix = prefix;
	rec->task_seq = seq;
	rec->outcome = end ? (enum pl_outcome)outcome : PL_SUCCEEDED; /* the API's numbers */
	rec->duration_ns = duration;
	rec->fields = NULL;
	rec->nfields = 0;
	rec->exc_type = rec->exc_msg = rec->name = NULL;
	rec->count = 0;
	rec->frame_offset = 0;
	if (tokenized) {
		struct pl_tcur tc = {r->tok.tok, 0, r->tok.n};
		int ret = pl_dec_fields(&r->arena, &r->names, &tc, &rec->fields, &rec->nfields);
		if (ret < 0)
			return ret;
		if (!rec->fields)
			return -PL_ECORRUPT; /* nil where the column promised a map */
	} else {
		put_views(r, rec, kv, nf);
	}
	if (failed)
		put_exc(r, rec, (const char *const *)exc, exc_len);
	r->seen_events++;
	r->prev_ts += dts;
	rec->kind = (enum pl_record_kind)kind;
	stamp(r, rec, r->prev_ts, r->blk_tid);
	if (--r->blk_left == 0)
		for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
			if (col[i].p != col[i].end)
				return -PL_ECORRUPT; /* columns left over */
	return 1;
}

/* ---- many events of a BLOCK at once (pl_reader_next_events) ---- */

_Static_assert(sizeof(struct pl_event) == 96, "struct pl_event never changes");
_Static_assert(offsetof(struct pl_event, outcome) == offsetof(struct pl_event, kind) + 1 &&
		   offsetof(struct pl_event, reserved) == offsetof(struct pl_event, kind) + 2 &&
		   __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "kind, outcome and reserved are stored as one little-endian word");

/* Whether name number @id is defined (pl_strtab_get() not NULL), in line. */
static inline bool name_defined(const struct pl_strtab *t, uint64_t id)
{
	return id == 0 || (id < t->cap && t->off[id] != 0);
}

/* Take a length and that many bytes from the column at *@p (before @end). */
static inline bool uv_take(const uint8_t **p, const uint8_t *end, uint64_t *len)
{
	if (!pl_uv_get(p, end, len) || *len > (uint64_t)(end - *p))
		return false;
	*p += *len;
	return true;
}

/* One call's decoding, column by column: each pass reads one column for the run's events,
 * or two that the kinds byte divides between them (types or durations; fields and
 * exceptions), and sets the members they give, so that a pass keeps its few cursors in
 * registers (one loop over every column at once spilled them: a fifth of its
 * instructions). A pass returns how many events it decoded, stopping before one it
 * cannot (damage, fields the tokenizer must check, no room for views); the state it
 * starts from and moves is the run's. */
struct run {
	struct pl_reader *r;
	struct pl_event *ev;
	const uint8_t *kinds;
	const uint8_t *p[PL_BLK_COLUMNS]; /* cursors, moved over the events decoded */
	uint64_t ts, seq;		  /* the previous event's time, own task's sequence */
	int64_t first, last;		  /* wall extent of the events decoded */
	uint32_t *levels;
	size_t max_levels, nl; /* level entries: room, used */
};

static size_t pass_times(struct run *u, size_t n)
{
	const uint8_t *kinds = u->kinds; /* in locals: a byte store may alias them */
	struct pl_event *ev = u->ev;
	const struct pl_reader *r = u->r;
	const uint8_t *d = u->p[C_DTS], *de = r->blk[C_DTS].end;
	uint64_t ts = u->ts, ck_ts = r->ck_ts, ck_wall = (uint64_t)r->ck_wall;
	int64_t first = u->first, last = u->last;
	uint32_t thread = r->thread, tid = r->blk_tid;
	size_t i = 0;
	for (; i < n; i++) {
		uint8_t k = kinds[i];
		uint64_t dts;
		if (!blk_kind_ok(k) || !pl_uv_get(&d, de, &dts))
			break;
		ts += dts;
		int64_t wall = (int64_t)(ck_wall + (ts - ck_ts));
		first = wall < first ? wall : first;
		last = wall > last ? wall : last;
		struct pl_event *e = &ev[i];
		e->ts_ns = ts;
		e->wall_ns = wall;
		e->thread = thread;
		e->tid = tid;
		/* kind, outcome (blk_kind_ok(): only an END's is not 0) and reserved at once */
		uint32_t kor = (k & PL_BLK_KIND_MASK) |
			       ((uint32_t)(k & PL_BLK_OUTCOME_MASK) << (8 - PL_BLK_OUTCOME_SHIFT));
		memcpy(&e->kind, &kor, sizeof(kor));
	}
	u->p[C_DTS] = d;
	u->ts = ts;
	u->first = first;
	u->last = last;
	return i;
}

/* A START's or MESSAGE's type, an END's duration: each event has exactly one of them. */
static size_t pass_types_durations(struct run *u, size_t n)
{
	const uint8_t *kinds = u->kinds; /* in locals: a byte store may alias them */
	struct pl_event *ev = u->ev;
	const struct pl_strtab *names = &u->r->names;
	const uint8_t *t = u->p[C_TYPES], *te = u->r->blk[C_TYPES].end;
	const uint8_t *d = u->p[C_DURS], *de = u->r->blk[C_DURS].end;
	size_t i = 0;
	for (; i < n; i++) {
		uint64_t type = 0, duration = 0;
		if ((kinds[i] & PL_BLK_KIND_MASK) == PL_K_END) {
			if (!pl_uv_get(&d, de, &duration))
				break;
		} else if (!pl_uv_get(&t, te, &type) || !name_defined(names, type)) {
			break;
		}
		ev[i].type_id = (uint32_t)type;
		ev[i].duration_ns = duration;
	}
	u->p[C_TYPES] = t;
	u->p[C_DURS] = d;
	return i;
}

static size_t pass_tasks(struct run *u, size_t n)
{
	const uint8_t *kinds = u->kinds; /* in locals: a byte store may alias them */
	struct pl_event *ev = u->ev;
	const uint8_t *a = u->p[C_TASKS], *ae = u->r->blk[C_TASKS].end;
	uint64_t own = u->r->hdr.task_prefix, seq = u->seq;
	size_t i = 0;
	for (; i < n; i++) {
		uint64_t prefix = own, s, z;
		if (kinds[i] & PL_BLK_REMOTE) {
			if (ae - a < 8)
				break;
			memcpy(&prefix, a, 8); /* little-endian hosts only, as the writer */
			const uint8_t *q = a + 8;
			if (!pl_uv_get(&q, ae, &s))
				break;
			a = q;
		} else {
			if (!pl_uv_get(&a, ae, &z))
				break;
			s = seq = seq + (uint64_t)pl_unzigzag(z);
		}
		ev[i].task_prefix = prefix;
		ev[i].task_seq = s;
	}
	u->p[C_TASKS] = a;
	u->seq = seq;
	return i;
}

static size_t pass_levels(struct run *u, size_t n)
{
	struct pl_event *ev = u->ev; /* in a local: a store may alias it */
	const uint8_t *l = u->p[C_LEVELS], *le = u->r->blk[C_LEVELS].end;
	uint32_t *levels = u->levels;
	size_t nl = u->nl, room = u->max_levels, i = 0;
	for (; i < n; i++) {
		uint64_t depth, v;
		const uint8_t *q = l;
		/* The usual: depth 0 or 1 (a task's root and its children), one byte each. */
		if (likely(le - q >= 2 && q[0] <= 1 && q[1] < 0x80 && room - nl >= 1)) {
			levels[nl] = q[1]; /* past the depth when it is 0: overwritten */
			ev[i].level = (uint32_t)nl;
			ev[i].depth = q[0];
			nl += q[0];
			l = q + 1 + q[0];
			continue;
		}
		/* Each entry takes a byte at least: the depth is bounded by the bytes present. */
		if (!pl_uv_get(&q, le, &depth) || depth > (uint64_t)(le - q) ||
		    depth > PL_READ_MAX_ITEMS || depth > room - nl)
			break;
		uint32_t j = 0;
		for (; j < (uint32_t)depth && q[j] < 0x80; j++) /* one-byte entries: in bounds */
			levels[nl + j] = q[j];
		q += j;
		for (; j < (uint32_t)depth; j++) {
			if (!pl_uv_get(&q, le, &v) || v > UINT32_MAX)
				break;
			levels[nl + j] = (uint32_t)v;
		}
		if (j < depth)
			break;
		ev[i].level = (uint32_t)nl;
		ev[i].depth = (uint32_t)depth;
		nl += depth;
		l = q;
	}
	u->p[C_LEVELS] = l;
	u->nl = nl;
	return i;
}

/* A failed or cancelled END's exception type and message at *@x (before @xe), copied
 * into the arena (room permitting). Returns false, *@x unmoved, when it cannot. */
static inline bool take_exc(struct pl_arena *views, const uint8_t **x, const uint8_t *xe,
			    struct pl_event *e)
{
	const uint8_t *q = *x, *xs[2];
	uint64_t xl[2];
	if (!uv_take(&q, xe, &xl[0]))
		return false;
	xs[0] = q - xl[0];
	if (!uv_take(&q, xe, &xl[1]))
		return false;
	xs[1] = q - xl[1];
	/* pl_arena_alloc() rounds each piece up to 8 bytes. */
	if (xl[0] + xl[1] + 2 + 14 > views->cap - views->len)
		return false;
	char *xt = pl_arena_alloc(views, xl[0] + 1);
	char *xm = pl_arena_alloc(views, xl[1] + 1);
	memcpy(xt, xs[0], xl[0]);
	xt[xl[0]] = '\0';
	memcpy(xm, xs[1], xl[1]);
	xm[xl[1]] = '\0';
	e->exc_type = xt;
	e->exc_msg = xm;
	*x = q;
	return true;
}

/* Fields, skipped (their shape checked) or decoded into views of the arena, and a failed
 * or cancelled END's exception. */
static size_t pass_fields(struct run *u, size_t n)
{
	const uint8_t *kinds = u->kinds; /* in locals: a byte store may alias them */
	struct pl_event *ev = u->ev;
	struct pl_reader *r = u->r;
	struct pl_arena *views = &r->arena;
	const uint8_t *f = u->p[C_FIELDS], *fe = r->blk[C_FIELDS].end;
	const uint8_t *x = u->p[C_EXCS], *xe = r->blk[C_EXCS].end;
	size_t i = 0;
	for (; i < n; i++) {
		struct pl_event *e = &ev[i];
		uint8_t k = kinds[i];
		e->fields = NULL;
		e->nfields = 0;
		e->exc_type = e->exc_msg = NULL;
		if ((k & PL_BLK_OUTCOME_MASK) && !take_exc(views, &x, xe, e))
			break;
		if (!(k & PL_BLK_FIELDS))
			continue;
		uint64_t len;
		const uint8_t *q = f;
		if (!pl_uv_get(&q, fe, &len) || len > (uint64_t)(fe - q))
			break;
		struct pl_bcur c = {q, q + len};
		if (r->skip_fields & (1u << (k & PL_BLK_KIND_MASK))) {
			if (!fast_skip_fields(&c) || c.p != c.end)
				break; /* containers, say: the tokenizer's */
		} else {
			struct pl_kv kv[FAST_MAX_FIELDS];
			uint32_t nf = 0;
			if (!fast_fields(r, &c, kv, &nf) || c.p != c.end ||
			    nf * sizeof(struct pl_kv) > views->cap - views->len)
				break;
			if (nf) {
				struct pl_kv *fv = pl_arena_alloc(views, nf * sizeof(*fv));
				for (uint32_t j = 0; j < nf; j++)
					fv[j] = kv[j];
				e->fields = fv;
				e->nfields = nf;
			}
		}
		f = q + len;
	}
	u->p[C_FIELDS] = f;
	u->p[C_EXCS] = x;
	return i;
}

/* Decode @n events into @u from its state; returns how many all the passes decoded. The
 * fields go second: the pass most likely to stop early (containers), and a stop past the
 * first pass means decoding again. */
static size_t run_passes(struct run *u, size_t n)
{
	static size_t (*const passes[])(struct run *, size_t) = {
	    pass_times, pass_fields, pass_types_durations, pass_tasks, pass_levels};
	for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]) && n; i++)
		n = passes[i](u, n);
	return n;
}

/* block_event()'s decoding without a record: the columns are read through cursors of its
 * own and written back only for the events delivered, so that an event this loop does
 * not take (damage, fields the tokenizer must check, no room left) is read again, from
 * the same bytes, by block_event(), which delivers or reports it as it would have. */
PL_EXPORT size_t pl_reader_next_events(struct pl_reader *r, struct pl_event *ev, size_t max,
				       uint32_t *levels, size_t max_levels)
{
	/* With a window, runs of what it reads whole only: its open actions are tracked
	 * record by record (window_keep()). */
	if (!r || !ev || !levels || r->status || !r->blk_left || r->generic_only ||
	    (r->win.on && (!r->win.starts_only || r->meta_only)))
		return 0;
	struct run start = {.r = r,
			    .ev = ev,
			    .kinds = r->blk[C_KINDS].p,
			    .ts = r->prev_ts,
			    .seq = r->prev_seq,
			    .first = r->seen_first,
			    .last = r->seen_last,
			    .levels = levels,
			    .max_levels = max_levels};
	for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
		start.p[i] = r->blk[i].p;
	size_t n = max < r->blk_left ? max : r->blk_left;
	struct run u;
	for (;;) {
		/* The views of the whole run in the arena: an event that does not fit waits
		 * for the next call (or for pl_reader_next(), which sizes the arena for it). */
		if (pl_arena_reset(&r->arena, 64 << 10) < 0)
			return 0;
		u = start;
		size_t got = run_passes(&u, n);
		/* The block's last event: the columns must end with it (block_event()). */
		if (got == n && n == r->blk_left)
			for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
				if (u.p[i] != r->blk[i].end && i != C_KINDS)
					got = n - 1;
		if (got == n)
			break;
		/* Decoded again up to there: every pass's state must be that of @got events
		 * (done at once, since each pass decoded @got events already). */
		n = got;
	}
	if (n == 0)
		return 0;
	for (unsigned i = 0; i < PL_BLK_COLUMNS; i++)
		r->blk[i].p = u.p[i];
	r->blk[C_KINDS].p += n;
	r->prev_ts = u.ts;
	r->prev_seq = u.seq;
	r->seen_first = u.first;
	r->seen_last = u.last;
	r->seen_events += (uint32_t)n;
	r->blk_left -= (uint32_t)n;
	return n;
}

PL_EXPORT const char *pl_reader_name(const struct pl_reader *r, uint32_t id)
{
	return r ? pl_strtab_get(&r->names, id) : NULL;
}

/* Interpret the record in r->tok. Returns 1 if @rec is to be delivered, 0 if the record
 * only changed the reader's state, or a negative pl_status. */
static int interpret(struct pl_reader *r, struct pl_record *rec)
{
	uint64_t kind, u, v;
	int64_t s;
	const struct pl_tok *t = r->tok.tok;
	if (t[0].type != PL_T_ARRAY || t[0].n < 1)
		return -PL_ECORRUPT;
	/* The record's elements: a cursor over tokens 1.. (the whole rest of the list). */
	struct pl_tcur c = {t, 1, r->tok.n};
	if (!pl_tcur_u64(&c, &kind))
		return -PL_ECORRUPT;
	uint32_t n = t[0].n;
	if (!r->header_seen && kind != PL_K_HEADER)
		return -PL_ECORRUPT; /* HEADER is the file's first record */
	/* A copy of a zero record, not memset: GCC turns a memset of this size into a
	 * `rep stos`, whose start-up cost was a third of this function's time. */
	static const struct pl_record zero = PL_RECORD_INIT; /* the size stays */
	*rec = zero;
	switch (kind) {
	case PL_K_HEADER: {
		if (n < 2)
			return -PL_ECORRUPT;
		if (r->header_seen)
			return 0; /* a rewritten header after a lost first frame */
		int ret = pl_dec_header(&c, &r->hdr, &r->hdr_store);
		if (ret < 0)
			return ret;
		if (r->hdr.version != r->fr.version)
			return -PL_EFORMAT; /* the magic frame said another version */
		r->seen_flags |= PL_IX_HEADER;
		r->header_seen = true;
		r->ck_ts = 0;
		r->ck_wall = r->hdr.wall_anchor_ns;
		return 0;
	}
	case PL_K_NAME:
		r->seen_flags |= PL_IX_NAME;
		return n < 3 ? -PL_ECORRUPT : pl_strtab_define(&r->names, &c);
	case PL_K_CHUNK:
		if (n < 3 || !pl_tcur_u64(&c, &u) || !pl_tcur_u64(&c, &v))
			return -PL_ECORRUPT;
		if (u >= PL_READ_MAX_THREADS)
			return -PL_ELIMIT;
		r->chunk_open = true;
		r->thread = (uint32_t)u;
		r->prev_ts = v;
		r->prev_seq = 0;
		return 0;
	case PL_K_CLOCK:
		if (n < 3 || !pl_tcur_u64(&c, &u) || !pl_tcur_i64(&c, &s))
			return -PL_ECORRUPT;
		r->ck_ts = u;
		r->ck_wall = s;
		return 0;
	case PL_K_START:
	case PL_K_END:
	case PL_K_MESSAGE: {
		if (n < (kind == PL_K_END ? 6u : 5u))
			return -PL_ECORRUPT;
		int ret = action_record(r, kind, &c, rec);
		r->seen_events++;
		return ret < 0 ? ret : 1;
	}
	case PL_K_THREAD: {
		if (n < 4 || !pl_tcur_u64(&c, &u) || !pl_tcur_i64(&c, &s) ||
		    pl_dec_cstr(&r->arena, &c, &rec->name) < 0)
			return -PL_ECORRUPT;
		int ret = set_thread(r, u, s);
		if (ret < 0)
			return ret;
		r->seen_flags |= PL_IX_THREAD;
		rec->kind = PL_REC_THREAD;
		rec->thread = (uint32_t)u;
		rec->tid = (uint32_t)s;
		return 1;
	}
	case PL_K_DROPPED:
		if (!r->chunk_open || n < 3 || !pl_tcur_u64(&c, &rec->count) ||
		    pl_dec_cstr(&r->arena, &c, &rec->name) < 0)
			return -PL_ECORRUPT;
		r->seen_flags |= PL_IX_DROPPED;
		rec->kind = PL_REC_DROPPED;
		stamp(r, rec, r->prev_ts, cur_tid(r));
		return 1;
	case PL_K_STATS: {
		if (n < 2)
			return -PL_ECORRUPT;
		int ret = pl_dec_str_map(&r->arena, &c, &rec->fields, &rec->nfields);
		if (ret < 0)
			return ret;
		r->seen_flags |= PL_IX_STATS;
		rec->kind = PL_REC_STATS;
		rec->type = "";
		return 1;
	}
	case PL_K_BLOCK: {
		uint64_t count;
		struct pl_bcur cols[PL_BLK_COLUMNS];
		if (n != PL_BLK_ELEMENTS || !pl_tcur_u64(&c, &u) || !pl_tcur_u64(&c, &v) ||
		    !pl_tcur_u64(&c, &count))
			return r->hdr.version < 2 ? 0 : -PL_ECORRUPT;
		for (unsigned i = 0; i < PL_BLK_COLUMNS; i++) {
			const struct pl_tok *b = pl_tcur_take(&c, PL_T_BIN);
			if (!b)
				return r->hdr.version < 2 ? 0 : -PL_ECORRUPT;
			const uint8_t *bp = (const uint8_t *)b->v.p;
			cols[i] = (struct pl_bcur){bp, bp + b->n};
		}
		return open_block(r, u, v, count, cols);
	}
	default:
		return 0; /* a kind from a later minor version: skip it */
	}
}

/* The frame just read against its index: what a window skips relies on it. A mismatch
 * turns the window off (the rest of the file is read whole) and is reported. */
static void check_index(struct pl_reader *r)
{
	const struct pl_frame_ix *ix = &r->cur_ix;
	if (!r->cur_ix_ok || r->fr.ix_mismatch)
		return;
	const char *what = NULL;
	if (ix->flags != r->seen_flags)
		what = "the kinds of records it holds";
	else if (ix->events != r->seen_events)
		what = "its number of events";
	else if (r->seen_first <= r->seen_last &&
		 (ix->first_wall != r->seen_first || ix->last_wall != r->seen_last))
		what = "its time range";
	else if (r->seen_first > r->seen_last &&
		 (ix->first_wall != INT64_MAX || ix->last_wall != INT64_MIN))
		what = "its time range (the frame holds no timed record)";
	else if (ix->end_ck_ts != r->ck_ts || ix->end_ck_wall != r->ck_wall)
		what = "its closing clock";
	else if (ix->open_off != UINT64_MAX && ix->open_off > r->frame_off)
		what = "its oldest open action (a frame after it)";
	if (!what)
		return;
	r->fr.ix_mismatch = true;
	snprintf(r->fr.ix_why, sizeof(r->fr.ix_why),
		 "offset %llu: the index disagrees with "
		 "its frame about %s",
		 (unsigned long long)r->frame_off, what);
}

/* Load the next frame the reader needs: with a window, frames it does not need are
 * passed over by their index. Returns 0, PL_END, PL_AGAIN (followed) or an error (set). */
static int next_frame(struct pl_reader *r)
{
	check_index(r);
	if (r->fr.ix_mismatch)
		r->win.off = true;
	r->meta_only = false;
	while (r->win.on && !r->win.off) {
		struct pl_frame_ix ix;
		uint64_t off;
		int ret = pl_frames_peek_index(&r->fr, &ix, &off);
		if (ret == PL_AGAIN)
			return PL_AGAIN;
		if (ret == PL_END) {
			r->status = PL_END;
			return PL_END;
		}
		if (ret < 0)
			return set_error(r, ret, r->fr.err_off, "%s", r->fr.reason);
		if (ret != PL_FRAMES_INDEXED)
			break;
		enum pl_win_verdict v = pl_window_decide(&r->win, &ix, off);
		if (v == PL_WIN_READ)
			break;
		if (v == PL_WIN_META) {
			r->meta_only = true;
			break;
		}
		ret = pl_frames_skip(&r->fr);
		if (ret == PL_AGAIN)
			return PL_AGAIN;
		if (ret < 0)
			return set_error(r, ret, r->fr.err_off, "%s", r->fr.reason);
		if (ret > 0) { /* the index does not fit the file: read on without it */
			r->win.off = true;
			break;
		}
		/* What the frame's last CLOCK would have said (pl_reader_checkpoint). */
		r->ck_ts = ix.end_ck_ts;
		r->ck_wall = ix.end_ck_wall;
		r->win.skipped++;
		r->win.bytes_skipped += PL_INDEX_FRAME_BYTES + ix.data_len;
	}
	int ret = pl_frames_next(&r->fr, &r->frame, &r->frame_len, &r->frame_off);
	if (ret == PL_AGAIN)
		return PL_AGAIN; /* r->pos == r->frame_len still: the next call comes back here */
	if (ret == PL_END) {
		r->status = PL_END;
		return PL_END;
	}
	if (ret < 0)
		return set_error(r, ret, r->fr.err_off, "%s", r->fr.reason);
	r->frames++;
	r->pos = 0;
	r->chunk_open = false;
	r->cur_ix_ok = r->fr.ix_ok;
	r->cur_ix = r->fr.ix;
	r->seen_flags = 0;
	r->seen_events = 0;
	r->seen_first = INT64_MAX;
	r->seen_last = INT64_MIN;
	return 0;
}

/* A record about to be delivered, with a window: track the window's open actions;
 * false if the record is not to be delivered (a frame read for its meta records). */
static bool window_keep(struct pl_reader *r, const struct pl_record *rec)
{
	bool action =
	    rec->kind == PL_REC_START || rec->kind == PL_REC_END || rec->kind == PL_REC_MESSAGE;
	if (r->meta_only)
		return !action;
	if (r->win.starts_only)
		return true; /* no ENDs to look for */
	if (rec->kind == PL_REC_START && rec->wall_ns >= r->win.since &&
	    rec->wall_ns < r->win.until)
		pl_window_opened(&r->win, pl_window_key(rec->task_prefix, rec->task_seq, rec->level,
							rec->depth));
	else if (rec->kind == PL_REC_END && r->win.n)
		pl_window_closed(&r->win, pl_window_key(rec->task_prefix, rec->task_seq, rec->level,
							rec->depth));
	return true;
}

/* ---- the fast path (see the top of the file) ---- */

static bool fast_fields(const struct pl_reader *r, struct pl_bcur *c, struct pl_kv *kv,
			uint32_t *nf)
{
	if (!pl_b_fixmap(c, nf))
		return false;
	for (uint32_t i = 0; i < *nf; i++) {
		uint64_t id;
		const char *name;
		if (!pl_b_u64(c, &id) ||
		    !(name = pl_strtab_lookup(&r->names, id, &kv[i].key_len)) ||
		    !pl_b_scalar(c, &kv[i].value))
			return false;
		kv[i].key = name;
	}
	return true;
}

/* START / END / MESSAGE after the kind, @n elements in all. Returns 1 with @rec filled
 * and the reader's state advanced, or -1 with nothing changed. */
static int fast_action(struct pl_reader *r, uint64_t kind, uint32_t n, struct pl_bcur *c,
		       struct pl_record *rec)
{
	bool end = kind == PL_K_END;
	if (!r->chunk_open || n < (end ? 6u : 5u) || n > (end ? 9u : 6u))
		return -1;
	int64_t dts, delta = 0;
	uint64_t type = 0, prefix = 0, seq = 0, outcome = 0, duration = 0;
	const char *type_name = "";
	if (!pl_b_i64(c, &dts))
		return -1;
	if (!end && (!pl_b_u64(c, &type) || !(type_name = pl_strtab_get(&r->names, type))))
		return -1;
	bool remote = pl_b_has(c, 1) && c->p[0] == 0x92; /* [prefix, seq] */
	if (remote) {
		c->p++;
		if (!pl_b_u64(c, &prefix) || !pl_b_u64(c, &seq))
			return -1;
	} else if (!pl_b_i64(c, &delta)) {
		return -1;
	}
	uint32_t depth, level[FAST_MAX_DEPTH];
	if (!pl_b_array(c, &depth) || depth > FAST_MAX_DEPTH)
		return -1;
	for (uint32_t i = 0; i < depth; i++) {
		uint64_t u;
		if (!pl_b_u64(c, &u) || u > UINT32_MAX)
			return -1;
		level[i] = (uint32_t)u;
	}
	if (end && (!pl_b_u64(c, &outcome) || outcome > 1 || !pl_b_u64(c, &duration)))
		return -1;
	uint32_t at = end ? 6 : 5; /* elements read so far */
	struct pl_kv kv[FAST_MAX_FIELDS];
	uint32_t nf = 0;
	if (at < n) { /* fields: nil or {name number: scalar} */
		if (!pl_b_nil(c) && !fast_fields(r, c, kv, &nf))
			return -1;
		at++;
	}
	const char *exc[2] = {NULL, NULL};
	uint32_t exc_len[2] = {0, 0};
	if (at < n && !(end && outcome == 1))
		return -1; /* trailing elements the generic path ignores (after checking them) */
	for (int i = 0; at < n; i++, at++)
		if (!pl_b_str(c, &exc[i], &exc_len[i]))
			return -1;
	/* Decoded: now the views, in an arena sized for them, and the reader's state. */
	if (pl_arena_reset(&r->arena, depth * 4 + nf * sizeof(struct pl_kv) + exc_len[0] +
					  exc_len[1] + 64) < 0)
		return -1;
	static const struct pl_record zero = PL_RECORD_INIT; /* the size stays */
	*rec = zero;
	uint32_t *lv = pl_arena_alloc(&r->arena, (depth ? depth : 1) * sizeof(uint32_t));
	memcpy(lv, level, depth * sizeof(uint32_t));
	rec->level = lv;
	rec->depth = depth;
	rec->type = type_name;
	rec->type_id = (uint32_t)type;
	if (remote) {
		rec->task_prefix = prefix;
		rec->task_seq = seq;
	} else {
		r->prev_seq += (uint64_t)delta;
		rec->task_prefix = r->hdr.task_prefix;
		rec->task_seq = r->prev_seq;
	}
	if (end) {
		rec->outcome = outcome ? PL_FAILED : PL_SUCCEEDED;
		rec->duration_ns = duration;
	}
	if (!(r->skip_fields & (1u << kind)))
		put_views(r, rec, kv, nf);
	const uint64_t elen[2] = {exc_len[0], exc_len[1]};
	put_exc(r, rec, exc, elen);
	r->seen_events++;
	r->prev_ts += (uint64_t)dts;
	rec->kind = (enum pl_record_kind)kind;
	stamp(r, rec, r->prev_ts, cur_tid(r));
	return 1;
}

/* The record at @p (at most @len bytes): 1 if it is to be delivered (@rec filled), 0 if it
 * only changed the reader's state, -1 if the generic path must take it (nothing changed).
 * *@size: its bytes. */
static int fast_record(struct pl_reader *r, struct pl_record *rec, const uint8_t *p, size_t len,
		       size_t *size)
{
	struct pl_bcur c = {p, p + len};
	uint32_t n;
	uint64_t kind, u, v;
	int64_t s;
	int ret;
	if (r->generic_only || !r->header_seen || !pl_b_array(&c, &n) || n < 1 ||
	    !pl_b_u64(&c, &kind))
		return -1;
	switch (kind) {
	case PL_K_START:
	case PL_K_END:
	case PL_K_MESSAGE:
		ret = fast_action(r, kind, n, &c, rec);
		break;
	case PL_K_CHUNK:
		if (n != 3 || !pl_b_u64(&c, &u) || !pl_b_u64(&c, &v) || u >= PL_READ_MAX_THREADS)
			return -1;
		r->chunk_open = true;
		r->thread = (uint32_t)u;
		r->prev_ts = v;
		r->prev_seq = 0;
		ret = 0;
		break;
	case PL_K_CLOCK:
		if (n != 3 || !pl_b_u64(&c, &u) || !pl_b_i64(&c, &s))
			return -1;
		r->ck_ts = u;
		r->ck_wall = s;
		ret = 0;
		break;
	case PL_K_BLOCK: {
		uint64_t count;
		struct pl_bcur cols[PL_BLK_COLUMNS];
		if (n != PL_BLK_ELEMENTS || !pl_b_u64(&c, &u) || !pl_b_u64(&c, &v) ||
		    !pl_b_u64(&c, &count))
			return -1;
		for (unsigned i = 0; i < PL_BLK_COLUMNS; i++) {
			const char *b;
			uint32_t blen;
			bool bin;
			if (!pl_b_raw(&c, &b, &blen, &bin) || !bin)
				return -1;
			cols[i] = (struct pl_bcur){(const uint8_t *)b, (const uint8_t *)b + blen};
		}
		/* A bad one is refused by the generic path, with the same checks. */
		if (open_block(r, u, v, count, cols) < 0)
			return -1;
		ret = 0;
		break;
	}
	default:
		return -1;
	}
	if (ret >= 0)
		*size = (size_t)(c.p - p);
	return ret;
}

/* The rest of a BLOCK's events in a frame read for its meta records only (a window):
 * none is delivered, so only what the check of the frame's index needs is decoded, their
 * number and time range (the kinds and time deltas), not the other columns: a tenth of
 * decoding them. Returns 0 or -PL_ECORRUPT. */
static int skip_block_events(struct pl_reader *r)
{
	struct pl_bcur *col = r->blk;
	const uint8_t *k = col[C_KINDS].p;
	uint64_t ts = r->prev_ts;
	int64_t first = r->seen_first, last = r->seen_last;
	for (uint32_t i = 0; i < r->blk_left; i++) {
		uint64_t dts;
		if (!blk_kind_ok(k[i]) || !col_uv(&col[C_DTS], &dts))
			return -PL_ECORRUPT;
		ts += dts;
		int64_t wall = (int64_t)((uint64_t)r->ck_wall + (ts - r->ck_ts));
		first = wall < first ? wall : first;
		last = wall > last ? wall : last;
	}
	col[C_KINDS].p += r->blk_left;
	r->prev_ts = ts;
	r->seen_first = first;
	r->seen_last = last;
	r->seen_events += r->blk_left;
	r->blk_left = 0;
	return 0;
}

static int next_raw(struct pl_reader *r, struct pl_record *rec)
{
	for (;;) {
		if (r->blk_left && r->meta_only) {
			int ret = skip_block_events(r);
			if (ret < 0) {
				r->blk_left = 0;
				return record_error(r, ret, r->blk_pos);
			}
			continue;
		}
		if (r->blk_left) { /* the events of a BLOCK come before the records after it */
			int ret = block_event(r, rec);
			if (ret < 0) {
				r->blk_left = 0;
				return record_error(r, ret, r->blk_pos);
			}
			if (r->win.on && !window_keep(r, rec))
				continue;
			rec->frame_offset = r->frame_off;
			return 0;
		}
		if (r->pos == r->frame_len) {
			int ret = next_frame(r);
			if (ret)
				return ret;
		}
		size_t size;
		size_t at = r->rec_pos = r->pos;
		int ret = fast_record(r, rec, r->frame + at, r->frame_len - at, &size);
		if (ret >= 0) {
			r->pos += size;
		} else {
			r->records_generic++;
			ret = pl_mptok_object(&r->tok, r->frame + at, r->frame_len - at, &size);
			if (ret == -PL_ENOMEM)
				return set_error(r, ret, r->frame_off, "out of memory");
			if (ret < 0)
				return record_error(r, ret == -PL_ELIMIT ? ret : -PL_ECORRUPT, at);
			if (pl_arena_reset(&r->arena, pl_arena_bound(size, r->tok.n)) < 0)
				return set_error(r, -PL_ENOMEM, r->frame_off, "out of memory");
			r->pos += size;
			ret = interpret(r, rec);
			if (ret < 0)
				return record_error(r, ret, at);
		}
		if (ret > 0 && r->win.on && !window_keep(r, rec))
			ret = 0;
		if (ret > 0) {
			rec->frame_offset = r->frame_off;
			if (!rec->type)
				rec->type = ""; /* as documented: "" when the kind has none */
		}
		if (ret > 0 || (r->opening && r->header_seen))
			return 0;
	}
}

PL_EXPORT int pl_reader_open(const char *path, struct pl_reader **out)
{
	struct pl_reader *r = calloc(1, sizeof(*r));
	*out = r;
	if (!r)
		return -PL_ENOMEM;
	r->fr.fd = -1;
	r->path = strdup(path ? path : "");
	const char *generic = getenv("PERFLOG_READER_GENERIC"); /* tests: both paths agree */
	r->generic_only = generic && *generic && strcmp(generic, "0") != 0;
	if (!r->path)
		return set_error(r, -PL_ENOMEM, 0, "out of memory");
	int ret = pl_frames_open(&r->fr, path);
	if (ret < 0)
		return set_error(r, ret, r->fr.err_off, "%s", r->fr.reason);
	/* Read the header, the file's first record; the next deliverable record stays
	 * unread because next_raw() stops right after the header while opening. */
	struct pl_record rec = PL_RECORD_INIT;
	r->opening = true;
	ret = next_raw(r, &rec);
	r->opening = false;
	if (ret == PL_END)
		return set_error(r, -PL_ETRUNCATED, pl_frames_offset(&r->fr),
				 "no header: the file holds no complete frame");
	return ret < 0 ? ret : 0;
}

PL_EXPORT const struct pl_trace_header *pl_reader_header(const struct pl_reader *r)
{
	return r && r->header_seen ? &r->hdr : NULL;
}

/* The record as release 0.1 laid it out: the smallest size a caller may pass. */
#define RECORD_SIZE_0_1 PL_SIZE_TO(struct pl_record, frame_offset)

PL_EXPORT int pl_reader_next(struct pl_reader *r, struct pl_record *rec)
{
	/* The usual call first, with as few checks as the others allow: it runs per event. */
	if (likely(r && rec && rec->size == sizeof(*rec) && r->started && !r->status))
		return next_raw(r, rec); /* compiled against this header: rec->size stays */
	if (!r || !rec || rec->size < RECORD_SIZE_0_1)
		return -PL_EINVAL;
	if (r->status)
		return r->status;
	r->started = true;
	if (rec->size == sizeof(*rec))
		return next_raw(r, rec);
	struct pl_record full = PL_RECORD_INIT;
	int ret = next_raw(r, &full);
	full.size = sizeof(full);
	if (ret == 0)
		pl_abi_copy_out(rec, &full, sizeof(full));
	return ret;
}

PL_EXPORT int pl_reader_follow(struct pl_reader *r, int follow)
{
	if (!r || r->status < 0 || !r->fr.regular)
		return -PL_EINVAL;
	pl_frames_follow(&r->fr, follow != 0);
	if (follow && r->status == PL_END)
		r->status = 0; /* a writer may still append */
	return 0;
}

PL_EXPORT void pl_reader_checkpoint(const struct pl_reader *r, uint64_t *ts, int64_t *wall)
{
	if (ts)
		*ts = r ? r->ck_ts : 0;
	if (wall)
		*wall = r ? r->ck_wall : 0;
}

PL_EXPORT int pl_reader_suspend(struct pl_reader *r)
{
	if (!r || r->status < 0)
		return r ? 0 : -PL_EINVAL; /* nothing more will be read: nothing to give back */
	/* The frame's content is kept only while records of it remain to be read: records
	 * after the position, or events of the BLOCK being delivered (its columns point
	 * into the frame, which may end with it). */
	return pl_frames_suspend(&r->fr, r->pos < r->frame_len || r->blk_left > 0);
}

PL_EXPORT int pl_reader_set_window(struct pl_reader *r, int64_t since_ns, int64_t until_ns,
				   unsigned flags)
{
	if (!r || r->started || since_ns >= until_ns || r->win.on)
		return -PL_EINVAL;
	if (r->status)
		return 0; /* nothing more will be read anyway */
	int ret = pl_window_plan(&r->win, &r->fr, since_ns, until_ns, flags & PL_WINDOW_ANCESTORS,
				 flags & PL_WINDOW_STARTS_ONLY);
	if (ret < 0)
		r->win.off = true; /* out of memory: read everything */
	return 0;
}

PL_EXPORT int pl_reader_extent(struct pl_reader *r, int64_t *first, int64_t *last)
{
	if (!r || r->status < 0 || r->started)
		return -PL_EINVAL;
	/* The frame read at open is not in what the scan covers: it must hold no timed
	 * record but those already accounted for by its own index. */
	int64_t lo = INT64_MAX, hi = INT64_MIN, f, l;
	if (r->cur_ix_ok && r->cur_ix.first_wall <= r->cur_ix.last_wall) {
		lo = r->cur_ix.first_wall;
		hi = r->cur_ix.last_wall;
	} else if (!r->cur_ix_ok && r->frame_len) {
		return -PL_EINVAL;
	}
	int ret = pl_window_extent(&r->fr, &f, &l);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		lo = f < lo ? f : lo;
		hi = l > hi ? l : hi;
	}
	if (lo > hi)
		return 0;
	*first = lo;
	*last = hi;
	return 1;
}

PL_EXPORT int pl_reader_stats(const struct pl_reader *r, struct pl_reader_stats *out)
{
	if (!r || !out || out->size < sizeof(uint32_t))
		return -PL_EINVAL;
	struct pl_reader_stats st = PL_READER_STATS_INIT;
	st.frames = r->frames;
	st.frames_skipped = r->win.skipped;
	st.bytes_skipped = r->win.bytes_skipped;
	st.index_disagrees = r->fr.ix_mismatch;
	st.index_problem = r->fr.ix_mismatch ? r->fr.ix_why : "";
	st.records_generic = r->records_generic;
	pl_abi_copy_out(out, &st, sizeof(st));
	return 0;
}

PL_EXPORT void pl_reader_skip_fields(struct pl_reader *r, int skip)
{
	pl_reader_skip_fields_of(r, skip ? PL_SKIP_ALL : 0);
}

PL_EXPORT void pl_reader_skip_fields_of(struct pl_reader *r, unsigned kinds)
{
	if (r)
		r->skip_fields = (uint8_t)(kinds & PL_SKIP_ALL);
}

PL_EXPORT const struct pl_reader_error *pl_reader_error(const struct pl_reader *r)
{
	static const struct pl_reader_error none = {0, "", 0, ""};
	return r && r->status < 0 ? &r->err : &none;
}

PL_EXPORT uint64_t pl_reader_offset(const struct pl_reader *r)
{
	return r ? pl_frames_offset(&r->fr) : 0;
}

PL_EXPORT void pl_reader_close(struct pl_reader *r)
{
	if (!r)
		return;
	pl_frames_close(&r->fr);
	pl_mptok_free(&r->tok);
	pl_arena_free(&r->arena);
	pl_strtab_free(&r->names);
	pl_window_free(&r->win);
	free(r->tids);
	free(r->hdr_store);
	free(r->path);
	free(r);
}
