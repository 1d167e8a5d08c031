# SPDX-License-Identifier: MIT
"""@perflog on every callable kind, read back: arguments bound by name, nesting and
levels, exceptions, results, and transparency of the wrapper."""
import functools
import inspect
import pickle

import pytest

import perflog
from perflog import perflog as pl


class MyError(Exception):
    pass


@pl
def add(a, b):
    return a + b


@pl(action_type="custom.type", result=True)
def mul(a, b=3, *rest, scale=1, **options):
    """Multiply."""
    return a * b * scale


@pl
def outer(n):
    inner(n)
    inner(n + 1)
    return n


@pl
def inner(n):
    leaf(n)


@pl
def leaf(n):
    return n


@pl
def fails(x):
    raise MyError(f"bad {x}")


@pl
def recurse(n):
    return 0 if n == 0 else 1 + recurse(n - 1)


def test_bare_records_arguments_and_duration(trace):
    assert add(1, "x" if False else 2) == 3
    t = trace.read()
    n = t.one(f"{__name__}.add")
    assert n.fields == {"a": 1, "b": 2}
    assert n.outcome == "succeeded" and n.duration_ns > 0
    assert n.level == () and n.exc_type is None


def test_binding_defaults_varargs_kwargs_and_result(trace):
    assert mul(2) == 6
    assert mul(2, 5, 7, 8, scale=2, extra="e") == 20
    assert mul(b=4, a=1) == 4
    t = trace.read()
    calls = sorted(t.of_type("custom.type"), key=lambda n: n.ts_ns)
    assert [c.fields for c in calls] == [
        {"a": 2, "b": 3, "rest": [], "scale": 1, "options": {}},
        {"a": 2, "b": 5, "rest": [7, 8], "scale": 2, "options": {"extra": "e"}},
        {"a": 1, "b": 4, "rest": [], "scale": 1, "options": {}},
    ]
    assert [c.end_fields for c in calls] == [{"result": 6}, {"result": 20}, {"result": 4}]


def test_nesting_and_levels(trace):
    outer(1)
    outer(10)
    t = trace.read()
    roots = [r for r in t.roots if r.type.endswith(".outer")]
    assert len(roots) == 2 and roots[0].task_id != roots[1].task_id
    for r in roots:
        assert r.shape() == (f"{__name__}.outer({__name__}.inner({__name__}.leaf), "
                             f"{__name__}.inner({__name__}.leaf))")
        assert [n.level for n in r.walk()] == [(), (1,), (1, 1), (2,), (2, 1)]
        assert all(n.outcome == "succeeded" for n in r.walk())
        # children end before their parent ends
        assert all(c.end["ts_ns"] <= r.end["ts_ns"] for c in r.walk())


def test_exception_propagates_unchanged_and_is_recorded(trace):
    with pytest.raises(MyError) as info:
        fails(3)
    err = info.value
    assert str(err) == "bad 3" and type(err) is MyError
    # the traceback still reaches the raising frame
    assert info.traceback[-1].name == "fails"
    t = trace.read()
    n = t.one(f"{__name__}.fails")
    assert n.outcome == "failed"
    assert n.exc_type == f"{__name__}.MyError"
    assert n.exc_msg == "bad 3"


def test_same_exception_object_reaches_caller(trace):
    sentinel = MyError("identity")

    @pl
    def raiser():
        raise sentinel

    try:
        raiser()
    except MyError as e:
        assert e is sentinel
    trace.read()


def test_builtin_exception_type_name(trace):
    @pl
    def div(a, b):
        return a / b

    with pytest.raises(ZeroDivisionError):
        div(1, 0)
    n = trace.read().one(f"{__name__}.{div.__qualname__}")
    assert n.exc_type == "builtins.ZeroDivisionError"
    assert n.exc_msg == "division by zero"


def test_recursion_levels(trace):
    assert recurse(150) == 150  # crosses several 64-frame chunks of the C stack
    t = trace.read()
    nodes = sorted(t.of_type(f"{__name__}.recurse"), key=lambda n: len(n.level))
    assert len(nodes) == 151
    assert [len(n.level) for n in nodes] == list(range(151))
    assert all(n.level == (1,) * len(n.level) for n in nodes)
    assert [n.fields["n"] for n in nodes] == list(range(150, -1, -1))
    assert len({n.task_id for n in nodes}) == 1


