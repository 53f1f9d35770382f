"""The experience warehouse: where customers, interactions, responses... live.

The warehouse is an Ibis backend chosen by URL. The embedded default is a DuckDB file inside the
workspace. Analyses read tables as Ibis expressions, so they compile to whichever engine the URL
names. Imports into the embedded DuckDB warehouse are atomic (one transaction) and durable
(DuckDB's write-ahead log is flushed before commit returns).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import ibis

from cxlens.errors import CxlensInputError, MissingDependencyError, WorkspaceError
from cxlens.schema import LINEAGE_COLUMNS, TABLES, TableSpec, table_spec

#: Which pip extra provides the driver of each Ibis backend.
BACKEND_EXTRAS = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "postgresql": "postgres",
    "clickhouse": "clickhouse",
    "pyspark": "pyspark",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "trino": "trino",
    "mysql": "mysql",
    "sqlite": "sqlite",
}

IMPORTS_TABLE = "_imports"
QUARANTINE_TABLE = "_quarantine"

_INTERNAL_DDL = {
    IMPORTS_TABLE: (
        "import_id BIGINT, table_name VARCHAR, source VARCHAR, format VARCHAR, "
        "started_at TIMESTAMP, finished_at TIMESTAMP, rows_read BIGINT, accepted BIGINT, "
        "rejected BIGINT, duplicates BIGINT, conflicts BIGINT, updated BIGINT"
    ),
    QUARANTINE_TABLE: (
        "import_id BIGINT, table_name VARCHAR, source VARCHAR, line BIGINT, column_name VARCHAR, "
        "value VARCHAR, code VARCHAR, reason VARCHAR, raw VARCHAR, quarantined_at TIMESTAMP"
    ),
}


@dataclass(frozen=True)
class WarehouseURL:
    scheme: str
    url: str

    @property
    def is_embedded_duckdb(self) -> bool:
        return self.scheme == "duckdb"


def parse_url(url: str, base: Path) -> WarehouseURL:
    """Resolve a warehouse URL; relative DuckDB/SQLite paths are relative to ``base``."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in BACKEND_EXTRAS:
        raise CxlensInputError(
            f"The 'warehouse_url' setting must start with one of "
            f"{', '.join(sorted(BACKEND_EXTRAS))}://. Got {url!r} instead."
        )
    if scheme in {"duckdb", "sqlite"}:
        raw = url.split("://", 1)[1]
        path = Path(raw) if raw.startswith("/") else base.resolve() / raw
        return WarehouseURL(scheme, f"{scheme}://{path}")
    return WarehouseURL(scheme, url)


def _connect(url: WarehouseURL, timeout: float) -> Any:
    try:
        if url.is_embedded_duckdb:
            return _connect_duckdb(Path(url.url.split("://", 1)[1]), timeout)
        return ibis.connect(url.url)
    except ImportError as exc:  # ibis re-raises a missing driver as a plain ImportError
        extra = BACKEND_EXTRAS[url.scheme]
        raise MissingDependencyError(
            f"The warehouse URL uses the '{url.scheme}' backend, whose driver is not installed. "
            f"Install it with: pip install 'cxlens[{extra}]'"
        ) from exc


