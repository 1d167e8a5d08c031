/* SPDX-License-Identifier: MIT */
/* wrappers.c - what a decorated coroutine function or generator function returns: an
 * object that drives the function's own coroutine or generator (the inner one) and
 * carries its Action across the steps.
 *
 * The action's START is recorded at the first step and its END at the last, so
 *  - a coroutine's duration runs from the first time it is awaited (or sent into) until
 *    it returns or raises; awaits count;
 *  - a generator's runs from the first next() until it is exhausted, raises or is closed;
 *    the time the consumer spends between items counts too. Closed early (break,
 *    close(), garbage collection) it is recorded as succeeded with the field closed=True.
 * A wrapper never started records nothing; thrown into or closed before its first step,
 * it passes that on to the inner object and records nothing either.
 *
 * Why C. The wrappers used to be Python (an `async def` awaiting the inner coroutine, a
 * generator looping over the inner one): ~300 ns per decorated await, ~100 ns per item.
 * Here a step is one PyIter_Send() on the inner object (am_send: no StopIteration is
 * raised for a return), so a step costs a few nanoseconds.
 *
 * Which action is current in the body. A coroutine sets the contextvar at its first step
 * and resets it at its last: inside an asyncio task the task's context is only seen by
 * the coroutines it runs, and tasks created in the body inherit the action. A generator's
 * step is a synchronous call: a frame is pushed on the thread's stack for it (context.h),
 * which costs no allocation, where setting the contextvar at each item would.
 *
 * What they are not: native coroutine or generator objects (CPython's cannot be made by
 * an extension), so inspect.iscoroutine() and inspect.isgenerator() answer False. They
 * are registered as collections.abc.Coroutine and Generator (perflog/_decorator.py), so
 * asyncio.iscoroutine() and isinstance() checks accept them, and attributes they do not
 * have (cr_frame, gi_running, __name__, ...) are the inner object's.
 */
#include "context.h" /* first: Python.h before any system header */

#include <structmember.h>

enum { W_NEW, W_RUNNING, W_DONE };

typedef struct {
	PyObject_HEAD PyObject *inner;
	pl_py_action *act; /* NULL once done */
	PyObject *token;   /* coroutine: the contextvar's token while running */
	PyObject *weakrefs;
	uint8_t state;
	bool coro;
} pl_py_wrapper;

/* ---- steps ---- */

/* Begin the action at the first step; make it current for this step. Returns the frame
 * pushed for a generator's step (NULL for a coroutine, or when none could be). */
static struct pl_py_frame *step_enter(pl_py_wrapper *w, struct pl_py_stack **sp)
{
	pl_py_action *a = w->act;
	pl_py_state *st = a->st;
	if (w->state == W_NEW) {
		w->state = W_RUNNING;
		pl_py_action_begin(a);
		if (w->coro) {
			w->token = PyContextVar_Set(st->ctxvar, (PyObject *)a);
			if (!w->token) {
				PyErr_Clear();
				pl_py_count(st, PL_PY_ERR_CONTEXT);
			}
		}
	}
	if (w->coro)
		return NULL;
	struct pl_py_stack *s = *sp = pl_py_stack_get();
	struct pl_py_frame *f;
	if (PL_PY_UNLIKELY(!s || !(f = pl_py_stack_push(s)))) {
		pl_py_count(st, PL_PY_ERR_MEMORY);
		return NULL;
	}
	f->cur = &a->act;
	f->ctx_at_push = pl_py_ctx_get(st);
	f->parent_ref = NULL; /* the wrapper holds the Action for the whole step */
	f->epoch = a->epoch;
	return f;
}

static inline void step_leave(struct pl_py_stack *s, struct pl_py_frame *f)
{
	if (f)
		pl_py_stack_release(s, f);
}

/* The last step is over: the action ends with @value (a return) or with the exception
 * set (value NULL: it stays set), or as closed early. */
enum end_how { END_RETURN, END_RAISED, END_CLOSED };

