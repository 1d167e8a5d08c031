# SPDX-License-Identifier: MIT
"""test_report.py - `perfan report`: the page's data checked against expectations computed
independently of perfan, and the page drawn in a real headless browser.

Traces: a fixture written here with gen_traces.TraceWriter (exact durations, hostile
strings in types, inputs, exception text and the file name, dropped events), the traces
recorded by gen_trace (C writer) and a bulk trace of gen_trace for sampling. Expected
numbers come from how the fixture was built and from tests/reference/ref_reader.py
(gen_traces.load), never from perfan's own output.

The browser part runs Debian's /usr/bin/chromium (scripts/deps.sh installs it) with
--dump-dom and --screenshot; it is skipped, saying so, only when chromium is absent.

Run: PERFAN=build/analyzer/perfan GEN_TRACE=build/tests/gen_trace \\
     /usr/bin/python3 -m pytest -q tests/cli/test_report.py
"""

import html.parser
import json
import os
import pathlib
import re
import stat
import struct
import subprocess
import sys

import msgpack
import pytest
import zstandard

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_traces as gt  # noqa: E402
from conftest import run  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
MS, US = gt.MS, gt.US

# Hostile strings: any of them reaching the page as markup would show (an element, an
# attribute set by a handler, or a script ending the data block early).
HOSTILE = "</script><script>alert(1)</script>"
PWN_IMG = '<img src=x onerror="document.body.dataset.pwned=1">'
PWN_SCRIPT = "</script><script>document.body.dataset.pwned=2</script><!--"
HOSTILE_TYPE = '<b id="injected">bold</b>&amp;'
HOSTILE_EXC = "<i>Err</i>"
HOSTILE_FILE = 'we<i>rd&"x".zst'

N_API = 30
N_HOSTILE = 5
DROPPED = 7


# ---- traces ----------------------------------------------------------------------------------

def api_durations():
    """api.get i: 1 ms + i * 100 µs; its db.query child 500 µs + i * 50 µs."""
    return ({i: MS + i * 100 * US for i in range(1, N_API + 1)},
            {i: 500 * US + i * 50 * US for i in range(1, N_API + 1)})


def write_hostile(out):
    """The fixture: N_API api.get trees (db.query child, cache message), N_HOSTILE
    actions of a type named HOSTILE_TYPE (one failed), hostile inputs and exception text,
    DROPPED events; in a file whose name is hostile too."""
    tree = gt.Tree()
    api, db = api_durations()
    prefix = gt.WEB_PREFIX
    for i in range(1, N_API + 1):
        task, t0 = (prefix, i), i * 20 * MS
        tree.action(1, task, [], "api.get", t0, api[i],
                    {"path": HOSTILE if i == N_API else f"/item/{i}", "user": PWN_IMG, "n": i})
        tree.action(1, task, [1], "db.query", t0 + 100 * US, db[i], {"sql": "select 1"},
                    {"rows": i})
        tree.message(1, task, [2], "cache", t0 + 200 * US + db[i], {"hit": i % 2 == 0})
    for k in range(N_HOSTILE):
        task = (prefix, 100 + k)
        tree.action(2, task, [], HOSTILE_TYPE, 5 * MS + k * 100 * MS, 200 * US,
                    {"q": PWN_SCRIPT}, None, (HOSTILE_EXC, HOSTILE) if k == 0 else None)
    path = pathlib.Path(out) / HOSTILE_FILE
    w = gt.TraceWriter(path, 4242, prefix, gt.WALL0, {1: "main", 2: PWN_IMG})
    w.frame(tree.split(lambda e: True))
    # A frame whose only event says that DROPPED events of thread 1 were lost.
    data = b"".join(msgpack.packb(r) for r in (
        [gt.K_CLOCK, 0, gt.WALL0], [gt.K_CHUNK, 1, 700 * MS], [5, DROPPED, "full"]))
    w.frames.append(zstandard.ZstdCompressor(write_checksum=True).compress(data))
    w.close()
    return path


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    return write_hostile(tmp_path_factory.mktemp("hostile"))



@pytest.fixture(scope="session")
def bulk(tmp_path_factory, gen_trace):
    path = tmp_path_factory.mktemp("bulk") / "bulk.zst"
    subprocess.run([gen_trace, "--bulk", "20000", path], check=True)
    return path


# ---- the page ------------------------------------------------------------------------------

DATA_RE = re.compile(r'<script type="application/json" id="perfan-data">(.*?)</script>', re.S)


def report(perfan, tmp_path, *args, name="report.html"):
    out = tmp_path / name
    p = run(perfan, "report", "-o", out, *args)
    assert p.stdout == "", p.stdout
    page = out.read_text(encoding="utf-8")
    m = DATA_RE.search(page)
    assert m, "no data element"
    assert "<" not in m.group(1) and ">" not in m.group(1), "unescaped < or > in the data"
    return out, page, json.loads(m.group(1))


