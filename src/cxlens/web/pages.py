"""What each dashboard shows, assembled from the same metric runners as the CLI and the API.

Views call these functions and render the typed results; they never compute a figure. Every
number comes from :meth:`Workspace.metric` (the metric engine) or from a warehouse query built
here with Ibis (the customer profile); nothing here does statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import ibis

from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.metrics import MetricResult
from cxlens.workspace import Workspace

PERIODS = (30, 90, 180, 365)
HEADLINE = ("nps", "csat", "ces")
SERVICE = ("first_response_time", "resolution_time", "fcr", "resolution_rate", "backlog")
#: Breakdowns searched for significant changes on the overview.
CHANGE_BREAKDOWNS = ("segment", "touchpoint")
EXPLORER_METRICS = (
    "nps", "csat", "ces", "responses", "churn", "retention", "first_response_time", "resolution_time",
    "resolution_time_business", "resolution_rate", "fcr", "reopen_rate", "backlog", "tickets",
)
LABELS = {
    "nps": "NPS", "csat": "CSAT", "ces": "CES (% easy)", "responses": "Responses", "churn": "Churn rate",
    "retention": "Retention rate", "first_response_time": "First response (h)",
    "resolution_time": "Resolution time (h)", "resolution_time_business": "Resolution, business hours (h)",
    "resolution_rate": "Resolution rate", "fcr": "First contact resolution", "reopen_rate": "Reopen rate",
    "backlog": "Open tickets", "tickets": "Tickets",
}
UNITS = {"nps": "", "csat": "%", "ces": "%", "churn": "%", "retention": "%", "resolution_rate": "%",
         "fcr": "%", "reopen_rate": "%", "first_response_time": " h", "resolution_time": " h",
         "resolution_time_business": " h"}
#: Metrics that count things (shown without decimals).
COUNTS = {"responses", "backlog", "tickets"}
#: Metrics where a fall is good news (the colour of a change on the dashboard).
LOWER_IS_BETTER = {"churn", "first_response_time", "resolution_time", "resolution_time_business",
                   "reopen_rate", "backlog"}


@dataclass(frozen=True)
class Window:
    """The dashboard's current period: ``days`` days ending on ``until`` (inclusive)."""

    days: int
    until: date
    now: datetime

    @property
    def since(self) -> date:
        return self.until - timedelta(days=self.days - 1)

    @property
    def trend_since(self) -> date:
        return (self.until - timedelta(days=365)).replace(day=1)

    @classmethod
    def parse(cls, days: str | None, until: str | None, now: datetime) -> Window:
        n = int(days) if days and days.isdigit() else 90
        if n not in PERIODS:
            raise CxlensInputError(
                f"The 'period' must be one of {', '.join(map(str, PERIODS))} days. Got {days!r} instead."
            )
        end = now.date()
        if until:
            try:
                end = date.fromisoformat(until)
            except ValueError:
                raise CxlensInputError(f"The 'until' date must look like 2026-01-31. Got {until!r} instead.") from None
        reference = max(now, datetime.combine(end, time.max, tzinfo=UTC)) if until else now
        return cls(n, end, reference)


@dataclass(frozen=True)
class Figure:
    """One headline number with its interval and its change against the previous period."""

    metric: str
    label: str
    unit: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    previous: float | None
    change: float | None
    p_value: float | None
    significant: bool
    good: bool | None
    warnings: str
    definition: str
    decimals: int = 1
    trend: tuple[tuple[date, float | None, float | None, float | None], ...] = ()


@dataclass(frozen=True)
class ChangeRow:
    metric: str
    label: str
    group: str
    value: float | None
    previous: float | None
    change: float | None
    p_value: float | None
    good: bool | None


@dataclass(frozen=True)
class Overview:
    window: Window
    headline: tuple[Figure, ...]
    volume: Figure
    churn: Figure | None
    service: tuple[Figure, ...]
    changes: tuple[ChangeRow, ...]
    errors: tuple[str, ...] = field(default_factory=tuple)


def _is_good(metric: str, change: float | None, significant: bool) -> bool | None:
    if change is None or not significant or change == 0:
        return None
    return (change < 0) if metric in LOWER_IS_BETTER else (change > 0)


