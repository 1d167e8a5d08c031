# SPDX-License-Identifier: MIT
"""PERFLOG_FILE: start recording when perflog is imported, with no code change.

    PERFLOG_FILE=trace.zst python app.py

Options: PERFLOG_FLUSH_MS, PERFLOG_BUFFER_SIZE, PERFLOG_FULL_POLICY (drop|block),
PERFLOG_ROTATE_BYTES, PERFLOG_ROTATE_SECONDS, PERFLOG_KEEP_FILES, PERFLOG_KEEP_BYTES. Every
Python process importing perflog with the variable set records, child processes too:
put "{pid}" in the path when the program starts Python subprocesses, or they truncate
each other's file. Everything is written at interpreter exit (perflog registers stop()
with atexit; liblog's exit handler covers os._exit-free paths that skip it).
"""
import os
import warnings

from . import _perflog

_OPTIONS = (
    ("PERFLOG_FLUSH_MS", "flush_interval_ms", int),
    ("PERFLOG_BUFFER_SIZE", "buffer_size", int),
    ("PERFLOG_FULL_POLICY", "full_policy", str),
    ("PERFLOG_ROTATE_BYTES", "rotate_bytes", int),
    ("PERFLOG_ROTATE_SECONDS", "rotate_seconds", int),
    ("PERFLOG_KEEP_FILES", "keep_files", int),
    ("PERFLOG_KEEP_BYTES", "keep_bytes", int),
)


def env_options(environ=os.environ):
    """start() options from the PERFLOG_* variables of _OPTIONS."""
    options = {}
    for var, key, convert in _OPTIONS:
        text = environ.get(var)
        if text:
            try:
                options[key] = convert(text)
            except ValueError:
                warnings.warn(f"perflog: ignoring {var}={text!r}", RuntimeWarning, stacklevel=3)
    return options


def run(environ=os.environ):
    path = environ.get("PERFLOG_FILE")
    if not path or _perflog.recording():
        return None
    options = env_options(environ)
    try:
        try:
            return _perflog.start(path, **options)
        except ValueError as exc:
            if not options:
                raise
            # A bad value of an option variable is ignored (with a warning), as one that
            # does not parse is: record with the defaults rather than not at all.
            names = ", ".join(var for var, key, _ in _OPTIONS if key in options)
            warnings.warn(f"perflog: ignoring {names}: {exc}", RuntimeWarning, stacklevel=2)
            return _perflog.start(path)
    except (OSError, ValueError) as exc:
        # Never break the program being observed: say why, and run unrecorded.
        warnings.warn(f"perflog: PERFLOG_FILE={path!r}: not recording: {exc}", RuntimeWarning,
                      stacklevel=2)
        return None
