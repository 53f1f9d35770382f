"""Text annotations stored in the warehouse: sentiment, emotions, language and redacted text.

``annotate(warehouse, source="all", now=...)`` reads the texts of ``responses`` (``comment``) and
``tickets`` (``subject`` and ``description``, joined by a line break), analyses each one with
:mod:`cxlens.text` and stores one row per (``source_table``, ``source_id``, ``model_version``) in
the warehouse table ``text_annotations`` (columns: :data:`COLUMNS`, see ``docs/annotations.md``).

- **Incremental**: each stored row keeps the MD5 ``text_hash`` of the text it was computed from.
  The warehouse compares it with the current text, so only new texts and texts that changed leave
  the warehouse and are analysed again; a run over unchanged data analyses nothing.
- **Resumable**: the work is done in batches of ``batch_size`` texts; each batch is written in its
  own transaction (delete the batch's old rows, insert the new ones, commit). A killed run keeps
  every committed batch and no part of the batch it was in; the next run starts from the texts
  still missing, so the result equals one uninterrupted run.
- **Model versions**: rows are keyed by ``model_version`` too; a new version of the annotators
  (:data:`MODEL_VERSION`) annotates every text again and keeps the old version's rows.
- **Bad input**: missing or blank texts are counted as ``skipped_empty`` and not stored (a stored
  annotation of a text that became blank is removed); control characters are removed before the
  analysis; texts longer than ``max_chars`` are analysed and stored truncated, with a ``note``;
  texts in a language other than English get ``status = 'unsupported_language'`` and no scores.

The embedded DuckDB warehouse is written through its own connection (like the import pipeline);
a command holds the warehouse only while it runs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from cxlens.errors import CxlensInputError
from cxlens.text.emotions import EMOTIONS
from cxlens.text.emotions import emotions as emotions_of
from cxlens.text.language import LanguageGuess, detect_languages
from cxlens.text.pii import redact_many
from cxlens.text.sentiment import score, unsupported_reason
from cxlens.warehouse import Warehouse

ANNOTATIONS_TABLE = "text_annotations"
#: Version of the annotation rules of cxlens (sentiment lexicon extension, emotions, language,
#: redaction). Raise it when any of them changes the output: every text is annotated again.
ANNOTATOR_VERSION = "1"
MODEL_VERSION = f"cxlens-text-{ANNOTATOR_VERSION}"
MAX_CHARS = 5000
DEFAULT_BATCH_SIZE = 2000

_TODO = "_cx_annotate_todo"
_BATCH = "_cx_annotate_batch"


@dataclass(frozen=True)
class TextSource:
    """Where the texts of one table come from."""

    table: str
    key: str
    time_column: str
    text_columns: tuple[str, ...]

    def text_sql(self) -> str:
        """SQL for the analysed text: the text columns joined by a line break (blank parts left out)."""
        parts = [f"NULLIF(\"{c}\", '')" for c in self.text_columns]
        return parts[0] if len(parts) == 1 else f"concat_ws(chr(10), {', '.join(parts)})"


SOURCES: dict[str, TextSource] = {
    "responses": TextSource("responses", "response_id", "submitted_at", ("comment",)),
    "tickets": TextSource("tickets", "ticket_id", "created_at", ("subject", "description")),
}

#: (name, SQL type, meaning) of every column of ``text_annotations``.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("source_table", "VARCHAR", "Table the text comes from: 'responses' or 'tickets'."),
    ("source_id", "VARCHAR", "Key of the row in that table (response_id or ticket_id)."),
    ("model_version", "VARCHAR", "Version of the annotators that produced the row."),
    ("text_hash", "VARCHAR", "MD5 of the analysed text as stored in the source table."),
    ("status", "VARCHAR", "'analysed', 'unsupported_language' or 'empty' (nothing left after cleaning)."),
    ("language", "VARCHAR", "Detected language code (en, es, de, fr, it, pt, nl) or 'und'."),
    ("language_confidence", "DOUBLE", "Confidence of the language guess, 0..1."),
    ("sentiment_score", "DOUBLE", "VADER compound score with the CX lexicon, -1..1 (NULL unless analysed)."),
    ("sentiment_label", "VARCHAR", "positive, neutral, negative, unsupported_language or empty."),
    ("dominant_emotion", "VARCHAR", "The strongest emotion when it reaches 0.3, else NULL."),
    *((f"emotion_{e}", "DOUBLE", f"Intensity of {e}, 0..1 (NULL unless analysed).") for e in EMOTIONS),
    ("redacted_text", "VARCHAR", "The text with e-mails, phones, cards and IBANs replaced by placeholders; "
                                 "what analyses show."),
    ("pii_found", "INTEGER", "Number of PII values redacted."),
    ("chars", "INTEGER", "Length of the source text in characters."),
    ("truncated", "BOOLEAN", "True when only the first max_chars characters were analysed and stored."),
    ("note", "VARCHAR", "What was done to the text (truncation, removed control characters, language)."),
    ("annotated_at", "TIMESTAMP", "When the row was written (UTC)."),
)
_KEY = ("source_table", "source_id", "model_version")


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceCounts:
    """What one run did to the texts of one source table."""

    source: str
    new: int
    changed: int
    unchanged: int
    skipped_empty: int
    unsupported_language: int
    truncated: int
    batches: int

    @property
    def annotated(self) -> int:
        return self.new + self.changed


@dataclass(frozen=True)
class AnnotateResult:
    """Counts of one ``annotate`` run, per source table."""

    model_version: str
    sources: tuple[SourceCounts, ...]

    def total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.sources)

    @property
    def annotated(self) -> int:
        return sum(s.annotated for s in self.sources)

    def to_records(self) -> list[dict[str, Any]]:
        return [{"source": s.source, **{k: v for k, v in asdict(s).items() if k != "source"},
                 "model_version": self.model_version} for s in self.sources]

    def to_dict(self) -> dict[str, Any]:
        return {"model_version": self.model_version, "sources": self.to_records()}


@dataclass(frozen=True)
class TextAnnotation:
    """The annotation of one text (the row of ``text_annotations`` without its key and time)."""

    status: str
    language: str
    language_confidence: float
    sentiment_score: float | None
    sentiment_label: str
    dominant_emotion: str | None
    emotions: dict[str, float | None] = field(default_factory=dict)
    redacted_text: str = ""
    pii_found: int = 0
    chars: int = 0
    truncated: bool = False
    note: str | None = None


BatchProgress = Callable[[str, int, int], None]
"""Called after each committed batch with (source table, batch number from 1, texts in it)."""


# --------------------------------------------------------------------------------------------------
# Annotating texts (pure)
# --------------------------------------------------------------------------------------------------


def clean_text(text: str, max_chars: int = MAX_CHARS) -> tuple[str, bool, list[str]]:
    """Remove control characters (keeping tabs and line breaks) and truncate to ``max_chars``.

    Returns the cleaned text, whether it was truncated and notes saying what was done.
    """
    notes: list[str] = []
    kept = "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cs", "Co"))
    if len(kept) != len(text):
        notes.append(f"removed {len(text) - len(kept)} control or non-text character(s)")
    truncated = len(kept) > max_chars
    if truncated:
        notes.append(f"truncated from {len(kept)} to {max_chars} characters")
        kept = kept[:max_chars]
    return kept, truncated, notes


def annotate_texts(texts: Sequence[str], max_chars: int = MAX_CHARS) -> list[TextAnnotation]:
    """Annotate each text: language, sentiment, emotions and redacted text (see the module docstring)."""
    if max_chars < 1:
        raise CxlensInputError(f"The 'max_chars' parameter must be 1 or more. Got {max_chars!r} instead.")
    cleaned = [clean_text(t, max_chars) for t in texts]
    bodies = [c[0] for c in cleaned]
    guesses = detect_languages(bodies)
    supported = [i for i, (b, g) in enumerate(zip(bodies, guesses)) if b.strip() and unsupported_reason(g) is None]
    sentiments = dict(zip(supported, score([bodies[i] for i in supported], language="en")))
    feelings = dict(zip(supported, emotions_of([bodies[i] for i in supported], language="en")))
    redactions = redact_many(bodies)
    out = []
    for i, (text, (body, truncated, notes)) in enumerate(zip(texts, cleaned)):
        red = redactions[i]
        base = dict(redacted_text=red.text, pii_found=len(red.spans), chars=len(text), truncated=truncated)
        out.append(_one(body, guesses[i], sentiments.get(i), feelings.get(i), notes, base))
    return out


def _one(body: str, guess: LanguageGuess, sentiment: Any, feeling: Any, notes: list[str],
         base: dict[str, Any]) -> TextAnnotation:
    if not body.strip():
        return TextAnnotation("empty", guess.code, 0.0, None, "empty", None, dict.fromkeys(EMOTIONS),
                              note=_note([*notes, "no text left after cleaning"]), **base)
    reason = unsupported_reason(guess)
    if reason is not None:
        return TextAnnotation("unsupported_language", guess.code, guess.confidence, None, "unsupported_language",
                              None, dict.fromkeys(EMOTIONS), note=_note([*notes, reason]), **base)
    return TextAnnotation("analysed", guess.code, guess.confidence, sentiment.score, sentiment.label,
                          feeling.dominant, feeling.intensities(), note=_note(notes), **base)


def _note(notes: list[str]) -> str | None:
    return "; ".join(notes) if notes else None


# --------------------------------------------------------------------------------------------------
# Storing annotations (warehouse)
# --------------------------------------------------------------------------------------------------


def check_source(source: str) -> tuple[TextSource, ...]:
    """The text sources named by ``source`` ('responses', 'tickets' or 'all')."""
    if source == "all":
        return tuple(SOURCES.values())
    if source not in SOURCES:
        raise CxlensInputError(
            f"The 'source' parameter must be one of responses, tickets, all. Got {source!r} instead."
        )
    return (SOURCES[source],)


def ensure_table(con: Any) -> None:
    """Create ``text_annotations`` when it is missing."""
    cols = ", ".join(f'"{name}" {sql}' for name, sql, _ in COLUMNS)
    key = ", ".join(_KEY)
    con.execute(f"CREATE TABLE IF NOT EXISTS {ANNOTATIONS_TABLE} ({cols}, PRIMARY KEY ({key}))")


def annotate(warehouse: Warehouse, *, now: datetime, source: str = "all", batch_size: int = DEFAULT_BATCH_SIZE,
             model_version: str = MODEL_VERSION, max_chars: int = MAX_CHARS,
             progress: BatchProgress | None = None) -> AnnotateResult:
    """Annotate the new and changed texts of ``source``; see the module docstring."""
    sources = check_source(source)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise CxlensInputError(
            f"The 'batch_size' parameter must be a whole number of 1 or more. Got {batch_size!r} instead."
        )
    if not model_version or not model_version.strip():
        raise CxlensInputError("The 'model_version' parameter must be a non-empty name, e.g. 'cxlens-text-1'.")
    con = warehouse.duckdb
    ensure_table(con)
    ts = now.replace(tzinfo=None) if now.tzinfo is None else now.astimezone(UTC).replace(tzinfo=None)
    try:
        counts = tuple(_annotate_source(con, s, model_version, batch_size, max_chars, ts, progress) for s in sources)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_TODO}")
    return AnnotateResult(model_version, counts)


def _annotate_source(con: Any, src: TextSource, version: str, batch_size: int, max_chars: int, now: datetime,
                     progress: BatchProgress | None) -> SourceCounts:
    empty, unchanged, new, changed = _plan(con, src, version)
    todo = new + changed
    unsupported = truncated = batches = 0
    for start in range(0, todo, batch_size):
        rows = con.execute(f"SELECT source_id, text, text_hash FROM {_TODO} WHERE _n > ? AND _n <= ? ORDER BY _n",
                           [start, start + batch_size]).fetchall()
        notes = annotate_texts([r[1] for r in rows], max_chars)
        _write_batch(con, src.table, version, rows, notes, now)
        batches += 1
        unsupported += sum(a.status == "unsupported_language" for a in notes)
        truncated += sum(a.truncated for a in notes)
        if progress is not None:
            progress(src.table, batches, len(rows))
    return SourceCounts(src.table, new, changed, unchanged, empty, unsupported, truncated, batches)


def _plan(con: Any, src: TextSource, version: str) -> tuple[int, int, int, int]:
    """Stage the texts to annotate in a temporary table; returns (empty, unchanged, new, changed).

    Stored annotations of texts that are now blank are removed here (their own transaction).
    """
    blank = "text IS NULL OR regexp_full_match(text, '\\s*')"
    base = f'SELECT CAST("{src.key}" AS VARCHAR) AS source_id, {src.text_sql()} AS text FROM "{src.table}"'
    params = {"t": src.table, "v": version}
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_TODO} AS
        WITH src AS ({base}), texts AS (SELECT source_id, text, md5(text) AS text_hash FROM src WHERE NOT ({blank}))
        SELECT w.source_id, w.text, w.text_hash,
               CASE WHEN a.source_id IS NULL THEN 'new' ELSE 'changed' END AS change,
               row_number() OVER (ORDER BY w.source_id) AS _n
        FROM texts w LEFT JOIN {ANNOTATIONS_TABLE} a
          ON a.source_table = $t AND a.model_version = $v AND a.source_id = w.source_id
        WHERE a.source_id IS NULL OR a.text_hash <> w.text_hash
    """, params)
    empty, with_text = con.execute(
        f"SELECT count(*) FILTER (WHERE {blank}), count(*) FILTER (WHERE NOT ({blank})) FROM ({base})"
    ).fetchone()
    new, changed = con.execute(
        f"SELECT count(*) FILTER (WHERE change = 'new'), count(*) FILTER (WHERE change = 'changed') FROM {_TODO}"
    ).fetchone()
    _drop_blank(con, base, blank, params)
    return int(empty), int(with_text) - int(new) - int(changed), int(new), int(changed)


