/* SPDX-License-Identifier: MIT */
/* decorator.c - perflog.Decorated: what @perflog returns. A heap type with vectorcall,
 * a method descriptor like a function, and an instance __dict__ that functools-style
 * wrapping fills (__name__, __qualname__, __doc__, __module__, __wrapped__).
 *
 * The synchronous path allocates no Python object and does not touch the contextvar's
 * value: the action lives in a frame of the thread's C stack (context.h).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <structmember.h>

#include "context.h"
#include "convert.h"
#include "signature.h"

typedef struct {
	PyObject_HEAD vectorcallfunc vectorcall;
	PyObject *fn;
	PyObject *dict;
	PyObject *weakrefs;
	pl_py_state *st; /* alive: the type holds the module, the object holds its type */
	int kind;	 /* PL_PY_KIND_* */
	pl_name type;
	Py_ssize_t max_len;
	struct pl_py_plan plan;
} pl_py_decorated;

/* ---- the C stack ---- */

/* Room kept free on the C stack: enough for the interpreter to raise and unwind. */
#define STACK_MARGIN (256u << 10)

/* The lowest stack address this thread may use before a decorated call refuses (0: not
 * known yet, 1: unknown for good). initial-exec, as context.c's stack pointer: read at
 * every decorated call, it cost a __tls_get_addr() call each time otherwise. */
static __thread uintptr_t stack_floor __attribute__((tls_model("initial-exec")));

static __attribute__((noinline, cold)) bool stack_floor_init(void)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	stack_floor = 1;
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return false;
	if (pthread_attr_getstack(&a, &addr, &size) == 0 && size > 2 * STACK_MARGIN)
		stack_floor = (uintptr_t)addr + STACK_MARGIN;
	pthread_attr_destroy(&a);
	return true;
}

/* Each decorated level costs C stack (the interpreter recurses through the wrapper): past
 * the floor, refuse with RecursionError instead of letting the process crash. Deep
 * recursion under sys.setrecursionlimit(100000) then fails as Python fails, not with a
 * segfault. */
static inline bool stack_exhausted(void)
{
	char here;
	if (PL_PY_UNLIKELY(!stack_floor))
		stack_floor_init();
	return PL_PY_UNLIKELY((uintptr_t)&here < stack_floor);
}

static __attribute__((cold)) PyObject *refuse_deep_call(void)
{
	PyErr_SetString(PyExc_RecursionError,
			"maximum recursion depth exceeded (the C stack is nearly full: perflog "
			"refuses the call rather than let the process crash)");
	return NULL;
}

/* ---- the synchronous path ---- */

/* Out of line so that the converter's stack space is given back before the call. */
__attribute__((noinline)) static void begin_args(pl_py_decorated *d, pl_action *a,
						 pl_action *parent, PyObject *const *args,
						 size_t nargsf, PyObject *kwnames)
{
	struct pl_py_conv c;
	pl_py_conv_init(&c, d->st, d->max_len);
	pl_py_plan_convert(&d->plan, &c, args, PyVectorcall_NARGS(nargsf), kwnames);
	pl_action_begin(a, d->st->writer, parent, d->type, c.fields, c.n);
	pl_py_conv_release(&c);
}

/* The usual call: every recorded parameter passed by position and each a quick scalar
 * (pl_py_quick_scalar: an ASCII str, a small int, None). Their fields are made here,
 * borrowing the arguments (alive until the call returns), without the converter's
 * binding and pools: a fifth of @perflog's own cost on f(12345, "query"). False, with
 * nothing recorded, when the generic path must take the call. */
static inline bool begin_quick(pl_py_decorated *d, pl_action *a, pl_action *parent,
			       PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
	const struct pl_py_plan *p = &d->plan;
	if (!p->quick || kwnames || PyVectorcall_NARGS(nargsf) < p->quick_nargs)
		return false;
	struct pl_field f[PL_PY_QUICK_RECS];
	for (Py_ssize_t i = 0; i < p->nrec; i++) {
		if (!pl_py_quick_scalar(d->max_len, args[p->rec[i].slot], &f[i].value))
			return false;
		f[i].name = p->rec[i].name;
	}
	pl_action_begin(a, d->st->writer, parent, d->type, f, (size_t)p->nrec);
	return true;
}

