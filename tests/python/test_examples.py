# SPDX-License-Identifier: MIT
"""The examples run and find what they claim (spellcheck/ and service/ have their own)."""
import os
import pathlib
import re
import subprocess
import sys

import perflog
from conftest import Tree

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


def test_c_actions_and_c_read(tmp_path):
    """examples/c: c_actions records 300 requests with nested actions; c_read prints them."""
    exe = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", "build"), "examples")
    trace = tmp_path / "c.zst"
    out = subprocess.run([exe / "c_actions", trace, "300"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.startswith("c_actions: recorded ") and out.endswith("(dropped 0)\n")
    records = list(perflog.read(str(trace)))
    tree = Tree(records)
    requests = [n for n in tree.roots if n.type == "request"]
    assert [n.fields["id"] for n in requests] == list(range(1, 301))
    for r in requests:
        n = r.children[0].fields["n"]  # parse
        assert n == 1 + (r.fields["id"] * 2654435761) % 2**32 % 100000
        kids = [c.type for c in r.children]
        assert kids == ["parse", "cache_lookup"] + ([] if n % 7 == 0 else ["compute"])
        assert r.outcome == ("failed" if n % 97 == 0 else "succeeded")
    lines = subprocess.run([exe / "c_read", trace], capture_output=True, text=True,
                           timeout=60, check=True).stdout.splitlines()
    assert lines[0].startswith("# pid ") and len(lines) == 1 + len(records)
