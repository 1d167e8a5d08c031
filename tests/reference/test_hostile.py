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
    pairs = BASE + [("argv", [1, 2, 3])]
    res = c_read(tmp_path, MAGIC + frame(header_with_pairs(pairs)))
    assert res.returncode == 3
    assert "offset 16" in res.stderr
