"""Confidence intervals and two-sample tests on counts and summaries.

Every function takes scalars (counts, means, standard deviations) or one sample and returns a frozen
dataclass. An empty slice (``n == 0``) never raises and never gives NaN: the value and the interval
are ``None`` so that callers can report "no data" instead of a number.

References
----------
- Rocks, B. (2016). "Interval estimation for the 'net promoter score'". The American Statistician
  70(4), 365-372.
- Sauro, J. & Lewis, J. R. (2016). *Quantifying the User Experience*, 2nd ed., Morgan Kaufmann;
  and Lewis & Sauro (2021), "How to statistically compare two Net Promoter Scores", MeasuringU.
- Wilson, E. B. (1927). "Probable inference, the law of succession, and statistical inference".
  JASA 22, 209-212.
- Newcombe, R. G. (1998a). "Two-sided confidence intervals for the single proportion: comparison
  of seven methods". Statistics in Medicine 17, 857-872.
- Newcombe, R. G. (1998b). "Interval estimation for the difference between independent
  proportions: comparison of eleven methods". Statistics in Medicine 17, 873-890.
- Welch, B. L. (1947). "The generalization of 'Student's' problem when several different
  population variances are involved". Biometrika 34, 28-35.
- Conover, W. J. (1999). *Practical Nonparametric Statistics*, 3rd ed., Wiley, section 3.2
  (confidence interval for a quantile).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import stats

from cxlens.errors import CxlensInputError

__all__ = [
    "Difference",
    "MeanDifference",
    "MeanEstimate",
    "MedianEstimate",
    "NpsCounts",
    "NpsEstimate",
    "Proportion",
    "mean_difference",
    "mean_interval",
    "median_interval",
    "min_sample_warning",
    "newcombe_difference",
    "nps_difference",
    "nps_interval",
    "wilson_interval",
]

_NPS_ADD_N = 3.0  # adjusted-Wald: add 3 to n ...
_NPS_ADD_COUNT = 0.75  # ... and 3/4 to promoters and to detractors (Rocks 2016).


# --------------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NpsEstimate:
    """A Net Promoter Score with its adjusted-Wald interval, all on the -100..100 scale.

    ``nps`` is the plain NPS ``100 * (promoters - detractors) / n``; ``se`` its plain standard
    error; ``ci_low``/``ci_high`` the adjusted-Wald interval (see :func:`nps_interval`). All four
    are ``None`` when ``n == 0``.
    """

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float


@dataclass(frozen=True)
class Proportion:
    """A proportion ``value = successes / n`` (a fraction in 0..1) with its interval."""

    n: int
    successes: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float


@dataclass(frozen=True)
class Difference:
    """A difference between two groups with a z statistic and a two-sided p-value.

    Which group is subtracted from which is stated by the function that returns it. ``significant``
    is ``False`` whenever the difference cannot be computed (an empty group).
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p_value: float | None
    significant: bool
    confidence: float
    method: str


@dataclass(frozen=True)
class MeanEstimate:
    """A sample mean with its Student-t interval (``None`` when ``n < 2``)."""

    n: int
    value: float | None
    sd: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float


@dataclass(frozen=True)
class MeanDifference:
    """``mean1 - mean2`` with Welch's t statistic, its degrees of freedom and p-value."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    t: float | None
    df: float | None
    p_value: float | None
    significant: bool
    confidence: float


@dataclass(frozen=True)
class MedianEstimate:
    """A sample median with a distribution-free order-statistic interval.

    ``coverage`` is the exact binomial coverage of the interval (at least ``confidence``);
    ``note`` explains why the interval is ``None`` when it is.
    """

    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    coverage: float | None
    note: str | None


class NpsCounts(Protocol):
    """Anything with promoter, passive and detractor counts (for example an :class:`NpsEstimate`)."""

    @property
    def promoters(self) -> int: ...

    @property
    def passives(self) -> int: ...

    @property
    def detractors(self) -> int: ...


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float, or raise if it is not strictly between 0 and 1."""
    ok = isinstance(confidence, numbers.Real) and not isinstance(confidence, bool)
    if not ok or not 0.0 < float(confidence) < 1.0:
        raise CxlensInputError(
            "The 'confidence' parameter must be between 0 and 1 (exclusive). "
            f"Got {confidence!r} instead. Use for example 0.95 for a 95% interval."
        )
    return float(confidence)


