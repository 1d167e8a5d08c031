/* SPDX-License-Identifier: MIT */
/* context.h - which action is current: a per-thread stack of C frames for decorated
 * synchronous calls, plus the contextvar for everything that outlives a C call.
 *
 * Why two places. A decorated synchronous call is strictly nested inside its caller on
 * one thread, so its pl_action can live in a C frame on a per-thread stack: no Python
 * object is allocated and the contextvar is not set (ContextVar.set allocates). Actions
 * that must outlive a C call (context managers, coroutines, generators, actions carried
 * to other threads) are Action objects, and the contextvar holds the innermost one.
 *
 * The current action is the stack top if the contextvar still holds what it held when
 * that frame was pushed (ctx_at_push), otherwise the contextvar's Action (or none). A
 * frame's ctx_at_push is borrowed, and safe to compare: it is either None or the
 * parent_ref (strong) of a frame at or below it on the same stack, so it stays alive
 * while the frame is on the stack and its address cannot be reused meanwhile.
 *
 * Action objects never point at frames: a frame is popped when its call returns, while
 * an Action may live on in an asyncio task's context. They copy their level instead.
 *
 * A step of a decorated generator is a synchronous call too: for its duration a frame
 * whose `cur` is the generator's Action is pushed, so the generator's action is current
 * in its body without setting the contextvar at each item (wrappers.c).
 */
#ifndef PL_PY_CONTEXT_H
#define PL_PY_CONTEXT_H

#include "module.h"

struct pl_py_frame {
	pl_action act;
	pl_action *cur;	       /* the frame's action: &act for a decorated call; for a step
				* of a decorated generator, its Action's (wrappers.c) */
	PyObject *ctx_at_push; /* borrowed (see above) */
	PyObject *parent_ref;  /* strong: the Action whose act is act's parent, or NULL */
	uint64_t epoch;	       /* st->epoch when pushed */
};

/* Frames come in fixed chunks so that a frame never moves while it is on the stack
 * (children point at it as their parent). */
#define PL_PY_CHUNK_FRAMES 64

struct pl_py_chunk {
	struct pl_py_chunk *prev, *next;
	struct pl_py_frame f[PL_PY_CHUNK_FRAMES];
};

/* One per thread; n counts the frames used in cur, and is 0 only when the stack is empty
 * (cur is then the first chunk). */
struct pl_py_stack {
	struct pl_py_chunk *cur;
	uint32_t n;
	uint64_t named_epoch; /* st->epoch when the thread's name was last recorded */
	struct pl_py_chunk first;
};

/* initial-exec: one pointer of static TLS, read without a __tls_get_addr call. */
extern __thread struct pl_py_stack *pl_py_tls_stack __attribute__((tls_model("initial-exec")));

struct pl_py_stack *pl_py_stack_create(void);
struct pl_py_frame *pl_py_stack_push_slow(struct pl_py_stack *s);

/* The calling thread's stack; NULL only if it cannot be allocated. */
static inline struct pl_py_stack *pl_py_stack_get(void)
{
	struct pl_py_stack *s = pl_py_tls_stack;
	return PL_PY_LIKELY(s != NULL) ? s : pl_py_stack_create();
}

/* Record the calling thread's Python name (threading.current_thread().name) in the
 * current trace; liblog only knows the OS name, which Python 3.11 leaves "python3". */
void pl_py_name_thread(pl_py_state *st, struct pl_py_stack *s);

/* pl_py_stack_get(), and the thread named in the current trace: once per thread and
 * start(), before its first event. Call only while recording (st->writer set). */
static inline struct pl_py_stack *pl_py_stack_named(pl_py_state *st)
{
	struct pl_py_stack *s = pl_py_stack_get();
	if (PL_PY_LIKELY(s != NULL) && PL_PY_UNLIKELY(s->named_epoch != st->epoch))
		pl_py_name_thread(st, s);
	return s;
}

static inline struct pl_py_frame *pl_py_stack_top(struct pl_py_stack *s)
{
	return s->n ? &s->cur->f[s->n - 1] : NULL;
}

/* A new top frame (uninitialized); NULL if a chunk cannot be allocated. */
static inline struct pl_py_frame *pl_py_stack_push(struct pl_py_stack *s)
{
	if (PL_PY_LIKELY(s->n < PL_PY_CHUNK_FRAMES))
		return &s->cur->f[s->n++];
	return pl_py_stack_push_slow(s);
}

static inline void pl_py_stack_pop(struct pl_py_stack *s)
{
	if (PL_PY_LIKELY(s->n > 1) || !s->cur->prev) {
		s->n--;
		return;
	}
	s->cur = s->cur->prev;
	s->n = PL_PY_CHUNK_FRAMES;
}

/* Pop frame @f. Calls nest, so @f is normally the top; but a coroutine library that
 * switches C stacks (greenlet) can end calls out of order. Then @f is only marked dead
 * (ctx_at_push = NULL, never current) and popped once everything above it is: a live
 * frame's memory is never reused, whatever the order. */
static inline void pl_py_stack_release(struct pl_py_stack *s, struct pl_py_frame *f)
{
	struct pl_py_frame *top;
	f->ctx_at_push = NULL;
	while ((top = pl_py_stack_top(s)) && !top->ctx_at_push)
		pl_py_stack_pop(s);
}

/* The current action given the stack and the contextvar's value (borrowed), or NULL
 * when there is none or it belongs to an earlier epoch. *owner receives the Action
 * object holding it (borrowed), or NULL when it is a stack frame. */
static inline pl_action *pl_py_current(pl_py_state *st, struct pl_py_stack *s, PyObject *ctxval,
				       PyObject **owner)
{
	struct pl_py_frame *top = s ? pl_py_stack_top(s) : NULL;
	*owner = NULL;
	if (top && top->ctx_at_push == ctxval) {
		if (top->cur != &top->act) /* a generator's step: its Action owns the action */
			*owner = (PyObject *)((char *)top->cur - offsetof(pl_py_action, act));
		return top->epoch == st->epoch ? top->cur : NULL;
	}
	if (ctxval != Py_None && Py_IS_TYPE(ctxval, st->action_type)) {
		pl_py_action *a = (pl_py_action *)ctxval;
		if (a->state != PL_PY_PREPARED && a->epoch == st->epoch) {
			*owner = ctxval;
			return &a->act;
		}
	}
	return NULL;
}

/* The contextvar's value as a borrowed reference (the context keeps it alive while the
 * caller does not switch contexts). Never fails: errors read as None and are counted. */
static inline PyObject *pl_py_ctx_get(pl_py_state *st)
{
	PyObject *v = NULL;
	if (PL_PY_UNLIKELY(PyContextVar_Get(st->ctxvar, NULL, &v) < 0 || !v)) {
		PyErr_Clear();
		pl_py_count(st, PL_PY_ERR_CONTEXT);
		return Py_None;
	}
	Py_DECREF(v);
	return v;
}

/* The current action of the calling thread (see pl_py_current). */
pl_action *pl_py_current_action(pl_py_state *st, PyObject **owner);

#endif /* PL_PY_CONTEXT_H */
