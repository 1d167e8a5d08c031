# SPDX-License-Identifier: MIT
"""bench_window.py - a time window against a full scan: what the frame index saves.

    PYTHONPATH=build/python .venv/bin/python3 bench/bench_window.py [--seconds S]
        [--build build] [--runs R]
    .venv/bin/python3 bench/bench_window.py --hour [--events 100000000]

Records S seconds (default 30) of a tight loop of ``req(i)`` calling ``leaf`` twice (six
events per iteration, at default settings), then times, R times each (default 3, best
kept), ``perfan stats`` over the whole trace, over a 1-second window in the middle
(``--since +S/2 --until +S/2+1s``) with the index and with PERFAN_NO_INDEX=1 (every frame
read, as before the index), and over the last second (``--since -1s``: the end is found by
the index too). Prints the times, the window's share of the full scan and the trace's
size. A benchmark, not a test: compare the rows of one run.

--hour is the always-on issue's bench: a synthetic trace spanning one hour of wall time,
about 100 M events (tests/cli/gen_trace --bulk, requests of 3 actions), written in a few
seconds by running the writer under libfaketime (Debian's faketime; scripts/deps.sh
--bench installs it) with time sped up so that the run spans an hour, and
PERFLOG_CLOCK=monotonic (the TSC is not faked). The flusher's 100 ms interval is in that
faked time too, so the file has an hour's worth of frames. Then the same rows with a
1-minute window in the middle (--since +30m --until +31m).
"""
import shutil
import argparse
import json
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


def synthetic_hour(a, d):
    """Write the hour-long trace; returns its path, events and the speed-up used."""
    faketime = shutil.which("faketime")
    if not faketime:
        sys.exit("bench_window: --hour needs faketime (scripts/deps.sh --bench)")
    gen = os.path.join(a.build, "tests", "cli", "gen_trace")
    if not os.access(gen, os.X_OK):
        gen = os.path.join(a.build, "tests", "gen_trace")
    requests = a.events // 6
    # How fast this machine writes, at real speed, to choose the speed-up.
    cal, n = os.path.join(d, "calibrate.zst"), 500_000
    t = time.perf_counter()
    subprocess.run([gen, "--bulk", str(n), cal], check=True)
    per_request = (time.perf_counter() - t) / n
    os.remove(cal)
    speed = max(1, round(3600 / (per_request * requests)))
    path = os.path.join(d, "hour.zst")
    subprocess.run([faketime, "-f", f"+0 x{speed}", gen, "--bulk", str(requests), path],
                   check=True, env=dict(os.environ, PERFLOG_CLOCK="monotonic"))
    return path, requests * 6, speed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hour", action="store_true", help="the synthetic one-hour trace")
    ap.add_argument("--events", type=int, default=100_000_000, help="with --hour")
    a = ap.parse_args()
    perfan = os.path.join(a.build, "analyzer", "perfan")
    with tempfile.TemporaryDirectory() as d:
        if a.hour:
            path, events, speed = synthetic_hour(a, d)
            win = ["--since", "+30m", "--until", "+31m"]

            def selected(*args):
                out = subprocess.run([perfan, "stats", "--json", *args, path], check=True,
                                     capture_output=True, text=True).stdout
                return json.loads(out)["selected"]
            share = selected(*win) / selected()
            full = best([perfan, "stats", path], a.runs)
            rows = [("full scan", full),
                    ("1 min window, index", best([perfan, "stats", *win, path], a.runs)),
                    ("1 min window, PERFAN_NO_INDEX=1",
                     best([perfan, "stats", *win, path], a.runs,
                          env=dict(os.environ, PERFAN_NO_INDEX="1")))]
            print(f"trace: {events:,} events written under faketime x{speed}, "
                  f"{os.path.getsize(path) / 1e6:.0f} MB; the window holds "
                  f"{100 * share:.2f} % of the actions (1/60 = 1.67 %)")
            for name, t in rows:
                print(f"{name:32} {t:7.2f} s  {100 * t / full:5.1f} % of the full scan")
            return
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
