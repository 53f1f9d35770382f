"""The embeddable widget and collection at volume: the public collect endpoint (CORS, key,
validation, honeypot, rate limits), batched writes to the warehouse by the surveys-flush job, and
abuse cases on the hosted pages; then, in a real Chromium, a page of another origin embedding the
widget from a real ``cxlens serve``."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from html import unescape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .browser import chromium, needs_chromium
from .conftest import PASSWORD, Served, WebApp, free_port, require_web

require_web()

ORIGIN = "https://shop.example.com"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def _live(app: WebApp, slug: str, template: str = "relationship_nps", origins: str = ORIGIN) -> Any:
    from cxlens.web.surveys.models import Survey

    c = app.client("ana")
    made = c.post("/p/main/surveys/", {"template": template, "title": f"Widget {slug}", "slug": slug})
    assert made.status_code == 302
    hidden = "customer_id, ticket_id" if template == "post_ticket_csat" else "customer_id"
    r = c.post(f"/p/main/surveys/{slug}/", {"action": "settings", "title": f"Widget {slug}", "hidden_fields": hidden,
                                           "allowed_origins": origins})
    assert r.status_code == 302, r.content.decode()[:500]
    assert c.post(f"/p/main/surveys/{slug}/", {"action": "publish"}).status_code == 302
    return Survey.objects.get(slug=slug)


def _post(app: WebApp, slug: str, body: Any, origin: str | None = ORIGIN, address: str = "127.0.0.1") -> Any:
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    return app.client(REMOTE_ADDR=address).post(f"/s/{slug}/collect", json.dumps(body),
                                                content_type="application/json", **extra)


def _flush(app: WebApp) -> Any:
    from cxlens.web.surveys import service

    return service.flush(app.projects["main"], datetime.now(UTC))


def _rows(app: WebApp, slug: str) -> list[dict[str, Any]]:
    from cxlens.web.projects import POOL

    with POOL.use(app.projects["main"]) as ws:
        t = ws.table("responses")
        return t.filter(t.survey_id == slug).order_by("response_id").execute().to_dict("records")


def _error(resp: Any) -> dict[str, Any]:
    body = json.loads(resp.content)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field", "details"}
    return body["error"]


# -------------------------------------------------------------------------------- the endpoint


def test_widget_script_is_served(app: WebApp) -> None:
    r = app.client().get("/s/widget.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/javascript")
    body = r.content.decode()
    assert "/collect" in body and "data-survey" in body and "aria-pressed" in body
    assert "http" not in body.split("*/", 1)[1].replace("https://cx.example.com", "")  # no CDN, nothing fetched


def test_cors_preflight_and_origins(app: WebApp) -> None:
    s = _live(app, "w-cors")
    c = app.client()
    ok = c.options("/s/w-cors/collect", HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                   HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == ORIGIN and "*" not in ok["Access-Control-Allow-Origin"]
    assert "POST" in ok["Access-Control-Allow-Methods"] and ok["Access-Control-Allow-Headers"] == "Content-Type"
    assert "Origin" in ok["Vary"]
    for other in ("https://evil.example.com", "https://shop.example.com.evil.com", "http://shop.example.com",
                  "null"):
        refused = c.options("/s/w-cors/collect", HTTP_ORIGIN=other, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
        assert refused.status_code == 403 and not refused.has_header("Access-Control-Allow-Origin"), other
        assert _error(refused)["code"] == "origin_not_allowed"
        post = _post(app, "w-cors", {"key": s.public_key, "answers": {"nps": 9}}, origin=other)
        assert post.status_code == 403 and not post.has_header("Access-Control-Allow-Origin")
    assert s.responses.count() == 0
    got = c.get(f"/s/w-cors/collect?key={s.public_key}&lang=de-CH,en", HTTP_ORIGIN=ORIGIN)
    assert got.status_code == 200 and got["Access-Control-Allow-Origin"] == ORIGIN
    prompt = json.loads(got.content)
    assert prompt["question"] == {"id": "nps", "type": "nps", "min": 0, "max": 10, "low": "Not at all likely",
                                  "high": "Extremely likely",
                                  "text": "How likely are you to recommend us to a friend or colleague?"}
    assert prompt["comment"]["id"] == "reason" and prompt["language"] == "en"
    # After each score, the open question the survey asks then: "what went wrong" to detractors.
    went_wrong = {"id": "went_wrong", "text": "We are sorry to hear that. What went wrong?"}
    reason = {"id": "reason", "text": "What is the main reason for your score?"}
    assert prompt["comments"] == {**{str(n): went_wrong for n in range(7)}, **{str(n): reason for n in range(7, 11)}}


def test_collect_stores_then_flush_writes_in_one_batch(app: WebApp) -> None:
    from cxlens.web import jobs
    from cxlens.web.surveys.models import Response

    s = _live(app, "w-batch")
    ids = [f"{n:032x}" for n in range(1, 6)]
    for n, rid in enumerate(ids):
        r = _post(app, "w-batch", {"key": s.public_key, "id": rid, "answers": {"nps": n * 2, "reason": f"r{n}"},
                                   "customer_id": f"WB{n}", "language": "de-AT"})
        assert r.status_code == 201, r.content
        assert r["Access-Control-Allow-Origin"] == ORIGIN
        assert json.loads(r.content) == {"response_id": f"w-batch-{rid}", "status": "accepted"}
    stored = Response.objects.filter(survey=s)
    assert stored.count() == 5 and all(x.completed_at and x.import_id is None for x in stored)
    assert _rows(app, "w-batch") == []  # durable in the app database; the warehouse comes next

    [outcome] = jobs.run_all(app.projects["main"], datetime.now(UTC), names=("surveys-flush",))
    assert outcome.ok and outcome.result["responses"] >= 5 and len(outcome.result["imports"]) == 1
    rows = _rows(app, "w-batch")
    assert [(r["response_id"], r["nps"], r["comment"], r["customer_id"], r["language"]) for r in rows] == [
        (f"w-batch-{rid}", n * 2, f"r{n}", f"WB{n}", "de-AT") for n, rid in enumerate(ids)]
    assert len({x.import_id for x in Response.objects.filter(survey=s)}) == 1  # one import for the batch
    assert _flush(app).responses == 0

    # Sending the same id again (a retry) stores nothing new.
    again = _post(app, "w-batch", {"key": s.public_key, "id": ids[0], "answers": {"nps": 0}})
    assert again.status_code == 200 and json.loads(again.content)["status"] == "duplicate"
    assert _flush(app).responses == 0 and len(_rows(app, "w-batch")) == 5


def test_crash_between_import_and_marking_adds_nothing(app: WebApp) -> None:
    from cxlens.web.surveys.models import Response

    s = _live(app, "w-crash")
    for _ in range(3):
        assert _post(app, "w-crash", {"key": s.public_key, "answers": {"nps": 10}}).status_code == 201
    first = _flush(app)
    assert first.responses >= 3 and first.accepted >= 3
    # As if the process stopped after the import, before the responses were marked.
    Response.objects.filter(survey=s).update(import_id=None)
    second = _flush(app)
    assert (second.responses, second.accepted, second.duplicates, second.rejected) == (3, 0, 3, 0)
    assert len(_rows(app, "w-crash")) == 3
    assert not Response.objects.filter(survey=s, import_id__isnull=True).exists()


def test_key_state_and_validation(app: WebApp) -> None:
    from cxlens.web.surveys.models import Survey

    s = _live(app, "w-valid")
    key = s.public_key
    assert _error(_post(app, "w-valid", {"key": key + "x", "answers": {"nps": 9}}))["code"] == "invalid_key"
    assert _post(app, "w-valid", {"answers": {"nps": 9}}).status_code == 403
    other = _live(app, "w-valid-other")
    forged = _post(app, "w-valid", {"key": other.public_key, "answers": {"nps": 9}})  # another survey's key
    assert forged.status_code == 403 and forged["Access-Control-Allow-Origin"] == ORIGIN
    assert _post(app, "no-such-survey", {"key": key, "answers": {"nps": 9}}).status_code == 404

    cases = [({"nps": 11}, "answers.nps", "from 0 to 10"), ({"nps": "nine"}, "answers.nps", "from 0 to 10"),
             ({"nps": True}, "answers.nps", "must be a number"), ({"nope": 1}, "answers.nope", "no question 'nope'"),
             ({"nps": 9, "reason": "x" * 2001}, "answers.reason", "under 2000 characters")]
    for answers, field, message in cases:
        r = _post(app, "w-valid", {"key": key, "answers": answers})
        err = _error(r)
        assert (r.status_code, err["code"], err["field"]) == (400, "invalid_answer", field), answers
        assert message in err["message"]
    assert _error(_post(app, "w-valid", {"key": key, "answers": {}}))["field"] is None
    not_an_object = _post(app, "w-valid", {"key": key, "answers": {"nps": 9}, "hidden": "abc"})
    assert not_an_object.status_code == 400 and "'hidden' must be an object" in _error(not_an_object)["message"]
    assert _post(app, "w-valid", {"key": key, "answers": {"nps": 9}, "id": "not-hex"}).status_code == 400
    bad_json = app.client().post("/s/w-valid/collect", "{", content_type="application/json", HTTP_ORIGIN=ORIGIN)
    assert bad_json.status_code == 400 and _error(bad_json)["field"] == "body"
    huge = _post(app, "w-valid", {"key": key, "answers": {"nps": 9}, "pad": "x" * 20_000})
    assert huge.status_code == 413
    # Exactly 2,000 characters is fine; a condition that does not hold drops its answer.
    ok = _post(app, "w-valid", {"key": key, "answers": {"nps": 9, "went_wrong": "hidden", "reason": "y" * 2000}})
    assert ok.status_code == 201
    assert Survey.objects.get(slug="w-valid").responses.get().answers == {"nps": 9, "reason": "y" * 2000}

    app.client("ana").post("/p/main/surveys/w-valid/", {"action": "close"})
    closed = _post(app, "w-valid", {"key": key, "answers": {"nps": 9}})
    assert closed.status_code == 410 and _error(closed)["code"] == "survey_closed"
    draft = app.client("ana")
    draft.post("/p/main/surveys/", {"template": "relationship_nps", "title": "d", "slug": "w-draft"})
    draft_key = Survey.objects.get(slug="w-draft").public_key
    assert _post(app, "w-draft", {"key": draft_key, "answers": {"nps": 9}}, origin=None).status_code == 410


@pytest.mark.parametrize(("template", "qid", "low", "high", "words", "column", "comment"), [
    ("post_ticket_csat", "csat", 1, 5, ("Very dissatisfied", "Very satisfied"), "csat", None),
    ("return_ces", "ces", 1, 7, ("Very difficult", "Very easy"), "ces", "comment"),
    ("onboarding_checkin", "rating", 1, 5, ("Poor", "Excellent"), None, None),
])
def test_the_widget_asks_any_scale_question(app: WebApp, template: str, qid: str, low: int, high: int,
                                            words: tuple[str, str], column: str | None, comment: str | None) -> None:
    slug = f"w-scale-{qid}"
    s = _live(app, slug, template=template)
    asked = app.client().get(f"/s/{slug}/collect?key={s.public_key}&lang=de,en", HTTP_ORIGIN=ORIGIN)
    assert asked.status_code == 200
    prompt = json.loads(asked.content)
    assert prompt["question"]["id"] == qid and (prompt["question"]["min"], prompt["question"]["max"]) == (low, high)
    assert prompt["language"] == "en" and (prompt["question"]["low"], prompt["question"]["high"]) == words
    # The comment box: the template's first open question without a condition, if any.
    assert (prompt["comment"] or {}).get("id") == comment
    followups = {"csat": {**dict.fromkeys(("1", "2", "3"), "improve"), "4": None, "5": None},  # csat <= 3
                 "ces": {str(n): "comment" for n in range(1, 8)},  # its conditional question is a choice
                 "rating": {str(n): None for n in range(1, 6)}}  # its conditional text looks at another question
    assert {k: v and v["id"] for k, v in prompt["comments"].items()} == followups[qid]
    assert _post(app, slug, {"key": s.public_key, "answers": {qid: high + 1}}).status_code == 400
    assert _post(app, slug, {"key": s.public_key, "answers": {qid: low - 1}}).status_code == 400
    answers = {qid: high, **({comment: "Fine"} if comment else {})}
    ok = _post(app, slug, {"key": s.public_key, "answers": answers, "customer_id": "SC-1"})
    assert ok.status_code == 201, ok.content
    _flush(app)
    [row] = _rows(app, slug)
    assert row["comment"] == ("Fine" if comment else None) and row["customer_id"] == "SC-1"
    assert json.loads(row["answers"])["answers"][qid] == high
    if column:
        assert row[column] == high  # the metric's own column: counted by cxlens metrics csat|ces


def test_a_survey_without_a_scale_question_has_no_widget(app: WebApp) -> None:
    s = _live(app, "w-no-scale")
    from cxlens.web.surveys import service

    service.save_questions(s, [{"id": "say", "type": "text", "required": True, "text": "Anything to tell us?"}])
    r = app.client().get(f"/s/w-no-scale/collect?key={s.public_key}", HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 409 and _error(r)["code"] == "no_widget_question"
    assert "scale question (NPS, CSAT, CES or rating)" in _error(r)["message"]


def test_new_key_and_origins_in_the_builder(app: WebApp) -> None:
    s = _live(app, "w-builder")
    c = app.client("ana")
    page = unescape(c.get("/p/main/surveys/w-builder/").content.decode())
    assert f'data-key="{s.public_key}"' in page and "/s/widget.js" in page and ORIGIN in page
    bad = c.post("/p/main/surveys/w-builder/", {"action": "settings", "title": "t", "allowed_origins": "*"})
    assert bad.status_code == 400 and "Got &#x27;*&#x27; instead" in bad.content.decode()
    path = c.post("/p/main/surveys/w-builder/", {"action": "settings", "title": "t",
                                                 "allowed_origins": "https://a.example.com/shop"})
    assert path.status_code == 400 and "no path" in path.content.decode()
    assert app.client("vic").post("/p/main/surveys/w-builder/", {"action": "new_key"}).status_code == 403
    assert c.post("/p/main/surveys/w-builder/", {"action": "settings", "title": "t",
                                                 "allowed_origins": "https://A.example.com/\nhttps://b.example.com:8443"}
                  ).status_code == 302
    s.refresh_from_db()
    assert s.allowed_origins == ["https://a.example.com", "https://b.example.com:8443"]
    old = s.public_key
    assert c.post("/p/main/surveys/w-builder/", {"action": "new_key"}).status_code == 302
    s.refresh_from_db()
    assert s.public_key != old and s.public_key.startswith("pk_")
    stale = _post(app, "w-builder", {"key": old, "answers": {"nps": 9}}, origin="https://a.example.com")
    assert stale.status_code == 403
    assert _post(app, "w-builder", {"key": s.public_key, "answers": {"nps": 9}},
                 origin="https://b.example.com:8443").status_code == 201


def test_honeypot_and_no_origin(app: WebApp) -> None:
    s = _live(app, "w-honey")
    trapped = _post(app, "w-honey", {"key": s.public_key, "answers": {"nps": 10}, "website": "http://spam"})
    assert trapped.status_code == 201 and json.loads(trapped.content)["status"] == "accepted"
    assert s.responses.count() == 0
    server_to_server = _post(app, "w-honey", {"key": s.public_key, "answers": {"nps": 10}}, origin=None)
    assert server_to_server.status_code == 201 and not server_to_server.has_header("Access-Control-Allow-Origin")
    assert s.responses.count() == 1


def test_rate_limits_per_address_and_key(app: WebApp) -> None:
    from django.test import override_settings

    s = _live(app, "w-limits")
    body = {"key": s.public_key, "answers": {"nps": 8}}
    with override_settings(CXLENS_SURVEY_LIMITS="address=3,key=5,token=0"):
        assert [_post(app, "w-limits", body, address="10.1.0.1").status_code for _ in range(4)] == [201] * 3 + [429]
        limited = _post(app, "w-limits", body, address="10.1.0.1")
        assert _error(limited)["code"] == "rate_limited" and 1 <= int(limited["Retry-After"]) <= 61
        assert limited["Access-Control-Allow-Origin"] == ORIGIN  # the page can read why
        # Another address may go on until the key's own limit (5 a minute) is used up.
        assert [_post(app, "w-limits", body, address="10.1.0.2").status_code for _ in range(3)] == [201, 201, 429]
    assert s.responses.count() == 5


# -------------------------------------------------------------------------- the hosted pages


def test_hosted_pages_honeypot_limits_and_async_warehouse(app: WebApp) -> None:
    from django.test import override_settings

    from cxlens.web.surveys.models import Response

    s = _live(app, "w-hosted", template="post_ticket_csat")
    bot = app.client(REMOTE_ADDR="10.2.0.1")
    form = bot.get("/s/w-hosted/").content.decode()
    assert 'name="website"' in form and 'tabindex="-1"' in form and 'aria-hidden="true"' in form
    trapped = bot.post("/s/w-hosted/", {"a_csat": "5", "a_resolved": "yes", "website": "buy now"})
    assert trapped.status_code == 200 and "Thank you!" in trapped.content.decode()
    assert not Response.objects.filter(survey=s).exists()

    person = app.client(REMOTE_ADDR="10.2.0.2")
    done = person.post("/s/w-hosted/", {"a_csat": "2", "a_resolved": "no"})
    with override_settings(CXLENS_SURVEY_LIMITS="address=0,key=0,token=2"):
        page = done["Location"]
        codes = [person.post(page, {"page": "1", "a_improve": "x" * 2001}).status_code for _ in range(3)]
        assert codes == [400, 400, 429]  # per response: two tries a minute here
    with override_settings(CXLENS_SURVEY_LIMITS="address=1,key=0,token=0"):
        crowd = app.client(REMOTE_ADDR="10.2.0.3")
        assert crowd.post("/s/w-hosted/", {"a_csat": "4", "a_resolved": "yes"}).status_code == 302
        again = app.client(REMOTE_ADDR="10.2.0.3").post("/s/w-hosted/", {"a_csat": "4", "a_resolved": "yes"})
        assert again.status_code == 429 and again.has_header("Retry-After")
    finished = person.post(page, {"page": "1", "a_improve": "<script>alert('x')</script> faster"})
    assert finished["Location"].endswith("/thanks/")
    assert "Thank you!" in person.get(finished["Location"]).content.decode()  # before any warehouse write
    assert _rows(app, "w-hosted") == []
    _flush(app)
    assert sorted(r["csat"] for r in _rows(app, "w-hosted")) == [2, 4]
    results = app.client("vic").get("/p/main/surveys/w-hosted/results/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; faster" in results and "<script>alert" not in results


def test_script_answers_are_escaped_in_results_and_builder(app: WebApp) -> None:
    s = _live(app, "w-escape")
    evil = '<script>alert("w")</script><img src=x onerror=alert(1)>'
    assert _post(app, "w-escape", {"key": s.public_key, "answers": {"nps": 1, "reason": evil},
                                   "customer_id": evil}).status_code == 201
    _flush(app)
    results = app.client("ana").get("/p/main/surveys/w-escape/results/").content.decode()
    assert "&lt;script&gt;alert(&quot;w&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in results
    assert "<img src=x" not in results and '<script>alert("w")' not in results
    c = app.client("ana")
    saved = c.post("/p/main/surveys/w-escape/", {"action": "translation", "lang": "fr", "t_nps_text": evil,
                                                 "t_title": evil})
    assert saved.status_code == 302
    builder = c.get("/p/main/surveys/w-escape/").content.decode()
    assert "<img src=x" not in builder and '<script>alert("w")' not in builder
    assert "&lt;script&gt;alert(&quot;w&quot;)" in builder
    page = app.client().get("/s/w-escape/?lang=fr").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_survey_edited_while_widget_answers_arrive(app: WebApp) -> None:
    from cxlens.web.surveys.models import Response

    s = _live(app, "w-edit")
    assert _post(app, "w-edit", {"key": s.public_key, "answers": {"nps": 6}}).status_code == 201
    c = app.client("ana")
    c.post("/p/main/surveys/w-edit/", {"action": "add_question", "id": "channel", "type": "single",
                                       "text": "Where did you buy?", "options": "web\nstore"})
    assert _post(app, "w-edit", {"key": s.public_key, "answers": {"nps": 7, "channel": "store"}}).status_code == 201
    versions = sorted(Response.objects.filter(survey=s).values_list("version__number", flat=True))
    assert versions == [1, 2]
    _flush(app)
    assert sorted(r["survey_version"] for r in _rows(app, "w-edit")) == ["1", "2"]


def test_concurrent_answers_are_all_kept(app: WebApp) -> None:
    """Many requests at once share commits; every acknowledged answer is stored exactly once."""
    s = _live(app, "w-many")
    acked: list[str] = []
    lock = threading.Lock()

    def send(worker: int) -> None:
        for n in range(10):
            rid = f"c0ffee{worker:010x}{n:016x}"
            r = _post(app, "w-many", {"key": s.public_key, "id": rid, "answers": {"nps": (worker + n) % 11}},
                      address=f"10.3.0.{worker}")
            if r.status_code == 201:
                with lock:
                    acked.append(f"w-many-{rid}")


    threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(acked) == 80
    _flush(app)
    assert sorted(r["response_id"] for r in _rows(app, "w-many")) == sorted(acked)


# ------------------------------------------------------------------------- in a real browser


HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><main><h1>Our shop</h1><p>Welcome back.</p></main>
<script src="{server}/s/widget.js" data-survey="{slug}" data-key="{key}" data-customer-id="WB-C1"></script>
</body></html>
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A tiny web site on another loopback port (a different origin from the cxlens server)."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, port
    finally:
        server.shutdown()
        server.server_close()


def login(page: Any, served: Served) -> None:
    page.goto(served.url + "/login/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/p/main/", timeout=60_000)


def make_widget_survey(browser: Any, served: Served, slug: str, origins: str) -> str:
    """Create and publish a relationship-NPS survey in the builder, allow ``origins``; its key."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, served)
    page.goto(served.url + "/p/main/surveys/")
    page.check("input[name=template][value=relationship_nps]")
    page.fill("#title", "Widget")
    page.fill("#slug", slug)
    page.click("#create-survey button[type=submit]")
    page.wait_for_url(f"{served.url}/p/main/surveys/{slug}/")
    page.fill("#s-origins", origins)
    page.click("#survey-settings button[type=submit]")
    page.wait_for_selector("#publish")
    page.click("#publish")
    page.wait_for_selector("#public-url")
    snippet = page.inner_text("#widget-snippet")
    context.close()
    return re.search(r'data-key="([^"]+)"', snippet).group(1)


