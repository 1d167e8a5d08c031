# SPDX-License-Identifier: MIT
"""ab_perfan.py - two builds of perfan side by side: `perfan stats` run alternately by
each (with its decoding thread, and with --jobs 0: everything on one core), and
`zstd -dc` on the same trace between them, each figure's runs sorted with their median.

    python3 bench/ab_perfan.py --before BUILD_A --after BUILD_B [--events 3000000]
                               [--rounds 12] [--trace FILE] [--subcommands]

BUILD_A and BUILD_B are build directories (each has analyzer/perfan). Without --trace,
BUILD_B's tests/gen_trace --bulk makes a trace of --events events (a request with two
children: six events each) in a temporary directory. Both builds must print the same
table for it (checked first: a speed-up that changes an answer is not one). An older
commit's perfan, for instance:

    git worktree add --detach /tmp/before REV
    meson setup /tmp/before/build /tmp/before -Dpython_ext=disabled
    ninja -C /tmp/before/build analyzer/perfan
    python3 bench/ab_perfan.py --before /tmp/before/build --after build

With --subcommands, the subcommands that show calls (sla, slowest, inflight, timeline)
are timed beside stats instead, in both modes, each with its ratio to stats (the speed
issue: "the others within 1.5x of it"); each answers alike in both builds (checked).

Times are wall clock and CPU (user + system, from wait4) of each process; the machine is
noisy, so runs alternate (A, B, zstd, A, B, zstd, ...) and only the ratios of one run
count. A benchmark, not a test.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd):
    """(wall s, cpu s) of @cmd, its output discarded."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"ab_perfan: {' '.join(cmd)} failed (status {status})")
    return wall, usage.ru_utime + usage.ru_stime


def cell(values):
    v = sorted(values)
    return f"{v[0] * 1e3:.1f} / {statistics.median(v) * 1e3:.1f}", statistics.median(v)


SUBCOMMANDS = [["stats"], ["sla", "--p99", "1ms"], ["slowest"], ["inflight"],
               ["timeline", "-n", "10"]]


def subcommands(o, perfan, trace):
    """--subcommands: best wall time of each, and its ratio to stats, per build and mode."""
    for cmd in SUBCOMMANDS:
        outs = [subprocess.run([p, "--jobs", "0", *cmd, trace], capture_output=True,
                               text=True) for p in perfan.values()]
        if (outs[0].stdout, outs[0].returncode) != (outs[1].stdout, outs[1].returncode):
            sys.exit(f"ab_perfan: A and B answer {' '.join(cmd)} differently")
    runs = {}
    for r in range(o.rounds):
        for jobs in ("--jobs 0", "default"):
            for cmd in SUBCOMMANDS:
                for k, p in perfan.items():
                    full = [p] + (["--jobs", "0"] if jobs != "default" else []) + cmd
                    runs.setdefault((k, jobs, cmd[0]), []).append(timed(full + [trace])[0])
        print(f"round {r + 1}/{o.rounds}", file=sys.stderr, flush=True)
    print(f"A = {o.before}, B = {o.after}; {trace}; {o.rounds} rounds, alternated; best "
          "wall time of each, ms (÷ stats of the same build and mode)")
    print("| build, mode | " + " | ".join(" ".join(c) for c in SUBCOMMANDS) + " |")
    print("|---|" + "---|" * len(SUBCOMMANDS))
    for jobs in ("default", "--jobs 0"):
        for k in ("A", "B"):
            base = min(runs[(k, jobs, "stats")])
            cells = [f"{min(runs[(k, jobs, c[0])]) * 1e3:.1f} "
                     f"({min(runs[(k, jobs, c[0])]) / base:.2f})" for c in SUBCOMMANDS]
            print(f"| {k}, {jobs} | " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="build directory of A")
    ap.add_argument("--after", required=True, help="build directory of B")
    ap.add_argument("--events", type=int, default=3_000_000,
                    help="events of the generated trace (default 3,000,000)")
    ap.add_argument("--rounds", type=int, default=12, help="rounds (default 12)")
    ap.add_argument("--trace", help="a trace to read instead of a generated one")
    ap.add_argument("--subcommands", action="store_true",
                    help="time sla, slowest, inflight and timeline against stats")
    o = ap.parse_args()
    if o.rounds < 1 or o.events < 6:
        ap.error("--rounds must be >= 1 and --events >= 6")
    perfan = {k: os.path.join(d, "analyzer", "perfan")
              for k, d in (("A", o.before), ("B", o.after))}
    for p in perfan.values():
        if not os.access(p, os.X_OK):
            ap.error(f"{p} is not there: build it (ninja -C BUILD analyzer/perfan)")
    if not shutil.which("zstd"):
        ap.error("zstd (the command) is not installed")

    tmp = tempfile.mkdtemp(prefix="ab_perfan.")
    try:
        trace = o.trace
        if not trace:
            trace = os.path.join(tmp, "bulk.zst")
            gen = os.path.join(o.after, "tests", "gen_trace")
            subprocess.run([gen, "--bulk", str(o.events // 6), trace], check=True,
                           stdout=subprocess.DEVNULL)
        if o.subcommands:
            subcommands(o, perfan, trace)
            return
        outs = {k: subprocess.run([p, "--jobs", "0", "stats", trace], capture_output=True,
                                  text=True).stdout for k, p in perfan.items()}
        if outs["A"] != outs["B"]:
            sys.exit(f"ab_perfan: A and B answer differently:\n{outs['A']}\n{outs['B']}")
        events = sum(int(line.split()[1]) * 2 for line in outs["B"].splitlines()[1:]
                     if len(line.split()) > 2 and line.split()[1].isdigit())

        runs = {}
        for r in range(o.rounds):
            for jobs in ("--jobs 0", "default"):
                for k, p in perfan.items():
                    cmd = [p] + (["--jobs", "0"] if jobs != "default" else []) + [
                        "stats", trace]
                    runs.setdefault((k, jobs), []).append(timed(cmd))
            runs.setdefault(("zstd", "-dc"), []).append(timed(["zstd", "-dc", trace]))
            print(f"round {r + 1}/{o.rounds}", file=sys.stderr, flush=True)

        size = os.path.getsize(trace)
        print(f"A = {o.before}, B = {o.after}; {trace}: {size / 1e6:.1f} MB, ~{events:,} "
              f"events (START + END of every action counted); {o.rounds} rounds, "
              "alternated; each cell: best / median of the runs, ms")
        print("| what | wall A | wall B | B / A | cpu A | cpu B | B / A | B ÷ zstd -dc (wall, "
              "medians) | B M events/s (best wall) |")
        print("|---|---|---|---|---|---|---|---|---|")
        zw, zmed = cell([w for w, _ in runs[("zstd", "-dc")]])
        for jobs in ("--jobs 0", "default"):
            wa, ma = cell([w for w, _ in runs[("A", jobs)]])
            wb, mb = cell([w for w, _ in runs[("B", jobs)]])
            ca, mca = cell([c for _, c in runs[("A", jobs)]])
            cb, mcb = cell([c for _, c in runs[("B", jobs)]])
            best = min(w for w, _ in runs[("B", jobs)])
            print(f"| perfan {jobs} stats | {wa} | {wb} | {mb / ma:.2f} | {ca} | {cb} | "
                  f"{mcb / mca:.2f} | {mb / zmed:.1f}× | {events / best / 1e6:.1f} |")
        zc, _ = cell([c for _, c in runs[("zstd", "-dc")]])
        print(f"| zstd -dc > /dev/null | {zw} | | | {zc} | | | 1× | |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
