"""NPS, CSAT, CES and counts on a hand-made table with hand-computed expected figures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxlens
from conftest import NOW, write
from cxlens.errors import CxlensInputError, UnknownNameError

RESPONSES = """response_id,submitted_at,customer_id,touchpoint,nps,csat,ces
R1,2024-01-05T10:00:00Z,C1,web,10,5,7
R2,2024-01-10T10:00:00Z,C2,web,9,4,6
R3,2024-01-15T10:00:00Z,C3,phone,7,3,4
R4,2024-01-20T10:00:00Z,C4,phone,3,1,2
R5,2024-02-03T10:00:00Z,C1,web,10,5,7
R6,2024-02-10T10:00:00Z,C2,phone,6,2,3
R7,2024-02-11T10:00:00Z,C3,web,8,4,5
R8,2024-02-28T10:00:00Z,C5,phone,0,,
"""
CUSTOMERS = """customer_id,segment
C1,smb
C2,enterprise
C3,smb
C4,consumer
C5,enterprise
"""


@pytest.fixture
def cx(ws: cxlens.Workspace, tmp_path: Path) -> cxlens.Workspace:
    ws.import_data("responses", write(tmp_path / "r.csv", RESPONSES), now=NOW)
    ws.import_data("customers", write(tmp_path / "c.csv", CUSTOMERS), now=NOW)
    return ws


def adjusted_wald(p: int, d: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    n2 = n + 3
    pp, dd = (p + 0.75) / n2, (d + 0.75) / n2
    se = math.sqrt((pp + dd - (pp - dd) ** 2) / n2)
    return 100 * (pp - dd - z * se), 100 * (pp - dd + z * se)


def test_nps_overall(cx: cxlens.Workspace) -> None:
    (row,) = cx.metric("nps", now=NOW).to_records()
    assert (row["n"], row["promoters"], row["passives"], row["detractors"], row["value"]) == (8, 3, 2, 3, 0.0)
    lo, hi = adjusted_wald(3, 3, 8)
    assert row["ci_low"] == pytest.approx(lo, abs=1e-4) and row["ci_high"] == pytest.approx(hi, abs=1e-4)
    assert row["warnings"] == "n = 8 is below the minimum sample size of 30" or "30" in row["warnings"]


def test_nps_by_month_literal_table(cx: cxlens.Workspace) -> None:
    rows = cx.metric("nps", grain="month", now=NOW).to_records()
    got = [(r["period"], r["n"], r["promoters"], r["detractors"], r["value"]) for r in rows]
    assert got == [("2024-01-01", 4, 2, 1, 25.0), ("2024-02-01", 4, 1, 2, -25.0)]
    # Adjusted-Wald by hand for January: n' = 7, p' = 2.75/7, d' = 1.75/7.
    assert (round(rows[0]["ci_low"], 2), round(rows[0]["ci_high"], 2)) == (-44.16, 72.73)


def test_nps_by_customer_segment(cx: cxlens.Workspace) -> None:
    rows = cx.metric("nps", by="segment", now=NOW).to_records()
    got = {r["segment"]: (r["n"], round(r["value"], 4)) for r in rows}
    assert got == {"consumer": (1, -100.0), "enterprise": (3, round(100 * (1 - 2) / 3, 4)), "smb": (4, 50.0)}
    assert sum(r["n"] for r in rows) == 8


def test_filters_and_touchpoint_breakdown(cx: cxlens.Workspace) -> None:
    rows = cx.metric("nps", by="touchpoint", where={"segment": "smb"}, now=NOW).to_records()
    # smb: web R1 (10), R5 (10), R7 (8) -> 2 promoters of 3; phone R3 (7) -> a passive.
    got = {r["touchpoint"]: (r["n"], round(r["value"], 4)) for r in rows}
    assert got == {"web": (3, round(200 / 3, 4)), "phone": (1, 0.0)}


def test_csat_top_two_boxes_with_wilson(cx: cxlens.Workspace) -> None:
    (row,) = cx.metric("csat", now=NOW).to_records()
    assert (row["n"], row["satisfied"]) == (7, 4)
    assert row["value"] == pytest.approx(100 * 4 / 7)
    # Wilson 4/7 at 95% by hand: centre 0.54611, half-width 0.29566.
    assert (round(row["ci_low"], 2), round(row["ci_high"], 2)) == (25.05, 84.18)
    assert row["mean"] == pytest.approx(24 / 7)


def test_ces_easy_share_and_direction(cx: cxlens.Workspace) -> None:
    (row,) = cx.metric("ces", now=NOW).to_records()
    assert (row["n"], row["easy"], row["direction"]) == (7, 3, "higher_is_easier")
    assert row["mean"] == pytest.approx(34 / 7)


def test_compare_month_on_month(cx: cxlens.Workspace) -> None:
    rows = cx.metric("nps", grain="month", since="2024-02-01", until="2024-02-29",
                     compare="previous", now=NOW).to_records()
    (feb,) = rows
    assert (feb["period"], feb["compare_period"], feb["previous_value"], feb["change"]) == (
        "2024-02-01", "2024-01-01", 25.0, -50.0)
    assert feb["significant"] is False and 0 < feb["p_value"] < 1


def test_compare_range_with_previous_range(cx: cxlens.Workspace) -> None:
    (row,) = cx.metric("csat", since="2024-02-01", until="2024-02-29", compare="previous", now=NOW).to_records()
    assert (row["n"], row["previous_n"]) == (3, 4)
    assert row["change"] == pytest.approx(100 * (2 / 3 - 2 / 4))


def test_empty_slice_gives_n_zero_and_a_warning(cx: cxlens.Workspace) -> None:
    (row,) = cx.metric("nps", since="2030-01-01", until="2030-01-31", now=NOW).to_records()
    assert (row["n"], row["value"], row["ci_low"]) == (0, None, None)
    assert "no answers" in row["warnings"]


def test_bad_requests_say_what_is_allowed(cx: cxlens.Workspace) -> None:
    with pytest.raises(UnknownNameError, match="Unknown metric 'nsp'.*nps, csat, ces"):
        cx.metric("nsp", now=NOW)
    with pytest.raises(CxlensInputError, match="'grain' parameter must be one of day, week"):
        cx.metric("nps", grain="fortnight", now=NOW)
    with pytest.raises(UnknownNameError, match="Unknown column 'region'.*segment"):
        cx.metric("nps", by="region", now=NOW)
    with pytest.raises(CxlensInputError, match="reversed"):
        cx.metric("nps", since="2024-03-01", until="2024-01-01", now=NOW)


def test_metric_on_an_empty_table(ws: cxlens.Workspace) -> None:
    (row,) = ws.metric("nps", now=NOW).to_records()
    assert row["n"] == 0 and row["value"] is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scores=st.lists(st.tuples(st.integers(0, 10), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=40))
def test_nps_invariants(ws: cxlens.Workspace, scores: list[tuple[int, str]]) -> None:
    import pyarrow as pa

    ws.warehouse.duckdb.execute("DELETE FROM responses")
    ws.import_data("responses", pa.table({
        "response_id": [f"H{i}" for i in range(len(scores))],
        "submitted_at": ["2024-01-01"] * len(scores),
        "nps": [s for s, _ in scores], "channel": [c for _, c in scores],
    }), now=NOW)
    (total,) = ws.metric("nps", now=NOW).to_records()
    assert -100 <= total["value"] <= 100 and total["ci_low"] <= total["value"] <= total["ci_high"]
    parts = ws.metric("nps", by="channel", now=NOW).to_records()
    assert sum(p["n"] for p in parts) == total["n"] == len(scores)
    assert sum(p["promoters"] for p in parts) == total["promoters"]
    assert sum(p["detractors"] for p in parts) == total["detractors"]


def test_nps_distribution(cx: cxlens.Workspace) -> None:
    rows = cx.metric("nps_distribution", now=NOW).to_records()
    got = {r["score"]: (r["count"], r["n"]) for r in rows}
    assert got == {0: (1, 8), 3: (1, 8), 6: (1, 8), 7: (1, 8), 8: (1, 8), 9: (1, 8), 10: (2, 8)}
    assert sum(r["value"] for r in rows) == pytest.approx(100)
    by_month = cx.metric("csat_distribution", grain="month", now=NOW).to_records()
    assert [(r["period"], r["score"], r["count"], r["n"]) for r in by_month] == [
        ("2024-01-01", 1, 1, 4), ("2024-01-01", 3, 1, 4), ("2024-01-01", 4, 1, 4), ("2024-01-01", 5, 1, 4),
        ("2024-02-01", 2, 1, 3), ("2024-02-01", 4, 1, 3), ("2024-02-01", 5, 1, 3)]
