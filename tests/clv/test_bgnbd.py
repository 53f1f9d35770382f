"""Tests of cxlens.clv.bgnbd on the CDNOW sample; lifetimes is the oracle (tests only)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import check_grad

from cxlens.clv import BetaGeoModel, ModelFitError, ModelNotFittedError
from cxlens.clv.bgnbd import _objective, aggregate_rows
from cxlens.errors import CxlensError, CxlensInputError

lifetimes = pytest.importorskip("lifetimes")
from lifetimes.datasets import load_cdnow_summary  # noqa: E402

# Fader, Hardie & Lee (2005), section 5: CDNOW sample of 2,357 customers, time in weeks.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary(index_col=[0])


@pytest.fixture(scope="module")
def model(cdnow: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def oracle(cdnow: pd.DataFrame, model: BetaGeoModel) -> object:
    """lifetimes' BetaGeoFitter, fitted, then given our parameters for exact comparisons."""
    fitter = lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    fitter.fitted_params_ = fitter.params_.copy()
    fitter.params_ = pd.Series(model.params_)
    return fitter


def test_reproduces_published_parameters(model: BetaGeoModel) -> None:
    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, rel=5e-3), name
    assert model.log_likelihood_ == pytest.approx(PUBLISHED_LL, abs=0.5)
    assert model.n_customers_ == 2357


def test_parameters_agree_with_lifetimes_fit(model: BetaGeoModel, oracle: object) -> None:
    for name, value in oracle.fitted_params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-5), name


