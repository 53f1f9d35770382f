"""Metric anomalies: periods whose value lies outside the variation expected from its baseline.

The detector (:func:`detect_anomalies`) is a pure function over per-period counts; the runner
(:func:`metric_anomalies`) gets those counts from the metrics engine (so every filter, breakdown
and grain of ``cxlens metrics`` works) and runs the detector on each series.

Method (a funnel plot / p-chart against a moving baseline; Spiegelhalter 2005)
-----------------------------------------------------------------------------
Each period ``i`` is compared with its **baseline**: the ``baseline_periods`` periods just before it
(flagged or not), pooled. A period is *evaluated* when the baseline has at least
``min_baseline_periods`` periods with data and both have enough data for the test (below).

- **NPS** (promoters ``P``, detractors ``D`` of ``n`` answers): the expected value is the baseline
  NPS ``100 (P_b - D_b) / n_b``. The variance of one answer (scored +1/0/-1) under the baseline is
  ``v = p + d - (p - d)^2`` with the adjusted-Wald ``p = (P_b + 3/4) / (n_b + 3)``,
  ``d = (D_b + 3/4) / (n_b + 3)`` (Rocks 2016), and the standard error of the period's NPS against
  the baseline is ``se_i = 100 sqrt(v / n_i + v / (n_b + 3))``: it grows as ``n_i`` shrinks,
  which is what makes the limits a funnel.
- **Proportions** (CSAT, CES, resolution rate, FCR, reopen rate: ``x`` of ``n``): the expected value
  is ``100 x_b / n_b``; ``v = p~ (1 - p~)`` with ``p~ = (x_b + 2) / (n_b + 4)`` (Agresti & Coull
  1998, so that a baseline of all successes still has a variance), ``se_i = 100 sqrt(v (1/n_i + 1/n_b))``.
- For both, ``z = (value_i - expected_i) / se_i`` and the p-value is the normal tail. The normal
  approximation needs enough answers: a period is evaluated only when ``n_i`` and ``n_b`` reach
  ``min_n`` (the workspace's ``min_sample_size`` by default) and, for proportions, the period's
  expected successes and failures ``n_i p_b`` and ``n_i (1 - p_b)`` are at least 5.
- **Counts** (responses, tickets: ``x`` per period, with the share ``e_i`` of the period inside the
  requested range as its exposure): the expected count is ``e_i B / E`` for a baseline of ``B``
  events over an exposure of ``E`` periods. The test is the exact conditional test of two Poisson
  rates (Przyborowski & Wilenski 1940): given ``N = x_i + B``, ``x_i ~ Binomial(N, e_i / (e_i + E))``.
  It is exact for small counts, and it accounts for the baseline's own noise. ``z`` is the normal
  quantile of its p-value (same sign as ``x_i - expected``), and the limits are the smallest and
  the largest counts that would not have been flagged.

A point is **flagged** when its p-value is at or below the cut-off ``p*``:

- ``method="fdr"`` (default): the Benjamini–Hochberg cut-off over every evaluated point of the
  request (all series), at false discovery rate ``fdr`` (default 0.05). On a stable process the
  chance that a request flags anything is at most ``fdr``. When nothing is flagged, ``p*`` is
  ``fdr / m`` (the smallest cut-off BH could have used), so the limits show how far a point would
  have had to go.
- ``method="sigma"``: ``|z| >= sigma`` (default 3; two-sided ``p* = 2 (1 - Phi(sigma))``), the
  Shewhart rule: each point of a stable process is flagged with probability about 0.27 %.

``direction`` ``"up"`` or ``"down"`` tests one side only (one-sided p-values); the limits are then
one-sided. The limits of NPS and proportions are ``expected -/+ z* se_i`` with ``z*`` the normal
quantile of ``p*``, so a point is flagged exactly when it lies outside its limits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd
from scipy import special, stats

from cxlens.errors import CxlensInputError
from cxlens.metrics.engine import run_metric
from cxlens.metrics.period import DateRange, Grain, period_start
from cxlens.metrics.result import MetricQuery, MetricRow
from cxlens.signals.fdr import benjamini_hochberg, check_rate

Method = Literal["fdr", "sigma"]
Direction = Literal["both", "up", "down"]


class Family(StrEnum):
    """How a metric's per-period figure is tested."""

    NPS = "nps"
    PROPORTION = "proportion"
    COUNT = "count"


