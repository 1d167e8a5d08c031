/* reader.c - pl_reader: lifecycle and the record state machine.
 *
 * frames.c yields verified frame contents; each record is structure-checked
 * (mpcheck.c), decoded by msgpack-c, then interpreted here: structural records (NAME,
 * CHUNK, CLOCK, HEADER) update the reader's state, the others are delivered.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/reader.h>
#include <perflog/status.h>

#include "../common/config.h"
#include "../common/format.h"
#include "../common/macros.h"
#include "decode.h"
#include "frames.h"
#include "mpcheck.h"

struct pl_reader {
	char *path;
	struct pl_frames fr;
	const uint8_t *frame;
	size_t frame_len, pos;
	uint64_t frame_off;
	msgpack_zone zone;       /* backs the current record's views; cleared per record */
	msgpack_object obj;      /* the current record */
	struct pl_strtab names;
	uint32_t *tids;          /* by thread number */
	uint32_t ntids;
	bool chunk_open;
	uint32_t thread;
	uint64_t prev_ts, prev_seq;
	uint64_t ck_ts;          /* last CLOCK checkpoint */
	int64_t ck_wall;
	bool header_seen;
	bool opening;            /* pl_reader_open: stop as soon as the header is read */
	struct pl_trace_header hdr;
	char *hdr_store;
	int status;              /* 0, PL_END, or the sticky error */
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
	return set_error(r, status, r->frame_off,
			 "%s in record at byte %zu of the frame's content",
			 status == -PL_ELIMIT ? "safety limit exceeded" : "corrupt record", rec_pos);
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

static void stamp(struct pl_reader *r, struct pl_record *rec, uint64_t ts)
{
	rec->ts_ns = ts;
	rec->wall_ns = r->ck_wall + (int64_t)(ts - r->ck_ts);
	rec->thread = r->thread;
	rec->tid = r->thread < r->ntids ? r->tids[r->thread] : 0;
}

/* START / END / MESSAGE. */
static int action_record(struct pl_reader *r, uint64_t kind, const msgpack_object *a, uint32_t n,
			 struct pl_record *rec)
{
	msgpack_zone *z = &r->zone;
	int64_t dts;
	uint32_t i = 1;
	uint64_t type = 0;
	if (!r->chunk_open || n < 5 || pl_dec_i64(&a[i++], &dts) < 0)
		return -PL_ECORRUPT;
	if (kind != PL_K_END) {
		if (pl_dec_u64(&a[i++], &type) < 0 || !(rec->type = pl_strtab_get(&r->names, type)))
			return -PL_ECORRUPT;
	} else {
		rec->type = "";
	}
	const msgpack_object *task = &a[i++];
	if (task->type == MSGPACK_OBJECT_ARRAY) {
		if (task->via.array.size != 2 ||
		    pl_dec_u64(&task->via.array.ptr[0], &rec->task_prefix) < 0 ||
		    pl_dec_u64(&task->via.array.ptr[1], &rec->task_seq) < 0)
			return -PL_ECORRUPT;
	} else {
		int64_t d;
		if (pl_dec_i64(task, &d) < 0)
			return -PL_ECORRUPT;
		r->prev_seq += (uint64_t)d;
		rec->task_prefix = r->hdr.task_prefix;
		rec->task_seq = r->prev_seq;
	}
	int ret = pl_dec_level(z, &a[i++], &rec->level, &rec->depth);
	if (ret < 0)
		return ret;
	if (kind == PL_K_END) {
		uint64_t outcome;
		if (n < 6 || pl_dec_u64(&a[i++], &outcome) < 0 || outcome > 1 ||
		    pl_dec_u64(&a[i++], &rec->duration_ns) < 0)
			return -PL_ECORRUPT;
		rec->outcome = outcome ? PL_FAILED : PL_SUCCEEDED;
	}
	if (i < n && (ret = pl_dec_fields(z, &r->names, &a[i++], &rec->fields, &rec->nfields)) < 0)
		return ret;
	if (kind == PL_K_END && rec->outcome == PL_FAILED && i + 2 <= n) {
		if (pl_dec_cstr(z, &a[i], &rec->exc_type) < 0 ||
		    pl_dec_cstr(z, &a[i + 1], &rec->exc_msg) < 0)
			return -PL_ECORRUPT;
	}
	r->prev_ts += (uint64_t)dts;
	rec->kind = (enum pl_record_kind)kind;
	stamp(r, rec, r->prev_ts);
	return 0;
}

/* Interpret one decoded record. Returns 1 if @rec is to be delivered, 0 if the record
 * only changed the reader's state, or a negative pl_status. */
