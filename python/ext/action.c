/* SPDX-License-Identifier: MIT */
/* action.c - perflog.Action: an action kept in a Python object. It is what
 * perflog.action() returns (a context manager, sync and async), what carries a decorated
 * coroutine's or generator's action across its steps, and what the contextvar holds.
 * Also perflog.action() and perflog.log(), and the immediate awaitable of __aenter__.
 */
#include "context.h"
#include "convert.h"
#include "signature.h"

/* ---- held fields ---- */

int pl_py_held_add(struct pl_py_held *h, pl_name name, pl_name trunc, PyObject *value)
{
	if (!h->items && h->n == PL_PY_HELD_INLINE) { /* the inline ones go to the heap */
		struct pl_py_heldfield *items =
		    PyMem_Malloc(2 * PL_PY_HELD_INLINE * sizeof(*items));
		if (!items) {
			PyErr_NoMemory();
			return -1;
		}
		memcpy(items, h->inl, sizeof(h->inl));
		h->items = items;
		h->cap = 2 * PL_PY_HELD_INLINE;
	} else if (h->items && h->n == h->cap) {
		uint32_t cap = h->cap * 2;
		struct pl_py_heldfield *items = PyMem_Realloc(h->items, cap * sizeof(*items));
		if (!items) {
			PyErr_NoMemory();
			return -1;
		}
		h->items = items;
		h->cap = cap;
	}
	pl_py_held_items(h)[h->n++] = (struct pl_py_heldfield){name, trunc, Py_NewRef(value)};
	return 0;
}

