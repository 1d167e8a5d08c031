# SPDX-License-Identifier: MIT
"""ab_writer.py - two builds of libperflog side by side: bench_writer run alternately
against each, its figures sorted per build, with their medians.

    python3 bench/ab_writer.py --before DIR_A --after DIR_B [--pairs 6] [--seconds 2]
                               [--reps 5] [--bin build/bench/bench_writer_shared]

DIR_A and DIR_B each hold a libperflog.so.0 (for example a build directory's `liblog`,
or a copy of it). `bench_writer_shared` is bench_writer linked to the shared library, so
that LD_LIBRARY_PATH chooses the build under test while the benchmark's own code stays
the same. An older commit's library, for instance:

    git worktree add --detach /tmp/before REV
    meson setup /tmp/before/build /tmp/before -Dpython_ext=disabled -Danalyzer=false
    ninja -C /tmp/before/build liblog/libperflog.so.0
    python3 bench/ab_writer.py --before /tmp/before/build/liblog --after build/liblog

The machine is noisy: runs alternate (A, B, A, B, ...) so that both builds see the same
phases, and only the ratios of one run count. A benchmark, not a test.
"""
import argparse
import os
import statistics
import subprocess
import sys

# bench_writer's rows (its first 47 columns), their short names here.
ROWS = {
    "record, ns/event (calling thread)": "calling thread, ns/event",
    "sustained, M events/s (elapsed incl. close)": "sustained, M events/s",
    "bytes/event on disk (file size / events)": "bytes/event",
    "  reference: rdtsc, ns/read": "rdtsc, ns",
    "  dropped": "dropped (sustained)",
}


def parse(out):
    """{short name: (1 thread, 2 threads)} from bench_writer's table (fixed columns:
    a 47-character label, then two 18-character columns)."""
    got = {}
    for line in out.splitlines():
        name = ROWS.get(line[:47].rstrip())
        if not name:
            continue
        cols = (line[48:66].split(), line[67:85].split())
        try:
            got[name] = tuple(float(c[0]) for c in cols)
        except (IndexError, ValueError):
            pass
    return got


def loaded_lib(binary, env):
    """The libperflog.so.0 the dynamic linker picks for @binary under @env (ldd)."""
    p = subprocess.run(["ldd", binary], env=env, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.strip().startswith("libperflog.so.0 =>"):
            return os.path.realpath(line.split("=>")[1].split("(")[0].strip())
    return None


def run(binary, libdir, seconds, reps):
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.abspath(libdir))
    want = os.path.realpath(os.path.join(libdir, "libperflog.so.0"))
    if loaded_lib(binary, env) != want:  # a DT_RPATH would win over LD_LIBRARY_PATH
        sys.exit(f"ab_writer: {binary} does not load {want} with LD_LIBRARY_PATH")
    p = subprocess.run([binary, "--seconds", str(seconds), "--reps", str(reps)], env=env,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit(f"ab_writer: {binary} failed with {libdir}:\n{p.stderr}")
    got = parse(p.stdout)
    if len(got) != len(ROWS):
        sys.exit(f"ab_writer: unexpected output of {binary}:\n{p.stdout}")
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="directory holding libperflog.so.0 (A)")
    ap.add_argument("--after", required=True, help="directory holding libperflog.so.0 (B)")
    ap.add_argument("--pairs", type=int, default=6, help="A/B pairs of runs (default 6)")
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="bench_writer --seconds (default 2)")
    ap.add_argument("--reps", type=int, default=5, help="bench_writer --reps (default 5)")
    ap.add_argument("--bin", default="build/bench/bench_writer_shared",
                    help="bench_writer linked to libperflog.so.0")
    o = ap.parse_args()
    if o.pairs < 1 or o.seconds <= 0 or o.reps < 1:
        ap.error("--pairs and --reps must be >= 1, --seconds > 0")
    for d in (o.before, o.after):
        if not os.path.isfile(os.path.join(d, "libperflog.so.0")):
            ap.error(f"no libperflog.so.0 in {d}")
    if not os.access(o.bin, os.X_OK):
        ap.error(f"{o.bin} is not there: build it (ninja -C build bench/bench_writer_shared)")

    runs = {"A": [], "B": []}
    for i in range(o.pairs):
        for key, d in (("A", o.before), ("B", o.after)):
            runs[key].append(run(o.bin, d, o.seconds, o.reps))
        a, b = runs["A"][-1], runs["B"][-1]
        print(f"pair {i + 1}: sustained 1 thread A {a['sustained, M events/s'][0]:.2f} "
              f"B {b['sustained, M events/s'][0]:.2f} M/s; calling thread A "
              f"{a['calling thread, ns/event'][0]:.1f} B "
              f"{b['calling thread, ns/event'][0]:.1f} ns", flush=True)

    print(f"\nA = {o.before}, B = {o.after}; {o.pairs} pairs, bench_writer --seconds "
          f"{o.seconds} --reps {o.reps}, alternated; each cell: the runs sorted (median)")
    print("| figure | threads | A | B | B / A (medians) |")
    print("|---|---|---|---|---|")
    for name in ROWS.values():
        for t, label in ((0, "1"), (1, "2")):
            va = sorted(r[name][t] for r in runs["A"])
            vb = sorted(r[name][t] for r in runs["B"])
            ma, mb = statistics.median(va), statistics.median(vb)
            ratio = f"{mb / ma:.2f}" if ma else "-"
            cell = lambda v, m: f"{', '.join(f'{x:g}' for x in v)} ({m:g})"  # noqa: E731
            print(f"| {name} | {label} | {cell(va, ma)} | {cell(vb, mb)} | {ratio} |")


if __name__ == "__main__":
    main()