/* The redacted arguments' values (see pl_py_plan_secrets): what the result and the
 * exception text must not show either. */
struct secrets {
	PyObject *v[PL_PY_MAX_SECRETS];
	Py_ssize_t n;
};

__attribute__((noinline)) static void end_result(pl_py_decorated *d, pl_action *a, PyObject *res,
						 const struct secrets *s)
{
	struct pl_py_conv c;
	pl_py_conv_init(&c, d->st, d->max_len);
	if (s->n && pl_py_reveals(res, s->v, s->n))
		res = d->st->redacted;
	pl_py_conv_add(&c, d->plan.result_name, d->plan.result_trunc, res);
	pl_action_end(a, c.fields, c.n);
}

/* The call raised: record its type and message, leave the exception as it was. */
__attribute__((noinline, cold)) static void end_failed(pl_py_decorated *d, pl_action *a,
						       uint64_t epoch, const struct secrets *s)
{
	PyObject *type, *value, *tb;
	struct pl_py_exc e;
	PyErr_Fetch(&type, &value, &tb);
	pl_py_exc_describe(d->st, type, value, &e);
	pl_py_exc_redact(d->st, &e, s->v, s->n);
	/* str() ran user code: check again that the writer is the one @a began with. */
	if (d->st->writer && epoch == d->st->epoch)
		pl_py_end_exc(a, &e, NULL, 0);
	pl_py_exc_release(&e);
	PyErr_Restore(type, value, tb);
}

static PyObject *call_wrapped(pl_py_decorated *d, PyObject *const *args, size_t nargsf,
			      PyObject *kwnames);

static PyObject *decorated_call(PyObject *self, PyObject *const *args, size_t nargsf,
				PyObject *kwnames)
{
	pl_py_decorated *d = (pl_py_decorated *)self;
	pl_py_state *st = d->st;
	if (stack_exhausted())
		return refuse_deep_call();
	if (!st->writer) { /* not recording */
		if (PL_PY_UNLIKELY(st->switching))
			pl_py_count(st, PL_PY_ERR_RESTART);
		return PyObject_Vectorcall(d->fn, args, nargsf, kwnames);
	}
	if (d->kind != PL_PY_KIND_SYNC)
		return call_wrapped(d, args, nargsf, kwnames);

	struct pl_py_stack *s = pl_py_stack_named(st);
	struct pl_py_frame *f;
	PyObject *ctx = pl_py_ctx_get(st), *owner = NULL;
	pl_action *parent = s ? pl_py_current(st, s, ctx, &owner) : NULL;
	if (PL_PY_UNLIKELY(!s || !(f = pl_py_stack_push(s)))) {
		pl_py_count(st, PL_PY_ERR_MEMORY);
		return PyObject_Vectorcall(d->fn, args, nargsf, kwnames);
	}
	f->cur = &f->act;
	f->ctx_at_push = ctx;
	f->parent_ref = parent ? Py_XNewRef(owner) : NULL;
	uint64_t epoch = f->epoch = st->epoch;
	if (d->plan.nrec) {
		if (!begin_quick(d, &f->act, parent, args, nargsf, kwnames))
			begin_args(d, &f->act, parent, args, nargsf, kwnames);
	} else
		pl_action_begin(&f->act, st->writer, parent, d->type, NULL, 0);

	PyObject *res = PyObject_Vectorcall(d->fn, args, nargsf, kwnames);

	if (PL_PY_LIKELY(st->writer && epoch == st->epoch)) {
		/* The arguments are alive until we return: their values are borrowed. */
		struct secrets sec;
		sec.n = d->plan.redacts
			    ? pl_py_plan_secrets(&d->plan, args, PyVectorcall_NARGS(nargsf),
						 kwnames, sec.v)
			    : 0;
		if (!res)
			end_failed(d, &f->act, epoch, &sec);
		else if (d->plan.result)
			end_result(d, &f->act, res, &sec);
		else
			pl_action_end(&f->act, NULL, 0);
	}
	/* Pop before the decref: it may run code that pushes frames of its own. */
	PyObject *ref = f->parent_ref;
	pl_py_stack_release(s, f);
	Py_XDECREF(ref);
	return res;
}

