"""The ``cxlens`` command line. Commands only parse options, call the core and print results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cxlens import settings as settings_registry
from cxlens import workspace as ws_module
from cxlens.cli_support import _run, format_option, parse_now, print_rows, workspace_option
from cxlens.journey.cli import journey as journey_group
from cxlens.schema import TABLES
from cxlens.signals.cli import signals as signals_command
from cxlens.text.cli import text as text_group
from cxlens.text.cli_analyze import analyze as text_analyze
from cxlens.text.cli_themes import themes as text_themes
from cxlens.warehouse import parse_url
from cxlens.web.cli import COMMANDS as WEB_COMMANDS
from cxlens.web.client import import_via_server, metric_via_server, status_via_server

TABLE_CHOICE = click.Choice(list(TABLES))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cxlens")
def main() -> None:
    """cxlens: customer experience analytics on your own data.

    Start with 'cxlens init DIR', then 'cxlens import TABLE FILE' or 'cxlens demo'.
    """


def _settings_help() -> str:
    return "Settings (NAME=VALUE): " + "; ".join(
        f"{s.name} ({s.type.__name__}, default {s.default})" for s in settings_registry.SETTINGS
    )


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--set", "values", multiple=True, metavar="NAME=VALUE", help=_settings_help())
def init(directory: Path, values: tuple[str, ...]) -> None:
    """Create a workspace in DIRECTORY: config, embedded warehouse, app database folder."""
    def run() -> None:
        parsed = dict(_split_assignment(v) for v in values)
        with ws_module.init(directory, parsed) as ws:
            click.echo(f"Created workspace {ws.path} (warehouse: {ws.warehouse.url.url}).")
            click.echo(f"Next: cxlens import TABLE FILE --workspace {ws.path}   or   "
                       f"cxlens demo --workspace {ws.path}")
    _run(run)


def _split_assignment(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise click.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="--set")
    name, value = text.split("=", 1)
    return name.strip(), value.strip()


@main.command(name="import")
@click.argument("table", type=TABLE_CHOICE)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--mapping", type=click.Path(path_type=Path), help="TOML or YAML column mapping.")
@click.option("--on-conflict", type=click.Choice(["reject", "update"]), default="reject", show_default=True,
              help="What to do with rows whose key is stored with different content.")
@click.option("--input-format", type=click.Choice(["csv", "parquet", "jsonl"]),
              help="File format (default: from the extension).")
@click.option("--delimiter", help="CSV delimiter (default: sniffed from the header line).")
@click.option("--encoding", help="File encoding (default: sniffed; UTF-8 unless a BOM says otherwise).")
@format_option("table", "json")
@workspace_option
def import_(table: str, file: Path, mapping: Path | None, on_conflict: str, input_format: str | None,
            delimiter: str | None, encoding: str | None, fmt: str, workspace: Path | None) -> None:
    """Import FILE (CSV, Parquet or JSON Lines) into TABLE, quarantining bad rows."""
    def run() -> None:
        # While 'cxlens serve' runs it owns the warehouse: the file goes through its API.
        report = import_via_server(ws_module.resolve_path(workspace), table, file, mapping=mapping,
                                   on_conflict=on_conflict, input_format=input_format, delimiter=delimiter,
                                   encoding=encoding)
        if report is None:
            with ws_module.open_workspace(workspace) as ws:
                _progress(ws)
                report = ws.import_data(
                    table, file, mapping=mapping, on_conflict=on_conflict,  # type: ignore[arg-type]
                    input_format=input_format, delimiter=delimiter, encoding=encoding,
                )
        elif fmt != "json":
            click.echo("(imported through the running cxlens server)", err=True)
        if fmt == "json":
            click.echo(json.dumps(report.to_dict(), indent=2))
            return
        click.echo(
            f"{report.table}: read {report.read}, accepted {report.accepted}, rejected "
            f"{report.rejected}, duplicates {report.duplicates}, conflicts {report.conflicts}"
            + (f", updated {report.updated}" if report.updated else "")
        )
        if report.new_columns:
            click.echo(f"New attribute columns: {', '.join(report.new_columns)}")
        if report.rejected:
            click.echo(f"Rejected rows are quarantined; list them with: {report.quarantine}")
        for w in report.warnings:
            click.echo(f"Warning: {w}", err=True)
    _run(run)


def _progress(ws: ws_module.Workspace) -> None:
    """Show DuckDB's progress bar for long steps when a person watches a terminal."""
    if sys.stderr.isatty() and ws.warehouse.url.is_embedded_duckdb:
        ws.warehouse.duckdb.execute("SET enable_progress_bar = true")
        ws.warehouse.duckdb.execute("SET enable_progress_bar_print = true")


