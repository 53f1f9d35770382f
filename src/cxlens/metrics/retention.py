"""Churn and retention rates, cohort retention tables and Kaplan–Meier survival of subscriptions.

All four read the ``subscriptions`` table (one row per contract period of a customer); cohorts by
first purchase read ``orders``; breakdowns by customer attributes join ``customers``.

**Active.** A customer is *active at instant t* when at least one of their subscription periods
covers t: ``started_at <= t`` and (``ended_at`` is empty or ``ended_at > t``). A period that ends
at t no longer covers t. Several overlapping periods count once; a gap between two periods is a
time the customer is not active.

**Lost.** A customer is *lost in the period [start, end)* when active at ``start`` and not active
at ``end``. A customer who leaves and comes back before ``end`` is not lost (the rate compares two
instants, not the path between them); one who comes back after ``end`` is lost in that period and
counted again, as active, in the periods that start after the return. Customers who start *and*
leave inside the period are in neither the numerator nor the denominator. A change of plan is not
churn: the customer stays active.

The counting runs in the warehouse as Ibis expressions (a range join of the subscriptions with
the period boundaries, built in Python from the date range and grain); only counts per period and
group are fetched. Intervals and tests are computed from those counts by :mod:`cxlens.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd

from cxlens.clv.rfm import EXCLUDED_STATUSES
from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.metrics.period import DateRange, Grain, period_start, previous_period, truncate
from cxlens.metrics.result import Change, MetricQuery, MetricResult, MetricRow
from cxlens.stats.intervals import min_sample_warning, newcombe_difference, wilson_interval
from cxlens.stats.survival import SurvivalCurve, kaplan_meier

__all__ = [
    "CohortCell", "CohortTable", "SurvivalGroup", "SurvivalPoint", "SurvivalResult", "churn", "cohort_retention",
    "retention", "survival",
]

_HIDDEN = {"_import_id", "_line"}
_TEST = "Newcombe hybrid score interval"


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _naive(ts: datetime) -> datetime:
    """A UTC wall-clock datetime without a time zone (the warehouse convention)."""
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _py(value: Any) -> Any:
    if _missing(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _int(value: Any) -> int:
    return 0 if _missing(value) else int(value)


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _sortable(value: Any) -> tuple[int, str]:
    return (1, "") if value is None else (0, str(value))


def _period_start(ts: datetime, grain: Grain, week_start: str) -> date:
    return period_start(ts, grain, week_start)


def _plus(d: date | datetime, grain: Grain, k: int = 1) -> datetime:
    """``d`` moved ``k`` grain periods later, as a datetime at midnight for a date."""
    start = pd.Timestamp(d)
    return (start + k * grain.offset).to_pydatetime() if k else start.to_pydatetime()


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _active(started: ibis.Value, ended: ibis.Value, at: ibis.Value) -> ibis.Value:
    """The subscription period covers instant ``at``: started_at <= at < ended_at (or no end)."""
    return (started <= at) & (ended.isnull() | (ended > at))


def _table(tables: Mapping[str, ibis.Table], name: str) -> ibis.Table:
    try:
        return tables[name]
    except KeyError:
        raise CxlensInputError(
            f"This computation needs the '{name}' table, but it was not given. Pass it in 'tables'."
        ) from None


# --------------------------------------------------------------------------------------------------
# Attributes: subscription columns, else customer columns joined on customer_id
# --------------------------------------------------------------------------------------------------


def _with_attributes(tables: Mapping[str, ibis.Table], columns: Sequence[str], metric: str) -> ibis.Table:
    """Subscriptions (id, customer, start, end) plus the wanted attribute columns.

    A name that is a column of ``subscriptions`` (e.g. ``plan``) is taken from the subscription;
    any other from ``customers`` (e.g. ``segment``), joined on ``customer_id``.
    """
    subs = _table(tables, "subscriptions")
    wanted = list(dict.fromkeys(columns))
    own = [c for c in wanted if c in subs.columns]
    extra = [c for c in wanted if c not in subs.columns]
    base = ["subscription_id", "customer_id", "started_at", "ended_at"]
    s = subs.select(*base, *(c for c in own if c not in base))
    if extra:
        customers = tables.get("customers")
        unknown = [c for c in extra if customers is None or c not in customers.columns]
        if unknown:
            valid = sorted((set(subs.columns) | set(customers.columns if customers is not None else ()))
                           - _HIDDEN - {"subscription_id", "started_at", "ended_at", "customer_id"})
            raise UnknownNameError(
                f"Unknown column '{unknown[0]}' for metric '{metric}'. Columns you can break down or "
                f"filter by: {', '.join(valid)}."
            )
        assert customers is not None
        c = customers.select(_cx_customer=customers.customer_id, **{x: customers[x] for x in extra})
        s = s.left_join(c, s.customer_id == c._cx_customer).select(*s.columns, *extra)
    return s


def _pick_one(x: ibis.Table, partition: Sequence[str], latest: bool) -> ibis.Table:
    """One row per ``partition``: the subscription that started last (``latest``) or first."""
    order = ([ibis.desc(x.started_at), ibis.desc(x.subscription_id)] if latest
             else [x.started_at, x.subscription_id])
    w = ibis.window(group_by=[x[p] for p in partition], order_by=order)
    return x.mutate(_cx_rank=ibis.row_number().over(w)).filter(lambda t: t._cx_rank == 0).drop("_cx_rank")


# --------------------------------------------------------------------------------------------------
# Churn and retention (metric functions of the engine)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Period:
    label: date | None
    start: datetime
    end: datetime
    partial: bool = False


def _periods(tables: Mapping[str, ibis.Table], query: MetricQuery,
             settings: Mapping[str, Any]) -> tuple[list[_Period], dict[int, _Period]]:
    """The reported periods and, per reported period index, the period it is compared with."""
    now = _naive(query.now)
    if query.grain is None and query.since is None:
        raise CxlensInputError(
            f"'{query.metric}' without a grain is the rate over one period [since, until], so it needs "
            "'since' (e.g. since='2024-01-01'). Or pass a grain (e.g. grain='month') for one rate per "
            "period."
        )
    window = DateRange.from_dates(query.since, query.until, query.now)
    assert window.end is not None  # 'until' defaults to now
    end = min(window.end, now)
    start = window.start
    if start is not None and start >= end:
        raise CxlensInputError(
            f"The range starts at {start.isoformat()}, which is not before now ({now.isoformat()}): "
            f"a rate of '{query.metric}' needs a period that has begun. Give an earlier 'since'."
        )
    if query.grain is None:
        assert start is not None
        current = _Period(None, start, end, end < window.end)
        compared: dict[int, _Period] = {}
        if query.compare is not None:
            prev = DateRange(start, end).shifted(query.compare)
            assert prev.start is not None and prev.end is not None
            compared[0] = _Period(None, prev.start, prev.end)
        return [current], compared
    grain, week_start = query.grain, str(settings.get("week_start", "monday"))
    if start is None:
        subs = _table(tables, "subscriptions")
        first = _py(subs.started_at.min().execute())
        if first is None:
            return [], {}
        start = _naive(pd.Timestamp(first).to_pydatetime())
        if start >= end:
            return [], {}
    periods: list[_Period] = []
    p = _period_start(start, grain, week_start)
    last = _period_start(end - timedelta(microseconds=1), grain, week_start)
    while p <= last:
        natural = _plus(p, grain)
        periods.append(_Period(p, _midnight(p), min(natural, end), natural > end))
        p = natural.date()
    compared = {}
    if query.compare is not None:
        for i, cur in enumerate(periods):
            assert cur.label is not None
            q = previous_period(cur.label, grain, query.compare)
            compared[i] = _Period(q, _midnight(q), min(_plus(q, grain), end))
    return periods, compared


def _count_lost(tables: Mapping[str, ibis.Table], query: MetricQuery,
                periods: Sequence[_Period]) -> dict[tuple[int, tuple[Any, ...]], tuple[int, int]]:
    """(active at start, lost) per (index into ``periods``, breakdown values), from the warehouse."""
    by = list(query.by)
    wanted = [*by, *(c for c, _ in query.where)]
    s = _with_attributes(tables, wanted, query.metric)
    attrs = [c for c in dict.fromkeys(wanted) if c != "customer_id"]
    instants = sorted({p.start for p in periods} | {p.end for p in periods})
    points = ibis.memtable(pd.DataFrame({"_cx_at": pd.to_datetime(instants)}))
    covered = s.join(points, _active(s.started_at, s.ended_at, points._cx_at))
    # One row per (customer, instant): the attributes of the covering period that started last.
    active = _pick_one(covered, ["customer_id", "_cx_at"], latest=True).select("customer_id", "_cx_at", *attrs)
    bounds = ibis.memtable(pd.DataFrame({
        "_cx_idx": np.arange(len(periods), dtype="int64"),
        "_cx_start": pd.to_datetime([p.start for p in periods]),
        "_cx_end": pd.to_datetime([p.end for p in periods]),
    }))
    at_start = active.join(bounds, active._cx_at == bounds._cx_start).select(
        "customer_id", "_cx_idx", "_cx_end", *attrs)
    for col, values in query.where:
        at_start = at_start.filter(at_start[col].cast("string").isin(list(values)))
    at_end = active.select(_cx_customer=active.customer_id, _cx_end_at=active._cx_at)
    pairs = at_start.left_join(
        at_end, [at_start.customer_id == at_end._cx_customer, at_start._cx_end == at_end._cx_end_at])
    counts = pairs.group_by("_cx_idx", *by).aggregate(
        n=pairs.count(), lost=pairs._cx_customer.isnull().cast("int64").sum())
    out: dict[tuple[int, tuple[Any, ...]], tuple[int, int]] = {}
    for rec in counts.to_pandas().to_dict("records"):
        key = (int(rec["_cx_idx"]), tuple(_py(rec.get(b)) for b in by))
        out[key] = (_int(rec["n"]), _int(rec["lost"]))
    return out


def _rows(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any], query: MetricQuery,
          churned: bool) -> list[MetricRow]:
    periods, compared = _periods(tables, query, settings)
    if not periods:
        return []
    everything = [*periods, *compared.values()]
    counts = _count_lost(tables, query, everything)
    reported = range(len(periods))
    groups = sorted({g for (i, g) in counts if i in reported}, key=lambda g: tuple(_sortable(v) for v in g))
    if not query.by:
        groups = [()]
    minimum = int(settings.get("min_sample_size", 30))
    rows = []
    for g in groups:
        for i, p in enumerate(periods):
            n, lost = counts.get((i, g), (0, 0))
            change = None
            if query.compare is not None:
                q = compared[i]
                n0, lost0 = counts.get((len(periods) + i, g), (0, 0))  # compared[i] follows periods
                change = _change(q, n, lost, n0, lost0, churned, query.confidence)
            rows.append(_row(tuple(zip(query.by, g, strict=True)), p, n, lost, churned, change, query.confidence,
                             minimum))
    return rows


def _row(groups: tuple[tuple[str, Any], ...], p: _Period, n: int, lost: int, churned: bool,
         change: Change | None, confidence: float, minimum: int) -> MetricRow:
    x = lost if churned else n - lost
    w = wilson_interval(x, n, confidence)
    comps = (("lost", lost), ("retained", n - lost), ("period_start", p.start.isoformat()),
             ("period_end", p.end.isoformat()))
    warnings: list[str] = []
    if n == 0:
        warnings.append("no active customers at the start of this period")
    else:
        text = min_sample_warning(n, minimum, "customers")
        if text:
            warnings.append(text)
    if p.partial:
        warnings.append(f"partial period: ends at {p.end.isoformat()}")
    return MetricRow(groups, p.label, _pct(w.value), _pct(w.ci_low), _pct(w.ci_high), n, comps, change,
                     tuple(warnings))


def _change(q: _Period, n1: int, lost1: int, n0: int, lost0: int, churned: bool, confidence: float) -> Change:
    x1, x0 = (lost1, lost0) if churned else (n1 - lost1, n0 - lost0)
    d = newcombe_difference(x1, n1, x0, n0, confidence)
    prev = None if n0 == 0 else 100.0 * x0 / n0
    return Change(q.label, prev, n0, _pct(d.estimate), _pct(d.ci_low), _pct(d.ci_high), d.p_value,
                  bool(d.significant), _TEST)


def churn(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any], query: MetricQuery) -> MetricResult:
    """Churn rate.

    Churn = customers lost in the period ÷ customers active at its start × 100, where a customer is
    active at instant t when one of their subscription periods has started_at <= t and no
    ended_at or ended_at > t, and lost when active at the period's start and not at its end (a
    customer who leaves and returns within the period is not lost; a plan change is not churn).
    n = customers active at the start. Without a grain the period is [since, until] (since
    required); with a grain every period of the range, the last one ending at until or now.
    Interval: Wilson score on lost / n. Breakdowns and filters use the subscription's columns
    (plan: the plan of the customer's latest-started active subscription at the period's start)
    or the customer's (segment, country). Change: Newcombe's hybrid score interval.
    """
    rows = _rows(tables, settings, query, churned=True)
    return MetricResult(query.metric, " ".join((churn.__doc__ or "").split()), query, tuple(rows))


def retention(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any], query: MetricQuery) -> MetricResult:
    """Retention rate.

    Retention = 100 − churn = customers active at the period's start and still active at its end ÷
    customers active at its start × 100 (see churn for the definitions of active and lost).
    n = customers active at the start. Interval: Wilson score on retained / n (the mirror of the
    churn interval). Change: Newcombe's hybrid score interval.
    """
    rows = _rows(tables, settings, query, churned=False)
    return MetricResult(query.metric, " ".join((retention.__doc__ or "").split()), query, tuple(rows))


# --------------------------------------------------------------------------------------------------
# Cohort retention
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortCell:
    """One cell: of ``cohort_size`` customers of ``cohort``, ``count`` were retained in period ``period``.

    ``count``, ``share`` and the interval are ``None`` when the period has not ended at ``now``;
    ``share`` (in %, Wilson interval) is also ``None`` for an empty cohort.
    """

    cohort: date
    period: int
    cohort_size: int
    count: int | None
    share: float | None
    ci_low: float | None
    ci_high: float | None
    period_start: datetime
    period_end: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort.isoformat(), "period": self.period, "cohort_size": self.cohort_size,
            "count": self.count, "share": _round(self.share), "ci_low": _round(self.ci_low),
            "ci_high": _round(self.ci_high), "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


@dataclass(frozen=True)
class CohortTable:
    """A cohort retention table: one row per cohort, one column per period offset 0..periods."""

    by: str
    grain: Grain
    periods: int
    now: datetime
    definition: str
    cohorts: tuple[date, ...]
    sizes: tuple[int, ...]
    cells: tuple[CohortCell, ...]
    confidence: float = 0.95
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_records(self) -> list[dict[str, Any]]:
        """One record per cell (long form), cohorts in order, then period offsets."""
        return [c.to_dict() for c in self.cells]

    def to_pandas(self) -> pd.DataFrame:
        """The cells as a long DataFrame (the records); see :meth:`matrix` for the wide table."""
        columns = ["cohort", "period", "cohort_size", "count", "share", "ci_low", "ci_high",
                   "period_start", "period_end"]
        return pd.DataFrame.from_records(self.to_records(), columns=columns)

    def matrix(self, values: Literal["share", "count", "ci_low", "ci_high"] = "share") -> pd.DataFrame:
        """The wide table: cohorts as rows (with ``cohort_size``), offsets 0..periods as columns."""
        if values not in ("share", "count", "ci_low", "ci_high"):
            raise CxlensInputError(
                f"The 'values' parameter must be one of share, count, ci_low, ci_high. Got {values!r} instead."
            )
        grid: dict[date, list[Any]] = {c: [None] * (self.periods + 1) for c in self.cohorts}
        for cell in self.cells:
            grid[cell.cohort][cell.period] = getattr(cell, values)
        frame = pd.DataFrame.from_dict(grid, orient="index", columns=list(range(self.periods + 1)), dtype=object)
        frame.insert(0, "cohort_size", list(self.sizes))
        frame.index.name = "cohort"
        return frame

    def __repr__(self) -> str:
        return f"CohortTable(by={self.by!r}, grain={self.grain.value!r}, {len(self.cohorts)} cohorts)\n" + (
            self.matrix().to_string())


_COHORT_DEFINITIONS = {
    "signup": (
        "Signup cohorts: customers grouped by the period of customers.created_at. Cell k = share of "
        "the cohort with an active subscription (started_at <= t and no ended_at or ended_at > t) at "
        "t = the end of period k (cohort start + k + 1 periods); k = 0 is the signup period itself."
    ),
    "first_purchase": (
        "First-purchase cohorts: customers grouped by the period of their first order "
        "(orders.ordered_at; cancelled and refunded orders left out). Cell k = share of the cohort "
        "that ordered in period k ([cohort start + k periods, cohort start + k + 1 periods)); "
        "k = 0 is 100% by definition."
    ),
}


def cohort_retention(
    tables: Mapping[str, ibis.Table],
    settings: Mapping[str, Any],
    *,
    now: datetime,
    by: Literal["signup", "first_purchase"] = "signup",
    grain: str | Grain = "month",
    periods: int = 12,
    since: date | datetime | str | None = None,
    until: date | datetime | str | None = None,
    confidence: float = 0.95,
) -> CohortTable:
    """Cohort retention table.

    Customers are grouped into cohorts by the ``grain`` period of their signup
    (``customers.created_at``; ``by="signup"``) or of their first order (``orders.ordered_at``;
    ``by="first_purchase"``). For each cohort and period offset k = 0..``periods``:

    - signup cohorts: the share of the cohort with an active subscription at the *end* of period
      k (the instant cohort start + (k + 1) periods);
    - first-purchase cohorts: the share of the cohort with at least one order in period k
      (cancelled and refunded orders do not count, as in the CLV models).

    ``since``/``until`` (inclusive days; ``until`` defaults to ``now``) select the cohorts by the
    timestamp that defines them; every cohort period of the range is a row, empty ones too. A cell
    whose period has not ended at ``now`` is ``None``. Shares are in % with a Wilson interval.
    Customers without ``created_at`` are not in any signup cohort (the count is in ``warnings``).
    """
    g = Grain.parse(grain)
    if g is None:
        raise CxlensInputError("The 'grain' parameter is required for cohorts (e.g. grain='month').")
    if by not in _COHORT_DEFINITIONS:
        raise CxlensInputError(f"The 'by' parameter must be 'signup' or 'first_purchase'. Got {by!r} instead.")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 0:
        raise CxlensInputError(f"The 'periods' parameter must be a whole number, 0 or more. Got {periods!r} instead.")
    now_n = _naive(now)
    week_start = str(settings.get("week_start", "monday"))
    window = DateRange.from_dates(since, until, now)
    assert window.end is not None
    end = min(window.end, now_n)

    warnings: list[str] = []
    if by == "signup":
        customers = _table(tables, "customers")
        missing = _int(customers.filter(customers.created_at.isnull()).count().execute())
        if missing:
            warnings.append(f"{missing} customers have no created_at and are in no signup cohort")
        members = customers.filter(customers.created_at.notnull()).select(
            customer_id=customers.customer_id, _cx_t=customers.created_at)
    else:
        orders = _valid_orders(_table(tables, "orders"))
        members = orders.group_by(customer_id=orders.customer_id).aggregate(_cx_t=orders.ordered_at.min())
    cond = window.filter(members._cx_t)
    members = members.filter(members._cx_t < end) if cond is None else members.filter(cond, members._cx_t < end)
    members = members.mutate(_cx_cohort=truncate(members._cx_t, g, week_start))

    sizes_df = members.group_by("_cx_cohort").aggregate(size=members.count()).to_pandas()
    size_of = {pd.Timestamp(r["_cx_cohort"]).date(): _int(r["size"]) for r in sizes_df.to_dict("records")}
    if window.start is not None:
        first = _period_start(window.start, g, week_start)
    elif size_of:
        first = min(size_of)
    else:
        first = None
    cohorts: list[date] = []
    if first is not None and end > _midnight(first):
        last = _period_start(end - timedelta(microseconds=1), g, week_start)
        c = first
        while c <= last:
            cohorts.append(c)
            c = _plus(c, g).date()

    # The cells whose period has ended, as a small table the warehouse joins with the members.
    spec = [(c, k, _plus(c, g, k), _plus(c, g, k + 1)) for c in cohorts for k in range(periods + 1)]
    done = [(c, k, s, e) for c, k, s, e in spec if e <= now_n and size_of.get(c, 0) > 0]
    counts: dict[tuple[date, int], int] = {}
    if done:
        cells_t = ibis.memtable(pd.DataFrame({
            "_cx_c": pd.to_datetime([c for c, _, _, _ in done]),
            "_cx_k": np.array([k for _, k, _, _ in done], dtype="int64"),
            "_cx_s": pd.to_datetime([s for _, _, s, _ in done]),
            "_cx_e": pd.to_datetime([e for _, _, _, e in done]),
        }))
        cells_t = cells_t.mutate(_cx_c=cells_t._cx_c.cast("date"))
        joined = members.join(cells_t, members._cx_cohort == cells_t._cx_c)
        if by == "signup":
            subs = _table(tables, "subscriptions")
            s = subs.select(_cx_customer=subs.customer_id, _cx_started=subs.started_at, _cx_ended=subs.ended_at)
            hit = joined.join(s, [joined.customer_id == s._cx_customer,
                                  _active(s._cx_started, s._cx_ended, joined._cx_e)])
        else:
            o = orders.select(_cx_customer=orders.customer_id, _cx_ordered=orders.ordered_at)
            hit = joined.join(o, [joined.customer_id == o._cx_customer, o._cx_ordered >= joined._cx_s,
                                  o._cx_ordered < joined._cx_e])
        agg = hit.group_by("_cx_c", "_cx_k").aggregate(count=hit.customer_id.nunique()).to_pandas()
        counts = {(pd.Timestamp(r["_cx_c"]).date(), int(r["_cx_k"])): _int(r["count"])
                  for r in agg.to_dict("records")}

    cells = []
    for c, k, s_, e in spec:
        size = size_of.get(c, 0)
        if e > now_n:
            count, w = None, None
        else:
            count = counts.get((c, k), 0)
            w = wilson_interval(count, size, confidence)
        cells.append(CohortCell(
            c, k, size, count, _pct(w.value) if w else None, _pct(w.ci_low) if w else None,
            _pct(w.ci_high) if w else None, s_, e))
    return CohortTable(by, g, periods, now, _COHORT_DEFINITIONS[by], tuple(cohorts),
                       tuple(size_of.get(c, 0) for c in cohorts), tuple(cells), confidence, tuple(warnings))


def _valid_orders(orders: ibis.Table) -> ibis.Table:
    if "status" not in orders.columns:
        return orders
    return orders.filter(orders.status.isnull() | ~orders.status.lower().isin(list(EXCLUDED_STATUSES)))


# --------------------------------------------------------------------------------------------------
# Survival (Kaplan–Meier of customer lifetime)
# --------------------------------------------------------------------------------------------------

_DEFAULT_POINTS = {"day": (30.0, 90.0, 180.0, 365.0, 730.0), "month": (1.0, 3.0, 6.0, 12.0, 24.0, 36.0)}


@dataclass(frozen=True)
class SurvivalPoint:
    """``S(time)`` with its pointwise interval and the customers still at risk at ``time``."""

    time: float
    survival: float
    ci_low: float
    ci_high: float
    at_risk: int


@dataclass(frozen=True)
class SurvivalGroup:
    """The Kaplan–Meier curve of one group (``groups`` is empty without a breakdown)."""

    groups: tuple[tuple[str, Any], ...]
    n: int
    events: int
    censored: int
    median: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    points: tuple[SurvivalPoint, ...]
    curve: SurvivalCurve

    @property
    def churned_share(self) -> float | None:
        """Customers whose lifetime has ended (events) ÷ all customers of the group × 100."""
        return None if self.n == 0 else 100.0 * self.events / self.n

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.groups)
        out.update(n=self.n, events=self.events, censored=self.censored,
                   churned_share=_round(self.churned_share), median=self.median,
                   median_ci_low=self.median_ci_low, median_ci_high=self.median_ci_high)
        for p in self.points:
            key = f"{p.time:g}"
            out[f"s_{key}"] = _round(p.survival)
            out[f"s_{key}_ci_low"] = _round(p.ci_low)
            out[f"s_{key}_ci_high"] = _round(p.ci_high)
        return out


@dataclass(frozen=True)
class SurvivalResult:
    """Kaplan–Meier survival of customer lifetimes, one curve per group."""

    unit: str
    by: str | None
    now: datetime
    points: tuple[float, ...]
    confidence: float
    definition: str
    groups: tuple[SurvivalGroup, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_records(self) -> list[dict[str, Any]]:
        """One summary record per group: n, events, median (with interval), S at the points."""
        return [g.to_dict() for g in self.groups]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.to_records())

    def curves(self) -> pd.DataFrame:
        """Every curve in long form: group columns, time, at_risk, events, censored, survival, ci."""
        frames = []
        for g in self.groups:
            frame = g.curve.to_pandas().reset_index()
            for i, (name, value) in enumerate(g.groups):
                frame.insert(i, name, value)
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=[*([self.by] if self.by else []), "time", "at_risk", "events",
                                         "censored", "survival", "ci_low", "ci_high"])
        return pd.concat(frames, ignore_index=True)

    def __repr__(self) -> str:
        return f"SurvivalResult(unit={self.unit!r}, by={self.by!r}, {len(self.groups)} curves)\n" + (
            self.to_pandas().to_string())


_SURVIVAL_DEFINITION = (
    "Customer lifetime: from the customer's first subscription start to the last subscription end "
    "(gaps between subscriptions included). A customer with a subscription still active at now "
    "(no ended_at, or ended_at after now) is censored at now. Kaplan–Meier estimate with a "
    "log(-log) Greenwood interval; the median's interval is where the interval's bounds cross 0.5."
)


def _month_index(ts: np.ndarray) -> np.ndarray:
    return ts.astype("datetime64[M]").astype(np.int64)


def _add_months(ts: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``ts`` + ``months`` calendar months, the day clamped to the month's end (as pandas does)."""
    month_start = ts.astype("datetime64[M]")
    offset = ts - month_start.astype(ts.dtype)  # day-of-month − 1 and the time of day
    days = offset.astype("timedelta64[D]")
    time_of_day = offset - days.astype(offset.dtype)
    target = month_start + months.astype("timedelta64[M]")
    target_day = target.astype("datetime64[D]")
    month_len = (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target_day
    clamped = np.minimum(days, month_len - np.timedelta64(1, "D"))
    return (target_day + clamped).astype(ts.dtype) + time_of_day


def _calendar_months(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Elapsed calendar months from ``start`` to ``end`` (>= start), with the last month fractional."""
    whole = _month_index(end) - _month_index(start)
    whole = np.where(_add_months(start, whole) > end, whole - 1, whole)
    lower, upper = _add_months(start, whole), _add_months(start, whole + 1)
    frac = (end - lower).astype("timedelta64[us]").astype(np.float64) / (
        (upper - lower).astype("timedelta64[us]").astype(np.float64))
    return whole.astype(np.float64) + frac


def _durations(start: np.ndarray, end: np.ndarray, unit: str) -> np.ndarray:
    if unit == "month":
        return _calendar_months(start, end)
    return (end - start).astype("timedelta64[us]").astype(np.float64) / 86_400e6


def _median_interval(curve: SurvivalCurve) -> tuple[float | None, float | None]:
    """Times where the lower and upper pointwise bounds first reach 0.5 (None if never)."""
    def first(values: np.ndarray) -> float | None:
        idx = np.flatnonzero(values <= 0.5)
        return float(curve.time[idx[0]]) if idx.size else None
    return first(curve.ci_low), first(curve.ci_high)


def survival(
    tables: Mapping[str, ibis.Table],
    settings: Mapping[str, Any],
    *,
    now: datetime,
    by: str | None = None,
    unit: Literal["day", "month"] = "day",
    points: Sequence[float] | None = None,
    confidence: float = 0.95,
) -> SurvivalResult:
    """Kaplan–Meier survival of customer lifetimes from ``subscriptions``.

    A customer's lifetime runs from their first ``started_at`` to their last ``ended_at``; gaps
    between subscription periods are part of it. A customer with a period still active at
    ``now`` (``ended_at`` empty or after ``now``) is right-censored at ``now``; periods starting
    after ``now`` are ignored. ``unit="day"``: durations in days (86,400 s); ``unit="month"``:
    elapsed calendar months (whole months from the start date, the last one fractional, so
    2024-01-15 → 2024-03-15 is exactly 2).

    ``by`` names a subscription column (the value on the customer's *first* subscription, e.g.
    the plan they joined on) or a customer column (``segment``, ``country``): one curve per group.
    Each group reports n, events (ended lifetimes), censored, the median lifetime (smallest t
    with S(t) <= 0.5, ``None`` if the curve stays above) with its interval (where the pointwise
    bounds reach 0.5), and S(t) with a log(-log) Greenwood interval at ``points`` (default
    1, 3, 6, 12, 24, 36 months or 30, 90, 180, 365, 730 days). Uses
    :func:`cxlens.stats.survival.kaplan_meier`.
    """
    if unit not in _DEFAULT_POINTS:
        raise CxlensInputError(f"The 'unit' parameter must be 'day' or 'month'. Got {unit!r} instead.")
    grid = tuple(float(p) for p in (points if points is not None else _DEFAULT_POINTS[unit]))
    if any(not math.isfinite(p) or p < 0 for p in grid):
        raise CxlensInputError(f"The 'points' parameter must hold times of 0 or more. Got {list(grid)!r}.")
    now_n = _naive(now)
    s = _with_attributes(tables, [by] if by else [], "survival")
    s = s.filter(s.started_at <= now_n)
    open_ = s.ended_at.isnull() | (s.ended_at > now_n)
    per = s.group_by("customer_id").aggregate(
        _cx_first=s.started_at.min(), _cx_last=s.ended_at.max(), _cx_open=open_.cast("int64").max())
    if by:
        picked = _pick_one(s, ["customer_id"], latest=False)
        firsts = picked.select(_cx_customer=picked.customer_id, **{by: picked[by]})
        per = per.left_join(firsts, per.customer_id == firsts._cx_customer).drop("_cx_customer")
    df = per.to_pandas()

    groups: list[SurvivalGroup] = []
    if not df.empty:
        start = pd.to_datetime(df["_cx_first"]).to_numpy(dtype="datetime64[us]")
        last = pd.to_datetime(df["_cx_last"]).to_numpy(dtype="datetime64[us]")
        observed = df["_cx_open"].to_numpy(dtype=np.int64) == 0
        end = np.where(observed, last, np.datetime64(now_n, "us"))
        df = df.assign(_cx_d=_durations(start, end, unit), _cx_e=observed)
        keys = [by] if by else []
        parts = df.groupby(keys, dropna=False, sort=False) if keys else [((), df)]
        for key, part in parts:
            value = key[0] if isinstance(key, tuple) and key else key
            named = ((by, _py(value)),) if by else ()
            groups.append(_group(named, part["_cx_d"].to_numpy(), part["_cx_e"].to_numpy(), grid, confidence))
    groups.sort(key=lambda g: tuple(_sortable(v) for _, v in g.groups))
    return SurvivalResult(unit, by, now, grid, confidence, _SURVIVAL_DEFINITION, tuple(groups))


def _group(named: tuple[tuple[str, Any], ...], durations: np.ndarray, observed: np.ndarray,
           grid: tuple[float, ...], confidence: float) -> SurvivalGroup:
    curve = kaplan_meier(durations, observed, confidence=confidence)
    at = kaplan_meier(durations, observed, timeline=list(grid), confidence=confidence)
    pts = tuple(SurvivalPoint(float(t), float(sv), float(lo), float(hi), int(r))
                for t, sv, lo, hi, r in zip(at.time, at.survival, at.ci_low, at.ci_high, at.at_risk, strict=True))
    order = {t: i for i, t in enumerate(grid)}
    pts = tuple(sorted(pts, key=lambda p: order.get(p.time, 0)))
    lo, hi = _median_interval(curve)
    events = int(np.count_nonzero(observed))
    return SurvivalGroup(named, int(durations.size), events, int(durations.size) - events, curve.median, lo, hi,
                         pts, curve)