def _connect_duckdb(path: Path, timeout: float) -> Any:
    """Open the DuckDB file, waiting up to ``timeout`` s while another process holds its lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return ibis.duckdb.connect(str(path))
        except Exception as exc:  # duckdb raises IOException for a held lock
            if "lock" not in str(exc).lower():
                raise WorkspaceError(
                    f"Cannot open the warehouse file {path}: {exc}. If the file is corrupt, "
                    f"restore it from a backup or re-create the workspace."
                ) from exc
            server = serving_process(path)
            if server is not None:  # it holds the file for as long as it runs: waiting is pointless
                pid, url = server
                raise WorkspaceError(
                    f"The warehouse {path} belongs to 'cxlens serve' (process {pid}, {url}) for as long as it "
                    f"runs. 'cxlens import', 'cxlens metrics' and 'cxlens status' go through it; for this command "
                    f"stop the server (Ctrl+C, or kill {pid}) and run it again, or use the web app at {url}."
                ) from exc
            if time.monotonic() >= deadline:
                raise WorkspaceError(
                    f"The warehouse {path} is in use by another cxlens process and was not "
                    f"released within {timeout:g} s. Wait for that command to finish (or stop "
                    f"it) and try again; raise 'lock_timeout_seconds' to wait longer."
                ) from exc
            time.sleep(0.2)


def serving_process(path: Path) -> tuple[int, str] | None:
    """(pid, URL) of the running ``cxlens serve`` of the workspace whose warehouse file is ``path``
    (its ``app/server.json``), when it is another process that is alive; else None."""
    try:
        info = json.loads((path.parent / "app" / "server.json").read_text(encoding="utf-8"))
        pid, url = int(info["pid"]), str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        pass
    return pid, url


def memory_limit(value: str) -> str:
    """The DuckDB memory limit for a setting value; 'auto' is half of the machine's memory."""
    if value.strip().lower() != "auto":
        return value
    import psutil

    return f"{psutil.virtual_memory().total // 2 // 2**20}MB"


def table_ddl(spec: TableSpec) -> str:
    cols = [f'"{c.name}" {c.type.sql}' for c in spec.columns]
    cols += [f'"{name}" {sql}' for name, sql in LINEAGE_COLUMNS]
    return ", ".join(cols)


class Warehouse:
    """A connection to the experience warehouse of one workspace."""

    def __init__(self, url: WarehouseURL, backend: Any, settings: dict[str, Any]) -> None:
        self.url = url
        self.backend = backend
        self.settings = settings

    @classmethod
    def connect(cls, url: WarehouseURL, settings: dict[str, Any]) -> Warehouse:
        backend = _connect(url, float(settings["lock_timeout_seconds"]))
        wh = cls(url, backend, settings)
        if url.is_embedded_duckdb:
            wh._configure_duckdb()
        wh.ensure_schema()
        return wh

    @property
    def duckdb(self) -> Any:
        """The raw DuckDB connection of the embedded warehouse (ingest fast path)."""
        if not self.url.is_embedded_duckdb:
            raise CxlensInputError(
                f"This operation needs the embedded DuckDB warehouse; the workspace uses "
                f"{self.url.scheme}. Import into a DuckDB workspace, or export and load with "
                f"your engine's own tools."
            )
        return self.backend.con

    def _configure_duckdb(self) -> None:
        con = self.backend.con
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET memory_limit = ?", [memory_limit(str(self.settings["memory_limit"]))])
        con.execute("SET preserve_insertion_order = true")
        # The CLI turns DuckDB's progress bar on for people at a terminal; never for the API.
        con.execute("SET enable_progress_bar = false")

    def ensure_schema(self) -> None:
        """Create the contract tables and the bookkeeping tables when missing."""
        existing = set(self.backend.list_tables())
        if self.url.is_embedded_duckdb:
            con = self.backend.con
            for spec in TABLES.values():
                if spec.name not in existing:
                    con.execute(f'CREATE TABLE "{spec.name}" ({table_ddl(spec)})')
            for name, ddl in _INTERNAL_DDL.items():
                if name not in existing:
                    con.execute(f'CREATE TABLE "{name}" ({ddl})')
            con.execute("CHECKPOINT")
            return
        missing = [name for name in TABLES if name not in existing]
        if missing:
            raise WorkspaceError(
                f"The warehouse at {self.url.url} lacks the tables {', '.join(missing)}. "
                f"Create them with the DDL in docs/data-model.md, or use the embedded warehouse."
            )

    def table(self, name: str) -> ibis.Table:
        """The Ibis table ``name`` (a contract table or an internal one)."""
        if name not in _INTERNAL_DDL:
            table_spec(name)
        return self.backend.table(name)

    def columns(self, name: str) -> list[str]:
        return list(self.table(name).columns)

    def row_count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def close(self) -> None:
        disconnect = getattr(self.backend, "disconnect", None)
        if disconnect is not None:
            disconnect()
