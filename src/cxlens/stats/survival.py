"""Kaplan-Meier survival curves (for example customer tenure until churn), in plain numpy.

References
----------
- Kaplan, E. L. & Meier, P. (1958). "Nonparametric estimation from incomplete observations".
  JASA 53, 457-481.
- Greenwood, M. (1926). "The natural duration of cancer". Reports on Public Health and Medical
  Subjects 33, HMSO.
- Kalbfleisch, J. D. & Prentice, R. L. (2002). *The Statistical Analysis of Failure Time Data*,
  2nd ed., Wiley, section 4.3 (the log(-log) "exponential Greenwood" interval).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cxlens.errors import CxlensInputError
from cxlens.stats.intervals import _check_confidence, _z_critical

__all__ = ["SurvivalCurve", "kaplan_meier"]


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan-Meier curve evaluated at the times in ``time``.

    At each ``time[i]``: ``at_risk`` subjects have a duration ``>= time[i]``; ``events`` and
    ``censored`` count the events and censorings in ``(time[i-1], time[i]]`` (exactly at
    ``time[i]`` on the default timeline); ``survival`` is the estimate ``S(time[i])`` and
    ``ci_low``/``ci_high`` its pointwise log(-log) Greenwood interval. ``median`` is the smallest
    time with ``S(t) <= 0.5`` (``None`` if the curve never gets there). ``n`` is the number of
    subjects; an empty input gives empty arrays, ``median=None`` and ``n=0``.
    """

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    survival: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    median: float | None
    n: int
    confidence: float
    _step_time: np.ndarray = field(repr=False)
    _step_survival: np.ndarray = field(repr=False)

    def survival_at(self, t: ArrayLike) -> float | np.ndarray:
        """``S(t)`` of the right-continuous step function (1.0 before the first event time).

        Works on the full event table even when the curve was built on a coarser ``timeline``.
        A scalar ``t`` gives a float, an array gives an array.
        """
        if self.n == 0:
            raise CxlensInputError(
                "This survival curve was built from no observations, so S(t) is undefined. "
                "Check 'curve.n' before calling survival_at()."
            )
        t_arr = _as_float_array("t", t, allow_negative=True)
        idx = np.searchsorted(self._step_time, t_arr, side="right") - 1
        out = np.where(idx >= 0, self._step_survival[np.maximum(idx, 0)], 1.0)
        return float(out) if np.ndim(t) == 0 else out

    def to_pandas(self) -> pd.DataFrame:
        """The curve as a DataFrame indexed by ``time``."""
        return pd.DataFrame(
            {
                "at_risk": self.at_risk,
                "events": self.events,
                "censored": self.censored,
                "survival": self.survival,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            },
            index=pd.Index(self.time, name="time"),
        )


def _as_float_array(name: str, values: ArrayLike, allow_negative: bool = False) -> np.ndarray:
    """A finite float array (any shape), or a clear error naming ``name``."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CxlensInputError(f"The '{name}' parameter must contain numbers only ({exc}).") from exc
    if not np.all(np.isfinite(arr)):
        raise CxlensInputError(
            f"The '{name}' parameter must contain only finite numbers, but "
            f"{int(np.count_nonzero(~np.isfinite(arr)))} value(s) are missing or infinite. "
            "Drop or fill those rows first."
        )
    if not allow_negative and np.any(arr < 0):
        raise CxlensInputError(
            f"The '{name}' parameter must not be negative, but {int(np.count_nonzero(arr < 0))} "
            f"value(s) are (smallest {arr.min()!r}). Durations are measured from the start, so they "
            "are 0 or more."
        )
    return arr


def _as_observed(observed: ArrayLike, size: int) -> np.ndarray:
    """Event indicators as a bool array of length ``size`` (accepts bools or 0/1 numbers)."""
    arr = np.asarray(observed)
    if arr.ndim != 1 or arr.shape[0] != size:
        raise CxlensInputError(
            f"The 'observed' parameter must be one-dimensional with one value per duration "
            f"({size}). Got shape {arr.shape}."
        )
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise CxlensInputError(
            "The 'observed' parameter must hold True/False or 1/0 (1 = the event, e.g. churn, "
            "happened; 0 = still active, i.e. censored). Convert labels such as 'Yes'/'No' first, "
            "e.g. df['Churn'].eq('Yes')."
        )
    return arr.astype(bool)


def _event_table(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct times (with 0 prepended, as lifelines does) and at-risk/event/censor counts."""
    times, inverse = np.unique(durations, return_inverse=True)
    removed = np.bincount(inverse, minlength=times.size)
    events = np.bincount(inverse, weights=observed, minlength=times.size).astype(np.int64)
    if times.size == 0 or times[0] > 0:
        times = np.concatenate(([0.0], times))
        removed, events = np.concatenate(([0], removed)), np.concatenate(([0], events))
    at_risk = durations.size - np.concatenate(([0], np.cumsum(removed)[:-1]))
    return times, at_risk.astype(np.int64), events, (removed - events).astype(np.int64)


