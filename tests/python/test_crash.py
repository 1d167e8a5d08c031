# SPDX-License-Identifier: MIT
"""Crash and hang triage: a program whose decorated call hangs is killed with SIGKILL at
seeded random moments; every complete frame of its trace is read, `perfan inflight` names
the hung call with its input and how long it had been running, and what was lost is
bounded by the flush interval (the always-on issue's bound: events older than one flush
interval, plus the time to write a frame, are in the file)."""
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import pytest

import perflog

SRC = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", SRC / "build"))
PERFAN = BUILD / "analyzer" / "perfan"
FLUSH_MS = 100  # the default flush interval, which the program keeps

PROGRAM = r'''
import sys, time, perflog
from perflog import perflog as pl

@pl
def tick(i):
    return i

@pl
def fetch_report(customer):
    print("hanging", flush=True)
    time.sleep(3600)

@pl
def handle(i, hang_at, customer):
    tick(i)
    if i == hang_at:
        fetch_report(customer)

perflog.start(sys.argv[1])
hang_at, customer = int(sys.argv[2]), sys.argv[3]
print("ready", flush=True)
for i in range(100000):
    handle(i, hang_at, customer)
    time.sleep(0.002)
'''

SEEDS = int(os.environ.get("PERFLOG_CRASH_RUNS", "20"))
# Scheduling slack: the flusher thread and this test's reading of "hanging" can each be
# late by this much on a busy CI machine (two cores, parallel test suites).
SLACK_S = 0.2


def _crash(tmp_path, rng, n):
    path = tmp_path / f"crash{n}.zst"
    hang_at = rng.randrange(5, 60)
    customer = f"acme-{n}"
    # After the hang began: longer than a flush interval plus scheduling slack, so the
    # flusher has written the ticks and a checkpoint even on a loaded machine.
    wait = rng.uniform(FLUSH_MS / 1000 + SLACK_S, 0.6)
    proc = subprocess.Popen([sys.executable, "-c", PROGRAM, str(path), str(hang_at), customer],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert proc.stdout.readline().strip() == "hanging"
        began = time.monotonic()
        time.sleep(wait)
        waited = time.monotonic() - began
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return path, hang_at, customer, waited


def test_kill_9_names_the_hung_call(tmp_path):
    if not PERFAN.exists():
        pytest.skip("perfan is not built")
    seed = int(os.environ.get("PERFLOG_TEST_SEED", random.randrange(1 << 32)))
    print(f"random seed: {seed} (PERFLOG_TEST_SEED={seed} repeats it)")
    rng = random.Random(seed)
    shortfalls = []
    for n in range(SEEDS):
        path, hang_at, customer, waited = _crash(tmp_path, rng, n)
        # Every complete frame is read; a frame cut by the kill ends the reading with an
        # error naming its offset, never a wrong record.
        records = []
        try:
            for r in perflog.read(str(path)):
                records.append(r)
        except perflog.TraceError as e:
            assert "offset" in str(e)
        ticks = [r for r in records if r["kind"] == "start" and r["type"] == "__main__.tick"]
        # Nothing older than the flush interval is lost: every tick before the hang.
        assert len(ticks) == hang_at + 1, (n, len(ticks), hang_at)
        p = subprocess.run([str(PERFAN), "inflight", "--json", str(path)],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        calls = json.loads(p.stdout)["calls"]
        hung = [c for c in calls if c["type"] == "__main__.fetch_report"]
        assert len(hung) == 1, calls
        assert hung[0]["inputs"] == {"customer": customer} and hung[0]["running"]
        assert hung[0]["path"] == ["__main__.handle", "__main__.fetch_report"]
        running_s = hung[0]["duration_ns"] / 1e9
        # At least the time it hung less one flush interval (the last checkpoint), never
        # more than it hung (plus scheduling slack).
        low, high = waited - FLUSH_MS / 1000 - SLACK_S, waited + SLACK_S
        assert low <= running_s <= high, (running_s, waited)
        shortfalls.append(waited - running_s)
        # A hang fails a gate it exceeds: the call lasted at least that long.
        if n < 3:
            p = subprocess.run([str(PERFAN), "sla", "--max", "10ms", "--json", "--type",
                                "__main__.fetch_report", str(path)],
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 1, p.stdout + p.stderr
            verdict = json.loads(p.stdout)
            assert not verdict["pass"], verdict
            # tree finds the hung call by type too, and draws its request around it.
            p = subprocess.run([str(PERFAN), "tree", "--slowest", "1", "--type",
                                "__main__.fetch_report", str(path)],
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, p.stderr
            assert "__main__.handle" in p.stdout and f'customer="{customer}"' in p.stdout

    print("hung for vs shown as running, shortfall ms: "
          + " ".join(f"{s * 1000:.0f}" for s in sorted(shortfalls)))
