#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench_perfan.py - perfan's speed and memory against what a user would write instead.

Generates traces with tests/cli/gen_trace --bulk (a request with two children, i.e. six
events per request), then times in the same run:
  - `perfan stats --json` on a small and a large trace (events/s, peak memory), with its
    default decoding thread and with `--jobs 0` (everything on one core);
  - liblog's reader alone, as `perfan stats` reads (bench/bench_reader --at-once: the
    fields skipped, a run's events taken at once by pl_reader_next_events);
  - a plain Python script with Debian's python3-msgpack and python3-zstandard computing
    the same per-type p99 table on the small trace;
  - `zstd -dc > /dev/null` on the same files: the floor, since perfan must decompress too;
  - each perfan and reader figure twice, alternately: with the reader's fast path and
    without it (PERFLOG_READER_GENERIC=1: every record through msgpack-c's unpacker, one
    at a time).
Every time is the best of --runs runs (perfan, the Python script and zstd alike): on a
shared 2-core machine a single run can be a tenth slower than the next. For the ratio,
perfan runs once more before each run of the script (alternately), so that both see the
same spells of load.
Usage: bench_perfan.py [--build DIR] [--events N] [--small-events M] [--runs K]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import msgpack
import zstandard


def _uv(b, i):
    """A LEB128 integer of a BLOCK column at b[i:]: (value, next index)."""
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def python_p99(path):
    """What a user would write: decode with msgpack + zstandard, pair START/END by task
    and level (END records carry no type), and sort durations per type for p99. Format 2
    keeps events in BLOCK records of columns (docs/format.md 2.9), decoded here too."""
    names, open_types, durs, events = {}, {}, {}, 0
    prev_seq = 0

    def event(kind, key, level, typ=None, dur=None):
        if kind == 1:
            open_types[(key, level)] = names.get(typ, "")
        elif kind == 2:
            t = open_types.pop((key, level), "?")
            durs.setdefault(t, []).append(dur)

    with open(path, "rb") as f:
        f.seek(16)  # the magic skippable frame
        stream = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
        for rec in msgpack.Unpacker(stream, raw=False, strict_map_key=False):
            kind = rec[0]
            if kind == 7:
                names[rec[1]] = rec[2]
            elif kind == 8:
                prev_seq = 0
            elif kind == 10:  # BLOCK: kinds, dts, types, tasks, levels, durations, ...
                kinds, _, types, tasks, levels, bdurs = rec[4:10]
                ti = ki = li = di = 0
                seq = 0
                for k in kinds:
                    events += 1
                    kd = k & 3
                    typ = dur = None
                    if kd != 2:
                        typ, ti = _uv(types, ti)
                    if k & 32:
                        key = (int.from_bytes(tasks[ki:ki + 8], "little"),)
                        s_, ki = _uv(tasks, ki + 8)
                        key += (s_,)
                    else:
                        z, ki = _uv(tasks, ki)
                        seq += (z >> 1) ^ -(z & 1)
                        key = seq
                    depth, li = _uv(levels, li)
                    lv = []
                    for _ in range(depth):
                        x, li = _uv(levels, li)
                        lv.append(x)
                    if kd == 2:
                        dur, di = _uv(bdurs, di)
                    event(kd, key, tuple(lv), typ, dur)
            elif kind in (1, 2, 3):
                events += 1
                ti = 2 if kind == 2 else 3
                task = rec[ti]
                if isinstance(task, list):
                    key = (task[0], task[1])
                else:
                    prev_seq += task
                    key = prev_seq
                event(kind, key, tuple(rec[ti + 1]), rec[2] if kind != 2 else None,
                      rec[5] if kind == 2 else None)
    table = {}
    for t, d in durs.items():
        d.sort()
        table[t] = d[min(len(d) - 1, int(0.99 * len(d)))]
    return events, table


def path_env(generic):
    env = dict(os.environ)
    env.pop("PERFLOG_READER_GENERIC", None)
    if generic:
        env["PERFLOG_READER_GENERIC"] = "1"
    return env


