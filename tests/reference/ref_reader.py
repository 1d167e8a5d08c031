#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ref_reader.py - an independent reader of perflog trace files, format versions 1 and 2.

Written from the specification (docs/format.md, mirrored by liblog/src/common/format.h),
not from liblog's reader, so that tests can compare liblog against a second opinion.
It needs Debian's python3-zstandard and python3-msgpack (run it with /usr/bin/python3).

As a module:

    with Reader("trace.zst") as r:
        print(r.header["pid"])
        for rec in r:            # dicts, see Reader.__iter__
            ...

As a command, it prints one line per record exactly as examples/c_read does, so that
the two outputs can be diffed:  ref_reader.py TRACE   (exit 0: whole file read;
3: damaged, the records before the damage were printed; 2: usage).

The reader is strict: anything the specification does not allow raises TraceError with
the byte offset of the frame in which it was found. That includes each frame's index
(the skippable frame before it): it must agree with the frame, and every index read is
kept in Reader.index (dicts, see _parse_index).
"""

import math
import struct
import sys

import msgpack
import zstandard

FORMAT_VERSIONS = (1, 2)
MAGIC_FRAME_ID = 0x184D2A5E
MAGIC_TEXT = b"PERFLOG"
MAGIC_FRAME_BYTES = 16
ZSTD_FRAME_MAGIC = 0xFD2FB528
SKIPPABLE_MASK, SKIPPABLE_BASE = 0xFFFFFFF0, 0x184D2A50
# The frame index (format.md 1.1): a skippable frame before each data frame.
INDEX_FRAME_ID, INDEX_PAYLOAD, INDEX_MAGIC, INDEX_VERSION = 0x184D2A5F, 56, b"PLIX", 1
IX_HEADER, IX_NAME, IX_THREAD, IX_DROPPED, IX_STATS = 1, 2, 4, 8, 16
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1

# Record kinds (the first element of every record).
K_HEADER, K_START, K_END, K_MESSAGE, K_THREAD = 0, 1, 2, 3, 4
K_DROPPED, K_STATS, K_NAME, K_CHUNK, K_CLOCK = 5, 6, 7, 8, 9
K_BLOCK = 10  # version 2: a thread's events as columns (format.md 2.9)
BLK_OUTCOME_SHIFT, BLK_FIELDS, BLK_REMOTE, BLK_RESERVED = 2, 16, 32, 0xC0
OUTCOMES = {0: "succeeded", 1: "failed", 2: "cancelled"}  # END; 0 and 1 in version 1
KIND_NAMES = {K_START: "start", K_END: "end", K_MESSAGE: "message", K_THREAD: "thread",
              K_DROPPED: "dropped", K_STATS: "stats"}

# Reader limits of format.md section 3 (a reader must bound its work whatever the file says).
MAX_FRAME = 16 << 20
MAX_NAMES = 1 << 20
MAX_THREADS = 1 << 20
READ_BLOCK = 128 << 10
U64 = (1 << 64) - 1


class TraceError(Exception):
    """The file is not a readable perflog trace from @offset on (a frame's start)."""

    def __init__(self, path, offset, reason):
        super().__init__(f"{path}: offset {offset}: {reason}")
        self.path, self.offset, self.reason = path, offset, reason


class _Map(list):
    """A msgpack map as its (key, value) pairs, in file order, duplicates kept."""


def _is_uint(x, bits=64):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < (1 << bits)


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool) and -(1 << 63) <= x < (1 << 64)


def _scalar_ok(v):
    return v is None or isinstance(v, (bool, int, float, str, bytes))


def _value_ok(v):
    """nil|bool|int|float|str|bin|[scalar...]|{str: scalar} (format.md 2.6)."""
    if isinstance(v, _Map):
        return all(isinstance(k, str) and _scalar_ok(x) for k, x in v)
    if isinstance(v, list):
        return all(_scalar_ok(x) for x in v)
    return _scalar_ok(v)


def _plain(v):
    """A value for the public dicts: maps as dicts (the last duplicate key wins)."""
    return dict(v) if isinstance(v, _Map) else v


