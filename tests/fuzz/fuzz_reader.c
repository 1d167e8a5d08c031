/* SPDX-License-Identifier: MIT */
/* fuzz_reader.c - libFuzzer target: pl_reader over arbitrary bytes (whole files: the
 * magic frame, zstd frames, checksums). Mutations rarely survive the checksums, so the
 * records inside frames are fuzzed by fuzz_records.c. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read_file(data, size);
	return 0;
}
