# SPDX-License-Identifier: MIT
"""Shared fixtures: a trace file being recorded, and a read-back helper that rebuilds the
task trees from perflog.read() (the tests assert on the trees, never on internals)."""
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import threading

import pytest

import perflog


class Node:
    """An action (or message) rebuilt from its START and END (or MESSAGE) records."""

    def __init__(self, rec):
        self.kind = "message" if rec["kind"] == "message" else "action"
        self.type = rec.get("type")
        self.task_id = rec["task_id"]
        self.level = tuple(rec["level"])
        self.fields = rec.get("fields", {}) if rec["kind"] != "end" else {}
        self.thread = rec["thread"]
        self.ts_ns = rec["ts_ns"]
        self.end = None
        self.children = []

    # END record fields
    @property
    def outcome(self):
        return self.end["outcome"] if self.end else None

    @property
    def duration_ns(self):
        return self.end["duration_ns"] if self.end else None

    @property
    def exc_type(self):
        return self.end["exc_type"] if self.end else None

    @property
    def exc_msg(self):
        return self.end["exc_msg"] if self.end else None

    @property
    def end_fields(self):
        return self.end["fields"] if self.end else None

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def shape(self):
        """A compact picture of the subtree: type(child, child, ...)."""
        if not self.children:
            return self.type
        return f"{self.type}({', '.join(c.shape() for c in self.children)})"

    def __repr__(self):
        return f"<Node {self.type} {self.task_id}@{list(self.level)} {self.outcome}>"


class Tree:
    def __init__(self, records):
        self.records = records
        self.nodes = {}
        self.orphan_ends = []
        for r in records:
            if r["kind"] in ("start", "message"):
                self.nodes[(r["task_id"], tuple(r["level"]))] = Node(r)
            elif r["kind"] == "end":
                n = self.nodes.get((r["task_id"], tuple(r["level"])))
                if n is None:
                    self.orphan_ends.append(r)
                else:
                    assert n.end is None, f"two ENDs for {n}"
                    n.end = r
        self.roots = []
        for (task, level), n in self.nodes.items():
            parent = self.nodes.get((task, level[:-1])) if level else None
            (parent.children if parent else self.roots).append(n)
        for n in self.nodes.values():
            n.children.sort(key=lambda c: c.level[-1])
        self.roots.sort(key=lambda n: n.ts_ns)

    def of_type(self, t):
        return [n for n in self.nodes.values() if n.type == t]

    def one(self, t):
        found = self.of_type(t)
        assert len(found) == 1, f"{len(found)} actions of type {t!r}: {found}"
        return found[0]

    def stats(self):
        return [r for r in self.records if r["kind"] == "stats"]


class Trace:
    """A trace being recorded into path; read() stops recording and rebuilds the trees."""

    def __init__(self, path):
        self.path = path

    def start(self, **options):
        perflog.start(str(self.path), **options)
        return self

    def read(self):
        perflog.stop()
        return Tree(list(perflog.read(str(self.path))))


@pytest.fixture
def trace(tmp_path):
    t = Trace(tmp_path / "trace.zst").start()
    yield t
    perflog.stop()


@pytest.fixture
def rng():
    seed = int(os.environ.get("PERFLOG_TEST_SEED", random.randrange(1 << 32)))
    print(f"random seed: {seed} (PERFLOG_TEST_SEED={seed} repeats it)")
    return random.Random(seed)


def run_python(code, env=None, check=True, **kwargs):
    """Run code in a fresh interpreter (this one) that imports the package under test."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=120, **kwargs)
    if check:
        assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@contextlib.contextmanager
def serve_aiohttp(app):
    """Run the aiohttp.web @app on 127.0.0.1 (a free port) on an event loop in a thread of
    this process; yield its base URL; stop it (and the thread) on the way out."""
    from aiohttp import web
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
