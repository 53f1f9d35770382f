"""Column mappings: import files whose headers are not the contract's.

A mapping file (TOML or YAML) says which source header feeds which contract column and how to
convert values::

    table = "tickets"                       # optional; checked against the import's table

    [columns]                               # contract column = source header
    ticket_id = "Ticket ID"
    created_at = "Created time"

    [convert.created_at]
    format = "%d/%m/%Y %H:%M"               # strptime format of the source text
    timezone = "Europe/Berlin"              # zone of naive timestamps (default UTC)

    [convert.status]
    values = { Solved = "resolved", Open = "open" }   # source value -> stored value

    [constants]
    channel = "email"                       # a column with the same value on every row

    drop = ["Internal note"]                # source columns not to keep as attributes

Source headers not named in ``[columns]`` keep their (normalised) name, so contract-named
columns and attributes still flow through.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cxlens.errors import ImportFileError
from cxlens.schema import ColumnType, TableSpec, normalize_header


@dataclass(frozen=True)
class Conversion:
    format: str | None = None
    timezone: str | None = None
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ColumnMapping:
    """Parsed mapping: target column -> normalised source column, conversions, constants."""

    columns: tuple[tuple[str, str], ...] = ()
    convert: tuple[tuple[str, Conversion], ...] = ()
    constants: tuple[tuple[str, str], ...] = ()
    drop: tuple[str, ...] = ()
    table: str | None = None
    source: str = "(no mapping)"

    def conversion(self, column: str) -> Conversion | None:
        return dict(self.convert).get(column)


IDENTITY = ColumnMapping()
_KEYS = {"table", "columns", "convert", "constants", "drop"}
_CONVERT_KEYS = {"format", "timezone", "values"}


def load_mapping(path: Path) -> ColumnMapping:
    """Read and validate a TOML or YAML mapping file."""
    if not path.exists():
        raise ImportFileError(f"The mapping file {path} does not exist. Check the path.")
    data = _parse(path)
    unknown = set(data) - _KEYS
    if unknown:
        raise ImportFileError(
            f"{path.name}: unknown section(s) {', '.join(sorted(unknown))}. "
            f"A mapping may contain: {', '.join(sorted(_KEYS))}."
        )
    return ColumnMapping(
        columns=tuple((str(k), normalize_header(str(v))) for k, v in _section(data, "columns", path).items()),
        convert=tuple((str(k), _conversion(k, v, path)) for k, v in _section(data, "convert", path).items()),
        constants=tuple((str(k), str(v)) for k, v in _section(data, "constants", path).items()),
        drop=tuple(normalize_header(str(d)) for d in data.get("drop", [])),
        table=data.get("table"),
        source=path.name,
    )


def _parse(path: Path) -> dict[str, Any]:
    text = path.read_bytes()
    try:
        if path.suffix.lower() in {".yaml", ".yml"}:
            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"The mapping file {path.name} cannot be parsed: {exc}") from None
    if not isinstance(data, dict):
        raise ImportFileError(f"The mapping file {path.name} must hold a table of settings.")
    return data


def _section(data: Mapping[str, Any], name: str, path: Path) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ImportFileError(f"{path.name}: [{name}] must be a table of name = value pairs.")
    return value


def _conversion(column: str, spec: Any, path: Path) -> Conversion:
    if not isinstance(spec, Mapping) or set(spec) - _CONVERT_KEYS:
        raise ImportFileError(
            f"{path.name}: [convert.{column}] may only set {', '.join(sorted(_CONVERT_KEYS))}."
        )
    values = spec.get("values", {})
    return Conversion(
        format=spec.get("format"),
        timezone=spec.get("timezone"),
        values=tuple((str(k), str(v)) for k, v in values.items()),
    )


def check_mapping(mapping: ColumnMapping, spec: TableSpec, staged_columns: tuple[str, ...]) -> None:
    """Fail before anything is read when the mapping names sources that are not in the file."""
    if mapping.table is not None and mapping.table != spec.name:
        raise ImportFileError(
            f"The mapping {mapping.source} is for table '{mapping.table}', not '{spec.name}'."
        )
    for target, src in mapping.columns:
        if src not in staged_columns:
            raise ImportFileError(
                f"The mapping {mapping.source} maps '{target}' from column '{src}', which the file "
                f"does not have. The file's columns are: {', '.join(staged_columns)}."
            )
    for target, conv in mapping.convert:
        if conv.format is not None and target in spec.column_names and spec.column(target).type not in (
            ColumnType.TIMESTAMP,
        ):
            raise ImportFileError(
                f"The mapping {mapping.source} gives a format for '{target}', which is not a timestamp."
            )
