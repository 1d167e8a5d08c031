/* SPDX-License-Identifier: MIT */
/* columns.c - _perflog._action_columns(paths): the actions of trace files as columns, for
 * perflog.frames (Arrow tables, pandas DataFrames, Parquet) without a Python loop per record.
 *
 * Each file is read once with liblog's reader. A START or END finds its action's row by
 * (task id, level) - across files, in any order, so an END read before its START (a rotated
 * file given first) still pairs. Rows without a START are left out (their START is in a
 * file not given); rows without an END are unfinished. Repeated strings (types, hosts,
 * thread names, exception types, files) become dictionary codes: one Python str per distinct
 * value, a C array of codes per row. Numbers go into C arrays returned as bytes, which
 * pyarrow wraps without copying; inputs become one list per argument name.
 *
 * Memory: a row struct and the level path per action, the key table, and the columns.
 */
#include "module.h" /* first: Python.h before any system header */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- strings as dictionary codes ------------------------------------------------------- */

struct strtab {
	PyObject *list; /* the distinct strings, by code */
	PyObject *dict; /* str -> code (int) */
};

/* The code of @s (@len bytes), or -1 with an exception set. */
static int32_t str_code(struct strtab *t, const char *s, size_t len)
{
	PyObject *k = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "replace");
	if (!k)
		return -1;
	PyObject *v = PyDict_GetItemWithError(t->dict, k);
	int32_t code = -1;
	if (v) {
		code = (int32_t)PyLong_AsLong(v);
	} else if (!PyErr_Occurred()) {
		PyObject *c = PyLong_FromSsize_t(PyList_GET_SIZE(t->list));
		if (c && PyDict_SetItem(t->dict, k, c) == 0 && PyList_Append(t->list, k) == 0)
			code = (int32_t)(PyList_GET_SIZE(t->list) - 1);
		Py_XDECREF(c);
	}
	Py_DECREF(k);
	return code;
}

/* Per file: the reader's type strings are stable pointers (its name table), so a pointer
 * finds its code without making a str each time. */
struct ptrmap {
	const void **k;
	int32_t *v;
	size_t cap, n;
};

static int32_t *ptr_slot(struct ptrmap *m, const void *p)
{
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;
		const void **k = calloc(cap, sizeof(*k));
		int32_t *v = calloc(cap, sizeof(*v));
		if (!k || !v) {
			free(k);
			free(v);
			return NULL;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->k[i])
				continue;
			size_t j = ((uintptr_t)m->k[i] >> 4) & (cap - 1);
			while (k[j])
				j = (j + 1) & (cap - 1);
			k[j] = m->k[i];
			v[j] = m->v[i];
		}
		free(m->k);
		free(m->v);
		m->k = k;
		m->v = v;
		m->cap = cap;
	}
	size_t j = ((uintptr_t)p >> 4) & (m->cap - 1);
	while (m->k[j] && m->k[j] != p)
		j = (j + 1) & (m->cap - 1);
	if (!m->k[j]) {
		m->k[j] = p;
		m->v[j] = -2; /* not yet known */
		m->n++;
	}
	return &m->v[j];
}

