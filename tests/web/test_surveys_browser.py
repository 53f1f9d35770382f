"""Surveys in a real headless Chromium: build and publish a survey, then answer it on a
phone-sized viewport (390×844), where the follow-up appears only for a detractor; and an
accessibility scan with axe-core of the hosted pages."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import chromium, needs_chromium
from .conftest import PASSWORD, Served, require_web

require_web()

PHONE = {"width": 390, "height": 844}
SLUG = "browser-loyalty"
REPO = Path(__file__).resolve().parents[2]
AXE = Path(os.environ.get("CXLENS_AXE_JS") or REPO / "node_modules" / "axe-core" / "axe.min.js")

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def survey_url(browser: Any, served: Served) -> str:
    """Log in as an admin, create a relationship-NPS survey from its template and publish it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served.url + "/login/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/p/main/", timeout=60_000)
    page.click("text=Surveys")
    page.check("input[name=template][value=relationship_nps]")
    page.fill("#title", "How are we doing?")
    page.fill("#slug", SLUG)
    page.click("#create-survey button[type=submit]")
    page.wait_for_url(f"{served.url}/p/main/surveys/{SLUG}/")
    assert page.inner_text("#survey-status") == "draft"
    page.click("#publish")
    page.wait_for_selector("#public-url")
    assert page.inner_text("#survey-status") == "live"
    url = page.get_attribute("#public-url", "href")
    context.close()
    return url


def _phone(browser: Any) -> Any:
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False)


def test_detractor_gets_the_follow_up_and_a_promoter_does_not(browser: Any, survey_url: str, served: Served,
                                                              tmp_path: Path) -> None:
    context = _phone(browser)
    page = context.new_page()
    page.goto(survey_url + "?customer_id=C0007")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    assert page.locator("text=What went wrong?").count() == 0
    # Keyboard: focus the first score and move with the arrow keys (a native radio group).
    page.focus("#a_nps-0")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.is_checked("#a_nps-3")
    page.screenshot(path=str(tmp_path / "survey-phone.png"), full_page=True)
    page.click("#next")
    page.wait_for_selector("textarea#a_went_wrong")
    assert page.inner_text("label[for=a_went_wrong]").startswith("We are sorry to hear that. What went wrong?")
    page.fill("#a_went_wrong", "The parcel came <b>late</b>")
    page.click("#next")
    page.wait_for_selector("#message-title")
    assert page.inner_text("#message-title") == "Thank you!"
    context.close()

    context = _phone(browser)
    page = context.new_page()
    page.goto(survey_url + "?nps=10")
    assert page.is_checked("#a_nps-10")  # one-click score from an e-mail link
    page.click("#next")
    page.wait_for_selector("textarea#a_reason")
    assert page.locator("#a_went_wrong").count() == 0
    page.fill("#a_reason", "Friendly people")
    page.click("#next")
    page.wait_for_selector("#message-title")
    context.close()

    # The thank-you page does not wait for the warehouse: the server's surveys-flush job writes
    # the responses within about a second.
    deadline = time.monotonic() + 60
    while True:
        status, body = served.get(f"/api/projects/main/metrics/nps?where=survey_id%3D{SLUG}",
                                  headers={"Authorization": f"Bearer {served.key}"})
        assert status == 200, body
        rows = json.loads(body)["rows"]
        if (rows and rows[0]["n"] == 2) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    [row] = rows
    assert (row["n"], row["value"]) == (2, 0.0)  # one detractor, one promoter


def test_survey_pages_pass_an_accessibility_scan(browser: Any, survey_url: str) -> None:
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE} is missing); install it with: npm install --no-save axe-core "
                    f"(in the repository folder), or point CXLENS_AXE_JS to axe.min.js")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(survey_url)
    page.click("#next")  # nothing picked: the page comes back with its errors shown
    page.wait_for_selector("#survey-errors")
    for state in ("with errors", "answered"):
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("""async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}));
        }""")
        serious = [v for v in found if v["impact"] in {"serious", "critical"}]
        assert serious == [], f"{state}: {serious}"
        if state == "with errors":
            page.check("#a_nps-2")
            page.click("#next")
            page.wait_for_selector("textarea#a_went_wrong")
    context.close()
