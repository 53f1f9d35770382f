"""The import pipeline: source -> mapping -> validation -> classification -> atomic append.

1. *Stage* the source as text columns in temporary tables (the warehouse is untouched).
2. *Validate* every row in one vectorised query (see :mod:`cxlens.ingest.validate`).
3. *Classify* valid rows against each other and the stored table: new, duplicate (same key,
   same content), conflict (same key, different content; inside the file the first one wins).
4. *Commit* in one transaction: new attribute columns, the accepted rows, the quarantine
   entries and the import's record. A crash, kill or Ctrl-C before the commit leaves the
   warehouse exactly as it was; the commit returns once DuckDB's write-ahead log is on disk.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cxlens.errors import CxlensInputError, ImportFileError
from cxlens.ingest import sources
from cxlens.ingest.mapping import IDENTITY, ColumnMapping, check_mapping
from cxlens.ingest.report import ImportReport
from cxlens.ingest.sources import CsvOptions, Staged
from cxlens.ingest.validate import PlannedColumn, build_query, ident, plan_columns
from cxlens.schema import TableSpec, table_spec
from cxlens.warehouse import IMPORTS_TABLE, QUARANTINE_TABLE, Warehouse

OnConflict = Literal["reject", "update"]
VALID = "_cx_valid"
CLASSIFIED = "_cx_classified"


def import_data(
    warehouse: Warehouse,
    table: str,
    data: Any,
    *,
    now: datetime,
    mapping: ColumnMapping = IDENTITY,
    on_conflict: OnConflict = "reject",
    input_format: str | None = None,
    csv: CsvOptions = CsvOptions(),
    scratch: Path | None = None,
    source_name: str | None = None,
) -> ImportReport:
    """Import a file path or a data frame into ``table``; see the module docstring."""
    spec = table_spec(table)
    if on_conflict not in ("reject", "update"):
        raise CxlensInputError(
            f"The 'on_conflict' parameter must be 'reject' or 'update'. Got {on_conflict!r} instead."
        )
    con = warehouse.duckdb
    base = scratch or Path.cwd()
    with sources.scratch_dir(base) as tmp:
        try:
            staged, name = _stage(con, data, input_format, csv, Path(tmp), source_name)
            # Staging keeps the file's order (row position = line); later steps carry _line
            # explicitly, so they may run in any order, which is faster.
            con.execute("SET preserve_insertion_order = false")
            return _import_staged(warehouse, spec, staged, name, mapping, on_conflict, now)
        finally:
            con.execute("SET preserve_insertion_order = true")
            _drop_temp(con)


def _stage(
    con: Any, data: Any, fmt: str | None, csv: CsvOptions, tmp: Path, name: str | None
) -> tuple[Staged, str]:
    if isinstance(data, (str, Path)):
        path = Path(data)
        sources.check_file(path)
        kind = sources.detect_format(path, fmt)
        if kind == "csv":
            return sources.stage_csv(con, path, csv, tmp), name or str(path)
        if kind == "parquet":
            return sources.stage_parquet(con, path), name or str(path)
        return sources.stage_jsonl(con, path), name or str(path)
    label = name or f"<{type(data).__name__}>"
    return sources.stage_arrow(con, data, label), label


def _import_staged(
    wh: Warehouse,
    spec: TableSpec,
    staged: Staged,
    source: str,
    mapping: ColumnMapping,
    on_conflict: OnConflict,
    now: datetime,
) -> ImportReport:
    check_mapping(mapping, spec, staged.columns)
    columns = plan_columns(spec, staged.columns, mapping)
    con = wh.duckdb
    query = build_query(spec, columns, wh.settings)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {VALID} AS {query.sql}", query.params)
    existing = set(wh.columns(spec.name))
    _classify(con, spec, columns, existing)
    counts = _counts(con)
    import_id = _next_import_id(con)
    new_columns = [c.target for c in columns if c.target not in existing]
    report = ImportReport(
        table=spec.name,
        source=source,
        format=staged.format,
        import_id=import_id,
        read=staged.rows + len(staged.rejects),
        accepted=counts["new"] + (counts["conflict"] if on_conflict == "update" else 0),
        rejected=counts["invalid"] + counts["conflict_in_file"] + len(staged.rejects)
        + (counts["conflict"] if on_conflict == "reject" else 0),
        duplicates=counts["duplicate"] + counts["duplicate_in_file"],
        conflicts=counts["conflict"] + counts["conflict_in_file"],
        updated=counts["conflict"] if on_conflict == "update" else 0,
        quarantine=f"cxlens quarantine {spec.name} --import {import_id}",
        warnings=staged.warnings + _warnings(staged) + _scale_warnings(con, columns),
        new_columns=tuple(new_columns),
    )
    _commit(con, spec, columns, staged, report, on_conflict, new_columns, now)
    return report


def _scale_warnings(con: Any, columns: tuple[PlannedColumn, ...]) -> tuple[str, ...]:
    """Warn when NPS answers look like a 1–10 scale (many answers, none of them 0)."""
    if "nps" not in {c.target for c in columns}:
        return ()
    n, low = con.execute(f"SELECT count(nps), min(nps) FROM {VALID} WHERE NOT _bad").fetchone()
    if n >= 20 and low is not None and low >= 1:
        return (
            f"None of the {n} NPS answers is 0: if the survey asked on a 1–10 scale, its NPS is "
            f"not comparable with the standard 0–10 one. Check the survey; a 1–10 scale can be "
            f"mapped with a [convert.nps] values table in a mapping file.",
        )
    return ()


def _warnings(staged: Staged) -> tuple[str, ...]:
    if staged.rows == 0 and not staged.rejects:
        return ("The file has a header but no data rows; nothing was imported.",)
    return ()


KEYS = "_cx_keys"


def _classify(con: Any, spec: TableSpec, columns: tuple[PlannedColumn, ...], existing: set[str]) -> None:
    """Classify the rows that need it; every other valid row is simply new.

    Only keys that repeat inside the file or are already stored need the (costlier) content
    comparison, so a first import of a clean file does no window or join over all rows.
    """
    key, table = ident(spec.key), ident(spec.name)
    stored_keys = (
        f" UNION SELECT v.{key} FROM {VALID} v SEMI JOIN {table} s ON s.{key} = v.{key} "
        f"WHERE NOT v._bad"
        if con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0] else ""
    )
    con.execute(
        # Grouping 64-bit hashes is much cheaper than grouping strings; a rare collision only
        # sends a few more rows through the exact classification below, which stays correct.
        f"CREATE OR REPLACE TEMP TABLE {KEYS} AS SELECT DISTINCT v.{key} FROM {VALID} v SEMI JOIN "
        f"(SELECT hash({key}) AS h FROM {VALID} WHERE NOT _bad GROUP BY 1 HAVING count(*) > 1) d "
        f"ON hash(v.{key}) = d.h WHERE NOT v._bad{stored_keys}"
    )
    row = "{" + ", ".join(f"'{c.target}': v.{ident(c.target)}" for c in columns) + "}"
    stored = "{" + ", ".join(
        f"'{c.target}': " + (f"s.{ident(c.target)}" if c.target in existing else "CAST(NULL AS VARCHAR)")
        for c in columns
    ) + "}"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {CLASSIFIED} AS
        WITH ok AS (
            SELECT v.*, {row} AS _row,
                   first_value(_line) OVER (PARTITION BY v.{key} ORDER BY _line) AS _first_line,
                   first_value({row}) OVER (PARTITION BY v.{key} ORDER BY _line) AS _first_row
            FROM {VALID} v SEMI JOIN {KEYS} k ON k.{key} = v.{key} WHERE NOT v._bad
        )
        SELECT v.*, CASE
            WHEN v._line <> v._first_line AND v._row IS NOT DISTINCT FROM v._first_row THEN 'duplicate_in_file'
            WHEN v._line <> v._first_line THEN 'conflict_in_file'
            WHEN s.{key} IS NULL THEN 'new'
            WHEN v._row IS NOT DISTINCT FROM {stored} THEN 'duplicate'
            ELSE 'conflict' END AS _status
        FROM ok v LEFT JOIN {table} s ON s.{key} = v.{key} AND v._line = v._first_line
        UNION ALL BY NAME
        SELECT v.*, NULL AS _row, NULL AS _first_line, NULL AS _first_row, 'invalid' AS _status
        FROM {VALID} v WHERE v._bad
    """)


