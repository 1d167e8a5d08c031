/* SPDX-License-Identifier: MIT */
/* signature.c - binding vectorcall arguments to parameter names with a precomputed plan.
 *
 * The rules are Python's: positional arguments fill the positional parameters in order,
 * the rest go to *args; a keyword matching a parameter that is not positional-only binds
 * it, any other keyword goes to **kwargs; a parameter left out takes its default. A call
 * that does not bind (missing or duplicate arguments) is recorded as far as it binds:
 * the function itself raises the TypeError, which the end event records.
 */
#include "signature.h" /* first: Python.h before any system header */

#include <string.h>

int pl_py_plan_init(struct pl_py_plan *p, PyObject *names, PyObject *defaults, PyObject *empty,
		    Py_ssize_t npos, Py_ssize_t nposonly, PyObject *record, PyObject *redact_keys,
		    bool result)
{
	memset(p, 0, sizeof(*p));
	if (!PyTuple_Check(names) || !PyTuple_Check(defaults) || !PyTuple_Check(record) ||
	    !PyTuple_Check(redact_keys) || PyTuple_GET_SIZE(names) != PyTuple_GET_SIZE(defaults) ||
	    npos < 0 || nposonly < 0 || nposonly > npos || npos > PyTuple_GET_SIZE(names)) {
		PyErr_SetString(PyExc_ValueError, "perflog: inconsistent binding plan");
		return -1;
	}
	Py_ssize_t n = PyTuple_GET_SIZE(names), nrec = PyTuple_GET_SIZE(record);
	p->npos = npos;
	p->nposonly = nposonly;
	p->names = PyMem_Calloc((size_t)n + 1, sizeof(PyObject *));
	p->defaults = PyMem_Calloc((size_t)n + 1, sizeof(PyObject *));
	p->rec = PyMem_Calloc((size_t)nrec + 1, sizeof(*p->rec));
	if (!p->names || !p->defaults || !p->rec) {
		PyErr_NoMemory();
		goto err;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *name = PyTuple_GET_ITEM(names, i), *d = PyTuple_GET_ITEM(defaults, i);
		if (!PyUnicode_Check(name)) {
			PyErr_SetString(PyExc_TypeError, "perflog: parameter names must be str");
			goto err;
		}
		p->names[i] = Py_NewRef(name);
		p->defaults[i] = d == empty ? NULL : Py_NewRef(d);
		p->nparams = i + 1;
	}
	for (Py_ssize_t i = 0; i < nrec; i++) {
		PyObject *r = PyTuple_GET_ITEM(record, i), *fname, *extract = Py_None;
		Py_ssize_t slot;
		int redact;
		if (!PyArg_ParseTuple(r, "nUp|O", &slot, &fname, &redact, &extract))
			goto err;
		if (extract != Py_None && !PyCallable_Check(extract)) {
			PyErr_SetString(PyExc_TypeError, "perflog: an extractor must be callable");
			goto err;
		}
		if (slot >= p->nparams || slot < PL_PY_SLOT_VARKW) {
			PyErr_SetString(PyExc_ValueError, "perflog: bad parameter slot");
			goto err;
		}
		Py_ssize_t len;
		const char *s = PyUnicode_AsUTF8AndSize(fname, &len);
		if (!s)
			goto err;
		char buf[PL_NAME_MAX_LEN + 16];
		if (len > (Py_ssize_t)PL_NAME_MAX_LEN)
			len = PL_NAME_MAX_LEN;
		memcpy(buf, s, (size_t)len);
		memcpy(buf + len, ".truncated", 10);
		p->rec[i] = (struct pl_py_rec){
		    .slot = slot,
		    .redact = redact,
		    .name = pl_name_intern(s, (size_t)len),
		    .trunc = pl_name_intern(buf, (size_t)len + 10),
		    .extract = extract == Py_None ? NULL : Py_NewRef(extract),
		};
		p->nrec = i + 1;
	}
	p->redact_keys = Py_NewRef(redact_keys);
	p->redacts = PyTuple_GET_SIZE(redact_keys) > 0;
	for (Py_ssize_t i = 0; i < p->nrec; i++)
		p->redacts |= p->rec[i].redact;
	p->quick = p->nrec <= PL_PY_QUICK_RECS;
	for (Py_ssize_t i = 0; i < p->nrec; i++) {
		const struct pl_py_rec *r = &p->rec[i];
		p->quick &= r->slot >= 0 && r->slot < p->npos && !r->redact && !r->extract;
		if (r->slot + 1 > p->quick_nargs)
			p->quick_nargs = r->slot + 1;
	}
	p->result = result;
	p->result_name = pl_name_intern("result", 6);
	p->result_trunc = pl_name_intern("result.truncated", 16);
	return 0;
err:
	pl_py_plan_clear(p);
	return -1;
}

