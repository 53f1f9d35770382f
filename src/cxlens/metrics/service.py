"""Service metrics on ``tickets``: response and resolution times, rates, backlog and volume.

Every runner places a ticket in a period by ``created_at`` (so ``--grain month`` reports the
tickets *opened* in each month) and works with the engine's breakdowns (ticket columns such as
``channel`` or ``topic`` and customer columns such as ``segment``), filters and comparisons.

Where the numbers are computed:

- counts, sums, means and standard deviations are aggregates pushed down to the warehouse;
- the median and the 90th percentile of first response and resolution times are engine-side
  exact quantiles (Ibis ``quantile``: ``QUANTILE_CONT`` on DuckDB, ``PERCENTILE_CONT`` on
  PostgreSQL), i.e. linear interpolation between order statistics, as ``numpy.quantile``; on a
  warehouse whose Ibis backend has only approximate quantiles (e.g. BigQuery, Trino) the
  approximate quantile is used instead;
- the distribution-free interval of the median resolution time needs the order statistics of
  each group, so the resolution times of each group are fetched (one array aggregate per group)
  and :func:`cxlens.stats.intervals.median_interval` runs on them;
- business hours need a calendar, so the (created, resolved) pairs of each group are fetched as
  one array of (epoch seconds, epoch seconds) structs and
  :func:`cxlens.metrics.calendar.business_hours_between` runs on them.

On a warehouse without quantiles or array aggregates (e.g. SQLite) the time metrics stop with a
clear error; the rates, volume and backlog use only counts and run everywhere (tested on SQLite).

Ticket states: a ticket is *resolved* when ``resolved_at`` is set or its ``status`` is
``resolved`` or ``closed`` (any case). Durations use only tickets with the timestamp set and not
before ``created_at``.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import ibis
import ibis.expr.operations as ops
import numpy as np
import pandas as pd
from ibis.common.exceptions import IbisError
from scipy import stats as sps

from cxlens.errors import CxlensInputError
from cxlens.metrics.calendar import BusinessCalendar, business_hours_between
from cxlens.metrics.period import Compare, DateRange, Grain, period_start, previous_period, truncate
from cxlens.metrics.result import Change, MetricQuery, MetricResult, MetricRow
from cxlens.metrics.runner import Estimate, Runner
from cxlens.stats import intervals as st

__all__ = [
    "SERVICE_RUNNERS", "SERVICE_SPECIAL", "BacklogSource", "BusinessResolutionTimeRunner", "FcrRunner",
    "FirstResponseTimeRunner", "ReopenRateRunner", "ResolutionRateRunner", "ResolutionTimeRunner",
    "TicketsRunner", "backlog",
]

#: Status values (compared in lower case, trimmed) that mark a ticket as resolved.
RESOLVED_STATUSES: tuple[str, ...] = ("resolved", "closed")


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays: not a missing scalar
        return False


def _int(agg: Mapping[str, Any], key: str) -> int:
    value = agg.get(key)
    return 0 if _missing(value) else int(value)


def _float(agg: Mapping[str, Any], key: str) -> float | None:
    value = agg.get(key)
    return None if _missing(value) else float(value)


def _array(agg: Mapping[str, Any], key: str) -> np.ndarray:
    value = agg.get(key)
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and _missing(value)):
        return np.array([], dtype=float)
    return np.asarray([np.nan if v is None else v for v in value], dtype=float)


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _nonnegative(low: float | None) -> float | None:
    """Durations are never negative: a t-interval's lower limit is clipped at 0."""
    return None if low is None else max(0.0, low)


def is_resolved(t: ibis.Table) -> ibis.Value:
    """Resolved: ``resolved_at`` set, or ``status`` resolved/closed (never null)."""
    by_status = t.status.strip().lower().isin(list(RESOLVED_STATUSES)).fill_null(False)
    return t.resolved_at.notnull() | by_status


def _hours(t: ibis.Table, end: str, start: str = "created_at") -> ibis.Value:
    """Hours from ``start`` to ``end``; null unless both are set and ``end`` is not before ``start``."""
    valid = t[end].notnull() & t[start].notnull() & (t[end] >= t[start])
    raw = (t[end].epoch_seconds() - t[start].epoch_seconds()) / 3600.0
    return ibis.ifelse(valid, raw, ibis.null("float64"))


def _backend(t: ibis.Table) -> Any | None:
    try:
        return ibis.get_backend(t)
    except IbisError:  # an unbound table: compile-only use, leave the choice to the compiler
        return None