def check_self_contained(page):
    """Nothing outside the page: no URL but in the trace data, no src, href but #..."""
    rest = DATA_RE.sub("", page)
    assert not re.search(r"https?:|url\(|@import|//[a-z0-9]", rest, re.I), "external reference"
    assert not re.search(r"\ssrc\s*=", rest, re.I)
    for href in re.findall(r'href\s*=\s*"([^"]*)"', rest):
        assert href.startswith("#"), href
    assert "default-src 'none'" in page and "script-src 'sha256-" in page


def by_type(actions):
    out = {}
    for a in actions:
        out.setdefault(a["type"], []).append(a)
    return out


# ---- the data, against independent expectations --------------------------------------------

def test_hostile_data(perfan, hostile, tmp_path):
    _, page, d = report(perfan, tmp_path, "--p99", "2ms", "-n", "7", hostile)
    check_self_contained(page)
    api, db = api_durations()
    types = {t["type"]: t for t in d["types"]}
    assert set(types) == {"api.get", "db.query", HOSTILE_TYPE}
    assert types["api.get"]["count"] == N_API and types["db.query"]["count"] == N_API
    assert types[HOSTILE_TYPE]["count"] == N_HOSTILE and types[HOSTILE_TYPE]["failures"] == 1
    assert types["api.get"]["max_ns"] == api[N_API]
    for t in d["types"]:
        assert sum(b[2] for b in t["hist"]) == t["count"]
        assert all(b[0] <= b[1] for b in t["hist"])
    # p99 of 30 values is the largest: api.get's is 4 ms > 2 ms; db.query's is 2 ms.
    assert types["api.get"]["sla"] == {"pass": False, "failed": ["p99"],
                                      "observed": {"p99_ns": api[N_API]}}
    assert types["db.query"]["sla"]["pass"] and types[HOSTILE_TYPE]["sla"]["pass"]
    assert d["sla"] == {"pass": False, "failed_types": 1}
    assert d["limits"] == {"p99_ns": 2 * MS}
    assert d["dropped_events"] == DROPPED and d["files"][0]["dropped"] == DROPPED
    assert d["files"][0]["path"] == str(hostile)
    # The 7 slowest: api.get 30..24, with their inputs.
    assert [c["duration_ns"] for c in d["slowest"]] == [api[i] for i in range(N_API, N_API - 7, -1)]
    assert d["slowest"][0]["inputs"]["path"] == HOSTILE
    # Trees: the 5 slowest roots, each with the root, its query and the message.
    assert d["trees_of"] == "roots"
    assert [t["task"] for t in d["trees"]] == [
        f"{gt.WEB_PREFIX:016x}-{i:x}" for i in range(N_API, N_API - 5, -1)]
    for t in d["trees"]:
        assert [(n["type"], n["kind"], n["level"]) for n in t["nodes"]] == [
            ("api.get", "action", []), ("db.query", "action", [1]), ("cache", "message", [2])]
        assert t["anchor"] == [] and t["omitted"] == 0
    assert d["trees"][0]["nodes"][0]["inputs"]["path"] == HOSTILE
    assert d["trees"][0]["nodes"][0]["thread_name"] == "main"
    # Latency over time: every call of each charted type counted once.
    series = {s["type"]: s for s in d["series"]["types"]}
    assert {k: s["count"] for k, s in series.items()} == {k: t["count"] for k, t in types.items()}
    for s in series.values():
        assert sum(b[1] for b in s["buckets"]) == s["count"]
        assert s["sampled"] == len(s["points"]) == s["count"]  # small: every call shown
    # Which inputs: api.get's tail (calls over its p95) is the slowest call, path=HOSTILE.
    inputs = {t["type"]: t for t in d["inputs"]}
    path_arg = next(a for a in inputs["api.get"]["arguments"] if a["title"] == "path")
    assert path_arg["groups"][0]["value"] == HOSTILE and path_arg["groups"][0]["tail_share"] == 1
    # The context, as perfan inputs ranks it: one process and host here, so those are the
    # "in every call" line; every context grouping is either a table or in that line.
    api = inputs["api.get"]
    uniform = {c["name"]: c["value"] for c in api["in_every_call"]}
    tables = {a["name"] for a in api["arguments"] if a["grouping"] == "context"}
    assert "host" in uniform and "process" in uniform
    assert tables | set(uniform) == {"process", "host", "thread", "parent", "root", "outcome"}
    assert not tables & set(uniform)


