# SPDX-License-Identifier: MIT
"""pytest plugin: record the @perflog functions a test session calls, and gate on them.

Registered through the ``pytest11`` entry point of the installed package (or loaded with
``-p perflog.pytest_plugin``). It does nothing unless one of its options is given:

  --perflog-sla 'GLOB:p99<=200ms'   a limit (repeatable; several checks per spec with
                                     commas: 'db.*:p50<=5ms,max<=1s'); checks p50, p90,
                                     p95, p99, p99.9, max; durations ns us µs ms s m h
  --perflog-trace DIR                where the session's trace goes (default: a temporary
                                     directory, removed at the end)
  --perflog-baseline DIR             traces of an earlier run to compare with, by
                                     `perfan diff` (significance-tested; needs perfan)
  --perflog-diff 'OPTIONS'           `perfan diff` options for the baseline comparison,
                                     e.g. '--percentile p99 --min-change 1ms'

At the end it prints a table of the action types recorded (count, p50, p99, max and the
limits that apply) and fails the session (exit status 1) when a limit is exceeded, when
a GLOB matched no action type, or when `perfan diff` finds a regression against the
baseline. Percentiles here are nearest-rank over the exact durations read back from the
trace (perflog.read); a gate that checks nothing fails.

With pytest-xdist the workers record and the controller judges: the session's traces (one
per worker) go to a directory of their own, ``pytest-{pid}-XXXX`` (the controller's pid,
made unique) in the trace directory, and the gate reads the controller's and those each
worker reported when it finished. A worker that went down or never reported, or a trace
that cannot be read whole, fails the gate: it would be judging part of the calls.
"""
import fnmatch
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import pytest

import perflog

_CHECKS = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999, "max": 1.0}
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
          "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_KEY = pytest.StashKey()


def pytest_addoption(parser):
    g = parser.getgroup("perflog", "perflog: latency limits on @perflog functions")
    g.addoption("--perflog-sla", action="append", default=[], metavar="GLOB:CHECK<=DUR",
                help="fail the session when an action type matching GLOB exceeds the limit, "
                     "e.g. 'app.*:p99<=200ms' (checks p50 p90 p95 p99 p99.9 max; repeatable)")
    g.addoption("--perflog-trace", metavar="DIR",
                help="record the session's trace into DIR (default: a temporary directory)")
    g.addoption("--perflog-baseline", metavar="DIR",
                help="compare with the traces in DIR (perfan diff): a regression fails")
    g.addoption("--perflog-diff", metavar="OPTIONS", default="",
                help="perfan diff options for --perflog-baseline, e.g. "
                     "'--percentile p99 --min-change 1ms --threshold 20'")


def parse_duration(text):
    """'200ms' -> 200000000 (ns); ValueError for anything else."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a duration (e.g. 200ms, 1.5s)")
    return round(float(m.group(1)) * _UNITS[m.group(2)])


def parse_sla(spec):
    """'GLOB:p99<=200ms,max<=1s' -> (GLOB, [(check, ns), ...]); ValueError if malformed."""
    glob, sep, rest = spec.rpartition(":")
    if not sep or not glob or not rest:
        raise ValueError(f"{spec!r}: expected GLOB:CHECK<=DURATION, e.g. 'app.*:p99<=200ms'")
    checks = []
    for part in rest.split(","):
        name, sep, dur = part.partition("<=")
        name = name.strip()
        if not sep or name not in _CHECKS:
            raise ValueError(f"{spec!r}: {part!r} is not CHECK<=DURATION with CHECK one of "
                             f"{', '.join(_CHECKS)}")
        checks.append((name, parse_duration(dur)))
    return glob, checks


def nearest_rank(sorted_values, q):
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def fmt_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g}{unit}"
    return f"{ns}ns"


def find_perfan():
    """perfan: $PERFLOG_PERFAN, on PATH, beside this interpreter (a venv or --target
    install), or in the build tree this package was built in."""
    candidates = [os.environ.get("PERFLOG_PERFAN"), shutil.which("perfan"),
                  os.path.join(os.path.dirname(sys.executable), "perfan"),
                  os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
                      os.path.abspath(perflog.__file__)))), "analyzer", "perfan")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def durations_by_type(path):
    """{type: sorted durations} of the actions in the trace at path."""
    types, out = {}, {}
    for rec in perflog.read(path):
        if rec["kind"] == "start":
            types[rec["task"]] = rec["type"]
        elif rec["kind"] == "end" and rec["task"] in types:
            out.setdefault(types.pop(rec["task"]), []).append(rec["duration_ns"])
    return {t: sorted(d) for t, d in out.items() if not t.startswith("perflog:")}


def _record_into(directory):
    """Start this process's trace in @directory (PERFLOG_FILE's recording gives way: the
    session's trace goes where it was asked); returns its path."""
    os.makedirs(directory, exist_ok=True)
    if perflog.recording():
        perflog.stop()
    return perflog.start(os.path.join(directory, "pytest-{pid}.zst"))


