"""The BG/NBD ("beta-geometric / negative binomial") model of repeat purchasing.

Reference: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "'Counting your customers' the easy
way: an alternative to the Pareto/NBD model". Marketing Science 24(2), 275-284 (FHL 2005). The
probability of being alive is from Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD
model", http://brucehardie.com/notes/021/.

Model: while alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
after each purchase the customer drops out with probability ``p ~ Beta(a, b)``. Data per customer
(all in the same time unit): ``frequency`` x = number of repeat purchases, ``recency`` t_x = time of
the last purchase since the first one, ``T`` = time since the first purchase.

The maximum-likelihood fit is our own (numpy/scipy); the ``lifetimes`` package is only a test
oracle.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize
from scipy.special import betaln, expit, gammaln, hyp2f1, psi

from cxlens.errors import CxlensError, CxlensInputError

__all__ = ["BetaGeoModel", "ModelFitError", "ModelNotFittedError"]

_PARAM_NAMES = ("r", "alpha", "a", "b")
_LOG_BOX = 20.0  # each log-parameter is searched within +/-20 of its starting value ...
_LOG_RUNAWAY = 15.0  # ... and an optimum more than 15 from it (a factor e^15 = 3.3e6) is not trusted


class ModelNotFittedError(CxlensInputError):
    """A model method was called before ``fit``."""

    code = "not_fitted"


class ModelFitError(CxlensError, RuntimeError):
    """The maximum-likelihood search did not converge."""

    code = "fit_failed"


# --------------------------------------------------------------------------------------------------
# Input checks (shared with the Gamma-Gamma model)
# --------------------------------------------------------------------------------------------------


def as_float_array(name: str, values: ArrayLike) -> np.ndarray:
    """``values`` as a 1-D finite float array, or a :class:`CxlensInputError` naming ``name``."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CxlensInputError(f"The '{name}' values must be numbers ({exc}).") from exc
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise CxlensInputError(f"The '{name}' values must be one-dimensional. Got shape {arr.shape}.")
    require(name, np.isfinite(arr), "must be finite numbers (no missing or infinite values)", arr)
    return arr


def require(name: str, ok: np.ndarray, rule: str, values: np.ndarray, fix: str = "") -> None:
    """Raise naming the field, the rule, how many rows break it and the first offending value."""
    bad = np.flatnonzero(~ok)
    if bad.size:
        first = int(bad[0])
        raise CxlensInputError(
            f"The '{name}' values {rule}, but {bad.size} row(s) do not (first at position {first}: "
            f"{name}={values[first].item()!r}). {fix}".rstrip()
        )


def check_frequency(frequency: np.ndarray) -> None:
    """Repeat-purchase counts must be whole numbers of 0 or more."""
    fix = "'frequency' counts repeat purchases: the number of purchases after the first one."
    require("frequency", frequency >= 0, "must be 0 or more", frequency, fix)
    require("frequency", frequency == np.round(frequency), "must be whole numbers", frequency, fix)


def same_length(**arrays: np.ndarray) -> None:
    """Raise if the arrays do not all have the same length."""
    sizes = {name: arr.size for name, arr in arrays.items()}
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{name}={size}" for name, size in sizes.items())
        raise CxlensInputError(
            f"The inputs must have one value per customer, but the lengths differ: {detail}."
        )


def check_rft(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, ...]:
    """Validated ``(frequency, recency, T)`` arrays (the checks of lifetimes' ``_check_inputs``).

    Rules: same length; finite; ``frequency`` whole and ``>= 0``; ``0 <= recency <= T``; and
    ``recency == 0`` whenever ``frequency == 0`` (no repeat purchase means no time between
    purchases). Scalars are accepted as length-1 arrays.
    """
    x, tx, age = (as_float_array(n, v) for n, v in (("frequency", frequency), ("recency", recency), ("T", T)))
    same_length(frequency=x, recency=tx, T=age)
    check_frequency(x)
    require("recency", tx >= 0, "must be 0 or more", tx, "Recency is measured from the first purchase.")
    require(
        "recency",
        tx <= age,
        "must not exceed 'T' (the customer's age)",
        tx,
        "Compute recency and T up to the same observation end date.",
    )
    require(
        "recency",
        (x > 0) | (tx == 0),
        "must be 0 where 'frequency' is 0",
        tx,
        "A customer without repeat purchases has recency 0.",
    )
    return x, tx, age


