# SPDX-License-Identifier: MIT
"""bench_window.py - a time window against a full scan: what the frame index saves.

    PYTHONPATH=build/python .venv/bin/python3 bench/bench_window.py [--seconds S]
        [--build build] [--runs R]

Records S seconds (default 30) of a tight loop of ``req(i)`` calling ``leaf`` twice (six
events per iteration, at default settings), then times, R times each (default 3, best
kept), ``perfan stats`` over the whole trace, over a 1-second window in the middle
(``--since +S/2 --until +S/2+1s``) with the index and with PERFAN_NO_INDEX=1 (every frame
read, as before the index), and over the last second (``--since -1s``: the end is found by
the index too). Prints the times, the window's share of the full scan and the trace's
size. A benchmark, not a test: compare the rows of one run.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

PROGRAM = """
import sys, time, perflog
perflog.start(sys.argv[1])
@perflog.perflog
def leaf(i):
    return i
@perflog.perflog
def req(i):
    leaf(i)
    leaf(i + 1)
end = time.monotonic() + float(sys.argv[2])
i = 0
while time.monotonic() < end:
    req(i)
    i += 1
    if i % 2000 == 0:
        time.sleep(0.001)
perflog.stop()
print(i)
"""


def best(cmd, runs, env=None):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    perfan = os.path.join(a.build, "analyzer", "perfan")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "window.zst")
        calls = int(subprocess.run([sys.executable, "-c", PROGRAM, path, str(a.seconds)],
                                   check=True, capture_output=True, text=True).stdout)
        mid = a.seconds / 2
        win = ["--since", f"+{mid}s", "--until", f"+{mid + 1}s"]
        full = best([perfan, "stats", path], a.runs)
        rows = [("full scan", full),
                ("1 s window, index", best([perfan, "stats", *win, path], a.runs)),
                ("1 s window, PERFAN_NO_INDEX=1",
                 best([perfan, "stats", *win, path], a.runs,
                      env=dict(os.environ, PERFAN_NO_INDEX="1"))),
                ("last second (--since -1s)",
                 best([perfan, "stats", "--since", "-1s", path], a.runs))]
        print(f"trace: {a.seconds:g} s, {calls * 6:,} events, "
              f"{os.path.getsize(path) / 1e6:.0f} MB")
        for name, t in rows:
            print(f"{name:32} {t:7.2f} s  {100 * t / full:5.1f} % of the full scan")


if __name__ == "__main__":
    main()
