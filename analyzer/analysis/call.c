/* SPDX-License-Identifier: MIT */
/* call.c - kept calls: copy from a span, rank, render (see call.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>

#include "analysis/call.h"
#include "core/fields.h"
#include "fmt/table.h"
#include "fmt/text.h"
#include "fmt/units.h"

static char *cut_dup(const char *s)
{
	return s ? strndup(s, PF_CALL_TEXT_MAX) : NULL;
}

static uint8_t *mem_dup(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

struct pf_call *pf_call_new(const struct pf_spans *spans, const struct pf_span *sp, uint64_t order)
{
	struct pf_call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*c = (struct pf_call){
	    .type = sp->type,
	    .duration_ns = sp->duration_ns,
	    .child_ns = sp->child_ns,
	    .self_ns = sp->self_ns,
	    .nchildren = sp->nchildren,
	    .start_wall = sp->start_wall,
	    .src = sp->src,
	    .thread = sp->thread,
	    .tid = sp->tid,
	    .prefix = sp->prefix,
	    .seq = sp->seq,
	    .depth = sp->depth,
	    .failed = sp->failed,
	    .running = sp->running,
	    .order = order,
	};
	if (sp->depth)
		memcpy(c->level, sp->level,
		       (sp->depth < PF_CALL_PATH_MAX ? sp->depth : PF_CALL_PATH_MAX) *
			   sizeof(uint32_t));
	c->npath = pf_spans_path(spans, sp, c->path, PF_CALL_PATH_MAX, &c->path_elided);
	bool ok = true;
	if (sp->end && sp->end->exc_type) {
		c->exc_type = cut_dup(sp->end->exc_type);
		c->exc_msg = cut_dup(sp->end->exc_msg ? sp->end->exc_msg : "");
		ok = c->exc_type && c->exc_msg;
	}
	if (ok && sp->inputs) {
		c->inputs = mem_dup(sp->inputs, sp->inputs_len);
		c->inputs_len = sp->inputs_len;
		ok = c->inputs;
	}
	if (ok && sp->end && sp->end->fields_len) {
		c->outputs = mem_dup(sp->end->fields, sp->end->fields_len);
		c->outputs_len = sp->end->fields_len;
		ok = c->outputs;
	}
	if (!ok) {
		pf_call_free(c);
		return NULL;
	}
	return c;
}

void pf_call_free(struct pf_call *c)
{
	if (!c)
		return;
	free(c->exc_type);
	free(c->exc_msg);
	free(c->inputs);
	free(c->outputs);
	free(c);
}

bool pf_call_worse(const struct pf_call *a, const struct pf_call *b)
{
	if (a->duration_ns != b->duration_ns)
		return a->duration_ns > b->duration_ns;
	if (a->start_wall != b->start_wall)
		return a->start_wall < b->start_wall;
	/* Then by task id and level, not by arrival: the order files are merged in (or
	 * summaries reduced in) must not change a ranking. */
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix;
	if (a->seq != b->seq)
		return a->seq < b->seq;
	uint32_t n = a->depth < b->depth ? a->depth : b->depth;
	n = n < PF_CALL_PATH_MAX ? n : PF_CALL_PATH_MAX;
	for (uint32_t i = 0; i < n; i++)
		if (a->level[i] != b->level[i])
			return a->level[i] < b->level[i];
	if (a->depth != b->depth)
		return a->depth < b->depth;
	return a->order < b->order;
}

struct pf_call *pf_call_dup(const struct pf_call *src)
{
	struct pf_call *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *src;
	c->exc_type = c->exc_msg = NULL;
	c->inputs = c->outputs = NULL;
	bool ok = true;
	if (src->exc_type) {
		c->exc_type = cut_dup(src->exc_type);
		c->exc_msg = cut_dup(src->exc_msg ? src->exc_msg : "");
		ok = c->exc_type && c->exc_msg;
	}
	if (ok && src->inputs) {
		ok = (c->inputs = mem_dup(src->inputs, src->inputs_len)) != NULL;
	}
	if (ok && src->outputs) {
		ok = (c->outputs = mem_dup(src->outputs, src->outputs_len)) != NULL;
	}
	if (!ok) {
		pf_call_free(c);
		return NULL;
	}
	return c;
}

