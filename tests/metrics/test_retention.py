"""Churn, retention, cohort retention and survival on hand-made tables with hand-computed figures."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxlens
from conftest import NOW, SHARED, write
from cxlens.cli import main
from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.metrics import MetricQuery, run_metric
from cxlens.metrics.retention import _calendar_months, cohort_retention, survival
from cxlens.settings import SETTINGS
from cxlens.stats.intervals import newcombe_difference

DEFAULTS = {s.name: s.default for s in SETTINGS}
TELCO = SHARED / "datasets" / "telco-churn" / "Telco-Customer-Churn.csv"

# Eight customers, January to March 2024 (one row per subscription period):
#   C1 active throughout.                         C2 ends 2024-02-10: lost in February.
#   C3 leaves 01-20 and returns 01-25: not lost.  C4 ends 01-31 23:00: lost in January.
#   C5 starts and ends inside January: in no count.
#   C6 ends exactly at 02-01 00:00 (not active then): lost in January; returns 03-05.
#   C7 moves from basic to pro at 03-01 00:00: a plan change, not churn.
#   C8 has two overlapping periods (pro all along, basic from 12-01 to 02-15).
SUBSCRIPTIONS = """subscription_id,customer_id,started_at,ended_at,plan
S1,C1,2023-06-01,,basic
S2,C2,2023-10-01,2024-02-10,basic
S3,C3,2023-11-15,2024-01-20,pro
S4,C3,2024-01-25,,pro
S5,C4,2023-12-01,2024-01-31T23:00:00,pro
S6,C5,2024-01-10,2024-01-20,basic
S7,C6,2023-09-01,2024-02-01,basic
S8,C6,2024-03-05,,pro
S9,C7,2023-08-01,2024-03-01,basic
S10,C7,2024-03-01,,pro
S11,C8,2023-07-01,2024-06-30,pro
S12,C8,2023-12-01,2024-02-15,basic
"""
CUSTOMERS = """customer_id,segment,created_at
C1,smb,2023-06-01
C2,smb,2023-10-01
C3,ent,2023-11-15
C4,ent,2023-12-01
C5,smb,2024-01-10
C6,consumer,2023-09-01
C7,smb,2023-08-01
C8,ent,2023-07-01
"""
Q1: dict[str, Any] = {"since": "2024-01-01", "until": "2024-03-31"}


def frame(text: str, *timestamps: str) -> pd.DataFrame:
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).replace("", None)
    for col in timestamps:
        df[col] = pd.to_datetime(df[col], format="ISO8601").astype("datetime64[us]")
    return df


def tables(subs: str = SUBSCRIPTIONS, customers: str = CUSTOMERS, orders: str | None = None) -> dict[str, ibis.Table]:
    out = {"subscriptions": ibis.memtable(frame(subs, "started_at", "ended_at")),
           "customers": ibis.memtable(frame(customers, "created_at"))}
    if orders is not None:
        out["orders"] = ibis.memtable(frame(orders, "ordered_at"))
    return out


def metric(name: str, t: dict[str, ibis.Table] | None = None, /, **options: Any) -> list[dict]:
    query = MetricQuery.build(name, now=NOW, **options)
    return run_metric(t or tables(), DEFAULTS, query).to_records()


def pick(rows: list[dict], *keys: str) -> list[tuple]:
    return [tuple(r[k] for k in keys) for r in rows]


# --------------------------------------------------------------------------------------------------
# Churn and retention
# --------------------------------------------------------------------------------------------------


def test_monthly_churn_literal_table() -> None:
    rows = metric("churn", grain="month", **Q1)
    # Active at 01-01: C1 C2 C3 C4 C6 C7 C8 (7); at 02-01: C1 C2 C3 C7 C8 (5); at 03-01: C1 C3 C7 C8 (4);
    # at 04-01: C1 C3 C6 C7 C8.
    assert pick(rows, "period", "n", "lost", "retained", "value") == [
        ("2024-01-01", 7, 2, 5, pytest.approx(100 * 2 / 7)),
        ("2024-02-01", 5, 1, 4, 20.0),
        ("2024-03-01", 4, 0, 4, 0.0),
    ]
    # Wilson 2/7 at 95% by hand: centre 0.361640, half-width 0.279425.
    assert (round(rows[0]["ci_low"], 3), round(rows[0]["ci_high"], 3)) == (8.222, 64.107)
    assert rows[2]["ci_low"] == 0.0 and rows[2]["ci_high"] > 0
    assert (rows[0]["period_start"], rows[0]["period_end"]) == ("2024-01-01T00:00:00", "2024-02-01T00:00:00")
    assert "30" in rows[0]["warnings"]  # below the minimum sample size


def test_retention_mirrors_churn() -> None:
    churn = metric("churn", grain="month", **Q1)
    kept = metric("retention", grain="month", **Q1)
    assert pick(kept, "period", "n", "value") == [
        ("2024-01-01", 7, pytest.approx(100 * 5 / 7)), ("2024-02-01", 5, 80.0), ("2024-03-01", 4, 100.0)]
    for c, r in zip(churn, kept, strict=True):
        assert c["value"] + r["value"] == pytest.approx(100)
        assert c["ci_low"] == pytest.approx(100 - r["ci_high"]) and c["ci_high"] == pytest.approx(100 - r["ci_low"])


def test_one_period_without_grain() -> None:
    (row,) = metric("churn", **Q1)
    # [2024-01-01, 2024-04-01): of the 7 active at the start, C2 and C4 are gone at the end; C6 left
    # and came back, so over the quarter it is not lost.
    assert (row["period"], row["n"], row["lost"], row["value"]) == (None, 7, 2, pytest.approx(100 * 2 / 7))
    assert row["period_end"] == "2024-04-01T00:00:00"


def test_by_subscription_plan_at_the_period_start() -> None:
    rows = metric("churn", grain="month", by="plan", **Q1)
    # 01-01: C8 counts as basic (its latest-started covering period), C3 C4 as pro.
    # 03-01: C7 is on pro (the basic period ended at that instant), C8 back to pro only.
    assert pick(rows, "plan", "period", "n", "lost") == [
        ("basic", "2024-01-01", 5, 1), ("basic", "2024-02-01", 4, 1), ("basic", "2024-03-01", 1, 0),
        ("pro", "2024-01-01", 2, 1), ("pro", "2024-02-01", 1, 0), ("pro", "2024-03-01", 3, 0),
    ]


def test_by_customer_segment_fills_empty_periods() -> None:
    rows = metric("churn", grain="month", by="segment", **Q1)
    assert pick(rows, "segment", "period", "n", "lost", "value") == [
        ("consumer", "2024-01-01", 1, 1, 100.0), ("consumer", "2024-02-01", 0, 0, None),
        ("consumer", "2024-03-01", 0, 0, None),
        ("ent", "2024-01-01", 3, 1, pytest.approx(100 / 3)), ("ent", "2024-02-01", 2, 0, 0.0),
        ("ent", "2024-03-01", 2, 0, 0.0),
        ("smb", "2024-01-01", 3, 0, 0.0), ("smb", "2024-02-01", 3, 1, pytest.approx(100 / 3)),
        ("smb", "2024-03-01", 2, 0, 0.0),
    ]
    assert "no active customers" in rows[1]["warnings"]


def test_filters_use_the_attribute_at_the_period_start() -> None:
    rows = metric("churn", grain="month", where={"plan": "pro"}, **Q1)
    assert pick(rows, "period", "n", "lost") == [("2024-01-01", 2, 1), ("2024-02-01", 1, 0), ("2024-03-01", 3, 0)]
    rows = metric("churn", grain="month", where={"segment": ["smb", "consumer"]}, **Q1)
    assert pick(rows, "period", "n", "lost") == [("2024-01-01", 4, 1), ("2024-02-01", 3, 1), ("2024-03-01", 2, 0)]


def test_compare_previous_month() -> None:
    rows = metric("churn", grain="month", since="2024-02-01", until="2024-02-29", compare="previous")
    (feb,) = rows
    assert (feb["period"], feb["compare_period"], feb["previous_n"], feb["n"]) == ("2024-02-01", "2024-01-01", 7, 5)
    assert feb["previous_value"] == pytest.approx(100 * 2 / 7)
    assert feb["change"] == pytest.approx(20 - 100 * 2 / 7)
    d = newcombe_difference(1, 5, 2, 7)
    assert d.ci_low is not None and d.ci_high is not None
    assert (feb["change_ci_low"], feb["change_ci_high"]) == (
        pytest.approx(100 * d.ci_low, abs=1e-6), pytest.approx(100 * d.ci_high, abs=1e-6))
    assert feb["significant"] is False and feb["test"].startswith("Newcombe")


def test_compare_range_and_year() -> None:
    # [2024-02-01, 2024-03-01) against the 29 days before: [2024-01-03, 2024-02-01).
    (row,) = metric("churn", since="2024-02-01", until="2024-02-29", compare="previous")
    assert (row["n"], row["lost"], row["previous_n"]) == (5, 1, 7)
    # Active at 01-03: C1 C2 C3 C4 C6 C7 C8; at 02-01 C4 and C6 are gone.
    assert row["previous_value"] == pytest.approx(100 * 2 / 7)
    (jan,) = metric("retention", grain="month", since="2024-01-01", until="2024-01-31", compare="year")
    assert (jan["compare_period"], jan["previous_n"], jan["previous_value"], jan["change"]) == (
        "2023-01-01", 0, None, None)


def test_last_period_is_cut_at_now() -> None:
    rows = metric("churn", grain="month", since="2026-10-01")
    assert pick(rows, "period", "n", "period_end") == [
        ("2026-10-01", 4, "2026-11-01T00:00:00"), ("2026-11-01", 4, "2026-11-23T12:00:00")]
    assert "partial period" in rows[1]["warnings"] and "partial" not in rows[0]["warnings"]


def test_grain_without_since_starts_at_the_first_subscription() -> None:
    rows = metric("churn", grain="year", until="2024-12-31")
    assert pick(rows, "period", "n", "lost") == [("2023-01-01", 0, 0), ("2024-01-01", 7, 3)]


def test_bad_requests_say_what_is_allowed() -> None:
    with pytest.raises(CxlensInputError, match="needs 'since'"):
        metric("churn")
    with pytest.raises(CxlensInputError, match="not before now"):
        metric("churn", since="2027-01-01", until="2027-02-01")
    with pytest.raises(UnknownNameError, match="Unknown column 'region'.*plan.*segment"):
        metric("churn", by="region", **Q1)


@pytest.fixture
def subscribed(ws: cxlens.Workspace, tmp_path: Path) -> cxlens.Workspace:
    ws.import_data("subscriptions", write(tmp_path / "s.csv", SUBSCRIPTIONS), now=NOW)
    ws.import_data("customers", write(tmp_path / "c.csv", CUSTOMERS), now=NOW)
    return ws


def test_workspace_and_command_line(subscribed: cxlens.Workspace) -> None:
    rows = subscribed.metric("churn", grain="month", by="plan", now=NOW, **Q1).to_records()
    assert pick(rows, "plan", "period", "n", "lost") == pick(metric("churn", grain="month", by="plan", **Q1),
                                                             "plan", "period", "n", "lost")
    path = str(subscribed.path)
    subscribed.close()
    result = CliRunner().invoke(main, [
        "metrics", "churn", "--grain", "month", "--by", "plan", "--since", "2024-02-01", "--until", "2024-03-31",
        "--compare", "previous", "--format", "json", "--now", NOW.isoformat(), "--workspace", path])
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert pick(got, "plan", "period", "n", "lost", "previous_n") == [
        ("basic", "2024-02-01", 4, 1, 5), ("basic", "2024-03-01", 1, 0, 4),
        ("pro", "2024-02-01", 1, 0, 2), ("pro", "2024-03-01", 3, 0, 1)]


def test_duckdb_and_sqlite_agree(tmp_path: Path) -> None:
    con = ibis.sqlite.connect(str(tmp_path / "copy.sqlite"))
    lite = {}
    for name, t in tables().items():
        df = t.to_pandas().astype(object)
        lite[name] = con.create_table(name, df.where(df.notna(), None), schema=t.schema(), overwrite=True)
    for options in ({"grain": "month", "by": "plan", "compare": "previous", **Q1},
                    {"by": "segment", "where": {"plan": "basic"}, **Q1}):
        assert metric("churn", lite, **options) == metric("churn", **options)


# --------------------------------------------------------------------------------------------------
# Invariants, and the counts against a direct reading of the definition
# --------------------------------------------------------------------------------------------------

DAY0 = datetime(2024, 1, 1)
period_st = st.tuples(st.integers(0, 6), st.integers(0, 120), st.one_of(st.none(), st.integers(0, 90)),
                      st.sampled_from(["a", "b", None]))


def active(subs: list[tuple[int, datetime, datetime | None, str | None]], at: datetime) -> dict[int, str | None]:
    """Customer -> plan of the covering period that started last (ties: the later-listed one)."""
    out: dict[int, tuple[datetime, int, str | None]] = {}
    for i, (cust, start, end, plan) in enumerate(subs):
        if start <= at and (end is None or end > at) and (cust not in out or (start, i) > out[cust][:2]):
            out[cust] = (start, i, plan)
    return {c: v[2] for c, v in out.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(periods=st.lists(period_st, min_size=1, max_size=12))
def test_invariants_and_definition(periods: list[tuple[int, int, int | None, str | None]]) -> None:
    subs = [(c, DAY0 + timedelta(days=s), None if d is None else DAY0 + timedelta(days=s + d), p)
            for c, s, d, p in periods]
    df = pd.DataFrame({
        "subscription_id": [f"S{i:02d}" for i in range(len(subs))],
        "customer_id": [f"C{c}" for c, *_ in subs],
        "started_at": pd.to_datetime([s for _, s, _, _ in subs]).astype("datetime64[us]"),
        "ended_at": pd.to_datetime([e for _, _, e, _ in subs]).astype("datetime64[us]"),
        "plan": [p for *_, p in subs],
    })
    t = {"subscriptions": ibis.memtable(df), "customers": ibis.memtable(frame(CUSTOMERS, "created_at"))}
    options = {"grain": "month", "since": "2024-01-01", "until": "2024-04-30"}
    total = metric("churn", t, **options)
    kept = metric("retention", t, **options)
    parts = metric("churn", t, by="plan", **options)
    for row, other in zip(total, kept, strict=True):
        start = datetime.fromisoformat(row["period_start"])
        end = datetime.fromisoformat(row["period_end"])
        before, after = active(subs, start), active(subs, end)
        assert row["n"] == len(before) and row["lost"] == len(set(before) - set(after))
        group_n = [r["n"] for r in parts if r["period"] == row["period"]]
        assert sum(group_n) == row["n"]
        assert sum(r["lost"] for r in parts if r["period"] == row["period"]) == row["lost"]
        for r in [row, other, *(p for p in parts if p["period"] == row["period"])]:
            if r["n"]:
                assert 0 <= r["value"] <= 100 and r["ci_low"] <= r["value"] <= r["ci_high"]
            else:
                assert r["value"] is None
        if row["n"]:
            assert row["value"] + other["value"] == pytest.approx(100)
        for plan in ("a", "b", None):
            (g,) = [r for r in parts if r["period"] == row["period"] and r["plan"] == plan] or [{"n": 0}]
            assert g["n"] == sum(1 for v in before.values() if v == plan)


# --------------------------------------------------------------------------------------------------
# Cohort retention
# --------------------------------------------------------------------------------------------------

COHORT_NOW = datetime(2024, 4, 15, tzinfo=UTC)
COHORT_CUSTOMERS = """customer_id,created_at
A1,2024-01-05
A2,2024-01-20
A3,2024-01-31
A4,2024-02-02
A5,2024-02-28
A6,2024-03-15
A7,2024-04-02
A8,
"""
COHORT_SUBS = """subscription_id,customer_id,started_at,ended_at
P1,A1,2024-01-05,
P2,A2,2024-01-21,2024-02-15
P3,A4,2024-02-02,2024-03-10
P4,A4,2024-03-20,
P5,A5,2024-03-01,
P6,A6,2024-03-15,2024-04-01
P7,A7,2024-04-02,
"""
ORDERS = """order_id,customer_id,ordered_at,amount,status
O1,B1,2024-01-03,10,
O2,B1,2024-01-20,10,completed
O3,B1,2024-03-05,10,
O4,B2,2024-01-15,10,
O5,B2,2024-02-01T00:00:00,10,
O6,B3,2024-02-10,10,
O7,B3,2024-02-11,10,
O8,B3,2024-03-31T23:59:00,10,
O9,B4,2024-01-30,10,cancelled
O10,B4,2024-02-20,10,
O11,B5,2024-03-10,10,
O12,B6,2024-03-12,10,Refunded
"""


def test_signup_cohorts_literal_matrix() -> None:
    t = tables(COHORT_SUBS, COHORT_CUSTOMERS)
    table = cohort_retention(t, DEFAULTS, now=COHORT_NOW, by="signup", grain="month", periods=3)
    # Cell k: active subscription at the end of month k. Jan: A1 A2 A3 (A3 never subscribed); Feb: A4 A5
    # (A5 starts at 03-01 00:00, the end of its month 0); Mar: A6 (ends exactly at 04-01); Apr: A7.
    # Cells whose month ends after 2024-04-15 are None.
    counts = table.matrix("count")
    assert counts.reset_index().values.tolist() == [
        [pd.Timestamp("2024-01-01").date(), 3, 2, 1, 1, None],
        [pd.Timestamp("2024-02-01").date(), 2, 2, 2, None, None],
        [pd.Timestamp("2024-03-01").date(), 1, 0, None, None, None],
        [pd.Timestamp("2024-04-01").date(), 1, None, None, None, None],
    ]
    shares = table.matrix("share")
    assert [[None if v is None else round(v, 2) for v in row] for row in shares[[0, 1, 2, 3]].values.tolist()] == [
        [66.67, 33.33, 33.33, None], [100.0, 100.0, None, None], [0.0, None, None, None],
        [None, None, None, None]]
    assert table.warnings == ("1 customers have no created_at and are in no signup cohort",)
    first = table.to_records()[0]
    assert (first["cohort"], first["period"], first["count"], first["period_end"]) == (
        "2024-01-01", 0, 2, "2024-02-01T00:00:00")
    assert first["ci_low"] < first["share"] < first["ci_high"]
    assert len(table.to_pandas()) == 4 * 4


def test_first_purchase_cohorts_literal_matrix() -> None:
    t = tables(COHORT_SUBS, COHORT_CUSTOMERS, ORDERS)
    table = cohort_retention(t, DEFAULTS, now=COHORT_NOW, by="first_purchase", periods=3)
    # B4's cancelled January order does not count (cohort Feb); B6 has only a refunded order.
    assert table.matrix("count").reset_index().values.tolist() == [
        [pd.Timestamp("2024-01-01").date(), 2, 2, 1, 1, None],
        [pd.Timestamp("2024-02-01").date(), 2, 2, 1, None, None],
        [pd.Timestamp("2024-03-01").date(), 1, 1, None, None, None],
        [pd.Timestamp("2024-04-01").date(), 0, None, None, None, None],
    ]
    only_feb = cohort_retention(t, DEFAULTS, now=COHORT_NOW, by="first_purchase", periods=1,
                                since="2024-02-01", until="2024-02-29")
    assert only_feb.cohorts == (pd.Timestamp("2024-02-01").date(),)
    assert [c.share for c in only_feb.cells] == [100.0, 50.0]


def test_cohort_bad_requests() -> None:
    t = tables(COHORT_SUBS, COHORT_CUSTOMERS)
    with pytest.raises(CxlensInputError, match="'by' parameter must be 'signup' or 'first_purchase'"):
        cohort_retention(t, DEFAULTS, now=COHORT_NOW, by="signups")  # type: ignore[arg-type]
    with pytest.raises(CxlensInputError, match="'periods'"):
        cohort_retention(t, DEFAULTS, now=COHORT_NOW, periods=-1)
    with pytest.raises(CxlensInputError, match="'grain'"):
        cohort_retention(t, DEFAULTS, now=COHORT_NOW, grain="fortnight")


# --------------------------------------------------------------------------------------------------
# Survival
# --------------------------------------------------------------------------------------------------

SURVIVAL_NOW = datetime(2024, 4, 15, tzinfo=UTC)
SURVIVAL_SUBS = """subscription_id,customer_id,started_at,ended_at,plan
L1,D1,2024-01-01,2024-01-11,basic
L2,D2,2024-01-01,2024-01-21,basic
L3,D2,2024-02-01,2024-02-10,pro
L4,D3,2024-03-01,,pro
L5,D4,2024-01-01,2024-01-11,pro
L6,D5,2024-02-01,2024-06-01,basic
L7,D6,2024-05-01,,pro
"""


def test_survival_literal_curve() -> None:
    t = tables(SURVIVAL_SUBS)
    result = survival(t, DEFAULTS, now=SURVIVAL_NOW, points=[30, 60])
    # Lifetimes in days: D1 10 (ended), D2 40 (01-01 to 02-10, the gap included), D3 45 (censored at now),
    # D4 10 (ended), D5 74 (ends after now: censored); D6 starts after now: left out.
    # S(10) = 3/5, S(40) = 3/5 * 2/3 = 0.4; the median is 40 days.
    (g,) = result.groups
    assert (g.n, g.events, g.censored, g.median) == (5, 3, 2, 40.0)
    assert [(p.time, round(p.survival, 6), p.at_risk) for p in g.points] == [(30.0, 0.6, 3), (60.0, 0.4, 1)]
    (rec,) = result.to_records()
    assert (rec["churned_share"], rec["s_30"], rec["s_60"]) == (60.0, 0.6, 0.4)
    assert rec["s_30_ci_low"] < 0.6 < rec["s_30_ci_high"]
    assert result.curves()["time"].tolist() == [0.0, 10.0, 40.0, 45.0, 74.0]


def test_survival_by_first_plan_and_segment() -> None:
    t = tables(SURVIVAL_SUBS, "customer_id,segment,created_at\nD1,x,\nD2,x,\nD3,y,\nD4,y,\n")
    result = survival(t, DEFAULTS, now=SURVIVAL_NOW, by="plan", points=[20])
    # The plan of the first subscription: basic D1 (10), D2 (40), D5 (74+); pro D3 (45+), D4 (10).
    got = {r["plan"]: (r["n"], r["events"], round(r["s_20"], 6), r["median"]) for r in result.to_records()}
    assert got == {"basic": (3, 2, round(2 / 3, 6), 40.0), "pro": (2, 1, 0.5, 10.0)}
    by_segment = {r["segment"]: r["n"] for r in survival(t, DEFAULTS, now=SURVIVAL_NOW, by="segment").to_records()}
    assert by_segment == {"x": 2, "y": 2, None: 1}
    assert set(result.curves().columns) >= {"plan", "time", "survival", "ci_low", "ci_high", "at_risk"}


def test_calendar_months() -> None:
    start = np.array(["2024-01-15", "2024-01-31", "2024-01-01", "2024-03-31T10:00"], dtype="datetime64[us]")
    end = np.array(["2024-03-15", "2024-02-29", "2024-01-16", "2024-04-30T10:00"], dtype="datetime64[us]")
    assert _calendar_months(start, end).tolist() == pytest.approx([2.0, 1.0, 15 / 31, 1.0])
    with pytest.raises(CxlensInputError, match="'unit'"):
        survival(tables(SURVIVAL_SUBS), DEFAULTS, now=SURVIVAL_NOW, unit="week")  # type: ignore[arg-type]


def test_survival_on_no_subscriptions() -> None:
    empty = "subscription_id,customer_id,started_at,ended_at,plan\nX,C,2030-01-01,,a\n"
    result = survival(tables(empty), DEFAULTS, now=SURVIVAL_NOW)
    assert result.groups == () and result.to_records() == [] and result.curves().empty


@pytest.fixture(scope="module")
def telco() -> pd.DataFrame:
    if not TELCO.exists():
        pytest.skip(f"the Telco customer churn data set is not at {TELCO} (shared/datasets/telco-churn)")
    return pd.read_csv(TELCO)


def test_telco_against_lifelines(telco: pd.DataFrame, ws: cxlens.Workspace) -> None:
    from lifelines import KaplanMeierFitter

    now = NOW.replace(tzinfo=None)
    subs = pd.DataFrame({
        "subscription_id": telco["customerID"],
        "customer_id": telco["customerID"],
        "started_at": [(pd.Timestamp(now) - pd.DateOffset(months=int(m))).isoformat() for m in telco["tenure"]],
        "ended_at": np.where(telco["Churn"] == "Yes", now.isoformat(), None),
        "plan": telco["Contract"],
    })
    assert ws.import_data("subscriptions", subs, now=NOW).accepted == 7043
    t = {name: ws.table(name) for name in cxlens.TABLES}
    result = survival(t, ws.settings, now=NOW, unit="month", points=[1, 12, 24, 72])
    (g,) = result.groups
    assert (g.n, g.events) == (7043, 1869)
    assert g.churned_share is not None and round(g.churned_share, 2) == 26.54

    kmf = KaplanMeierFitter().fit(telco["tenure"], telco["Churn"] == "Yes")
    expected = kmf.survival_function_at_times([1, 12, 24, 72]).to_numpy()
    assert [p.survival for p in g.points] == pytest.approx(expected, abs=1e-9)
    assert g.points[1].survival == pytest.approx(0.843, abs=5e-4)
    ci = kmf.confidence_interval_survival_function_.loc[12].to_numpy()
    assert (g.points[1].ci_low, g.points[1].ci_high) == pytest.approx(tuple(ci), abs=1e-9)
    assert g.median is None and kmf.median_survival_time_ == np.inf

    # Per contract: month-to-month has a median lifetime of 35 months (interval 32-38), as lifelines says.
    by = {r["plan"]: r for r in survival(t, ws.settings, now=NOW, unit="month", by="plan",
                                         points=[12]).to_records()}
    m2m = telco[telco["Contract"] == "Month-to-month"]
    kmf_m2m = KaplanMeierFitter().fit(m2m["tenure"], m2m["Churn"] == "Yes")
    assert (by["Month-to-month"]["median"], by["Month-to-month"]["median_ci_low"],
            by["Month-to-month"]["median_ci_high"]) == (35.0, 32.0, 38.0) == (kmf_m2m.median_survival_time_, 32.0, 38.0)
    assert by["Month-to-month"]["s_12"] == pytest.approx(float(kmf_m2m.survival_function_at_times(12).iloc[0]))
    assert sum(r["n"] for r in by.values()) == 7043

    # Churn over the last 12 months: the customers with tenure >= 12 were active at its start; the
    # churners among them ended at now.
    (row,) = ws.metric("churn", since=(now - pd.DateOffset(months=12)).to_pydatetime(), now=NOW).to_records()
    old = telco[telco["tenure"] >= 12]
    assert (row["n"], row["lost"]) == (len(old), int((old["Churn"] == "Yes").sum()))
