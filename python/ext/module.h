/* SPDX-License-Identifier: MIT */
/* module.h - module state, the Python object layouts shared between files, and the few
 * cross-file declarations of the perflog._perflog extension.
 *
 * Concurrency: CPython 3.11 has a GIL and every function here runs with it held, except
 * where a comment says the GIL is released (opening, flushing and closing the writer).
 * The GIL is what makes the plain fields of the state safe to read and write.
 */
#ifndef PL_PY_MODULE_H
#define PL_PY_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>
#include <stdint.h>

#include <perflog/perflog.h>

/* Default max_len: longest str/bytes value recorded, in bytes. */
#define PL_PY_DEFAULT_MAX_LEN 256

/* A function pointer in a PyType_Slot (void *): ISO C has no direct conversion, so go
 * through an integer (keeps -Wpedantic quiet; exact on every platform CPython runs on). */
#define PL_PY_FN(f) ((void *)(uintptr_t)(f))

#define PL_PY_LIKELY(x)	  __builtin_expect(!!(x), 1)
#define PL_PY_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Recording errors the extension itself counts (perflog.stats() shows them). They never
 * reach user code: each is cleared where it happens and counted here. */
enum pl_py_err {
	PL_PY_ERR_CONVERT,   /* a value could not be converted (e.g. a str with lone surrogates) */
	PL_PY_ERR_EXC_STR,   /* str() of an exception raised or was not text */
	PL_PY_ERR_CONTEXT,   /* the contextvar could not be read, set or reset */
	PL_PY_ERR_BAD_TASK,  /* continue_task() got a malformed task string: a new task was begun */
	PL_PY_ERR_DEPTH,     /* an action nested too deep to copy its level: a new task was begun */
	PL_PY_ERR_MEMORY,    /* out of memory while recording: the call ran unrecorded */
	PL_PY_ERR_FIELDS,    /* more fields than one event holds: the rest were left out */
	PL_PY_ERR_WRAP,	     /* a coroutine/generator could not be wrapped: it ran unrecorded */
	PL_PY_ERR_SERIALIZE, /* current_task() could not serialize the action (too deep) */
	PL_PY_ERR_RESTART,   /* a call while start() reopened the same file: unrecorded */
	PL_PY_ERR_EXTRACT,   /* an extractor raised, or returned what cannot be recorded */
	PL_PY_NERR
};

/* Per-module state (one per interpreter that imports the module). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang's spelling */
#define PL_PY_HAS_ASAN 1
#endif
#endif
#ifndef PL_PY_HAS_ASAN
#define PL_PY_HAS_ASAN 0
#endif

/* Freed objects of one type's size kept for their next use, as CPython's own freelists
 * and Cython's @cython.freelist: a decorated coroutine call allocates two objects (its
 * wrapper and its Action), and the allocator's and the GC's work on them was a tenth of
 * a decorated await. An entry is the memory of a dead GC object, untracked, holding no
 * reference (not even to its type); PyObject_Init() makes it an object again. */
#if defined(__SANITIZE_ADDRESS__) || PL_PY_HAS_ASAN
#define PL_PY_FREE_MAX 0 /* under AddressSanitizer: every use after free is seen */
#else
#define PL_PY_FREE_MAX 16
#endif
struct pl_py_freelist {
	uint32_t n;
	PyObject *o[PL_PY_FREE_MAX ? PL_PY_FREE_MAX : 1];
};

typedef struct pl_py_state {
	/* Recording: writer is NULL when not recording. epoch changes at every start(),
	 * stop() and in a fork child; actions remember the epoch they began in and are
	 * ended, or used as parents, only while it is still current (so nothing touches a
	 * closed writer, or a parent process's tree from a fork child). */
	struct pl_writer *writer;
	uint64_t epoch;
	PyThread_type_lock ctl_lock; /* serializes start/stop/flush (taken without the GIL) */
	bool switching; /* start() is reopening the file being written: calls are counted */
	struct pl_writer_stats last_stats; /* the writer's counters at the last stop() */
	bool have_last_stats;
	bool exc_text; /* record str() of exceptions (start(exception_text=...)) */

	PyObject *ctxvar;      /* ContextVar("perflog.action", default=None): the current Action */
	PyObject *redacted;    /* "<redacted>" */
	PyObject *name_cache;  /* dict str -> int: interned names of dynamic field/type names */
	PyObject *agen_wrap;   /* the Python wrapper of async generators, or NULL */
	PyObject *trace_error; /* perflog.TraceError */

	PyTypeObject *decorated_type;
	PyTypeObject *action_type;
	PyTypeObject *ready_type;
	PyTypeObject *reader_type;
	PyTypeObject *coro_type; /* perflog.CoroutineWrapper */
	PyTypeObject *gen_type;	 /* perflog.GeneratorWrapper */

	/* "<module.Qualname>" texts (bytes) by type, direct-mapped, filled and never evicted
	 * (convert.c says why); strong refs. */
	PyObject *tn_type[64];
	PyObject *tn_text[64];

	pl_name name_result; /* "result" */
	pl_name name_closed; /* "closed" (a generator closed before exhaustion) */
	pl_name name_remote; /* "perflog:remote_task" */
	pl_name name_thread; /* "perflog:thread" */

	uint64_t errors[PL_PY_NERR];

	struct pl_py_freelist free_actions;  /* of action_type (action.c) */
	struct pl_py_freelist free_wrappers; /* of coro_type and gen_type (wrappers.c) */
} pl_py_state;

