# SPDX-License-Identifier: MIT
"""python -m perflog: a program run unmodified, its named functions decorated at import
(imported modules) or at their def (the script itself); read back through perflog.read."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import perflog
from conftest import Tree

HELPER = '''
import inspect

def add(a, b):
    return a + b

class Store:
    def get(self, key, default=None):
        return default

    @staticmethod
    def norm(s):
        return s.strip()

    @classmethod
    def make(cls, n):
        return cls()

    class Inner:
        def deep(self, z):
            return z

def untouched(x):
    return x

LOADER = type(__loader__).__name__
'''

SCRIPT = '''
"""The script's docstring."""
import json
import sys

import helper


def main(n, label="run"):
    s = helper.Store.make(2)
    s.get("k")
    helper.Store.Inner().deep(z=[1, 2])
    total = helper.add(n, 1) + len(helper.Store.norm("  x "))
    return fib(3) + total + helper.untouched(0)


def fib(k):
    return k if k < 2 else fib(k - 1) + fib(k - 2)


class Job:
    def run(self, q):
        return q

    @classmethod
    def build(cls):
        return cls()


if __name__ == "__main__":
    print(json.dumps({"argv": sys.argv, "file": __file__, "doc": __doc__,
                      "main": sys.modules["__main__"].__name__ == __name__,
                      "loaders": [helper.LOADER, type(helper.__loader__).__name__,
                                  type(helper.__spec__.loader).__name__],
                      "result": main(int(sys.argv[1]) if len(sys.argv) > 1 else 5),
                      "job": Job.build().run("q")}))
    if len(sys.argv) > 2:
        if sys.argv[2] == "raise":
            raise ValueError("bad input")
        sys.exit(int(sys.argv[2]) if sys.argv[2].isdigit() else sys.argv[2])
