# SPDX-License-Identifier: MIT
"""Causality across asyncio tasks, threads, processes (continue_task) and fork."""
import asyncio
import concurrent.futures
import os
import threading

import pytest

import perflog
from conftest import Tree, run_python
from perflog import perflog as pl


@pl
def work(i):
    return i


@pl
async def worker(i, delay):
    await asyncio.sleep(delay)
    work(i)
    await asyncio.sleep(delay)
    work(i * 10)
    return i


def test_concurrent_asyncio_tasks_keep_separate_trees(trace, rng):
    delays = [rng.uniform(0, 0.01) for _ in range(5)]

    async def main():
        with perflog.action("main"):
            return await asyncio.gather(*(worker(i, d) for i, d in enumerate(delays)))

    assert asyncio.run(main()) == list(range(5))
    t = trace.read()
    main_node = t.one("main")
    workers = main_node.children
    assert [w.type for w in workers] == [f"{__name__}.worker"] * 5
    assert [w.level for w in workers] == [(1,), (2,), (3,), (4,), (5,)]
    for w in workers:
        i = w.fields["i"]
        assert w.fields["delay"] == delays[i]
        # each worker's calls, and only those, are its children
        assert [c.fields["i"] for c in w.children] == [i, i * 10]
        assert w.outcome == "succeeded" and w.duration_ns >= 2 * delays[i] * 1e9 * 0.5


def test_tasks_created_inside_inherit_the_action(trace):
    @pl
    async def parent():
        tasks = [asyncio.create_task(worker(i, 0.001)) for i in range(3)]
        return await asyncio.gather(*tasks)

    async def unrelated():
        await worker(99, 0)

    async def main():
        await asyncio.gather(parent(), unrelated())

    asyncio.run(main())
    t = trace.read()
    p = t.one(f"{__name__}.{parent.__qualname__}")
    assert sorted(c.fields["i"] for c in p.children) == [0, 1, 2]
    lone = [w for w in t.of_type(f"{__name__}.worker") if w.fields["i"] == 99]
    assert len(lone) == 1 and lone[0].level == () and lone[0].task_id != p.task_id


def test_coroutine_failure_and_cancellation(trace):
    @pl
    async def boom():
        await asyncio.sleep(0)
        raise ValueError("async boom")

    @pl
    async def sleeper():
        await asyncio.sleep(10)

    async def main():
        with pytest.raises(ValueError, match="async boom"):
            await boom()
        task = asyncio.create_task(sleeper())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    t = trace.read()
    b = t.one(f"{__name__}.{boom.__qualname__}")
    assert b.outcome == "failed" and b.exc_type == "builtins.ValueError"
    s = t.one(f"{__name__}.{sleeper.__qualname__}")
    assert s.outcome == "cancelled" and s.exc_type == "asyncio.exceptions.CancelledError"


def test_threads_start_new_tasks_unless_context_preserved(trace):
    results = []

    with perflog.action("spawner"):
        plain = threading.Thread(target=lambda: results.append(work(1)))
        carried = threading.Thread(target=perflog.preserve_context(lambda: results.append(work(2))))
        plain.start()
        carried.start()
        plain.join()
        carried.join()
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = [perflog.submit(ex, work, 10 + i) for i in range(3)]
            assert [f.result() for f in futs] == [10, 11, 12]
    assert sorted(results) == [1, 2]
    t = trace.read()
    spawner = t.one("spawner")
    carried_nodes = [c for c in spawner.children if c.type == "perflog:thread"]
    assert len(carried_nodes) == 4
    inside = sorted(c.children[0].fields["i"] for c in carried_nodes)
    assert inside == [2, 10, 11, 12]
    assert all(c.thread != spawner.thread for c in carried_nodes)
    lone = [w for w in t.of_type(f"{__name__}.work") if w.fields["i"] == 1]
    assert lone[0].level == () and lone[0].task_id != spawner.task_id


def test_preserve_context_is_one_shot(trace):
    with perflog.action("once"):
        fn = perflog.preserve_context(lambda: 5)
    assert fn() == 5
    with pytest.raises(RuntimeError):
        fn()
    assert perflog.preserve_context(work) is work  # no current action: fn itself
    trace.read()


