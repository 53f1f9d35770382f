"""Paths, Sankey data, stuck customers and segment journeys on a hand-made workspace (literal tables)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import cxlens
from cxlens.demo.events import touchpoints_table
from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.journey import Journey, Segment, Stage, default_journey, run_funnel, stuck_customers, top_paths

BASE = datetime(2026, 1, 1)
NOW = BASE + timedelta(days=30)
EVENTS = [  # customer, day offset, touchpoint
    ("u1", 0, "search_ad"), ("u1", 1, "plans_page"), ("u1", 1 + 1 / 24, "plans_page"), ("u1", 2, "web_checkout"),
    ("u1", 2 + 1 / 1440, "welcome_email"),
    ("u2", 0, "search_ad"), ("u2", 3, "plans_page"),
    ("u3", 0, "social_media"), ("u3", 5, "plans_page"), ("u3", 6, "app_checkout"),
    ("u4", 10, "plans_page"),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cxlens.Workspace]:
    workspace = cxlens.init(tmp_path_factory.mktemp("paths") / "ws")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    workspace.import_data("touchpoints", touchpoints_table(), now=now)
    workspace.import_data("customers", pa.table({"customer_id": ["u1", "u2", "u3", "u4"],
                                                 "segment": ["smb", "consumer", "smb", "consumer"]}), now=now)
    workspace.import_data("interactions", pa.table({
        "event_id": [f"e{i:02d}" for i in range(len(EVENTS))],
        "customer_id": [c for c, _, _ in EVENTS],
        "occurred_at": [(BASE + timedelta(days=d)).isoformat() for _, d, _ in EVENTS],
        "touchpoint": [t for _, _, t in EVENTS],
        "channel": ["web" if t != "app_checkout" else "app" for _, _, t in EVENTS],
    }), now=now)
    yield workspace
    workspace.close()


def test_paths_after_a_touchpoint(ws: cxlens.Workspace) -> None:
    res = top_paths(ws, "plans_page", depth=2, now=NOW)
    assert res.customers == 4
    assert [(p.touchpoints, p.customers) for p in res.paths] == [
        (("plans_page", "(end)"), 2),
        (("plans_page", "app_checkout", "(end)"), 1),
        (("plans_page", "web_checkout", "welcome_email"), 1),
    ]
    assert {(lk.source, lk.target, lk.customers) for lk in res.links} == {
        ("0:plans_page", "1:(end)", 2), ("0:plans_page", "1:app_checkout", 1), ("0:plans_page", "1:web_checkout", 1),
        ("1:app_checkout", "2:(end)", 1), ("1:web_checkout", "2:welcome_email", 1)}
    assert {n.id: n.customers for n in res.nodes}["0:plans_page"] == 4


def test_repeats_collapse_unless_kept(ws: cxlens.Workspace) -> None:
    kept = top_paths(ws, "plans_page", depth=2, now=NOW, collapse=False)
    assert ("plans_page", "plans_page", "web_checkout") in [p.touchpoints for p in kept.paths]


def test_paths_before_a_touchpoint(ws: cxlens.Workspace) -> None:
    res = top_paths(ws, "web_checkout", direction="before", depth=3, now=NOW)
    assert [(p.touchpoints, p.customers) for p in res.paths] == [
        (("(start)", "search_ad", "plans_page", "web_checkout"), 1)]
    assert {(lk.source, lk.target) for lk in res.links} == {
        ("-3:(start)", "-2:search_ad"), ("-2:search_ad", "-1:plans_page"), ("-1:plans_page", "0:web_checkout")}


def test_paths_bad_input(ws: cxlens.Workspace) -> None:
    with pytest.raises(UnknownNameError, match="known touchpoints are: account_login"):
        top_paths(ws, "plan_page", now=NOW)
    with pytest.raises(CxlensInputError, match="'direction'"):
        top_paths(ws, "plans_page", direction="sideways", now=NOW)


def test_stuck_customers(ws: cxlens.Workspace) -> None:
    res = stuck_customers(ws, 21, now=NOW)
    assert [(c.customer_id, c.stage, round(c.days_in_stage, 3)) for c in res.customers] == [
        ("u1", "Onboarding", round(28 - 1 / 1440, 3)), ("u2", "Consideration", 27.0), ("u3", "Purchase", 24.0)]
    summary = {s.stage: (s.customers, s.stuck) for s in res.stages}
    assert summary["Consideration"] == (2, 1)  # u4 entered 20 days ago: not stuck yet
    assert summary["Purchase"] == (1, 1)
    assert summary["Awareness"] == (0, 0)
    only = stuck_customers(ws, 21, stage="Purchase", now=NOW)
    assert [c.customer_id for c in only.customers] == ["u3"]
    with pytest.raises(CxlensInputError, match="'days'"):
        stuck_customers(ws, 0, now=NOW)


def test_segment_journey_and_breakdowns(ws: cxlens.Workspace) -> None:
    smb = Journey("smb", default_journey().stages, segment=Segment("segment", ("smb",)))
    res = run_funnel(ws, "plans_page,stage:Purchase", journey=smb, now=NOW)
    assert res.counts() == [2, 2]  # u1 and u3
    by_segment = run_funnel(ws, "plans_page,stage:Purchase", by="segment", now=NOW)
    assert {g.group: [s.customers for s in g.steps] for g in by_segment.groups} == {
        (("segment", "consumer"),): [2, 0], (("segment", "smb"),): [2, 2]}
    by_channel = run_funnel(ws, "search_ad,plans_page", by="channel", now=NOW)
    assert [(g.group, [s.customers for s in g.steps]) for g in by_channel.groups] == [((("channel", "web"),), [2, 2])]


def test_stage_steps_and_filters(ws: cxlens.Workspace) -> None:
    res = run_funnel(ws, ["stage:Awareness", "touchpoint=plans_page&channel=web", "stage:Onboarding"],
                     window="30d", now=NOW)
    assert res.counts() == [3, 3, 1]
    with pytest.raises(UnknownNameError, match="interactions column 'colour'"):
        run_funnel(ws, "search_ad,colour=red", now=NOW)


def test_save_and_use_a_journey(ws: cxlens.Workspace, tmp_path: Path) -> None:
    from cxlens.journey import save_journey

    j = Journey("short", (Stage("Awareness"), Stage("Purchase")), {"plans_page": "Awareness"})
    save_journey(ws.path, j)
    res = run_funnel(ws, "stage:Awareness,stage:Purchase", journey="short", now=NOW)
    assert res.counts() == [4, 2]
