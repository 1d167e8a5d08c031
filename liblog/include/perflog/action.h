/* SPDX-License-Identifier: MIT */
/* perflog/action.h - recording actions and messages as eliot-style causal trees.
 *
 * A task is a tree of actions. It has a task id, unique across processes and hosts
 * without coordination: a random 64-bit process prefix plus a per-process sequence
 * number. Every action and message has a level: its path in the tree, a list of
 * 1-based child indexes ("/" is the root action, "/2/1" the first child of the root's
 * second child). "<prefix>-<seq>@<level>" is the task's string form, which another
 * process continues with pl_task_parse() and pl_action_begin_remote().
 *
 * None of these calls can fail at the caller: what cannot be recorded is counted in the
 * writer (pl_writer_stats()) and the count is written into the trace.
 */
#ifndef PERFLOG_ACTION_H
#define PERFLOG_ACTION_H

#include <stddef.h>
#include <stdint.h>

#include <perflog/name.h>
#include <perflog/value.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pl_writer;

/** Deepest level a task string can carry across processes. */
#define PL_TASK_MAX_DEPTH 64u
/** Deepest level recorded; events of deeper actions are dropped (counted as oversize). */
#define PL_LEVEL_MAX_DEPTH 1024u
/** Enough bytes for any task string written by pl_action_serialize(), NUL included. */
#define PL_TASK_STR_MAX (16 + 1 + 16 + 1 + PL_TASK_MAX_DEPTH * 11 + 1)

/**
 * struct pl_task_ref - a parsed task string: where a remote action continues a tree.
 * Fields are public values. Since: 0.1
 */
struct pl_task_ref {
	uint64_t prefix;		   /**< task id, first part (random per process) */
	uint64_t seq;			   /**< task id, second part (sequence) */
	uint32_t depth;			   /**< number of entries in @level */
	uint32_t level[PL_TASK_MAX_DEPTH]; /**< level of the action to start there */
};

/**
 * struct pl_action - one running action, in caller storage (stack, or an object that
 * outlives it). All fields are private to liblog: do not read or write them. An action
 * must stay at the same address from pl_action_begin*() to pl_action_end()/_fail(), and
 * a parent given to pl_action_begin() must outlive its child (the child's level is read
 * through it at begin and at end).
 */
typedef struct pl_action {
	struct pl_writer *priv_writer;
	struct pl_action *priv_parent;
	const uint32_t *priv_path;
	uint64_t priv_prefix;
	uint64_t priv_seq;
	uint64_t priv_start;
	uint32_t priv_index;
	uint32_t priv_depth;
	uint32_t priv_next_child;
	uint32_t priv_flags;
} pl_action;

/**
 * pl_action_begin() - start an action and record its start event with its inputs.
 * @a: caller storage for the action.
 * @w: the writer, or NULL: then nothing is recorded but @a still works as a parent.
 * @parent: the enclosing action, or NULL to start a new task.
 * @type: the action type (see PL_NAME()).
 * @fields: inputs to record, copied during the call; may be NULL if @nfields is 0.
 * @nfields: number of @fields.
 *
 * Thread-safe: children of one parent may begin concurrently in several threads.
 * Lock-free and system-call-free except under PL_FULL_BLOCK when the ring is full.
 * Since: 0.1
 */
void pl_action_begin(pl_action *a, struct pl_writer *w, pl_action *parent, pl_name type,
		     const struct pl_field *fields, size_t nfields);

/**
 * pl_action_begin_remote() - start an action that continues a task from another process.
 * @ref: the parsed task string; must stay valid until @a ends.
 * Otherwise as pl_action_begin(). Since: 0.1
 */
void pl_action_begin_remote(pl_action *a, struct pl_writer *w, const struct pl_task_ref *ref,
			    pl_name type, const struct pl_field *fields, size_t nfields);

/**
 * pl_action_begin_at() - start an action at an explicit place in a task tree.
 * @prefix, @seq: the task id (see pl_action_task()).
 * @level, @depth: the action's full level; the array must stay valid until @a ends.
 *
 * For bindings that keep actions in their own objects (the Python extension): an action
 * begun here does not refer to its parent, so the parent may go away first. Use
 * pl_action_level() and pl_action_next_child() on the parent to build @level, and
 * pl_task_new() for a new task. Otherwise as pl_action_begin(). Since: 0.1
 */
void pl_action_begin_at(pl_action *a, struct pl_writer *w, uint64_t prefix, uint64_t seq,
			const uint32_t *level, uint32_t depth, pl_name type,
			const struct pl_field *fields, size_t nfields);

/**
 * pl_action_next_child() - reserve the next child index of @a (1, 2, ...).
 * Thread-safe. Since: 0.1
 */
uint32_t pl_action_next_child(pl_action *a);

/**
 * pl_action_level() - copy @a's level into @out.
 * @max: capacity of @out; PL_LEVEL_MAX_DEPTH suffices for every action that is recorded
 *       (deeper ones record nothing).
 * Returns: the depth (number of entries), or -PL_EINVAL if it exceeds @max. Since: 0.1
 */
