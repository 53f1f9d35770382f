"""Debian's chromium driven by Playwright, shared by the browser tests (never 'playwright install')."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium is not installed at /usr/bin/chromium (install it with: bash scripts/setup-browser.sh)",
)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (skips the test when playwright is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the web extra (playwright) is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
