"""The data-driven journey map: stages × (touchpoints, channels, volume, conversion, time in stage,
scores, sentiment, pain points) for one journey (and its segment) over a period.

Per stage, customers are followed from their first interaction in the stage within the period:

- **conversion** to the next stage: the share with an interaction in the next stage after that
  first one — within the stage's ``window`` when it has one (only customers whose window has
  elapsed by ``now`` count), else at any time before ``now``;
- **time in stage**: the median time from entering the stage to the first interaction in the
  next stage, over the customers who converted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from cxlens.journey.common import Scope, exact_medians, restrict_segment, rows, seconds, stage_index
from cxlens.journey.experience import (
    PainPoint,
    PainPointResult,
    StageEmotion,
    TouchpointExperience,
    emotion_curve,
    pain_points,
)
from cxlens.journey.registry import Registry
from cxlens.stats.intervals import Proportion, wilson_interval


@dataclass(frozen=True)
class TouchpointCell:
    touchpoint: str
    channel: str | None
    direct: bool | None
    customers: int


@dataclass(frozen=True)
class StageTheme:
    """A theme of the comments left at a stage's touchpoints: how many, and their share."""

    theme_id: str
    label: str
    comments: int
    share: float  # of the stage's themed comments

    def to_dict(self) -> dict[str, Any]:
        return {"theme_id": self.theme_id, "label": self.label, "comments": self.comments, "share": self.share}


@dataclass(frozen=True)
class StageMap:
    stage: str
    touchpoints: tuple[TouchpointCell, ...]
    channels: tuple[str, ...]
    customers: int
    events: int
    conversion: Proportion | None  # None for the last stage
    median_days_in_stage: float | None
    emotion: StageEmotion
    pain_points: tuple[PainPoint, ...]
    delights: tuple[TouchpointExperience, ...]
    themes: tuple[StageTheme, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        conv = self.conversion
        return {
            "stage": self.stage,
            "touchpoints": [t.__dict__ for t in self.touchpoints], "channels": list(self.channels),
            "customers": self.customers, "events": self.events,
            "conversion": None if conv is None else {"eligible": conv.n, "converted": conv.successes,
                                                     "value": conv.value, "ci_low": conv.ci_low,
                                                     "ci_high": conv.ci_high},
            "median_days_in_stage": self.median_days_in_stage, "emotion": self.emotion.to_dict(),
            "pain_points": [p.to_dict() for p in self.pain_points],
            "delights": [d.to_dict() for d in self.delights],
            "themes": [t.to_dict() for t in self.themes],
        }


@dataclass(frozen=True)
class JourneyMap:
    journey: str
    version: int
    description: str
    segment: dict[str, Any] | None
    scope: Scope
    stages: tuple[StageMap, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"journey": self.journey, "version": self.version, "description": self.description,
                "segment": self.segment, "scope": self.scope.to_dict(),
                "stages": [s.to_dict() for s in self.stages]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "stage": s.stage, "customers": s.customers, "events": s.events,
            "conversion": s.conversion.value if s.conversion else None,
            "median_days_in_stage": s.median_days_in_stage, "sentiment": s.emotion.sentiment,
            "target": s.emotion.target, "gap": s.emotion.gap, "nps": s.emotion.nps,
            "csat_top_box": s.emotion.csat_top_box, "ces_easy": s.emotion.ces_easy,
            "pain_points": ", ".join(p.experience.touchpoint for p in s.pain_points),
            "themes": ", ".join(t.label for t in s.themes),
        } for s in self.stages])

    def to_html(self) -> str:
        from cxlens.journey.render import render_map

        return render_map(self)

    def write(self, out: str | Path) -> Path:
        """Write ``.html`` (a self-contained page) or ``.json`` by the file's extension."""
        target = check_output(out)
        text = self.to_json() if target.suffix.lower() == ".json" else self.to_html()
        tmp = target.with_name(target.name + ".partial")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        return target


def check_output(out: str | Path) -> Path:
    """The map's output path, if its extension names a format (.html, .htm or .json)."""
    from cxlens.errors import CxlensInputError

    target = Path(out)
    if target.suffix.lower() not in (".html", ".htm", ".json"):
        raise CxlensInputError(f"Cannot tell the format of {target.name}: name it .html or .json.")
    return target


def journey_map(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope, *,
                settings: Mapping[str, Any] | None = None, confidence: float = 0.95,
                painpoints: PainPointResult | None = None, **thresholds: Any) -> JourneyMap:
    """Build the map of ``registry.journey`` over ``scope``."""
    pp = painpoints or pain_points(tables, registry, scope, settings=settings, confidence=confidence, **thresholds)
    flows = _stage_flows(tables, registry, scope)
    curve = {e.stage: e for e in emotion_curve(pp.touchpoints, registry)}
    themes = _stage_themes(tables, registry, scope)
    stages = []
    last = len(registry.journey.stages) - 1
    for i, stage in enumerate(registry.journey.stages):
        f = flows["counts"].get(i, {})
        exps = [e for e in pp.touchpoints if e.stage == stage.name and e.customers > 0]
        cells = tuple(TouchpointCell(e.touchpoint, e.channel, _direct(registry, e.touchpoint), e.customers)
                      for e in sorted(exps, key=lambda e: (-e.customers, e.touchpoint)))
        conversion = None if i == last else wilson_interval(int(f.get("converted") or 0),
                                                            int(f.get("eligible") or 0), confidence)
        median = flows["medians"].get((i,))
        stages.append(StageMap(
            stage.name, cells, tuple(sorted({c.channel for c in cells if c.channel})),
            int(f.get("customers") or 0), int(f.get("events") or 0), conversion,
            None if median is None else median / 86400.0, curve[stage.name],
            tuple(p for p in pp.pain_points if p.experience.stage == stage.name),
            tuple(d for d in pp.delights if d.stage == stage.name),
            themes.get(i, ()),
        ))
    j = registry.journey
    return JourneyMap(j.name, j.version, j.description, j.segment.to_dict() if j.segment else None, scope,
                      tuple(stages))


