/* SPDX-License-Identifier: MIT */
/* otlp.c - actions as OTLP/JSON spans, batched per process (see otlp.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/action.h>
#include <perflog/perflog.h>
#include <perflog/tracecontext.h>

#include "core/fields.h"
#include "export/otlp.h"
#include "fmt/jsonw.h"
#include "util/grow.h"

#define SPAN_KIND 1 /* SPAN_KIND_INTERNAL: an action inside the program */
#define ERROR	  2 /* STATUS_CODE_ERROR */

/* A process: the resource of its spans, and the batch of them not yet written. */
struct resource {
	const char *host, *prog;
	int64_t pid;
	FILE *mem; /* the batch's spans, comma-separated (open_memstream), or NULL */
	char *buf;
	size_t size;
	uint32_t n;
};

/* A message held for the span of its action: what it takes to write it as an event, or as
 * a span of its own if that action never ends. */
struct msg {
	int64_t wall;
	uint32_t type, src, thread, tid, depth;
	uint32_t fields_len;
	uint8_t *fields;
	uint32_t level[]; /* @depth indexes, then the fields */
};

/* What is held for one span id until its span is written: messages, and for the root of a
 * task continued from a traceparent, the caller's trace id and span. */
struct held {
	uint64_t id; /* 0: an empty slot */
	uint64_t prefix, seq;
	struct msg **m;
	size_t n, cap;
	uint32_t dropped; /* past PF_OTLP_MAX_EVENTS */
	bool traced;
	struct pl_traceparent tp;
};

struct pf_otlp {
	FILE *out;
	const struct pf_input *in;
	const struct pf_names *names;
	const char *service;
	struct resource *res;
	size_t nres, capres;
	uint32_t *res_of; /* by source: resource index + 1, 0 not yet known */
	size_t nres_of;
	size_t buffered; /* spans in all batches */
	struct held *held;
	size_t cap_held, nheld;
	size_t ntraced; /* held entries with @traced */
};

/* ---- ids ------------------------------------------------------------------------------ */

uint64_t pf_otlp_span_id(uint64_t prefix, uint64_t seq, const uint32_t *level, uint32_t depth)
{
	return pl_span_id(prefix, seq, level, depth); /* what traceparents made live carry */
}

