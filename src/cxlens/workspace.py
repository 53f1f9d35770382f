"""A workspace: a folder with a config file, the embedded warehouse and the app database.

::

    my-workspace/
      cxlens.toml          settings (see docs/settings.md)
      warehouse.duckdb     the embedded experience warehouse (default warehouse_url)
      app/                 the application database (users, surveys, cases)
      tmp/                 scratch space of running imports (safe to delete when idle)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import tomli_w

from cxlens import settings as settings_registry
from cxlens.clv.workflow import (
    ClvFit,
    ClvPrediction,
    fit_clv,
    load_fit,
    predict_clv,
    save_fit,
    simple_clv_table,
)
from cxlens.errors import CxlensInputError, WorkspaceError
from cxlens.feed import FeedBatch, FeedPosition, latest_position, rows_after
from cxlens.ingest.mapping import IDENTITY, ColumnMapping, load_mapping
from cxlens.ingest.pipeline import OnConflict, import_data
from cxlens.ingest.report import ImportReport
from cxlens.ingest.sources import CsvOptions
from cxlens.metrics import MetricQuery, MetricResult, run_metric
from cxlens.metrics.retention import CohortTable, SurvivalResult, cohort_retention, survival
from cxlens.schema import TABLES, table_spec
from cxlens.signals import SignalsResult, detect_signals
from cxlens.text.annotate import AnnotateResult, annotate
from cxlens.warehouse import IMPORTS_TABLE, QUARANTINE_TABLE, Warehouse, parse_url

CONFIG_FILE = "cxlens.toml"
ENV_VAR = "CXLENS_WORKSPACE"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class TableStatus:
    table: str
    rows: int
    first: datetime | None
    last: datetime | None
    quarantined: int


@dataclass(frozen=True)
class WorkspaceStatus:
    path: str
    warehouse: str
    tables: tuple[TableStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "warehouse": self.warehouse,
            "tables": [
                {**asdict(t), "first": _iso(t.first), "last": _iso(t.last)} for t in self.tables
            ],
        }


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts is not None else None


def is_workspace(path: Path) -> bool:
    return (path / CONFIG_FILE).is_file()


def resolve_path(path: str | Path | None) -> Path:
    """The workspace to use: the argument, else $CXLENS_WORKSPACE, else the current folder."""
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path.cwd()


def init(path: str | Path, values: dict[str, Any] | None = None) -> Workspace:
    """Create a workspace at ``path`` (the folder may exist but must not be a workspace)."""
    root = Path(path)
    if is_workspace(root):
        raise WorkspaceError(
            f"{root} is already a cxlens workspace. Use it with --workspace {root}, or choose "
            f"another folder."
        )
    resolved = settings_registry.resolve(values or {})
    root.mkdir(parents=True, exist_ok=True)
    (root / "app").mkdir(exist_ok=True)
    _write_config(root, {k: v for k, v in resolved.items() if (values or {}).get(k) is not None})
    ws = open_workspace(root)
    ws.warehouse.ensure_schema()  # creates the warehouse file and its tables now
    return ws


def _write_config(root: Path, values: dict[str, Any]) -> None:
    doc = {"cxlens": {"format_version": FORMAT_VERSION}, "settings": values}
    tmp = root / (CONFIG_FILE + ".tmp")
    tmp.write_bytes(tomli_w.dumps(doc).encode("utf-8"))
    os.replace(tmp, root / CONFIG_FILE)


def _read_config(root: Path) -> dict[str, Any]:
    cfg = root / CONFIG_FILE
    if not root.exists():
        raise WorkspaceError(
            f"The workspace {root} does not exist. Create it with: cxlens init {root}"
        )
    if not cfg.is_file():
        raise WorkspaceError(
            f"{root} is not a cxlens workspace (no {CONFIG_FILE}). Create one with "
            f"'cxlens init {root}', or point --workspace / ${ENV_VAR} at an existing workspace."
        )
    try:
        return tomllib.loads(cfg.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(
            f"The workspace config {cfg} is corrupt ({exc}). Fix the file by hand or restore it "
            f"from a backup; 'cxlens init' on a new folder shows a valid example."
        ) from None


def open_workspace(path: str | Path | None = None) -> Workspace:
    """Open an existing workspace; see :func:`resolve_path` for how the folder is found."""
    root = resolve_path(path)
    doc = _read_config(root)
    raw = doc.get("settings", {})
    if not isinstance(raw, dict):
        raise WorkspaceError(f"{root / CONFIG_FILE}: [settings] must be a table.")
    try:
        values = settings_registry.resolve(raw)
    except (CxlensInputError, KeyError) as exc:
        raise WorkspaceError(f"{root / CONFIG_FILE}: {exc}") from None
    return Workspace(root, values)


class Workspace:
    """An open workspace. Cheap to create; the warehouse connects on first use."""

    def __init__(self, path: Path, settings: dict[str, Any]) -> None:
        self.path = path
        self.settings = settings
        self._warehouse: Warehouse | None = None

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            url = parse_url(self.settings["warehouse_url"], self.path)
            self._warehouse = Warehouse.connect(url, self.settings)
        return self._warehouse

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None

    # ------------------------------------------------------------------ data access

    def rows_after(self, table: str, start: FeedPosition, *, limit: int = 1000) -> FeedBatch:
        """Rows of ``table`` imported after ``start``, oldest first (see :mod:`cxlens.feed`)."""
        return rows_after(table, self.table(table), start, limit=limit)

    def latest_position(self, table: str) -> FeedPosition:
        """The feed position after the last row of ``table``."""
        return latest_position(self.table(table))

    def table(self, name: str) -> ibis.Table:
        """The Ibis table ``name`` of the warehouse (e.g. ``ws.table("responses")``)."""
        return self.warehouse.table(name)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(TABLES)

    def import_data(
        self,
        table: str,
        data: Any,
        *,
        mapping: str | Path | ColumnMapping | None = None,
        on_conflict: OnConflict = "reject",
        input_format: str | None = None,
        delimiter: str | None = None,
        encoding: str | None = None,
        source_name: str | None = None,
        now: datetime | None = None,
    ) -> ImportReport:
        """Import a CSV/Parquet/JSON Lines file, a pandas DataFrame or a pyarrow Table."""
        table_spec(table)
        if mapping is None:
            parsed = IDENTITY
        elif isinstance(mapping, ColumnMapping):
            parsed = mapping
        else:
            parsed = load_mapping(Path(mapping))
        return import_data(
            self.warehouse, table, data,
            now=now or datetime.now(UTC),
            mapping=parsed,
            on_conflict=on_conflict,
            input_format=input_format,
            csv=CsvOptions(delimiter=delimiter, encoding=encoding),
            scratch=self.path / "tmp",
            source_name=source_name,
        )

    def metric(self, metric: str, *, now: datetime | None = None, **options: Any) -> MetricResult:
        """Compute a metric; options: by, grain, since, until, where, compare, confidence.

        >>> ws.metric("nps", by="segment", grain="month", compare="previous")  # doctest: +SKIP
        """
        query = MetricQuery.build(metric, now=now or datetime.now(UTC), **options)
        return run_metric(self._tables(), self.settings, query)

    def cohorts(self, *, by: str = "signup", grain: str = "month", periods: int = 12,
                since: Any = None, until: Any = None, now: datetime | None = None) -> CohortTable:
        """Cohort retention table (cohorts by signup or first purchase; see docs/metrics-retention.md)."""
        return cohort_retention(self._tables(), self.settings, now=now or datetime.now(UTC), by=by,  # type: ignore[arg-type]
                                grain=grain, periods=periods, since=since, until=until)

    def survival(self, *, by: str | None = None, unit: str = "day", points: Any = None,
                 now: datetime | None = None) -> SurvivalResult:
        """Kaplan–Meier survival of subscription lifetimes, optionally per group."""
        return survival(self._tables(), self.settings, now=now or datetime.now(UTC), by=by,
                        unit=unit, points=points)  # type: ignore[arg-type]

    def annotate_texts(self, *, source: str = "all", batch_size: int = 2000,
                       now: datetime | None = None) -> AnnotateResult:
        """Annotate new and changed texts into ``text_annotations`` (see docs/annotations.md)."""
        return annotate(self.warehouse, now=now or datetime.now(UTC), source=source, batch_size=batch_size)

    def signals(self, *, now: datetime | None = None, **options: Any) -> SignalsResult:
        """Metric anomalies and emerging themes with their evidence (see docs/signals.md)."""
        return detect_signals(self, now=now or datetime.now(UTC), **options)

    def funnel(self, steps: Any, *, now: datetime | None = None, **options: Any) -> Any:
        """Window funnel over interactions (see docs/journeys.md)."""
        from cxlens.journey import run_funnel  # noqa: PLC0415 - journey imports workspace

        return run_funnel(self, steps, now=now, **options)

    def journey_map(self, *, now: datetime | None = None, **options: Any) -> Any:
        """The data-driven journey map: stages x touchpoints, volume, conversion, experience."""
        from cxlens.journey import build_journey_map  # noqa: PLC0415

        return build_journey_map(self, now=now, **options)

    def pain_points(self, *, now: datetime | None = None, **options: Any) -> Any:
        """Touchpoints ranked by customers affected by poor scores and drop-off, with evidence."""
        from cxlens.journey import pain_point_ranking  # noqa: PLC0415

        return pain_point_ranking(self, now=now, **options)

    def paths(self, anchor: str, *, now: datetime | None = None, **options: Any) -> Any:
        """Most frequent paths after (or before) a touchpoint; Sankey data."""
        from cxlens.journey import top_paths  # noqa: PLC0415

        return top_paths(self, anchor, now=now, **options)

    def stuck(self, days: float, *, now: datetime | None = None, **options: Any) -> Any:
        """Customers in a stage for longer than ``days``."""
        from cxlens.journey import stuck_customers  # noqa: PLC0415

        return stuck_customers(self, days, now=now, **options)

    def _tables(self) -> dict[str, ibis.Table]:
        return {name: self.table(name) for name in TABLES}

    def clv_fit(self, *, until: date | str | None = None, unit: str = "week", model: str = "bgnbd",
                now: datetime | None = None) -> ClvFit:
        """Fit the CLV models on orders up to ``until`` (default: today) and save them."""
        now = now or datetime.now(UTC)
        end = _as_date(until) if until is not None else now.date()
        fit = fit_clv(self.table("orders"), until=end, unit=unit, model=model, now=now)
        save_fit(self.path, fit)
        return fit

    def clv_predict(self, *, horizon: str | float = "52w") -> ClvPrediction:
        """Per-customer CLV predictions of the saved model over ``horizon`` (e.g. '52w', '12m')."""
        return predict_clv(self.table("orders"), load_fit(self.path), horizon=horizon)

    def clv_simple(self, *, until: date | str | None = None, expected_years: float = 3.0,
                   by: str | None = None, now: datetime | None = None) -> Any:
        """Simple CLV (AOV × orders per year × expected years) over the year up to ``until``."""
        end = _as_date(until) if until is not None else (now or datetime.now(UTC)).date()
        return simple_clv_table(self.table("orders"), self.table("customers"), until=end,
                                expected_years=expected_years, by=by)

    def status(self) -> WorkspaceStatus:
        """Rows, time range and quarantined rows of every table."""
        # A row rejected again by a re-import of the same file is one rejected row, not two.
        q = self.table(QUARANTINE_TABLE).select("table_name", "source", "line", "code", "raw").distinct()
        quarantined = dict(
            q.group_by("table_name").aggregate(n=q.count()).execute().itertuples(index=False)
        )
        rows = tuple(self._table_status(name, int(quarantined.get(name, 0))) for name in TABLES)
        return WorkspaceStatus(str(self.path), self.warehouse.url.url, rows)

    def _table_status(self, name: str, quarantined: int) -> TableStatus:
        spec = table_spec(name)
        t = self.table(name)
        if spec.time_column is None:
            return TableStatus(name, int(t.count().execute()), None, None, quarantined)
        col = t[spec.time_column]
        n, first, last = t.aggregate(n=t.count(), first=col.min(), last=col.max()).execute().iloc[0]
        return TableStatus(name, int(n), _py_ts(first), _py_ts(last), quarantined)

    def quarantine(self, table: str, import_id: int | None = None) -> pa.Table:
        """Rejected rows of ``table`` (optionally of one import), oldest first."""
        table_spec(table)
        q = self.table(QUARANTINE_TABLE)
        q = q.filter(q.table_name == table)
        if import_id is not None:
            q = q.filter(q.import_id == import_id)
        return q.order_by(["import_id", "line"]).to_pyarrow()

    def imports(self) -> pa.Table:
        return self.table(IMPORTS_TABLE).order_by("import_id").to_pyarrow()

    def export(self, table: str, out: str | Path, fmt: str | None = None) -> int:
        """Write ``table`` to a CSV or Parquet file (by extension or ``fmt``); returns rows."""
        table_spec(table)
        target = Path(out)
        kind = fmt or {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(target.suffix.lower())
        if kind not in ("csv", "parquet"):
            raise CxlensInputError(
                f"Cannot tell the export format of {target.name}. Name it .csv or .parquet, or "
                f"pass --format csv|parquet."
            )
        expr = self.table(table)
        expr = expr.drop(*[c for c in expr.columns if c.startswith("_")])
        tmp = target.with_name(target.name + ".partial")
        if kind == "csv":
            expr.to_csv(tmp)
        else:
            expr.to_parquet(tmp)
        os.replace(tmp, target)
        return int(expr.count().execute())

    def responses_behind(self, metric: str, *, group: dict[str, str | None] | None = None,
                         period: date | str | None = None, offset: int = 0, limit: int = 50,
                         now: datetime | None = None, **options: Any) -> Any:
        """The rows counted in one figure of ``metric`` (options as :meth:`metric`): one ``group``
        (breakdown column -> value text) and ``period``; ``total`` equals the figure's ``n``."""
        from cxlens.metrics.drill import drill_rows  # noqa: PLC0415

        query = MetricQuery.build(metric, now=now or datetime.now(UTC), **options)
        return drill_rows(self._tables(), self.settings, query, group, period, offset=offset, limit=limit)


def _as_date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CxlensInputError(f"Expected an ISO date such as 1997-09-30. Got {value!r} instead.") from None


def _py_ts(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
        return pd.Timestamp(value).to_pydatetime()
    except (TypeError, ValueError):
        return None


def set_setting(path: Path, name: str, value: Any) -> None:
    """Validate and write one setting to the workspace's config file (atomically)."""
    doc = _read_config(path)
    current = dict(doc.get("settings", {}))
    current[name] = settings_registry.setting(name).parse(value)
    settings_registry.resolve(current)
    _write_config(path, current)
