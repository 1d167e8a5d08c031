# SPDX-License-Identifier: MIT
"""Hostile trace files hand-built from the format (not by liblog's writer) must be read
without a crash: liblog's reader is run through examples/c_read, which in the sanitizer
build aborts on any out-of-bounds access."""
import os
import struct
import subprocess

import sys

import msgpack
import pytest
import zstandard

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from gen_traces import uv  # noqa: E402  (a BLOCK's LEB128 integers)

BUILD = os.environ.get("PERFLOG_BUILD_DIR")
MAGIC = struct.pack("<II", 0x184D2A5E, 8) + b"PERFLOG\x01"


def frame(*records):
    data = b"".join(records)
    return zstandard.ZstdCompressor(write_checksum=True).compress(data)


def header_with_pairs(pairs):
    """A HEADER record whose map is built by hand, so keys may repeat."""
    body = b"".join(msgpack.packb(k) + msgpack.packb(v) for k, v in pairs)
    n = len(pairs)
    head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
    return b"\x92" + msgpack.packb(0) + head + body


def c_read(tmp_path, data):
    if not BUILD:
        pytest.skip("PERFLOG_BUILD_DIR not set")
    exe = os.path.join(BUILD, "examples", "c_read")
    if not os.path.exists(exe):
        pytest.skip("examples not built")
    path = tmp_path / "hostile.zst"
    path.write_bytes(data)
    return subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)


BASE = [("format", "perflog"), ("version", 1), ("pid", 1), ("host", "h"),
        ("clock", "monotonic"), ("mono_ns", 0), ("wall_ns", 0), ("task_prefix", 1)]


def test_repeated_argv_key(tmp_path):
    # The first "argv" is long and the second empty: a reader sizing its argv array from
    # one key and filling it from the other writes past its allocation.
    pairs = BASE + [("argv", [""] * 1000), ("argv", [])]
    res = c_read(tmp_path, MAGIC + frame(header_with_pairs(pairs)))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("# pid 1 host h clock monotonic version 1")


def test_argv_of_non_strings(tmp_path):
    # argv that is not a list of strings is ignored, like "argv": "text": the file is
    # still read (argv is informative; nothing depends on it).
    for argv in ([1, 2, 3], ["a", 5], "notalist", {"a": 1}):
        pairs = BASE + [("argv", argv)]
        msg = msgpack.packb([3, 0, 0, 1, []])  # a MESSAGE needs a CHUNK first
        res = c_read(tmp_path, MAGIC + frame(header_with_pairs(pairs),
                                             msgpack.packb([8, 1, 0]), msg))
        assert res.returncode == 0, (argv, res.stderr)
        assert res.stdout.startswith("# pid 1 host h clock monotonic version 1"), argv


@pytest.mark.parametrize("version,reason", [
    (3, "version newer"), (2**32 + 1, "version newer"), (None, "not a perflog trace"),
    (2, "not a perflog trace header")])
def test_header_versions(tmp_path, version, reason):
    # A version that does not fit 32 bits is not truncated into an accepted one, a
    # header without a version is not a perflog header, and neither is one whose version
    # is not the magic frame's (1 here).
    pairs = [p for p in BASE if p[0] != "version"]
    if version is not None:
        pairs.append(("version", version))
    res = c_read(tmp_path, MAGIC + frame(header_with_pairs(pairs)))
    assert res.returncode == 3
    assert "offset 16" in res.stderr and reason in res.stderr, res.stderr


def test_clock_near_int64_max(tmp_path):
    # wall = CLOCK's wall + (ts - CLOCK's ts): computed without signed overflow (the
    # sanitizer build aborts on UB), the record delivered.
    recs = [header_with_pairs(BASE + [("argv", [])]), msgpack.packb([9, 0, 2**63 - 1]),
            msgpack.packb([8, 1, 0]), msgpack.packb([3, 5, 0, 1, [], {}])]
    res = c_read(tmp_path, MAGIC + frame(*recs))
    assert res.returncode == 0, res.stderr
    assert "message" in res.stdout


def test_empty_strings_are_not_null(tmp_path):
    # An empty string whose record has no multi-byte element before it: msgpack-c's
    # template leaves its pointer NULL; the reader must hand out "" (c_read prints
    # thread names and message fields through the pointers).
    recs = [header_with_pairs(BASE + [("argv", [])]), msgpack.packb([7, 1, ""]),
            msgpack.packb([4, 1, 5, ""]), msgpack.packb([8, 1, 0]),
            msgpack.packb([3, 0, 1, 1, [], {1: ""}])]
    res = c_read(tmp_path, MAGIC + frame(*recs))
    assert res.returncode == 0, res.stderr


# ---- BLOCK records (format version 2): columns that lie ---------------------------------

