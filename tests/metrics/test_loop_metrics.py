"""Closed-loop metrics on a hand-made ``cases`` table, with figures computed by hand and by independent formulas."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import cxlens
from conftest import NOW
from cxlens.metrics import MetricQuery, metric_names, run_metric

CUSTOMERS = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4", "C5"],
    "segment": ["smb", "smb", "enterprise", "enterprise", "consumer"],
})

RESPONSES = pd.DataFrame.from_records([
    # the detractor answers that opened cases
    ("R1", "2026-01-05T10:00:00Z", "C1", 2),
    ("R2", "2026-01-06T10:00:00Z", "C2", 5),
    ("R3", "2026-01-07T10:00:00Z", "C3", 6),
    ("R4", "2026-01-08T10:00:00Z", "C4", 9),   # a promoter: its case is no detractor case
    ("R5", "2026-02-02T10:00:00Z", "C5", 0),
    # later answers
    ("R6", "2026-01-20T10:00:00Z", "C1", 8),   # C1's next answer after K1: recovered
    ("R7", "2026-03-01T10:00:00Z", "C1", 3),   # not the next one: ignored
    ("R8", "2026-01-06T11:00:00Z", "C2", 10),  # before K2 was opened (12:00): ignored
    ("R9", "2026-02-10T10:00:00Z", "C2", 6),   # C2's next answer: still a detractor
    ("R10", "2026-02-15T10:00:00Z", "C5", 9),  # C5 answers twice at the same instant:
    ("R11", "2026-02-15T10:00:00Z", "C5", 4),  # the lower score counts
    ("R12", "2026-02-16T10:00:00Z", "C5", None),  # no NPS: not an NPS answer
], columns=["response_id", "submitted_at", "customer_id", "nps"])

CASE_COLUMNS = ["case_id", "opened_at", "customer_id", "owner", "team", "priority", "status", "acknowledged_at",
                "resolved_at", "closed_at", "resolve_due_at", "ack_business_hours", "close_business_hours",
                "customer_contacted", "source_table", "source_id"]
CASES = pd.DataFrame.from_records([
    ("K1", "2026-01-05T12:00:00Z", "C1", "ann", "support", "high", "closed", "2026-01-05T13:00:00Z",
     "2026-01-07T10:00:00Z", "2026-01-07T12:00:00Z", "2026-01-08T12:00:00Z", 1.0, 10.0, "true", "responses", "R1"),
    ("K2", "2026-01-06T12:00:00Z", "C2", "ann", "support", "normal", "closed", "2026-01-06T15:00:00Z",
     "2026-01-12T10:00:00Z", "2026-01-12T11:00:00Z", "2026-01-09T12:00:00Z", 3.0, 30.0, "false", "responses", "R2"),
    ("K3", "2026-01-07T12:00:00Z", "C3", "bob", "success", "urgent", "resolved", "2026-01-07T14:00:00Z",
     "2026-01-08T12:00:00Z", None, "2026-01-08T12:00:00Z", 2.0, None, "true", "responses", "R3"),
    ("K4", "2026-01-08T12:00:00Z", "C4", "bob", "success", "low", "acknowledged", "2026-01-08T17:00:00Z",
     None, None, "2026-01-15T12:00:00Z", 5.0, None, None, "responses", "R4"),
    ("K5", "2026-02-03T12:00:00Z", None, "ann", "support", "high", "Closed", "2026-02-03T12:30:00Z",
     None, None, None, 0.5, 4.0, "yes", "responses", "R5"),
    ("K6", "2026-02-05T12:00:00Z", "C1", "bob", "support", "normal", "new", None,
     None, None, "2026-02-10T12:00:00Z", None, None, "false", "tickets", "T1"),
    ("K7", "2026-02-20T12:00:00Z", "C4", "ann", "success", "normal", "closed", "2026-02-20T16:00:00Z",
     None, "2026-02-21T12:00:00Z", "2026-02-22T12:00:00Z", 4.0, 8.0, "true", None, None),
], columns=CASE_COLUMNS)

LOOP_METRICS = ("closed_loop_rate", "time_to_acknowledge", "time_to_close", "sla_attainment", "recovery_rate")


@pytest.fixture(scope="module")
def loop_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cxlens.Workspace]:
    ws = cxlens.init(tmp_path_factory.mktemp("loop") / "ws")
    for table, frame in (("customers", CUSTOMERS), ("responses", RESPONSES), ("cases", CASES)):
        report = ws.import_data(table, frame, now=NOW)
        assert report.accepted == len(frame) and report.rejected == 0
    try:
        yield ws
    finally:
        ws.close()


def records(ws: cxlens.Workspace, metric: str, **options: object) -> list[dict]:
    return ws.metric(metric, now=NOW, **options).to_records()


def wilson(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval, written out independently of cxlens.stats."""
    z = sps.norm.ppf(0.5 + confidence / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def test_registered_and_listed() -> None:
    assert set(LOOP_METRICS) <= set(metric_names())


def test_closed_loop_rate(loop_ws: cxlens.Workspace) -> None:
    # Closed: K1, K2, K7 (closed_at) and K5 (status 'Closed'); contacted among them: K1, K5, K7.
    [row] = records(loop_ws, "closed_loop_rate")
    assert (row["closed_loop"], row["cases"], row["closed"], row["n"]) == (3, 7, 4, 7)
    assert row["value"] == pytest.approx(100 * 3 / 7)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(3, 7), abs=1e-6)
    by_owner = {r["owner"]: r for r in records(loop_ws, "closed_loop_rate", by="owner")}
    assert (by_owner["ann"]["closed_loop"], by_owner["ann"]["n"], by_owner["ann"]["value"]) == (3, 4, 75.0)
    assert (by_owner["bob"]["closed_loop"], by_owner["bob"]["n"], by_owner["bob"]["value"]) == (0, 3, 0.0)


