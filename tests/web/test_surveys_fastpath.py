"""The lean route of ``/s/SLUG/collect`` (``cxlens.web.surveys.fastpath``) answers exactly like the
Django view: the same requests sent through Django's full WSGI handler and through the lean route
get the same status, headers and body (one table of cases, each also pinned to its status), the
lean route never enters Django for them, and everything else still goes to Django."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from .conftest import WebApp, require_web
from .test_surveys_widget import ORIGIN, _live, _rows

require_web()

ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Reply:
    status: str
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split()[0])


class Counting:
    """Django's WSGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        return self.handler(environ, start_response)


def call(app: Any, method: str, path: str, body: bytes | str = b"", address: str = "127.0.0.1",
         content_type: str = "application/json", **headers: str) -> Reply:
    """One request through a WSGI application, as a server sends it."""
    from django.test import RequestFactory

    environ = RequestFactory().generic(method, path, body, content_type=content_type, REMOTE_ADDR=address,
                                       **headers).environ
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, response_headers

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    names = [name.lower() for name, _ in seen["headers"]]
    assert len(names) == len(set(names)), seen["headers"]
    return Reply(seen["status"], {name.lower(): value for name, value in seen["headers"]}, content)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    slug: str
    status: int
    body: Any = None  # a dict is sent as JSON; "{id}" in it becomes a fresh id per side
    raw: bytes | None = None
    origin: str | None = ORIGIN
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def surveys(app: WebApp) -> dict[str, Any]:
    from cxlens.web.surveys.models import Survey

    live = _live(app, "fp-live")
    other = _live(app, "fp-other")
    _live(app, "fp-closed")
    app.client("ana").post("/p/main/surveys/fp-closed/", {"action": "close"})
    app.client("ana").post("/p/main/surveys/", {"template": "relationship_nps", "title": "d", "slug": "fp-draft"})
    return {"live": live, "other": other, "closed": Survey.objects.get(slug="fp-closed"),
            "draft": Survey.objects.get(slug="fp-draft")}


def _cases(keys: dict[str, str], stored: str) -> list[Case]:
    key = keys["live"]
    answer = {"key": key, "id": "{id}", "answers": {"nps": 9, "reason": "Quick"}, "customer_id": "FP1",
              "language": "de"}
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST", "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type"}
    return [
        Case("preflight", "OPTIONS", "fp-live", 204, headers=preflight),
        Case("preflight, origin in capitals", "OPTIONS", "fp-live", 204, origin="https://SHOP.example.com",
             headers=preflight),
        Case("preflight, other origin", "OPTIONS", "fp-live", 403, origin="https://evil.example.com"),
        Case("preflight, origin null", "OPTIONS", "fp-live", 403, origin="null"),
        Case("preflight, lookalike origin", "OPTIONS", "fp-live", 403, origin="https://shop.example.com.evil.com"),
        Case("preflight, no such survey", "OPTIONS", "fp-nothing", 404),
        Case("answer", "POST", "fp-live", 201, answer),
        Case("answer without id", "POST", "fp-live", 201, {"key": key, "answers": {"nps": 3}}),
        Case("answer from a server (no Origin)", "POST", "fp-live", 201, answer, origin=None),
        Case("a retry of a stored id", "POST", "fp-live", 200, {**answer, "id": stored}),
        Case("answer from another origin", "POST", "fp-live", 403, answer, origin="https://evil.example.com"),
        Case("wrong key", "POST", "fp-live", 403, {**answer, "key": key + "x"}),
        Case("no key", "POST", "fp-live", 403, {"answers": {"nps": 9}}),
        Case("another survey's key", "POST", "fp-live", 403, {**answer, "key": keys["other"]}),
        Case("score out of range", "POST", "fp-live", 400, {**answer, "answers": {"nps": 11}}),
        Case("score as a word", "POST", "fp-live", 400, {**answer, "answers": {"nps": "nine"}}),
        Case("unknown question", "POST", "fp-live", 400, {**answer, "answers": {"nope": 1}}),
        Case("no answer", "POST", "fp-live", 400, {**answer, "answers": {}}),
        Case("comment too long", "POST", "fp-live", 400, {**answer, "answers": {"nps": 1, "reason": "x" * 2001}}),
        Case("bad id", "POST", "fp-live", 400, {**answer, "id": "not-hex"}),
        Case("bad JSON", "POST", "fp-live", 400, raw=b"{"),
        Case("JSON not an object", "POST", "fp-live", 400, raw=b"[1, 2]"),
        Case("not UTF-8", "POST", "fp-live", 400, raw=b'{"key": "\xff"}'),
        Case("body over 16 KB", "POST", "fp-live", 413, {**answer, "pad": "x" * 20_000}),
        Case("honeypot filled", "POST", "fp-live", 201, {**answer, "website": "http://spam.example"}),
        Case("closed survey", "POST", "fp-closed", 410, {**answer, "key": keys["closed"]}),
        Case("draft survey", "POST", "fp-draft", 410, {**answer, "key": keys["draft"]}, origin=None),
        Case("no such survey", "POST", "fp-nothing", 404, answer),
        Case("what to ask", "GET", "fp-live", 200, query=f"?key={key}&lang=de-CH,en"),
        Case("what to ask, browser languages", "GET", "fp-live", 200, query=f"?key={key}",
             headers={"HTTP_ACCEPT_LANGUAGE": "fr-CA,fr;q=0.8"}),
        Case("what to ask, wrong key", "GET", "fp-live", 403, query="?key=pk_nope"),
        # Requests Django's middleware or resolver treats differently go to Django, whole.
        Case("host not allowed", "POST", "fp-live", 400, answer, headers={"HTTP_HOST": "evil.example.com"}),
        Case("another method", "PUT", "fp-live", 405, answer),
        Case("trailing slash", "POST", "fp-live/collect/", 404, answer),
    ]


