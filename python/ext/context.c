/* SPDX-License-Identifier: MIT */
/* context.c - the per-thread frame stack (see context.h), and the causality functions
 * built on the current action: current_task(), continue_task(), and _child_action() for
 * carrying the current action to another thread. */
#include "context.h" /* first: Python.h before any system header */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

__thread struct pl_py_stack *pl_py_tls_stack __attribute__((tls_model("initial-exec")));

static pthread_key_t stack_key;
static pthread_once_t stack_key_once = PTHREAD_ONCE_INIT;

/* Thread exit: every frame was popped when its call returned, so only memory is left. */
static void stack_free(void *p)
{
	struct pl_py_stack *s = p;
	struct pl_py_chunk *c = s->first.next;
	while (c) {
		struct pl_py_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(s);
	pl_py_tls_stack = NULL; /* destructors run in the exiting thread itself */
}

static void stack_key_init(void)
{
	(void)pthread_key_create(&stack_key, stack_free);
}

struct pl_py_stack *pl_py_stack_create(void)
{
	struct pl_py_stack *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cur = &s->first;
	pthread_once(&stack_key_once, stack_key_init);
	(void)pthread_setspecific(stack_key, s);
	pl_py_tls_stack = s;
	return s;
}

struct pl_py_frame *pl_py_stack_push_slow(struct pl_py_stack *s)
{
	struct pl_py_chunk *next = s->cur->next;
	if (!next) {
		next = calloc(1, sizeof(*next));
		if (!next)
			return NULL;
		next->prev = s->cur;
		s->cur->next = next;
	}
	s->cur = next;
	s->n = 1;
	return &next->f[0];
}

void pl_py_name_thread(pl_py_state *st, struct pl_py_stack *s)
{
	s->named_epoch = st->epoch; /* first: the Python code below may record actions */
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb); /* never disturb an exception being handled */
	PyObject *mod = PyImport_ImportModule("threading");
	PyObject *t = mod ? PyObject_CallMethod(mod, "current_thread", NULL) : NULL;
	PyObject *name = t ? PyObject_GetAttrString(t, "name") : NULL;
	const char *utf8 = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
	/* stop() may have run in that Python code: the writer is checked again. */
	if (utf8 && st->writer && s->named_epoch == st->epoch)
		pl_thread_name(st->writer, utf8);
	Py_XDECREF(name);
	Py_XDECREF(t);
	Py_XDECREF(mod);
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

pl_action *pl_py_current_action(pl_py_state *st, PyObject **owner)
{
	return pl_py_current(st, pl_py_tls_stack, pl_py_ctx_get(st), owner);
}

/* ---- current_task() ---- */

PyObject *pl_py_current_task(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kw[] = {"format", NULL};
	const char *format = "task";
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$s:current_task", kw, &format))
		return NULL;
	bool traceparent = !strcmp(format, "traceparent");
	if (!traceparent && strcmp(format, "task") != 0) {
		PyErr_Format(PyExc_ValueError,
			     "current_task(): format must be 'task' or 'traceparent', not '%s'",
			     format);
		return NULL;
	}
	pl_py_state *st = PyModule_GetState(module);
	PyObject *owner;
	pl_action *a = pl_py_current_action(st, &owner);
	char buf[PL_TASK_STR_MAX];
	if (!a)
		Py_RETURN_NONE;
	/* A traceparent names the current action itself (the caller's span): no child slot. */
	int n = traceparent ? pl_action_traceparent(a, buf, sizeof(buf))
			    : pl_action_serialize(a, buf, sizeof(buf));
	if (n < 0) {
		pl_py_count(st, PL_PY_ERR_SERIALIZE);
		Py_RETURN_NONE;
	}
	return PyUnicode_FromStringAndSize(buf, n);
}

/* ---- continue_task(s, action_type="perflog:remote_task") ---- */

static pl_py_action *continue_at(pl_py_state *st, PyObject *task, PyObject *type);

PyObject *pl_py_continue_task(PyObject *module, PyObject *args, PyObject *kwargs)
{
	pl_py_state *st = PyModule_GetState(module);
	PyObject *task = NULL, *type = NULL;
	if (!PyArg_UnpackTuple(args, "continue_task", 1, 2, &task, &type))
		return NULL;
	/* action_type by keyword; every other keyword is a field of the START. */
	PyObject *fields = kwargs ? PyDict_Copy(kwargs) : NULL;
	if (kwargs && !fields)
		return NULL;
	PyObject *kt = fields ? PyDict_GetItemString(fields, "action_type") : NULL;
	if (kt) {
		if (type) {
			Py_DECREF(fields);
			PyErr_SetString(PyExc_TypeError, "continue_task() got action_type twice");
			return NULL;
		}
		type = kt;
	}
	if (type && !PyUnicode_Check(type)) {
		Py_XDECREF(fields);
		PyErr_SetString(PyExc_TypeError, "continue_task(): action_type must be a str");
		return NULL;
	}
	Py_XINCREF(type);
	if (kt && PyDict_DelItemString(fields, "action_type") < 0)
		PyErr_Clear();
	pl_py_action *a = continue_at(st, task, type);
	Py_XDECREF(type);
	if (a && fields && pl_py_action_hold_fields(a, fields) < 0)
		Py_CLEAR(a);
	Py_XDECREF(fields);
	return (PyObject *)a;
}

static pl_py_action *continue_at(pl_py_state *st, PyObject *task, PyObject *type)
{
	pl_name name = type ? pl_py_name(st, type) : st->name_remote;
	const char *s = NULL;
	Py_ssize_t len = 0;
	if (PyUnicode_Check(task)) {
		s = PyUnicode_AsUTF8AndSize(task, &len);
		if (!s)
			PyErr_Clear();
	} else if (PyBytes_Check(task)) {
		s = PyBytes_AS_STRING(task);
		len = PyBytes_GET_SIZE(task);
	}
	/* A W3C traceparent (an OpenTelemetry caller's): a new task in the caller's trace. */
	struct pl_traceparent tp;
	if (s && !memchr(s, '@', (size_t)len) && pl_traceparent_parse(s, (size_t)len, &tp) == 0)
		return pl_py_action_new_traced(st, name, &tp);
	struct pl_task_ref ref;
	if (!s || pl_task_parse(s, (size_t)len, &ref) < 0) {
		/* Never raise into the caller for a bad header value: start a new task. */
		pl_py_count(st, PL_PY_ERR_BAD_TASK);
		uint64_t prefix, seq;
		pl_task_new(&prefix, &seq);
		ref = (struct pl_task_ref){.prefix = prefix, .seq = seq, .depth = 0};
	}
	return pl_py_action_new_at(st, name, &ref);
}

/* ---- _child_action(action_type): a prepared child of the current action, or None ---- */

PyObject *pl_py_child_action(PyObject *module, PyObject *type)
{
	pl_py_state *st = PyModule_GetState(module);
	PyObject *owner;
	if (!PyUnicode_Check(type)) {
		PyErr_SetString(PyExc_TypeError, "action_type must be a str");
		return NULL;
	}
	if (!pl_py_current_action(st, &owner))
		Py_RETURN_NONE;
	return (PyObject *)pl_py_action_new_child(st, pl_py_name(st, type), PY_SSIZE_T_MAX);
}
