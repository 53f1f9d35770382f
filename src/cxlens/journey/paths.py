"""Paths through touchpoints (and Sankey data), and customers stuck in a stage.

**Paths** start at each customer's first interaction with an anchor touchpoint in the period and
follow the next (``after``) or previous (``before``) ``depth`` touchpoints of that customer, in
``(occurred_at, event_id)`` order. With ``collapse`` (the default) a run of the same touchpoint
counts once. A path shorter than ``depth`` ends with ``(end)`` (or begins with ``(start)``).

**Stuck customers**: a customer's current stage is the furthest journey stage they have reached
by ``now``; they entered it with their first interaction in it. A customer is stuck when that
was more than ``days`` days before ``now`` and the stage is not the journey's last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import pandas as pd

from cxlens.errors import CxlensInputError
from cxlens.journey.common import Scope, restrict_segment, rows, seconds, stage_index
from cxlens.journey.registry import Registry

END, START = "(end)", "(start)"
_ORDER = ["occurred_at", "event_id"]


@dataclass(frozen=True)
class PathRow:
    touchpoints: tuple[str, ...]  # anchor first (after) or last (before)
    customers: int
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {"path": " → ".join(self.touchpoints), "customers": self.customers, "share": self.share}


@dataclass(frozen=True)
class SankeyNode:
    id: str
    position: int
    touchpoint: str
    customers: int


@dataclass(frozen=True)
class SankeyLink:
    source: str
    target: str
    customers: int


@dataclass(frozen=True)
class PathResult:
    anchor: str
    direction: str
    depth: int
    customers: int
    paths: tuple[PathRow, ...]
    nodes: tuple[SankeyNode, ...]
    links: tuple[SankeyLink, ...]

    def to_records(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.paths]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_records(), columns=["path", "customers", "share"])

    def sankey(self) -> dict[str, Any]:
        return {"nodes": [n.__dict__ for n in self.nodes], "links": [lk.__dict__ for lk in self.links]}

    def to_dict(self) -> dict[str, Any]:
        return {"anchor": self.anchor, "direction": self.direction, "depth": self.depth,
                "customers": self.customers, "paths": self.to_records(), "sankey": self.sankey()}


def paths(tables: Mapping[str, ibis.Table], registry: Registry, anchor: str, scope: Scope, *,
          direction: str = "after", depth: int = 3, top: int = 10, collapse: bool = True) -> PathResult:
    """The most frequent paths after/before ``anchor`` and the Sankey data of all of them."""
    if direction not in ("after", "before"):
        raise CxlensInputError(f"The 'direction' parameter must be 'after' or 'before'. Got {direction!r} instead.")
    if not 1 <= depth <= 10:
        raise CxlensInputError(f"The 'depth' parameter must be between 1 and 10. Got {depth} instead.")
    if top < 1:
        raise CxlensInputError(f"The 'top' parameter must be at least 1. Got {top} instead.")
    registry.check_touchpoint(anchor)
    counts = _path_counts(tables, registry, anchor, scope, direction, depth, collapse)
    total = sum(c for _, c in counts)
    ordered = sorted(counts, key=lambda pc: (-pc[1], pc[0]))
    top_rows = tuple(PathRow(p, c, c / total) for p, c in ordered[:top])
    nodes, links = _sankey(counts, direction)
    return PathResult(anchor, direction, depth, total, top_rows, nodes, links)


def _path_counts(tables: Mapping[str, ibis.Table], registry: Registry, anchor: str, scope: Scope,
                 direction: str, depth: int, collapse: bool) -> list[tuple[tuple[str, ...], int]]:
    t = restrict_segment(tables["interactions"], tables.get("customers"), registry)
    t = t.filter(t.occurred_at < scope.now).select("customer_id", "event_id", "occurred_at", "touchpoint")
    w = ibis.window(group_by="customer_id", order_by=_ORDER)
    if collapse:
        t = t.mutate(_prev=t.touchpoint.lag().over(w))
        t = t.filter(t._prev.isnull() | (t.touchpoint != t._prev)).drop("_prev")
    shift = (lambda k: t.touchpoint.lead(k).over(w)) if direction == "after" else (
        lambda k: t.touchpoint.lag(k).over(w))
    t = t.mutate(**{f"p{k}": shift(k) for k in range(1, depth + 1)})
    a = scope.filter(t.filter(t.touchpoint == anchor), "occurred_at")
    a = a.mutate(_r=ibis.row_number().over(ibis.window(group_by="customer_id", order_by=_ORDER)))
    a = a.filter(a._r == 0)
    cols = [f"p{k}" for k in range(1, depth + 1)]
    agg = a.group_by(cols).aggregate(customers=a.count())
    out = []
    for r in rows(agg):
        steps = _steps([r[c] for c in cols], direction)
        out.append(((anchor, *steps) if direction == "after" else (*steps, anchor), int(r["customers"])))
    return _merge(out)


def _steps(values: list[str | None], direction: str) -> tuple[str, ...]:
    steps: list[str] = []
    for v in values:
        if v is None:
            steps.append(END if direction == "after" else START)
            break
        steps.append(v)
    return tuple(steps) if direction == "after" else tuple(reversed(steps))


def _merge(pairs: list[tuple[tuple[str, ...], int]]) -> list[tuple[tuple[str, ...], int]]:
    merged: dict[tuple[str, ...], int] = {}
    for p, c in pairs:
        merged[p] = merged.get(p, 0) + c
    return list(merged.items())


def _sankey(counts: list[tuple[tuple[str, ...], int]], direction: str) -> tuple[tuple[SankeyNode, ...],
                                                                               tuple[SankeyLink, ...]]:
    nodes: dict[str, list[Any]] = {}
    links: dict[tuple[str, str], int] = {}
    for path, c in counts:
        offset = 0 if direction == "after" else -(len(path) - 1)
        ids = []
        for i, tp in enumerate(path):
            node = f"{i + offset}:{tp}"
            nodes.setdefault(node, [i + offset, tp, 0])[2] += c
            ids.append(node)
        for a, b in zip(ids, ids[1:], strict=False):
            links[(a, b)] = links.get((a, b), 0) + c
    by_position = sorted(nodes.items(), key=lambda kv: (kv[1][0], -kv[1][2], kv[0]))
    node_rows = tuple(SankeyNode(k, v[0], v[1], v[2]) for k, v in by_position)
    ordered = sorted(links.items(), key=lambda kv: (-kv[1], kv[0]))
    link_rows = tuple(SankeyLink(a, b, c) for (a, b), c in ordered)
    return node_rows, link_rows


# --------------------------------------------------------------------------------------------------
# Stuck customers
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StuckCustomer:
    customer_id: str
    stage: str
    entered_at: datetime
    days_in_stage: float


@dataclass(frozen=True)
class StageStuck:
    stage: str
    customers: int  # whose furthest stage is this one
    stuck: int

    @property
    def share(self) -> float | None:
        return self.stuck / self.customers if self.customers else None


@dataclass(frozen=True)
class StuckResult:
    days: float
    now: datetime
    stages: tuple[StageStuck, ...]
    customers: tuple[StuckCustomer, ...]  # the longest-stuck first, at most ``limit``

    def to_records(self) -> list[dict[str, Any]]:
        return [{"customer_id": c.customer_id, "stage": c.stage, "entered_at": c.entered_at.isoformat(),
                 "days_in_stage": round(c.days_in_stage, 2)} for c in self.customers]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_records(), columns=["customer_id", "stage", "entered_at", "days_in_stage"])

    def to_dict(self) -> dict[str, Any]:
        return {"days": self.days, "now": self.now.isoformat(),
                "stages": [{"stage": s.stage, "customers": s.customers, "stuck": s.stuck, "share": s.share}
                           for s in self.stages],
                "customers": self.to_records()}


def stuck(tables: Mapping[str, ibis.Table], registry: Registry, *, days: float, now: datetime,
          stage: str | None = None, limit: int = 100) -> StuckResult:
    """Customers whose furthest stage was entered more than ``days`` days before ``now``."""
    if days <= 0:
        raise CxlensInputError(f"The 'days' parameter must be more than zero. Got {days} instead.")
    if stage is not None:
        registry.check_stage(stage)
    scope = Scope.of(None, None, now)
    furthest = _furthest(tables, registry, scope)
    last = len(registry.journey.stages) - 1
    now_sec = int(pd.Timestamp(scope.now).timestamp())
    f = furthest.mutate(_days=(now_sec - furthest._sec).cast("float64") / 86400.0)
    f = f.mutate(_stuck=(f._days > days) & (f._stage < last))
    names = registry.journey.stage_names
    summary = {int(r["_stage"]): r for r in rows(f.group_by("_stage").aggregate(
        customers=f.count(), stuck=f._stuck.cast("int64").sum()))}
    stages = tuple(StageStuck(s, _int(summary.get(i), "customers"), _int(summary.get(i), "stuck"))
                   for i, s in enumerate(names) if stage is None or s == stage)
    chosen = f.filter(f._stuck)
    if stage is not None:
        chosen = chosen.filter(chosen._stage == names.index(stage))
    chosen = chosen.order_by([ibis.desc("_days"), "customer_id"]).limit(limit)
    people = tuple(StuckCustomer(r["customer_id"], names[int(r["_stage"])],
                                 pd.Timestamp(r["_entered"]).to_pydatetime(), float(r["_days"])) for r in rows(chosen))
    return StuckResult(days, scope.now, stages, people)


def _int(row: Mapping[str, Any] | None, key: str) -> int:
    return int((row or {}).get(key) or 0)


def _furthest(tables: Mapping[str, ibis.Table], registry: Registry, scope: Scope) -> ibis.Table:
    """Per customer: the furthest stage reached and when they first entered it."""
    t = restrict_segment(tables["interactions"], tables.get("customers"), registry)
    t = t.filter(t.occurred_at < scope.now)
    t = t.mutate(_stage=stage_index(t, registry))
    t = t.filter(t._stage.notnull())
    far = t.group_by("customer_id").aggregate(_max=t._stage.max())
    j = t.join(far, [t.customer_id == far.customer_id, t._stage == far._max])
    return j.group_by(j.customer_id).aggregate(_stage=j._stage.min(), _entered=j.occurred_at.min(),
                                              _sec=seconds(j.occurred_at).min())
