# SPDX-License-Identifier: MIT
"""test_summarize.py - `perfan summarize` and the subcommands that read summaries.

The claim under test (docs/perfan.md, "Summaries"): for any partition of a set of trace
files that keeps each process's files together, summaries of the parts, merged in any
order and any tree shape, make stats, slowest, inflight, sla and diff print exactly what
they print on the traces (JSON byte for byte but for the list of inputs, and the text).
The traces are random fleets of processes with rotated files, nested actions, failures,
many ties in duration and start time, and actions left running by a killed process.

Bad summaries are written by hand, by the format in docs/format.md (so the format is
checked independently of perfan's writer): each is an error naming the file and an offset,
contributes nothing, and the other inputs are still answered for.
"""

import json
import pathlib
import random
import re
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_traces as gt  # noqa: E402
from conftest import run  # noqa: E402

MS, US = gt.MS, gt.US

# The subcommands that accept summaries, each with options that exercise its ranking.
COMMANDS = [
    ("stats",),
    ("stats", "--sort", "p99"),
    ("slowest", "-n", "25"),
    ("slowest", "--finished", "-n", "7"),
    ("slowest", "-n", "5", "--type", "db.*"),
    ("inflight",),
    ("sla", "--p99", "4ms", "--p50", "1ms", "--worst", "4"),
]


def fleet(out, seed, nproc=5):
    """A random fleet: @nproc processes on two hosts, each writing 1-3 rotated files; the
    last process is killed with actions still running. Returns the files."""
    rng = random.Random(seed)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for p in range(nproc):
        pid, prefix = 2000 + p, 0x1000 + p
        tree = gt.Tree()
        t = rng.randint(0, 3) * MS
        for i in range(rng.randint(15, 40)):
            thread = 1 + i % 2
            task = (prefix, i + 1)
            t0 = t + rng.choice([0, 1, 2]) * MS  # starts tie across processes
            d = rng.choice([2, 3, 3, 5, 8, 13]) * MS  # durations tie too
            typ = rng.choice(["http.request", "http.request", "job.run"])
            fail = rng.random() < 0.15
            tree.action(thread, task, [], typ, t0, d,
                        {"id": i, "user": f"u{rng.randint(0, 3)}", "blob": b"\x00\x01"},
                        None if fail else {"status": 200},
                        ("app.Error", f"boom {i}") if fail else None)
            cs = t0 + 10 * US
            for c in range(rng.randint(0, 3)):
                cd = rng.choice([100, 200, 300, 300]) * US
                tree.action(thread, task, [c + 1], "db.query", cs, cd,
                            {"sql": "select * from t where id = ?" + "x" * rng.randint(0, 120),
                             "rows": rng.randint(0, 9)}, {"returned": c})
                cs += cd + 10 * US
            t = t0 + d
        killed = p == nproc - 1
        if killed:  # a hang: started, never ended
            tree.events.append(("start", 1, t + MS, "job.run", (prefix, 999), (), {"id": -1}))
            tree.events.append(("start", 1, t + 2 * MS, "db.query", (prefix, 999), (1,),
                                {"sql": "lock table"}))
        nfiles = rng.randint(1, 3)
        cuts = sorted(rng.randint(0, t) for _ in range(nfiles - 1)) + [t + 10 * MS]
        lo = -1
        for n, hi in enumerate(cuts):
            path = out / f"p{pid}-{n}.zst"
            w = gt.TraceWriter(path, pid, prefix, gt.WALL0, {1: "main", 2: f"worker-{p}"},
                               host=f"host{p % 2}", argv=("app", f"--shard={p}"))
            w.frame(tree.split(lambda e, lo=lo, hi=hi: lo < e[2] <= hi))
            w.close(stats=not (killed and n == nfiles - 1))
            files.append(path)
            lo = hi
    return files


def by_process(files):
    groups = {}
    for f in files:
        groups.setdefault(f.name.split("-")[0], []).append(f)
    return list(groups.values())


def without_inputs(text):
    """The JSON document without its lists of inputs (diff has one per side)."""
    doc = json.loads(text)
    for d in (doc, doc.get("base"), doc.get("new")):
        if isinstance(d, dict):
            d.pop("inputs", None)
    return doc