@main.command()
@format_option("table", "json")
@workspace_option
def status(fmt: str, workspace: Path | None) -> None:
    """Rows, date range and quarantined rows per table (asked of the server while one runs)."""
    def run() -> None:
        ws = ws_module.open_workspace(workspace)
        tables = status_via_server(ws.path)
        if tables is None:
            with ws:
                st = ws.status().to_dict()
        else:
            url = parse_url(ws.settings["warehouse_url"], ws.path).url
            st = {"path": str(ws.path), "warehouse": url, "tables": tables}
        if fmt == "json":
            click.echo(json.dumps(st, indent=2))
            return
        click.echo(f"Workspace {st['path']}  (warehouse {st['warehouse']})")
        print_rows(st["tables"], "table")
    _run(run)


@main.command()
@format_option("table", "json", "csv")
@workspace_option
def imports(fmt: str, workspace: Path | None) -> None:
    """The history of imports: source, time and counts of each."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            rows = ws.imports().to_pylist()
        print_rows(rows, fmt)
    _run(run)


@main.command()
@click.argument("table", type=TABLE_CHOICE)
@click.option("--import", "import_id", type=int, help="Only the rows of this import.")
@click.option("--limit", type=int, default=100, show_default=True, help="Rows to show (0: all).")
@format_option("table", "json", "csv")
@workspace_option
def quarantine(table: str, import_id: int | None, limit: int, fmt: str, workspace: Path | None) -> None:
    """List rejected rows of TABLE with line, column, value and reason."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            rows = ws.quarantine(table, import_id).to_pylist()
        shown = rows if limit == 0 else rows[:limit]
        keep = ("import_id", "source", "line", "column_name", "value", "code", "reason")
        out = [{k: r[k] for k in keep} if fmt == "table" else r for r in shown]
        print_rows(out, fmt)
        if fmt == "table" and len(rows) > len(shown):
            click.echo(f"... {len(rows) - len(shown)} more (use --limit 0 for all)")
    _run(run)


@main.command()
@click.argument("table", type=TABLE_CHOICE)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file (.csv or .parquet).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]),
              help="Output format (default: from the extension).")
