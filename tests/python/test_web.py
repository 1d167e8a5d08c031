# SPDX-License-Identifier: MIT
"""The web middleware with real frameworks and real servers on 127.0.0.1: Starlette under
uvicorn (perflog.asgi), Flask under werkzeug's threaded server (perflog.wsgi), and aiohttp's
own runner (perflog.aiohttp), each under a bounded concurrent load. The trees, fields and
outcomes are checked by reading the trace back."""

import asyncio
import concurrent.futures
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

import perflog
import perflog.aiohttp
import perflog.asgi
import perflog.wsgi
from conftest import serve_aiohttp

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
N = 120          # requests per server
CONCURRENCY = 12  # at once


@perflog.perflog
async def db_query(uid):
    await asyncio.sleep(0.001)
    return {"uid": uid}


@perflog.perflog
def render(row):
    return json.dumps(row).encode()


@perflog.perflog
def db_query_sync(uid):
    time.sleep(0.001)
    return {"uid": uid}


def fetch(url, headers=None):
    """(status, body) of a GET, errors included."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def load(base):
    """N requests, CONCURRENCY at once: users, a failure, a miss, a stream, and the two
    ways a request continues a task."""
    urls = [(f"{base}/u/{i}?page={i % 3}&secret=x", {"User-Agent": f"agent{i % 2}",
                                                      "Authorization": "Bearer s3cr3t"})
            for i in range(N)]
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        got = list(pool.map(lambda a: fetch(*a), urls))
    assert all(s == 200 for s, _ in got), got[:3]
    extra = {
        "fail": fetch(f"{base}/fail"),
        "miss": fetch(f"{base}/no/such/page"),
        "stream": fetch(f"{base}/stream"),
        "traced": fetch(f"{base}/u/7", {"traceparent": CALLER}),
    }
    with perflog.action("client"):
        task = perflog.current_task()  # a slot of "client" for the server's request
    extra["task"] = fetch(f"{base}/u/8", {"X-Perflog-Task": task})
    return got, extra, task


def check(tree, got, extra, task, handler_child, stream_bytes, fail_exc="builtins.ValueError"):
    reqs = tree.of_type("http.request")
    assert len(reqs) == N + 5
    users = [r for r in reqs if r.fields.get("route", "").startswith("/u/")]
    assert len(users) == N + 2
    for r in users:
        uid = r.fields["param.uid"]
        assert isinstance(uid, int)  # digits are recorded as numbers (Starlette: already)
        assert r.fields["method"] == "GET"
        assert r.outcome == "succeeded" and r.end_fields["status"] == 200
        assert r.end_fields["bytes"] == len(render.__wrapped__({"uid": uid}))
        assert [c.type.rsplit(".", 1)[-1] for c in r.children][:1] == [handler_child]
        # Allow-listed only: no other query parameter or header, no raw path.
        assert not any(k.startswith(("query.secret", "header.authorization", "path"))
                       for k in r.fields)
    plain = [r for r in users if "query.page" in r.fields]
    assert all(isinstance(r.fields["query.page"], int) for r in plain)
    assert len(plain) == N and all(r.fields["header.user-agent"] in ("agent0", "agent1")
                                   for r in plain)
    assert {r.fields["route"] for r in users} == {users[0].fields["route"]}
    fail = [r for r in reqs if r.outcome == "failed"]
    assert len(fail) == 1 and fail[0].exc_type == fail_exc
    assert fail[0].end_fields["status"] == 500
    assert extra["fail"][0] == 500
    miss = [r for r in reqs if "route" not in r.fields]
    assert len(miss) == 1 and miss[0].end_fields["status"] == 404
    stream = [r for r in reqs if r.fields.get("route") == "/stream"]
    assert stream_bytes == len(extra["stream"][1])
    if "wire_bytes" in stream[0].end_fields:  # aiohttp's chunked stream: framing included
        assert stream[0].end_fields["wire_bytes"] > stream_bytes
    else:
        assert stream[0].end_fields["bytes"] == stream_bytes
    traced = [r for r in reqs if "perflog.traceparent" in r.fields]
    assert len(traced) == 1 and traced[0].fields["perflog.traceparent"] == CALLER
    # X-Perflog-Task: the request is the client's action's child, across the wire.
    client = tree.one("client")
    assert [c.type for c in client.children] == ["http.request"]
    assert str(client.children[0].fields["param.uid"]) == "8"


# ---- ASGI: Starlette under uvicorn ---------------------------------------------------------

def starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def user(request):
        row = await db_query(int(request.path_params["uid"]))
        return Response(render(row), media_type="application/json")

    async def fail(request):
        raise ValueError("boom")

    async def stream(request):
        async def chunks():
            for i in range(5):
                yield b"x" * 100
        return StreamingResponse(chunks())

    return Starlette(routes=[Route("/u/{uid:int}", user), Route("/fail", fail),
                             Route("/stream", stream)])


def test_asgi_starlette_uvicorn(trace):
    pytest.importorskip("starlette")
    uvicorn = pytest.importorskip("uvicorn")
    app = perflog.asgi.PerflogMiddleware(starlette_app(), query=["page"],
                                         headers=["User-Agent"])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        got, extra, task = load(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(30)
    tree = trace.read()
    check(tree, got, extra, task, "db_query", 500)  # (lifespan: no action)
    assert {r.fields["route"] for r in tree.of_type("http.request") if "route" in r.fields} \
        == {"/u/{uid:int}", "/fail", "/stream"}


# ---- WSGI: Flask under werkzeug's threaded server ------------------------------------------

def flask_app():
    from flask import Flask, Response

    app = Flask("perflog_test")

    @app.route("/u/<int:uid>")
    def user(uid):
        return Response(render(db_query_sync(uid)), mimetype="application/json")

    @app.route("/fail")
    def fail():
        raise ValueError("boom")

    @app.route("/stream")
    def stream():
        return Response((b"y" * 100 for _ in range(4)))

    return app


def test_wsgi_flask(trace):
    pytest.importorskip("flask")
    app = flask_app()
    app.wsgi_app = perflog.wsgi.PerflogMiddleware(app.wsgi_app, query=["page"],
                                                  headers=["User-Agent"])
    # Flask turns the exception into a 500 itself: the 5xx is the failure.
    check_wsgi(trace, app, 400)


def check_wsgi(trace, app, stream_bytes):
    """Serve the WSGI @app with werkzeug's threaded server, load it, check the trace."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        got, extra, task = load(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(30)
    tree = trace.read()
    check(tree, got, extra, task, "db_query_sync", stream_bytes, "perflog.HTTPServerError")
    assert {r.fields["route"] for r in tree.of_type("http.request") if "route" in r.fields} \
        == {"/u/<int:uid>", "/fail", "/stream"}


