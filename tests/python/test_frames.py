# SPDX-License-Identifier: MIT
"""perflog.frames: the actions of traces as Arrow tables, pandas DataFrames and Parquet,
checked row by row against the actions rebuilt in Python from perflog.read()'s records
(an independent pairing), and queried with pandas and DuckDB as docs/python.md shows.
"""

import asyncio
import os
import threading
import time

import pytest

import perflog

pa = pytest.importorskip("pyarrow", reason="pyarrow (scripts/deps.sh installs it into .venv)")
from perflog import frames  # noqa: E402


def record(path, pause=0.0, **options):
    """A program with threads, nested actions, failures, inputs of several types, a message,
    a cancelled coroutine and one action left unfinished (@pause: seconds between a
    thread's jobs)."""
    perflog.start(str(path), **options)

    @perflog.perflog
    def lookup(key, region="eu", limit=10, ratio=0.5, tags=None):
        if key == "bad":
            raise KeyError(key)
        return key

    def worker(n):
        for i in range(n):
            with perflog.action("job", n=i, name=f"job-{i % 3}"):
                try:
                    lookup("bad" if i % 7 == 0 else f"k{i}", region="us" if i % 2 else "eu",
                           tags=["a", "b"] if i % 5 == 0 else None)
                except KeyError:
                    pass
                perflog.log("progress", i=i)
                time.sleep(pause)

    threads = [threading.Thread(target=worker, args=(40,), name=f"w{k}") for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    @perflog.perflog
    async def slow():
        await asyncio.sleep(10)

    async def cancel_one():
        task = asyncio.ensure_future(slow())
        await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(cancel_one())
    with perflog.action("mixed", value=1):
        pass
    with perflog.action("mixed", value="one"):
        pass
    hung = perflog.action("hung", since="start")
    hung.__enter__()
    perflog.stop()  # "hung" never ends in the trace
    hung.__exit__(None, None, None)


def reference(paths):
    """The actions, from perflog.read()'s records: {(task, level): row}."""
    starts, ends, threads = {}, {}, {}
    for path in paths:
        r = perflog.read(str(path))
        pid, host = r.header["pid"], r.header["host"]
        for rec in r:
            if rec["kind"] == "thread":
                threads[(str(path), rec["thread"])] = rec["name"]
            elif rec["kind"] in ("start", "end"):
                key = (rec["task_id"], tuple(rec["level"]))
                rec = dict(rec, file=str(path), pid=pid, host=host,
                           thread_name=threads.get((str(path), rec["thread"])))
                (starts if rec["kind"] == "start" else ends)[key] = rec
    rows = {}
    for key, s in starts.items():
        e = ends.get(key)
        parent = starts.get((key[0], key[1][:-1])) if key[1] else None
        rows[key] = {
            "type": s["type"], "start": s["wall_ns"],
            "duration_ns": e["duration_ns"] if e else None,
            "outcome": e["outcome"] if e else "unfinished",
            "exc_type": e["exc_type"] if e else None,
            "parent_type": parent["type"] if parent else None,
            "pid": s["pid"], "host": s["host"], "thread": s["thread_name"], "tid": s["tid"],
            "file": s["file"], "depth": len(key[1]),
            "inputs": {f"in.{k}": v for k, v in s["fields"].items()},
        }
    return rows


def check(table, paths):
    ref = reference(paths)
    assert table.num_rows == len(ref)
    d = table.to_pylist()
    names = set(table.column_names)
    in_names = {n for n in names if n.startswith("in.")}
    assert in_names == {k for r in ref.values() for k in r["inputs"]}
    for row in d:
        level = tuple(int(x) for x in row["level"].split("/") if x)
        r = ref[(row["task"], level)]
        assert row["type"] == r["type"]
        assert row["start"].timestamp() * 1e9 == pytest.approx(r["start"], abs=1000)
        assert row["duration_ns"] == r["duration_ns"]
        assert row["outcome"] == r["outcome"]
        assert row["exc_type"] == r["exc_type"]
        assert row["parent_type"] == r["parent_type"]
        assert (row["pid"], row["host"], row["thread"], row["tid"], row["depth"]) == \
            (r["pid"], r["host"], r["thread"], r["tid"], r["depth"])
        assert row["file"] == r["file"]
        for n in in_names:
            want = r["inputs"].get(n)
            got = row[n]
            if n == "in.value":  # an int here, a str there: the column holds their text
                want = None if want is None else str(want)
            assert got == want, (n, row["task"], row["level"])
    return d


def test_columns_match_the_records(tmp_path):
    path = tmp_path / "t.zst"
    record(path)
    table = perflog.to_arrow(path)
    rows = check(table, [path])
    assert table.schema.field("type").type == pa.dictionary(pa.int32(), pa.string())
    assert str(table.schema.field("start").type) == "timestamp[ns, tz=UTC]"
    assert table.schema.field("in.value").type == pa.string()
    hung = [r for r in rows if r["type"] == "hung"]
    assert len(hung) == 1 and hung[0]["outcome"] == "unfinished"
    assert hung[0]["duration_ns"] is None
    failed = [r for r in rows if r["outcome"] == "failed"]
    assert failed and all(r["exc_type"] == "builtins.KeyError" for r in failed)
    (cancelled,) = [r for r in rows if r["outcome"] == "cancelled"]
    assert cancelled["type"].endswith("slow")
    assert cancelled["exc_type"] == "asyncio.exceptions.CancelledError"
    assert all(r["parent_type"] == "job" for r in rows if r["type"].endswith("lookup"))
    assert {r["thread"] for r in rows if r["type"] == "job"} == {"w0", "w1", "w2"}


def test_rotated_files_in_any_order(tmp_path):
    """An action whose START is in one rotated file and its END in the next pairs, whatever
    order the files are given in."""
    d = tmp_path / "rot"
    d.mkdir()
    record(d / "svc.zst", pause=0.002, rotate_bytes=2000, flush_interval_ms=1)
    files = sorted(p for p in d.iterdir())
    assert len(files) > 2
    forward = perflog.to_arrow(d)  # a directory: its files in name order
    backward = perflog.to_arrow(list(reversed(files)))
    check(forward, files)
    assert len(files) > 2

    def rows(table):  # the dictionaries' codes differ with the order: compare values
        return sorted(table.to_pylist(), key=lambda r: (r["task"], r["level"]))

    assert rows(forward) == rows(backward)
    # And some action did span two files (else the test would prove nothing).
    starts = {}
    for f in files:
        for rec in perflog.read(str(f)):
            if rec["kind"] == "start":
                starts[(rec["task"])] = f
            elif rec["kind"] == "end" and starts.get(rec["task"], f) != f:
                break
        else:
            continue
        break
    else:
        pytest.fail("no action spans two files")


def test_damaged_file_keeps_what_came_before(tmp_path):
    path = tmp_path / "t.zst"
    record(path, pause=0.002, flush_interval_ms=1)  # many frames
    data = path.read_bytes()
    cut = tmp_path / "cut.zst"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.warns(UserWarning, match=r"cut\.zst: offset \d+"):
        table = perflog.to_arrow(cut)
    assert 0 < table.num_rows < perflog.to_arrow(path).num_rows
    (tmp_path / "nothing.txt").write_text("not a trace")
    with pytest.raises(perflog.TraceError, match="nothing.txt"):
        perflog.to_arrow(tmp_path / "nothing.txt")
    with pytest.raises(FileNotFoundError):
        perflog.to_arrow(tmp_path / "missing.zst")


def test_directory_skips_non_traces(tmp_path):
    record(tmp_path / "t.zst")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.warns(UserWarning, match="notes.txt: skipped"):
        table = perflog.to_arrow(tmp_path)
    assert table.num_rows == perflog.to_arrow(tmp_path / "t.zst").num_rows


def test_no_inputs_and_empty(tmp_path):
    path = tmp_path / "t.zst"
    record(path)
    table = perflog.to_arrow(path, inputs=False)
    assert not [n for n in table.column_names if n.startswith("in.")]
    perflog.start(str(tmp_path / "empty.zst"))
    perflog.stop()
    assert perflog.to_arrow(tmp_path / "empty.zst").num_rows == 0


def test_pandas_and_duckdb_answer_the_docs_questions(tmp_path):
    """docs/python.md's three post-incident questions, in pandas and in DuckDB SQL, agree
    with each other and with the reference."""
    pytest.importorskip("pandas")
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "t.zst"
    record(path)
    df = perflog.to_dataframe(path)
    ref = reference([path])
    # 1. p99 of each type's duration.
    # (pandas' default quantile and DuckDB's quantile_cont both interpolate linearly.)
    p99 = df.groupby("type", observed=True)["duration_ns"].quantile(0.99)
    sql = duckdb.sql("select type::varchar t, quantile_cont(duration_ns, 0.99) p99 "
                     "from df where duration_ns is not null group by all").fetchall()
    assert {t: pytest.approx(v) for t, v in sql} == dict(p99.dropna().items())
    assert len(sql) == len({r["type"] for r in ref.values() if r["duration_ns"] is not None})
    # 2. which inputs the slowest lookups had.
    look = df[df["type"].astype(str).str.endswith("lookup")]
    slow = look.nlargest(5, "duration_ns")[["duration_ns", "in.key", "in.region"]]
    sql = duckdb.sql("select duration_ns, \"in.key\", \"in.region\" from df "
                     "where type::varchar like '%lookup' order by duration_ns desc limit 5"
                     ).fetchall()
    assert [tuple(x) for x in slow.itertuples(index=False)] == sql
    # 3. failures per exception type and parent.
    fails = df[df["outcome"] == "failed"].groupby(
        ["exc_type", "parent_type"], observed=True).size()
    sql = duckdb.sql("select exc_type::varchar, parent_type::varchar, count(*) from df "
                     "where outcome = 'failed' group by all").fetchall()
    assert {(a, b): n for a, b, n in sql} == {k: v for k, v in fails.items()}
    assert sum(n for _, _, n in sql) == sum(r["outcome"] == "failed" for r in ref.values())


def test_parquet(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "t.zst"
    record(path)
    out = tmp_path / "a.parquet"
    assert frames.main(["-o", str(out), str(path)]) == 0
    back = pq.read_table(out)
    assert back.num_rows == perflog.to_arrow(path).num_rows
    check(back, [path])
    assert frames.main(["-o", str(out), str(tmp_path / "missing.zst")]) == 3


def test_missing_pyarrow_is_a_clear_error(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_pyarrow(name, *a, **k):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ImportError, match="needs pyarrow, an optional dependency"):
        perflog.to_arrow(os.devnull)