def check_penalizer(penalizer: float) -> float:
    """The L2 penalty weight must be a finite number of 0 or more."""
    is_real = isinstance(penalizer, numbers.Real) and not isinstance(penalizer, bool)
    if not is_real or not 0 <= penalizer < math.inf:
        raise CxlensInputError(
            f"The 'penalizer' parameter must be a finite number of 0 or more. Got {penalizer!r} instead. "
            "Use 0 for plain maximum likelihood, or a small value such as 0.001 to stabilise the fit."
        )
    return float(penalizer)


def aggregate_rows(*columns: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Distinct rows of ``columns`` and the number (or total weight) of customers in each.

    Fader & Hardie fit on the distinct (x, t_x, T) patterns weighted by their counts; this makes
    the log-likelihood cost depend on the number of distinct patterns, not on the number of
    customers.
    """
    frame = pd.DataFrame({f"c{i}": col for i, col in enumerate(columns)})
    frame["w"] = 1.0 if weights is None else weights
    grouped = frame.groupby(list(frame.columns[:-1]), sort=False)["w"].sum()
    keys = grouped.index.to_frame(index=False)
    return (*(keys[f"c{i}"].to_numpy(dtype=float) for i in range(len(columns))), grouped.to_numpy(float))


def check_weights(weights: ArrayLike | None, size: int) -> np.ndarray | None:
    """Optional customer counts per row: finite, ``>= 0``, one per row and not all zero."""
    if weights is None:
        return None
    w = as_float_array("weights", weights)
    if w.size != size:
        raise CxlensInputError(f"The 'weights' must have one value per row ({size}). Got {w.size}.")
    require("weights", w >= 0, "must be 0 or more", w, "Weights count customers with the same history.")
    if w.sum() <= 0:
        raise CxlensInputError("The 'weights' must not all be 0: at least one customer is needed to fit.")
    return w


def _search(objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray) -> np.ndarray:
    """L-BFGS-B within ``x0 -/+ 20`` per log-parameter, then a BFGS polish from its optimum."""
    bounds = [(start - _LOG_BOX, start + _LOG_BOX) for start in x0]
    options = {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        first = optimize.minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        polished = optimize.minimize(objective, first.x, jac=True, method="BFGS", options={"gtol": 1e-9})
    better = np.all(np.isfinite(polished.x)) and polished.fun <= first.fun
    return polished.x if better else first.x


def minimize_negative_ll(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, model: str
) -> np.ndarray:
    """Minimise a smooth objective of log-parameters: L-BFGS-B, then a BFGS polish.

    ``objective`` returns ``(value, gradient)``. Raises :class:`ModelFitError` unless every
    component of the final gradient is below 1e-4 and every log-parameter stays within 15 of its
    start (a parameter running off to 0 or infinity means the data do not identify the model; the
    inputs are scaled so that sensible parameters are within a few units of the start).
    """
    best = _search(objective, x0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        grad = objective(best)[1]
    if not (np.all(np.abs(grad) <= 1e-4) and np.all(np.abs(best - x0) < _LOG_RUNAWAY)):
        raise ModelFitError(
            f"The {model} fit did not converge (gradient {np.round(grad, 6).tolist()}, "
            f"log-parameters {np.round(best, 3).tolist()}). The data may not identify the model; "
            "try a small penalizer, e.g. penalizer=0.001, or check the input units."
        )
    return best


def as_output(values: np.ndarray, *inputs: ArrayLike) -> float | np.ndarray:
    """A float when every input was a scalar, otherwise the array."""
    if all(np.ndim(v) == 0 for v in inputs):
        return float(np.asarray(values).reshape(-1)[0])
    return values


# --------------------------------------------------------------------------------------------------
# Likelihood
# --------------------------------------------------------------------------------------------------


def _log_terms(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, ...]:
    """The two log terms of the BG/NBD likelihood and their common part (FHL 2005, eq. 6).

    ``common = ln G(r+x) - ln G(r) + r ln(alpha)``,
    ``l1 = ln B(a, b+x) - ln B(a, b) - (r+x) ln(alpha+T)`` and, for ``x > 0``,
    ``l2 = ln B(a+1, b+x-1) - ln B(a, b) - (r+x) ln(alpha+t_x)`` (``-inf`` for ``x = 0``).
    """
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    l1 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    x1 = np.maximum(x, 1.0)
    l2 = betaln(a + 1.0, b + x1 - 1.0) - betaln(a, b) - (r + x) * np.log(alpha + tx)
    return common, l1, np.where(x > 0, l2, -np.inf)


def bgnbd_log_likelihood(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-row BG/NBD log-likelihood ``ln L(r, alpha, a, b | x, t_x, T)`` (FHL 2005, eq. 6).

    ``L = G(r+x) alpha^r / G(r) * [ B(a, b+x) / B(a, b) / (alpha+T)^(r+x)
    + 1{x>0} B(a+1, b+x-1) / B(a, b) / (alpha+t_x)^(r+x) ]``, summed on the log scale with
    log-sum-exp.
    """
    common, l1, l2 = _log_terms(params, x, tx, T)
    return common + np.logaddexp(l1, l2)


def _gradient(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-row gradient of the log-likelihood with respect to ``(r, alpha, a, b)``, shape (4, n).

    With ``w2 = exp(l2 - logaddexp(l1, l2))`` (0 for ``x = 0``) and ``w1 = 1 - w2``:
    ``d/dr = psi(r+x) - psi(r) + ln alpha - w1 ln(alpha+T) - w2 ln(alpha+t_x)``,
    ``d/dalpha = r/alpha - (r+x) (w1/(alpha+T) + w2/(alpha+t_x))``,
    ``d/da = psi(a+b) - psi(a+b+x) + w2/a`` and
    ``d/db = psi(a+b) - psi(a+b+x) - psi(b) + w1 psi(b+x) + w2 psi(b+x-1)``.
    """
    r, alpha, a, b = params
    _, l1, l2 = _log_terms(params, x, tx, T)
    w2 = np.exp(l2 - np.logaddexp(l1, l2))
    w1 = 1.0 - w2
    ab = psi(a + b) - psi(a + b + x)
    psi_bx1 = np.where(x > 0, psi(b + np.maximum(x, 1.0) - 1.0), 0.0)
    return np.array(
        [
            psi(r + x) - psi(r) + np.log(alpha) - w1 * np.log(alpha + T) - w2 * np.log(alpha + tx),
            r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx)),
            ab + w2 / a,
            ab - psi(b) + w1 * psi(b + x) + w2 * psi_bx1,
        ]
    )


def _objective(
    log_params: np.ndarray, data: tuple[np.ndarray, ...], penalizer: float
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood plus ``penalizer * sum(params**2)``, and its gradient.

    The gradient is with respect to the log-parameters (chain rule: multiply by the parameter).
    This is the objective of lifetimes' ``BetaGeoFitter`` (weighted mean over customers).
    """
    x, tx, T, w = data
    params = np.exp(log_params)
    ll = bgnbd_log_likelihood(params, x, tx, T)
    grad = _gradient(params, x, tx, T) @ w
    total = w.sum()
    value = -float(ll @ w) / total + penalizer * float(np.sum(params**2))
    return value, (-grad / total + 2.0 * penalizer * params) * params


# --------------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------------


def _log_hyp2f1(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``ln 2F1(a, b; c; z)`` for ``0 <= z < 1``, via Euler's transformation when 2F1 overflows.

    Euler: ``2F1(a, b; c; z) = (1 - z)^(c-a-b) 2F1(c-a, c-b; c; z)``.
    """
    direct = hyp2f1(a, b, c, z)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        euler = np.log(hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
        return np.where(np.isfinite(direct) & (direct > 0), np.log(direct), euler)


def _log_odds_dead(params: tuple[float, ...], x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """``ln[a / (b+x-1)] + (r+x) ln[(alpha+T) / (alpha+t_x)]`` for ``x > 0``; ``-inf`` for ``x = 0``."""
    r, alpha, a, b = params
    x1 = np.maximum(x, 1.0)
    value = np.log(a) - np.log(b + x1 - 1.0) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    return np.where(x > 0, value, -np.inf)


def _check_horizon(t: ArrayLike) -> np.ndarray:
    """Forecast horizons must be finite and 0 or more."""
    horizon = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(horizon)) or np.any(horizon < 0):
        raise CxlensInputError(
            f"The 't' parameter (the forecast horizon) must be 0 or more and finite. Got {t!r}. "
            "Give it in the same time unit as recency and T."
        )
    return horizon


def _require_repeat_buyers(x: np.ndarray, w: np.ndarray | None) -> None:
    """The BG/NBD parameters are not identified unless someone made a repeat purchase."""
    if not np.any((x > 0) & (True if w is None else w > 0)):
        raise CxlensInputError(
            f"The 'frequency' values are all 0 ({x.size} customers without a repeat purchase), so the "
            "BG/NBD model cannot be fitted. Use a longer observation period or more customers."
        )


class BetaGeoModel:
    """BG/NBD model (Fader, Hardie & Lee 2005) fitted by maximum likelihood.

    ``penalizer`` adds ``penalizer * (r**2 + alpha**2 + a**2 + b**2)`` to the mean negative
    log-likelihood, with alpha expressed on time rescaled so that the largest ``T`` is 1 (the
    convention of lifetimes' ``penalizer_coef``). After :meth:`fit`: ``params_`` (dict with
    ``r``, ``alpha``, ``a``, ``b``; alpha in the input time unit), ``log_likelihood_`` (total
    log-likelihood of the data at ``params_``, as reported by Fader, Hardie & Lee) and
    ``n_customers_``.
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
    ) -> BetaGeoModel:
        """Fit ``(r, alpha, a, b)`` by maximising the BG/NBD log-likelihood (FHL 2005, eq. 6).

        Identical ``(frequency, recency, T)`` rows are merged and weighted by their count (or by
        the summed ``weights`` when given, for data that are already aggregated). The search runs
        on log-parameters with time rescaled so that ``max(T) = 1``: L-BFGS-B with the analytic
        gradient, then a BFGS polish.
        """
        penalizer = check_penalizer(self.penalizer)
        x, tx, age = check_rft(frequency, recency, T)
        w = check_weights(weights, x.size)
        _require_repeat_buyers(x, w)
        x, tx, age, w = aggregate_rows(x, tx, age, weights=w)
        scale = 1.0 / age.max() if age.max() > 0 else 1.0
        data = (x, tx * scale, age * scale, w)
        log_params = minimize_negative_ll(lambda p: _objective(p, data, penalizer), np.zeros(4), "BG/NBD")
        params = np.exp(log_params) / np.array([1.0, scale, 1.0, 1.0])
        self.params_ = dict(zip(_PARAM_NAMES, (float(v) for v in params), strict=True))
        self.log_likelihood_ = float(bgnbd_log_likelihood(params, x, tx, age) @ w)
        self.n_customers_ = int(round(w.sum()))
        return self

    def _fitted_params(self) -> tuple[float, float, float, float]:
        """``(r, alpha, a, b)``, or :class:`ModelNotFittedError`."""
        if not hasattr(self, "params_"):
            raise ModelNotFittedError(
                "This BetaGeoModel is not fitted yet. Call fit(frequency, recency, T) first."
            )
        return tuple(self.params_[name] for name in _PARAM_NAMES)  # type: ignore[return-value]

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> float | np.ndarray:
        """Probability that a customer with history ``(x, t_x, T)`` is still alive.

        ``P(alive) = 1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
        (Fader, Hardie & Lee 2008, note 021); 1 for customers without repeat purchases.
        """
        params = self._fitted_params()
        x, tx, age = check_rft(frequency, recency, T)
        return as_output(expit(-_log_odds_dead(params, x, tx, age)), frequency, recency, T)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> float | np.ndarray:
        """Expected number of purchases in the next ``t`` periods given ``(x, t_x, T)`` (FHL eq. 10).

        ``E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
        * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] * P(alive)``, with ``P(alive)`` as in
        :meth:`probability_alive` (equal to FHL's denominator ``1 / (1 + 1{x>0} ...)``).
        ``t`` may be a scalar or broadcast against the customer arrays.
        """
        r, alpha, a, b = params = self._fitted_params()
        horizon = _check_horizon(t)
        x, tx, age = check_rft(frequency, recency, T)
        z = horizon / (alpha + age + horizon)
        log_hyp = _log_hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        rest = np.exp(log_hyp + (r + x) * (np.log(alpha + age) - np.log(alpha + age + horizon)))
        alive = expit(-_log_odds_dead(params, x, tx, age))
        expected = np.maximum((a + b + x - 1.0) / (a - 1.0) * (1.0 - rest) * alive, 0.0)
        return as_output(expected, t, frequency, recency, T)

    def expected_purchases_new_customer(self, t: ArrayLike) -> float | np.ndarray:
        """Expected repeat purchases of a newly acquired customer within ``t`` periods (FHL eq. 9).

        ``E[X(t)] = (a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``.
        """
        r, alpha, a, b = self._fitted_params()
        horizon = _check_horizon(t)
        log_hyp = _log_hyp2f1(r, b, a + b - 1.0, horizon / (alpha + horizon))
        rest = np.exp(log_hyp + r * (np.log(alpha) - np.log(alpha + horizon)))
        return as_output(np.maximum((a + b - 1.0) / (a - 1.0) * (1.0 - rest), 0.0), t)
