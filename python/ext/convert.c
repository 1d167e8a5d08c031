/* SPDX-License-Identifier: MIT */
/* convert.c - Python objects to pl_value, never raising (rules in convert.h).
 *
 * Why no user code runs here: conversion happens while the caller's arguments are
 * borrowed, and between the decision to record and the handing of the event to liblog.
 * Calling __len__, __repr__ or __str__ could raise, block, recurse or mutate what is
 * being read, so only the C-level layout of builtin types is read.
 */
#include "convert.h" /* first: Python.h before any system header */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TRUNCATED_SUFFIX ".truncated"

/* Longest prefix of @p (@len bytes of UTF-8) not over @max bytes that ends on a character
 * boundary (liblog's rule). */
static Py_ssize_t utf8_cut(const char *p, Py_ssize_t len, Py_ssize_t max)
{
	return (Py_ssize_t)pl_utf8_cut(p, (size_t)len, (size_t)max);
}

size_t pl_py_type_name(PyTypeObject *t, char *buf, size_t size)
{
	int n;
	if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
		/* Read the type's own dict and qualname: no descriptor or metaclass code runs. */
		PyObject *mod = t->tp_dict ? PyDict_GetItemString(t->tp_dict, "__module__") : NULL;
		const char *m = mod && PyUnicode_Check(mod) ? PyUnicode_AsUTF8(mod) : NULL;
		const char *q = PyUnicode_AsUTF8(((PyHeapTypeObject *)t)->ht_qualname);
		if (PyErr_Occurred())
			PyErr_Clear();
		if (!q)
			q = t->tp_name;
		n = m ? snprintf(buf, size, "%s.%s", m, q) : snprintf(buf, size, "%s", q);
	} else if (strchr(t->tp_name, '.')) {
		n = snprintf(buf, size, "%s", t->tp_name);
	} else {
		n = snprintf(buf, size, "builtins.%s", t->tp_name);
	}
	if (n < 0)
		n = 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* Generated text kept in the converter; NULL when its buffer is full. */