static void ptrmap_free(struct ptrmap *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- rows ------------------------------------------------------------------------------ */

enum { HAS_START = 1, HAS_END = 2, FAILED = 4, CANCELLED = 8 };

struct row {
	uint64_t prefix, seq, lhash; /* lhash: key_hash() of task id and level */
	uint32_t lvl_off, depth;
	int64_t start, dur;
	int32_t type, exc, thread, host, file;
	uint32_t tid;
	int64_t pid;
	uint8_t state;
};

struct cols {
	struct row *rows;
	size_t n, cap;
	uint32_t *lv; /* level paths */
	size_t nlv, caplv;
	uint32_t *slots; /* key table: row index + 1, 0 empty */
	size_t nslots;
	struct strtab types, hosts, threads, excs, files;
	PyObject *inputs; /* "in.NAME" -> list, by row */
};

/* The key's hash: pl_span_id() mixes task id and level path (fmix64), as a table wants. */
static uint64_t key_hash(uint64_t prefix, uint64_t seq, const uint32_t *lv, uint32_t depth)
{
	return pl_span_id(prefix, seq, lv, depth);
}

static size_t key_home(const struct cols *c, uint64_t lhash)
{
	return (size_t)lhash & (c->nslots - 1);
}

static bool same(const struct cols *c, const struct row *r, uint64_t prefix, uint64_t seq,
		 uint64_t lhash, const uint32_t *lv, uint32_t depth)
{
	return r->prefix == prefix && r->seq == seq && r->lhash == lhash && r->depth == depth &&
	       !memcmp(c->lv + r->lvl_off, lv, depth * sizeof(uint32_t));
}

static struct row *find(const struct cols *c, uint64_t prefix, uint64_t seq, const uint32_t *lv,
			uint32_t depth)
{
	if (!c->nslots)
		return NULL;
	uint64_t lh = key_hash(prefix, seq, lv, depth);
	for (size_t i = key_home(c, lh); c->slots[i]; i = (i + 1) & (c->nslots - 1))
		if (same(c, &c->rows[c->slots[i] - 1], prefix, seq, lh, lv, depth))
			return &c->rows[c->slots[i] - 1];
	return NULL;
}

static int rehash(struct cols *c)
{
	size_t n = c->nslots ? 2 * c->nslots : 1024;
	uint32_t *s = calloc(n, sizeof(*s));
	if (!s)
		return -1;
	free(c->slots);
	c->slots = s;
	c->nslots = n;
	for (size_t r = 0; r < c->n; r++) {
		const struct row *w = &c->rows[r];
		size_t i = key_home(c, w->lhash);
		while (c->slots[i])
			i = (i + 1) & (n - 1);
		c->slots[i] = (uint32_t)r + 1;
	}
	return 0;
}

/* The row of an action, made when first seen. NULL with MemoryError set. */
static struct row *row_of(struct cols *c, const struct pl_record *rec)
{
	struct row *r = find(c, rec->task_prefix, rec->task_seq, rec->level, rec->depth);
	if (r)
		return r;
	if (c->n >= UINT32_MAX - 1)
		return (struct row *)PyErr_NoMemory();
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4096;
		struct row *rows = realloc(c->rows, cap * sizeof(*rows));
		if (!rows)
			return (struct row *)PyErr_NoMemory();
		c->rows = rows;
		c->cap = cap;
	}
	if (c->nlv + rec->depth > c->caplv) {
		size_t cap = c->caplv ? 2 * c->caplv : 16384;
		while (cap < c->nlv + rec->depth)
			cap *= 2;
		uint32_t *lv = realloc(c->lv, cap * sizeof(*lv));
		if (!lv)
			return (struct row *)PyErr_NoMemory();
		c->lv = lv;
		c->caplv = cap;
	}
	if (2 * (c->n + 1) > c->nslots && rehash(c) < 0)
		return (struct row *)PyErr_NoMemory();
	r = &c->rows[c->n];
	*r =
	    (struct row){.prefix = rec->task_prefix,
			 .seq = rec->task_seq,
			 .lhash = key_hash(rec->task_prefix, rec->task_seq, rec->level, rec->depth),
			 .lvl_off = (uint32_t)c->nlv,
			 .depth = rec->depth,
			 .type = -1,
			 .exc = -1,
			 .thread = -1,
			 .host = -1,
			 .file = -1};
	if (rec->depth)
		memcpy(c->lv + c->nlv, rec->level, rec->depth * sizeof(uint32_t));
	c->nlv += rec->depth;
	size_t i = key_home(c, r->lhash);
	while (c->slots[i])
		i = (i + 1) & (c->nslots - 1);
	c->slots[i] = (uint32_t)++c->n;
	return r;
}

