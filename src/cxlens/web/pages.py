"""What each dashboard shows, assembled from the same metric runners as the CLI and the API.

Views call these functions and render the typed results; they never compute a figure. Every
number comes from :meth:`Workspace.metric` (the metric engine) or from a warehouse query built
here with Ibis (the customer profile); nothing here does statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import ibis
import pandas as pd

from cxlens.errors import CxlensError, CxlensInputError, UnknownNameError
from cxlens.journey import FunnelResult, JourneyMap, PainPointResult, list_journeys, load_journey
from cxlens.journey.definition import DEFAULT_NAME as DEFAULT_JOURNEY
from cxlens.metrics import MetricQuery, MetricResult, run_metric
from cxlens.metrics.drill import MAX_LIMIT, DrillResult, group_text
from cxlens.metrics.registry import SPECIAL
from cxlens.schema import TABLES, table_spec
from cxlens.signals.emerging import EmergingResult
from cxlens.text.annotate import ANNOTATIONS_TABLE
from cxlens.text.annotate import MODEL_VERSION as ANNOTATIONS_VERSION
from cxlens.text.annotate import SOURCES as ANNOTATION_SOURCES
from cxlens.text.pii import redact_many
from cxlens.text.theme_impact import ThemeSummary
from cxlens.text.theme_model import OTHER_ID, OTHER_LABEL, has_model, load_model
from cxlens.text.theme_store import SOURCES as THEME_SOURCES
from cxlens.text.theme_store import TABLE as THEMES_TABLE
from cxlens.text.theme_store import text_expr as theme_text_expr
from cxlens.text.themes import theme_summary
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


class Metrics:
    """``Workspace.metric`` with the warehouse tables looked up once for many metrics: the same
    runner on the same tables, so the same figures, without re-reading eight table schemas per call."""

    def __init__(self, ws: Workspace) -> None:
        self.tables = {name: ws.table(name) for name in TABLES}
        self.settings = ws.settings

    def metric(self, metric: str, *, now: datetime, **options: Any) -> MetricResult:
        return run_metric(self.tables, self.settings, MetricQuery.build(metric, now=now, **options))


def figure(ws: Workspace | Metrics, metric: str, window: Window, *, trend: bool = False) -> Figure:
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


def significant_changes(ws: Workspace | Metrics, window: Window) -> tuple[ChangeRow, ...]:
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
    metrics = Metrics(ws)
    headline = tuple(figure(metrics, m, window, trend=True) for m in HEADLINE)
    volume = figure(metrics, "responses", window, trend=True)
    churn = figure(metrics, "churn", window, trend=False)
    service = tuple(figure(metrics, m, window) for m in SERVICE)
    return Overview(window, headline, volume, churn, service, significant_changes(metrics, window))


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


# ------------------------------------------------------------------------------------------ journeys

#: Conversion windows offered for a journey's funnel (from the first stage).
FUNNEL_WINDOWS = ("14d", "30d", "90d", "180d", "365d")
DEFAULT_FUNNEL_WINDOW = "90d"


@dataclass(frozen=True)
class JourneysPage:
    """The journey map, the funnel of the journey's stages and the pain points of one journey."""

    saved: tuple[str, ...]  # journeys defined in DIR/journeys/*.toml
    journey: str  # the one shown ('default' is the built-in template)
    window: str
    stages: tuple[str, ...]
    map: JourneyMap
    funnel: FunnelResult
    pains: PainPointResult

    @property
    def defined(self) -> bool:
        return bool(self.saved)


def journey_steps(ws: Workspace, journey: str | None) -> tuple[str, ...]:
    """The funnel steps of a journey: its stages in order (``stage:NAME``)."""
    return tuple(f"stage:{s.name}" for s in load_journey(ws.path, journey).stages)


