# SPDX-License-Identifier: MIT
"""@perflog: compute the binding plan once, at decoration time, and build the C wrapper.

The plan says which arguments are recorded under which names (inspect.signature's
binding rules); the C type (perflog.Decorated) applies it at each call without building
a dict. Everything that can be wrong with the decorator's own arguments is reported
here, when the module defining the function is imported, never at call time.
"""
import collections.abc
import functools
import inspect

from . import _perflog

DEFAULT_MAX_LEN = _perflog._DEFAULT_MAX_LEN  # the extension's, also perflog.action()'s

# What a decorated coroutine or generator function returns (python/ext/wrappers.c): not
# native objects, but Coroutine and Generator to asyncio.iscoroutine() and isinstance().
collections.abc.Coroutine.register(_perflog.CoroutineWrapper)
collections.abc.Generator.register(_perflog.GeneratorWrapper)

_P = inspect.Parameter
_POSITIONAL = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)
_SLOT_VARARGS = -1
_SLOT_VARKW = -2


def perflog(fn=None, /, *, action_type=None, args=True, result=False, redact=(),
            max_len=DEFAULT_MAX_LEN, extract=None):
    """Record every call of a function as an action: its arguments, duration and outcome.

    Use bare (``@perflog``) or with options (``@perflog(result=True)``).

    Parameters
    ----------
    action_type : str, optional
        The action's type; default ``"<module>.<qualname>"``.
    args : bool or list of str
        Record all arguments (True; a first parameter named ``self`` or ``cls`` is left
        out), none (False), or the named parameters only (names are checked against the
        signature now).
    result : bool
        Also record the return value as the field ``result``.
    redact : list of str
        Parameters (or ``**kwargs`` keys) recorded as ``"<redacted>"``: the value never
        reaches the trace, neither as the argument nor in the result or the exception
        text of the call (replaced there too); see docs/python.md for what it does not
        cover (logs and actions inside the call).
    max_len : int
        Longest str/bytes recorded, in bytes; longer values are cut and the field
        ``"<name>.truncated"`` holds the original length.
    extract : dict of str to callable
        Per parameter, a function that turns the argument into what to record: a scalar
        (recorded as the argument) or a flat dict (each item recorded as the field
        ``"<name>.<key>"``), e.g. ``{"request": lambda r: {"route": r.path, "uid":
        r.match_info["uid"]}}``. It runs at each call, before the call starts (its time is
        not the call's); what it raises, or returns that cannot be recorded, is recorded as a
        placeholder and counted in ``stats()["py_extract_errors"]``, never raised. An
        extracted parameter is recorded even when ``args`` leaves it out.

    Works on functions, methods, classmethods and staticmethods (either order),
    ``async def`` coroutine functions, generator and async generator functions.
    """
    if isinstance(redact, str) or isinstance(args, str):
        raise TypeError("perflog: args and redact take a list of names, not a str")
    if not isinstance(max_len, int) or max_len < 0:
        raise ValueError("perflog: max_len must be an int >= 0")
    if action_type is not None and not isinstance(action_type, str):
        raise TypeError("perflog: action_type must be a str")
    extract = dict(extract or {})
    for name, fn_ in extract.items():
        if not isinstance(name, str) or not callable(fn_):
            raise TypeError("perflog: extract maps parameter names to callables")
        if name in redact:
            raise ValueError(f"perflog: {name!r} is both redacted and extracted")
    options = dict(action_type=action_type, args=args, result=bool(result),
                   redact=tuple(redact), max_len=max_len, extract=extract)
    if fn is None:
        return functools.partial(_decorate, **options)
    return _decorate(fn, **options)


def _kind(fn):
    if isinstance(fn, _perflog.Decorated):
        return _kind(fn.__perflog_fn__)
    if (callable(fn) and not isinstance(fn, type) and not inspect.isroutine(fn)
            and not isinstance(fn, functools.partial)):
        fn = getattr(type(fn), "__call__", fn)  # an instance with an async __call__
    if inspect.iscoroutinefunction(fn):
        return _perflog._KIND_CORO
    if inspect.isgeneratorfunction(fn):
        return _perflog._KIND_GEN
    if inspect.isasyncgenfunction(fn):
        return _perflog._KIND_AGEN
    return _perflog._KIND_SYNC


