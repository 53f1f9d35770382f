"""Journey analytics: journey definitions, window funnels, paths, stuck customers, pain points and
the data-driven journey map. See ``docs/journeys.md``.

>>> from cxlens.journey import run_funnel, pain_point_ranking, build_journey_map
>>> run_funnel(ws, "plans_page,web_checkout,stage:Onboarding", window="14d")       # doctest: +SKIP
>>> pain_point_ranking(ws, by="channel", since="2026-04-15", until="2026-05-05")   # doctest: +SKIP

The command line is ``cxlens journey`` (``cxlens.journey.cli``).
"""

from __future__ import annotations

from cxlens.journey.api import (
    build_journey_map,
    journey_of,
    pain_point_ranking,
    registry_for,
    run_funnel,
    stuck_customers,
    top_paths,
)
from cxlens.journey.common import Scope
from cxlens.journey.definition import (
    Journey,
    JourneyDiff,
    Segment,
    Stage,
    compare_journeys,
    default_journey,
    journey_from_dict,
    list_journeys,
    load_journey,
    save_journey,
)
from cxlens.journey.experience import PainPoint, PainPointResult, StageEmotion, TouchpointExperience
from cxlens.journey.funnel import Attribution, Exclusion, FunnelQuery, FunnelResult, Order
from cxlens.journey.map import JourneyMap, StageMap
from cxlens.journey.paths import PathResult, StuckResult
from cxlens.journey.registry import Registry, load_registry
from cxlens.journey.steps import Step

__all__ = [
    "Attribution",
    "Exclusion",
    "FunnelQuery",
    "FunnelResult",
    "Journey",
    "JourneyDiff",
    "JourneyMap",
    "Order",
    "PainPoint",
    "PainPointResult",
    "PathResult",
    "Registry",
    "Scope",
    "Segment",
    "Stage",
    "StageEmotion",
    "StageMap",
    "Step",
    "StuckResult",
    "TouchpointExperience",
    "build_journey_map",
    "compare_journeys",
    "default_journey",
    "journey_from_dict",
    "journey_of",
    "list_journeys",
    "load_journey",
    "load_registry",
    "pain_point_ranking",
    "registry_for",
    "run_funnel",
    "save_journey",
    "stuck_customers",
    "top_paths",
]
