# SPDX-License-Identifier: MIT
"""bench_web.py - what a request costs the server with perflog's middleware, against the
same app without it and with the OpenTelemetry instrumentation a user would install instead
(opentelemetry-instrumentation-asgi / -wsgi, the SDK with a batch exporter to a file, and
with no exporter), side by side in one run.

The apps are called in-process (an ASGI scope and a WSGI environ per request, no sockets):
what is measured is the middleware's work per request, not the network's. Starlette for
ASGI (a route /u/{uid} answering a small JSON body), Flask for WSGI (the same route), and
aiohttp (a mocked request through the application's routing and middlewares; OpenTelemetry's
aiohttp-server instrumentation is not on this machine's package index, so aiohttp is
measured against the bare app only).

Run: scripts/deps.sh --bench && scripts/build.sh &&
     PYTHONPATH=build/python .venv/bin/python3 bench/bench_web.py [--requests N] [--reps K]
"""

import argparse
import asyncio
import io
import os
import sys
import tempfile
import time


def starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def user(request):
        return Response(b'{"uid": %d}' % request.path_params["uid"],
                        media_type="application/json")

    return Starlette(routes=[Route("/u/{uid:int}", user)])


def flask_app():
    from flask import Flask, Response
    app = Flask("bench_web")

    @app.route("/u/<int:uid>")
    def user(uid):
        return Response(b'{"uid": %d}' % uid, mimetype="application/json")

    return app


async def drive_asgi(app, n):
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    t = time.perf_counter_ns()
    for i in range(n):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": f"/u/{i % 100}",
                 "raw_path": f"/u/{i % 100}".encode(), "query_string": b"page=2",
                 "root_path": "", "headers": [(b"host", b"bench"), (b"user-agent", b"b")],
                 "client": ("127.0.0.1", 1234), "server": ("127.0.0.1", 80)}
        await app(scope, receive, send)
    return (time.perf_counter_ns() - t) / n


def drive_wsgi(app, n):
    def start_response(status, headers, exc_info=None):
        return lambda b: None

    t = time.perf_counter_ns()
    for i in range(n):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/u/{i % 100}",
                   "QUERY_STRING": "page=2", "SERVER_NAME": "bench", "SERVER_PORT": "80",
                   "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "bench",
                   "HTTP_USER_AGENT": "b", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
                   "wsgi.multithread": False, "wsgi.multiprocess": False,
                   "wsgi.run_once": False, "wsgi.version": (1, 0)}
        body = app(environ, start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close:
            close()
    return (time.perf_counter_ns() - t) / n


def aiohttp_app(middlewares=()):
    from aiohttp import web

    async def user(request):
        return web.Response(body=b'{"uid": %d}' % int(request.match_info["uid"]),
                            content_type="application/json")

    app = web.Application(middlewares=list(middlewares))
    app.router.add_get("/u/{uid}", user)
    return app


async def drive_aiohttp(app, n):
    """aiohttp's pipeline without its HTTP parser: a mocked request through the
    application's own handling (routing, middlewares, handler). A bench may use the
    private Application._handle; the library does not."""
    from aiohttp.test_utils import make_mocked_request
    app.freeze()
    # Made beforehand (a mocked request costs ~0.5 ms to make) and handled again and again.
    reqs = [make_mocked_request("GET", f"/u/{i}?page=2", app=app, headers={"User-Agent": "b"})
            for i in range(100)]
    t = time.perf_counter_ns()
    for i in range(n):
        await app._handle(reqs[i % 100])
    return (time.perf_counter_ns() - t) / n


def otel_provider(tmp, exporter):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    provider = TracerProvider()
    out = None
    if exporter:
        out = open(os.path.join(tmp, "otel.jsonl"), "w")
        provider.add_span_processor(BatchSpanProcessor(
            ConsoleSpanExporter(out=out, formatter=lambda s: s.to_json(indent=None) + "\n"),
            max_queue_size=1 << 22))
    return provider, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import perflog
    import perflog.aiohttp
    import perflog.asgi
    import perflog.wsgi
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware as OtelASGI
        from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware as OtelWSGI
    except ImportError:
        OtelASGI = OtelWSGI = None
        print("opentelemetry-instrumentation-asgi/-wsgi not installed "
              "(scripts/deps.sh --bench): left out")
    n = args.requests
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for kind in ("ASGI (Starlette)", "WSGI (Flask)"):
                asgi = kind.startswith("ASGI")
                base = starlette_app() if asgi else flask_app()

                def run(app):
                    return asyncio.run(drive_asgi(app, n)) if asgi else drive_wsgi(app, n)

                variants = [("bare app", "bare", False), ("perflog middleware", "perflog", False)]
                if OtelASGI:
                    variants += [("OpenTelemetry (batch → file)", "otel", True),
                                 ("OpenTelemetry (no exporter)", "otel", False)]
                for name, how, exporter in variants:
                    if how == "perflog":
                        app = (perflog.asgi.PerflogMiddleware(
                                   base, query=["page"], headers=["user-agent"]) if asgi else
                               perflog.wsgi.PerflogMiddleware(
                                   base.wsgi_app, url_map_of=base, query=["page"],
                                   headers=["user-agent"]))
                        perflog.start(os.path.join(tmp, f"t{rep}.zst"))
                        try:
                            ns = run(app)
                        finally:
                            perflog.stop()
                    elif how == "otel":
                        provider, out = otel_provider(tmp, exporter)
                        app = (OtelASGI(base, tracer_provider=provider) if asgi else
                               OtelWSGI(base.wsgi_app, tracer_provider=provider))
                        ns = run(app)
                        t = time.perf_counter_ns()
                        provider.shutdown()  # drains the queue: the process pays it too
                        ns += (time.perf_counter_ns() - t) / n
                        if out:
                            out.close()
                    else:
                        ns = run(base if asgi else base.wsgi_app)
                    rows.setdefault((kind, name), []).append(ns)
        for rep in range(args.reps):
            kind = "aiohttp"
            ns = asyncio.run(drive_aiohttp(aiohttp_app(), n))
            rows.setdefault((kind, "bare app"), []).append(ns)
            app = aiohttp_app([perflog.aiohttp.middleware(query=["page"],
                                                          headers=["user-agent"])])
            perflog.start(os.path.join(tmp, f"a{rep}.zst"))
            try:
                ns = asyncio.run(drive_aiohttp(app, n))
            finally:
                perflog.stop()
            rows.setdefault((kind, "perflog middleware"), []).append(ns)
    print(f"{n} requests per run, {args.reps} runs; µs per request (best / median), "
          f"and the middleware's cost over the bare app (best)\n")
    print(f"{'':42} {'best':>8} {'median':>8} {'cost':>8}")
    for kind in ("ASGI (Starlette)", "WSGI (Flask)", "aiohttp"):
        bare = min(rows[(kind, "bare app")])
        for (k, name), v in rows.items():
            if k != kind:
                continue
            v = sorted(v)
            cost = "" if name == "bare app" else f"+{(v[0] - bare) / 1000:.1f}"
            print(f"{kind + ': ' + name:42} {v[0] / 1000:8.1f} {v[len(v) // 2] / 1000:8.1f} "
                  f"{cost:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
