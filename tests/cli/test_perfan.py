"""test_perfan.py - perfan's numbers against expectations computed independently.

Traces come from gen_traces.py: deterministic fixtures written from docs/format.md, and
traces recorded by gen_trace (the C writer). The expected values are computed from
tests/reference/ref_reader.py's decoding of the same files (gen_traces.load and friends),
never from perfan. Counts, totals, self times, min and max must be exact; percentiles
within the documented relative error (1/256, nearest rank).

Run: PERFAN=build/analyzer/perfan GEN_TRACE=build/tests/gen_trace \\
     /usr/bin/python3 -m pytest -q tests/cli/test_perfan.py
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_traces as gt  # noqa: E402
import ref_reader  # noqa: E402  (gen_traces put its folder on the path)

REL_ERROR = 1 / 256


def _exe(var, *rel):
    path = os.environ.get(var)
    if not path and os.environ.get("PERFLOG_BUILD_DIR"):
        path = str(pathlib.Path(os.environ["PERFLOG_BUILD_DIR"], *rel))
    if not path or not os.access(path, os.X_OK):
        pytest.skip(f"set {var} (or PERFLOG_BUILD_DIR) to a built {rel[-1]}")
    return path


@pytest.fixture(scope="session")
def perfan():
    return _exe("PERFAN", "analyzer", "perfan")


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory):
    d = tmp_path_factory.mktemp("fixtures")
    gt.fixtures(d)
    return d


@pytest.fixture(scope="session")
def real(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    gt.real(d, _exe("GEN_TRACE", "tests", "gen_trace"))
    return d


def run(perfan, *args, check_exit=0):
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run([perfan, *map(str, args)], capture_output=True, text=True, env=env)
    if check_exit is not None:
        assert p.returncode == check_exit, p.stderr
    return p


def run_json(perfan, *args, check_exit=0):
    p = run(perfan, *args, check_exit=check_exit)
    return json.loads(p.stdout), p


def check_stats(got, expected):
    """perfan's stats --json "types" against gen_traces.type_stats()."""
    types = {t["type"]: t for t in got["types"]}
    assert set(types) == set(expected)
    for name, exp in expected.items():
        t = types[name]
        for k in ("count", "failures", "total_ns", "self_ns", "min_ns", "max_ns", "mean_ns"):
            assert t[k] == exp[k], (name, k, t[k], exp[k])
        for k in gt.QUANTILES:
            assert abs(t[k] - exp[k]) <= exp[k] * REL_ERROR, (name, k, t[k], exp[k])
    totals = [t["total_ns"] for t in got["types"]]
    assert totals == sorted(totals, reverse=True)


# ---- stats ---------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_stats_matches_reference(perfan, request, which):
    d = request.getfixturevalue(which)
    load = gt.load([d])
    got, _ = run_json(perfan, "stats", "--json", d)
    check_stats(got, gt.type_stats(load["actions"]))
    assert got["actions"] == got["selected"] == len(load["actions"])
    assert got["unfinished"] == load["unfinished"] == 1
    assert got["unmatched_ends"] == load["unmatched"] == 0
    assert got["dropped_events"] == 0


def test_real_trace_has_what_gen_trace_recorded(real):
    """The reference decoding itself: guards the expectations against a broken generator."""
    acts = gt.load([real])["actions"]
    by = {}
    for a in acts:
        by.setdefault(a["type"], []).append(a)
    assert len(by["http.request"]) == 300 and len(by["worker.job"]) == 200
    assert len(by["rpc.call"]) == len(by["rpc.serve"]) == 3
    # The served calls joined their callers across files: the callers' self time excludes them.
    for a in by["rpc.call"]:
        assert a["children"] == 1
    assert sum(a["failed"] for a in by["db.query"]) == 13


def test_stats_bulk(perfan, tmp_path):
    """Many samples: a trace of 20000 requests written without waiting."""
    path = tmp_path / "bulk.zst"
    subprocess.run([_exe("GEN_TRACE", "tests", "gen_trace"), "--bulk", "20000", path],
                   check=True)
    got, _ = run_json(perfan, "stats", "--json", path)
    exp = gt.type_stats(gt.load([path])["actions"])
    check_stats(got, exp)
    assert got["types"][0]["count"] == 20000


FILTERS = [
    (["--type", "db.*"], {"type_glob": "db.*"}),
    (["--type", "*.[jq]*"], {"type_glob": "*.[jq]*"}),
    (["--failed"], {"failed": True}),
    (["--min", "1ms"], {"min_ns": 1000000}),
    (["--min", "1.5ms", "--type", "http.request"], {"min_ns": 1500000,
                                                   "type_glob": "http.request"}),
]


