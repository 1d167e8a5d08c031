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
	/* docs/format.md: a skippable frame (magic 0x184D2A5E, 8 bytes: "PERFLOG", version 1). */
	static const uint8_t magic[16] = {0x5E, 0x2A, 0x4D, 0x18, 8, 0, 0, 0,
					  'P',	'E',  'R',  'F',  'L', 'O', 'G', 1};
	size_t cap = sizeof(magic) + ZSTD_compressBound(size);
	uint8_t *file = malloc(cap);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	if (!file || !cc)
		goto out;
	memcpy(file, magic, sizeof(magic));
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
	size_t n = ZSTD_compress2(cc, file + sizeof(magic), cap - sizeof(magic), data, size);
	if (!ZSTD_isError(n))
		fuzz_read_file(file, sizeof(magic) + n);
out:
	ZSTD_freeCCtx(cc);
	free(file);
	return 0;
}