def test_real_traces_against_reference(perfan, real, tmp_path):
    load = gt.load([real])
    acts = load["actions"]
    _, page, d = report(perfan, tmp_path, "-n", "12", "--trees", "3", real)
    check_self_contained(page)
    expected = by_type(acts)
    assert {t["type"]: t["count"] for t in d["types"]} == {k: len(v) for k, v in expected.items()}
    assert {t["type"]: t["failures"] for t in d["types"]} == {
        k: sum(a["failed"] for a in v) for k, v in expected.items()}
    exp_stats = gt.type_stats(acts)
    for t in d["types"]:
        e = exp_stats[t["type"]]
        keys = ("min_ns", "max_ns", "total_ns")
        assert tuple(t[k] for k in keys) == tuple(e[k] for k in keys)
        for k in ("p50_ns", "p95_ns", "p99_ns"):
            assert abs(t[k] - e[k]) <= e[k] / 256, (t["type"], k)
        assert sum(b[2] for b in t["hist"]) == t["count"]
    totals = [t["total_ns"] for t in d["types"]]
    assert totals == sorted(totals, reverse=True)
    assert d["actions"] == d["selected"] == len(acts)
    assert d["unfinished"] == load["unfinished"] == 1
    assert [c["duration_ns"] for c in d["slowest"]] == [
        a["duration_ns"] for a in gt.slowest(acts, 12)]
    roots = gt.slowest([a for a in acts if not a["key"][2]], 3)
    assert [t["task"] for t in d["trees"]] == [f"{a['key'][0]:016x}-{a['key'][1]:x}" for a in roots]
    for t, root in zip(d["trees"], roots):
        task = [a for a in acts if a["key"][:2] == root["key"][:2]]
        got = [n for n in t["nodes"] if n["kind"] == "action"]
        assert sorted(tuple(n["level"]) for n in got) == sorted(a["key"][2] for a in task)
        assert {tuple(n["level"]): n["duration_ns"] for n in got} == {
            a["key"][2]: a["duration_ns"] for a in task}
    charted = [t["type"] for t in d["types"]][:8]
    assert [s["type"] for s in d["series"]["types"]] == charted
    for s in d["series"]["types"]:
        assert s["count"] == len(expected[s["type"]])
        assert sum(b[1] for b in s["buckets"]) == s["count"]
        shown = sorted(p[1] for p in s["points"])
        slowest = sorted(a["duration_ns"] for a in expected[s["type"]])[-10:]
        assert all(v in shown for v in slowest)  # the slowest are always drawn


def test_bulk_is_sampled_and_small(perfan, bulk, tmp_path):
    out, page, d = report(perfan, tmp_path, "--points", "600", bulk)
    assert out.stat().st_size < 2 * 1024 * 1024
    series = {s["type"]: s for s in d["series"]["types"]}
    assert series["request"]["count"] == 20000
    for s in series.values():  # 600 points among 3 types, plus the 10 slowest each
        assert len(s["points"]) == s["sampled"] <= 200 + 10
    times = [p[0] for p in series["request"]["points"]]
    assert times == sorted(times)
    assert d["inputs"][0]["count"] == 20000


def test_page_stays_small(perfan, tmp_path):
    """A task with more children than a tree keeps, thousands of long type names, text
    that escapes to six times its size: every part is cut, and the page says how much."""
    tree, prefix = gt.Tree(), gt.WEB_PREFIX
    n_items, n_types = 1200, 2500
    tree.action(1, (prefix, 1), [], "batch", 0, n_items * US + 10 * US, {"x": "<" * 90})
    for i in range(1, n_items + 1):
        tree.action(1, (prefix, 1), [i], "item", i * US, 500, {"blob": "<&>" * 30, "i": i},
                    {"out": "<" * 90}, ("E<", "<" * 200) if i % 2 else None)
    for k in range(n_types):
        tree.action(2, (prefix, 1000 + k), [], f"t<{k:05}>" * 20, 5 * MS + k * US, 100 + k,
                    {"k": k})
    path = tmp_path / "big.zst"
    w = gt.TraceWriter(path, 1, prefix, gt.WALL0, {1: "a", 2: "b"})
    w.frame(tree.split(lambda e: True))
    w.close()
    out, _, d = report(perfan, tmp_path, "--trees", "50", "-n", "1000", "--types", "20",
                       "--points", "5000", "--children", "0", path)
    assert out.stat().st_size < 2 * 1024 * 1024
    assert len(d["types"]) + d["types_omitted"] == n_types + 2 and d["types_omitted"] > 0
    assert len(d["slowest"]) + d["slowest_omitted"] == 1000 and d["slowest_omitted"] > 0
    batch = d["trees"][0]
    assert batch["nodes"][0]["type"] == "batch"
    assert 0 < len(batch["nodes"]) < n_items
    assert len(batch["nodes"]) + batch["omitted"] == n_items + 1
    assert all(len(t["nodes"]) == 1 for t in d["trees"][1:])  # each gets its share
    assert len(d["trees"]) == 50