#: The metrics anomaly detection supports, and how each is tested.
FAMILIES: dict[str, Family] = {
    "nps": Family.NPS,
    "csat": Family.PROPORTION, "ces": Family.PROPORTION, "resolution_rate": Family.PROPORTION,
    "fcr": Family.PROPORTION, "reopen_rate": Family.PROPORTION,
    "responses": Family.COUNT, "tickets": Family.COUNT,
}

#: Baseline length (periods before each point) by grain.
BASELINE_PERIODS: dict[Grain, int] = {Grain.DAY: 28, Grain.WEEK: 12, Grain.MONTH: 12, Grain.QUARTER: 8,
                                      Grain.YEAR: 5}
DEFAULT_MIN_N = 30
MIN_EXPECTED = 5.0  # successes and failures a proportion needs for the normal approximation


# --------------------------------------------------------------------------------------------------
# Inputs and results of the detector
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    """One period of a series.

    ``n``: answers (NPS, proportions) or events (counts). ``successes``: promoters (NPS) or the
    top-box/success count (proportions). ``detractors``: NPS only. ``exposure``: counts only, the
    share of the period inside the requested range (1 for a whole period).
    """

    period: date
    n: int
    successes: int = 0
    detractors: int = 0
    exposure: float = 1.0


@dataclass(frozen=True)
class AnomalyPoint:
    """The evidence for one period: its value against the expected value and limits."""

    period: date
    value: float | None
    expected: float | None
    lower: float | None
    upper: float | None
    n: int
    z: float | None
    p_value: float | None
    flagged: bool
    direction: str | None
    baseline_periods: int
    baseline_n: int
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.isoformat(), "value": _r(self.value), "expected": _r(self.expected),
            "lower": _r(self.lower), "upper": _r(self.upper), "n": self.n, "z": _r(self.z),
            "p_value": _sig(self.p_value), "flagged": self.flagged, "direction": self.direction,
            "baseline_periods": self.baseline_periods, "baseline_n": self.baseline_n, "note": self.note,
        }


@dataclass(frozen=True)
class DetectorSettings:
    """The detector's parameters (see the module docstring)."""

    baseline_periods: int = 28
    min_baseline_periods: int = 14
    min_n: int | None = None  # None: the workspace's min_sample_size (30 without a workspace)
    method: Method = "fdr"
    fdr: float = 0.05
    sigma: float = 3.0
    direction: Direction = "both"

    def check(self) -> DetectorSettings:
        _check_int("baseline_periods", self.baseline_periods, 1)
        _check_int("min_baseline_periods", self.min_baseline_periods, 1)
        if self.min_n is not None:
            _check_int("min_n", self.min_n, 1)
        if self.min_baseline_periods > self.baseline_periods:
            raise CxlensInputError(
                f"The 'min_baseline_periods' parameter must not exceed 'baseline_periods'. Got "
                f"{self.min_baseline_periods} and {self.baseline_periods}; lower the first or raise the second."
            )
        _check_choice("method", self.method, ("fdr", "sigma"))
        _check_choice("direction", self.direction, ("both", "up", "down"))
        check_rate("fdr", self.fdr)
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, (int, float)) or not self.sigma > 0:
            raise CxlensInputError(f"The 'sigma' parameter must be a number above 0. Got {self.sigma!r} instead; "
                                   f"use for example 3.")
        return self


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CxlensInputError(f"The '{name}' parameter must be a whole number of {minimum} or more. "
                               f"Got {value!r} instead.")


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise CxlensInputError(f"The '{name}' parameter must be one of {', '.join(allowed)}. Got {value!r} instead.")


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), digits)


def _sig(value: float | None) -> float | None:
    """A p-value to four significant digits (tiny p-values stay visible)."""
    return None if value is None or math.isnan(value) else float(f"{value:.4g}")


# --------------------------------------------------------------------------------------------------
# The detector (pure)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Test:
    """A point's test before the cut-off is known."""

    value: float | None
    expected: float | None
    se: float | None  # normal families
    z: float | None
    p_value: float | None
    baseline: tuple[int, int, int, float]  # (n or events, successes, detractors, exposure)
    periods: int
    note: str | None = None


