#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every test suite: install what is missing, build, run all tests; then again with
# AddressSanitizer + UndefinedBehaviorSanitizer, liblog's with ThreadSanitizer, and with
# clang plus bounded fuzzing runs (the reader, the records, perfan as a whole). Prints
# "N passed, N failed" last.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1

passed=0 failed=0
run_suite() { # build-dir, meson options... ($cc, if set, is the C compiler)
  local dir=$1; shift
  echo "== $dir: build $*"
  if ! CC=${cc:-cc} scripts/build.sh "$dir" "$@"; then
    echo "== $dir: BUILD FAILED"; failed=$((failed + 1)); return
  fi
  meson test -C "$dir" --print-errorlogs --num-processes 2
  local log="$dir/meson-logs/testlog.json"
  local ok bad
  ok=$(grep -c '"result": "OK"' "$log" || true)
  bad=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$log" || true)
  passed=$((passed + ok)); failed=$((failed + bad))
}

run_suite build
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false
# clang with ThreadSanitizer: liblog's suites (rings shared by a recording thread and the
# flusher, writers opened, forked and closed under many threads).
cc=clang run_suite build-tsan -Db_sanitize=thread -Db_lundef=false -Dpython_ext=disabled \
  -Danalyzer=false -Dbench=false -Dexamples=false
# clang: the C suites once more, and the libFuzzer targets (the reader, the records, perfan
# as a whole) for a bounded time each.
cc=clang run_suite build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fsanitize=fuzzer-no-link -Dpython_ext=disabled -Danalyzer=true -Dbench=false
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
