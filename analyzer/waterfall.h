/* waterfall.h - a few whole task trees, kept flat for `perfan report`'s waterfall chart.
 *
 * The tasks are chosen first (pf_waterfall_add(), from a first pass over the traces:
 * the tasks of the slowest actions); then every START, END and MESSAGE event of the
 * merged input is offered (pf_waterfall_event()) and those of the chosen tasks become
 * nodes: one per action or message, found again by its level path, across threads,
 * processes and files. An action whose START has no END when the input ends is
 * unfinished; one whose START was not seen starts at its END's time minus its duration.
 *
 * Memory: at most PF_WATERFALL_MAX_NODES nodes per tree (later events of a bigger task are
 * only counted, in @omitted), each with at most PF_FIELDS_MAX bytes of inputs and of
 * outputs and PF_WATERFALL_TEXT_MAX bytes of exception text.
 *
 * Big trees (a loop under one action) are folded when written (wfold.h): of each node's
 * children, the K longest are drawn and the others summed up in one row.
 */
#ifndef PERFAN_WATERFALL_H
#define PERFAN_WATERFALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "input.h"
#include "jsonw.h"
#include "names.h"

#define PF_WATERFALL_MAX_NODES 1000
#define PF_WATERFALL_TEXT_MAX  256

/* What a node is; an action whose END was seen is SUCCEEDED or FAILED, else RUNNING. */
enum pf_wstate { PF_W_RUNNING, PF_W_SUCCEEDED, PF_W_FAILED, PF_W_MESSAGE };

/* struct pf_wnode - one action or message of a chosen task (waterfall.c and wfold.c). */
struct pf_wnode {
	uint32_t *level;
	uint32_t depth;
	uint64_t hash; /* of the level path */
	enum pf_wstate state;
	bool has_start; /* START or message seen (else only the END) */
	uint32_t type;	/* PF_NAME_NONE when only the END was seen */
	uint32_t src, thread;
	int64_t wall;	      /* start (message: its time) */
	uint64_t duration_ns; /* when SUCCEEDED or FAILED; else 0 */
	uint8_t *inputs, *outputs;
	size_t inputs_len, outputs_len;
	char *exc_type, *exc_msg;
};

struct pf_wtree {
	uint64_t prefix, seq;
	uint32_t anchor[PF_CALL_PATH_MAX]; /* level of the action that chose the task */
	uint32_t anchor_depth;
	struct pf_wnode *nodes;
	uint32_t n, cap;
	uint32_t *slots; /* open addressing by level path: node index + 1, 0 empty */
	uint32_t nslots;
	uint64_t omitted; /* events of nodes past PF_WATERFALL_MAX_NODES */
};

struct pf_waterfall {
	struct pf_wtree *t; /* in the order added */
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
 * summary of those left out (see wfold.h), after the node's subtree: "kind" "more",
 * "parent" (the node's level), "count", "duration_ns" (their sum), "start_ns" and
 * "end_ns" (from the first one's start to the last one's end), "descendants" (the nodes
 * under them, not drawn either), "types" (at most PF_WFOLD_TYPES, the most frequent
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