/* ---- reading ---------------------------------------------------------------------------- */

struct file_state {
	struct ptrmap types; /* type string -> code */
	struct ptrmap keys;  /* input name string -> index in @lists */
	PyObject **lists;    /* borrowed from cols.inputs */
	size_t nlists, caplists;
	int32_t *threads; /* thread number -> code, -1 unnamed */
	size_t nthreads;
	int32_t host, file;
	int64_t pid;
};

/* inputs["in." + name][row] = value (the list padded with None up to @row). */
static int put_input(struct cols *c, struct file_state *f, size_t row, const struct pl_kv *kv)
{
	int32_t *slot = ptr_slot(&f->keys, kv->key);
	if (!slot) {
		PyErr_NoMemory();
		return -1;
	}
	if (*slot < 0) {
		char buf[3 + 256];
		size_t n = kv->key_len < 256 ? kv->key_len : 256;
		memcpy(buf, "in.", 3);
		memcpy(buf + 3, kv->key, n);
		PyObject *name = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)(3 + n), "replace");
		if (!name)
			return -1;
		PyObject *list = PyDict_GetItemWithError(c->inputs, name);
		if (!list && !PyErr_Occurred()) {
			list = PyList_New(0);
			if (list && PyDict_SetItem(c->inputs, name, list) < 0)
				Py_CLEAR(list);
			Py_XDECREF(list); /* the dict holds it */
		}
		Py_DECREF(name);
		if (!list)
			return -1;
		if (f->nlists == f->caplists) {
			size_t cap = f->caplists ? 2 * f->caplists : 16;
			PyObject **l = realloc(f->lists, cap * sizeof(*l));
			if (!l) {
				PyErr_NoMemory();
				return -1;
			}
			f->lists = l;
			f->caplists = cap;
		}
		f->lists[f->nlists] = list;
		*slot = (int32_t)f->nlists++;
	}
	PyObject *list = f->lists[*slot];
	while ((size_t)PyList_GET_SIZE(list) <= row)
		if (PyList_Append(list, Py_None) < 0)
			return -1;
	PyObject *v = pl_py_value(&kv->value);
	if (!v)
		return -1;
	PyList_SetItem(list, (Py_ssize_t)row, v); /* steals v */
	return 0;
}

static int on_thread(struct file_state *f, struct cols *c, const struct pl_record *rec)
{
	if (rec->thread >= f->nthreads) {
		size_t n = f->nthreads ? f->nthreads : 16;
		while (n <= rec->thread)
			n *= 2;
		int32_t *t = realloc(f->threads, n * sizeof(*t));
		if (!t) {
			PyErr_NoMemory();
			return -1;
		}
		for (size_t i = f->nthreads; i < n; i++)
			t[i] = -1;
		f->threads = t;
		f->nthreads = n;
	}
	int32_t code = rec->name ? str_code(&c->threads, rec->name, strlen(rec->name)) : -1;
	if (rec->name && code < 0)
		return -1;
	f->threads[rec->thread] = code;
	return 0;
}

static int on_start(struct file_state *f, struct cols *c, const struct pl_record *rec, bool inputs)
{
	struct row *r = row_of(c, rec);
	if (!r)
		return -1;
	int32_t *type = ptr_slot(&f->types, rec->type);
	if (!type) {
		PyErr_NoMemory();
		return -1;
	}
	if (*type < 0 && (*type = str_code(&c->types, rec->type, strlen(rec->type))) < 0)
		return -1;
	r->type = *type;
	r->start = rec->wall_ns;
	r->host = f->host;
	r->file = f->file;
	r->pid = f->pid;
	r->tid = rec->tid;
	r->thread = rec->thread < f->nthreads ? f->threads[rec->thread] : -1;
	r->state |= HAS_START;
	size_t row = (size_t)(r - c->rows);
	for (size_t i = 0; inputs && i < rec->nfields; i++)
		if (put_input(c, f, row, &rec->fields[i]) < 0)
			return -1;
	return 0;
}

