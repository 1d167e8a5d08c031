/* SPDX-License-Identifier: MIT */
/* input.c - expand paths, one pl_reader per file, k-way merge by wall time (see input.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <perflog/status.h>

#include "core/batch.h"
#include "core/input.h"
#include "core/pool.h"
#include "perfan.h"
#include "util/grow.h"

/* ---- path expansion ----------------------------------------------------------------- */

struct pathlist {
	char **v;
	bool *from_dir;
	size_t n, cap;
	struct pf_input *in; /* where inputs that cannot be read are noted */
};

/* Remember an input that could not be read (or was skipped) for --json. */
static void note_failed(struct pf_input *in, const char *path, const char *reason, bool skipped)
{
	if (!skipped) {
		in->unreadable++;
		pf_note_unreadable();
	} else {
		in->skipped++;
	}
	if (PF_GROW(in->failed, in->failed_cap, in->nfailed, 8) < 0)
		return; /* counted, not listed */
	struct pf_failed *f = &in->failed[in->nfailed];
	f->path = strdup(path);
	f->reason = strdup(reason);
	f->skipped = skipped;
	if (f->path && f->reason)
		in->nfailed++;
	else {
		free(f->path);
		free(f->reason);
	}
}

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

/* Add the regular files of directory @dir in name order; say what else is left out. */
static int add_directory(struct pathlist *l, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		pf_error("%s: cannot open directory: %s", dir, strerror(errno));
		note_failed(l->in, dir, strerror(errno), false);
		return 0;
	}
	size_t first = l->n;
	int ret = 0;
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--; /* "out/" + "app.zst": out/app.zst, not out//app.zst */
	struct dirent *e;
	while (ret == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p;
		if (asprintf(&p, "%.*s/%s", (int)len, dir, e->d_name) < 0) {
			ret = -1;
			break;
		}
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			pf_warn("%s: skipped: a directory (only the files of the directories given "
				"are read)",
				p);
			note_failed(l->in, p, "a directory", true);
		} else if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			ret = pathlist_add(l, p, true);
		}
		free(p);
	}
	closedir(d);
	qsort(l->v + first, l->n - first, sizeof(*l->v), cmp_str);
	return ret;
}

/* ---- the merge heap ----------------------------------------------------------------- */

static bool before(const struct pf_input *in, size_t a, size_t b)
{
	int64_t ta = in->src[a].ev.wall, tb = in->src[b].ev.wall;
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
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(in, in->heap[i], in->heap[parent]))
			return;
		size_t t = in->heap[i];
		in->heap[i] = in->heap[parent];
		in->heap[parent] = t;
		i = parent;
	}
}

/* ---- open files: at most open_budget ----------------------------------------------- */

unsigned pf_input_open_budget(void)
{
	static unsigned budget;
	if (budget)
		return budget;
	/* Thousands of rotated files are normal: take all the descriptors allowed. */
	struct rlimit rl;
	rlim_t soft = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			struct rlimit up = {rl.rlim_max, rl.rlim_max};
			if (setrlimit(RLIMIT_NOFILE, &up) == 0)
				rl.rlim_cur = rl.rlim_max;
		}
		soft = rl.rlim_cur;
	}
	/* Room for stdio, an output file, the decoding threads' transient opens. */
	rlim_t b = soft > 48 ? soft - 32 : 16;
	budget = b > 64 ? 64 : (unsigned)b;
	return budget;
}

/* The pool's job @i: fill source @i's other batch (see take()). Keeps the number of
 * readers holding a file open within the budget: a reader over it gives its file back
 * after the fill and reopens it for the next (pl_reader_suspend). */
static void fill_job(void *ctx, size_t i)
{
	struct pf_input *in = ctx;
	struct pf_source *s = &in->src[i];
	struct pf_producer *p = s->prod;
	if (!p->holding) {
		__atomic_add_fetch(&in->open_now, 1, __ATOMIC_RELAXED);
		p->holding = true;
	}
	pf_batch_fill(&s->b[s->cur ^ 1], p, &s->b[s->cur]);
	if (!p->r || (__atomic_load_n(&in->open_now, __ATOMIC_RELAXED) > in->open_budget &&
		      pl_reader_suspend(p->r) == 0)) {
		__atomic_sub_fetch(&in->open_now, 1, __ATOMIC_RELAXED);
		p->holding = false;
	}
}

/* ---- open / next / close ------------------------------------------------------------ */

