# SPDX-License-Identifier: MIT
"""Rotation and retention from Python: perflog.start(rotate_bytes=..., keep_files=...) and
the PERFLOG_ROTATE_* variables; each file complete on its own and closed with a STATS
record; perfan over the directory is one timeline, an action spanning rotations paired
across files."""
import json
import os
import pathlib
import random
import subprocess
import threading

import perflog
from conftest import run_python

SRC = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", SRC / "build"))
PERFAN = BUILD / "analyzer" / "perfan"


def _files(d):
    return sorted(p for p in d.iterdir() if p.suffix == ".zst")


def test_rotation_keeps_every_action_once(tmp_path):
    n, threads = 3000, 3
    rng = random.Random(1)
    pads = [f"{rng.getrandbits(64):x}" for _ in range(n)]
    first = perflog.start(str(tmp_path / "svc.zst"), rotate_bytes=20000, flush_interval_ms=5)
    assert first.endswith("svc.000000.zst")

    def work(t):
        for i in range(n):
            with perflog.action("job", t=t, i=i, pad=pads[i]):
                pass
            if i % 500 == 499:
                perflog.flush()  # a frame boundary, where files may change

    with perflog.action("outer"):  # spans every rotation
        ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for th in ts:
            th.start()
        for th in ts:
            th.join()
    stats = perflog.stats()
    perflog.stop()
    files = _files(tmp_path)
    assert len(files) >= 3 and stats["rotations"] >= 2, (files, stats)
    seen = set()
    for k, f in enumerate(files):
        records = list(perflog.read(str(f)))
        assert records[-1]["kind"] == "stats"  # closed
        for r in records:
            if r["kind"] == "start" and r["type"] == "job":
                key = (r["fields"]["t"], r["fields"]["i"])
                assert key not in seen
                seen.add(key)
    assert len(seen) == n * threads
    if PERFAN.exists():
        p = subprocess.run([str(PERFAN), "stats", "--json", str(tmp_path)], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        got = json.loads(p.stdout)
        assert got["actions"] == n * threads + 1 and got["unfinished"] == 0
        assert {t["type"]: t["count"] for t in got["types"]}["outer"] == 1


def test_retention_from_the_environment(tmp_path):
    code = ("import perflog, random\n"
            "for i in range(20000):\n"
            "    with perflog.action('w', pad='%x' % random.getrandbits(64)): pass\n"
            "    if i % 1000 == 999: perflog.flush()\n"
            "print(perflog.stats()['files_deleted'])\n")
    p = run_python(code, env={"PERFLOG_FILE": str(tmp_path / "env-{n}.zst"),
                              "PERFLOG_ROTATE_BYTES": "20000", "PERFLOG_KEEP_FILES": "2",
                              "PERFLOG_FLUSH_MS": "5"})
    assert int(p.stdout) >= 1
    files = _files(tmp_path)
    assert 1 <= len(files) <= 3  # the two closed files kept, and the last
    numbers = [int(f.stem.split("-")[1]) for f in files]
    assert numbers == sorted(numbers) and numbers[0] > 0  # the oldest were deleted
