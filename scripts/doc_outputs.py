# SPDX-License-Identifier: MIT
"""Regenerate the command outputs shown in the docs from a real run, so they cannot go stale.

A doc marks each output block with the command that produced it, on the line before the
block's opening fence:

    <!-- output: build/analyzer/perfan stats out/spell.zst -->
    <!-- output head=12: build/analyzer/perfan slowest -n 5 out/spell.zst -->

each file a later command needs (a code block) with the path it is written to, and each
command whose output is not shown (the setup of a later one):

    <!-- file: out/fix.py -->
    <!-- run: PERFLOG_FILE=out/fix.zst /usr/bin/python3 out/fix.py speling -->

The commands run in order, with bash, in a scratch directory where `build` is the build
directory, `examples` the repository's examples and `out/` empty; their standard output
(add `2>&1` for standard error) replaces the block. `head=N` keeps the first N lines and
adds "…". A command must succeed: one that is shown failing ends with `; echo "exit $?"`.

    /usr/bin/python3 scripts/doc_outputs.py [--build DIR] [--check] [DOC...]

Without --check, the docs are rewritten in place (default: docs/quickstart.md). With
--check, nothing is written: the script fails when a command fails or when a block's first
line differs from the fresh output's in more than its numbers (a column renamed, an option
gone): run it without --check and commit the result.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = re.compile(r"^<!-- (output|file|run)(?: head=(\d+))?: (.+?) -->$")
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


def blocks(lines: list[str]) -> list[tuple[int, str, int, str, int, int]]:
    """(marker line, kind, head, argument, block start, block end) for each marker."""
    found = []
    for i, line in enumerate(lines):
        m = MARK.match(line.rstrip("\n"))
        if not m:
            continue
        start = i + 1
        if m.group(1) == "run":
            found.append((i, "run", 0, m.group(3), start, start))
            continue
        if start >= len(lines) or not lines[start].startswith("```"):
            sys.exit(f"doc_outputs: line {i + 1}: a marker must be followed by a ``` block")
        end = start + 1
        while end < len(lines) and lines[end].rstrip("\n") != "```":
            end += 1
        if end == len(lines):
            sys.exit(f"doc_outputs: line {start + 1}: the block is not closed")
        found.append((i, m.group(1), int(m.group(2) or 0), m.group(3), start, end))
    return found


def shape(line: str) -> str:
    """A line with its numbers and spacing taken out: what must not change unnoticed."""
    return " ".join(NUMBER.sub("#", line).split())


def run_doc(doc: Path, scratch: Path, check: bool) -> list[str]:
    lines = doc.read_text(encoding="utf-8").splitlines(keepends=True)
    problems = []
    env = dict(os.environ, LC_ALL="C.UTF-8", NO_COLOR="1")
    env.pop("PERFLOG_FILE", None)
    outputs = {}
    for mark, kind, head, arg, start, end in blocks(lines):
        if kind == "file":
            path = scratch / arg
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(lines[start + 1 : end]), encoding="utf-8")
            continue
        r = subprocess.run(
            ["bash", "-c", arg], cwd=scratch, env=env, capture_output=True, text=True, timeout=600
        )
        if r.returncode != 0:
            problems.append(f"{doc}:{mark + 1}: `{arg}` exited {r.returncode}: {r.stderr.strip()}")
            continue
        if kind == "run":
            continue
        out = r.stdout.rstrip("\n").splitlines()
        if head and len(out) > head:
            out = out[:head] + ["…"]
        old = [x.rstrip("\n") for x in lines[start + 1 : end]]
        if check and (not old or not out or shape(old[0]) != shape(out[0])):
            problems.append(
                f"{doc}:{start + 2}: the output of `{arg}` changed:\n"
                f"  doc: {old[0] if old else '(empty)'}\n  now: {out[0] if out else '(empty)'}"
            )
        outputs[start] = (end, [x + "\n" for x in out])
    if not check and not problems:
        for start in sorted(outputs, reverse=True):  # from the end: indexes stay valid
            end, new = outputs[start]
            lines[start + 1 : end] = new
        doc.write_text("".join(lines), encoding="utf-8")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("PERFLOG_BUILD_DIR", "build"))
    ap.add_argument("--check", action="store_true", help="compare, write nothing")
    ap.add_argument("docs", nargs="*", default=["docs/quickstart.md"])
    a = ap.parse_args()
    build = Path(a.build).resolve()
    if not (build / "analyzer" / "perfan").exists():
        print(f"doc_outputs: {build}: no analyzer/perfan: build first", file=sys.stderr)
        return 2
    problems = []
    for d in a.docs:
        with tempfile.TemporaryDirectory(prefix="perflog-docs-") as tmp:
            scratch = Path(tmp)
            (scratch / "build").symlink_to(build)
            (scratch / "examples").symlink_to(ROOT / "examples")
            (scratch / "liblog").symlink_to(ROOT / "liblog")
            (scratch / "out").mkdir()
            problems += run_doc((ROOT / d).resolve(), scratch, a.check)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
