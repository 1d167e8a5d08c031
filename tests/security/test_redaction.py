# SPDX-License-Identifier: MIT
"""Redaction (the hardening issue's finding 4): a redacted argument's value must not reach
the trace through the result or the exception text either, on the synchronous and the
coroutine path, for named parameters and **kwargs keys. What redaction covers is stated
in docs/python.md; these tests hold it to that."""
import asyncio

import pytest
import zstandard

import perflog
from perflog import perflog as pl

SECRET = "hunter2-Zq8"


def _raw(path):
    """Every decompressed byte of the trace (records, names, fields)."""
    with open(path, "rb") as f:
        return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()


def _ends(path):
    return [r for r in perflog.read(str(path)) if r["kind"] == "end"]


@pl(redact=["password"], result=True)
def echo(user, password):
    return password


@pl(redact=["password"], result=True)
def greet(user, password):
    return f"{user}:{password}"


@pl(redact=["password"], result=True)
def pair(user, password):
    return (user, password)


@pl(redact=["password"])
def lookup(user, password):
    raise KeyError(password)


@pl(redact=["token"], result=True)
def kw(**kwargs):
    if kwargs.get("fail"):
        raise RuntimeError("bad token " + kwargs["token"])
    return kwargs["token"]


@pl(redact=["password"], result=True)
async def alogin(user, password):
    await asyncio.sleep(0)
    if user == "bad":
        raise ValueError(f"wrong password {password!r} for {user}")
    return {"user": user, "password": password}


@pl(redact=["token"], result=True)
async def akw(**kwargs):
    await asyncio.sleep(0)
    if kwargs.get("fail"):
        raise PermissionError(kwargs["token"])
    return kwargs["token"]


def _calls():
    echo("ann", SECRET)
    greet("ann", SECRET)
    pair("ann", SECRET)
    kw(token=SECRET)
    asyncio.run(alogin("ann", SECRET))
    asyncio.run(akw(token=SECRET))
    for fn, args, kwargs, exc in ((lookup, ("ann", SECRET), {}, KeyError),
                                  (kw, (), {"token": SECRET, "fail": 1}, RuntimeError)):
        with pytest.raises(exc):
            fn(*args, **kwargs)
    with pytest.raises(ValueError):
        asyncio.run(alogin("bad", SECRET))
    with pytest.raises(PermissionError):
        asyncio.run(akw(token=SECRET, fail=1))


def test_secret_reaches_the_trace_nowhere(tmp_path):
    path = tmp_path / "r.zst"
    perflog.start(str(path))
    try:
        _calls()
    finally:
        perflog.stop()
    assert SECRET.encode() not in _raw(path)
    ends = _ends(path)
    assert len(ends) == 10
    results = [e["fields"].get("result") for e in ends if "result" in e.get("fields", {})]
    assert results.count("<redacted>") >= 5, results
    msgs = [e["exc_msg"] for e in ends if e["outcome"] == "failed"]
    assert len(msgs) == 4 and all("<redacted>" in m for m in msgs), msgs
    assert "wrong password '<redacted>' for bad" in msgs  # the rest of the text is kept


def test_without_redaction_the_values_are_recorded(tmp_path):
    # The tests above could pass with a writer that drops every result: this one shows
    # the same calls record their values when nothing is redacted.
    @pl(result=True)
    def plain(user, password):
        if user == "bad":
            raise KeyError(password)
        return password

    path = tmp_path / "p.zst"
    perflog.start(str(path))
    try:
        with pytest.raises(KeyError):
            plain("bad", SECRET)
    finally:
        perflog.stop()
    assert SECRET.encode() in _raw(path)
