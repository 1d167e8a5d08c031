# SPDX-License-Identifier: MIT
"""The 60-second soak (bench/soak.py): examples/service with rotation and retention under
a steady load; RSS flat after the warm-up, each writer within its disk budget, perfan's
count equal to the requests in the files kept, none lost. Registered for the plain build
only (tests/meson.build): ASan's quarantine grows RSS, and its time is better spent
elsewhere."""
import os
import pathlib
import subprocess
import sys

SOAK = pathlib.Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_soak_60s(tmp_path):
    p = subprocess.run([sys.executable, str(SOAK), "--seconds", "60", "--warmup", "20",
                        "--rate", "60", "--rotate-bytes", str(64 << 10),
                        "--keep-bytes", str(256 << 10), "--out", str(tmp_path / "traces")],
                       capture_output=True, text=True, timeout=240, env=os.environ.copy())
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.rstrip().endswith("soak: ok")
    kept = sorted(f.name for f in (tmp_path / "traces").iterdir())
    assert "server.000000.zst" not in kept  # retention deleted the oldest