static void hex_key(struct pf_json *j, const char *key, uint64_t a, uint64_t b, bool two)
{
	const uint64_t w[2] = {a, b};
	pf_json_key(j, key);
	pf_json_hex(j, w, two ? 2 : 1);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static struct held *held_find(struct pf_otlp *o, uint64_t id, uint64_t prefix, uint64_t seq);

/* "traceId", "spanId" and "parentSpanId": for a task continuing a traceparent, the
 * caller's trace id, and its span as the root's parent; else the task id's, and none. */
static void trace_keys(struct pf_otlp *o, struct pf_json *j, uint64_t prefix, uint64_t seq,
		       const uint32_t *level, uint32_t depth, uint64_t span_id)
{
	const struct held *root =
	    o->ntraced ? held_find(o, pf_otlp_span_id(prefix, seq, NULL, 0), prefix, seq) : NULL;
	if (root && root->traced)
		hex_key(j, "traceId", be64(root->tp.trace_id), be64(root->tp.trace_id + 8), true);
	else
		hex_key(j, "traceId", prefix, seq, true);
	hex_key(j, "spanId", span_id, 0, false);
	if (depth)
		hex_key(j, "parentSpanId", pf_otlp_span_id(prefix, seq, level, depth - 1), 0,
			false);
	else if (root && root->traced)
		hex_key(j, "parentSpanId", be64(root->tp.parent_id), 0, false);
}

/* ---- JSON pieces ------------------------------------------------------------------------ */

static void time_key(struct pf_json *j, const char *key, int64_t wall)
{
	pf_json_key(j, key); /* fixed64: a decimal string in protobuf's JSON */
	pf_json_uint_str(j, wall > 0 ? (uint64_t)wall : 0);
}

static void kv_begin(struct pf_json *j, const char *key, const char *kind)
{
	pf_json_object_begin(j);
	pf_json_key(j, "key");
	pf_json_str(j, key);
	pf_json_key(j, "value");
	pf_json_object_begin(j);
	pf_json_key(j, kind);
}

static void kv_end(struct pf_json *j)
{
	pf_json_object_end(j);
	pf_json_object_end(j);
}

static void kv_str(struct pf_json *j, const char *key, const char *v)
{
	kv_begin(j, key, "stringValue");
	pf_json_str(j, v ? v : "");
	kv_end(j);
}

static void kv_int(struct pf_json *j, const char *key, int64_t v)
{
	kv_begin(j, key, "intValue");
	pf_json_int_str(j, v);
	kv_end(j);
}

static void kv_bool(struct pf_json *j, const char *key, bool v)
{
	kv_begin(j, key, "boolValue");
	pf_json_bool(j, v);
	kv_end(j);
}

/* task string, thread.id and thread.name: the attributes every span has. */
static void common_attrs(struct pf_otlp *o, struct pf_json *j, uint64_t prefix, uint64_t seq,
			 const uint32_t *level, uint32_t depth, uint32_t src, uint32_t thread,
			 uint32_t tid)
{
	char task[PL_TASK_STR_MAX];
	if (pl_task_format(prefix, seq, level, depth, task, sizeof(task)) < 0)
		snprintf(task, sizeof(task), "%016" PRIx64 "-%" PRIx64, prefix, seq);
	kv_str(j, "perflog.task", task);
	kv_int(j, "thread.id", tid ? (int64_t)tid : (int64_t)thread);
	const char *name = pf_input_thread_name(o->in, src, thread);
	if (name)
		kv_str(j, "thread.name", name);
}

/* ---- batches ---------------------------------------------------------------------------- */

static struct resource *resource_of(struct pf_otlp *o, uint32_t src)
{
	if (src >= o->nres_of) {
		size_t n = o->nres_of ? o->nres_of : 16;
		while (n <= src)
			n *= 2;
		uint32_t *r = realloc(o->res_of, n * sizeof(*r));
		if (!r)
			return NULL;
		memset(r + o->nres_of, 0, (n - o->nres_of) * sizeof(*r));
		o->res_of = r;
		o->nres_of = n;
	}
	if (o->res_of[src])
		return &o->res[o->res_of[src] - 1];
	/* Rotated files of one process are one resource. */
	const struct pf_source *s = &o->in->src[src];
	for (size_t i = 0; i < o->nres; i++)
		if (o->res[i].pid == s->pid && !strcmp(o->res[i].host, s->host)) {
			o->res_of[src] = (uint32_t)i + 1;
			return &o->res[i];
		}
	if (PF_GROW(o->res, o->capres, o->nres, 8) < 0)
		return NULL;
	o->res[o->nres] = (struct resource){.host = s->host, .prog = s->prog, .pid = s->pid};
	o->res_of[src] = (uint32_t)++o->nres;
	return &o->res[o->nres - 1];
}

/* Write @r's batch as one line: an ExportTraceServiceRequest. */
static int flush(struct pf_otlp *o, struct resource *r)
{
	if (!r->n)
		return 0;
	if (fclose(r->mem) != 0) {
		r->mem = NULL;
		return -1;
	}
	r->mem = NULL;
	struct pf_json j;
	pf_json_init(&j, o->out, false);
	fputs("{\"resourceSpans\":[{\"resource\":{\"attributes\":", o->out);
	pf_json_array_begin(&j);
	kv_str(&j, "service.name", o->service ? o->service : r->prog);
	kv_str(&j, "host.name", r->host);
	kv_int(&j, "process.pid", r->pid);
	pf_json_array_end(&j);
	fputs("},\"scopeSpans\":[{\"scope\":", o->out);
	pf_json_init(&j, o->out, false);
	pf_json_object_begin(&j);
	pf_json_key(&j, "name");
	pf_json_str(&j, "perflog");
	pf_json_key(&j, "version");
	pf_json_str(&j, pl_version_string());
	pf_json_object_end(&j);
	fputs(",\"spans\":[", o->out);
	fwrite(r->buf, 1, r->size, o->out);
	fputs("]}]}]}\n", o->out);
	free(r->buf);
	r->buf = NULL;
	r->size = 0;
	o->buffered -= r->n;
	r->n = 0;
	return 0;
}

/* A stream to write the next span of @src's batch into, or NULL when out of memory. */
static FILE *span_stream(struct pf_otlp *o, uint32_t src, struct resource **rp)
{
	struct resource *r = resource_of(o, src);
	if (!r)
		return NULL;
	if (!r->mem && !(r->mem = open_memstream(&r->buf, &r->size)))
		return NULL;
	if (r->n)
		fputc(',', r->mem);
	*rp = r;
	return r->mem;
}

static int span_written(struct pf_otlp *o, struct resource *r)
{
	r->n++;
	o->buffered++;
	int ret = 0;
	if (r->n >= PF_OTLP_BATCH)
		ret = flush(o, r);
	if (o->buffered >= PF_OTLP_MAX_BUFFERED)
		for (size_t i = 0; i < o->nres; i++)
			ret |= flush(o, &o->res[i]);
	return ret;
}

/* ---- held messages (open addressing, backward-shift deletion) --------------------------- */

static struct held *held_find(struct pf_otlp *o, uint64_t id, uint64_t prefix, uint64_t seq)
{
	if (!o->cap_held)
		return NULL;
	size_t mask = o->cap_held - 1;
	for (size_t i = id & mask; o->held[i].id; i = (i + 1) & mask)
		if (o->held[i].id == id && o->held[i].prefix == prefix && o->held[i].seq == seq)
			return &o->held[i];
	return NULL;
}

static struct held *held_add(struct pf_otlp *o, uint64_t id, uint64_t prefix, uint64_t seq)
{
	if (2 * (o->nheld + 1) > o->cap_held) {
		size_t cap = o->cap_held ? 2 * o->cap_held : 64;
		struct held *t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < o->cap_held; i++) {
			if (!o->held[i].id)
				continue;
			size_t k = o->held[i].id & (cap - 1);
			while (t[k].id)
				k = (k + 1) & (cap - 1);
			t[k] = o->held[i];
		}
		free(o->held);
		o->held = t;
		o->cap_held = cap;
	}
	size_t mask = o->cap_held - 1, i = id & mask;
	while (o->held[i].id)
		i = (i + 1) & mask;
	o->held[i] = (struct held){.id = id, .prefix = prefix, .seq = seq};
	o->nheld++;
	return &o->held[i];
}

