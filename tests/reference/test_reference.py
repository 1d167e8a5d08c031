# SPDX-License-Identifier: MIT
"""test_reference.py - liblog's reader against the independent reference reader.

examples/c_actions writes a trace; examples/c_read (liblog's pl_reader) and
ref_reader.py (written from docs/format.md alone) must print the same lines, and the
records must show what c_actions.c is known to have done.

Run: PERFLOG_BUILD_DIR=build /usr/bin/python3 -m pytest -q tests/reference
(Debian's python3, which has python3-msgpack and python3-zstandard.)
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import ref_reader  # noqa: E402

# 2000 requests stage < 1 MiB (~380 bytes each), the default ring: nothing can be dropped
# however the flusher is scheduled, so every action must be complete in the trace.
SMALL = 2000
# Far more than a ring holds: several frames and, usually, DROPPED records.
LARGE = 30000

def _build_dir():
    d = os.environ.get("PERFLOG_BUILD_DIR")
    if not d:
        pytest.skip("PERFLOG_BUILD_DIR is not set: point it at a meson build directory "
                    "configured with -Dexamples=true (e.g. PERFLOG_BUILD_DIR=build)")
    exes = [pathlib.Path(d, "examples", x) for x in ("c_actions", "c_read")]
    for x in exes:
        if not os.access(x, os.X_OK):
            pytest.skip(f"{x} is missing: build {d} with examples (ninja -C {d})")
    return exes


def _record_trace(tmp_path_factory, requests):
    c_actions, c_read = _build_dir()
    path = tmp_path_factory.mktemp("ref") / f"c_actions-{requests}.zst"
    p = subprocess.run([c_actions, path, str(requests)], capture_output=True, text=True,
                       check=True)
    m = re.search(r"recorded (\d+) events into .* \(dropped (\d+)\)", p.stdout)
    assert m, p.stdout
    c = subprocess.run([c_read, path], capture_output=True, check=True)
    ref = subprocess.run([sys.executable, HERE / "ref_reader.py", path], capture_output=True,
                         check=True)
    with ref_reader.Reader(path) as r:
        header = r.header
        records = list(r)
    return {"path": path, "events": int(m.group(1)), "dropped": int(m.group(2)),
            "c_lines": c.stdout.split(b"\n"), "ref_lines": ref.stdout.split(b"\n"),
            "header": header, "records": records}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _record_trace(tmp_path_factory, SMALL)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    return _record_trace(tmp_path_factory, LARGE)


@pytest.mark.parametrize("trace", ["small", "large"])
def test_c_read_matches_reference(request, trace):
    t = request.getfixturevalue(trace)
    assert len(t["ref_lines"]) > 3
    assert t["c_lines"][0] == t["ref_lines"][0]  # the header line
    for n, (c, ref) in enumerate(zip(t["c_lines"], t["ref_lines"]), 1):
        assert c == ref, f"line {n} differs"
    assert len(t["c_lines"]) == len(t["ref_lines"])


def _frame_starts(data):
    """Offsets of the frames (after the magic frame), found with zstandard alone: where
    each frame's index begins (the index frame and its data frame are written together)."""
    starts, off = [], ref_reader.MAGIC_FRAME_BYTES
    while off < len(data):
        starts.append(off)
        if int.from_bytes(data[off:off + 4], "little") == ref_reader.INDEX_FRAME_ID:
            off += 8 + ref_reader.INDEX_PAYLOAD
        d = ref_reader.zstandard.ZstdDecompressor().decompressobj()
        d.decompress(data[off:])
        assert d.eof
        off = len(data) - len(d.unused_data)
    return starts


def test_damaged_file_same_prefix_and_offset(small, tmp_path):
    # A complete trace followed by a damaged copy of its last frame: both readers must
    # print every record before it, then stop at that frame's offset.
    c_read = _build_dir()[1]
    data = small["path"].read_bytes()
    last = data[_frame_starts(data)[-1]:]
    for name, tail in (("checksum", last[:-1] + bytes([last[-1] ^ 0xFF])),
                       ("truncated", last[:-7])):
        path = tmp_path / f"{name}.zst"
        path.write_bytes(data + tail)
        c = subprocess.run([c_read, path], capture_output=True)
        ref = subprocess.run([sys.executable, HERE / "ref_reader.py", path],
                             capture_output=True)
        assert c.returncode == ref.returncode == 3, name
        for err in (c.stderr, ref.stderr):
            assert re.search(rb"offset %d: " % len(data), err), err
        assert ref.stdout == b"\n".join(small["ref_lines"])
        assert c.stdout == ref.stdout


def test_header_frame_only(small, tmp_path):
    # What a program killed right after pl_writer_open() leaves: a complete file.
    c_read = _build_dir()[1]
    data = small["path"].read_bytes()
    path = tmp_path / "header-only.zst"
    path.write_bytes(data[:_frame_starts(data)[1]])
    with ref_reader.Reader(path) as r:  # a complete file: a header and no records
        assert r.header["task_prefix"] == small["header"]["task_prefix"]
        assert list(r) == []
    c = subprocess.run([c_read, path], capture_output=True)
    assert c.returncode == 0, c.stderr
    assert c.stdout == small["c_lines"][0] + b"\n"


# ---- independent facts about what c_actions.c recorded ----

def _expected_n(req):
    """c_actions.c: handle(i, 1 + (i * 2654435761u) % 100000), in unsigned arithmetic."""
    return 1 + (req * 2654435761 & 0xFFFFFFFF) % 100000


