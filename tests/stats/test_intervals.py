"""Tests of cxlens.stats.intervals: literal hand-computed tables, published examples, invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cxlens.errors import CxlensError, CxlensInputError
from cxlens.stats import (
    NpsEstimate,
    mean_difference,
    mean_interval,
    median_interval,
    min_sample_warning,
    newcombe_difference,
    nps_difference,
    nps_interval,
    wilson_interval,
)

Z95 = 1.959963984540054  # Phi^-1(0.975)

counts = st.integers(min_value=0, max_value=5000)
confidences = st.floats(min_value=0.5, max_value=0.999)


# --------------------------------------------------------------------------------------------------
# NPS
# --------------------------------------------------------------------------------------------------


def test_nps_hand_computed_50_30_20() -> None:
    est = nps_interval(50, 30, 20)
    # Plain estimate: n = 100, p = 0.5, d = 0.2, NPS = 100 (p - d) = 30,
    # var = p + d - (p - d)^2 = 0.7 - 0.09 = 0.61, se = 100 sqrt(0.61 / 100).
    assert est.n == 100
    assert est.nps == pytest.approx(30.0, abs=1e-12)
    assert est.se == pytest.approx(100 * math.sqrt(0.61 / 100), rel=1e-12)
    # Adjusted-Wald: n' = 103, p' = 50.75/103, d' = 20.75/103, nps' = p' - d',
    # var' = p' + d' - (p' - d')^2, interval = 100 (nps' -/+ z sqrt(var'/n')).
    n_adj = 103
    p_adj, d_adj = 50.75 / n_adj, 20.75 / n_adj
    var_adj = p_adj + d_adj - (p_adj - d_adj) ** 2
    half = Z95 * math.sqrt(var_adj / n_adj)
    assert est.ci_low == pytest.approx(100 * (p_adj - d_adj - half), rel=1e-12)
    assert est.ci_high == pytest.approx(100 * (p_adj - d_adj + half), rel=1e-12)
    # The same numbers as literals (4 decimals).
    assert (round(est.se, 4), round(est.ci_low, 4), round(est.ci_high, 4)) == (7.8102, 14.0511, 44.2013)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # (promoters, passives, detractors) -> (nps, ci_low, ci_high) at 95%, by hand:
        # 10/0/0: n'=13, p'=0.826923, d'=0.057692, var'=0.292899, se'=0.150103 -> 76.9231 -/+ 29.4196
        ((10, 0, 0), (100.0, 47.5036, 100.0)),
        ((0, 0, 10), (-100.0, -100.0, -47.5036)),
        # 0/10/0: p'=d'=0.057692, nps'=0, var'=0.115385, se'=0.094211 -> 0 -/+ 18.4650
        ((0, 10, 0), (0.0, -18.465, 18.465)),
        # 300/500/200: n'=1003, nps'=0.099701, var'=0.490060, se'=0.022104 -> 9.9701 -/+ 4.3323
        ((300, 500, 200), (10.0, 5.6378, 14.3024)),
    ],
)
def test_nps_literal_table(counts: tuple[int, int, int], expected: tuple[float, float, float]) -> None:
    est = nps_interval(*counts)
    assert (round(est.nps, 4), round(est.ci_low, 4), round(est.ci_high, 4)) == expected


def test_nps_empty_slice_gives_none() -> None:
    est = nps_interval(0, 0, 0)
    assert est == NpsEstimate(0, 0, 0, 0, None, None, None, None, 0.95)


def test_nps_single_response_interval_excludes_plain_score() -> None:
    # Documented property of the adjusted-Wald method: it is centred on the shrunken nps'.
    # n' = 4, p' = 1.75/4, d' = 0.75/4, nps' = 0.25, var' = 0.625 - 0.0625, se' = 0.375.
    est = nps_interval(1, 0, 0)
    assert est.nps == 100.0
    assert est.ci_high == pytest.approx(100 * (0.25 + Z95 * 0.375), rel=1e-12)
    assert est.ci_high < 100.0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((-1, 0, 0), "'promoters' parameter must be a whole number of 0 or more. Got -1"),
        ((1.5, 0, 0), "'promoters' parameter must be a whole number of 0 or more. Got 1.5"),
        ((1, True, 0), "'passives' parameter"),
        ((1, 0, "3"), "'detractors' parameter"),
    ],
)
def test_nps_rejects_bad_counts(args: tuple[object, ...], fragment: str) -> None:
    with pytest.raises(CxlensInputError, match=fragment):
        nps_interval(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize("confidence", [1.5, 0.0, 1.0, -0.1, float("nan"), True, "0.95"])
def test_confidence_must_be_between_0_and_1(confidence: object) -> None:
    with pytest.raises(CxlensInputError) as info:
        nps_interval(1, 1, 1, confidence=confidence)  # type: ignore[arg-type]
    assert str(info.value).startswith(
        f"The 'confidence' parameter must be between 0 and 1 (exclusive). Got {confidence!r} instead."
    )
    assert isinstance(info.value, ValueError) and isinstance(info.value, CxlensError)


def test_nps_accepts_numpy_integers() -> None:
    est = nps_interval(np.int64(50), np.int32(30), np.uint8(20))
    assert est.nps == pytest.approx(30.0)


def test_nps_difference_hand_computed() -> None:
    a, b = (50, 30, 20), (40, 30, 30)
    diff = nps_difference(a, b)
    # Plain scores: NPS_a = 30, NPS_b = 10, so NPS_b - NPS_a = -20 points.
    assert diff.estimate == pytest.approx(-20.0, abs=1e-12)
    # Adjusted-Wald z-test: both n' = 103.
    pa, da = 50.75 / 103, 20.75 / 103
    pb, db = 40.75 / 103, 30.75 / 103
    var_a = pa + da - (pa - da) ** 2
    var_b = pb + db - (pb - db) ** 2
    se = math.sqrt(var_a / 103 + var_b / 103)
    center = (pb - db) - (pa - da)
    assert diff.z == pytest.approx(center / se, rel=1e-12)
    assert diff.p_value == pytest.approx(2 * stats.norm.sf(abs(center / se)), rel=1e-12)
    assert diff.ci_low == pytest.approx(100 * (center - Z95 * se), rel=1e-12)
    assert diff.ci_high == pytest.approx(100 * (center + Z95 * se), rel=1e-12)
    assert (round(diff.z, 4), round(diff.p_value, 4)) == (-1.7323, 0.0832)
    assert (round(diff.ci_low, 4), round(diff.ci_high, 4)) == (-41.3865, 2.5516)
    assert diff.significant is False


def test_nps_difference_accepts_estimates_and_detects_large_gaps() -> None:
    diff = nps_difference(nps_interval(100, 200, 700), nps_interval(700, 200, 100))
    assert diff.estimate == pytest.approx(120.0)
    assert diff.significant is True and diff.p_value < 1e-12
    assert diff.ci_low > 0


@pytest.mark.parametrize(("a", "b"), [((0, 0, 0), (5, 1, 1)), ((5, 1, 1), (0, 0, 0))])
def test_nps_difference_empty_side(a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    diff = nps_difference(a, b)
    assert (diff.estimate, diff.ci_low, diff.ci_high, diff.z, diff.p_value) == (None,) * 5
    assert diff.significant is False


def test_nps_difference_rejects_other_shapes() -> None:
    with pytest.raises(CxlensInputError, match="'a' parameter must be an NpsEstimate"):
        nps_difference((1, 2), (1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(CxlensInputError, match="'b.detractors' parameter"):
        nps_difference((1, 2, 3), (1, 2, -3))


@settings(max_examples=200, deadline=None)
@given(counts, counts, counts, confidences)
def test_nps_invariants(promoters: int, passives: int, detractors: int, confidence: float) -> None:
    est = nps_interval(promoters, passives, detractors, confidence)
    if est.n == 0:
        assert est.nps is None and est.ci_low is None and est.ci_high is None
        return
    assert -100.0 <= est.ci_low <= est.ci_high <= 100.0
    assert -100.0 <= est.nps <= 100.0
    assert est.se >= 0


@settings(max_examples=200, deadline=None)
@given(counts, counts, counts, st.floats(min_value=0.95, max_value=0.999))
def test_nps_interval_contains_estimate(promoters: int, passives: int, detractors: int, conf: float) -> None:
    # Holds for n >= 2 at 95% and above (checked exhaustively for n <= 1000); see the n = 1 test.
    est = nps_interval(promoters, passives, detractors, conf)
    if est.n >= 2:
        assert est.ci_low <= est.nps <= est.ci_high


@settings(max_examples=100, deadline=None)
@given(counts, counts, counts)
def test_nps_difference_of_identical_samples(promoters: int, passives: int, detractors: int) -> None:
    if promoters + passives + detractors == 0:
        return
    diff = nps_difference((promoters, passives, detractors), (promoters, passives, detractors))
    assert diff.estimate == 0.0 and diff.z == 0.0
    assert diff.p_value == pytest.approx(1.0)
    assert diff.ci_low < 0.0 < diff.ci_high
    assert diff.significant is False


# --------------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [  # Newcombe (1998a), score method without continuity correction (method 3).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_reproduces_newcombe_1998(successes: int, n: int, low: float, high: float) -> None:
    prop = wilson_interval(successes, n)
    assert (round(prop.ci_low, 4), round(prop.ci_high, 4)) == (low, high)
    assert prop.value == successes / n


def test_wilson_extremes_are_exact() -> None:
    assert wilson_interval(0, 20).ci_low == 0.0
    assert wilson_interval(20, 20).ci_high == 1.0


def test_wilson_empty_and_errors() -> None:
    assert wilson_interval(0, 0).value is None and wilson_interval(0, 0).ci_low is None
    with pytest.raises(CxlensInputError, match="'successes' parameter must not exceed 'n'"):
        wilson_interval(5, 4)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), confidences)
def test_wilson_invariants(a: int, b: int, confidence: float) -> None:
    successes, n = min(a, b), max(a, b)
    prop = wilson_interval(successes, n, confidence)
    if n == 0:
        assert prop.value is None
        return
    assert 0.0 <= prop.ci_low <= prop.value <= prop.ci_high <= 1.0


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [  # Newcombe (1998b), table II, method 10 (hybrid score interval).
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_newcombe_reproduces_table_ii(x1: int, n1: int, x2: int, n2: int, low: float, high: float) -> None:
    diff = newcombe_difference(x1, n1, x2, n2)
    assert (round(diff.ci_low, 4), round(diff.ci_high, 4)) == (low, high)
    assert diff.estimate == pytest.approx(x1 / n1 - x2 / n2)
    assert diff.significant is (low > 0 or high < 0)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(56, 70, 48, 80), (9, 10, 3, 10), (5, 56, 0, 29)])
def test_newcombe_p_value_is_pooled_z_test(x1: int, n1: int, x2: int, n2: int) -> None:
    # The pooled two-proportion z-test equals Pearson's chi-square test without correction.
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    chi2 = stats.chi2_contingency(table, correction=False)
    diff = newcombe_difference(x1, n1, x2, n2)
    assert diff.p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    assert diff.z**2 == pytest.approx(chi2.statistic, rel=1e-9)


def test_newcombe_degenerate_and_empty() -> None:
    same = newcombe_difference(0, 10, 0, 20)
    assert same.z == 0.0 and same.p_value == 1.0
    empty = newcombe_difference(0, 0, 3, 10)
    assert empty.estimate is None and empty.significant is False
    with pytest.raises(CxlensInputError, match="'x2' parameter must not exceed 'n2'"):
        newcombe_difference(1, 2, 3, 2)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.integers(1, 2000), confidences)
def test_newcombe_identical_samples(a: int, b: int, confidence: float) -> None:
    x, n = min(a, b), max(a, b)
    diff = newcombe_difference(x, n, x, n, confidence)
    assert diff.estimate == 0.0 and diff.p_value == pytest.approx(1.0)
    assert diff.ci_low <= 0.0 <= diff.ci_high
    assert diff.significant is False


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 500), st.integers(1, 500), st.integers(0, 500), st.integers(1, 500))
def test_newcombe_interval_bounds(a: int, b: int, c: int, d: int) -> None:
    x1, n1, x2, n2 = min(a, b), max(a, b), min(c, d), max(c, d)
    diff = newcombe_difference(x1, n1, x2, n2)
    assert -1.0 <= diff.ci_low <= diff.estimate <= diff.ci_high <= 1.0
    assert 0.0 <= diff.p_value <= 1.0


# --------------------------------------------------------------------------------------------------
# Means
# --------------------------------------------------------------------------------------------------


def test_mean_interval_matches_scipy_t_interval() -> None:
    est = mean_interval(10, 5.0, 2.0, confidence=0.9)
    low, high = stats.t.interval(0.9, 9, loc=5.0, scale=2.0 / math.sqrt(10))
    assert (est.ci_low, est.ci_high) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))
    assert est.se == pytest.approx(2.0 / math.sqrt(10))
    # Literal: 5 -/+ t_{9, 0.975} * 2 / sqrt(10) = 5 -/+ 2.262157 * 0.632456.
    est95 = mean_interval(10, 5.0, 2.0)
    assert (round(est95.ci_low, 4), round(est95.ci_high, 4)) == (3.5693, 6.4307)


def test_mean_interval_small_samples() -> None:
    assert mean_interval(0, float("nan"), None).value is None
    single = mean_interval(1, 4.2, float("nan"))
    assert single.value == 4.2 and single.ci_low is None and single.se is None
    flat = mean_interval(5, 3.0, 0.0)
    assert flat.ci_low == flat.ci_high == 3.0


def test_mean_interval_errors() -> None:
    with pytest.raises(CxlensInputError, match="'sd' parameter must be 0 or more"):
        mean_interval(5, 1.0, -1.0)
    with pytest.raises(CxlensInputError, match="'mean' parameter must be a finite number"):
        mean_interval(5, float("nan"), 1.0)
    with pytest.raises(CxlensInputError, match="'sd' parameter must be a finite number"):
        mean_interval(5, 1.0, None)


def test_mean_difference_matches_scipy_welch() -> None:
    diff = mean_difference(12, 5.1, 1.3, 20, 4.2, 2.4)
    ref = stats.ttest_ind_from_stats(5.1, 1.3, 12, 4.2, 2.4, 20, equal_var=False)
    assert diff.estimate == pytest.approx(0.9)
    assert diff.t == pytest.approx(ref.statistic, rel=1e-12)
    assert diff.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    v1, v2 = 1.3**2 / 12, 2.4**2 / 20
    df = (v1 + v2) ** 2 / (v1**2 / 11 + v2**2 / 19)
    assert diff.df == pytest.approx(df, rel=1e-12)
    half = stats.t.ppf(0.975, df) * math.sqrt(v1 + v2)
    assert diff.ci_low == pytest.approx(0.9 - half) and diff.ci_high == pytest.approx(0.9 + half)
    assert diff.significant == bool(ref.pvalue < 0.05)


def test_mean_difference_edge_cases() -> None:
    assert mean_difference(0, None, None, 5, 1.0, 1.0).estimate is None
    one = mean_difference(1, 3.0, None, 5, 1.0, 1.0)
    assert one.estimate == 2.0 and one.p_value is None and one.significant is False
    constant = mean_difference(5, 2.0, 0.0, 5, 2.0, 0.0)
    assert constant.p_value == 1.0 and constant.t is None and constant.significant is False


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 10_000), st.floats(-1e6, 1e6), st.floats(0.01, 1e3))
def test_mean_difference_identical_groups(n: int, mean: float, sd: float) -> None:
    diff = mean_difference(n, mean, sd, n, mean, sd)
    assert diff.estimate == 0.0 and diff.p_value == pytest.approx(1.0)
    assert diff.ci_low < 0.0 < diff.ci_high


# --------------------------------------------------------------------------------------------------
# Median
# --------------------------------------------------------------------------------------------------


def test_median_interval_hand_worked_n10() -> None:
    # Binomial(10, 1/2): F(0) = 1/1024, F(1) = 11/1024 <= 0.025 < F(2) = 56/1024, so j = 2 and the
    # interval is [x_(2), x_(9)] with coverage 1 - 2 * 11/1024 = 0.978515625.
    values = [7.0, 1.0, 9.0, 3.0, 5.0, 2.0, 10.0, 4.0, 8.0, 6.0]
    est = median_interval(values)
    assert (est.value, est.ci_low, est.ci_high) == (5.5, 2.0, 9.0)
    assert est.coverage == pytest.approx(1 - 22 / 1024, abs=1e-15)


def test_median_interval_too_small_and_empty() -> None:
    tiny = median_interval([1.0, 2.0, 3.0, 4.0, 5.0])  # best coverage 1 - 2/32 = 93.75% < 95%
    assert tiny.value == 3.0 and tiny.ci_low is None and "n=5" in tiny.note
    six = median_interval([6, 5, 4, 3, 2, 1])  # 1 - 2/64 = 96.875% >= 95%
    assert (six.ci_low, six.ci_high, six.coverage) == (1.0, 6.0, pytest.approx(0.96875))
    empty = median_interval(np.array([]))
    assert empty.value is None and empty.ci_low is None and empty.n == 0


def test_median_interval_rejects_nan() -> None:
    with pytest.raises(CxlensInputError, match="'values' parameter must contain only finite numbers"):
        median_interval([1.0, float("nan")])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=6, max_size=400),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_median_interval_matches_scipy_quantile_test(values: list[float], confidence: float) -> None:
    est = median_interval(values, confidence)
    ci = stats.quantile_test(values, p=0.5).confidence_interval(confidence)
    if est.ci_low is None:
        assert math.isnan(ci.low) and math.isnan(ci.high)
    else:
        assert (est.ci_low, est.ci_high) == (ci.low, ci.high)
        assert est.ci_low <= est.value <= est.ci_high
        assert est.coverage >= confidence


# --------------------------------------------------------------------------------------------------
# Sample-size warning
# --------------------------------------------------------------------------------------------------


def test_min_sample_warning() -> None:
    assert min_sample_warning(30, 30) is None
    assert min_sample_warning(0, 30) == "No responses are available, so no estimate can be given."
    assert min_sample_warning(12, 30) == (
        "Only 12 of the recommended minimum of 30 responses are available; "
        "treat this estimate as indicative only."
    )
    assert "customers" in min_sample_warning(1, 5, noun="customers")
    with pytest.raises(CxlensInputError, match="'minimum' parameter"):
        min_sample_warning(1, -5)
