/* SPDX-License-Identifier: MIT */
/* config.h - compile-time tunables and limits, each with the reason for its value. */
#ifndef PL_CONFIG_H
#define PL_CONFIG_H

#include <stdint.h>

#include <perflog/name.h>

/* Writer defaults (runtime options override them; see struct pl_writer_options). */

/* 100 ms bounds what a crash loses while keeping frames large enough to compress well. */
#define PL_DEFAULT_FLUSH_MS 100u
/* A writer with nothing recorded and no action open ends a frame (its sign of life) only
 * every this many flush intervals: ~0.4 MB an hour of idle frames instead of ~3.5. */
#define PL_QUIET_INTERVALS 10u
/* 1 MiB per thread holds ~20k staged events (40-byte header, level, fields): ~0.6 ms
 * of the fastest possible loop, and the flusher is woken at half full, so a thread that
 * does nothing but record can outrun it (drops, or waits under PL_FULL_BLOCK); a thread
 * doing real work between events cannot. Raise buffer_size for bursts. */
#define PL_DEFAULT_RING_BYTES (1u << 20)
/* Smallest ring accepted: must hold several of the largest events. */
#define PL_MIN_RING_BYTES (256u << 10)
#define PL_MAX_RING_BYTES (1u << 30)
/* A cap on all rings so that thousands of threads cannot exhaust memory. */
#define PL_DEFAULT_MAX_MEMORY (256ull << 20)
/* Level 1 compresses staged msgpack ~5x at >400 MB/s on one core; higher levels cost
 * throughput the flusher needs at 20M events/s. */
#define PL_DEFAULT_ZSTD_LEVEL 1

/* One staged event can be at most this large (path + fields + exception text); larger
 * events are dropped and counted as "oversize". */
#define PL_MAX_EVENT_BYTES (64u << 10)
/* The flusher ends a frame once it holds this much msgpack: big enough for zstd to find
 * the repetition, small enough that the reader's frame buffer stays bounded. */
#define PL_FRAME_TARGET_BYTES (1u << 20)
/* Events at most in one frame. Format 2's columns fit up to ~200 K small events in 1 MiB,
 * and a reader sorts a frame's events together to merge its threads' runs (perfan's
 * batches hold 64 Ki events: a larger frame would be sorted in pieces). Measured: 6 %
 * larger files for bench_writer's 2-field events (1.04 instead of 0.98 B/event; 3 % for
 * gen_trace --bulk), no change in speed; 16 Ki would cost 32 %. */
#ifndef PL_FRAME_MAX_EVENTS
#define PL_FRAME_MAX_EVENTS 60000u
#endif
/* Task sequence numbers are taken from the shared counter in blocks, so that starting
 * a task is a thread-local increment, not an atomic on a shared cache line. */
#define PL_TASK_BLOCK 1024u
/* Exception texts are cut so that one failure cannot fill a ring. */
#define PL_MAX_EXC_TYPE	   1024u
#define PL_MAX_EXC_MSG	   4096u
#define PL_MAX_THREAD_NAME 63u
/* A ring wakes the flusher early once it is this fraction full (1/N). */
#define PL_WAKE_FRACTION 2u

/* Reader limits: nothing read from a file may drive allocation or work beyond these. */

/* Largest decompressed frame accepted: 16x the writer's frame target. */
#define PL_READ_MAX_FRAME (16u << 20)
/* Input is read in blocks of this size. */
#define PL_READ_BLOCK (128u << 10)
/* Most container elements in one record, all containers together: 2 * PL_READ_MAX_ITEMS,
 * a map entry counting twice (so PL_READ_MAX_ITEMS fields, or twice as many array items),
 * so that decoding one record uses at most a few MiB; and most nesting (record > fields >
 * value > shallow container, with room to spare). docs/format.md section 3. */
#define PL_READ_MAX_ITEMS   65536u
#define PL_READ_MAX_NESTING 5u
/* Most names one file may define, and their total bytes. */
#define PL_READ_MAX_NAMES      (1u << 20)
#define PL_READ_MAX_NAME_BYTES (64u << 20)
/* Most threads one file may describe (thread numbers above are refused). */
#define PL_READ_MAX_THREADS (1u << 20)

/* The writer's name table (perflog/name.h) within what a reader accepts of one file. */
_Static_assert(PL_NAMES_MAX <= PL_READ_MAX_NAMES && PL_NAMES_MAX_BYTES <= PL_READ_MAX_NAME_BYTES,
	       "every name the writer can intern must be readable");
_Static_assert(PL_MAX_EVENT_BYTES * 4 <= PL_MIN_RING_BYTES,
	       "a ring must hold several maximal events");
_Static_assert(PL_FRAME_TARGET_BYTES + 2 * PL_MAX_EVENT_BYTES < PL_READ_MAX_FRAME,
	       "every frame the writer makes must be accepted by the reader");
_Static_assert((PL_TASK_BLOCK & (PL_TASK_BLOCK - 1)) == 0, "task block is a power of two");

#endif /* PL_CONFIG_H */
