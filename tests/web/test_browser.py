"""In a real headless Chromium: log in, read the overview, use the metric explorer, open every
dashboard page without a console error (a screenshot each, in test-artifacts/) and drill down
from a chart bar to the rows behind it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import chromium, needs_chromium
from .conftest import PASSWORD, UNTIL, Served, require_web

require_web()


pytestmark = needs_chromium
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        tab.console_errors = []  # type: ignore[attr-defined]
        tab.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: tab.console_errors.append(str(e)))
        yield tab
        context.close()


def log_in(page: Any, served: Served) -> None:
    page.goto(served.url + "/login/")
    if "/login/" not in page.url:
        return  # already logged in
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/p/main/", timeout=60_000)


def test_login_overview_and_explorer(page: Any, served: Served, tmp_path: Path) -> None:
    page.goto(served.url + "/p/main/")
    assert page.url.startswith(served.url + "/login/")  # sent to the login page first
    page.fill("#id_username", "sam")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    assert "did not match" in page.inner_text(".alert")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/p/main/", timeout=60_000)  # back where the login started
    page.goto(f"{served.url}/p/main/?period=365&until={UNTIL}")
    nps = page.locator('[data-metric="nps"] .value').inner_text()
    assert nps.strip().lstrip("-").replace(".", "").isdigit()
    assert page.locator("svg.chart").count() == 4
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    page.click("text=Metric explorer")
    page.select_option("#metric", "csat")
    page.fill("#by", "segment")
    page.select_option("#grain", "quarter")
    page.fill("#since", "2025-07-01")
    page.fill("#until", UNTIL)
    page.click("#run")
    page.wait_for_selector("#result-table")
    assert page.inner_text("#result-title") == "CSAT"
    headers = page.locator("#result-table th").all_inner_texts()
    assert headers[:3] == ["segment", "period", "value"]
    segments = set(page.locator("#result-table tbody tr td:first-child").all_inner_texts())
    assert {"consumer", "smb"} <= segments
    assert page.locator("svg.chart polyline.line").count() == len(segments)
    assert page.get_attribute("#export", "href").endswith("format=csv")
    page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)

    page.select_option("#grain", "")
    page.fill("#by", "no_such_column")
    page.click("#run")
    assert "no_such_column" in page.inner_text("#explorer-error")


DASHBOARDS = (
    ("overview", f"/p/main/?period=365&until={UNTIL}", "h1"),
    ("explorer", f"/p/main/explore/?metric=nps&by=segment&since=2025-12-01&until={UNTIL}", "#result-table"),
    ("customers", "/p/main/customers/?q=C00000", "h1"),
    ("customer", "/p/main/customers/C0000001/", "h1"),
    ("journeys", "/p/main/journeys/", "#funnel"),
    ("text", "/p/main/text/", "#text-empty"),
    ("responses", f"/p/main/responses/?metric=csat&since=2026-01-01&until={UNTIL}", "#drill-table"),
    ("surveys", "/p/main/surveys/", "h1"),
    ("settings", "/p/main/settings/", "h1"),
)


def test_every_dashboard_page_opens_without_console_errors(page: Any, served: Served) -> None:
    log_in(page, served)
    ARTIFACTS.mkdir(exist_ok=True)
    for name, path, selector in DASHBOARDS:
        page.console_errors.clear()
        response = page.goto(served.url + path)
        assert response is not None and response.status == 200, (name, response and response.status)
        page.wait_for_selector(selector)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
        assert page.console_errors == [], (name, page.console_errors)
    page.goto(served.url + "/p/main/journeys/")
    assert page.locator("#journey-map tbody tr").count() == 7
    assert page.locator("#funnel svg.chart rect.bar").count() >= 2
    page.goto(served.url + "/p/main/text/")
    assert "cxlens text themes" in page.inner_text("#text-empty")


def test_a_chart_bar_leads_to_the_rows_behind_it(page: Any, served: Served) -> None:
    log_in(page, served)
    page.goto(f"{served.url}/p/main/explore/?metric=nps&by=segment&since=2025-12-01&until={UNTIL}")
    rows = page.locator("#result-table tbody tr")
    headers = page.locator("#result-table th").all_inner_texts()
    first = dict(zip(headers, rows.first.locator("td").all_inner_texts(), strict=True))
    bar = page.locator("svg.chart a.drill").first
    bar.focus()  # reachable from the keyboard: a focusable link, opened with Enter
    assert page.evaluate("document.activeElement.getAttribute('class')") == "drill"
    page.keyboard.press("Enter")
    page.wait_for_selector("#drill-total")
    assert "/p/main/responses/" in page.url and f"value={first['segment']}" in page.url
    assert page.inner_text("#drill-total") == first["n"]
    page.screenshot(path=str(ARTIFACTS / "drill-down.png"), full_page=True)
    page.go_back()
    second = dict(zip(headers, rows.nth(1).locator("td").all_inner_texts(), strict=True))
    page.locator("svg.chart a.drill").nth(1).click()  # and with the mouse
    page.wait_for_selector("#drill-total")
    assert page.inner_text("#drill-total") == second["n"]
