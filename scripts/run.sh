#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: install what is missing, build everything, record Peter Norvig's spelling
# corrector (examples/spellcheck) and show with perfan which calls are slow and with which
# inputs, write report.html; then a C program and an HTTP service across processes.
# Everything lands in $PERFLOG_OUT (default: demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
out=${PERFLOG_OUT:-demo}
mkdir -p "$out"
perfan=build/analyzer/perfan
py() { PYTHONPATH=build/python .venv/bin/python3 "$@"; }
if [ -t 1 ]; then
  say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  say() { printf '\n== %s\n' "$*"; }
fi

say "recording the spelling corrector: examples/spellcheck/run.py $out/spell.zst"
py examples/spellcheck/run.py "$out/spell.zst"

say "perfan stats $out/spell.zst   (per function: count, total, self, percentiles)"
$perfan stats "$out/spell.zst"

say "perfan slowest -n 5 --type '*correction' $out/spell.zst   (the slowest calls, with their inputs)"
$perfan slowest -n 5 --type '*correction' "$out/spell.zst"

say "perfan inputs --type '*correction' $out/spell.zst   (which inputs make it slow)"
$perfan inputs --type '*correction' "$out/spell.zst"

say "perfan tree --slowest 1 --type '*correction' --children 4 $out/spell.zst"
$perfan tree --slowest 1 --type '*correction' --children 4 "$out/spell.zst"

say "perfan report --p99 100ms -o $out/report.html $out/spell.zst   (open it in a browser)"
$perfan report --p99 100ms -o "$out/report.html" "$out/spell.zst"
echo "wrote $out/report.html ($(du -k "$out/report.html" | cut -f1) KiB, self-contained)"

say "recording a C program: build/examples/c_actions $out/c_actions.zst 2000"
build/examples/c_actions "$out/c_actions.zst" 2000
$perfan stats "$out/c_actions.zst"

say "an HTTP service and its worker processes: examples/service/run.py $out/service"
py examples/service/run.py "$out/service"
say "perfan sla --p99 200ms $out/service   (a CI gate: exit 1 when a limit is exceeded)"
$perfan sla --p99 200ms "$out/service" || echo "(perfan sla exit status $?)"
say "perfan slowest -n 3 --type http.request $out/service"
$perfan slowest -n 3 --type http.request "$out/service"
say "perfan tree --slowest 1 --type 'export.*' --children 6 $out/service   (one request across processes)"
$perfan tree --slowest 1 --type 'export.*' --children 6 "$out/service"
