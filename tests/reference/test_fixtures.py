# SPDX-License-Identifier: MIT
"""test_fixtures.py - the committed format-1 traces (tests/fixtures/v1) stay readable.

They were written by perflog 0.2's liblog writer (make_fixtures.py there says how) and
are frozen: whatever format the writer writes now, liblog's reader (examples/c_read),
the independent reference reader and perfan must still read these files exactly as
their .records files (the reference reader's lines when they were made) say, the cut one
up to its damaged frame, with the error naming that frame's offset.

Run: PERFLOG_BUILD_DIR=build /usr/bin/python3 -m pytest -q tests/reference/test_fixtures.py
"""

import collections
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "v1"
sys.path.insert(0, str(HERE))
import ref_reader  # noqa: E402

WHOLE = ["c_actions", "python"]
CUT = "cut"


def _last_frame_offset():
    """Where python.zst's last data frame (its index frame) begins: cut.zst is python.zst
    cut in the middle of that frame."""
    with ref_reader.Reader(FIXTURES / "python.zst") as r:
        for _ in r:
            pass
        return r.index[-1]["offset"]


CUT_OFFSET = _last_frame_offset()


def _exe(*parts):
    d = os.environ.get("PERFLOG_BUILD_DIR")
    if not d:
        pytest.skip("PERFLOG_BUILD_DIR is not set (e.g. PERFLOG_BUILD_DIR=build)")
    x = pathlib.Path(d, *parts)
    if not os.access(x, os.X_OK):
        pytest.skip(f"{x} is missing: build {d}")
    return x


def _expected(name):
    return (FIXTURES / f"{name}.records").read_bytes()


@pytest.mark.parametrize("name", WHOLE + [CUT])
def test_reference_reader_reads_them_as_recorded(name):
    p = subprocess.run([sys.executable, HERE / "ref_reader.py", FIXTURES / f"{name}.zst"],
                       capture_output=True)
    assert p.stdout == _expected(name)
    if name == CUT:
        assert p.returncode == 3
        assert f"offset {CUT_OFFSET}: truncated frame" in p.stderr.decode()
    else:
        assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("name", WHOLE + [CUT])
def test_liblog_reads_them_as_recorded(name):
    p = subprocess.run([_exe("examples", "c_read"), FIXTURES / f"{name}.zst"],
                       capture_output=True)
    assert p.stdout == _expected(name)
    if name == CUT:
        assert p.returncode != 0
        assert f"offset {CUT_OFFSET}: truncated frame" in p.stderr.decode()
    else:
        assert p.returncode == 0, p.stderr


def test_liblog_generic_path_reads_them_as_recorded():
    """The reader's fast path and its generic one (msgpack-c's unpacker) agree."""
    env = dict(os.environ, PERFLOG_READER_GENERIC="1")
    for name in WHOLE:
        p = subprocess.run([_exe("examples", "c_read"), FIXTURES / f"{name}.zst"],
                           capture_output=True, env=env)
        assert p.returncode == 0 and p.stdout == _expected(name), name


def _stats_from_reference(path):
    """count, failures and total duration per action type, from the reference reader:
    pair each END with its START by (task, level)."""
    types, out = {}, collections.defaultdict(lambda: [0, 0, 0])
    try:
        with ref_reader.Reader(path) as r:
            for rec in r:
                key = (rec["task_prefix"], rec["task_seq"], tuple(rec["level"] or ()))
                if rec["kind"] == "start":
                    types[key] = rec["type"]
                elif rec["kind"] == "end" and key in types:
                    t = out[types.pop(key)]
                    t[0] += 1
                    t[1] += rec["outcome"] == 1
                    t[2] += rec["duration_ns"]
    except ref_reader.TraceError:
        pass  # the cut file: what was read before the damage counts
    return dict(out)


@pytest.mark.parametrize("name", WHOLE + [CUT])
def test_perfan_stats_of_them(name):
    perfan = _exe("analyzer", "perfan")
    p = subprocess.run([perfan, "stats", "--json", FIXTURES / f"{name}.zst"],
                       capture_output=True, text=True)
    doc = json.loads(p.stdout)
    got = {t["type"]: [t["count"], t["failures"], t["total_ns"]] for t in doc["types"]}
    assert got == _stats_from_reference(FIXTURES / f"{name}.zst")
    if name == CUT:  # a file cut short is read up to the damage, and said so
        assert re.search(rf"cut\.zst: offset {CUT_OFFSET}: truncated frame", p.stderr)
        assert doc["inputs"][0]["status"] != "read"
    else:
        assert p.returncode == 0, p.stderr
        assert doc["unfinished"] == 0 and doc["unmatched_ends"] == 0
