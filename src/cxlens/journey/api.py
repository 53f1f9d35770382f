"""The journey analyses on a :class:`~cxlens.workspace.Workspace` (the faces call these).

>>> from cxlens.journey import run_funnel, build_journey_map
>>> run_funnel(ws, "plans_page,web_checkout,stage:Onboarding", window="14d", by="segment")  # doctest: +SKIP
>>> build_journey_map(ws, journey="consumer").write("journey.html")                      # doctest: +SKIP
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import ibis

from cxlens.journey import experience, map, paths
from cxlens.journey.common import Scope
from cxlens.journey.definition import Journey, load_journey
from cxlens.journey.funnel import FunnelQuery, FunnelResult, funnel
from cxlens.journey.registry import Registry, load_registry
from cxlens.workspace import Workspace


def tables_of(ws: Workspace) -> dict[str, ibis.Table]:
    """The contract tables, plus the theme assignments once a theme model has stored them."""
    tables = {name: ws.table(name) for name in ws.tables}
    backend = ws.warehouse.backend
    if map.THEMES_TABLE in backend.list_tables():
        tables[map.THEMES_TABLE] = backend.table(map.THEMES_TABLE)
    return tables


def journey_of(ws: Workspace, journey: str | Journey | None = None) -> Journey:
    """A saved journey by name (``DIR/journeys/NAME.toml``), the given one, or the default template."""
    return journey if isinstance(journey, Journey) else load_journey(ws.path, journey)


def registry_for(ws: Workspace, journey: str | Journey | None = None) -> Registry:
    return load_registry(ws.table("touchpoints"), ws.table("interactions"), journey_of(ws, journey))


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def run_funnel(ws: Workspace, steps: Any, *, journey: str | Journey | None = None, now: datetime | None = None,
               **options: Any) -> FunnelResult:
    """A window funnel; options: window, order, by, attribution, exclude, grain, since, until, confidence."""
    query = FunnelQuery.build(steps, now=_now(now), **options)
    return funnel(tables_of(ws), registry_for(ws, journey), query, ws.settings)


def top_paths(ws: Workspace, anchor: str, *, journey: str | Journey | None = None, since: Any = None,
              until: Any = None, now: datetime | None = None, **options: Any) -> paths.PathResult:
    """Most frequent paths after/before ``anchor``; options: direction, depth, top, collapse."""
    return paths.paths(tables_of(ws), registry_for(ws, journey), anchor, Scope.of(since, until, _now(now)),
                       **options)


def stuck_customers(ws: Workspace, days: float, *, journey: str | Journey | None = None, stage: str | None = None,
                    limit: int = 100, now: datetime | None = None) -> paths.StuckResult:
    return paths.stuck(tables_of(ws), registry_for(ws, journey), days=days, now=_now(now), stage=stage, limit=limit)


def pain_point_ranking(ws: Workspace, *, journey: str | Journey | None = None, by: str | None = None,
                       since: Any = None, until: Any = None, now: datetime | None = None,
                       **options: Any) -> experience.PainPointResult:
    """Pain points (and delights); options: poor_threshold, drop_threshold, delight_threshold, min_responses."""
    return experience.pain_points(tables_of(ws), registry_for(ws, journey), Scope.of(since, until, _now(now)),
                                  by=by, settings=ws.settings, **options)


def build_journey_map(ws: Workspace, *, journey: str | Journey | None = None, since: Any = None,
                      until: Any = None, now: datetime | None = None, **options: Any) -> map.JourneyMap:
    return map.journey_map(tables_of(ws), registry_for(ws, journey), Scope.of(since, until, _now(now)),
                           settings=ws.settings, **options)
