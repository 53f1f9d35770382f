"""The settings registry: one place that feeds validation, ``cxlens config`` and the docs.

A workspace's ``cxlens.toml`` holds values for these settings under ``[settings]``. Every
setting has a name, a type, a default and a help text; ``docs/settings.md`` is generated from
this registry (a test keeps it current).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cxlens.errors import CxlensInputError, UnknownNameError


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    minimum: int | None = None

    def parse(self, value: Any) -> Any:
        """Convert ``value`` (from TOML or the command line) to this setting's type."""
        converted = self._convert(value)
        if self.choices is not None and converted not in self.choices:
            raise CxlensInputError(
                f"The '{self.name}' setting must be one of {', '.join(map(repr, self.choices))}. "
                f"Got {value!r} instead."
            )
        if self.minimum is not None and converted < self.minimum:
            raise CxlensInputError(
                f"The '{self.name}' setting must be at least {self.minimum}. Got {value!r} instead."
            )
        return converted

    def _convert(self, value: Any) -> Any:
        if self.type is bool:
            return _parse_bool(self.name, value)
        if isinstance(value, self.type) and not isinstance(value, bool):
            return value
        try:
            return self.type(value)
        except (TypeError, ValueError):
            raise CxlensInputError(
                f"The '{self.name}' setting must be of type {self.type.__name__}. "
                f"Got {value!r} instead."
            ) from None


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "on"}:
        return True
    if text in {"false", "no", "0", "off"}:
        return False
    raise CxlensInputError(
        f"The '{name}' setting must be true or false. Got {value!r} instead."
    )


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "warehouse_url",
        str,
        "duckdb://warehouse.duckdb",
        "Where the experience data lives: an Ibis backend URL. The default is the embedded DuckDB "
        "file inside the workspace; e.g. postgres://user@host/db, clickhouse://host/db, "
        "pyspark://, sqlite:///path/file.db. Relative paths are relative to the workspace.",
    ),
    Setting(
        "app_database_url",
        str,
        "sqlite:///app/cxlens.sqlite3",
        "The application database (users, surveys, cases): SQLite in the workspace by default, "
        "PostgreSQL for teams.",
    ),
    Setting("timezone", str, "UTC", "Time zone used to cut periods (days, weeks, months) in reports."),
    Setting(
        "week_start",
        str,
        "monday",
        "First day of the week for weekly periods.",
        choices=("monday", "sunday"),
    ),
    Setting("csat_scale_max", int, 5, "Top of the CSAT scale (5, 7 or 10); the bottom is 1.",
            minimum=2),
    Setting("csat_top_box", int, 4,
            "Lowest CSAT score counted as satisfied (4 on a 1-5 scale: the top two boxes).",
            minimum=1),
    Setting("ces_scale_max", int, 7, "Top of the CES scale (7 or 5); the bottom is 1.", minimum=2),
    Setting(
        "ces_direction",
        str,
        "higher_is_easier",
        "Whether a high CES answer means easy ('higher_is_easier') or hard ('higher_is_harder').",
        choices=("higher_is_easier", "higher_is_harder"),
    ),
    Setting("min_sample_size", int, 30,
            "Figures computed on fewer answers than this carry a small-sample warning.", minimum=1),
    Setting("business_days", str, "mon-fri",
            "Business days for business-hours metrics: names or ranges, e.g. mon-fri, sun-thu, mon,wed-fri."),
    Setting("business_hours", str, "09:00-17:00", "Opening hours (local time) for business-hours metrics."),
    Setting("business_timezone", str, "UTC", "IANA time zone of the business hours, e.g. Europe/Berlin."),
    Setting("business_holidays", str, "",
            "Closed dates (local), comma-separated ISO dates, e.g. 2024-12-25,2024-12-26."),
    Setting("memory_limit", str, "auto",
            "Memory the embedded warehouse may use before it spills to disk: 'auto' (half of the "
            "machine's memory) or a size such as 4GB or 512MB."),
    Setting("lock_timeout_seconds", int, 30,
            "How long a command waits for another cxlens process to release the warehouse.",
            minimum=0),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    """Return the registered setting ``name`` or raise listing the valid names."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownNameError(
            f"Unknown setting '{name}'. The settings are: {', '.join(_BY_NAME)}."
        ) from None


def defaults() -> dict[str, Any]:
    return {s.name: s.default for s in SETTINGS}


def resolve(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``values`` against the registry and fill in defaults."""
    resolved = defaults()
    for name, value in values.items():
        resolved[name] = setting(name).parse(value)
    if resolved["csat_top_box"] > resolved["csat_scale_max"]:
        raise CxlensInputError(
            f"The 'csat_top_box' setting ({resolved['csat_top_box']}) must not exceed "
            f"'csat_scale_max' ({resolved['csat_scale_max']}). Lower csat_top_box or raise the scale."
        )
    return resolved


def settings_markdown() -> str:
    """The settings reference, as written to docs/settings.md."""
    lines = [
        "# Settings",
        "",
        "Set them in the workspace's `cxlens.toml` under `[settings]`, or with",
        "`cxlens config set NAME VALUE`. This page is generated from `cxlens.settings.SETTINGS`.",
        "",
        "| name | type | default | help |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        choices = f" One of: {', '.join(s.choices)}." if s.choices else ""
        lines.append(f"| `{s.name}` | {s.type.__name__} | `{s.default}` | {s.help}{choices} |")
    return "\n".join(lines) + "\n"
