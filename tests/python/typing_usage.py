# SPDX-License-Identifier: MIT
"""A program using perflog's typed API, type-checked by tests/python/test_typing.py with
`mypy --strict` against python/perflog/__init__.pyi. Not a test module: it is not run."""
import asyncio
import concurrent.futures

import perflog
from perflog import perflog as pl


@pl
def add(a: int, b: int) -> int:
    return a + b


@pl(action_type="db.query", args=["sql"], redact=["password"])
def query(sql: str, password: str) -> list[int]:
    return [len(sql), len(password)]


@pl
async def fetch(url: str) -> bytes:
    await asyncio.sleep(0)
    return url.encode()


def main(path: str) -> int:
    written: str = perflog.start(path, flush_interval_ms=50, full_policy="block",
                                 rotate_bytes=1 << 20, keep_files=3)
    total: int = add(1, 2) + len(query("select 1", password="x"))
    data: bytes = asyncio.run(fetch("http://example"))
    with perflog.action("job", batch=7) as a:
        a.add(rows=3)
        perflog.log("note", hit=True)
        task = perflog.current_task()
    if task is not None:
        with perflog.continue_task(task):
            pass
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        total += perflog.submit(ex, add, 2, 3).result()
    ok: bool = perflog.flush()
    s = perflog.stats()
    events: int = s["events"] + s["dropped_full"] + s["py_convert_errors"]
    where: str | None = s["path"]
    perflog.stop()
    durations: list[int] = []
    with perflog.read(written) as r:
        pid: int = r.header["pid"]
        for rec in r:
            if rec["kind"] == "end":  # narrows the union to EndRecord
                durations.append(rec["duration_ns"])
                failed: bool = rec["outcome"] == "failed"
                exc: str | None = rec["exc_type"]
                del failed, exc
            elif rec["kind"] in ("start", "message"):
                print(rec["type"], rec["fields"])
            elif rec["kind"] == "dropped":
                events += rec["count"]
    try:
        perflog.read("missing.zst")
    except perflog.TraceError as e:
        print(e.path, e.offset, e.reason, e.status)
    except OSError:
        pass
    del data, ok, where, pid
    return total + events + len(durations)
