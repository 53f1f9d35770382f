"""The import pipeline: source -> mapping -> validation -> classification -> atomic append.

1. *Stage* the source as text columns in temporary tables (the warehouse is untouched).
2. *Find repeated keys*: the keys that occur more than once in the staged rows or are already
   stored (one hash aggregate over the key column; a semi join when the table has rows).
3. *Validate and insert*, inside one transaction: every row is typed and checked in one
   vectorised query (see :mod:`cxlens.ingest.validate`), and the valid rows whose key is not
   repeated go straight into the table. When that was every staged row, the import is done.
4. *Classify* only the rest, materialised: rejected rows, and valid rows with a repeated key
   are new, duplicate (same key, same content) or conflict (same key, different content;
   inside the file the first one wins). The accepted ones are inserted too.
5. *Commit* with the new attribute columns, the quarantine entries and the import's record.
   A crash, kill or Ctrl-C before the commit leaves the warehouse exactly as it was; the
   commit returns once DuckDB's write-ahead log is on disk.
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
from cxlens.ingest.validate import Builder, PlannedColumn, ValidationQuery, build_query, ident, plan_columns
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
    existing = set(wh.columns(spec.name))
    new_columns = [c.target for c in columns if c.target not in existing]
    import_id = _next_import_id(con)
    con.execute("BEGIN TRANSACTION")
    try:
        for name in new_columns:
            con.execute(f"ALTER TABLE {ident(spec.name)} ADD COLUMN {ident(name)} VARCHAR")
        counts, classified = _append(con, spec, columns, query, staged, existing, on_conflict, import_id, wh.settings)
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
            warnings=staged.warnings + _warnings(staged)
            + _scale_warnings(con, spec, columns, import_id, classified, on_conflict),
            new_columns=tuple(new_columns),
        )
        if classified:
            _quarantine(con, spec, report, on_conflict, now)
        _structural_rejects(con, spec, staged, report, now)
        _record_import(con, report, now)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return report


STATUSES = ("new", "duplicate", "duplicate_in_file", "conflict", "conflict_in_file", "invalid")


def _accepted(on_conflict: OnConflict) -> str:
    return "('new', 'conflict')" if on_conflict == "update" else "('new')"


def _append(
    con: Any,
    spec: TableSpec,
    columns: tuple[PlannedColumn, ...],
    query: ValidationQuery,
    staged: Staged,
    existing: set[str],
    on_conflict: OnConflict,
    import_id: int,
    settings: dict[str, Any],
) -> tuple[dict[str, int], bool]:
    """Insert the accepted rows; return the counts by status and whether any row needed classifying.

    Valid rows whose key neither repeats in the file nor is stored go straight from the
    validation query into the table, without an intermediate copy. When that inserted every
    staged row (a clean file of new keys, the common case) nothing else is read again;
    otherwise only the rejected rows and those with a repeated or stored key are materialised
    and classified.
    """
    table, key = ident(spec.name), ident(spec.key)
    cols = ", ".join(ident(c.target) for c in columns)
    keyed = _repeated_keys(con, spec, columns, settings)
    anti = f" ANTI JOIN {KEYS} k ON k.{key} = v.{key}" if keyed else ""
    inserted = con.execute(
        f"INSERT INTO {table} ({cols}, _import_id, _line) "
        f"SELECT {cols}, $id, _line FROM ({query.sql}) v{anti} WHERE NOT v._bad",
        {**query.params, "id": import_id},
    ).fetchone()[0]
    counts = dict.fromkeys(STATUSES, 0)
    counts["new"] = int(inserted)
    if inserted == staged.rows:
        return counts, False
    keep = f" OR v.{key} IN (SELECT {key} FROM {KEYS})" if keyed else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {VALID} AS SELECT * FROM ({query.sql}) v WHERE v._bad{keep}", query.params
    )
    _classify(con, spec, columns, existing)
    for status, n in con.execute(f"SELECT _status, count(*) FROM {CLASSIFIED} GROUP BY ALL").fetchall():
        counts[status] += int(n)
    if on_conflict == "update" and counts["conflict"]:
        con.execute(
            f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {CLASSIFIED} WHERE _status = 'conflict')"
        )
        _forget_themes(con, spec.name, key)
    con.execute(
        f"INSERT INTO {table} ({cols}, _import_id, _line) "
        f"SELECT {cols}, $id, _line FROM {CLASSIFIED} WHERE _status IN {_accepted(on_conflict)}",
        {"id": import_id},
    )
    return counts, True


def _forget_themes(con: Any, table: str, key: str) -> None:
    """Rows replaced by an update lose their stored theme, which was found from their old text; the
    next assignment (``cxlens text themes``, the server's jobs, a rule on themes) finds it from the
    new text. In the import's transaction. (Text annotations need nothing: they keep a hash of the
    text they describe and are redone when it changes.)"""
    from cxlens.text.theme_store import TABLE as THEMES  # noqa: PLC0415 - a plain name; no text extra needed

    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [THEMES]).fetchone()
    if not found[0]:
        return
    con.execute(f'DELETE FROM "{THEMES}" WHERE source_table = $t AND source_id IN '
                f"(SELECT CAST({key} AS VARCHAR) FROM {CLASSIFIED} WHERE _status = 'conflict')", {"t": table})


def _scale_warnings(
    con: Any, spec: TableSpec, columns: tuple[PlannedColumn, ...], import_id: int, classified: bool,
    on_conflict: OnConflict,
) -> tuple[str, ...]:
    """Warn when NPS answers look like a 1–10 scale (many valid answers, none of them 0)."""
    if "nps" not in {c.target for c in columns}:
        return ()
    # Every valid row is either in the table under this import or classified as not accepted.
    rest = (
        f" UNION ALL SELECT nps FROM {CLASSIFIED} "
        f"WHERE _status <> 'invalid' AND _status NOT IN {_accepted(on_conflict)}"
        if classified else ""
    )
    n, low = con.execute(
        f"SELECT count(nps), min(nps) FROM (SELECT nps FROM {ident(spec.name)} WHERE _import_id = $id{rest})",
        {"id": import_id},
    ).fetchone()
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


def _repeated_keys(con: Any, spec: TableSpec, columns: tuple[PlannedColumn, ...], settings: dict[str, Any]) -> bool:
    """Create ``KEYS``: the keys that repeat in the staged rows or are already stored.

    Computed from the staged text (keys are text columns, so the cleaned text is the key),
    over every row: a key shared with a rejected row only sends a few more rows through the
    exact classification, which stays correct. Returns whether there is any such key.
    """
    key, table = ident(spec.key), ident(spec.name)
    b = Builder(settings)
    k = b.raw(next(c for c in columns if c.target == spec.key))
    staged = f"(SELECT {k} AS {key} FROM {sources.RAW})"
    stored = (
        f" UNION SELECT v.{key} FROM {staged} v SEMI JOIN {table} s ON s.{key} = v.{key}"
        if con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0] else ""
    )
    con.execute(
        # Grouping 64-bit hashes is much cheaper than grouping strings; a rare collision only
        # sends a few more rows through the classification.
        f"CREATE OR REPLACE TEMP TABLE {KEYS} AS SELECT DISTINCT v.{key} FROM {staged} v SEMI JOIN "
        f"(SELECT hash({key}) AS h FROM {staged} WHERE {key} IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d "
        f"ON hash(v.{key}) = d.h WHERE v.{key} IS NOT NULL{stored}",
        b.params,
    )
    return bool(con.execute(f"SELECT EXISTS (SELECT 1 FROM {KEYS})").fetchone()[0])


def _classify(con: Any, spec: TableSpec, columns: tuple[PlannedColumn, ...], existing: set[str]) -> None:
    """Classify the materialised rows: invalid, or (valid, key in ``KEYS``) new, duplicate or conflict.

    The stored side is narrowed to the keys in ``KEYS`` first: the table already holds this
    import's straight inserts, and a join must not build on all of them.
    """
    key, table = ident(spec.key), ident(spec.name)
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
            FROM {VALID} v WHERE NOT v._bad
        )
        SELECT v.*, CASE
            WHEN v._line <> v._first_line AND v._row IS NOT DISTINCT FROM v._first_row THEN 'duplicate_in_file'
            WHEN v._line <> v._first_line THEN 'conflict_in_file'
            WHEN s.{key} IS NULL THEN 'new'
            WHEN v._row IS NOT DISTINCT FROM {stored} THEN 'duplicate'
            ELSE 'conflict' END AS _status
        FROM ok v LEFT JOIN (SELECT t.* FROM {table} t SEMI JOIN {KEYS} k ON t.{key} = k.{key}) s
            ON s.{key} = v.{key} AND v._line = v._first_line
        UNION ALL BY NAME
        SELECT v.*, NULL AS _row, NULL AS _first_line, NULL AS _first_row, 'invalid' AS _status
        FROM {VALID} v WHERE v._bad
    """)


def _next_import_id(con: Any) -> int:
    return int(con.execute(f"SELECT coalesce(max(import_id), 0) + 1 FROM {IMPORTS_TABLE}").fetchone()[0])


def _quarantine(con: Any, spec: TableSpec, report: ImportReport, on_conflict: OnConflict, now: datetime) -> None:
    """Quarantine the classified rows that are rejected: invalid ones and (unless updating) conflicts."""
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


def _structural_rejects(con: Any, spec: TableSpec, staged: Staged, report: ImportReport, now: datetime) -> None:
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
