#!/usr/bin/env bash
# Run the reader fuzz target for a bounded time from a corpus of real traces (a small
# c_actions trace and prefixes of it). Usage: run_fuzz.sh FUZZER C_ACTIONS [SECONDS]
set -euo pipefail
fuzzer=$1 gen=$2 secs=${3:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
"$gen" "$dir/seed.zst" 20 >/dev/null
cp "$dir/seed.zst" "$dir/corpus/full"
size=$(stat -c %s "$dir/seed.zst")
for cut in 16 40 $((size / 2)) $((size - 1)); do
  head -c "$cut" "$dir/seed.zst" > "$dir/corpus/cut$cut"
done
# -max_len a little above the seed, so mutations keep whole frames in reach.
exec "$fuzzer" -max_total_time="$secs" -max_len=$((size + 256)) -print_final_stats=1 \
  -artifact_prefix="$dir/" "$dir/corpus"