void pl_py_held_clear(struct pl_py_held *h)
{
	/* Detach first: a value's destructor may run code that looks at this object. */
	uint32_t n = h->n;
	struct pl_py_heldfield *items = h->items;
	if (!n && !items)
		return;
	h->n = h->cap = 0;
	h->items = NULL;
	if (!items) { /* the usual few, inline: only their values are needed */
		PyObject *v[PL_PY_HELD_INLINE];
		for (uint32_t i = 0; i < n; i++)
			v[i] = h->inl[i].value;
		for (uint32_t i = 0; i < n; i++)
			Py_DECREF(v[i]);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		Py_DECREF(items[i].value);
	PyMem_Free(items);
}

int pl_py_held_traverse(struct pl_py_held *h, visitproc visit, void *arg)
{
	struct pl_py_heldfield *items = pl_py_held_items(h);
	for (uint32_t i = 0; i < h->n; i++)
		Py_VISIT(items[i].value);
	return 0;
}

/* Hold keyword arguments of a METH_FASTCALL call as fields. Never raises. */
static void hold_kwargs(pl_py_state *st, struct pl_py_held *h, PyObject *const *vals,
			PyObject *kwnames)
{
	Py_ssize_t n = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	for (Py_ssize_t i = 0; i < n; i++) {
		pl_name name = pl_py_name(st, PyTuple_GET_ITEM(kwnames, i));
		if (pl_py_held_add(h, name, 0, vals[i]) < 0) {
			PyErr_Clear();
			pl_py_count(st, PL_PY_ERR_MEMORY);
			return;
		}
	}
}

int pl_py_action_hold_fields(pl_py_action *a, PyObject *fields)
{
	Py_ssize_t pos = 0;
	PyObject *k, *v;
	while (PyDict_Next(fields, &pos, &k, &v)) {
		if (!PyUnicode_Check(k)) {
			PyErr_SetString(PyExc_TypeError, "field names must be str");
			return -1;
		}
		if (pl_py_held_add(&a->start_fields, pl_py_name(a->st, k), 0, v) < 0)
			return -1;
	}
	return 0;
}

/* ---- creation ---- */

static pl_py_action *action_make(pl_py_state *st, pl_name type, uint64_t prefix, uint64_t seq,
				 const uint32_t *level, uint32_t depth, Py_ssize_t max_len)
{
	if (!st->action_type) {
		PyErr_SetString(PyExc_RuntimeError, "perflog's module is finalized");
		return NULL;
	}
	pl_py_action *a = (pl_py_action *)pl_py_free_take(&st->free_actions, st->action_type);
	if (!a && !(a = PyObject_GC_New(pl_py_action, st->action_type)))
		return NULL;
	a->st = st;
	a->prefix = prefix;
	a->seq = seq;
	a->epoch = 0;
	a->depth = depth;
	a->level =
	    depth <= PL_PY_LEVEL_INLINE ? a->level_inline : PyMem_Malloc(depth * sizeof(uint32_t));
	a->type = type;
	a->state = PL_PY_PREPARED;
	a->max_len = max_len;
	a->record_result = false;
	a->secrets = NULL;
	a->start_fields = (struct pl_py_held){0};
	a->end_fields = (struct pl_py_held){0};
	a->token = NULL;
	a->traceparent = false;
	memset(&a->act, 0, sizeof(a->act));
	if (!a->level) {
		a->level = a->level_inline;
		a->depth = 0;
		Py_DECREF(a);
		return (pl_py_action *)PyErr_NoMemory();
	}
	if (depth)
		memcpy(a->level, level, depth * sizeof(uint32_t));
	PyObject_GC_Track(a);
	return a;
}

/* Kept out of line: the level buffer is 4 KiB of stack. */
__attribute__((noinline)) pl_py_action *pl_py_action_new_child(pl_py_state *st, pl_name type,
							       Py_ssize_t max_len)
{
	PyObject *owner;
	pl_action *parent = pl_py_current_action(st, &owner);
	uint32_t level[PL_LEVEL_MAX_DEPTH + 1];
	uint64_t prefix, seq;
	int depth = 0;
	if (parent) {
		depth = pl_action_level(parent, level, PL_LEVEL_MAX_DEPTH);
		if (depth < 0) {
			pl_py_count(st, PL_PY_ERR_DEPTH);
			parent = NULL;
			depth = 0;
		}
	}
	if (parent) {
		level[depth++] = pl_action_next_child(parent);
		pl_action_task(parent, &prefix, &seq);
	} else {
		pl_task_new(&prefix, &seq);
	}
	return action_make(st, type, prefix, seq, level, (uint32_t)depth, max_len);
}

pl_py_action *pl_py_action_new_at(pl_py_state *st, pl_name type, const struct pl_task_ref *ref)
{
	return action_make(st, type, ref->prefix, ref->seq, ref->level, ref->depth,
			   PL_PY_DEFAULT_MAX_LEN);
}

pl_py_action *pl_py_action_new_traced(pl_py_state *st, pl_name type,
				      const struct pl_traceparent *tp)
{
	uint64_t prefix, seq, parent = 0;
	pl_task_new(&prefix, &seq);
	pl_py_action *a = action_make(st, type, prefix, seq, NULL, 0, PL_PY_DEFAULT_MAX_LEN);
	if (!a)
		return NULL;
	char text[PL_TRACEPARENT_LEN + 1];
	for (int i = 0; i < 8; i++)
		parent = parent << 8 | tp->parent_id[i];
	pl_traceparent_format(tp->trace_id, parent, tp->flags, text, sizeof(text));
	PyObject *v = PyUnicode_FromStringAndSize(text, PL_TRACEPARENT_LEN);
	if (!v || pl_py_held_add(&a->start_fields,
				 pl_name_intern(PL_TRACEPARENT_FIELD, strlen(PL_TRACEPARENT_FIELD)),
				 0, v) < 0) {
		Py_XDECREF(v);
		Py_DECREF(a);
		return NULL;
	}
	Py_DECREF(v);
	/* Registered now, not at begin: the task's traceparent is right even before. */
	a->traceparent = pl_task_trace_set(prefix, seq, tp) == 0;
	return a;
}

static void untrace(pl_py_action *a)
{
	if (a->traceparent)
		pl_task_trace_clear(a->prefix, a->seq);
	a->traceparent = false;
}

/* ---- begin / finish ---- */

/* The usual START fields of a coroutine or generator: its held arguments, each a quick
 * scalar (pl_py_quick_scalar), at most PL_PY_HELD_INLINE of them. False, with nothing
 * recorded, when the converter must take them. */
static inline bool begin_quick(pl_py_action *a, struct pl_writer *w)
{
	const struct pl_py_held *h = &a->start_fields;
	struct pl_field f[PL_PY_HELD_INLINE];
	if (h->items || h->n > PL_PY_HELD_INLINE)
		return false;
	for (uint32_t i = 0; i < h->n; i++) {
		if (!pl_py_quick_scalar(a->max_len, h->inl[i].value, &f[i].value))
			return false;
		f[i].name = h->inl[i].name;
	}
	pl_action_begin_at(&a->act, w, a->prefix, a->seq, a->level, a->depth, a->type, f, h->n);
	return true;
}

__attribute__((noinline)) static void begin_with_fields(pl_py_action *a, struct pl_writer *w)
{
	if (begin_quick(a, w))
		return;
	struct pl_py_conv c;
	pl_py_conv_init(&c, a->st, a->max_len);
	pl_py_conv_add_held(&c, &a->start_fields);
	pl_action_begin_at(&a->act, w, a->prefix, a->seq, a->level, a->depth, a->type, c.fields,
			   c.n);
}

void pl_py_action_begin(pl_py_action *a)
{
	if (a->state != PL_PY_PREPARED)
		return;
	if (a->st->writer)
		(void)pl_py_stack_named(a->st);
	struct pl_writer *w = a->st->writer;
	a->state = PL_PY_ACTIVE;
	a->epoch = a->st->epoch;
	if (w && a->start_fields.n)
		begin_with_fields(a, w);
	else
		pl_action_begin_at(&a->act, w, a->prefix, a->seq, a->level, a->depth, a->type, NULL,
				   0);
	pl_py_held_clear(&a->start_fields);
}

__attribute__((noinline)) static void end_with_fields(pl_py_action *a, struct pl_py_exc *e,
						      bool closed)
{
	if (!e && !closed && !a->end_fields.n) { /* the usual END: nothing to convert */
		pl_action_end(&a->act, NULL, 0);
		return;
	}
	struct pl_py_conv c;
	pl_py_conv_init(&c, a->st, a->max_len);
	pl_py_conv_add_held(&c, &a->end_fields);
	if (closed && c.n < PL_PY_MAX_FIELDS)
		c.fields[c.n++] = (struct pl_field){a->st->name_closed, PL_V_BOOL(1)};
	if (e)
		pl_py_end_exc(&a->act, e, c.fields, c.n);
	else
		pl_action_end(&a->act, c.fields, c.n);
}

static void finish(pl_py_action *a, PyObject *exc_type, PyObject *exc, bool closed)
{
	pl_py_state *st = a->st;
	if (a->state != PL_PY_ACTIVE)
		return;
	a->state = PL_PY_FINISHED;
	untrace(a);
	if (st->writer && a->epoch == st->epoch) {
		struct pl_py_exc e;
		if (exc && exc != Py_None) {
			pl_py_exc_describe(st, exc_type, exc, &e);
			if (a->secrets)
				pl_py_exc_redact(st, &e, &PyTuple_GET_ITEM(a->secrets, 0),
						 PyTuple_GET_SIZE(a->secrets));
		}
		end_with_fields(a, exc && exc != Py_None ? &e : NULL, closed);
		if (exc && exc != Py_None)
			pl_py_exc_release(&e);
	}
	pl_py_held_clear(&a->end_fields);
}

void pl_py_action_finish(pl_py_action *a, PyObject *exc_type, PyObject *exc)
{
	finish(a, exc_type, exc, false);
}

/* ---- context manager ---- */

static int check_nargs(const char *fn, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max)
{
	if (nargs >= min && nargs <= max)
		return 0;
	PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd positional arguments (%zd given)", fn,
		     min, max, nargs);
	return -1;
}