static void end(pl_py_wrapper *w, enum end_how how, PyObject *value)
{
	pl_py_action *a = w->act;
	PyObject *token = w->token;
	PyObject *type = NULL, *exc = NULL, *tb = NULL;
	w->state = W_DONE;
	w->act = NULL;
	w->token = NULL;
	if (!a)
		return;
	if (how == END_RAISED) /* kept for the caller; the rest runs with none set */
		PyErr_Fetch(&type, &exc, &tb);
	if (token) { /* eliot's order: the previous action is current again, then the end */
		if (PyContextVar_Reset(a->st->ctxvar, token) < 0) {
			PyErr_Clear(); /* driven from another context than it began in */
			pl_py_count(a->st, PL_PY_ERR_CONTEXT);
		}
		Py_DECREF(token);
	}
	if (how == END_RETURN)
		pl_py_action_return(a, value);
	else if (how == END_CLOSED)
		pl_py_action_close(a);
	else if (type) {
		PyErr_NormalizeException(&type, &exc, &tb);
		if (PyErr_Occurred())
			PyErr_Clear();
		else
			pl_py_action_finish(a, type, exc);
	}
	if (how == END_RAISED)
		PyErr_Restore(type, exc, tb);
	Py_DECREF(a);
}

/* One step: send @arg into the inner object. */
static PySendResult step(pl_py_wrapper *w, PyObject *arg, PyObject **result)
{
	if (!w->act) /* done, or never started and not recording: the inner object decides */
		return PyIter_Send(w->inner, arg, result);
	struct pl_py_stack *s = NULL;
	struct pl_py_frame *f = step_enter(w, &s);
	PySendResult r = PyIter_Send(w->inner, arg, result);
	step_leave(s, f);
	if (r == PYGEN_RETURN)
		end(w, END_RETURN, *result);
	else if (r == PYGEN_ERROR)
		end(w, END_RAISED, NULL);
	return r;
}

static PySendResult wrapper_am_send(PyObject *self, PyObject *arg, PyObject **result)
{
	return step((pl_py_wrapper *)self, arg, result);
}

/* A return as a method call reports it: StopIteration carrying the value. */
static PyObject *raise_stop(PyObject *value)
{
	if (value == Py_None)
		PyErr_SetNone(PyExc_StopIteration);
	else {
		PyObject *e = PyObject_CallOneArg(PyExc_StopIteration, value);
		if (e) {
			PyErr_SetObject(PyExc_StopIteration, e);
			Py_DECREF(e);
		}
	}
	Py_DECREF(value);
	return NULL;
}

static PyObject *wrapper_iternext(PyObject *self)
{
	PyObject *res;
	PySendResult r = step((pl_py_wrapper *)self, Py_None, &res);
	if (r == PYGEN_NEXT)
		return res;
	if (r == PYGEN_RETURN) {
		if (res == Py_None) { /* the end of an iteration: no exception needed */
			Py_DECREF(res);
			return NULL;
		}
		return raise_stop(res);
	}
	return NULL;
}

PyDoc_STRVAR(send_doc, "send($self, value, /)\n--\n\nSend value into the wrapped object.");
static PyObject *wrapper_send(PyObject *self, PyObject *arg)
{
	PyObject *res;
	PySendResult r = step((pl_py_wrapper *)self, arg, &res);
	if (r == PYGEN_NEXT)
		return res;
	return r == PYGEN_RETURN ? raise_stop(res) : NULL;
}

/* Call the inner object's method @name with @args; NULL and an exception when it raises. */
static PyObject *call_inner(pl_py_wrapper *w, const char *name, PyObject *const *args,
			    Py_ssize_t nargs)
{
	PyObject *m = PyObject_GetAttrString(w->inner, name);
	if (!m)
		return NULL;
	PyObject *r = PyObject_Vectorcall(m, args, (size_t)nargs, NULL);
	Py_DECREF(m);
	return r;
}

PyDoc_STRVAR(throw_doc, "throw($self, typ, val=None, tb=None, /)\n--\n\n"
			"Raise an exception in the wrapped object at its current step.");