/* Have source @i's other batch filled: by the pool, or now. */
static void request(struct pf_input *in, size_t i)
{
	if (in->pool)
		pf_pool_submit(in->pool, i);
	else
		fill_job(in, i);
}

static int apply_names(struct pf_input *in, struct pf_source *s, const struct pf_batch *b)
{
	if (b->names_to > s->map_len) {
		uint32_t *m = realloc(s->type_map, b->names_to * sizeof(*m));
		if (!m)
			return -2;
		s->type_map = m;
		s->map_len = b->names_to;
	}
	for (uint32_t id = b->names_from; id < b->names_to; id++)
		if ((s->type_map[id] = pf_names_intern(in->names, b->names[id - b->names_from])) ==
		    PF_NAME_NONE)
			return -2;
	return 0;
}

static void apply_thread(struct pf_source *s, struct pf_batch_thread *t)
{
	if (t->thread >= s->nthreads) {
		uint32_t n = s->nthreads ? s->nthreads : 8;
		while (n <= t->thread)
			n *= 2;
		char **names = realloc(s->thread_names, n * sizeof(*names));
		if (!names)
			return; /* a name is a nicety: go on without it */
		memset(names + s->nthreads, 0, (n - s->nthreads) * sizeof(*names));
		s->thread_names = names;
		s->nthreads = n;
	}
	free(s->thread_names[t->thread]);
	s->thread_names[t->thread] = t->name;
	t->name = NULL;
}

/* Take source @i's other batch once filled, apply what it says, ask for the next one and
 * view its first event. Returns 1, 0 (the file is finished) or -2 (out of memory). */
static int take(struct pf_input *in, size_t i)
{
	struct pf_source *s = &in->src[i];
	for (;;) {
		if (s->ended)
			return 0;
		if (in->pool)
			pf_pool_wait(in->pool, i);
		struct pf_batch *b = &s->b[s->cur ^ 1];
		if (b->oom || apply_names(in, s, b) < 0)
			return -2;
		s->cur ^= 1;
		s->next = 0;
		/* The last sign of life: an event, or a clock checkpoint of an idle writer. */
		int64_t last = pf_batch_last_wall(b);
		if (b->alive_wall > last)
			last = b->alive_wall;
		if (last > s->last_wall)
			s->last_wall = last;
		s->records += b->records;
		in->records += b->records;
		s->dropped += b->dropped;
		for (uint32_t t = 0; t < b->nthreads; t++)
			apply_thread(s, &b->threads[t]);
		if (b->end) {
			s->ended = true;
			s->status = b->status;
			s->frames_skipped = b->frames_skipped;
			if (b->index_problem)
				pf_warn("%s: %s: its frames from there on were all read", s->path,
					b->index_problem);
			if (b->status < 0) {
				s->err_offset = b->err_offset;
				s->err_reason = b->err_reason;
				b->err_reason = NULL;
				pf_warn("%s: offset %llu: %s (the %llu records before it were "
					"analyzed)",
					s->path, (unsigned long long)s->err_offset, s->err_reason,
					(unsigned long long)s->records);
			}
		} else {
			request(in, i);
		}
		if (b->n > 0) {
			pf_batch_view(b, 0, (uint32_t)i, s->type_map, &s->ev);
			return 1;
		}
	}
}

/* Free what source @s needed for reading once it has ended (its batches, its reader's
 * name table); what the output needs of it (path, host, thread names, status) stays. */
static void release(struct pf_source *s)
{
	if (s->prod) {
		pl_reader_close(s->prod->r);
		pf_names_destroy(&s->prod->local);
		free(s->prod->by_id);
		free(s->prod->run);
		free(s->prod->run_levels);
		free(s->prod);
		s->prod = NULL;
	}
	if (s->b) {
		pf_batch_free(&s->b[0]);
		pf_batch_free(&s->b[1]);
		free(s->b);
		s->b = NULL;
	}
	free(s->type_map);
	s->type_map = NULL;
	s->map_len = 0;
}

/* Whether the first bytes of @path are those of a trace (docs/format.md: the magic frame
 * starts 5E 2A 4D 18), as far as there are any: a 2-byte notes file in a directory is no
 * trace to skip quietly, a cut trace is damage. */
static bool starts_like_trace(const char *path)
{
	static const unsigned char magic[4] = {0x5E, 0x2A, 0x4D, 0x18};
	unsigned char head[4];
	FILE *f = fopen(path, "rb");
	if (!f)
		return true; /* cannot tell: not skipped */
	size_t n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return n > 0 && memcmp(head, magic, n) == 0;
}