class _Worker:
    """An xdist worker's part: record its calls where the controller said, and tell it
    the trace once it is closed; no verdict."""

    def __init__(self, directory):
        self.dir = directory
        self.path = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session):
        self.path = _record_into(self.dir)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus):
        perflog.stop()
        session.config.workeroutput["perflog_trace"] = self.path


class _Gate:
    def __init__(self, config, slas, trace_dir, baseline, diff_options=(), workers=False):
        self.config, self.slas, self.baseline = config, slas, baseline
        self.diff_options = list(diff_options)
        self.tmp = None if trace_dir else tempfile.mkdtemp(prefix="perflog-pytest-")
        self.dir = trace_dir or self.tmp
        # Under xdist: the session's traces, the controller's and every worker's, in a
        # directory of their own (judged, and given to perfan diff, as a whole).
        self.workers = workers
        if workers:  # unique: a pid repeats, and DIR may keep earlier sessions
            os.makedirs(self.dir, exist_ok=True)
            self.dir = tempfile.mkdtemp(prefix=f"pytest-{os.getpid()}-",
                                        dir=os.path.abspath(self.dir))
        self.path = None
        self.up = set()  # xdist workers started and not yet down
        self.reported = []  # their closed traces
        self.lines, self.failures = [], []

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session):
        self.path = _record_into(self.dir)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):  # xdist, on the controller: before a worker starts
        node.workerinput["perflog_trace_dir"] = self.dir
        self.up.add(node)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        self.up.discard(node)
        path = getattr(node, "workeroutput", {}).get("perflog_trace")
        if path and not error:
            self.reported.append(path)
        else:
            self.failures.append(f"perflog: worker {node.gateway.id} went down"
                                 f"{f' ({error})' if error else ' without its trace'}: "
                                 "its calls may be missing, the gate cannot judge them")

    def traces(self):
        """This session's traces: the controller's, and each worker's it reported."""
        return [self.path, *sorted(self.reported)]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus):
        perflog.stop()
        if self.up:  # an interrupted session: they may still be writing
            self.failures.append(f"perflog: {len(self.up)} worker(s) still running at the "
                                 "end of the session: their calls were not judged")
        else:
            try:
                self._judge()
            except Exception as e:  # noqa: BLE001 - a broken gate must say so, not pass
                self.failures.append(f"perflog: could not judge the session: {e}")
        if self.failures and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_unconfigure(self, config):
        if self.tmp:  # last: a worker restarted late may still have been starting
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _judge(self):
        by_type = {}
        for path in self.traces():
            for t, d in durations_by_type(path).items():
                by_type.setdefault(t, []).extend(d)
        by_type = {t: sorted(d) for t, d in by_type.items()}
        limits = {}
        for pattern, checks in self.slas:
            matched = [t for t in by_type if fnmatch.fnmatchcase(t, pattern)]
            if not matched:
                self.failures.append(f"perflog: no action type matched {pattern!r}: "
                                     "nothing was checked")
            for t in matched:
                limits.setdefault(t, []).extend(checks)
        where = (self.dir if self.workers else self.path) if not self.tmp \
            else "a temporary directory"
        what = f"{len(self.traces())} traces" if self.workers else "trace"
        self.lines.append(f"{len(by_type)} action type{'s' * (len(by_type) != 1)} recorded "
                          f"({what}: {where})")
        if by_type:
            width = max(4, *(len(t) for t in by_type))
            self.lines.append(f"{'TYPE':<{width}}  {'COUNT':>7}  {'P50':>8}  {'P99':>8}  "
                              f"{'MAX':>8}  LIMITS")
        for t in sorted(by_type):
            d = by_type[t]
            verdicts = []
            for name, ns in limits.get(t, []):
                got = nearest_rank(d, _CHECKS[name])
                ok = got <= ns
                verdicts.append(f"{name}<={fmt_ns(ns)} {'ok' if ok else 'FAIL'}")
                if not ok:
                    self.failures.append(f"perflog: {t}: {name} {fmt_ns(got)} > {fmt_ns(ns)} "
                                         f"({len(d)} calls)")
            self.lines.append(f"{t:<{width}}  {len(d):>7}  {fmt_ns(nearest_rank(d, 0.5)):>8}  "
                              f"{fmt_ns(nearest_rank(d, 0.99)):>8}  {fmt_ns(d[-1]):>8}  "
                              f"{', '.join(verdicts)}")
        if self.baseline:
            self._diff()

    def _diff(self):
        perfan = find_perfan()
        if not perfan:
            self.failures.append("perflog: --perflog-baseline needs perfan (pip install "
                                 "perflog puts it beside python; or set PERFLOG_PERFAN)")
            return
        new = self.dir if self.workers else self.path
        p = subprocess.run([perfan, "diff", *self.diff_options, self.baseline, new],
                           capture_output=True, text=True, timeout=600)
        self.lines.append(f"perfan diff {self.baseline} (this session):")
        self.lines.extend(p.stdout.rstrip("\n").splitlines())
        if p.returncode == 1:
            self.failures.append("perflog: a regression against the baseline (perfan diff)")
        elif p.returncode != 0:
            self.failures.append(f"perflog: perfan diff failed ({p.returncode}): "
                                 f"{p.stderr.strip()}")

    def pytest_terminal_summary(self, terminalreporter):
        tr = terminalreporter
        tr.section("perflog")
        for line in self.lines:
            tr.write_line(line)
        for f in self.failures:
            tr.write_line(f, red=True)
        if not self.failures:
            tr.write_line("perflog: PASS", green=True)


