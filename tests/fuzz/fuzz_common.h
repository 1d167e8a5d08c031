/* SPDX-License-Identifier: MIT */
/* fuzz_common.h - what both fuzz targets check: reading a file never crashes, leaks or
 * reads out of bounds, every record delivered is well-formed (its views are touched
 * byte by byte, so that ASan sees a bad one), and every failure says why. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <perflog/perflog.h>
#include <zstd.h>

/* Touch every byte a record points at, so that ASan sees any bad view. */
static inline size_t touch_value(const pl_value *v)
{
	size_t n = 0;
	switch (v->type) {
	case PL_VALUE_STR:
	case PL_VALUE_BYTES:
		for (size_t i = 0; i < v->v.str.len; i++)
			n += (unsigned char)v->v.str.ptr[i];
		break;
	case PL_VALUE_ARRAY:
		for (size_t i = 0; i < v->v.array.len; i++)
			n += touch_value(&v->v.array.items[i]);
		break;
	case PL_VALUE_MAP:
		for (size_t i = 0; i < v->v.map.len; i++)
			n += v->v.map.items[i].key_len + touch_value(&v->v.map.items[i].value);
		break;
	default:
		break;
	}
	return n;
}

/* Read @size bytes at @data as a trace file (through a memfd: the reader takes a path). */
static inline void fuzz_read_file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	volatile size_t sink = 0;
	int ret = pl_reader_open(path, &r);
	while (ret == 0 && (ret = pl_reader_next(r, &rec)) == 0) {
		sink += strlen(rec.type) + (rec.exc_type ? strlen(rec.exc_type) : 0) +
			(rec.exc_msg ? strlen(rec.exc_msg) : 0) + (rec.name ? strlen(rec.name) : 0);
		for (uint32_t i = 0; i < rec.depth; i++)
			sink += rec.level[i];
		for (size_t i = 0; i < rec.nfields; i++)
			sink += rec.fields[i].key_len + touch_value(&rec.fields[i].value);
	}
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(r);
		if (!e->reason[0] || e->status != ret)
			__builtin_trap(); /* every failure says why */
	}
	pl_reader_close(r);
	close(fd);
	(void)sink;
}

/* ---- the fast path and the generic path agree (reader.c) ---- */

/* What a read delivered, reduced to a hash: every record's every member, then the final
 * status and where and why it stopped. */
struct fuzz_digest {
	uint64_t h, records;
	int status;
	uint64_t err_offset;
};

static inline void dg_bytes(struct fuzz_digest *d, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		d->h = (d->h ^ b[i]) * 0x100000001b3ull;
	d->h = (d->h ^ n) * 0x100000001b3ull; /* lengths too: "ab"+"c" is not "a"+"bc" */
}

static inline void dg_u64(struct fuzz_digest *d, uint64_t v)
{
	dg_bytes(d, &v, sizeof(v));
}

static inline void dg_str(struct fuzz_digest *d, const char *s)
{
	if (s)
		dg_bytes(d, s, strlen(s));
	else
		dg_u64(d, 0xdeadull);
}

static inline void dg_value(struct fuzz_digest *d, const pl_value *v)
{
	dg_u64(d, v->type);
	switch (v->type) {
	case PL_VALUE_BOOL:
		dg_u64(d, v->v.b);
		break;
	case PL_VALUE_INT:
	case PL_VALUE_UINT:
		dg_u64(d, v->v.u);
		break;
	case PL_VALUE_FLOAT:
		dg_bytes(d, &v->v.f, sizeof(v->v.f));
		break;
	case PL_VALUE_STR:
	case PL_VALUE_BYTES:
		dg_bytes(d, v->v.str.ptr, v->v.str.len);
		break;
	case PL_VALUE_ARRAY:
		for (size_t i = 0; i < v->v.array.len; i++)
			dg_value(d, &v->v.array.items[i]);
		dg_u64(d, v->v.array.len);
		break;
	case PL_VALUE_MAP:
		for (size_t i = 0; i < v->v.map.len; i++) {
			dg_bytes(d, v->v.map.items[i].key, v->v.map.items[i].key_len);
			dg_value(d, &v->v.map.items[i].value);
		}
		dg_u64(d, v->v.map.len);
		break;
	default:
		break;
	}
}

/* How the read of @r ended (@ret), into @d; and @r closed. */
static inline void dg_end(struct fuzz_digest *d, struct pl_reader *r, int ret)
{
	d->status = ret;
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(r);
		d->err_offset = e->offset;
		dg_str(d, e->reason);
	}
	pl_reader_close(r);
}

/* Read the trace at @path with the fast path (@generic false) or without it, fields
 * decoded or skipped. */
/* The kinds whose fields a read skips (pl_reader_skip_fields_of()): none, all, and the
 * inputs and message fields only (what perfan sla skips). */
