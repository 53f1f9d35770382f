"""Pieces shared by the journey analyses: the date scope, stage indexes, exact medians in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis

from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.journey.registry import Registry

#: Touchpoint attributes a result can be broken down by (taken from the registry).
TOUCHPOINT_ATTRIBUTES = ("channel", "stage")


@dataclass(frozen=True)
class Scope:
    """The period analysed: ``[start, end)`` as naive UTC datetimes, and ``now``."""

    start: datetime | None
    end: datetime
    now: datetime

    @staticmethod
    def of(since: Any, until: Any, now: datetime) -> Scope:
        now = naive(now)
        start, stop = as_date(since, "since"), as_date(until, "until")
        if start and stop and stop < start:
            raise CxlensInputError(f"'until' ({stop}) is before 'since' ({start}); swap them.")
        end = datetime.combine(stop + timedelta(days=1), datetime.min.time()) if stop else now
        return Scope(datetime.combine(start, datetime.min.time()) if start else None, min(end, now), now)

    def filter(self, t: ibis.Table, column: str) -> ibis.Table:
        t = t.filter(t[column] < self.end)
        return t.filter(t[column] >= self.start) if self.start is not None else t

    def to_dict(self) -> dict[str, str | None]:
        return {"since": self.start.date().isoformat() if self.start else None,
                "until": (self.end - timedelta(microseconds=1)).date().isoformat(), "now": self.now.isoformat()}


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def as_date(value: Any, name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CxlensInputError(
            f"The '{name}' parameter must be an ISO date such as 2026-01-31. Got {value!r} instead."
        ) from None


def seconds(ts: ibis.Value) -> ibis.Value:
    """Whole seconds since 1970 (the same on every engine)."""
    return ts.epoch_seconds().cast("int64")


def stage_index(t: ibis.Table, registry: Registry) -> ibis.Value:
    """0-based index of each interaction's stage in the journey; NULL outside the journey."""
    names = registry.journey.stage_names
    return registry.stage_expr(t).substitute({s: i for i, s in enumerate(names)}, else_=ibis.null("int64"))


def exact_medians(t: ibis.Table, group: list[str], value: str) -> dict[tuple[Any, ...], float]:
    """The exact median of ``value`` per ``group`` (NULLs ignored), using window functions only.

    ``row_number`` over the ordered values picks the middle one or two rows; SQLite has no MEDIAN.
    """
    t = t.filter(t[value].notnull())
    win = ibis.window(group_by=group or None, order_by=value)
    t = t.mutate(_r=ibis.row_number().over(win), _n=t[value].count().over(ibis.window(group_by=group or None)))
    mid = t.filter((t._r == ((t._n - 1) / 2).floor()) | (t._r == (t._n / 2).floor()))
    agg = (mid.group_by(group).aggregate(median=mid[value].cast("float64").mean()) if group
           else mid.aggregate(median=mid[value].cast("float64").mean()))
    return {tuple(r[g] for g in group): r["median"] for r in agg.to_pyarrow().to_pylist()}


def with_customer_column(t: ibis.Table, customers: ibis.Table | None, column: str) -> ibis.Table:
    """``t`` with ``customers.<column>`` added (by customer_id)."""
    if customers is None or column not in customers.columns or column.startswith("_"):
        valid = sorted(c for c in (customers.columns if customers is not None else ()) if not c.startswith("_"))
        raise UnknownNameError(
            f"Unknown breakdown column '{column}'. Break down by {', '.join(TOUCHPOINT_ATTRIBUTES)} or a customers "
            f"column: {', '.join(valid)}."
        )
    c = customers.select("customer_id", column)
    return t.left_join(c, t.customer_id == c.customer_id).select(*t.columns, column)


def restrict_segment(t: ibis.Table, customers: ibis.Table | None, registry: Registry) -> ibis.Table:
    """Only the customers of the journey's segment (when it has one)."""
    seg = registry.journey.segment
    if seg is None:
        return t
    if customers is None or seg.column not in customers.columns:
        raise UnknownNameError(
            f"Journey '{registry.journey.name}' is for customers.{seg.column}, which the customers table lacks."
        )
    c = customers.filter(customers[seg.column].cast("string").isin(list(seg.values))).select("customer_id")
    return t.semi_join(c, t.customer_id == c.customer_id)


def rows(expr: ibis.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def settings_value(settings: Mapping[str, Any] | None, name: str, default: Any) -> Any:
    return (settings or {}).get(name, default)