def pytest_configure(config):
    specs = config.getoption("--perflog-sla")
    trace, baseline = config.getoption("--perflog-trace"), config.getoption("--perflog-baseline")
    if not (specs or trace or baseline or config.getoption("--perflog-diff")):
        return
    worker = getattr(config, "workerinput", None)  # an xdist worker: the controller judges
    if worker is not None:
        if "perflog_trace_dir" in worker:
            config.pluginmanager.register(_Worker(worker["perflog_trace_dir"]), "perflog-worker")
        return
    try:
        slas = [parse_sla(s) for s in specs]
    except ValueError as e:
        raise pytest.UsageError(f"--perflog-sla: {e}") from None
    if baseline and not os.path.exists(baseline):
        raise pytest.UsageError(f"--perflog-baseline: {baseline}: no such file or directory")
    try:
        diff_options = shlex.split(config.getoption("--perflog-diff") or "")
    except ValueError as e:
        raise pytest.UsageError(f"--perflog-diff: {e}") from None
    if diff_options and not baseline:
        raise pytest.UsageError("--perflog-diff: only with --perflog-baseline")
    if any(not o.startswith("-") and (i == 0 or not diff_options[i - 1].startswith("-"))
           for i, o in enumerate(diff_options)):
        raise pytest.UsageError("--perflog-diff: options only (the traces are the plugin's)")
    workers = getattr(config.option, "dist", "no") != "no"  # xdist will start workers
    gate = _Gate(config, slas, trace, baseline, diff_options, workers)
    config.stash[_KEY] = gate
    config.pluginmanager.register(gate, "perflog-gate")
