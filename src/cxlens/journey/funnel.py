"""Window funnels over ``interactions``, computed in the warehouse through Ibis.

Semantics (see ``docs/journeys.md``): a customer's events are ordered by ``(occurred_at,
event_id)``. Every event matching step 1 starts a candidate chain; the chain reaches step k when
steps 2..k are found after it (by order mode) no later than ``window`` after the step-1 event
(inclusive; times in whole seconds). A customer counts at the deepest step of their best chain
(the deepest; ties go to the earliest start). One event never fills two steps of one chain.

- ``sequential``: each step is the first matching event after the previous step's event (greedy,
  which is optimal: a chain from a later event is never ahead of one from an earlier event).
- ``strict``: the steps must be consecutive events of the customer — any other event breaks the chain.
- ``any``: after step 1, steps 2..n may happen in any order; the chain reaches step k when each of
  steps 2..k has a matching event after step 1 within the window.

Sequential chains are computed backwards with one window pass per step: for an event that matches
step k, ``a[k][j]`` (the time of step j of its chain) is the minimum of ``a[k+1][j]`` over the
following events. Because chains are monotone in their start, the minimum is the value of the first
following step-(k+1) event, i.e. exactly the greedy chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.operations as ops
import pandas as pd

from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.journey.common import as_date, restrict_segment
from cxlens.journey.definition import parse_duration
from cxlens.journey.registry import Registry
from cxlens.journey.steps import Step, parse_steps
from cxlens.metrics.period import Grain, truncate
from cxlens.stats.intervals import Proportion, wilson_interval

#: Upper edges (seconds) of the time-to-convert distribution buckets; the last bucket is open.
BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("<1m", 60), ("1m-1h", 3600), ("1h-1d", 86400), ("1-3d", 3 * 86400), ("3-7d", 7 * 86400),
    ("7-14d", 14 * 86400), ("14-30d", 30 * 86400), ("30d+", None),
)
_ORDER = ["occurred_at", "event_id"]


class Order(StrEnum):
    SEQUENTIAL = "sequential"
    STRICT = "strict"
    ANY = "any"

    @classmethod
    def parse(cls, value: str | Order) -> Order:
        try:
            return cls(value)
        except ValueError:
            raise CxlensInputError(
                f"The 'order' parameter must be one of {', '.join(o.value for o in cls)}. Got {value!r} instead."
            ) from None


class Attribution(StrEnum):
    FIRST_TOUCH = "first_touch"
    CUSTOMER = "customer"

    @classmethod
    def parse(cls, value: str | Attribution) -> Attribution:
        try:
            return cls(value)
        except ValueError:
            raise CxlensInputError(
                f"The 'attribution' parameter must be one of {', '.join(a.value for a in cls)}: first_touch takes "
                f"the value of the step-1 event, customer the customer's attribute. Got {value!r} instead."
            ) from None


@dataclass(frozen=True)
class Exclusion:
    """Customers with a ``step`` event between funnel steps ``start`` and ``end`` are left out."""

    step: Step
    start: int = 1
    end: int | None = None


@dataclass(frozen=True)
class FunnelQuery:
    steps: tuple[Step, ...]
    window: int  # seconds
    order: Order
    now: datetime
    by: str | None = None
    attribution: Attribution = Attribution.FIRST_TOUCH
    exclusions: tuple[Exclusion, ...] = ()
    grain: Grain | None = None
    since: date | None = None
    until: date | None = None
    confidence: float = 0.95

    @staticmethod
    def build(steps: Any, *, now: datetime, window: str | int | float = "14d", order: str = "sequential",
              by: str | None = None, attribution: str = "first_touch", exclude: Any = (),
              grain: str | None = None, since: Any = None, until: Any = None,
              confidence: float = 0.95) -> FunnelQuery:
        parsed = parse_steps(steps)
        mode = Order.parse(order)
        _check_any_steps(mode, parsed)
        if not 0 < confidence < 1:
            raise CxlensInputError(f"The 'confidence' parameter must be between 0 and 1. Got {confidence} instead.")
        exclusions = _exclusions(exclude, len(parsed))
        _check_any_exclusions(mode, exclusions)
        start, end = as_date(since, "since"), as_date(until, "until")
        if start and end and end < start:
            raise CxlensInputError(f"'until' ({end}) is before 'since' ({start}); swap them.")
        return FunnelQuery(parsed, parse_duration(window), mode, _utc(now), by, Attribution.parse(attribution),
                           exclusions, Grain.parse(grain), start, end, confidence)


def _check_any_steps(order: Order, steps: tuple[Step, ...]) -> None:
    if order is Order.ANY and len(set(steps[1:])) != len(steps[1:]):
        raise CxlensInputError(
            "In 'any' order each step after the first must be different (one event would fill both). "
            "Remove the repeated step or use order 'sequential'."
        )


def _exclusions(exclude: Any, n: int) -> tuple[Exclusion, ...]:
    if not exclude:
        return ()
    items = exclude.split(",") if isinstance(exclude, str) else list(exclude)
    out = []
    for item in items:
        ex = item if isinstance(item, Exclusion) else Exclusion(Step.parse(item))
        end = ex.end or n
        if not 1 <= ex.start < end <= n:
            raise CxlensInputError(
                f"An exclusion applies between two funnel steps 1 <= start < end <= {n}. "
                f"Got start={ex.start}, end={ex.end} for {ex.step.label!r}."
            )
        out.append(Exclusion(ex.step, ex.start, end))
    return tuple(out)


def _check_any_exclusions(order: Order, exclusions: tuple[Exclusion, ...]) -> None:
    if order is Order.ANY and any(ex.start != 1 for ex in exclusions):
        raise CxlensInputError("In 'any' order exclusions count from step 1; drop the exclusion's start step.")


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        return now
    return now.astimezone(UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    step: int
    label: str
    customers: int
    conversion: Proportion  # from step 1
    from_previous: Proportion
    drop_off: int  # customers who reached the previous step but not this one
    median_seconds: float | None
    distribution: tuple[tuple[str, int], ...]  # time from step 1, by bucket

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "label": self.label, "customers": self.customers,
            "conversion": self.conversion.value, "ci_low": self.conversion.ci_low,
            "ci_high": self.conversion.ci_high, "from_previous": self.from_previous.value,
            "from_previous_ci_low": self.from_previous.ci_low, "from_previous_ci_high": self.from_previous.ci_high,
            "drop_off": self.drop_off,
            "drop_off_rate": None if self.from_previous.value is None else 1.0 - self.from_previous.value,
            "median_seconds": self.median_seconds, "distribution": dict(self.distribution),
        }


@dataclass(frozen=True)
class FunnelGroup:
    group: tuple[tuple[str, Any], ...]
    steps: tuple[FunnelStep, ...]
    period: date | None = None


@dataclass(frozen=True)
class FunnelResult:
    query: FunnelQuery
    groups: tuple[FunnelGroup, ...]
    trend: tuple[FunnelGroup, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def group(self, **key: Any) -> FunnelGroup:
        for g in self.groups:
            if dict(g.group) == key:
                return g
        raise UnknownNameError(f"No funnel group {key}; the groups are {[dict(g.group) for g in self.groups]}.")

    def counts(self) -> list[int]:
        """Customers per step of the overall (first) group."""
        return [s.customers for s in self.groups[0].steps] if self.groups else []

    def to_records(self, trend: bool = False) -> list[dict[str, Any]]:
        out = []
        for g in self.trend if trend else self.groups:
            for s in g.steps:
                row = dict(g.group)
                if g.period is not None:
                    row["period"] = g.period.isoformat()
                row.update({k: v for k, v in s.to_dict().items() if k != "distribution"})
                out.append(row)
        return out

    def to_pandas(self, trend: bool = False) -> pd.DataFrame:
        return pd.DataFrame(self.to_records(trend))

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "steps": [s.label for s in q.steps], "window_seconds": q.window, "order": q.order.value,
            "by": q.by, "attribution": q.attribution.value, "since": _iso(q.since), "until": _iso(q.until),
            "exclusions": [{"step": e.step.label, "start": e.start, "end": e.end} for e in q.exclusions],
            "groups": [{"group": dict(g.group), "steps": [s.to_dict() for s in g.steps]} for g in self.groups],
            "trend": self.to_records(trend=True), "warnings": list(self.warnings),
        }


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


# --------------------------------------------------------------------------------------------------
# The warehouse computation
# --------------------------------------------------------------------------------------------------


def funnel(tables: Mapping[str, ibis.Table], registry: Registry, query: FunnelQuery,
           settings: Mapping[str, Any] | None = None) -> FunnelResult:
    """Run ``query`` over ``tables['interactions']`` (and ``customers`` for breakdowns/segments)."""
    events = tables["interactions"]
    for s in (*query.steps, *(e.step for e in query.exclusions)):
        s.check(registry, tuple(events.columns))
    by_col, from_customers = _breakdown(query, events, tables.get("customers"))
    best = customer_levels(events, registry, query, by_col if not from_customers else None)
    best = restrict_segment(best, tables.get("customers"), registry)
    if from_customers:
        c = tables["customers"].select("customer_id", by_col)
        best = best.left_join(c, best.customer_id == c.customer_id).select(*best.columns, by_col)
    week_start = str((settings or {}).get("week_start", "monday"))
    by = [by_col] if by_col else []
    if query.grain is None and _has_median(best):  # one query does it all: no need to materialise
        groups = _summaries(best, query, by, None, week_start)
        return FunnelResult(query, tuple(groups), (), _warnings(query, groups))
    with best.cache() as cached:
        groups = _summaries(cached, query, by, None, week_start)
        trend = _summaries(cached, query, by, query.grain, week_start) if query.grain else ()
    return FunnelResult(query, tuple(groups), tuple(trend), _warnings(query, groups))


def _has_median(t: ibis.Table) -> bool:
    """Whether the engine has an exact MEDIAN aggregate (DuckDB does; SQLite does not)."""
    try:
        return bool(t._find_backend().has_operation(ops.Median))
    except Exception:  # an unbound expression or a backend without the capability check
        return False


def _breakdown(query: FunnelQuery, events: ibis.Table, customers: ibis.Table | None) -> tuple[str | None, bool]:
    if query.by is None:
        return None, False
    in_events = query.by in events.columns and not query.by.startswith("_")
    in_customers = customers is not None and query.by in customers.columns and not query.by.startswith("_")
    if query.attribution is Attribution.CUSTOMER or not in_events:
        if in_customers:
            return query.by, True
    if in_events and query.attribution is Attribution.FIRST_TOUCH:
        return query.by, False
    valid = sorted({c for c in (*events.columns, *(customers.columns if customers is not None else ()))
                    if not c.startswith("_")})
    raise UnknownNameError(f"Unknown breakdown column '{query.by}'. Columns you can break down by: {', '.join(valid)}.")


def customer_levels(events: ibis.Table, registry: Registry, query: FunnelQuery,
                    attribute: str | None = None) -> ibis.Table:
    """One row per customer with a counted chain: level, start, ``t{j}`` step times (epoch seconds)."""
    n = len(query.steps)
    t = _scoped(events, query)
    cols: dict[str, Any] = {"customer_id": t.customer_id, "event_id": t.event_id, "occurred_at": t.occurred_at,
                            "sec": t.occurred_at.epoch_seconds().cast("int64")}
    for i, step in enumerate(query.steps, 1):
        cols[f"m{i}"] = step.predicate(t, registry).fill_null(False)
    for x, ex in enumerate(query.exclusions):
        cols[f"x{x}"] = ex.step.predicate(t, registry).fill_null(False)
    if attribute is not None:
        cols["attr"] = t[attribute]
    e = t.select(**cols)
    if query.order is not Order.STRICT:  # only matching events matter; strict needs every event
        relevant = ibis.or_(*[e[f"m{i}"] for i in range(1, n + 1)],
                            *[e[f"x{x}"] for x in range(len(query.exclusions))])
        e = e.filter(relevant)
    chains = {Order.SEQUENTIAL: _sequential, Order.STRICT: _strict, Order.ANY: _any}[query.order](e, query)
    return _best(chains, query)


def _scoped(events: ibis.Table, query: FunnelQuery) -> ibis.Table:
    """Events from ``since`` to one window after ``until`` (conversions may finish after until)."""
    t = events
    if query.since is not None:
        t = t.filter(t.occurred_at >= datetime.combine(query.since, datetime.min.time()))
    end = _end(query)
    return t.filter(t.occurred_at < end + timedelta(seconds=query.window))


def _end(query: FunnelQuery) -> datetime:
    if query.until is not None:
        return datetime.combine(query.until + timedelta(days=1), datetime.min.time())
    return query.now


def _following() -> Any:
    """Each customer's later events (the current one excluded), in event order."""
    return ibis.window(group_by="customer_id", order_by=_ORDER, rows=(1, None))


