# SPDX-License-Identifier: MIT
"""perflog.wsgi: one ``http.request`` action per request of a WSGI app (Flask, or any WSGI
app), the handler's recorded calls nested under it.

    app.wsgi_app = perflog.wsgi.PerflogMiddleware(app.wsgi_app, query=["page"])   # Flask

Fields: see perflog._web. The route template comes from the app's werkzeug URL map when it
has one (Flask: ``url_map``, e.g. ``/u/<int:uid>``; give the Flask app itself as
``url_map_of=``, or wrap ``app`` whose ``url_map`` is found), from Django's URLconf when
the app is Django's WSGI handler (``get_wsgi_application()``: ``django.urls.resolve``, the
pattern's ``route``, e.g. ``/u/<int:uid>``), else from ``route=``, a function of the WSGI
environ returning ``(template, params)`` or None. The action spans the response: it ends
when the server closes the returned iterable, so ``bytes`` counts what was iterated,
streaming included.

    application = perflog.wsgi.PerflogMiddleware(get_wsgi_application())   # Django
"""

from . import _web

__all__ = ["PerflogMiddleware"]


def werkzeug_route(url_map, environ, adapter=None):
    """(rule template, params) of the werkzeug rule matching @environ, or None. @adapter: a
    MapAdapter bound once, for a map whose rules depend on neither host nor subdomain (a
    bind per request was most of the middleware's cost)."""
    try:
        if adapter is not None:
            rule, args = adapter.match(environ.get("PATH_INFO", "/") or "/",
                                       method=environ.get("REQUEST_METHOD", "GET"),
                                       return_rule=True)
        else:
            rule, args = url_map.bind_to_environ(environ).match(return_rule=True)
    except Exception:  # NotFound, MethodNotAllowed, RequestRedirect: no route
        return None
    return rule.rule, dict(args)


def django_route(environ):
    """(route, kwargs) of the Django URL pattern matching @environ's path, or None."""
    from django.urls import Resolver404, resolve
    try:
        m = resolve(environ.get("PATH_INFO", "/") or "/")
    except Resolver404:
        return None
    route = getattr(m, "route", None)
    if route is None:  # a pattern without a route string (re_path): its view's name
        route = m.view_name
    return "/" + route.lstrip("^").rstrip("$").lstrip("/"), dict(m.kwargs)


def _is_django(app):
    return any(c.__module__ == "django.core.handlers.wsgi" and c.__name__ == "WSGIHandler"
               for c in type(app).__mro__)


def _host_free_adapter(url_map):
    """A MapAdapter to reuse, or None when a rule depends on the host or subdomain."""
    try:
        if getattr(url_map, "host_matching", False) or any(
                getattr(r, "subdomain", None) or getattr(r, "host", None)
                for r in url_map.iter_rules()):
            return None
        return url_map.bind("")
    except Exception:
        return None


class _Body:
    """The app's response iterable, counting bytes and ending the action on close()."""

    def __init__(self, it, action, sent):
        self.it, self.action, self.sent = it, action, sent
        self.done = False

    def __iter__(self):
        try:
            for chunk in self.it:
                self.sent["bytes"] += len(chunk)
                yield chunk
        except BaseException as e:
            self._end(e)
            raise

    def close(self):
        try:
            close = getattr(self.it, "close", None)
            if close is not None:
                close()
        finally:
            self._end()

    def _end(self, exc=None):
        if self.done:
            return
        self.done = True
        _web.finish(self.action, self.sent["status"], self.sent["bytes"], exc)


class PerflogMiddleware:
    """WSGI middleware recording each request as an ``http.request`` action."""

    def __init__(self, app, *, query=(), headers=(), route=None, url_map_of=None,
                 action_type=_web.ACTION_TYPE):
        self.app = app
        self.rec = _web.Recorder(query, headers, action_type)
        self.route = route
        owner = url_map_of if url_map_of is not None else app
        self.url_map = getattr(owner, "url_map", None)
        if self.url_map is None:  # app.wsgi_app is a bound method of the Flask app
            self.url_map = getattr(getattr(app, "__self__", None), "url_map", None)
        self._adapter = None
        self._rules = -1  # rules added after the middleware was made: bind again
        self._django = route is None and self.url_map is None and _is_django(app)

    def _route(self, environ):
        if self.route is not None:
            return self.route(environ)
        if self.url_map is not None:
            n = len(getattr(self.url_map, "_rules", ()))
            if n != self._rules:
                self._adapter, self._rules = _host_free_adapter(self.url_map), n
            return werkzeug_route(self.url_map, environ, self._adapter)
        if self._django:
            return django_route(environ)
        return None

    def __call__(self, environ, start_response):
        try:
            found = self._route(environ)
        except Exception:
            found = None
        route, params = found if found else (None, None)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        for k in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(k):
                headers[k.replace("_", "-").lower()] = environ[k]
        query = {}
        if self.rec.query and environ.get("QUERY_STRING"):
            from urllib.parse import parse_qsl
            query = _web.first_values(parse_qsl(environ["QUERY_STRING"]))
        action = self.rec.action(environ.get("REQUEST_METHOD", "GET"), route, params, query,
                                 headers)
        sent = {"status": None, "bytes": 0}

        def recording_start_response(status, response_headers, exc_info=None):
            try:
                sent["status"] = int(str(status).split(" ", 1)[0])
            except ValueError:
                pass
            return start_response(status, response_headers, exc_info)

        action.__enter__()
        try:
            it = self.app(environ, recording_start_response)
        except BaseException as e:
            _Body((), action, sent)._end(e)
            raise
        return _Body(it, action, sent)