static void held_free(struct pf_otlp *o, struct held *h)
{
	for (size_t k = 0; k < h->n; k++)
		free(h->m[k]);
	free(h->m);
	o->ntraced -= h->traced;
}

static void held_remove(struct pf_otlp *o, struct held *h)
{
	held_free(o, h);
	size_t mask = o->cap_held - 1, i = (size_t)(h - o->held), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!o->held[j].id)
			break;
		size_t home = o->held[j].id & mask;
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			o->held[i] = o->held[j];
			i = j;
		}
	}
	o->held[i].id = 0;
	o->nheld--;
}

/* ---- spans ------------------------------------------------------------------------------ */

static void event_json(struct pf_otlp *o, struct pf_json *j, const struct msg *m)
{
	pf_json_object_begin(j);
	time_key(j, "timeUnixNano", m->wall);
	pf_json_key(j, "name");
	pf_json_str(j, pf_names_str(o->names, m->type));
	pf_json_key(j, "attributes");
	pf_json_array_begin(j);
	pf_fields_otlp(j, m->fields, m->fields_len, "");
	pf_json_array_end(j);
	pf_json_object_end(j);
}

/* A message that has no span to be an event of: a span of no duration. */
static int message_span(struct pf_otlp *o, const struct msg *m, uint64_t prefix, uint64_t seq)
{
	struct resource *r;
	FILE *f = span_stream(o, m->src, &r);
	if (!f)
		return -1;
	struct pf_json j;
	pf_json_init(&j, f, false);
	pf_json_object_begin(&j);
	trace_keys(o, &j, prefix, seq, m->level, m->depth,
		   pf_otlp_span_id(prefix, seq, m->level, m->depth));
	pf_json_key(&j, "name");
	pf_json_str(&j, pf_names_str(o->names, m->type));
	pf_json_key(&j, "kind");
	pf_json_int(&j, SPAN_KIND);
	time_key(&j, "startTimeUnixNano", m->wall);
	time_key(&j, "endTimeUnixNano", m->wall);
	pf_json_key(&j, "attributes");
	pf_json_array_begin(&j);
	kv_bool(&j, "perflog.message", true);
	common_attrs(o, &j, prefix, seq, m->level, m->depth, m->src, m->thread, m->tid);
	pf_fields_otlp(&j, m->fields, m->fields_len, "perflog.field.");
	pf_json_array_end(&j);
	pf_json_object_end(&j);
	return span_written(o, r);
}