def _ordered() -> Any:
    """Each customer's events in event order (for LEAD)."""
    return ibis.window(group_by="customer_id", order_by=_ORDER)


def _next_exclusions(e: ibis.Table, query: FunnelQuery) -> ibis.Table:
    """``nx{x}``: time of the next exclusion-x event after each event."""
    w = _following()
    return e.mutate(**{f"nx{x}": e[f"x{x}"].ifelse(e.sec, ibis.null("int64")).min().over(w)
                       for x in range(len(query.exclusions))})


def _sequential(e: ibis.Table, query: FunnelQuery) -> ibis.Table:
    n = len(query.steps)
    w = _following()
    e = _next_exclusions(e, query)
    null = ibis.null("int64")
    e = e.mutate(**{f"a{n}_{n}": e[f"m{n}"].ifelse(e.sec, null)},
                 **{f"ex{x}_{n}": e[f"m{n}"].ifelse(e[f"nx{x}"], null) for x, ex in enumerate(query.exclusions)
                    if ex.start == n})
    for k in range(n - 1, 0, -1):
        new = {f"a{k}_{k}": e[f"m{k}"].ifelse(e.sec, null)}
        for j in range(k + 1, n + 1):
            new[f"a{k}_{j}"] = e[f"m{k}"].ifelse(e[f"a{k + 1}_{j}"].min().over(w), null)
        for x, ex in enumerate(query.exclusions):
            if ex.start == k:
                new[f"ex{x}_{k}"] = e[f"m{k}"].ifelse(e[f"nx{x}"], null)
            elif ex.start > k:
                new[f"ex{x}_{k}"] = e[f"m{k}"].ifelse(e[f"ex{x}_{k + 1}"].min().over(w), null)
        e = e.mutate(**new)
    e = e.filter(e.m1)
    return e.select("customer_id", "event_id", "occurred_at", "sec", *(["attr"] if "attr" in e.columns else []),
                    **{f"t{j}": e[f"a1_{j}"] for j in range(1, n + 1)},
                    **{f"ex{x}": e[f"ex{x}_1"] for x in range(len(query.exclusions))})


