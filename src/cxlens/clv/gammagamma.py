"""The Gamma-Gamma model of average spend per transaction, and discounted CLV.

References
----------
- Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "RFM and CLV: using iso-value curves for
  customer base analysis". Journal of Marketing Research 42(4), 415-430.
- Fader, P. S. & Hardie, B. G. S. (2013). "The Gamma-Gamma model of monetary value",
  http://brucehardie.com/notes/025/ (likelihood eq. 1a, conditional expectation eq. 5).

Model: the spend of each transaction of a customer is ``Gamma(p, nu)``; across customers
``nu ~ Gamma(q, gamma)``. Given ``x`` repeat transactions with average value ``m``, the customer's
expected spend per transaction shrinks ``m`` towards the population mean ``p gamma / (q - 1)``.
The scale parameter is called ``gamma`` in the papers and ``v`` in lifetimes; here it is ``v``.
"""

from __future__ import annotations

import numbers
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln, psi

from cxlens.clv.bgnbd import (
    ModelFitError,
    ModelNotFittedError,
    aggregate_rows,
    as_float_array,
    as_output,
    check_frequency,
    check_penalizer,
    check_weights,
    minimize_negative_ll,
    require,
    same_length,
)
from cxlens.errors import CxlensInputError

__all__ = ["GammaGammaModel", "PurchaseModel"]

_PARAM_NAMES = ("p", "q", "v")
LIFETIMES_DAYS_PER_MONTH_WEEKLY = 4.345 * 7  # lifetimes' freq="W" uses 4.345 weeks per month


class PurchaseModel(Protocol):
    """A fitted transaction model, e.g. :class:`~cxlens.clv.bgnbd.BetaGeoModel`."""

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> float | np.ndarray: ...


def gg_log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer log density of the average spend ``m`` over ``x`` transactions (note 025, eq. 1a).

    ``f(m | p, q, v, x) = G(px+q) / (G(px) G(q)) * v^q m^(px-1) x^(px) / (v + m x)^(px+q)``.
    """
    p, q, v = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def _gradient(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer gradient of :func:`gg_log_likelihood` with respect to ``(p, q, v)``.

    ``d/dp = x [psi(px+q) - psi(px) + ln m + ln x - ln(v + m x)]``,
    ``d/dq = psi(px+q) - psi(q) + ln v - ln(v + m x)``, ``d/dv = q/v - (px+q)/(v + m x)``.
    """
    p, q, v = params
    px, vmx = p * x, v + m * x
    return np.array(
        [
            x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - np.log(vmx)),
            psi(px + q) - psi(q) + np.log(v) - np.log(vmx),
            q / v - (px + q) / vmx,
        ]
    )