# ---- --children: a loop under one action, folded as perfan tree --children K -------------------

N_KIDS = 150


def loop_children():
    """The children of spell.known in child order: (index, type, start, duration or None
    for the message, grandchildren). edits1 durations repeat (ties); lookups are short."""
    kids, t = [], 1000
    for i in range(1, N_KIDS + 1):
        if i == 40:
            kids.append((i, "cache", t, None, 0))
            t += 100
            continue
        typ = "spell.lookup" if i % 7 == 0 else "spell.edits1"
        dur = (5 + i % 3) * US if typ == "spell.lookup" else (20 + (i * 37) % 53) * US
        kids.append((i, typ, t, dur, 1 if i % 10 == 0 else 0))
        t += dur + 100
    return kids, t


def write_loop(out):
    """correction > known > loop_children(), each 10th child with a leaf under it; then
    correction > best, after known."""
    tree, task = gt.Tree(), (gt.WEB_PREFIX, 1)
    kids, end = loop_children()
    for i, typ, start, dur, below in kids:
        if dur is None:
            tree.message(1, task, [1, i], typ, start, {"hit": True})
            continue
        tree.action(1, task, [1, i], typ, start, dur, {"word": f"w{i}"})
        if below:
            tree.action(1, task, [1, i, 1], "leaf", start + 1, 10)
    tree.action(1, task, [1], "spell.known", 500, end)
    tree.action(1, task, [2], "spell.best", end + 100, 500)
    tree.action(1, task, [], "spell.correction", 0, end + 1000, {"word": "speling"})
    path = pathlib.Path(out) / "loop.zst"
    w = gt.TraceWriter(path, 4242, gt.WEB_PREFIX, gt.WALL0, {1: "main"})
    w.frame(tree.split(lambda e: True))
    w.close()
    return path


@pytest.fixture(scope="session")
def loop(tmp_path_factory):
    return write_loop(tmp_path_factory.mktemp("loop"))


def expected_fold(k, keep=None):
    """The rows perfan must draw with --children k, computed from loop_children(): the k
    longest children (messages count as 0; ties: the first) in child order, plus @keep,
    each followed by its leaf, then one summary of the others (None in the rows), then
    spell.best."""
    kids, _ = loop_children()
    by_len = sorted(kids, key=lambda c: (-(c[3] or 0), c[0]))
    shown = {c[0] for c in by_len[:k]} | ({keep} if keep else set())
    rows = [[], [1]]
    for i, _, _, _, below in kids:
        if i in shown:
            rows += [[1, i]] + [[1, i, 1]] * below
    hidden = [c for c in kids if c[0] not in shown]
    rows += ([None] if hidden else []) + [[2]]
    types = {}
    for _, typ, _, dur, _ in hidden:  # in child order: ties keep the first seen first
        types.setdefault(typ, [0, 0])
        types[typ][0] += 1
        types[typ][1] += dur or 0
    more = {"kind": "more", "parent": [1], "count": len(hidden),
            "duration_ns": sum(c[3] or 0 for c in hidden),
            "start_ns": gt.WALL0 + min(c[2] for c in hidden),
            "end_ns": gt.WALL0 + max(c[2] + (c[3] or 0) for c in hidden),
            "descendants": sum(c[4] for c in hidden),
            "types": [{"type": t, "count": n, "duration_ns": ns} for t, (n, ns) in
                      sorted(types.items(), key=lambda kv: -kv[1][0])],
            "other_count": 0}
    total = 3 + len(kids) + sum(c[4] for c in kids)
    return rows, more, total


def check_fold(tree, k, keep=None):
    rows, more, total = expected_fold(k, keep)
    # The summary row right after the subtree of spell.known, before spell.best.
    assert [n["level"] if n["kind"] != "more" else None for n in tree["nodes"]] == rows
    assert tree["nodes"][rows.index(None)] == more
    nodes = [n for n in tree["nodes"] if n["kind"] != "more"]
    assert tree["folded"] == more["count"] + more["descendants"]
    assert tree["omitted"] == 0 and len(nodes) + tree["folded"] == total
    return more


