/* SPDX-License-Identifier: MIT */
/* helpers.c - see helpers.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

char *th_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;
	if (asprintf(&dir, "%s/perflog-test-XXXXXX", base && *base ? base : "/tmp") < 0)
		fail_msg("asprintf");
	if (!mkdtemp(dir))
		fail_msg("mkdtemp %s", dir);
	return dir;
}

void th_rmdir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *p = th_path(dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

char *th_path(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		fail_msg("asprintf");
	return p;
}

struct pl_writer *th_open(const char *path, void (*tweak)(struct pl_writer_options *))
{
	struct pl_writer_options o;
	struct pl_writer *w = NULL;
	pl_writer_options_init(&o);
	o.path = path;
	if (tweak)
		tweak(&o);
	int ret = pl_writer_open(&o, &w);
	if (ret < 0)
		fail_msg("pl_writer_open(%s): %s", path, pl_strerror(ret));
	return w;
}

static void app(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void app(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	if (*off >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

static void render_value(const pl_value *v, char *buf, size_t len, size_t *off)
{
	switch (v->type) {
	case PL_VALUE_NIL:
		app(buf, len, off, "nil");
		break;
	case PL_VALUE_BOOL:
		app(buf, len, off, v->v.b ? "true" : "false");
		break;
	case PL_VALUE_INT:
		app(buf, len, off, "%" PRId64, v->v.i);
		break;
	case PL_VALUE_UINT:
		app(buf, len, off, "%" PRIu64, v->v.u);
		break;
	case PL_VALUE_FLOAT:
		app(buf, len, off, "%.17g", v->v.f);
		break;
	case PL_VALUE_STR:
		app(buf, len, off, "\"%.*s\"", (int)v->v.str.len, v->v.str.ptr);
		break;
	case PL_VALUE_BYTES:
		app(buf, len, off, "0x");
		for (size_t i = 0; i < v->v.str.len; i++)
			app(buf, len, off, "%02x", (unsigned char)v->v.str.ptr[i]);
		break;
	case PL_VALUE_ARRAY:
		app(buf, len, off, "[");
		for (size_t i = 0; i < v->v.array.len; i++) {
			if (i)
				app(buf, len, off, ",");
			render_value(&v->v.array.items[i], buf, len, off);
		}
		app(buf, len, off, "]");
		break;
	case PL_VALUE_MAP:
		app(buf, len, off, "{");
		for (size_t i = 0; i < v->v.map.len; i++) {
			const struct pl_kv *kv = &v->v.map.items[i];
			app(buf, len, off, "%s%.*s:", i ? "," : "", (int)kv->key_len, kv->key);
			render_value(&kv->value, buf, len, off);
		}
		app(buf, len, off, "}");
		break;
	}
}

void th_render_fields(const struct pl_kv *f, size_t n, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		app(buf, len, &off, "%s%.*s=", i ? ";" : "", (int)f[i].key_len, f[i].key);
		render_value(&f[i].value, buf, len, &off);
	}
}

int th_read_all(const char *path, struct th_trace *t)
{
	struct pl_reader *r = NULL;
	struct pl_record rec = PL_RECORD_INIT;
	size_t cap = 0;
	memset(t, 0, sizeof(*t));
	int ret = pl_reader_open(path, &r);
	if (ret == 0) {
		t->hdr = *pl_reader_header(r);
		snprintf(t->host, sizeof(t->host), "%s", t->hdr.host);
		t->hdr.host = t->host;
		t->hdr.argv = NULL;
		t->hdr.clock = t->hdr.library = NULL;
		while ((ret = pl_reader_next(r, &rec)) == 0) {
			if (t->n == cap) {
				cap = cap ? cap * 2 : 64;
				t->recs = realloc(t->recs, cap * sizeof(*t->recs));
				assert_non_null(t->recs);
			}
			th_rec_copy(&t->recs[t->n++], &rec);
		}
	}
	t->status = ret;
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(r);
		t->err_offset = e->offset;
		snprintf(t->err_reason, sizeof(t->err_reason), "%s", e->reason);
	}
	pl_reader_close(r);
	return ret;
}

void th_rec_copy(struct th_rec *o, const struct pl_record *rec)
{
	memset(o, 0, sizeof(*o));
	o->kind = rec->kind;
	o->ts_ns = rec->ts_ns;
	o->wall_ns = rec->wall_ns;
	o->duration_ns = rec->duration_ns;
	o->count = rec->count;
	o->thread = rec->thread;
	o->tid = rec->tid;
	o->prefix = rec->task_prefix;
	o->seq = rec->task_seq;
	o->outcome = rec->outcome;
	o->frame_offset = rec->frame_offset;
	if (rec->kind == PL_REC_START || rec->kind == PL_REC_END || rec->kind == PL_REC_MESSAGE)
		pl_task_format(rec->task_prefix, rec->task_seq, rec->level, rec->depth, o->task,
			       sizeof(o->task));
	snprintf(o->type, sizeof(o->type), "%s", rec->type ? rec->type : "");
	th_render_fields(rec->fields, rec->nfields, o->fields, sizeof(o->fields));
	snprintf(o->exc_type, sizeof(o->exc_type), "%s", rec->exc_type ? rec->exc_type : "");
	snprintf(o->exc_msg, sizeof(o->exc_msg), "%s", rec->exc_msg ? rec->exc_msg : "");
	snprintf(o->name, sizeof(o->name), "%s", rec->name ? rec->name : "");
}

void th_trace_free(struct th_trace *t)
{
	free(t->recs);
	memset(t, 0, sizeof(*t));
}

size_t th_count(const struct th_trace *t, int kind, const char *type)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if ((!kind || t->recs[i].kind == kind) &&
		    (!type || strcmp(t->recs[i].type, type) == 0))
			n++;
	return n;
}

uint8_t *th_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

void th_spit(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}