def detect_anomalies(series: Sequence[Sequence[SeriesPoint]], family: Family | str,
                     settings: DetectorSettings = DetectorSettings()) -> list[list[AnomalyPoint]]:
    """Test every point of every series (each in period order) and flag the anomalies.

    The series are tested together: with ``method="fdr"`` the false discovery rate is controlled
    over all evaluated points of all series.
    """
    family = _family(family)
    settings = settings.check()
    for points in series:
        _check_series(points, family)
    tests = [[_test(s, i, family, settings) for i in range(len(s))] for s in series]
    p_values = [t.p_value for ts in tests for t in ts if t.p_value is not None]
    cutoff = _cutoff(p_values, settings)
    return [[_decide(p, t, family, settings, cutoff) for p, t in zip(s, ts)] for s, ts in zip(series, tests)]


def _check_series(points: Sequence[SeriesPoint], family: Family) -> None:
    """Counts must be whole, non-negative and consistent; periods strictly increasing."""
    for k, p in enumerate(points):
        used = p.successes + (p.detractors if family is Family.NPS else 0)
        if min(p.n, p.successes, p.detractors) < 0 or used > p.n or p.exposure < 0:
            raise CxlensInputError(
                f"The point of {p.period} has n={p.n}, successes={p.successes}, detractors={p.detractors}, "
                f"exposure={p.exposure}: counts must be 0 or more, successes (plus detractors for NPS) at most n, "
                f"and the exposure 0 or more."
            )
        if k and p.period <= points[k - 1].period:
            raise CxlensInputError(
                f"The series must be in period order without repeats; {p.period} follows {points[k - 1].period}. "
                f"Sort the points by period."
            )


def _family(value: Family | str) -> Family:
    try:
        return Family(value)
    except ValueError:
        raise CxlensInputError(
            f"The 'family' parameter must be one of {', '.join(f.value for f in Family)}. Got {value!r} instead."
        ) from None


def _cutoff(p_values: Sequence[float], settings: DetectorSettings) -> float:
    if settings.method == "sigma":
        tail = stats.norm.sf(settings.sigma)
        return float(tail if settings.direction != "both" else 2 * tail)
    decision = benjamini_hochberg(p_values, settings.fdr)
    if decision.threshold is not None:
        return decision.threshold
    return settings.fdr / max(len(p_values), 1)


def _baseline(points: Sequence[SeriesPoint], i: int, window: int) -> tuple[tuple[int, int, int, float], int]:
    before = points[max(0, i - window):i]
    n = sum(p.n for p in before)
    x = sum(p.successes for p in before)
    d = sum(p.detractors for p in before)
    exposure = sum(p.exposure for p in before)
    return (n, x, d, exposure), len(before)


def _test(points: Sequence[SeriesPoint], i: int, family: Family, s: DetectorSettings) -> _Test:
    point = points[i]
    base, periods = _baseline(points, i, s.baseline_periods)
    if family is Family.COUNT:
        with_data = sum(1 for p in points[max(0, i - s.baseline_periods):i] if p.exposure > 0)
        return _count_test(point, base, with_data, s)
    with_data = sum(1 for p in points[max(0, i - s.baseline_periods):i] if p.n > 0)
    value = _value(point, family)
    if with_data < s.min_baseline_periods:
        return _Test(value, None, None, None, None, base, with_data,
                     f"baseline has {with_data} period(s) with data; {s.min_baseline_periods} needed")
    min_n = DEFAULT_MIN_N if s.min_n is None else s.min_n
    if point.n < min_n or base[0] < min_n:
        return _Test(value, _expected(base, family), None, None, None, base, with_data,
                     f"too few answers to test (period {point.n}, baseline {base[0]}; minimum {min_n})")
    return _normal_test(point, base, with_data, family, s)


def _value(point: SeriesPoint, family: Family) -> float | None:
    if family is Family.COUNT:
        return float(point.n)
    if point.n == 0:
        return None
    minus = point.detractors if family is Family.NPS else 0
    return 100.0 * (point.successes - minus) / point.n


