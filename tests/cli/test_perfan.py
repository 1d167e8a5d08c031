# SPDX-License-Identifier: MIT
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
import math
import os
import pathlib
import re
import resource
import shutil
import subprocess
import sys

import msgpack
import pytest
import zstandard

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_traces as gt  # noqa: E402
from conftest import run  # noqa: E402
import ref_reader  # noqa: E402  (gen_traces put its folder on the path)

REL_ERROR = 1 / 256




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


SORT_KEYS = {"total": "total_ns", "self": "self_ns", "count": "count", "failed": "failures",
             "mean": "mean_ns", "p50": "p50_ns", "p90": "p90_ns", "p95": "p95_ns",
             "p99": "p99_ns", "p99.9": "p999_ns", "max": "max_ns"}


@pytest.mark.parametrize("key", [*SORT_KEYS, "type"])
def test_stats_sort_keys(perfan, real, key):
    """Every key sorts the rows by that column, largest first, ties by name."""
    got, _ = run_json(perfan, "stats", "--sort", key, "--json", real)
    assert got["sort"] == key
    rows = got["types"]
    if key == "type":
        expected = sorted(rows, key=lambda t: t["type"])
    else:
        expected = sorted(rows, key=lambda t: (-t[SORT_KEYS[key]], t["type"]))
    assert [t["type"] for t in rows] == [t["type"] for t in expected]


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


