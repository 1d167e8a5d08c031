# SPDX-License-Identifier: MIT
"""The C wrappers of decorated coroutines and generators (python/ext/wrappers.c): they
behave like the wrapped object for asyncio, send/throw/close, cancellation, garbage
collection and introspection, with the documented exceptions, and record the action."""
import asyncio
import collections.abc
import contextvars
import gc
import inspect

import pytest

import perflog
from perflog import perflog as pl


class MyError(Exception):
    pass


@pl
def leaf(n):
    return n


@pl(result=True)
async def coro(x):
    await asyncio.sleep(0)
    leaf(x)
    return x * 2


@pl
def gen(n):
    for i in range(n):
        leaf(i)
        yield i


def name(f):
    return f"{__name__}.{f.__qualname__}"


def test_function_introspection_answers_as_for_the_wrapped_function():
    assert inspect.iscoroutinefunction(coro)
    assert asyncio.iscoroutinefunction(coro)
    assert not inspect.isgeneratorfunction(coro)
    assert inspect.isgeneratorfunction(gen)
    assert not inspect.iscoroutinefunction(gen)
    assert not inspect.iscoroutinefunction(leaf) and not inspect.isgeneratorfunction(leaf)

    class C:
        @pl
        async def method(self):
            return 1

    assert inspect.iscoroutinefunction(C().method)
    assert inspect.signature(coro) == inspect.signature(coro.__wrapped__)


def test_objects_are_coroutines_and_generators_to_asyncio_and_abcs(trace):
    c = coro(1)
    g = gen(2)
    assert asyncio.iscoroutine(c)
    assert isinstance(c, collections.abc.Coroutine) and isinstance(c, collections.abc.Awaitable)
    assert isinstance(g, collections.abc.Generator) and isinstance(g, collections.abc.Iterator)
    assert iter(g) is g
    # The documented exception: not native objects.
    assert not inspect.iscoroutine(c) and not inspect.isgenerator(g)
    # Attributes they do not have are the inner object's.
    assert c.__name__ == "coro" and c.cr_code is coro.__wrapped__.__code__
    assert g.__qualname__ == "gen" and g.gi_running is False
    assert inspect.getcoroutinestate(c) == inspect.CORO_CREATED
    assert asyncio.run(c) == 2
    assert inspect.getcoroutinestate(c) == inspect.CORO_CLOSED
    assert list(g) == [0, 1]
    unawaited = coro(1)
    with pytest.raises(TypeError):
        iter(unawaited)  # a coroutine is not iterable
    unawaited.close()


def test_coroutine_recorded_with_children_result_and_context_restored(trace):
    async def main():
        r = await coro(3)
        return r, perflog.current_task()

    assert asyncio.run(main()) == (6, None)  # once it returned, no action is current
    n = trace.read().one(name(coro))
    assert n.fields == {"x": 3} and n.end_fields == {"result": 6}
    assert [c.type for c in n.children] == [name(leaf)]


def test_coroutine_arguments_held_until_the_first_step(trace):
    # Up to four are held inline in the action, more in an array: both are recorded, and
    # released once the START is (the objects are collected).
    import gc
    import weakref

    class Big:
        pass

    @perflog.perflog
    async def many(a, b, c, d, e, f, *rest, **kw):
        return a + f

    for count in (1, 4, 6):
        objs = [Big() for _ in range(count)]
        refs = [weakref.ref(o) for o in objs]
        args = (objs + [0] * 6)[:6]
        co = many(*args, k=objs[-1]) if count == 6 else many(*args)
        del objs, args
        with pytest.raises(TypeError):  # Big() + Big(): the body fails, the START is there
            asyncio.run(co)
        del co
        gc.collect()
        assert all(r() is None for r in refs), count
    nodes = sorted(trace.read().of_type(name(many)), key=lambda n: n.ts_ns)
    assert [sorted(n.fields) for n in nodes] == [["a", "b", "c", "d", "e", "f", "kw", "rest"]] * 3
    big = f"<{Big.__module__}.{Big.__qualname__}>"
    assert nodes[2].fields["kw"] == {"k": big} and nodes[2].fields["f"] == big
    assert nodes[0].fields["a"] == big and nodes[0].fields["b"] == 0