static int interpret(struct pl_reader *r, const msgpack_object *o, struct pl_record *rec)
{
	uint64_t kind, u, v;
	int64_t s;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1 ||
	    pl_dec_u64(&o->via.array.ptr[0], &kind) < 0)
		return -PL_ECORRUPT;
	const msgpack_object *a = o->via.array.ptr;
	uint32_t n = o->via.array.size;
	if (!r->header_seen && kind != PL_K_HEADER)
		return -PL_ECORRUPT; /* HEADER is the file's first record */
	memset(rec, 0, sizeof(*rec));
	switch (kind) {
	case PL_K_HEADER: {
		if (n < 2)
			return -PL_ECORRUPT;
		if (r->header_seen)
			return 0; /* a rewritten header after a lost first frame */
		int ret = pl_dec_header(&a[1], &r->hdr, &r->hdr_store);
		if (ret < 0)
			return ret;
		r->header_seen = true;
		r->ck_ts = 0;
		r->ck_wall = r->hdr.wall_anchor_ns;
		return 0;
	}
	case PL_K_NAME:
		return n < 3 ? -PL_ECORRUPT : pl_strtab_define(&r->names, &a[1], &a[2]);
	case PL_K_CHUNK:
		if (n < 3 || pl_dec_u64(&a[1], &u) < 0 || pl_dec_u64(&a[2], &v) < 0)
			return -PL_ECORRUPT;
		if (u >= PL_READ_MAX_THREADS)
			return -PL_ELIMIT;
		r->chunk_open = true;
		r->thread = (uint32_t)u;
		r->prev_ts = v;
		r->prev_seq = 0;
		return 0;
	case PL_K_CLOCK:
		if (n < 3 || pl_dec_u64(&a[1], &u) < 0 || pl_dec_i64(&a[2], &s) < 0)
			return -PL_ECORRUPT;
		r->ck_ts = u;
		r->ck_wall = s;
		return 0;
	case PL_K_START:
	case PL_K_END:
	case PL_K_MESSAGE: {
		int ret = action_record(r, kind, a, n, rec);
		return ret < 0 ? ret : 1;
	}
	case PL_K_THREAD: {
		if (n < 4 || pl_dec_u64(&a[1], &u) < 0 || pl_dec_i64(&a[2], &s) < 0 ||
		    pl_dec_cstr(&r->zone, &a[3], &rec->name) < 0)
			return -PL_ECORRUPT;
		int ret = set_thread(r, u, s);
		if (ret < 0)
			return ret;
		rec->kind = PL_REC_THREAD;
		rec->thread = (uint32_t)u;
		rec->tid = (uint32_t)s;
		return 1;
	}
	case PL_K_DROPPED:
		if (!r->chunk_open || n < 3 || pl_dec_u64(&a[1], &rec->count) < 0 ||
		    pl_dec_cstr(&r->zone, &a[2], &rec->name) < 0)
			return -PL_ECORRUPT;
		rec->kind = PL_REC_DROPPED;
		stamp(r, rec, r->prev_ts);
		return 1;
	case PL_K_STATS: {
		if (n < 2)
			return -PL_ECORRUPT;
		int ret = pl_dec_str_map(&r->zone, &a[1], &rec->fields, &rec->nfields);
		if (ret < 0)
			return ret;
		rec->kind = PL_REC_STATS;
		rec->type = "";
		return 1;
	}
	default:
		return 0; /* a kind from a later minor version: skip it */
	}
}

static int next_raw(struct pl_reader *r, struct pl_record *rec)
{
	for (;;) {
		if (r->pos == r->frame_len) {
			int ret = pl_frames_next(&r->fr, &r->frame, &r->frame_len, &r->frame_off);
			if (ret == PL_END) {
				r->status = PL_END;
				return PL_END;
			}
			if (ret < 0)
				return set_error(r, ret, r->fr.err_off, "%s", r->fr.reason);
			r->pos = 0;
			r->chunk_open = false;
		}
		size_t size, used = 0;
		size_t at = r->pos;
		int ret = pl_mp_check(r->frame + at, r->frame_len - at, &size);
		if (ret < 0)
			return record_error(r, ret == -PL_ELIMIT ? ret : -PL_ECORRUPT, at);
		/* msgpack_unpack() into our own zone, cleared per record: unlike
		 * msgpack_unpack_next(), it does not malloc and free a zone per record. */
		msgpack_zone_clear(&r->zone);
		if (msgpack_unpack((const char *)r->frame + at, size, &used, &r->zone, &r->obj) !=
			    MSGPACK_UNPACK_SUCCESS ||
		    used != size)
			return record_error(r, -PL_ECORRUPT, at);
		r->pos += size;
		ret = interpret(r, &r->obj, rec);
		if (ret < 0)
			return record_error(r, ret, at);
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
	if (!msgpack_zone_init(&r->zone, 64 << 10)) {
		free(r);
		*out = NULL;
		return -PL_ENOMEM;
	}
	r->path = strdup(path ? path : "");
	if (!r->path)
		return set_error(r, -PL_ENOMEM, 0, "out of memory");
	int ret = pl_frames_open(&r->fr, path);
	if (ret < 0)
		return set_error(r, ret, r->fr.err_off, "%s", r->fr.reason);
	/* Read the header, the file's first record; the next deliverable record stays
	 * unread because next_raw() stops right after the header while opening. */
	struct pl_record rec;
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

PL_EXPORT int pl_reader_next(struct pl_reader *r, struct pl_record *rec)
{
	if (!r || !rec)
		return -PL_EINVAL;
	if (r->status)
		return r->status;
	return next_raw(r, rec);
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
	msgpack_zone_destroy(&r->zone);
	pl_strtab_free(&r->names);
	free(r->tids);
	free(r->hdr_store);
	free(r->path);
	free(r);
}
