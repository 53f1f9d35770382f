"""Score distributions: the share of every answer value (0–10 for NPS, 1–5 for CSAT...).

``nps_distribution``, ``csat_distribution`` and ``ces_distribution`` give one row per score value
(and per breakdown group and period): the share of answers with that value in % with a Wilson
interval, ``n`` = answers in the group, ``count`` = answers with that value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import ibis

from cxlens.errors import CxlensInputError
from cxlens.metrics import engine
from cxlens.metrics.period import DateRange
from cxlens.metrics.registry import MetricFunction
from cxlens.metrics.result import MetricQuery, MetricResult, MetricRow
from cxlens.metrics.scores import CesRunner, CsatRunner, NpsRunner, ScoreRunner
from cxlens.schema import table_spec
from cxlens.stats.intervals import wilson_interval


def _distribution(runner_cls: type[ScoreRunner]) -> MetricFunction:
    def run(tables: Mapping[str, ibis.Table], settings: Mapping[str, Any], query: MetricQuery) -> MetricResult:
        if query.compare is not None:
            raise CxlensInputError("A distribution has no comparison; drop 'compare'.")
        runner = runner_cls(settings)
        t = engine._base_table(tables, runner, query)
        window = DateRange.from_dates(query.since, query.until, query.now)
        cond = window.filter(t[table_spec(runner.table).time_column or ""])
        t = t.filter(cond) if cond is not None else t
        keys: dict[str, ibis.Value] = {b: t[b] for b in query.by}
        if query.grain is not None:
            keys[engine.PERIOD] = engine.truncate(t.submitted_at, query.grain, settings.get("week_start", "monday"))
        counts = t.group_by(**keys, score=t[runner.column]).aggregate(count=t.count()).to_pandas()
        return MetricResult(f"{runner.name}_distribution", __doc__ or "", query, tuple(_rows(counts, query)))
    return run


def _rows(counts: Any, query: MetricQuery) -> list[MetricRow]:
    group_cols = [*query.by, *([engine.PERIOD] if query.grain else [])]
    totals = counts.groupby(group_cols, dropna=False)["count"].transform("sum") if group_cols else counts["count"].sum()
    rows = []
    for rec, n in zip(counts.to_dict("records"), totals if group_cols else [totals] * len(counts)):
        p = wilson_interval(int(rec["count"]), int(n), query.confidence)
        rows.append(MetricRow(
            groups=tuple((b, engine._py(rec.get(b))) for b in query.by) + (("score", int(rec["score"])),),
            period=engine._as_date(rec.get(engine.PERIOD)) if query.grain else None,
            value=None if p.value is None else 100 * p.value,
            ci_low=None if p.ci_low is None else 100 * p.ci_low,
            ci_high=None if p.ci_high is None else 100 * p.ci_high,
            n=int(n), components=(("count", int(rec["count"])),),
        ))
    return sorted(rows, key=lambda r: (tuple(str(v) for _, v in r.groups[:-1]), r.period or date.min,
                                       r.groups[-1][1]))


DISTRIBUTIONS: dict[str, MetricFunction] = {
    "nps_distribution": _distribution(NpsRunner),
    "csat_distribution": _distribution(CsatRunner),
    "ces_distribution": _distribution(CesRunner),
}
