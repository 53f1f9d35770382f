"""Closed-loop metrics on ``cases``: closed-loop rate, time to acknowledge and to close, SLA attainment
and recovery of detractors.

The case inbox writes a snapshot of every case to the ``cases`` table (its current state, due
times and business-hour durations measured with the case's own calendar), so these runners read
that snapshot like any other table. Every runner places a case in a period by ``opened_at``:
``--grain month`` reports on the cases *opened* in each month, as they stand now (recent periods
still hold open cases). Breakdowns and filters take case columns (``owner``, ``team``,
``priority``, ``reason``, ``theme``...) and customer columns (``segment``...).

Where the numbers are computed: the rates are counts pushed down to the warehouse. The
durations need their median (with a distribution-free interval) and 90th percentile, so the
durations of each group are fetched (in whole milliseconds) as one array aggregate per group — or, on a warehouse
without arrays such as SQLite, as one comma-separated text aggregate — and the mean, standard
deviation and quantiles are computed from them in Python (one pass, the same arithmetic on every
engine). So every loop metric runs on DuckDB and on SQLite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import ibis
import ibis.expr.operations as ops
import numpy as np
from ibis.common.exceptions import IbisError

from cxlens.errors import CxlensInputError
from cxlens.metrics.result import Change, MetricQuery, MetricResult
from cxlens.metrics.runner import Estimate, Runner
from cxlens.metrics.service import RateMixin
from cxlens.stats import intervals as st

__all__ = [
    "LOOP_RUNNERS", "LOOP_SPECIAL", "ClosedLoopRateRunner", "RecoveryRateRunner", "SlaAttainmentRunner",
    "TimeToAcknowledgeRunner", "TimeToCloseRunner", "recovery_cases", "recovery_rate",
]

#: A response with an NPS at or below this is a detractor; at or above ``RECOVERED_NPS`` the
#: customer is no longer a detractor (a passive or a promoter).
DETRACTOR_NPS = 6
RECOVERED_NPS = 7
_MS_PER_HOUR = 3_600_000


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN / NaT
    except (TypeError, ValueError):
        return False


def _int(agg: Mapping[str, Any], key: str) -> int:
    value = agg.get(key)
    return 0 if _missing(value) else int(value)


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def is_closed(t: ibis.Table) -> ibis.Value:
    """Closed: ``closed_at`` set or ``status`` closed (any case, trimmed); never null."""
    return t.closed_at.notnull() | (t.status.strip().lower() == "closed").fill_null(False)


def resolution_time(t: ibis.Table) -> ibis.Value:
    """When the case was resolved: ``resolved_at``, else ``closed_at`` (closing implies resolving)."""
    return ibis.coalesce(t.resolved_at, t.closed_at)


def _backend(t: ibis.Table) -> Any | None:
    try:
        return ibis.get_backend(t)
    except IbisError:  # an unbound table: compile-only use
        return None


def _collect(t: ibis.Table, h: ibis.Value) -> ibis.Value:
    """All non-null values of ``h`` per group: an array, or comma-separated text where arrays are missing."""
    backend = _backend(t)
    if backend is None or backend.has_operation(ops.ArrayCollect):
        return h.collect(where=h.notnull())
    if backend.has_operation(ops.GroupConcat):
        return h.cast("string").group_concat(",", where=h.notnull())
    raise CxlensInputError(
        f"The duration metrics need array or text aggregates, which the '{backend.name}' warehouse does not "
        "compute. Use a warehouse that does, such as DuckDB (the default), SQLite or PostgreSQL.")


def _values(agg: Mapping[str, Any], key: str) -> np.ndarray:
    value = agg.get(key)
    if isinstance(value, str):
        return np.array([float(v) for v in value.split(",") if v], dtype=float)
    if value is None or (not isinstance(value, list | tuple | np.ndarray) and _missing(value)):
        return np.array([], dtype=float)
    arr = np.asarray([np.nan if v is None else v for v in value], dtype=float)
    return arr[~np.isnan(arr)]


class CaseRunner(Runner):
    """A runner over ``cases``; periods are placed by ``opened_at``."""

    table = "cases"
    column = "case_id"
    time_column = "opened_at"


# --------------------------------------------------------------------------------------------------
# Rates (% with a Wilson interval; changes by Newcombe)
# --------------------------------------------------------------------------------------------------


class _CaseRateRunner(RateMixin, CaseRunner):
    rows_name = "cases"

    def counted(self, t: ibis.Table) -> ibis.Value:
        """The cases counted in ``n`` (the rows behind a figure)."""
        return self.base(t)


class ClosedLoopRateRunner(_CaseRateRunner):
    """Closed-loop rate.

    100 × cases that reached *closed* with the customer contacted ÷ all cases opened in the
    period (``n``). Closed: ``closed_at`` set or ``status`` closed; contacted: ``customer_contacted``
    true (the customer got a follow-up; empty counts as not contacted). Cases are placed by
    ``opened_at`` and counted as they stand now. Interval: Wilson score. Change: Newcombe's hybrid
    score interval for the difference of two proportions. Also reported: ``closed_loop`` (the
    numerator) and ``closed`` (closed cases, contacted or not).
    """

    name = "closed_loop_rate"
    success_name = "closed_loop"
    base_name = "cases"
    definition = __doc__ or ""

    def base(self, t: ibis.Table) -> ibis.Value:
        return t.case_id.notnull()

    def success(self, t: ibis.Table) -> ibis.Value:
        return is_closed(t) & t.customer_contacted.fill_null(False)

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        return {**super().aggregates(t), "closed": is_closed(t).cast("int64").sum()}

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        value, low, high, n, comps = super().estimate(agg, confidence)
        return value, low, high, n, (*comps, ("closed", _int(agg, "closed")))


class SlaAttainmentRunner(_CaseRateRunner):
    """SLA attainment (resolution).

    100 × cases resolved by their ``resolve_due_at`` ÷ resolved or closed cases that have a due
    time (``n``). The resolution instant is ``resolved_at``, else ``closed_at``; a case resolved
    exactly at its due time attained the SLA. Cases without a due time (no SLA) or still open are
    left out; ``cases`` reports all cases of the slice. Interval: Wilson score. Change: Newcombe's
    hybrid score interval.
    """

    name = "sla_attainment"
    success_name = "within_sla"
    base_name = "resolved_with_sla"
    definition = __doc__ or ""

    def base(self, t: ibis.Table) -> ibis.Value:
        return resolution_time(t).notnull() & t.resolve_due_at.notnull()

    def success(self, t: ibis.Table) -> ibis.Value:
        return (resolution_time(t) <= t.resolve_due_at).fill_null(False)


class RecoveryRateRunner(_CaseRateRunner):
    """Recovery rate (detractors won back).

    Over the cases opened from a detractor NPS response (``source_table`` = responses and that
    response's ``nps`` ≤ 6): 100 × cases whose customer's *next* NPS response — the first one
    submitted after the case was opened — scores 7 or more ÷ such cases whose customer has
    answered NPS again since (``n``). Cases whose customer has not answered again are not in the
    denominator (the outcome is unknown, not a failure); they are reported as ``awaiting``, and
    all detractor cases of the slice as ``detractor_cases``. The customer is the case's
    ``customer_id``, else the source response's. When several responses share the first instant,
    the lowest score counts. Interval: Wilson score. Change: Newcombe's hybrid score interval.
    """

    name = "recovery_rate"
    success_name = "recovered"
    base_name = "answered_again"
    definition = __doc__ or ""

    def base(self, t: ibis.Table) -> ibis.Value:
        return t._next_nps.notnull()

    def success(self, t: ibis.Table) -> ibis.Value:
        return (t._next_nps >= RECOVERED_NPS).fill_null(False)

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        value, low, high, n, comps = super().estimate(agg, confidence)
        comps = tuple(("detractor_cases", v) if k == "cases" else (k, v) for k, v in comps)
        return value, low, high, n, (*comps, ("awaiting", _int(agg, "cases") - n))


# --------------------------------------------------------------------------------------------------
# Durations in business hours (mean with a t-interval, median with its interval, p90)
# --------------------------------------------------------------------------------------------------


class _CaseDurationRunner(CaseRunner):
    hours_column: ClassVar[str]
    count_name: ClassVar[str]

    def counted(self, t: ibis.Table) -> ibis.Value:
        """The cases counted in ``n`` (the rows behind a figure)."""
        return t[self.hours_column].notnull()

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        # Whole milliseconds: exact as integers and as text, so every engine hands over the same numbers.
        ms = (t[self.hours_column] * _MS_PER_HOUR).round().cast("int64")
        return {"values": _collect(t, ms), "cases": t.count()}

    @staticmethod
    def _summary(hours: np.ndarray) -> tuple[int, float | None, float | None]:
        n = int(hours.size)
        return n, float(hours.mean()) if n else None, float(hours.std(ddof=1)) if n > 1 else None

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        hours = _values(agg, "values") / _MS_PER_HOUR
        n, mean, sd = self._summary(hours)
        e = st.mean_interval(n, mean, sd, confidence)
        m = st.median_interval(hours, confidence)
        p90 = float(np.quantile(hours, 0.9)) if hours.size else None
        comps = (("median_hours", m.value), ("median_ci_low", m.ci_low), ("median_ci_high", m.ci_high),
                 ("p90_hours", p90), (self.count_name, n), ("cases", _int(agg, "cases")))
        low = None if e.ci_low is None else max(0.0, e.ci_low)  # durations are never negative
        return e.value, low, e.ci_high, n, comps

    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        n1, m1, s1 = self._summary(_values(cur, "values") / _MS_PER_HOUR)
        n0, m0, s0 = self._summary(_values(prev, "values") / _MS_PER_HOUR)
        d = st.mean_difference(n1, m1, s1, n0, m0, s0, confidence)
        return Change(None, m0, n0, d.estimate, d.ci_low, d.ci_high, d.p_value,
                      bool(d.significant), "Welch t-test on the mean")


class TimeToAcknowledgeRunner(_CaseDurationRunner):
    """Time to acknowledge a case, in business hours.

    ``ack_business_hours`` (business hours from opening to the owner's first acknowledgement,
    measured by the case inbox on the case's SLA calendar) over the acknowledged cases (``n``).
    Value: the mean, with a Student t-interval (clipped at 0). Also reported: ``median_hours`` with
    a distribution-free binomial order-statistic interval (none for n ≤ 5 at 95%), ``p90_hours``
    (linear interpolation), ``acknowledged`` and all ``cases`` of the slice. Change: Welch's t-test
    on the difference of the means.
    """

    name = "time_to_acknowledge"
    hours_column = "ack_business_hours"
    count_name = "acknowledged"
    definition = __doc__ or ""


class TimeToCloseRunner(_CaseDurationRunner):
    """Time to close the loop, in business hours.

    ``close_business_hours`` (business hours from opening to closing, measured by the case inbox
    on the case's SLA calendar) over the closed cases (``n``). Value: the mean, with a Student
    t-interval (clipped at 0). Also reported: ``median_hours`` with a distribution-free binomial
    order-statistic interval, ``p90_hours``, ``closed`` and all ``cases`` of the slice. Change:
    Welch's t-test on the difference of the means.
    """

    name = "time_to_close"
    hours_column = "close_business_hours"
    count_name = "closed"
    definition = __doc__ or ""


# --------------------------------------------------------------------------------------------------
# Recovery: cases joined with the customer's next NPS answer (a special metric)
# --------------------------------------------------------------------------------------------------


def recovery_cases(cases: ibis.Table, responses: ibis.Table) -> ibis.Table:
    """The detractor cases with ``_next_nps``: the score of the customer's first NPS answer after opening.

    One row per case opened from a response (``source_table`` = responses) whose ``nps`` is at
    most 6, with every ``cases`` column (``customer_id`` filled from the response when the case
    has none) and ``_next_nps`` (null while the customer has not answered again).
    """
    src = responses.select(_src_id=responses.response_id.cast("string"), _src_nps=responses.nps,
                           _src_customer=responses.customer_id)
    own = cases.filter(cases.source_table.strip().lower() == "responses")
    own = own.inner_join(src, own.source_id.cast("string") == src._src_id)
    own = own.filter(own._src_nps <= DETRACTOR_NPS)
    own = own.mutate(customer_id=ibis.coalesce(own.customer_id, own._src_customer)).select(*cases.columns)
    answers = responses.filter(responses.nps.notnull(), responses.customer_id.notnull())
    answers = answers.select(_a_customer=answers.customer_id, _a_at=answers.submitted_at, _a_nps=answers.nps)
    keys = own.select(_case=own.case_id, _customer=own.customer_id, _opened=own.opened_at)
    later = keys.inner_join(answers, [keys._customer == answers._a_customer, answers._a_at > keys._opened])
    first = later.group_by("_case").aggregate(_first_at=later._a_at.min())
    at_first = later.inner_join(first, [later._case == first._case, later._a_at == first._first_at])
    score = at_first.group_by(_case=at_first._case).aggregate(_next_nps=at_first._a_nps.min())
    out = own.left_join(score, own.case_id == score._case)
    return out.select(*cases.columns, "_next_nps")


def recovery_rate(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any], query: MetricQuery) -> MetricResult:
    """Recovery rate: see :class:`RecoveryRateRunner` (computed over :func:`recovery_cases`)."""
    derived = recovery_cases(tables["cases"], tables["responses"])
    from cxlens.metrics import engine  # the engine imports the registry, which imports this module

    return engine.run_runner(RecoveryRateRunner(settings), {**tables, "cases": derived}, settings, query)


LOOP_RUNNERS: tuple[type[Runner], ...] = (
    ClosedLoopRateRunner, TimeToAcknowledgeRunner, TimeToCloseRunner, SlaAttainmentRunner,
)

#: Loop metrics computed outside the generic registry (see ``registry.SPECIAL``).
LOOP_SPECIAL = {"recovery_rate": recovery_rate}
