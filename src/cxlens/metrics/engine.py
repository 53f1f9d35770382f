"""Run a :class:`MetricQuery`: build one Ibis expression, let the engine aggregate, add statistics.

The engine computes only counts and sums per (group, period); intervals and tests are computed
from those in Python by :mod:`cxlens.stats`. So the heavy work runs wherever the warehouse is
(DuckDB, Spark, PostgreSQL...) and the numbers are identical on every engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import ibis
import pandas as pd

from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.metrics.period import Compare, DateRange, Grain, previous_period, truncate
from cxlens.metrics.registry import RUNNERS, SPECIAL
from cxlens.metrics.result import Change, MetricQuery, MetricResult, MetricRow
from cxlens.metrics.runner import Runner
from cxlens.schema import table_spec
from cxlens.stats.intervals import min_sample_warning

PERIOD = "period"


def metric_names() -> tuple[str, ...]:
    return (*RUNNERS, *SPECIAL)


def runner_for(metric: str, settings: Mapping[str, Any]) -> Runner:
    try:
        return RUNNERS[metric](settings)
    except KeyError:
        raise UnknownNameError(
            f"Unknown metric '{metric}'. The metrics are: {', '.join(metric_names())}."
        ) from None


def run_metric(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any], query: MetricQuery) -> MetricResult:
    """Compute ``query`` over ``tables`` (name -> Ibis table) with workspace ``settings``."""
    _check_confidence(query.confidence)
    if query.metric in SPECIAL:
        return SPECIAL[query.metric](tables, settings, query)
    return run_runner(runner_for(query.metric, settings), tables, settings, query)


def run_runner(runner: Runner, tables: Mapping[str, ibis.Table], settings: Mapping[str, Any],
               query: MetricQuery) -> MetricResult:
    """The engine's one path for a runner: filter, group, aggregate, estimate, compare."""
    _check_confidence(query.confidence)
    base = _base_table(tables, runner, query)
    time_col = runner.time_column or table_spec(runner.table).time_column or ""
    window = DateRange.from_dates(query.since, query.until, query.now)
    current = _aggregate(base, runner, query, window, time_col, settings)
    if query.compare is None:
        rows = _rows(runner, query, current, None, settings)
    elif query.grain is None:
        previous = _aggregate(base, runner, query, window.shifted(query.compare), time_col, settings)
        rows = _rows(runner, query, current, previous, settings)
    else:
        wider = _widen(window, query.grain, query.compare)
        everything = _aggregate(base, runner, query, wider, time_col, settings)
        rows = _rows(runner, query, current, everything, settings)
    return MetricResult(query.metric, plain_definition(runner.definition), query, tuple(rows))


def plain_definition(text: str) -> str:
    """A runner's definition (its docstring) as one line of plain text for pages, the API and the CLI:
    whitespace folded, the docstring's ``code`` quotes dropped."""
    return " ".join(text.replace("``", "").split())


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise CxlensInputError(
            f"The 'confidence' parameter must be between 0 and 1 (exclusive). Got {confidence} instead."
        )


def _base_table(tables: Mapping[str, ibis.Table], runner: Runner, query: MetricQuery) -> ibis.Table:
    """The runner's table, joined with customers when a breakdown or filter needs their columns."""
    t = runner.prepare(tables[runner.table])
    wanted = [*query.by, *(c for c, _ in query.where)]
    own = set(t.columns)
    customers = tables["customers"]
    extra = [c for c in wanted if c not in own]
    if extra:
        unknown = [c for c in extra if c not in customers.columns or "customer_id" not in own]
        if unknown:
            valid = sorted((own | set(customers.columns)) - {"_import_id", "_line"})
            raise UnknownNameError(
                f"Unknown column '{unknown[0]}' for metric '{runner.name}'. Columns you can break "
                f"down or filter by: {', '.join(valid)}."
            )
        c = customers.select("customer_id", *dict.fromkeys(extra))
        t = t.left_join(c, t.customer_id == c.customer_id).select(*own, *dict.fromkeys(extra))
    for col, values in query.where:
        t = t.filter(t[col].cast("string").isin(list(values)))
    return t


