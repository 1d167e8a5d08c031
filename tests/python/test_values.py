# SPDX-License-Identifier: MIT
"""Value conversion, truncation and redaction, read back (and, for redaction, searched for
in the zstd-decompressed bytes of the file)."""
import collections

import pytest

import perflog
from perflog import perflog as pl

zstandard = pytest.importorskip("zstandard")


@pl
def take(v):
    return None


def recorded(trace, *values, **decorator_options):
    fn = pl(**decorator_options)(lambda v: None) if decorator_options else take
    for v in values:
        fn(v)
    t = trace.read()
    calls = sorted((n for n in t.nodes.values() if "v" in n.fields), key=lambda n: n.ts_ns)
    return [c.fields for c in calls]


class Custom:
    pass


class Hostile:
    """Every hook raises: conversion must never call any of them."""
    calls = 0

    def _boom(self, *a):
        Hostile.calls += 1
        raise RuntimeError("hook called")

    __len__ = __repr__ = __str__ = __iter__ = __hash__ = __eq__ = __bool__ = _boom


class IntSub(int):
    pass


def test_scalars(trace):
    got = recorded(trace, 1, -5, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 1.5, True,
                   False, None, "text", "", b"\x00\xff", bytearray(b"ba"), IntSub(7))
    assert [f["v"] for f in got] == [1, -5, 2**63 - 1, 2**63, 2**64 - 1, "<int>", "<int>", 1.5,
                                     True, False, None, "text", "", b"\x00\xff", b"ba", 7]


def test_containers_are_shallow_and_bounded(trace):
    got = recorded(trace, [1, "a", None], (2.5, b"b"), {"k": 1, 2: "two", (1,): 3},
                   [[1, 2], {"a": 1}, {1, 2, 3}], list(range(40)),
                   {f"k{i}": i for i in range(40)}, {1, 2}, collections.OrderedDict(a=1))
    assert got[0] == {"v": [1, "a", None]}
    assert got[1] == {"v": [2.5, b"b"]}
    assert got[2] == {"v": {"k": 1, "2": "two", "<tuple>": 3}}
    assert got[3] == {"v": ["<list len=2>", "<dict len=1>", "<set len=3>"]}
    assert got[4] == {"v": list(range(16)), "v.truncated": 40}
    assert got[5] == {"v": {f"k{i}": i for i in range(16)}, "v.truncated": 40}
    assert got[6] == {"v": "<set len=2>"}
    assert got[7] == {"v": {"a": 1}}


def test_other_objects_are_type_names_and_no_hook_runs(trace):
    Hostile.calls = 0
    got = recorded(trace, Custom(), Hostile(), [Hostile()], object(), len, str)
    assert Hostile.calls == 0
    assert [f["v"] for f in got] == [f"<{__name__}.Custom>", f"<{__name__}.Hostile>",
                                     [f"<{__name__}.Hostile>"], "<object>",
                                     "<builtin_function_or_method>", "<type>"]


def test_unencodable_str_is_counted_not_raised(trace):
    before = perflog.stats()["py_convert_errors"]
    got = recorded(trace, "bad \udc80 surrogate")
    assert got == [{"v": "<str>"}]
    assert perflog.stats()["py_convert_errors"] == before + 1


def test_truncation_marks_and_utf8_boundaries(trace):
    got = recorded(trace, "x" * 100, "é" * 10, b"y" * 50, ["z" * 20, "ok"], max_len=9)
    assert got[0] == {"v": "x" * 9, "v.truncated": 100}
    assert got[1] == {"v": "é" * 4, "v.truncated": 10}  # 9 bytes: cut before a 2-byte char
    assert got[2] == {"v": b"y" * 9, "v.truncated": 50}
    assert got[3] == {"v": ["z" * 9, "ok"], "v.truncated": 2}


def test_default_max_len(trace):
    got = recorded(trace, "a" * 1000)
    assert len(got[0]["v"]) == 256 and got[0]["v.truncated"] == 1000


SECRET = "hunter2-S3CR3T-value"


def decompress_frames(raw):
    """All data frames of a trace, decompressed (the first 16 bytes are the magic frame)."""
    assert int.from_bytes(raw[:4], "little") == 0x184D2A5E
    rest, out = raw[16:], []
    while rest:
        d = zstandard.ZstdDecompressor().decompressobj()
        out.append(d.decompress(rest))
        rest = d.unused_data
    return b"".join(out)


def test_redacted_values_never_reach_the_file(tmp_path):
    path = tmp_path / "redact.zst"

    @pl(redact=["password", "token"])
    def login(user, password, **extra):
        return user

    @pl(redact=["password"], result=False)
    async def alogin(user, password):
        return user

    perflog.start(str(path))
    login("bob", SECRET, token=SECRET, other="visible")
    login("eve", password=SECRET)
    import asyncio
    asyncio.run(alogin("amy", SECRET))
    perflog.stop()
    raw = path.read_bytes()
    data = decompress_frames(raw)
    assert data and SECRET.encode() not in data and SECRET.encode() not in raw
    assert b"visible" in data  # the decompression did find the records
    recs = [r for r in perflog.read(str(path)) if r["kind"] == "start"]
    assert recs[0]["fields"] == {"user": "bob", "password": "<redacted>",
                                 "extra": {"token": "<redacted>", "other": "visible"}}
    assert recs[1]["fields"] == {"user": "eve", "password": "<redacted>", "extra": {}}
    assert recs[2]["fields"] == {"user": "amy", "password": "<redacted>"}


def test_result_conversion(trace):
    @pl(result=True, max_len=4)
    def produce(kind):
        return {"list": [1, 2], "long": "abcdefgh", "obj": Custom()}[kind]

    for k in ("list", "long", "obj"):
        produce(k)
    t = trace.read()
    ends = {n.fields["kind"]: n.end_fields for n in t.of_type(f"{__name__}.{produce.__qualname__}")}
    assert ends == {"list": {"result": [1, 2]},
                    "long": {"result": "abcd", "result.truncated": 8},
                    "obj": {"result": f"<{__name__}.Custom>"}}
