"""The demo company's broken web checkout is found by the pain-point ranking, the funnel trend and the map."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import cxlens
from cxlens.journey import build_journey_map, pain_point_ranking, run_funnel

from .conftest import DEMO_NOW

Demo = tuple[cxlens.Workspace, dict[str, Any]]


def window(truths: dict[str, Any]) -> tuple[date, date, dict[str, Any]]:
    broken = truths["planted"]["broken_touchpoint"]
    start = datetime.fromisoformat(broken["start"]).date()
    end = datetime.fromisoformat(broken["end"]).date() - timedelta(days=1)  # the last day inside [start, end)
    return start, end, broken


def test_broken_checkout_tops_the_pain_points_of_its_period_and_channel(demo: Demo) -> None:
    ws, truths = demo
    start, end, broken = window(truths)
    res = pain_point_ranking(ws, by="channel", since=start, until=end, now=DEMO_NOW, min_responses=5)
    top = res.top(group="web")
    assert top is not None and top.rank == 1
    assert top.experience.touchpoint == broken["touchpoint"] == "web_checkout"
    assert top.experience.stage == broken["stage"]
    # the designed drop-off inside the window is 70%; the observed one is within its interval
    assert top.experience.drop_off.ci_low <= broken["drop_off_inside"] <= top.experience.drop_off.ci_high
    assert top.experience.evidence and all(c.sentiment <= -0.05 for c in top.experience.evidence)
    overall = pain_point_ranking(ws, since=start, until=end, now=DEMO_NOW, min_responses=5)
    assert overall.pain_points[0].experience.touchpoint == "web_checkout"


def test_outside_the_window_the_checkout_is_no_pain_point(demo: Demo) -> None:
    ws, truths = demo
    start, _, broken = window(truths)
    res = pain_point_ranking(ws, since=start - timedelta(days=150), until=start - timedelta(days=1), now=DEMO_NOW)
    web = next(e for e in res.touchpoints if e.touchpoint == "web_checkout")
    assert web.drop_off.ci_low <= broken["drop_off_outside"] <= web.drop_off.ci_high
    assert "web_checkout" not in [p.experience.touchpoint for p in res.pain_points]


def test_funnel_trend_shows_the_drop(demo: Demo) -> None:
    ws, truths = demo
    start, end, broken = window(truths)
    res = run_funnel(ws, ["web_checkout", "stage:Onboarding"], window="14d", grain="week",
                     since=start - timedelta(days=56), until=end + timedelta(days=56), now=DEMO_NOW)
    weeks = {g.period: g.steps[1].from_previous for g in res.trend}
    inside = [weeks[w] for w in weeks if start <= w and w + timedelta(days=6) <= end]
    outside = [weeks[w] for w in weeks if w + timedelta(days=6) < start or w > end]
    assert inside and outside
    assert max(p.value for p in inside) < min(p.value for p in outside)
    assert all(p.ci_high < broken["conversion_outside"] for p in inside)
    whole_in = run_funnel(ws, ["web_checkout", "stage:Onboarding"], window="14d", since=start, until=end,
                          now=DEMO_NOW).groups[0].steps[1].from_previous
    assert whole_in.ci_low <= broken["conversion_inside"] <= whole_in.ci_high


def test_journey_map_shows_the_pain_point_and_is_self_contained(demo: Demo) -> None:
    ws, truths = demo
    start, end, _ = window(truths)
    m = build_journey_map(ws, since=start, until=end, now=DEMO_NOW, min_responses=5)
    stages = {s.stage: s for s in m.stages}
    assert list(stages) == truths["journey"]["stages"]
    purchase = stages["Purchase"]
    assert [p.experience.touchpoint for p in purchase.pain_points] == ["web_checkout"]
    assert {t.touchpoint for t in purchase.touchpoints} == {"web_checkout", "app_checkout", "phone_order",
                                                            "store_signup"}
    assert stages["Advocacy"].conversion is None
    assert purchase.conversion is not None and purchase.conversion.value < stages["Consideration"].conversion.value
    html = m.to_html()
    assert "<svg" in html and "web_checkout" in html
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", html), "the page must load nothing from outside"
    data = m.to_dict()
    assert data["stages"][2]["pain_points"][0]["touchpoint"] == "web_checkout"
