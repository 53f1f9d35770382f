from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import cxlens

# No timing in tests: on a shared two-core machine (and with the web app's background threads
# running) a draw can take a second, so Hypothesis's speed checks would fail at random.
settings.register_profile("cxlens", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("cxlens")

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[cxlens.Workspace]:
    workspace = cxlens.init(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