void pl_py_plan_clear(struct pl_py_plan *p)
{
	for (Py_ssize_t i = 0; i < p->nparams; i++) {
		Py_CLEAR(p->names[i]);
		Py_CLEAR(p->defaults[i]);
	}
	for (Py_ssize_t i = 0; i < p->nrec; i++) {
		Py_CLEAR(p->rec[i].extract);
		for (int k = 0; k < PL_PY_KEY_CACHE; k++)
			Py_CLEAR(p->rec[i].key[k]);
	}
	PyMem_Free(p->names);
	PyMem_Free(p->defaults);
	PyMem_Free(p->rec);
	Py_CLEAR(p->redact_keys);
	p->names = p->defaults = NULL;
	p->rec = NULL;
	p->nparams = p->nrec = 0;
}

int pl_py_plan_traverse(struct pl_py_plan *p, visitproc visit, void *arg)
{
	for (Py_ssize_t i = 0; i < p->nparams; i++)
		Py_VISIT(p->defaults[i]);
	for (Py_ssize_t i = 0; i < p->nrec; i++)
		Py_VISIT(p->rec[i].extract);
	return 0;
}

/* Equality of two str without running user code (kwnames hold exact str). */
static inline bool same_name(PyObject *a, PyObject *b)
{
	return a == b || (PyUnicode_Check(a) && PyUnicode_Check(b) && PyUnicode_Compare(a, b) == 0);
}

static PyObject *kw_value(PyObject *name, PyObject *const *kwvals, PyObject *kwnames)
{
	Py_ssize_t n = PyTuple_GET_SIZE(kwnames);
	for (Py_ssize_t i = 0; i < n; i++)
		if (PyTuple_GET_ITEM(kwnames, i) == name)
			return kwvals[i];
	for (Py_ssize_t i = 0; i < n; i++)
		if (same_name(PyTuple_GET_ITEM(kwnames, i), name))
			return kwvals[i];
	return NULL;
}

/* The value bound to parameter @s (borrowed), or NULL if it is not bound. */
static inline PyObject *bound(const struct pl_py_plan *p, Py_ssize_t s, PyObject *const *args,
			      Py_ssize_t nargs, PyObject *kwnames)
{
	if (s < p->npos && s < nargs)
		return args[s];
	if (kwnames && s >= p->nposonly) {
		PyObject *v = kw_value(p->names[s], args + nargs, kwnames);
		if (v)
			return v;
	}
	return p->defaults[s];
}

/* Does keyword @key bind a named parameter (else it belongs to **kwargs)? */
static bool binds_param(const struct pl_py_plan *p, PyObject *key)
{
	for (Py_ssize_t j = p->nposonly; j < p->nparams; j++)
		if (p->names[j] == key)
			return true;
	for (Py_ssize_t j = p->nposonly; j < p->nparams; j++)
		if (same_name(p->names[j], key))
			return true;
	return false;
}

static bool redacted_key(const struct pl_py_plan *p, PyObject *key)
{
	Py_ssize_t n = PyTuple_GET_SIZE(p->redact_keys);
	for (Py_ssize_t i = 0; i < n; i++)
		if (same_name(PyTuple_GET_ITEM(p->redact_keys, i), key))
			return true;
	return false;
}

/* ---- extractors ---- */

/* What can be recorded as an extracted value: a scalar the converter records natively. */
static bool scalar_ok(PyObject *v)
{
	return v == Py_None || PyBool_Check(v) || PyLong_Check(v) || PyFloat_Check(v) ||
	       PyUnicode_Check(v) || PyBytes_Check(v);
}

/* A placeholder for what an extractor could not give: "<extract: KeyError>". */
static PyObject *placeholder(const char *what, PyObject *o)
{
	return PyUnicode_FromFormat("<extract: %s%s%s>", what, o ? " " : "",
				    o ? Py_TYPE(o)->tp_name : "");
}

