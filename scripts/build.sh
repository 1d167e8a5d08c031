#!/usr/bin/env bash
# Configure (once) and build into $1 (default: build) with extra meson options after it.
# Always uses Debian's /usr/bin/python3 (see meson_options.txt), whatever python3 is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Quiet when all goes well; the whole output (compiler errors included) when not.
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" -Dpython=/usr/bin/python3 "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
ninja -C "$dir" >"$log" 2>&1 || { cat "$log" >&2; echo "build.sh: the build in $dir failed" >&2; exit 1; }