@pytest.mark.parametrize("args,sel", FILTERS)
def test_stats_filters(perfan, real, args, sel):
    got, _ = run_json(perfan, "stats", "--json", *args, real)
    check_stats(got, gt.type_stats(gt.select(gt.load([real])["actions"], **sel)))


def test_stats_time_window(perfan, real):
    acts = gt.load([real])["actions"]
    starts = sorted(a["start_ns"] for a in acts)
    lo, hi = starts[len(starts) // 4], starts[3 * len(starts) // 4]
    iso = lambda ns: (__import__("datetime").datetime.utcfromtimestamp(ns // 10**9)  # noqa
                      .strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z")
    got, _ = run_json(perfan, "stats", "--json", "--since", iso(lo), "--until", iso(hi), real)
    check_stats(got, gt.type_stats(gt.select(acts, since=lo, until=hi)))
    # Relative to the input's last record (START, END or message: an END here).
    last = max(r["wall_ns"] for p in gt.expand([real]) for r in ref_reader.read(str(p))
               if r["ts_ns"] is not None)
    got, _ = run_json(perfan, "stats", "--json", "--since", "-200ms", real)
    check_stats(got, gt.type_stats(gt.select(acts, since=last - 200000000)))


def test_stats_task_filter(perfan, real):
    acts = gt.load([real])["actions"]
    call = next(a for a in acts if a["type"] == "rpc.call")
    prefix, seq, _ = call["key"]
    task = f"{prefix:016x}-{seq:x}"
    got, _ = run_json(perfan, "stats", "--json", "--task", task, real)
    exp = gt.type_stats(gt.select(acts, task=(prefix, seq, ())))
    check_stats(got, exp)
    assert set(exp) == {"rpc.call", "rpc.serve", "db.query"}
    got, _ = run_json(perfan, "stats", "--json", "--task", task + "@/1/1", real)
    check_stats(got, gt.type_stats(gt.select(acts, task=(prefix, seq, (1, 1)))))


# ---- damaged and unreadable inputs -----------------------------------------------------------

def test_truncated_file_warns_and_analyzes_the_rest(perfan, real, tmp_path):
    app = (real / "app.zst").read_bytes()
    d = tmp_path / "cut"
    d.mkdir()
    for f in real.glob("remote-*.zst"):
        shutil.copy(f, d)
    (d / "app.zst").write_bytes(app[:len(app) * 2 // 3])
    load = gt.load([d])
    err = load["errors"][str(d / "app.zst")]
    got, p = run_json(perfan, "stats", "--json", d)
    assert re.search(rf"warning: {re.escape(str(d / 'app.zst'))}: offset {err.offset}: ",
                     p.stderr), p.stderr
    check_stats(got, gt.type_stats(load["actions"]))
    assert got["unfinished"] == load["unfinished"]
    entry = next(i for i in got["inputs"] if i["path"].endswith("app.zst"))
    assert entry["error"]["offset"] == err.offset


def test_truncated_at_many_offsets(perfan, fixtures, tmp_path):
    """Cut web.zst at a spread of offsets: never a crash, the prefix always analyzed."""
    data = (fixtures / "web.zst").read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 40)):
        path = tmp_path / f"cut{cut}.zst"
        path.write_bytes(data[:cut])
        p = run(perfan, "stats", "--json", path, check_exit=None)
        load = gt.load([path])
        if str(path) in load["errors"] and not load["actions"] and p.returncode == 3:
            continue  # nothing readable: no header
        assert p.returncode == 0, (cut, p.stderr)
        check_stats(json.loads(p.stdout), gt.type_stats(load["actions"]))


def test_unreadable_inputs(perfan, fixtures, tmp_path):
    p = run(perfan, "stats", tmp_path / "missing.zst", check_exit=3)
    assert "missing.zst: cannot open" in p.stderr and p.stdout == ""
    p = run(perfan, "stats", "--json", tmp_path / "missing.zst", fixtures / "web.zst")
    assert json.loads(p.stdout)["unreadable_inputs"] == 1
    empty = tmp_path / "empty.zst"
    empty.write_bytes(b"")
    run(perfan, "stats", empty, check_exit=3)


# ---- slowest ----------------------------------------------------------------------------------

def _value(v):
    """A field value as perfan's JSON shows it (strings cut at 96 bytes with an ellipsis)."""
    if isinstance(v, str) and len(v.encode()) > 96:
        b = v.encode()[:96]
        while b and (b[-1] & 0xC0) == 0x80 and len(b.decode("utf-8", "ignore")) < len(b):
            b = b[:-1]
        return b.decode("utf-8", "ignore") + "\u2026"
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return v


@pytest.mark.parametrize("which,n", [("fixtures", 5), ("real", 12)])
def test_slowest_matches_reference(perfan, request, which, n):
    d = request.getfixturevalue(which)
    acts = gt.load([d])["actions"]
    got, _ = run_json(perfan, "slowest", "--json", "-n", n, d)
    exp = gt.slowest(acts, n)
    assert [c["duration_ns"] for c in got["calls"]] == [a["duration_ns"] for a in exp]
    by_task = {a["task"]: a for a in acts}
    for c in got["calls"]:
        a = by_task[c["task"]]
        assert c["type"] == a["type"] and c["duration_ns"] == a["duration_ns"]
        assert c["start_ns"] == a["start_ns"]
        assert c["path"] == a["path"]
        assert c["children"] == a["children"] and c["children_ns"] == a["children_ns"]
        assert c["self_ns"] == a["self_ns"]
        assert c["inputs"] == {k: _value(v) for k, v in a["inputs"].items()}
        assert c["outputs"] == {k: _value(v) for k, v in a["outputs"].items()}
        assert c["outcome"] == ("failed" if a["failed"] else "succeeded")
        if a["exc_type"] is not None:
            assert c["exception"] == {"type": a["exc_type"], "message": a["exc_msg"]}
        assert c["pid"] == a["pid"] and c["thread"] == a["thread"]
        assert pathlib.Path(c["file"]).name == pathlib.Path(a["file"]).name


def test_slowest_filters_and_odd_strings(perfan, real):
    acts = gt.load([real])["actions"]
    got, _ = run_json(perfan, "slowest", "--json", "-n", 3, "--type", "db.query", "--failed",
                      real)
    exp = gt.slowest(gt.select(acts, type_glob="db.query", failed=True), 3)
    assert [c["task"] for c in got["calls"]] == [a["task"] for a in exp]
    assert all(c["exception"]["type"] == "db.Timeout" for c in got["calls"])
    got, _ = run_json(perfan, "slowest", "--json", "--type", "odd.strings", real)
    (c,) = got["calls"]
    (a,) = [x for x in acts if x["type"] == "odd.strings"]
    assert c["inputs"] == {k: _value(v) for k, v in a["inputs"].items()}
    assert c["inputs"]["long"] == "x" * 96 + "\u2026"
    text = run(perfan, "slowest", "--type", "odd.strings", real).stdout
    assert 'quote="say \\"hi\\"\\n\\tbye\\\\"' in text and 'ctl="\\x01\\x7f"' in text


def test_slowest_remote_path(perfan, real):
    got, _ = run_json(perfan, "slowest", "--json", "--type", "rpc.serve", real)
    assert [c["path"] for c in got["calls"]] == [["rpc.call", "rpc.serve"]] * 3


# ---- sla -----------------------------------------------------------------------------------

def test_sla_verdicts(perfan, real):
    exp = gt.type_stats(gt.load([real])["actions"])
    q = exp["db.query"]
    # Limits 10% away from the exact values: the estimate error cannot flip them.
    ok = ["--p50", f"{int(q['p50_ns'] * 1.1)}ns", "--p99", f"{int(q['p99_ns'] * 1.1)}ns",
          "--max", f"{int(q['max_ns'] * 1.1)}ns"]
    got, _ = run_json(perfan, "sla", "--json", "--type", "db.query", *ok, real)
    assert got["pass"] is True and got["types"][0]["failed"] == []
    bad = ["--p95", f"{int(q['p95_ns'] * 0.9)}ns", "--p50", f"{int(q['p50_ns'] * 1.1)}ns"]
    got, p = run_json(perfan, "sla", "--json", "--worst", 4, "--type", "db.query", *bad, real,
                      check_exit=1)
    (t,) = got["types"]
    assert t["failed"] == ["p95"] and t["count"] == q["count"]
    limit = int(q["p95_ns"] * 0.9)
    worst = gt.slowest([a for a in gt.load([real])["actions"] if a["type"] == "db.query"], 4)
    assert [c["duration_ns"] for c in t["worst"]] == [a["duration_ns"] for a in worst
                                                      if a["duration_ns"] > limit]
    run(perfan, "sla", "--type", "db.query", *ok, real, check_exit=0)
    run(perfan, "sla", "--type", "db.query", *bad, real, check_exit=1)


def test_json_outputs_are_strict_json(perfan, real, fixtures):
    for args in (["stats"], ["slowest", "-n", "50"], ["sla", "--p99", "1ms"]):
        for d in (real, fixtures):
            p = run(perfan, *args, "--json", d, check_exit=None)
            assert p.returncode in (0, 1)
            json.loads(p.stdout, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
