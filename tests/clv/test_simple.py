"""Tests of cxlens.clv.simple: the average-based, undiscounted CLV."""

from __future__ import annotations

import numpy as np
import pytest

from cxlens.clv import simple_clv, simple_clv_array
from cxlens.errors import CxlensInputError


@pytest.mark.parametrize(
    ("aov", "orders", "years", "margin", "expected"),
    [
        (50.0, 4.0, 3.0, 0.25, 150.0),  # 50 * 4 * 3 * 0.25
        (80.0, 2.5, 2.0, 1.0, 400.0),  # 80 * 2.5 * 2
        (19.99, 12, 1.5, 0.4, 143.928),  # 19.99 * 12 * 1.5 * 0.4
        (100.0, 0.0, 5.0, 0.5, 0.0),
    ],
)
def test_simple_clv_literals(aov: float, orders: float, years: float, margin: float, expected: float) -> None:
    assert simple_clv(aov, orders, years, margin) == pytest.approx(expected, rel=1e-12)


def test_default_margin_is_revenue() -> None:
    assert simple_clv(10, 3, 2) == 60.0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((-1.0, 1.0, 1.0), "'average_order_value' parameter must be a finite number of 0 or more. Got -1.0"),
        (
            (1.0, float("nan"), 1.0),
            "'orders_per_year' parameter must be a finite number of 0 or more. Got nan",
        ),
        ((1.0, 1.0, float("inf")), "'expected_years' parameter must be a finite number of 0 or more"),
        ((1.0, 1.0, 1.0, 1.5), "'margin' parameter must be between 0 and 1. Got 1.5"),
        ((1.0, 1.0, 1.0, -0.1), "'margin' parameter must be between 0 and 1"),
        (("10", 1.0, 1.0), "'average_order_value' parameter"),
        ((True, 1.0, 1.0), "'average_order_value' parameter"),
    ],
)
def test_simple_clv_rejects_bad_inputs(args: tuple[object, ...], fragment: str) -> None:
    with pytest.raises(CxlensInputError, match=fragment):
        simple_clv(*args)  # type: ignore[arg-type]


def test_vectorised_variant() -> None:
    out = simple_clv_array([50.0, 80.0, 19.99], [4.0, 2.5, 12], [3.0, 2.0, 1.5], [0.25, 1.0, 0.4])
    np.testing.assert_allclose(out, [150.0, 400.0, 143.928], rtol=1e-12)
    broadcast = simple_clv_array(np.array([10.0, 20.0]), 2.0, 3.0)
    np.testing.assert_allclose(broadcast, [60.0, 120.0])


def test_vectorised_variant_errors() -> None:
    with pytest.raises(
        CxlensInputError, match="'expected_years' values must be finite and 0 or more, but 1 are not"
    ):
        simple_clv_array([1.0, 2.0], [1.0, 1.0], [1.0, np.nan])
    with pytest.raises(CxlensInputError, match="'margin' values must be between 0 and 1"):
        simple_clv_array([1.0], [1.0], [1.0], [2.0])
    with pytest.raises(CxlensInputError, match="'average_order_value' values must be finite and 0 or more"):
        simple_clv_array([-1.0], [1.0], [1.0])
    with pytest.raises(CxlensInputError, match="cannot be combined element-wise"):
        simple_clv_array([1.0, 2.0], [1.0, 2.0, 3.0], 1.0)
