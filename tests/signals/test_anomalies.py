"""Metric anomalies: literal hand-computed series, the false-alarm rate on stable processes, the runner."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxlens
from cxlens.errors import CxlensInputError
from cxlens.signals import (
    AnomalyQuery,
    DetectorSettings,
    SeriesPoint,
    benjamini_hochberg,
    detect_anomalies,
    metric_anomalies,
)

D0 = date(2026, 1, 5)
SIGMA3 = DetectorSettings(baseline_periods=3, min_baseline_periods=3, min_n=10, method="sigma", sigma=3.0)


def _series(rows: list[tuple[int, ...]], step: int = 7) -> list[SeriesPoint]:
    return [SeriesPoint(D0 + timedelta(days=step * i), *r) for i, r in enumerate(rows)]


# ------------------------------------------------------------------------------------------ literal


def test_benjamini_hochberg_literal() -> None:
    d = benjamini_hochberg([0.0005767, 0.02, 0.3], 0.05)
    # ranks: 0.0005767 <= 1*0.05/3; 0.02 <= 2*0.05/3 = 0.0333; 0.3 > 0.05
    assert d.rejected == (True, True, False) and d.threshold == 0.02
    assert d.adjusted == pytest.approx((0.0017301, 0.03, 0.3))
    assert benjamini_hochberg([], 0.05).rejected == ()
    with pytest.raises(CxlensInputError, match="'fdr' parameter must be between 0 and 1"):
        benjamini_hochberg([0.1], 1.5)


def test_proportion_series_hand_computed() -> None:
    """CSAT-like top-box counts; expected = pooled baseline share, se from the add-two baseline share."""
    pts = _series([(100, 80), (100, 82), (100, 78), (100, 60), (50, 40)])
    (out,) = detect_anomalies([pts], "proportion", SIGMA3)
    assert [p.p_value is None for p in out] == [True, True, True, False, False]
    assert out[0].note == "baseline has 0 period(s) with data; 3 needed"
    p4, p5 = out[3], out[4]
    # p4: baseline 240/300 -> 80; p~ = 242/304; se = 100 sqrt(p~(1-p~)(1/100 + 1/300)) = 4.652639
    assert (p4.value, p4.expected, p4.baseline_n, p4.baseline_periods) == (60.0, 80.0, 300, 3)
    assert p4.z == pytest.approx(-4.298636, abs=1e-6)
    assert (p4.lower, p4.upper) == (pytest.approx(66.042084, abs=1e-6), pytest.approx(93.957916, abs=1e-6))
    assert p4.p_value == pytest.approx(1.718523e-05, rel=1e-5)
    assert p4.flagged and p4.direction == "down"
    # p5: baseline 220/300 -> 73.3333; se = 100 sqrt(p~(1-p~)(1/50 + 1/300)) with p~ = 222/304
    assert p5.expected == pytest.approx(73.333333, abs=1e-6) and p5.z == pytest.approx(0.983355, abs=1e-6)
    assert (p5.lower, p5.upper) == (pytest.approx(52.994807, abs=1e-6), pytest.approx(93.671859, abs=1e-6))
    assert not p5.flagged and p5.direction is None


def test_nps_series_hand_computed() -> None:
    s = DetectorSettings(baseline_periods=2, min_baseline_periods=2, min_n=10, method="sigma")
    pts = _series([(50, 20, 10), (50, 22, 8), (40, 8, 20)])
    p3 = detect_anomalies([pts], "nps", s)[0][2]
    # baseline: 42 promoters, 18 detractors of 100 -> NPS 24; adjusted p = 42.75/103, d = 18.75/103,
    # v = p + d - (p - d)^2 = 0.542794; se = 100 sqrt(v/40 + v/103) = 13.725775
    assert (p3.value, p3.expected) == (-30.0, 24.0)
    assert p3.z == pytest.approx(-3.934204, abs=1e-6)
    assert (p3.lower, p3.upper) == (pytest.approx(-17.177325, abs=1e-6), pytest.approx(65.177325, abs=1e-6))
    assert p3.flagged and p3.direction == "down"


def test_count_series_exact_conditional_test() -> None:
    s = DetectorSettings(baseline_periods=4, min_baseline_periods=4, method="sigma")
    pts = _series([(3,), (5,), (4,), (4,), (15,)], step=1)
    p5 = detect_anomalies([pts], "count", s)[0][4]
    # 15 | 31 ~ Binomial(31, 1/5): two-sided p = 2 P(X >= 15) = 0.000730709 (summed by hand with math.comb)
    assert (p5.value, p5.expected) == (15.0, 4.0)
    assert p5.p_value == pytest.approx(0.000730709, rel=1e-6)
    assert (p5.lower, p5.upper) == (0.0, 13.0)  # the counts whose p-value stays above 2 (1 - Phi(3))
    assert p5.flagged and p5.z == pytest.approx(3.377790, abs=1e-6)  # Phi^-1(1 - p/2)


def test_too_few_answers_are_reported_not_tested() -> None:
    pts = _series([(100, 80), (100, 82), (100, 78), (8, 2), (100, 99)])
    out = detect_anomalies([pts], "proportion", SIGMA3)[0]
    assert out[3].p_value is None and out[3].note == "too few answers to test (period 8, baseline 300; minimum 10)"
    assert out[3].value == 25.0 and not out[3].flagged


def test_bad_settings_name_the_parameter() -> None:
    with pytest.raises(CxlensInputError, match="'method' parameter must be one of fdr, sigma"):
        detect_anomalies([], "nps", DetectorSettings(method="magic"))  # type: ignore[arg-type]
    with pytest.raises(CxlensInputError, match="'min_baseline_periods' parameter must not exceed"):
        detect_anomalies([], "nps", DetectorSettings(baseline_periods=3, min_baseline_periods=5))
    with pytest.raises(CxlensInputError, match="'sigma' parameter"):
        detect_anomalies([], "nps", DetectorSettings(sigma=-1))
    with pytest.raises(CxlensInputError, match="successes \\(plus detractors for NPS\\) at most n"):
        detect_anomalies([_series([(10, 8, 5)])], "nps", DetectorSettings())
    with pytest.raises(CxlensInputError, match="must be in period order"):
        detect_anomalies([list(reversed(_series([(10, 1), (10, 2)])))], "proportion", DetectorSettings())
    with pytest.raises(CxlensInputError, match="'family' parameter must be one of nps, proportion, count"):
        detect_anomalies([], "median", DetectorSettings())


# ------------------------------------------------------------------------------------------ stable processes

PERIODS, SERIES = 40, 40
STABLE = DetectorSettings(baseline_periods=12, min_baseline_periods=6, min_n=30, method="sigma", sigma=3.0)
NOMINAL = 0.0026998  # 2 (1 - Phi(3))


def _draw(family: str, rng: np.random.Generator, level: tuple[float, float], n: tuple[int, int]) -> list[SeriesPoint]:
    sizes = rng.integers(n[0], n[1] + 1, PERIODS)
    out = []
    for i, size in enumerate(sizes):
        day = D0 + timedelta(days=i)
        if family == "count":
            out.append(SeriesPoint(day, int(rng.poisson(level[0]))))
        elif family == "proportion":
            out.append(SeriesPoint(day, int(size), int(rng.binomial(size, level[0]))))
        else:
            p, d, _ = rng.multinomial(size, [level[0], level[1], 1 - level[0] - level[1]])
            out.append(SeriesPoint(day, int(size), int(p), int(d)))
    return out


def _flag_rate(family: str, seed: int, level: tuple[float, float], n: tuple[int, int],
               detector: DetectorSettings) -> tuple[float, int, list[list]]:
    rng = np.random.default_rng(seed)
    out = detect_anomalies([_draw(family, rng, level, n) for _ in range(SERIES)], family, detector)
    tested = [p for s in out for p in s if p.p_value is not None]
    return sum(p.flagged for p in tested) / len(tested), len(tested), out


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), share=st.floats(0.2, 0.8), low=st.integers(40, 200))
def test_stable_proportions_are_rarely_flagged(seed: int, share: float, low: int) -> None:
    rate, tested, out = _flag_rate("proportion", seed, (share, 0.0), (low, 2 * low), STABLE)
    assert tested == SERIES * (PERIODS - 6)
    assert rate <= NOMINAL + 0.006  # nominal 0.27 %; tolerance ~5 binomial standard errors
    _flagged_iff_outside_limits(out)


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), promoters=st.floats(0.2, 0.5), detractors=st.floats(0.1, 0.3),
       low=st.integers(40, 200))
def test_stable_nps_is_rarely_flagged(seed: int, promoters: float, detractors: float, low: int) -> None:
    rate, _, out = _flag_rate("nps", seed, (promoters, detractors), (low, 2 * low), STABLE)
    assert rate <= NOMINAL + 0.006
    _flagged_iff_outside_limits(out)


@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), rate=st.floats(0.3, 60.0))
def test_stable_counts_are_rarely_flagged(seed: int, rate: float) -> None:
    flagged, _, out = _flag_rate("count", seed, (rate, 0.0), (1, 1), STABLE)
    assert flagged <= NOMINAL + 0.004  # the exact conditional test is conservative
    _flagged_iff_outside_limits(out)


@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), share=st.floats(0.2, 0.8))
def test_fdr_on_stable_series_rarely_flags_a_series(seed: int, share: float) -> None:
    """Under the complete null, BH flags anything in a request with probability at most q."""
    rng = np.random.default_rng(seed)
    detector = DetectorSettings(baseline_periods=12, min_baseline_periods=6, min_n=30, method="fdr", fdr=0.05)
    runs = 100
    any_flag = sum(any(p.flagged for p in detect_anomalies([_draw("proportion", rng, (share, 0), (60, 200))],
                                                            "proportion", detector)[0]) for _ in range(runs))
    assert any_flag / runs <= 0.05 + 0.06  # q plus ~3 binomial standard errors


def _flagged_iff_outside_limits(out: list[list]) -> None:
    for s in out:
        for p in s:
            if p.p_value is None:
                continue
            outside = (p.lower is not None and p.value < p.lower) or (p.upper is not None and p.value > p.upper)
            assert p.flagged == outside, p


def test_a_shift_is_found() -> None:
    rng = np.random.default_rng(3)
    pts = _draw("proportion", rng, (0.8, 0.0), (150, 150))
    pts[30] = SeriesPoint(pts[30].period, 150, 90)  # 60 % instead of 80 %
    out = detect_anomalies([pts], "proportion", DetectorSettings(baseline_periods=12, min_baseline_periods=6))[0]
    assert [p.period for p in out if p.flagged] == [pts[30].period]


# ------------------------------------------------------------------------------------------ runner

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


def _tickets() -> pd.DataFrame:
    per_day = {1: 2, 2: 2, 4: 2, 5: 2, 6: 2, 7: 12, 8: 2, 9: 1, 10: 2, 11: 3}  # 3 March: none
    rows = [(f"T{day:02d}-{k}", f"2026-03-{day:02d}T{1 + k:02d}:00:00", "billing")
            for day, count in per_day.items() for k in range(count)]
    rows.append(("X3", "2026-03-03T05:00:00", "login"))  # another topic: filtered out
    return pd.DataFrame(rows, columns=["ticket_id", "created_at", "topic"])


def test_runner_fills_empty_days_and_weights_the_partial_day(ws: cxlens.Workspace) -> None:
    assert ws.import_data("tickets", _tickets(), now=NOW).rejected == 0
    q = AnomalyQuery.build("tickets", now=NOW, grain="day", since="2026-03-05", where={"topic": "billing"},
                           baseline_periods=3, min_baseline_periods=3, method="sigma")
    result = metric_anomalies({n: ws.table(n) for n in cxlens.TABLES}, ws.settings, q)
    (series,) = result.series
    got = [(p.period.isoformat(), p.value, round(p.expected, 6), p.lower, p.upper, p.flagged) for p in series.points]
    # baselines: 5 Mar <- 2,0,2 (3 Mar had no billing ticket); 7 Mar <- 2,2,2; 11 Mar is half a day (now = noon)
    assert got == [
        ("2026-03-05", 2.0, 1.333333, 0.0, 8.0, False),
        ("2026-03-06", 2.0, 1.333333, 0.0, 8.0, False),
        ("2026-03-07", 12.0, 2.0, 0.0, 10.0, True),
        ("2026-03-08", 2.0, 5.333333, 0.0, 16.0, False),
        ("2026-03-09", 1.0, 5.333333, 0.0, 16.0, False),
        ("2026-03-10", 2.0, 5.0, 0.0, 15.0, False),
        ("2026-03-11", 3.0, 0.833333, 0.0, 6.0, False),
    ]
    assert series.points[2].p_value == pytest.approx(0.000462358, rel=1e-5)
    assert series.points[6].p_value == pytest.approx(0.187111, rel=1e-5)
    assert result.to_records(flagged_only=True)[0]["period"] == "2026-03-07"


def test_runner_rejects_unsupported_metrics(ws: cxlens.Workspace) -> None:
    q = AnomalyQuery.build("first_response_time", now=NOW)
    with pytest.raises(CxlensInputError, match="does not support the metric 'first_response_time'.*nps, csat"):
        metric_anomalies({n: ws.table(n) for n in cxlens.TABLES}, ws.settings, q)


def test_runner_by_gives_one_series_per_group(ws: cxlens.Workspace) -> None:
    ws.import_data("tickets", _tickets(), now=NOW)
    tables = {n: ws.table(n) for n in cxlens.TABLES}
    common = dict(now=NOW, grain="day", since="2026-03-05", baseline_periods=3, min_baseline_periods=3, method="sigma")
    by_topic = metric_anomalies(tables, ws.settings, AnomalyQuery.build("tickets", by="topic", **common))
    assert [s.groups for s in by_topic.series] == [(("topic", "billing"),), (("topic", "login"),)]
    billing = metric_anomalies(tables, ws.settings, AnomalyQuery.build("tickets", where={"topic": "billing"}, **common))
    assert by_topic.series[0].points == billing.series[0].points
    login = by_topic.series[1].points  # one ticket on 3 March, in the baseline only: all zero afterwards
    assert [p.value for p in login] == [0.0] * 7 and not any(p.flagged for p in login)
    assert [r["topic"] for r in by_topic.to_records()] == ["billing"] * 7 + ["login"] * 7
