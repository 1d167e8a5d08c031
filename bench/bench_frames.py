# SPDX-License-Identifier: MIT
"""bench_frames.py - actions into a pandas DataFrame: perflog.to_dataframe() (columns built
in C, wrapped by pyarrow) against the loop a user would write over perflog.read()
(pairing starts and ends in a dict, one Python dict per row, pandas.DataFrame(rows)).

Run: scripts/deps.sh && scripts/build.sh &&
     PYTHONPATH=build/python .venv/bin/python3 bench/bench_frames.py [--actions N] [--reps K]
"""

import argparse
import os
import sys
import tempfile
import time


def record(path, n):
    import perflog
    perflog.start(path)
    for i in range(n // 2):
        with perflog.action("http.request", path=f"/item/{i % 100}", method="GET"):
            with perflog.action("db.query", sql="select * from items where id = ?", rows=i % 50):
                pass
    perflog.stop()


def by_loop(path):
    """The straightforward Python way: one dict per action, then a DataFrame."""
    import pandas as pd
    import perflog
    starts, rows = {}, []
    for rec in perflog.read(path):
        kind = rec["kind"]
        if kind == "start":
            starts[rec["task"]] = rec
        elif kind == "end":
            s = starts.pop(rec["task"], None)
            if s is None:
                continue
            row = {"type": s["type"], "start": s["wall_ns"], "duration_ns": rec["duration_ns"],
                   "outcome": rec["outcome"], "exc_type": rec["exc_type"], "task": s["task_id"],
                   "level": s["level"], "thread": s["thread"]}
            for k, v in s["fields"].items():
                row["in." + k] = v
            rows.append(row)
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--actions", type=int, default=400000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import pandas  # noqa: F401  (imported once, outside the timings)
    import pyarrow  # noqa: F401
    import perflog
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.zst")
        record(path, args.actions)
        times = {"perflog.to_dataframe()": [], "loop over perflog.read()": []}
        for _ in range(args.reps):
            t = time.perf_counter()
            a = perflog.to_dataframe(path)
            times["perflog.to_dataframe()"].append(time.perf_counter() - t)
            t = time.perf_counter()
            b = by_loop(path)
            times["loop over perflog.read()"].append(time.perf_counter() - t)
            assert len(a) == len(b) == args.actions
        print(f"{args.actions} actions, {os.path.getsize(path) / 1e6:.1f} MB trace; best of "
              f"{args.reps}\n")
        best = {k: min(v) for k, v in times.items()}
        for k, v in best.items():
            print(f"{k:28} {v:7.3f} s  {v / args.actions * 1e9:7.0f} ns/action")
        ratio = best["loop over perflog.read()"] / best["perflog.to_dataframe()"]
        print(f"\nto_dataframe is {ratio:.1f}x faster than the loop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
