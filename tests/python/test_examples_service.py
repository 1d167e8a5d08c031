# SPDX-License-Identifier: MIT
"""examples/service: run it as a user would (one command), then check the traces of the
load generator, the server (aiohttp behind perflog's middleware) and its worker processes
by reading them back with perflog.read."""
import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

import perflog
from conftest import Tree

RUN = pathlib.Path(__file__).resolve().parents[2] / "examples" / "service" / "run.py"
REQUESTS = 120
LIMIT_NS = 200_000_000


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    out = tmp_path_factory.mktemp("service")
    (out / "worker-1.zst").write_bytes(b"stale")  # from an earlier run: must go
    p = subprocess.run([sys.executable, str(RUN), str(out), "--requests", str(REQUESTS)],
                       capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    files = {f.name: f for f in out.iterdir()}
    records, worker_keys, pids = [], set(), {}
    for name, f in files.items():
        with perflog.read(str(f)) as r:
            pids[name] = r.header["pid"]
            recs = list(r)
        records += recs
        if name not in ("server.zst", "client.zst"):
            worker_keys |= {(x["task_id"], tuple(x["level"])) for x in recs if "task_id" in x}
    return out, p.stdout, files, pids, Tree(records), worker_keys


def test_traces_of_both_processes(service):
    out, stdout, files, pids, _, _ = service
    assert "server.zst" in files and "worker-1.zst" not in files
    workers = [n for n in files if n.startswith("worker-")]
    assert workers and set(files) == {"server.zst", "client.zst", *workers}
    assert len(set(pids.values())) == len(files)  # one process each
    assert all(n == f"worker-{pids[n]}.zst" for n in workers)
    assert f"service: {REQUESTS} requests" in stdout


def test_every_request_has_nested_actions(service):
    _, _, _, _, tree, worker_keys = service
    # The load generator's requests are the roots; the server continues each one's task.
    clients = [n for n in tree.roots if n.type == "http.client"]
    assert len(clients) == REQUESTS and len(tree.roots) == REQUESTS
    requests = [c.children[0] for c in clients]
    assert all(n.type == "http.request" for n in requests)
    assert all((n.task_id, n.level) not in worker_keys for n in requests)
    assert all(c.end_fields["status"] == r.end_fields["status"]
               for c, r in zip(clients, requests))
    statuses = {}
    for r in requests:
        status = r.end_fields["status"]
        statuses[status] = statuses.get(status, 0) + 1
        kids = [c.type for c in r.children]
        below = {n.type for n in r.walk()}
        # The middleware's fields: the route template, never the raw path.
        route = r.fields["route"].split("/")[1]
        assert r.fields["route"] in ("/user/{uid}", "/report", "/export")
        assert ("param.uid" in r.fields) == (route == "user")
        if status == 200:
            assert kids == ["parse", "auth", f"handler.{route}", "render"], r.shape()
            assert {"sql.query", "cache.get"} <= below, r.shape()
        elif status == 400:  # days out of range
            assert r.fields["query.days"] == 9999 and kids == ["parse"]  # digits: an int
            assert r.children[0].outcome == "failed"
        else:
            assert status == 401 and kids == ["parse", "auth"]
            assert r.children[1].outcome == "failed" and "sql.query" in below
    assert statuses[200] > 0.9 * REQUESTS


def test_worker_continues_the_request_task(service):
    _, _, _, _, tree, worker_keys = service
    calls = tree.of_type("worker.call")
    assert calls
    for call in calls:
        (remote,) = call.children
        assert remote.type == "perflog:remote_task" and remote.task_id == call.task_id
        assert (remote.task_id, remote.level) in worker_keys  # recorded by the worker
        (build,) = remote.children
        assert build.type == "export.build" and build.outcome == "succeeded"
        assert [c.type for c in build.children] == ["archive.read", "sql.query", "export.csv",
                                                    "export.compress"]
        request = tree.nodes[(call.task_id, (1,))]  # under the client's http.client
        assert tree.nodes[(call.task_id, ())].type == "http.client"
        assert request.type == "http.request" and request.fields["route"] == "/export"
        assert (request.fields["query.user"], request.fields["query.days"]) == \
            (build.fields["user"], build.fields["days"])
    # Nothing in the workers' files is left without its request.
    assert all(tree.nodes.get((t, ())) for t, _ in worker_keys)
    assert len({k for k in worker_keys if len(k[1]) == len(calls[0].level) + 1}) == len(calls)


def nearest_rank(values, q):
    values = sorted(values)
    return values[max(0, math.ceil(q * len(values)) - 1)]


def perfan(*args):
    exe = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", "build"), "analyzer", "perfan")
    if not exe.exists():
        pytest.skip("perfan not built")
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=60)


