# SPDX-License-Identifier: MIT
"""Run examples/service end to end with one command: start the server (and its worker
processes), send a bounded load (recorded too: OUTDIR/client.zst, each request's task
continued by the server and its workers), shut down cleanly; the traces stay in OUTDIR.

    run.py OUTDIR [--requests 200] [--threads 4]

Then: perfan sla --p99 200ms OUTDIR, perfan slowest OUTDIR,
      perfan tree --slowest 1 --type 'export.*' OUTDIR   (one task across two processes)
"""
import argparse
import glob
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time

import perflog

import load

HERE = pathlib.Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for old in glob.glob(os.path.join(args.out_dir, "server.zst")) + \
            glob.glob(os.path.join(args.out_dir, "client.zst")) + \
            glob.glob(os.path.join(args.out_dir, "worker-*.zst")):
        os.remove(old)  # a directory is one run: perfan reads every file in it

    t0 = time.perf_counter()
    # Its own process group, so that a hung server can be killed with its workers.
    server = subprocess.Popen([sys.executable, str(HERE / "server.py"), args.out_dir],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("listening on "):
            sys.exit(f"run.py: the server did not start (exit {server.wait()})")
        url = line.split()[-1]
        t1 = time.perf_counter()
        perflog.start(os.path.join(args.out_dir, "client.zst"))
        try:
            results = load.run(url, load.requests_for(args.requests), args.threads)
        finally:
            perflog.stop()
        t2 = time.perf_counter()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            rc = server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # never leave it (and its workers) behind
            os.killpg(server.pid, signal.SIGKILL)
            rc = server.wait()
    if rc != 0:
        sys.exit(f"run.py: the server exited with status {rc}")

    print(f"service: {len(results)} requests from {args.threads} threads to {url} in "
          f"{t2 - t1:.1f} s (start-up {t1 - t0:.1f} s, total {time.perf_counter() - t0:.1f} s)")
    print(f"  {'route':<8} {'count':>5}  {'statuses':<22} {'p50':>9} {'max':>9}")
    for route in ("user", "report", "export"):
        rs = [(st, s) for p, st, s in results if p.startswith(f"/{route}")]
        statuses = {st: sum(1 for x, _ in rs if x == st)
                    for st, _ in sorted(rs, key=lambda r: str(r[0]))}
        ms = [s * 1e3 for _, s in rs]
        if not ms:
            print(f"  {route:<8} {0:>5}")
            continue
        print(f"  {route:<8} {len(rs):>5}  {str(statuses):<22} {statistics.median(ms):>6.1f} ms"
              f" {max(ms):>6.1f} ms")
    for f in sorted(os.listdir(args.out_dir)):
        path = os.path.join(args.out_dir, f)
        print(f"  trace {path}  ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