static PyObject *enter(pl_py_action *a)
{
	if (a->token) {
		PyErr_SetString(PyExc_RuntimeError, "this perflog.Action is already entered");
		return NULL;
	}
	pl_py_action_begin(a);
	a->token = PyContextVar_Set(a->st->ctxvar, (PyObject *)a);
	if (!a->token) {
		PyErr_Clear();
		pl_py_count(a->st, PL_PY_ERR_CONTEXT);
	}
	return Py_NewRef(a);
}

static void exit_(pl_py_action *a, PyObject *type, PyObject *value)
{
	/* Reset the contextvar first, then finish with the exception (eliot's order). */
	PyObject *token = a->token;
	a->token = NULL;
	if (token) {
		if (PyContextVar_Reset(a->st->ctxvar, token) < 0) {
			PyErr_Clear();
			pl_py_count(a->st, PL_PY_ERR_CONTEXT);
		}
		Py_DECREF(token);
	}
	finish(a, type == Py_None ? NULL : type, value == Py_None ? NULL : value, false);
}

PyDoc_STRVAR(enter_doc, "__enter__($self, /)\n--\n\nBegin the action and make it current.");
static PyObject *action_enter(PyObject *self, PyObject *unused)
{
	return enter((pl_py_action *)self);
}

PyDoc_STRVAR(exit_doc, "__exit__($self, exc_type, exc, tb, /)\n--\n\n"
		       "Restore the previous current action, then end this one: failed with the\n"
		       "exception if there is one (which propagates), else succeeded.");