def test_children_fold_data(perfan, loop, tmp_path):
    _, _, d = report(perfan, tmp_path, "--children", "5", loop)
    assert d["tree_children"] == 5
    more = check_fold(d["trees"][0], 5)
    assert more["count"] == N_KIDS - 5 and [t["type"] for t in more["types"]] == [
        "spell.edits1", "spell.lookup", "cache"]
    # The default is 12; 0 draws every node.
    _, _, d = report(perfan, tmp_path, loop, name="default.html")
    assert d["tree_children"] == 12
    check_fold(d["trees"][0], 12)
    _, _, d = report(perfan, tmp_path, "--children", "0", loop, name="all.html")
    _, _, total = expected_fold(0)
    t = d["trees"][0]
    assert len(t["nodes"]) == total and t["folded"] == t["omitted"] == 0
    assert [n["level"] for n in t["nodes"]][-2:] == [[1, N_KIDS, 1], [2]]  # 150 has a leaf
    assert all(n["kind"] != "more" for n in t["nodes"])
    # The highlighted action is drawn even when it is not among the longest.
    _, _, d = report(perfan, tmp_path, "--children", "5", "--type", "spell.lookup",
                     "--trees", "1", loop, name="anchor.html")
    kids, _ = loop_children()
    slowest = min((c for c in kids if c[1] == "spell.lookup"), key=lambda c: (-c[3], c[2]))
    t = d["trees"][0]
    assert d["trees_of"] == "actions" and t["anchor"] == [1, slowest[0]]
    assert check_fold(t, 5, keep=slowest[0])["count"] == N_KIDS - 6
    for bad in ("1001", "x", "-1"):
        p = run(perfan, "report", "-o", tmp_path / "bad.html", "--children", bad, loop,
                check_exit=2)
        assert "--children" in p.stderr


def test_children_fold_in_browser(perfan, loop, tmp_path):
    out, _, d = report(perfan, tmp_path, "--children", "5", loop)
    rows, more, _ = expected_fold(5)
    dom = draw(out, tmp_path)
    (fig,) = dom.find("figure", ["tree"])
    drawn = dom.find("g", ["wf-row"], within=fig)
    assert [r["attrs"].get("data-level") for r in drawn] == [
        None if lv is None else "/" + "/".join(map(str, lv)) for lv in rows]
    row = drawn[rows.index(None)]
    assert row["attrs"]["data-depth"] == "2"  # as the children it stands for
    assert "more" in row["class"] and row["attrs"]["data-parent"] == "/1"
    assert row["attrs"]["data-count"] == str(more["count"])
    assert row["attrs"]["data-duration-ns"] == str(more["duration_ns"])
    (label,) = dom.find("text", ["wf-more-label"], within=row)
    assert text(label) == f"\u2026 {more['count']} more"
    assert len(dom.find("rect", ["wf-more-bar"], within=row)) == 1
    assert dom.find("path", ["wf-hatch"], within=row)[0]["attrs"]["d"].startswith("M")
    (title,) = dom.find("title", within=row)
    for t in more["types"]:
        assert f"{t['count']} \u00d7 {t['type']}" in text(title), text(title)
    assert f"{more['descendants']} actions and messages under them" in text(title)
    (counts,) = dom.find("text", ["wf-more-text"], within=row)
    assert text(counts).startswith(f"{more['types'][0]['count']} \u00d7 spell.edits1 (")
    assert f"{more['count']} more summed up" not in text(fig)  # folded counts nodes
    assert f"{more['count'] + more['descendants']} more summed up" in text(fig)
    # The highlighted action after a summary row (spell.best, after spell.known's children).
    out, _, d = report(perfan, tmp_path, "--children", "5", "--type", "spell.best", loop,
                       name="best.html")
    assert d["trees"][0]["anchor"] == [2] and d["trees"][0]["nodes"][-2]["kind"] == "more"
    dom = draw(out, tmp_path)
    (fig,) = dom.find("figure", ["tree"])
    (anchor,) = [r for r in dom.find("g", ["wf-row"], within=fig) if "anchor" in r["class"]]
    assert anchor["attrs"]["data-level"] == "/2"
    assert "spell.best, succeeded" in text(dom.find("figcaption", within=fig)[0])


def test_filters_apply(perfan, hostile, tmp_path):
    _, _, d = report(perfan, tmp_path, "--type", "db.*", hostile)
    assert [t["type"] for t in d["types"]] == ["db.query"]
    # No top-level action passes: the trees are those of the slowest queries.
    assert d["trees_of"] == "actions" and d["trees"][0]["anchor"] == [1]
    out, _, d = report(perfan, tmp_path, "--type", "nothing", "--p99", "1ms", hostile,
                       name="empty.html")
    assert d["types"] == [] and d["selected"] == 0 and d["trees"] == []
    assert d["sla"] == {"pass": False, "failed_types": 0}  # as perfan sla: nothing checked
    dom = draw(out, tmp_path)
    assert "No action matched" in text(dom.find("div", id="no-match")[0])
    assert not dom.find("figure")


# ---- the command line --------------------------------------------------------------------------