static const unsigned fuzz_skips[] = {0, PL_SKIP_ALL, PL_SKIP_START | PL_SKIP_MESSAGE};
#define FUZZ_SKIPS (sizeof(fuzz_skips) / sizeof(fuzz_skips[0]))

static inline struct fuzz_digest fuzz_digest_read(const char *path, bool generic, unsigned skip)
{
	struct fuzz_digest d = {0xcbf29ce484222325ull, 0, 0, 0};
	if (generic)
		setenv("PERFLOG_READER_GENERIC", "1", 1);
	else
		unsetenv("PERFLOG_READER_GENERIC");
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	int ret = pl_reader_open(path, &r);
	unsetenv("PERFLOG_READER_GENERIC");
	if (ret == 0)
		pl_reader_skip_fields_of(r, skip);
	while (ret == 0 && (ret = pl_reader_next(r, &rec)) == 0) {
		d.records++;
		dg_u64(&d, rec.kind);
		dg_u64(&d, rec.ts_ns);
		dg_u64(&d, (uint64_t)rec.wall_ns);
		dg_u64(&d, rec.thread);
		dg_u64(&d, rec.tid);
		dg_str(&d, rec.type);
		dg_u64(&d, rec.task_prefix);
		dg_u64(&d, rec.task_seq);
		dg_bytes(&d, rec.level, rec.depth * sizeof(uint32_t));
		dg_u64(&d, rec.outcome);
		dg_u64(&d, rec.duration_ns);
		for (size_t i = 0; i < rec.nfields; i++) {
			dg_bytes(&d, rec.fields[i].key, rec.fields[i].key_len);
			dg_value(&d, &rec.fields[i].value);
		}
		dg_u64(&d, rec.nfields);
		dg_str(&d, rec.exc_type);
		dg_str(&d, rec.exc_msg);
		dg_str(&d, rec.name);
		dg_u64(&d, rec.count);
		dg_u64(&d, rec.frame_offset);
		dg_u64(&d, rec.type_id);
	}
	dg_end(&d, r, ret);
	return d;
}

/* What struct pl_event carries of an event (and a frame offset), into @d. */
static inline void dg_event(struct fuzz_digest *d, uint64_t kind, uint64_t ts, int64_t wall,
			    uint64_t thread, uint64_t tid, const char *type, uint64_t prefix,
			    uint64_t seq, const uint32_t *level, uint32_t depth, uint64_t outcome,
			    uint64_t duration, const struct pl_kv *fields, size_t nfields,
			    const char *exc_type, const char *exc_msg, uint64_t frame_offset)
{
	d->records++;
	dg_u64(d, kind);
	dg_u64(d, ts);
	dg_u64(d, (uint64_t)wall);
	dg_u64(d, thread);
	dg_u64(d, tid);
	dg_str(d, type);
	dg_u64(d, prefix);
	dg_u64(d, seq);
	dg_bytes(d, level, depth * sizeof(uint32_t));
	dg_u64(d, outcome);
	dg_u64(d, duration);
	for (size_t i = 0; i < nfields; i++) {
		dg_bytes(d, fields[i].key, fields[i].key_len);
		dg_value(d, &fields[i].value);
	}
	dg_u64(d, nfields);
	dg_str(d, exc_type);
	dg_str(d, exc_msg);
	dg_u64(d, frame_offset);
}

/* Read the trace at @path, fields decoded or skipped (@skip), digesting what
 * pl_reader_next_events() delivers of an event (and everything of other records). With
 * @bulk, events are taken by pl_reader_next_events() wherever it delivers them, @max
 * and @max_levels varying pseudo-randomly from @seed (some of them too small for an
 * event); *@bulk_events counts them. Without, every record comes from pl_reader_next(). */
