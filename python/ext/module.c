/* SPDX-License-Identifier: MIT */
/* module.c - perflog._perflog: multi-phase init, module state, and the recording
 * lifecycle: start(), stop(), flush(), stats(); the name cache.
 *
 * start/stop/flush take st->ctl_lock with the GIL released (they block on file I/O).
 * The writer pointer changes only with the GIL held, and a recording thread uses it only
 * with the GIL held, between two checks of st->writer and st->epoch: stop() clears the
 * pointer and bumps the epoch under the GIL before it releases the GIL to close the
 * writer, so no thread can touch a closed writer.
 */
#include "module.h" /* first: Python.h before any system header */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- names ---- */

pl_name pl_py_name(pl_py_state *st, PyObject *s)
{
	PyObject *cached = PyDict_GetItemWithError(st->name_cache, s);
	if (cached)
		return (pl_name)PyLong_AsUnsignedLong(cached);
	Py_ssize_t len;
	const char *p = PyErr_Occurred() ? NULL : PyUnicode_AsUTF8AndSize(s, &len);
	if (!p) {
		PyErr_Clear();
		pl_py_count(st, PL_PY_ERR_CONVERT);
		return 0;
	}
	pl_name n = pl_name_intern(p, (size_t)len);
	/* Bounded: names made up at run time would otherwise grow the cache forever. */
	if (n && PyDict_GET_SIZE(st->name_cache) < 65536) {
		PyObject *num = PyLong_FromUnsignedLong(n);
		if (!num || PyDict_SetItem(st->name_cache, s, num) < 0)
			PyErr_Clear();
		Py_XDECREF(num);
	}
	return n;
}

/* ---- the writer lifecycle ---- */

static void lock_ctl(pl_py_state *st)
{
	Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(st->ctl_lock, WAIT_LOCK);
	Py_END_ALLOW_THREADS
}

/* Close @w, detached already (its counters kept for stats()), without the GIL. */
static void close_detached(pl_py_state *st, struct pl_writer *w, bool release_gil)
{
	st->last_stats = (struct pl_writer_stats)PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st->last_stats);
	st->have_last_stats = true;
	if (release_gil) {
		Py_BEGIN_ALLOW_THREADS pl_writer_close(w);
		Py_END_ALLOW_THREADS
	} else {
		pl_writer_close(w);
	}
}

/* Detach the writer (GIL and ctl_lock held) and close it without the GIL. */
static void close_writer(pl_py_state *st, bool release_gil)
{
	struct pl_writer *w = st->writer;
	if (!w)
		return;
	st->writer = NULL;
	st->epoch++;
	close_detached(st, w, release_gil);
}

/* Whether a writer on @tmpl would write the file @w writes: the same template, or, for a
 * plain path ("{pid}" at most), the same file. Then it must be closed first. */
