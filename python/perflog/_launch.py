# SPDX-License-Identifier: MIT
"""``python -m perflog``: run a program with recording on and named functions decorated.

    python -m perflog [-o trace.zst] [-f module:qualname]... [--no-args] script.py args...
    python -m perflog [-o trace.zst] [-f module:qualname]... [--no-args] -m module args...

What kernprof does for line_profiler: no edit of the program. perflog/__main__.py is the
entry point; this module holds the machinery (it must be importable under its own name,
because the program, not the launcher, is ``__main__`` while it runs).

When each ``-f module:qualname`` is applied
-------------------------------------------
- An imported module: a finder first on ``sys.meta_path`` hands out the spec the other
  finders found, with its loader wrapped; once the module's code has run, the object bound
  at ``qualname`` (``func``, ``Class.method``, ``Outer.Inner.method``, a staticmethod or
  classmethod) is replaced by ``perflog(obj)``. A module already imported when the launcher
  starts is patched at once; a reloaded or re-imported one again. Calls made while the module
  itself is being imported, and references taken then (registries filled by decorators,
  ``g = f`` aliases, a ``from mod import f`` that ran earlier), keep the undecorated function.
- The script (``__main__:qualname``; with ``-m pkg.mod`` also ``pkg.mod:qualname``): its
  source is compiled with one more decorator, outermost, on each matching ``def``, so the
  function is decorated when its ``def`` runs, before any call -- also a ``main()`` called
  at the bottom of the script, or a ``def`` inside ``if``/``try`` blocks or a class body.
  Only the syntax tree changes: line numbers, tracebacks and inspect.getsource stay those of
  the file. Not reached: lambdas, functions nested in functions, names bound otherwise.

A spec that matches nothing is reported on stderr (at once, or at exit when its module was
never imported); the program runs on regardless. Nothing here ever raises into it.

multiprocessing workers
-----------------------
Workers record too, each into its own file: the output path with ``{pid}`` (added before
the extension when the path has none: ``out.zst`` -> ``out-{pid}.zst`` for workers).
- spawn and forkserver start a new interpreter, which imports the program's main module as
  ``__mp_main__`` from its path or name. The launcher adds a small object to the data
  multiprocessing sends each new worker before anything else (coverage.py does the same);
  unpickling it there starts recording and arms the same ``-f`` decorations: imported
  modules through the finder, the main module's functions once multiprocessing has run it
  (recorded as ``__main__.f``, as in the parent).
- fork workers inherit the decorated functions and a writer of their own (liblog), but
  exit through ``os._exit()``, which skips ``atexit``: a multiprocessing finalizer stops
  recording first, so that what they recorded is written.
"""
import argparse
import ast
import atexit
import os
import runpy
import sys
import threading
import types
from importlib.machinery import SourceFileLoader

from . import _autostart, _perflog
from ._decorator import perflog

_PROG = "python -m perflog"
_MAIN = "__main__"
# Options taking a value, for finding where the launcher's own options end.
_VALUE_SHORT = frozenset("ofm")
_VALUE_LONG = frozenset(("--output", "--function"))

_record_args = True
_in_worker = False  # a multiprocessing worker started by the launcher's process
_main_specs = {}   # qualname -> _Spec, for the program run as __main__
_all_specs = []


class _Spec:
    """One ``-f module:qualname``."""

    __slots__ = ("text", "module", "qualname", "applied", "warned")

    def __init__(self, text):
        module, sep, qualname = text.partition(":")
        if not (sep and _dotted(module) and _dotted(qualname)):
            raise ValueError(f"-f {text!r}: expected module:qualname, e.g. json:dumps, "
                             f"pkg.mod:Class.method or __main__:main")
        self.text = text
        self.module = module
        self.qualname = qualname
        self.applied = False
        self.warned = False


def _dotted(name):
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _say(message):
    try:
        print(f"perflog: {message}", file=sys.stderr, flush=True)
    except Exception:  # noqa: BLE001  (a closed stderr must not stop the program)
        pass


def _warn(spec, message):
    spec.warned = True
    if not _in_worker:
        _say(f"-f {spec.text}: {message}")


# ---- decorating -----------------------------------------------------------------------