def _decorate(fn, *, action_type, args, result, redact, max_len, extract=None):
    extract = extract or {}
    if isinstance(fn, (staticmethod, classmethod)):
        inner = _decorate(fn.__func__, action_type=action_type, args=args, result=result,
                          redact=redact, max_len=max_len, extract=extract)
        return type(fn)(inner)
    if isinstance(fn, type):
        # A Decorated in place of a class breaks isinstance() and subclassing.
        raise TypeError(f"perflog: cannot decorate the class {fn.__qualname__!r}: "
                        "decorate its methods instead")
    if not callable(fn):
        raise TypeError(f"perflog: cannot decorate {type(fn).__name__!r}, it is not callable")
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = None  # no signature (some builtins): arguments cannot be named
    if params is None and args not in (True, False):
        raise ValueError(f"perflog: {fn!r} has no signature, so args= cannot name parameters")
    params = params or []
    named = [p for p in params if p.kind in _POSITIONAL] + [
        p for p in params if p.kind == _P.KEYWORD_ONLY]
    slots = {p.name: i for i, p in enumerate(named)}
    for p in params:
        if p.kind == _P.VAR_POSITIONAL:
            slots[p.name] = _SLOT_VARARGS
        elif p.kind == _P.VAR_KEYWORD:
            slots[p.name] = _SLOT_VARKW
    has_varkw = _SLOT_VARKW in slots.values()
    qualname = getattr(fn, "__qualname__", getattr(fn, "__name__", type(fn).__name__))

    if args is True:
        selected = [p.name for p in params]
        if params and params[0].kind in _POSITIONAL and params[0].name in ("self", "cls"):
            selected = selected[1:]
    elif args is False or args is None:
        selected = []
    else:
        selected = list(args)
        unknown = [n for n in selected if n not in slots]
        if unknown:
            raise ValueError(f"perflog: {qualname} has no parameter {unknown[0]!r} "
                             f"(parameters: {', '.join(slots) or 'none'})")
    for name in extract:
        if name not in slots or slots[name] < 0:
            raise ValueError(f"perflog: extract={name!r}: {qualname} has no such named "
                             f"parameter (parameters: {', '.join(slots) or 'none'})")
        if name not in selected:
            selected.append(name)
    for name in redact:
        if name not in slots and not has_varkw:
            raise ValueError(f"perflog: redact={name!r}: {qualname} has no such parameter "
                             f"(parameters: {', '.join(slots) or 'none'})")

    record = tuple((slots[n], n, n in redact, extract.get(n)) for n in selected)
    redact_keys = tuple(n for n in redact if n not in slots)
    if action_type is None:
        module = getattr(fn, "__module__", None) or "?"
        # multiprocessing's spawn and forkserver workers run the main script as
        # "__mp_main__": its functions are the same as the parent's "__main__" ones.
        action_type = f"{'__main__' if module == '__mp_main__' else module}.{qualname}"
    kind = _kind(fn)
    wrapper = _perflog.Decorated(
        fn, kind, action_type,
        tuple(p.name for p in named), tuple(p.default for p in named), _P.empty,
        sum(p.kind in _POSITIONAL for p in params),
        sum(p.kind == _P.POSITIONAL_ONLY for p in params),
        record, redact_keys, result, max_len)
    functools.update_wrapper(wrapper, fn)
    if inspect.isfunction(fn):
        # What inspect.iscoroutinefunction() and isgeneratorfunction() look at on an
        # object that is not a function (3.11: _signature_is_functionlike).
        wrapper.__code__ = fn.__code__
        wrapper.__defaults__ = fn.__defaults__
        wrapper.__kwdefaults__ = fn.__kwdefaults__
    if kind == _perflog._KIND_CORO:
        # asyncio.iscoroutinefunction() looks for this marker (3.11 has no public one).
        import asyncio.coroutines
        wrapper._is_coroutine = asyncio.coroutines._is_coroutine
    return wrapper