static bool same_file(struct pl_writer *w, const char *tmpl)
{
	const char *cur = pl_writer_path(w);
	if (strstr(tmpl, "{n}") || strstr(tmpl, "{time}"))
		return true; /* cannot tell cheaply: be safe, close first */
	struct stat a, b;
	char path[4096];
	const char *p = strstr(tmpl, "{pid}");
	if (p) {
		int n = snprintf(path, sizeof(path), "%.*s%ld%s", (int)(p - tmpl), tmpl,
				 (long)getpid(), p + 5);
		if (n < 0 || (size_t)n >= sizeof(path) || strstr(p + 5, "{pid}"))
			return true;
		tmpl = path;
	}
	if (!strcmp(tmpl, cur))
		return true;
	return stat(tmpl, &a) == 0 && stat(cur, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

PyDoc_STRVAR(start_doc,
	     "start(path='perflog-{pid}.zst', *, flush_interval_ms=100, buffer_size=1048576,\n"
	     "      max_memory=268435456, full_policy='drop', clock='auto', compression_level=1,\n"
	     "      file_mode=0o600)\n"
	     "--\n\n"
	     "Start recording into a new trace file ('{pid}' is replaced by the process id).\n"
	     "A trace holds the calls' inputs, so the file is created new with file_mode; an\n"
	     "existing path is reused only if it is the user's own regular file with no other\n"
	     "hard link (it is then emptied and given file_mode); a symlink, another user's\n"
	     "file or a file with other links is refused. If recording already, the current\n"
	     "file is closed first.\n\n"
	     "Parameters\n----------\n"
	     "flush_interval_ms : int\n    Write a frame at least this often (every ten intervals "
	     "when nothing\n    is recorded and no action is open).\n"
	     "buffer_size : int\n    Bytes of staging ring per recording thread.\n"
	     "max_memory : int\n    Cap on all rings together.\n"
	     "full_policy : {'drop', 'block'}\n"
	     "    When a thread's ring is full: drop the event and count it, or wait.\n"
	     "clock : {'auto', 'monotonic'}\n    'auto' uses the invariant TSC when there is one.\n"
	     "file_mode : int\n    Permission bits: 0o600 (default), 0o640 or 0o644; never\n"
	     "    group or other write, setuid, setgid or sticky.\n"
	     "rotate_bytes, rotate_seconds : int\n"
	     "    Move to a new file past this size / after this long (0: never). Files are\n"
	     "    numbered by '{n}' in path (added before the extension if absent); '{time}' is\n"
	     "    the UTC time a file was opened. A closed file ends with a STATS record.\n"
	     "keep_files, keep_bytes : int\n"
	     "    Delete this writer's oldest closed files past this many / these bytes.\n"
	     "exception_text : bool\n"
	     "    Record str() of the exceptions that end actions (default True). str() runs\n"
	     "    in the failing thread: an exception whose __str__ is slow makes every failed\n"
	     "    call that slow; False records the exception type alone.\n\n"
	     "Returns\n-------\nstr\n    The path actually written.\n\n"
	     "Raises\n------\nValueError\n    For an invalid option.\n"
	     "FileExistsError\n    If the path is refused (see above).\n"
	     "OSError\n    If the file cannot be created.");

static PyObject *mod_start(PyObject *m, PyObject *args, PyObject *kwargs)
{
	static char *kw[] = {"path",
			     "flush_interval_ms",
			     "buffer_size",
			     "max_memory",
			     "full_policy",
			     "clock",
			     "compression_level",
			     "file_mode",
			     "rotate_bytes",
			     "rotate_seconds",
			     "keep_files",
			     "keep_bytes",
			     "exception_text",
			     NULL};
	pl_py_state *st = PyModule_GetState(m);
	struct pl_writer_options o;
	PyObject *path = NULL;
	Py_ssize_t flush_ms, ring, mode;
	long long max_memory, rotate_bytes = 0, rotate_seconds = 0, keep_files = 0, keep_bytes = 0;
	int exc_text = 1;
	const char *policy = "drop", *clock = "auto";
	int level;
	pl_writer_options_init(&o);
	flush_ms = o.flush_interval_ms;
	ring = o.buffer_size;
	max_memory = (long long)o.max_memory;
	level = o.compression_level;
	mode = o.file_mode;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O&$nnLssinLLLLp:start", kw,
					 PyUnicode_FSConverter, &path, &flush_ms, &ring,
					 &max_memory, &policy, &clock, &level, &mode, &rotate_bytes,
					 &rotate_seconds, &keep_files, &keep_bytes, &exc_text))
		return NULL;
	if (rotate_bytes < 0 || rotate_seconds < 0 || rotate_seconds > UINT32_MAX ||
	    keep_files < 0 || keep_files > UINT32_MAX || keep_bytes < 0 ||
	    ((keep_files || keep_bytes) && !rotate_bytes && !rotate_seconds)) {
		Py_XDECREF(path);
		PyErr_SetString(
		    PyExc_ValueError,
		    "start(): rotate_bytes, rotate_seconds, keep_files, keep_bytes must be "
		    ">= 0, and keep_* needs rotate_bytes or rotate_seconds");
		return NULL;
	}
	if (!path && !(path = PyBytes_FromString("perflog-{pid}.zst")))
		return NULL;
	/* Each bad option named, with its valid range (docs/python.md). */
	const char *bad = NULL;
	if (PyBytes_GET_SIZE(path) == 0)
		bad = "path must not be empty";
	else if (flush_ms <= 0 || flush_ms > UINT32_MAX)
		bad = "flush_interval_ms must be from 1 to 4294967295";
	else if (ring < 256 * 1024 || ring > (1 << 30))
		bad = "buffer_size must be from 262144 (256 KiB) to 1073741824 (1 GiB)";
	else if (max_memory <= 0)
		bad = "max_memory must be > 0";
	else if (strcmp(policy, "drop") != 0 && strcmp(policy, "block") != 0)
		bad = "full_policy must be 'drop' or 'block'";
	else if (strcmp(clock, "auto") != 0 && strcmp(clock, "monotonic") != 0)
		bad = "clock must be 'auto' or 'monotonic'";
	else if (level < -131072 || level > 22)
		bad = "compression_level must be from -131072 to 22 (zstd's levels)";
	else if (mode < 0 || mode > 0777 || (mode & 022))
		bad = "file_mode must be permission bits without group or other write (0o600, "
		      "0o640, 0o644)";
	if (bad) {
		Py_DECREF(path);
		PyErr_Format(PyExc_ValueError, "start(): %s", bad);
		return NULL;
	}
	o.path = PyBytes_AS_STRING(path);
	o.flush_interval_ms = (uint32_t)flush_ms;
	o.buffer_size = (uint32_t)ring;
	o.max_memory = (uint64_t)max_memory;
	o.full_policy = strcmp(policy, "block") == 0 ? PL_FULL_BLOCK : PL_FULL_DROP;
	o.clock = strcmp(clock, "monotonic") == 0 ? PL_CLOCK_MONOTONIC : PL_CLOCK_AUTO;
	o.compression_level = level;
	o.file_mode = (uint32_t)mode;
	o.rotate_bytes = (uint64_t)rotate_bytes;
	o.rotate_seconds = (uint32_t)rotate_seconds;
	o.keep_files = (uint32_t)keep_files;
	o.keep_bytes = (uint64_t)keep_bytes;

	struct pl_writer *w = NULL, *old = NULL;
	int ret, err = 0;
	lock_ctl(st);
	/* Another file: the new writer opens while the old one still records, so that no
	 * call falls between them. The same file: closed first, and calls in the gap are
	 * counted (py_restart_gap). */
	bool reopen = st->writer && same_file(st->writer, o.path);
	if (reopen) {
		st->switching = true;
		close_writer(st, true);
	}
	Py_BEGIN_ALLOW_THREADS errno = 0;
	ret = pl_writer_open(&o, &w);
	err = errno;
	Py_END_ALLOW_THREADS st->switching = false;
	if (ret == 0) {
		old = st->writer;
		st->writer = w; /* with the GIL: no call is between two writers */
		st->exc_text = exc_text;
		st->epoch++;
		st->have_last_stats = false;
		if (old)
			close_detached(st, old, true);
		st->have_last_stats = false;
	}
	PyThread_release_lock(st->ctl_lock);

	PyObject *result = NULL;
	if (ret == 0) {
		result = PyUnicode_DecodeFSDefault(pl_writer_path(w));
	} else if (ret == -PL_EINVAL) {
		PyErr_Format(PyExc_ValueError, "start(): %s", pl_strerror(ret));
	} else if (ret == -PL_EEXIST) {
		/* Refused by the file rule of pl_output_open(): errno says which part. */
		const char *why = err == ELOOP ? "a symbolic link"
				  : err == EPERM
				      ? "another user's file (it would stay readable to them)"
				  : err == EMLINK ? "a file with other hard links"
						  : "not a regular file";
		PyErr_Format(PyExc_FileExistsError, "start(): %s is %s: refused", o.path, why);
	} else if (ret == -PL_ENOMEM) {
		PyErr_NoMemory();
	} else {
		errno = err ? err : EIO;
		PyErr_SetFromErrnoWithFilename(PyExc_OSError, o.path);
	}
	Py_DECREF(path);
	return result;
}

