# SPDX-License-Identifier: MIT
"""W3C trace context: current_task(format="traceparent") and continue_task(traceparent).

A perflog task joins a distributed trace coming from an OpenTelemetry-instrumented caller:
its spans carry the caller's trace id, its root the caller's span as parent, and a
traceparent made inside it names the current action's span - the span id that
`perfan export --format otlp` writes for that action (checked end to end here).
"""

import asyncio
import json
import os
import pathlib
import subprocess
import sys

import pytest

import perflog

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import ref_reader  # noqa: E402

BUILD = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR",
                                    pathlib.Path(__file__).resolve().parents[2] / "build"))
PERFAN = BUILD / "analyzer" / "perfan"

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE, PARENT = CALLER[3:35], CALLER[36:52]
span_id = ref_reader.span_id  # docs/perfan.md's rule, written from it


def parse_task(s):
    """A task string "<prefix>-<seq>@/a/b" as (prefix, seq, level)."""
    ident, path = s.split("@")
    prefix, seq = ident.split("-")
    return int(prefix, 16), int(seq, 16), [int(x) for x in path.split("/") if x]


def test_no_action_no_traceparent(trace):
    assert perflog.current_task(format="traceparent") is None
    with pytest.raises(ValueError, match="'task' or 'traceparent'"):
        perflog.current_task(format="b3")
    with pytest.raises(TypeError):
        perflog.current_task("traceparent")  # keyword only


def test_a_plain_task_has_the_trace_id_of_its_task_id(trace):
    with perflog.action("job") as a:
        tp = perflog.current_task(format="traceparent")
        # current_task() reserves a child slot; the traceparent names the action itself.
        prefix, seq, level = parse_task(perflog.current_task())
        assert a is not None
    assert tp == f"00-{prefix:016x}{seq:016x}-{span_id(prefix, seq, level[:-1])}-01"


def test_continued_task_is_in_the_callers_trace(trace, tmp_path):
    with perflog.continue_task(CALLER, "http.request"):
        root_tp = perflog.current_task(format="traceparent")
        with perflog.action("db.query", sql="select 1"):
            inner_tp = perflog.current_task(format="traceparent")
    with perflog.action("after"):
        after_tp = perflog.current_task(format="traceparent")
    assert root_tp[3:35] == inner_tp[3:35] == TRACE
    assert root_tp[-2:] == "01" and root_tp[36:52] != PARENT  # our span, not the caller's
    assert after_tp[3:35] != TRACE  # the root ended: a new task has its own trace id
    tree = trace.read()
    root = tree.one("http.request")
    assert root.fields["perflog.traceparent"] == CALLER and root.level == ()
    # End to end: perfan's OTLP spans are those the traceparents named.
    out = subprocess.run([str(PERFAN), "export", "--format", "otlp", str(trace.path)],
                         capture_output=True, text=True, check=True).stdout
    spans = {s["name"]: s for line in out.splitlines()
             for rs in json.loads(line)["resourceSpans"]
             for s in rs["scopeSpans"][0]["spans"]}
    req, q = spans["http.request"], spans["db.query"]
    assert req["traceId"] == q["traceId"] == TRACE
    assert req["parentSpanId"] == PARENT and q["parentSpanId"] == req["spanId"]
    assert root_tp == f"00-{TRACE}-{req['spanId']}-01"
    assert inner_tp == f"00-{TRACE}-{q['spanId']}-01"
    assert spans["after"]["traceId"] != TRACE


def test_flags_and_later_versions_are_kept(trace):
    later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra"
    with perflog.continue_task(later):
        tp = perflog.current_task(format="traceparent")
    assert tp.startswith(f"00-{TRACE}-") and tp.endswith("-00")  # not sampled, as given
    root = trace.read().one("perflog:remote_task")
    assert root.fields["perflog.traceparent"] == \
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


def test_without_recording_the_trace_still_goes_through():
    assert not perflog.recording()
    with perflog.continue_task(CALLER):
        tp = perflog.current_task(format="traceparent")
    assert tp is not None and tp[3:35] == TRACE


def test_a_bad_traceparent_never_raises(trace):
    before = perflog.stats()["py_bad_task_strings"]
    for bad in (CALLER.upper(), "00-" + "0" * 32 + "-00f067aa0ba902b7-01", "garbage"):
        with perflog.continue_task(bad):
            tp = perflog.current_task(format="traceparent")
        assert tp[3:35] != TRACE.upper() and tp[3:35] != "0" * 32
    assert perflog.stats()["py_bad_task_strings"] == before + 3


def test_concurrent_requests_keep_their_own_traces(trace):
    """asyncio tasks, each continuing its own caller's trace, interleaved."""
    callers = [f"00-{i + 1:032x}-{i + 1:016x}-01" for i in range(20)]

    async def handle(caller):
        with perflog.continue_task(caller, "request"):
            await asyncio.sleep(0)
            with perflog.action("step"):
                await asyncio.sleep(0.001)
                return perflog.current_task(format="traceparent")

    async def main():
        return await asyncio.gather(*(handle(c) for c in callers))

    got = asyncio.run(main())
    assert [tp[3:35] for tp in got] == [c[3:35] for c in callers]
    roots = trace.read().of_type("request")
    assert sorted(r.fields["perflog.traceparent"] for r in roots) == sorted(callers)
