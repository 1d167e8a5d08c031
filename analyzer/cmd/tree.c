/* SPDX-License-Identifier: MIT */
/* cmd/tree.c - `perfan tree`: whole task trees, eliot-tree style.
 *
 * Which tasks: with --slowest N, those of the N slowest selected actions (slowest first);
 * with --task ID alone, that task; otherwise every task holding a selected action (in the
 * order they start). A first pass over the traces picks them (skipped for --task alone);
 * a second one builds their trees from every START, END and message of those tasks, in
 * any file, thread or process. Actions whose START has no END when the input ends are
 * shown as unfinished. Memory: the trees printed (each node keeps at most PF_FIELDS_MAX
 * bytes of inputs and of outputs and PF_CALL_TEXT_MAX of exception text) and, in the first
 * pass, the set of task ids.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>

#include "analysis/call.h"
#include "analysis/tasktree.h"
#include "analysis/topn.h"
#include "core/fields.h"
#include "core/input.h"
#include "core/scan.h"
#include "fmt/jsonw.h"
#include "fmt/opts.h"
#include "fmt/table.h"
#include "fmt/text.h"
#include "fmt/units.h"
#include "perfan.h"
#include "util/grow.h"
#include "util/hash.h"

#define USAGE                                                                                      \
	"perfan tree [--task ID | --slowest N] [--depth N] [--children K] [FILTERS] [--json] "     \
	"TRACE..."
#define MAX_N 100000

/* The chosen tasks: an array in print order and an open-addressing index into it. */
struct tasks {
	struct pf_task_tree *t;
	size_t n, cap;
	uint32_t *slots; /* tree index + 1; 0 empty */
	size_t nslots;
};

struct state {
	struct pf_scan *sc;
	struct pf_topn top;
	struct tasks *tasks;
	bool all;
	bool oom;
};

static void help(void)
{
	printf("Usage: %s\n"
	       "\n"
	       "Whole task trees, eliot-tree style: every action with its status (succeeded,\n"
	       "failed, or unfinished: a START without END when the input ends, e.g. at a\n"
	       "crash), duration, start (the root's wall-clock time, children as +offset from\n"
	       "it), process and thread when they change, inputs, outputs and exception, and\n"
	       "the messages, in child order, across threads, processes and files.\n"
	       "\n"
	       "Which tasks: --slowest N: those of the N slowest actions passing the filters;\n"
	       "--task ID alone: that task (ID@/a/b: the subtree at /a/b); otherwise every task\n"
	       "holding an action that passes the filters. The trees printed are kept in memory.\n"
	       "\n"
	       "Big trees (a loop under one action) can be cut in the text output, not in\n"
	       "--json: --depth N shows N levels below each root and counts what is deeper;\n"
	       "--children K shows the K longest children of each action (in their order) and\n"
	       "sums up the others by type.\n"
	       "\n"
	       "      --slowest N     the tasks of the N slowest actions (at most %d)\n"
	       "      --depth N       levels shown below each root (default: all)\n"
	       "      --children K    children shown per action, the longest (default: all)\n"
	       "%s",
	       USAGE, MAX_N, PF_OPTS_HELP);
}

/* ---- the task set ---------------------------------------------------------------------- */

static struct pf_task_tree *tasks_find(const struct tasks *ts, uint64_t prefix, uint64_t seq)
{
	if (!ts->nslots)
		return NULL;
	for (size_t i = pf_hash_task(prefix, seq) & (ts->nslots - 1);;
	     i = (i + 1) & (ts->nslots - 1)) {
		if (!ts->slots[i])
			return NULL;
		struct pf_task_tree *t = &ts->t[ts->slots[i] - 1];
		if (t->prefix == prefix && t->seq == seq)
			return t;
	}
}

