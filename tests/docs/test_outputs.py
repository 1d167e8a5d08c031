# SPDX-License-Identifier: MIT
"""The outputs the quickstart shows come from a real run (scripts/doc_outputs.py): every
output block is marked with its command, and each command still runs and prints what the
block shows, up to its numbers."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "quickstart.md"


def test_every_output_block_names_its_command():
    lines = DOC.read_text(encoding="utf-8").splitlines()
    fence = False
    unmarked = []
    for i, line in enumerate(lines):
        if not line.startswith("```"):
            continue
        if not fence and line == "```" and not re.match(r"<!-- (output|file)", lines[i - 1]):
            unmarked.append(i + 1)
        fence = not fence
    assert not unmarked, f"{DOC}: output blocks without an <!-- output: CMD --> line: {unmarked}"


def test_outputs_are_current():
    r = run_check()
    assert r.returncode == 0, (
        "the quickstart's outputs are stale: run /usr/bin/python3 scripts/doc_outputs.py\n"
        + r.stderr
    )


def run_check(*docs):
    build = os.environ.get("PERFLOG_BUILD_DIR", str(ROOT / "build"))
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "doc_outputs.py"), "--check", "--build", build]
        + [str(d) for d in docs],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_check_fails_on_a_stale_block(tmp_path):
    # The check must be able to fail: a column renamed, a command that fails.
    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- output: build/analyzer/perfan --version -->\n```\nperflog 0.1\n```\n",
        encoding="utf-8",
    )
    r = run_check(doc)
    assert r.returncode == 1 and "changed" in r.stderr and "now: perfan" in r.stderr
    doc.write_text(
        "<!-- output: build/analyzer/perfan --version -->\n```\nperfan 9.9 (libperflog 9.9)\n```\n",
        encoding="utf-8",
    )
    assert run_check(doc).returncode == 0  # numbers alone may differ
    doc.write_text(
        "<!-- output: build/analyzer/perfan stats --no-such-option x -->\n```\nx\n```\n",
        encoding="utf-8",
    )
    r = run_check(doc)
    assert r.returncode == 1 and "exited 2" in r.stderr
