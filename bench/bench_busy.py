# SPDX-License-Identifier: MIT
"""bench_busy.py - is anything lost when the host is busy? The always-on issue's loop.

    PYTHONPATH=build/python .venv/bin/python3 bench/bench_busy.py [--n N] [--hogs H]

A tight loop of N calls (default 1,000,000) of ``@perflog def f(a, b)``, at default
settings, first on a quiet machine, then with H processes (default: one per CPU) spinning
on every core, so that the flusher thread is scheduled late. For each: events recorded and
dropped (perflog.stats()), how often a ring grew instead of dropping, the ring memory at
the end, and the calling thread's cost in ns per call (wall time of the loop over N, the
plain call's subtracted). The CPU hogs are this process's children, killed in a finally.
A benchmark, not a test: run it by hand and compare the rows of one run.
"""
import argparse
import multiprocessing
import os
import tempfile
from time import perf_counter_ns

import perflog
from perflog import perflog as pl


def hog(stop):
    while not stop.is_set():
        for _ in range(100000):
            pass


@pl
def f(a, b):
    return a, b


def plain(a, b):
    return a, b


def loop(fn, n):
    t0 = perf_counter_ns()
    for _ in range(n):
        fn(12345, "query")
    return perf_counter_ns() - t0


def run(n, path):
    perflog.start(path)
    try:
        ns = loop(f, n)
        st = perflog.stats()
    finally:
        perflog.stop()
    final = perflog.stats()
    return ns, st, final


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--hogs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    base = min(loop(plain, args.n) for _ in range(3)) / args.n
    print(f"{args.n} calls of @perflog f(a, b), default settings; plain call {base:.0f} ns")
    print(f"{'host':<12} {'ns/call':>8} {'events':>9} {'dropped':>8} {'grown':>6} "
          f"{'ring MiB':>9} {'trace MiB':>9}")
    with tempfile.TemporaryDirectory() as d:
        for label, hogs in (("quiet", 0), (f"{args.hogs} hogs", args.hogs)):
            stop = multiprocessing.Event()
            procs = [multiprocessing.Process(target=hog, args=(stop,)) for _ in range(hogs)]
            try:
                for p in procs:
                    p.start()
                path = os.path.join(d, f"{hogs}.zst")
                ns, st, final = run(args.n, path)
            finally:
                stop.set()
                for p in procs:
                    p.join(timeout=5)
                    if p.is_alive():
                        p.kill()
            dropped = final["dropped_full"] + final["dropped_no_buffer"] + \
                final["dropped_oversize"] + final["dropped_write"]
            print(f"{label:<12} {ns / args.n - base:8.0f} {final['events']:9d} {dropped:8d} "
                  f"{final.get('ring_grown', 0):6d} {st.get('ring_bytes', 0) / 2**20:9.1f} "
                  f"{os.path.getsize(path) / 2**20:9.1f}")


if __name__ == "__main__":
    main()