static void tasks_index(struct tasks *ts, size_t k)
{
	size_t i = pf_hash_task(ts->t[k].prefix, ts->t[k].seq) & (ts->nslots - 1);
	while (ts->slots[i])
		i = (i + 1) & (ts->nslots - 1);
	ts->slots[i] = (uint32_t)k + 1;
}

static int tasks_add(struct tasks *ts, uint64_t prefix, uint64_t seq)
{
	if (tasks_find(ts, prefix, seq))
		return 0;
	if (PF_GROW(ts->t, ts->cap, ts->n, 16) < 0)
		return -1;
	if (2 * (ts->n + 1) > ts->nslots) {
		size_t n = ts->nslots ? 2 * ts->nslots : 64;
		uint32_t *s = calloc(n, sizeof(*s));
		if (!s)
			return -1;
		free(ts->slots);
		ts->slots = s;
		ts->nslots = n;
		for (size_t k = 0; k < ts->n; k++)
			tasks_index(ts, k);
	}
	pf_task_tree_init(&ts->t[ts->n], prefix, seq, 0, PF_CALL_TEXT_MAX);
	tasks_index(ts, ts->n);
	ts->n++;
	return 0;
}

static void tasks_destroy(struct tasks *ts)
{
	for (size_t k = 0; k < ts->n; k++)
		pf_task_tree_destroy(&ts->t[k]);
	free(ts->t);
	free(ts->slots);
}

/* ---- rendering ------------------------------------------------------------------------- */

struct render {
	const struct pf_names *names;
	const struct pf_input *in;
	bool color;
	int64_t t0; /* the printed root's start */
	uint64_t prefix, seq;
	uint32_t level[PL_TASK_MAX_DEPTH + 1];
	uint32_t max_depth; /* --depth: levels shown below a root (0: all) */
	uint32_t base;	    /* depth of the tree's printed top nodes */
	uint32_t max_kids;  /* --children: children shown per node (0: all) */
};

static void put_level(FILE *f, const uint32_t *level, uint32_t depth)
{
	if (!depth)
		fputc('/', f);
	for (uint32_t i = 0; i < depth; i++)
		fprintf(f, "/%" PRIu32, level[i]);
}

static void put_where(const struct render *r, const struct pf_tnode *n, FILE *f)
{
	const char *name = pf_input_thread_name(r->in, n->src, n->thread);
	fprintf(f, "pid %" PRId64 " thread ", r->in->src[n->src].pid);
	if (name) {
		pf_text_put(f, name);
		fprintf(f, " (%" PRIu32 ")", n->thread);
	} else {
		fprintf(f, "%" PRIu32, n->thread);
	}
}

/* One line per field of a packed buffer, each behind @prefix and a branch. */
static void field_lines(FILE *f, const char *prefix, const uint8_t *p, size_t len, bool last,
			const char *mark)
{
	char *t = pf_fields_text(p, len);
	fprintf(f, "%s%s %s", prefix,
		last ? "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80"
		     : "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80",
		mark);
	pf_text_put(f, t ? t : "?");
	fputc('\n', f);
	free(t);
}

