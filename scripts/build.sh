#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configure (once) and build into $1 (default: build) with extra meson options after it.
# The Python is .venv's (made by scripts/deps.sh from Debian's /usr/bin/python3, so it
# sees Debian's python3-* packages and the PyPI test tools), whatever python3 is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
python=$PWD/.venv/bin/python3
[ -x "$python" ] || { echo "build.sh: no $python: run scripts/deps.sh first" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The C compiler a build directory was configured with ("" if none): a directory made
# earlier with another compiler than $CC asks for is made again (a gcc-built build-tsan,
# say, where scripts/test.sh asks for clang: gcc's ThreadSanitizer reports fork children
# that clang's does not).
configured_cc() {
  "$python" -c 'import json, sys
try:
    print(json.load(open(sys.argv[1]))["host"]["c"]["exelist"][0])
except Exception:
    print("")' "$dir/meson-info/intro-compilers.json"
}
# Quiet when all goes well; the whole output (compiler errors included) when not.
if [ -f "$dir/build.ninja" ] && [ -n "${CC:-}" ] && [ "$(configured_cc)" != "$CC" ]; then
  echo "build.sh: $dir was configured with '$(configured_cc)', not '$CC': configuring it again" >&2
  meson setup --wipe "$dir" -Dpython="$python" "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
elif [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" -Dpython="$python" "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
elif ! grep -qF "\"$python\"" "$dir/meson-info/intro-buildoptions.json"; then
  # A build directory configured before .venv existed (or for another checkout).
  meson configure "$dir" -Dpython="$python" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
ninja -C "$dir" >"$log" 2>&1 || { cat "$log" >&2; echo "build.sh: the build in $dir failed" >&2; exit 1; }
