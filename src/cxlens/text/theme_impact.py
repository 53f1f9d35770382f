"""Per-theme figures: count, share, trend, example verbatims and the impact on NPS and CSAT.

Counts are pushed down to the warehouse (one Ibis ``group_by().aggregate()`` each); only the
per-theme aggregates come back to Python, where the intervals are computed.

**Impact.** The population is the survey responses that have a theme assignment (a non-empty
comment). For theme T, "with" is the responses assigned to T and "without" every other response
of the population (texts have one theme each, so the groups are disjoint).

- NPS: ``NPS_with - NPS_without`` in points with the adjusted-Wald interval of
  :func:`cxlens.stats.intervals.nps_difference` (Lewis & Sauro 2021).
- CSAT: the top-box share (answers >= the ``csat_top_box`` setting) ``with - without`` in
  percentage points, with Newcombe's hybrid score interval (method 10) of
  :func:`cxlens.stats.intervals.newcombe_difference`.

**Sub-themes** have their count, share of the parent theme's texts, label and examples (the
texts nearest the sub-theme's centroid). **Language themes** (``lang-de``: texts in a language
themes are not discovered in) are listed with ``kind="language"`` before ``other``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import ibis
import pandas as pd

from cxlens.metrics.period import Grain, period_start, truncate
from cxlens.schema import table_spec
from cxlens.stats.intervals import Difference, newcombe_difference, nps_difference
from cxlens.text import theme_languages as langs
from cxlens.text import theme_store
from cxlens.text.pii import redact_many
from cxlens.text.theme_model import OTHER_ID, OTHER_LABEL, ThemeModel


@dataclass(frozen=True)
class Impact:
    """A difference ``with - without`` and its interval (``None`` when a group is empty)."""

    n_with: int
    n_without: int
    value_with: float | None
    value_without: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool
    method: str

    def short(self) -> str:
        if self.difference is None or self.ci_low is None or self.ci_high is None:
            return ""
        return f"{self.difference:+.1f} [{self.ci_low:+.1f}, {self.ci_high:+.1f}]"


@dataclass(frozen=True)
class TrendPoint:
    period: str
    count: int
    share: float | None


@dataclass(frozen=True)
class SubThemeFigures:
    """A sub-theme: its texts' count and share of the parent theme's texts, label and examples."""

    sub_theme_id: str
    parent_id: str
    label: str
    keywords: tuple[str, ...]
    count: int
    share_of_parent: float | None
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "keywords": list(self.keywords), "examples": list(self.examples)}

    def to_row(self) -> dict[str, Any]:
        """A flat row for tables: the share of the parent as a percentage."""
        share = None if self.share_of_parent is None else f"{100 * self.share_of_parent:.1f}%"
        return {"id": self.sub_theme_id, "parent": self.parent_id, "count": self.count, "share_of_parent": share,
                "label": self.label, "example": self.examples[0] if self.examples else ""}


@dataclass(frozen=True)
class ThemeFigures:
    """A theme's figures. ``kind`` is "theme", "language" (``lang-de``: not clustered) or "other"."""

    theme_id: str
    label: str
    keywords: tuple[str, ...]
    count: int
    share: float | None
    trend: tuple[TrendPoint, ...]
    nps: Impact
    csat: Impact
    examples: tuple[str, ...]
    sub_themes: tuple[SubThemeFigures, ...] = ()
    kind: str = "theme"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "keywords": list(self.keywords), "trend": [asdict(p) for p in self.trend],
                "examples": list(self.examples), "sub_themes": [s.to_dict() for s in self.sub_themes]}

    def to_row(self) -> dict[str, Any]:
        """A flat row for tables: shares as percentages, impacts as 'diff [low, high]'."""
        trend = " ".join(f"{100 * p.share:.1f}%" if p.share is not None else "-" for p in self.trend)
        return {"id": self.theme_id, "label": self.label, "count": self.count,
                "share": None if self.share is None else f"{100 * self.share:.1f}%", "trend": trend,
                "nps_impact": self.nps.short(), "csat_top_box_impact": self.csat.short(),
                "example": self.examples[0] if self.examples else ""}


@dataclass(frozen=True)
class ThemeSummary:
    model_version: str
    fitted_at: str | None
    grain: str
    periods: tuple[str, ...]
    total: int
    themes: tuple[ThemeFigures, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"model_version": self.model_version, "fitted_at": self.fitted_at, "grain": self.grain,
                "periods": list(self.periods), "total": self.total, "themes": [t.to_dict() for t in self.themes]}

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame([t.to_row() for t in self.themes])

    def notes(self) -> list[str]:
        """A note counting the texts set apart by language (empty when there are none)."""
        counts = {t.theme_id: t.count for t in self.themes if t.kind == "language" and t.count}
        if not counts:
            return []
        parts = ", ".join(f"{n} in {langs.language_name(i)} ({i})" for i, n in counts.items())
        return [f"{sum(counts.values())} texts are in languages themes are not discovered in and have a theme per "
                f"language: {parts}"]

    def sub_theme_rows(self) -> list[dict[str, Any]]:
        """One flat row per sub-theme (id, parent, count, share of the parent, label, example)."""
        return [s.to_row() for t in self.themes for s in t.sub_themes]