RUNS = 5  # --runs


def zstd_seconds(path):
    """The decompression floor: best of RUNS `zstd -dc FILE > /dev/null`."""
    best = None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(["zstd", "-q", "-dc", path], stdout=subprocess.DEVNULL, check=True)
        t = time.perf_counter() - t0
        best = t if best is None else min(best, t)
    return best


def run_perfan(perfan, path, *opts, generic=False):
    """Best wall time of RUNS runs, the largest peak RSS of perfan alone (wait4 on its
    pid), and its JSON."""
    runs = [run_perfan_once(perfan, path, *opts, generic=generic) for _ in range(RUNS)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


def run_perfan_once(perfan, path, *opts, generic=False):
    """Wall time, peak RSS of perfan alone (wait4 on its pid), and its JSON."""
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen([perfan, *opts, "stats", "--json", path], stdout=out,
                                env=path_env(generic))
        _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            sys.exit(f"perfan failed with {proc.returncode}")
        out.seek(0)
        return secs, usage.ru_maxrss / 1024.0, json.load(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--events", type=int, default=50_000_000)
    ap.add_argument("--small-events", type=int, default=3_000_000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    global RUNS
    RUNS = a.runs
    perfan = os.path.join(a.build, "analyzer", "perfan")
    gen = os.path.join(a.build, "tests", "gen_trace")
    reader = os.path.join(a.build, "bench", "bench_reader")
    with tempfile.TemporaryDirectory() as d:
        files = {}
        for label, n in (("small", a.small_events), ("large", a.events)):
            files[label] = os.path.join(d, f"{label}.zst")
            subprocess.run([gen, "--bulk", str(n // 6), files[label]], check=True)
        print(f"perfan {perfan}; load average {os.getloadavg()[0]:.2f}; 2 CPUs")
        print("| input | reader path | events | file MB | perfan s | perfan M events/s |"
              " --jobs 0 M events/s | --jobs 0 ÷ zstd -dc | reader alone M records/s |"
              " peak MB | python s | python M events/s | perfan ÷ python |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for label, generic in (("small", False), ("small", True), ("large", False),
                               ("large", True)):
            path = files[label]
            secs, rss, stats = run_perfan(perfan, path, generic=generic)
            secs0, _, _ = run_perfan(perfan, path, "--jobs", "0", generic=generic)
            floor = zstd_seconds(path)
            out = subprocess.run([reader, "--reps", "1", "--at-once", path], check=True,
                                 capture_output=True, text=True, env=path_env(generic)).stdout
            rrate = float(out.split("best: ")[1].split()[0])
            events = sum(t["count"] for t in stats["types"]) * 2
            tail = " | | |"
            if label == "small" and not generic:
                psecs = None
                for _ in range(RUNS):
                    secs = min(secs, run_perfan_once(perfan, path)[0])
                    t0 = time.perf_counter()
                    pevents, table = python_p99(path)
                    t = time.perf_counter() - t0
                    psecs = t if psecs is None else min(psecs, t)
                tail = (f" {psecs:.2f} | {pevents / psecs / 1e6:.3f} |"
                        f" {psecs / secs:.1f}× |")
                ours = {t["type"]: t["p99_ns"] for t in stats["types"]}
                for t, p99 in table.items():  # the two p99 tables agree within 1%
                    if abs(ours[t] - p99) > 0.01 * p99 + 1:
                        sys.exit(f"p99 of {t} differs: perfan {ours[t]}, python {p99}")
            row = (f"| {label} | {'generic' if generic else 'fast'} | {events:,} |"
                   f" {os.path.getsize(path) / 1e6:.1f} | {secs:.3f} |"
                   f" {events / secs / 1e6:.2f} | {events / secs0 / 1e6:.2f} |"
                   f" {secs0 / floor:.1f}× ({floor:.3f} s) | {rrate:.2f} | {rss:.0f} |")
            print(row + tail)


if __name__ == "__main__":
    main()