def _aggregate(t: ibis.Table, runner: Runner, query: MetricQuery, window: DateRange,
               time_col: str, settings: Mapping[str, Any]) -> pd.DataFrame:
    cond = window.filter(t[time_col])
    if cond is not None:
        t = t.filter(cond)
    keys: dict[str, ibis.Value] = {b: t[b] for b in query.by}
    if query.grain is not None:
        keys[PERIOD] = truncate(t[time_col], query.grain, settings.get("week_start", "monday"))
    aggs = runner.aggregates(t)
    expr = t.group_by(**keys).aggregate(**aggs) if keys else t.aggregate(**aggs)
    return expr.to_pandas()


def _widen(window: DateRange, grain: Grain, compare: Compare) -> DateRange:
    if window.start is None:
        return window
    step = grain.offset if compare is Compare.PREVIOUS else pd.DateOffset(years=1)
    return DateRange((pd.Timestamp(window.start) - step - grain.offset).to_pydatetime(), window.end)


def _key(record: Mapping[str, Any], by: tuple[str, ...], with_period: bool) -> tuple[Any, ...]:
    key = tuple(_py(record.get(b)) for b in by)
    return (*key, _as_date(record.get(PERIOD))) if with_period else key


def _py(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _as_date(value: Any) -> date | None:
    if value is None or (not isinstance(value, date) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _rows(runner: Runner, query: MetricQuery, current: pd.DataFrame, other: pd.DataFrame | None,
          settings: Mapping[str, Any]) -> list[MetricRow]:
    with_period = query.grain is not None
    records = current.to_dict("records")
    if not records and not query.by and not with_period:
        records = [{}]  # an empty slice still yields one row: n = 0, no value, a warning
    lookup = {}
    if other is not None:
        lookup = {_key(r, query.by, with_period): r for r in other.to_dict("records")}
    rows = [_row(runner, query, r, lookup if other is not None else None, settings) for r in records]
    return sorted(rows, key=lambda r: (tuple(_sortable(v) for _, v in r.groups), r.period or date.min))


def _sortable(value: Any) -> tuple[int, Any]:
    return (1, "") if value is None else (0, str(value))


def _row(runner: Runner, query: MetricQuery, rec: Mapping[str, Any],
         lookup: Mapping[tuple[Any, ...], Mapping[str, Any]] | None, settings: Mapping[str, Any]) -> MetricRow:
    value, lo, hi, n, comps = runner.estimate(rec, query.confidence)
    period = _as_date(rec.get(PERIOD)) if query.grain else None
    warnings = _warnings(n, int(settings.get("min_sample_size", 30)), runner.table)
    change = None
    if lookup is not None:
        change = _change(runner, query, rec, period, lookup)
    groups = tuple((b, _py(rec.get(b))) for b in query.by)
    return MetricRow(groups, period, value, lo, hi, n, comps, change, warnings)


def _change(runner: Runner, query: MetricQuery, rec: Mapping[str, Any], period: date | None,
            lookup: Mapping[tuple[Any, ...], Mapping[str, Any]]) -> Change:
    assert query.compare is not None
    groups = tuple(_py(rec.get(b)) for b in query.by)
    prev_period = previous_period(period, query.grain, query.compare) if query.grain and period else None
    key = (*groups, prev_period) if query.grain else groups
    prev = lookup.get(key, {})
    c = runner.change(rec, prev, query.confidence)
    return Change(prev_period, c.previous_value, c.previous_n, c.difference, c.ci_low, c.ci_high,
                  c.p_value, c.significant, c.method)


def _warnings(n: int, minimum: int, noun: str) -> tuple[str, ...]:
    if n == 0:
        return (f"no {'answers' if noun == 'responses' else noun} in this slice",)
    text = min_sample_warning(n, minimum, noun)
    return (text,) if text else ()