def test_tasks_created_in_a_coroutine_inherit_its_action(trace):
    @pl
    async def parent():
        return await asyncio.gather(*(coro(i) for i in range(3)))

    assert asyncio.run(parent()) == [0, 2, 4]
    t = trace.read()
    p = t.one(name(parent))
    assert sorted(c.fields["x"] for c in p.children) == [0, 1, 2]


def test_coroutine_failure_and_cancellation(trace):
    @pl
    async def fails():
        await asyncio.sleep(0)
        raise MyError("boom")

    @pl
    async def sleeper():
        await asyncio.sleep(10)

    async def main():
        with pytest.raises(MyError):
            await fails()
        task = asyncio.create_task(sleeper())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    t = trace.read()
    f = t.one(name(fails))
    assert f.outcome == "failed" and f.exc_type == f"{__name__}.MyError"
    s = t.one(name(sleeper))
    assert s.outcome == "cancelled" and s.exc_type.endswith("CancelledError")


def test_coroutine_driven_by_hand_send_throw_close(trace):
    @pl(result=True)
    async def echo():
        got = []
        while True:
            try:
                v = await Yield()
            except KeyError:
                v = "caught"
            if v is None:
                return got
            got.append(v)

    class Yield:
        def __await__(self):
            return (yield "ready")

    c = echo()
    assert c.send(None) == "ready"
    assert c.send("a") == "ready"
    assert c.throw(KeyError("k")) == "ready"
    with pytest.raises(StopIteration) as stop:
        c.send(None)
    assert stop.value.value == ["a", "caught"]
    with pytest.raises(RuntimeError, match="cannot reuse"):
        c.send(None)

    closed = echo()
    assert closed.send(None) == "ready"
    closed.close()
    assert inspect.getcoroutinestate(closed) == inspect.CORO_CLOSED
    closed.close()  # twice: nothing more

    thrown = echo()  # thrown into before its first step: raises, records nothing
    with pytest.raises(ValueError):
        thrown.throw(ValueError("early"))

    t = trace.read()
    calls = sorted(t.of_type(name(echo)), key=lambda n: n.ts_ns)
    assert len(calls) == 2
    assert calls[0].outcome == "succeeded" and calls[0].end_fields == {"result": ["a", "caught"]}
    assert calls[1].outcome == "succeeded" and calls[1].end_fields == {"closed": True}


def test_generator_children_are_nested_per_step_and_consumer_is_not(trace):
    @pl
    def consumer():
        out = []
        for i in gen(3):
            out.append(leaf(100 + i))  # the consumer's call: not the generator's child
        return out

    consumer()
    t = trace.read()
    g = t.one(name(gen))
    c = t.one(name(consumer))
    assert [x.fields["n"] for x in g.children] == [0, 1, 2]
    assert sorted(x.fields.get("n") for x in c.children if x.type == name(leaf)) == [100, 101, 102]
    assert any(x is g for x in c.children)


def test_generator_throw_close_before_start_and_gc(trace):
    g = gen(3)
    with pytest.raises(MyError):
        g.throw(MyError("before start"))  # passed on, nothing recorded
    with pytest.raises(StopIteration):
        next(g)

    h = gen(3)
    h.close()  # never started: nothing recorded

    started = gen(5)
    assert next(started) == 0
    del started
    gc.collect()  # collected while running: closed early

    caught = gen(3)
    next(caught)
    with pytest.raises(MyError):
        caught.throw(MyError("inside"))

    t = trace.read()
    calls = sorted(t.of_type(name(gen)), key=lambda n: n.ts_ns)
    assert [(c.outcome, c.end_fields) for c in calls] == [
        ("succeeded", {"closed": True}),
        ("failed", {}),
    ]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_generator_that_ignores_close_fails(trace):
    @pl
    def stubborn():
        while True:
            try:
                yield 1
            except GeneratorExit:
                pass

    s = stubborn()
    next(s)
    with pytest.raises(RuntimeError, match="ignored GeneratorExit"):
        s.close()
    assert trace.read().one(name(stubborn)).exc_type == "builtins.RuntimeError"


def test_yield_from_and_await_chains(trace):
    @pl
    def outer_gen():
        r = yield from gen(2)
        return r

    @pl
    async def outer_coro():
        return await coro(5)

    assert list(outer_gen()) == [0, 1]
    assert asyncio.run(outer_coro()) == 10
    t = trace.read()
    assert [c.type for c in t.one(name(outer_gen)).children] == [name(gen)]
    assert [c.type for c in t.one(name(outer_coro)).children] == [name(coro)]


