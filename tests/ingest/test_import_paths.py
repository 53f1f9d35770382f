"""The import's two paths (straight insert, classification of the rest) and the timestamp fast path.

Valid rows whose key neither repeats in the file nor is stored are inserted straight from the
validation query; rejected rows and rows with a repeated or stored key are classified
separately. These tests mix every kind of row so that both paths must agree on counts,
lines and stored values.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxlens
from conftest import NOW, write
from cxlens.ingest.mapping import IDENTITY, ColumnMapping, Conversion
from cxlens.ingest.validate import NAIVE_ISO, Builder, PlannedColumn, build_query, plan_columns
from cxlens.schema import RESPONSES, TABLES

HEADER = "response_id,submitted_at,nps,comment\n"


def stored(ws: cxlens.Workspace) -> list[tuple]:
    t = ws.table("responses").order_by("_line").to_pyarrow()
    return list(zip(t["response_id"].to_pylist(), t["nps"].to_pylist(), t["_line"].to_pylist(), strict=True))


def quarantined(ws: cxlens.Workspace, import_id: int) -> list[tuple]:
    return [(r["line"], r["code"]) for r in ws.quarantine("responses", import_id).to_pylist()]


def test_fresh_import_mixing_repeats_and_rejects(ws: cxlens.Workspace, tmp_path: Path) -> None:
    rows = [
        "A,2024-01-01,11,bad nps; the key A is valid on line 3",   # 2 rejected
        "A,2024-01-01,5,first valid A",                            # 3 accepted
        "B,2024-01-01,7,same",                                     # 4 accepted
        " B ,2024-01-01,7,same",                                   # 5 duplicate in file (key trimmed)
        "C,2024-01-01,1,one",                                      # 6 accepted
        "C,2024-01-01,2,two",                                      # 7 conflict in file
        "D,yesterday,3,bad timestamp",                             # 8 rejected
        "E,2024-01-01T10:00:00+02:00,9,offset",                    # 9 accepted
        "F,2024-01-01,10,clean",                                   # 10 accepted
    ]
    report = ws.import_data("responses", write(tmp_path / "r.csv", HEADER + "\n".join(rows) + "\n"), now=NOW)
    assert (report.read, report.accepted, report.rejected, report.duplicates, report.conflicts) == (9, 5, 3, 1, 1)
    assert stored(ws) == [("A", 5, 3), ("B", 7, 4), ("C", 1, 6), ("E", 9, 9), ("F", 10, 10)]
    assert quarantined(ws, report.import_id) == [(2, "out_of_range"), (7, "key_conflict"), (8, "bad_timestamp")]
    t = ws.table("responses")
    when = t.filter(t.response_id == "E").submitted_at.to_pyarrow().to_pylist()
    assert when == [datetime(2024, 1, 1, 8, 0)]


def test_clean_file_of_new_keys_is_inserted_whole(ws: cxlens.Workspace, tmp_path: Path) -> None:
    rows = [f"R{i},2024-01-0{1 + i % 9} 10:00:0{i % 10},{i % 11},c{i}" for i in range(50)]
    report = ws.import_data("responses", write(tmp_path / "r.csv", HEADER + "\n".join(rows) + "\n"), now=NOW)
    assert (report.read, report.accepted, report.rejected, report.duplicates) == (50, 50, 0, 0)
    assert [(k, line) for k, _, line in stored(ws)] == [(f"R{i}", i + 2) for i in range(50)]
    assert ws.quarantine("responses").num_rows == 0


def test_second_import_against_stored_rows(ws: cxlens.Workspace, tmp_path: Path) -> None:
    first = ["A,2024-01-01,1,x", "B,2024-01-01,2,x", "C,2024-01-01,3,x"]
    ws.import_data("responses", write(tmp_path / "a.csv", HEADER + "\n".join(first) + "\n"), now=NOW)
    second = [
        "A,2024-01-01,1,x",       # 2 duplicate of a stored row
        "B,2024-01-01,9,x",       # 3 conflict with a stored row
        "N,2024-01-01,4,x",       # 4 new
        "M,2024-01-01,12,x",      # 5 rejected
        "N,2024-01-01,4,x",       # 6 duplicate in file
        "O,2024-01-01,5,x",       # 7 new
    ]
    data = write(tmp_path / "b.csv", HEADER + "\n".join(second) + "\n")
    report = ws.import_data("responses", data, now=NOW)
    assert (report.read, report.accepted, report.rejected, report.duplicates, report.conflicts) == (6, 2, 2, 2, 1)
    assert quarantined(ws, report.import_id) == [(3, "key_conflict"), (5, "out_of_range")]
    assert sorted(stored(ws)) == [("A", 1, 2), ("B", 2, 3), ("C", 3, 4), ("N", 4, 4), ("O", 5, 7)]
    update = ws.import_data("responses", data, on_conflict="update", now=NOW)
    assert (update.accepted, update.updated, update.duplicates, update.rejected) == (1, 1, 4, 1)
    assert sorted(stored(ws)) == [("A", 1, 2), ("B", 9, 3), ("C", 3, 4), ("N", 4, 4), ("O", 5, 7)]


def test_key_converted_by_a_mapping_is_compared_converted(ws: cxlens.Workspace, tmp_path: Path) -> None:
    mapping = ColumnMapping(convert=(("response_id", Conversion(values=(("old-a", "A"),))),))
    rows = ["A,2024-01-01,1,x", "old-a,2024-01-01,1,x", "old-a,2024-01-01,2,x"]
    report = ws.import_data("responses", write(tmp_path / "r.csv", HEADER + "\n".join(rows) + "\n"),
                            mapping=mapping, now=NOW)
    assert (report.accepted, report.duplicates, report.conflicts) == (1, 1, 1)
    assert stored(ws) == [("A", 1, 2)]


def test_scale_warning_counts_duplicates_too(ws: cxlens.Workspace) -> None:
    table = pa.table({"response_id": [f"R{i}" for i in range(30)], "submitted_at": ["2024-01-01"] * 30,
                      "nps": [1 + i % 10 for i in range(30)]})
    assert any("1–10 scale" in w for w in ws.import_data("responses", table, now=NOW).warnings)
    again = ws.import_data("responses", table, now=NOW)
    assert again.duplicates == 30 and any("None of the 30 NPS answers" in w for w in again.warnings)


def test_infinite_timestamps_are_rejected(ws: cxlens.Workspace) -> None:
    table = pa.table({"response_id": ["A", "B", "C"], "submitted_at": ["infinity", "-infinity", "2024-02-29"]})
    report = ws.import_data("responses", table, now=NOW)
    assert (report.accepted, report.rejected) == (1, 2)
    assert quarantined(ws, report.import_id) == [(1, "bad_timestamp"), (2, "bad_timestamp")]


# --------------------------------------------------------------------------- timestamp fast path

SUFFIXES = ["", "", "", "Z", "+02:00", "-0530", "+02", "+00", " UTC", " Europe/Berlin", "+2", "x", " "]
TEXT = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, suffix: (
        f"{y:04d}-{mo:02d}-{d:02d}" + (f"{sep}{h:02d}:{mi:02d}" + (f":{s:02d}" if s is not None else "")
                                       + (f".{frac}" if frac and s is not None else "") if sep else "") + suffix
    ),
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.sampled_from(["", " ", "T", "t", "_"]),
    st.integers(0, 25), st.integers(0, 61), st.one_of(st.none(), st.integers(0, 61)),
    st.from_regex(r"\A[0-9]{0,10}\Z"), st.sampled_from(SUFFIXES),
)


@pytest.fixture(scope="module")
def utc() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(TEXT, st.from_regex(NAIVE_ISO, fullmatch=True)))
def test_naive_iso_fast_path_equals_the_zone_aware_parse(utc: duckdb.DuckDBPyConnection, text: str) -> None:
    col = PlannedColumn("submitted_at", "submitted_at", RESPONSES.column("submitted_at"))
    fast = Builder({}).converted(col, "$v")
    reference = "CAST(timezone('UTC', try_cast($v AS TIMESTAMPTZ)) AS TIMESTAMP)"
    got, want = utc.execute(f"SELECT {fast}, {reference}", {"v": text}).fetchone()
    assert got == want, text


# --------------------------------------------------------------------------- the _bad flag

VALUES = {
    "string": ["x", "", " ", None],
    "integer": ["0", "1", "5", "7", "10", "11", "-1", "2.5", "3.0", "1e3", "ten", "", None, "nan", "inf"],
    "float": ["0", "1.5", "-0.1", "1e308", "1e309", "nan", "-inf", "x", "", None],
    "timestamp": ["2024-01-01", "2024-01-02 10:00:00", "2024-01-01T09:00:00+02:00", "infinity", "x", "", None],
    "boolean": ["true", "N", "yes", "maybe", "", None],
    "json": ['{"a": 1}', "[1", "null", "", None],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), table=st.sampled_from(sorted(TABLES)))
def test_bad_flag_is_set_exactly_when_a_problem_is_listed(
    utc: duckdb.DuckDBPyConnection, data: st.DataObject, table: str
) -> None:
    spec = TABLES[table]
    columns = plan_columns(spec, spec.column_names, IDENTITY)
    rows = data.draw(st.lists(st.tuples(*(st.sampled_from(VALUES[c.type.value]) for c in spec.columns)),
                              min_size=1, max_size=6))
    staged = pa.table({c.name: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(spec.columns)}
                      | {"_line": pa.array(range(1, len(rows) + 1), pa.int64())})
    utc.register("_cx_frame", staged)
    utc.execute("CREATE OR REPLACE TEMP TABLE _cx_staged AS SELECT * FROM _cx_frame")
    utc.unregister("_cx_frame")
    query = build_query(spec, columns, {"csat_scale_max": 5, "ces_scale_max": 7})
    # The query lists problems only for flagged rows; list them for every row to compare.
    marker = "CASE WHEN _bad THEN list_filter("
    assert marker in query.sql
    sql = query.sql.replace(marker, "CASE WHEN true THEN list_filter(")
    result = utc.execute(f"SELECT _line, _bad, len(_errors) FROM ({sql})", query.params).fetchall()
    for line, bad, errors in result:
        assert bad is (errors is not None and errors > 0), (table, rows[line - 1])


def test_a_delimiter_of_more_than_one_character_is_a_clear_error(tmp_path: Path) -> None:
    import cxlens
    from cxlens.errors import ImportFileError

    data = tmp_path / "c.csv"
    data.write_text("customer_id;segment\nC1;smb\n", encoding="utf-8")
    with cxlens.init(tmp_path / "ws") as ws:
        for bad in ("ab", '"', "\n"):
            with pytest.raises(ImportFileError, match="must be one character other than a quote"):
                ws.import_data("customers", data, delimiter=bad)
        assert ws.import_data("customers", data, delimiter=";").accepted == 1
