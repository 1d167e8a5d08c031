/* SPDX-License-Identifier: MIT */
/* fuzz_records.c - libFuzzer target: arbitrary bytes as the *content* of a frame (the
 * msgpack records: header, names, chunks, actions), wrapped into a valid file - the magic
 * frame and one zstd frame with its checksum - so that every input reaches the record
 * tokenizer and decoder instead of failing the checksum. Each input is also read with and
 * without the reader's fast path (fields decoded and skipped): they must agree. */
#define _GNU_SOURCE /* memfd_create, in fuzz_common.h */
#include <stdlib.h>
#include <zstd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	uint8_t *file = fuzz_wrap_records(data, size, &len);
	if (file) {
		fuzz_read_file(file, len);
		int fd = memfd_create("fuzz2", MFD_CLOEXEC);
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (fd >= 0 && write(fd, file, len) == (ssize_t)len && !fuzz_paths_agree(path))
			__builtin_trap(); /* the fast path decoded something differently */
		if (fd >= 0)
			close(fd);
	}
	free(file);
	return 0;
}
