# SPDX-License-Identifier: MIT
"""perfan top and perfan timeline --follow, against a process that is recording.

The recorder (a Python program using the perflog package) calls `work(i)` in a loop -
every tenth call fails - and starts `hang(name="acme-report")`, which never returns.
Figures are checked against an independent computation from perflog.read() of the
same files: calls and failures exactly, p50/p99/max within the histogram's and the
3-digit display's error. The live views run in a pseudo-terminal (tmux) and through a
pipe. Every process a test starts is killed in a `finally`.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import run

RECORDER = """
import os, sys, threading, time, perflog
path, seconds, rotate = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
opts = dict(flush_interval_ms=50)
if rotate:
    opts.update(rotate_bytes=rotate, keep_files=4)
perflog.start(path, **opts)

@perflog.perflog
def work(i):
    t = time.perf_counter() + (0.0002 if i % 3 else 0.001)
    while time.perf_counter() < t:
        pass
    if i % 10 == 0:
        raise ValueError(i)

@perflog.perflog
def hang(name):
    time.sleep(3600)

threading.Thread(target=hang, args=("acme-report",), daemon=True).start()
end = time.time() + seconds
i = 0
while time.time() < end:
    try:
        work(i)
    except ValueError:
        pass
    if i % 50 == 0:
        with perflog.action("long." + "x" * 200):  # wider than any terminal
            pass
    i += 1
print(i, flush=True)
perflog.stop()
"""

UNITS = {"ns": 1, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}


def python():
    return os.environ.get("PERFLOG_PYTHON", sys.executable)


def start_recorder(tmp_path, target, seconds, rotate=0):
    prog = tmp_path / "recorder.py"
    prog.write_text(RECORDER)
    env = dict(os.environ)
    if os.environ.get("PERFLOG_BUILD_DIR"):
        env["PYTHONPATH"] = str(pathlib.Path(os.environ["PERFLOG_BUILD_DIR"], "python"))
    return subprocess.Popen([python(), str(prog), str(target), str(seconds), str(rotate)],
                            stdout=subprocess.PIPE, text=True, env=env)


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def wait_for(cond, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def records(paths):
    """Every record of @paths that perflog.read() gives (a killed writer's last frame
    may be cut: the records before it)."""
    import perflog
    out = []
    for p in paths:
        try:
            for rec in perflog.read(str(p)):
                out.append(rec)
        except perflog.TraceError:
            pass
    return out


def expected(recs):
    """{type: (calls, failed, sorted durations)} of the ENDs, by their STARTs' types."""
    types = {}
    for r in recs:
        if r["kind"] == "start":
            types[r["task"]] = r["type"]
    by = {}
    for r in recs:
        if r["kind"] == "end" and r["task"] in types:
            e = by.setdefault(types[r["task"]], [0, 0, []])
            e[0] += 1
            e[1] += r["outcome"] == "failed"
            e[2].append(r["duration_ns"])
    return {t: (n, f, sorted(d)) for t, (n, f, d) in by.items()}


def quantile(sorted_values, q):
    import math
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def duration_ns(text):
    m = re.fullmatch(r"([0-9.]+)(ns|µs|us|ms|s)", text)
    if m:
        return float(m.group(1)) * UNITS[m.group(2)]
    m = re.fullmatch(r"(\d+)m([0-9.]+)s", text)
    assert m, text
    return int(m.group(1)) * 60e9 + float(m.group(2)) * 1e9


def parse_block(text):
    """The last snapshot of plain output: {type: (calls, failed, p50, p99, max)}, and the
    in-flight lines."""
    block = text.strip().split("perfan top ")[-1]
    rows, inflight, section = {}, [], None
    for line in block.splitlines():
        if line.startswith("TYPE"):
            section = "types"
        elif line.startswith("In flight"):
            section = "inflight"
        elif section == "types" and line.strip():
            f = line.split()
            rows[f[0]] = (int(f[2]), int(f[6]), *(duration_ns(x) for x in f[3:6]))
        elif section == "inflight" and line.strip():
            inflight.append(line)
    return rows, inflight


def check_figures(rows, exp):
    assert set(rows) == set(exp)
    for t, (n, failed, durs) in exp.items():
        calls, fails, p50, p99, mx = rows[t]
        assert (calls, fails) == (n, failed), t
        for got, want in ((p50, quantile(durs, 0.5)), (p99, quantile(durs, 0.99)),
                          (mx, durs[-1])):
            # histogram bucket (1/256) and 3 significant digits shown
            assert abs(got - want) <= want * (1 / 256 + 0.006) + 1, (t, got, want)


