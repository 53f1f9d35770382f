"""Formats, mappings, conflicts and idempotency of the import pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxlens
from conftest import NOW, write
from cxlens.errors import ImportFileError

HELPDESK = """Ticket ID;Created time;Resolved time;Status;Channel;Reopened;Internal note
#1;31/01/2024 09:15;31/01/2024 17:40;Solved;Email;No;vip
#2;01/02/2024 10:00;;Open;Phone;No;
#3;02/02/2024 10:00;01/02/2024 10:00;Solved;Chat;Yes;clock skew
"""

MAPPING_TOML = """
table = "tickets"
drop = ["Internal note"]

[columns]
ticket_id = "Ticket ID"
created_at = "Created time"
resolved_at = "Resolved time"

[convert.created_at]
format = "%d/%m/%Y %H:%M"
timezone = "Europe/Berlin"

[convert.resolved_at]
format = "%d/%m/%Y %H:%M"
timezone = "Europe/Berlin"

[convert.status]
values = { Solved = "resolved", Open = "open" }

[convert.reopened]
values = { No = "false", Yes = "true" }

[constants]
source_system = "helpdesk"
"""


def test_mapping_file_for_a_helpdesk_export(ws: cxlens.Workspace, tmp_path: Path) -> None:
    data = write(tmp_path / "export.csv", HELPDESK)
    mapping = write(tmp_path / "helpdesk.toml", MAPPING_TOML)
    report = ws.import_data("tickets", data, mapping=mapping, now=NOW)
    assert (report.accepted, report.rejected) == (2, 1)
    rows = ws.table("tickets").order_by("ticket_id").to_pyarrow().to_pylist()
    assert rows[0]["created_at"].isoformat() == "2024-01-31T08:15:00"  # Berlin is UTC+1 in winter
    assert rows[0]["status"] == "resolved" and rows[1]["status"] == "open"
    assert rows[0]["reopened"] is False and rows[0]["source_system"] == "helpdesk"
    assert "internal_note" not in ws.table("tickets").columns
    assert ws.quarantine("tickets").to_pylist()[0]["code"] == "out_of_order"


def test_yaml_mapping_equals_toml(ws: cxlens.Workspace, tmp_path: Path) -> None:
    data = write(tmp_path / "export.csv", HELPDESK)
    mapping = write(tmp_path / "m.yaml", """
columns: {ticket_id: "Ticket ID", created_at: "Created time"}
convert:
  created_at: {format: "%d/%m/%Y %H:%M"}