int pf_otlp_message(struct pf_otlp *o, const struct pf_event *ev)
{
	size_t flen = ev->fields ? ev->fields_len : 0;
	struct msg *m = malloc(sizeof(*m) + ev->depth * sizeof(uint32_t) + flen);
	if (!m)
		return -1;
	*m = (struct msg){.wall = ev->wall,
			  .type = ev->type,
			  .src = ev->src,
			  .thread = ev->thread,
			  .tid = ev->tid,
			  .depth = ev->depth,
			  .fields_len = (uint32_t)flen};
	memcpy(m->level, ev->level, ev->depth * sizeof(uint32_t));
	m->fields = (uint8_t *)(m->level + ev->depth);
	if (flen)
		memcpy(m->fields, ev->fields, flen);
	if (!ev->depth) { /* a task of its own */
		int ret = message_span(o, m, ev->prefix, ev->seq);
		free(m);
		return ret;
	}
	uint64_t id = pf_otlp_span_id(ev->prefix, ev->seq, ev->level, ev->depth - 1);
	struct held *h = held_find(o, id, ev->prefix, ev->seq);
	if (!h && !(h = held_add(o, id, ev->prefix, ev->seq))) {
		free(m);
		return -1;
	}
	if (h->n >= PF_OTLP_MAX_EVENTS) { /* the OpenTelemetry SDK's default limit */
		h->dropped++;
		free(m);
		return 0;
	}
	if (PF_GROW(h->m, h->cap, h->n, 4) < 0) {
		free(m);
		return -1;
	}
	h->m[h->n++] = m;
	return 0;
}

int pf_otlp_start(struct pf_otlp *o, const struct pf_event *ev)
{
	if (ev->depth || !ev->fields)
		return 0;
	struct pf_fields_iter it = {ev->fields, ev->fields_len, 0};
	struct pf_field f;
	struct pl_traceparent tp;
	const size_t klen = strlen(PL_TRACEPARENT_FIELD);
	while (pf_fields_next(&it, &f)) {
		if (f.kind != PF_FIELD_STR || f.key_len != klen ||
		    memcmp(f.key, PL_TRACEPARENT_FIELD, klen) != 0 ||
		    pl_traceparent_parse(f.s, f.s_len, &tp) < 0)
			continue;
		uint64_t id = pf_otlp_span_id(ev->prefix, ev->seq, NULL, 0);
		struct held *h = held_find(o, id, ev->prefix, ev->seq);
		if (!h && !(h = held_add(o, id, ev->prefix, ev->seq)))
			return -1;
		o->ntraced += !h->traced;
		h->traced = true;
		h->tp = tp;
		break;
	}
	return 0;
}