def test_once_after_kill_matches_an_independent_count(perfan, tmp_path):
    d = tmp_path / "traces"
    d.mkdir()
    rec = start_recorder(tmp_path, d / "app.zst", 30, rotate=40000)
    try:
        assert wait_for(lambda: len(list(d.iterdir())) >= 2)  # rotated at least once
        time.sleep(0.5)
        rec.send_signal(signal.SIGKILL)
    finally:
        stop(rec)
    files = sorted(d.iterdir())
    p = run(perfan, "top", "--once", "-n", "0", d)
    assert "\033" not in p.stdout
    rows, inflight = parse_block(p.stdout)
    # Every file kept is within the 60 s window: all of their ENDs count.
    exp = expected(records(files))
    check_figures(rows, exp)
    # The hung call is in flight, named with its input, for about the whole run.
    hang = [line for line in inflight if "__main__.hang" in line]
    assert len(hang) == 1 and 'name="acme-report"' in hang[0], inflight
    # --json: the same snapshot, unrounded, one JSON object on one line.
    pj = run(perfan, "top", "--once", "--json", "-n", "0", d)
    (line,) = pj.stdout.splitlines()
    doc = json.loads(line)
    assert doc["command"] == "top" and doc["files"] == len(files)
    got = {t["type"]: (t["calls"], t["failed"], t["p50_ns"], t["p99_ns"], t["max_ns"])
           for t in doc["types"]}
    check_figures(got, exp)
    assert [t["calls"] for t in doc["types"]] == sorted((t["calls"] for t in doc["types"]),
                                                      reverse=True)
    (hung,) = [c for c in doc["longest_running"] if c["type"] == "__main__.hang"]
    assert 'name="acme-report"' in hung["inputs"] and hung["running_ns"] > 0
    assert doc["in_flight"] >= 1 and doc["types_left_out"] == 0
    # A narrow window counts less: only the ENDs of its last second.
    p1 = run(perfan, "top", "--once", "--window", "1s", d)
    rows1, _ = parse_block(p1.stdout)
    assert 0 < rows1["__main__.work"][0] < rows["__main__.work"][0]


def test_plain_lines_follow_until_the_writer_closes(perfan, tmp_path):
    path = tmp_path / "app.zst"
    rec = start_recorder(tmp_path, path, 2.0)
    top = None
    try:
        assert wait_for(path.exists)
        top = subprocess.Popen([perfan, "top", "-i", "200ms", str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        out, err = top.communicate(timeout=60)
        assert top.returncode == 0, err
    finally:
        stop(rec)
        if top:
            stop(top)
    assert "\033" not in out
    assert out.count("perfan top ") >= 4  # a block per interval while it ran
    assert out.rstrip().endswith("perfan top: every file was closed by its writer")
    rows, inflight = parse_block(out.rsplit("perfan top:", 1)[0])
    check_figures(rows, expected(records([path])))
    assert inflight == []  # the writer stopped: nothing more will end


def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True)


@pytest.mark.skipif(not shutil.which("tmux"), reason="tmux is not installed (scripts/deps.sh)")
def test_terminal_redraws_and_follows_rotated_files(perfan, tmp_path):
    d = tmp_path / "traces"
    d.mkdir()
    sock = f"perflog-top-{os.getpid()}"
    rec = start_recorder(tmp_path, d / "app.zst", 30, rotate=40000)
    try:
        assert wait_for(lambda: any(d.iterdir()))
        cmd = f"{perfan} top -i 200ms {d}"
        tmux(sock, "-f", "/dev/null", "new-session", "-d", "-x", "150", "-y", "40", cmd)
        seen_files, headers = set(), []
        end = time.time() + 20
        while time.time() < end and (len(seen_files) < 2 or len(headers) < 3):
            screen = tmux(sock, "capture-pane", "-p", "-J").stdout  # -J: wrapped lines joined
            assert all(len(line) <= 150 for line in screen.splitlines()), screen
            m = re.search(r"perfan top  (\S+ \S+)  window 1m00s  files (\d+)", screen)
            if m and "acme-report" in screen:
                assert screen.count("perfan top ") == 1  # cleared and redrawn, not scrolled
                assert "__main__.work" in screen and "In flight" in screen
                if not headers or headers[-1] != m.group(1):
                    headers.append(m.group(1))
                seen_files.add(m.group(2))
            time.sleep(0.1)
        assert len(headers) >= 3, headers  # the time moves: redrawn
        assert len(seen_files) >= 2, seen_files  # files appeared as the writer rotated
        tmux(sock, "send-keys", "C-c")
        assert wait_for(lambda: tmux(sock, "has-session").returncode != 0, 10)
    finally:
        tmux(sock, "kill-server")
        stop(rec)


def test_timeline_follow_prints_what_timeline_prints(perfan, tmp_path):
    path = tmp_path / "app.zst"
    rec = start_recorder(tmp_path, path, 1.5)
    tl = None
    try:
        assert wait_for(path.exists)
        tl = subprocess.Popen([perfan, "timeline", "-f", str(path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=dict(os.environ, TZ="UTC"))
        out, err = tl.communicate(timeout=60)
        assert tl.returncode == 0, err
    finally:
        stop(rec)
        if tl:
            stop(tl)
    whole = run(perfan, "timeline", "-n", "0", path).stdout.splitlines()
    whole = [line for line in whole if not line.startswith("note:")]
    got = out.splitlines()
    assert len(got) > 1000 and sorted(got) == sorted(whole)
    # In time order, but for what one read's sorting and the END-after-START rule permit.
    times = [line[:26] for line in got]
    assert sum(b < a for a, b in zip(times, times[1:])) < len(times) // 50


def test_usage_errors(perfan, tmp_path):
    assert run(perfan, "top", check_exit=2).stderr.startswith("perfan top: no trace")
    for bad in (["--window", "0"], ["--interval", "1ns"], ["--rows", "x"], ["--bogus"]):
        p = run(perfan, "top", *bad, tmp_path, check_exit=2)
        assert "Usage: perfan top" in p.stderr or "usage" in p.stderr.lower()
    run(perfan, "top", "--once", tmp_path / "missing.zst", check_exit=3)
    for bad in (["--json"], ["--until", "+1s"], ["--since", "+1s"]):
        run(perfan, "timeline", "-f", *bad, tmp_path, check_exit=2)
    # An empty directory: nothing yet, said so.
    p = run(perfan, "top", "--once", tmp_path)
    assert "waiting for records" in p.stdout
