/* SPDX-License-Identifier: MIT */
/* follow.c - trace files read while they are being written (see follow.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <perflog/reader.h>
#include <perflog/status.h>

#include "core/fields.h"
#include "core/follow.h"
#include "fmt/units.h"
#include "perfan.h"
#include "util/grow.h"

/* Exception text kept per failed END (as batch.c). */
#define EXC_MAX 1024

/* A copied event (PF_FOLLOW_SORTED): variable parts are offsets into f->bytes. */
struct pf_follow_ev {
	struct pf_event ev;			 /* pointers unset until delivery */
	size_t level, fields, exc_type, exc_msg; /* SIZE_MAX: none */
	size_t order;				 /* read order: a stable sort */
};

int pf_follow_open(struct pf_follow *f, char *const *paths, size_t npaths, struct pf_names *names,
		   unsigned flags, int64_t since, uint64_t back_ns)
{
	memset(f, 0, sizeof(*f));
	f->names = names;
	f->flags = flags;
	f->since = since;
	f->back_ns = back_ns;
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		if (!strcmp(paths[i], "-")) {
			pf_error("-: standard input cannot be followed: give the file");
			return -1;
		}
		if (stat(paths[i], &st) < 0) {
			pf_error("%s: %s", paths[i], strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			pf_error("%s: neither a file nor a directory: it cannot be followed",
				 paths[i]);
			return -1;
		}
	}
	if (!(f->paths = calloc(npaths ? npaths : 1, sizeof(*f->paths))))
		return -2;
	for (size_t i = 0; i < npaths; i++)
		if (!(f->paths[f->npaths++] = strdup(paths[i])))
			return -2;
	return 0;
}

/* ---- the files ---------------------------------------------------------------------- */

static bool known(const struct pf_follow *f, const char *path, const struct stat *st)
{
	for (size_t i = 0; i < f->nsrc; i++)
		if (f->src[i].dev == st->st_dev && f->src[i].ino == st->st_ino &&
		    !strcmp(f->src[i].path, path))
			return true;
	return false;
}

/* Follow @path from now on, unless it is followed already. Returns 0 or -2. */
static int add_file(struct pf_follow *f, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || known(f, path, &st))
		return 0;
	if (PF_GROW(f->src, f->cap, f->nsrc, 16) < 0)
		return -2;
	struct pf_follow_src *s = &f->src[f->nsrc];
	memset(s, 0, sizeof(*s));
	if (!(s->path = strdup(path)))
		return -2;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->windowed = !f->started && (f->since != INT64_MIN || f->back_ns);
	s->alive = INT64_MIN;
	f->nsrc++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of directory @dir not followed yet, in name order (a rotating writer's names
 * sort by age). Returns 0 or -2. */
static int scan_dir(struct pf_follow *f, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* gone for now: tried again at the next poll */
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	struct dirent *e;
	while (ret == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue; /* hidden, and a writer's files being created ("." prefix) */
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v) {
				ret = -2;
				break;
			}
			names = v;
		}
		if (asprintf(&names[n], "%.*s/%s", (int)len, dir, e->d_name) < 0)
			ret = -2;
		else
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (ret == 0)
			ret = add_file(f, names[i]);
		free(names[i]);
	}
	free(names);
	return ret;
}

