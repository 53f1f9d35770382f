"""Window funnels: ClickHouse-style vectors, literal tables, and a brute-force reference (Hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.journey.definition import default_journey
from cxlens.journey.funnel import Exclusion, FunnelQuery, customer_levels, funnel
from cxlens.journey.registry import load_registry
from cxlens.journey.steps import Step

from .reference import Event, reference_levels

BASE = datetime(2024, 1, 1)
NOW = datetime(2025, 1, 1)
TOUCHPOINTS = ("A", "B", "C", "D", "c1", "c2", "c3", "c4")


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def tables(con: ibis.BaseBackend, events: list[Event]) -> tuple[ibis.Table, object]:
    df = pd.DataFrame({
        "event_id": pd.Series([e.event_id for e in events], dtype="string"),
        "customer_id": pd.Series([e.customer for e in events], dtype="string"),
        "occurred_at": pd.Series([BASE + timedelta(seconds=e.sec) for e in events], dtype="datetime64[us]"),
        "touchpoint": pd.Series([e.touchpoint for e in events], dtype="string"),
        "channel": pd.Series(["web" if e.touchpoint in "AB" else "app" for e in events], dtype="string"),
        "stage": pd.Series([None] * len(events), dtype="string"),
    })
    t = con.create_table("interactions", df, overwrite=True)
    tp = con.create_table("touchpoints", pd.DataFrame({
        "touchpoint": list(TOUCHPOINTS), "stage": ["Awareness"] * 4 + ["Consideration"] * 4,
        "channel": ["web"] * 8, "direct": [True] * 8, "description": [""] * 8}), overwrite=True)
    return t, load_registry(tp, t, default_journey())


def levels(con: ibis.BaseBackend, events: list[Event], steps: str, window: str = "1h", order: str = "sequential",
           exclude: object = ()) -> dict[str, int]:
    t, reg = tables(con, events)
    q = FunnelQuery.build(steps, now=NOW, window=window, order=order, exclude=exclude)
    df = customer_levels(t, reg, q).to_pandas()
    return dict(zip(df.customer_id, df.level.astype(int), strict=True))


def seq(*touchpoints: str, customer: str = "u", gap: int = 1) -> list[Event]:
    return [Event(customer, f"e{i:02d}", (i + 1) * gap, tp) for i, tp in enumerate(touchpoints)]


# ClickHouse 00632_aggregation_window_funnel and PostHog funnel tests, rewritten as touchpoints
@pytest.mark.parametrize(("events", "steps", "order", "expected"), [
    (seq("c1", "c2", "c3", "c4"), "c1,c2,c3", "sequential", 3),
    (seq("c4", "c3", "c2", "c1"), "c1,c2,c3", "sequential", 1),
    (seq("c1", "c3", "c2"), "c1,c2,c3", "sequential", 2),
    (seq("c2", "c3"), "c1,c2,c3", "sequential", None),  # never started: not in the funnel
    (seq("c1", "c1", "c2", "c3"), "c1,c2,c3", "sequential", 3),  # repeated step 1 (dedup: later start)
    (seq("c1", "c2", "c2", "c3"), "c1,c2,c3", "sequential", 3),  # repeated step 2 is harmless
    (seq("c1"), "c1,c1", "sequential", 1),  # one event never fills two steps
    (seq("c1", "c1"), "c1,c1", "sequential", 2),
    # strict order: A->B->D->C stops at D (ClickHouse strict_order)
    (seq("c1", "c2", "c4", "c3"), "c1,c2,c3", "strict", 2),
    (seq("c1", "c2", "c3"), "c1,c2,c3", "strict", 3),
    (seq("c1", "c1", "c2", "c3"), "c1,c2,c3", "strict", 3),  # the second c1 starts a clean chain
    (seq("c1", "c2", "c2", "c3"), "c1,c2,c3", "strict", 2),  # a repeated step interrupts (dedup)
    # any order after step 1
    (seq("c1", "c3", "c2"), "c1,c2,c3", "any", 3),
    (seq("c1", "c3"), "c1,c2,c3", "any", 1),
    (seq("c2", "c1", "c3"), "c1,c2,c3", "any", 1),
])
def test_window_funnel_vectors(con: ibis.BaseBackend, events: list[Event], steps: str, order: str,
                               expected: int | None) -> None:
    assert levels(con, events, steps, order=order).get("u") == expected


def test_window_is_inclusive_and_measured_from_step_one(con: ibis.BaseBackend) -> None:
    events = seq("c1", "c2", "c3", gap=10)  # at 10, 20, 30 s
    assert levels(con, events, "c1,c2,c3", window="20s")["u"] == 3
    assert levels(con, events, "c1,c2,c3", window="19s")["u"] == 2
    assert levels(con, events, "c1,c2,c3", window="9s")["u"] == 1


def test_equal_timestamps_are_ordered_by_event_id(con: ibis.BaseBackend) -> None:
    same = [Event("u", "e2", 5, "c2"), Event("u", "e1", 5, "c1")]
    assert levels(con, same, "c1,c2")["u"] == 2  # e1 (c1) comes before e2 (c2)
    flipped = [Event("u", "e1", 5, "c2"), Event("u", "e2", 5, "c1")]
    assert levels(con, flipped, "c1,c2")["u"] == 1


def test_best_chain_wins_over_first_start(con: ibis.BaseBackend) -> None:
    # the first c1 has no c2 within 5 s; the second one converts
    events = [Event("u", "e1", 0, "c1"), Event("u", "e2", 100, "c1"), Event("u", "e3", 103, "c2")]
    assert levels(con, events, "c1,c2", window="5s")["u"] == 2


def test_exclusion_removes_the_customer(con: ibis.BaseBackend) -> None:
    events = seq("A", "D", "B") + seq("A", "B", "D", customer="v")
    got = levels(con, events, "A,B", exclude="D")
    assert got == {"v": 2}  # u did D between A and B; v did it afterwards


def test_literal_funnel_table(con: ibis.BaseBackend) -> None:
    # 10 customers start at A; 6 reach B (after 60, 120, ..., 360 s); 3 of them reach C
    events = []
    for i in range(10):
        events.append(Event(f"u{i}", "e1", 0, "A"))
        if i < 6:
            events.append(Event(f"u{i}", "e2", 60 * (i + 1), "B"))
        if i < 3:
            events.append(Event(f"u{i}", "e3", 60 * (i + 1) + 86400, "C"))
    t, reg = tables(con, events)
    res = funnel({"interactions": t}, reg, FunnelQuery.build("A,B,C", now=NOW, window="2d"))
    rows = res.to_records()
    assert [r["customers"] for r in rows] == [10, 6, 3]
    assert [r["drop_off"] for r in rows] == [0, 4, 3]
    assert rows[1]["conversion"] == pytest.approx(0.6)
    assert rows[2]["from_previous"] == pytest.approx(0.5)
    # Wilson 95% for 6/10 (Newcombe 1998, method 3): 0.3127 .. 0.8318
    assert rows[1]["ci_low"] == pytest.approx(0.3127, abs=1e-4)
    assert rows[1]["ci_high"] == pytest.approx(0.8318, abs=1e-4)
    assert rows[1]["median_seconds"] == pytest.approx(210.0)  # median of 60..360
    assert rows[2]["median_seconds"] == pytest.approx(86400 + 120.0)
    dist = res.groups[0].steps[1].distribution
    assert dict(dist)["1m-1h"] == 6


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"steps": "A"}, "at least 2 steps"),
    ({"steps": "A,B", "window": "0d"}, "longer than zero"),
    ({"steps": "A,B", "window": "-3d"}, "duration"),
    ({"steps": "A,B", "order": "loose"}, "sequential, strict, any"),
    ({"steps": "A,B,B", "order": "any"}, "different"),
    ({"steps": "A,B", "since": "2024-02-01", "until": "2024-01-01"}, "swap"),
])
def test_bad_queries(kwargs: dict, message: str) -> None:
    with pytest.raises(CxlensInputError, match=message):
        FunnelQuery.build(now=NOW, **kwargs)


def test_unknown_touchpoint_and_stage_list_the_known_ones(con: ibis.BaseBackend) -> None:
    t, reg = tables(con, seq("A", "B"))
    with pytest.raises(UnknownNameError, match="known touchpoints are: A, B, C"):
        funnel({"interactions": t}, reg, FunnelQuery.build("A,web_chekout", now=NOW))
    with pytest.raises(UnknownNameError, match="stages are: Awareness, Consideration"):
        funnel({"interactions": t}, reg, FunnelQuery.build("A,stage:Buying", now=NOW))


def test_no_events_gives_zero_counts_and_a_warning(con: ibis.BaseBackend) -> None:
    t, reg = tables(con, seq("B", "C"))
    res = funnel({"interactions": t}, reg, FunnelQuery.build("A,B", now=NOW))
    assert res.counts() == [0, 0]
    assert any("step 1" in w for w in res.warnings)


event_lists = st.lists(
    st.tuples(st.sampled_from(["u1", "u2", "u3"]), st.integers(0, 30), st.sampled_from(["A", "B", "C", "D"])),
    min_size=0, max_size=18,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=event_lists, steps=st.lists(st.sampled_from(["A", "B", "C"]), min_size=2, max_size=4),
       window=st.integers(1, 25), order=st.sampled_from(["sequential", "strict", "any"]),
       exclude=st.booleans(), span=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       ids=st.randoms(use_true_random=False))
def test_funnel_equals_brute_force_reference(con: ibis.BaseBackend, raw: list, steps: list[str], window: int,
                                             order: str, exclude: bool, span: tuple[int, int], ids: object) -> None:
    if order == "any" and len(set(steps[1:])) != len(steps[1:]):
        steps = ["A", "B", "C"][: len(steps)]
    numbers = list(range(len(raw)))
    ids.shuffle(numbers)  # type: ignore[attr-defined]
    events = [Event(c, f"e{numbers[i]:03d}", s, tp) for i, (c, s, tp) in enumerate(raw)]
    start = 1 if order == "any" else min(span[0], len(steps) - 1)
    end = min(start + span[1], len(steps))
    exclusion = ("D", start, end) if exclude else None
    t, reg = tables(con, events)
    q = FunnelQuery.build(steps, now=NOW, window=f"{window}s", order=order,
                          exclude=[Exclusion(Step.parse("D"), start, end)] if exclude else ())
    df = customer_levels(t, reg, q).to_pandas()
    got = {r.customer_id: (int(r.level), tuple(None if pd.isna(getattr(r, f"d{j}")) else int(getattr(r, f"d{j}"))
                                              for j in range(2, len(steps) + 1)))
           for r in df.itertuples()}
    assert got == reference_levels(events, steps, window, order, exclusion)
