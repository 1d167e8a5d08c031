/* SPDX-License-Identifier: MIT */
/* read.c - perflog.read(path): an iterator of dicts over liblog's pl_reader.
 *
 * Every record before damage in the file is yielded; then perflog.TraceError is raised,
 * naming the file, the byte offset and the reason (its attributes: path, offset, reason,
 * status). Records are decoded one at a time, so memory stays bounded.
 */
#include "module.h" /* first: Python.h before any system header */

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum key {
	K_KIND,
	K_TS,
	K_WALL,
	K_THREAD,
	K_TID,
	K_TASK,
	K_TASK_ID,
	K_LEVEL,
	K_TYPE,
	K_FIELDS,
	K_OUTCOME,
	K_DURATION,
	K_EXC_TYPE,
	K_EXC_MSG,
	K_NAME,
	K_REASON,
	K_COUNT,
	K_NKEYS
};
static const char *const key_text[K_NKEYS] = {
    "kind",   "ts_ns",	 "wall_ns",	"thread",   "tid",     "task", "task_id", "level", "type",
    "fields", "outcome", "duration_ns", "exc_type", "exc_msg", "name", "reason",  "count",
};
static const char *const kind_text[] = {"?",	  "start",   "end",  "message",
					"thread", "dropped", "stats"};

typedef struct {
	PyObject_HEAD pl_py_state *st;
	struct pl_reader *r;
	PyObject *path;		 /* str */
	PyObject *header;	 /* dict */
	PyObject *index_problem; /* str, once the reader is closed with one; else NULL */
	PyObject *keys[K_NKEYS];
	PyObject *kinds[7];
} pl_py_reader;

/* ---- values ---- */

static PyObject *text(const char *s, size_t len)
{
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "replace");
}

PyObject *pl_py_value(const pl_value *v)
{
	switch (v->type) {
	case PL_VALUE_NIL:
		Py_RETURN_NONE;
	case PL_VALUE_BOOL:
		return PyBool_FromLong(v->v.b);
	case PL_VALUE_INT:
		return PyLong_FromLongLong(v->v.i);
	case PL_VALUE_UINT:
		return PyLong_FromUnsignedLongLong(v->v.u);
	case PL_VALUE_FLOAT:
		return PyFloat_FromDouble(v->v.f);
	case PL_VALUE_STR:
		return text(v->v.str.ptr, v->v.str.len);
	case PL_VALUE_BYTES:
		return PyBytes_FromStringAndSize(v->v.str.ptr, (Py_ssize_t)v->v.str.len);
	case PL_VALUE_ARRAY: {
		PyObject *l = PyList_New((Py_ssize_t)v->v.array.len);
		for (size_t i = 0; l && i < v->v.array.len; i++) {
			PyObject *x = pl_py_value(&v->v.array.items[i]);
			if (!x)
				Py_CLEAR(l);
			else
				PyList_SET_ITEM(l, (Py_ssize_t)i, x);
		}
		return l;
	}
	case PL_VALUE_MAP: {
		PyObject *d = PyDict_New();
		for (size_t i = 0; d && i < v->v.map.len; i++) {
			const struct pl_kv *kv = &v->v.map.items[i];
			PyObject *k = text(kv->key, kv->key_len), *x = pl_py_value(&kv->value);
			if (!k || !x || PyDict_SetItem(d, k, x) < 0)
				Py_CLEAR(d);
			Py_XDECREF(k);
			Py_XDECREF(x);
		}
		return d;
	}
	}
	Py_RETURN_NONE;
}

static PyObject *fields(const struct pl_kv *kv, size_t n)
{
	pl_value map = PL_V_MAP(kv, n);
	return pl_py_value(&map);
}

static PyObject *level(const uint32_t *lv, uint32_t depth)
{
	PyObject *l = PyList_New(depth);
	for (uint32_t i = 0; l && i < depth; i++) {
		PyObject *x = PyLong_FromUnsignedLong(lv[i]);
		if (!x)
			Py_CLEAR(l);
		else
			PyList_SET_ITEM(l, i, x);
	}
	return l;
}

/* ---- records ---- */

/* Set d[keys[k]] = v, stealing v; -1 on error (v may be NULL after a failed build). */
static int put(pl_py_reader *rd, PyObject *d, enum key k, PyObject *v)
{
	if (!v)
		return -1;
	int ret = PyDict_SetItem(d, rd->keys[k], v);
	Py_DECREF(v);
	return ret;
}