def test_closed_loop_rate_by_month_with_comparison(loop_ws: cxlens.Workspace) -> None:
    rows = records(loop_ws, "closed_loop_rate", grain="month", since="2026-01-01", until="2026-02-28",
                   compare="previous")
    jan, feb = rows
    assert (jan["period"], jan["closed_loop"], jan["n"], jan["value"]) == ("2026-01-01", 1, 4, 25.0)
    assert (feb["period"], feb["closed_loop"], feb["n"]) == ("2026-02-01", 2, 3)
    assert feb["value"] == pytest.approx(200 / 3)
    assert (feb["previous_value"], feb["previous_n"]) == (25.0, 4)
    assert feb["change"] == pytest.approx(200 / 3 - 25)
    [since_feb] = records(loop_ws, "closed_loop_rate", since="2026-02-01")
    assert (since_feb["closed_loop"], since_feb["n"]) == (2, 3)


def test_time_to_acknowledge(loop_ws: cxlens.Workspace) -> None:
    hours = np.array([1.0, 3.0, 2.0, 5.0, 0.5, 4.0])  # K1-K5 and K7; K6 is not acknowledged
    [row] = records(loop_ws, "time_to_acknowledge")
    assert (row["n"], row["acknowledged"], row["cases"]) == (6, 6, 7)
    assert row["value"] == pytest.approx(15.5 / 6)
    low, high = sps.t.interval(0.95, df=5, loc=hours.mean(), scale=hours.std(ddof=1) / math.sqrt(6))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((max(0.0, low), high), abs=1e-6)
    assert row["median_hours"] == 2.5            # (2 + 3) / 2
    assert row["p90_hours"] == pytest.approx(4.5)  # 4 + 0.5 × (5 − 4)
    # n = 6 at 95%: 2·P(Bin(6, ½) ≤ 0) = 1/32 ≤ 0.05 < 2·P(≤ 1) = 14/64, so ranks 1 and 6.
    assert (row["median_ci_low"], row["median_ci_high"]) == (0.5, 5.0)
    by_team = {r["team"]: r for r in records(loop_ws, "time_to_acknowledge", by="team")}
    assert by_team["support"]["value"] == pytest.approx(1.5)     # K1 1, K2 3, K5 0.5 (K6 none)
    assert by_team["success"]["value"] == pytest.approx(11 / 3)  # K3 2, K4 5, K7 4


