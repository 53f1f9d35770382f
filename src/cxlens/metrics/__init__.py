"""CX metrics: NPS, CSAT, CES and response counts, sliced and compared, with honest statistics.

Use through a workspace::

    ws.metric("nps", by="segment", grain="month", since="2025-01-01", compare="previous")

or with your own Ibis tables: ``run_metric({"responses": t, "customers": c}, settings, query)``.
"""

from cxlens.metrics.distribution import DISTRIBUTIONS
from cxlens.metrics.engine import metric_names, run_metric
from cxlens.metrics.period import Compare, DateRange, Grain
from cxlens.metrics.registry import SPECIAL
from cxlens.metrics.result import Change, MetricQuery, MetricResult, MetricRow

SPECIAL.update(DISTRIBUTIONS)

__all__ = [
    "Change", "Compare", "DateRange", "Grain", "MetricQuery", "MetricResult", "MetricRow",
    "metric_names", "run_metric",
]