@workspace_option
def export(table: str, out: Path, fmt: str | None, workspace: Path | None) -> None:
    """Export TABLE to a CSV or Parquet file."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            n = ws.export(table, out, fmt)
        click.echo(f"Wrote {n} rows of {table} to {out}.")
    _run(run)


@main.command()
@click.option("--customers", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Number of customers of the demo company.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option("--now", "now_text", help="The demo's 'now' (ISO 8601; default: the current time).")
@click.option("--chunk-customers", type=click.IntRange(min=100), default=25_000, show_default=True,
              help="Customers generated and imported per chunk (bounds memory).")
@format_option("table", "json")
@workspace_option
def demo(customers: int, seed: int, now_text: str | None, chunk_customers: int, fmt: str,
         workspace: Path | None) -> None:
    """Fill a workspace with a demo company (creating the workspace when missing)."""
    from cxlens.demo_loader import load_demo

    def run() -> None:
        path = ws_module.resolve_path(workspace)
        now = parse_now(now_text)
        ws = ws_module.open_workspace(path) if ws_module.is_workspace(path) else ws_module.init(path)
        with ws:
            result = load_demo(ws, customers=customers, seed=seed, now=now,
                               chunk_customers=chunk_customers,
                               progress=None if fmt == "json" else click.echo)
        if fmt == "json":
            click.echo(json.dumps(result.to_dict(), indent=2))
        else:
            click.echo(f"Demo company loaded into {path}: " + ", ".join(
                f"{n} {t}" for t, n in result.rows.items()))
            click.echo(f"Planted truths: {result.truths_path}")
    _run(run)



@main.command()
@click.argument("metric")
@click.option("--by", "by", multiple=True, metavar="COL",
              help="Break down by a column of the table or of the customer (repeatable).")
@click.option("--grain", type=click.Choice(["day", "week", "month", "quarter", "year"]),
              help="Time grain of the periods.")
@click.option("--since", help="First day included (ISO date).")
@click.option("--until", help="Last day included (ISO date; default: now).")
@click.option("--where", "where", multiple=True, metavar="COL=VALUE",
              help="Keep rows where COL equals VALUE (repeatable; repeated COL means any of).")
@click.option("--compare", type=click.Choice(["previous", "year"]),
              help="Compare with the previous period or the same period a year before.")
@click.option("--confidence", type=float, default=0.95, show_default=True, help="Interval confidence level.")
@click.option("--now", "now_text", help="The reference time (ISO 8601; default: the current time).")
@format_option("table", "json", "csv")
@workspace_option
def metrics(metric: str, by: tuple[str, ...], grain: str | None, since: str | None, until: str | None,
            where: tuple[str, ...], compare: str | None, confidence: float, now_text: str | None,
            fmt: str, workspace: Path | None) -> None:
    """Compute METRIC with intervals, sliced and compared.

    Metrics: nps, csat, ces, responses, nps_distribution, csat_distribution, ces_distribution,
    churn, retention and the ticket metrics (first_response_time, resolution_time,
    resolution_time_business, resolution_rate, fcr, reopen_rate, backlog, tickets) and the
    closed-loop metrics (closed_loop_rate, time_to_acknowledge, time_to_close, sla_attainment,
    recovery_rate).
    """
    def run() -> None:
        filters: dict[str, list[str]] = {}
        for item in where:
            col, value = _split_assignment(item)
            filters.setdefault(col, []).append(value)
        now = parse_now(now_text)
        rows = metric_via_server(ws_module.resolve_path(workspace), metric, now=now, by=by, grain=grain,
                                 since=since, until=until, where=filters, compare=compare, confidence=confidence)
        if rows is None:
            with ws_module.open_workspace(workspace) as ws:
                result = ws.metric(metric, now=now, by=by, grain=grain, since=since,
                                   until=until, where=filters, compare=compare, confidence=confidence)
            rows = result.to_records()
        print_rows(rows, fmt)
    _run(run)


@main.group(name="retention")
def retention_group() -> None:
    """Cohort retention tables and survival curves (churn rates: 'cxlens metrics churn')."""


@retention_group.command(name="cohorts")
@click.option("--by", "cohort_by", type=click.Choice(["signup", "first_purchase"]), default="signup",
              show_default=True, help="What defines a customer's cohort.")
@click.option("--grain", type=click.Choice(["week", "month", "quarter"]), default="month", show_default=True,
              help="Cohort and period length.")
@click.option("--periods", type=click.IntRange(min=1), default=12, show_default=True,
              help="Periods after the cohort's start to follow.")
@click.option("--since", help="First cohort included (ISO date).")
@click.option("--until", help="Last cohort included (ISO date).")
@click.option("--values", type=click.Choice(["share", "count"]), default="share", show_default=True,
              help="Cells shown in the table format.")
@click.option("--now", "now_text", help="The reference time (ISO 8601; default: the current time).")
@format_option("table", "json", "csv")
@workspace_option
def retention_cohorts(cohort_by: str, grain: str, periods: int, since: str | None, until: str | None,
                      values: str, now_text: str | None, fmt: str, workspace: Path | None) -> None:
    """Share of each cohort still active (or ordering) k periods after it started."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            table = ws.cohorts(by=cohort_by, grain=grain, periods=periods, since=since, until=until,
                               now=parse_now(now_text))
        if fmt == "table":
            matrix = table.matrix(values=values).reset_index()
            print_rows(matrix.round(4).astype(object).where(matrix.notna(), None).to_dict("records"), fmt)
        else:
            print_rows(table.to_records(), fmt)
    _run(run)


@retention_group.command(name="survival")
@click.option("--by", help="Break down by a subscription or customer column.")
@click.option("--unit", type=click.Choice(["day", "month"]), default="month", show_default=True,
              help="Unit of lifetimes.")
@click.option("--at", "points", multiple=True, type=float, help="Report S(t) at these times (repeatable).")
@click.option("--curve", is_flag=True, help="Print the whole curve instead of the summary.")
@click.option("--now", "now_text", help="The reference time (ISO 8601; default: the current time).")
@format_option("table", "json", "csv")
@workspace_option
def retention_survival(by: str | None, unit: str, points: tuple[float, ...], curve: bool, now_text: str | None,
                       fmt: str, workspace: Path | None) -> None:
    """Kaplan-Meier survival of subscription lifetimes with median lifetime."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            result = ws.survival(by=by, unit=unit, points=list(points) or None, now=parse_now(now_text))
        rows = result.curves().to_dict("records") if curve else result.to_records()
        print_rows(rows, fmt)
    _run(run)


@main.group()
def clv() -> None:
    """Customer lifetime value: BG/NBD + Gamma-Gamma models and the simple formula."""


@clv.command(name="fit")
@click.option("--model", type=click.Choice(["bgnbd"]), default="bgnbd", show_default=True,
              help="Purchase model (BG/NBD; spend by Gamma-Gamma when there are repeat buyers).")
@click.option("--unit", type=click.Choice(["day", "week", "month"]), default="week", show_default=True,
              help="Time unit of recency, T and the parameters.")
@click.option("--until", help="Calibration end, inclusive (ISO date; default: today).")
@format_option("table", "json")
@workspace_option
def clv_fit(model: str, unit: str, until: str | None, fmt: str, workspace: Path | None) -> None:
    """Fit the CLV models on the orders and save them in the workspace."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            fit = ws.clv_fit(until=until, unit=unit, model=model)
        if fmt == "json":
            click.echo(json.dumps(fit.to_dict(), indent=2))
            return
        click.echo(f"BG/NBD on {fit.customers} customers ({fit.repeat_customers} repeat buyers), "
                   f"unit {fit.unit}, until {fit.until}:")
        click.echo("  " + ", ".join(f"{k} = {v:.4f}" for k, v in fit.params.items())
                   + f"; log-likelihood {fit.log_likelihood:.1f}")
        if fit.spend_params:
            click.echo("Gamma-Gamma: " + ", ".join(f"{k} = {v:.4f}" for k, v in fit.spend_params.items()))
    _run(run)