def test_sla_exit_status_matches_p99(service):
    out, _, _, _, tree, _ = service
    by_type = {}
    for n in tree.nodes.values():
        if n.kind == "action" and n.end:
            by_type.setdefault(n.type, []).append(n.duration_ns)
    p99 = {t: nearest_rank(d, 0.99) for t, d in by_type.items()}
    if any(abs(v - LIMIT_NS) < LIMIT_NS / 100 for v in p99.values()):
        pytest.skip(f"a p99 within 1% of the limit, either verdict is right: {p99}")
    # perflog's own types (perflog:remote_task) are left out of the gate unless asked.
    failing = sorted(t for t, v in p99.items() if v > LIMIT_NS and not t.startswith("perflog:"))
    p = perfan("sla", "--p99", "200ms", "--json", out)
    assert p.returncode == (1 if failing else 0), p.stderr
    got = json.loads(p.stdout)
    assert sorted(t["type"] for t in got["types"] if not t["pass"]) == failing


def test_tree_of_the_slowest_export_spans_processes(service):
    out, _, _, pids, _, _ = service
    p = perfan("tree", "--slowest", "1", "--type", "export.*", "--json", out)
    assert p.returncode == 0, p.stderr
    (task,) = json.loads(p.stdout)["tasks"]
    (client,) = task["roots"]  # the load generator's call, then the server's request
    assert client["type"] == "http.client" and client["pid"] == pids["client.zst"]
    (root,) = [c for c in client["children"] if c["type"] == "http.request"]
    assert root["pid"] == pids["server.zst"]

    def walk(n):
        yield n
        for c in n.get("children", []):
            yield from walk(c)
    build = [n for n in walk(root) if n["type"] == "export.build"]
    assert len(build) == 1 and build[0]["pid"] != root["pid"]
    assert build[0]["pid"] in pids.values()


def test_long_ranges_are_the_slow_inputs(service):
    _, _, _, _, tree, _ = service
    by_days = {}
    for n in tree.of_type("handler.report"):
        if n.children[0].end_fields["hit"] is False:  # cache.get
            by_days.setdefault(n.fields["days"], []).append(n.duration_ns)
    short = by_days.get(1, []) + by_days.get(7, [])
    assert len(short) >= 5 and by_days.get(365), by_days
    # 365 days of events is ~50-100x the events of a week: compare a large ratio only.
    assert min(by_days[365]) > 5 * nearest_rank(short, 0.5), by_days
    # And slow by design: 275 ms in the archive alone (store.archive_read).
    assert min(by_days[365]) >= 275_000_000, by_days


def test_the_demo_gate_fails_by_design(service):
    # The gates issue, part 5: the README's "exit 1" must hold on every machine. The
    # 365-day requests (3 % of the load) spend 275 ms in the archive, so the p99 of
    # http.request is above 200 ms however fast the machine.
    out = service[0]
    p = perfan("sla", "--p99", "200ms", "--type", "http.request", "--json", out)
    assert p.returncode == 1, p.stdout + p.stderr
    (t,) = json.loads(p.stdout)["types"]
    assert t["observed"]["p99_ns"] >= 275_000_000


def test_early_sigterm_leaves_no_database(tmp_path):
    """A SIGTERM while the server is still building its database: it exits through its
    clean-up (the temporary directory with the SQLite file goes), not by the default
    action."""
    import signal
    import time
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    server = RUN.parent / "server.py"
    p = subprocess.Popen([sys.executable, str(server), str(tmp_path), "--rows", "5000000"],
                         stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, TMPDIR=str(tmp)))
    def building():
        # The database directory exists: building has begun. By its name: Python's
        # tempfile first probes TMPDIR with a file it removes at once.
        return any(e.name.startswith("perflog-service-") for e in tmp.iterdir())

    deadline = time.monotonic() + 30
    while not building() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert building()
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    assert rc == 128 + signal.SIGTERM
    assert list(tmp.iterdir()) == []