def _strict(e: ibis.Table, query: FunnelQuery) -> ibis.Table:
    n = len(query.steps)
    w = _ordered()
    e = _next_exclusions(e, query)
    null = ibis.null("int64")
    times = {f"t{j}": e[f"m{j}"].lead(j - 1).over(w).fill_null(False).ifelse(e.sec.lead(j - 1).over(w), null)
             for j in range(2, n + 1)}
    ex = {f"ex{x}": e[f"nx{x}"] if x_.start == 1 else e[f"nx{x}"].lead(x_.start - 1).over(w)
          for x, x_ in enumerate(query.exclusions)}
    e = e.mutate(**times, **ex)
    e = e.filter(e.m1)
    return e.select("customer_id", "event_id", "occurred_at", "sec", *(["attr"] if "attr" in e.columns else []),
                    t1=e.sec, **{f"t{j}": e[f"t{j}"] for j in range(2, n + 1)},
                    **{f"ex{x}": e[f"ex{x}"] for x in range(len(query.exclusions))})


def _any(e: ibis.Table, query: FunnelQuery) -> ibis.Table:
    n = len(query.steps)
    w = _following()
    e = _next_exclusions(e, query)
    null = ibis.null("int64")
    times = {f"t{j}": e[f"m{j}"].ifelse(e.sec, null).min().over(w) for j in range(2, n + 1)}
    e = e.mutate(**times)
    e = e.filter(e.m1)
    exs = {f"ex{x}": e[f"nx{x}"] for x in range(len(query.exclusions))}  # counted from step 1
    return e.select("customer_id", "event_id", "occurred_at", "sec", *(["attr"] if "attr" in e.columns else []),
                    t1=e.sec, **{f"t{j}": e[f"t{j}"] for j in range(2, n + 1)}, **exs)


