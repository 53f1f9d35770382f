"""The rows behind a figure: drill down from one (group, period) of a metric to its records.

A figure of :func:`cxlens.metrics.engine.run_metric` counts ``n`` rows of the runner's table
(responses or tickets) after the same preparation, join with customers, filters, date range and
period placement. :func:`drill_rows` applies exactly those steps (it reuses the engine's base
table and the runner's definitions) and selects one group and one period, so the number of rows
it finds is the ``n`` of the figure clicked.

Group values travel as text (in a URL): :func:`group_text` turns a breakdown value of a metric
row into that text and :data:`NULL` stands for a missing value (the group ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import ibis
import pandas as pd

from cxlens.errors import CxlensInputError
from cxlens.metrics.engine import _base_table, metric_names, runner_for
from cxlens.metrics.period import DateRange, truncate
from cxlens.metrics.registry import SPECIAL
from cxlens.metrics.result import MetricQuery
from cxlens.metrics.runner import Runner
from cxlens.metrics.scores import ResponsesRunner, ScoreRunner
from cxlens.metrics.service import (
    BusinessResolutionTimeRunner,
    TicketsRunner,
    _DurationRunner,
    _hours,
    _RateRunner,
)
from cxlens.schema import table_spec

#: The text standing for a missing group value (a NULL breakdown value).
NULL = "~null"
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class DrillResult:
    """One page of the rows behind a figure, and how many there are in all (``total`` = the figure's n)."""

    metric: str
    table: str
    id_column: str
    time_column: str
    value_column: str | None
    group: tuple[tuple[str, str | None], ...]
    period: date | None
    total: int
    offset: int
    limit: int
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "table": self.table, "id_column": self.id_column,
            "time_column": self.time_column, "value_column": self.value_column,
            "group": {k: v for k, v in self.group}, "period": self.period.isoformat() if self.period else None,
            "total": self.total, "offset": self.offset, "limit": self.limit, "columns": list(self.columns),
            "rows": [dict(r) for r in self.rows],
        }

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows), columns=list(self.columns))


def group_text(value: Any) -> str:
    """The text of a breakdown value as :func:`drill_rows` matches it (``NULL`` for a missing value)."""
    if value is None or (isinstance(value, float) and value != value):
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def drill_runner(metric: str, settings: Mapping[str, Any]) -> Runner:
    """The runner of a metric whose figures count rows (every metric but the special ones)."""
    if metric in SPECIAL:
        rowwise = [m for m in metric_names() if m not in SPECIAL]
        raise CxlensInputError(
            f"The metric '{metric}' is not a count of rows, so there are no rows behind its figures. "
            f"Drill down into one of: {', '.join(rowwise)}."
        )
    return runner_for(metric, settings)


def counted(runner: Runner, t: ibis.Table) -> ibis.Value | None:
    """The rows a runner counts in ``n`` (None: every prepared row)."""
    if hasattr(runner, "counted"):  # runners that say it themselves (the closed-loop metrics)
        return runner.counted(t)
    if isinstance(runner, BusinessResolutionTimeRunner):
        return t.resolved_at.notnull() & (t.resolved_at >= t.created_at)
    if isinstance(runner, _DurationRunner):
        return _hours(t, runner.end_column).notnull()
    if isinstance(runner, _RateRunner):
        return runner.base(t)
    if isinstance(runner, (ScoreRunner, TicketsRunner)):
        return None
    raise CxlensInputError(f"The metric '{runner.name}' has no drill-down.")  # a runner added without one


def drill_rows(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any], query: MetricQuery,
               group: Mapping[str, str | None] | None = None, period: date | str | None = None, *,
               offset: int = 0, limit: int = 50) -> DrillResult:
    """The rows counted in the figure of ``query`` for one ``group`` (breakdown column -> text, see
    :func:`group_text`; None or :data:`NULL` is a missing value) and one ``period`` (the period's
    first day; needs ``query.grain``), newest first, ``limit`` rows from ``offset``.

    Same filters, date range and period semantics as :func:`cxlens.metrics.engine.run_metric`:
    ``total`` equals the ``n`` of that figure. A comparison (``query.compare``) does not change the
    rows of the current period.
    """
    runner = drill_runner(query.metric, settings)
    group = dict(group or {})
    unknown = [c for c in group if c not in query.by]
    if unknown:
        raise CxlensInputError(
            f"The drill-down value for '{unknown[0]}' names no breakdown of this figure. The breakdowns are: "
            f"{', '.join(query.by) or '(none)'}; give one value per breakdown."
        )
    missing = [b for b in query.by if b not in group]
    if missing:
        raise CxlensInputError(f"The drill-down needs a value for the breakdown '{missing[0]}'.")
    if not 1 <= limit <= MAX_LIMIT:
        raise CxlensInputError(f"The 'limit' must be between 1 and {MAX_LIMIT}. Got {limit} instead.")
    if offset < 0:
        raise CxlensInputError(f"The 'offset' must be 0 or more. Got {offset} instead.")
    t = _base_table(tables, runner, query)
    time_col = runner.time_column or table_spec(runner.table).time_column or ""
    cond = DateRange.from_dates(query.since, query.until, query.now).filter(t[time_col])
    if cond is not None:
        t = t.filter(cond)
    rows_counted = counted(runner, t)
    if rows_counted is not None:
        t = t.filter(rows_counted)
    for col, text in group.items():
        t = t.filter(t[col].isnull() if text is None or text == NULL else _as_text(t[col]) == text)
    start = _period(period)
    if start is not None:
        if query.grain is None:
            raise CxlensInputError("A drill-down 'period' needs the 'grain' of the figure (day, week, month, "
                                   "quarter or year).")
        t = t.filter(truncate(t[time_col], query.grain, settings.get("week_start", "monday")) == start)
    total = int(t.count().execute())
    id_col = table_spec(runner.table).key
    columns = tuple(c for c in t.columns if not c.startswith("_"))
    page = (t.select(*columns).order_by([ibis.desc(time_col), ibis.asc(id_col)])
            .limit(limit, offset=offset).to_pyarrow().to_pylist())
    value_col = runner.column if isinstance(runner, ScoreRunner) and not isinstance(runner, ResponsesRunner) else None
    return DrillResult(query.metric, runner.table, id_col, time_col, value_col,
                       tuple((b, None if group[b] == NULL else group[b]) for b in query.by), start, total,
                       offset, limit, columns, tuple(page))


def _as_text(col: ibis.Value) -> ibis.Value:
    text = col.cast("string")
    return text.lower() if col.type().is_boolean() else text


def _period(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CxlensInputError(
            f"The drill-down 'period' must be the period's first day, like 2026-01-01. Got {value!r} instead."
        ) from None


__all__ = ["NULL", "DrillResult", "drill_rows", "group_text"]