static PyObject *action_exit(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (check_nargs("__exit__", nargs, 3, 3) < 0)
		return NULL;
	exit_((pl_py_action *)self, args[0], args[1]);
	Py_RETURN_FALSE;
}

static PyObject *ready_new(pl_py_state *st, PyObject *value);

PyDoc_STRVAR(aenter_doc, "__aenter__($self, /)\n--\n\nAs __enter__, for `async with`.");
static PyObject *action_aenter(PyObject *self, PyObject *unused)
{
	PyObject *r = enter((pl_py_action *)self);
	if (!r)
		return NULL;
	Py_DECREF(r);
	return ready_new(((pl_py_action *)self)->st, self);
}

PyDoc_STRVAR(aexit_doc,
	     "__aexit__($self, exc_type, exc, tb, /)\n--\n\nAs __exit__, for `async with`.");
static PyObject *action_aexit(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (check_nargs("__aexit__", nargs, 3, 3) < 0)
		return NULL;
	exit_((pl_py_action *)self, args[0], args[1]);
	return ready_new(((pl_py_action *)self)->st, Py_False);
}

PyDoc_STRVAR(add_doc, "add($self, /, **fields)\n--\n\n"
		      "Add fields recorded when the action ends (their values as they are then).\n"
		      "Ignored once the action has ended.");
static PyObject *action_add(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
	pl_py_action *a = (pl_py_action *)self;
	Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
	if (nargs) {
		PyErr_SetString(PyExc_TypeError, "add() takes keyword arguments only");
		return NULL;
	}
	if (a->state != PL_PY_FINISHED)
		hold_kwargs(a->st, &a->end_fields, args, kwnames);
	Py_RETURN_NONE;
}

/* ---- hooks for the Python coroutine/generator wrappers (perflog/_wrappers.py) ---- */

PyDoc_STRVAR(resume_doc,
	     "_resume($self, /)\n--\n\n"
	     "Begin the action if needed and make it current; returns the contextvar token.");
static PyObject *action_resume(PyObject *self, PyObject *unused)
{
	pl_py_action *a = (pl_py_action *)self;
	pl_py_action_begin(a);
	PyObject *token = PyContextVar_Set(a->st->ctxvar, self);
	if (!token) {
		PyErr_Clear();
		pl_py_count(a->st, PL_PY_ERR_CONTEXT);
		Py_RETURN_NONE;
	}
	return token;
}

PyDoc_STRVAR(suspend_doc, "_suspend($self, token, /)\n--\n\nUndo _resume(); never raises.");
static PyObject *action_suspend(PyObject *self, PyObject *token)
{
	pl_py_action *a = (pl_py_action *)self;
	if (token != Py_None && PyContextVar_Reset(a->st->ctxvar, token) < 0) {
		PyErr_Clear();
		pl_py_count(a->st, PL_PY_ERR_CONTEXT);
	}
	Py_RETURN_NONE;
}

PyDoc_STRVAR(finish_doc,
	     "_finish($self, exc=None, closed=False, /)\n--\n\n"
	     "End the action: failed with exc, or succeeded (closed=True: closed early).");
