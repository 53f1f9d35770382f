"""``cxlens text themes``: theme discovery on a CSV file, or on the workspace's comments and tickets.

::

    cxlens text themes FILE --text-column COL [--id-column COL] [--format csv|json|table] [--sub-themes]
    cxlens text themes [--format table|json] [--grain month] [--refit] [--assignments] [--sub-themes]
    cxlens text themes rename ID LABEL
    cxlens text themes merge KEEP DROP
    cxlens text themes split ID

Register with ``text.add_command(themes)``. Commands only parse options, call
``cxlens.text.themes`` and print; errors the user can fix exit with code 2.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cxlens import workspace as ws_module
from cxlens.cli_support import _run, print_rows, workspace_option
from cxlens.text import themes as api
from cxlens.text.cli import read_csv
from cxlens.text.theme_fit import ENCODERS, FitOptions

_FILE_KEY = "themes_file"


class _ThemesGroup(click.Group):
    """A group whose first argument is either a subcommand or a CSV file (then no subcommand runs)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            ctx.meta[_FILE_KEY] = args[0]
            args = args[1:]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["[FILE]", *super().collect_usage_pieces(ctx)]



@click.group(name="themes", cls=_ThemesGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--text-column", help="With FILE: the column holding the text (required).")
@click.option("--id-column", help="With FILE: the column identifying each row (default: the row number).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]),
              help="Output format (default: csv with FILE, table on the workspace).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="With FILE: its encoding.")
@click.option("--themes", "n_themes", type=click.IntRange(min=2),
              help="Number of themes (default: chosen by silhouette).")
@click.option("--encoder", type=click.Choice(list(ENCODERS)), default="auto", show_default=True,
              help="Text encoder: 'auto' uses the contextual model up to 1,000 texts, the fast adapted "
                   "static one above.")
@click.option("--refit", is_flag=True, help="Workspace: refit the model (keeps ids and edits), replace assignments.")
@click.option("--assignments", is_flag=True, help="Workspace: print every text's theme instead of the summary.")
@click.option("--sub-themes", "sub_themes", is_flag=True,
              help="Print sub-themes: with FILE each text's sub_theme_id and sub_theme_label; on the workspace "
                   "one row per sub-theme (parent id, count, share of the parent, label, example).")
@click.option("--grain", type=click.Choice(["day", "week", "month", "quarter", "year"]), default="month",
              show_default=True, help="Workspace: period of the trend.")
@click.option("--periods", type=click.IntRange(min=1, max=60), default=6, show_default=True,
              help="Workspace: number of periods in the trend.")
@workspace_option
@click.pass_context
def themes(ctx: click.Context, text_column: str | None, id_column: str | None, fmt: str | None, encoding: str,
           n_themes: int | None, encoder: str, refit: bool, assignments: bool, sub_themes: bool, grain: str,
           periods: int, workspace: Path | None) -> None:
    """Discover the themes of texts: in FILE (any CSV), or in the workspace's comments and tickets.

    \b
    With FILE: prints each text's id, theme id and theme label.
    Without: fits a model on first use (later runs assign new rows only) and prints per theme the
    count, share, trend, NPS and CSAT impact with 95% intervals, and an example.
    Edit themes with the subcommands rename, merge and split; edits survive --refit.
    Themes are discovered in English; texts in other languages get a theme per language
    (lang-de, ...) and a note on stderr counts them.
    """
    if ctx.invoked_subcommand is not None:
        return
    options = FitOptions(n_themes=n_themes, encoder=encoder)
    file = ctx.meta.get(_FILE_KEY)
    if file is not None:
        _run(lambda: _file_themes(Path(file), text_column, id_column, fmt or "csv", encoding, options, sub_themes))
        return
    if text_column or id_column:
        raise click.UsageError("--text-column and --id-column need a FILE; on the workspace the texts are "
                               "the comments of responses and the subject and description of tickets.")
    if fmt == "csv" and not assignments:
        raise click.UsageError("The summary prints as 'table' or 'json'; csv is for FILE and --assignments.")
    _run(lambda: _workspace_themes(workspace, fmt or "table", options, refit, assignments, grain, periods,
                                   sub_themes))


def _file_themes(file: Path, text_column: str | None, id_column: str | None, fmt: str, encoding: str,
                 options: FitOptions, sub_themes: bool = False) -> None:
    if not text_column:
        raise click.UsageError("--text-column is required with FILE: name the column holding the text.")
    data = read_csv(file, [c for c in (text_column, id_column) if c], encoding)
    texts = [r[text_column] for r in data.rows]
    ids = [r[id_column] for r in data.rows] if id_column else None
    result = api.discover_themes(texts, ids, options=options, now=datetime.now(UTC))
    key = id_column or "row"
    rows = [{key: r.id, "theme_id": r.theme_id, "theme_label": r.theme_label} for r in result.texts]
    if sub_themes:
        rows = [row | {"sub_theme_id": r.sub_theme_id, "sub_theme_label": r.sub_theme_label}
                for row, r in zip(rows, result.texts)]
    print_rows(rows, fmt)
    _notes(result.notes, f"{len(result.model.themes)} themes found in {len(texts)} texts")


def _workspace_themes(workspace: Path | None, fmt: str, options: FitOptions, refit: bool, assignments: bool,
                      grain: str, periods: int, sub_themes: bool = False) -> None:
    now = datetime.now(UTC)
    with ws_module.open_workspace(workspace) as ws:
        report = api.fit_themes(ws, options=options, now=now) if refit else api.ensure_themes(ws, options=options,
                                                                                               now=now)
        _report(report)
        if assignments:
            print_rows(api.theme_assignments(ws).to_pylist(), fmt)
            return
        summary = api.theme_summary(ws, grain=grain, periods=periods, now=now)
        for note in summary.notes():
            click.echo(f"Note: {note}.", err=True)
        if fmt == "json":
            click.echo(_json(summary.to_dict()))  # sub-themes are nested in their theme
        elif sub_themes:
            rows = summary.sub_theme_rows()
            if not rows:
                click.echo("No theme has sub-themes: a theme needs at least 40 texts and parts clearly more "
                           "distinct than chance (see docs/themes.md).", err=True)
            print_rows(rows, "table")
        else:
            print_rows([t.to_row() for t in summary.themes], "table")


def _json(doc: Any) -> str:
    import json  # noqa: PLC0415

    return json.dumps(doc, indent=2, default=str, ensure_ascii=False)


def _report(report: api.RunReport) -> None:
    written = ", ".join(f"{n} {s}" for s, n in report.written.items())
    verb = {"fit": "Fitted", "assign": "Assigned"}.get(report.action, report.action.capitalize())
    _notes(report.notes, f"{verb}: {report.themes} themes; {written or 'no new rows'} assigned "
                         f"(model {report.model_version})")


def _notes(notes: Any, headline: str) -> None:
    click.echo(headline + (": " + "; ".join(notes) if notes else "") + ".", err=True)


@themes.command(name="rename")
@click.argument("theme_id")
@click.argument("label")
@workspace_option
def rename_command(theme_id: str, label: str, workspace: Path | None) -> None:
    """Give theme or sub-theme THEME_ID the label LABEL (kept across refits; empty LABEL: the automatic one)."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            _report(api.rename_theme(ws, theme_id, label, now=datetime.now(UTC)))
    _run(run)


@themes.command(name="merge")
@click.argument("keep")
@click.argument("drop")
@workspace_option
def merge_command(keep: str, drop: str, workspace: Path | None) -> None:
    """Merge theme DROP into theme KEEP (kept across refits); KEEP's sub-themes are fitted again."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            _report(api.merge_themes(ws, keep, drop, now=datetime.now(UTC)))
    _run(run)


@themes.command(name="split")
@click.argument("theme_id")
@workspace_option
def split_command(theme_id: str, workspace: Path | None) -> None:
    """Split theme THEME_ID in two by its texts (kept across refits); the parts get new ids and sub-themes."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            _report(api.split_theme(ws, theme_id, now=datetime.now(UTC)))
    _run(run)


__all__ = ["themes"]