static PyObject *opt_text(const char *s)
{
	return s ? text(s, strlen(s)) : Py_NewRef(Py_None);
}

static PyObject *record(pl_py_reader *rd, const struct pl_record *rec)
{
	PyObject *d = PyDict_New();
	char task[PL_TASK_STR_MAX];
	int ok = d != NULL;
	unsigned kind = rec->kind <= PL_REC_STATS ? rec->kind : 0;
	ok = ok && put(rd, d, K_KIND, Py_NewRef(rd->kinds[kind])) == 0;
	ok = ok && put(rd, d, K_TS, PyLong_FromUnsignedLongLong(rec->ts_ns)) == 0;
	ok = ok && put(rd, d, K_WALL, PyLong_FromLongLong(rec->wall_ns)) == 0;
	ok = ok && put(rd, d, K_THREAD, PyLong_FromUnsignedLong(rec->thread)) == 0;
	ok = ok && put(rd, d, K_TID, PyLong_FromUnsignedLong(rec->tid)) == 0;
	if (ok && rec->kind >= PL_REC_START && rec->kind <= PL_REC_MESSAGE) {
		int n = pl_task_format(rec->task_prefix, rec->task_seq, rec->level, rec->depth,
				       task, sizeof(task));
		ok = ok && put(rd, d, K_TASK, text(task, n > 0 ? (size_t)n : 0)) == 0;
		const char *at = n > 0 ? memchr(task, '@', (size_t)n) : NULL;
		ok = ok && put(rd, d, K_TASK_ID, text(task, at ? (size_t)(at - task) : 0)) == 0;
		ok = ok && put(rd, d, K_LEVEL, level(rec->level, rec->depth)) == 0;
		ok = ok && put(rd, d, K_FIELDS, fields(rec->fields, rec->nfields)) == 0;
		if (rec->kind != PL_REC_END)
			ok = ok && put(rd, d, K_TYPE, opt_text(rec->type)) == 0;
	}
	if (ok && rec->kind == PL_REC_END) {
		bool failed = rec->outcome != PL_SUCCEEDED; /* failed or cancelled */
		const char *outcome = rec->outcome == PL_CANCELLED ? "cancelled"
				      : failed			   ? "failed"
								   : "succeeded";
		ok = ok && put(rd, d, K_OUTCOME, PyUnicode_FromString(outcome)) == 0;
		ok = ok &&
		     put(rd, d, K_DURATION, PyLong_FromUnsignedLongLong(rec->duration_ns)) == 0;
		ok = ok && put(rd, d, K_EXC_TYPE, opt_text(failed ? rec->exc_type : NULL)) == 0;
		ok = ok && put(rd, d, K_EXC_MSG, opt_text(failed ? rec->exc_msg : NULL)) == 0;
	}
	if (ok && rec->kind == PL_REC_THREAD)
		ok = put(rd, d, K_NAME, opt_text(rec->name)) == 0;
	if (ok && rec->kind == PL_REC_DROPPED) {
		ok = ok && put(rd, d, K_REASON, opt_text(rec->name)) == 0;
		ok = ok && put(rd, d, K_COUNT, PyLong_FromUnsignedLongLong(rec->count)) == 0;
	}
	if (ok && rec->kind == PL_REC_STATS)
		ok = put(rd, d, K_FIELDS, fields(rec->fields, rec->nfields)) == 0;
	if (!ok)
		Py_CLEAR(d);
	return d;
}

/* ---- errors ---- */

void pl_py_raise_reader_error(pl_py_state *st, PyObject *path, const struct pl_reader_error *e)
{
	int status = e ? e->status : -PL_ENOMEM;
	const char *reason = e && e->reason ? e->reason : pl_strerror(status);
	uint64_t offset = e ? e->offset : 0;
	PyObject *msg = PyUnicode_FromFormat("%U: %s (at byte offset %llu)", path, reason,
					     (unsigned long long)offset);
	PyObject *exc = msg ? PyObject_CallOneArg(st->trace_error, msg) : NULL;
	Py_XDECREF(msg);
	if (!exc)
		return;
	PyObject *off = PyLong_FromUnsignedLongLong(offset), *rs = PyUnicode_FromString(reason);
	PyObject *stat = PyLong_FromLong(status);
	if (!off || !rs || !stat || PyObject_SetAttrString(exc, "path", path) < 0 ||
	    PyObject_SetAttrString(exc, "offset", off) < 0 ||
	    PyObject_SetAttrString(exc, "reason", rs) < 0 ||
	    PyObject_SetAttrString(exc, "status", stat) < 0)
		PyErr_Clear();
	Py_XDECREF(off);
	Py_XDECREF(rs);
	Py_XDECREF(stat);
	PyErr_SetObject(st->trace_error, exc);
	Py_DECREF(exc);
}