def _direct(registry: Registry, touchpoint: str) -> bool | None:
    info = registry.touchpoints.get(touchpoint)
    return info.direct if info else None


#: The warehouse table where the theme model stores each text's theme (``cxlens.text.theme_store``).
THEMES_TABLE = "text_theme_assignments"


def _stage_themes(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope,
                  top: int = 3) -> dict[int, tuple[StageTheme, ...]]:
    """The most frequent themes of the comments answered at each stage's touchpoints, in the period.

    Empty when no theme model has been fitted (no assignments table). The 'other' theme is left out
    of the ranking but counted in the share's denominator.
    """
    assignments = tables.get(THEMES_TABLE)
    if assignments is None:
        return {}
    a = assignments.filter(assignments.source_table == "responses")
    r = scope.filter(tables["responses"], "submitted_at")
    r = r.filter(r.touchpoint.notnull())
    r = r.mutate(_stage=stage_index(r, registry)).filter(lambda t: t._stage.notnull())
    j = r.join(a, r.response_id == a.source_id).select("_stage", "theme_id", "theme_label", "response_id")
    counts = rows(j.group_by("_stage", "theme_id", "theme_label").aggregate(n=j.response_id.nunique()))
    totals: dict[int, int] = {}
    for c in counts:
        totals[int(c["_stage"])] = totals.get(int(c["_stage"]), 0) + int(c["n"])
    ranked = sorted((c for c in counts if c["theme_id"] != "other"),
                    key=lambda c: (int(c["_stage"]), -int(c["n"]), str(c["theme_id"])))
    out: dict[int, list[StageTheme]] = {}
    for c in ranked:
        stage = int(c["_stage"])
        if len(out.setdefault(stage, [])) < top:
            out[stage].append(StageTheme(str(c["theme_id"]), str(c["theme_label"]), int(c["n"]),
                                         int(c["n"]) / totals[stage]))
    return {k: tuple(v) for k, v in out.items()}


def _stage_flows(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope) -> dict[str, Any]:
    t = restrict_segment(tables["interactions"], tables.get("customers"), registry)
    t = t.filter(t.occurred_at < scope.now)
    t = t.mutate(_stage=stage_index(t, registry), _sec=seconds(t.occurred_at))
    t = t.filter(t._stage.notnull())
    period = scope.filter(t, "occurred_at")
    per_stage = period.group_by("_stage").aggregate(events=period.count())
    events = {int(r["_stage"]): int(r["events"]) for r in rows(per_stage)}
    entry = period.group_by("customer_id", "_stage").aggregate(t0=period._sec.min())
    windows = {i: s.window for i, s in enumerate(registry.journey.stages) if s.window}
    entry = entry.mutate(_win=entry._stage.substitute(windows, else_=ibis.null("int64")) if windows
                         else ibis.null("int64"))
    nxt = t.select(n_customer=t.customer_id, n_stage=t._stage, n_sec=t._sec)
    j = entry.join(nxt, [entry.customer_id == nxt.n_customer, nxt.n_stage == entry._stage + 1, nxt.n_sec > entry.t0])
    first_next = j.group_by(j.customer_id, j._stage).aggregate(t1=j.n_sec.min())
    e = entry.left_join(first_next, [entry.customer_id == first_next.customer_id, entry._stage == first_next._stage])
    e = e.select(_stage=entry._stage, t0=entry.t0, _win=entry._win, t1=first_next.t1)
    now = int(pd.Timestamp(scope.now).timestamp())
    eligible = e._win.isnull() | (e.t0 + e._win <= now)
    converted = eligible & e.t1.notnull() & (e._win.isnull() | (e.t1 <= e.t0 + e._win))
    e = e.mutate(eligible=eligible, converted=converted, _dur=converted.ifelse(e.t1 - e.t0, ibis.null("int64")))
    agg = e.group_by("_stage").aggregate(customers=e.count(), eligible=e.eligible.cast("int64").sum(),
                                         converted=e.converted.cast("int64").sum())
    counts = {int(r["_stage"]): {**r, "events": events.get(int(r["_stage"]), 0)} for r in rows(agg)}
    medians = {(int(k[0]),): v for k, v in exact_medians(e.select("_stage", "_dur"), ["_stage"], "_dur").items()}
    return {"counts": counts, "medians": medians}
