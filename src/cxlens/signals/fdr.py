"""Multiple-testing control: the Benjamini–Hochberg step-up procedure.

Benjamini, Y. & Hochberg, Y. (1995). "Controlling the false discovery rate: a practical and
powerful approach to multiple testing". JRSS B 57(1), 289-300.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cxlens.errors import CxlensInputError


@dataclass(frozen=True)
class FdrDecision:
    """Which of ``m`` p-values are rejected at false discovery rate ``q``.

    ``threshold`` is the largest rejected p-value (every p-value at or below it is rejected), or
    ``None`` when none is; ``adjusted`` are the BH-adjusted p-values (q-values) in input order.
    """

    rejected: tuple[bool, ...]
    threshold: float | None
    adjusted: tuple[float, ...]
    q: float


def check_rate(name: str, value: float) -> float:
    """A rate strictly between 0 and 1, or a clear error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
        raise CxlensInputError(
            f"The '{name}' parameter must be between 0 and 1 (exclusive). Got {value!r} instead. "
            f"Use for example 0.05."
        )
    return float(value)


def benjamini_hochberg(p_values: Sequence[float], q: float = 0.05) -> FdrDecision:
    """Reject the ``k`` smallest p-values, ``k`` the largest rank with ``p_(k) <= k q / m``.

    Under independence (or positive dependence) the expected share of false rejections among the
    rejections is at most ``q``; when every hypothesis is true, the chance of any rejection is at
    most ``q``. The adjusted p-value of rank ``i`` is ``min_{j >= i} min(1, m p_(j) / j)``.
    """
    q = check_rate("fdr", q)
    m = len(p_values)
    if m == 0:
        return FdrDecision((), None, (), q)
    order = sorted(range(m), key=lambda i: p_values[i])
    threshold = None
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= rank * q / m:
            threshold = p_values[i]
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, m * p_values[i] / rank)
        adjusted[i] = min(1.0, running)
    rejected = tuple(threshold is not None and p <= threshold for p in p_values)
    return FdrDecision(rejected, threshold, tuple(adjusted), q)
