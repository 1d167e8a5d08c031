# SPDX-License-Identifier: MIT
"""A bounded load for examples/service: a fixed, seeded list of requests sent by a few
threads with urllib, through perflog.http.urlopen: when recording (run.py records the load
into OUTDIR/client.zst), each request is an http.client action whose task the server's
request continues (X-Perflog-Task). Usage: load.py URL [--requests 200] [--threads 4]"""
import argparse
import http.client
import queue
import random
import threading
import time
import urllib.error
import urllib.request

import perflog.http


def requests_for(n, seed=3):
    """n (path, token) pairs, the same on every run: mostly cheap, a few slow or bad."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        r, uid = rng.random(), rng.randrange(1000)
        if r < 0.60:   # a few popular users: the cache hits
            path = f"/user/{min(int(rng.paretovariate(1.0)), 999)}"
        elif r < 0.86:  # the long ranges are the slow inputs
            path = f"/report?user={uid}&days={rng.choices([1, 7, 30, 90, 365], [3, 3, 2, 1, 1])[0]}"
        elif r < 0.96:
            path = f"/export?user={uid}&days={rng.choices([7, 30, 365], [5, 3, 2])[0]}"
        elif r < 0.98:
            path = f"/report?user={uid}&days=9999"  # 400
        else:
            path = f"/user/{uid}"
            uid = -1                                  # 401
        out.append((path, f"tok{uid}"))
    return out


def run(url, reqs, threads=4, timeout=60):
    """Send reqs from `threads` threads; returns [(path, status, seconds)] in send order."""
    pending, results = queue.Queue(), [None] * len(reqs)
    for i, r in enumerate(reqs):
        pending.put((i, r))

    def client():
        while True:
            try:
                i, (path, token) = pending.get_nowait()
            except queue.Empty:
                return
            req = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
            t = time.perf_counter()
            try:
                with perflog.http.urlopen(req, timeout=timeout) as resp:
                    resp.read()
                    status = resp.status
            except urllib.error.HTTPError as e:
                status = e.code
            except (OSError, http.client.HTTPException) as e:  # refused, reset, timed out
                status = f"error: {type(e).__name__}"
            results[i] = (path, status, time.perf_counter() - t)

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--threads", type=int, default=4)
    a = ap.parse_args()
    for path, status, s in run(a.url.rstrip("/"), requests_for(a.requests), a.threads):
        print(f"{status} {s * 1e3:8.1f} ms  {path}")