'''


def launch(args, cwd, check=None, env=None):
    """Run `python -m perflog args...` with Debian's interpreter (the one running pytest)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PERFLOG_")}
    full_env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "perflog", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)
    if check is not None:
        assert proc.returncode == check, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def plain(args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFLOG_")}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def program(tmp_path):
    (tmp_path / "helper.py").write_text(HELPER)
    (tmp_path / "script.py").write_text(SCRIPT)
    return tmp_path


def read(path):
    return Tree(list(perflog.read(str(path))))


FUNCS = ["-f", "helper:add", "-f", "helper:Store.get", "-f", "helper:Store.norm",
         "-f", "helper:Store.make", "-f", "helper:Store.Inner.deep",
         "-f", "__main__:main", "-f", "__main__:fib", "-f", "__main__:Job.run",
         "-f", "__main__:Job.build"]


def test_module_and_script_functions_recorded(program):
    trace = program / "t.zst"
    proc = launch(["-o", str(trace), *FUNCS, "script.py", "7"], program, check=0)
    out = json.loads(proc.stdout)
    assert out["result"] == 2 + 8 + 1 + 0 and out["job"] == "q"
    assert f"trace written to {trace}" in proc.stderr
    t = read(trace)
    main = t.one("__main__.main")
    assert main.fields == {"n": 7, "label": "run"} and main.outcome == "succeeded"
    assert main.level == () and main.duration_ns > 0
    assert main.shape() == ("__main__.main(helper.Store.make, helper.Store.get, "
                            "helper.Store.Inner.deep, helper.add, helper.Store.norm, "
                            "__main__.fib(__main__.fib(__main__.fib, __main__.fib), "
                            "__main__.fib))")
    assert t.one("helper.add").fields == {"a": 7, "b": 1}
    assert t.one("helper.Store.get").fields == {"key": "k", "default": None}
    assert t.one("helper.Store.norm").fields == {"s": "  x "}
    assert t.one("helper.Store.make").fields == {"n": 2}
    assert t.one("helper.Store.Inner.deep").fields == {"z": [1, 2]}
    assert [n.fields for n in t.of_type("__main__.fib")].count({"k": 3}) == 1
    assert t.one("__main__.Job.build").fields == {}
    assert t.one("__main__.Job.run").fields == {"q": "q"}
    assert not t.of_type("helper.untouched")
    # The module still names its real loader.
    assert out["loaders"] == ["SourceFileLoader"] * 3


def test_program_sees_what_python_gives_it(program):
    trace = program / "t.zst"
    proc = launch(["-q", "-o", str(trace), "-f", "helper:add", "script.py", "3",
                   "0", "-o", "x", "-f", "y"], program, check=0)
    out = json.loads(proc.stdout)
    ref = json.loads(plain(["script.py", "3", "0", "-o", "x", "-f", "y"], program).stdout)
    assert out == ref
    assert out["argv"] == ["script.py", "3", "0", "-o", "x", "-f", "y"]
    assert out["file"] == str(program / "script.py") and out["doc"] == "The script's docstring."
    assert proc.stderr == ""


@pytest.mark.parametrize("tail, status", [(["2", "7"], 7), (["2", "0"], 0),
                                          (["2", "stop now"], 1), (["2", "raise"], 1)])
def test_exit_status_and_errors_as_python(program, tail, status):
    trace = program / "t.zst"
    proc = launch(["-q", "-o", str(trace), "-f", "__main__:main", "script.py", *tail],
                  program, check=status)
    ref = plain(["script.py", *tail], program)
    assert ref.returncode == status
    assert proc.stdout == ref.stdout
    assert proc.stderr == ref.stderr  # the same traceback, without the launcher's frames
    # Recorded up to the end, the trace closed at exit.
    assert read(trace).one("__main__.main").outcome == "succeeded"


def test_syntax_error_as_python(program):
    (program / "broken.py").write_text("x = 1\ndef f(:\n    pass\n")
    proc = launch(["-q", "-o", str(program / "t.zst"), "broken.py"], program, check=1)
    assert proc.stderr == plain(["broken.py"], program).stderr


def test_module_mode(program):
    pkg = program / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tool.py").write_text(textwrap.dedent('''
        import sys
        import helper

        def run(x, y="s"):
            return helper.add(x, 2)

        if __name__ == "__main__":
            print(sys.argv[1:], sys.argv[0] == __file__, __spec__.name, __package__,
                  type(__loader__).__name__, type(__spec__.loader).__name__)
            run(int(sys.argv[1]))
            sys.exit(int(sys.argv[2]))
    '''))
    (pkg / "__main__.py").write_text("from pkg.tool import run\nrun(5, y='pkg')\n")
    trace = program / "m.zst"
    proc = launch(["-o", str(trace), "-f", "pkg.tool:run", "-f", "helper:add",
                   "-m", "pkg.tool", "4", "3", "-o", "x"], program, check=3)
    assert proc.stdout.split("\n")[0] == ("['4', '3', '-o', 'x'] True pkg.tool pkg "
                                         "SourceFileLoader SourceFileLoader")
    t = read(trace)
    # Run as __main__, so its action type is __main__.run (its module is __main__).
    assert t.one("__main__.run").fields == {"x": 4, "y": "s"}
    assert t.one("__main__.run").shape() == "__main__.run(helper.add)"

    # A package: its __main__ imports pkg.tool normally, through the import hook.
    launch(["-q", "-o", str(trace), "-f", "pkg.tool:run", "--no-args", "-m", "pkg"],
           program, check=0)
    t = read(trace)
    assert t.one("pkg.tool.run").fields == {}


def test_already_imported_module_is_patched(program):
    # inspect is imported by perflog itself, before the launcher installs its hook.
    (program / "uses_inspect.py").write_text(
        "import inspect\nprint(inspect.getmodulename('a/b.py'))\n")
    trace = program / "t.zst"
    proc = launch(["-q", "-o", str(trace), "-f", "inspect:getmodulename",
                   "uses_inspect.py"], program, check=0)
    assert proc.stdout == "b\n"
    assert read(trace).one("inspect.getmodulename").fields == {"path": "a/b.py"}


@pytest.mark.parametrize("args", [
    ["-f", "helper", "script.py"],
    ["-f", "helper:", "script.py"],
    ["-f", "helper:add-1", "script.py"],
    ["-f", ":add", "script.py"],
    ["-f", "helper:outer.<locals>.inner", "script.py"],
    ["--bogus", "script.py"],
    ["-f", "helper:add"],
    [],
    ["-m"],
])
def test_usage_errors(program, args):
    proc = launch(["-o", str(program / "never.zst"), *args], program, check=2)
    assert "usage: python -m perflog" in proc.stderr
    assert proc.stdout == ""
    assert not (program / "never.zst").exists()


def test_unwritable_output(program):
    proc = launch(["-o", str(program / "no-such-dir" / "t.zst"), "script.py"], program,
                  check=2)
    assert "cannot record to" in proc.stderr and proc.stdout == ""


def test_missing_script(program):
    proc = launch(["nonexistent.py"], program, check=2)
    assert "can't open file" in proc.stderr
    assert not list(program.glob("perflog-*.zst"))


def test_specs_that_match_nothing_warn_and_run(program):
    trace = program / "t.zst"
    proc = launch(["-o", str(trace), "-f", "helper:nope", "-f", "helper:Store",
                   "-f", "nomodule:f", "-f", "__main__:absent", "-f", "helper:add",
                   "script.py"], program, check=0)
    assert json.loads(proc.stdout)["result"] == 2 + 6 + 1
    err = proc.stderr
    assert "-f helper:nope: helper has no nope" in err
    assert "-f helper:Store: Store is a class" in err
    assert "-f nomodule:f: never applied: nomodule was never imported" in err
    assert "-f __main__:absent: no def absent in" in err
    assert read(trace).one("helper.add").fields == {"a": 5, "b": 1}


def test_default_output_and_perflog_file(program):
    launch(["-q", "-f", "helper:add", "script.py"], program, check=0)
    files = list(program.glob("perflog-*.zst"))
    assert len(files) == 1 and read(files[0]).one("helper.add")
    env_path = program / "from-env.zst"
    launch(["-q", "-f", "helper:add", "script.py"], program, check=0,
           env={"PERFLOG_FILE": str(env_path)})
    assert read(env_path).one("helper.add").fields == {"a": 5, "b": 1}


MP_APP = '''
import multiprocessing as mp
import sys

