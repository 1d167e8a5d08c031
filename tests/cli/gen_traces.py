#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""gen_traces.py - traces for perfan's tests, and what perfan must say about them,
computed independently of perfan.

Two kinds of traces:

* fixtures(dir): small traces written here, byte by byte from docs/format.md, with exact
  durations, pids, times and thread layout, so that perfan's output on them is fully
  deterministic (the golden cases of run.py use them). web.zst has two threads whose
  chunks overlap in time (the main thread's chunk comes second in each frame), two
  frames, a failure, nested actions, a message and one action that never ends; svc.zst is
  another process continuing a task of web.zst.
* real(dir, gen_trace): traces recorded by tests/cli/gen_trace (the C writer, public
  API), with busy-waited durations.

expected(paths, ...) reads traces with tests/reference/ref_reader.py (an independent
reader of the format) and computes per-type statistics, the slowest actions and SLA
verdicts the way perfan's --help documents them - never from perfan's output.

As a command: gen_traces.py fixtures DIR  |  gen_traces.py real DIR GEN_TRACE
(run with Debian's /usr/bin/python3: it needs python3-msgpack and python3-zstandard).
"""

import fnmatch
import pathlib
import struct
import subprocess
import sys

import msgpack
import zstandard

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "reference"))
import ref_reader  # noqa: E402

# ---- a minimal writer of format versions 1 and 2 (docs/format.md) -----------------------


def magic(version):
    return struct.pack("<II", 0x184D2A5E, 8) + b"PERFLOG" + bytes([version])


MAGIC = magic(1)
K_HEADER, K_START, K_END, K_MESSAGE, K_THREAD = 0, 1, 2, 3, 4
K_STATS, K_NAME, K_CHUNK, K_CLOCK, K_BLOCK = 6, 7, 8, 9, 10
VERSION = 2  # what the fixtures are written in (tests/cli/test_perfan.py: 1 and 2 agree)


def uv(n):
    """LEB128, as a BLOCK's columns hold integers (format.md 2.9)."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def sv(n):
    return uv(((n << 1) ^ (n >> 63)) & ((1 << 64) - 1))


class TraceWriter:
    """Builds a trace frame by frame. Events are tuples, in each thread's order:
    ("start", thread, ts, type, task, level, fields)
    ("end", thread, ts, task, level, failed, duration, fields, exc_type, exc_msg)
    ("message", thread, ts, type, task, level, fields)
    where task is (prefix, seq)."""

    def __init__(self, path, pid, prefix, wall0, threads, host="testhost", argv=("fixture",),
                 version=None):
        self.version = version or VERSION
        self.path, self.pid, self.prefix, self.wall0 = path, pid, prefix, wall0
        self.threads = threads  # {number: name}
        self.host, self.argv = host, list(argv)
        self.names = {}
        self.frames = []

    def _name(self, s, out):
        if s not in self.names:
            self.names[s] = len(self.names) + 1
            out.append([K_NAME, self.names[s], s])
        return self.names[s]

    def _fields(self, fields, out):
        if not fields:
            return None
        return {self._name(k, out): v for k, v in fields.items()}

    def frame(self, events):
        first = not self.frames
        head, body = [], []
        if first:
            head.append([K_HEADER, {
                "format": "perflog", "version": self.version, "pid": self.pid,
                "host": self.host,
                "argv": self.argv, "clock": "monotonic", "ticks_per_s": 0.0,
                "mono_ns": 1000, "wall_ns": self.wall0, "task_prefix": self.prefix,
                "library": "perflog 0.1.0 (gen_traces.py)"}])
        by_thread = {}
        for e in events:
            by_thread.setdefault(e[1], []).append(e)
        ts0 = min(e[2] for e in events) if events else 0
        body.append([K_CLOCK, ts0, self.wall0 + ts0])
        if first:
            for t, name in sorted(self.threads.items()):
                body.append([K_THREAD, t, 10000 + t, name])
        for thread, evs in by_thread.items():
            if self.version >= 2:
                body.append(self._block(thread, evs, head))
                continue
            base = evs[0][2]
            body.append([K_CHUNK, thread, base])
            prev_ts, prev_seq = base, 0
            for e in evs:
                kind, _, ts = e[:3]
                dts, prev_ts = ts - prev_ts, ts
                task = e[4] if kind != "end" else e[3]
                if task[0] == self.prefix:
                    wire_task, prev_seq = task[1] - prev_seq, task[1]
                else:
                    wire_task = list(task)
                if kind in ("start", "message"):
                    _, _, _, typ, _, level, fields = e
                    rec = [K_START if kind == "start" else K_MESSAGE, dts,
                           self._name(typ, head), wire_task, list(level)]
                    f = self._fields(fields, head)
                    if f is not None:
                        rec.append(f)
                else:
                    _, _, _, _, level, failed, dur, fields, exc_type, exc_msg = e
                    rec = [K_END, dts, wire_task, list(level), int(failed), dur,
                           self._fields(fields, head)]
                    if exc_type is not None:
                        rec += [exc_type, exc_msg]
                body.append(rec)
        data = b"".join(msgpack.packb(r, use_bin_type=True) for r in head + body)
        self.frames.append(zstandard.ZstdCompressor(level=3, write_checksum=True).compress(data))

    def _block(self, thread, evs, head):
        """A BLOCK record (format.md 2.9): the thread's events as columns."""
        cols = [bytearray() for _ in range(8)]
        kinds, dts, types, tasks, levels, durs, fields, excs = cols
        prev_ts, prev_seq = evs[0][2], 0
        for e in evs:
            kind, _, ts = e[:3]
            task = e[4] if kind != "end" else e[3]
            if kind == "end":
                _, _, _, _, level, failed, dur, f, exc_type, exc_msg = e
            else:
                _, _, _, typ, _, level, f = e
                failed = False
            f = self._fields(f, head)
            remote = task[0] != self.prefix
            kinds.append({"start": K_START, "end": K_END, "message": K_MESSAGE}[kind]
                         | ((2 if failed == 2 else 1 if failed else 0) << 2)
                         | (16 if f is not None else 0)
                         | (32 if remote else 0))
            dts += uv(ts - prev_ts)
            prev_ts = ts
            if kind != "end":
                types += uv(self._name(typ, head))
            if remote:
                tasks += struct.pack("<Q", task[0]) + uv(task[1])
            else:
                tasks += sv(task[1] - prev_seq)
                prev_seq = task[1]
            levels += uv(len(level)) + b"".join(uv(x) for x in level)
            if kind == "end":
                durs += uv(dur)
            if f is not None:
                m = msgpack.packb(f, use_bin_type=True)
                fields += uv(len(m)) + m
            if failed:
                for text in (exc_type or "", exc_msg or ""):
                    b = text.encode()
                    excs += uv(len(b)) + b
        return [K_BLOCK, thread, evs[0][2], len(evs)] + [bytes(c) for c in cols]

    def close(self, stats=True):
        if stats:
            tail = [K_STATS, {"events": 0, "frames": len(self.frames) + 1}]
            data = msgpack.packb([K_CLOCK, 0, self.wall0]) + msgpack.packb(tail)
            self.frames.append(zstandard.ZstdCompressor(write_checksum=True).compress(data))
        with open(self.path, "wb") as f:
            f.write(magic(self.version) + b"".join(self.frames))


MS, US = 1000000, 1000
WALL0 = 1735787045 * 10**9  # 2025-01-02T03:04:05Z
WEB_PREFIX, SVC_PREFIX = 0x0123456789ABCDEF, 0x0FEDCBA987654321


class Tree:
    """Collects START/END events of nested actions with explicit times."""

    def __init__(self):
        self.events = []

    def action(self, thread, task, level, typ, start, dur, fields=None, outputs=None,
               exc=None):
        self.events.append(("start", thread, start, typ, task, tuple(level), fields or {}))
        self.events.append(("end", thread, start + dur, task, tuple(level), exc is not None,
                            dur, outputs or {}, exc[0] if exc else None,
                            exc[1] if exc else None))

    def message(self, thread, task, level, typ, ts, fields):
        self.events.append(("message", thread, ts, typ, task, tuple(level), fields))

    def split(self, pred):
        """The events (in time order per thread) for which pred(event) holds."""
        return sorted((e for e in self.events if pred(e)), key=lambda e: (e[1], e[2]))


def fixtures(out):
    """Write the deterministic traces of the golden cases into directory @out."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    web, svc = Tree(), Tree()
    for i in range(1, 13):
        task = (WEB_PREFIX, i)
        t0 = i * 100 * MS
        q = i * MS
        fail = i == 7
        web.action(1, task, [1], "db.query", t0 + 10 * US, q,
                   {"sql": f"select * from items where id = {i}", "rows": i * 10},
                   None if fail else {"returned": i * 5},
                   ("db.Timeout", "deadline exceeded") if fail else None)
        t = t0 + 10 * US + q
        web.message(1, task, [2], "cache", t + 5 * US, {"hit": i % 2 == 0})
        rdur = 100 * US + i * 10 * US
        if i % 4 == 0:
            web.action(1, task, [3, 1], "db.query", t + 20 * US, 500 * US,
                       {"sql": "select * from templates", "rows": 1}, {"returned": 1})
            rdur += 500 * US
        web.action(1, task, [3], "render", t + 10 * US, rdur, {"template": "item.html"})
        t += 10 * US + rdur
        if i == 5:  # a call served by another process (svc.zst)
            stask = (WEB_PREFIX, 5)
            svc.action(1, stask, [4], "rpc.serve", t + 100 * US, 3 * MS,
                       {"method": "get", "key": "item-5"})
            svc.action(1, stask, [4, 1], "db.query", t + 200 * US, 1 * MS,
                       {"sql": "select * from stock", "rows": 3}, {"returned": 3})
            t += 3200 * US
        web.action(1, task, [], "http.request", t0, t + 50 * US - t0,
                   {"id": i, "route": "/item" if i % 2 else "/search",
                    "user": f"user{i % 3}"},
                   None, ("http.Error", "500: upstream timeout") if fail else None)
    for j in range(4):
        task = (WEB_PREFIX, 100 + j)
        t0 = 20 * MS + j * 300 * MS  # job 2 (620 ms) ends frame 1 after svc.zst's call
        web.action(2, task, [], "worker.job", t0, 2 * MS, {"queue": "q1", "n": j - 2})
        web.action(2, task, [1], "worker.step", t0 + 200 * US, 1500 * US, {"k": 0})
    w = TraceWriter(out / "web.zst", 4242, WEB_PREFIX, WALL0, {1: "main", 2: "worker"})
    cut = 650 * MS
    # Worker chunk first, then main: their times overlap, so perfan must sort.
    order = lambda e: (-e[1], e[2])  # noqa: E731
    w.frame(sorted(web.split(lambda e: e[2] < cut), key=order))
    late = sorted(web.split(lambda e: e[2] >= cut), key=order)
    late.append(("start", 1, 1300 * MS, "shutdown", (WEB_PREFIX, 99), (), {}))
    w.frame(late)
    w.close()
    s = TraceWriter(out / "svc.zst", 4343, SVC_PREFIX, WALL0, {1: "server"})
    s.frame(svc.split(lambda e: True))
    s.close()
    (out / "notes.txt").write_text("not a trace\n")
    fixtures_new(out / "new")
    fixtures_steady(out / "steady")
    return [out / "web.zst", out / "svc.zst"]


def fixtures_new(out):
    """new/web.zst, "the next release" of web.zst for `perfan diff`: db.query 1.5 times
    slower, render unchanged, worker.* gone, cache.get new; in a subdirectory so that the
    fixture directory itself holds only web.zst and svc.zst as traces."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    web = Tree()
    for i in range(1, 13):
        task = (WEB_PREFIX, i)
        t0 = i * 100 * MS
        q = i * 1500 * US
        web.action(1, task, [1], "db.query", t0 + 10 * US, q,
                   {"sql": f"select * from items where id = {i}", "rows": i * 10},
                   {"returned": i * 5})
        t = t0 + 10 * US + q
        web.action(1, task, [2], "cache.get", t + 5 * US, 20 * US + i * US, {"key": i})
        t += 50 * US
        rdur = 100 * US + i * 10 * US
        web.action(1, task, [3], "render", t + 10 * US, rdur, {"template": "item.html"})
        t += 10 * US + rdur
        web.action(1, task, [], "http.request", t0, t + 50 * US - t0,
                   {"id": i, "route": "/item" if i % 2 else "/search",
                    "user": f"user{i % 3}"})
    w = TraceWriter(out / "web.zst", 4244, WEB_PREFIX, WALL0 + 3600 * 10**9, {1: "main"})
    w.frame(web.split(lambda e: True))
    w.close()


def fixtures_steady(out):
    """steady/base.zst and steady/new.zst, for a diff that must find a regression and only
    one: 200 calls each of db.query and render with durations spread evenly (1.0 to
    2.0 ms, in a scrambled order); in new.zst db.query takes 1.3 times as long."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, slow in (("base.zst", 1.0), ("new.zst", 1.3)):
        tree = Tree()
        for i in range(1, 201):
            task = (WEB_PREFIX, i)
            t0 = i * 10 * MS
            d = MS + (i * 37 % 200) * 5 * US
            tree.action(1, task, [], "db.query", t0, int(d * slow), None)
            tree.action(1, (WEB_PREFIX, 1000 + i), [], "render", t0 + 5 * MS,
                        MS + (i * 53 % 200) * 5 * US, None)
        w = TraceWriter(out / name, 4300, WEB_PREFIX, WALL0, {1: "main"})
        w.frame(tree.split(lambda e: True))
        w.close()


def real(out, gen_trace):
    """Record the C-written test traces into directory @out (see gen_trace.c)."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(gen_trace), str(out)], check=True)
    return sorted(out.glob("*.zst"))


# ---- independent expectations --------------------------------------------------------------

def expand(paths):
    """Files as perfan takes them: a directory stands for its regular files, by name."""
    files = []
    for p in map(pathlib.Path, paths):
        if p.is_dir():
            files += sorted(x for x in p.iterdir() if x.is_file() and not x.name.startswith("."))
        else:
            files.append(p)
    return files


def load(paths):
    """Every action of the traces, paired by (task, level) across files.
    Returns a dict: actions (list of dicts), unfinished, unmatched, errors ({path: TraceError})."""
    starts, ends, errors, pids, headers, threads = {}, [], {}, {}, {}, {}
    for path in expand(paths):
        try:
            r = ref_reader.Reader(str(path))
        except (ref_reader.TraceError, OSError) as e:
            errors[str(path)] = e
            continue
        with r:
            pids[str(path)] = r.header["pid"]
            headers[str(path)] = r.header
            threads[str(path)] = r.threads  # filled as the file is read
            try:
                for rec in r:
                    if rec["kind"] not in ("start", "end"):
                        continue
                    key = (rec["task_prefix"], rec["task_seq"], tuple(rec["level"]))
                    rec["file"] = str(path)
                    if rec["kind"] == "start":
                        starts[key] = rec
                    else:
                        ends.append((key, rec))
            except ref_reader.TraceError as e:
                errors[str(path)] = e
    child_sum, nchildren = {}, {}
    for key, end in ends:
        if key[2]:
            parent = (key[0], key[1], key[2][:-1])
            child_sum[parent] = child_sum.get(parent, 0) + end["duration_ns"]
            nchildren[parent] = nchildren.get(parent, 0) + 1
    actions, unmatched, ended = [], 0, set()
    for key, end in ends:
        s = starts.get(key)
        if s is None:
            unmatched += 1
            continue
        ended.add(key)
        dur, kids = end["duration_ns"], child_sum.get(key, 0)
        path = []
        for d in range(len(key[2])):
            anc = starts.get((key[0], key[1], key[2][:d]))
            path.append(anc["type"] if anc else None)
        actions.append({
            "type": s["type"], "duration_ns": dur, "failed": bool(end["outcome"]),
            "start_ns": s["wall_ns"], "start_ts": s["ts_ns"], "key": key, "inputs": s["fields"],
            "outputs": end["fields"], "exc_type": end["exc_type"], "exc_msg": end["exc_msg"],
            "children": nchildren.get(key, 0), "children_ns": kids,
            "self_ns": max(0, dur - kids), "path": path + [s["type"]],
            "file": s["file"], "pid": pids[s["file"]], "thread": s["thread"],
            "tid": threads[s["file"]].get(s["thread"], (None, None))[0],
            "thread_name": threads[s["file"]].get(s["thread"], (None, None))[1],
            "host": headers[s["file"]].get("host"), "argv": headers[s["file"]].get("argv", []),
            "task": ref_reader.task_string(key[0], key[1], key[2])})
    unfinished = sum(1 for k in starts if k not in ended)
    return {"actions": actions, "unfinished": unfinished, "unmatched": unmatched,
            "errors": errors}


def shown_value(v):
    """A field value as perfan shows it in JSON: strings cut at 96 bytes (on a UTF-8
    boundary) end in an ellipsis, bytes are "<N bytes>" (their content is not kept)."""
    if isinstance(v, str) and len(v.encode()) > 96:
        b = v.encode()[:96]
        while b and (b[-1] & 0xC0) == 0x80 and len(b.decode("utf-8", "ignore")) < len(b):
            b = b[:-1]
        return b.decode("utf-8", "ignore") + "\u2026"
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return v


def nearest_rank(sorted_values, q):
    """The smallest value v such that at least ceil(q * n) values are <= v (q to 1e-6)."""
    n = len(sorted_values)
    ppm = round(q * 1000000)
    rank = max(1, (ppm * n + 999999) // 1000000)
    return sorted_values[rank - 1]


QUANTILES = {"p50_ns": 0.5, "p90_ns": 0.9, "p95_ns": 0.95, "p99_ns": 0.99, "p999_ns": 0.999}


def select(actions, type_glob=None, failed=False, min_ns=0, since=None, until=None,
           task=None):
    """The actions passing perfan's filters (see `perfan stats --help`)."""
    out = []
    for a in actions:
        if type_glob is not None and not fnmatch.fnmatchcase(a["type"], type_glob):
            continue
        if failed and not a["failed"] or a["duration_ns"] < min_ns:
            continue
        if since is not None and a["start_ns"] < since:
            continue
        if until is not None and a["start_ns"] >= until:
            continue
        if task is not None:
            prefix, seq, level = task
            k = a["key"]
            if (k[0], k[1]) != (prefix, seq) or k[2][:len(level)] != tuple(level):
                continue
        out.append(a)
    return out


def type_stats(actions):
    """Per type: what `perfan stats --json` reports, exactly (percentiles exact too)."""
    by_type = {}
    for a in actions:
        by_type.setdefault(a["type"], []).append(a)
    out = {}
    for typ, acts in by_type.items():
        durs = sorted(a["duration_ns"] for a in acts)
        total = sum(durs)
        st = {"count": len(durs), "failures": sum(a["failed"] for a in acts),
              "total_ns": total, "self_ns": sum(a["self_ns"] for a in acts),
              "mean_ns": (total + len(durs) // 2) // len(durs), "min_ns": durs[0],
              "max_ns": durs[-1]}
        for k, q in QUANTILES.items():
            st[k] = nearest_rank(durs, q)
        out[typ] = st
    return out


def slowest(actions, n):
    """The n slowest actions, perfan's order: longest first, then earliest start."""
    return sorted(actions, key=lambda a: (-a["duration_ns"], a["start_ns"]))[:n]


def main(argv):
    if len(argv) == 3 and argv[1] == "fixtures":
        for p in fixtures(argv[2]):
            print(p)
        return 0
    if len(argv) == 4 and argv[1] == "real":
        for p in real(argv[2], argv[3]):
            print(p)
        return 0
    sys.stderr.write("usage: gen_traces.py fixtures DIR | gen_traces.py real DIR GEN_TRACE\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