static const char *text_put(struct pl_py_conv *c, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *text_put(struct pl_py_conv *c, size_t *len, const char *fmt, ...)
{
	size_t room = sizeof(c->text) - c->ntext;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->text + c->ntext, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return NULL;
	const char *p = c->text + c->ntext;
	c->ntext += (size_t)n;
	*len = (size_t)n;
	return p;
}

/* The "<module.Qualname>" text of a type ("<list>" for builtins), never NULL.
 *
 * Cached by type in a small direct-mapped table that is filled but never evicted: an
 * eviction would drop a reference to a type, and freeing a type can run Python code
 * (weakref callbacks) while the converter holds borrowed pointers into the arguments.
 * A type whose slot is taken has its text made in the converter's buffer instead. */
static const char *type_text(struct pl_py_conv *c, PyTypeObject *t, size_t *len)
{
	pl_py_state *st = c->st;
	size_t i = ((uintptr_t)t >> 5) % (sizeof(st->tn_type) / sizeof(st->tn_type[0]));
	if (st->tn_type[i] == (PyObject *)t) {
		*len = (size_t)PyBytes_GET_SIZE(st->tn_text[i]);
		return PyBytes_AS_STRING(st->tn_text[i]);
	}
	char name[512];
	size_t n = pl_py_type_name(t, name + 1, sizeof(name) - 2);
	/* Builtins read as "<list>", not "<builtins.list>". */
	size_t off = strncmp(name + 1, "builtins.", 9) == 0 ? 9 : 0;
	name[off] = '<';
	name[n + 1] = '>';
	const char *text = name + off;
	size_t tl = n + 2 - off;
	if (!st->tn_type[i]) {
		PyObject *b = PyBytes_FromStringAndSize(text, (Py_ssize_t)tl);
		if (b) {
			st->tn_text[i] = b;
			st->tn_type[i] = Py_NewRef(t);
			*len = tl;
			return PyBytes_AS_STRING(b);
		}
		PyErr_Clear();
		pl_py_count(st, PL_PY_ERR_MEMORY);
	}
	const char *p = text_put(c, len, "%.*s", (int)tl, text);
	if (p)
		return p;
	*len = 3;
	return "<?>";
}

/* Objects recorded as their type, nested containers with their length. */
static void other(struct pl_py_conv *c, PyObject *o, pl_value *out, bool nested)
{
	PyTypeObject *t = Py_TYPE(o);
	Py_ssize_t len = -1;
	if (nested) {
		if (PyList_Check(o) || PyTuple_Check(o))
			len = Py_SIZE(o);
		else if (PyDict_Check(o))
			len = PyDict_GET_SIZE(o);
		else if (PyAnySet_Check(o))
			len = PySet_GET_SIZE(o);
	} else if (PyAnySet_Check(o)) {
		len = PySet_GET_SIZE(o);
	}
	size_t tl;
	const char *tt = type_text(c, t, &tl);
	if (len >= 0) {
		size_t n;
		const char *p = text_put(c, &n, "%.*s len=%zd>", (int)tl - 1, tt, len);
		if (p) {
			*out = PL_V_STRN(p, n);
			return;
		}
	}
	*out = PL_V_STRN(tt, tl);
}

static inline __attribute__((always_inline)) bool quick_scalar(const struct pl_py_conv *c,
							       PyObject *o, pl_value *out)
{
	return pl_py_quick_scalar(c->max_len, o, out);
}

/* A scalar: sets *orig to the original len() when the value was cut. */
static void scalar(struct pl_py_conv *c, PyObject *o, pl_value *out, Py_ssize_t *orig, bool nested)
{
	if (quick_scalar(c, o, out)) {
		return;
	} else if (PyUnicode_CheckExact(o) && PyUnicode_IS_COMPACT_ASCII(o)) {
		/* An ASCII str longer than max_len: cut. */
		Py_ssize_t len = PyUnicode_GET_LENGTH(o);
		*orig = len;
		*out = PL_V_STRN((const char *)PyUnicode_DATA(o), (size_t)c->max_len);
	} else if (PyUnicode_Check(o)) {
		Py_ssize_t len;
		const char *p = PyUnicode_AsUTF8AndSize(o, &len);
		if (PL_PY_UNLIKELY(!p)) {
			PyErr_Clear();
			pl_py_count(c->st, PL_PY_ERR_CONVERT);
			other(c, o, out, nested);
			return;
		}
		if (len > c->max_len) {
			*orig = PyUnicode_GET_LENGTH(o);
			len = utf8_cut(p, len, c->max_len);
		}
		*out = PL_V_STRN(p, (size_t)len);
	} else if (PyLong_Check(o)) {
		if (PyBool_Check(o)) {
			*out = PL_V_BOOL(o == Py_True);
			return;
		}
		/* An int subclass of one digit: the quick case's arithmetic. */
		Py_ssize_t size = Py_SIZE(o);
		if (size >= -1 && size <= 1) {
			*out = PL_V_INT((int64_t)size * (int64_t)((PyLongObject *)o)->ob_digit[0]);
			return;
		}
		int overflow;
		long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
		if (PL_PY_LIKELY(overflow == 0 && !(v == -1 && PyErr_Occurred()))) {
			*out = PL_V_INT(v);
			return;
		}
		if (overflow > 0) {
			unsigned long long u = PyLong_AsUnsignedLongLong(o);
			if (!(u == (unsigned long long)-1 && PyErr_Occurred())) {
				*out = PL_V_UINT(u);
				return;
			}
		}
		PyErr_Clear();
		other(c, o, out, nested); /* beyond 64 bits: "<int>" */
	} else if (PyFloat_Check(o)) {
		*out = PL_V_FLOAT(PyFloat_AS_DOUBLE(o));
	} else if (PyBytes_Check(o) || PyByteArray_Check(o)) {
		bool b = PyBytes_Check(o);
		const char *p = b ? PyBytes_AS_STRING(o) : PyByteArray_AS_STRING(o);
		Py_ssize_t len = Py_SIZE(o);
		if (len > c->max_len) {
			*orig = len;
			len = c->max_len;
		}
		*out = PL_V_BYTES(p, (size_t)len);
	} else {
		other(c, o, out, nested);
	}
}

static pl_name truncated_name(pl_name name)
{
	size_t len;
	const char *s = pl_name_str(name, &len);
	char buf[PL_NAME_MAX_LEN + sizeof(TRUNCATED_SUFFIX)];
	if (len > PL_NAME_MAX_LEN)
		len = PL_NAME_MAX_LEN;
	memcpy(buf, s, len);
	memcpy(buf + len, TRUNCATED_SUFFIX, sizeof(TRUNCATED_SUFFIX) - 1);
	return pl_name_intern(buf, len + sizeof(TRUNCATED_SUFFIX) - 1);
}

static void push(struct pl_py_conv *c, pl_name name, pl_name trunc, pl_value v, Py_ssize_t orig)
{
	if (PL_PY_UNLIKELY(c->n + (orig >= 0) >= PL_PY_MAX_FIELDS)) {
		pl_py_count(c->st, PL_PY_ERR_FIELDS);
		return;
	}
	c->fields[c->n++] = (struct pl_field){name, v};
	if (orig >= 0)
		c->fields[c->n++] =
		    (struct pl_field){trunc ? trunc : truncated_name(name), PL_V_INT(orig)};
}

void pl_py_conv_add_array(struct pl_py_conv *c, pl_name name, pl_name trunc, PyObject *const *items,
			  Py_ssize_t n)
{
	size_t room = PL_PY_POOL_ITEMS - c->nvals;
	size_t k = (size_t)n < PL_PY_MAX_ITEMS ? (size_t)n : PL_PY_MAX_ITEMS;
	if (k > room)
		k = room;
	pl_value *vals = c->vals + c->nvals;
	Py_ssize_t orig = (size_t)n > k ? n : -1;
	for (size_t i = 0; i < k; i++) {
		Py_ssize_t cut = -1;
		scalar(c, items[i], &vals[i], &cut, true);
		if (cut >= 0)
			orig = n;
	}
	c->nvals += k;
	push(c, name, trunc, PL_V_ARRAY(vals, k), orig);
}

void pl_py_conv_map_begin(struct pl_py_conv *c, struct pl_py_conv_map *m)
{
	size_t room = PL_PY_POOL_ITEMS - c->nkvs;
	m->items = c->kvs + c->nkvs;
	m->cap = room < PL_PY_MAX_ITEMS ? room : PL_PY_MAX_ITEMS;
	m->n = m->total = 0;
	m->truncated = false;
}

void pl_py_conv_map_put(struct pl_py_conv *c, struct pl_py_conv_map *m, PyObject *key,
			PyObject *value)
{
	m->total++;
	if (m->n >= m->cap) {
		m->truncated = true;
		return;
	}
	struct pl_kv *kv = &m->items[m->n];
	Py_ssize_t cut = -1;
	if (PyUnicode_Check(key)) {
		Py_ssize_t len;
		const char *p = PyUnicode_AsUTF8AndSize(key, &len);
		if (!p) {
			PyErr_Clear();
			pl_py_count(c->st, PL_PY_ERR_CONVERT);
			p = "<str>";
			len = 5;
		} else if (len > c->max_len) {
			len = utf8_cut(p, len, c->max_len);
			m->truncated = true;
		}
		kv->key = p;
		kv->key_len = (size_t)len;
	} else {
		pl_value k;
		scalar(c, key, &k, &cut, true);
		size_t n;
		const char *p = NULL;
		if (k.type == PL_VALUE_INT)
			p = text_put(c, &n, "%lld", (long long)k.v.i);
		if (p) {
			kv->key = p;
			kv->key_len = n;
		} else {
			kv->key = type_text(c, Py_TYPE(key), &kv->key_len);
		}
	}
	scalar(c, value, &kv->value, &cut, true);
	if (cut >= 0)
		m->truncated = true;
	m->n++;
}

void pl_py_conv_map_end(struct pl_py_conv *c, struct pl_py_conv_map *m, pl_name name, pl_name trunc)
{
	c->nkvs += m->n;
	push(c, name, trunc, PL_V_MAP(m->items, m->n), m->truncated ? (Py_ssize_t)m->total : -1);
}

void pl_py_conv_add(struct pl_py_conv *c, pl_name name, pl_name trunc, PyObject *o)
{
	pl_value val;
	if (quick_scalar(c, o, &val) && PL_PY_LIKELY(c->n + 1 < PL_PY_MAX_FIELDS)) {
		c->fields[c->n++] = (struct pl_field){name, val}; /* nothing cut: no companion */
		return;
	}
	if (PyList_Check(o) || PyTuple_Check(o)) {
		PyObject *const *items = PyList_Check(o)
					     ? (PyObject *const *)((PyListObject *)o)->ob_item
					     : (PyObject *const *)((PyTupleObject *)o)->ob_item;
		pl_py_conv_add_array(c, name, trunc, items, Py_SIZE(o));
	} else if (PyDict_Check(o)) {
		struct pl_py_conv_map m;
		Py_ssize_t pos = 0;
		PyObject *k, *v;
		pl_py_conv_map_begin(c, &m);
		while (PyDict_Next(o, &pos, &k, &v)) {
			pl_py_conv_map_put(c, &m, k, v);
			if (m.truncated && m.n >= m.cap) {
				m.total = (size_t)PyDict_GET_SIZE(o);
				break;
			}
		}
		pl_py_conv_map_end(c, &m, name, trunc);
	} else {
		Py_ssize_t orig = -1;
		scalar(c, o, &val, &orig, false);
		push(c, name, trunc, val, orig);
	}
}

void pl_py_conv_add_held(struct pl_py_conv *c, const struct pl_py_held *h)
{
	const struct pl_py_heldfield *items = h->items ? h->items : h->inl;
	for (uint32_t i = 0; i < h->n; i++)
		pl_py_conv_add(c, items[i].name, items[i].trunc, items[i].value);
}

/* ---- exceptions ---- */

void pl_py_exc_describe(pl_py_state *st, PyObject *type, PyObject *value, struct pl_py_exc *e)
{
	e->msg = "";
	e->msg_len = 0;
	e->msg_obj = NULL;
	e->cancelled = false;
	if (!type || !PyType_Check(type))
		type = value ? (PyObject *)Py_TYPE(value) : PyExc_Exception;
	e->type_len = pl_py_type_name((PyTypeObject *)type, e->type, sizeof(e->type));
	static const char cancelled[] = "asyncio.exceptions.CancelledError";
	if (e->type_len == sizeof(cancelled) - 1 && !memcmp(e->type, cancelled, e->type_len)) {
		/* A cancelled task: recorded with the outcome "cancelled" (format 2); its message
		 * is mostly empty, so say what happened there too (perfan shows the text). */
		e->cancelled = true;
		e->msg = "cancelled";
		e->msg_len = 9;
		PyObject *s =
		    value && value != Py_None && st->exc_text ? PyObject_Str(value) : NULL;
		if (s && PyUnicode_Check(s) && PyUnicode_GET_LENGTH(s) > 0) {
			PyObject *full = PyUnicode_FromFormat("cancelled: %U", s);
			Py_ssize_t len;
			const char *p = full ? PyUnicode_AsUTF8AndSize(full, &len) : NULL;
			if (p) {
				e->msg_obj = full;
				e->msg = p;
				e->msg_len = len;
				full = NULL;
			}
			Py_XDECREF(full);
		}
		Py_XDECREF(s);
		PyErr_Clear();
		return;
	}
	if (!value || value == Py_None || !st->exc_text)
		return; /* no str(): it is user code, and may be slow (start(exception_text=)) */
	/* str() is user code: it may raise, or return a str subclass; never let either out. */
	PyObject *s = PyUnicode_Check(value) ? Py_NewRef(value) : PyObject_Str(value);
	if (s && PyUnicode_Check(s)) {
		Py_ssize_t len;
		const char *p = PyUnicode_AsUTF8AndSize(s, &len);
		if (!p) {
			PyErr_Clear();
			Py_SETREF(s, PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace"));
			if (s) {
				p = PyBytes_AS_STRING(s);
				len = PyBytes_GET_SIZE(s);
			}
		}
		if (p) {
			e->msg_obj = s;
			e->msg = p;
			e->msg_len = len;
			return;
		}
	}
	Py_XDECREF(s);
	PyErr_Clear();
	pl_py_count(st, PL_PY_ERR_EXC_STR);
	e->msg = "<unprintable exception>";
	e->msg_len = (Py_ssize_t)strlen(e->msg);
}

void pl_py_exc_release(struct pl_py_exc *e)
{
	Py_CLEAR(e->msg_obj);
}
