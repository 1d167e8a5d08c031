# SPDX-License-Identifier: MIT
"""A soak: examples/service always on, with rotation and retention, under a steady load.

    bench/soak.py [--seconds 600] [--warmup 60] [--rate 60] [--rotate-bytes 262144]
                  [--keep-bytes 1048576] [--out DIR]

The server (and its worker processes) record every request into rotating files while a
load generator sends --rate requests per second, each with a unique `rid` in its query.
Every second the soak samples each process's RSS and each writer's files. At the end:

  - memory: each process's RSS grows by at most 5 MB from the end of the warm-up to the
    end of the run (a leak of even 100 bytes per request would show);
  - disk: at every sample, each writer's closed files plus its current file (counted up
    to rotate_bytes: a file's last frame may pass it) are within keep_bytes, and
    retention deleted files (the budget was reached);
  - counts: `perfan stats` counts exactly the http.request actions found in the files
    kept, which are requests the load generator saw complete; and every request sent
    after the kept files begin is among them (nothing lost in a rotation);
  - perfan reads the kept files without a warning, and no writer dropped an event.

Prints its figures and exits 1 when a check fails. tests/python/test_soak.py runs a
60-second version in the plain build (not under ASan: its quarantine would break the
RSS check). Uses the interpreter it runs with and PERFAN (or build/analyzer/perfan).
"""
import argparse
import collections
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
SERVICE = ROOT / "examples" / "service"
sys.path.insert(0, str(SERVICE))
import load  # noqa: E402  (examples/service/load.py: the request mix)

RSS_GROWTH_MAX = 5 << 20


def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def writers(out_dir):
    """{writer: [(name, size)] in file order}: server.NNNNNN.zst, worker-PID.NNNNNN.zst."""
    by = collections.defaultdict(list)
    for p in sorted(pathlib.Path(out_dir).iterdir()):
        m = re.fullmatch(r"(server|worker-\d+)\.(\d+)\.zst", p.name)
        if m:
            try:
                by[m.group(1)].append((p.name, p.stat().st_size))
            except FileNotFoundError:
                pass  # deleted by retention between the listing and the stat
    return by


