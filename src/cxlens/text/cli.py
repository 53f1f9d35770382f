"""``cxlens text``: sentiment, emotions, language and PII redaction on any CSV file (no workspace).

``sentiment-fit`` fits the embedding sentiment model to rated texts (a head file for ``--model``).

Register with ``main.add_command(text)``. Commands only read the file, call ``cxlens.text`` and
print; errors the user can fix exit with code 2 and an ``Error: ...`` line on stderr.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cxlens.cli_support import _run, print_rows
from cxlens.errors import CxlensInputError, ImportFileError
from cxlens.text.emotions import emotions as emotions_of
from cxlens.text.language import detect_languages
from cxlens.text.pii import KINDS, check_kinds, redact_many
from cxlens.text.sentiment import score, unsupported_reason
from cxlens.text.sentiment_model import fit_head, save_head

_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class CsvData:
    """A CSV file read whole: its header, rows (dicts) and delimiter."""

    path: Path
    headers: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    delimiter: str


def read_csv(path: Path, columns: Sequence[str], encoding: str = "utf-8-sig") -> CsvData:
    """Read ``path`` and check that ``columns`` exist; errors name the file and the fix."""
    raw = _read_text(path, encoding)
    if not raw.strip():
        raise ImportFileError(f"{path} is empty: it needs a header line naming its columns, then one row per text.")
    delimiter = _sniff(raw)
    reader = csv.DictReader(io.StringIO(raw, newline=""), delimiter=delimiter)
    headers = tuple(reader.fieldnames or ())
    for column in columns:
        if column not in headers:
            raise ImportFileError(
                f"column {column!r} is not in {path}; its columns are: {', '.join(headers)}. "
                "Pass one of them (names are case-sensitive)."
            )
    rows = tuple({k: (v if v is not None else "") for k, v in row.items() if k is not None} for row in reader)
    if not rows:
        raise ImportFileError(f"{path} has a header but no rows: add at least one row of text.")
    return CsvData(path, headers, rows, delimiter)


def _read_text(path: Path, encoding: str) -> str:
    if not path.exists():
        raise ImportFileError(f"file {path} does not exist: give the path of a CSV file.")
    if path.is_dir():
        raise ImportFileError(f"{path} is a folder: give the path of a CSV file.")
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path} is not valid {encoding} text (byte {exc.start}): re-save it as UTF-8 "
            "or pass its encoding with --encoding (for example --encoding cp1252)."
        ) from None
    except LookupError:
        raise ImportFileError(
            f"--encoding {encoding!r} is not a known encoding: use for example utf-8, cp1252 or latin-1."
        ) from None


def _sniff(raw: str) -> str:
    header = raw.lstrip("\r\n").splitlines()[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _keys(data: CsvData, id_column: str | None) -> list[tuple[str, Any]]:
    """The identifying (name, value) of each row: the id column, else the 1-based row number."""
    if id_column is None:
        return [("row", i) for i in range(1, len(data.rows) + 1)]
    return [(id_column, row[id_column]) for row in data.rows]


def _emit(rows: list[dict[str, Any]], fmt: str) -> None:

    print_rows(rows, fmt)


def _common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("file", type=click.Path(path_type=Path)),
        click.option("--text-column", required=True, help="Column holding the text."),
        click.option("--id-column", help="Column identifying each row (default: the row number)."),
        click.option("--language", type=click.Choice(["auto", "en"]), default="auto", show_default=True,
                     help="'auto' detects each text's language (non-English texts are not scored); "
                          "'en' treats every text as English."),
        click.option("--format", "fmt", type=click.Choice(["csv", "json", "table"]), default="csv",
                     show_default=True, help="Output format."),
        click.option("--encoding", default="utf-8-sig", show_default=True, help="Encoding of FILE."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group(name="text", context_settings={"help_option_names": ["-h", "--help"]})
def text() -> None:
    """Text analytics: sentiment, emotions, language, PII redaction, themes, stored annotations.

    sentiment, emotions, language, redact and 'themes FILE' work on any CSV file without a
    workspace; 'analyze' and 'themes' without FILE work on the workspace's comments and tickets.
    Sentiment and emotions support English only; texts detected as another language are
    reported as unsupported.
    """


@text.command(name="sentiment")
@_common_options
@click.option("--model", default="lexicon", show_default=True,
              help="'lexicon' (VADER with the customer-experience extension, fast), 'embedding' (sentence "
                   "embeddings blended with the lexicon; better on longer, review-like texts, needs the text "
                   "extra) or the path of a head file written by `cxlens text sentiment-fit`.")
def sentiment_command(file: Path, text_column: str, id_column: str | None, language: str, fmt: str,
                      encoding: str, model: str) -> None:
    """Score the sentiment of each text in FILE: score in [-1, 1] and a label."""
    def run() -> None:
        data = read_csv(file, [c for c in (text_column, id_column) if c], encoding)
        results = score([r[text_column] for r in data.rows], language=language, model=model)  # type: ignore[arg-type]
        _emit([{key: value, **res.to_dict()} for (key, value), res in zip(_keys(data, id_column), results)], fmt)
    _run(run)


@text.command(name="sentiment-fit")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--text-column", required=True, help="Column holding the text.")
@click.option("--rating-column", required=True,
              help="Column holding each text's rating by a person (stars, CSAT, -1..1...); blank rows are skipped.")
@click.option("--scale", help="Lowest and highest possible rating, e.g. 1,5 (default: the lowest and highest "
                              "found). The middle of the scale is neutral.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the head (JSON) here; use it with `cxlens text sentiment --model FILE`.")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Encoding of FILE.")
def sentiment_fit_command(file: Path, text_column: str, rating_column: str, scale: str | None, out: Path,
                          encoding: str) -> None:
    """Fit the embedding sentiment model to rated texts of FILE (calibration to your own feedback)."""
    def run() -> None:
        data = read_csv(file, [text_column, rating_column], encoding)
        ratings = [r[rating_column].strip() or None for r in data.rows]
        head = fit_head([r[text_column] for r in data.rows], ratings, scale=_parse_scale(scale),
                        source=f"{file.name}: {text_column} rated by {rating_column}")
        save_head(head, out)
        low, high = head.rating_scale
        cv = "n/a" if head.cv_pearson is None else f"{head.cv_pearson:.3f}"
        click.echo(f"Fitted a sentiment head on {head.n_train} of {len(data.rows)} rows (ratings {low:g}..{high:g} "
                   f"mapped to -1..1; penalty {head.alpha:g}, lexicon weight {head.lexicon_weight:.3f}, "
                   f"cross-validated Pearson r {cv}) and wrote {out}.", err=True)
    _run(run)


def _parse_scale(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.replace(";", ",").split(",")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise CxlensInputError(
            f"--scale {value!r} is not allowed: give the lowest and highest rating, e.g. 1,5."
        ) from None
    return low, high


@text.command(name="emotions")
@_common_options
def emotions_command(file: Path, text_column: str, id_column: str | None, language: str, fmt: str,
                     encoding: str) -> None:
    """Emotion intensities (anger, frustration, joy, sadness, fear, surprise, trust) of each text."""
    def run() -> None:
        data = read_csv(file, [c for c in (text_column, id_column) if c], encoding)
        results = emotions_of([r[text_column] for r in data.rows], language=language)  # type: ignore[arg-type]
        _emit([{key: value, **res.to_dict()} for (key, value), res in zip(_keys(data, id_column), results)], fmt)
    _run(run)


@text.command(name="language")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--text-column", required=True, help="Column holding the text.")
@click.option("--id-column", help="Column identifying each row (default: the row number).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "table"]), default="csv", show_default=True,
              help="Output format.")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Encoding of FILE.")
def language_command(file: Path, text_column: str, id_column: str | None, fmt: str, encoding: str) -> None:
    """Detect the language of each text (en, es, de, fr, it, pt, nl or und) and whether it is analysed."""
    def run() -> None:
        data = read_csv(file, [c for c in (text_column, id_column) if c], encoding)
        guesses = detect_languages(r[text_column] for r in data.rows)
        rows = [{key: value, **g.to_dict(), "analysed": unsupported_reason(g) is None}
                for (key, value), g in zip(_keys(data, id_column), guesses)]
        _emit(rows, fmt)
    _run(run)


@text.command(name="redact")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--text-column", "text_columns", required=True, multiple=True,
              help="Column to redact (repeatable).")
@click.option("--kinds", default=",".join(KINDS), show_default=True,
              help=f"Comma-separated kinds of PII to redact, among: {', '.join(KINDS)}.")
@click.option("--placeholder", default="[{KIND}]", show_default=True,
              help="Replacement text; {KIND} is EMAIL, PHONE, CARD or IBAN ({kind}: lower case).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the redacted CSV here (default: standard output).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Encoding of FILE.")
def redact_command(file: Path, text_columns: tuple[str, ...], kinds: str, placeholder: str, out: Path | None,
                   encoding: str) -> None:
    """Copy FILE with the PII of the text columns replaced by placeholders; a summary goes to stderr."""
    def run() -> None:
        wanted = check_kinds(kinds)
        data = read_csv(file, text_columns, encoding)
        counts: dict[str, int] = {}
        rows = [dict(r) for r in data.rows]
        for column in text_columns:
            for row, red in zip(rows, redact_many([r[column] for r in rows], wanted, placeholder)):
                row[column] = red.text
                for kind, n in red.counts().items():
                    counts[kind] = counts.get(kind, 0) + n
        _write_csv(rows, data, out)
        found = ", ".join(f"{k} {counts[k]}" for k in KINDS if k in counts) or "nothing found"
        target = out if out is not None else "standard output"
        click.echo(f"Redacted {len(rows)} rows of {', '.join(text_columns)} to {target}: {found}.", err=True)
    _run(run)


def _write_csv(rows: list[dict[str, str]], data: CsvData, out: Path | None) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(data.headers), delimiter=data.delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if out is None:
        click.echo(buffer.getvalue(), nl=False)
        return
    _atomic_write(out, buffer.getvalue())


def _atomic_write(path: Path, content: str) -> None:
    """Write through a temporary file in the same folder, so a failure never leaves half a file."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ImportFileError(f"--out {path}: folder {folder} does not exist; create it or choose another path.")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["CsvData", "read_csv", "text"]
