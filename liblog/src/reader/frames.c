/* SPDX-License-Identifier: MIT */
/* frames.c - reading a trace file frame by frame with fixed memory bounds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <perflog/reader.h>
#include <perflog/status.h>

#include "../common/config.h"
#include "../common/format.h"
#include "frames.h"

static int fail(struct pl_frames *f, int status, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct pl_frames *f, int status, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	f->err_off = off;
	return status;
}

/* Read more input, keeping unconsumed bytes. Returns bytes read, 0 at EOF, <0 error. */
static ssize_t fill(struct pl_frames *f)
{
	if (f->in_pos > 0) {
		memmove(f->in, f->in + f->in_pos, f->in_len - f->in_pos);
		f->in_base += f->in_pos;
		f->in_len -= f->in_pos;
		f->in_pos = 0;
	}
	if (f->in_len == PL_READ_BLOCK)
		return (ssize_t)PL_READ_BLOCK; /* full: the caller consumes first */
	for (;;) {
		ssize_t n = read(f->fd, f->in + f->in_len, PL_READ_BLOCK - f->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0)
			f->in_len += (size_t)n;
		return n;
	}
}

/* The input block and the decompression context: at open, and again after a
 * suspension. Returns 0 or -PL_ENOMEM. */
static int alloc_buffers(struct pl_frames *f)
{
	if (!f->in && !(f->in = malloc(PL_READ_BLOCK)))
		return -PL_ENOMEM;
	if (!f->dctx) {
		if (!(f->dctx = ZSTD_createDCtx()))
			return -PL_ENOMEM;
		/* Bound the decoder's window: our frames are far smaller than this. */
		ZSTD_DCtx_setParameter(f->dctx, ZSTD_d_windowLogMax, 24);
	}
	return 0;
}

int pl_frames_open(struct pl_frames *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return fail(f, -PL_EIO, 0, "cannot open: %s", strerror(errno));
	struct stat st;
	if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		f->regular = true;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	}
	if (!(f->path = strdup(path)) || alloc_buffers(f) < 0)
		return fail(f, -PL_ENOMEM, 0, "out of memory");
	while (f->in_len < PL_MAGIC_FRAME_BYTES) {
		ssize_t n = fill(f);
		if (n < 0)
			return fail(f, -PL_EIO, f->in_len, "read error: %s", strerror(errno));
		if (n == 0)
			break;
	}
	uint32_t id = 0, len = 0;
	if (f->in_len >= 4)
		memcpy(&id, f->in, 4);
	if (f->in_len >= 8)
		memcpy(&len, f->in + 4, 4);
	if (f->in_len < PL_MAGIC_FRAME_BYTES) {
		if (f->in_len == 0)
			return fail(f, -PL_ETRUNCATED, 0, "empty file");
		if (id == PL_MAGIC_FRAME_ID || f->in_len < 4)
			return fail(f, -PL_ETRUNCATED, 0, "file ends inside the magic frame");
		return fail(f, -PL_EFORMAT, 0, "not a perflog trace (bad magic)");
	}
	if (id != PL_MAGIC_FRAME_ID || len != 8 || memcmp(f->in + 8, PL_MAGIC_TEXT, 7) != 0)
		return fail(f, -PL_EFORMAT, 0, "not a perflog trace (bad magic)");
	if (f->in[15] > PL_FORMAT_VERSION)
		return fail(f, -PL_EVERSION, 15, "format version %u is newer than this reader (%u)",
			    f->in[15], PL_FORMAT_VERSION);
	f->version = f->in[15];
	f->in_pos = PL_MAGIC_FRAME_BYTES;
	return 0;
}

/* Refuse a data frame whose header does not announce a content checksum: the writer
 * always sets it, so its absence means the header itself is damaged, and without the
 * checksum a damaged block would decode into wrong records instead of an error.
 * (RFC 8878: magic 0xFD2FB528, then the frame header descriptor, bit 2.) Returns 0,
 * PL_END at a clean end of file, or an error. */
static int check_frame_header(struct pl_frames *f, uint64_t start)
{
	while (f->in_len - f->in_pos < 5) {
		ssize_t n = fill(f);
		if (n < 0)
			return fail(f, -PL_EIO, start, "read error: %s", strerror(errno));
		if (n == 0)
			break;
	}
	size_t avail = f->in_len - f->in_pos;
	if (avail == 0)
		return PL_END;
	uint32_t magic = 0;
	if (avail >= 4)
		memcpy(&magic, f->in + f->in_pos, 4);
	if (avail >= 5 && magic == 0xFD2FB528u && !(f->in[f->in_pos + 4] & 0x04))
		return fail(f, -PL_ECORRUPT, start, "corrupt frame: header without a checksum");
	return 0; /* short or foreign headers: zstd reports them */
}