def test_args_selection_and_validation(trace):
    @pl(args=["b"])
    def only_b(a, b):
        return a

    @pl(args=False)
    def nothing(a, b):
        return a

    only_b(1, 2)
    nothing(1, 2)
    t = trace.read()
    assert t.one(f"{__name__}.{only_b.__qualname__}").fields == {"b": 2}
    assert t.one(f"{__name__}.{nothing.__qualname__}").fields == {}

    with pytest.raises(ValueError, match="no parameter 'c'"):
        pl(args=["c"])(lambda a, b: a)
    with pytest.raises(ValueError, match="redact"):
        pl(redact=["password"])(lambda a, b: a)
    with pytest.raises(TypeError):
        pl(args="a")
    pl(redact=["password"])(lambda a, **kw: a)  # a **kwargs key: accepted


class Thing:
    factor = 10

    @pl
    def method(self, x):
        return x * self.factor

    @pl
    @classmethod
    def cm_outer(cls, x):
        return (cls, x)

    @classmethod
    @pl
    def cm_inner(cls, x):
        return (cls, x)

    @pl
    @staticmethod
    def sm_outer(x):
        return x + 1

    @staticmethod
    @pl
    def sm_inner(x):
        return x + 2


def test_methods_classmethods_staticmethods(trace):
    t_ = Thing()
    assert t_.method(2) == 20
    bound = t_.method
    assert bound(3) == 30 and bound.__self__ is t_
    assert Thing.method(t_, 4) == 40
    assert Thing.cm_outer(1) == (Thing, 1) and t_.cm_outer(2) == (Thing, 2)
    assert Thing.cm_inner(3) == (Thing, 3)
    assert Thing.sm_outer(1) == 2 and t_.sm_outer(1) == 2
    assert Thing.sm_inner(1) == 3 and t_.sm_inner(1) == 3
    t = trace.read()
    q = f"{__name__}.Thing"
    assert sorted(n.fields["x"] for n in t.of_type(f"{q}.method")) == [2, 3, 4]
    assert all("self" not in n.fields for n in t.of_type(f"{q}.method"))
    assert sorted(n.fields["x"] for n in t.of_type(f"{q}.cm_outer")) == [1, 2]
    assert [n.fields for n in t.of_type(f"{q}.cm_inner")] == [{"x": 3}]
    assert len(t.of_type(f"{q}.sm_outer")) == 2 and len(t.of_type(f"{q}.sm_inner")) == 2


def test_transparency():
    def original(a: int, b: str = "x", *, c=None) -> int:
        """The doc."""
        return a

    original.custom = "attr"
    w = pl(original)
    assert w.__name__ == "original"
    assert w.__qualname__ == original.__qualname__
    assert w.__doc__ == "The doc."
    assert w.__module__ == __name__
    assert w.__wrapped__ is original
    assert w.custom == "attr"
    assert w.__annotations__ == original.__annotations__
    assert inspect.signature(w) == inspect.signature(original)
    assert isinstance(w, perflog.Decorated) and callable(w)
    assert functools.wraps(w)(lambda: None).__wrapped__ is w
    assert "original" in repr(w)
    assert pickle.loads(pickle.dumps(add)) is add


def test_not_recording_calls_through(tmp_path):
    assert not perflog.recording()
    assert add(2, 3) == 5
    with pytest.raises(MyError):
        fails(1)
    assert recurse(5) == 5


def test_generator_duration_values_and_children(trace):
    @pl(result=True)
    def gen(n):
        for i in range(n):
            leaf(i)
            yield i
        return "done"

    g = gen(3)
    assert list(g) == [0, 1, 2]
    t = trace.read()
    n = t.one(f"{__name__}.{gen.__qualname__}")
    assert n.fields == {"n": 3}
    assert n.outcome == "succeeded" and n.end_fields == {"result": "done"}
    assert [c.fields["n"] for c in n.children] == [0, 1, 2]
    assert all(c.type == f"{__name__}.leaf" for c in n.children)


def test_generator_closed_early_and_failing(trace):
    @pl
    def gen():
        yield 1
        yield 2

    @pl
    def bad_gen():
        yield 1
        raise MyError("in gen")

    for x in gen():
        break
    g = bad_gen()
    assert next(g) == 1
    with pytest.raises(MyError, match="in gen"):
        next(g)
    never = gen()  # never started: records nothing
    del never
    t = trace.read()
    n = t.one(f"{__name__}.{gen.__qualname__}")
    assert n.outcome == "succeeded" and n.end_fields == {"closed": True}
    b = t.one(f"{__name__}.{bad_gen.__qualname__}")
    assert b.outcome == "failed" and b.exc_type == f"{__name__}.MyError"