def _wrap(obj, spec):
    """perflog(obj), obj itself if already decorated, or None (warned) if impossible."""
    inner = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
    if isinstance(inner, _perflog.Decorated):
        spec.applied = True
        return obj
    if isinstance(inner, type):
        _warn(spec, f"{spec.qualname} is a class: name its methods "
                    f"(e.g. {spec.module}:{spec.qualname}.__init__)")
        return None
    if not callable(inner):
        _warn(spec, f"{spec.qualname} is a {type(obj).__name__}, not a function")
        return None
    try:
        new = perflog(obj, args=_record_args)
    except Exception as exc:  # noqa: BLE001
        _warn(spec, f"cannot decorate {spec.qualname}: {exc}")
        return None
    spec.applied = True
    return new


def _patch(module, spec):
    """Decorate the object bound at spec.qualname in a module that has run."""
    parts = spec.qualname.split(".")
    owner = module
    for i, part in enumerate(parts[:-1]):
        try:
            owner = getattr(owner, part)
        except Exception:  # noqa: BLE001
            _warn(spec, f"{spec.module} has no {'.'.join(parts[:i + 1])}")
            return
    name = parts[-1]
    try:
        namespace = vars(owner)
    except TypeError:
        _warn(spec, f"{'.'.join(parts[:-1])} is a {type(owner).__name__}, not a class")
        return
    if name not in namespace:
        if len(parts) > 1 and hasattr(owner, name):
            _warn(spec, f"{spec.qualname} is inherited: name the class that defines it")
        else:
            _warn(spec, f"{spec.module} has no {spec.qualname}")
        return
    obj = namespace[name]
    new = _wrap(obj, spec)
    if new is None or new is obj:
        return
    try:
        setattr(owner, name, new)
    except (AttributeError, TypeError) as exc:
        spec.applied = False
        _warn(spec, f"cannot replace {spec.qualname}: {exc}")


def _patch_all(module, specs):
    for spec in specs:
        try:
            _patch(module, spec)
        except Exception as exc:  # noqa: BLE001  (never break the program's import)
            _warn(spec, f"not applied: {type(exc).__name__}: {exc}")


class _Loader:
    """A module's own loader, which decorates the named functions once the module ran.

    The module's ``__loader__`` and ``__spec__.loader`` are set back to the real loader
    before its code runs, so the program never sees this one.
    """

    def __init__(self, loader, specs):
        self.loader = loader
        self._specs = specs
        # importlib looks for these methods with hasattr(): offer exactly the loader's own.
        if hasattr(loader, "create_module"):
            self.create_module = loader.create_module
        if hasattr(loader, "exec_module"):
            self.exec_module = self._exec_module
        if hasattr(loader, "load_module"):
            self.load_module = self._load_module

    def __getattr__(self, name):
        try:
            loader = self.__dict__["loader"]
        except KeyError:
            raise AttributeError(name) from None
        return getattr(loader, name)

    def _exec_module(self, module):
        try:
            if getattr(module, "__loader__", None) is self:
                module.__loader__ = self.loader
            spec = getattr(module, "__spec__", None)
            if spec is not None and spec.loader is self:
                spec.loader = self.loader
        except Exception:  # noqa: BLE001
            pass
        self.loader.exec_module(module)
        _patch_all(module, self._specs)

    def _load_module(self, fullname):
        module = self.loader.load_module(fullname)
        _patch_all(module, self._specs)
        return module


class _Finder:
    """First on sys.meta_path; only answers for modules named by -f."""

    def __init__(self, by_module):
        self._by_module = by_module
        self._busy = threading.local()

    def find_spec(self, fullname, path=None, target=None):
        specs = self._by_module.get(fullname)
        if not specs:
            return None
        busy = self._busy.__dict__.setdefault("names", set())
        if fullname in busy:
            return None
        busy.add(fullname)
        try:
            for finder in list(sys.meta_path):
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            busy.discard(fullname)
        if spec.loader is not None and not isinstance(spec.loader, _Loader):
            spec.loader = _Loader(spec.loader, specs)
        return spec


# ---- the script ---------------------------------------------------------------------------

def _decorator_for(qualname):
    """The decorator the compiled script applies (outermost) to ``def qualname``."""
    spec = _main_specs.get(qualname)

    def decorate(obj):
        if spec is None:
            return obj
        try:
            new = _wrap(obj, spec)
        except Exception:  # noqa: BLE001
            return obj
        return obj if new is None else new

    return decorate


