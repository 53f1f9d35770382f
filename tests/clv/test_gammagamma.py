"""Tests of cxlens.clv.gammagamma on the CDNOW sample; lifetimes is the oracle (tests only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import check_grad

from cxlens.clv import BetaGeoModel, GammaGammaModel, ModelNotFittedError
from cxlens.clv.gammagamma import _objective
from cxlens.errors import CxlensInputError

lifetimes = pytest.importorskip("lifetimes")
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value  # noqa: E402

# Fader, Hardie & Lee (2005, JMR), CDNOW repeat buyers: p = 6.25, q = 3.74, gamma = 15.44.
PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def model(cdnow: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow["frequency"], cdnow["monetary_value"])


@pytest.fixture(scope="module")
def bgnbd(cdnow: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def oracles(cdnow: pd.DataFrame, model: GammaGammaModel, bgnbd: BetaGeoModel) -> tuple[object, object]:
    """lifetimes' fitters with our parameters, for exact comparisons of the formulas."""
    repeat = cdnow[cdnow["frequency"] > 0]
    gg = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    gg.fitted_params_ = gg.params_.copy()
    gg.params_ = pd.Series(model.params_)
    bg = lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    bg.params_ = pd.Series(bgnbd.params_)
    return gg, bg


def test_reproduces_published_parameters(model: GammaGammaModel) -> None:
    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-2), name
    assert model.n_customers_ == 946


def test_parameters_agree_with_lifetimes_fit(model: GammaGammaModel, oracles: tuple[object, object]) -> None:
    for name, value in oracles[0].fitted_params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-6), name


def test_one_time_buyers_are_ignored_by_fit(cdnow: pd.DataFrame, model: GammaGammaModel) -> None:
    repeat = cdnow[cdnow["frequency"] > 0]
    only_repeat = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    assert only_repeat.params_ == pytest.approx(model.params_, rel=1e-9)
    assert only_repeat.log_likelihood_ == pytest.approx(model.log_likelihood_, rel=1e-12)


def test_expected_average_profit_matches_lifetimes(
    cdnow: pd.DataFrame, model: GammaGammaModel, oracles: tuple[object, object]
) -> None:
    ours = model.conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"])
    ref = oracles[0].conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"])
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_expected_average_profit_formula(model: GammaGammaModel) -> None:
    p, q, v = (model.params_[k] for k in ("p", "q", "v"))
    population_mean = p * v / (q - 1)
    assert model.conditional_expected_average_profit(0, 0.0) == pytest.approx(population_mean)
    # x = 3 purchases averaging 50: weight px / (px + q - 1) on the customer's own mean.
    weight = 3 * p / (3 * p + q - 1)
    expected = (1 - weight) * population_mean + weight * 50.0
    assert model.conditional_expected_average_profit(3, 50.0) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "lifetimes_freq"),
    [
        ({}, "W"),  # default: weeks, 4.345 weeks per month as lifetimes' freq="W"
        ({"freq_unit_in_days": 1, "days_per_month": 30}, "D"),
        ({"freq_unit_in_days": 30, "days_per_month": 30}, "M"),
    ],
)
def test_customer_lifetime_value_matches_lifetimes(
    cdnow: pd.DataFrame,
    model: GammaGammaModel,
    bgnbd: BetaGeoModel,
    oracles: tuple[object, object],
    kwargs: dict[str, float],
    lifetimes_freq: str,
) -> None:
    gg, bg = oracles
    args = (cdnow["frequency"], cdnow["recency"], cdnow["T"], cdnow["monetary_value"])
    ours = model.customer_lifetime_value(bgnbd, *args, time=12, discount_rate=0.01, **kwargs)
    ref = gg.customer_lifetime_value(bg, *args, time=12, discount_rate=0.01, freq=lifetimes_freq)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_customer_lifetime_value_by_hand(model: GammaGammaModel, bgnbd: BetaGeoModel) -> None:
    # Two months, 2% monthly discount, weekly data with 4.345 weeks per month.
    f = 4.345
    e1, e2 = (bgnbd.expected_purchases(m * f, 2, 30.43, 38.86) for m in (1, 2))
    spend = model.conditional_expected_average_profit(2, 40.0)
    expected = spend * (e1 / 1.02 + (e2 - e1) / 1.02**2)
    clv = model.customer_lifetime_value(bgnbd, 2, 30.43, 38.86, 40.0, time=2, discount_rate=0.02)
    assert isinstance(clv, float) and clv == pytest.approx(expected, rel=1e-12)
    many = model.customer_lifetime_value(bgnbd, [2, 0], [30.43, 0.0], [38.86, 38.86], [40.0, 0.0], time=2)
    assert many.shape == (2,) and np.all(many > 0)