def _drop_blank(con: Any, base: str, blank: str, params: dict[str, str]) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"DELETE FROM {ANNOTATIONS_TABLE} WHERE source_table = $t AND model_version = $v AND source_id IN "
            f"(SELECT source_id FROM ({base}) WHERE {blank})", params)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _batch_table(table: str, version: str, rows: Sequence[tuple[Any, ...]], notes: Sequence[TextAnnotation],
                 now: datetime) -> pa.Table:
    data: dict[str, list[Any]] = {
        "source_table": [table] * len(rows), "source_id": [r[0] for r in rows],
        "model_version": [version] * len(rows), "text_hash": [r[2] for r in rows],
    }
    for name in ("status", "language", "language_confidence", "sentiment_score", "sentiment_label",
                 "dominant_emotion"):
        data[name] = [getattr(a, name) for a in notes]
    for e in EMOTIONS:
        data[f"emotion_{e}"] = [a.emotions.get(e) for a in notes]
    for name in ("redacted_text", "pii_found", "chars", "truncated", "note"):
        data[name] = [getattr(a, name) for a in notes]
    data["annotated_at"] = [now] * len(rows)
    return pa.table(data)


def _write_batch(con: Any, table: str, version: str, rows: Sequence[tuple[Any, ...]],
                 notes: Sequence[TextAnnotation], now: datetime) -> None:
    """Replace the batch's rows in one transaction: all of the batch is stored, or none of it."""
    batch = _batch_table(table, version, rows, notes, now)
    names = ", ".join(f'"{n}"' for n, _, _ in COLUMNS)
    casts = ", ".join(f'CAST("{n}" AS {sql}) AS "{n}"' for n, sql, _ in COLUMNS)
    con.register(_BATCH, batch)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DELETE FROM {ANNOTATIONS_TABLE} WHERE source_table = ? AND model_version = ? AND "
                        f"source_id IN (SELECT source_id FROM {_BATCH})", [table, version])
            con.execute(f"INSERT INTO {ANNOTATIONS_TABLE} ({names}) SELECT {casts} FROM {_BATCH}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister(_BATCH)


__all__ = [
    "ANNOTATIONS_TABLE", "ANNOTATOR_VERSION", "COLUMNS", "MAX_CHARS", "MODEL_VERSION", "SOURCES", "AnnotateResult",
    "SourceCounts", "TextAnnotation", "TextSource", "annotate", "annotate_texts", "check_source",
    "clean_text", "ensure_table",
]