class _DefDecorator(ast.NodeTransformer):
    """Adds ``@<perflog._launch>._decorator_for("qualname")`` to the matching defs."""

    def __init__(self, qualnames):
        self.qualnames = qualnames
        self.found = set()
        self._scope = []

    def visit_ClassDef(self, node):
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()
        return node

    def visit_FunctionDef(self, node):
        # The body is not visited: what is defined there has "<locals>" in its qualname.
        qualname = ".".join(self._scope + [node.name])
        if qualname in self.qualnames:
            self.found.add(qualname)
            decorator = ast.parse(
                f"__import__({__name__!r}, fromlist=['_'])._decorator_for({qualname!r})",
                mode="eval").body
            # On the line of the first decorator (or the def): co_firstlineno is unchanged.
            anchor = node.decorator_list[0] if node.decorator_list else node
            for sub in ast.walk(decorator):
                ast.copy_location(sub, anchor)
            node.decorator_list.insert(0, decorator)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        return node


def _compile(source, filename):
    if not _main_specs:
        return compile(source, filename, "exec", dont_inherit=True)
    tree = ast.parse(source, filename)
    transformer = _DefDecorator(set(_main_specs))
    transformer.visit(tree)
    for qualname, spec in _main_specs.items():
        if qualname not in transformer.found:
            _warn(spec, f"no def {qualname} in {filename}")
    return compile(tree, filename, "exec", dont_inherit=True)


def _print_exception(exc, tb):
    """Report an uncaught exception as the interpreter does for a script."""
    exc.__traceback__ = tb  # what sys.excepthook prints
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    sys.excepthook(type(exc), exc, tb)


def _program_traceback(tb):
    """The traceback without the launcher's frames (and runpy's), as `python script.py`."""
    ours = (globals(), vars(runpy))
    start = tb
    while tb is not None and any(tb.tb_frame.f_globals is g for g in ours):
        tb = tb.tb_next
    return tb if tb is not None else start


def _run(run):
    """Run the program; return its exit status for an uncaught exception, else None.

    SystemExit and KeyboardInterrupt propagate: the interpreter then exits as it would for
    the program (its status, its message, death by SIGINT).
    """
    try:
        run()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001
        _print_exception(exc, _program_traceback(exc.__traceback__))
        return 1
    return None


def _new_main(**attrs):
    main = types.ModuleType(_MAIN)
    main.__dict__.update(__builtins__=sys.modules["builtins"], __cached__=None, **attrs)
    sys.modules[_MAIN] = main
    return main


def _run_script(script, args):
    path = os.path.abspath(script)
    sys.argv[:] = [script, *args]
    if not sys.flags.safe_path and sys.path:
        sys.path[0] = os.path.dirname(os.path.realpath(path))
    if os.path.isdir(path) or not path.endswith(".py") and _is_zip(path):
        # A directory or zip file with a __main__.py: runpy runs it as python does.
        for spec in _main_specs.values():
            if spec.module == _MAIN:
                _warn(spec, f"not applied: {script} is a directory or zip file")
        return _run(lambda: runpy.run_path(path, run_name=_MAIN))
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        _say(f"can't open file {path!r}: [Errno {exc.errno}] {exc.strerror}")
        return 2
    try:
        code = _compile(source, path)
    except (SyntaxError, ValueError) as exc:
        _print_exception(exc, None)
        return 1
    main = _new_main(__name__=_MAIN, __doc__=None, __package__=None, __spec__=None,
                     __file__=path, __loader__=SourceFileLoader(_MAIN, path))
    return _run(lambda: exec(code, main.__dict__))


