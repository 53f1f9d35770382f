"""Sources: turn a file or a data frame into a staged relation of text columns plus ``_line``.

Staging always happens in DuckDB temporary tables (in memory, spilled to disk past the memory
limit), so the warehouse is untouched until the import commits. Every row of the source either
becomes a staged row or a :class:`StructuralReject` with its line number: nothing is dropped.

Line numbers are 1-based physical line numbers of the file where the record starts, the header
being line 1. For Parquet files and data frames they are 1-based row numbers.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxlens.errors import ImportFileError
from cxlens.schema import normalize_header

RAW = "_cx_raw"
STAGED = "_cx_staged"
REJECTS = "_cx_rejects"
FORMATS = ("csv", "parquet", "jsonl")
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".psv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
}
_DUCKDB_ENCODINGS = {"utf-8", "utf8"}
_REJECT_CODES = {
    "MISSING COLUMNS": "too_few_columns",
    "TOO MANY COLUMNS": "too_many_columns",
    "INVALID ENCODING": "invalid_encoding",
    "INVALID UNICODE": "invalid_encoding",
}


@dataclass(frozen=True)
class StructuralReject:
    """A record that could not even be split into the header's columns."""

    line: int
    code: str
    reason: str
    raw: str


@dataclass(frozen=True)
class Staged:
    """A source staged as the temporary relation ``STAGED`` (text columns + ``_line``)."""

    columns: tuple[str, ...]
    headers: tuple[str, ...]
    rows: int
    rejects: tuple[StructuralReject, ...]
    format: str
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str | None = None
    encoding: str | None = None


def detect_format(path: Path, given: str | None) -> str:
    if given is not None:
        if given not in FORMATS:
            raise ImportFileError(
                f"The 'format' option must be one of {', '.join(FORMATS)}. Got {given!r} instead."
            )
        return given
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFileError(
            f"Cannot tell the format of {path.name} from its extension {path.suffix!r}. "
            f"Name it .csv, .parquet or .jsonl, or pass --input-format csv|parquet|jsonl."
        )
    return fmt


def check_file(path: Path) -> None:
    if not path.exists():
        raise ImportFileError(f"The file {path} does not exist. Check the path and try again.")
    if not path.is_file():
        raise ImportFileError(f"{path} is not a file. Give the path of a CSV, Parquet or JSON Lines file.")
    if path.stat().st_size == 0:
        raise ImportFileError(
            f"The file {path} is empty (0 bytes): there is no header and no data. "
            f"Export the data again and check the file has a header row."
        )


def _normalized_columns(headers: list[str], source: str) -> tuple[str, ...]:
    cols = [normalize_header(h) for h in headers]
    seen: dict[str, str] = {}
    for raw, col in zip(headers, cols):
        if not col:
            raise ImportFileError(
                f"{source}: the header {raw!r} is empty once normalised; every column needs a name."
            )
        if col in seen:
            raise ImportFileError(
                f"{source}: the headers {seen[col]!r} and {raw!r} both become column '{col}'. "
                f"Rename one of them, or use a mapping file."
            )
        seen[col] = raw
    return tuple(cols)


# --------------------------------------------------------------------------- CSV


def sniff_encoding(path: Path) -> tuple[str, str | None]:
    """Guess the encoding from a byte-order mark or the first 1 MiB; returns (encoding, warning)."""
    with path.open("rb") as fh:
        sample = fh.read(1 << 20)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", None
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not merely a character cut at the sample's end
            return "cp1252", (
                f"{path.name} is not UTF-8 (byte {exc.object[exc.start]:#04x} at offset "
                f"{exc.start}); it was read as cp1252 (Windows Western European). If text "
                f"looks wrong, import again with --encoding NAME."
            )
    return "utf-8", None


def sniff_delimiter(path: Path) -> str:
    """The delimiter is the candidate that occurs most often in the header line."""
    with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        header = fh.readline()
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _transcode(path: Path, encoding: str, tmpdir: Path) -> Path:
    """Write a UTF-8 copy of a file in another encoding (streamed in 4 MiB pieces)."""
    out = tmpdir / (path.stem + ".utf8.csv")
    try:
        with path.open("r", encoding=encoding, newline="") as src, out.open(
            "w", encoding="utf-8", newline=""
        ) as dst:
            for piece in iter(lambda: src.read(1 << 22), ""):
                dst.write(piece)
    except LookupError:
        raise ImportFileError(
            f"Unknown encoding {encoding!r}. Use a name Python knows, e.g. utf-8, latin-1, "
            f"cp1252, utf-16, shift_jis."
        ) from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path.name} is not valid {encoding} (at byte offset {exc.start}). "
            f"Pass the file's real encoding with --encoding."
        ) from None
    return out