static int on_end(struct cols *c, const struct pl_record *rec)
{
	struct row *r = row_of(c, rec);
	if (!r)
		return -1;
	r->dur = (int64_t)rec->duration_ns;
	r->state |= HAS_END;
	if (rec->outcome != PL_SUCCEEDED) {
		r->state |= rec->outcome == PL_CANCELLED ? CANCELLED : FAILED;
		if (rec->exc_type &&
		    (r->exc = str_code(&c->excs, rec->exc_type, strlen(rec->exc_type))) < 0)
			return -1;
	}
	return 0;
}

/* Read one file into @c. A damaged file gives what came before the damage, and an entry
 * in @errors. Returns 0, or -1 with an exception set (out of memory, not a trace). */
static int read_file(pl_py_state *st, struct cols *c, PyObject *path, bool inputs, PyObject *errors)
{
	PyObject *bpath;
	if (!PyUnicode_FSConverter(path, &bpath))
		return -1;
	struct pl_reader *r = NULL;
	int ret;
	Py_BEGIN_ALLOW_THREADS ret = pl_reader_open(PyBytes_AS_STRING(bpath), &r);
	Py_END_ALLOW_THREADS Py_DECREF(bpath);
	if (ret < 0) {
		/* As perflog.read(): a file that cannot be opened or is no trace raises. */
		PyObject *spath = PyObject_Str(path);
		if (spath)
			pl_py_raise_reader_error(st, spath, r ? pl_reader_error(r) : NULL);
		Py_XDECREF(spath);
		pl_reader_close(r);
		return -1;
	}
	const struct pl_trace_header *h = pl_reader_header(r);
	struct file_state f = {.pid = h->pid};
	PyObject *spath = PyObject_Str(path);
	int res = -1;
	if (!spath)
		goto out;
	const char *p = PyUnicode_AsUTF8(spath);
	if (!p || (f.file = str_code(&c->files, p, strlen(p))) < 0 ||
	    (f.host = str_code(&c->hosts, h->host ? h->host : "", h->host ? strlen(h->host) : 0)) <
		0)
		goto out;
	struct pl_record rec = PL_RECORD_INIT;
	for (;;) {
		/* The GIL stays held: every record touches Python objects or cheap C state. */
		ret = pl_reader_next(r, &rec);
		if (ret != PL_OK)
			break;
		if ((rec.kind == PL_REC_START && on_start(&f, c, &rec, inputs) < 0) ||
		    (rec.kind == PL_REC_END && on_end(c, &rec) < 0) ||
		    (rec.kind == PL_REC_THREAD && on_thread(&f, c, &rec) < 0))
			goto out;
	}
	if (ret != PL_END) {
		const struct pl_reader_error *e = pl_reader_error(r);
		PyObject *t = Py_BuildValue("(OKs)", spath, (unsigned long long)e->offset,
					    e->reason ? e->reason : "?");
		if (!t || PyList_Append(errors, t) < 0) {
			Py_XDECREF(t);
			goto out;
		}
		Py_DECREF(t);
	}
	res = 0;
out:
	Py_XDECREF(spath);
	ptrmap_free(&f.types);
	ptrmap_free(&f.keys);
	free(f.lists);
	free(f.threads);
	pl_reader_close(r);
	return res;
}

/* ---- the columns ------------------------------------------------------------------------- */

static PyObject *bytes_of(const void *p, size_t n)
{
	return PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
}