def _best(c: ibis.Table, query: FunnelQuery) -> ibis.Table:
    """Level of each start; excluded starts dropped; the best remaining start of each customer."""
    n = len(query.steps)
    deadline = c.sec + query.window
    done = [c[f"t{j}"].notnull() & (c[f"t{j}"] <= deadline) for j in range(2, n + 1)]
    level: Any = ibis.literal(1)
    acc: Any = ibis.literal(True)
    for d in done:
        acc = acc & d.fill_null(False)
        level = level + acc.cast("int64")
    c = c.mutate(level=level.cast("int64"))
    start = datetime.combine(query.since, datetime.min.time()) if query.since else None
    c = c.filter(c.occurred_at < _end(query))
    if start is not None:
        c = c.filter(c.occurred_at >= start)
    for x, ex in enumerate(query.exclusions):
        c = c.filter(~_excluded(c, x, ex, deadline))
    rank = ibis.row_number().over(ibis.window(group_by="customer_id", order_by=[ibis.desc("level"), *_ORDER]))
    c = c.mutate(_rank=rank)
    c = c.filter(c._rank == 0)
    keep = ["customer_id", "occurred_at", "sec", "level", *(["attr"] if "attr" in c.columns else [])]
    return c.select(*keep, **{f"d{j}": (c.level >= j).ifelse(c[f"t{j}"] - c.sec, ibis.null("int64"))
                              for j in range(2, n + 1)})


