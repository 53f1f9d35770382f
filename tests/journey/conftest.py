"""One shared demo workspace for the journey tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import cxlens
from cxlens.demo_loader import load_demo

DEMO_NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[cxlens.Workspace, dict[str, Any]]]:
    """A small demo company (6000 customers, about 115k interactions), shared by the journey tests."""
    ws = cxlens.init(tmp_path_factory.mktemp("journey-demo") / "ws")
    result = load_demo(ws, customers=6000, seed=7, now=DEMO_NOW, chunk_customers=2000)
    assert result.rejected == 0
    yield ws, json.loads(Path(result.truths_path).read_text())
    ws.close()