def summarise(ws: Any, model: ThemeModel, *, grain: str, periods: int, examples: int, confidence: float,
              now: datetime) -> ThemeSummary:
    parsed = Grain.parse(grain)
    assert parsed is not None
    wh = ws.warehouse
    a = theme_store.assignments(wh)
    counts = _counts(a)
    total = sum(counts.values())
    scores = _score_counts(a, wh.table("responses"), int(ws.settings["csat_top_box"]))
    starts = _period_starts(now, parsed, periods, str(ws.settings.get("week_start", "monday")))
    trend = _trend(wh, a, parsed, starts, str(ws.settings.get("week_start", "monday")))
    samples = _examples(wh, a, examples)
    languages = sorted((i for i in counts if langs.is_language_theme(i)), key=langs.sort_key)
    ids = [t.id for t in model.themes] + languages + [OTHER_ID]
    labels = ({t.id: t.display_label for t in model.themes} | {i: langs.label(i) for i in languages}
              | {OTHER_ID: OTHER_LABEL})
    keywords = {t.id: t.keywords for t in model.themes}
    subs = _sub_figures(wh, a, model, examples)
    kinds = {i: "language" for i in languages} | {OTHER_ID: "other"}
    figures = tuple(
        ThemeFigures(i, labels[i], keywords.get(i, ()), counts.get(i, 0),
                     counts.get(i, 0) / total if total else None, _theme_trend(trend, i, starts),
                     *_impacts(scores, i, confidence), samples.get(i, ()), subs.get(i, ()), kinds.get(i, "theme"))
        for i in ids
    )
    return ThemeSummary(model.version, model.fitted_at, parsed.value, tuple(str(s) for s in starts), total, figures)


def _sub_figures(wh: Any, a: ibis.Table, model: ThemeModel, examples: int) -> dict[str, tuple[SubThemeFigures, ...]]:
    """Per theme id, its sub-themes' figures (count and share among the theme's texts of this model)."""
    if not any(t.children for t in model.themes):
        return {}
    mine = a.filter(a.sub_theme_id.notnull())
    df = mine.group_by(["theme_id", "sub_theme_id"]).aggregate(n=mine.count()).to_pandas()
    n_sub = {(str(r.theme_id), str(r.sub_theme_id)): int(r.n) for r in df.itertuples(index=False)}
    per_parent: dict[str, int] = {}
    for (parent, _), n in n_sub.items():
        per_parent[parent] = per_parent.get(parent, 0) + n
    samples = _examples(wh, mine, examples, key="sub_theme_id", order="sub_similarity")
    out: dict[str, tuple[SubThemeFigures, ...]] = {}
    for t in model.themes:
        if not t.children:
            continue
        whole = per_parent.get(t.id, 0)
        out[t.id] = tuple(
            SubThemeFigures(c.id, t.id, c.display_label, c.keywords, n_sub.get((t.id, c.id), 0),
                            n_sub.get((t.id, c.id), 0) / whole if whole else None, samples.get(c.id, ()))
            for c in t.children)
    return out


def _counts(a: ibis.Table) -> dict[str, int]:
    df = a.group_by("theme_id").aggregate(n=a.count()).to_pandas()
    return {str(r.theme_id): int(r.n) for r in df.itertuples(index=False)}


def _score_counts(a: ibis.Table, r: ibis.Table, top_box: int) -> pd.DataFrame:
    a = a.filter(a.source_table == "responses")
    j = a.inner_join(r, a.source_id == r.response_id.cast("string"))
    df = j.group_by("theme_id").aggregate(
        nps_n=j.nps.count(), promoters=(j.nps >= 9).cast("int64").sum(), detractors=(j.nps <= 6).cast("int64").sum(),
        csat_n=j.csat.count(), csat_top=(j.csat >= top_box).cast("int64").sum(),
    ).to_pandas().set_index("theme_id")
    return df.astype("float64").fillna(0.0)  # a sum over no answers is NULL (an object column when all are)