def test_stats_bulk(perfan, gen_trace, tmp_path):
    """Many samples: a trace of 20000 requests written without waiting."""
    path = tmp_path / "bulk.zst"
    subprocess.run([gen_trace, "--bulk", "20000", path],
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


@pytest.mark.parametrize("args", [
    ("stats", "--json"),
    ("slowest", "-n", "20", "--json"),
    ("inputs", "--type", "*", "--json"),
    ("tree", "--slowest", "3"),
    ("timeline",),
    ("export", "--format", "jsonl"),
    ("sla", "--p99", "1ms", "--json"),
])
def test_jobs_do_not_change_results(perfan, real, fixtures, tmp_path, args):
    """Decoding threads (--jobs) change nothing: not the output, not the warnings, not the
    exit status, with several files and a damaged one among them."""
    d = tmp_path / "mixed"
    d.mkdir()
    for f in list(real.glob("*.zst")) + list(fixtures.glob("*.zst")):
        shutil.copy(f, d / f"{f.parent.name}-{f.name}")
    app = (real / "app.zst").read_bytes()
    (d / "cut-app.zst").write_bytes(app[:len(app) // 2])
    ref = run(perfan, "--jobs", "0", *args, d, check_exit=None)
    assert ref.returncode in (0, 1), ref.stderr
    assert "cut-app.zst: offset" in ref.stderr
    for jobs in ("1", "3"):
        p = run(perfan, "--jobs", jobs, *args, d, check_exit=None)
        assert (p.returncode, p.stdout, p.stderr) == (ref.returncode, ref.stdout, ref.stderr)


def test_jobs_option_is_checked(perfan, fixtures):
    for bad in ("-1", "x", "65", ""):
        p = run(perfan, "--jobs", bad, "stats", fixtures / "web.zst", check_exit=2)
        assert "--jobs" in p.stderr and "Usage:" in p.stderr


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
    # What could be read is reported, but the exit status says that an input could not.
    p = run(perfan, "stats", "--json", tmp_path / "missing.zst", fixtures / "web.zst",
            check_exit=3)
    assert json.loads(p.stdout)["unreadable_inputs"] == 1
    assert "--allow-unreadable" in p.stderr
    p = run(perfan, "stats", "--json", "--allow-unreadable", tmp_path / "missing.zst",
            fixtures / "web.zst")
    got = json.loads(p.stdout)
    assert got["unreadable_inputs"] == 1
    # --json lists every input with its status, the ones not read too, with the reason.
    status = {pathlib.Path(i["path"]).name: (i["status"], i["error"]) for i in got["inputs"]}
    assert status["web.zst"] == ("read", None)
    assert status["missing.zst"][0] == "unreadable"
    assert "cannot open" in status["missing.zst"][1]["reason"]
    # In a directory: a subdirectory and a non-trace are skipped, each with a word.
    d = tmp_path / "dir"
    (d / "sub").mkdir(parents=True)
    (d / "notes.txt").write_text("hi")
    shutil.copy(fixtures / "web.zst", d / "web.zst")
    p = run(perfan, "stats", "--json", str(d) + "/")
    got = json.loads(p.stdout)
    status = {i["path"]: i["status"] for i in got["inputs"]}
    assert status == {f"{d}/web.zst": "read", f"{d}/sub": "skipped",
                      f"{d}/notes.txt": "skipped"}, status  # no "//" in the paths
    assert "sub: skipped: a directory" in p.stderr and "notes.txt: skipped" in p.stderr
    empty = tmp_path / "empty.zst"
    empty.write_bytes(b"")
    run(perfan, "stats", empty, check_exit=3)
    run(perfan, "stats", "--allow-unreadable", empty, check_exit=3)  # nothing readable
    # The first data frame damaged (the hardening issue's finding 11): its offset is named,
    # as for damage further on.
    data = bytearray((fixtures / "web.zst").read_bytes())
    data[40] ^= 0xFF
    bad = tmp_path / "bad-first.zst"
    bad.write_bytes(bytes(data))
    p = run(perfan, "stats", bad, check_exit=3)
    assert "bad-first.zst: offset 16: corrupt frame" in p.stderr, p.stderr


@pytest.mark.parametrize("args", [
    ("stats",), ("slowest",), ("sla", "--p99", "1s"), ("inputs", "--type", "x"), ("tree",),
    ("tree", "--task", "0123456789abcdef-1"), ("timeline",), ("inflight",)])
def test_json_when_no_input_could_be_read(perfan, tmp_path, args):
    """--json still writes one document, naming each input and why it was not read."""
    (tmp_path / "notes.txt").write_text("not a trace")
    p = run(perfan, *args, "--json", tmp_path / "missing.zst", tmp_path / "notes.txt",
            check_exit=3)
    got = json.loads(p.stdout)
    assert got["command"] == args[0] and got["error"] == "no input could be read"
    assert got["unreadable_inputs"] == 2 and got["records"] == 0
    status = {pathlib.Path(i["path"]).name: i["status"] for i in got["inputs"]}
    assert status == {"missing.zst": "unreadable", "notes.txt": "unreadable"}
    assert "missing.zst: cannot open" in p.stderr


def test_standard_input(perfan, fixtures):
    # "-" reads standard input, for one-pass and two-pass subcommands alike, with files.
    env = dict(os.environ, TZ="UTC")

    def with_stdin(*args):
        with open(fixtures / "web.zst", "rb") as f:
            return subprocess.run([perfan, *map(str, args)], stdin=f, capture_output=True,
                                  text=True, env=env)

    p = with_stdin("stats", "--json", "-")
    assert p.returncode == 0, p.stderr
    direct = json.loads(run(perfan, "stats", "--json", fixtures / "web.zst").stdout)
    got = json.loads(p.stdout)
    assert got["types"] == direct["types"] and got["inputs"][0]["path"] == "-"
    p = with_stdin("inputs", "--json", "--type", "*", "-")  # reads its input twice
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["types"] == json.loads(
        run(perfan, "inputs", "--json", "--type", "*", fixtures / "web.zst").stdout)["types"]
    p = with_stdin("stats", "--json", "-", fixtures / "svc.zst")
    assert p.returncode == 0 and len(json.loads(p.stdout)["inputs"]) == 2


def _many_traces(gen_trace, d, n):
    """@n one-action traces in @d and zz-slow.zst last in name order, whose `request`
    lasts 60 ms; the others' < 1 ms."""
    d.mkdir()
    subprocess.run([gen_trace, "--many", str(n), d], check=True)


def _limited(soft, hard):
    def preexec():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return preexec


@pytest.mark.parametrize("soft,hard", [(256, None), (40, 40)])
def test_more_inputs_than_open_files(perfan, gen_trace, tmp_path, soft, hard):
    # The hardening issue's reproduction: with more inputs than the open-file limit, the
    # inputs past it failed with "Too many open files" and `sla` said PASS. perfan raises
    # the soft limit to the hard one, and keeps few files open at once anyway (the hard
    # limit of 40 leaves no choice).
    d = tmp_path / "many"
    n = 1100
    _many_traces(gen_trace, d, n)
    hard = hard or resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run([perfan, "sla", "--max", "50ms", "--type", "request", str(d)],
                       capture_output=True, text=True, env=env,
                       preexec_fn=_limited(soft, hard))
    assert p.returncode == 1, p.stdout + p.stderr  # FAIL: zz-slow.zst was read
    assert p.stderr == "", p.stderr
    p = subprocess.run([perfan, "stats", "--json", str(d)], capture_output=True, text=True,
                       env=env, preexec_fn=_limited(soft, hard))
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["actions"] == n + 1 and got["unreadable_inputs"] == 0
    assert len(got["inputs"]) == n + 1


def test_suspended_inside_a_block(perfan, tmp_path):
    # Files whose frames end with a BLOCK (gen_traces writes no closing CLOCK), read with
    # too few descriptors: a reader is suspended after each batch, which ends on the
    # first event of the next frame, in the middle of that frame's last BLOCK. Its
    # columns point into the frame: it must survive the suspension (the sanitizer build
    # catches a read of freed memory), and perfan must see what it sees with no limit.
    d = tmp_path / "blocks"
    d.mkdir()
    for k in range(60):
        w = gt.TraceWriter(d / f"f{k:02}.zst", 100 + k, gt.WEB_PREFIX + k, gt.WALL0,
                           {1: "main"})
        for f in range(3):
            t = gt.Tree()
            for j in range(5):
                t0 = (f * 10 + j) * gt.MS
                t.action(1, (gt.WEB_PREFIX + k, f * 10 + j + 1), [], "req", t0, 200 * gt.US,
                         {"k": k, "j": j})
            w.frame(t.split(lambda e: True))
        w.close()
    env = dict(os.environ, TZ="UTC")
    out = {}
    for limit in (None, 40):
        p = subprocess.run([perfan, "stats", "--json", str(d)], capture_output=True,
                           text=True, env=env,
                           preexec_fn=_limited(limit, limit) if limit else None)
        assert p.returncode == 0, p.stderr
        out[limit] = json.loads(p.stdout)
    assert out[40]["types"] == out[None]["types"]
    assert out[40]["actions"] == 60 * 3 * 5 and out[40]["unmatched_ends"] == 0


def test_cost_grows_linearly_with_the_types(perfan, gen_trace, tmp_path):
    # The hardening issue's finding 6: inputs and diff compared type names pairwise (32k
    # types: 4.2 s; 1.1M types ran past 300 s), stats held a 7 KiB histogram per type.
    # With 64k types every command must finish in seconds within 1 GiB of memory.
    path = tmp_path / "types.zst"
    subprocess.run([gen_trace, "--types", "65536", path], check=True)
    env = dict(os.environ, TZ="UTC")
    one_gib = 1 << 30

    # AddressSanitizer reserves terabytes of address space: no RLIMIT_AS under it.
    asan = b"__asan_init" in pathlib.Path(perfan).read_bytes()

    def limited():
        if not asan:
            resource.setrlimit(resource.RLIMIT_AS, (one_gib, one_gib))

    for args in (["stats", "--json"], ["inputs", "--type", "*", "--json"],
                 ["diff", "--json", path], ["sla", "--max", "1s"]):
        p = subprocess.run([perfan, *map(str, args), str(path)], capture_output=True,
                           text=True, env=env, preexec_fn=limited, timeout=10)
        assert p.returncode == 0, (args, p.stderr)
    got = json.loads(subprocess.run([perfan, "inputs", "--type", "*", "--json", str(path)],
                                    capture_output=True, text=True).stdout)
    assert got["types_left_out"] == 65536 - 256 and len(got["types"]) == 256


def test_a_gate_never_passes_on_part_of_the_input(perfan, gen_trace, tmp_path):
    d = tmp_path / "gate"
    d.mkdir()
    subprocess.run([gen_trace, "--action", "request", "10", d / "fast.zst"], check=True)
    broken = tmp_path / "broken.zst"
    broken.write_bytes(b"PERF")  # cut inside the magic frame: no header
    p = run(perfan, "sla", "--max", "1s", d, broken, check_exit=3)
    assert "broken.zst" in p.stderr and "PASS" in p.stdout
    p = run(perfan, "sla", "--max", "1s", "--allow-unreadable", d, broken, check_exit=0)
    # A file in a directory that is not a trace at all is skipped, not unreadable.
    (d / "notes.txt").write_text("not a trace\n")
    p = run(perfan, "sla", "--max", "1s", d, check_exit=0)
    assert "notes.txt: skipped" in p.stderr


# ---- slowest ----------------------------------------------------------------------------------

_value = gt.shown_value


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


@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_sla_worst_calls_have_their_inputs(perfan, request, which, tmp_path):
    # sla scans without the STARTs' fields and reads the inputs of the worst calls it
    # lists again from their files (analysis/refetch.c): they must be those the reference
    # decoding gives, with the outputs and exceptions the scan kept, in both decoding
    # modes and for standard input (read again from perfan's copy of it).
    d = request.getfixturevalue(which)
    acts = gt.load([d])["actions"]
    by_task = {a["task"]: a for a in acts}
    one = max(sorted(d.glob("*.zst")), key=lambda f: f.stat().st_size)
    for jobs, args, inp in [([], [d], None), (["--jobs", "0"], [d], None),
                            ([], ["-"], one.read_bytes())]:
        p = subprocess.run([perfan, *jobs, "sla", "--json", "--max", "1ns", "--worst", "5",
                            *map(str, args)], input=inp, capture_output=True,
                           env=dict(os.environ, TZ="UTC"))
        assert p.returncode == 1, p.stderr
        assert b"could not be read again" not in p.stderr
        got = json.loads(p.stdout)
        shown = 0
        for t in got["types"]:
            want = gt.slowest([a for a in acts if a["type"] == t["type"]], 5)
            finished = [c for c in t["worst"] if not c.get("running")]
            if inp is None and len(finished) == len(t["worst"]):
                assert [c["task"] for c in finished] == [a["task"] for a in want]
            for c in finished:
                a = by_task[c["task"]]
                assert c["inputs"] == {k: _value(v) for k, v in a["inputs"].items()}, c
                assert c["outputs"] == {k: _value(v) for k, v in a["outputs"].items()}
                if a["exc_type"] is not None:
                    assert c["exception"] == {"type": a["exc_type"], "message": a["exc_msg"]}
                shown += 1
        assert shown >= 10


@pytest.mark.parametrize("flag,key", [("--p50", "p50"), ("--p90", "p90"), ("--p95", "p95"),
                                      ("--p99", "p99"), ("--p999", "p999"), ("--max", "max")])
def test_sla_checks_each_percentile_it_is_given(perfan, real, flag, key):
    # The hardening issue's mutation gaps: a `--p90` or `--p999` that checked another
    # percentile passed every test. Each limit alone, 10% under and over the exact value
    # of the type where the percentiles differ most.
    exp = gt.type_stats(gt.load([real])["actions"])
    name = f"{key}_ns"
    typ = max((t for t in exp if exp[t]["count"] >= 50),
              key=lambda t: exp[t]["max_ns"] / max(exp[t]["p50_ns"], 1))
    v = exp[typ][name]
    assert v > 0
    got, _ = run_json(perfan, "sla", "--json", "--type", typ, flag, f"{int(v * 0.9)}ns", real,
                      check_exit=1)
    assert got["types"][0]["failed"] == [key], got["types"][0]
    got, _ = run_json(perfan, "sla", "--json", "--type", typ, flag, f"{int(v * 1.1) + 1}ns",
                      real, check_exit=0)
    assert got["types"][0]["failed"] == []
    # The observed value is this percentile's (within the histogram's error), no other's.
    obs = got["types"][0]["observed"][name]
    assert abs(obs - v) <= v * REL_ERROR + 1


def test_sla_says_how_sure_it_is(perfan, real, fixtures):
    # The gates issue, part 2: each percentile with a 95 % interval from the order
    # statistics (ranks n q -/+ 1.96 sqrt(n q (1 - q)), widened by one), computed here
    # from the reference decoding; a percentile that is the slowest call is said so;
    # --min-count leaves out the types with fewer calls, and judges nothing if none has.
    acts = gt.load([real])["actions"]
    by_type = {}
    for a in acts:
        by_type.setdefault(a["type"], []).append(a["duration_ns"])
    got, _ = run_json(perfan, "sla", "--json", "--p50", "1h", "--p99", "1h", real)
    for t in got["types"]:
        if t["type"] not in by_type:
            continue  # an action still running (counted by perfan, not by the reference)
        durs = sorted(by_type[t["type"]])
        n = len(durs)
        for key, q in (("p50_ns", 0.5), ("p99_ns", 0.99)):
            sd = math.sqrt(n * q * (1 - q))
            lo = max(1, math.floor(n * q - 1.96 * sd))
            hi = min(n, math.ceil(n * q + 1.96 * sd) + 1)
            got_lo, got_hi = t["ci95"][key]
            assert abs(got_lo - durs[lo - 1]) <= durs[lo - 1] * REL_ERROR + 1, (t, key)
            assert abs(got_hi - durs[hi - 1]) <= durs[hi - 1] * REL_ERROR + 1, (t, key)
            assert got_lo <= t["observed"][key] <= got_hi
        is_max = [k for k, q in (("p50", 0.5), ("p99", 0.99))
                  if n > 1 and math.ceil(q * n - 1e-9) >= n]
        assert t["percentile_is_max"] == is_max, t
        assert t["judged"] is True
    web = fixtures / "web.zst"
    p = run(perfan, "sla", "--p99", "10ms", web, check_exit=1)
    assert "12.0ms*" in p.stdout and "* p99 of up to 15 calls is the slowest call" in p.stdout
    got, _ = run_json(perfan, "sla", "--json", "--p99", "10ms", "--min-count", 13, web,
                      check_exit=1)
    judged = {t["type"] for t in got["types"] if t["judged"]}
    assert judged == {"db.query"}  # the only type with 13 calls or more
    got, _ = run_json(perfan, "sla", "--json", "--p99", "1h", "--min-count", 100, web,
                      check_exit=1)
    assert got["pass"] is False and not any(t["judged"] for t in got["types"])


def test_inputs_ranks_the_groups_that_carry_the_tail(perfan, gen_trace, tmp_path):
    # The hardening issue's mutation gaps: the golden inputs cases have empty tails, so a
    # reversed ranking passed them. Here key 7 (80 ms, the other keys 200 µs) is the tail.
    path = tmp_path / "inputs.zst"
    subprocess.run([gen_trace, "--slow-inputs", path], check=True)
    got, _ = run_json(perfan, "inputs", "--json", "--type", "lookup", path)
    (t,) = got["types"]
    assert t["count"] == 200 and t["tail_calls"] >= 10
    by_name = {a["name"]: a for a in t["arguments"] if a["grouping"] != "length"}
    key = by_name["key"]["groups"]
    assert key[0]["min"] <= 7 <= key[0]["max"] and key[0]["tail_share"] == 1
    shares = [g["tail_share"] for g in key]
    assert shares == sorted(shares, reverse=True) and shares[-1] == 0
    region = by_name["region"]["groups"]
    assert region[0]["group"] == '"us"' and region[0]["tail_calls"] == t["tail_calls"]
    text = run(perfan, "inputs", "--type", "lookup", path).stdout
    first, last = key[0]["group"], key[-1]["group"]  # the range each held, e.g. "4..7"
    assert first != last and re.search(rf"^{re.escape(first)} ", text, re.M)
    assert text.index(f"\n{first} ") < text.index(f"\n{last} ")  # the tail first


def test_json_outputs_are_strict_json(perfan, real, fixtures):
    for args in (["stats"], ["slowest", "-n", "50"], ["sla", "--p99", "1ms"],
                 ["inputs", "--type", "*"], ["tree", "--slowest", "5"]):
        for d in (real, fixtures):
            p = run(perfan, *args, "--json", d, check_exit=None)
            assert p.returncode in (0, 1)
            json.loads(p.stdout, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))


# ---- inputs ----------------------------------------------------------------------------------

def _ref_groups(value):
    """The groups a START field value falls in, as (grouping, kind, bucket, number) keys:
    the rules of `perfan inputs --help`, written from them (not from perfan's code). A
    numeric group is labelled afterwards with the values it held (_ref_label)."""
    def int_bucket(v):
        return (v > 0) - (v < 0), abs(v).bit_length()

    def length(s, n):
        # A placeholder of the Python extension, "<set len=546>", stands for its length.
        m = re.fullmatch(r"<.* len=(\d{1,18})>", s) if isinstance(s, str) else None
        return int(m.group(1)) if m and len(s) >= 8 else n

    if isinstance(value, bool):
        return [("value", "bool", "true" if value else "false", None)]
    if isinstance(value, int):
        return [("value", "int", int_bucket(value), value)]
    if isinstance(value, float):
        if value == 0:
            return [("value", "float", "0.0", None)]
        if math.isnan(value) or math.isinf(value):
            return [("value", "float", str(value), None)]
        return [("value", "float", (value < 0, math.frexp(abs(value))[1]), value)]
    if isinstance(value, str):
        n = length(value, len(value.encode()))
        return [("value", "string", _value(value), None),
                ("length", "length", int_bucket(n), n)]
    if isinstance(value, bytes):
        return [("length", "length", int_bucket(len(value)), len(value))]
    if value is None:
        return [("value", "null", "null", None)]
    return [("value", "map" if isinstance(value, dict) else "array",
             "(map)" if isinstance(value, dict) else "(array)", None)]


def _ref_label(kind, bucket, lo, hi):
    """A group's label: the range of the values it held, or its one value."""
    if lo is None:
        return bucket
    if kind == "float":
        return "%g" % lo if lo == hi else "%g..%g" % (lo, hi)
    return f"{lo}" if lo == hi else f"{lo}..{hi}"


def _ref_inputs(acts, p95):
    """{(arg, grouping): {(kind, label): {count, tail_calls, tail_ns, durations}}}."""
    out = {}
    for a in acts:
        d = a["duration_ns"]
        for k, v in a["inputs"].items():
            for grouping, kind, bucket, num in _ref_groups(v):
                g = out.setdefault((k, grouping), {}).setdefault(
                    (kind, bucket), {"count": 0, "tail_calls": 0, "tail_ns": 0, "durs": [],
                                     "lo": num, "hi": num})
                g["count"] += 1
                g["durs"].append(d)
                if num is not None:
                    g["lo"], g["hi"] = min(g["lo"], num), max(g["hi"], num)
                if d > p95:
                    g["tail_calls"] += 1
                    g["tail_ns"] += d - p95
    # A string argument with at most 10 distinct values is not also grouped by length
    # (perfan inputs --help): its values say more. (Fixtures stay under the 100-value cap.)
    for (k, grouping) in list(out):
        strings = [b for kind, b in out.get((k, "value"), {}) if kind == "string"]
        if grouping == "length" and (k, "value") in out and len(strings) <= 10:
            del out[(k, grouping)]
    return {key: {(kind, _ref_label(kind, bucket, g["lo"], g["hi"])): g
                  for (kind, bucket), g in groups.items()}
            for key, groups in out.items()}


@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_inputs_matches_reference(perfan, request, which):
    d = request.getfixturevalue(which)
    acts = gt.load([d])["actions"]
    got, _ = run_json(perfan, "inputs", "--json", "--type", "*", d)
    exact = gt.type_stats(acts)
    assert {t["type"] for t in got["types"]} == set(exact)
    for t in got["types"]:
        mine = [a for a in acts if a["type"] == t["type"]]
        exp95 = exact[t["type"]]["p95_ns"]
        assert t["count"] == len(mine)
        assert abs(t["p95_ns"] - exp95) <= exp95 * REL_ERROR
        p95 = t["p95_ns"]  # the threshold perfan used; the grouping below is independent
        tail = [a["duration_ns"] - p95 for a in mine if a["duration_ns"] > p95]
        assert t["tail_calls"] == len(tail) and t["tail_ns"] == sum(tail)
        ref = _ref_inputs(mine, p95)
        assert {(a["name"], a["grouping"]) for a in t["arguments"]} == set(ref)
        for arg in t["arguments"]:
            rg = ref[(arg["name"], arg["grouping"])]
            assert arg["calls"] == sum(g["count"] for g in rg.values())
            values = [g for g in arg["groups"] if g["kind"] != "other"]
            keys = [(-g["tail_ns"], -g["count"]) for g in values]
            assert keys == sorted(keys)
            assert arg["groups"][:len(values)] == values  # "(other)" comes last
            folded = deficit = 0
            for g in arg["groups"]:
                if g["kind"] == "other":
                    folded = g["count"]
                    continue
                e = rg.pop((g["kind"], g["value"] if g["kind"] == "string" else g["group"]))
                if g.get("partial"):  # a value folded once: its counts are lower bounds
                    for k in ("count", "tail_calls", "tail_ns"):
                        assert g[k] <= e[k], (t["type"], arg["name"], g["group"], k)
                    deficit += e["count"] - g["count"]
                    continue
                for k in ("count", "tail_calls", "tail_ns"):
                    assert g[k] == e[k], (t["type"], arg["name"], g["group"], k)
                durs = sorted(e["durs"])
                assert g["max_ns"] == durs[-1]
                for k, q in (("p50_ns", 0.5), ("p99_ns", 0.99)):
                    x = gt.nearest_rank(durs, q)
                    assert abs(g[k] - x) <= x * REL_ERROR
                share = g["tail_ns"] / t["tail_ns"] if t["tail_ns"] else 0
                assert abs(g["tail_share"] - share) < 1e-9
            # What perfan folded into "(other)" are the values left over and the calls
            # partial groups miss, and only strings.
            assert arg["folded_calls"] == folded
            assert sum(g["count"] for g in rg.values()) + deficit == folded
            assert all(kind == "string" for kind, _ in rg)
            assert len(arg["groups"]) - (folded > 0) <= got["max_values"] + 200


def _ref_program(argv):
    """A process's program as `perfan inputs --help` describes it."""
    if not argv or not argv[0]:
        return "?"
    prog = argv[0].rsplit("/", 1)[-1] or argv[0]
    if prog.startswith("python") and len(argv) > 1:
        if argv[1] == "-m" and len(argv) > 2:
            return f"{prog} -m {argv[2]}"
        if not argv[1].startswith("-"):
            return f"{prog} {argv[1].rsplit('/', 1)[-1] or argv[1]}"
    return prog


def _ref_context(a):
    """{grouping: value} of an action (gen_traces.load), from `perfan inputs --help`."""
    path = a["path"]
    return {
        "process": f"{a['host']}:{a['pid']} {_ref_program(a['argv'])}",
        "host": a["host"],
        "thread": a["thread_name"] if a["thread_name"] is not None else f"tid {a['tid']}",
        "parent": "(none)" if len(path) == 1 else path[-2] or "(not read)",
        "root": path[0] or "(not read)",
        "outcome": "failed" if a["failed"] else "succeeded",
    }


@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_inputs_context_matches_reference(perfan, request, which):
    d = request.getfixturevalue(which)
    acts = gt.load([d])["actions"]
    got, _ = run_json(perfan, "inputs", "--json", "--type", "*", d)
    for t in got["types"]:
        mine = [a for a in acts if a["type"] == t["type"]]
        p95 = t["p95_ns"]
        assert {c["name"] for c in t["context"]} == set(_ref_context(mine[0]))
        for c in t["context"]:
            ref = {}
            for a in mine:
                g = ref.setdefault(_ref_context(a)[c["name"]], [0, 0, 0])
                g[0] += 1
                g[1] += a["duration_ns"] > p95
                g[2] += max(0, a["duration_ns"] - p95)
            assert c["grouping"] == "context" and c["calls"] == len(mine)
            assert {g["value"]: [g["count"], g["tail_calls"], g["tail_ns"]]
                    for g in c["groups"]} == ref, (t["type"], c["name"])
            # The score: the largest excess of a group's tail share over its call share.
            excess = [g["tail_share"] - g["count"] / len(mine) for g in c["groups"]]
            assert abs(c["score"] - max([0.0, *excess])) < 1e-9
        for kind in ("arguments", "context"):  # each ranked by score
            scores = [g["score"] for g in t[kind]]
            assert scores == sorted(scores, reverse=True)


def test_inputs_context_names_what_is_different(perfan, tmp_path):
    """The slow calls are those of one thread of one of two processes, inside one kind of
    request: [thread], [process] and [root] rank above the arguments, which tell nothing
    (the same values in fast and slow calls), and `--by` chooses the groupings."""
    paths = []
    for pid, host in ((101, "web1"), (202, "web2")):
        tree = gt.Tree()
        for i in range(200):
            slow = pid == 202 and i % 2 == 1  # web2's thread 2 serving "report"
            root = "report" if i % 2 else "page"
            task = (gt.WEB_PREFIX + pid, i + 1)
            tree.action(1 + i % 2, task, [], root, i * gt.MS, 3 * gt.MS, {})
            dur = gt.MS + i * 10 * gt.US if slow else 100 * gt.US + i
            tree.action(1 + i % 2, task, [1], "db.query", i * gt.MS + 10, dur,
                        {"table": f"t{i % 3}"})
        path = tmp_path / f"{host}.zst"
        tw = gt.TraceWriter(path, pid, gt.WEB_PREFIX + pid, gt.WALL0, {1: "main", 2: "pool"},
                            host=host, argv=["/usr/bin/python3", "/srv/app.py", "--port=1"])
        tw.frame(tree.split(lambda e: True))
        tw.close()
        paths.append(path)
    got, _ = run_json(perfan, "inputs", "--json", "--type", "db.query", *paths)
    (t,) = got["types"]
    ctx = {c["name"]: c for c in t["context"]}
    top = {n: ctx[n]["groups"][0]["value"] for n in ("process", "host", "thread", "root")}
    assert top == {"process": "web2:202 python3 app.py", "host": "web2", "thread": "pool",
                   "root": "report"}
    assert ctx["process"]["groups"][0]["tail_share"] == 1
    assert ctx["parent"]["groups"][0]["value"] == "report" and ctx["outcome"]["score"] == 0
    table = next(a for a in t["arguments"] if a["name"] == "table")
    assert all(a["score"] < ctx["host"]["score"] for a in t["arguments"]), table
    text = run(perfan, "inputs", "--type", "db.query", *paths).stdout
    assert text.index("[host]") < text.index("table ")
    assert "in every call: [outcome] \"succeeded\"" in text
    only, _ = run_json(perfan, "inputs", "--json", "--by", "thread,args", "--type", "db.query",
                       *paths)
    assert [c["name"] for c in only["types"][0]["context"]] == ["thread"]
    assert only["types"][0]["arguments"]
    none, _ = run_json(perfan, "inputs", "--json", "--by", "context", "--type", "db.query",
                       *paths)
    assert not none["types"][0]["arguments"] and len(none["types"][0]["context"]) == 6
    bad = run(perfan, "inputs", "--by", "args,colour", "--type", "x", paths[0], check_exit=2)
    assert "'colour' is not one of" in bad.stderr


def test_inputs_keeps_late_slow_values(perfan, tmp_path):
    """More distinct strings than perfan keeps, the slow ones coming last (the spelling
    corrector's case: many fast words, then a few slow ones): the slow values are kept and
    ranked first, with exact counts; "(other)" holds the rest and is ranked last."""
    tree = gt.Tree()
    slow = {"qwertyuiopas": 40 * gt.MS, "zxcvbnmlkjhg": 30 * gt.MS}
    words = [f"w{i:03d}" for i in range(300)] + list(slow) * 3
    for i, w in enumerate(words):
        tree.action(1, (gt.WEB_PREFIX, i + 1), [], "correction", i * gt.MS,
                    slow.get(w, 10 * gt.US + i), {"word": w})
    path = tmp_path / "late.zst"
    tw = gt.TraceWriter(path, 1, gt.WEB_PREFIX, gt.WALL0, {1: "main"})
    tw.frame(tree.split(lambda e: True))
    tw.close()
    got, _ = run_json(perfan, "inputs", "--json", "--type", "correction", path)
    (t,) = got["types"]
    arg = next(a for a in t["arguments"] if a["name"] == "word" and a["grouping"] == "value")
    top = arg["groups"][:2]
    assert [g["value"] for g in top] == ["qwertyuiopas", "zxcvbnmlkjhg"]
    assert [g["count"] for g in top] == [3, 3] and not any(g["partial"] for g in top)
    assert sum(g["tail_share"] for g in top) > 0.99
    assert arg["groups"][-1]["kind"] == "other"
    assert arg["folded_calls"] == arg["groups"][-1]["count"] > 0
    assert arg["folded_values"] >= 300 - got["max_values"]
    text = run(perfan, "inputs", "--type", "correction", path).stdout
    assert text.index('"qwertyuiopas"') < text.index("(other)")


def test_inputs_group_cap(perfan, tmp_path):
    """A hostile trace: one call per float exponent (each its own bucket, each group a
    histogram) gets at most 512 groups per type; the rest are counted in "(other)"."""
    tree = gt.Tree()
    vals = [2.0 ** e for e in range(-300, 400)]  # 700 distinct buckets
    for i, v in enumerate(vals):
        tree.action(1, (gt.WEB_PREFIX, i + 1), [], "f", i * gt.MS, 1000 + i, {"x": v})
    path = tmp_path / "floats.zst"
    w = gt.TraceWriter(path, 1, gt.WEB_PREFIX, gt.WALL0, {1: "main"})
    w.frame(tree.split(lambda e: True))
    w.close()
    got, _ = run_json(perfan, "inputs", "--json", "--type", "f", path)
    (t,) = got["types"]
    (arg,) = t["arguments"]
    values = [g for g in arg["groups"] if g["kind"] != "other"]
    assert len(values) == 512 and arg["groups"][-1]["kind"] == "other"
    assert arg["capped_calls"] == arg["folded_calls"] == arg["groups"][-1]["count"] == 700 - 512
    assert sum(g["count"] for g in arg["groups"]) == arg["calls"] == 700
    text = run(perfan, "inputs", "--type", "f", path).stdout
    assert "(other): 188 calls with values past the 512 groups kept per type" in text


def test_inputs_tail_and_filters(perfan, real):
    acts = gt.select(gt.load([real])["actions"], type_glob="http.request", min_ns=1000000)
    got, _ = run_json(perfan, "inputs", "--json", "--type", "http.request", "--min", "1ms",
                      real)
    (t,) = got["types"]
    assert t["count"] == len(acts) and t["tail_calls"] > 0
    route = next(a for a in t["arguments"]
                 if a["name"] == "route" and a["grouping"] == "value")
    ref = _ref_inputs(acts, t["p95_ns"])[("route", "value")]
    assert {g["value"]: g["count"] for g in route["groups"]} == {
        lab: g["count"] for (_, lab), g in ref.items()}
    assert abs(sum(g["tail_share"] for g in route["groups"]) - 1) < 1e-9
    p = run(perfan, "inputs", real, check_exit=2)
    assert "--type is required" in p.stderr


# ---- tree ------------------------------------------------------------------------------------

def _ref_trees(paths):
    """{(prefix, seq): {level tuple: node}} from ref_reader's records of every file."""
    trees = {}
    for path in gt.expand(paths):
        try:
            for rec in ref_reader.read(str(path)):
                if rec["kind"] not in ("start", "end", "message"):
                    continue
                nodes = trees.setdefault((rec["task_prefix"], rec["task_seq"]), {})
                n = nodes.setdefault(tuple(rec["level"]), {"status": "missing"})
                if rec["kind"] == "end":
                    n.update(status="failed" if rec["outcome"] else "succeeded",
                             duration_ns=rec["duration_ns"], outputs=rec["fields"],
                             exc=(rec["exc_type"], rec["exc_msg"]) if rec["exc_type"]
                             is not None else None)
                else:
                    n.update(kind=rec["kind"], type=rec["type"], inputs=rec["fields"],
                             wall=rec["wall_ns"])
                    if rec["kind"] == "start" and n["status"] == "missing":
                        n["status"] = "unfinished"
        except ref_reader.TraceError:
            pass
    return trees


def _check_tree_node(got, nodes, level):
    exp = nodes[level]
    assert got["level"] == list(level)
    assert got["type"] == exp["type"]
    if exp["kind"] == "message":
        assert got["kind"] == "message" and got["ts_ns"] == exp["wall"]
        assert got["fields"] == {k: _value(v) for k, v in exp["inputs"].items()}
        return
    assert got["kind"] == "action" and got["status"] == exp["status"], level
    assert got["start_ns"] == exp["wall"]
    assert got["inputs"] == {k: _value(v) for k, v in exp["inputs"].items()}
    if exp["status"] == "unfinished":
        assert got["duration_ns"] is None and got["outputs"] == {}
    else:
        assert got["duration_ns"] == exp["duration_ns"]
        assert got["outputs"] == {k: _value(v) for k, v in exp["outputs"].items()}
        exc = got["exception"]
        assert ((exc["type"], exc["message"]) if exc else None) == exp["exc"]
    kids = sorted(lv for lv in nodes if len(lv) == len(level) + 1 and lv[:len(level)] == level)
    assert [c["level"][-1] for c in got["children"]] == [lv[-1] for lv in kids]
    for c, lv in zip(got["children"], kids):
        _check_tree_node(c, nodes, lv)


@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_tree_matches_reference(perfan, request, which):
    d = request.getfixturevalue(which)
    trees = _ref_trees([d])
    acts = gt.load([d])["actions"]
    got, _ = run_json(perfan, "tree", "--json", "--slowest", 4, d)
    exp_tasks = []
    for a in gt.slowest(acts, 4):
        if a["key"][:2] not in exp_tasks:
            exp_tasks.append(a["key"][:2])
    assert [t["task"] for t in got["tasks"]] == [f"{p:016x}-{s:x}" for p, s in exp_tasks]
    for t, key in zip(got["tasks"], exp_tasks):
        (root,) = t["roots"]
        _check_tree_node(root, trees[key], ())
    # Every task with a selected action, in order, and the tasks of actions still running
    # when the trace ended (found too: the tree of a hung request); the unfinished action
    # is shown as such.
    got, _ = run_json(perfan, "tree", "--json", d)
    running = {k for k, nodes in trees.items()
               if any(n["status"] == "unfinished" for n in nodes.values())}
    assert len(got["tasks"]) == len({a["key"][:2] for a in acts} | running)
    for t in got["tasks"]:
        p, s = (int(x, 16) for x in t["task"].split("-"))
        nodes = trees[(p, s)]
        if () in nodes:
            _check_tree_node(t["roots"][0], nodes, ())
    unfinished = [(k, lv) for k, nodes in trees.items() for lv, n in nodes.items()
                  if n["status"] == "unfinished"]
    assert len(unfinished) == 1
    (key, lv) = unfinished[0]
    got, _ = run_json(perfan, "tree", "--json", "--task", f"{key[0]:016x}-{key[1]:x}", d)
    (t,) = got["tasks"]
    _check_tree_node(t["roots"][0], trees[key], ())
    assert "unfinished" in run(perfan, "tree", "--task", f"{key[0]:016x}-{key[1]:x}", d).stdout


def test_tree_depth_and_children_limits(perfan, tmp_path):
    """--children K keeps the K longest children in child order and sums up the rest by
    type; --depth N counts what is deeper. Expected lines written from the tree below."""
    tree = gt.Tree()
    task = (gt.WEB_PREFIX, 1)
    durs = [5, 50, 7, 90, 3, 60, 1, 2]  # µs; the 3 longest: 90 (4th), 60 (6th), 50 (2nd)
    t = 0
    for i, d in enumerate(durs):
        tree.action(1, task, [1, i + 1], "step" if i % 2 else "probe", 10 + t, d * gt.US)
        tree.action(1, task, [1, i + 1, 1], "leaf", 11 + t, 1)
        t += d * gt.US + 100
    tree.action(1, task, [1], "loop", 5, t + 20)
    tree.action(1, task, [], "root", 0, t + 40)
    path = tmp_path / "loop.zst"
    w = gt.TraceWriter(path, 1, gt.WEB_PREFIX, gt.WALL0, {1: "main"})
    w.frame(tree.split(lambda e: True))
    w.close()
    out = run(perfan, "tree", "--children", "3", path).stdout
    shown = re.findall(r"(probe|step)/1/(\d+) ", out)
    assert shown == [("step", "2"), ("step", "4"), ("step", "6")]
    probes = [d for i, d in enumerate(durs) if i % 2 == 0]   # all hidden
    steps = [d for i, d in enumerate(durs) if i % 2 and i + 1 not in (2, 4, 6)]
    assert (f"\u2026 {len(probes) + len(steps)} more: {len(probes)} \u00d7 probe "
            f"({sum(probes)}.0\u00b5s), {len(steps)} \u00d7 step ({sum(steps)}.00\u00b5s)"
            in out), out
    assert "(--children)" in out
    # The hidden types are named most frequent first, not in order of appearance.
    t2 = gt.Tree()
    for i, (typ, d) in enumerate([("probe", 1), ("step", 2), ("step", 3), ("step", 4),
                                  ("big", 100)]):
        t2.action(1, task, [1, i + 1], typ, 10 + i * 200 * gt.US, d * gt.US)
    t2.action(1, task, [1], "loop", 5, 1100 * gt.US)
    path2 = tmp_path / "freq.zst"
    w = gt.TraceWriter(path2, 1, gt.WEB_PREFIX, gt.WALL0, {1: "main"})
    w.frame(t2.split(lambda e: True))
    w.close()
    out2 = run(perfan, "tree", "--children", "1", path2).stdout
    assert "\u2026 4 more: 3 \u00d7 step (9.00\u00b5s), 1 \u00d7 probe (1.00\u00b5s)" in out2, out2
    out = run(perfan, "tree", "--depth", "1", path).stdout
    assert "loop/1 " in out and "probe" not in out and "step" not in out
    assert f"\u2026 {2 * len(durs)} descendants (--depth)" in out, out
    full = run(perfan, "tree", "--json", "--depth", "1", "--children", "1", path).stdout
    assert full == run(perfan, "tree", "--json", path).stdout  # JSON is never cut
    for bad in (["--depth", "0"], ["--children", "x"], ["--depth", "-1"]):
        run(perfan, "tree", *bad, path, check_exit=2)


def test_tree_across_processes(perfan, real):
    """A task continued in other processes is one tree; a subtree can be asked for."""
    trees = _ref_trees([real])
    call = next(a for a in gt.load([real])["actions"] if a["type"] == "rpc.call")
    prefix, seq, level = call["key"]
    task = f"{prefix:016x}-{seq:x}"
    got, _ = run_json(perfan, "tree", "--json", "--task", task, real)
    (t,) = got["tasks"]
    _check_tree_node(t["roots"][0], trees[(prefix, seq)], ())
    pids = set()

    def walk(n):
        pids.add(n.get("pid"))
        for c in n.get("children", []):
            walk(c)
    walk(t["roots"][0])
    assert len(pids) >= 2
    serve = next(a for a in gt.load([real])["actions"]
                 if a["type"] == "rpc.serve" and a["key"][:2] == (prefix, seq))
    level = serve["key"][2]
    assert level
    sub = task + "@" + "".join(f"/{x}" for x in level)
    got, _ = run_json(perfan, "tree", "--json", "--task", sub, real)
    (t,) = got["tasks"]
    assert t["task"] == sub
    _check_tree_node(t["roots"][0], trees[(prefix, seq)], tuple(level))


# ---- export ----------------------------------------------------------------------------------

def _records(paths, kinds=("start", "end", "message")):
    out = []
    for path in gt.expand(paths):
        try:
            for rec in ref_reader.read(str(path)):
                if rec["kind"] in kinds:
                    rec["file"] = str(path)
                    out.append(rec)
        except ref_reader.TraceError:
            pass
    return out


def _meta_lines(paths):
    """The thread and dropped lines jsonl must write, per file in file order, from the
    reference decoding: THREAD with ts_ns and wall_ns 0 (it has no time; liblog reports
    0), DROPPED with the tid of the last THREAD record of its thread (0 before any)."""
    out = []
    for path in gt.expand(paths):
        try:
            pid = ref_reader.Reader(str(path)).header["pid"]
        except (ref_reader.TraceError, OSError):
            continue
        tids = {}
        for r in _records([path], ("thread", "dropped")):
            line = {"kind": r["kind"], "ts_ns": r["ts_ns"] or 0, "wall_ns": r["wall_ns"] or 0,
                    "thread": r["thread"]}
            if r["kind"] == "thread":
                tids[r["thread"]] = r["tid"]
                line.update(tid=r["tid"], name=r["name"])
            else:
                line.update(tid=tids.get(r["thread"], 0), reason=r["name"], count=r["count"])
            line.update(file=str(path), pid=pid)
            out.append(line)
    return out


def _split_meta(lines):
    """jsonl lines: (start/end/message lines, thread/dropped lines per file in order)."""
    events = [g for g in lines if g["kind"] in ("start", "end", "message")]
    meta = [g for g in lines if g["kind"] in ("thread", "dropped")]
    assert len(events) + len(meta) == len(lines)
    return events, sorted(meta, key=lambda g: g["file"])  # stable: file order kept


@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_export_chrome(perfan, request, which, tmp_path):
    d = request.getfixturevalue(which)
    acts = gt.load([d])["actions"]
    out = tmp_path / "trace.json"
    run(perfan, "export", "--format", "chrome", "-o", out, d)
    assert out.stat().st_mode & 0o777 == 0o600  # it holds the inputs, as traces do
    with open(out) as f:
        doc = json.load(f)
    origin = doc["otherData"]["origin_unix_ns"]
    evs = doc["traceEvents"]
    xs = [e for e in evs if e["ph"] == "X"]
    assert len(xs) == len(acts)
    by_task = {a["task"]: a for a in acts}
    for e in xs:
        a = by_task[e["args"]["task"]]
        assert e["name"] == a["type"]
        assert round(e["dur"] * 1000) == a["duration_ns"]
        assert round(e["ts"] * 1000) + origin == a["start_ns"] and e["ts"] >= 0
        assert e["pid"] == a["pid"]
        assert e["args"]["inputs"] == {k: _value(v) for k, v in a["inputs"].items()}
        assert e["args"]["outcome"] == ("failed" if a["failed"] else "succeeded")
    # Nesting: a child on its parent's thread lies within the parent's interval, on the
    # file's own (monotonic) time line. Not on the wall clock the export shows: each frame
    # re-anchors it (a CLOCK checkpoint), so a child and its parent in two frames differ
    # by the drift between the two checkpoints (a few ns here, but CI once saw ~480 µs
    # after a starved flusher); each event's wall time is checked exactly above.
    xby = {e["args"]["task"]: e for e in xs}
    aby = {a["task"]: a for a in acts}
    nested = 0
    for a in acts:
        prefix, seq, level = a["key"]
        if not level:
            continue
        ptask = ref_reader.task_string(prefix, seq, level[:-1])
        parent, e, pa = xby.get(ptask), xby[a["task"]], aby.get(ptask)
        if parent and (parent["pid"], parent["tid"]) == (e["pid"], e["tid"]):
            assert pa["file"] == a["file"]
            assert pa["start_ts"] <= a["start_ts"]
            assert a["start_ts"] + a["duration_ns"] <= pa["start_ts"] + pa["duration_ns"]
            nested += 1
    assert nested > 0
    msgs = [r for r in _records([d]) if r["kind"] == "message"]
    assert len([e for e in evs if e["ph"] == "i"]) == len(msgs)
    unfinished = [e for e in evs if e["ph"] == "B"]
    assert len(unfinished) == gt.load([d])["unfinished"]
    assert all(e["args"]["outcome"] == "unfinished" for e in unfinished)
    meta = [e for e in evs if e["ph"] == "M"]
    assert {e["pid"] for e in meta if e["name"] == "process_name"} == {a["pid"] for a in acts}
    assert {(e["pid"], e["tid"]) for e in meta if e["name"] == "thread_name"} == {
        (e["pid"], e["tid"]) for e in evs if e["ph"] in ("X", "i", "B")}


def _jsonl_key(r):
    return (r["kind"], r["ts_ns"], r["wall_ns"], r["thread"], r["task"],
            json.dumps(r["fields"], sort_keys=True), r.get("outcome"), r.get("duration_ns"),
            r.get("exc_type"), r.get("exc_msg"), pathlib.Path(r["file"]).name)


@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_export_jsonl(perfan, request, which):
    d = request.getfixturevalue(which)
    p = run(perfan, "export", "--format", "jsonl", d)
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    got, meta = _split_meta(lines)
    exp_meta = sorted(_meta_lines([d]), key=lambda g: g["file"])
    assert meta == exp_meta and any(g["kind"] == "thread" for g in meta)
    exp = []
    types = {}
    for r in _records([d]):
        key = (r["task_prefix"], r["task_seq"], tuple(r["level"]))
        if r["kind"] == "start":
            types[key] = r["type"]
        exp.append({"kind": r["kind"], "ts_ns": r["ts_ns"], "wall_ns": r["wall_ns"],
                    "thread": r["thread"], "task": ref_reader.task_string(*key),
                    "fields": {k: _value(v) for k, v in r["fields"].items()},
                    "outcome": None if r["outcome"] is None else
                    ("failed" if r["outcome"] else "succeeded"),
                    "duration_ns": r["duration_ns"], "exc_type": r["exc_type"],
                    "exc_msg": r["exc_msg"], "file": r["file"], "type": r["type"],
                    "key": key})
    for e in exp:
        if e["kind"] == "end":
            e["type"] = types[e["key"]]
        if e["kind"] != "end":
            del e["outcome"], e["duration_ns"], e["exc_type"], e["exc_msg"]
    assert sorted(map(_jsonl_key, got)) == sorted(map(_jsonl_key, exp))
    assert sorted((g["task"], g["kind"], g["type"]) for g in got) == sorted(
        (e["task"], e["kind"], e["type"]) for e in exp)
    walls = [g["wall_ns"] for g in lines if g["kind"] != "thread"]  # a THREAD has no time
    assert all(b >= a - 10**6 for a, b in zip(walls, walls[1:]))  # time order (per frame)
    # Filters: the records of one type; END records only for --failed. THREAD and DROPPED
    # lines describe the input: written whatever the filters.
    p = run(perfan, "export", "-f", "jsonl", "--type", "db.query", d)
    got, meta = _split_meta([json.loads(line) for line in p.stdout.splitlines()])
    assert meta == exp_meta
    assert sorted(map(_jsonl_key, got)) == sorted(
        _jsonl_key(e) for e in exp if e["type"] == "db.query" and e["kind"] != "message")
    p = run(perfan, "export", "-f", "jsonl", "--failed", "--type", "db.query", d)
    ends = [json.loads(line) for line in p.stdout.splitlines() if '"kind":"end"' in line]
    assert len(ends) == sum(1 for e in exp if e["kind"] == "end" and e["type"] == "db.query"
                            and e["outcome"] == "failed")


def write_meta_trace(path):
    """Frame A: actions of threads 1 and 2 (THREAD records main, worker); frame B: events
    lost, 3 of thread 1 at 150 ms and 2 of thread 2 at 160 ms; frame C: thread 2 renamed;
    frame D (from 200 ms): task 3 crashes, /, /2 and /2/1 left open, /1 finished. Returns
    the time frame D starts (ns from the wall-clock origin)."""
    P, MS, US = gt.WEB_PREFIX, gt.MS, gt.US
    early, late = gt.Tree(), gt.Tree()
    early.action(1, (P, 1), [], "req", 10 * US, 40 * MS, {"i": 1})
    early.action(1, (P, 1), [1], "step", 20 * US, 30 * MS, {"k": 0})
    early.action(2, (P, 2), [], "job", 5 * US, 50 * MS)
    d_start = 200 * MS
    late.action(2, (P, 4), [], "job", d_start, 10 * MS)
    late.action(1, (P, 3), [1], "crash.done", d_start + 2 * MS, 1 * MS)
    late.events += [("start", 1, d_start + MS, "crash.root", (P, 3), (), {"r": 1}),
                    ("start", 1, d_start + 4 * MS, "crash.child", (P, 3), (2,), {}),
                    ("start", 1, d_start + 5 * MS, "crash.leaf", (P, 3), (2, 1), {"k": 1})]
    w = gt.TraceWriter(path, 77, P, gt.WALL0, {1: "main", 2: "worker"})
    w.frame(early.split(lambda e: True))

    def raw(*recs):
        data = msgpack.packb([gt.K_CLOCK, 0, gt.WALL0]) + b"".join(map(msgpack.packb, recs))
        w.frames.append(zstandard.ZstdCompressor(write_checksum=True).compress(data))
    raw([gt.K_CHUNK, 1, 150 * MS], [5, 3, "full"], [gt.K_CHUNK, 2, 160 * MS],
        [5, 2, "oversize"])
    raw([gt.K_THREAD, 2, 20002, "worker-2"])
    w.frame(late.split(lambda e: True))
    w.close()
    return d_start


def test_export_jsonl_threads_and_drops(perfan, tmp_path):
    """Every THREAD and DROPPED record is a line, with perflog.read()'s keys, at its place
    in the stream: a THREAD before the events of its frame, a DROPPED at its time."""
    path = tmp_path / "meta.zst"
    d_start = write_meta_trace(path)
    lines = [json.loads(x) for x in run(perfan, "export", "-f", "jsonl", path).stdout.splitlines()]
    events, meta = _split_meta(lines)
    assert meta == _meta_lines([path])
    assert [(g["kind"], g.get("name") or g.get("reason")) for g in meta] == [
        ("thread", "main"), ("thread", "worker"), ("dropped", "full"), ("dropped", "oversize"),
        ("thread", "worker-2")]
    assert [g["kind"] for g in lines[:2]] == ["thread", "thread"]  # before any event
    timed = [g["wall_ns"] for g in lines if g["kind"] != "thread"]
    assert timed == sorted(timed)
    rename = lines.index(meta[-1])
    assert all(g["wall_ns"] - gt.WALL0 < d_start for g in lines[2:rename])
    assert all(g["wall_ns"] - gt.WALL0 >= d_start for g in lines[rename + 1:])
    assert sum(g["count"] for g in meta if g["kind"] == "dropped") == 5
    # Whatever the filters.
    out = run(perfan, "export", "-f", "jsonl", "--type", "crash.*", "--failed", path).stdout
    assert _split_meta([json.loads(x) for x in out.splitlines()])[1] == meta


def test_export_chrome_unfinished_levels(perfan, tmp_path):
    """Unfinished actions ("B") name their task with its level, as complete events do, so
    that --task ID@/LEVEL selects them too."""
    path = tmp_path / "meta.zst"
    write_meta_trace(path)
    recs = _records([path])
    key = lambda r: (r["task_prefix"], r["task_seq"], tuple(r["level"]))  # noqa: E731
    ended = {key(r) for r in recs if r["kind"] == "end"}
    open_ = {ref_reader.task_string(*key(r)): r for r in recs
             if r["kind"] == "start" and key(r) not in ended}
    assert len(open_) == 3

    def export(*args):
        doc = json.loads(run(perfan, "export", "-f", "chrome", *args, path).stdout)
        return doc, {e["args"]["task"]: e for e in doc["traceEvents"] if e["ph"] == "B"}
    doc, begins = export()
    assert set(begins) == set(open_)
    origin = doc["otherData"]["origin_unix_ns"]
    for task, e in begins.items():
        r = open_[task]
        assert e["name"] == r["type"] and round(e["ts"] * 1000) + origin == r["wall_ns"]
        assert e["args"]["inputs"] == r["fields"] and e["args"]["outcome"] == "unfinished"
        assert e["cat"] == "action,unfinished"
    sub = f"{gt.WEB_PREFIX:016x}-3@/2"
    _, begins = export("--task", sub)
    assert set(begins) == {t for t in open_ if t == sub or t.startswith(sub + "/")} == {
        sub, sub + "/1"}


# ---- diff ----------------------------------------------------------------------------------

DIFF_Q = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def expected_diff(base_acts, new_acts, min_count):
    """Per type: the verdicts the reference decoding decides alone (new, gone, too few
    calls; None for a type perfan tests), and the quantiles of both sides (exact)."""
    sides = [gt.type_stats(base_acts), gt.type_stats(new_acts)]
    out = {}
    for typ in set(sides[0]) | set(sides[1]):
        b, n = sides[0].get(typ), sides[1].get(typ)
        if b is None or n is None:
            out[typ] = ("new" if b is None else "gone", b, n)
        elif b["count"] < min_count or n["count"] < min_count:
            out[typ] = ("too few calls", b, n)
        else:
            out[typ] = (None, b, n)
    return out


@pytest.mark.parametrize("base,new,args,threshold,min_count", [
    ("fixtures/web.zst", "fixtures/new", [], 0.10, 10),
    ("fixtures/web.zst", "fixtures/new/web.zst", ["--threshold", "60%"], 0.60, 10),
    ("fixtures", "real", ["--threshold", "5", "--min-count", "3"], 0.05, 3),
    ("real", "fixtures", ["--min-count", "1"], 0.10, 1),
])
def test_diff_matches_reference(perfan, request, base, new, args, threshold, min_count):
    def path(spec):
        root, _, rest = spec.partition("/")
        d = request.getfixturevalue(root)
        return d / rest if rest else d
    bp, np_ = path(base), path(new)
    exp = expected_diff(gt.load([bp])["actions"], gt.load([np_])["actions"], min_count)
    got, p = run_json(perfan, "diff", "--json", *args, bp, np_, check_exit=None)
    assert got["threshold_percent"] == pytest.approx(threshold * 100)
    assert got["min_count"] == min_count and got["percentile"] == "p50"
    types = {t["type"]: t for t in got["types"]}
    assert set(types) == set(exp)
    compared = [typ for typ, (v, _, _) in exp.items() if v is None]
    assert got["types_compared"] == len(compared)
    assert got["alpha_corrected"] == pytest.approx(0.01 / max(1, len(compared)))
    for typ, (verdict, b, n) in exp.items():
        t = types[typ]
        if verdict is not None:
            assert t["verdict"] == verdict, (typ, t)
            assert t["p_value"] is None and t["change"] is None
        else:
            # A verdict follows from the change and the p-value as documented.
            sig = t["p_value"] < got["alpha_corrected"]
            want = ("regressed" if sig and t["change"] > threshold else
                    "improved" if sig and t["change"] < -threshold else
                    "no significant change")
            assert t["verdict"] == want, (typ, t)
            assert t["change"] == pytest.approx(t["p50_change"])
            assert t["ci_low"] <= t["ci_high"] and 0 <= t["p_value"] <= 1
        for side, e in (("base", b), ("new", n)):
            if e is None:
                assert t[side] is None
                continue
            assert t[side]["count"] == e["count"]
            assert t[side]["failures"] == e["failures"]
            for q in DIFF_Q:
                assert abs(t[side][f"{q}_ns"] - e[f"{q}_ns"]) <= e[f"{q}_ns"] * REL_ERROR
        for q in DIFF_Q:
            if b is None or n is None or b[f"{q}_ns"] == 0:
                assert t[f"{q}_change"] is None
            else:
                exact = (n[f"{q}_ns"] - b[f"{q}_ns"]) / b[f"{q}_ns"]
                # both quantiles within 1/256: the ratio within about 2/256
                assert abs(t[f"{q}_change"] - exact) <= 2.1 * REL_ERROR * (1 + abs(exact))
    nreg = sum(1 for t in got["types"] if t["verdict"] == "regressed")
    assert got["regressions"] == nreg
    assert p.returncode == (1 if nreg else 0)


def exact_trace(path, durations, typ="t"):
    """A trace of one action type with exactly these durations (gen_traces' writer: no
    busy wait, so no preemption in them)."""
    prefix = 0x5555666677778888
    w = gt.TraceWriter(str(path), pid=4100, prefix=prefix, wall0=gt.WALL0, threads={1: "main"})
    events, ts = [], 1000
    for seq, d in enumerate(durations, 1):
        events.append(("start", 1, ts, typ, (prefix, seq), [], None))
        events.append(("end", 1, ts + d, (prefix, seq), [], False, d, None, None, None))
        ts += d + 1000
    w.frame(events)
    w.close()


@pytest.mark.parametrize("slow,quantile", [(15, "p95"), (8, "p99")])
def test_diff_sees_a_regression_in_the_tail_alone(perfan, tmp_path, slow, quantile):
    # p50 is unchanged and only the tail grew: 200 calls of 200 µs, then the same with a
    # few of 60 ms. Judged on the tail's percentile it regressed; on p50 it did not.
    # Exact durations: busy-waited ones carry the machine's preemptions, which made the
    # base's own p99 an outlier under load (CI saw p = 0.015 once).
    base, new = tmp_path / "base.zst", tmp_path / "new.zst"
    exact_trace(base, [200 * gt.US + i % 7 * 100 for i in range(200)])
    exact_trace(new, [200 * gt.US + i % 7 * 100 for i in range(200 - slow)]
                + [60 * gt.MS] * slow)
    got, p = run_json(perfan, "diff", "--json", "--percentile", quantile, base, new,
                      check_exit=1)
    (t,) = got["types"]
    assert t["verdict"] == "regressed", t
    assert abs(t["p50_change"]) < 0.10 and t["change"] > 1.0, t
    got, p = run_json(perfan, "diff", "--json", base, new, check_exit=0)
    assert got["types"][0]["verdict"] == "no significant change"
    run(perfan, "diff", "--percentile", quantile, base, base, check_exit=0)


def test_diff_min_change_ignores_tiny_absolute_changes(perfan, tmp_path):
    # What CI saw in the pytest plugin's test: a sub-microsecond function's p50 went from
    # ~300 ns to ~1 µs between two unchanged runs of a loaded machine: +255 %, significant.
    # --min-change 1us says such a change does not count; 600 ns does.
    base, new = tmp_path / "base.zst", tmp_path / "new.zst"
    exact_trace(base, [300 + i % 5 * 10 for i in range(40)])
    exact_trace(new, [1060 + i % 5 * 10 for i in range(40)])
    got, _ = run_json(perfan, "diff", "--json", base, new, check_exit=1)
    assert got["types"][0]["verdict"] == "regressed" and got["min_change_ns"] == 0
    got, _ = run_json(perfan, "diff", "--json", "--min-change", "1us", base, new, check_exit=0)
    assert got["types"][0]["verdict"] == "no significant change"
    assert got["min_change_ns"] == 1000 and got["types"][0]["change"] > 2
    run(perfan, "diff", "--min-change", "600ns", base, new, check_exit=1)
    p = run(perfan, "diff", "--min-change", "fast", base, new, check_exit=2)
    assert "--min-change: 'fast' is not a duration" in p.stderr


def test_diff_same_input_never_regresses(perfan, real):
    got, p = run_json(perfan, "diff", "--json", "--threshold", "0", real, real)
    assert p.returncode == 0 and got["regressions"] == 0
    assert all(t["verdict"] in ("no significant change", "too few calls")
               for t in got["types"])
    assert all(t["p99_change"] == 0 for t in got["types"])


# ---- diff's error rates on seeded synthetic traces ------------------------------------------

SYN_TYPES = ("checkout", "search", "login")


def synthetic(path, seed, sigma, slow_type=None, slowdown=1.0, calls=500):
    """A trace of three types, `calls` each, durations lognormal (median 1 ms, sigma), the
    one named slow_type multiplied by slowdown; exact durations (gen_traces' writer)."""
    import random
    rng = random.Random(seed)
    prefix = 0x1111222233334444
    w = gt.TraceWriter(str(path), pid=4000, prefix=prefix, wall0=gt.WALL0,
                       threads={1: "main"})
    events, ts, seq = [], 1000, 0
    for typ in SYN_TYPES:
        mult = slowdown if typ == slow_type else 1.0
        for _ in range(calls):
            d = max(1, int(gt.MS * mult * rng.lognormvariate(0, sigma)))
            seq += 1
            events.append(("start", 1, ts, typ, (prefix, seq), [], None))
            events.append(("end", 1, ts + d, (prefix, seq), [], False, d, None, None, None))
            ts += d + 1000
    w.frame(events)
    w.close()


def diff_rates(perfan, tmp_path, sigma, slowdown, seeds=100):
    """Over seeded pairs: how often diff exits 0, and how often it exits 1 naming exactly
    the slowed type."""
    passed = detected = 0
    for seed in range(seeds):
        a, b = tmp_path / f"a{seed}.zst", tmp_path / f"b{seed}.zst"
        synthetic(a, 2 * seed, sigma)
        synthetic(b, 2 * seed + 1, sigma, "search", slowdown)
        got, p = run_json(perfan, "diff", "--json", a, b, check_exit=None)
        regressed = sorted(t["type"] for t in got["types"] if t["verdict"] == "regressed")
        passed += p.returncode == 0
        detected += p.returncode == 1 and regressed == ["search"]
        a.unlink()
        b.unlink()
    return passed, detected


def test_diff_rarely_fires_on_noise_and_sees_a_15_percent_slowdown(perfan, tmp_path):
    # The gates issue: two samples of one distribution (lognormal, sigma 0.25, three
    # types, 500 calls each) pass in at least 95 of 100 seeded pairs; one type 15 %
    # slower is found, alone, in at least 95 of 100. The rates are printed for the docs.
    same, _ = diff_rates(perfan, tmp_path, 0.25, 1.0)
    _, found = diff_rates(perfan, tmp_path, 0.25, 1.15)
    _, found_wide = diff_rates(perfan, tmp_path, 0.5, 1.15)
    print(f"sigma 0.25: {same}/100 same-distribution pairs pass; 15 % slowdown found in "
          f"{found}/100; sigma 0.5: found in {found_wide}/100")
    assert same >= 95
    assert found >= 95


# ---- timeline ------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_timeline_matches_reference(perfan, request, which):
    d = request.getfixturevalue(which)
    load = gt.load([d])
    acts = load["actions"]
    messages = [r for p in gt.expand([d]) if str(p) not in load["errors"]
                for r in ref_reader.read(str(p)) if r["kind"] == "message"]
    got, _ = run_json(perfan, "timeline", "--json", "-n", "0", d)
    evs = got["events"]
    kinds = [e["kind"] for e in evs]
    assert kinds.count("end") == len(acts)
    assert kinds.count("start") == len(acts) + load["unfinished"]
    assert kinds.count("message") == len(messages)
    assert got["truncated"] is False and got["omitted"] == 0 and got["lines"] == len(evs)
    ends = sorted((e["task"], e["type"], e["duration_ns"], e["outcome"] == "failed")
                  for e in evs if e["kind"] == "end")
    assert ends == sorted((a["task"], a["type"], a["duration_ns"], a["failed"]) for a in acts)
    starts = sorted((e["task"], e["wall_ns"]) for e in evs if e["kind"] == "start")
    exp_starts = {(a["task"], a["start_ns"]) for a in acts}
    assert exp_starts <= set(starts)
    if which == "fixtures":  # exact order: the fixtures' frames do not overlap
        walls = [e["wall_ns"] for e in evs]
        assert walls == sorted(walls)
    # -n: the first N lines, and how many were left out
    cut, _ = run_json(perfan, "timeline", "--json", "-n", "7", d)
    assert cut["events"] == evs[:7]
    assert cut["truncated"] is True and cut["omitted"] == len(evs) - 7


def test_timeline_limit_across_batches(perfan, gen_trace, tmp_path):
    # Once its -n lines are written timeline reads on without fields, only counting
    # (pf_input_drop_fields()): the lines written keep their inputs, outputs and
    # exceptions, the count is that of every line, in both decoding modes. 300,000
    # events in five frames, so that batches are filled after the switch (mutation
    # tried: dropping the fields after the first line fails it).
    path = tmp_path / "bulk.zst"
    subprocess.run([gen_trace, "--bulk", "50000", path], check=True)
    for jobs in ([], ["--jobs", "0"]):
        full = run(perfan, *jobs, "timeline", "-n", "0", path).stdout.splitlines()
        assert len(full) == 300000
        assert sum('path="/bulk"' in line for line in full) == 50000
        for k in (1, 700, 250000):
            cut = run(perfan, *jobs, "timeline", "-n", k, path).stdout.splitlines()
            assert cut[:k] == full[:k]
            assert len(cut) == k + 1 and f": {len(full) - k} more left out" in cut[k]
        last = json.loads(run(perfan, *jobs, "timeline", "--json", "-n", 250000,
                              path).stdout)
        assert last["omitted"] == 50000 and last["events"][-1]["kind"] in ("start", "end")


def test_timeline_thread_column_lines_up(perfan, tmp_path):
    """Long thread names are cut in the middle to a fixed column, so the nesting lines up
    and threads with a long common prefix stay apart."""
    names = {1: "ThreadPoolExecutor-0_1", 2: "ThreadPoolExecutor-0_12", 3: "main",
             4: "données-traitées-longuement", 5: "evil\x1b[2Jname",
             6: "é" * 100 + "-end"}  # 204 bytes: under perfan's 256-byte name limit
    tree = gt.Tree()
    for t in names:
        task = (gt.WEB_PREFIX, t)
        tree.action(t, task, [], "job", t * gt.MS, gt.MS)
        tree.action(t, task, [1], "step", t * gt.MS + gt.US, 10 * gt.US)
    w = gt.TraceWriter(tmp_path / "t.zst", 77, gt.WEB_PREFIX, gt.WALL0, names)
    w.frame(tree.split(lambda e: True))
    w.close()
    lines = run(perfan, "timeline", tmp_path / "t.zst").stdout.splitlines()[:4 * len(names)]

    def column(name):  # the rule, independently: 20 columns, 13 + "…" + 6 when longer
        label = "77/" + name.replace("\x1b", "\\x1b")
        return label.ljust(20) if len(label) <= 20 else label[:13] + "\u2026" + label[-6:]

    expected = {column(n) for n in names.values()}
    assert len(expected) == len(names)
    seen = set()
    for line in lines:
        wall, rest = line[:26], line[26:]
        assert re.fullmatch(r"2025-01-02 03:04:05\.\d{6}", wall), line
        assert rest[:2] == "  " and rest[22:24] == "  ", line
        seen.add(rest[2:22])
        depth = 2 if "step" in rest else 0  # the indentation starts at the same column
        assert rest[24:24 + depth] == " " * depth and rest[24 + depth] in "se", line
    assert seen == expected


def test_timeline_failed_shows_failed_ends_only(perfan, real):
    acts = gt.load([real])["actions"]
    got, _ = run_json(perfan, "timeline", "--json", "-n", "0", "--failed", real)
    assert [e["kind"] for e in got["events"]] == ["end"] * sum(a["failed"] for a in acts)
    assert all(e["outcome"] == "failed" for e in got["events"])


# ---- the manual page -----------------------------------------------------------------------

MAN_PAGE = HERE.parent.parent / "docs" / "perfan.1"


def test_man_page_renders_without_warnings():
    groff = shutil.which("groff")
    if not groff:
        pytest.skip("groff is not installed")
    p = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-rCHECKSTYLE=3", "-z",
                        str(MAN_PAGE)], capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C.UTF-8"))
    assert p.returncode == 0 and p.stderr == "", p.stderr


def test_man_page_covers_every_subcommand_and_option(perfan):
    """Every subcommand of `perfan --help` and every long option of its --help is in
    the page (a check against forgetting the page, not against perfan's numbers)."""
    text = MAN_PAGE.read_text().replace("\\-", "-")
    helptext = run(perfan, "--help").stdout
    cmds = re.findall(r"^  ([a-z]+) {2,}", helptext.split("Subcommands:")[1].split("\n\n")[0],
                      re.M)
    assert len(cmds) >= 8
    for opt in re.findall(r"--[a-z][a-z0-9-]*", helptext):
        assert opt in text, opt
    for cmd in cmds:
        assert re.search(rf"^\.BR {cmd}\b", text, re.M), cmd
        cmd_help = run(perfan, cmd, "--help").stdout
        for opt in set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", cmd_help)):
            assert opt in text, (cmd, opt)


# ---- format versions 1 and 2 --------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["stats", "--json"], ["tree"], ["slowest", "--json", "-n", "50"], ["timeline"],
    ["inputs", "--type", "db.*", "--json"], ["inflight", "--json"],
    ["sla", "--p99", "100ms", "--json"],
    ["export", "--format", "jsonl"]])
