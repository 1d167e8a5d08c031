# SPDX-License-Identifier: MIT
"""perflog.asgi: one ``http.request`` action per HTTP request of an ASGI app (Starlette,
FastAPI, or any ASGI 3 app), the handler's recorded calls nested under it.

    app = perflog.asgi.PerflogMiddleware(app, query=["page"], headers=["user-agent"])

Fields: see perflog._web. The route template comes from the app's routes when it has
Starlette's (``app.routes``: a Route's ``path``, a Mount's prefix joined to its routes'),
else from ``route=``, a function of the ASGI scope returning ``(template, params)`` or
None; a request no route matches has no ``route`` field (its raw path is never recorded).
``status`` is the response's, ``bytes`` the body's length as sent (streaming responses
included: the action ends when the app returns, after its last ``send``). Lifespan and
websocket scopes pass through unrecorded. Starlette is not imported: any app works.
"""

from . import _web

__all__ = ["PerflogMiddleware"]


def starlette_route(app, scope):
    """(template, params) of the Starlette route that fully matches @scope, or None."""
    routes = getattr(app, "routes", None)
    if routes is None:
        return None
    try:
        from starlette.routing import Match, Mount
    except ImportError:
        return None
    return _match(routes, scope, Match, Mount, "")


def _match(routes, scope, Match, Mount, prefix):
    for route in routes:
        try:
            match, child = route.matches(scope)
        except Exception:  # a route that cannot judge this scope: not ours to fail
            continue
        if match != Match.FULL:
            continue
        params = dict(child.get("path_params", {}))
        if isinstance(route, Mount):
            inner = dict(scope, **child)
            sub = _match(getattr(route, "routes", []) or [], inner, Match, Mount,
                         prefix + route.path)
            if sub is not None:
                return sub
            return prefix + route.path, params
        return prefix + getattr(route, "path", ""), params
    return None


class PerflogMiddleware:
    """ASGI 3 middleware recording each HTTP request as an ``http.request`` action."""

    def __init__(self, app, *, query=(), headers=(), route=None,
                 action_type=_web.ACTION_TYPE):
        self.app = app
        self.rec = _web.Recorder(query, headers, action_type)
        self.route = route

    def _route(self, scope):
        if self.route is not None:
            return self.route(scope)
        return starlette_route(self.app, scope)

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)  # lifespan, websocket
        try:
            found = self._route(scope)
        except Exception:
            found = None
        route, params = found if found else (None, None)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        query = {}
        if self.rec.query and scope.get("query_string"):
            from urllib.parse import parse_qsl
            query = _web.first_values(parse_qsl(scope["query_string"].decode("latin-1")))
        action = self.rec.action(scope.get("method", "GET"), route, params, query, headers)
        sent = {"status": None, "bytes": 0}

        async def counting_send(message):
            kind = message.get("type")
            if kind == "http.response.start":
                sent["status"] = message.get("status")
            elif kind == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        action.__enter__()
        try:
            await self.app(scope, receive, counting_send)
        except BaseException as e:
            _web.finish(action, sent["status"], sent["bytes"], e)
            raise
        _web.finish(action, sent["status"], sent["bytes"])
