/* SPDX-License-Identifier: MIT */
/* fuzz_records.c - libFuzzer target: arbitrary bytes as the *content* of a frame (the
 * msgpack records: header, names, chunks, actions), wrapped into a valid file - the magic
 * frame and one zstd frame with its checksum - so that every input reaches the record
 * tokenizer and decoder instead of failing the checksum. */
#define _GNU_SOURCE /* memfd_create, in fuzz_common.h */
#include <stdlib.h>
#include <zstd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	uint8_t *file = fuzz_wrap_records(data, size, &len);
	if (file)
		fuzz_read_file(file, len);
	free(file);
	return 0;
}
