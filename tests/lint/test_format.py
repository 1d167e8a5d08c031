# SPDX-License-Identifier: MIT
"""The C sources follow .clang-format exactly: Debian 12's clang-format (scripts/deps.sh
installs it) reports no deviation in any tracked .c or .h file. To fix one:
`clang-format -i FILE` (the tree was formatted once, in its own commit)."""
import os
import pathlib
import shutil
import subprocess

SRC = pathlib.Path(os.environ.get("PERFLOG_SOURCE_DIR", pathlib.Path(__file__).parents[2]))


def c_sources():
    out = subprocess.run(["git", "-C", str(SRC), "ls-files", "*.c", "*.h"], capture_output=True,
                         text=True)
    if out.returncode == 0 and out.stdout.strip():
        return [SRC / p for p in out.stdout.split()]
    # Not a git checkout (a source tarball): every C file but the build trees'.
    return sorted(p for p in SRC.rglob("*") if p.suffix in (".c", ".h")
                  and not any(part.startswith(("build", ".")) for part in
                              p.relative_to(SRC).parts))


def test_clang_format_is_installed():
    assert shutil.which("clang-format"), "clang-format missing: run scripts/deps.sh"


def test_every_c_file_is_formatted():
    files = c_sources()
    assert len(files) > 100
    bad = []
    for i in range(0, len(files), 40):
        chunk = [str(f) for f in files[i:i + 40]]
        p = subprocess.run(["clang-format", "--dry-run", "-Werror",
                            f"--style=file:{SRC / '.clang-format'}", *chunk],
                           capture_output=True, text=True)
        if p.returncode != 0:
            bad += sorted({line.split(":")[0] for line in p.stderr.splitlines()
                           if ": error:" in line})
    assert not bad, "not clang-formatted (clang-format -i FILE): " + ", ".join(
        os.path.relpath(b, SRC) for b in bad)