int pl_action_level(const pl_action *a, uint32_t *out, size_t max);

/**
 * pl_action_task() - @a's task id. Since: 0.1
 */
void pl_action_task(const pl_action *a, uint64_t *prefix, uint64_t *seq);

/**
 * pl_task_new() - a new task id of this process (what a root action gets). Since: 0.1
 */
void pl_task_new(uint64_t *prefix, uint64_t *seq);

/**
 * pl_action_end() - end @a successfully; records the end event with its duration.
 * @fields: outputs to record (e.g. the result), copied; may be NULL if @nfields is 0.
 * Ending an action twice records nothing the second time.
 *
 * Threads: the end may run on another thread than the begin (a coroutine resumed
 * elsewhere, a request handed to a worker; perflog's Python extension does this), once
 * the begin has returned and the action was handed over with a happens-before (a mutex,
 * a queue, a thread join) - never concurrently with another call on @a or with the begin
 * of one of its children. The END is recorded by the ending thread (its ring, its thread
 * number in the trace); the duration is measured across threads on the one clock.
 * Since: 0.1
 */
void pl_action_end(pl_action *a, const struct pl_field *fields, size_t nfields);

/**
 * pl_action_fail() - end @a as failed, with the exception's type and message.
 * @exc_type, @exc_type_len: e.g. "builtins.ValueError" (UTF-8, cut at 1 KiB).
 * @exc_msg, @exc_msg_len: the message (UTF-8, cut at 4 KiB); may be NULL.
 * Otherwise as pl_action_end(). Since: 0.1
 */
void pl_action_fail(pl_action *a, const char *exc_type, size_t exc_type_len, const char *exc_msg,
		    size_t exc_msg_len, const struct pl_field *fields, size_t nfields);

/**
 * pl_action_cancel() - end @a as cancelled: it did not fail, it was stopped (an asyncio
 * task cancelled, a request whose client went away), with what stopped it.
 * @exc_type, @exc_type_len: e.g. "asyncio.exceptions.CancelledError" (cut at 1 KiB).
 * @exc_msg, @exc_msg_len: the message (cut at 4 KiB); may be NULL.
 * Otherwise as pl_action_end(). Readers see the outcome PL_CANCELLED. Since: 0.2
 */
void pl_action_cancel(pl_action *a, const char *exc_type, size_t exc_type_len, const char *exc_msg,
		      size_t exc_msg_len, const struct pl_field *fields, size_t nfields);

/**
 * pl_message() - record a message inside @parent (or as a task of its own if NULL).
 * @w: the writer, or NULL (no-op). Otherwise as pl_action_begin(). Since: 0.1
 */
void pl_message(struct pl_writer *w, pl_action *parent, pl_name type, const struct pl_field *fields,
		size_t nfields);

/**
 * pl_action_serialize() - the string another process continues this task from.
 * @a: a begun action; a child slot of @a is reserved for the remote action.
 * @buf, @len: output; PL_TASK_STR_MAX bytes always suffice.
 *
 * Returns: the string length (without NUL), or -PL_EINVAL if @len is too small or @a
 * is nested deeper than PL_TASK_MAX_DEPTH - 1. Thread-safe. Since: 0.1
 */
int pl_action_serialize(pl_action *a, char *buf, size_t len);

/**
 * pl_task_parse() - parse a task string made by pl_action_serialize().
 * @s, @len: the string (not necessarily NUL-terminated).
 * @out: receives the task reference.
 * Returns: 0, or -PL_EINVAL if @s is malformed. Since: 0.1
 */
int pl_task_parse(const char *s, size_t len, struct pl_task_ref *out);

/**
 * pl_task_format() - write a task id and level as "<prefix>-<seq>@/a/b".
 * @level may be NULL when @depth is 0. Returns: length, or -PL_EINVAL if @len is too
 * small. Used by readers to print ids the way pl_action_serialize() does. Since: 0.1
 */
int pl_task_format(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth, char *buf,
		   size_t len);

/** Cleanup helper for PL_ACTION_SCOPE: ends the action if it is still running. */
void pl_action_end_scope(pl_action *a);

/**
 * PL_ACTION_SCOPE() - declare an action that ends (succeeded) when the scope exits.
 * @var: the pl_action variable to declare; @w, @parent, @type_lit: as pl_action_begin;
 * the variadic part is a list of struct pl_field (e.g. PL_F_INT("n", n)).
 * Call pl_action_fail(&var, ...) before leaving to record a failure instead.
 */
#define PL_ACTION_SCOPE(var, w, parent, type_lit, ...)                                             \
	pl_action var __attribute__((cleanup(pl_action_end_scope)));                               \
	do {                                                                                       \
		const struct pl_field pl_f_[] = {{0, PL_V_NIL()}, __VA_ARGS__};                    \
		pl_action_begin(&var, (w), (parent), PL_NAME(type_lit), pl_f_ + 1,                 \
				sizeof(pl_f_) / sizeof(pl_f_[0]) - 1);                             \
	} while (0)

#ifdef __cplusplus
}
#endif
#endif /* PERFLOG_ACTION_H */
