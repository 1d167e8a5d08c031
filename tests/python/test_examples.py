"""The Python examples run and find what they claim to find."""
import os
import pathlib
import re
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_py_decorator(tmp_path):
    trace = tmp_path / "ex.zst"
    out = subprocess.run([sys.executable, str(EXAMPLES / "py_decorator.py"), str(trace)],
                         capture_output=True, text=True, timeout=120, env=os.environ.copy(),
                         check=True).stdout
    lines = out.splitlines()
    assert lines[0] == f"{trace}: the 5 slowest collatz() calls"
    rows = [re.fullmatch(r"\s*([0-9.]+) us  n=(\d+)", line) for line in lines[1:]]
    assert len(rows) == 5 and all(rows)
    durations = [float(m.group(1)) for m in rows]
    assert durations == sorted(durations, reverse=True)
    assert trace.stat().st_size > 0