int pl_frames_suspend(struct pl_frames *f, bool keep_frame)
{
	if (!f->regular)
		return -PL_EINVAL;
	if (f->fd >= 0) {
		/* Unconsumed input is read again after the reopening. */
		f->in_base += f->in_pos;
		f->in_len = f->in_pos = 0;
		close(f->fd);
		f->fd = -1;
	}
	free(f->in);
	f->in = NULL;
	ZSTD_freeDCtx(f->dctx); /* frames are decompressed whole: it holds no state */
	f->dctx = NULL;
	if (!keep_frame) {
		free(f->frame);
		f->frame = NULL;
		f->frame_cap = 0;
	}
	return 0;
}

/* Reopen a suspended file where it was left. Returns 0 or a negative pl_status. */
static int resume(struct pl_frames *f)
{
	uint64_t at = f->in_base;
	if (!f->regular)
		return fail(f, -PL_EIO, at, "not open");
	if (alloc_buffers(f) < 0)
		return fail(f, -PL_ENOMEM, at, "out of memory");
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(f, -PL_EIO, at, "cannot reopen: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino) {
		close(fd);
		return fail(f, -PL_EIO, at, "the file was replaced while it was being read");
	}
	if (lseek(fd, (off_t)at, SEEK_SET) != (off_t)at) {
		int err = errno;
		close(fd);
		return fail(f, -PL_EIO, at, "cannot seek back after reopening: %s", strerror(err));
	}
	f->fd = fd;
	return 0;
}

/* At the end of a followed file: go back to @unit, the start of the frame (or index)
 * being written, to read it whole once it is. Returns PL_AGAIN or an error. */
static int again(struct pl_frames *f, uint64_t unit)
{
	ZSTD_DCtx_reset(f->dctx, ZSTD_reset_session_only);
	f->ix_pending = false;
	if (unit >= f->in_base && unit <= f->in_base + f->in_len) {
		f->in_pos = (size_t)(unit - f->in_base);
		return PL_AGAIN;
	}
	if (lseek(f->fd, (off_t)unit, SEEK_SET) != (off_t)unit)
		return fail(f, -PL_EIO, unit, "cannot seek: %s", strerror(errno));
	f->in_base = unit;
	f->in_len = f->in_pos = 0;
	return PL_AGAIN;
}

/* Parse the index frame at @p (PL_INDEX_FRAME_BYTES bytes). 1 if it is one this reader
 * knows; 0 for any other skippable frame (zstd passes over it); -1 for a frame with the
 * index's id and size that is not a valid index (a damaged one: the caller says so); -2
 * for the index's id with another length, not of a later index version: a damaged length,
 * which zstd would follow to skip real frames without a word. */
static int parse_index(const uint8_t *p, struct pl_frame_ix *ix)
{
	uint32_t id, len;
	memcpy(&id, p, 4);
	memcpy(&len, p + 4, 4);
	if (id != PL_INDEX_FRAME_ID)
		return 0;
	p += 8;
	if (len != PL_INDEX_PAYLOAD)
		return memcmp(p, PL_INDEX_MAGIC, 4) == 0 && p[4] > PL_INDEX_VERSION ? 0 : -2;
	if (memcmp(p, PL_INDEX_MAGIC, 4) != 0)
		return -1;
	if (p[4] != PL_INDEX_VERSION)
		return 0; /* a later version: not ours to check */
	if (p[6] != 0 || p[7] != 0)
		return -1;
	ix->flags = p[5];
	memcpy(&ix->data_len, p + 8, 4);
	memcpy(&ix->events, p + 12, 4);
	memcpy(&ix->first_wall, p + 16, 8);
	memcpy(&ix->last_wall, p + 24, 8);
	memcpy(&ix->open_off, p + 32, 8);
	memcpy(&ix->end_ck_ts, p + 40, 8);
	memcpy(&ix->end_ck_wall, p + 48, 8);
	return 1;
}

/* Note the first index problem of the file (the window is turned off from there). */
static void index_problem(struct pl_frames *f, uint64_t off, const char *what)
{
	if (f->ix_mismatch)
		return;
	f->ix_mismatch = true;
	snprintf(f->ix_why, sizeof(f->ix_why), "offset %llu: %s", (unsigned long long)off, what);
}