def _send(app: Any, case: Case, address: str) -> tuple[Reply, str]:
    """Send ``case`` with a fresh client id; the reply and that id."""
    fresh = secrets.token_hex(16)
    if case.raw is not None:
        body: bytes = case.raw
    elif case.body is None:
        body = b""
    else:
        body = json.dumps(case.body).replace("{id}", fresh).encode("utf-8")
    path = f"/s/{case.slug}/collect{case.query}" if not case.slug.endswith("/") else f"/s/{case.slug}"
    headers = dict(case.headers)
    if case.origin is not None:
        headers["HTTP_ORIGIN"] = case.origin
    return call(app, case.method, path, body, address=address, **headers), fresh


def _same(django: Reply, lean: Reply, django_id: str, lean_id: str) -> None:
    """Equal apart from the random parts: the id each side sent, and ids the server chose."""
    assert lean.status == django.status
    assert lean.headers == django.headers
    left = ID.sub("<id>", django.body.decode().replace(django_id, "<id>"))
    right = ID.sub("<id>", lean.body.decode().replace(lean_id, "<id>"))
    assert right == left


def test_lean_route_answers_like_django(app: WebApp, surveys: dict[str, Any]) -> None:
    from cxlens.web.surveys import fastpath

    keys = {name: s.public_key for name, s in surveys.items()}
    django, inner = Counting(), Counting()
    lean = fastpath.CollectApp(inner)
    stored = secrets.token_hex(16)
    first = call(django, "POST", "/s/fp-live/collect", json.dumps({"key": keys["live"], "id": stored,
                                                                   "answers": {"nps": 10}}), HTTP_ORIGIN=ORIGIN)
    assert first.code == 201
    for n, case in enumerate(_cases(keys, stored)):
        before = inner.calls
        expected, django_id = _send(django, case, f"10.61.0.{n}")
        got, lean_id = _send(lean, case, f"10.62.0.{n}")
        assert (expected.code, got.code) == (case.status, case.status), (case.name, expected, got)
        _same(expected, got, django_id, lean_id)
        delegated = case.method not in {"GET", "POST", "OPTIONS"} or case.slug.endswith("/") or "HTTP_HOST" in \
            case.headers
        assert inner.calls - before == (1 if delegated else 0), case.name
    assert inner.calls == 3


def test_cors_and_security_headers_of_the_lean_route(app: WebApp, surveys: dict[str, Any]) -> None:
    from cxlens.web.surveys import fastpath

    lean = fastpath.CollectApp(Counting())
    ok = call(lean, "POST", "/s/fp-live/collect", json.dumps({"key": surveys["live"].public_key,
                                                              "answers": {"nps": 7}}), HTTP_ORIGIN=ORIGIN)
    assert ok.code == 201 and json.loads(ok.body)["status"] == "accepted"
    assert ok.headers["access-control-allow-origin"] == ORIGIN and ok.headers["vary"] == "Origin"
    assert ok.headers["content-type"] == "application/json"
    assert int(ok.headers["content-length"]) == len(ok.body)
    assert (ok.headers["x-frame-options"], ok.headers["x-content-type-options"]) == ("DENY", "nosniff")
    assert "set-cookie" not in ok.headers
    refused = call(lean, "POST", "/s/fp-live/collect", b"{}", HTTP_ORIGIN="https://evil.example.com")
    assert refused.code == 403 and "access-control-allow-origin" not in refused.headers
    assert json.loads(refused.body)["error"]["code"] == "origin_not_allowed"