int pf_otlp_span(struct pf_otlp *o, const struct pf_span *sp)
{
	struct resource *r;
	FILE *f = span_stream(o, sp->src, &r);
	if (!f)
		return -1;
	uint64_t id = pf_otlp_span_id(sp->prefix, sp->seq, sp->level, sp->depth);
	int64_t end = sp->start_wall + (int64_t)sp->duration_ns;
	const char *exc = sp->end ? sp->end->exc_type : NULL;
	struct pf_json j;
	pf_json_init(&j, f, false);
	pf_json_object_begin(&j);
	trace_keys(o, &j, sp->prefix, sp->seq, sp->level, sp->depth, id);
	pf_json_key(&j, "name");
	pf_json_str(&j, pf_names_str(o->names, sp->type));
	pf_json_key(&j, "kind");
	pf_json_int(&j, SPAN_KIND);
	time_key(&j, "startTimeUnixNano", sp->start_wall);
	time_key(&j, "endTimeUnixNano", end);
	pf_json_key(&j, "attributes");
	pf_json_array_begin(&j);
	kv_str(&j, "code.function", pf_names_str(o->names, sp->type));
	common_attrs(o, &j, sp->prefix, sp->seq, sp->level, sp->depth, sp->src, sp->thread,
		     sp->tid);
	if (sp->running)
		kv_bool(&j, "perflog.unfinished", true);
	pf_fields_otlp(&j, sp->inputs, sp->inputs_len, "perflog.input.");
	if (sp->end)
		pf_fields_otlp(&j, sp->end->fields, sp->end->fields ? sp->end->fields_len : 0,
			       "perflog.output.");
	pf_json_array_end(&j);
	struct held *h = held_find(o, id, sp->prefix, sp->seq);
	if ((h && h->n) || exc) {
		pf_json_key(&j, "events");
		pf_json_array_begin(&j);
		for (size_t k = 0; h && k < h->n; k++)
			event_json(o, &j, h->m[k]);
		if (exc) { /* the semantic conventions' exception event */
			pf_json_object_begin(&j);
			time_key(&j, "timeUnixNano", end);
			pf_json_key(&j, "name");
			pf_json_str(&j, "exception");
			pf_json_key(&j, "attributes");
			pf_json_array_begin(&j);
			kv_str(&j, "exception.type", exc);
			kv_str(&j, "exception.message", sp->end->exc_msg);
			pf_json_array_end(&j);
			pf_json_object_end(&j);
		}
		pf_json_array_end(&j);
		if (h && h->dropped) {
			pf_json_key(&j, "droppedEventsCount");
			pf_json_uint(&j, h->dropped);
		}
	}
	if (sp->failed) {
		pf_json_key(&j, "status");
		pf_json_object_begin(&j);
		pf_json_key(&j, "code");
		pf_json_int(&j, ERROR);
		if (sp->end && sp->end->exc_msg) {
			pf_json_key(&j, "message");
			pf_json_str(&j, sp->end->exc_msg);
		}
		pf_json_object_end(&j);
	}
	pf_json_object_end(&j);
	if (h && h->traced && sp->running) {
		/* An unfinished root: its task's other unfinished spans come after it. */
		for (size_t k = 0; k < h->n; k++)
			free(h->m[k]);
		h->n = 0;
		h->dropped = 0;
	} else if (h) {
		held_remove(o, h);
	}
	return span_written(o, r);
}

int pf_otlp_finish(struct pf_otlp *o)
{
	int ret = 0;
	for (size_t i = 0; i < o->cap_held; i++) {
		struct held *h = &o->held[i];
		if (!h->id)
			continue;
		for (size_t k = 0; k < h->n; k++)
			ret |= message_span(o, h->m[k], h->prefix, h->seq);
	}
	for (size_t i = 0; i < o->cap_held; i++) {
		struct held *h = &o->held[i];
		if (!h->id)
			continue;
		held_free(o, h);
		h->id = 0;
	}
	o->nheld = 0;
	for (size_t i = 0; i < o->nres; i++)
		ret |= flush(o, &o->res[i]);
	return ret;
}

struct pf_otlp *pf_otlp_new(FILE *out, const struct pf_input *in, const struct pf_names *names,
			    const char *service)
{
	struct pf_otlp *o = calloc(1, sizeof(*o));
	if (o)
		*o = (struct pf_otlp){.out = out, .in = in, .names = names, .service = service};
	return o;
}

void pf_otlp_free(struct pf_otlp *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nres; i++) {
		if (o->res[i].mem)
			fclose(o->res[i].mem);
		free(o->res[i].buf);
	}
	for (size_t i = 0; i < o->cap_held; i++)
		if (o->held[i].id)
			held_free(o, &o->held[i]);
	free(o->held);
	free(o->res);
	free(o->res_of);
	free(o);
}