def journeys_page(ws: Workspace, journey: str | None, window: str | None, now: datetime, *,
                  since: str | None = None, until: str | None = None) -> JourneysPage:
    saved = list_journeys(ws.path)
    name = journey or (saved[0] if saved else DEFAULT_JOURNEY)
    chosen = window or DEFAULT_FUNNEL_WINDOW
    steps = journey_steps(ws, name)
    funnel = ws.funnel(",".join(steps), journey=name, window=chosen, since=since, until=until, now=now)
    jmap = ws.journey_map(journey=name, since=since, until=until, now=now)
    pains = ws.pain_points(journey=name, since=since, until=until, now=now)
    return JourneysPage(saved, name, chosen, tuple(s.removeprefix("stage:") for s in steps), jmap, funnel, pains)


# ------------------------------------------------------------------------------------------ text

#: Sentiment labels shown on the text page, in order.
SENTIMENT_LABELS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class SentimentMonth:
    period: date
    texts: int
    mean: float | None
    positive: int
    negative: int


@dataclass(frozen=True)
class SentimentOverview:
    """Sentiment of the annotated texts: how many per label, and the mean score by month."""

    counts: tuple[tuple[str, int], ...]
    total: int
    months: tuple[SentimentMonth, ...]

    def share(self, label: str) -> float | None:
        n = dict(self.counts).get(label, 0)
        return n / self.total if self.total else None


@dataclass(frozen=True)
class TextPage:
    summary: ThemeSummary | None  # None: no theme model fitted
    sentiment: SentimentOverview | None  # None: no texts annotated
    emerging: EmergingResult | None
    notes: tuple[str, ...] = ()


def text_page(ws: Workspace, now: datetime, *, months: int = 12) -> TextPage:
    summary = theme_summary(ws, now=now, grain="month", periods=6, examples=3) if has_model(ws.path) else None
    notes: list[str] = []
    emerging = None
    if summary is not None:
        try:
            found = ws.signals(kind="emerging", now=now)
        except CxlensError as exc:  # e.g. assignments of an older model: the themes still show
            notes.append(f"Emerging themes were not checked: {exc}")
        else:
            emerging = found.emerging
            notes.extend(found.warnings)
    return TextPage(summary, sentiment_overview(ws, now, months=months), emerging, tuple(notes))


def _has_table(ws: Workspace, name: str) -> bool:
    return name in ws.warehouse.backend.list_tables()


def sentiment_overview(ws: Workspace, now: datetime, *, months: int = 12) -> SentimentOverview | None:
    """Texts per sentiment label (current annotator version) and the monthly mean score of the last
    ``months`` months (by the time of the response or ticket), or None before ``cxlens text analyze``."""
    if not _has_table(ws, ANNOTATIONS_TABLE):
        return None
    a = ws.warehouse.backend.table(ANNOTATIONS_TABLE)
    a = a.filter(a.model_version == ANNOTATIONS_VERSION)
    counts = {r["sentiment_label"]: int(r["n"])
              for r in a.group_by("sentiment_label").aggregate(n=a.count()).to_pyarrow().to_pylist()}
    if not counts:
        return None
    analysed = a.filter(a.sentiment_score.notnull())
    start = (pd.Timestamp(now.date().replace(day=1)) - pd.DateOffset(months=months - 1)).to_pydatetime()
    parts = []
    for source, spec in ANNOTATION_SOURCES.items():
        t = ws.table(source)
        s = t.select(sid=t[spec.key].cast("string"), ts=t[spec.time_column])
        mine = analysed.filter(analysed.source_table == source)
        parts.append(mine.inner_join(s, mine.source_id == s.sid).select("sentiment_score", "sentiment_label", "ts"))
    timed = ibis.union(*parts)
    timed = timed.filter(timed.ts >= start).mutate(period=timed.ts.truncate("M").cast("date"))
    rows = (timed.group_by("period")
            .aggregate(texts=timed.count(), mean=timed.sentiment_score.mean(),
                       positive=(timed.sentiment_label == "positive").cast("int64").sum(),
                       negative=(timed.sentiment_label == "negative").cast("int64").sum())
            .order_by("period").to_pyarrow().to_pylist())
    ordered = tuple((label, counts.get(label, 0)) for label in (*SENTIMENT_LABELS, *sorted(set(counts)
                                                                                           - set(SENTIMENT_LABELS))))
    months_out = tuple(SentimentMonth(r["period"], int(r["texts"]), None if r["mean"] is None else float(r["mean"]),
                                      int(r["positive"] or 0), int(r["negative"] or 0)) for r in rows)
    return SentimentOverview(ordered, sum(counts.values()), months_out)


