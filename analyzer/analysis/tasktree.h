/* SPDX-License-Identifier: MIT */
/* tasktree.h - the tree of one task, built from its START, END and MESSAGE events: what
 * `perfan tree` prints (cmd/tree.c) and `perfan report` draws as waterfalls (waterfall.c).
 *
 * A node per level path: the task's virtual root is level / (its children are the
 * task's top-level actions), and the node of level /a/b/c is child c of child b of child a
 * of the root. The events of one task come from any thread, process and file, merged by
 * wall-clock time, so a child can come before its parent: the parent's node then exists,
 * MISSING, until an event of its own comes (never, when it is in a file not given).
 * An action whose START was seen and no END when the input ends is RUNNING (unfinished);
 * one whose START was not seen starts at its END's time minus its duration.
 * A node keeps the inputs of its first START or message and the outputs and exception
 * of its first END (a record repeated in a damaged input changes only the rest).
 *
 * Memory: a node (~100 bytes) per level path seen and per MISSING ancestor of one, each
 * with at most PF_FIELDS_MAX bytes of inputs and of outputs (the events' packed fields)
 * and @text_max bytes of exception type and of message. With a @max_nodes cap, the events
 * of further level paths are only counted (@omitted), and no node is made for them.
 *
 * Not thread-safe: one tree is built and read by one thread.
 */
#ifndef PERFAN_TASKTREE_H
#define PERFAN_TASKTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/input.h"
#include "fmt/jsonw.h"

/* What a node is; the values index pf_tstate_name(). */
enum pf_tstate {
	PF_T_MISSING,	/* no event of its own: only an ancestor of nodes seen */
	PF_T_RUNNING,	/* START seen, END not (yet) */
	PF_T_SUCCEEDED, /* END seen, succeeded */
	PF_T_FAILED,	/* END seen, failed */
	PF_T_MESSAGE,	/* a message (no END: it has no duration) */
};

/** struct pf_tnode - one action or message of a task (or the virtual root). */
struct pf_tnode {
	uint32_t idx; /* last element of its level (0 for the root) */
	enum pf_tstate state;
	uint32_t type;		   /* PF_NAME_NONE when the START was not seen */
	uint32_t src, thread, tid; /* where it started (its END's, if only that was seen) */
	int64_t wall;		   /* START or message time; END time - duration if only the END */
	bool has_wall;		   /* false only when MISSING */
	uint64_t duration_ns;	   /* SUCCEEDED or FAILED; else 0 */
	uint8_t *inputs, *outputs; /* packed fields (START or message; END), owned; or NULL */
	size_t inputs_len, outputs_len;
	char *exc_type, *exc_msg; /* of a failed END that had them: owned, cut at text_max */
	struct pf_tnode *kids;	  /* in order of arrival; by @idx after pf_task_tree_sort() */
	uint32_t nkids, capkids;
};

/** struct pf_task_tree - one task's tree: its id, its nodes, and what its cap left out. */
struct pf_task_tree {
	uint64_t prefix, seq; /* the task id */
	struct pf_tnode root; /* level /: its children are the task's top-level actions */
	uint32_t max_nodes;   /* nodes seen kept at most (0: no limit) */
	size_t text_max;      /* bytes kept of an exception's type and of its message */
	uint32_t nodes;	      /* nodes seen (not MISSING), root included */
	uint64_t omitted;     /* level paths over @max_nodes: each counted once, by its START
			       * or message (an END alone is not counted) */
};

/**
 * pf_task_tree_init() - an empty tree of task @prefix-@seq in caller storage.
 * @max_nodes: at most this many nodes seen (0: no limit); the events of further level
 *             paths are counted in @omitted.
 * @text_max: bytes kept of an exception's type and of its message (strndup()'s cut).
 * Cannot fail; call pf_task_tree_destroy() when done.
 */
void pf_task_tree_init(struct pf_task_tree *t, uint64_t prefix, uint64_t seq, uint32_t max_nodes,
		       size_t text_max);

/**
 * pf_task_tree_event() - take @ev (a START, END or MESSAGE of @t's task) into its node,
 * making that node and its MISSING ancestors as needed. @ev's fields and exception text
 * are copied (the event is a view). Does not check that @ev is of @t's task.
 * Returns: 0 (also when @ev was only counted in @omitted), or -1 when out of memory;
 * the tree then holds what it held, maybe with new MISSING nodes, and can be destroyed.
 */
int pf_task_tree_event(struct pf_task_tree *t, const struct pf_event *ev);

/**
 * pf_task_tree_sort() - sort every node's children by @idx (child order), once all events
 * are in. Pointers to nodes are stale afterwards.
 */
void pf_task_tree_sort(struct pf_task_tree *t);

/**
 * pf_tnode_find() - @p's child with index @idx, or NULL. Linear, from the last child
 * (children mostly arrive in order).
 */
const struct pf_tnode *pf_tnode_find(const struct pf_tnode *p, uint32_t idx);

/** pf_tnode_descendants() - the nodes under @n, MISSING ones included. Recursive. */
uint64_t pf_tnode_descendants(const struct pf_tnode *n);

/**
 * pf_tnode_json_outcome() - @n's END as two members of the JSON object being written:
 * "outputs" (an object of the fields, {} when none) and "exception": {"type", "message"},
 * or null.
 */
void pf_tnode_json_outcome(const struct pf_tnode *n, struct pf_json *j);

/**
 * pf_tstate_name() - "missing", "unfinished", "succeeded", "failed" or "message": the
 * status the JSON outputs give (static strings).
 */
const char *pf_tstate_name(enum pf_tstate s);

/** pf_task_tree_destroy() - free @t's nodes (@t NULL: nothing); pf_task_tree_init() may follow. */
void pf_task_tree_destroy(struct pf_task_tree *t);

#endif /* PERFAN_TASKTREE_H */