/* ---- rendering ---------------------------------------------------------------------- */

static void task_string(const struct pf_call *c, char *buf, size_t len)
{
	uint32_t d = c->depth < PF_CALL_PATH_MAX ? c->depth : PF_CALL_PATH_MAX;
	int n = pl_task_format(c->prefix, c->seq, c->level, d, buf, len);
	if (n < 0)
		snprintf(buf, len, "%016" PRIx64 "-%" PRIx64, c->prefix, c->seq);
	else if (d < c->depth && (size_t)n + 5 < len)
		strcpy(buf + n, "/\xe2\x80\xa6");
}

static void put_thread(const struct pf_call_ctx *ctx, const struct pf_call *c, FILE *f)
{
	const char *name = pf_input_thread_name(ctx->in, c->src, c->thread);
	fprintf(f, "pid %" PRId64 ", thread ", ctx->in->src[c->src].pid);
	if (name) {
		pf_text_put(f, name);
		fprintf(f, " (%" PRIu32 ", tid %" PRIu32 ")", c->thread, c->tid);
	} else {
		fprintf(f, "%" PRIu32 " (tid %" PRIu32 ")", c->thread, c->tid);
	}
}

static void put_path(const struct pf_call_ctx *ctx, const struct pf_call *c, FILE *f)
{
	if (c->path_elided)
		fputs("\xe2\x80\xa6 > ", f);
	for (size_t i = 0; i < c->npath; i++) {
		pf_text_put(f, pf_names_str(ctx->names, c->path[i]));
		fputs(" > ", f);
	}
	pf_text_put(f, pf_names_str(ctx->names, c->type));
}

static void put_fields(FILE *f, const uint8_t *p, size_t len)
{
	char *t = pf_fields_text(p, len);
	pf_text_put(f, t ? t : "?");
	free(t);
}

void pf_call_print_block(const struct pf_call_ctx *ctx, const struct pf_call *c, size_t rank,
			 FILE *f)
{
	char dur[PF_DURATION_MAX], self[PF_DURATION_MAX], child[PF_DURATION_MAX];
	char wall[PF_WALL_MAX], task[PL_TASK_STR_MAX + 8];
	pf_duration_format(c->duration_ns, dur, sizeof(dur));
	pf_duration_format(c->self_ns, self, sizeof(self));
	pf_duration_format(c->child_ns, child, sizeof(child));
	pf_wall_format(c->start_wall, false, wall, sizeof(wall));
	task_string(c, task, sizeof(task));

	fprintf(f, "%zu. %s%s%s%s  ", rank, pf_style_begin(PF_BOLD, ctx->color),
		c->running ? "running \xe2\x89\xa5 " : "", dur, pf_style_end(PF_BOLD, ctx->color));
	pf_text_put(f, pf_names_str(ctx->names, c->type));
	if (c->running)
		fprintf(f, "  %sSTILL RUNNING%s at the end of its trace",
			pf_style_begin(PF_RED, ctx->color), pf_style_end(PF_RED, ctx->color));
	if (c->failed) {
		fprintf(f, "  %sFAILED%s", pf_style_begin(PF_RED, ctx->color),
			pf_style_end(PF_RED, ctx->color));
		if (c->exc_type) {
			fputs(" ", f);
			pf_text_put(f, c->exc_type);
			fputs(": ", f);
			pf_text_put(f, c->exc_msg);
		}
	}
	fprintf(f, "\n   start    %s  ", wall);
	put_thread(ctx, c, f);
	fprintf(f, "\n   task     %s\n   path     ", task);
	put_path(ctx, c, f);
	if (c->nchildren)
		fprintf(f, "\n   time     self %s + %" PRIu32 " child%s %s\n", self, c->nchildren,
			c->nchildren == 1 ? "" : "ren", child);
	else
		fprintf(f, "\n   time     self %s, no children\n", self);
	if (c->inputs_len) {
		fputs("   inputs   ", f);
		put_fields(f, c->inputs, c->inputs_len);
		fputc('\n', f);
	}
	if (c->outputs_len) {
		fputs("   outputs  ", f);
		put_fields(f, c->outputs, c->outputs_len);
		fputc('\n', f);
	}
	fputs("   file     ", f);
	pf_text_put(f, ctx->in->src[c->src].path);
	fputc('\n', f);
}