def _km_survival(at_risk: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Product-limit estimate ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` (Kaplan & Meier 1958)."""
    return np.cumprod(1.0 - events / at_risk)


def _greenwood_sum(at_risk: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Greenwood's ``sum_{t_i <= t} d_i / (n_i (n_i - d_i))``; a term with ``d_i = n_i`` counts 0.

    Dropping the infinite term when everybody left has the event follows lifelines.
    """
    n, d = at_risk.astype(float), events.astype(float)
    safe = n > d
    terms = np.zeros_like(n)
    terms[safe] = d[safe] / (n[safe] * (n[safe] - d[safe]))
    return np.cumsum(terms)


def _loglog_bounds(survival: np.ndarray, greenwood: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval ``S(t) ** exp(+/- z * sqrt(V) / log S(t))`` with ``V`` the Greenwood sum.

    This is the log(-log) ("exponential Greenwood") interval of Kalbfleisch & Prentice (2002),
    lifelines' default: ``exp(-exp(log(-log S) -/+ z sqrt(V) / log S))``. It is 1 where ``S = 1``
    and 0 where ``S = 0``.
    """
    low, high = survival.copy(), survival.copy()
    inner = (survival > 0.0) & (survival < 1.0)
    log_s = np.log(survival[inner])
    shift = z * np.sqrt(greenwood[inner]) / log_s
    low[inner] = np.exp(-np.exp(np.log(-log_s) - shift))
    high[inner] = np.exp(-np.exp(np.log(-log_s) + shift))
    return low, high


def _median(times: np.ndarray, survival: np.ndarray) -> float | None:
    """Smallest time with ``S(t) <= 0.5``, or ``None``."""
    below = np.flatnonzero(survival <= 0.5)
    return float(times[below[0]]) if below.size else None


def _on_timeline(
    timeline: np.ndarray, times: np.ndarray, durations: np.ndarray, observed: np.ndarray
) -> tuple[np.ndarray, ...]:
    """At-risk counts and (prev, t] event/censor counts at the points of a custom timeline."""
    sorted_d = np.sort(durations)
    sorted_events = np.sort(durations[observed])
    at_risk = durations.size - np.searchsorted(sorted_d, timeline, side="left")
    cum_events = np.searchsorted(sorted_events, timeline, side="right")
    cum_removed = np.searchsorted(sorted_d, timeline, side="right")
    events = np.diff(np.concatenate(([0], cum_events)))
    censored = np.diff(np.concatenate(([0], cum_removed))) - events
    idx = np.searchsorted(times, timeline, side="right") - 1
    return at_risk.astype(np.int64), events.astype(np.int64), censored.astype(np.int64), idx


def _step(values: np.ndarray, idx: np.ndarray, before: float) -> np.ndarray:
    """Step-function lookup ``values[idx]`` with ``before`` where ``idx < 0``."""
    return np.where(idx >= 0, values[np.maximum(idx, 0)], before)


def _empty_curve(confidence: float) -> SurvivalCurve:
    """The curve returned for zero observations."""
    empty_f, empty_i = np.array([], dtype=float), np.array([], dtype=np.int64)
    return SurvivalCurve(
        empty_f, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, None, 0, confidence, empty_f, empty_f
    )


def _full_curve(d: np.ndarray, obs: np.ndarray, confidence: float) -> SurvivalCurve:
    """The curve at 0 and at every distinct duration."""
    times, at_risk, events, censored = _event_table(d, obs)
    survival = _km_survival(at_risk, events)
    low, high = _loglog_bounds(survival, _greenwood_sum(at_risk, events), _z_critical(confidence))
    median = _median(times, survival)
    return SurvivalCurve(
        times, at_risk, events, censored, survival, low, high, median, d.size, confidence, times, survival
    )


def _resample(curve: SurvivalCurve, grid: np.ndarray, d: np.ndarray, obs: np.ndarray) -> SurvivalCurve:
    """``curve`` reported at the points of ``grid`` (sorted), with counts per grid interval."""
    at_risk, events, censored, idx = _on_timeline(grid, curve.time, d, obs)
    return replace(
        curve,
        time=grid,
        at_risk=at_risk,
        events=events,
        censored=censored,
        survival=_step(curve.survival, idx, 1.0),
        ci_low=_step(curve.ci_low, idx, 1.0),
        ci_high=_step(curve.ci_high, idx, 1.0),
    )


def kaplan_meier(
    durations: ArrayLike,
    observed: ArrayLike,
    timeline: ArrayLike | None = None,
    confidence: float = 0.95,
) -> SurvivalCurve:
    """Kaplan-Meier estimate of the survival function with a log(-log) Greenwood interval.

    ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` over the distinct durations ``t_i``, with ``d_i``
    events and ``n_i`` subjects at risk (duration ``>= t_i``) (Kaplan & Meier 1958). Greenwood's
    variance of ``log S`` is ``V(t) = sum_{t_i <= t} d_i / (n_i (n_i - d_i))``; the interval is
    ``S(t) ** exp(+/- z sqrt(V(t)) / log S(t))`` (log(-log) transform, Kalbfleisch & Prentice
    2002), which stays inside [0, 1]. This reproduces lifelines' ``KaplanMeierFitter`` defaults.

    ``durations`` are times from the start (e.g. tenure in months, 0 or more); ``observed`` is 1
    (or True) where the event (e.g. churn) happened and 0 where the subject is still active
    (right-censored). By default the curve is reported at 0 and at every distinct duration; pass
    ``timeline`` to report it at chosen times instead (the step function evaluated there).
    """
    confidence = _check_confidence(confidence)
    d = _as_float_array("durations", durations)
    if d.ndim != 1:
        raise CxlensInputError(f"The 'durations' parameter must be one-dimensional. Got shape {d.shape}.")
    obs = _as_observed(observed, d.size)
    if d.size == 0:
        return _empty_curve(confidence)
    curve = _full_curve(d, obs, confidence)
    if timeline is None:
        return curve
    grid = np.sort(_as_float_array("timeline", timeline, allow_negative=True).ravel())
    return _resample(curve, grid, d, obs)