/* Kinds of decorated callable. */
enum { PL_PY_KIND_SYNC = 0, PL_PY_KIND_CORO = 1, PL_PY_KIND_GEN = 2, PL_PY_KIND_AGEN = 3 };

static inline void pl_py_count(pl_py_state *st, enum pl_py_err e)
{
	st->errors[e]++;
}

/* A kept object made a new, untracked object of @tp (a GC type of the size the list
 * keeps), or NULL when the list is empty (allocate one). */
static inline PyObject *pl_py_free_take(struct pl_py_freelist *f, PyTypeObject *tp)
{
	return f->n ? PyObject_Init(f->o[--f->n], tp) : NULL;
}

/* From a tp_dealloc, once @o is untracked and cleared, before its type is released:
 * keep @o's memory if @live (the module's types are still there: the list is drained
 * before they go, as freeing an entry reads its type) and the list has room; else free
 * it. */
static inline void pl_py_free_keep(struct pl_py_freelist *f, PyObject *o, bool live)
{
	if (live && f->n + 1 <= PL_PY_FREE_MAX) /* not `<`: the bound is 0 under ASan */
		f->o[f->n++] = o;
	else
		PyObject_GC_Del(o);
}

/* Free every kept object (module clear and free). */
static inline void pl_py_free_drain(struct pl_py_freelist *f)
{
	while (f->n)
		PyObject_GC_Del(f->o[--f->n]);
}

/* ---- fields held by an Action until they are recorded (action.c) ---- */

struct pl_py_heldfield {
	pl_name name;
	pl_name trunc;	 /* name of the "<name>.truncated" companion, or 0 (made on demand) */
	PyObject *value; /* strong */
};

/* Held fields: the first PL_PY_HELD_INLINE in the struct itself (a decorated coroutine's
 * arguments, held from the call to its first step, cost no allocation), more in a PyMem
 * array that then holds them all. Never copied by value: use pl_py_held_items(). */
#define PL_PY_HELD_INLINE 4
struct pl_py_held {
	uint32_t n, cap;	       /* cap: of @items, 0 while they are inline */
	struct pl_py_heldfield *items; /* PyMem, or NULL: in @inl */
	struct pl_py_heldfield inl[PL_PY_HELD_INLINE];
};

static inline struct pl_py_heldfield *pl_py_held_items(struct pl_py_held *h)
{
	return h->items ? h->items : h->inl;
}

/* Returns 0, or -1 with MemoryError set. */
int pl_py_held_add(struct pl_py_held *h, pl_name name, pl_name trunc, PyObject *value);
void pl_py_held_clear(struct pl_py_held *h);
int pl_py_held_traverse(struct pl_py_held *h, visitproc visit, void *arg);

/* ---- Action objects (action.c) ---- */

enum { PL_PY_PREPARED = 0, PL_PY_ACTIVE = 1, PL_PY_FINISHED = 2 };

#define PL_PY_LEVEL_INLINE 8

/* An action kept in a Python object: what the contextvar holds. It never points at a
 * stack frame (see context.h): its level is its own copy, begun with
 * pl_action_begin_at(). */
typedef struct {
	PyObject_HEAD pl_py_state
	    *st;       /* alive: the type holds the module, the object holds its type */
	pl_action act; /* valid once state != PL_PY_PREPARED */
	uint64_t prefix, seq;
	uint64_t epoch;	 /* st->epoch at begin */
	uint32_t *level; /* level_inline or PyMem */
	uint32_t depth;
	uint32_t level_inline[PL_PY_LEVEL_INLINE];
	pl_name type;
	uint8_t state;
	Py_ssize_t max_len;
	bool record_result; /* _return(value) records it as "result" */
	PyObject *secrets;  /* tuple: redacted argument values the result and exception text
			     * must not show (pl_py_reveals), or NULL */
	struct pl_py_held start_fields; /* recorded at begin, then released */
	struct pl_py_held end_fields;	/* add(): recorded at the end */
	PyObject *token;		/* contextvar token while entered as a context manager */
	bool traceparent; /* the root of a task continued from a traceparent: registered
			   * (pl_task_trace_set) until it finishes or goes away */
} pl_py_action;

/* A new, prepared (not yet begun) Action placed as the next child of the current action,
 * or as a new task when there is none. NULL with an exception set on failure. */
pl_py_action *pl_py_action_new_child(pl_py_state *st, pl_name type, Py_ssize_t max_len);
/* A new, prepared Action at the place a task string names (continue_task). */
pl_py_action *pl_py_action_new_at(pl_py_state *st, pl_name type, const struct pl_task_ref *ref);
/* A new, prepared Action beginning a task that continues the distributed trace of @tp
 * (continue_task with a traceparent): recorded with field "perflog.traceparent". */
