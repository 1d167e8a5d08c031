/* input.c - expand paths, one pl_reader per file, k-way merge by wall time (see input.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <perflog/status.h>

#include "batch.h"
#include "input.h"
#include "perfan.h"

/* ---- path expansion ----------------------------------------------------------------- */

struct pathlist {
	char **v;
	bool *from_dir;
	size_t n, cap;
};

static int pathlist_add(struct pathlist *l, const char *path, bool from_dir)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		bool *d = realloc(l->from_dir, cap * sizeof(*d));
		if (!d)
			return -1;
		l->from_dir = d;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(path)))
		return -1;
	l->from_dir[l->n++] = from_dir;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the regular files of directory @dir in name order. */
static int add_directory(struct pathlist *l, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		pf_error("%s: cannot open directory: %s", dir, strerror(errno));
		return 0;
	}
	size_t first = l->n;
	int ret = 0;
	struct dirent *e;
	while (ret == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) {
			ret = -1;
			break;
		}
		struct stat st;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			ret = pathlist_add(l, p, true);
		free(p);
	}
	closedir(d);
	qsort(l->v + first, l->n - first, sizeof(*l->v), cmp_str);
	return ret;
}

/* ---- the merge heap ----------------------------------------------------------------- */

static bool before(const struct pf_input *in, size_t a, size_t b)
{
	int64_t ta = in->src[a].cur.wall, tb = in->src[b].cur.wall;
	return ta < tb || (ta == tb && a < b);
}

static void sift_down(struct pf_input *in, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < in->nheap && before(in, in->heap[l], in->heap[m]))
			m = l;
		if (l + 1 < in->nheap && before(in, in->heap[l + 1], in->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		size_t t = in->heap[i];
		in->heap[i] = in->heap[m];
		in->heap[m] = t;
		i = m;
	}
}

static void sift_up(struct pf_input *in, size_t i)
{
	while (i > 0 && before(in, in->heap[i], in->heap[(i - 1) / 2])) {
		size_t p = (i - 1) / 2, t = in->heap[i];
		in->heap[i] = in->heap[p];
		in->heap[p] = t;
		i = p;
	}
}

/* ---- open / next / close ------------------------------------------------------------ */

/* Load source @i's next batch and view its first event. Returns 1, 0 (finished) or -2. */
static int refill(struct pf_input *in, size_t i)
{
	struct pf_source *s = &in->src[i];
	uint64_t before = s->records;
	int ret = pf_batch_load(s, in->names, in->keep_fields, false);
	in->records += s->records - before;
	if (ret > 0)
		pf_batch_view(s, (uint32_t)i);
	return ret;
}

static int open_one(struct pf_input *in, const char *path, bool from_dir)
{
	struct pf_source *s = &in->src[in->nsrc];
	struct stat st;
	memset(s, 0, sizeof(*s));
	if (stat(path, &st) == 0) {
		/* The same file twice would count every action twice: read it once. */
		for (size_t i = 0; i < in->nsrc; i++) {
			if (in->src[i].dev == st.st_dev && in->src[i].ino == st.st_ino) {
				pf_warn("%s: the same file as %s: read once", path,
					in->src[i].path);
				return 0;
			}
		}
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	int ret = pl_reader_open(path, &s->r);
	if (ret == -PL_ENOMEM) {
		pl_reader_close(s->r);
		s->r = NULL;
		return -2;
	}
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(s->r);
		if (from_dir && ret == -PL_EFORMAT)
			pf_warn("%s: skipped: %s", path, e->reason);
		else
			pf_error("%s: %s", path, e->reason);
		pl_reader_close(s->r);
		s->r = NULL;
		in->unreadable++;
		return 0;
	}
	const struct pl_trace_header *h = pl_reader_header(s->r);
	s->pid = h->pid;
	s->frame_off = 0; /* no frame seen yet */
	s->path = strdup(path);
	s->host = strdup(h->host);
	in->nsrc++;
	if (!s->path || !s->host)
		return -2;
	ret = refill(in, in->nsrc - 1);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		in->heap[in->nheap++] = in->nsrc - 1;
		sift_up(in, in->nheap - 1);
	}
	return 0;
}

int pf_input_open(struct pf_input *in, char *const *paths, size_t npaths, struct pf_names *names,
		  bool keep_fields)
{
	struct pathlist l = {0};
	int ret = 0;
	memset(in, 0, sizeof(*in));
	in->names = names;
	in->keep_fields = keep_fields;
	for (size_t i = 0; i < npaths && ret == 0; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			ret = add_directory(&l, paths[i]);
		else
			ret = pathlist_add(&l, paths[i], false);
	}
	if (ret == 0 && l.n > 0) {
		in->src = calloc(l.n, sizeof(*in->src));
		in->heap = calloc(l.n, sizeof(*in->heap));
		if (!in->src || !in->heap)
			ret = -2;
	}
	for (size_t i = 0; i < l.n && ret == 0; i++)
		ret = open_one(in, l.v[i], l.from_dir[i]);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	free(l.from_dir);
	if (ret < 0)
		return -2;
	if (in->nsrc == 0) {
		if (l.n == 0)
			pf_error("no trace file in the given director%s", npaths > 1 ? "ies" : "y");
		return -1;
	}
	return 0;
}

int pf_input_next(struct pf_input *in, const struct pf_event **ev)
{
	if (in->delivered) {
		/* The event handed out last is the heap top's: move that file on. */
		size_t i = in->heap[0];
		struct pf_source *s = &in->src[i];
		in->delivered = false;
		int ret = 1;
		if (++s->next < s->n)
			pf_batch_view(s, (uint32_t)i);
		else if ((ret = refill(in, i)) < 0)
			return -2;
		if (ret == 0)
			in->heap[0] = in->heap[--in->nheap];
		sift_down(in, 0);
	}
	if (in->nheap == 0)
		return 1;
	in->delivered = true;
	*ev = &in->src[in->heap[0]].cur;
	return 0;
}

int pf_input_extent(const struct pf_input *in, int64_t *first, int64_t *last)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < in->nsrc; i++) {
		struct pl_reader *r;
		struct pl_record rec;
		if (pl_reader_open(in->src[i].path, &r) == 0) {
			while (pl_reader_next(r, &rec) == 0) {
				if (rec.kind == PL_REC_THREAD || rec.kind == PL_REC_STATS)
					continue;
				if (rec.wall_ns < lo)
					lo = rec.wall_ns;
				if (rec.wall_ns > hi)
					hi = rec.wall_ns;
			}
		}
		pl_reader_close(r);
	}
	if (lo > hi)
		return -1;
	*first = lo;
	*last = hi;
	return 0;
}

const char *pf_input_thread_name(const struct pf_input *in, uint32_t src, uint32_t thread)
{
	const struct pf_source *s = &in->src[src];
	return thread < s->nthreads ? s->thread_names[thread] : NULL;
}

void pf_input_close(struct pf_input *in)
{
	for (size_t i = 0; i < in->nsrc; i++) {
		struct pf_source *s = &in->src[i];
		pl_reader_close(s->r);
		pf_batch_free(s);
		for (uint32_t t = 0; t < s->nthreads; t++)
			free(s->thread_names[t]);
		free(s->thread_names);
		free(s->path);
		free(s->host);
		free(s->err_reason);
	}
	free(in->src);
	free(in->heap);
	memset(in, 0, sizeof(*in));
}