def figure(ws: Workspace, metric: str, window: Window, *, trend: bool = False) -> Figure:
    result = ws.metric(metric, now=window.now, since=window.since, until=window.until, compare="previous")
    row = result.to_records()[0] if result.rows else {}
    series: tuple[Any, ...] = ()
    if trend:
        monthly = ws.metric(metric, now=window.now, since=window.trend_since, until=window.until, grain="month")
        series = tuple((r.period, r.value, r.ci_low, r.ci_high) for r in monthly.rows)
    change, significant = row.get("change"), bool(row.get("significant"))
    return Figure(
        metric, LABELS.get(metric, metric), UNITS.get(metric, ""), row.get("value"), row.get("ci_low"),
        row.get("ci_high"), int(row.get("n") or 0), row.get("previous_value"), change, row.get("p_value"),
        significant, _is_good(metric, change, significant), row.get("warnings", ""), result.definition,
        0 if metric in COUNTS else 1, series,
    )


def significant_changes(ws: Workspace, window: Window) -> tuple[ChangeRow, ...]:
    """Headline metrics per segment and touchpoint whose change since the previous period is significant."""
    found: list[ChangeRow] = []
    for metric in HEADLINE:
        for by in CHANGE_BREAKDOWNS:
            try:
                result = ws.metric(metric, now=window.now, since=window.since, until=window.until,
                                   compare="previous", by=by)
            except (CxlensInputError, UnknownNameError):
                continue  # the breakdown column does not exist in this workspace
            for rec in result.to_records():
                if rec.get("significant"):
                    found.append(ChangeRow(metric, LABELS[metric], f"{by} = {rec.get(by)}", rec.get("value"),
                                           rec.get("previous_value"), rec.get("change"), rec.get("p_value"),
                                           _is_good(metric, rec.get("change"), True)))
    return tuple(sorted(found, key=lambda r: r.p_value if r.p_value is not None else 1.0))


def overview(ws: Workspace, window: Window) -> Overview:
    headline = tuple(figure(ws, m, window, trend=True) for m in HEADLINE)
    volume = figure(ws, "responses", window, trend=True)
    churn = figure(ws, "churn", window, trend=False)
    service = tuple(figure(ws, m, window) for m in SERVICE)
    return Overview(window, headline, volume, churn, service, significant_changes(ws, window))


# ------------------------------------------------------------------------------------------ explorer


@dataclass(frozen=True)
class ExplorerQuery:
    metric: str
    by: tuple[str, ...]
    grain: str | None
    since: str | None
    until: str | None
    where: dict[str, list[str]]
    compare: str | None
    confidence: float

    @classmethod
    def from_params(cls, params: Any) -> ExplorerQuery:
        where: dict[str, list[str]] = {}
        for line in params.get("where", "").splitlines():
            if not line.strip():
                continue
            if "=" not in line:
                raise CxlensInputError(f"A filter must look like COLUMN=VALUE, one per line. Got {line!r} instead.")
            col, value = line.split("=", 1)
            where.setdefault(col.strip(), []).append(value.strip())
        confidence_text = params.get("confidence") or "0.95"
        try:
            confidence = float(confidence_text)
        except ValueError:
            raise CxlensInputError(
                f"The 'confidence' must be a number such as 0.95. Got {confidence_text!r} instead."
            ) from None
        return cls(
            metric=params.get("metric") or "nps",
            by=tuple(b for b in params.getlist("by") if b.strip()) if hasattr(params, "getlist") else (),
            grain=params.get("grain") or None,
            since=params.get("since") or None,
            until=params.get("until") or None,
            where=where,
            compare=params.get("compare") or None,
            confidence=confidence,
        )

    def run(self, ws: Workspace, now: datetime) -> MetricResult:
        return ws.metric(self.metric, now=now, by=self.by, grain=self.grain, since=self.since, until=self.until,
                         where=self.where, compare=self.compare, confidence=self.confidence)


def breakdown_columns(ws: Workspace) -> tuple[str, ...]:
    """Columns offered as breakdowns: those of customers, responses and tickets."""
    names: set[str] = set()
    for table in ("customers", "responses", "tickets", "subscriptions"):
        names.update(c for c in ws.table(table).columns if not c.startswith("_"))
    skip = {"customer_id", "response_id", "ticket_id", "subscription_id", "email", "name", "comment",
            "description", "subject", "submitted_at", "created_at", "first_response_at", "resolved_at",
            "started_at", "ended_at", "nps", "csat", "ces", "mrr"}
    return tuple(sorted(names - skip))


