/* SPDX-License-Identifier: MIT */
/* signature.h - a decorated function's binding plan: which call arguments are recorded
 * under which names, computed once at decoration time (from inspect.signature, in
 * perflog/_decorator.py) so that a call maps vectorcall arguments to parameter names
 * without building a dict or running the binder.
 */
#ifndef PL_PY_SIGNATURE_H
#define PL_PY_SIGNATURE_H

#include "convert.h"
#include "module.h"

/* Keys of an extractor's dict whose field names are cached (struct pl_py_rec). */
#define PL_PY_KEY_CACHE 8

/* Slots of recorded values that are not named parameters. */
#define PL_PY_SLOT_VARARGS (-1) /* the *args tuple */
#define PL_PY_SLOT_VARKW   (-2) /* the **kwargs dict */

struct pl_py_rec {
	Py_ssize_t slot; /* parameter index (positional ones first, then keyword-only), or above */
	bool redact;	 /* recorded as "<redacted>" */
	pl_name name, trunc;
	PyObject *extract; /* strong: the argument's extractor (@perflog(extract=)), or NULL */
	/* The names "ARG.KEY" of the keys an extractor's dict gave last: a dict literal's keys
	 * are the same str objects at every call, so a pointer finds the interned name. */
	PyObject *key[PL_PY_KEY_CACHE]; /* strong */
	pl_name key_name[PL_PY_KEY_CACHE];
};

struct pl_py_plan {
	Py_ssize_t npos;     /* parameters that can be given by position */
	Py_ssize_t nposonly; /* of which positional-only (their names go to **kwargs) */
	Py_ssize_t nparams;  /* npos + keyword-only */
	PyObject **names;    /* nparams str, strong */
	PyObject **defaults; /* nparams, strong, NULL when the parameter has none */
	Py_ssize_t nrec;
	struct pl_py_rec *rec;
	PyObject *redact_keys; /* tuple of str: **kwargs keys recorded as "<redacted>" */
	bool redacts;	       /* a parameter or a **kwargs key is redacted */
	bool result;
	pl_name result_name, result_trunc;
	/* Every recorded parameter a plain positional one (no extractor, not redacted), at
	 * most PL_PY_QUICK_RECS of them: a call that passes them all by position converts
	 * them without the generic binding (decorator.c). quick_nargs: the positional
	 * arguments such a call needs (the highest recorded slot + 1). */
	bool quick;
	Py_ssize_t quick_nargs;
};

/* Recorded parameters of a plan the quick path takes at most. */
#define PL_PY_QUICK_RECS 8

/* Build from the tuples made by perflog/_decorator.py (see Decorated.__new__'s doc).
 * Returns 0, or -1 with an exception set. */
int pl_py_plan_init(struct pl_py_plan *p, PyObject *names, PyObject *defaults, PyObject *empty,
		    Py_ssize_t npos, Py_ssize_t nposonly, PyObject *record, PyObject *redact_keys,
		    bool result);
void pl_py_plan_clear(struct pl_py_plan *p);
int pl_py_plan_traverse(struct pl_py_plan *p, visitproc visit, void *arg);

/* Convert the recorded arguments of a vectorcall into @c; extractors run here (user code:
 * what they raise is counted, never propagated). Call pl_py_conv_release(@c) once the
 * event is recorded. Never raises. */
void pl_py_plan_convert(const struct pl_py_plan *p, struct pl_py_conv *c, PyObject *const *args,
			Py_ssize_t nargs, PyObject *kwnames);

/* Hold the recorded arguments of a vectorcall as fields of an Action (for coroutines and
 * generators, recorded at their first step). Returns 0, or -1 with an exception set. */
int pl_py_plan_hold(const struct pl_py_plan *p, pl_py_state *st, struct pl_py_held *h,
		    PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);

/* Most redacted values of one call looked for in its result and exception text. */
#define PL_PY_MAX_SECRETS 16

/* The values of a call's redacted arguments that are non-empty str or bytes (borrowed:
 * valid while the call's arguments are), at most PL_PY_MAX_SECRETS. Never raises. */
Py_ssize_t pl_py_plan_secrets(const struct pl_py_plan *p, PyObject *const *args, Py_ssize_t nargs,
			      PyObject *kwnames, PyObject **out);

/* Whether recording @v would show one of @secrets: @v is a str or bytes holding one, or a
 * tuple, list or dict with such an item or value. Runs no user code; never raises. */
bool pl_py_reveals(PyObject *v, PyObject *const *secrets, Py_ssize_t n);

/* Replace every occurrence of a str secret in the exception text of @e by "<redacted>".
 * Never raises (on failure the text becomes "<redacted>" whole: never the secret). */
void pl_py_exc_redact(pl_py_state *st, struct pl_py_exc *e, PyObject *const *secrets, Py_ssize_t n);

#endif /* PL_PY_SIGNATURE_H */