static PyObject *wrapper_throw(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	pl_py_wrapper *w = (pl_py_wrapper *)self;
	if (w->state != W_RUNNING) { /* before the first step: nothing is recorded */
		w->state = W_DONE;
		Py_CLEAR(w->act);
		return call_inner(w, "throw", args, nargs);
	}
	struct pl_py_stack *s = NULL;
	struct pl_py_frame *f = step_enter(w, &s);
	PyObject *r = call_inner(w, "throw", args, nargs);
	step_leave(s, f);
	if (r)
		return r;
	if (PyErr_ExceptionMatches(PyExc_StopIteration)) { /* it caught it and returned */
		PyObject *type, *exc, *tb;
		PyErr_Fetch(&type, &exc, &tb);
		PyErr_NormalizeException(&type, &exc, &tb);
		PyObject *value = exc ? PyObject_GetAttrString(exc, "value") : NULL;
		if (!value) {
			PyErr_Clear();
			value = Py_NewRef(Py_None);
		}
		end(w, END_RETURN, value);
		Py_DECREF(value);
		PyErr_Restore(type, exc, tb);
		return NULL;
	}
	end(w, END_RAISED, NULL);
	return NULL;
}

PyDoc_STRVAR(close_doc, "close($self, /)\n--\n\nClose the wrapped object; the action ends "
			"as closed early if it was running.");
static PyObject *wrapper_close(PyObject *self, PyObject *unused)
{
	pl_py_wrapper *w = (pl_py_wrapper *)self;
	if (w->state != W_RUNNING) {
		w->state = W_DONE;
		Py_CLEAR(w->act);
		return call_inner(w, "close", NULL, 0);
	}
	struct pl_py_stack *s = NULL;
	struct pl_py_frame *f = step_enter(w, &s);
	PyObject *r = call_inner(w, "close", NULL, 0);
	step_leave(s, f);
	end(w, r ? END_CLOSED : END_RAISED, NULL);
	return r;
}

static PyObject *wrapper_await(PyObject *self)
{
	return Py_NewRef(self); /* its own iterator: `await` drives it with am_send */
}

/* ---- attributes: the inner object's, for those the wrapper does not have ---- */

static PyObject *wrapper_getattro(PyObject *self, PyObject *name)
{
	PyObject *r = PyObject_GenericGetAttr(self, name);
	if (r || !PyErr_ExceptionMatches(PyExc_AttributeError))
		return r;
	PyErr_Clear();
	return PyObject_GetAttr(((pl_py_wrapper *)self)->inner, name);
}

static PyObject *wrapper_repr(PyObject *self)
{
	return PyUnicode_FromFormat("<perflog %s %R>", Py_TYPE(self)->tp_name,
				    ((pl_py_wrapper *)self)->inner);
}

/* ---- lifetime ---- */

/* Collected while running (a generator abandoned after a break, a task destroyed): close
 * it, as CPython closes its own, so the action ends. */
static void wrapper_finalize(PyObject *self)
{
	pl_py_wrapper *w = (pl_py_wrapper *)self;
	if (w->state != W_RUNNING)
		return;
	PyObject *type, *exc, *tb;
	PyErr_Fetch(&type, &exc, &tb);
	PyObject *r = wrapper_close(self, NULL);
	if (r)
		Py_DECREF(r);
	else
		PyErr_WriteUnraisable(self);
	PyErr_Restore(type, exc, tb);
}

static int wrapper_traverse(PyObject *self, visitproc visit, void *arg)
{
	pl_py_wrapper *w = (pl_py_wrapper *)self;
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(w->inner);
	Py_VISIT(w->act);
	Py_VISIT(w->token);
	return 0;
}

static int wrapper_clear(PyObject *self)
{
	pl_py_wrapper *w = (pl_py_wrapper *)self;
	Py_CLEAR(w->inner);
	Py_CLEAR(w->act);
	Py_CLEAR(w->token);
	return 0;
}