import helper

def sq(x):
    return helper.add(x, x) * x

if __name__ == "__main__":
    with mp.get_context(sys.argv[1]).Pool(2) as pool:  # __exit__: terminate() (SIGTERM)
        print(sum(pool.map(sq, range(10))))
'''


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_multiprocessing_workers_record(program, method):
    """Every start method's workers record, each into its own file: the script's function
    as __main__.sq (not __mp_main__.sq) and an imported module's; `with Pool()` ends them
    with SIGTERM, and what they recorded is written first."""
    (program / "mp_app.py").write_text(MP_APP)
    out = program / "out"
    out.mkdir()
    proc = launch(["-q", "-o", str(out / "mp-{pid}.zst"), "-f", "__main__:sq",
                   "-f", "helper:add", "mp_app.py", method], program, check=0)
    assert proc.stdout.strip() == str(sum(2 * x * x for x in range(10)))
    assert proc.stderr == ""  # nothing to warn about, in the parent or the workers
    records = []
    for f in out.iterdir():
        try:  # a worker terminated while starting may leave an empty file
            records += list(perflog.read(str(f)))
        except perflog.TraceError as e:
            assert "empty file" in str(e) and f.stat().st_size == 0
    t = Tree(records)
    calls = t.of_type("__main__.sq")
    assert sorted(c.fields["x"] for c in calls) == list(range(10))
    assert all(c.shape() == "__main__.sq(helper.add)" and c.outcome == "succeeded"
               for c in calls)
    assert not t.of_type("__mp_main__.sq")
    pids = {perflog.read(str(f)).header["pid"] for f in out.iterdir() if f.stat().st_size}
    assert len(pids) >= 2  # the launcher's process and at least one worker


def test_sigterm_flush_keeps_the_death_and_the_program_handler(tmp_path):
    """A fork worker killed by SIGTERM still dies of it (exit code -15), its events
    written; a worker whose program handles SIGTERM itself keeps its handler."""
    prog = tmp_path / "term.py"
    prog.write_text(textwrap.dedent('''
        import multiprocessing as mp, os, signal, sys, time
        import perflog

        @perflog.perflog
        def work(i):
            return i

        def child(own_handler, ready):
            if own_handler:
                signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))
            for i in range(5):
                work(i)
            ready.set()
            time.sleep(60)

        if __name__ == "__main__":
            perflog.start(sys.argv[1], flush_interval_ms=60000)  # no timed flush
            ctx = mp.get_context("fork")
            codes = []
            for own in (False, True):
                ready = ctx.Event()
                p = ctx.Process(target=child, args=(own, ready))
                p.start()
                ready.wait(30)
                time.sleep(0.2)
                p.terminate()
                p.join(30)
                codes.append(p.exitcode)
            print(codes)
    '''))
    out = tmp_path / "t-{pid}.zst"
    proc = plain([str(prog), str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[-15, 7]"
    per_file = {}
    for f in tmp_path.glob("t-*.zst"):
        with perflog.read(str(f)) as r:
            per_file[r.header["pid"]] = [x for x in r if x["kind"] == "start"]
    counts = sorted(len(v) for v in per_file.values())
    # The parent recorded nothing; each child its 5 calls (the first flushed on SIGTERM,
    # the second by its own handler's exit).
    assert counts == [0, 5, 5], counts
