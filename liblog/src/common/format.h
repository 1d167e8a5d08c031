/* SPDX-License-Identifier: MIT */
/* format.h - THE on-disk trace format, version 2. Mirrors docs/format.md.
 *
 *   file   := magic_frame (index_frame? data_frame)*
 *   magic_frame := zstd skippable frame: u32le 0x184D2A5E, u32le 8, "PERFLOG" u8 version
 *   data_frame  := one zstd frame (content checksum on) whose content is whole
 *                  msgpack records, each an array [kind, ...]
 *
 * The first record of the first data frame is HEADER. NAME records define a name
 * number before its first use. Every record between a CHUNK and the next CHUNK (or
 * the frame's end) belongs to the CHUNK's thread; within a chunk timestamps and own
 * task sequence numbers are deltas from the previous record of the chunk. Each frame
 * starts afresh (no chunk open), so a frame decodes given the names defined before it.
 */
#ifndef PL_FORMAT_H
#define PL_FORMAT_H

#include <stdint.h>

#define PL_FORMAT_VERSION    2u		 /* what the writer writes; the reader reads 1 and 2 */
#define PL_MAGIC_FRAME_ID    0x184D2A5Eu /* a zstd skippable-frame magic: zstd -d ignores it */
#define PL_MAGIC_TEXT	     "PERFLOG"	 /* 7 bytes, then the version byte */
#define PL_MAGIC_FRAME_BYTES 16u

/*
 * index_frame := zstd skippable frame written right before each data frame (since 0.2):
 *   u32le PL_INDEX_FRAME_ID, u32le PL_INDEX_PAYLOAD, then the payload, little-endian:
 *     0  "PLIX"        4
 *     4  u8 version    (PL_INDEX_VERSION), u8 flags (PL_IX_*), u16 zero
 *     8  u32 data_len  compressed bytes of the data frame that follows
 *    12  u32 events    START, END and MESSAGE records in it
 *    16  i64 first_wall, 24 i64 last_wall: the earliest and latest wall time a reader
 *        computes for a START, END, MESSAGE or DROPPED record of the frame
 *        (INT64_MAX, INT64_MIN when it holds none)
 *    32  u64 open_off   file offset of the frame (its index frame) holding the START of
 *        the oldest action its writer had open when the frame ended: 0 if that START
 *        is in an earlier file, UINT64_MAX if none was open
 *    40  u64 end_ck_ts, 48 i64 end_ck_wall: the frame's closing CLOCK record
 * Old readers (and zstd) pass over it; a reader may use it to leave frames undecoded.
 */
#define PL_INDEX_FRAME_ID    0x184D2A5Fu
#define PL_INDEX_MAGIC	     "PLIX"
#define PL_INDEX_VERSION     1u
#define PL_INDEX_PAYLOAD     56u
#define PL_INDEX_FRAME_BYTES (8u + PL_INDEX_PAYLOAD)
enum pl_index_flags {
	PL_IX_HEADER = 1 << 0,	/* a HEADER record */
	PL_IX_NAME = 1 << 1,	/* NAME records */
	PL_IX_THREAD = 1 << 2,	/* THREAD records */
	PL_IX_DROPPED = 1 << 3, /* DROPPED records */
	PL_IX_STATS = 1 << 4,	/* a STATS record */
};

/* END outcomes (version 1 records: 0 and 1 only). */
enum { PL_OUT_SUCCEEDED = 0, PL_OUT_FAILED = 1, PL_OUT_CANCELLED = 2 };

/* Record kinds: the first element of every record array. */
enum pl_fmt_kind {
	PL_K_HEADER = 0, /* [0, {str: value}]  keys: PL_H_* below */
	PL_K_START = 1,	 /* [1, dts, type, task, level, fields?] */
	PL_K_END =
	    2, /* [2, dts, task, level, outcome, duration_ns, fields?, exc_type?, exc_msg?] */
	PL_K_MESSAGE = 3, /* [3, dts, type, task, level, fields?] */
	PL_K_THREAD = 4,  /* [4, thread, tid, name] */
	PL_K_DROPPED = 5, /* [5, count, reason]   inside the chunk of the thread that lost them */
	PL_K_STATS = 6,	  /* [6, {str: uint}]     writer counters, last record of a closed file */
	PL_K_NAME = 7,	  /* [7, number, str]     defines a name number for this file */
	PL_K_CHUNK = 8,	  /* [8, thread, base_ts] opens a thread chunk; base_ts in ns */
	PL_K_CLOCK = 9,	  /* [9, ts, wall_ns]     wall-clock checkpoint (Unix ns at ts) */
	PL_K_BLOCK = 10,  /* version 2: [10, thread, base_ts, count, kinds, dts, types, tasks,
			   * levels, durations, fields, excs] (PL_BLK_* below) */
	PL_K_MAX = 10,
};