def _check_count(name: str, value: int) -> int:
    """Return ``value`` as an int, or raise if it is not a non-negative whole number."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integral or int(value) < 0:
        raise CxlensInputError(
            f"The '{name}' parameter must be a whole number of 0 or more. Got {value!r} instead. "
            "Pass a count of respondents or events, not a share or a percentage."
        )
    return int(value)


def _check_successes(successes: int, n: int, s_name: str = "successes", n_name: str = "n") -> None:
    """Raise if there are more successes than trials."""
    if successes > n:
        raise CxlensInputError(
            f"The '{s_name}' parameter must not exceed '{n_name}'. Got {s_name}={successes} and "
            f"{n_name}={n}. Pass the number of successes and the total number of trials."
        )


def _check_real(name: str, value: float | None, allow_missing: bool) -> float | None:
    """Return a finite float, or ``None`` for a missing value when that is allowed."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if value is None or (is_real and math.isnan(float(value))):
        if allow_missing:
            return None
    elif is_real and math.isfinite(float(value)):
        return float(value)
    raise CxlensInputError(
        f"The '{name}' parameter must be a finite number. Got {value!r} instead. "
        "Drop missing values before summarising, or pass n=0 for an empty group."
    )


def _check_sd(name: str, value: float | None, n: int) -> float | None:
    """Return a non-negative standard deviation; it may be missing when ``n < 2``."""
    sd = _check_real(name, value, allow_missing=n < 2)
    if sd is not None and sd < 0:
        raise CxlensInputError(
            f"The '{name}' parameter must be 0 or more (it is a standard deviation). Got {value!r} instead."
        )
    return sd


def _z_critical(confidence: float) -> float:
    """Two-sided standard-normal critical value ``z = Phi^-1(1 - (1 - confidence) / 2)``."""
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def _two_sided_p(z: float) -> float:
    """Two-sided normal p-value ``2 * (1 - Phi(|z|))``."""
    return float(2.0 * stats.norm.sf(abs(z)))


# --------------------------------------------------------------------------------------------------
# Net Promoter Score
# --------------------------------------------------------------------------------------------------


def _nps_variance(p: float, d: float) -> float:
    """Variance of one response scored +1/0/-1: ``var = p + d - (p - d)**2``."""
    return p + d - (p - d) ** 2


def _adjusted_nps(promoters: int, detractors: int, n: int) -> tuple[float, float, float]:
    """Adjusted-Wald NPS (as a fraction), its variance and the adjusted n.

    ``n' = n + 3``, ``p' = (promoters + 0.75) / n'``, ``d' = (detractors + 0.75) / n'``,
    ``nps' = p' - d'``, ``var' = p' + d' - (p' - d')**2`` (Rocks 2016).
    """
    n_adj = n + _NPS_ADD_N
    p_adj = (promoters + _NPS_ADD_COUNT) / n_adj
    d_adj = (detractors + _NPS_ADD_COUNT) / n_adj
    return p_adj - d_adj, _nps_variance(p_adj, d_adj), n_adj


def _clip(value: float, low: float, high: float) -> float:
    """``min(max(value, low), high)`` as a float."""
    return float(min(max(value, low), high))


