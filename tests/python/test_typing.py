# SPDX-License-Identifier: MIT
"""The stubs (python/perflog/__init__.pyi) say what the extension does:
- the TypedDicts of stats(), the trace header and each record kind have exactly the keys
  the extension gives (read off a real recording);
- `mypy --strict` accepts tests/python/typing_usage.py, a program using the API as its
  documentation says, and rejects misuse (a misspelt stats() key, an END's key read off a
  record whose kind was not checked)."""
import ast
import os
import pathlib
import subprocess
import sys

import perflog

ROOT = pathlib.Path(__file__).resolve().parents[2]
STUB = ROOT / "python" / "perflog" / "__init__.pyi"


def typed_dicts():
    tree = ast.parse(STUB.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "TypedDict" for b in node.bases):
            out[node.name] = {s.target.id for s in node.body if isinstance(s, ast.AnnAssign)}
    return out


def test_typed_dicts_match_the_extension(tmp_path):
    td = typed_dicts()
    assert set(perflog.stats()) == td["Stats"]
    path = tmp_path / "t.zst"
    perflog.start(str(path))

    @perflog.perflog
    def f(x):
        if x:
            raise ValueError(x)

    perflog.log("note", a=1)
    f(0)
    try:
        f(1)
    except ValueError:
        pass
    perflog.stop()
    by_kind = {}
    with perflog.read(str(path)) as r:
        assert set(r.header) == td["TraceHeader"]
        for rec in r:
            by_kind.setdefault(rec["kind"], set(rec))
    names = {"start": "StartRecord", "message": "MessageRecord", "end": "EndRecord",
             "thread": "ThreadRecord", "stats": "StatsRecord"}
    assert set(by_kind) == set(names)
    for kind, keys in by_kind.items():
        assert keys == td[names[kind]], kind
    # DROPPED records are rare to provoke here; their keys are the documented ones.
    assert td["DroppedRecord"] == {"kind", "ts_ns", "wall_ns", "thread", "tid", "reason",
                                   "count"}


def mypy(tmp_path, *files):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    env["MYPYPATH"] = str(ROOT / "python")
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / "cache"), *map(str, files)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_mypy_accepts_the_documented_use(tmp_path):
    p = mypy(tmp_path, ROOT / "tests" / "python" / "typing_usage.py")
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_rejects_misuse(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import perflog\n"
        "n: int = perflog.stats()['evnts']\n"
        "for rec in perflog.read('t.zst'):\n"
        "    d: int = rec['duration_ns']\n"
        "perflog.start('t.zst', full_policy='sometimes')\n")
    p = mypy(tmp_path, bad)
    assert p.returncode == 1, p.stdout
    assert 'bad.py:2: error: TypedDict "Stats" has no key "evnts"' in p.stdout
    assert "bad.py:4: error:" in p.stdout and '"duration_ns"' in p.stdout
    assert "bad.py:5: error:" in p.stdout and "full_policy" in p.stdout