class Load:
    """Open-loop load: --rate requests per second from a pool of threads, each request
    with a unique rid; what completed (any HTTP status) is kept by rid."""

    def __init__(self, url, rate, threads=8):
        self.url, self.rate, self.threads = url, rate, threads
        self.mix = load.requests_for(200)  # a fixed set: the server's caches fill up
        self.sent, self.done, self.errors = {}, {}, 0
        self.lock = threading.Lock()
        self.next_rid = 0
        self.stop_at = 0.0

    def _take(self):
        with self.lock:
            rid = self.next_rid
            due = self.start + rid / self.rate
            if due >= self.stop_at:
                return None, None
            self.next_rid += 1
            return rid, due

    def _client(self):
        while True:
            rid, due = self._take()
            if rid is None:
                return
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            path, token = self.mix[rid % len(self.mix)]
            sep = "&" if "?" in path else "?"
            req = urllib.request.Request(f"{self.url}{path}{sep}rid={rid}",
                                         headers={"Authorization": f"Bearer {token}"})
            sent = time.time()
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    resp.read()
                ok = True
            except urllib.error.HTTPError:
                ok = True  # an answer (400, 401): the request completed
            except OSError:
                ok = False
            with self.lock:
                self.sent[rid] = sent
                if ok:
                    self.done[rid] = time.time()
                else:
                    self.errors += 1

    def run(self, seconds):
        self.start = time.time()
        self.stop_at = self.start + seconds
        pool = [threading.Thread(target=self._client) for _ in range(self.threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()


def perfan_path():
    p = os.environ.get("PERFAN") or str(
        pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", ROOT / "build"), "analyzer", "perfan"))
    if not os.access(p, os.X_OK):
        sys.exit(f"soak: no perfan at {p} (set PERFAN or PERFLOG_BUILD_DIR)")
    return p


def kept_requests(out_dir):
    """rid -> (start wall, ended) of the http.request actions in the files kept, read with
    perflog.read() (independently of perfan); and the DROPPED count."""
    import perflog
    starts, ends, dropped, types = {}, set(), 0, {}
    for p in sorted(pathlib.Path(out_dir).iterdir()):
        for rec in perflog.read(str(p)):
            if rec["kind"] == "start":
                types[(rec["task_id"], tuple(rec["level"]))] = rec
            elif rec["kind"] == "end":
                ends.add((rec["task_id"], tuple(rec["level"])))
            elif rec["kind"] == "dropped":
                dropped += rec["count"]
    for key, rec in types.items():
        if rec["type"] == "http.request":
            rid = rec["fields"]["query.rid"]  # the server records it (--query rid)
            starts[rid] = (rec["wall_ns"], key in ends)
    return starts, dropped


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--warmup", type=float, default=None, help="default: a tenth, 10..60 s")
    ap.add_argument("--rate", type=float, default=60, help="requests per second")
    ap.add_argument("--rotate-bytes", type=int, default=256 << 10)
    ap.add_argument("--keep-bytes", type=int, default=1 << 20)
    ap.add_argument("--out", help="trace directory (default: a temporary one, removed)")
    a = ap.parse_args()
    warmup = a.warmup if a.warmup is not None else min(60.0, max(10.0, a.seconds / 10))
    perfan = perfan_path()
    tmp = None
    if a.out:
        out_dir = pathlib.Path(a.out)
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.glob("*.zst"):
            old.unlink()
    else:
        tmp = tempfile.TemporaryDirectory(prefix="perflog-soak-")
        out_dir = pathlib.Path(tmp.name)
    server = subprocess.Popen(
        [sys.executable, str(SERVICE / "server.py"), str(out_dir), "--rows", "20000",
         "--rotate-bytes", str(a.rotate_bytes), "--keep-bytes", str(a.keep_bytes),
         "--query", "rid"],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    failures, samples, disk_bad = [], collections.defaultdict(list), []
    try:
        line = server.stdout.readline()
        if not line.startswith("listening on "):
            sys.exit(f"soak: the server did not start (exit {server.wait()})")
        url = line.split()[-1]
        gen = Load(url, a.rate)
        t0 = time.time()
        done = threading.Event()

        def monitor():
            while not done.wait(1.0):
                now = time.time() - t0
                for pid in [server.pid, *children(server.pid)]:
                    r = rss(pid)
                    if r:
                        samples[pid].append((now, r))
                for w, files in writers(out_dir).items():
                    closed = sum(size for _, size in files[:-1])
                    current = min(files[-1][1], a.rotate_bytes)
                    if closed + current > a.keep_bytes:
                        disk_bad.append((round(now, 1), w, closed, files[-1][1]))

        mon = threading.Thread(target=monitor)
        mon.start()
        try:
            gen.run(a.seconds)
        finally:
            done.set()
            mon.join()
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    elapsed = time.time() - t0

    print(f"soak: {a.seconds:.0f} s at {a.rate:g} req/s (warm-up {warmup:.0f} s), "
          f"rotate_bytes {a.rotate_bytes}, keep_bytes {a.keep_bytes}")
    print(f"  load: {len(gen.sent)} sent, {len(gen.done)} completed, {gen.errors} failed to "
          f"connect, in {elapsed:.1f} s")
    if server.returncode != 0:
        failures.append(f"the server exited with status {server.returncode}")
    for pid, s in sorted(samples.items()):
        after = [r for t, r in s if t >= warmup]
        if len(after) < 2:
            continue
        base, end, peak = after[0], after[-1], max(after)
        growth = end - base
        name = "server" if pid == server.pid else f"worker {pid}"
        print(f"  rss {name}: {base / 2**20:.1f} MB after warm-up, {end / 2**20:.1f} MB at the "
              f"end (peak {peak / 2**20:.1f} MB): {growth / 2**20:+.2f} MB")
        if growth > RSS_GROWTH_MAX:
            failures.append(f"{name}'s RSS grew by {growth / 2**20:.1f} MB after the warm-up")
    final = writers(out_dir)
    for w, files in sorted(final.items()):
        print(f"  files {w}: {len(files)} kept, {sum(s for _, s in files)} bytes, "
              f"{files[0][0]} .. {files[-1][0]}")
    if disk_bad:
        failures.append(f"a writer's files exceeded keep_bytes: {disk_bad[:3]}")
    if not any(int(files[0][0].split(".")[1]) > 0 for files in final.values()):
        failures.append("retention never deleted a file: the budget was not reached")

    kept, dropped = kept_requests(out_dir)
    p = subprocess.run([perfan, "stats", "--json", "--type", "http.request", str(out_dir)],
                       capture_output=True, text=True)
    if p.returncode != 0 or p.stderr:
        failures.append(f"perfan stats: exit {p.returncode}: {p.stderr.strip()}")
    stats = json.loads(p.stdout) if p.stdout else {}
    counted = sum(t["count"] for t in stats.get("types", []) if t["type"] == "http.request")
    complete = {rid for rid, (_, ended) in kept.items() if ended}
    first = min(w for w, _ in kept.values()) / 1e9 if kept else float("inf")
    expected = {rid for rid, sent in gen.sent.items() if sent >= first + 1.0 and rid in gen.done}
    print(f"  perfan: {counted} http.request actions in the files kept; perflog.read: "
          f"{len(complete)} complete ({len(kept)} started); load generator: {len(expected)} "
          f"completed after the kept files begin (+1 s); dropped events: {dropped}")
    if counted != len(complete):
        failures.append(f"perfan counts {counted} requests, the files hold {len(complete)}")
    if not complete <= set(gen.done):
        failures.append(f"{len(complete - set(gen.done))} requests in the files the load "
                        "generator never saw complete")
    if not expected <= complete:
        failures.append(f"{len(expected - complete)} completed requests missing from the files")
    if dropped:
        failures.append(f"the writers dropped {dropped} events")
    if tmp:
        tmp.cleanup()
    for f in failures:
        print(f"soak: FAILED: {f}")
    print("soak: ok" if not failures else f"soak: {len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