drop: ["Internal note", "Resolved time"]
""")
    assert ws.import_data("tickets", data, mapping=mapping, now=NOW).accepted == 3


def test_mapping_naming_a_missing_source_column(ws: cxlens.Workspace, tmp_path: Path) -> None:
    data = write(tmp_path / "export.csv", HELPDESK)
    mapping = write(tmp_path / "m.toml", '[columns]\nticket_id = "Ticket Number"\ncreated_at = "Created time"\n')
    with pytest.raises(ImportFileError, match="'ticket_number', which the file does not have"):
        ws.import_data("tickets", data, mapping=mapping, now=NOW)


def test_conflict_reject_then_update(ws: cxlens.Workspace, tmp_path: Path) -> None:
    head = "order_id,customer_id,ordered_at,amount\n"
    ws.import_data("orders", write(tmp_path / "a.csv", head + "O1,C1,2024-01-01,10\nO2,C1,2024-01-02,20\n"), now=NOW)
    changed = write(tmp_path / "b.csv", head + "O1,C1,2024-01-01,10\nO2,C1,2024-01-02,25\n")
    rejected = ws.import_data("orders", changed, now=NOW)
    assert (rejected.accepted, rejected.duplicates, rejected.conflicts, rejected.rejected) == (0, 1, 1, 1)
    assert "--on-conflict update" in ws.quarantine("orders").to_pylist()[0]["reason"]
    updated = ws.import_data("orders", changed, on_conflict="update", now=NOW)
    assert (updated.accepted, updated.updated, updated.duplicates) == (1, 1, 1)
    amounts = ws.table("orders").order_by("order_id").amount.to_pyarrow().to_pylist()
    assert amounts == [10.0, 25.0]


def test_parquet_import(ws: cxlens.Workspace, tmp_path: Path) -> None:
    table = pa.table({
        "customer_id": ["C1", "C2", None],
        "created_at": pa.array([1_700_000_000_000_000, 1_700_000_100_000_000, 0], pa.timestamp("us")),
        "segment": ["smb", "enterprise", "smb"],
        "tier": [1, 2, 3],
    })
    pq.write_table(table, tmp_path / "c.parquet")
    report = ws.import_data("customers", tmp_path / "c.parquet", now=NOW)
    assert (report.format, report.accepted, report.rejected) == ("parquet", 2, 1)
    assert ws.quarantine("customers").to_pylist()[0]["line"] == 3


def test_jsonl_import_with_bad_lines(ws: cxlens.Workspace, tmp_path: Path) -> None:
    lines = [
        {"event_id": "E1", "customer_id": "C1", "occurred_at": "2024-01-01T10:00:00Z",
         "touchpoint": "web_home", "properties": {"page": "/"}},
        "not json at all",
        [1, 2],
        {"event_id": "E2", "customer_id": "C1", "occurred_at": "2024-01-01T10:01:00Z",
         "touchpoint": "web_pricing", "duration_ms": 1200, "experiment": "b"},
    ]
    text = "\n".join(json.dumps(v) if not isinstance(v, str) else v for v in lines) + "\n\n"
    report = ws.import_data("interactions", write(tmp_path / "e.jsonl", text), now=NOW)
    assert (report.read, report.accepted, report.rejected) == (4, 2, 2)
    assert [r["line"] for r in ws.quarantine("interactions").to_pylist()] == [2, 3]
    props = ws.table("interactions").order_by("event_id").properties.to_pyarrow().to_pylist()
    assert json.loads(props[0]) == {"page": "/"}


def test_every_contract_table_imports_its_own_headers(ws: cxlens.Workspace) -> None:
    for spec in cxlens.TABLES.values():
        sample = {c.name: [c.allowed[0] if c.allowed else _sample(c.type.value)] for c in spec.columns}
        report = ws.import_data(spec.name, pa.table(sample), now=NOW)
        assert (report.accepted, report.rejected, report.new_columns) == (1, 0, ()), spec.name


def _sample(kind: str) -> str:
    return {"string": "x", "integer": "1", "float": "1.5", "timestamp": "2024-01-01T00:00:00Z",
            "boolean": "true", "json": "{}"}[kind]


ROW = st.tuples(
    st.sampled_from(["A", "B", "C", "D"]),           # key: collisions on purpose
    st.one_of(st.integers(-2, 12), st.just("x")),    # nps, sometimes invalid
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(ROW, max_size=8), second=st.lists(ROW, max_size=8))
def test_counts_add_up_and_reimport_adds_nothing(ws: cxlens.Workspace, first: list, second: list) -> None:
    for rows in (first, second):
        table = pa.table({
            "response_id": [k for k, _ in rows] or pa.array([], pa.string()),
            "submitted_at": ["2024-01-01"] * len(rows) or pa.array([], pa.string()),
            "nps": [str(v) for _, v in rows] or pa.array([], pa.string()),
        })
        before = ws.warehouse.row_count("responses")
        report = ws.import_data("responses", table, now=NOW)
        assert report.read == len(rows) == report.accepted + report.rejected + report.duplicates
        assert ws.warehouse.row_count("responses") == before + report.accepted
        again = ws.import_data("responses", table, now=NOW)
        assert again.accepted == 0
        assert ws.warehouse.row_count("responses") == before + report.accepted


def test_nps_on_a_one_to_ten_scale_imports_with_a_warning(ws: cxlens.Workspace) -> None:
    table = pa.table({"response_id": [f"R{i}" for i in range(30)], "submitted_at": ["2024-01-01"] * 30,
                      "nps": [1 + i % 10 for i in range(30)]})
    report = ws.import_data("responses", table, now=NOW)
    assert report.accepted == 30 and any("1–10 scale" in w for w in report.warnings)
    more = pa.table({"response_id": ["Z"], "submitted_at": ["2024-01-01"], "nps": [0]})
    assert not ws.import_data("responses", more, now=NOW).warnings


def test_outer_spaces_are_trimmed_and_blank_is_empty(ws: cxlens.Workspace) -> None:
    table = pa.table({"response_id": [" R1 ", "R2"], "submitted_at": [" 2024-01-01 ", "2024-01-02"],
                      "nps": [" 9 ", "   "], "comment": ["  fine  ", " "]})
    report = ws.import_data("responses", table, now=NOW)
    assert (report.accepted, report.rejected) == (2, 0)
    rows = ws.table("responses").order_by("response_id").to_pyarrow().to_pylist()
    assert [(r["response_id"], r["nps"], r["comment"]) for r in rows] == [("R1", 9, "fine"), ("R2", None, None)]