@dataclass(frozen=True)
class Verbatim:
    source_table: str
    source_id: str
    at: datetime | None
    customer_id: str | None
    text: str
    similarity: float | None


@dataclass(frozen=True)
class ThemeVerbatims:
    theme_id: str
    label: str
    keywords: tuple[str, ...]
    total: int
    offset: int
    limit: int
    verbatims: tuple[Verbatim, ...]

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.verbatims) < self.total


def theme_verbatims(ws: Workspace, theme_id: str, *, offset: int = 0, limit: int = 25) -> ThemeVerbatims:
    """The texts assigned to a theme, newest first: the redacted text of ``text_annotations`` where it
    exists, else the source text with PII redacted here."""
    if not has_model(ws.path):
        raise CxlensInputError("No theme model is fitted yet. Run 'cxlens text themes' first.")
    model = load_model(ws.path)
    labels = {t.id: (t.display_label, t.keywords) for t in model.themes} | {OTHER_ID: (OTHER_LABEL, ())}
    if offset < 0 or not 1 <= limit <= 500:
        raise CxlensInputError(f"Paging needs offset >= 0 and 1 <= limit <= 500. Got offset {offset}, limit {limit}.")
    a = ws.warehouse.backend.table(THEMES_TABLE) if _has_table(ws, THEMES_TABLE) else None
    if a is not None:
        a = a.filter(a.theme_id == theme_id)
        if theme_id not in labels:  # a theme the assignments name beyond the model's (e.g. a language's)
            found = a.select("theme_label").limit(1).to_pyarrow().to_pylist()
            labels.update({theme_id: (found[0]["theme_label"] or theme_id, ())} if found else {})
    if theme_id not in labels:
        raise UnknownNameError(f"Unknown theme '{theme_id}'. The themes are: {', '.join(labels)}.")
    if a is None:
        return ThemeVerbatims(theme_id, *labels[theme_id], 0, offset, limit, ())
    parts = []
    for source, (key, _cols) in THEME_SOURCES.items():
        t = ws.table(source)
        texts = theme_text_expr(t, source)
        meta = t.select(mid=t[key].cast("string"), at=t[table_spec(source).time_column], customer_id=t.customer_id)
        mine = a.filter(a.source_table == source)
        j = mine.inner_join(texts, mine.source_id == texts.source_id)
        j = j.select(source_table=mine.source_table, source_id=mine.source_id, similarity=mine.similarity,
                     text=texts.text)
        j = j.inner_join(meta, j.source_id == meta.mid).drop("mid")
        parts.append(j)
    rows = ibis.union(*parts)
    if _has_table(ws, ANNOTATIONS_TABLE):
        ann = ws.warehouse.backend.table(ANNOTATIONS_TABLE)
        ann = ann.filter(ann.model_version == ANNOTATIONS_VERSION).select(
            at_table="source_table", at_id="source_id", redacted="redacted_text")
        rows = rows.left_join(ann, (rows.source_table == ann.at_table) & (rows.source_id == ann.at_id))
        rows = rows.drop("at_table", "at_id")
    else:
        rows = rows.mutate(redacted=ibis.null("string"))
    total = int(rows.count().execute())
    page = (rows.order_by([ibis.desc("at"), "source_table", "source_id"]).limit(limit, offset=offset)
            .to_pyarrow().to_pylist())
    fallback = redact_many([r["text"] for r in page])
    verbatims = tuple(Verbatim(r["source_table"], r["source_id"], r["at"], r["customer_id"],
                               r["redacted"] if r["redacted"] else red.text, r["similarity"])
                      for r, red in zip(page, fallback, strict=True))
    return ThemeVerbatims(theme_id, *labels[theme_id], total, offset, limit, verbatims)


