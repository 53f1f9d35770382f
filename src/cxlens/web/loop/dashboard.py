"""The loop dashboard: the loop metrics of the metrics engine (from the warehouse ``cases``
table, which the ``loop-snapshot`` job keeps current), overall and by owner or team, their
weekly trend as server-side SVG charts, and the inbox counts of the app database.

Every figure comes from a metric runner; this module only picks the records and hands them to
:mod:`cxlens.web.charts` (values with their intervals), so the page does no arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.safestring import SafeString

from cxlens.errors import CxlensError
from cxlens.metrics import metric_names
from cxlens.metrics.period import Grain, period_start
from cxlens.web import charts
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
#: The unit of each loop metric's value: a share in percent, or business hours.
UNITS: dict[str, str] = {"closed_loop_rate": "%", "sla_attainment": "%", "recovery_rate": "%",
                         "time_to_acknowledge": " h", "time_to_close": " h"}
#: The weekly trend covers the current week and the ones before it.
TREND_WEEKS = 12
TREND_COLUMNS: tuple[str, ...] = ("period", "value", "ci_low", "ci_high", "n")


@dataclass(frozen=True)
class MetricPanel:
    metric: str
    label: str
    definition: str
    rows: tuple[dict[str, Any], ...]
    error: str = ""
    by: str = ""
    trend: tuple[dict[str, Any], ...] = ()  # one record per week with cases (period, value, interval, n)

    @property
    def unit(self) -> str:
        return UNITS.get(self.metric, "")

    @property
    def trend_chart(self) -> SafeString:
        """The weekly value as a line, its confidence interval as a band."""
        points = tuple(charts.Point(str(r["period"]), r.get("value"), r.get("ci_low"), r.get("ci_high"))
                       for r in self.trend)
        return charts.line_chart([charts.Series(self.label, points)], unit=self.unit, height=220,
                                 title=f"{self.label} by week, with its confidence interval")

    @property
    def groups_chart(self) -> SafeString:
        """One bar per group of the breakdown, the interval as a whisker (empty without a breakdown)."""
        if not self.by:
            return SafeString("")
        points = [charts.Point(str(r.get(self.by)), r.get("value"), r.get("ci_low"), r.get("ci_high"))
                  for r in self.rows]
        return charts.bar_chart(points, unit=self.unit, title=f"{self.label} by {self.by}", decimals=1)


@dataclass(frozen=True)
class LoopDashboard:
    open_cases: int
    overdue: int
    unassigned: int
    panels: tuple[MetricPanel, ...]
    missing: tuple[str, ...]  # loop metrics the engine does not offer (yet)
    since: str = ""  # the first day of the weekly trends


def trend_since(now: datetime, week_start: str = "monday") -> datetime:
    """The first day of the weekly trends: the start of the week ``TREND_WEEKS - 1`` weeks before now's."""
    first = period_start(now, Grain.WEEK, week_start) - timedelta(weeks=TREND_WEEKS - 1)
    return datetime(first.year, first.month, first.day, tzinfo=now.tzinfo)


def loop_dashboard(project: Project, now: datetime, *, by: str = "") -> LoopDashboard:
    open_qs = Case.objects.filter(project=project).exclude(status=Status.CLOSED)
    available = set(metric_names())
    panels, missing = [], []
    with POOL.use(project) as ws:
        since = trend_since(now, str(ws.settings.get("week_start", "monday")))
        for metric, label in LOOP_METRICS:
            if metric not in available:
                missing.append(metric)
                continue
            panels.append(_panel(ws, metric, label, now, by, since))
    return LoopDashboard(open_qs.count(), open_qs.filter(service.overdue_q(now)).count(),
                         open_qs.filter(owner__isnull=True).count(), tuple(panels), tuple(missing),
                         since.date().isoformat())


def _panel(ws: Any, metric: str, label: str, now: datetime, by: str, since: datetime) -> MetricPanel:
    try:
        result = ws.metric(metric, now=now, by=[by] if by else [])
        weekly = ws.metric(metric, now=now, grain="week", since=since.date().isoformat())
    except CxlensError as exc:
        return MetricPanel(metric, label, "", (), str(exc), by)
    trend = tuple({k: _for_display(r).get(k) for k in TREND_COLUMNS} for r in weekly.to_records()
                  if r.get("value") is not None)
    return MetricPanel(metric, label, result.definition, tuple(_for_display(r) for r in result.to_records()), "",
                       by, trend)


def _for_display(record: dict[str, Any]) -> dict[str, Any]:
    """A figure's record with its decimals cut to two for the page (the API keeps full precision)."""
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in record.items()}