def test_time_to_close(loop_ws: cxlens.Workspace) -> None:
    [row] = records(loop_ws, "time_to_close")
    assert (row["n"], row["closed"], row["value"], row["median_hours"]) == (4, 4, 13.0, 9.0)
    rows = records(loop_ws, "time_to_close", grain="month")
    assert [(r["period"], r["n"], r["value"]) for r in rows] == [("2026-01-01", 2, 20.0), ("2026-02-01", 2, 6.0)]


def test_sla_attainment(loop_ws: cxlens.Workspace) -> None:
    # Resolved with a due time: K1 (in time), K2 (late), K3 (exactly at the due time: in time),
    # K7 (closed, no resolved_at: closing counts, in time). K5 has no times, K4/K6 are open.
    [row] = records(loop_ws, "sla_attainment")
    assert (row["within_sla"], row["resolved_with_sla"], row["cases"], row["value"]) == (3, 4, 7, 75.0)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(3, 4), abs=1e-6)
    by_priority = {r["priority"]: (r["within_sla"], r["n"]) for r in records(loop_ws, "sla_attainment", by="priority")}
    assert by_priority == {"high": (1, 1), "normal": (1, 2), "urgent": (1, 1), "low": (0, 0)}


def test_recovery_rate(loop_ws: cxlens.Workspace) -> None:
    # Detractor cases: K1 (R1: 2), K2 (R2: 5), K3 (R3: 6), K5 (R5: 0, customer taken from R5).
    # Next answers: K1 -> R6 8 (recovered), K2 -> R9 6, K3 -> none (awaiting), K5 -> min(9, 4) = 4.
    [row] = records(loop_ws, "recovery_rate")
    assert (row["recovered"], row["answered_again"], row["detractor_cases"], row["awaiting"]) == (1, 3, 4, 1)
    assert row["value"] == pytest.approx(100 / 3)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(1, 3), abs=1e-6)
    by_segment = {r["segment"]: (r["recovered"], r["n"], r["detractor_cases"])
                  for r in records(loop_ws, "recovery_rate", by="segment")}
    assert by_segment == {"smb": (1, 2, 2), "enterprise": (0, 0, 1), "consumer": (0, 1, 1)}
    rows = records(loop_ws, "recovery_rate", grain="month", compare="previous")
    assert [(r["period"], r["recovered"], r["n"]) for r in rows] == [("2026-01-01", 1, 2), ("2026-02-01", 0, 1)]
    assert (rows[1]["previous_value"], rows[1]["previous_n"]) == (50.0, 2)


def test_filters_and_empty_slices(loop_ws: cxlens.Workspace) -> None:
    [row] = records(loop_ws, "closed_loop_rate", where={"priority": ["high", "urgent"]})
    assert (row["closed_loop"], row["n"]) == (2, 3)  # K1, K5 closed and contacted; K3 only resolved
    [empty] = records(loop_ws, "time_to_close", since="2027-01-01", until="2027-01-31")
    assert empty["n"] == 0 and empty["value"] is None and "no cases" in empty["warnings"]


def copy_to_sqlite(ws: cxlens.Workspace, path: Path) -> dict[str, ibis.Table]:
    """The tables in a real SQLite database, typed as in the warehouse (nulls as SQL NULL)."""
    con = ibis.sqlite.connect(str(path))
    out = {}
    for name in ("cases", "responses", "customers"):
        source = ws.table(name)
        frame = source.to_pandas()
        con.create_table(name, schema=source.schema(), overwrite=True)
        con.insert(name, frame.astype(object).where(frame.notna(), None))
        out[name] = con.table(name)
    return out


@pytest.fixture(scope="module")
def loop_sqlite(loop_ws: cxlens.Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ibis.Table]:
    return copy_to_sqlite(loop_ws, tmp_path_factory.mktemp("lite") / "copy.sqlite")


