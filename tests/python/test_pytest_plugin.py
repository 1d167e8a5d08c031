# SPDX-License-Identifier: MIT
"""The pytest plugin (perflog.pytest_plugin), run by pytester in a child pytest: a table of
the action types at the end, the session failed by an exceeded limit, a GLOB that matches
nothing, or a regression against a baseline; bad options are usage errors. Under
pytest-xdist the controller judges the calls of every worker, and a worker gone down
fails the gate."""
import os
import pathlib

import pytest

pytest_plugins = ["pytester"]

PERFAN = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", "build"), "analyzer", "perfan")

APP = '''
import os, time
from perflog import perflog

SLOW = float(os.environ.get("APP_SLOW", "1"))

@perflog
def fetch(n):
    time.sleep(0.010 * SLOW)
    return n

@perflog
def parse(n):
    # Not a sub-microsecond body: at that scale two unchanged runs differed by +255 % on
    # a busy machine (CI saw it), which a baseline comparison rightly calls a regression;
    # sleeps of milliseconds, long beside a loaded scheduler's lateness, do not.
    time.sleep(0.005)
    return n * 2

def test_many():
    for i in range(40):
        assert parse(fetch(i)) == 2 * i
'''


@pytest.fixture
def app(pytester, monkeypatch):
    monkeypatch.setenv("PERFLOG_PERFAN", str(PERFAN.resolve()))
    pytester.makepyfile(test_app=APP)
    return pytester


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "perflog.pytest_plugin", "-q", *args)


def test_a_limit_met_passes_and_the_table_lists_the_types(app, tmp_path):
    r = run(app, "--perflog-sla", "test_app.*:p99<=1s,max<=2s", "--perflog-trace", tmp_path)
    assert r.ret == 0, r.stdout.str()
    out = r.stdout.str()
    assert "test_app.fetch" in out and "test_app.parse" in out and "perflog: PASS" in out
    assert "p99<=1s ok" in out
    assert list(tmp_path.glob("pytest-*.zst"))  # the trace stays where it was asked


def test_a_limit_exceeded_fails_the_session(app):
    r = run(app, "--perflog-sla", "*fetch:p50<=100us")
    assert r.ret == 1, r.stdout.str()
    # The tests passed; the session fails on the gate.
    r.stdout.fnmatch_lines(["*perflog: test_app.fetch: p50 * > 100µs (40 calls)*",
                            "*1 passed*"])


def test_a_glob_that_matches_nothing_fails(app):
    r = run(app, "--perflog-sla", "nosuch.*:p99<=1s")
    assert r.ret == 1
    r.stdout.fnmatch_lines(["*no action type matched 'nosuch.*': nothing was checked*"])


def test_bad_specs_are_usage_errors(app):
    for spec in ("fetch", "*:p42<=1ms", "*:p99<=fast", "*:p99>1ms"):
        r = run(app, "--perflog-sla", spec)
        assert r.ret == pytest.ExitCode.USAGE_ERROR, spec
        assert "--perflog-sla" in r.stderr.str()


def test_without_options_it_does_nothing(app):
    r = run(app)
    assert r.ret == 0 and "perflog" not in r.stdout.str()


@pytest.mark.skipif(not PERFAN.exists(), reason="perfan not built")
def test_a_regression_against_the_baseline_fails(app, tmp_path, monkeypatch):
    base = tmp_path / "base"
    assert run(app, "--perflog-trace", base).ret == 0
    same = run(app, "--perflog-baseline", base)
    assert same.ret == 0, same.stdout.str()
    monkeypatch.setenv("APP_SLOW", "3")  # fetch three times as slow: 10 ms -> 30 ms
    slow = run(app, "--perflog-baseline", base)
    assert slow.ret == 1, slow.stdout.str()
    slow.stdout.fnmatch_lines(["*test_app.fetch*REGRESSED*",
                               "*a regression against the baseline (perfan diff)*"])