def test_many_threads_each_call_recorded_once(trace):
    n_threads, n_calls = 8, 2000

    @pl
    def per_thread(k):
        for j in range(n_calls):
            work(k * n_calls + j)

    threads = [threading.Thread(target=per_thread, args=(k,)) for k in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stats = perflog.stats()
    t = trace.read()
    assert stats["dropped_full"] == 0
    calls = t.of_type(f"{__name__}.work")
    assert sorted(c.fields["i"] for c in calls) == list(range(n_threads * n_calls))
    tops = t.of_type(f"{__name__}.{per_thread.__qualname__}")
    assert len(tops) == n_threads
    for top in tops:
        k = top.fields["k"]
        assert [c.fields["i"] for c in top.children] == list(range(k * n_calls, (k + 1) * n_calls))
        assert len({c.thread for c in top.walk()}) == 1


CHILD = """
import sys, perflog
from perflog import perflog as pl

@pl
def remote_work(x):
    return x

perflog.start(sys.argv[1])
with perflog.continue_task(sys.argv[2]):
    remote_work(7)
perflog.stop()
"""


def test_child_process_continues_the_task(tmp_path, trace):
    child_trace = tmp_path / "child.zst"
    with perflog.action("request"):
        task = perflog.current_task()
        proc = run_python(CHILD.replace("sys.argv[1]", repr(str(child_trace)))
                          .replace("sys.argv[2]", repr(task)))
        work(3)
    parent = trace.read()
    child = Tree(list(perflog.read(str(child_trace))))
    req = parent.one("request")
    remote = child.one("perflog:remote_task")
    assert task == f"{req.task_id}@/1"
    assert remote.task_id == req.task_id and remote.level == (1,)
    assert remote.children[0].type == "__main__.remote_work"
    assert remote.children[0].level == (1, 1)
    # the parent's next child took the next slot: no collision with the remote one
    assert [c.level for c in req.children] == [(2,)]
    # joined across files, the tree is whole
    joined = Tree(parent.records + child.records)
    assert joined.one("request").shape() == (
        f"request(perflog:remote_task(__main__.remote_work), {__name__}.work)")
    assert proc.returncode == 0


def test_malformed_task_string_never_raises(trace):
    before = perflog.stats()["py_bad_task_strings"]
    for bad in ("", "garbage", "zz-1@/1", b"\xff\xfe", None, 12):
        with perflog.continue_task(bad):
            work(1)
    assert perflog.stats()["py_bad_task_strings"] == before + 6
    t = trace.read()
    remotes = t.of_type("perflog:remote_task")
    assert len(remotes) == 6 and all(r.level == () for r in remotes)
    assert len({r.task_id for r in remotes}) == 6


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_fork_child_records_its_own_file(tmp_path):
    path_tmpl = str(tmp_path / "fork-{pid}.zst")
    perflog.start(path_tmpl)
    r, w = os.pipe()
    with perflog.action("before_fork"):
        pid = os.fork()
        if pid == 0:  # child: must never raise out of here
            code = 1
            try:
                os.close(r)
                work(42)
                with perflog.action("in_child"):
                    work(43)
                perflog.stop()
                code = 0
            finally:
                os.write(w, b"x")
                os._exit(code)
        os.close(w)
        os.read(r, 1)
        _, status = os.waitpid(pid, 0)
        work(1)
    perflog.stop()
    assert os.WEXITSTATUS(status) == 0
    parent = Tree(list(perflog.read(path_tmpl.replace("{pid}", str(os.getpid())))))
    child = Tree(list(perflog.read(path_tmpl.replace("{pid}", str(pid)))))
    assert parent.one("before_fork").shape() == f"before_fork({__name__}.work)"
    assert not parent.of_type("in_child")
    # the child's actions are new tasks of the child (fresh task prefix), nothing else
    assert sorted(n.fields.get("i", -1) for n in child.of_type(f"{__name__}.work")) == [42, 43]
    assert child.one("in_child").level == ()
    prefix = parent.one("before_fork").task_id.split("-")[0]
    assert child.one("in_child").task_id.split("-")[0] != prefix
    assert not child.of_type("before_fork") and not child.orphan_ends


def _mp_child(n):
    return work(n)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_multiprocessing_fork_children_close_their_files(tmp_path):
    import multiprocessing

    tmpl = str(tmp_path / "mp-{pid}.zst")
    perflog.start(tmpl)
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(2)
    try:
        assert sorted(pool.map(_mp_child, range(6))) == list(range(6))
    finally:
        pool.close()  # workers exit normally (Pool.__exit__ would terminate() them)
        pool.join()
    proc = ctx.Process(target=_mp_child, args=(6,))
    proc.start()
    proc.join()
    perflog.stop()
    children = [p for p in tmp_path.glob("mp-*.zst") if p.name != f"mp-{os.getpid()}.zst"]
    assert children
    seen = []
    for p in children:
        recs = list(perflog.read(str(p)))
        assert recs[-1]["kind"] == "stats"  # closed cleanly despite os._exit()
        seen += [n.fields["i"] for n in Tree(recs).of_type(f"{__name__}.work")]
    assert sorted(seen) == list(range(7))


def test_threads_are_named_with_their_python_names(trace, tmp_path):
    """Each thread's first event in a trace comes after a THREAD record with its Python
    name (Python 3.11 leaves the OS name "python3"); a new trace names them again."""
    def with_action():
        with perflog.action("act"):
            pass

    targets = {"deco-1": lambda: work(1), "with-2": with_action,
               "log-3": lambda: perflog.log("msg", a=1)}
    for name, fn in targets.items():
        t = threading.Thread(target=fn, name=name)
        t.start()
        t.join()
    work(0)
    records = trace.read().records
    last_name = {}
    for r in records:
        if r["kind"] == "thread":
            last_name[r["thread"]] = r["name"]
        elif r["kind"] in ("start", "message"):
            assert r["thread"] in last_name, r
    names = {last_name[r["thread"]] for r in records if r["kind"] in ("start", "message")}
    assert names == set(targets) | {threading.current_thread().name}

    second = tmp_path / "second.zst"
    perflog.start(str(second))
    work(5)
    perflog.stop()
    assert [r["name"] for r in perflog.read(str(second)) if r["kind"] == "thread"][-1] == \
        threading.current_thread().name
