#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what perflog needs, only what is missing; safe to run again.
#   1. Debian 12 packages (as root or with sudo): the runtime and build dependencies.
#   2. .venv/: a virtual environment made from Debian's /usr/bin/python3 with
#      --system-site-packages (Debian's python3-* packages stay visible), holding what
#      Debian lacks, from PyPI: scripts/requirements/test.txt always, bench.txt with
#      --bench (which also installs Debian's faketime, libspdlog-dev and g++). The build
#      uses .venv/bin/python3 (scripts/build.sh, the `python` option).
# Usage: scripts/deps.sh [--bench]
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=(scripts/requirements/test.txt)
for arg in "$@"; do
  case $arg in
    --bench) requirements+=(scripts/requirements/bench.txt); bench=1 ;;
    *) echo "usage: scripts/deps.sh [--bench]" >&2; exit 2 ;;
  esac
done

packages=(
  gcc clang libclang-rt-14-dev pkg-config meson ninja-build zstd
  clang-format git                                   # tests/lint/test_format.py
  libzstd-dev libmsgpack-dev libcmocka-dev
  python3 python3-dev python3-venv python3-pytest python3-msgpack python3-zstandard
  python3-pytest-xdist                               # the pytest plugin's gate under xdist
  python3-mesonpy python3-pip                        # pip install . (meson-python)
  python3-eliot python3-structlog python3-loguru     # peers in bench/bench_python.py
  wamerican                                          # word list of examples/spellcheck
  tmux                                               # tests/cli/test_top.py: perfan top in a terminal
  chromium fonts-liberation                          # tests/cli/test_report.py draws perfan report's page
  python3-aiohttp python3-starlette python3-uvicorn python3-flask  # tests/python/test_web.py
  python3-requests python3-httpx                     # tests/python/test_outgoing.py
  python3-django                                     # tests/python/test_web.py (WSGI)
  python3-dask python3-distributed                   # python -m perflog.fleet (Dask)
)

# Only for bench/: libfaketime runs the writer in sped-up time (bench_window.py --hour);
# spdlog's asynchronous logger is bench_writer's C/C++ peer (bench/bench_spdlog.cpp).
if [ "${bench:-0}" = 1 ]; then packages+=(faketime libspdlog-dev g++); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps.sh: run as root or install sudo" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "deps.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The virtual environment: remade when it is not Debian's interpreter's (a venv made
# by another python3 on PATH sees none of Debian's packages); its packages reinstalled
# when a requirements file changed (the stamp holds their checksum).
venv=.venv
base=$("$venv/bin/python3" -c 'import sys; print(sys.base_prefix)' 2>/dev/null || true)
if [ "$base" != /usr ]; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
want=$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$want" ]; then
  echo "deps.sh: installing into $venv: $(grep -hv '^#' "${requirements[@]}" | tr '\n' ' ')"
  args=()
  for r in "${requirements[@]}"; do args+=(-r "$r"); done
  log=$(mktemp)
  # Quiet when all goes well (the machine's pip configuration may warn about indexes
  # that do not exist); the whole output when not.
  "$venv/bin/python3" -m pip install -q --disable-pip-version-check "${args[@]}" >"$log" 2>&1 ||
    { cat "$log" >&2; rm -f "$log"; echo "deps.sh: pip install into $venv failed" >&2; exit 1; }
  rm -f "$log"
  echo "$want" >"$venv/.requirements"
fi
