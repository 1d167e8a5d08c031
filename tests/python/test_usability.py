# SPDX-License-Identifier: MIT
"""What a new user tripped over (the house-in-order issue, part 7): each small, each
tested where it can fail."""
import asyncio

import pytest

import perflog
from conftest import run_python


@pytest.mark.parametrize("options,says", [
    ({"buffer_size": 1}, "buffer_size must be from 262144"),
    ({"compression_level": 99}, "compression_level must be from -131072 to 22"),
    ({"flush_interval_ms": 0}, "flush_interval_ms must be from 1"),
    ({"full_policy": "sometimes"}, "full_policy must be 'drop' or 'block'"),
    ({"file_mode": 0o666}, "file_mode must be permission bits"),
])
def test_start_names_the_bad_argument_and_its_range(tmp_path, options, says):
    with pytest.raises(ValueError, match=says):
        perflog.start(str(tmp_path / "t.zst"), **options)
    with pytest.raises(ValueError, match="path must not be empty"):
        perflog.start("")
    assert not perflog.recording()


def test_a_class_is_refused():
    with pytest.raises(TypeError, match=r"cannot decorate the class '.*Point'"):
        @perflog.perflog
        class Point:
            pass


def test_the_namespace_holds_the_api_only():
    public = {n for n in dir(perflog) if not n.startswith("_")}
    assert not public & {"os", "sys", "atexit"}
    assert {"start", "stop", "perflog", "action", "log", "read"} <= public


def test_a_bad_option_variable_is_ignored_with_a_warning(tmp_path):
    p = run_python("import perflog; print(perflog.recording(), perflog.stats()['path'])",
                   env={"PERFLOG_FILE": str(tmp_path / "env.zst"),
                        "PERFLOG_FULL_POLICY": "sometimes", "PERFLOG_BUFFER_SIZE": "lots"})
    assert p.stdout.split()[0] == "True", p.stdout + p.stderr
    assert "ignoring PERFLOG_BUFFER_SIZE" in p.stderr
    assert "ignoring PERFLOG_FULL_POLICY" in p.stderr and "'drop' or 'block'" in p.stderr


def test_a_cancelled_coroutine_says_so(trace):
    @perflog.perflog
    async def slow():
        await asyncio.sleep(10)

    async def main():
        for msg in (None, "shutting down"):
            task = asyncio.create_task(slow())
            await asyncio.sleep(0.01)
            task.cancel(msg)
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    ends = [n for n in trace.read().nodes.values() if n.kind == "action"]
    assert sorted(n.exc_msg for n in ends) == ["cancelled", "cancelled: shutting down"]
    assert all(n.exc_type == "asyncio.exceptions.CancelledError" for n in ends)
    # The outcome of its own (format 2): not a failure.
    outcomes = [r["outcome"] for r in perflog.read(str(trace.path)) if r["kind"] == "end"]
    assert outcomes == ["cancelled", "cancelled"]


def test_missing_trace_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        perflog.read(str(tmp_path / "nothing.zst"))
