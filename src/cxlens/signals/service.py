"""One entry point for every signal: metric anomalies and emerging themes of a workspace.

``detect_signals(ws, ...)`` runs the requested detectors and returns a :class:`SignalsResult`
whose ``to_records()`` lists the flagged signals (one row each, with their evidence) and whose
``to_dict()`` carries every detail. The CLI (``cxlens signals``) and, later, alert rules call it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import ibis

from cxlens.errors import CxlensInputError
from cxlens.schema import TABLES
from cxlens.signals.anomalies import AnomalyQuery, AnomalyResult, metric_anomalies
from cxlens.signals.emerging import (
    THEMES_TABLE,
    EmergingQuery,
    EmergingResult,
    EmergingSettings,
    emerging_themes,
)
from cxlens.text.annotate import ANNOTATIONS_TABLE

Kind = Literal["anomalies", "emerging", "all"]
KINDS: tuple[str, ...] = ("anomalies", "emerging", "all")
DEFAULT_METRICS: tuple[str, ...] = ("nps", "csat", "ces", "tickets")


class WorkspaceLike(Protocol):
    """What the signals need of a workspace: its tables, settings and warehouse."""

    settings: dict[str, Any]

    def table(self, name: str) -> ibis.Table: ...

    @property
    def warehouse(self) -> Any: ...


@dataclass(frozen=True)
class SignalsResult:
    """The anomalies of each metric and the emerging themes, with the warnings of the run."""

    anomalies: tuple[AnomalyResult, ...] = ()
    emerging: EmergingResult | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_records(self) -> list[dict[str, Any]]:
        """One row per flagged signal (anomalies first, then emerging themes)."""
        rows = [_anomaly_row(a, groups, p.to_dict()) for a in self.anomalies for groups, p in a.anomalies]
        if self.emerging is not None:
            rows += [_emerging_row(self.emerging, t.to_dict()) for t in self.emerging.emerging]
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {"anomalies": [a.to_dict() for a in self.anomalies],
                "emerging": self.emerging.to_dict() if self.emerging is not None else None,
                "warnings": list(self.warnings)}


def _anomaly_row(a: AnomalyResult, groups: tuple[tuple[str, Any], ...], p: dict[str, Any]) -> dict[str, Any]:
    where = ", ".join(f"{c}={'|'.join(v)}" for c, v in a.query.where)
    slice_ = ", ".join([*(f"{k}={v}" for k, v in groups), *([where] if where else [])])
    return {"kind": "anomaly", "subject": a.metric, "slice": slice_, "period": p["period"],
            "value": p["value"], "expected": p["expected"], "lower": p["lower"], "upper": p["upper"],
            "n": p["n"], "z": p["z"], "p_value": p["p_value"], "direction": p["direction"]}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 3)


def _emerging_row(e: EmergingResult, t: dict[str, Any]) -> dict[str, Any]:
    pct = _pct
    return {"kind": "emerging_theme", "subject": t["theme_label"], "slice": f"theme_id={t['theme_id']}",
            "period": e.recent[0].date().isoformat(), "value": pct(t["recent_share"]),
            "expected": pct(t["baseline_share"]), "lower": pct(t["ci_low"]), "upper": pct(t["ci_high"]),
            "n": t["recent"], "z": t["z"], "p_value": t["p_value"], "direction": "up"}


def detect_signals(ws: WorkspaceLike, *, kind: str = "all", metrics: Sequence[str] = DEFAULT_METRICS,
                   grain: str = "day", since: Any = None, until: Any = None, now: datetime | None = None,
                   where: Mapping[str, Any] | None = None, by: str | Sequence[str] = (), source: str = "all",
                   theme_model: str | None = None, emerging: EmergingSettings | None = None,
                   **detector: Any) -> SignalsResult:
    """Run the anomaly detectors on ``metrics`` and/or the emerging-theme detector.

    ``detector`` options: method ('fdr' or 'sigma'), fdr, sigma, direction ('both', 'up', 'down'),
    baseline_periods, min_baseline_periods, min_n (see :mod:`cxlens.signals.anomalies`).
    """
    if kind not in KINDS:
        raise CxlensInputError(f"The 'kind' parameter must be one of {', '.join(KINDS)}. Got {kind!r} instead.")
    now = now or datetime.now(UTC)
    anomalies: tuple[AnomalyResult, ...] = ()
    if kind in ("anomalies", "all"):
        tables = {name: ws.table(name) for name in TABLES}
        anomalies = tuple(
            metric_anomalies(tables, ws.settings, AnomalyQuery.build(
                m, now=now, grain=grain, since=since, until=until, where=where, by=by, **detector))
            for m in dict.fromkeys(metrics))
    found, warnings = None, ()
    if kind in ("emerging", "all"):
        found, warnings = _emerging(ws, kind, now, source, theme_model, emerging or EmergingSettings())
    return SignalsResult(anomalies, found, warnings)


def _emerging(ws: WorkspaceLike, kind: str, now: datetime, source: str, theme_model: str | None,
              settings: EmergingSettings) -> tuple[EmergingResult | None, tuple[str, ...]]:
    backend = ws.warehouse.backend
    existing = set(backend.list_tables())
    if THEMES_TABLE not in existing and kind == "all":
        return None, (f"Emerging themes were not checked: the warehouse has no {THEMES_TABLE} table yet "
                      f"(assign themes to the texts first).",)
    assignments = backend.table(THEMES_TABLE) if THEMES_TABLE in existing else None
    annotations = backend.table(ANNOTATIONS_TABLE) if ANNOTATIONS_TABLE in existing else None
    tables = {name: ws.table(name) for name in ("responses", "tickets")}
    query = EmergingQuery(now=now, source=source, theme_model=theme_model, settings=settings)
    return emerging_themes(tables, assignments, annotations, query), ()
