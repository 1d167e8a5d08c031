# SPDX-License-Identifier: MIT
"""perflog.action() as a (async) context manager, add(), log(), read back as trees."""
import asyncio

import pytest

import perflog
from perflog import perflog as pl


@pl
def step(i):
    perflog.log("inside_step", i=i)
    return i


def test_action_fields_add_nesting_and_messages(trace):
    with perflog.action("job", name="j1", size=3) as a:
        assert isinstance(a, perflog.Action)
        step(1)
        perflog.log("note", text="hello")
        with perflog.action("phase", n=2):
            step(2)
        a.add(done=True, count=2)
    t = trace.read()
    job = t.one("job")
    assert job.fields == {"name": "j1", "size": 3}
    assert job.end_fields == {"done": True, "count": 2}
    inner = "test_action.step(inside_step)"
    assert job.shape() == f"job({inner}, note, phase({inner}))"
    assert [n.level for n in job.walk()] == [(), (1,), (1, 1), (2,), (3,), (3, 1), (3, 1, 1)]
    note = t.one("note")
    assert note.kind == "message" and note.fields == {"text": "hello"}
    assert t.one("phase").fields == {"n": 2}


def test_exception_in_with_propagates_and_resets_context(trace):
    with pytest.raises(KeyError) as info:
        with perflog.action("outer_job"):
            with perflog.action("failing"):
                assert perflog.current_task() is not None
                raise KeyError("missing")
    assert info.value.args == ("missing",)
    assert perflog.current_task() is None  # the contextvar was reset
    t = trace.read()
    f = t.one("failing")
    assert f.outcome == "failed" and f.exc_type == "builtins.KeyError"
    assert f.exc_msg == "'missing'"
    o = t.one("outer_job")
    assert o.outcome == "failed" and o.children == [f]


def test_log_outside_any_action_is_its_own_task(trace):
    perflog.log("lonely", x=1)
    t = trace.read()
    n = t.one("lonely")
    assert n.kind == "message" and n.level == () and n.fields == {"x": 1}


def test_action_log_method_and_add_after_end(trace):
    with perflog.action("a1") as a:
        pass
    with perflog.action("a2") as b:
        a.log("late", x=1)   # a has ended: ignored
        b.log("on_b", y=2)
    a.add(ignored=True)       # ended: ignored
    t = trace.read()
    assert t.one("a1").end_fields == {}
    assert t.one("a2").shape() == "a2(on_b)"
    assert t.of_type("late") == []


def test_async_with(trace):
    async def main():
        async with perflog.action("async_job", k=1) as a:
            await asyncio.sleep(0)
            step(5)
            a.add(after=True)
        with pytest.raises(ValueError):
            async with perflog.action("async_fail"):
                raise ValueError("x")

    asyncio.run(main())
    t = trace.read()
    job = t.one("async_job")
    assert job.fields == {"k": 1} and job.end_fields == {"after": True}
    assert job.shape() == "async_job(test_action.step(inside_step))"
    assert t.one("async_fail").outcome == "failed"


def test_double_enter_and_bad_arguments(trace):
    a = perflog.action("twice")
    with a:
        with pytest.raises(RuntimeError):
            a.__enter__()
    with pytest.raises(TypeError):
        perflog.action(42)
    with pytest.raises(TypeError):
        perflog.log()
    with pytest.raises(TypeError):
        a.add(1)
    trace.read()


def test_actions_work_when_not_recording():
    assert not perflog.recording()
    with perflog.action("idle") as a:
        a.add(x=1)
        perflog.log("m")
        assert perflog.current_task() is not None
        step(1)
    assert perflog.current_task() is None


def test_decorated_inside_action_inside_decorated(trace):
    @pl
    def top():
        with perflog.action("middle"):
            step(1)
            return perflog.current_task()

    task = top()
    t = trace.read()
    root = t.one(f"{__name__}.{top.__qualname__}")
    assert root.shape() == (f"{__name__}.{top.__qualname__}"
                            "(middle(test_action.step(inside_step)))")
    # current_task() reserved the next child slot of "middle"
    assert task == f"{root.task_id}@/1/2"


def test_logging_handler_records_messages(trace):
    import logging

    logger = logging.getLogger("perflog.test")
    handler = perflog.PerflogHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with perflog.action("logged"):
            logger.info("hello %s", "world")
            try:
                raise OSError("disk")
            except OSError:
                logger.exception("failed")
        logger.debug("not emitted")
    finally:
        logger.removeHandler(handler)
    t = trace.read()
    node = t.one("logged")
    assert node.shape() == "logged(logging:INFO, logging:ERROR)"
    info, error = node.children
    assert info.fields == {"message": "hello world", "logger": "perflog.test"}
    assert error.fields == {"message": "failed", "logger": "perflog.test",
                            "exc_type": "builtins.OSError"}
