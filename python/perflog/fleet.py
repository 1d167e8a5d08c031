# SPDX-License-Identifier: MIT
"""perflog.fleet - perfan's answers over a fleet's traces, computed on a Dask cluster.

    python3 -m perflog.fleet SUBCOMMAND [perfan options] [--scheduler ADDRESS|local:N]
                             [--perfan PATH] [--partition-size SIZE] PATH...

SUBCOMMAND is one of perfan's subcommands that read summaries: stats, slowest, inflight,
sla, inputs, report (all but its task trees), diff (which takes two PATHs, BASE and
NEW). Each PATH is a trace file, a directory (its files, as perfan reads one) or a
glob. The files are grouped by process (host and pid from their headers, read on the
cluster: all files of a process, rotated ones too, stay together, so that every action
meets its end and its children) and the groups packed into partitions of about
--partition-size bytes. Each partition is summarized by
`perfan summarize` on a worker, where the workers see the files (shared storage: the same
paths on every host); the summaries are merged by `perfan summarize` in a tree on the
cluster; the local `perfan SUBCOMMAND` renders the one that is left. The output is what
`perfan SUBCOMMAND` prints over all the files on one machine (in --json, all but the
list of inputs); docs/perfan.md "Summaries" names the one difference (children of an
action that ran in another process).

Filters (--type, --since, --until, --task, --failed, --min) are applied where the traces
are read; relative times (-5m, +30s) are refused, as each worker sees only its part.
Workers that die are replaced and their tasks run again (Dask does this), so the answer
stays exact; a file that cannot be read is a warning naming it, and the exit status is
perfan's (3 unless --allow-unreadable). `local:N` starts a LocalCluster of N worker
processes on this machine. docs/fleet.md shows how to run `dask scheduler` and
`dask worker` on real hosts.
"""

import argparse
import glob
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

SUBCOMMANDS = ("stats", "slowest", "inflight", "sla", "diff", "inputs", "report")

# perfan's options that take a value (those of the subcommands above and the filters).
_VALUE_OPTIONS = {
    "-n", "--number", "-t", "--type", "--since", "--until", "--task", "--min", "--sort",
    "--p50", "--p90", "--p95", "--p99", "--p999", "--max", "--worst", "--min-count",
    "--percentile", "--threshold", "--min-change", "--alpha", "--by",
    "-o", "--output", "--slowest", "--trees", "--types", "--points", "--children",
}
_FILTERS = {"-t", "--type", "--since", "--until", "--task", "--min", "--failed"}
_MERGE_FAN_IN = 8


class FleetError(Exception):
    """A bad command line or an input that cannot be worked on (exit status 2)."""


# ---- the command line -------------------------------------------------------------------