/* "-": standard input, copied once into an unlinked in-memory file that stays open, so
 * that it can be read as often as a subcommand needs (inputs, tree and report read
 * twice) and suspended like any file. Returns its path (/proc/self/fd/N), or NULL. */
static const char *stdin_path(void)
{
	static char path[64];
	static int state; /* 0 not yet, 1 ready, -1 failed */
	if (state)
		return state > 0 ? path : NULL;
	state = -1;
	int fd = memfd_create("perfan-stdin", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				close(fd);
				return NULL;
			}
			off += w;
		}
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd); /* kept open: the process's */
	state = 1;
	return path;
}

/* Check that @path is a trace and note what its header says; the file is read later
 * (activate_due()). Returns 0, or -2 when out of memory. */
static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s && s[1] ? s + 1 : p;
}

/* What a process is called in perfan's output: its program's base name and, for a Python
 * interpreter, the script or module it runs (all Python services are "python3"). */
static char *program(const char *const *argv, size_t argc)
{
	if (!argc || !argv[0] || !argv[0][0])
		return strdup("?");
	const char *prog = base_name(argv[0]), *run = NULL, *how = "";
	if (!strncmp(prog, "python", 6) && argc > 1 && argv[1]) {
		if (!strcmp(argv[1], "-m") && argc > 2 && argv[2])
			how = "-m ", run = argv[2];
		else if (argv[1][0] != '-')
			run = base_name(argv[1]);
	}
	char *s = NULL;
	if (asprintf(&s, "%s%s%s%s", prog, run ? " " : "", how, run ? run : "") < 0)
		return NULL;
	char *cut = pf_name_dup(s); /* a hostile header's argv is cut as names are */
	free(s);
	return cut;
}

static int open_one(struct pf_input *in, const char *path, bool from_dir)
{
	struct pf_source *s = &in->src[in->nsrc];
	struct stat st;
	memset(s, 0, sizeof(*s));
	const char *file = path;
	if (!strcmp(path, "-") && !(file = stdin_path())) {
		pf_error("-: cannot read standard input: %s", strerror(errno));
		note_failed(in, path, "cannot read standard input", false);
		return 0;
	}
	if (stat(file, &st) == 0) {
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
	struct pl_reader *r;
	int ret = pl_reader_open(file, &r);
	if (ret == -PL_ENOMEM) {
		pl_reader_close(r);
		return -2;
	}
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(r);
		if (from_dir &&
		    (ret == -PL_EFORMAT || (ret == -PL_ETRUNCATED && !starts_like_trace(path)))) {
			const char *why =
			    ret == -PL_EFORMAT ? e->reason : "not a perflog trace (too short)";
			pf_warn("%s: skipped: %s", path, why);
			note_failed(in, path, why, true);
		} else {
			/* Damage before the header was read: where, as for later damage; not
			 * for a file that cannot be opened or is no trace at all. */
			if (ret == -PL_ECORRUPT || ret == -PL_ELIMIT ||
			    (ret == -PL_ETRUNCATED && e->offset > 0))
				pf_error("%s: offset %llu: %s", path, (unsigned long long)e->offset,
					 e->reason);
			else
				pf_error("%s: %s", path, e->reason);
			note_failed(in, path, e->reason, false);
		}
		pl_reader_close(r);
		return 0;
	}
	const struct pl_trace_header *h = pl_reader_header(r);
	if (h->argc >= 1 && !strcmp(h->argv[0], PF_SUMMARY_ARGV0)) {
		pl_reader_close(r); /* a summary: summary/sumfile.h reads it */
		if (PF_GROW(in->summaries, in->summaries_cap, in->nsummaries, 4) < 0 ||
		    !(in->summaries[in->nsummaries] = strdup(path)))
			return -2;
		in->nsummaries++;
		memset(s, 0, sizeof(*s));
		return 0;
	}
	s->pid = h->pid;
	s->last_wall = INT64_MIN;
	/* A rotated file starts when it was opened, not when its process did. */
	int64_t opened = h->file_wall_ns > h->wall_anchor_ns ? h->file_wall_ns : h->wall_anchor_ns;
	s->start = opened > INT64_MIN + 1000000000 ? opened - 1000000000 : INT64_MIN;
	s->path = strdup(path);
	s->open_path = file != path ? strdup(file) : NULL;
	s->host = pf_name_dup(h->host);
	s->prog = program(h->argv, h->argc);
	pl_reader_close(r);
	s->prod = calloc(1, sizeof(*s->prod));
	if ((s->b = aligned_alloc(_Alignof(struct pf_batch), 2 * sizeof(*s->b))))
		memset(s->b, 0, 2 * sizeof(*s->b));
	in->nsrc++;
	if (!s->path || !s->host || !s->prog || !s->prod || !s->b ||
	    (file != path && !s->open_path) || pf_source_process(s) < 0)
		return -2;
	s->prod->path = s->open_path ? s->open_path : s->path;
	s->prod->keep_fields = in->keep_fields;
	s->prod->keep_end = in->keep_end;
	s->prod->meta = in->meta;
	pf_names_init(&s->prod->local);
	return 0;
}

