"""Journey analyses give identical results on the embedded DuckDB and on SQLite (a second real engine)."""

from __future__ import annotations

from typing import Any

import ibis
import pytest

import cxlens
from cxlens.journey import Scope, load_registry, registry_for
from cxlens.journey.experience import pain_points
from cxlens.journey.funnel import FunnelQuery, funnel
from cxlens.journey.map import journey_map
from cxlens.journey.paths import paths, stuck

from .conftest import DEMO_NOW

Demo = tuple[cxlens.Workspace, dict[str, Any]]
COLUMNS = {
    "interactions": ["event_id", "customer_id", "occurred_at", "touchpoint", "channel", "stage"],
    "touchpoints": ["touchpoint", "stage", "channel", "direct", "description"],
    "customers": ["customer_id", "segment", "country"],
    "responses": ["response_id", "submitted_at", "customer_id", "survey_id", "touchpoint", "channel", "nps", "csat",
                  "ces", "comment"],
}


#: SQLite has no hash joins, so the copy keeps the first 1200 demo customers (about 23k interactions).
SUBSET = "C0001200"


@pytest.fixture(scope="module")
def engines(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, ibis.Table]]:
    ws, _ = demo
    duck = {name: _subset(ws.table(name).select(*cols)) for name, cols in COLUMNS.items()}
    con = ibis.sqlite.connect(str(tmp_path_factory.mktemp("lite") / "copy.sqlite"))
    lite = {name: con.create_table(name, t.to_pyarrow(), overwrite=True) for name, t in duck.items()}
    return {"duckdb": duck, "sqlite": lite}


def _subset(t: ibis.Table) -> ibis.Table:
    return t.filter(t.customer_id < SUBSET) if "customer_id" in t.columns else t


@pytest.mark.parametrize("options", [
    {"steps": "search_ad,plans_page,web_checkout,stage:Onboarding,app_activation", "window": "30d"},
    {"steps": "plans_page,web_checkout,welcome_email", "window": "7d", "order": "strict"},
    {"steps": "stage:Consideration,stage:Purchase,stage:Onboarding", "window": "21d", "order": "any"},
    {"steps": "plans_page,web_checkout", "by": "channel", "exclude": ["sales_chat"], "window": "14d"},
    {"steps": "plans_page,stage:Purchase", "by": "segment", "grain": "month", "since": "2025-06-01",
     "until": "2026-03-31"},
])
def test_funnels_agree(demo: Demo, engines: dict[str, dict[str, ibis.Table]], options: dict[str, Any]) -> None:
    ws, _ = demo
    query = FunnelQuery.build(now=DEMO_NOW, **options)
    results = {}
    for engine, tables in engines.items():
        reg = load_registry(tables["touchpoints"], tables["interactions"], registry_for(ws).journey)
        results[engine] = funnel(tables, reg, query, ws.settings).to_dict()
    assert results["duckdb"] == results["sqlite"]
    assert results["duckdb"]["groups"][0]["steps"][0]["customers"] > 0


def test_paths_stuck_pain_points_and_map_agree(demo: Demo, engines: dict[str, dict[str, ibis.Table]]) -> None:
    ws, _ = demo
    out: dict[str, list[Any]] = {}
    for engine, tables in engines.items():
        reg = load_registry(tables["touchpoints"], tables["interactions"], registry_for(ws).journey)
        scope = Scope.of("2026-01-01", "2026-06-30", DEMO_NOW)
        out[engine] = [
            paths(tables, reg, "plans_page", scope, depth=3, top=20).to_dict(),
            paths(tables, reg, "web_checkout", scope, direction="before", depth=2).to_dict(),
            stuck(tables, reg, days=30, now=DEMO_NOW).to_dict(),
            pain_points(tables, reg, scope, by="segment", settings=ws.settings, min_responses=5).to_dict(),
            journey_map(tables, reg, scope, settings=ws.settings).to_dict(),
        ]
    for duck, lite in zip(out["duckdb"], out["sqlite"], strict=True):
        assert duck == lite