def split_perfan_args(args):
    """perfan's options (as (option, value-or-None) pairs) and the paths, from @args."""
    opts, paths, i = [], [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            paths += args[i + 1:]
            break
        if a.startswith("-") and a != "-":
            name, eq, val = a.partition("=")
            if name in _VALUE_OPTIONS and not eq:
                if i + 1 >= len(args):
                    raise FleetError(f"{a}: needs a value")
                opts.append((name, args[i + 1]))
                i += 2
                continue
            opts.append((name, val if eq else None))
        else:
            paths.append(a)
        i += 1
    return opts, paths


def _flat(opts):
    out = []
    for name, val in opts:
        out += [name] if val is None else [name, val]
    return out


def keep_per_type(opts):
    """How many slowest calls per type the summaries must keep for the answer to be exact:
    perfan's default, or more when -n or --worst asks for more."""
    k = 100
    for name, val in opts:
        if name in ("-n", "--number", "--worst", "--slowest") and val and val.isdigit():
            k = max(k, int(val))
    return k


def expand(path):
    """The files @path stands for, each as (file, from a directory or glob): a directory's
    regular files not starting with '.', by name (as perfan reads a directory), a glob's
    matches by name, or the path itself."""
    if os.path.isdir(path):
        return [(os.path.join(path, f), True) for f in sorted(os.listdir(path))
                if not f.startswith(".") and os.path.isfile(os.path.join(path, f))]
    if glob.has_magic(path):
        found = sorted(p for p in glob.glob(path) if os.path.isfile(p))
        if not found:
            raise FleetError(f"{path}: no file matches")
        return [(p, True) for p in found]
    return [(path, False)]


# The first bytes of every trace (docs/format.md: a skippable zstd frame, "PERFLOG").
_MAGIC = bytes([0x5E, 0x2A, 0x4D, 0x18])


# ---- what the workers run -----------------------------------------------------------------

def identify(paths):
    """[(path, size, process)] for @paths ((file, listed) pairs): process is (host, pid)
    from the trace header; the path itself when the header cannot be read (perfan
    summarize will say why); None for a listed file that is no trace (perfan skips those
    of a directory, and so does the fleet)."""
    import perflog
    out = []
    for p, listed in paths:
        try:
            size = os.path.getsize(p)
            with open(p, "rb") as f:
                head = f.read(len(_MAGIC))
        except OSError:
            out.append((p, 0, ("?", p)))
            continue
        if listed and not _MAGIC.startswith(head):  # as far as it has bytes (perfan's rule)
            out.append((p, size, None))
            continue
        try:
            with perflog.read(p) as r:
                h = r.header
            out.append((p, size, (h.get("host") or "", h["pid"])))
        except Exception:  # not a trace, damaged header: its own partition
            out.append((p, size, ("?", p)))
    return out


def _perfan_summarize(perfan, inputs, opts):
    """Run `perfan summarize` on @inputs; returns (summary bytes, stderr, exit status)."""
    delay = float(os.environ.get("PERFLOG_FLEET_TEST_DELAY", "0") or 0)
    if delay:  # tests only: time for a worker to be killed mid-task
        time.sleep(delay)
    with tempfile.TemporaryDirectory(prefix="perflog-fleet-") as d:
        out = os.path.join(d, "part.sum")
        p = subprocess.run([perfan, "summarize", "--allow-unreadable", *opts, "-o", out,
                            *inputs], capture_output=True, text=True)
        data = None
        if os.path.exists(out):
            with open(out, "rb") as f:
                data = f.read()
        return data, p.stderr, p.returncode


def summarize_partition(perfan, paths, opts):
    """A worker's task: the summary of trace files @paths (all files of their processes)."""
    data, err, rc = _perfan_summarize(perfan, paths, opts)
    if data is None:
        raise RuntimeError(f"perfan summarize failed (exit {rc}): {err.strip()}")
    return data


def merge_summaries(perfan, blobs, k, lean=False):
    """A worker's task: one summary of the summaries @blobs (bytes)."""
    with tempfile.TemporaryDirectory(prefix="perflog-fleet-") as d:
        inputs = []
        for i, b in enumerate(blobs):
            inputs.append(os.path.join(d, f"in{i}.sum"))
            with open(inputs[-1], "wb") as f:
                f.write(b)
        data, err, rc = _perfan_summarize(perfan, inputs,
                                          ["-k", str(k)] + (["--lean"] if lean else []))
    if data is None or rc != 0:
        raise RuntimeError(f"perfan summarize (merge) failed (exit {rc}): {err.strip()}")
    return data


# ---- planning ----------------------------------------------------------------------------

def partitions(files, target_bytes, min_parts):
    """Pack processes (each a list of (path, size)) into partitions of about @target_bytes,
    at least @min_parts when there are that many processes: largest first, each into the
    lightest partition (so that partitions finish together)."""
    procs = {}
    for path, size, proc in files:
        procs.setdefault(proc, []).append((path, size))
    groups = sorted(procs.values(), key=lambda g: -sum(s for _, s in g))
    total = sum(s for g in groups for _, s in g)
    n = max(1, min(len(groups), max(min_parts, math.ceil(total / max(1, target_bytes)))))
    parts = [[0, []] for _ in range(n)]
    for g in groups:
        lightest = min(parts, key=lambda p: p[0])
        lightest[0] += sum(s for _, s in g)
        lightest[1] += [p for p, _ in g]
    return [sorted(p[1]) for p in parts if p[1]]


def _size(text):
    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    t = text.strip().lower().rstrip("b").rstrip("i")
    num, unit = (t[:-1], t[-1]) if t and t[-1] in units else (t, "")
    try:
        return int(float(num) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 256M, 1G)") from None


# ---- the job ------------------------------------------------------------------------------

def _client(scheduler):
    from distributed import Client, LocalCluster
    if scheduler.startswith("local:"):
        n = int(scheduler.split(":", 1)[1])
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        return Client(cluster), cluster
    return Client(scheduler), None


def _workers(client):
    return max(1, len(client.scheduler_info().get("workers", {})))


def summarize_on_cluster(client, perfan, paths, sum_opts, k, target_bytes, progress):
    """The one summary of @paths, computed on @client's cluster; returns its bytes."""
    chunks = [paths[i:i + 256] for i in range(0, len(paths), 256)]
    ids = client.gather(client.map(identify, chunks, pure=False))
    files = []
    for path, size, proc in (f for part in ids for f in part):
        if proc is None:
            print(f"perfan: warning: {path}: skipped: not a perflog trace", file=sys.stderr)
        else:
            files.append((path, size, proc))
    if not files:
        raise FleetError("no trace file in the given paths")
    parts = partitions(files, target_bytes, 2 * _workers(client))
    futs = [client.submit(summarize_partition, perfan, p, sum_opts, pure=False, retries=2)
            for p in parts]
    if progress:
        from distributed import progress as show
        show(futs, multi=False)
        print(file=sys.stderr)
    level = futs
    while len(level) > 1:
        level = [client.submit(merge_summaries, perfan, level[i:i + _MERGE_FAN_IN], k,
                               "--lean" in sum_opts, pure=False, retries=2)
                 for i in range(0, len(level), _MERGE_FAN_IN)]
    return level[0].result()


def _usage(ap, err):
    ap.print_usage(sys.stderr)
    print(f"{ap.prog}: error: {err}", file=sys.stderr)
    return 2


def run(argv, client=None):
    """Run the command line @argv (without the program name); returns the exit status.
    @client: a distributed.Client to use instead of --scheduler's."""
    ap = argparse.ArgumentParser(
        prog="python3 -m perflog.fleet", description=__doc__.split("\n\n")[2],
        usage="%(prog)s SUBCOMMAND [perfan options] [--scheduler ADDRESS|local:N] "
              "[--perfan PATH] [--partition-size SIZE] PATH...")
    ap.add_argument("subcommand", choices=SUBCOMMANDS)
    ap.add_argument("--scheduler", default="local:2",
                    help="a Dask scheduler's address (tcp://host:8786), or local:N for N "
                         "worker processes here (default local:2)")
    ap.add_argument("--perfan", default=None,
                    help="the perfan the workers and this machine run (default: on PATH)")
    ap.add_argument("--partition-size", type=_size, default=256 << 20,
                    help="bytes of traces per partition (default 256M)")
    args, rest = ap.parse_known_args(argv)
    try:
        opts, paths = split_perfan_args(rest)
        perfan = args.perfan or shutil.which("perfan")
        if not perfan:
            raise FleetError("perfan is not on PATH: give --perfan")
        perfan = os.path.abspath(perfan) if os.path.sep in perfan else perfan
        if not paths:
            raise FleetError("no trace file given")
        if args.subcommand == "diff" and len(paths) != 2:
            raise FleetError("diff: give exactly two paths, BASE and NEW")
        for name, val in opts:
            if name in ("--since", "--until") and val and val[0] in "+-":
                raise FleetError(f"{name} {val}: a relative time is resolved against each "
                                 "worker's part: give an absolute time")
        sides = [paths] if args.subcommand != "diff" else [[paths[0]], [paths[1]]]
        sides = [[f for p in side for f in expand(p)] for side in sides]
    except FleetError as e:
        return _usage(ap, e)
    sum_opts = _flat([o for o in opts if o[0] in _FILTERS])
    k = keep_per_type(opts)
    sum_opts += ["-k", str(k)]
    if args.subcommand not in ("inputs", "report"):
        sum_opts.append("--lean")  # no argument groups or slots: several times faster
    render_opts = _flat([o for o in opts if o[0] not in _FILTERS or o[0] in ("-t", "--type")])
    own = None
    if client is None:
        client, own = _client(args.scheduler)
    try:
        progress = sys.stderr.isatty()
        blobs = [summarize_on_cluster(client, perfan, side, sum_opts, k,
                                      args.partition_size, progress) for side in sides]
    except FleetError as e:
        print(f"perfan: {e}", file=sys.stderr)
        return 3
    finally:
        if own is not None:
            client.close()
            own.close()
    with tempfile.TemporaryDirectory(prefix="perflog-fleet-") as d:
        names = []
        for i, b in enumerate(blobs):
            names.append(os.path.join(d, "base.sum" if i == 0 and len(blobs) == 2
                                      else "new.sum" if i == 1 else "fleet.sum"))
            with open(names[-1], "wb") as f:
                f.write(b)
        sys.stdout.flush()
        return subprocess.run([perfan, args.subcommand, *render_opts, *names]).returncode


def main(argv=None):
    try:
        sys.exit(run(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
