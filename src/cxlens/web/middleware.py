"""Requests whose text carries a NUL character are refused (400): PostgreSQL cannot store it."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class RejectNulMiddleware:
    """A NUL (``\\x00``) in a query string, a posted form or a JSON body is a 400 naming the field.

    The warehouse's ingest endpoints are not affected by PostgreSQL's limit (DuckDB stores the
    text), but a NUL in text is never meaningful, so every endpoint refuses it the same way.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = nul_field(request)
        if field is None:
            return self.get_response(request)
        message = (f"The field {field!r} contains a NUL character (\\x00), which text may not contain. "
                   f"Remove it and send again.")
        if request.path.startswith("/api/"):
            return JsonResponse({"error": {"code": "invalid_input", "message": message, "field": field,
                                           "details": None}}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def nul_field(request: HttpRequest) -> str | None:
    """The first query or form field (name or value) holding a NUL character, or None."""
    params = [request.GET]
    if request.method == "POST" and request.content_type == FORM:
        params.append(request.POST)
    for data in params:
        for name, values in data.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                return name.replace("\x00", "") or "(name)"
    if request.method in {"POST", "PUT", "PATCH"} and request.content_type == JSON and b"\\u0000" in _body(request):
        return "body"
    return None


def _body(request: HttpRequest) -> bytes:
    """The raw body, or nothing when Django refuses to read it (too large): the view answers that."""
    try:
        return request.body
    except RequestDataTooBig:
        return b""