class Reader:
    """Reads one trace file: the header at construction, then records by iteration."""

    def __init__(self, path):
        self.path = path
        self._file = open(path, "rb")
        self._offset = 0          # bytes of the file consumed
        self._frame_offset = 0    # where the frame being decoded starts
        self.names = {0: ""}
        self.threads = {}         # thread number -> (tid, name)
        self.header = None
        self.version = None
        self.frames = 0
        self.index = []           # the indexes read so far, in file order
        self._records = self._raw_records()
        try:
            self._read_magic()
            first, self._first_ix = None, None
            for r in self._records:
                if isinstance(r, tuple):  # the first frame starts: its index
                    self._first_ix = r[1]
                    continue
                first = r
                break
            if first is None:
                self._fail("no data frame: the file ends after the magic frame")
            if first[0] != K_HEADER:
                self._fail(f"the first record is of kind {first[0]}, not HEADER")
            self._apply_header(first)
        except BaseException:
            self.close()
            raise

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fail(self, reason):
        raise TraceError(self.path, self._frame_offset, reason)

    # ---- frames ----

    def _read_exact(self, n):
        data = self._file.read(n)
        self._offset += len(data)
        return data

    def _read_magic(self):
        m = self._read_exact(MAGIC_FRAME_BYTES)
        if len(m) < MAGIC_FRAME_BYTES:
            self._fail("not a perflog trace: shorter than the magic frame")
        frame_id, size = struct.unpack_from("<II", m)
        if frame_id != MAGIC_FRAME_ID or size != 8 or m[8:15] != MAGIC_TEXT:
            self._fail("not a perflog trace: bad magic frame")
        self.version = m[15]
        if self.version not in FORMAT_VERSIONS:
            self._fail(f"format version {self.version}, this reader knows {FORMAT_VERSIONS}")

    def _parse_index(self, b):
        """The index frame at the start of @b (INDEX_FRAME_BYTES bytes) as a dict."""
        if len(b) < 8 + INDEX_PAYLOAD:
            self._fail("truncated frame (the file ends inside an index frame)")
        frame_id, size = struct.unpack_from("<II", b)
        if size != INDEX_PAYLOAD or b[8:12] != INDEX_MAGIC or b[12] != INDEX_VERSION or \
                b[14:16] != b"\0\0":
            self._fail("bad index frame")
        flags, data_len, events, first, last, open_, ck_ts, ck_wall = struct.unpack_from(
            "<xBxxIIqqQQq", b, 12)
        return {"offset": self._frame_offset, "flags": flags, "data_len": data_len,
                "events": events, "first_wall": first, "last_wall": last,
                "open_off": open_, "end_ck_ts": ck_ts, "end_ck_wall": ck_wall}

    def _frames(self):
        """Yield (content, index) for each data frame: its decompressed content and the
        index frame before it (None if it had none)."""
        pending = b""
        index = None
        while True:
            if not pending:
                pending = self._read_exact(READ_BLOCK)
                if not pending:
                    if index is not None:
                        self._fail("truncated frame (the file ends after its index)")
                    return
            if index is None:
                self._frame_offset = self._offset - len(pending)
            while len(pending) < 8 + INDEX_PAYLOAD:  # any frame header, or an index
                more = self._read_exact(READ_BLOCK)
                if not more:
                    break
                pending += more
            if len(pending) < 4:
                self._fail(f"truncated frame ({len(pending)} bytes)")
            magic = struct.unpack_from("<I", pending)[0]
            if magic == INDEX_FRAME_ID:
                if index is not None:
                    self._fail("two index frames in a row")
                index = self._parse_index(pending)
                pending = pending[8 + INDEX_PAYLOAD:]
                continue
            if magic & SKIPPABLE_MASK == SKIPPABLE_BASE:
                self._fail("unexpected skippable frame after the magic frame")
            if magic != ZSTD_FRAME_MAGIC:
                self._fail(f"not a zstd frame (magic {magic:#010x})")
            try:
                params = zstandard.get_frame_parameters(pending)
            except zstandard.ZstdError as e:
                self._fail(f"bad zstd frame header: {e}")
            if not params.has_checksum:
                self._fail("data frame without a content checksum")
            if params.window_size > MAX_FRAME:
                self._fail(f"frame window of {params.window_size} bytes exceeds {MAX_FRAME}")
            # One decompressor per frame: it stops at the frame's end and hands back what
            # follows as unused_data (python-zstandard >= 0.21 must be told not to read
            # across frames; older versions never do).
            try:
                d = zstandard.ZstdDecompressor().decompressobj(read_across_frames=False)
            except TypeError:
                d = zstandard.ZstdDecompressor().decompressobj()
            out = []
            size = fed = 0
            while True:
                try:
                    chunk = d.decompress(pending)
                except zstandard.ZstdError as e:
                    self._fail(f"corrupt frame: {e}")
                fed += len(pending)
                size += len(chunk)
                if size > MAX_FRAME:
                    self._fail(f"frame larger than {MAX_FRAME} bytes decompressed")
                out.append(chunk)
                if d.eof:
                    pending = d.unused_data
                    break
                pending = self._read_exact(READ_BLOCK)
                if not pending:
                    self._fail("truncated frame (the file ends inside it)")
            if index is not None and fed - len(pending) != index["data_len"]:
                self._fail(f"the index gives the frame {index['data_len']} bytes, it has "
                           f"{fed - len(pending)}")
            self.frames += 1
            yield b"".join(out), index
            index = None

    def _raw_records(self):
        """Yield every record (a list) in file order; each frame's start is marked by a
        tuple ("frame", index) and the end of the file by ("frame", None)."""
        for content, index in self._frames():
            yield ("frame", index)
            u = msgpack.Unpacker(raw=False, strict_map_key=False, object_pairs_hook=_Map,
                                 unicode_errors="surrogateescape", max_buffer_size=MAX_FRAME)
            u.feed(content)
            try:
                for rec in u:
                    if not isinstance(rec, list) or not rec or not _is_uint(rec[0]):
                        self._fail("a record is not an array starting with its kind")
                    yield rec
            except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError,
                    ValueError) as e:
                self._fail(f"bad msgpack: {e}")
            if u.tell() != len(content):
                self._fail("the frame ends inside a record")
        yield ("frame", None)

    def _check_index(self, ix, seen, open_starts):
        """The frame just read against its index: @seen is what it held (flags, events,
        walls, last CLOCK); @open_starts the offsets of the frames holding the STARTs of
        the actions of this file still open at its end. The index may name an earlier
        frame (its writer is conservative, openset.h), never a later one."""
        def fail(what):
            self._frame_offset = ix["offset"]
            self._fail(f"the index disagrees with its frame: {what}")
        if ix["flags"] != seen["flags"]:
            fail(f"flags {ix['flags']:#x}, the frame holds {seen['flags']:#x}")
        if ix["events"] != seen["events"]:
            fail(f"{ix['events']} events, the frame holds {seen['events']}")
        walls = seen["walls"]
        first, last = (min(walls), max(walls)) if walls else (I64_MAX, I64_MIN)
        if (ix["first_wall"], ix["last_wall"]) != (first, last):
            fail(f"times {ix['first_wall']}..{ix['last_wall']}, the frame's {first}..{last}")
        if (ix["end_ck_ts"], ix["end_ck_wall"]) != seen["clock"]:
            fail("its closing CLOCK is not the frame's last")
        if open_starts and ix["open_off"] > min(open_starts):
            fail(f"oldest open action in the frame at {ix['open_off']}, one opened in the "
                 f"frame at {min(open_starts)}")
        self.index.append(ix)

    # ---- records ----

    def _apply_header(self, rec):
        if len(rec) < 2 or not isinstance(rec[1], _Map):
            self._fail("HEADER is not [0, map]")
        h = {}
        for k, v in rec[1]:
            if not isinstance(k, str):
                self._fail("HEADER key is not a string")
            h[k] = _plain(v)
        if h.get("format") != "perflog" or h.get("version") != self.version:
            self._fail(f"HEADER does not say perflog format version {self.version}")
        for key, ok in (("pid", _is_int), ("mono_ns", _is_uint), ("wall_ns", _is_int),
                        ("task_prefix", _is_uint)):
            if not ok(h.get(key)):
                self._fail(f"HEADER {key} missing or not an integer")
        if h.get("clock") not in ("tsc", "monotonic"):
            self._fail("HEADER clock is neither tsc nor monotonic")
        argv = h.get("argv", [])
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            self._fail("HEADER argv is not an array of strings")
        self.header = h

    def _name(self, number):
        if not _is_uint(number, 32):
            self._fail(f"name number {number!r} is not a uint")
        try:
            return self.names[number]
        except KeyError:
            self._fail(f"name {number} used before its NAME record")

    def _fields(self, f):
        if f is None:
            return []
        if not isinstance(f, _Map):
            self._fail("fields is neither a map nor nil")
        items = []
        for k, v in f:
            if not _value_ok(v):
                self._fail("a field value is not a scalar or a shallow container")
            items.append((self._name(k), v))
        return items

    def __iter__(self):
        """Yield one dict per START/END/MESSAGE/THREAD/DROPPED/STATS record, with keys:
        kind ("start", "end", ...), ts_ns, wall_ns, thread, tid, task_prefix, task_seq,
        level (list), type, fields (dict name -> value), field_items ((name, value) pairs
        in file order), outcome, duration_ns, exc_type, exc_msg, name, count. Keys that
        do not apply to a kind are None; THREAD and STATS have no timestamp (None) and
        DROPPED has its chunk's latest."""
        prefix0 = self.header["task_prefix"]
        clock_ts, clock_wall = 0, self.header["wall_ns"]
        chunk = None  # [thread, prev_ts, prev_seq]
        # The first frame's index and what it held before the header was consumed.
        ix = self._first_ix
        seen = {"flags": IX_HEADER, "events": 0, "walls": [], "clock": None}
        opened = {}   # (prefix, seq, level) -> offset of its START's frame, if open
        frame_at = ix["offset"] if ix else MAGIC_FRAME_BYTES
        for rec in self._records:
            if isinstance(rec, tuple):  # a frame ends (and another starts: no chunk open)
                if ix is not None:
                    self._check_index(ix, seen, list(opened.values()))
                ix = rec[1]
                frame_at = ix["offset"] if ix else None
                seen = {"flags": 0, "events": 0, "walls": [], "clock": None}
                chunk = None
                continue
            kind, n = rec[0], len(rec)
            seen["flags"] |= {K_NAME: IX_NAME, K_THREAD: IX_THREAD, K_DROPPED: IX_DROPPED,
                              K_STATS: IX_STATS}.get(kind, 0)
            if kind == K_NAME:
                if n != 3 or not _is_uint(rec[1], 32) or rec[1] == 0 or not isinstance(
                        rec[2], str):
                    self._fail("bad NAME record")
                old = self.names.get(rec[1])
                if old is not None and old != rec[2]:
                    self._fail(f"name {rec[1]} redefined with another text")
                if old is None and len(self.names) > MAX_NAMES:
                    self._fail("too many names")
                self.names[rec[1]] = rec[2]
            elif kind == K_CHUNK:
                if n != 3 or not _is_uint(rec[1], 32) or not _is_uint(rec[2]):
                    self._fail("bad CHUNK record")
                if rec[1] >= MAX_THREADS:
                    self._fail(f"thread number {rec[1]} too large")
                chunk = [rec[1], rec[2], 0]
            elif kind == K_CLOCK:
                if n != 3 or not _is_uint(rec[1]) or not _is_int(rec[2]):
                    self._fail("bad CLOCK record")
                clock_ts, clock_wall = rec[1], rec[2]
                seen["clock"] = (rec[1], rec[2])
            elif kind == K_HEADER:
                self._fail("a second HEADER record")
            elif kind in (K_START, K_END, K_MESSAGE):
                out = self._event(rec, chunk, prefix0)
                out["wall_ns"] = clock_wall + (out["ts_ns"] - clock_ts)
                seen["events"] += 1
                seen["walls"].append(out["wall_ns"])
                key = (out["task_prefix"], out["task_seq"], tuple(out["level"]))
                if kind == K_START and frame_at is not None:
                    opened[key] = frame_at
                elif kind == K_END:
                    opened.pop(key, None)
                yield out
            elif kind == K_BLOCK and self.version >= 2:
                for out in self._block(rec, prefix0):
                    out["wall_ns"] = clock_wall + (out["ts_ns"] - clock_ts)
                    seen["events"] += 1
                    seen["walls"].append(out["wall_ns"])
                    key = (out["task_prefix"], out["task_seq"], tuple(out["level"]))
                    if out["kind"] == "start" and frame_at is not None:
                        opened[key] = frame_at
                    elif out["kind"] == "end":
                        opened.pop(key, None)
                    yield out
                # It opens a chunk: a DROPPED after it takes its last event's time, a
                # version 1 event after it continues from its last time and own task.
                chunk = [rec[1], self._block_last_ts, self._block_last_seq]
            elif kind == K_THREAD:
                if n != 4 or not _is_uint(rec[1], 32) or not _is_int(rec[2]) or not \
                        isinstance(rec[3], str):
                    self._fail("bad THREAD record")
                if rec[1] >= MAX_THREADS:
                    self._fail(f"thread number {rec[1]} too large")
                self.threads[rec[1]] = (rec[2], rec[3])
                yield self._no_ts_record("thread", rec[1], tid=rec[2], name=rec[3])
            elif kind == K_DROPPED:
                if chunk is None:
                    self._fail("DROPPED record outside a chunk")
                if n != 3 or not _is_uint(rec[1]) or not isinstance(rec[2], str):
                    self._fail("bad DROPPED record")
                out = self._no_ts_record("dropped", chunk[0], count=rec[1], name=rec[2])
                # Lost after the chunk's latest record: stamped with its time.
                out["ts_ns"] = chunk[1]
                out["wall_ns"] = clock_wall + (chunk[1] - clock_ts)
                seen["walls"].append(out["wall_ns"])
                yield out
            elif kind == K_STATS:
                if n != 2 or not isinstance(rec[1], _Map) or not all(
                        isinstance(k, str) and _is_uint(v) for k, v in rec[1]):
                    self._fail("bad STATS record")
                yield self._no_ts_record("stats", 0, field_items=list(rec[1]))
            # Unknown kinds are skipped (format.md section 2).

    def _no_ts_record(self, kind, thread, **kw):
        """THREAD, DROPPED and STATS carry no timestamp of their own. THREAD and STATS
        get None (STATS belongs to the writer, thread 0); DROPPED belongs to its chunk."""
        rec = self._blank(kind, thread)
        rec.update(kw)
        rec["fields"] = {k: _plain(v) for k, v in rec["field_items"]}
        return rec

    @staticmethod
    def _blank(kind, thread):
        return {"kind": kind, "ts_ns": None, "wall_ns": None, "thread": thread, "tid": None,
                "task_prefix": None, "task_seq": None, "level": None, "type": None,
                "fields": {}, "field_items": [], "outcome": None, "duration_ns": None,
                "exc_type": None, "exc_msg": None, "name": None, "count": None}

    def _block(self, rec, prefix0):
        """The events of a BLOCK record (format.md 2.9), as _event makes them."""
        if len(rec) != 12 or not all(_is_uint(x) for x in rec[1:4]) or not all(
                isinstance(c, bytes) for c in rec[4:]):
            self._fail("bad BLOCK record")
        thread, ts, count = rec[1], rec[2], rec[3]
        if thread >= MAX_THREADS:
            self._fail(f"thread number {thread} too large")
        kinds, dts, types, tasks, levels, durs, fields, excs = (
            _Column(self, c, name) for c, name in zip(rec[4:], (
                "kinds", "dts", "types", "tasks", "levels", "durations", "fields", "excs")))
        if count != len(kinds.data):
            self._fail(f"BLOCK of {count} events with {len(kinds.data)} kinds")
        seq = 0
        for i in range(count):
            k = kinds.take(1)[0]
            kind, outcome = k & 3, (k >> BLK_OUTCOME_SHIFT) & 3
            if kind == 0 or k & BLK_RESERVED or outcome > 2 or (outcome and kind != K_END):
                self._fail(f"BLOCK event kind byte {k:#x}")
            out = self._blank(KIND_NAMES[kind], thread)
            ts = (ts + dts.uv()) & U64
            out["ts_ns"] = ts
            if kind != K_END:
                out["type"] = self._name(types.uv())
            if k & BLK_REMOTE:
                out["task_prefix"] = int.from_bytes(tasks.take(8), "little")
                out["task_seq"] = tasks.uv()
            else:
                z = tasks.uv()
                seq = (seq + ((z >> 1) ^ -(z & 1))) & U64
                out["task_prefix"], out["task_seq"] = prefix0, seq
            depth = levels.uv()
            out["level"] = [levels.uv() for _ in range(depth)]
            if any(x >= 1 << 32 for x in out["level"]):
                self._fail("a level entry above 2^32")
            if kind == K_END:
                out["outcome"] = outcome
                out["duration_ns"] = durs.uv()
            if k & BLK_FIELDS:
                data = fields.take(fields.uv())
                try:
                    f = msgpack.unpackb(data, raw=False, strict_map_key=False,
                                        object_pairs_hook=_Map,
                                        unicode_errors="surrogateescape")
                except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError,
                        ValueError) as e:
                    self._fail(f"bad msgpack in a BLOCK's fields: {e}")
                if not isinstance(f, _Map):
                    self._fail("a BLOCK's fields are not a map")
                out["field_items"] = self._fields(f)
            out["fields"] = {a: _plain(v) for a, v in out["field_items"]}
            if outcome:
                out["exc_type"] = excs.take(excs.uv()).decode("utf-8", "surrogateescape")
                out["exc_msg"] = excs.take(excs.uv()).decode("utf-8", "surrogateescape")
            self._block_last_ts, self._block_last_seq = ts, seq
            if i == count - 1:  # a corrupt block's last event is not delivered
                self._check_block_end((kinds, dts, types, tasks, levels, durs, fields, excs))
            yield out
        if count == 0:
            self._check_block_end((kinds, dts, types, tasks, levels, durs, fields, excs))
            self._block_last_ts, self._block_last_seq = rec[2], 0

    def _check_block_end(self, columns):
        for c in columns:
            if c.pos != len(c.data):
                self._fail(f"BLOCK column {c.name} has {len(c.data) - c.pos} bytes left over")

    def _event(self, rec, chunk, prefix0):
        kind, n = rec[0], len(rec)
        if chunk is None:
            self._fail(f"a {KIND_NAMES[kind]} record before any CHUNK of its frame")
        out = self._blank(KIND_NAMES[kind], chunk[0])
        if kind == K_END:
            if not 6 <= n <= 9 or n == 8:
                self._fail("bad END record length")
            _, dts, task, level, outcome, duration = rec[:6]
            if outcome not in (0, 1) or not _is_uint(duration):
                self._fail("bad END outcome or duration")
            out["outcome"], out["duration_ns"] = outcome, duration
            fields = rec[6] if n > 6 else None
            if n == 9:
                if not isinstance(rec[7], str) or not isinstance(rec[8], str):
                    self._fail("END exception type or message is not a string")
                out["exc_type"], out["exc_msg"] = rec[7], rec[8]
        else:
            if n not in (5, 6):
                self._fail(f"bad {KIND_NAMES[kind]} record length")
            _, dts, typ, task, level = rec[:5]
            out["type"] = self._name(typ)
            fields = rec[5] if n == 6 else None
        if not _is_int(dts) or dts >= (1 << 63):
            self._fail("dts is not a signed int")
        chunk[1] += dts
        out["ts_ns"] = chunk[1]
        if isinstance(task, list) and not isinstance(task, _Map):
            if len(task) != 2 or not _is_uint(task[0]) or not _is_uint(task[1]):
                self._fail("a remote task is not [prefix, seq]")
            out["task_prefix"], out["task_seq"] = task
        elif _is_int(task) and task < (1 << 63):
            chunk[2] = (chunk[2] + task) & U64
            out["task_prefix"], out["task_seq"] = prefix0, chunk[2]
        else:
            self._fail("task is neither a delta int nor [prefix, seq]")
        if not isinstance(level, list) or isinstance(level, _Map) or not all(
                _is_uint(x, 32) for x in level):
            self._fail("level is not an array of uints")
        out["level"] = level
        out["field_items"] = self._fields(fields)
        out["fields"] = {k: _plain(v) for k, v in out["field_items"]}
        return out