static inline struct fuzz_digest fuzz_digest_events(const char *path, unsigned skip, bool bulk,
						    uint32_t seed, uint64_t *bulk_events)
{
	struct fuzz_digest d = {0xcbf29ce484222325ull, 0, 0, 0};
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	static struct pl_event ev[300];
	static uint32_t lv[400];
	uint64_t frame = 0;
	*bulk_events = 0;
	unsetenv("PERFLOG_READER_GENERIC");
	int ret = pl_reader_open(path, &r);
	if (ret == 0)
		pl_reader_skip_fields_of(r, skip);
	while (ret == 0) {
		seed = seed * 1103515245u + 12345u;
		size_t max = 1 + (seed >> 8) % 300, max_levels = (seed >> 20) % 400;
		size_t n = bulk ? pl_reader_next_events(r, ev, max, lv, max_levels) : 0;
		if (n > max)
			abort();
		for (size_t i = 0; i < n; i++) {
			const struct pl_event *e = &ev[i];
			if (e->level + (size_t)e->depth > max_levels || e->reserved ||
			    e->kind < PL_REC_START || e->kind > PL_REC_MESSAGE ||
			    (e->kind == PL_REC_END && e->type_id != 0) ||
			    e->outcome > PL_CANCELLED ||
			    (e->kind != PL_REC_END && (e->outcome || e->duration_ns)) ||
			    (((skip >> e->kind) & 1) && e->nfields) || (!e->fields != !e->nfields))
				abort(); /* outside the room given, or not as documented */
			const char *type =
			    e->kind == PL_REC_END ? "" : pl_reader_name(r, e->type_id);
			if (!type)
				abort(); /* a delivered START's type is defined */
			dg_event(&d, e->kind, e->ts_ns, e->wall_ns, e->thread, e->tid, type,
				 e->task_prefix, e->task_seq, lv + e->level, e->depth, e->outcome,
				 e->duration_ns, e->fields, e->nfields, e->exc_type, e->exc_msg,
				 frame);
		}
		*bulk_events += n;
		if (n)
			continue;
		if ((ret = pl_reader_next(r, &rec)) != 0)
			break;
		frame = rec.frame_offset;
		if (rec.kind <= PL_REC_MESSAGE) {
			dg_event(&d, rec.kind, rec.ts_ns, rec.wall_ns, rec.thread, rec.tid,
				 rec.type, rec.task_prefix, rec.task_seq, rec.level, rec.depth,
				 rec.outcome, rec.duration_ns, rec.fields, rec.nfields,
				 rec.exc_type, rec.exc_msg, frame);
		} else { /* never delivered at once: all of it */
			d.records++;
			dg_u64(&d, rec.kind);
			dg_u64(&d, rec.ts_ns);
			dg_u64(&d, rec.thread);
			dg_u64(&d, rec.tid);
			dg_str(&d, rec.name);
			dg_u64(&d, rec.count);
			for (size_t i = 0; i < rec.nfields; i++)
				dg_value(&d, &rec.fields[i].value);
		}
	}
	dg_end(&d, r, ret);
	return d;
}

/* The reads (fast/generic, fields decoded/skipped: fuzz_skips) of @path: the fast path must
 * deliver exactly what the generic path does, and fail exactly where and as it does;
 * and pl_reader_next_events() mixed with pl_reader_next() must deliver the same events
 * as pl_reader_next() alone, and fail as it does. Returns false when they differ. */
static inline bool fuzz_paths_agree(const char *path)
{
	for (size_t s = 0; s < FUZZ_SKIPS; s++) {
		struct fuzz_digest a = fuzz_digest_read(path, false, fuzz_skips[s]);
		struct fuzz_digest b = fuzz_digest_read(path, true, fuzz_skips[s]);
		if (a.h != b.h || a.records != b.records || a.status != b.status ||
		    a.err_offset != b.err_offset)
			return false;
	}
	for (size_t s = 0; s < FUZZ_SKIPS; s++) {
		uint64_t bulk;
		struct fuzz_digest a = fuzz_digest_events(path, fuzz_skips[s], false, 0, &bulk);
		struct fuzz_digest b =
		    fuzz_digest_events(path, fuzz_skips[s], true, (uint32_t)s + 1, &bulk);
		if (a.h != b.h || a.records != b.records || a.status != b.status ||
		    a.err_offset != b.err_offset)
			return false;
	}
	return true;
}

/* @size bytes at @data as the content of one frame of an otherwise valid trace file: the
 * magic frame, then one zstd frame with its checksum, so that every input reaches the
 * record decoder instead of failing the checksum. Returns the file (malloc'ed; *@len its
 * size), or NULL. */
static inline uint8_t *fuzz_wrap_records(const uint8_t *data, size_t size, size_t *len)
{
	/* docs/format.md: a skippable frame (magic 0x184D2A5E, 8 bytes: "PERFLOG", version 2,
	 * as the seeds' headers say: written by this liblog). */
	static const uint8_t magic[16] = {0x5E, 0x2A, 0x4D, 0x18, 8,   0,   0,	 0,
					  'P',	'E',  'R',  'F',  'L', 'O', 'G', 2};
	size_t cap = sizeof(magic) + ZSTD_compressBound(size);
	uint8_t *file = malloc(cap);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t n = 0;
	if (file && cc) {
		memcpy(file, magic, sizeof(magic));
		ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
		n = ZSTD_compress2(cc, file + sizeof(magic), cap - sizeof(magic), data, size);
	}
	ZSTD_freeCCtx(cc);
	if (!file || ZSTD_isError(n) || !n) {
		free(file);
		return NULL;
	}
	*len = sizeof(magic) + n;
	return file;
}

#endif /* FUZZ_COMMON_H */