def test_versions_1_and_2_read_alike(perfan, tmp_path, monkeypatch, args):
    """The golden fixtures written as format 1 (an event per record) and as format 2 (a
    BLOCK of columns per thread and frame, format.md 2.9): perfan sees the same trace."""
    out = {}
    for version in (1, 2):
        d = tmp_path / f"v{version}"
        monkeypatch.setattr(gt, "VERSION", version)
        gt.fixtures(d)
        p = subprocess.run([perfan, *args, d / "web.zst", d / "svc.zst"],
                           capture_output=True, text=True, env=dict(os.environ, TZ="UTC"))
        out[version] = (p.returncode, p.stdout.replace(str(d), "D"),
                        p.stderr.replace(str(d), "D"))
        with ref_reader.Reader(d / "web.zst") as r:
            assert r.version == version
    assert out[1] == out[2]
    assert out[2][0] == 0 and out[2][1], out[2]


def test_unfinished_tasks_are_listed_by_start(perfan, tmp_path):
    """Actions still running at the end (a crash: STARTs without ENDs) come out in order of
    start, as docs/perfan.md says for `tree`, whatever the pairing table's order: 40
    tasks whose sequence numbers are scrambled against their start times."""
    path = tmp_path / "crashed.zst"
    w = gt.TraceWriter(path, pid=77, prefix=gt.WEB_PREFIX, wall0=gt.WALL0, threads={1: "main"})
    seqs = [(i * 17) % 40 + 1 for i in range(40)]  # a permutation of 1..40
    w.frame([("start", 1, 1000 + i * gt.MS, "job", (gt.WEB_PREFIX, s), (), {"n": i})
             for i, s in enumerate(seqs)])
    w.close()
    out = run(perfan, "tree", path).stdout
    listed = [int(m, 16) for m in re.findall(r"^0123456789abcdef-([0-9a-f]+)$", out, re.M)]
    assert listed == seqs
    # tree --json and inflight agree (inflight ranks by how long they had run: the
    # earliest start first, as they all ran until the same last sign of life).
    tasks = json.loads(run(perfan, "tree", "--json", path).stdout)["tasks"]
    assert [t["task"] for t in tasks] == [f"0123456789abcdef-{s:x}" for s in seqs]
    calls = json.loads(run(perfan, "inflight", "-n", "40", "--json", path).stdout)["calls"]
    assert [c["task"] for c in calls] == [f"0123456789abcdef-{s:x}@/" for s in seqs]
