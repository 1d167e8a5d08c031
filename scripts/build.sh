#!/usr/bin/env bash
# Configure (once) and build into $1 (default: build) with extra meson options after it.
# Always uses Debian's /usr/bin/python3 (see meson_options.txt), whatever python3 is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" -Dpython=/usr/bin/python3 "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null