# ---- aiohttp ---------------------------------------------------------------------------------

def test_aiohttp(trace):
    web = pytest.importorskip("aiohttp.web")

    async def user(request):
        row = await db_query(int(request.match_info["uid"]))
        return web.Response(body=render(row), content_type="application/json")

    async def fail(request):
        raise ValueError("boom")

    async def stream(request):
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(3):
            await resp.write(b"z" * 100)
        await resp.write_eof()
        return resp

    app = web.Application(middlewares=[perflog.aiohttp.middleware(query=["page"],
                                                                   headers=["User-Agent"])])
    app.router.add_get("/u/{uid}", user)
    app.router.add_get("/fail", fail)
    app.router.add_get("/stream", stream)
    with serve_aiohttp(app) as base:
        got, extra, task = load(base)
    tree = trace.read()
    check(tree, got, extra, task, "db_query", 300)
    assert {r.fields["route"] for r in tree.of_type("http.request") if "route" in r.fields} \
        == {"/u/{uid}", "/fail", "/stream"}


# ---- WSGI: Django, its URLconf found by itself -----------------------------------------------

def test_wsgi_django(trace):
    django = pytest.importorskip("django")
    import sys
    import types

    from django.conf import settings
    from django.urls import path
    if not settings.configured:
        urls = types.ModuleType("perflog_test_urls")
        sys.modules[urls.__name__] = urls
        settings.configure(ROOT_URLCONF=urls.__name__, ALLOWED_HOSTS=["*"], DEBUG=False,
                           SECRET_KEY="test", MIDDLEWARE=[], INSTALLED_APPS=[],
                           LOGGING_CONFIG=None)
        django.setup()
        from django.http import HttpResponse, StreamingHttpResponse

        def user(request, uid):
            return HttpResponse(render(db_query_sync(uid)), content_type="application/json")

        def fail(request):
            raise ValueError("boom")

        def stream(request):
            return StreamingHttpResponse(b"w" * 100 for _ in range(2))

        urls.urlpatterns = [path("u/<int:uid>", user), path("fail", fail),
                            path("stream", stream)]
    from django.core.wsgi import get_wsgi_application
    app = perflog.wsgi.PerflogMiddleware(get_wsgi_application(), query=["page"],
                                         headers=["User-Agent"])
    check_wsgi(trace, app, 200)  # Django too answers an exception with a 500 itself
