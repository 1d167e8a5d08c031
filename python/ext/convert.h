/* SPDX-License-Identifier: MIT */
/* convert.h - Python objects to pl_field values for one event, never raising.
 *
 * int (int64, or uint64 above INT64_MAX), float, bool, None, str and bytes/bytearray are
 * recorded natively; str and bytes longer than max_len are cut (at a UTF-8 character
 * boundary) and the field gets a companion "<name>.truncated" holding the original
 * len(). list/tuple/dict are recorded shallowly: their first PL_PY_MAX_ITEMS items, each
 * as a scalar, and a companion "<name>.truncated" when items were left out or cut.
 * Anything else is recorded as the text "<module.Qualname>", nested builtin containers
 * as "<list len=3>": repr() is never called and no user code runs, so conversion cannot
 * raise, block or recurse. Failures (a str with lone surrogates) are counted.
 *
 * The values point into the converted objects and into the converter's storage: both
 * must stay alive until the event is handed to liblog, which copies it.
 */
#ifndef PL_PY_CONVERT_H
#define PL_PY_CONVERT_H

#include "module.h"

/* Most fields of one event (a start event's arguments, add() fields...). */
#define PL_PY_MAX_FIELDS 64
/* Items of one list/tuple/dict recorded. */
#define PL_PY_MAX_ITEMS 16
/* Container items of one event, all fields together (bounds the converter's size). */
#define PL_PY_POOL_ITEMS 128
/* Bytes of generated text ("<list len=3>", int dict keys) of one event. */
#define PL_PY_TEXT_BYTES 1024

/* Converter for one event: caller storage (about 10 KiB, meant for the C stack of a
 * function that returns before the decorated call is made). Not initialized beyond
 * what pl_py_conv_init sets. */
struct pl_py_conv {
	pl_py_state *st;
	Py_ssize_t max_len;
	size_t n, nvals, nkvs, ntext;
	struct pl_field fields[PL_PY_MAX_FIELDS];
	PyObject *owned[PL_PY_MAX_FIELDS]; /* made for this event (extractors' results) */
	size_t nowned;
	pl_value vals[PL_PY_POOL_ITEMS];
	struct pl_kv kvs[PL_PY_POOL_ITEMS];
	char text[PL_PY_TEXT_BYTES];
};

/* The commonest arguments without a call: an ASCII str no longer than @max_len (its own
 * UTF-8), an int of at most one 30-bit digit (3.11's layout: the sign is the size's),
 * None. False for anything else (left to the converter). @out borrows from @o. */
static inline __attribute__((always_inline)) bool pl_py_quick_scalar(Py_ssize_t max_len,
								     PyObject *o, pl_value *out)
{
	if (PyUnicode_CheckExact(o) && PyUnicode_IS_COMPACT_ASCII(o) &&
	    PL_PY_LIKELY(PyUnicode_GET_LENGTH(o) <= max_len)) {
		*out = PL_V_STRN((const char *)PyUnicode_DATA(o), (size_t)PyUnicode_GET_LENGTH(o));
		return true;
	}
	if (PyLong_CheckExact(o) && Py_SIZE(o) >= -1 && Py_SIZE(o) <= 1) {
		*out = PL_V_INT((int64_t)Py_SIZE(o) * (int64_t)((PyLongObject *)o)->ob_digit[0]);
		return true;
	}
	if (o == Py_None) {
		*out = PL_V_NIL();
		return true;
	}
	return false;
}

static inline void pl_py_conv_init(struct pl_py_conv *c, pl_py_state *st, Py_ssize_t max_len)
{
	c->st = st;
	c->max_len = max_len;
	c->n = c->nvals = c->nkvs = c->ntext = c->nowned = 0;
}

/* Keep @o (a new reference, stolen) alive until pl_py_conv_release(). Returns @o, or NULL
 * (@o released) when the converter holds PL_PY_MAX_FIELDS already. */
static inline PyObject *pl_py_conv_own(struct pl_py_conv *c, PyObject *o)
{
	if (!o || c->nowned == PL_PY_MAX_FIELDS) {
		Py_XDECREF(o);
		return NULL;
	}
	return c->owned[c->nowned++] = o;
}

/* After the event was handed to liblog: release what pl_py_conv_own() kept. */
static inline void pl_py_conv_release(struct pl_py_conv *c)
{
	while (c->nowned)
		Py_DECREF(c->owned[--c->nowned]);
}

/* Add field @name with the value of @o (borrowed; must outlive the event). @trunc is
 * the number of "<name>.truncated", or 0 to intern it only if needed. */
void pl_py_conv_add(struct pl_py_conv *c, pl_name name, pl_name trunc, PyObject *o);

/* Add field @name as an array of @n objects (a function's *args). */
void pl_py_conv_add_array(struct pl_py_conv *c, pl_name name, pl_name trunc, PyObject *const *items,
			  Py_ssize_t n);

/* Add the fields held by an Action (see module.h). */
void pl_py_conv_add_held(struct pl_py_conv *c, const struct pl_py_held *h);

/* A map under construction (a function's **kwargs): up to PL_PY_MAX_ITEMS entries. */
struct pl_py_conv_map {
	struct pl_kv *items;
	size_t n, cap, total;
	bool truncated;
};
void pl_py_conv_map_begin(struct pl_py_conv *c, struct pl_py_conv_map *m);
void pl_py_conv_map_put(struct pl_py_conv *c, struct pl_py_conv_map *m, PyObject *key,
			PyObject *value);
void pl_py_conv_map_end(struct pl_py_conv *c, struct pl_py_conv_map *m, pl_name name,
			pl_name trunc);

/* "module.Qualname" of a type into buf (at most size - 1 bytes); returns the length. */
size_t pl_py_type_name(PyTypeObject *t, char *buf, size_t size);

#endif /* PL_PY_CONVERT_H */
