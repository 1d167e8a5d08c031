# SPDX-License-Identifier: MIT
"""bench_otlp.py - OpenTelemetry spans two ways, side by side in one run:

  perflog:  the program records its calls (perflog.action, inputs as fields) into a trace;
            `perfan export --format otlp` turns the trace into OTLP/JSON spans afterwards,
            off the program's path (on another machine if need be).
  OTel SDK: the program creates the same spans with the OpenTelemetry Python SDK
            (start_as_current_span, the same inputs as attributes, BatchSpanProcessor
            exporting to a file), which is what users would run instead; and, apart, the
            same spans created with no processor at all (creation alone).

The workload: R requests, each a root span with three children (a query with its SQL and
row count, a render with its template, a cache lookup) - 4 spans per request. Per span:
the time the program spent (the loop's time less the bare loop's), and for perflog also
what `perfan export` took per span and the bytes written.

Run: scripts/deps.sh --bench && scripts/build.sh &&
     PYTHONPATH=build/python .venv/bin/python3 bench/bench_otlp.py [--requests R] [--reps K]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time


def work(i):
    """What a request does besides being traced: a little arithmetic."""
    return (i * 2654435761) % 1000


def bare(requests):
    t = time.perf_counter_ns()
    for i in range(requests):
        work(i)
        work(i + 1)
        work(i + 2)
    return time.perf_counter_ns() - t


def with_perflog(perflog, requests):
    action = perflog.action
    t = time.perf_counter_ns()
    for i in range(requests):
        with action("http.request", path=f"/item/{i % 100}", method="GET"):
            with action("db.query", sql="select * from items where id = ?", rows=i % 50):
                work(i)
            with action("render", template="item.html"):
                work(i + 1)
            with action("cache.get", key=f"item:{i % 100}", hit=i % 3 == 0):
                work(i + 2)
    return time.perf_counter_ns() - t


def with_otel(tracer, requests):
    span = tracer.start_as_current_span
    t = time.perf_counter_ns()
    for i in range(requests):
        with span("http.request", attributes={"path": f"/item/{i % 100}", "method": "GET"}):
            with span("db.query", attributes={"sql": "select * from items where id = ?",
                                              "rows": i % 50}):
                work(i)
            with span("render", attributes={"template": "item.html"}):
                work(i + 1)
            with span("cache.get", attributes={"key": f"item:{i % 100}", "hit": i % 3 == 0}):
                work(i + 2)
    return time.perf_counter_ns() - t


def otel_setup(path):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    out = open(path, "w")
    provider = TracerProvider()
    exporter = ConsoleSpanExporter(out=out,
                                   formatter=lambda s: s.to_json(indent=None) + "\n")
    # A queue that holds every span of the run: none dropped, as perflog drops none.
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=1 << 22))
    return provider, out, provider.get_tracer("bench_otlp")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=25000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--perfan", default=os.path.join("build", "analyzer", "perfan"))
    args = ap.parse_args()
    import perflog
    try:
        import opentelemetry.sdk  # noqa: F401
        have_otel = True
    except ImportError:
        have_otel = False
        print("OpenTelemetry SDK not installed (scripts/deps.sh --bench): left out")
    spans = 4 * args.requests
    rows = {"perflog record": [], "perfan export --format otlp": [], "OTel SDK": [],
            "OTel SDK, no exporter": []}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            base = min(bare(args.requests) for _ in range(3))
            trace = os.path.join(tmp, f"t{rep}.zst")
            perflog.start(trace)
            took = with_perflog(perflog, args.requests)
            perflog.stop()
            rows["perflog record"].append((took - base) / spans)
            out = os.path.join(tmp, f"t{rep}.otlp.jsonl")
            t = time.perf_counter_ns()
            subprocess.run([args.perfan, "export", "--format", "otlp", "-o", out, trace],
                           check=True)
            rows["perfan export --format otlp"].append((time.perf_counter_ns() - t) / spans)
            sizes["trace"] = os.path.getsize(trace)
            sizes["otlp"] = os.path.getsize(out)
            if have_otel:
                path = os.path.join(tmp, f"otel{rep}.jsonl")
                provider, f, tracer = otel_setup(path)
                took = with_otel(tracer, args.requests)
                t = time.perf_counter_ns()
                provider.shutdown()  # exports what is queued: the program's cost too
                took += time.perf_counter_ns() - t
                f.close()
                rows["OTel SDK"].append((took - base) / spans)
                sizes["otel"] = os.path.getsize(path)
                # Span creation alone: a provider with no processor (nothing leaves).
                from opentelemetry.sdk.trace import TracerProvider
                bare_tracer = TracerProvider().get_tracer("bench_otlp")
                took = with_otel(bare_tracer, args.requests)
                rows["OTel SDK, no exporter"].append((took - base) / spans)
    print(f"{spans} spans ({args.requests} requests of 4), {args.reps} runs; ns per span "
          f"(best / median)\n")
    print(f"{'':34} {'best':>9} {'median':>9}")
    for name, v in rows.items():
        if not v:
            continue
        v = sorted(v)
        print(f"{name:34} {v[0]:9.0f} {v[len(v) // 2]:9.0f}")
    if rows["OTel SDK"]:
        ratio = sorted(rows["OTel SDK"])[0] / sorted(rows["perflog record"])[0]
        alone = sorted(rows["OTel SDK, no exporter"])[0] / sorted(rows["perflog record"])[0]
        print(f"\nIn the program: the OTel SDK takes {ratio:.1f}x perflog's time per span "
              f"({alone:.1f}x with no exporter).")
    print(f"bytes per span: trace {sizes['trace'] / spans:.1f}, OTLP/JSON "
          f"{sizes['otlp'] / spans:.0f}" + (f", OTel SDK's JSON {sizes['otel'] / spans:.0f}"
                                            if "otel" in sizes else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