pl_py_action *pl_py_action_new_traced(pl_py_state *st, pl_name type,
				      const struct pl_traceparent *tp);
/* Hold the items of dict @fields (str keys) as START fields of the prepared @a.
 * Returns 0, or -1 with an exception set. */
int pl_py_action_hold_fields(pl_py_action *a, PyObject *fields);
/* Begin (records START with the held start fields). Never fails. */
void pl_py_action_begin(pl_py_action *a);
/* End: success when exc is NULL, else failure with exc (an exception instance). Never
 * raises; must be called with no exception set. */
void pl_py_action_finish(pl_py_action *a, PyObject *exc_type, PyObject *exc);
/* End as succeeded with the return value @value (recorded as "result" if the decorator
 * asked, redacted if it reveals a secret). Never raises; no exception may be set. */
void pl_py_action_return(pl_py_action *a, PyObject *value);
/* End as succeeded, closed before it finished (field closed=True). Never raises. */
void pl_py_action_close(pl_py_action *a);

/* ---- coroutine and generator wrappers (wrappers.c) ---- */

/* The object a call of a decorated coroutine function (kind PL_PY_KIND_CORO) or generator
 * function (PL_PY_KIND_GEN) returns in place of @inner: it begins @a at its first step,
 * ends it at its last. Steals nothing; NULL with an exception set on failure. */
PyObject *pl_py_wrap(pl_py_state *st, int kind, PyObject *inner, pl_py_action *a);

/* ---- module.c ---- */

/* The interned number of a Python str name, cached in st->name_cache; 0 on failure
 * (counted, no exception left set). */
pl_name pl_py_name(pl_py_state *st, PyObject *s);
/* An exception described for pl_action_fail(): type "module.Qualname" and str(). */
struct pl_py_exc {
	char type[512];
	size_t type_len;
	const char *msg; /* UTF-8 of msg_obj, or static text */
	Py_ssize_t msg_len;
	PyObject *msg_obj; /* strong, or NULL */
	bool cancelled;	   /* asyncio's CancelledError: the action ends cancelled, not failed */
};
/* Describe an exception (convert.c). Never raises; call it with no exception set, and
 * before converting fields (str() runs user code). Release with pl_py_exc_release. */
void pl_py_exc_describe(pl_py_state *st, PyObject *type, PyObject *value, struct pl_py_exc *e);
void pl_py_exc_release(struct pl_py_exc *e);

/* End @a with the exception @e: as cancelled for a cancellation, else as failed. */
static inline void pl_py_end_exc(pl_action *a, const struct pl_py_exc *e,
				 const struct pl_field *fields, size_t n)
{
	if (e->cancelled)
		pl_action_cancel(a, e->type, e->type_len, e->msg, (size_t)e->msg_len, fields, n);
	else
		pl_action_fail(a, e->type, e->type_len, e->msg, (size_t)e->msg_len, fields, n);
}

/* Module functions implemented next to what they use. */
PyObject *pl_py_current_task(PyObject *module, PyObject *args, PyObject *kwargs); /* context.c */
PyObject *pl_py_continue_task(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pl_py_child_action(PyObject *module, PyObject *type);
PyObject *pl_py_action_func(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
			    PyObject *kwnames); /* action.c */
PyObject *pl_py_log(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *pl_py_read(PyObject *module, PyObject *path); /* read.c */
/* A field value as a Python object (str, int, float, bool, bytes, list, dict, None): as
 * perflog.read() gives it. NULL with an exception set. (read.c) */
PyObject *pl_py_value(const pl_value *v);
/* Raise perflog.TraceError for @e (file @path: offset, reason). (read.c) */
void pl_py_raise_reader_error(pl_py_state *st, PyObject *path, const struct pl_reader_error *e);
/* _action_columns(paths, inputs=True): the actions of the files as columns (columns.c). */
PyObject *pl_py_action_columns(PyObject *module, PyObject *args, PyObject *kwargs);

/* Type specs of each file's types. */
extern PyType_Spec pl_py_decorated_spec;
extern PyType_Spec pl_py_action_spec;
extern PyType_Spec pl_py_ready_spec;
extern PyType_Spec pl_py_reader_spec;
extern PyType_Spec pl_py_coro_spec;
extern PyType_Spec pl_py_gen_spec;

/**
 * pl_py_flush_on_sigterm() - in a multiprocessing worker, flush the writer of @st before
 * SIGTERM ends the process (sigterm.c). Only when SIGTERM's disposition is the default.
 * Returns: 1 armed (or already), 0 not (the program handles SIGTERM, or no resources).
 */
int pl_py_flush_on_sigterm(pl_py_state *st);

/** pl_py_sigterm_forget() - @st is going away: a later SIGTERM flushes nothing. */
void pl_py_sigterm_forget(pl_py_state *st);

#endif /* PL_PY_MODULE_H */