def _objective(
    log_params: np.ndarray, data: tuple[np.ndarray, ...], penalizer: float
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood plus ``penalizer * sum(params**2)`` and its log-scale gradient.

    The same objective as lifetimes' ``GammaGammaFitter``.
    """
    x, m, w = data
    params = np.exp(log_params)
    total = w.sum()
    value = -float(gg_log_likelihood(params, x, m) @ w) / total + penalizer * float(np.sum(params**2))
    grad = -(_gradient(params, x, m) @ w) / total + 2.0 * penalizer * params
    return value, grad * params


def _check_spend(x: np.ndarray, m: np.ndarray) -> None:
    """Average spend must be 0 or more, and above 0 for repeat buyers."""
    fix = "'monetary_value' is the average value of the repeat transactions."
    require("monetary_value", m >= 0, "must be 0 or more", m, fix)
    require("monetary_value", (x == 0) | (m > 0), "must be above 0 where 'frequency' > 0", m, fix)


def _check_xm(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(frequency, monetary_value)`` arrays."""
    x, m = as_float_array("frequency", frequency), as_float_array("monetary_value", monetary_value)
    same_length(frequency=x, monetary_value=m)
    check_frequency(x)
    _check_spend(x, m)
    return x, m


def _start(m: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Starting log-parameters: ``p = 1``, ``q = 2`` and ``v`` equal to the mean spend."""
    return np.array([0.0, np.log(2.0), np.log(np.average(m, weights=w))])


def _positive_real(value: float, allow_zero: bool) -> bool:
    """True for a finite real number above 0 (or equal to 0 when ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        return False
    return value >= 0 if allow_zero else value > 0


def _check_month_args(
    time: int, discount_rate: float, freq_unit_in_days: float, days_per_month: float
) -> None:
    """Validate the CLV horizon, the discount rate and the time-unit conversion."""
    if isinstance(time, bool) or not isinstance(time, numbers.Integral) or time < 1:
        raise CxlensInputError(
            f"The 'time' parameter must be a whole number of months, 1 or more. Got {time!r} instead."
        )
    if not _positive_real(discount_rate, allow_zero=True):
        raise CxlensInputError(
            "The 'discount_rate' parameter must be a finite number of 0 or more (a monthly rate, "
            f"e.g. 0.01 for 1%). Got {discount_rate!r} instead."
        )
    for name, value in (("freq_unit_in_days", freq_unit_in_days), ("days_per_month", days_per_month)):
        if not _positive_real(value, allow_zero=False):
            raise CxlensInputError(
                f"The '{name}' parameter must be a finite number above 0. Got {value!r} instead "
                "(freq_unit_in_days: 7 for data in weeks, 1 for days; days_per_month: e.g. 30)."
            )


def _discounted_clv(
    model: PurchaseModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    spend: np.ndarray,
    time: int,
    discount_rate: float,
    periods_per_month: float,
) -> np.ndarray:
    """``CLV = sum_{i=1}^{time} spend * (E[Y(i f)] - E[Y((i-1) f)]) / (1 + d)^i``.

    ``E[Y(t)]`` is ``model.expected_purchases(t, frequency, recency, T)``, ``f`` the number of model
    time units per month and ``d`` the monthly discount rate: the monthly discounted cash flow of
    lifetimes' ``_customer_lifetime_value``.
    """
    months = np.arange(time + 1)
    cumulative = [
        np.atleast_1d(model.expected_purchases(i * periods_per_month, frequency, recency, T)) for i in months
    ]
    per_month = np.diff(np.stack(cumulative), axis=0)
    discount = (1.0 + discount_rate) ** months[1:]
    return spend * np.sum(per_month / discount[:, None], axis=0)


class GammaGammaModel:
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013, note 025).

    After :meth:`fit`: ``params_`` (dict with ``p``, ``q`` and ``v``; ``v`` is the scale that the
    papers call gamma and lifetimes calls v), ``log_likelihood_`` (total, repeat buyers) and
    ``n_customers_`` (repeat buyers used). ``penalizer`` adds ``penalizer * (p**2 + q**2 + v**2)``
    to the mean negative log-likelihood, as lifetimes' ``penalizer_coef`` does.
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> GammaGammaModel:
        """Fit ``(p, q, v)`` by maximum likelihood (note 025, eq. 1a) on the repeat buyers.

        Rows with ``frequency == 0`` carry no spend information and are ignored, so the whole RFM
        table can be passed. Identical rows are merged with weights; the search runs on
        log-parameters (L-BFGS-B with the analytic gradient, then a BFGS polish).
        """
        penalizer = check_penalizer(self.penalizer)
        x, m = _check_xm(frequency, monetary_value)
        w = check_weights(weights, x.size)
        keep = (x > 0) & (True if w is None else w > 0)
        if not np.any(keep):
            raise CxlensInputError(
                f"The Gamma-Gamma model needs repeat buyers (frequency > 0), but none of the {x.size} "
                "rows has one. Fit it on customers with at least one repeat purchase."
            )
        x, m, w = aggregate_rows(x[keep], m[keep], weights=None if w is None else w[keep])
        log_params = minimize_negative_ll(
            lambda p: _objective(p, (x, m, w), penalizer), _start(m, w), "Gamma-Gamma"
        )
        params = np.exp(log_params)
        self.params_ = dict(zip(_PARAM_NAMES, (float(v) for v in params), strict=True))
        self.log_likelihood_ = float(gg_log_likelihood(params, x, m) @ w)
        self.n_customers_ = int(round(w.sum()))
        return self

    def _fitted_params(self) -> tuple[float, float, float]:
        """``(p, q, v)``, or :class:`ModelNotFittedError`."""
        if not hasattr(self, "params_"):
            raise ModelNotFittedError(
                "This GammaGammaModel is not fitted yet. Call fit(frequency, monetary_value) first."
            )
        return tuple(self.params_[name] for name in _PARAM_NAMES)  # type: ignore[return-value]

    def conditional_expected_average_profit(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> float | np.ndarray:
        """Expected spend per transaction given ``x`` transactions averaging ``m`` (note 025, eq. 5).

        ``E[M | p, q, v, m, x] = (q-1)/(px+q-1) * p v/(q-1) + px/(px+q-1) * m = p (v + m x) / (px + q - 1)``,
        a weighted average of the population mean ``p v / (q - 1)`` and the customer's own mean.
        Customers with ``x = 0`` get the population mean (their ``monetary_value`` is ignored).
        Requires ``q > 1``, otherwise the population mean is infinite.
        """
        p, q, v = self._fitted_params()
        if q <= 1.0:
            raise ModelFitError(
                f"The fitted q = {q:.4g} is not above 1, so the population mean spend p*v/(q-1) is "
                "undefined. Check the spend data for extreme values or use a penalizer."
            )
        x, m = _check_xm(frequency, monetary_value)
        return as_output(p * (v + m * x) / (p * x + q - 1.0), frequency, monetary_value)

    def customer_lifetime_value(
        self,
        bgnbd_model: PurchaseModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time: int = 12,
        discount_rate: float = 0.01,
        freq_unit_in_days: float = 7.0,
        days_per_month: float = LIFETIMES_DAYS_PER_MONTH_WEEKLY,
    ) -> float | np.ndarray:
        """Discounted CLV over ``time`` months, as lifetimes' ``customer_lifetime_value`` computes it.

        ``CLV = sum_{i=1}^{time} E[M] * (E[Y(i f)] - E[Y((i-1) f)]) / (1 + d)^i`` where ``E[M]`` is
        :meth:`conditional_expected_average_profit`, ``E[Y(t)]`` the transaction model's
        ``expected_purchases`` (e.g. a fitted :class:`~cxlens.clv.bgnbd.BetaGeoModel`), ``d`` the
        monthly ``discount_rate`` and ``f = days_per_month / freq_unit_in_days`` the number of data
        time units per month. ``freq_unit_in_days`` is the length of the unit of ``recency`` and
        ``T`` (7 for weeks, 1 for days). The default ``days_per_month`` = 30.415 (4.345 weeks)
        reproduces lifetimes' ``freq="W"``; use ``days_per_month=30`` to reproduce lifetimes'
        ``freq="D"`` (with ``freq_unit_in_days=1``) or ``freq="M"`` (with ``freq_unit_in_days=30``).
        Returns one value per customer (a float when every customer input is a scalar).
        """
        _check_month_args(time, discount_rate, freq_unit_in_days, days_per_month)
        spend = np.atleast_1d(self.conditional_expected_average_profit(frequency, monetary_value))
        periods = days_per_month / freq_unit_in_days
        clv = _discounted_clv(
            bgnbd_model, frequency, recency, T, spend, int(time), float(discount_rate), periods
        )
        return as_output(clv, frequency, recency, T, monetary_value)