def _read_csv_sql(delimiter: str, columns: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """read_csv with the dialect fixed (RFC 4180 quoting) and every column as text."""
    opts = (
        "delim = $delim, quote = '\"', escape = '\"', header = true, auto_detect = false, "
        "columns = $columns, max_line_size = 8388608, buffer_size = 33554432, "
        f"store_rejects = true, rejects_table = '{REJECTS}', rejects_scan = '{REJECTS}_scan'"
    )
    return f"read_csv($path, {opts})", {"delim": delimiter, "columns": {c: "VARCHAR" for c in columns}}


def _read_header(path: Path, delimiter: str) -> list[str]:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        header = next(csv.reader(fh, delimiter=delimiter), None)
    if not header:
        raise ImportFileError(
            f"{path.name} has no header row (the first line is blank). The first line must name "
            f"the columns, e.g. response_id,submitted_at,nps."
        )
    return header


def stage_csv(con: Any, path: Path, options: CsvOptions, tmpdir: Path) -> Staged:
    encoding, warning = (options.encoding, None) if options.encoding else sniff_encoding(path)
    source = path
    if encoding.lower().replace("_", "-") not in _DUCKDB_ENCODINGS:
        source = _transcode(path, encoding, tmpdir)
    delimiter = options.delimiter or sniff_delimiter(source)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ImportFileError(f"The 'delimiter' option must be one character other than a quote or a line break. "
                              f"Got {delimiter!r} instead.")
    headers = _read_header(source, delimiter)
    columns = _normalized_columns(headers, path.name)
    func, params = _read_csv_sql(delimiter, columns)
    params["path"] = str(source)
    con.execute(f"DROP TABLE IF EXISTS {RAW}")
    con.execute(f"CREATE TEMP TABLE {RAW} AS SELECT * FROM {func}", params)
    rows = con.execute(f"SELECT count(*) FROM {RAW}").fetchone()[0]
    reject_rows = con.execute(
        f"SELECT DISTINCT ON (line) line, error_type, csv_line, error_message FROM {REJECTS} ORDER BY line"
    ).fetchall()
    rejects, warnings = _locate_lines(con, source, rows, reject_rows, len(columns), delimiter)
    if warning:
        warnings = (warning, *warnings)
    return Staged(columns, tuple(headers), rows, rejects, "csv", warnings)


def _escape_all(names: list[str]) -> list[str]:
    return [n.replace('"', '""') for n in names]


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)


def _locate_lines(
    con: Any, path: Path, rows: int, reject_rows: list[tuple], width: int, delimiter: str
) -> tuple[tuple[StructuralReject, ...], tuple[str, ...]]:
    """Give staged rows and rejects their physical line numbers, in memory independent of rows.

    DuckDB numbers records from 1 (the header), counting a blank line as a record and a record
    spanning several lines as one. A staged row's record number is its position + 2 + the
    records skipped before it (rejects, blank lines); its line is the record number + the extra
    lines of multi-line records before it. When the file has exactly one line per record (a
    newline count tells), no record is blank or multi-line; otherwise one streaming pass with
    Python's csv module finds the blank records and where the line offset changes.
    """
    rejected = [int(r[0]) for r in reject_rows]
    if _count_lines(path) == 1 + rows + len(reject_rows):
        blanks: list[int] = []
        shifts: list[tuple[int, int]] = []
    else:
        blanks, shifts = _irregular_records(path, delimiter)
    _map_lines(con, sorted(set(rejected) | set(blanks)), shifts)
    return tuple(_reject(_physical(r[0], shifts), r, width) for r in reject_rows), ()