/* At a frame boundary: if an index frame comes next, consume it into f->ix. Returns
 * PL_FRAMES_INDEXED (index pending), 0 (none), PL_END or an error. */
static int take_index(struct pl_frames *f)
{
	if (f->ix_pending)
		return PL_FRAMES_INDEXED;
	uint64_t start = f->in_base + f->in_pos;
	while (f->in_len - f->in_pos < PL_INDEX_FRAME_BYTES) {
		ssize_t n = fill(f);
		if (n < 0)
			return fail(f, -PL_EIO, start, "read error: %s", strerror(errno));
		if (n == 0)
			break;
	}
	size_t avail = f->in_len - f->in_pos;
	if (avail == 0)
		return f->follow ? PL_AGAIN : PL_END;
	int got = avail < PL_INDEX_FRAME_BYTES ? 0 : parse_index(f->in + f->in_pos, &f->ix);
	if (got == -2) {
		uint32_t len;
		memcpy(&len, f->in + f->in_pos + 4, 4);
		return fail(f, -PL_ECORRUPT, start,
			    "corrupt frame: an index frame of %u bytes (an index has %u)", len,
			    PL_INDEX_PAYLOAD);
	}
	if (got < 0)
		index_problem(f, start, "a damaged index frame (bad magic or reserved bytes)");
	if (got <= 0)
		return 0; /* zstd reads (or refuses) whatever it is */
	f->in_pos += PL_INDEX_FRAME_BYTES;
	f->ix_pending = true;
	f->ix_seen = true;
	f->unit_off = start;
	return PL_FRAMES_INDEXED;
}

int pl_frames_peek_index(struct pl_frames *f, struct pl_frame_ix *ix, uint64_t *off)
{
	if (f->fd < 0) {
		int ret = resume(f);
		if (ret < 0)
			return ret;
	}
	int ret = take_index(f);
	if (ret == PL_FRAMES_INDEXED) {
		*ix = f->ix;
		*off = f->unit_off;
	}
	return ret;
}

/* Does a frame (or the end of the file) begin at @at? */
static bool frame_starts_at(struct pl_frames *f, uint64_t at, uint64_t size)
{
	if (at == size)
		return true;
	uint8_t m[4];
	if (at > size || pread(f->fd, m, 4, (off_t)at) != 4)
		return false;
	uint32_t magic;
	memcpy(&magic, m, 4);
	return magic == 0xFD2FB528u || (magic & 0xFFFFFFF0u) == 0x184D2A50u;
}

int pl_frames_skip(struct pl_frames *f)
{
	if (!f->ix_pending)
		return fail(f, -PL_EINVAL, f->in_base + f->in_pos, "no index to skip by");
	uint64_t at = f->in_base + f->in_pos, to = at + f->ix.data_len;
	struct stat st;
	if (f->follow && f->regular && fstat(f->fd, &st) == 0 && to > (uint64_t)st.st_size)
		return again(f, f->unit_off); /* its data frame is still being written */
	if (!f->regular || fstat(f->fd, &st) < 0 || !frame_starts_at(f, to, (uint64_t)st.st_size)) {
		f->ix_mismatch = true;
		snprintf(f->ix_why, sizeof(f->ix_why),
			 "offset %llu: the index gives a length of %u bytes that does not end "
			 "on a frame",
			 (unsigned long long)f->unit_off, f->ix.data_len);
		return 1;
	}
	if (to <= f->in_base + f->in_len) {
		f->in_pos = (size_t)(to - f->in_base);
	} else {
		if (lseek(f->fd, (off_t)to, SEEK_SET) != (off_t)to)
			return fail(f, -PL_EIO, at, "cannot seek: %s", strerror(errno));
		f->in_base = to;
		f->in_len = f->in_pos = 0;
	}
	f->ix_pending = false;
	return 0;
}

int pl_frames_index_scan(struct pl_frames *f,
			 void (*fn)(void *ctx, const struct pl_frame_ix *ix, uint64_t off),
			 void *ctx)
{
	if (f->fd < 0) {
		int ret = resume(f);
		if (ret < 0)
			return ret;
	}
	struct stat st;
	if (!f->regular || fstat(f->fd, &st) < 0)
		return 0;
	uint64_t size = (uint64_t)st.st_size;
	uint64_t at = f->ix_pending ? f->unit_off : f->in_base + f->in_pos;
	while (at < size) {
		uint8_t b[PL_INDEX_FRAME_BYTES];
		struct pl_frame_ix ix;
		if (size - at < sizeof(b) ||
		    pread(f->fd, b, sizeof(b), (off_t)at) != (ssize_t)sizeof(b) ||
		    parse_index(b, &ix) <= 0)
			return 0;
		uint64_t next = at + sizeof(b) + ix.data_len;
		if (next > size)
			return 0; /* the last frame is cut short: reading reports it */
		fn(ctx, &ix, at);
		at = next;
	}
	return 1;
}