/* ---- type ---- */

static PyObject *header_dict(const struct pl_trace_header *h)
{
	char prefix[24];
	snprintf(prefix, sizeof(prefix), "%016llx", (unsigned long long)h->task_prefix);
	PyObject *argv = PyList_New((Py_ssize_t)h->argc);
	for (size_t i = 0; argv && i < h->argc; i++) {
		PyObject *a = opt_text(h->argv[i]);
		if (!a)
			Py_CLEAR(argv);
		else
			PyList_SET_ITEM(argv, (Py_ssize_t)i, a);
	}
	if (!argv)
		return NULL;
	return Py_BuildValue(
	    "{s:I,s:L,s:N,s:N,s:N,s:K,s:L,s:s,s:N}", "version", h->version, "pid",
	    (long long)h->pid, "host", opt_text(h->host), "argv", argv, "clock", opt_text(h->clock),
	    "mono_anchor_ns", (unsigned long long)h->mono_anchor_ns, "wall_anchor_ns",
	    (long long)h->wall_anchor_ns, "task_prefix", prefix, "library", opt_text(h->library));
}

PyObject *pl_py_read(PyObject *module, PyObject *arg)
{
	pl_py_state *st = PyModule_GetState(module);
	PyObject *bpath = NULL, *path = NULL;
	if (!PyUnicode_FSConverter(arg, &bpath))
		return NULL;
	path = PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(bpath));
	pl_py_reader *rd = path ? PyObject_GC_New(pl_py_reader, st->reader_type) : NULL;
	if (!rd)
		goto err;
	rd->st = st;
	rd->r = NULL;
	rd->path = path;
	rd->header = NULL;
	rd->index_problem = NULL;
	path = NULL;
	memset(rd->keys, 0, sizeof(rd->keys));
	memset(rd->kinds, 0, sizeof(rd->kinds));
	PyObject_GC_Track(rd);
	for (int k = 0; k < K_NKEYS; k++)
		if (!(rd->keys[k] = PyUnicode_InternFromString(key_text[k])))
			goto err;
	for (int k = 0; k < 7; k++)
		if (!(rd->kinds[k] = PyUnicode_InternFromString(kind_text[k])))
			goto err;
	int ret, err = 0;
	const char *p = PyBytes_AS_STRING(bpath);
	for (;;) {
		Py_BEGIN_ALLOW_THREADS errno = 0;
		ret = pl_reader_open(p, &rd->r);
		err = errno;
		Py_END_ALLOW_THREADS
		    /* A signal while opening (a FIFO waits for its writer): run the handlers, let
		     * their exception out (KeyboardInterrupt), else try again (PEP 475). */
		    if (!(ret == -PL_EIO && err == EINTR)) break;
		pl_reader_close(rd->r);
		rd->r = NULL;
		if (PyErr_CheckSignals() < 0)
			goto err;
	}
	if (ret == -PL_EIO && rd->r && pl_reader_error(rd->r)->offset == 0 && err &&
	    !strncmp(pl_reader_error(rd->r)->reason, "cannot open", 11)) {
		/* Not opened at all: the OSError of its errno (FileNotFoundError, ...). */
		errno = err;
		PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, rd->path);
		goto err;
	}
	if (ret < 0) {
		pl_py_raise_reader_error(st, rd->path, rd->r ? pl_reader_error(rd->r) : NULL);
		goto err;
	}
	if (!(rd->header = header_dict(pl_reader_header(rd->r))))
		goto err;
	Py_DECREF(bpath);
	return (PyObject *)rd;
err:
	Py_XDECREF(rd);
	Py_XDECREF(path);
	Py_XDECREF(bpath);
	return NULL;
}

/* Close the C reader, keeping what its stats say for the index_problem attribute. */
static void close_reader(pl_py_reader *rd)
{
	struct pl_reader_stats st = PL_READER_STATS_INIT;
	if (rd->r && !rd->index_problem && pl_reader_stats(rd->r, &st) == 0 && st.index_disagrees) {
		/* Only a diagnostic: failing to keep it must not replace a pending error. */
		PyObject *type, *val, *tb;
		PyErr_Fetch(&type, &val, &tb);
		rd->index_problem = text(st.index_problem, strlen(st.index_problem));
		PyErr_Clear();
		PyErr_Restore(type, val, tb);
	}
	pl_reader_close(rd->r);
	rd->r = NULL;
}