/*
 * BLOCK (version 2): @count START, END and MESSAGE events of @thread, in the order the
 * thread recorded them, as columns: each of the eight is a msgpack bin. It opens a chunk
 * as CHUNK does (a DROPPED after it belongs to it and takes its last event's time), and
 * its deltas start afresh: timestamps from @base_ts, own task sequence numbers from 0.
 * Integers in the columns are LEB128 ("uv": unsigned, 7 bits a byte, low group first,
 * at most 10 bytes; "sv": zigzag-signed, then as uv).
 *   kinds   one byte per event: bits 0-1 the kind (PL_K_START, END, MESSAGE), bits 2-3
 *           the outcome of an END (0 succeeded, 1 failed, 2 cancelled; 0 for other
 *           kinds), bit 4 fields present, bit 5 remote task; bits 6-7 zero
 *   dts     uv per event: ns since the previous event (since base_ts for the first)
 *   types   uv per START and MESSAGE: the type's name number
 *   tasks   per event: sv, the own task's sequence delta; or for a remote task, u64le
 *           prefix then uv seq
 *   levels  per event: uv depth, then depth uv level entries (each < 2^32)
 *   durations uv per END: its duration_ns
 *   fields  per event with fields: uv byte length, then that many bytes holding exactly
 *           one msgpack map {uint name: value} as in version 1's records
 *   excs    per failed or cancelled END: uv length and the bytes of exc_type, then the
 *           same for exc_msg (UTF-8)
 * Every column is consumed exactly by its events; anything else is corrupt.
 */
#define PL_BLK_KIND_MASK     3u
#define PL_BLK_OUTCOME_SHIFT 2 /* 2 bits: 0 succeeded, 1 failed, 2 cancelled (END only) */
#define PL_BLK_OUTCOME_MASK  (3u << PL_BLK_OUTCOME_SHIFT)
#define PL_BLK_FIELDS	     (1u << 4)
#define PL_BLK_REMOTE	     (1u << 5)
#define PL_BLK_RESERVED	     0xc0u
#define PL_BLK_COLUMNS	     8u
#define PL_BLK_ELEMENTS	     (4u + PL_BLK_COLUMNS)

/*
 * Field encodings:
 *   dts     int: ns since the previous record of the chunk (the chunk's base_ts for
 *           the first); signed in the format, never negative from liblog's writer.
 *   ts      all timestamps are ns since the header's mono_ns anchor.
 *   type    uint: a name number (0 = the empty name).
 *   task    int: own-process task, the delta of its sequence number from the previous
 *           own task of the chunk (which starts at 0); or [prefix u64, seq u64] for a
 *           task continued from another process.
 *   level   [uint, ...]: the path in the task tree ([] for the root action).
 *   fields  {uint name: value}, value := nil|bool|int|float|str|bin|[scalar...]|{str: scalar}
 *   outcome uint: 0 succeeded, 1 failed (a BLOCK event may also say 2, cancelled).
 */

/* HEADER map keys. */
#define PL_H_FORMAT    "format"	      /* str "perflog" */
#define PL_H_VERSION   "version"      /* uint PL_FORMAT_VERSION */
#define PL_H_PID       "pid"	      /* int */
#define PL_H_HOST      "host"	      /* str */
#define PL_H_ARGV      "argv"	      /* [str, ...] */
#define PL_H_CLOCK     "clock"	      /* str "tsc" | "monotonic" */
#define PL_H_TICKS     "ticks_per_s"  /* float: calibrated TSC rate (0 for monotonic) */
#define PL_H_MONO      "mono_ns"      /* uint: CLOCK_MONOTONIC at ts 0 */
#define PL_H_WALL      "wall_ns"      /* int: CLOCK_REALTIME at ts 0 */
#define PL_H_PREFIX    "task_prefix"  /* uint: this process's task id prefix */
#define PL_H_LIBRARY   "library"      /* str "perflog x.y.z" */
#define PL_H_FILE_WALL "file_wall_ns" /* int: CLOCK_REALTIME when this file was opened */
#define PL_H_FILE_SEQ  "file_seq"     /* uint: the file's number among its writer's (rotation) */

/* DROPPED reasons. */
#define PL_DROP_FULL	  "full"
#define PL_DROP_OVERSIZE  "oversize"
#define PL_DROP_NO_BUFFER "no_buffer"
#define PL_DROP_WRITE	  "write_error"

#endif /* PL_FORMAT_H */