/* A validity bitmap (Arrow's: bit i of byte i/8, least significant first). */
static void set_valid(uint8_t *bits, size_t i)
{
	bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static PyObject *task_text(const struct row *r, const uint32_t *lv, bool level)
{
	char buf[PL_TASK_STR_MAX];
	int n = pl_task_format(r->prefix, r->seq, lv, r->depth, buf, sizeof(buf));
	if (n < 0)
		n = snprintf(buf, sizeof(buf), "%016llx-%llx", (unsigned long long)r->prefix,
			     (unsigned long long)r->seq);
	const char *at = memchr(buf, '@', (size_t)n);
	if (!at)
		return PyUnicode_FromStringAndSize(level ? "/" : buf, level ? 1 : n);
	return level ? PyUnicode_FromStringAndSize(at + 1, n - (at + 1 - buf))
		     : PyUnicode_FromStringAndSize(buf, at - buf);
}

/* Build the result dict from the rows that have a START. */
static PyObject *build(struct cols *c, PyObject *errors)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += (c->rows[i].state & HAS_START) != 0;
	size_t nb = (n + 7) / 8 + 1;
	int32_t *type = calloc(n + 1, 4), *exc = calloc(n + 1, 4), *parent = calloc(n + 1, 4),
		*host = calloc(n + 1, 4), *thread = calloc(n + 1, 4), *file = calloc(n + 1, 4),
		*depth = calloc(n + 1, 4);
	int64_t *start = calloc(n + 1, 8), *dur = calloc(n + 1, 8), *pid = calloc(n + 1, 8),
		*tid = calloc(n + 1, 8);
	int8_t *outcome = calloc(n + 1, 1);
	uint8_t *dur_ok = calloc(nb, 1), *exc_ok = calloc(nb, 1), *parent_ok = calloc(nb, 1),
		*thread_ok = calloc(nb, 1);
	size_t *keep = calloc(c->n + 1, sizeof(size_t));
	PyObject *task = PyList_New((Py_ssize_t)n), *level = PyList_New((Py_ssize_t)n);
	PyObject *d = NULL, *inputs = NULL;
	if (!type || !exc || !parent || !host || !thread || !file || !depth || !start || !dur ||
	    !pid || !tid || !outcome || !dur_ok || !exc_ok || !parent_ok || !thread_ok || !keep) {
		PyErr_NoMemory();
		goto out;
	}
	if (!task || !level)
		goto out;
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct row *r = &c->rows[i];
		if (!(r->state & HAS_START))
			continue;
		keep[i] = k + 1;
		const uint32_t *lv = c->lv + r->lvl_off;
		type[k] = r->type;
		start[k] = r->start;
		depth[k] = (int32_t)r->depth;
		host[k] = r->host;
		file[k] = r->file;
		pid[k] = r->pid;
		tid[k] = r->tid;
		if (r->state & HAS_END) {
			dur[k] = r->dur;
			set_valid(dur_ok, k);
		}
		/* frames.py's OUTCOMES: succeeded, failed, unfinished, cancelled */
		outcome[k] = !(r->state & HAS_END)  ? 2
			     : r->state & FAILED    ? 1
			     : r->state & CANCELLED ? 3
						    : 0;
		if (r->exc >= 0) {
			exc[k] = r->exc;
			set_valid(exc_ok, k);
		}
		if (r->thread >= 0) {
			thread[k] = r->thread;
			set_valid(thread_ok, k);
		}
		if (r->depth) {
			const struct row *p = find(c, r->prefix, r->seq, lv, r->depth - 1);
			if (p && (p->state & HAS_START)) {
				parent[k] = p->type;
				set_valid(parent_ok, k);
			}
		}
		PyObject *t = task_text(r, lv, false), *l = t ? task_text(r, lv, true) : NULL;
		if (!t || !l) {
			Py_XDECREF(t);
			goto out;
		}
		PyList_SET_ITEM(task, (Py_ssize_t)k, t);
		PyList_SET_ITEM(level, (Py_ssize_t)k, l);
		k++;
	}
	/* Inputs: the rows kept, None where an action had no such argument. */
	inputs = PyDict_New();
	PyObject *name, *list;
	Py_ssize_t pos = 0;
	while (inputs && PyDict_Next(c->inputs, &pos, &name, &list)) {
		PyObject *out = PyList_New((Py_ssize_t)n);
		if (!out)
			goto out;
		for (size_t i = 0; i < n; i++)
			PyList_SET_ITEM(out, (Py_ssize_t)i, Py_NewRef(Py_None));
		for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++)
			if (keep[i])
				PyList_SetItem(out, (Py_ssize_t)keep[i] - 1,
					       Py_NewRef(PyList_GET_ITEM(list, i)));
		int ret = PyDict_SetItem(inputs, name, out);
		Py_DECREF(out);
		if (ret < 0)
			goto out;
	}
	if (!inputs)
		goto out;
	d = Py_BuildValue(
	    "{s:n,s:(NO),s:N,s:(NN),s:N,s:(NNO),s:(NNO),s:N,s:O,s:O,s:N,s:(NO),s:(NNO),s:N,"
	    "s:(NO),s:O,s:O}",
	    "rows", (Py_ssize_t)n, "type", bytes_of(type, 4 * n), c->types.list, "start_ns",
	    bytes_of(start, 8 * n), "duration_ns", bytes_of(dur, 8 * n), bytes_of(dur_ok, nb),
	    "outcome", bytes_of(outcome, n), "exc_type", bytes_of(exc, 4 * n), bytes_of(exc_ok, nb),
	    c->excs.list, "parent_type", bytes_of(parent, 4 * n), bytes_of(parent_ok, nb),
	    c->types.list, "depth", bytes_of(depth, 4 * n), "task", task, "level", level, "pid",
	    bytes_of(pid, 8 * n), "host", bytes_of(host, 4 * n), c->hosts.list, "thread",
	    bytes_of(thread, 4 * n), bytes_of(thread_ok, nb), c->threads.list, "tid",
	    bytes_of(tid, 8 * n), "file", bytes_of(file, 4 * n), c->files.list, "inputs", inputs,
	    "errors", errors);