def test_context_of_a_generator_step_is_the_consumers(trace):
    # A step pushes a frame, it does not set the contextvar: a context copied in the body
    # still carries whatever the consumer had, and nothing leaks out of a step.
    var = contextvars.ContextVar("v", default=0)

    @pl
    def g():
        var.set(1)
        yield contextvars.copy_context()[var]

    assert list(g()) == [1]
    assert var.get() == 1  # a generator runs in its consumer's context, as CPython's do


def test_not_recording_returns_the_native_objects():
    assert not perflog.recording()
    c = coro(1)
    assert inspect.iscoroutine(c)
    assert asyncio.run(c) == 2
    assert inspect.isgenerator(gen(1))


@pl(max_len=5)
async def quick_coro(a, b, c=None):
    return a


def test_coroutine_quick_and_generic_argument_paths_record_alike(trace):
    """Held arguments that are all quick scalars (ASCII str within max_len, one-digit
    int, None) are recorded at the first step without the converter; anything else goes
    through it. Both must record the same fields, and the END alike."""
    calls = [
        ((1, "abc", None), {"a": 1, "b": "abc", "c": None}),
        ((-(2**30 - 1), "abcde", 0), {"a": -(2**30 - 1), "b": "abcde", "c": 0}),
        ((2**30, "x"), {"a": 2**30, "b": "x", "c": None}),
        ((1, "abcdef", None), {"a": 1, "b": "abcde", "b.truncated": 6, "c": None}),
        ((False, "é", [2]), {"a": False, "b": "é", "c": [2]}),
    ]

    async def main():
        for args, _ in calls:
            await quick_coro(*args)

    asyncio.run(main())
    nodes = sorted(trace.read().of_type(name(quick_coro)), key=lambda n: n.ts_ns)
    assert [n.fields for n in nodes] == [want for _, want in calls]
    assert all(n.outcome == "succeeded" and n.end_fields == {} for n in nodes)


def test_objects_reused_after_release_are_fresh(trace):
    """Freed wrappers and Actions are kept and reused (module.h, the free lists): one
    reused must be a new object — its weak references cleared when the old one died,
    none of the old one's state, action or arguments left — and objects that die in any
    order, in and out of the lists, must all be recorded as their own calls."""
    import weakref

    seen = []
    olds = [coro(i) for i in range(40)]  # more than a list keeps
    refs = [weakref.ref(o, seen.append) for o in olds]
    for o in olds:
        o.close()  # never started: nothing recorded
    del olds, o
    gc.collect()
    assert all(r() is None for r in refs) and len(seen) == 40

    async def main():
        got = []
        for i in range(60):
            c = coro(100 + i)
            assert weakref.getweakrefcount(c) == 0
            assert inspect.getcoroutinestate(c.__perflog_inner__) == "CORO_CREATED"
            got.append(await c)
        return got

    assert asyncio.run(main()) == [2 * (100 + i) for i in range(60)]
    g = [gen(3) for _ in range(20)]
    assert [list(x) for x in g[::-1]] == [[0, 1, 2]] * 20
    del g
    nodes = trace.read().of_type(name(coro))
    assert sorted(n.fields["x"] for n in nodes) == list(range(100, 160))
    assert all(n.end_fields == {"result": 2 * n.fields["x"]} for n in nodes)
    assert len(trace.read().of_type(name(gen))) == 20


@pl(args=["c", "a"])
async def some_args(a, b, c, d=4):
    return b


@pl(args=["d"])
def some_gen(a, b, d=4):
    yield a + b + d


def test_held_arguments_are_the_named_ones_by_position(trace):
    """Arguments held from the call to the first step, by the usual quick path (all
    recorded ones passed by position) and the generic one (a keyword, a default): each
    recorded parameter gets its own argument, whatever its place in the signature."""
    async def main():
        return [await some_args(1, 2, 3), await some_args(1, 2, 3, 5),
                await some_args(1, 2, c=3)]

    assert asyncio.run(main()) == [2, 2, 2]
    assert list(some_gen(1, 2)) == [7] and list(some_gen(1, 2, 8)) == [11]
    t = trace.read()
    got = sorted(tuple(sorted(n.fields.items())) for n in t.of_type(name(some_args)))
    assert got == [(("a", 1), ("c", 3))] * 3
    assert sorted(n.fields["d"] for n in t.of_type(name(some_gen))) == [4, 8]
