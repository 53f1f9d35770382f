"""The touchpoint registry: where each touchpoint sits (stage, channel, direct) for one journey.

It merges the workspace's ``touchpoints`` reference table with a journey's own ``[touchpoints]``
overrides. Touchpoints in neither fall back to the ``stage`` column of their interactions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis

from cxlens.errors import UnknownNameError
from cxlens.journey.definition import Journey


@dataclass(frozen=True)
class TouchpointInfo:
    touchpoint: str
    stage: str | None
    channel: str | None
    direct: bool | None
    description: str | None = None


@dataclass(frozen=True)
class Registry:
    """Touchpoints known to the workspace and their place in ``journey``."""

    journey: Journey
    touchpoints: Mapping[str, TouchpointInfo]
    interactions: ibis.Table | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.touchpoints))

    def info(self, touchpoint: str) -> TouchpointInfo:
        try:
            return self.touchpoints[touchpoint]
        except KeyError:
            raise UnknownNameError(
                f"Unknown touchpoint '{touchpoint}'. The known touchpoints are: {', '.join(self.names)}. "
                f"Add it to the touchpoints table (cxlens import touchpoints FILE) or fix the spelling."
            ) from None

    def check_touchpoint(self, touchpoint: str) -> str:
        """``touchpoint`` if the reference table lists it or some interaction uses it, else an error."""
        if touchpoint in self.touchpoints:
            return touchpoint
        if self.interactions is not None and _used(self.interactions, touchpoint):
            return touchpoint
        known = sorted(set(self.names) | set(seen_touchpoints(self.interactions, self.touchpoints)))
        raise UnknownNameError(
            f"Unknown touchpoint '{touchpoint}'. The known touchpoints are: {', '.join(known) or '(none)'}. "
            f"Add it to the touchpoints table (cxlens import touchpoints FILE) or fix the spelling."
        )

    def check_stage(self, stage: str) -> str:
        return self.journey.stage(stage).name

    def stage_of(self, touchpoint: str) -> str | None:
        info = self.touchpoints.get(touchpoint)
        return info.stage if info else None

    def touchpoints_in(self, stage: str) -> tuple[str, ...]:
        self.check_stage(stage)
        return tuple(sorted(t for t, i in self.touchpoints.items() if i.stage == stage))

    def mapped(self) -> tuple[str, ...]:
        """Touchpoints whose stage is one of the journey's stages."""
        stages = set(self.journey.stage_names)
        return tuple(sorted(t for t, i in self.touchpoints.items() if i.stage in stages))

    def stage_expr(self, t: ibis.Table) -> ibis.Value:
        """The journey stage of each interaction: the registry's, else the event's own ``stage``."""
        mapping = {tp: i.stage for tp, i in self.touchpoints.items() if i.stage in self.journey.stage_names}
        own = t.stage.cast("string") if "stage" in t.columns else ibis.null("string")
        if not mapping:
            return own
        return t.touchpoint.substitute(mapping, else_=own)

    def in_stage(self, t: ibis.Table, stage: str) -> ibis.Value:
        """Interactions in ``stage`` (by the registry; unmapped touchpoints by their own column)."""
        stage = self.check_stage(stage)
        tps = list(self.touchpoints_in(stage))
        mapped = list(self.mapped())
        cond = t.touchpoint.isin(tps) if tps else ibis.literal(False)
        if "stage" in t.columns:
            unmapped = ~t.touchpoint.isin(mapped) if mapped else ibis.literal(True)
            cond = cond | (unmapped & (t.stage == stage))
        return cond


def load_registry(touchpoints: ibis.Table, interactions: ibis.Table | None, journey: Journey) -> Registry:
    """Read the (small) touchpoints table, add touchpoints seen only in interactions, apply overrides."""
    rows = touchpoints.select("touchpoint", "stage", "channel", "direct", "description").to_pyarrow().to_pylist()
    known = {r["touchpoint"]: TouchpointInfo(r["touchpoint"], r["stage"], r["channel"], r["direct"],
                                             r["description"]) for r in rows if r["touchpoint"]}
    for tp, stage in journey.touchpoints.items():
        old = known.get(tp, TouchpointInfo(tp, None, None, None))
        known[tp] = TouchpointInfo(tp, stage, old.channel, old.direct, old.description)
    return Registry(journey, dict(sorted(known.items())), interactions)


def _used(interactions: ibis.Table, touchpoint: str) -> bool:
    t = interactions
    return int(t.filter(t.touchpoint == touchpoint).limit(1).count().execute()) > 0


def seen_touchpoints(interactions: ibis.Table | None, known: Mapping[str, TouchpointInfo]) -> list[str]:
    """Touchpoints used by interactions that the reference table does not list."""
    if interactions is None:
        return []
    t = interactions
    if known:
        t = t.filter(~t.touchpoint.isin(list(known)))
    return [v for v in t.select("touchpoint").distinct().to_pyarrow().column(0).to_pylist() if v]