static void wrapper_dealloc(PyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	/* Only a running one has something to finish (wrapper_finalize). */
	if (((pl_py_wrapper *)self)->state == W_RUNNING &&
	    PyObject_CallFinalizerFromDealloc(self) < 0)
		return; /* resurrected */
	PyObject_GC_UnTrack(self);
	if (((pl_py_wrapper *)self)->weakrefs)
		PyObject_ClearWeakRefs(self);
	wrapper_clear(self);
	pl_py_state *st = PyType_GetModuleState(tp);
	pl_py_free_keep(&st->free_wrappers, self, st && st->coro_type && st->gen_type);
	Py_DECREF(tp);
}

PyObject *pl_py_wrap(pl_py_state *st, int kind, PyObject *inner, pl_py_action *a)
{
	PyTypeObject *tp = kind == PL_PY_KIND_CORO ? st->coro_type : st->gen_type;
	pl_py_wrapper *w = (pl_py_wrapper *)pl_py_free_take(&st->free_wrappers, tp);
	if (!w && !(w = PyObject_GC_New(pl_py_wrapper, tp)))
		return NULL;
	w->inner = Py_NewRef(inner);
	w->act = (pl_py_action *)Py_NewRef(a);
	w->token = NULL;
	w->weakrefs = NULL;
	w->state = W_NEW;
	w->coro = kind == PL_PY_KIND_CORO;
	PyObject_GC_Track(w);
	return (PyObject *)w;
}

/* ---- types ---- */

static PyMethodDef wrapper_methods[] = {
    {"send", wrapper_send, METH_O, send_doc},
    {"throw", (PyCFunction)(void (*)(void))wrapper_throw, METH_FASTCALL, throw_doc},
    {"close", wrapper_close, METH_NOARGS, close_doc},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef wrapper_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(pl_py_wrapper, weakrefs), READONLY, NULL},
    {"__perflog_inner__", T_OBJECT, offsetof(pl_py_wrapper, inner), READONLY,
     "The coroutine or generator the decorated function returned."},
    {NULL, 0, 0, 0, NULL},
};

/* The slots both types share; each adds how it is driven (await or iteration). */
/* clang-format off */
#define WRAPPER_SLOTS                                                                      \
	{Py_am_send, PL_PY_FN(wrapper_am_send)},                                           \
	{Py_tp_iternext, PL_PY_FN(wrapper_iternext)},                                      \
	{Py_tp_methods, wrapper_methods},                                                  \
	{Py_tp_members, wrapper_members},                                                  \
	{Py_tp_getattro, PL_PY_FN(wrapper_getattro)},                                      \
	{Py_tp_repr, PL_PY_FN(wrapper_repr)},                                              \
	{Py_tp_finalize, PL_PY_FN(wrapper_finalize)},                                      \
	{Py_tp_traverse, PL_PY_FN(wrapper_traverse)},                                      \
	{Py_tp_clear, PL_PY_FN(wrapper_clear)},                                            \
	{Py_tp_dealloc, PL_PY_FN(wrapper_dealloc)}
/* clang-format on */

PyDoc_STRVAR(coro_doc, "The coroutine a @perflog coroutine function returns: it awaits the\n"
		       "function's own coroutine and records its action.");

static PyType_Slot coro_slots[] = {
    {Py_am_await, PL_PY_FN(wrapper_await)},
    WRAPPER_SLOTS,
    {Py_tp_doc, (void *)coro_doc},
    {0, NULL},
};

PyType_Spec pl_py_coro_spec = {
    .name = "perflog.CoroutineWrapper",
    .basicsize = sizeof(pl_py_wrapper),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
	     Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = coro_slots,
};

PyDoc_STRVAR(gen_doc, "The generator a @perflog generator function returns: it iterates the\n"
		      "function's own generator and records its action.");

static PyType_Slot gen_slots[] = {
    {Py_tp_iter, PL_PY_FN(PyObject_SelfIter)},
    WRAPPER_SLOTS,
    {Py_tp_doc, (void *)gen_doc},
    {0, NULL},
};

PyType_Spec pl_py_gen_spec = {
    .name = "perflog.GeneratorWrapper",
    .basicsize = sizeof(pl_py_wrapper),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
	     Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = gen_slots,
};
