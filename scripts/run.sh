#!/usr/bin/env bash
# The main job: install what is missing, build everything, record real programs (C and
# Python) into traces and analyze them with perfan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
out=${PERFLOG_OUT:-demo}
mkdir -p "$out"
perfan=build/analyzer/perfan

echo "== recording a C program: build/examples/c_actions $out/c_actions.zst 2000"
build/examples/c_actions "$out/c_actions.zst" 2000
echo "== recording a Python program: examples/py_decorator.py $out/py_decorator.zst"
PYTHONPATH=build/python /usr/bin/python3 examples/py_decorator.py "$out/py_decorator.zst"
echo
echo "== the first records of the C trace, decoded (build/examples/c_read):"
build/examples/c_read "$out/c_actions.zst" > "$out/c_actions.txt"
head -n 9 "$out/c_actions.txt"
echo "   ... ($(wc -l < "$out/c_actions.txt") lines in $out/c_actions.txt)"
echo
echo "== perfan stats $out/py_decorator.zst"
$perfan stats "$out/py_decorator.zst"
echo
echo "== perfan slowest -n 2 --type '*collatz' $out/py_decorator.zst"
$perfan slowest -n 2 --type '*collatz' "$out/py_decorator.zst"
echo
echo "== perfan inputs --type '*collatz' $out/py_decorator.zst   (which inputs are slow)"
$perfan inputs --type '*collatz' "$out/py_decorator.zst"
echo
echo "== perfan tree --slowest 1 --type '*handle' $out/py_decorator.zst"
$perfan tree --slowest 1 --type '*handle' "$out/py_decorator.zst"
echo
echo "== perfan export --format chrome -o $out/py_decorator.json   (open in Perfetto UI)"
$perfan export --format chrome -o "$out/py_decorator.json" "$out/py_decorator.zst"
echo
echo "== perfan sla --p99 2us --type request $out/c_actions.zst   (a CI gate: exit 1 on FAIL)"
$perfan sla --p99 2us --type request "$out/c_actions.zst" || echo "(sla exit status $?)"
