# SPDX-License-Identifier: MIT
"""bench_diff.py - perfan diff on real runs: the same program twice unchanged, and once
with one function 30 % slower; the verdicts of each comparison.

    PYTHONPATH=build/python /usr/bin/python3 bench/bench_diff.py [--build DIR] [--calls N]
                                                                  [--pairs K]

The program (below, run as a child process per recording) handles N requests; each request
calls three decorated functions that do deterministic CPU work (parse, score, render:
~60, ~240 and ~120 µs). With PERFLOG_BENCH_SLOW=1 `score` does 30 % more work. The run
records K unchanged pairs and one slowed run, then prints `perfan diff`'s verdicts: what
a CI gate would have said. Real durations on a shared machine carry its noise (the point
of the exercise); a benchmark, not a test.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

PROGRAM = r'''
import os, sys
import perflog
from perflog import perflog as recorded

SLOW = 1.3 if os.environ.get("PERFLOG_BENCH_SLOW") == "1" else 1.0

def work(n):
    x = 0
    for i in range(n):
        x = (x * 31 + i) % 1000003
    return x

@recorded
def parse(req):
    return work(1500)

@recorded
def score(req):
    return work(int(6000 * SLOW))

@recorded
def render(req):
    return work(3000)

@recorded
def handle(req):
    return parse(req) + score(req) + render(req)

perflog.start(sys.argv[1])
for i in range(int(sys.argv[2])):
    handle(i)
perflog.stop()
'''


def record(path, calls, slow):
    env = dict(os.environ, PERFLOG_BENCH_SLOW="1" if slow else "0")
    env.pop("PERFLOG_FILE", None)
    subprocess.run([sys.executable, "-c", PROGRAM, path, str(calls)], check=True, env=env)


def diff(perfan, a, b):
    p = subprocess.run([perfan, "diff", "--json", a, b], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"perfan diff failed ({p.returncode}): {p.stderr}")
    return p.returncode, json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--calls", type=int, default=1000, help="requests per run (default 1000)")
    ap.add_argument("--pairs", type=int, default=5, help="unchanged pairs (default 5)")
    a = ap.parse_args()
    if a.calls < 10 or a.pairs < 1:
        ap.error("--calls must be >= 10 and --pairs >= 1")
    perfan = os.path.join(a.build, "analyzer", "perfan")
    with tempfile.TemporaryDirectory(prefix="bench_diff-") as d:
        runs = []
        for k in range(a.pairs):
            pair = (os.path.join(d, f"same{k}a.zst"), os.path.join(d, f"same{k}b.zst"))
            for p in pair:
                record(p, a.calls, False)
            runs.append(("unchanged", *pair))
        slow = os.path.join(d, "slow.zst")
        record(slow, a.calls, True)
        runs.append(("score 30 % slower", runs[0][1], slow))
        print(f"perfan diff (p50, threshold 10 %, alpha 0.01 over the types), {a.calls} "
              f"requests per run; load average {os.getloadavg()[0]:.2f}")
        print("| runs compared | exit | type | p50 change | 95 % interval | p | verdict |")
        print("|---|---|---|---|---|---|---|")
        false_alarms = 0
        for label, x, y in runs:
            code, got = diff(perfan, x, y)
            false_alarms += label == "unchanged" and code != 0
            for t in got["types"]:
                if t["change"] is None:
                    continue
                print(f"| {label} | {code} | {t['type']} | {100 * t['change']:+.1f} % | "
                      f"{100 * t['ci_low']:+.1f} .. {100 * t['ci_high']:+.1f} % | "
                      f"{t['p_value']:.2g} | {t['verdict']} |")
        print(f"\nunchanged pairs that failed the gate: {false_alarms} of {a.pairs}; "
              f"the slowed run: exit {code}")


if __name__ == "__main__":
    main()