def test_usage_and_errors(perfan, hostile, tmp_path):
    assert "report -o FILE" in run(perfan, "report", "--help").stdout
    assert "report" in run(perfan, "--help").stdout
    for args in (["report", hostile], ["report", "-o", tmp_path / "x.html"],
                 ["report", "-o", tmp_path / "x.html", "--json", hostile],
                 ["report", "-o", tmp_path / "x.html", "--trees", "51", hostile],
                 ["report", "-o", tmp_path / "x.html", "--p99", "fast", hostile],
                 ["report", "-o", tmp_path / "x.html", "--bogus", hostile]):
        p = run(perfan, *args, check_exit=2)
        assert "Usage: perfan report" in p.stderr
    assert not (tmp_path / "x.html").exists()
    # Unreadable input: exit 3, and an existing report is left alone.
    old = tmp_path / "old.html"
    old.write_text("old")
    run(perfan, "report", "-o", old, tmp_path / "missing.zst", check_exit=3)
    assert old.read_text() == "old"


def test_output_file_mode_and_symlink(perfan, hostile, tmp_path):
    out = tmp_path / "r.html"
    run(perfan, "report", "-o", out, hostile)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    target = tmp_path / "target"
    target.write_text("keep")
    (tmp_path / "link.html").symlink_to(target)
    p = run(perfan, "report", "-o", tmp_path / "link.html", hostile, check_exit=3)
    assert "cannot write" in p.stderr
    assert target.read_text() == "keep"
    p = run(perfan, "report", "-o", "-", hostile)
    assert p.stdout.startswith("<!doctype html>")


# ---- in a browser ----------------------------------------------------------------------------

