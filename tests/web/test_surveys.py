"""Surveys through Django's test client: builder roles, versions, hosted pages, personal links,
and responses reaching the warehouse and the metrics engine."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest

from .conftest import WebApp, require_web

require_web()


def _create(app: WebApp, slug: str, template: str = "relationship_nps", user: str = "ana", title: str = "") -> Any:
    c = app.client(user)
    r = c.post("/p/main/surveys/", {"template": template, "title": title or f"Survey {slug}", "slug": slug})
    assert r.status_code == 302, r.content.decode()[:500]
    assert r["Location"] == f"/p/main/surveys/{slug}/"
    return c


def _publish(c: Any, slug: str) -> None:
    r = c.post(f"/p/main/surveys/{slug}/", {"action": "publish"})
    assert r.status_code == 302


def flush(app: WebApp) -> Any:
    """What the surveys-flush job does every second in a running server."""
    from cxlens.web.surveys import service

    return service.flush(app.projects["main"], datetime.now(UTC))


def _warehouse_rows(app: WebApp, slug: str) -> list[dict[str, Any]]:
    from cxlens.web.projects import POOL

    flush(app)
    with POOL.use(app.projects["main"]) as ws:
        t = ws.table("responses")
        df = t.filter(t.survey_id == slug).execute()
    return df.to_dict("records")


def _nps(app: WebApp, slug: str) -> Any:
    from cxlens.web.projects import POOL

    flush(app)
    with POOL.use(app.projects["main"]) as ws:
        return ws.metric("nps", where={"survey_id": [slug]}).rows[0]


def _answer(c: Any, url: str, data: dict[str, Any]) -> Any:
    r = c.post(url, data)
    assert r.status_code == 302, r.content.decode()[:800]
    return r


# ------------------------------------------------------------------------------------ builder


def test_builder_roles(app: WebApp) -> None:
    viewer = app.client("vic")
    page = viewer.get("/p/main/surveys/")
    assert page.status_code == 200 and 'id="create-survey"' not in page.content.decode()
    denied = viewer.post("/p/main/surveys/", {"template": "relationship_nps", "title": "x", "slug": "by-viewer"})
    assert denied.status_code == 403 and "analyst" in denied.content.decode()

    admin = _create(app, "roles-admin", user="ada")
    assert 'id="create-survey"' in admin.get("/p/main/surveys/").content.decode()
    _create(app, "roles-analyst", user="ana")
    detail = viewer.get("/p/main/surveys/roles-analyst/")
    assert detail.status_code == 200
    assert 'id="publish"' not in detail.content.decode() and 'name="action"' not in detail.content.decode()
    assert viewer.post("/p/main/surveys/roles-analyst/", {"action": "publish"}).status_code == 403
    assert viewer.get("/p/main/surveys/roles-analyst/preview/").status_code == 200
    assert viewer.get("/p/main/surveys/roles-analyst/results/").status_code == 200
    # Not logged in: to the login page; member of another project only: no such project.
    assert app.client().get("/p/main/surveys/")["Location"].startswith("/login/")
    assert app.client("oscar").get("/p/main/surveys/roles-analyst/").status_code == 404
    assert app.client("oscar").get("/p/other/surveys/roles-analyst/").status_code == 404


def test_create_rejects_bad_input(app: WebApp) -> None:
    c = app.client("ana")
    bad_slug = c.post("/p/main/surveys/", {"template": "relationship_nps", "title": "x", "slug": "Bad Slug!"})
    assert bad_slug.status_code == 400 and "'Bad Slug!'" in unescape(bad_slug.content.decode())
    bad_template = c.post("/p/main/surveys/", {"template": "nope", "title": "x", "slug": "nope-template"})
    assert bad_template.status_code == 400 and "'template' must be one of" in unescape(bad_template.content.decode())
    _create(app, "taken-slug")
    again = c.post("/p/main/surveys/", {"template": "relationship_nps", "title": "x", "slug": "taken-slug"})
    assert again.status_code == 400 and "exists already" in again.content.decode()


def test_edit_preview_and_versions(app: WebApp) -> None:
    from cxlens.web.surveys.models import Response, Survey

    c = _create(app, "versioned")
    survey = Survey.objects.get(slug="versioned")
    # Editing an unanswered draft rewrites version 1.
    r = c.post("/p/main/surveys/versioned/", {"action": "edit_question", "qid": "reason", "type": "text",
                                              "text": "Tell us why", "cond_question": ""})
    assert r.status_code == 302
    assert survey.versions.count() == 1 and survey.latest().question("reason")["text"] == "Tell us why"
    bad = c.post("/p/main/surveys/versioned/", {"action": "add_question", "id": "pick", "type": "single",
                                                "text": "Pick", "options": "only one"})
    assert bad.status_code == 400 and "2 to 30 different options" in bad.content.decode()
    c.post("/p/main/surveys/versioned/", {"action": "add_question", "id": "pick", "type": "single", "text": "Pick",
                                          "options": "red\nblue", "required": "on",
                                          "cond_question": "nps", "cond_op": ">=", "cond_value": "9"})
    q = survey.latest().question("pick")
    assert q == {"id": "pick", "type": "single", "text": "Pick", "required": True, "options": ["red", "blue"],
                 "show_if": {"question": "nps", "op": ">=", "value": 9}}
    preview = c.get("/p/main/surveys/versioned/preview/").content.decode()
    assert "Shown only when nps &gt;= 9" in preview and preview.count('aria-label="Page') == 2
    _publish(c, "versioned")

    # Someone starts on version 1; the survey is edited while they answer.
    respondent = app.client()
    started = _answer(respondent, "/s/versioned/", {"a_nps": "10"})
    c.post("/p/main/surveys/versioned/", {"action": "edit_question", "qid": "reason", "type": "text",
                                          "text": "What should we keep doing?"})
    survey.refresh_from_db()
    assert survey.versions.count() == 2
    page = respondent.get(started["Location"]).content.decode()
    assert "Tell us why" in page and "keep doing" not in page  # still version 1
    _answer(respondent, started["Location"], {"page": "1", "a_reason": "fast", "a_pick": "red"})
    done = Response.objects.get(survey=survey)
    assert done.version.number == 1 and done.answers == {"nps": 10, "reason": "fast", "pick": "red"}
    newcomer = app.client()
    nxt = _answer(newcomer, "/s/versioned/", {"a_nps": "9"})
    assert "keep doing" in newcomer.get(nxt["Location"]).content.decode()  # new respondents get version 2
    assert Response.objects.get(survey=survey, completed_at__isnull=True).version.number == 2
    [row] = _warehouse_rows(app, "versioned")
    assert row["survey_version"] == "1" and json.loads(row["answers"])["answers"]["reason"] == "fast"


# --------------------------------------------------------------------------------- hosted pages


def test_partial_then_complete_reaches_the_metrics_engine(app: WebApp) -> None:
    from cxlens.web.surveys.models import Response

    c = _create(app, "loyalty")
    settings = c.post("/p/main/surveys/loyalty/", {"action": "settings", "title": "Loyalty", "touchpoint": "account",
                                                   "hidden_fields": "customer_id, touchpoint"})
    assert settings.status_code == 302
    bad = c.post("/p/main/surveys/loyalty/", {"action": "settings", "title": "Loyalty", "hidden_fields": "email"})
    assert bad.status_code == 400 and "Got email instead" in bad.content.decode()
    _publish(c, "loyalty")
    detractor = app.client()
    first = detractor.get("/s/loyalty/?customer_id=C0001&touchpoint=checkout&nps=3")
    html = first.content.decode()
    assert first.status_code == 200
    assert re.search(r'<input type="radio" id="a_nps-3" name="a_nps" value="3" checked', html)  # one-click NPS
    assert '<legend class="sq-text">How likely' in html and "What went wrong" not in html
    nxt = _answer(detractor, "/s/loyalty/?customer_id=C0001&touchpoint=checkout&nps=3", {"a_nps": "3"})
    partial = Response.objects.get(survey__slug="loyalty")
    assert partial.completed_at is None and partial.answers == {"nps": 3}
    assert partial.hidden == {"customer_id": "C0001", "touchpoint": "checkout"}
    assert 'id="completed">0<' in c.get("/p/main/surveys/loyalty/results/").content.decode()
    assert detractor.get("/s/loyalty/")["Location"] == nxt["Location"]  # back later: continue where one left

    follow_up = detractor.get(nxt["Location"]).content.decode()
    assert "What went wrong?" in follow_up  # a detractor sees the follow-up
    done = _answer(detractor, nxt["Location"], {"page": "1", "a_went_wrong": "<script>alert(1)</script> late",
                                                "a_reason": ""})
    assert done["Location"].endswith("/thanks/")
    assert "Thank you" in detractor.get(done["Location"]).content.decode()
    [row] = _warehouse_rows(app, "loyalty")
    assert (row["customer_id"], row["touchpoint"], row["channel"], row["nps"], row["comment"]) == (
        "C0001", "checkout", "web", 3, "<script>alert(1)</script> late")
    assert row["response_id"] == f"loyalty-{partial.public_id}"
    one = _nps(app, "loyalty")
    assert (one.n, one.value) == (1, -100.0)

    promoter = app.client()
    nxt = _answer(promoter, "/s/loyalty/?lang=pt-BR", {"a_nps": "10"})
    page = promoter.get(nxt["Location"]).content.decode()
    assert "What went wrong?" not in page and "main reason" in page  # no follow-up for a promoter
    _answer(promoter, nxt["Location"], {"page": "1", "a_reason": "friendly"})
    assert sorted(r["language"] for r in _warehouse_rows(app, "loyalty")) == ["en", "pt-BR"]
    two = _nps(app, "loyalty")
    assert (two.n, two.value) == (2, 0.0)
    assert two.ci_low < 0.0 < two.ci_high

    results = c.get("/p/main/surveys/loyalty/results/").content.decode()
    assert 'id="completed">2<' in results and 'id="nps-value">0.0<' in results
    assert "&lt;script&gt;alert(1)&lt;/script&gt; late" in results and "<script>alert" not in results
    assert "friendly" in results
    nps_stats = results.split('id="stats-nps"')[1].split("</section>")[0]
    assert "2 answers · mean 6.5" in nps_stats
    for score, count, share in (("3", 1, "50.0"), ("10", 1, "50.0"), ("7", 0, "0.0")):
        assert f'<tr><td>{score}</td><td class="num">{count}</td><td class="num">{share}%</td></tr>' in nps_stats


def test_repeat_submissions_are_deduplicated(app: WebApp) -> None:
    c = _create(app, "dedup", template="post_ticket_csat")
    _publish(c, "dedup")
    r = app.client()
    nxt = _answer(r, "/s/dedup/", {"a_csat": "5", "a_resolved": "yes"})
    assert nxt["Location"].endswith("/thanks/")  # the follow-up is only for csat <= 3
    again = r.get("/s/dedup/")
    assert "already answered" in again.content.decode()
    resent = r.post(nxt["Location"].replace("thanks/", ""), {"page": "0", "a_csat": "1"})
    assert resent.status_code == 302 and resent["Location"] == nxt["Location"]
    [row] = _warehouse_rows(app, "dedup")
    assert row["csat"] == 5


def test_bad_answers_are_explained(app: WebApp) -> None:
    c = _create(app, "bad-answers", template="return_ces")
    _publish(c, "bad-answers")
    r = app.client()
    out_of_range = r.post("/s/bad-answers/", {"a_ces": "9", "a_unknown": "x"})
    html = out_of_range.content.decode()
    assert out_of_range.status_code == 400 and "Pick a whole number from 1 to 7" in html
    assert 'role="alert"' in html and 'aria-describedby="a_ces-ends a_ces-error"' in html
    missing = r.post("/s/bad-answers/", {})
    assert missing.status_code == 400 and "Please answer this question." in missing.content.decode()
    nxt = _answer(r, "/s/bad-answers/", {"a_ces": "2"})
    long = r.post(nxt["Location"], {"page": "1", "a_hardest": "Printing the label", "a_comment": "x" * 2001})
    assert long.status_code == 400 and "under 2000 characters" in long.content.decode()
    forged = r.post(nxt["Location"], {"page": "1", "a_hardest": "<b>not an option</b>"})
    assert forged.status_code == 400 and "&lt;b&gt;not an option&lt;/b&gt;" in forged.content.decode()


def test_survey_states_and_dates(app: WebApp) -> None:
    from cxlens.web.surveys.models import Survey

    c = _create(app, "states")
    assert app.client().get("/s/states/").status_code == 404  # a draft is not public
    assert app.client().get("/s/no-such-survey/").status_code == 404
    _publish(c, "states")
    assert app.client().get("/s/states/").status_code == 200
    s = Survey.objects.get(slug="states")
    s.ends_at = datetime.now(UTC) - timedelta(days=1)
    s.save()
    assert app.client().get("/s/states/").status_code == 410
    s.ends_at, s.starts_at = None, datetime.now(UTC) + timedelta(days=2)
    s.save()
    assert "opens on" in app.client().get("/s/states/").content.decode()
    s.starts_at = None
    s.save()
    c.post("/p/main/surveys/states/", {"action": "close"})
    closed = app.client().get("/s/states/")
    assert closed.status_code == 410 and "closed" in closed.content.decode()
    assert c.post("/p/main/surveys/states/", {"action": "publish"}).status_code == 400


def test_posts_need_the_csrf_token(app: WebApp) -> None:
    c = _create(app, "csrf-check")
    _publish(c, "csrf-check")
    strict = app.client(enforce_csrf_checks=True)
    assert strict.post("/s/csrf-check/", {"a_nps": "9"}).status_code == 403
    form = strict.get("/s/csrf-check/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert strict.post("/s/csrf-check/", {"a_nps": "9", "csrfmiddlewaretoken": token}).status_code == 302


def test_escaping_of_builder_text(app: WebApp) -> None:
    c = _create(app, "escaping", title='<img src=x onerror="alert(1)">')
    c.post("/p/main/surveys/escaping/", {"action": "edit_question", "qid": "nps", "type": "nps", "required": "on",
                                         "text": "<script>x()</script> recommend?"})
    _publish(c, "escaping")
    public = app.client().get("/s/escaping/").content.decode()
    assert "&lt;img src=x" in public and "<img src=x" not in public
    assert "&lt;script&gt;x()&lt;/script&gt; recommend?" in public and "<script>x()" not in public
    assert "<img src=x" not in c.get("/p/main/surveys/").content.decode()


# ------------------------------------------------------------------------------ personal links


def _link(c: Any, slug: str, **fields: str) -> str:
    r = c.post(f"/p/main/surveys/{slug}/", {"action": "make_link", **fields})
    assert r.status_code == 200, r.content.decode()[:500]
    url = unescape(re.search(r'<code id="new-link-url">([^<]+)</code>', r.content.decode()).group(1))
    return url.split("testserver", 1)[1]


def test_personal_links(app: WebApp) -> None:
    from cxlens.web.surveys import links

    c = _create(app, "personal")
    _publish(c, "personal")
    url = _link(c, "personal", customer_id="C0042", days="7")
    respondent = app.client()
    # The customer id comes from the signed token, not from what is added to the link.
    nxt = _answer(respondent, url + "&customer_id=C9999", {"a_nps": "9"})
    _answer(respondent, nxt["Location"], {"page": "1", "a_reason": "ok"})
    [row] = _warehouse_rows(app, "personal")
    assert row["customer_id"] == "C0042"

    reused = app.client().get(url)  # another browser, same link: one response per token
    assert reused.status_code == 200 and "already answered" in reused.content.decode()
    assert "already answered" in app.client().post(url, {"a_nps": "0"}).content.decode()
    assert len(_warehouse_rows(app, "personal")) == 1

    token = url.split("t=", 1)[1]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    bad = app.client().get(f"/s/personal/?t={tampered}")
    assert bad.status_code == 400 and "not valid" in bad.content.decode()
    forged = links.make_token("personal", {"customer_id": "C1"}, datetime.now(UTC) + timedelta(days=1))
    payload = forged.split(":")[0]
    assert app.client().get(f"/s/personal/?t={payload}:forgedsignature").status_code == 400

    expired = links.make_token("personal", {"customer_id": "C7"}, datetime.now(UTC) - timedelta(seconds=1))
    gone = app.client().get(f"/s/personal/?t={expired}")
    assert gone.status_code == 410 and "expired" in gone.content.decode()

    _create(app, "personal-two")
    _publish(c, "personal-two")
    other = _link(c, "personal-two", customer_id="C0042").split("t=", 1)[1]
    assert app.client().get(f"/s/personal/?t={other}").status_code == 400  # a link opens its own survey only

    bad_days = c.post("/p/main/surveys/personal/", {"action": "make_link", "customer_id": "C1", "days": "0"})
    assert bad_days.status_code == 400 and "1 to 365 days" in bad_days.content.decode()


def test_token_rules_directly() -> None:
    from cxlens.web.surveys import links

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    token = links.make_token("s1", {"customer_id": "C1", "order_id": ""}, now + timedelta(hours=1))
    link = links.read_token(token, "s1", now)
    assert link.hidden == {"customer_id": "C1"} and link.expires_at == now + timedelta(hours=1)
    assert links.make_token("s1", {}, now) != links.make_token("s1", {}, now)  # a fresh nonce each time
    with pytest.raises(links.LinkError) as exc:
        links.read_token(token, "s1", now + timedelta(hours=1))
    assert exc.value.reason == "expired"
    with pytest.raises(links.LinkError) as exc:
        links.read_token(token, "s2", now)
    assert exc.value.reason == "wrong_survey"
    with pytest.raises(links.LinkError) as exc:
        links.read_token(token.replace(":", ";", 1), "s1", now)
    assert exc.value.reason == "tampered"


def test_migrations_match_the_models(app: WebApp) -> None:
    from django.core.management import call_command

    call_command("makemigrations", "cxsurveys", check=True, dry_run=True, verbosity=0)  # exits 1 on drift
