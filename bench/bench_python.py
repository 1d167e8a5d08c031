# SPDX-License-Identifier: MIT
"""bench_python.py - what @perflog costs per call, against its peers, in one process run.

    PYTHONPATH=build/python .venv/bin/python3 bench/bench_python.py [--n N] [--repeat R]

(.venv/bin/python3 after scripts/deps.sh --bench: the PyPI peers viztracer, the
OpenTelemetry SDK and pyinstrument; /usr/bin/python3 leaves them out and says so.)

The decorated function is ``def f(a, b): return a, b``, called as ``f(12345, "query")``
(an int and a short str; the issue's ``a + b`` cannot take an int and a str). Each way of
calling it runs the same loop, ``for _ in range(n): fn(a, b)``; repeats are interleaved
(every variant once per round) so that the machine's drift hits all of them alike. The
figures are the best and the median of the rounds, in ns per call, minus the plain call's.
The absolute targets are judged on the best round (noise only ever adds, as timeit says),
the "n times cheaper" ones on the medians (rounds of all variants share the noise).

Bytes per call: the size of the variant's file (after flush/close) over the calls made into
it. Every peer writes one event per call with the arguments and the duration, and flushes
each event to its file (their defaults: eliot, structlog and logging flush per event,
loguru's file sink is line buffered).

Fast variants run n calls per round; slow peers fewer (n/50, eliot n/200) so that the whole
run stays well under a minute: the per-call figure does not depend on it. A benchmark, not
a test: run it by hand, on a quiet machine.
"""
import argparse
import cProfile
import functools
import logging
import os
import platform
import statistics
import sys
import tempfile
from time import perf_counter_ns

import perflog
from perflog import perflog as pl

TARGET_RECORDING_NS = 80   # @perflog, recording args + duration to disk, over the plain call
#                            (the speed issue's target; the first plan's was 200)
TARGET_STOPPED_NS = 40     # @perflog, recording stopped
TARGET_VS_ELIOT = 150      # at least this many times cheaper than eliot's log_call

A, B = 12345, "query"


def f(a, b):
    return a, b


def run_loop(fn, n, a=A, b=B):
    """ns for n calls of fn(a, b), loop included (the plain call's loop is subtracted)."""
    t0 = perf_counter_ns()
    for _ in range(n):
        fn(a, b)
    return perf_counter_ns() - t0


# ---- the variants -------------------------------------------------------------------------
# Each is set up once: (callable, run(n) -> ns, close() -> bytes written or None).

class Variant:
    def __init__(self, name, divisor=1, path=None):
        self.name = name
        self.divisor = divisor  # this variant runs n // divisor calls per round
        self.path = path
        self.samples = []       # ns per call, one per round
        self.calls = 0          # calls made into its file (warm-up included)

    def run(self, n):
        self.calls += n
        return self.timed(n)

    def timed(self, n):
        return run_loop(self.fn, n)

    def close(self):
        """Flush and close the variant's file; bytes written, or None if it writes none."""
        return None


class Plain(Variant):
    def __init__(self):
        super().__init__("plain call")
        self.fn = f