def nps_interval(promoters: int, passives: int, detractors: int, confidence: float = 0.95) -> NpsEstimate:
    """Net Promoter Score with an adjusted-Wald confidence interval (Rocks 2016).

    Point estimate: ``NPS = 100 * (p - d)`` with ``p = promoters / n``, ``d = detractors / n`` and
    ``n = promoters + passives + detractors``; its standard error is
    ``se = 100 * sqrt(var / n)`` with ``var = p + d - (p - d)**2``.

    Interval (adjusted-Wald, Rocks 2016; Sauro & Lewis 2016): ``n' = n + 3``,
    ``p' = (promoters + 0.75) / n'``, ``d' = (detractors + 0.75) / n'``, ``nps' = p' - d'``,
    ``var' = p' + d' - (p' - d')**2``, ``se' = sqrt(var' / n')`` and
    ``[ci_low, ci_high] = 100 * (nps' -/+ z * se')`` clipped to [-100, 100], where ``z`` is the
    two-sided normal critical value for ``confidence``.

    The interval is centred on the adjusted ``nps'``, not on the reported ``nps``. For a single
    response at 95% confidence, or for all-promoter (all-detractor) samples at confidence levels
    below about 84%, the interval does not contain the plain NPS of +/-100.

    With ``n == 0`` every estimate is ``None``.
    """
    promoters = _check_count("promoters", promoters)
    passives = _check_count("passives", passives)
    detractors = _check_count("detractors", detractors)
    confidence = _check_confidence(confidence)
    n = promoters + passives + detractors
    if n == 0:
        return NpsEstimate(0, 0, 0, 0, None, None, None, None, confidence)
    p, d = promoters / n, detractors / n
    center, var_adj, n_adj = _adjusted_nps(promoters, detractors, n)
    half = _z_critical(confidence) * math.sqrt(var_adj / n_adj)
    return NpsEstimate(
        n=n,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        nps=100.0 * (p - d),
        se=100.0 * math.sqrt(_nps_variance(p, d) / n),
        ci_low=_clip(100.0 * (center - half), -100.0, 100.0),
        ci_high=_clip(100.0 * (center + half), -100.0, 100.0),
        confidence=confidence,
    )


def _nps_counts(group: NpsCounts | Sequence[int], name: str) -> tuple[int, int, int]:
    """Validated ``(promoters, passives, detractors)`` from an estimate or a 3-sequence."""
    if hasattr(group, "promoters"):
        counts = (group.promoters, group.passives, group.detractors)  # type: ignore[union-attr]
    elif isinstance(group, Sequence) and not isinstance(group, str) and len(group) == 3:
        counts = (group[0], group[1], group[2])
    else:
        raise CxlensInputError(
            f"The '{name}' parameter must be an NpsEstimate (or any object with promoters, passives "
            f"and detractors) or a (promoters, passives, detractors) tuple. Got {group!r} instead."
        )
    labels = ("promoters", "passives", "detractors")
    return tuple(_check_count(f"{name}.{lab}", c) for lab, c in zip(labels, counts, strict=True))


def _empty_difference(confidence: float, method: str) -> Difference:
    """The :class:`Difference` reported when one of the groups is empty."""
    return Difference(None, None, None, None, None, False, confidence, method)


def nps_difference(
    a: NpsCounts | Sequence[int], b: NpsCounts | Sequence[int], confidence: float = 0.95
) -> Difference:
    """Difference ``NPS_b - NPS_a`` in points, with the adjusted-Wald z-test (Lewis & Sauro 2021).

    ``estimate = NPS_b - NPS_a`` uses the plain scores. The test and the interval use the
    adjusted-Wald quantities of :func:`nps_interval` for each group:
    ``se = sqrt(var'_a / n'_a + var'_b / n'_b)``, ``z = (nps'_b - nps'_a) / se``, two-sided
    ``p = 2 * (1 - Phi(|z|))`` and ``[ci_low, ci_high] = 100 * ((nps'_b - nps'_a) -/+ z_c * se)``
    clipped to [-200, 200]. ``significant`` is ``p < 1 - confidence`` (equivalently, the interval
    excludes 0).

    ``a`` and ``b`` are :class:`NpsEstimate` objects (or anything with ``promoters``, ``passives``
    and ``detractors``) or ``(promoters, passives, detractors)`` tuples. If either group is empty,
    every number is ``None`` and ``significant`` is ``False``.
    """
    confidence = _check_confidence(confidence)
    pa, qa, da = _nps_counts(a, "a")
    pb, qb, db = _nps_counts(b, "b")
    method = "adjusted-wald z-test"
    n_a, n_b = pa + qa + da, pb + qb + db
    if n_a == 0 or n_b == 0:
        return _empty_difference(confidence, method)
    center_a, var_a, nadj_a = _adjusted_nps(pa, da, n_a)
    center_b, var_b, nadj_b = _adjusted_nps(pb, db, n_b)
    se = math.sqrt(var_a / nadj_a + var_b / nadj_b)
    z = (center_b - center_a) / se
    half = _z_critical(confidence) * se
    p_value = _two_sided_p(z)
    return Difference(
        estimate=100.0 * ((pb - db) / n_b - (pa - da) / n_a),
        ci_low=_clip(100.0 * (center_b - center_a - half), -200.0, 200.0),
        ci_high=_clip(100.0 * (center_b - center_a + half), -200.0, 200.0),
        z=z,
        p_value=p_value,
        significant=p_value < 1.0 - confidence,
        confidence=confidence,
        method=method,
    )


