# SPDX-License-Identifier: MIT
"""test_otlp.py - `perfan export --format otlp` read back with the OpenTelemetry project's own
OTLP classes (opentelemetry-proto from PyPI, protobuf's json_format), and its span trees
against the task trees the reference reader decodes from the same files.

OTLP/JSON writes trace and span ids as hex where protobuf's JSON mapping expects base64:
json_format would read the hex as base64 without failing, so the ids are converted by the
OTLP/JSON rules first and the decoded bytes checked.
"""

import base64
import copy
import json
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_traces as gt  # noqa: E402
from conftest import run  # noqa: E402
import ref_reader  # noqa: E402  (gen_traces put its folder on the path)

json_format = pytest.importorskip("google.protobuf.json_format")
trace_service = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
    reason="opentelemetry-proto (scripts/deps.sh installs it into .venv)")

span_id = ref_reader.span_id


def _hex_to_b64(doc):
    """The OTLP/JSON line with its ids as protobuf's JSON mapping wants them (base64)."""
    doc = copy.deepcopy(doc)
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                for k in ("traceId", "spanId", "parentSpanId"):
                    if k in sp:
                        sp[k] = base64.b64encode(bytes.fromhex(sp[k])).decode()
    return doc


def export(perfan, *args):
    """Every line of the export, checked to be an ExportTraceServiceRequest; returns the
    spans as dicts, each with its resource's attributes under "resource"."""
    p = run(perfan, "export", "--format", "otlp", *args)
    spans = []
    for line in p.stdout.splitlines():
        doc = json.loads(line)
        msg = json_format.Parse(json.dumps(_hex_to_b64(doc)),
                                trace_service.ExportTraceServiceRequest())
        # It re-serializes, and says the same thing again.
        again = json_format.Parse(json_format.MessageToJson(msg),
                                  trace_service.ExportTraceServiceRequest())
        assert again == msg
        for rs, prs in zip(doc["resourceSpans"], msg.resource_spans):
            res = {a["key"]: _any(a["value"]) for a in rs["resource"]["attributes"]}
            for ss, pss in zip(rs["scopeSpans"], prs.scope_spans):
                assert ss["scope"]["name"] == "perflog"
                for sp, psp in zip(ss["spans"], pss.spans):
                    assert psp.trace_id == bytes.fromhex(sp["traceId"]) and len(psp.trace_id) == 16
                    assert psp.span_id == bytes.fromhex(sp["spanId"]) and len(psp.span_id) == 8
                    assert psp.parent_span_id == bytes.fromhex(sp.get("parentSpanId", ""))
                    assert psp.start_time_unix_nano == int(sp["startTimeUnixNano"])
                    assert psp.end_time_unix_nano >= psp.start_time_unix_nano
                    sp["resource"] = res
                    sp["attrs"] = {a["key"]: _any(a["value"]) for a in sp["attributes"]}
                    spans.append(sp)
    return spans


def _any(v):
    """An OTLP AnyValue (JSON) as a Python value."""
    if not v:
        return None
    (kind, x), = v.items()
    if kind == "intValue":
        return int(x)
    if kind == "doubleValue":
        return float(x)
    if kind == "arrayValue":
        return [_any(i) for i in x.get("values", [])]
    if kind == "kvlistValue":
        return {kv["key"]: _any(kv.get("value", {})) for kv in x.get("values", [])}
    return x


def _plain(v):
    """A field value as the export gives it, containers item by item."""
    if isinstance(v, list):
        return [_plain(i) for i in v]
    if isinstance(v, dict):
        return {k: _plain(i) for k, i in v.items()}
    return gt.shown_value(v)