@clv.command(name="predict")
@click.option("--horizon", default="52w", show_default=True,
              help="Prediction horizon: a number with d, w, m or y (e.g. 90d, 52w, 12m).")
@click.option("--limit", type=int, default=20, show_default=True, help="Rows to show (0: all).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write all rows to a CSV file.")
@format_option("table", "json", "csv")
@workspace_option
def clv_predict(horizon: str, limit: int, out: Path | None, fmt: str, workspace: Path | None) -> None:
    """Per-customer predictions of the fitted model (run 'cxlens clv fit' first)."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            pred = ws.clv_predict(horizon=horizon)
        if out is not None:
            pred.to_pandas().to_csv(out, index=False)
        rows = pred.to_records()
        print_rows(rows if limit == 0 else rows[:limit], fmt)
        if fmt == "table":
            click.echo(f"Total expected value over {pred.horizon:g} {pred.unit}s: {pred.total_expected_value:,.2f}")
    _run(run)


@clv.command(name="simple")
@click.option("--years", type=float, default=3.0, show_default=True, help="Expected customer lifetime in years.")
@click.option("--until", help="End of the year measured (ISO date; default: today).")
@click.option("--by", help="A customer column to break down by (e.g. segment).")
@format_option("table", "json", "csv")
@workspace_option
def clv_simple(years: float, until: str | None, by: str | None, fmt: str, workspace: Path | None) -> None:
    """Simple CLV: average order value x orders per year x expected years."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            df = ws.clv_simple(until=until, expected_years=years, by=by)
        print_rows(df.round(4).to_dict("records"), fmt)
    _run(run)


@main.group()
def config() -> None:
    """Show or change workspace settings."""


@config.command(name="list")
@format_option("table", "json")
@workspace_option
def config_list(fmt: str, workspace: Path | None) -> None:
    """All settings with their current values."""
    def run() -> None:
        ws = ws_module.open_workspace(workspace)
        rows = [{"name": s.name, "value": ws.settings[s.name], "default": s.default, "help": s.help}
                for s in settings_registry.SETTINGS]
        print_rows(rows, fmt)
    _run(run)


@config.command(name="get")
@click.argument("name")
@workspace_option
def config_get(name: str, workspace: Path | None) -> None:
    """Print one setting's value."""
    def run() -> None:
        settings_registry.setting(name)
        click.echo(ws_module.open_workspace(workspace).settings[name])
    _run(run)


@config.command(name="set")
@click.argument("name")
@click.argument("value")
@workspace_option
def config_set(name: str, value: str, workspace: Path | None) -> None:
    """Change one setting (validated before it is written)."""
    def run() -> None:
        ws = ws_module.open_workspace(workspace)
        ws_module.set_setting(ws.path, name, value)
        click.echo(f"{name} = {ws_module.open_workspace(ws.path).settings[name]}")
    _run(run)


@main.command()
@click.argument("table", type=TABLE_CHOICE, required=False)
@format_option("table", "json")
def schema(table: str | None, fmt: str) -> None:
    """Describe the data model: tables, columns, types and rules."""
    specs = [TABLES[table]] if table else list(TABLES.values())
    rows = [
        {"table": s.name, "column": c.name, "type": c.type.value, "required": c.required,
         "key": c.name == s.key, "help": c.help}
        for s in specs for c in s.columns
    ]
    print_rows(rows, fmt)


text_group.add_command(text_analyze)
text_group.add_command(text_themes)
main.add_command(text_group)
main.add_command(signals_command)
main.add_command(journey_group)
for _web_command in WEB_COMMANDS:
    main.add_command(_web_command)

if __name__ == "__main__":  # pragma: no cover
    main()