static int by_duration_desc(const void *a, const void *b)
{
	const struct pf_tnode *x = *(const struct pf_tnode *const *)a,
			      *y = *(const struct pf_tnode *const *)b;
	if (x->duration_ns != y->duration_ns)
		return x->duration_ns > y->duration_ns ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* With --children K: which of @n's children to show: the K longest (ties: the first),
 * printed in child order. Returns a malloc'ed flag per child, or NULL for all. */
static bool *kids_shown(const struct render *r, const struct pf_tnode *n)
{
	if (!r->max_kids || n->nkids <= r->max_kids)
		return NULL;
	const struct pf_tnode **v = malloc(n->nkids * sizeof(*v));
	bool *show = calloc(n->nkids, sizeof(*show));
	if (!v || !show) {
		free(v);
		free(show);
		return NULL; /* out of memory: show them all */
	}
	for (uint32_t i = 0; i < n->nkids; i++)
		v[i] = &n->kids[i];
	qsort(v, n->nkids, sizeof(*v), by_duration_desc);
	for (uint32_t i = 0; i < r->max_kids; i++)
		show[v[i] - n->kids] = true;
	free(v);
	return show;
}

struct hidden_type {
	uint32_t type;
	uint64_t count, ns;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct hidden_type *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->type < y->type ? -1 : x->type > y->type;
}

/* "… 640 more: 638 × spell.edits1 (1.2s), 2 × spell.known (30µs)": the children left out,
 * by type, the most frequent first (at most 3 types named). */
static void print_hidden(const struct render *r, const struct pf_tnode *n, const bool *show,
			 const char *sub, bool last, FILE *f)
{
	/* One entry per distinct type among the hidden (few: a loop calls one or two). */
	struct hidden_type *t = calloc(n->nkids, sizeof(*t));
	size_t nt = 0;
	uint64_t hidden = 0;
	for (uint32_t i = 0; i < n->nkids; i++) {
		const struct pf_tnode *k = &n->kids[i];
		if (show[i])
			continue;
		hidden++;
		if (!t)
			continue; /* out of memory: the count alone */
		size_t j = 0;
		while (j < nt && t[j].type != k->type)
			j++;
		if (j == nt)
			t[nt++].type = k->type;
		t[j].count++;
		t[j].ns += k->duration_ns;
	}
	qsort(t, nt, sizeof(*t), by_count_desc);
	fprintf(f, "%s%s \xe2\x80\xa6 %" PRIu64 " more:", sub,
		last ? "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80"
		     : "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80",
		hidden);
	uint64_t other = 0;
	for (size_t j = 0; j < nt; j++) {
		if (j >= 3) {
			other += t[j].count;
			continue;
		}
		char dur[PF_DURATION_MAX];
		pf_duration_format(t[j].ns, dur, sizeof(dur));
		fprintf(f, "%s %" PRIu64 " \xc3\x97 ", j ? "," : "", t[j].count);
		pf_text_put(f, t[j].type == PF_NAME_NONE ? "?" : pf_names_str(r->names, t[j].type));
		fprintf(f, " (%s)", dur);
	}
	if (other)
		fprintf(f, ", %" PRIu64 " of other types", other);
	fputs(" (--children)\n", f);
	free(t);
}

static void print_node(struct render *r, const struct pf_tnode *n, const struct pf_tnode *parent,
		       uint32_t depth, const char *prefix, bool last, FILE *f)
{
	char dur[PF_DURATION_MAX], off[PF_DURATION_MAX], wall[PF_WALL_MAX];
	fprintf(f, "%s%s ", prefix,
		last ? "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80"
		     : "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80");
	enum pf_style st = n->state == PF_T_FAILED    ? PF_RED
			   : n->state == PF_T_RUNNING ? PF_YELLOW
						      : PF_BOLD;
	fputs(pf_style_begin(n->state == PF_T_MESSAGE ? PF_PLAIN : PF_BOLD, r->color), f);
	pf_text_put(f, n->type == PF_NAME_NONE ? "?" : pf_names_str(r->names, n->type));
	fputs(pf_style_end(n->state == PF_T_MESSAGE ? PF_PLAIN : PF_BOLD, r->color), f);
	put_level(f, r->level, depth);
	if (n->state == PF_T_MESSAGE) {
		fputs(" (message)", f);
	} else {
		fprintf(f, " \xe2\x87\x92 %s%s%s", pf_style_begin(st, r->color),
			n->state == PF_T_MISSING ? "no START or END seen"
						 : pf_tstate_name(n->state),
			pf_style_end(st, r->color));
		if (n->state == PF_T_SUCCEEDED || n->state == PF_T_FAILED) {
			pf_duration_format(n->duration_ns, dur, sizeof(dur));
			fprintf(f, " %s", dur);
		}
		if (n->state != PF_T_MISSING && n->type == PF_NAME_NONE)
			fputs(" (START not seen)", f);
	}
	if (n->has_wall) {
		if (!parent) {
			pf_wall_format(n->wall, false, wall, sizeof(wall));
			fprintf(f, "  %s  ", wall);
			put_where(r, n, f);
		} else {
			int64_t d = n->wall - r->t0;
			pf_duration_format((uint64_t)(d < 0 ? -d : d), off, sizeof(off));
			fprintf(f, "  %s%s", d < 0 ? "-" : "+", off);
			if (!parent->has_wall || parent->src != n->src ||
			    parent->thread != n->thread) {
				fputs("  ", f);
				put_where(r, n, f);
			}
		}
	}
	fputc('\n', f);

	char sub[4 * PL_TASK_MAX_DEPTH * 4 + 16];
	snprintf(sub, sizeof(sub), "%s%s", prefix, last ? "    " : "\xe2\x94\x82   ");
	bool cut_depth = r->max_depth && depth - r->base >= r->max_depth && n->nkids;
	bool *show = cut_depth ? NULL : kids_shown(r, n);
	size_t kids = cut_depth ? 1 : show ? r->max_kids + 1 : n->nkids;
	size_t lines = kids + (n->inputs_len > 0) + (n->outputs_len > 0) + (n->exc_type != NULL);
	size_t k = 0;
	if (n->inputs_len)
		field_lines(f, sub, n->inputs, n->inputs_len, ++k == lines, "");
	if (cut_depth) {
		fprintf(f, "%s%s \xe2\x80\xa6 %" PRIu64 " descendant%s (--depth)\n", sub,
			++k == lines ? "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80"
				     : "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80",
			pf_tnode_descendants(n), pf_tnode_descendants(n) == 1 ? "" : "s");
	}
	for (uint32_t i = 0; !cut_depth && i < n->nkids && depth < PL_TASK_MAX_DEPTH; i++) {
		if (show && !show[i])
			continue;
		r->level[depth] = n->kids[i].idx;
		print_node(r, &n->kids[i], n, depth + 1, sub, ++k == lines, f);
	}
	if (show) {
		print_hidden(r, n, show, sub, ++k == lines, f);
		free(show);
	}
	if (n->exc_type) {
		fprintf(f, "%s%s exception: ", sub,
			++k == lines ? "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80"
				     : "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80");
		pf_text_put(f, n->exc_type);
		fputs(": ", f);
		pf_text_put(f, n->exc_msg);
		fputc('\n', f);
	}
	if (n->outputs_len)
		field_lines(f, sub, n->outputs, n->outputs_len, ++k == lines, "\xe2\x86\x92 ");
}

static void json_node(struct render *r, const struct pf_tnode *n, uint32_t depth, struct pf_json *j)
{
	char buf[PL_TASK_STR_MAX + 8], wall[PF_WALL_MAX];
	pf_json_object_begin(j);
	pf_json_key(j, "kind");
	pf_json_str(j, n->state == PF_T_MESSAGE ? "message" : "action");
	pf_json_key(j, "type");
	pf_json_str(j, n->type == PF_NAME_NONE ? NULL : pf_names_str(r->names, n->type));
	pf_json_key(j, "task");
	if (pl_task_format(r->prefix, r->seq, r->level, depth, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	pf_json_str(j, buf);
	pf_json_key(j, "level");
	pf_json_array_begin(j);
	for (uint32_t i = 0; i < depth; i++)
		pf_json_uint(j, r->level[i]);
	pf_json_array_end(j);
	if (n->state != PF_T_MESSAGE) {
		pf_json_key(j, "status");
		pf_json_str(j, pf_tstate_name(n->state));
		pf_json_key(j, "duration_ns");
		if (n->state == PF_T_SUCCEEDED || n->state == PF_T_FAILED)
			pf_json_uint(j, n->duration_ns);
		else
			pf_json_null(j);
	}
	pf_json_key(j, n->state == PF_T_MESSAGE ? "ts" : "start");
	if (n->has_wall) {
		pf_wall_format(n->wall, true, wall, sizeof(wall));
		pf_json_str(j, wall);
	} else {
		pf_json_null(j);
	}
	pf_json_key(j, n->state == PF_T_MESSAGE ? "ts_ns" : "start_ns");
	if (n->has_wall)
		pf_json_int(j, n->wall);
	else
		pf_json_null(j);
	if (n->has_wall) {
		const struct pf_source *s = &r->in->src[n->src];
		pf_json_key(j, "file");
		pf_json_str(j, s->path);
		pf_json_key(j, "pid");
		pf_json_int(j, s->pid);
		pf_json_key(j, "thread");
		pf_json_uint(j, n->thread);
		pf_json_key(j, "tid");
		pf_json_uint(j, n->tid);
		pf_json_key(j, "thread_name");
		pf_json_str(j, pf_input_thread_name(r->in, n->src, n->thread));
	}
	pf_json_key(j, n->state == PF_T_MESSAGE ? "fields" : "inputs");
	pf_fields_json(j, n->inputs, n->inputs_len);
	if (n->state != PF_T_MESSAGE) {
		pf_tnode_json_outcome(n, j);
		pf_json_key(j, "children");
		pf_json_array_begin(j);
		for (uint32_t i = 0; i < n->nkids && depth < PL_TASK_MAX_DEPTH; i++) {
			r->level[depth] = n->kids[i].idx;
			json_node(r, &n->kids[i], depth + 1, j);
		}
		pf_json_array_end(j);
	}
	pf_json_object_end(j);
}

/* The node of the --task subtree, or the task's virtual root; NULL if absent. */
static const struct pf_tnode *subtree(const struct pf_task_tree *t, const struct pf_opts *o,
				      struct render *r)
{
	const struct pf_tnode *n = &t->root;
	uint32_t depth = o->has_task ? o->task.depth : 0;
	for (uint32_t d = 0; d < depth && n; d++) {
		n = pf_tnode_find(n, o->task.level[d]);
		r->level[d] = o->task.level[d];
	}
	return n;
}

static int64_t first_wall(const struct pf_tnode *n)
{
	if (n->has_wall)
		return n->wall;
	for (uint32_t i = 0; i < n->nkids; i++)
		if (n->kids[i].has_wall)
			return n->kids[i].wall;
	return 0;
}

/* The header of a tree: the task id, with the level when a subtree is shown. */
static void tree_id(const struct pf_task_tree *t, const struct render *r, uint32_t depth, char *id,
		    size_t len)
{
	if (!depth || pl_task_format(t->prefix, t->seq, r->level, depth, id, len) < 0)
		snprintf(id, len, "%016" PRIx64 "-%" PRIx64, t->prefix, t->seq);
}

static void print_trees(const struct tasks *ts, const struct pf_opts *o, struct render *r, FILE *f)
{
	bool any = false;
	for (size_t k = 0; k < ts->n; k++) {
		const struct pf_task_tree *t = &ts->t[k];
		r->prefix = t->prefix;
		r->seq = t->seq;
		const struct pf_tnode *n = subtree(t, o, r);
		if (!n || (!n->nkids && n->state == PF_T_MISSING))
			continue;
		uint32_t depth = n == &t->root ? 0 : o->task.depth;
		if (any)
			fputc('\n', f);
		any = true;
		char id[PL_TASK_STR_MAX + 8];
		tree_id(t, r, depth, id, sizeof(id));
		fprintf(f, "%s\n", id);
		if (n->state != PF_T_MISSING) {
			r->t0 = first_wall(n);
			r->base = depth;
			print_node(r, n, NULL, depth, "", true, f);
			continue;
		}
		/* Only the children were seen (e.g. the root's START is in a missing file). */
		for (uint32_t i = 0; i < n->nkids; i++) {
			r->level[depth] = n->kids[i].idx;
			r->t0 = first_wall(&n->kids[i]);
			r->base = depth + 1;
			print_node(r, &n->kids[i], NULL, depth + 1, "", i + 1 == n->nkids, f);
		}
	}
	if (!any)
		fprintf(f, "(no task matched)\n");
}

static void json_trees(const struct pf_scan *sc, const struct tasks *ts, const struct pf_opts *o,
		       struct render *r)
{
	struct pf_json j;
	pf_json_init(&j, stdout, true);
	pf_json_object_begin(&j);
	pf_json_key(&j, "command");
	pf_json_str(&j, "tree");
	if (sc)
		pf_scan_json_summary(sc, &j);
	pf_json_key(&j, "tasks");
	pf_json_array_begin(&j);
	for (size_t k = 0; k < ts->n; k++) {
		const struct pf_task_tree *t = &ts->t[k];
		r->prefix = t->prefix;
		r->seq = t->seq;
		const struct pf_tnode *n = subtree(t, o, r);
		if (!n || (!n->nkids && n->state == PF_T_MISSING))
			continue;
		uint32_t depth = n == &t->root ? 0 : o->task.depth;
		char id[PL_TASK_STR_MAX + 8];
		tree_id(t, r, depth, id, sizeof(id));
		pf_json_object_begin(&j);
		pf_json_key(&j, "task");
		pf_json_str(&j, id);
		pf_json_key(&j, "roots");
		pf_json_array_begin(&j);
		if (n->state != PF_T_MISSING) {
			json_node(r, n, depth, &j);
		} else {
			for (uint32_t i = 0; i < n->nkids; i++) {
				r->level[depth] = n->kids[i].idx;
				json_node(r, &n->kids[i], depth + 1, &j);
			}
		}
		pf_json_array_end(&j);
		pf_json_object_end(&j);
	}
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	pf_json_finish(&j);
}

/* ---- the two passes -------------------------------------------------------------------- */

static void on_span(void *userdata, const struct pf_span *sp)
{
	struct state *st = userdata;
	if (st->all) {
		if (tasks_add(st->tasks, sp->prefix, sp->seq) < 0)
			st->oom = true;
	} else if (pf_topn_offer(&st->top, &st->sc->spans, sp) < 0) {
		st->oom = true;
	}
}

static int build(struct tasks *ts, char *const *paths, size_t npaths, struct pf_input *in,
		 struct pf_names *names, bool json)
{
	int ret = pf_input_open(in, paths, npaths, names, PF_INPUT_FIELDS);
	if (ret == -1) {
		if (json)
			pf_scan_json_nothing_read(in, "tree");
		return PF_EXIT_UNREADABLE;
	}
	if (ret < 0)
		return -1;
	const struct pf_event *ev;
	while ((ret = pf_input_next(in, &ev)) == 0) {
		struct pf_task_tree *t = tasks_find(ts, ev->prefix, ev->seq);
		if (t && pf_task_tree_event(t, ev) < 0)
			return -1;
	}
	if (ret < 0)
		return -1;
	for (size_t k = 0; k < ts->n; k++)
		pf_task_tree_sort(&ts->t[k]);
	return PF_EXIT_OK;
}

static int run(const struct pf_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    PF_OPTS_LONG,
	    {"slowest", required_argument, NULL, PF_OPT_FIRST_CMD},
	    {"depth", required_argument, NULL, PF_OPT_FIRST_CMD + 1},
	    {"children", required_argument, NULL, PF_OPT_FIRST_CMD + 2},
	    {0},
	};
	struct pf_opts o = {0};
	unsigned long n = 0, max_depth = 0, max_kids = 0;
	int c, ret = PF_EXIT_OK;
	while ((c = getopt_long(argc, argv, ":" PF_OPTS_SHORT, longopts, NULL)) != -1) {
		if ((ret = pf_opts_handle(&o, c, optarg, "tree", USAGE)) < 0)
			return -ret;
		if (ret > 0)
			continue;
		if (c < PF_OPT_FIRST_CMD || c > PF_OPT_FIRST_CMD + 2)
			return pf_opts_unknown(c, argv, "tree", USAGE);
		static const char *const names[] = {"--slowest", "--depth", "--children"};
		unsigned long *dst[] = {&n, &max_depth, &max_kids};
		const unsigned long max[] = {MAX_N, PL_TASK_MAX_DEPTH, 1000000};
		int k = c - PF_OPT_FIRST_CMD;
		uint64_t v;
		if (pf_opts_count("tree", USAGE, names[k], optarg, 1, max[k], &v))
			return PF_EXIT_USAGE;
		*dst[k] = v;
	}
	if (o.help) {
		help();
		return PF_EXIT_OK;
	}
	if (optind >= argc)
		return pf_usage_error("tree", USAGE, "no trace file given");
	ret = PF_EXIT_OK;
	char *const *paths = argv + optind;
	size_t npaths = (size_t)(argc - optind);

	struct tasks ts = {0};
	struct pf_scan sc;
	bool scanned = false;
	struct state st = {.sc = &sc, .tasks = &ts, .all = n == 0};
	struct pf_input in = {0};
	struct pf_names names;
	pf_names_init(&names);
	if (n && pf_topn_init(&st.top, n) < 0) {
		ret = PF_EXIT_UNREADABLE;
		st.oom = true;
		goto out;
	}
	if (o.has_task && !n && !o.type_glob && !o.has_since && !o.has_until && !o.failed_only &&
	    !o.min_ns) {
		/* The task alone: no need for a first pass. */
		if (tasks_add(&ts, o.task.prefix, o.task.seq) < 0) {
			st.oom = true;
			ret = PF_EXIT_UNREADABLE;
			goto out;
		}
	} else {
		scanned = true;
		ret = pf_scan_run_events(&sc, &o, paths, npaths, PF_SCAN_OPEN_LEVELS, on_span, NULL,
					 &st);
		/* Actions still running when their trace ended are found too (--type, --min,
		 * --slowest), by how long they had run: the tree of a hung request. */
		if (ret == PF_EXIT_OK)
			pf_scan_foreach_inflight(&sc, on_span, &st);
		if (ret == PF_EXIT_OK && st.oom)
			ret = PF_EXIT_UNREADABLE;
		if (ret != PF_EXIT_OK)
			goto out;
		if (n) {
			pf_topn_sort(&st.top);
			for (size_t i = 0; i < st.top.n; i++)
				if (tasks_add(&ts, st.top.heap[i]->prefix, st.top.heap[i]->seq) < 0)
					st.oom = true;
		}
		pf_global.quiet = true;
	}
	if (!st.oom)
		ret = build(&ts, paths, npaths, &in, &names, o.json);
	pf_global.quiet = false;
	if (ret < 0 || st.oom) {
		st.oom = true;
		ret = PF_EXIT_UNREADABLE;
	}
	if (ret != PF_EXIT_OK)
		goto out;
	struct render r = {.names = &names,
			   .in = &in,
			   .color = g->color,
			   .max_depth = (uint32_t)max_depth,
			   .max_kids = (uint32_t)max_kids};
	if (o.json) {
		json_trees(scanned ? &sc : NULL, &ts, &o, &r);
		goto out;
	}
	print_trees(&ts, &o, &r, stdout);
out:
	if (st.oom)
		pf_error("out of memory");
	if (scanned)
		pf_scan_destroy(&sc);
	if (n)
		pf_topn_destroy(&st.top);
	pf_input_close(&in);
	pf_names_destroy(&names);
	tasks_destroy(&ts);
	return ret;
}

const struct pf_cmd pf_cmd_tree = {
    .name = "tree",
    .summary = "whole task trees with durations, outcomes, fields and messages",
    .run = run,
};
