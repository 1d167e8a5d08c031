# SPDX-License-Identifier: MIT
"""Outgoing calls carry the task (perflog.http) and DB-API queries are recorded
(perflog.dbapi): a caller's http.client action and the callee's http.request action (an
aiohttp app behind perflog's middleware, on 127.0.0.1) form one tree through
X-Perflog-Task; without it the callee's task joins the caller's trace through traceparent,
its parent span the client action's. sqlite3 statements are recorded normalised."""

import asyncio
import pathlib
import sqlite3
import sys
import urllib.error

import pytest

import perflog
import perflog.aiohttp
import perflog.dbapi
import perflog.http

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import ref_reader  # noqa: E402
from conftest import serve_aiohttp  # noqa: E402

web = pytest.importorskip("aiohttp.web")


@pytest.fixture
def server():
    """An aiohttp app behind perflog's middleware, on a loop in a thread: its base URL."""
    async def user(request):
        return web.Response(text=f"user {request.match_info['uid']}")

    async def missing(request):
        raise web.HTTPNotFound()

    app = web.Application(middlewares=[perflog.aiohttp.middleware()])
    app.router.add_get("/u/{uid}", user)
    app.router.add_get("/missing", missing)
    with serve_aiohttp(app) as base:
        yield base


def check_call(tree, client_name, port_url, path="/u/17"):
    """The caller's action holds one http.client action whose child is the callee's
    http.request (X-Perflog-Task), with the fields of both sides."""
    caller = tree.one(client_name)
    (client,) = caller.children
    assert client.type == "http.client"
    assert client.fields == {"method": "GET", "host": port_url.split("//")[1], "path": path}
    assert client.end_fields["status"] == 200 and client.outcome == "succeeded"
    (req,) = client.children
    assert req.type == "http.request" and req.fields["route"] == "/u/{uid}"
    assert str(req.fields["param.uid"]) == "17"


def test_urllib(trace, server):
    with perflog.action("urllib-caller"):
        with perflog.http.urlopen(f"{server}/u/17?token=secret") as r:
            assert r.read() == b"user 17"
        with pytest.raises(urllib.error.HTTPError):
            perflog.http.urlopen(f"{server}/missing")
    tree = trace.read()
    caller = tree.one("urllib-caller")
    ok, missing = caller.children
    assert ok.fields["path"] == "/u/17"  # no query string: it may hold secrets
    assert missing.outcome == "failed" and missing.end_fields["status"] == 404
    assert missing.exc_type == "urllib.error.HTTPError"
    (req,) = missing.children
    assert req.end_fields["status"] == 404 and req.outcome == "succeeded"


def test_requests(trace, server):
    pytest.importorskip("requests")
    session = perflog.http.requests_session()
    with perflog.action("requests-caller"):
        assert session.get(f"{server}/u/17").text == "user 17"
    check_call(trace.read(), "requests-caller", server)


def test_httpx_sync_and_async(trace, server):
    httpx = pytest.importorskip("httpx")
    client = httpx.Client(transport=perflog.http.HTTPXTransport(httpx.HTTPTransport()))
    with perflog.action("httpx-caller"):
        assert client.get(f"{server}/u/17").text == "user 17"
    client.close()

    async def main():
        transport = perflog.http.AsyncHTTPXTransport(httpx.AsyncHTTPTransport())
        async with httpx.AsyncClient(transport=transport) as ac:
            with perflog.action("httpx-async-caller"):
                return (await ac.get(f"{server}/u/17")).text

    assert asyncio.run(main()) == "user 17"
    tree = trace.read()
    check_call(tree, "httpx-caller", server)
    check_call(tree, "httpx-async-caller", server)


def test_aiohttp_client(trace, server):
    aiohttp = pytest.importorskip("aiohttp")

    async def main():
        async with aiohttp.ClientSession(
                trace_configs=[perflog.http.aiohttp_trace_config()]) as s:
            with perflog.action("aiohttp-caller"):
                async with s.get(f"{server}/u/17") as r:
                    return await r.text()

    assert asyncio.run(main()) == "user 17"
    check_call(trace.read(), "aiohttp-caller", server)


def test_traceparent_alone_joins_the_callers_trace(trace, server):
    """task_header=False (a third party): the callee begins its own task, in the caller's
    trace, its root's parent span the http.client action."""
    with perflog.action("caller"):
        perflog.http.urlopen(f"{server}/u/17", task_header=False).read()
    tree = trace.read()
    (client,) = tree.one("caller").children
    assert not client.children
    (req,) = tree.of_type("http.request")
    tp = req.fields["perflog.traceparent"]
    prefix, seq = (int(x, 16) for x in client.task_id.split("-"))
    assert tp == f"00-{prefix:016x}{seq:016x}-" \
                 f"{ref_reader.span_id(prefix, seq, client.level)}-01"
    assert req.task_id != client.task_id


def test_dbapi_sqlite(trace):
    conn = perflog.dbapi.connect(sqlite3.connect(":memory:"))
    conn.execute("create table items (id integer primary key, name text)")
    cur = conn.cursor()
    cur.executemany("insert into items (id, name) values (?, ?)",
                    [(i, f"n{i}") for i in range(10)])
    rows = cur.execute("select * from items where id in (1, 2, 3) and name != 'x'").fetchall()
    assert len(rows) == 3
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("select * from nowhere where id = 42")
    conn.commit()
    tree = trace.read()
    queries = tree.of_type("db.query")
    assert [q.fields["statement"] for q in queries] == [
        "create table items (id integer primary key, name text)",
        "insert into items (id, name) values (?, ?)",
        "select * from items where id in (?...) and name != ?",
        "select * from nowhere where id = ?",
    ]
    assert queries[1].fields["batch"] == 10 and queries[1].end_fields["rows"] == 10
    assert queries[3].outcome == "failed" and queries[3].exc_type == "sqlite3.OperationalError"


@pytest.mark.parametrize("sql,expected", [
    ("select * from t where a = 1 and b = 'it''s' and c = -2.5e3",
     "select * from t where a = ? and b = ? and c = ?"),
    ("SELECT x1, t2.col FROM t2 WHERE id IN (4, 5,6)",
     "SELECT x1, t2.col FROM t2 WHERE id IN (?...)"),
    ("update t set v = $1 where id = :id and h = 0xff",
     "update t set v = $1 where id = :id and h = ?"),
    ("  select\n\t 1  ", "select ?"),
])
def test_normalize(sql, expected):
    assert perflog.dbapi.normalize(sql) == expected