def timed_wrapper(fn):
    """The minimal pure-Python decorator that times a call (and does nothing else)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = perf_counter_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            perf_counter_ns() - t0
    return wrapper


class PyWrapper(Variant):
    def __init__(self):
        super().__init__("pure-Python wrapper, perf_counter_ns twice")
        self.fn = timed_wrapper(f)


class PerflogRecording(Variant):
    """@perflog recording both args and the duration; a new file per round (start()
    truncates), every event kept (full_policy="block": a slow disk would slow the caller
    rather than drop). Each round starts with n/10 untimed calls, so that what is timed is
    the steady state of a long-running program, not start()'s first touches of its ring."""

    def __init__(self, tmp):
        super().__init__("@perflog, recording args + duration")
        self.fn = pl(f)
        self.tmp = tmp
        self.files = []
        self.dropped = 0

    def timed(self, n):
        path = os.path.join(self.tmp, f"perflog-{len(self.files)}.zst")
        self.files.append(path)
        perflog.start(path, full_policy="block")
        try:
            warm = max(1, n // 10)
            self.calls += warm
            run_loop(self.fn, warm)
            return run_loop(self.fn, n)
        finally:
            stats = perflog.stats()
            perflog.stop()
            self.dropped += sum(v for k, v in stats.items() if k.startswith("dropped_"))

    def close(self):
        return sum(os.path.getsize(p) for p in self.files)


class PerflogStopped(Variant):
    def __init__(self):
        super().__init__("@perflog, recording stopped")
        self.fn = pl(f)

    def close(self):
        return 0


class CProfile(Variant):
    """cProfile enabled around the plain loop (it aggregates in memory, writes nothing)."""

    def __init__(self):
        super().__init__("cProfile (enabled around the loop)")
        self.fn = f

    def timed(self, n):
        prof = cProfile.Profile()
        prof.enable()
        try:
            return run_loop(self.fn, n)
        finally:
            prof.disable()

    def close(self):
        return 0


class Eliot(Variant):
    def __init__(self, tmp):
        import eliot
        super().__init__("eliot log_call (FileDestination)", 200, os.path.join(tmp, "eliot.log"))
        self.eliot = eliot
        self.file = open(self.path, "w")
        self.dest = eliot.FileDestination(file=self.file)
        eliot.add_destinations(self.dest)
        self.fn = eliot.log_call(f)

    def close(self):
        self.eliot.remove_destination(self.dest)
        self.file.close()
        return os.path.getsize(self.path)


def event_wrapper(fn, emit):
    """A typical logging decorator: one event per call, with the args and the duration."""
    name = fn.__qualname__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = perf_counter_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            emit(name, args, kwargs, perf_counter_ns() - t0)
    return wrapper


class Structlog(Variant):
    def __init__(self, tmp):
        import structlog
        super().__init__("structlog decorator (WriteLogger, JSON)", 50,
                         os.path.join(tmp, "structlog.log"))
        self.file = open(self.path, "w")
        log = structlog.wrap_logger(
            structlog.WriteLogger(self.file),
            processors=[structlog.processors.add_log_level,
                        structlog.processors.TimeStamper(),
                        structlog.processors.JSONRenderer()]).bind()

        def emit(name, args, kwargs, duration_ns):
            log.info(name, args=args, kwargs=kwargs, duration_ns=duration_ns)
        self.fn = event_wrapper(f, emit)

    def close(self):
        self.file.close()
        return os.path.getsize(self.path)


class Loguru(Variant):
    def __init__(self, tmp):
        from loguru import logger
        super().__init__("loguru decorator (file sink, default format)", 50,
                         os.path.join(tmp, "loguru.log"))
        self.logger = logger
        logger.remove()
        self.sink = logger.add(self.path, level="INFO")

        def emit(name, args, kwargs, duration_ns):
            logger.info("{} args={} kwargs={} duration_ns={}", name, args, kwargs,
                        duration_ns)
        self.fn = event_wrapper(f, emit)

    def close(self):
        self.logger.remove(self.sink)
        return os.path.getsize(self.path)


class StdLogging(Variant):
    def __init__(self, tmp):
        super().__init__("stdlib logging decorator (FileHandler)", 50,
                         os.path.join(tmp, "logging.log"))
        log = logging.getLogger("bench_python")
        log.propagate = False
        log.setLevel(logging.INFO)
        self.handler = logging.FileHandler(self.path)
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(self.handler)

        def emit(name, args, kwargs, duration_ns):
            log.info("%s args=%r kwargs=%r duration_ns=%d", name, args, kwargs, duration_ns)
        self.fn = event_wrapper(f, emit)

    def close(self):
        self.handler.close()
        return os.path.getsize(self.path)


# The PyPI peers (scripts/deps.sh --bench installs them into .venv): left out, and said so,
# when they are not installed.

class VizTracerSparse(Variant):
    """viztracer's log_sparse mode: only the decorated function is traced; stack_depth=1
    makes it trace the call itself with its arguments (log_func_args), which the plain
    @log_sparse does not record. Saved as viztracer's JSON at the end."""

    def __init__(self, tmp):
        from viztracer import VizTracer, log_sparse
        super().__init__("viztracer @log_sparse(stack_depth=1), log_func_args → JSON", 20,
                         os.path.join(tmp, "viztracer.json"))
        # Room for every call of the run (its buffer is circular: it would drop the oldest).
        self.tracer = VizTracer(log_sparse=True, log_func_args=True, tracer_entries=4_000_000,
                                output_file=self.path, verbose=0)
        self.fn = log_sparse(stack_depth=1)(f)  # after the tracer: it looks for it now

    def close(self):
        self.tracer.save(self.path)
        self.tracer.clear()
        return os.path.getsize(self.path)


class OpenTelemetrySpans(Variant):
    """The OpenTelemetry SDK: a span per call with the arguments as attributes, a
    BatchSpanProcessor exporting to a file (ConsoleSpanExporter, one compact JSON span per
    line). The queue holds every span of the run, so none is dropped."""

    def __init__(self, tmp):
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
        super().__init__("OpenTelemetry SDK span + attributes (batch → file)", 50,
                         os.path.join(tmp, "otel.jsonl"))
        self.file = open(self.path, "w")
        self.provider = TracerProvider()
        exporter = ConsoleSpanExporter(out=self.file,
                                       formatter=lambda span: span.to_json(indent=None) + "\n")
        self.provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=1 << 20))
        tracer = self.provider.get_tracer("bench_python")

        @functools.wraps(f)
        def traced(a, b):
            with tracer.start_as_current_span("f", attributes={"a": a, "b": b}):
                return f(a, b)
        self.fn = traced

    def close(self):
        self.provider.shutdown()  # exports what is queued
        self.file.close()
        return os.path.getsize(self.path)