class Dom(html.parser.HTMLParser):
    """Just enough of a DOM: every element with its attributes, classes, ancestors and
    text (its own and its descendants')."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "col", "source", "wbr", "area"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.stack = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        e = {"tag": tag, "attrs": dict(attrs), "text": [], "parents": list(self.stack)}
        e["class"] = set((e["attrs"].get("class") or "").split())
        self.elements.append(e)
        if tag not in self.VOID:
            self.stack.append(e)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        for e in self.stack:
            e["text"].append(data)

    def find(self, tag=None, cls=(), within=None, **attrs):
        out = []
        for e in self.elements:
            if tag and e["tag"] != tag or not set(cls) <= e["class"]:
                continue
            if any(e["attrs"].get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            if within is not None and not any(p is within for p in e["parents"]):
                continue
            out.append(e)
        return out


def text(e):
    return "".join(e["text"])


def chromium(url, tmp_path, *args):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed (scripts/deps.sh installs the chromium "
                    "package): the page is not drawn in a browser")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    env = dict(os.environ, HOME=str(profile))
    for k in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env.pop(k, None)
    p = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args, url],
        capture_output=True, text=True, env=env, timeout=180)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


def draw(out, tmp_path):
    dom = Dom(chromium(out.as_uri(), tmp_path, "--dump-dom"))
    body = dom.find("body")[0]
    assert "data-js-errors" not in body["attrs"], body["attrs"]["data-js-errors"]
    assert body["attrs"].get("data-rendered") == "ok"
    assert len(dom.find("div", id="perfan-rendered")) == 1
    assert dom.find("pre", id="perfan-errors")[0]["attrs"].get("hidden") is not None
    return dom


def check_histograms(dom, d):
    figs = dom.find("figure", ["hist"])
    assert [f["attrs"]["data-type"] for f in figs] == [t["type"] for t in d["types"]]
    for f, t in zip(figs, d["types"]):
        svg = dom.find("svg", ["hist-svg"], within=f)
        assert len(svg) == 1
        assert len(dom.find("rect", ["bar"], within=f)) == len(t["hist"]) > 0
        for m in ("p50", "p95", "p99"):
            assert len(dom.find("line", ["marker", m], within=f)) == 1
    return figs


def test_hostile_page_in_browser(perfan, hostile, tmp_path):
    out, page, d = report(perfan, tmp_path, "--p99", "2ms", "-n", "7", hostile)
    dom = draw(out, tmp_path)
    # Nothing injected: no handler ran, no element from the traces, only the page's scripts.
    body = dom.find("body")[0]
    assert "data-pwned" not in body["attrs"]
    assert not dom.find("img") and not dom.find("i") and not dom.find(id="injected")
    assert len(dom.find("script")) == 2
    # ... and the hostile strings are there as text.
    assert text(dom.find("title")[0]) == f"perfan report: {hostile}"
    assert text(dom.find("h1")[0]) == f"perfan report: {hostile}"
    rows = dom.find("tr", ["slow-row"])
    assert len(rows) == 7
    assert "path=" + json.dumps(HOSTILE) in text(rows[0])
    assert "user=" + json.dumps(PWN_IMG) in text(rows[0])
    assert any(text(e) == HOSTILE_TYPE for e in dom.find("td", ["type"]))
    sec = dom.find("section", ["input-type"], data_type=HOSTILE_TYPE)[0]
    assert text(sec).startswith(HOSTILE_TYPE + ": ")
    assert any(text(e) == json.dumps(PWN_SCRIPT) for e in dom.find("td", ["fields"], within=sec))
    titles = [text(e) for e in dom.find("title")]
    assert any(HOSTILE in t for t in titles)  # the tree's tooltip shows the inputs
    # Histograms with percentiles and the limit; api.get over it.
    figs = check_histograms(dom, d)
    for f in figs:
        limit = dom.find("line", ["limit"], within=f)
        assert len(limit) == 1
        assert ("over" in limit[0]["class"]) == (f["attrs"]["data-type"] == "api.get")
    assert dom.find("div", ["banner", "fail"], id="sla")
    assert "dropped 7 events" in text(dom.find("div", id="dropped")[0])
    # Waterfalls: 5 trees of 3 rows, the slowest root highlighted.
    trees = dom.find("figure", ["tree"])
    assert len(trees) == 5
    for tr in trees:
        rows = dom.find("g", ["wf-row"], within=tr)
        assert [r["attrs"]["data-depth"] for r in rows] == ["0", "1", "1"]
        assert "anchor" in rows[0]["class"]
        assert len(dom.find("rect", ["wf-bar"], within=tr)) == 2
        assert len(dom.find("path", ["wf-msg"], within=tr)) == 1
    # Over time: one chart per type, every call drawn (few calls).
    for f in dom.find("figure", ["series"]):
        s = next(x for x in d["series"]["types"] if x["type"] == f["attrs"]["data-type"])
        assert len(dom.find("circle", ["pt"], within=f)) == s["count"]
    assert len(dom.find("tr", ["type-row"])) == 3
    assert dom.find("section", ["input-type"], data_type="api.get")


def test_real_page_in_browser_with_screenshot(perfan, real, tmp_path):
    out, page, d = report(perfan, tmp_path, "--p99", "1ms", real)
    dom = draw(out, tmp_path)
    check_histograms(dom, d)
    assert len(dom.find("tr", ["slow-row"])) == 20
    assert len(dom.find("figure", ["tree"])) == 5
    for tr, t in zip(dom.find("figure", ["tree"]), d["trees"]):
        assert len(dom.find("g", ["wf-row"], within=tr)) == len(t["nodes"])
    assert len(dom.find("figure", ["series"])) == min(8, len(d["types"]))
    shot = tmp_path / "report.png"
    chromium(out.as_uri(), tmp_path, "--hide-scrollbars", "--window-size=1400,3000",
             f"--screenshot={shot}")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1400, 3000)
    # A blank page of that size compresses to ~20 KB; charts and text make far more.
    assert len(png) > 60 * 1024, len(png)


def test_sampled_page_says_so(perfan, bulk, tmp_path):
    out, _, d = report(perfan, tmp_path, "--points", "600", bulk)
    dom = draw(out, tmp_path)
    shown = sum(s["sampled"] for s in d["series"]["types"])
    note = text(dom.find("p", id="sample-note")[0])
    assert f"Showing {shown:,} of 60,000 calls" in note, note
    for f in dom.find("figure", ["series"]):
        s = next(x for x in d["series"]["types"] if x["type"] == f["attrs"]["data-type"])
        assert len(dom.find("circle", ["pt"], within=f)) == s["sampled"] < s["count"]
        assert f"showing {s['sampled']:,} of {s['count']:,} calls" in text(f)


def test_extreme_times_and_durations(perfan, tmp_path):
    """Durations near 2^63 and files at opposite ends of the int64 wall clock: the page is
    written and well-formed (the sanitizer build aborts on the signed overflows this used
    to hit)."""
    d = tmp_path / "extreme"
    d.mkdir()
    for k, wall0 in enumerate((-9 * 10**18, 9 * 10**18)):
        tree = gt.Tree()
        task = (gt.WEB_PREFIX + k, 1)
        tree.action(1, task, [], "huge", 0, 2**63 - 1, {"x": 1})
        tree.action(1, task, [1], "child", 10, 2**62)
        tree.action(1, (gt.WEB_PREFIX + k, 2), [], "small", 100, 5)
        w = gt.TraceWriter(d / f"f{k}.zst", 10 + k, gt.WEB_PREFIX + k, wall0, {1: "main"})
        w.frame(tree.split(lambda e: True))
        w.close()
    _, page, data = report(perfan, tmp_path, "--p99", "1ms", d)
    assert {t["type"] for t in data["types"]} == {"huge", "child", "small"}


def test_huge_names_are_cut(perfan, tmp_path):
    """A type name of 1 MB of '<' (liblog accepts 64 MiB of names; '<' costs 6 bytes
    escaped): names are cut at 256 bytes and marked, and the page stays small."""
    tree = gt.Tree()
    name = "<" * 1_000_000
    for i in range(3):
        task = (gt.WEB_PREFIX, i + 1)
        tree.action(1, task, [], name, i * gt.MS, 1000 + i, {"k": "v"})
        tree.action(1, task, [1], name + "x", i * gt.MS + 10, 100)
    path = tmp_path / "big.zst"
    w = gt.TraceWriter(path, 1, gt.WEB_PREFIX, gt.WALL0, {1: "t" * 100_000})
    w.frame(tree.split(lambda e: True))
    w.close()
    out, page, data = report(perfan, tmp_path, path)
    assert len(page) < 1_000_000, len(page)
    (t,) = data["types"]  # the two names are alike in their first 256 bytes: one type
    assert t["type"] == "<" * 256 + "\u2026" and t["count"] == 6
    table = run(perfan, "stats", path).stdout
    assert "<" * 256 + "\u2026" in table and "<" * 257 not in table


def test_output_never_overwrites_a_trace(perfan, tmp_path):
    """-o naming a trace being read (by a slip, or a shell glob like `-o t/*.zst`) is a
    usage error that leaves the trace intact; a page in the traces' directory is fine,
    twice."""
    d = tmp_path / "t"
    d.mkdir()
    tree = gt.Tree()
    tree.action(1, (gt.WEB_PREFIX, 1), [], "a", 0, 1000)
    w = gt.TraceWriter(d / "a.zst", 1, gt.WEB_PREFIX, gt.WALL0, {1: "main"})
    w.frame(tree.split(lambda e: True))
    w.close()
    before = (d / "a.zst").read_bytes()
    for args in (["report", "-o", d / "a.zst", d / "a.zst"],
                 ["report", "-o", d / "a.zst", d],
                 ["export", "--format", "jsonl", "-o", d / "a.zst", d]):
        p = run(perfan, *args, check_exit=2)
        assert "that is one of the traces to read" in p.stderr
        assert (d / "a.zst").read_bytes() == before
    for _ in range(2):
        run(perfan, "report", "-o", d / "report.html", d)


def test_inflight_section(perfan, tmp_path):
    """A writer killed while `export` (under `job`) ran: the page lists both as in flight,
    longest-running first, with inputs, path and the time to the last record; a finished
    trace says none was."""
    tree = gt.Tree()
    prefix = gt.WEB_PREFIX
    for i in range(1, 6):
        tree.action(1, (prefix, i), [], "api.get", i * 10 * MS, 2 * MS, {"n": i})
    job = (prefix, 50)
    tree.events.append(("start", 2, 20 * MS, "job", job, (), {"batch": 7}))
    tree.events.append(("start", 2, 30 * MS, "export", job, (1,), {"customer": "acme"}))
    tree.action(1, (prefix, 9), [], "api.get", 90 * MS, 3 * MS, {"n": 9})  # last: 93 ms
    path = tmp_path / "killed.zst"
    w = gt.TraceWriter(path, 77, prefix, gt.WALL0, {1: "main", 2: "worker"})
    w.frame(tree.split(lambda e: True))
    w.close(stats=False)  # killed: no closing STATS
    out, page, d = report(perfan, tmp_path, path)
    assert [c["type"] for c in d["inflight"]] == ["job", "export"]
    job_c, exp_c = d["inflight"]
    assert job_c["running"] and job_c["duration_ns"] == 93 * MS - 20 * MS
    assert exp_c["duration_ns"] == 93 * MS - 30 * MS
    assert exp_c["inputs"] == {"customer": "acme"} and exp_c["path"] == ["job", "export"]
    assert d["inflight_total"] == 2 and d["inflight_omitted"] == 0
    dom = draw(out, tmp_path)
    rows = dom.find("tr", ["inflight-row"])
    assert [r["attrs"]["data-type"] for r in rows] == ["job", "export"]
    assert 'customer="acme"' in text(rows[1]) and "73.0ms" in text(rows[0])
    # -n bounds the rows; a finished trace has none.
    _, _, d1 = report(perfan, tmp_path, "-n", "1", path, name="one.html")
    assert len(d1["inflight"]) == 1 and d1["inflight_omitted"] == 0
    tree2 = gt.Tree()
    tree2.action(1, (prefix, 1), [], "api.get", 10 * MS, 2 * MS, {"n": 1})
    done = tmp_path / "done.zst"
    w = gt.TraceWriter(done, 78, prefix, gt.WALL0, {1: "main"})
    w.frame(tree2.split(lambda e: True))
    w.close()
    out2, _, d2 = report(perfan, tmp_path, done, name="done.html")
    assert d2["inflight"] == [] and d2["inflight_total"] == 0
    assert "No action passing the filters was running" in text(
        draw(out2, tmp_path).find("main")[0])
