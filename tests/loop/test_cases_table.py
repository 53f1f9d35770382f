"""The ``cases`` table of the data model: declared, validated on import, listed, exported."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

import cxlens
from conftest import NOW, write
from cxlens.cli import main
from cxlens.schema import CASE_PRIORITIES, CASE_STATUSES, TABLES

CASES_CSV = """case_id,opened_at,customer_id,status,priority,owner,team,source_table,source_id,acknowledged_at,\
resolved_at,closed_at,ack_due_at,resolve_due_at,ack_business_hours,close_business_hours,reopened,customer_contacted
K1,2026-03-27T15:00:00+01:00,C1,closed,high,ann,support,responses,R1,2026-03-30T10:00:00+02:00,\
2026-03-31T16:00:00+02:00,2026-03-31T17:00:00+02:00,2026-03-30T11:00:00+02:00,2026-03-31T15:00:00+02:00,3,19,0,yes
K2,2026-03-28T09:00:00Z,C2,new,normal,bob,support,tickets,T9,,,,2026-03-30T11:00:00Z,,,,,
K3,2026-03-28T09:00:00Z,C3,acknowledged,low,bob,support,,,2026-03-28T08:00:00Z,,,,,1,,0,no
K4,2026-03-28T09:00:00Z,C3,closed,low,bob,support,,,,,2026-03-28T08:59:59Z,,,,,0,no
K5,2026-03-28T09:00:00Z,C3,new,low,bob,support,,,,,,,,-1,,-2,maybe
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_cases_is_declared() -> None:
    spec = TABLES["cases"]
    assert spec.key == "case_id" and spec.time_column == "opened_at"
    assert spec.required == ("case_id", "opened_at")
    assert spec.column("status").allowed == CASE_STATUSES == ("new", "acknowledged", "in_progress", "resolved",
                                                                "closed")
    assert spec.column("priority").allowed == CASE_PRIORITIES == ("low", "normal", "high", "urgent")
    assert {(r.earlier, r.later) for r in spec.order_rules} == {
        ("opened_at", "acknowledged_at"), ("opened_at", "resolved_at"), ("opened_at", "closed_at")}


def test_import_status_quarantine_export(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    assert run("init", ws)[0] == 0
    code, out = run("import", "cases", str(write(tmp_path / "cases.csv", CASES_CSV)), "-w", ws, "--format", "json")
    report = json.loads(out)
    assert code == 0 and (report["accepted"], report["rejected"]) == (2, 3)

    code, out = run("quarantine", "cases", "-w", ws, "--format", "json")
    rows = {row["line"]: row for row in json.loads(out)}
    assert {line: (r["column_name"], r["code"]) for line, r in rows.items()} == {
        4: ("acknowledged_at", "out_of_order"), 5: ("closed_at", "out_of_order"), 6: ("ack_business_hours",
                                                                                     "out_of_range")}
    # A row with several problems lists them all in its reason.
    assert "'reopened' must be at least 0" in rows[6]["reason"]
    assert "'customer_contacted' must be true/false" in rows[6]["reason"]

    code, out = run("status", "-w", ws, "--format", "json")
    tables = {t["table"]: t for t in json.loads(out)["tables"]}
    assert tables["cases"]["rows"] == 2 and tables["cases"]["quarantined"] == 3
    assert tables["cases"]["first"] == "2026-03-27T14:00:00"  # stored in UTC

    out_file = tmp_path / "cases.parquet"
    assert run("export", "cases", "--out", str(out_file), "-w", ws)[0] == 0
    frame = pd.read_parquet(out_file).set_index("case_id")
    assert frame.loc["K1", "ack_business_hours"] == 3.0 and frame.loc["K1", "close_business_hours"] == 19.0
    assert bool(frame.loc["K1", "customer_contacted"]) is True and frame.loc["K1", "reopened"] == 0
    assert pd.isna(frame.loc["K2", "acknowledged_at"]) and frame.loc["K2", "source_id"] == "T9"

    code, out = run("schema", "cases")
    assert code == 0 and "customer_contacted" in out


def test_snapshots_update_in_place(tmp_path: Path) -> None:
    """The case inbox rewrites a case's snapshot as it moves on; the loop metrics see the latest state."""
    opened = {"case_id": ["K1"], "opened_at": ["2026-03-27T14:00:00Z"], "status": ["new"], "owner": ["ann"],
              "customer_contacted": [None], "closed_at": [None]}
    closed = {**opened, "status": ["closed"], "customer_contacted": ["true"], "closed_at": ["2026-03-30T09:00:00Z"],
              "close_business_hours": [5.0]}
    with cxlens.init(tmp_path / "ws") as ws:
        ws.import_data("cases", pd.DataFrame(opened), now=NOW)
        [before] = ws.metric("closed_loop_rate", now=NOW).to_records()
        report = ws.import_data("cases", pd.DataFrame(closed), on_conflict="update", now=NOW)
        [after] = ws.metric("closed_loop_rate", now=NOW).to_records()
        assert report.updated == 1 and ws.table("cases").count().execute() == 1
        assert (before["value"], after["value"]) == (0.0, 100.0)
        assert ws.metric("time_to_close", now=NOW).to_records()[0]["value"] == 5.0


def test_a_status_or_priority_outside_the_list_is_quarantined_with_the_allowed_values(tmp_path: Path) -> None:
    import pandas as pd

    import cxlens

    with cxlens.init(tmp_path / "ws") as ws:
        rows = pd.DataFrame({"case_id": ["K1", "K2", "K3"], "customer_id": ["c1", "c2", "c3"],
                             "opened_at": ["2026-11-01T09:00:00Z"] * 3, "status": ["new", "done", "Closed"],
                             "priority": ["high", "normal", "asap"]})
        report = ws.import_data("cases", rows)
        assert (report.accepted, report.rejected) == (1, 2)
        problems = {(r["line"], r["column_name"], r["code"]): r["reason"] for r in ws.quarantine("cases").to_pylist()}
        assert set(problems) == {(2, "status", "not_allowed"), (3, "priority", "not_allowed")}
        assert "must be one of new, acknowledged, in_progress, resolved, closed; got 'done'" in problems[
            (2, "status", "not_allowed")]