static PyObject *reader_next(PyObject *self)
{
	pl_py_reader *rd = (pl_py_reader *)self;
	struct pl_record rec = PL_RECORD_INIT;
	if (!rd->r)
		return NULL;
	int ret = pl_reader_next(rd->r, &rec);
	if (ret == 0)
		return record(rd, &rec);
	if (ret < 0)
		pl_py_raise_reader_error(rd->st, rd->path, pl_reader_error(rd->r));
	close_reader(rd);
	return NULL;
}

PyDoc_STRVAR(close_doc, "close($self, /)\n--\n\nClose the file; iteration then stops.");
static PyObject *reader_close(PyObject *self, PyObject *unused)
{
	close_reader((pl_py_reader *)self);
	Py_RETURN_NONE;
}

static PyObject *reader_enter(PyObject *self, PyObject *unused)
{
	return Py_NewRef(self);
}

static PyObject *reader_exit(PyObject *self, PyObject *args)
{
	reader_close(self, NULL);
	Py_RETURN_FALSE;
}

static PyObject *reader_header(PyObject *self, void *closure)
{
	return Py_NewRef(((pl_py_reader *)self)->header);
}

static PyObject *reader_path(PyObject *self, void *closure)
{
	return Py_NewRef(((pl_py_reader *)self)->path);
}

static PyObject *reader_index_problem(PyObject *self, void *closure)
{
	pl_py_reader *rd = (pl_py_reader *)self;
	struct pl_reader_stats st = PL_READER_STATS_INIT;
	if (rd->index_problem)
		return Py_NewRef(rd->index_problem);
	if (rd->r && pl_reader_stats(rd->r, &st) == 0 && st.index_disagrees)
		return text(st.index_problem, strlen(st.index_problem));
	Py_RETURN_NONE;
}

static int reader_traverse(PyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(((pl_py_reader *)self)->header);
	return 0;
}

static void reader_dealloc(PyObject *self)
{
	pl_py_reader *rd = (pl_py_reader *)self;
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_GC_UnTrack(self);
	pl_reader_close(rd->r);
	Py_XDECREF(rd->path);
	Py_XDECREF(rd->header);
	Py_XDECREF(rd->index_problem);
	for (int k = 0; k < K_NKEYS; k++)
		Py_XDECREF(rd->keys[k]);
	for (int k = 0; k < 7; k++)
		Py_XDECREF(rd->kinds[k]);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyMethodDef reader_methods[] = {
    {"close", reader_close, METH_NOARGS, close_doc},
    {"__enter__", reader_enter, METH_NOARGS, NULL},
    {"__exit__", reader_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef reader_getset[] = {
    {"header", reader_header, NULL, "The file's header: pid, host, argv, clock, ...", NULL},
    {"path", reader_path, NULL, "The file read.", NULL},
    {"index_problem", reader_index_problem, NULL,
     "None, or where the file's frame index disagreed with its data (\"offset N: ...\"):\n"
     "a damaged index. Every record is still read; only time windows lose their speed.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(reader_doc,
	     "Iterator over the records of a trace file (see perflog.read()). Each record is a\n"
	     "dict with keys kind, ts_ns, wall_ns, thread, tid and, by kind: task, task_id,\n"
	     "level, type, fields (start, message); task, task_id, level, fields, outcome,\n"
	     "duration_ns, exc_type, exc_msg (end); name (thread); reason, count (dropped);\n"
	     "fields (stats).");

static PyType_Slot reader_slots[] = {
    {Py_tp_doc, (void *)reader_doc},
    {Py_tp_iter, PL_PY_FN(PyObject_SelfIter)},
    {Py_tp_iternext, PL_PY_FN(reader_next)},
    {Py_tp_methods, reader_methods},
    {Py_tp_getset, reader_getset},
    {Py_tp_traverse, PL_PY_FN(reader_traverse)},
    {Py_tp_dealloc, PL_PY_FN(reader_dealloc)},
    {0, NULL},
};

PyType_Spec pl_py_reader_spec = {
    .name = "perflog.Reader",
    .basicsize = sizeof(pl_py_reader),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION |
	     Py_TPFLAGS_IMMUTABLETYPE,
    .slots = reader_slots,
};
