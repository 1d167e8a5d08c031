/* SPDX-License-Identifier: MIT */
/* waterfall.h - a few whole task trees, kept flat for `perfan report`'s waterfall chart.
 *
 * The tasks are chosen first (pf_waterfall_add(), from a first pass over the traces:
 * the tasks of the slowest actions); then every START, END and MESSAGE event of the
 * merged input is offered (pf_waterfall_event()) and those of the chosen tasks go into
 * their task's tree (tasktree.h: a node per action or message, across threads, processes
 * and files; unfinished actions, and ENDs whose START was not seen, as `perfan tree`).
 * When written, each tree is flattened into its rows: the nodes seen, depth first.
 *
 * Memory: at most PF_WATERFALL_MAX_NODES nodes seen per tree (later level paths of a
 * bigger task are only counted, in the tree's @omitted), plus their ancestors not seen,
 * each with at most PF_FIELDS_MAX bytes of inputs and of outputs and
 * PF_WATERFALL_TEXT_MAX bytes of exception text.
 *
 * Big trees (a loop under one action) are folded when written (folding.h): of each node's
 * children, the K longest are drawn and the others summed up in one row.
 */
#ifndef PERFAN_WATERFALL_H
#define PERFAN_WATERFALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/call.h"
#include "analysis/tasktree.h"
#include "core/input.h"
#include "core/names.h"
#include "fmt/jsonw.h"

#define PF_WATERFALL_MAX_NODES 1000
#define PF_WATERFALL_TEXT_MAX  256

/** struct pf_waterfall_node - a node seen of a tree, with its level path: a row (folding.c). */
struct pf_waterfall_node {
	const struct pf_tnode *node;
	const uint32_t *level; /* in the tree's @levels */
	uint32_t depth;
};

struct pf_waterfall_tree {
	struct pf_task_tree tree;
	uint32_t anchor[PF_CALL_PATH_MAX]; /* level of the action that chose the task */
	uint32_t anchor_depth;
	struct pf_waterfall_node *nodes; /* the nodes seen in depth-first order, once written */
	uint32_t n;			 /* entries of @nodes: tree.nodes, or 0 if out of memory */
	uint32_t *levels;		 /* the level paths of @nodes, back to back */
};

struct pf_waterfall {
	struct pf_waterfall_tree *t; /* in the order added */
	size_t n, cap;
	size_t *by_id; /* indexes of @t sorted by task id, for pf_waterfall_event() */
};

/** pf_waterfall_init() - no task yet. */
void pf_waterfall_init(struct pf_waterfall *w);

/**
 * pf_waterfall_add() - choose the task of @c, with @c as its anchor (the action drawn
 * highlighted); a task chosen already keeps its first anchor.
 * Returns: 0, or -1 when out of memory.
 */
int pf_waterfall_add(struct pf_waterfall *w, const struct pf_call *c);

/** pf_waterfall_ready() - call once every task is added. Returns: 0, or -1 (no memory). */
int pf_waterfall_ready(struct pf_waterfall *w);

/** pf_waterfall_event() - take @ev if it belongs to a chosen task. Returns: 0 or -1 (OOM). */
int pf_waterfall_event(struct pf_waterfall *w, const struct pf_event *ev);

/**
 * pf_waterfall_json() - the trees as a JSON array: per tree "task", "anchor" (level),
 * "nodes": the rows in depth-first order, "folded" and "omitted".
 *
 * A row is a node ("kind" "action" or "message", with "level", "type", "status",
 * "start_ns", "duration_ns", "inputs", "outputs", "exception", "pid", "thread",
 * "thread_name"), or, where a node has more than @max_kids children (0: no limit), the
 * summary of those left out (see folding.h), after the node's subtree: "kind" "more",
 * "parent" (the node's level), "count", "duration_ns" (their sum), "start_ns" and
 * "end_ns" (from the first one's start to the last one's end), "descendants" (the nodes
 * under them, not drawn either), "types" (at most PF_FOLD_TYPES, the most frequent
 * first: "type", "count", "duration_ns") and "other_count" (children of further types).
 * "folded" counts the nodes the summaries written stand for; "omitted" the nodes not shown
 * at all (over PF_WATERFALL_MAX_NODES, or over the budget).
 *
 * The rows written take at most about @budget bytes, even with every byte escaped as
 * \u003c: the budget is shared out fairly, each tree getting as much as it needs up to an
 * equal share of what the smaller ones left, and the rest of a tree that does not fit is
 * counted as omitted. @names and @in are those of the scan that fed the events.
 */
void pf_waterfall_json(struct pf_waterfall *w, const struct pf_names *names,
		       const struct pf_input *in, struct pf_json *j, uint64_t budget,
		       uint32_t max_kids);

/** pf_waterfall_destroy() - free everything. */
void pf_waterfall_destroy(struct pf_waterfall *w);

#endif /* PERFAN_WATERFALL_H */