def _quantile(t: ibis.Table, h: ibis.Value, q: float, metric: str) -> ibis.Value:
    """The exact quantile where the warehouse computes one, else its approximate quantile."""
    backend = _backend(t)
    if backend is None or backend.has_operation(ops.Quantile):
        return h.quantile(q)
    if backend.has_operation(ops.ApproxQuantile):
        return h.approx_quantile(q)
    raise CxlensInputError(_unsupported(metric, backend, "quantiles"))


def _require_collect(t: ibis.Table, metric: str) -> None:
    backend = _backend(t)
    if backend is not None and not backend.has_operation(ops.ArrayCollect):
        raise CxlensInputError(_unsupported(metric, backend, "array aggregates"))


def _unsupported(metric: str, backend: Any, what: str) -> str:
    return (f"The metric '{metric}' needs {what}, which the '{backend.name}' warehouse does not compute. "
            "Use a warehouse that does, such as DuckDB (the default), PostgreSQL or ClickHouse.")


def _epoch_to_time(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds (UTC) as ``datetime64[us]``."""
    return np.round(seconds * 1e6).astype("int64").astype("datetime64[us]")


class TicketRunner(Runner):
    """A runner over ``tickets``; periods are placed by ``created_at``."""

    table = "tickets"
    column = "ticket_id"
    time_column = "created_at"


# --------------------------------------------------------------------------------------------------
# Durations (mean with a t-interval, median, p90)
# --------------------------------------------------------------------------------------------------


class _DurationRunner(TicketRunner):
    end_column: ClassVar[str]
    count_name: ClassVar[str]

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        h = _hours(t, self.end_column)
        return {"n": h.count(), "mean": h.mean(), "sd": h.std(), "median": _quantile(t, h, 0.5, self.name),
                "p90": _quantile(t, h, 0.9, self.name), "tickets": t.count()}

    def _summary(self, agg: Mapping[str, Any]) -> tuple[int, float | None, float | None]:
        return _int(agg, "n"), _float(agg, "mean"), _float(agg, "sd")

    def _components(self, agg: Mapping[str, Any], confidence: float) -> tuple[tuple[str, Any], ...]:
        return (("median_hours", _float(agg, "median")), ("p90_hours", _float(agg, "p90")),
                (self.count_name, _int(agg, "n")), ("tickets", _int(agg, "tickets")))

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        n, mean, sd = self._summary(agg)
        e = st.mean_interval(n, mean, sd, confidence)
        return e.value, _nonnegative(e.ci_low), e.ci_high, n, self._components(agg, confidence)

    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        n1, m1, s1 = self._summary(cur)
        n0, m0, s0 = self._summary(prev)
        d = st.mean_difference(n1, m1, s1, n0, m0, s0, confidence)
        return Change(None, m0 if n0 else None, n0, d.estimate, d.ci_low, d.ci_high, d.p_value,
                      bool(d.significant), "Welch t-test on the mean")


class FirstResponseTimeRunner(_DurationRunner):
    """First response time (FRT).

    Hours from ``created_at`` to ``first_response_at`` over the tickets that have a first response
    (``n`` = answered tickets). Value: the mean, with a Student t-interval (clipped at 0). Also reported:
    ``median_hours`` and ``p90_hours`` (exact quantiles computed by the warehouse, linear
    interpolation), ``answered`` and all ``tickets`` of the slice (answered or not). Change: Welch's
    t-test on the difference of the means.
    """

    name = "first_response_time"
    end_column = "first_response_at"
    count_name = "answered"
    definition = __doc__ or ""


class ResolutionTimeRunner(_DurationRunner):
    """Resolution time (time to resolution, TTR).

    Hours from ``created_at`` to ``resolved_at`` over the resolved tickets that have a
    ``resolved_at`` (``n``). Value: the mean, with a Student t-interval (clipped at 0). Also
    reported: ``median_hours`` (exact quantile computed by the warehouse) with a distribution-free binomial
    order-statistic interval (``median_ci_low``/``median_ci_high``, computed from the fetched
    resolution times of each group; none for n <= 5 at 95%), ``p90_hours``, ``resolved`` and all
    ``tickets`` of the slice. Change: Welch's t-test on the difference of the means.
    """

    name = "resolution_time"
    end_column = "resolved_at"
    count_name = "resolved"
    definition = __doc__ or ""

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        aggs = super().aggregates(t)
        _require_collect(t, self.name)
        h = _hours(t, self.end_column)
        aggs["durations"] = h.collect(where=h.notnull())
        return aggs

    def _components(self, agg: Mapping[str, Any], confidence: float) -> tuple[tuple[str, Any], ...]:
        values = _array(agg, "durations")
        m = st.median_interval(values[~np.isnan(values)], confidence)
        median, p90, resolved, tickets = super()._components(agg, confidence)
        return (median, ("median_ci_low", m.ci_low), ("median_ci_high", m.ci_high), p90, resolved, tickets)


class BusinessResolutionTimeRunner(TicketRunner):
    """Resolution time in business hours.

    Business hours from ``created_at`` to ``resolved_at`` over the resolved tickets that have a
    ``resolved_at`` (``n``), counting only the opening hours of the business calendar (settings
    ``business_days``, ``business_hours``, ``business_timezone``, ``business_holidays``; default
    Monday to Friday 09:00-17:00 UTC, no holidays), measured on the calendar's local wall clock.
    Value: the mean, with a Student t-interval (clipped at 0). Also reported: ``median_hours``
    with a distribution-free binomial order-statistic interval, ``p90_hours`` (linear interpolation),
    ``resolved``, ``tickets`` and the ``calendar``. The (created, resolved) pairs of each group
    are fetched and measured in Python. Change: Welch's t-test on the difference of the means.
    """

    name = "resolution_time_business"
    definition = __doc__ or ""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self.calendar = BusinessCalendar.from_settings(settings)

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        _require_collect(t, self.name)
        valid = t.resolved_at.notnull() & (t.resolved_at >= t.created_at)
        # One array of (start, end) pairs per group: the pairs stay together on every engine.
        pair = ibis.struct({"s": t.created_at.epoch_seconds(), "e": t.resolved_at.epoch_seconds()})
        return {"n": valid.cast("int64").sum(), "pairs": pair.collect(where=valid), "tickets": t.count()}

    def business_hours(self, agg: Mapping[str, Any]) -> np.ndarray:
        pairs = agg.get("pairs")
        if pairs is None or (not isinstance(pairs, (list, tuple, np.ndarray)) and _missing(pairs)) or not len(pairs):
            return np.array([], dtype=float)
        starts = np.array([float(p["s"]) for p in pairs])
        ends = np.array([float(p["e"]) for p in pairs])
        return business_hours_between(_epoch_to_time(starts), _epoch_to_time(ends), self.calendar)

    def _summary(self, hours: np.ndarray) -> tuple[int, float | None, float | None]:
        n = int(hours.size)
        mean = float(hours.mean()) if n else None
        sd = float(hours.std(ddof=1)) if n > 1 else None
        return n, mean, sd

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        hours = self.business_hours(agg)
        n, mean, sd = self._summary(hours)
        e = st.mean_interval(n, mean, sd, confidence)
        m = st.median_interval(hours, confidence)
        p90 = float(np.quantile(hours, 0.9)) if n else None
        comps = (("median_hours", m.value), ("median_ci_low", m.ci_low), ("median_ci_high", m.ci_high),
                 ("p90_hours", p90), ("resolved", n), ("tickets", _int(agg, "tickets")),
                 ("calendar", self.calendar.describe()))
        return e.value, _nonnegative(e.ci_low), e.ci_high, n, comps

    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        n1, m1, s1 = self._summary(self.business_hours(cur))
        n0, m0, s0 = self._summary(self.business_hours(prev))
        d = st.mean_difference(n1, m1, s1, n0, m0, s0, confidence)
        return Change(None, m0, n0, d.estimate, d.ci_low, d.ci_high, d.p_value, bool(d.significant),
                      "Welch t-test on the mean")


# --------------------------------------------------------------------------------------------------
# Rates (% with a Wilson interval; changes by Newcombe)
# --------------------------------------------------------------------------------------------------


class RateMixin:
    """A rate over the rows of a table: % of ``base`` rows that are ``success`` rows, with a Wilson
    interval; changes by Newcombe. ``rows_name`` names the rows (``tickets``, ``cases``)."""

    success_name: ClassVar[str]
    base_name: ClassVar[str]
    rows_name: ClassVar[str]

    @abstractmethod
    def base(self, t: ibis.Table) -> ibis.Value:
        """The rows in the denominator (a boolean, never null)."""

    @abstractmethod
    def success(self, t: ibis.Table) -> ibis.Value:
        """The rows in the numerator (a boolean, never null; only counted within ``base``)."""

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        base = self.base(t)
        return {"n": base.cast("int64").sum(), "successes": (base & self.success(t)).cast("int64").sum(),
                self.rows_name: t.count()}

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        n, x = _int(agg, "n"), _int(agg, "successes")
        p = st.wilson_interval(x, n, confidence)
        comps: tuple[tuple[str, Any], ...] = ((self.success_name, x), (self.base_name, n))
        if self.base_name != self.rows_name:
            comps = (*comps, (self.rows_name, _int(agg, self.rows_name)))
        return _pct(p.value), _pct(p.ci_low), _pct(p.ci_high), n, comps

    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        x1, n1, x0, n0 = _int(cur, "successes"), _int(cur, "n"), _int(prev, "successes"), _int(prev, "n")
        d = st.newcombe_difference(x1, n1, x0, n0, confidence)
        return Change(None, 100.0 * x0 / n0 if n0 else None, n0, _pct(d.estimate), _pct(d.ci_low),
                      _pct(d.ci_high), d.p_value, bool(d.significant), "Newcombe hybrid score interval")


class _RateRunner(RateMixin, TicketRunner):
    rows_name = "tickets"


class ResolutionRateRunner(_RateRunner):
    """Issue resolution rate.

    100 × resolved tickets ÷ all tickets (``n``), where a ticket is resolved when ``resolved_at``
    is set or its ``status`` is resolved or closed. Interval: Wilson score. Change: Newcombe's
    hybrid score interval for the difference of two proportions.
    """

    name = "resolution_rate"
    success_name = "resolved"
    base_name = "tickets"
    definition = __doc__ or ""

    def base(self, t: ibis.Table) -> ibis.Value:
        return t.ticket_id.notnull()

    def success(self, t: ibis.Table) -> ibis.Value:
        return is_resolved(t)


class FcrRunner(_RateRunner):
    """First contact resolution (FCR).

    100 × resolved tickets with exactly one customer contact (``contacts = 1``) ÷ resolved tickets
    whose number of contacts is known (``n``; a resolved ticket with 0 contacts counts in the
    denominator only). Interval: Wilson score. Change: Newcombe's hybrid score interval.
    """

    name = "fcr"
    success_name = "first_contact_resolved"
    base_name = "resolved_with_contacts"
    definition = __doc__ or ""

    def base(self, t: ibis.Table) -> ibis.Value:
        return is_resolved(t) & t.contacts.notnull()

    def success(self, t: ibis.Table) -> ibis.Value:
        return (t.contacts == 1).fill_null(False)


class ReopenRateRunner(_RateRunner):
    """Reopen rate.

    100 × reopened tickets ÷ resolved tickets with a known ``reopened`` flag (``n``). Resolved means
    ever resolved: ``resolved_at`` set, status resolved/closed, or ``reopened`` true (a reopened
    ticket was resolved once, even if it is open again now). Interval: Wilson score. Change:
    Newcombe's hybrid score interval.
    """

    name = "reopen_rate"
    success_name = "reopened"
    base_name = "resolved_with_flag"
    definition = __doc__ or ""

    def base(self, t: ibis.Table) -> ibis.Value:
        reopened = t.reopened.fill_null(False)
        return (is_resolved(t) | reopened) & t.reopened.notnull()

    def success(self, t: ibis.Table) -> ibis.Value:
        return t.reopened.fill_null(False)


# --------------------------------------------------------------------------------------------------
# Volume (a count with a Poisson interval)
# --------------------------------------------------------------------------------------------------


def poisson_interval(count: int, confidence: float) -> tuple[float, float]:
    """Exact (Garwood 1936) interval of a Poisson mean from one observed ``count``:
    ``[chi2(α/2; 2k) / 2, chi2(1 − α/2; 2k + 2) / 2]`` (the lower limit is 0 when ``k = 0``)."""
    alpha = 1.0 - confidence
    low = 0.0 if count == 0 else float(sps.chi2.ppf(alpha / 2, 2 * count)) / 2
    high = float(sps.chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return low, high


class TicketsRunner(TicketRunner):
    """Ticket volume.

    The number of tickets created (``n`` = value; an empty slice is 0 tickets). Interval: the
    exact Poisson (Garwood) interval of the underlying ticket rate per period of the same length.
    Break down by ``channel`` (source) or ``topic`` with ``--by``. Change: the difference of the
    counts with a normal-approximation interval ``±z·√(n₁ + n₀)`` and the exact conditional
    binomial test of equal rates (equal period lengths assumed).
    """

    name = "tickets"
    definition = __doc__ or ""

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        return {"n": t.count()}

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        n = _int(agg, "n")
        low, high = poisson_interval(n, confidence)
        return float(n), low, high, n, ()

    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        n1, n0 = _int(cur, "n"), _int(prev, "n")
        total = n1 + n0
        half = float(sps.norm.ppf(0.5 + confidence / 2)) * math.sqrt(total)
        p_value = float(sps.binomtest(n1, total, 0.5).pvalue) if total else 1.0
        return Change(None, float(n0), n0, float(n1 - n0), n1 - n0 - half, n1 - n0 + half, p_value,
                      p_value < 1 - confidence, "exact conditional test of two Poisson counts")


# --------------------------------------------------------------------------------------------------
# Backlog (open tickets at instants: a special metric)
# --------------------------------------------------------------------------------------------------


class BacklogSource(TicketsRunner):
    """The ticket rows behind the backlog, used only for its breakdowns and filters; the backlog
    itself is counted by :func:`backlog` at period ends, not aggregated per period."""

    name = "backlog"
    definition = ""


def backlog(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any], query: MetricQuery) -> MetricResult:
    """Backlog: open tickets at an instant.

    The number of tickets created before the instant and not resolved before it (``resolved_at``
    empty or at/after the instant). Without a grain the instant is the end of the range (``until``,
    default now); with a grain it is the end of each period (the range's end for the last, partial
    period), and periods run from ``since`` (default: the first ticket) to the range's end.
    Tickets whose status is resolved/closed but that have no ``resolved_at`` cannot be placed in
    time and are left out. Breakdowns and filters use the ticket's (or its customer's) current
    attributes. The backlog is an exact count of the stored tickets, not a sample: the interval is
    the count itself and ``n`` is the count. Also reported: ``created`` and ``resolved`` (tickets
    created / resolved before the instant) and ``as_of`` (the instant). Change: the difference of
    the counts (exact, no sampling test).
    """
    from cxlens.metrics import engine  # the engine imports the registry, which imports this module

    t = engine._base_table(tables, BacklogSource(settings), query)
    window = DateRange.from_dates(query.since, query.until, query.now)
    end = window.end
    assert end is not None  # 'until' defaults to now
    placed = ~(t.resolved_at.isnull() & is_resolved(t))
    t = t.filter(placed, t.created_at < end)
    if query.grain is None:
        rows = _backlog_at_end(t, query, window)
    else:
        rows = _backlog_by_period(t, query, window, query.grain, str(settings.get("week_start", "monday")))
    rows.sort(key=lambda r: (tuple(_sortable(v) for _, v in r.groups), r.period or date.min))
    return MetricResult(query.metric, " ".join((backlog.__doc__ or "").split()), query, tuple(rows))


_BACKLOG_TEST = "exact count difference (a census: no sampling test)"


def _py(value: Any) -> Any:
    if _missing(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _sortable(value: Any) -> tuple[int, Any]:
    return (1, "") if value is None else (0, str(value))


def _backlog_row(groups: tuple[tuple[str, Any], ...], period: date | None, counts: tuple[int, int, int],
                 as_of: datetime, change: Change | None) -> MetricRow:
    created, resolved, open_ = counts
    comps = (("created", created), ("resolved", resolved), ("as_of", as_of.isoformat()))
    warnings = () if created else ("no tickets in this slice",)
    value = float(open_)
    return MetricRow(groups, period, value, value, value, open_, comps, change, warnings)


def _backlog_change(period: date | None, cur_open: int, prev_open: int) -> Change:
    return Change(period, float(prev_open), prev_open, float(cur_open - prev_open), None, None, None,
                  False, _BACKLOG_TEST)


def _backlog_at_end(t: ibis.Table, query: MetricQuery, window: DateRange) -> list[MetricRow]:
    assert window.end is not None
    instants = [window.end]
    if query.compare is not None:
        prev_end = window.shifted(query.compare).end
        assert prev_end is not None
        instants.append(prev_end)
    aggs: dict[str, ibis.Value] = {}
    for i, at in enumerate(instants):
        created = t.created_at < at
        resolved = (t.resolved_at < at).fill_null(False)
        aggs[f"created_{i}"] = created.cast("int64").sum()
        aggs[f"resolved_{i}"] = resolved.cast("int64").sum()
        aggs[f"open_{i}"] = (created & ~resolved).cast("int64").sum()
    keys = {b: t[b] for b in query.by}
    expr = t.group_by(**keys).aggregate(**aggs) if keys else t.aggregate(**aggs)
    records = expr.to_pandas().to_dict("records") or ([{}] if not query.by else [])
    rows = []
    for rec in records:
        groups = tuple((b, _py(rec.get(b))) for b in query.by)
        counts = [(_int(rec, f"created_{i}"), _int(rec, f"resolved_{i}"), _int(rec, f"open_{i}"))
                  for i in range(len(instants))]
        change = _backlog_change(None, counts[0][2], counts[1][2]) if len(counts) > 1 else None
        rows.append(_backlog_row(groups, None, counts[0], instants[0], change))
    return rows


def truncate_date(ts: datetime, grain: Grain, week_start: str = "monday") -> date:
    """The start of the period containing ``ts`` (see :func:`cxlens.metrics.period.period_start`)."""
    return period_start(ts, grain, week_start)


class _Cumulative:
    """Cumulative counts per period start: how many events fell in periods up to and including q."""

    def __init__(self, periods: Sequence[date], counts: Sequence[int]) -> None:
        order = np.argsort(np.array(periods, dtype="datetime64[D]"))
        self.periods = np.array(periods, dtype="datetime64[D]")[order]
        self.cum = np.cumsum(np.array(counts, dtype=np.int64)[order])

    def upto(self, q: date) -> int:
        i = int(np.searchsorted(self.periods, np.datetime64(q, "D"), side="right"))
        return int(self.cum[i - 1]) if i else 0


def _per_group(frame: pd.DataFrame, by: tuple[str, ...], count: str) -> dict[tuple[Any, ...], _Cumulative]:
    buckets: dict[tuple[Any, ...], tuple[list[date], list[int]]] = {}
    for rec in frame.to_dict("records"):
        key = tuple(_py(rec.get(b)) for b in by)
        periods, counts = buckets.setdefault(key, ([], []))
        periods.append(pd.Timestamp(rec["period"]).date())
        counts.append(_int(rec, count))
    return {k: _Cumulative(p, c) for k, (p, c) in buckets.items()}


def _backlog_by_period(t: ibis.Table, query: MetricQuery, window: DateRange, grain: Grain,
                       week_start: str) -> list[MetricRow]:
    end = window.end
    assert end is not None
    keys = {b: t[b] for b in query.by}
    created = t.group_by(**keys, period=truncate(t.created_at, grain, week_start)).aggregate(k=t.count())
    done = t.filter(t.resolved_at < end)
    resolved = done.group_by(**{b: done[b] for b in query.by},
                             period=truncate(done.resolved_at, grain, week_start)).aggregate(k=done.count())
    created_df, resolved_df = created.to_pandas(), resolved.to_pandas()
    made = _per_group(created_df, query.by, "k")
    closed = _per_group(resolved_df, query.by, "k")
    groups = list(made) or ([()] if not query.by and window.start is not None else [])
    if not groups:
        return []
    if window.start is not None:
        first = truncate_date(window.start, grain, week_start)
    else:
        first = min(pd.Timestamp(p).date() for p in created_df["period"])
    last = truncate_date(end - timedelta(microseconds=1), grain, week_start)
    periods = []
    p = first
    while p <= last:
        periods.append(p)
        p = (pd.Timestamp(p) + grain.offset).date()
    empty = _Cumulative([], [])

    def counts(key: tuple[Any, ...], q: date) -> tuple[int, int, int]:
        c, r = made.get(key, empty).upto(q), closed.get(key, empty).upto(q)
        return c, r, c - r

    rows = []
    for key in groups:
        named = tuple(zip(query.by, key, strict=True))
        for p in periods:
            natural_end = (pd.Timestamp(p) + grain.offset).to_pydatetime()
            as_of = min(natural_end, end)
            cur = counts(key, p)
            change = None
            if query.compare is not None:
                q = previous_period(p, grain, Compare(query.compare))
                change = _backlog_change(q, cur[2], counts(key, q)[2])
            rows.append(_backlog_row(named, p, cur, as_of, change))
    return rows


SERVICE_RUNNERS: tuple[type[Runner], ...] = (
    FirstResponseTimeRunner, ResolutionTimeRunner, BusinessResolutionTimeRunner, ResolutionRateRunner,
    FcrRunner, ReopenRateRunner, TicketsRunner,
)

#: Service metrics computed outside the generic engine (see ``registry.SPECIAL``).
SERVICE_SPECIAL = {"backlog": backlog}