def _is_zip(path):
    import zipfile
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _run_module(name, args):
    try:
        # What `python -m` does (pdb uses it too): find the module, or a package's __main__.
        name, spec, code = runpy._get_module_details(name, _NoModule)
    except _NoModule as exc:
        _say(str(exc))
        return 1
    if isinstance(spec.loader, _Loader):  # -f named the module run: its code is compiled here
        spec.loader = spec.loader.loader
    sys.argv[:] = [spec.origin, *args]
    for spec_ in _all_specs:
        if spec_.module == name:  # -m pkg runs pkg.__main__: both names work
            _main_specs.setdefault(spec_.qualname, spec_)
    if _main_specs:
        try:
            source = spec.loader.get_source(name)
        except Exception:  # noqa: BLE001
            source = None
        if source is None:
            for spec_ in _main_specs.values():
                _warn(spec_, f"not applied: no source for {name}")
        else:
            try:
                code = _compile(source, spec.origin)
            except (SyntaxError, ValueError) as exc:
                _print_exception(exc, None)
                return 1
    main = _new_main(__name__=_MAIN, __doc__=None, __package__=spec.parent, __spec__=spec,
                     __file__=spec.origin, __loader__=spec.loader)
    main.__cached__ = spec.cached
    return _run(lambda: exec(code, main.__dict__))


class _NoModule(Exception):
    pass


# ---- multiprocessing workers ----------------------------------------------------------------

def _worker_path(path):
    """Where a worker records: @path if it has {pid}, else with -{pid} before the extension."""
    if "{pid}" in path:
        return path
    head, tail = os.path.split(path)
    stem, dot, ext = tail.partition(".")
    return os.path.join(head, f"{stem}-{{pid}}{dot}{ext}")


class _Stowaway:
    """Rides in multiprocessing's preparation data to spawn and forkserver workers, where
    it is unpickled before the main module is run: it then starts recording there. It
    unpickles through exec() of a guarded import, so a worker that cannot import perflog
    runs on without it."""

    def __init__(self, config):
        self.config = config

    def __reduce__(self):
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        code = ("try:\n"
                " import sys\n"
                " try:\n"
                "  import perflog._launch as _l\n"
                " except ImportError:\n"
                f"  sys.path.append({here!r})\n"
                "  import perflog._launch as _l\n"
                f"  sys.path.remove({here!r})\n"
                f" _l._worker_start({self.config!r})\n"
                "except Exception:\n"
                " pass\n")
        return (exec, (code,))


def _arm_workers(config):
    """In the launcher's process: reach the workers multiprocessing will start."""
    try:
        import multiprocessing.spawn as spawn
    except Exception:  # noqa: BLE001
        return
    original = spawn.get_preparation_data

    def get_preparation_data(name):
        data = original(name)
        try:
            data["perflog_launch"] = _Stowaway(config)
        except Exception:  # noqa: BLE001
            pass
        return data

    spawn.get_preparation_data = get_preparation_data


def _worker_start(config):
    """In a spawn or forkserver worker, before its main module is run."""
    global _record_args, _in_worker
    path, functions, record_args, main_module = config
    _record_args = record_args
    _in_worker = True  # what does not match was reported by the launcher's process
    if not _perflog.recording():
        _perflog.start(path, **_autostart.env_options())
    import multiprocessing.spawn as spawn
    import multiprocessing.util

    from . import _stop_at_multiprocessing_exit
    # A forkserver worker ends with os._exit(), skipping atexit, and Pool.terminate() ends
    # any worker with SIGTERM: stop from multiprocessing's exit hook, flush on SIGTERM.
    # Spawned processes run no after-fork hooks: this is their place. A forkserver's
    # clears its finalizers after this and runs the hooks: register there again.
    _stop_at_multiprocessing_exit(None)
    multiprocessing.util.register_after_fork(_perflog, _stop_at_multiprocessing_exit)
    specs = [_Spec(text) for text in functions]
    names = {_MAIN} if main_module is None else {_MAIN, main_module}
    main_specs = [s for s in specs if s.module in names]
    by_module = {}
    for spec in specs:
        _all_specs.append(spec)
        if spec.module != _MAIN:
            by_module.setdefault(spec.module, []).append(spec)
    sys.meta_path.insert(0, _Finder(by_module))
    if not main_specs:
        return

    def patch_main():
        module = sys.modules.get(_MAIN)
        for spec in main_specs:
            try:
                _patch(module, spec)
            except Exception:  # noqa: BLE001
                pass

    for name in ("_fixup_main_from_path", "_fixup_main_from_name"):
        original = getattr(spawn, name, None)
        if original is None:
            continue

        def fixup(arg, _original=original):
            _original(arg)
            patch_main()

        setattr(spawn, name, fixup)
    patch_main()  # a forkserver worker's main module was run already, in the server


# ---- the command line ---------------------------------------------------------------------