PyDoc_STRVAR(stop_doc,
	     "stop()\n--\n\n"
	     "Stop recording: write everything recorded and the final statistics, close the\n"
	     "file. Does nothing when not recording. Never raises (write errors are counted\n"
	     "in stats()).");

static PyObject *mod_stop(PyObject *m, PyObject *unused)
{
	pl_py_state *st = PyModule_GetState(m);
	lock_ctl(st);
	close_writer(st, true);
	PyThread_release_lock(st->ctl_lock);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(flush_doc,
	     "flush()\n--\n\n"
	     "Write everything recorded so far (by every thread) to the file.\n\n"
	     "Returns\n-------\nbool\n    True if it was written (or there was nothing to do),\n"
	     "    False if the write failed (counted in stats()). Never raises.");

static PyObject *mod_flush(PyObject *m, PyObject *unused)
{
	pl_py_state *st = PyModule_GetState(m);
	int ret = 0;
	Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(st->ctl_lock, WAIT_LOCK);
	if (st->writer)
		ret = pl_writer_flush(st->writer);
	PyThread_release_lock(st->ctl_lock);
	Py_END_ALLOW_THREADS return PyBool_FromLong(ret == 0);
}

PyDoc_STRVAR(recording_doc, "recording()\n--\n\nTrue while start() is in effect.");
static PyObject *mod_recording(PyObject *m, PyObject *unused)
{
	return PyBool_FromLong(((pl_py_state *)PyModule_GetState(m))->writer != NULL);
}

PyDoc_STRVAR(stats_doc,
	     "stats()\n--\n\n"
	     "Counters of the current writer (or of the last one, after stop()) and of the\n"
	     "extension's own recording errors (keys starting with 'py_'); 'recording' and\n"
	     "'path' say what is being written. Errors never reach the recorded program:\n"
	     "they are counted here.");

static PyObject *mod_stats(PyObject *m, PyObject *unused)
{
	static const char *const err_keys[PL_PY_NERR] = {
	    "py_convert_errors",   "py_exc_str_errors", "py_context_errors",  "py_bad_task_strings",
	    "py_depth_errors",	   "py_memory_errors",	"py_field_overflows", "py_wrap_errors",
	    "py_serialize_errors", "py_restart_gap",	"py_extract_errors",
	};
	pl_py_state *st = PyModule_GetState(m);
	struct pl_writer_stats s = PL_WRITER_STATS_INIT;
	if (st->writer)
		pl_writer_stats(st->writer, &s);
	else if (st->have_last_stats)
		s = st->last_stats;
	PyObject *path =
	    st->writer ? PyUnicode_DecodeFSDefault(pl_writer_path(st->writer)) : Py_NewRef(Py_None);
	PyObject *d =
	    path ? Py_BuildValue("{s:O,s:N,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:i,s:K,s:K,s:K,"
				 "s:K,s:K,s:K}",
				 "recording", st->writer ? Py_True : Py_False, "path", path,
				 "events", (unsigned long long)s.events, "dropped_full",
				 (unsigned long long)s.dropped_full, "dropped_oversize",
				 (unsigned long long)s.dropped_oversize, "dropped_no_buffer",
				 (unsigned long long)s.dropped_no_buffer, "dropped_write",
				 (unsigned long long)s.dropped_write, "blocked",
				 (unsigned long long)s.blocked, "frames",
				 (unsigned long long)s.frames, "bytes_raw",
				 (unsigned long long)s.bytes_raw, "bytes_written",
				 (unsigned long long)s.bytes_written, "write_errors",
				 (unsigned long long)s.write_errors, "last_errno", s.last_errno,
				 "ring_grown", (unsigned long long)s.ring_grown, "ring_bytes",
				 (unsigned long long)s.ring_bytes, "rotations",
				 (unsigned long long)s.rotations, "rotate_errors",
				 (unsigned long long)s.rotate_errors, "files_deleted",
				 (unsigned long long)s.files_deleted, "names_refused",
				 (unsigned long long)s.names_refused)
		 : NULL;
	for (int i = 0; d && i < PL_PY_NERR; i++) {
		PyObject *v = PyLong_FromUnsignedLongLong(st->errors[i]);
		if (!v || PyDict_SetItemString(d, err_keys[i], v) < 0)
			Py_CLEAR(d);
		Py_XDECREF(v);
	}
	return d;
}

/* ---- hooks used by perflog/__init__.py ---- */

PyDoc_STRVAR(after_fork_doc,
	     "_after_fork_child()\n--\n\n"
	     "In a fork child: forget the parent's actions (the child records new tasks) and\n"
	     "the control lock (another parent thread may have held it).");
static PyObject *mod_after_fork_child(PyObject *m, PyObject *unused)
{
	pl_py_state *st = PyModule_GetState(m);
	PyThread_type_lock lock = PyThread_allocate_lock();
	if (lock)
		st->ctl_lock = lock; /* the old one may be held by a thread that is gone: leak it */
	st->epoch++;
	Py_RETURN_NONE;
}

PyDoc_STRVAR(flush_on_sigterm_doc,
	     "_flush_on_sigterm()\n--\n\n"
	     "In a multiprocessing worker: when SIGTERM (Pool.terminate()) ends the process,\n"
	     "write what was recorded first, then die of the signal as before. Only if SIGTERM\n"
	     "has its default disposition. Returns True if armed.");
static PyObject *mod_flush_on_sigterm(PyObject *m, PyObject *unused)
{
	return PyBool_FromLong(pl_py_flush_on_sigterm(PyModule_GetState(m)));
}

PyDoc_STRVAR(set_wrappers_doc,
	     "_set_wrappers(async_generator)\n--\n\n"
	     "The Python function wrapping a decorated async generator, called as\n"
	     "wrapper(inner, action) (coroutines and generators have C wrappers: wrappers.c).");
static PyObject *mod_set_wrappers(PyObject *m, PyObject *w)
{
	pl_py_state *st = PyModule_GetState(m);
	Py_XSETREF(st->agen_wrap, Py_NewRef(w));
	Py_RETURN_NONE;
}

/* ---- module definition ---- */

PyDoc_STRVAR(current_task_doc,
	     "current_task(*, format='task')\n--\n\n"
	     "The task string of the current action, for continue_task() in another\n"
	     "process or thread (a child slot of the current action is reserved for it), or\n"
	     "None when no action is current. format='traceparent' gives a W3C traceparent\n"
	     "instead, for an OpenTelemetry-instrumented callee: the task's trace id (its\n"
	     "caller's, when it was continued from a traceparent) and the current action's\n"
	     "span id, as `perfan export --format otlp` writes them.");
PyDoc_STRVAR(continue_task_doc,
	     "continue_task(task, action_type='perflog:remote_task', **fields)\n--\n\n"
	     "An Action continuing the task of a string made by current_task() (str or\n"
	     "bytes), to use with `with`. A W3C traceparent (from an OpenTelemetry caller)\n"
	     "begins a new task in the caller's trace: its root records the header as field\n"
	     "'perflog.traceparent', and traceparents made inside it carry the caller's\n"
	     "trace id. A malformed string never raises: a new task is begun instead and\n"
	     "counted in stats()['py_bad_task_strings']. Keyword arguments other than\n"
	     "action_type are fields of its start, as for action().");
PyDoc_STRVAR(action_columns_doc,
	     "_action_columns(paths, inputs=True)\n--\n\n"
	     "The actions of the trace files as columns (bytes of C arrays, dictionary codes\n"
	     "and their strings, lists), for perflog.frames.");
PyDoc_STRVAR(child_action_doc,
	     "_child_action(action_type)\n--\n\n"
	     "A prepared Action placed under the current action, or None if there is none.");
PyDoc_STRVAR(action_doc,
	     "action(action_type, /, **fields)\n--\n\n"
	     "An Action under the current action (or a new task): use it with `with` or\n"
	     "`async with`. fields are recorded when it begins; Action.add(**fields) adds\n"
	     "fields recorded when it ends.");
PyDoc_STRVAR(log_doc, "log(message_type, /, **fields)\n--\n\n"
		      "Record a message inside the current action (or as a task of its own).");
PyDoc_STRVAR(read_doc,
	     "read(path)\n--\n\n"
	     "Iterate over the records of a trace file as dicts (see perflog.Reader).\n"
	     "Everything readable is yielded; damage then raises perflog.TraceError naming\n"
	     "the file, the byte offset and the reason.");

static PyMethodDef module_methods[] = {
    {"start", (PyCFunction)(void (*)(void))mod_start, METH_VARARGS | METH_KEYWORDS, start_doc},
    {"stop", mod_stop, METH_NOARGS, stop_doc},
    {"flush", mod_flush, METH_NOARGS, flush_doc},
    {"recording", mod_recording, METH_NOARGS, recording_doc},
    {"stats", mod_stats, METH_NOARGS, stats_doc},
    {"current_task", (PyCFunction)(void (*)(void))pl_py_current_task, METH_VARARGS | METH_KEYWORDS,
     current_task_doc},
    {"continue_task", (PyCFunction)(void (*)(void))pl_py_continue_task,
     METH_VARARGS | METH_KEYWORDS, continue_task_doc},
    {"action", (PyCFunction)(void (*)(void))pl_py_action_func, METH_FASTCALL | METH_KEYWORDS,
     action_doc},
    {"log", (PyCFunction)(void (*)(void))pl_py_log, METH_FASTCALL | METH_KEYWORDS, log_doc},
    {"read", pl_py_read, METH_O, read_doc},
    {"_action_columns", (PyCFunction)(void (*)(void))pl_py_action_columns,
     METH_VARARGS | METH_KEYWORDS, action_columns_doc},
    {"_child_action", pl_py_child_action, METH_O, child_action_doc},
    {"_after_fork_child", mod_after_fork_child, METH_NOARGS, after_fork_doc},
    {"_flush_on_sigterm", mod_flush_on_sigterm, METH_NOARGS, flush_on_sigterm_doc},
    {"_set_wrappers", mod_set_wrappers, METH_O, set_wrappers_doc},
    {NULL, NULL, 0, NULL},
};

static int add_type(PyObject *m, PyType_Spec *spec, PyTypeObject **out)
{
	PyObject *t = PyType_FromModuleAndSpec(m, spec, NULL);
	if (!t)
		return -1;
	*out = (PyTypeObject *)t;
	return PyModule_AddType(m, *out);
}

static int module_exec(PyObject *m)
{
	pl_py_state *st = PyModule_GetState(m);
	st->epoch = 1;
	if (!(st->ctl_lock = PyThread_allocate_lock())) {
		PyErr_NoMemory();
		return -1;
	}
	if (add_type(m, &pl_py_decorated_spec, &st->decorated_type) < 0 ||
	    add_type(m, &pl_py_action_spec, &st->action_type) < 0 ||
	    add_type(m, &pl_py_ready_spec, &st->ready_type) < 0 ||
	    add_type(m, &pl_py_reader_spec, &st->reader_type) < 0 ||
	    add_type(m, &pl_py_coro_spec, &st->coro_type) < 0 ||
	    add_type(m, &pl_py_gen_spec, &st->gen_type) < 0)
		return -1;
	st->trace_error = PyErr_NewExceptionWithDoc(
	    "perflog.TraceError",
	    "A trace file could not be read (further): an OSError. Attributes: path, offset\n"
	    "(byte offset of the damage), reason, status (negative pl_status code). A file\n"
	    "that cannot be opened raises the OSError of its errno (FileNotFoundError, ...).",
	    PyExc_OSError, NULL);
	st->ctxvar = PyContextVar_New("perflog.action", Py_None);
	st->redacted = PyUnicode_InternFromString("<redacted>");
	st->name_cache = PyDict_New();
	if (!st->trace_error || !st->ctxvar || !st->redacted || !st->name_cache ||
	    PyModule_AddObjectRef(m, "TraceError", st->trace_error) < 0 ||
	    PyModule_AddObjectRef(m, "_context", st->ctxvar) < 0)
		return -1;
	st->name_result = pl_name_intern("result", 6);
	st->name_closed = pl_name_intern("closed", 6);
	st->name_remote = pl_name_intern("perflog:remote_task", 19);
	st->name_thread = pl_name_intern("perflog:thread", 14);
	/* Defined here only: perflog/_decorator.py reads them. */
	if (PyModule_AddIntConstant(m, "_DEFAULT_MAX_LEN", PL_PY_DEFAULT_MAX_LEN) < 0 ||
	    PyModule_AddIntConstant(m, "_KIND_SYNC", PL_PY_KIND_SYNC) < 0 ||
	    PyModule_AddIntConstant(m, "_KIND_CORO", PL_PY_KIND_CORO) < 0 ||
	    PyModule_AddIntConstant(m, "_KIND_GEN", PL_PY_KIND_GEN) < 0 ||
	    PyModule_AddIntConstant(m, "_KIND_AGEN", PL_PY_KIND_AGEN) < 0)
		return -1;
	return PyModule_AddStringConstant(m, "liblog_version", pl_version_string());
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
	pl_py_state *st = PyModule_GetState(m);
	if (!st)
		return 0;
	Py_VISIT(st->decorated_type);
	Py_VISIT(st->action_type);
	Py_VISIT(st->ready_type);
	Py_VISIT(st->reader_type);
	Py_VISIT(st->coro_type);
	Py_VISIT(st->gen_type);
	Py_VISIT(st->trace_error);
	Py_VISIT(st->agen_wrap);
	for (size_t i = 0; i < sizeof(st->tn_type) / sizeof(st->tn_type[0]); i++)
		Py_VISIT(st->tn_type[i]);
	return 0;
}

/* Also run at interpreter exit: the writer is closed here if stop() was not called
 * (perflog/__init__.py registers stop() with atexit, and liblog's own exit handler
 * flushes anything left). The context variable and the few strings survive until
 * module_free: Action objects still alive may read them. */
static int module_clear(PyObject *m)
{
	pl_py_state *st = PyModule_GetState(m);
	if (!st)
		return 0;
	if (st->writer && st->ctl_lock && PyThread_acquire_lock(st->ctl_lock, NOWAIT_LOCK)) {
		close_writer(st, false);
		PyThread_release_lock(st->ctl_lock);
	}
	/* Before the types go: freeing a kept object reads its type (the GC's pre-header). */
	pl_py_free_drain(&st->free_actions);
	pl_py_free_drain(&st->free_wrappers);
	Py_CLEAR(st->decorated_type);
	Py_CLEAR(st->action_type);
	Py_CLEAR(st->ready_type);
	Py_CLEAR(st->reader_type);
	Py_CLEAR(st->coro_type);
	Py_CLEAR(st->gen_type);
	Py_CLEAR(st->trace_error);
	Py_CLEAR(st->agen_wrap);
	for (size_t i = 0; i < sizeof(st->tn_type) / sizeof(st->tn_type[0]); i++) {
		Py_CLEAR(st->tn_type[i]);
		Py_CLEAR(st->tn_text[i]);
	}
	return 0;
}

static void module_free(void *p)
{
	PyObject *m = p;
	pl_py_state *st = PyModule_GetState(m);
	if (!st)
		return;
	pl_py_sigterm_forget(st);
	module_clear(m);
	Py_CLEAR(st->ctxvar);
	Py_CLEAR(st->redacted);
	Py_CLEAR(st->name_cache);
	if (st->ctl_lock)
		PyThread_free_lock(st->ctl_lock);
	st->ctl_lock = NULL;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, PL_PY_FN(module_exec)},
    {0, NULL},
};

PyDoc_STRVAR(module_doc, "perflog's C core: recording and reading traces (see perflog).");

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,	   .m_name = "perflog._perflog", .m_doc = module_doc,
    .m_size = sizeof(pl_py_state), .m_methods = module_methods,	 .m_slots = module_slots,
    .m_traverse = module_traverse, .m_clear = module_clear,	 .m_free = module_free,
};

PyMODINIT_FUNC PyInit__perflog(void);
PyMODINIT_FUNC PyInit__perflog(void)
{
	return PyModuleDef_Init(&module_def);
}