out:
	free(type);
	free(exc);
	free(parent);
	free(host);
	free(thread);
	free(file);
	free(depth);
	free(start);
	free(dur);
	free(pid);
	free(tid);
	free(outcome);
	free(dur_ok);
	free(exc_ok);
	free(parent_ok);
	free(thread_ok);
	free(keep);
	Py_XDECREF(task);
	Py_XDECREF(level);
	Py_XDECREF(inputs);
	return d;
}

PyObject *pl_py_action_columns(PyObject *module, PyObject *args, PyObject *kwargs)
{
	pl_py_state *st = PyModule_GetState(module);
	static char *kw[] = {"paths", "inputs", NULL};
	PyObject *paths;
	int inputs = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|p:_action_columns", kw, &paths, &inputs))
		return NULL;
	PyObject *seq = PySequence_Fast(paths, "paths must be a sequence of file paths");
	if (!seq)
		return NULL;
	struct cols c = {0};
	struct strtab *tabs[] = {&c.types, &c.hosts, &c.threads, &c.excs, &c.files};
	PyObject *errors = PyList_New(0), *res = NULL;
	bool ok = errors && (c.inputs = PyDict_New());
	for (size_t i = 0; ok && i < sizeof(tabs) / sizeof(tabs[0]); i++)
		ok = (tabs[i]->list = PyList_New(0)) && (tabs[i]->dict = PyDict_New());
	for (Py_ssize_t i = 0; ok && i < PySequence_Fast_GET_SIZE(seq); i++)
		ok = read_file(st, &c, PySequence_Fast_GET_ITEM(seq, i), inputs, errors) == 0;
	if (ok)
		res = build(&c, errors);
	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
		Py_XDECREF(tabs[i]->list);
		Py_XDECREF(tabs[i]->dict);
	}
	Py_XDECREF(c.inputs);
	Py_XDECREF(errors);
	Py_DECREF(seq);
	free(c.rows);
	free(c.lv);
	free(c.slots);
	return res;
}