def _expected(base: tuple[int, int, int, float], family: Family) -> float | None:
    n, x, d, _ = base
    if n == 0:
        return None
    return 100.0 * (x - d) / n if family is Family.NPS else 100.0 * x / n


def _normal_test(point: SeriesPoint, base: tuple[int, int, int, float], periods: int, family: Family,
                 s: DetectorSettings) -> _Test:
    n_b, x_b, d_b, _ = base
    value, expected = _value(point, family), _expected(base, family)
    assert value is not None and expected is not None
    if family is Family.NPS:
        p, d = (x_b + 0.75) / (n_b + 3), (d_b + 0.75) / (n_b + 3)
        var = p + d - (p - d) ** 2
        se = 100.0 * math.sqrt(var / point.n + var / (n_b + 3))
    else:
        share = x_b / n_b
        if min(point.n * share, point.n * (1 - share)) < MIN_EXPECTED:
            return _Test(value, expected, None, None, None, base, periods,
                         f"too few expected successes or failures to test (n {point.n}, baseline share "
                         f"{share:.3f}; {MIN_EXPECTED:g} of each needed)")
        p = (x_b + 2) / (n_b + 4)
        se = 100.0 * math.sqrt(p * (1 - p) * (1 / point.n + 1 / n_b))
    z = (value - expected) / se
    return _Test(value, expected, se, z, _normal_p(z, s.direction), base, periods)


def _normal_p(z: float, direction: str) -> float:
    if direction == "up":
        return float(stats.norm.sf(z))
    if direction == "down":
        return float(stats.norm.cdf(z))
    return float(2 * stats.norm.sf(abs(z)))


def _count_p(x: np.ndarray, events: int, share: float, direction: str) -> np.ndarray:
    """p-values of counts ``x`` under ``x | x + events ~ Binomial(x + events, share)``."""
    total = x + events
    # scipy.special's binomial CDFs are ufuncs: much faster than scipy.stats.binom for many calls
    up = np.where(x > 0, special.bdtrc(np.maximum(x - 1, 0), total, share), 1.0)
    down = special.bdtr(x, total, share)
    if direction == "up":
        return up
    if direction == "down":
        return down
    return np.minimum(1.0, 2 * np.minimum(up, down))


def _count_test(point: SeriesPoint, base: tuple[int, int, int, float], periods: int, s: DetectorSettings) -> _Test:
    events, _, _, exposure = base
    value = float(point.n)
    if periods < s.min_baseline_periods or exposure <= 0:
        return _Test(value, None, None, None, None, base, periods,
                     f"baseline has {periods} period(s); {s.min_baseline_periods} needed")
    if point.exposure <= 0:
        return _Test(value, None, None, None, None, base, periods, "the period lies outside the range")
    expected = point.exposure * events / exposure
    share = point.exposure / (point.exposure + exposure)
    p = float(_count_p(np.array([point.n]), events, share, s.direction)[0])
    z = float(stats.norm.isf(p / 2 if s.direction == "both" else p)) if p < 1 else 0.0
    z = -abs(z) if value < expected else abs(z)
    return _Test(value, expected, None, z, p, base, periods)


def _decide(point: SeriesPoint, t: _Test, family: Family, s: DetectorSettings, cutoff: float) -> AnomalyPoint:
    n_b = t.baseline[0]
    if t.p_value is None:
        return AnomalyPoint(point.period, t.value, t.expected, None, None, point.n, None, None, False, None,
                            t.periods, n_b, t.note)
    flagged = t.p_value <= cutoff
    assert t.value is not None and t.expected is not None and t.z is not None
    direction = ("up" if t.value > t.expected else "down") if flagged else None
    if family is Family.COUNT:
        lower, upper = _count_limits(point, t.baseline, s.direction, cutoff)
    else:
        assert t.se is not None
        lower, upper = _normal_limits(t.expected, t.se, s.direction, cutoff, family)
    return AnomalyPoint(point.period, t.value, t.expected, lower, upper, point.n, t.z, t.p_value, flagged,
                        direction, t.periods, n_b, t.note)