static int find_files(struct pf_follow *f)
{
	for (size_t i = 0; i < f->npaths; i++) {
		struct stat st;
		int ret = 0;
		if (stat(f->paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			ret = scan_dir(f, f->paths[i]);
		else
			ret = add_file(f, f->paths[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void end_src(struct pf_follow_src *s)
{
	pl_reader_close(s->r);
	s->r = NULL;
	s->ended = true;
}

/* Open @s if it can be now. Returns 0 (opened, or not yet, or never: @ended) or -2. */
static int open_src(struct pf_follow *f, struct pf_follow_src *s)
{
	int ret = pl_reader_open(s->path, &s->r);
	if (ret == -PL_ENOMEM) {
		pl_reader_close(s->r);
		s->r = NULL;
		return -2;
	}
	if (ret == -PL_ETRUNCATED) { /* its first frame is not written yet */
		pl_reader_close(s->r);
		s->r = NULL;
		return 0;
	}
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(s->r);
		if (ret == -PL_EFORMAT)
			pf_warn("%s: skipped: not a perflog trace", s->path);
		else
			pf_warn("%s: offset %llu: %s", s->path, (unsigned long long)e->offset,
				e->reason);
		end_src(s);
		return 0;
	}
	const struct pl_trace_header *h = pl_reader_header(s->r);
	if (h->argc >= 1 && !strcmp(h->argv[0], PF_SUMMARY_ARGV0)) {
		pf_warn("%s: skipped: a summary (perfan summarize), not a trace: top needs the "
			"records",
			s->path);
		end_src(s);
		return 0;
	}
	s->pid = h->pid;
	if (!(s->host = strdup(h->host ? h->host : "")))
		return -2;
	pl_reader_follow(s->r, 1);
	pl_reader_skip_fields(s->r, !(f->flags & PF_FOLLOW_FIELDS));
	return 0;
}

/* The first poll: open the files present and set their window (follow.h). */
static int start(struct pf_follow *f)
{
	int64_t latest = INT64_MIN;
	for (size_t i = 0; i < f->nsrc; i++) {
		struct pf_follow_src *s = &f->src[i];
		int64_t first, last;
		if (!s->windowed)
			continue;
		if (open_src(f, s) < 0)
			return -2;
		if (s->r && f->back_ns && pl_reader_extent(s->r, &first, &last) == 1 &&
		    last > latest)
			latest = last;
		/* A directory may hold many files: give back each one's descriptor and
		 * buffers until it is read (the next pl_reader_next() reopens it). */
		if (s->r)
			pl_reader_suspend(s->r);
	}
	int64_t since = f->since;
	if (f->back_ns) /* no indexed record anywhere: read everything */
		since = latest == INT64_MIN ? INT64_MIN : pf_wall_sub(latest, f->back_ns);
	f->since = since;
	if (since == INT64_MIN || getenv("PERFAN_NO_INDEX"))
		return 0;
	for (size_t i = 0; i < f->nsrc; i++) {
		if (f->src[i].r) {
			pl_reader_set_window(f->src[i].r, since, INT64_MAX, PL_WINDOW_ANCESTORS);
			pl_reader_suspend(f->src[i].r);
		}
	}
	return 0;
}

static int note_thread(struct pf_follow_src *s, const struct pl_record *rec)
{
	if (rec->thread >= 1u << 20)
		return 0; /* liblog's limit is far lower: not a number to size an array by */
	if (rec->thread >= s->nthreads) {
		uint32_t n = rec->thread + 1;
		char **v = realloc(s->thread_names, n * sizeof(*v));
		if (!v)
			return -2;
		memset(v + s->nthreads, 0, (n - s->nthreads) * sizeof(*v));
		s->thread_names = v;
		s->nthreads = n;
	}
	char *name = pf_name_dup(rec->name);
	if (rec->name && !name)
		return -2;
	free(s->thread_names[rec->thread]);
	s->thread_names[rec->thread] = name;
	return 0;
}

/* ---- events ------------------------------------------------------------------------- */

/* Room for @n more bytes in the poll's arena. Returns the offset, or SIZE_MAX. */
static size_t arena_put(struct pf_follow *f, const void *p, size_t n)
{
	if (f->nbytes + n > f->cap_bytes) {
		size_t cap = f->cap_bytes ? f->cap_bytes : 64 << 10;
		while (f->nbytes + n > cap)
			cap *= 2;
		uint8_t *m = realloc(f->bytes, cap);
		if (!m)
			return SIZE_MAX;
		f->bytes = m;
		f->cap_bytes = cap;
	}
	size_t at = f->nbytes;
	if (n)
		memcpy(f->bytes + at, p, n); /* p may be NULL when n is 0 (a root's level) */
	f->nbytes += n;
	return at;
}

static size_t arena_str(struct pf_follow *f, const char *s)
{
	return s ? arena_put(f, s, strnlen(s, EXC_MAX) + 1) : SIZE_MAX;
}

/* Keep @ev (its pointers' targets copied) for the sorted delivery. Returns 0 or -2. */
static int keep(struct pf_follow *f, const struct pf_event *ev)
{
	if (PF_GROW(f->ev, f->cap_ev, f->nev, 1024) < 0)
		return -2;
	struct pf_follow_ev *k = &f->ev[f->nev];
	k->ev = *ev;
	k->order = f->nev;
	k->level = arena_put(f, ev->level, ev->depth * sizeof(uint32_t));
	k->fields = ev->fields ? arena_put(f, ev->fields, ev->fields_len) : SIZE_MAX;
	k->exc_type = arena_str(f, ev->exc_type);
	k->exc_msg = arena_str(f, ev->exc_msg);
	if (k->level == SIZE_MAX || (ev->fields && k->fields == SIZE_MAX) ||
	    (ev->exc_type && k->exc_type == SIZE_MAX) || (ev->exc_msg && k->exc_msg == SIZE_MAX))
		return -2;
	f->nev++;
	return 0;
}

static int cmp_ev(const void *a, const void *b)
{
	const struct pf_follow_ev *x = a, *y = b;
	if (x->ev.wall != y->ev.wall)
		return x->ev.wall < y->ev.wall ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void deliver_sorted(struct pf_follow *f, pf_follow_fn fn, void *userdata)
{
	if (f->nev > 1)
		qsort(f->ev, f->nev, sizeof(*f->ev), cmp_ev);
	for (size_t i = 0; i < f->nev; i++) {
		struct pf_follow_ev *k = &f->ev[i];
		struct pf_event ev = k->ev;
		ev.level = (const uint32_t *)(f->bytes + k->level);
		ev.fields = k->fields == SIZE_MAX ? NULL : f->bytes + k->fields;
		ev.exc_type = k->exc_type == SIZE_MAX ? NULL : (const char *)f->bytes + k->exc_type;
		ev.exc_msg = k->exc_msg == SIZE_MAX ? NULL : (const char *)f->bytes + k->exc_msg;
		fn(userdata, &ev);
	}
	f->nev = 0;
	f->nbytes = 0;
}

/* One START, END or MESSAGE record as an event. Returns 0 or -2. */
static int event(struct pf_follow *f, uint32_t src, const struct pl_record *rec, pf_follow_fn fn,
		 void *userdata)
{
	struct pf_event ev = {
	    .kind = rec->kind,
	    .src = src,
	    .thread = rec->thread,
	    .tid = rec->tid,
	    .ts = rec->ts_ns,
	    .wall = rec->wall_ns,
	    .prefix = rec->task_prefix,
	    .seq = rec->task_seq,
	    .level = rec->level,
	    .depth = rec->depth,
	    .type = PF_NAME_NONE,
	    .duration_ns = rec->duration_ns,
	    .failed = rec->kind == PL_REC_END && rec->outcome != PL_SUCCEEDED, /* or cancelled */
	};
	if (rec->kind != PL_REC_END &&
	    (ev.type = pf_names_intern(f->names, rec->type)) == PF_NAME_NONE)
		return -2;
	if (f->flags & PF_FOLLOW_FIELDS) {
		ev.fields = f->fbuf;
		ev.fields_len = pf_fields_pack(f->fbuf, PF_FIELDS_MAX, rec->fields, rec->nfields);
		ev.exc_type = rec->exc_type;
		ev.exc_msg = rec->exc_msg;
	}
	if (f->flags & PF_FOLLOW_SORTED)
		return keep(f, &ev);
	fn(userdata, &ev);
	return 0;
}

/* Was @s deleted (retention) or replaced since it was opened? */
static bool gone(const struct pf_follow_src *s)
{
	struct stat st;
	return stat(s->path, &st) < 0 || st.st_dev != s->dev || st.st_ino != s->ino;
}

/* Read what @s holds now, at most *@budget records. Returns 0 or -2. */
static int read_src(struct pf_follow *f, uint32_t i, size_t *budget, pf_follow_fn fn,
		    void *userdata)
{
	struct pf_follow_src *s = &f->src[i];
	struct pl_record rec = PL_RECORD_INIT;
	while (*budget > 0) {
		int ret = pl_reader_next(s->r, &rec);
		if (ret == PL_AGAIN || ret == PL_END) {
			int64_t wall;
			pl_reader_checkpoint(s->r, NULL, &wall);
			if (wall > s->alive)
				s->alive = wall;
			if (ret == PL_END || gone(s))
				end_src(s); /* everything it held was read */
			return 0;
		}
		if (ret < 0) {
			const struct pl_reader_error *e = pl_reader_error(s->r);
			if (e->status == -PL_ENOMEM)
				return -2;
			pf_warn("%s: offset %llu: %s (the %llu records before it were read)",
				s->path, (unsigned long long)e->offset, e->reason,
				(unsigned long long)s->records);
			end_src(s);
			return 0;
		}
		s->records++;
		(*budget)--;
		switch (rec.kind) {
		case PL_REC_START:
		case PL_REC_END:
		case PL_REC_MESSAGE:
			if (rec.wall_ns > s->alive)
				s->alive = rec.wall_ns;
			if (event(f, i, &rec, fn, userdata) < 0)
				return -2;
			break;
		case PL_REC_THREAD:
			if (note_thread(s, &rec) < 0)
				return -2;
			break;
		case PL_REC_DROPPED:
			s->dropped += rec.count;
			break;
		case PL_REC_STATS:
			end_src(s); /* the writer closed the file: nothing follows */
			return 0;
		default:
			break;
		}
	}
	return 0;
}

int pf_follow_start(struct pf_follow *f)
{
	if (f->started)
		return 0;
	int ret = find_files(f);
	if (ret == 0)
		ret = start(f);
	f->started = true;
	return ret;
}

int pf_follow_poll(struct pf_follow *f, pf_follow_fn fn, void *userdata)
{
	int ret = f->started ? find_files(f) : pf_follow_start(f);
	size_t budget = PF_FOLLOW_BUDGET;
	for (size_t k = 0; ret == 0 && k < f->nsrc && budget > 0; k++) {
		size_t i = (f->next_src + k) % f->nsrc;
		struct pf_follow_src *s = &f->src[i];
		if (s->ended)
			continue;
		if (!s->r && ((ret = open_src(f, s)) < 0 || !s->r))
			continue;
		ret = read_src(f, (uint32_t)i, &budget, fn, userdata);
	}
	if (f->nsrc)
		f->next_src = (f->next_src + 1) % f->nsrc;
	if (ret == 0 && (f->flags & PF_FOLLOW_SORTED))
		deliver_sorted(f, fn, userdata);
	return ret < 0 ? ret : budget == 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void pf_follow_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: sleeps end */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool pf_follow_interrupted(void)
{
	return interrupted;
}

void pf_follow_sleep(uint64_t ns)
{
	struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
	if (!interrupted)
		nanosleep(&t, NULL); /* a signal cuts it short */
}

bool pf_follow_has_dir(const struct pf_follow *f)
{
	for (size_t i = 0; i < f->npaths; i++) {
		struct stat st;
		if (stat(f->paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			return true;
	}
	return false;
}

const char *pf_follow_thread_name(const struct pf_follow *f, uint32_t src, uint32_t thread)
{
	const struct pf_follow_src *s = &f->src[src];
	return thread < s->nthreads ? s->thread_names[thread] : NULL;
}

int64_t pf_follow_alive(const struct pf_follow *f)
{
	int64_t alive = INT64_MIN;
	for (size_t i = 0; i < f->nsrc; i++)
		if (f->src[i].alive > alive)
			alive = f->src[i].alive;
	return alive;
}

size_t pf_follow_active(const struct pf_follow *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nsrc; i++)
		n += !f->src[i].ended;
	return n;
}

void pf_follow_close(struct pf_follow *f)
{
	for (size_t i = 0; i < f->nsrc; i++) {
		struct pf_follow_src *s = &f->src[i];
		pl_reader_close(s->r);
		free(s->path);
		free(s->host);
		for (uint32_t t = 0; t < s->nthreads; t++)
			free(s->thread_names[t]);
		free(s->thread_names);
	}
	free(f->src);
	for (size_t i = 0; i < f->npaths; i++)
		free(f->paths[i]);
	free(f->paths);
	free(f->ev);
	free(f->bytes);
	memset(f, 0, sizeof(*f));
}