def _impacts(scores: pd.DataFrame, theme_id: str, confidence: float) -> tuple[Impact, Impact]:
    total = scores.sum()
    mine = scores.loc[theme_id] if theme_id in scores.index else total * 0
    rest = total - mine
    n_with, n_rest = int(mine.nps_n), int(rest.nps_n)
    with_ = (int(mine.promoters), n_with - int(mine.promoters) - int(mine.detractors), int(mine.detractors))
    without = (int(rest.promoters), n_rest - int(rest.promoters) - int(rest.detractors), int(rest.detractors))
    nps = _impact(nps_difference(without, with_, confidence), n_with, n_rest,
                  _nps(with_), _nps(without), scale=1.0)
    c_with, c_rest = int(mine.csat_n), int(rest.csat_n)
    csat_diff = newcombe_difference(int(mine.csat_top), c_with, int(rest.csat_top), c_rest, confidence)
    csat = _impact(csat_diff, c_with, c_rest, _share(int(mine.csat_top), c_with),
                   _share(int(rest.csat_top), c_rest), scale=100.0)
    return nps, csat


def _nps(counts: tuple[int, int, int]) -> float | None:
    n = sum(counts)
    return 100.0 * (counts[0] - counts[2]) / n if n else None


def _share(x: int, n: int) -> float | None:
    return 100.0 * x / n if n else None


def _impact(d: Difference, n_with: int, n_without: int, v_with: float | None, v_without: float | None,
            scale: float) -> Impact:
    def s(v: float | None) -> float | None:
        return None if v is None else v * scale
    return Impact(n_with, n_without, v_with, v_without, s(d.estimate), s(d.ci_low), s(d.ci_high), d.significant,
                  d.method)


def _period_starts(now: datetime, grain: Grain, periods: int, week_start: str) -> list[Any]:
    starts = [period_start(now, grain, week_start)]
    for _ in range(periods - 1):
        prev = (pd.Timestamp(starts[0]) - grain.offset).to_pydatetime()
        starts.insert(0, period_start(prev, grain, week_start))
    return starts


def _timed(wh: Any, a: ibis.Table) -> ibis.Table:
    """Assignments with the time of their source row (submitted_at or created_at)."""
    parts = []
    for source, (key, _) in theme_store.SOURCES.items():
        t = wh.table(source)
        spec = table_spec(source)
        s = t.select(sid=t[key].cast("string"), ts=t[spec.time_column])
        mine = a.filter(a.source_table == source)
        parts.append(mine.inner_join(s, mine.source_id == s.sid).select("theme_id", "ts"))
    return ibis.union(*parts)


def _trend(wh: Any, a: ibis.Table, grain: Grain, starts: list[Any], week_start: str) -> pd.DataFrame:
    t = _timed(wh, a)
    t = t.mutate(period=truncate(t.ts, grain, week_start))
    t = t.filter(t.period >= starts[0])
    return t.group_by(["theme_id", "period"]).aggregate(n=t.count()).to_pandas()


def _theme_trend(trend: pd.DataFrame, theme_id: str, starts: list[Any]) -> tuple[TrendPoint, ...]:
    period_key = pd.to_datetime(trend["period"]).dt.date if len(trend) else trend.get("period")
    out = []
    for start in starts:
        in_period = trend[period_key == start] if len(trend) else trend
        total = int(in_period["n"].sum()) if len(in_period) else 0
        mine = int(in_period.loc[in_period["theme_id"] == theme_id, "n"].sum()) if len(in_period) else 0
        out.append(TrendPoint(str(start), mine, mine / total if total else None))
    return tuple(out)


def _examples(wh: Any, a: ibis.Table, per_theme: int, *, key: str = "theme_id",
              order: str = "similarity") -> dict[str, tuple[str, ...]]:
    """The ``per_theme`` texts of each ``key`` value with the highest ``order`` (ties by id), PII-redacted."""
    if per_theme <= 0:
        return {}
    texts = ibis.union(*[theme_store.text_expr(wh.table(s), s).mutate(src=ibis.literal(s))
                         for s in theme_store.SOURCES])
    j = a.inner_join(texts, (a.source_id == texts.source_id) & (a.source_table == texts.src))
    j = j.select(group=j[key], score=j[order], text=j.text, sid=a.source_id)
    ranked = j.mutate(rank=ibis.row_number().over(group_by=j.group,
                                                  order_by=[ibis.desc(j.score, nulls_first=False), j.sid]))
    df = ranked.filter(ranked["rank"] < per_theme).order_by(["group", "rank"]).to_pandas()
    redacted = [r.text for r in redact_many(df["text"].tolist())]
    out: dict[str, list[str]] = {}
    for theme_id, text in zip(df["group"].tolist(), redacted):
        out.setdefault(str(theme_id), []).append(text if len(text) <= 300 else text[:297] + "...")
    return {k: tuple(v) for k, v in out.items()}