def _normal_limits(expected: float, se: float, direction: str, cutoff: float,
                   family: Family) -> tuple[float | None, float | None]:
    z_star = float(stats.norm.isf(cutoff / 2 if direction == "both" else cutoff))
    low, high = (-100.0, 100.0) if family is Family.NPS else (0.0, 100.0)
    lower = max(low, expected - z_star * se) if direction != "up" else None
    upper = min(high, expected + z_star * se) if direction != "down" else None
    return lower, upper


def _count_limits(point: SeriesPoint, base: tuple[int, int, int, float], direction: str,
                  cutoff: float) -> tuple[float | None, float | None]:
    """The smallest and largest counts whose p-value stays above ``cutoff`` (not flagged)."""
    events, exposure = base[0], base[3]
    expected = point.exposure * events / exposure
    share = point.exposure / (point.exposure + exposure)
    top = int(expected + 12 * math.sqrt(expected + 1) + 20)
    while True:
        x = np.arange(0, top + 1)
        ok = np.flatnonzero(_count_p(x, events, share, direction) > cutoff)
        if ok.size == 0 or ok[-1] < top:
            break
        top *= 2
    if ok.size == 0:
        return None, None
    lower = float(ok[0]) if direction != "up" else None
    upper = float(ok[-1]) if direction != "down" else None
    return lower, upper


# --------------------------------------------------------------------------------------------------
# The runner: series from the metrics engine
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnomalyQuery:
    """Which metric series to test: metric, slice, grain, range, ``now`` and detector settings."""

    metric: str
    now: datetime
    grain: Grain = Grain.DAY
    since: date | datetime | str | None = None
    until: date | datetime | str | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    by: tuple[str, ...] = ()
    detector: DetectorSettings | None = None

    @classmethod
    def build(cls, metric: str, *, now: datetime, grain: str | Grain = "day", since: Any = None, until: Any = None,
              where: Mapping[str, Any] | None = None, by: str | Sequence[str] = (),
              **detector: Any) -> AnomalyQuery:
        parsed = Grain.parse(grain) or Grain.DAY
        base = MetricQuery.build(metric, now=now, by=by, grain=parsed, where=where)
        periods = detector.pop("baseline_periods", None) or BASELINE_PERIODS[parsed]
        minimum = detector.pop("min_baseline_periods", None) or max(1, periods // 2)
        settings = DetectorSettings(baseline_periods=periods, min_baseline_periods=minimum, **detector)
        return cls(metric, now, parsed, since, until, base.where, base.by, settings)


@dataclass(frozen=True)
class AnomalySeries:
    """The tested points of one series (one group of the breakdown)."""

    groups: tuple[tuple[str, Any], ...]
    points: tuple[AnomalyPoint, ...]


@dataclass(frozen=True)
class AnomalyResult:
    """Every tested series of one metric, with the method that tested them."""

    metric: str
    family: Family
    method: str
    query: AnomalyQuery
    series: tuple[AnomalySeries, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def anomalies(self) -> list[tuple[tuple[tuple[str, Any], ...], AnomalyPoint]]:
        return [(s.groups, p) for s in self.series for p in s.points if p.flagged]

    def to_records(self, flagged_only: bool = False) -> list[dict[str, Any]]:
        return [{"metric": self.metric, **dict(s.groups), **p.to_dict()}
                for s in self.series for p in s.points if p.flagged or not flagged_only]

    def to_pandas(self, flagged_only: bool = False) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.to_records(flagged_only))

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "family": self.family.value, "method": self.method,
                "grain": self.query.grain.value, "anomalies": self.to_records(flagged_only=True),
                "warnings": list(self.warnings)}


def family_of(metric: str) -> Family:
    try:
        return FAMILIES[metric]
    except KeyError:
        raise CxlensInputError(
            f"Anomaly detection does not support the metric {metric!r}. The supported metrics are: "
            f"{', '.join(FAMILIES)}."
        ) from None


