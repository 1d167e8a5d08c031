# SPDX-License-Identifier: MIT
"""test_fleet.py - `python3 -m perflog.fleet` on a 2-worker Dask LocalCluster against
`perfan` run directly on the same files: the same answers (JSON but for the list of inputs,
and the text), also when a worker is killed in the middle of the job.

Dask (Debian's python3-distributed) is kept out of the sanitizer builds (tests/meson.build).
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from conftest import run  # noqa: E402
from test_summarize import DATA_RE, assert_inputs_close, fleet, without_inputs  # noqa: E402

distributed = pytest.importorskip("distributed", reason="python3-distributed (scripts/deps.sh)")
from perflog import fleet as pf_fleet  # noqa: E402

CASES = [
    ("stats",),
    ("stats", "--sort", "p99", "--type", "db.*"),
    ("slowest", "-n", "12"),
    ("slowest", "-n", "150", "--min", "2ms"),
    ("inflight",),
    ("sla", "--p99", "4ms", "--worst", "3"),
]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    d = tmp_path_factory.mktemp("fleet")
    fleet(d / "base", 21, nproc=10)
    fleet(d / "new", 22, nproc=4)
    return d


def report_data_of(path):
    return json.loads(DATA_RE.search(path.read_text(encoding="utf-8")).group(1))


def fleet_run(capfd, client, perfan, *args):
    capfd.readouterr()
    rc = pf_fleet.run([*args, "--perfan", perfan, "--partition-size", "1k"], client=client)
    out = capfd.readouterr()
    return rc, out.out, out.err


def test_fleet_answers_as_perfan(client, perfan, traces, capfd):
    base = traces / "base"
    for case in CASES:
        rc, out, _ = fleet_run(capfd, client, perfan, *case, "--json", str(base))
        direct = run(perfan, *case, "--json", base, check_exit=None)
        assert rc == direct.returncode
        assert without_inputs(out) == without_inputs(direct.stdout), case
        rc, out, _ = fleet_run(capfd, client, perfan, *case, str(base))
        assert out == run(perfan, *case, base, check_exit=None).stdout, case
    # inputs: the tails from the groups' histograms (test_summarize.py says how close).
    rc, out, _ = fleet_run(capfd, client, perfan, "inputs", "--type", "*", "--json", str(base))
    direct = run(perfan, "inputs", "--type", "*", "--json", base)
    assert rc == 0
    assert_inputs_close(without_inputs(out), without_inputs(direct.stdout))
    # report: the page's data but the trees (test_summarize.py says how close the rest is).
    rc, _, _ = fleet_run(capfd, client, perfan, "report", "-o", str(traces / "f.html"),
                         "--p99", "4ms", str(base))
    assert rc == 0
    got = report_data_of(traces / "f.html")
    run(perfan, "report", "-o", traces / "d.html", "--p99", "4ms", base)
    want = report_data_of(traces / "d.html")
    for key in ("types", "slowest", "inflight", "sla"):
        assert got[key] == want[key], key
    assert got["summaries"] == 1 and got["trees"] == []
    # diff: each side summarized on the cluster; a glob as a side.
    rc, out, _ = fleet_run(capfd, client, perfan, "diff", "--json", str(base),
                           str(traces / "new" / "*.zst"))
    direct = run(perfan, "diff", "--json", base, traces / "new", check_exit=None)
    assert rc == direct.returncode
    assert without_inputs(out) == without_inputs(direct.stdout)


def test_a_worker_killed_mid_job(perfan, traces, capfd, monkeypatch):
    """Each partition's task sleeps 0.5 s first (a test hook), so the job is still running
    when one of the two workers is killed: its tasks run again elsewhere."""
    monkeypatch.setenv("PERFLOG_FLEET_TEST_DELAY", "0.5")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    c = distributed.Client(cluster)
    try:
        pids = c.run(os.getpid)
        result = {}
        t = threading.Thread(target=lambda: result.update(
            rc=pf_fleet.run(["stats", "--json", "--perfan", perfan, "--partition-size", "1k",
                             str(traces / "base")], client=c)))
        t.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                c.processing().values()):
            time.sleep(0.05)
        time.sleep(0.3)  # inside a task's sleep
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)
        t.join(120)
        assert not t.is_alive()
        out = capfd.readouterr().out
        assert result["rc"] == 0
        direct = run(perfan, "stats", "--json", traces / "base")
        assert without_inputs(out) == without_inputs(direct.stdout)
        assert victim not in c.run(os.getpid).values()  # it was replaced
    finally:
        c.close()
        cluster.close()


def test_unreadable_files_are_named(client, perfan, traces, tmp_path, capfd):
    d = tmp_path / "mixed"
    d.mkdir()
    for f in sorted((traces / "new").iterdir()):
        (d / f.name).write_bytes(f.read_bytes())
    (d / "zz-broken.zst").write_bytes(b"\x28\xb5\x2f\xfd garbage")
    # In a directory, a file that is no trace is skipped with a warning, as by perfan.
    rc, out, err = fleet_run(capfd, client, perfan, "stats", "--json", str(d))
    direct = run(perfan, "stats", "--json", d, check_exit=None)
    assert rc == direct.returncode == 0
    assert "zz-broken.zst: skipped: not a perflog trace" in err
    assert without_inputs(out) == without_inputs(direct.stdout)
    # Named, it cannot be read: exit status 3, or the rest with --allow-unreadable.
    files = [str(f) for f in sorted(d.iterdir())]
    rc, out, err = fleet_run(capfd, client, perfan, "stats", "--json", *files)
    direct = run(perfan, "stats", "--json", *files, check_exit=None)
    assert rc == direct.returncode == 3
    assert "zz-broken.zst" in err
    rc, out, err = fleet_run(capfd, client, perfan, "stats", "--allow-unreadable", "--json",
                             *files)
    direct = run(perfan, "stats", "--allow-unreadable", "--json", *files)
    assert rc == 0 and without_inputs(out) == without_inputs(direct.stdout)


@pytest.mark.parametrize("args", [
    ["tree", "x"],
    ["stats"],
    ["stats", "--since", "-5m", "x"],
    ["diff", "x"],
    ["stats", "--perfan", "/nonexistent/perfan", "nomatch-*.zst"],
])
def test_usage_errors(args, perfan, capfd):
    with pytest.raises(SystemExit) if args[0] == "tree" else _nothing():
        rc = pf_fleet.run([*args] if "--perfan" in args else [*args, "--perfan", perfan])
        assert rc == 2
    assert "usage:" in capfd.readouterr().err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_command_line(perfan, traces):
    """python3 -m perflog.fleet with its own LocalCluster (local:2)."""
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run([sys.executable, "-m", "perflog.fleet", "slowest", "-n", "5", "--json",
                        "--scheduler", "local:2", "--perfan", perfan, str(traces / "base")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    direct = run(perfan, "slowest", "-n", "5", "--json", traces / "base")
    assert without_inputs(p.stdout) == without_inputs(direct.stdout)