def _excluded(c: ibis.Table, x: int, ex: Exclusion, deadline: Any) -> Any:
    """An exclusion event after the chain's ``start`` step and before its ``end`` step (or the deadline)."""
    assert ex.end is not None
    nx = c[f"ex{x}"]
    reached = c.level >= ex.end
    limit_ok = reached.ifelse(nx < c[f"t{ex.end}"], nx <= deadline)
    return (c.level >= ex.start) & nx.notnull() & limit_ok.fill_null(False)


def _summaries(best: ibis.Table, query: FunnelQuery, by: list[str], grain: Grain | None,
               week_start: str) -> list[FunnelGroup]:
    n = len(query.steps)
    keys: dict[str, Any] = {b: best["attr"] if "attr" in best.columns else best[b] for b in by}
    if grain is not None:
        keys["period"] = truncate(best.occurred_at, grain, week_start)
    aggs: dict[str, Any] = {f"n{k}": (best.level >= k).cast("int64").sum() for k in range(1, n + 1)}
    for j in range(2, n + 1):
        d = best[f"d{j}"]
        low = 0
        for b, (_, edge) in enumerate(BUCKETS):
            cond = d.notnull() & (d >= low) if edge is None else d.notnull() & (d >= low) & (d < edge)
            aggs[f"b{j}_{b}"] = cond.cast("int64").sum()
            low = edge or low
    native = grain is None and _has_median(best)
    if native:
        aggs.update({f"med{j}": best[f"d{j}"].median() for j in range(2, n + 1)})
    counts = best.group_by(**keys).aggregate(**aggs) if keys else best.aggregate(**aggs)
    rows = counts.to_pyarrow().to_pylist()
    if native:
        medians = {(*(r[k] for k in keys), j): r[f"med{j}"] for r in rows for j in range(2, n + 1)}
    else:
        medians = _medians(best, keys, n) if grain is None else {}
    groups = [_group(r, list(keys), query, medians) for r in rows]
    return sorted(groups, key=lambda g: (tuple((v is None, str(v)) for _, v in g.group), g.period or date.min))


