# SPDX-License-Identifier: MIT
"""bench_fleet.py - python -m perflog.fleet on 1 and 2 Dask workers against perfan alone.

Generates FILES traces of EVENTS events each with tests/cli/gen_trace --bulk (one process
each: a request with two children, six events per request), then, in one run, alternating:
  - `perfan stats DIR` (its default decoding threads) and `perfan --jobs 0 stats DIR`;
  - perflog.fleet stats on a LocalCluster of 1 and of 2 worker processes (the cluster is
    started before the clock; its start-up is printed apart; the workers summarize with
    --lean, as the fleet does for stats);
and `perfan summarize` (full and --lean) of one file alone: the per-worker rate and the
summary's size per million events, for docs/fleet.md's estimate. The fleet's answers are
checked against perfan's (stats --json, but for the list of inputs).

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/bench_fleet.py [--build build]
       [--files 8] [--events 3000000] [--repeat 3]
"""

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time


def best_of(n, fn):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), sorted(times)[len(times) // 2]


def strip_inputs(text):
    doc = json.loads(text)
    doc.pop("inputs", None)
    return doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--events", type=int, default=3_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    import distributed
    from perflog import fleet

    perfan = os.path.abspath(os.path.join(a.build, "analyzer", "perfan"))
    gen = os.path.join(a.build, "tests", "gen_trace")
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as d:
        traces = os.path.join(d, "traces")
        os.mkdir(traces)
        procs = [subprocess.Popen([gen, "--bulk", str(a.events // 6),
                                   os.path.join(traces, f"p{i:03d}.zst")],
                                  stdout=subprocess.DEVNULL) for i in range(a.files)]
        for p in procs:
            p.wait()
        events = a.files * (a.events // 6) * 6
        size = sum(os.path.getsize(os.path.join(traces, f)) for f in os.listdir(traces))
        print(f"{a.files} files, {events:,} events, {size / 1e6:.1f} MB on disk; "
              f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")

        direct = subprocess.run([perfan, "stats", "--json", traces], capture_output=True,
                                text=True, check=True).stdout
        results = {}
        results["perfan stats (default threads)"] = best_of(a.repeat, lambda: subprocess.run(
            [perfan, "stats", traces], stdout=subprocess.DEVNULL, check=True))
        results["perfan --jobs 0 stats (one core)"] = best_of(a.repeat, lambda: subprocess.run(
            [perfan, "--jobs", "0", "stats", traces], stdout=subprocess.DEVNULL, check=True))
        for workers in (1, 2):
            t0 = time.perf_counter()
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                               processes=True, dashboard_address=":0")
            client = distributed.Client(cluster)
            startup = time.perf_counter() - t0
            out = io.StringIO()

            def job():
                r, w = os.pipe()
                saved = os.dup(1)
                os.dup2(w, 1)
                os.close(w)
                try:
                    with contextlib.redirect_stdout(out):
                        fleet.run(["stats", "--json", "--perfan", perfan,
                                   "--partition-size", "64M", traces], client=client)
                finally:
                    os.dup2(saved, 1)
                    os.close(saved)
                with os.fdopen(r) as f:
                    job.text = f.read()
            results[f"perflog.fleet stats, {workers} worker{'s' * (workers > 1)}"] = \
                best_of(a.repeat, job)
            assert strip_inputs(job.text) == strip_inputs(direct), "fleet != perfan"
            client.close()
            cluster.close()
            print(f"(LocalCluster of {workers}: started in {startup:.2f} s, not counted)")

        one = os.path.join(traces, "p000.zst")
        out = os.path.join(d, "one.sum")
        t_full = best_of(a.repeat, lambda: subprocess.run(
            [perfan, "summarize", "-o", out, one], check=True))
        full_bytes = os.path.getsize(out)
        t_sum = best_of(a.repeat, lambda: subprocess.run(
            [perfan, "summarize", "--lean", "-o", out, one], check=True))
        per_file = a.events // 6 * 6
        sum_bytes = os.path.getsize(out)

        print()
        print("| run | best s | median s | M events/s (best) |")
        print("|---|---|---|---|")
        for name, (best, med) in results.items():
            print(f"| {name} | {best:.2f} | {med:.2f} | {events / best / 1e6:.1f} |")
        print()
        print(f"perfan summarize (full: argument groups, durations over time) of one file: "
              f"{t_full[0]:.2f} s best ({per_file / t_full[0] / 1e6:.1f} M events/s), "
              f"{full_bytes:,} bytes")
        print(f"perfan summarize --lean of one file ({per_file:,} events): {t_sum[0]:.2f} s best "
              f"({per_file / t_sum[0] / 1e6:.1f} M events/s per worker); summary "
              f"{sum_bytes:,} bytes, {sum_bytes / (per_file / 1e6):,.0f} bytes per million "
              f"events here (its size follows the types and k, 3 and 100 here, not the "
              f"events)")
        print("fleet answers checked against perfan stats --json: identical")


if __name__ == "__main__":
    sys.exit(main())
