"""Experience along the journey: scores and sentiment per touchpoint and stage, pain points, delights.

Per touchpoint, over a period:

- **customers**: distinct customers with an interaction at the touchpoint; each is followed from
  their first such interaction in the period.
- **drop-off** (stages with a ``window`` only): of the customers whose window has fully elapsed by
  ``now``, the share with no interaction in the *next* stage within the window. Customers whose
  window is still open are left out (right-censoring), never counted as dropped.
- **poor responses**: survey responses about the touchpoint (``responses.touchpoint``) with a poor
  score — NPS 0–6, CSAT below ``csat_top_box``, or CES on the hard side of the scale's midpoint.
- **sentiment**: mean VADER compound score (``cxlens.text.score``) of the comments; English only.
- **customers affected**: distinct customers who dropped off or answered with a poor score.

A **pain point** is a touchpoint whose poor-response share is at least ``poor_threshold`` and whose
drop-off is at least ``drop_threshold``; pain points rank by customers affected. A **moment of
delight** has at least ``min_responses`` responses, a poor share of at most ``delight_threshold``
and a positive mean sentiment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from cxlens.journey.common import (
    TOUCHPOINT_ATTRIBUTES,
    Scope,
    ratio,
    restrict_segment,
    rows,
    seconds,
    settings_value,
    stage_index,
    with_customer_column,
)
from cxlens.journey.registry import Registry
from cxlens.stats.intervals import Proportion, nps_interval, wilson_interval
from cxlens.text.sentiment import score as sentiment_score

ALL = "all"


@dataclass(frozen=True)
class Comment:
    response_id: str
    text: str
    sentiment: float


@dataclass(frozen=True)
class TouchpointExperience:
    """Everything measured about one touchpoint (in one breakdown group) over a period."""

    group: str | None
    touchpoint: str
    stage: str | None
    channel: str | None
    customers: int
    eligible: int  # customers whose drop-off window has elapsed (0 when the stage has no window)
    dropped: int
    drop_off: Proportion
    responses: int
    poor_responses: int
    poor_share: Proportion
    nps: float | None
    csat_top_box: float | None
    ces_easy: float | None
    comments: int
    sentiment: float | None
    negative_comments: int
    affected: int
    evidence: tuple[Comment, ...] = field(default_factory=tuple)
    nps_n: int = 0  # responses with an NPS answer (weights when stages combine touchpoints)
    csat_n: int = 0
    ces_n: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group, "touchpoint": self.touchpoint, "stage": self.stage, "channel": self.channel,
            "customers": self.customers, "eligible": self.eligible, "dropped": self.dropped,
            "drop_off": self.drop_off.value, "drop_off_ci_low": self.drop_off.ci_low,
            "drop_off_ci_high": self.drop_off.ci_high, "responses": self.responses,
            "poor_responses": self.poor_responses, "poor_share": self.poor_share.value,
            "poor_share_ci_low": self.poor_share.ci_low, "poor_share_ci_high": self.poor_share.ci_high,
            "nps": self.nps, "csat_top_box": self.csat_top_box, "ces_easy": self.ces_easy,
            "comments": self.comments, "sentiment": self.sentiment, "negative_comments": self.negative_comments,
            "affected": self.affected,
            "evidence": [{"response_id": c.response_id, "comment": c.text, "sentiment": c.sentiment}
                         for c in self.evidence],
        }


@dataclass(frozen=True)
class PainPoint:
    rank: int
    experience: TouchpointExperience
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, **self.experience.to_dict(), "reasons": list(self.reasons)}


@dataclass(frozen=True)
class PainPointResult:
    scope: Scope
    by: str | None
    pain_points: tuple[PainPoint, ...]
    delights: tuple[TouchpointExperience, ...]
    touchpoints: tuple[TouchpointExperience, ...]
    thresholds: Mapping[str, float]

    def top(self, group: str | None = None) -> PainPoint | None:
        for p in self.pain_points:
            if group is None or p.experience.group == group:
                return p
        return None

    def to_records(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in p.to_dict().items() if k != "evidence"} for p in self.pain_points]

    def to_pandas(self) -> pd.DataFrame:
        columns = ["rank", *TouchpointExperience.__dataclass_fields__, "reasons"]
        columns = [c for c in columns if c not in ("evidence", "drop_off", "poor_share")]
        records = self.to_records()
        return pd.DataFrame(records) if records else pd.DataFrame(columns=columns)

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope.to_dict(), "by": self.by, "thresholds": dict(self.thresholds),
                "pain_points": [p.to_dict() for p in self.pain_points],
                "delights": [d.to_dict() for d in self.delights]}


@dataclass(frozen=True)
class StageEmotion:
    stage: str
    responses: int
    comments: int
    sentiment: float | None
    target: float | None
    nps: float | None
    csat_top_box: float | None
    ces_easy: float | None

    @property
    def gap(self) -> float | None:
        if self.sentiment is None or self.target is None:
            return None
        return self.sentiment - self.target

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "responses": self.responses, "comments": self.comments,
                "sentiment": self.sentiment, "target": self.target, "gap": self.gap, "nps": self.nps,
                "csat_top_box": self.csat_top_box, "ces_easy": self.ces_easy}


# --------------------------------------------------------------------------------------------------
# Touchpoint experience
# --------------------------------------------------------------------------------------------------


def touchpoint_experience(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope, *,
                          by: str | None = None, settings: Mapping[str, Any] | None = None,
                          confidence: float = 0.95, evidence: int = 3) -> list[TouchpointExperience]:
    """Per (group, touchpoint): customers, drop-off, scores, sentiment and customers affected."""
    customer_col = by if by is not None and by not in TOUCHPOINT_ATTRIBUTES else None
    first = _first_touches(tables, registry, scope, customer_col)
    flow = _flow(first)
    scores = _scores(tables, registry, scope, customer_col, settings)
    comments = _comments(tables, registry, scope, customer_col)
    affected = _affected(first, _poor_responders(tables, registry, scope, customer_col, settings))
    keys = sorted(set(flow) | set(scores) | set(comments), key=lambda k: (str(k[0]), k[1]))
    out = [_experience(k, registry, flow.get(k), scores.get(k), comments.get(k, []), affected.get(k, 0),
                       confidence, evidence) for k in keys]
    if by in TOUCHPOINT_ATTRIBUTES:
        out = [_regroup(e, by) for e in out]
    return out


def _regroup(e: TouchpointExperience, by: str) -> TouchpointExperience:
    value = e.channel if by == "channel" else e.stage
    return TouchpointExperience(value, *[getattr(e, f) for f in list(TouchpointExperience.__dataclass_fields__)[1:]])


def _interactions(tables: Mapping[str, ibis.Table], registry: Registry, customer_col: str | None) -> ibis.Table:
    t = restrict_segment(tables["interactions"], tables.get("customers"), registry)
    if customer_col is not None:
        t = with_customer_column(t, tables.get("customers"), customer_col)
    return t.mutate(_grp=t[customer_col].cast("string") if customer_col else ibis.literal(ALL))


def _flow(first: ibis.Table) -> dict[tuple[str, str], dict[str, Any]]:
    """Customers, eligible and dropped per (group, touchpoint) — one warehouse query."""
    counts = first.group_by("_grp", "touchpoint").aggregate(
        customers=first.count(), eligible=first.eligible.cast("int64").sum(),
        dropped=first.dropped.cast("int64").sum())
    return {(r["_grp"], r["touchpoint"]): r for r in rows(counts)}


def _first_touches(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope,
                   customer_col: str | None) -> ibis.Table:
    """One row per (customer, touchpoint): first touch in the period, eligible and dropped flags."""
    t = _interactions(tables, registry, customer_col)
    t = t.mutate(_stage=stage_index(t, registry), _sec=seconds(t.occurred_at))
    windows = {i: s.window for i, s in enumerate(registry.journey.stages) if s.window and i + 1 < len(
        registry.journey.stages)}
    period = scope.filter(t, "occurred_at")
    first = period.group_by("_grp", "customer_id", "touchpoint").aggregate(
        _stage=period._stage.min(), _sec=period._sec.min())
    win = first._stage.substitute(windows, else_=ibis.null("int64")) if windows else ibis.null("int64")
    first = first.mutate(_win=win)
    now = int(pd.Timestamp(scope.now).timestamp())
    first = first.mutate(eligible=first._win.notnull() & (first._sec + first._win <= now))
    nxt = t.filter(t._stage.notnull()).select(n_customer=t.customer_id, n_stage=t._stage, n_sec=t._sec)
    cand = first.filter(first.eligible)
    j = cand.join(nxt, [cand.customer_id == nxt.n_customer, nxt.n_stage == cand._stage + 1,
                        nxt.n_sec > cand._sec, nxt.n_sec <= cand._sec + cand._win])
    progressed = j.select("_grp", "customer_id", "touchpoint").distinct().mutate(_progressed=ibis.literal(True))
    out = first.left_join(progressed, [first._grp == progressed._grp, first.customer_id == progressed.customer_id,
                                       first.touchpoint == progressed.touchpoint])
    out = out.select(_grp=first._grp, customer_id=first.customer_id, touchpoint=first.touchpoint,
                     eligible=first.eligible.fill_null(False), dropped=first.eligible.fill_null(False)
                     & out._progressed.isnull())
    return out


def _responses(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope,
               customer_col: str | None) -> ibis.Table:
    r = tables["responses"]
    r = scope.filter(r.filter(r.touchpoint.notnull()), "submitted_at")
    if registry.journey.segment is not None:
        r = restrict_segment(r, tables.get("customers"), registry)
    if customer_col is not None:
        r = with_customer_column(r, tables.get("customers"), customer_col)
    return r.mutate(_grp=r[customer_col].cast("string") if customer_col else ibis.literal(ALL))


def poor_expr(r: ibis.Table, settings: Mapping[str, Any] | None) -> ibis.Value:
    """True for a response with a poor score (see the module docstring)."""
    top_box = int(settings_value(settings, "csat_top_box", 4))
    ces_max = int(settings_value(settings, "ces_scale_max", 7))
    harder = settings_value(settings, "ces_direction", "higher_is_easier") == "higher_is_harder"
    ces_poor = (r.ces * 2 > 1 + ces_max) if harder else (r.ces * 2 < 1 + ces_max)
    return ((r.nps <= 6).fill_null(False) | (r.csat < top_box).fill_null(False) | ces_poor.fill_null(False))


def _easy_expr(r: ibis.Table, settings: Mapping[str, Any] | None) -> ibis.Value:
    ces_max = int(settings_value(settings, "ces_scale_max", 7))
    harder = settings_value(settings, "ces_direction", "higher_is_easier") == "higher_is_harder"
    return (r.ces <= 2) if harder else (r.ces >= ces_max - 1)


def _scores(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope, customer_col: str | None,
            settings: Mapping[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
    r = _responses(tables, registry, scope, customer_col)
    top_box = int(settings_value(settings, "csat_top_box", 4))
    agg = r.group_by("_grp", "touchpoint").aggregate(
        responses=r.count(), poor=poor_expr(r, settings).cast("int64").sum(),
        n_nps=r.nps.count(), promoters=(r.nps >= 9).cast("int64").sum(), detractors=(r.nps <= 6).cast("int64").sum(),
        n_csat=r.csat.count(), csat_top=(r.csat >= top_box).cast("int64").sum(),
        n_ces=r.ces.count(), ces_easy=_easy_expr(r, settings).cast("int64").sum(),
    )
    return {(x["_grp"], x["touchpoint"]): x for x in rows(agg)}


def _poor_responders(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope,
                     customer_col: str | None, settings: Mapping[str, Any] | None) -> ibis.Table:
    r = _responses(tables, registry, scope, customer_col)
    r = r.filter(poor_expr(r, settings) & r.customer_id.notnull())
    return r.select("_grp", "customer_id", "touchpoint").distinct()


def _affected(first: ibis.Table, poor: ibis.Table) -> dict[tuple[str, str], int]:
    """Distinct customers who dropped off or answered poorly, per (group, touchpoint)."""
    dropped = first.filter(first.dropped).select("_grp", "customer_id", "touchpoint")
    both = ibis.union(dropped, poor, distinct=True)
    agg = both.group_by("_grp", "touchpoint").aggregate(affected=both.count())
    return {(r["_grp"], r["touchpoint"]): int(r["affected"]) for r in rows(agg)}


def _comments(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope,
              customer_col: str | None) -> dict[tuple[str, str], list[tuple[str, str, float | None]]]:
    """Comments per (group, touchpoint) with their sentiment (scored here: VADER runs in Python)."""
    r = _responses(tables, registry, scope, customer_col)
    r = r.filter(r.comment.notnull() & (r.comment.strip() != ""))
    data = rows(r.select("_grp", "touchpoint", "response_id", "comment").order_by("response_id"))
    scored = sentiment_score([d["comment"] for d in data])
    out: dict[tuple[str, str], list[tuple[str, str, float | None]]] = {}
    for d, s in zip(data, scored, strict=True):
        out.setdefault((d["_grp"], d["touchpoint"]), []).append((d["response_id"], d["comment"], s.score))
    return out


def _experience(key: tuple[str, str], registry: Registry, flow: Mapping[str, Any] | None,
                scores: Mapping[str, Any] | None, comments: Sequence[tuple[str, str, float | None]],
                affected: int, confidence: float, evidence: int) -> TouchpointExperience:
    group, tp = key
    info = registry.touchpoints.get(tp)
    f = flow or {"customers": 0, "eligible": 0, "dropped": 0}
    s = scores or {}
    responses, poor = int(s.get("responses") or 0), int(s.get("poor") or 0)
    scored = [(rid, text, v) for rid, text, v in comments if v is not None]
    negative = sorted((c for c in scored if c[2] <= -0.05), key=lambda c: (c[2], c[0]))
    nps = None
    if s.get("n_nps"):
        nps = nps_interval(int(s["promoters"]), int(s["n_nps"]) - int(s["promoters"]) - int(s["detractors"]),
                           int(s["detractors"]), confidence).nps
    return TouchpointExperience(
        None if group == ALL else group, tp, info.stage if info else None, info.channel if info else None,
        int(f["customers"] or 0), int(f["eligible"] or 0), int(f["dropped"] or 0),
        wilson_interval(int(f["dropped"] or 0), int(f["eligible"] or 0), confidence),
        responses, poor, wilson_interval(poor, responses, confidence), nps,
        ratio(int(s.get("csat_top") or 0), int(s.get("n_csat") or 0)),
        ratio(int(s.get("ces_easy") or 0), int(s.get("n_ces") or 0)),
        len(scored), sum(v for _, _, v in scored) / len(scored) if scored else None, len(negative), affected,
        tuple(Comment(rid, text[:280], round(v, 4)) for rid, text, v in negative[:evidence]),
        int(s.get("n_nps") or 0), int(s.get("n_csat") or 0), int(s.get("n_ces") or 0),
    )


# --------------------------------------------------------------------------------------------------
# Pain points, delights, emotion curve
# --------------------------------------------------------------------------------------------------


def pain_points(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope, *, by: str | None = None,
                settings: Mapping[str, Any] | None = None, poor_threshold: float = 0.3,
                drop_threshold: float = 0.2, delight_threshold: float = 0.15, min_responses: int = 10,
                confidence: float = 0.95) -> PainPointResult:
    """Touchpoints with poor scores and high drop-off, ranked by customers affected (within each group)."""
    for name, value in (("poor_threshold", poor_threshold), ("drop_threshold", drop_threshold),
                        ("delight_threshold", delight_threshold)):
        if not 0 <= value <= 1:
            from cxlens.errors import CxlensInputError

            raise CxlensInputError(f"The '{name}' parameter must be a share between 0 and 1. Got {value} instead.")
    exps = touchpoint_experience(tables, registry, scope, by=by, settings=settings, confidence=confidence)
    ranked = rank_pain_points(exps, poor_threshold, drop_threshold, min_responses)
    delights = tuple(sorted(
        (e for e in exps if e.responses >= min_responses and e.poor_share.value is not None
         and e.poor_share.value <= delight_threshold and (e.sentiment or 0) > 0),
        key=lambda e: (str(e.group), e.poor_share.value, -(e.sentiment or 0), e.touchpoint)))
    thresholds = {"poor_threshold": poor_threshold, "drop_threshold": drop_threshold,
                  "delight_threshold": delight_threshold, "min_responses": min_responses}
    return PainPointResult(scope, by, ranked, delights, tuple(exps), thresholds)


def rank_pain_points(exps: Sequence[TouchpointExperience], poor_threshold: float, drop_threshold: float,
                     min_responses: int) -> tuple[PainPoint, ...]:
    candidates = [e for e in exps if _is_pain(e, poor_threshold, drop_threshold, min_responses)]
    by_group: dict[str | None, list[TouchpointExperience]] = {}
    for e in sorted(candidates, key=lambda e: (-e.affected, e.touchpoint)):
        by_group.setdefault(e.group, []).append(e)
    out = []
    for group in sorted(by_group, key=lambda g: (g is None, str(g))):
        for rank, e in enumerate(by_group[group], 1):
            out.append(PainPoint(rank, e, _reasons(e)))
    return tuple(out)


def _is_pain(e: TouchpointExperience, poor_threshold: float, drop_threshold: float, min_responses: int) -> bool:
    return (e.responses >= min_responses and e.poor_share.value is not None and e.poor_share.value >= poor_threshold
            and e.drop_off.value is not None and e.drop_off.value >= drop_threshold)


def _reasons(e: TouchpointExperience) -> tuple[str, ...]:
    out = [f"{e.dropped} of {e.eligible} customers ({_pct(e.drop_off.value)}) did not reach the next stage in time",
           f"{e.poor_responses} of {e.responses} responses ({_pct(e.poor_share.value)}) gave a poor score"]
    if e.sentiment is not None:
        out.append(f"mean comment sentiment {e.sentiment:+.2f} over {e.comments} comments "
                   f"({e.negative_comments} negative)")
    return tuple(out)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def emotion_curve(exps: Sequence[TouchpointExperience], registry: Registry) -> tuple[StageEmotion, ...]:
    """Per stage of the journey: sentiment (vs. the stage's target), NPS, CSAT top box, CES easy share."""
    out = []
    for stage in registry.journey.stages:
        mine = [e for e in exps if e.stage == stage.name]
        comments = sum(e.comments for e in mine)
        total = sum((e.sentiment or 0.0) * e.comments for e in mine)
        out.append(StageEmotion(
            stage.name, sum(e.responses for e in mine), comments, total / comments if comments else None,
            stage.target, _weighted(mine, "nps", "nps_n"), _weighted(mine, "csat_top_box", "csat_n"),
            _weighted(mine, "ces_easy", "ces_n"),
        ))
    return tuple(out)


def _weighted(exps: Sequence[TouchpointExperience], attr: str, weight_attr: str) -> float | None:
    """The stage's value: touchpoint values weighted by their answers (exact for shares and NPS)."""
    pairs = [(getattr(e, attr), getattr(e, weight_attr)) for e in exps if getattr(e, attr) is not None]
    weight = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / weight if weight else None