def answer(perfan, cmd, paths, json_out=True, check_exit=None):
    p = run(perfan, *cmd, *(["--json"] if json_out else []), *paths, check_exit=check_exit)
    return p.returncode, without_inputs(p.stdout) if json_out else p.stdout


def summarize(perfan, out, paths, *opts):
    run(perfan, "summarize", *opts, "-o", out, *paths)
    return out


def reduce_randomly(perfan, tmp, leaves, rng):
    """Merge @leaves into one summary by summarizing random groups of 2-3 until one is left."""
    items, n = list(leaves), 0
    while len(items) > 1:
        rng.shuffle(items)
        k = min(len(items), rng.choice([2, 3]))
        group, items = items[:k], items[k:]
        n += 1
        items.append(summarize(perfan, tmp / f"r{n}.sum", group))
    return items[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summaries_answer_as_the_traces(perfan, tmp_path, seed):
    rng = random.Random(seed * 7919)
    files = fleet(tmp_path / "traces", seed)
    direct = {cmd: answer(perfan, cmd, files) for cmd in COMMANDS}
    direct_text = {cmd: answer(perfan, cmd, files, json_out=False) for cmd in COMMANDS}
    groups = by_process(files)
    for trial in range(3):
        rng.shuffle(groups)
        nparts = rng.randint(1, len(groups))
        parts = [[] for _ in range(nparts)]
        for i, g in enumerate(groups):
            parts[i % nparts if i < nparts else rng.randrange(nparts)] += g
        d = tmp_path / f"t{trial}"
        d.mkdir()
        lean = ["--lean"] if trial == 1 else []  # lean summaries answer these the same
        leaves = [summarize(perfan, d / f"part{i}.sum", p, *lean) for i, p in enumerate(parts)]
        # Leaves as they are, one part's traces with the other parts' summaries, and the
        # leaves merged.
        mixed = leaves[1:] + parts[0]
        rng.shuffle(leaves)
        merged = reduce_randomly(perfan, d, leaves, rng)
        for paths in ([merged], leaves, mixed):
            for cmd in COMMANDS:
                assert answer(perfan, cmd, paths) == direct[cmd], (cmd, paths)
                assert answer(perfan, cmd, paths, json_out=False) == direct_text[cmd], cmd


def test_diff_of_summaries(perfan, tmp_path):
    base, new = fleet(tmp_path / "base", 11), fleet(tmp_path / "new", 12)
    sb = summarize(perfan, tmp_path / "base.sum", base)
    sn = summarize(perfan, tmp_path / "new.sum", new)
    for opts in ((), ("--percentile", "p95", "--min-count", "3")):
        want = answer(perfan, ("diff", *opts), [tmp_path / "base", tmp_path / "new"])
        assert answer(perfan, ("diff", *opts), [sb, sn]) == want
        # A directory of summaries is a side too.
        (tmp_path / "sb").mkdir(exist_ok=True)
        (tmp_path / "sb" / "a.sum").write_bytes(sb.read_bytes())
        assert answer(perfan, ("diff", *opts), [tmp_path / "sb", sn]) == want


def test_filters_apply_when_summarizing(perfan, tmp_path):
    files = fleet(tmp_path / "f", 5)
    s = summarize(perfan, tmp_path / "f.sum", files, "--type", "db.*", "--min", "200us",
                  "--failed", "-k", "3")
    s_all = summarize(perfan, tmp_path / "all.sum", files, "-k", "3")
    for cmd in (("stats",), ("slowest", "-n", "3")):
        assert answer(perfan, cmd, [s]) == answer(
            perfan, (*cmd, "--type", "db.*", "--min", "200us", "--failed"), files)
        # At rendering, --type selects among the types present.
        assert answer(perfan, (*cmd, "--type", "job.*"), [s_all]) == answer(
            perfan, (*cmd, "--type", "job.*"), files)
    for opt in (("--since", "2025-01-01T00:00:00Z"), ("--min", "1ms"), ("--failed",),
                ("--task", "0000000000001000-1")):
        p = run(perfan, "stats", *opt, s, check_exit=2)
        assert "applies when summarizing" in p.stderr and str(s) in p.stderr
    # More than were kept: a warning, and the k kept.
    p = run(perfan, "slowest", "-n", "5", "--json", s_all)
    assert "keep the 3 slowest" in p.stderr
    want = json.loads(run(perfan, "slowest", "-n", "5", "--json", *files).stdout)["calls"]
    assert json.loads(p.stdout)["calls"][:3] == want[:3]  # exact up to k


@pytest.mark.parametrize("cmd", ["tree", "timeline", "export", "top"])
def test_subcommands_needing_records_refuse_summaries(perfan, tmp_path, cmd):
    files = fleet(tmp_path / "f", 6, nproc=2)
    s = summarize(perfan, tmp_path / "f.sum", files)
    extra = {"top": ["--once"],
             "export": ["--format", "jsonl"]}.get(cmd, [])
    # top, a live view of directories, skips it with a warning; the others refuse.
    p = run(perfan, cmd, *extra, s, check_exit=0 if cmd == "top" else 2)
    assert "a summary (perfan summarize), not a trace" in p.stderr and str(s) in p.stderr


def test_cross_process_children_the_one_difference(perfan, fixtures, tmp_path):
    """svc.zst's rpc.serve ran for web.zst's http.request #5 (a task continued in another
    process). Summarized apart, the request's self time keeps that child's 3 ms, and the
    child's path lacks its remote ancestors: the difference docs/perfan.md names."""
    web, svc = fixtures / "web.zst", fixtures / "svc.zst"
    sums = [summarize(perfan, tmp_path / "w.sum", [web]),
            summarize(perfan, tmp_path / "s.sum", [svc])]
    _, direct = answer(perfan, ("stats",), [web, svc])
    _, merged = answer(perfan, ("stats",), sums)
    d = {t["type"]: t for t in direct["types"]}
    m = {t["type"]: t for t in merged["types"]}
    assert m["http.request"]["self_ns"] - d["http.request"]["self_ns"] == 3 * MS
    m["http.request"]["self_ns"] = d["http.request"]["self_ns"]
    assert m == d
    # Together in one partition, exact.
    both = summarize(perfan, tmp_path / "ws.sum", [web, svc])
    assert answer(perfan, ("stats",), [both])[1] == direct


def test_summarize_usage(perfan, tmp_path):
    files = fleet(tmp_path / "f", 7, nproc=1)
    for args in ([*files], ["-o", tmp_path / "x.sum"], ["-k", "0", "-o", tmp_path / "x.sum",
                                                         *files],
                 ["--json", "-o", tmp_path / "x.sum", *files], ["--bogus", *files]):
        p = run(perfan, "summarize", *args, check_exit=2)
        assert "Usage: perfan summarize" in p.stderr
    # Never over one of its inputs.
    p = run(perfan, "summarize", "-o", files[0], *files, check_exit=2)
    assert "one of the inputs" in p.stderr and files[0].stat().st_size > 0
    # It is a trace file: mode 0600.
    s = summarize(perfan, tmp_path / "m.sum", files)
    assert s.stat().st_mode & 0o777 == 0o600


# ---- summaries written by hand, by docs/format.md ----------------------------------------

def write_summary(path, messages, argv=("perflog-summary", "1"), cut=None, stats=True):
    """A summary file holding @messages ([(type, fields)]) in order, as docs/format.md says."""
    tree = gt.Tree()
    for i, (typ, fields) in enumerate(messages):
        tree.message(1, (0x5555, i + 1), (), typ, 1000 + i, fields)
    w = gt.TraceWriter(path, 77, 0x5555, gt.WALL0, {1: "perfan"}, argv=argv)
    w.frame(tree.split(lambda e: True))
    w.close(stats=stats)
    if cut:
        path.write_bytes(path.read_bytes()[:cut])
    return path


def good_messages(version=1, bits=7, counts=(3, 4), first=1300, end=True, hist=None):
    """A summary of one input: 7 actions of type "q" (buckets 1300 and 1301)."""
    msgs = [
        ("perflog.summary", {"version": version, "hist_sub_bits": bits, "k": 100,
                             "groups": True, "filters": ""}),
        ("perflog.summary.input", {"path": "web.zst", "pid": 9, "host": "h", "prog": "app",
                                   "records": 14, "dropped": 0, "frames_skipped": 0,
                                   "status": "read", "thread_ids": [1],
                                   "thread_names": ["main"]}),
        ("perflog.summary.counters", {"records": 14, "actions": 7, "unfinished": 0,
                                      "unmatched_ends": 0, "inputs_left_out": 0}),
    ]
    lo0, _ = bucket_bounds(first)
    lo1, hi1 = bucket_bounds(first + 1)
    total = counts[0] * lo0 + counts[1] * hi1
    msgs += [
        ("perflog.summary.type", {"type": "q", "count": sum(counts), "failures": 1,
                                  "total_ns": total, "self_ns": total, "min_ns": lo0,
                                  "max_ns": hi1, "first_start_ns": gt.WALL0,
                                  "last_start_ns": gt.WALL0 + MS,
                                  "last_end_ns": gt.WALL0 + 2 * MS}),
        ("perflog.summary.hist", {"type": "q", "first": first,
                                  "counts": list(hist or counts)}),
    ]
    if end:
        msgs.append(("perflog.summary.end", {"inputs": 1, "types": 1, "calls": 0}))
    return msgs


def bucket_bounds(idx, sub_bits=7):
    sub = 1 << sub_bits
    if idx < 2 * sub:
        return idx, idx
    e = (idx >> sub_bits) - 1
    lo = (sub + (idx & (sub - 1))) << e
    return lo, lo + (1 << e) - 1


def test_hand_written_summary_is_read_by_the_format(perfan, tmp_path):
    s = write_summary(tmp_path / "h.sum", good_messages())
    doc = json.loads(run(perfan, "stats", "--json", s).stdout)
    (t,) = doc["types"]
    lo0, _ = bucket_bounds(1300)
    _, hi1 = bucket_bounds(1301)
    assert (t["type"], t["count"], t["failures"], t["min_ns"], t["max_ns"]) == (
        "q", 7, 1, lo0, hi1)
    assert doc["actions"] == 7 and doc["records"] == 14
    assert doc["inputs"][0]["path"] == "web.zst"


@pytest.mark.parametrize("case,expect", [
    ("version", "version 2"),
    ("bits", "different resolutions"),
    ("no_end", "cut short"),
    ("counts", "histogram inconsistent"),
    ("truncated", "offset"),
    ("corrupt", "offset"),
    ("not_first", "no perflog.summary record first"),
])
def test_bad_summaries_are_errors_naming_the_file(perfan, tmp_path, case, expect):
    files = fleet(tmp_path / "f", 8, nproc=2)
    good = write_summary(tmp_path / "good.sum", good_messages())
    size = good.stat().st_size
    p = tmp_path / f"{case}.sum"
    if case == "version":
        write_summary(p, good_messages(version=2))
    elif case == "bits":
        write_summary(p, good_messages(bits=8))
    elif case == "no_end":
        write_summary(p, good_messages(end=False))
    elif case == "counts":
        write_summary(p, good_messages(hist=(3, 5)))
    elif case == "truncated":
        write_summary(p, good_messages(), cut=size - 9)
    elif case == "corrupt":
        data = bytearray(good.read_bytes())
        data[size // 2] ^= 0xFF
        p.write_bytes(bytes(data))
    elif case == "not_first":
        msgs = good_messages()
        write_summary(p, msgs[1:2] + msgs[:1] + msgs[2:])
    r = run(perfan, "stats", "--json", p, *files, check_exit=3)
    assert str(p) in r.stderr and expect in r.stderr, r.stderr
    assert "offset" in r.stderr
    # Nothing of it is used: with --allow-unreadable, the answer is the traces' alone.
    r = run(perfan, "stats", "--json", "--allow-unreadable", p, *files)
    mine = without_inputs(r.stdout)
    _, want = answer(perfan, ("stats",), files)
    assert mine["types"] == want["types"]
    assert mine["unreadable_inputs"] == 1


def _groupings(t):
    return {(a["name"], a["grouping"]): a for a in t["arguments"] + t["context"]}


@pytest.mark.parametrize("seed", [9, 10])
def test_inputs_from_summaries(perfan, tmp_path, seed):
    """`perfan inputs` from summaries: the same types, groupings and groups with the same
    calls (where no value was folded); tails from the groups' histograms against the
    merged p95, so a tail is exact but for the calls in the p95's own bucket, and a share
    within a few points."""
    files = fleet(tmp_path / "f", seed, nproc=6)
    sums = [summarize(perfan, tmp_path / f"s{i}.sum", g) for i, g in enumerate(by_process(files))]
    merged = reduce_randomly(perfan, tmp_path, sums, random.Random(seed))
    _, want = answer(perfan, ("inputs", "--type", "*"), files)
    for paths in ([merged], sums, sums[1:] + by_process(files)[0]):
        _, got = answer(perfan, ("inputs", "--type", "*"), paths)
        assert_inputs_close(got, want)


def assert_inputs_close(got, want):
    """`perfan inputs --json` from summaries against from the traces (see above)."""
    assert [t["type"] for t in got["types"]] == [t["type"] for t in want["types"]]
    for gt_, wt in zip(got["types"], want["types"]):
        assert (gt_["count"], gt_["p95_ns"]) == (wt["count"], wt["p95_ns"])
        assert abs(gt_["tail_calls"] - wt["tail_calls"]) <= max(2, wt["tail_calls"] // 10)
        g, w = _groupings(gt_), _groupings(wt)
        assert set(g) == set(w), wt["type"]
        for key, wa in w.items():
            ga = g[key]
            assert ga["calls"] == wa["calls"], key
            if wa["folded_values"] or ga["folded_values"]:
                continue  # which values were folded depends on the order they are met
            wg = {x["group"]: x for x in wa["groups"]}
            gg = {x["group"]: x for x in ga["groups"]}
            assert set(gg) == set(wg), key
            for label, x in wg.items():
                y = gg[label]
                assert (y["count"], y["p50_ns"], y["p99_ns"], y["max_ns"]) == (
                    x["count"], x["p50_ns"], x["p99_ns"], x["max_ns"]), (key, label)
                assert abs(y["tail_share"] - x["tail_share"]) <= 0.05, (key, label)


DATA_RE = re.compile(r'<script type="application/json" id="perfan-data">(.*?)</script>', re.S)


def report_data(perfan, out, paths):
    run(perfan, "report", "-o", out, *paths)
    return json.loads(DATA_RE.search(out.read_text(encoding="utf-8")).group(1))


def test_report_from_summaries(perfan, tmp_path):
    """`perfan report` from summaries draws everything but the trees: histograms, SLA
    verdicts, the slowest calls and those in flight exactly; latency over time with each
    call in its summary slot's middle (so a bucket's calls may move to a neighbour, never
    further); a uniform sample of points; the inputs as `perfan inputs` has them."""
    files = fleet(tmp_path / "f", 13, nproc=6)
    sums = [summarize(perfan, tmp_path / f"s{i}.sum", g) for i, g in enumerate(by_process(files))]
    merged = reduce_randomly(perfan, tmp_path, sums, random.Random(13))
    want = report_data(perfan, tmp_path / "direct.html", [*files, "--p99", "4ms"])
    for name, paths in (("merged", [merged]), ("parts", sums)):
        got = report_data(perfan, tmp_path / f"{name}.html", [*paths, "--p99", "4ms"])
        for key in ("types", "slowest", "inflight", "sla", "limits", "first_ns", "last_ns",
                    "actions", "selected", "unfinished", "records"):
            assert got[key] == want[key], (name, key)
        assert got["trees"] == [] and got["summaries"] == len(paths) and want["summaries"] == 0
        gs, ws = got["series"], want["series"]
        assert (gs["origin_ns"], gs["bucket_ns"]) == (ws["origin_ns"], ws["bucket_ns"])
        for gt_, wt in zip(gs["types"], ws["types"]):
            assert (gt_["type"], gt_["count"]) == (wt["type"], wt["count"])
            # As many points but for those both sampled and among the slowest (drawn once).
            assert abs(gt_["sampled"] - wt["sampled"]) <= ws["slow_points"]

            def cumulative(t):
                c, out = 0, {}
                for b in t["buckets"]:
                    c += b[1]
                    out[b[0]] = c
                return [max((v for k, v in out.items() if k <= i), default=0)
                        for i in range(gs["nbuckets"])]
            g, w = cumulative(gt_), cumulative(wt)
            for i in range(gs["nbuckets"]):  # at most 2 buckets' shift (slots.h)
                lo = w[i - 2] if i >= 2 else 0
                assert lo <= g[i] <= w[min(len(w) - 1, i + 2)], (wt["type"], i)
        for gi, wi in zip(got["inputs"], want["inputs"]):
            assert (gi["type"], gi["count"], gi["p95_ns"]) == (wi["type"], wi["count"],
                                                                wi["p95_ns"])
            assert abs(gi["tail_calls"] - wi["tail_calls"]) <= max(2, wi["tail_calls"] // 10)


def test_lean_summaries(perfan, tmp_path):
    """--lean: no argument groups or slots. inputs and report refuse it; a summary made
    of a lean one is lean too (a warning says so)."""
    files = fleet(tmp_path / "f", 14, nproc=2)
    lean = summarize(perfan, tmp_path / "l.sum", files, "--lean")
    full = summarize(perfan, tmp_path / "f.sum", files)
    assert lean.stat().st_size < full.stat().st_size
    for cmd in (("inputs", "--type", "*"), ("report", "-o", tmp_path / "r.html")):
        p = run(perfan, *cmd, lean, check_exit=2)
        assert "lean" in p.stderr
    p = run(perfan, "summarize", "-o", tmp_path / "m.sum", lean, full)
    assert "so is this one" in p.stderr
    run(perfan, "inputs", "--type", "*", tmp_path / "m.sum", check_exit=2)
    # The same traces twice over: every count doubled.
    _, once = answer(perfan, ("stats",), files)
    _, twice = answer(perfan, ("stats",), [tmp_path / "m.sum"])
    assert [t["count"] * 2 for t in once["types"]] == [t["count"] for t in twice["types"]]


def test_summaries_of_mixed_parts_stay_readable(perfan, gen_trace, tmp_path):
    """A summary of parts that do not all hold a type's groups and slots (a summary keeps
    them for 256 types; a lean one for none) is still a valid summary: slots are written
    only whole, groups not at all when it is lean."""
    a, b = tmp_path / "a.zst", tmp_path / "b.zst"
    run(gen_trace, "--types", "300", a, check_exit=None)
    run(gen_trace, "--types", "300", b, check_exit=None)
    s1 = summarize(perfan, tmp_path / "s1.sum", [a])  # groups for 256 of the 300 types
    s2 = summarize(perfan, tmp_path / "s2.sum", [s1, b])
    assert answer(perfan, ("stats",), [s2]) == answer(perfan, ("stats",), [a, b])
    run(perfan, "report", "-o", tmp_path / "r.html", s2)
    lean = summarize(perfan, tmp_path / "l.sum", [a], "--lean")
    s3 = summarize(perfan, tmp_path / "s3.sum", [lean, b])
    assert answer(perfan, ("stats",), [s3]) == answer(perfan, ("stats",), [a, b])


def test_counts_that_would_overflow_are_refused(perfan, tmp_path):
    """Two summaries each claiming 2^63 calls of 0 ns (valid alone): the second is an
    error naming it, and the first is still answered for."""
    msgs = good_messages()
    for i, (typ, f) in enumerate(msgs):
        if typ == "perflog.summary.type":
            msgs[i] = (typ, dict(f, count=2**63, failures=0, total_ns=0, self_ns=0, min_ns=0,
                                 max_ns=0))
        elif typ == "perflog.summary.hist":
            msgs[i] = (typ, dict(f, first=0, counts=[2**63]))
    a = write_summary(tmp_path / "a.sum", msgs)
    b = write_summary(tmp_path / "b.sum", msgs)
    doc = json.loads(run(perfan, "stats", "--json", a).stdout)
    assert doc["types"][0]["count"] == 2**63
    p = run(perfan, "stats", "--json", "--allow-unreadable", a, b)
    assert str(b) in p.stderr and "overflow" in p.stderr
    assert json.loads(p.stdout)["types"][0]["count"] == 2**63