@pytest.mark.skipif(not PERFAN.exists(), reason="perfan not built")
def test_diff_options_reach_perfan_diff(app, tmp_path, monkeypatch):
    base = tmp_path / "base"
    assert run(app, "--perflog-trace", base).ret == 0
    monkeypatch.setenv("APP_SLOW", "3")  # fetch: 10 ms -> 30 ms, +200 %
    # A threshold above the change: no regression; the same run without it fails.
    lenient = run(app, "--perflog-baseline", base, "--perflog-diff", "--threshold 400")
    assert lenient.ret == 0, lenient.stdout.str()
    strict = run(app, "--perflog-baseline", base, "--perflog-diff", "--percentile p99")
    assert strict.ret == 1, strict.stdout.str()
    strict.stdout.fnmatch_lines(["*p99*"])
    bad = run(app, "--perflog-baseline", base, "--perflog-diff=--no-such-option")
    assert bad.ret == 1 and "perfan diff failed (2)" in bad.stdout.str()
    for opts, extra in (("--threshold 5", ()), ("x.zst", ("--perflog-baseline", base))):
        r = run(app, "--perflog-diff", opts, *extra)
        assert r.ret == pytest.ExitCode.USAGE_ERROR and "--perflog-diff" in r.stderr.str()


# ---- pytest-xdist: the workers record, the controller judges all of their calls ---------

APP_MORE = '''
from test_app import fetch

def test_more():
    for i in range(10):
        assert fetch(i) == i
'''


@pytest.fixture
def xdist_app(app):
    pytest.importorskip("xdist", reason="pytest-xdist is not installed (scripts/deps.sh)")
    app.makepyfile(test_more=APP_MORE)
    return app


def test_under_xdist_the_gate_judges_every_workers_calls(xdist_app, tmp_path):
    r = run(xdist_app, "-n", "2", "--perflog-sla", "test_app.*:p99<=1s",
            "--perflog-trace", tmp_path)
    assert r.ret == 0, r.stdout.str()
    # 40 + 10 fetches and 40 parses, whichever worker ran them: counted by the table.
    r.stdout.fnmatch_lines(["*2 action types recorded (3 traces: *",
                            "*test_app.fetch*50*p99<=1s ok*", "*test_app.parse*40*"])
    (session,) = tmp_path.glob("pytest-*")  # a directory: the controller's and 2 workers'
    assert session.is_dir() and len(list(session.glob("pytest-*.zst"))) == 3
    # A limit only the calls of all workers together exceed: the 50 fetches' max.
    slow = run(xdist_app, "-n", "2", "--perflog-sla", "*fetch:p50<=100us")
    assert slow.ret == 1, slow.stdout.str()
    slow.stdout.fnmatch_lines(["*perflog: test_app.fetch: p50 * > 100µs (50 calls)*"])


@pytest.mark.skipif(not PERFAN.exists(), reason="perfan not built")
def test_under_xdist_the_baseline_compares_the_whole_session(xdist_app, tmp_path, monkeypatch):
    base = tmp_path / "base"
    assert run(xdist_app, "-n", "2", "--perflog-trace", base).ret == 0
    (base_session,) = base.glob("pytest-*")
    same = run(xdist_app, "-n", "2", "--perflog-baseline", base_session)
    assert same.ret == 0, same.stdout.str()
    monkeypatch.setenv("APP_SLOW", "3")
    slow = run(xdist_app, "-n", "2", "--perflog-baseline", base_session)
    assert slow.ret == 1, slow.stdout.str()
    slow.stdout.fnmatch_lines(["*test_app.fetch*REGRESSED*"])


def test_under_xdist_a_worker_gone_down_fails_the_gate(xdist_app):
    xdist_app.makepyfile(test_crash='''
import os
from test_app import fetch

def test_dies():
    fetch(1)
    os._exit(3)
''')
    r = run(xdist_app, "-n", "2", "--perflog-sla", "test_app.*:p99<=1s")
    assert r.ret != 0
    # Whatever else the session says, the gate does not pass on the calls it has left.
    assert "perflog: PASS" not in r.stdout.str(), r.stdout.str()
    r.stdout.fnmatch_lines(["*perflog: worker gw* went down (*): its calls may be missing*"])


def test_under_xdist_an_interrupted_session_is_not_judged(xdist_app):
    # -x stops the session at the first failure while the other worker is still inside a
    # test that records: its trace is not closed, so the gate must not judge (xdist 3.1,
    # Debian 12's, returns from its loop without waiting for the workers).
    xdist_app.makepyfile(test_stop='''
import time
from test_app import fetch

def test_fails_first():
    fetch(1)
    assert False

def test_still_recording():
    end = time.time() + 5
    while time.time() < end:
        fetch(0)
''')
    r = run(xdist_app, "-n", "2", "-x", "test_stop.py",
            "--perflog-sla", "test_app.*:p99<=1s")
    assert r.ret != 0
    assert "perflog: PASS" not in r.stdout.str(), r.stdout.str()
    r.stdout.fnmatch_lines(["*perflog: * worker(s) still running at the end of the session*"])