# --------------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------------


def _wilson_limits(successes: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score limits ``(c -/+ h)`` for ``successes / n`` (``n > 0``).

    ``c = (p + z**2 / (2n)) / (1 + z**2 / n)`` and
    ``h = z / (1 + z**2 / n) * sqrt(p (1 - p) / n + z**2 / (4 n**2))``. The limits are exactly 0
    when ``successes == 0`` and exactly 1 when ``successes == n``.
    """
    p = successes / n
    denom = 1.0 + z * z / n
    center = (p + z * z / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    low = 0.0 if successes == 0 else _clip(center - half, 0.0, p)
    high = 1.0 if successes == n else _clip(center + half, p, 1.0)
    return low, high


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """Proportion ``successes / n`` with the Wilson (1927) score interval.

    The interval is the set of ``pi`` with ``|p - pi| <= z * sqrt(pi (1 - pi) / n)``, i.e.
    ``(p + z**2/(2n) -/+ z * sqrt(p (1 - p) / n + z**2 / (4 n**2))) / (1 + z**2 / n)``
    (Newcombe 1998a, method 3). It always lies in [0, 1] and contains ``p``. With ``n == 0`` the
    value and the interval are ``None``.
    """
    successes = _check_count("successes", successes)
    n = _check_count("n", n)
    _check_successes(successes, n)
    confidence = _check_confidence(confidence)
    if n == 0:
        return Proportion(0, 0, None, None, None, confidence)
    low, high = _wilson_limits(successes, n, _z_critical(confidence))
    return Proportion(n, successes, successes / n, low, high, confidence)


def _pooled_z(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-proportion z statistic with pooled variance.

    ``z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2))`` with ``P = (x1 + x2) / (n1 + n2)``; 0 when
    ``P`` is 0 or 1 (then ``p1 == p2``).
    """
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    return 0.0 if var <= 0.0 else (x1 / n1 - x2 / n2) / math.sqrt(var)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> Difference:
    """Difference ``p1 - p2`` of two independent proportions, Newcombe's (1998b) method 10.

    With ``D = p1 - p2`` and the Wilson limits ``(l1, u1)`` of ``p1`` and ``(l2, u2)`` of ``p2``
    (see :func:`wilson_interval`), the hybrid score interval is
    ``[D - sqrt((p1 - l1)**2 + (u2 - p2)**2), D + sqrt((u1 - p1)**2 + (p2 - l2)**2)]``.

    ``z`` and ``p_value`` come from the two-proportion z-test with pooled variance
    (``z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2))``, ``P = (x1 + x2) / (n1 + n2)``).
    ``significant`` means the Newcombe interval excludes 0; in rare borderline cases it can
    disagree with ``p_value < 1 - confidence``. If either group is empty every number is ``None``.
    """
    x1, n1 = _check_count("x1", x1), _check_count("n1", n1)
    x2, n2 = _check_count("x2", x2), _check_count("n2", n2)
    _check_successes(x1, n1, "x1", "n1")
    _check_successes(x2, n2, "x2", "n2")
    confidence = _check_confidence(confidence)
    method = "newcombe hybrid score (method 10)"
    if n1 == 0 or n2 == 0:
        return _empty_difference(confidence, method)
    z_c = _z_critical(confidence)
    (l1, u1), (l2, u2) = _wilson_limits(x1, n1, z_c), _wilson_limits(x2, n2, z_c)
    p1, p2 = x1 / n1, x2 / n2
    low = p1 - p2 - math.hypot(p1 - l1, u2 - p2)
    high = p1 - p2 + math.hypot(u1 - p1, p2 - l2)
    z = _pooled_z(x1, n1, x2, n2)
    return Difference(p1 - p2, low, high, z, _two_sided_p(z), low > 0.0 or high < 0.0, confidence, method)


# --------------------------------------------------------------------------------------------------
# Means
# --------------------------------------------------------------------------------------------------


def mean_interval(n: int, mean: float | None, sd: float | None, confidence: float = 0.95) -> MeanEstimate:
    """Mean with the Student t-interval ``mean -/+ t_{n-1} * sd / sqrt(n)`` (Student 1908).

    ``sd`` is the sample standard deviation (``ddof=1``). With ``n == 0`` everything is ``None``
    (``mean``/``sd`` may be ``None`` or NaN); with ``n == 1`` the mean is reported but ``sd``,
    ``se`` and the interval are ``None``.
    """
    n = _check_count("n", n)
    confidence = _check_confidence(confidence)
    value = _check_real("mean", mean, allow_missing=n == 0)
    sd_value = _check_sd("sd", sd, n)
    if n == 0:
        return MeanEstimate(0, None, None, None, None, None, confidence)
    if n == 1:
        return MeanEstimate(1, value, None, None, None, None, confidence)
    se = sd_value / math.sqrt(n)  # type: ignore[operator]
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    return MeanEstimate(n, value, sd_value, se, value - half, value + half, confidence)  # type: ignore[operator]


def _welch_df(v1: float, n1: int, v2: float, n2: int) -> float:
    """Welch-Satterthwaite ``df = (v1 + v2)**2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))``.

    ``v1 = sd1**2 / n1`` and ``v2 = sd2**2 / n2`` are the squared standard errors.
    """
    return (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))


