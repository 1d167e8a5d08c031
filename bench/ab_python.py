# SPDX-License-Identifier: MIT
"""ab_python.py - two builds of the Python extension side by side: what @perflog adds to
a synchronous call, to an `await` of a decorated coroutine and to an item of a decorated
generator, each build in its own interpreter, the builds alternately.

    python3 bench/ab_python.py --before DIR_A --after DIR_B [--pairs 3] [--n 300000]
                               [--rounds 5] [--python .venv/bin/python3]

DIR_A and DIR_B are build directories (their `python/` is put on PYTHONPATH). An older
commit's, for instance:

    git worktree add --detach /tmp/before REV
    meson setup /tmp/before/b /tmp/before -Dpython=$PWD/.venv/bin/python3
    ninja -C /tmp/before/b
    python3 bench/ab_python.py --before /tmp/before/b --after build

The calls are those of bench_python.py's own tables: `f(12345, "query")` with both
arguments recorded, `await f(12345, "query")` of an `async def f(a, b)` likewise, and the
items of a generator function recorded without arguments; each figure is ns over the
plain call, await or item measured in the same round (best and median of --rounds), the
trace written with full_policy="block". The machine is noisy: runs alternate (A, B, A,
B, ...) so that both builds see the same phases, and only the ratios of one run count.
A benchmark, not a test.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

# Run in each build's interpreter: prints one JSON object of per-round ns per operation.
CHILD = r"""
import asyncio, json, os, sys, tempfile
from time import perf_counter_ns
import perflog
A, B = 12345, "query"
def f(a, b):
    return a
async def co(a, b):
    return a, b
def gen(n):
    yield from range(n)
def calls(fn, n):
    t0 = perf_counter_ns()
    for _ in range(n):
        fn(A, B)
    return perf_counter_ns() - t0
async def awaits(fn, n):
    t0 = perf_counter_ns()
    for _ in range(n):
        await fn(A, B)
    return perf_counter_ns() - t0
def items(g, n):
    t0 = perf_counter_ns()
    for _ in g(n):
        pass
    return perf_counter_ns() - t0
n, rounds = int(sys.argv[1]), int(sys.argv[2])
fr, cr, gr = perflog.perflog(f), perflog.perflog(co), perflog.perflog(args=False)(gen)
loop = asyncio.new_event_loop()
perflog.start(os.path.join(tempfile.mkdtemp(), "ab.zst"), full_policy="block")
got = {k: [] for k in ("call", "call+", "await", "await+", "item", "item+")}
for r in range(rounds + 1):  # round 0 warms up
    one = {"call": calls(f, n), "call+": calls(fr, n),
           "await": loop.run_until_complete(awaits(co, n)),
           "await+": loop.run_until_complete(awaits(cr, n)),
           "item": items(gen, n), "item+": items(gr, n)}
    if r:
        for k, v in one.items():
            got[k].append(v / n)
stats = perflog.stats()
perflog.stop()
got["dropped"] = sum(v for k, v in stats.items() if k.startswith("dropped_"))
print(json.dumps(got))
"""

WHAT = (("call", "sync @perflog call"), ("await", "decorated await"), ("item", "generator item"))


def run(build, python, n, rounds):
    env = dict(os.environ, PYTHONPATH=os.path.join(build, "python"))
    out = subprocess.run([python, "-c", CHILD, str(n), str(rounds)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="build directory A")
    ap.add_argument("--after", required=True, help="build directory B")
    ap.add_argument("--pairs", type=int, default=3, help="runs of each build (default 3)")
    ap.add_argument("--n", type=int, default=300_000, help="operations per round")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per run (default 5)")
    ap.add_argument("--python", default=os.path.join(".venv", "bin", "python3"),
                    help="the interpreter both builds were built for")
    a = ap.parse_args()
    if a.pairs < 1 or a.n < 1 or a.rounds < 1:
        ap.error("--pairs, --n and --rounds must be at least 1")
    runs = {"before": [], "after": []}
    for _ in range(a.pairs):
        for side, build in (("before", a.before), ("after", a.after)):
            runs[side].append(run(build, a.python, a.n, a.rounds))
    print(f"ns over plain; best and median of {a.rounds} rounds of {a.n:,}, per run; "
          f"{a.pairs} runs of each build, alternated")
    print("| | before | after | after ÷ before (medians) |")
    print("|---|---|---|---|")
    for key, label in WHAT:
        cells, meds = [], []
        for side in ("before", "after"):
            best = [min(r[key + "+"]) - min(r[key]) for r in runs[side]]
            med = [statistics.median(r[key + "+"]) - statistics.median(r[key])
                   for r in runs[side]]
            cells.append(", ".join(f"{b:.1f} / {m:.1f}" for b, m in zip(best, med)))
            meds.append(statistics.median(med))
        ratio = f"{meds[1] / meds[0]:.2f}" if meds[0] > 0 else "-"
        print(f"| {label}, best / median | {cells[0]} | {cells[1]} | {ratio} |")
    plain = [min(r["await"]) for side in runs for r in runs[side]]
    print(f"plain await, best: {min(plain):.1f}-{max(plain):.1f} ns; events dropped: "
          f"{sum(r['dropped'] for side in runs for r in runs[side])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