/* The name "ARG.KEY" of an extracted dict's item, interned; 0 when it is not a str. */
static pl_name item_name_slow(const struct pl_py_rec *r, PyObject *key)
{
	Py_ssize_t klen;
	const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &klen) : NULL;
	size_t nlen;
	const char *n = pl_name_str(r->name, &nlen);
	if (!k || !n) {
		PyErr_Clear();
		return 0;
	}
	char buf[2 * PL_NAME_MAX_LEN + 2];
	size_t a = nlen < PL_NAME_MAX_LEN ? nlen : PL_NAME_MAX_LEN;
	size_t b = (size_t)klen < PL_NAME_MAX_LEN - a ? (size_t)klen : PL_NAME_MAX_LEN - a;
	memcpy(buf, n, a);
	buf[a] = '.';
	memcpy(buf + a + 1, k, b);
	return pl_name_intern(buf, a + 1 + b);
}

/* item_name_slow() through the rec's cache, written under the GIL (the plan is shared by
 * the function's callers). */
static pl_name item_name(const struct pl_py_rec *cr, PyObject *key)
{
	struct pl_py_rec *r = (struct pl_py_rec *)cr;
	for (int i = 0; i < PL_PY_KEY_CACHE; i++)
		if (r->key[i] == key)
			return r->key_name[i];
	pl_name name = item_name_slow(r, key);
	if (name && PyUnicode_CheckExact(key)) {
		int i = (int)(((uintptr_t)key >> 4) % PL_PY_KEY_CACHE);
		Py_XSETREF(r->key[i], Py_NewRef(key));
		r->key_name[i] = name;
	}
	return name;
}

/* Run @r's extractor on @v: the fields it gives, as (name, value) pairs into @names and
 * @vals (new references), at most @max. An extractor that raises or returns what cannot
 * be recorded gives a placeholder, counted in stats()["py_extract_errors"]. User code runs
 * here; nothing it raises leaves (a KeyboardInterrupt is raised again at the next check). */
static Py_ssize_t extract(pl_py_state *st, const struct pl_py_rec *r, PyObject *v, pl_name *names,
			  PyObject **vals, Py_ssize_t max)
{
	PyObject *res = PyObject_CallOneArg(r->extract, v);
	Py_ssize_t n = 0;
	if (!res) {
		PyObject *type, *value, *tb;
		PyErr_Fetch(&type, &value, &tb);
		bool interrupt = type && PyErr_GivenExceptionMatches(type, PyExc_KeyboardInterrupt);
		names[0] = r->name;
		vals[0] = PyUnicode_FromFormat("<extract: raised %s>",
					       type ? ((PyTypeObject *)type)->tp_name : "?");
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
		if (interrupt)
			PyErr_SetInterrupt();
		pl_py_count(st, PL_PY_ERR_EXTRACT);
		PyErr_Clear();
		return vals[0] ? 1 : 0;
	}
	if (PyDict_Check(res)) {
		Py_ssize_t pos = 0;
		PyObject *k, *x;
		while (n < max && PyDict_Next(res, &pos, &k, &x)) {
			pl_name name = item_name(r, k);
			if (!name) {
				pl_py_count(st, PL_PY_ERR_EXTRACT);
				continue;
			}
			names[n] = name;
			if (scalar_ok(x)) {
				vals[n] = Py_NewRef(x);
			} else {
				pl_py_count(st, PL_PY_ERR_EXTRACT);
				vals[n] = placeholder("unrecordable", x);
			}
			n += vals[n] != NULL;
		}
	} else {
		names[0] = r->name;
		if (scalar_ok(res)) {
			vals[0] = Py_NewRef(res);
		} else {
			pl_py_count(st, PL_PY_ERR_EXTRACT);
			vals[0] = placeholder("unrecordable", res);
		}
		n = vals[0] != NULL;
	}
	Py_DECREF(res);
	PyErr_Clear();
	return n;
}

static void convert_extracted(struct pl_py_conv *c, const struct pl_py_rec *r, PyObject *v)
{
	pl_name names[PL_PY_MAX_FIELDS];
	PyObject *vals[PL_PY_MAX_FIELDS];
	Py_ssize_t room = (Py_ssize_t)(PL_PY_MAX_FIELDS - c->nowned);
	Py_ssize_t n = extract(c->st, r, v, names, vals, room);
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *o = pl_py_conv_own(c, vals[i]);
		if (o)
			pl_py_conv_add(c, names[i], 0, o);
	}
}