def _irregular_records(path: Path, delimiter: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Blank records, and (record, extra lines before it) wherever that offset changes."""
    blanks: list[int] = []
    shifts: list[tuple[int, int]] = []
    with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True)
        previous, offset = 0, 0
        for k, record in enumerate(reader, start=1):
            start = previous + 1
            if start - k != offset:
                offset = start - k
                shifts.append((k, offset))
            if not record:
                blanks.append(k)
            previous = reader.line_num
    return blanks, shifts


def _physical(record: int, shifts: list[tuple[int, int]]) -> int:
    i = bisect.bisect_right(shifts, (record, float("inf"))) - 1
    return record + (shifts[i][1] if i >= 0 else 0)


def _map_lines(con: Any, skipped: list[int], shifts: list[tuple[int, int]]) -> None:
    """Define the ``STAGED`` view: raw rows plus ``_line``, by two ASOF joins on small tables."""
    if not skipped and not shifts:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGED} AS SELECT *, rowid + 2 AS _line FROM {RAW}")
        return
    # g = staged rows before the j-th skipped record; rows at or after g are pushed by j records.
    # Consecutive skipped records share a g; the last one (largest count) must win the ASOF.
    gaps = list({s - 2 - j: j + 1 for j, s in enumerate(skipped)}.items())
    _small_table(con, "_cx_skips", ("g", "k"), gaps or [(-1, 0)])
    _small_table(con, "_cx_shifts", ("rec", "extra"), shifts or [(0, 0)])
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {STAGED} AS
        WITH numbered AS (
            SELECT r.*, r.rowid + 2 + coalesce(s.k, 0) AS _record
            FROM {RAW} r ASOF LEFT JOIN _cx_skips s ON s.g <= r.rowid
        )
        SELECT n.* EXCLUDE (_record), n._record + coalesce(x.extra, 0) AS _line
        FROM numbered n ASOF LEFT JOIN _cx_shifts x ON x.rec <= n._record
    """)


def _small_table(con: Any, name: str, columns: tuple[str, str], rows: list[tuple[int, int]]) -> None:
    table = pa.table({columns[0]: pa.array([r[0] for r in rows], pa.int64()),
                      columns[1]: pa.array([r[1] for r in rows], pa.int64())})
    con.register(name + "_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(name + "_arrow")


def _reject(line: int, row: tuple, width: int) -> StructuralReject:
    _, error_type, csv_line, message = row
    code = _REJECT_CODES.get(error_type, "malformed_row")
    if code == "too_few_columns" or code == "too_many_columns":
        reason = (
            f"the row does not have the header's {width} columns ({message.strip()}); "
            f"check for a missing or extra delimiter or an unclosed quote"
        )
    elif code == "invalid_encoding":
        reason = (
            "the row contains bytes that are not valid UTF-8; if the file uses another "
            "encoding, import it with --encoding (e.g. cp1252, latin-1)"
        )
    else:
        reason = f"the row cannot be parsed: {message.strip()}"
    return StructuralReject(line=line, code=code, reason=reason, raw=(csv_line or "").strip("\r\n"))


# --------------------------------------------------------------------------- Parquet


def stage_parquet(con: Any, path: Path) -> Staged:
    try:
        schema = con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall()
    except Exception as exc:
        raise ImportFileError(
            f"{path.name} is not a readable Parquet file ({exc}). Check the file, or pass "
            f"--input-format csv|jsonl if it is not Parquet."
        ) from None
    headers = [r[0] for r in schema]
    columns = _normalized_columns(headers, path.name)
    select = ", ".join(
        f'CAST("{h}" AS VARCHAR) AS "{c}"' for h, c in zip(_escape_all(headers), columns)
    )
    con.execute(f"DROP TABLE IF EXISTS {RAW}")
    con.execute(
        f"CREATE TEMP TABLE {RAW} AS SELECT {select}, file_row_number + 1 AS _line "
        f"FROM read_parquet($p, file_row_number = true)",
        {"p": str(path)},
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGED} AS SELECT * FROM {RAW}")
    rows = con.execute(f"SELECT count(*) FROM {RAW}").fetchone()[0]
    return Staged(columns, tuple(headers), rows, (), "parquet")


# --------------------------------------------------------------------------- JSON Lines


_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, kept by errors="surrogateescape"


def _json_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | StructuralReject]]:
    # surrogateescape keeps bytes that are not UTF-8 as lone surrogates, so one bad byte costs
    # exactly its own line (a strict reader loses the good lines read in the same chunk).
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as fh:
        for line_no, line in enumerate(fh, start=1):
            if _UNDECODABLE.search(line):
                yield line_no, StructuralReject(
                    line_no, "invalid_encoding",
                    "the line is not valid UTF-8; JSON Lines files must be UTF-8", "",
                )
            elif line.strip():
                yield line_no, _parse_json_line(line_no, line)


def _parse_json_line(line_no: int, line: str) -> dict[str, Any] | StructuralReject:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return StructuralReject(line_no, "bad_json", f"the line is not valid JSON: {exc.msg}", line.strip())
    if not isinstance(value, dict):
        return StructuralReject(
            line_no, "bad_json", "each line must be a JSON object ({...})", line.strip()
        )
    return value