def _collatz_steps(n):
    steps = 0
    while n != 1:
        n = 3 * n + 1 if n & 1 else n // 2
        steps += 1
    return steps


def _events(t):
    return [r for r in t["records"] if r["kind"] in ("start", "end", "message")]


def test_counts_agree_with_the_writer(small, large):
    for t in (small, large):
        stats = [r for r in t["records"] if r["kind"] == "stats"]
        assert len(stats) == 1 and t["records"][-1] is stats[0]
        s = stats[0]["fields"]
        assert s["events"] == t["events"]
        assert s["dropped_full"] + s["dropped_oversize"] + s["dropped_no_buffer"] == t["dropped"]
        dropped = sum(r["count"] for r in t["records"] if r["kind"] == "dropped")
        assert dropped == t["dropped"]
        # Every staged event is a record, but for pl_thread_name(), a THREAD record.
        assert len(_events(t)) == t["events"] - 1
    assert small["dropped"] == 0


def _actions(t):
    """(task, level) -> {"start": rec, "end": rec}; checks each pair is well formed."""
    actions, order = {}, {}
    for i, r in enumerate(_events(t)):
        key = (r["task_prefix"], r["task_seq"], tuple(r["level"]))
        if r["kind"] == "start":
            assert key not in actions, f"two STARTs for {key}"
            actions[key] = {"start": r, "end": None}
            order[key] = i
        elif r["kind"] == "end":
            assert key in actions, f"END without a START for {key}"
            assert actions[key]["end"] is None, f"two ENDs for {key}"
            assert order[key] < i
            actions[key]["end"] = r
    return actions


def test_every_end_matches_a_start(small):
    actions = _actions(small)
    assert actions
    for key, a in actions.items():
        assert a["end"] is not None, f"START without an END for {key} (nothing was dropped)"
        assert a["end"]["thread"] == a["start"]["thread"]


def test_levels_nest(small):
    actions = _actions(small)
    children = {}
    for r in _events(small):
        task, level = (r["task_prefix"], r["task_seq"]), r["level"]
        assert r["task_prefix"] == small["header"]["task_prefix"]
        if not level:
            assert r["kind"] != "message"  # c_actions logs messages inside requests only
            continue
        parent = task + (tuple(level[:-1]),)
        assert parent in actions, f"{r['kind']} at {level} has no parent action"
        assert level[-1] >= 1
        if r["kind"] != "end":
            children.setdefault(parent, []).append(level[-1])
    for parent, ks in children.items():
        assert ks == list(range(1, len(ks) + 1)), f"child numbers of {parent}: {ks}"


def test_requests_as_c_actions_does_them(small):
    actions = _actions(small)
    msgs = {(r["task_prefix"], r["task_seq"], tuple(r["level"])): r
            for r in _events(small) if r["kind"] == "message"}
    roots = [(k, a) for k, a in actions.items() if not k[2]]
    assert len(roots) == SMALL
    failed = set()
    for (prefix, seq, _), a in roots:
        req = a["start"]["fields"]["id"]
        n = _expected_n(req)
        assert a["start"]["type"] == "request" and a["start"]["fields"]["path"] == "/collatz"
        parse = actions[(prefix, seq, (1,))]
        assert parse["start"]["type"] == "parse" and parse["start"]["fields"] == {"n": n}
        lookup = msgs[(prefix, seq, (2,))]
        hit = n % 7 == 0
        assert lookup["type"] == "cache_lookup" and lookup["fields"] == {"hit": hit}
        compute = actions.get((prefix, seq, (3,)))
        if hit:
            assert compute is None
        else:
            assert compute["start"]["type"] == "compute"
            assert compute["start"]["fields"] == {"n": n}
            assert compute["end"]["fields"] == {"steps": _collatz_steps(n)}
        end = a["end"]
        if end["outcome"] == 1:
            failed.add(req)
            assert end["exc_type"] == "ValueError"
            assert end["exc_msg"] == "n is a multiple of 97"
        else:
            assert end["outcome"] == 0 and end["exc_type"] is None
    expected = {i for i in range(1, SMALL + 1) if _expected_n(i) % 97 == 0}
    assert expected, "the run must contain failed requests"
    assert failed == expected
    # Only requests fail; their children succeed.
    assert all(a["end"]["outcome"] == 0 for k, a in actions.items() if k[2])


def test_parent_outlasts_its_children(small):
    actions = _actions(small)
    total = {}
    for (prefix, seq, level), a in actions.items():
        if level:
            parent = (prefix, seq, level[:-1])
            total[parent] = total.get(parent, 0) + a["end"]["duration_ns"]
    assert total
    for parent, d in total.items():
        assert actions[parent]["end"]["duration_ns"] >= d, parent


def test_times_are_consistent(small):
    h = small["header"]
    for a in _actions(small).values():
        s, e = a["start"], a["end"]
        # Timestamps and durations are converted with the TSC rate of the flush that
        # encoded them (format.md 2.2), so they disagree by (time since the anchor) x
        # (change of rate). A rate measured over a few ms by a preempted flusher can be
        # off by ~1% (45 us seen at t=7 ms under load): allow 5%, which still catches
        # any unit or conversion error.
        slack = 0.05 * e["ts_ns"] + 1000
        assert abs((e["ts_ns"] - s["ts_ns"]) - e["duration_ns"]) <= slack
        for r in (s, e):
            # Wall time follows the CLOCK checkpoints: over a test's seconds, clock
            # adjustments (NTP slews) stay far below 5 ms; a unit error would not.
            assert abs(r["wall_ns"] - r["ts_ns"] - h["wall_ns"]) < 5_000_000
