"""In a real headless Chromium: log in, read the overview, use the metric explorer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import chromium, needs_chromium
from .conftest import PASSWORD, UNTIL, Served, require_web

require_web()


pytestmark = needs_chromium


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()


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