def _welch(diff: float, v1: float, n1: int, v2: float, n2: int, confidence: float) -> MeanDifference:
    """Welch t-test and interval for ``diff`` given the squared standard errors ``v1``, ``v2``."""
    se = math.sqrt(v1 + v2)
    if se == 0.0:  # both groups constant: no sampling noise at all
        p_value = 1.0 if diff == 0.0 else 0.0
        return MeanDifference(diff, diff, diff, None, None, p_value, diff != 0.0, confidence)
    df = _welch_df(v1, n1, v2, n2)
    t = diff / se
    half = float(stats.t.ppf(0.5 + confidence / 2.0, df)) * se
    p_value = float(2.0 * stats.t.sf(abs(t), df))
    return MeanDifference(
        diff, diff - half, diff + half, t, df, p_value, p_value < 1 - confidence, confidence
    )


def mean_difference(
    n1: int,
    mean1: float | None,
    sd1: float | None,
    n2: int,
    mean2: float | None,
    sd2: float | None,
    confidence: float = 0.95,
) -> MeanDifference:
    """Difference ``mean1 - mean2`` with Welch's (1947) unequal-variance t-test.

    ``t = (mean1 - mean2) / sqrt(sd1**2/n1 + sd2**2/n2)`` with Welch-Satterthwaite degrees of
    freedom; the interval is ``(mean1 - mean2) -/+ t_{df} * se``. If a group is empty everything is
    ``None``; if a group has one observation only the estimate is given. When both standard
    deviations are 0, ``t`` and ``df`` are ``None`` and the interval is the single point.
    """
    n1, n2 = _check_count("n1", n1), _check_count("n2", n2)
    confidence = _check_confidence(confidence)
    m1, m2 = _check_real("mean1", mean1, n1 == 0), _check_real("mean2", mean2, n2 == 0)
    s1, s2 = _check_sd("sd1", sd1, n1), _check_sd("sd2", sd2, n2)
    if n1 == 0 or n2 == 0:
        return MeanDifference(None, None, None, None, None, None, False, confidence)
    diff = m1 - m2  # type: ignore[operator]
    if n1 < 2 or n2 < 2:
        return MeanDifference(diff, None, None, None, None, None, False, confidence)
    return _welch(diff, s1**2 / n1, n1, s2**2 / n2, n2, confidence)  # type: ignore[operator]


