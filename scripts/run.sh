#!/usr/bin/env bash
# The main job: install what is missing, build everything, record a real program into a
# trace and analyze it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
out=${PERFLOG_OUT:-demo}
mkdir -p "$out"
trace="$out/c_actions.zst"
echo "== recording: build/examples/c_actions $trace 2000"
build/examples/c_actions "$trace" 2000
echo "== the trace, decoded (first 20 records): build/examples/c_read $trace"
build/examples/c_read "$trace" > "$out/c_actions.txt"
head -n 21 "$out/c_actions.txt"
echo "   ... ($(wc -l < "$out/c_actions.txt") lines in $out/c_actions.txt)"
echo "== failed actions:"
grep -m 5 ' failed ' "$out/c_actions.txt" || true
echo "== writer statistics (last record):"
tail -n 1 "$out/c_actions.txt"
echo "== a Python program under @perflog: examples/py_decorator.py $out/py_decorator.zst"
PYTHONPATH=build/python /usr/bin/python3 examples/py_decorator.py "$out/py_decorator.zst"
