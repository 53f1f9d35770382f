"""The journeys and text pages: the core's figures, empty states that name the command, redaction."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import cxlens

from .conftest import NOW, PASSWORD, WebApp, require_web

require_web()

SECRET_MAIL = "jane.doe.journeys@example.com"


@dataclass
class TextProjects:
    themed: Any  # a project with annotations, a theme model and a saved journey
    plain: Any  # a project with data but no text analysis
    root: Path


@pytest.fixture(scope="module")
def text_projects(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TextProjects]:
    from django.contrib.auth import get_user_model

    from cxlens.demo_loader import load_demo
    from cxlens.journey import journey_from_dict, save_journey
    from cxlens.text.theme_fit import FitOptions
    from cxlens.text.themes import fit_themes
    from cxlens.web.models import Membership
    from cxlens.web.projects import ensure_project

    root = tmp_path_factory.mktemp("textp") / "ws"
    with cxlens.init(root) as ws:
        load_demo(ws, customers=120, seed=3, now=NOW)
        ws.import_data("responses", pa.table({
            "response_id": ["PII-1"], "submitted_at": ["2026-11-20T10:00:00"], "customer_id": ["C0000001"],
            "nps": ["2"], "comment": [f"The outage again! Write to me at {SECRET_MAIL} about the refund."]}))
        ws.annotate_texts(now=NOW)
        fit_themes(ws, now=NOW, options=FitOptions(encoder="static", max_themes=8))
    save_journey(root, journey_from_dict({
        "name": "buyers", "description": "From first look to onboarding <b>bold</b>",
        "stages": [{"name": "Consideration", "window": "30d"}, {"name": "Purchase", "window": "14d"},
                   {"name": "Onboarding"}]}))
    plain_root = tmp_path_factory.mktemp("plainp") / "ws"
    with cxlens.init(plain_root) as ws:
        load_demo(ws, customers=40, seed=4, now=NOW)
    themed = ensure_project(root, "textp", "Text project")
    plain = ensure_project(plain_root, "plainp", "Plain project")
    tina = get_user_model().objects.create_user("tina-text", "tina@example.com", PASSWORD)
    for project in (themed, plain):
        Membership.objects.create(user=tina, project=project, role="viewer")
    app.users["tina-text"] = tina
    yield TextProjects(themed, plain, root)


def get(app: WebApp, user: str, url: str, status: int = 200) -> str:
    r = app.client(user).get(url)
    assert r.status_code == status, r.content[:2000]
    return r.content.decode()


def now_of_request() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------ journeys


def test_journeys_page_shows_map_funnel_and_pain_points_of_the_core(app: WebApp) -> None:
    from cxlens.web import pages
    from cxlens.web.projects import POOL

    page = get(app, "vic", "/p/main/journeys/?window=30d")
    with POOL.use(app.projects["main"]) as ws:
        data = pages.journeys_page(ws, None, "30d", now_of_request())
    assert data.journey == "default" and not data.defined
    assert 'id="no-journeys"' in page and "cxlens journey save" in page  # how to define one
    funnel_rows = re.findall(r'<tr><th scope="row">(stage:[^<]+)</th><td class="num">(\d+)</td>', page)
    assert funnel_rows == [(s.label, str(s.customers)) for s in data.funnel.groups[0].steps]
    assert len(funnel_rows) == 7
    for stage in data.map.stages:
        assert f'<tr><th scope="row">{html.escape(stage.stage)}</th><td class="num">{stage.customers}</td>' \
               f'<td class="num">{stage.events}</td>' in page
    for pain in data.pains.pain_points:
        assert html.escape(pain.reasons[0]) in page
    assert page.count('<svg class="chart"') == 3
    assert "<script" not in page


def test_journeys_page_offers_the_saved_journeys(app: WebApp, text_projects: TextProjects) -> None:
    page = get(app, "tina-text", "/p/textp/journeys/")
    assert 'id="no-journeys"' not in page
    assert '<option value="buyers" selected>buyers</option>' in page
    assert "From first look to onboarding &lt;b&gt;bold&lt;/b&gt;" in page
    assert "stage:Onboarding" in page and "stage:Awareness" not in page
    bad = get(app, "tina-text", "/p/textp/journeys/?journey=nope", 400)
    assert "Unknown journey &#x27;nope&#x27;" in bad and "buyers" in bad
    get(app, "tina-text", "/p/textp/journeys/?window=forever", 400)


def test_journeys_and_text_pages_are_per_project(app: WebApp, text_projects: TextProjects) -> None:
    get(app, "oscar", "/p/textp/journeys/", 404)
    get(app, "oscar", "/p/textp/text/", 404)
    get(app, "oscar", "/p/textp/text/themes/t1/", 404)
    assert app.client().get("/p/textp/text/").status_code == 302  # to the login page


# ------------------------------------------------------------------------------------------ text


def test_text_page_without_analysis_names_the_commands(app: WebApp, text_projects: TextProjects) -> None:
    page = get(app, "tina-text", "/p/plainp/text/")
    assert 'id="text-empty"' in page
    assert "cxlens text themes" in page and "cxlens text analyze" in page
    assert 'id="themes-table"' not in page and "<svg" not in page.split("<main", 1)[1]


def test_text_page_shows_the_theme_summary(app: WebApp, text_projects: TextProjects) -> None:
    from cxlens.text.themes import theme_summary
    from cxlens.web.projects import POOL

    page = get(app, "tina-text", "/p/textp/text/")
    with POOL.use(text_projects.themed) as ws:
        summary = theme_summary(ws, now=now_of_request(), grain="month", periods=6, examples=3)
    rows = re.findall(r'<tr><th scope="row"><a href="/p/textp/text/themes/([^/]+)/">([^<]*)</a></th>\s*'
                      r'<td class="num">(\d+)</td>', page)
    assert rows == [(t.theme_id, html.escape(t.label), str(t.count)) for t in summary.themes]
    assert sum(int(c) for _, _, c in rows) == summary.total > 0
    with_impact = [t for t in summary.themes if t.nps.difference is not None]
    assert with_impact, "some theme has responses with and without it"
    for t in with_impact:
        assert f"{t.nps.difference:.1f} <span class=\"muted\">[{t.nps.ci_low:.1f}, {t.nps.ci_high:.1f}]</span>" in page
    assert 'id="sentiment"' in page and "Texts per sentiment" in page and "Mean sentiment by month" in page
    assert SECRET_MAIL not in page


def test_theme_page_lists_its_verbatims_paged_and_redacted(app: WebApp, text_projects: TextProjects) -> None:
    from cxlens.web.projects import POOL

    with POOL.use(text_projects.themed) as ws:
        a = ws.warehouse.backend.table("text_theme_assignments").to_pyarrow().to_pylist()
    pii_theme = next(r["theme_id"] for r in a if r["source_id"] == "PII-1")
    total = sum(1 for r in a if r["theme_id"] == pii_theme)
    seen: list[str] = []
    offset = 0
    while True:
        page = get(app, "tina-text", f"/p/textp/text/themes/{pii_theme}/?offset={offset}")
        assert f"{total} texts" in page
        seen += re.findall(r"<td>(?:responses|tickets) ([^<]+)</td>", page)
        if 'id="next-page"' not in page:
            break
        offset += 25
    assert len(seen) == len(set(seen)) == total
    assert "PII-1" in seen
    everything = "".join(get(app, "tina-text", f"/p/textp/text/themes/{pii_theme}/?offset={o}")
                         for o in range(0, total, 25))
    assert SECRET_MAIL not in everything and "outage again" in everything.lower()
    assert '<a href="/p/textp/customers/C0000001/">C0000001</a>' in everything
    get(app, "tina-text", "/p/textp/text/themes/no-such-theme/", 404)
    get(app, "tina-text", "/p/plainp/text/themes/t1/", 404)


def test_themes_api_equals_the_theme_summary(app: WebApp, text_projects: TextProjects) -> None:
    import json

    from cxlens.text.themes import theme_summary
    from cxlens.web.projects import POOL

    now = NOW.isoformat().replace("+", "%2B")
    r = app.client("tina-text").get(f"/api/projects/textp/themes?grain=week&periods=4&examples=2&now={now}")
    assert r.status_code == 200, r.content
    with POOL.use(text_projects.themed) as ws:
        expected = theme_summary(ws, grain="week", periods=4, examples=2, now=NOW)
    assert r.json() == json.loads(json.dumps(expected.to_dict()))
    assert SECRET_MAIL not in r.content.decode()
    assert app.client("oscar").get("/api/projects/textp/themes").status_code == 404