def json_value_as_text(value: Any) -> str | None:
    """A JSON value as the text a staged column holds (booleans lower-case, objects as JSON)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def stage_jsonl(con: Any, path: Path, batch_rows: int = 100_000) -> Staged:
    headers: dict[str, None] = {}
    rejects: list[StructuralReject] = []
    for _, rec in _json_records(path):
        if isinstance(rec, StructuralReject):
            rejects.append(rec)
        else:
            headers.update(dict.fromkeys(rec))
    if not headers:
        raise ImportFileError(
            f"{path.name} has no JSON object lines to import"
            + (f" ({len(rejects)} unreadable lines)." if rejects else ".")
        )
    names = list(headers)
    columns = _normalized_columns(names, path.name)
    con.execute(f"DROP TABLE IF EXISTS {RAW}")
    ddl = ", ".join(f'"{c}" VARCHAR' for c in columns)
    con.execute(f"CREATE TEMP TABLE {RAW} ({ddl}, _line BIGINT)")
    rows = 0
    for batch in _json_batches(path, names, columns, batch_rows):
        _append_arrow(con, batch)
        rows += batch.num_rows
    con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGED} AS SELECT * FROM {RAW}")
    return Staged(columns, tuple(names), rows, tuple(rejects), "jsonl")


def _json_batches(
    path: Path, names: list[str], columns: tuple[str, ...], batch_rows: int
) -> Iterator[pa.Table]:
    buf: dict[str, list[Any]] = {c: [] for c in (*columns, "_line")}
    for line_no, rec in _json_records(path):
        if isinstance(rec, StructuralReject):
            continue
        for name, col in zip(names, columns):
            buf[col].append(json_value_as_text(rec.get(name)))
        buf["_line"].append(line_no)
        if len(buf["_line"]) >= batch_rows:
            yield _buffer_table(buf, columns)
            buf = {c: [] for c in (*columns, "_line")}
    if buf["_line"]:
        yield _buffer_table(buf, columns)


def _buffer_table(buf: dict[str, list[Any]], columns: tuple[str, ...]) -> pa.Table:
    arrays = {c: pa.array(buf[c], pa.string()) for c in columns}
    arrays["_line"] = pa.array(buf["_line"], pa.int64())
    return pa.table(arrays)


def _append_arrow(con: Any, table: pa.Table) -> None:
    con.register("_cx_batch", table)
    con.execute(f"INSERT INTO {RAW} SELECT * FROM _cx_batch")
    con.unregister("_cx_batch")


# --------------------------------------------------------------------------- data frames


def stage_arrow(con: Any, data: Any, source: str) -> Staged:
    """Stage a pyarrow Table or a pandas DataFrame; lines are 1-based row numbers."""
    table = _as_arrow(data)
    headers = list(table.column_names)
    columns = _normalized_columns(headers, source)
    texts = {c: _arrow_text(table.column(i)) for i, c in enumerate(columns)}
    texts["_line"] = pa.array(range(1, table.num_rows + 1), pa.int64())
    con.execute(f"DROP TABLE IF EXISTS {RAW}")
    con.register("_cx_frame", pa.table(texts))
    con.execute(f"CREATE TEMP TABLE {RAW} AS SELECT * FROM _cx_frame")
    con.unregister("_cx_frame")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGED} AS SELECT * FROM {RAW}")
    return Staged(columns, tuple(headers), table.num_rows, (), "dataframe")


def _as_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        return pa.Table.from_pandas(data, preserve_index=False)
    except Exception as exc:
        raise ImportFileError(
            f"Cannot import an object of type {type(data).__name__}: give a file path, a "
            f"pandas DataFrame or a pyarrow Table ({exc})."
        ) from None


def _arrow_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    typ = column.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return column.cast(pa.string())
    if pa.types.is_boolean(typ):
        return pa.chunked_array(
            [pa.array([None if v is None else ("true" if v else "false") for v in column.to_pylist()], pa.string())]
        )
    if pa.types.is_nested(typ):
        return pa.chunked_array(
            [pa.array([None if v is None else json.dumps(v, default=str) for v in column.to_pylist()], pa.string())]
        )
    if pa.types.is_dictionary(typ):
        return column.cast(typ.value_type).cast(pa.string())
    return column.cast(pa.string())


def scratch_dir(base: Path) -> tempfile.TemporaryDirectory[str]:
    base.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=base, prefix="import-")


__all__ = [
    "CsvOptions", "FORMATS", "STAGED", "Staged", "StructuralReject", "check_file",
    "detect_format", "scratch_dir", "stage_arrow", "stage_csv", "stage_jsonl", "stage_parquet",
]
