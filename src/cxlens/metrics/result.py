"""Typed metric requests and results, shared by the Python API, the CLI and (later) the web app."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from cxlens.metrics.period import Compare, Grain


@dataclass(frozen=True)
class MetricQuery:
    """Which metric, sliced how, over which time: the whole request of a metric runner."""

    metric: str
    now: datetime
    by: tuple[str, ...] = ()
    grain: Grain | None = None
    since: date | datetime | str | None = None
    until: date | datetime | str | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    compare: Compare | None = None
    confidence: float = 0.95

    @classmethod
    def build(cls, metric: str, *, now: datetime, by: str | list[str] | tuple[str, ...] = (),
              grain: str | Grain | None = None, since: Any = None, until: Any = None,
              where: Mapping[str, Any] | None = None, compare: str | Compare | None = None,
              confidence: float = 0.95) -> MetricQuery:
        by_tuple = (by,) if isinstance(by, str) else tuple(by)
        filters = tuple(
            (col, tuple(str(v) for v in (vals if isinstance(vals, (list, tuple, set)) else [vals])))
            for col, vals in (where or {}).items()
        )
        return cls(metric, now, by_tuple, Grain.parse(grain), since, until, filters,
                   Compare.parse(compare), confidence)


@dataclass(frozen=True)
class Change:
    """The change of a figure against its comparison period, with its test."""

    period: date | None
    previous_value: float | None
    previous_n: int
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool
    method: str


@dataclass(frozen=True)
class MetricRow:
    groups: tuple[tuple[str, Any], ...]
    period: date | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    components: tuple[tuple[str, Any], ...] = ()
    change: Change | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.groups)
        out["period"] = self.period.isoformat() if self.period else None
        out.update(value=_clean(self.value), ci_low=_clean(self.ci_low), ci_high=_clean(self.ci_high), n=self.n)
        out.update({k: _clean(v) for k, v in self.components})
        if self.change is not None:
            c = self.change
            out.update(
                compare_period=c.period.isoformat() if c.period else None,
                previous_value=_clean(c.previous_value), previous_n=c.previous_n,
                change=_clean(c.difference), change_ci_low=_clean(c.ci_low),
                change_ci_high=_clean(c.ci_high), p_value=_clean(c.p_value),
                significant=c.significant, test=c.method,
            )
        out["warnings"] = "; ".join(self.warnings)
        return out


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


@dataclass(frozen=True)
class MetricResult:
    metric: str
    definition: str
    query: MetricQuery
    rows: tuple[MetricRow, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_records(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rows]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.to_records())

    def __repr__(self) -> str:
        return f"MetricResult({self.metric!r}, {len(self.rows)} rows)\n{self.to_pandas().to_string()}"