# --------------------------------------------------------------------------------------------------
# Median
# --------------------------------------------------------------------------------------------------


def _as_sample(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """A 1-D float array without NaN or infinities, or a clear error."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CxlensInputError(
            f"The 'values' parameter must be a sequence of numbers. Got {type(values).__name__}: {exc}."
        ) from exc
    if arr.ndim != 1:
        raise CxlensInputError(
            f"The 'values' parameter must be one-dimensional. Got an array of shape {arr.shape}. "
            "Pass a single column of values."
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise CxlensInputError(
            f"The 'values' parameter must contain only finite numbers. Got {bad} missing or "
            "infinite value(s). Drop missing values before computing the median."
        )
    return arr


def _order_statistic_rank(n: int, confidence: float) -> int:
    """Largest 1-based rank ``j`` with ``2 * F(j - 1) <= 1 - confidence``, F the Binomial(n, 1/2) CDF.

    Returns 0 when even ``j = 1`` fails (``2 * 0.5**n > 1 - confidence``).
    """
    tail = (1.0 - confidence) / 2.0
    m = int(stats.binom.ppf(tail, n, 0.5))  # smallest m with F(m) >= tail
    if stats.binom.cdf(m, n, 0.5) > tail * (1.0 + 1e-12):
        m -= 1
    return m + 1


def median_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> MedianEstimate:
    """Sample median with a distribution-free confidence interval from order statistics.

    Method (Conover 1999, section 3.2): with the sorted sample ``x_(1) <= ... <= x_(n)``, the
    number of observations below the population median is Binomial(n, 1/2), so
    ``P(x_(j) <= median <= x_(k)) >= sum_{i=j}^{k-1} C(n, i) / 2**n``. The interval is
    ``[x_(j), x_(n+1-j)]`` with the largest ``j`` (the narrowest symmetric pair) whose coverage
    ``1 - 2 * F(j - 1)`` is at least ``confidence``. For tiny samples no such pair exists (e.g.
    ``n <= 5`` at 95%, where even ``[x_(1), x_(n)]`` covers only ``1 - 2 / 2**n``): the interval is
    then ``None`` and ``note`` says why. This gives the same limits as
    ``scipy.stats.quantile_test(x, p=0.5).confidence_interval(confidence)``.
    """
    confidence = _check_confidence(confidence)
    x = np.sort(_as_sample(values))
    n = int(x.size)
    if n == 0:
        return MedianEstimate(0, None, None, None, confidence, None, "No values: the slice is empty.")
    median = float(np.median(x))
    j = _order_statistic_rank(n, confidence)
    if j == 0:
        note = (
            f"With n={n} no order-statistic interval reaches {confidence:.1%} coverage "
            f"(the widest, from the minimum to the maximum, covers {1 - 2 * 0.5**n:.1%})."
        )
        return MedianEstimate(n, median, None, None, confidence, None, note)
    coverage = float(1.0 - 2.0 * stats.binom.cdf(j - 1, n, 0.5))
    return MedianEstimate(n, median, float(x[j - 1]), float(x[n - j]), confidence, coverage, None)


# --------------------------------------------------------------------------------------------------
# Sample-size warnings
# --------------------------------------------------------------------------------------------------


def min_sample_warning(n: int, minimum: int, noun: str = "responses") -> str | None:
    """A sentence warning that ``n`` is below ``minimum``, or ``None`` when ``n >= minimum``.

    ``noun`` is the plural name of what is counted ("responses", "customers", ...).
    """
    n = _check_count("n", n)
    minimum = _check_count("minimum", minimum)
    if n >= minimum:
        return None
    if n == 0:
        return f"No {noun} are available, so no estimate can be given."
    return (
        f"Only {n} of the recommended minimum of {minimum} {noun} are available; "
        "treat this estimate as indicative only."
    )