static int cmp_start(const void *a, const void *b, void *ctx)
{
	const struct pf_input *in = ctx;
	const struct pf_source *x = &in->src[*(const size_t *)a];
	const struct pf_source *y = &in->src[*(const size_t *)b];
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Start reading the files whose start time the merge has reached: no event of theirs
 * can come before the next one delivered. Returns 0, or -2 when out of memory. */
static int activate_due(struct pf_input *in)
{
	while (in->next_waiting < in->nwaiting) {
		size_t from = in->next_waiting, to = from;
		int64_t now =
		    in->nheap ? in->src[in->heap[0]].ev.wall : in->src[in->waiting[from]].start;
		while (to < in->nwaiting && in->src[in->waiting[to]].start <= now)
			to++;
		if (to == from)
			return 0;
		/* Filled together (in parallel with a pool), then each joins the merge. */
		for (size_t k = from; k < to; k++)
			request(in, in->waiting[k]);
		in->next_waiting = to;
		for (size_t k = from; k < to; k++) {
			size_t i = in->waiting[k];
			int got = take(in, i);
			if (got < 0)
				return -2;
			if (got == 0) {
				release(&in->src[i]);
				continue;
			}
			in->heap[in->nheap++] = i;
			sift_up(in, in->nheap - 1);
		}
	}
	return 0;
}

int pf_input_open(struct pf_input *in, char *const *paths, size_t npaths, struct pf_names *names,
		  unsigned flags)
{
	struct pathlist l = {.in = in};
	int ret = 0;
	memset(in, 0, sizeof(*in));
	in->names = names;
	in->keep_fields = flags & PF_INPUT_FIELDS;
	in->keep_end = flags & PF_INPUT_END_DATA;
	in->meta = flags & PF_INPUT_META;
	in->open_budget = pf_input_open_budget();
	in->run = malloc(PF_INPUT_RUN * sizeof(*in->run)); /* none: views one by one */
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
		in->waiting = calloc(l.n, sizeof(*in->waiting));
		if (!in->src || !in->heap || !in->waiting)
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
	if (in->nsrc == 0 && in->nsummaries == 0) {
		if (l.n == 0)
			pf_error("no trace file in the given director%s", npaths > 1 ? "ies" : "y");
		return -1;
	}
	for (size_t i = 0; i < in->nsrc; i++)
		in->waiting[i] = i;
	in->nwaiting = in->nsrc;
	qsort_r(in->waiting, in->nwaiting, sizeof(*in->waiting), cmp_start, in);
	in->pool =
	    pf_pool_start(pf_pool_auto_threads(pf_global.jobs, in->nsrc), in->nsrc, fill_job, in);
	return 0; /* reading starts with the first pf_input_next(): after pf_input_set_window() */
}

int pf_input_next_slow(struct pf_input *in, const struct pf_event **ev)
{
	if (!in->started) {
		in->started = true;
		if (activate_due(in) < 0)
			return -2;
	}
	if (in->delivered) {
		/* The event handed out last is the heap top's: move that file on. */
		size_t i = in->heap[0];
		struct pf_source *s = &in->src[i];
		in->delivered = false;
		int ret = 1;
		const struct pf_batch *b = &s->b[s->cur];
		if (++s->next < b->n) {
			/* One file being read and none to start: it stays the heap's top, and
			 * the views of its batch's next events are made at once. */
			if (in->nheap == 1 && in->next_waiting == in->nwaiting && in->run) {
				uint32_t k = b->n - s->next;
				k = k < PF_INPUT_RUN ? k : PF_INPUT_RUN;
				for (uint32_t j = 0; j < k; j++)
					pf_batch_view(b, s->next + j, (uint32_t)i, s->type_map,
						      &in->run[j]);
				s->next += k - 1; /* the last one made is the one delivered */
				in->run_i = 1;
				in->run_n = k;
				in->delivered = true;
				*ev = &in->run[0];
				return 0;
			}
			pf_batch_view(b, s->next, (uint32_t)i, s->type_map, &s->ev);
		} else if ((ret = take(in, i)) < 0)
			return -2;
		if (ret == 0) {
			release(s);
			in->heap[0] = in->heap[--in->nheap];
		}
		sift_down(in, 0);
	}
	if (in->next_waiting < in->nwaiting &&
	    (in->nheap == 0 ||
	     in->src[in->waiting[in->next_waiting]].start <= in->src[in->heap[0]].ev.wall) &&
	    activate_due(in) < 0)
		return -2;
	if (in->nheap == 0)
		return 1;
	in->delivered = true;
	*ev = &in->src[in->heap[0]].ev;
	return 0;
}

void pf_input_set_window(struct pf_input *in, int64_t since, int64_t until)
{
	const char *off = getenv("PERFAN_NO_INDEX");
	if ((off && *off && strcmp(off, "0") != 0) || since >= until ||
	    (since == INT64_MIN && until == INT64_MAX))
		return;
	for (size_t i = 0; i < in->nsrc; i++) {
		struct pf_producer *p = in->src[i].prod;
		if (p && !p->opened) {
			p->window = true;
			p->since = since;
			p->until = until;
		}
	}
}

void pf_input_drop_fields(struct pf_input *in)
{
	in->keep_fields = in->keep_end = false;
	/* A producer's memory is freed when its file ends: by this thread (release()), so
	 * no worker frees one under this loop. */
	for (size_t i = 0; i < in->nsrc; i++)
		if (in->src[i].prod)
			__atomic_store_n(&in->src[i].prod->drop_fields, true, __ATOMIC_RELAXED);
}

int pf_input_extent(const struct pf_input *in, int64_t *first, int64_t *last)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < in->nsrc; i++) {
		struct pl_reader *r;
		struct pl_record rec = PL_RECORD_INIT;
		const struct pf_source *s = &in->src[i];
		if (pl_reader_open(s->open_path ? s->open_path : s->path, &r) == 0) {
			int64_t f, l;
			int known = pl_reader_extent(r, &f, &l); /* by the index, if whole */
			if (known == 1) {
				lo = f < lo ? f : lo;
				hi = l > hi ? l : hi;
			}
			while (known < 0 && pl_reader_next(r, &rec) == 0) {
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
	if (!s->thread_ids)
		return thread < s->nthreads ? s->thread_names[thread] : NULL;
	size_t lo = 0, hi = s->nthreads;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->thread_ids[mid] == thread)
			return s->thread_names[mid];
		if (s->thread_ids[mid] < thread)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int pf_source_process(struct pf_source *s)
{
	return asprintf(&s->process, "%s:%" PRId64 " %s", s->host, s->pid, s->prog) < 0 ? -1 : 0;
}

int pf_input_add_source(struct pf_input *in, const struct pf_source *s)
{
	pf_pool_stop(in->pool); /* reading is over: no worker may see the array move */
	in->pool = NULL;
	struct pf_source *src = realloc(in->src, (in->nsrc + 1) * sizeof(*src));
	if (!src)
		return -1;
	in->src = src;
	src[in->nsrc] = *s;
	src[in->nsrc].summarized = true;
	return (int)in->nsrc++;
}

void pf_input_add_failed(struct pf_input *in, const char *path, const char *reason, bool skipped)
{
	note_failed(in, path, reason, skipped);
}

void pf_input_close(struct pf_input *in)
{
	pf_pool_stop(in->pool); /* no worker touches a source after this */
	for (size_t i = 0; i < in->nsrc; i++) {
		struct pf_source *s = &in->src[i];
		release(s);
		for (uint32_t t = 0; t < s->nthreads; t++)
			free(s->thread_names[t]);
		free(s->thread_names);
		free(s->thread_ids);
		free(s->path);
		free(s->open_path);
		free(s->host);
		free(s->prog);
		free(s->process);
		free(s->err_reason);
	}
	for (size_t i = 0; i < in->nfailed; i++) {
		free(in->failed[i].path);
		free(in->failed[i].reason);
	}
	free(in->failed);
	for (size_t i = 0; i < in->nsummaries; i++)
		free(in->summaries[i]);
	free(in->summaries);
	free(in->src);
	free(in->heap);
	free(in->waiting);
	free(in->run);
	memset(in, 0, sizeof(*in));
}