@pytest.mark.parametrize("metric", LOOP_METRICS)
@pytest.mark.parametrize("options", [
    {},
    {"by": ("owner",)},
    {"by": ("segment",), "grain": "month"},
    {"grain": "month", "since": "2026-01-01", "until": "2026-02-28", "compare": "previous"},
    {"where": {"team": ["support"]}, "compare": "previous", "since": "2026-02-01", "until": "2026-02-28"},
])
def test_duckdb_and_sqlite_agree(loop_ws: cxlens.Workspace, loop_sqlite: dict[str, ibis.Table], metric: str,
                                 options: dict) -> None:
    lite = loop_sqlite
    query = MetricQuery.build(metric, now=NOW, **options)
    duck = run_metric({n: loop_ws.table(n) for n in ("cases", "responses", "customers")}, loop_ws.settings, query)
    assert duck.to_records() == run_metric(lite, loop_ws.settings, query).to_records()
    assert duck.rows


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=12), seed=st.integers(0, 99))
def test_engines_agree_on_random_durations(tmp_path_factory: pytest.TempPathFactory, hours: list[float],
                                           seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = len(hours)
    cases = pd.DataFrame({
        "case_id": [f"H{i}" for i in range(n)],
        "opened_at": [f"2026-0{1 + int(m)}-1{int(d)}T08:00:00Z" for m, d in zip(rng.integers(0, 3, n),
                                                                                 rng.integers(0, 9, n), strict=True)],
        "owner": rng.choice(["ann", "bob"], n),
        "ack_business_hours": hours,
        "close_business_hours": [h * 3 if i % 3 else None for i, h in enumerate(hours)],
    })
    root = tmp_path_factory.mktemp("durations")
    with cxlens.init(root / "ws") as ws:
        ws.import_data("cases", cases, now=NOW)
        lite = copy_to_sqlite(ws, root / "copy.sqlite")
        duck = {name: ws.table(name) for name in ("cases", "responses", "customers")}
        for metric in ("time_to_acknowledge", "time_to_close"):
            query = MetricQuery.build(metric, now=NOW, by="owner", grain="month", compare="previous")
            got = run_metric(duck, ws.settings, query).to_records()
            assert got == run_metric(lite, ws.settings, query).to_records()
        [overall] = ws.metric("time_to_acknowledge", now=NOW).to_records()
        assert overall["value"] == pytest.approx(float(np.mean(hours)), abs=1e-6)
        assert overall["median_hours"] == pytest.approx(float(np.median(hours)), abs=1e-6)


def test_cli_metrics_by_owner(loop_ws: cxlens.Workspace) -> None:
    from cxlens.cli import main

    result = CliRunner().invoke(main, ["metrics", "closed_loop_rate", "--by", "owner", "--now", NOW.isoformat(),
                                       "-w", str(loop_ws.path), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = {r["owner"]: r for r in json.loads(result.output)}
    assert (rows["ann"]["value"], rows["bob"]["value"]) == (75.0, 0.0)


@pytest.mark.parametrize(("metric", "by"), [("closed_loop_rate", "owner"), ("time_to_acknowledge", "team"),
                                            ("time_to_close", "owner"), ("sla_attainment", "priority")])
def test_counted_rows_match_n(loop_ws: cxlens.Workspace, metric: str, by: str) -> None:
    """``counted`` selects exactly the cases behind each figure's n (what a drill-down lists)."""
    from cxlens.metrics.engine import _base_table, runner_for

    query = MetricQuery.build(metric, now=NOW, by=by)
    tables = {n: loop_ws.table(n) for n in ("cases", "responses", "customers")}
    runner = runner_for(metric, loop_ws.settings)
    t = _base_table(tables, runner, query)
    t = t.filter(runner.counted(t))
    counts = t.group_by(by).aggregate(k=t.count()).to_pandas().set_index(by)["k"].to_dict()
    for row in run_metric(tables, loop_ws.settings, query).to_records():
        assert counts.get(row[by], 0) == row["n"]