def _medians(best: ibis.Table, keys: Mapping[str, Any], n: int) -> dict[tuple[Any, ...], float | None]:
    """Exact medians of ``d{j}`` per group and step, with window functions every SQL engine has."""
    parts = []
    for j in range(2, n + 1):
        d = best[f"d{j}"]
        parts.append(best.filter(d.notnull()).select(**{k: v for k, v in keys.items()},
                                                     step=ibis.literal(j, "int64"), d=d))
    if not parts:
        return {}
    u = ibis.union(*parts) if len(parts) > 1 else parts[0]
    group = [*keys, "step"]
    u = u.mutate(_r=ibis.row_number().over(ibis.window(group_by=group, order_by="d")),
                 _n=u.d.count().over(ibis.window(group_by=group)))
    mid = u.filter((u._r == ((u._n - 1) / 2).floor()) | (u._r == (u._n / 2).floor()))
    agg = mid.group_by(group).aggregate(median=mid.d.cast("float64").mean())
    out = {}
    for r in agg.to_pyarrow().to_pylist():
        out[(*(r[k] for k in keys), r["step"])] = r["median"]
    return out


def _group(r: Mapping[str, Any], keys: list[str], query: FunnelQuery,
           medians: Mapping[tuple[Any, ...], float | None]) -> FunnelGroup:
    n = len(query.steps)
    counts = [int(r[f"n{k}"] or 0) for k in range(1, n + 1)]
    group_keys = [k for k in keys if k != "period"]
    key = tuple(r[k] for k in group_keys)
    steps = []
    for k in range(1, n + 1):
        prev = counts[k - 2] if k > 1 else counts[0]
        dist = tuple((BUCKETS[b][0], int(r[f"b{k}_{b}"] or 0)) for b in range(len(BUCKETS))) if k > 1 else ()
        steps.append(FunnelStep(
            k, query.steps[k - 1].label, counts[k - 1],
            wilson_interval(counts[k - 1], counts[0], query.confidence),
            wilson_interval(counts[k - 1], prev, query.confidence),
            prev - counts[k - 1], medians.get((*key, k)) if k > 1 else None, dist,
        ))
    period = r.get("period")
    group = tuple((query.by or k, v) for k, v in zip(group_keys, key, strict=True))
    return FunnelGroup(group, tuple(steps), period)


def _warnings(query: FunnelQuery, groups: Sequence[FunnelGroup]) -> tuple[str, ...]:
    out = []
    if not groups or all(g.steps[0].customers == 0 for g in groups):
        out.append("no customer had an event matching step 1 in this period")
    if _end(query) + timedelta(seconds=query.window) > query.now:
        out.append("customers who started within one window of now may still convert (their window is open)")
    return tuple(out)