void pl_py_plan_convert(const struct pl_py_plan *p, struct pl_py_conv *c, PyObject *const *args,
			Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *redacted = c->st->redacted;
	for (Py_ssize_t i = 0; i < p->nrec; i++) {
		const struct pl_py_rec *r = &p->rec[i];
		if (r->slot >= 0) {
			PyObject *v = bound(p, r->slot, args, nargs, kwnames);
			if (v && r->extract && !r->redact)
				convert_extracted(c, r, v);
			else if (v)
				pl_py_conv_add(c, r->name, r->trunc, r->redact ? redacted : v);
		} else if (r->redact) {
			pl_py_conv_add(c, r->name, r->trunc, redacted);
		} else if (r->slot == PL_PY_SLOT_VARARGS) {
			Py_ssize_t extra = nargs > p->npos ? nargs - p->npos : 0;
			pl_py_conv_add_array(c, r->name, r->trunc, args + nargs - extra, extra);
		} else {
			struct pl_py_conv_map m;
			Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
			pl_py_conv_map_begin(c, &m);
			for (Py_ssize_t k = 0; k < nkw; k++) {
				PyObject *key = PyTuple_GET_ITEM(kwnames, k);
				if (binds_param(p, key))
					continue;
				pl_py_conv_map_put(
				    c, &m, key, redacted_key(p, key) ? redacted : args[nargs + k]);
			}
			pl_py_conv_map_end(c, &m, r->name, r->trunc);
		}
	}
}

/* Hold what @r's extractor gives for @v. Returns 0, or -1 with MemoryError set. */
static int hold_extracted(pl_py_state *st, const struct pl_py_rec *r, PyObject *v,
			  struct pl_py_held *h)
{
	pl_name names[PL_PY_MAX_FIELDS];
	PyObject *vals[PL_PY_MAX_FIELDS];
	Py_ssize_t n = extract(st, r, v, names, vals, PL_PY_MAX_FIELDS);
	int ret = 0;
	for (Py_ssize_t k = 0; k < n; k++) {
		if (!ret)
			ret = pl_py_held_add(h, names[k], 0, vals[k]);
		Py_DECREF(vals[k]);
	}
	return ret;
}

