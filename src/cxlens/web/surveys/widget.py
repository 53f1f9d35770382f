"""The embeddable widget: ``GET /s/widget.js`` and the public collection endpoint
``/s/SLUG/collect`` (``GET`` what to ask, ``POST`` an answer, ``OPTIONS`` the CORS preflight).

A web site embeds the script with the survey's slug and public key. The endpoint answers a
browser only for the survey's allowed origins (``Access-Control-Allow-Origin`` with that exact
origin, never ``*``); other origins get 403. Requests without an ``Origin`` header (a server
posting answers) need only the key. The endpoint is CSRF-exempt: it takes no cookies and every
request carries the survey's key. Errors use the API's JSON shape (``api.error_response``).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any

from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from cxlens.errors import CxlensError, CxlensInputError
from cxlens.web.api import error_response
from cxlens.web.surveys import i18n, limits, logic, service, writer
from cxlens.web.surveys.models import Status, Survey, SurveyVersion

SCRIPT = Path(__file__).resolve().parents[1] / "static" / "cxlens" / "widget.js"
MAX_BODY = 16 * 1024


class BodyTooLarge(CxlensInputError):
    """A POST body over :data:`MAX_BODY`."""


@cache
def _script() -> bytes:
    return SCRIPT.read_bytes()


@require_safe
def widget_js(request: HttpRequest) -> HttpResponse:
    """The widget script (vanilla JavaScript, served by this server: no CDN)."""
    response = HttpResponse(_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _allowed(survey: Survey, origin: str | None) -> bool:
    """No Origin (not a browser) or one of the survey's origins, compared exactly (lower case)."""
    return origin is None or origin.lower() in survey.allowed_origins


def _cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    if origin is not None:
        response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def _refuse_origin(origin: str) -> JsonResponse:
    response = error_response(403, "origin_not_allowed", f"The web site {origin[:200]!r} may not send answers to "
                              f"this survey. Add it to the survey's allowed origins (Settings, in the builder).",
                              "Origin")
    response["Vary"] = "Origin"
    return response


def _throttled(verdict: limits.Verdict, origin: str | None) -> HttpResponse:
    response = error_response(429, "rate_limited", f"Too many answers from this address or for this key in a short "
                              f"time. Try again in {verdict.retry_after} seconds.")
    response["Retry-After"] = str(verdict.retry_after)
    return _cors(response, origin)


def answer(request: HttpRequest, slug: str) -> HttpResponse:
    """The collection endpoint's one implementation, for ``GET``, ``POST`` and ``OPTIONS``: served
    by Django (:func:`collect`) and, without Django's middleware chain, by ``fastpath``."""
    origin = request.headers.get("Origin")
    found = SURVEYS.get(slug)
    if found is None:
        return _cors(error_response(404, "survey_not_found", f"There is no survey {slug!r}.", "survey"),
                     origin if origin and origin != "null" else None)
    survey, version = found
    if not _allowed(survey, origin):
        return _refuse_origin(str(origin))
    if request.method == "OPTIONS":
        response = _cors(HttpResponse(status=204), origin)
        response["Access-Control-Allow-Methods"] = "GET, POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
        return response
    limits_now = limits.current()
    verdict = limits.check(str(request.META.get("REMOTE_ADDR") or ""), limits=limits_now)
    if not verdict.allowed:
        return _throttled(verdict, origin)
    try:
        payload = _payload(request)
    except CxlensInputError as exc:
        status = 413 if isinstance(exc, BodyTooLarge) else 400
        return _cors(error_response(status, "invalid_input", str(exc), "body"), origin)
    key = str(payload.get("key") or "")
    if not secrets.compare_digest(key.encode("utf-8"), survey.public_key.encode("utf-8")):
        return _cors(error_response(403, "invalid_key", "The survey key is missing or wrong. Copy the widget snippet "
                                    "again from the survey's page in cxlens.", "key"), origin)
    verdict = limits.check("", key=key, limits=limits_now)
    if not verdict.allowed:
        return _throttled(verdict, origin)
    now = timezone.now()
    problem = survey.open_problem(now)
    if problem or survey.status != Status.LIVE:
        return _cors(error_response(410, "survey_closed", problem or "This survey takes no answers.", "survey"),
                     origin)
    if request.method == "GET":
        wanted = [t.strip() for t in str(payload.get("lang") or "").split(",") if t.strip()]
        try:
            prompt = service.widget_prompt(survey, wanted or i18n.accept_language(
                request.headers.get("Accept-Language")), version)
        except CxlensError as exc:
            return _cors(error_response(409, "no_widget_question", str(exc), "survey"), origin)
        response = _cors(JsonResponse(prompt), origin)
        response["Cache-Control"] = "no-store"
        return response
    if payload.get(limits.HONEYPOT):  # filled by a bot: an answer that looks accepted, nothing kept
        return _cors(JsonResponse({"response_id": f"{survey.slug}-{secrets.token_hex(16)}", "status": "accepted"},
                                  status=201), origin)
    try:
        collected = service.collect(survey, payload, now, version)
    except logic.AnswerError as exc:
        return _cors(error_response(400, "invalid_answer", str(exc), f"answers.{exc.question}"), origin)
    except writer.StoreError as exc:
        return _cors(error_response(503, "unavailable", str(exc)), origin)
    except CxlensInputError as exc:
        return _cors(error_response(400, "invalid_input", str(exc)), origin)
    return _cors(JsonResponse(collected.to_dict(), status=200 if collected.duplicate else 201), origin)


