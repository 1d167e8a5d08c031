# SPDX-License-Identifier: MIT
"""What the perfan tests share: finding the built programs and running perfan."""
import os
import pathlib
import subprocess

import pytest

import gen_traces as gt


def exe(var, *rel):
    """The program named by environment variable @var, else PERFLOG_BUILD_DIR/@rel; skip
    the test when neither is set (run through meson, both are)."""
    path = os.environ.get(var)
    if not path and os.environ.get("PERFLOG_BUILD_DIR"):
        path = str(pathlib.Path(os.environ["PERFLOG_BUILD_DIR"], *rel))
    if not path or not os.access(path, os.X_OK):
        pytest.skip(f"set {var} (or PERFLOG_BUILD_DIR) to a built {rel[-1]}")
    return path


@pytest.fixture(scope="session")
def perfan():
    return exe("PERFAN", "analyzer", "perfan")


@pytest.fixture(scope="session")
def gen_trace():
    return exe("GEN_TRACE", "tests", "gen_trace")


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory):
    d = tmp_path_factory.mktemp("fixtures")
    gt.fixtures(d)
    return d


@pytest.fixture(scope="session")
def real(tmp_path_factory, gen_trace):
    d = tmp_path_factory.mktemp("real")
    gt.real(d, gen_trace)
    return d


def run(perfan, *args, check_exit=0):
    """Run perfan (in UTC) and check its exit status unless @check_exit is None."""
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run([perfan, *map(str, args)], capture_output=True, text=True, env=env)
    if check_exit is not None:
        assert p.returncode == check_exit, p.stderr
    return p
