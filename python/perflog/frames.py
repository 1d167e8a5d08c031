# SPDX-License-Identifier: MIT
"""perflog.frames: the actions of traces as an Arrow table, a pandas DataFrame or Parquet.

One row per action: its type, wall-clock start, duration, outcome, exception type, task id,
level, depth, parent type, process (pid, host), thread (name, OS tid), file, and one column
``in.<name>`` per input (argument) name. The C extension reads the files and pairs starts
and ends into columns (no Python loop per record); pyarrow wraps them. pyarrow (and pandas
for DataFrames) are optional: ``pip install pyarrow pandas`` (scripts/deps.sh puts them in
the project's .venv).

    python3 -m perflog.frames -o actions.parquet traces/      # for DuckDB, Spark, ClickHouse
"""

import argparse
import errno
import os
import sys
import warnings

from . import _perflog

__all__ = ["to_arrow", "to_dataframe", "to_parquet", "expand"]

OUTCOMES = ["succeeded", "failed", "unfinished", "cancelled"]  # codes of _perflog's columns


def _need(module, what):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise ImportError(
            f"perflog.{what} needs {module.split('.')[0]}, an optional dependency: "
            f"pip install pyarrow pandas (scripts/deps.sh installs them into .venv)") from None


def expand(paths):
    """Trace files from files and directories (a directory: its regular files whose names
    do not start with ".", in name order; files there that are not traces are skipped with
    a warning, as perfan does)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    out = []
    for p in paths:
        p = os.fspath(p)
        if not os.path.isdir(p):
            if not os.path.exists(p):
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), p)
            out.append(p)
            continue
        for name in sorted(os.listdir(p)):
            full = os.path.join(p, name)
            if name.startswith(".") or not os.path.isfile(full):
                continue
            try:
                with _perflog.read(full):
                    pass
            except (_perflog.TraceError, OSError) as e:
                warnings.warn(f"{full}: skipped: {e}", stacklevel=3)
                continue
            out.append(full)
    return out


def _dictionary(pa, codes, strings, n, valid=None):
    """Dictionary codes (int32 in a bytes) over their strings, null where @valid's bit
    (Arrow's validity bitmap) is 0."""
    bits = None if valid is None else pa.py_buffer(valid)
    indices = pa.Array.from_buffers(pa.int32(), n, [bits, pa.py_buffer(codes)])
    return pa.DictionaryArray.from_arrays(indices, pa.array(strings, pa.string()))


def _inputs_column(pa, values):
    """An input's values as one Arrow array: its type inferred, or, when the values have
    several types (an argument given an int here and a str there), their text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def to_arrow(paths, *, inputs=True):
    """The actions of the traces at @paths (files, directories) as a pyarrow.Table.

    A file damaged or cut short gives the actions read before the damage and a warning
    naming the file and offset. Actions whose start is in no file given are left out;
    actions with no end are "unfinished" (duration null)."""
    pa = _need("pyarrow", "to_arrow")
    c = _perflog._action_columns(expand(paths), inputs=inputs)
    for path, offset, reason in c["errors"]:
        warnings.warn(f"{path}: offset {offset}: {reason} (actions before it are kept)",
                      stacklevel=2)
    n = c["rows"]
    i64 = pa.int64()
    cols = {
        "type": _dictionary(pa, *c["type"], n),
        "start": pa.Array.from_buffers(pa.timestamp("ns", tz="UTC"), n,
                                       [None, pa.py_buffer(c["start_ns"])]),
        "duration_ns": pa.Array.from_buffers(i64, n, [pa.py_buffer(c["duration_ns"][1]),
                                                      pa.py_buffer(c["duration_ns"][0])]),
        "outcome": pa.DictionaryArray.from_arrays(
            pa.Array.from_buffers(pa.int8(), n, [None, pa.py_buffer(c["outcome"])]),
            pa.array(OUTCOMES, pa.string())),
        "exc_type": _dictionary(pa, c["exc_type"][0], c["exc_type"][2], n, c["exc_type"][1]),
        "task": pa.array(c["task"], pa.string()),
        "level": pa.array(c["level"], pa.string()),
        "depth": pa.Array.from_buffers(pa.int32(), n, [None, pa.py_buffer(c["depth"])]),
        "parent_type": _dictionary(pa, c["parent_type"][0], c["parent_type"][2], n,
                                   c["parent_type"][1]),
        "pid": pa.Array.from_buffers(i64, n, [None, pa.py_buffer(c["pid"])]),
        "host": _dictionary(pa, *c["host"], n),
        "thread": _dictionary(pa, c["thread"][0], c["thread"][2], n, c["thread"][1]),
        "tid": pa.Array.from_buffers(i64, n, [None, pa.py_buffer(c["tid"])]),
        "file": _dictionary(pa, *c["file"], n),
    }
    for name in sorted(c["inputs"]):
        cols[name] = _inputs_column(pa, c["inputs"][name])
    return pa.table(cols)


def to_dataframe(paths, *, inputs=True):
    """The actions of the traces as a pandas DataFrame (to_arrow(), then to_pandas():
    types, hosts, threads and outcomes as categoricals, start as a UTC timestamp)."""
    _need("pandas", "to_dataframe")
    return to_arrow(paths, inputs=inputs).to_pandas()


def to_parquet(paths, out, *, inputs=True):
    """Write the actions of the traces to the Parquet file @out (zstd-compressed)."""
    pq = _need("pyarrow.parquet", "to_parquet")
    table = to_arrow(paths, inputs=inputs)
    pq.write_table(table, out, compression="zstd")
    return table.num_rows


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python3 -m perflog.frames",
        description="Write the actions of perflog traces as a Parquet file (one row per "
                    "action, one column per input) for DuckDB, pandas, Spark or ClickHouse.")
    ap.add_argument("-o", "--output", required=True, help="the Parquet file to write")
    ap.add_argument("--no-inputs", action="store_true", help="leave out the in.* columns")
    ap.add_argument("traces", nargs="+", help="trace files or directories")
    args = ap.parse_args(argv)
    try:
        n = to_parquet(args.traces, args.output, inputs=not args.no_inputs)
    except ImportError as e:
        print(f"perflog.frames: {e}", file=sys.stderr)
        return 1
    except (OSError, _perflog.TraceError) as e:
        print(f"perflog.frames: {e}", file=sys.stderr)
        return 3
    print(f"{args.output}: {n} actions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
