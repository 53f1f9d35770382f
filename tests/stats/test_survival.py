"""Tests of cxlens.stats.survival: a hand-computed table, the telco churn data against lifelines."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import CxlensInputError
from cxlens.stats import SurvivalCurve, kaplan_meier

TELCO = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "telco-churn"
TELCO_CSV = TELCO / "Telco-Customer-Churn.csv"
Z95 = 1.959963984540054

# Nine subjects: durations and event flags (1 = event, 0 = censored).
DURATIONS = [3, 1, 4, 4, 6, 2, 5, 5, 0]
OBSERVED = [1, 0, 1, 1, 0, 1, 1, 0, 0]


@pytest.fixture(scope="module")
def telco() -> pd.DataFrame:
    if not TELCO_CSV.exists():
        pytest.skip(f"../shared/datasets/telco-churn not found: {TELCO_CSV} does not exist")
    return pd.read_csv(TELCO_CSV, usecols=["tenure", "Churn"])


def test_hand_computed_table() -> None:
    curve = kaplan_meier(DURATIONS, OBSERVED)
    # time  at risk  events  censored  S(t)
    # 0     9        0       1         1
    # 1     8        0       1         1
    # 2     7        1       0         6/7
    # 3     6        1       0         6/7 * 5/6 = 5/7
    # 4     5        2       0         5/7 * 3/5 = 3/7
    # 5     3        1       1         3/7 * 2/3 = 2/7
    # 6     1        0       1         2/7
    np.testing.assert_array_equal(curve.time, [0, 1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(curve.at_risk, [9, 8, 7, 6, 5, 3, 1])
    np.testing.assert_array_equal(curve.events, [0, 0, 1, 1, 2, 1, 0])
    np.testing.assert_array_equal(curve.censored, [1, 1, 0, 0, 0, 1, 1])
    np.testing.assert_allclose(curve.survival, [1, 1, 6 / 7, 5 / 7, 3 / 7, 2 / 7, 2 / 7], rtol=1e-15)
    assert curve.median == 4.0  # first time with S(t) <= 0.5
    assert curve.n == 9


def test_hand_computed_interval_at_t2() -> None:
    # Greenwood: V = 1 / (7 * 6); log(-log) interval S ** exp(-/+ z sqrt(V) / log S).
    curve = kaplan_meier(DURATIONS, OBSERVED)
    s, v = 6 / 7, 1 / 42
    assert curve.ci_low[2] == pytest.approx(s ** math.exp(-Z95 * math.sqrt(v) / math.log(s)), rel=1e-12)
    assert curve.ci_high[2] == pytest.approx(s ** math.exp(Z95 * math.sqrt(v) / math.log(s)), rel=1e-12)
    assert (round(curve.ci_low[2], 6), round(curve.ci_high[2], 6)) == (0.334054, 0.978561)
    assert curve.ci_low[0] == curve.ci_high[0] == 1.0


def test_survival_at_is_a_right_continuous_step() -> None:
    curve = kaplan_meier(DURATIONS, OBSERVED)
    assert curve.survival_at(-1) == 1.0
    assert curve.survival_at(2) == pytest.approx(6 / 7)
    assert curve.survival_at(2.999) == pytest.approx(6 / 7)
    assert curve.survival_at(100) == pytest.approx(2 / 7)
    np.testing.assert_allclose(curve.survival_at([0.5, 3, 4.5]), [1, 5 / 7, 3 / 7])
    assert isinstance(curve.survival_at(3), float)


def test_all_events_reach_zero_and_no_median_when_curve_stays_high() -> None:
    curve = kaplan_meier([1, 2, 3], [1, 1, 1])
    np.testing.assert_allclose(curve.survival, [1, 2 / 3, 1 / 3, 0])
    assert curve.ci_low[-1] == curve.ci_high[-1] == 0.0
    assert curve.median == 2.0
    assert kaplan_meier([1, 2, 3], [1, 0, 0]).median is None  # S stays at 2/3


def test_custom_timeline() -> None:
    curve = kaplan_meier([3, 1, 4], [True, False, True], timeline=[10, 0.5, 2, 3.5])
    np.testing.assert_array_equal(curve.time, [0.5, 2, 3.5, 10])
    np.testing.assert_array_equal(curve.at_risk, [3, 2, 1, 0])
    np.testing.assert_array_equal(curve.events, [0, 0, 1, 1])
    np.testing.assert_array_equal(curve.censored, [0, 1, 0, 0])
    np.testing.assert_allclose(curve.survival, [1, 1, 0.5, 0])
    assert curve.survival_at(3) == 0.5


def test_to_pandas() -> None:
    frame = kaplan_meier(DURATIONS, OBSERVED).to_pandas()
    assert list(frame.columns) == ["at_risk", "events", "censored", "survival", "ci_low", "ci_high"]
    assert frame.index.name == "time" and len(frame) == 7


def test_empty_input_gives_empty_curve() -> None:
    curve = kaplan_meier([], [])
    assert isinstance(curve, SurvivalCurve) and curve.n == 0 and curve.median is None
    assert curve.time.size == 0
    with pytest.raises(CxlensInputError, match="no observations"):
        curve.survival_at(1)


@pytest.mark.parametrize(
    ("durations", "observed", "fragment"),
    [
        ([1, -2], [1, 1], "'durations' parameter must not be negative"),
        ([1, float("nan")], [1, 1], "'durations' parameter must contain only finite numbers"),
        ([1, 2], [1], "'observed' parameter must be one-dimensional with one value per duration"),
        ([1, 2], ["Yes", "No"], "'observed' parameter must hold True/False or 1/0"),
        ([1, 2], [1, 2], "'observed' parameter must hold True/False or 1/0"),
    ],
)
def test_input_errors(durations: list[float], observed: list[object], fragment: str) -> None:
    with pytest.raises(CxlensInputError, match=fragment):
        kaplan_meier(durations, observed)


def test_telco_matches_lifelines(telco: pd.DataFrame) -> None:
    from lifelines import KaplanMeierFitter

    churned = telco["Churn"].eq("Yes")
    curve = kaplan_meier(telco["tenure"], churned)
    ref = KaplanMeierFitter().fit(telco["tenure"], churned)
    np.testing.assert_array_equal(curve.time, ref.survival_function_.index.to_numpy())
    np.testing.assert_allclose(curve.survival, ref.survival_function_.iloc[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(curve.ci_low, ref.confidence_interval_.iloc[:, 0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(curve.ci_high, ref.confidence_interval_.iloc[:, 1], rtol=0, atol=1e-6)
    table = ref.event_table
    np.testing.assert_array_equal(curve.at_risk, table["at_risk"])
    np.testing.assert_array_equal(curve.events, table["observed"])
    np.testing.assert_array_equal(curve.censored, table["censored"])
    assert curve.median is None and math.isinf(ref.median_survival_time_)


def test_telco_published_12_month_retention(telco: pd.DataFrame) -> None:
    curve = kaplan_meier(telco["tenure"], telco["Churn"].eq("Yes"))
    assert curve.n == 7043
    assert curve.survival_at(12) == pytest.approx(0.843, abs=5e-4)
