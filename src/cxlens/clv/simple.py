"""A simple, undiscounted customer lifetime value from averages.

``CLV = average_order_value * orders_per_year * expected_years * margin``

This is the textbook "average-based" CLV: the undiscounted special case (discount rate 0, constant
spend and purchase rate, retention folded into the expected lifetime) of the customer-value models
surveyed in Berger, P. D. & Nasr, N. I. (1998), "Customer lifetime value: marketing models and
applications", Journal of Interactive Marketing 12(1), 17-30, and in Gupta, S. & Lehmann, D. R.
(2003), "Customers as assets", Journal of Interactive Marketing 17(1), 9-24. Use the BG/NBD and
Gamma-Gamma models (:mod:`cxlens.clv.bgnbd`, :mod:`cxlens.clv.gammagamma`) for a model-based,
discounted value per customer.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

from cxlens.errors import CxlensInputError

__all__ = ["simple_clv", "simple_clv_array"]

_FIXES = {
    "average_order_value": "Pass the mean revenue per order, e.g. 42.5.",
    "orders_per_year": "Pass the mean number of orders per customer per year, e.g. 3.2.",
    "expected_years": "Pass the expected customer lifetime in years, e.g. 1 / annual churn rate.",
    "margin": "Pass the gross margin as a fraction between 0 and 1 (1 = use revenue).",
}


def _check_scalar(name: str, value: float, upper: float = np.inf) -> float:
    """A finite real number between 0 and ``upper``, or a clear error naming ``name``."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_real or not np.isfinite(value) or not 0.0 <= float(value) <= upper:
        allowed = "between 0 and 1" if upper == 1.0 else "a finite number of 0 or more"
        raise CxlensInputError(
            f"The '{name}' parameter must be {allowed}. Got {value!r} instead. {_FIXES[name]}"
        )
    return float(value)


def simple_clv(
    average_order_value: float, orders_per_year: float, expected_years: float, margin: float = 1.0
) -> float:
    """``CLV = average_order_value * orders_per_year * expected_years * margin`` (undiscounted).

    All inputs must be finite and 0 or more; ``margin`` is a fraction in [0, 1]. Example: an
    average order of 50, 4 orders a year, 3 years and a 25% margin give 50 * 4 * 3 * 0.25 = 150.
    """
    aov = _check_scalar("average_order_value", average_order_value)
    orders = _check_scalar("orders_per_year", orders_per_year)
    years = _check_scalar("expected_years", expected_years)
    return aov * orders * years * _check_scalar("margin", margin, upper=1.0)


def _check_array(name: str, values: ArrayLike, upper: float = np.inf) -> np.ndarray:
    """A float array with every value finite and in [0, ``upper``], or a clear error."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CxlensInputError(f"The '{name}' values must be numbers ({exc}). {_FIXES[name]}") from exc
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0.0) & (arr <= upper)))
    if bad.size:
        allowed = "between 0 and 1" if upper == 1.0 else "finite and 0 or more"
        raise CxlensInputError(
            f"The '{name}' values must be {allowed}, but {bad.size} are not (first at flat position "
            f"{int(bad[0])}: {arr.ravel()[bad[0]]!r}). {_FIXES[name]}"
        )
    return arr


def simple_clv_array(
    average_order_value: ArrayLike,
    orders_per_year: ArrayLike,
    expected_years: ArrayLike,
    margin: ArrayLike = 1.0,
) -> np.ndarray:
    """Vectorised :func:`simple_clv`: the same formula element-wise, with numpy broadcasting.

    ``CLV_i = average_order_value_i * orders_per_year_i * expected_years_i * margin_i``. Any
    negative, NaN or infinite value (or a margin above 1) raises, naming the input and the position.
    """
    aov = _check_array("average_order_value", average_order_value)
    orders = _check_array("orders_per_year", orders_per_year)
    years = _check_array("expected_years", expected_years)
    share = _check_array("margin", margin, upper=1.0)
    try:
        return np.asarray(aov * orders * years * share, dtype=float)
    except ValueError as exc:
        raise CxlensInputError(
            f"The inputs cannot be combined element-wise ({exc}). Pass arrays of the same length, or scalars."
        ) from exc