class Pyinstrument(Variant):
    """pyinstrument, a sampling profiler (1 ms interval), started around the plain loop:
    no per-call record, no arguments; its session is saved as JSON at the end."""

    def __init__(self, tmp):
        from pyinstrument import Profiler
        super().__init__("pyinstrument (sampling, around the loop)", 1,
                         os.path.join(tmp, "pyinstrument.json"))
        self.Profiler = Profiler
        self.fn = f
        self.sessions = []

    def timed(self, n):
        prof = self.Profiler(interval=0.001)
        prof.start()
        try:
            return run_loop(self.fn, n)
        finally:
            prof.stop()
            self.sessions.append(prof.last_session)

    def close(self):
        from pyinstrument.renderers import JSONRenderer
        with open(self.path, "w") as out:
            for session in self.sessions:
                out.write(JSONRenderer().render(session))
        return os.path.getsize(self.path)


def pypi_peers(tmp):
    """The PyPI peers that are installed, and the names of those that are not."""
    found, missing = [], []
    for cls, mod in ((VizTracerSparse, "viztracer"), (OpenTelemetrySpans, "opentelemetry.sdk"),
                     (Pyinstrument, "pyinstrument")):
        try:
            found.append(cls(tmp))
        except ImportError:
            missing.append(mod)
    return found, missing


# ---- coroutines and generators ------------------------------------------------------------

TARGET_AWAIT_NS = 150  # a decorated coroutine, per `await f(a, b)`, over the plain one
TARGET_ITEM_NS = 40    # a decorated generator, per item, over the plain one


async def co_plain(a, b):
    return a, b


def gen_plain(n):
    yield from range(n)


async def await_loop(fn, n):
    t0 = perf_counter_ns()
    for _ in range(n):
        await fn(A, B)
    return perf_counter_ns() - t0


def item_loop(gen, n):
    t0 = perf_counter_ns()
    for _ in gen(n):
        pass
    return perf_counter_ns() - t0


def bench_async_and_generators(n, repeat, tmp):
    """ns per decorated await and per decorated generator item over the plain ones,
    interleaved rounds, recording to a file (full_policy="block"): (table lines, checks)."""
    import asyncio
    co_rec, gen_rec = pl(co_plain), pl(args=False)(gen_plain)
    loop = asyncio.new_event_loop()
    samples = {k: [] for k in ("await plain", "await @perflog", "item plain", "item @perflog")}
    perflog.start(os.path.join(tmp, "async.zst"), full_policy="block")
    try:
        for r in range(repeat + 1):  # round 0 warms up
            got = {
                "await plain": loop.run_until_complete(await_loop(co_plain, n)) / n,
                "await @perflog": loop.run_until_complete(await_loop(co_rec, n)) / n,
                "item plain": item_loop(gen_plain, n) / n,
                "item @perflog": item_loop(gen_rec, n) / n,
            }
            if r:
                for k, v in got.items():
                    samples[k].append(v)
    finally:
        stats = perflog.stats()
        perflog.stop()
        loop.close()
    dropped = sum(v for k, v in stats.items() if k.startswith("dropped_"))
    out = [""]
    out.append("| coroutines and generators | per round | ns, best | median | over plain, best "
          "| median | target |")
    out.append("|---|---|---|---|---|---|---|")
    checks = []
    for what, limit in (("await", TARGET_AWAIT_NS), ("item", TARGET_ITEM_NS)):
        p, d = samples[f"{what} plain"], samples[f"{what} @perflog"]
        out.append(f"| {what}, plain | {n:,} | {fmt_ns(min(p))} | {fmt_ns(statistics.median(p))} "
              "| | | |")
        best = min(d) - min(p)
        med = statistics.median(d) - statistics.median(p)
        ok = best <= limit
        checks.append(ok)
        out.append(f"| {what}, @perflog | {n:,} | {fmt_ns(min(d))} | "
              f"{fmt_ns(statistics.median(d))} | {fmt_ns(best)} | {fmt_ns(med)} | "
              f"≤ {limit} ns: {'met' if ok else '**missed**'} |")
    out.append(f"(await: `await f({A!r}, {B!r})` of `async def f(a, b)`, both arguments recorded; "
          f"item: a generator function recorded without arguments; {dropped} events dropped)")
    return out, checks