def test_generator_send_and_throw(trace):
    @pl
    def echo():
        received = []
        while True:
            try:
                v = yield len(received)
            except KeyError:
                v = "caught"
            if v is None:
                return received
            received.append(v)

    g = echo()
    assert next(g) == 0
    assert g.send("a") == 1
    assert g.throw(KeyError("k")) == 2
    with pytest.raises(StopIteration) as stop:
        g.send(None)
    assert stop.value.value == ["a", "caught"]
    n = trace.read().one(f"{__name__}.{echo.__qualname__}")
    assert n.outcome == "succeeded"


def test_async_generator(trace):
    import asyncio

    @pl
    async def agen(n):
        for i in range(n):
            await asyncio.sleep(0)
            leaf(i)
            yield i

    async def main():
        return [x async for x in agen(3)]

    assert asyncio.run(main()) == [0, 1, 2]
    t = trace.read()
    n = t.one(f"{__name__}.{agen.__qualname__}")
    assert n.outcome == "succeeded" and n.fields == {"n": 3}
    assert [c.fields["n"] for c in n.children] == [0, 1, 2]


def test_coroutine_function_is_recognized():
    import asyncio

    @pl
    async def coro():
        return 1

    assert asyncio.iscoroutinefunction(coro)
    assert asyncio.run(coro()) == 1


def test_many_args_and_keyword_only(trace):
    @pl
    def many(a, /, b, *, c, d=4):
        return a + b + c + d

    assert many(1, 2, c=3) == 10
    assert many(1, b=2, c=3, d=0) == 6
    with pytest.raises(TypeError):
        many(1, 2)  # missing c: the function raises, the call is recorded as failed
    t = trace.read()
    calls = sorted(t.of_type(f"{__name__}.{many.__qualname__}"), key=lambda n: n.ts_ns)
    assert calls[0].fields == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert calls[1].fields == {"a": 1, "b": 2, "c": 3, "d": 0}
    assert calls[2].outcome == "failed" and calls[2].exc_type == "builtins.TypeError"
    assert "c" not in calls[2].fields


def test_kind_of_wrapped_callables(trace):
    import asyncio

    class AsyncCallable:
        async def __call__(self, x):
            await asyncio.sleep(0)
            return x

    async def coro_fn(x):
        return x

    twice = pl(action_type="twice")(pl(coro_fn))   # decorating a decorated coroutine function
    inst = pl(action_type="instance")(AsyncCallable())
    part = pl(action_type="partial")(functools.partial(coro_fn, 5))

    async def main():
        return await twice(1), await inst(2), await part()

    assert asyncio.run(main()) == (1, 2, 5)
    t = trace.read()
    # both places are taken at the call, by the same caller: the two actions are siblings
    assert t.one("twice").outcome == "succeeded" and t.one("twice").fields == {"x": 1}
    inner = t.one(f"{__name__}.{coro_fn.__qualname__}")
    assert inner.outcome == "succeeded" and inner.fields == {"x": 1}
    assert t.one("instance").fields == {"x": 2} and t.one("instance").outcome == "succeeded"
    assert t.one("partial").outcome == "succeeded"


@pl(max_len=5)
def quick(a, b, c=None):
    return a


def test_quick_and_generic_argument_paths_record_alike(trace):
    """Calls passing every recorded parameter by position as a short ASCII str, a
    one-digit int or None take the decorator's quick path; any other value or binding
    takes the generic converter. Both must record the same fields."""
    big = 2**30  # two 30-bit digits: not quick
    calls = [
        ((1, "abc", None), {}, {"a": 1, "b": "abc", "c": None}),  # quick
        ((-7, "", 0), {}, {"a": -7, "b": "", "c": 0}),  # quick: sign, empty str, zero
        ((2**30 - 1, "abcde", -(2**30 - 1)), {}, {"a": 2**30 - 1, "b": "abcde",
                                                  "c": -(2**30 - 1)}),  # quick limits
        ((big, "x", None), {}, {"a": big, "b": "x", "c": None}),  # int of two digits
        ((1, "abcdef", None), {}, {"a": 1, "b": "abcde", "b.truncated": 6, "c": None}),
        ((True, "é", None), {}, {"a": True, "b": "é", "c": None}),  # bool, non-ASCII
        ((1, "x"), {}, {"a": 1, "b": "x", "c": None}),  # default: fewer positionals
        ((1,), {"b": "x", "c": 3}, {"a": 1, "b": "x", "c": 3}),  # keywords
        ((1.5, b"by", [1]), {}, {"a": 1.5, "b": b"by", "c": [1]}),  # other types
    ]
    for args, kwargs, _ in calls:
        quick(*args, **kwargs)
    t = trace.read()
    got = [n.fields for n in sorted(t.of_type(f"{__name__}.quick"), key=lambda n: n.ts_ns)]
    assert got == [want for _, _, want in calls]
