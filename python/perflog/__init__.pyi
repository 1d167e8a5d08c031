# SPDX-License-Identifier: MIT
import concurrent.futures
import logging
import os
import types
from typing import (
    Any,
    Callable,
    Iterator,
    Literal,
    Optional,
    Sequence,
    TypeVar,
    Union,
    overload,
)

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")
_PathLike = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]

__version__: str

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

class Reader(Iterator[dict[str, Any]]):
    @property
    def header(self) -> dict[str, Any]: ...
    @property
    def path(self) -> str: ...
    @property
    def index_problem(self) -> str | None: ...
    def __iter__(self) -> Reader: ...
    def __next__(self) -> dict[str, Any]: ...
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
def stats() -> dict[str, Any]: ...
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
) -> Callable[[_F], _F]: ...
def action(action_type: str, /, **fields: Any) -> Action: ...
def log(message_type: str, /, **fields: Any) -> None: ...
def current_task() -> Optional[str]: ...
def continue_task(task: Union[str, bytes], action_type: str = ...) -> Action: ...
def preserve_context(fn: Callable[..., _T]) -> Callable[..., _T]: ...
def submit(
    executor: concurrent.futures.Executor, fn: Callable[..., _T], /, *args: Any, **kwargs: Any
) -> concurrent.futures.Future[_T]: ...
def read(path: _PathLike) -> Reader: ...

__all__ = [
    "Action",
    "Decorated",
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
]
