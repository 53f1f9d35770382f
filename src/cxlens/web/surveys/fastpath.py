"""A lean route for the one hot public endpoint, ``/s/SLUG/collect``, in front of Django.

Every widget answer is a small keyed JSON request from another web site. Through Django's full
stack each one pays for the middleware chain (sessions, CSRF, authentication, messages, axes,
whitenoise), the URL resolver and the request signals: about as much CPU as the answer itself.
:class:`CollectApp` wraps the WSGI application: ``GET``, ``POST`` and ``OPTIONS`` of
``/s/SLUG/collect`` go straight to the endpoint's one implementation (``widget.answer``: the same
survey cache, CORS rules, key check, rate limits, validation, honeypot and group commit); every
other request goes to Django unchanged.

The response is the one Django would send: the middleware that changes such a response
(security headers, ``X-Frame-Options``, ``Content-Length``) is applied by Django's own classes,
and a request Django's middleware would turn away or redirect (a host not in ``ALLOWED_HOSTS``, a
refused user agent, an HTTPS redirect) is handed to Django whole, and so is a request the endpoint
fails on unexpectedly (Django then logs it and sends its error page). Sessions, CSRF, messages and
authentication do nothing for this endpoint (no cookies are read or set), so they are skipped.

``CXLENS_SURVEY_FASTPATH=off`` (environment) serves the endpoint through Django alone.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from cxlens.errors import CxlensInputError

ENV = "CXLENS_SURVEY_FASTPATH"
# Django's ``<slug:...>`` converter, anchored: the path of ``surveys.urls``'s ``survey_collect``.
COLLECT = re.compile(r"^/s/([-a-zA-Z0-9_]+)/collect\Z")
METHODS = frozenset({"GET", "POST", "OPTIONS"})

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def enabled(env: dict[str, str] | None = None) -> bool:
    """Whether :func:`wrap` puts the lean route in front (``on`` unless ``CXLENS_SURVEY_FASTPATH``
    says ``off``)."""
    value = (os.environ if env is None else env).get(ENV, "").strip().lower()
    if value in {"", "1", "on", "true", "yes"}:
        return True
    if value in {"0", "off", "false", "no"}:
        return False
    raise CxlensInputError(f"{ENV} must be on or off. Got {value!r} instead.")


def wrap(app: WsgiApp, env: dict[str, str] | None = None) -> WsgiApp:
    """``app`` with the lean collection route in front of it (or ``app`` itself when disabled)."""
    return CollectApp(app) if enabled(env) else app


class CollectApp:
    """WSGI middleware: the collection endpoint without Django's middleware chain."""

    def __init__(self, app: WsgiApp) -> None:
        from django.middleware.clickjacking import XFrameOptionsMiddleware
        from django.middleware.common import CommonMiddleware
        from django.middleware.security import SecurityMiddleware

        self.app = app
        # Django's own middleware classes, used only for their request checks and response headers.
        self._security = SecurityMiddleware(_unused)
        self._common = CommonMiddleware(_unused)
        self._frames = XFrameOptionsMiddleware(_unused)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in METHODS:
            return self.app(environ, start_response)
        found = COLLECT.match(environ.get("PATH_INFO") or "")
        if found is None:
            return self.app(environ, start_response)
        from django.core.handlers.wsgi import WSGIRequest

        request = WSGIRequest(environ)
        if not self._plain(request):
            return self.app(environ, start_response)
        try:
            response = self._answer(request, found[1])
        except Exception:  # a fault of the endpoint itself: Django answers it (its logging, signals, 500 page)
            environ["wsgi.input"] = io.BytesIO(_body(request))
            return self.app(environ, start_response)
        status = f"{response.status_code} {response.reason_phrase}"
        start_response(status, [*response.items(), *(("Set-Cookie", c.output(header="")) for c in
                                                      response.cookies.values())])
        return response  # the server calls its close(): request_finished, so old connections are dropped

    def _plain(self, request: Any) -> bool:
        """True when Django's middleware would let ``request`` through to the view untouched."""
        try:
            return self._security.process_request(request) is None and self._common.process_request(request) is None
        except Exception:  # a refused host or user agent: Django answers it (400/403) as it always does
            return False

    def _answer(self, request: Any, slug: str) -> Any:
        from cxlens.web.surveys import widget

        response = widget.answer(request, slug)
        response = self._security.process_response(request, response)
        response = self._common.process_response(request, response)
        return self._frames.process_response(request, response)


def _body(request: Any) -> bytes:
    """The body the endpoint read (to hand the request on to Django), or nothing if it read none."""
    try:
        return bytes(request.body)
    except Exception:  # the stream was consumed without keeping it: Django then sees an empty body
        return b""


def _unused(request: Any) -> Any:  # pragma: no cover - the middleware instances are never called
    raise AssertionError("fastpath middleware is used only for process_request/process_response")