void pf_call_print_line(const struct pf_call_ctx *ctx, const struct pf_call *c, FILE *f)
{
	char dur[PF_DURATION_MAX], wall[PF_WALL_MAX];
	pf_duration_format(c->duration_ns, dur, sizeof(dur));
	pf_wall_format(c->start_wall, false, wall, sizeof(wall));
	fprintf(f, "  %8s  %s  ", dur, wall);
	put_thread(ctx, c, f);
	if (c->inputs_len) {
		fputs("  ", f);
		put_fields(f, c->inputs, c->inputs_len);
	}
	if (c->failed) {
		fprintf(f, "  %sFAILED%s", pf_style_begin(PF_RED, ctx->color),
			pf_style_end(PF_RED, ctx->color));
		if (c->exc_type) {
			fputs(" ", f);
			pf_text_put(f, c->exc_type);
		}
	}
	fputc('\n', f);
}

void pf_call_json(const struct pf_call_ctx *ctx, const struct pf_call *c, struct pf_json *j)
{
	char wall[PF_WALL_MAX], task[PL_TASK_STR_MAX + 8];
	pf_wall_format(c->start_wall, true, wall, sizeof(wall));
	task_string(c, task, sizeof(task));
	const struct pf_source *s = &ctx->in->src[c->src];
	pf_json_object_begin(j);
	pf_json_key(j, "type");
	pf_json_str(j, pf_names_str(ctx->names, c->type));
	pf_json_key(j, "duration_ns");
	pf_json_uint(j, c->duration_ns);
	pf_json_key(j, "start");
	pf_json_str(j, wall);
	pf_json_key(j, "start_ns");
	pf_json_int(j, c->start_wall);
	pf_json_key(j, "outcome");
	pf_json_str(j, c->running ? "running" : c->failed ? "failed" : "succeeded");
	pf_json_key(j, "running");
	pf_json_bool(j, c->running);
	pf_json_key(j, "exception");
	if (c->exc_type) {
		pf_json_object_begin(j);
		pf_json_key(j, "type");
		pf_json_str(j, c->exc_type);
		pf_json_key(j, "message");
		pf_json_str(j, c->exc_msg);
		pf_json_object_end(j);
	} else {
		pf_json_null(j);
	}
	pf_json_key(j, "task");
	pf_json_str(j, task);
	pf_json_key(j, "path");
	pf_json_array_begin(j);
	for (size_t i = 0; i < c->npath; i++) {
		if (c->path[i] == PF_NAME_NONE)
			pf_json_null(j);
		else
			pf_json_str(j, pf_names_str(ctx->names, c->path[i]));
	}
	pf_json_str(j, pf_names_str(ctx->names, c->type));
	pf_json_array_end(j);
	pf_json_key(j, "path_elided");
	pf_json_uint(j, c->path_elided);
	pf_json_key(j, "children");
	pf_json_uint(j, c->nchildren);
	pf_json_key(j, "children_ns");
	pf_json_uint(j, c->child_ns);
	pf_json_key(j, "self_ns");
	pf_json_uint(j, c->self_ns);
	pf_json_key(j, "inputs");
	if (c->inputs)
		pf_fields_json(j, c->inputs, c->inputs_len);
	else
		pf_json_null(j);
	pf_json_key(j, "outputs");
	pf_fields_json(j, c->outputs, c->outputs_len);
	pf_json_key(j, "file");
	pf_json_str(j, s->path);
	pf_json_key(j, "pid");
	pf_json_int(j, s->pid);
	pf_json_key(j, "host");
	pf_json_str(j, s->host);
	pf_json_key(j, "thread");
	pf_json_uint(j, c->thread);
	pf_json_key(j, "tid");
	pf_json_uint(j, c->tid);
	pf_json_key(j, "thread_name");
	pf_json_str(j, pf_input_thread_name(ctx->in, c->src, c->thread));
	pf_json_object_end(j);
}
