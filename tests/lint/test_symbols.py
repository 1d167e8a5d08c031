# SPDX-License-Identifier: MIT
"""The exported symbols of libperflog.so are exactly those listed in libperflog.sym,
and every one of them is declared in a public header."""
import os
import pathlib
import re
import subprocess

import pytest

SRC = pathlib.Path(os.environ.get("PERFLOG_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
BUILD = os.environ.get("PERFLOG_BUILD_DIR")


def map_symbols():
    text = (SRC / "liblog" / "libperflog.sym").read_text()
    syms = set()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, re.S):
        syms |= {s.strip() for s in block.split(";") if s.strip()}
    return syms


def exported_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", str(lib)], check=True,
                         capture_output=True, text=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines()
            if line.split() and line.split()[-2] in ("T", "D", "B", "R")}


def test_exports_match_map():
    if not BUILD:
        pytest.skip("PERFLOG_BUILD_DIR not set")
    # The newest: a build directory keeps the files of earlier versions.
    libs = sorted((p for p in pathlib.Path(BUILD, "liblog").glob("libperflog.so.*.*")
                   if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True)
    assert libs, "libperflog.so not built"
    exported = exported_symbols(libs[0]) - {"PERFLOG_0.1", "PERFLOG_0.2"}
    assert exported == map_symbols()


def test_map_symbols_are_declared_in_public_headers():
    headers = "".join(p.read_text() for p in (SRC / "liblog/include/perflog").glob("*.h"))
    missing = [s for s in map_symbols() if not re.search(r"\b%s\(" % re.escape(s), headers)]
    assert not missing