# ------------------------------------------------------------------------------------------ drill-down


#: Columns shown on the drill-down page after the id, time, customer and score when the table has them.
DRILL_EXTRA_COLUMNS = ("touchpoint", "survey_id", "channel", "segment", "comment", "subject", "status", "topic")

#: Metrics whose figures count rows, so a figure links to the rows behind it.
DRILLABLE = tuple(m for m in EXPLORER_METRICS if m not in SPECIAL)


def drill_link(slug: str, metric: str, *, by: tuple[str, ...] = (), values: tuple[Any, ...] = (),
               grain: str | None = None, period: Any = None, since: Any = None, until: Any = None,
               where: dict[str, list[str]] | None = None) -> str | None:
    """The URL of the responses page listing the rows behind one figure (None when the metric does
    not count rows)."""
    if metric not in DRILLABLE:
        return None
    params: list[tuple[str, str]] = [("metric", metric)]
    params += [("by", b) for b in by]
    params += [("value", group_text(v)) for v in values]
    for name, value in (("grain", grain), ("period", period), ("since", since), ("until", until)):
        if value not in (None, ""):
            params.append((name, value.isoformat() if isinstance(value, date) else str(value)))
    lines = [f"{c}={v}" for c, vs in (where or {}).items() for v in vs]
    if lines:
        params.append(("where", "\n".join(lines)))
    return f"/p/{slug}/responses/?{urlencode(params)}"


@dataclass(frozen=True)
class DrillRequest:
    """The figure a drill-down asks about, parsed from query parameters."""

    metric: str
    by: tuple[str, ...]
    values: tuple[str, ...]
    grain: str | None
    period: str | None
    since: str | None
    until: str | None
    where: dict[str, list[str]]
    offset: int
    limit: int

    @classmethod
    def from_params(cls, params: Any, *, limit: int = 50) -> DrillRequest:
        metric = params.get("metric") or ""
        if not metric:
            raise CxlensInputError("The 'metric' parameter is missing. Give the metric of the figure, e.g. "
                                   "metric=nps.")
        by = tuple(b for b in params.getlist("by") if b.strip())
        values = tuple(params.getlist("value"))
        if len(values) != len(by):
            raise CxlensInputError(f"Give one 'value' per 'by' column: got {len(by)} breakdowns and {len(values)} "
                                   f"values.")
        query = ExplorerQuery.from_params(params)
        offset_text = params.get("offset") or "0"
        if not offset_text.isdigit():
            raise CxlensInputError(f"The 'offset' must be a whole number of rows. Got {offset_text!r} instead.")
        return cls(metric, by, values, params.get("grain") or None, params.get("period") or None,
                   params.get("since") or None, params.get("until") or None, query.where, int(offset_text), limit)

    def run(self, ws: Workspace, now: datetime, *, offset: int | None = None, limit: int | None = None) -> DrillResult:
        return ws.responses_behind(self.metric, group=dict(zip(self.by, self.values, strict=True)),
                                   period=self.period, offset=self.offset if offset is None else offset,
                                   limit=limit or self.limit, now=now, by=self.by, grain=self.grain,
                                   since=self.since, until=self.until, where=self.where)

    def all_rows(self, ws: Workspace, now: datetime, *, page: int = MAX_LIMIT) -> list[dict[str, Any]]:
        """Every row behind the figure (for a CSV export), fetched page by page."""
        first = self.run(ws, now, offset=0, limit=page)
        rows = list(first.rows)
        while len(rows) < first.total:
            rows.extend(self.run(ws, now, offset=len(rows), limit=page).rows)
        return rows
