"""The loop dashboard: the loop metrics of the metrics engine (from the warehouse ``cases``
table, which the ``loop-snapshot`` job keeps current), overall and by owner or team, and the
inbox counts of the app database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cxlens.errors import CxlensError
from cxlens.metrics import metric_names
from cxlens.web.loop import service
from cxlens.web.loop.models import Case, Status
from cxlens.web.models import Project
from cxlens.web.projects import POOL

LOOP_METRICS: tuple[tuple[str, str], ...] = (
    ("closed_loop_rate", "Closed-loop rate"),
    ("time_to_acknowledge", "Time to acknowledge"),
    ("time_to_close", "Time to close"),
    ("sla_attainment", "SLA attainment"),
    ("recovery_rate", "Recovery rate"),
)
BREAKDOWNS: tuple[str, ...] = ("owner", "team", "priority", "reason")


@dataclass(frozen=True)
class MetricPanel:
    metric: str
    label: str
    definition: str
    rows: tuple[dict[str, Any], ...]
    error: str = ""


@dataclass(frozen=True)
class LoopDashboard:
    open_cases: int
    overdue: int
    unassigned: int
    panels: tuple[MetricPanel, ...]
    missing: tuple[str, ...]  # loop metrics the engine does not offer (yet)


def loop_dashboard(project: Project, now: datetime, *, by: str = "") -> LoopDashboard:
    open_qs = Case.objects.filter(project=project).exclude(status=Status.CLOSED)
    available = set(metric_names())
    panels, missing = [], []
    with POOL.use(project) as ws:
        for metric, label in LOOP_METRICS:
            if metric not in available:
                missing.append(metric)
                continue
            try:
                result = ws.metric(metric, now=now, by=[by] if by else [])
            except CxlensError as exc:
                panels.append(MetricPanel(metric, label, "", (), str(exc)))
                continue
            panels.append(MetricPanel(metric, label, result.definition,
                                      tuple(_for_display(r) for r in result.to_records())))
    return LoopDashboard(open_qs.count(), open_qs.filter(service.overdue_q(now)).count(),
                         open_qs.filter(owner__isnull=True).count(), tuple(panels), tuple(missing))


def _for_display(record: dict[str, Any]) -> dict[str, Any]:
    """A figure's record with its decimals cut to two for the page (the API keeps full precision)."""
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in record.items()}
