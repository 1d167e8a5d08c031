# SPDX-License-Identifier: MIT
import concurrent.futures
import logging
import os
import types
from typing import (
    Any,
    Callable,
    Coroutine,
    Generator,
    Iterator,
    Literal,
    Optional,
    Sequence,
    TypedDict,
    TypeVar,
    Union,
    overload,
)

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")
_PathLike = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]

__version__: str

# The keys of stats() and of the records read() yields are fixed: tests/python/test_typing.py
# checks these TypedDicts against the extension, and type-checks a program using them.

class Stats(TypedDict):
    recording: bool
    path: Optional[str]
    events: int
    dropped_full: int
    dropped_oversize: int
    dropped_no_buffer: int
    dropped_write: int
    blocked: int
    frames: int
    bytes_raw: int
    bytes_written: int
    write_errors: int
    last_errno: int
    ring_grown: int
    ring_bytes: int
    rotations: int
    rotate_errors: int
    files_deleted: int
    names_refused: int
    py_convert_errors: int
    py_exc_str_errors: int
    py_context_errors: int
    py_bad_task_strings: int
    py_depth_errors: int
    py_memory_errors: int
    py_field_overflows: int
    py_wrap_errors: int
    py_serialize_errors: int
    py_restart_gap: int
    py_extract_errors: int

class TraceHeader(TypedDict):
    version: int
    pid: int
    host: Optional[str]
    argv: list[Optional[str]]
    clock: Optional[str]
    mono_anchor_ns: int
    wall_anchor_ns: int
    task_prefix: str
    library: Optional[str]

class StartRecord(TypedDict):
    kind: Literal["start"]
    ts_ns: int
    wall_ns: int
    thread: int
    tid: int
    task: str
    task_id: str
    level: list[int]
    type: str
    fields: dict[str, Any]

class MessageRecord(TypedDict):
    kind: Literal["message"]
    ts_ns: int
    wall_ns: int
    thread: int
    tid: int
    task: str
    task_id: str
    level: list[int]
    type: str
    fields: dict[str, Any]

class EndRecord(TypedDict):
    kind: Literal["end"]
    ts_ns: int
    wall_ns: int
    thread: int
    tid: int
    task: str
    task_id: str
    level: list[int]
    fields: dict[str, Any]
    outcome: Literal["succeeded", "failed", "cancelled"]
    duration_ns: int
    exc_type: Optional[str]
    exc_msg: Optional[str]

class ThreadRecord(TypedDict):
    kind: Literal["thread"]
    ts_ns: int
    wall_ns: int
    thread: int
    tid: int
    name: str

class DroppedRecord(TypedDict):
    kind: Literal["dropped"]
    ts_ns: int
    wall_ns: int
    thread: int
    tid: int
    reason: str
    count: int

class StatsRecord(TypedDict):
    kind: Literal["stats"]
    ts_ns: int
    wall_ns: int
    thread: int
    tid: int
    fields: dict[str, Any]

Record = Union[StartRecord, MessageRecord, EndRecord, ThreadRecord, DroppedRecord, StatsRecord]

class TraceError(Exception):
    path: str
    offset: int
    reason: str
    status: int

class Action:
    def __enter__(self) -> Action: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> Literal[False]: ...
    async def __aenter__(self) -> Action: ...
    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> Literal[False]: ...
    def add(self, **fields: Any) -> None: ...
    def log(self, message_type: str, /, **fields: Any) -> None: ...

class Decorated:
    __wrapped__: Callable[..., Any]
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

class CoroutineWrapper(Coroutine[Any, Any, Any]):
    """What a decorated coroutine function returns (a registered Coroutine)."""
    def send(self, value: Any, /) -> Any: ...
    def throw(self, typ: Any, val: Any = ..., tb: Any = ..., /) -> Any: ...
    def close(self) -> None: ...
    def __await__(self) -> Generator[Any, None, Any]: ...

class GeneratorWrapper(Generator[Any, Any, Any]):
    """What a decorated generator function returns (a registered Generator)."""
    def __next__(self) -> Any: ...
    def send(self, value: Any, /) -> Any: ...
    def throw(self, typ: Any, val: Any = ..., tb: Any = ..., /) -> Any: ...
    def close(self) -> None: ...

class Reader(Iterator[Record]):
    @property
    def header(self) -> TraceHeader: ...
    @property
    def path(self) -> str: ...
    @property
    def index_problem(self) -> str | None: ...
    def __iter__(self) -> Reader: ...
    def __next__(self) -> Record: ...
    def close(self) -> None: ...
    def __enter__(self) -> Reader: ...
    def __exit__(self, *exc: object) -> Literal[False]: ...

class PerflogHandler(logging.Handler): ...

def start(
    path: _PathLike = ...,
    *,
    flush_interval_ms: int = ...,
    buffer_size: int = ...,
    max_memory: int = ...,
    full_policy: Literal["drop", "block"] = ...,
    clock: Literal["auto", "monotonic"] = ...,
    compression_level: int = ...,
    file_mode: int = ...,
    rotate_bytes: int = ...,
    rotate_seconds: int = ...,
    keep_files: int = ...,
    keep_bytes: int = ...,
    exception_text: bool = ...,
) -> str: ...
def stop() -> None: ...
def flush() -> bool: ...
def recording() -> bool: ...
def stats() -> Stats: ...
@overload
def perflog(fn: _F, /) -> _F: ...
@overload
def perflog(
    fn: None = ...,
    /,
    *,
    action_type: Optional[str] = ...,
    args: Union[bool, Sequence[str]] = ...,
    result: bool = ...,
    redact: Sequence[str] = ...,
    max_len: int = ...,
    extract: Optional[dict[str, Callable[[Any], Any]]] = ...,
) -> Callable[[_F], _F]: ...
def action(action_type: str, /, **fields: Any) -> Action: ...
def log(message_type: str, /, **fields: Any) -> None: ...
def current_task(*, format: Literal["task", "traceparent"] = ...) -> Optional[str]: ...
def continue_task(task: Union[str, bytes], action_type: str = ..., **fields: Any) -> Action: ...
def preserve_context(fn: Callable[..., _T]) -> Callable[..., _T]: ...
def submit(
    executor: concurrent.futures.Executor, fn: Callable[..., _T], /, *args: Any, **kwargs: Any
) -> concurrent.futures.Future[_T]: ...
def to_dataframe(
    paths: Union[_PathLike, Sequence[_PathLike]],
    *,
    inputs: bool = ...,
) -> Any: ...
def to_arrow(
    paths: Union[_PathLike, Sequence[_PathLike]],
    *,
    inputs: bool = ...,
) -> Any: ...
def read(path: _PathLike) -> Reader: ...

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