def _same(a, b):
    """Equal, nan equal to nan."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b) or (isinstance(a, int) and isinstance(b, int)
                                              and not isinstance(a, bool)
                                              and not isinstance(b, bool) and a == b)


def _messages(d):
    """Every MESSAGE of the traces: (prefix, seq, level, type, wall, fields)."""
    out = []
    for path in gt.expand([d]):
        try:
            r = ref_reader.Reader(str(path))
        except ref_reader.TraceError:
            continue  # not a trace: perfan skips it too
        with r:
            try:
                for rec in r:
                    if rec["kind"] == "message":
                        out.append((rec["task_prefix"], rec["task_seq"],
                                    tuple(rec["level"]), rec["type"], rec["wall_ns"],
                                    rec["fields"]))
            except ref_reader.TraceError:
                pass  # damaged: what came before it counts, as in perfan
    return out


@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_spans_are_the_task_trees(perfan, request, which):
    d = request.getfixturevalue(which)
    ref = gt.load([d])
    spans = export(perfan, d)
    actions = [s for s in spans if not s["attrs"].get("perflog.message")]
    finished = [s for s in actions if not s["attrs"].get("perflog.unfinished")]
    assert len(finished) == len(ref["actions"])
    assert len(actions) - len(finished) == ref["unfinished"]
    by_task = {s["attrs"]["perflog.task"]: s for s in actions}
    assert len(by_task) == len(actions)
    for a in ref["actions"]:
        s = by_task[a["task"]]
        prefix, seq, level = a["key"]
        assert s["traceId"] == f"{prefix:016x}{seq:016x}"
        assert s["spanId"] == span_id(prefix, seq, level)
        assert s["name"] == a["type"] == s["attrs"]["code.function"]
        assert int(s["startTimeUnixNano"]) == a["start_ns"]
        assert int(s["endTimeUnixNano"]) == a["start_ns"] + a["duration_ns"]
        # The parent: the span of the action one level up, when the traces hold it.
        if level:
            assert s["parentSpanId"] == span_id(prefix, seq, level[:-1])
            parent = by_task.get(ref_reader.task_string(prefix, seq, level[:-1]))
            if a["path"][-2] is not None:
                assert parent is not None and parent["spanId"] == s["parentSpanId"]
                assert parent["traceId"] == s["traceId"]
        else:
            assert "parentSpanId" not in s
        inputs = {k[len("perflog.input."):]: v for k, v in s["attrs"].items()
                  if k.startswith("perflog.input.")}
        assert _same(inputs, {k: _plain(v) for k, v in a["inputs"].items()}), a["task"]
        outputs = {k[len("perflog.output."):]: v for k, v in s["attrs"].items()
                   if k.startswith("perflog.output.")}
        assert outputs.keys() == a["outputs"].keys()
        pid = a["pid"]
        assert s["resource"]["process.pid"] == pid and s["resource"]["host.name"] == a["host"]
        if a["thread_name"] is not None:
            assert s["attrs"]["thread.name"] == a["thread_name"]
        exc = [e for e in s.get("events", []) if e["name"] == "exception"]
        if a["failed"]:
            assert s["status"]["code"] == 2
            if a["exc_type"] is not None:
                (e,) = exc
                attrs = {x["key"]: _any(x["value"]) for x in e["attributes"]}
                assert attrs == {"exception.type": a["exc_type"],
                                 "exception.message": a["exc_msg"] or ""}
        else:
            assert "status" not in s and not exc


@pytest.mark.parametrize("which", ["fixtures", "real"])
def test_messages_are_events_of_their_action(perfan, request, which):
    d = request.getfixturevalue(which)
    spans = export(perfan, d)
    by_task = {s["attrs"]["perflog.task"]: s for s in spans
               if not s["attrs"].get("perflog.message")}
    lone = [s for s in spans if s["attrs"].get("perflog.message")]
    msgs = _messages(d)
    expect_events, expect_lone = {}, []
    for prefix, seq, level, typ, wall, fields in msgs:
        parent = ref_reader.task_string(prefix, seq, level[:-1]) if level else None
        if parent in by_task:
            expect_events.setdefault(parent, []).append((typ, wall))
        else:
            expect_lone.append((typ, wall, ref_reader.task_string(prefix, seq, level)))
    for task, s in by_task.items():
        got = [(e["name"], int(e["timeUnixNano"])) for e in s.get("events", [])
               if e["name"] != "exception"]
        assert sorted(got) == sorted(expect_events.get(task, [])), task
    assert sorted((s["name"], int(s["startTimeUnixNano"]), s["attrs"]["perflog.task"])
                  for s in lone) == sorted(expect_lone)
    assert msgs, "the traces have messages"


def test_resources_service_and_batches(perfan, tmp_path):
    """One resource per process (its rotated files together), service.name from the program
    or --service, and at most 512 spans per line."""
    paths = []
    for part, pid in ((0, 7), (1, 7), (2, 8)):
        tree = gt.Tree()
        for i in range(700):
            tree.action(1, (gt.WEB_PREFIX + pid, part * 1000 + i + 1), [], "job",
                        part * gt.MS * 1000 + i * gt.MS, 10 * gt.US, {"i": i})
        path = tmp_path / f"p{pid}-{part}.zst"
        tw = gt.TraceWriter(path, pid, gt.WEB_PREFIX + pid, gt.WALL0, {1: "main"},
                            argv=["/usr/bin/python3", "/srv/app.py"])
        tw.frame(tree.split(lambda e: True))
        tw.close()
        paths.append(path)
    p = run(perfan, "export", "--format", "otlp", *paths)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    per_line = [(ln["resourceSpans"][0]["resource"]["attributes"],
                 len(ln["resourceSpans"][0]["scopeSpans"][0]["spans"])) for ln in lines]
    assert all(n <= 512 for _, n in per_line)
    total = {}
    for attrs, n in per_line:
        a = {x["key"]: _any(x["value"]) for x in attrs}
        assert a["service.name"] == "python3 app.py" and a["host.name"] == "testhost"
        total[a["process.pid"]] = total.get(a["process.pid"], 0) + n
    assert total == {7: 1400, 8: 700}
    spans = export(perfan, "--service", "checkout", *paths)
    assert {s["resource"]["service.name"] for s in spans} == {"checkout"}


def test_filters_and_usage(perfan, fixtures):
    spans = export(perfan, "--type", "db.*", fixtures / "web.zst")
    assert spans and all(s["name"].startswith("db.") for s in spans
                         if not s["attrs"].get("perflog.message"))
    bad = run(perfan, "export", "--format", "chrome", "--service", "x", fixtures / "web.zst",
              check_exit=2)
    assert "--service: only with --format otlp" in bad.stderr
    bad = run(perfan, "export", "--format", "otel", fixtures / "web.zst", check_exit=2)
    assert "not chrome, jsonl or otlp" in bad.stderr


def test_lone_and_orphan_messages_become_spans(perfan, tmp_path):
    """A message of its own task, and one whose action is not in the input (its START and END
    in a file not given), are spans of no duration; more than 128 messages in one action
    are counted in droppedEventsCount."""
    tree = gt.Tree()
    task = (gt.WEB_PREFIX, 1)
    tree.message(1, (gt.WEB_PREFIX, 2), [], "startup", 5 * gt.MS, {"port": 8080})
    tree.message(1, (gt.WEB_PREFIX, 3), [4], "orphan", 6 * gt.MS, {})
    tree.action(1, task, [], "request", 10 * gt.MS, 5 * gt.MS)
    for i in range(130):
        tree.message(1, task, [i + 1], "tick", 10 * gt.MS + i * gt.US, {"i": i})
    path = tmp_path / "m.zst"
    tw = gt.TraceWriter(path, 9, gt.WEB_PREFIX, gt.WALL0, {1: "main"})
    tw.frame(tree.split(lambda e: True))
    tw.close()
    spans = {s["name"]: s for s in export(perfan, path)}
    lone, orphan, req = spans["startup"], spans["orphan"], spans["request"]
    assert lone["attrs"]["perflog.message"] is True and "parentSpanId" not in lone
    assert lone["attrs"]["perflog.field.port"] == 8080
    assert lone["startTimeUnixNano"] == lone["endTimeUnixNano"] == str(gt.WALL0 + 5 * gt.MS)
    assert orphan["parentSpanId"] == span_id(gt.WEB_PREFIX, 3, [])
    assert orphan["spanId"] == span_id(gt.WEB_PREFIX, 3, [4])
    events = req["events"]
    assert len(events) == 128 and req["droppedEventsCount"] == 2
    assert [_any(e["attributes"][0]["value"]) for e in events] == list(range(128))