def _nps_rows(served: Served, slug: str, n: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while True:
        status, body = served.get(f"/api/projects/main/metrics/nps?where=survey_id%3D{slug}",
                                  headers={"Authorization": f"Bearer {served.key}"})
        assert status == 200, body
        rows = json.loads(body)["rows"]
        if (rows and rows[0]["n"] >= n) or time.monotonic() > deadline:
            return rows
        time.sleep(0.25)


@needs_chromium
def test_widget_on_another_origin_in_chromium(browser: Any, served: Served, other_site: tuple[Path, int]) -> None:
    folder, port = other_site
    slug = "browser-widget"
    allowed = f"http://127.0.0.1:{port}"
    key = make_widget_survey(browser, served, slug, allowed)
    (folder / "index.html").write_text(HOST_PAGE.format(server=served.url, slug=slug, key=key), encoding="utf-8")

    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.goto(f"{allowed}/index.html")
    box = page.wait_for_selector(f"#cxw-{slug}", timeout=30_000)
    assert box.get_attribute("role") == "dialog"
    assert page.inner_text(f"#cxw-q-{slug}") == "How likely are you to recommend us to a friend or colleague?"
    # No open question before a score; after a low one the survey's "what went wrong".
    assert page.is_hidden(f"#cxw-c-{slug}")
    page.click(f"#cxw-{slug} [data-score='2']")
    assert page.inner_text(f"#cxw-cb-{slug} label") == "We are sorry to hear that. What went wrong? (optional)"
    # Keyboard only: focus the first score, move with the arrow keys, send with Enter.
    page.focus(f"#cxw-{slug} [data-score='0']")
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    assert page.get_attribute(f"#cxw-{slug} [data-score='9']", "aria-pressed") == "true"
    assert page.evaluate("document.activeElement.dataset.score") == "9"
    assert page.inner_text(f"#cxw-cb-{slug} label") == "What is the main reason for your score? (optional)"
    page.fill(f"#cxw-c-{slug}", "Quick delivery")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "survey-widget.png"))
    page.focus(f"#cxw-{slug} .cxw-send")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#cxw-{slug}[data-state=sent]", timeout=30_000)
    assert page.inner_text(f"#cxw-{slug} [role=status]") == "Thank you for your feedback!"
    context.close()

    [row] = _nps_rows(served, slug, 1)  # the server's flush job writes it within about a second
    assert (row["n"], row["value"]) == (1, 100.0)

    # The same page from an origin the survey does not allow: no widget, and the browser blocks a post.
    refused = f"http://localhost:{port}"
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{refused}/index.html")
    page.wait_for_load_state("networkidle")
    assert page.locator(f"#cxw-{slug}").count() == 0
    outcome = page.evaluate("""async ([url, key]) => {
        try {
            await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                              body: JSON.stringify({key: key, answers: {nps: 0}})});
            return 'sent';
        } catch (e) { return 'blocked'; }
    }""", [f"{served.url}/s/{slug}/collect", key])
    assert outcome == "blocked"
    context.close()
    [row] = _nps_rows(served, slug, 1)
    assert row["n"] == 1


