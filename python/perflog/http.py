# SPDX-License-Identifier: MIT
"""perflog.http: outgoing HTTP calls recorded as ``http.client`` actions that carry the task.

Each call is an action with ``method``, ``host`` (host[:port]) and ``path`` (the URL's path:
no query string, no credentials), and as outputs ``status`` (or the exception as the
failure). The request gets two headers: a W3C ``traceparent`` naming the ``http.client``
action as the parent span (an OpenTelemetry-instrumented callee joins the caller's trace)
and ``X-Perflog-Task``, a perflog task string (a callee behind perflog's middleware
continues the task at exactly its level: one tree across services). ``task_header=False``
leaves the second out (for third parties).

    perflog.http.urlopen("http://svc/u/17")                      # urllib.request
    session = perflog.http.requests_session()                    # requests
    client = httpx.Client(transport=perflog.http.HTTPXTransport(httpx.HTTPTransport()))
    aiohttp.ClientSession(trace_configs=[perflog.http.aiohttp_trace_config()])

The libraries are optional: each is imported only by its helper.
"""

import urllib.parse
import urllib.request

import perflog

ACTION_TYPE = "http.client"
__all__ = ["urlopen", "requests_session", "HTTPXTransport", "AsyncHTTPXTransport",
           "aiohttp_trace_config", "outgoing_headers"]


def _where(url):
    u = urllib.parse.urlsplit(str(url))
    host = u.hostname or ""
    if u.port:
        host = f"{host}:{u.port}"
    return host, u.path or "/"


def outgoing_headers(task_header=True):
    """The headers that carry the current action to a callee: traceparent, and
    X-Perflog-Task (a child slot of the current action) unless @task_header is False.
    Empty when no action is current."""
    out = {}
    tp = perflog.current_task(format="traceparent")
    if tp:
        out["traceparent"] = tp
    if task_header:
        task = perflog.current_task()
        if task:
            out["X-Perflog-Task"] = task
    return out


def _begin(method, url):
    host, path = _where(url)
    action = perflog.action(ACTION_TYPE, method=method.upper(), host=host, path=path)
    action.__enter__()
    return action


def _end(action, status=None, exc=None):
    if status is not None:
        action.add(status=status)
    action.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)


# ---- urllib.request --------------------------------------------------------------------------

def urlopen(url, data=None, timeout=None, *, task_header=True, **kwargs):
    """urllib.request.urlopen(), recorded. An HTTPError (4xx, 5xx) is recorded with its
    status, as the failure, and raised as urllib raises it."""
    req = url if isinstance(url, urllib.request.Request) else urllib.request.Request(url, data)
    if data is not None and isinstance(url, urllib.request.Request):
        req.data = data
    action = _begin(req.get_method(), req.full_url)
    try:
        for k, v in outgoing_headers(task_header).items():
            req.add_header(k, v)
        args = {} if timeout is None else {"timeout": timeout}
        resp = urllib.request.urlopen(req, **args, **kwargs)
    except urllib.error.HTTPError as e:
        _end(action, e.code, e)
        raise
    except BaseException as e:
        _end(action, exc=e)
        raise
    _end(action, resp.status)
    return resp


# ---- requests --------------------------------------------------------------------------------

def requests_session(session=None, *, task_header=True):
    """A requests.Session (@session, or a new one) whose HTTP(S) calls are recorded."""
    import requests
    from requests.adapters import HTTPAdapter

    class PerflogAdapter(HTTPAdapter):
        def send(self, request, *args, **kwargs):
            action = _begin(request.method, request.url)
            try:
                request.headers.update(outgoing_headers(task_header))
                resp = super().send(request, *args, **kwargs)
            except BaseException as e:
                _end(action, exc=e)
                raise
            _end(action, resp.status_code)
            return resp

    session = session or requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, PerflogAdapter())
    return session


# ---- httpx -----------------------------------------------------------------------------------

class HTTPXTransport:
    """An httpx transport recording the calls of the one it wraps:
    ``httpx.Client(transport=HTTPXTransport(httpx.HTTPTransport()))``."""

    def __init__(self, transport, *, task_header=True):
        self.transport, self.task_header = transport, task_header

    def handle_request(self, request):
        action = _begin(request.method, request.url)
        try:
            request.headers.update(outgoing_headers(self.task_header))
            resp = self.transport.handle_request(request)
        except BaseException as e:
            _end(action, exc=e)
            raise
        _end(action, resp.status_code)
        return resp

    def close(self):
        self.transport.close()

    def __enter__(self):
        self.transport.__enter__()
        return self

    def __exit__(self, *exc):
        return self.transport.__exit__(*exc)


class AsyncHTTPXTransport:
    """The same for ``httpx.AsyncClient(transport=AsyncHTTPXTransport(...))``."""

    def __init__(self, transport, *, task_header=True):
        self.transport, self.task_header = transport, task_header

    async def handle_async_request(self, request):
        action = _begin(request.method, request.url)
        try:
            request.headers.update(outgoing_headers(self.task_header))
            resp = await self.transport.handle_async_request(request)
        except BaseException as e:
            _end(action, exc=e)
            raise
        _end(action, resp.status_code)
        return resp

    async def aclose(self):
        await self.transport.aclose()

    async def __aenter__(self):
        await self.transport.__aenter__()
        return self

    async def __aexit__(self, *exc):
        return await self.transport.__aexit__(*exc)


# ---- aiohttp's client ------------------------------------------------------------------------

def aiohttp_trace_config(*, task_header=True):
    """An aiohttp.TraceConfig recording a session's requests (``trace_configs=[...]``).
    Each request's action lives in its trace context: begun at on_request_start, ended at
    on_request_end or on_request_exception (both run in the request's task)."""
    import aiohttp

    async def start(session, ctx, params):
        ctx.perflog_action = _begin(params.method, params.url)
        params.headers.update(outgoing_headers(task_header))

    async def end(session, ctx, params):
        action = getattr(ctx, "perflog_action", None)
        if action is not None:
            ctx.perflog_action = None
            _end(action, params.response.status)

    async def failed(session, ctx, params):
        action = getattr(ctx, "perflog_action", None)
        if action is not None:
            ctx.perflog_action = None
            _end(action, exc=params.exception)

    config = aiohttp.TraceConfig()
    config.on_request_start.append(start)
    config.on_request_end.append(end)
    config.on_request_exception.append(failed)
    return config
