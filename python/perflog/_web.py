# SPDX-License-Identifier: MIT
"""What the web middleware share (perflog.asgi, perflog.wsgi, perflog.aiohttp): one
``http.request`` action per request, its fields, and where its task comes from.

Fields of the START: ``method``, ``route`` (the route *template*, ``/u/{uid}``: never the raw
path, so that requests group), ``param.<name>`` per path parameter, ``query.<name>`` and
``header.<name>`` for the allow-listed query parameters and headers only (nothing else is
recorded, for privacy); path and query parameters of decimal digits are recorded as ints.
Fields of the END: ``status`` and ``bytes`` (of the response body).
An exception that leaves the app is the action's failure; a response with a 5xx status
the app sent without raising (a framework that turned the exception into a 500 itself) is
one too, recorded as the exception ``perflog.HTTPServerError`` with message "status 500".

The task: a request with an ``X-Perflog-Task`` header (a perflog task string) continues that
task at exactly its level; else one with a W3C ``traceparent`` begins a new task in the
caller's distributed trace (perflog.continue_task); else it begins a new task, or a child
of the current action when the server runs the app inside one.
"""

import perflog

ACTION_TYPE = "http.request"


class HTTPServerError(Exception):
    """What a request that got a 5xx response without an exception records as its failure
    (never raised to the application)."""


HTTPServerError.__module__ = "perflog"


def finish(action, status, nbytes, exc=None):
    """End @action: outputs status and bytes; failed with @exc, or with HTTPServerError for
    a 5xx status."""
    if status is not None:
        action.add(status=status)
    if nbytes is not None:
        action.add(bytes=nbytes)
    if exc is None and status is not None and status >= 500:
        exc = HTTPServerError(f"status {status}")
    action.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)
TASK_HEADER = "x-perflog-task"


class Recorder:
    """The options of a middleware, and the action of a request."""

    def __init__(self, query=(), headers=(), action_type=ACTION_TYPE):
        if isinstance(query, str) or isinstance(headers, str):
            raise TypeError("perflog: query= and headers= take a list of names, not a str")
        self.query = tuple(query)
        self.headers = tuple(h.lower() for h in headers)
        self.action_type = action_type

    def action(self, method, route, params, query, headers):
        """The (not yet entered) action of a request. @query: name -> value (the first
        when repeated); @headers: lower-case name -> value; @params: the route's."""
        fields = {"method": method}
        if route is not None:
            fields["route"] = route
        for k, v in (params or {}).items():
            fields[f"param.{k}"] = _number(v)
        for k in self.query:
            if k in query:
                fields[f"query.{k}"] = _number(query[k])
        for k in self.headers:
            if k in headers:
                fields[f"header.{k}"] = headers[k]
        task = headers.get(TASK_HEADER) or headers.get("traceparent")
        if task:
            return perflog.continue_task(task, self.action_type, **fields)
        return perflog.action(self.action_type, **fields)


def _number(v):
    """A path or query parameter of decimal digits as an int (perfan groups numbers in
    ranges, strings value by value), else as given."""
    if isinstance(v, str) and 0 < len(v) <= 18 and v.isascii() and v.isdigit():
        return int(v)
    return v


def first_values(pairs):
    """{name: first value} of (name, value) pairs."""
    out = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out