def test_analytic_gradient(cdnow: pd.DataFrame) -> None:
    repeat = cdnow[cdnow["frequency"] > 0]
    data = (
        repeat["frequency"].to_numpy(float),
        repeat["monetary_value"].to_numpy(float),
        np.ones(len(repeat)),
    )
    for penalizer in (0.0, 0.01):
        for start in (np.array([0.0, 0.7, 3.5]), np.array([1.5, 1.2, 2.7])):
            error = check_grad(
                lambda p, pen=penalizer: _objective(p, data, pen)[0],
                lambda p, pen=penalizer: _objective(p, data, pen)[1],
                start,
            )
            assert error < 1e-5


def test_no_repeat_buyers() -> None:
    with pytest.raises(
        CxlensInputError, match="needs repeat buyers \\(frequency > 0\\), but none of the 3 rows"
    ):
        GammaGammaModel().fit([0, 0, 0], [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("frequency", "monetary", "fragment"),
    [
        ([1, 2], [10.0, 0.0], "'monetary_value' values must be above 0 where 'frequency' > 0"),
        ([1, 2], [10.0, -5.0], "'monetary_value' values must be 0 or more"),
        ([1, 2], [10.0, float("nan")], "'monetary_value' values must be finite numbers"),
        ([1, 2.5], [10.0, 5.0], "'frequency' values must be whole numbers"),
        ([1, 2, 3], [10.0, 5.0], "lengths differ: frequency=3, monetary_value=2"),
    ],
)
def test_input_validation(frequency: list, monetary: list, fragment: str) -> None:
    with pytest.raises(CxlensInputError, match=fragment):
        GammaGammaModel().fit(frequency, monetary)


def test_methods_before_fit_raise(bgnbd: BetaGeoModel) -> None:
    fresh = GammaGammaModel()
    message = "This GammaGammaModel is not fitted yet. Call fit(frequency, monetary_value) first."
    with pytest.raises(ModelNotFittedError) as info:
        fresh.conditional_expected_average_profit([1], [10.0])
    assert str(info.value) == message
    with pytest.raises(ModelNotFittedError):
        fresh.customer_lifetime_value(bgnbd, [1], [1.0], [2.0], [10.0])


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"time": 0}, "'time' parameter must be a whole number of months"),
        ({"time": 1.5}, "'time' parameter must be a whole number of months"),
        ({"discount_rate": -0.1}, "'discount_rate' parameter must be a finite number of 0 or more"),
        ({"discount_rate": "1%"}, "'discount_rate' parameter"),
        ({"freq_unit_in_days": 0}, "'freq_unit_in_days' parameter must be a finite number above 0"),
        ({"days_per_month": float("nan")}, "'days_per_month' parameter"),
    ],
)
def test_clv_argument_validation(
    model: GammaGammaModel, bgnbd: BetaGeoModel, kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(CxlensInputError, match=fragment):
        model.customer_lifetime_value(bgnbd, [1], [1.0], [2.0], [10.0], **kwargs)  # type: ignore[arg-type]
