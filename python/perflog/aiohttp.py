# SPDX-License-Identifier: MIT
"""perflog.aiohttp: one ``http.request`` action per request of an aiohttp.web application,
the handler's recorded calls nested under it.

    app = web.Application(middlewares=[perflog.aiohttp.middleware(query=["page"])])

Fields: see perflog._web. The route template is the matched resource's canonical form
(``/u/{uid}``), the path parameters its ``match_info``; a request no route matches (404) has
no ``route``. ``status`` is the response's; ``bytes`` the body's length when known (a
``Response``'s body, a ``StreamResponse``'s Content-Length), else ``wire_bytes``: what
aiohttp sent on the connection, headers and chunk framing included. An ``HTTPException``
raised by the handler is its response: its status recorded, a 5xx one as the failure.
Another exception is a 500 (as aiohttp answers it), failed with that exception.
"""

from . import _web

__all__ = ["middleware"]


def _route(request):
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    if resource is None or getattr(info, "http_exception", None) is not None:
        return None, None
    return resource.canonical, dict(info)


def _sent(response):
    """status, and the body's length when it is known: a Response's body, or the
    Content-Length of a streamed one (a chunked stream's is not: aiohttp counts only what
    went on the wire, headers and chunk framing included, recorded as wire_bytes)."""
    body = getattr(response, "body", None)
    if isinstance(body, (bytes, bytearray)):
        return {"status": response.status, "bytes": len(body)}
    if getattr(response, "content_length", None) is not None:
        return {"status": response.status, "bytes": response.content_length}
    return {"status": response.status, "bytes": None,
            "wire_bytes": getattr(response, "body_length", 0) or 0}


def _finish(action, sent, exc=None):
    if "wire_bytes" in sent:
        action.add(wire_bytes=sent["wire_bytes"])
    _web.finish(action, sent["status"], sent["bytes"], exc)


def middleware(*, query=(), headers=(), action_type=_web.ACTION_TYPE):
    """An aiohttp middleware recording each request (give it in ``middlewares=``, first:
    it then sees every other middleware's time)."""
    from aiohttp import web

    rec = _web.Recorder(query, headers, action_type)

    @web.middleware
    async def perflog_middleware(request, handler):
        route, params = _route(request)
        q = {k: request.query.get(k) for k in rec.query if k in request.query}
        h = {k.lower(): v for k, v in request.headers.items()}
        action = rec.action(request.method, route, params, q, h)
        action.__enter__()
        try:
            response = await handler(request)
        except web.HTTPException as e:  # a response, raised: 4xx as succeeded, 5xx failed
            _finish(action, _sent(e), e if e.status >= 500 else None)
            raise
        except BaseException as e:
            _web.finish(action, 500, None, e)
            raise
        _finish(action, _sent(response))
        return response

    return perflog_middleware
