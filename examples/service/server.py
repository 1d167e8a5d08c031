# SPDX-License-Identifier: MIT
"""A small HTTP service recorded with perflog, one causal tree per request: an aiohttp
application behind perflog's middleware (perflog.aiohttp), as a user would write it.

    server.py OUTDIR [--port 0] [--rows 200000] [--workers 2]
              [--rotate-bytes N --keep-bytes N]   (always on: rotation and a disk budget)
              [--query NAME]...                   (more query parameters to record)

GET /user/{uid}               cached; an indexed query on a miss
GET /report?user=U&days=D     cached; an aggregate over D days (`user` is not indexed)
GET /export?user=U&days=D     cached; a worker process builds a compressed CSV
Each request: http.request (the middleware: route template, param.uid, query.user,
query.days; status and bytes) > parse, auth > sql.query, handler.* > cache.get, sql.query or
worker.call (> the worker's export.build), render. A request carrying X-Perflog-Task (the
recorded load generator's) continues the client's task. The handlers' blocking work
(SQLite, the worker pool) runs in threads (asyncio.to_thread copies the context, so it
nests under the request). Prints "listening on URL", serves until SIGTERM/SIGINT, then
stops its workers: OUTDIR holds server.zst and worker-<pid>.zst (with --rotate-bytes, each
writer's numbered files: server.000000.zst, ...).
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import sys
import sqlite3
import tempfile
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

import perflog
import perflog.aiohttp
from perflog import perflog as pl

import store
import worker


class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


CACHE = store.Cache()
DB_PATH = POOL = None


@pl(action_type="parse")
def parse(path):
    url = urlsplit(path)
    q = {k: v[-1] for k, v in parse_qs(url.query).items()}
    parts = url.path.strip("/").split("/")
    try:
        if parts[0] == "user" and len(parts) == 2:
            return "user", (int(parts[1]),)
        if parts[0] in ("report", "export") and len(parts) == 1:
            days = int(q.get("days", 7))
            if not 1 <= days <= store.DAYS:
                raise ValueError(f"days out of range: {days}")
            return parts[0], (int(q["user"]), days)
    except (KeyError, ValueError) as e:
        raise HTTPError(400, f"bad request: {e}") from e
    raise HTTPError(404, "no such route")


@pl(action_type="auth", args=False)
def auth(db, header):
    token = header.removeprefix("Bearer ")
    if not store.query(db, "SELECT id FROM users WHERE token = ?", (token,)):
        raise HTTPError(401, "unknown token")


@pl(action_type="handler.user", args=["uid"])
def user(db, uid):
    page = CACHE.get(f"user:{uid}")
    if page is None:
        rows = store.query(db, "SELECT id, name FROM users WHERE id = ?", (uid,))
        if not rows:
            raise HTTPError(404, f"no user {uid}")
        page = {"id": rows[0][0], "name": rows[0][1]}
        CACHE.put(f"user:{uid}", page)
    return page


@pl(action_type="handler.report", args=["uid", "days"])
def report(db, uid, days):
    page = CACHE.get(f"report:{uid}:{days}")
    if page is None:
        store.archive_read(days)
        rows = store.query(db, "SELECT count(*), sum(amount) FROM events"
                           " WHERE user = ? AND day >= ?", (uid, store.DAYS - days))
        page = {"user": uid, "days": days, "events": rows[0][0], "amount": rows[0][1] or 0}
        CACHE.put(f"report:{uid}:{days}", page)
    return page


@pl(action_type="handler.export", args=["uid", "days"])
def export(db, uid, days):
    page = CACHE.get(f"export:{uid}:{days}")
    if page is None:
        with perflog.action("worker.call", function="worker.export"):
            # current_task() names a place under worker.call; the worker continues there.
            page = POOL.apply(worker.export, (perflog.current_task(), uid, days))
        CACHE.put(f"export:{uid}:{days}", page)
    return page


@pl(action_type="render", args=["template"])
def render(template, page):
    return json.dumps({"template": template, **page}).encode() + b"\n"


HANDLERS = {"user": user, "report": report, "export": export}


def serve(path, authorization):
    """One request's work (in a thread): (status, content type, body)."""
    try:
        route, args = parse(path)
        db = sqlite3.connect(DB_PATH)
        try:
            auth(db, authorization)
            page = HANDLERS[route](db, *args)
        finally:
            db.close()
        return 200, "application/json", render(route, page)
    except HTTPError as e:
        return e.status, "text/plain", f"{e}\n".encode()


async def handle(request):
    status, ctype, body = await asyncio.to_thread(
        serve, request.path_qs, request.headers.get("Authorization", ""))
    return web.Response(status=status, body=body, content_type=ctype)


def make_app(query=()):
    # The middleware records each request; the query parameters worth grouping by are
    # allow-listed (nothing else of the URL or headers is recorded).
    app = web.Application(
        middlewares=[perflog.aiohttp.middleware(query=["user", "days", *query])])
    app.router.add_get("/user/{uid}", handle)
    app.router.add_get("/report", handle)
    app.router.add_get("/export", handle)
    return app


async def serve_until_signalled(port, query=()):
    runner = web.AppRunner(make_app(query), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}",
          flush=True)
    await stop.wait()
    await runner.cleanup()


def main():
    global DB_PATH, POOL
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument("--rows", type=int, default=200_000, help="events in the database")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rotate-bytes", type=int, default=0, help="start a new file past N bytes")
    ap.add_argument("--keep-bytes", type=int, default=0,
                    help="delete each writer's oldest files past N bytes in all")
    ap.add_argument("--query", action="append", default=[], metavar="NAME",
                    help="also record this query parameter (besides user and days)")
    args = ap.parse_args()
    options = {}
    if args.rotate_bytes:
        options.update(rotate_bytes=args.rotate_bytes, keep_bytes=args.keep_bytes)
    # Until the server runs, a SIGTERM exits through the finally below (the database goes).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _: sys.exit(128 + signum))
    # Signals wait while the directory is made and the clean-up armed: one arriving in
    # between would leave the directory behind.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    tmp = tempfile.mkdtemp(prefix="perflog-service-")
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        DB_PATH = os.path.join(tmp, "service.sqlite")
        store.create(DB_PATH, args.rows)
        perflog.start(os.path.join(args.out_dir, "server.zst"), **options)
        # spawn, not fork: this process has threads (perflog's flusher, soon the server's).
        POOL = multiprocessing.get_context("spawn").Pool(
            args.workers, initializer=worker.init, initargs=(args.out_dir, DB_PATH, options))
        asyncio.run(serve_until_signalled(args.port, args.query))
        POOL.close()
        POOL.join()  # the workers exit normally: their traces are closed at exit
        perflog.stop()
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