static PyObject *action_finish(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	pl_py_action *a = (pl_py_action *)self;
	if (check_nargs("_finish", nargs, 0, 2) < 0)
		return NULL;
	PyObject *exc = nargs > 0 && args[0] != Py_None ? args[0] : NULL;
	bool closed = nargs > 1 && PyObject_IsTrue(args[1]) == 1;
	finish(a, exc ? (PyObject *)Py_TYPE(exc) : NULL, exc, closed);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(return_doc,
	     "_return($self, value, /)\n--\n\n"
	     "End the action as succeeded, recording value as \"result\" if the decorator asked.");
static PyObject *action_return(PyObject *self, PyObject *value)
{
	pl_py_action_return((pl_py_action *)self, value);
	Py_RETURN_NONE;
}

void pl_py_action_return(pl_py_action *a, PyObject *value)
{
	if (a->secrets &&
	    pl_py_reveals(value, &PyTuple_GET_ITEM(a->secrets, 0), PyTuple_GET_SIZE(a->secrets)))
		value = a->st->redacted;
	if (a->record_result && a->state == PL_PY_ACTIVE &&
	    pl_py_held_add(&a->end_fields, a->st->name_result, 0, value) < 0) {
		PyErr_Clear();
		pl_py_count(a->st, PL_PY_ERR_MEMORY);
	}
	finish(a, NULL, NULL, false);
}

void pl_py_action_close(pl_py_action *a)
{
	finish(a, NULL, NULL, true);
}

/* ---- log ---- */

__attribute__((noinline)) static void message(pl_py_state *st, pl_action *parent, PyObject *type,
					      PyObject *const *vals, PyObject *kwnames)
{
	struct pl_py_conv c;
	pl_py_conv_init(&c, st, PL_PY_DEFAULT_MAX_LEN);
	Py_ssize_t n = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	for (Py_ssize_t i = 0; i < n; i++)
		pl_py_conv_add(&c, pl_py_name(st, PyTuple_GET_ITEM(kwnames, i)), 0, vals[i]);
	if (st->writer)
		(void)pl_py_stack_named(st);
	pl_message(st->writer, parent, pl_py_name(st, type), c.fields, c.n);
}

static int check_type_arg(const char *fn, Py_ssize_t nargs, PyObject *const *args)
{
	if (nargs != 1) {
		PyErr_Format(PyExc_TypeError, "%s() takes one positional argument (%zd given)", fn,
			     nargs);
		return -1;
	}
	if (!PyUnicode_Check(args[0])) {
		PyErr_Format(PyExc_TypeError, "%s(): the type must be a str", fn);
		return -1;
	}
	return 0;
}

PyDoc_STRVAR(action_log_doc,
	     "log($self, message_type, /, **fields)\n--\n\nRecord a message inside this action.");
static PyObject *action_log(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
	pl_py_action *a = (pl_py_action *)self;
	Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
	if (check_type_arg("log", nargs, args) < 0)
		return NULL;
	if (a->st->writer && a->state == PL_PY_ACTIVE && a->epoch == a->st->epoch)
		message(a->st, &a->act, args[0], args + nargs, kwnames);
	Py_RETURN_NONE;
}

PyObject *pl_py_log(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
	pl_py_state *st = PyModule_GetState(module);
	if (check_type_arg("log", nargs, args) < 0)
		return NULL;
	if (st->writer) {
		PyObject *owner;
		pl_action *parent = pl_py_current_action(st, &owner);
		/* Held: interning names allocates, and nothing may free the parent meanwhile. */
		Py_XINCREF(owner);
		message(st, parent, args[0], args + nargs, kwnames);
		Py_XDECREF(owner);
	}
	Py_RETURN_NONE;
}

PyObject *pl_py_action_func(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
			    PyObject *kwnames)
{
	pl_py_state *st = PyModule_GetState(module);
	if (check_type_arg("action", nargs, args) < 0)
		return NULL;
	pl_py_action *a =
	    pl_py_action_new_child(st, pl_py_name(st, args[0]), PL_PY_DEFAULT_MAX_LEN);
	if (a)
		hold_kwargs(st, &a->start_fields, args + nargs, kwnames);
	return (PyObject *)a;
}

/* ---- type ---- */

static int action_traverse(PyObject *self, visitproc visit, void *arg)
{
	pl_py_action *a = (pl_py_action *)self;
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(a->token);
	Py_VISIT(a->secrets);
	pl_py_held_traverse(&a->start_fields, visit, arg);
	pl_py_held_traverse(&a->end_fields, visit, arg);
	return 0;
}

static int action_clear(PyObject *self)
{
	pl_py_action *a = (pl_py_action *)self;
	Py_CLEAR(a->token);
	Py_CLEAR(a->secrets);
	pl_py_held_clear(&a->start_fields);
	pl_py_held_clear(&a->end_fields);
	return 0;
}

/* An action still running when collected stays unfinished in the trace: the analyzer
 * shows it so, which is the truth (it never ended). */
static void action_dealloc(PyObject *self)
{
	pl_py_action *a = (pl_py_action *)self;
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_GC_UnTrack(self);
	untrace(a); /* never entered, or not finished */
	action_clear(self);
	if (a->level != a->level_inline)
		PyMem_Free(a->level);
	pl_py_free_keep(&a->st->free_actions, self, a->st->action_type == tp);
	Py_DECREF(tp);
}

static PyObject *action_repr(PyObject *self)
{
	static const char *const states[] = {"prepared", "active", "finished"};
	pl_py_action *a = (pl_py_action *)self;
	char task[PL_TASK_STR_MAX];
	if (pl_task_format(a->prefix, a->seq, a->level, a->depth, task, sizeof(task)) < 0)
		task[0] = '\0';
	return PyUnicode_FromFormat("<perflog.Action %s %s %s>", pl_name_str(a->type, NULL), task,
				    states[a->state]);
}

static PyMethodDef action_methods[] = {
    {"__enter__", action_enter, METH_NOARGS, enter_doc},
    {"__exit__", (PyCFunction)(void (*)(void))action_exit, METH_FASTCALL, exit_doc},
    {"__aenter__", action_aenter, METH_NOARGS, aenter_doc},
    {"__aexit__", (PyCFunction)(void (*)(void))action_aexit, METH_FASTCALL, aexit_doc},
    {"add", (PyCFunction)(void (*)(void))action_add, METH_FASTCALL | METH_KEYWORDS, add_doc},
    {"log", (PyCFunction)(void (*)(void))action_log, METH_FASTCALL | METH_KEYWORDS, action_log_doc},
    {"_resume", action_resume, METH_NOARGS, resume_doc},
    {"_suspend", action_suspend, METH_O, suspend_doc},
    {"_finish", (PyCFunction)(void (*)(void))action_finish, METH_FASTCALL, finish_doc},
    {"_return", action_return, METH_O, return_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(action_doc, "An action recorded from Python: made by perflog.action() and\n"
			 "perflog.continue_task(); use it as a (async) context manager.");

static PyType_Slot action_slots[] = {
    {Py_tp_doc, (void *)action_doc},
    {Py_tp_methods, action_methods},
    {Py_tp_traverse, PL_PY_FN(action_traverse)},
    {Py_tp_clear, PL_PY_FN(action_clear)},
    {Py_tp_dealloc, PL_PY_FN(action_dealloc)},
    {Py_tp_repr, PL_PY_FN(action_repr)},
    {0, NULL},
};

PyType_Spec pl_py_action_spec = {
    .name = "perflog.Action",
    .basicsize = sizeof(pl_py_action),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION |
	     Py_TPFLAGS_IMMUTABLETYPE,
    .slots = action_slots,
};

/* ---- the immediate awaitable returned by __aenter__/__aexit__ ---- */

typedef struct {
	PyObject_HEAD PyObject *value;
} pl_py_ready;

static PyObject *ready_new(pl_py_state *st, PyObject *value)
{
	pl_py_ready *r = PyObject_GC_New(pl_py_ready, st->ready_type);
	if (!r)
		return NULL;
	r->value = Py_NewRef(value);
	PyObject_GC_Track(r);
	return (PyObject *)r;
}

static PyObject *ready_await(PyObject *self)
{
	return Py_NewRef(self);
}

static PySendResult ready_send(PyObject *self, PyObject *arg, PyObject **result)
{
	*result = Py_NewRef(((pl_py_ready *)self)->value);
	return PYGEN_RETURN;
}

static PyObject *ready_next(PyObject *self)
{
	PyObject *e = PyObject_CallOneArg(PyExc_StopIteration, ((pl_py_ready *)self)->value);
	if (e) {
		PyErr_SetObject(PyExc_StopIteration, e);
		Py_DECREF(e);
	}
	return NULL;
}

static int ready_traverse(PyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(((pl_py_ready *)self)->value);
	return 0;
}

static int ready_clear(PyObject *self)
{
	Py_CLEAR(((pl_py_ready *)self)->value);
	return 0;
}

static void ready_dealloc(PyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_GC_UnTrack(self);
	ready_clear(self);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyType_Slot ready_slots[] = {
    {Py_am_await, PL_PY_FN(ready_await)},	{Py_am_send, PL_PY_FN(ready_send)},
    {Py_tp_iter, PL_PY_FN(ready_await)},	{Py_tp_iternext, PL_PY_FN(ready_next)},
    {Py_tp_traverse, PL_PY_FN(ready_traverse)}, {Py_tp_clear, PL_PY_FN(ready_clear)},
    {Py_tp_dealloc, PL_PY_FN(ready_dealloc)},	{0, NULL},
};

PyType_Spec pl_py_ready_spec = {
    .name = "perflog._Ready",
    .basicsize = sizeof(pl_py_ready),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION |
	     Py_TPFLAGS_IMMUTABLETYPE,
    .slots = ready_slots,
};