# ---- the run ------------------------------------------------------------------------------

def fmt_ns(x):
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000,
                        help="calls per round for the fast variants (default 1e6)")
    parser.add_argument("--repeat", type=int, default=7, help="rounds (default 7)")
    opts = parser.parse_args()
    if opts.n < 200 or opts.repeat < 1:
        parser.error("--n must be >= 200 and --repeat >= 1")
    if perflog.recording():
        perflog.stop()  # PERFLOG_FILE would record the peers' rounds too

    load = os.getloadavg()
    t_start = perf_counter_ns()
    with tempfile.TemporaryDirectory(prefix="bench_python-") as tmp:
        peers, missing = pypi_peers(tmp)
        variants = [Plain(), PyWrapper(), PerflogRecording(tmp), PerflogStopped(),
                    CProfile(), *peers, Eliot(tmp), Structlog(tmp), Loguru(tmp),
                    StdLogging(tmp)]
        for v in variants:  # warm-up: a tenth of a round
            v.run(max(1, opts.n // v.divisor // 10))
        for _ in range(opts.repeat):
            for v in variants:
                n = max(1, opts.n // v.divisor)
                v.samples.append(v.run(n) / n)
        written = {v.name: v.close() for v in variants}
        async_lines, async_checks = bench_async_and_generators(
            max(200, opts.n // 5), opts.repeat, tmp)
    elapsed_s = (perf_counter_ns() - t_start) / 1e9

    plain, rec, stopped = variants[0], variants[2], variants[3]
    base_best, base_med = min(plain.samples), statistics.median(plain.samples)

    def over(v):
        return min(v.samples) - base_best, statistics.median(v.samples) - base_med

    rec_med = over(rec)[1]
    versions = {}
    for mod in ("eliot", "structlog", "loguru", "viztracer", "opentelemetry-sdk",
                "pyinstrument"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod)
        except Exception:  # noqa: BLE001
            versions[mod] = "?"

    print(f"Python {platform.python_version()} ({sys.executable}), {os.cpu_count()} CPUs; "
          + ", ".join(f"{m} {v}" for m, v in versions.items() if v != "?"))
    if missing:
        print(f"Not installed, left out: {', '.join(missing)} (scripts/deps.sh --bench installs "
              "them into .venv; run this with .venv/bin/python3)")
    print(f"f(a, b) called as f({A!r}, {B!r}); {opts.repeat} rounds; plain call "
          f"{fmt_ns(base_best)} ns best, {fmt_ns(base_med)} ns median (loop included); "
          f"load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    print()
    print("| variant | calls/round | overhead ns/call, best | median | ÷ @perflog's (median) "
          "| bytes/call | target |")
    print("|---|---|---|---|---|---|---|")
    targets = {
        rec.name: (TARGET_RECORDING_NS, "≤ {} ns"),
        stopped.name: (TARGET_STOPPED_NS, "≤ {} ns"),
    }
    checks = []
    for v in variants:
        n = max(1, opts.n // v.divisor)
        nbytes = written[v.name]
        per_call = "0" if not nbytes else f"{nbytes / v.calls:.1f}"
        if v is plain:
            print(f"| {v.name} | {n:,} | {fmt_ns(base_best)} (absolute) | "
                  f"{fmt_ns(base_med)} (absolute) | | 0 | |")
            continue
        best, med = over(v)
        ratio = f"{med / rec_med:.2f}×" if rec_med > 0 else "—"
        target = ""
        if v.name in targets:
            limit, text = targets[v.name]
            ok = best <= limit  # absolute: the best round (noise only adds, as for timeit)
            target = f"{text.format(limit)}: {'met' if ok else '**missed**'}"
            checks.append(ok)
        elif isinstance(v, Eliot):
            ok = rec_med > 0 and med / rec_med >= TARGET_VS_ELIOT
            target = f"@perflog ≥ {TARGET_VS_ELIOT}× cheaper: {'met' if ok else '**missed**'}"
            checks.append(ok)
        elif isinstance(v, PyWrapper):
            ok = rec_med < med
            target = f"@perflog cheaper: {'met' if ok else '**missed**'}"
            checks.append(ok)
        print(f"| {v.name} | {n:,} | {fmt_ns(best)} | {fmt_ns(med)} | {ratio} | "
              f"{per_call} | {target} |")
    print()
    print(f"@perflog recording: {rec.dropped} events dropped (full_policy='block'); "
          f"files: {written[rec.name]:,} bytes for {rec.calls:,} calls.")
    print("\n".join(async_lines))
    checks += async_checks
    print(f"Targets met: {sum(checks)}/{len(checks)}. Run time {elapsed_s:.1f} s.")


if __name__ == "__main__":
    main()
