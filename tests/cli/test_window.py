# SPDX-License-Identifier: MIT
"""--since/--until read by the frame index give what reading every frame gives.

A Python program records ~1 s of requests from three threads (frames every 20 ms),
once with a top-level action around everything (its START is every window's ancestor)
and once without. For windows at the start, in the middle and at the end, every
subcommand's output is compared with PERFAN_NO_INDEX=1 (every frame read): the same text;
in --json the same apart from what counts the reading itself (records, actions,
frames_skipped). Without the outer action a narrow window must skip frames. An index
that lies about a frame it is read with is reported, and the answer stays the same.
"""
import json
import os
import pathlib
import struct
import subprocess
import sys

import pytest

from conftest import run

PROGRAM = """
import sys, time, threading, perflog
perflog.start(sys.argv[1], flush_interval_ms=20)
@perflog.perflog
def leaf(i):
    return sum(range(300))
@perflog.perflog
def req(i):
    for j in range(3):
        leaf(j)
    if i % 97 == 0:
        time.sleep(0.06)
def worker(n):
    for i in range(n):
        req(i)
        if i % 40 == 0:
            time.sleep(0.02)
def main():
    ts = [threading.Thread(target=worker, args=(900,)) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
if sys.argv[2] == "outer":
    with perflog.action("outer", run=1):
        main()
else:
    main()
perflog.stop()
"""

COMMANDS = [["stats"], ["slowest", "-n", "5"], ["sla", "--p99", "1ms"], ["timeline", "-n", "40"],
            ["tree", "--slowest", "2"], ["inflight"], ["inputs", "--type", "*req"],
            ["export", "--format", "jsonl"]]
WINDOWS = [["--until", "+0.2s"], ["--since", "+0.4s", "--until", "+0.5s"], ["--since", "-0.2s"]]
READING = {"records", "actions", "frames_skipped"}


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    build = os.environ.get("PERFLOG_BUILD_DIR")
    if not build:
        pytest.skip("set PERFLOG_BUILD_DIR")
    d = tmp_path_factory.mktemp("window")
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(build, "python")))
    out = {}
    for kind in ("outer", "plain"):
        path = d / f"{kind}.zst"
        subprocess.run([sys.executable, "-c", PROGRAM, str(path), kind], check=True, env=env)
        out[kind] = path
    return out


def both(perfan, *args):
    indexed = run(perfan, *args, check_exit=None)
    full = subprocess.run([perfan, *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, TZ="UTC", PERFAN_NO_INDEX="1"))
    return indexed, full


def strip(doc):
    if isinstance(doc, dict):
        return {k: strip(v) for k, v in doc.items() if k not in READING}
    if isinstance(doc, list):
        return [strip(v) for v in doc]
    return doc


@pytest.mark.parametrize("kind", ["outer", "plain"])
def test_same_answers(perfan, traces, kind):
    for cmd in COMMANDS:
        for win in WINDOWS:
            a, b = both(perfan, *cmd, *win, traces[kind])
            assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr), \
                (cmd, win)
            if cmd[0] in ("export", "timeline", "tree"):
                continue
            a, b = both(perfan, *cmd, "--json", *win, traces[kind])
            assert strip(json.loads(a.stdout)) == strip(json.loads(b.stdout)), (cmd, win)


def skipped(perfan, *args):
    doc = json.loads(run(perfan, "stats", "--json", *args).stdout)
    return doc["inputs"][0]["frames_skipped"]


def test_windows_skip_frames(perfan, traces):
    # Without an action open across the run, a 0.1 s window of ~1 s (a frame every
    # 20 ms, but one when a thread sleeps too) skips most frames.
    win = ["--since", "+0.4s", "--until", "+0.5s"]
    plain, outer = skipped(perfan, *win, traces["plain"]), skipped(perfan, *win, traces["outer"])
    assert plain > 15
    # The outer action is an ancestor of everything: the frames before the window are
    # needed for its START.
    assert outer < plain
    assert skipped(perfan, traces["plain"]) == 0  # no window: everything is read


def test_lying_index(perfan, traces, tmp_path):
    data = bytearray(traces["plain"].read_bytes())
    frames, off = [], 16
    while off < len(data):
        magic, _ = struct.unpack_from("<II", data, off)
        assert magic == 0x184D2A5F
        frames.append(off)
        off += 64 + struct.unpack_from("<I", data, off + 16)[0]
    # A frame in the middle (read for the window) claims a DROPPED record it lacks.
    middle = frames[len(frames) // 2]
    data[middle + 13] ^= 8
    bad = tmp_path / "lying.zst"
    bad.write_bytes(bytes(data))
    win = ["--since", "+0.2s", "--until", "+0.8s"]
    a, b = both(perfan, "stats", *win, bad)
    assert "disagrees" in a.stderr, a.stderr
    assert a.stdout == b.stdout