def metric_anomalies(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any],
                     query: AnomalyQuery) -> AnomalyResult:
    """Test the series of ``query.metric`` per period (and per group of ``query.by``)."""
    family = family_of(query.metric)
    detector = query.detector or DetectorSettings()
    if detector.min_n is None:
        detector = replace(detector, min_n=int(settings.get("min_sample_size", DEFAULT_MIN_N)))
    window = DateRange.from_dates(query.since, query.until, query.now)
    week_start = str(settings.get("week_start", "monday"))
    start = _baseline_start(window, query.grain, detector.baseline_periods, week_start)
    rows = run_metric(tables, settings, MetricQuery(query.metric, query.now, query.by, query.grain, start,
                                                    window.end, query.where)).rows
    grouped = _group(rows, family)
    periods = _periods(start or _first(rows, window), window.end, query.grain, week_start)
    series = [_complete(points, periods, family, query.grain, DateRange(start, window.end))
              for points in grouped.values()]
    tested = detect_anomalies(series, family, detector)
    first = period_start(window.start, query.grain, week_start) if window.start else None
    out = tuple(AnomalySeries(g, tuple(p for p in pts if first is None or p.period >= first))
                for g, pts in zip(grouped, tested))
    return AnomalyResult(query.metric, family, describe(family, detector), replace(query, detector=detector), out)


def describe(family: Family, d: DetectorSettings) -> str:
    test = {Family.NPS: "z-test of the period's NPS against the pooled baseline (adjusted-Wald variance)",
            Family.PROPORTION: "z-test of the period's share against the pooled baseline (p-chart)",
            Family.COUNT: "exact conditional test of two Poisson rates (period against baseline)"}[family]
    rule = (f"Benjamini-Hochberg at FDR {d.fdr:g}" if d.method == "fdr" else f"|z| >= {d.sigma:g}")
    return f"{test}; baseline: the {d.baseline_periods} periods before; flagged by {rule} ({d.direction})"


def _baseline_start(window: DateRange, grain: Grain, periods: int, week_start: str) -> datetime | None:
    if window.start is None:
        return None
    first = period_start(window.start, grain, week_start)
    return (pd.Timestamp(first) - grain.offset * periods).to_pydatetime()


def _first(rows: Sequence[MetricRow], window: DateRange) -> datetime:
    dates = [r.period for r in rows if r.period is not None]
    if not dates:
        return window.end or datetime(1970, 1, 1)
    d = min(dates)
    return datetime(d.year, d.month, d.day)


def _periods(start: datetime, end: datetime | None, grain: Grain, week_start: str) -> list[date]:
    if end is None:
        return []
    out, current = [], period_start(start, grain, week_start)
    last = period_start(end - timedelta(microseconds=1), grain, week_start)
    while current <= last:
        out.append(current)
        current = (pd.Timestamp(current) + grain.offset).date()
    return out


def _group(rows: Sequence[MetricRow], family: Family) -> dict[tuple[tuple[str, Any], ...], dict[date, SeriesPoint]]:
    grouped: dict[tuple[tuple[str, Any], ...], dict[date, SeriesPoint]] = {}
    for row in rows:
        if row.period is None:
            continue
        grouped.setdefault(row.groups, {})[row.period] = _point(row, family)
    return grouped


def _point(row: MetricRow, family: Family) -> SeriesPoint:
    comps = dict(row.components)
    assert row.period is not None
    if family is Family.NPS:
        return SeriesPoint(row.period, row.n, int(comps.get("promoters", 0)), int(comps.get("detractors", 0)))
    if family is Family.PROPORTION:
        successes = 0 if row.value is None else round(row.value * row.n / 100.0)
        return SeriesPoint(row.period, row.n, successes)
    return SeriesPoint(row.period, row.n)


def _complete(points: Mapping[date, SeriesPoint], periods: Sequence[date], family: Family, grain: Grain,
              window: DateRange) -> list[SeriesPoint]:
    """Every period of the range in order: missing periods have no answers (counts: zero events)."""
    out = []
    for p in periods:
        point = points.get(p, SeriesPoint(p, 0))
        if family is Family.COUNT:
            point = replace(point, exposure=_exposure(p, grain, window))
        out.append(point)
    return out


def _exposure(start: date, grain: Grain, window: DateRange) -> float:
    """The share of the period starting at ``start`` inside the window (the last one may be cut by ``now``)."""
    s = datetime(start.year, start.month, start.day)
    nxt = (pd.Timestamp(s) + grain.offset).to_pydatetime()
    lo = max(s, window.start) if window.start else s
    hi = min(nxt, window.end) if window.end else nxt
    return max(0.0, (hi - lo) / (nxt - s))
