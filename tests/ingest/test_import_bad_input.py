"""Every kind of bad input named in the foundation issue: clear message, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import cxlens
from conftest import NOW, write
from cxlens.errors import ImportFileError, MissingDependencyError, UnknownNameError, WorkspaceError

HEADER = "response_id,submitted_at,customer_id,nps,csat,ces,comment\n"

# (line number in the file, the row, the expected quarantine code)
BAD_ROWS = [
    (3, "R2,2024-01-02T10:00:00Z,C2,11,4,5,nps too high", "out_of_range"),
    (4, "R3,2024-01-03T10:00:00Z,C3,8,0,5,csat zero", "out_of_range"),
    (5, "R4,2024-01-04T10:00:00Z,C4,8,4,9,ces nine", "out_of_range"),
    (6, "R5,2024-01-05T10:00:00Z,C5,ten,4,5,not numeric", "not_a_number"),
    (7, "R6,yesterday at noon,C6,7,4,5,bad timestamp", "bad_timestamp"),
    (8, ",2024-01-06T10:00:00Z,C7,7,4,5,empty key", "missing_value"),
    (9, "R8,2024-01-07T10:00:00Z,C8,7", "too_few_columns"),
    (11, "R1,2024-01-01T10:00:00Z,C1,3,4,5,same key other content", "key_conflict"),
]
GOOD_ROWS = [
    (2, "R1,2024-01-01T10:00:00Z,C1,9,5,6,lovely"),
    (10, "R9,2024-01-08T10:00:00Z,C9,10,5,7,great"),
    (12, "R10,2024-01-09T10:00:00Z,C10,0,1,1,awful"),
]


def planted_file(tmp_path: Path) -> Path:
    rows = sorted([(n, r) for n, r, _ in BAD_ROWS] + GOOD_ROWS)
    assert [n for n, _ in rows] == list(range(2, 2 + len(rows)))
    return write(tmp_path / "responses.csv", HEADER + "\n".join(r for _, r in rows) + "\n")


def test_planted_bad_rows_are_quarantined_under_their_line(ws: cxlens.Workspace, tmp_path: Path) -> None:
    report = ws.import_data("responses", planted_file(tmp_path), now=NOW)
    assert (report.read, report.accepted, report.rejected, report.duplicates) == (11, 3, 8, 0)
    assert report.conflicts == 1
    q = ws.quarantine("responses").to_pylist()
    assert [(r["line"], r["code"]) for r in q] == [(n, c) for n, _, c in BAD_ROWS]
    assert all(r["reason"] and r["source"].endswith("responses.csv") for r in q)
    assert sorted(ws.table("responses").response_id.to_pyarrow().to_pylist()) == ["R1", "R10", "R9"]


def test_reimport_adds_nothing(ws: cxlens.Workspace, tmp_path: Path) -> None:
    path = planted_file(tmp_path)
    ws.import_data("responses", path, now=NOW)
    again = ws.import_data("responses", path, now=NOW)
    assert (again.accepted, again.duplicates, again.read) == (0, 3, 11)
    assert ws.warehouse.row_count("responses") == 3


def test_quarantine_messages_name_field_value_and_rule(ws: cxlens.Workspace, tmp_path: Path) -> None:
    ws.import_data("responses", planted_file(tmp_path), now=NOW)
    by_line = {r["line"]: r for r in ws.quarantine("responses").to_pylist()}
    assert by_line[3]["column_name"] == "nps" and by_line[3]["value"] == "11"
    assert "between 0 and 10" in by_line[3]["reason"]
    assert "between 1 and 5" in by_line[4]["reason"]
    assert "between 1 and 7" in by_line[5]["reason"]
    assert "ISO 8601" in by_line[7]["reason"]
    assert "line 2" in by_line[11]["reason"]
    assert by_line[9]["raw"].startswith("R8,")


def test_missing_required_column_fails_before_writing(ws: cxlens.Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "response_id,nps\nR1,9\n")
    with pytest.raises(ImportFileError, match="'submitted_at'.*Required: response_id, submitted_at"):
        ws.import_data("responses", path, now=NOW)
    assert ws.warehouse.row_count("responses") == 0
    assert ws.imports().num_rows == 0


def test_unknown_table_lists_the_tables(ws: cxlens.Workspace, tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="Unknown table 'survey'.*customers, interactions"):
        ws.import_data("survey", tmp_path / "x.csv", now=NOW)


def test_empty_file_and_header_only(ws: cxlens.Workspace, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="empty"):
        ws.import_data("responses", write(tmp_path / "e.csv", ""), now=NOW)
    report = ws.import_data("responses", write(tmp_path / "h.csv", HEADER), now=NOW)
    assert report.read == 0 and any("no data rows" in w for w in report.warnings)


def test_missing_file(ws: cxlens.Workspace, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        ws.import_data("responses", tmp_path / "nope.csv", now=NOW)


def test_non_utf8_bytes_quarantine_only_that_row(ws: cxlens.Workspace, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    # The bad byte lies past the 1 MiB the encoding sniffer reads, so the file counts as UTF-8.
    path.write_bytes(
        (HEADER + "R1,2024-01-01,C1,9,5,6,fine\n").encode()
        + b"R4,2024-01-03,C4,9,5,6," + b"a" * (1 << 21) + b"\n"
        + b"R2,2024-01-02,C2,9,5,6,caf\xe9 xxxxx\n"
        + b"R3,2024-01-03,C3,9,5,6,ok\n"
    )
    report = ws.import_data("responses", path, now=NOW)
    q = ws.quarantine("responses").to_pylist()
    assert [(r["line"], r["code"]) for r in q] == [(4, "invalid_encoding")]
    assert "--encoding" in q[0]["reason"]
    assert report.accepted == 3


def test_whole_file_in_another_encoding(ws: cxlens.Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", HEADER + "R1,2024-01-01,C1,9,5,6,très bien, ça marche\n".replace(", ça", " ça"),
                 encoding="cp1252")
    report = ws.import_data("responses", path, now=NOW)
    assert report.accepted == 1 and any("cp1252" in w for w in report.warnings)
    assert ws.table("responses").comment.to_pyarrow().to_pylist() == ["très bien ça marche"]
    ws2 = ws.import_data("responses", path, encoding="latin-1", now=NOW)
    assert ws2.duplicates == 1


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_sniffed_delimiters(ws: cxlens.Workspace, tmp_path: Path, delimiter: str) -> None:
    text = HEADER.replace(",", delimiter) + "R1,2024-01-01,C1,9,5,6,ok\n".replace(",", delimiter)
    assert ws.import_data("responses", write(tmp_path / "r.csv", text), now=NOW).accepted == 1


def test_blank_lines_and_multiline_values_keep_line_numbers(ws: cxlens.Workspace, tmp_path: Path) -> None:
    text = HEADER + 'R1,2024-01-01,C1,9,5,6,"two\nlines"\n\nR2,2024-01-02,C2,12,5,6,bad\n'
    ws.import_data("responses", write(tmp_path / "r.csv", text), now=NOW)
    assert [r["line"] for r in ws.quarantine("responses").to_pylist()] == [5]


def test_missing_and_corrupt_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist.*cxlens init"):
        cxlens.open(tmp_path / "none")
    (tmp_path / "plain").mkdir()
    with pytest.raises(WorkspaceError, match="not a cxlens workspace"):
        cxlens.open(tmp_path / "plain")
    bad = tmp_path / "bad"
    cxlens.init(bad).close()
    (bad / "cxlens.toml").write_text("[settings\nwarehouse_url = ")
    with pytest.raises(WorkspaceError, match="corrupt"):
        cxlens.open(bad)


def test_backend_without_driver_names_the_extra(tmp_path: Path) -> None:
    ws = cxlens.init(tmp_path / "w")
    ws.close()
    cxlens.workspace.set_setting(ws.path, "warehouse_url", "clickhouse://localhost:9000/cx")
    with pytest.raises(MissingDependencyError, match=r"pip install 'cxlens\[clickhouse\]'"):
        cxlens.open(ws.path).warehouse.ensure_schema()


def test_unknown_setting_and_bad_value(tmp_path: Path) -> None:
    ws = cxlens.init(tmp_path / "w")
    with pytest.raises(UnknownNameError, match="Unknown setting 'grain'"):
        cxlens.workspace.set_setting(ws.path, "grain", "day")
    with pytest.raises(ValueError, match="'week_start' setting must be one of"):
        cxlens.workspace.set_setting(ws.path, "week_start", "friday")


def test_tickets_resolved_before_created(ws: cxlens.Workspace, tmp_path: Path) -> None:
    text = ("ticket_id,created_at,resolved_at,reopened,contacts\n"
            "T1,2024-01-02T10:00:00Z,2024-01-02T09:00:00Z,no,1\n"
            "T2,2024-01-02T10:00:00Z,2024-01-03T09:00:00Z,maybe,1\n"
            "T3,2024-01-02T10:00:00Z,2024-01-03T09:00:00Z,yes,1.5\n"
            "T4,2024-01-02T10:00:00Z,2024-01-03T09:00:00Z,yes,2\n")
    report = ws.import_data("tickets", write(tmp_path / "t.csv", text), now=NOW)
    q = ws.quarantine("tickets").to_pylist()
    assert [(r["line"], r["code"]) for r in q] == [(2, "out_of_order"), (3, "bad_boolean"), (4, "not_an_integer")]
    assert report.accepted == 1


def test_offsets_are_converted_to_utc(ws: cxlens.Workspace, tmp_path: Path) -> None:
    text = HEADER + "R1,2024-01-01T10:00:00+02:00,C1,9,,,\nR2,2024-01-01T10:00:00,C1,9,,,\nR3,2024-01-01,C1,9,,,\n"
    ws.import_data("responses", write(tmp_path / "r.csv", text), now=NOW)
    got = ws.table("responses").order_by("response_id").submitted_at.to_pyarrow().to_pylist()
    assert [t.isoformat() for t in got] == ["2024-01-01T08:00:00", "2024-01-01T10:00:00", "2024-01-01T00:00:00"]


def test_dataframe_import_and_extra_columns_kept(ws: cxlens.Workspace) -> None:
    table = pa.table({"response_id": ["A", "B"], "submitted_at": ["2024-01-01", "2024-01-02"],
                      "nps": [10, 13], "Store Region": ["north", "south"]})
    report = ws.import_data("responses", table, now=NOW)
    assert (report.accepted, report.rejected, report.new_columns) == (1, 1, ("store_region",))
    assert ws.table("responses").store_region.to_pyarrow().to_pylist() == ["north"]
    assert ws.quarantine("responses").to_pylist()[0]["line"] == 2


def test_status_counts_a_row_rejected_twice_once(ws: cxlens.Workspace, tmp_path: Path) -> None:
    path = planted_file(tmp_path)
    ws.import_data("responses", path, now=NOW)
    ws.import_data("responses", path, now=NOW)
    counts = {t.table: t.quarantined for t in ws.status().tables}
    assert counts["responses"] == len(BAD_ROWS)
    assert ws.quarantine("responses").num_rows == 2 * len(BAD_ROWS)  # the history of both imports
