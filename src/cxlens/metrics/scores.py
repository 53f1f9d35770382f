"""Survey score runners: NPS, CSAT, CES and response counts.

Each runner is bound to a column of ``responses``; it says which aggregates the engine computes
(pushed down as one Ibis ``group_by().aggregate()``) and turns each aggregated row into a figure
with its interval, and two rows into a tested change.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import ibis

from cxlens.metrics.result import Change
from cxlens.metrics.runner import Estimate, Runner
from cxlens.stats import intervals as st


class ScoreRunner(Runner):
    """A runner over one score column of ``responses`` (rows where it is answered)."""

    table = "responses"


def _int(agg: Mapping[str, Any], key: str) -> int:
    value = agg.get(key)
    return 0 if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def _float(agg: Mapping[str, Any], key: str) -> float | None:
    value = agg.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


class NpsRunner(ScoreRunner):
    """Net Promoter Score.

    NPS = 100 × (promoters − detractors) / n on the 0–10 scale (promoters 9–10, passives 7–8,
    detractors 0–6), range −100…100. Interval: adjusted-Wald (add 3 to n and ¾ to promoters and
    detractors; variance p + d − (p − d)²). The adjustment pulls the interval towards 0, so at the
    extremes of tiny samples (say one detractor: NPS −100) it can exclude the observed NPS; the
    interval is then widened to include it. Change: z-test on the adjusted variances.
    """

    name = "nps"
    column = "nps"
    definition = __doc__ or ""

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        s = t[self.column]
        return {
            "n": s.count(),
            "promoters": (s >= 9).cast("int64").sum(),
            "detractors": (s <= 6).cast("int64").sum(),
        }

    def _est(self, agg: Mapping[str, Any], confidence: float) -> st.NpsEstimate:
        n, p, d = _int(agg, "n"), _int(agg, "promoters"), _int(agg, "detractors")
        return st.nps_interval(p, n - p - d, d, confidence)

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        e = self._est(agg, confidence)
        comps = (("promoters", e.promoters), ("passives", e.passives), ("detractors", e.detractors))
        if e.nps is None or e.ci_low is None or e.ci_high is None:
            return e.nps, e.ci_low, e.ci_high, e.n, comps
        return e.nps, min(e.ci_low, e.nps), max(e.ci_high, e.nps), e.n, comps

    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        d = st.nps_difference(self._est(prev, confidence), self._est(cur, confidence), confidence)
        prev_e = self._est(prev, confidence)
        return Change(None, prev_e.nps, prev_e.n, d.estimate, d.ci_low, d.ci_high, d.p_value,
                      bool(d.significant), "z-test on adjusted-Wald variances")


class _ProportionRunner(ScoreRunner):
    """A top-box share with a Wilson interval; changes by Newcombe's hybrid score interval."""

    @abstractmethod
    def threshold(self, t: ibis.Table) -> ibis.Value:
        """Which answers count as a success (top box)."""

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        s = t[self.column]
        return {"n": s.count(), "successes": self.threshold(t).cast("int64").sum(),
                "mean": s.mean(), "sd": s.std()}

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        n, x = _int(agg, "n"), _int(agg, "successes")
        p = st.wilson_interval(x, n, confidence)
        pct = None if p.value is None else 100 * p.value
        lo = None if p.ci_low is None else 100 * p.ci_low
        hi = None if p.ci_high is None else 100 * p.ci_high
        return pct, lo, hi, n, self._components(x, agg)

    def _components(self, x: int, agg: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        return (("satisfied", x), ("mean", _float(agg, "mean")))

    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        x1, n1, x0, n0 = _int(cur, "successes"), _int(cur, "n"), _int(prev, "successes"), _int(prev, "n")
        d = st.newcombe_difference(x1, n1, x0, n0, confidence)
        prev_pct = None if n0 == 0 else 100 * x0 / n0
        return Change(None, prev_pct, n0, _pct(d.estimate), _pct(d.ci_low), _pct(d.ci_high),
                      d.p_value, bool(d.significant), "Newcombe hybrid score interval")


def _pct(value: float | None) -> float | None:
    return None if value is None else 100 * value


class CsatRunner(_ProportionRunner):
    """Customer satisfaction.

    CSAT = % of answers at or above the top-box threshold (setting ``csat_top_box``; 4 on the
    default 1–5 scale: the top two boxes), with a Wilson score interval; the mean is reported too.
    Change: Newcombe's hybrid score interval for the difference of two proportions.
    """

    name = "csat"
    column = "csat"
    definition = __doc__ or ""

    def threshold(self, t: ibis.Table) -> ibis.Value:
        return t[self.column] >= int(self.settings["csat_top_box"])


class CesRunner(_ProportionRunner):
    """Customer effort score.

    Reported value: % of "easy" answers (Wilson interval) — the top two boxes when a high answer
    means easy (``ces_direction = higher_is_easier``; 6–7 on 1–7), the bottom two otherwise; the
    mean effort on the survey's scale is reported as ``mean`` with the scale's direction.
    """

    name = "ces"
    column = "ces"
    definition = __doc__ or ""

    def threshold(self, t: ibis.Table) -> ibis.Value:
        top = int(self.settings["ces_scale_max"])
        if self.settings["ces_direction"] == "higher_is_easier":
            return t[self.column] >= top - 1
        return t[self.column] <= 2

    def _components(self, x: int, agg: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        return (("easy", x), ("mean", _float(agg, "mean")),
                ("direction", self.settings["ces_direction"]))


class ResponsesRunner(ScoreRunner):
    """Response count: the number of survey responses (any question answered)."""

    name = "responses"
    column = "response_id"
    definition = __doc__ or ""

    def aggregates(self, t: ibis.Table) -> dict[str, ibis.Value]:
        return {"n": t[self.column].count()}

    def estimate(self, agg: Mapping[str, Any], confidence: float) -> Estimate:
        n = _int(agg, "n")
        return float(n), None, None, n, ()

    def change(self, cur: Mapping[str, Any], prev: Mapping[str, Any], confidence: float) -> Change:
        n1, n0 = _int(cur, "n"), _int(prev, "n")
        return Change(None, float(n0), n0, float(n1 - n0), None, None, None, False, "count difference")


SCORE_RUNNERS: tuple[type[Runner], ...] = (NpsRunner, CsatRunner, CesRunner, ResponsesRunner)
