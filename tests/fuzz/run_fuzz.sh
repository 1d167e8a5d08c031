#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run a fuzz target for a bounded time from a corpus made of a real trace (a small
# c_actions trace) and prefixes of it.
# Usage: [GEN_TRACE=gen_trace] run_fuzz.sh [--records] FUZZER C_ACTIONS [SECONDS]
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
# With $GEN_TRACE (tests/cli/gen_trace): seeds of the shapes that broke perfan before -
# many names, many small files' worth of tasks, a deep tree, nested and remote tasks.
if [ -n "${GEN_TRACE:-}" ]; then
  "$GEN_TRACE" --types 300 "$dir/types.zst"
  "$GEN_TRACE" --deep 60 "$dir/deep.zst"
  "$GEN_TRACE" --many 2 "$dir"
  mkdir "$dir/app" && "$GEN_TRACE" "$dir/app"
  for t in "$dir"/types.zst "$dir"/deep.zst "$dir"/t00000.zst "$dir"/app/app.zst; do
    name=$(basename "$t" .zst)
    if $records; then zstd -q -d -c "$t" > "$dir/corpus/$name"; else cp "$t" "$dir/corpus/$name"; fi
  done
  # With $PERFAN: a summary of them (perfan summarize), so that the summary reader is
  # fuzzed too.
  if [ -n "${PERFAN:-}" ]; then
    "$PERFAN" summarize -k 5 -o "$dir/summary.sum" "$dir"/types.zst "$dir"/deep.zst \
      "$dir"/app/app.zst 2>/dev/null
    if $records; then zstd -q -d -c "$dir/summary.sum" > "$dir/corpus/summary"
    else cp "$dir/summary.sum" "$dir/corpus/summary"; fi
  fi
  biggest=$(stat -c %s "$dir"/corpus/* | sort -n | tail -1)
  [ "$biggest" -gt "$size" ] && size=$biggest
fi
# -max_len a little above the largest seed, so mutations keep whole frames in reach.
exec "$fuzzer" -max_total_time="$secs" -max_len=$((size + 256)) -print_final_stats=1 \
  -artifact_prefix="$dir/" "$dir/corpus"