def test_rate_limits_are_the_same(app: WebApp, surveys: dict[str, Any]) -> None:
    from django.test import override_settings

    from cxlens.web.surveys import fastpath

    django, lean = Counting(), fastpath.CollectApp(Counting())
    body = json.dumps({"key": surveys["other"].public_key, "answers": {"nps": 5}})
    with override_settings(CXLENS_SURVEY_LIMITS="address=2,key=0,token=0"):
        for side, address in ((django, "10.63.0.1"), (lean, "10.63.0.2")):
            codes = [call(side, "POST", "/s/fp-other/collect", body, address=address, HTTP_ORIGIN=ORIGIN).code
                     for _ in range(2)]
            assert codes == [201, 201]
        expected = call(django, "POST", "/s/fp-other/collect", body, address="10.63.0.1", HTTP_ORIGIN=ORIGIN)
        got = call(lean, "POST", "/s/fp-other/collect", body, address="10.63.0.2", HTTP_ORIGIN=ORIGIN)
    assert (expected.code, got.code) == (429, 429)
    # Retry-After counts the seconds to the end of the minute: the two may straddle a second.
    assert abs(int(got.headers.pop("retry-after")) - int(expected.headers.pop("retry-after"))) <= 1
    assert got.headers == expected.headers and got.body == expected.body
    assert json.loads(got.body)["error"]["code"] == "rate_limited"


def test_answers_through_the_lean_route_reach_the_warehouse(app: WebApp, surveys: dict[str, Any]) -> None:
    from cxlens.web.surveys import fastpath, service

    lean = fastpath.CollectApp(Counting())
    slug = "fp-flush"
    survey = _live(app, slug)
    ids = [secrets.token_hex(16) for _ in range(3)]
    for n, rid in enumerate(ids):
        r = call(lean, "POST", f"/s/{slug}/collect", json.dumps({"key": survey.public_key, "id": rid,
                                                                 "answers": {"nps": 4 * n}, "customer_id": f"FP{n}"}),
                 HTTP_ORIGIN=ORIGIN)
        assert r.code == 201
    assert survey.responses.filter(completed_at__isnull=False).count() == 3  # durable before the reply
    service.flush(app.projects["main"], datetime.now(UTC))
    assert [(r["response_id"], r["nps"], r["customer_id"]) for r in _rows(app, slug)] == sorted(
        (f"{slug}-{rid}", 4 * n, f"FP{n}") for n, rid in enumerate(ids))


def test_other_paths_go_to_django(app: WebApp) -> None:
    from cxlens.web.surveys import fastpath

    inner = Counting()
    lean = fastpath.CollectApp(inner)
    assert call(lean, "GET", "/healthz").code == 200
    assert call(lean, "GET", "/s/widget.js").code == 200
    assert call(lean, "POST", "/s/fp-live/collectx", b"{}").code == 404
    assert inner.calls == 3


def test_switch(app: WebApp) -> None:
    from cxlens.errors import CxlensInputError
    from cxlens.web.surveys import fastpath

    inner = Counting()
    assert isinstance(fastpath.wrap(inner, env={}), fastpath.CollectApp)
    assert isinstance(fastpath.wrap(inner, env={fastpath.ENV: "on"}), fastpath.CollectApp)
    assert fastpath.wrap(inner, env={fastpath.ENV: "off"}) is inner
    assert fastpath.wrap(inner, env={fastpath.ENV: "0"}) is inner
    with pytest.raises(CxlensInputError, match="CXLENS_SURVEY_FASTPATH must be on or off. Got 'maybe'"):
        fastpath.wrap(inner, env={fastpath.ENV: "maybe"})


