"""The runner contract: what every metric runner provides to the engine.

A runner is bound to one table. The engine filters it by the request (date range, filters),
groups it (breakdowns, period) and asks the runner for *aggregates*: named Ibis expressions the
engine computes per group (pushed down to the warehouse). The runner then turns one aggregated
row into a figure with its interval (``estimate``) and two rows into a tested change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import ibis

from cxlens.metrics.result import Change

#: (value, ci_low, ci_high, n, components) of one aggregated row.
Estimate = tuple[float | None, float | None, float | None, int, tuple[tuple[str, Any], ...]]


class Runner(ABC):
    """Base of all metric runners; subclasses set ``name``, ``table``, ``column``, ``definition``."""

    name: ClassVar[str]
    table: ClassVar[str]
    column: ClassVar[str]
    definition: ClassVar[str]
    #: The timestamp column that places a row in a period (default: the table's time column).
    time_column: ClassVar[str | None] = None

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings

    def prepare(self, t: ibis.Table) -> ibis.Table:
        """The rows the metric is computed on (default: where ``column`` is not null)."""
        return t.filter(t[self.column].notnull())

    @abstractmethod
    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        """Named aggregate expressions, computed by the engine per group."""

    @abstractmethod
    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        """(value, ci_low, ci_high, n, components) of one aggregated row."""

    @abstractmethod
    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        """The tested change from ``prev`` to ``cur`` (the comparison period)."""
