# SPDX-License-Identifier: MIT
"""Carry the current action into another thread or an executor.

New threads start with an empty context, so actions recorded there begin new tasks.
``preserve_context(fn)`` places an action of type ``"perflog:thread"`` under the current
action *now*, and returns a one-shot callable that runs ``fn`` inside it wherever it is
called: the thread's actions then join the caller's tree (eliot's ``preserve_context``).
"""
import functools
import threading

from . import _perflog


def preserve_context(fn):
    """Return a callable running ``fn`` inside an action placed under the current one.

    The returned callable may run once (in any thread); a second call raises
    RuntimeError. With no current action, ``fn`` itself is returned.
    """
    act = _perflog._child_action("perflog:thread")
    if act is None:
        return fn
    once = threading.Lock()

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if not once.acquire(blocking=False):
            raise RuntimeError("a perflog.preserve_context() callable can run only once")
        with act:
            return fn(*args, **kwargs)

    return run


def submit(executor, fn, /, *args, **kwargs):
    """``executor.submit(fn, *args, **kwargs)`` with the current action carried along."""
    return executor.submit(preserve_context(fn), *args, **kwargs)
