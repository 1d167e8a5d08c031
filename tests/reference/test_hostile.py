# SPDX-License-Identifier: MIT
"""Hostile trace files hand-built from the format (not by liblog's writer) must be read
without a crash: liblog's reader is run through examples/c_read, which in the sanitizer
build aborts on any out-of-bounds access."""
import os
import struct
import subprocess

import msgpack
import pytest
import zstandard

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
    (2, "version newer"), (2**32 + 1, "version newer"), (None, "not a perflog trace")])
def test_header_versions(tmp_path, version, reason):
    # A version that does not fit 32 bits is not truncated into an accepted one, and a
    # header without a version is not a perflog header.
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