int pl_py_plan_hold(const struct pl_py_plan *p, pl_py_state *st, struct pl_py_held *h,
		    PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
	/* The usual call (as decorator.c's begin_quick): every recorded parameter a plain
	 * positional one, passed by position, few enough to be held in line. */
	if (p->quick && !kwnames && nargs >= p->quick_nargs && p->nrec <= PL_PY_HELD_INLINE &&
	    !h->n && !h->items) {
		for (Py_ssize_t i = 0; i < p->nrec; i++) {
			const struct pl_py_rec *r = &p->rec[i];
			h->inl[i] =
			    (struct pl_py_heldfield){r->name, r->trunc, Py_NewRef(args[r->slot])};
		}
		h->n = (uint32_t)p->nrec;
		return 0;
	}
	for (Py_ssize_t i = 0; i < p->nrec; i++) {
		const struct pl_py_rec *r = &p->rec[i];
		PyObject *v = NULL;
		int ret;
		if (r->slot >= 0) {
			PyObject *b = bound(p, r->slot, args, nargs, kwnames);
			if (!b)
				continue;
			if (r->extract && !r->redact) { /* at the call, as for a plain function */
				if (hold_extracted(st, r, b, h) < 0)
					return -1;
				continue;
			}
			v = Py_NewRef(r->redact ? st->redacted : b);
		} else if (r->redact) {
			v = Py_NewRef(st->redacted);
		} else if (r->slot == PL_PY_SLOT_VARARGS) {
			Py_ssize_t extra = nargs > p->npos ? nargs - p->npos : 0;
			v = PyTuple_New(extra);
			for (Py_ssize_t k = 0; v && k < extra; k++)
				PyTuple_SET_ITEM(v, k, Py_NewRef(args[nargs - extra + k]));
		} else {
			Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
			v = PyDict_New();
			for (Py_ssize_t k = 0; v && k < nkw; k++) {
				PyObject *key = PyTuple_GET_ITEM(kwnames, k);
				if (binds_param(p, key))
					continue;
				if (PyDict_SetItem(v, key,
						   redacted_key(p, key) ? st->redacted
									: args[nargs + k]) < 0)
					Py_CLEAR(v);
			}
		}
		if (!v)
			return -1;
		ret = pl_py_held_add(h, r->name, r->trunc, v);
		Py_DECREF(v);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* ---- redaction by value: the result and the exception text ---- */

static bool secret_value(PyObject *v)
{
	return (PyUnicode_Check(v) && PyUnicode_GET_LENGTH(v) > 0) ||
	       (PyBytes_Check(v) && PyBytes_GET_SIZE(v) > 0);
}

Py_ssize_t pl_py_plan_secrets(const struct pl_py_plan *p, PyObject *const *args, Py_ssize_t nargs,
			      PyObject *kwnames, PyObject **out)
{
	Py_ssize_t n = 0;
	for (Py_ssize_t i = 0; i < p->nrec && n < PL_PY_MAX_SECRETS; i++) {
		const struct pl_py_rec *r = &p->rec[i];
		if (!r->redact || r->slot < 0)
			continue;
		PyObject *v = bound(p, r->slot, args, nargs, kwnames);
		if (v && secret_value(v))
			out[n++] = v;
	}
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	for (Py_ssize_t k = 0; k < nkw && n < PL_PY_MAX_SECRETS; k++) {
		PyObject *key = PyTuple_GET_ITEM(kwnames, k);
		if (!binds_param(p, key) && redacted_key(p, key) && secret_value(args[nargs + k]))
			out[n++] = args[nargs + k];
	}
	return n;
}

/* Does str or bytes @v hold secret @s (of the same kind)? */
static bool holds(PyObject *v, PyObject *s)
{
	if (PyUnicode_Check(v) && PyUnicode_Check(s)) {
		/* Exact str methods on the objects' data: no user code, even for subclasses. */
		Py_ssize_t at = PyUnicode_Find(v, s, 0, PyUnicode_GET_LENGTH(v), 1);
		if (at == -2)
			PyErr_Clear();
		return at != -1; /* an error counts as found: redact rather than leak */
	}
	if (PyBytes_Check(v) && PyBytes_Check(s))
		return memmem(PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v),
			      PyBytes_AS_STRING(s), (size_t)PyBytes_GET_SIZE(s)) != NULL;
	return false;
}

static bool reveals_scalar(PyObject *v, PyObject *const *secrets, Py_ssize_t n)
{
	for (Py_ssize_t i = 0; i < n; i++)
		if (holds(v, secrets[i]))
			return true;
	return false;
}

bool pl_py_reveals(PyObject *v, PyObject *const *secrets, Py_ssize_t n)
{
	if (!n)
		return false;
	if (PyTuple_Check(v) || PyList_Check(v)) {
		/* The converter records containers one level deep: so is the check. */
		Py_ssize_t len = PySequence_Fast_GET_SIZE(v);
		for (Py_ssize_t i = 0; i < len; i++)
			if (reveals_scalar(PySequence_Fast_GET_ITEM(v, i), secrets, n))
				return true;
		return false;
	}
	if (PyDict_Check(v)) {
		Py_ssize_t pos = 0;
		PyObject *k, *item;
		while (PyDict_Next(v, &pos, &k, &item))
			if (reveals_scalar(k, secrets, n) || reveals_scalar(item, secrets, n))
				return true;
		return false;
	}
	return reveals_scalar(v, secrets, n);
}

void pl_py_exc_redact(pl_py_state *st, struct pl_py_exc *e, PyObject *const *secrets, Py_ssize_t n)
{
	if (!n || !e->msg_len)
		return;
	PyObject *msg = e->msg_obj && PyUnicode_Check(e->msg_obj)
			    ? Py_NewRef(e->msg_obj)
			    : PyUnicode_DecodeUTF8(e->msg, e->msg_len, "replace");
	bool changed = false;
	for (Py_ssize_t i = 0; msg && i < n; i++) {
		if (!PyUnicode_Check(secrets[i]) || !holds(msg, secrets[i]))
			continue;
		Py_SETREF(msg, PyUnicode_Replace(msg, secrets[i], st->redacted, -1));
		changed = true;
	}
	const char *p = NULL;
	Py_ssize_t len = 0;
	if (msg && changed && !(p = PyUnicode_AsUTF8AndSize(msg, &len)))
		Py_CLEAR(msg);
	if (!msg) {
		PyErr_Clear();
		Py_CLEAR(e->msg_obj);
		e->msg = "<redacted>"; /* never the secret, whatever failed */
		e->msg_len = 10;
		return;
	}
	if (!changed) {
		Py_DECREF(msg);
		return;
	}
	Py_XSETREF(e->msg_obj, msg);
	e->msg = p;
	e->msg_len = len;
}
