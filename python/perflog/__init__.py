# SPDX-License-Identifier: MIT
"""perflog: record which calls are slow, with which inputs, as eliot-style causal trees.

    from perflog import perflog
    import perflog as pl

    pl.start("trace-{pid}.zst")

    @perflog
    def handle(user_id, query): ...

    with pl.action("batch", size=3) as a:
        handle(1, "x")
        a.add(done=True)

Recording errors never reach the recorded program; they are counted in stats().
"""
import atexit as _atexit
import os as _os
import sys as _sys

from . import _perflog, _wrappers
from ._decorator import perflog
from ._logging import PerflogHandler
from ._perflog import (
    Action,
    CoroutineWrapper,
    Decorated,
    GeneratorWrapper,
    Reader,
    TraceError,
    action,
    continue_task,
    current_task,
    flush,
    log,
    read,
    recording,
    start,
    stats,
    stop,
)
from ._threads import preserve_context, submit


def to_dataframe(paths, *, inputs=True):
    """The actions of the traces at @paths as a pandas DataFrame (perflog.frames: needs
    pyarrow and pandas, optional dependencies)."""
    from .frames import to_dataframe as _to_dataframe
    return _to_dataframe(paths, inputs=inputs)


def to_arrow(paths, *, inputs=True):
    """The actions of the traces at @paths as a pyarrow.Table (perflog.frames)."""
    from .frames import to_arrow as _to_arrow
    return _to_arrow(paths, inputs=inputs)


__version__ = "0.2.0"

__all__ = [
    "Action",
    "CoroutineWrapper",
    "Decorated",
    "GeneratorWrapper",
    "PerflogHandler",
    "Reader",
    "TraceError",
    "action",
    "continue_task",
    "current_task",
    "flush",
    "log",
    "perflog",
    "preserve_context",
    "read",
    "recording",
    "start",
    "stats",
    "stop",
    "submit",
    "to_arrow",
    "to_dataframe",
]

_perflog._set_wrappers(_wrappers.wrap_async_generator)


def _after_fork_child():
    # A fork child records new tasks of its own (liblog reopens "{pid}" paths, else stops).
    _perflog._after_fork_child()
    # multiprocessing ends its fork children with os._exit(), skipping atexit: close the
    # child's file from its exit hook instead. Its finalizers are cleared when the child
    # starts, its after-fork hooks run after that: register from one of those.
    util = _sys.modules.get("multiprocessing.util")
    if util is not None and _perflog.recording():
        util.register_after_fork(_perflog, _stop_at_multiprocessing_exit)


def _stop_at_multiprocessing_exit(_module):
    _sys.modules["multiprocessing.util"].Finalize(None, _perflog.stop, exitpriority=-1000)
    # Pool.terminate() (`with Pool()` on exit) ends workers with SIGTERM: flush first.
    _perflog._flush_on_sigterm()


_os.register_at_fork(after_in_child=_after_fork_child)
# Close the file cleanly at interpreter exit, after the program's own atexit handlers.
_atexit.register(_perflog.stop)

from . import _autostart  # noqa: E402  (needs the module fully set up)

_autostart.run()