MAGIC2 = struct.pack("<II", 0x184D2A5E, 8) + b"PERFLOG\x02"
BASE2 = [(k, 2 if k == "version" else v) for k, v in BASE] + [("argv", [])]


def block(count, kinds, dts=b"", types=b"", tasks=b"", levels=b"", durs=b"", fields=b"",
          excs=b"", thread=1, base=10):
    return msgpack.packb([10, thread, base, count, bytes(kinds), dts, types, tasks, levels,
                          durs, fields, excs], use_bin_type=True)


# One good START then END of type 1 ("t"), and the BLOCKs that follow in a second frame.
GOOD = block(2, [1 | 16, 2], dts=uv(0) + uv(5), types=uv(1), tasks=uv(2) + uv(0),
             levels=uv(0) + uv(0), durs=uv(5), fields=uv(3) + msgpack.packb({1: 7}))
BAD_BLOCKS = {
    "count past kinds": block(3, [1, 2], dts=uv(0) + uv(5), types=uv(1), tasks=uv(2) + uv(0),
                              levels=b"\0\0", durs=uv(5)),
    "outcome 3": block(1, [2 | 12], dts=uv(0), tasks=uv(2), levels=b"\0", durs=uv(1),
                       excs=b"\0\0"),
    "reserved kind bits": block(1, [1 | 0x40], dts=uv(0), types=uv(1), tasks=uv(2),
                                levels=b"\0"),
    "kind 0": block(1, [0], dts=uv(0), tasks=uv(2), levels=b"\0"),
    "failed START": block(1, [1 | 4], dts=uv(0), types=uv(1), tasks=uv(2), levels=b"\0"),
    "dts column short": block(2, [1, 1], dts=uv(0), types=uv(1) + uv(1),
                              tasks=uv(2) + uv(0), levels=b"\0\0"),
    "integer over 10 bytes": block(1, [1], dts=b"\xff" * 11, types=uv(1), tasks=uv(2),
                                   levels=b"\0"),
    "integer over 64 bits": block(1, [1], dts=b"\xff" * 9 + b"\x02", types=uv(1),
                                  tasks=uv(2), levels=b"\0"),
    "undefined type": block(1, [1], dts=uv(0), types=uv(9), tasks=uv(2), levels=b"\0"),
    "depth past the column": block(1, [1], dts=uv(0), types=uv(1), tasks=uv(2),
                                   levels=uv(1 << 40)),
    "level entry over 32 bits": block(1, [1], dts=uv(0), types=uv(1), tasks=uv(2),
                                      levels=uv(1) + uv(1 << 33)),
    "fields length past the column": block(1, [1 | 16], dts=uv(0), types=uv(1), tasks=uv(2),
                                           levels=b"\0", fields=uv(100) + b"\x80"),
    "fields not a map": block(1, [1 | 16], dts=uv(0), types=uv(1), tasks=uv(2), levels=b"\0",
                              fields=uv(1) + b"\x05"),
    "fields map shorter than said": block(1, [1 | 16], dts=uv(0), types=uv(1), tasks=uv(2),
                                          levels=b"\0", fields=uv(4) + msgpack.packb({1: 7})
                                          + b"\0"),
    "remote prefix cut": block(1, [1 | 32], dts=uv(0), types=uv(1), tasks=b"\1\2\3",
                               levels=b"\0"),
    "exception text past the column": block(1, [2 | 4], dts=uv(0), tasks=uv(2),
                                            levels=b"\0", durs=uv(1), excs=uv(50) + b"x"),
    "a column left over": block(1, [1], dts=uv(0) + uv(0), types=uv(1), tasks=uv(2),
                                levels=b"\0"),
    "a column left over after two": block(2, [1, 1], dts=uv(0) + uv(1),
                                          types=uv(1) + uv(1), tasks=uv(2) + uv(2),
                                          levels=b"\0\0\0"),
    "fields bytes not msgpack": block(1, [1 | 16], dts=uv(0), types=uv(1), tasks=uv(2),
                                      levels=b"\0", fields=uv(2) + b"\xc1\xc1"),
    "an empty block with bytes": block(0, [], dts=uv(0)),
    "column not bin": msgpack.packb([10, 1, 10, 1, b"\x01", "not bin", b"\x01", b"\x02",
                                     b"\0", b"", b"", b""], use_bin_type=True),
    "thread too large": block(2, [1 | 16, 2], thread=1 << 21, dts=uv(0) + uv(5),
                              types=uv(1), tasks=uv(2) + uv(0), levels=b"\0\0", durs=uv(5),
                              fields=uv(3) + msgpack.packb({1: 7})),
}