class _Column:
    """One column of a BLOCK: bytes consumed from the front."""

    def __init__(self, reader, data, name):
        self.reader, self.data, self.name, self.pos = reader, data, name, 0

    def take(self, n):
        if n > len(self.data) - self.pos:
            self.reader._fail(f"BLOCK column {self.name} ends early")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def uv(self):
        """An unsigned LEB128 integer: at most 10 bytes, within 64 bits."""
        v = 0
        for i in range(10):
            b = self.take(1)[0]
            v |= (b & 0x7F) << (7 * i)
            if b < 0x80:
                if v > U64:
                    self.reader._fail(f"BLOCK column {self.name}: an integer over 64 bits")
                return v
        self.reader._fail(f"BLOCK column {self.name}: an integer of more than 10 bytes")


def read(path):
    """Every record of @path as dicts (see Reader.__iter__); raises TraceError."""
    with Reader(path) as r:
        yield from r


# ---- the command: c_read's output, byte for byte ----

def _c(s):
    """A string as C's "%s" / "%.*s" print it: up to its first NUL."""
    return s.split("\0", 1)[0]


def format_value(v):
    if v is None:
        return "nil"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "-nan" if math.copysign(1.0, v) < 0 else "nan"
        return "%g" % v
    if isinstance(v, str):
        return '"' + _c(v) + '"'
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    if isinstance(v, _Map):
        return "{" + ", ".join(_c(k) + ": " + format_value(x) for k, x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(_c(k) + ": " + format_value(x) for k, x in v.items()) + "}"
    return "[" + ", ".join(format_value(x) for x in v) + "]"


def span_id(prefix, seq, level):
    """The span id of the action at @level of task (prefix, seq), as docs/perfan.md defines
    it (pl_span_id): fmix64 chained over the level, 16 hex digits."""
    mask, g = (1 << 64) - 1, 0x9E3779B97F4A7C15

    def fmix(h):
        h ^= h >> 33
        h = (h * 0xFF51AFD7ED558CCD) & mask
        h ^= h >> 33
        h = (h * 0xC4CEB9FE1A85EC53) & mask
        return h ^ (h >> 33)

    h = fmix(prefix ^ fmix((seq + g) & mask))
    for i in level:
        h = fmix((h + g * (i + 1)) & mask)
    return f"{h or 1:016x}"


def task_string(prefix, seq, level):
    """pl_task_format(): "<prefix as 16 hex digits>-<seq in hex>@/a/b" (format.md 2.4)."""
    path = "".join(f"/{x}" for x in level) if level else "/"
    return f"{prefix:016x}-{seq:x}@{path}"


def format_header(h, version):
    argv = h.get("argv") or []
    return (f"# pid {h['pid']} host {_c(h.get('host', ''))} clock {h['clock']} "
            f"version {version} argv[0] {_c(argv[0]) if argv else ''}")


def format_record(r):
    kind = r["kind"]
    ts = r["ts_ns"] if r["ts_ns"] is not None else 0  # C: 0 where it does not apply
    line = f"{kind:<7} t={ts} th={r['thread']}"
    if kind in ("start", "end", "message"):
        typ = r["type"] if r["type"] is not None else ""
        line += f" {task_string(r['task_prefix'], r['task_seq'], r['level'])} {_c(typ)}"
    if kind == "end":
        line += f" {OUTCOMES[r['outcome']]} {r['duration_ns']}ns"
    if r["exc_type"] is not None:
        msg = _c(r["exc_msg"]) if r["exc_msg"] is not None else "(null)"
        line += f" {_c(r['exc_type'])}: {msg}"
    if r["name"] is not None:
        line += f" {_c(r['name'])}"
    if kind == "dropped":
        line += f" {r['count']}"
    for k, v in r["field_items"]:
        line += f" {_c(k)}={format_value(v)}"
    return line


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: ref_reader.py TRACE\n")
        return 2
    out = sys.stdout.buffer

    def emit(s):
        out.write(s.encode("utf-8", "surrogateescape") + b"\n")

    try:
        with Reader(argv[1]) as r:
            emit(format_header(r.header, r.header["version"]))
            for rec in r:
                emit(format_record(rec))
    except TraceError as e:
        out.flush()
        sys.stderr.write(f"ref_reader: {e}\n")
        return 3
    except OSError as e:
        sys.stderr.write(f"ref_reader: {argv[1]}: {e.strerror}\n")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
