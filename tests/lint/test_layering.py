# SPDX-License-Identifier: MIT
"""Include rules that keep the folder tree the architecture diagram:
public headers include only libc and perflog headers; writer/ and reader/ never include
each other; common/ includes neither; code outside liblog reaches only liblog/include;
perfan's rooms (analyzer/cmd, report, analysis, core, util, and fmt beside them) include
only downwards."""
import os
import pathlib
import re

SRC = pathlib.Path(os.environ.get("PERFLOG_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def includes(path):
    return [(kind, name) for kind, name in INCLUDE.findall(path.read_text())]


def sources(folder):
    return sorted(p for p in (SRC / folder).rglob("*") if p.suffix in (".c", ".h"))


def test_public_headers_include_only_libc_and_perflog():
    for h in sources("liblog/include/perflog"):
        for kind, name in includes(h):
            assert kind == "<", f"{h.name}: quoted include {name}"
            assert name.startswith("perflog/") or "/" not in name, f"{h.name}: {name}"
            assert not name.startswith(("zstd", "msgpack", "Python")), f"{h.name}: {name}"


def test_writer_and_reader_are_independent():
    for side, other in (("writer", "reader"), ("reader", "writer")):
        for f in sources(f"liblog/src/{side}"):
            for _, name in includes(f):
                assert f"{other}/" not in name, f"{f.name} includes {name}"
    for f in sources("liblog/src/common"):
        for _, name in includes(f):
            assert "writer/" not in name and "reader/" not in name, f"{f.name}: {name}"


def test_users_see_only_the_public_api():
    for folder in ("analyzer", "python", "examples", "bench"):
        if not (SRC / folder).is_dir():
            continue
        for f in sources(folder):
            for _, name in includes(f):
                assert "liblog/src" not in name and "src/" not in name, f"{f}: {name}"
                assert not name.startswith(("zstd", "msgpack")), f"{f}: {name} (use liblog)"


def test_liblog_knows_nothing_of_python_or_the_analyzer():
    for f in sources("liblog"):
        for _, name in includes(f):
            assert not name.startswith("Python") and "analyzer" not in name, f"{f}: {name}"


# perfan's rooms, top to bottom (summary/: perfan summarize's files, written and read):
# a room includes its own headers and those of the rooms
# below it, never above. fmt/ (tables, JSON, units, option parsing) serves every room;
# perfan.h (exit codes, global options, warnings) is a leaf that anyone may include;
# util/ includes only util/. cmd/ is reached by nobody: perfan.c finds the subcommands
# through perfan.h's table.
ANALYZER_LAYERS = ["cmd", "report", "export", "summary", "analysis", "core", "util"]
ANALYZER_ROOMS = set(ANALYZER_LAYERS) | {"fmt"}


def analyzer_allowed(room):
    if room == "fmt":
        return {"fmt", "util"}
    if room == "util":
        return {"util"}
    return {room, "fmt", *ANALYZER_LAYERS[ANALYZER_LAYERS.index(room) + 1 :]}


def test_analyzer_rooms_include_downwards():
    root = SRC / "analyzer"
    for f in sources("analyzer"):
        rel = f.relative_to(root)
        room = rel.parts[0] if len(rel.parts) > 1 else None
        for kind, name in includes(f):
            if kind != '"':
                continue
            target = name.split("/")[0] if "/" in name else None
            if room is None:  # perfan.c and perfan.h
                if f.name == "perfan.h":
                    assert False, f"perfan.h must stay a leaf: it includes {name}"
                assert target != "cmd", f"{rel}: includes {name}"
                continue
            assert room in ANALYZER_ROOMS, f"{rel}: in no known room ({sorted(ANALYZER_ROOMS)})"
            if name == "perfan.h":
                assert room != "util", f"{rel}: util/ knows nothing of perfan"
                continue
            assert target in ANALYZER_ROOMS, f"{rel}: includes {name}, not by its room"
            assert target in analyzer_allowed(room), f"{rel} ({room}/) includes {name}: upwards"
            assert (root / name).is_file(), f"{rel}: includes {name}, which does not exist"


def test_analyzer_has_no_loose_files():
    root = SRC / "analyzer"
    loose = {p.name for p in root.iterdir() if p.suffix in (".c", ".h")}
    assert loose == {"perfan.c", "perfan.h"}, f"files outside a room: {sorted(loose)}"


def test_every_source_names_its_licence():
    """LICENSE is MIT; every source file says so in an SPDX line near its top."""
    import subprocess
    assert "MIT License" in (SRC / "LICENSE").read_text()
    tracked = subprocess.run(["git", "-C", str(SRC), "ls-files"], capture_output=True,
                             text=True).stdout.split()
    if not tracked:  # not a git checkout (a tarball): every file of the tree
        tracked = [str(p.relative_to(SRC)) for p in SRC.rglob("*") if p.is_file()]
    kinds = (".c", ".h", ".py", ".pyi", ".sh")
    for name in tracked:
        if not (name.endswith(kinds) or name.endswith("meson.build")) or name.startswith(".venv"):
            continue
        head = (SRC / name).read_text(errors="replace").splitlines()[:3]
        assert any("SPDX-License-Identifier: MIT" in line for line in head), name