def _ref_read(tmp_path, data):
    path = tmp_path / "hostile-ref.zst"
    path.write_bytes(data)
    here = os.path.dirname(os.path.abspath(__file__))
    return subprocess.run([sys.executable, os.path.join(here, "ref_reader.py"), str(path)],
                          capture_output=True, text=True, timeout=60)


def _v2_file(second):
    first = frame(header_with_pairs(BASE2), msgpack.packb([7, 1, "t"]), GOOD)
    return MAGIC2 + first + frame(second), len(MAGIC2) + len(first)


def test_a_good_block_reads_as_its_events(tmp_path):
    data, _ = _v2_file(GOOD)
    for res in (c_read(tmp_path, data), _ref_read(tmp_path, data)):
        assert res.returncode == 0, res.stderr
        lines = res.stdout.splitlines()[1:]
        # task seq: the zigzag delta uv(2) is +1; field name 1 is "t" as the type.
        assert lines == ["start   t=10 th=1 0000000000000001-1@/ t t=7",
                         "end     t=15 th=1 0000000000000001-1@/  succeeded 5ns"] * 2, lines


@pytest.mark.parametrize("what", sorted(BAD_BLOCKS))
def test_a_lying_block_is_refused_at_its_frame(tmp_path, what):
    # Both readers: the first frame's events delivered, then an error naming the second
    # frame's offset; no allocation sized from a count the bytes do not hold (the
    # sanitizer build's c_read would run out of its memory limit or read out of bounds).
    data, off = _v2_file(BAD_BLOCKS[what])
    c, ref = c_read(tmp_path, data), _ref_read(tmp_path, data)
    for res in (c, ref):
        assert res.returncode == 3, (what, res.stdout, res.stderr)
        assert f"offset {off}" in res.stderr, (what, res.stderr)
        assert res.stdout.count("\n") >= 3, res.stdout  # the header line and 2 events
    assert c.stdout == ref.stdout, what  # the same events before the damage, no more


def test_a_block_in_a_version_1_file_is_skipped(tmp_path):
    # Version 1 had no BLOCK: its readers skip unknown kinds, and so does this one there.
    first = frame(header_with_pairs(BASE + [("argv", [])]), msgpack.packb([7, 1, "t"]), GOOD)
    for res in (c_read(tmp_path, MAGIC + first), _ref_read(tmp_path, MAGIC + first)):
        assert res.returncode == 0, res.stderr
        assert res.stdout.count("\n") == 1, res.stdout


def test_a_cancelled_end_reads_as_cancelled(tmp_path):
    # Outcome 2 (format 2): an END neither succeeded nor failed, with its exception.
    cancelled = block(2, [1, 2 | 8], dts=uv(0) + uv(7), types=uv(1), tasks=uv(2) + uv(0),
                      levels=b"\0\0", durs=uv(7), excs=uv(1) + b"C" + uv(4) + b"stop")
    data, _ = _v2_file(cancelled)
    for res in (c_read(tmp_path, data), _ref_read(tmp_path, data)):
        assert res.returncode == 0, res.stderr
        assert res.stdout.splitlines()[-1] == \
            "end     t=17 th=1 0000000000000001-1@/  cancelled 7ns C: stop", res.stdout


def test_a_version_1_record_after_a_block_continues_its_chunk(tmp_path):
    # Time and own task deltas go on from the block's last event (format.md 2.3).
    blk = block(1, [1], dts=uv(3), types=uv(1), tasks=uv(10), levels=b"\0", base=100)
    start = msgpack.packb([1, 4, 1, 2, []])  # +4 ns, own task +2
    data = MAGIC2 + frame(header_with_pairs(BASE2), msgpack.packb([7, 1, "t"]), blk, start)
    for res in (c_read(tmp_path, data), _ref_read(tmp_path, data)):
        assert res.returncode == 0, res.stderr
        assert res.stdout.splitlines()[1:] == [
            "start   t=103 th=1 0000000000000001-5@/ t",
            "start   t=107 th=1 0000000000000001-7@/ t"], res.stdout


def test_perfan_refuses_a_block_whatever_it_skips(tmp_path):
    # perfan stats skips fields (pl_reader_skip_fields): the bytes are checked anyway,
    # so that whether a file reads does not depend on what a command shows.
    perfan = os.path.join(BUILD or "", "analyzer", "perfan")
    if not BUILD or not os.path.exists(perfan):
        pytest.skip("perfan not built (PERFLOG_BUILD_DIR unset, or -Danalyzer=false)")
    data, off = _v2_file(BAD_BLOCKS["fields bytes not msgpack"])
    path = tmp_path / "skip.zst"
    path.write_bytes(data)
    for cmd in (["stats"], ["slowest"]):
        p = subprocess.run([perfan, *cmd, str(path)],
                           capture_output=True, text=True, timeout=60)
        assert f"offset {off}: corrupt record" in p.stderr, (cmd, p.stderr)