/* ---- coroutines and generators: an Action carried by a wrapper ---- */

static PyObject *call_wrapped(pl_py_decorated *d, PyObject *const *args, size_t nargsf,
			      PyObject *kwnames)
{
	pl_py_state *st = d->st;
	PyObject *inner = PyObject_Vectorcall(d->fn, args, nargsf, kwnames);
	if (!inner || (d->kind == PL_PY_KIND_AGEN && !st->agen_wrap))
		return inner;
	/* The action's place (parent and child index) is taken now, at the call; its
	 * START is recorded at the first step (wrappers.c; async generators:
	 * perflog/_wrappers.py). */
	pl_py_action *a = pl_py_action_new_child(st, d->type, d->max_len);
	if (!a || pl_py_plan_hold(&d->plan, st, &a->start_fields, args, PyVectorcall_NARGS(nargsf),
				  kwnames) < 0)
		goto fail;
	a->record_result = d->plan.result;
	if (d->plan.redacts) {
		/* Kept with the action: its result and exception come later. */
		PyObject *v[PL_PY_MAX_SECRETS];
		Py_ssize_t n =
		    pl_py_plan_secrets(&d->plan, args, PyVectorcall_NARGS(nargsf), kwnames, v);
		if (n && !(a->secrets = PyTuple_New(n)))
			goto fail;
		for (Py_ssize_t i = 0; i < n; i++)
			PyTuple_SET_ITEM(a->secrets, i, Py_NewRef(v[i]));
	}
	PyObject *w;
	if (d->kind == PL_PY_KIND_AGEN) {
		PyObject *callargs[2] = {inner, (PyObject *)a};
		w = PyObject_Vectorcall(st->agen_wrap, callargs, 2, NULL);
	} else {
		w = pl_py_wrap(st, d->kind, inner, a);
	}
	if (!w)
		goto fail;
	Py_DECREF(a);
	Py_DECREF(inner);
	return w;
fail:
	PyErr_Clear();
	pl_py_count(st, PL_PY_ERR_WRAP);
	Py_XDECREF(a);
	return inner;
}

/* ---- construction ---- */

PyDoc_STRVAR(decorated_doc,
	     "Decorated(fn, kind, action_type, names, defaults, empty, npos, nposonly, record,\n"
	     "          redact_keys, result, max_len)\n"
	     "--\n\n"
	     "A function recorded by @perflog. Made by perflog.perflog(), which computes the\n"
	     "binding plan from inspect.signature: names/defaults of the parameters (positional\n"
	     "ones first; `empty` marks no default), record = ((slot, field name, redact), ...)\n"
	     "with slot -1 for *args and -2 for **kwargs, redact_keys = **kwargs keys to\n"
	     "redact. kind: 0 function, 1 coroutine function, 2 generator function, 3 async\n"
	     "generator function.");

