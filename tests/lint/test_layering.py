"""Include rules that keep the folder tree the architecture diagram:
public headers include only libc and perflog headers; writer/ and reader/ never include
each other; common/ includes neither; code outside liblog reaches only liblog/include."""
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