int pl_frames_next(struct pl_frames *f, const uint8_t **data, size_t *len, uint64_t *off)
{
	if (f->fd < 0) {
		int ret = resume(f);
		if (ret < 0)
			return ret;
	}
	for (;;) {
		int ret = take_index(f);
		if (ret < 0 || ret == PL_AGAIN)
			return ret;
		bool indexed = ret == PL_FRAMES_INDEXED;
		uint64_t start = f->in_base + f->in_pos;
		uint64_t unit = indexed ? f->unit_off : start;
		size_t out_len = 0;
		bool started = false;
		ret = ret == PL_END ? PL_END : check_frame_header(f, unit);
		if (ret == PL_END && f->follow)
			return again(f, unit);
		if (ret == PL_END && indexed)
			return fail(f, -PL_ETRUNCATED, unit,
				    "truncated frame: the file ends after its index");
		if (ret != 0)
			return ret;
		for (;;) {
			if (f->in_pos == f->in_len) {
				ssize_t n = fill(f);
				if (n < 0)
					return fail(f, -PL_EIO, f->in_base + f->in_pos,
						    "read error: %s", strerror(errno));
				if (n == 0) {
					if (f->follow)
						return again(f, unit);
					if (!started && !indexed)
						return PL_END;
					return fail(
					    f, -PL_ETRUNCATED, unit,
					    "truncated frame: file ends %llu bytes into it",
					    (unsigned long long)(f->in_base + f->in_pos - unit));
				}
			}
			if (out_len == f->frame_cap) {
				if (f->frame_cap >= PL_READ_MAX_FRAME)
					return fail(f, -PL_ELIMIT, unit,
						    "frame content exceeds %u bytes",
						    PL_READ_MAX_FRAME);
				size_t cap = f->frame_cap ? f->frame_cap * 2 : 1u << 20;
				uint8_t *p = realloc(f->frame, cap);
				if (!p)
					return fail(f, -PL_ENOMEM, unit, "out of memory");
				f->frame = p;
				f->frame_cap = cap;
			}
			ZSTD_inBuffer in = {f->in, f->in_len, f->in_pos};
			ZSTD_outBuffer out = {f->frame, f->frame_cap, out_len};
			size_t r = ZSTD_decompressStream(f->dctx, &out, &in);
			started = started || in.pos > f->in_pos;
			f->in_pos = in.pos;
			out_len = out.pos;
			if (ZSTD_isError(r)) {
				ZSTD_DCtx_reset(f->dctx, ZSTD_reset_session_only);
				return fail(f, -PL_ECORRUPT, unit, "corrupt frame: %s",
					    ZSTD_getErrorName(r));
			}
			if (r == 0)
				break;
		}
		f->ix_pending = false;
		f->ix_ok = false;
		if (indexed) {
			uint64_t got = f->in_base + f->in_pos - start;
			if (got == f->ix.data_len) {
				f->ix_ok = true;
			} else if (!f->ix_mismatch) {
				f->ix_mismatch = true;
				snprintf(f->ix_why, sizeof(f->ix_why),
					 "offset %llu: the index gives a length of %u bytes, the "
					 "frame has %llu",
					 (unsigned long long)unit, f->ix.data_len,
					 (unsigned long long)got);
			}
		}
		if (out_len == 0)
			continue; /* a skippable or empty frame */
		/* A writer that indexes one frame indexes them all: a data frame without
		 * one lost it to damage (the index's magic, say), and what a window would
		 * skip around it can no longer be trusted. */
		if (!indexed && f->ix_seen)
			index_problem(f, unit, "a data frame without its index");
		*data = f->frame;
		*len = out_len;
		*off = unit;
		return 0;
	}
}

uint64_t pl_frames_offset(const struct pl_frames *f)
{
	return f->in_base + f->in_pos;
}

void pl_frames_close(struct pl_frames *f)
{
	if (f->fd >= 0)
		close(f->fd);
	ZSTD_freeDCtx(f->dctx);
	free(f->in);
	free(f->frame);
	free(f->path);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}