def test_survey_cache_reads_once_and_forgets_on_save(app: WebApp, surveys: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cxlens.web.surveys import widget

    cache = widget.SurveyCache(ttl=60)
    with CaptureQueriesContext(connection) as first:
        assert cache.get("fp-cache") is None  # unknown: remembered too
    with CaptureQueriesContext(connection) as again:
        assert cache.get("fp-cache") is None and cache.get("fp-cache") is None
    assert len(first) == 1 and len(again) == 0
    survey, version = cache.get("fp-live")
    assert survey.slug == "fp-live" and version.survey_id == survey.pk

    stale = widget.SurveyCache(ttl=0)
    assert stale.get("fp-live") is not None
    stale._loading.add("fp-live")  # as while another thread reads it: the entry it has is used
    with CaptureQueriesContext(connection) as meanwhile:
        assert stale.get("fp-live")[0].slug == "fp-live"
    assert len(meanwhile) == 0
    stale._loading.clear()
    with CaptureQueriesContext(connection) as reread:
        stale.get("fp-live")
    assert len(reread) == 2

    # Saving a survey (here: creating one) empties the endpoint's cache at once.
    widget.SURVEYS.get("fp-cache")
    assert widget.SURVEYS.get("fp-cache") is None
    _live(app, "fp-cache")
    assert widget.SURVEYS.get("fp-cache")[0].slug == "fp-cache"


def test_small_cache_starts_again_when_full(app: WebApp, surveys: dict[str, Any]) -> None:
    from cxlens.web.surveys import widget

    cache = widget.SurveyCache(ttl=60, size=3)
    for n in range(5):
        assert cache.get(f"fp-none-{n}") is None
    assert len(cache._items) <= 3
    assert cache.get("fp-live") is not None


def test_group_commit_sorts_out_retries_and_conflicts(app: WebApp, surveys: dict[str, Any]) -> None:
    from django.utils import timezone

    from cxlens.web.surveys import writer
    from cxlens.web.surveys.models import Response

    live, other = surveys["live"], surveys["other"]
    now = timezone.now()

    def item(survey: Any, public_id: str) -> Any:
        return writer._Item(Response(survey=survey, version=survey.latest(), public_id=public_id, answers={"nps": 5},
                                     page=1, language="en", started_at=now, updated_at=now, completed_at=now))

    a, b, c, d = (secrets.token_hex(16) for _ in range(4))
    writer.write([item(live, c), item(other, d)])
    batch = [item(live, a), item(live, b), item(live, a), item(live, c), item(live, d)]
    writer.write(batch)
    assert [i.outcome for i in batch] == ["new", "new", "duplicate", "duplicate", "conflict"]
    assert Response.objects.filter(public_id__in=[a, b]).count() == 2
    assert dict(Response.objects.filter(public_id__in=[c, d]).values_list("public_id", "survey_id")) == {
        c: live.pk, d: other.pk}
    fresh = [item(live, secrets.token_hex(16)) for _ in range(3)]
    writer.write(fresh)  # no retry among them: inserted at once
    assert [i.outcome for i in fresh] == ["new"] * 3 and all(i.response.pk for i in fresh)
    # Through the writer thread, as requests use it: a retry answers "duplicate".
    assert writer.WRITER.store(item(live, b).response) == "duplicate"
    assert writer.WRITER.store(item(live, secrets.token_hex(16)).response) == "new"

    # An answer the database refuses one by one (another process stored it meanwhile): told apart by
    # who owns the id; refused for another reason (no such id stored), it is an error, never "stored".
    from django.db import IntegrityError

    refused = IntegrityError("refused")
    assert writer._refused(item(live, c), refused) == "duplicate"
    assert writer._refused(item(live, d), refused) == "conflict"
    lost = item(live, secrets.token_hex(16))
    assert writer._refused(lost, refused) == "" and lost.error is refused


def test_an_unexpected_error_answers_like_django(app: WebApp, surveys: dict[str, Any]) -> None:
    from cxlens.web.surveys import fastpath

    django, lean = Counting(), fastpath.CollectApp(Counting())
    # 'hidden' must be an object; a text here is not caught by the validation today.
    body = json.dumps({"key": surveys["live"].public_key, "answers": {"nps": 9}, "hidden": "abc"})
    expected = call(django, "POST", "/s/fp-live/collect", body, HTTP_ORIGIN=ORIGIN)
    got = call(lean, "POST", "/s/fp-live/collect", body, HTTP_ORIGIN=ORIGIN)
    assert expected.code >= 400
    assert (got.status, got.headers, got.body) == (expected.status, expected.headers, expected.body)
