#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""run.py - golden tests of perfan's command line.

A case is tests/cli/cases/<subcommand>/<name>.args: one line of arguments (shell
quoting) given to perfan, with the expected output beside it in <name>.stdout,
<name>.stderr and <name>.exit. Every case runs in a directory holding the
deterministic traces of gen_traces.fixtures() (web.zst, svc.zst, notes.txt), with
TZ=UTC and without a terminal (so without colour).

Usage: run.py [--perfan PATH] [--update] [CASE-GLOB...]
  --perfan  the binary (default: $PERFAN, else $PERFLOG_BUILD_DIR/analyzer/perfan)
  --update  write the outputs of perfan as the new expectations (review the diff!)
Exit status: 0 when every case matches, 1 otherwise.
"""

import argparse
import difflib
import fnmatch
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_traces  # noqa: E402

CASES = HERE / "cases"


def find_perfan(arg):
    if arg:
        return arg
    if os.environ.get("PERFAN"):
        return os.environ["PERFAN"]
    build = os.environ.get("PERFLOG_BUILD_DIR")
    if build:
        return str(pathlib.Path(build, "analyzer", "perfan"))
    sys.exit("run.py: give --perfan, or set PERFAN or PERFLOG_BUILD_DIR")


def run_case(perfan, args_file, workdir):
    args = shlex.split(args_file.read_text())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC", "LC_ALL": "C.UTF-8"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    p = subprocess.run([perfan] + args, cwd=workdir, env=env, capture_output=True,
                       timeout=60)
    return {"stdout": p.stdout.decode("utf-8", "replace"),
            "stderr": p.stderr.decode("utf-8", "replace"),
            "exit": f"{p.returncode}\n"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--perfan")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("patterns", nargs="*")
    opts = ap.parse_args()
    perfan = os.path.abspath(find_perfan(opts.perfan))
    cases = sorted(CASES.glob("*/*.args"))
    if opts.patterns:
        cases = [c for c in cases
                 if any(fnmatch.fnmatch(f"{c.parent.name}/{c.stem}", p) for p in opts.patterns)]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="perfan-cli-") as work:
        gen_traces.fixtures(work)
        for case in cases:
            name = f"{case.parent.name}/{case.stem}"
            got = run_case(perfan, case, work)
            bad = []
            for part, text in got.items():
                expected_file = case.with_suffix("." + part)
                if opts.update:
                    expected_file.write_text(text)
                    continue
                expected = expected_file.read_text() if expected_file.exists() else None
                if expected != text:
                    bad.append((part, expected, text))
            if not bad:
                print(f"ok      {name}")
                continue
            failed += 1
            print(f"FAILED  {name}")
            for part, expected, text in bad:
                if expected is None:
                    print(f"  missing {case.stem}.{part} (run with --update)")
                    continue
                sys.stdout.writelines(difflib.unified_diff(
                    expected.splitlines(True), text.splitlines(True),
                    f"{name}.{part} (expected)", f"{name}.{part} (perfan)"))
    print(f"{len(cases) - failed} passed, {failed} failed" if not opts.update
          else f"{len(cases)} cases updated")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