def _parser():
    parser = argparse.ArgumentParser(
        prog=_PROG, allow_abbrev=False,
        usage=f"{_PROG} [-o PATH] [-f MODULE:QUALNAME]... [--args | --no-args] [-q] "
              f"(script.py | -m module) [args...]",
        description="Run a Python program with perflog recording on, decorating the named "
                    "functions with @perflog as their modules are imported.")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="trace file ('{pid}' becomes the process id); default "
                             "$PERFLOG_FILE if set, else perflog-{pid}.zst")
    parser.add_argument("-f", "--function", dest="functions", action="append", default=[],
                        metavar="MODULE:QUALNAME",
                        help="decorate this function (repeatable): json:dumps, "
                             "pkg.mod:Class.method, __main__:main for the script's own")
    parser.add_argument("--args", action=argparse.BooleanOptionalAction, default=True,
                        help="record the functions' arguments (default: yes)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no note on stderr at exit")
    parser.add_argument("-m", dest="module", metavar="MODULE",
                        help="run a library module as a script (ends the options)")
    return parser


def _split(argv):
    """(the launcher's options, the program and its arguments): options end at the first
    non-option word, after ``-m MODULE``, or at ``--``, as for ``python`` itself."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv[:i], argv[i + 1:]
        if arg.startswith("--"):
            i += 2 if arg in _VALUE_LONG else 1
            continue
        if arg.startswith("-") and arg != "-":
            for j, c in enumerate(arg[1:], 2):
                if c in _VALUE_SHORT:
                    end = i + 1 if j < len(arg) else i + 2
                    if c == "m":
                        return argv[:end], argv[end:]
                    i = end
                    break
            else:
                i += 1
            continue
        return argv[:i], argv[i:]
    return argv, []


def _at_exit(quiet):
    try:
        for spec in _all_specs:
            if not spec.applied and not spec.warned:
                where = "" if spec.module == _MAIN else f": {spec.module} was never imported"
                _warn(spec, f"never applied{where}")
        stats = _perflog.stats()
        path = stats.get("path")
        _perflog.stop()
        stats = _perflog.stats()
        if path and not quiet:
            dropped = sum(v for k, v in stats.items() if k.startswith("dropped_"))
            note = f"{stats['events']} events"
            if dropped:
                note += f", {dropped} dropped"
            if stats.get("write_errors"):
                note += f", {stats['write_errors']} write errors"
            _say(f"trace written to {path} ({note})")
    except Exception:  # noqa: BLE001
        pass


def main(argv=None):
    """Entry point of ``python -m perflog``; returns the exit status (or raises
    SystemExit with the program's)."""
    global _record_args
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    head, rest = _split(argv)
    opts = parser.parse_args(head)
    if opts.module is None:
        if not rest:
            parser.error("no program to run: give script.py or -m module")
        target, args = rest[0], rest[1:]
        if not os.path.exists(target):
            parser.exit(2, f"{_PROG}: can't open file {os.path.abspath(target)!r}: "
                           f"No such file or directory\n")
    else:
        target, args = opts.module, rest
    try:
        specs = [_Spec(text) for text in opts.functions]
    except ValueError as exc:
        parser.error(str(exc))
    _record_args = opts.args

    path = opts.output
    if path is None and not _perflog.recording():
        path = "perflog-{pid}.zst"
    if path is not None:
        try:
            _perflog.start(path, **_autostart.env_options())
        except (OSError, ValueError) as exc:
            parser.exit(2, f"{_PROG}: cannot record to {path!r}: {exc}\n")
    atexit.register(_at_exit, opts.quiet)  # runs after the program's own atexit handlers

    main_names = {_MAIN} if opts.module is None else {_MAIN, opts.module}
    by_module = {}
    for spec in specs:
        _all_specs.append(spec)
        if spec.module in main_names:
            _main_specs.setdefault(spec.qualname, spec)
        if spec.module != _MAIN:
            by_module.setdefault(spec.module, []).append(spec)
    sys.meta_path.insert(0, _Finder(by_module))
    for name, module_specs in by_module.items():
        module = sys.modules.get(name)
        if module is not None:
            _patch_all(module, module_specs)
    if path is not None:
        _arm_workers((_worker_path(path), list(opts.functions), opts.args, opts.module))

    if opts.module is None:
        return _run_script(target, args)
    return _run_module(target, args)