@needs_chromium
def test_widget_passes_an_accessibility_scan(browser: Any, served: Served, other_site: tuple[Path, int]) -> None:
    from .test_surveys_browser import AXE

    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE} is missing); install it with: npm install --no-save axe-core "
                    f"(in the repository folder), or point CXLENS_AXE_JS to axe.min.js")
    folder, port = other_site
    slug = "browser-widget-axe"
    allowed = f"http://127.0.0.1:{port}"
    key = make_widget_survey(browser, served, slug, allowed)
    (folder / "index.html").write_text(HOST_PAGE.format(server=served.url, slug=slug, key=key), encoding="utf-8")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{allowed}/index.html")
    page.wait_for_selector(f"#cxw-{slug}", timeout=30_000)
    for state in ("asked", "picked"):
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("""async (sel) => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21aa'];
            const r = await axe.run({include: [sel]}, {runOnly: {type: 'tag', values: tags}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}));
        }""", f"#cxw-{slug}")
        serious = [v for v in found if v["impact"] in {"serious", "critical"}]
        assert serious == [], f"{state}: {serious}"
        page.click(f"#cxw-{slug} [data-score='3']")
    # Closing works from the keyboard (Escape) as well as with the close button.
    page.focus(f"#cxw-{slug} [data-score='3']")
    page.keyboard.press("Escape")
    assert page.locator(f"#cxw-{slug}").count() == 0
    context.close()