# ------------------------------------------------------------------------------------------ customer


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str
    title: str
    detail: str


@dataclass(frozen=True)
class CustomerProfile:
    customer_id: str
    attributes: tuple[tuple[str, Any], ...]
    counts: tuple[tuple[str, int], ...]
    revenue: float | None
    timeline: tuple[TimelineEvent, ...]
    clv: dict[str, Any] | None


def _visible(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def find_customers(ws: Workspace, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Customers whose id or e-mail equals ``query`` (case-insensitive), else contains it."""
    c = ws.table("customers")
    q = query.strip().lower()
    if not q:
        return []
    cols = [x for x in ("customer_id", "email", "name", "segment", "country") if x in c.columns]
    exact = c.customer_id.lower() == q
    contains = c.customer_id.lower().contains(q)
    if "email" in c.columns:
        exact = exact | (c.email.lower() == q)
        contains = contains | c.email.lower().contains(q)
    rows = c.filter(exact).select(cols).limit(limit).to_pyarrow().to_pylist()
    if rows:
        return rows
    return c.filter(contains).select(cols).order_by("customer_id").limit(limit).to_pyarrow().to_pylist()


_TIMELINE = {
    # table: (time column, kind, title columns, detail columns)
    "interactions": ("occurred_at", "Interaction", ("touchpoint",), ("channel", "stage")),
    "responses": ("submitted_at", "Survey answer", ("survey_id", "touchpoint"), ("nps", "csat", "ces", "comment")),
    "tickets": ("created_at", "Ticket", ("subject", "topic"), ("status", "channel", "resolved_at")),
    "orders": ("ordered_at", "Order", ("order_id",), ("amount", "currency", "status")),
    "subscriptions": ("started_at", "Subscription", ("plan",), ("mrr", "ended_at")),
}


def _event(table: str, row: dict[str, Any]) -> TimelineEvent:
    time_col, kind, title_cols, detail_cols = _TIMELINE[table]
    title = " · ".join(str(row[c]) for c in title_cols if row.get(c) not in (None, ""))
    detail = ", ".join(f"{c}: {row[c]}" for c in detail_cols if row.get(c) not in (None, ""))
    return TimelineEvent(row[time_col], kind, title or kind, detail)


def customer_profile(ws: Workspace, customer_id: str, *, limit: int = 300, clv: dict[str, Any] | None = None
                     ) -> CustomerProfile | None:
    c = ws.table("customers")
    found = c.filter(c.customer_id == customer_id).limit(1).to_pyarrow().to_pylist()
    if not found:
        return None
    events: list[TimelineEvent] = []
    counts: list[tuple[str, int]] = []
    for table, (time_col, *_rest) in _TIMELINE.items():
        t = ws.table(table)
        mine = t.filter(t.customer_id == customer_id)
        counts.append((table, int(mine.count().execute())))
        rows = mine.order_by(ibis.desc(time_col)).limit(limit).to_pyarrow().to_pylist()
        events.extend(_event(table, r) for r in rows if r.get(time_col) is not None)
    o = ws.table("orders")
    revenue = o.filter(o.customer_id == customer_id).amount.sum().execute()
    events.sort(key=lambda e: e.at, reverse=True)
    known = revenue is not None and revenue == revenue  # the sum over no orders is NULL (NaN in pandas)
    return CustomerProfile(customer_id, tuple(_visible(found[0]).items()), tuple(counts),
                           float(revenue) if known else None, tuple(events[:limit]), clv)


def customer_clv(ws: Workspace, customer_id: str, horizon: str = "52w") -> dict[str, Any] | None:
    """The customer's row of the saved CLV model's predictions, or None when no model is fitted."""
    if not (ws.path / "models" / "clv.json").is_file():
        return None
    prediction = ws.clv_predict(horizon=horizon)
    table = prediction.to_pandas()
    mine = table[table["customer_id"] == customer_id]
    if mine.empty:
        return {"horizon": f"{prediction.horizon:g} {prediction.unit}s", "fitted": False}
    out = {k: (None if v != v else v) for k, v in mine.iloc[0].to_dict().items()}
    out["horizon"] = f"{prediction.horizon:g} {prediction.unit}s"
    out["fitted"] = True
    return out
