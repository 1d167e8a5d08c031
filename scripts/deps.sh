#!/usr/bin/env bash
# Install the Debian 12 packages perflog needs, only those missing. Runs as root or with
# sudo; safe to run again (it installs nothing when all are present).
set -euo pipefail

packages=(
  gcc clang libclang-rt-14-dev pkg-config meson ninja-build zstd
  libzstd-dev libmsgpack-dev libcmocka-dev
  python3 python3-dev python3-pytest python3-msgpack python3-zstandard
  python3-mesonpy python3-pip                        # pip install . (meson-python)
  python3-eliot python3-structlog python3-loguru     # peers in bench/bench_python.py
  wamerican                                          # word list of examples/spellcheck
  chromium fonts-liberation                          # tests/cli/test_report.py draws perfan report's page
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
echo "deps.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
