#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run a fuzz target for a bounded time from a corpus made of a real trace (a small
# c_actions trace) and prefixes of it.
# Usage: run_fuzz.sh [--records] FUZZER C_ACTIONS [SECONDS]
#   --records: the target takes frame contents (fuzz_records): the seeds are the trace's
#   records, decompressed (zstd -d skips the magic frame and joins the frames' contents).
set -euo pipefail
records=false
if [ "${1:-}" = --records ]; then
  records=true
  shift
fi
fuzzer=$1 gen=$2 secs=${3:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
"$gen" "$dir/trace.zst" 20 >/dev/null
if $records; then
  zstd -q -d -c "$dir/trace.zst" > "$dir/seed"
else
  cp "$dir/trace.zst" "$dir/seed"
fi
cp "$dir/seed" "$dir/corpus/full"
size=$(stat -c %s "$dir/seed")
for cut in 16 40 $((size / 2)) $((size - 1)); do
  head -c "$cut" "$dir/seed" > "$dir/corpus/cut$cut"
done
# -max_len a little above the seed, so mutations keep whole frames in reach.
exec "$fuzzer" -max_total_time="$secs" -max_len=$((size + 256)) -print_final_stats=1 \
  -artifact_prefix="$dir/" "$dir/corpus"