collect = csrf_exempt(require_http_methods(["GET", "POST", "OPTIONS"])(answer))
collect.__doc__ = "``/s/SLUG/collect`` as a Django view (CSRF-exempt: keyed, cross-origin, no cookies)."


class SurveyCache:
    """Surveys by slug (with their latest version), at most :attr:`ttl` seconds old.

    Every widget request needs its survey; under load hundreds arrive each second, on many
    threads. When an entry is stale one thread reads it again while the others go on with the
    entry they have (no burst of identical queries, no burst of new database connections). Unknown
    slugs are remembered too, so made-up addresses do not reach the database each time (the cache
    is emptied when it grows past :attr:`size` entries). Saving a survey or a version in this
    process empties it at once."""

    def __init__(self, ttl: float = 1.0, size: int = 1024) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[str, tuple[float, tuple[Survey, SurveyVersion] | None]] = {}
        self._loading: set[str] = set()
        self._lock = threading.Lock()
        self._generation = 0  # moves on every clear: a read begun before a save is not kept

    def get(self, slug: str) -> tuple[Survey, SurveyVersion] | None:
        hit = self._items.get(slug)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        with self._lock:
            if hit is not None and slug in self._loading:
                return hit[1]  # another thread is reading it now
            self._loading.add(slug)
            generation = self._generation
        try:
            found = _load(slug)
            with self._lock:
                if len(self._items) >= self.size:
                    self._items.clear()
                if generation == self._generation:
                    self._items[slug] = (time.monotonic(), found)
        finally:
            with self._lock:
                self._loading.discard(slug)
        return found

    def clear(self, **_: Any) -> None:
        with self._lock:
            self._generation += 1
            self._items.clear()


def _load(slug: str) -> tuple[Survey, SurveyVersion] | None:
    survey = Survey.objects.select_related("project").filter(slug=slug).first()
    return None if survey is None else (survey, survey.latest())


SURVEYS = SurveyCache()
post_save.connect(SURVEYS.clear, sender=Survey, dispatch_uid="cxsurveys.widget.forget.survey")
post_save.connect(SURVEYS.clear, sender=SurveyVersion, dispatch_uid="cxsurveys.widget.forget.version")


def _payload(request: HttpRequest) -> dict[str, Any]:
    """The JSON body of a POST, the query string of a GET."""
    if request.method == "GET":
        return {k: request.GET.get(k) for k in request.GET}
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > MAX_BODY:
        raise BodyTooLarge(f"An answer may have at most {MAX_BODY} bytes. Got {length} bytes.")
    try:
        body = json.loads(request.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CxlensInputError(f"The body must be a JSON object like {{\"key\": \"...\", \"answers\": "
                               f"{{\"nps\": 9}}}}: {exc}.") from None
    if not isinstance(body, dict):
        raise CxlensInputError("The body must be a JSON object with 'key' and 'answers'.")
    return body
