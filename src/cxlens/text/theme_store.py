"""The warehouse table ``text_theme_assignments``: one theme per (source_table, source_id).

Columns (a contract other analyses read): ``source_table`` ('responses' or 'tickets'),
``source_id`` (the row's key), ``theme_id`` ('other' below the similarity floor), ``theme_label``,
``similarity`` (cosine to the theme's centroid; NULL for a text set apart by language),
``model_version`` (the theme model's version), then ``sub_theme_id``, ``sub_theme_label`` and
``sub_similarity`` (the sub-theme, e.g. ``t3.1``, NULL when the theme has none). Tables created
before sub-themes existed get the three columns added (NULL) the first time they are used.
Writes are one DuckDB transaction each: a refit replaces every row, an incremental run replaces
only the rows it assigned. The embedded DuckDB warehouse is required for writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import pyarrow as pa

from cxlens.errors import CxlensInputError
from cxlens.warehouse import Warehouse

TABLE = "text_theme_assignments"
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    # source table: (key column, text columns joined with ". ")
    "responses": ("response_id", ("comment",)),
    "tickets": ("ticket_id", ("subject", "description")),
}
DDL = (f'CREATE TABLE IF NOT EXISTS "{TABLE}" (source_table VARCHAR, source_id VARCHAR, theme_id VARCHAR, '
       "theme_label VARCHAR, similarity DOUBLE, model_version VARCHAR, sub_theme_id VARCHAR, "
       "sub_theme_label VARCHAR, sub_similarity DOUBLE)")
#: Columns added after the first release: (name, DuckDB type), added to older tables when missing.
ADDED_COLUMNS = (("sub_theme_id", "VARCHAR"), ("sub_theme_label", "VARCHAR"), ("sub_similarity", "DOUBLE"))
SCHEMA = pa.schema([("source_table", pa.string()), ("source_id", pa.string()), ("theme_id", pa.string()),
                    ("theme_label", pa.string()), ("similarity", pa.float64()), ("model_version", pa.string()),
                    ("sub_theme_id", pa.string()), ("sub_theme_label", pa.string()),
                    ("sub_similarity", pa.float64())])


@dataclass(frozen=True)
class SourceTexts:
    """Texts of one source table: row keys and the text to analyse (NULL/blank kept as '')."""

    source_table: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]


def check_sources(sources: Sequence[str]) -> tuple[str, ...]:
    for s in sources:
        if s not in SOURCES:
            raise CxlensInputError(f"The 'sources' option must name tables among {', '.join(SOURCES)}. "
                                   f"Got {s!r} instead.")
    return tuple(dict.fromkeys(sources))


def ensure_table(wh: Warehouse) -> None:
    """Create the table, or add the columns a table of an older release lacks (NULL in its rows)."""
    con = wh.duckdb
    con.execute(DDL)
    have = {str(r[0]) for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = "
        "current_schema()", [TABLE]).fetchall()}
    for name, kind in ADDED_COLUMNS:
        if name not in have:
            con.execute(f'ALTER TABLE "{TABLE}" ADD COLUMN IF NOT EXISTS {name} {kind}')


def assignments(wh: Warehouse) -> ibis.Table:
    """The assignments table as an Ibis expression (created empty when missing)."""
    ensure_table(wh)
    return wh.backend.table(TABLE)


def text_expr(t: ibis.Table, source: str) -> ibis.Table:
    """(source_id, text) of a source table; text columns are joined with '. ' and NULLs dropped."""
    key, columns = SOURCES[source]
    parts = [t[c].cast("string").fill_null("").strip() for c in columns]
    text = parts[0]
    for p in parts[1:]:
        text = ibis.ifelse((text != "") & (p != ""), text + ". " + p, text + p)
    return t.select(source_id=t[key].cast("string"), text=text)


def read_texts(wh: Warehouse, source: str, *, unassigned_for: str | None = None) -> SourceTexts:
    """Every row's text, or only rows without an assignment under model version ``unassigned_for``."""
    expr = text_expr(wh.table(source), source)
    if unassigned_for is not None:
        done = assignments(wh)
        done = done.filter((done.source_table == source) & (done.model_version == unassigned_for))
        expr = expr.anti_join(done, expr.source_id == done.source_id)
    df = expr.order_by("source_id").to_pyarrow()
    return SourceTexts(source, tuple(df["source_id"].to_pylist()), tuple(df["text"].to_pylist()))


def rows_table(source: str, ids: Sequence[str], theme_ids: Sequence[str], labels: Sequence[str],
               similarities: Sequence[float | None], model_version: str, *,
               sub_theme_ids: Sequence[str | None] | None = None, sub_labels: Sequence[str | None] | None = None,
               sub_similarities: Sequence[float | None] | None = None) -> pa.Table:
    """Rows of the table; similarities that are None or NaN are stored as NULL."""
    n = len(ids)
    nothing: list[None] = [None] * n
    return pa.table({"source_table": [source] * n, "source_id": list(ids), "theme_id": list(theme_ids),
                     "theme_label": list(labels), "similarity": _floats(similarities),
                     "model_version": [model_version] * n,
                     "sub_theme_id": list(sub_theme_ids) if sub_theme_ids is not None else nothing,
                     "sub_theme_label": list(sub_labels) if sub_labels is not None else nothing,
                     "sub_similarity": _floats(sub_similarities) if sub_similarities is not None else nothing},
                    schema=SCHEMA)


def _floats(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None or v != v else float(v) for v in values]


def write(wh: Warehouse, rows: pa.Table, *, replace_all: bool) -> int:
    """Write ``rows`` in one transaction: all rows replaced, or only those with the same keys."""
    con = wh.duckdb
    ensure_table(wh)
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_theme_rows", rows)
        if replace_all:
            con.execute(f'DELETE FROM "{TABLE}"')
        else:
            con.execute(f'DELETE FROM "{TABLE}" AS a USING _theme_rows AS r '
                        "WHERE a.source_table = r.source_table AND a.source_id = r.source_id")
        names = ", ".join(SCHEMA.names)  # by name: a migrated table may order its columns differently
        con.execute(f'INSERT INTO "{TABLE}" ({names}) SELECT {names} FROM _theme_rows')
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_theme_rows")
    return rows.num_rows