def _counts(con: Any) -> dict[str, int]:
    counts = dict(con.execute(f"SELECT _status, count(*) FROM {CLASSIFIED} GROUP BY ALL").fetchall())
    keys = ("new", "duplicate", "duplicate_in_file", "conflict", "conflict_in_file", "invalid")
    out = {k: int(counts.get(k, 0)) for k in keys}
    valid = con.execute(f"SELECT count(*) FROM {VALID} WHERE NOT _bad").fetchone()[0]
    out["new"] += int(valid) - sum(out[k] for k in keys if k != "invalid")
    return out


def _next_import_id(con: Any) -> int:
    return int(con.execute(f"SELECT coalesce(max(import_id), 0) + 1 FROM {IMPORTS_TABLE}").fetchone()[0])


def _commit(
    con: Any,
    spec: TableSpec,
    columns: tuple[PlannedColumn, ...],
    staged: Staged,
    report: ImportReport,
    on_conflict: OnConflict,
    new_columns: list[str],
    now: datetime,
) -> None:
    table = ident(spec.name)
    cols = ", ".join(ident(c.target) for c in columns)
    accepted = "('new', 'conflict')" if on_conflict == "update" else "('new')"
    con.execute("BEGIN TRANSACTION")
    try:
        for name in new_columns:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {ident(name)} VARCHAR")
        if on_conflict == "update" and report.updated:
            con.execute(
                f"DELETE FROM {table} WHERE {ident(spec.key)} IN "
                f"(SELECT {ident(spec.key)} FROM {CLASSIFIED} WHERE _status = 'conflict')"
            )
        key = ident(spec.key)
        con.execute(
            f"INSERT INTO {table} ({cols}, _import_id, _line) "
            f"SELECT {cols}, $id, _line FROM {VALID} v ANTI JOIN {KEYS} k ON k.{key} = v.{key} "
            f"WHERE NOT v._bad "
            f"UNION ALL SELECT {cols}, $id, _line FROM {CLASSIFIED} WHERE _status IN {accepted}",
            {"id": report.import_id},
        )
        _quarantine(con, spec, staged, report, on_conflict, now)
        _record_import(con, report, now)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _quarantine(
    con: Any, spec: TableSpec, staged: Staged, report: ImportReport, on_conflict: OnConflict, now: datetime
) -> None:
    params = {"id": report.import_id, "t": spec.name, "src": report.source, "now": now.replace(tzinfo=None)}
    key = ident(spec.key)
    conflict = "" if on_conflict == "update" else ", 'conflict'"
    con.execute(f"""
        INSERT INTO {QUARANTINE_TABLE}
        SELECT $id, $t, $src, _line, _errors[1]."column", _errors[1].value, _errors[1].code,
               array_to_string(list_transform(_errors, lambda e: e.reason), '; '), _raw, $now
        FROM {CLASSIFIED} WHERE _status = 'invalid'
        UNION ALL
        SELECT $id, $t, $src, _line, '{spec.key}', CAST({key} AS VARCHAR), 'key_conflict',
               CASE WHEN _status = 'conflict_in_file'
                    THEN 'key ''' || CAST({key} AS VARCHAR) || ''' already appears on line ' || _first_line
                         || ' of this file with different content; keep one version of the row'
                    ELSE 'key ''' || CAST({key} AS VARCHAR) || ''' is already stored with different '
                         || 'content; re-import with --on-conflict update to replace it' END,
               CAST(to_json(_row) AS VARCHAR), $now
        FROM {CLASSIFIED} WHERE _status IN ('conflict_in_file'{conflict})
    """, params)
    if staged.rejects:
        rows = [
            (report.import_id, spec.name, report.source, r.line, None, None, r.code, r.reason, r.raw,
             now.replace(tzinfo=None))
            for r in staged.rejects
        ]
        con.executemany(f"INSERT INTO {QUARANTINE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _record_import(con: Any, r: ImportReport, now: datetime) -> None:
    ts = now.replace(tzinfo=None)
    con.execute(
        f"INSERT INTO {IMPORTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [r.import_id, r.table, r.source, r.format, ts, ts, r.read, r.accepted, r.rejected,
         r.duplicates, r.conflicts, r.updated],
    )


def _drop_temp(con: Any) -> None:
    temporaries = (CLASSIFIED, KEYS, VALID, "_cx_skips", "_cx_shifts", sources.RAW, sources.REJECTS,
                   sources.REJECTS + "_scan")
    for name in temporaries:
        try:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        except Exception:  # a view of the same name, or an aborted transaction: drop as view
            con.execute(f"DROP VIEW IF EXISTS {name}")
    con.execute(f"DROP VIEW IF EXISTS {sources.STAGED}")


__all__ = ["ImportReport", "OnConflict", "import_data", "ImportFileError"]
