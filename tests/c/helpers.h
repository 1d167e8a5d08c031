/* SPDX-License-Identifier: MIT */
/* helpers.h - shared test helpers: temp dirs, writers with tweaked options, and reading a
 * whole trace back into owned, easily-asserted records. Public API only. */
#ifndef PL_TEST_HELPERS_H
#define PL_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include <perflog/perflog.h>

/* One record, copied out of the reader's borrowed view. */
struct th_rec {
	int kind; /* enum pl_record_kind */
	uint64_t ts_ns, duration_ns, count;
	int64_t wall_ns;
	uint32_t thread, tid;
	uint64_t prefix, seq;
	char task[PL_TASK_STR_MAX]; /* "<prefix>-<seq>@/a/b" as pl_task_format() writes it */
	char type[256];
	char fields[1024]; /* "name=value;..." rendered by th_render_fields() */
	int outcome;
	char exc_type[256], exc_msg[1024];
	char name[256]; /* THREAD name, DROPPED reason */
	uint64_t frame_offset;
};

struct th_trace {
	struct th_rec *recs;
	size_t n;
	int status; /* PL_END, or the negative error */
	uint64_t err_offset;
	char err_reason[256];
	struct pl_trace_header hdr; /* strings not kept: compare numbers only */
	char host[256];
};

/* A fresh directory under $TMPDIR or /tmp; th_rmdir() removes it and its files. */
char *th_tmpdir(void);
void th_rmdir(char *dir);
/* dir/name, malloc'ed. */
char *th_path(const char *dir, const char *name);

/* Open a writer on @path with defaults, after @tweak(opts) if not NULL. Fails the test
 * on error. */
struct pl_writer *th_open(const char *path, void (*tweak)(struct pl_writer_options *));

/* Read every record of @path. Returns the final status (PL_END or negative). */
int th_read_all(const char *path, struct th_trace *out);
void th_trace_free(struct th_trace *t);
/* Copy the reader's borrowed view @rec into @o. */
void th_rec_copy(struct th_rec *o, const struct pl_record *rec);

/* Render fields as "name=value;..." (ints in decimal, strings quoted, bytes as hex). */
void th_render_fields(const struct pl_kv *f, size_t n, char *buf, size_t len);

/* Count records of @kind (0: any) whose type equals @type (NULL: any). */
size_t th_count(const struct th_trace *t, int kind, const char *type);

/* Read a whole file into memory (malloc'ed); *len receives its size. */
uint8_t *th_slurp(const char *path, size_t *len);
/* Write @len bytes to @path (created 0600). */
void th_spit(const char *path, const uint8_t *buf, size_t len);

#endif /* PL_TEST_HELPERS_H */