static PyObject *decorated_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	PyObject *fn, *action_type, *names, *defaults, *empty, *record, *redact_keys;
	int kind, result;
	Py_ssize_t npos, nposonly, max_len;
	if (kwargs && PyDict_GET_SIZE(kwargs)) {
		PyErr_SetString(PyExc_TypeError, "Decorated() takes positional arguments only");
		return NULL;
	}
	if (!PyArg_ParseTuple(args, "OiUO!O!OnnO!O!pn:Decorated", &fn, &kind, &action_type,
			      &PyTuple_Type, &names, &PyTuple_Type, &defaults, &empty, &npos,
			      &nposonly, &PyTuple_Type, &record, &PyTuple_Type, &redact_keys,
			      &result, &max_len))
		return NULL;
	if (!PyCallable_Check(fn) || kind < PL_PY_KIND_SYNC || kind > PL_PY_KIND_AGEN ||
	    max_len < 0) {
		PyErr_SetString(PyExc_ValueError, "Decorated(): bad fn, kind or max_len");
		return NULL;
	}
	pl_py_decorated *d = (pl_py_decorated *)type->tp_alloc(type, 0);
	if (!d)
		return NULL;
	d->st = PyType_GetModuleState(type);
	d->vectorcall = decorated_call;
	d->fn = Py_NewRef(fn);
	d->kind = kind;
	d->max_len = max_len;
	d->type = pl_py_name(d->st, action_type);
	if (pl_py_plan_init(&d->plan, names, defaults, empty, npos, nposonly, record, redact_keys,
			    result) < 0) {
		Py_DECREF(d);
		return NULL;
	}
	return (PyObject *)d;
}

/* ---- the descriptor: bind like a function ---- */

static PyObject *decorated_get(PyObject *self, PyObject *obj, PyObject *type)
{
	if (obj == NULL || obj == Py_None)
		return Py_NewRef(self);
	return PyMethod_New(self, obj);
}

/* ---- type ---- */

static int decorated_traverse(PyObject *self, visitproc visit, void *arg)
{
	pl_py_decorated *d = (pl_py_decorated *)self;
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(d->fn);
	Py_VISIT(d->dict);
	return pl_py_plan_traverse(&d->plan, visit, arg);
}

static int decorated_clear(PyObject *self)
{
	pl_py_decorated *d = (pl_py_decorated *)self;
	Py_CLEAR(d->fn);
	Py_CLEAR(d->dict);
	pl_py_plan_clear(&d->plan);
	return 0;
}

static void decorated_dealloc(PyObject *self)
{
	pl_py_decorated *d = (pl_py_decorated *)self;
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_GC_UnTrack(self);
	if (d->weakrefs)
		PyObject_ClearWeakRefs(self);
	decorated_clear(self);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyObject *decorated_repr(PyObject *self)
{
	return PyUnicode_FromFormat("<perflog.Decorated %R>", ((pl_py_decorated *)self)->fn);
}

PyDoc_STRVAR(reduce_doc, "__reduce__($self, /)\n--\n\nPickle by qualified name, like a function.");
static PyObject *decorated_reduce(PyObject *self, PyObject *unused)
{
	return PyObject_GetAttrString(self, "__qualname__");
}

static PyMethodDef decorated_methods[] = {
    {"__reduce__", decorated_reduce, METH_NOARGS, reduce_doc},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef decorated_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(pl_py_decorated, vectorcall), READONLY, NULL},
    {"__dictoffset__", T_PYSSIZET, offsetof(pl_py_decorated, dict), READONLY, NULL},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(pl_py_decorated, weakrefs), READONLY, NULL},
    {"__perflog_fn__", T_OBJECT, offsetof(pl_py_decorated, fn), READONLY,
     "The decorated callable (also __wrapped__ once wrapped)."},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef decorated_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot decorated_slots[] = {
    {Py_tp_getset, decorated_getset},		{Py_tp_doc, (void *)decorated_doc},
    {Py_tp_new, PL_PY_FN(decorated_new)},	{Py_tp_call, PL_PY_FN(PyVectorcall_Call)},
    {Py_tp_descr_get, PL_PY_FN(decorated_get)}, {Py_tp_methods, decorated_methods},
    {Py_tp_members, decorated_members},		{Py_tp_traverse, PL_PY_FN(decorated_traverse)},
    {Py_tp_clear, PL_PY_FN(decorated_clear)},	{Py_tp_dealloc, PL_PY_FN(decorated_dealloc)},
    {Py_tp_repr, PL_PY_FN(decorated_repr)},	{0, NULL},
};

PyType_Spec pl_py_decorated_spec = {
    .name = "perflog.Decorated",
    .basicsize = sizeof(pl_py_decorated),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
	     Py_TPFLAGS_METHOD_DESCRIPTOR | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = decorated_slots,
};
