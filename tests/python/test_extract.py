# SPDX-License-Identifier: MIT
"""@perflog(extract={...}): per-argument extractors turn objects into fields that mean
something (a request's route and parameters instead of "<aiohttp.web_request.Request>").
The only user code that runs while recording besides str() of exceptions: what it raises
or returns that cannot be recorded is a placeholder and a count, never the caller's
problem."""

import asyncio

import pytest

import perflog


class Request:
    def __init__(self, route, uid, body=b""):
        self.route, self.uid, self.body = route, uid, body


def fields_of(tree, type_suffix):
    (node,) = [n for n in tree.nodes.values() if n.type and n.type.endswith(type_suffix)]
    return node.fields


def test_dict_and_scalar_extractors(trace):
    @perflog.perflog(extract={"request": lambda r: {"route": r.route, "uid": r.uid}})
    def handle(request, limit=10):
        return limit

    @perflog.perflog(extract={"request": lambda r: r.route})
    def by_route(request):
        return 1

    assert handle(Request("/u/{uid}", 17)) == 10
    assert by_route(Request("/items", 3)) == 1
    tree = trace.read()
    assert fields_of(tree, "handle") == {"request.route": "/u/{uid}", "request.uid": 17,
                                         "limit": 10}
    assert fields_of(tree, "by_route") == {"request": "/items"}


def test_failures_are_placeholders_and_counted(trace):
    before = perflog.stats()["py_extract_errors"]

    @perflog.perflog(extract={"request": lambda r: r.missing})
    def raises(request):
        return "ran"

    @perflog.perflog(extract={"request": lambda r: {"ok": 1, "obj": object(), 3: "x"}})
    def unrecordable(request):
        return "ran"

    @perflog.perflog(extract={"request": lambda r: [r.route]})
    def a_list(request):
        return "ran"

    r = Request("/x", 1)
    assert raises(r) == unrecordable(r) == a_list(r) == "ran"
    assert perflog.stats()["py_extract_errors"] == before + 4  # raise, object, int key, list
    tree = trace.read()
    assert fields_of(tree, "raises") == {"request": "<extract: raised AttributeError>"}
    assert fields_of(tree, "unrecordable") == {"request.ok": 1,
                                               "request.obj": "<extract: unrecordable object>"}
    assert fields_of(tree, "a_list") == {"request": "<extract: unrecordable list>"}


def test_keyboard_interrupt_is_raised_again(trace):
    def interrupt(r):
        raise KeyboardInterrupt

    @perflog.perflog(extract={"request": interrupt})
    def handle(request):
        return sum(range(1000))  # the pending interrupt is raised at a check in here

    with pytest.raises(KeyboardInterrupt):
        handle(Request("/x", 1))
        for _ in range(1000):
            pass


def test_coroutines_and_generators_extract_at_the_call(trace):
    @perflog.perflog(extract={"request": lambda r: r.route})
    async def ahandle(request):
        request.route = "/changed"
        return 1

    @perflog.perflog(extract={"request": lambda r: r.route})
    def gen(request):
        request.route = "/changed-too"
        yield 1

    r1, r2 = Request("/first", 1), Request("/second", 2)
    coro = ahandle(r1)
    r1.route = "/before-first-step"
    assert asyncio.run(coro) == 1
    g = gen(r2)
    r2.route = "/before-first-step"
    assert list(g) == [1]
    tree = trace.read()
    assert fields_of(tree, "ahandle") == {"request": "/first"}
    assert fields_of(tree, "gen") == {"request": "/second"}


def test_extract_with_args_false_and_methods(trace):
    class Service:
        @perflog.perflog(args=False, extract={"request": lambda r: r.uid})
        def get(self, request, other="x"):
            return other

    assert Service().get(Request("/s", 9)) == "x"
    assert fields_of(trace.read(), "get") == {"request": 9}


def test_not_recording_runs_no_extractor():
    calls = []

    @perflog.perflog(extract={"request": lambda r: calls.append(r) or 1})
    def handle(request):
        return 2

    assert not perflog.recording()
    assert handle(Request("/", 1)) == 2
    assert calls == []


def test_an_extractor_that_records(trace):
    @perflog.perflog
    def inner(x):
        return x

    @perflog.perflog(extract={"request": lambda r: inner(r.uid)})
    def outer(request):
        return 1

    assert outer(Request("/", 5)) == 1
    tree = trace.read()
    assert fields_of(tree, "outer") == {"request": 5}
    assert [n.type.rsplit(".", 1)[-1] for n in tree.nodes.values() if n.type].count("inner") == 1


@pytest.mark.parametrize("kwargs,error", [
    ({"extract": {"nope": str}}, "no such named parameter"),
    ({"extract": {"args": str}}, "no such named parameter"),
    ({"extract": {"request": "not callable"}}, "callables"),
    ({"extract": {"request": str}, "redact": ["request"]}, "both redacted and extracted"),
])
def test_decoration_errors(kwargs, error):
    with pytest.raises((TypeError, ValueError), match=error):
        @perflog.perflog(**kwargs)
        def f(request, *args):
            return request
