/* SPDX-License-Identifier: MIT */
/* fuzz_common.h - what both fuzz targets check: reading a file never crashes, leaks or
 * reads out of bounds, every record delivered is well-formed (its views are touched
 * byte by byte, so that ASan sees a bad one), and every failure says why. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <perflog/perflog.h>

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

#endif /* FUZZ_COMMON_H */