@pytest.mark.parametrize("t", [1.0, 10.0, 39.0, 52.0, 200.0])
def test_expected_purchases_match_lifetimes(
    cdnow: pd.DataFrame, model: BetaGeoModel, oracle: object, t: float
) -> None:
    ours = model.expected_purchases(t, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ref = oracle.conditional_expected_number_of_purchases_up_to_time(
        t, cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    assert model.expected_purchases_new_customer(t) == pytest.approx(
        oracle.expected_number_of_purchases_up_to_time(t), rel=1e-6
    )


def test_probability_alive_matches_lifetimes(
    cdnow: pd.DataFrame, model: BetaGeoModel, oracle: object
) -> None:
    ours = model.probability_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ref = oracle.conditional_probability_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_scalar_inputs_and_known_customer(model: BetaGeoModel) -> None:
    # First CDNOW customer: 2 repeat purchases, the last at week 30.43, observed for 38.86 weeks.
    expected = model.expected_purchases(39, 2, 30.43, 38.86)
    assert isinstance(expected, float)
    assert expected == pytest.approx(1.2259, abs=5e-4)
    assert model.probability_alive(0, 0, 38.86) == 1.0
    assert model.expected_purchases(0, 2, 30.43, 38.86) == 0.0
    horizons = model.expected_purchases(np.array([1.0, 5.0, 20.0, 80.0]), 2, 30.43, 38.86)
    assert np.all(np.diff(horizons) > 0)


def test_large_input_is_aggregated_and_fast(cdnow: pd.DataFrame, model: BetaGeoModel) -> None:
    reps = 425  # 1,001,725 customers with the CDNOW patterns
    columns = [np.tile(cdnow[c].to_numpy(), reps) for c in ("frequency", "recency", "T")]
    start = time.perf_counter()
    big = BetaGeoModel().fit(*columns)
    assert time.perf_counter() - start < 10.0
    assert big.n_customers_ == 2357 * reps
    for name, value in model.params_.items():
        assert big.params_[name] == pytest.approx(value, rel=1e-6)
    assert big.log_likelihood_ == pytest.approx(reps * model.log_likelihood_, rel=1e-9)


def test_weights_give_the_same_fit(cdnow: pd.DataFrame, model: BetaGeoModel) -> None:
    x, tx, age, w = aggregate_rows(*(cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")))
    weighted = BetaGeoModel().fit(x, tx, age, weights=w)
    assert weighted.n_customers_ == 2357
    for name, value in model.params_.items():
        assert weighted.params_[name] == pytest.approx(value, rel=1e-6)


def test_penalizer_matches_lifetimes(cdnow: pd.DataFrame) -> None:
    ours = BetaGeoModel(penalizer=0.01).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ref = lifetimes.BetaGeoFitter(penalizer_coef=0.01).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for name, value in ref.params_.items():
        assert ours.params_[name] == pytest.approx(value, rel=1e-5), name


def test_analytic_gradient(cdnow: pd.DataFrame) -> None:
    x, tx, age, w = aggregate_rows(*(cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")))
    data = (x, tx / age.max(), age / age.max(), w)
    for penalizer in (0.0, 0.1):
        for start in (np.zeros(4), np.array([-1.0, 0.5, -0.3, 0.9])):
            error = check_grad(
                lambda p, pen=penalizer: _objective(p, data, pen)[0],
                lambda p, pen=penalizer: _objective(p, data, pen)[1],
                start,
            )
            assert error < 1e-6


def test_methods_before_fit_raise() -> None:
    fresh = BetaGeoModel()
    message = "This BetaGeoModel is not fitted yet. Call fit(frequency, recency, T) first."
    for call in (
        lambda: fresh.expected_purchases(1, 1, 1, 2),
        lambda: fresh.probability_alive(1, 1, 2),
        lambda: fresh.expected_purchases_new_customer(1),
    ):
        with pytest.raises(ModelNotFittedError) as info:
            call()
        assert str(info.value) == message
        assert isinstance(info.value, CxlensInputError)


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "fragment"),
    [
        ([1, 2], [3.0, 5.0], [4.0, 4.0], "'recency' values must not exceed 'T'"),
        ([1, 2], [-1.0, 2.0], [4.0, 4.0], "'recency' values must be 0 or more"),
        ([0, 2], [1.0, 2.0], [4.0, 4.0], "'recency' values must be 0 where 'frequency' is 0"),
        ([1.5, 2], [1.0, 2.0], [4.0, 4.0], "'frequency' values must be whole numbers"),
        ([-1, 2], [0.0, 2.0], [4.0, 4.0], "'frequency' values must be 0 or more"),
        ([1, 2], [1.0, float("nan")], [4.0, 4.0], "'recency' values must be finite numbers"),
        ([1, 2, 3], [1.0, 2.0], [4.0, 4.0], "lengths differ: frequency=3, recency=2, T=2"),
        ([1, 2], [1.0, 2.0], [[4.0, 4.0]], "'T' values must be one-dimensional"),
    ],
)
def test_input_validation(frequency: list, recency: list, T: list, fragment: str) -> None:
    with pytest.raises(CxlensInputError, match=fragment):
        BetaGeoModel().fit(frequency, recency, T)


def test_validation_message_points_at_the_row() -> None:
    with pytest.raises(CxlensInputError) as info:
        BetaGeoModel().fit([1, 2, 3], [1.0, 2.0, 9.0], [4.0, 4.0, 4.0])
    assert "1 row(s) do not (first at position 2: recency=9.0)" in str(info.value)


@pytest.mark.parametrize("penalizer", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_penalizer_validation(penalizer: object) -> None:
    with pytest.raises(CxlensInputError, match="'penalizer' parameter must be a finite number of 0 or more"):
        BetaGeoModel(penalizer=penalizer).fit([1], [1.0], [2.0])  # type: ignore[arg-type]


def test_prediction_inputs_are_validated(model: BetaGeoModel) -> None:
    with pytest.raises(CxlensInputError, match="'t' parameter"):
        model.expected_purchases(-1, 1, 1, 2)
    with pytest.raises(CxlensInputError, match="'recency' values must not exceed 'T'"):
        model.probability_alive(1, 3, 2)


def test_no_repeat_buyers_is_an_input_error() -> None:
    with pytest.raises(CxlensInputError, match="'frequency' values are all 0 \\(50 customers"):
        BetaGeoModel().fit(np.zeros(50), np.zeros(50), np.full(50, 10.0))


def test_unidentifiable_data_raise_a_fit_error() -> None:
    # Identical customers: the likelihood has no interior maximum (parameters run off to infinity).
    with pytest.raises(ModelFitError) as info:
        BetaGeoModel().fit([1, 1, 1, 1], [5.0, 5.0, 5.0, 5.0], [10.0, 10.0, 10.0, 10.0])
    assert isinstance(info.value, CxlensError) and isinstance(info.value, RuntimeError)
    assert "penalizer" in str(info.value)
