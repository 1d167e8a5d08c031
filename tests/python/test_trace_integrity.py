# SPDX-License-Identifier: MIT
"""What the writer writes, its readers read to the end: reproductions of writer bugs that
made traces their own reader rejected (the hardening issue), read back through
perflog.read, perfan and the independent reference reader."""
import os
import pathlib
import subprocess
import sys

import perflog

SRC = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(SRC / "tests" / "reference"))
import ref_reader  # noqa: E402

BUILD = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", SRC / "build"))


def _read_everything(path, n_types):
    starts = [r for r in perflog.read(str(path)) if r["kind"] == "start"]
    assert len(starts) == n_types  # perflog.read raises TraceError on a rejected record
    assert len({r["type"] for r in starts}) == n_types
    ref = [r for r in ref_reader.read(str(path)) if r["kind"] == "start"]
    assert len(ref) == n_types
    perfan = BUILD / "analyzer" / "perfan"
    if perfan.exists():
        proc = subprocess.run([str(perfan), "stats", "--json", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_new_names_filling_a_frame_mid_frame(tmp_path):
    # More new names in one flush cycle than a frame holds, after the frame already took
    # records of the same thread (a small ring wakes the flusher before the interval
    # ends the frame): the records held back for the next frame were staged against the
    # previous frame's open chunk ("a start record before any CHUNK of its frame").
    path = tmp_path / "names.zst"
    n = 20000
    perflog.start(str(path), flush_interval_ms=60000, buffer_size=256 << 10,
                  full_policy="block")
    try:
        for i in range(n):
            with perflog.action("t" * 100 + ".%d" % i):
                pass
    finally:
        perflog.stop()
    _read_everything(path, n)


def test_the_issue_reproduction(tmp_path):
    # The report's reproduction (new names in a tight loop at the default interval and
    # ring), with enough names for this machine's speed; blocking, so none is dropped.
    path = tmp_path / "x.zst"
    n = 150000
    perflog.start(str(path), full_policy="block")
    try:
        for i in range(n):
            with perflog.action("type.%d" % i):
                pass
    finally:
        perflog.stop()
    _read_everything(path, n)
